/*
 * unit-numparse.c - shd_parse_double and shd_format_double.
 */
#include "harness.h"
#include "shd.h"

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

/* xorshift64*: a fixed sequence, so failures reproduce. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static double bits_to_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof d);
	return d;
}

static uint64_t double_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return u;
}

static double parse(const char *s)
{
	double v = -12345.0;

	if (shd_parse_double(s, strlen(s), &v) != 0)
		FAIL_AT("'%s' rejected", s);
	return v;
}

static void test_simple(void)
{
	EXPECT_SAME_DOUBLE(parse("0"), 0.0);
	EXPECT_SAME_DOUBLE(parse("-0"), -0.0);
	EXPECT_SAME_DOUBLE(parse("-0.0e10"), -0.0);
	EXPECT_SAME_DOUBLE(parse("12.345"), 12.345);
	EXPECT_SAME_DOUBLE(parse("+1.5"), 1.5);
	EXPECT_SAME_DOUBLE(parse(".5"), 0.5);
	EXPECT_SAME_DOUBLE(parse("5."), 5.0);
	EXPECT_SAME_DOUBLE(parse("-5."), -5.0);
	EXPECT_SAME_DOUBLE(parse("1e5"), 1e5);
	EXPECT_SAME_DOUBLE(parse("1E-5"), 1e-5);
	EXPECT_SAME_DOUBLE(parse("1e+5"), 1e5);
	EXPECT_SAME_DOUBLE(parse("0.1"), 0.1);
	EXPECT_SAME_DOUBLE(parse("6283264.0"), 6283264.0);
	EXPECT_SAME_DOUBLE(parse("185.31329014000002"), 185.31329014000002);
	EXPECT_SAME_DOUBLE(parse("0.4666666666666667"), 0.4666666666666667);
	EXPECT_SAME_DOUBLE(parse("51.846000000000004"), 51.846000000000004);
	EXPECT_SAME_DOUBLE(parse("1e308"), 1e308);
	EXPECT_SAME_DOUBLE(parse("1e309"), INFINITY);
	EXPECT_SAME_DOUBLE(parse("-1e999999999999"), -INFINITY);
	EXPECT_SAME_DOUBLE(parse("1e-400"), 0.0);
	EXPECT_SAME_DOUBLE(parse("4.9406564584124654e-324"), 4.9406564584124654e-324);
	EXPECT_SAME_DOUBLE(parse("2.2250738585072014e-308"), 2.2250738585072014e-308);
	EXPECT_SAME_DOUBLE(parse("1.7976931348623157e308"), 1.7976931348623157e308);
	EXPECT_SAME_DOUBLE(parse("9007199254740993"), 9007199254740992.0);
	EXPECT_SAME_DOUBLE(parse("123456789012345678901234567890"),
			   123456789012345678901234567890.0);
	EXPECT_SAME_DOUBLE(parse("12e30"), 12e30);
	EXPECT_SAME_DOUBLE(parse("000000000000000000000000000001.5"), 1.5);
	EXPECT_SAME_DOUBLE(parse("1.50000000000000000000000000000"), 1.5);
	EXPECT_SAME_DOUBLE(parse("0.000000000000000000000000000001"), 1e-30);
}

static void test_special(void)
{
	double v;

	EXPECT(isnan(parse("nan")));
	EXPECT(isnan(parse("NaN")));
	EXPECT(isnan(parse("-NAN")));
	EXPECT_SAME_DOUBLE(parse("inf"), INFINITY);
	EXPECT_SAME_DOUBLE(parse("-Inf"), -INFINITY);
	EXPECT_SAME_DOUBLE(parse("+INFINITY"), INFINITY);
	EXPECT_SAME_DOUBLE(parse("Infinity"), INFINITY);
	/* Length, not NUL, ends the input. */
	EXPECT_EQ_INT(shd_parse_double("12.5,7", 4, &v), 0);
	EXPECT_SAME_DOUBLE(v, 12.5);
	EXPECT_EQ_INT(shd_parse_double("infinity", 3, &v), 0);
	EXPECT_SAME_DOUBLE(v, INFINITY);
}

static void test_reject(void)
{
	static const char *const bad[] = {
		"", "+", "-", ".", "-.", "e5", ".e5", "1e", "1e+", "1.2.3",
		"12a", "0x10", "0x1p3", " 1", "1 ", "--1", "+-1", "in", "infin",
		"nana", "1,5", "1e5.5", "abc", "NA", "null", "1e-", "1..2",
	};
	double v;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (shd_parse_double(bad[i], strlen(bad[i]), &v) != SHD_EINVAL)
			FAIL_AT("'%s' accepted", bad[i]);
}

/* Parsing agrees with strtod on random decimal strings. */
static void test_random_strings(void)
{
	char s[128];

	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd();
		int n = 0, ndig = 1 + (int)(r % 25), point = (int)((r >> 8) % 27);
		double got = 0, want;

		if (r >> 63)
			s[n++] = '-';
		for (int k = 0; k < ndig; k++) {
			if (k == point)
				s[n++] = '.';
			s[n++] = (char)('0' + rnd() % 10);
		}
		if ((r >> 20) % 3 == 0)
			n += sprintf(s + n, "e%d", (int)((r >> 24) % 700) - 350);
		s[n] = '\0';
		want = strtod(s, NULL);
		if (shd_parse_double(s, (size_t)n, &got) != 0 ||
		    double_bits(got) != double_bits(want)) {
			FAIL_AT("'%s': %.17g, strtod %.17g", s, got, want);
			return;
		}
	}
}

/* Long inputs beyond what the fast path and the digit buffer hold. */
static void test_long_inputs(void)
{
	/* The midpoint between 1 and its successor, then a last 1: up. */
	char s[1200];
	int n = sprintf(s, "1.00000000000000011102230246251565404236316680908203125");
	double v;

	memset(s + n, '0', 1000);
	s[n + 1000] = '1';
	s[n + 1001] = '\0';
	EXPECT_EQ_INT(shd_parse_double(s, strlen(s), &v), 0);
	EXPECT_SAME_DOUBLE(v, strtod(s, NULL));
	EXPECT(v > 1.0);
	/* Without the last 1 it is a tie and rounds to even: 1. */
	s[n + 1000] = '\0';
	EXPECT_EQ_INT(shd_parse_double(s, strlen(s), &v), 0);
	EXPECT_SAME_DOUBLE(v, 1.0);
	/* A long integer part. */
	memset(s, '9', 500);
	s[500] = '\0';
	EXPECT_EQ_INT(shd_parse_double(s, 500, &v), 0);
	EXPECT_SAME_DOUBLE(v, INFINITY);
	memset(s, '9', 300);
	s[300] = '\0';
	EXPECT_EQ_INT(shd_parse_double(s, 300, &v), 0);
	EXPECT_SAME_DOUBLE(v, strtod(s, NULL));
}

static void expect_format(double d, const char *want)
{
	char buf[32];
	size_t n = shd_format_double(d, buf);

	EXPECT_EQ_STR(buf, want);
	EXPECT_EQ_INT(n, strlen(want));
}

static void test_format(void)
{
	expect_format(0.1, "0.1");
	expect_format(0.0, "0");
	expect_format(-0.0, "-0");
	expect_format(NAN, "nan");
	expect_format(INFINITY, "inf");
	expect_format(-INFINITY, "-inf");
	expect_format(1e300, "1e+300");
	expect_format(42, "42");
	expect_format(-7, "-7");
	expect_format(12.345, "12.345");
	expect_format(999999999999999.0, "999999999999999");
	expect_format(1e15, "1e+15");
	expect_format(51.846000000000004, "51.846000000000004");
	expect_format(5e-324, "4.94065645841247e-324");
}

/* Format, then parse, gives back the same bits. */
static void test_round_trip(void)
{
	char buf[32];

	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd();
		double d, back = 0;
		size_t n;

		switch (i % 8) {
		case 0:	/* subnormal */
			d = bits_to_double(r & ((UINT64_C(1) << 52) - 1));
			break;
		case 1:	/* small integers and simple decimals */
			d = (double)(int64_t)(r % 2000001) - 1000000.0;
			if (r & 1)
				d /= 1000;
			break;
		case 2:	/* huge */
			d = bits_to_double((r & ~(UINT64_C(0xff) << 52)) |
					   (UINT64_C(0x7e0) << 52));
			break;
		case 3:	/* tiny */
			d = bits_to_double((r & ~(UINT64_C(0x7ff) << 52)) |
					   (UINT64_C(0x010) << 52));
			break;
		case 4:
			d = -0.0;
			if (r & 1)
				d = (double)(r >> 11) / (double)(UINT64_C(1) << 53);
			break;
		default: /* any finite bits */
			d = bits_to_double(r);
			if (!isfinite(d))
				d = 1.5;
			break;
		}
		n = shd_format_double(d, buf);
		if (n >= 32 || shd_parse_double(buf, n, &back) != 0 ||
		    double_bits(back) != double_bits(d)) {
			FAIL_AT("%.17g -> '%s' -> %.17g", d, buf, back);
			return;
		}
	}
}

static const struct harness_case cases[] = {
	TEST(test_simple),
	TEST(test_special),
	TEST(test_reject),
	TEST(test_random_strings),
	TEST(test_long_inputs),
	TEST(test_format),
	TEST(test_round_trip),
};

int main(void)
{
	return RUN_TESTS(cases);
}
