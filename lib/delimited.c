/*
 * delimited.c - CSV, TSV and ";"-separated text with a header line into an
 * accumulator.
 *
 * One pass over the buffer, line by line (memchr for the line end), with
 * no allocation per row: the field array, the unquoting scratch space, the
 * last key and the row's values are allocated once and grown when needed.
 * Before the pass, up to NSNIFF data rows are looked at to decide which
 * columns are numeric (and so become metrics).
 *
 * Each data row is first tried by fast_row, which splits it and parses
 * its numbers and time in one go; a row it cannot take as is (quotes, a
 * bad or unusual cell, a wrong field count) goes to split() and do_row(),
 * the general path that also words every error. Both give the same values.
 *
 * Quoted fields follow RFC 4180 ("a,b", "" is a quote), except that a
 * newline inside quotes is not supported: lines are split at every LF
 * first, so such a row is reported as bad (an unterminated quoted field),
 * and so is the rest of it on the next line unless it happens to parse.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

#define NSNIFF 64		/* data rows looked at to find numeric columns */
#define SHOW 64			/* at most this much of a bad value in messages */
/*
 * The most columns a header may have: a stream holds at most 65535
 * (man/shd-format.5). Refused at the header, before any per-column
 * allocation, so a hostile header costs only its field array.
 */
#define MAX_COLUMNS 65535

struct field {
	const char *p;		/* into the buffer or into the scratch space */
	size_t len;
};

struct column {
	char *raw;		/* header text as written (unquoted, trimmed) */
	char *name;		/* normalized name, unique in the file */
	char *unit;		/* "" when none */
	int numeric;		/* sniffed cells are mostly numbers or NaN */
	unsigned nnum, ntext;	/* sniffed cells that were numbers, text */
};

/* A metric fed from column COL into accumulator metric MI. */
struct mcol {
	size_t col;
	int mi;
};

struct parser {
	struct shd_acc *a;
	const char *name;	/* of the input, for messages */
	const struct shd_parse_opts *o;
	struct shd_diag *d;	/* the caller's, or own_diag */
	struct shd_diag own_diag;
	char delim;

	/* Lines: the buffer, where the next line starts, its number. */
	const char *buf;
	size_t len, pos;
	uint64_t lineno;
	/* A member in pieces (PC not NULL): BUF is WIN, refilled from PC,
	 * holding the lines from POS on, or from MARK while sniff() looks
	 * ahead (MARKING). EOF: no more to read; RDERR: why not. */
	struct shd_pieces *pc;
	char *win;
	size_t wcap, mark;
	int marking, eof, rderr;

	/* The fields of the current line. */
	struct field *f;
	size_t nf, fcap;
	char *scratch;		/* unquoted text of quoted fields */
	size_t scap;
	const char *why;	/* why the line could not be split */

	struct column *cols;
	size_t ncols;
	struct shd_dict *names;	/* the column names given out so far */
	unsigned *next;		/* (nextcap) by name id: next suffix to try */
	size_t nextcap;
	long tcol, kcol;	/* -1: none */
	struct mcol *m;
	size_t nm;
	double *vals;		/* (nm) values of the current row */

	char *lastkey;		/* the key of the last row and its series */
	size_t lastlen, lastcap;
	struct shd_series *last;
	/* The text of the last time parsed and its value (rows of many
	 * resources at one time come one after the other). */
	char lasttime[40];
	size_t lasttlen;	/* 0: none */
	int64_t lastt;
	unsigned source;	/* of this input in the accumulator */

	/* The fast path (fast_row), when every column has one role. */
	int fast;
	int *role;		/* (ncols) ROLE_* or a metric slot (>= 0) */
	int *mi;		/* (nm) accumulator metric of each slot */
	/* The date of the last "YYYY-MM-DD HH:MM:SS" time and the time of
	 * its midnight, so that a new clock on the same day costs no
	 * calendar arithmetic. */
	char lastdate[10];
	int haveday;
	int64_t lastday;
};

enum { ROLE_SKIP = -1, ROLE_TIME = -2, ROLE_KEY = -3 };
#define FALLBACK 1		/* fast_row: do this row the general way */

static int isblank_byte(char c, char delim)
{
	return c == ' ' || (c == '\t' && delim != '\t');
}

/*
 * The next physical line in *LINE, *N bytes without its LF or CRLF (or a
 * lone CR at the very end). Returns 0 at the end of the buffer, -1 when
 * the line is longer than SHD_LINE_MAX (P->lineno is then its number):
 * the search for its end stops there, so a hostile line costs no more.
 */
/* What a refill asks of a member in pieces, at least. */
#define PIECE ((size_t)256 << 10)

/*
 * Reads more of a member in pieces into P->win, after the lines still
 * needed (moved to its start). At a read error (P->rderr) or the end,
 * P->eof: what is in the window is all there will be.
 */
static void refill(struct parser *P)
{
	size_t keep = P->marking ? P->mark : P->pos, got = 0;
	int r;

	if (keep) {
		memmove(P->win, P->win + keep, P->len - keep);
		P->len -= keep;
		P->pos -= keep;
		P->mark -= P->marking ? keep : 0;
	}
	if (P->wcap - P->len < PIECE) {
		size_t cap = P->wcap ? P->wcap : PIECE;
		char *w;

		while (cap - P->len < PIECE)
			cap *= 2;
		if (!(w = realloc(P->win, cap))) {
			P->rderr = SHD_ENOMEM;
			P->eof = 1;
			return;
		}
		P->win = w;
		P->wcap = cap;
	}
	r = P->pc->more(P->pc, P->win + P->len, P->wcap - P->len, &got);
	if (r < 0)
		P->rderr = r;
	P->eof = r < 0 || got == 0;
	P->len += got;
	P->buf = P->win;
}

static int next_line(struct parser *P, const char **line, size_t *n)
{
	const char *p, *nl;
	size_t rest;

	for (;;) {
		p = P->buf + P->pos;
		rest = P->len - P->pos;
		/* SHD_LINE_MAX bytes, a CR, then the LF */
		nl = rest ? memchr(p, '\n', rest < SHD_LINE_MAX + 2 ?
					    rest : SHD_LINE_MAX + 2) : NULL;
		if (nl || !P->pc || P->eof || rest > SHD_LINE_MAX + 1)
			break;
		refill(P);
	}
	if (P->pos >= P->len)
		return 0;
	if (!nl && rest > SHD_LINE_MAX + 1) {
		P->lineno++;
		return -1;
	}
	if (nl) {
		*n = (size_t)(nl - p);
		P->pos += *n + 1;
	} else {
		*n = rest;
		P->pos = P->len;
	}
	if (*n && p[*n - 1] == '\r')
		(*n)--;
	*line = p;
	P->lineno++;
	return 1;
}

/* Blank lines and "#" comments carry no data. */
static int skip_line(const char *p, size_t n)
{
	if (n == 0)
		return 1;
	if (p[0] == '#')
		return 1;
	if (p[0] != ' ' && p[0] != '\t')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Doubles the room for fields. 0 or SHD_ENOMEM. */
static int grow_fields(struct parser *P)
{
	size_t cap = P->fcap ? P->fcap * 2 : 16;
	struct field *f = realloc(P->f, cap * sizeof(*f));

	if (!f)
		return SHD_ENOMEM;
	P->f = f;
	P->fcap = cap;
	return 0;
}

/*
 * The first byte C in [P, END), or END. Eight bytes at a time where it can
 * (never reading at or past END): a byte of W ^ C is zero where C is, and
 * (x - 0x01..) & ~x & 0x80.. marks zero bytes, exactly at the lowest one.
 */
static const char *find_byte(const char *p, const char *end, char c)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	const uint64_t pat = ones * (unsigned char)c;

	while (end - p >= 8) {
		uint64_t w, x, t;

		memcpy(&w, p, 8);
		x = w ^ pat;
		t = (x - ones) & ~x & highs;
		if (t)
			return p + (__builtin_ctzll(t) >> 3);
		p += 8;
	}
#endif
	while (p < end && *p != c)
		p++;
	return p;
}

/*
 * Splits the line P[0..n) at the delimiter into P->f, trimming blanks
 * around unquoted fields and unquoting quoted ones. Returns 0, SHD_EFORMAT
 * with P->why set, or SHD_ENOMEM.
 */
static int split(struct parser *P, const char *p, size_t n)
{
	const char *end = p + n;
	const char delim = P->delim;
	/* Locals, so that stores into the fields need no reloads of P. */
	struct field *f = P->f;
	size_t nf = 0, fcap = P->fcap;
	char *w;

	/* Unquoted text is never longer than the line. */
	if (n > P->scap) {
		size_t cap = n > 2 * P->scap ? n : 2 * P->scap;
		char *s = realloc(P->scratch, cap);

		if (!s)
			return SHD_ENOMEM;
		P->scratch = s;
		P->scap = cap;
	}
	w = P->scratch;
	for (;;) {
		const char *s, *e;

		while (p < end && isblank_byte(*p, delim))
			p++;
		if (p < end && *p == '"') {
			char *start = w;

			for (p++;; p++) {
				if (p == end) {
					P->nf = nf;
					P->why = "unterminated quoted field";
					return SHD_EFORMAT;
				}
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"')
						p++;
					else
						break;
				}
				*w++ = *p;
			}
			p++;	/* the closing quote */
			while (p < end && isblank_byte(*p, delim))
				p++;
			if (p < end && *p != delim) {
				P->nf = nf;
				P->why = "text after a closing quote";
				return SHD_EFORMAT;
			}
			s = start;
			e = w;
		} else {
			s = p;
			p = find_byte(p, end, delim);
			e = p;
			while (e > s && isblank_byte(e[-1], delim))
				e--;
		}
		if (nf == fcap) {
			if (grow_fields(P) < 0)
				return SHD_ENOMEM;
			f = P->f;
			fcap = P->fcap;
		}
		f[nf].p = s;
		f[nf].len = (size_t)(e - s);
		nf++;
		if (p == end) {
			P->nf = nf;
			return 0;
		}
		p++;	/* the delimiter */
	}
}

/* ',' ';' or '\t' from the header line, counting outside quotes. */
static char detect_delim(const char *p, size_t n)
{
	size_t comma = 0, semi = 0, tab = 0;
	int inq = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '"')
			inq = !inq;
		else if (inq)
			continue;
		else if (c == ';' && i + 1 < n && p[i + 1] == '\t')
			return ';';	/* Bitbrains: ";<tab>" */
		else if (c == ',')
			comma++;
		else if (c == ';')
			semi++;
		else if (c == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

/*
 * "NAME: text" (LINENO 0) or "NAME:LINENO: text" into DST of SIZE bytes,
 * truncated when too long.
 */
static void vmessage(char *dst, size_t size, const char *name,
		     uint64_t lineno, const char *fmt, va_list ap)
{
	int k;

	if (lineno)
		k = snprintf(dst, size, "%s:%llu: ", name,
			     (unsigned long long)lineno);
	else
		k = snprintf(dst, size, "%s: ", name);
	if (k >= 0 && (size_t)k < size)
		vsnprintf(dst + k, size - (size_t)k, fmt, ap);
}

/* A problem with the whole file (not a row): always fatal. */
static int fail_file(struct parser *P, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(P->d->msg, sizeof P->d->msg, P->name, 0, fmt, ap);
	va_end(ap);
	return SHD_EFORMAT;
}

static int fail_nomem(struct parser *P)
{
	fail_file(P, "out of memory");
	return SHD_ENOMEM;
}

/* A fatal problem at the current line. */
static int fail_line(struct parser *P, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(P->d->msg, sizeof P->d->msg, P->name, P->lineno, fmt, ap);
	va_end(ap);
	return SHD_EFORMAT;
}

/*
 * A bad row at the current line: fatal (SHD_EFORMAT), or counted and
 * skipped (0) with skip_bad.
 */
static int bad_row(struct parser *P, const char *fmt, ...)
{
	struct shd_diag *d = P->d;
	va_list ap;

	va_start(ap, fmt);
	if (!d->skip_bad) {
		vmessage(d->msg, sizeof d->msg, P->name, P->lineno, fmt, ap);
		va_end(ap);
		return SHD_EFORMAT;
	}
	if (d->nbad < SHD_DIAG_KEEP)
		vmessage(d->first[d->nbad], sizeof d->first[0], P->name,
			 P->lineno, fmt, ap);
	va_end(ap);
	d->nbad++;
	return 0;
}

static char *dup_n(const char *s, size_t n)
{
	char *r = malloc(n + 1);

	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

/*
 * Splits header text into a name and a trailing unit in brackets or
 * parentheses ("CPU usage [%]": "CPU usage", "%"), then normalizes the
 * name: lower case, each run of bytes outside [a-z0-9_.] one "_", no "_"
 * at either end. Sets C->name (NULL when it came out empty) and C->unit.
 */
static int name_and_unit(struct column *c, const char *s, size_t n)
{
	size_t un = 0, i, k = 0;
	const char *u = NULL;
	int gap = 0;

	if (n >= 2 && (s[n - 1] == ']' || s[n - 1] == ')')) {
		char open = s[n - 1] == ']' ? '[' : '(';

		for (i = n - 1; i-- > 0;) {
			if (s[i] == open) {
				u = s + i + 1;
				un = n - 1 - (i + 1);
				n = i;
				break;
			}
		}
		while (u && un && (*u == ' ' || *u == '\t')) {
			u++;
			un--;
		}
		while (u && un && (u[un - 1] == ' ' || u[un - 1] == '\t'))
			un--;
	}
	c->unit = dup_n(u ? u : "", un);
	c->name = malloc(n + 1);
	if (!c->unit || !c->name)
		return SHD_ENOMEM;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '.') {
			if (gap && k)
				c->name[k++] = '_';
			gap = 0;
			c->name[k++] = ch;
		} else {
			gap = 1;
		}
	}
	while (k && c->name[k - 1] == '_')
		k--;
	i = 0;
	while (i < k && c->name[i] == '_')
		i++;
	memmove(c->name, c->name + i, k - i);
	c->name[k - i] = '\0';
	if (k - i == 0) {
		free(c->name);
		c->name = NULL;
	}
	return 0;
}

/*
 * Claims BASE, or BASE_2, BASE_3, ... the first not claimed yet, as a
 * column name, and returns a malloc'ed copy (NULL when out of memory).
 * P->next[id] remembers where the search for a taken name goes on, so a
 * header of many equal names costs linear time, not quadratic.
 */
static char *unique_name(struct parser *P, const char *base)
{
	size_t n = strlen(base) + 24;
	char *s = malloc(n);
	uint32_t id, bid;
	unsigned k;

	if (!s)
		return NULL;
	memcpy(s, base, strlen(base) + 1);
	if (shd_dict_find(P->names, s, strlen(s), &bid) == 0) {
		/* every name in P->names has its next[] (below) */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		k = P->next[bid];
		do
			snprintf(s, n, "%s_%u", base, k++);
		while (shd_dict_find(P->names, s, strlen(s), &id) == 0);
		P->next[bid] = k;
	}
	if (shd_dict_intern(P->names, s, strlen(s), &id) < 0)
		goto nomem;
	if (id >= P->nextcap) {
		size_t cap = P->nextcap ? 2 * P->nextcap : 16;
		unsigned *next = realloc(P->next, cap * sizeof(*next));

		if (!next)
			goto nomem;
		P->next = next;
		P->nextcap = cap;
	}
	P->next[id] = 2;
	return s;
nomem:
	free(s);
	return NULL;
}

/* Column names, units and unique normalized names from the header fields. */
static int read_header(struct parser *P)
{
	P->ncols = P->nf;
	P->cols = calloc(P->ncols, sizeof(*P->cols));
	P->names = shd_dict_new();
	if (!P->cols || !P->names)
		return SHD_ENOMEM;
	for (size_t j = 0; j < P->ncols; j++) {
		struct column *c = &P->cols[j];
		char *base, colname[32];

		c->raw = dup_n(P->f[j].p, P->f[j].len);
		if (!c->raw || name_and_unit(c, P->f[j].p, P->f[j].len) < 0)
			return SHD_ENOMEM;
		if (!c->name) {
			snprintf(colname, sizeof colname, "col%zu", j + 1);
			c->name = strdup(colname);
			if (!c->name)
				return SHD_ENOMEM;
		}
		base = c->name;
		c->name = NULL;
		c->name = unique_name(P, base);
		free(base);
		if (!c->name)
			return SHD_ENOMEM;
		c->numeric = 1;
	}
	return 0;
}

/* The column named WANT (raw header text or normalized name), or -1. */
static long find_column(const struct parser *P, const char *want)
{
	for (size_t j = 0; j < P->ncols; j++)
		if (strcmp(P->cols[j].raw, want) == 0)
			return (long)j;
	for (size_t j = 0; j < P->ncols; j++)
		if (strcmp(P->cols[j].name, want) == 0)
			return (long)j;
	return -1;
}

/* The first column whose name is in NAMES (NULL-terminated), or -1. */
static long find_named(const struct parser *P, const char *const *names,
		       const char *prefix)
{
	for (size_t j = 0; j < P->ncols; j++) {
		const char *n = P->cols[j].name;

		for (size_t i = 0; names[i]; i++)
			if (strcmp(n, names[i]) == 0)
				return (long)j;
		if (prefix && strncmp(n, prefix, strlen(prefix)) == 0)
			return (long)j;
	}
	return -1;
}

static int lower_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (word[i] == '\0' || c != word[i])
			return 0;
	}
	return word[i] == '\0';
}

/* "NA", "null", "None", "N/A" (any case); "nan" is a number already. */
static int nan_token(const char *s, size_t n)
{
	return lower_eq(s, n, "na") || lower_eq(s, n, "null") ||
	       lower_eq(s, n, "none") || lower_eq(s, n, "n/a") ||
	       lower_eq(s, n, "nan");
}

/* The value of a metric cell: 0 and *V (NaN when missing), or -1. */
static int cell_value(const struct field *f, double *v)
{
	if (f->len == 0) {
		*v = NAN;
		return 0;
	}
	if (shd_parse_double(f->p, f->len, v) == 0)
		return 0;
	if (nan_token(f->p, f->len)) {
		*v = NAN;
		return 0;
	}
	return -1;
}

/*
 * Looks at up to NSNIFF data rows after the header to mark the columns
 * that hold anything but numbers and NaN tokens. Rows that do not split
 * into the right number of fields are left for the main pass to report.
 */
static int sniff(struct parser *P)
{
	size_t rows = 0;
	uint64_t lineno = P->lineno;
	const char *line;
	size_t n;
	int rc = 0;

	P->mark = P->pos;	/* the rows stay in a window (refill) */
	P->marking = 1;
	while (rows < NSNIFF && next_line(P, &line, &n) > 0) {
		if (skip_line(line, n))
			continue;
		rows++;
		rc = split(P, line, n);
		if (rc == SHD_ENOMEM)
			break;
		rc = 0;
		if (P->nf != P->ncols)
			continue;
		for (size_t j = 0; j < P->ncols; j++) {
			double v;

			if (cell_value(&P->f[j], &v) < 0)
				P->cols[j].ntext++;
			else if (!isnan(v))
				P->cols[j].nnum++;
		}
	}
	/*
	 * A column is text only when its text cells outnumber its numbers, so
	 * that one typo in a metric is reported as a bad row, not taken as a
	 * reason to drop the whole column.
	 */
	for (size_t j = 0; j < P->ncols; j++)
		P->cols[j].numeric = P->cols[j].ntext <= P->cols[j].nnum;
	P->pos = P->mark;
	P->marking = 0;
	P->lineno = lineno;
	return rc;
}

static int add_metric(struct parser *P, size_t col, const char *name)
{
	int mi = shd_acc_metric(P->a, name, P->cols[col].unit);

	if (mi == SHD_ENOMEM)
		return fail_nomem(P);
	if (mi < 0)
		return fail_file(P, "bad metric name '%s'", name);
	P->m[P->nm].col = col;
	P->m[P->nm].mi = mi;
	P->nm++;
	return 0;
}

/* Time and key columns, then the metrics, registered with the accumulator. */
static int pick_columns(struct parser *P)
{
	static const char *const time_names[] = {
		"time", "timestamp", "date", "datetime", "ts", NULL,
	};
	static const char *const key_names[] = {
		"resource", "instance", "host", "hostname", "node", "vm",
		"machine", "pod", "container", "server", "series", NULL,
	};
	const struct shd_parse_opts *o = P->o;
	size_t cap;
	int rc;

	P->tcol = -1;
	if (!o->has_start) {
		if (o->time_col) {
			P->tcol = find_column(P, o->time_col);
			if (P->tcol < 0)
				return fail_file(P, "no column '%s'",
						 o->time_col);
		} else {
			P->tcol = find_named(P, time_names, "timestamp");
		}
		if (P->tcol < 0)
			return fail_file(P, "no time column (hint: name it with "
				"--time-col, or give --start and --step)");
	}
	if (o->key_col) {
		P->kcol = find_column(P, o->key_col);
		if (P->kcol < 0)
			return fail_file(P, "no column '%s'", o->key_col);
	} else {
		P->kcol = find_named(P, key_names, NULL);
	}

	cap = o->nrenames ? o->nrenames : P->ncols;
	P->m = calloc(cap ? cap : 1, sizeof(*P->m));
	P->vals = calloc(cap ? cap : 1, sizeof(*P->vals));
	if (!P->m || !P->vals)
		return fail_nomem(P);
	if (o->nrenames) {
		for (size_t i = 0; i < o->nrenames; i++) {
			const struct shd_rename *r = &o->renames[i];
			long j = find_column(P, r->from);

			if (j < 0)
				return fail_file(P, "no column '%s'", r->from);
			if ((rc = add_metric(P, (size_t)j, r->to)) < 0)
				return rc;
		}
		return 0;
	}
	if (sniff(P) < 0)
		return fail_nomem(P);
	if (o->metric) {
		/* --metric NAME names the one metric column of the file. */
		size_t found = 0, col = 0;
		for (size_t j = 0; j < P->ncols; j++)
			if ((long)j != P->tcol && (long)j != P->kcol &&
			    P->cols[j].numeric) {
				found++;
				col = j;
			}
		if (found != 1)
			return fail_file(P, "--metric %s: %zu metric columns, "
					 "not one (hint: --metric NEW=OLD "
					 "names which)", o->metric, found);
		return add_metric(P, col, o->metric);
	}
	for (size_t j = 0; j < P->ncols; j++) {
		const char *n = P->cols[j].name;
		char *alt;

		if ((long)j == P->tcol || (long)j == P->kcol ||
		    !P->cols[j].numeric)
			continue;
		if (strcmp(n, "time") != 0 && strcmp(n, "resource") != 0) {
			if ((rc = add_metric(P, j, n)) < 0)
				return rc;
			continue;
		}
		/* Names the output reserves: "time_2", "resource_2". */
		alt = unique_name(P, n);
		if (!alt)
			return fail_nomem(P);
		rc = add_metric(P, j, alt);
		free(alt);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The key of rows when the file has no key column, and its length. */
static const char *default_key(const struct shd_parse_opts *o, size_t *len)
{
	const char *key = o->default_key && *o->default_key ?
			  o->default_key : "default";

	*len = strlen(key);
	return key;
}

/* The series of key K (LEN bytes), from the one-entry cache when it can. */
static struct shd_series *series_of(struct parser *P, const char *k,
				    size_t len)
{
	if (P->last && len == P->lastlen && memcmp(k, P->lastkey, len) == 0)
		return P->last;
	if (len > P->lastcap) {
		char *s = realloc(P->lastkey, len);

		if (!s)
			return NULL;
		P->lastkey = s;
		P->lastcap = len;
	}
	P->last = NULL;
	memcpy(P->lastkey, k, len);
	P->lastlen = len;
	P->last = shd_acc_series(P->a, k, len);
	return P->last;
}

static int show_len(size_t len)
{
	return len > SHOW ? SHOW : (int)len;
}

/*
 * The fast path: one pass over a row that splits it and parses its
 * numbers as it goes, for rows without quotes whose cells are all fine.
 * It changes nothing until the row is known to be good, so that anything
 * unusual (a quote, a bad or odd cell, a wrong field count) can return
 * FALLBACK and leave the row to split() and do_row(), which then say
 * exactly what is wrong. The results are the same either way.
 */

/* Sets up P->role and P->mi; the fast path stays off when a column has
 * two roles (a key that is also a metric, two renames of one column). */
static int fast_setup(struct parser *P)
{
	P->role = malloc((P->ncols ? P->ncols : 1) * sizeof(*P->role));
	P->mi = malloc((P->nm ? P->nm : 1) * sizeof(*P->mi));
	if (!P->role || !P->mi)
		return SHD_ENOMEM;
	for (size_t j = 0; j < P->ncols; j++)
		P->role[j] = ROLE_SKIP;
	P->fast = 1;
	if (P->tcol >= 0)
		P->role[P->tcol] = ROLE_TIME;
	if (P->kcol >= 0) {
		if (P->role[P->kcol] != ROLE_SKIP)
			P->fast = 0;
		P->role[P->kcol] = ROLE_KEY;
	}
	for (size_t i = 0; i < P->nm; i++) {
		if (P->role[P->m[i].col] != ROLE_SKIP)
			P->fast = 0;
		P->role[P->m[i].col] = (int)i;
		P->mi[i] = P->m[i].mi;
	}
	return 0;
}

static const double pow10_dbl[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* mant / 10^nfrac with the sign: exact operands (mant <= 2^53, nfrac <=
 * 22), so the one rounding of the division is the correct one, as in
 * shd_parse_double. */
static double decimal(uint64_t mant, size_t nfrac, int neg)
{
	double d = (double)mant;

	if (nfrac)
		d /= pow10_dbl[nfrac];
	return neg ? -d : d;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HAVE_SWAR 1
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The bytes of W that are not ASCII digits, as their bit 7. With A the low
 * seven bits of a byte, A + 0x50 sets bit 7 when the byte is >= '0' and
 * A + 0x46 when it is > '9'; neither sum carries into the next byte.
 */
static uint64_t nondigits(uint64_t w)
{
	uint64_t a = w & UINT64_C(0x7f7f7f7f7f7f7f7f);
	uint64_t digit = (a + UINT64_C(0x5050505050505050)) &
			 ~(a + UINT64_C(0x4646464646464646)) & ~w & HIGHS;

	return ~digit & HIGHS;
}

/*
 * The number written by the first K (1..8) bytes of W, all digits: shifted
 * to the top of the word (zeros, as leading digits, below), then combined
 * in pairs, fours and eight with three multiplies.
 */
static uint64_t eight_digits(uint64_t w, size_t k)
{
	uint64_t d = (w & UINT64_C(0x0f0f0f0f0f0f0f0f)) << (8 * (8 - k));

	d = d * 10 + (d >> 8);
	d = (((d & UINT64_C(0x000000ff000000ff)) *
	      (100 + (UINT64_C(1000000) << 32))) +
	     (((d >> 16) & UINT64_C(0x000000ff000000ff)) *
	      (1 + (UINT64_C(10000) << 32)))) >> 32;
	return (uint32_t)d;
}
#endif

/*
 * A plain decimal "[+-]ddd[.ddd]" of at most 19 digits at P, ended by the
 * delimiter or END: the value in *V and the end returned. NULL for
 * anything else, which the general parser then decides.
 *
 * Numbers of at most 8 bytes after the sign ("2.50", "259.6") are read as
 * one word when eight bytes are there to read (before BUFEND): the dot is
 * cut out of it, and the digits before and after it become one integer.
 */
static const char *scan_number(const char *p, const char *end,
			       const char *bufend, char delim, double *v)
{
	uint64_t mant = 0;
	size_t nd = 0, nfrac = 0;
	unsigned dig;
	int neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
#ifdef HAVE_SWAR
	if (bufend - p >= 8) {
		uint64_t w, nd8, low;
		size_t k, dot, stop;

		memcpy(&w, p, 8);
		nd8 = nondigits(w);
		if (end - p < 8)	/* the line ends inside the word */
			nd8 |= HIGHS << (8 * (end - p));
		dot = nd8 ? (size_t)__builtin_ctzll(nd8) >> 3 : 8;
		k = dot;
		stop = dot;
		if (dot < 7 && p + dot < end && p[dot] == '.') {
			/* Cut out the dot: bytes above it move down one. */
			low = (UINT64_C(1) << (8 * dot)) - 1;
			w = (w & low) | ((w >> 8) & ~low);
			nd8 = (nd8 & low) | ((nd8 >> 8) & ~low) |
			      (UINT64_C(0x80) << 56);
			k = (size_t)__builtin_ctzll(nd8) >> 3;
			stop = k + 1;
			nfrac = k - dot;
		}
		if (stop < 8 && k > 0 &&
		    (p + stop == end || p[stop] == delim)) {
			*v = decimal(eight_digits(w, k), nfrac, neg);
			return p + stop;
		}
		nfrac = 0;
	}
#else
	(void)bufend;
#endif
	for (; p < end && (dig = (unsigned)(*p - '0')) < 10; p++, nd++)
		mant = mant * 10 + dig;
	if (p < end && *p == '.')
		for (p++; p < end && (dig = (unsigned)(*p - '0')) < 10;
		     p++, nd++, nfrac++)
			mant = mant * 10 + dig;
	/* (More than 19 digits may wrap MANT around: refused anyway.) */
	if (nd == 0 || nd > 19 || (p < end && *p != delim) ||
	    mant > (UINT64_C(1) << 53))
		return NULL;
	*v = decimal(mant, nfrac, neg);
	return p;
}

/*
 * The milliseconds of the clock of a time shaped exactly
 * "YYYY-MM-DD HH:MM:SS" (or with "T"/"t" between), 19 bytes at S, when
 * it is a clock parse_iso takes (a second of 60 included); else -1.
 * Only the clock part is looked at here.
 */
static int64_t clock_ms(const char *s)
{
	unsigned h1 = (unsigned)(s[11] - '0'), h2 = (unsigned)(s[12] - '0');
	unsigned m1 = (unsigned)(s[14] - '0'), m2 = (unsigned)(s[15] - '0');
	unsigned s1 = (unsigned)(s[17] - '0'), s2 = (unsigned)(s[18] - '0');
	unsigned h, mi, sec;

	if ((s[10] != ' ' && s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
	    s[16] != ':' || ((h1 > 9) | (h2 > 9) | (m1 > 9) | (m2 > 9) |
			     (s1 > 9) | (s2 > 9)))
		return -1;
	h = h1 * 10 + h2;
	mi = m1 * 10 + m2;
	sec = s1 * 10 + s2;
	if (h > 23 || mi > 59 || sec > 60)
		return -1;
	return ((int64_t)h * 3600 + mi * 60 + sec) * 1000;
}

/*
 * The time of the text S (LEN bytes, trimmed), through two caches: the
 * date of the last "YYYY-MM-DD HH:MM:SS" (a new clock on the same day
 * costs no calendar arithmetic), and the whole text of the last time
 * (rows of many resources at one time come one after another).
 */
static int row_time(struct parser *P, const char *s, size_t len, int64_t *t)
{
	int64_t c;

	if (len == 19 && P->haveday && memcmp(s, P->lastdate, 10) == 0 &&
	    (c = clock_ms(s)) >= 0) {
		*t = P->lastday + c;
		return 0;
	}
	if (len && len == P->lasttlen && memcmp(s, P->lasttime, len) == 0) {
		*t = P->lastt;
		return 0;
	}
	if (shd_time_parse(s, len, t) < 0)
		return SHD_EINVAL;
	/*
	 * A digit first and "-" at 4: no blanks were trimmed and parse_iso
	 * read it, so with the clock shape checked the time is the date's
	 * midnight plus the clock.
	 */
	if (len == 19 && (unsigned)(s[0] - '0') <= 9 && s[4] == '-' &&
	    (c = clock_ms(s)) >= 0) {
		memcpy(P->lastdate, s, 10);
		P->lastday = *t - c;
		P->haveday = 1;
	}
	if (len && len <= sizeof P->lasttime) {
		memcpy(P->lasttime, s, len);
		P->lasttlen = len;
		P->lastt = *t;
	}
	return 0;
}

/*
 * 1 when the N bytes at A and B are equal. Short keys are compared as two
 * overlapping words (first and last 8 or 4 bytes), with no call.
 */
static int same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t x4, y4, u4, v4;

	if (n >= 8) {
		for (; n > 8; a += 8, b += 8, n -= 8) {
			memcpy(&x, a, 8);
			memcpy(&y, b, 8);
			if (x != y)
				return 0;
		}
		/* The last 8 bytes (overlapping what was compared). */
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&x4, a, 4);
		memcpy(&y4, b, 4);
		memcpy(&u4, a + n - 4, 4);
		memcpy(&v4, b + n - 4, 4);
		return x4 == y4 && u4 == v4;
	}
	for (; n; a++, b++, n--)
		if (*a != *b)
			return 0;
	return 1;
}

/* One data row the fast way: 0, FALLBACK, or SHD_ENOMEM. */
static int fast_row(struct parser *P, const char *p, size_t n, uint64_t rowno)
{
	const char *end = p + n, *bufend = P->buf + P->len;
	const char delim = P->delim;
	const char *ts = NULL, *key = NULL;
	size_t tlen = 0, klen = 0;
	struct shd_series *s;
	int64_t t;

	for (size_t j = 0; j < P->ncols; j++) {
		int role = P->role[j];
		const char *f, *e;

		if (j) {
			if (p == end)
				return FALLBACK;	/* too few fields */
			p++;				/* the delimiter */
		}
		/* One test for the usual field start: blanks, a quote (and
		 * control bytes) are all <= ' ' or '"'. */
		if (p < end && (unsigned char)*p <= '"') {
			while (p < end && isblank_byte(*p, delim))
				p++;
			if (p < end && *p == '"')
				return FALLBACK;
		}
		if (role >= 0) {
			const char *q;
			struct field cell;

			if (p == end || *p == delim) {
				P->vals[role] = NAN;
				continue;
			}
			q = scan_number(p, end, bufend, delim, &P->vals[role]);
			if (q) {
				p = q;
				continue;
			}
			/* Trailing blanks, exponents, "NaN", ... */
			f = p;
			p = e = find_byte(p, end, delim);
			while (e > f && isblank_byte(e[-1], delim))
				e--;
			cell.p = f;
			cell.len = (size_t)(e - f);
			if (cell_value(&cell, &P->vals[role]) < 0)
				return FALLBACK;
			continue;
		}
		f = p;
		p = e = find_byte(p, end, delim);
		while (e > f && isblank_byte(e[-1], delim))
			e--;
		if (role == ROLE_TIME) {
			ts = f;
			tlen = (size_t)(e - f);
		} else if (role == ROLE_KEY) {
			key = f;
			klen = (size_t)(e - f);
		}
	}
	if (p != end)
		return FALLBACK;	/* too many fields */

	if (P->tcol >= 0) {
		if (row_time(P, ts, tlen, &t) < 0)
			return FALLBACK;
	} else {
		t = (int64_t)((uint64_t)P->o->start +
			      rowno * (uint64_t)P->o->step);
	}
	if (P->kcol >= 0) {
		if (klen == 0)
			return FALLBACK;
		if (P->last && klen == P->lastlen &&
		    same_bytes(key, P->lastkey, klen)) {
			s = P->last;
		} else {
			if (memchr(key, '\0', klen))
				return FALLBACK;
			s = series_of(P, key, klen);
		}
	} else {
		key = default_key(P->o, &klen);
		s = series_of(P, key, klen);
	}
	if (!s || shd_series_row_values(s, P->source, t, P->mi, P->vals,
					P->nm) < 0)
		return fail_nomem(P);
	return 0;
}

/* One data row (already split). 0, SHD_EFORMAT or SHD_ENOMEM. */
static int do_row(struct parser *P, uint64_t rowno)
{
	const struct shd_parse_opts *o = P->o;
	struct shd_series *s;
	const char *key;
	size_t klen;
	int64_t t;

	if (P->nf != P->ncols)
		return bad_row(P, "%zu field%s, expected %zu", P->nf,
			       P->nf == 1 ? "" : "s", P->ncols);
	if (P->tcol >= 0) {
		const struct field *f = &P->f[P->tcol];

		if (row_time(P, f->p, f->len, &t) < 0)
			return bad_row(P, "bad time '%.*s'",
				       show_len(f->len), f->p);
	} else {
		/* Wraps instead of overflowing on absurd --start/--step. */
		t = (int64_t)((uint64_t)o->start + rowno * (uint64_t)o->step);
	}
	for (size_t i = 0; i < P->nm; i++) {
		const struct field *f = &P->f[P->m[i].col];

		if (cell_value(f, &P->vals[i]) < 0)
			return bad_row(P, "column '%s': '%.*s' is not a number",
				       P->cols[P->m[i].col].name,
				       show_len(f->len), f->p);
	}
	if (P->kcol >= 0) {
		key = P->f[P->kcol].p;
		klen = P->f[P->kcol].len;
		if (klen == 0)
			return bad_row(P, "empty key in column '%s'",
				       P->cols[P->kcol].name);
		if (memchr(key, '\0', klen))
			return bad_row(P, "NUL byte in key");
	} else {
		key = default_key(o, &klen);
	}
	s = series_of(P, key, klen);
	if (!s || shd_series_row_values(s, P->source, t, P->mi, P->vals,
					P->nm) < 0)
		return fail_nomem(P);
	return 0;
}

static void parser_release(struct parser *P)
{
	for (size_t j = 0; j < P->ncols; j++) {
		free(P->cols[j].raw);
		free(P->cols[j].name);
		free(P->cols[j].unit);
	}
	free(P->cols);
	shd_dict_free(P->names);
	free(P->next);
	free(P->f);
	free(P->scratch);
	free(P->m);
	free(P->vals);
	free(P->lastkey);
	free(P->role);
	free(P->mi);
}

/* Parses the member P was set up for (parser_init and its lines). */
static int parse(struct parser *P)
{
	const char *line;
	size_t n;
	uint64_t rowno = 0;
	int rc = 0, k, have_header = 0;
	static const char toolong[] = "line longer than 1 MiB (not "
				      "delimited text?)";

	while (P->pc && !P->eof && P->len < 3)	/* enough to see a BOM */
		refill(P);
	if (P->len >= 3 && memcmp(P->buf, "\xEF\xBB\xBF", 3) == 0)
		P->pos = 3;

	while ((k = next_line(P, &line, &n)) != 0) {
		if (k < 0)
			return fail_line(P, "header: %s", toolong);
		if (skip_line(line, n))
			continue;
		P->delim = P->o->delim ? P->o->delim : detect_delim(line, n);
		rc = split(P, line, n);
		if (rc == SHD_ENOMEM)
			return fail_nomem(P);
		if (rc < 0)
			return fail_line(P, "header: %s", P->why);
		if (P->nf > MAX_COLUMNS)
			return fail_line(P, "header: %zu columns, more than "
					 "the %d a stream can hold", P->nf,
					 MAX_COLUMNS);
		have_header = 1;
		break;
	}
	if (!have_header)
		return fail_file(P, "no header line");
	if (read_header(P) < 0)
		return fail_nomem(P);
	if ((rc = pick_columns(P)) < 0)
		return rc;
	if (fast_setup(P) < 0)
		return fail_nomem(P);
	P->source = shd_acc_source(P->a);

	while ((k = next_line(P, &line, &n)) != 0) {
		if (k < 0)	/* not a row to skip: where it ends is unknown */
			return fail_line(P, "%s", toolong);
		if (skip_line(line, n))
			continue;
		if (P->fast) {
			rc = fast_row(P, line, n, rowno);
			if (rc != FALLBACK) {
				rowno++;
				if (rc < 0)
					return rc;
				continue;
			}
		}
		rc = split(P, line, n);
		if (rc == SHD_ENOMEM)
			return fail_nomem(P);
		if (rc < 0)
			rc = bad_row(P, "%s", P->why);
		else
			rc = do_row(P, rowno);
		rowno++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void parser_init(struct parser *P, struct shd_acc *a, const char *name,
			const struct shd_parse_opts *o, struct shd_diag *d)
{
	static const struct shd_parse_opts no_opts;

	memset(P, 0, sizeof(*P));
	P->a = a;
	P->name = name ? name : "<input>";
	P->o = o ? o : &no_opts;
	P->d = d ? d : &P->own_diag;
	P->kcol = P->tcol = -1;
}

int shd_parse_delimited(struct shd_acc *a, const char *buf, size_t len,
			const char *name, const struct shd_parse_opts *o,
			struct shd_diag *d)
{
	struct parser P;
	int rc;

	parser_init(&P, a, name, o, d);
	P.buf = buf;
	P.len = buf ? len : 0;
	rc = parse(&P);
	parser_release(&P);
	return rc;
}

int shd_parse_delimited_pieces(struct shd_acc *a, struct shd_pieces *pc,
			       const char *name,
			       const struct shd_parse_opts *o,
			       struct shd_diag *d)
{
	struct parser P;
	int rc;

	parser_init(&P, a, name, o, d);
	P.pc = pc;
	P.wcap = pc->headlen > PIECE ? pc->headlen : PIECE;
	if (!(P.win = malloc(P.wcap)))
		return fail_nomem(&P);
	if (pc->headlen)
		memcpy(P.win, pc->head, pc->headlen);
	P.buf = P.win;
	P.len = pc->headlen;
	rc = parse(&P);
	/* a read error ends the lines early: it, not what follows, is the
	 * reason */
	if (P.rderr == SHD_ENOMEM)
		rc = fail_nomem(&P);
	else if (P.rderr) {
		fail_line(&P, "cannot read: %s", pc->err);
		rc = P.rderr;
	}
	free(P.win);
	parser_release(&P);
	return rc;
}
