/*
 * replay.c - counterfactual backtests (replay.h has the picture).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "journal.h"
#include "plan.h"
#include "replay.h"
#include "shd.h"
#include "whatif.h"

const char *const shd_policy_name[SHD_NPOL] = {
	"static", "reactive", "percentile", "shd"
};

#define TOL 0.1			/* HPA's tolerance */
#define VPA_Q 0.9		/* VPA's target percentile */
#define VPA_MARGIN 0.15		/* and its safety margin */
#define HALF_LIFE_S 86400.0	/* of the decaying histogram */
#define NBIN 400		/* 0 to 2000% of A0 in 5% bins */
#define BIN_W 5.0

struct pol {
	double a;		/* the allocation in force */
	double next;		/* decided, not yet in force (NaN: none) */
	size_t next_at;		/* step it takes effect */
	int64_t last_change;	/* ms; INT64_MIN none */
	int was_up;		/* the last step asked for more */
	double *lead;		/* minutes, of alerts before a breach */
	size_t nlead;
	double alloc_sum, slack_sum;
	size_t slack_n;
};

/* A knob's value as an executor would set it. */
static double round_knob(int k, double v)
{
	switch (k) {
	case SHD_KNOB_REPLICAS: return ceil(v - 1e-9);
	case SHD_KNOB_CPU: return fmax(ceil(v * 1000 - 1e-9) / 1000, 0.001);
	default: return fmax(ceil(v / 1048576.0 - 1e-9), 1) * 1048576.0;
	}
}

static double clamp(const struct shd_knob_conf *kc, double v)
{
	return fmin(fmax(v, kc->min), kc->max);
}

static void decide(struct pol *q, double to, size_t at)
{
	if (isnan(to) || to == q->a || (!isnan(q->next) && q->next == to))
		return;
	q->next = to;
	q->next_at = at;
}

/* The 0.9 quantile of the decaying histogram, in percent of A0. */
static double quantile(const double *h, double total, double q)
{
	double acc = 0;

	for (size_t b = 0; b <= NBIN; b++) {
		acc += h[b];
		if (acc >= q * total)
			return (double)(b + 1) * BIN_W;
	}
	return (NBIN + 1) * BIN_W;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* An alert at step I: counted, and its lead to the next static breach. */
static int alert(struct pol *q, struct shd_replay_result *res,
		 const unsigned char *breach, size_t n, size_t i,
		 const struct shd_replay_opts *o)
{
	res->alerts++;
	/* during a breach it is too late to count as a warning */
	for (size_t j = i + 1; !breach[i] && j < n && j <= i + o->horizon;
	     j++) {
		if (!breach[j])
			continue;
		double *nl = realloc(q->lead, (q->nlead + 1) * sizeof(*nl));

		if (!nl)
			return SHD_ENOMEM;
		q->lead = nl;
		q->lead[q->nlead++] = (double)(j - i) * o->step_s / 60;
		res->alerts_before++;
		break;
	}
	return 0;
}

/* shd's decision at step I: plan.h's sizing on the forecast under A. */
static double shd_decides(struct shd_resource_conf *r, int knob,
			  const struct shd_metric_conf *m, double limit,
			  const struct shd_replay_point *p, double f,
			  const struct pol *q, int up, int64_t t)
{
	struct shd_config one = { .nres = 1, .res = r };
	struct shd_obs obs = { 0 };
	struct shd_jrec j = { 0 };
	struct shd_plan plan;
	double to = NAN;

	(void)limit;
	r->knob[knob].current = q->a;
	snprintf(obs.resource, sizeof(obs.resource), "%s", r->name);
	snprintf(obs.metric, sizeof(obs.metric), "%s", m->name);
	obs.time = t;
	obs.cur = obs.pred = p->u * f;
	obs.peak = p->peak * f;
	obs.peak_hi = p->peak_hi * f;
	obs.conf = p->conf;
	obs.breach_in = NAN;
	obs.severity = up ? SHD_SEV_CRITICAL : SHD_SEV_WARNING;
	obs.alert = obs.kept = 1;
	obs.up_open = up;
	if (q->last_change != INT64_MIN) {
		snprintf(j.event, sizeof(j.event), "done");
		snprintf(j.resource, sizeof(j.resource), "%s", r->name);
		j.knob = knob;
		j.to = q->a;
		j.from = NAN;
		j.time = q->last_change;
	}
	shd_plan_init(&plan);
	if (shd_plan_build(&plan, &one, &obs, 1, &j,
			   q->last_change != INT64_MIN, t) == 0)
		for (size_t i = 0; i < plan.nact; i++)
			if (plan.act[i].knob == knob)
				to = plan.act[i].to;
	shd_plan_release(&plan);
	return to;
}

int shd_replay_run(struct shd_resource_conf *r, int knob,
		   const struct shd_metric_conf *m, double limit,
		   const struct shd_replay_point *p, size_t n,
		   const struct shd_replay_opts *o,
		   struct shd_replay_result res[SHD_NPOL],
		   shd_replay_fn fn, void *ctx)
{
	const struct shd_knob_conf *kc = &r->knob[knob];
	double a0 = kc->current, target = m->target * 100;
	double decay = exp(-M_LN2 * o->step_s / HALF_LIFE_S);
	double *hist = NULL, htotal = 0, *want = NULL;
	unsigned char *breach = NULL;
	struct pol q[SHD_NPOL];
	int rc = 0;

	if (!kc->set || !n || !(a0 > 0))
		return SHD_EINVAL;
	memset(q, 0, sizeof(q));
	memset(res, 0, SHD_NPOL * sizeof(*res));
	hist = calloc(NBIN + 1, sizeof(*hist));
	want = calloc(n, sizeof(*want));
	breach = calloc(n, 1);
	if (!hist || !want || !breach) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		breach[i] = !isnan(p[i].u) && p[i].u >= limit;
	for (int k = 0; k < SHD_NPOL; k++) {
		q[k].a = a0;
		q[k].next = NAN;
		q[k].last_change = INT64_MIN;
	}
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < SHD_NPOL; k++) {
			struct pol *w = &q[k];
			double f, u;

			if (!isnan(w->next) && i >= w->next_at) {
				w->a = w->next;
				w->next = NAN;
				w->last_change = p[i].time;
				res[k].changes++;
			}
			f = shd_whatif_factor(r, m, m->name, 1, knob, a0, w->a,
					      1);
			u = p[i].u * f;
			w->alloc_sum += w->a;
			res[k].steps++;
			if (!isnan(u)) {
				if (u >= limit)
					res[k].breach_min += o->step_s / 60;
				w->slack_sum += 1 - fmin(u, 100) / 100;
				w->slack_n++;
			}
			if (fn && (rc = fn(ctx, p[i].time, k, w->a, u)))
				goto out;
			if (isnan(u))
				continue;
			if (k == SHD_POL_REACTIVE) {
				double ratio = u / target;
				int up = ratio > 1 + TOL;
				double d = fabs(ratio - 1) <= TOL ? w->a
					   : round_knob(knob, w->a * ratio);
				double rec = d;
				size_t from = i >= o->stabilize
					      ? i - o->stabilize + 1 : 0;

				want[i] = clamp(kc, d);
				if (up && !w->was_up &&
				    (rc = alert(w, &res[k], breach, n, i, o)))
					goto out;
				w->was_up = up;
				if (up) {
					decide(w, want[i], i + o->delay);
					continue;
				}
				for (size_t j = from; j < i; j++)
					rec = fmax(rec, want[j]);
				if (clamp(kc, rec) < w->a)
					decide(w, clamp(kc, rec),
					       i + o->delay);
			} else if (k == SHD_POL_PERCENTILE) {
				size_t b = (size_t)fmin(p[i].u / BIN_W, NBIN);

				for (size_t j = 0; j <= NBIN; j++)
					hist[j] *= decay;
				htotal = htotal * decay + 1;
				hist[b] += 1;
				if (i + 1 >= o->vpa_every &&
				    (i + 1) % o->vpa_every == 0)
					decide(w, clamp(kc, round_knob(knob,
						a0 * quantile(hist, htotal,
							      VPA_Q) / 100 *
						(1 + VPA_MARGIN))),
					       i + o->delay);
			} else if (k == SHD_POL_SHD && isnan(w->next)) {
				double hi = (isnan(p[i].peak_hi) ? p[i].peak
					     : p[i].peak_hi) * f;
				int up = hi >= limit, down = hi < target / 2;

				if (up && !w->was_up &&
				    (rc = alert(w, &res[k], breach, n, i, o)))
					goto out;
				w->was_up = up;
				if (up || down)
					decide(w, shd_decides(r, knob, m, limit,
							      &p[i], f, w, up,
							      p[i].time),
					       i + o->delay);
			}
		}
	}
	for (int k = 0; k < SHD_NPOL; k++) {
		res[k].slack = q[k].slack_n ? q[k].slack_sum / q[k].slack_n
					    : NAN;
		res[k].alloc_mean = q[k].alloc_sum / (double)n;
		res[k].lead_median_min = NAN;
		if (q[k].nlead) {
			qsort(q[k].lead, q[k].nlead, sizeof(double),
			      cmp_double);
			res[k].lead_median_min = q[k].nlead % 2
				? q[k].lead[q[k].nlead / 2]
				: (q[k].lead[q[k].nlead / 2 - 1] +
				   q[k].lead[q[k].nlead / 2]) / 2;
		}
	}
out:
	r->knob[knob].current = a0;
	for (int k = 0; k < SHD_NPOL; k++)
		free(q[k].lead);
	free(hist);
	free(want);
	free(breach);
	return rc;
}
