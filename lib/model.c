/*
 * model.c - the model file of shd-train and shd-predict: saving it
 * atomically and loading it back with every field checked (model.h).
 *
 * The file:
 *   magic(8) "\x89SHM\r\n\x1a\n"  major u16 = 1  minor u16  jlen u32
 *   JSON header (jlen bytes)
 *   float32 weights of each network, little-endian, nets in order
 *   XXH3-64 of every byte before it (u64)
 * All integers little-endian.
 *
 * The JSON header (every number a JSON number; NaN is null where allowed,
 * and a q half-width of null is +infinity):
 *   { "format": "shd-model", "step": ms,
 *     "metrics": [name...], "units": [unit...], "resources": [name...],
 *     "series": [ (R*M, resource r metric m at r*M+m)
 *        { "resource", "metric", "center", "scale", "mase_scale",
 *          "method": "lstm"|..., "val_err": { "lstm": x|null, ... },
 *          "ar": { "H", "p", "day", "week", "k", "coef": [H*k],
 *                  "nfit": [H] },
 *          "q": [[H] per method] } ... ],
 *     "data_from", "data_to": ms, "fingerprint": "16 hex digits",
 *     "lookback", "horizon", "day", "week", "ar_p",
 *     "coverage", "seed", "per_resource": bool,
 *     "nets": [{ "n_in", "n_hidden", "n_layers", "n_out", "nparams" }],
 *     "report": any JSON value or null }
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
#define MAJOR 1
#define MINOR 0
#define PREFIX_LEN 16		/* magic, major, minor, jlen */
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
	shd_model_init(m);
}

long shd_model_find(const struct shd_model *m, const char *key)
{
	for (size_t r = 0; r < m->nres; r++)
		if (strcmp(m->res[r], key) == 0)
			return (long)r;
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

static json_t *series_json(const struct shd_model *m, size_t r, size_t mi)
{
	const struct shd_mseries *s = &m->ser[r * m->nmetric + mi];
	const struct shd_ar *ar = &s->ar;
	json_t *o = json_object(), *ve = json_object(), *a = json_object();
	json_t *coef = json_array(), *nfit = json_array(), *q = json_array();
	int bad = !o || !ve || !a || !coef || !nfit || !q;

	for (int k = 0; k < SHD_M_COUNT && !bad; k++)
		bad |= set(ve, method_names[k], num_or_null(s->val_err[k]));
	for (size_t i = 0; i < ar->H * ar->k && !bad; i++)
		bad |= push(coef, json_real(ar->coef[i]));
	for (size_t h = 0; h < ar->H && !bad; h++)
		bad |= push(nfit, uint_json(ar->nfit ? ar->nfit[h] : 0));
	for (int k = 0; k < SHD_M_COUNT && !bad; k++) {
		json_t *row = json_array();
		bad |= push(q, row);
		/* a NaN half-width (never calibrated) is as wide as inf */
		for (size_t h = 0; h < m->horizon && !bad; h++)
			bad |= push(row, num_or_null(s->q[k * m->horizon + h]));
	}
	if (!bad) {
		bad |= set(a, "H", uint_json(ar->H));
		bad |= set(a, "p", uint_json(ar->p));
		bad |= set(a, "day", uint_json(ar->day));
		bad |= set(a, "week", uint_json(ar->week));
		bad |= set(a, "k", uint_json(ar->k));
		bad |= json_object_set(a, "coef", coef);
		bad |= json_object_set(a, "nfit", nfit);
		bad |= set(o, "resource", json_string(m->res[r]));
		bad |= set(o, "metric", json_string(m->metric[mi]));
		bad |= set(o, "center", json_real(s->center));
		bad |= set(o, "scale", json_real(s->scale));
		bad |= set(o, "mase_scale", num_or_null(s->mase_scale));
		bad |= set(o, "method", json_string(shd_method_name(s->method)));
		bad |= json_object_set(o, "val_err", ve);
		bad |= json_object_set(o, "ar", a);
		bad |= json_object_set(o, "q", q);
	}
	json_decref(ve);
	json_decref(a);
	json_decref(coef);
	json_decref(nfit);
	json_decref(q);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The JSON header of M, or NULL (out of memory, or M not valid). */
static json_t *header_json(const struct shd_model *m)
{
	json_t *o = json_object(), *mets = json_array(), *units = json_array();
	json_t *res = json_array(), *ser = json_array(), *nets = json_array();
	json_t *report = NULL;
	char fp[17];
	int bad = !o || !mets || !units || !res || !ser || !nets;

	for (size_t k = 0; k < m->nmetric && !bad; k++) {
		bad |= push(mets, json_string(m->metric[k]));
		bad |= push(units, json_string(m->unit[k] ? m->unit[k] : ""));
	}
	for (size_t r = 0; r < m->nres && !bad; r++)
		bad |= push(res, json_string(m->res[r]));
	for (size_t r = 0; r < m->nres && !bad; r++)
		for (size_t k = 0; k < m->nmetric && !bad; k++)
			bad |= push(ser, series_json(m, r, k));
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
		bad |= json_object_set(o, "series", ser);
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
	json_decref(ser);
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
		    !ar->coef)
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
	uint8_t *buf = NULL;
	size_t jlen, nw = 0, len, off;
	int fd, rc = 0;

	if (!savable(m)) {
		errno = EINVAL;
		return SHD_EINVAL;
	}
	hdr = header_json(m);
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
	if (jlen > UINT32_MAX || nw > (SIZE_MAX - jlen - 64) / 4) {
		free(js);
		errno = EFBIG;
		return SHD_EIO;
	}
	len = PREFIX_LEN + jlen + 4 * nw + TRAILER_LEN;
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
	off = PREFIX_LEN + jlen;
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

static int load_ar(struct ld *l, json_t *o, struct shd_ar *ar,
		   const struct shd_model *m)
{
	int rc = 0;
	json_t *coef, *nfit;

	ar->H = get_uint(l, o, "H", m->horizon, m->horizon, &rc);
	ar->p = get_uint(l, o, "p", 1, MAX_STEPS, &rc);
	ar->day = get_uint(l, o, "day", 0, MAX_SEASON, &rc);
	ar->week = get_uint(l, o, "week", 0, MAX_SEASON, &rc);
	ar->k = get_uint(l, o, "k", 1, MAX_STEPS + 3, &rc);
	if (rc)
		return rc;
	if (ar->k != ar->p - 1 + !!ar->day + !!ar->week + 1)
		return bad(l, "header: %sar: k = %zu does not match p = %zu, "
			   "day = %zu, week = %zu", l->where, ar->k, ar->p,
			   ar->day, ar->week);
	coef = get_array(l, o, "coef", ar->H * ar->k, &rc);
	nfit = get_array(l, o, "nfit", ar->H, &rc);
	if (rc)
		return rc;
	ar->coef = malloc(ar->H * ar->k * sizeof(*ar->coef));
	ar->nfit = malloc(ar->H * sizeof(*ar->nfit));
	if (!ar->coef || !ar->nfit)
		return SHD_ENOMEM;
	for (size_t i = 0; i < ar->H * ar->k && !rc; i++) {
		ar->coef[i] = num_value(l, json_array_get(coef, i), "ar coef", 0,
					&rc);
		if (!rc && !isfinite(ar->coef[i]))
			rc = bad(l, "header: %sar coef %zu is not finite",
				 l->where, i);
	}
	for (size_t h = 0; h < ar->H && !rc; h++) {
		json_t *v = json_array_get(nfit, h);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return bad(l, "header: %sar nfit %zu must be an integer "
				   ">= 0", l->where, h);
		ar->nfit[h] = (size_t)json_integer_value(v);
	}
	return rc;
}

static int load_series(struct ld *l, json_t *o, struct shd_mseries *s,
		       const struct shd_model *m, size_t r, size_t mi)
{
	int rc = 0;
	size_t H = m->horizon;
	json_t *v, *ve, *ar, *q;

	if (!json_is_object(o))
		return bad(l, "header: %smust be an object", l->where);
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "metric" : "resource";
		const char *want = k ? m->metric[mi] : m->res[r];
		v = json_object_get(o, key);
		if (v && (!json_is_string(v) || strcmp(json_string_value(v), want)))
			return bad(l, "header: %s'%s' should be '%s'", l->where,
				   key, want);
	}
	s->center = get_num(l, o, "center", 0, &rc);
	s->scale = get_num(l, o, "scale", 0, &rc);
	s->mase_scale = get_num(l, o, "mase_scale", 1, &rc);
	if (rc)
		return rc;
	if (!isfinite(s->center))
		return bad(l, "header: %scenter must be finite", l->where);
	if (!(s->scale > 0) || !isfinite(s->scale))
		return bad(l, "header: %sscale must be > 0", l->where);
	if (s->mase_scale < 0 || isinf(s->mase_scale))
		return bad(l, "header: %smase_scale must be >= 0", l->where);
	v = member(l, o, "method", JSON_STRING, &rc);
	if (rc)
		return rc;
	s->method = shd_method_parse(json_string_value(v));
	if (s->method < 0)
		return bad(l, "header: %sunknown method '%s'", l->where,
			   json_string_value(v));
	if (s->method == SHD_M_LSTM && !l->nnet)
		return bad(l, "header: %smethod lstm, but the model has no "
			   "network", l->where);
	ve = member(l, o, "val_err", JSON_OBJECT, &rc);
	for (int k = 0; k < SHD_M_COUNT && !rc; k++) {
		s->val_err[k] = get_num(l, ve, method_names[k], 1, &rc);
		if (!rc && (s->val_err[k] < 0 || isinf(s->val_err[k])))
			rc = bad(l, "header: %sval_err %s must be >= 0",
				 l->where, method_names[k]);
	}
	ar = member(l, o, "ar", JSON_OBJECT, &rc);
	if (rc || (rc = load_ar(l, ar, &s->ar, m)))
		return rc;
	q = get_array(l, o, "q", SHD_M_COUNT, &rc);
	if (rc)
		return rc;
	s->q = malloc(SHD_M_COUNT * H * sizeof(*s->q));
	if (!s->q)
		return SHD_ENOMEM;
	for (int k = 0; k < SHD_M_COUNT; k++) {
		json_t *row = json_array_get(q, (size_t)k);
		if (!json_is_array(row) || json_array_size(row) != H)
			return bad(l, "header: %sq[%d] must be an array of %zu "
				   "(the horizon)", l->where, k, H);
		for (size_t h = 0; h < H; h++) {
			double x = num_value(l, json_array_get(row, h), "q", 1,
					     &rc);
			if (rc)
				return rc;
			if (x < 0 || isinf(x))
				return bad(l, "header: %sq[%d][%zu] must be >= 0 "
					   "(null: infinite)", l->where, k, h);
			s->q[(size_t)k * H + h] = isnan(x) ? INFINITY : x;
		}
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
static int load_header(struct ld *l, json_t *root, struct shd_model *m)
{
	int rc = 0;
	json_t *mets, *units, *res, *ser, *v;
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
	ser = get_array(l, root, "series", m->nres * m->nmetric, &rc);
	if (rc)
		return rc;
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
			rc = load_series(l, json_array_get(ser, i), &m->ser[i],
					 m, r, k);
			if (rc)
				return rc;
		}
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
 * parsed) says how many weights there should be.
 */
static size_t expected_weights(const uint8_t *js, size_t jlen)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)js, jlen, 0, &jerr);
	json_t *nets = json_object_get(root, "nets");
	size_t total = 0;

	for (size_t k = 0; k < json_array_size(nets); k++) {
		json_int_t np = json_integer_value(
			json_object_get(json_array_get(nets, k), "nparams"));
		if (np > 0 && (uint64_t)np < SIZE_MAX / 8 - total)
			total += (size_t)np;
	}
	json_decref(root);
	return total * 4;
}

static int parse(struct ld *l, const uint8_t *b, size_t len,
		 struct shd_model *m)
{
	size_t jlen, wlen;
	json_error_t jerr;
	json_t *root;
	int rc;

	if (len < 8 || memcmp(b, MAGIC, 8) != 0)
		return bad(l, "not an shd model (bad magic)");
	if (len < PREFIX_LEN)
		return bad(l, "truncated (%zu bytes, the header needs %d)", len,
			   PREFIX_LEN);
	if (shd_get_le16(b + 8) != MAJOR)
		return bad(l, "model format version %u is not supported (this "
			   "reader knows version %d)", shd_get_le16(b + 8),
			   MAJOR);
	jlen = shd_get_le32(b + 12);
	if (len - PREFIX_LEN < TRAILER_LEN || jlen > len - PREFIX_LEN -
	    TRAILER_LEN)
		return bad(l, "truncated (expected a %zu-byte header and a "
			   "checksum, found %zu bytes)", jlen + PREFIX_LEN +
			   TRAILER_LEN, len);
	wlen = len - PREFIX_LEN - jlen - TRAILER_LEN;
	if (XXH3_64bits(b, len - TRAILER_LEN) !=
	    shd_get_le64(b + len - TRAILER_LEN)) {
		size_t want = expected_weights(b + PREFIX_LEN, jlen);
		/* the trailer of a cut file is weights: it may be 8 short */
		if (want > wlen)
			return bad(l, "truncated (expected %zu bytes of "
				   "weights)", want);
		return bad(l, "checksum mismatch (damaged file)");
	}
	root = json_loadb((const char *)b + PREFIX_LEN, jlen,
			  JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad(l, "header: bad JSON at byte %d: %s", jerr.position,
			   jerr.text);
	rc = load_header(l, root, m);
	if (!rc)
		rc = load_nets(l, root, m, b + PREFIX_LEN + jlen, wlen);
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
