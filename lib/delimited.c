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
	struct shd_diag *d;
	char delim;

	/* Lines: the buffer, where the next line starts, its number. */
	const char *buf;
	size_t len, pos;
	uint64_t lineno;

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
};

static int isblank_byte(char c, char delim)
{
	return c == ' ' || (c == '\t' && delim != '\t');
}

/*
 * The next physical line in *LINE, *N bytes without its LF or CRLF (or a
 * lone CR at the very end). Returns 0 at the end of the buffer.
 */
static int next_line(struct parser *P, const char **line, size_t *n)
{
	const char *p, *nl;
	size_t rest;

	if (P->pos >= P->len)
		return 0;
	p = P->buf + P->pos;
	rest = P->len - P->pos;
	nl = memchr(p, '\n', rest);
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
	size_t pos = P->pos, rows = 0;
	uint64_t lineno = P->lineno;
	const char *line;
	size_t n;
	int rc = 0;

	while (rows < NSNIFF && next_line(P, &line, &n)) {
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
	P->pos = pos;
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
	if ((rc = sniff(P)) < 0)
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

		if (f->len && f->len == P->lasttlen &&
		    memcmp(f->p, P->lasttime, f->len) == 0) {
			t = P->lastt;
		} else {
			if (shd_time_parse(f->p, f->len, &t) < 0)
				return bad_row(P, "bad time '%.*s'",
					       show_len(f->len), f->p);
			if (f->len <= sizeof P->lasttime) {
				memcpy(P->lasttime, f->p, f->len);
				P->lasttlen = f->len;
				P->lastt = t;
			}
		}
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
		key = o->default_key ? o->default_key : "default";
		klen = strlen(key);
		if (klen == 0) {
			key = "default";
			klen = 7;
		}
	}
	s = series_of(P, key, klen);
	if (!s || shd_series_row(s, P->source, t) < 0)
		return fail_nomem(P);
	for (size_t i = 0; i < P->nm; i++) {
		double v = P->vals[i];

		if (isnan(v))	/* missing */
			continue;
		if (shd_series_set(s, P->m[i].mi, v) < 0) {
			shd_series_drop_row(s);
			return fail_nomem(P);
		}
	}
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
}

int shd_parse_delimited(struct shd_acc *a, const char *buf, size_t len,
			const char *name, const struct shd_parse_opts *o,
			struct shd_diag *d)
{
	static const struct shd_parse_opts no_opts;
	struct shd_diag local;
	struct parser P;
	const char *line;
	size_t n;
	uint64_t rowno = 0;
	int rc = 0, have_header = 0;

	memset(&P, 0, sizeof P);
	if (!d) {
		memset(&local, 0, sizeof local);
		d = &local;
	}
	P.a = a;
	P.name = name ? name : "<input>";
	P.o = o ? o : &no_opts;
	P.d = d;
	P.buf = buf;
	P.len = buf ? len : 0;
	P.kcol = P.tcol = -1;
	if (P.len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		P.pos = 3;

	while (next_line(&P, &line, &n)) {
		if (skip_line(line, n))
			continue;
		P.delim = P.o->delim ? P.o->delim : detect_delim(line, n);
		rc = split(&P, line, n);
		if (rc == SHD_ENOMEM) {
			rc = fail_nomem(&P);
			goto out;
		}
		if (rc < 0) {
			rc = fail_line(&P, "header: %s", P.why);
			goto out;
		}
		have_header = 1;
		break;
	}
	if (!have_header) {
		rc = fail_file(&P, "no header line");
		goto out;
	}
	if ((rc = read_header(&P)) < 0) {
		rc = fail_nomem(&P);
		goto out;
	}
	if ((rc = pick_columns(&P)) < 0)
		goto out;
	P.source = shd_acc_source(a);

	while (next_line(&P, &line, &n)) {
		if (skip_line(line, n))
			continue;
		rc = split(&P, line, n);
		if (rc == SHD_ENOMEM) {
			rc = fail_nomem(&P);
			goto out;
		}
		if (rc < 0)
			rc = bad_row(&P, "%s", P.why);
		else
			rc = do_row(&P, rowno);
		rowno++;
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	parser_release(&P);
	return rc;
}
