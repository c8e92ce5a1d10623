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

# fleet_alerts: the chain on the sample fleet up to the alert stream, as
# the plan and apply tests start from it: $T/fleet.shd, $T/m.model,
# $T/fc.shd (the forecast from the latest time) and $T/alerts.shd (a cpu
# limit of 8%: the busy resources' upper bounds cross it, critical).
fleet_alerts() {
	shd-ingest -q --unit cpu=% --unit mem=MiB -i 5m "$DATA/fleet.csv.gz" \
		-o "$T/fleet.shd"
	shd-train -q --horizon 12 --epochs 1 --hidden 8 --max-windows 2000 \
		-o "$T/m.model" "$T/fleet.shd" || fail "shd-train failed"
	shd-predict -q -m "$T/m.model" -o "$T/fc.shd" "$T/fleet.shd" ||
		fail "shd-predict failed"
	shd-drift -q --limit cpu=8 --bound hi -o "$T/alerts.shd" "$T/fc.shd" ||
		true
}
