#!/bin/sh
# Runs every tests/tNNNN-*.sh with the programs of $SHD_BUILD first on PATH.
# Each test exits 0 (pass), 77 (skipped, with its reason on stdout) or other.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SHD_BUILD:?set SHD_BUILD to the build directory}"
PATH="$SHD_BUILD:$PATH"
SHD_TESTS="$here"
SHD_TOP=$(dirname "$here")
export PATH SHD_BUILD SHD_TESTS SHD_TOP
pass=0 fail=0 skip=0
for t in "$here"/t[0-9]*.sh; do
	[ -e "$t" ] || continue
	n=$(basename "$t" .sh)
	out=$(sh "$t" 2>&1)
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "ok - $n" ;;
	77) skip=$((skip + 1)); echo "ok - $n # SKIP $(printf '%s' "$out" | tail -n 1)" ;;
	*) fail=$((fail + 1)); echo "not ok - $n (exit $rc)"
	   printf '%s\n' "$out" | tail -n 30 | sed 's/^/#   /' ;;
	esac
done
echo "shell: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
