/*
 * drift.c - drift scoring of a forecast stream: the ahead score of the
 * seed, surprise, severity from predicted breaches, the features and
 * labels of the anomaly filter, and holding off repeats. See drift.h for
 * the picture.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"

#define DAY_MS 86400000LL
#define WEEK_MS (7 * DAY_MS)
#define HOUR_MS 3600000LL

/*
 * Surprise's raw value: log(SURPRISE_OFFSET + r / typ), r the error in the
 * forecast's interval half-widths and typ the series' own quantile of r
 * at the stream's coverage (see surprise()). Its histogram spans r / typ
 * in [0, 1e6].
 */
#define SURPRISE_OFFSET 0.1
#define SURPRISE_BINS 128
#define SURPRISE_LO (-2.31)	/* log(0.1) */
#define SURPRISE_HI 13.82	/* log(0.1 + 1e6) */
/*
 * The histogram of r itself, for its quantile: log2 r in [-20, 20] (1e-6
 * to 1e6), 8 bins an octave, so that scaling r by a power of 2 moves
 * every count by whole bins.
 */
#define RPER 8
#define RLO (-20)
#define RHI 20
#define RBINS ((RHI - RLO) * RPER)

const char *const shd_drift_feature[SHD_NFEAT] = {
	"ahead", "surprise", "run", "day", "week", "event", "up", "conf",
};

const char *shd_severity_name(int sev)
{
	static const char *const name[] = { "info", "warning", "critical" };

	return sev >= 0 && sev <= 2 ? name[sev] : "?";
}

/* Column indexes of one metric in the forecast stream. */
struct mcols {
	char *name;
	int pred, lo, hi, conf, cur, act;
	struct shd_drift_metric set;
};

/* What the scorer remembers of one series (resource, metric). */
struct sstate {
	int seen;
	int64_t prev_origin;	/* origin of the forecast kept below */
	size_t prevn;		/* its steps */
	double *prev_pred, *prev_hw;	/* (prevcap) */
	size_t prevcap;
	double scale;		/* the last one read from the stream */
	int64_t last_cand;	/* origin of the last candidate */
	size_t run;		/* candidates in a row up to last_cand */
	int64_t hold_until;
	int hold_sev;
	double limit;		/* NaN: the metric's */
	int has_limit;
	/* surprise: the last raw values (log) and the running mean and
	 * variance of their short mean */
	float sraw[SHD_DRIFT_SHORT_MAX];
	size_t nraw, nseen;
	/* the range of cur so far, over nval origins */
	double vmin, vmax;
	size_t nval;
	float hist[SURPRISE_BINS];	/* of the short mean */
	double hweight, htotal;
	/* the first half of the warmup: r's histogram, then its quantile */
	uint32_t rhist[RBINS];
	double typ;		/* 0 until learnt */
	/* recurrence: days (weeks) seen, and per hour of the day (week) on
	 * how many of them a candidate came */
	int32_t cur_day, cur_week;
	float days, weeks;
	float day[24], week[168];
	int32_t dmark[24], wmark[168];
};

struct event {
	int64_t t;
	char *res;		/* NULL: every resource */
};

struct shd_drift {
	size_t M;
	uint64_t nscored;	/* (resource, metric, origin) scored */
	struct mcols *mc;
	int tcol, kcol, ocol, scol;
	struct shd_drift_opts o;
	int64_t step_ms;	/* 0 until known */
	double coverage;	/* of the stream's intervals */

	/* the group being gathered: one resource, one origin */
	int have;
	uint32_t gres;
	int64_t gorigin;
	size_t gH, gcap;
	double *g;		/* (M, 6, gcap): pred lo hi conf cur act */
	uint8_t *gset;		/* (gcap) step present */

	struct sstate *st;	/* (nres_cap, M) by key id */
	size_t nres_cap;

	struct event *ev;
	size_t nev, evcap;
	int64_t ev_window;
	int ev_sorted;

	shd_judge_fn judge;
	void *judge_ctx;
	struct shd_dict *dict;	/* of the frames being fed */
	char err[256];
};

enum { G_PRED, G_LO, G_HI, G_CONF, G_CUR, G_ACT, G_N };

static double *gval(struct shd_drift *d, size_t m, int what)
{
	return d->g + (m * G_N + (size_t)what) * d->gcap;
}

/* Column NAME with SUFFIX, of type f64, or -1. */
static int col_of(const struct shd_schema *s, const char *name,
		  const char *suffix)
{
	char buf[1024];
	int j;

	snprintf(buf, sizeof(buf), "%s%s", name, suffix);
	j = shd_schema_find(s, buf);
	return j >= 0 && s->cols[j].type == SHD_F64 ? j : -1;
}

struct shd_drift *shd_drift_new(const struct shd_schema *s,
				 struct shd_dict *dict,
				 const char *const *names,
				 const struct shd_drift_metric *met, size_t n,
				 const struct shd_drift_metric *def,
				 const struct shd_drift_opts *o, char *err,
				 size_t errn)
{
	struct shd_drift *d = calloc(1, sizeof(*d));
	const char *iv;

	if (!d) {
		snprintf(err, errn, "out of memory");
		return NULL;
	}
	d->o = *o;
	d->dict = dict;
	d->ev_window = HOUR_MS;
	iv = shd_schema_meta(s, "coverage");
	d->coverage = iv ? strtod(iv, NULL) : 0;
	if (!(d->coverage > 0 && d->coverage < 1))
		d->coverage = 0.9;	/* shd-predict's default */
	d->tcol = shd_schema_find(s, "time");
	d->kcol = shd_schema_find(s, "resource");
	d->ocol = shd_schema_find(s, "origin");
	d->scol = shd_schema_find(s, "step");
	if (d->tcol < 0 || d->kcol < 0 || d->ocol < 0 || d->scol < 0 ||
	    s->cols[d->tcol].type != SHD_TIME ||
	    s->cols[d->kcol].type != SHD_KEY ||
	    s->cols[d->ocol].type != SHD_TIME ||
	    s->cols[d->scol].type != SHD_I64) {
		snprintf(err, errn, "not a forecast stream (shd-predict's): "
			 "no time, resource, origin and step columns");
		goto fail;
	}
	d->mc = calloc(s->ncols, sizeof(*d->mc));
	if (!d->mc)
		goto nomem;
	for (size_t j = 0; j < s->ncols; j++) {
		const char *cn = s->cols[j].name;
		size_t len = strlen(cn);
		struct mcols *c = &d->mc[d->M];

		if (strcmp(s->cols[j].role, "forecast") || len < 6 ||
		    strcmp(cn + len - 5, ".pred"))
			continue;
		c->name = strndup(cn, len - 5);
		if (!c->name)
			goto nomem;
		c->pred = (int)j;
		c->lo = col_of(s, c->name, ".lo");
		c->hi = col_of(s, c->name, ".hi");
		c->conf = col_of(s, c->name, ".conf");
		c->cur = col_of(s, c->name, ".cur");
		c->act = col_of(s, c->name, "");
		if (c->lo < 0 || c->hi < 0 || c->conf < 0 || c->cur < 0 ||
		    c->act < 0) {
			snprintf(err, errn, "metric '%s': the stream lacks one "
				 "of its .lo .hi .conf .cur columns or the "
				 "metric itself", c->name);
			d->M++;
			goto fail;
		}
		c->set = *def;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(names[i], c->name))
				c->set = met[i];
		d->M++;
	}
	if (!d->M) {
		snprintf(err, errn, "not a forecast stream: no m.pred column");
		goto fail;
	}
	iv = shd_schema_meta(s, "interval_ms");
	if (iv)
		d->step_ms = strtoll(iv, NULL, 10);
	if (d->step_ms < 0)
		d->step_ms = 0;
	return d;
nomem:
	snprintf(err, errn, "out of memory");
fail:
	shd_drift_free(d);
	return NULL;
}

void shd_drift_free(struct shd_drift *d)
{
	if (!d)
		return;
	for (size_t m = 0; m < d->M; m++)
		free(d->mc[m].name);
	free(d->mc);
	for (size_t i = 0; i < d->nres_cap * d->M; i++) {
		free(d->st[i].prev_pred);
		free(d->st[i].prev_hw);
	}
	free(d->st);
	free(d->g);
	free(d->gset);
	for (size_t i = 0; i < d->nev; i++)
		free(d->ev[i].res);
	free(d->ev);
	free(d);
}

uint64_t shd_drift_scored(const struct shd_drift *d)
{
	return d->nscored;
}

size_t shd_drift_nmetric(const struct shd_drift *d)
{
	return d->M;
}

const char *shd_drift_metric_name(const struct shd_drift *d, size_t m)
{
	return d->mc[m].name;
}

const char *shd_drift_errmsg(const struct shd_drift *d)
{
	return d->err;
}

int shd_drift_event(struct shd_drift *d, int64_t t, const char *res)
{
	if (d->nev == d->evcap) {
		size_t cap = d->evcap ? 2 * d->evcap : 64;
		struct event *e = realloc(d->ev, cap * sizeof(*e));

		if (!e)
			return SHD_ENOMEM;
		d->ev = e;
		d->evcap = cap;
	}
	d->ev[d->nev].t = t;
	d->ev[d->nev].res = NULL;
	if (res && *res && strcmp(res, "*")) {
		d->ev[d->nev].res = strdup(res);
		if (!d->ev[d->nev].res)
			return SHD_ENOMEM;
	}
	d->nev++;
	d->ev_sorted = 0;
	return 0;
}

void shd_drift_event_window(struct shd_drift *d, int64_t window)
{
	d->ev_window = window;
}

void shd_drift_judge(struct shd_drift *d, shd_judge_fn fn, void *ctx)
{
	d->judge = fn;
	d->judge_ctx = ctx;
}

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

/* Was there an event for RES in (t - window, t]? */
static int event_near(struct shd_drift *d, const char *res, int64_t t)
{
	size_t lo = 0, hi = d->nev;

	if (!d->nev)
		return 0;
	if (!d->ev_sorted) {
		qsort(d->ev, d->nev, sizeof(*d->ev), cmp_event);
		d->ev_sorted = 1;
	}
	while (lo < hi) {	/* first event after t - window */
		size_t mid = lo + (hi - lo) / 2;

		if (d->ev[mid].t <= t - d->ev_window)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < d->nev && d->ev[i].t <= t; i++)
		if (!d->ev[i].res || !strcmp(d->ev[i].res, res))
			return 1;
	return 0;
}

/* The state of series (RES, M), made when new; NULL when out of memory. */
static struct sstate *state(struct shd_drift *d, uint32_t res, size_t m)
{
	if (res >= d->nres_cap) {
		size_t cap = d->nres_cap ? d->nres_cap : 64;
		struct sstate *st;

		while (cap <= res)
			cap *= 2;
		st = realloc(d->st, cap * d->M * sizeof(*st));
		if (!st)
			return NULL;
		memset(st + d->nres_cap * d->M, 0,
		       (cap - d->nres_cap) * d->M * sizeof(*st));
		d->st = st;
		d->nres_cap = cap;
	}
	return &d->st[(size_t)res * d->M + m];
}

static int32_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (int32_t)(q - (a % b != 0 && (a < 0) != (b < 0)));
}

/* Counts a day (week) seen at time T, and a candidate at T when CAND. */
static void recur_count(struct sstate *ss, int64_t t, int cand)
{
	int32_t day = floordiv(t, DAY_MS), week = floordiv(t, WEEK_MS);
	int hd = (int)(floordiv(t, HOUR_MS) - (int64_t)day * 24);
	/* 1970-01-01 was a Thursday: weeks here start on Thursday, which
	 * does not matter for counting */
	int hw = (int)(floordiv(t, HOUR_MS) - (int64_t)week * 168);

	if (!ss->seen || day != ss->cur_day) {
		ss->days += 1;
		ss->cur_day = day;
	}
	if (!ss->seen || week != ss->cur_week) {
		ss->weeks += 1;
		ss->cur_week = week;
	}
	if (!cand)
		return;
	if (ss->dmark[hd] != day + 1) {
		ss->day[hd] += 1;
		ss->dmark[hd] = day + 1;
	}
	if (ss->wmark[hw] != week + 1) {
		ss->week[hw] += 1;
		ss->wmark[hw] = week + 1;
	}
}

/* Share of past days (weeks) with a candidate at the hour of T. */
static void recur_features(const struct sstate *ss, int64_t t, double *fd,
			   double *fw)
{
	int32_t day = floordiv(t, DAY_MS), week = floordiv(t, WEEK_MS);
	int hd = (int)(floordiv(t, HOUR_MS) - (int64_t)day * 24);
	int hw = (int)(floordiv(t, HOUR_MS) - (int64_t)week * 168);
	/* the current day (week) is not a past one */
	double nd = ss->days - 1, nw = ss->weeks - 1;
	double cd = ss->day[hd] - (ss->dmark[hd] == day + 1);
	double cw = ss->week[hw] - (ss->wmark[hw] == week + 1);

	*fd = nd > 0 ? cd / nd : 0;
	*fw = nw > 0 ? cw / nw : 0;
}

int shd_drift_prior(struct shd_drift *d, const char *res, size_t m,
		    double days, const double *day, double weeks,
		    const double *week)
{
	uint32_t id;
	struct sstate *ss;

	if (m >= d->M)
		return SHD_EINVAL;
	if (shd_dict_intern(d->dict, res, strlen(res), &id) < 0)
		return SHD_ENOMEM;
	ss = state(d, id, m);
	if (!ss)
		return SHD_ENOMEM;
	ss->days += (float)days;
	ss->weeks += (float)weeks;
	for (int h = 0; h < 24; h++)
		ss->day[h] += (float)day[h];
	for (int h = 0; h < 168; h++)
		ss->week[h] += (float)week[h];
	return 0;
}

int shd_drift_series_limit(struct shd_drift *d, const char *res, size_t m,
			   double limit)
{
	uint32_t id;
	struct sstate *ss;

	if (m >= d->M)
		return SHD_EINVAL;
	if (shd_dict_intern(d->dict, res, strlen(res), &id) < 0)
		return SHD_ENOMEM;
	ss = state(d, id, m);
	if (!ss)
		return SHD_ENOMEM;
	ss->limit = limit;
	ss->has_limit = 1;
	return 0;
}

double shd_drift_limit(const struct shd_drift *d, uint32_t res, size_t m)
{
	const struct sstate *ss = res < d->nres_cap && m < d->M ?
				  &d->st[(size_t)res * d->M + m] : NULL;

	return ss && ss->has_limit ? ss->limit : d->mc[m].set.limit;
}

int shd_drift_counts(const struct shd_drift *d, uint32_t res, size_t m,
		     double *days, double day[24], double *weeks,
		     double week[168])
{
	const struct sstate *ss;

	if (res >= d->nres_cap || m >= d->M)
		return SHD_EINVAL;
	ss = &d->st[(size_t)res * d->M + m];
	*days = ss->days;
	*weeks = ss->weeks;
	for (int h = 0; h < 24; h++)
		day[h] = ss->day[h];
	for (int h = 0; h < 168; h++)
		week[h] = ss->week[h];
	return 0;
}

/* Bin of X in a histogram of N bins over [LO, HI], clamped (NaN: 0). */
static int hbin(double x, double lo, double hi, int n)
{
	if (!(x > lo))
		return 0;
	if (x >= hi)
		return n - 1;
	return (int)((x - lo) / (hi - lo) * n);
}

/*
 * The P-quantile of r in the histogram of log2 r (linear within the bin),
 * of N values.
 */
static double r_quantile(const uint32_t *rhist, size_t n, double p)
{
	double want = (double)n * p, acc = 0;

	for (int i = 0; i < RBINS; i++) {
		if (rhist[i] > 0 && acc + rhist[i] >= want)
			return exp2(RLO + (i + (want - acc) / rhist[i]) / RPER);
		acc += rhist[i];
	}
	return exp2(RHI);
}

/*
 * Surprise from the raw value R (the error in interval half-widths): the
 * mean of log(0.1 + r / typ) over the last `short` origins, against the
 * series' own history of that mean: -log10 of the share of past origins
 * at least as bad (3: one in a thousand).
 *
 * typ is the quantile of r at the stream's coverage over the first half of
 * the warmup, then kept; the history starts after it and surprise counts
 * after the whole warmup (as the learning period and the estimation
 * samples of the anomaly likelihood in NAB's Numenta detector). r / typ
 * is the error in half-widths of the interval that the series' own first
 * errors give, so surprise does not depend on how wide the forecaster drew
 * its intervals: scaling every half-width by a constant leaves it as it
 * is. (With r itself, as before, the width of
 * the intervals entered the rank through the offset alone, and wider
 * intervals made the offset weigh more: NAB 61.8 with the intervals of
 * shd-train's larger quantile, 66.2 with the narrower ones.) The offset
 * keeps its meaning, a tenth of a calibrated half-width, and is not
 * tuned: it keeps one near-perfect origin from cancelling a large error
 * next to it in the mean. typ stays fixed, because a running quantile
 * grows with every anomaly and hides the next one (NAB 54).
 *
 * The history is a histogram of SURPRISE_BINS bins over r / typ of 0 to
 * 1e6 whose counts fade over `memory` origins (each new count weighs more,
 * by 1/(1 - 1/m), instead of every old one being scaled down). A model off
 * by a constant factor therefore does not alert for ever, and a pattern
 * that changes, or a model gone stale, does: the anomaly likelihood of
 * Ahmad et al. (2017) on forecast errors, with the tail read from the data
 * rather than a normal law (a normal law as published, of r / typ or of
 * its log, scored 44 to 53 on NAB).
 */
static double surprise(struct shd_drift *d, struct sstate *ss, double r)
{
	size_t w = d->o.short_w, learn = d->o.warmup / 2;
	double m = 0, ge = 0, tail;
	int bin;

	if (ss->nseen < learn) {
		ss->rhist[hbin(r > 0 ? log2(r) : RLO, RLO, RHI, RBINS)]++;
		ss->nseen++;
		return 0;
	}
	if (ss->typ == 0)	/* nothing learnt: the interval's own */
		ss->typ = learn ? fmax(r_quantile(ss->rhist, learn,
						   d->coverage), exp2(RLO)) : 1;
	memmove(ss->sraw + 1, ss->sraw, (w - 1) * sizeof(*ss->sraw));
	ss->sraw[0] = (float)log(SURPRISE_OFFSET + r / ss->typ);
	ss->nraw += ss->nraw < w;
	for (size_t k = 0; k < ss->nraw; k++)
		m += ss->sraw[k];
	m /= (double)ss->nraw;
	bin = hbin(m, SURPRISE_LO, SURPRISE_HI, SURPRISE_BINS);

	if (ss->hweight == 0)
		ss->hweight = 1;
	for (int i = bin; i < SURPRISE_BINS; i++)
		ge += ss->hist[i];
	/* half a count of its own, so that a first of its kind is finite */
	tail = (ge + 0.5 * ss->hweight) / (ss->htotal + ss->hweight);

	/* then count it */
	ss->hist[bin] += (float)ss->hweight;
	ss->htotal += ss->hweight;
	ss->hweight /= 1 - 1.0 / (double)d->o.memory;
	if (ss->hweight > 1e20) {	/* rescale before floats overflow */
		for (int i = 0; i < SURPRISE_BINS; i++)
			ss->hist[i] = (float)(ss->hist[i] / ss->hweight);
		ss->htotal /= ss->hweight;
		ss->hweight = 1;
	}
	return ++ss->nseen > d->o.warmup ? -log10(tail) : 0;
}

/*
 * Half-width of a forecast's interval, SCALE the series' (0: not known
 * yet). shd-predict clips the forecast of a series that never went below
 * zero at 0: pred, lo and hi alike, while conf = 1/(1 + hw/s) stays that
 * of the whole interval. While pred is above lo, the larger side is
 * whole. Once pred sits on the floor (pred == lo), hi - pred is only what
 * is left of the interval above 0, down to nothing when the forecast
 * before clipping was below -hw: a small error then read as many
 * half-widths, or as 1e6 of them (NAB's 12 series, AR forecasts: about
 * 150 origins of 58000, with the least-squares fit and the robust one
 * alike), the mark of a forecast below zero rather than of the value.
 * Then the half-width is read back from conf.
 */
static double halfwidth(double pred, double lo, double hi, double conf,
			double scale)
{
	double a = hi - pred, b = pred - lo;

	if (b > 0 || !(scale > 0) || !(conf > 0 && conf < 1))
		return a > b ? a : b;
	return scale * (1 - conf) / conf;
}

/*
 * Is the deviation DEV (at the alert) still there at the values VAL[i] -
 * REF[i], i < N (NaN: unknown)? 1 when at least half of the known ones
 * are on the same side and at least half as large; -1 when none is known.
 */
static int sustained(double dev, const double *val, const double *ref,
		     size_t n)
{
	size_t known = 0, kept = 0;

	for (size_t i = 0; i < n; i++) {
		double e = val[i] - ref[i];

		if (isnan(e))
			continue;
		known++;
		kept += (e > 0) == (dev > 0) && fabs(e) >= 0.5 * fabs(dev);
	}
	if (!known || dev == 0 || isnan(dev))
		return -1;
	return 2 * kept >= known;
}

/* Scores metric M of the gathered group and hands the alert on. */
static int score_metric(struct shd_drift *d, size_t m, int all,
			shd_alert_fn fn, void *ctx)
{
	const struct shd_drift_metric *set = &d->mc[m].set;
	const double *pred = gval(d, m, G_PRED), *lo = gval(d, m, G_LO),
		     *hi = gval(d, m, G_HI), *conf = gval(d, m, G_CONF),
		     *act = gval(d, m, G_ACT);
	struct sstate *ss = state(d, d->gres, m);
	struct shd_alert a = { 0 };
	size_t H = d->gH, top = 0;
	int64_t o = d->gorigin, step = d->step_ms;
	double cur = gval(d, m, G_CUR)[0], norm, best = -INFINITY, ppred = NAN;
	double limit;
	double refs[64], vals[64];
	size_t np, sur_h = 0;
	int rc = 0;

	if (!ss)
		return SHD_ENOMEM;
	/*
	 * the series' scale, read back from step 1: conf = 1/(1 + hw/s),
	 * from a forecast whose interval is whole (not one clipped at 0)
	 */
	if (d->gset[0] && conf[0] > 0 && conf[0] < 1 && pred[0] > lo[0]) {
		double hw = halfwidth(pred[0], lo[0], hi[0], NAN, 0);

		if (hw > 0)
			ss->scale = hw * conf[0] / (1 - conf[0]);
	}
	norm = !isnan(set->capacity) ? set->capacity / 10 : ss->scale;

	a.time = o;
	a.res = d->gres;
	a.metric = m;
	a.cur = cur;
	a.breach_in = NAN;
	a.pred = a.conf = NAN;
	a.peak = a.peak_hi = NAN;
	a.kept = 1;
	a.reason = "";
	a.label = -1;

	/* ahead: the step with the largest score */
	for (size_t h = 0; h < H; h++) {
		double s;

		if (!d->gset[h] || isnan(pred[h]))
			continue;
		a.peak = isnan(a.peak) ? pred[h] : fmax(a.peak, pred[h]);
		if (!isnan(hi[h]))
			a.peak_hi = isnan(a.peak_hi) ? hi[h]
						     : fmax(a.peak_hi, hi[h]);
		s = (1 - (isnan(conf[h]) ? 0 : conf[h])) * set->w_conf;
		if (norm > 0 && !isnan(cur))
			s += fabs(pred[h] - cur) / norm * set->w_diff;
		if (s > best) {
			best = s;
			top = h;
		}
	}
	a.ahead = best > -INFINITY ? best : NAN;
	if (!isnan(a.ahead)) {
		a.step = top + 1;
		a.pred = pred[top];
		a.conf = conf[top];
	}

	/* surprise: against the forecast made earlier for this origin */
	a.surprise = NAN;
	if (ss->seen && step > 0 && o > ss->prev_origin &&
	    (o - ss->prev_origin) % step == 0 &&
	    (size_t)((o - ss->prev_origin) / step) <= ss->prevn) {
		sur_h = (size_t)((o - ss->prev_origin) / step);
		ppred = ss->prev_pred[sur_h - 1];
		double hw = ss->prev_hw[sur_h - 1], e = fabs(cur - ppred);

		if (!isnan(e) && !isnan(hw))
			a.surprise = surprise(d, ss, e == 0 ? 0 : hw > 0 ?
					      e / hw : 1e6);
	}

	/* out of range: beyond everything the series has shown */
	if (!isnan(cur)) {
		if (d->o.range_tol > 0 && ss->nval > d->o.warmup &&
		    ss->vmax > ss->vmin) {
			double tol = (ss->vmax - ss->vmin) * d->o.range_tol;

			a.outside = cur > ss->vmax + tol ||
				    cur < ss->vmin - tol;
		}
		ss->vmin = ss->nval && ss->vmin < cur ? ss->vmin : cur;
		ss->vmax = ss->nval && ss->vmax > cur ? ss->vmax : cur;
		ss->nval++;
	}

	/* breach of the limit within the horizon */
	limit = ss->has_limit ? ss->limit : set->limit;
	if (!isnan(limit)) {
		if (cur >= limit) {
			a.breach_in = 0;
		} else {
			for (size_t h = 0; h < H; h++) {
				double v = d->o.bound_hi ? hi[h] : pred[h];

				if (d->gset[h] && v >= limit) {
					a.breach_in = (double)(h + 1) *
						      (double)step / 1000;
					break;
				}
			}
		}
	}

	/* the score: both signals in units where threshold means the same */
	{
		double sa = isnan(a.ahead) ? 0 : a.ahead;
		double su = isnan(a.surprise) ? 0 :
			    a.surprise * set->threshold / set->surprise;
		int by_surprise;

		if (a.outside && su < set->threshold)
			su = set->threshold;
		by_surprise = su > sa;

		a.score = by_surprise ? su : sa;
		a.candidate = a.score >= set->threshold || !isnan(a.breach_in);
		a.severity = !isnan(a.breach_in) ? SHD_SEV_CRITICAL :
			     a.candidate ? SHD_SEV_WARNING : SHD_SEV_INFO;

		/* the label, from the actual values in the stream */
		np = d->o.persist < H ? d->o.persist : H;
		np = np < 64 ? np : 64;
		if (a.candidate && by_surprise && sur_h) {
			for (size_t k = 0; k < np; k++) {
				size_t hp = sur_h + k + 1;

				vals[k] = d->gset[k] ? act[k] : NAN;
				refs[k] = hp <= ss->prevn ?
					  ss->prev_pred[hp - 1] : ppred;
			}
			a.label = sustained(cur - ppred, vals, refs, np);
		} else if (a.candidate && !isnan(a.pred)) {
			size_t n = 0;

			for (size_t h = top; h < H && n < np; h++, n++) {
				vals[n] = d->gset[h] ? act[h] : NAN;
				refs[n] = cur;
			}
			a.label = sustained(a.pred - cur, vals, refs, n);
		}

		/* features */
		a.feat[SHD_F_AHEAD] = log1p(sa / set->threshold);
		a.feat[SHD_F_SURPRISE] = log1p(isnan(a.surprise) ? 0 :
			fmin(a.surprise, 1e6) / set->surprise);
		a.feat[SHD_F_UP] = by_surprise ? cur > ppred : a.pred > cur;
		a.feat[SHD_F_CONF] = isnan(a.conf) ? 0 : a.conf;
	}
	if (a.candidate) {
		int consecutive = ss->seen && ss->run &&
				  o - ss->last_cand == step;

		ss->run = consecutive ? ss->run + 1 : 1;
		ss->last_cand = o;
	}
	a.feat[SHD_F_RUN] = log1p(a.candidate ? (double)(ss->run - 1) : 0);
	recur_features(ss, o, &a.feat[SHD_F_DAY], &a.feat[SHD_F_WEEK]);
	a.feat[SHD_F_EVENT] = d->nev && event_near(d,
		shd_dict_str(d->dict, d->gres, NULL), o);
	if (!isfinite(a.score))
		a.score = 1e300;	/* a zero-width interval missed */

	/* keep the forecast for the surprise of later origins */
	if (ss->prevcap < H) {
		double *p = realloc(ss->prev_pred, H * sizeof(*p));
		double *w = p ? realloc(ss->prev_hw, H * sizeof(*w)) : NULL;

		if (p)
			ss->prev_pred = p;
		if (!w)
			return SHD_ENOMEM;
		ss->prev_hw = w;
		ss->prevcap = H;
	}
	for (size_t h = 0; h < H; h++) {
		ss->prev_pred[h] = d->gset[h] ? pred[h] : NAN;
		ss->prev_hw[h] = d->gset[h] ? halfwidth(pred[h], lo[h], hi[h],
							conf[h], ss->scale) :
				 NAN;
	}
	ss->prevn = H;
	ss->prev_origin = o;
	recur_count(ss, o, a.candidate);
	ss->seen = 1;

	if (a.candidate) {
		if (d->judge)
			d->judge(d->judge_ctx, &a,
				 shd_dict_str(d->dict, d->gres, NULL));
		if (a.kept && ss->hold_until > o &&
		    a.severity <= ss->hold_sev) {
			a.kept = 0;
			a.reason = "repeat";
		}
		if (a.kept && d->o.hold && step > 0) {
			ss->hold_until = o + (int64_t)d->o.hold * step;
			ss->hold_sev = a.severity;
		}
	}
	d->nscored++;
	if (a.candidate || all)
		rc = fn(ctx, &a);
	return rc;
}

static int score_group(struct shd_drift *d, int all, shd_alert_fn fn,
		       void *ctx)
{
	int rc = 0;

	if (!d->have)
		return 0;
	d->have = 0;
	if (!d->gset[0]) {
		/* cur is read from any row; every row has it */
		for (size_t h = 0; h < d->gH; h++)
			if (d->gset[h]) {
				for (size_t m = 0; m < d->M; m++)
					gval(d, m, G_CUR)[0] =
						gval(d, m, G_CUR)[h];
				break;
			}
	}
	for (size_t m = 0; m < d->M && !rc; m++)
		rc = score_metric(d, m, all, fn, ctx);
	return rc;
}

/* Makes room for steps 1..H in the group. */
static int group_room(struct shd_drift *d, size_t H)
{
	size_t cap = d->gcap ? d->gcap : 16;
	double *g;
	uint8_t *set;

	if (H <= d->gcap)
		return 0;
	while (cap < H)
		cap *= 2;
	g = malloc(d->M * G_N * cap * sizeof(*g));
	set = calloc(cap, 1);
	if (!g || !set) {
		free(g);
		free(set);
		return SHD_ENOMEM;
	}
	for (size_t k = 0; k < d->M * G_N; k++) {
		for (size_t h = 0; h < cap; h++)
			g[k * cap + h] = NAN;
		if (d->gcap)
			memcpy(g + k * cap, d->g + k * d->gcap,
			       d->gcap * sizeof(*g));
	}
	if (d->gcap)
		memcpy(set, d->gset, d->gcap);
	free(d->g);
	free(d->gset);
	d->g = g;
	d->gset = set;
	d->gcap = cap;
	return 0;
}

int shd_drift_feed(struct shd_drift *d, const struct shd_frame *f, int all,
		   shd_alert_fn fn, void *ctx)
{
	const int64_t *t = SHD_I64COL(f, d->tcol), *org = SHD_I64COL(f,
				d->ocol), *stp = SHD_I64COL(f, d->scol);
	const uint32_t *key = SHD_KEYCOL(f, d->kcol);
	int rc;

	if (f->dict != d->dict) {
		snprintf(d->err, sizeof(d->err), "frame of another dictionary");
		return SHD_EINVAL;
	}
	for (size_t i = 0; i < f->nrows; i++) {
		int64_t h = stp[i];

		if (h < 1 || h > 100000) {
			snprintf(d->err, sizeof(d->err), "row %llu: step %lld "
				 "is not in 1..100000",
				 (unsigned long long)i, (long long)h);
			return SHD_EFORMAT;
		}
		if (!d->step_ms && t[i] > org[i])
			d->step_ms = (t[i] - org[i]) / h;
		if (d->have && (key[i] != d->gres || org[i] != d->gorigin)) {
			struct sstate *ss;

			if (key[i] == d->gres && org[i] < d->gorigin) {
				snprintf(d->err, sizeof(d->err),
					 "resource '%s': origins out of order "
					 "(shd-predict writes them ascending)",
					 shd_dict_str(f->dict, key[i], NULL));
				return SHD_EFORMAT;
			}
			if ((rc = score_group(d, all, fn, ctx)))
				return rc;
			ss = key[i] < d->nres_cap ?
			     &d->st[(size_t)key[i] * d->M] : NULL;
			if (key[i] != d->gres && ss && ss->seen &&
			    org[i] <= ss->prev_origin) {
				snprintf(d->err, sizeof(d->err),
					 "resource '%s' comes back after "
					 "others: the stream is not grouped "
					 "by resource",
					 shd_dict_str(f->dict, key[i], NULL));
				return SHD_EFORMAT;
			}
		}
		if (!d->have) {
			d->have = 1;
			d->gres = key[i];
			d->gorigin = org[i];
			for (size_t k = 0; k < d->M * G_N * d->gcap; k++)
				d->g[k] = NAN;
			if (d->gcap)
				memset(d->gset, 0, d->gcap);
			d->gH = 0;
		}
		if ((rc = group_room(d, (size_t)h)))
			return rc;
		d->gH = (size_t)h > d->gH ? (size_t)h : d->gH;
		d->gset[h - 1] = 1;
		for (size_t m = 0; m < d->M; m++) {
			const struct mcols *c = &d->mc[m];

			gval(d, m, G_PRED)[h - 1] = SHD_F64COL(f, c->pred)[i];
			gval(d, m, G_LO)[h - 1] = SHD_F64COL(f, c->lo)[i];
			gval(d, m, G_HI)[h - 1] = SHD_F64COL(f, c->hi)[i];
			gval(d, m, G_CONF)[h - 1] = SHD_F64COL(f, c->conf)[i];
			gval(d, m, G_CUR)[h - 1] = SHD_F64COL(f, c->cur)[i];
			gval(d, m, G_ACT)[h - 1] = SHD_F64COL(f, c->act)[i];
		}
	}
	return 0;
}

int shd_drift_finish(struct shd_drift *d, int all, shd_alert_fn fn,
		     void *ctx)
{
	return score_group(d, all, fn, ctx);
}

void shd_breach_eval(const int64_t *t, const double *cur,
		     const uint8_t *alert, size_t n, double limit,
		     int64_t within, struct shd_breach_eval *e, double *lead)
{
	size_t first = 0;	/* earliest alert still within reach */
	size_t nextb = 0;	/* next breach at or after an alert */

	memset(e, 0, sizeof(*e));
	for (size_t i = 1; i < n; i++) {
		if (!(cur[i] >= limit && cur[i - 1] < limit))
			continue;
		e->breaches++;
		while (first < i && (!alert[first] ||
				     t[first] < t[i] - within))
			first++;
		if (first < i) {
			e->ahead++;
			lead[e->nlead++] = (double)(t[i] - t[first]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!alert[i])
			continue;
		e->alerts++;
		if (nextb < i + 1)
			nextb = i + 1;
		while (nextb < n && !(cur[nextb] >= limit &&
				       cur[nextb - 1] < limit))
			nextb++;
		if (nextb >= n || t[nextb] > t[i] + within)
			e->false_alerts++;
	}
}
