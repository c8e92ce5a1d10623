#!/bin/sh
# shd-apply with real tools: a GitOps folder patched by kubectl (cancel
# leaves it byte-identical, the same plan twice changes it once, rollback
# restores it), terraform where installed, a real cgroup where the host
# allows, kill -9 between actions, the lock, --confirm without a terminal.
. "$SHD_TESTS/lib.sh"

command -v shd-apply >/dev/null 2>&1 || skip "no shd-apply"
command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"

fleet_alerts

# wait_for FILE PATTERN: until FILE holds PATTERN (at most ~20 s)
wait_for() {
	i=0
	until [ -f "$1" ] && grep -q -- "$2" "$1"; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "timed out waiting for '$2' in $1"
		sleep 0.1
	done
}

# ------------------------------------------------------------- kubectl
if command -v kubectl >/dev/null 2>&1; then
	mkdir -p "$T/gitops"
	cp "$TDATA/gitops-web.yaml" "$T/gitops/web.yaml"
	cp "$T/gitops/web.yaml" "$T/web.orig"
	cat >"$T/k8s.json" <<'EOF'
{ "resources": {
    "web-2": { "replicas": { "current": 2, "max": 12, "max_step": 4 },
      "metrics": { "cpu": { "target": 0.05 } },
      "executor": { "type": "kubectl", "manifest": "gitops/web.yaml",
                    "workload": "web" } },
    "web-1": { "cpu": { "current": "500m", "max": 4 },
      "metrics": { "cpu": { "unit": "absolute" } },
      "executor": { "type": "kubectl", "manifest": "gitops/web.yaml",
                    "workload": "web", "container": "web" } } } }
EOF
	shd-plan -q -c "$T/k8s.json" --state "$T/s1" -o "$T/k.json" \
		"$T/alerts.shd" || true
	id=$(jq -r .id "$T/k.json")
	n=$(jq '.actions | length' "$T/k.json")
	[ "$n" = 2 ] || fail "kubectl plan: $(cat "$T/k.json")"
	to=$(jq '.actions[] | select(.knob == "replicas") | .to' "$T/k.json")
	cpu=$(jq '.actions[] | select(.knob == "cpu") | .to' "$T/k.json")

	# cancel from another shell during the grace period: byte-identical
	shd-apply -c "$T/k8s.json" --state "$T/s1" --grace 30s "$T/k.json" \
		>"$T/bg.out" 2>"$T/bg.err" &
	pid=$!
	wait_for "$T/s1/lock" "$id"
	shd-apply --state "$T/s1" --cancel "$id" 2>"$T/c.err" ||
		fail "--cancel failed: $(cat "$T/c.err")"
	wait $pid || fail "cancelled run exited $?: $(cat "$T/bg.err")"
	cmp -s "$T/web.orig" "$T/gitops/web.yaml" ||
		fail "cancel: the manifest changed"
	grep -q '"event":"cancelled"' "$T/s1/journal" || fail "no cancel recorded"
	grep -q 'nothing changed' "$T/bg.err" || fail "cancel: $(cat "$T/bg.err")"
	# a cancelled plan stays cancelled
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/s1" --grace 0 \
		"$T/k.json"
	expect_err "was cancelled"
	cmp -s "$T/web.orig" "$T/gitops/web.yaml" || fail "re-run of a cancelled plan"

	# SIGTERM during the grace period: nothing changed either
	shd-apply -c "$T/k8s.json" --state "$T/s2" --grace 30s "$T/k.json" \
		2>"$T/bg.err" &
	pid=$!
	wait_for "$T/s2/lock" "$id"
	kill -TERM $pid
	wait $pid || true
	cmp -s "$T/web.orig" "$T/gitops/web.yaml" || fail "SIGTERM: changed"
	grep -q 'SIGTERM' "$T/s2/journal" || fail "SIGTERM not recorded"

	# applied: replicas and the cpu limit in the file; kubectl parses it
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/s3" --grace 1s \
		"$T/k.json"
	expect_err "web-2 replicas 2 -> $to: done"
	got=$(kubectl patch --local -f "$T/gitops/web.yaml" -p '{}' \
		-o 'jsonpath={.spec.replicas}' 2>/dev/null | tr -d ' \n') ||
		fail "kubectl cannot parse the patched manifest"
	case $got in *"$to"*) ;; *) fail "spec.replicas: $got, want $to" ;; esac
	grep -q 'kind: Service' "$T/gitops/web.yaml" || fail "the Service went"
	head -n 9 "$T/web.orig" >"$T/h1"
	head -n 9 "$T/gitops/web.yaml" >"$T/h2"
	cmp -s "$T/h1" "$T/h2" || fail "the other document changed"
	[ "$(grep -c '"event":"done"' "$T/s3/journal")" = 2 ] ||
		fail "journal: $(cat "$T/s3/journal")"
	cp "$T/gitops/web.yaml" "$T/web.applied"

	# the same plan twice: changed once
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/s3" --grace 0 \
		"$T/k.json"
	expect_err "already applied"
	cmp -s "$T/web.applied" "$T/gitops/web.yaml" || fail "applied twice"
	[ "$(grep -c '"event":"done"' "$T/s3/journal")" = 2 ] ||
		fail "a second run wrote results"

	# the next plan starts from the journal's allocation
	shd-plan -q -c "$T/k8s.json" --state "$T/s3" --now 2030-01-01T00:00:00Z \
		"$T/alerts.shd" >"$T/k2.json" || true
	jq -e --argjson to "$to" '[.actions[], .held[]
		| select(.knob == "replicas")] | .[0].from == $to' "$T/k2.json" \
		>/dev/null || fail "next plan's from: $(jq -c .actions "$T/k2.json")"

	# rollback: the values come back
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/s3" --grace 0 \
		--rollback "$id"
	got=$(kubectl patch --local -f "$T/gitops/web.yaml" -p '{}' \
		-o 'jsonpath={.spec.replicas}' | tr -d ' \n')
	case $got in *2*) ;; *) fail "rollback: replicas $got" ;; esac
	grep -q 'cpu: 500m' "$T/gitops/web.yaml" || fail "rollback: cpu limit"
	expect_status 3 shd-apply -c "$T/k8s.json" --state "$T/s3" --grace 0 \
		--rollback 0123456789abcdef
	expect_err "no applied change"

	# --dry-run names the file and changes nothing
	cp "$T/gitops/web.yaml" "$T/before"
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/s4" --dry-run \
		"$T/k.json"
	grep -q "web.yaml" "$T/out" || fail "--dry-run: $(cat "$T/out")"
	cmp -s "$T/before" "$T/gitops/web.yaml" || fail "--dry-run changed it"
	[ ! -e "$T/s4/journal" ] || fail "--dry-run wrote the journal"

	# --confirm on a terminal (script(1) gives one): no answer in time
	# changes nothing; a typed yes applies
	if command -v script >/dev/null 2>&1; then
		cp "$T/gitops/web.yaml" "$T/before"
		sleep 3 | script -qec "shd-apply -c '$T/k8s.json' --state '$T/s10' --grace 0 --confirm --confirm-timeout 1s '$T/k.json'" \
			/dev/null >"$T/conf.out" 2>&1 || fail "--confirm: $(cat "$T/conf.out")"
		cmp -s "$T/before" "$T/gitops/web.yaml" || fail "--confirm: changed without a yes"
		grep -q 'not confirmed' "$T/s10/journal" || fail "--confirm: not recorded"
		(sleep 1; printf 'yes\n') | script -qec "shd-apply -c '$T/k8s.json' --state '$T/s11' --grace 0 --confirm --confirm-timeout 20s '$T/k.json'" \
			/dev/null >"$T/conf.out" 2>&1 || fail "--confirm yes: $(cat "$T/conf.out")"
		grep -q "replicas: $to" "$T/gitops/web.yaml" ||
			fail "--confirm yes: not applied: $(cat "$T/conf.out")"
	fi

	# --confirm with no terminal: refused before anything
	if ! (: </dev/tty) 2>/dev/null; then
		expect_status 2 shd-apply -c "$T/k8s.json" --state "$T/s5" \
			--grace 0 --confirm "$T/k.json"
		expect_err "needs a terminal"
	fi
else
	echo "# skip kubectl: not installed"
fi

# ------------------------------------------- kill -9 between the actions
cat >"$T/slow" <<EOF
#!/bin/sh
echo "\$1 \$2" >>"$T/slow.log"
sleep 0.5
EOF
chmod +x "$T/slow"
cat >"$T/cmd.json" <<EOF
{ "defaults": { "metrics": { "cpu": { "target": 0.01 } } },
  "resources": {
    "web-1": { "replicas": { "current": 1, "max": 5 },
      "executor": { "type": "command", "argv": ["$T/slow", "{resource}", "{to}"] } },
    "web-2": { "replicas": { "current": 1, "max": 5 },
      "executor": { "type": "command", "argv": ["$T/slow", "{resource}", "{to}"] } },
    "cache-1": { "replicas": { "current": 1, "max": 5 },
      "executor": { "type": "command", "argv": ["$T/slow", "{resource}", "{to}"] } } } }
EOF
shd-plan -q -c "$T/cmd.json" --state "$T/s6" -o "$T/c.json" "$T/alerts.shd" ||
	true
[ "$(jq '.actions | length' "$T/c.json")" = 3 ] ||
	fail "command plan: $(cat "$T/c.json")"
shd-apply -q -c "$T/cmd.json" --state "$T/s6" --grace 0 "$T/c.json" &
pid=$!
wait_for "$T/s6/journal" '"event":"done"'
kill -9 $pid
wait $pid 2>/dev/null || true
# the lock went with the process: a new run may start, and finishes it
expect_status 0 shd-apply -c "$T/cmd.json" --state "$T/s6" --grace 0 \
	"$T/c.json"
for r in web-1 web-2 cache-1; do
	n=$(grep -c "\"event\":\"done\".*\"resource\":\"$r\"" "$T/s6/journal")
	[ "$n" = 1 ] || fail "$r: $n results in the journal"
done
first=$(head -n 1 "$T/slow.log" | cut -d' ' -f1)
[ "$(grep -c "^$first " "$T/slow.log")" = 1 ] ||
	fail "the action done before the kill ran again: $(cat "$T/slow.log")"
if grep -q '"event":"interrupted"' "$T/s6/journal"; then
	expect_err "interrupted"
fi
[ "$(wc -l <"$T/s6/journal")" -ge 6 ] || fail "journal lost lines"
while read -r line; do
	printf '%s\n' "$line" | jq -e . >/dev/null || fail "journal line: $line"
done <"$T/s6/journal"
# the chain holds across the kill and the run after it
expect_status 0 shd-apply --state "$T/s6" --verify-journal
grep -q "chain intact" "$T/out" || fail "after kill -9: $(cat "$T/out")"
# a crash in the middle of a write: the next run chains to the last
# whole record
printf '{"time":"2024-01-06T05:01:00.000Z","event":"int' >>"$T/s6/journal"
expect_status 0 shd-apply --state "$T/s6" --verify-journal
expect_err "cut short"
expect_status 0 shd-apply -c "$T/cmd.json" --state "$T/s6" --grace 0 \
	--rollback "$(jq -r .id "$T/c.json")"
expect_status 0 shd-apply --state "$T/s6" --verify-journal
[ ! -s "$T/err" ] || fail "after the torn line: $(cat "$T/err")"

# the lock: a second run while one holds the state directory
shd-apply -q -c "$T/cmd.json" --state "$T/s7" --grace 20s "$T/c.json" 2>"$T/bg7.err" &
pid=$!
wait_for "$T/s7/lock" "$(jq -r .id "$T/c.json")"
expect_status 4 shd-apply -c "$T/cmd.json" --state "$T/s7" --grace 0 "$T/c.json"
expect_err "held by pid $pid"
kill -TERM $pid
wait $pid || true

# ------------------------------------------------- the journal's chain
# applied twice with a key: every record chained and sealed, verified
printf 'a secret key of the plan signer\n' >"$T/jkey"
chmod 600 "$T/jkey"
shd-plan -q -c "$T/cmd.json" --state "$T/s12" --key "$T/jkey" -o "$T/cs.json" \
	"$T/alerts.shd" || true
expect_status 0 shd-apply -q -c "$T/cmd.json" --state "$T/s12" --key "$T/jkey" \
	--grace 0 "$T/cs.json"
expect_status 0 shd-apply -c "$T/cmd.json" --state "$T/s12" --key "$T/jkey" \
	--grace 0 "$T/cs.json"
expect_err "already applied"
j=$T/s12/journal
n=$(wc -l <"$j")
[ "$n" = 6 ] || fail "journal: $n lines: $(cat "$j")"
expect_status 0 shd-apply --state "$T/s12" --key "$T/jkey" --verify-journal
grep -qx "journal: $n records, chain intact, every record sealed with the key" \
	"$T/out" || fail "--verify-journal: $(cat "$T/out")"
# the links as the man page says: sha256sum of the line before
[ "$(sed -n 1p "$j" | sha256sum | cut -d' ' -f1)" = \
  "$(sed -n 2p "$j" | jq -r .prev)" ] || fail "line 2's prev"
[ "$(tail -n 1 "$j" | sha256sum | cut -d' ' -f1)" = \
  "$(sed -n 's/^head: //p' "$T/out")" ] || fail "head: $(cat "$T/out")"
# without the key: the chain is checked, and the seals are said to be not
expect_status 0 shd-apply --state "$T/s12" --verify-journal
expect_err "give --key to check"
grep -qx "journal: $n records, chain intact" "$T/out" ||
	fail "--verify-journal without a key: $(cat "$T/out")"

# one byte of line 2 edited: named, status 3; nothing acts on it
cp "$j" "$T/j.good"
sed '2s/"plan":"./"plan":"x/' "$T/j.good" >"$j"
! cmp -s "$j" "$T/j.good" || fail "sed changed nothing"
cp "$j" "$T/j.bad"
expect_status 3 shd-apply --state "$T/s12" --key "$T/jkey" --verify-journal
expect_err "s12/journal:2: bad hmac: the record was edited"
[ ! -s "$T/out" ] || fail "a broken chain printed: $(cat "$T/out")"
expect_status 3 shd-apply --state "$T/s12" --verify-journal
expect_err "s12/journal:3: edited: \"prev\" is not the SHA-256 of line 2"
wc -l <"$T/slow.log" >"$T/runs"
expect_status 3 shd-apply -c "$T/cmd.json" --state "$T/s12" --key "$T/jkey" \
	--grace 0 "$T/cs.json"
expect_err "journal:2: bad hmac"
expect_err "hint: nothing is done"
expect_status 3 shd-apply -c "$T/cmd.json" --state "$T/s12" --key "$T/jkey" \
	--grace 0 --rollback "$(jq -r .id "$T/cs.json")"
expect_err "journal:2: bad hmac"
cmp -s "$j" "$T/j.bad" || fail "a refused run wrote the journal"
[ "$(wc -l <"$T/slow.log")" = "$(cat "$T/runs")" ] ||
	fail "a run acted on a broken journal"
expect_status 3 shd-plan -c "$T/cmd.json" --state "$T/s12" --key "$T/jkey" \
	"$T/alerts.shd"
expect_err "journal:2: bad hmac"
expect_status 3 shd-plan -c "$T/cmd.json" --state "$T/s12" "$T/alerts.shd"
expect_err "journal:3: edited"
# a line deleted: named too
sed 3d "$T/j.good" >"$j"
expect_status 3 shd-apply --state "$T/s12" --key "$T/jkey" --verify-journal
expect_err "journal:3: deleted"

# recovery, after review: seal the journal again (the old one is kept)
cp "$T/j.bad" "$j"
expect_status 0 shd-apply --state "$T/s12" --key "$T/jkey" --seal-journal
expect_err "6 records chained and sealed with the key"
cmp -s "$T/s12/journal.old" "$T/j.bad" || fail "journal.old"
expect_status 0 shd-apply --state "$T/s12" --key "$T/jkey" --verify-journal
expect_status 4 shd-apply --state "$T/s12" --key "$T/jkey" --seal-journal
expect_err "journal.old' exists"
# or move it aside: a new journal
mv "$j" "$T/j.aside"
expect_status 0 shd-apply --state "$T/s12" --verify-journal
grep -qx "journal: 0 records, chain intact" "$T/out" || fail "$(cat "$T/out")"

# an older shd-apply's journal: a legacy prefix, chained from the next
# record on; with a key it must be sealed first
mkdir -p "$T/s13"
printf '%s\n' '{"time":"2030-01-01T00:00:00.000Z","event":"done","plan":"p0","action":0,"resource":"web-1","knob":"replicas","from":1,"to":2,"executor":"command"}' \
	>"$T/s13/journal"
expect_status 0 shd-apply --state "$T/s13" --verify-journal
expect_err "no record is chained yet"
expect_status 0 shd-apply -q -c "$T/cmd.json" --state "$T/s13" --grace 0 \
	"$T/c.json"
expect_status 0 shd-apply --state "$T/s13" --verify-journal
[ "$(sed -n 2p "$T/s13/journal" | jq -r .prev)" = \
  "$(sed -n 1p "$T/s13/journal" | sha256sum | cut -d' ' -f1)" ] ||
	fail "the first chained record does not cover the legacy one"
expect_status 3 shd-apply --state "$T/s13" --key "$T/jkey" --verify-journal
expect_err "journal:1: unsealed"

# usage
expect_status 2 shd-apply --state "$T/s13" --verify-journal "$T/c.json"
expect_status 2 shd-apply --state "$T/s13" --verify-journal --seal-journal
expect_status 2 shd-apply --state "$T/s13" --verify-journal --cancel x

# ----------------------------------------------------------- terraform
if command -v terraform >/dev/null 2>&1; then
	mkdir -p "$T/tf"
	cat >"$T/tf/main.tf" <<'EOF'
variable "db_1_cpu" { default = 0.25 }
variable "db_1_memory" { default = 4294967296 }
resource "terraform_data" "db" {
  input = { cpu = var.db_1_cpu, memory = var.db_1_memory }
}
output "cpu" { value = terraform_data.db.output.cpu }
output "memory" { value = terraform_data.db.output.memory }
EOF
	cat >"$T/tf.json" <<'EOF'
{ "resources": {
    "db-1": { "cpu": { "current": "250m", "max": 8 },
      "memory": { "current": "4Gi", "max": "64Gi" },
      "metrics": { "cpu": { "unit": "absolute", "drives": ["cpu"] } },
      "executor": { "type": "terraform", "dir": "tf", "apply": true,
                    "timeout": "120s" } } } }
EOF
	export TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=/dev/null
	if (cd "$T/tf" && terraform init -input=false -no-color >"$T/tfinit" 2>&1); then
		shd-plan -q -c "$T/tf.json" --state "$T/s8" -o "$T/t.json" \
			"$T/alerts.shd" || true
		cpu=$(jq '.actions[] | select(.knob == "cpu") | .to' "$T/t.json")
		[ -n "$cpu" ] || fail "terraform plan: $(cat "$T/t.json")"
		expect_status 0 shd-apply -c "$T/tf.json" --state "$T/s8" \
			--grace 0 "$T/t.json"
		jq -e --argjson c "$cpu" '.db_1_cpu == $c' \
			"$T/tf/db-1.auto.tfvars.json" >/dev/null ||
			fail "tfvars: $(cat "$T/tf/db-1.auto.tfvars.json")"
		out=$(cd "$T/tf" && terraform output -json)
		printf '%s' "$out" | jq -e --argjson c "$cpu" '.cpu.value == $c' \
			>/dev/null || fail "terraform output: $out"
	else
		echo "# skip terraform: terraform init failed: $(tail -n 3 "$T/tfinit")"
	fi
else
	echo "# skip terraform: not installed"
fi

# ------------------------------------------------------- a real cgroup
cg=
for root in /sys/fs/cgroup /sys/fs/cgroup/cpu; do
	# a writable tmpfs at the root is not a cgroup: look for its files
	if mkdir "$root/shd-test-$$" 2>/dev/null; then
		if [ -f "$root/shd-test-$$/cpu.max" ] ||
		   [ -f "$root/shd-test-$$/cpu.cfs_quota_us" ]; then
			cg="$root/shd-test-$$"
			break
		fi
		rmdir "$root/shd-test-$$"
	fi
done
if [ -n "$cg" ]; then
	trap 'rmdir "$cg" 2>/dev/null || true; rm -rf "$T"' EXIT
	cat >"$T/cg.json" <<EOF
{ "resources": {
    "batch-1": { "cpu": { "current": "100m", "max": 1 },
      "metrics": { "cpu": { "unit": "absolute" } },
      "executor": { "type": "cgroup", "path": "shd-test-$$" } } } }
EOF
	shd-plan -q -c "$T/cg.json" --state "$T/s9" -o "$T/g.json" \
		"$T/alerts.shd" || true
	[ "$(jq '.actions | length' "$T/g.json")" = 1 ] ||
		fail "cgroup plan: $(cat "$T/g.json")"
	expect_status 0 shd-apply -c "$T/cg.json" --state "$T/s9" --grace 0 \
		"$T/g.json"
	if [ -f "$cg/cpu.max" ]; then
		[ "$(cat "$cg/cpu.max")" = "100000 100000" ] ||
			fail "cpu.max: $(cat "$cg/cpu.max")"
	else
		[ "$(cat "$cg/cpu.cfs_quota_us")" = \
		  "$(cat "$cg/cpu.cfs_period_us")" ] ||
			fail "cpu.cfs_quota_us: $(cat "$cg/cpu.cfs_quota_us")"
	fi
	rmdir "$cg"
else
	echo "# skip cgroup: this host does not let the test make one"
fi
exit 0
