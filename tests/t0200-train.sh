#!/bin/sh
# shd-train: ingest | train writes a model and a report; --report reads it
# back; a seed gives the same bytes; a damaged stream,
# text, too short a stream and bad options fail with the right status; and
# on the NAB series (when ../shared/data is there) the chosen methods are
# never worse than the autoregression on validation.
. "$SHD_TESTS/lib.sh"

tiny="--hidden 8 --epochs 2 --max-windows 2000 --lookback 24"

shd-ingest -q -i 5m "$DATA/fleet.csv.gz" -o "$T/fleet.shd"

# train; the report goes to stderr, nothing to stdout
expect_status 0 shd-train $tiny -o "$T/fleet.model" "$T/fleet.shd"
[ -s "$T/fleet.model" ] || fail "no model written"
[ ! -s "$T/out" ] || fail "shd-train wrote to stdout"
expect_err '^validation MASE, mean over 30 series'
for m in lstm ar last snaive_day snaive_week '(chosen)'; do
	grep -q "^$m " "$T/err" || fail "report lacks the row '$m'"
done
ls "$T" | grep -q '\.tmp' && fail "a temporary file was left"

# from standard input, and quiet
expect_status 0 sh -c "shd-train -q $tiny -o '$T/stdin.model' <'$T/fleet.shd'"
[ ! -s "$T/err" ] || fail "-q: stderr: $(cat "$T/err")"

# --report: the table on stdout
expect_status 0 shd-train --report "$T/fleet.model"
grep -q '^model .*: 6 resources, metrics cpu,mem,disk_io,net_in,net_out' \
	"$T/out" || fail "--report: no model line: $(cat "$T/out")"
grep -q '^snaive_day ' "$T/out" || fail "--report: no table"
grep -q 'windows/s' "$T/out" && fail "--report: a speed in the model file"

# the same seed: the same file, byte for byte (no clock in it)
for k in 1 2; do
	shd-train -q $tiny --seed 5 \
		-o "$T/same$k.model" "$T/fleet.shd" ||
		fail "seeded run $k failed"
done
cmp "$T/same1.model" "$T/same2.model" || fail "seeded runs differ"

# warm start: the old architecture is taken; another one is refused
expect_status 0 shd-train -q --epochs 1 --max-windows 500 \
	--init "$T/fleet.model" -o "$T/warm.model" "$T/fleet.shd"
expect_status 0 shd-train --report "$T/warm.model"
grep -q 'warm start' "$T/out" || fail "--init: not a warm start"
expect_status 3 shd-train -q --hidden 9 --init "$T/fleet.model" \
	-o "$T/x.model" "$T/fleet.shd"
expect_err "^shd-train: --init: .*hidden 8"
expect_status 3 shd-train -q --init "$T/fleet.shd" -o "$T/x.model" \
	"$T/fleet.shd"

# damaged or foreign input: 3, and no model
head -c 3000 "$T/fleet.shd" >"$T/cut.shd"
expect_status 3 shd-train -q $tiny -o "$T/cut.model" "$T/cut.shd"
expect_err '^shd-train: '
[ -e "$T/cut.model" ] && fail "a model was written from a cut stream"
echo "time,cpu" >"$T/text.csv"
expect_status 3 shd-train -q -o "$T/text.model" "$T/text.csv"
expect_status 3 shd-train -q -o "$T/x.model" "$T/no-such.shd"
expect_status 3 shd-train --report "$T/fleet.shd"

# too short: the resource is named
{
	echo "time,resource,cpu"
	i=0
	while [ $i -lt 60 ]; do
		echo "$((1700000000 + i * 300)),web-1,$((i % 7))"
		i=$((i + 1))
	done
} >"$T/short.csv"
shd-ingest -q -i 5m "$T/short.csv" -o "$T/short.shd"
expect_status 3 shd-train -q -o "$T/short.model" "$T/short.shd"
expect_err "^shd-train: resource 'web-1' has 60 samples, too few"

# usage
expect_status 2 shd-train "$T/fleet.shd"
expect_status 2 shd-train --hidden 0 -o "$T/x.model" "$T/fleet.shd"
expect_status 2 shd-train --split 0.8,0.3 -o "$T/x.model" "$T/fleet.shd"
expect_status 2 shd-train --horizon 5x -o "$T/x.model" "$T/fleet.shd"
expect_status 3 shd-train --metrics cpu,nope -o "$T/x.model" "$T/fleet.shd"
expect_err "nope"

# real data: the NAB series with a modest budget
nab="$SHARED/nab_aws/data"
[ -d "$nab" ] || skip "no $nab: NAB training not run"
shd-ingest -q -i 5m "$nab"/*/*.csv -o "$T/nab.shd"
expect_status 0 shd-train -q --horizon 12 --hidden 8 --epochs 1 \
	--max-windows 2000 -o "$T/nab.model" "$T/nab.shd"
expect_status 0 shd-train --report "$T/nab.model"
cat "$T/out"
ar=$(awk '$1 == "ar" { print $4 }' "$T/out")
chosen=$(awk '$1 == "(chosen)" { print $4 }' "$T/out")
awk -v a="$ar" -v c="$chosen" 'BEGIN { exit !(c + 0 <= a + 0) }' ||
	fail "NAB: the chosen methods' MASE $chosen is above the AR's $ar"
exit 0
