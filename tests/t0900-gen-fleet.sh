#!/bin/sh
# gen-fleet: deterministic, well-formed, plausible; and data/fleet.csv.gz is
# still exactly what scripts/make-sample-data makes.
. "$SHD_TESTS/lib.sh"
G="$SHD_BUILD/tools/gen-fleet"
[ -x "$G" ] || fail "no generator at $G (make builds it)"

# same seed: the same bytes; another seed: other bytes
"$G" -n 3 -w 1 -s 7 >"$T/a.csv"
"$G" -n 3 -w 1 -s 7 >"$T/b.csv"
"$G" -n 3 -w 1 -s 8 >"$T/c.csv"
cmp -s "$T/a.csv" "$T/b.csv" || fail "same seed, different output"
cmp -s "$T/a.csv" "$T/c.csv" && fail "different seeds, same output"

# header and row count: n * weeks * 7 * 288 at 5 minutes
[ "$(head -n 1 "$T/a.csv")" = "timestamp,resource,cpu,mem,disk_io,net_in,net_out" ] ||
	fail "bad header: $(head -n 1 "$T/a.csv")"
rows=$(($(wc -l <"$T/a.csv") - 1))
[ "$rows" = $((3 * 1 * 7 * 288)) ] || fail "rows $rows, want $((3 * 7 * 288))"

# fields, timestamps, grouping, ascending 5-minute steps, ranges
awk -F, '
# "YYYY-MM-DD HH:MM:SS" -> seconds since the month began (one week in January)
function secs(s) {
	return substr(s, 9, 2) * 86400 + substr(s, 12, 2) * 3600 + substr(s, 15, 2) * 60 + substr(s, 18, 2)
}
NR == 1 { next }
NF != 7 { print "line " NR ": " NF " fields"; bad = 1; exit }
$1 !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$/ {
	print "line " NR ": bad timestamp " $1; bad = 1; exit }
$2 != prev {
	if ($2 in seen) { print "line " NR ": " $2 " not grouped"; bad = 1; exit }
	seen[$2] = 1; prev = $2; nres++
	if ($1 != "2024-01-01 00:00:00") { print "line " NR ": starts " $1; bad = 1; exit }
	last = secs($1); next
}
{
	t = secs($1)
	if (t - last != 300) { print "line " NR ": step " t - last; bad = 1; exit }
	last = t
}
$3 !~ /^[0-9]+\.[0-9][0-9]$/ || $3 + 0 < 0 || $3 + 0 > 100 {
	print "line " NR ": cpu " $3; bad = 1; exit }
{
	for (i = 4; i <= 7; i++)
		if ($i !~ /^[0-9]+\.[0-9]$/) { print "line " NR ": field " i " " $i; bad = 1; exit }
	if ($4 + 0 <= 0 || $4 + 0 > 65536) { print "line " NR ": mem " $4; bad = 1; exit }
	cpu += $3; n++
}
END {
	if (bad) exit 1
	if (nres != 3) { print nres " resources, want 3"; exit 1 }
	if (cpu / n < 0.5 || cpu / n > 80) { print "mean cpu " cpu / n; exit 1 }
}' "$T/a.csv" || fail "malformed or implausible output"

# the series are not flat: cpu varies within every resource
awk -F, 'NR > 1 { if (!($2 in lo) || $3 < lo[$2]) lo[$2] = $3; if ($3 > hi[$2]) hi[$2] = $3 }
	END { for (r in lo) if (hi[r] - lo[r] < 1) { print r " flat"; exit 1 } }' \
	"$T/a.csv" || fail "a flat series"

# resource i does not depend on -n
"$G" -n 1 -w 1 -s 7 >"$T/one.csv"
head -n $((1 + 7 * 288)) "$T/a.csv" | cmp -s - "$T/one.csv" || fail "-n changes resource 1"

# options: metrics, tsv, roles, names, start, step
"$G" -n 2 -w 0.5 --step 600 --start "2023-03-01T12:00:00Z" --metrics net,cpu \
	--format tsv --names host >"$T/d.tsv"
[ "$(head -n 1 "$T/d.tsv")" = "$(printf 'timestamp\tresource\tnet\tcpu')" ] ||
	fail "bad tsv header"
[ "$(sed -n 2p "$T/d.tsv" | cut -f 1,2)" = "$(printf '2023-03-01 12:00:00\thost-1')" ] ||
	fail "bad first tsv row: $(sed -n 2p "$T/d.tsv")"
[ $(($(wc -l <"$T/d.tsv") - 1)) = $((2 * 504)) ] || fail "tsv rows"
"$G" --roles web,db+shift,idle -w 0.1 | awk -F, 'NR > 1 { print $2 }' | uniq >"$T/names"
printf 'web-1\ndb-1\nidle-1\n' | cmp -s - "$T/names" || fail "role names: $(cat "$T/names")"

# bad usage: exit 2 and a message
expect_status 2 "$G" --metrics cpu,bogus
expect_err "bad metric list"
expect_status 2 "$G" -n 0
expect_status 2 "$G" --roles web,nothing
expect_status 2 "$G" --start yesterday
expect_status 0 "$G" --help
grep -q -- "--metrics" "$T/out" || fail "--help lacks --metrics"

# the shipped sample is reproducible byte for byte
[ -f "$DATA/fleet.csv.gz" ] || fail "no $DATA/fleet.csv.gz"
GEN_FLEET="$G" sh "$SHD_TOP/scripts/make-sample-data" "$T/sample"
cmp "$T/sample/fleet.csv.gz" "$DATA/fleet.csv.gz" ||
	fail "scripts/make-sample-data no longer makes data/fleet.csv.gz (run it and commit)"
