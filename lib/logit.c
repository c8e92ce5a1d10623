/*
 * logit.c - L2-regularized logistic regression by IRLS (Newton's method),
 * each step a symmetric positive definite solve (LAPACKE dposv). The model
 * and the iteration are described in logit.h.
 *
 * Dimensions (logit.h): N rows, F features, K = F + 1 coefficients; B rows
 * per block of the Hessian product.
 *
 * The standardized design Z (N, K) is never stored: a row z = (1, (x - mu)
 * / sd) is formed when needed, so memory is O(N + K^2) beyond the data.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logit.h"

#define MAX_STEPS 100		/* Newton steps */
#define STEP_TOL 1e-8		/* converged when every |change of b| < this */
#define SEP_TOL 1e-10		/* a row is separated when P(its label) is
				 * within this of 1 */
#define MAX_HALVINGS 30		/* step halvings a Newton step may take */
#define RISE_TOL 1e-10		/* a rise of the objective below this
				 * (relative) is rounding, not a rise */
#define RCOND_MIN (64 * DBL_EPSILON) /* below: numerically singular */
#define B 256			/* rows per cblas_dsyrk */

/* 1 / (1 + exp(-t)), with no overflow for any t. */
static double sigmoid(double t)
{
	if (t >= 0)
		return 1 / (1 + exp(-t));
	double e = exp(t);
	return e / (1 + e);
}

/* log(1 + exp(t)), with no overflow and no loss for large |t|. */
static double softplus(double t)
{
	return (t > 0 ? t : 0) + log1p(exp(-fabs(t)));
}

static double weight(const double *wt, size_t i)
{
	return wt ? wt[i] : 1.0;
}

/* c[0] + sum_j c[j+1] (x[j] - mu[j]) / sd[j]: row x of Z times c (K). */
static double zdot(const struct shd_logit *m, const double *c /* (K) */,
		   const double *x /* (F) */)
{
	double s = c[0];

	for (size_t j = 0; j < m->nfeat; j++)
		s += c[j + 1] * ((x[j] - m->mu[j]) / m->sd[j]);
	return s;
}

/* The row z (K) of Z for row x (F). */
static void zrow(double *z /* (K) */, const struct shd_logit *m,
		 const double *x /* (F) */)
{
	z[0] = 1.0;
	for (size_t j = 0; j < m->nfeat; j++)
		z[j + 1] = (x[j] - m->mu[j]) / m->sd[j];
}

/* out (N) = Z c, the linear predictor of every row for coefficients c. */
static void zmul(double *out /* (N) */, const struct shd_logit *m,
		 const double *c /* (K) */, const double *x /* (N, F) */,
		 size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = zdot(m, c, x + i * m->nfeat);
}

/*
 * mu (F), sd (F) and b (K) in one allocation of 3F + 1 doubles, starting
 * at mu; NULL when out of memory (or F too large to count).
 */
static double *model_alloc(size_t nfeat)
{
	if (nfeat > (SIZE_MAX / sizeof(double) - 1) / 3)
		return NULL;
	return calloc(3 * nfeat + 1, sizeof(double));
}

/* Frees M's arrays and points M into BUF (from model_alloc). */
static void model_take(struct shd_logit *m, double *buf, size_t nfeat)
{
	free(m->mu);
	m->nfeat = nfeat;
	m->mu = buf;
	m->sd = buf + nfeat;
	m->b = buf + 2 * nfeat;
}

void shd_logit_init(struct shd_logit *m)
{
	memset(m, 0, sizeof(*m));
	m->deviance = NAN;
}

void shd_logit_release(struct shd_logit *m)
{
	free(m->mu);
	shd_logit_init(m);
}

double shd_logit_prob(const struct shd_logit *m, const double *x)
{
	return sigmoid(zdot(m, m->b, x));
}

int shd_logit_set(struct shd_logit *m, size_t nfeat, const double *mu,
		  const double *sd, const double *b)
{
	double *buf;

	if (nfeat == 0)
		return SHD_EINVAL;
	for (size_t j = 0; j < nfeat; j++)
		if (!isfinite(mu[j]) || !isfinite(sd[j]) || !(sd[j] > 0))
			return SHD_EINVAL;
	for (size_t j = 0; j <= nfeat; j++)
		if (!isfinite(b[j]))
			return SHD_EINVAL;
	if (!(buf = model_alloc(nfeat)))
		return SHD_ENOMEM;
	model_take(m, buf, nfeat);
	memcpy(m->mu, mu, nfeat * sizeof(*mu));
	memcpy(m->sd, sd, nfeat * sizeof(*sd));
	memcpy(m->b, b, (nfeat + 1) * sizeof(*b));
	m->iter = 0;
	m->deviance = NAN;
	return 0;
}

/* ------------------------------------------------------------- fitting */

/*
 * Checks the training data. Returns 0 and the weighted label mean in *YBAR,
 * or SHD_EINVAL.
 */
static int check_data(const double *x, const double *y, const double *wt,
		      size_t n, size_t nfeat, double *ybar)
{
	double sw = 0, swy = 0;

	for (size_t i = 0; i < n; i++) {
		double w = weight(wt, i);

		if (y[i] != 0 && y[i] != 1)
			return SHD_EINVAL;
		if (!isfinite(w) || w < 0)
			return SHD_EINVAL;
		for (size_t j = 0; j < nfeat; j++)
			if (!isfinite(x[i * nfeat + j]))
				return SHD_EINVAL;
		sw += w;
		swy += w * y[i];
	}
	if (!(sw > 0))
		return SHD_EINVAL;
	*ybar = swy / sw;	/* NaN when sw overflowed; caught later */
	return 0;
}

/*
 * mu[j], sd[j] of column j of x: the weighted mean (a running mean, so no
 * sum overflows) and the weighted population standard deviation, computed
 * on values scaled by their largest deviation. A column constant over the
 * rows of nonzero weight gets mu = that value, sd = 1, so its z is exactly
 * 0 (the two-pass sd of a constant column is rounding noise, not 0);
 * fixed[j+1] is then 1, else 0 (fixed[0], the intercept, 0).
 * Returns 0 or SHD_ENUMERIC (overflow).
 */
static int standardize(double *mu /* (F) */, double *sd /* (F) */,
		       double *fixed /* (K) */, const double *x,
		       const double *wt, size_t n, size_t nfeat)
{
	fixed[0] = 0;
	for (size_t j = 0; j < nfeat; j++) {
		double sw = 0, mean = 0, first = NAN, scale = 0, ss = 0;
		int constant = 1;

		for (size_t i = 0; i < n; i++) {
			double w = weight(wt, i), v = x[i * nfeat + j];

			if (w == 0)
				continue;
			if (sw == 0)
				first = v;
			else if (v != first)
				constant = 0;
			sw += w;
			mean += w / sw * (v - mean);
		}
		fixed[j + 1] = constant;
		if (constant) {
			mu[j] = first;
			sd[j] = 1.0;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			double d = fabs(x[i * nfeat + j] - mean);

			if (weight(wt, i) != 0)
				scale = fmax(scale, d);
		}
		for (size_t i = 0; i < n; i++) {
			double w = weight(wt, i);
			double d = (x[i * nfeat + j] - mean) / scale;

			if (w != 0)
				ss += w * d * d;
		}
		mu[j] = mean;
		sd[j] = scale * sqrt(ss / sw);
		if (!isfinite(mu[j]) || !isfinite(sd[j]) || !(sd[j] > 0))
			return SHD_ENUMERIC;
	}
	return 0;
}

/*
 * The penalized objective (minimized): -log-likelihood + lambda/2 times the
 * sum of the squared slopes, at coefficients b + t d, whose linear
 * predictor is eta + t zd. With D and ZD NULL, at b and eta.
 */
static double objective(const double *eta /* (N) */,
			const double *zd /* (N) or NULL */, double t,
			const double *y, const double *wt, size_t n,
			const double *b /* (K) */,
			const double *d /* (K) or NULL */, size_t K,
			double lambda)
{
	double nll = 0, pen = 0;

	for (size_t i = 0; i < n; i++) {
		double w = weight(wt, i);
		double e = zd ? eta[i] + t * zd[i] : eta[i];

		/* -log P(y | x): softplus(-eta) for y 1, softplus(eta) for 0 */
		if (w != 0)
			nll += w * softplus(y[i] != 0 ? -e : e);
	}
	for (size_t k = 1; k < K; k++) {
		double c = d ? b[k] + t * d[k] : b[k];
		pen += c * c;
	}
	return nll + lambda / 2 * pen;
}

/*
 * Counts the rows of nonzero weight (*NW) and those among them whose
 * probability of the wrong label is below SEP_TOL (returned).
 */
static size_t count_separated(const double *eta /* (N) */, const double *y,
			      const double *wt, size_t n, size_t *nw)
{
	size_t sep = 0;

	*nw = 0;
	for (size_t i = 0; i < n; i++) {
		if (weight(wt, i) == 0)
			continue;
		++*nw;
		/* P(wrong label), computed directly: no 1 - p cancellation */
		if (sigmoid(y[i] != 0 ? -eta[i] : eta[i]) < SEP_TOL)
			sep++;
	}
	return sep;
}

/* H(K,K) += A(r,K)^T A(r,K), upper triangle: R rows of BLK (B, K). */
static void syrk_add(double *H, const double *blk, size_t r, size_t K)
{
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)K, (int)r,
		    1.0, blk, (int)K, 1.0, H, (int)K);
}

/*
 * The Newton system at M's coefficients, whose linear predictor is ETA:
 * H (K, K; upper triangle) = Z^T W Z + lambda I' with W = diag(wt p (1-p)),
 * g (K) = Z^T wt (y - p) - lambda I' b. BLK (B, K) is scratch: rows
 * sqrt(wt p (1-p)) z, B at a time. The row and column of a FIXED
 * coefficient (a constant feature, z = 0) are 0, and g there is 0 (b is 0):
 * a 1 on its diagonal keeps H definite and that step 0 at any lambda.
 */
static void newton_system(double *H, double *g, double *blk,
			  const double *fixed /* (K) */,
			  const struct shd_logit *m, const double *x,
			  const double *y, const double *wt,
			  const double *eta /* (N) */, size_t n, double lambda)
{
	size_t K = m->nfeat + 1, r = 0;

	memset(H, 0, K * K * sizeof(*H));
	memset(g, 0, K * sizeof(*g));
	for (size_t i = 0; i < n; i++) {
		double w = weight(wt, i), *z = blk + r * K;

		if (w == 0)
			continue;
		/* p and 1 - p, each without cancellation */
		double p = sigmoid(eta[i]), q = sigmoid(-eta[i]);
		double res = w * (y[i] != 0 ? q : -p);	/* w (y - p) */
		double s = sqrt(w * p * q);

		zrow(z, m, x + i * m->nfeat);
		for (size_t k = 0; k < K; k++) {
			g[k] += res * z[k];
			z[k] *= s;
		}
		if (++r == B) {
			syrk_add(H, blk, r, K);
			r = 0;
		}
	}
	if (r > 0)
		syrk_add(H, blk, r, K);
	for (size_t k = 1; k < K; k++) {
		H[k * K + k] += lambda + fixed[k];
		g[k] -= lambda * m->b[k];
	}
}

/*
 * Solves H d = g in place (d lands in g) by Cholesky. H is positive
 * semidefinite by construction, so a failed Cholesky, or a reciprocal
 * condition number below RCOND_MIN, means numerically singular:
 * SHD_ENUMERIC. (LDL^T by dsysv would only return a solution as inaccurate
 * as the condition number says, so it is not tried.)
 */
static int solve(double *H /* (K, K) */, double *g /* (K) */, size_t K)
{
	lapack_int k = (lapack_int)K, info;
	double anorm, rcond = 0;

	anorm = LAPACKE_dlansy(LAPACK_ROW_MAJOR, '1', 'U', k, H, k);
	/* H = U^T U; g = H^-1 g */
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', k, 1, H, k, g, 1);
	if (info < 0)
		return SHD_EINVAL;	/* a bad argument: a bug here */
	if (info > 0)
		return SHD_ENUMERIC;
	info = LAPACKE_dpocon(LAPACK_ROW_MAJOR, 'U', k, H, k, anorm, &rcond);
	if (info != 0 || !(rcond >= RCOND_MIN))
		return SHD_ENUMERIC;
	for (size_t j = 0; j < K; j++)
		if (!isfinite(g[j]))
			return SHD_ENUMERIC;
	return 0;
}

/*
 * Newton iterations on T (standardization set, b the start) until
 * convergence or separation (logit.h). WORK holds eta (N), zd (N), H (K,K),
 * d (K), blk (B,K), then fixed (K) from standardize. Returns 0 or
 * SHD_ENUMERIC (SHD_EINVAL only for a bad LAPACK argument, a bug); T->iter
 * is set either way, and on 0 WORK starts with the linear predictor of T's
 * b.
 */
static int newton(struct shd_logit *t, double *work, const double *x,
		  const double *y, const double *wt, size_t n, double lambda)
{
	size_t K = t->nfeat + 1;
	double *eta = work, *zd = eta + n, *H = zd + n, *d = H + K * K;
	double *blk = d + K, *fixed = blk + B * K;
	double obj;

	zmul(eta, t, t->b, x, n);
	obj = objective(eta, NULL, 0, y, wt, n, t->b, NULL, K, lambda);
	for (t->iter = 0;; t->iter++) {
		size_t nw, nsep = count_separated(eta, y, wt, n, &nw);
		double step = 1, o = NAN, dmax = 0;
		int rc;

		if (nsep == nw)
			return 0;	/* complete separation */
		if (t->iter == MAX_STEPS)
			return nsep ? 0 : SHD_ENUMERIC;
		newton_system(H, d, blk, fixed, t, x, y, wt, eta, n, lambda);
		if ((rc = solve(H, d, K)) != 0)
			return nsep && rc == SHD_ENUMERIC ? 0 : rc;

		/* halve the step while the objective rises */
		zmul(zd, t, d, x, n);
		for (int h = 0;; h++) {
			o = objective(eta, zd, step, y, wt, n, t->b, d, K,
				      lambda);
			if (o <= obj + RISE_TOL * (1 + fabs(obj)))
				break;
			if (h == MAX_HALVINGS)
				return nsep ? 0 : SHD_ENUMERIC;
			step /= 2;
		}
		for (size_t k = 0; k < K; k++) {
			double c = step * d[k];

			t->b[k] += c;
			dmax = fmax(dmax, fabs(c));
		}
		obj = o;
		zmul(eta, t, t->b, x, n);
		if (dmax < STEP_TOL) {
			t->iter++;
			return 0;
		}
	}
}

int shd_logit_fit(struct shd_logit *m, const double *x, const double *y,
		  const double *wt, size_t n, size_t nfeat, double lambda)
{
	struct shd_logit t;
	double *buf = NULL, *work = NULL, ybar;
	size_t K = nfeat + 1, nwork;
	int rc;

	if (n == 0 || nfeat == 0 || !isfinite(lambda) || lambda < 0)
		return SHD_EINVAL;
	if ((rc = check_data(x, y, wt, n, nfeat, &ybar)) != 0)
		return rc;
	/*
	 * work: eta (N), zd (N), H (K,K), d (K), blk (B,K), fixed (K); K must
	 * fit the int of BLAS and LAPACK
	 */
	if (K > INT_MAX / B || n > (SIZE_MAX / sizeof(double)) / 4 ||
	    K > (SIZE_MAX / sizeof(double)) / 4 / K)
		return SHD_ENOMEM;
	nwork = 2 * n + K * K + 2 * K + B * K;
	if (!(buf = model_alloc(nfeat)) ||
	    !(work = malloc(nwork * sizeof(*work)))) {
		rc = SHD_ENOMEM;
		goto out;
	}
	t.nfeat = nfeat;
	t.mu = buf;
	t.sd = buf + nfeat;
	t.b = buf + 2 * nfeat;
	if ((rc = standardize(t.mu, t.sd, work + nwork - K, x, wt, n,
			      nfeat)) != 0)
		goto out;
	if (!isfinite(ybar)) {
		rc = SHD_ENUMERIC;
		goto out;
	}

	/* start: slopes 0, the intercept at the log-odds of the label mean */
	if (ybar <= 0)
		t.b[0] = -10;
	else if (ybar >= 1)
		t.b[0] = 10;
	else
		t.b[0] = fmin(fmax(log(ybar / (1 - ybar)), -10), 10);

	if ((rc = newton(&t, work, x, y, wt, n, lambda)) != 0)
		goto out;
	/* work starts with eta at the solution */
	t.deviance = 2 * objective(work, NULL, 0, y, wt, n, t.b, NULL, K, 0);
	model_take(m, buf, nfeat);
	m->iter = t.iter;
	m->deviance = t.deviance;
	buf = NULL;
out:
	free(work);
	free(buf);
	return rc;
}
