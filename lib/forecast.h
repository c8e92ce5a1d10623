/*
 * forecast.h - baseline forecasters, error measures and split-conformal
 * calibration (private to libshd).
 *
 * Everything here is a pure function over double arrays: NaN means missing,
 * nothing is read or written, nothing is printed. The baselines are what a
 * learned model has to beat (issue 3), and what shd-predict falls back to
 * when it does not.
 *
 * Series and forecasts, in every comment here and in baseline.c and
 * conformal.c:
 *   x[0..t]     the history; x[t] is the latest value (the "origin")
 *   H           the horizon: forecasts are direct, out[h-1] is for t+h,
 *               h = 1..H (nothing is fed back)
 *   P           a season in steps: D one day, W one week
 */
#ifndef SHD_FORECAST_H
#define SHD_FORECAST_H

#include <stddef.h>

#include "shd.h"

/* ------------------------------------------------------------ baselines */

/*
 * Last value: every out[h-1] (H of them) is the latest non-NaN value of
 * x[0..t], or NaN when there is none.
 */
void shd_last_value(double *out /* (H) */, const double *x, size_t t,
		    size_t H);

/*
 * Seasonal naive with period P >= 1: out[h-1] = x[t+h-P*k] for the smallest
 * k >= 1 with t+h-P*k <= t; when that value is NaN, the one a period earlier
 * (k+1, k+2, ...); NaN when the history runs out first.
 */
void shd_seasonal_naive(double *out /* (H) */, const double *x, size_t t,
			size_t H, size_t P);

/*
 * A linear autoregression per horizon step, fitted by least squares
 * (normal equations, LAPACKE dposv) with a small ridge. For step h it predicts the change
 * from the latest value,
 *
 *   x[t+h] - x[t] = sum_j a_hj (x[t] - x[t-j])        j = 1..p-1
 *                 + b_h (sn_D(t,h) - x[t])            when the day is used
 *                 + c_h (sn_W(t,h) - x[t])            when the week is used
 *                 + d_h
 *
 * where sn_P(t,h) is the seasonal-naive forecast of period P (the value one
 * period before t+h, or one more period back when that is NaN). Everything
 * is a difference to x[t], so the model does not care where the level is:
 * a series that moves to a level never seen in training (the level shifts
 * that ruined a fixed-normalization LSTM on NAB, DESIGN.md) is forecast as
 * well as one that stays. The zero model is the last value; b_h = 1 is the
 * seasonal naive; the fit finds the blend.
 *
 * coef holds, for each step h (row h-1), the k coefficients in the order
 * a_h1..a_h(p-1), b_h (if day), c_h (if week), d_h.
 */
struct shd_ar {
	size_t H;		/* horizon steps */
	size_t p;		/* values per window: x[t-p+1..t] */
	size_t day, week;	/* seasons used, in steps; 0 = not used */
	size_t k;		/* coefficients per step: p-1 + day? + week? + 1 */
	double *coef;		/* (H, k) */
	size_t *nfit;		/* (H) training windows used for each step */
	/*
	 * srange[0] (day), srange[1] (week): lo, hi of the seasonal
	 * feature sn_P(t,h) - x[t] over the windows the fit used (all
	 * steps); 0, 0 for a season not used or seen in no window. A
	 * feature outside its range is taken as 0 (shd_ar_predict).
	 */
	double srange[2][2];
};

/*
 * Fits AR on the training range x[0..n_train-1]: for each step h, every
 * origin t whose target x[t+h] is inside the range and whose features and
 * target hold no NaN is one equation. DAY and WEEK are the seasons in steps
 * (0: not used); a season P is used only when the range holds at least two
 * of them (n_train >= 2P), so that it has a season of windows to learn
 * from; ar->day and ar->week say what was kept.
 *
 * LAMBDA >= 0 is the ridge, relative to each feature's energy: the penalty
 * on a coefficient is LAMBDA times the sum of squares of its feature over
 * the windows (features are scaled to unit norm, and LAMBDA is added to
 * the diagonal of the scaled normal equations). With LAMBDA > 0 the
 * fit never fails on data: a constant series, or a step with no usable
 * window, gives zero coefficients (the last value). 1e-3 is a good default.
 *
 * AR is initialised here; release it with shd_ar_release even on failure.
 * Returns 0, SHD_EINVAL (H == 0, p == 0, LAMBDA < 0 or not finite),
 * SHD_ENOMEM, or SHD_ENUMERIC when LAPACK finds the system not definite
 * (only possible with LAMBDA == 0).
 */
int shd_ar_fit(struct shd_ar *ar, const double *x, size_t n_train, size_t H,
	       size_t p, size_t day, size_t week, double lambda);

/*
 * As shd_ar_fit, then each step's coefficients are refitted by Huber
 * regression (at most three passes of iteratively reweighted least squares
 * from the least-squares fit, the same ridge): a window whose residual is
 * more than C robust residual scales (1.4826 times the median absolute
 * residual) counts as if its residual were C scales, so a few spikes no
 * longer pull the fit the way their squares did. C = 0 is least squares;
 * 1.345 is the usual constant (95% efficiency on Gaussian noise). A step
 * with fewer than 2k windows keeps its least-squares coefficients.
 * Returns as shd_ar_fit does; SHD_EINVAL also for C < 0 or not finite.
 */
int shd_ar_fit_huber(struct shd_ar *ar, const double *x, size_t n_train,
		     size_t H, size_t p, size_t day, size_t week,
		     double lambda, double c);

/*
 * As shd_ar_fit_huber with the seasons DAY and WEEK, but the seasonal
 * features must earn their place: a second fit without any season is
 * made (the two compared are the least-squares fits, and only the one kept
 * is refitted by Huber regression, which halves the cost of the robust
 * fit), and the seasonal one is kept only when, over the validation range
 * x[n_train .. n_train+n_val-1] (origins t >= n_train-1, targets inside
 * the range), its mean absolute error is lower and the Diebold-Mariano
 * statistic (shd_dm_stat, lags H-1) of the per-origin differences exceeds
 * SHD_DM_Z. A seasonal value carries the level of a day or a week ago, and
 * after a level shift a small seasonal coefficient fitted on a steady
 * past costs more than it gave. ar->day and ar->week say what was kept.
 * N_VAL = 0 keeps the seasons. Returns as shd_ar_fit_huber.
 */
int shd_ar_fit_select(struct shd_ar *ar, const double *x, size_t n_train,
		      size_t n_val, size_t H, size_t p, size_t day,
		      size_t week, double lambda, double c);

/*
 * Forecasts x[t+1..t+H] from the history x[0..t] (anywhere, not only in the
 * training range). A step whose features cannot be formed (x[t] or a lag
 * is NaN, t < p-1, or no seasonal value is left in the history) gets NaN:
 * the caller chooses a fallback, usually the last value.
 *
 * A seasonal feature outside the range the fit saw (ar->srange) is taken
 * as 0, as if the value a day (a week) ago were the latest one: a gap that
 * wide between now and a period ago says the level moved (a shift, an
 * outage), and then the value of a period ago says nothing about the next
 * one. Without this, a series that drops to a level never seen is pulled
 * back toward the old level for a whole period by even a small
 * coefficient.
 */
void shd_ar_predict(const struct shd_ar *ar, const double *x, size_t t,
		    double *out /* (H) */);

/* Frees the coefficients; AR may be released twice. */
void shd_ar_release(struct shd_ar *ar);

/* ------------------------------------------------------------- measures */

/*
 * The Diebold-Mariano statistic of the loss differences D (N; positive
 * where the second method did better): their mean over its Newey-West
 * standard error with L lags (forecasts L+1 steps ahead overlap; L is
 * capped at N-1). NaN when N < 2; +-inf (the sign of the mean) or 0 when
 * the variance is 0. One-sided at 5%: better when above SHD_DM_Z.
 */
#define SHD_DM_Z 1.645
double shd_dm_stat(const double *d, size_t n, size_t L);


/*
 * The MASE scale: the mean of |x[i] - x[i-P]| over the pairs of x[0..n-1]
 * where both are not NaN (pass the training part). When n < 2P, P = 1 is
 * used instead. Returns NaN when there is no pair; 0 for a series that
 * repeats exactly (then every MASE with it is NaN, see shd_mase).
 */
double shd_mase_scale(const double *x, size_t n, size_t P);

/*
 * Mean absolute scaled error: mean |actual[i] - pred[i]| / SCALE over the i
 * where neither is NaN. NaN when there is no such i, or SCALE is not a
 * finite positive number.
 */
double shd_mase(const double *actual, const double *pred, size_t n,
		double scale);

/*
 * Interval coverage: the fraction of the i with actual[i] not NaN for
 * which lo[i] <= actual[i] <= hi[i] (a NaN bound never covers). NaN when
 * every actual is NaN.
 */
double shd_coverage(const double *actual, const double *lo, const double *hi,
		    size_t n);

/* -------------------------------------------------- conformal, scale */

/*
 * Split-conformal quantile of the calibration residuals R (their absolute
 * values; NaN ignored, m = how many are left) at coverage C in (0, 1):
 * *Q = the ceil((m+1) C)-th smallest. When m is too small for C (that rank
 * is above m, e.g. m < 9 for C = 0.9) *Q = +inf: no finite interval has
 * the promised coverage. Then pred +- *Q covers a new value with
 * probability >= C when residuals are exchangeable.
 * Returns 0, SHD_EINVAL (C outside (0, 1)) or SHD_ENOMEM (one copy of R
 * is made).
 */
int shd_conformal_quantile(const double *r, size_t n, double c, double *q);

/*
 * The interval pred +- q for N forecasts: lo[i] = pred[i] - q, hi[i] =
 * pred[i] + q (NaN stays NaN; q = inf gives -inf..inf).
 */
void shd_conformal_interval(double *lo /* (N) */, double *hi /* (N) */,
			    const double *pred, size_t n, double q);

/*
 * Confidence in [0, 1] from the half-width Q of a forecast interval
 * (pred +- Q) and the series' robust scale S (shd_robust_center_scale):
 *
 *   conf = 1 / (1 + Q / S)
 *
 * 1 for a point-sure forecast, 1/2 when the interval reaches one robust
 * standard deviation either side, 0 for an infinite interval. NaN when Q
 * or S is NaN, or S <= 0. (The formula may change; callers use this.)
 */
double shd_confidence(double q, double s);

/*
 * Median and robust scale (MAD * 1.4826, the standard deviation of a
 * Gaussian) of x[0..n-1], NaN ignored. The scale is floored at
 * max(1e-9 |median|, 1e-12), so a constant series has a small positive
 * scale rather than 0. Returns 0; SHD_EINVAL with both NaN when no value
 * is left; SHD_ENOMEM (one copy of x is made).
 */
int shd_robust_center_scale(const double *x, size_t n, double *center,
			    double *scale);

#endif
