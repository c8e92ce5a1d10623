/*
 * unit-fidelity.c - the fidelity figures of shd-shadow (lib/fidelity.c):
 * the exact two-sample KS distance on known samples (identical, disjoint,
 * small cases counted by hand, ties), quantiles and relative errors, the
 * cycle strength of a pure daily sine, of a weekly one and of noise, and
 * the report with its verdict.
 */
#include "harness.h"

#include "fidelity.h"
#include "rng.h"
#include "shadow.h"
#include "shd.h"

static void test_ks_identical(void)
{
	double a[] = { 1, 2, 2, 3, 7, 9 };

	EXPECT_SAME_DOUBLE(shd_ks_distance(a, 6, a, 6), 0.0);
	/* the same distribution at another sample size */
	double b[] = { 1, 1, 2, 2, 2, 2, 3, 3, 7, 7, 9, 9 };
	EXPECT_SAME_DOUBLE(shd_ks_distance(a, 6, b, 12), 0.0);
}

static void test_ks_disjoint(void)
{
	double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6, 7 };

	EXPECT_SAME_DOUBLE(shd_ks_distance(a, 3, b, 4), 1.0);
	EXPECT_SAME_DOUBLE(shd_ks_distance(b, 4, a, 3), 1.0);
}

/*
 * a = {1, 2, 3, 4}, b = {3, 4, 5}:
 *   x    1     2     3      4      5
 *   Fa   1/4   2/4   3/4    1      1
 *   Fb   0     0     1/3    2/3    1
 *   |d|  1/4   1/2   5/12   1/3    0     -> D = 1/2
 * ties, a = {1, 2, 2, 3}, b = {2, 2, 2, 4}:
 *   x    1     2     3      4
 *   Fa   1/4   3/4   1      1
 *   Fb   0     3/4   3/4    1
 *   |d|  1/4   0     1/4    0            -> D = 1/4
 * (stepping through a's 2s before b's would wrongly see 3/4 - 0)
 */
static void test_ks_by_hand(void)
{
	double a[] = { 1, 2, 3, 4 }, b[] = { 3, 4, 5 };
	double c[] = { 1, 2, 2, 3 }, d[] = { 2, 2, 2, 4 };

	EXPECT_NEAR(shd_ks_distance(a, 4, b, 3), 0.5, 1e-15);
	EXPECT_NEAR(shd_ks_distance(b, 3, a, 4), 0.5, 1e-15);
	EXPECT_NEAR(shd_ks_distance(c, 4, d, 4), 0.25, 1e-15);
	EXPECT_NEAR(shd_ks_distance(d, 4, c, 4), 0.25, 1e-15);
	/* one value against several */
	double e[] = { 5 };
	EXPECT_NEAR(shd_ks_distance(e, 1, a, 4), 1.0, 1e-15);
	EXPECT_NEAR(shd_ks_distance(e, 1, b, 3), 2.0 / 3, 1e-15);
}

static void test_ks_empty(void)
{
	double a[] = { 1 };

	EXPECT_SAME_DOUBLE(shd_ks_distance(a, 0, a, 0), 0.0);
	EXPECT_SAME_DOUBLE(shd_ks_distance(a, 1, a, 0), 1.0);
	EXPECT_SAME_DOUBLE(shd_ks_distance(a, 0, a, 1), 1.0);
}

static void test_quantile(void)
{
	double x[] = { 1, 2, 3, 4, 5 };

	EXPECT_NEAR(shd_quantile_sorted(x, 5, 0.5), 3, 1e-12);
	/* h = 4 * 0.95 = 3.8: 4 + 0.8 (5 - 4) */
	EXPECT_NEAR(shd_quantile_sorted(x, 5, 0.95), 4.8, 1e-12);
	EXPECT_NEAR(shd_quantile_sorted(x, 5, 0.99), 4.96, 1e-12);
	EXPECT_NEAR(shd_quantile_sorted(x, 5, 0), 1, 0);
	EXPECT_NEAR(shd_quantile_sorted(x, 5, 1), 5, 0);
	EXPECT_NEAR(shd_quantile_sorted(x, 1, 0.95), 1, 0);
	EXPECT(isnan(shd_quantile_sorted(x, 0, 0.5)));
	EXPECT_NEAR(shd_rel_err(11, 10), 0.1, 1e-12);
	EXPECT_NEAR(shd_rel_err(-11, -10), -0.1, 1e-12);
	EXPECT_SAME_DOUBLE(shd_rel_err(0, 0), 0.0);
	EXPECT(isnan(shd_rel_err(1, 0)));
	EXPECT(isnan(shd_rel_err(NAN, 1)));
}

#define N5 (14 * 288)	/* two weeks at 5 minutes */
#define T0 1704067200000LL	/* 2024-01-01T00:00Z, a Monday */

static void test_cycle_sine(void)
{
	static int64_t t[N5];
	static double x[N5];

	for (size_t i = 0; i < N5; i++) {
		t[i] = T0 + (int64_t)i * 300000;
		x[i] = 50 + 20 * sin(2 * M_PI * (double)i / 288);
	}
	double d = shd_cycle_strength(t, x, N5, SHD_MS_DAY, SHD_MS_HOUR);
	EXPECT(d > 0.99 && d <= 1);
	/* the hours of the week hold the daily cycle too */
	double w = shd_cycle_strength(t, x, N5, SHD_MS_WEEK, SHD_MS_HOUR);
	EXPECT(w > 0.99 && w <= 1);
	/* a NaN here and there changes nothing much */
	for (size_t i = 0; i < N5; i += 7)
		x[i] = NAN;
	EXPECT(shd_cycle_strength(t, x, N5, SHD_MS_DAY, SHD_MS_HOUR) > 0.99);
}

static void test_cycle_weekly(void)
{
	static int64_t t[N5];
	static double x[N5];

	/* one cycle a week: the hour of the day explains nothing */
	for (size_t i = 0; i < N5; i++) {
		t[i] = T0 + (int64_t)i * 300000;
		x[i] = 50 + 20 * sin(2 * M_PI * (double)i / (7 * 288));
	}
	EXPECT(shd_cycle_strength(t, x, N5, SHD_MS_DAY, SHD_MS_HOUR) < 0.01);
	EXPECT(shd_cycle_strength(t, x, N5, SHD_MS_WEEK, SHD_MS_HOUR) > 0.99);
}

static void test_cycle_noise(void)
{
	static int64_t t[N5];
	static double x[N5];
	struct shd_rng rng;

	shd_rng_seed(&rng, 7);
	for (size_t i = 0; i < N5; i++) {
		t[i] = T0 + (int64_t)i * 300000;
		x[i] = 50 + 5 * shd_rng_normal(&rng);
	}
	double d = shd_cycle_strength(t, x, N5, SHD_MS_DAY, SHD_MS_HOUR);
	double w = shd_cycle_strength(t, x, N5, SHD_MS_WEEK, SHD_MS_HOUR);
	EXPECT(d >= 0 && d < 0.02);
	EXPECT(w >= 0 && w < 0.03);
}

static void test_cycle_undefined(void)
{
	int64_t t[4] = { 0, 3600000, 7200000, 10800000 };
	double c[4] = { 3, 3, 3, 3 }, x[4] = { 1, 2, 3, 4 };

	/* a constant; as many values as hours */
	EXPECT(isnan(shd_cycle_strength(t, c, 4, SHD_MS_DAY, SHD_MS_HOUR)));
	EXPECT(isnan(shd_cycle_strength(t, x, 4, SHD_MS_DAY, SHD_MS_HOUR)));
	EXPECT(isnan(shd_cycle_strength(t, x, 0, SHD_MS_DAY, SHD_MS_HOUR)));
}

/* A utilization stream of R resources, N rows each, one metric "cpu". */
static void make_util(struct shd_util *u, size_t R, size_t n, double shift,
		      double scale)
{
	struct shd_schema s;
	char key[32];

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "cpu", SHD_F64, "%", "metric");
	shd_util_init(u);
	EXPECT_EQ_INT(shd_util_start(u, &s, "test"), 0);
	for (size_t r = 0; r < R; r++) {
		snprintf(key, sizeof(key), "r%zu", r);
		for (size_t i = 0; i < n; i++) {
			double v = shift + scale * (10 * (double)r +
				   20 * sin(2 * M_PI * (double)i / 288));
			EXPECT_EQ_INT(shd_util_add(u, key, T0 + (int64_t)i *
						   300000, &v), 0);
		}
	}
	shd_schema_release(&s);
}

static void test_report(void)
{
	struct shd_util a, b, c;
	struct shd_fidelity f;
	json_t *j;

	make_util(&a, 3, 2 * 288, 0, 1);
	make_util(&b, 3, 2 * 288, 0, 1);
	make_util(&c, 3, 2 * 288, 100, 1);
	EXPECT_EQ_INT(shd_fidelity_compute(&f, &a, &b, 0.1), 0);
	EXPECT_EQ_INT(f.nmetric, 1);
	EXPECT_EQ_STR(f.m[0].name, "cpu");
	EXPECT_SAME_DOUBLE(f.m[0].ks, 0.0);
	EXPECT_NEAR(f.m[0].qerr[0], 0, 0);
	EXPECT(f.faithful && f.m[0].ok);
	EXPECT(f.m[0].daily[0] > 0.99);
	EXPECT_NEAR(f.m[0].daily[0], f.m[0].daily[1], 1e-12);
	EXPECT_EQ_INT(f.m[0].nprod, 3 * 2 * 288);
	shd_fidelity_release(&f);

	/* shifted far: disjoint values, KS 1, not faithful; the cycles
	 * are the same */
	EXPECT_EQ_INT(shd_fidelity_compute(&f, &a, &c, 0.1), 0);
	EXPECT_SAME_DOUBLE(f.m[0].ks, 1.0);
	EXPECT(!f.faithful && !f.m[0].ok);
	EXPECT_NEAR(f.m[0].daily[0], f.m[0].daily[1], 1e-9);
	j = shd_fidelity_json(&f);
	EXPECT(j != NULL);
	EXPECT_EQ_STR(json_string_value(json_object_get(j, "verdict")),
		      "not faithful");
	EXPECT_EQ_STR(json_string_value(json_array_get(json_object_get(j,
		      "failed"), 0)), "cpu");
	EXPECT_NEAR(json_number_value(json_object_get(json_object_get(
		    json_object_get(j, "metrics"), "cpu"), "ks")), 1, 0);
	json_decref(j);
	shd_fidelity_release(&f);

	/* --max-ks 1 accepts anything */
	EXPECT_EQ_INT(shd_fidelity_compute(&f, &a, &c, 1), 0);
	EXPECT(f.faithful);
	shd_fidelity_release(&f);
	shd_util_release(&a);
	shd_util_release(&b);
	shd_util_release(&c);
}

static const struct harness_case cases[] = {
	TEST(test_ks_identical),
	TEST(test_ks_disjoint),
	TEST(test_ks_by_hand),
	TEST(test_ks_empty),
	TEST(test_quantile),
	TEST(test_cycle_sine),
	TEST(test_cycle_weekly),
	TEST(test_cycle_noise),
	TEST(test_cycle_undefined),
	TEST(test_report),
};

int main(void)
{
	return RUN_TESTS(cases);
}
