#!/bin/sh
# shd-plan on the sample fleet (data/fleet.csv.gz): ingest -> train ->
# predict -> drift -> plan with a configuration of every executor kind;
# the plan's actions, guard rails, ids, exit statuses; bad configurations,
# names and keys; signed plans.
. "$SHD_TESTS/lib.sh"

command -v shd-plan >/dev/null 2>&1 || skip "no shd-plan"
command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"

fleet_alerts
shd-cat -H "$T/alerts.shd" | grep -q ',web-2,cpu,.*,critical,' ||
	fail "no critical cpu alert for web-2: $(shd-cat "$T/alerts.shd")"

mkdir -p "$T/gitops" "$T/tf" "$T/cg/shd/batch-1"
cp "$TDATA/gitops-web.yaml" "$T/gitops/web.yaml"
# a cgroup v2 look-alike (the real one is t0410's)
echo "max 100000" >"$T/cg/shd/batch-1/cpu.max"
cat >"$T/fleet.json" <<'EOF'
{
  "shd_config": 1,
  "defaults": {
    "cooldown": "10m",
    "metrics": { "cpu": { "target": 0.05 } }
  },
  "resources": {
    "web-2": {
      "replicas": { "current": 2, "min": 2, "max": 12, "max_step": 4 },
      "executor": { "type": "kubectl", "manifest": "gitops/web.yaml",
                    "workload": "web", "container": "web" }
    },
    "db-1": {
      "cpu": { "current": "250m", "max": 8 },
      "memory": { "current": "4Gi", "max": "64Gi" },
      "metrics": { "cpu": { "drives": ["cpu"] },
                   "mem": { "unit": "absolute", "drives": ["memory"] } },
      "executor": { "type": "terraform", "dir": "tf" }
    },
    "batch-1": {
      "cpu": { "current": "100m", "max": 1 },
      "metrics": { "cpu": { "unit": "absolute" } },
      "executor": { "type": "cgroup", "path": "shd/batch-1", "root": "CGROOT" }
    },
    "idle-1": {
      "replicas": { "current": 3 },
      "executor": { "type": "command", "argv": ["true", "{resource}", "{to}"] }
    }
  }
}
EOF

sed "s|CGROOT|$T/cg|" "$T/fleet.json" >"$T/f.json" && mv "$T/f.json" "$T/fleet.json"

# shd-drift takes the configuration's limits per series
cat >"$T/lim.json" <<'EOF'
{ "resources": { "web-2": { "replicas": { "current": 2 },
    "metrics": { "cpu": { "limit": 9 } },
    "executor": { "type": "command", "argv": ["true"] } } } }
EOF
shd-drift -q -c "$T/lim.json" --bound hi "$T/fc.shd" | shd-cat -H >"$T/lim.csv" || true
grep -q '^[^,]*,web-2,cpu,[^,]*,critical,' "$T/lim.csv" ||
	fail "shd-drift -c: web-2 not critical: $(cat "$T/lim.csv")"
if grep -q ',web-1,cpu,[^,]*,critical,' "$T/lim.csv"; then
	fail "shd-drift -c: a limit for a resource the configuration lacks"
fi

# ------------------------------------------------------------- the plan
expect_status 1 shd-plan -c "$T/fleet.json" --state "$T/state" \
	"$T/alerts.shd"
cp "$T/out" "$T/plan.json"
jq -e '.shd_plan == 1 and (.id | test("^[0-9a-f]{16}$"))' "$T/plan.json" \
	>/dev/null || fail "plan header: $(cat "$T/plan.json")"
expect_err "plan [0-9a-f]*: [1-9] action"
# web-2: 2 replicas at 5% target -> more, at most 2 + 4 (max_step)
jq -e '.actions[] | select(.resource == "web-2" and .knob == "replicas")
	| .from == 2 and .to > 2 and .to <= 6 and .executor == "kubectl"
	  and .severity == "critical" and .metric == "cpu"
	  and (.reason | test("replicas need"))' "$T/plan.json" >/dev/null ||
	fail "web-2 action: $(jq -c .actions "$T/plan.json")"
# batch-1: cpu (read as cores) wants several cores; max 1 holds it
jq -e '[.actions[] | select(.resource == "batch-1" and .knob == "cpu")]
	| length == 1 and .[0].to == 1 and .[0].wanted > 1
	  and (.[0].guard | index("max"))' "$T/plan.json" \
	>/dev/null || fail "batch-1 action: $(jq -c .actions "$T/plan.json")"
# resources not in the configuration are listed, not acted on
jq -e '[.ignored[] | select(.resource == "web-1")] | length >= 1' \
	"$T/plan.json" >/dev/null || fail "web-1 not ignored"
jq -e '[.actions[], .held[] | select(.resource == "web-1")] | length == 0' \
	"$T/plan.json" >/dev/null || fail "web-1 acted on"

# the same situation planned again (later): the same id; -o writes it
sleep 1
expect_status 1 shd-plan -q -c "$T/fleet.json" --state "$T/state" \
	-o "$T/plan2.json" "$T/alerts.shd"
[ ! -s "$T/out" ] || fail "-o: the plan went to stdout too"
[ "$(jq -r .id "$T/plan.json")" = "$(jq -r .id "$T/plan2.json")" ] ||
	fail "the same plan twice has two ids"

# a cooldown: a change of web-2 in the journal 1 minute before --now holds
mkdir -p "$T/state2"
printf '%s\n' '{"time":"2030-01-01T00:00:00.000Z","event":"done","plan":"p0","action":0,"resource":"web-2","knob":"replicas","from":2,"to":3,"executor":"kubectl"}' \
	>"$T/state2/journal"
shd-plan -q -c "$T/fleet.json" --state "$T/state2" \
	--now 2030-01-01T00:01:00Z "$T/alerts.shd" >"$T/cool.json" || true
jq -e '.held[] | select(.resource == "web-2") | .from == 3 and .to == 3
	and (.guard | index("cooldown"))' "$T/cool.json" >/dev/null ||
	fail "cooldown: $(jq -c .held "$T/cool.json")"
# an hour later: free again, from the journal's 3
shd-plan -q -c "$T/fleet.json" --state "$T/state2" \
	--now 2030-01-01T01:00:00Z "$T/alerts.shd" >"$T/free.json" || true
jq -e '.actions[] | select(.resource == "web-2") | .from == 3' \
	"$T/free.json" >/dev/null || fail "after the cooldown: $(cat "$T/free.json")"

# no alerts: an empty plan, exit 0
shd-drift -q --threshold 1e300 --surprise 1e300 -o "$T/none.shd" "$T/fc.shd" || true
expect_status 0 shd-plan -c "$T/fleet.json" --state "$T/state" "$T/none.shd"
jq -e '.actions == [] and .held == []' "$T/out" >/dev/null ||
	fail "empty plan: $(cat "$T/out")"

# --forecast: a memory-driven knob sized although only cpu alerted
shd-plan -q -c "$T/fleet.json" --state "$T/state" --forecast "$T/fc.shd" \
	"$T/alerts.shd" >"$T/withfc.json" || true
jq -e '[.actions[], .held[] | select(.resource == "db-1")] | length >= 1' \
	"$T/withfc.json" >/dev/null || fail "--forecast: nothing for db-1"

# ------------------------------------------------------------ signatures
printf 'a secret key of the plan signer\n' >"$T/key"
chmod 600 "$T/key"
shd-plan -q -c "$T/fleet.json" --state "$T/state" --key "$T/key" \
	-o "$T/signed.json" "$T/alerts.shd" || true
jq -e '.signature.alg == "hmac-sha256"' "$T/signed.json" >/dev/null ||
	fail "no signature"
expect_status 0 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--key "$T/key" --dry-run "$T/signed.json"
grep -q 'web.yaml' "$T/out" || fail "--dry-run: $(cat "$T/out")"
# tampered: another target, even with the id made to match, is refused
jq '.actions[0].to = 12' "$T/signed.json" >"$T/tampered.json"
expect_status 3 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--key "$T/key" --dry-run "$T/tampered.json"
expect_err "changed"
# reformatted by jq, nothing changed: still valid
jq . "$T/signed.json" >"$T/reformatted.json"
expect_status 0 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--key "$T/key" --dry-run "$T/reformatted.json"
# what the id does not cover, the signature does: the time of the plan
jq '.created = "2031-01-01T00:00:00Z"' "$T/signed.json" >"$T/tampered2.json"
expect_status 3 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--key "$T/key" --dry-run "$T/tampered2.json"
expect_err "signature"
# a key readable by others is refused, by plan and apply
chmod 644 "$T/key"
expect_status 3 shd-plan -c "$T/fleet.json" --state "$T/state" \
	--key "$T/key" "$T/alerts.shd"
expect_err "readable by group or others"
expect_status 3 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--key "$T/key" --dry-run "$T/signed.json"
chmod 600 "$T/key"

# ------------------------------------------------------ names and inputs
# a resource name that could reach a shell or a path: refused (3)
sed 's/"idle-1"/"web;rm -rf \/"/' "$T/fleet.json" >"$T/evil.json"
expect_status 3 shd-plan -c "$T/evil.json" --state "$T/state" "$T/alerts.shd"
expect_err 'not a resource name'
sed 's/"idle-1"/"..\/x"/' "$T/fleet.json" >"$T/evil2.json"
expect_status 3 shd-plan -c "$T/evil2.json" --state "$T/state" "$T/alerts.shd"
jq '.actions[0].resource = "../x"' "$T/plan.json" >"$T/evil-plan.json"
expect_status 3 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--dry-run "$T/evil-plan.json"
expect_err 'not a valid name'
jq '.actions[0].resource = "web;rm -rf /"' "$T/plan.json" >"$T/evil-plan2.json"
expect_status 3 shd-apply -c "$T/fleet.json" --state "$T/state" \
	--grace 0 "$T/evil-plan2.json"
[ ! -e "$T/state/journal" ] || fail "a refused plan wrote the journal"

# bounds are checked again at apply time, whoever made the plan
sed 's/"max": 12/"max": 3/' "$T/fleet.json" >"$T/tight.json"
expect_status 3 shd-apply -c "$T/tight.json" --state "$T/state" --dry-run \
	"$T/plan.json"
expect_err "outside the bounds"

# bad configurations name the JSON path; a typo is not a silent default
sed 's/"max_step"/"max_stp"/' "$T/fleet.json" >"$T/typo.json"
expect_status 3 shd-plan -c "$T/typo.json" --state "$T/state" "$T/alerts.shd"
expect_err "typo.json: \$.resources.web-2.replicas: unknown key 'max_stp'"
printf '{"resources": {"x": {"cpu": {"current": "lots"}}}}' >"$T/bad.json"
expect_status 3 shd-plan -c "$T/bad.json" "$T/alerts.shd"
expect_err '\$.resources.x.cpu.current: not a quantity'
expect_status 4 shd-plan -c "$T/missing.json" "$T/alerts.shd"
# not an alert stream; a truncated one
expect_status 3 shd-plan -c "$T/fleet.json" --state "$T/state" "$T/fc.shd"
expect_err "not an alert stream"
head -c 200 "$T/alerts.shd" >"$T/cut.shd"
expect_status 3 shd-plan -c "$T/fleet.json" --state "$T/state" "$T/cut.shd"
# a bad journal line is named
printf 'not json\n' >"$T/state2/journal"
expect_status 3 shd-plan -c "$T/fleet.json" --state "$T/state2" "$T/alerts.shd"
expect_err "journal:1"
# usage
expect_status 2 shd-plan "$T/alerts.shd"
expect_status 2 shd-plan -c "$T/fleet.json" --bogus
exit 0
