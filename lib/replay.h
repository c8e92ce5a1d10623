/*
 * replay.h - counterfactual backtests (shd-replay): what shd would have
 * done on a resource's history, next to what other policies would have.
 *
 * The picture. A rolling forecast of history (shd-predict --rolling)
 * gives, at every origin t, what was used then (m.cur) and what was
 * forecast for the next H steps (m.pred, m.hi). The history was measured
 * under the configuration's allocation A0 of the knob; a policy changes
 * the allocation to A(t), and the capacity model (whatif.h) turns the
 * measured utilization into the one the policy would have seen:
 * u'(t) = u(t) * A0 / A(t) for a percent metric (demand is conserved).
 * Each step, for each policy:
 *
 *   breach   u'(t) at or above the metric's limit: a breach minute;
 *   slack    (allocated - used) / allocated = 1 - min(u', 100) / 100
 *            (Google's Autopilot paper), averaged over the steps;
 *   decide   the policy's next allocation, which takes effect after the
 *            delay (grace period + start-up) in steps.
 *
 * The policies:
 *   static      A0 throughout (the configuration as it is);
 *   reactive    an HPA: when u' passes target (10% tolerance), desired =
 *               ceil(A * u' / target) at once (up), and down only to the
 *               largest desired of the stabilization window;
 *   percentile  a VPA-like recommender: every `vpa_every` steps, the
 *               90th percentile of the demand seen (a histogram decaying
 *               with a 24 h half-life) plus 15% margin, at 100%;
 *   shd         at each origin, the forecast under A(t): an upward alert
 *               when the upper bound's peak reaches the limit within the
 *               horizon, a downward one when it stays under half the
 *               target; on an alert, shd-plan's sizing and guard rails
 *               (plan.h) with the configuration's bounds, step and
 *               cooldown.
 *
 * Alerts are counted as the moments a policy asked for more (a reactive
 * crossing of the target, a shd upward alert); one raised while the
 * static allocation is not in breach, that a breach of it follows within
 * the horizon, came "before a breach", with its lead time.
 */
#ifndef SHD_REPLAY_H
#define SHD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum { SHD_POL_STATIC, SHD_POL_REACTIVE, SHD_POL_PERCENTILE, SHD_POL_SHD,
       SHD_NPOL };
extern const char *const shd_policy_name[SHD_NPOL];

struct shd_replay_opts {
	size_t delay;		/* steps from decision to effect */
	size_t stabilize;	/* reactive's down-scale window, steps */
	size_t vpa_every;	/* percentile's period, steps */
	double step_s;		/* seconds per step */
	size_t horizon;		/* steps of the forecast */
};

/* One origin of one resource: what was used, what was forecast. */
struct shd_replay_point {
	int64_t time;
	double u;		/* used at the origin, under A0 (NaN: gap) */
	double peak, peak_hi;	/* of the forecast over the horizon */
	double conf;
};

/* The outcome of one policy on one resource. */
struct shd_replay_result {
	double breach_min, slack;	/* slack: mean over steps */
	size_t steps, changes, alerts, alerts_before;
	double lead_median_min;		/* NaN when no alert came before */
	double alloc_mean;
};

/*
 * Called for every step and policy with the allocation and the
 * utilization the policy would have seen (for the allocation stream);
 * may be NULL.
 */
typedef int (*shd_replay_fn)(void *ctx, int64_t t, int policy,
			     double alloc, double util);

/*
 * Replays the N points (ascending time, one per step) of resource R,
 * whose knob KNOB is sized by metric M (a percent metric) with limit
 * LIMIT, under every policy. R is changed while it runs and put back.
 * 0, SHD_EINVAL (no such knob, no points), SHD_ENOMEM, or FN's non-zero.
 */
int shd_replay_run(struct shd_resource_conf *r, int knob,
		   const struct shd_metric_conf *m, double limit,
		   const struct shd_replay_point *p, size_t n,
		   const struct shd_replay_opts *o,
		   struct shd_replay_result res[SHD_NPOL],
		   shd_replay_fn fn, void *ctx);

#endif
