#!/bin/sh
# shd-whatif on a forecast of the sample fleet: a hand-computed case (twice
# the replicas halve the percent), a breach (exit 1) for CI gates, the
# forecast stream under the change, the plan that would follow, a shadow's
# configuration scaled back to production, and the failures.
. "$SHD_TESTS/lib.sh"

command -v shd-whatif >/dev/null 2>&1 || skip "no shd-whatif"
command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"

fleet_alerts
cat >"$T/fleet.json" <<'EOF2'
{ "defaults": { "metrics": { "cpu": { "target": 0.6, "limit": 80 } } },
  "resources": {
    "web-2": { "replicas": { "current": 2, "max": 10 },
      "executor": { "type": "command", "argv": ["true"] } },
    "batch-1": { "cpu": { "current": 1 },
      "executor": { "type": "command", "argv": ["true"] } } } }
EOF2

# 2 -> 4 replicas: every percent of web-2 halves; no limit passed: exit 0
expect_status 0 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s web-2.replicas=4 --json -o "$T/after.shd" "$T/fc.shd"
cp "$T/out" "$T/r.json"
jq -e '.changes[0].from == 2 and .changes[0].to == 4 and .breach == false' \
	"$T/r.json" >/dev/null || fail "changes: $(cat "$T/r.json")"
jq -e '.resources[] | select(.resource == "web-2" and .metric == "cpu")
	| .factor == 0.5 and .peak_after == .peak_before / 2
	  and .upper_after == .upper_before / 2 and .limit == 80
	  and .headroom_after == 80 - .peak_after
	  and .slowdown_after < .slowdown_before' "$T/r.json" >/dev/null ||
	fail "web-2 cpu: $(jq -c .resources "$T/r.json")"
# mem is not a percent here: demand in MiB does not change
jq -e '[.resources[] | select(.metric == "mem")] | length == 0' \
	"$T/r.json" >/dev/null || fail "mem changed"
# the stream under the change: web-2's cpu columns halved, others as they were
shd-cat -H -r web-2 -c cpu.pred,cpu.hi "$T/fc.shd" >"$T/b.csv"
shd-cat -H -r web-2 -c cpu.pred,cpu.hi "$T/after.shd" >"$T/a.csv"
paste -d, "$T/b.csv" "$T/a.csv" | awk -F, '
	{ if ($1 / 2 - $3 > 1e-9 || $3 - $1 / 2 > 1e-9) bad++ }
	END { exit bad > 0 || NR == 0 }' || fail "the stream is not halved"
shd-cat -H -r web-1 "$T/fc.shd" >"$T/b1.csv"
shd-cat -H -r web-1 "$T/after.shd" >"$T/a1.csv"
cmp -s "$T/b1.csv" "$T/a1.csv" || fail "web-1 changed"
# the plan that would follow sizes from the forecast after the change
jq -e '.plan.shd_plan == 1' "$T/r.json" >/dev/null || fail "no plan"

# the table for people
expect_status 0 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s web-2.replicas=4 "$T/fc.shd"
grep -q '^change: web-2 replicas 2 -> 4' "$T/out" || fail "table: $(cat "$T/out")"
grep -q '^web-2 *cpu' "$T/out" || fail "table row: $(cat "$T/out")"
grep -q 'shd-plan would then' "$T/out" || fail "table plan: $(cat "$T/out")"

# batch-1's cpu limit cut to 20m: fifty times the percent, past 80: exit 1
expect_status 1 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s batch-1.cpu=20m --json "$T/fc.shd"
jq -e '.breach == true and (.resources[] | select(.resource == "batch-1")
	| .factor == 50 and .minutes_above_after > 0)' "$T/out" >/dev/null ||
	fail "breach: $(cat "$T/out")"
# --limit overrides the configuration's
expect_status 0 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s batch-1.cpu=20m --limit cpu=1e9 "$T/fc.shd"

# a shadow of 10%: its 1 replica's demand is a tenth of production's; on
# production's 4 replicas the percent is 1 / (4 * 0.1) = 2.5 times
sha=$(printf x | sha256sum | cut -c1-64)
cat >"$T/shadow.json" <<EOF2
{ "shadow": { "fraction": 0.1, "production_sha256": "$sha" },
  "defaults": { "metrics": { "cpu": { "target": 0.6, "limit": 80 } } },
  "resources": {
    "web-2": { "replicas": { "current": 1, "max": 1 },
      "executor": { "type": "command", "argv": ["true"] } } } }
EOF2
shd-whatif -c "$T/shadow.json" --state "$T/s" -s web-2.replicas=4 --json \
	"$T/fc.shd" >"$T/sh.json" || true
jq -e '.shadow_fraction == 0.1 and (.resources[0] | .factor == 2.5)' \
	"$T/sh.json" >/dev/null || fail "shadow: $(cat "$T/sh.json")"

# --shadow: production's configuration, the shadow's beside it and its
# forecast; the same factor, the plan in production's terms
psha=$(sha256sum "$T/fleet.json" | cut -c1-64)
sed "s/\"production_sha256\": \"$sha\"/\"production_sha256\": \"$psha\"/" \
	"$T/shadow.json" >"$T/shadow2.json"
shd-whatif -c "$T/fleet.json" --shadow "$T/shadow2.json" --state "$T/s" \
	-s web-2.replicas=4 --json "$T/fc.shd" >"$T/sh2.json" 2>"$T/sh2.err" || true
jq -e '.shadow_fraction == 0.1 and .resources[0].factor == 2.5 and
	.changes[0].from == 1 and .changes[0].to == 4' "$T/sh2.json" >/dev/null ||
	fail "--shadow: $(cat "$T/sh2.json")"
[ ! -s "$T/sh2.err" ] || fail "--shadow warned: $(cat "$T/sh2.err")"
# a shadow of another production version: said; a non-shadow: refused
shd-whatif -q -c "$T/fleet.json" --shadow "$T/shadow.json" --state "$T/s" \
	-s web-2.replicas=4 "$T/fc.shd" 2>"$T/sh3.err" || true
grep -q "another version" "$T/sh3.err" || fail "--shadow: no warning"
expect_status 3 shd-whatif -c "$T/fleet.json" --shadow "$T/fleet.json" \
	--state "$T/s" -s web-2.replicas=4 "$T/fc.shd"
expect_err "not a shadow's configuration"

# the allocation now comes from the journal when it has a change
mkdir -p "$T/s2"
printf '%s\n' '{"time":"2030-01-01T00:00:00.000Z","event":"done","plan":"p","action":0,"resource":"web-2","knob":"replicas","from":2,"to":8,"executor":"command"}' >"$T/s2/journal"
shd-whatif -c "$T/fleet.json" --state "$T/s2" -s web-2.replicas=4 --json \
	"$T/fc.shd" >"$T/j.json" || true
jq -e '.changes[0].from == 8 and .resources[0].factor == 2' "$T/j.json" \
	>/dev/null || fail "journal: $(cat "$T/j.json")"

# failures
expect_status 3 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s nope.replicas=3 "$T/fc.shd"
expect_err "'nope' is not in"
expect_status 3 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s batch-1.replicas=3 "$T/fc.shd"
expect_err "batch-1 has no replicas"
expect_status 2 shd-whatif -c "$T/fleet.json" -s web-2.replicas=2.5 "$T/fc.shd"
expect_status 2 shd-whatif -c "$T/fleet.json" "$T/fc.shd"
expect_status 2 shd-whatif -c "$T/fleet.json" -s 'web;rm -rf /.cpu=1' "$T/fc.shd"
expect_status 3 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s web-2.replicas=4 "$T/alerts.shd"
expect_err "not a forecast stream"
head -c 300 "$T/fc.shd" >"$T/cut.shd"
expect_status 3 shd-whatif -c "$T/fleet.json" --state "$T/s" \
	-s web-2.replicas=4 -o "$T/cut-out.shd" "$T/cut.shd"
[ ! -e "$T/cut-out.shd" ] || fail "a half stream was left behind"
exit 0
