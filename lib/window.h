/*
 * window.h - network inputs, base forecasts and targets cut from a panel
 * series at an origin t (private to libshd; the layout is in model.h).
 * M metrics, H horizon steps, T lookback steps, B batch, I inputs per step.
 */
#ifndef SHD_WINDOW_H
#define SHD_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * The reference value of metric M at origin T: the latest non-NaN value at
 * or before index T within the lookback (NaN when none). Inputs are taken
 * relative to it.
 */
double shd_window_ref(const struct shd_pseries *s, size_t m, size_t t,
		      size_t lookback);

/*
 * Fills batch slot B_IDX of X, a (T, B, I) tensor, with the window of S
 * ending at index T_ORIGIN (steps before the series starts are zero, with
 * presence 0). SER holds the series' normalization (M entries). Returns 0,
 * or 1 when no metric has a value in the window (nothing to forecast from).
 */
int shd_window_inputs(float *x, size_t B, size_t b_idx,
		      const struct shd_pseries *s, size_t M,
		      const struct shd_mseries *ser, size_t t_origin,
		      size_t T, size_t H, size_t day, size_t week,
		      int64_t step);

/*
 * The autoregression's forecasts, BASE[m * H + h - 1], in series units;
 * where it has none (x[t] or a lag missing), the last value (shd_last_value)
 * stands in; NaN only when the history holds no value.
 */
void shd_window_base(double *base, const struct shd_pseries *s, size_t M,
		     const struct shd_mseries *ser, size_t t_origin, size_t H);

/*
 * Targets of the network, Y[m * H + h - 1] = (x[t+h] - base) / scale, with
 * MASK 1 where x[t+h] is known (else Y 0, MASK 0). Returns the count known.
 */
size_t shd_window_targets(float *y, float *mask, const struct shd_pseries *s,
			  size_t M, const struct shd_mseries *ser,
			  const double *base, size_t t_origin, size_t H);

#endif
