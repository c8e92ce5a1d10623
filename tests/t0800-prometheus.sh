#!/bin/sh
# Prometheus, for real. shd-cat --openmetrics on its own (families, NaN,
# escaping, order), the export helpers' plumbing (a stand-in aws CLI), then
# with Debian's prometheus, promtool and prometheus-node-exporter on free
# loopback ports, started and stopped here:
#  a. Prometheus scrapes the node exporter every second for ~12 s; the
#     query_range answers for cpu, memory, network and disk go through
#     shd-ingest, and resources, metrics, units, times and values must be
#     those of the JSON; scripts/export-prometheus, in chunks, agrees;
#  b. a cut of the sample fleet (with missing values and a resource name
#     that needs escaping) goes through shd-cat --openmetrics and promtool
#     into a fresh data directory; Prometheus, started on it, gives every
#     value back at the stream's step, and times to the millisecond.
# Skipped, with the reason, when those programs are not installed.
. "$SHD_TESTS/lib.sh"
SCRIPTS="$SHD_TOP/scripts"

# ------------------------------------------------ shd-cat --openmetrics
shd-ingest -q --unit cpu=% --unit mem=MiB -i 5m "$DATA/fleet.csv.gz" -o "$T/fleet.shd"
# six hours (three 2-hour blocks of promtool's), two cells in every
# eleventh row and one in every seventh blanked (never a whole row), and a
# copy of web-1 under a name with a quote, a backslash and a non-ASCII
# letter
shd-cat --from 2024-01-20T17:00:00Z --to 2024-01-20T23:00:00Z "$T/fleet.shd" |
	awk -F, -v OFS=, 'NR > 1 && NR % 7 == 0 { $4 = "" }
		NR > 1 && NR % 11 == 0 { $3 = ""; $7 = "" } { print }' >"$T/cut0.csv"
{ cat "$T/cut0.csv"; sed -n 's/^\([^,]*\),web-1,/\1,"we ""b"" \\ ü",/p' "$T/cut0.csv"; } >"$T/cut.csv"
shd-ingest -q --unit cpu=% --unit mem=MiB "$T/cut.csv" -o "$T/cut.shd"
shd-cat -H "$T/cut.shd" >"$T/cut.txt"
[ "$(wc -l <"$T/cut.txt")" = $((7 * 72)) ] || fail "the cut has $(wc -l <"$T/cut.txt") rows, want 504"

shd-cat --openmetrics "$T/cut.shd" >"$T/cut.om" || fail "shd-cat --openmetrics failed"
[ "$(tail -n 1 "$T/cut.om")" = "# EOF" ] || fail "--openmetrics: the last line is not # EOF"
grep '^# TYPE' "$T/cut.om" >"$T/got"
cat >"$T/want" <<'EOF'
# TYPE shd_cpu gauge
# TYPE shd_mem gauge
# TYPE shd_disk_io gauge
# TYPE shd_net_in gauge
# TYPE shd_net_out gauge
EOF
diff -u "$T/want" "$T/got" >&2 || fail "--openmetrics: families"
grep -q '^# HELP shd_cpu shd column cpu, unit %$' "$T/cut.om" || fail "--openmetrics: no HELP for cpu"
# one sample per value that is there, none for a blank cell; each family
# in one piece
cells=$(awk -F, '{ for (i = 3; i <= NF; i++) n += $i != "" } END { print n }' "$T/cut.txt")
samples=$(grep -vc '^#' "$T/cut.om")
[ "$samples" = "$cells" ] || fail "--openmetrics: $samples samples for $cells values"
grep -qi 'nan' "$T/cut.om" && fail "--openmetrics: a NaN was written"
[ "$(grep -v '^#' "$T/cut.om" | sed 's/{.*//' | uniq | wc -l)" = 5 ] ||
	fail "--openmetrics: the samples of a family are not together"
grep -qF 'shd_cpu{resource="we \"b\" \\ ü"} ' "$T/cut.om" ||
	fail "--openmetrics: the label value is not escaped: $(grep -m1 'we ' "$T/cut.om")"
grep -qxF 'shd_cpu{resource="batch-1"} 6.18 1705770000' "$T/cut.om" ||
	fail "--openmetrics: $(grep -m1 batch-1 "$T/cut.om")"
# -c picks metric columns, -r resources
shd-cat --openmetrics -c time,disk_io -r db-1 "$T/cut.shd" >"$T/got"
if [ "$(grep -c '^# TYPE' "$T/got")" != 1 ] || [ "$(grep -vc '^#' "$T/got")" != 72 ]; then
	fail "--openmetrics -c disk_io -r db-1: $(head -n 3 "$T/got")"
fi
# a resource again after others: promtool would refuse it; so do we,
# with no # EOF
expect_status 3 shd-cat --openmetrics "$T/cut.shd" "$T/cut.shd"
expect_err "cut.shd: resource 'batch-1' comes again after other resources"
expect_err "hint: "
grep -q '^# EOF' "$T/out" && fail "--openmetrics wrote # EOF after an error"
expect_status 2 shd-cat --openmetrics -c time "$T/cut.shd"
expect_err "names no metric column"
# a forecast stream is refused, unless -c picks its metric columns
shd-train -q --horizon 12 --epochs 1 --hidden 8 --max-windows 500 \
	-o "$T/m.model" "$T/fleet.shd" || fail "shd-train failed"
shd-predict -q -m "$T/m.model" -o "$T/fc.shd" "$T/fleet.shd" || fail "shd-predict failed"
expect_status 2 shd-cat --openmetrics "$T/fc.shd"
expect_err "fc.shd: --openmetrics: column 'origin' is of type time, not a metric"
[ -s "$T/out" ] && fail "--openmetrics wrote something for a forecast stream"
shd-cat --openmetrics -c cpu.pred,cpu.lo,cpu.hi "$T/fc.shd" >"$T/fc.om" ||
	fail "--openmetrics -c cpu.pred,cpu.lo,cpu.hi on a forecast stream"
if [ "$(grep -Ec '^# TYPE shd_cpu_(pred|lo|hi) gauge$' "$T/fc.om")" != 3 ] ||
    [ "$(grep -vc '^#' "$T/fc.om")" != $((3 * 6 * 12)) ]; then
	fail "--openmetrics of a forecast: $(head -n 4 "$T/fc.om")"
fi
# times to the millisecond, in 2004, where a plain "SECONDS.mmm" loses a
# millisecond in Prometheus' reading (it truncates seconds * 1000)
cat >"$T/ms.csv" <<'EOF'
time,resource,x
2004-04-20T11:40:40.001Z,ms-1,1
2004-04-20T11:40:40.008Z,ms-1,2
2004-04-20T11:40:41.500Z,ms-1,3
2004-04-20T11:40:42.011Z,ms-1,4
EOF
shd-ingest -q "$T/ms.csv" -o "$T/ms.shd"
shd-cat --openmetrics "$T/ms.shd" >"$T/ms.om"
grep -qxF 'shd_x{resource="ms-1"} 1 1082461240.0011' "$T/ms.om" ||
	fail "--openmetrics: millisecond time: $(grep -m1 'ms-1' "$T/ms.om")"

# ------------------------------------------------------ export helpers
sh "$SCRIPTS/export-prometheus" --help >"$T/help"
grep -q '^usage: export-prometheus' "$T/help" || fail "export-prometheus --help"
grep -q '^Cron' "$T/help" || fail "export-prometheus --help: no cron example"
expect_status 2 sh "$SCRIPTS/export-prometheus" http://127.0.0.1:1
expect_err "expected a URL and at least one QUERY"
expect_status 2 sh "$SCRIPTS/export-prometheus" -s 0 http://127.0.0.1:1 up
expect_err "expected a whole number"
sh "$SCRIPTS/export-cloudwatch" --help >"$T/help"
grep -q '^usage: export-cloudwatch' "$T/help" || fail "export-cloudwatch --help"
grep -q '^Cron' "$T/help" || fail "export-cloudwatch --help: no cron example"
expect_status 4 env AWS="$T/no-such-aws" sh "$SCRIPTS/export-cloudwatch" AWS/EC2:CPUUtilization:InstanceId=i-1
expect_err "the aws CLI is not installed"
expect_status 2 sh "$SCRIPTS/export-cloudwatch" AWS/EC2:CPUUtilization
expect_err "expected NAMESPACE:METRIC:DIM=VALUE"
if command -v jq >/dev/null 2>&1; then
	# A stand-in for the aws CLI: it answers each query with two points,
	# as CloudWatch would, and keeps its arguments.
	cat >"$T/aws" <<'EOF'
#!/bin/sh
[ "$1" = --version ] && { echo "aws-cli/stand-in"; exit 0; }
echo "$@" >>"$AWS_ARGS"
while [ $# -gt 0 ]; do
	case $1 in --metric-data-queries) q=${2#file://}; shift ;; esac
	shift
done
jq '{MetricDataResults: [.[] | {Id, Label, StatusCode: "Complete",
	Timestamps: ["2024-01-01T00:00:00Z", "2024-01-01T00:05:00Z"],
	Values: [1.5, (.MetricStat.Period / 100)]}], Messages: []}' "$q"
EOF
	chmod +x "$T/aws"
	AWS="$T/aws" AWS_ARGS="$T/aws.args" sh "$SCRIPTS/export-cloudwatch" \
		-e 1704070800 -l 1h -p 300 -r eu-west-1 -o "$T/cw.json" \
		AWS/EC2:CPUUtilization:InstanceId=i-0abc \
		'AWS/EC2:NetworkIn:InstanceId=i-0 def,AutoScalingGroupName=web:Sum' ||
		fail "export-cloudwatch with a stand-in aws failed"
	grep -q -- '--start-time 2024-01-01T00:00:00Z --end-time 2024-01-01T01:00:00Z --scan-by TimestampAscending --output json --region eu-west-1' "$T/aws.args" ||
		fail "export-cloudwatch: aws called with $(cat "$T/aws.args")"
	shd-ingest "$T/cw.json" | shd-cat -e -H >"$T/got"
	cat >"$T/want" <<'EOF'
1704067200,i-0_def,,1.5
1704067500,i-0_def,,3
1704067200,i-0abc,1.5,
1704067500,i-0abc,3,
EOF
	diff -u "$T/want" "$T/got" >&2 || fail "export-cloudwatch output through shd-ingest"
fi

# ------------------------------------------------------------- servers
missing=
for p in prometheus promtool prometheus-node-exporter curl jq; do
	command -v "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] || skip "skipped the servers: no$missing here (Debian: sh scripts/deps)"

pids=
# stop PID: TERM, then KILL after 5 s
stop() {
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	for p in $pids; do
		stop "$p"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ports from the PID, in 20000-59999; the next one when taken.
port=$((20000 + ($$ % 2000) * 20))

# up PID URL PATTERN: waits (10 s at most) until URL answers with PATTERN
# while PID lives; then PID must still live (not another server's answer).
up() {
	i=0
	while [ $i -lt 100 ]; do
		kill -0 "$1" 2>/dev/null || return 1
		if curl -s --max-time 5 "$2" >"$T/up" 2>/dev/null &&
		    grep -q "$3" "$T/up"; then
			sleep 0.2
			kill -0 "$1" 2>/dev/null
			return
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# serve NAME LOG URLPATH PATTERN START: calls START, which starts a
# server on $srv_port in the background (sets $srv_pid), until it is up
# on a port that was free; ten tries.
serve() {
	tries=0
	while :; do
		srv_port=$port
		port=$((port + 1))
		"$5"
		pids="$pids $srv_pid"
		up "$srv_pid" "http://127.0.0.1:$srv_port$3" "$4" && return 0
		stop "$srv_pid"
		grep -q 'address already in use' "$2" ||
			{ tail -n 20 "$2" >&2; fail "$1 did not start"; }
		tries=$((tries + 1))
		[ $tries -lt 10 ] || fail "$1: no free port in ten tries"
	done
}

# ---------------------------------------------- a. scrape, query, ingest
start_ne() {
	prometheus-node-exporter --web.listen-address="127.0.0.1:$srv_port" \
		--collector.disable-defaults --collector.cpu --collector.meminfo \
		--collector.diskstats --collector.netdev >"$T/ne.log" 2>&1 &
	srv_pid=$!
}
serve prometheus-node-exporter "$T/ne.log" /metrics node_exporter_build_info start_ne
ne_pid=$srv_pid
INST=127.0.0.1:$srv_port
cat >"$T/scrape.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['$INST']
EOF
start_pa() {
	prometheus --config.file="$T/scrape.yml" --storage.tsdb.path="$T/tsdb-a" \
		--web.listen-address="127.0.0.1:$srv_port" \
		--storage.tsdb.retention.time=1d >"$T/prom-a.log" 2>&1 &
	srv_pid=$!
}
serve prometheus "$T/prom-a.log" /api/v1/status/flags "$T/tsdb-a" start_pa
pa_pid=$srv_pid
PA=http://127.0.0.1:$srv_port

# scrape for 14 s (30 s at most)
i=0
while :; do
	n=$(curl -s --max-time 5 -G "$PA/api/v1/query" \
		--data-urlencode 'query=count_over_time(up{job="node"}[1m])' |
		jq -r '.data.result[0].value[1] // 0')
	n=${n:-0}
	[ "$n" -ge 14 ] && break
	i=$((i + 1))
	[ $i -lt 60 ] || { tail -n 20 "$T/prom-a.log" >&2; fail "prometheus scraped $n times in 30 s"; }
	sleep 0.5
done
# nine points at 1 s, ending 2 s ago (the last scrapes are in by then)
end=$(($(date +%s) - 2))
start=$((end - 8))

# query NAME QUERY: query_range over [start, end] at 1 s into $T/NAME.json
query() {
	curl -s --max-time 5 -G "$PA/api/v1/query_range" --data-urlencode "query=$2" \
		--data-urlencode "start=$start" --data-urlencode "end=$end" \
		--data-urlencode step=1 >"$T/$1.json" || fail "query_range '$2' failed"
	jq -e '.status == "success"' "$T/$1.json" >/dev/null ||
		fail "query '$2': $(head -c 300 "$T/$1.json")"
}

# check NAME LABEL METRIC UNIT [shd-ingest options]: $T/NAME.json through
# shd-ingest gives the resources (label LABEL), the metric METRIC with
# UNIT, and every time and value of the JSON
check() {
	n=$1 label=$2 metric=$3 unit=$4
	shift 4
	shd-ingest -q "$@" -o "$T/$n.shd" "$T/$n.json" || fail "$n: shd-ingest failed"
	jq -r --arg l "$label" '.data.result[] | .metric[$l] as $k | .values[] |
		"\(.[0] * 1000 | round),\($k),\(.[1])"' "$T/$n.json" |
		awk -F, '{ printf "%.0f,%s,%.17g\n", $1, $2, $3 }' | sort >"$T/$n.want"
	[ -s "$T/$n.want" ] || fail "$n: Prometheus returned no samples"
	shd-cat -e -H -c time,resource,"$metric" "$T/$n.shd" |
		awk -F, '{ printf "%.0f,%s,%.17g\n", $1 * 1000, $2, $3 }' | sort >"$T/$n.got"
	diff -u "$T/$n.want" "$T/$n.got" | head -n 20 >&2
	cmp -s "$T/$n.want" "$T/$n.got" || fail "$n: samples differ from Prometheus' answer"
	shd-cat --info "$T/$n.shd" >"$T/$n.info"
	want=$(jq --arg l "$label" '[.data.result[].metric[$l]] | unique | length' "$T/$n.json")
	grep -q "^resources: $want\$" "$T/$n.info" ||
		fail "$n: $(grep resources: "$T/$n.info"), want $want"
	jq -r --arg l "$label" '.data.result[].metric[$l]' "$T/$n.json" | sort -u >"$T/$n.res"
	awk '/^resources:/ { r = 1; next } r { print $1 }' "$T/$n.info" | sort >"$T/got"
	diff -u "$T/$n.res" "$T/got" >&2 || fail "$n: resources differ"
	grep -Eq "^  $metric +f64 +unit=$unit " "$T/$n.info" ||
		fail "$n: $(grep -E "^  $metric " "$T/$n.info"), want unit=$unit"
	# times one a second from start to end (rate() may lack the first)
	awk -F, -v s="$start" -v e="$end" '$1 % 1000 || $1 < s * 1000 || $1 > e * 1000 {
		print "off the grid: " $0; bad = 1 } END { exit bad }' "$T/$n.got" ||
		fail "$n: a time off the query's grid"
	[ "$(cut -d, -f1 "$T/$n.got" | sort -u | wc -l)" -ge 7 ] ||
		fail "$n: $(cut -d, -f1 "$T/$n.got" | sort -u | wc -l) times, want 9"
}

QCPU='100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5s])))'
query cpu "$QCPU"
check cpu instance cpu % -m cpu -u cpu=%
grep -q "^  $INST  rows=" "$T/cpu.info" || fail "cpu: resource $INST: $(grep rows= "$T/cpu.info")"
query mem node_memory_MemAvailable_bytes
check mem instance node_memory_MemAvailable_bytes bytes
query net 'rate(node_network_receive_bytes_total[5s])'
check net device net_in bytes/s --key-label device -m net_in -u net_in=bytes/s
query disk 'rate(node_disk_read_bytes_total[5s]) + rate(node_disk_written_bytes_total[5s])'
if [ "$(jq '.data.result | length' "$T/disk.json")" -gt 0 ]; then
	check disk device disk_io bytes/s --key-label device -m disk_io -u disk_io=bytes/s
else
	echo "# no block device in /proc/diskstats: disk part not checked"
fi

# scripts/export-prometheus: the same range, four points a request
sh "$SCRIPTS/export-prometheus" --end "$end" --last 8s --step 1 --max-points 4 \
	-o "$T/exp.json" "$PA" "cpu=$QCPU" mem=node_memory_MemAvailable_bytes ||
	fail "export-prometheus failed"
[ "$(jq -s length "$T/exp.json")" = 6 ] ||
	fail "export-prometheus: $(jq -s length "$T/exp.json") responses, want 2 queries x 3 chunks"
shd-ingest -q "$T/exp.json" -o "$T/exp.shd"
shd-cat -e -H -c time,resource,cpu "$T/exp.shd" >"$T/got"
shd-cat -e -H -c time,resource,cpu "$T/cpu.shd" | cmp -s - "$T/got" ||
	fail "export-prometheus: cpu differs from the direct query"
shd-cat -e -H -c time,resource,mem "$T/exp.shd" >"$T/got"
shd-cat -e -H "$T/mem.shd" | cmp -s - "$T/got" ||
	fail "export-prometheus: mem differs from the direct query"
expect_status 3 sh "$SCRIPTS/export-prometheus" -l 60s -s 1 "$PA" 'rate(up['
expect_err "refused query 'rate(up\[' (HTTP 400): .*parse error"
stop "$pa_pid"
stop "$ne_pid"

# --------------------------------------- b. backfill, serve, query back
promtool tsdb create-blocks-from openmetrics "$T/cut.om" "$T/tsdb-b" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out" >&2; fail "promtool refused shd-cat --openmetrics"; }
promtool tsdb create-blocks-from openmetrics "$T/ms.om" "$T/tsdb-b" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out" >&2; fail "promtool refused the millisecond file"; }
promtool tsdb create-blocks-from openmetrics "$T/fc.om" "$T/tsdb-b" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out" >&2; fail "promtool refused the forecast"; }
printf 'global:\n  scrape_interval: 1m\n' >"$T/empty.yml"
# 2004 and 2024 in one directory: a long retention; a lookback shorter
# than the step, so that a missing value stays missing
start_pb() {
	prometheus --config.file="$T/empty.yml" --storage.tsdb.path="$T/tsdb-b" \
		--web.listen-address="127.0.0.1:$srv_port" \
		--storage.tsdb.retention.time=100y --query.lookback-delta=1m \
		>"$T/prom-b.log" 2>&1 &
	srv_pid=$!
}
serve prometheus "$T/prom-b.log" /api/v1/status/flags "$T/tsdb-b" start_pb
PB=http://127.0.0.1:$srv_port

curl -s --max-time 5 -G "$PB/api/v1/query_range" \
	--data-urlencode 'query={__name__=~"shd_.+",resource!="ms-1"}' \
	--data-urlencode start=1705770000 --data-urlencode end=1705791300 \
	--data-urlencode step=300 >"$T/back.json" || fail "query_range of the backfill failed"
[ "$(jq '.data.result | length' "$T/back.json")" = 35 ] ||
	fail "backfill: $(jq '.data.result | length' "$T/back.json") series, want 5 x 7"
shd-ingest -q --key-label resource -m cpu=shd_cpu -m mem=shd_mem -m disk_io=shd_disk_io \
	-m net_in=shd_net_in -m net_out=shd_net_out --unit cpu=% --unit mem=MiB \
	"$T/back.json" -o "$T/back.shd"
# (columns in the order Prometheus' series came: put back in order)
shd-cat -H -c time,resource,cpu,mem,disk_io,net_in,net_out "$T/back.shd" >"$T/got"
diff -u "$T/cut.txt" "$T/got" | head -n 20 >&2
cmp -s "$T/cut.txt" "$T/got" || fail "backfill: Prometheus gives other values back"
shd-cat --info "$T/back.shd" | grep -q '^  cpu .*unit=% ' || fail "backfill: units"
# raw samples of the 2004 series: the times to the millisecond
curl -s --max-time 5 -G "$PB/api/v1/query" --data-urlencode 'query=shd_x[1h]' \
	--data-urlencode time=1082461300 >"$T/ms.json" || fail "query of the 2004 series failed"
shd-ingest -q --key-label resource -m x=shd_x "$T/ms.json" | shd-cat -e -H >"$T/got"
shd-cat -e -H "$T/ms.shd" | diff -u - "$T/got" >&2 ||
	fail "backfill: times lost their milliseconds"
# the forecast's prediction, as a dashboard would show it
fc_end=$(shd-cat -e -H -c time "$T/fc.shd" | sort -n | tail -n 1)
curl -s --max-time 5 -G "$PB/api/v1/query" --data-urlencode 'query=shd_cpu_pred[2h]' \
	--data-urlencode time="$fc_end" >"$T/fcq.json" || fail "query of the forecast failed"
shd-ingest -q --key-label resource -m cpu.pred=shd_cpu_pred "$T/fcq.json" |
	shd-cat -e -H >"$T/got"
shd-cat -e -H -c time,resource,cpu.pred "$T/fc.shd" | diff -u - "$T/got" >&2 ||
	fail "backfill: the forecast came back otherwise"
exit 0
