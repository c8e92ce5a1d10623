/*
 * logit.h - L2-regularized logistic regression fitted by IRLS (private to
 * libshd).
 *
 * Dimensions, here and in logit.c:
 *   N     rows of training data
 *   F     features per row (nfeat)
 *   K     coefficients, F + 1 (the intercept first)
 *
 * The model works on standardized features z[j] = (x[j] - mu[j]) / sd[j]:
 *
 *   P(y = 1 | x) = 1 / (1 + exp(-(b[0] + sum_j b[j+1] z[j])))
 *
 * and the fit maximizes the (weighted) log-likelihood minus a ridge on the
 * standardized slopes, the intercept free:
 *
 *   sum_i wt[i] log P(y[i] | x[i])  -  lambda/2 sum_{j>=1} b[j]^2
 *
 * by Newton's method (IRLS): each step solves the symmetric positive
 * definite system (Z^T W Z + lambda I') d = Z^T wt (y - p) - lambda I' b,
 * the same system as (Z^T W Z + lambda I') b' = Z^T W z' with the working
 * response z' = Z b + (y - p) / (p (1 - p)) and b' = b + d, written in the
 * step form so that no row divides by a vanishing p (1 - p). I' is the
 * identity with a 0 for the intercept, W = diag(wt p (1 - p)). A step that
 * would raise the penalized objective is halved until it does not (at most
 * 30 times).
 */
#ifndef SHD_LOGIT_H
#define SHD_LOGIT_H

#include <stddef.h>

#include "shd.h"

struct shd_logit {
	size_t nfeat;		/* F */
	double *mu, *sd;	/* (F) each: the standardization */
	double *b;		/* (K) b[0] intercept, b[j+1] for feature j */
	size_t iter;		/* Newton steps taken */
	double deviance;	/* -2 log-likelihood at the solution on the
				 * training data (weighted; no ridge term) */
};

/*
 * Makes M empty (nfeat 0, no arrays); shd_logit_release on it does nothing
 * harmful.
 */
void shd_logit_init(struct shd_logit *m);

/*
 * Frees M's arrays (mu, sd and b sit in one allocation, starting at mu)
 * and leaves M as after shd_logit_init.
 */
void shd_logit_release(struct shd_logit *m);

/*
 * Fits M on N rows of X (row-major, N x F), labels Y (each 0 or 1),
 * optional weights WT (N values, finite and >= 0, not all 0; NULL means 1
 * each) and ridge LAMBDA (finite, >= 0) on the standardized slopes.
 *
 * mu and sd are the weighted mean and weighted population standard
 * deviation (divisor sum wt) of each column, so a row of weight k fits
 * exactly as k copies of it. A column that is constant over the rows of
 * nonzero weight gets sd 1 (and mu that value), so its z is 0, and its
 * coefficient is held at 0 (at any LAMBDA; it is not a singular system).
 *
 * The iteration starts from b = 0 with the intercept at the log-odds of the
 * weighted label mean (kept within +-10) and stops, returning 0, when the
 * largest change of a b[j] in a step is < 1e-8.
 *
 * Separation. When rows can be separated by their labels the likelihood has
 * no maximum at LAMBDA = 0, and with all labels equal the free intercept has
 * none at any LAMBDA: coefficients grow by about one unit a step. The fit
 * then also stops and returns 0, with the last iterate (finite), when
 *  - every row of nonzero weight has a fitted probability within 1e-10 of
 *    its label (complete separation, all labels equal), or
 *  - some row does, and the next step cannot be taken (the system is
 *    numerically singular) or 100 steps have been taken (quasi-complete
 *    separation).
 * Such a model reproduces the separated training labels to within 1e-10; its
 * coefficients are finite but not estimates of anything.
 *
 * Returns 0; SHD_EINVAL when N or F is 0, a feature is not finite, a label
 * is not 0 or 1, a weight is negative or not finite, all weights are 0, or
 * LAMBDA is negative or not finite; SHD_ENOMEM; SHD_ENUMERIC when a system
 * is singular (for example two identical features with LAMBDA = 0), the
 * standardization overflows, or there is no convergence in 100 steps
 * without separation. On failure M is not changed; on success its previous
 * arrays are freed and M holds the fit (M must have been initialized).
 */
int shd_logit_fit(struct shd_logit *m, const double *x /* (N, F) */,
		  const double *y /* (N) */, const double *wt /* (N) or NULL */,
		  size_t n, size_t nfeat, double lambda);

/*
 * P(y = 1) for one row X (F values) under M; NaN when a value of X is NaN.
 * Computed without overflow for any finite linear predictor.
 */
double shd_logit_prob(const struct shd_logit *m, const double *x /* (F) */);

/*
 * Sets M up from stored values (a model read back from a file), copying MU
 * and SD (F each) and B (K); iter and deviance become 0 and NaN. Returns 0,
 * SHD_EINVAL (F is 0, a value is not finite, or an sd is <= 0) or
 * SHD_ENOMEM; on failure M is not changed, on success its previous arrays
 * are freed.
 */
int shd_logit_set(struct shd_logit *m, size_t nfeat, const double *mu,
		  const double *sd, const double *b);

#endif
