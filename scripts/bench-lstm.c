/*
 * bench-lstm - training speed of the LSTM engine (lib/lstm.c): windows per
 * second of full training steps (zero_grad, forward, masked MSE, backward
 * through time, AdamW with clipping) on random data of the given shape,
 * the GFLOP/s of the matrix products in those steps, and the fraction of
 * this machine's sgemm peak (one large cblas_sgemm, same thread count)
 * that training reaches. Used by scripts/bench-train; not installed.
 *
 *   bench-lstm [-L layers] [-H hidden] [-T lookback] [-B batch]
 *              [-I inputs] [-K outputs] [-s seconds] [-r repeats]
 *              [-j blas-threads] [-P peak-size] [-n | -S]
 *
 * Defaults: L 1, H 64, T 48, B 64, I 8, K 48 (the shape), about
 * 1 s per repeat, best of 3 repeats, 1 BLAS thread, peak from a 2048^3
 * sgemm (-n skips it, -S measures only it). One line per result, "key value" pairs:
 *
 *   lstm L 1 H 64 T 48 B 64 I 8 K 48 threads 1 core Prescott
 *        windows/s 12345.6 steps/s 192.9 gflops 62.10 mflop/step 321.9
 *   sgemm n 2048 threads 1 core Prescott gflops 40.12
 *   fraction 1.548
 *
 * "core" is OpenBLAS's kernel set (see OPENBLAS_CORETYPE in lstm.h).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lstm.h"
#include "rng.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(struct shd_rng *r, float *v, size_t n, float a)
{
	for (size_t i = 0; i < n; i++)
		v[i] = shd_rng_rangef(r, -a, a);
}

/* The multiply-adds of one training step, as 2 flops each: the products
 * the engine (and PyTorch) must do whatever their method. */
static double step_flops(size_t L, size_t H, size_t T, size_t B, size_t In,
			 size_t K)
{
	double G = 4.0 * (double)H, f = 0.0;

	for (size_t l = 0; l < L; l++) {
		double in = l ? (double)H : (double)In;

		f += 2.0 * (double)(T * B) * in * G;		/* X W_ih^T */
		f += 2.0 * (double)((T - 1) * B) * (double)H * G; /* H W_hh^T */
		f += 2.0 * (double)((T - 1) * B) * (double)H * G; /* dH */
		f += 2.0 * (double)(T * B) * in * G;		/* dW_ih */
		f += 2.0 * (double)((T - 1) * B) * (double)H * G; /* dW_hh */
		if (l)
			f += 2.0 * (double)(T * B) * in * G;	/* dX */
	}
	f += 3.0 * 2.0 * (double)(B * H * K);	/* head, dW, dh */
	return f;
}

static double sgemm_peak(int n, double seconds)
{
	float *a = malloc((size_t)n * n * sizeof(float));
	float *b = malloc((size_t)n * n * sizeof(float));
	float *c = malloc((size_t)n * n * sizeof(float));
	struct shd_rng r;
	double best = 0.0, t0, t;
	int reps = 0;

	if (!a || !b || !c) {
		fprintf(stderr, "bench-lstm: out of memory\n");
		exit(1);
	}
	shd_rng_seed(&r, 7);
	fill(&r, a, (size_t)n * n, 1.0f);
	fill(&r, b, (size_t)n * n, 1.0f);
	memset(c, 0, (size_t)n * n * sizeof(float));
	t0 = now();
	do {
		double s = now();

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
			    1.0f, a, n, b, n, 0.0f, c, n);
		t = now() - s;
		if (reps++ && 2.0 * n * (double)n * n / t > best)
			best = 2.0 * n * (double)n * n / t;	/* 1st warms */
	} while (reps < 3 || now() - t0 < seconds);
	free(a);
	free(b);
	free(c);
	return best / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-lstm [-L layers] [-H hidden] "
		"[-T lookback] [-B batch] [-I inputs] [-K outputs] "
		"[-s seconds] [-r repeats] [-j blas-threads] [-P peak-size] "
		"[-n | -S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct shd_lstm_config cfg;
	struct shd_lstm m;
	struct shd_lstm_cache c;
	struct shd_rng r;
	size_t L = 1, H = 64, T = 48, B = 64, In = 8, K = 48, nx, ny;
	double seconds = 1.0, best = 0.0, flops, peak = 0.0;
	int repeats = 3, threads = 1, peak_n = 2048, peak_only = 0, opt;
	float *x, *target, *y, *dy;

	while ((opt = getopt(argc, argv, "L:H:T:B:I:K:s:r:j:P:nS")) != -1) {
		switch (opt) {
		case 'L': L = strtoul(optarg, NULL, 10); break;
		case 'H': H = strtoul(optarg, NULL, 10); break;
		case 'T': T = strtoul(optarg, NULL, 10); break;
		case 'B': B = strtoul(optarg, NULL, 10); break;
		case 'I': In = strtoul(optarg, NULL, 10); break;
		case 'K': K = strtoul(optarg, NULL, 10); break;
		case 's': seconds = atof(optarg); break;
		case 'r': repeats = atoi(optarg); break;
		case 'j': threads = atoi(optarg); break;
		case 'P': peak_n = atoi(optarg); break;
		case 'n': peak_n = 0; break;
		case 'S': peak_only = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !(seconds > 0) || repeats < 1 || threads < 1 ||
	    T < 1 || B < 1 || (peak_only && peak_n <= 0))
		usage();
	if (peak_only) {
		openblas_set_num_threads(threads);
		printf("sgemm n %d threads %d core %s gflops %.2f\n", peak_n,
		       threads, openblas_get_corename(),
		       sgemm_peak(peak_n, seconds));
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_in = In;
	cfg.n_hidden = H;
	cfg.n_layers = L;
	cfg.n_out = K;
	cfg.max_steps = T;
	cfg.max_batch = B;
	cfg.forget_bias = 1;
	if (shd_lstm_init(&m, &cfg, 1) || shd_lstm_cache_init(&c, &cfg)) {
		fprintf(stderr, "bench-lstm: bad shape or out of memory\n");
		return 1;
	}
	shd_lstm_set_threads(&m, threads);
	nx = T * B * In;
	ny = B * K;
	x = malloc(nx * sizeof(float));
	target = malloc(ny * sizeof(float));
	y = malloc(ny * sizeof(float));
	dy = malloc(ny * sizeof(float));
	if (!x || !target || !y || !dy) {
		fprintf(stderr, "bench-lstm: out of memory\n");
		return 1;
	}
	shd_rng_seed(&r, 3);
	fill(&r, x, nx, 1.0f);
	fill(&r, target, ny, 1.0f);
	flops = step_flops(L, H, T, B, In, K);

	for (int rep = -1; rep < repeats; rep++) {	/* -1 warms up */
		double t0 = now(), t;
		long steps = 0;

		do {
			shd_lstm_zero_grad(&m);
			shd_lstm_forward(&m, &c, x, T, B, y);
			shd_lstm_mse(y, target, NULL, ny, dy, NULL);
			shd_lstm_backward(&m, &c, dy, T, B, NULL);
			if (!isfinite(shd_adam_step(&m, 1e-3f, 0.9f, 0.999f,
						    1e-8f, 1e-4f, 1.0f))) {
				fprintf(stderr, "bench-lstm: diverged\n");
				return 1;
			}
			steps++;
			t = now() - t0;
		} while (t < (rep < 0 ? seconds / 4 : seconds));
		if (rep >= 0 && (double)steps / t > best)
			best = (double)steps / t;
	}
	printf("lstm L %zu H %zu T %zu B %zu I %zu K %zu threads %d core %s "
	       "windows/s %.1f steps/s %.2f gflops %.2f mflop/step %.1f\n",
	       L, H, T, B, In, K, threads, openblas_get_corename(),
	       best * (double)B, best, best * flops / 1e9, flops / 1e6);
	if (peak_n > 0) {
		peak = sgemm_peak(peak_n, seconds);
		printf("sgemm n %d threads %d core %s gflops %.2f\n", peak_n,
		       threads, openblas_get_corename(), peak);
		printf("fraction %.3f\n", best * flops / 1e9 / peak);
	}
	free(x);
	free(target);
	free(y);
	free(dy);
	shd_lstm_cache_release(&c);
	shd_lstm_release(&m);
	return 0;
}
