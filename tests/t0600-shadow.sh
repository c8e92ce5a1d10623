#!/bin/sh
# shd-shadow on the sample fleet (data/fleet.csv.gz): each strategy (whole
# resources, whole days and weeks, downsampling with p95 and max), seeds,
# the stream's metadata, a pipe; the shadow's configuration accepted by
# shd-plan; the JSON report (jq); exit 3 when not faithful with everything
# still written; bad input, options and configurations (nothing written).
. "$SHD_TESTS/lib.sh"

command -v shd-shadow >/dev/null 2>&1 || skip "no shd-shadow"
command -v jq >/dev/null 2>&1 || skip "no jq (scripts/deps installs it)"

# the fleet, a model and its alerts (for shd-plan, below): $T/fleet.shd,
# 6 resources x 28 days at 5 minutes, from Monday 2024-01-01
fleet_alerts
P=$T/fleet.shd

# rows per resource of a stream, "resource rows" lines
per_resource() { shd-cat -H -c resource "$1" | sort | uniq -c | awk '{ print $2, $1 }'; }

# ------------------------------------------------------------ resources
expect_status 0 shd-shadow -f 0.5 --max-ks 1 -o "$T/r.shd" "$P"
expect_err 'resources: kept 3 of 6'
expect_err 'shadow: 24192 of 48384 rows, 3 of 6 resources'
expect_err '^cpu '
expect_err 'faithful'
[ ! -s "$T/out" ] || fail "-o: the stream went to stdout too"
per_resource "$T/r.shd" >"$T/rr"
[ "$(wc -l <"$T/rr")" = 3 ] || fail "resources: $(cat "$T/rr")"
# kept whole: every row of a kept resource
awk '$2 != 8064 { exit 1 }' "$T/rr" || fail "resources not whole: $(cat "$T/rr")"
shd-cat --info "$T/r.shd" >"$T/info"
grep -q 'producer: shd-shadow ' "$T/info" || fail "no producer: $(cat "$T/info")"
grep -q 'shadow.fraction: 0.5$' "$T/info" || fail "no shadow.fraction"
grep -q 'shadow.strategy: resources$' "$T/info" || fail "no shadow.strategy"
grep -q 'shadow.seed: 1$' "$T/info" || fail "no shadow.seed"
grep -q "source: $P\$" "$T/info" || fail "no source"
grep -q 'interval_ms: 300000$' "$T/info" || fail "production's metadata lost"
grep -q '^  cpu  *f64  *unit=%  *role=metric' "$T/info" ||
	fail "cpu column or unit lost: $(cat "$T/info")"

# the same seed gives the same bytes; another seed another draw
shd-shadow -q -f 0.5 --max-ks 1 -o "$T/r2.shd" "$P"
cmp -s "$T/r.shd" "$T/r2.shd" || fail "the same seed gave other bytes"
differ=0
for s in 2 3 4 5 6 7; do
	shd-shadow -q -f 0.5 --max-ks 1 --seed $s -o "$T/r3.shd" "$P"
	cmp -s "$T/r.shd" "$T/r3.shd" || differ=1
done
[ $differ = 1 ] || fail "seeds 2-7 all chose what seed 1 chose"

# a pipe in, a pipe out
shd-ingest -q -i 5m "$DATA/fleet.csv.gz" | shd-shadow -q -f 0.5 --max-ks 1 |
	shd-cat --info >"$T/pinfo" || fail "shd-shadow in a pipe failed"
grep -q '^rows: 24192$' "$T/pinfo" || fail "pipe: $(cat "$T/pinfo")"

# ----------------------------------------------------------------- days
expect_status 0 shd-shadow -s days -f 0.25 --report "$T/d.json" \
	-o "$T/d.shd" "$P"
expect_err 'days: kept 7 of 28 UTC days'
# whole days, of every resource: 6 x 7 (resource, day) pairs of 288 rows
shd-cat -H -c resource,time "$T/d.shd" |
	awk -F, '{ n[$1 "," substr($2, 1, 10)]++; d[substr($2, 1, 10)] = 1 }
		END {
			for (k in n) { pairs++; if (n[k] != 288) bad++ }
			for (k in d) days++
			if (pairs != 42 || days != 7 || bad) {
				printf "pairs %d days %d bad %d\n", pairs, days, bad; exit 1
			}
		}' || fail "days are not whole"
# spread over the month: systematic, every 4th day
shd-cat -H -c time "$T/d.shd" | cut -c1-10 | sort -u >"$T/days"
[ "$(head -n 1 "$T/days")" \< 2024-01-05 ] && [ "$(tail -n 1 "$T/days")" \> 2024-01-24 ] ||
	fail "days not spread: $(tr '\n' ' ' <"$T/days")"
# the report
jq -e '.shd_shadow_report == 1 and .verdict == "faithful" and .failed == []
	and .max_ks == 0.1 and .production.rows == 48384
	and .production.resources == 6 and .shadow.rows == 12096
	and .shadow.resources == 6 and .shadow.strategy == "days"
	and .shadow.fraction == 0.25 and .shadow.seed == 1
	and (.shadow.resource_names | length) == 6
	and .steps[0].strategy == "days" and .steps[0].kept == 7
	and .steps[0].of == 28' "$T/d.json" >/dev/null ||
	fail "days report: $(jq -c 'del(.metrics)' "$T/d.json")"
jq -e '(.metrics | keys_unsorted) == ["cpu", "mem", "disk_io", "net_in", "net_out"]
	and ([.metrics[] | .ks >= 0 and .ks <= 0.1 and .ok
		and .values.production == 48384 and .values.shadow == 12096
		and (.p50.production | type) == "number"
		and (.p95.shadow | type) == "number"
		and (.p99.rel_err | type) == "number"
		and .daily.production > 0 and .daily.production <= 1
		and .weekly.shadow > 0 and .weekly.shadow <= 1] | all)' \
	"$T/d.json" >/dev/null || fail "days metrics: $(jq -c .metrics.cpu "$T/d.json")"

# ---------------------------------------------------------------- weeks
expect_status 0 shd-shadow -q -s weeks -f 0.5 -o "$T/w.shd" "$P"
per_resource "$T/w.shd" | awk '$2 != 4032 { exit 1 }' ||
	fail "weeks: $(per_resource "$T/w.shd")"
shd-cat -H -c time "$T/w.shd" | sort | sed -n '1p;$p' >"$T/wspan"
# whole weeks from Monday: 00:00 on a Monday to 23:55 on a Sunday
grep -Eq '^2024-01-(01|08|15|22)T00:00:00Z$' "$T/wspan" &&
	grep -Eq '^2024-01-(07|14|21|28)T23:55:00Z$' "$T/wspan" ||
	fail "weeks: $(cat "$T/wspan")"

# ----------------------------------------------------------- downsample
expect_status 0 shd-shadow -s downsample -f 0.1 --max-ks 0.2 \
	--report "$T/ds.json" -o "$T/ds.shd" "$P"
expect_err 'downsample: buckets of 10 rows'
shd-cat --info "$T/ds.shd" >"$T/info"
grep -q 'interval_ms: 3000000$' "$T/info" || fail "downsample: interval_ms not multiplied"
for m in cpu mem disk_io net_in net_out; do
	grep -q "^  $m.p95  *f64" "$T/info" && grep -q "^  $m.max  *f64" "$T/info" ||
		fail "downsample: no $m.p95 / $m.max: $(cat "$T/info")"
done
# every row: mean <= p95 <= max; times on the 50-minute grid
shd-cat -H -e -c time,cpu,cpu.p95,cpu.max,mem,mem.p95,mem.max "$T/ds.shd" |
	awk -F, '$1 % 3000 || $2 > $3 + 1e-9 || $3 > $4 || $5 > $6 + 1e-9 || $6 > $7 { bad++ }
		END { exit bad > 0 }' || fail "downsample: mean <= p95 <= max broken"
# one bucket checked against production: web-2 from 2024-01-10T10:20Z
# (568294 x 50 minutes since the epoch) holds the 10 rows up to 11:10
t=2024-01-10T10:20:00Z
shd-cat -H -r web-2 -c cpu --from $t --to 2024-01-10T11:10:00Z "$P" >"$T/b10"
[ "$(wc -l <"$T/b10")" = 10 ] || fail "production's bucket: $(cat "$T/b10")"
want=$(sort -g "$T/b10" | awk '{ v[NR] = $1; s += $1 }
	END { h = 9 * 0.95; j = int(h); printf "%.17g %.17g %.17g", s / 10,
		v[j + 1] + (h - j) * (v[j + 2] - v[j + 1]), v[10] }')
got=$(shd-cat -H -r web-2 -c time,cpu,cpu.p95,cpu.max "$T/ds.shd" |
	awk -F, -v t=$t '$1 == t { print $2, $3, $4 }')
echo "$want $got" | awk '{ for (i = 1; i <= 3; i++) {
		d = $i - $(i + 3); if (d < 0) d = -d
		if (NF != 6 || d > 1e-9 * (1 + ($i < 0 ? -$i : $i))) exit 1 } }' ||
	fail "bucket at $t: want mean p95 max '$want', got '$got'"
jq -e '.steps[0].bucket == 10 and .steps[0].interval_ms == 3000000' \
	"$T/ds.json" >/dev/null || fail "downsample report: $(jq -c .steps "$T/ds.json")"
# a downsampled stream downsampled again is refused
expect_status 3 shd-shadow -s downsample -o "$T/ds2.shd" "$T/ds.shd"
expect_err "has a column 'cpu.p95' already"
[ ! -e "$T/ds2.shd" ] || fail "refused, but written"

# strategies in order, each keeping sqrt(0.25)
expect_status 0 shd-shadow -s resources,days -f 0.25 --max-ks 1 -o "$T/rd.shd" "$P"
expect_err 'resources: kept 3 of 6'
expect_err 'days: kept 14 of 28'
shd-cat --info "$T/rd.shd" | grep -q 'shadow.strategy: resources,days$' ||
	fail "no shadow.strategy resources,days"

# ------------------------------------------------- not faithful: exit 3
expect_status 3 shd-shadow -s days -f 0.25 --max-ks 0.0001 \
	--report "$T/nf.json" -o "$T/nf.shd" "$P"
expect_err 'not faithful: cpu (KS [0-9.e-]*)'
expect_err 'the shadow is written and complete'
shd-cat --info "$T/nf.shd" | grep -q '^rows: 12096$' ||
	fail "not faithful: the stream is not complete"
jq -e '.verdict == "not faithful" and (.failed | index("cpu"))
	and (.metrics.cpu.ok | not)' "$T/nf.json" >/dev/null ||
	fail "not faithful report: $(jq -c 'del(.metrics)' "$T/nf.json")"
# -q keeps the verdict line, not the table
expect_status 3 shd-shadow -q -s days --max-ks 0.0001 -o "$T/nf.shd" "$P"
expect_err 'not faithful'
if grep -q '^cpu ' "$T/err"; then fail "-q printed the table"; fi

# ---------------------------------------------- the shadow's configuration
cp -R "$DATA/plan" "$T/plan"
mkdir -p "$T/sh"
expect_status 0 shd-shadow -q -s days -f 0.5 -c "$T/plan/fleet.json" \
	--config-out "$T/sh/fleet.json" -o "$T/sh/fleet.shd" "$P"
[ -s "$T/sh/fleet.json.sync" ] || fail "no sync record"
sha=$(sha256sum "$T/plan/fleet.json" | cut -d' ' -f1)
jq -e --arg sha "$sha" '.shadow.fraction == 0.5 and .shadow.production_sha256 == $sha
	and .resources["web-2"].replicas == {"current": 1, "min": 1, "max": 5, "max_step": 2}
	and .resources["batch-1"].replicas.current == 1
	and .resources["db-1"].cpu.current == 2
	and (.resources | keys) == ["batch-1", "db-1", "web-2"]' \
	"$T/sh/fleet.json" >/dev/null || fail "shadow configuration: $(cat "$T/sh/fleet.json")"
jq -e --arg sha "$sha" '.shd_sync == 1 and .production_sha256 == $sha
	and .production.resources["web-2"].replicas.current == 2' \
	"$T/sh/fleet.json.sync" >/dev/null || fail "sync record: $(cat "$T/sh/fleet.json.sync")"
# relative executor paths are production's: absolute in the shadow
# (shd_config_load would take them from the shadow's directory)
pdir=$(cd "$T/plan" && pwd -P)
jq -e --arg d "$pdir" '.resources["web-2"].executor.manifest == ($d + "/gitops/web-2.yaml")
	and .resources["db-1"].executor.dir == ($d + "/tf")
	and .resources["batch-1"].executor.type == "command"' \
	"$T/sh/fleet.json" >/dev/null ||
	fail "shadow's executor paths: $(jq -c '.resources[].executor' "$T/sh/fleet.json")"
# the record keeps production as the shadow mirrors it, paths resolved
jq -e --arg d "$pdir" '.production.resources["web-2"].executor.manifest ==
	($d + "/gitops/web-2.yaml")' "$T/sh/fleet.json.sync" >/dev/null ||
	fail "sync record's executor paths"
# shd_config_load accepts it: shd-plan plans with it (0 or 1, not 3),
# from another directory than production's (nothing copied beside it)
set +e
shd-plan -q -c "$T/sh/fleet.json" --state "$T/state" -o "$T/plan.json" \
	"$T/alerts.shd" 2>"$T/err"
st=$?
set -e
[ $st = 0 ] || [ $st = 1 ] || { cat "$T/err" >&2; fail "shd-plan refused the shadow's configuration ($st)"; }
jq -e '.shd_plan == 1' "$T/plan.json" >/dev/null || fail "no plan"
# but shd-apply refuses it: its executors are production's
expect_status 3 shd-apply -c "$T/sh/fleet.json" --state "$T/state" --dry-run \
	"$T/plan.json"
expect_err "a shadow's configuration"
# all of production's resources, even with one resource of data
expect_status 0 shd-shadow -q -f 0.1 --max-ks 1 -c "$T/plan/fleet.json" \
	--config-out "$T/sh/one.json" -o "$T/sh/one.shd" "$P"
jq -e '(.resources | length) == 3 and .shadow.fraction == 0.1' \
	"$T/sh/one.json" >/dev/null || fail "0.1: $(cat "$T/sh/one.json")"
# a shadow's configuration is no production's
expect_status 3 shd-shadow -c "$T/sh/fleet.json" --config-out "$T/sh/x.json" \
	-o "$T/x.shd" "$P"
expect_err "a shadow's configuration already"
# a bad configuration: its JSON path named, nothing written
jq '.resources["web-2"].replicas.maxx = 3' "$T/plan/fleet.json" >"$T/bad.json"
expect_status 3 shd-shadow -c "$T/bad.json" --config-out "$T/sh/bad-out.json" \
	--report "$T/bad-rep.json" -o "$T/bad.shd" "$P"
expect_err "\$.resources.web-2.replicas: unknown key 'maxx'"
for f in "$T/sh/bad-out.json" "$T/bad-rep.json" "$T/bad.shd"; do
	[ ! -e "$f" ] || fail "bad configuration, but $f written"
done

# ------------------------------------------------------------ bad input
# not a utilization stream
expect_status 3 shd-shadow -o "$T/x.shd" "$T/fc.shd"
expect_err "$T/fc.shd: not a utilization stream: column 'origin'"
# truncated
size=$(wc -c <"$P")
head -c $((size - 100)) "$P" >"$T/trunc.shd"
expect_status 3 shd-shadow --report "$T/trunc.json" -o "$T/x.shd" "$T/trunc.shd"
expect_err 'trunc.shd'
[ ! -e "$T/x.shd" ] && [ ! -e "$T/trunc.json" ] || fail "truncated, but written"
# a missing file
expect_status 3 shd-shadow -o "$T/x.shd" "$T/nope.shd"
expect_err "cannot open '$T/nope.shd'"
# out of canonical order: two streams with resource a in both
printf 'time,resource,cpu\n2024-01-01T00:00:00Z,a,1\n2024-01-01T00:00:00Z,b,2\n' >"$T/1.csv"
printf 'time,resource,cpu\n2024-01-02T00:00:00Z,a,3\n' >"$T/2.csv"
shd-ingest -q "$T/1.csv" -o "$T/1.shd"
shd-ingest -q "$T/2.csv" -o "$T/2.shd"
cat "$T/1.shd" "$T/2.shd" >"$T/12.shd"
expect_status 3 shd-shadow -o "$T/x.shd" "$T/12.shd"
expect_err "row 3: not in canonical order: resource 'a' again after 'b'"
# no rows
printf 'time,resource,cpu\n' >"$T/0.csv"
shd-ingest -q "$T/0.csv" -o "$T/0.shd" 2>/dev/null || true
if [ -s "$T/0.shd" ]; then
	expect_status 3 shd-shadow -o "$T/x.shd" "$T/0.shd"
	expect_err 'no rows'
fi
[ ! -e "$T/x.shd" ] || fail "bad input, but written"

# ---------------------------------------------------------- bad options
for f in 0 1.5 -0.1 abc ""; do
	expect_status 2 shd-shadow -f "$f" -o "$T/x.shd" "$P"
	expect_err "--fraction: expected a number in (0, 1]"
done
expect_status 2 shd-shadow -s days,hours -o "$T/x.shd" "$P"
expect_err "--strategy: unknown strategy 'hours'"
expect_status 2 shd-shadow -s days,days -o "$T/x.shd" "$P"
expect_err "strategy 'days' given twice"
expect_status 2 shd-shadow --max-ks 2 -o "$T/x.shd" "$P"
expect_err '--max-ks'
expect_status 2 shd-shadow -c "$T/plan/fleet.json" -o "$T/x.shd" "$P"
expect_err '-c and --config-out go together'
expect_status 2 shd-shadow --config-out "$T/y.json" -o "$T/x.shd" "$P"
expect_err '-c and --config-out go together'
expect_status 2 shd-shadow --profile-metric gpu -o "$T/x.shd" "$P"
expect_err "--profile-metric: no metric 'gpu'"
expect_status 2 shd-shadow -o "$T/x.shd" "$P" "$P"
expect_err 'one STREAM at most'
[ ! -e "$T/x.shd" ] || fail "bad options, but written"
# binary output to a terminal: refused, with a hint that names --force
# (-f is the fraction here)
if command -v script >/dev/null 2>&1; then
	script -qc "shd-shadow -q --max-ks 1 '$P'; echo status=\$?" /dev/null \
		</dev/null >"$T/tty" 2>&1 || true
	grep -q 'will not write a binary stream to a terminal' "$T/tty" &&
		grep -q 'or --force' "$T/tty" && grep -q 'status=2' "$T/tty" ||
		fail "terminal: $(cat "$T/tty")"
fi
# --profile-metric that exists
expect_status 0 shd-shadow -q --profile-metric mem --max-ks 1 -o "$T/x.shd" "$P"
exit 0
