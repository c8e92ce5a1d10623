/*
 * unit-model.c - the model file: a round trip of every field, and refusal
 * of truncated, damaged, foreign and inconsistent files.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "codec.h"
#include "harness.h"
#include "model.h"

#define M_ 2		/* metrics */
#define R_ 2		/* resources */
#define H_ 3		/* horizon */
#define T_ 4		/* lookback */

static char dir[256];

static const char *path_of(const char *name)
{
	static char buf[16][512];	/* a ring: a few stay valid at once */
	static int k;

	k = (k + 1) % 16;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

/* A hand-built model: 2 resources x 2 metrics, one tiny network. */
static void build(struct shd_model *m, int per_resource)
{
	shd_model_init(m);
	m->step = 300000;
	m->nmetric = M_;
	m->metric = calloc(M_, sizeof(char *));
	m->unit = calloc(M_, sizeof(char *));
	m->metric[0] = xstrdup("cpu");
	m->unit[0] = xstrdup("%");
	m->metric[1] = xstrdup("mem");
	m->unit[1] = xstrdup("");
	m->nres = R_;
	m->res = calloc(R_, sizeof(char *));
	m->res[0] = xstrdup("web-1");
	m->res[1] = xstrdup("db \"x\"");
	m->ser = calloc(R_ * M_, sizeof(*m->ser));
	for (size_t i = 0; i < R_ * M_; i++) {
		struct shd_mseries *s = &m->ser[i];
		s->center = 10.5 + (double)i / 3;
		s->scale = 0.1 + (double)i * 1e-7;
		s->mase_scale = i == 2 ? NAN : 0.25 * (double)i;
		s->method = (int)(i % SHD_M_COUNT);
		for (int k = 0; k < SHD_M_COUNT; k++)
			s->val_err[k] = k == 3 ? NAN : 1.0 / (double)(k + i + 1);
		s->ar.H = H_;
		s->ar.p = 2;
		s->ar.day = i % 2 ? 6 : 0;
		s->ar.week = 0;
		s->ar.k = s->ar.p - 1 + !!s->ar.day + 1;
		if (s->ar.day) {
			s->ar.srange[0][0] = -2.5 - (double)i;
			s->ar.srange[0][1] = i == 3 ? INFINITY : 1.25;
		}
		s->yrange[0] = i == 0 ? -INFINITY : -0.5 * (double)i;
		s->yrange[1] = i == 0 ? INFINITY : 0.25 * (double)i;
		s->ar.coef = calloc(H_ * s->ar.k, sizeof(double));
		s->ar.nfit = calloc(H_, sizeof(size_t));
		for (size_t j = 0; j < H_ * s->ar.k; j++)
			s->ar.coef[j] = sin((double)(j + 7 * i)) * 1e-3;
		for (size_t h = 0; h < H_; h++)
			s->ar.nfit[h] = 100 + h;
		s->q = calloc(SHD_M_COUNT * H_, sizeof(double));
		for (size_t j = 0; j < SHD_M_COUNT * H_; j++)
			s->q[j] = j % 4 == 1 ? INFINITY : 0.3 * (double)j + 0.01;
	}
	m->data_from = 1704067200000;
	m->data_to = 1706486100000;
	m->fingerprint = 0xfedcba9876543210ull;
	m->lookback = T_;
	m->horizon = H_;
	m->day = 6;
	m->week = 0;
	m->ar_p = 2;
	m->coverage = 0.9;
	m->seed = 42;
	m->per_resource = per_resource;
	m->nnet = per_resource ? R_ : 1;
	m->net = calloc(m->nnet, sizeof(*m->net));
	for (size_t k = 0; k < m->nnet; k++) {
		struct shd_lstm_config cfg = {
			.n_in = SHD_WINDOW_INPUTS(M_), .n_hidden = 3,
			.n_layers = 2, .n_out = H_ * M_, .max_steps = T_,
			.max_batch = 4,
		};
		if (shd_lstm_init(&m->net[k], &cfg, 7 + k))
			abort();
	}
	m->report = xstrdup("{\"epochs\":3,\"table\":[1.5,null,\"x\"]}");
}

static void expect_same(const struct shd_model *a, const struct shd_model *b)
{
	EXPECT_EQ_INT(a->step, b->step);
	EXPECT_EQ_INT(a->nmetric, b->nmetric);
	EXPECT_EQ_INT(a->nres, b->nres);
	if (a->nmetric != b->nmetric || a->nres != b->nres ||
	    a->nnet != b->nnet) {
		FAIL_AT("sizes differ");
		return;
	}
	for (size_t k = 0; k < a->nmetric; k++) {
		EXPECT_EQ_STR(a->metric[k], b->metric[k]);
		EXPECT_EQ_STR(a->unit[k], b->unit[k]);
	}
	for (size_t r = 0; r < a->nres; r++)
		EXPECT_EQ_STR(a->res[r], b->res[r]);
	for (size_t i = 0; i < a->nres * a->nmetric; i++) {
		const struct shd_mseries *x = &a->ser[i], *y = &b->ser[i];
		EXPECT_SAME_DOUBLE(x->center, y->center);
		EXPECT_SAME_DOUBLE(x->scale, y->scale);
		EXPECT_SAME_DOUBLE(x->mase_scale, y->mase_scale);
		EXPECT_EQ_INT(x->method, y->method);
		for (int k = 0; k < SHD_M_COUNT; k++)
			EXPECT_SAME_DOUBLE(x->val_err[k], y->val_err[k]);
		EXPECT_EQ_INT(x->ar.H, y->ar.H);
		EXPECT_EQ_INT(x->ar.p, y->ar.p);
		EXPECT_EQ_INT(x->ar.day, y->ar.day);
		EXPECT_EQ_INT(x->ar.week, y->ar.week);
		EXPECT_EQ_INT(x->ar.k, y->ar.k);
		for (int j = 0; j < 4; j++)
			EXPECT_SAME_DOUBLE(x->ar.srange[j / 2][j % 2],
					   y->ar.srange[j / 2][j % 2]);
		EXPECT_SAME_DOUBLE(x->yrange[0], y->yrange[0]);
		EXPECT_SAME_DOUBLE(x->yrange[1], y->yrange[1]);
		if (x->ar.H * x->ar.k != y->ar.H * y->ar.k)
			continue;
		for (size_t j = 0; j < x->ar.H * x->ar.k; j++)
			EXPECT_SAME_DOUBLE(x->ar.coef[j], y->ar.coef[j]);
		for (size_t h = 0; h < x->ar.H; h++)
			EXPECT_EQ_INT(x->ar.nfit[h], y->ar.nfit[h]);
		for (size_t j = 0; j < SHD_M_COUNT * a->horizon; j++)
			EXPECT_SAME_DOUBLE(x->q[j], y->q[j]);
	}
	EXPECT_EQ_INT(a->data_from, b->data_from);
	EXPECT_EQ_INT(a->data_to, b->data_to);
	EXPECT(a->fingerprint == b->fingerprint);
	EXPECT_EQ_INT(a->lookback, b->lookback);
	EXPECT_EQ_INT(a->horizon, b->horizon);
	EXPECT_EQ_INT(a->day, b->day);
	EXPECT_EQ_INT(a->week, b->week);
	EXPECT_EQ_INT(a->ar_p, b->ar_p);
	EXPECT_SAME_DOUBLE(a->coverage, b->coverage);
	EXPECT(a->seed == b->seed);
	EXPECT_EQ_INT(a->per_resource, b->per_resource);
	for (size_t k = 0; k < a->nnet; k++) {
		const struct shd_lstm *x = &a->net[k], *y = &b->net[k];
		EXPECT_EQ_INT(x->cfg.n_in, y->cfg.n_in);
		EXPECT_EQ_INT(x->cfg.n_hidden, y->cfg.n_hidden);
		EXPECT_EQ_INT(x->cfg.n_layers, y->cfg.n_layers);
		EXPECT_EQ_INT(x->cfg.n_out, y->cfg.n_out);
		EXPECT_EQ_INT(x->nparams, y->nparams);
		if (x->nparams == y->nparams)
			EXPECT(memcmp(x->params, y->params,
				      x->nparams * sizeof(float)) == 0);
	}
	if (!a->report || !b->report) {
		EXPECT(!a->report && !b->report);
	} else {
		json_t *ja = json_loads(a->report, 0, NULL);
		json_t *jb = json_loads(b->report, 0, NULL);
		EXPECT(ja && jb && json_equal(ja, jb));
		json_decref(ja);
		json_decref(jb);
	}
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long n;

	if (!f)
		abort();
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void write_all(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/* Loads PATH, expecting RC and (when not NULL) MSG inside the message. */
static void expect_load(const char *path, int rc, const char *msg)
{
	struct shd_model m;
	char err[512];
	int got = shd_model_load(&m, path, err, sizeof(err));

	if (got != rc)
		FAIL_AT("load %s: %d, want %d (%s)", path, got, rc, err);
	if (msg && !strstr(err, msg))
		FAIL_AT("load %s: message '%s' lacks '%s'", path, err, msg);
	if (got == 0)
		shd_model_release(&m);
}

static void test_method_names(void)
{
	for (int k = 0; k < SHD_M_COUNT; k++)
		EXPECT_EQ_INT(shd_method_parse(shd_method_name(k)), k);
	EXPECT_EQ_STR(shd_method_name(SHD_M_SNAIVE_WEEK), "snaive_week");
	EXPECT(shd_method_name(SHD_M_COUNT) == NULL);
	EXPECT(shd_method_name(-1) == NULL);
	EXPECT_EQ_INT(shd_method_parse("holt"), -1);
	EXPECT_EQ_INT(shd_method_parse(NULL), -1);
}

static void test_round_trip(void)
{
	for (int per = 0; per < 2; per++) {
		struct shd_model a, b;
		char err[512];
		const char *p = path_of(per ? "rt-per.model" : "rt.model");

		build(&a, per);
		EXPECT_EQ_INT(shd_model_save(&a, p), 0);
		EXPECT_EQ_INT(shd_model_load(&b, p, err, sizeof(err)), 0);
		if (err[0])
			FAIL_AT("%s", err);
		expect_same(&a, &b);
		EXPECT_EQ_INT(shd_model_find(&b, "db \"x\""), 1);
		EXPECT_EQ_INT(shd_model_find(&b, "web-1"), 0);
		EXPECT_EQ_INT(shd_model_find(&b, "web"), -1);

		/* the same bytes when saved again */
		const char *p2 = path_of("rt2.model");
		EXPECT_EQ_INT(shd_model_save(&b, p2), 0);
		size_t l1, l2;
		unsigned char *b1 = read_all(p, &l1), *b2 = read_all(p2, &l2);
		EXPECT(l1 == l2 && memcmp(b1, b2, l1) == 0);
		free(b1);
		free(b2);
		shd_model_release(&a);
		shd_model_release(&b);
	}
}

/* A loaded model forecasts as the original: AR and the network. */
static void test_loaded_is_usable(void)
{
	struct shd_model a, b;
	struct shd_lstm_cache ca, cb;
	char err[512];
	const size_t B = 2, I = SHD_WINDOW_INPUTS(M_);
	float x[T_ * 2 * SHD_WINDOW_INPUTS(M_)], ya[2 * H_ * M_], yb[2 * H_ * M_];
	double hist[20], oa[H_], ob[H_];

	build(&a, 0);
	EXPECT_EQ_INT(shd_model_save(&a, path_of("use.model")), 0);
	EXPECT_EQ_INT(shd_model_load(&b, path_of("use.model"), err,
				     sizeof(err)), 0);
	for (size_t i = 0; i < T_ * B * I; i++)
		x[i] = (float)sin((double)i * 0.37);
	struct shd_lstm_config cfg = b.net[0].cfg;
	cfg.max_batch = B;
	EXPECT_EQ_INT(shd_lstm_cache_init(&ca, &cfg), 0);
	EXPECT_EQ_INT(shd_lstm_cache_init(&cb, &cfg), 0);
	EXPECT_EQ_INT(shd_lstm_forward(&a.net[0], &ca, x, T_, B, ya), 0);
	EXPECT_EQ_INT(shd_lstm_forward(&b.net[0], &cb, x, T_, B, yb), 0);
	EXPECT(memcmp(ya, yb, sizeof(ya)) == 0);
	for (size_t i = 0; i < 20; i++)
		hist[i] = 50 + 10 * sin((double)i);
	for (size_t i = 0; i < R_ * M_; i++) {
		shd_ar_predict(&a.ser[i].ar, hist, 19, oa);
		shd_ar_predict(&b.ser[i].ar, hist, 19, ob);
		for (size_t h = 0; h < H_; h++) {
			EXPECT(!isnan(ob[h]));
			EXPECT_SAME_DOUBLE(oa[h], ob[h]);
		}
	}
	shd_lstm_cache_release(&ca);
	shd_lstm_cache_release(&cb);
	shd_model_release(&a);
	shd_model_release(&b);
}

static void test_truncated(void)
{
	struct shd_model a;
	size_t len;
	unsigned char *buf;
	const char *p = path_of("cut.model");

	build(&a, 0);
	EXPECT_EQ_INT(shd_model_save(&a, path_of("whole.model")), 0);
	shd_model_release(&a);
	buf = read_all(path_of("whole.model"), &len);
	for (size_t n = 0; n < len; n++) {
		write_all(p, buf, n);
		struct shd_model m;
		char err[512];
		int rc = shd_model_load(&m, p, err, sizeof(err));
		if (rc != SHD_EFORMAT) {
			FAIL_AT("cut at %zu of %zu: %d (%s)", n, len, rc, err);
			if (!rc)
				shd_model_release(&m);
			break;
		}
		if (!strstr(err, p))
			FAIL_AT("cut at %zu: message '%s' does not name the file",
				n, err);
	}
	/* cut inside the weights: the message says so */
	write_all(p, buf, len - 20);
	expect_load(p, SHD_EFORMAT, "truncated (expected ");
	expect_load(p, SHD_EFORMAT, " bytes of series and weights)");
	/* one byte too many */
	buf[len] = 0;
	write_all(p, buf, len + 1);
	expect_load(p, SHD_EFORMAT, NULL);
	free(buf);
}

static void test_bit_flips(void)
{
	struct shd_model a;
	size_t len;
	unsigned char *buf;
	const char *p = path_of("flip.model");

	build(&a, 1);
	EXPECT_EQ_INT(shd_model_save(&a, path_of("whole.model")), 0);
	shd_model_release(&a);
	buf = read_all(path_of("whole.model"), &len);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= (unsigned char)(1u << (i % 8));
		write_all(p, buf, len);
		buf[i] ^= (unsigned char)(1u << (i % 8));
		struct shd_model m;
		char err[512];
		int rc = shd_model_load(&m, p, err, sizeof(err));
		if (rc != SHD_EFORMAT) {
			FAIL_AT("flip at %zu of %zu: %d (%s)", i, len, rc, err);
			if (!rc)
				shd_model_release(&m);
			break;
		}
	}
	buf[len / 2] ^= 0x10;
	write_all(p, buf, len);
	expect_load(p, SHD_EFORMAT, "checksum mismatch (damaged file)");
	free(buf);
}

/* Rewrites the file at P with its prefix fixed and a valid checksum. */
static void write_model(const char *p, const unsigned char *head4,
			unsigned major, const char *json, const void *w,
			size_t wlen)
{
	size_t jlen = strlen(json), len = 16 + jlen + wlen + 8;
	uint8_t *b = malloc(len);

	memcpy(b, head4, 8);
	shd_put_le16(b + 8, (uint16_t)major);
	shd_put_le16(b + 10, 0);
	shd_put_le32(b + 12, (uint32_t)jlen);
	memcpy(b + 16, json, jlen);
	memcpy(b + 16 + jlen, w, wlen);
	shd_put_le64(b + len - 8, XXH3_64bits(b, len - 8));
	write_all(p, b, len);
	free(b);
}

/* The header and weights of a saved model, for the tests that edit them. */
struct parts {
	unsigned char *buf;
	size_t len;
	json_t *hdr;
	const unsigned char *w;
	size_t wlen;
};

static void split(struct parts *s, const char *path)
{
	s->buf = read_all(path, &s->len);
	size_t jlen = shd_get_le32(s->buf + 12);
	s->hdr = json_loadb((const char *)s->buf + 16, jlen, 0, NULL);
	s->w = s->buf + 16 + jlen;
	s->wlen = s->len - 16 - jlen - 8;
	if (!s->hdr)
		abort();
}

static void test_magic_version(void)
{
	struct shd_model a;
	struct parts s;
	const char *p = path_of("v.model");

	build(&a, 0);
	EXPECT_EQ_INT(shd_model_save(&a, path_of("whole.model")), 0);
	shd_model_release(&a);
	split(&s, path_of("whole.model"));
	char *js = json_dumps(s.hdr, JSON_COMPACT);

	write_model(p, s.buf, 3, js, s.w, s.wlen);
	expect_load(p, 0, NULL);
	write_model(p, s.buf, 4, js, s.w, s.wlen);
	expect_load(p, SHD_EFORMAT, "v.model: model format version 4 is not "
		    "supported (this reader knows version 3)");
	/* format 2 had no seasonal ranges in its records */
	write_model(p, s.buf, 2, js, s.w, s.wlen);
	expect_load(p, SHD_EFORMAT, "version 2 is not supported (this reader "
		    "knows version 3; train it again)");
	write_model(p, s.buf, 1, js, s.w, s.wlen);
	expect_load(p, SHD_EFORMAT, "version 1 is not supported (this reader "
		    "knows version 3; train it again)");
	write_model(p, (const unsigned char *)"\x89SHD\r\n\x1a\n", 3, js, s.w,
		    s.wlen);
	expect_load(p, SHD_EFORMAT, "v.model: not an shd model (bad magic)");
	write_all(p, "time,cpu\n1,2\n", 13);
	expect_load(p, SHD_EFORMAT, "not an shd model (bad magic)");
	write_all(p, "", 0);
	expect_load(p, SHD_EFORMAT, "not an shd model (bad magic)");
	expect_load(path_of("no-such.model"), SHD_EIO, "cannot open");
	free(js);
	json_decref(s.hdr);
	free(s.buf);
}

/* Edits the header with FN, rewrites it validly, expects MSG. */
static void expect_edit(const struct parts *s, void (*fn)(json_t *),
			const char *msg)
{
	const char *p = path_of("edit.model");
	json_t *h = json_deep_copy(s->hdr);
	char *js;

	fn(h);
	js = json_dumps(h, JSON_COMPACT);
	write_model(p, s->buf, 3, js, s->w, s->wlen);
	expect_load(p, SHD_EFORMAT, msg);
	free(js);
	json_decref(h);
}

/*
 * The binary series records of the hand-built model (model.c): 128 fixed
 * bytes (center, scale, mase_scale, val_err[5], method, p, day, week,
 * srange[4] from byte 80, yrange[2] from byte 112), nfit[H] u32, coef[H*k] f64, q[5*H] f64; k is 2 for even series and 3
 * for odd ones (those have a day season).
 */
static size_t rec_off(size_t i)
{
	size_t off = 0;

	for (size_t j = 0; j < i; j++)
		off += 128 + 4 * H_ + 8 * H_ * (j % 2 ? 3 : 2) + 8 * 5 * H_;
	return off;
}

/* Sets the f64 (or u32 with IS_U32) at byte OFF of series I, expects MSG. */
static void expect_sedit(const struct parts *s, size_t i, size_t off,
			 double v, int is_u32, const char *msg)
{
	const char *p = path_of("sedit.model");
	unsigned char *w = malloc(s->wlen);
	char *js = json_dumps(s->hdr, JSON_COMPACT);
	uint64_t u;

	memcpy(w, s->w, s->wlen);
	if (is_u32) {
		shd_put_le32(w + rec_off(i) + off, (uint32_t)v);
	} else {
		memcpy(&u, &v, 8);
		shd_put_le64(w + rec_off(i) + off, u);
	}
	write_model(p, s->buf, 3, js, w, s->wlen);
	expect_load(p, SHD_EFORMAT, msg);
	free(js);
	free(w);
}

static void e_sbytes_small(json_t *h)
{
	json_t *v = json_object_get(h, "series_bytes");
	json_object_set_new(h, "series_bytes",
			    json_integer(json_integer_value(v) - 8));
}
static void e_sbytes_large(json_t *h)
{
	json_t *v = json_object_get(h, "series_bytes");
	json_object_set_new(h, "series_bytes",
			    json_integer(json_integer_value(v) + 8));
}

static void e_units(json_t *h)
{
	json_array_append_new(json_object_get(h, "units"), json_string("x"));
}
static void e_nparams(json_t *h)
{
	json_t *n = json_array_get(json_object_get(h, "nets"), 0);
	json_object_set_new(n, "nparams", json_integer(
		json_integer_value(json_object_get(n, "nparams")) + 1));
}
static void e_hidden(json_t *h)
{
	json_t *n = json_array_get(json_object_get(h, "nets"), 0);
	struct shd_lstm_config cfg = {
		.n_in = SHD_WINDOW_INPUTS(M_), .n_hidden = 4, .n_layers = 2,
		.n_out = H_ * M_,
	};
	json_object_set_new(n, "n_hidden", json_integer(4));
	json_object_set_new(n, "nparams", json_integer(
		(json_int_t)shd_lstm_params_size(&cfg)));
}
static void e_nets(json_t *h)
{
	json_array_clear(json_object_get(h, "nets"));
}
static void e_horizon(json_t *h)
{
	json_object_set_new(h, "horizon", json_integer(4));
}
static void e_fp(json_t *h)
{
	json_object_set_new(h, "fingerprint", json_string("12345"));
}
static void e_coverage(json_t *h)
{
	json_object_set_new(h, "coverage", json_real(1.5));
}
static void e_step(json_t *h)
{
	json_object_set_new(h, "step", json_string("5m"));
}
static void e_missing(json_t *h)
{
	json_object_del(h, "lookback");
}
static void e_dupres(json_t *h)
{
	json_array_set_new(json_object_get(h, "resources"), 1,
			   json_string("web-1"));
}
static void e_metrics(json_t *h)
{
	json_array_clear(json_object_get(h, "metrics"));
	json_array_clear(json_object_get(h, "units"));
}

static void test_bad_header(void)
{
	struct shd_model a;
	struct parts s;

	build(&a, 0);
	EXPECT_EQ_INT(shd_model_save(&a, path_of("whole.model")), 0);
	shd_model_release(&a);
	split(&s, path_of("whole.model"));
	expect_edit(&s, e_units, "'units' has 3 elements, expected 2");
	expect_edit(&s, e_sbytes_small, "series 3 'db \"x\"' 'mem': truncated "
		    "('series_bytes' too small)");
	expect_edit(&s, e_sbytes_large, "'series_bytes' is 8 bytes too large");
	expect_edit(&s, e_nparams, "nparams = ");
	expect_edit(&s, e_hidden, "truncated (expected");
	expect_edit(&s, e_nets, "method lstm, but the model has no network");
	/* a horizon the records were not written with: they misalign */
	expect_edit(&s, e_horizon, "series 0 'web-1' 'cpu': q[0][1]");
	expect_edit(&s, e_fp, "'fingerprint' must be 16 hex digits");
	expect_edit(&s, e_coverage, "'coverage' must be between 0 and 1");
	expect_edit(&s, e_step, "'step' must be an integer");
	expect_edit(&s, e_missing, "missing 'lookback'");
	expect_edit(&s, e_dupres, "resource 'web-1' twice");
	/* the series records: offsets in rec_off's picture */
	expect_sedit(&s, 3, 8, 0.0, 0, "model: series 3 'db \"x\"' 'mem': "
		     "scale must be > 0");
	expect_sedit(&s, 0, 0, NAN, 0, "series 0 'web-1' 'cpu': center must "
		     "be finite");
	expect_sedit(&s, 1, 16, INFINITY, 0, "mase_scale must be >= 0");
	expect_sedit(&s, 1, 32, -1.0, 0, "val_err ar must be >= 0");
	expect_sedit(&s, 0, 64, 9, 1, "unknown method 9");
	expect_sedit(&s, 1, 68, 0, 1, "p = 0, day = 6 or week = 0 out of range");
	expect_sedit(&s, 2, 128 + 4 * H_, NAN, 0, "series 2 'db \"x\"' 'cpu': ar "
		     "coef 0 is not finite");
	expect_sedit(&s, 0, 128 + 4 * H_ + 8 * H_ * 2 + 8 * (1 * H_ + 2), -1.0,
		     0, "q[1][2] must be >= 0");
	expect_sedit(&s, 0, 128 + 4 * H_ + 8 * H_ * 2, NAN, 0, "q[0][0] must be "
		     ">= 0");
	/* the seasonal ranges: lo above hi, NaN */
	expect_sedit(&s, 1, 80, 5.0, 0, "series 1 'web-1' 'mem': ar: the day "
		     "feature's range is not lo <= hi");
	expect_sedit(&s, 2, 104, NAN, 0, "series 2 'db \"x\"' 'cpu': ar: the "
		     "week feature's range is not lo <= hi");
	/* the network's correction range: lo above hi, NaN */
	expect_sedit(&s, 1, 112, 1.0, 0, "series 1 'web-1' 'mem': the "
		     "network's correction range is not lo <= hi");
	expect_sedit(&s, 0, 120, NAN, 0, "correction range is not lo <= hi");
	/* a day season that was not there: k grows, the records no longer
	 * fit the bytes */
	expect_sedit(&s, 2, 72, 6, 1, "series 2 'db \"x\"' 'cpu': ar coef");
	expect_edit(&s, e_metrics, "'metrics' must have 1 to");
	json_decref(s.hdr);
	free(s.buf);
}

/* A model with no network: the header says so and no series uses one. */
static void test_no_network(void)
{
	struct shd_model a, b;
	char err[512];

	build(&a, 0);
	shd_lstm_release(&a.net[0]);
	free(a.net);
	a.net = NULL;
	a.nnet = 0;
	EXPECT_EQ_INT(shd_model_save(&a, path_of("nonet.model")), SHD_EINVAL);
	for (size_t i = 0; i < R_ * M_; i++)
		a.ser[i].method = SHD_M_AR;
	free(a.report);
	a.report = NULL;
	EXPECT_EQ_INT(shd_model_save(&a, path_of("nonet.model")), 0);
	EXPECT_EQ_INT(shd_model_load(&b, path_of("nonet.model"), err,
				     sizeof(err)), 0);
	expect_same(&a, &b);
	shd_model_release(&a);
	shd_model_release(&b);
}

/*
 * shd_model_net: the one network of a global model for every resource,
 * each resource's own with per_resource, NULL past them (a resource
 * shd_train_extend added) and for a model without networks.
 */
static void test_net_of(void)
{
	struct shd_model a;

	build(&a, 0);
	EXPECT(shd_model_net(&a, 0) == &a.net[0]);
	EXPECT(shd_model_net(&a, 1) == &a.net[0]);
	EXPECT(shd_model_net(&a, 5) == &a.net[0]);
	shd_model_release(&a);
	build(&a, 1);
	EXPECT(shd_model_net(&a, 0) == &a.net[0]);
	EXPECT(shd_model_net(&a, 1) == &a.net[1]);
	EXPECT(shd_model_net(&a, 2) == NULL);
	shd_model_release(&a);
	shd_model_init(&a);
	EXPECT(shd_model_net(&a, 0) == NULL);
}

static void test_save_refuses(void)
{
	struct shd_model a;
	struct stat st;

	build(&a, 0);
	a.ser[1].scale = 0;
	EXPECT_EQ_INT(shd_model_save(&a, path_of("bad.model")), SHD_EINVAL);
	a.ser[1].scale = 1;
	free(a.report);
	a.report = xstrdup("{not json");
	EXPECT_EQ_INT(shd_model_save(&a, path_of("bad.model")), SHD_EINVAL);
	EXPECT(stat(path_of("bad.model"), &st) < 0);
	free(a.report);
	a.report = NULL;
	EXPECT_EQ_INT(shd_model_save(&a, path_of("none/bad.model")), SHD_EIO);
	shd_model_release(&a);
}

static const struct harness_case cases[] = {
	TEST(test_method_names),
	TEST(test_round_trip),
	TEST(test_loaded_is_usable),
	TEST(test_truncated),
	TEST(test_bit_flips),
	TEST(test_magic_version),
	TEST(test_bad_header),
	TEST(test_no_network),
	TEST(test_net_of),
	TEST(test_save_refuses),
};

int main(void)
{
	char cmd[300];
	int rc;

	snprintf(dir, sizeof(dir), "%s/shd-unit-model.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = RUN_TESTS(cases);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	return rc;
}
