/*
 * panel.h - every resource of a utilization stream as regular series on one
 * time grid: what training, prediction and backtests work on (private to
 * libshd until the programs that use it settle).
 */
#ifndef SHD_PANEL_H
#define SHD_PANEL_H

#include <stddef.h>
#include <stdint.h>

#include "shd.h"

/* One resource: samples i = 0..n-1 at t0 + i * step; NaN where missing. */
struct shd_pseries {
	char *key;
	int64_t t0;
	size_t n;
	double *x;		/* (nmetric, n): metric m at x[m * n + i] */
	uint32_t *count;	/* (n) rows that fell into each slot */
};

struct shd_panel {
	int64_t step;		/* ms between samples */
	size_t nmetric;
	char **metric;		/* (nmetric) column names */
	char **unit;		/* (nmetric) their units ("" when none) */
	size_t nseries;
	struct shd_pseries *series;	/* (nseries) in stream order */
	char err[512];		/* the reason of the last failure */
};

void shd_panel_init(struct shd_panel *p);
void shd_panel_release(struct shd_panel *p);

/*
 * Reads the rest of R into P. METRICS (NMETRICS names) chooses the metric
 * columns, NULL or 0 meaning every f64 column but the time and key. STEP is
 * the grid in ms; 0 takes the stream's "interval_ms" metadata, else the
 * median difference of consecutive times of one resource. Each row goes to
 * the slot floor(t / step) * step (the grid of shd-ingest -i); rows that
 * share a slot are averaged, metric by metric, NaN ignored. The stream must
 * be in canonical order (grouped by resource, ascending time).
 * Returns 0; SHD_EFORMAT or SHD_EINVAL with the reason in P->err (a reader
 * error, a missing column, the order broken); SHD_ENOMEM.
 */
int shd_panel_read(struct shd_panel *p, struct shd_reader *r,
		   const char *const *metrics, size_t nmetrics, int64_t step);

/*
 * shd_panel_read, keeping of each resource only the last KEEP(CTX, key)
 * slots of the grid (0: all of them). A forecast from the latest time
 * needs a few weeks at most, however long the history in the stream:
 * memory then holds that much per resource and the rows of one resource.
 */
int shd_panel_read_keep(struct shd_panel *p, struct shd_reader *r,
			const char *const *metrics, size_t nmetrics,
			int64_t step,
			size_t (*keep)(void *ctx, const char *key), void *ctx);

/* Index of the series of resource KEY, or -1. */
long shd_panel_find(const struct shd_panel *p, const char *key);

#endif
