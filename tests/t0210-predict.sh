#!/bin/sh
# shd-predict: ingest | train | predict on the sample fleet; the forecast
# schema of DESIGN.md, intervals and confidence in range, the rolling
# replay's actual values, --method, and the failures (damaged model, a
# missing metric, unknown resources with --known-only, usage).
. "$SHD_TESTS/lib.sh"

command -v shd-train >/dev/null 2>&1 || skip "no shd-train"

shd-ingest -q -i 5m "$DATA/fleet.csv.gz" -o "$T/fleet.shd"
shd-train -q --hidden 8 --epochs 1 \
	--max-windows 2000 --horizon 3 -o "$T/m.model" "$T/fleet.shd" ||
	fail "shd-train failed"
shd-cat "$T/fleet.shd" >"$T/fleet.csv"

# count_rows FILE.shd: data rows of the stream
count_rows() { shd-cat -H "$1" | wc -l | tr -d ' '; }

# ---------------------------------------------------- default: the latest
expect_status 0 shd-predict -m "$T/m.model" "$T/fleet.shd" -o "$T/p.shd"
[ ! -s "$T/out" ] || fail "-o: wrote to stdout"
[ "$(count_rows "$T/p.shd")" = 18 ] || fail "default: want 6 x 3 rows"
want="time,resource,origin,step"
for m in cpu mem disk_io net_in net_out; do
	want="$want,$m.pred,$m.lo,$m.hi,$m.conf,$m.cur,$m"
done
[ "$(shd-cat "$T/p.shd" | head -n 1)" = "$want" ] ||
	fail "columns: $(shd-cat "$T/p.shd" | head -n 1)"
shd-cat --info "$T/p.shd" >"$T/info"
for kv in 'producer: shd-predict' "model: $T/m.model" 'coverage: 0.9' \
    'horizon: 3' 'interval_ms: 300000' 'model_fingerprint: '; do
	grep -q "^  $kv" "$T/info" || fail "metadata lacks '$kv'"
done
grep -q '^  cpu.conf  *f64  *unit=-  *role=conf' "$T/info" ||
	fail "cpu.conf: type or role"
grep -q '^  origin  *time ' "$T/info" || fail "origin: not a time column"
grep -q '^  step  *i64 ' "$T/info" || fail "step: not i64"

# every origin is the last time, every step 1..3, time = origin + step * 5m;
# 0 <= lo <= pred <= hi (the fleet is never negative), 0 <= conf <= 1, cur = the input's last value, and the
# actual value unknown (NaN: an empty cell)
shd-cat -e "$T/p.shd" >"$T/p.csv"
awk -F, 'NR > 1 && $2 != "" { last[$2] = $0 }
	 END { for (r in last) print last[r] }' "$T/fleet.csv" |
	sort >"$T/last.csv"
awk -F, -v last="$T/last.csv" '
	BEGIN { while ((getline l < last) > 0) { split(l, f, ","); cur[f[2]] = l } }
	NR == 1 { next }
	{
		n++
		if ($3 != 1706486100) { print "origin " $3; bad++ }
		if ($1 != $3 + 300 * $4) { print "time " $1; bad++ }
		if ($4 < 1 || $4 > 3) { print "step " $4; bad++ }
		split(cur[$2], c, ",")
		for (m = 0; m < 5; m++) {
			j = 5 + 6 * m
			p = $j; lo = $(j + 1); hi = $(j + 2); cf = $(j + 3)
			if (p == "" || lo == "" || hi == "" || cf == "") {
				print "NaN forecast " $2; bad++; continue
			}
			if (lo + 0 < 0) {	# the fleet is never negative
				print "below zero " $2 " " lo; bad++
			}
			if (!(lo + 0 <= p + 0 && p + 0 <= hi + 0)) {
				print "interval " $2 " " lo " " p " " hi; bad++
			}
			if (!(cf >= 0 && cf <= 1)) { print "conf " cf; bad++ }
			if ($(j + 4) != c[3 + m]) {
				print "cur " $2 " " $(j + 4) " != " c[3 + m]; bad++
			}
			if ($(j + 5) != "") { print "actual " $(j + 5); bad++ }
		}
	}
	END { if (n != 18 || bad) exit 1 }' "$T/p.csv" ||
	fail "default forecasts out of range (above)"

# standard output when it is not a terminal, and the same rows
shd-predict -m "$T/m.model" "$T/fleet.shd" | shd-cat >"$T/p2.csv"
shd-cat "$T/p.shd" | cmp -s - "$T/p2.csv" || fail "stdout differs from -o"
# standard input
shd-predict -m "$T/m.model" <"$T/fleet.shd" | shd-cat | cmp -s - "$T/p2.csv" ||
	fail "stdin differs from FILE"

# --to: the forecast as if the input ended there
shd-predict -m "$T/m.model" --to 2024-01-20T12:00:00Z "$T/fleet.shd" |
	shd-cat -H -c origin | sort -u >"$T/origins"
[ "$(cat "$T/origins")" = 2024-01-20T11:55:00Z ] ||
	fail "--to: origins $(cat "$T/origins")"

# ------------------------------------------------- rolling over the last day
expect_status 0 shd-predict -m "$T/m.model" --rolling --from 2024-01-28 \
	"$T/fleet.shd" -o "$T/r.shd"
[ "$(count_rows "$T/r.shd")" = $((6 * 288 * 3)) ] ||
	fail "rolling: $(count_rows "$T/r.shd") rows, want 6 x 288 x 3"
shd-cat "$T/r.shd" >"$T/r.csv"
# the actual columns hold the input's values where the input has them
# (NaN, an empty cell, only past its end: 1 + 2 + 3 rows per resource)
awk -F, -v in_="$T/fleet.csv" '
	BEGIN { while ((getline l < in_) > 0) { split(l, f, ","); v[f[2] "," f[1]] = l } }
	NR == 1 { next }
	{
		key = $2 "," $1
		if (!(key in v)) {
			for (m = 0; m < 5; m++)
				if ($(10 + 6 * m) != "") { print "actual past the end"; bad++ }
			unknown++
			next
		}
		split(v[key], f, ",")
		for (m = 0; m < 5; m++)
			if ($(10 + 6 * m) != f[3 + m]) {
				print key ": actual " $(10 + 6 * m) " != " f[3 + m]; bad++
			}
		known++
	}
	END { if (bad || unknown != 36 || known != 6 * 288 * 3 - 36) {
		print "known " known " unknown " unknown; exit 1 } }' "$T/r.csv" ||
	fail "rolling: actual values differ from the input (above)"
# canonical order: by resource (the input's order), then origin, then step
shd-cat -H -e -c resource,origin,step "$T/r.shd" >"$T/order"
sort -t, -s -k1,1 -k2,2n -k3,3n "$T/order" | cmp -s - "$T/order" ||
	fail "rolling: rows not in canonical order"

# --method last: the forecast is the current value
expect_status 0 shd-predict -m "$T/m.model" --rolling --from 2024-01-28 \
	--method last "$T/fleet.shd" -o "$T/l.shd"
shd-cat "$T/l.shd" | awk -F, 'NR > 1 { for (m = 0; m < 5; m++)
		if ($(5 + 6 * m) != $(9 + 6 * m)) { print; exit 1 } }' ||
	fail "--method last: pred != cur"
shd-cat --info "$T/l.shd" | grep -q '^  method: last' ||
	fail "--method: not in the metadata"

# ------------------------------------------------------ gaps and strangers
# an unknown resource with --known-only: a warning naming it, and the others
# forecast (by default it is fitted from its own history: t0230-unseen.sh)
sed 's/,idle-1,/,stranger,/' "$T/fleet.csv" | shd-ingest -q -i 5m -o "$T/s.shd"
expect_status 0 shd-predict --known-only -m "$T/m.model" "$T/s.shd" \
	-o "$T/ps.shd"
expect_err "1 resource not in model '$T/m.model', not forecast: 'stranger'"
[ "$(count_rows "$T/ps.shd")" = 15 ] || fail "unknown resource: want 5 x 3 rows"
shd-cat -H -c resource "$T/ps.shd" | grep -q stranger &&
	fail "the unknown resource was forecast"
# nothing known: exit 3
grep -v -e ',web-' -e ',db-' -e ',cache-' -e ',batch-' "$T/fleet.csv" |
	sed 's/,idle-1,/,stranger,/' | shd-ingest -q -i 5m -o "$T/s2.shd"
expect_status 3 shd-predict --known-only -m "$T/m.model" "$T/s2.shd" \
	-o "$T/ps2.shd"
expect_err "stranger"
expect_err "no resource of the input is in the model"
[ ! -e "$T/ps2.shd" ] || fail "nothing forecast, yet a file written"

# too little history: a warning, and the forecast made all the same
shd-cat --from 2024-01-28T23:00:00Z "$T/fleet.shd" | shd-ingest -q -i 5m \
	-o "$T/short.shd"
expect_status 0 shd-predict -m "$T/m.model" "$T/short.shd" -o "$T/pshort.shd"
expect_err "fewer than the lookback"
[ "$(count_rows "$T/pshort.shd")" = 18 ] || fail "short history: rows"

# a stream without one of the model's metrics: exit 3 naming it
shd-cat -c time,resource,cpu,mem,net_in,net_out "$T/fleet.shd" |
	shd-ingest -q -i 5m -o "$T/nodisk.shd"
expect_status 3 shd-predict -m "$T/m.model" "$T/nodisk.shd"
expect_err "nodisk.shd"
expect_err "disk_io"

# ------------------------------------------------------------ bad models
size=$(wc -c <"$T/m.model" | tr -d ' ')
cp "$T/m.model" "$T/bad.model"
printf 'ABCD' | dd of="$T/bad.model" bs=1 seek=$((size - 100)) conv=notrunc \
	2>/dev/null
cmp -s "$T/m.model" "$T/bad.model" && fail "the damage did not change the file"
expect_status 3 shd-predict -m "$T/bad.model" "$T/fleet.shd"
expect_err "bad.model: checksum mismatch"
head -c $((size - 50)) "$T/m.model" >"$T/cut.model"
expect_status 3 shd-predict -m "$T/cut.model" "$T/fleet.shd"
expect_err "cut.model: truncated"
expect_status 3 shd-predict -m "$T/fleet.shd" "$T/fleet.shd"
expect_err "not an shd model"
expect_status 3 shd-predict -m "$T/none.model" "$T/fleet.shd"
expect_err "none.model"
expect_status 3 shd-predict -m "$T/m.model" "$T/none.shd"
expect_err "none.shd"
# a truncated input stream
head -c 2000 "$T/fleet.shd" >"$T/cut.shd"
expect_status 3 shd-predict -m "$T/m.model" "$T/cut.shd"
expect_err "cut.shd"

# --max-age compares data times: the model knows the fleet up to its end,
# so the fleet itself is young, and a stream a month later is old
expect_status 0 shd-predict --max-age 1d -m "$T/m.model" "$T/fleet.shd" -o "$T/x"
[ ! -s "$T/err" ] || fail "--max-age: a warning on the training data itself"
shd-cat --epoch "$T/fleet.shd" | awk -F, 'NR == 1 { print; next }
	{ $1 += 30 * 86400; print }' OFS=, | shd-ingest -q -o "$T/later.shd"
expect_status 0 shd-predict --max-age 1d -m "$T/m.model" "$T/later.shd" -o "$T/x"
expect_err "model is 30 days old (its training data end 2024-01-28T23:55:00Z)"
expect_status 0 shd-predict --max-age 100000d -m "$T/m.model" "$T/fleet.shd" \
	-o "$T/x"
[ ! -s "$T/err" ] || fail "--max-age: a warning for a young model"

# ----------------------------------------------------------------- usage
expect_status 2 shd-predict "$T/fleet.shd"
expect_err "usage:"
expect_status 2 shd-predict -m "$T/m.model" --method holt "$T/fleet.shd"
expect_err "unknown method 'holt'"
expect_status 2 shd-predict -m "$T/m.model" --from yesterday "$T/fleet.shd"
expect_status 2 shd-predict -m "$T/m.model" --threads 0 "$T/fleet.shd"
expect_status 2 shd-predict -m "$T/m.model" --from 2024-01-02 --to 2024-01-01 \
	"$T/fleet.shd"
expect_status 2 shd-predict -m "$T/m.model" "$T/fleet.shd" "$T/fleet.shd"
exit 0
