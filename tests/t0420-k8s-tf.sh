#!/bin/sh
# alerts -> plan -> apply into Kubernetes manifests and a Terraform module,
# with the real tools. kubectl: a StatefulSet with two containers in a
# multi-document GitOps file; replicas and the second container's cpu and
# memory limits change, its requests with them (Guaranteed QoS); the
# first container and the other documents stay byte for byte; kubectl
# reads the result; the same plan twice changes it once; rollback gives
# back the very bytes; a document kubectl does not validate leaves the
# file alone (exit 3). Terraform: data/plan/tf with a number and quantity
# strings ("750m", "6Gi"), `terraform validate`, a real apply of
# terraform_data, `terraform output -json`. Each part is skipped with its
# reason where its tool is absent.
. "$SHD_TESTS/lib.sh"

command -v shd-apply >/dev/null 2>&1 || skip "no shd-apply"
command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"
have_k=$(command -v kubectl || true)
have_tf=$(command -v terraform || true)
[ -n "$have_k$have_tf" ] || skip "neither kubectl nor terraform is installed"

fleet_alerts
# the cpu alerts of fleet_alerts, and memory ones: a limit of 100 MiB that
# every resource's forecast passes, so that memory is planned too
shd-drift -q --limit cpu=8,mem=100 --bound hi -o "$T/alerts2.shd" \
	"$T/fc.shd" || true

# action KNOB FILE: the planned value of KNOB, as shd-apply prints it
action() {
	jq -r --arg k "$1" '.actions[] | select(.knob == $k) | .to' "$2"
}

# ------------------------------------------------------------- kubectl
if [ -n "$have_k" ]; then
	mkdir -p "$T/gitops"
	cp "$TDATA/gitops-db.yaml" "$T/gitops/db.yaml"
	cp "$T/gitops/db.yaml" "$T/db.orig"
	# target 0.5 of a capacity of 1 per replica, cpu read in cores and
	# memory in percent: the fleet's numbers push every knob to its
	# largest step, whatever the model learnt
	cat >"$T/k8s.json" <<'EOF'
{ "resources": {
    "db-1": {
      "replicas": { "current": 3, "max": 8, "max_step": 2 },
      "cpu": { "current": "200m", "max": 2, "max_step": 1 },
      "memory": { "current": "128Mi", "max": "1Gi", "max_step": "256Mi" },
      "metrics": {
        "cpu": { "unit": "absolute", "capacity": 1, "target": 0.5,
                 "drives": ["replicas", "cpu"] },
        "mem": { "drives": ["memory"] } },
      "executor": { "type": "kubectl", "kind": "statefulset",
                    "manifest": "gitops/db.yaml", "workload": "db",
                    "container": "exporter" } } } }
EOF
	shd-plan -q -c "$T/k8s.json" --state "$T/k1" -o "$T/k.json" \
		"$T/alerts2.shd" || true
	[ "$(action replicas "$T/k.json")" = 5 ] &&
	[ "$(action cpu "$T/k.json")" = 1.2 ] &&
	[ "$(action memory "$T/k.json")" = 402653184 ] ||
		fail "kubectl plan: $(jq -c .actions "$T/k.json")"
	id=$(jq -r .id "$T/k.json")

	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/k1" --grace 1s \
		"$T/k.json"
	expect_err "db-1 replicas 3 -> 5: done"
	expect_err "db-1 cpu 200m -> 1200m: done"
	expect_err "db-1 memory 128Mi -> 384Mi: done"
	# exactly five lines changed: replicas (its comment kept), and the
	# exporter's requests and limits; postgres, the ConfigMap, the
	# Service and the budget byte for byte
	sed -e 's/^  replicas: 3   #/  replicas: 5   #/' \
	    -e 's/^            cpu: 200m$/            cpu: 1200m/' \
	    -e 's/^            memory: 128Mi$/            memory: 384Mi/' \
		"$T/db.orig" >"$T/db.want"
	cmp -s "$T/db.want" "$T/gitops/db.yaml" ||
		fail "manifest: $(diff "$T/db.want" "$T/gitops/db.yaml")"
	# kubectl reads every document of it, and the values
	kubectl patch --local -f "$T/gitops/db.yaml" --type merge -p '{}' \
		-o json >"$T/objs.json" 2>"$T/k.err" ||
		fail "kubectl cannot read the manifest: $(cat "$T/k.err")"
	[ "$(jq -s -c '[.[].kind]' "$T/objs.json")" = \
	  '["ConfigMap","Service","StatefulSet","PodDisruptionBudget"]' ] ||
		fail "documents: $(jq -s -c '[.[].kind]' "$T/objs.json")"
	jq -s -e '.[] | select(.kind == "StatefulSet") | .spec.replicas == 5 and
		(.spec.template.spec.containers[1].resources ==
		 {"limits": {"cpu": "1200m", "memory": "384Mi"},
		  "requests": {"cpu": "1200m", "memory": "384Mi"}}) and
		(.spec.template.spec.containers[0].resources ==
		 {"limits": {"cpu": "2", "memory": "4Gi"},
		  "requests": {"cpu": "500m", "memory": "1Gi"}})' \
		"$T/objs.json" >/dev/null ||
		fail "StatefulSet: $(jq -c 'select(.kind == "StatefulSet") | .spec' "$T/objs.json")"
	cp "$T/gitops/db.yaml" "$T/db.applied"

	# the same plan twice: changed once
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/k1" --grace 0 \
		"$T/k.json"
	expect_err "already applied"
	cmp -s "$T/db.applied" "$T/gitops/db.yaml" || fail "applied twice"

	# rollback: the requests follow the limits back, to the very bytes
	expect_status 0 shd-apply -c "$T/k8s.json" --state "$T/k1" --grace 0 \
		--rollback "$id"
	cmp -s "$T/db.orig" "$T/gitops/db.yaml" ||
		fail "rollback: $(diff "$T/db.orig" "$T/gitops/db.yaml")"

	# a document kubectl cannot read as a StatefulSet (serviceName is a
	# string): exit 3, the file named, left alone, the failure journalled
	sed 's/^  serviceName: db$/  serviceName: [db]/' "$T/db.orig" \
		>"$T/gitops/db.yaml"
	cp "$T/gitops/db.yaml" "$T/db.bad"
	expect_status 3 shd-apply -c "$T/k8s.json" --state "$T/k2" --grace 0 \
		"$T/k.json"
	expect_err "db.yaml: document at line 23: the patched document does not validate"
	cmp -s "$T/db.bad" "$T/gitops/db.yaml" || fail "an invalid document was written"
	grep -q '"event":"failed"' "$T/k2/journal" || fail "failure not journalled"
else
	echo "# skip kubectl: not installed"
fi

# ----------------------------------------------------------- terraform
if [ -n "$have_tf" ]; then
	export TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=/dev/null
	cp -R "$DATA/plan/tf" "$T/tf"
	rm -f "$T"/tf/*.auto.tfvars.json
	(cd "$T/tf" && terraform init -input=false -no-color) >"$T/tf.out" 2>&1 ||
		fail "terraform init (offline, terraform_data is built in): $(tail -n 5 "$T/tf.out")"
	(cd "$T/tf" && terraform validate -no-color) >"$T/tf.out" 2>&1 ||
		fail "terraform validate: $(cat "$T/tf.out")"
	# db-1: cpu a number (db_cpu), memory a quantity string (db_memory);
	# cache-1: replicas a number, cpu a quantity string
	cat >"$T/tf.json" <<'EOF'
{ "resources": {
    "db-1": { "cpu": { "current": 2, "max": 8, "max_step": "500m" },
      "memory": { "current": "4Gi", "max": "16Gi", "max_step": "2Gi" },
      "metrics": { "cpu": { "unit": "absolute", "drives": ["cpu"] },
                   "mem": { "drives": ["memory"] } },
      "executor": { "type": "terraform", "dir": "tf", "apply": true,
                    "timeout": "120s",
                    "variables": { "cpu": "db_cpu",
                      "memory": { "name": "db_memory", "format": "quantity" } } } },
    "cache-1": { "replicas": { "current": 2, "max": 6, "max_step": 2 },
      "cpu": { "current": "500m", "max": 4, "max_step": "250m" },
      "metrics": { "cpu": { "unit": "absolute", "capacity": 1,
                            "target": 0.5, "drives": ["replicas", "cpu"] } },
      "executor": { "type": "terraform", "dir": "tf", "apply": true,
                    "timeout": "120s",
                    "variables": { "replicas": { "name": "cache_replicas" },
                      "cpu": { "name": "cache_cpu", "format": "quantity" } } } } } }
EOF
	shd-plan -q -c "$T/tf.json" --state "$T/t1" -o "$T/t.json" \
		"$T/alerts2.shd" || true
	[ "$(jq '.actions | length' "$T/t.json")" = 4 ] ||
		fail "terraform plan: $(jq -c .actions "$T/t.json")"
	expect_status 0 shd-apply -c "$T/tf.json" --state "$T/t1" --grace 1s \
		"$T/t.json"
	expect_err "db-1 memory 4Gi -> 6Gi: done"
	expect_err "cache-1 cpu 500m -> 750m: done"
	jq -e '. == {"db_cpu": 2.5, "db_memory": "6Gi"}' \
		"$T/tf/db-1.auto.tfvars.json" >/dev/null ||
		fail "db-1 tfvars: $(cat "$T/tf/db-1.auto.tfvars.json")"
	jq -e '. == {"cache_cpu": "750m", "cache_replicas": 4}' \
		"$T/tf/cache-1.auto.tfvars.json" >/dev/null ||
		fail "cache-1 tfvars: $(cat "$T/tf/cache-1.auto.tfvars.json")"
	# terraform applied them: its outputs, typed
	(cd "$T/tf" && terraform output -json) >"$T/out.json" ||
		fail "terraform output"
	jq -e '.db_cpu.value == 2.5 and .db_cpu.type == "number" and
		.db_memory.value == "6Gi" and .db_memory.type == "string" and
		.cache_replicas.value == 4 and .cache_cpu.value == "750m" and
		.cache_cpu.type == "string"' "$T/out.json" >/dev/null ||
		fail "terraform output: $(jq -c . "$T/out.json")"
	# and nothing is left to do
	(cd "$T/tf" && terraform plan -detailed-exitcode -input=false \
		-no-color) >"$T/tf.out" 2>&1 ||
		fail "terraform plan after apply: $(tail -n 20 "$T/tf.out")"

	# a quantity where the module wants a number: terraform refuses it,
	# shd-apply says so (exit 4) and journals it
	sed 's/"cpu": "db_cpu"/"cpu": { "name": "db_cpu", "format": "quantity" }/' \
		"$T/tf.json" >"$T/tf-bad.json"
	expect_status 4 shd-apply -c "$T/tf-bad.json" --state "$T/t2" \
		--grace 0 "$T/t.json"
	expect_err "terraform: exit status 1"
	grep -q '"event":"failed"' "$T/t2/journal" || fail "failure not journalled"

	# a format shd does not know: refused, named by its JSON path
	sed 's/"format": "quantity"/"format": "quantty"/' "$T/tf.json" \
		>"$T/tf-typo.json"
	expect_status 3 shd-apply -c "$T/tf-typo.json" --state "$T/t3" \
		--grace 0 "$T/t.json"
	expect_err 'executor.variables.memory.format: not "number"'
else
	echo "# skip terraform: not installed"
fi
exit 0
