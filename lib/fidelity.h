/*
 * fidelity.h - how faithful a shadow is to production (shd-shadow's
 * report; private to libshd): per metric, the two-sample
 * Kolmogorov-Smirnov distance between the pooled value distributions,
 * p50/p95/p99 of both and their relative errors, the strength of the daily
 * and weekly cycles in both, and a verdict against a largest KS distance.
 *
 * Definitions (shd-shadow(1), "The fidelity report"):
 *   KS        D = sup_x |F_prod(x) - F_shadow(x)|, exact, over every
 *             non-NaN value of the metric of every resource (pooled);
 *   quantile  of the sorted non-NaN values x[0..n-1] at p:
 *             x[j] + (h - j) (x[j+1] - x[j]), h = (n - 1) p, j = floor(h)
 *             (linear interpolation, R's type 7, numpy's default);
 *   rel. err  (shadow - prod) / |prod|; 0 when both are 0, NaN when only
 *             production's is 0;
 *   cycle     share of a series' variance explained by the means of its
 *             phase bins (hour of the UTC day: daily; hour of the UTC
 *             week: weekly), adjusted for the number of bins as R^2 is:
 *             1 - (SS_within / (n - G)) / (SS_total / (n - 1)), G the
 *             bins that hold values, clamped to [0, 1] (noise gives about
 *             0, a pure daily sine about 1); NaN when n <= G or the series
 *             is constant. Computed per resource, then averaged over the
 *             resources where it is defined.
 */
#ifndef SHD_FIDELITY_H
#define SHD_FIDELITY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct shd_util;

#define SHD_MS_HOUR 3600000LL
#define SHD_MS_DAY 86400000LL
#define SHD_MS_WEEK (7 * SHD_MS_DAY)

/*
 * KS distance of the sorted, NaN-free samples A (NA values) and B (NB),
 * ties handled exactly. 0 when both are empty, 1 when only one is.
 */
double shd_ks_distance(const double *a, size_t na, const double *b,
		       size_t nb);

/* The quantile P in [0, 1] of the sorted NaN-free X (N values); NaN when
 * N is 0. */
double shd_quantile_sorted(const double *x, size_t n, double p);

/* (s - p) / |p|, 0 when both are 0, NaN when only p is 0 or either NaN. */
double shd_rel_err(double s, double p);

/* Sorts X (N values) ascending; NaN must have been left out. */
void shd_sort_doubles(double *x, size_t n);

/*
 * Cycle strength of X (N values at times T in ms, NaN values skipped):
 * bins of BIN ms within a period of PERIOD ms (PERIOD / BIN at most 168:
 * hours of a week), see above. NaN when undefined.
 */
double shd_cycle_strength(const int64_t *t, const double *x, size_t n,
			  int64_t period, int64_t bin);

/* The figures of one metric. */
struct shd_fid_metric {
	char name[128];
	size_t nprod, nshadow;		/* non-NaN values */
	double ks;			/* NaN when neither has a value */
	double q[3][2];			/* p50, p95, p99 of [prod, shadow] */
	double qerr[3];			/* their relative errors */
	double daily[2], weekly[2];	/* cycle strengths [prod, shadow] */
	int ok;				/* ks <= max_ks (1 when ks is NaN) */
};

/* The whole report. */
struct shd_fidelity {
	double max_ks;
	size_t nmetric;
	struct shd_fid_metric *m;	/* (nmetric) production's metrics */
	int faithful;			/* every metric ok */
};

/* The quantiles reported, in the order of q[] and qerr[]. */
extern const double shd_fid_p[3];
extern const char *const shd_fid_pname[3];

/*
 * Compares SHADOW with PROD metric by metric (production's metrics, found
 * by name in the shadow; one missing there counts as empty, KS 1) against
 * MAX_KS, into F (initialised here; release it). 0 or SHD_ENOMEM.
 */
int shd_fidelity_compute(struct shd_fidelity *f, const struct shd_util *prod,
			 const struct shd_util *shadow, double max_ks);
void shd_fidelity_release(struct shd_fidelity *f);

/*
 * The report as JSON: {"max_ks", "verdict": "faithful" | "not faithful",
 * "failed": [metric, ...], "metrics": {NAME: {"values": {"production",
 * "shadow"}, "ks", "ok", "p50": {"production", "shadow", "rel_err"},
 * "p95", "p99", "daily": {"production", "shadow"}, "weekly"}}}; NaN is
 * null. A new reference, or NULL when out of memory.
 */
json_t *shd_fidelity_json(const struct shd_fidelity *f);

#endif
