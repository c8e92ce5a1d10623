/*
 * plan.h - adjustment plans (shd-plan, shd-apply; man/shd-plan.1).
 *
 * The picture. shd-plan gathers, per resource and metric, the newest
 * observation (an alert of shd-drift, with the forecast's peak and upper
 * bound over the horizon). A resource with a kept alert gets its knobs
 * sized from every metric that drives them:
 *
 *   replicas  R' = ceil(R * u_hi / target), u_hi the upper bound's peak
 *             as a fraction of one replica's allocation (HPA's rule, on
 *             the forecast); unchanged within 10% (HPA's tolerance). A
 *             smaller R' is a scale-down that the upper bound fits.
 *   cpu,      L' = max(peak * (1 + headroom), peak_hi), the peaks in the
 *   memory    knob's unit; a percent metric whose upper bound reaches 100%
 *             is censored (the limit binds: throttled or reclaimed), so
 *             L' is at least L * (1 + headroom); unchanged within 10%;
 *             millicores, MiB.
 *   storage   grown, never shrunk, when the upper bound fills it (or the
 *             alert predicts a breach) within the horizon: S' =
 *             peak_hi / target, whole GiB.
 *
 * Then the guard rails, in order, each recorded on the action it changed:
 * "min", "max" (bounds), "max_step" (largest change), "scale_up_open" (no
 * scale-down of a resource while a scale-up alert of it is open: one whose
 * forecast window has not passed), "cooldown" (no change within the
 * resource's cooldown after the journal's last change of it; the action
 * is held). Suppressed alerts (the filter's) never make an action.
 *
 * The starting allocation of a knob is the journal's last applied value
 * when there is one, else the configuration's "current".
 *
 * A plan is JSON; its id is the first 16 hex digits of the SHA-256 of its
 * canonical content (actions, held, the configuration's digest), so the
 * same situation planned twice has the same id and applying it twice is a
 * no-op. A signed plan carries an HMAC-SHA256 of its canonical text.
 */
#ifndef SHD_PLAN_H
#define SHD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "journal.h"

/* The newest word on one metric of one resource. */
struct shd_obs {
	char resource[256];
	char metric[64];
	int64_t time;		/* the forecast's origin, ms */
	double cur, pred, conf;	/* at the step that counted */
	double peak, peak_hi;	/* over the horizon */
	double breach_in;	/* seconds; NaN none */
	double score;
	int severity;		/* enum shd_severity */
	int alert;		/* 0: no alert, only numbers */
	int kept;		/* an alert the filter kept */
	char reason[64];	/* why not kept */
	int up_open;		/* a scale-up alert of the resource is open */
};

enum {
	SHD_GUARD_MIN = 1 << 0,
	SHD_GUARD_MAX = 1 << 1,
	SHD_GUARD_STEP = 1 << 2,
	SHD_GUARD_UP_OPEN = 1 << 3,
	SHD_GUARD_COOLDOWN = 1 << 4,
	SHD_NGUARD = 5
};
extern const char *const shd_guard_name[SHD_NGUARD];

struct shd_action {
	char resource[256];
	int knob;
	double from, to;	/* to == from when held */
	double wanted;		/* before the guard rails */
	char metric[64];	/* the metric that set the size */
	int severity;
	int64_t time;		/* origin of the alert behind it */
	unsigned guards;	/* SHD_GUARD_* that changed it */
	char reason[512];	/* in words */
};

struct shd_plan {
	char id[17];
	int64_t created;
	char config_sha256[65];
	size_t nact, nheld, nign;
	struct shd_action *act, *held;
	struct { char resource[256], metric[64], why[160]; } *ign;
};

void shd_plan_init(struct shd_plan *p);
void shd_plan_release(struct shd_plan *p);

/*
 * Builds plan P from observations OBS (N) against configuration C and the
 * journal J (NJ records, may be empty) at time NOW (ms). Resources not in
 * C and suppressed alerts are listed as ignored. 0 or SHD_ENOMEM.
 */
int shd_plan_build(struct shd_plan *p, const struct shd_config *c,
		   const struct shd_obs *obs, size_t n,
		   const struct shd_jrec *j, size_t nj, int64_t now);

/*
 * Checks that every number of P can be written as JSON: 0, or
 * SHD_ENUMERIC with "action N (resource 'r', knob k, metric 'm'): 'to'
 * is inf, not a finite number" in WHY (N bytes). shd_plan_json fails on
 * such a plan; call this first to say why.
 */
int shd_plan_check(const struct shd_plan *p, char *why, size_t n);

/*
 * The plan as JSON (a new reference): "shd_plan", "id", "created",
 * "config", "actions", "held", "ignored", each action naming its executor
 * from C (may be NULL); signed with KEY (KLEN bytes) when KEY is not NULL.
 * NULL on out of memory.
 */
json_t *shd_plan_json(const struct shd_plan *p, const struct shd_config *c,
		      const unsigned char *key, size_t klen);

/*
 * Reads a plan file. With KEY, the signature must be there and match;
 * without, a signature is not checked (*SIGNED says one is there). The id
 * must match the content and every name pass shd_name_ok. 0; SHD_EFORMAT
 * with "PATH: $.path: what" in ERR; SHD_EIO.
 */
int shd_plan_load(struct shd_plan *p, const char *path,
		  const unsigned char *key, size_t klen, int *signed_,
		  char *err, size_t n);

#endif
