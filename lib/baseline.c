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
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

/* windows of the lag block below which add_outer beats a dsyrk call */
#define RUN_BLAS 64

/* reweighted solves of the Huber fit */
#define HUBER_ITERS 3

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

/* The k features into f from the lag row LAG (p; lag_row's, may be f
 * itself) and the seasonal values S (season_row's), in coefficient order.
 * A seasonal value outside the range training saw counts as 0. */
static void put_features(const struct shd_ar *ar, const double *lag,
			 const double *s, double *f /* (k) */)
{
	size_t nl = ar->p - 1, ns = ar->k - ar->p;

	if (lag != f)
		memcpy(f, lag, nl * sizeof(*f));
	/* lag_row put the intercept at lag[nl]: it goes behind the seasons */
	for (size_t j = 0; j < ns && j < 2; j++) {
		/* s[0] is the week's when the day is not used */
		const double *r = ar->srange[j == 0 && ar->day ? 0 : 1];
		f[nl + j] = s[j] >= r[0] && s[j] <= r[1] ? s[j] : 0.0;
	}
	f[ar->k - 1] = 1.0;
}

/* All k features of origin t for step h into f, in coefficient order. */
static int ar_features(const struct shd_ar *ar, const double *x, size_t t,
		       size_t h, double *f /* (k) */)
{
	double s[2] = { 0, 0 };	/* !!day + !!week of them set */

	if (!lag_row(x, t, ar->p, f) || !season_row(ar, x, t, h, s))
		return 0;
	put_features(ar, f, s, f);
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
static int ar_fit_ls(struct shd_ar *ar, const double *x, size_t n_train,
		     size_t H, size_t p, size_t day, size_t week,
		     double lambda, double **keep)
{
	double *Gs = NULL, *Gl = NULL, *G = NULL, *g = NULL, *f = NULL;
	size_t *idx = NULL;
	unsigned char *every = NULL;
	size_t k, nl, ns;
	int rc = 0;

	memset(ar, 0, sizeof(*ar));
	if (keep)
		*keep = NULL;
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
	Gl = calloc(p * p, sizeof(*Gl));
	G = malloc(k * k * sizeof(*G));
	g = malloc(k * sizeof(*g));
	idx = malloc(p * sizeof(*idx));
	every = calloc(n_train ? n_train : 1, 1);
	/* the lag rows of every origin, formed once (row t at f + t * p) */
	f = n_train ? malloc(n_train * p * sizeof(*f)) : NULL;
	if (keep)
		*keep = malloc(H * k * k * sizeof(**keep));
	if (!ar->coef || !ar->nfit || !Gs || !Gl || !G || !g || !idx ||
	    !every || (n_train && !f) || (keep && !*keep)) {
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

	/* windows every step uses: their lag block, once; a run of them
	 * (the lag rows are consecutive in f) by one dsyrk into Gl */
	size_t run = 0;
	for (size_t t = p - 1; t + H <= n_train; t++) {
		double s[2];
		int all = t + H < n_train && every[t];
		for (size_t h = 1; all && h <= H; h++)
			all = isfinite(x[t + h] - x[t]) &&
			      season_row(ar, x, t, h, s);
		if (all) {
			every[t] = 2;
			run++;
			continue;
		}
		if (run >= RUN_BLAS)
			/* Gl(p,p) += F^T F, F the run's rows (row-major: a
			 * column-major p x run) */
			cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans,
				    (int)p, (int)run, 1.0, f + (t - run) * p,
				    (int)p, 1.0, Gl, (int)p);
		else
			for (size_t u = t - run; u < t; u++)
				add_outer(Gs, k, f + u * p, idx, p);
		run = 0;
	}
	for (size_t b = 0; b < p; b++)
		for (size_t a = 0; a <= b; a++)
			Gs[idx[b] * k + idx[a]] += Gl[b * p + a];
	/* the seasonal features' ranges: (lo, hi) = (inf, -inf) until a
	 * window shows one */
	double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
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
			for (size_t c = 0; c < ns; c++) {
				if (s[c] < lo[c])
					lo[c] = s[c];
				if (s[c] > hi[c])
					hi[c] = s[c];
			}
			m++;
		}
		ar->nfit[h - 1] = m;
		if (m == 0)
			continue;	/* no window: zero coefficients */
		if (keep)	/* A^T A before ar_solve factors it */
			memcpy(*keep + (h - 1) * k * k, G, k * k * sizeof(*G));
		rc = ar_solve(ar->coef + (h - 1) * k, G, g, k, lambda);
	}
	for (size_t c = 0; c < ns; c++) {
		/* column c is the day's when the day is used */
		size_t j = c == 0 && ar->day ? 0 : 1;
		ar->srange[j][0] = lo[c] <= hi[c] ? lo[c] : 0;
		ar->srange[j][1] = lo[c] <= hi[c] ? hi[c] : 0;
	}
out:
	free(Gs);
	free(Gl);
	free(G);
	free(g);
	free(f);
	free(idx);
	free(every);
	return rc;
}

int shd_ar_fit(struct shd_ar *ar, const double *x, size_t n_train, size_t H,
	       size_t p, size_t day, size_t week, double lambda)
{
	return ar_fit_ls(ar, x, n_train, H, p, day, week, lambda, NULL);
}

/* The K-th smallest (0-based) of A (N > K, no NaN), which it reorders:
 * Wirth's selection, linear time on average where a sort is N log N. */
static double select_kth(double *a, size_t n, size_t k)
{
	ptrdiff_t l = 0, r = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (l < r) {
		double x = a[kk];
		ptrdiff_t i = l, j = r;
		do {
			while (a[i] < x)
				i++;
			while (x < a[j])
				j--;
			if (i <= j) {
				double t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			r = j;
	}
	return a[kk];
}

/*
 * The robust scale of residuals R (M): 1.4826 times their median absolute
 * value (the upper median); when more than half of them are 0 (a series
 * idle but for bursts), 1.2533 times their mean absolute value; 0 when
 * every one is. ABS_ (M) is scratch.
 */
static double resid_scale(const double *r, size_t m, double *abs_)
{
	double sum = 0, med;

	if (m == 0)
		return 0;
	for (size_t i = 0; i < m; i++) {
		abs_[i] = fabs(r[i]);
		sum += abs_[i];
	}
	med = select_kth(abs_, m, m / 2);
	if (med > 0)
		return 1.4826 * med;
	return 1.2533 * sum / (double)m;
}

/* a . b over K, in four sums so that the adds need not wait on each other */
static double dot(const double *a, const double *b, size_t k)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t j = 0;

	for (; j + 4 <= k; j += 4) {
		s0 += a[j] * b[j];
		s1 += a[j + 1] * b[j + 1];
		s2 += a[j + 2] * b[j + 2];
		s3 += a[j + 3] * b[j + 3];
	}
	for (; j < k; j++)
		s0 += a[j] * b[j];
	return (s0 + s1) + (s2 + s3);
}

/*
 * One row of the reweighting: D (K) = d * A (K), the row as it leaves
 * A^T A, and G (K) += wy * A. Unrolled by two with restrict so that the
 * compiler pairs the doubles (a plain loop stays scalar at -O2).
 */
static void weigh_row(double *restrict dst, double *restrict g,
		      const double *restrict a, double d, double wy, size_t k)
{
	size_t j = 0;

	for (; j + 2 <= k; j += 2) {
		dst[j] = a[j] * d;
		dst[j + 1] = a[j + 1] * d;
		g[j] += a[j] * wy;
		g[j + 1] += a[j + 1] * wy;
	}
	for (; j < k; j++) {
		dst[j] = a[j] * d;
		g[j] += a[j] * wy;
	}
}

/*
 * Huber regression of one step by iteratively reweighted least squares:
 * the windows' features A (M, K; row-major) and targets Y (M); COEF (K)
 * holds the least-squares start and gets the result; GLS (K, K; upper,
 * column-major) is A^T A, the least-squares fit's. Each pass takes the
 * residuals' robust scale s, weighs window i by w_i = min(1, C s / |r_i|),
 * and solves the weighted ridge problem as ar_solve does. A^T W A is
 * formed as A^T A less (1 - w_i) a_i a_i^T over the windows weighed down
 * only (some 60% of them at the usual C), one dsyrk of those rows. At
 * most HUBER_ITERS passes (three: six, the fixed point's neighbourhood,
 * cost twice as much and moved bench-forecast by less than its noise; two
 * leave too much of the spikes' pull in unit-arrobust); it stops early
 * when the residuals moved by less than 1e-3 s on average. W (M, K + 3) is
 * scratch.
 */
static int huber_step(double *coef, const double *A, const double *y,
		      size_t m, size_t k, double lambda, double c,
		      const double *Gls, double *G /* (k, k) */,
		      double *g /* (k) */, double *w)
{
	double *Ad = w, *r = w + m * k, *abs_ = r + m, *prev = abs_ + m;

	for (int it = 0; it < HUBER_ITERS; it++) {
		double s;
		size_t md = 0;

		/* r(M) = y(M) - A(M,K) coef(K): a loop, where a dgemv of
		 * this size would wake BLAS's threads for little work */
		for (size_t i = 0; i < m; i++)
			r[i] = y[i] - dot(A + i * k, coef, k);
		s = resid_scale(r, m, abs_);
		if (!(s > 0) || !isfinite(s))
			return 0;	/* an exact fit: nothing to reweigh */
		if (it > 0) {
			double moved = 0;
			for (size_t i = 0; i < m; i++)
				moved += fabs(r[i] - prev[i]);
			if (moved < 1e-3 * s * (double)m)
				return 0;
		}
		memcpy(prev, r, m * sizeof(*prev));
		/* g(K) = A^T W y; Ad (md, K) = the rows weighed down, times
		 * sqrt(1 - w_i) */
		memset(g, 0, k * sizeof(*g));
		for (size_t i = 0; i < m; i++) {
			double a = fabs(r[i]), wi = 1.0;
			if (a > c * s) {
				wi = c * s / a;
				weigh_row(Ad + md * k, g, A + i * k,
					  sqrt(1.0 - wi), wi * y[i], k);
				md++;
			} else {
				for (size_t j = 0; j < k; j++)
					g[j] += A[i * k + j] * y[i];
			}
		}
		/* G(K,K) = A^T A - Ad^T Ad = A^T W A: its lower triangle
		 * row-major is the upper column-major one ar_solve reads */
		memcpy(G, Gls, k * k * sizeof(*G));
		if (md)
			cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans,
				    (int)k, (int)md, -1.0, Ad, (int)k, 1.0, G,
				    (int)k);
		/* the solution comes back in g (coef[j] = g[j] / D[j] reads
		 * only g[j]) */
		int rc = ar_solve(g, G, g, k, lambda);
		if (rc)
			return rc;
		memcpy(coef, g, k * sizeof(*coef));
	}
	return 0;
}

/* Each step of AR, fitted by least squares on x[0..n_train-1], refitted
 * by Huber regression (C > 0). */
static int ar_huber_refit(struct shd_ar *ar, const double *x, size_t n_train,
			  double lambda, double c, const double *Gls)
{
	double *A = NULL, *y = NULL, *w = NULL, *G = NULL, *g = NULL;
	double *L = NULL;
	unsigned char *ok = NULL;
	size_t k = ar->k, p = ar->p, H = ar->H;
	int rc = 0;

	if (n_train == 0)
		return 0;
	/* the lag rows of every origin, formed once for all steps */
	L = malloc(n_train * p * sizeof(*L));
	ok = malloc(n_train);
	A = malloc(n_train * k * sizeof(*A));
	y = malloc(n_train * sizeof(*y));
	w = malloc(n_train * (k + 3) * sizeof(*w));
	G = malloc(k * k * sizeof(*G));
	g = malloc(k * sizeof(*g));
	if (!L || !ok || !A || !y || !w || !G || !g) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t t = p - 1; t + 1 < n_train; t++)
		ok[t] = (unsigned char)lag_row(x, t, p, L + t * p);
	for (size_t h = 1; h <= H && rc == 0; h++) {
		size_t m = 0;
		for (size_t t = p - 1; t + h < n_train; t++) {
			double yt = x[t + h] - x[t], sv[2] = { 0, 0 };
			if (!ok[t] || !isfinite(yt) ||
			    !season_row(ar, x, t, h, sv))
				continue;
			put_features(ar, L + t * p, sv, A + m * k);
			y[m++] = yt;
		}
		if (m < 2 * k)
			continue;	/* too few windows to weigh: LS */
		/* g is the solver's scratch: it returns the candidate */
		rc = huber_step(ar->coef + (h - 1) * k, A, y, m, k, lambda, c,
				Gls + (h - 1) * k * k, G, g, w);
	}
out:
	free(L);
	free(ok);
	free(A);
	free(y);
	free(w);
	free(G);
	free(g);
	return rc;
}

int shd_ar_fit_huber(struct shd_ar *ar, const double *x, size_t n_train,
		     size_t H, size_t p, size_t day, size_t week,
		     double lambda, double c)
{
	double *Gls = NULL;
	int rc;

	if (!(c >= 0) || !isfinite(c))
		return SHD_EINVAL;
	rc = ar_fit_ls(ar, x, n_train, H, p, day, week, lambda,
		       c > 0 ? &Gls : NULL);
	if (!rc && c > 0 && Gls)
		rc = ar_huber_refit(ar, x, n_train, lambda, c, Gls);
	free(Gls);
	return rc;
}

double shd_dm_stat(const double *d, size_t n, size_t L)
{
	double mean = 0, var = 0;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++)
		mean += d[i];
	mean /= (double)n;
	if (L > n - 1)
		L = n - 1;
	/* Newey-West: gamma_0 + 2 sum_l (1 - l/(L+1)) gamma_l */
	for (size_t l = 0; l <= L; l++) {
		double g = 0;
		for (size_t i = l; i < n; i++)
			g += (d[i] - mean) * (d[i - l] - mean);
		g /= (double)n;
		var += l ? 2 * (1 - (double)l / (double)(L + 1)) * g : g;
	}
	if (!(var > 0))
		return mean > 0 ? INFINITY : mean < 0 ? -INFINITY : 0;
	return mean / sqrt(var / (double)n);
}

/*
 * The validation windows of the seasonal fit S and the plain one N: D
 * (n_val) gets, per origin, the mean over steps of |error of N| - |error
 * of S|, over the steps where both forecast; *ES and *EN their summed
 * absolute errors over those steps. Returns the count of D.
 */
static size_t ar_val_diffs(const struct shd_ar *S, const struct shd_ar *N,
			   const double *x, size_t n_train, size_t n_val,
			   double *d, double *es, double *en, double *fs,
			   double *fn)
{
	size_t end = n_train + n_val, nd = 0, H = S->H;

	*es = *en = 0;
	for (size_t t = n_train ? n_train - 1 : 0; t + 1 < end; t++) {
		double sum = 0;
		size_t c = 0;
		shd_ar_predict(S, x, t, fs);
		shd_ar_predict(N, x, t, fn);
		for (size_t h = 1; h <= H && t + h < end; h++) {
			double a = fabs(x[t + h] - fs[h - 1]);
			double b = fabs(x[t + h] - fn[h - 1]);
			if (isnan(a) || isnan(b))
				continue;
			*es += a;
			*en += b;
			sum += b - a;
			c++;
		}
		if (c)
			d[nd++] = sum / (double)c;
	}
	return nd;
}

int shd_ar_fit_select(struct shd_ar *ar, const double *x, size_t n_train,
		      size_t n_val, size_t H, size_t p, size_t day,
		      size_t week, double lambda, double c)
{
	struct shd_ar plain = { 0 };
	double *d = NULL, *fs = NULL, *fn = NULL, es, en;
	double *Gls = NULL, *Gpl = NULL;	/* their A^T A */
	int rc;

	if (!(c >= 0) || !isfinite(c))
		return SHD_EINVAL;
	rc = ar_fit_ls(ar, x, n_train, H, p, day, week, lambda,
		       c > 0 ? &Gls : NULL);
	if (rc || (!ar->day && !ar->week) || n_val == 0)
		goto robust;
	rc = ar_fit_ls(&plain, x, n_train, H, p, 0, 0, lambda,
		       c > 0 ? &Gpl : NULL);
	d = malloc(n_val * sizeof(*d));
	fs = calloc(H, sizeof(*fs));
	fn = calloc(H, sizeof(*fn));
	if (!rc && (!d || !fs || !fn))
		rc = SHD_ENOMEM;
	if (!rc) {
		size_t nd = ar_val_diffs(ar, &plain, x, n_train, n_val, d, &es,
					 &en, fs, fn);
		double z = shd_dm_stat(d, nd, H - 1);
		if (!(es < en && z > SHD_DM_Z)) {
			/* the seasons did not earn their place: swap */
			struct shd_ar tmp = *ar;
			double *t = Gls;
			*ar = plain;
			plain = tmp;
			Gls = Gpl;
			Gpl = t;
		}
	}
	shd_ar_release(&plain);
	free(d);
	free(fs);
	free(fn);
robust:
	if (!rc && c > 0 && Gls)
		rc = ar_huber_refit(ar, x, n_train, lambda, c, Gls);
	free(Gls);
	free(Gpl);
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
