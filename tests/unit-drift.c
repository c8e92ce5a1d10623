/*
 * unit-drift.c - drift scoring (lib/drift.c) on forecast frames made here:
 * the ahead score and its step, surprise from the series' own history
 * (a spike is surprising, a model off by a constant factor is not for
 * long, a forecast clipped at 0 is measured by its whole interval),
 * severity and breach_in, holding repeats, the sustained/transient
 * label, order checks, shd_breach_eval, the out-of-range signal and the
 * filter's p_min from labelled windows (shd_filter_tune).
 */
#include "harness.h"

#include "drift.h"
#include "filter.h"

#define H 3
#define STEP 300000LL

struct fx {
	struct shd_schema s;
	struct shd_dict *dict;
	struct shd_frame f;
	struct shd_drift *d;
	/* what the alert function saw */
	struct shd_alert a[4096];
	size_t n;
};

static void fx_init(struct fx *x, const struct shd_drift_metric *def,
		    const struct shd_drift_opts *o)
{
	static const char *const suf[] = { ".pred", ".lo", ".hi", ".conf",
					   ".cur", "" };
	static const char *const role[] = { "forecast", "lo", "hi", "conf",
					    "cur", "metric" };
	char err[256] = "", name[32];

	memset(x, 0, sizeof(*x));
	shd_schema_init(&x->s);
	shd_schema_add(&x->s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&x->s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&x->s, "origin", SHD_TIME, "ms", "origin");
	shd_schema_add(&x->s, "step", SHD_I64, "", "step");
	for (int c = 0; c < 6; c++) {
		snprintf(name, sizeof(name), "cpu%s", suf[c]);
		shd_schema_add(&x->s, name, SHD_F64, "%", role[c]);
	}
	shd_schema_set_meta(&x->s, "interval_ms", "300000");
	x->dict = shd_dict_new();
	EXPECT(x->dict != NULL);
	EXPECT(shd_frame_init(&x->f, &x->s, x->dict) == 0);
	x->d = shd_drift_new(&x->s, x->dict, NULL, NULL, 0, def, o, err,
			     sizeof(err));
	if (!x->d)
		FAIL_AT("shd_drift_new: %s", err);
}

static void fx_release(struct fx *x)
{
	shd_drift_free(x->d);
	shd_frame_release(&x->f);
	shd_dict_free(x->dict);
	shd_schema_release(&x->s);
}

/*
 * Appends the H rows of resource RES from origin index K: forecast PRED
 * (every step) with half-width HW and confidence CONF, value CUR now and
 * ACT[h] at each step.
 */
static void fx_origin(struct fx *x, const char *res, int64_t k, double cur,
		      const double *pred, double hw, double conf,
		      const double *act)
{
	struct shd_frame *f = &x->f;
	uint32_t id;

	shd_dict_intern(x->dict, res, strlen(res), &id);
	shd_frame_reserve(f, f->nrows + H);
	for (int h = 1; h <= H; h++) {
		size_t i = f->nrows++;

		SHD_I64COL(f, 0)[i] = (k + h) * STEP;
		SHD_KEYCOL(f, 1)[i] = id;
		SHD_I64COL(f, 2)[i] = k * STEP;
		SHD_I64COL(f, 3)[i] = h;
		SHD_F64COL(f, 4)[i] = pred[h - 1];
		SHD_F64COL(f, 5)[i] = pred[h - 1] - hw;
		SHD_F64COL(f, 6)[i] = pred[h - 1] + hw;
		SHD_F64COL(f, 7)[i] = conf;
		SHD_F64COL(f, 8)[i] = cur;
		SHD_F64COL(f, 9)[i] = act ? act[h - 1] : NAN;
	}
}

static int collect(void *ctx, const struct shd_alert *a)
{
	struct fx *x = ctx;

	if (x->n < sizeof(x->a) / sizeof(x->a[0]))
		x->a[x->n++] = *a;
	return 0;
}

static int fx_run(struct fx *x, int all)
{
	int rc = shd_drift_feed(x->d, &x->f, all, collect, x);

	x->f.nrows = 0;
	if (!rc)
		rc = shd_drift_finish(x->d, all, collect, x);
	return rc;
}

static const struct shd_drift_metric defaults = {
	.capacity = NAN, .limit = NAN, .w_diff = 1, .w_conf = 1,
	.threshold = 4, .surprise = 2.7,
};

/* --------------------------------------------------------------- tests */

/* ahead = |pred - cur| / scale + (1 - conf); scale read back from conf */
static void test_ahead_score(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 100, .warmup = 10,
				    .persist = 3 };
	struct fx x;
	/* conf 0.5 at half-width 2: scale 2 */
	double pred[H] = { 10, 14, 12 };

	fx_init(&x, &defaults, &o);
	fx_origin(&x, "a", 0, 10, pred, 2, 0.5, NULL);
	EXPECT_EQ_INT(fx_run(&x, 1), 0);
	EXPECT_EQ_INT(x.n, 1);
	EXPECT_NEAR(x.a[0].ahead, 4 / 2.0 + 0.5, 1e-12);
	EXPECT_EQ_INT(x.a[0].step, 2);
	EXPECT_NEAR(x.a[0].pred, 14, 0);
	EXPECT_EQ_INT(x.a[0].candidate, 0);	/* 2.5 < 4 */
	EXPECT_EQ_INT(x.a[0].severity, SHD_SEV_INFO);
	fx_release(&x);

	/* with a capacity of 20 the norm is 2 as well; of 10, 1 */
	struct shd_drift_metric cap = defaults;
	cap.capacity = 10;
	fx_init(&x, &cap, &o);
	fx_origin(&x, "a", 0, 10, pred, 2, 0.5, NULL);
	EXPECT_EQ_INT(fx_run(&x, 1), 0);
	EXPECT_NEAR(x.a[0].ahead, 4.5, 1e-12);
	EXPECT_EQ_INT(x.a[0].candidate, 1);
	EXPECT_EQ_INT(x.a[0].severity, SHD_SEV_WARNING);
	fx_release(&x);
}

/*
 * A steady error level is not surprising, a spike is; repeats held. (The
 * history starts after half the warmup; 1 in 10^2.7 takes some 250
 * origins of it.)
 */
static void test_surprise_spike_and_hold(void)
{
	struct shd_drift_opts o = { .short_w = 1, .memory = 1000, .warmup = 50,
				    .persist = 3, .hold = 5 };
	struct fx x;
	size_t spike = 0, quiet_alerts = 0;

	fx_init(&x, &defaults, &o);
	for (int64_t k = 0; k < 500; k++) {
		/* forecast 50 always; the value wobbles by +-1 (half-width
		 * 1), then at k = 400 and 401 jumps by 30 */
		double v = 50 + ((k * 7) % 5 - 2) * 0.5;
		double pred[H] = { 50, 50, 50 };

		if (k == 400 || k == 401)
			v = 80;
		fx_origin(&x, "a", k, v, pred, 1, 0.5, NULL);
	}
	EXPECT_EQ_INT(fx_run(&x, 1), 0);
	EXPECT_EQ_INT(x.n, 500);
	for (size_t i = 0; i < x.n; i++) {
		const struct shd_alert *a = &x.a[i];

		if (a->time == 400 * STEP) {
			spike = i;
			EXPECT(a->surprise >= 2.7);
			EXPECT_EQ_INT(a->candidate, 1);
			EXPECT_EQ_INT(a->kept, 1);
		} else if (a->time == 401 * STEP) {
			EXPECT_EQ_INT(a->candidate, 1);
			EXPECT_EQ_INT(a->kept, 0);	/* held */
			EXPECT_EQ_STR(a->reason, "repeat");
		} else if (a->time < 400 * STEP) {
			quiet_alerts += a->candidate;
			if (!(a->time > 50 * STEP || a->surprise == 0 ||
			      isnan(a->surprise)))
				FAIL_AT("origin %lld: surprise %g in warmup",
					(long long)(a->time / STEP),
					a->surprise);
		}
	}
	EXPECT(spike > 0);
	EXPECT_EQ_INT(quiet_alerts, 0);
	fx_release(&x);
}

/* A model off by a constant factor alerts at first, not for ever */
static void test_surprise_adapts(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 1000, .warmup = 20,
				    .persist = 3 };
	struct fx x;
	size_t late = 0;

	struct shd_drift_metric m = defaults;

	m.threshold = 1e9;	/* surprise alone */
	fx_init(&x, &m, &o);
	for (int64_t k = 0; k < 2000; k++) {
		/* errors of 0.1 half-widths, then of 5 from k = 1000 on */
		double e = k < 1000 ? 0.1 * (1 + k % 3) : 5 * (1 + k % 3);
		double pred[H] = { 50, 50, 50 };

		fx_origin(&x, "a", k, 50 + e, pred, 1, 0.5, NULL);
	}
	EXPECT_EQ_INT(fx_run(&x, 1), 0);
	EXPECT(x.a[1001].surprise >= 2.7);	/* the change is seen */
	for (size_t i = 1600; i < x.n; i++)
		late += x.a[i].candidate;
	EXPECT_EQ_INT(late, 0);			/* and becomes usual */
	fx_release(&x);
}

/*
 * Surprise does not depend on how wide the intervals are: the same errors
 * against half-widths 8 times larger or smaller give the same surprise
 * and the same alerts (exactly: a power of 2 moves the histogram of the
 * errors by whole bins). Until the intervals' own width stopped counting,
 * a tenth of a half-width was added to every error, so wide intervals
 * blurred the errors together and narrow ones did not.
 */
static void test_surprise_scale_free(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 1000, .warmup = 100,
				    .persist = 3 };
	struct shd_drift_metric m = defaults;
	static const double scale[] = { 1, 8, 0.125 };
	static struct fx x[3];	/* 3 MB of alerts: not on the stack */
	size_t cand = 0;

	m.threshold = 1e9;	/* surprise alone */
	for (int s = 0; s < 3; s++) {
		uint32_t rng = 12345;

		fx_init(&x[s], &m, &o);
		for (int64_t k = 0; k < 600; k++) {
			/* errors uniform in 0..1 half-width (of scale
			 * 1), a spike of 5 at 400 and a larger one at
			 * 550 (as large would be usual by then) */
			double e, pred[H] = { 50, 50, 50 };

			rng = rng * 1664525u + 1013904223u;
			e = (double)(rng >> 8) / 16777216.0;
			if (k == 400 || k == 550)
				e = k == 400 ? 5 : 20;
			fx_origin(&x[s], "a", k, 50 + e, pred, scale[s], 0.5,
				  NULL);
		}
		EXPECT_EQ_INT(fx_run(&x[s], 1), 0);
		EXPECT_EQ_INT(x[s].n, 600);
	}
	for (size_t i = 1; i < x[0].n; i++) {
		for (int s = 1; s < 3; s++) {
			EXPECT_NEAR(x[s].a[i].surprise, x[0].a[i].surprise,
				    1e-9);
			EXPECT_EQ_INT(x[s].a[i].candidate,
				      x[0].a[i].candidate);
		}
		cand += x[0].a[i].candidate;
	}
	EXPECT(x[0].a[400].candidate && x[0].a[550].candidate);
	EXPECT_EQ_INT(cand, 2);
	for (int s = 0; s < 3; s++)
		fx_release(&x[s]);
}

/*
 * A forecast clipped at 0 (shd-predict does so for a series that never
 * went below zero: pred, lo and hi alike, conf unchanged) is measured by
 * its whole half-width, read back from conf: the same errors give the
 * same surprise as forecasts 20 higher that nothing clipped. The half-width
 * used to be read from the clipped bounds: 0 (an error of 0.5 was 1e6
 * half-widths) or 1 (twice its size), and both alerted.
 */
static void test_surprise_clipped(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 1000, .warmup = 100,
				    .persist = 3 };
	struct shd_drift_metric m = defaults;
	static struct fx x[2];	/* 3 MB of alerts: not on the stack */
	/*
	 * the forecast before clipping (half-width 2): all of the interval
	 * below 0 (lo = pred = hi = 0), and pred alone (hi = 1)
	 */
	static const int64_t at[] = { 300, 400 };
	static const double low[] = { -5, -1 };

	m.threshold = 1e9;	/* surprise alone */
	for (int s = 0; s < 2; s++) {
		uint32_t rng = 777;
		double up = s ? 20 : 0;

		fx_init(&x[s], &m, &o);
		for (int64_t k = 0; k < 600; k++) {
			double e, v, pred[H] = { 10 + up, 10 + up, 10 + up };
			size_t r0 = x[s].f.nrows;
			int clip = -1;

			rng = rng * 1664525u + 1013904223u;
			e = (double)(rng >> 8) / 16777216.0 - 0.5;
			v = 10 + up + e;
			for (int j = 0; j < 2; j++) {
				if (k == at[j])
					clip = j;
				if (k == at[j] + 1)
					v = 0.5 + up;	/* 0.5 over the floor */
			}
			fx_origin(&x[s], "a", k, v, pred, 2, 0.5, NULL);
			if (clip < 0)
				continue;
			for (size_t i = r0; i < r0 + H; i++) {
				struct shd_frame *f = &x[s].f;
				double p = low[clip];

				/* clipped; or 0 + 20, whole: the same errors */
				SHD_F64COL(f, 4)[i] = s ? up : fmax(p, 0);
				SHD_F64COL(f, 5)[i] = s ? up - 2 : fmax(p - 2, 0);
				SHD_F64COL(f, 6)[i] = s ? up + 2 : fmax(p + 2, 0);
			}
		}
		EXPECT_EQ_INT(fx_run(&x[s], 1), 0);
		EXPECT_EQ_INT(x[s].n, 600);
	}
	for (size_t i = 1; i < x[0].n; i++)
		EXPECT_NEAR(x[0].a[i].surprise, x[1].a[i].surprise, 1e-6);
	/* the errors of 0.5 after the clipped forecasts, and the next */
	for (int j = 0; j < 2; j++)
		for (int64_t k = at[j] + 1; k <= at[j] + 2; k++) {
			EXPECT(x[0].a[k].surprise < 1);
			EXPECT_EQ_INT(x[0].a[k].candidate, 0);
		}
	for (int s = 0; s < 2; s++)
		fx_release(&x[s]);
}

/* critical when pred reaches the limit; breach_in from the first step */
static void test_severity_breach(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 100, .warmup = 10,
				    .persist = 3 };
	struct shd_drift_metric lim = defaults;
	struct fx x;
	double pred[H] = { 60, 75, 90 };

	lim.limit = 80;
	fx_init(&x, &lim, &o);
	fx_origin(&x, "a", 0, 50, pred, 1, 0.9, NULL);
	fx_origin(&x, "b", 0, 85, pred, 1, 0.9, NULL);
	EXPECT_EQ_INT(fx_run(&x, 0), 0);
	EXPECT_EQ_INT(x.n, 2);
	EXPECT_EQ_INT(x.a[0].severity, SHD_SEV_CRITICAL);
	EXPECT_NEAR(x.a[0].breach_in, 3 * 300.0, 0);
	EXPECT_NEAR(x.a[1].breach_in, 0, 0);	/* already above */
	fx_release(&x);

	/* with the upper bound, step 2 (75 + 10) already reaches it */
	o.bound_hi = 1;
	fx_init(&x, &lim, &o);
	fx_origin(&x, "a", 0, 50, pred, 10, 0.9, NULL);
	EXPECT_EQ_INT(fx_run(&x, 0), 0);
	EXPECT_NEAR(x.a[0].breach_in, 2 * 300.0, 0);
	fx_release(&x);

	/* a per-series limit overrides the metric's */
	o.bound_hi = 0;
	fx_init(&x, &lim, &o);
	EXPECT_EQ_INT(shd_drift_series_limit(x.d, "a", 0, 1000), 0);
	fx_origin(&x, "a", 0, 50, pred, 1, 0.9, NULL);
	EXPECT_EQ_INT(fx_run(&x, 1), 0);
	EXPECT(isnan(x.a[0].breach_in));
	fx_release(&x);
}

/* the label: the forecast deviation came true (1) or did not (0) */
static void test_label(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 100, .warmup = 10,
				    .persist = 3 };
	struct shd_drift_metric m = defaults;
	struct fx x;
	double pred[H] = { 70, 70, 70 };
	double came[H] = { 69, 71, 68 }, went[H] = { 51, 50, 49 };

	m.capacity = 100;	/* |70 - 50| is 2 tenths: ahead 2 + 0.1 */
	m.threshold = 2;
	fx_init(&x, &m, &o);
	fx_origin(&x, "a", 0, 50, pred, 1, 0.9, came);
	fx_origin(&x, "b", 0, 50, pred, 1, 0.9, went);
	fx_origin(&x, "c", 0, 50, pred, 1, 0.9, NULL);
	EXPECT_EQ_INT(fx_run(&x, 0), 0);
	EXPECT_EQ_INT(x.n, 3);
	EXPECT_EQ_INT(x.a[0].label, 1);
	EXPECT_EQ_INT(x.a[1].label, 0);
	EXPECT_EQ_INT(x.a[2].label, -1);
	EXPECT_NEAR(x.a[0].feat[SHD_F_UP], 1, 0);
	fx_release(&x);
}

/* origins must ascend within a resource; a resource may not come back */
static void test_order(void)
{
	struct shd_drift_opts o = { .short_w = 2, .memory = 100, .warmup = 10,
				    .persist = 3 };
	struct fx x;
	double pred[H] = { 1, 1, 1 };

	fx_init(&x, &defaults, &o);
	fx_origin(&x, "a", 5, 1, pred, 1, 0.5, NULL);
	fx_origin(&x, "a", 4, 1, pred, 1, 0.5, NULL);
	EXPECT_EQ_INT(fx_run(&x, 1), SHD_EFORMAT);
	EXPECT(strstr(shd_drift_errmsg(x.d), "out of order") != NULL);
	fx_release(&x);

	fx_init(&x, &defaults, &o);
	fx_origin(&x, "a", 1, 1, pred, 1, 0.5, NULL);
	fx_origin(&x, "b", 1, 1, pred, 1, 0.5, NULL);
	fx_origin(&x, "a", 1, 1, pred, 1, 0.5, NULL);
	EXPECT_EQ_INT(fx_run(&x, 1), SHD_EFORMAT);
	EXPECT(strstr(shd_drift_errmsg(x.d), "not grouped") != NULL);
	fx_release(&x);
}

/* breaches are upward crossings; leads from the earliest alert in reach */
static void test_breach_eval(void)
{
	int64_t t[10];
	double cur[10] = { 1, 1, 1, 5, 5, 1, 1, 1, 1, 5 }, lead[10];
	uint8_t alert[10] = { 0, 1, 1, 0, 0, 0, 1, 0, 0, 0 };
	struct shd_breach_eval e;

	for (int i = 0; i < 10; i++)
		t[i] = i * STEP;
	shd_breach_eval(t, cur, alert, 10, 4, 2 * STEP, &e, lead);
	EXPECT_EQ_INT(e.breaches, 2);	/* at 3 and at 9 */
	EXPECT_EQ_INT(e.ahead, 1);	/* 3: alerts at 1, 2; 9: 6 too far */
	EXPECT_NEAR(lead[0], 2 * STEP, 0);
	EXPECT_EQ_INT(e.alerts, 3);
	EXPECT_EQ_INT(e.false_alerts, 1);	/* the one at 6 */
}

/*
 * A value beyond the series' range by more than range_tol of it alerts
 * even when the forecast saw it coming (no surprise), after the warmup;
 * range_tol 0 switches it off.
 */
static void test_out_of_range(void)
{
	struct shd_drift_metric set = defaults;
	struct fx x;

	set.threshold = 1e9;	/* the ahead score off */
	for (int on = 0; on < 2; on++) {
		struct shd_drift_opts o = { .short_w = 2, .memory = 1000,
					    .warmup = 20, .persist = 3,
					    .range_tol = on ? 0.05 : 0 };
		size_t cand = 0;

		fx_init(&x, &set, &o);
		for (int64_t k = 0; k < 120; k++) {
			/* 40..60 (all of it by the end of the warmup),
			 * then 60.5 at 100 (within 5% of the range of 20),
			 * 62 at 110; the forecast of the next value is
			 * always right */
			double v[2], pred[H];

			for (int j = 0; j < 2; j++) {
				int64_t i = k + j;

				v[j] = i == 100 ? 60.5 : i == 110 ? 62 :
				       40 + (double)((i * 8) % 21);
			}
			pred[0] = pred[1] = pred[2] = v[1];
			fx_origin(&x, "a", k, v[0], pred, 1, 0.5, NULL);
		}
		EXPECT_EQ_INT(fx_run(&x, 1), 0);
		for (size_t i = 0; i < x.n; i++) {
			const struct shd_alert *a = &x.a[i];

			cand += a->candidate;
			if (a->time == 110 * STEP) {
				EXPECT_EQ_INT(a->outside, on);
				EXPECT_EQ_INT(a->candidate, on);
				if (on)
					EXPECT_NEAR(a->score, 1e9, 1e-3);
			} else {
				EXPECT_EQ_INT(a->outside, 0);
			}
			EXPECT(!(a->surprise >= 2.7));
		}
		EXPECT_EQ_INT(cand, (size_t)on);
		fx_release(&x);
	}
}

/* p_min: the smallest, over windows holding a candidate, of its best */
static void test_filter_tune(void)
{
	struct shd_filter f;
	struct shd_alert a = { 0 };
	char err[256] = "";
	double best0 = -1, best1 = -1;
	uint32_t res[3] = { 0, 0, 1 };
	int64_t from[3] = { 10, 300, 50 }, to[3] = { 20, 320, 60 };

	shd_filter_init(&f);
	for (int i = 0; i < 200; i++) {
		a.res = (uint32_t)(i % 2);
		a.time = i;
		a.feat[SHD_F_SURPRISE] = (double)((i * 37) % 100) / 25;
		a.feat[SHD_F_RUN] = (double)(i % 3);
		a.label = (i * 37) % 100 > 40 + (i % 7) * 5;
		EXPECT_EQ_INT(shd_filter_add(&f, &a), 0);
	}
	EXPECT_EQ_INT(shd_filter_fit(&f, 1.0, NAN, err, sizeof(err)), 0);
	EXPECT_NEAR(f.p_min, SHD_FILTER_P_MIN, 0);
	for (int i = 0; i < 200; i++) {
		double p = shd_logit_prob(&f.lr, f.x + (size_t)i * SHD_NFEAT);

		if (i % 2 == 0 && i >= 10 && i <= 20 && p > best0)
			best0 = p;
		if (i % 2 == 1 && i >= 50 && i <= 60 && p > best1)
			best1 = p;
	}
	/* the window at 300..320 of resource 0 holds no candidate */
	EXPECT_EQ_INT(shd_filter_tune(&f, res, from, to, 3), 2);
	EXPECT_NEAR(f.p_min, best0 < best1 ? best0 : best1, 0);
	EXPECT_EQ_INT(shd_filter_tune(&f, res + 1, from + 1, to + 1, 1), 0);
	EXPECT_NEAR(f.p_min, best0 < best1 ? best0 : best1, 0);
	shd_filter_release(&f);
}

static const struct harness_case cases[] = {
	TEST(test_ahead_score),
	TEST(test_surprise_spike_and_hold),
	TEST(test_surprise_adapts),
	TEST(test_surprise_scale_free),
	TEST(test_surprise_clipped),
	TEST(test_severity_breach),
	TEST(test_label),
	TEST(test_order),
	TEST(test_breach_eval),
	TEST(test_out_of_range),
	TEST(test_filter_tune),
};

int main(void)
{
	return RUN_TESTS(cases);
}
