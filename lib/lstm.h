/*
 * lstm.h - a multi-layer LSTM with a linear head, trained by BPTT and Adam
 * (private to libshd for now).
 *
 * Dimensions, used in every shape comment here and in lstm.c:
 *   T  time steps of a window        B  windows in a batch
 *   I  inputs per step               H  hidden units per layer
 *   L  layers                        K  outputs (horizon x metrics)
 *
 * The network reads x (T, B, I), runs L stacked LSTM layers from zero
 * initial states, and maps the top layer's hidden state at the last step,
 * h (B, H), to y (B, K) = h W^T + b. Everything is float32.
 *
 * Gates are ordered i, f, g, o and the weights are laid out as PyTorch's
 * nn.LSTM + nn.Linear, so a state_dict loads by plain copies:
 *   layer l:  w_ih (4H, I_l)  w_hh (4H, H)  b_ih (4H)  b_hh (4H)
 *             with I_0 = I and I_l = H above
 *   head:     w (K, H)  b (K)
 * and in that order in memory (layer 0 first, head last), so the parameter
 * vector is state_dict() flattened in order.
 *
 * Parameters, gradients and the two Adam moments are four equal blocks of
 * one allocation; struct shd_lstm_params names the tensors inside a block.
 *
 * Threading: small sgemms on two cores are erratic when OpenBLAS starts its
 * own threads (DESIGN.md), so a model uses ONE BLAS thread unless told
 * otherwise by shd_lstm_set_threads(). Parallelism, where wanted, belongs
 * to the caller (over series or models), not to BLAS.
 *
 * Determinism: the same seed, data and calls give bit-identical parameters
 * run after run. The gate code gives the same bits on every path (scalar,
 * SSE2, AVX2, AVX-512 picked at run time). The matrix products go to
 * cblas_sgemm, whose kernels differ by CPU (see OPENBLAS_CORETYPE), so
 * machines agree only to rounding -- except where OpenBLAS runs one of its
 * pre-AVX2 fallback kernels on a CPU with AVX2 + FMA: there lstm.c does
 * the products itself (AVX-512 or AVX2, one fused multiply-add chain per
 * element in a fixed order, the same bits on both).
 *
 * Speed: OpenBLAS 0.3.21 (Debian 12) does not know newer Xeons and falls
 * back to its Prescott (SSE3) kernels, 4-5x slower sgemm, and even its
 * good kernels lose much of a small per-step product to packing and
 * dispatch. Hence lstm.c's own kernels in that case (openblas_get_corename
 * tells); the thread count above only matters on the cblas path.
 */
#ifndef SHD_LSTM_H
#define SHD_LSTM_H

#include <stddef.h>
#include <stdint.h>

#include "shd.h"

#define SHD_LSTM_MAX_LAYERS 8

struct shd_lstm_config {
	/* (the letters are the dimensions above; I itself cannot be a
	 * member name, <complex.h> makes it a macro) */
	size_t n_in;		/* I */
	size_t n_hidden;	/* H */
	size_t n_layers;	/* L, <= SHD_LSTM_MAX_LAYERS */
	size_t n_out;		/* K */
	size_t max_steps;	/* T the cache must hold */
	size_t max_batch;	/* B the cache must hold */
	int forget_bias;	/* init: 1 sets the forget-gate bias to +1
				 * (b_ih f-part 1, b_hh f-part 0) */
};

/* Named pointers into one block laid out as the parameters. */
struct shd_lstm_params {
	struct {
		float *w_ih;	/* (4H, I_l) rows i, f, g, o */
		float *w_hh;	/* (4H, H) */
		float *b_ih;	/* (4H) */
		float *b_hh;	/* (4H) */
	} layer[SHD_LSTM_MAX_LAYERS];
	float *head_w;		/* (K, H) */
	float *head_b;		/* (K) */
};

struct shd_lstm {
	struct shd_lstm_config cfg;
	size_t nparams;		/* floats in each of the four blocks */
	float *mem;		/* the one allocation: 4 * nparams floats */
	float *params;		/* (nparams) */
	float *grads;		/* (nparams) same layout */
	float *adam_m;		/* (nparams) first moment */
	float *adam_v;		/* (nparams) second moment */
	struct shd_lstm_params p;	/* names in params */
	struct shd_lstm_params g;	/* names in grads */
	uint64_t step;		/* Adam steps taken */
	int threads;		/* BLAS threads for this model (default 1) */
};

/*
 * What backward needs from forward, for windows of up to cfg.max_steps
 * steps and cfg.max_batch windows: sized once by shd_lstm_cache_init, never
 * reallocated. Per layer, h and c hold T+1 steps with step 0 the zero
 * initial state, so h_{t-1} of all steps is one contiguous (T, B, H)
 * matrix. A cache serves any model of the same sizes.
 */
struct shd_lstm_cache {
	struct shd_lstm_config cfg;	/* sizes it was made for */
	size_t T, B;		/* of the last forward; 0 before any */
	float *mem;		/* the one allocation */
	float *x;		/* (T, B, I) copy of the input */
	float *gates[SHD_LSTM_MAX_LAYERS];	/* (T, B, 4H) i, f, g, o after
						 * the nonlinearity */
	float *c[SHD_LSTM_MAX_LAYERS];	/* (T+1, B, H) cell states */
	float *h[SHD_LSTM_MAX_LAYERS];	/* (T+1, B, H) hidden states */
	float *tc[SHD_LSTM_MAX_LAYERS];	/* (T, B, H) tanh(c_t) */
	float *bias;		/* (4H) b_ih + b_hh, scratch */
	float *dbias;		/* (4H) backward scratch */
	float *wt;		/* (4H, max(I, H)) or (K, H) scratch:
				 * weights transposed for the products */
	float *dgates;		/* (T, B, 4H) backward scratch */
	float *dh_a, *dh_b;	/* (T, B, H) gradient wrt a layer's output */
	float *dh, *dc;		/* (B, H) running gradients of BPTT */
};

/*
 * Number of floats in the parameter vector of CFG, or 0 when CFG is
 * invalid (a size 0, too many layers, or a size overflow).
 */
size_t shd_lstm_params_size(const struct shd_lstm_config *cfg);

/* Points NP's names into BASE, a block of shd_lstm_params_size(cfg) floats. */
void shd_lstm_params_point(struct shd_lstm_params *np,
			   const struct shd_lstm_config *cfg, float *base);

/*
 * Allocates M for CFG and initialises the parameters from SEED as PyTorch
 * does: every weight and bias uniform in (-1/sqrt(H), 1/sqrt(H)), the head
 * too (its fan-in is H); then the forget-gate bias when cfg->forget_bias.
 * Gradients and Adam moments start at 0, one BLAS thread. Returns 0,
 * SHD_EINVAL for a bad config, or SHD_ENOMEM. Free with shd_lstm_release.
 */
int shd_lstm_init(struct shd_lstm *m, const struct shd_lstm_config *cfg,
		  uint64_t seed);
void shd_lstm_release(struct shd_lstm *m);

/*
 * Sets the number of OpenBLAS threads M uses (N >= 1; default 1). The
 * count is process-wide inside OpenBLAS, so forward, backward and Adam set
 * it again when it differs; models with different counts in one process
 * take turns, not threads.
 */
void shd_lstm_set_threads(struct shd_lstm *m, int n);

/*
 * Allocates C for windows of up to cfg->max_steps steps and cfg->max_batch
 * windows (once; forward never allocates). 0, SHD_EINVAL or SHD_ENOMEM.
 */
int shd_lstm_cache_init(struct shd_lstm_cache *c,
			const struct shd_lstm_config *cfg);
void shd_lstm_cache_release(struct shd_lstm_cache *c);

/*
 * y (B, K) = the network on x (T, B, I), keeping in C what backward needs.
 * Returns 0, or SHD_EINVAL when T or B is 0 or exceeds the cache, or the
 * cache was made for other sizes. A NaN in x gives NaN outputs for its
 * window (never a made-up number); other windows are unaffected.
 */
int shd_lstm_forward(const struct shd_lstm *m, struct shd_lstm_cache *c,
		     const float *x, size_t T, size_t B, float *y);

/*
 * Backpropagates dy (B, K) = dLoss/dy through the forward last run on C
 * (T and B must match it), ADDING to m->grads and, when DX is not NULL,
 * to dx (T, B, I). Returns 0 or SHD_EINVAL.
 */
int shd_lstm_backward(struct shd_lstm *m, struct shd_lstm_cache *c,
		      const float *dy, size_t T, size_t B, float *dx);

/* Sets every gradient to 0. */
void shd_lstm_zero_grad(struct shd_lstm *m);

/*
 * One Adam step on M's parameters from its gradients (not cleared):
 * the global L2 norm of the gradients is computed first and, when CLIP > 0
 * and the norm exceeds it, the gradients used are scaled by CLIP / norm;
 * then m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, and
 * p -= LR (WD p + m^ / (sqrt(v^) + EPS)) with bias-corrected m^, v^ (WD is
 * decoupled weight decay, AdamW; 0 gives plain Adam). Returns the pre-clip
 * norm. When it is not finite (a NaN or inf gradient) nothing is changed
 * and that norm is returned: the caller decides (SHD_ENUMERIC, skip, ...).
 */
double shd_adam_step(struct shd_lstm *m, float lr, float beta1, float beta2,
		     float eps, float wd, float clip);

/*
 * Masked mean squared error over N values: the mean of (y - target)^2 over
 * the entries that count, those with MASK[i] != 0 (every entry when MASK is
 * NULL) and a target that is not NaN; others contribute nothing. When DY is
 * not NULL it receives dLoss/dy (N): 2 (y - target) / n for entries that
 * count, 0 otherwise. The count goes to *COUNT when not NULL. Returns the
 * loss, 0 when nothing counts.
 */
double shd_lstm_mse(const float *y, const float *target,
		    const unsigned char *mask, size_t n, float *dy,
		    size_t *count);

#endif
