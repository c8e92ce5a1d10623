/*
 * unit-train.c - shd_train on a synthetic panel: two resources with a
 * daily sine and noise at 5-minute steps. Training never ends worse than
 * the autoregression on validation, each series' chosen method is the best
 * on validation or a simpler one the better could not significantly beat,
 * the intervals are finite and widen with the step, a seed
 * gives the same weights, and too little data is refused naming the
 * resource. shd_train_extend fits new resources as a refit would. Known
 * events leave out exactly the windows that forecast across them.
 */
#include <stdint.h>
#include <unistd.h>

#include "events.h"
#include "harness.h"
#include "model.h"
#include "rng.h"
#include "synth.h"
#include "train.h"

static void small_opts(struct shd_train_opts *o)
{
	shd_train_opts_init(o);
	o->lookback = 24;
	o->horizon = 6;
	o->hidden = 8;
	o->batch = 32;
	o->epochs = 4;
	o->max_windows = 1500;
	o->max_eval = 400;
	o->lr = 3e-3;
	o->seed = 7;
}

static void test_train_and_choose(void)
{
	struct shd_panel p;
	struct shd_model m;
	struct shd_train_opts o;
	struct shd_train_report rep;

	synth(&p, 2, 4 * DAY, 1);
	small_opts(&o);
	int rc = shd_train(&m, &p, &o, &rep, NULL, NULL);
	EXPECT_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "# %s\n", rep.err);
		goto out;
	}
	EXPECT_EQ_INT(m.nres, 2);
	EXPECT_EQ_INT(m.nmetric, 2);
	EXPECT_EQ_INT(m.horizon, 6);
	EXPECT_EQ_INT(m.day, DAY);
	EXPECT_EQ_INT(m.week, 0);	/* 4 days hold no week */
	EXPECT_EQ_INT(m.nnet, 1);
	EXPECT(rep.epochs_run >= 1);
	EXPECT(rep.train_windows > 0 && rep.train_windows <= 1500);
	/* training starts at the autoregression and keeps the best */
	EXPECT(isfinite(rep.val_loss_start));
	EXPECT(rep.val_loss_best <= rep.val_loss_start);
	EXPECT(m.report && strstr(m.report, "\"snaive_day\""));
	if (getenv("SHD_TEST_VERBOSE"))
		fprintf(stderr, "%s\n", m.report);
	for (size_t s = 0; s < 4; s++) {
		const struct shd_mseries *ser = &m.ser[s];
		EXPECT(ser->scale > 0);
		EXPECT(ser->mase_scale > 0);
		EXPECT(isnan(ser->val_err[SHD_M_SNAIVE_WEEK]));
		/*
		 * The least error wins, except that a more complex method
		 * (last < ar < lstm) may lose to a simpler one when its
		 * advantage is not significant, and seasonal naive must
		 * beat the least of the others by 10% (a level shift
		 * ruins it).
		 */
		static const int rank[SHD_M_COUNT] = {
			[SHD_M_LAST] = 0, [SHD_M_AR] = 1, [SHD_M_LSTM] = 2,
			[SHD_M_SNAIVE_DAY] = -1, [SHD_M_SNAIVE_WEEK] = -1,
		};
		int seasonal = rank[ser->method] < 0;
		double least = INFINITY;
		for (int k = 0; k < SHD_M_COUNT; k++)
			if (rank[k] >= 0 && ser->val_err[k] < least)
				least = ser->val_err[k];
		for (int k = 0; k < SHD_M_COUNT; k++) {
			int ks = rank[k] < 0;
			if (isnan(ser->val_err[k]))
				continue;
			if (ks && !seasonal)
				EXPECT(least <= ser->val_err[k] / 0.9 + 1e-12);
			else if (!ks && seasonal)
				EXPECT(ser->val_err[ser->method] <
				       0.9 * ser->val_err[k]);
			else if (!ks)
				EXPECT(ser->val_err[ser->method] <=
				       ser->val_err[k] ||
				       rank[k] > rank[ser->method]);
			else
				EXPECT(ser->val_err[ser->method] <=
				       ser->val_err[k]);
		}
		EXPECT(ser->method != SHD_M_SNAIVE_WEEK);
		/* intervals: finite, and wider far out than near */
		for (int k = 0; k < SHD_M_COUNT; k++) {
			if (k == SHD_M_SNAIVE_WEEK)
				continue;
			for (size_t h = 0; h < 6; h++)
				EXPECT(isfinite(ser->q[k * 6 + h]) &&
				       ser->q[k * 6 + h] > 0);
		}
		EXPECT(isinf(ser->q[SHD_M_SNAIVE_WEEK * 6]));
		EXPECT(ser->q[SHD_M_LAST * 6 + 5] >=
		       0.9 * ser->q[SHD_M_LAST * 6]);
		EXPECT(ser->q[SHD_M_AR * 6 + 5] >= 0.8 * ser->q[SHD_M_AR * 6]);
		/* the network's corrections on validation: a finite range
		 * holding 0 or near it (training starts at 0 and stays
		 * small on this smooth data) */
		EXPECT(isfinite(ser->yrange[0]) && isfinite(ser->yrange[1]));
		EXPECT(ser->yrange[0] <= ser->yrange[1]);
		EXPECT(ser->yrange[1] - ser->yrange[0] < 20);
		/* the seasonal feature's range, when the day was kept */
		if (ser->ar.day)
			EXPECT(ser->ar.srange[0][0] < ser->ar.srange[0][1]);
	}
	/* by construction the chosen beat the autoregression on the mean */
	EXPECT(rep.mase[SHD_M_COUNT][2] <= rep.mase[SHD_M_AR][2] + 1e-12);
	EXPECT_EQ_INT(rep.chosen[0] + rep.chosen[1] + rep.chosen[2] +
		      rep.chosen[3] + rep.chosen[4], 4);
out:
	shd_model_release(&m);
	shd_panel_release(&p);
}

static void test_deterministic(void)
{
	struct shd_panel p;
	struct shd_model a, b;
	struct shd_train_opts o;

	synth(&p, 2, 3 * DAY, 2);
	small_opts(&o);
	o.epochs = 2;
	o.per_resource = 1;
	EXPECT_EQ_INT(shd_train(&a, &p, &o, NULL, NULL, NULL), 0);
	EXPECT_EQ_INT(shd_train(&b, &p, &o, NULL, NULL, NULL), 0);
	EXPECT_EQ_INT(a.nnet, 2);
	EXPECT_EQ_INT(b.nnet, 2);
	for (size_t i = 0; i < a.nnet && i < b.nnet; i++) {
		EXPECT_EQ_INT(a.net[i].nparams, b.net[i].nparams);
		EXPECT(memcmp(a.net[i].params, b.net[i].params,
			      a.net[i].nparams * sizeof(float)) == 0);
	}
	for (size_t s = 0; s < 4; s++) {
		EXPECT_EQ_INT(a.ser[s].method, b.ser[s].method);
		EXPECT(memcmp(a.ser[s].q, b.ser[s].q,
			      SHD_M_COUNT * a.horizon * sizeof(double)) == 0);
	}
	EXPECT_EQ_INT(a.fingerprint, b.fingerprint);
	shd_model_release(&a);
	shd_model_release(&b);

	/* another seed, other weights */
	o.seed = 8;
	EXPECT_EQ_INT(shd_train(&b, &p, &o, NULL, NULL, NULL), 0);
	shd_train(&a, &p, &(struct shd_train_opts){ .lookback = 0 }, NULL,
		  NULL, NULL);	/* bad options: refused, releasable */
	shd_model_release(&a);
	o.seed = 7;
	EXPECT_EQ_INT(shd_train(&a, &p, &o, NULL, NULL, NULL), 0);
	EXPECT(memcmp(a.net[0].params, b.net[0].params,
		      a.net[0].nparams * sizeof(float)) != 0);
	shd_model_release(&a);
	shd_model_release(&b);
	shd_panel_release(&p);
}

/* The per-series fits shared among threads: the same numbers whatever the
 * count (interleaved resources, a thread count that does not divide them). */
static void test_threads_same_fits(void)
{
	struct shd_panel p;
	struct shd_model a, b;
	struct shd_train_opts o;

	synth(&p, 5, 3 * DAY, 4);
	small_opts(&o);
	o.epochs = 1;
	EXPECT_EQ_INT(shd_train(&a, &p, &o, NULL, NULL, NULL), 0);
	o.threads = 3;
	EXPECT_EQ_INT(shd_train(&b, &p, &o, NULL, NULL, NULL), 0);
	EXPECT_EQ_INT(a.nres, 5);
	EXPECT_EQ_INT(b.nres, 5);
	for (size_t s = 0; s < a.nres * a.nmetric && s < b.nres * b.nmetric;
	     s++) {
		const struct shd_mseries *x = &a.ser[s], *y = &b.ser[s];
		EXPECT_SAME_DOUBLE(x->center, y->center);
		EXPECT_SAME_DOUBLE(x->scale, y->scale);
		EXPECT_SAME_DOUBLE(x->mase_scale, y->mase_scale);
		EXPECT_EQ_INT(x->ar.k, y->ar.k);
		EXPECT(x->ar.k == y->ar.k &&
		       memcmp(x->ar.coef, y->ar.coef, x->ar.H * x->ar.k *
			      sizeof(double)) == 0);
	}
	shd_model_release(&a);
	shd_model_release(&b);
	shd_panel_release(&p);
}

static void test_warm_start(void)
{
	struct shd_panel p;
	struct shd_model old, m;
	struct shd_train_opts o;
	struct shd_train_report rep;

	synth(&p, 2, 3 * DAY, 3);
	small_opts(&o);
	o.epochs = 1;
	EXPECT_EQ_INT(shd_train(&old, &p, &o, NULL, NULL, NULL), 0);
	o.init = &old;
	o.epochs = 0;	/* no training: the weights are the old ones */
	EXPECT_EQ_INT(shd_train(&m, &p, &o, &rep, NULL, NULL), 0);
	EXPECT_EQ_INT(rep.warm, 1);
	EXPECT(memcmp(m.net[0].params, old.net[0].params,
		      old.net[0].nparams * sizeof(float)) == 0);
	shd_model_release(&m);
	o.hidden = 9;	/* another architecture */
	EXPECT_EQ_INT(shd_train(&m, &p, &o, &rep, NULL, NULL), SHD_EINVAL);
	EXPECT(strstr(rep.err, "--init") && strstr(rep.err, "hidden 8"));
	shd_model_release(&m);
	shd_model_release(&old);
	shd_panel_release(&p);
}

static void test_too_short(void)
{
	struct shd_panel p;
	struct shd_model m;
	struct shd_train_opts o;
	struct shd_train_report rep;

	synth(&p, 2, 3 * DAY, 4);
	p.series[1].n = 50;	/* vm-1: too few for lookback 24 */
	small_opts(&o);
	EXPECT_EQ_INT(shd_train(&m, &p, &o, &rep, NULL, NULL), SHD_EINVAL);
	EXPECT(strstr(rep.err, "'vm-1'") && strstr(rep.err, "50 samples"));
	shd_model_release(&m);
	p.series[1].n = 3 * DAY;
	shd_panel_release(&p);
}

/* A panel of series [R0, R0 + N) of P, borrowing everything (not released). */
static struct shd_panel view(const struct shd_panel *p, size_t r0, size_t n)
{
	struct shd_panel v = *p;

	v.series = p->series + r0;
	v.nseries = n;
	return v;
}

static void expect_same_series(const struct shd_mseries *a,
			       const struct shd_mseries *b, size_t H)
{
	EXPECT_SAME_DOUBLE(a->center, b->center);
	EXPECT_SAME_DOUBLE(a->scale, b->scale);
	EXPECT_SAME_DOUBLE(a->mase_scale, b->mase_scale);
	EXPECT_EQ_INT(a->method, b->method);
	for (int k = 0; k < SHD_M_COUNT; k++)
		EXPECT_SAME_DOUBLE(a->val_err[k], b->val_err[k]);
	for (size_t j = 0; j < SHD_M_COUNT * H; j++)
		EXPECT_SAME_DOUBLE(a->q[j], b->q[j]);
	EXPECT_EQ_INT(a->ar.k, b->ar.k);
	EXPECT_EQ_INT(a->ar.day, b->ar.day);
	EXPECT_EQ_INT(a->ar.week, b->ar.week);
	for (size_t j = 0; j < H * a->ar.k && a->ar.k == b->ar.k; j++)
		EXPECT_SAME_DOUBLE(a->ar.coef[j], b->ar.coef[j]);
}

/*
 * shd_train_extend fits new resources exactly as shd_train --init MODEL
 * --epochs 0 does on them (the same code: normalization, autoregression,
 * choice, calibration), keeps the network, appends them, and the model
 * still saves and loads.
 */
static void test_extend(void)
{
	struct shd_panel all, known, fresh;
	struct shd_model m, ref, back;
	struct shd_train_opts o;
	struct shd_train_report rep;
	char path[] = "/tmp/shd-unit-train.XXXXXX", err[256];
	float *w0 = NULL;

	synth(&all, 4, 3 * DAY, 5);
	known = view(&all, 0, 2);
	fresh = view(&all, 2, 2);
	small_opts(&o);
	o.epochs = 1;
	EXPECT_EQ_INT(shd_train(&m, &known, &o, NULL, NULL, NULL), 0);
	/* the reference: shd-train --init m --epochs 0 on the new ones */
	o.init = &m;
	o.epochs = 0;
	EXPECT_EQ_INT(shd_train(&ref, &fresh, &o, NULL, NULL, NULL), 0);
	o.init = NULL;
	o.epochs = 1;
	w0 = malloc(m.net[0].nparams * sizeof(float));
	memcpy(w0, m.net[0].params, m.net[0].nparams * sizeof(float));

	EXPECT_EQ_INT(shd_train_extend(&m, &fresh, &o, &rep), 0);
	EXPECT_EQ_INT(m.nres, 4);
	EXPECT_EQ_INT(m.nnet, 1);
	EXPECT_EQ_INT(shd_model_find(&m, "vm-2"), 2);
	EXPECT_EQ_INT(shd_model_find(&m, "vm-3"), 3);
	EXPECT_EQ_STR(m.res[0], "vm-0");
	EXPECT(shd_model_net(&m, 3) == &m.net[0]);
	EXPECT(memcmp(w0, m.net[0].params,
		      m.net[0].nparams * sizeof(float)) == 0);
	EXPECT_EQ_INT(rep.nseries, 4);
	EXPECT(rep.val_windows > 0 && rep.cal_windows > 0);
	EXPECT_EQ_INT(rep.chosen[0] + rep.chosen[1] + rep.chosen[2] +
		      rep.chosen[3] + rep.chosen[4], 4);
	for (size_t i = 0; i < 4 && ref.nres == 2; i++)
		expect_same_series(&m.ser[4 + i], &ref.ser[i], m.horizon);
	for (size_t i = 4; i < 8; i++)
		EXPECT(isfinite(m.ser[i].q[m.ser[i].method * m.horizon]));

	/* a global model so extended is still a model file */
	if (mkdtemp(path)) {
		char file[300];
		snprintf(file, sizeof(file), "%s/x.model", path);
		EXPECT_EQ_INT(shd_model_save(&m, file), 0);
		EXPECT_EQ_INT(shd_model_load(&back, file, err, sizeof(err)), 0);
		EXPECT_EQ_INT(back.nres, 4);
		if (back.nres == 4)
			expect_same_series(&back.ser[6], &m.ser[6], m.horizon);
		shd_model_release(&back);
		remove(file);
		rmdir(path);
	}
	free(w0);
	shd_model_release(&ref);
	shd_model_release(&m);
	shd_panel_release(&all);
}

/*
 * A per-resource model has no network for a new resource: its series
 * choose among the other methods, lstm has no error and no interval, and
 * the model can no longer be saved.
 */
static void test_extend_per_resource(void)
{
	struct shd_panel all, known, fresh;
	struct shd_model m;
	struct shd_train_opts o;
	struct shd_train_report rep;
	size_t H;

	synth(&all, 3, 3 * DAY, 6);
	known = view(&all, 0, 2);
	fresh = view(&all, 2, 1);
	small_opts(&o);
	o.epochs = 1;
	o.per_resource = 1;
	EXPECT_EQ_INT(shd_train(&m, &known, &o, NULL, NULL, NULL), 0);
	o.per_resource = 0;	/* the model's, whatever O says */
	EXPECT_EQ_INT(shd_train_extend(&m, &fresh, &o, &rep), 0);
	H = m.horizon;
	EXPECT_EQ_INT(m.nres, 3);
	EXPECT_EQ_INT(m.nnet, 2);
	EXPECT(shd_model_net(&m, 1) == &m.net[1]);
	EXPECT(shd_model_net(&m, 2) == NULL);
	EXPECT_EQ_INT(rep.chosen[SHD_M_LSTM], 0);
	for (size_t i = 4; i < 6 && m.nres == 3; i++) {
		const struct shd_mseries *ser = &m.ser[i];
		EXPECT(ser->method != SHD_M_LSTM);
		EXPECT(isnan(ser->val_err[SHD_M_LSTM]));
		EXPECT(isfinite(ser->val_err[SHD_M_AR]));
		for (size_t h = 0; h < H; h++) {
			EXPECT(isinf(ser->q[SHD_M_LSTM * H + h]));
			EXPECT(isfinite(ser->q[SHD_M_AR * H + h]));
			EXPECT(isfinite(ser->q[SHD_M_LAST * H + h]));
		}
	}
	EXPECT_EQ_INT(shd_model_save(&m, "/nonexistent/x.model"), SHD_EINVAL);
	shd_model_release(&m);
	shd_panel_release(&all);
}

/* Refused, the model left as it was: a known resource, a short series. */
static void test_extend_refuses(void)
{
	struct shd_panel all, known, fresh;
	struct shd_model m;
	struct shd_train_opts o;
	struct shd_train_report rep;

	synth(&all, 4, 3 * DAY, 7);
	known = view(&all, 0, 2);
	fresh = view(&all, 1, 3);	/* vm-1 is known */
	small_opts(&o);
	o.epochs = 0;
	EXPECT_EQ_INT(shd_train(&m, &known, &o, NULL, NULL, NULL), 0);
	EXPECT_EQ_INT(shd_train_extend(&m, &fresh, &o, &rep), SHD_EINVAL);
	EXPECT(strstr(rep.err, "'vm-1'") && strstr(rep.err, "in the model"));
	EXPECT_EQ_INT(m.nres, 2);
	fresh = view(&all, 2, 2);
	size_t need = shd_train_min_samples(&o, m.lookback, m.horizon);
	all.series[3].n = need - 1;
	EXPECT_EQ_INT(shd_train_extend(&m, &fresh, &o, &rep), SHD_EINVAL);
	EXPECT(strstr(rep.err, "'vm-3'") && strstr(rep.err, "too few"));
	EXPECT_EQ_INT(m.nres, 2);
	all.series[3].n = need;		/* just enough */
	EXPECT_EQ_INT(shd_train_extend(&m, &fresh, &o, &rep), 0);
	EXPECT_EQ_INT(m.nres, 4);
	all.series[3].n = 3 * DAY;
	shd_model_release(&m);
	shd_panel_release(&all);
}

/*
 * shd_train_min_samples: the least N from which every series is long
 * enough, for the default split and an odd one; none without calibration.
 */
static void test_min_samples(void)
{
	struct shd_train_opts o;
	static const double splits[][2] = { { 0.7, 0.15 }, { 0.5, 0.45 },
					    { 0.33, 0.33 } };

	shd_train_opts_init(&o);
	for (size_t i = 0; i < 3; i++) {
		o.split_train = splits[i][0];
		o.split_val = splits[i][1];
		size_t n = shd_train_min_samples(&o, 48, 12), bad = 0;
		EXPECT(n < 10000);
		EXPECT(!shd_train_long_enough(&o, n - 1, 48, 12));
		for (size_t k = n; k < n + 5000; k++)
			bad += !shd_train_long_enough(&o, k, 48, 12);
		EXPECT_EQ_INT(bad, 0);
	}
	shd_train_opts_init(&o);
	EXPECT_EQ_INT(shd_train_min_samples(&o, 48, 12), 134);
	o.split_val = 0.3;	/* 0.7 + 0.3: no calibration */
	EXPECT(shd_train_min_samples(&o, 48, 12) == SIZE_MAX);
}

/*
 * Known events: the windows whose counted targets hold one are left out,
 * exactly those; other resources' events and fleet-wide ones as said; a
 * file that concerns no resource changes nothing.
 */
static void test_events(void)
{
	const int64_t t0 = 1700006400000LL;
	struct shd_panel p;
	struct shd_model a, b, c;
	struct shd_train_opts o;
	struct shd_train_report ra, rb, rc;
	struct shd_events ev, other;

	/* 864 slots: training [0, 604), validation [604, 733), calibration
	 * [733, 864) */
	synth(&p, 2, 3 * DAY, 3);
	small_opts(&o);
	o.epochs = 1;
	o.max_windows = 100000;
	o.max_eval = 100000;
	shd_events_init(&ev);
	shd_events_init(&other);
	/* training: vm-0 inside slot 300, vm-1 at the start of slot 400:
	 * origins s-6 .. s-1 each */
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 300 * STEP + 1, "vm-0"), 0);
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 400 * STEP, "vm-1"), 0);
	/* validation: every resource, slot 650 */
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 650 * STEP + 5, "*"), 0);
	/* calibration: vm-1 in its first slot (only the origin 732 counts
	 * a target there: validation's stop at 732), vm-0 in the last */
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 733 * STEP, "vm-1"), 0);
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 863 * STEP, "vm-0"), 0);
	/* none of these counts: another resource, before and after */
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 500 * STEP, "vm-9"), 0);
	EXPECT_EQ_INT(shd_events_add(&ev, t0 - 1, NULL), 0);
	EXPECT_EQ_INT(shd_events_add(&ev, t0 + 864 * STEP, NULL), 0);
	shd_events_sort(&ev);
	EXPECT_EQ_INT(shd_events_add(&other, t0 + 300 * STEP, "vm-9"), 0);

	EXPECT_EQ_INT(shd_train(&a, &p, &o, &ra, NULL, NULL), 0);
	o.events = &ev;
	EXPECT_EQ_INT(shd_train(&b, &p, &o, &rb, NULL, NULL), 0);
	o.events = &other;
	EXPECT_EQ_INT(shd_train(&c, &p, &o, &rc, NULL, NULL), 0);

	EXPECT_EQ_INT(ra.train_events + ra.val_events + ra.cal_events, 0);
	EXPECT_EQ_INT(rb.train_events, 12);
	EXPECT_EQ_INT(rb.val_events, 12);
	EXPECT_EQ_INT(rb.cal_events, 7);
	EXPECT_EQ_INT(rb.train_windows, ra.train_windows - 12);
	EXPECT_EQ_INT(rb.val_windows, ra.val_windows - 12);
	EXPECT_EQ_INT(rb.cal_windows, ra.cal_windows - 7);
	EXPECT(b.report && strstr(b.report, "\"event_windows\""));
	EXPECT(a.report && !strstr(a.report, "\"event_windows\""));
	/* other windows drawn: other weights */
	if (a.nnet && b.nnet)
		EXPECT(memcmp(a.net[0].params, b.net[0].params,
			      a.net[0].nparams * sizeof(float)) != 0);
	/* events of no resource of the panel: the same model as without */
	EXPECT_EQ_INT(rc.train_events + rc.val_events + rc.cal_events, 0);
	EXPECT_EQ_INT(rc.train_windows, ra.train_windows);
	if (a.nnet && c.nnet)
		EXPECT(memcmp(a.net[0].params, c.net[0].params,
			      a.net[0].nparams * sizeof(float)) == 0);
	for (size_t s = 0; s < 4; s++) {
		EXPECT_EQ_INT(a.ser[s].method, c.ser[s].method);
		EXPECT(memcmp(a.ser[s].q, c.ser[s].q,
			      SHD_M_COUNT * a.horizon * sizeof(double)) == 0);
	}
	shd_model_release(&a);
	shd_model_release(&b);
	shd_model_release(&c);
	shd_events_release(&ev);
	shd_events_release(&other);
	shd_panel_release(&p);
}

/*
 * A series noisy through validation and quiet through calibration: its
 * intervals must hold the validation part's errors too (a disk idle through
 * calibration got intervals that held 65% of what came later). The last
 * value's errors one step ahead are easy to recompute here.
 */
static void test_interval_both_parts(void)
{
	struct shd_panel p;
	struct shd_train_opts o;
	struct shd_model m;
	struct shd_train_report rep;
	struct shd_rng rng;
	size_t n = 4 * DAY, ntr = (size_t)(0.7 * (double)n);
	size_t nva = (size_t)(0.15 * (double)n), c = 0;
	double r[DAY], q;

	synth(&p, 1, n, 5);
	shd_rng_seed(&rng, 9);
	for (size_t i = ntr; i < ntr + nva; i++)
		p.series[0].x[i] += 20 * shd_rng_normal(&rng);
	small_opts(&o);
	o.epochs = 1;
	o.max_eval = 100000;
	EXPECT_EQ_INT(shd_train(&m, &p, &o, &rep, NULL, NULL), 0);
	/* the last value's errors at step 1 from the validation origins */
	for (size_t t = ntr - 1; t + 1 < ntr + nva && c < DAY; t++)
		r[c++] = p.series[0].x[t + 1] - p.series[0].x[t];
	EXPECT(c > 30);
	EXPECT_EQ_INT(shd_conformal_quantile(r, c, o.coverage, &q), 0);
	const struct shd_mseries *ser = &m.ser[0];
	EXPECT(ser->q[SHD_M_LAST * m.horizon] * ser->scale >= q * (1 - 1e-5));
	/* the calibration part alone gives about 1.645 * 2 sqrt(2) = 4.7 */
	EXPECT(ser->q[SHD_M_LAST * m.horizon] * ser->scale > 10);
	shd_model_release(&m);
	shd_panel_release(&p);
}

static const struct harness_case cases[] = {
	TEST(test_train_and_choose),
	TEST(test_deterministic),
	TEST(test_threads_same_fits),
	TEST(test_warm_start),
	TEST(test_too_short),
	TEST(test_extend),
	TEST(test_extend_per_resource),
	TEST(test_extend_refuses),
	TEST(test_min_samples),
	TEST(test_events),
	TEST(test_interval_both_parts),
};

int main(void)
{
	return RUN_TESTS(cases);
}
