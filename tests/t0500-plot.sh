#!/bin/sh
# shd-plot on the sample fleet (data/fleet.csv.gz): the gnuplot script
# (--script: data blocks, multiplot, the default and given windows, units,
# limits, alerts, journal marks, NaN as gaps, shd-replay's allocation
# stream and --policies) always; with gnuplot, PNG, SVG and PDF images of
# the requested size (the PNG signature and IHDR read with od), a rolling
# forecast, the policies replayed, and a failed gnuplot leaving the old
# image whole; the errors: unknown resource, several resources without
# -r, a truncated stream, no -o, no gnuplot, bad journal lines, an
# unknown policy.
. "$SHD_TESTS/lib.sh"

command -v shd-plot >/dev/null 2>&1 || skip "no shd-plot"

fleet_alerts
shd-cat -H "$T/alerts.shd" | grep -q ',web-2,cpu,.*,critical,' ||
	fail "no critical cpu alert for web-2: $(shd-cat "$T/alerts.shd")"

# the data rows of block NAME of script FILE
block() {
	sed -n "/^\\$1 << EOD\$/,/^EOD\$/p" "$2" | sed '1d;$d'
}

# ------------------------------------------------------------ --script
# the forecast from the latest time (2024-01-28T23:55Z, 12 steps of 5
# minutes), the history, the alerts and a limit
expect_status 0 shd-plot -r web-2 --limit cpu=8 --script \
	"$T/fleet.shd" "$T/fc.shd" "$T/alerts.shd"
cp "$T/out" "$T/s.gp"
for want in 'set multiplot layout 5,1 ' 'unset multiplot' \
    '^\$act1 << EOD$' '^\$fc1 << EOD$' '^\$band1 << EOD$' \
    '^\$kept1 << EOD$' "set ylabel 'cpu (%)'" "set ylabel 'mem (MiB)'" \
    "title 'limit 8'" "title '90% interval'" \
    "title 'web-2: forecast from 2024-01-28 23:55 UTC'" \
    'with filledcurves'; do
	grep -q -- "$want" "$T/s.gp" || fail "--script lacks '$want'"
done
# the default window: 2 days before the origin to the end of the forecast
grep -q '^set xrange \[1706313300:1706489700\]$' "$T/s.gp" ||
	fail "default window: $(grep xrange "$T/s.gp")"
# two days of 5-minute history, both ends in (the data ends at the origin)
[ "$(block '$act1' "$T/s.gp" | wc -l)" = 577 ] ||
	fail "history: $(block '$act1' "$T/s.gp" | wc -l) rows"
# the forecast starts at the value at the origin, then 12 steps
[ "$(block '$fc1' "$T/s.gp" | wc -l)" = 13 ] ||
	fail "forecast rows: $(block '$fc1' "$T/s.gp")"
block '$fc1' "$T/s.gp" | head -n 1 | grep -q '^1706486100 ' ||
	fail "the forecast does not start at the origin"
# the alert at (origin, cur)
block '$kept1' "$T/s.gp" | grep -q '^1706486100 [0-9]' ||
	fail "alert: $(block '$kept1' "$T/s.gp")"
if grep -Eiq '(^| )-?nan( |$)' "$T/s.gp"; then
	fail "NaN written as data"
fi

# --metrics, --from/--to, --title, a journal (done changes of web-2 only)
cat >"$T/journal" <<'EOF'
{"time":"2024-01-28T20:00:00.000Z","event":"intent","plan":"p1","action":0,"resource":"web-2","knob":"replicas","from":2,"to":4,"executor":"kubectl"}
{"time":"2024-01-28T20:00:01.000Z","event":"done","plan":"p1","action":0,"resource":"web-2","knob":"replicas","from":2,"to":4,"executor":"kubectl"}
{"time":"2024-01-28T21:00:00.000Z","event":"done","plan":"p2","action":0,"resource":"web-1","knob":"replicas","from":1,"to":3,"executor":"kubectl"}
{"time":"2024-01-28T22:00:00.000Z","event":"done","plan":"p3","action":0,"resource":"web-2","knob":"memory","from":268435456,"to":536870912,"executor":"kubectl"}
EOF
# a last line cut short by a crash: left out, as shd-apply does
printf '%s' '{"time":"2024-01-28T22:30:00.000Z","event":"do' >>"$T/journal"
expect_status 0 shd-plot -r web-2 --metrics mem,cpu --from 2024-01-28T18:00:00Z \
	--to 2024-01-29T01:00:00Z --title 'web two' --journal "$T/journal" \
	--script "$T/fleet.shd" "$T/fc.shd"
cp "$T/out" "$T/s2.gp"
grep -q 'set multiplot layout 2,1 .* title '"'web two'" "$T/s2.gp" ||
	fail "--metrics/--title: $(grep multiplot "$T/s2.gp")"
grep -q '^set xrange \[1706464800:1706490000\]$' "$T/s2.gp" ||
	fail "--from/--to: $(grep xrange "$T/s2.gp")"
# mem first; within a day: HH:MM and the date as the axis label
sed -n '/# panel 1/,/# panel 2/p' "$T/s2.gp" | grep -q "ylabel 'mem (MiB)'" ||
	fail "--metrics order"
grep -q "set format x '%H:%M' timedate" "$T/s2.gp" || fail "time format"
grep -q "set xlabel '2024-01-28 to 2024-01-29 (UTC)'" "$T/s2.gp" ||
	fail "x label: $(grep xlabel "$T/s2.gp")"
grep -q "set label 'replicas 2->4' at 1706472001," "$T/s2.gp" ||
	fail "journal mark: $(grep 'set label' "$T/s2.gp")"
grep -q "set label 'memory 256Mi->512Mi' at 1706479200," "$T/s2.gp" ||
	fail "journal memory mark: $(grep 'set label' "$T/s2.gp")"
[ "$(grep -c "set label '" "$T/s2.gp")" = 2 ] ||
	fail "marks of other resources or intents drawn"
# the state directory works as --journal too
mkdir "$T/state" && cp "$T/journal" "$T/state/journal"
expect_status 0 shd-plot -r web-2 --journal "$T/state" --script \
	"$T/fleet.shd" "$T/fc.shd"
grep -q "set label 'replicas 2->4'" "$T/out" || fail "--journal DIR"

# the forecast alone: its actual columns make the actual line; from stdin
expect_status 0 sh -c "shd-plot -r web-2 --script <'$T/fc.shd'"
grep -q '^\$act1 << EOD$' "$T/out" || fail "no actual from the forecast"

# NaN and holes are gaps (blank lines), never zeros
{
	echo 'time,resource,cpu'
	for i in 0 1 2 3 4 5 6 7 8 9; do
		v=$((10 + i)); case $i in 3|4) v= ;; esac
		echo "2024-01-01T00:$((i * 5 / 10))$((i * 5 % 10)):00Z,h,$v"
	done
	echo '2024-01-01T02:00:00Z,h,30'
} >"$T/gap.csv"
shd-ingest -q "$T/gap.csv" -o "$T/gap.shd"
expect_status 0 shd-plot --script "$T/gap.shd"
block '$act1' "$T/out" >"$T/gap.rows"
[ "$(grep -c '^$' "$T/gap.rows")" = 2 ] ||
	fail "gaps: $(cat "$T/gap.rows")"
if grep -q ' 0$' "$T/gap.rows"; then fail "a missing value became 0"; fi

# ------------------------------------------------ the allocation stream
# shd-replay on a rolling forecast of the last two days (as t0700-replay)
shd-predict -q -m "$T/m.model" --rolling --from 2024-01-27T00:00:00Z \
	-o "$T/roll.shd" "$T/fleet.shd" || fail "shd-predict --rolling failed"
shd-replay -q --derive-config "$T/d.json" -o "$T/alloc.shd" "$T/roll.shd" ||
	fail "shd-replay failed"
expect_status 0 shd-plot -r web-2 -c "$T/d.json" --script "$T/alloc.shd"
cp "$T/out" "$T/a.gp"
for want in 'set multiplot layout 2,1 ' "set ylabel 'allocation'" \
    "set ylabel 'cpu under each policy (%)'" "title 'limit 90'" \
    "title 'web-2: policies replayed on cpu'"; do
	grep -q -- "$want" "$T/a.gp" || fail "allocation --script lacks '$want'"
done
# a block per policy in each panel, every step (two days of 5 minutes)
k=0
for p in static reactive percentile shd; do
	k=$((k + 1))
	for pn in 1 2; do
		[ "$(block "\$ser${pn}_${k}_$p" "$T/a.gp" | wc -l)" = 576 ] ||
			fail "policy $p, panel $pn: $(block "\$ser${pn}_${k}_$p" \
				"$T/a.gp" | wc -l) rows"
	done
done
# the allocations as steps, a colour each, shd's last and thicker; the
# limit on the utilization only
[ "$(grep -c ' with steps lc rgb ' "$T/a.gp")" = 4 ] ||
	fail "steps: $(grep 'with steps' "$T/a.gp")"
[ "$(grep ' with steps ' "$T/a.gp" | sed "s/.*lc rgb '\([^']*\)'.*/\1/" |
	sort -u | wc -l)" = 4 ] || fail "the policies share colours"
grep ' with steps ' "$T/a.gp" | tail -n 1 | grep -q "lw 3 title 'shd'" ||
	fail "shd is not drawn last and thicker"
if sed -n '/# panel 1/,/# panel 2/p' "$T/a.gp" | grep -q 'limit'; then
	fail "a limit on the allocation"
fi
# alone: the whole span of the stream, 2024-01-27 00:00 to 01-28 23:55
grep -q '^set xrange \[1706313600:1706486100\]$' "$T/a.gp" ||
	fail "allocation window: $(grep xrange "$T/a.gp")"
# --policies, --limit over the configuration's
expect_status 0 shd-plot -r web-2 -c "$T/d.json" --limit cpu=80 \
	--policies shd,static --script "$T/alloc.shd"
[ "$(grep -c ' with steps ' "$T/out")" = 2 ] ||
	fail "--policies shd,static: $(grep 'with steps' "$T/out")"
if grep -q 'reactive\|percentile' "$T/out"; then
	fail "--policies: other policies drawn"
fi
grep -q "title 'limit 80'" "$T/out" || fail "--limit on the utilization"
# with the other kinds: after the metric panels, on their time axis
expect_status 0 shd-plot -r web-2 --limit cpu=8 --script "$T/alloc.shd" \
	"$T/fleet.shd" "$T/fc.shd" "$T/alerts.shd"
grep -q 'set multiplot layout 7,1 ' "$T/out" ||
	fail "with the others: $(grep multiplot "$T/out")"
grep -q "^# panel 6: 'allocation'$" "$T/out" &&
	grep -q "^# panel 7: 'cpu under each policy'$" "$T/out" ||
	fail "the allocation panels are not last: $(grep '^# panel' "$T/out")"
grep -q '^set xrange \[1706313300:1706489700\]$' "$T/out" ||
	fail "window with the others: $(grep xrange "$T/out")"
[ "$(grep -c "title 'limit 8'" "$T/out")" = 2 ] ||
	fail "the cpu limit on both cpu panels"
expect_status 2 shd-plot -r web-2 --policies bogus --script "$T/alloc.shd"
expect_err "no policy 'bogus'"
expect_status 2 shd-plot --script "$T/alloc.shd"
expect_err "choose one with -r"

# ---------------------------------------------------------------- errors
expect_status 3 shd-plot -r nosuch --script "$T/fleet.shd" "$T/fc.shd"
expect_err "no rows of resource 'nosuch'"
expect_status 2 shd-plot --script "$T/fleet.shd"
expect_err "several resources (.*web-1.*): choose one with -r"
head -c 3000 "$T/fleet.shd" >"$T/cut.shd"
expect_status 3 shd-plot -r web-2 --script "$T/cut.shd"
expect_err "cut.shd"
expect_status 3 shd-plot -r web-2 --script "$T/m.model"
expect_status 2 shd-plot -r web-2 "$T/fleet.shd"
expect_err "give -o FILE"
expect_status 2 shd-plot -r web-2 -o "$T/x.jpg" "$T/fleet.shd"
expect_status 2 shd-plot -r web-2 -r web-1 --script "$T/fleet.shd"
expect_status 2 shd-plot -r web-2 --script "$T/fc.shd" "$T/fc.shd"
expect_err "two forecast streams"
expect_status 2 shd-plot -r web-2 --size 10x10 --script "$T/fc.shd"
expect_status 2 shd-plot -r web-2 --limit cpu --script "$T/fc.shd"
expect_status 3 shd-plot -r web-2 --from 2030-01-01 --script "$T/fc.shd"
expect_err "nothing of 'web-2' to draw"
printf '{"time":"2024-01-28T20:00:00Z","event":"done"}\nnot json\n' \
	>"$T/badj"
expect_status 3 shd-plot -r web-2 --journal "$T/badj" --script "$T/fc.shd"
expect_err "badj:2: not JSON"
expect_status 3 shd-plot -r web-2 --journal "$T/nojournal" --script \
	"$T/fc.shd"
expect_status 4 env SHD_GNUPLOT=/nonexistent shd-plot -r web-2 \
	-o "$T/x.png" "$T/fc.shd"
expect_err "gnuplot not found: install gnuplot-nox"
[ ! -e "$T/x.png" ] || fail "no gnuplot, yet an image"

# --------------------------------------------------------------- images
gp=${SHD_GNUPLOT:-gnuplot}
if ! command -v "$gp" >/dev/null 2>&1; then
	echo "note: no gnuplot (scripts/deps installs gnuplot-nox): images not rendered"
	exit 0
fi

# png_size FILE: "W H" from the IHDR chunk, after the PNG signature
png_size() {
	[ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		fail "$1: not a PNG: $(od -An -c -N8 "$1")"
	[ "$(od -An -c -j12 -N4 "$1" | tr -d ' \n')" = IHDR ] ||
		fail "$1: no IHDR chunk first"
	od -An -tu1 -j16 -N8 "$1" | tr -s ' \n' ' ' | awk '{
		printf "%d %d\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4,
			(($5 * 256 + $6) * 256 + $7) * 256 + $8 }'
}

# history + the forecast + alerts + a limit: 5 panels of 1000 x 250
expect_status 0 shd-plot -r web-2 --limit cpu=8 -o "$T/web-2.png" \
	"$T/fleet.shd" "$T/fc.shd" "$T/alerts.shd"
expect_err "web-2.png: web-2, 5 panels, 1000x1250"
[ "$(png_size "$T/web-2.png")" = "1000 1250" ] ||
	fail "web-2.png is $(png_size "$T/web-2.png"), want 1000 1250"
[ "$(wc -c <"$T/web-2.png")" -gt 20000 ] || fail "web-2.png is nearly empty"

# a rolling forecast (a replay), 3 steps ahead, in a size given
shd-predict -q -m "$T/m.model" --rolling --from 2024-01-28T00:00:00Z \
	--to 2024-01-28T12:00:00Z -o "$T/roll.shd" "$T/fleet.shd" ||
	fail "shd-predict --rolling failed"
expect_status 0 shd-plot -q -r db-1 --step 3 --metrics cpu,mem \
	--size 900x640 -o "$T/roll.png" "$T/fleet.shd" "$T/roll.shd"
[ "$(png_size "$T/roll.png")" = "900 640" ] ||
	fail "roll.png is $(png_size "$T/roll.png"), want 900 640"
expect_status 0 shd-plot -r db-1 --step 3 --script "$T/roll.shd"
grep -q "forecasts 15 min ahead" "$T/out" || fail "rolling: title"
expect_status 2 shd-plot -r db-1 --step 13 -o "$T/r.png" "$T/roll.shd"
expect_err "horizon is 12"

# the policies replayed on web-2, in a size given
expect_status 0 shd-plot -r web-2 -c "$T/d.json" --size 1000x600 \
	-o "$T/alloc.png" "$T/alloc.shd"
expect_err "alloc.png: web-2, 2 panels, 1000x600"
[ "$(png_size "$T/alloc.png")" = "1000 600" ] ||
	fail "alloc.png is $(png_size "$T/alloc.png"), want 1000 600"
[ "$(wc -c <"$T/alloc.png")" -gt 20000 ] || fail "alloc.png is nearly empty"

# SVG and PDF
expect_status 0 shd-plot -q -r web-2 --metrics cpu,mem -o "$T/web-2.svg" \
	"$T/fleet.shd" "$T/fc.shd" "$T/alerts.shd"
grep -q '<svg' "$T/web-2.svg" && grep -q 'width="1000" height="500"' \
	"$T/web-2.svg" || fail "web-2.svg: $(head -c 300 "$T/web-2.svg")"
tail -c 20 "$T/web-2.svg" | grep -q '</svg>' || fail "web-2.svg is cut short"
expect_status 0 shd-plot -q -r web-2 -o "$T/web-2.pdf" "$T/fc.shd"
[ "$(head -c 5 "$T/web-2.pdf")" = "%PDF-" ] || fail "web-2.pdf: not a PDF"
grep -aq '%%EOF' "$T/web-2.pdf" || fail "web-2.pdf is cut short"

# gnuplot failing: status 4, the old image whole, no temporary file left
cp "$T/web-2.png" "$T/keep.png"
# (the lists themselves and expect_status's files left out)
ls "$T" | grep -v '^out$\|^err$\|^before$\|^after$' >"$T/before"
mkdir "$T/tmp"
expect_status 4 env SHD_GNUPLOT=false TMPDIR="$T/tmp" shd-plot -r web-2 \
	-o "$T/web-2.png" "$T/fc.shd"
expect_err "gnuplot failed"
[ -z "$(ls "$T/tmp")" ] || fail "the script was left in TMPDIR: $(ls "$T/tmp")"
expect_status 0 env TMPDIR="$T/tmp" shd-plot -q -r web-2 -o "$T/t.png" \
	"$T/fc.shd"
[ -z "$(ls "$T/tmp")" ] || fail "the script was left in TMPDIR: $(ls "$T/tmp")"
rm -r "$T/tmp" "$T/t.png"
cmp -s "$T/web-2.png" "$T/keep.png" || fail "a failed run changed the image"
ls "$T" | grep -v '^out$\|^err$\|^before$\|^after$' >"$T/after"
cmp -s "$T/before" "$T/after" ||
	fail "a failed run left files behind: $(ls "$T")"
exit 0
