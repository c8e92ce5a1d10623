#!/bin/sh
# man pages and the common command-line contract (STYLE.md): every program
# cmd/shd-NAME.c has man/shd-NAME.1 with the usual sections, naming every
# long option its --help shows; --help goes to stdout with status 0,
# --version prints a version, a bad option gives usage on stderr and status
# 2; and the pages (with man/*.5) format without warnings.
. "$SHD_TESTS/lib.sh"
MAN="$SHD_TOP/man"

progs=
for c in "$SHD_TOP"/cmd/shd-*.c; do
	[ -e "$c" ] || fail "no cmd/shd-*.c"
	progs="$progs $(basename "$c" .c)"
done

# The page source with option markup made plain: "Fl -key" and "Fl Fl key"
# become "--key", "\-" becomes "-". Checking the source, not the formatted
# text, keeps a line break inside "--time-col" from hiding an option.
plain() {
	sed -e 's/\\-/-/g' -e 's/Fl Fl /Fl -/g' -e 's/Fl -/--/g' "$1"
}

for p in $progs; do
	page="$MAN/$p.1"
	[ -f "$page" ] || fail "$p: no man page man/$p.1"

	# --help: usage on stdout, nothing on stderr, status 0
	expect_status 0 "$p" --help </dev/null
	grep -q '^usage: ' "$T/out" || fail "$p --help: no 'usage:' line on stdout"
	[ ! -s "$T/err" ] || fail "$p --help wrote to stderr: $(cat "$T/err")"
	cp "$T/out" "$T/help"

	# --version: "shd-NAME (shd) X.Y.Z" on stdout, status 0
	expect_status 0 "$p" --version </dev/null
	grep -Eq "^$p \\(shd\\) [0-9]+\\.[0-9]+" "$T/out" ||
		fail "$p --version printed '$(cat "$T/out")'"

	# a bad option: usage on stderr, nothing on stdout, status 2
	expect_status 2 "$p" --no-such-option </dev/null
	expect_err '^usage: '
	[ ! -s "$T/out" ] || fail "$p --no-such-option wrote to stdout"

	# the sections STYLE.md asks for
	for sec in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES \
	    'SEE ALSO'; do
		grep -q "^\\.Sh $sec\$" "$page" || fail "man/$p.1: no section $sec"
	done

	# every long option of --help has an entry (.It) in the page
	plain "$page" | grep '^\.It ' >"$T/items" || true
	opts=$(grep -oE -- '--[a-z][a-z0-9-]*' "$T/help" | sort -u)
	[ -n "$opts" ] || fail "$p --help shows no long option"
	for o in $opts; do
		grep -Eq -- "$o([^a-z0-9-]|\$)" "$T/items" ||
			fail "man/$p.1 has no entry (.It) for $o"
	done
done

# Formatting: groff's warnings, then man(1) as a reader would see the page.
pages=$(ls "$MAN"/*.1 "$MAN"/*.5 2>/dev/null) || true
[ -f "$MAN/shd-format.5" ] || fail "no man/shd-format.5"
if command -v groff >/dev/null 2>&1; then
	for page in $pages; do
		groff -mandoc -ww -z "$page" 2>"$T/err" || fail "groff failed on $page"
		[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "groff warns on $page"; }
	done
else
	echo "note: no groff, pages not checked for groff warnings"
fi
if command -v man >/dev/null 2>&1; then
	for page in $pages; do
		LC_ALL=C MANWIDTH=80 man -l "$page" >/dev/null 2>"$T/err" ||
			fail "man -l failed on $page"
		[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "man -l warns on $page"; }
	done
else
	echo "note: no man, pages not formatted with man -l"
fi
exit 0
