/*
 * plan.c - sizing, guard rails and the plan file (plan.h has the picture).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "drift.h"
#include "plan.h"
#include "shd.h"
#include "sign.h"

const char *const shd_guard_name[SHD_NGUARD] = {
	"min", "max", "max_step", "scale_up_open", "cooldown"
};

/* HPA's tolerance: a change of under 10% is no change. */
#define TOLERANCE 0.1

static const double MIB = 1048576.0, GIB = 1073741824.0;

void shd_plan_init(struct shd_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void shd_plan_release(struct shd_plan *p)
{
	free(p->act);
	free(p->held);
	free(p->ign);
	memset(p, 0, sizeof(*p));
}

static const char *unit_of(int knob)
{
	static const char *const u[SHD_NKNOB] = { "replicas", "cores",
						  "bytes", "bytes" };
	return u[knob];
}

/* ---------------------------------------------------------------- sizing */

/* A metric's value in the knob's own unit (cores, bytes) at FROM. */
static double absolute(const struct shd_metric_conf *m, double v,
		       double from)
{
	return m->unit == SHD_UNIT_PERCENT ? v / 100 * from : v;
}

/* The upper bound's peak, or the forecast's where there is no interval. */
static double upper(const struct shd_obs *o)
{
	/* an infinite bound (a model too short to calibrate) says nothing */
	return isfinite(o->peak_hi) ? o->peak_hi : o->peak;
}

/* What knob K of R (now FROM) should be for metric M's observation O;
 * NaN when the metric says nothing about it. */
static double size_knob(int k, const struct shd_metric_conf *m,
			const struct shd_obs *o, double from)
{
	double hi = upper(o), need;

	if (isnan(hi))
		return NAN;
	switch (k) {
	case SHD_KNOB_REPLICAS:
		if (m->unit == SHD_UNIT_PERCENT) {
			need = from * (hi / 100) / m->target;
		} else {
			if (!(m->capacity > 0))
				return NAN;
			need = hi / (m->capacity * m->target);
		}
		if (from > 0 && fabs(need / from - 1) <= TOLERANCE)
			return from;
		return ceil(need - 1e-9);
	case SHD_KNOB_CPU:
	case SHD_KNOB_MEMORY: {
		double pk = absolute(m, isnan(o->peak) ? hi : o->peak, from);
		double ph = absolute(m, hi, from);

		need = fmax(pk * (1 + m->headroom), ph);
		/* at 100% of a limit the demand is censored (throttled, or
		 * reclaimed): the real need is unknown, so at least the
		 * headroom more */
		if (m->unit == SHD_UNIT_PERCENT && hi >= 100)
			need = fmax(need, from * (1 + m->headroom));
		/* a percent metric's limit (shd-drift's critical line) holds
		 * for the size too: the upper bound at most the limit, and
		 * what that takes is never within the tolerance */
		if (m->unit == SHD_UNIT_PERCENT && m->limit > 0 &&
		    hi > m->limit && from > 0)
			need = fmax(need, from * hi / m->limit);
		else if (from > 0 && fabs(need / from - 1) <= TOLERANCE)
			return from;
		if (k == SHD_KNOB_CPU)
			return fmax(ceil(need * 1000 - 1e-9) / 1000, 0.001);
		return fmax(ceil(need / MIB - 1e-9) * MIB, MIB);
	}
	default: {
		double used = absolute(m, hi, from);
		int fills = used >= from ||
			    (o->alert && o->kept && isfinite(o->breach_in));

		if (!fills)
			return from;
		need = ceil(used / m->target / GIB - 1e-9) * GIB;
		return need > from ? need : from;
	}
	}
}

/* "92.1%" or "1.5 GiB" or "0.75 cores": a metric's value for people. */
static void show(char *b, size_t n, const struct shd_metric_conf *m,
		 int knob, double v)
{
	if (isnan(v))
		snprintf(b, n, "?");
	else if (m->unit == SHD_UNIT_PERCENT)
		snprintf(b, n, "%.1f%%", v);
	else if (knob == SHD_KNOB_MEMORY || knob == SHD_KNOB_STORAGE)
		snprintf(b, n, "%.2f GiB", v / GIB);
	else
		snprintf(b, n, "%.4g", v);
}

static void reason(struct shd_action *a, const struct shd_metric_conf *m,
		   const struct shd_obs *o)
{
	char pk[32], hi[32], cur[32], f[32], t[32], br[64] = "";
	size_t l;

	show(pk, sizeof(pk), m, a->knob, o->peak);
	show(hi, sizeof(hi), m, a->knob, o->peak_hi);
	show(cur, sizeof(cur), m, a->knob, o->cur);
	shd_knob_format(a->knob, a->from, f, sizeof(f));
	shd_knob_format(a->knob, a->wanted, t, sizeof(t));
	if (o->alert && isfinite(o->breach_in))
		snprintf(br, sizeof(br), "; its limit is reached in %.0f min",
			 o->breach_in / 60);
	l = (size_t)snprintf(a->reason, sizeof(a->reason),
			     "%s forecast to peak at %s (upper bound %s) "
			     "from %s now, confidence %.2f%s; ",
			     m->name, pk, hi, cur, o->conf, br);
	if (l >= sizeof(a->reason))
		return;
	switch (a->knob) {
	case SHD_KNOB_REPLICAS:
		snprintf(a->reason + l, sizeof(a->reason) - l,
			 "at a target of %.0f%% per replica, %s replicas "
			 "need %s", m->target * 100, f, t);
		break;
	case SHD_KNOB_CPU:
	case SHD_KNOB_MEMORY:
		snprintf(a->reason + l, sizeof(a->reason) - l,
			 "%s limit %s -> %s: the peak plus %.0f%% headroom, "
			 "at least the upper bound", shd_knob_name[a->knob],
			 f, t, m->headroom * 100);
		break;
	default:
		snprintf(a->reason + l, sizeof(a->reason) - l,
			 "fills %s within the horizon; %s keeps it at %.0f%%",
			 f, t, m->target * 100);
	}
}

/* ----------------------------------------------------------- the rails */

/* Bounds, step and the open scale-up alert: TO for the wanted size. */
static double rails(const struct shd_knob_conf *kc, int knob, double from,
		    double wanted, int up_open, unsigned *g)
{
	double to = wanted, step = kc->max_step;

	if (to < kc->min) {
		to = kc->min;
		*g |= SHD_GUARD_MIN;
	}
	if (to > kc->max) {
		to = kc->max;
		*g |= SHD_GUARD_MAX;
	}
	if (knob == SHD_KNOB_REPLICAS)
		step = floor(step);
	if (fabs(to - from) > step && step > 0) {
		to = to > from ? from + step : from - step;
		*g |= SHD_GUARD_STEP;
	}
	if (to < from && up_open) {
		to = from;
		*g |= SHD_GUARD_UP_OPEN;
	}
	return to;
}

static int push(struct shd_action **v, size_t *n, const struct shd_action *a)
{
	struct shd_action *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return SHD_ENOMEM;
	nv[(*n)++] = *a;
	*v = nv;
	return 0;
}

static int ignore(struct shd_plan *p, const char *res, const char *metric,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int ignore(struct shd_plan *p, const char *res, const char *metric,
		  const char *fmt, ...)
{
	void *nv = realloc(p->ign, (p->nign + 1) * sizeof(*p->ign));
	va_list ap;

	if (!nv)
		return SHD_ENOMEM;
	p->ign = nv;
	snprintf(p->ign[p->nign].resource, sizeof(p->ign->resource), "%s",
		 res);
	snprintf(p->ign[p->nign].metric, sizeof(p->ign->metric), "%s",
		 metric);
	va_start(ap, fmt);
	vsnprintf(p->ign[p->nign].why, sizeof(p->ign->why), fmt, ap);
	va_end(ap);
	p->nign++;
	return 0;
}

/* The newest "done" record of any knob of RES. */
static const struct shd_jrec *last_of(const struct shd_jrec *j, size_t nj,
				      const char *res)
{
	for (size_t i = nj; i-- > 0;)
		if (strcmp(j[i].event, "done") == 0 &&
		    strcmp(j[i].resource, res) == 0)
			return &j[i];
	return NULL;
}

static const struct shd_obs *obs_of(const struct shd_obs *obs, size_t n,
				    const char *res, const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(obs[i].resource, res) == 0 &&
		    strcmp(obs[i].metric, metric) == 0)
			return &obs[i];
	return NULL;
}

/* Plans knob K of R, the alerts of R kept. */
static int plan_knob(struct shd_plan *p, const struct shd_resource_conf *r,
		     int k, const struct shd_obs *obs, size_t n,
		     const struct shd_jrec *j, size_t nj, int64_t now,
		     int up_open)
{
	const struct shd_jrec *lc = shd_journal_last_change(j, nj, r->name, k);
	const struct shd_jrec *last = last_of(j, nj, r->name);
	const struct shd_metric_conf *best = NULL;
	const struct shd_obs *bo = NULL;
	struct shd_action a = { 0 };
	double from = lc && isfinite(lc->to) ? lc->to : r->knob[k].current;
	double wanted = NAN;
	int triggered = 0, sev = SHD_SEV_INFO;
	int64_t t = 0;

	for (size_t i = 0; i < r->nmetric; i++) {
		const struct shd_metric_conf *m = &r->metric[i];
		const struct shd_obs *o;
		double w;

		if (!(m->drives & (1u << k)) ||
		    !(o = obs_of(obs, n, r->name, m->name)))
			continue;
		if (o->alert && o->kept) {
			triggered = 1;
			sev = o->severity > sev ? o->severity : sev;
			t = o->time > t ? o->time : t;
		}
		w = size_knob(k, m, o, from);
		if (!isnan(w) && (isnan(wanted) || w > wanted)) {
			wanted = w;
			best = m;
			bo = o;
		}
	}
	if (!triggered || !best)
		return 0;
	snprintf(a.resource, sizeof(a.resource), "%s", r->name);
	snprintf(a.metric, sizeof(a.metric), "%s", best->name);
	a.knob = k;
	a.from = from;
	a.wanted = wanted;
	a.severity = sev;
	a.time = t;
	a.to = rails(&r->knob[k], k, from, wanted, up_open, &a.guards);
	reason(&a, best, bo);
	if (a.to == from && !a.guards)
		return 0;	/* the allocation is right as it is */
	if (a.to != from && last && now - last->time <
	    (int64_t)(r->cooldown * 1000)) {
		a.guards |= SHD_GUARD_COOLDOWN;
		a.to = from;
	}
	if (a.to == from)
		return push(&p->held, &p->nheld, &a);
	return push(&p->act, &p->nact, &a);
}

/*
 * Fleets have tens of thousands of resources: the observations and the
 * journal's "done" records are grouped by resource once (a stable sort,
 * so each resource's rows keep their order and every lookup below finds
 * what a scan of the whole would), and each resource plans from its own
 * run of them.
 */
struct byname {
	const char *name;
	size_t i;
};

static int cmp_byname(const void *a, const void *b)
{
	const struct byname *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The run [*LO, *HI) of NAME in K (N, sorted). */
static void run_of(const struct byname *k, size_t n, const char *name,
		   size_t *lo, size_t *hi)
{
	size_t a = 0, b = n;

	while (a < b) {		/* the first >= NAME */
		size_t m = a + (b - a) / 2;
		if (strcmp(k[m].name, name) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < n && strcmp(k[a].name, name) == 0)
		a++;
	*hi = a;
}

int shd_plan_build(struct shd_plan *p, const struct shd_config *c,
		   const struct shd_obs *obs, size_t n,
		   const struct shd_jrec *j, size_t nj, int64_t now)
{
	struct byname *ko = malloc((n ? n : 1) * sizeof(*ko));
	struct byname *kj = malloc((nj ? nj : 1) * sizeof(*kj));
	struct byname *kc = malloc((c->nres ? c->nres : 1) * sizeof(*kc));
	struct shd_obs *so = malloc((n ? n : 1) * sizeof(*so));
	struct shd_jrec *sj = malloc((nj ? nj : 1) * sizeof(*sj));
	size_t nd = 0, lo, hi;
	int rc = 0;

	if (!ko || !kj || !kc || !so || !sj) {
		rc = SHD_ENOMEM;
		goto out;
	}
	p->created = now;
	memcpy(p->config_sha256, c->sha256, sizeof(p->config_sha256));
	for (size_t i = 0; i < n; i++)
		ko[i] = (struct byname){ obs[i].resource, i };
	qsort(ko, n, sizeof(*ko), cmp_byname);
	for (size_t i = 0; i < n; i++)
		so[i] = obs[ko[i].i];
	for (size_t i = 0; i < nj; i++)
		if (strcmp(j[i].event, "done") == 0)
			kj[nd++] = (struct byname){ j[i].resource, i };
	qsort(kj, nd, sizeof(*kj), cmp_byname);
	for (size_t i = 0; i < nd; i++)
		sj[i] = j[kj[i].i];	/* shallow: only read below */
	for (size_t i = 0; i < c->nres; i++)
		kc[i] = (struct byname){ c->res[i].name, i };
	qsort(kc, c->nres, sizeof(*kc), cmp_byname);

	for (size_t i = 0; i < n; i++) {
		const struct shd_obs *o = &obs[i];

		if (!o->alert)
			continue;
		run_of(kc, c->nres, o->resource, &lo, &hi);
		if (lo < hi)
			continue;
		if (o->kept && (rc = ignore(p, o->resource, o->metric,
					    "not in the configuration")))
			goto out;
	}
	for (size_t ri = 0; ri < c->nres; ri++) {
		const struct shd_resource_conf *r = &c->res[ri];
		const struct shd_obs *ro;
		const struct shd_jrec *rj;
		size_t rn, rnj;
		int kept = 0, up_open = 0;

		run_of(ko, n, r->name, &lo, &hi);
		ro = so + lo;
		rn = hi - lo;
		run_of(kj, nd, r->name, &lo, &hi);
		rj = sj + lo;
		rnj = hi - lo;
		for (size_t i = 0; i < rn; i++) {
			const struct shd_obs *o = &ro[i];

			if (!o->alert)
				continue;
			kept |= o->kept;
			up_open |= o->up_open;
			if (!o->kept && (rc = ignore(p, r->name, o->metric,
						     "alert not kept: %s",
						     o->reason)))
				goto out;
		}
		if (!kept)
			continue;
		/* a kept alert no knob listens to is said, not dropped */
		for (size_t i = 0; i < rn; i++) {
			const struct shd_obs *o = &ro[i];
			const struct shd_metric_conf *m;

			if (!o->alert || !o->kept)
				continue;
			m = shd_resource_metric(r, o->metric);
			if ((!m || !m->drives) &&
			    (rc = ignore(p, r->name, o->metric, "%s drives no "
					 "knob of %s in the configuration",
					 o->metric, r->name)))
				goto out;
		}
		for (int k = 0; k < SHD_NKNOB; k++)
			if (r->knob[k].set &&
			    (rc = plan_knob(p, r, k, ro, rn, rj, rnj, now,
					    up_open)))
				goto out;
	}
out:
	free(ko);
	free(kj);
	free(kc);
	free(so);
	free(sj);
	return rc;
}

/* ------------------------------------------------------------- the file */

static json_t *action_json(const struct shd_action *a, const char *exec)
{
	char t[40];
	json_t *g = json_array(), *o;

	if (!g)
		return NULL;
	for (int i = 0; i < SHD_NGUARD; i++)
		if (a->guards & (1u << i))
			json_array_append_new(g, json_string(
					      shd_guard_name[i]));
	shd_time_format(a->time, t, sizeof(t));
	/* JSON has no inf (json_pack fails on it): an infinite want (an
	 * unbounded interval) is left out, as core() makes it null, and
	 * shd_plan_load reads "wanted" as optional */
	o = json_pack("{s:s, s:s, s:f, s:f, s:o*, s:s, s:s, s:s, s:s, s:s, "
		      "s:o, s:s}",
		      "resource", a->resource, "knob", shd_knob_name[a->knob],
		      "from", a->from, "to", a->to, "wanted",
		      isfinite(a->wanted) ? json_real(a->wanted) : NULL,
		      "unit", unit_of(a->knob), "metric", a->metric,
		      "severity", shd_severity_name(a->severity),
		      "time", t, "reason", a->reason, "guard", g,
		      "executor", exec);
	return o;
}

/* The first action of V (N) whose from or to is not finite: "what" text. */
static int check_actions(const struct shd_action *v, size_t n,
			 const char *list, char *why, size_t wn)
{
	for (size_t i = 0; i < n; i++) {
		const char *f = !isfinite(v[i].from) ? "from"
				: !isfinite(v[i].to) ? "to" : NULL;
		if (!f)
			continue;
		snprintf(why, wn, "%s %zu (resource '%s', knob %s, metric "
			 "'%s'): '%s' is %g, not a finite number",
			 list, i + 1, v[i].resource, shd_knob_name[v[i].knob],
			 v[i].metric, f, !strcmp(f, "from") ? v[i].from
			 : v[i].to);
		return SHD_ENUMERIC;
	}
	return 0;
}

int shd_plan_check(const struct shd_plan *p, char *why, size_t n)
{
	int rc = check_actions(p->act, p->nact, "action", why, n);

	return rc ? rc : check_actions(p->held, p->nheld, "held action", why,
				       n);
}

/*
 * What ids and signatures are made of: the actions as the program holds
 * them (numbers as doubles, times in ms), dumped compact with sorted keys,
 * so that a plan reformatted by another tool (jq) keeps its id and
 * signature, and any change of what it does changes both.
 */
static json_t *core(const struct shd_action *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_pack("{s:s, s:i, s:f, s:f, s:o, s:s, s:i, "
				      "s:I, s:i, s:s}",
				      "resource", v[i].resource,
				      "knob", v[i].knob,
				      "from", v[i].from, "to", v[i].to,
				      "wanted", isfinite(v[i].wanted)
				      ? json_real(v[i].wanted) : json_null(),
				      "metric", v[i].metric,
				      "severity", v[i].severity,
				      "time", (json_int_t)v[i].time,
				      "guard", (int)v[i].guards,
				      "reason", v[i].reason);

		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The canonical text of P: with CREATED for signatures, without for ids. */
static char *canonical(const struct shd_plan *p, int created)
{
	json_t *j = json_pack("{s:o, s:o, s:s}", "actions",
			      core(p->act, p->nact), "held",
			      core(p->held, p->nheld), "config",
			      p->config_sha256);
	char *s;

	if (j && created)
		json_object_set_new(j, "created", json_integer(p->created));
	s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
			   JSON_REAL_PRECISION(17)) : NULL;
	json_decref(j);
	return s;
}

/* The id: the first 16 hex digits of the canonical text's SHA-256. */
static int plan_id(const struct shd_plan *p, char id[17])
{
	char *s = canonical(p, 0), hex[65];

	if (!s)
		return SHD_ENOMEM;
	shd_sha256_hex(s, strlen(s), hex);
	free(s);
	memcpy(id, hex, 16);
	id[16] = 0;
	return 0;
}

/* The signature: HMAC-SHA256 of the canonical text with "created". */
static int sign(const struct shd_plan *p, const unsigned char *key,
		size_t klen, char hex[65])
{
	char *s = canonical(p, 1);
	int rc;

	if (!s)
		return SHD_ENOMEM;
	rc = shd_hmac_hex(key, klen, s, strlen(s), hex);
	free(s);
	return rc;
}

static json_t *actions_json(const struct shd_action *v, size_t n,
			    const struct shd_config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		const struct shd_resource_conf *r =
			c ? shd_config_find(c, v[i].resource) : NULL;
		json_t *o = action_json(&v[i], r ? shd_exec_name[r->exec.type]
					       : "");

		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *shd_plan_json(const struct shd_plan *p, const struct shd_config *c,
		      const unsigned char *key, size_t klen)
{
	json_t *acts = actions_json(p->act, p->nact, c);
	json_t *held = actions_json(p->held, p->nheld, c);
	json_t *ign = json_array(), *j = NULL;
	char t[40], id[17], hex[65];

	if (!acts || !held || !ign)
		goto fail;
	for (size_t i = 0; i < p->nign; i++)
		json_array_append_new(ign, json_pack("{s:s, s:s, s:s}",
				      "resource", p->ign[i].resource,
				      "metric", p->ign[i].metric,
				      "why", p->ign[i].why));
	if (plan_id(p, id))
		goto fail;
	shd_time_format(p->created, t, sizeof(t));
	j = json_pack("{s:i, s:s, s:s, s:{s:s}, s:O, s:O, s:O}",
		      "shd_plan", 1, "id", id, "created", t,
		      "config", "sha256", p->config_sha256,
		      "actions", acts, "held", held, "ignored", ign);
	if (j && key) {
		if (sign(p, key, klen, hex) ||
		    json_object_set_new(j, "signature", json_pack(
					"{s:s, s:s}", "alg", "hmac-sha256",
					"value", hex)) < 0) {
			json_decref(j);
			j = NULL;
		}
	}
fail:
	json_decref(acts);
	json_decref(held);
	json_decref(ign);
	return j;
}

/* ------------------------------------------------------------- reading */

struct rd {
	const char *path;
	char *err;
	size_t n;
};

__attribute__((format(printf, 3, 4)))
static int bad(struct rd *r, const char *where, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->n, "%s: %s: %s", r->path, where, msg);
	return SHD_EFORMAT;
}

static int read_action(struct rd *r, json_t *o, const char *where,
		       struct shd_action *a)
{
	const char *res = NULL, *knob = NULL, *metric = "", *sev = "warning",
		   *t = NULL, *why = "", *unit = "", *exec = "";
	json_t *g = NULL;
	double from, to, wanted = NAN;
	size_t i;
	json_t *x;

	if (json_unpack(o, "{s:s, s:s, s:F, s:F, s?F, s?s, s?s, s?s, s?s, "
			"s?o, s?s, s?s}", "resource", &res, "knob", &knob,
			"from", &from, "to", &to, "wanted", &wanted,
			"metric", &metric, "severity", &sev, "time", &t,
			"reason", &why, "guard", &g, "unit", &unit,
			"executor", &exec) != 0)
		return bad(r, where, "not an action (resource, knob, from, "
			   "to)");
	if (!shd_name_ok(res))
		return bad(r, where, "resource '%s' is not a valid name", res);
	if ((a->knob = shd_knob_parse(knob)) < 0)
		return bad(r, where, "knob '%s' unknown", knob);
	if (!isfinite(from) || !isfinite(to) || from < 0 || to < 0)
		return bad(r, where, "from and to must be numbers >= 0");
	if (a->knob == SHD_KNOB_REPLICAS && (to != floor(to) ||
					     from != floor(from)))
		return bad(r, where, "replicas are whole numbers");
	snprintf(a->resource, sizeof(a->resource), "%s", res);
	snprintf(a->metric, sizeof(a->metric), "%s", metric);
	snprintf(a->reason, sizeof(a->reason), "%s", why);
	a->from = from;
	a->to = to;
	a->wanted = wanted;
	a->severity = strcmp(sev, "critical") == 0 ? SHD_SEV_CRITICAL
		      : strcmp(sev, "info") == 0 ? SHD_SEV_INFO
		      : SHD_SEV_WARNING;
	if (t && shd_time_parse(t, strlen(t), &a->time) != 0)
		return bad(r, where, "time '%s' is not a time", t);
	if (g && !json_is_array(g))
		return bad(r, where, "guard is not an array");
	json_array_foreach(g, i, x) {
		int k;

		for (k = 0; k < SHD_NGUARD; k++)
			if (json_is_string(x) && strcmp(json_string_value(x),
						shd_guard_name[k]) == 0)
				break;
		if (k == SHD_NGUARD)
			return bad(r, where, "guard[%zu] unknown", i);
		a->guards |= 1u << k;
	}
	return 0;
}

static int read_list(struct rd *r, json_t *arr, const char *key,
		     struct shd_action **v, size_t *n)
{
	char where[64];
	size_t i;
	json_t *o;

	if (!json_is_array(arr))
		return bad(r, "$", "%s: not an array", key);
	if (json_array_size(arr) > 1000000)
		return bad(r, "$", "%s: too many actions", key);
	if (json_array_size(arr) &&
	    !(*v = calloc(json_array_size(arr), sizeof(**v))))
		return SHD_ENOMEM;
	json_array_foreach(arr, i, o) {
		int rc;

		snprintf(where, sizeof(where), "$.%s[%zu]", key, i);
		if ((rc = read_action(r, o, where, &(*v)[i])))
			return rc;
		(*n)++;
	}
	return 0;
}

static int read_plan(struct shd_plan *p, json_t *j, struct rd *r,
		     const unsigned char *key, size_t klen, int *signed_)
{
	const char *id, *created, *sha;
	json_t *acts, *held, *sig = json_object_get(j, "signature");
	char want[17], hex[65];
	int rc;

	if (json_unpack(j, "{s:i}", "shd_plan", &rc) != 0)
		return bad(r, "$.shd_plan", "missing (not a plan)");
	if (rc != 1)
		return bad(r, "$.shd_plan", "version %d not known", rc);
	if (json_unpack(j, "{s:s, s:s, s:{s:s}, s:o, s:o}", "id", &id,
			"created", &created, "config", "sha256", &sha,
			"actions", &acts, "held", &held) != 0)
		return bad(r, "$", "not a plan (id, created, config.sha256, "
			   "actions, held)");
	if ((rc = read_list(r, acts, "actions", &p->act, &p->nact)) ||
	    (rc = read_list(r, held, "held", &p->held, &p->nheld)))
		return rc;
	if (strlen(sha) != 64)
		return bad(r, "$.config.sha256", "not a SHA-256");
	memcpy(p->config_sha256, sha, 65);
	if (shd_time_parse(created, strlen(created), &p->created) != 0)
		return bad(r, "$.created", "not a time");
	if ((rc = plan_id(p, want)))
		return rc;
	if (strcmp(id, want) != 0)
		return bad(r, "$.id", "%s does not match the plan's content "
			   "(%s): the plan was changed", id, want);
	memcpy(p->id, want, sizeof(p->id));
	*signed_ = sig != NULL;
	if (sig) {
		const char *alg, *val;

		if (json_unpack(sig, "{s:s, s:s}", "alg", &alg, "value",
				&val) != 0 || strcmp(alg, "hmac-sha256") != 0)
			return bad(r, "$.signature", "not an hmac-sha256 "
				   "signature");
		if (key) {
			if ((rc = sign(p, key, klen, hex)))
				return rc;
			if (!shd_digest_equal(hex, val))
				return bad(r, "$.signature", "does not match: "
					   "the plan was changed or signed "
					   "with another key");
		}
	} else if (key) {
		return bad(r, "$", "not signed, and a key was given");
	}
	return 0;
}

int shd_plan_load(struct shd_plan *p, const char *path,
		  const unsigned char *key, size_t klen, int *signed_,
		  char *err, size_t n)
{
	struct rd r = { path, err, n };
	json_error_t je;
	json_t *j;
	int rc;

	shd_plan_init(p);
	if (strcmp(path, "-") == 0)
		j = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
	else
		j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (je.line < 0 || strstr(je.text, "unable to open")) {
			snprintf(err, n, "%s: %s", path, je.text);
			return SHD_EIO;
		}
		snprintf(err, n, "%s:%d:%d: not JSON: %s", path, je.line,
			 je.column, je.text);
		return SHD_EFORMAT;
	}
	rc = json_is_object(j) ? read_plan(p, j, &r, key, klen, signed_)
			       : bad(&r, "$", "not a plan");
	json_decref(j);
	if (rc == SHD_ENOMEM)
		snprintf(err, n, "%s: %s", path, strerror(ENOMEM));
	if (rc)
		shd_plan_release(p);
	return rc;
}
