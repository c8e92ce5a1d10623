#!/bin/sh
# The live loop on this host (scripts/live-loop): a real CPU-bound workload
# in a cgroup, sampled from the cgroup's accounting, ingest -> train on a
# first phase -> predict -> drift -> plan -> apply with the cgroup
# executor; the cgroup's CPU quota must rise and the journal say why.
# Skipped with the reason where the host forbids cgroups.
. "$SHD_TESTS/lib.sh"

# make check-valgrind: the loop samples a real workload against the wall
# clock, then runs the chain while two busy processes (yes) hold both CPUs
# and the cgroup's quota; valgrind's 20-50x slowdown of every program would
# be timed too, and the chain's code runs under valgrind in the other tests
[ -z "${SHD_VALGRIND:-}" ] ||
	skip "not under valgrind: the live loop times a real workload and the chain beside two busy processes"

command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"
set +e
sh "$SHD_TOP/scripts/live-loop" -n 80 -m 20 -d "$T/live" >"$T/out" 2>"$T/err"
st=$?
set -e
[ $st != 77 ] || skip "$(tail -n 1 "$T/err")"
[ $st = 0 ] || { cat "$T/err" >&2; fail "live-loop exited $st"; }
read -r word before after <"$T/out"
[ "$word" = quota ] || fail "live-loop printed: $(cat "$T/out")"
awk -v a="$before" -v b="$after" 'BEGIN { exit !(a == 0.2 && b > a) }' ||
	fail "quota $before -> $after"
# the journal: an intent and a result for the cpu knob, with the reason
jq -e -s '[.[] | select(.knob == "cpu")] | length == 2
	and .[0].event == "intent" and .[1].event == "done"
	and .[0].from == 0.2 and .[1].to > 0.2 and .[1].executor == "cgroup"
	and (.[0].detail | test("cpu forecast"))' "$T/live/state/journal" \
	>/dev/null || fail "journal: $(cat "$T/live/state/journal")"
# the samples are the cgroup's: the light phase under, the load over
awk -F, 'NR > 1 && NR <= 81 && $3 > 100 { light++ }
	 NR > 91 && $3 < 80 { heavy++ }
	 END { exit light > 8 || heavy > 4 }' "$T/live/live.csv" ||
	fail "samples: $(cat "$T/live/live.csv")"
# nothing is left behind in the cgroup tree
ls -d /sys/fs/cgroup/shd-live-* /sys/fs/cgroup/cpu/shd-live-* 2>/dev/null &&
	fail "a cgroup was left behind"
exit 0
