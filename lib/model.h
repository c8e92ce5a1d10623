/*
 * model.h - the forecasting model of shd-train and shd-predict (private to
 * libshd until it settles), and the windows both cut from a panel.
 *
 * The picture. Every series (a resource's metric) is normalized by a robust
 * center and scale of its training part. Its forecast for steps 1..H is a
 * linear autoregression on differences to the last value (lib/baseline.c,
 * fitted per series, so level shifts beyond the training range do no harm)
 * plus, for the LSTM method, a correction the network predicts in units of
 * the series' scale. One network serves every series of the model (or one
 * per resource with --per-resource); its head starts at zero, so training
 * starts at the accuracy of the autoregression and can only be kept when it
 * beats it on validation. Per series the simplest method (last, ar, lstm;
 * a seasonal naive only by a 10% margin) that no more complex one beats
 * significantly on validation is chosen, and the larger of the validation
 * and calibration split-conformal quantiles gives its half-widths per
 * step.
 *
 * Dimensions: M metrics, H horizon steps, T lookback steps, I inputs per
 * step (SHD_WINDOW_INPUTS(M)), S series (resources x metrics).
 */
#ifndef SHD_MODEL_H
#define SHD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "forecast.h"
#include "lstm.h"
#include "panel.h"
#include "shd.h"

/* Forecast methods; values are stored in model files. */
enum shd_method {
	SHD_M_LSTM = 0,		/* autoregression + the network's correction */
	SHD_M_AR = 1,		/* linear autoregression on differences */
	SHD_M_LAST = 2,		/* last value */
	SHD_M_SNAIVE_DAY = 3,	/* value one day earlier */
	SHD_M_SNAIVE_WEEK = 4,	/* value one week earlier */
	SHD_M_COUNT = 5,
};

/* "lstm", "ar", "last", "snaive_day", "snaive_week"; NULL when unknown. */
const char *shd_method_name(int method);
/* The method named NAME, or -1. */
int shd_method_parse(const char *name);

/* What the model knows of one series: resource r, metric m. */
struct shd_mseries {
	double center, scale;	/* median and MAD * 1.4826 of training */
	double mase_scale;	/* seasonal-naive MAE of training (MASE) */
	int method;		/* chosen on validation */
	double val_err[SHD_M_COUNT];	/* validation MASE, mean over steps;
					 * NaN when not computed */
	struct shd_ar ar;	/* fitted on the training part */
	double *q;		/* (SHD_M_COUNT, H): conformal half-width of
				 * method k at step h at q[k * H + h - 1],
				 * in units of scale (inf: too few residuals) */
	/*
	 * lo, hi of the network's correction (units of scale, every step)
	 * on the validation windows; the lstm method clamps a correction
	 * to it (-inf, inf: no clamp, as without a network or windows).
	 * A network meeting inputs unlike any it was trained and checked
	 * on (a level shift seen through its day-ago input) can correct by
	 * many scales, and the choice on validation never saw that.
	 */
	double yrange[2];
};

/* The correction Y of the network to series S's autoregression, clamped
 * to S->yrange (units of scale). */
static inline double shd_mseries_clamp(const struct shd_mseries *s, double y)
{
	return y < s->yrange[0] ? s->yrange[0] :
	       y > s->yrange[1] ? s->yrange[1] : y;
}

struct shd_model {
	/* the data */
	int64_t step;		/* ms between samples */
	size_t nmetric;
	char **metric, **unit;	/* (M) */
	size_t nres;
	char **res;		/* (R) resources seen in training */
	struct shd_mseries *ser;	/* (R, M): resource r metric m at
					 * ser[r * M + m] */
	int64_t data_from, data_to;	/* time range of the training data */
	uint64_t fingerprint;	/* XXH3 of the training panel */
	/* the architecture and options */
	size_t lookback;	/* T */
	size_t horizon;		/* H */
	size_t day, week;	/* seasons in steps (0: not used) */
	size_t ar_p;		/* autoregression window */
	double coverage;	/* nominal coverage of the intervals */
	uint64_t seed;
	int per_resource;	/* one network per resource */
	size_t nnet;		/* 1, or R with per_resource (resources
				 * shd_train_extend adds to such a model
				 * come after them and have none) */
	struct shd_lstm *net;	/* (nnet) config n_in = SHD_WINDOW_INPUTS(M),
				 * n_out = H * M */
	char *report;		/* training report (JSON text), or NULL */
	/* a cache of shd_model_find: resource names interned in order, so
	 * that id = index; built on first use, grown when res grows */
	struct shd_dict *index;
};

void shd_model_init(struct shd_model *m);
void shd_model_release(struct shd_model *m);

/*
 * Writes M to PATH atomically (a temporary file, fsync, rename). The file:
 * magic 89 53 48 4D 0D 0A 1A 0A ("\x89SHM\r\n\x1a\n"), major u16 = 1,
 * minor u16 = 0, JSON length u32, the JSON header (everything but the
 * weights), the float32 weights of each network (little-endian), and an
 * XXH3-64 of all bytes before it. Returns 0; SHD_EINVAL (nothing
 * written) when M is not what shd_model_load accepts (sizes, a scale <= 0,
 * a non-finite coefficient, a report that is not JSON text, ...: a bug of
 * the caller); SHD_ENOMEM; or SHD_EIO with errno set. NaN val_err and
 * mase_scale are stored as null; a NaN q as null, read back as +inf.
 */
int shd_model_save(const struct shd_model *m, const char *path);

/*
 * Reads PATH into M (initialised here). A damaged, truncated or foreign
 * file, or another major version, is SHD_EFORMAT with the reason in ERR
 * (N bytes) naming the file; SHD_EIO when it cannot be read.
 */
int shd_model_load(struct shd_model *m, const char *path, char *err,
		   size_t n);

/* Index of resource KEY in the model, or -1. A hash lookup: fleets have
 * tens of thousands of resources. */
long shd_model_find(const struct shd_model *m, const char *key);

/*
 * The network that serves resource R: the model's one, R's own with
 * per_resource, or NULL when there is none (a model without networks, or
 * a resource shd_train_extend added to a per-resource model). Valid as
 * long as M is.
 */
const struct shd_lstm *shd_model_net(const struct shd_model *m, size_t r);

/*
 * Windows. Inputs per step tau of the window ending at index t (T steps,
 * tau = t-T+1..t), for each metric m, all in units of the series' scale:
 *   (x[tau] - x[t]), present(x[tau]),
 *   (x[tau+H-day] - x[t]), present(...),      the value one day before
 *   (x[tau+H-week] - x[t]), present(...),     ... and one week before
 * (a missing value is 0 with presence 0), then for the time of tau:
 * sin and cos of the time of day and of the day of the week.
 */
#define SHD_WINDOW_INPUTS(M) (6 * (M) + 4)

#endif
