/*
 * openmetrics.c - a stream as OpenMetrics text for promtool's backfill
 * (openmetrics.h has the picture).
 *
 * What Prometheus' OpenMetrics parser (model/textparse) and promtool's
 * backfill hold us to:
 *  - names: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*,
 *    label names starting "__" are Prometheus' own;
 *  - label values and HELP text are UTF-8, with \\, \" and \n escaped;
 *  - "# UNIT name unit" is refused unless name ends in "_unit", so a UNIT
 *    line is written only then; the unit always goes into the HELP text;
 *  - a sample's time is seconds, which the parser turns into milliseconds
 *    as int64(seconds * 1000): truncated, so "1096294184.307" becomes
 *    ...306 ms. shd_om_time writes one more digit where that happens;
 *  - every sample needs a time, the text ends with "# EOF", the samples of
 *    a family come together and each series in time order (the backfill
 *    appends block by block and refuses a sample older than the last one
 *    of its series, or two at the same time).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openmetrics.h"

#define PREFIX "shd_"

/* One metric column: a gauge family. */
struct family {
	int col;		/* index in the schema */
	enum shd_type type;	/* SHD_F64 or SHD_F32 */
	char *name;		/* family name */
	char *head;		/* the TYPE, UNIT and HELP lines */
	FILE *tmp;		/* its samples until the end; NULL: straight
				 * to out (the first family) */
};

struct shd_om {
	FILE *out;
	int tcol, kcol;		/* time and key column; kcol -1 when none */
	char *label;		/* the label name (NULL without a key) */
	struct family *fam;
	size_t nfam;
	int started;		/* the first family's head is written */
	int failed;		/* a row or a write failed: no "# EOF" ever */
	struct shd_dict *keys;	/* every resource seen, in order */
	char *cur;		/* the current resource's name (NULL: none) */
	size_t curlen;
	char *lab;		/* its escaped label value */
	size_t lablen;
	int64_t last;		/* the time of its last row */
	unsigned long long samples;
	char err[512];
};

/* ------------------------------------------------------------- helpers */

static int set_err(struct shd_om *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct shd_om *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	/* Names come from the input: no control bytes in messages. */
	for (char *p = w->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return code;
}

static int is_name_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == ':';
}

size_t shd_om_name(const char *name, char *buf, size_t n)
{
	size_t k = strlen(PREFIX), len = k + strlen(name);

	if (n == 0)
		return len;
	for (size_t i = 0; i < len && i + 1 < n; i++) {
		unsigned char ch = i < k ? (unsigned char)PREFIX[i]
					 : (unsigned char)name[i - k];

		buf[i] = is_name_char(ch) ? (char)ch : '_';
	}
	buf[len < n ? len : n - 1] = '\0';
	return len;
}

/* A label name from column NAME: [a-zA-Z_][a-zA-Z0-9_]*, not "__...". */
static char *label_name(const char *name)
{
	size_t len = strlen(name);
	char *s = malloc(len + 3), *p = s;

	if (!s)
		return NULL;
	if (len == 0 || (name[0] >= '0' && name[0] <= '9') ||
	    strncmp(name, "__", 2) == 0)
		*p++ = 'k';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		*p++ = is_name_char(ch) && ch != ':' ? (char)ch : '_';
	}
	*p = '\0';
	return s;
}

/*
 * The length of the UTF-8 sequence at S (N bytes left), or 0 when it is
 * not valid UTF-8 (overlong forms, surrogates and code points past
 * U+10FFFF are not, as for Go's utf8.Valid).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return k;
}

/*
 * Appends S (LEN bytes) escaped for a label value or HELP text to the
 * malloc'd *DST (*DLEN bytes): \\, \" and \n. Bytes that are not UTF-8
 * make it fail (1) unless REPLACE, which writes '?' for them (HELP text
 * is for people). 0, 1, or SHD_ENOMEM.
 */
static int escape(char **dst, size_t *dlen, const char *s, size_t len,
		  int replace)
{
	char *d = realloc(*dst, *dlen + 2 * len + 1);
	size_t k = *dlen;

	if (!d)
		return SHD_ENOMEM;
	*dst = d;
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)s[i];
		size_t u = utf8_len((const unsigned char *)s + i, len - i);

		if (u == 0) {
			if (!replace)
				return 1;
			d[k++] = '?';
			i++;
			continue;
		}
		if (ch == '\\' || ch == '"') {
			d[k++] = '\\';
			d[k++] = (char)ch;
		} else if (ch == '\n') {
			d[k++] = '\\';
			d[k++] = 'n';
		} else {
			memcpy(d + k, s + i, u);
			k += u;
		}
		i += u;
	}
	d[k] = '\0';
	*dlen = k;
	return 0;
}

/*
 * The OpenMetrics spelling of a stream's unit: itself when it is made of
 * name characters ("bytes", "MiB"), a few usual ones spelled out, else
 * NULL.
 */
static const char *om_unit(const char *u)
{
	static const char *const map[][2] = {
		{ "%", "percent" },
		{ "s", "seconds" },
		{ "ms", "milliseconds" },
		{ "bytes/s", "bytes_per_second" },
		{ "B", "bytes" },
		{ "B/s", "bytes_per_second" },
	};
	int plain = *u != '\0';

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(u, map[i][0]) == 0)
			return map[i][1];
	for (const char *p = u; *p; p++)
		if (!is_name_char((unsigned char)*p))
			plain = 0;
	return plain ? u : NULL;
}

static int ends_with_unit(const char *name, const char *unit)
{
	size_t n = strlen(name), k = strlen(unit);

	return n > k + 1 && name[n - k - 1] == '_' &&
	       strcmp(name + n - k, unit) == 0;
}

/* The TYPE, UNIT and HELP lines of column C as family F->name. */
static int make_head(struct family *f, const struct shd_column *c)
{
	const char *unit = om_unit(c->unit);
	char *help = NULL;
	size_t hlen = 0;
	int r;

	r = escape(&help, &hlen, c->name, strlen(c->name), 1);
	if (r == 0 && *c->unit) {
		char *h = realloc(help, hlen + 8);

		if (!h) {
			free(help);
			return SHD_ENOMEM;
		}
		help = h;
		memcpy(help + hlen, ", unit ", 8);
		hlen += 7;
		r = escape(&help, &hlen, c->unit, strlen(c->unit), 1);
	}
	if (r < 0) {
		free(help);
		return SHD_ENOMEM;
	}
	size_t n = 3 * strlen(f->name) + strlen(help) +
		   (unit ? strlen(unit) : 0) + 64;
	f->head = malloc(n);
	if (!f->head) {
		free(help);
		return SHD_ENOMEM;
	}
	int k = snprintf(f->head, n, "# TYPE %s gauge\n", f->name);
	if (unit && ends_with_unit(f->name, unit))
		k += snprintf(f->head + k, n - (size_t)k, "# UNIT %s %s\n",
			      f->name, unit);
	snprintf(f->head + k, n - (size_t)k, "# HELP %s shd column %s\n",
		 f->name, help);
	free(help);
	return 0;
}

size_t shd_om_time(int64_t ms, char *buf)
{
	/* |ms| as unsigned, so that INT64_MIN has a magnitude too. */
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	int n;

	if (a % 1000 == 0)
		return (size_t)snprintf(buf, 32, "%s%" PRIu64, ms < 0 ? "-" : "",
					a / 1000);
	n = snprintf(buf, 32, "%s%" PRIu64 ".%03u", ms < 0 ? "-" : "",
		     a / 1000, (unsigned)(a % 1000));
	/*
	 * Prometheus reads the seconds as a double and truncates seconds *
	 * 1000 toward zero; when that falls short of MS, a tenth of a
	 * millisecond more (away from zero) makes it land on MS (the doubles
	 * there are far closer together than that).
	 */
	double t = strtod(buf, NULL) * 1000.0;
	if (t < -9.2e18 || t > 9.2e18 || (int64_t)t != ms) {
		buf[n++] = '1';
		buf[n] = '\0';
	}
	return (size_t)n;
}

/* The time and key columns: by name, else the only one of the type. */
static int find_col(const struct shd_schema *s, enum shd_type t,
		    const char *name, int *j)
{
	int k = shd_schema_find(s, name), count = 0;

	*j = -1;
	if (k >= 0 && s->cols[k].type == t) {
		*j = k;
		return 0;
	}
	for (size_t i = 0; i < s->ncols; i++) {
		if (s->cols[i].type == t) {
			*j = (int)i;
			count++;
		}
	}
	if (count > 1)
		*j = -1;
	return count > 1 ? -1 : 0;
}

/* --------------------------------------------------------------- writer */

static int add_family(struct shd_om *w, const struct shd_schema *s, int j,
		      const char *tmpdir)
{
	const struct shd_column *c = &s->cols[j];
	struct family *f = &w->fam[w->nfam];
	size_t n = shd_om_name(c->name, NULL, 0) + 1;

	if (c->type != SHD_F64 && c->type != SHD_F32) {
		const char *what = shd_type_name(c->type);
		return set_err(w, SHD_EINVAL, "column '%.100s' is of type %s, "
			       "not a metric (f64 or f32): only utilization "
			       "streams, or metric columns chosen with -c, "
			       "can be written as OpenMetrics", c->name,
			       what ? what : "?");
	}
	f->col = j;
	f->type = c->type;
	f->name = malloc(n);
	if (!f->name)
		return SHD_ENOMEM;
	shd_om_name(c->name, f->name, n);
	for (size_t k = 0; k < w->nfam; k++)
		if (strcmp(w->fam[k].name, f->name) == 0) {
			int r = set_err(w, SHD_EINVAL, "columns '%.100s' and "
					"'%.100s' both make the metric "
					"%.200s", s->cols[w->fam[k].col].name,
					c->name, f->name);
			free(f->name);
			return r;
		}
	w->nfam++;	/* from here on f is freed with the writer */
	if (make_head(f, c) < 0)
		return SHD_ENOMEM;
	if (w->nfam == 1)
		return 0;	/* the first family goes straight out */

	char tmpl[4096];
	int fd;

	if (shd_tmp_template(tmpl, sizeof(tmpl), tmpdir, "shd-om.") < 0)
		return set_err(w, SHD_EIO, "temporary directory name too "
			       "long");
	fd = mkstemp(tmpl);
	if (fd < 0)
		return set_err(w, SHD_EIO, "cannot make a temporary file "
			       "'%.300s': %s", tmpl, strerror(errno));
	unlink(tmpl);	/* gone when closed, whatever happens */
	f->tmp = fdopen(fd, "w+");
	if (!f->tmp) {
		int e = errno;
		close(fd);
		errno = e;
		return set_err(w, SHD_EIO, "cannot make a temporary file: %s",
			       strerror(e));
	}
	return 0;
}

int shd_om_new(struct shd_om **wp, FILE *out, const struct shd_schema *s,
	       const struct shd_om_opts *o)
{
	struct shd_om *w = calloc(1, sizeof(*w));
	const char *tmpdir = o ? o->tmpdir : NULL;
	int r;

	*wp = NULL;
	if (!w)
		return SHD_ENOMEM;
	w->out = out;
	w->keys = shd_dict_new();
	w->fam = calloc(s->ncols + (o ? o->ncols : 0) + 1, sizeof(*w->fam));
	if (!w->keys || !w->fam) {
		shd_om_free(w);
		return SHD_ENOMEM;
	}
	*wp = w;
	if (find_col(s, SHD_TIME, "time", &w->tcol) < 0)
		return set_err(w, SHD_EINVAL, "more than one time column and "
			       "none named 'time'");
	if (w->tcol < 0)
		return set_err(w, SHD_EINVAL, "no time column");
	if (find_col(s, SHD_KEY, "resource", &w->kcol) < 0)
		return set_err(w, SHD_EINVAL, "more than one key column and "
			       "none named 'resource'");
	if (w->kcol >= 0 && !(w->label = label_name(s->cols[w->kcol].name)))
		return SHD_ENOMEM;
	if (o && o->cols) {
		for (size_t k = 0; k < o->ncols; k++) {
			int j = o->cols[k];

			if (j < 0 || (size_t)j >= s->ncols)
				return set_err(w, SHD_EINVAL, "no column %d",
					       j);
			if ((r = add_family(w, s, j, tmpdir)) < 0)
				return r;
		}
	} else {
		for (size_t j = 0; j < s->ncols; j++) {
			if ((int)j == w->tcol || (int)j == w->kcol)
				continue;
			if ((r = add_family(w, s, (int)j, tmpdir)) < 0)
				return r;
		}
	}
	if (w->nfam == 0)
		return set_err(w, SHD_EINVAL, "no metric column");
	return 0;
}

/* Makes R the current resource: a new one, or an error. */
static int next_resource(struct shd_om *w, const char *r, size_t len)
{
	size_t before = shd_dict_count(w->keys);
	uint32_t id;
	char *cur;

	if (shd_dict_intern(w->keys, r, len, &id) < 0)
		return SHD_ENOMEM;
	if (id < before)
		return set_err(w, SHD_EFORMAT, "resource '%.200s' comes again "
			       "after other resources: the rows are not "
			       "grouped by resource (canonical order)", r);
	cur = realloc(w->cur, len + 1);
	if (!cur)
		return SHD_ENOMEM;
	memcpy(cur, r, len + 1);
	w->cur = cur;
	w->curlen = len;
	w->lablen = 0;
	int e = escape(&w->lab, &w->lablen, r, len, 0);
	if (e < 0)
		return e;
	if (e > 0)
		return set_err(w, SHD_EFORMAT, "resource '%.200s' is not "
			       "UTF-8, as Prometheus label values must be", r);
	w->last = INT64_MIN;
	return 0;
}

/* The sample line of family F: NAME{LABEL="VALUE"} V T. */
static void put_sample(struct shd_om *w, FILE *fp, const struct family *f,
		       double v, const char *ts, size_t tslen)
{
	char buf[40];
	size_t n;

	fputs(f->name, fp);
	if (w->label) {
		putc('{', fp);
		fputs(w->label, fp);
		fputs("=\"", fp);
		fwrite(w->lab, 1, w->lablen, fp);
		fputs("\"}", fp);
	}
	putc(' ', fp);
	if (isinf(v)) {
		fputs(v > 0 ? "+Inf" : "-Inf", fp);
	} else {
		n = shd_format_double(v, buf);
		fwrite(buf, 1, n, fp);
	}
	putc(' ', fp);
	fwrite(ts, 1, tslen, fp);
	putc('\n', fp);
}

/* Writes the first family's head, once. */
static void start(struct shd_om *w)
{
	if (!w->started) {
		w->started = 1;
		fputs(w->fam[0].head, w->out);
	}
}

int shd_om_row(struct shd_om *w, const struct shd_frame *f, size_t i)
{
	char ts[32], tf[40], lf[40];
	size_t tslen;
	int64_t t;
	int r;

	if (w->failed)
		return SHD_EFORMAT;
	start(w);
	t = SHD_I64COL(f, w->tcol)[i];
	if (w->kcol >= 0) {
		size_t len;
		const char *k = shd_dict_str(f->dict, SHD_KEYCOL(f, w->kcol)[i],
					     &len);

		if (!w->cur || len != w->curlen || memcmp(k, w->cur, len)) {
			if ((r = next_resource(w, k, len)) < 0) {
				w->failed = 1;
				return r;
			}
		}
	} else if (!w->cur) {
		w->cur = strdup("");
		if (!w->cur)
			return SHD_ENOMEM;
		w->last = INT64_MIN;
	}
	if (t <= w->last) {
		w->failed = 1;
		shd_time_format(t, tf, sizeof(tf));
		shd_time_format(w->last, lf, sizeof(lf));
		return set_err(w, SHD_EFORMAT, "%s%.200s%stime %s %s the row "
			       "before (%s): each series must be in time order, "
			       "one sample per time", w->label ? "resource '" : "",
			       w->cur, w->label ? "': " : "", tf,
			       t == w->last ? "repeats" : "is before", lf);
	}
	w->last = t;
	tslen = shd_om_time(t, ts);
	for (size_t k = 0; k < w->nfam; k++) {
		const struct family *fa = &w->fam[k];
		double v = fa->type == SHD_F64 ? SHD_F64COL(f, fa->col)[i]
					       : (double)SHD_F32COL(f, fa->col)[i];

		if (isnan(v))
			continue;	/* missing: no sample, never one made up */
		put_sample(w, fa->tmp ? fa->tmp : w->out, fa, v, ts, tslen);
		w->samples++;
	}
	if (ferror(w->out)) {
		w->failed = 1;
		return set_err(w, SHD_EIO, "write error: %s", strerror(errno));
	}
	return 0;
}

/* Copies the temporary file of F to OUT. */
static int copy_family(struct shd_om *w, struct family *f)
{
	char buf[1 << 16];
	size_t n;

	fputs(f->head, w->out);
	if (fflush(f->tmp) != 0 || fseek(f->tmp, 0, SEEK_SET) != 0)
		return set_err(w, SHD_EIO, "temporary file: %s",
			       strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f->tmp)) > 0)
		if (fwrite(buf, 1, n, w->out) != n)
			return set_err(w, SHD_EIO, "write error: %s",
				       strerror(errno));
	if (ferror(f->tmp))
		return set_err(w, SHD_EIO, "temporary file: %s",
			       strerror(errno));
	return 0;
}

int shd_om_finish(struct shd_om *w)
{
	int r;

	if (w->failed)
		return SHD_EFORMAT;
	start(w);
	for (size_t k = 1; k < w->nfam; k++) {
		if ((r = copy_family(w, &w->fam[k])) < 0) {
			w->failed = 1;
			return r;
		}
	}
	fputs("# EOF\n", w->out);
	if (fflush(w->out) != 0 || ferror(w->out)) {
		w->failed = 1;
		return set_err(w, SHD_EIO, "write error: %s", strerror(errno));
	}
	return 0;
}

unsigned long long shd_om_samples(const struct shd_om *w)
{
	return w->samples;
}

const char *shd_om_errmsg(const struct shd_om *w)
{
	return w && w->err[0] ? w->err : "no error";
}

void shd_om_free(struct shd_om *w)
{
	if (!w)
		return;
	for (size_t k = 0; k < w->nfam; k++) {
		if (w->fam[k].tmp)
			fclose(w->fam[k].tmp);
		free(w->fam[k].name);
		free(w->fam[k].head);
	}
	free(w->fam);
	shd_dict_free(w->keys);
	free(w->label);
	free(w->cur);
	free(w->lab);
	free(w);
}
