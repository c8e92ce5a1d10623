#!/bin/sh
# Faults (issue 10): a full disk (/dev/full, a small tmpfs) under a stream,
# a model, a plan and the journal; short reads and writes and EINTR (an
# LD_PRELOAD shim); SIGPIPE; kill -9 at random points of shd-train and
# shd-apply; a missing or unreadable state directory; a clock that jumps;
# memory bounded on hostile input (a 1 GB line, a million columns, a
# million keys, a block claiming 2^32-1 rows, an end marker 2^40), with
# the peak RSS measured.
#
# Not under valgrind (make check-valgrind): the LD_PRELOAD shim would be
# preloaded into valgrind itself, kill -9 at "random points" would hit
# valgrind's start-up rather than the program's writes, and the peak RSS
# would be valgrind's; ASan (make check-san) covers these runs.
if [ -n "${SHD_VALGRIND:-}" ]; then
	echo "not under valgrind: an LD_PRELOAD shim, kill -9 timing and peak RSS measure valgrind, not shd"
	exit 77
fi

# The full-disk part mounts a tmpfs: the test runs itself again in a
# private mount namespace (unshare -m), so the mount goes with it however
# it ends. Without one (not root, no unshare) that part is skipped.
if [ -z "${SHD_FAULTS_NS:-}" ] && command -v unshare >/dev/null 2>&1 &&
	unshare -m true 2>/dev/null; then
	SHD_FAULTS_NS=1 exec unshare -m sh "$0" "$@"
fi
. "$SHD_TESTS/lib.sh"

# The ASan build (make check-san): an LD_PRELOAD shim cannot come before
# the ASan runtime, and ASan's shadow memory and quarantine make the peak
# RSS mean nothing, so those two parts are skipped there.
san=0
if grep -q __asan_init "$SHD_BUILD/shd-cat" 2>/dev/null; then
	san=1
fi
SHIM="$SHD_BUILD/tests/shim-shortio.so"
CRAFT="$SHD_BUILD/tests/craft-stream"

# not_crashed: the stderr of the last expect_status shows no crash report
not_crashed() {
	if grep -q "Segmentation\|Aborted\|AddressSanitizer\|runtime error" "$T/err"; then
		cat "$T/err" >&2
		fail "a crash report on stderr"
	fi
}

# no_temps DIR: DIR holds no temporary file of an atomic write
no_temps() {
	for f in "$1"/*.tmp*; do
		[ -e "$f" ] && fail "temporary file left: $f"
	done
	:
}

# ---------------------------------------------------------------- data
# two resources, 1500 rows each: quick to train, also under ASan
zcat "$DATA/fleet.csv.gz" | awk -F, 'NR == 1 ||
	(($2 == "web-1" || $2 == "web-2") && ++n[$2] <= 1500)' >"$T/small.csv"
shd-ingest -q -i 5m -o "$T/small.shd" "$T/small.csv"
TRAIN="--horizon 6 --epochs 1 --hidden 4 --max-windows 300"
# shellcheck disable=SC2086
shd-train -q $TRAIN --seed 7 -o "$T/m.model" "$T/small.shd"
shd-predict -q -m "$T/m.model" -o "$T/fc.shd" "$T/small.shd"
shd-drift -q --limit cpu=8 --bound hi -o "$T/al.shd" "$T/fc.shd" || true
# a command executor that records what it was asked to do
cat >"$T/rec" <<EOF
#!/bin/sh
echo "\$1 \$2" >>"\$REC_LOG"
[ -z "\${REC_SLEEP:-}" ] || sleep "\$REC_SLEEP"
EOF
chmod +x "$T/rec"
cat >"$T/conf.json" <<EOF
{ "defaults": { "cooldown": "10m", "metrics": { "cpu": { "target": 0.01 } } },
  "resources": {
    "web-1": { "replicas": { "current": 1, "max": 50 },
      "executor": { "type": "command", "argv": ["$T/rec", "{resource}", "{to}"] } },
    "web-2": { "replicas": { "current": 1, "max": 50 },
      "executor": { "type": "command", "argv": ["$T/rec", "{resource}", "{to}"] } } } }
EOF
NOW=2024-01-06T05:00:00Z
set +e
shd-plan -q -c "$T/conf.json" --state "$T/s0" --now $NOW -o "$T/plan.json" "$T/al.shd"
rc=$?
set -e
[ "$rc" = 1 ] || fail "the plan of the fixture has no action (exit $rc)"
REC_LOG="$T/rec.log"
export REC_LOG

# ------------------------------------------------ a full disk: /dev/full
# Standard output on a full device: status 4 (system error, DESIGN.md),
# the message names it and ENOSPC; nothing crashes.
full_stdout() {
	expect_status 4 sh -c 'exec "$@" >/dev/full' sh "$@"
	expect_err "No space left on device"
	not_crashed
}
full_stdout shd-ingest -q "$T/small.csv"
full_stdout shd-cat "$T/small.shd"
full_stdout shd-cat --info "$T/small.shd"
full_stdout shd-predict -q -m "$T/m.model" "$T/small.shd"
full_stdout shd-drift -q --limit cpu=8 "$T/fc.shd"
full_stdout shd-plan -q -c "$T/conf.json" --state "$T/s0" --now $NOW "$T/al.shd"
# -o onto the device itself (written in place, as a FIFO would be)
expect_status 4 shd-predict -q -m "$T/m.model" -o /dev/full "$T/small.shd"
expect_err "/dev/full.*No space left on device"
expect_status 4 shd-drift -q --limit cpu=8 -o /dev/full "$T/fc.shd"
expect_err "/dev/full.*No space left on device"
expect_status 4 shd-ingest -q -o /dev/full "$T/small.csv"
expect_err "/dev/full.*No space left on device"
# shellcheck disable=SC2086
expect_status 4 shd-train -q $TRAIN -o /dev/full "$T/small.shd"
expect_err "/dev/full.*No space left on device"
expect_status 4 shd-plan -q -c "$T/conf.json" --state "$T/s0" --now $NOW \
	-o /dev/full "$T/al.shd"
expect_err "No space left on device"

# ------------------------------------------------ a full disk: a tmpfs
# FULL is a 1 MiB tmpfs holding the old files, filled up: every -o must
# fail with status 4, leave the old file byte for byte and no temporary
# file; the journal must not take a change it cannot record.
FULL="$T/full"
mkdir "$FULL"
if [ -n "${SHD_FAULTS_NS:-}" ] &&
	mount -t tmpfs -o size=1m,mode=0755 tmpfs "$FULL" 2>"$T/mount.err"; then
	trap 'umount "$FULL" 2>/dev/null; rm -rf "$T"' EXIT
	cp "$T/m.model" "$FULL/m.model"
	cp "$T/small.shd" "$FULL/s.shd"
	cp "$T/fc.shd" "$FULL/fc.shd"
	cp "$T/al.shd" "$FULL/al.shd"
	cp "$T/plan.json" "$FULL/plan.json"
	mkdir "$FULL/old"
	cp "$FULL"/*.* "$FULL/old/"
	# 16 KiB set aside, the rest filled: writes start, then fail
	dd if=/dev/zero of="$FULL/spare" bs=16k count=1 2>/dev/null
	dd if=/dev/zero of="$FULL/fill" bs=4k 2>/dev/null || true
	for free in some none; do
		if [ $free = none ]; then
			dd if=/dev/zero of="$FULL/fill2" bs=1k 2>/dev/null || true
		else
			rm -f "$FULL/spare"
		fi
		expect_status 4 shd-ingest -q -o "$FULL/s.shd" "$T/small.csv"
		expect_err "No space left on device"
		# shellcheck disable=SC2086
		expect_status 4 shd-train -q $TRAIN --seed 9 -o "$FULL/m.model" \
			"$T/small.shd"
		expect_err "No space left on device"
		if [ $free = none ]; then
			# these are small: they only fail on a full disk
			expect_status 4 shd-predict -q -m "$T/m.model" \
				-o "$FULL/fc.shd" "$T/small.shd"
			expect_err "No space left on device"
			expect_status 4 shd-drift -q --limit cpu=7 --bound hi \
				-o "$FULL/al.shd" "$T/fc.shd"
			expect_err "No space left on device"
			expect_status 4 shd-plan -q -c "$T/conf.json" --state "$T/s0" \
				--now $NOW -o "$FULL/plan.json" "$T/al.shd"
			expect_err "No space left on device"
		fi
		for f in m.model s.shd fc.shd al.shd plan.json; do
			cmp -s "$FULL/old/$f" "$FULL/$f" ||
				fail "full disk ($free free): $f changed"
		done
		no_temps "$FULL"
	done
	# the journal on a full disk: nothing is changed that it cannot record
	: >"$REC_LOG"
	expect_status 4 shd-apply -q -c "$T/conf.json" --state "$FULL/st" \
		--grace 0 --now 2024-01-06T05:01:00Z "$T/plan.json"
	expect_err "No space left on device"
	not_crashed
	[ -s "$REC_LOG" ] && fail "a change was made that the journal could not record: $(cat "$REC_LOG")"
	# room again: the same run applies the plan, once
	rm -f "$FULL/fill" "$FULL/fill2"
	expect_status 0 shd-apply -q -c "$T/conf.json" --state "$FULL/st" \
		--grace 0 --now 2024-01-06T05:01:00Z "$T/plan.json"
	[ "$(wc -l <"$REC_LOG")" = 2 ] || fail "after the full disk: $(cat "$REC_LOG")"
	expect_status 0 shd-apply -q -c "$T/conf.json" --state "$FULL/st" \
		--grace 0 "$T/plan.json"
	[ "$(wc -l <"$REC_LOG")" = 2 ] || fail "applied twice: $(cat "$REC_LOG")"
	umount "$FULL"
	trap 'rm -rf "$T"' EXIT
else
	echo "# skipped the tmpfs part: cannot mount a tmpfs here" \
		"($(cat "$T/mount.err" 2>/dev/null || echo 'no private mount namespace'))"
fi

# ------------------------------------------- short reads, writes, EINTR
# With the shim every read(2) and write(2) may move fewer bytes than asked
# or fail with EINTR: the outputs must be byte-identical to a plain run's.
if [ $san = 1 ]; then
	echo "# skipped the short I/O shim: an ASan build (LD_PRELOAD would" \
		"come before the ASan runtime)"
elif [ ! -f "$SHIM" ]; then
	echo "# skipped the short I/O shim: $SHIM not built (make check-shell builds it)"
else
	# same NAME CMD: stdout of CMD with the shim (three seeds) = without
	same() {
		name=$1; shift
		"$@" >"$T/plain" 2>"$T/plain.err" || fail "$name: failed without the shim"
		for seed in 1 2 3; do
			SHD_SHIM_SEED=$seed LD_PRELOAD="$SHIM" "$@" >"$T/shim" \
				2>"$T/err" || { cat "$T/err" >&2; fail "$name: failed with the shim (seed $seed)"; }
			cmp -s "$T/plain" "$T/shim" ||
				fail "$name: other output with short reads and writes (seed $seed)"
		done
	}
	gzip -c "$T/small.csv" >"$T/small.csv.gz"
	same "ingest a file" shd-ingest -q "$T/small.csv"
	same "ingest a pipe" sh -c 'cat "$1" | shd-ingest -q' sh "$T/small.csv"
	same "ingest gzip from a pipe" sh -c 'cat "$1" | shd-ingest -q' sh "$T/small.csv.gz"
	same "ingest -o" sh -c 'shd-ingest -q -o "$1.o" "$2" && cat "$1.o"' sh "$T/x" "$T/small.csv"
	same "cat" shd-cat "$T/small.shd"
	same "cat a pipe" sh -c 'cat "$1" "$1" | shd-cat -e' sh "$T/small.shd"
	same "cat --info" shd-cat --info "$T/small.shd"
	# shellcheck disable=SC2086
	same "train" sh -c 'shd-train -q $1 --seed 7 -o "$2.m" "$3" && cat "$2.m"' \
		sh "$TRAIN" "$T/x" "$T/small.shd"
	cmp -s "$T/shim" "$T/m.model" || fail "train with the shim: another model"
	same "predict | drift | cat" sh -c 'cat "$1" | shd-predict -q -m "$2" |
		shd-drift -q --limit cpu=8 --bound hi | shd-cat' sh "$T/small.shd" "$T/m.model"
	same "plan" sh -c 'shd-plan -q -c "$1" --state "$2" --now "$3" "$4"; [ $? -le 1 ]' \
		sh "$T/conf.json" "$T/s0" $NOW "$T/al.shd"
	# the journal, written with the shim and read back by shd-plan with it
	for s in plain shim1 shim2; do
		rm -rf "$T/sj"
		case $s in
		plain) shd-apply -q -c "$T/conf.json" --state "$T/sj" --grace 0 \
			--now 2024-01-06T05:01:00Z "$T/plan.json" ;;
		*) SHD_SHIM_SEED=${s#shim} LD_PRELOAD="$SHIM" shd-apply -q \
			-c "$T/conf.json" --state "$T/sj" --grace 0 \
			--now 2024-01-06T05:01:00Z "$T/plan.json" ||
			fail "shd-apply with the shim: exit $?" ;;
		esac
		cp "$T/sj/journal" "$T/journal.$s"
		set +e
		LD_PRELOAD="$SHIM" shd-plan -q -c "$T/conf.json" --state "$T/sj" \
			--now 2024-01-06T06:00:00Z "$T/al.shd" >"$T/plan.$s" 2>"$T/err"
		rc=$?
		set -e
		[ $rc -le 1 ] || { cat "$T/err" >&2; fail "shd-plan on the journal with the shim: exit $rc"; }
	done
	for s in shim1 shim2; do
		cmp -s "$T/journal.plain" "$T/journal.$s" ||
			fail "the journal written with short writes differs"
		cmp -s "$T/plan.plain" "$T/plan.$s" ||
			fail "the plan made from the journal with short reads differs"
	done
fi

# ------------------------------------------------------------- SIGPIPE
# A reader that stops early: the writer ends quietly, killed by SIGPIPE
# (status 128+13 in the shell), with nothing on stderr (shd-cat(1); the
# output is larger than a pipe's buffer, so the writer cannot finish first).
if sh -c 'kill -PIPE $$; exit 1' 2>/dev/null; then
	echo "# skipped SIGPIPE: SIGPIPE is ignored in this environment"
else
	shd-ingest -q -o "$T/fleet.shd" "$DATA/fleet.csv.gz"
	{ shd-cat "$T/fleet.shd" 2>"$T/err" && echo 0 >"$T/rc" || echo $? >"$T/rc"; } | head -c 100 >/dev/null
	[ "$(cat "$T/rc")" = 141 ] || fail "shd-cat | head -c 100: exit $(cat "$T/rc")"
	[ -s "$T/err" ] && fail "shd-cat | head -c 100 printed: $(cat "$T/err")"
	{ shd-ingest "$DATA/fleet.csv.gz" 2>"$T/err" && echo 0 >"$T/rc" || echo $? >"$T/rc"; } | head -c 10 >/dev/null
	[ "$(cat "$T/rc")" = 141 ] || fail "shd-ingest | head -c 10: exit $(cat "$T/rc")"
	[ -s "$T/err" ] && fail "shd-ingest | head -c 10 printed: $(cat "$T/err")"
	{ shd-cat -e "$T/fleet.shd" 2>"$T/err" && echo 0 >"$T/rc" || echo $? >"$T/rc"; } | head -n 2 >/dev/null
	[ "$(cat "$T/rc")" = 141 ] || fail "shd-cat -e | head -n 2: exit $(cat "$T/rc")"
	[ -s "$T/err" ] && fail "shd-cat -e | head -n 2 printed: $(cat "$T/err")"
	# the reader downstream of a writer killed that way sees a cut stream
	set +e
	head -c 5000 "$T/fleet.shd" | shd-cat >/dev/null 2>"$T/err"
	rc=$?
	set -e
	[ $rc = 3 ] || fail "a stream cut by head: exit $rc"
	expect_err "truncated"
fi

# ----------------------------------------------------- kill -9 shd-train
# The model file is the old one or the new one, byte for byte, wherever
# the kill lands; a temporary file that a kill -9 leaves (nothing can
# remove it) never breaks a later run.
ms() { date +%s%N | cut -c1-13; }
mkdir "$T/k"
# shellcheck disable=SC2086
shd-train -q $TRAIN --epochs 3 --seed 8 -o "$T/new.model" "$T/small.shd"
cmp -s "$T/m.model" "$T/new.model" && fail "seeds 7 and 8 gave the same model"
cp "$T/m.model" "$T/k/m.model"
t0=$(ms)
# shellcheck disable=SC2086
shd-train -q $TRAIN --epochs 3 --seed 8 -o "$T/k/timed.model" "$T/small.shd"
dur=$(($(ms) - t0))
rm -f "$T/k/timed.model"
i=0 old=0 new=0
while [ $i -lt 10 ]; do
	i=$((i + 1))
	# a point in [0, 1.2 x the run time]: the last ones may miss
	delay=$(awk -v s=$i -v d="$dur" 'BEGIN { srand(s * 7919); printf "%.3f", rand() * d * 1.2 / 1000 }')
	# shellcheck disable=SC2086
	shd-train -q $TRAIN --epochs 3 --seed 8 -o "$T/k/m.model" "$T/small.shd" &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	if cmp -s "$T/k/m.model" "$T/m.model"; then
		old=$((old + 1))
	elif cmp -s "$T/k/m.model" "$T/new.model"; then
		new=$((new + 1))
		cp "$T/m.model" "$T/k/m.model"	# old again for the next kill
	else
		fail "kill -9 of shd-train after ${delay}s: the model is neither the old nor the new one"
	fi
	shd-predict -q -m "$T/k/m.model" "$T/small.shd" >/dev/null ||
		fail "the model after a kill -9 cannot be used"
done
left=$(find "$T/k" -name '*.tmp*' | wc -l)
echo "# kill -9 of shd-train: $old times the old model, $new the new, $left temporary files left"
# shellcheck disable=SC2086
shd-train -q $TRAIN --epochs 3 --seed 8 -o "$T/k/m.model" "$T/small.shd" ||
	fail "shd-train after the kills failed"
cmp -s "$T/k/m.model" "$T/new.model" || fail "shd-train after the kills: another model"

# ----------------------------------------------------- kill -9 shd-apply
# Killed at a random point: the journal stays readable (shd-plan reads it,
# a torn last line with a warning), and a re-run finishes the plan with
# each action done once.
i=0 cut=0
while [ $i -lt 6 ]; do
	i=$((i + 1))
	rm -rf "$T/sk"
	: >"$REC_LOG"
	delay=$(awk -v s=$i 'BEGIN { srand(s * 104729); printf "%.3f", rand() * 0.5 }')
	REC_SLEEP=0.2 shd-apply -q -c "$T/conf.json" --state "$T/sk" --grace 0 \
		"$T/plan.json" 2>/dev/null &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	if [ $((i % 2)) = 0 ] && [ -f "$T/sk/journal" ]; then
		# a crash in the middle of a write: a torn last line
		printf '{"time":"2024-01-06T05:01:00.000Z","event":"int' >>"$T/sk/journal"
		set +e
		shd-plan -q -c "$T/conf.json" --state "$T/sk" "$T/al.shd" >/dev/null 2>"$T/err"
		rc=$?
		set -e
		[ $rc -le 1 ] || { cat "$T/err" >&2; fail "a torn journal line: shd-plan exit $rc"; }
		expect_err "cut short"
	fi
	set +e
	shd-plan -q -c "$T/conf.json" --state "$T/sk" "$T/al.shd" >/dev/null 2>"$T/err"
	rc=$?
	set -e
	[ $rc -le 1 ] || { cat "$T/err" >&2; fail "the journal after kill -9 (${delay}s): shd-plan exit $rc"; }
	cut=$((cut + $(($(wc -l <"$REC_LOG") < 2))))
	expect_status 0 shd-apply -c "$T/conf.json" --state "$T/sk" --grace 0 "$T/plan.json"
	for r in web-1 web-2; do
		n=$(grep -c "\"event\":\"done\".*\"resource\":\"$r\"" "$T/sk/journal" || true)
		[ "$n" = 1 ] || fail "kill -9 after ${delay}s: $r done $n times"
	done
	# every line whole JSON again: the torn one was removed
	while IFS= read -r line; do
		case $line in
		"{"*"}") ;;
		*) fail "kill -9 after ${delay}s: a bad journal line: $line" ;;
		esac
	done <"$T/sk/journal"
	expect_status 0 shd-apply -c "$T/conf.json" --state "$T/sk" --grace 0 "$T/plan.json"
	expect_err "already applied"
done
echo "# kill -9 of shd-apply: $cut of $i runs cut short before the last change"

# ------------------------------------ a missing or unreadable state dir
# shd-plan(1): a directory or journal that does not exist is an empty
# journal (nothing is created); shd-apply(1) creates it (mode 0700).
expect_status 1 shd-plan -q -c "$T/conf.json" --state "$T/none/st" "$T/al.shd"
[ -e "$T/none" ] && fail "shd-plan created the state directory"
: >"$REC_LOG"
expect_status 0 shd-apply -q -c "$T/conf.json" --state "$T/none/st" --grace 0 "$T/plan.json"
[ "$(stat -c %a "$T/none/st")" = 700 ] || fail "state directory mode $(stat -c %a "$T/none/st")"
# a file where the directory should be: a system error, named
: >"$T/file"
expect_status 4 shd-plan -q -c "$T/conf.json" --state "$T/file" "$T/al.shd"
expect_err "$T/file/journal.*Not a directory"
expect_status 4 shd-apply -q -c "$T/conf.json" --state "$T/file" --grace 0 "$T/plan.json"
expect_err "$T/file.*Not a directory"
expect_status 4 shd-apply -q -c "$T/conf.json" --state "$T/file/st" --grace 0 "$T/plan.json"
expect_err "Not a directory"
# a journal that is a directory
mkdir -p "$T/sd/journal"
expect_status 4 shd-plan -q -c "$T/conf.json" --state "$T/sd" "$T/al.shd"
expect_err "$T/sd/journal"
not_crashed
# unreadable: permissions bind root only through another user
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$SHD_BUILD/shd-plan" 2>/dev/null; then
	mkdir -m 0755 "$T/pub"
	chmod 0755 "$T"
	cp "$T/conf.json" "$T/al.shd" "$T/plan.json" "$T/pub/"
	mkdir -m 0700 "$T/pub/st"
	cp "$T/none/st/journal" "$T/pub/st/"
	nobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	}
	expect_status 4 nobody shd-plan -q -c "$T/pub/conf.json" --state "$T/pub/st" "$T/pub/al.shd"
	expect_err "cannot open '$T/pub/st/journal': Permission denied"
	expect_status 4 nobody shd-apply -q -c "$T/pub/conf.json" --state "$T/pub/st" \
		--grace 0 "$T/pub/plan.json"
	expect_err "Permission denied"
	not_crashed
	chmod 0700 "$T"
else
	echo "# skipped the unreadable state directory: not root or no setpriv"
fi

# ------------------------------------------------- a clock that jumps
# The journal holds a change at 05:01 (applied above, --now). shd-plan
# run with a clock before it: the record counts as just made, so the
# cooldown holds, and a warning says why (shd-plan(1), cooldown).
rm -rf "$T/sc"
shd-apply -q -c "$T/conf.json" --state "$T/sc" --grace 0 \
	--now 2024-01-06T05:01:00Z "$T/plan.json"
expect_status 0 shd-plan -c "$T/conf.json" --state "$T/sc" \
	--now 2024-01-06T04:00:00Z "$T/al.shd"
expect_err "a record of 2024-01-06T05:01:00Z is later than now (2024-01-06T04:00:00Z): did the clock go back?"
grep -q '"cooldown"' "$T/out" || fail "clock back: the cooldown does not hold: $(cat "$T/out")"
# within the cooldown: held, no warning; after it: planned
expect_status 0 shd-plan -q -c "$T/conf.json" --state "$T/sc" \
	--now 2024-01-06T05:05:00Z "$T/al.shd"
[ -s "$T/err" ] && fail "a warning within the cooldown: $(cat "$T/err")"
grep -q '"cooldown"' "$T/out" || fail "the cooldown does not hold"
expect_status 1 shd-plan -q -c "$T/conf.json" --state "$T/sc" \
	--now 2024-01-06T05:30:00Z "$T/al.shd"
# time that goes back in a stream: shd-ingest sorts, the others refuse it
# with the row named (DESIGN.md, canonical order)
{ head -n 1 "$T/small.csv"; sed -n '752,1501p;2,751p' "$T/small.csv"; } >"$T/back.csv"
shd-ingest -q -i 5m "$T/back.csv" | shd-cat -e -H >"$T/sorted"
shd-cat -e -H "$T/small.shd" | grep web-1 >"$T/want"
grep web-1 "$T/sorted" | cmp -s - "$T/want" || fail "shd-ingest did not sort time that goes back"
{ head -n 1 "$T/small.csv"; sed -n '2,751p' "$T/small.csv"; } >"$T/early.csv"
{ head -n 1 "$T/small.csv"; sed -n '752,1501p' "$T/small.csv"; } >"$T/late.csv"
shd-ingest -q -o "$T/early.shd" "$T/early.csv"
shd-ingest -q -o "$T/late.shd" "$T/late.csv"
cat "$T/late.shd" "$T/early.shd" >"$T/back.shd"
expect_status 3 shd-predict -q -m "$T/m.model" "$T/back.shd"
expect_err "row 751: time goes back within resource 'web-1'"
# shellcheck disable=SC2086
expect_status 3 shd-train -q $TRAIN -o "$T/back.model" "$T/back.shd"
expect_err "time goes back"
[ -e "$T/back.model" ] && fail "shd-train wrote a model from a stream out of order"

# ------------------------------------------ memory on hostile input
# Each case ends within a peak RSS of 512 MB (a generous bound: the
# measured peaks are a few MB; 340 MB for shd-ingest of 2^20 + 1 keys,
# which holds its input, ~330 bytes a resource; 40 MB to read a million
# keys, 60 MB to refuse 2^20 + 1, 100 MB to refuse 64 MiB of keys),
# measured by /usr/bin/time -f %M (KiB).
LIMIT_KB=524288
if [ $san = 1 ]; then
	echo "# skipped the memory bounds: an ASan build (its shadow memory and" \
		"quarantine change the RSS)"
	exit 0
fi
[ -x /usr/bin/time ] || { echo "# skipped the memory bounds: no /usr/bin/time"; exit 0; }
# rss WANT NAME CMD...: CMD exits WANT within LIMIT_KB; its peak in $T/rss
rss() {
	want=$1 name=$2; shift 2
	expect_status "$want" /usr/bin/time -f %M -o "$T/rss" "$@"
	kb=$(tail -n 1 "$T/rss")
	echo "# $name: peak RSS $kb KiB"
	[ "$kb" -lt $LIMIT_KB ] || fail "$name: peak RSS $kb KiB, over $LIMIT_KB"
}
# a 1 GB line on a pipe: refused after SHD_LINE_MAX (1 MiB), not read whole
rss 3 "a 1 GB line on stdin" sh -c 'head -c 1000000000 /dev/zero | tr "\0" a | shd-ingest -q'
expect_err "<stdin>:1: header: line longer than 1 MiB"
# ... and in a file (mapped: the search for its end stops at the limit)
printf 'time,v\n2024-01-01 00:00:00,1\n' >"$T/long.csv"
truncate -s 1000000000 "$T/long.csv"
rss 3 "a 1 GB line in a file" shd-ingest -q "$T/long.csv"
expect_err "long.csv:3: line longer than 1 MiB"
rm -f "$T/long.csv"
# a million columns: under 1 MiB of commas, and 10 MB of names
awk 'BEGIN { printf "time"; for (i = 1; i < 1000000; i++) printf ","; printf "\n" }' >"$T/cols.csv"
rss 3 "a million empty column names" shd-ingest -q "$T/cols.csv"
expect_err "cols.csv:1: header: 1000000 columns, more than"
awk 'BEGIN { printf "time,resource"; for (i = 0; i < 1000000; i++) printf ",c%d", i;
	printf "\n2024-01-01 00:00:00,a"; for (i = 0; i < 1000000; i++) printf ",1"; printf "\n" }' >"$T/cols.csv"
rss 3 "a million named columns" shd-ingest -q "$T/cols.csv"
expect_err "cols.csv:1: header: line longer than 1 MiB"
# a million keys: a stream holds at most 2^20 distinct keys and 64 MiB of
# them (man shd-format(5)). shd-ingest holds its input (the CSV is 37 MB)
# and refuses to write a stream of one key more than that
awk 'BEGIN { print "time,resource,cpu";
	for (i = 0; i < 1048577; i++) printf "2024-01-01 00:00:00,r%07d,1\n", i }' >"$T/keys.csv"
rss 3 "ingest of 2^20 + 1 keys" shd-ingest -q -o "$T/keys.shd" "$T/keys.csv"
expect_err "cannot write $T/keys.shd: 1048577 distinct keys of 8388616 bytes in all: more than a stream holds (1048576 keys, 64 MiB)"
[ -e "$T/keys.shd" ] && fail "a stream of too many keys written"
rm -f "$T/keys.csv"
# blocks and end markers that claim more rows than they hold, checksums right
if [ -x "$CRAFT" ]; then
	"$CRAFT" rows 0xffffffff <"$T/small.shd" >"$T/rows.shd"
	rss 3 "a block claiming 2^32-1 rows" shd-cat "$T/rows.shd"
	expect_err "block 1 at byte [0-9]* claims 4294967295 rows (allowed 1 to 1048576"
	"$CRAFT" endrows 1099511627776 <"$T/small.shd" >"$T/end.shd"
	rss 3 "an end marker claiming 2^40 rows" shd-cat "$T/end.shd"
	expect_err "end marker at byte [0-9]* counts 1099511627776 rows"
	rss 3 "shd-train on a block claiming 2^32-1 rows" shd-train -q -o "$T/r.model" "$T/rows.shd"
	expect_err "claims 4294967295 rows"
	# a million keys are held (the reader's dictionary, ~40 MB)
	"$CRAFT" keys 1000000 >"$T/keys.shd"
	rss 0 "shd-cat of a million keys" sh -c 'shd-cat "$1" >/dev/null' sh "$T/keys.shd"
	[ "$(shd-cat -H "$T/keys.shd" | tail -n 1)" = "2024-01-01T00:00:00Z,k0999999" ] ||
		fail "a million keys: the last row is wrong"
	rss 0 "shd-cat --info of a million keys" shd-cat --info "$T/keys.shd"
	# ... and a million resources of one row each to shd-train: no step
	# to tell, refused, in memory of the rows (it took 8 GB when each
	# waiting resource had room for 1024 rows)
	rss 3 "shd-train on a million one-row resources" shd-train -q -o "$T/k.model" "$T/keys.shd"
	expect_err "cannot tell the sampling step"
	# one more than 2^20: refused at the block that passes the limit
	"$CRAFT" keys 1048577 >"$T/keys.shd"
	rss 3 "shd-cat of 2^20 + 1 keys" shd-cat "$T/keys.shd"
	expect_err "keys.shd: block 17, column 'resource': the stream's dictionary reaches 1048577 distinct keys of 8388616 bytes in all, more than a stream may hold (1048576 keys, 64 MiB)"
	# keys of 100 bytes: 64 MiB of them at block 11
	"$CRAFT" keys 700000 100 >"$T/keys.shd"
	rss 3 "shd-cat of 70 MB of keys" shd-cat "$T/keys.shd"
	expect_err "block 11, column 'resource': the stream's dictionary reaches 700000 distinct keys of 70000000 bytes"
	rm -f "$T/keys.shd"
else
	echo "# skipped the crafted streams: $CRAFT not built (make check-shell builds it)"
fi
exit 0
