/*
 * filter.h - the anomaly filter of shd-drift: a logistic regression of
 * "sustained" against "transient" on the features of a candidate alert
 * (drift.h), learned from a replay of history, plus what the learning run
 * saw of each series' recurring drift (per hour of the day and of the
 * week), so that a later run starts with that memory.
 *
 * The file is JSON (written atomically):
 *   {"shd_filter": 1, "features": [...], "mu": [...], "sd": [...],
 *    "b": [...], "p_min": P, "lambda": L, "trained": {...counts...},
 *    "series": [{"resource": R, "metric": M, "days": D, "day": [24],
 *                "weeks": W, "week": [168]}, ...]}
 */
#ifndef SHD_FILTER_H
#define SHD_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "drift.h"
#include "logit.h"

struct shd_filter_series {
	char *resource, *metric;
	double days, weeks;
	double day[24], week[168];
};

struct shd_filter {
	struct shd_logit lr;
	double p_min;		/* suppress below this P(sustained) */
	double lambda;		/* ridge of the fit */
	/* what the fit saw */
	size_t n, n_sustained, n_suppressed, n_lost;
	size_t nseries;
	struct shd_filter_series *series;
	/* learning examples (not in the file) */
	size_t nex, excap;
	double *x, *y;		/* (excap, SHD_NFEAT), (excap) */
	uint32_t *res;		/* (excap) the candidate's resource id */
	int64_t *t;		/* (excap) its origin */
};

/* Default threshold on P(sustained). */
#define SHD_FILTER_P_MIN 0.5

void shd_filter_init(struct shd_filter *f);
void shd_filter_release(struct shd_filter *f);

/* Adds a labelled candidate (a->label 0 or 1) to learn from. */
int shd_filter_add(struct shd_filter *f, const struct shd_alert *a);

/*
 * Fits the regression on the examples with ridge LAMBDA and sets p_min to
 * P_MIN (NaN: SHD_FILTER_P_MIN). Returns 0; SHD_EINVAL with the reason in ERR when there is
 * nothing to learn from (no examples, or one class only); SHD_ENUMERIC;
 * SHD_ENOMEM.
 */
int shd_filter_fit(struct shd_filter *f, double lambda, double p_min,
		   char *err, size_t n);

/*
 * Learns p_min from labelled windows of the replay that was learned from
 * (anomaly windows, such as NAB's): window i is resource RES[i] from
 * FROM[i] to TO[i] (ms, inclusive; leave out any part that should not
 * count, such as NAB's probation). p_min becomes the largest value that
 * keeps a candidate in every window holding one: the smallest, over those
 * windows, of the largest P(sustained) in it. Call after shd_filter_fit.
 * Returns how many windows held a candidate (0: p_min is unchanged).
 */
size_t shd_filter_tune(struct shd_filter *f, const uint32_t *res,
		       const int64_t *from, const int64_t *to, size_t nw);

/* Keeps the recurrence counts of series (RES, METRIC). */
int shd_filter_keep_series(struct shd_filter *f, const char *res,
			   const char *metric, double days, const double *day,
			   double weeks, const double *week);

/* P(sustained) of a candidate. */
double shd_filter_prob(const struct shd_filter *f, const struct shd_alert *a);

/* Gives the scorer D the kept recurrence counts of its series. */
int shd_filter_prime(const struct shd_filter *f, struct shd_drift *d);

/* Writes F to PATH atomically. 0, SHD_ENOMEM or SHD_EIO (errno). */
int shd_filter_save(const struct shd_filter *f, const char *path);

/*
 * Reads PATH into F (initialised here). SHD_EFORMAT with the reason (and
 * the JSON path) in ERR, SHD_EIO when unreadable.
 */
int shd_filter_load(struct shd_filter *f, const char *path, char *err,
		    size_t n);

/* The file's JSON text without the series (for --show); free() it. */
char *shd_filter_summary(const struct shd_filter *f);

#endif
