/*
 * unit-baseline.c - baselines (last value, seasonal naive, per-step linear
 * autoregression), MASE, split-conformal quantiles and intervals, and the
 * robust scale (lib/baseline.c, lib/conformal.c).
 *
 * Random data comes from a local splitmix64 + Box-Muller with fixed seeds,
 * so every run sees the same numbers.
 */
#include "harness.h"

#include "forecast.h"

/* ------------------------------------------------------------- helpers */

struct rnd {
	uint64_t s;
	int has;
	double spare;
};

static uint64_t rnd_u64(struct rnd *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd_unif(struct rnd *r)
{
	return (double)(rnd_u64(r) >> 11) * 0x1p-53;
}

static double rnd_normal(struct rnd *r)
{
	if (r->has) {
		r->has = 0;
		return r->spare;
	}
	double u = rnd_unif(r), v = rnd_unif(r);
	double rad = sqrt(-2 * log(1 - u)), a = 2 * M_PI * v;
	r->spare = rad * sin(a);
	r->has = 1;
	return rad * cos(a);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

enum method { LAST, SNAIVE, AR };

/*
 * MASE at step h (1-based) of a method over origins whose target lies in
 * [from, n), the scale given.
 */
static double rolling_mase(enum method m, const struct shd_ar *ar,
			   const double *x, size_t n, size_t from, size_t H,
			   size_t h, size_t P, double scale)
{
	double *act = malloc(n * sizeof(*act)), *pred = malloc(n * sizeof(*pred));
	double out[64];
	size_t cnt = 0;

	for (size_t t = from - h; t + h < n; t++) {
		if (m == LAST)
			shd_last_value(out, x, t, H);
		else if (m == SNAIVE)
			shd_seasonal_naive(out, x, t, H, P);
		else
			shd_ar_predict(ar, x, t, out);
		act[cnt] = x[t + h];
		pred[cnt++] = out[h - 1];
	}
	double v = shd_mase(act, pred, cnt, scale);
	free(act);
	free(pred);
	return v;
}

/* ----------------------------------------------------------- baselines */

static void test_last_value(void)
{
	double x[] = { 1, 2, NAN, NAN, 5, NAN };
	double out[3];

	shd_last_value(out, x, 3, 3);
	for (int h = 0; h < 3; h++)
		EXPECT_SAME_DOUBLE(out[h], 2.0);
	shd_last_value(out, x, 0, 1);
	EXPECT_SAME_DOUBLE(out[0], 1.0);
	shd_last_value(out, x, 5, 2);
	EXPECT_SAME_DOUBLE(out[1], 5.0);

	double y[] = { NAN, NAN };
	shd_last_value(out, y, 1, 2);
	EXPECT(isnan(out[0]) && isnan(out[1]));
}

static void test_seasonal_naive(void)
{
	double x[10], out[9];

	for (int i = 0; i < 10; i++)
		x[i] = i;
	/* P = 4, t = 9: t+h-4k for the smallest k with it <= 9 */
	shd_seasonal_naive(out, x, 9, 9, 4);
	double want[9] = { 6, 7, 8, 9, 6, 7, 8, 9, 6 };
	for (int h = 0; h < 9; h++)
		EXPECT_SAME_DOUBLE(out[h], want[h]);

	/* a NaN one period back: go one more period back */
	x[6] = NAN;
	shd_seasonal_naive(out, x, 9, 5, 4);
	EXPECT_SAME_DOUBLE(out[0], 2.0);	/* x[6] NaN -> x[2] */
	EXPECT_SAME_DOUBLE(out[4], 2.0);	/* t+5-8 = 6 -> x[2] */
	EXPECT_SAME_DOUBLE(out[1], 7.0);
	x[2] = NAN;
	shd_seasonal_naive(out, x, 9, 1, 4);
	EXPECT(isnan(out[0]));			/* 6, 2, then nothing */

	/* not a full period of history */
	shd_seasonal_naive(out, x, 2, 2, 4);
	EXPECT(isnan(out[0]));			/* index -1 */
	EXPECT_SAME_DOUBLE(out[1], 0.0);	/* 2+2-4 = 0 */

	/* period 1 is the last value step by step */
	shd_seasonal_naive(out, x, 5, 3, 1);
	for (int h = 0; h < 3; h++)
		EXPECT_SAME_DOUBLE(out[h], 5.0);
}

/* ---------------------------------------------------------------- AR */

/*
 * A process the model can represent exactly (AR(2) in levels, with a unit
 * root, plus a daily lag), started on a daily sine:
 *   x[t+1] = x[t] + A1 (x[t] - x[t-1]) + AD (x[t+1-D] - x[t]) + e,
 * e ~ N(0, SIGMA^2).
 */
#define A1 0.3
#define AD 0.4
#define SIGMA 1.0

static double *ar_process(size_t n, size_t D, uint64_t seed)
{
	double *x = malloc(n * sizeof(*x));
	struct rnd r = { seed, 0, 0 };

	for (size_t i = 0; i <= D; i++)
		x[i] = 10 * sin(2 * M_PI * (double)i / (double)D);
	for (size_t t = D; t + 1 < n; t++)
		x[t + 1] = x[t] + A1 * (x[t] - x[t - 1]) +
			   AD * (x[t + 1 - D] - x[t]) + SIGMA * rnd_normal(&r);
	return x;
}

static void test_ar_recovers_process(void)
{
	const size_t n = 6000, D = 24, ntr = 4000, H = 3;
	double *x = ar_process(n, D, 7);
	struct shd_ar ar;

	EXPECT_EQ_INT(shd_ar_fit(&ar, x, ntr, H, 2, D, 0, 1e-6), 0);
	EXPECT_EQ_INT(ar.k, 3);		/* x[t]-x[t-1], day, intercept */
	EXPECT_EQ_INT(ar.day, D);
	EXPECT_EQ_INT(ar.week, 0);
	/* origins D-h (a day value before them) .. ntr-1-h, all usable */
	EXPECT_EQ_INT(ar.nfit[0], ntr - D);
	EXPECT_EQ_INT(ar.nfit[2], ntr - D);
	EXPECT_NEAR(ar.coef[0], A1, 0.05);
	EXPECT_NEAR(ar.coef[1], AD, 0.05);
	EXPECT_NEAR(ar.coef[2], 0.0, 0.1);

	/* one-step errors on unseen data are the noise, no more */
	double ss = 0, out[3];
	size_t cnt = 0;
	for (size_t t = ntr; t + 1 < n; t++) {
		shd_ar_predict(&ar, x, t, out);
		ss += (x[t + 1] - out[0]) * (x[t + 1] - out[0]);
		cnt++;
	}
	EXPECT_NEAR(sqrt(ss / (double)cnt), SIGMA, 0.1 * SIGMA);

	/* the model does not care where the level is: shift it by 1e4 */
	double out2[3];
	for (size_t i = 0; i < n; i++)
		x[i] += 1e4;
	shd_ar_predict(&ar, x, n - 1, out2);
	for (size_t i = 0; i < n; i++)
		x[i] -= 1e4;
	shd_ar_predict(&ar, x, n - 1, out);
	for (int h = 0; h < 3; h++)
		EXPECT_NEAR(out2[h] - 1e4, out[h], 1e-8);

	shd_ar_release(&ar);
	shd_ar_release(&ar);	/* twice is fine */
	free(x);
}

static void test_ar_constant_and_nan(void)
{
	double x[500], out[4];
	struct shd_ar ar;

	for (int i = 0; i < 500; i++)
		x[i] = 5.0;
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, 400, 4, 6, 24, 168, 1e-3), 0);
	EXPECT_EQ_INT(ar.day, 24);
	EXPECT_EQ_INT(ar.week, 168);
	shd_ar_predict(&ar, x, 499, out);
	for (int h = 0; h < 4; h++)
		EXPECT_SAME_DOUBLE(out[h], 5.0);
	shd_ar_release(&ar);

	/* without a ridge a constant series is rank deficient: say so */
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, 400, 4, 6, 24, 0, 0.0), SHD_ENUMERIC);
	shd_ar_release(&ar);

	/* a week does not fit twice in 300 values: dropped */
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, 300, 4, 6, 24, 168, 1e-3), 0);
	EXPECT_EQ_INT(ar.week, 0);
	EXPECT_EQ_INT(ar.k, 5 + 1 + 1);
	shd_ar_release(&ar);

	/* bad arguments */
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, 400, 0, 6, 24, 0, 1e-3), SHD_EINVAL);
	shd_ar_release(&ar);
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, 400, 4, 6, 24, 0, -1), SHD_EINVAL);
	shd_ar_release(&ar);
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, 400, 4, 6, 24, 0, NAN), SHD_EINVAL);
	shd_ar_release(&ar);

	/* all NaN: no window, zero coefficients, NaN forecasts */
	double y[100];
	for (int i = 0; i < 100; i++)
		y[i] = NAN;
	EXPECT_EQ_INT(shd_ar_fit(&ar, y, 100, 2, 3, 0, 0, 1e-3), 0);
	EXPECT_EQ_INT(ar.nfit[0], 0);
	shd_ar_predict(&ar, y, 99, out);
	EXPECT(isnan(out[0]) && isnan(out[1]));
	shd_ar_release(&ar);

	/* NaN inside: windows touching it are skipped; forecasts whose lags
	 * hold it are NaN, never garbage */
	double *z = ar_process(1000, 24, 3);
	z[500] = NAN;
	EXPECT_EQ_INT(shd_ar_fit(&ar, z, 1000, 1, 3, 24, 0, 1e-3), 0);
	/* origins 23..998 = 976; lost: target 500 (t = 499), lags of
	 * t = 500, 501, 502, but not the day value of t = 523 (t+1-24 =
	 * 500 falls back to 476) -> 4 lost */
	EXPECT_EQ_INT(ar.nfit[0], 976 - 4);
	shd_ar_predict(&ar, z, 501, out);
	EXPECT(isnan(out[0]));
	shd_ar_predict(&ar, z, 503, out);
	EXPECT(isfinite(out[0]));
	shd_ar_release(&ar);
	free(z);
}

static void test_ar_beats_last_value_on_noisy_sine(void)
{
	const size_t D = 48, n = 48 * 40, ntr = n * 7 / 10, H = 12;
	double *x = malloc(n * sizeof(*x));
	struct rnd r = { 11, 0, 0 };
	struct shd_ar ar;

	for (size_t i = 0; i < n; i++)
		x[i] = 10 * sin(2 * M_PI * (double)i / (double)D) +
		       rnd_normal(&r);
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, ntr, H, 4, D, 0, 1e-3), 0);
	double scale = shd_mase_scale(x, ntr, D);
	for (size_t h = 1; h <= H; h += H - 1) {
		double last = rolling_mase(LAST, NULL, x, n, ntr, H, h, D, scale);
		double sn = rolling_mase(SNAIVE, NULL, x, n, ntr, H, h, D, scale);
		double a = rolling_mase(AR, &ar, x, n, ntr, H, h, D, scale);
		EXPECT(a < last);
		EXPECT(a < sn);	/* sn carries the noise twice */
		if (h == H)
			EXPECT(a < 0.5 * last);
	}
	shd_ar_release(&ar);
	free(x);
}

static void test_snaive_wins_on_exact_repeat(void)
{
	const size_t D = 24, n = 24 * 30, ntr = n * 7 / 10, H = 6;
	double *x = malloc(n * sizeof(*x)), pat[24];
	struct rnd r = { 5, 0, 0 };
	struct shd_ar ar;

	for (size_t i = 0; i < D; i++)
		pat[i] = 50 + 10 * rnd_normal(&r);
	for (size_t i = 0; i < n; i++)
		x[i] = pat[i % D];
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, ntr, H, 3, D, 0, 1e-3), 0);
	double scale = shd_mase_scale(x, ntr, 1);
	for (size_t h = 1; h <= H; h++) {
		double sn = rolling_mase(SNAIVE, NULL, x, n, ntr, H, h, D, scale);
		double a = rolling_mase(AR, &ar, x, n, ntr, H, h, D, scale);
		double last = rolling_mase(LAST, NULL, x, n, ntr, H, h, D, scale);
		EXPECT_SAME_DOUBLE(sn, 0.0);
		EXPECT(a > sn);		/* the ridge keeps it off exact */
		EXPECT(a < 0.05 * last);	/* but it found the season */
	}
	/* the one-day scale of an exact repeat is 0: MASE says NaN */
	EXPECT_SAME_DOUBLE(shd_mase_scale(x, ntr, D), 0.0);
	double a1 = 1, p1 = 1;
	EXPECT(isnan(shd_mase(&a1, &p1, 1, 0.0)));
	shd_ar_release(&ar);
	free(x);
}

/* ----------------------------------------------------------- measures */

static void test_mase(void)
{
	double x[] = { 0, 1, 3, 6 };

	EXPECT_NEAR(shd_mase_scale(x, 4, 1), 2.0, 1e-15);	/* 1,2,3 */
	EXPECT_NEAR(shd_mase_scale(x, 4, 2), 4.0, 1e-15);	/* 3,5 */
	EXPECT_NEAR(shd_mase_scale(x, 4, 3), 2.0, 1e-15);	/* n < 2P */
	double y[] = { 0, NAN, 3, 6, 10 };
	EXPECT_NEAR(shd_mase_scale(y, 5, 1), 3.5, 1e-15);	/* 3,4 */
	EXPECT(isnan(shd_mase_scale(y, 1, 1)));

	double act[] = { 1, 2, NAN, 4 }, pred[] = { 2, 2, 3, NAN };
	EXPECT_NEAR(shd_mase(act, pred, 4, 0.5), 1.0, 1e-15);	/* (1+0)/2/.5 */
	EXPECT(isnan(shd_mase(act, pred, 4, NAN)));
	EXPECT(isnan(shd_mase(act + 2, pred + 2, 2, 1)));

	/* seasonal naive on a pure periodic series: MASE 0 */
	double z[200], out[5];
	for (int i = 0; i < 200; i++)
		z[i] = (double)((i % 25) * (i % 25) % 7) + (i % 25 == 3);
	double scale = shd_mase_scale(z, 140, 1), sum = 0;
	for (size_t t = 140; t + 5 < 200; t++) {
		shd_seasonal_naive(out, z, t, 5, 25);
		for (int h = 0; h < 5; h++)
			sum += shd_mase(&z[t + h + 1], &out[h], 1, scale);
	}
	EXPECT_SAME_DOUBLE(sum, 0.0);

	double lo[] = { 0, 0, 0, NAN }, hi[] = { 1, 1, 1, 9 };
	double a[] = { 0.5, 1, 1.5, 3 }, b[] = { NAN, 0.5, 2, NAN };
	EXPECT_NEAR(shd_coverage(a, lo, hi, 4), 0.5, 1e-15);
	EXPECT_NEAR(shd_coverage(b, lo, hi, 4), 0.5, 1e-15);
	EXPECT(isnan(shd_coverage(b, lo, hi, 1)));
}

/* ---------------------------------------------------------- conformal */

static void test_conformal_quantile(void)
{
	double r[] = { 5, 1, -4, 2, 3, NAN, -6, 7, 8, 9, 10 };	/* |r| 1..10 */
	double q;

	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, 0.9, &q), 0);
	EXPECT_SAME_DOUBLE(q, 10.0);	/* ceil(11 * .9) = 10 */
	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, 0.8, &q), 0);
	EXPECT_SAME_DOUBLE(q, 9.0);	/* ceil(8.8) */
	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, 0.5, &q), 0);
	EXPECT_SAME_DOUBLE(q, 6.0);	/* ceil(5.5) */
	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, 0.05, &q), 0);
	EXPECT_SAME_DOUBLE(q, 1.0);	/* ceil(.55) */
	/* m = 5 is too few for 90%: rank 6 > 5 */
	EXPECT_EQ_INT(shd_conformal_quantile(r, 5, 0.9, &q), 0);
	EXPECT(isinf(q) && q > 0);
	EXPECT_EQ_INT(shd_conformal_quantile(r, 0, 0.5, &q), 0);
	EXPECT(isinf(q));
	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, 1.0, &q), SHD_EINVAL);
	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, 0.0, &q), SHD_EINVAL);
	EXPECT_EQ_INT(shd_conformal_quantile(r, 11, NAN, &q), SHD_EINVAL);

	/* (m+1) c a whole number: 100 * 0.9 = 90, not 91 */
	double s[99];
	for (int i = 0; i < 99; i++)
		s[i] = 99 - i;
	EXPECT_EQ_INT(shd_conformal_quantile(s, 99, 0.9, &q), 0);
	EXPECT_SAME_DOUBLE(q, 90.0);

	/* against a sort, with many ties, at every rank */
	struct rnd g = { 99, 0, 0 };
	double v[257], sorted[257];
	for (int trial = 0; trial < 20 && !harness_failed_now; trial++) {
		size_t m = 1 + (size_t)(rnd_unif(&g) * 256);
		for (size_t i = 0; i < m; i++)
			v[i] = sorted[i] = (double)(rnd_u64(&g) % 17);
		qsort(sorted, m, sizeof(*sorted), cmp_double);
		for (size_t k = 1; k <= m && !harness_failed_now; k++) {
			double c = ((double)k - 0.5) / (double)(m + 1);
			EXPECT_EQ_INT(shd_conformal_quantile(v, m, c, &q), 0);
			if (q != sorted[k - 1])
				FAIL_AT("m %zu rank %zu: %g != %g", m, k, q,
					sorted[k - 1]);
		}
	}
}

static void test_conformal_coverage(void)
{
	const size_t ncal = 100, ntest = 100, draws = 1000;
	double cal[100], act[100], pred[100], lo[100], hi[100], q;
	struct rnd r = { 2024, 0, 0 };
	const double cover[] = { 0.8, 0.9, 0.95 };

	for (size_t c = 0; c < 3; c++) {
		double sum = 0;
		for (size_t d = 0; d < draws; d++) {
			for (size_t i = 0; i < ncal; i++)
				cal[i] = 3 * rnd_normal(&r);
			EXPECT_EQ_INT(shd_conformal_quantile(cal, ncal,
							     cover[c], &q), 0);
			for (size_t i = 0; i < ntest; i++) {
				pred[i] = 10 * rnd_unif(&r);
				act[i] = pred[i] + 3 * rnd_normal(&r);
			}
			shd_conformal_interval(lo, hi, pred, ntest, q);
			sum += shd_coverage(act, lo, hi, ntest);
		}
		EXPECT_NEAR(sum / (double)draws, cover[c], 0.02);
	}
}

static void test_confidence(void)
{
	EXPECT_SAME_DOUBLE(shd_confidence(0, 2), 1.0);
	EXPECT_SAME_DOUBLE(shd_confidence(2, 2), 0.5);
	EXPECT_NEAR(shd_confidence(6, 2), 0.25, 1e-15);
	EXPECT_SAME_DOUBLE(shd_confidence(INFINITY, 2), 0.0);
	EXPECT(isnan(shd_confidence(NAN, 2)));
	EXPECT(isnan(shd_confidence(1, 0)));
	/* narrower interval, higher confidence */
	EXPECT(shd_confidence(1, 3) > shd_confidence(2, 3));
}

static void test_robust_scale(void)
{
	double c, s;
	double a[] = { 4, 1, 100, 3, 2 };

	EXPECT_EQ_INT(shd_robust_center_scale(a, 5, &c, &s), 0);
	EXPECT_SAME_DOUBLE(c, 3.0);
	EXPECT_NEAR(s, 1.4826, 1e-15);	/* deviations 1,2,97,0,1 */

	double b[] = { 2, NAN, 4, 1, 3 };	/* even count after NaN */
	EXPECT_EQ_INT(shd_robust_center_scale(b, 5, &c, &s), 0);
	EXPECT_SAME_DOUBLE(c, 2.5);
	EXPECT_NEAR(s, 1.4826, 1e-15);	/* .5 .5 1.5 1.5 -> 1 */

	double k[] = { 7, 7, 7 };
	EXPECT_EQ_INT(shd_robust_center_scale(k, 3, &c, &s), 0);
	EXPECT_SAME_DOUBLE(c, 7.0);
	EXPECT_NEAR(s, 7e-9, 1e-22);
	double z[] = { 0, 0 };
	EXPECT_EQ_INT(shd_robust_center_scale(z, 2, &c, &s), 0);
	EXPECT_SAME_DOUBLE(s, 1e-12);

	double nan2[] = { NAN, NAN };
	EXPECT_EQ_INT(shd_robust_center_scale(nan2, 2, &c, &s), SHD_EINVAL);
	EXPECT(isnan(c) && isnan(s));

	/*
	 * a Gaussian sample with 2% wild outliers either side: the median
	 * stays, the scale is sigma * 1.4826 * Phi^-1((1 + .5/.98) / 2) =
	 * 1.025 sigma (the standard deviation would be 1.4e5)
	 */
	const size_t n = 20000;
	double *g = malloc(n * sizeof(*g));
	struct rnd r = { 8, 0, 0 };
	for (size_t i = 0; i < n; i++)
		g[i] = 50 + 2 * rnd_normal(&r) +
		       (i % 100 == 0 ? 1e6 : i % 100 == 1 ? -1e6 : 0);
	EXPECT_EQ_INT(shd_robust_center_scale(g, n, &c, &s), 0);
	EXPECT_NEAR(c, 50, 0.05);
	EXPECT_NEAR(s, 2 * 1.025, 0.05);
	free(g);
}

static const struct harness_case cases[] = {
	TEST(test_last_value),
	TEST(test_seasonal_naive),
	TEST(test_ar_recovers_process),
	TEST(test_ar_constant_and_nan),
	TEST(test_ar_beats_last_value_on_noisy_sine),
	TEST(test_snaive_wins_on_exact_repeat),
	TEST(test_mase),
	TEST(test_conformal_quantile),
	TEST(test_conformal_coverage),
	TEST(test_confidence),
	TEST(test_robust_scale),
};

int main(void)
{
	return RUN_TESTS(cases);
}
