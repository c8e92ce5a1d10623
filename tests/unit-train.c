/*
 * unit-train.c - shd_train on a synthetic panel: two resources with a
 * daily sine and noise at 5-minute steps. Training never ends worse than
 * the autoregression on validation, each series' chosen method is the best
 * on validation, the intervals are finite and widen with the step, a seed
 * gives the same weights, and too little data is refused naming the
 * resource.
 */
#include "harness.h"
#include "model.h"
#include "rng.h"
#include "train.h"

#define STEP 300000		/* 5 minutes */
#define DAY 288

/* R resources of N slots, metrics cpu and mem; owned by P. */
static void synth(struct shd_panel *p, size_t R, size_t n, uint64_t seed)
{
	struct shd_rng rng;

	shd_rng_seed(&rng, seed);
	shd_panel_init(p);
	p->step = STEP;
	p->nmetric = 2;
	p->metric = calloc(2, sizeof(char *));
	p->unit = calloc(2, sizeof(char *));
	p->metric[0] = strdup("cpu");
	p->metric[1] = strdup("mem");
	p->unit[0] = strdup("%");
	p->unit[1] = strdup("MiB");
	p->nseries = R;
	p->series = calloc(R, sizeof(*p->series));
	for (size_t r = 0; r < R; r++) {
		struct shd_pseries *s = &p->series[r];
		char key[32];
		snprintf(key, sizeof(key), "vm-%zu", r);
		s->key = strdup(key);
		s->t0 = 1700006400000LL;	/* a midnight, UTC */
		s->n = n;
		s->x = malloc(2 * n * sizeof(double));
		s->count = calloc(n, sizeof(uint32_t));
		for (size_t i = 0; i < n; i++) {
			double ph = 6.283185307179586 * (double)i / DAY;
			/* a daily cycle with a sharp midday peak: not linear
			 * in its lags, something for the network */
			double peak = exp(-40 * (ph / 6.283185 - 0.5) *
					  (ph / 6.283185 - 0.5) * 4);
			s->x[i] = 50 + 20 * sin(ph + (double)r) +
				  15 * peak + 2 * shd_rng_normal(&rng);
			s->x[n + i] = 1000 + 100 * cos(ph) +
				      10 * shd_rng_normal(&rng);
			s->count[i] = 1;
		}
		s->x[n / 3] = NAN;	/* a gap, as in Bitbrains */
	}
}

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
		/* the least error wins, except that seasonal naive must win
		 * by 10% (a level shift ruins it) */
		int seasonal = ser->method == SHD_M_SNAIVE_DAY ||
			       ser->method == SHD_M_SNAIVE_WEEK;
		for (int k = 0; k < SHD_M_COUNT; k++) {
			int ks = k == SHD_M_SNAIVE_DAY || k == SHD_M_SNAIVE_WEEK;
			if (isnan(ser->val_err[k]))
				continue;
			if (ks && !seasonal)
				EXPECT(ser->val_err[ser->method] <=
				       ser->val_err[k] / 0.9 + 1e-12);
			else if (!ks && seasonal)
				EXPECT(ser->val_err[ser->method] <
				       0.9 * ser->val_err[k]);
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

static const struct harness_case cases[] = {
	TEST(test_train_and_choose),
	TEST(test_deterministic),
	TEST(test_warm_start),
	TEST(test_too_short),
};

int main(void)
{
	return RUN_TESTS(cases);
}
