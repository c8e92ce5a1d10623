/*
 * rng.h - a small seeded random number generator (private to libshd).
 *
 * xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
 * generators, scrambled", 2016) with its state seeded through splitmix64, so
 * that any seed, 0 included, gives a good non-zero state. The sequence
 * depends only on the seed: same seed, same numbers, on every run and every
 * machine (integer arithmetic, then one exactly rounded scaling).
 */
#ifndef SHD_RNG_H
#define SHD_RNG_H

#include <stdint.h>

struct shd_rng {
	uint64_t s;		/* xorshift64* state, never 0 */
	int has_spare;		/* Box-Muller gives two normals per draw */
	double spare;
};

/* Seeds R from SEED (any value). */
void shd_rng_seed(struct shd_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t shd_rng_u64(struct shd_rng *r);

/* Uniform in [0, 1): 53 random bits for the double, 24 for the float. */
double shd_rng_uniform(struct shd_rng *r);
float shd_rng_uniformf(struct shd_rng *r);

/* Uniform in [LO, HI). */
float shd_rng_rangef(struct shd_rng *r, float lo, float hi);

/* Uniform integer in [0, N), N > 0 (rejection sampling, no modulo bias). */
uint64_t shd_rng_below(struct shd_rng *r, uint64_t n);

/* Standard normal N(0, 1) by the Box-Muller transform. */
double shd_rng_normal(struct shd_rng *r);

#endif
