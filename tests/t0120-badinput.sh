#!/bin/sh
# Bad input: rows (file:line named, --skip-bad), missing files, bad
# options, cut and corrupted streams, text and empty input to shd-cat, a
# terminal, atomic -o, and a reader that stops early (| head).
. "$SHD_TESTS/lib.sh"

# flip FILE OFFSET: add one to the byte at OFFSET (0-based), in place
flip() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# ------------------------------------------------------------ bad rows
# 70 good rows (more than the parser looks at to find the numeric
# columns), then bad ones; comments and blank lines count as lines
{
	echo "time,resource,cpu"
	i=0
	while [ $i -lt 70 ]; do
		printf '2024-01-01 %02d:%02d:00,a,%d.5\n' $((i / 12)) $((i % 12 * 5)) $i
		i=$((i + 1))
	done
	echo "# a comment"
	echo ""
	echo "2024-01-02 00:00:00,a,x1"		# line 74: not a number
	echo "2024-01-02 00:05:00,a"		# line 75: too few fields
	echo "yesterday,a,3"			# line 76: bad time
	echo "2024-01-02 00:15:00,,3"		# line 77: empty key
	echo '2024-01-02 00:20:00,a,"5'		# line 78: open quote
	echo "2024-01-02 00:25:00,a,7"		# line 79: good
} >"$T/bad.csv"
expect_status 3 shd-ingest "$T/bad.csv"
expect_err "^shd-ingest: .*bad.csv:74: column 'cpu': 'x1' is not a number"
[ -s "$T/out" ] && fail "bad rows: a stream was written"
# each kind of bad row on its own names its line
for n in 75 76 77 78; do
	sed -n "1,71p;${n}p" "$T/bad.csv" >"$T/one.csv"
	expect_status 3 shd-ingest "$T/one.csv"
	expect_err "one.csv:72: "
done
sed -n '1,71p;75p' "$T/bad.csv" >"$T/one.csv"
expect_status 3 shd-ingest "$T/one.csv"
expect_err "one.csv:72: 2 fields, expected 3"
sed -n '1,71p;76p' "$T/bad.csv" >"$T/one.csv"
expect_status 3 shd-ingest "$T/one.csv"
expect_err "one.csv:72: bad time 'yesterday'"
# CRLF line ends do not shift the line numbers
sed 's/$/\r/' "$T/bad.csv" >"$T/crlf.csv"
expect_status 3 shd-ingest "$T/crlf.csv"
expect_err "crlf.csv:74: "

# --skip-bad: exit 0, the good rows, a count and the first lines on stderr
expect_status 0 shd-ingest --skip-bad -o "$T/skip.shd" "$T/bad.csv"
expect_err "skipped 5 bad rows"
for n in 74 75 76 77 78; do
	expect_err "bad.csv:$n: "
done
# the count line carries no stray errno text ("...: Inappropriate ioctl")
line=$(grep 'skipped 5 bad rows' "$T/err")
case ${line#shd-ingest: } in
*": "*) fail "the --skip-bad summary has trailing text: '$line'" ;;
esac
shd-cat -e -H "$T/skip.shd" >"$T/got"
[ "$(wc -l <"$T/got")" = 71 ] || fail "--skip-bad kept $(wc -l <"$T/got") rows, want 71"
[ "$(tail -n 1 "$T/got")" = "1704155100,a,7" ] || fail "--skip-bad: last row $(tail -n 1 "$T/got")"
# with -q as well: the summary is a result, not progress
expect_status 0 shd-ingest -q --skip-bad -o "$T/skip.shd" "$T/bad.csv"
expect_err "skipped 5 bad rows"

# header trouble is not a row to skip
printf '\n# only a comment\n' >"$T/nohdr.csv"
expect_status 3 shd-ingest --skip-bad "$T/nohdr.csv"
expect_err "nohdr.csv: no header line"

# ------------------------------------------------------ beyond 4 GiB
# A plain file is mapped whatever its size: a sparse one of 4.1 GiB gets
# past the reading to the parser, which stops at its hole (a "line" of
# NUL bytes), naming the line; no memory of that size is taken.
printf 'time,resource,cpu\n2024-01-01 00:00:00,a,1\n' >"$T/big.csv"
if truncate -s 4200M "$T/big.csv" 2>/dev/null; then
	expect_status 3 shd-ingest "$T/big.csv"
	expect_err "big.csv:3: line longer than 1 MiB"
	rm -f "$T/big.csv"
else
	echo "# skip: no sparse 4.1 GiB file here (truncate failed)"
fi

# ------------------------------------------------------ missing files
# DESIGN.md: 3 is bad input and names the file; shd-cat exits 3 for a
# missing file (cmd/cli.c cli_open_in), and every program answers alike
expect_status 3 shd-ingest "$T/nosuch.csv"
expect_err "^shd-ingest: cannot open '$T/nosuch.csv': No such file or directory"
expect_status 3 shd-cat "$T/nosuch.shd"
expect_err "^shd-cat: cannot open '$T/nosuch.shd': No such file or directory"
# one good and one missing input: nothing is written
printf 'time,v\n2024-01-01 00:00:00,1\n' >"$T/good.csv"
set +e
shd-ingest "$T/good.csv" "$T/nosuch.csv" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 0 ] && fail "a missing input among others exited 0"
[ -s "$T/out" ] && fail "a missing input among others: a stream was written"
expect_status 3 shd-ingest "$T"
expect_err "Is a directory"
# shd-cat with many inputs warns about a missing one and goes on with the
# rest, exit 3 at the end (STYLE.md, "Error reporting"; bsdcat)
printf 'time,resource,v\n2024-01-01 00:00:00,a,1\n' | shd-ingest >"$T/good.shd"
expect_status 3 shd-cat -H "$T/nosuch.shd" "$T/good.shd"
expect_err "cannot open '$T/nosuch.shd'"
[ "$(cat "$T/out")" = "2024-01-01T00:00:00Z,a,1" ] ||
	fail "shd-cat nosuch.shd good.shd did not go on to good.shd: '$(cat "$T/out")'"

# ----------------------------------------------------------- options
for p in shd-ingest shd-cat; do
	expect_status 2 $p --no-such-option
	expect_err "usage: $p"
	[ -s "$T/out" ] && fail "$p: usage error wrote to stdout"
	expect_status 0 $p --help
	grep -q "^usage: $p" "$T/out" || fail "$p --help: no usage on stdout"
	expect_status 0 $p --version
	grep -q "^$p (shd) " "$T/out" || fail "$p --version: $(cat "$T/out")"
done
expect_status 2 shd-ingest -l 0 "$T/good.csv"
expect_status 2 shd-ingest --key= "$T/good.csv"
expect_status 2 shd-cat --from tomorrow /dev/null
expect_err "bad time 'tomorrow'"
expect_status 2 shd-cat --columns= /dev/null

# -------------------------------------------- cut and corrupted streams
shd-ingest "$DATA/fleet.csv.gz" >"$T/fleet.shd"
size=$(wc -c <"$T/fleet.shd")
# cut anywhere: inside the magic, the header, the block, the end marker
for n in 5 12 40 300 1000 $((size / 2)) $((size - 20)) $((size - 1)); do
	head -c $n "$T/fleet.shd" >"$T/cut.shd"
	expect_status 3 shd-cat "$T/cut.shd"
	expect_err "truncated"
	expect_err "cut.shd"
	grep -q "byte [0-9]\|block [0-9]" "$T/err" || fail "cut at $n: no byte or block named: $(cat "$T/err")"
done
# and from a pipe, the way it happens
for n in 40 $((size / 2)); do
	set +e
	head -c $n "$T/fleet.shd" | shd-cat >/dev/null 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = 3 ] || fail "cut at $n through a pipe: exit $rc"
	grep -q "truncated" "$T/err" || fail "cut at $n through a pipe: $(cat "$T/err")"
done
# shd-cat --info reads the whole stream too
head -c $((size - 1)) "$T/fleet.shd" >"$T/cut.shd"
expect_status 3 shd-cat --info "$T/cut.shd"
expect_err "truncated"

# a flipped byte in the header text, a block or the end marker: "checksum"
for off in 30 200 $((size / 3)) $((size - 40)) $((size - 2)); do
	cp "$T/fleet.shd" "$T/flip.shd"
	flip "$T/flip.shd" $off
	cmp -s "$T/fleet.shd" "$T/flip.shd" && fail "flip did not change byte $off"
	expect_status 3 shd-cat "$T/flip.shd"
	expect_err "checksum"
done
# a flipped byte anywhere in a small stream never goes unnoticed
printf 'time,resource,cpu,mem\n2024-01-01 00:00:00,a,1.5,\n2024-01-01 00:05:00,b,-0,7\n' |
	shd-ingest >"$T/small.shd"
size=$(wc -c <"$T/small.shd")
off=0
while [ $off -lt "$size" ]; do
	cp "$T/small.shd" "$T/flip.shd"
	flip "$T/flip.shd" $off
	set +e
	shd-cat "$T/flip.shd" >/dev/null 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = 3 ] || fail "byte $off of $size flipped: exit $rc"
	grep -q "corrupt\|checksum\|not supported\|truncated\|not an shd" "$T/err" ||
		fail "byte $off flipped: $(cat "$T/err")"
	off=$((off + 17))
done

# bytes after the end marker that are not another stream
{ cat "$T/small.shd"; echo junk; } >"$T/junk.shd"
expect_status 3 shd-cat "$T/junk.shd"
expect_err "after the end marker"

# ------------------------------------------------ not a stream, empty
expect_status 3 shd-cat "$T/good.csv"
expect_err "good.csv: not an shd stream"
expect_err "hint: .*shd-ingest"
set +e
shd-cat <"$T/good.csv" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "text on stdin: exit $rc"
expect_err "not an shd stream"
expect_err "hint:"
expect_status 3 shd-cat /dev/null
expect_err "empty input"
set +e
false | shd-cat >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "empty pipe: exit $rc"
expect_err "empty input"
[ -s "$T/out" ] && fail "empty input: something printed on stdout"
# an empty CSV is not an export either
: >"$T/empty.csv"
expect_status 3 shd-ingest "$T/empty.csv"
expect_err "empty.csv"

# -------------------------------------------------------- a terminal
if command -v script >/dev/null 2>&1 &&
	script -qec 'test -t 1' /dev/null </dev/null >/dev/null 2>&1; then
	set +e
	script -qec "shd-ingest '$T/good.csv'" /dev/null </dev/null >"$T/tty" 2>&1
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "shd-ingest to a terminal: exit $rc, want 2"
	grep -q "will not write a binary stream to a terminal" "$T/tty" ||
		fail "shd-ingest to a terminal: $(cat "$T/tty")"
	grep -q "SHD" "$T/tty" && fail "shd-ingest wrote the stream to a terminal"
	# -f forces it, -o does not need it
	script -qec "shd-ingest -f '$T/good.csv' | wc -c" /dev/null </dev/null >"$T/tty" 2>&1 ||
		fail "shd-ingest -f to a terminal failed: $(cat "$T/tty")"
	script -qec "shd-ingest -q -o '$T/tty.shd' '$T/good.csv'" /dev/null </dev/null >"$T/tty" 2>&1 ||
		fail "shd-ingest -o with a terminal failed: $(cat "$T/tty")"
	shd-cat "$T/tty.shd" >/dev/null || fail "shd-ingest -o with a terminal: bad stream"
else
	echo "# skipped the terminal part: no working script(1) pty here"
fi

# ------------------------------------------------------- -o atomically
shd-ingest -o "$T/new.shd" "$T/good.csv"
shd-cat -H "$T/new.shd" | grep -q '^2024-01-01T00:00:00Z,good,1$' || fail "-o: bad content"
mkdir "$T/o"
expect_status 3 shd-ingest -o "$T/o/x.shd" "$T/bad.csv"
[ -z "$(ls -A "$T/o")" ] || fail "-o on bad input left: $(ls -A "$T/o")"
cp "$T/new.shd" "$T/o/keep.shd"
expect_status 3 shd-ingest -o "$T/o/keep.shd" "$T/bad.csv"
cmp -s "$T/new.shd" "$T/o/keep.shd" || fail "-o on bad input changed the existing file"
expect_status 3 shd-ingest -o "$T/o/keep.shd" "$T/nosuch.csv"
cmp -s "$T/new.shd" "$T/o/keep.shd" || fail "-o with a missing input changed the existing file"
[ "$(ls -A "$T/o")" = keep.shd ] || fail "-o left temporary files: $(ls -A "$T/o")"
# a good run replaces it
shd-ingest -o "$T/o/keep.shd" "$T/bad.csv" --skip-bad -q 2>/dev/null
cmp -s "$T/new.shd" "$T/o/keep.shd" && fail "-o did not replace the file"
[ "$(ls -A "$T/o")" = keep.shd ] || fail "-o left temporary files: $(ls -A "$T/o")"
# a directory that does not exist: a system error, named
expect_status 4 shd-ingest -o "$T/nodir/x.shd" "$T/good.csv"
expect_err "cannot create '$T/nodir/x.shd'"

# ------------------------------------------------ a reader that stops
# SIGPIPE must be at its default for this; skip when the caller ignores it
if sh -c 'kill -PIPE $$; exit 1' 2>/dev/null; then
	echo "# skipped the | head part: SIGPIPE is ignored in this environment"
	exit 0
fi
status=$({ shd-cat "$T/fleet.shd" 2>"$T/err"; } | { head -n 1 >"$T/head"; echo $?; })
[ "$status" = 0 ] || fail "shd-cat | head -1: head exited $status"
[ "$(cat "$T/head")" = "time,resource,cpu,mem,disk_io,net_in,net_out" ] ||
	fail "shd-cat | head -1: $(cat "$T/head")"
[ -s "$T/err" ] && fail "shd-cat | head -1 printed on stderr: $(cat "$T/err")"
status=$({ shd-ingest "$DATA/fleet.csv.gz" 2>"$T/err"; } | { head -c 10 >/dev/null; echo $?; })
[ "$status" = 0 ] || fail "shd-ingest | head -c 10: head exited $status"
[ -s "$T/err" ] && fail "shd-ingest | head -c 10 printed on stderr: $(cat "$T/err")"

# -o onto a FIFO (or a device such as /dev/null) writes into it in place:
# the atomic rename must never replace it with a regular file
if command -v mkfifo >/dev/null 2>&1; then
	mkfifo "$T/fifo"
	timeout 20 cat "$T/fifo" >"$T/from-fifo" &
	shd-ingest -o "$T/fifo" "$DATA/nab/ec2_cpu_utilization_24ae8d.csv" ||
		fail "-o FIFO: exit $?"
	wait
	[ -p "$T/fifo" ] || fail "-o FIFO: the FIFO was replaced"
	shd-cat "$T/from-fifo" | wc -l | grep -q '^4033$' ||
		fail "-o FIFO: the stream did not come through"
fi
exit 0
