/*
 * unit-replay.c - counterfactual backtests (lib/replay.c) on a series
 * made here: a load that doubles for an hour, seen by each policy.
 */
#include "harness.h"

#include "config.h"
#include "replay.h"
#include "shd.h"

#define N 96			/* 8 hours at 5 minutes */
#define STEP 300000LL

static struct shd_replay_point pts[N];

/* 40% (of 4 replicas), 100% from step 48 to 59; the forecast knows the
 * future H steps ahead exactly (peak = peak_hi = the max to come). */
static void make(size_t h)
{
	for (size_t i = 0; i < N; i++) {
		pts[i].time = 1700000000000LL + (int64_t)i * STEP;
		pts[i].u = i >= 48 && i < 60 ? 100 : 40;
		pts[i].conf = 0.9;
	}
	for (size_t i = 0; i < N; i++) {
		double pk = 0;

		for (size_t j = i + 1; j <= i + h && j < N; j++)
			pk = fmax(pk, pts[j].u);
		pts[i].peak = pts[i].peak_hi = i + 1 < N ? pk : pts[i].u;
	}
}

static void setup(struct shd_resource_conf *r, struct shd_metric_conf *m)
{
	memset(r, 0, sizeof(*r));
	memset(m, 0, sizeof(*m));
	r->name = (char *)"web";
	r->knob[SHD_KNOB_REPLICAS] = (struct shd_knob_conf){
		.set = 1, .current = 4, .min = 1, .max = 16,
		.max_step = INFINITY };
	r->cooldown = 600;
	m->name = (char *)"cpu";
	m->unit = SHD_UNIT_PERCENT;
	m->target = 0.6;
	m->headroom = 0.2;
	m->limit = 90;
	m->drives = 1u << SHD_KNOB_REPLICAS;
	r->metric = m;
	r->nmetric = 1;
}

static void test_policies(void)
{
	struct shd_resource_conf r;
	struct shd_metric_conf m;
	struct shd_replay_opts o = { .delay = 1, .stabilize = 1,
				     .vpa_every = 12, .step_s = 300,
				     .horizon = 6 };
	struct shd_replay_result res[SHD_NPOL];

	setup(&r, &m);
	make(6);
	EXPECT_EQ_INT(shd_replay_run(&r, SHD_KNOB_REPLICAS, &m, 90, pts, N,
				     &o, res, NULL, NULL), 0);
	/* static: the 12 steps at 100% are all breaches */
	EXPECT_NEAR(res[SHD_POL_STATIC].breach_min, 60, 1e-9);
	EXPECT_EQ_INT(res[SHD_POL_STATIC].changes, 0);
	EXPECT_NEAR(res[SHD_POL_STATIC].alloc_mean, 4, 1e-12);
	EXPECT_NEAR(res[SHD_POL_STATIC].slack,
		    (84 * 0.6 + 12 * 0) / 96.0, 1e-12);
	/* reactive: sees the first 100% step, acts one step later */
	EXPECT(res[SHD_POL_REACTIVE].breach_min >= 5 &&
	       res[SHD_POL_REACTIVE].breach_min <= 10);
	EXPECT(res[SHD_POL_REACTIVE].alerts >= 1);
	/* shd: the forecast sees it 6 steps ahead: no breach at all, and
	 * its alert came before the static breach with a lead */
	EXPECT_NEAR(res[SHD_POL_SHD].breach_min, 0, 1e-9);
	EXPECT(res[SHD_POL_SHD].alerts_before >= 1);
	EXPECT(res[SHD_POL_SHD].lead_median_min >= 5);
	EXPECT(res[SHD_POL_SHD].changes >= 1);
	/* the configuration is put back */
	EXPECT_SAME_DOUBLE(r.knob[SHD_KNOB_REPLICAS].current, 4);
}

static void test_blind_forecast(void)
{
	struct shd_resource_conf r;
	struct shd_metric_conf m;
	struct shd_replay_opts o = { .delay = 1, .stabilize = 1,
				     .vpa_every = 12, .step_s = 300,
				     .horizon = 6 };
	struct shd_replay_result res[SHD_NPOL];

	/* a forecast that never sees the surge: shd breaches like static
	 * until its forecast (the value now) catches up */
	setup(&r, &m);
	make(0);
	for (size_t i = 0; i < N; i++)
		pts[i].peak = pts[i].peak_hi = pts[i].u;
	EXPECT_EQ_INT(shd_replay_run(&r, SHD_KNOB_REPLICAS, &m, 90, pts, N,
				     &o, res, NULL, NULL), 0);
	EXPECT(res[SHD_POL_SHD].breach_min >= 5);
	EXPECT(res[SHD_POL_SHD].breach_min < res[SHD_POL_STATIC].breach_min);
	EXPECT_EQ_INT(res[SHD_POL_SHD].alerts_before, 0);
}

static void test_bad(void)
{
	struct shd_resource_conf r;
	struct shd_metric_conf m;
	struct shd_replay_opts o = { .delay = 1, .stabilize = 1,
				     .vpa_every = 12, .step_s = 300,
				     .horizon = 6 };
	struct shd_replay_result res[SHD_NPOL];

	setup(&r, &m);
	make(6);
	EXPECT_EQ_INT(shd_replay_run(&r, SHD_KNOB_CPU, &m, 90, pts, N, &o,
				     res, NULL, NULL), SHD_EINVAL);
	EXPECT_EQ_INT(shd_replay_run(&r, SHD_KNOB_REPLICAS, &m, 90, pts, 0,
				     &o, res, NULL, NULL), SHD_EINVAL);
}

static const struct harness_case cases[] = {
	TEST(test_policies),
	TEST(test_blind_forecast),
	TEST(test_bad),
};

int main(void)
{
	return RUN_TESTS(cases);
}
