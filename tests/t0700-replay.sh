#!/bin/sh
# shd-replay on a rolling forecast of the sample fleet: a derived
# configuration, the table, JSON totals that add up, the allocation stream,
# a given configuration, and the failures.
. "$SHD_TESTS/lib.sh"

command -v shd-replay >/dev/null 2>&1 || skip "no shd-replay"
command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"

fleet_alerts
shd-predict -q -m "$T/m.model" --rolling --from 2024-01-27T00:00:00Z \
	-o "$T/roll.shd" "$T/fleet.shd" || fail "shd-predict --rolling failed"

# a derived configuration: every resource, loadable, replicas from peaks
expect_status 0 shd-replay --derive-config "$T/derived.json" "$T/roll.shd"
jq -e '.resources | length == 6' "$T/derived.json" >/dev/null ||
	fail "derived: $(cat "$T/derived.json")"
jq -e '.resources["web-2"].replicas.current == 4 and
	.resources["web-2"].replicas.max >= 4 and
	.resources["web-2"].metrics.cpu.limit == 90' "$T/derived.json" \
	>/dev/null || fail "derived web-2: $(jq -c '.resources["web-2"]' "$T/derived.json")"
shd-plan -q -c "$T/derived.json" --state "$T/s" "$T/alerts.shd" >/dev/null ||
	[ $? = 1 ] || fail "shd-plan cannot read the derived configuration"
for p in static reactive percentile shd; do
	grep -q "^ *[a-z0-9-]* *$p " "$T/out" || fail "table: no $p row"
done
grep -q '^TOTAL *static' "$T/out" || fail "table: no total"

# JSON: totals are the sums; static never changes; shd's changes in bounds
expect_status 0 shd-replay -c "$T/derived.json" --json -o "$T/alloc.shd" \
	"$T/roll.shd"
cp "$T/out" "$T/r.json"
jq -e '.resources == 6 and .metric == "cpu"' "$T/r.json" >/dev/null ||
	fail "json head: $(jq -c '{resources, metric}' "$T/r.json")"
for p in static reactive percentile shd; do
	jq -e --arg p "$p" '([.per_resource[].policies[$p].breach_minutes] | add)
		== .total[$p].breach_minutes and
		([.per_resource[].policies[$p].changes] | add)
		== .total[$p].changes' "$T/r.json" >/dev/null ||
		fail "$p totals do not add up"
done
jq -e '.total.static.changes == 0 and .total.static.alerts == 0' \
	"$T/r.json" >/dev/null || fail "static changed"
# the allocation stream: every step of every resource under 4 policies
rows=$(shd-cat -H "$T/alloc.shd" | wc -l)
steps=$(jq '[.per_resource[].policies.static.steps] | add' "$T/r.json")
[ "$rows" = $((steps * 4)) ] || fail "allocation stream: $rows rows, want $((steps * 4))"
[ "$(shd-cat "$T/alloc.shd" | head -n 1)" = "time,resource,policy,alloc,util" ] ||
	fail "allocation stream columns"
shd-cat -H -r web-2 "$T/alloc.shd" | awk -F, '$3 == "shd" && ($4 < 1 || $4 > 64) { bad++ }
	END { exit bad > 0 }' || fail "shd's allocation out of bounds"
shd-cat -H "$T/alloc.shd" | awk -F, '$3 == "static" && $4 != 4 { bad++ }
	END { exit bad > 0 }' || fail "static allocation moved"

# a slower start-up: never fewer breach minutes for the reactive policy
shd-replay -q -c "$T/derived.json" --json --delay 15m "$T/roll.shd" >"$T/slow.json"
jq -e --slurpfile a "$T/r.json" '.total.reactive.breach_minutes >=
	$a[0].total.reactive.breach_minutes' "$T/slow.json" >/dev/null ||
	fail "--delay: fewer breaches when slower"

# another metric, derived: it drives the replicas whatever its name
shd-replay -q --derive-config "$T/mem.json" -m mem --json "$T/roll.shd" \
	>"$T/mem-r.json" 2>"$T/mem.err" || fail "-m mem: $(cat "$T/mem.err")"
jq -e '.metric == "mem" and .resources == 6' "$T/mem-r.json" >/dev/null ||
	fail "-m mem: $(jq -c '{metric, resources}' "$T/mem-r.json")"
grep -q "not '%'" "$T/mem.err" || fail "-m mem: no warning about its unit"

# failures
expect_status 2 shd-replay "$T/roll.shd"
expect_status 2 shd-replay -c "$T/derived.json" --derive-config "$T/x.json" "$T/roll.shd"
expect_status 3 shd-replay -c "$T/derived.json" "$T/fleet.shd"
expect_err "not a forecast stream"
expect_status 3 shd-replay -c "$T/derived.json" -m nope "$T/roll.shd"
expect_err "no metric 'nope'"
head -c 500 "$T/roll.shd" >"$T/cut.shd"
expect_status 3 shd-replay -c "$T/derived.json" -o "$T/cut-alloc.shd" "$T/cut.shd"
[ ! -e "$T/cut-alloc.shd" ] || fail "a half stream was left behind"
printf '{"resources": {"other": {"replicas": {"current": 2}, "executor": {"type": "command", "argv": ["true"]}}}}' >"$T/none.json"
expect_status 3 shd-replay -c "$T/none.json" "$T/roll.shd"
expect_err "no resource"
exit 0
