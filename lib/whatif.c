/*
 * whatif.c - the capacity model (whatif.h has the picture).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "shd.h"
#include "whatif.h"

int shd_whatif_parse(const char *s, struct shd_whatif_set *w, char *err,
		     size_t n)
{
	const char *eq = strchr(s, '='), *dot;
	char knob[32];
	size_t rl;

	memset(w, 0, sizeof(*w));
	dot = eq ? memrchr(s, '.', (size_t)(eq - s)) : NULL;
	if (!eq || !dot || dot == s) {
		snprintf(err, n, "'%s': not RESOURCE.KNOB=VALUE (web.replicas=6)",
			 s);
		return SHD_EINVAL;
	}
	rl = (size_t)(dot - s);
	if (rl >= sizeof(w->resource) || (size_t)(eq - dot - 1) >= sizeof(knob)) {
		snprintf(err, n, "'%s': too long", s);
		return SHD_EINVAL;
	}
	memcpy(w->resource, s, rl);
	w->resource[rl] = 0;
	snprintf(knob, sizeof(knob), "%.*s", (int)(eq - dot - 1), dot + 1);
	if (!strcmp(knob, "mem"))
		snprintf(knob, sizeof(knob), "memory");
	if (!shd_name_ok(w->resource)) {
		snprintf(err, n, "'%s': not a resource name", w->resource);
		return SHD_EINVAL;
	}
	if ((w->knob = shd_knob_parse(knob)) < 0) {
		snprintf(err, n, "'%s': not a knob (replicas, cpu, memory, "
			 "storage)", knob);
		return SHD_EINVAL;
	}
	if (shd_quantity_parse(eq + 1, &w->to) != 0 ||
	    (w->knob == SHD_KNOB_REPLICAS && w->to != floor(w->to))) {
		snprintf(err, n, "'%s': not a %s", eq + 1,
			 w->knob == SHD_KNOB_REPLICAS ? "whole number"
						      : "quantity");
		return SHD_EINVAL;
	}
	return 0;
}

static int named(const char *metric, const char *a, const char *b)
{
	return !strcmp(metric, a) || (b && !strcmp(metric, b));
}

int shd_whatif_depends(const struct shd_resource_conf *r,
		       const struct shd_metric_conf *m, const char *metric,
		       int percent, int knob)
{
	unsigned drives = m ? m->drives : 0;

	if (!percent || !r->knob[knob].set)
		return 0;
	switch (knob) {
	case SHD_KNOB_REPLICAS:
		return 1;
	case SHD_KNOB_CPU:
		return (drives & (1u << knob)) || named(metric, "cpu", NULL);
	case SHD_KNOB_MEMORY:
		return (drives & (1u << knob)) ||
		       named(metric, "mem", "memory");
	default:
		return (drives & (1u << knob)) ||
		       named(metric, "disk", "storage");
	}
}

double shd_whatif_factor(const struct shd_resource_conf *r,
			 const struct shd_metric_conf *m, const char *metric,
			 int percent, int knob, double from, double to,
			 double f)
{
	/* the shadow's knobs that scale with the fleet: its demand is F of
	 * production's */
	double scale = (knob == SHD_KNOB_REPLICAS ||
			knob == SHD_KNOB_STORAGE) && f > 0 ? f : 1;

	if (!shd_whatif_depends(r, m, metric, percent, knob) ||
	    !(from > 0) || !(to > 0))
		return 1;
	return from / (to * scale);
}

double shd_whatif_slowdown(double u)
{
	return u >= 100 ? INFINITY : 1 / (1 - fmax(u, 0) / 100);
}
