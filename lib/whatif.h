/*
 * whatif.h - the capacity model of shd-whatif (and of replays): what a
 * change of allocation does to the utilization a forecast predicts.
 *
 * Demand is conserved: the work a resource must do does not change when
 * its allocation does, so a utilization measured as a percent of the
 * allocation scales by old / new allocation, and an absolute one (cores,
 * bytes used) does not change at all. A percent metric of a resource
 * depends on:
 *   replicas  when the resource has replicas (the load spreads evenly
 *             over them, as behind a Service);
 *   cpu       when the metric drives the cpu knob or is named "cpu";
 *   memory    when it drives memory or is named "mem" or "memory";
 *   storage   when it drives storage or is named "disk" or "storage".
 *
 * On a shadow (a configuration with "shadow": a fraction F of
 * production), a change is given in production's terms and the result
 * is production's: the shadow's demand over F, over production's new
 * allocation. Knobs that scale with the fleet (replicas, storage) take
 * F; per-replica ones (cpu, memory) do not (confscale.h).
 */
#ifndef SHD_WHATIF_H
#define SHD_WHATIF_H

#include "config.h"

/* One proposed change: RESOURCE's KNOB to TO (production's terms). */
struct shd_whatif_set {
	char resource[256];
	int knob;
	double to;
};

/*
 * Parses "RESOURCE.KNOB=QUANTITY" (web.replicas=6, db.memory=8Gi, also
 * "mem" for memory): 0, or SHD_EINVAL with the reason in ERR.
 */
int shd_whatif_parse(const char *s, struct shd_whatif_set *w, char *err,
		     size_t n);

/*
 * Does metric METRIC of resource R (M its configuration, may be NULL;
 * PERCENT whether its values are a percent of the allocation) depend on
 * KNOB?
 */
int shd_whatif_depends(const struct shd_resource_conf *r,
		       const struct shd_metric_conf *m, const char *metric,
		       int percent, int knob);

/*
 * The factor by which the values of such a metric change when KNOB of R
 * goes to TO (production's terms), with R's allocation now FROM (in R's
 * configuration's terms: the shadow's on a shadow of fraction F, else F
 * is 1). 1 when the metric does not depend on the knob or FROM/TO are
 * not positive.
 */
double shd_whatif_factor(const struct shd_resource_conf *r,
			 const struct shd_metric_conf *m, const char *metric,
			 int percent, int knob, double from, double to,
			 double f);

/*
 * The queueing note: the mean response time of an M/M/1 server at
 * utilization U percent, relative to an idle one, 1 / (1 - U/100); inf
 * at or above 100.
 */
double shd_whatif_slowdown(double u);

#endif
