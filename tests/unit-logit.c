/*
 * unit-logit.c - L2-regularized logistic regression by IRLS (lib/logit.c).
 *
 * Random data comes from the library's seeded xorshift64* (lib/rng.h), so
 * every run sees the same numbers.
 */
#include "harness.h"

#include <lapacke.h>

#include "logit.h"
#include "rng.h"

/* ------------------------------------------------------------- helpers */

static double sigm(double t)
{
	return 1 / (1 + exp(-t));
}

/* The coefficients of M in original units: c[0] + sum_j c[j+1] x[j]. */
static void original_coef(double *c, const struct shd_logit *m)
{
	c[0] = m->b[0];
	for (size_t j = 0; j < m->nfeat; j++) {
		c[j + 1] = m->b[j + 1] / m->sd[j];
		c[0] -= c[j + 1] * m->mu[j];
	}
}

/*
 * Fills X (n, 3) and Y (n) from the logistic model with coefficients BETA
 * (4, original units): x0 ~ N(2, 1.5^2), x1 ~ U(0, 10), x2 ~ N(0, 1).
 */
static void draw(double *x, double *y, size_t n, const double *beta,
		 uint64_t seed)
{
	struct shd_rng r;

	shd_rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		double *xi = x + 3 * i;

		xi[0] = 2 + 1.5 * shd_rng_normal(&r);
		xi[1] = 10 * shd_rng_uniform(&r);
		xi[2] = shd_rng_normal(&r);
		double eta = beta[0] + beta[1] * xi[0] + beta[2] * xi[1] +
			     beta[3] * xi[2];
		y[i] = shd_rng_uniform(&r) < sigm(eta) ? 1 : 0;
	}
}

/*
 * The gradient of the penalized log-likelihood at M in standardized units
 * (logit.h): g[k] = sum wt (y - p) z[k] - lambda I' b[k]; zero at the fit.
 */
static void gradient(double *g, const struct shd_logit *m, const double *x,
		     const double *y, const double *wt, size_t n,
		     double lambda)
{
	size_t F = m->nfeat;

	for (size_t k = 0; k <= F; k++)
		g[k] = k ? -lambda * m->b[k] : 0;
	for (size_t i = 0; i < n; i++) {
		double w = wt ? wt[i] : 1;
		double r = w * (y[i] - shd_logit_prob(m, x + i * F));

		g[0] += r;
		for (size_t j = 0; j < F; j++)
			g[j + 1] += r * (x[i * F + j] - m->mu[j]) / m->sd[j];
	}
}

/* -------------------------------------------------------------- cases */

/*
 * A large sample from a known model gives back its coefficients within 4.5
 * standard errors, the errors from the inverse Fisher information at the
 * true coefficients (sum p (1-p) x x^T, x with a leading 1).
 */
static void test_recovers_coefficients(void)
{
	const size_t n = 100000;
	const double beta[4] = { -1.0, 0.8, -0.3, 1.5 };
	double *x = malloc(n * 3 * sizeof(*x)), *y = malloc(n * sizeof(*y));
	double info[16] = { 0 }, cov[16] = { 0 }, c[4];
	struct shd_logit m;

	draw(x, y, n, beta, 42);
	shd_logit_init(&m);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 3, 0), 0);
	EXPECT_EQ_INT(m.nfeat, 3);
	EXPECT(m.iter > 2 && m.iter < 20);

	for (size_t i = 0; i < n; i++) {
		double v[4] = { 1, x[3 * i], x[3 * i + 1], x[3 * i + 2] };
		double p = sigm(beta[0] + beta[1] * v[1] + beta[2] * v[2] +
				beta[3] * v[3]);
		for (int a = 0; a < 4; a++)
			for (int b = 0; b < 4; b++)
				info[4 * a + b] += p * (1 - p) * v[a] * v[b];
	}
	for (int a = 0; a < 4; a++)
		cov[4 * a + a] = 1;
	EXPECT_EQ_INT(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', 4, 4, info, 4,
				    cov, 4), 0);
	original_coef(c, &m);
	for (int k = 0; k < 4; k++) {
		double se = sqrt(cov[4 * k + k]);
		EXPECT(se > 0 && se < 0.05);
		EXPECT_NEAR(c[k], beta[k], 4.5 * se);
	}

	/* the deviance is -2 log-likelihood, recomputed here */
	double dev = 0;
	for (size_t i = 0; i < n; i++) {
		double p = shd_logit_prob(&m, x + 3 * i);
		dev -= 2 * log(y[i] != 0 ? p : 1 - p);
	}
	EXPECT_NEAR(m.deviance, dev, 1e-9 * dev);

	/* the gradient vanishes at the fit */
	double g[4];
	gradient(g, &m, x, y, NULL, n, 0);
	for (int k = 0; k < 4; k++)
		EXPECT_NEAR(g[k], 0, 1e-7);

	shd_logit_release(&m);
	EXPECT(m.mu == NULL && m.b == NULL && m.nfeat == 0);
	free(x);
	free(y);
}

/*
 * One binary feature, lambda 0: the maximum-likelihood probability of each
 * group is its observed rate, and the deviance follows by hand.
 */
static void test_binary_feature_rates(void)
{
	/* x = 0: 30 of 100 positive; x = 1: 70 of 200 positive */
	const size_t n = 300;
	double x[300], y[300], dev = 0;
	struct shd_logit m;

	for (size_t i = 0; i < n; i++) {
		x[i] = i < 100 ? 0 : 1;
		y[i] = i < 100 ? (i < 30) : (i < 170);
	}
	shd_logit_init(&m);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 1, 0), 0);
	double x0 = 0, x1 = 1;
	EXPECT_NEAR(shd_logit_prob(&m, &x0), 0.30, 1e-12);
	EXPECT_NEAR(shd_logit_prob(&m, &x1), 0.35, 1e-12);
	EXPECT_NEAR(m.mu[0], 2.0 / 3, 1e-15);
	EXPECT_NEAR(m.sd[0], sqrt(2.0 / 9), 1e-15);
	dev = -2 * (30 * log(0.3) + 70 * log(0.7) + 70 * log(0.35) +
		    130 * log(0.65));
	EXPECT_NEAR(m.deviance, dev, 1e-9);

	/* a ridge pulls the two groups' probabilities together */
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 1, 50), 0);
	double p0 = shd_logit_prob(&m, &x0), p1 = shd_logit_prob(&m, &x1);
	EXPECT(p0 > 0.30 && p1 < 0.35 && p0 < p1);
	EXPECT(m.deviance > dev);
	shd_logit_release(&m);
}

/* The ridge solution is stationary for the penalized objective. */
static void test_ridge_stationary(void)
{
	const size_t n = 2000;
	const double beta[4] = { 0.5, -1.2, 0.4, 2.0 };
	double *x = malloc(n * 3 * sizeof(*x)), *y = malloc(n * sizeof(*y));
	double g[4], prev = INFINITY;
	struct shd_logit m;

	draw(x, y, n, beta, 7);
	shd_logit_init(&m);
	for (double lambda = 0; lambda <= 1000; lambda = lambda * 10 + 1) {
		EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 3, lambda), 0);
		gradient(g, &m, x, y, NULL, n, lambda);
		for (int k = 0; k < 4; k++)
			EXPECT_NEAR(g[k], 0, 1e-8);
		/* more ridge, smaller standardized slopes */
		double norm = 0;
		for (int k = 1; k < 4; k++)
			norm += m.b[k] * m.b[k];
		EXPECT(norm < prev);
		prev = norm;
	}

	/* an overwhelming ridge leaves only the intercept: the label mean */
	double ybar = 0;
	for (size_t i = 0; i < n; i++)
		ybar += y[i] / n;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 3, 1e12), 0);
	EXPECT_NEAR(m.b[0], log(ybar / (1 - ybar)), 1e-6);
	for (int k = 1; k < 4; k++)
		EXPECT_NEAR(m.b[k], 0, 1e-6);
	shd_logit_release(&m);
	free(x);
	free(y);
}

/* A row of weight k fits exactly as k copies of it (weights 0 drop rows). */
static void test_weights_are_copies(void)
{
	const size_t n = 60;
	const double beta[4] = { 0.2, 0.5, -0.2, 1.0 };
	double x[60 * 3], y[60], wt[60], xd[60 * 3 * 3], yd[60 * 3];
	struct shd_rng r;
	size_t nd = 0;

	draw(x, y, n, beta, 3);
	shd_rng_seed(&r, 99);
	for (size_t i = 0; i < n; i++) {
		wt[i] = (double)shd_rng_below(&r, 4);	/* 0..3 */
		for (size_t c = 0; c < wt[i]; c++, nd++) {
			memcpy(xd + 3 * nd, x + 3 * i, 3 * sizeof(*x));
			yd[nd] = y[i];
		}
	}
	for (int l = 0; l < 2; l++) {
		double lambda = l ? 2.5 : 0;
		struct shd_logit mw, md;

		shd_logit_init(&mw);
		shd_logit_init(&md);
		EXPECT_EQ_INT(shd_logit_fit(&mw, x, y, wt, n, 3, lambda), 0);
		EXPECT_EQ_INT(shd_logit_fit(&md, xd, yd, NULL, nd, 3, lambda),
			      0);
		for (int j = 0; j < 3; j++) {
			EXPECT_NEAR(mw.mu[j], md.mu[j], 1e-12);
			EXPECT_NEAR(mw.sd[j], md.sd[j], 1e-12);
		}
		for (int k = 0; k < 4; k++)
			EXPECT_NEAR(mw.b[k], md.b[k], 1e-9);
		EXPECT_NEAR(mw.deviance, md.deviance, 1e-9);
		for (size_t i = 0; i < n; i++)
			EXPECT_NEAR(shd_logit_prob(&mw, x + 3 * i),
				    shd_logit_prob(&md, x + 3 * i), 1e-10);
		shd_logit_release(&mw);
		shd_logit_release(&md);
	}

	/* weights all 1 are no weights, bit for bit */
	double ones[60];
	struct shd_logit a, b;
	for (size_t i = 0; i < n; i++)
		ones[i] = 1;
	shd_logit_init(&a);
	shd_logit_init(&b);
	EXPECT_EQ_INT(shd_logit_fit(&a, x, y, ones, n, 3, 1), 0);
	EXPECT_EQ_INT(shd_logit_fit(&b, x, y, NULL, n, 3, 1), 0);
	for (int k = 0; k < 4; k++)
		EXPECT_SAME_DOUBLE(a.b[k], b.b[k]);
	shd_logit_release(&a);
	shd_logit_release(&b);
}

/*
 * All labels equal: the free intercept has no maximum, yet the fit ends at a
 * finite model predicting the label to within 1e-10 (complete separation).
 */
static void test_all_one_labels(void)
{
	const size_t n = 500;
	const double beta[4] = { 0, 1, 1, 1 };
	double *x = malloc(n * 3 * sizeof(*x)), *y = malloc(n * sizeof(*y));
	struct shd_logit m;

	draw(x, y, n, beta, 11);
	for (size_t i = 0; i < n; i++)
		y[i] = 1;
	shd_logit_init(&m);
	for (int l = 0; l < 2; l++) {
		EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 3, l ? 1 : 0),
			      0);
		EXPECT(m.iter < 100);
		for (int k = 0; k < 4; k++)
			EXPECT(isfinite(m.b[k]));
		EXPECT(m.b[0] > 20 && m.b[0] < 40);
		for (int k = 1; k < 4; k++)
			EXPECT_NEAR(m.b[k], 0, 1e-6);
		for (size_t i = 0; i < n; i++)
			EXPECT(1 - shd_logit_prob(&m, x + 3 * i) < 1e-10);
		EXPECT(m.deviance >= 0 && m.deviance < 2e-10 * n);
	}
	/* and all zero */
	for (size_t i = 0; i < n; i++)
		y[i] = 0;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 3, 1), 0);
	EXPECT(m.b[0] < -20 && isfinite(m.b[0]));
	EXPECT(shd_logit_prob(&m, x) < 1e-10);
	shd_logit_release(&m);
	free(x);
	free(y);
}

/* Separable data at lambda 0 stops with finite coefficients and 0. */
static void test_separation(void)
{
	double x[40], y[40];
	struct shd_logit m;

	/* complete: y = (x > 0) */
	for (int i = 0; i < 40; i++) {
		x[i] = i - 19.5;
		y[i] = x[i] > 0;
	}
	shd_logit_init(&m);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 40, 1, 0), 0);
	EXPECT(m.iter <= 100);
	EXPECT(isfinite(m.b[0]) && isfinite(m.b[1]) && m.b[1] > 0);
	for (int i = 0; i < 40; i++)
		EXPECT_NEAR(shd_logit_prob(&m, x + i), y[i], 1e-10);

	/* quasi-complete: x = 1 all positive, x = 0 half and half */
	for (int i = 0; i < 40; i++) {
		x[i] = i < 20;
		y[i] = i < 20 ? 1 : i % 2;
	}
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 40, 1, 0), 0);
	EXPECT(isfinite(m.b[0]) && isfinite(m.b[1]));
	double x0 = 0, x1 = 1;
	EXPECT_NEAR(shd_logit_prob(&m, &x0), 0.5, 1e-6);
	EXPECT(1 - shd_logit_prob(&m, &x1) < 1e-10);

	/* with a ridge the same data has a proper maximum */
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 40, 1, 1), 0);
	EXPECT(m.b[1] > 0 && m.b[1] < 10);
	double g[2];
	gradient(g, &m, x, y, NULL, 40, 1);
	EXPECT_NEAR(g[0], 0, 1e-9);
	EXPECT_NEAR(g[1], 0, 1e-9);
	shd_logit_release(&m);
}

/* Identical features: singular at lambda 0, shared equally with a ridge. */
static void test_collinear(void)
{
	const size_t n = 300;
	const double beta[4] = { 0.3, 0.7, 0, 0 };
	double x3[300 * 3], y[300], x[300 * 2];
	struct shd_logit m;

	draw(x3, y, n, beta, 5);
	for (size_t i = 0; i < n; i++)
		x[2 * i] = x[2 * i + 1] = x3[3 * i];
	shd_logit_init(&m);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 2, 0), SHD_ENUMERIC);
	EXPECT(m.mu == NULL && m.nfeat == 0);	/* unchanged */
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 2, 0.1), 0);
	EXPECT_NEAR(m.b[1], m.b[2], 1e-9);

	/* a constant column gets sd 1, z 0 and a zero coefficient */
	for (size_t i = 0; i < n; i++)
		x[2 * i + 1] = 0.1;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 2, 0), 0);
	EXPECT_SAME_DOUBLE(m.mu[1], 0.1);
	EXPECT_SAME_DOUBLE(m.sd[1], 1.0);
	EXPECT_NEAR(m.b[2], 0, 1e-12);
	shd_logit_release(&m);
}

static void test_bad_input(void)
{
	double x[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, y[4] = { 0, 1, 0, 1 };
	double wt[4] = { 1, 1, 1, 1 };
	struct shd_logit m;

	shd_logit_init(&m);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 0, 2, 0), SHD_EINVAL);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 0, 0), SHD_EINVAL);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, -1), SHD_EINVAL);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, NAN), SHD_EINVAL);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, INFINITY),
		      SHD_EINVAL);

	x[5] = NAN;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, 0), SHD_EINVAL);
	x[5] = -INFINITY;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, 0), SHD_EINVAL);
	x[5] = 5;
	/* a bad feature counts even in a row of weight 0 */
	wt[2] = 0;
	x[4] = INFINITY;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 0), SHD_EINVAL);
	x[4] = 4;
	wt[2] = 1;

	y[1] = 0.5;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, 0), SHD_EINVAL);
	y[1] = 2;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, 0), SHD_EINVAL);
	y[1] = NAN;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, 4, 2, 0), SHD_EINVAL);
	y[1] = 1;

	wt[0] = -1;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 0), SHD_EINVAL);
	wt[0] = NAN;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 0), SHD_EINVAL);
	wt[0] = INFINITY;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 0), SHD_EINVAL);
	for (int i = 0; i < 4; i++)
		wt[i] = 0;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 0), SHD_EINVAL);
	EXPECT(m.mu == NULL && m.nfeat == 0);

	/* a failure leaves an earlier model in place */
	for (int i = 0; i < 4; i++)
		wt[i] = 1;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 1), 0);
	double b0 = m.b[0], *mu = m.mu;
	y[3] = -1;
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, wt, 4, 2, 1), SHD_EINVAL);
	EXPECT(m.mu == mu && m.nfeat == 2);
	EXPECT_SAME_DOUBLE(m.b[0], b0);
	shd_logit_release(&m);
}

/* shd_logit_set gives back the fitted model's probabilities exactly. */
static void test_set_round_trip(void)
{
	const size_t n = 1000;
	const double beta[4] = { -0.5, 0.6, 0.1, -0.9 };
	double *x = malloc(n * 3 * sizeof(*x)), *y = malloc(n * sizeof(*y));
	struct shd_logit m, s;

	draw(x, y, n, beta, 17);
	shd_logit_init(&m);
	shd_logit_init(&s);
	EXPECT_EQ_INT(shd_logit_fit(&m, x, y, NULL, n, 3, 0.5), 0);
	EXPECT_EQ_INT(shd_logit_set(&s, m.nfeat, m.mu, m.sd, m.b), 0);
	EXPECT_EQ_INT(s.nfeat, 3);
	EXPECT(s.mu != m.mu && s.b != m.b);	/* copies */
	for (size_t i = 0; i < n; i++)
		EXPECT_SAME_DOUBLE(shd_logit_prob(&s, x + 3 * i),
				   shd_logit_prob(&m, x + 3 * i));

	/* by hand: eta = 0.5 + 2 (6 - 2) / 4 = 2.5 */
	double mu = 2, sd = 4, b[2] = { 0.5, 2 }, v = 6;
	EXPECT_EQ_INT(shd_logit_set(&s, 1, &mu, &sd, b), 0);
	EXPECT_NEAR(shd_logit_prob(&s, &v), 1 / (1 + exp(-2.5)), 1e-15);
	v = NAN;
	EXPECT(isnan(shd_logit_prob(&s, &v)));
	/* no overflow far out: exact 0 and 1 in the limit */
	v = 1e300;
	EXPECT_SAME_DOUBLE(shd_logit_prob(&s, &v), 1.0);
	v = -1e300;
	EXPECT_SAME_DOUBLE(shd_logit_prob(&s, &v), 0.0);

	/* bad values leave S as it was */
	double bad = 0;
	EXPECT_EQ_INT(shd_logit_set(&s, 0, &mu, &sd, b), SHD_EINVAL);
	EXPECT_EQ_INT(shd_logit_set(&s, 1, &mu, &bad, b), SHD_EINVAL);
	bad = -1;
	EXPECT_EQ_INT(shd_logit_set(&s, 1, &mu, &bad, b), SHD_EINVAL);
	bad = INFINITY;
	EXPECT_EQ_INT(shd_logit_set(&s, 1, &mu, &bad, b), SHD_EINVAL);
	bad = NAN;
	EXPECT_EQ_INT(shd_logit_set(&s, 1, &bad, &sd, b), SHD_EINVAL);
	b[1] = INFINITY;
	EXPECT_EQ_INT(shd_logit_set(&s, 1, &mu, &sd, b), SHD_EINVAL);
	v = 6;
	EXPECT_NEAR(shd_logit_prob(&s, &v), 1 / (1 + exp(-2.5)), 1e-15);

	shd_logit_release(&m);
	shd_logit_release(&s);
	shd_logit_release(&s);	/* twice is harmless */
	free(x);
	free(y);
}

static const struct harness_case cases[] = {
	TEST(test_recovers_coefficients),
	TEST(test_binary_feature_rates),
	TEST(test_ridge_stationary),
	TEST(test_weights_are_copies),
	TEST(test_all_one_labels),
	TEST(test_separation),
	TEST(test_collinear),
	TEST(test_bad_input),
	TEST(test_set_round_trip),
};

int main(void)
{
	return RUN_TESTS(cases);
}
