/*
 * baseline.c - the forecasts a learned model has to beat: last value,
 * seasonal naive, and a linear autoregression per horizon step fitted by
 * ridge least squares (normal equations, LAPACKE dposv); and the mean
 * absolute scaled error.
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
 * Features. Column j of an equation: the lags x[t]-x[t-j-1] for j < p-1
 * (the same for every step h), then the seasonal values sn_D - x[t] and
 * sn_W - x[t] when used (they depend on h), then the intercept 1.
 */

/* The p-1 lags of origin t and the intercept after them, into f (p); 0
 * when one cannot be formed (NaN or infinite, or not enough history). */
static int lag_row(const double *x, size_t t, size_t p, double *f)
{
	double xt = x[t];

	if (!isfinite(xt) || t + 1 < p)
		return 0;
	for (size_t l = 1; l < p; l++) {
		double v = x[t - l];
		if (!isfinite(v))
			return 0;
		f[l - 1] = xt - v;
	}
	f[p - 1] = 1.0;
	return 1;
}

/* The seasonal features of origin t for step h into s (0..2 values). */
static int season_row(const struct shd_ar *ar, const double *x, size_t t,
		      size_t h, double *s)
{
	size_t j = 0;

	if (ar->day) {
		double v = snaive1(x, t, h, ar->day);
		if (!isfinite(v))
			return 0;
		s[j++] = v - x[t];
	}
	if (ar->week) {
		double v = snaive1(x, t, h, ar->week);
		if (!isfinite(v))
			return 0;
		s[j++] = v - x[t];
	}
	return 1;
}

/* All k features of origin t for step h into f, in coefficient order. */
static int ar_features(const struct shd_ar *ar, const double *x, size_t t,
		       size_t h, double *f /* (k) */)
{
	size_t nl = ar->p - 1, ns = ar->k - ar->p;
	double s[2] = { 0, 0 };	/* ns = !!day + !!week of them set */

	if (!lag_row(x, t, ar->p, f) || !season_row(ar, x, t, h, s))
		return 0;
	/* lag_row put the intercept at f[nl]: it goes behind the seasons */
	for (size_t j = 0; j < ns && j < 2; j++)
		f[nl + j] = s[j];
	f[ar->k - 1] = 1.0;
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
 * One step's normal equations: G (k, k; upper triangle, column-major) =
 * A^T A and g = A^T b over the m windows. Solves the ridge problem
 *   min || A D^-1 c - b ||^2 + lambda || c ||^2,   coef = D^-1 c
 * with D the columns' norms (sqrt of G's diagonal; 1 for an all-zero
 * column, which only its ridge then pins to 0), so that features in bytes
 * and the intercept's 1 meet on equal terms and the penalty on a
 * coefficient is lambda times its feature's energy. Cholesky (dposv);
 * G and g are overwritten.
 */
static int ar_solve(double *coef, double *G, double *g, size_t k,
		    double lambda)
{
	double scale[64], *s = scale;
	int rc = 0;

	if (k > sizeof(scale) / sizeof(scale[0])) {
		s = malloc(k * sizeof(*s));
		if (!s)
			return SHD_ENOMEM;
	}
	for (size_t j = 0; j < k; j++)
		s[j] = G[j * k + j] > 0 ? sqrt(G[j * k + j]) : 1.0;
	for (size_t j = 0; j < k; j++) {
		for (size_t i = 0; i <= j; i++)
			G[j * k + i] /= s[i] * s[j];
		G[j * k + j] += lambda;
		g[j] /= s[j];
	}
	lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', (lapack_int)k,
					1, G, (lapack_int)k, g, (lapack_int)k);
	if (info > 0)
		rc = SHD_ENUMERIC;	/* not definite: only with lambda 0 */
	else if (info < 0)
		rc = SHD_EINVAL;	/* a bad argument: a bug here */
	for (size_t j = 0; j < k; j++) {
		coef[j] = rc ? 0.0 : g[j] / s[j];
		if (!isfinite(coef[j]))
			rc = SHD_ENUMERIC;
	}
	if (s != scale)
		free(s);
	return rc;
}

/* G (ld) += f f^T on the upper triangle of rows/columns idx[0..n-1]. */
static void add_outer(double *G, size_t ld, const double *f,
		      const size_t *idx, size_t n)
{
	for (size_t b = 0; b < n; b++) {
		double fb = f[b], *col = G + idx[b] * ld;
		for (size_t a = 0; a <= b; a++)
			col[idx[a]] += f[a] * fb;
	}
}

/*
 * The fit builds each step's normal equations instead of a QR of its
 * windows: the lag block of A^T A, the same for every step, is summed once
 * over the windows every step uses, and each step adds only its few own
 * windows (the last origins, the ones next to a NaN), its seasonal columns
 * and its targets. Some twenty times faster than a dgels per step, which
 * matters at fleet scale (tens of thousands of series).
 */
int shd_ar_fit(struct shd_ar *ar, const double *x, size_t n_train, size_t H,
	       size_t p, size_t day, size_t week, double lambda)
{
	double *Gs = NULL, *G = NULL, *g = NULL, *f = NULL;
	size_t *idx = NULL;
	unsigned char *every = NULL;
	size_t k, nl, ns;
	int rc = 0;

	memset(ar, 0, sizeof(*ar));
	if (H == 0 || p == 0 || !(lambda >= 0) || !isfinite(lambda))
		return SHD_EINVAL;
	ar->H = H;
	ar->p = p;
	/* a season is worth a feature only with a season of windows */
	ar->day = day && n_train >= 2 * day ? day : 0;
	ar->week = week && n_train >= 2 * week ? week : 0;
	nl = p - 1;
	ns = !!ar->day + !!ar->week;
	k = ar->k = nl + ns + 1;

	ar->coef = calloc(H * k, sizeof(*ar->coef));
	ar->nfit = calloc(H, sizeof(*ar->nfit));
	Gs = calloc(k * k, sizeof(*Gs));
	G = malloc(k * k * sizeof(*G));
	g = malloc(k * sizeof(*g));
	idx = malloc(p * sizeof(*idx));
	every = calloc(n_train ? n_train : 1, 1);
	/* the lag rows of every origin, formed once (row t at f + t * p) */
	f = n_train ? malloc(n_train * p * sizeof(*f)) : NULL;
	if (!ar->coef || !ar->nfit || !Gs || !G || !g || !idx || !every ||
	    (n_train && !f)) {
		rc = SHD_ENOMEM;
		goto out;
	}
	/* the lag columns and the intercept, as columns of G */
	for (size_t j = 0; j < nl; j++)
		idx[j] = j;
	idx[nl] = k - 1;
	/* every[t]: 1 when origin t's lags are there, 2 when every step
	 * uses its window too */
	for (size_t t = p - 1; t + 1 < n_train; t++)
		every[t] = (unsigned char)lag_row(x, t, p, f + t * p);

	/* windows every step uses: their lag block, once */
	for (size_t t = p - 1; t + H < n_train; t++) {
		double s[2];
		int all = every[t];
		for (size_t h = 1; all && h <= H; h++)
			all = isfinite(x[t + h] - x[t]) &&
			      season_row(ar, x, t, h, s);
		if (all) {
			every[t] = 2;
			add_outer(Gs, k, f + t * p, idx, p);
		}
	}
	for (size_t h = 1; h <= H && rc == 0; h++) {
		size_t m = 0;

		memcpy(G, Gs, k * k * sizeof(*G));
		memset(g, 0, k * sizeof(*g));
		/* origins t = p-1 .. n_train-1-h: target x[t+h] in range */
		for (size_t t = p - 1; t + h < n_train; t++) {
			double y = x[t + h] - x[t], s[2];
			const double *ft = f + t * p;
			if (!every[t] || !isfinite(y) ||
			    !season_row(ar, x, t, h, s))
				continue;
			if (every[t] != 2)
				add_outer(G, k, ft, idx, p);
			/* the seasonal columns nl.. against all before them */
			for (size_t c = 0; c < ns; c++) {
				double *col = G + (nl + c) * k;
				for (size_t j = 0; j < nl; j++)
					col[j] += s[c] * ft[j];
				for (size_t d = 0; d <= c; d++)
					col[nl + d] += s[c] * s[d];
			}
			/* the intercept's column: its rows nl.. */
			for (size_t c = 0; c < ns; c++)
				G[(k - 1) * k + nl + c] += s[c];
			for (size_t j = 0; j < nl; j++)
				g[j] += ft[j] * y;
			for (size_t c = 0; c < ns; c++)
				g[nl + c] += s[c] * y;
			g[k - 1] += y;
			m++;
		}
		ar->nfit[h - 1] = m;
		if (m == 0)
			continue;	/* no window: zero coefficients */
		rc = ar_solve(ar->coef + (h - 1) * k, G, g, k, lambda);
	}
out:
	free(Gs);
	free(G);
	free(g);
	free(f);
	free(idx);
	free(every);
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
