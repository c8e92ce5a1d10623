/*
 * numparse.c - decimal text to double and back.
 *
 * shd_parse_double is on the hot path of every text parser (one call per
 * cell), so the common case ("12.345", "6283264.0", "0.4666666666666667")
 * is parsed by hand: the significant digits are gathered into a uint64 and
 * the value is mantissa * 10^e computed in double. When the mantissa fits
 * in 53 bits and |e| <= 22 both operands are exact, so the one rounding of
 * the multiply or divide is the correct rounding (Clinger's fast path).
 * Everything else goes to strtod on a canonical copy of the digits.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

/* 10^0 .. 10^22: every one of them is exactly representable in a double. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define MANT_MAX_DIGITS 19		/* fit in a uint64 without overflow */
#define TWO_POW_53 (UINT64_C(1) << 53)

/*
 * Significant digits kept for the strtod fallback. A midpoint between two
 * adjacent doubles has at most 767 significant decimal digits, so keeping
 * more than that and replacing the rest by one "sticky" digit (1 when any
 * dropped digit is non-zero) cannot change the rounding.
 */
#define SLOW_DIGITS 800
#define EXP_CLAMP 100000		/* far beyond overflow and underflow */

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* 1 when the LEN bytes at S spell WORD (lower-case) in any case. */
static int word_eq(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (word[i] == '\0' || lower((unsigned char)s[i]) != word[i])
			return 0;
	return word[i] == '\0';
}

/*
 * The slow path: the digits of S[0..len) (already validated) are rewritten
 * as "[-]DDDDeX" - no decimal point, so the locale does not matter - and
 * handed to strtod. EXP10 is the exponent of the last digit kept.
 */
static double slow_path(int neg, const char *s, size_t len)
{
	char buf[SLOW_DIGITS + 32];
	size_t n = 0, i = 0, ndig = 0;
	long exp10 = 0;		/* value = digits * 10^exp10 */
	int sticky = 0, seen_point = 0;

	if (neg)
		buf[n++] = '-';
	for (; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			seen_point = 1;
			continue;
		}
		if (c < '0' || c > '9')
			break;
		if (ndig == 0 && c == '0') {	/* leading zero */
			if (seen_point)
				exp10--;
			continue;
		}
		if (ndig < SLOW_DIGITS) {
			buf[n++] = c;
			ndig++;
			if (seen_point)
				exp10--;
		} else {
			if (c != '0')
				sticky = 1;
			if (!seen_point)
				exp10++;
		}
	}
	if (ndig == 0)
		return neg ? -0.0 : 0.0;
	if (ndig == SLOW_DIGITS) {
		/* One more digit position for the sticky digit. */
		buf[n++] = sticky ? '1' : '0';
		exp10--;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;
		long e = 0;

		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < len; i++)
			if (e < EXP_CLAMP)
				e = e * 10 + (s[i] - '0');
		exp10 += eneg ? -e : e;
	}
	if (exp10 > EXP_CLAMP)
		exp10 = EXP_CLAMP;
	if (exp10 < -EXP_CLAMP)
		exp10 = -EXP_CLAMP;
	n += (size_t)snprintf(buf + n, sizeof buf - n, "e%ld", exp10);
	(void)n;
	return strtod(buf, NULL);	/* ERANGE gives +-inf or +-0: fine */
}

int shd_parse_double(const char *s, size_t len, double *v)
{
	const char *p = s, *end = s + len, *body;
	int neg = 0, ndigits = 0, any_digit = 0, dropped = 0;
	uint64_t mant = 0;
	long exp10 = 0, e = 0;

	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == end)
		return SHD_EINVAL;
	body = p;

	/*
	 * The most common shape, "ddd.ddd" in at most 19 bytes (so at most
	 * 19 digits and 18 decimals): one loop and no bookkeeping per digit.
	 */
	if (len <= MANT_MAX_DIGITS) {
		const char *q = p, *dot;
		unsigned dig;

		while (q < end && (dig = (unsigned)(*q - '0')) < 10) {
			mant = mant * 10 + dig;
			q++;
		}
		dot = q;
		if (q < end && *q == '.')
			for (q++; q < end && (dig = (unsigned)(*q - '0')) < 10;
			     q++)
				mant = mant * 10 + dig;
		if (q == end && mant <= TWO_POW_53 &&
		    (dot > p || end - dot > 1)) {
			double d = (double)mant;
			long nfrac = dot < end ? (long)(end - dot - 1) : 0;

			if (nfrac)
				d /= pow10_exact[nfrac];
			*v = neg ? -d : d;
			return 0;
		}
		mant = 0;	/* start again on the general path */
	}

	if (!(*p >= '0' && *p <= '9') && *p != '.') {
		size_t rest = (size_t)(end - p);

		if (word_eq(p, rest, "nan")) {
			*v = neg ? -NAN : NAN;
			return 0;
		}
		if (word_eq(p, rest, "inf") || word_eq(p, rest, "infinity")) {
			*v = neg ? -INFINITY : INFINITY;
			return 0;
		}
		return SHD_EINVAL;
	}

	/*
	 * Integer part. Digits beyond the 19th only scale the value (and
	 * send it to the slow path when one of them is not zero).
	 */
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		any_digit = 1;
		if (ndigits < MANT_MAX_DIGITS) {
			if (mant || *p != '0') {
				mant = mant * 10 + (uint64_t)(*p - '0');
				ndigits++;
			}
		} else {
			exp10++;
			dropped |= *p != '0';
		}
	}
	/* Fraction. */
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			any_digit = 1;
			if (ndigits < MANT_MAX_DIGITS) {
				if (mant || *p != '0') {
					mant = mant * 10 + (uint64_t)(*p - '0');
					ndigits++;
				}
				exp10--;
			} else {
				dropped |= *p != '0';
			}
		}
	}
	if (!any_digit)
		return SHD_EINVAL;
	/* Exponent. */
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, edig = 0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, edig++)
			if (e < EXP_CLAMP)
				e = e * 10 + (*p - '0');
		if (!edig)
			return SHD_EINVAL;
		if (eneg)
			e = -e;
	}
	if (p != end)
		return SHD_EINVAL;

	if (mant == 0 && !dropped) {
		*v = neg ? -0.0 : 0.0;
		return 0;
	}
	if (!dropped && mant <= TWO_POW_53) {
		long x = exp10 + e;
		double d = (double)mant;

		if (x >= 0 && x <= 22) {
			d *= pow10_exact[x];
			*v = neg ? -d : d;
			return 0;
		}
		if (x < 0 && x >= -22) {
			d /= pow10_exact[-x];
			*v = neg ? -d : d;
			return 0;
		}
		/*
		 * A few more: 12e30 is 12000000 * 10^25, and when the
		 * mantissa times the spare power of ten is still below 2^53
		 * it is exact too.
		 */
		if (x > 22 && x <= 22 + 15) {
			uint64_t m = mant;
			long k = x - 22;

			while (k > 0 && m <= TWO_POW_53 / 10) {
				m *= 10;
				k--;
			}
			if (k == 0) {
				d = (double)m * pow10_exact[22];
				*v = neg ? -d : d;
				return 0;
			}
		}
	}
	*v = slow_path(neg, body, (size_t)(end - body));
	return 0;
}

/* Decimal digits of U (U < 10^15 here) into BUF; returns the count. */
static size_t format_uint(uint64_t u, char *buf)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

size_t shd_format_double(double v, char *buf)
{
	static const char *const fmts[] = { "%.15g", "%.16g", "%.17g" };
	size_t n = 0;
	int i, len = 0;

	if (isnan(v)) {
		memcpy(buf, "nan", 4);
		return 3;
	}
	if (isinf(v)) {
		if (v < 0) {
			memcpy(buf, "-inf", 5);
			return 4;
		}
		memcpy(buf, "inf", 4);
		return 3;
	}
	if (v == 0) {
		if (signbit(v)) {
			memcpy(buf, "-0", 3);
			return 2;
		}
		memcpy(buf, "0", 2);
		return 1;
	}
	/* Integers below 10^15: "%.15g" would print all digits anyway. */
	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		int64_t iv = (int64_t)v;

		if (iv < 0) {
			buf[n++] = '-';
			iv = -iv;
		}
		n += format_uint((uint64_t)iv, buf + n);
		buf[n] = '\0';
		return n;
	}
	/*
	 * At most 15 significant digits: the first s with v == round(v *
	 * 10^s) / 10^s. A decimal of <= 15 digits is the only one of that
	 * length that reads back to v (DBL_DIG), so it is the shortest.
	 */
	if (fabs(v) >= 1e-5 && fabs(v) < 1e15) {
		double p = 1, a = fabs(v);
		for (int sc = 1; sc <= 15; sc++) {
			p *= 10;
			double y = a * p;
			if (y >= 1e15)
				break;
			double r = (y + 6755399441055744.0) - 6755399441055744.0;
			if (r / p != a)
				continue;
			char dig[24];
			size_t nd = format_uint((uint64_t)r, dig), k = 0;
			if (v < 0)
				buf[n++] = '-';
			if (nd <= (size_t)sc) {
				buf[n++] = '0';
				buf[n++] = '.';
				for (k = nd; k < (size_t)sc; k++)
					buf[n++] = '0';
				memcpy(buf + n, dig, nd);
				n += nd;
			} else {
				memcpy(buf + n, dig, nd - (size_t)sc);
				n += nd - (size_t)sc;
				buf[n++] = '.';
				memcpy(buf + n, dig + nd - (size_t)sc, (size_t)sc);
				n += (size_t)sc;
			}
			buf[n] = '\0';
			return n;
		}
	}
	for (i = 0; i < 3; i++) {
		len = snprintf(buf, 32, fmts[i], v);
		if (i == 2 || strtod(buf, NULL) == v)
			break;
	}
	return (size_t)len;
}
