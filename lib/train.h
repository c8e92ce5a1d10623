/*
 * train.h - training of the forecasting model (model.h) on a panel:
 * normalization, autoregressions, the network, the choice of a method per
 * series and the conformal calibration (private to libshd; used by
 * shd-train, and by shd-predict to fit resources a model has not seen).
 *
 * The time-ordered split. Each series (resource) of n slots is cut into
 *   train [0, n_tr)   validation [n_tr, n_tr + n_va)   calibration [.., n)
 * with n_tr = floor(n * split_train), n_va = floor(n * split_val). A window
 * at origin t belongs to the part that holds t + 1 (its first target) and
 * only targets inside that part count, so nothing of the future reaches
 * training, nor calibration data validation.
 *
 * Known events (events.h: deploys, configuration changes) are regime
 * changes the history cannot foretell: a window of any part whose counted
 * targets' slots (t+1 .. t+H, within the part) hold an event of its
 * resource, or of every resource, is left out of the part (the training
 * loss, the validation loss and MASE, the calibration residuals). Windows
 * whose lookback holds an event are kept: shd-predict forecasts from such
 * windows after every real change, and they show how a series settles.
 */
#ifndef SHD_TRAIN_H
#define SHD_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "model.h"
#include "panel.h"

struct shd_train_opts {
	size_t lookback;	/* T, steps of a window (48) */
	size_t horizon;		/* H, steps forecast; 0: five minutes'
				 * worth of the panel's step, at least 1 */
	size_t hidden;		/* LSTM units per layer (32) */
	size_t layers;		/* LSTM layers (1) */
	size_t batch;		/* windows per mini-batch (64) */
	size_t epochs;		/* at most (20) */
	size_t patience;	/* epochs without a better validation loss
				 * before stopping (3) */
	size_t ar_p;		/* autoregression window (12) */
	size_t max_windows;	/* training windows per network, at most
				 * (100000), drawn uniformly */
	size_t max_eval;	/* windows per network of validation and of
				 * calibration, at most (50000): origins
				 * are thinned evenly beyond that */
	double lr;		/* Adam learning rate (1e-3) */
	double wd;		/* decoupled weight decay (0) */
	double clip;		/* gradient norm clip (1.0) */
	double ridge;		/* of the autoregressions (1e-3) */
	double huber;		/* the autoregressions' Huber constant, in
				 * robust residual scales; 0 = least
				 * squares (0.5, shd_ar_fit_huber) */
	double coverage;	/* of the intervals (0.9) */
	double split_train;	/* fraction of each series (0.7) */
	double split_val;	/* ... of validation (0.15); calibration
				 * gets the rest */
	uint64_t seed;		/* (1) */
	int threads;		/* threads: series' fits, BLAS (1) */
	int per_resource;	/* one network per resource (0) */
	const struct shd_model *init;	/* warm start from these weights,
					 * or NULL */
	const struct shd_events *events;	/* known events (sorted), or
						 * NULL */
};

/* Sets the defaults above. */
void shd_train_opts_init(struct shd_train_opts *o);

/* What training did; filled by shd_train (also on failure: err). */
struct shd_train_report {
	size_t nseries;		/* resources x metrics */
	size_t epochs_run;	/* most over the networks */
	size_t best_epoch;	/* of the first network; 0 = the start */
	double val_loss_start;	/* validation loss before training (the
				 * AR's, or the --init model's): mean
				 * absolute error of the lstm method in
				 * units of the MASE scale, mean over the
				 * networks */
	double val_loss_best;	/* ... of the weights kept */
	size_t train_windows, val_windows, cal_windows;
	/* windows of each part left out for a known event (O->events) */
	size_t train_events, val_events, cal_events;
	double seconds;		/* all of shd_train */
	double windows_per_s;	/* training windows per second */
	/*
	 * Mean over series of the validation MASE of each method (rows
	 * SHD_M_*, then row SHD_M_COUNT: the method each series chose) at
	 * step 1, step H and over all steps; NaN when no series has it.
	 */
	double mase[SHD_M_COUNT + 1][3];
	size_t chosen[SHD_M_COUNT];	/* series that chose each method */
	size_t warm;		/* networks started from --init */
	char err[512];		/* why shd_train failed */
};

/* Progress, reported now and then to the callback. */
struct shd_train_progress {
	size_t net, nnet;	/* network being trained (0-based) */
	size_t epoch, epochs;	/* epoch (1-based), most epochs */
	size_t done, total;	/* windows this epoch */
	double loss;		/* mean training loss of the epoch so far */
	double val_loss;	/* of the last finished epoch (NaN before) */
	double windows_per_s;
	double elapsed, left;	/* seconds; left is an estimate (NaN) */
};

typedef void (*shd_train_progress_fn)(void *ctx,
				      const struct shd_train_progress *pr);

/*
 * Is a series of N samples long enough for O's split with lookback T and
 * horizon H: training holds T + H + 8 steps, validation and calibration
 * H + 8 each? 1 or 0. shd_train refuses a panel with a series that is not.
 */
int shd_train_long_enough(const struct shd_train_opts *o, size_t n,
			  size_t T, size_t H);

/*
 * The fewest samples from which every series is long enough (the split's
 * floors make "long enough" not quite monotone in N); SIZE_MAX when O's
 * split leaves (next to) no calibration part.
 */
size_t shd_train_min_samples(const struct shd_train_opts *o, size_t T,
			     size_t H);

/*
 * Trains a model on P as O says, into M (initialised here; release it with
 * shd_model_release even on failure). PROGRESS, when not NULL, is called
 * with CTX a few times a second. REP may be NULL.
 *
 * Returns 0; SHD_EINVAL for bad options, too little data (REP->err names
 * the resource and what it lacks) or an --init model that does not fit
 * (another architecture or other metrics); SHD_ENUMERIC when the training
 * diverges (NaN); SHD_ENOMEM.
 *
 * The model holds no wall-clock value (times and speeds are in REP only),
 * so the same seed, data and thread count give the same model file byte
 * for byte.
 */
int shd_train(struct shd_model *m, const struct shd_panel *p,
	      const struct shd_train_opts *o, struct shd_train_report *rep,
	      shd_train_progress_fn progress, void *ctx);

/*
 * Fits the per-series parts of M for the resources of P, which M does not
 * know, and appends them to M (M->nres grows; their index is found by
 * shd_model_find). Each is fitted as shd_train fits a series, on P's data
 * of it cut by O's split, without training any network:
 *   - center, scale, MASE scale and the autoregression on the training part;
 *   - every method's validation MASE and the choice on the validation part
 *     (the same rules, in the same code);
 *   - conformal half-widths per method and step on the calibration part,
 *     pooled over P's series of the metric where one has too few.
 * The network is M's, as trained: the lstm method is its correction to the
 * autoregression from the new series' normalized windows. A per-resource M
 * has no network for a new resource: its series choose among the other
 * methods (lstm has a NaN val_err and infinite half-widths) and
 * shd_model_net gives NULL for it; such an M can no longer be saved
 * (shd_model_save says SHD_EINVAL).
 *
 * M's lookback, horizon, autoregression window, coverage and seasons are
 * used, not O's; O gives the split, the ridge, max_eval and the batch. P
 * must hold M's metrics in M's order on M's step.
 *
 * Returns 0; SHD_EINVAL (REP->err says why) for a series too short for
 * the split (shd_train_long_enough), a resource M knows, or other metrics
 * or step; SHD_ENOMEM. On failure M is as it was. REP, which may be NULL,
 * gets nseries, val_windows, cal_windows, mase, chosen and seconds (of the
 * new series only).
 */
int shd_train_extend(struct shd_model *m, const struct shd_panel *p,
		     const struct shd_train_opts *o,
		     struct shd_train_report *rep);

#endif
