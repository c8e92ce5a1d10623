/*
 * harness.h - a tiny TAP test harness for the unit tests of lib/.
 *
 * Each unit-<area>.c defines static void test_x(void) functions, lists them
 * in a table and calls RUN_TESTS(table). Every EXPECT_* prints file:line and
 * both values when it fails; a failure marks the current test "not ok" and
 * the binary exits 1 at the end.
 */
#ifndef SHD_HARNESS_H
#define SHD_HARNESS_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failed_now;
static int harness_failed_total;

#define FAIL_AT(...)                                                        \
	do {                                                                \
		fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                               \
		fputc('\n', stderr);                                        \
		harness_failed_now = 1;                                     \
	} while (0)

#define EXPECT(c)                                                           \
	do {                                                                \
		if (!(c))                                                   \
			FAIL_AT("expected %s", #c);                         \
	} while (0)

#define EXPECT_EQ_INT(a, b)                                                 \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_)                                               \
			FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_);  \
	} while (0)

#define EXPECT_EQ_STR(a, b)                                                 \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                      \
			FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b,       \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");    \
	} while (0)

/* Same double, bit for bit where it matters: NaN equals NaN, -0 != +0. */
#define EXPECT_SAME_DOUBLE(a, b)                                            \
	do {                                                                \
		double a_ = (a), b_ = (b);                                  \
		int same_ = (isnan(a_) && isnan(b_)) ||                     \
			    (a_ == b_ && signbit(a_) == signbit(b_));       \
		if (!same_)                                                 \
			FAIL_AT("%s == %s: %.17g != %.17g", #a, #b, a_, b_); \
	} while (0)

#define EXPECT_NEAR(a, b, tol)                                              \
	do {                                                                \
		double a_ = (a), b_ = (b);                                  \
		if (!(fabs(a_ - b_) <= (tol)))                              \
			FAIL_AT("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b,   \
				a_, b_, (double)(tol));                     \
	} while (0)

struct harness_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(fn) { #fn, fn }

static int harness_run(const struct harness_case *cases, size_t n)
{
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		harness_failed_now = 0;
		cases[i].fn();
		printf("%s %zu - %s\n", harness_failed_now ? "not ok" : "ok",
		       i + 1, cases[i].name);
		fflush(stdout);
		harness_failed_total += harness_failed_now;
	}
	return harness_failed_total ? 1 : 0;
}

#define RUN_TESTS(cases) \
	harness_run(cases, sizeof(cases) / sizeof(cases[0]))

#endif
