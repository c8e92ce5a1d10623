/*
 * codec.c - column codecs of the stream format: raw, delta-of-delta for
 * times, a block dictionary with runs for keys, byte shuffling (optionally
 * after XOR with the previous value) and decimal scaling for floats.
 *
 * Decoders trust nothing: every varint, length, index and count is checked
 * against the payload they were given.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

const char *shd_codec_name(int codec)
{
	static const char *names[] = {
		"raw", "delta2", "dict", "shuffle", "xorshuf", "scaled",
		"derived",
	};
	return codec >= 0 && codec <= SHD_C_MAX ? names[codec] : "unknown";
}

/* ------------------------------------------------------------ buffers */

void shd_buf_release(struct shd_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int shd_buf_reserve(struct shd_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2)
			return SHD_ENOMEM;
		cap *= 2;
	}
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return SHD_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int shd_buf_put(struct shd_buf *b, const void *p, size_t n)
{
	if (shd_buf_reserve(b, n) < 0)
		return SHD_ENOMEM;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void shd_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void shd_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void shd_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t shd_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t shd_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t shd_get_le64(const uint8_t *p)
{
	return (uint64_t)shd_get_le32(p) | (uint64_t)shd_get_le32(p + 4) << 32;
}

/* ----------------------------------------------------------- varints */

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ -((uint64_t)v >> 63);	/* all ones when v < 0 */
}

static inline int64_t unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Appends V as LEB128; the caller reserved 10 bytes. */
static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Reads a LEB128 value; NULL when it runs past END or is over 10 bytes. */
static inline const uint8_t *get_varint(const uint8_t *p, const uint8_t *end,
					uint64_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		if (p >= end)
			return NULL;
		uint8_t c = *p++;
		if (shift == 63 && c > 1)
			return NULL;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return p;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- raw */

int shd_enc_raw(struct shd_buf *out, const void *v, size_t n, size_t width)
{
	if (shd_buf_reserve(out, n * width) < 0)
		return SHD_ENOMEM;
	uint8_t *p = out->p + out->len;
	if (width == 1) {
		memcpy(p, v, n);
	} else if (width == 4) {
		const uint32_t *u = v;
		for (size_t i = 0; i < n; i++)
			shd_put_le32(p + 4 * i, u[i]);
	} else {
		const uint64_t *u = v;
		for (size_t i = 0; i < n; i++)
			shd_put_le64(p + 8 * i, u[i]);
	}
	out->len += n * width;
	return 0;
}

int shd_dec_raw(void *v, size_t n, size_t width, const uint8_t *p,
		size_t len)
{
	if (len != n * width)
		return SHD_EFORMAT;
	if (width == 1) {
		memcpy(v, p, n);
	} else if (width == 4) {
		uint32_t *u = v;
		for (size_t i = 0; i < n; i++)
			u[i] = shd_get_le32(p + 4 * i);
	} else {
		uint64_t *u = v;
		for (size_t i = 0; i < n; i++)
			u[i] = shd_get_le64(p + 8 * i);
	}
	return 0;
}

/* ------------------------------------------------------------- delta2 */

/*
 * Times: the first value, the first delta, then the change of each delta.
 * A regular series is all zeros after two varints. Arithmetic wraps
 * (uint64), so any int64 sequence round-trips.
 */
int shd_enc_delta2(struct shd_buf *out, const int64_t *v, size_t n)
{
	if (shd_buf_reserve(out, n * 10) < 0)
		return SHD_ENOMEM;
	uint8_t *p = out->p + out->len;
	uint64_t prev = 0, delta = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = (uint64_t)v[i];
		uint64_t d = x - prev;
		p = put_varint(p, zigzag((int64_t)(d - delta)));
		delta = i ? d : 0;
		prev = x;
	}
	out->len = (size_t)(p - out->p);
	return 0;
}

int shd_dec_delta2(int64_t *v, size_t n, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint64_t prev = 0, delta = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t u;
		p = get_varint(p, end, &u);
		if (!p)
			return SHD_EFORMAT;
		uint64_t d = delta + (uint64_t)unzigzag(u);
		uint64_t x = prev + d;
		v[i] = (int64_t)x;
		delta = i ? d : 0;
		prev = x;
	}
	return p == end ? 0 : SHD_EFORMAT;
}

/* --------------------------------------------------------------- dict */

/*
 * Layout: varint count of entries, each a varint length and its bytes; then
 * a varint count of runs, each a varint entry index and a varint length.
 */
int shd_enc_dict(struct shd_buf *out, const uint32_t *ids, size_t n,
		 const struct shd_dict *dict)
{
	size_t nruns = 0;
	for (size_t i = 0; i < n; i++)
		nruns += i == 0 || ids[i] != ids[i - 1];
	/* Open addressing from key id to entry index; at most half full. */
	size_t nslot = 16;
	while (nslot < 2 * nruns + 2)
		nslot *= 2;
	uint32_t *slot_id = malloc(nslot * sizeof(*slot_id));
	uint32_t *slot_ix = malloc(nslot * sizeof(*slot_ix));
	uint32_t *entry = malloc((nruns ? nruns : 1) * sizeof(*entry));
	uint32_t *run_ix = malloc((nruns ? nruns : 1) * sizeof(*run_ix));
	int rc = SHD_ENOMEM;
	if (!slot_id || !slot_ix || !entry || !run_ix)
		goto out;
	memset(slot_ix, 0xff, nslot * sizeof(*slot_ix));
	size_t nent = 0, r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		uint32_t id = ids[i];
		size_t h = (id * 2654435761u) & (nslot - 1);
		while (slot_ix[h] != UINT32_MAX && slot_id[h] != id)
			h = (h + 1) & (nslot - 1);
		if (slot_ix[h] == UINT32_MAX) {
			slot_id[h] = id;
			slot_ix[h] = (uint32_t)nent;
			entry[nent++] = id;
		}
		run_ix[r++] = slot_ix[h];
	}
	size_t bytes = 10;
	for (size_t e = 0; e < nent; e++) {
		size_t len;
		shd_dict_str(dict, entry[e], &len);
		bytes += 10 + len;
	}
	bytes += 10 + nruns * 20;
	if (shd_buf_reserve(out, bytes) < 0)
		goto out;
	uint8_t *p = out->p + out->len;
	p = put_varint(p, nent);
	for (size_t e = 0; e < nent; e++) {
		size_t len;
		const char *s = shd_dict_str(dict, entry[e], &len);
		p = put_varint(p, len);
		memcpy(p, s, len);
		p += len;
	}
	p = put_varint(p, nruns);
	size_t i = 0;
	for (r = 0; r < nruns; r++) {
		size_t j = i + 1;
		while (j < n && ids[j] == ids[i])
			j++;
		p = put_varint(p, run_ix[r]);
		p = put_varint(p, j - i);
		i = j;
	}
	out->len = (size_t)(p - out->p);
	rc = 0;
out:
	free(slot_id);
	free(slot_ix);
	free(entry);
	free(run_ix);
	return rc;
}

int shd_dec_dict(uint32_t *ids, size_t n, const uint8_t *p, size_t len,
		 struct shd_dict *out)
{
	const uint8_t *end = p + len;
	uint64_t nent, nruns;
	uint32_t *map = NULL;
	int rc = SHD_EFORMAT;

	p = get_varint(p, end, &nent);
	/* Every entry takes at least one byte, and is used by some row. */
	if (!p || nent > (uint64_t)(end - p) || nent > n)
		return SHD_EFORMAT;
	map = malloc((nent ? nent : 1) * sizeof(*map));
	if (!map)
		return SHD_ENOMEM;
	for (uint64_t e = 0; e < nent; e++) {
		uint64_t l;
		p = get_varint(p, end, &l);
		if (!p || l > (uint64_t)(end - p))
			goto out;
		int r = shd_dict_intern(out, (const char *)p, (size_t)l, &map[e]);
		if (r < 0) {
			rc = r == SHD_EINVAL ? SHD_EFORMAT : r;
			goto out;
		}
		p += l;
	}
	p = get_varint(p, end, &nruns);
	if (!p || nruns > n)
		goto out;
	size_t i = 0;
	for (uint64_t r = 0; r < nruns; r++) {
		uint64_t ix, l;
		p = get_varint(p, end, &ix);
		if (!p)
			goto out;
		p = get_varint(p, end, &l);
		if (!p || ix >= nent || l == 0 || l > n - i)
			goto out;
		for (uint64_t k = 0; k < l; k++)
			ids[i++] = map[ix];
	}
	if (i == n && p == end)
		rc = 0;
out:
	free(map);
	return rc;
}

/* ------------------------------------------------------------ shuffle */

int shd_enc_shuffle(struct shd_buf *out, const void *v, size_t n,
		    size_t width, int xor_prev)
{
	if (shd_buf_reserve(out, n * width) < 0)
		return SHD_ENOMEM;
	uint8_t *p = out->p + out->len;
	if (width == 8) {
		const uint64_t *u = v;
		uint64_t prev = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = u[i] ^ (xor_prev ? prev : 0);
			prev = u[i];
			for (size_t b = 0; b < 8; b++)
				p[b * n + i] = (uint8_t)(x >> (8 * b));
		}
	} else {
		const uint32_t *u = v;
		uint32_t prev = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t x = u[i] ^ (xor_prev ? prev : 0);
			prev = u[i];
			for (size_t b = 0; b < 4; b++)
				p[b * n + i] = (uint8_t)(x >> (8 * b));
		}
	}
	out->len += n * width;
	return 0;
}

int shd_dec_shuffle(void *v, size_t n, size_t width, int xor_prev,
		    const uint8_t *p, size_t len)
{
	if (len != n * width || (width != 8 && width != 4))
		return SHD_EFORMAT;
	if (width == 8) {
		uint64_t *u = v, prev = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t x = 0;
			for (size_t b = 0; b < 8; b++)
				x |= (uint64_t)p[b * n + i] << (8 * b);
			if (xor_prev)
				x ^= prev;
			u[i] = prev = x;
		}
	} else {
		uint32_t *u = v, prev = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t x = 0;
			for (size_t b = 0; b < 4; b++)
				x |= (uint32_t)p[b * n + i] << (8 * b);
			if (xor_prev)
				x ^= prev;
			u[i] = prev = x;
		}
	}
	return 0;
}

/*
 * Reads the raw 8-byte values of the rows marked in MAP (one bit per row,
 * LSB first) from *PP into V, in row order, advancing *PP. -1 when they run
 * past END.
 */
static int read_raw_rows(double *v, size_t n, const uint8_t *map,
			 const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;

	for (size_t i = 0; i < n; i++) {
		if (!(map[i / 8] >> (i % 8) & 1))
			continue;
		if ((size_t)(end - p) < 8)
			return -1;
		uint64_t x = shd_get_le64(p);
		memcpy(&v[i], &x, sizeof(x));
		p += 8;
	}
	*pp = p;
	return 0;
}

/* ------------------------------------------------------------- scaled */

/*
 * Scaled integers: each value is n / D for one divisor D of the block, the
 * integers n stored as zigzag varint deltas. D = 10^s is decimal scaling
 * (values that came from decimal text); other D catch averages such as
 * k / 15 (a 5-minute mean of 20-second samples). A value that is not
 * exactly n / D, or is -0, an infinity or a NaN with a payload, is an
 * exception stored as its 8 raw bytes.
 */

#define SCALED_MAX_D 9007199254740992.0		/* 2^53 */
#define TWO51 2251799813685248.0
#define CANON_NAN 0x7ff8000000000000ull
#define SAMPLE 128
#define SMALL_D 100

static inline uint64_t bits_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

/*
 * Is X exactly round(X * D) / D, with the integer below 2^51? Rounding by
 * adding and taking away 1.5 * 2^52 is exact there, and inlines (nearbyint
 * is a library call without SSE4.1).
 */
static inline int exact_at(double x, double d, double *n)
{
	double y = x * d;
	if (!(fabs(y) < TWO51))
		return 0;
	const double big = 6755399441055744.0;	/* 1.5 * 2^52 */
	double r = (y + big) - big;
	*n = r;
	return r / d == x && !(x == 0 && signbit(x));
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* LCM of A and B, or 0 when it would pass 2^53. */
static uint64_t lcm64(uint64_t a, uint64_t b)
{
	uint64_t g = gcd64(a, b), q = a / g;
	if (q > (1ull << 53) / b)
		return 0;
	return q * b;
}

/*
 * Chooses D from a sample of V: the divisors that explain most sampled
 * values (the smallest D <= 100 for each value, and the smallest power of
 * ten), and least common multiples of the most frequent ones. Returns the
 * candidate covering most of the sample (the smaller on ties), or 0.
 */
static double choose_divisor(const double *v, size_t n)
{
	static const double pow10[16] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15,
	};
	uint32_t count[SMALL_D + 1] = { 0 };
	size_t step = n > SAMPLE ? n / SAMPLE : 1, m = 0;
	int smax = -1;
	double r;

	for (size_t i = 0; i < n; i += step) {
		double x = v[i];
		int s;
		if (isnan(x))
			continue;
		m++;
		for (s = 0; s < 16; s++)
			if (exact_at(x, pow10[s], &r))
				break;
		smax = s < 16 && s > smax ? s : smax;
		if (s <= 2) {
			/* 10^s <= 100 explains it: no need for the slow search */
			count[(int)pow10[s]]++;
			continue;
		}
		for (int d = 1; d <= SMALL_D; d++)
			if (exact_at(x, d, &r)) {
				count[d]++;
				break;
			}
	}
	if (m == 0)
		return 1;
	uint64_t cand[12];
	size_t nc = 0;
	uint64_t top[3] = { 0, 0, 0 };
	for (int k = 0; k < 3; k++) {
		int best = 0;
		for (int d = 1; d <= SMALL_D; d++)
			if (count[d] > count[best])
				best = d;
		if (!count[best])
			break;
		top[k] = (uint64_t)best;
		count[best] = 0;
		cand[nc++] = top[k];
	}
	if (top[1] && (cand[nc] = lcm64(top[0], top[1])))
		nc++;
	if (top[2] && nc && (cand[nc] = lcm64(cand[nc - 1], top[2])))
		nc++;
	if (smax >= 0) {
		uint64_t p = (uint64_t)pow10[smax];
		cand[nc++] = p;
		if (top[0] && (cand[nc] = lcm64(p, top[0])))
			nc++;
	}
	double best = 0;
	size_t best_cov = 0;
	for (size_t c = 0; c < nc; c++) {
		double d = (double)cand[c];
		size_t cov = 0;
		for (size_t i = 0; i < n; i += step)
			cov += !isnan(v[i]) && exact_at(v[i], d, &r);
		if (cov > best_cov || (cov == best_cov && cov && d < best)) {
			best = d;
			best_cov = cov;
		}
	}
	/* Worth it only when most values are explained. */
	return best_cov * 2 > m ? best : 0;
}

/* ULP distance of X from Q (bits of X less bits of Q, wrapping). */
static inline int64_t ulp_diff(double x, double q)
{
	return (int64_t)(bits_of(x) - bits_of(q));
}

/*
 * Is X within LIMIT ulps of round(X * K) / K, with the integer below 2^51?
 * Sets *N and *U (the ulp offset). A value of the other sign than its
 * nearest n / K, -0 included, is millions of ulps away and fails.
 */
static inline int near_at(double x, double k, int64_t limit, int64_t *n,
			  int64_t *u)
{
	double y = x * k;
	if (!(fabs(y) < TWO51))
		return 0;
	const double big = 6755399441055744.0;
	double r = (y + big) - big;
	int64_t d = ulp_diff(x, r / k);
	if (d < -limit || d > limit)
		return 0;
	*n = (int64_t)r;
	*u = d;
	return 1;
}

/*
 * The integer for divisor K that a row whose integer is N for the block's
 * divisor D predicts: round(N * K / D) in IEEE double arithmetic, 0 when
 * that is 2^51 or more. Encoder and decoder compute it the same way.
 */
static inline int64_t rescale(int64_t n, double k, double d)
{
	double y = (double)n * k / d;
	if (!(fabs(y) < TWO51))
		return 0;
	const double big = 6755399441055744.0;
	return (int64_t)((y + big) - big);
}

#define NEAR_ULPS 4		/* an exception "near" n / k: this many ulps */
#define FAR_ULPS (1 << 20)	/* the block's D still helps up to this */
#define EXC_CACHE 8		/* recently useful small divisors */
#define EXC_SEARCH 4096		/* full small-divisor searches per block */

/*
 * Codes exception X of a row whose integer becomes *Q (the caller passes the
 * previous row's integer) as an entry appended at P; returns the new end.
 * Entry: varint sel; sel 0: 8 raw bytes; sel 1: the block's D, then a
 * zigzag ulp offset; sel k + 1: divisor k, a zigzag correction of the
 * rescaled integer, a zigzag ulp offset.
 */
static uint8_t *put_exception(uint8_t *p, double x, double d, int64_t *q,
			      uint32_t *cache, size_t *budget)
{
	int64_t n, u;

	if (near_at(x, d, NEAR_ULPS, &n, &u))
		goto main_d;
	/* Another divisor, small: a mean over fewer samples, say. The row
	 * keeps its integer for D, so that the deltas stay small. */
	double y = x * d;
	int64_t qi = *q;
	if (fabs(y) < TWO51)
		qi = (int64_t)((y + 6755399441055744.0) - 6755399441055744.0);
	for (int pass = 0; pass < 2; pass++) {
		uint32_t lim = pass ? SMALL_D : EXC_CACHE;
		if (pass && *budget == 0)
			break;
		if (pass)
			--*budget;
		for (uint32_t c = 0; c < lim; c++) {
			uint32_t k = pass ? c + 1 : cache[c];
			if (!k || (double)k == d)
				continue;
			if (!near_at(x, k, NEAR_ULPS, &n, &u))
				continue;
			/* move K to the front of the cache */
			uint32_t at = EXC_CACHE - 1;
			for (uint32_t e = 0; e < EXC_CACHE; e++)
				if (cache[e] == k) {
					at = e;
					break;
				}
			memmove(cache + 1, cache, at * sizeof(*cache));
			cache[0] = k;
			*q = qi;
			p = put_varint(p, (uint64_t)k + 1);
			p = put_varint(p, zigzag((int64_t)((uint64_t)n -
					(uint64_t)rescale(qi, k, d))));
			return put_varint(p, zigzag(u));
		}
	}
	if (near_at(x, d, FAR_ULPS, &n, &u))
		goto main_d;
	*p++ = 0;
	shd_put_le64(p, bits_of(x));
	return p + 8;
main_d:
	*q = n;
	*p++ = 1;
	return put_varint(p, zigzag(u));
}

/*
 * Layout: f64 divisor D (an integer, 1 to 2^53), u8 flags (bit 0: a NaN
 * bitmap follows; bit 1: an exception bitmap follows; bit 2: exceptions are
 * entries, else 8 raw bytes), the bitmaps (one bit per row, LSB first), each
 * row's integer as a zigzag varint of its difference from the previous
 * row's (NaN rows repeat the previous integer), then the exceptions in row
 * order.
 */
int shd_enc_scaled(struct shd_buf *out, const double *v, size_t n)
{
	double d = choose_divisor(v, n), r;

	if (d == 0)
		return 1;
	/* One pass decides every row: 0 integer, 1 NaN, 2 exception. */
	int64_t *q = malloc((n ? n : 1) * sizeof(*q));
	uint8_t *kind = malloc(n ? n : 1);
	size_t nb = (n + 7) / 8, nexc = 0, nnan = 0;
	if (!q || !kind) {
		free(q);
		free(kind);
		return SHD_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (exact_at(v[i], d, &r)) {
			q[i] = (int64_t)r;
			kind[i] = 0;
		} else if (isnan(v[i]) && bits_of(v[i]) == CANON_NAN) {
			kind[i] = 1;
			nnan++;
		} else {
			kind[i] = 2;
			nexc++;
		}
	}
	/* Entries take at most 1 + 10 + 10 + 10 bytes. */
	if (nexc * 2 > n - nnan || shd_buf_reserve(out, 9 + 2 * nb + n * 10 +
						     nexc * 31) < 0) {
		int rc = nexc * 2 > n - nnan ? 1 : SHD_ENOMEM;
		free(q);
		free(kind);
		return rc;
	}
	uint8_t *p = out->p + out->len;
	shd_put_le64(p, bits_of(d));
	p[8] = (uint8_t)((nnan ? 1 : 0) | (nexc ? 6 : 0));
	p += 9;
	uint8_t *nanmap = p, *excmap = p + (nnan ? nb : 0);
	p = excmap + (nexc ? nb : 0);
	memset(nanmap, 0, (size_t)(p - nanmap));
	/* Exception entries go to the end of the reserved room first. */
	uint8_t *ex = out->p + out->cap - nexc * 31, *e = ex;
	uint32_t cache[EXC_CACHE] = { 0 };
	size_t budget = EXC_SEARCH;
	int64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t k = prev;
		if (kind[i] == 0) {
			k = q[i];
		} else if (kind[i] == 1) {
			nanmap[i / 8] |= (uint8_t)(1u << (i % 8));
		} else {
			excmap[i / 8] |= (uint8_t)(1u << (i % 8));
			e = put_exception(e, v[i], d, &k, cache, &budget);
		}
		p = put_varint(p, zigzag(k - prev));
		prev = k;
	}
	memmove(p, ex, (size_t)(e - ex));
	p += e - ex;
	out->len = (size_t)(p - out->p);
	free(q);
	free(kind);
	return 0;
}

/* Decodes the entry at P for a row whose integer is N into *X. */
static const uint8_t *get_exception(const uint8_t *p, const uint8_t *end,
				    double d, int64_t n, double *x)
{
	uint64_t sel, dn, u;

	p = get_varint(p, end, &sel);
	if (!p)
		return NULL;
	if (sel == 0) {
		if ((size_t)(end - p) < 8)
			return NULL;
		uint64_t b = shd_get_le64(p);
		memcpy(x, &b, sizeof(b));
		return p + 8;
	}
	double k = d;
	if (sel > 1) {
		if (sel - 1 > (uint64_t)SCALED_MAX_D)
			return NULL;
		k = (double)(sel - 1);
		p = get_varint(p, end, &dn);
		if (!p)
			return NULL;
		n = (int64_t)((uint64_t)rescale(n, k, d) +
			      (uint64_t)unzigzag(dn));
	}
	p = get_varint(p, end, &u);
	if (!p)
		return NULL;
	uint64_t b = bits_of((double)n / k) + (uint64_t)unzigzag(u);
	memcpy(x, &b, sizeof(b));
	return p;
}

int shd_dec_scaled(double *v, size_t n, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	size_t nb = (n + 7) / 8;
	double d;

	if (len < 9)
		return SHD_EFORMAT;
	uint64_t db = shd_get_le64(p);
	memcpy(&d, &db, sizeof(d));
	int flags = p[8];
	if (!(d >= 1 && d <= SCALED_MAX_D && d == nearbyint(d)) || flags > 7 ||
	    (flags & 6) == 4)
		return SHD_EFORMAT;
	p += 9;
	const uint8_t *nanmap = NULL, *excmap = NULL;
	if (flags & 1) {
		if ((size_t)(end - p) < nb)
			return SHD_EFORMAT;
		nanmap = p;
		p += nb;
	}
	if (flags & 2) {
		if ((size_t)(end - p) < nb)
			return SHD_EFORMAT;
		excmap = p;
		p += nb;
	}
	/*
	 * Two passes over V: the integers first (in V's storage, which is
	 * allocated memory of 8-byte cells), then the divisions, which the
	 * compiler can keep in a tight loop.
	 */
	int64_t *q = (int64_t *)(void *)v;
	uint64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t u;
		if (p < end && *p < 0x80) {
			u = *p++;
		} else {
			p = get_varint(p, end, &u);
			if (!p)
				return SHD_EFORMAT;
		}
		prev += (uint64_t)unzigzag(u);
		q[i] = (int64_t)prev;
	}
	/* Entries need the rows' integers: decode them before dividing. */
	double *ev = NULL;
	size_t ne = 0;
	if (excmap && (flags & 4)) {
		for (size_t i = 0; i < nb; i++)
			ne += (size_t)__builtin_popcount(excmap[i]);
		ev = malloc((ne ? ne : 1) * sizeof(*ev));
		if (!ev)
			return SHD_ENOMEM;
		ne = 0;
		for (size_t i = 0; i < n; i++) {
			if (!(excmap[i / 8] >> (i % 8) & 1))
				continue;
			p = get_exception(p, end, d, q[i], &ev[ne++]);
			if (!p) {
				free(ev);
				return SHD_EFORMAT;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (double)q[i] / d;
	for (size_t i = 0; i < n && nanmap; i++)
		if (nanmap[i / 8] >> (i % 8) & 1)
			v[i] = NAN;
	if (ev) {
		ne = 0;
		for (size_t i = 0; i < n; i++)
			if (excmap[i / 8] >> (i % 8) & 1)
				v[i] = ev[ne++];
		free(ev);
		return p == end ? 0 : SHD_EFORMAT;
	}
	if (excmap && read_raw_rows(v, n, excmap, &p, end) < 0)
		return SHD_EFORMAT;
	return p == end ? 0 : SHD_EFORMAT;
}

/* ------------------------------------------------------------ derived */

static inline double derive_eval(int op, double a, double b, double c)
{
	double x;

	switch (op) {
	case SHD_D_MUL: x = a * b; break;
	case SHD_D_DIV: x = a / b; break;
	case SHD_D_ADD: x = a + b; break;
	case SHD_D_SUB: x = a - b; break;
	case SHD_D_MULDIV: x = a * b / c; break;
	case SHD_D_DIVMUL: x = a / b * c; break;
	case SHD_D_MULC: x = a * c; break;
	default: x = a / c; break;
	}
	/* NaN payloads and signs differ between machines: one NaN for all */
	if (isnan(x)) {
		uint64_t q = CANON_NAN;
		memcpy(&x, &q, sizeof(x));
	}
	return x;
}

static inline int uses_c(int op)
{
	return op >= SHD_D_MULDIV;
}

/* The constant that makes V = OP(A, B, c), or NaN. */
static double estimate_c(int op, double v, double a, double b)
{
	switch (op) {
	case SHD_D_MULDIV: return a * b / v;
	case SHD_D_DIVMUL: return v / (a / b);
	case SHD_D_MULC: return v / a;
	default: return a / v;
	}
}

#define DSAMPLE 32
#define DSAMPLE_MISS 2		/* sampled rows a derivation may miss */
#define DERIVE_MAX_COLS 48	/* wider blocks are not searched */

static int usable(double x)
{
	return isfinite(x) && x != 0;
}

/* Rows of the sample that OP(A, B, C) misses, stopping past the limit. */
static size_t sample_misses(const double *v, const double *a, const double *b,
			    int op, double c, const size_t *rows, size_t ns)
{
	size_t miss = 0;

	for (size_t s = 0; s < ns && miss <= DSAMPLE_MISS; s++) {
		size_t i = rows[s];
		miss += bits_of(derive_eval(op, a[i], b[i], c)) != bits_of(v[i]);
	}
	return miss;
}

int shd_find_derived(const double *v, size_t n, const double *const *cols,
		     size_t ncols, size_t self, struct shd_derive *dv,
		     size_t *nexc)
{
	size_t rows[DSAMPLE], ns = 0, nsrc = 0;

	if (n < 16 || ncols > 65535)
		return 1;
	for (size_t k = 0; k < ncols; k++)
		nsrc += cols[k] && k != self;
	if (nsrc == 0 || nsrc > DERIVE_MAX_COLS)
		return 1;
	/* Rows spread over the block where V is usable. */
	for (size_t s = 0; s < DSAMPLE; s++) {
		size_t i = (size_t)((double)s * (double)(n - 1) / (DSAMPLE - 1));
		if (usable(v[i]))
			rows[ns++] = i;
	}
	if (ns < DSAMPLE / 2)
		return 1;
	for (size_t ka = 0; ka < ncols; ka++) {
		const double *a = cols[ka];
		if (!a || ka == self)
			continue;
		for (size_t kb = 0; kb < ncols; kb++) {
			const double *b = cols[kb];
			if (!b || kb == self)
				continue;
			for (int op = 1; op <= SHD_D_MAX; op++) {
				int unary = op >= SHD_D_MULC;
				if (unary != (ka == kb))
					continue;
				double cand[20];
				size_t nc = 0;
				if (!uses_c(op)) {
					cand[nc++] = 0;
				} else {
					/* c from three rows must agree */
					double c0 = estimate_c(op, v[rows[0]],
							a[rows[0]], b[rows[0]]);
					double c1 = estimate_c(op, v[rows[ns / 2]],
							a[rows[ns / 2]], b[rows[ns / 2]]);
					double c2 = estimate_c(op, v[rows[ns - 1]],
							a[rows[ns - 1]], b[rows[ns - 1]]);
					if (!usable(c0) ||
					    fabs(c1 - c0) > 1e-9 * fabs(c0) ||
					    fabs(c2 - c0) > 1e-9 * fabs(c0))
						continue;
					/* the constant as written: few digits */
					for (int dig = 1; dig <= 17; dig++) {
						char t[40];
						snprintf(t, sizeof(t), "%.*g", dig, c0);
						double c = strtod(t, NULL);
						/* nc > 0: cand[nc - 1] was set */
						/* cppcheck-suppress uninitvar */
						if (!nc || cand[nc - 1] != c)
							cand[nc++] = c;
					}
					cand[nc++] = c0;
				}
				for (size_t ci = 0; ci < nc; ci++) {
					if (uses_c(op) && !usable(cand[ci]))
						continue;
					if (sample_misses(v, a, b, op, cand[ci],
							  rows, ns) > DSAMPLE_MISS)
						continue;
					size_t miss = 0;
					for (size_t i = 0; i < n; i++)
						miss += bits_of(derive_eval(op, a[i],
							b[i], cand[ci])) != bits_of(v[i]);
					if (miss > n / 8)
						continue;
					dv->op = op;
					dv->a = (uint16_t)ka;
					dv->b = (uint16_t)kb;
					dv->c = uses_c(op) ? cand[ci] : 0;
					*nexc = miss;
					return 0;
				}
			}
		}
	}
	return 1;
}

/*
 * Layout: u8 op, u8 flags (bit 0: an exception bitmap follows), u16 A,
 * u16 B, f64 C, the bitmap (one bit per row, LSB first), then the
 * exceptions' 8 raw bytes in row order.
 */
int shd_enc_derived(struct shd_buf *out, const double *v, size_t n,
		    const struct shd_derive *dv, const double *a,
		    const double *b)
{
	size_t nb = (n + 7) / 8, nexc = 0;

	for (size_t i = 0; i < n; i++)
		nexc += bits_of(derive_eval(dv->op, a[i], b[i], dv->c)) !=
			bits_of(v[i]);
	if (shd_buf_reserve(out, SHD_DERIVED_HEAD + nb + 8 * nexc) < 0)
		return SHD_ENOMEM;
	uint8_t *p = out->p + out->len;
	p[0] = (uint8_t)dv->op;
	p[1] = nexc ? 1 : 0;
	shd_put_le16(p + 2, dv->a);
	shd_put_le16(p + 4, dv->b);
	shd_put_le64(p + 6, bits_of(dv->c));
	p += SHD_DERIVED_HEAD;
	if (nexc) {
		uint8_t *map = p, *e = p + nb;
		memset(map, 0, nb);
		for (size_t i = 0; i < n; i++)
			if (bits_of(derive_eval(dv->op, a[i], b[i], dv->c)) !=
			    bits_of(v[i])) {
				map[i / 8] |= (uint8_t)(1u << (i % 8));
				shd_put_le64(e, bits_of(v[i]));
				e += 8;
			}
		p = e;
	}
	out->len = (size_t)(p - out->p);
	return 0;
}

int shd_dec_derived_head(struct shd_derive *dv, const uint8_t *p,
			 size_t len)
{
	if (len < SHD_DERIVED_HEAD || p[0] < 1 || p[0] > SHD_D_MAX || p[1] > 1)
		return SHD_EFORMAT;
	dv->op = p[0];
	dv->a = shd_get_le16(p + 2);
	dv->b = shd_get_le16(p + 4);
	uint64_t cb = shd_get_le64(p + 6);
	memcpy(&dv->c, &cb, sizeof(cb));
	if (uses_c(dv->op) ? !usable(dv->c) : cb != 0)
		return SHD_EFORMAT;
	if ((dv->op >= SHD_D_MULC) != (dv->a == dv->b))
		return SHD_EFORMAT;
	return 0;
}

int shd_dec_derived(double *v, size_t n, const double *a, const double *b,
		    const uint8_t *p, size_t len)
{
	struct shd_derive dv;
	const uint8_t *end = p + len;
	size_t nb = (n + 7) / 8;

	if (shd_dec_derived_head(&dv, p, len) < 0)
		return SHD_EFORMAT;
	int flags = p[1];
	p += SHD_DERIVED_HEAD;
	for (size_t i = 0; i < n; i++)
		v[i] = derive_eval(dv.op, a[i], b[i], dv.c);
	if (flags & 1) {
		const uint8_t *map = p;
		if ((size_t)(end - p) < nb)
			return SHD_EFORMAT;
		p += nb;
		if (read_raw_rows(v, n, map, &p, end) < 0)
			return SHD_EFORMAT;
	}
	return p == end ? 0 : SHD_EFORMAT;
}
