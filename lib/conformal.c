/*
 * conformal.c - split-conformal prediction intervals, the confidence drawn
 * from them, interval coverage, and a robust center and scale of a series.
 *
 * Split conformal (Vovk et al.; Lei et al. 2018, "Distribution-free
 * predictive inference for regression"): with m absolute residuals of a
 * fixed forecaster on calibration data it did not see in training, the
 * ceil((m+1) c)-th smallest one, q, makes pred +- q cover a new value with
 * probability at least c whenever calibration and new residuals are
 * exchangeable; and at most c + 1/(m+1) when there are no ties.
 */
#include <math.h>
#include <stdlib.h>

#include "forecast.h"

/*
 * The K-th smallest (0-based) of v[0..n-1], K < n, reordering v
 * (quickselect with a median-of-three pivot; expected O(n)).
 */
static double kth_smallest(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		double a = v[lo], b = v[mid], c = v[hi], pivot;

		pivot = a < b ? (b < c ? b : (a < c ? c : a))
			      : (a < c ? a : (b < c ? c : b));
		/* Hoare partition: [lo, j] <= pivot <= [i, hi] */
		size_t i = lo, j = hi;
		for (;;) {
			/* the pivot is in [lo, hi]: i and j stop at it */
			/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
			while (v[i] < pivot)
				i++;
			/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
			while (v[j] > pivot)
				j--;
			if (i >= j)
				break;
			double tmp = v[i];
			v[i] = v[j];
			v[j] = tmp;
			i++;
			j--;
		}
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
	return v[k];
}

/* A copy of the non-NaN |x[i]| (ABS) or x[i] into *out; their count. */
static int copy_finite(const double *x, size_t n, int abs_, double **out,
		       size_t *m)
{
	double *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return SHD_ENOMEM;
	*m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i]))
			v[(*m)++] = abs_ ? fabs(x[i]) : x[i];
	*out = v;
	return 0;
}

int shd_conformal_quantile(const double *r, size_t n, double c, double *q)
{
	double *v;
	size_t m;
	int rc;

	*q = NAN;
	if (!(c > 0 && c < 1))
		return SHD_EINVAL;
	rc = copy_finite(r, n, 1, &v, &m);
	if (rc)
		return rc;
	/*
	 * rank = ceil((m+1) c), 1-based. The small slack keeps a product
	 * that should be a whole number (100 * 0.9) from rounding up to the
	 * next rank.
	 */
	double rank = ceil((double)(m + 1) * c - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > (double)m)
		*q = INFINITY;
	else
		*q = kth_smallest(v, m, (size_t)rank - 1);
	free(v);
	return 0;
}

void shd_conformal_interval(double *lo, double *hi, const double *pred,
			    size_t n, double q)
{
	for (size_t i = 0; i < n; i++) {
		lo[i] = pred[i] - q;
		hi[i] = pred[i] + q;
	}
}

double shd_confidence(double q, double s)
{
	if (isnan(q) || isnan(s) || !(s > 0))
		return NAN;
	if (isinf(q))
		return 0.0;
	return 1.0 / (1.0 + fabs(q) / s);
}

double shd_coverage(const double *actual, const double *lo, const double *hi,
		    size_t n)
{
	size_t in = 0, cnt = 0;

	for (size_t i = 0; i < n; i++) {
		if (isnan(actual[i]))
			continue;
		cnt++;
		in += lo[i] <= actual[i] && actual[i] <= hi[i];
	}
	return cnt ? (double)in / (double)cnt : NAN;
}

/* Median of v[0..m-1], m > 0, reordering v. */
static double median(double *v, size_t m)
{
	double hi = kth_smallest(v, m, m / 2);

	if (m % 2)
		return hi;
	/* after the select, v[0..m/2-1] <= hi: the lower middle is their max */
	double lo = v[0];
	for (size_t i = 1; i < m / 2; i++)
		if (v[i] > lo)
			lo = v[i];
	return lo + (hi - lo) / 2;
}

int shd_robust_center_scale(const double *x, size_t n, double *center,
			    double *scale)
{
	double *v, med, mad, floor_;
	size_t m;
	int rc;

	*center = *scale = NAN;
	rc = copy_finite(x, n, 0, &v, &m);
	if (rc)
		return rc;
	if (m == 0) {
		free(v);
		return SHD_EINVAL;
	}
	med = median(v, m);
	for (size_t i = 0; i < m; i++)
		v[i] = fabs(v[i] - med);
	mad = median(v, m);
	free(v);
	/* 1.4826 = 1 / Phi^-1(3/4): the MAD of a Gaussian is 0.6745 sigma */
	floor_ = fmax(1e-9 * fabs(med), 1e-12);
	*center = med;
	*scale = fmax(1.4826 * mad, floor_);
	return 0;
}
