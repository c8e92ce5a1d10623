/*
 * model.c - the model file of shd-train and shd-predict: saving it
 * atomically and loading it back with every field checked (model.h).
 *
 * The file:
 *   magic(8) "\x89SHM\r\n\x1a\n"  major u16 = 3  minor u16  jlen u32
 *   JSON header (jlen bytes)
 *   the series, binary (the header's "series_bytes" bytes)
 *   float32 weights of each network, little-endian, nets in order
 *   XXH3-64 of every byte before it (u64)
 * All integers and floats little-endian.
 *
 * The JSON header (every number a JSON number; NaN is null where allowed):
 *   { "format": "shd-model", "step": ms,
 *     "metrics": [name...], "units": [unit...], "resources": [name...],
 *     "series_bytes": n,
 *     "data_from", "data_to": ms, "fingerprint": "16 hex digits",
 *     "lookback", "horizon", "day", "week", "ar_p",
 *     "coverage", "seed", "per_resource": bool,
 *     "nets": [{ "n_in", "n_hidden", "n_layers", "n_out", "nparams" }],
 *     "report": any JSON value or null }
 *
 * The series, R*M records (resource r metric m is record r*M+m), each:
 *   f64 center, scale, mase_scale (NaN: not known)
 *   f64 val_err[5] in method order (NaN: not computed)
 *   u32 method, u32 ar p, u32 ar day, u32 ar week (k = p-1 + day? +
 *       week? + 1)
 *   f64 ar srange[4]: lo, hi of the day's feature, then of the week's
 *       (lo <= hi; 0, 0 for a season not used)
 *   f64 yrange[2]: lo <= hi of the network's correction (may be infinite)
 *   u32 nfit[H]
 *   f64 coef[H*k]
 *   f64 q[5*H], method-major (+inf: too few residuals)
 * Binary, not JSON, because a fleet's model holds tens of thousands of
 * series: 10,000 resources x 4 metrics is some 150 MB of numbers, which
 * JSON would triple and jansson take many seconds and gigabytes to read.
 * (Format 1 had them in the JSON header; format 2 had no srange nor
 * yrange. Such
 * files are refused with a version message: retrain.)
 *
 * Loading checks the magic, the version and the checksum before the JSON
 * is trusted; then every field's type and range and every array's length
 * against the sizes it must have, before anything is allocated from them.
 * Allocations are bounded by the file's size: every array the loader
 * allocates for has its elements in the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "codec.h"
#include "model.h"

#define MAGIC "\x89SHM\r\n\x1a\n"
#define MAJOR 3
#define MINOR 0
#define PREFIX_LEN 16		/* magic, major, minor, jlen */
#define SER_FIXED (8 * (3 + SHD_M_COUNT) + 4 * 4 + 8 * 6) /* a series'
							       * first bytes */
#define TRAILER_LEN 8

/* Bounds on sizes (far above any real model, far below an overflow). */
#define MAX_METRICS 1024
#define MAX_RES (1u << 24)
#define MAX_STEPS 65536		/* lookback, horizon, ar_p */
#define MAX_SEASON (1u << 24)	/* day, week in steps */
#define MAX_HIDDEN 65536

static const char *const method_names[SHD_M_COUNT] = {
	"lstm", "ar", "last", "snaive_day", "snaive_week",
};

const char *shd_method_name(int method)
{
	return method >= 0 && method < SHD_M_COUNT ? method_names[method] : NULL;
}

int shd_method_parse(const char *name)
{
	for (int k = 0; name && k < SHD_M_COUNT; k++)
		if (strcmp(name, method_names[k]) == 0)
			return k;
	return -1;
}

void shd_model_init(struct shd_model *m)
{
	memset(m, 0, sizeof(*m));
}

void shd_model_release(struct shd_model *m)
{
	for (size_t k = 0; k < m->nmetric; k++) {
		free(m->metric ? m->metric[k] : NULL);
		free(m->unit ? m->unit[k] : NULL);
	}
	free(m->metric);
	free(m->unit);
	for (size_t r = 0; r < m->nres; r++)
		free(m->res ? m->res[r] : NULL);
	free(m->res);
	if (m->ser) {
		for (size_t i = 0; i < m->nres * m->nmetric; i++) {
			shd_ar_release(&m->ser[i].ar);
			free(m->ser[i].q);
		}
	}
	free(m->ser);
	for (size_t k = 0; m->net && k < m->nnet; k++)
		shd_lstm_release(&m->net[k]);
	free(m->net);
	free(m->report);
	shd_dict_free(m->index);
	shd_model_init(m);
}

long shd_model_find(const struct shd_model *m, const char *key)
{
	/* The index is a cache: filling it changes nothing the model says,
	 * so a const model may fill it. */
	struct shd_model *w = (struct shd_model *)m;
	uint32_t id;

	if (w->index && shd_dict_count(w->index) > m->nres) {
		shd_dict_free(w->index);	/* resources went: start over */
		w->index = NULL;
	}
	if (!w->index)
		w->index = shd_dict_new();
	for (size_t r = w->index ? shd_dict_count(w->index) : 0;
	     w->index && r < m->nres; r++)
		if (shd_dict_intern(w->index, m->res[r], strlen(m->res[r]),
				    &id) < 0 || id != r) {
			/* out of memory (or a duplicate name): no cache */
			shd_dict_free(w->index);
			w->index = NULL;
		}
	if (!w->index) {
		for (size_t r = 0; r < m->nres; r++)
			if (strcmp(m->res[r], key) == 0)
				return (long)r;
		return -1;
	}
	if (shd_dict_find(w->index, key, strlen(key), &id) == 0)
		return (long)id;
	return -1;
}

const struct shd_lstm *shd_model_net(const struct shd_model *m, size_t r)
{
	if (!m->nnet)
		return NULL;
	if (!m->per_resource)
		return &m->net[0];
	return r < m->nnet ? &m->net[r] : NULL;
}

/* ------------------------------------------------------------- saving */

/* A JSON number, or null when V is not finite. */
static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Appends V to array A, taking ownership; 0 or -1. */
static int push(json_t *a, json_t *v)
{
	return v ? json_array_append_new(a, v) : -1;
}

/* Sets KEY of object O to V, taking ownership; 0 or -1. */
static int set(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *uint_json(uint64_t v)
{
	return v <= INT64_MAX ? json_integer((json_int_t)v) : NULL;
}

/* The size of series record S's bytes (see the top of this file). */
static size_t series_size(const struct shd_mseries *s, size_t H)
{
	return SER_FIXED + 4 * H + 8 * H * s->ar.k + 8 * SHD_M_COUNT * H;
}

static uint8_t *put_f64(uint8_t *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	shd_put_le64(b, u);
	return b + 8;
}

static uint8_t *put_u32(uint8_t *b, size_t v)
{
	shd_put_le32(b, (uint32_t)v);
	return b + 4;
}

/* Writes series record S at B; returns the end. */
static uint8_t *series_put(uint8_t *b, const struct shd_mseries *s, size_t H)
{
	const struct shd_ar *ar = &s->ar;

	b = put_f64(b, s->center);
	b = put_f64(b, s->scale);
	b = put_f64(b, s->mase_scale);
	for (int k = 0; k < SHD_M_COUNT; k++)
		b = put_f64(b, s->val_err[k]);
	b = put_u32(b, (size_t)s->method);
	b = put_u32(b, ar->p);
	b = put_u32(b, ar->day);
	b = put_u32(b, ar->week);
	for (int j = 0; j < 4; j++)
		b = put_f64(b, ar->srange[j / 2][j % 2]);
	b = put_f64(b, s->yrange[0]);
	b = put_f64(b, s->yrange[1]);
	for (size_t h = 0; h < H; h++)
		b = put_u32(b, ar->nfit ? ar->nfit[h] : 0);
	for (size_t i = 0; i < H * ar->k; i++)
		b = put_f64(b, ar->coef[i]);
	/* a NaN half-width (never calibrated) is as wide as inf */
	for (size_t j = 0; j < SHD_M_COUNT * H; j++)
		b = put_f64(b, isnan(s->q[j]) ? INFINITY : s->q[j]);
	return b;
}

/* The JSON header of M, or NULL (out of memory, or M not valid). */
static json_t *header_json(const struct shd_model *m, size_t series_bytes)
{
	json_t *o = json_object(), *mets = json_array(), *units = json_array();
	json_t *res = json_array(), *nets = json_array();
	json_t *report = NULL;
	char fp[17];
	int bad = !o || !mets || !units || !res || !nets;

	for (size_t k = 0; k < m->nmetric && !bad; k++) {
		bad |= push(mets, json_string(m->metric[k]));
		bad |= push(units, json_string(m->unit[k] ? m->unit[k] : ""));
	}
	for (size_t r = 0; r < m->nres && !bad; r++)
		bad |= push(res, json_string(m->res[r]));
	for (size_t k = 0; k < m->nnet && !bad; k++) {
		const struct shd_lstm_config *c = &m->net[k].cfg;
		json_t *n = json_object();
		bad |= push(nets, n);
		if (!bad) {
			bad |= set(n, "n_in", uint_json(c->n_in));
			bad |= set(n, "n_hidden", uint_json(c->n_hidden));
			bad |= set(n, "n_layers", uint_json(c->n_layers));
			bad |= set(n, "n_out", uint_json(c->n_out));
			bad |= set(n, "nparams", uint_json(m->net[k].nparams));
		}
	}
	if (m->report) {
		json_error_t jerr;
		report = json_loads(m->report, JSON_DECODE_ANY, &jerr);
		bad |= !report;	/* the report must be JSON text */
	} else {
		report = json_null();
	}
	snprintf(fp, sizeof(fp), "%016" PRIx64, m->fingerprint);
	if (!bad) {
		bad |= set(o, "format", json_string("shd-model"));
		bad |= set(o, "step", json_integer(m->step));
		bad |= json_object_set(o, "metrics", mets);
		bad |= json_object_set(o, "units", units);
		bad |= json_object_set(o, "resources", res);
		bad |= set(o, "series_bytes", uint_json(series_bytes));
		bad |= set(o, "data_from", json_integer(m->data_from));
		bad |= set(o, "data_to", json_integer(m->data_to));
		bad |= set(o, "fingerprint", json_string(fp));
		bad |= set(o, "lookback", uint_json(m->lookback));
		bad |= set(o, "horizon", uint_json(m->horizon));
		bad |= set(o, "day", uint_json(m->day));
		bad |= set(o, "week", uint_json(m->week));
		bad |= set(o, "ar_p", uint_json(m->ar_p));
		bad |= set(o, "coverage", num_or_null(m->coverage));
		bad |= set(o, "seed", uint_json(m->seed));
		bad |= set(o, "per_resource", json_boolean(m->per_resource));
		bad |= json_object_set(o, "nets", nets);
		bad |= json_object_set(o, "report", report);
	}
	json_decref(mets);
	json_decref(units);
	json_decref(res);
	json_decref(nets);
	json_decref(report);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * What the loader would refuse, refused before anything is written: a
 * model that cannot be read back is a caller's bug, better found at once.
 */
static int savable(const struct shd_model *m)
{
	size_t M = m->nmetric, H = m->horizon;

	if (m->step <= 0 || !M || M > MAX_METRICS || !H || H > MAX_STEPS ||
	    !m->lookback || m->lookback > MAX_STEPS || !m->ar_p ||
	    m->ar_p > MAX_STEPS || m->day > MAX_SEASON ||
	    m->week > MAX_SEASON || !(m->coverage > 0 && m->coverage < 1) ||
	    m->seed > INT64_MAX || m->data_from > m->data_to ||
	    m->nres > MAX_RES || (m->nres && !m->ser) ||
	    (m->nnet && !m->net) ||
	    m->nnet != (m->per_resource ? m->nres : m->nnet ? 1 : 0) ||
	    (m->per_resource && !m->nnet))
		return 0;
	for (size_t k = 0; k < M; k++)
		if (!m->metric[k] || !*m->metric[k])
			return 0;
	for (size_t r = 0; r < m->nres; r++)
		if (!m->res[r] || !*m->res[r])
			return 0;
	for (size_t k = 0; k < m->nnet; k++) {
		const struct shd_lstm_config *c = &m->net[k].cfg;
		if (c->n_in != SHD_WINDOW_INPUTS(M) || c->n_out != H * M ||
		    c->n_hidden > MAX_HIDDEN || !m->net[k].params ||
		    m->net[k].nparams != shd_lstm_params_size(c))
			return 0;
	}
	for (size_t i = 0; i < m->nres * M; i++) {
		const struct shd_mseries *s = &m->ser[i];
		const struct shd_ar *ar = &s->ar;
		if (!s->q || !shd_method_name(s->method) ||
		    (s->method == SHD_M_LSTM && !m->nnet) ||
		    !isfinite(s->center) || !(s->scale > 0) ||
		    !isfinite(s->scale) || s->mase_scale < 0 ||
		    isinf(s->mase_scale) || ar->H != H || !ar->p ||
		    ar->p > MAX_STEPS || ar->day > MAX_SEASON ||
		    ar->week > MAX_SEASON ||
		    ar->k != ar->p - 1 + !!ar->day + !!ar->week + 1 ||
		    !ar->coef || !(ar->srange[0][0] <= ar->srange[0][1]) ||
		    !(ar->srange[1][0] <= ar->srange[1][1]) ||
		    !(s->yrange[0] <= s->yrange[1]))
			return 0;
		for (int k = 0; k < SHD_M_COUNT; k++)
			if (s->val_err[k] < 0 || isinf(s->val_err[k]))
				return 0;
		for (size_t j = 0; j < SHD_M_COUNT * H; j++)
			if (s->q[j] < 0)
				return 0;
		for (size_t j = 0; j < ar->H * ar->k; j++)
			if (!isfinite(ar->coef[j]))
				return 0;
	}
	return 1;
}

int shd_model_save(const struct shd_model *m, const char *path)
{
	json_t *hdr;
	char *js = NULL, tmp[4096];
	uint8_t *buf = NULL, *b;
	size_t jlen, nw = 0, sb = 0, len, off;
	int fd, rc = 0;

	if (!savable(m)) {
		errno = EINVAL;
		return SHD_EINVAL;
	}
	for (size_t i = 0; i < m->nres * m->nmetric; i++)
		sb += series_size(&m->ser[i], m->horizon);
	hdr = header_json(m, sb);
	if (!hdr) {
		errno = m->report ? EINVAL : ENOMEM;
		return m->report ? SHD_EINVAL : SHD_ENOMEM;
	}
	/* 17 significant digits: every double reads back to the same bits */
	js = json_dumps(hdr, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(hdr);
	if (!js) {
		errno = ENOMEM;
		return SHD_ENOMEM;
	}
	jlen = strlen(js);
	for (size_t k = 0; k < m->nnet; k++)
		nw += m->net[k].nparams;
	if (jlen > UINT32_MAX || nw > (SIZE_MAX - jlen - sb - 64) / 4) {
		free(js);
		errno = EFBIG;
		return SHD_EIO;
	}
	len = PREFIX_LEN + jlen + sb + 4 * nw + TRAILER_LEN;
	buf = malloc(len);
	if (!buf) {
		free(js);
		errno = ENOMEM;
		return SHD_ENOMEM;
	}
	memcpy(buf, MAGIC, 8);
	shd_put_le16(buf + 8, MAJOR);
	shd_put_le16(buf + 10, MINOR);
	shd_put_le32(buf + 12, (uint32_t)jlen);
	memcpy(buf + PREFIX_LEN, js, jlen);
	free(js);
	b = buf + PREFIX_LEN + jlen;
	for (size_t i = 0; i < m->nres * m->nmetric; i++)
		b = series_put(b, &m->ser[i], m->horizon);
	off = (size_t)(b - buf);
	for (size_t k = 0; k < m->nnet; k++)
		for (size_t i = 0; i < m->net[k].nparams; i++, off += 4) {
			uint32_t u;
			memcpy(&u, &m->net[k].params[i], 4);
			shd_put_le32(buf + off, u);
		}
	shd_put_le64(buf + off, XXH3_64bits(buf, off));

	fd = shd_atomic_open(path, tmp, sizeof(tmp));
	if (fd < 0) {
		free(buf);
		return SHD_EIO;
	}
	if (shd_write_all(fd, buf, len) < 0) {
		shd_atomic_abort(fd, tmp);
		rc = SHD_EIO;
	} else if (shd_atomic_commit(fd, tmp, path) < 0) {
		rc = SHD_EIO;
	}
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ loading */

struct ld {
	const char *path;
	char *err;
	size_t n;
	char where[160];	/* "series 3 'web-1' 'cpu': " or "" */
	size_t nnet;		/* networks the header declares */
};

__attribute__((format(printf, 2, 3)))
static int bad(struct ld *l, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->err && l->n)
		snprintf(l->err, l->n, "%s: %s", l->path, msg);
	return SHD_EFORMAT;
}

/* Member KEY of O, of JSON type TYPE (JSON_REAL means any number). */
static json_t *member(struct ld *l, json_t *o, const char *key, int type,
		      int *rc)
{
	json_t *v = json_object_get(o, key);
	const char *want = "a value";

	if (*rc)
		return NULL;
	switch (type) {
	case JSON_OBJECT: want = "an object"; break;
	case JSON_ARRAY: want = "an array"; break;
	case JSON_STRING: want = "a string"; break;
	case JSON_INTEGER: want = "an integer"; break;
	case JSON_REAL: want = "a number"; break;
	}
	if (!v) {
		*rc = bad(l, "header: %smissing '%s'", l->where, key);
		return NULL;
	}
	if (type == JSON_REAL ? !json_is_number(v) :
	    (int)json_typeof(v) != type) {
		*rc = bad(l, "header: %s'%s' must be %s", l->where, key, want);
		return NULL;
	}
	return v;
}

/* Unsigned integer KEY of O in [LO, HI]. */
static uint64_t get_uint(struct ld *l, json_t *o, const char *key,
			 uint64_t lo, uint64_t hi, int *rc)
{
	json_t *v = member(l, o, key, JSON_INTEGER, rc);
	json_int_t x;

	if (!v)
		return 0;
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi) {
		*rc = bad(l, "header: %s'%s' = %lld is out of range (%llu to "
			  "%llu)", l->where, key, (long long)x,
			  (unsigned long long)lo, (unsigned long long)hi);
		return 0;
	}
	return (uint64_t)x;
}

static int64_t get_int(struct ld *l, json_t *o, const char *key, int *rc)
{
	json_t *v = member(l, o, key, JSON_INTEGER, rc);

	return v ? (int64_t)json_integer_value(v) : 0;
}

/* A number, or NaN for null when NULL_OK (else null is refused). */
static double num_value(struct ld *l, json_t *v, const char *what,
			int null_ok, int *rc)
{
	if (*rc)
		return NAN;
	if (json_is_null(v) && null_ok)
		return NAN;
	if (!json_is_number(v)) {
		*rc = bad(l, "header: %s%s must be a number%s", l->where, what,
			  null_ok ? " or null" : "");
		return NAN;
	}
	return json_number_value(v);
}

static double get_num(struct ld *l, json_t *o, const char *key, int null_ok,
		      int *rc)
{
	json_t *v = json_object_get(o, key);

	if (*rc)
		return NAN;
	if (!v) {
		*rc = bad(l, "header: %smissing '%s'", l->where, key);
		return NAN;
	}
	return num_value(l, v, key, null_ok, rc);
}

/* Array KEY of O with exactly LEN elements. */
static json_t *get_array(struct ld *l, json_t *o, const char *key, size_t len,
			 int *rc)
{
	json_t *a = member(l, o, key, JSON_ARRAY, rc);

	if (a && json_array_size(a) != len) {
		*rc = bad(l, "header: %s'%s' has %zu elements, expected %zu",
			  l->where, key, json_array_size(a), len);
		return NULL;
	}
	return a;
}

/*
 * Copies the strings of array A into *OUT (allocated here); *COUNT (when
 * not NULL) is set as soon as *OUT exists.
 */
static int get_strings(struct ld *l, json_t *a, const char *what,
		       int empty_ok, char ***out, size_t *count)
{
	size_t n = json_array_size(a);

	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return SHD_ENOMEM;
	if (count)
		*count = n;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);
		if (!json_is_string(v))
			return bad(l, "header: %s %zu must be a string", what, i);
		if (!empty_ok && !json_string_length(v))
			return bad(l, "header: %s %zu is empty", what, i);
		(*out)[i] = strdup(json_string_value(v));
		if (!(*out)[i])
			return SHD_ENOMEM;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The name of a duplicate among the N strings of V, or NULL. */
static const char *duplicate(char **v, size_t n, int *nomem)
{
	char **s = malloc((n ? n : 1) * sizeof(*s));
	const char *dup = NULL;

	*nomem = !s;
	if (!s)
		return NULL;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_str);
	for (size_t i = 1; i < n && !dup; i++)
		if (strcmp(s[i - 1], s[i]) == 0)
			dup = s[i];
	free(s);
	return dup;
}

/* A cursor over the series bytes. */
struct cur {
	const uint8_t *p, *end;
};

static double get_f64(struct cur *c)
{
	uint64_t u = shd_get_le64(c->p);
	double v;

	memcpy(&v, &u, 8);
	c->p += 8;
	return v;
}

static uint32_t get_u32(struct cur *c)
{
	uint32_t v = shd_get_le32(c->p);

	c->p += 4;
	return v;
}

/* Series record I (resource r, metric mi) at C into S, every field checked. */
static int load_series(struct ld *l, struct cur *c, struct shd_mseries *s,
		       const struct shd_model *m)
{
	size_t H = m->horizon;
	struct shd_ar *ar = &s->ar;
	uint32_t method;

	if ((size_t)(c->end - c->p) < SER_FIXED + 4 * H)
		return bad(l, "%struncated ('series_bytes' too small)",
			   l->where);
	s->center = get_f64(c);
	s->scale = get_f64(c);
	s->mase_scale = get_f64(c);
	if (!isfinite(s->center))
		return bad(l, "%scenter must be finite", l->where);
	if (!(s->scale > 0) || !isfinite(s->scale))
		return bad(l, "%sscale must be > 0", l->where);
	if (s->mase_scale < 0 || isinf(s->mase_scale))
		return bad(l, "%smase_scale must be >= 0", l->where);
	for (int k = 0; k < SHD_M_COUNT; k++) {
		s->val_err[k] = get_f64(c);
		if (s->val_err[k] < 0 || isinf(s->val_err[k]))
			return bad(l, "%sval_err %s must be >= 0", l->where,
				   method_names[k]);
	}
	method = get_u32(c);
	if (method >= SHD_M_COUNT)
		return bad(l, "%sunknown method %u", l->where, method);
	s->method = (int)method;
	if (s->method == SHD_M_LSTM && !l->nnet)
		return bad(l, "%smethod lstm, but the model has no network",
			   l->where);
	ar->H = H;
	ar->p = get_u32(c);
	ar->day = get_u32(c);
	ar->week = get_u32(c);
	if (!ar->p || ar->p > MAX_STEPS || ar->day > MAX_SEASON ||
	    ar->week > MAX_SEASON)
		return bad(l, "%sar: p = %zu, day = %zu or week = %zu out of "
			   "range", l->where, ar->p, ar->day, ar->week);
	ar->k = ar->p - 1 + !!ar->day + !!ar->week + 1;
	for (int j = 0; j < 4; j++)
		ar->srange[j / 2][j % 2] = get_f64(c);
	for (int j = 0; j < 2; j++)
		if (!(ar->srange[j][0] <= ar->srange[j][1]))
			return bad(l, "%sar: the %s feature's range is not "
				   "lo <= hi", l->where, j ? "week" : "day");
	s->yrange[0] = get_f64(c);
	s->yrange[1] = get_f64(c);
	if (!(s->yrange[0] <= s->yrange[1]))
		return bad(l, "%sthe network's correction range is not "
			   "lo <= hi", l->where);
	if ((size_t)(c->end - c->p) < 4 * H + 8 * H * ar->k +
	    8 * SHD_M_COUNT * H)
		return bad(l, "%struncated ('series_bytes' too small)",
			   l->where);
	ar->nfit = malloc(H * sizeof(*ar->nfit));
	ar->coef = malloc(H * ar->k * sizeof(*ar->coef));
	s->q = malloc(SHD_M_COUNT * H * sizeof(*s->q));
	if (!ar->nfit || !ar->coef || !s->q)
		return SHD_ENOMEM;
	for (size_t h = 0; h < H; h++)
		ar->nfit[h] = get_u32(c);
	for (size_t i = 0; i < H * ar->k; i++) {
		ar->coef[i] = get_f64(c);
		if (!isfinite(ar->coef[i]))
			return bad(l, "%sar coef %zu is not finite", l->where,
				   i);
	}
	for (size_t j = 0; j < SHD_M_COUNT * H; j++) {
		double x = get_f64(c);
		if (!(x >= 0))
			return bad(l, "%sq[%zu][%zu] must be >= 0", l->where,
				   j / H, j % H);
		s->q[j] = x;
	}
	return 0;
}

static int load_nets(struct ld *l, json_t *root, struct shd_model *m,
		     const uint8_t *w, size_t wlen)
{
	struct shd_lstm_config cfg[1];
	json_t *nets = member(l, root, "nets", JSON_ARRAY, &(int){ 0 });
	size_t want = m->per_resource ? m->nres : 1, total = 0;
	int rc = 0;

	if (!nets)
		return bad(l, "header: missing or bad 'nets'");
	if (json_array_size(nets) != want &&
	    !(json_array_size(nets) == 0 && !m->per_resource))
		return bad(l, "header: 'nets' has %zu elements, expected %zu",
			   json_array_size(nets), want);
	/* what shd_model_save refuses (fuzz-model's round trip) */
	if (m->per_resource && !json_array_size(nets))
		return bad(l, "header: 'per_resource' with no resources");
	/* check every config and the weights' size before allocating */
	for (size_t k = 0; k < json_array_size(nets); k++) {
		json_t *o = json_array_get(nets, k);
		snprintf(l->where, sizeof(l->where), "net %zu: ", k);
		if (!json_is_object(o))
			return bad(l, "header: %smust be an object", l->where);
		memset(cfg, 0, sizeof(cfg));
		cfg->n_in = get_uint(l, o, "n_in", SHD_WINDOW_INPUTS(m->nmetric),
				     SHD_WINDOW_INPUTS(m->nmetric), &rc);
		cfg->n_hidden = get_uint(l, o, "n_hidden", 1, MAX_HIDDEN, &rc);
		cfg->n_layers = get_uint(l, o, "n_layers", 1,
					 SHD_LSTM_MAX_LAYERS, &rc);
		cfg->n_out = get_uint(l, o, "n_out", m->horizon * m->nmetric,
				      m->horizon * m->nmetric, &rc);
		uint64_t np = get_uint(l, o, "nparams", 1, SIZE_MAX / 4, &rc);
		if (rc)
			return rc;
		if (np != shd_lstm_params_size(cfg))
			return bad(l, "header: %snparams = %llu, but the sizes "
				   "give %zu", l->where, (unsigned long long)np,
				   shd_lstm_params_size(cfg));
		if (np > (SIZE_MAX / 4 - total))
			return bad(l, "header: %stoo many weights", l->where);
		total += (size_t)np;
	}
	l->where[0] = '\0';
	if (total > wlen / 4 || total * 4 != wlen)
		return bad(l, total * 4 > wlen ? "truncated (expected %zu bytes "
			   "of weights, found %zu)" : "expected %zu bytes of "
			   "weights, found %zu (damaged file)", total * 4, wlen);
	/* zeroed nets are safe to release: nnet is set with the array */
	m->net = calloc(json_array_size(nets) ? json_array_size(nets) : 1,
			sizeof(*m->net));
	if (!m->net)
		return SHD_ENOMEM;
	m->nnet = json_array_size(nets);
	for (size_t k = 0; k < m->nnet; k++) {
		json_t *o = json_array_get(nets, k);
		memset(cfg, 0, sizeof(cfg));
		cfg->n_in = (size_t)json_integer_value(json_object_get(o, "n_in"));
		cfg->n_hidden = (size_t)json_integer_value(json_object_get(o, "n_hidden"));
		cfg->n_layers = (size_t)json_integer_value(json_object_get(o, "n_layers"));
		cfg->n_out = (size_t)json_integer_value(json_object_get(o, "n_out"));
		cfg->max_steps = m->lookback;
		cfg->max_batch = 1;
		rc = shd_lstm_init(&m->net[k], cfg, 0);
		if (rc)
			return rc == SHD_EINVAL ? bad(l, "header: net %zu: bad "
						      "sizes", k) : rc;
		for (size_t i = 0; i < m->net[k].nparams; i++, w += 4) {
			uint32_t u = shd_get_le32(w);
			float f;
			memcpy(&f, &u, 4);
			if (!isfinite(f))
				return bad(l, "net %zu: weight %zu is not finite "
					   "(damaged model)", k, i);
			m->net[k].params[i] = f;
		}
	}
	return 0;
}

/* Everything but the weights, from the JSON header ROOT. */
static int load_header(struct ld *l, json_t *root, struct cur *ser,
		       struct shd_model *m)
{
	int rc = 0;
	json_t *mets, *units, *res, *v;
	const char *dup;
	int nomem;

	if (!json_is_object(root))
		return bad(l, "header: not a JSON object");
	v = json_object_get(root, "format");
	if (v && (!json_is_string(v) ||
		  strcmp(json_string_value(v), "shd-model") != 0))
		return bad(l, "header: 'format' is not \"shd-model\"");
	m->step = get_int(l, root, "step", &rc);
	if (!rc && m->step <= 0)
		return bad(l, "header: 'step' must be > 0");
	m->lookback = get_uint(l, root, "lookback", 1, MAX_STEPS, &rc);
	m->horizon = get_uint(l, root, "horizon", 1, MAX_STEPS, &rc);
	m->day = get_uint(l, root, "day", 0, MAX_SEASON, &rc);
	m->week = get_uint(l, root, "week", 0, MAX_SEASON, &rc);
	m->ar_p = get_uint(l, root, "ar_p", 1, MAX_STEPS, &rc);
	m->coverage = get_num(l, root, "coverage", 0, &rc);
	if (!rc && !(m->coverage > 0 && m->coverage < 1))
		return bad(l, "header: 'coverage' must be between 0 and 1");
	m->data_from = get_int(l, root, "data_from", &rc);
	m->data_to = get_int(l, root, "data_to", &rc);
	if (!rc && m->data_from > m->data_to)
		return bad(l, "header: 'data_from' is after 'data_to'");
	m->seed = get_uint(l, root, "seed", 0, INT64_MAX, &rc);
	v = json_object_get(root, "per_resource");
	if (!rc && !json_is_boolean(v))
		return bad(l, "header: 'per_resource' must be true or false");
	m->per_resource = json_is_true(v);
	v = member(l, root, "fingerprint", JSON_STRING, &rc);
	if (rc)
		return rc;
	{
		const char *s = json_string_value(v);
		char *end;
		if (strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16)
			return bad(l, "header: 'fingerprint' must be 16 hex "
				   "digits");
		m->fingerprint = strtoull(s, &end, 16);
	}

	mets = member(l, root, "metrics", JSON_ARRAY, &rc);
	if (rc)
		return rc;
	if (!json_array_size(mets) || json_array_size(mets) > MAX_METRICS)
		return bad(l, "header: 'metrics' must have 1 to %d names",
			   MAX_METRICS);
	units = get_array(l, root, "units", json_array_size(mets), &rc);
	res = member(l, root, "resources", JSON_ARRAY, &rc);
	if (rc)
		return rc;
	if (json_array_size(res) > MAX_RES)
		return bad(l, "header: too many resources (%zu)",
			   json_array_size(res));
	/* get_strings sets the count as soon as its array exists (NULLs
	 * until filled), so shd_model_release can always free what is there */
	rc = get_strings(l, mets, "metric", 0, &m->metric, &m->nmetric);
	if (!rc)
		rc = get_strings(l, units, "unit", 1, &m->unit, NULL);
	if (!rc)
		rc = get_strings(l, res, "resource", 0, &m->res, &m->nres);
	if (rc)
		return rc;
	if ((dup = duplicate(m->metric, m->nmetric, &nomem)) || nomem)
		return nomem ? SHD_ENOMEM : bad(l, "header: metric '%s' twice",
						dup);
	if ((dup = duplicate(m->res, m->nres, &nomem)) || nomem)
		return nomem ? SHD_ENOMEM : bad(l, "header: resource '%s' "
						"twice", dup);
	if (m->horizon * m->nmetric > MAX_STEPS * 16)
		return bad(l, "header: horizon x metrics too large");

	/* the networks first: a series' method lstm needs one */
	v = json_object_get(root, "nets");
	if (!json_is_array(v))
		return bad(l, "header: missing or bad 'nets'");
	l->nnet = json_array_size(v);
	m->ser = calloc(m->nres ? m->nres * m->nmetric : 1,
			sizeof(*m->ser));
	if (!m->ser)
		return SHD_ENOMEM;
	for (size_t r = 0; r < m->nres; r++)
		for (size_t k = 0; k < m->nmetric; k++) {
			size_t i = r * m->nmetric + k;
			snprintf(l->where, sizeof(l->where), "series %zu '%s' "
				 "'%s': ", i, m->res[r], m->metric[k]);
			rc = load_series(l, ser, &m->ser[i], m);
			if (rc)
				return rc;
		}
	if (ser->p != ser->end)
		return bad(l, "'series_bytes' is %zu bytes too large",
			   (size_t)(ser->end - ser->p));
	l->where[0] = '\0';
	v = json_object_get(root, "report");
	if (v && !json_is_null(v)) {
		m->report = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
				       JSON_REAL_PRECISION(17));
		if (!m->report)
			return SHD_ENOMEM;
	}
	return 0;
}

/* Reads all of FD into *BUF (malloc'd), its size in *LEN. */
static int slurp(int fd, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t cap = 1 << 16, n = 0;
	uint8_t *b;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < SIZE_MAX - 1)
		cap = (size_t)st.st_size + 1;
	b = malloc(cap);
	if (!b)
		return SHD_ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > SIZE_MAX / 2) {
				free(b);
				errno = EFBIG;
				return SHD_EIO;
			}
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return SHD_ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		long got = shd_read_full(fd, b + n, cap - n);
		if (got < 0) {
			free(b);
			return SHD_EIO;
		}
		n += (size_t)got;
		if (got == 0 || n < cap)
			break;
	}
	*buf = b;
	*len = n;
	return 0;
}

/*
 * A checksum failed: is the file cut short? The JSON (not trusted, only
 * parsed) says how many bytes of series and weights there should be.
 */
static size_t expected_body(const uint8_t *js, size_t jlen)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)js, jlen, 0, &jerr);
	json_t *nets = json_object_get(root, "nets");
	json_int_t sb = json_integer_value(json_object_get(root,
							   "series_bytes"));
	size_t total = 0;

	for (size_t k = 0; k < json_array_size(nets); k++) {
		json_int_t np = json_integer_value(
			json_object_get(json_array_get(nets, k), "nparams"));
		if (np > 0 && (uint64_t)np < SIZE_MAX / 8 - total)
			total += (size_t)np;
	}
	json_decref(root);
	total *= 4;
	if (sb > 0 && (uint64_t)sb < SIZE_MAX / 2 - total)
		total += (size_t)sb;
	return total;
}

static int parse(struct ld *l, const uint8_t *b, size_t len,
		 struct shd_model *m)
{
	size_t jlen, blen, sb;
	json_error_t jerr;
	json_t *root;
	struct cur ser;
	int rc = 0;

	if (len < 8 || memcmp(b, MAGIC, 8) != 0)
		return bad(l, "not an shd model (bad magic)");
	if (len < PREFIX_LEN)
		return bad(l, "truncated (%zu bytes, the header needs %d)", len,
			   PREFIX_LEN);
	if (shd_get_le16(b + 8) != MAJOR)
		return bad(l, "model format version %u is not supported (this "
			   "reader knows version %d%s)", shd_get_le16(b + 8),
			   MAJOR, shd_get_le16(b + 8) < MAJOR ?
			   "; train it again" : "");
	jlen = shd_get_le32(b + 12);
	if (len - PREFIX_LEN < TRAILER_LEN || jlen > len - PREFIX_LEN -
	    TRAILER_LEN)
		return bad(l, "truncated (expected a %zu-byte header and a "
			   "checksum, found %zu bytes)", jlen + PREFIX_LEN +
			   TRAILER_LEN, len);
	blen = len - PREFIX_LEN - jlen - TRAILER_LEN;
	if (XXH3_64bits(b, len - TRAILER_LEN) !=
	    shd_get_le64(b + len - TRAILER_LEN)) {
		size_t want = expected_body(b + PREFIX_LEN, jlen);
		/* the trailer of a cut file is weights: it may be 8 short */
		if (want > blen)
			return bad(l, "truncated (expected %zu bytes of series "
				   "and weights)", want);
		return bad(l, "checksum mismatch (damaged file)");
	}
	root = json_loadb((const char *)b + PREFIX_LEN, jlen,
			  JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad(l, "header: bad JSON at byte %d: %s", jerr.position,
			   jerr.text);
	sb = get_uint(l, root, "series_bytes", 0, blen, &rc);
	ser.p = b + PREFIX_LEN + jlen;
	ser.end = ser.p + sb;
	if (!rc)
		rc = load_header(l, root, &ser, m);
	if (!rc)
		rc = load_nets(l, root, m, ser.end, blen - sb);
	json_decref(root);
	return rc;
}

int shd_model_load(struct shd_model *m, const char *path, char *err,
		   size_t n)
{
	struct ld l = { .path = path, .err = err, .n = n };
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	shd_model_init(m);
	if (err && n)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (err && n)
			snprintf(err, n, "cannot open '%s': %s", path,
				 strerror(e));
		errno = e;
		return SHD_EIO;
	}
	rc = slurp(fd, &buf, &len);
	if (rc) {
		int e = errno;
		close(fd);
		if (err && n)
			snprintf(err, n, "cannot read '%s': %s", path,
				 rc == SHD_ENOMEM ? "out of memory" : strerror(e));
		errno = e;
		return rc;
	}
	close(fd);
	rc = parse(&l, buf, len, m);
	free(buf);
	if (rc) {
		if (rc == SHD_ENOMEM && err && n)
			snprintf(err, n, "%s: out of memory", path);
		shd_model_release(m);
	}
	return rc;
}
