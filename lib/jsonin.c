/*
 * jsonin.c - JSON inputs: Prometheus HTTP API responses and AWS CloudWatch
 * get-metric-data responses, parsed with jansson into an accumulator.
 *
 * One input may hold one response, a JSON array of responses, or several
 * responses one after the other (a shell loop of curl calls, or the pages
 * of a paginated CLI call). Messages name the input and the JSON path of
 * the problem: "prom.json: data.result[2].values[5]: expected [time,
 * "value"]"; syntax errors give jansson's line and column.
 *
 * A bad point (a sample that cannot be read) is skipped and counted when
 * the caller asked for skip_bad; anything wrong with the shape of the
 * document is always an error.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

/* How much of the input shd_format_detect looks at. */
#define DETECT_SPAN ((size_t)64 << 10)

/* One parse: where messages go and how they start. */
struct jctx {
	const char *name;
	const struct shd_parse_opts *o;
	struct shd_diag *d;
	unsigned doc;		/* 1-based number of the document */
	char root[32];		/* "[3]" inside a top-level array, else "" */
};

/* --------------------------------------------------------- diagnostics */

static size_t append(char *dst, size_t n, size_t k, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (k >= n)
		return k;
	va_start(ap, fmt);
	r = vsnprintf(dst + k, n - k, fmt, ap);
	va_end(ap);
	return r < 0 ? k : k + (size_t)r;
}

/*
 * "NAME: [document N: ][ROOT.]PATH: WHAT" into DST, with control bytes
 * (which may come from the input) shown as '?'.
 */
static void format_msg(const struct jctx *c, char *dst, size_t n,
		       const char *path, const char *fmt, va_list ap)
{
	size_t k = 0;

	k = append(dst, n, k, "%s: ", c->name);
	if (c->doc > 1)
		k = append(dst, n, k, "document %u: ", c->doc);
	if (c->root[0] || path[0])
		k = append(dst, n, k, "%s%s%s: ", c->root,
			   c->root[0] && path[0] ? "." : "", path);
	if (k < n)
		vsnprintf(dst + k, n - k, fmt, ap);
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* A structural error: always stops the parse with SHD_EFORMAT. */
static int jfail(const struct jctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!c->d)
		return SHD_EFORMAT;
	va_start(ap, fmt);
	format_msg(c, c->d->msg, sizeof(c->d->msg), path, fmt, ap);
	va_end(ap);
	return SHD_EFORMAT;
}

/*
 * A bad point: with skip_bad it is counted and kept (the first few) and 0
 * returned, so that the caller skips it; else as jfail.
 */
static int jbad(const struct jctx *c, const char *path, const char *fmt, ...)
{
	struct shd_diag *d = c->d;
	va_list ap;

	if (!d)
		return SHD_EFORMAT;
	va_start(ap, fmt);
	if (d->skip_bad) {
		if (d->nbad < SHD_DIAG_KEEP)
			format_msg(c, d->first[d->nbad], sizeof(d->first[0]),
				   path, fmt, ap);
		d->nbad++;
		va_end(ap);
		return 0;
	}
	format_msg(c, d->msg, sizeof(d->msg), path, fmt, ap);
	va_end(ap);
	return SHD_EFORMAT;
}

static int nomem(const struct jctx *c)
{
	if (c->d)
		snprintf(c->d->msg, sizeof(c->d->msg), "%s: out of memory",
			 c->name);
	return SHD_ENOMEM;
}

/* ------------------------------------------------------------- metrics */

/*
 * A malloc'd copy of the LEN bytes at S with every byte outside
 * [A-Za-z0-9_.:] made '_'. NULL when out of memory.
 */
static char *metric_name(const char *s, size_t len)
{
	char *m = malloc(len + 1);

	if (!m)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == ':'))
			ch = '_';
		m[i] = ch;
	}
	m[len] = '\0';
	return m;
}

/*
 * The name to use for metric NAME (LEN bytes) after --metric renames, or
 * NULL in *KEEP = 0 when renames select and NAME is not among them.
 */
static const char *apply_renames(const struct shd_parse_opts *o,
				 const char *name, size_t *len, int *keep)
{
	*keep = 1;
	if (!o || o->nrenames == 0)
		return name;
	for (size_t i = 0; i < o->nrenames; i++) {
		const char *from = o->renames[i].from;

		if (from && strlen(from) == *len &&
		    memcmp(from, name, *len) == 0) {
			*len = strlen(o->renames[i].to);
			return o->renames[i].to;
		}
	}
	*keep = 0;
	return NULL;
}

/*
 * With --metric NEW=OLD renames, makes every NEW a column of A in the
 * order the renames were given, before any series is read: the columns
 * then follow -m, as for delimited input, not the order in which the
 * series happen to arrive. A NEW that no series has stays a column of
 * NaN, like an empty CSV column. The names are cleaned as target_add
 * cleans them, so that its lookups find these columns.
 */
static int register_renames(struct shd_acc *a, const struct jctx *c)
{
	const struct shd_parse_opts *o = c->o;

	if (!o)
		return 0;
	for (size_t i = 0; i < o->nrenames; i++) {
		const char *to = o->renames[i].to;
		char *m;
		int r;

		if (!to || !o->renames[i].from)
			continue;
		m = metric_name(to, strlen(to));
		if (!m)
			return nomem(c);
		r = shd_acc_metric(a, m, NULL);
		if (r == SHD_ENOMEM) {
			free(m);
			return nomem(c);
		}
		if (r < 0) {
			jfail(c, "", "--metric %.64s=%.64s: '%.64s' cannot be "
			      "a column (reserved name, or too many metrics)",
			      to, o->renames[i].from, m);
			free(m);
			return SHD_EFORMAT;
		}
		free(m);
	}
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The unit of a Prometheus metric from its naming conventions, or NULL. */
static const char *prom_unit(const char *m)
{
	if (ends_with(m, "_bytes") || ends_with(m, "_bytes_total"))
		return "bytes";
	if (ends_with(m, "_seconds_total"))
		return "s";
	if (ends_with(m, "_ratio"))
		return "ratio";
	if (ends_with(m, "_percent"))
		return "%";
	return NULL;
}

/* The unit of a CloudWatch metric, or NULL. */
static const char *cw_unit(const char *m)
{
	if (ends_with(m, "Utilization"))	/* CPUUtilization, ... */
		return "%";
	if (strstr(m, "Bytes"))
		return "bytes";
	return NULL;
}

/*
 * Where the points of one series go. The metric, the series and the source
 * are made at the first good point, so that a series whose points are all
 * bad adds nothing.
 */
struct target {
	const char *key;
	size_t klen;
	const char *metric;	/* NUL-terminated, sanitized */
	const char *unit;	/* NULL when unknown */
	const char *path;	/* of the series, for messages */
	struct shd_series *s;
	int m;
	unsigned src;
};

static int target_add(struct shd_acc *a, const struct jctx *c,
		      struct target *t, int64_t ms, double v)
{
	if (!t->s) {
		int m = shd_acc_metric(a, t->metric, t->unit);

		if (m == SHD_ENOMEM)
			return nomem(c);
		if (m < 0)
			return jfail(c, t->path,
				     "metric '%.64s' cannot be a column "
				     "(reserved name, or too many metrics)",
				     t->metric);
		t->s = shd_acc_series(a, t->key, t->klen);
		if (!t->s)
			return nomem(c);
		t->m = m;
		t->src = shd_acc_source(a);
	}
	if (shd_series_row(t->s, t->src, ms) < 0)
		return nomem(c);
	if (shd_series_set(t->s, t->m, v) < 0) {
		shd_series_drop_row(t->s);
		return nomem(c);
	}
	return 0;
}

/* The key to use when the input names none. */
static const char *default_key(const struct shd_parse_opts *o)
{
	return o && o->default_key && o->default_key[0] ? o->default_key
							  : "default";
}

/* ------------------------------------------------------------ documents */

typedef int (*doc_fn)(struct shd_acc *a, struct jctx *c, json_t *doc);

/* A jansson syntax error at byte OFF of BUF, with line and column of BUF. */
static int syntax_error(const struct jctx *c, const char *buf, size_t off,
			const json_error_t *err)
{
	long line = 1, col0 = 0;

	if (!c->d)
		return SHD_EFORMAT;
	if (err->line < 1) {
		snprintf(c->d->msg, sizeof(c->d->msg), "%s: %s", c->name,
			 err->text);
		return SHD_EFORMAT;
	}
	/* jansson counts from the start of the document it was given. */
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			line++;
			col0 = 0;
		} else {
			col0++;
		}
	}
	snprintf(c->d->msg, sizeof(c->d->msg), "%s:%ld:%ld: %s", c->name,
		 line + err->line - 1,
		 (err->line == 1 ? col0 : 0) + (long)err->column, err->text);
	for (char *p = c->d->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return SHD_EFORMAT;
}

/*
 * Calls FN for every response in BUF: each top-level object, or each
 * element of a top-level array, of every document in turn.
 */
static int each_doc(struct shd_acc *a, struct jctx *c, const char *buf,
		    size_t len, doc_fn fn)
{
	size_t off = 0;
	int status = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	for (;;) {
		json_error_t err;
		json_t *doc;

		while (off < len && (buf[off] == ' ' || buf[off] == '\t' ||
				     buf[off] == '\r' || buf[off] == '\n'))
			off++;
		if (off == len)
			break;
		c->doc++;
		c->root[0] = '\0';
		doc = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK,
				 &err);
		if (!doc)
			return syntax_error(c, buf, off, &err);
		/* jansson keeps the bytes consumed in an int. */
		if (err.position <= 0 || (size_t)err.position > len - off) {
			json_decref(doc);
			return jfail(c, "", "JSON document too large");
		}
		off += (size_t)err.position;
		if (json_is_array(doc)) {
			for (size_t i = 0; i < json_array_size(doc); i++) {
				snprintf(c->root, sizeof(c->root), "[%zu]", i);
				status = fn(a, c, json_array_get(doc, i));
				if (status < 0)
					break;
			}
		} else {
			status = fn(a, c, doc);
		}
		json_decref(doc);
		if (status < 0)
			return status;
	}
	if (c->doc == 0)
		return jfail(c, "", "no JSON document");
	return 0;
}

/* ----------------------------------------------------------- Prometheus */

/* Reads a sample [t, "v"]; NULL, or what is wrong with it. */
static const char *prom_sample(const json_t *pt, int64_t *ms, double *v)
{
	const json_t *jt, *jv;
	double t;

	if (!json_is_array(pt) || json_array_size(pt) != 2)
		return "expected [time, \"value\"]";
	jt = json_array_get(pt, 0);
	jv = json_array_get(pt, 1);
	if (!json_is_number(jt) || !(json_is_string(jv) || json_is_number(jv)))
		return "expected [time, \"value\"]";
	t = json_number_value(jt) * 1000.0;
	if (!isfinite(t) || fabs(t) >= 9.2e18)
		return "time out of range";
	*ms = llround(t);
	if (json_is_number(jv)) {
		*v = json_number_value(jv);
		return NULL;
	}
	if (shd_parse_double(json_string_value(jv), json_string_length(jv), v))
		return "bad value";
	return NULL;
}

/* One sample of a series: added, skipped as bad, or an error. */
static int prom_point(struct shd_acc *a, const struct jctx *c,
		      struct target *t, const json_t *pt, const char *path)
{
	int64_t ms;
	double v;
	const char *why = prom_sample(pt, &ms, &v);

	if (why) {
		const json_t *jv = json_array_get(pt, 1);

		if (strcmp(why, "bad value") == 0)
			return jbad(c, path, "bad value '%.40s'",
				    json_string_value(jv));
		return jbad(c, path, "%s", why);
	}
	return target_add(a, c, t, ms, v);
}

/* RTYPE: 'm' matrix, 'v' vector, 0 not said (either is accepted). */
static int prom_series(struct shd_acc *a, const struct jctx *c,
		       const json_t *ser, size_t i, int rtype)
{
	const struct shd_parse_opts *o = c->o;
	const json_t *labels, *values, *value;
	const char *key, *name, *kl;
	char path[64], ppath[160];
	struct target t = { 0 };
	size_t nlen;
	int keep, status = 0;

	snprintf(path, sizeof(path), "data.result[%zu]", i);
	if (!json_is_object(ser))
		return jfail(c, path, "expected an object");
	labels = json_object_get(ser, "metric");
	if (labels && !json_is_object(labels) && !json_is_null(labels)) {
		snprintf(ppath, sizeof(ppath), "%s.metric", path);
		return jfail(c, ppath, "expected an object of labels");
	}
	kl = o && o->key_label ? o->key_label : "instance";
	key = json_string_value(json_object_get(labels, kl));
	if (!key || !key[0])
		key = default_key(o);
	if (o && o->metric && o->metric[0])
		name = o->metric;
	else
		name = json_string_value(json_object_get(labels, "__name__"));
	if (!name || !name[0])
		name = "value";
	nlen = strlen(name);
	name = apply_renames(o, name, &nlen, &keep);
	if (!keep)
		return 0;

	values = json_object_get(ser, "values");
	value = json_object_get(ser, "value");
	if (rtype == 'm' || (rtype == 0 && values)) {
		if (!values) {
			/* Native histograms carry no float samples. */
			if (json_object_get(ser, "histograms"))
				return 0;
			return jfail(c, path, "no \"values\"");
		}
		if (!json_is_array(values)) {
			snprintf(ppath, sizeof(ppath), "%s.values", path);
			return jfail(c, ppath, "expected an array");
		}
	} else if (!value) {
		if (json_object_get(ser, "histogram"))
			return 0;
		return jfail(c, path, "no \"value\"");
	}

	t.key = key;
	t.klen = strlen(key);
	t.metric = metric_name(name, nlen);
	if (!t.metric)
		return nomem(c);
	t.unit = prom_unit(t.metric);
	t.path = path;
	if (rtype == 'm' || (rtype == 0 && values)) {
		for (size_t j = 0; j < json_array_size(values); j++) {
			snprintf(ppath, sizeof(ppath), "%s.values[%zu]", path,
				 j);
			status = prom_point(a, c, &t, json_array_get(values, j),
					    ppath);
			if (status < 0)
				break;
		}
	} else {
		snprintf(ppath, sizeof(ppath), "%s.value", path);
		status = prom_point(a, c, &t, value, ppath);
	}
	free((char *)t.metric);
	return status;
}

static int prom_doc(struct shd_acc *a, struct jctx *c, json_t *doc)
{
	const json_t *status, *data, *rtype, *result;
	int kind = 0;

	if (!json_is_object(doc))
		return jfail(c, "", "expected a Prometheus response object");
	status = json_object_get(doc, "status");
	if (status) {
		const char *s = json_string_value(status);

		if (!s)
			return jfail(c, "status", "expected a string");
		if (strcmp(s, "error") == 0) {
			const char *et = json_string_value(
				json_object_get(doc, "errorType"));
			const char *e = json_string_value(
				json_object_get(doc, "error"));

			return jfail(c, "", "query failed: %s%s%.300s",
				     et ? et : "", et ? ": " : "",
				     e ? e : "no error text");
		}
		if (strcmp(s, "success") != 0)
			return jfail(c, "status", "unexpected status '%.40s'",
				     s);
	}
	data = json_object_get(doc, "data");
	if (!json_is_object(data))
		return jfail(c, "data", data ? "expected an object"
					     : "missing (not a Prometheus "
					       "response?)");
	rtype = json_object_get(data, "resultType");
	if (rtype) {
		const char *s = json_string_value(rtype);

		if (!s)
			return jfail(c, "data.resultType", "expected a string");
		if (strcmp(s, "matrix") == 0)
			kind = 'm';
		else if (strcmp(s, "vector") == 0)
			kind = 'v';
		else
			return jfail(c, "data.resultType",
				     "'%.40s' is not supported (matrix or "
				     "vector)", s);
	}
	result = json_object_get(data, "result");
	if (!json_is_array(result))
		return jfail(c, "data.result", result ? "expected an array"
						      : "missing");
	for (size_t i = 0; i < json_array_size(result); i++) {
		int r = prom_series(a, c, json_array_get(result, i), i, kind);

		if (r < 0)
			return r;
	}
	return 0;
}

int shd_parse_prometheus(struct shd_acc *a, const char *buf, size_t len,
			 const char *name, const struct shd_parse_opts *o,
			 struct shd_diag *d)
{
	struct jctx c = { name ? name : "<input>", o, d, 0, "" };
	int r = register_renames(a, &c);

	return r < 0 ? r : each_doc(a, &c, buf, len, prom_doc);
}

/* ----------------------------------------------------------- CloudWatch */

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/*
 * Key and metric of one MetricDataResults entry, from its Label:
 *  - "KEY METRIC" (two words, e.g. "i-0abc CPUUtilization", as set with
 *    the Label field of the query or by a search expression): the first
 *    word is the resource key, the second the metric;
 *  - more than two words: the first is the key and the rest the metric
 *    (blanks in it become '_');
 *  - one word ("CPUUtilization", CloudWatch's default label): the key is
 *    O->default_key (the file or member name) and the word the metric;
 *  - no Label, or an empty one: the key is O->default_key, the metric the
 *    Id.
 * O->metric, when set, replaces the metric whatever the Label says; then
 * --metric renames apply (and select). The key is "default" when no
 * default_key was given.
 */
static int cw_names(const struct jctx *c, const json_t *res, struct target *t,
		    int *keep)
{
	const struct shd_parse_opts *o = c->o;
	const char *label = json_string_value(json_object_get(res, "Label"));
	const char *id = json_string_value(json_object_get(res, "Id"));
	const char *w1 = NULL, *m = NULL;
	size_t l1 = 0, ml = 0;

	if (label) {
		const char *p = label, *q;

		while (is_blank(*p))
			p++;
		q = p;
		while (*q && !is_blank(*q))
			q++;
		if (q > p) {
			w1 = p;
			l1 = (size_t)(q - p);
		}
		while (is_blank(*q))
			q++;
		if (*q) {
			const char *end = q + strlen(q);

			while (end > q && is_blank(end[-1]))
				end--;
			m = q;
			ml = (size_t)(end - q);
		}
	}
	if (m) {
		t->key = w1;
		t->klen = l1;
	} else {
		t->key = default_key(o);
		t->klen = strlen(t->key);
		m = w1;
		ml = l1;
	}
	if (!m && id && id[0]) {
		m = id;
		ml = strlen(id);
	}
	if (!m) {
		m = "value";
		ml = strlen(m);
	}
	if (o && o->metric && o->metric[0]) {
		m = o->metric;
		ml = strlen(m);
	}
	m = apply_renames(o, m, &ml, keep);
	if (!*keep)
		return 0;
	t->metric = metric_name(m, ml);
	if (!t->metric)
		return nomem(c);
	t->unit = cw_unit(t->metric);
	return 0;
}

static int cw_result(struct shd_acc *a, const struct jctx *c,
		     const json_t *res, size_t i)
{
	const json_t *ts, *vals;
	const char *sc;
	char path[64], ppath[160];
	struct target t = { 0 };
	size_t n;
	int keep, status = 0;

	snprintf(path, sizeof(path), "MetricDataResults[%zu]", i);
	if (!json_is_object(res))
		return jfail(c, path, "expected an object");
	sc = json_string_value(json_object_get(res, "StatusCode"));
	if (sc && (strcmp(sc, "InternalError") == 0 ||
		   strcmp(sc, "Forbidden") == 0)) {
		const json_t *msgs = json_object_get(res, "Messages");
		const char *why = json_string_value(
			json_object_get(json_array_get(msgs, 0), "Value"));

		return jfail(c, path, "StatusCode %s%s%.300s", sc,
			     why ? ": " : "", why ? why : "");
	}
	ts = json_object_get(res, "Timestamps");
	vals = json_object_get(res, "Values");
	if (!json_is_array(ts)) {
		snprintf(ppath, sizeof(ppath), "%s.Timestamps", path);
		return jfail(c, ppath, ts ? "expected an array" : "missing");
	}
	if (!json_is_array(vals)) {
		snprintf(ppath, sizeof(ppath), "%s.Values", path);
		return jfail(c, ppath, vals ? "expected an array" : "missing");
	}
	n = json_array_size(ts);
	if (n != json_array_size(vals))
		return jfail(c, path, "%zu timestamps but %zu values", n,
			     json_array_size(vals));
	status = cw_names(c, res, &t, &keep);
	if (status < 0 || !keep)
		return status;
	t.path = path;
	for (size_t j = 0; j < n; j++) {
		const json_t *jt = json_array_get(ts, j);
		const json_t *jv = json_array_get(vals, j);
		const char *s = json_string_value(jt);
		int64_t ms;
		double v;

		if (!s || shd_time_parse(s, json_string_length(jt), &ms) < 0) {
			snprintf(ppath, sizeof(ppath), "%s.Timestamps[%zu]",
				 path, j);
			status = s ? jbad(c, ppath, "bad time '%.40s'", s)
				   : jbad(c, ppath, "expected a time string");
			if (status < 0)
				break;
			continue;
		}
		if (json_is_number(jv)) {
			v = json_number_value(jv);
		} else if (json_is_null(jv)) {
			v = NAN;
		} else {
			snprintf(ppath, sizeof(ppath), "%s.Values[%zu]", path,
				 j);
			status = jbad(c, ppath, "expected a number");
			if (status < 0)
				break;
			continue;
		}
		status = target_add(a, c, &t, ms, v);
		if (status < 0)
			break;
	}
	free((char *)t.metric);
	return status;
}

static int cw_doc(struct shd_acc *a, struct jctx *c, json_t *doc)
{
	const json_t *res;

	if (!json_is_object(doc))
		return jfail(c, "", "expected a get-metric-data response "
				    "object");
	res = json_object_get(doc, "MetricDataResults");
	if (!json_is_array(res))
		return jfail(c, "MetricDataResults",
			     res ? "expected an array"
				 : "missing (not a get-metric-data response?)");
	for (size_t i = 0; i < json_array_size(res); i++) {
		int r = cw_result(a, c, json_array_get(res, i), i);

		if (r < 0)
			return r;
	}
	return 0;
}

int shd_parse_cloudwatch(struct shd_acc *a, const char *buf, size_t len,
			 const char *name, const struct shd_parse_opts *o,
			 struct shd_diag *d)
{
	struct jctx c = { name ? name : "<input>", o, d, 0, "" };
	int r = register_renames(a, &c);

	return r < 0 ? r : each_doc(a, &c, buf, len, cw_doc);
}

/* ------------------------------------------------------------- formats */

int shd_format_parse(const char *name)
{
	static const struct {
		const char *name;
		enum shd_format fmt;
	} names[] = {
		{ "auto", SHD_FMT_AUTO },
		{ "csv", SHD_FMT_DELIMITED },
		{ "tsv", SHD_FMT_DELIMITED },
		{ "delimited", SHD_FMT_DELIMITED },
		{ "text", SHD_FMT_DELIMITED },
		{ "prometheus", SHD_FMT_PROMETHEUS },
		{ "prom", SHD_FMT_PROMETHEUS },
		{ "cloudwatch", SHD_FMT_CLOUDWATCH },
		{ "cw", SHD_FMT_CLOUDWATCH },
	};

	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return (int)names[i].fmt;
	return -1;
}

static int contains(const char *buf, size_t len, const char *s)
{
	return memmem(buf, len, s, strlen(s)) != NULL;
}

enum shd_format shd_format_detect(const char *buf, size_t len)
{
	size_t off = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < len && is_blank(buf[off]))
		off++;
	if (off == len || (buf[off] != '{' && buf[off] != '['))
		return SHD_FMT_DELIMITED;
	buf += off;
	len -= off;
	if (len > DETECT_SPAN)
		len = DETECT_SPAN;
	if (contains(buf, len, "\"MetricDataResults\""))
		return SHD_FMT_CLOUDWATCH;
	/* An error answer of the Prometheus API has "status" and "errorType". */
	if (contains(buf, len, "\"resultType\"") ||
	    (contains(buf, len, "\"result\"") && contains(buf, len, "\"data\"")) ||
	    (contains(buf, len, "\"status\"") && contains(buf, len, "\"errorType\"")))
		return SHD_FMT_PROMETHEUS;
	return SHD_FMT_DELIMITED;
}
