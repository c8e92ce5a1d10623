/*
 * timeparse.c - times and durations as text.
 *
 * The parser is hand-written (no strptime, no timegm, no locale, no time
 * zone database): the delimited parser calls it once per row. Calendar
 * dates become day numbers with the proleptic Gregorian "days from civil"
 * computation: shift the year to start in March, so that the leap day is
 * the last day of the year, then count whole 400-year eras (146097 days),
 * years in the era (365 per year plus the leap days), and days in the
 * year (the March-based month lengths 31,30,31,30,31,31,30,31,30,31,31,28
 * are matched by (153 * m + 2) / 5).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "shd.h"

#define MS_PER_SEC INT64_C(1000)
#define MS_PER_DAY INT64_C(86400000)

/* Epoch values of this magnitude or more are milliseconds, else seconds. */
#define MS_THRESHOLD INT64_C(100000000000)	/* 1e11 */

/* Days since 1970-01-01 of year Y, month M (1-12), day D (1-31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;			/* the year starts in March */
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;				/* [0, 399] */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */
	return era * 146097 + doe - 719468;	/* 719468: 0000-03-01 to 1970 */
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;				/* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* [0, 365] */
	mp = (5 * doy + 2) / 153;			/* [0, 11], March = 0 */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

static int isdig(char c)
{
	return c >= '0' && c <= '9';
}

static int isblank_(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The N digits at P as a number, or -1 when one of them is not a digit. */
static int digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdig(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * "YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][ ][Z|(+|-)HH[[:]MM]]" in S[0..len).
 * A second of 60 (a leap second) is accepted and counts as the first
 * second of the next minute, as POSIX time has no leap seconds.
 */
static int parse_iso(const char *s, size_t len, int64_t *ms)
{
	const char *p = s, *end = s + len;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	int64_t t;

	if (len < 10 || s[4] != '-' || s[7] != '-')
		return SHD_EINVAL;
	y = digits(p, 4);
	mo = digits(p + 5, 2);
	d = digits(p + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return SHD_EINVAL;
	p += 10;
	if (p < end && (*p == 'T' || *p == 't' || *p == ' ') &&
	    end - p >= 6 && p[3] == ':') {
		h = digits(p + 1, 2);
		mi = digits(p + 4, 2);
		if (h < 0 || h > 23 || mi < 0 || mi > 59)
			return SHD_EINVAL;
		p += 6;
		if (p < end && *p == ':') {
			if (end - p < 3 || (sec = digits(p + 1, 2)) < 0 ||
			    sec > 60)
				return SHD_EINVAL;
			p += 3;
			if (p < end && (*p == '.' || *p == ',')) {
				int nd = 0;

				for (p++; p < end && isdig(*p); p++, nd++)
					if (nd < 3)
						frac = frac * 10 + (*p - '0');
				if (nd == 0)
					return SHD_EINVAL;
				for (; nd < 3; nd++)
					frac *= 10;
			}
		}
	}
	t = days_from_civil(y, mo, d) * MS_PER_DAY +
	    ((int64_t)h * 3600 + mi * 60 + sec) * MS_PER_SEC + frac;
	if (p < end && *p == ' ')
		p++;
	if (p < end) {
		int sign, oh, om = 0;

		if ((*p == 'Z' || *p == 'z') && end - p == 1) {
			p++;
		} else if (end - p == 3 && memcmp(p, "UTC", 3) == 0) {
			p += 3;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			if (end - p < 3 || (oh = digits(p + 1, 2)) < 0 ||
			    oh > 23)
				return SHD_EINVAL;
			p += 3;
			if (end - p == 3 && *p == ':')
				p++;
			if (end - p == 2) {
				if ((om = digits(p, 2)) < 0 || om > 59)
					return SHD_EINVAL;
				p += 2;
			}
			/* 10:00+01:00 is 09:00 UTC. */
			t -= sign * ((int64_t)oh * 60 + om) * 60 * MS_PER_SEC;
		}
	}
	if (p != end)
		return SHD_EINVAL;
	*ms = t;
	return 0;
}

/*
 * Unix seconds or milliseconds: "[+-]digits[.digits]" parsed exactly in
 * integers (fractions beyond the millisecond are truncated), or anything
 * else shd_parse_double takes ("1.3726e9") through a double.
 */
static int parse_epoch(const char *s, size_t len, int64_t *ms)
{
	const char *p = s, *end = s + len;
	int neg = 0, nint = 0, nfrac = 0;
	int64_t ip = 0, frac = 0;
	double v;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (; p < end && isdig(*p); p++, nint++) {
		if (ip > (INT64_MAX - 9) / 10)
			return SHD_EINVAL;
		ip = ip * 10 + (*p - '0');
	}
	if (p < end && *p == '.')
		for (p++; p < end && isdig(*p); p++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (*p - '0');
	if (p == end && (nint || nfrac)) {
		for (int i = nfrac; i < 3; i++)
			frac *= 10;
		if (ip >= MS_THRESHOLD) {
			*ms = neg ? -ip : ip;	/* sub-ms part truncated */
			return 0;
		}
		ip = ip * MS_PER_SEC + frac;
		*ms = neg ? -ip : ip;
		return 0;
	}
	/* Exponent notation and the like. */
	if (shd_parse_double(s, len, &v) < 0 || !isfinite(v))
		return SHD_EINVAL;
	if (fabs(v) >= 1e11) {
		if (fabs(v) >= 9e18)
			return SHD_EINVAL;
		*ms = (int64_t)v;
	} else {
		*ms = (int64_t)(v * 1000);
	}
	return 0;
}

int shd_time_parse(const char *s, size_t len, int64_t *ms)
{
	while (len && isblank_(*s)) {
		s++;
		len--;
	}
	while (len && isblank_(s[len - 1]))
		len--;
	if (len == 0)
		return SHD_EINVAL;
	if (len >= 10 && s[4] == '-')
		return parse_iso(s, len, ms);
	return parse_epoch(s, len, ms);
}

/* Writes V as exactly N digits (V >= 0, V < 10^N) at P. */
static char *put_digits(char *p, int64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

size_t shd_time_format(int64_t ms, char *buf, size_t n)
{
	char tmp[48], *p = tmp;
	int64_t days, rem, y;
	int m, d;
	size_t len;

	if (n == 0)
		return 0;
	/* Floor division, so that times before 1970 come out right. */
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999)
		p = put_digits(p, y, 4);
	else
		p += snprintf(p, 24, "%04lld", (long long)y);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, rem / 3600000, 2);
	*p++ = ':';
	p = put_digits(p, rem / 60000 % 60, 2);
	*p++ = ':';
	p = put_digits(p, rem / 1000 % 60, 2);
	if (rem % 1000) {
		*p++ = '.';
		p = put_digits(p, rem % 1000, 3);
	}
	*p++ = 'Z';
	len = (size_t)(p - tmp);
	if (len > n - 1)
		len = n - 1;
	memcpy(buf, tmp, len);
	buf[len] = '\0';
	return len;
}

/* Milliseconds per unit U (LEN bytes), or 0 when unknown. */
static double unit_ms(const char *u, size_t len)
{
	static const struct {
		const char *name;
		double ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1e3 }, { "sec", 1e3 }, { "m", 6e4 },
		{ "min", 6e4 }, { "h", 3.6e6 }, { "d", 8.64e7 },
		{ "w", 6.048e8 },
	};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == len &&
		    memcmp(units[i].name, u, len) == 0)
			return units[i].ms;
	return 0;
}

int shd_duration_parse(const char *s, int64_t *ms)
{
	const char *p = s, *end;
	double total = 0;
	int parts = 0;

	if (!s)
		return SHD_EINVAL;
	end = s + strlen(s);
	while (p < end && isblank_(*p))
		p++;
	while (end > p && isblank_(end[-1]))
		end--;
	if (p == end)
		return SHD_EINVAL;
	while (p < end) {
		const char *num = p, *unit;
		double v, per;

		while (p < end && (isdig(*p) || *p == '.'))
			p++;
		if (p == num || shd_parse_double(num, (size_t)(p - num),
						 &v) < 0)
			return SHD_EINVAL;
		unit = p;
		while (p < end && *p >= 'a' && *p <= 'z')
			p++;
		if (p == unit) {
			/* A bare number is seconds, and only on its own. */
			if (parts || p != end)
				return SHD_EINVAL;
			per = 1e3;
		} else if ((per = unit_ms(unit, (size_t)(p - unit))) == 0) {
			return SHD_EINVAL;
		}
		total += v * per;
		parts++;
	}
	total = floor(total + 0.5);
	if (!(total >= 1 && total < 9e18))
		return SHD_EINVAL;
	*ms = (int64_t)total;
	return 0;
}
