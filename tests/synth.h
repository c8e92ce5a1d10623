/*
 * synth.h - a synthetic panel for the unit tests of training and
 * forecasting (unit-train, unit-predict): R resources of N slots at
 * 5-minute steps, cpu a daily sine with a sharp midday peak (not linear in
 * its lags: something for the network) and noise, mem a daily cosine and
 * noise, one gap (NaN) a third of the way in, as in Bitbrains.
 */
#ifndef SHD_TESTS_SYNTH_H
#define SHD_TESTS_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"
#include "rng.h"

#define STEP 300000		/* 5 minutes */
#define DAY 288

/* R resources of N slots, metrics cpu and mem; owned by P. */
static inline void synth(struct shd_panel *p, size_t R, size_t n,
			 uint64_t seed)
{
	struct shd_rng rng;

	shd_rng_seed(&rng, seed);
	shd_panel_init(p);
	p->step = STEP;
	p->nmetric = 2;
	p->metric = calloc(2, sizeof(char *));
	p->unit = calloc(2, sizeof(char *));
	p->metric[0] = strdup("cpu");
	p->metric[1] = strdup("mem");
	p->unit[0] = strdup("%");
	p->unit[1] = strdup("MiB");
	p->nseries = R;
	p->series = calloc(R, sizeof(*p->series));
	for (size_t r = 0; r < R; r++) {
		struct shd_pseries *s = &p->series[r];
		char key[32];
		snprintf(key, sizeof(key), "vm-%zu", r);
		s->key = strdup(key);
		s->t0 = 1700006400000LL;	/* a midnight, UTC */
		s->n = n;
		s->x = malloc(2 * n * sizeof(double));
		s->count = calloc(n, sizeof(uint32_t));
		for (size_t i = 0; i < n; i++) {
			double ph = 6.283185307179586 * (double)i / DAY;
			/* a daily cycle with a sharp midday peak: not linear
			 * in its lags, something for the network */
			double peak = exp(-40 * (ph / 6.283185 - 0.5) *
					  (ph / 6.283185 - 0.5) * 4);
			s->x[i] = 50 + 20 * sin(ph + (double)r) +
				  15 * peak + 2 * shd_rng_normal(&rng);
			s->x[n + i] = 1000 + 100 * cos(ph) +
				      10 * shd_rng_normal(&rng);
			s->count[i] = 1;
		}
		s->x[n / 3] = NAN;	/* a gap, as in Bitbrains */
	}
}

#endif
