/*
 * unit-time.c - shd_time_parse, shd_time_format, shd_duration_parse.
 */
#include "harness.h"
#include "shd.h"

static int64_t tparse(const char *s)
{
	int64_t ms = INT64_MIN;

	if (shd_time_parse(s, strlen(s), &ms) != 0)
		FAIL_AT("'%s' rejected", s);
	return ms;
}

static void test_known(void)
{
	EXPECT_EQ_INT(tparse("2014-02-14 14:30:00"), INT64_C(1392388200000));
	EXPECT_EQ_INT(tparse("2014-02-14T14:30:00Z"), INT64_C(1392388200000));
	EXPECT_EQ_INT(tparse("2014-02-14t14:30:00z"), INT64_C(1392388200000));
	EXPECT_EQ_INT(tparse("2014-02-14 14:30"), INT64_C(1392388200000));
	EXPECT_EQ_INT(tparse("2014-02-14"), INT64_C(1392336000000));
	EXPECT_EQ_INT(tparse("1970-01-01"), 0);
	EXPECT_EQ_INT(tparse("1970-01-01T00:00:00.001Z"), 1);
	EXPECT_EQ_INT(tparse("2024-01-01 00:05:00"), INT64_C(1704067500000));
	EXPECT_EQ_INT(tparse("2024-01-01T00:05:00Z"), INT64_C(1704067500000));
	EXPECT_EQ_INT(tparse("  2024-01-01T00:05:00Z\t"), INT64_C(1704067500000));
	EXPECT_EQ_INT(tparse("2000-03-01"), INT64_C(951868800000));
	EXPECT_EQ_INT(tparse("1969-12-31T23:59:59Z"), -1000);
	EXPECT_EQ_INT(tparse("1900-01-01"), INT64_C(-2208988800000));
	EXPECT_EQ_INT(tparse("0000-03-01"), INT64_C(-62162035200000));
}

static void test_fractions(void)
{
	EXPECT_EQ_INT(tparse("2014-02-14T14:30:00.5Z"), INT64_C(1392388200500));
	EXPECT_EQ_INT(tparse("2014-02-14T14:30:00.12Z"), INT64_C(1392388200120));
	EXPECT_EQ_INT(tparse("2014-02-14T14:30:00.123Z"), INT64_C(1392388200123));
	EXPECT_EQ_INT(tparse("2014-02-14T14:30:00.123999999Z"),
		      INT64_C(1392388200123));
	EXPECT_EQ_INT(tparse("2014-02-14 14:30:00.999"), INT64_C(1392388200999));
}

static void test_offsets(void)
{
	int64_t utc = INT64_C(1392388200000);

	EXPECT_EQ_INT(tparse("2014-02-14T15:30:00+01:00"), utc);
	EXPECT_EQ_INT(tparse("2014-02-14T15:30:00+0100"), utc);
	EXPECT_EQ_INT(tparse("2014-02-14T15:30:00+01"), utc);
	EXPECT_EQ_INT(tparse("2014-02-14T09:00:00-05:30"), utc);
	EXPECT_EQ_INT(tparse("2014-02-14T09:00:00-0530"), utc);
	EXPECT_EQ_INT(tparse("2014-02-14 14:30:00 +00:00"), utc);
	EXPECT_EQ_INT(tparse("2014-02-14 14:30:00 UTC"), utc);
	EXPECT_EQ_INT(tparse("2014-02-15T00:30:00.250+10:00"), utc + 250);
}

static void test_leap(void)
{
	EXPECT_EQ_INT(tparse("2016-02-29"), INT64_C(1456704000000));
	EXPECT_EQ_INT(tparse("2016-03-01") - tparse("2016-02-28"), 2 * 86400000);
	EXPECT_EQ_INT(tparse("2000-02-29") + 86400000, tparse("2000-03-01"));
	EXPECT_EQ_INT(tparse("2015-03-01") - tparse("2015-02-28"), 86400000);
	/* A leap second counts as the next minute's first second. */
	EXPECT_EQ_INT(tparse("2016-12-31T23:59:60Z"), tparse("2017-01-01"));
}

static void test_epoch(void)
{
	EXPECT_EQ_INT(tparse("1372629804"), INT64_C(1372629804000));
	EXPECT_EQ_INT(tparse("1372629804.5"), INT64_C(1372629804500));
	EXPECT_EQ_INT(tparse("1372629804.1239"), INT64_C(1372629804123));
	EXPECT_EQ_INT(tparse("1392388200000"), INT64_C(1392388200000));
	EXPECT_EQ_INT(tparse("1392388200000.7"), INT64_C(1392388200000));
	EXPECT_EQ_INT(tparse("99999999999"), INT64_C(99999999999000));
	EXPECT_EQ_INT(tparse("100000000000"), INT64_C(100000000000));
	EXPECT_EQ_INT(tparse("0"), 0);
	EXPECT_EQ_INT(tparse("-86400"), -86400000);
	EXPECT_EQ_INT(tparse("-1.5"), -1500);
	EXPECT_EQ_INT(tparse("+60"), 60000);
	EXPECT_EQ_INT(tparse(" 1372629804 "), INT64_C(1372629804000));
	EXPECT_EQ_INT(tparse("1.372629804e9"), INT64_C(1372629804000));
	EXPECT_EQ_INT(tparse("-1392388200000"), INT64_C(-1392388200000));
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"", "   ", "2014-13-01", "2014-00-10", "2014-02-30", "2015-02-29",
		"1900-02-29", "2014-04-31", "2014-02-14 24:00", "2014-02-14 12:60",
		"2014-02-14 12:00:61", "2014-02-14X12:00", "2014-02-14T12",
		"2014-02-14 12:00:00.", "2014-02-14 12:00:00Q", "2014-02-14Z1",
		"2014-02-14T12:00:00+1", "2014-02-14T12:00:00+01:0",
		"2014-02-14T12:00:00+25:00", "2014-02-14T12:00:00+01:60",
		"2014-2-14", "14-02-2014", "abc", "12abc", "1.2.3", "-", ".",
		"nan", "inf", "99999999999999999999999", "1e300",
		"2014-02-14 14:30:00 +", "2014-02-1a",
	};
	int64_t ms;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (shd_time_parse(bad[i], strlen(bad[i]), &ms) != SHD_EINVAL)
			FAIL_AT("'%s' accepted", bad[i]);
	/* LEN, not the NUL, ends the input. */
	EXPECT_EQ_INT(shd_time_parse("2014-02-14,5", 10, &ms), 0);
	EXPECT_EQ_INT(ms, INT64_C(1392336000000));
}

static void expect_format(int64_t ms, const char *want)
{
	char buf[32];
	size_t n = shd_time_format(ms, buf, sizeof buf);

	EXPECT_EQ_STR(buf, want);
	EXPECT_EQ_INT(n, strlen(want));
}

static void test_format(void)
{
	char small[8];

	expect_format(INT64_C(1392388200000), "2014-02-14T14:30:00Z");
	expect_format(INT64_C(1392388200123), "2014-02-14T14:30:00.123Z");
	expect_format(INT64_C(1392388200020), "2014-02-14T14:30:00.020Z");
	expect_format(0, "1970-01-01T00:00:00Z");
	expect_format(-1, "1969-12-31T23:59:59.999Z");
	expect_format(-1000, "1969-12-31T23:59:59Z");
	expect_format(INT64_C(-2208988800000), "1900-01-01T00:00:00Z");
	expect_format(INT64_C(1456704000000), "2016-02-29T00:00:00Z");
	expect_format(INT64_C(253402300799000), "9999-12-31T23:59:59Z");
	/* Extreme values still fit in 32 bytes. */
	{
		char buf[32];

		EXPECT(shd_time_format(INT64_MIN, buf, sizeof buf) < 32);
		EXPECT(shd_time_format(INT64_MAX, buf, sizeof buf) < 32);
	}
	/* A short buffer truncates, NUL-terminated. */
	EXPECT_EQ_INT(shd_time_format(0, small, sizeof small), 7);
	EXPECT_EQ_STR(small, "1970-01");
}

/* Format then parse over a range of times, before and after 1970. */
static void test_round_trip(void)
{
	uint64_t x = 88172645463325252u;
	char buf[32];

	for (int i = 0; i < 200000; i++) {
		int64_t t, back = 0;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Years 0000-9999: -62167219200000 .. 253402300799999. */
		t = (int64_t)(x % UINT64_C(315569520000000)) -
		    INT64_C(62167219200000);
		if (i % 4 == 0)
			t -= t % 1000;
		n = shd_time_format(t, buf, sizeof buf);
		if (shd_time_parse(buf, n, &back) != 0 || back != t) {
			FAIL_AT("%" PRId64 " -> '%s' -> %" PRId64, t, buf, back);
			return;
		}
	}
	/* Every day from 1600 to 2400 in turn. */
	for (int64_t t = INT64_C(-11676096000000); t < INT64_C(13569465600000);
	     t += 86400000) {
		int64_t back = 0;
		size_t n = shd_time_format(t, buf, sizeof buf);

		if (shd_time_parse(buf, n, &back) != 0 || back != t) {
			FAIL_AT("%" PRId64 " -> '%s' -> %" PRId64, t, buf, back);
			return;
		}
	}
}

static int64_t dparse(const char *s)
{
	int64_t ms = -1;

	if (shd_duration_parse(s, &ms) != 0)
		FAIL_AT("'%s' rejected", s);
	return ms;
}

static void test_duration(void)
{
	static const char *const bad[] = {
		"", "0", "0s", "-5m", "5x", "m", "1h30", "1.5.h", "5 m",
		"5M", "abc", "1e3", "0.0001s", "99999999999999w",
	};
	int64_t ms;

	EXPECT_EQ_INT(dparse("300"), 300000);
	EXPECT_EQ_INT(dparse("300s"), 300000);
	EXPECT_EQ_INT(dparse("5m"), 300000);
	EXPECT_EQ_INT(dparse("5min"), 300000);
	EXPECT_EQ_INT(dparse("1h30m"), 5400000);
	EXPECT_EQ_INT(dparse("1.5h"), 5400000);
	EXPECT_EQ_INT(dparse("250ms"), 250);
	EXPECT_EQ_INT(dparse("2d"), 172800000);
	EXPECT_EQ_INT(dparse("1w"), 604800000);
	EXPECT_EQ_INT(dparse("0.5s"), 500);
	EXPECT_EQ_INT(dparse(" 10s "), 10000);
	EXPECT_EQ_INT(dparse("1d12h"), 129600000);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (shd_duration_parse(bad[i], &ms) != SHD_EINVAL)
			FAIL_AT("'%s' accepted", bad[i]);
	EXPECT_EQ_INT(shd_duration_parse(NULL, &ms), SHD_EINVAL);
}

static const struct harness_case cases[] = {
	TEST(test_known),
	TEST(test_fractions),
	TEST(test_offsets),
	TEST(test_leap),
	TEST(test_epoch),
	TEST(test_bad),
	TEST(test_format),
	TEST(test_round_trip),
	TEST(test_duration),
};

int main(void)
{
	return RUN_TESTS(cases);
}
