#!/bin/sh
# shd-ingest's inputs: Prometheus and CloudWatch JSON, standard input,
# compressed files and archives; --format, column selection and renames,
# --start/--step, and --interval with each aggregate.
. "$SHD_TESTS/lib.sh"

# want NAME: compare $T/got with the text on stdin
want() {
	cat >"$T/want"
	diff -u "$T/want" "$T/got" >&2 || fail "$1"
}

# ----------------------------------------------------------- Prometheus
# a range query: two instances, two metrics, NaN and +Inf samples,
# millisecond times
shd-ingest "$TDATA/prom-matrix.json" | shd-cat -e >"$T/got"
want "prometheus matrix" <<'EOF'
time,resource,node_load1,node_memory_MemAvailable_bytes
1435781430.781,a:9100,0.25,8254341120
1435781445.781,a:9100,0.5,8254275584
1435781460.781,a:9100,,8253984768
1435781430.781,b:9100,1.5,2100000000
1435781445.781,b:9100,1.75,inf
1435781460.781,b:9100,2,2100000000
EOF
shd-ingest "$TDATA/prom-matrix.json" | shd-cat --json -r a:9100 -c time,node_load1 >"$T/got"
want "prometheus matrix as JSON" <<'EOF'
{"time":"2015-07-01T20:10:30.781Z","node_load1":0.25}
{"time":"2015-07-01T20:10:45.781Z","node_load1":0.5}
{"time":"2015-07-01T20:11:00.781Z","node_load1":null}
EOF

# an instant query; --key-label picks another label for the resource
shd-ingest "$TDATA/prom-vector.json" | shd-cat -e >"$T/got"
want "prometheus vector" <<'EOF'
time,resource,up
1700000000.500,localhost:9090,1
1700000000.500,localhost:9100,0
EOF
shd-ingest --key-label job "$TDATA/prom-vector.json" | shd-cat -e -H >"$T/got"
want "prometheus --key-label job" <<'EOF'
1700000000.500,node,0
1700000000.500,prometheus,1
EOF
# --metric NEW=OLD renames a Prometheus metric too
shd-ingest -m alive=up "$TDATA/prom-vector.json" | shd-cat -e -r localhost:9100 >"$T/got"
want "prometheus --metric alive=up" <<'EOF'
time,resource,alive
1700000000.500,localhost:9100,0
EOF

# columns in -m order, as for CSV, not in the order the series arrive
# (node_load1 comes first in the file); a name no series has is a column
# of NaN; CloudWatch alike
shd-ingest -m mem=node_memory_MemAvailable_bytes -m none=nosuch -m load=node_load1 \
	"$TDATA/prom-matrix.json" | shd-cat -e -r b:9100 >"$T/got"
want "prometheus --metric in -m order" <<'EOF'
time,resource,mem,none,load
1435781430.781,b:9100,2100000000,,1.5
1435781445.781,b:9100,inf,,1.75
1435781460.781,b:9100,2100000000,,2
EOF
shd-ingest -m net_in=NetworkInBytes -m cpu=CPUUtilization "$TDATA/cw.json" |
	shd-cat -e -H -r i-0abc123 --to 1704067500 >"$T/got"
want "cloudwatch --metric in -m order" <<'EOF'
1704067200,i-0abc123,,3.125
EOF

# an error response is reported with Prometheus' own words, detected or
# forced, and nothing is written
expect_status 3 shd-ingest -F prometheus "$TDATA/prom-error.json"
expect_err "prom-error.json: query failed: bad_data: invalid parameter"
[ -s "$T/out" ] && fail "prometheus error: a stream was written"
expect_status 3 shd-ingest "$TDATA/prom-error.json"
expect_err "prom-error.json: query failed: bad_data"

# ----------------------------------------------------------- CloudWatch
# "KEY METRIC" labels; timestamps newest first come out ascending
shd-ingest "$TDATA/cw.json" | shd-cat -e >"$T/got"
want "cloudwatch" <<'EOF'
time,resource,CPUUtilization,NetworkInBytes
1704067200,i-0abc123,3.125,
1704067500,i-0abc123,7,
1704067800,i-0abc123,40.25,
1704068100,i-0abc123,12.5,
1704067200,i-0def456,,0
1704067500,i-0def456,,524288
1704067800,i-0def456,,1048576
EOF
shd-ingest "$TDATA/cw.json" | shd-cat --info >"$T/info"
grep -q '^resources: 2$' "$T/info" || fail "cloudwatch: --info resources"
grep -q '^  i-0abc123  rows=4  from=2024-01-01T00:00:00Z  to=2024-01-01T00:15:00Z$' "$T/info" ||
	fail "cloudwatch: --info for i-0abc123: $(grep i-0abc123 "$T/info")"
# timestamps and values that do not pair up: exit 3, the entry named
expect_status 3 shd-ingest "$TDATA/cw-mismatch.json"
expect_err "cw-mismatch.json: MetricDataResults\[1\]: 3 timestamps but 2 values"
[ -s "$T/out" ] && fail "cloudwatch mismatch: a stream was written"

# --format forcing: a Prometheus file read as CloudWatch is refused
expect_status 3 shd-ingest -F cloudwatch "$TDATA/prom-vector.json"
expect_err "prom-vector.json: MetricDataResults"
expect_status 2 shd-ingest -F xml "$TDATA/cw.json"
expect_err "unknown format 'xml'"
# a header with more commas than tabs is taken for CSV unless -F tsv
printf 'time\tresource\tx,y,z\n2024-01-01 00:00:00\ta,b\t1.5\n' >"$T/f.tsv"
expect_status 3 shd-ingest "$T/f.tsv"
expect_err "no time column"
shd-ingest -F tsv "$T/f.tsv" | shd-cat -e >"$T/got"
want "-F tsv" <<'EOF'
time,resource,x_y_z
1704067200,"a,b",1.5
EOF

# ------------------------------------------------------- standard input
shd-ingest <"$TDATA/cw.json" | shd-cat -e -H >"$T/got"
shd-ingest "$TDATA/cw.json" | shd-cat -e -H | cmp -s - "$T/got" ||
	fail "cloudwatch from stdin differs from the file"
# JSON past the first 64 KiB of a pipe is gathered whole (shd_pieces_all)
{ cat "$TDATA/prom-matrix.json"; head -c 200000 /dev/zero | tr '\0' ' '; } |
	shd-ingest | shd-cat -e -H >"$T/got"
shd-ingest "$TDATA/prom-matrix.json" | shd-cat -e -H | cmp -s - "$T/got" ||
	fail "Prometheus JSON of 200 KB on a pipe differs from the file"
# a pipe (not a file that could be mapped), and compressed
# shellcheck disable=SC2002
cat "$DATA/fleet.csv.gz" | shd-ingest - | shd-cat --info >"$T/info"
grep -q '^rows: 48384$' "$T/info" || fail "gzip on stdin: $(grep rows: "$T/info")"
grep -q '^resources: 6$' "$T/info" || fail "gzip on stdin: $(grep resources: "$T/info")"
# delimited text on a pipe is parsed as it comes, in pieces (past the
# first 64 KiB): the same rows as the file gives, and a bad row far into
# it named by its line
gzip -dc "$DATA/fleet.csv.gz" >"$T/fleet.csv"
# shellcheck disable=SC2002
cat "$T/fleet.csv" | shd-ingest - | shd-cat >"$T/pipe.csv"
shd-ingest "$T/fleet.csv" | shd-cat | cmp -s - "$T/pipe.csv" ||
	fail "CSV on a pipe differs from the same file"
sed '40000s/,[^,]*$/,oops/' "$T/fleet.csv" >"$T/bad.csv"
set +e
# shellcheck disable=SC2002
cat "$T/bad.csv" | shd-ingest - >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "a bad row on a pipe: exit $rc, want 3"
grep -q "^shd-ingest: <stdin>:40000: column '[a-z_]*': 'oops' is not a number" \
	"$T/err" || fail "a bad row on a pipe: $(cat "$T/err")"
[ -s "$T/out" ] && fail "a bad row on a pipe: a stream was written"
# no key column on stdin: the key is "stdin"
printf 'time,cpu\n2024-01-01 00:00:00,1\n' | shd-ingest | shd-cat -H >"$T/got"
want "CSV without a key on stdin" <<'EOF'
2024-01-01T00:00:00Z,stdin,1
EOF

# ------------------------------------------------------------ archives
# CSV members at the top and in a directory, a TSV member, a JSON member
# whose one-word Label leaves the key to the member name; hidden files
# and macOS resource forks are not data
mkdir -p "$T/arc/sub/deeper" "$T/arc/__MACOSX"
printf 'time,cpu\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n' >"$T/arc/h1.csv"
printf 'time,cpu\n2024-01-01 00:00:00,3\n' >"$T/arc/sub/h2.csv"
printf 'time\tcpu\n2024-01-01 00:00:00\t4\n' >"$T/arc/sub/deeper/h3.tsv"
printf '{"MetricDataResults":[{"Id":"m1","Label":"cpu","Timestamps":["2024-01-01T00:05:00Z","2024-01-01T00:00:00Z"],"Values":[6,5]}]}\n' \
	>"$T/arc/sub/web-9.json"
printf 'this is not data\n' >"$T/arc/sub/.notes.csv"
printf 'junk\n' >"$T/arc/__MACOSX/._h1.csv"
cat >"$T/arc.want" <<'EOF'
time,resource,cpu
1704067200,h1,1
1704067500,h1,2
1704067200,h2,3
1704067200,h3,4
1704067200,web-9,5
1704067500,web-9,6
EOF
try_archive() { # NAME: ingest $T/NAME, compare with arc.want
	shd-ingest "$T/$1" | shd-cat -e >"$T/got" || fail "$1: pipeline failed"
	diff -u "$T/arc.want" "$T/got" >&2 || fail "archive $1: members or keys wrong"
}
(cd "$T/arc" && tar cf ../a.tar h1.csv sub __MACOSX)
try_archive a.tar
missing=
for z in gzip:gz xz:xz zstd:zst bzip2:bz2; do
	ext=${z#*:} z=${z%:*}
	if command -v "$z" >/dev/null 2>&1; then
		"$z" -c <"$T/a.tar" >"$T/a.tar.$ext"
		try_archive "a.tar.$ext"
		# one compressed CSV: the key is the name without its extensions
		"$z" -c <"$T/arc/h1.csv" >"$T/solo.csv.$ext"
		shd-ingest "$T/solo.csv.$ext" | shd-cat -e -H >"$T/got"
		printf '1704067200,solo,1\n1704067500,solo,2\n' | cmp -s - "$T/got" ||
			fail "$z-compressed CSV: $(cat "$T/got")"
	else
		missing="$missing $z"
	fi
done
if command -v zip >/dev/null 2>&1; then
	(cd "$T/arc" && zip -qr ../a.zip h1.csv sub __MACOSX)
	try_archive a.zip
else
	missing="$missing zip"
fi
[ -z "$missing" ] || echo "# skipped archive parts: no$missing on this machine"
# a cut-off compressed archive: an error naming it, no stream
if [ -f "$T/a.tar.gz" ]; then
	head -c 150 "$T/a.tar.gz" >"$T/cut.tar.gz"
	set +e
	shd-ingest "$T/cut.tar.gz" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "cut archive: exit $rc, want 3"; }
	grep -q "cut.tar.gz" "$T/err" || fail "cut archive: stderr does not name it: $(cat "$T/err")"
	[ -s "$T/out" ] && fail "cut archive: a stream was written"
fi
# a member longer than 64 KiB is parsed as it is decompressed: the same
# rows as the plain file; cut off, the line where reading stopped is named
gzip -dc "$DATA/fleet.csv.gz" >"$T/arc/fleet.csv"
(cd "$T/arc" && tar czf ../big.tar.gz fleet.csv h1.csv)
shd-ingest "$T/big.tar.gz" | shd-cat >"$T/got"
shd-ingest "$T/arc/fleet.csv" "$T/arc/h1.csv" | shd-cat | cmp -s - "$T/got" ||
	fail "a tar.gz with a large member differs from its files"
head -c 300000 "$DATA/fleet.csv.gz" >"$T/cut.csv.gz"
set +e
shd-ingest "$T/cut.csv.gz" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "cut large member: exit $rc, want 3"; }
grep -q "^shd-ingest: $T/cut.csv.gz:[0-9]*: cannot read: " "$T/err" ||
	fail "cut large member: $(cat "$T/err")"
grep -q "skip-bad" "$T/err" && fail "cut large member: --skip-bad hinted"
[ -s "$T/out" ] && fail "cut large member: a stream was written"

# ------------------------------------------- column roles and selection
cat >"$T/cols.csv" <<'EOF'
ts,pod,Host Name,when,cpu [%],mem
2024-01-01 00:00:00,p1,h1,2024-02-01 00:00:00,1.5,10
2024-01-01 00:05:00,p2,h1,2024-02-01 00:05:00,2.5,20
EOF
# defaults: "ts" is the time, "pod" (first key-like column) the resource;
# text columns are not metrics; units are split off the name
shd-ingest "$T/cols.csv" | shd-cat -e >"$T/got"
want "default time and key columns" <<'EOF'
time,resource,cpu,mem
1704067200,p1,1.5,10
1704067500,p2,2.5,20
EOF
shd-ingest "$T/cols.csv" | shd-cat --info | grep -q '^  cpu .*unit=% ' ||
	fail "the unit of 'cpu [%]' is not %"
# --key-col and --time-col, by header text or normalized name
shd-ingest -k 'Host Name' -t when "$T/cols.csv" | shd-cat -e -H >"$T/got"
want "--key-col 'Host Name' --time-col when" <<'EOF'
1706745600,h1,1.5,10
1706745900,h1,2.5,20
EOF
shd-ingest --key-col host_name --time-col when "$T/cols.csv" | shd-cat -e -H |
	cmp -s "$T/want" - || fail "--key-col host_name differs from 'Host Name'"
expect_status 3 shd-ingest -k nosuch "$T/cols.csv"
expect_err "no column 'nosuch'"
expect_status 3 shd-ingest -t nosuch "$T/cols.csv"
expect_err "no column 'nosuch'"
# --metric NEW=OLD: only these, in this order, renamed
shd-ingest -m memory=mem -m load='cpu [%]' "$T/cols.csv" | shd-cat -e >"$T/got"
want "--metric NEW=OLD" <<'EOF'
time,resource,memory,load
1704067200,p1,10,1.5
1704067500,p2,20,2.5
EOF
expect_status 3 shd-ingest -m x=nosuch "$T/cols.csv"
expect_err "no column 'nosuch'"
expect_status 2 shd-ingest -m =mem "$T/cols.csv"
expect_err "expected NEW=OLD"
# --key for an input without a key column (NAB)
shd-ingest --key web "$DATA/nab/ec2_cpu_utilization_24ae8d.csv" | shd-cat -H |
	sed -n 1p >"$T/got"
want "--key web" <<'EOF'
2014-02-14T14:30:00Z,web,0.132
EOF
# a time column with no usual name: an error with a hint
printf 'when,v\n2024-01-01 00:00:00,1\n' >"$T/when.csv"
expect_status 3 shd-ingest "$T/when.csv"
expect_err "when.csv: no time column"
expect_err "hint:.*--time-col"

# -------------------------------------------------------- --start --step
expect_status 2 shd-ingest --start 2019-05-01T00:00:00Z "$T/when.csv"
expect_err "go together"
expect_status 2 shd-ingest --start 0 --step 5m -t when "$T/when.csv"
expect_status 2 shd-ingest --start yesterday --step 5m "$T/when.csv"
expect_err "bad time 'yesterday'"
expect_status 2 shd-ingest --start 0 --step often "$T/when.csv"
expect_err "bad duration 'often'"
printf 'a,b\n1,2\n3,\n5,6\n' >"$T/notime.csv"
shd-ingest --start 2024-01-01T00:00:00Z --step 1h "$T/notime.csv" | shd-cat -e -H >"$T/got"
want "--start --step" <<'EOF'
1704067200,notime,1,2
1704070800,notime,3,
1704074400,notime,5,6
EOF
noshared=
G="$SHARED/dc_aggregates/google2019/instance_usage_grouped_300_seconds_month.csv"
if [ -f "$G" ]; then
	shd-ingest --start 2019-05-01T00:00:00Z --step 300 "$G" |
		shd-cat -e -H >"$T/g.out"
	[ "$(wc -l <"$T/g.out")" = 8064 ] || fail "google2019: $(wc -l <"$T/g.out") rows"
	awk -F, 'NR > 1 {
		line = 1556668800 + (NR - 2) * 300 ",instance_usage_grouped_300_seconds_month"
		for (i = 1; i <= NF; i++) line = line "," sprintf("%.17g", $i)
		print line }' "$G" >"$T/want"
	awk -F, '{ line = $1 "," $2
		for (i = 3; i <= NF; i++) line = line "," sprintf("%.17g", $i)
		print line }' "$T/g.out" >"$T/got"
	cmp -s "$T/want" "$T/got" || fail "google2019 with --start/--step: $(diff "$T/want" "$T/got" | grep '^[<>]' | head -n 2)"
else
	noshared="google2019 ($G)"
fi

# ------------------------------------------- duplicates and --interval
# slot 00:00 holds three rows (two at the same time), 00:05 and 00:10
# none or only NaN, 00:15 two rows at one time; resource b one row
cat >"$T/dup.csv" <<'EOF'
time,resource,v,w
2024-01-01 00:00:00,a,1,
2024-01-01 00:00:00,a,5,2
2024-01-01 00:01:00,a,3,
2024-01-01 00:12:00,a,,
2024-01-01 00:16:00,a,7,1
2024-01-01 00:16:00,a,2,4
2024-01-01 00:02:00,b,9,9
EOF
# without --interval every row is kept, duplicates in input order
shd-ingest "$T/dup.csv" | shd-cat -e -H >"$T/got"
want "duplicates kept without --interval" <<'EOF'
1704067200,a,1,
1704067200,a,5,2
1704067260,a,3,
1704067920,a,,
1704068160,a,7,1
1704068160,a,2,4
1704067320,b,9,9
EOF
for agg in max min mean sum last; do
	shd-ingest -i 5m -a $agg "$T/dup.csv" | shd-cat -e -H >"$T/got.$agg"
done
mv "$T/got.max" "$T/got"
want "--interval 5m --agg max" <<'EOF'
1704067200,a,5,2
1704067500,a,,
1704067800,a,,
1704068100,a,7,4
1704067200,b,9,9
EOF
mv "$T/got.min" "$T/got"
want "--interval 5m --agg min" <<'EOF'
1704067200,a,1,2
1704067500,a,,
1704067800,a,,
1704068100,a,2,1
1704067200,b,9,9
EOF
mv "$T/got.mean" "$T/got"
want "--interval 5m --agg mean" <<'EOF'
1704067200,a,3,2
1704067500,a,,
1704067800,a,,
1704068100,a,4.5,2.5
1704067200,b,9,9
EOF
mv "$T/got.sum" "$T/got"
want "--interval 5m --agg sum" <<'EOF'
1704067200,a,9,2
1704067500,a,,
1704067800,a,,
1704068100,a,9,5
1704067200,b,9,9
EOF
mv "$T/got.last" "$T/got"
want "--interval 5m --agg last" <<'EOF'
1704067200,a,3,2
1704067500,a,,
1704067800,a,,
1704068100,a,2,4
1704067200,b,9,9
EOF
# the default aggregate is the mean, and the grid is in the metadata
shd-ingest --interval 300 "$T/dup.csv" | shd-cat -e -H >"$T/got"
shd-ingest -i 5m -a mean "$T/dup.csv" | shd-cat -e -H | cmp -s - "$T/got" ||
	fail "--interval without --agg is not the mean"
shd-ingest -i 5m -a max "$T/dup.csv" | shd-cat --info >"$T/info"
grep -q '^  interval_ms: 300000$' "$T/info" || fail "no interval_ms in the metadata"
grep -q '^  agg: max$' "$T/info" || fail "no agg in the metadata"
expect_status 2 shd-ingest -a median "$T/dup.csv"
expect_err "unknown aggregate 'median'"
expect_status 2 shd-ingest -i soon "$T/dup.csv"
expect_err "bad duration 'soon'"

# Bitbrains: stamps jitter around 300 s (some steps 301 s); on the 5-minute
# grid a slot holds the max of its rows, and a slot no row fell into is
# there with empty cells, never with a value made up
BB="$SHARED/bitbrains_rnd/rnd/2013-8/89.csv"
# (everything else ran; only the parts that need ../shared/data are skipped)
[ -f "$BB" ] || skip "skipped for want of ../shared/data: ${noshared:+$noshared, }Bitbrains ($BB)"
shd-ingest -i 5m --agg max "$BB" | shd-cat -e -H >"$T/bb.out"
awk -F ';\t' '
FNR == 1 { next }
{
	slot = $1 - $1 % 300
	if (first == "") first = slot
	last = slot
	for (i = 2; i <= NF; i++)
		if ($i != "" && (!((slot, i) in mx) || $i + 0 > mx[slot, i] + 0))
			mx[slot, i] = $i
	nf = NF
}
END {
	for (s = first; s <= last; s += 300) {
		line = s ",89"
		for (i = 2; i <= nf; i++)
			line = line "," ((s, i) in mx ? sprintf("%.17g", mx[s, i]) : "")
		print line
	}
}' "$BB" >"$T/want"
awk -F, '{ line = $1 "," $2
	for (i = 3; i <= NF; i++) line = line "," ($i == "" ? "" : sprintf("%.17g", $i))
	print line }' "$T/bb.out" >"$T/got"
[ "$(wc -l <"$T/want")" -gt 8000 ] || fail "Bitbrains: only $(wc -l <"$T/want") slots expected"
cmp -s "$T/want" "$T/got" || fail "Bitbrains --interval 5m --agg max: $(diff "$T/want" "$T/got" | grep '^[<>]' | head -n 2)"
awk -F, '{ e = 1; for (i = 3; i <= NF; i++) if ($i != "") e = 0; n += e }
	END { exit n < 1 }' "$T/bb.out" || fail "Bitbrains: no empty slot on the grid"
awk -F, '$1 % 300 != 0 { print "off the grid: " $0; exit 1 }' "$T/bb.out" || fail "Bitbrains: a time off the grid"
[ -z "$noshared" ] || skip "skipped for want of ../shared/data: $noshared"
