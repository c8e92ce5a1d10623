/*
 * drift.h - drift scoring of a forecast stream (shd-drift), private to
 * libshd until it settles.
 *
 * The picture. shd-predict writes, per resource and origin, H rows (one per
 * step of the horizon) with, per metric m, m.pred, m.lo, m.hi, m.conf,
 * m.cur and the actual value m. The scorer reads them back group by group
 * (a resource's rows of one origin) and gives, per metric, two signals:
 *
 *   ahead     the seed's score, looking forward: per step h,
 *             |pred_h - cur| / norm * w_diff + (1 - conf_h) * w_conf, and
 *             the step with the largest value is the one that counts;
 *             norm is the capacity / 10 when one is known (a tenth of
 *             capacity counts as one typical deviation), else the series'
 *             robust scale (read back from the interval and confidence:
 *             conf = 1 / (1 + halfwidth / scale), see shd-predict(1));
 *   surprise  looking back: r = |cur - pred| / halfwidth of the forecast
 *             made one step earlier for this very time (1: at the edge
 *             of the nominal interval; a forecast clipped at 0 keeps
 *             the halfwidth its conf says), when the stream has that
 *             origin;
 *             measured against typ, the series' own quantile of r at the
 *             stream's coverage over the first half of the warmup (so
 *             that how wide the intervals are drawn does not matter),
 *             log(0.1 + r / typ) averaged over `short_w` origins and
 *             scored against the series' own history of it: -log10 of
 *             the share of past origins at least as bad (drift.c,
 *             surprise()); and
 *             out of range, cur beyond every value the series has shown
 *             by more than range_tol of its range (max - min), which
 *             counts as a surprise at the threshold.
 *
 * An origin is a candidate alert when ahead >= threshold, surprise >=
 * the surprise threshold, cur is out of range, or the forecast crosses a
 * limit within the horizon. Its score is max(ahead, surprise * threshold
 * / surprise threshold, and threshold when out of range): both signals
 * scaled so that 1 threshold is the same score.
 * Severity: critical when the forecast (pred, or hi with bound_hi) crosses
 * the limit within the horizon, breach_in seconds ahead (0 when cur is
 * already at or above it); warning for any other candidate; info below.
 *
 * Each candidate carries the features of the anomaly filter
 * (lib/filter.c) and, in a replay of history where the actual values are
 * in the stream (the m columns of the origin's own rows), the label the
 * filter learns from: sustained (1) when the deviation is still there, on
 * the same side and at least half as large, for at least half of the next
 * `persist` steps; transient (0) when not; -1 when the future is not in
 * the stream. For surprise the deviation is the actual value against the
 * forecast made one step before the origin; for ahead it is the actual
 * value against cur, from the step that counts on.
 */
#ifndef SHD_DRIFT_H
#define SHD_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "shd.h"

enum shd_severity { SHD_SEV_INFO = 0, SHD_SEV_WARNING = 1,
		    SHD_SEV_CRITICAL = 2 };

/* "info", "warning", "critical". */
const char *shd_severity_name(int sev);

/* What the user set for one metric (NaN: not set). */
struct shd_drift_metric {
	double capacity;	/* NaN: normalize by the series' scale */
	double limit;		/* NaN: no limit, never critical */
	double w_diff, w_conf;	/* weights of the ahead score */
	double threshold;	/* of the ahead score */
	double surprise;	/* threshold of surprise: -log10 of a share */
};

/* Defaults, measured on NAB and Bitbrains (see shd-drift(1)). */
#define SHD_DRIFT_W_DIFF 1.0
#define SHD_DRIFT_W_CONF 1.0
#define SHD_DRIFT_THRESHOLD 4.0
#define SHD_DRIFT_SURPRISE 2.7

/*
 * Out of range: cur beyond the largest (smallest) value the series has
 * shown by more than this share of its range (the spatial anomaly of
 * NAB's Numenta detector, whose 5% is taken as is).
 */
#define SHD_DRIFT_RANGE_TOL 0.05

#define SHD_DRIFT_SHORT_MAX 32

struct shd_drift_opts {
	int bound_hi;		/* breach when hi (not pred) crosses */
	size_t short_w;		/* origins averaged for surprise (1..32) */
	size_t memory;		/* origins the usual surprise remembers */
	size_t warmup;		/* origins before surprise (and the
				 * range) is trusted */
	double range_tol;	/* out of range: beyond it by this share of
				 * the range (SHD_DRIFT_RANGE_TOL); 0: off */
	size_t hold;		/* steps a kept alert holds off repeats */
	size_t persist;		/* steps the label looks ahead */
};

/* Features of a candidate, for the filter. */
enum {
	SHD_F_AHEAD,		/* log1p(ahead / threshold) */
	SHD_F_SURPRISE,		/* log1p(surprise / surprise threshold) */
	SHD_F_RUN,		/* log1p(candidates in a row before this) */
	SHD_F_DAY,		/* share of past days with a candidate at
				 * this hour of day */
	SHD_F_WEEK,		/* share of past weeks with one at this hour
				 * of the week */
	SHD_F_EVENT,		/* a known event shortly before */
	SHD_F_UP,		/* 1: the deviation is upwards */
	SHD_F_CONF,		/* confidence at the step that counts */
	SHD_NFEAT
};

/* Names of the features ("ahead", ...), for files and reports. */
extern const char *const shd_drift_feature[SHD_NFEAT];

/* One scored origin of one series. */
struct shd_alert {
	int64_t time;		/* the origin */
	uint32_t res;		/* key id in the input's dictionary */
	size_t metric;		/* index among the stream's metrics */
	double score, ahead, surprise;
	int outside;		/* cur out of the series' range so far */
	int severity;
	int candidate;		/* over a threshold, or a breach */
	size_t step;		/* the step of the ahead score */
	double pred, cur, conf;	/* at that step */
	double peak, peak_hi;	/* the largest pred and hi of the horizon */
	double breach_in;	/* seconds; NaN when no breach */
	int kept;		/* 0: suppressed (reason says why) */
	const char *reason;	/* "" when kept */
	double feat[SHD_NFEAT];
	int label;		/* 1 sustained, 0 transient, -1 unknown */
};

/* Called for every scored origin, in input order. 0 goes on. */
typedef int (*shd_alert_fn)(void *ctx, const struct shd_alert *a);

struct shd_drift;

/*
 * A scorer for forecast streams with schema S (shd-predict's) whose keys
 * are in DICT (the reader's; frames fed must use it). MET gives
 * the settings of the metrics, by name (NAMES[i] -> MET[i], N entries;
 * DEF for the others). Returns NULL with the reason in ERR (N bytes): not
 * a forecast stream, out of memory.
 */
struct shd_drift *shd_drift_new(const struct shd_schema *s,
				 struct shd_dict *dict,
				 const char *const *names,
				 const struct shd_drift_metric *met, size_t n,
				 const struct shd_drift_metric *def,
				 const struct shd_drift_opts *o, char *err,
				 size_t errn);
void shd_drift_free(struct shd_drift *d);

/* Metrics of the stream, their names. */
size_t shd_drift_nmetric(const struct shd_drift *d);
/* How many forecasts (a resource's metric from one origin) were scored. */
uint64_t shd_drift_scored(const struct shd_drift *d);
const char *shd_drift_metric_name(const struct shd_drift *d, size_t m);

/*
 * Known events (deploys, configuration changes): at time T, for resource
 * RES (NULL: every resource). Must be added before the first frame.
 */
int shd_drift_event(struct shd_drift *d, int64_t t, const char *res);
/* Events count for an alert up to WINDOW ms after them (default 1 h). */
void shd_drift_event_window(struct shd_drift *d, int64_t window);

/*
 * The limit of series (RES, metric M), instead of the metric's (from a
 * configuration or a file of limits). Before the first frame.
 */
int shd_drift_series_limit(struct shd_drift *d, const char *res, size_t m,
			   double limit);
/* The limit in force for series (RES id, M); NaN when none. */
double shd_drift_limit(const struct shd_drift *d, uint32_t res, size_t m);

/*
 * A judge for candidates: called once per candidate when its features are
 * known, before it is handed to the alert function; sets a->kept = 0 and
 * a->reason to suppress it.
 */
typedef void (*shd_judge_fn)(void *ctx, struct shd_alert *a,
			     const char *resource);
void shd_drift_judge(struct shd_drift *d, shd_judge_fn fn, void *ctx);

/*
 * Prior counts of the recurrence features for series (RES, metric M): how
 * many days were seen and, per hour of the day (24) and of the week (168),
 * on how many a candidate came (a learned filter's memory).
 */
int shd_drift_prior(struct shd_drift *d, const char *res, size_t m,
		    double days, const double *day, double weeks,
		    const double *week);

/*
 * The recurrence counts gathered so far for series (RES id, metric M);
 * 0, or SHD_EINVAL when the series was not seen.
 */
int shd_drift_counts(const struct shd_drift *d, uint32_t res, size_t m,
		     double *days, double day[24], double *weeks,
		     double week[168]);

/*
 * Scores the rows of F (a frame of the stream's schema, its dictionary),
 * calling FN for each scored origin. With ALL == 0 only candidates reach
 * FN. Rows of one resource must come in ascending origin; a resource's
 * origins are scored as soon as the next origin starts. Returns 0, the
 * first non-zero return of FN, or SHD_EFORMAT (order, a bad step) with the
 * reason in shd_drift_errmsg.
 */
int shd_drift_feed(struct shd_drift *d, const struct shd_frame *f,
		   int all, shd_alert_fn fn, void *ctx);

/* Scores what is left at the end of the stream. */
int shd_drift_finish(struct shd_drift *d, int all, shd_alert_fn fn,
		     void *ctx);

const char *shd_drift_errmsg(const struct shd_drift *d);

/*
 * Breaches of a limit in one series and how far ahead they were alerted.
 * T, CUR (N origins ascending, the value at each), ALERT (nonzero: a kept
 * alert at that origin). A breach is a crossing: cur >= LIMIT where the
 * origin before was below. It counts as alerted ahead when an alert came
 * within WITHIN ms before it (and not at the breach itself); its lead is
 * from the earliest such alert. An alert is false when no breach follows
 * within WITHIN ms. Leads go to LEAD (room for N), in ms.
 */
struct shd_breach_eval {
	size_t breaches, ahead, alerts, false_alerts, nlead;
};
void shd_breach_eval(const int64_t *t, const double *cur,
		     const uint8_t *alert, size_t n, double limit,
		     int64_t within, struct shd_breach_eval *e, double *lead);

#endif
