#!/bin/sh
# shd-cat: concatenated streams (piped or as arguments), row and column
# selection, --from/--to, the output forms (CSV, TSV, JSON, --info), and
# golden files (SHD_GOLDEN_UPDATE=1, as `make golden` sets, rewrites them).
. "$SHD_TESTS/lib.sh"
GOLDEN="$SHD_TESTS/golden"

# want NAME: compare $T/got with the text on stdin
want() {
	cat >"$T/want"
	diff -u "$T/want" "$T/got" >&2 || fail "$1"
}

# golden NAME: compare $T/got with tests/golden/NAME, or rewrite it
golden() {
	if [ "${SHD_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$T/got" "$GOLDEN/$1"
		echo "# rewrote tests/golden/$1"
		return
	fi
	[ -f "$GOLDEN/$1" ] || fail "no tests/golden/$1 (make golden writes it)"
	diff -u "$GOLDEN/$1" "$T/got" >&2 ||
		fail "output differs from tests/golden/$1 (if that is right: make golden, and review the diff)"
}

cat >"$T/a.csv" <<'EOF'
time,resource,v,w
2024-01-01 00:00:00,a,1,10
2024-01-01 00:05:00,a,2,
2024-01-01 00:10:00,a,3,30
EOF
cat >"$T/b.csv" <<'EOF'
time,resource,v,w
2024-01-01 00:05:00,c,,0.5
2024-01-01 00:00:00,b,4,40
2024-01-01 00:00:00,a,5,50
EOF
printf 'time,resource,x\n2024-01-01 00:00:00,z,1\n' >"$T/other.csv"
shd-ingest "$T/a.csv" >"$T/a.shd"
shd-ingest "$T/b.csv" >"$T/b.shd"
shd-ingest "$T/other.csv" >"$T/other.shd"

# ------------------------------------------------------ concatenation
# one header, the rows of a then those of b (each in its own order)
cat >"$T/ab.want" <<'EOF'
time,resource,v,w
2024-01-01T00:00:00Z,a,1,10
2024-01-01T00:05:00Z,a,2,
2024-01-01T00:10:00Z,a,3,30
2024-01-01T00:00:00Z,a,5,50
2024-01-01T00:00:00Z,b,4,40
2024-01-01T00:05:00Z,c,,0.5
EOF
cat "$T/a.shd" "$T/b.shd" | shd-cat >"$T/got"
diff -u "$T/ab.want" "$T/got" >&2 || fail "cat a.shd b.shd | shd-cat"
shd-cat "$T/a.shd" "$T/b.shd" >"$T/got"
diff -u "$T/ab.want" "$T/got" >&2 || fail "shd-cat a.shd b.shd"
shd-cat "$T/a.shd" - <"$T/b.shd" >"$T/got"
diff -u "$T/ab.want" "$T/got" >&2 || fail "shd-cat a.shd - <b.shd"
# --info counts both
cat "$T/a.shd" "$T/b.shd" "$T/a.shd" | shd-cat --info >"$T/info"
grep -q '^rows: 9$' "$T/info" || fail "--info of three streams: $(grep rows: "$T/info")"
grep -q '^blocks: 3$' "$T/info" || fail "--info of three streams: $(grep blocks: "$T/info")"
grep -q '^  a  rows=7  from=2024-01-01T00:00:00Z  to=2024-01-01T00:10:00Z$' "$T/info" ||
	fail "--info of three streams: $(grep '^  a ' "$T/info")"

# streams with other columns cannot follow in one input: exit 3, the rows
# before stay printed, and the message says why
set +e
cat "$T/a.shd" "$T/other.shd" | shd-cat >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "concatenated streams with other columns: exit $rc, want 3"
expect_err "other columns"
[ "$(wc -l <"$T/out")" = 4 ] || fail "rows of the first stream lost: $(cat "$T/out")"
# the same through --info
set +e
cat "$T/a.shd" "$T/other.shd" | shd-cat --info >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 3 ] || fail "--info, streams with other columns: exit $rc, want 3"
expect_err "other columns"
# as separate files each keeps its own header (they are separate inputs)
shd-cat "$T/a.shd" "$T/other.shd" >"$T/got"
[ "$(sed -n 5p "$T/got")" = "time,resource,x" ] || fail "second file's header: $(sed -n 5p "$T/got")"
# a bad second file: the first is printed, the exit is 3
printf 'not a stream\n' >"$T/text.shd"
expect_status 3 shd-cat "$T/a.shd" "$T/text.shd"
expect_err "text.shd: not an shd stream"
[ "$(wc -l <"$T/out")" = 4 ] || fail "a bad second file lost the first one's rows"

# ------------------------------------------------------- --resource
shd-cat -e -H -r b "$T/a.shd" "$T/b.shd" >"$T/got"
want "--resource b" <<'EOF'
1704067200,b,4,40
EOF
cat "$T/a.shd" "$T/b.shd" | shd-cat -e -H --resource c -r a >"$T/got"
want "--resource c -r a" <<'EOF'
1704067200,a,1,10
1704067500,a,2,
1704067800,a,3,30
1704067200,a,5,50
1704067500,c,,0.5
EOF
shd-cat -r nosuch "$T/a.shd" >"$T/got"
want "--resource nosuch" <<'EOF'
time,resource,v,w
EOF

# -------------------------------------------------------- --columns
shd-cat -c w,resource "$T/b.shd" >"$T/got"
want "--columns w,resource" <<'EOF'
w,resource
50,a
40,b
0.5,c
EOF
shd-cat -e --columns v,time -r a "$T/a.shd" >"$T/got"
want "--columns v,time" <<'EOF'
v,time
1,1704067200
2,1704067500
3,1704067800
EOF
expect_status 2 shd-cat -c v,nosuch "$T/a.shd"
expect_err "no column 'nosuch'"

# ------------------------------------------------------ --from --to
# half open: --from inclusive, --to exclusive; three ways to write a time
shd-cat -e -H --from 2024-01-01T00:05:00Z --to "2024-01-01 00:10:00" "$T/a.shd" >"$T/got"
want "--from 00:05 --to 00:10" <<'EOF'
1704067500,a,2,
EOF
shd-cat -e -H --from 1704067500 "$T/a.shd" >"$T/got"
want "--from 1704067500" <<'EOF'
1704067500,a,2,
1704067800,a,3,30
EOF
shd-cat -e -H --to 1704067500 "$T/a.shd" "$T/b.shd" >"$T/got"
want "--to 1704067500" <<'EOF'
1704067200,a,1,10
1704067200,a,5,50
1704067200,b,4,40
EOF
shd-cat -H --from 2024-01-01T00:05:00Z --to 2024-01-01T00:05:00Z "$T/a.shd" >"$T/got"
[ -s "$T/got" ] && fail "--from T --to T is not empty: $(cat "$T/got")"
shd-cat --info --from 2024-01-01T00:05:00Z "$T/a.shd" | grep -q '^rows: 2$' ||
	fail "--info --from does not count the selected rows"

# ------------------------------------------------- --tsv and --json
shd-cat --tsv "$T/b.shd" >"$T/got"
printf 'time\tresource\tv\tw\n2024-01-01T00:00:00Z\ta\t5\t50\n2024-01-01T00:00:00Z\tb\t4\t40\n2024-01-01T00:05:00Z\tc\t\t0.5\n' |
	cmp -s - "$T/got" || fail "--tsv: $(cat "$T/got")"
shd-cat --tsv -H -r c "$T/b.shd" >"$T/got"
printf '2024-01-01T00:05:00Z\tc\t\t0.5\n' | cmp -s - "$T/got" || fail "--tsv -H: $(cat "$T/got")"
# JSON: NaN is null, names and strings escaped, -0 and big values kept
printf 'time,resource,v,w\n2024-01-01 00:00:00,"q""x\\y",,-0\n2024-01-01 00:05:00,"q""x\\y",1e300,0.1\n' |
	shd-ingest | shd-cat --json >"$T/got"
want "--json" <<'EOF'
{"time":"2024-01-01T00:00:00Z","resource":"q\"x\\y","v":null,"w":-0}
{"time":"2024-01-01T00:05:00Z","resource":"q\"x\\y","v":1e+300,"w":0.1}
EOF
shd-cat --json -c time,w "$T/a.shd" >"$T/got"
want "--json -c time,w" <<'EOF'
{"time":"2024-01-01T00:00:00Z","w":10}
{"time":"2024-01-01T00:05:00Z","w":null}
{"time":"2024-01-01T00:10:00Z","w":30}
EOF

# ------------------------------------------------------------ --info
# rows, blocks, per column NaN counts and range, per resource counts
cat "$T/a.shd" "$T/b.shd" | shd-cat --info >"$T/info"
grep -q '^stream: <stdin>$' "$T/info" || fail "--info: stream name"
grep -q '^rows: 6$' "$T/info" || fail "--info: $(grep rows: "$T/info")"
grep -q '^  v  *f64 .* min=1 mean=3 max=5 nan=1$' "$T/info" || fail "--info v: $(grep '^  v ' "$T/info")"
grep -q '^  w  *f64 .* min=0.5 mean=26.1 max=50 nan=1$' "$T/info" || fail "--info w: $(grep '^  w ' "$T/info")"
grep -q '^resources: 3$' "$T/info" || fail "--info: $(grep resources: "$T/info")"
grep -q '^  b  rows=1  from=2024-01-01T00:00:00Z  to=2024-01-01T00:00:00Z$' "$T/info" ||
	fail "--info b: $(grep '^  b ' "$T/info")"
shd-cat --info "$T/a.shd" | grep -q "^stream: $T/a.shd$" || fail "--info: a file's name"

# ------------------------------------------------------------ golden
# the NAB subset described; the producer's version is masked so that a
# release does not change the file
shd-ingest "$DATA"/nab/*.csv | shd-cat --info |
	sed -e 's/^\(  producer: shd-ingest\) .*/\1 VERSION/' \
	    -e "s|$DATA/|DATA/|g" >"$T/got"
golden nab-info.txt
# a Prometheus export as JSON lines
shd-ingest "$TDATA/prom-matrix.json" | shd-cat --json >"$T/got"
golden prom-matrix.jsonl
