/*
 * unit-codec.c - each column codec on its own: round trips at the edges
 * (int64 extremes, NaN payloads, -0, infinities, exceptions), and decoders
 * that refuse damaged payloads instead of reading past them.
 */
#include <float.h>
#include <stdint.h>

#include "codec.h"
#include "harness.h"

static uint64_t state = 88172645463325252ull;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static void test_delta2_extremes(void)
{
	int64_t v[] = { INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MAX, INT64_MIN,
			1392388200000, 1392388500000, 1392388800000 };
	size_t n = sizeof(v) / sizeof(v[0]);
	int64_t back[10];
	struct shd_buf b = { 0 };

	EXPECT_EQ_INT(shd_enc_delta2(&b, v, n), 0);
	EXPECT_EQ_INT(shd_dec_delta2(back, n, b.p, b.len), 0);
	for (size_t i = 0; i < n; i++)
		EXPECT_EQ_INT(back[i], v[i]);
	/* one byte short, one byte extra: refused */
	EXPECT_EQ_INT(shd_dec_delta2(back, n, b.p, b.len - 1), SHD_EFORMAT);
	EXPECT_EQ_INT(shd_dec_delta2(back, n - 1, b.p, b.len), SHD_EFORMAT);
	shd_buf_release(&b);
}

static void test_delta2_regular_is_tiny(void)
{
	int64_t v[1000];
	struct shd_buf b = { 0 };

	for (int i = 0; i < 1000; i++)
		v[i] = 1392388200000 + (int64_t)i * 300000;
	shd_enc_delta2(&b, v, 1000);
	/* first value, first delta, then 998 zero bytes */
	EXPECT(b.len <= 1000 + 12);
	shd_buf_release(&b);
}

static void test_dict_runs(void)
{
	struct shd_dict *d = shd_dict_new(), *out = shd_dict_new();
	uint32_t ids[300], back[300], a, b2, c;
	struct shd_buf b = { 0 };

	shd_dict_intern(d, "web-1", 5, &a);
	shd_dict_intern(d, "db-1", 4, &b2);
	shd_dict_intern(d, "", 0, &c);
	for (int i = 0; i < 300; i++)
		ids[i] = i < 100 ? a : i < 150 ? c : i < 299 ? b2 : a;
	EXPECT_EQ_INT(shd_enc_dict(&b, ids, 300, d), 0);
	EXPECT_EQ_INT(shd_dec_dict(back, 300, b.p, b.len, out), 0);
	for (int i = 0; i < 300; i++)
		EXPECT_EQ_STR(shd_dict_str(out, back[i], NULL),
			      shd_dict_str(d, ids[i], NULL));
	EXPECT_EQ_INT(shd_dict_count(out), 3);
	/* a run that overshoots the row count is refused */
	EXPECT_EQ_INT(shd_dec_dict(back, 299, b.p, b.len, out), SHD_EFORMAT);
	shd_buf_release(&b);
	shd_dict_free(d);
	shd_dict_free(out);
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static void scaled_round_trip(const double *v, size_t n, int want_applies)
{
	struct shd_buf b = { 0 };
	double *back = malloc(n * sizeof(*back));
	int r = shd_enc_scaled(&b, v, n);

	EXPECT_EQ_INT(r, want_applies ? 0 : 1);
	if (r == 0) {
		EXPECT_EQ_INT(shd_dec_scaled(back, n, b.p, b.len), 0);
		for (size_t i = 0; i < n; i++)
			if (!same_bits(back[i], v[i]) &&
			    !(isnan(back[i]) && isnan(v[i]))) {
				FAIL_AT("row %zu: %.17g != %.17g", i, back[i], v[i]);
				break;
			}
		/* truncated payloads are refused, never read past */
		for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 50)
			EXPECT_EQ_INT(shd_dec_scaled(back, n, b.p, cut), SHD_EFORMAT);
	}
	free(back);
	shd_buf_release(&b);
}

static void test_scaled_decimal(void)
{
	double v[2000];
	for (int i = 0; i < 2000; i++)
		v[i] = (double)(int64_t)(rnd() % 100000 - 50000) / 100;
	v[7] = NAN;
	scaled_round_trip(v, 2000, 1);
}

static void test_scaled_fifteenths(void)
{
	/* 5-minute means of 20-second samples, as in the Bitbrains traces */
	double v[3000];
	for (int i = 0; i < 3000; i++)
		v[i] = (double)(int64_t)(rnd() % 10000) / 15;
	scaled_round_trip(v, 3000, 1);
}

static void test_scaled_exceptions(void)
{
	double v[1000];
	for (int i = 0; i < 1000; i++)
		v[i] = (double)(i % 97) / 10;
	v[3] = -0.0;
	v[10] = INFINITY;
	v[11] = -INFINITY;
	v[12] = 0.1 + 0.2;		/* 0.30000000000000004 */
	v[13] = DBL_MIN / 8;		/* subnormal */
	uint64_t payload = 0x7ff8000000000123ull;	/* NaN with a payload */
	memcpy(&v[14], &payload, sizeof(payload));
	v[15] = 1e300;
	scaled_round_trip(v, 1000, 1);
}

static double ulp_step(double x, int64_t k)
{
	uint64_t b;
	memcpy(&b, &x, sizeof(b));
	b += (uint64_t)k;
	memcpy(&x, &b, sizeof(b));
	return x;
}

static void test_scaled_near_exceptions(void)
{
	/* k / 60 with a third off by an ulp or two, and means over 56 or 13
	 * samples: exception entries, far below 8 bytes each */
	double v[4000];
	for (int i = 0; i < 4000; i++) {
		double x = (double)(int64_t)(rnd() % 6000) / 60;
		int r = (int)(rnd() % 12);
		v[i] = r < 2 ? ulp_step(x, r ? 1 : -1) : r == 2 ? ulp_step(x, 2) :
		       r == 3 ? (double)(int64_t)(rnd() % 5000) / 56 :
		       r == 4 ? (double)(int64_t)(rnd() % 500) / 13 : x;
	}
	v[0] = -0.0;
	v[1] = INFINITY;
	v[2] = -DBL_MAX;
	uint64_t payload = 0xfff0000000000001ull;	/* signalling NaN */
	memcpy(&v[3], &payload, sizeof(payload));
	v[4] = NAN;
	v[5] = ulp_step(1.0 / 60, 1000);		/* far, same divisor */
	v[6] = DBL_MIN / 3;
	v[7] = -1e-320;
	scaled_round_trip(v, 4000, 1);
	struct shd_buf b = { 0 };
	EXPECT_EQ_INT(shd_enc_scaled(&b, v, 4000), 0);
	EXPECT(b.len < 4000 * 4);
	EXPECT_EQ_INT(b.p[8], 7);	/* NaN map, exception map, entries */
	shd_buf_release(&b);
}

static void test_scaled_old_raw_exceptions(void)
{
	/* flag bit 2 clear: exceptions are 8 raw bytes (the first layout) */
	uint8_t p[9 + 1 + 3 + 8] = { 0 };
	double one = 10, back[3], x = 0.1 + 0.2;
	memcpy(p, &one, 8);
	p[8] = 2;
	p[9] = 2;		/* row 1 is an exception */
	p[10] = 2, p[11] = 0, p[12] = 2;	/* 1, (1), 2 */
	memcpy(p + 13, &x, 8);
	EXPECT_EQ_INT(shd_dec_scaled(back, 3, p, sizeof(p)), 0);
	EXPECT_SAME_DOUBLE(back[0], 0.1);
	EXPECT_SAME_DOUBLE(back[1], x);
	EXPECT_SAME_DOUBLE(back[2], 0.2);
	p[8] = 4;		/* entries without an exception map */
	EXPECT_EQ_INT(shd_dec_scaled(back, 3, p, sizeof(p)), SHD_EFORMAT);
	p[8] = 8;
	EXPECT_EQ_INT(shd_dec_scaled(back, 3, p, sizeof(p)), SHD_EFORMAT);
}

static void derived_round_trip(const double *v, const double *a,
			       const double *b, size_t n,
			       const struct shd_derive *dv)
{
	struct shd_buf buf = { 0 };
	double *back = malloc(n * sizeof(*back));

	EXPECT_EQ_INT(shd_enc_derived(&buf, v, n, dv, a, b), 0);
	EXPECT_EQ_INT(shd_dec_derived(back, n, a, b, buf.p, buf.len), 0);
	for (size_t i = 0; i < n; i++)
		if (!same_bits(back[i], v[i])) {
			FAIL_AT("row %zu: %.17g != %.17g", i, back[i], v[i]);
			break;
		}
	for (size_t cut = 0; cut < buf.len; cut += 1 + buf.len / 50)
		EXPECT_EQ_INT(shd_dec_derived(back, n, a, b, buf.p, cut),
			      SHD_EFORMAT);
	EXPECT_EQ_INT(shd_buf_reserve(&buf, 1), 0);
	buf.p[buf.len] = 0;
	EXPECT_EQ_INT(shd_dec_derived(back, n, a, b, buf.p, buf.len + 1),
		      SHD_EFORMAT);
	free(back);
	shd_buf_release(&buf);
}

static void test_derived_found_and_exact(void)
{
	/* usage = capacity * percent / 100, as in the Bitbrains traces */
	enum { N = 3000 };
	static double cap[N], pct[N], use[N], other[N];
	const double *cols[4] = { cap, use, pct, other };
	struct shd_derive dv;
	size_t nexc;

	for (int i = 0; i < N; i++) {
		cap[i] = 2000 + (double)(rnd() % 8) * 2926.000000;
		pct[i] = (double)(int64_t)(rnd() % 6000) / 60;
		other[i] = (double)(rnd() % 1000);
		use[i] = cap[i] * pct[i] / 100;
	}
	pct[5] = NAN;
	use[5] = cap[5] * pct[5] / 100;		/* NaN: the quiet NaN */
	use[6] = -0.0;
	use[7] = INFINITY;
	uint64_t payload = 0x7ff4000000000001ull;
	memcpy(&use[8], &payload, sizeof(payload));
	use[9] = ulp_step(use[9], 1);
	EXPECT_EQ_INT(shd_find_derived(use, N, cols, 4, 1, &dv, &nexc), 0);
	EXPECT_EQ_INT(dv.op, SHD_D_MULDIV);
	EXPECT(dv.c == 100);
	EXPECT_EQ_INT(nexc, 4);
	derived_round_trip(use, cols[dv.a], cols[dv.b], N, &dv);
	/* a column may not derive from itself, nor from nothing */
	cols[1] = NULL;
	EXPECT_EQ_INT(shd_find_derived(use, N, cols, 4, 1, &dv, &nexc), 0);
	cols[0] = cols[2] = NULL;
	EXPECT_EQ_INT(shd_find_derived(use, N, cols, 4, 1, &dv, &nexc), 1);
	/* noise is not derived */
	cols[0] = cap;
	cols[2] = pct;
	EXPECT_EQ_INT(shd_find_derived(other, N, cols, 4, 3, &dv, &nexc), 1);
}

static void test_derived_every_op(void)
{
	enum { N = 500 };
	static double a[N], b[N], v[N];
	const double *cols[2] = { a, b };
	struct shd_derive dv;
	size_t nexc;

	for (int op = 1; op <= SHD_D_MAX; op++) {
		int unary = op >= SHD_D_MULC;
		for (int i = 0; i < N; i++) {
			a[i] = (double)(rnd() % 100000) / 7 + 1;
			b[i] = (double)(rnd() % 1000) / 3 + 1;
			double y = unary ? a[i] : b[i];
			switch (op) {
			case SHD_D_MUL: v[i] = a[i] * y; break;
			case SHD_D_DIV: v[i] = a[i] / y; break;
			case SHD_D_ADD: v[i] = a[i] + y; break;
			case SHD_D_SUB: v[i] = a[i] - y; break;
			case SHD_D_MULDIV: v[i] = a[i] * y / 1024; break;
			case SHD_D_DIVMUL: v[i] = a[i] / y * 8; break;
			case SHD_D_MULC: v[i] = a[i] * 0.001; break;
			default: v[i] = a[i] / 3.6; break;
			}
		}
		v[17] = 42;
		cols[1] = unary ? NULL : b;
		EXPECT_EQ_INT(shd_find_derived(v, N, cols, 2, 9, &dv, &nexc), 0);
		EXPECT_EQ_INT(dv.op, op);
		derived_round_trip(v, cols[dv.a], cols[dv.b], N, &dv);
	}
}

static void test_derived_bad_heads(void)
{
	uint8_t p[SHD_DERIVED_HEAD] = { SHD_D_MULDIV, 0, 0, 0, 1, 0 };
	double c = 100, a[2] = { 1, 2 }, back[2];
	struct shd_derive dv;

	memcpy(p + 6, &c, 8);
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), 0);
	EXPECT_EQ_INT(shd_dec_derived(back, 2, a, a, p, sizeof(p)), 0);
	EXPECT_SAME_DOUBLE(back[1], 0.04);
	p[0] = 0;
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	p[0] = SHD_D_MAX + 1;
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	p[0] = SHD_D_MULDIV;
	p[1] = 2;	/* unknown flag */
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	p[1] = 0;
	c = NAN;	/* the constant must be finite and not 0 */
	memcpy(p + 6, &c, 8);
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	c = 0;
	memcpy(p + 6, &c, 8);
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	p[0] = SHD_D_MUL;	/* no constant: its bytes must be 0 */
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), 0);
	p[13] = 0x80;
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	p[13] = 0;
	p[0] = SHD_D_MULC;	/* one source: A and B the same */
	c = 2;
	memcpy(p + 6, &c, 8);
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), SHD_EFORMAT);
	p[4] = 0;
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p)), 0);
	EXPECT_EQ_INT(shd_dec_derived_head(&dv, p, sizeof(p) - 1), SHD_EFORMAT);
}

static void test_scaled_refuses_noise(void)
{
	double v[1000];
	for (int i = 0; i < 1000; i++) {
		uint64_t bits = rnd() >> 12 | 0x3ff0000000000000ull;
		memcpy(&v[i], &bits, sizeof(bits));
	}
	scaled_round_trip(v, 1000, 0);
}

static void test_shuffle_round_trip(void)
{
	double v[513], back[513];
	float f[77], fb[77];
	struct shd_buf b = { 0 };

	for (int i = 0; i < 513; i++) {
		uint64_t x = rnd();
		memcpy(&v[i], &x, 8);
	}
	for (int xo = 0; xo < 2; xo++) {
		b.len = 0;
		shd_enc_shuffle(&b, v, 513, 8, xo);
		EXPECT_EQ_INT(shd_dec_shuffle(back, 513, 8, xo, b.p, b.len), 0);
		EXPECT(memcmp(v, back, sizeof(v)) == 0);
	}
	for (int i = 0; i < 77; i++)
		f[i] = (float)i / 3.0f;
	b.len = 0;
	shd_enc_shuffle(&b, f, 77, 4, 0);
	EXPECT_EQ_INT(shd_dec_shuffle(fb, 77, 4, 0, b.p, b.len), 0);
	EXPECT(memcmp(f, fb, sizeof(f)) == 0);
	EXPECT_EQ_INT(shd_dec_shuffle(fb, 77, 4, 0, b.p, b.len - 1), SHD_EFORMAT);
	shd_buf_release(&b);
}

/* Random bytes into every decoder: an error or a value, never a crash. */
static void test_decoders_on_garbage(void)
{
	uint8_t junk[512];
	int64_t i64[64];
	uint32_t u32[64];
	double f64[64], src[128];
	struct shd_dict *d = shd_dict_new();

	for (int i = 0; i < 128; i++) {
		uint64_t x = rnd();
		memcpy(&src[i], &x, 8);
	}

	for (int round = 0; round < 20000; round++) {
		size_t len = rnd() % sizeof(junk), n = 1 + rnd() % 64;
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)rnd();
		if (round % 3 == 0 && len > 9) {
			double one = 1.0 + (double)(rnd() % 100);
			memcpy(junk, &one, 8);	/* a plausible divisor */
			junk[8] &= 7;
		}
		(void)shd_dec_delta2(i64, n, junk, len);
		(void)shd_dec_dict(u32, n, junk, len, d);
		(void)shd_dec_scaled(f64, n, junk, len);
		if (round % 5 == 0 && len > SHD_DERIVED_HEAD) {
			junk[0] = (uint8_t)(1 + rnd() % SHD_D_MAX);
			junk[1] &= 1;
			if (junk[0] < SHD_D_MULC)
				memset(junk + 6, 0, 8);
		}
		(void)shd_dec_derived(f64, n, src, src + 64, junk, len);
		(void)shd_dec_shuffle(f64, n, 8, 1, junk, len);
		(void)shd_dec_raw(f64, n, 8, junk, len);
	}
	EXPECT(1);
	shd_dict_free(d);
}

static const struct harness_case cases[] = {
	TEST(test_delta2_extremes),
	TEST(test_delta2_regular_is_tiny),
	TEST(test_dict_runs),
	TEST(test_scaled_decimal),
	TEST(test_scaled_fifteenths),
	TEST(test_scaled_exceptions),
	TEST(test_scaled_near_exceptions),
	TEST(test_scaled_old_raw_exceptions),
	TEST(test_derived_found_and_exact),
	TEST(test_derived_every_op),
	TEST(test_derived_bad_heads),
	TEST(test_scaled_refuses_noise),
	TEST(test_shuffle_round_trip),
	TEST(test_decoders_on_garbage),
};

int main(void)
{
	return RUN_TESTS(cases);
}
