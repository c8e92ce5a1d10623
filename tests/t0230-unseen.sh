#!/bin/sh
# shd-predict on resources the model has not seen: by default each is
# fitted from its own history before the first origin (a note on stderr)
# and forecast with the model's network; the rows are there, finite, with
# ordered intervals, about as accurate as a model trained on them, and the
# same whatever comes after --from (the fit does not see it). --known-only
# keeps the old behaviour; too little history to fit is left out with the
# old warning; a --per-resource model has no network for them.
. "$SHD_TESTS/lib.sh"

command -v shd-train >/dev/null 2>&1 || skip "no shd-train"

# the sample fleet, its first three weeks, and the three resources a
# model does not know (web-2, db-1, idle-1) and the three it knows
shd-ingest -q -i 5m "$DATA/fleet.csv.gz" -o "$T/fleet.shd"
shd-cat "$T/fleet.shd" >"$T/fleet.csv"
cut=2024-01-22T00:00:00Z
shd-cat --to $cut "$T/fleet.shd" >"$T/cut.csv"
unseen='web-2 db-1 idle-1'
pick() {	# pick FILE.csv REGEX: header and the rows of the resources
	awk -F, -v re="$2" 'NR == 1 || $2 ~ re' "$1"
}
pick "$T/cut.csv" '^(web-1|cache-1|batch-1)$' | shd-ingest -q -i 5m \
	-o "$T/known.shd"
pick "$T/cut.csv" '^(web-2|db-1|idle-1)$' | shd-ingest -q -i 5m \
	-o "$T/them.shd"
topts="--hidden 8 --epochs 1 --max-windows 2000 --horizon 3"
# shellcheck disable=SC2086
shd-train -q $topts -o "$T/a.model" "$T/known.shd" || fail "shd-train a"
# shellcheck disable=SC2086
shd-train -q $topts -o "$T/b.model" "$T/them.shd" || fail "shd-train b"

count_rows() { shd-cat -H "$1" | wc -l | tr -d ' '; }

# check_rows FILE.shd: every forecast of the resources finite, 0 <= lo <=
# pred <= hi (the fleet is never negative), 0 <= conf <= 1
check_rows() {
	shd-cat -e "$1" | awk -F, 'NR > 1 {
		for (m = 0; m < 5; m++) {
			j = 5 + 6 * m
			p = $j; lo = $(j + 1); hi = $(j + 2); cf = $(j + 3)
			if (p == "" || lo == "" || hi == "" || cf == "" ||
			    p ~ /inf|nan/ || lo ~ /inf|nan/ || hi ~ /inf|nan/) {
				print "not finite: " $0; bad++; continue
			}
			if (!(0 <= lo + 0 && lo + 0 <= p + 0 && p + 0 <= hi + 0)) {
				print "interval: " $2 " " lo " " p " " hi; bad++
			}
			if (!(cf >= 0 && cf <= 1)) { print "conf " cf; bad++ }
		}
	}
	END { exit bad > 0 }' || fail "$1: forecasts out of range (above)"
}

# ------------------------------------------------- the latest: fitted
expect_status 0 shd-predict -m "$T/a.model" "$T/fleet.shd" -o "$T/p.shd"
expect_err "3 resources not in model '$T/a.model': fitted from their own history (15 series: "
expect_err "'db-1', 'idle-1', 'web-2'"
grep -q 'not forecast' "$T/err" && fail "a resource left out: $(cat "$T/err")"
[ "$(count_rows "$T/p.shd")" = 18 ] || fail "default: want 6 x 3 rows"
for r in $unseen; do
	[ "$(shd-cat -H -r "$r" -c resource "$T/p.shd" | wc -l | tr -d ' ')" = 3 ] ||
		fail "no forecast of $r"
done
check_rows "$T/p.shd"
# with -q the note stays (it says something of the forecast, as the
# warning it replaces did)
expect_status 0 shd-predict -q -m "$T/a.model" "$T/fleet.shd" -o "$T/p2.shd"
expect_err "fitted from their own history"
[ "$(shd-cat "$T/p.shd" | md5sum)" = "$(shd-cat "$T/p2.shd" | md5sum)" ] ||
	fail "not the same forecast twice"

# --------------------------------------------- rolling: as good as trained
# every origin of the last week; the fit sees only what came before --from
expect_status 0 shd-predict -m "$T/a.model" --rolling --from $cut \
	"$T/fleet.shd" -o "$T/ra.shd"
expect_err "fitted from their own history"
expect_status 0 shd-predict -m "$T/b.model" --rolling --from $cut \
	"$T/fleet.shd" -o "$T/rb.shd"
[ "$(count_rows "$T/ra.shd")" = $((6 * 7 * 288 * 3)) ] ||
	fail "rolling: $(count_rows "$T/ra.shd") rows, want 6 x 2016 x 3"
check_rows "$T/ra.shd"

# mase FILE.shd: the mean over the unseen resources' series of the error
# of pred relative to the last value's, on the same points
mase() {
	shd-cat -e "$1" | awk -F, '
	NR > 1 && ($2 == "web-2" || $2 == "db-1" || $2 == "idle-1") {
		for (m = 0; m < 5; m++) {
			j = 5 + 6 * m
			if ($(j + 5) == "") continue
			k = $2 "/" m
			e = $j - $(j + 5); z = $(j + 4) - $(j + 5)
			err[k] += e < 0 ? -e : e
			ref[k] += z < 0 ? -z : z
		}
	}
	END {
		for (k in err) if (ref[k] > 0) { s += err[k] / ref[k]; n++ }
		printf "%.4f\n", s / n
	}'
}
ma=$(mase "$T/ra.shd")
mb=$(mase "$T/rb.shd")
echo "# relative MAE on the unseen resources: fitted $ma, trained on them $mb"
awk -v a="$ma" -v b="$mb" 'BEGIN { exit !(a > 0 && a <= 1.2 * b) }' ||
	fail "fitted resources: $ma, more than 20% above the trained model's $mb"

# the same forecasts when the input ends earlier: nothing after --from
# reaches the fit
shd-cat --to 2024-01-25T00:00:00Z "$T/fleet.shd" | shd-ingest -q -i 5m \
	-o "$T/early.shd"
shd-predict -q -m "$T/a.model" --rolling --from $cut "$T/early.shd" \
	-o "$T/re.shd" 2>/dev/null
cols=time,resource,origin,step,cpu.pred,cpu.lo,cpu.hi,net_out.pred,net_out.hi
shd-cat -H -e -c $cols "$T/re.shd" |
	awk -F, '$3 < 1706140800 - 900' >"$T/re.csv"
shd-cat -H -e -c $cols "$T/ra.shd" | awk -F, '$3 < 1706140800 - 900' >"$T/ra.csv"
[ -s "$T/re.csv" ] || fail "no rows before the early end"
# Bit for bit where lstm.c does the products itself (OpenBLAS on its
# fallback kernels, as Debian 12's takes newer Xeons); to rounding where
# cblas_sgemm does them: OpenBLAS's Haswell kernels give a row other last
# bits in a batch of another shape, and the batches of a rolling forecast
# are the input's origins (valgrind's CPU has no AVX-512, so OpenBLAS
# takes it for a Haswell: make check-valgrind; OPENBLAS_CORETYPE=Haswell
# shows it without valgrind, 5.6e-9 at most). Data after --from seen by a
# fit would change the forecasts far more than 1e-6.
cmp -s "$T/re.csv" "$T/ra.csv" ||
	paste -d, "$T/re.csv" "$T/ra.csv" | awk -F, -v rows="$(wc -l <"$T/ra.csv")" \
		-v n="$(head -n 1 "$T/re.csv" | awk -F, '{ print NF }')" '
	{
		if (NF != 2 * n) exit 1
		for (i = 1; i <= 4; i++) if ($i != $(i + n)) exit 1
		for (i = 5; i <= n; i++) {
			a = $i + 0; b = $(i + n) + 0; d = a - b
			if (d < 0) d = -d
			if (d > 1e-6 * ((a < 0 ? -a : a) + 1e-12)) exit 1
		}
	}
	END { if (NR != rows + 0) exit 1 }' ||
	fail "the fit of an unseen resource saw data after --from"

# --------------------------------------------------------- --known-only
expect_status 0 shd-predict --known-only -m "$T/a.model" "$T/fleet.shd" \
	-o "$T/k.shd"
expect_err "3 resources not in model '$T/a.model', not forecast: 'db-1', 'idle-1', 'web-2'"
grep -q fitted "$T/err" && fail "--known-only: fitted"
[ "$(count_rows "$T/k.shd")" = 9 ] || fail "--known-only: want 3 x 3 rows"
# the known ones are forecast as before
shd-cat -H -e "$T/k.shd" >"$T/k.csv"
shd-cat -H -e "$T/p.shd" | grep -e ',web-1,' -e ',cache-1,' -e ',batch-1,' |
	cmp -s - "$T/k.csv" || fail "fitting changed the known resources' forecasts"

# ------------------------------------------------- too little history
# a stranger with its last two hours only: left out with the old warning;
# the others (known, or long enough) forecast
{
	pick "$T/fleet.csv" '^(web-1|db-1)$'
	pick "$T/fleet.csv" '^idle-1$' | sed 's/,idle-1,/,stranger,/' |
		awk -F, 'NR > 1 && $1 >= "2024-01-28T22:00:00Z"'
} | shd-ingest -q -i 5m -o "$T/short.shd"
expect_status 0 shd-predict -m "$T/a.model" "$T/short.shd" -o "$T/ps.shd"
expect_err "1 resource not in model '$T/a.model', not forecast: 'stranger' (too little history to fit it: [0-9]* samples needed)"
expect_err "1 resource not in model '$T/a.model': fitted from its own history (5 series: .*): 'db-1'"
[ "$(shd-cat -H -c resource "$T/ps.shd" | sort -u | tr '\n' ' ')" = "db-1 web-1 " ] ||
	fail "short: forecast $(shd-cat -H -c resource "$T/ps.shd" | sort -u)"
# a rolling replay from the first hours: no history before --from to fit
expect_status 0 shd-predict -m "$T/a.model" --rolling \
	--from 2024-01-01T04:00:00Z --to 2024-01-01T05:00:00Z "$T/fleet.shd" \
	-o "$T/pe.shd"
expect_err "3 resources not in model '$T/a.model', not forecast: 'db-1', 'idle-1', 'web-2' (too little history before --from to fit them: [0-9]* samples needed)"
[ "$(shd-cat -H -c resource "$T/pe.shd" | sort -u | tr '\n' ' ')" = "batch-1 cache-1 web-1 " ] ||
	fail "early --from: forecast $(shd-cat -H -c resource "$T/pe.shd" | sort -u)"
# nothing known and nothing long enough: exit 3, nothing written
pick "$T/fleet.csv" '^idle-1$' | awk -F, 'NR == 1 || $1 >= "2024-01-28T22:00:00Z"' |
	shd-ingest -q -i 5m -o "$T/short2.shd"
expect_status 3 shd-predict -m "$T/a.model" "$T/short2.shd" -o "$T/ps2.shd"
expect_err "'idle-1' (too little history"
expect_err "nothing to forecast (no resource of the input is in the model or has the history to be fitted)"
[ ! -e "$T/ps2.shd" ] || fail "nothing forecast, yet a file written"

# ------------------------------------------------ a per-resource model
# shellcheck disable=SC2086
shd-train -q $topts --per-resource --max-windows 500 -o "$T/pr.model" \
	"$T/known.shd" || fail "shd-train --per-resource"
expect_status 0 shd-predict -m "$T/pr.model" "$T/fleet.shd" -o "$T/pr.shd"
expect_err "fitted from their own history"
grep -q 'lstm' "$T/err" && fail "per-resource: an unseen resource chose lstm"
[ "$(count_rows "$T/pr.shd")" = 18 ] || fail "per-resource: want 6 x 3 rows"
check_rows "$T/pr.shd"
# --method lstm: no network for them, so their autoregression
shd-predict -q -m "$T/pr.model" --method lstm "$T/fleet.shd" 2>/dev/null |
	shd-cat -H -e -r web-2 -r db-1 -r idle-1 >"$T/pl.csv"
shd-predict -q -m "$T/pr.model" --method ar "$T/fleet.shd" 2>/dev/null |
	shd-cat -H -e -r web-2 -r db-1 -r idle-1 >"$T/pa.csv"
{ [ -s "$T/pl.csv" ] && cmp -s "$T/pl.csv" "$T/pa.csv"; } ||
	fail "per-resource --method lstm: not the autoregression for the unseen"
exit 0
