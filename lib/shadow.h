/*
 * shadow.h - a utilization stream held in memory, and the sampling
 * strategies of shd-shadow that make a shadow of it (private to libshd).
 *
 * A utilization stream (shd-format(5), "utilization"): a column "time"
 * (type time), a column "resource" (type key), and metric columns of type
 * f64 or f32 with role "metric" (or none); in canonical order (grouped by
 * resource, ascending time within one). The strategies, each seeded:
 *
 *   resources   stratified resource sampling by load profile. Per
 *               resource, of one metric: level (mean), variability
 *               (coefficient of variation, sd / |mean|) and daily-cycle
 *               strength (fidelity.h). Strata: the tertiles of each
 *               feature, 27 cells; resources with no value of the metric
 *               form one more. k = round(f N) picks, at least 1, go one to
 *               every non-empty stratum, the rest in proportion to the
 *               strata's sizes (largest remainders); within a stratum the
 *               choice is seeded. When the non-empty strata outnumber the
 *               picks, the strata are made coarser until they do not:
 *               level x variability (9), level (3), then one. The chosen
 *               resources are kept whole.
 *   days, weeks time sampling of whole UTC days (weeks from Monday 00:00
 *               UTC): of the C periods that hold data, k = round(f C), at
 *               least 1, by systematic sampling with a random start (every
 *               C/k-th from a start drawn in [0, C/k)), kept whole for
 *               every resource.
 *   downsample  per resource, buckets of b = round(1/f) rows (on the
 *               stream's grid when it has "interval_ms": bucket start
 *               floor(t / (b interval)) b interval, else b consecutive
 *               rows at the first one's time), one row per bucket: each
 *               metric m the mean of its values, and new columns m.p95
 *               and m.max (NaN values left out; NaN when none).
 */
#ifndef SHD_SHADOW_H
#define SHD_SHADOW_H

#include <stddef.h>
#include <stdint.h>

#include "shd.h"

/* A utilization stream in memory. */
struct shd_util {
	struct shd_schema schema;	/* columns and metadata */
	struct shd_dict *dict;		/* resource names (owned) */
	int tcol, kcol;			/* columns of time and resource */
	size_t nmetric;
	int *mcol;			/* (nmetric) schema column of metric m */
	size_t n, cap;			/* rows */
	int64_t *t;			/* (n) */
	uint32_t *key;			/* (n) ids in dict */
	double **x;			/* (nmetric) arrays of n values */
	size_t nres;
	size_t *rstart;			/* (nres + 1): resource r holds rows
					 * [rstart[r], rstart[r + 1]) */
	char name[256];			/* the input, for messages */
	int64_t last_t;			/* while adding: order checks */
	unsigned char *seen;		/* (dict size) resource seen */
	size_t nseen;
	char err[512];			/* the reason of the last failure */
};

void shd_util_init(struct shd_util *u);
void shd_util_release(struct shd_util *u);

/*
 * Takes the columns of S (copied, metadata too) for rows to come, after
 * checking that it is a utilization stream; NAME is the input's name in
 * messages. 0; SHD_EFORMAT with the reason in U->err; SHD_ENOMEM.
 */
int shd_util_start(struct shd_util *u, const struct shd_schema *s,
		   const char *name);

/*
 * Appends a row of resource KEY at time T with one value per metric
 * (VALS, in metric order). Rows must come in canonical order: SHD_EFORMAT
 * (U->err: what broke it, and the row) otherwise. SHD_ENOMEM.
 */
int shd_util_add(struct shd_util *u, const char *key, int64_t t,
		 const double *vals);

/*
 * Reads the stream R (header read) into U: shd_util_start with its schema,
 * then every row. 0; SHD_EFORMAT (U->err names the input and the block or
 * row: a reader error, not a utilization stream, the order broken);
 * SHD_EIO; SHD_ENOMEM.
 */
int shd_util_read(struct shd_util *u, struct shd_reader *r, const char *name);

/* Index of metric NAME, or -1. */
int shd_util_metric(const struct shd_util *u, const char *name);

/* The name of resource R. */
const char *shd_util_resource(const struct shd_util *u, size_t r);

/* Writes U's rows to W, opened with U's schema (or a copy with other
 * metadata). 0 or the writer's error. */
int shd_util_write(const struct shd_util *u, struct shd_writer *w);

/*
 * DST (initialised here) gets SRC's columns and metadata and the rows i
 * with KEEP[i] set, in order. 0 or SHD_ENOMEM.
 */
int shd_util_subset(struct shd_util *dst, const struct shd_util *src,
		    const unsigned char *keep);

/* -------------------------------------------------------- strategies */

enum shd_strategy { SHD_STRAT_RESOURCES, SHD_STRAT_DAYS, SHD_STRAT_WEEKS,
		    SHD_STRAT_DOWNSAMPLE, SHD_NSTRAT };

/* "resources", "days", "weeks", "downsample". */
extern const char *const shd_strategy_name[SHD_NSTRAT];

#define SHD_MAX_STEPS 8

/*
 * Parses a comma list of strategies ("resources,days") into S (N set; at
 * most SHD_MAX_STEPS, each at most once). 0 or SHD_EINVAL with the reason
 * in ERR (N bytes).
 */
int shd_strategy_parse(const char *list, int *s, size_t *ns, char *err,
		       size_t n);

/* One resource's load profile (of one metric). */
struct shd_profile {
	double level;		/* mean; NaN when no value */
	double cv;		/* sd / |mean|; 0 for a constant, inf when
				 * the mean is 0 and the sd not */
	double daily;		/* daily-cycle strength, NaN as 0 */
};

/* The profile of every resource of U (P holds U->nres) from METRIC. */
void shd_profile_compute(struct shd_profile *p, const struct shd_util *u,
			 size_t metric);

/* What a step did. */
struct shd_step_info {
	int strategy;
	double fraction;	/* asked of this step */
	size_t kept, of;	/* resources, days or weeks; rows for
				 * downsample */
	size_t features;	/* resources: features the strata used (3:
				 * 27 cells, 2: 9, 1: 3, 0: one) */
	size_t strata;		/* resources: non-empty strata */
	size_t bucket;		/* downsample: rows per bucket */
	int64_t interval;	/* downsample: new interval (ms), 0 none */
};

/*
 * Stratified choice of K = round(F N) (at least 1, at most N) of the N
 * profiles P, seeded by SEED: PICK[i] (N) set to 1 for the chosen. CELL
 * (N, may be NULL) gets each one's stratum (0..26 as level * 9 +
 * variability * 3 + daily with the features in use, 27 for no data).
 * INFO may be NULL. 0 or SHD_ENOMEM.
 */
int shd_stratify(unsigned char *pick, size_t *cell, const struct shd_profile *p,
		 size_t n, double f, uint64_t seed, struct shd_step_info *info);

/*
 * The strategies: DST (initialised here) from SRC at fraction F in (0, 1]
 * with SEED. METRIC is the profile metric of resources. 0; SHD_ENOMEM;
 * SHD_EINVAL with the reason in DST->err (downsample of a stream that has
 * m.p95 or m.max columns already).
 */
int shd_shadow_resources(struct shd_util *dst, const struct shd_util *src,
			 double f, uint64_t seed, size_t metric,
			 struct shd_step_info *info);
/* PERIOD SHD_MS_DAY or SHD_MS_WEEK (fidelity.h). */
int shd_shadow_periods(struct shd_util *dst, const struct shd_util *src,
		       double f, uint64_t seed, int64_t period,
		       struct shd_step_info *info);
int shd_shadow_downsample(struct shd_util *dst, const struct shd_util *src,
			  double f, struct shd_step_info *info);

/*
 * Runs the NS strategies S in order on SRC into DST (initialised here):
 * each keeps F^(1/NS) of what it is given, so that together they keep
 * about F; step i is seeded with SEED + i. INFO holds NS entries. 0 or an
 * error of a step (reason in DST->err).
 */
int shd_shadow_run(struct shd_util *dst, const struct shd_util *src,
		   const int *s, size_t ns, double f, uint64_t seed,
		   size_t metric, struct shd_step_info *info);

#endif
