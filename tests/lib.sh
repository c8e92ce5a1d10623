# Sourced by the shell tests: a private temp dir removed on exit, helpers.
set -eu
T=$(mktemp -d "${TMPDIR:-/tmp}/shd-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
DATA="$SHD_TOP/data"
TDATA="$SHD_TESTS/data"
SHARED="$SHD_TOP/../shared/data"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# expect_status N CMD...: run CMD, require exit status N; stderr in $T/err
expect_status() {
	want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" = "$want" ] || { cat "$T/err" >&2; fail "'$*' exited $got, want $want"; }
}

# expect_err PATTERN: stderr of the last expect_status matches PATTERN
expect_err() {
	grep -q -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$1'"; }
}
