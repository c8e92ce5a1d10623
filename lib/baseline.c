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

/* reweighting passes of the Huber fit */
#define HUBER_ITERS 6

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
	for (size_t j = 0; j < ns && j < 2; j++) {
		/* s[0] is the week's when the day is not used */
		const double *r = ar->srange[j == 0 && ar->day ? 0 : 1];
		f[nl + j] = s[j] >= r[0] && s[j] <= r[1] ? s[j] : 0.0;
	}
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
	free(G);
	free(g);
	free(f);
	free(idx);
	free(every);
	return rc;
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

	for (size_t i = 0; i < m; i++) {
		abs_[i] = fabs(r[i]);
		sum += abs_[i];
	}
	med = select_kth(abs_, m, m / 2);
	if (med > 0)
		return 1.4826 * med;
	return 1.2533 * sum / (double)m;
}

/*
 * Huber regression of one step by iteratively reweighted least squares:
 * the windows' features A (M, K; row-major) and targets Y (M); COEF (K)
 * holds the least-squares start and gets the result. Each pass takes the
 * residuals' robust scale s, weighs window i by min(1, C s / |r_i|), and
 * solves the weighted ridge problem as ar_solve does. At most HUBER_ITERS
 * passes; it stops early when the residuals moved by less than 1e-3 s on
 * average in the last one. W (M, K + 4) is scratch.
 */
static int huber_step(double *coef, const double *A, const double *y,
		      size_t m, size_t k, double lambda, double c,
		      double *G /* (k, k) */, double *g /* (k) */,
		      double *w)
{
	double *Aw = w, *r = w + m * k, *abs_ = r + m, *sw = abs_ + m;
	double *prev = sw + m;

	for (int it = 0; it <= HUBER_ITERS; it++) {
		double s;

		/* r(M) = y(M) - A(M,K) coef(K) */
		memcpy(r, y, m * sizeof(*r));
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)k, -1.0,
			    A, (int)k, coef, 1, 1.0, r, 1);
		s = resid_scale(r, m, abs_);
		if (!(s > 0) || !isfinite(s))
			return 0;	/* an exact fit: nothing to reweigh */
		if (it > 0) {
			double moved = 0;
			for (size_t i = 0; i < m; i++)
				moved += fabs(r[i] - prev[i]);
			if (it == HUBER_ITERS || moved < 1e-3 * s * (double)m)
				return 0;
		}
		memcpy(prev, r, m * sizeof(*prev));
		for (size_t i = 0; i < m; i++) {
			double a = fabs(r[i]), wi = a > c * s ? c * s / a : 1.0;
			sw[i] = sqrt(wi);
			for (size_t j = 0; j < k; j++)
				Aw[i * k + j] = A[i * k + j] * sw[i];
			abs_[i] = sw[i] * y[i];	/* scratch: the weighted y */
		}
		/* g(K) = Aw(M,K)^T (sw y)(M) = A^T W y */
		cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, (int)k, 1.0, Aw,
			    (int)k, abs_, 1, 0.0, g, 1);
		/* G(K,K) = Aw(M,K)^T Aw(M,K) = A^T W A: its lower triangle
		 * row-major is the upper column-major one ar_solve reads */
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)k,
			    (int)m, 1.0, Aw, (int)k, 0.0, G, (int)k);
		/* the solution comes back in g (coef[j] = g[j] / D[j] reads
		 * only g[j]) */
		int rc = ar_solve(g, G, g, k, lambda);
		if (rc)
			return rc;
		memcpy(coef, g, k * sizeof(*coef));
	}
	return 0;
}

int shd_ar_fit_huber(struct shd_ar *ar, const double *x, size_t n_train,
		     size_t H, size_t p, size_t day, size_t week,
		     double lambda, double c)
{
	double *A = NULL, *y = NULL, *w = NULL, *G = NULL, *g = NULL;
	int rc;

	if (!(c >= 0) || !isfinite(c))
		return SHD_EINVAL;
	rc = shd_ar_fit(ar, x, n_train, H, p, day, week, lambda);
	if (rc || c == 0 || n_train == 0)
		return rc;
	size_t k = ar->k;
	A = malloc(n_train * k * sizeof(*A));
	y = malloc(n_train * sizeof(*y));
	w = malloc(n_train * (k + 4) * sizeof(*w));
	G = malloc(k * k * sizeof(*G));
	g = malloc(k * sizeof(*g));
	if (!A || !y || !w || !G || !g) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t h = 1; h <= H && rc == 0; h++) {
		size_t m = 0;
		for (size_t t = p - 1; t + h < n_train; t++) {
			double yt = x[t + h] - x[t];
			if (!isfinite(yt) || !ar_features(ar, x, t, h, A + m * k))
				continue;
			y[m++] = yt;
		}
		if (m < 2 * k)
			continue;	/* too few windows to weigh: LS */
		/* g is the solver's scratch: it returns the candidate */
		rc = huber_step(ar->coef + (h - 1) * k, A, y, m, k, lambda, c,
				G, g, w);
	}
out:
	free(A);
	free(y);
	free(w);
	free(G);
	free(g);
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
	struct shd_ar plain;
	double *d = NULL, *fs = NULL, *fn = NULL, es, en;
	int rc;

	rc = shd_ar_fit_huber(ar, x, n_train, H, p, day, week, lambda, c);
	if (rc || (!ar->day && !ar->week) || n_val == 0)
		return rc;
	rc = shd_ar_fit_huber(&plain, x, n_train, H, p, 0, 0, lambda, c);
	d = malloc(n_val * sizeof(*d));
	fs = malloc(H * sizeof(*fs));
	fn = malloc(H * sizeof(*fn));
	if (!rc && (!d || !fs || !fn))
		rc = SHD_ENOMEM;
	if (!rc) {
		size_t nd = ar_val_diffs(ar, &plain, x, n_train, n_val, d, &es,
					 &en, fs, fn);
		double z = shd_dm_stat(d, nd, H - 1);
		if (!(es < en && z > SHD_DM_Z)) {
			/* the seasons did not earn their place: swap */
			struct shd_ar tmp = *ar;
			*ar = plain;
			plain = tmp;
		}
	}
	shd_ar_release(&plain);
	free(d);
	free(fs);
	free(fn);
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
