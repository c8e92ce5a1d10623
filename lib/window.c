/*
 * window.c - the windows shd-train learns from and shd-predict forecasts
 * with: network inputs, the autoregression's base forecast, and targets,
 * all cut from a panel series at an origin t (see model.h for the layout).
 *
 * Dimensions: M metrics, H horizon steps, T lookback steps, I inputs.
 */
#include <math.h>
#include <string.h>

#include "model.h"
#include "window.h"

#define DAY_MS 86400000.0
#define TWO_PI 6.283185307179586

/* The latest non-NaN value of X at or before T, within LIMIT steps. */
static double latest(const double *x, size_t t, size_t limit)
{
	for (size_t k = 0; k <= limit && k <= t; k++)
		if (!isnan(x[t - k]))
			return x[t - k];
	return NAN;
}

double shd_window_ref(const struct shd_pseries *s, size_t m, size_t t,
		      size_t T)
{
	return latest(s->x + m * s->n, t, T ? T - 1 : 0);
}

int shd_window_inputs(float *x /* (T, B, I) */, size_t B, size_t b,
		      const struct shd_pseries *s, size_t M,
		      const struct shd_mseries *ser /* (M) */, size_t t,
		      size_t T, size_t H, size_t day, size_t week,
		      int64_t step)
{
	size_t I = SHD_WINDOW_INPUTS(M);
	int any = 0;

	for (size_t k = 0; k < T; k++) {
		float *row = x + (k * B + b) * I;
		memset(row, 0, I * sizeof(*row));
	}
	for (size_t m = 0; m < M; m++) {
		const double *xm = s->x + m * s->n;
		double ref = latest(xm, t, T ? T - 1 : 0);
		double inv = 1.0 / ser[m].scale;
		if (isnan(ref))
			continue;
		any = 1;
		for (size_t k = 0; k < T; k++) {
			float *in = x + (k * B + b) * I + 6 * m;
			if (t + k + 1 < T)
				continue;	/* before the series starts */
			size_t tau = t + k + 1 - T;
			double v = xm[tau];
			if (!isnan(v)) {
				in[0] = (float)((v - ref) * inv);
				in[1] = 1;
			}
			size_t lags[2] = { day, week };
			for (int l = 0; l < 2; l++) {
				size_t back = lags[l];
				if (!back || tau + H < back)
					continue;
				size_t u = tau + H - back;
				if (u > t)
					continue;	/* not yet known at t */
				double w = xm[u];
				if (!isnan(w)) {
					in[2 + 2 * l] = (float)((w - ref) * inv);
					in[3 + 2 * l] = 1;
				}
			}
		}
	}
	for (size_t k = 0; k < T; k++) {
		if (t + k + 1 < T)
			continue;
		size_t tau = t + k + 1 - T;
		double ms = (double)(s->t0 + (int64_t)tau * step);
		double day_frac = fmod(ms, DAY_MS) / DAY_MS;
		double days = floor(ms / DAY_MS);
		double week_frac = fmod(days, 7.0) / 7.0;
		if (day_frac < 0)
			day_frac += 1;
		if (week_frac < 0)
			week_frac += 1;
		float *tail = x + (k * B + b) * I + 6 * M;
		tail[0] = (float)sin(TWO_PI * day_frac);
		tail[1] = (float)cos(TWO_PI * day_frac);
		tail[2] = (float)sin(TWO_PI * week_frac);
		tail[3] = (float)cos(TWO_PI * week_frac);
	}
	return any ? 0 : 1;
}

void shd_window_base(double *base /* (M, H) */, const struct shd_pseries *s,
		     size_t M, const struct shd_mseries *ser, size_t t,
		     size_t H)
{
	for (size_t m = 0; m < M; m++) {
		const double *xm = s->x + m * s->n;
		double *bm = base + m * H;
		shd_ar_predict(&ser[m].ar, xm, t, bm);
		/*
		 * The autoregression has no forecast when x[t] or a lag is
		 * missing (Bitbrains leaves isolated empty slots): the last
		 * value stands in, so one NaN does not silence p windows.
		 */
		double last = NAN;
		for (size_t h = 0; h < H; h++) {
			if (!isnan(bm[h]))
				continue;
			if (isnan(last))
				shd_last_value(&last, xm, t, 1);
			bm[h] = last;
		}
	}
}

size_t shd_window_targets(float *y /* (M * H) */, float *mask /* (M * H) */,
			  const struct shd_pseries *s, size_t M,
			  const struct shd_mseries *ser,
			  const double *base /* (M, H) */, size_t t, size_t H)
{
	size_t count = 0;

	for (size_t m = 0; m < M; m++) {
		const double *xm = s->x + m * s->n;
		for (size_t h = 1; h <= H; h++) {
			size_t k = m * H + h - 1;
			double v = t + h < s->n ? xm[t + h] : NAN;
			double d = (v - base[k]) / ser[m].scale;
			if (isnan(d) || isinf(d)) {
				y[k] = 0;
				mask[k] = 0;
				continue;
			}
			y[k] = (float)d;
			mask[k] = 1;
			count++;
		}
	}
	return count;
}
