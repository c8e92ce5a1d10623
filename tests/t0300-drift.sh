#!/bin/sh
# shd-drift on a replay of the NAB sample (data/nab): the alert stream's
# columns, exit statuses (1 alerts kept, 0 none), severities and breach_in,
# --json, --latest, the filter (--learn, --show, --filter), --eval against
# NAB windows and limits, and the failures (truncated or foreign streams,
# bad limits, events and filter files).
. "$SHD_TESTS/lib.sh"

command -v shd-drift >/dev/null 2>&1 || skip "no shd-drift"

# train on the first 15% of each series (NAB's probation), replay it all
for f in "$DATA"/nab/*.csv; do
	n=$(wc -l <"$f")
	head -n $(( (n - 1) * 15 / 100 + 1 )) "$f" >"$T/$(basename "$f")"
done
shd-ingest -q "$T"/*.csv -o "$T/prob.shd"
shd-ingest -q "$DATA"/nab/*.csv -o "$T/all.shd"
shd-train -q --hidden 8 --epochs 1 --max-windows 2000 --horizon 6 \
	-o "$T/m.model" "$T/prob.shd" || fail "shd-train failed"
shd-predict -q -m "$T/m.model" --rolling --method ar "$T/all.shd" \
	-o "$T/fc.shd" || fail "shd-predict failed"

# ------------------------------------------------------ the alert stream
expect_status 1 shd-drift -q "$T/fc.shd" -o "$T/a.shd"
[ ! -s "$T/out" ] || fail "-o: wrote to stdout"
want=time,resource,metric,score,severity,pred,cur,conf,breach_in,step
want=$want,ahead,surprise,kept,reason,peak,peak_hi
[ "$(shd-cat "$T/a.shd" | head -n 1)" = "$want" ] ||
	fail "columns: $(shd-cat "$T/a.shd" | head -n 1)"
shd-cat -H "$T/a.shd" >"$T/a.csv"
[ -s "$T/a.csv" ] || fail "no alerts on NAB"
# no limit: every alert a warning; kept ones have no reason, suppressed a
# reason; steps within the horizon; a hold means fewer kept than scored
awk -F, '$5 != "warning" { print "severity " $5; bad++ }
	 $10 < 1 || $10 > 6 { print "step " $10; bad++ }
	 $13 == 1 && $14 != "" { print "kept with reason"; bad++ }
	 $13 == 0 && $14 == "" { print "suppressed without reason"; bad++ }
	 $13 == 0 { held++ }
	 END { if (!held) { print "no repeat held"; bad++ } exit bad > 0 }' \
	"$T/a.csv" || fail "alert rows"
grep -q ',0,repeat,' "$T/a.csv" || fail "no 'repeat' reason"

# nothing above the thresholds, the range check off: exit 0 and no rows
# (cron: && echo quiet)
expect_status 0 shd-drift -q --threshold 1e300 --surprise 1e300 \
	--range-tol 0 -o "$T/none.shd" "$T/fc.shd"
[ "$(shd-cat -H "$T/none.shd" | wc -l)" = 0 ] || fail "quiet run has rows"

# --all: every origin of every series (info included)
shd-drift -q --all --threshold 1e300 --surprise 1e300 "$T/fc.shd" \
	-o "$T/all-a.shd" || true
origins=$(shd-cat -H -c origin "$T/fc.shd" | sort -u | wc -l)
[ "$(shd-cat -H "$T/all-a.shd" | wc -l)" -ge "$origins" ] ||
	fail "--all: fewer rows than origins"
shd-cat -H "$T/all-a.shd" | grep -q ',info,' || fail "--all: no info row"

# a limit every value reaches: critical, breach_in 0 (unless cur is missing)
shd-drift -q --limit value=-1 "$T/fc.shd" -o "$T/c.shd" || true
shd-cat -H "$T/c.shd" | awk -F, '$5 != "critical" || ($7 != "" && $9 != 0) { bad++ }
	END { exit bad > 0 || NR == 0 }' || fail "--limit: not critical"
# a limit between cur and a forecast: breach_in a multiple of 5 minutes
shd-drift -q --all --limit value=1e300 "$T/fc.shd" -o "$T/n.shd" || true
shd-cat -H "$T/n.shd" | grep -q critical && fail "unreachable limit critical"
shd-drift -q --json --bound hi --limit value=60 "$T/fc.shd" >"$T/hi.json" ||
	true
grep '"severity":"critical"' "$T/hi.json" |
	grep -v '"breach_in":0' | grep -q '"breach_in":[1-9]' ||
	fail "--bound hi: no breach ahead"
grep '"breach_in":[1-9]' "$T/hi.json" | sed 's/.*"breach_in":\([0-9.]*\).*/\1/' |
	awk '$1 % 300 != 0 { bad++ } END { exit bad > 0 }' ||
	fail "breach_in not a multiple of the step"

# --json: one object per line, the same alerts as the stream
shd-drift -q --json "$T/fc.shd" >"$T/a.json" || true
[ "$(wc -l <"$T/a.json")" = "$(wc -l <"$T/a.csv")" ] ||
	fail "--json: not as many alerts as the stream"
head -n 1 "$T/a.json" | grep -q '^{"time":"20[0-9-]*T[0-9:]*Z","resource":' ||
	fail "--json: $(head -n 1 "$T/a.json")"

# --latest: alerts of each resource's newest origin only
shd-drift -q --latest --all "$T/fc.shd" -o "$T/l.shd" || true
[ "$(shd-cat -H "$T/l.shd" | wc -l)" = 4 ] || fail "--latest --all: not 4"
[ "$(shd-cat -H -c time "$T/l.shd" | sort -u | wc -l)" -le 4 ] ||
	fail "--latest: several origins"

# --kept-only leaves out what was held or filtered
shd-drift -q --kept-only "$T/fc.shd" -o "$T/k.shd" || true
shd-cat -H -c kept "$T/k.shd" | grep -qv '^1$' && fail "--kept-only: kept 0"

# ---------------------------------------------------------------- filter
expect_status 0 shd-drift --learn "$T/f.json" "$T/fc.shd"
expect_err 'learned from [0-9]* candidates'
expect_status 0 shd-drift --show "$T/f.json"
grep -q '"features"' "$T/out" || fail "--show: no features"
grep -q 'series remembered: 4' "$T/out" || fail "--show: series"
shd-drift -q --filter "$T/f.json" "$T/fc.shd" -o "$T/fa.shd" || true
shd-cat -H -c kept,reason "$T/fa.shd" | sort -u >"$T/reasons"
grep -Eq '^0,(transient|recurring|event)$' "$T/reasons" ||
	fail "--filter: nothing suppressed ($(cat "$T/reasons"))"
# --learn with --eval: p_min from the labelled windows
expect_status 0 shd-drift --learn "$T/f3.json" \
	--eval "$DATA/nab/combined_windows.json" "$T/fc.shd"
expect_err 'p_min [0-9.e-]* from [0-9]* windows'
expect_err 'learned from [0-9]* candidates'
# a stricter p-min suppresses at least as much
shd-drift -q --filter "$T/f.json" --p-min 0.9 "$T/fc.shd" -o "$T/fb.shd" ||
	true
[ "$(shd-cat -H -c kept "$T/fb.shd" | grep -c '^0')" -ge \
  "$(shd-cat -H -c kept "$T/fa.shd" | grep -c '^0')" ] ||
	fail "--p-min 0.9 suppressed less"
# events shortly before every origin: the feature is set (learns again)
echo "time,resource" >"$T/ev.csv"
shd-cat -H -c origin "$T/fc.shd" | sort -u | awk 'NR % 50 == 1' >>"$T/ev.csv"
expect_status 0 shd-drift --events "$T/ev.csv" --event-window 5h \
	--learn "$T/f2.json" "$T/fc.shd"
printf 'time\nnot-a-time\n' >"$T/bad-ev.csv"
expect_status 3 shd-drift --events "$T/bad-ev.csv" "$T/fc.shd"
expect_err 'bad-ev.csv:2:'

# -------------------------------------------------------------- evaluation
expect_status 0 shd-drift --eval "$DATA/nab/combined_windows.json" \
	--hold 72 "$T/fc.shd"
grep -q '^ec2_cpu_utilization_24ae8d  *2 ' "$T/out" || fail "--eval: file row"
grep -q '^normalized' "$T/out" || fail "--eval: no normalized score"
printf 'resource,metric,limit\nrds_cpu_utilization_cc0c53,value,40\n' \
	>"$T/limits.csv"
expect_status 0 shd-drift --eval "$DATA/nab/combined_windows.json" \
	--limits "$T/limits.csv" "$T/fc.shd"
grep -q '^value: 1 series with a limit, [0-9]* breaches' "$T/out" ||
	fail "--eval: breaches"

# ------------------------------------------------------------------ failures
head -c 3000 "$T/fc.shd" >"$T/trunc.shd"
expect_status 3 shd-drift -q "$T/trunc.shd" -o "$T/t.shd"
[ ! -e "$T/t.shd" ] || fail "a failed run left its output"
expect_status 3 shd-drift -q "$T/all.shd" -o "$T/t.shd"
expect_err 'not a forecast stream'
expect_status 2 shd-drift --limit 80 "$T/fc.shd"
expect_err 'say which metric'
expect_status 2 shd-drift --threshold value=-1 "$T/fc.shd"
expect_status 2 shd-drift --bound up "$T/fc.shd"
printf 'r,value\n' >"$T/bad-limits.csv"
expect_status 3 shd-drift --limits "$T/bad-limits.csv" "$T/fc.shd"
expect_err 'bad-limits.csv:1: expected RESOURCE,METRIC,LIMIT'
expect_status 4 shd-drift --filter "$T/missing.json" "$T/fc.shd"
echo '{"shd_filter": 1, "features": []}' >"$T/bad.json"
expect_status 3 shd-drift --filter "$T/bad.json" "$T/fc.shd"
expect_err 'bad.json: \$.features'
echo 'not json' >"$T/bad2.json"
expect_status 3 shd-drift --show "$T/bad2.json"
expect_status 3 shd-drift --eval "$T/bad2.json" "$T/fc.shd"
expect_status 2 shd-drift --learn "$T/x.json" --filter "$T/f.json" "$T/fc.shd"
expect_status 2 shd-drift --range-tol -1 "$T/fc.shd"
: >"$T/empty.shd"
expect_status 3 shd-drift "$T/empty.shd"
exit 0
