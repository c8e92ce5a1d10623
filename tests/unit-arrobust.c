/*
 * unit-arrobust.c - the robust autoregression of lib/baseline.c: the Huber
 * fit (shd_ar_fit_huber), the seasons that must earn their place on
 * validation (shd_ar_fit_select), the range of the seasonal features
 * beyond which shd_ar_predict does not trust them, and the Diebold-Mariano
 * statistic both the season choice and the method choice of lib/train.c
 * use (shd_dm_stat).
 *
 * Random data comes from lib/rng.c with fixed seeds, so every run sees the
 * same numbers.
 */
#include "harness.h"

#include "forecast.h"
#include "rng.h"

#define DAY 24

/* Mean |x[t+h] - forecast| over origins t in [from, n-h), step h. */
static double step_mae(const struct shd_ar *ar, const double *x, size_t n,
		       size_t from, size_t h)
{
	double out[16], sum = 0;
	size_t cnt = 0;

	for (size_t t = from; t + h < n; t++) {
		shd_ar_predict(ar, x, t, out);
		if (isnan(out[h - 1]) || isnan(x[t + h]))
			continue;
		sum += fabs(x[t + h] - out[h - 1]);
		cnt++;
	}
	return cnt ? sum / (double)cnt : NAN;
}

/*
 * An AR(1) around 50, x[t] - 50 = 0.8 (x[t-1] - 50) + e, into X (N); every
 * 37th value of [0, NSPIKE) gets a one-slot outlier of +40 (a burst in a
 * monitoring series), which does not feed the process.
 */
static void ar1(double *x, size_t n, size_t nspike, uint64_t seed)
{
	struct shd_rng rng;
	double z = 0;

	shd_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++) {
		z = 0.8 * z + shd_rng_normal(&rng);
		x[i] = 50 + z;
		if (i < nspike && i % 37 == 36)
			x[i] += 40;
	}
}

/*
 * Spikes in training pull a least-squares fit (their squares dominate);
 * the Huber fit stays nearer the process and forecasts the clean rest
 * better. (The fit sees only differences to the latest value, so compare
 * forecasts, not coefficients.)
 */
static void test_huber_resists_spikes(void)
{
	enum { N = 3000, NTR = 2000, P = 3, H = 2 };
	double *x = malloc(N * sizeof(*x));
	struct shd_ar ls, hub;

	ar1(x, N, NTR, 11);
	EXPECT_EQ_INT(shd_ar_fit(&ls, x, NTR, H, P, 0, 0, 1e-3), 0);
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, NTR, H, P, 0, 0, 1e-3, 1.0),
		      0);
	double e_ls = step_mae(&ls, x, N, NTR, 1);
	double e_hub = step_mae(&hub, x, N, NTR, 1);
	printf("# one step MAE on clean data: least squares %.4f, Huber "
	       "%.4f\n", e_ls, e_hub);
	EXPECT(e_hub < 0.95 * e_ls);
	EXPECT_EQ_INT(hub.nfit[0], ls.nfit[0]);
	shd_ar_release(&ls);
	shd_ar_release(&hub);
	free(x);
}

/* Solves the K x K system M z = b (M row-major, overwritten; K <= 8) by
 * Gaussian elimination with partial pivoting; z in b. */
static void solve_small(double *M, double *b, size_t k)
{
	for (size_t c = 0; c < k; c++) {
		size_t piv = c;
		for (size_t i = c + 1; i < k; i++)
			if (fabs(M[i * k + c]) > fabs(M[piv * k + c]))
				piv = i;
		for (size_t j = 0; j < k; j++) {
			double t = M[c * k + j];
			M[c * k + j] = M[piv * k + j];
			M[piv * k + j] = t;
		}
		double t = b[c];
		b[c] = b[piv];
		b[piv] = t;
		for (size_t i = c + 1; i < k; i++) {
			double f = M[i * k + c] / M[c * k + c];
			for (size_t j = c; j < k; j++)
				M[i * k + j] -= f * M[c * k + j];
			b[i] -= f * b[c];
		}
	}
	for (size_t c = k; c-- > 0;) {
		for (size_t j = c + 1; j < k; j++)
			b[c] -= M[c * k + j] * b[j];
		b[c] /= M[c * k + c];
	}
}

/* The weighted ridge fit as forecast.h defines it, formed row by row:
 * (A^T W A + lambda D^2) coef = A^T W y, D the columns' weighted norms. */
static void ridge_ref(double *coef, const double *A, const double *y,
		      const double *w, size_t m, size_t k, double lambda)
{
	double M[64], b[8], d[8];

	for (size_t a = 0; a < k; a++) {
		b[a] = 0;
		for (size_t j = 0; j < k; j++) {
			double sum = 0;
			for (size_t i = 0; i < m; i++)
				sum += w[i] * A[i * k + a] * A[i * k + j];
			M[a * k + j] = sum;
		}
		for (size_t i = 0; i < m; i++)
			b[a] += w[i] * A[i * k + a] * y[i];
	}
	for (size_t a = 0; a < k; a++)
		d[a] = sqrt(M[a * k + a]);
	for (size_t a = 0; a < k; a++)
		M[a * k + a] += lambda * d[a] * d[a];
	solve_small(M, b, k);
	memcpy(coef, b, k * sizeof(*coef));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * The Huber fit is reweighted least squares from the least-squares start:
 * three passes, each weighing window i by min(1, C s / |r_i|), s 1.4826
 * times the upper median |r|. Redone here the plain way (every weighted
 * normal equation summed afresh), its coefficients must be the library's,
 * which forms A^T W A as a downdate of A^T A.
 */
static void test_huber_matches_reweighting(void)
{
	enum { N = 600, NTR = 500, P = 3, K = P, H = 2 };
	const double c = 1.0, lambda = 1e-3;
	double x[N], A[NTR * K], y[NTR], w[NTR], r[NTR], a[NTR], coef[K];
	struct shd_ar hub;

	ar1(x, N, N, 16);
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, NTR, H, P, 0, 0, lambda, c),
		      0);
	for (size_t h = 1; h <= H; h++) {
		size_t m = 0;
		for (size_t t = P - 1; t + h < NTR; t++) {
			for (size_t l = 1; l < P; l++)
				A[m * K + l - 1] = x[t] - x[t - l];
			A[m * K + K - 1] = 1.0;
			y[m++] = x[t + h] - x[t];
		}
		for (size_t i = 0; i < m; i++)
			w[i] = 1;
		ridge_ref(coef, A, y, w, m, K, lambda);
		for (int it = 0; it < 3; it++) {
			for (size_t i = 0; i < m; i++) {
				r[i] = y[i];
				for (size_t j = 0; j < K; j++)
					r[i] -= A[i * K + j] * coef[j];
				a[i] = fabs(r[i]);
			}
			qsort(a, m, sizeof(*a), cmp_double);
			double s = 1.4826 * a[m / 2];
			for (size_t i = 0; i < m; i++)
				w[i] = fabs(r[i]) > c * s ? c * s / fabs(r[i])
							  : 1.0;
			ridge_ref(coef, A, y, w, m, K, lambda);
		}
		for (size_t j = 0; j < K; j++)
			EXPECT_NEAR(hub.coef[(h - 1) * K + j], coef[j],
				    1e-9 * (1 + fabs(coef[j])));
	}
	shd_ar_release(&hub);
}

/* Without outliers, Huber and least squares forecast about the same. */
static void test_huber_clean_data(void)
{
	enum { N = 3000, NTR = 2000, P = 3, H = 1 };
	double *x = malloc(N * sizeof(*x));
	struct shd_ar ls, hub;

	ar1(x, N, 0, 12);
	EXPECT_EQ_INT(shd_ar_fit(&ls, x, NTR, H, P, 0, 0, 1e-3), 0);
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, NTR, H, P, 0, 0, 1e-3, 0.5),
		      0);
	double e_ls = step_mae(&ls, x, N, NTR, 1);
	double e_hub = step_mae(&hub, x, N, NTR, 1);
	EXPECT_NEAR(e_hub, e_ls, 0.02 * e_ls);
	shd_ar_release(&ls);
	shd_ar_release(&hub);
	free(x);
}

/* C = 0 is least squares, bit for bit; bad C is refused; a constant
 * series (every residual 0) is no trouble. */
static void test_huber_edges(void)
{
	enum { N = 500 };
	double x[N];
	struct shd_ar ls, hub;

	ar1(x, N, N, 13);
	EXPECT_EQ_INT(shd_ar_fit(&ls, x, 400, 3, 4, DAY, 0, 1e-3), 0);
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, 400, 3, 4, DAY, 0, 1e-3, 0),
		      0);
	EXPECT_EQ_INT(hub.k, ls.k);
	EXPECT(memcmp(hub.coef, ls.coef, 3 * ls.k * sizeof(double)) == 0);
	shd_ar_release(&ls);
	shd_ar_release(&hub);
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, 400, 3, 4, 0, 0, 1e-3, -1),
		      SHD_EINVAL);
	shd_ar_release(&hub);
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, 400, 3, 4, 0, 0, 1e-3,
				       INFINITY), SHD_EINVAL);
	shd_ar_release(&hub);
	for (size_t i = 0; i < N; i++)
		x[i] = 7;
	EXPECT_EQ_INT(shd_ar_fit_huber(&hub, x, 400, 3, 4, DAY, 0, 1e-3, 1),
		      0);
	double out[3];
	shd_ar_predict(&hub, x, 450, out);
	for (int h = 0; h < 3; h++)
		EXPECT_NEAR(out[h], 7, 1e-9);
	shd_ar_release(&hub);
}

/*
 * A daily cycle keeps its season: the seasonal fit wins validation by far.
 * Noise around a level that shifts now and then (no cycle) drops it:
 * ar->day says 0 and the coefficients are those of the plain fit.
 */
static void test_select_seasons(void)
{
	enum { N = 40 * DAY, NTR = 28 * DAY, NVA = 6 * DAY, P = 4, H = 3 };
	double *x = malloc(N * sizeof(*x));
	struct shd_rng rng;
	struct shd_ar sel, plain;

	shd_rng_seed(&rng, 14);
	for (size_t i = 0; i < N; i++)
		x[i] = 10 * sin(2 * M_PI * (double)i / DAY) +
		       0.5 * shd_rng_normal(&rng);
	EXPECT_EQ_INT(shd_ar_fit_select(&sel, x, NTR, NVA, H, P, DAY, 0, 1e-3,
					1.0), 0);
	EXPECT_EQ_INT(sel.day, DAY);
	EXPECT_EQ_INT(sel.k, P - 1 + 1 + 1);
	/* the one kept is refitted robustly: the Huber fit with its seasons */
	EXPECT_EQ_INT(shd_ar_fit_huber(&plain, x, NTR, H, P, DAY, 0, 1e-3,
				       1.0), 0);
	EXPECT_EQ_INT(plain.k, sel.k);
	EXPECT(memcmp(sel.coef, plain.coef, H * sel.k * sizeof(double)) == 0);
	shd_ar_release(&plain);
	EXPECT_EQ_INT(shd_ar_fit(&plain, x, NTR, H, P, DAY, 0, 1e-3), 0);
	EXPECT(memcmp(sel.coef, plain.coef, H * sel.k * sizeof(double)) != 0);
	shd_ar_release(&plain);
	shd_ar_release(&sel);
	/* no validation range: the seasons stay */
	EXPECT_EQ_INT(shd_ar_fit_select(&sel, x, NTR, 0, H, P, DAY, 0, 1e-3,
					1.0), 0);
	EXPECT_EQ_INT(sel.day, DAY);
	shd_ar_release(&sel);

	double level = 0;
	for (size_t i = 0; i < N; i++) {
		if (i % (5 * DAY / 2) == 0)
			level = 20 * shd_rng_uniform(&rng);
		x[i] = level + shd_rng_normal(&rng);
	}
	EXPECT_EQ_INT(shd_ar_fit_select(&sel, x, NTR, NVA, H, P, DAY, 0, 1e-3,
					1.0), 0);
	EXPECT_EQ_INT(shd_ar_fit_huber(&plain, x, NTR, H, P, 0, 0, 1e-3, 1.0),
		      0);
	EXPECT_EQ_INT(sel.day, 0);
	EXPECT_EQ_INT(sel.week, 0);
	EXPECT_EQ_INT(sel.k, plain.k);
	EXPECT(memcmp(sel.coef, plain.coef, H * plain.k * sizeof(double)) == 0);
	shd_ar_release(&sel);
	shd_ar_release(&plain);
	free(x);
}

/*
 * The seasonal feature's range is the one the fit saw; after the series
 * drops to a level never seen (an outage: 0 from a level near 30), the
 * forecast no longer leans toward the value of a day ago, and is the
 * lag part's alone (the same as with the day's difference set to 0).
 */
static void test_season_range(void)
{
	enum { N = 20 * DAY, NTR = 12 * DAY, P = 3, H = 2 };
	double *x = malloc(N * sizeof(*x)), out[H], ref[H];
	struct shd_rng rng;
	struct shd_ar ar;

	shd_rng_seed(&rng, 15);
	for (size_t i = 0; i < N; i++)
		x[i] = 30 + 3 * sin(2 * M_PI * (double)i / DAY) +
		       0.3 * shd_rng_normal(&rng);
	EXPECT_EQ_INT(shd_ar_fit(&ar, x, NTR, H, P, DAY, 0, 1e-3), 0);
	EXPECT_EQ_INT(ar.day, DAY);
	/* the feature sn - x[t] of a 3-amplitude cycle stays within +-8 */
	EXPECT(ar.srange[0][0] < -1 && ar.srange[0][0] > -8);
	EXPECT(ar.srange[0][1] > 1 && ar.srange[0][1] < 8);
	EXPECT_SAME_DOUBLE(ar.srange[1][0], 0.0);
	EXPECT_SAME_DOUBLE(ar.srange[1][1], 0.0);
	/* the coefficient of the day is well away from 0 here */
	EXPECT(fabs(ar.coef[P - 1]) > 0.05);
	for (size_t i = 15 * DAY; i < N; i++)
		x[i] = 0;
	/* origin a few hours after the drop: lags flat, a day ago ~30 */
	size_t t = 15 * DAY + 8;
	shd_ar_predict(&ar, x, t, out);
	/* the same AR with the day's difference 0: the intercept only */
	for (size_t h = 0; h < H; h++)
		ref[h] = ar.coef[h * ar.k + ar.k - 1];
	for (size_t h = 0; h < H; h++)
		EXPECT_NEAR(out[h], ref[h], 1e-12);
	/* inside the range, the feature counts as before */
	for (size_t i = 15 * DAY; i < N; i++)
		x[i] = 30 + 3 * sin(2 * M_PI * (double)i / DAY);
	shd_ar_predict(&ar, x, t, out);
	EXPECT_NEAR(out[0], x[t + 1], 0.5);
	shd_ar_release(&ar);
	free(x);
}

/* The statistic on numbers worked by hand. */
static void test_dm_stat(void)
{
	const double one[1] = { 1 }, flat[4] = { 2, 2, 2, 2 };
	const double neg[3] = { -1, -1, -1 }, zero[2] = { 0, 0 };
	const double d[4] = { 1, 3, 2, 6 };

	EXPECT(isnan(shd_dm_stat(one, 1, 0)));
	EXPECT(isinf(shd_dm_stat(flat, 4, 0)) && shd_dm_stat(flat, 4, 0) > 0);
	EXPECT(isinf(shd_dm_stat(neg, 3, 2)) && shd_dm_stat(neg, 3, 2) < 0);
	EXPECT_SAME_DOUBLE(shd_dm_stat(zero, 2, 0), 0.0);
	/* mean 3, gamma_0 = (4 + 0 + 1 + 9) / 4 = 3.5: z = 3 / sqrt(3.5/4) */
	EXPECT_NEAR(shd_dm_stat(d, 4, 0), 3 / sqrt(3.5 / 4), 1e-12);
	/* L = 1: gamma_1 = (0*-2 + -1*0 + 3*-1) / 4 = -0.75, weight
	 * 2 (1 - 1/2) = 1: var = 3.5 - 0.75 = 2.75 */
	EXPECT_NEAR(shd_dm_stat(d, 4, 1), 3 / sqrt(2.75 / 4), 1e-12);
	/* L beyond n - 1 is capped */
	EXPECT_NEAR(shd_dm_stat(d, 4, 99), shd_dm_stat(d, 4, 3), 1e-12);
}

static const struct harness_case cases[] = {
	TEST(test_huber_resists_spikes),
	TEST(test_huber_matches_reweighting),
	TEST(test_huber_clean_data),
	TEST(test_huber_edges),
	TEST(test_select_seasons),
	TEST(test_season_range),
	TEST(test_dm_stat),
};

int main(void)
{
	return RUN_TESTS(cases);
}
