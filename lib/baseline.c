/*
 * baseline.c - the forecasts a learned model has to beat: last value,
 * seasonal naive, and a linear autoregression per horizon step fitted by
 * least squares (LAPACKE dgels); and the mean absolute scaled error.
 *
 * Dimensions (forecast.h): x[0..t] the history, H the horizon, P a season,
 * p values per AR window, k AR coefficients per step, m training windows.
 */
#include <assert.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

void shd_last_value(double *out, const double *x, size_t t, size_t H)
{
	double v = NAN;

	for (size_t i = t + 1; i-- > 0;)
		if (!isnan(x[i])) {
			v = x[i];
			break;
		}
	for (size_t h = 0; h < H; h++)
		out[h] = v;
}

/* The seasonal-naive forecast of x[t+h] (h >= 1) with period P. */
static double snaive1(const double *x, size_t t, size_t h, size_t P)
{
	size_t k = (h + P - 1) / P;	/* smallest k >= 1 with h - kP <= 0 */
	size_t back = k * P - h;	/* t+h-kP = t - back */

	if (back > t)
		return NAN;
	for (size_t i = t - back;; i -= P) {
		if (!isnan(x[i]))
			return x[i];
		if (i < P)
			return NAN;
	}
}

void shd_seasonal_naive(double *out, const double *x, size_t t, size_t H,
			size_t P)
{
	assert(P > 0);
	for (size_t h = 1; h <= H; h++)
		out[h - 1] = snaive1(x, t, h, P);
}

/* ------------------------------------------------------- autoregression */

/*
 * The features of origin t for step h into f (k): x[t]-x[t-j] for
 * j = 1..p-1, then sn_D - x[t], sn_W - x[t] when used, then 1. Returns 0
 * when one cannot be formed (NaN or infinite, or not enough history).
 */
static int ar_features(const struct shd_ar *ar, const double *x, size_t t,
		       size_t h, double *f /* (k) */)
{
	double xt = x[t];
	size_t j = 0;

	if (!isfinite(xt) || t + 1 < ar->p)
		return 0;
	for (size_t l = 1; l < ar->p; l++) {
		double v = x[t - l];
		if (!isfinite(v))
			return 0;
		f[j++] = xt - v;
	}
	if (ar->day) {
		double v = snaive1(x, t, h, ar->day);
		if (!isfinite(v))
			return 0;
		f[j++] = v - xt;
	}
	if (ar->week) {
		double v = snaive1(x, t, h, ar->week);
		if (!isfinite(v))
			return 0;
		f[j++] = v - xt;
	}
	f[j++] = 1.0;
	assert(j == ar->k);
	return 1;
}

void shd_ar_release(struct shd_ar *ar)
{
	free(ar->coef);
	free(ar->nfit);
	ar->coef = NULL;
	ar->nfit = NULL;
}

/*
 * One step h: A (lda, k) column-major holds the m windows' features, b (lda)
 * their targets; rows m..m+k-1 are free for the ridge. Solves in place and
 * writes the k coefficients to coef.
 */
static int ar_solve(double *coef, double *A, double *b, size_t lda, size_t m,
		    size_t k, double lambda)
{
	double scale[64], *s = scale;
	int rc = 0;

	if (k > sizeof(scale) / sizeof(scale[0])) {
		s = malloc(k * sizeof(*s));
		if (!s)
			return SHD_ENOMEM;
	}
	/*
	 * Scale each column to unit norm, so that features in bytes and the
	 * intercept's 1 meet the QR on equal terms, and the ridge
	 * sqrt(lambda) I below is lambda times each feature's energy in the
	 * original units. An all-zero column (a constant series) keeps scale
	 * 1: its ridge row alone pins its coefficient to 0.
	 */
	for (size_t j = 0; j < k; j++) {
		double *col = A + j * lda, ss = 0;
		for (size_t i = 0; i < m; i++)
			ss += col[i] * col[i];
		s[j] = ss > 0 ? sqrt(ss) : 1.0;
		for (size_t i = 0; i < m; i++)
			col[i] /= s[j];
		/* ridge row m+j: sqrt(lambda) e_j, target 0 */
		for (size_t i = m; i < m + k; i++)
			col[i] = i - m == j ? sqrt(lambda) : 0.0;
	}
	for (size_t i = m; i < m + k; i++)
		b[i] = 0.0;

	/* min || A(m+k, k) c - b(m+k) ||_2 by QR; c lands in b[0..k-1] */
	lapack_int info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'N',
					(lapack_int)(m + k), (lapack_int)k, 1,
					A, (lapack_int)lda, b, (lapack_int)lda);
	if (info > 0)
		rc = SHD_ENUMERIC;	/* rank deficient: only with lambda 0 */
	else if (info < 0)
		rc = SHD_EINVAL;	/* a bad argument: a bug here */
	for (size_t j = 0; j < k; j++) {
		coef[j] = rc ? 0.0 : b[j] / s[j];
		if (!isfinite(coef[j]))
			rc = SHD_ENUMERIC;
	}
	if (s != scale)
		free(s);
	return rc;
}

int shd_ar_fit(struct shd_ar *ar, const double *x, size_t n_train, size_t H,
	       size_t p, size_t day, size_t week, double lambda)
{
	double *A = NULL, *b = NULL, *f = NULL;
	size_t lda;
	int rc = 0;

	memset(ar, 0, sizeof(*ar));
	if (H == 0 || p == 0 || !(lambda >= 0) || !isfinite(lambda))
		return SHD_EINVAL;
	ar->H = H;
	ar->p = p;
	/* a season is worth a feature only with a season of windows */
	ar->day = day && n_train >= 2 * day ? day : 0;
	ar->week = week && n_train >= 2 * week ? week : 0;
	ar->k = (p - 1) + !!ar->day + !!ar->week + 1;

	lda = n_train + ar->k;
	ar->coef = calloc(H * ar->k, sizeof(*ar->coef));
	ar->nfit = calloc(H, sizeof(*ar->nfit));
	A = malloc(lda * ar->k * sizeof(*A));
	b = malloc(lda * sizeof(*b));
	f = malloc(ar->k * sizeof(*f));
	if (!ar->coef || !ar->nfit || !A || !b || !f) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t h = 1; h <= H && rc == 0; h++) {
		size_t m = 0;

		/* origins t = p-1 .. n_train-1-h: target x[t+h] in range */
		for (size_t t = p - 1; t + h < n_train; t++) {
			double y = x[t + h] - x[t];
			if (!isfinite(y) || !ar_features(ar, x, t, h, f))
				continue;
			for (size_t j = 0; j < ar->k; j++)
				A[m + j * lda] = f[j];	/* A(m, j) */
			b[m++] = y;
		}
		ar->nfit[h - 1] = m;
		if (m == 0)
			continue;	/* no window: zero coefficients */
		rc = ar_solve(ar->coef + (h - 1) * ar->k, A, b, lda, m, ar->k,
			      lambda);
	}
out:
	free(A);
	free(b);
	free(f);
	return rc;
}

void shd_ar_predict(const struct shd_ar *ar, const double *x, size_t t,
		    double *out)
{
	double fbuf[64], *f = fbuf;

	if (ar->k > sizeof(fbuf) / sizeof(fbuf[0])) {
		f = malloc(ar->k * sizeof(*f));
		if (!f) {	/* only with p > 60: say NaN, not garbage */
			for (size_t h = 0; h < ar->H; h++)
				out[h] = NAN;
			return;
		}
	}
	for (size_t h = 1; h <= ar->H; h++) {
		const double *c = ar->coef + (h - 1) * ar->k;
		double y = 0;

		if (!ar_features(ar, x, t, h, f)) {
			out[h - 1] = NAN;
			continue;
		}
		for (size_t j = 0; j < ar->k; j++)
			y += c[j] * f[j];
		out[h - 1] = x[t] + y;
	}
	if (f != fbuf)
		free(f);
}

/* ------------------------------------------------------------- measures */

double shd_mase_scale(const double *x, size_t n, size_t P)
{
	double sum = 0;
	size_t cnt = 0;

	if (P == 0 || n < 2 * P)
		P = 1;
	for (size_t i = P; i < n; i++) {
		double d = x[i] - x[i - P];
		if (!isnan(d)) {
			sum += fabs(d);
			cnt++;
		}
	}
	return cnt ? sum / (double)cnt : NAN;
}

double shd_mase(const double *actual, const double *pred, size_t n,
		double scale)
{
	double sum = 0;
	size_t cnt = 0;

	if (!(scale > 0) || !isfinite(scale))
		return NAN;
	for (size_t i = 0; i < n; i++) {
		double e = actual[i] - pred[i];
		if (!isnan(e)) {
			sum += fabs(e);
			cnt++;
		}
	}
	return cnt ? sum / (double)cnt / scale : NAN;
}
