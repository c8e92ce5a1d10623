/*
 * unit-planjson.c - numbers JSON cannot hold in a plan (lib/plan.c): an
 * infinite "wanted" (an unbounded interval) is left out of the file and
 * the plan written; an infinite or NaN from/to is named by
 * shd_plan_check, where shd_plan_json alone could only fail (shd-plan
 * said "out of memory").
 */
#include <math.h>
#include <string.h>

#include "harness.h"

#include "config.h"
#include "plan.h"
#include "shd.h"

static struct shd_action action(const char *res, double from, double to,
				double wanted)
{
	struct shd_action a = { 0 };

	snprintf(a.resource, sizeof(a.resource), "%s", res);
	snprintf(a.metric, sizeof(a.metric), "cpu");
	snprintf(a.reason, sizeof(a.reason), "a test");
	a.knob = SHD_KNOB_CPU;
	a.from = from;
	a.to = to;
	a.wanted = wanted;
	a.severity = 2;
	a.time = 1700000000000LL;
	return a;
}

static void test_infinite_wanted(void)
{
	struct shd_action v[2] = { action("web", 1, 2, INFINITY),
				   action("db", 1, 1.5, 1.5) };
	struct shd_plan p = { .nact = 2, .act = v };
	char why[256] = "";
	json_t *j, *a;

	EXPECT_EQ_INT(shd_plan_check(&p, why, sizeof(why)), 0);
	j = shd_plan_json(&p, NULL, NULL, 0);
	EXPECT(j != NULL);
	if (!j)
		return;
	a = json_object_get(j, "actions");
	EXPECT_EQ_INT((int)json_array_size(a), 2);
	EXPECT(json_object_get(json_array_get(a, 0), "wanted") == NULL);
	EXPECT(json_object_get(json_array_get(a, 0), "to") != NULL);
	EXPECT_NEAR(json_real_value(json_object_get(json_array_get(a, 1),
						    "wanted")), 1.5, 0);
	json_decref(j);
}

static void test_infinite_to(void)
{
	struct shd_action v[1] = { action("web", 1, 2, 2) };
	struct shd_action h[2] = { action("db", 1, 1, 1),
				   action("cache", NAN, 1, 1) };
	struct shd_plan p = { .nact = 1, .act = v, .nheld = 2, .held = h };
	char why[256] = "";

	EXPECT_EQ_INT(shd_plan_check(&p, why, sizeof(why)), SHD_ENUMERIC);
	EXPECT_EQ_STR(why, "held action 2 (resource 'cache', knob cpu, "
		      "metric 'cpu'): 'from' is nan, not a finite number");
	v[0].to = INFINITY;
	EXPECT_EQ_INT(shd_plan_check(&p, why, sizeof(why)), SHD_ENUMERIC);
	EXPECT_EQ_STR(why, "action 1 (resource 'web', knob cpu, metric "
		      "'cpu'): 'to' is inf, not a finite number");
	/* what shd-plan checks first: the JSON cannot be made */
	EXPECT(shd_plan_json(&p, NULL, NULL, 0) == NULL);
}

static const struct harness_case cases[] = {
	TEST(test_infinite_wanted),
	TEST(test_infinite_to),
};

int main(void)
{
	return RUN_TESTS(cases);
}
