#!/bin/sh
# Runs the pipeline tests (run-shell.sh) with every shd-* program of
# $SHD_BUILD under valgrind's memcheck: $SHD_BUILD/valgrind/ gets a script
# per program that execs valgrind on the real binary, and becomes the
# SHD_BUILD of the tests (its tools/ and tests/ link to the real ones).
# A memory error makes the program exit 99 (not 1: shd-drift and shd-plan
# answer with 1), so the test that ran it fails; each report is kept in
# $SHD_BUILD/valgrind/log/PROGRAM.PID and printed at the end.
# VALGRIND_LEAK=full also counts definite leaks as errors (default: no).
# Slow (minutes): `make check-valgrind`, not part of `make check`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SHD_BUILD:?set SHD_BUILD to the build directory}"
leak=${VALGRIND_LEAK:-no}
if ! command -v valgrind >/dev/null 2>&1; then
	echo "run-valgrind: valgrind is not installed" >&2
	echo "hint: apt-get install valgrind" >&2
	exit 1
fi
vg="$SHD_BUILD/valgrind"
rm -rf "$vg"
mkdir -p "$vg/log" || exit 1
for p in "$SHD_BUILD"/shd-*; do
	n=$(basename "$p")
	case $n in *.*) continue ;; esac
	[ -f "$p" ] && [ -x "$p" ] || continue
	cat >"$vg/$n" <<EOF
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=$leak \\
	--errors-for-leak-kinds=definite --log-file='$vg/log/$n.%p' \\
	'$p' "\$@"
EOF
	chmod +x "$vg/$n"
done
ln -s "$SHD_BUILD/tools" "$vg/tools"
ln -s "$SHD_BUILD/tests" "$vg/tests"

SHD_BUILD="$vg" sh "$here/run-shell.sh"
rc=$?
nlog=0
for f in "$vg"/log/*; do
	[ -s "$f" ] || continue
	nlog=$((nlog + 1))
	echo "# $f"
	sed 's/^/#   /' "$f"
done
echo "valgrind: $nlog report(s) in $vg/log"
[ "$rc" = 0 ] && [ "$nlog" = 0 ]
