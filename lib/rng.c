/*
 * rng.c - seeded xorshift64* with uniform and normal variates.
 *
 * Determinism is the point: models trained with the same --seed are byte
 * identical, so nothing here reads the clock or keeps global state.
 */
#include <math.h>

#include "rng.h"

/* splitmix64 (Steele, Lea, Flood 2014): spreads a seed over 64 bits. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void shd_rng_seed(struct shd_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	r->s = splitmix64(&x);
	while (r->s == 0)	/* xorshift must not start at 0 */
		r->s = splitmix64(&x);
	r->has_spare = 0;
	r->spare = 0.0;
}

uint64_t shd_rng_u64(struct shd_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

double shd_rng_uniform(struct shd_rng *r)
{
	/* the top 53 bits, times 2^-53: exact, in [0, 1) */
	return (double)(shd_rng_u64(r) >> 11) * 0x1.0p-53;
}

float shd_rng_uniformf(struct shd_rng *r)
{
	return (float)(shd_rng_u64(r) >> 40) * 0x1.0p-24f;
}

float shd_rng_rangef(struct shd_rng *r, float lo, float hi)
{
	return lo + (hi - lo) * shd_rng_uniformf(r);
}

uint64_t shd_rng_below(struct shd_rng *r, uint64_t n)
{
	/* reject the top partial copy of [0, n) so every value is as likely */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = shd_rng_u64(r);
	while (x >= lim);
	return x % n;
}

double shd_rng_normal(struct shd_rng *r)
{
	double u1, u2, rad;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	do			/* u1 in (0, 1): log(0) would be -inf */
		u1 = shd_rng_uniform(r);
	while (u1 <= 0.0);
	u2 = shd_rng_uniform(r);
	rad = sqrt(-2.0 * log(u1));
	r->spare = rad * sin(2.0 * M_PI * u2);
	r->has_spare = 1;
	return rad * cos(2.0 * M_PI * u2);
}
