/*
 * alerteval.h - shd-drift's alerts judged against what happened
 * (shd-drift --eval, and --learn's p_min).
 *
 * As the alerts of a replay come (every origin of every resource, in the
 * stream's order: a resource's origins together and ascending), each
 * resource gets a timeline: its origins, whether a kept alert came at each
 * (of any metric, and of each metric), and the metrics' values then. The
 * timelines are then scored by NAB's method against labelled windows
 * (lib/nab.c), give --learn the windows to choose p_min on (lib/filter.c),
 * and count the breaches of each series' limit that alerts came ahead of
 * (shd_breach_eval, lib/drift.c).
 */
#ifndef SHD_ALERTEVAL_H
#define SHD_ALERTEVAL_H

#include <stdint.h>
#include <stdio.h>

#include "drift.h"
#include "filter.h"
#include "nab.h"
#include "shd.h"

/* One resource's origins. */
struct shd_timeline {
	uint32_t res;		/* the resource's key in the input */
	size_t n, cap;
	int64_t *t;		/* (n) ascending */
	uint8_t *det;		/* (n) a kept alert, of any metric */
	uint8_t *detm;		/* (n, M) a kept alert of that metric */
	double *cur;		/* (n, M) the value then; NaN: none */
};

struct shd_alert_eval {
	size_t nmetric;		/* M */
	struct shd_timeline *tl;
	size_t ntl;
};

void shd_alert_eval_init(struct shd_alert_eval *e, size_t nmetric);
void shd_alert_eval_release(struct shd_alert_eval *e);

/* Notes alert A (one of every metric and origin). 0 or SHD_ENOMEM. */
int shd_alert_eval_add(struct shd_alert_eval *e, const struct shd_alert *a);

/*
 * NAB's scores of the resources the labels LAB know (KEYS: the input's
 * keys, named by file name without directory and extension), a line each,
 * then the raw total and the normalized scores of the three profiles, as a
 * table to FP; LABELS names the labels file. Returns the number of
 * resources scored (0: none of them known).
 */
size_t shd_alert_eval_nab(const struct shd_alert_eval *e,
			  const struct shd_dict *keys,
			  const struct shd_nab_labels *lab,
			  const char *labels, FILE *fp);

/*
 * p_min of F from the labelled windows (shd_filter_tune), each from the end
 * of NAB's probation of its resource. The number of windows that held a
 * candidate, or SHD_ENOMEM.
 */
long shd_alert_eval_tune(const struct shd_alert_eval *e,
			 const struct shd_dict *keys,
			 const struct shd_nab_labels *lab,
			 struct shd_filter *f);

/*
 * Per metric of D, over the series D has a limit for: breaches, those
 * alerted ahead (within HORIZON steps) and the median lead, alerts and
 * false ones per resource-day, a line to FP. 0 or SHD_ENOMEM.
 */
int shd_alert_eval_breach(const struct shd_alert_eval *e,
			  const struct shd_drift *d, size_t horizon, FILE *fp);

#endif
