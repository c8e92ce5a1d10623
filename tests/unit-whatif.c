/*
 * unit-whatif.c - the capacity model (lib/whatif.c): parsing a change,
 * which metrics depend on which knob, the factor on production and on a
 * shadow, the queueing slowdown; and the shadow's values of knobs
 * (lib/confscale.c).
 */
#include "harness.h"

#include "config.h"
#include "confscale.h"
#include "shd.h"
#include "whatif.h"

static void test_parse(void)
{
	struct shd_whatif_set w;
	char err[256];

	EXPECT_EQ_INT(shd_whatif_parse("web.replicas=6", &w, err,
				       sizeof(err)), 0);
	EXPECT_EQ_STR(w.resource, "web");
	EXPECT_EQ_INT(w.knob, SHD_KNOB_REPLICAS);
	EXPECT_SAME_DOUBLE(w.to, 6);
	/* dots in the resource name: the last one splits */
	EXPECT_EQ_INT(shd_whatif_parse("db.eu-1.mem=8Gi", &w, err,
				       sizeof(err)), 0);
	EXPECT_EQ_STR(w.resource, "db.eu-1");
	EXPECT_EQ_INT(w.knob, SHD_KNOB_MEMORY);
	EXPECT_SAME_DOUBLE(w.to, 8589934592.0);
	EXPECT_EQ_INT(shd_whatif_parse("db.cpu=500m", &w, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(w.to, 0.5);
	static const char *const bad[] = { "web", "web=3", ".replicas=3",
		"web.gpu=1", "web.replicas=2.5", "web.replicas=lots",
		"w;rm -rf /.replicas=1", "../x.cpu=1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (shd_whatif_parse(bad[i], &w, err, sizeof(err)) !=
		    SHD_EINVAL)
			FAIL_AT("'%s' accepted", bad[i]);
}

static void test_depends(void)
{
	struct shd_resource_conf r = { .name = (char *)"web" };
	struct shd_metric_conf disk = { .name = (char *)"fill",
		.drives = 1u << SHD_KNOB_STORAGE };

	r.knob[SHD_KNOB_REPLICAS].set = 1;
	r.knob[SHD_KNOB_CPU].set = 1;
	r.knob[SHD_KNOB_STORAGE].set = 1;
	/* replicas: every percent metric; absolute ones never */
	EXPECT(shd_whatif_depends(&r, NULL, "cpu", 1, SHD_KNOB_REPLICAS));
	EXPECT(shd_whatif_depends(&r, NULL, "mem", 1, SHD_KNOB_REPLICAS));
	EXPECT(!shd_whatif_depends(&r, NULL, "cpu", 0, SHD_KNOB_REPLICAS));
	/* limits: their own metric */
	EXPECT(shd_whatif_depends(&r, NULL, "cpu", 1, SHD_KNOB_CPU));
	EXPECT(!shd_whatif_depends(&r, NULL, "mem", 1, SHD_KNOB_CPU));
	/* a knob the resource does not have */
	EXPECT(!shd_whatif_depends(&r, NULL, "mem", 1, SHD_KNOB_MEMORY));
	/* drives names the knob whatever the metric's name */
	EXPECT(shd_whatif_depends(&r, &disk, "fill", 1, SHD_KNOB_STORAGE));
	EXPECT(!shd_whatif_depends(&r, NULL, "fill", 1, SHD_KNOB_STORAGE));
}

static void test_factor(void)
{
	struct shd_resource_conf r = { .name = (char *)"web" };

	r.knob[SHD_KNOB_REPLICAS].set = 1;
	r.knob[SHD_KNOB_CPU].set = 1;
	/* 4 replicas at 60% -> 6: 40% (demand conserved) */
	EXPECT_NEAR(60 * shd_whatif_factor(&r, NULL, "cpu", 1,
					   SHD_KNOB_REPLICAS, 4, 6, 1),
		    40, 1e-12);
	/* the cpu limit halved: twice the percent */
	EXPECT_SAME_DOUBLE(shd_whatif_factor(&r, NULL, "cpu", 1, SHD_KNOB_CPU,
					     1, 0.5, 1), 2);
	/* absolute, unrelated, or nonsense: unchanged */
	EXPECT_SAME_DOUBLE(shd_whatif_factor(&r, NULL, "cpu", 0,
					     SHD_KNOB_REPLICAS, 4, 6, 1), 1);
	EXPECT_SAME_DOUBLE(shd_whatif_factor(&r, NULL, "net", 1,
					     SHD_KNOB_CPU, 1, 2, 1), 1);
	EXPECT_SAME_DOUBLE(shd_whatif_factor(&r, NULL, "cpu", 1,
					     SHD_KNOB_REPLICAS, 0, 6, 1), 1);
	/* a 10% shadow: 2 replicas (of production's 20) at 30% carry 60%
	 * of one replica of production's demand / 0.1 = 6 replicas' worth;
	 * on production's 24: 6/24 = 25% */
	EXPECT_NEAR(30 * shd_whatif_factor(&r, NULL, "cpu", 1,
					   SHD_KNOB_REPLICAS, 2, 24, 0.1),
		    25, 1e-12);
	/* per replica knobs do not scale with the shadow */
	EXPECT_SAME_DOUBLE(shd_whatif_factor(&r, NULL, "cpu", 1, SHD_KNOB_CPU,
					     1, 0.5, 0.1), 2);
}

static void test_slowdown(void)
{
	EXPECT_SAME_DOUBLE(shd_whatif_slowdown(0), 1);
	EXPECT_SAME_DOUBLE(shd_whatif_slowdown(50), 2);
	EXPECT_SAME_DOUBLE(shd_whatif_slowdown(90), 1 / (1 - 0.9));
	EXPECT(isinf(shd_whatif_slowdown(100)));
	EXPECT(isinf(shd_whatif_slowdown(250)));
}

static void test_shadow_values(void)
{
	const double gi = 1073741824.0;

	EXPECT_SAME_DOUBLE(shd_shadow_value(SHD_KNOB_REPLICAS, "current", 20,
					    0.1), 2);
	EXPECT_SAME_DOUBLE(shd_shadow_value(SHD_KNOB_REPLICAS, "current", 3,
					    0.1), 1);
	EXPECT_SAME_DOUBLE(shd_shadow_value(SHD_KNOB_REPLICAS, "min", 0, 0.1),
			   0);
	EXPECT_SAME_DOUBLE(shd_shadow_value(SHD_KNOB_REPLICAS, "max", 25,
					    0.1), 3);
	EXPECT(isinf(shd_shadow_value(SHD_KNOB_REPLICAS, "max", INFINITY,
				      0.1)));
	EXPECT_SAME_DOUBLE(shd_shadow_value(SHD_KNOB_CPU, "current", 2, 0.1),
			   2);
	EXPECT_SAME_DOUBLE(shd_shadow_value(SHD_KNOB_STORAGE, "current",
					    100 * gi, 0.1), 10 * gi);
}

static const struct harness_case cases[] = {
	TEST(test_parse),
	TEST(test_depends),
	TEST(test_factor),
	TEST(test_slowdown),
	TEST(test_shadow_values),
};

int main(void)
{
	return RUN_TESTS(cases);
}
