/*
 * lstm.c - multi-layer LSTM + linear head: forward, BPTT backward, Adam.
 *
 * Dimensions (as in lstm.h):
 *   T time steps, B batch, I inputs, H hidden, L layers, K outputs;
 *   In is the input width of the layer at hand (I for layer 0, else H).
 *
 * One layer, per step t, from h_{t-1}, c_{t-1} (zero at t = 0):
 *   a = x_t W_ih^T + h_{t-1} W_hh^T + b_ih + b_hh        (B, 4H)
 *   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
 *   c_t = f c_{t-1} + i g      h_t = o tanh(c_t)
 * The input products of all steps are one sgemm (they do not depend on
 * h); only h_{t-1} W_hh^T runs step by step. Backward goes through the
 * steps in reverse keeping dh and dc, writes the gradient wrt the
 * pre-activations of every step into dgates (T, B, 4H), and then gets
 * dW_ih, dW_hh and the input gradient from one sgemm each over all steps.
 *
 * Matrices are row-major; each cblas call says its math beside it.
 */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lstm.h"
#include "rng.h"

/* Input width of layer l. */
static size_t layer_in(const struct shd_lstm_config *cfg, size_t l)
{
	return l == 0 ? cfg->n_in : cfg->n_hidden;
}

/*
 * cblas takes int sizes: every matrix dimension and leading dimension must
 * stay below INT_MAX, and so must the element count of every matrix, which
 * keeps the size_t arithmetic below far from overflow on 64-bit size_t.
 */
#define DIM_MAX ((size_t)INT_MAX)

size_t shd_lstm_params_size(const struct shd_lstm_config *cfg)
{
	size_t n = 0, H = cfg->n_hidden, In = cfg->n_in, K = cfg->n_out;
	size_t W = In > H ? In : H;

	if (!In || !H || !cfg->n_layers || !K ||
	    cfg->n_layers > SHD_LSTM_MAX_LAYERS)
		return 0;
	if (H > DIM_MAX / 4 / (W + 2) || K > DIM_MAX / (H + 1))
		return 0;
	for (size_t l = 0; l < cfg->n_layers; l++)
		n += 4 * H * (layer_in(cfg, l) + H + 2);
	return n + K * (H + 1);
}

void shd_lstm_params_point(struct shd_lstm_params *np,
			   const struct shd_lstm_config *cfg, float *base)
{
	size_t H = cfg->n_hidden;

	memset(np, 0, sizeof(*np));
	for (size_t l = 0; l < cfg->n_layers; l++) {
		np->layer[l].w_ih = base;
		base += 4 * H * layer_in(cfg, l);
		np->layer[l].w_hh = base;
		base += 4 * H * H;
		np->layer[l].b_ih = base;
		base += 4 * H;
		np->layer[l].b_hh = base;
		base += 4 * H;
	}
	np->head_w = base;
	base += cfg->n_out * H;
	np->head_b = base;
}

/* OpenBLAS keeps one thread count per process; set it only on change. */
static void use_threads(int n)
{
	if (openblas_get_num_threads() != n)
		openblas_set_num_threads(n);
}

void shd_lstm_set_threads(struct shd_lstm *m, int n)
{
	m->threads = n < 1 ? 1 : n;
	use_threads(m->threads);
}

int shd_lstm_init(struct shd_lstm *m, const struct shd_lstm_config *cfg,
		  uint64_t seed)
{
	size_t n = shd_lstm_params_size(cfg);
	struct shd_rng rng;
	float k;

	memset(m, 0, sizeof(*m));
	if (!n || n > SIZE_MAX / 4 / sizeof(float))
		return SHD_EINVAL;
	m->mem = calloc(4 * n, sizeof(float));
	if (!m->mem)
		return SHD_ENOMEM;
	m->cfg = *cfg;
	m->nparams = n;
	m->params = m->mem;
	m->grads = m->mem + n;
	m->adam_m = m->mem + 2 * n;
	m->adam_v = m->mem + 3 * n;
	shd_lstm_params_point(&m->p, cfg, m->params);
	shd_lstm_params_point(&m->g, cfg, m->grads);
	m->threads = 1;

	/* PyTorch: LSTM weights and biases U(-1/sqrt(H), 1/sqrt(H)); Linear
	 * weight kaiming_uniform(a=sqrt 5) and bias, both 1/sqrt(fan_in),
	 * and the head's fan_in is H: one bound for the whole vector */
	k = 1.0f / sqrtf((float)cfg->n_hidden);
	shd_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++)
		m->params[i] = shd_rng_rangef(&rng, -k, k);
	if (cfg->forget_bias) {
		for (size_t l = 0; l < cfg->n_layers; l++) {
			for (size_t j = 0; j < cfg->n_hidden; j++) {
				m->p.layer[l].b_ih[cfg->n_hidden + j] = 1.0f;
				m->p.layer[l].b_hh[cfg->n_hidden + j] = 0.0f;
			}
		}
	}
	return 0;
}

void shd_lstm_release(struct shd_lstm *m)
{
	free(m->mem);
	memset(m, 0, sizeof(*m));
}

int shd_lstm_cache_init(struct shd_lstm_cache *c,
			const struct shd_lstm_config *cfg)
{
	size_t T = cfg->max_steps, B = cfg->max_batch, H = cfg->n_hidden;
	size_t In = cfg->n_in, L = cfg->n_layers, W, n, wt;
	uint64_t per_layer, n64;
	float *p;

	memset(c, 0, sizeof(*c));
	if (!shd_lstm_params_size(cfg) || !T || !B)
		return SHD_EINVAL;
	/* the largest matrices are (T+1) B x 4H and T B x I */
	W = In > 4 * H ? In : 4 * H;
	if (T >= DIM_MAX / B || (T + 1) * B > DIM_MAX / W)
		return SHD_EINVAL;
	/* gates T B 4H, c and h (T+1) B H each, tc T B H: each term is below
	 * DIM_MAX, so the sums below fit 64 bits; size_t may be narrower */
	per_layer = 4 * H * T * B + 2 * H * (T + 1) * B + H * T * B;
	/* x, the layers, bias and dbias, dgates, dh_a and dh_b, dh and dc,
	 * wt: 4H max(In, H) for a layer's W^T, K H for the head's */
	wt = 4 * H * (In > H ? In : H);
	if (cfg->n_out * H > wt)
		wt = cfg->n_out * H;
	n64 = (uint64_t)T * B * In + (uint64_t)L * per_layer + 8 * H +
	      6 * (uint64_t)H * T * B + 2 * (uint64_t)B * H + wt;
	if (n64 > SIZE_MAX / sizeof(float))
		return SHD_EINVAL;
	n = (size_t)n64;
	c->mem = calloc(n, sizeof(float));
	if (!c->mem)
		return SHD_ENOMEM;
	c->cfg = *cfg;
	p = c->mem;
	c->x = p;
	p += T * B * cfg->n_in;
	for (size_t l = 0; l < cfg->n_layers; l++) {
		c->gates[l] = p;
		p += 4 * H * T * B;
		c->c[l] = p;
		p += H * (T + 1) * B;
		c->h[l] = p;
		p += H * (T + 1) * B;
		c->tc[l] = p;
		p += H * T * B;
	}
	c->bias = p;
	p += 4 * H;
	c->dbias = p;
	p += 4 * H;
	c->wt = p;
	p += wt;
	c->dgates = p;
	p += 4 * H * T * B;
	c->dh_a = p;
	p += H * T * B;
	c->dh_b = p;
	p += H * T * B;
	c->dh = p;
	p += B * H;
	c->dc = p;
	return 0;
}

void shd_lstm_cache_release(struct shd_lstm_cache *c)
{
	free(c->mem);
	memset(c, 0, sizeof(*c));
}

/*
 * e^x for the gates, inline. glibc's expf is accurate but a call: with the
 * spills around it, it was half of a training step at H = 64 (perf), and
 * tanhf, through expm1f, a quarter before that. This is Cephes' expf:
 * x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact n ln2),
 * a degree-7 polynomial for e^r, and 2^n put in the exponent bits; about 2
 * ulp. x is clamped to [-87, 88], where e^x stays a normal float, and a
 * NaN comes back as it came (the clamp alone would hide it).
 */
static inline float exp_fast(float x)
{
	float xc, n, r, p, s;
	int32_t k;

	xc = x > -87.0f ? x : -87.0f;	/* NaN goes to -87 here */
	xc = xc < 88.0f ? xc : 88.0f;
	/* n = round(x / ln2): adding 1.5 * 2^23 drops the fraction */
	n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
	r = xc - n * 0.693359375f;
	r = r + n * 2.12194440e-4f;
	p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	k = ((int32_t)n + 127) * (1 << 23);	/* n in [-126, 127] */
	memcpy(&s, &k, sizeof(s));
	return x == x ? p * s : x;
}

static inline float sigmoid_fast(float a)
{
	return 1.0f / (1.0f + exp_fast(-a));
}

/*
 * tanh(a) = 2 sigmoid(2a) - 1: one exp, and an absolute error of ~1e-7
 * (the rounding of 2/(1+e) near 1), which is what matters here: tanh
 * values are only multiplied and added, never divided by.
 */
static inline float tanh_fast(float a)
{
	return 2.0f / (1.0f + exp_fast(-2.0f * a)) - 1.0f;
}

/*
 * One step of the gates of one window, for units J to H-1: adds the bias
 * (4H) to the pre-activations ab (4H), applies the nonlinearities in place
 * (ab then holds i, f, g, o), and writes c_t, tanh(c_t) and h_t (H each)
 * from c_{t-1}. Returns H. The vector versions below do the same per lane
 * from unit 0 and return where they stopped.
 */
static size_t gates_scalar(float *ab, const float *bias, const float *cp,
			   float *cn, float *tn, float *hn, size_t j, size_t H)
{
	for (; j < H; j++) {
		float i = sigmoid_fast(ab[j] + bias[j]);
		float f = sigmoid_fast(ab[H + j] + bias[H + j]);
		float g = tanh_fast(ab[2 * H + j] + bias[2 * H + j]);
		float o = sigmoid_fast(ab[3 * H + j] + bias[3 * H + j]);
		float cc = f * cp[j] + i * g;
		float th = tanh_fast(cc);

		ab[j] = i;
		ab[H + j] = f;
		ab[2 * H + j] = g;
		ab[3 * H + j] = o;
		cn[j] = cc;
		tn[j] = th;
		hn[j] = o * th;
	}
	return H;
}

/*
 * The same on several floats at once, with GNU C vector types (GCC,
 * clang): the Makefile's -O2 does not vectorize these loops, and in scalar
 * code the gates were 60% of a training step (H = 64, perf). 4 lanes are
 * plain SSE2 on x86-64 (NEON on arm64); on x86 an 8-lane version compiled
 * for AVX2 is picked at run time when the CPU has it (forward a third
 * faster). Every lane does exactly the scalar operations (no FMA: ISO C
 * mode keeps -ffp-contract=off), so results do not depend on the path.
 *
 * VEC_FUNCS(P, VF, VI, ATTR) defines, for float vectors VF with int
 * vectors VI, compiled with ATTR: P##load, P##store, P##sel, P##exp,
 * P##sigmoid, P##tanh and P##gates (as gates_scalar). Vectors never cross
 * a function boundary of another target, so the x86 ABI is not an issue.
 */
#if defined(__GNUC__) && !defined(SHD_LSTM_SCALAR)
#define LSTM_VEC 1
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#if defined(__x86_64__) && !defined(SHD_LSTM_NO_AVX2)
#define LSTM_AVX2 1
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
#endif

#define SPLAT(VF, c) ((VF){ 0 } + (c))	/* c in every lane */

#define VEC_FUNCS(P, VF, VI, ATTR)                                            \
ATTR static inline VF P##load(const float *p)                                 \
{                                                                             \
	VF v;                                                                 \
                                                                              \
	memcpy(&v, p, sizeof(v));                                             \
	return v;                                                             \
}                                                                             \
                                                                              \
ATTR static inline void P##store(float *p, VF v)                              \
{                                                                             \
	memcpy(p, &v, sizeof(v));                                             \
}                                                                             \
                                                                              \
/* m ? a : b lane by lane, m all ones or all zeros */                         \
ATTR static inline VF P##sel(VI m, VF a, VF b)                                \
{                                                                             \
	return (VF)(((VI)a & m) | ((VI)b & ~m));                              \
}                                                                             \
                                                                              \
/* exp_fast on each lane */                                                   \
ATTR static inline VF P##exp(VF x)                                            \
{                                                                             \
	VF xc, n, r, p;                                                       \
	VI k;                                                                 \
                                                                              \
	xc = P##sel(x > -87.0f, x, SPLAT(VF, -87.0f));  /* NaN goes to -87 */ \
	xc = P##sel(xc < 88.0f, xc, SPLAT(VF, 88.0f));                        \
	n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;          \
	r = xc - n * 0.693359375f;                                            \
	r = r + n * 2.12194440e-4f;                                           \
	p = SPLAT(VF, 1.9875691500e-4f);                                      \
	p = p * r + 1.3981999507e-3f;                                         \
	p = p * r + 8.3334519073e-3f;                                         \
	p = p * r + 4.1665795894e-2f;                                         \
	p = p * r + 1.6666665459e-1f;                                         \
	p = p * r + 5.0000001201e-1f;                                         \
	p = p * r * r + r + 1.0f;                                             \
	k = (__builtin_convertvector(n, VI) + 127) * (1 << 23);               \
	return P##sel(x == x, p * (VF)k, x);                                  \
}                                                                             \
                                                                              \
ATTR static inline VF P##sigmoid(VF a)                                        \
{                                                                             \
	return 1.0f / (1.0f + P##exp(-a));                                    \
}                                                                             \
                                                                              \
ATTR static inline VF P##tanh(VF a)                                           \
{                                                                             \
	return 2.0f / (1.0f + P##exp(-2.0f * a)) - 1.0f;                      \
}                                                                             \
                                                                              \
ATTR static size_t P##gates(float *ab, const float *bias, const float *cp,    \
			    float *cn, float *tn, float *hn, size_t H)        \
{                                                                             \
	const size_t w = sizeof(VF) / sizeof(float);                          \
	size_t j = 0;                                                         \
                                                                              \
	for (; j + w <= H; j += w) {                                          \
		VF i = P##sigmoid(P##load(ab + j) + P##load(bias + j));       \
		VF f = P##sigmoid(P##load(ab + H + j) +                       \
				  P##load(bias + H + j));                     \
		VF g = P##tanh(P##load(ab + 2 * H + j) +                      \
			       P##load(bias + 2 * H + j));                    \
		VF o = P##sigmoid(P##load(ab + 3 * H + j) +                   \
				  P##load(bias + 3 * H + j));                 \
		VF cc = f * P##load(cp + j) + i * g;                          \
		VF th = P##tanh(cc);                                          \
                                                                              \
		P##store(ab + j, i);                                          \
		P##store(ab + H + j, f);                                      \
		P##store(ab + 2 * H + j, g);                                  \
		P##store(ab + 3 * H + j, o);                                  \
		P##store(cn + j, cc);                                         \
		P##store(tn + j, th);                                         \
		P##store(hn + j, o * th);                                     \
	}                                                                     \
	return j;                                                             \
}                                                                             \
                                                                              \
/* as gates_back_scalar */                                                    \
ATTR static size_t P##gates_back(float *dab, float *dcb, float *db,           \
				 const float *ab, const float *cpb,           \
				 const float *tb, const float *dhb, size_t H) \
{                                                                             \
	const size_t w = sizeof(VF) / sizeof(float);                          \
	size_t j = 0;                                                         \
                                                                              \
	for (; j + w <= H; j += w) {                                          \
		VF i = P##load(ab + j), f = P##load(ab + H + j);              \
		VF g = P##load(ab + 2 * H + j), o = P##load(ab + 3 * H + j);  \
		VF th = P##load(tb + j), dhv = P##load(dhb + j);              \
		VF dct = P##load(dcb + j) + dhv * o * (1.0f - th * th);       \
		VF di = dct * g * i * (1.0f - i);                             \
		VF df = dct * P##load(cpb + j) * f * (1.0f - f);              \
		VF dg = dct * i * (1.0f - g * g);                             \
		VF dO = dhv * th * o * (1.0f - o);                            \
                                                                              \
		P##store(dab + j, di);                                        \
		P##store(dab + H + j, df);                                    \
		P##store(dab + 2 * H + j, dg);                                \
		P##store(dab + 3 * H + j, dO);                                \
		P##store(dcb + j, dct * f);                                   \
		P##store(db + j, P##load(db + j) + di);                       \
		P##store(db + H + j, P##load(db + H + j) + df);               \
		P##store(db + 2 * H + j, P##load(db + 2 * H + j) + dg);       \
		P##store(db + 3 * H + j, P##load(db + 3 * H + j) + dO);       \
	}                                                                     \
	return j;                                                             \
}

VEC_FUNCS(v4, v4f, v4i, )
#ifdef LSTM_AVX2
VEC_FUNCS(v8, v8f, v8i, __attribute__((target("avx2"))))
VEC_FUNCS(v16, v16f, v16i, __attribute__((target("avx512f"))))
#endif
#endif

/*
 * Backward through the gates of one window at one step, units J to H-1:
 * from i, f, g, o (ab, 4H), c_{t-1} (cpb), tanh(c_t) (tb), dLoss/dh_t
 * (dhb) and dLoss/dc_t from later steps (dcb, then replaced by dLoss/dc_{t-1}
 * through this step), writes dLoss/da (dab, 4H) and adds it to db (4H),
 * the bias gradient. Returns H; the vector versions above do the same per
 * lane from unit 0 and return where they stopped.
 */
static size_t gates_back_scalar(float *dab, float *dcb, float *db,
				const float *ab, const float *cpb,
				const float *tb, const float *dhb, size_t j,
				size_t H)
{
	for (; j < H; j++) {
		float i = ab[j], f = ab[H + j];
		float g = ab[2 * H + j], o = ab[3 * H + j];
		float th = tb[j];
		float dct = dcb[j] + dhb[j] * o * (1.0f - th * th);

		dab[j] = dct * g * i * (1.0f - i);
		dab[H + j] = dct * cpb[j] * f * (1.0f - f);
		dab[2 * H + j] = dct * i * (1.0f - g * g);
		dab[3 * H + j] = dhb[j] * th * o * (1.0f - o);
		dcb[j] = dct * f;
		db[j] += dab[j];
		db[H + j] += dab[H + j];
		db[2 * H + j] += dab[2 * H + j];
		db[3 * H + j] += dab[3 * H + j];
	}
	return H;
}

/*
 * Matrix products. OpenBLAS 0.3.21 falls back to its Prescott (SSE3)
 * kernels on CPUs it does not know (lstm.h), and even its good kernels
 * spend much of a small product (B = 64 rows, 4H = 256 columns, H = 64
 * deep, once per step) in packing and dispatch. So on x86-64 with AVX2 and
 * FMA the products are done here, by a register-blocked kernel picked at
 * run time (AVX-512 when the CPU has it, else AVX2); elsewhere by cblas.
 *
 *   C(M, N) = [C +] sum_k A(m, k) B(k, n)
 *   A(m, k) = a[m sam + k sak]: row-major (sak = 1) or transposed (sam = 1)
 *   B (K, N) row-major, leading dimension ldb;  C row-major, ldc
 *   beta 0 overwrites C, 1 adds to it
 *
 * Every element of C is its own chain of fused multiply-adds in k order,
 * from 0 (or from C), one per term: no partial sums, no reassociation. So
 * the result is the same bits for any blocking and vector width (AVX-512
 * and AVX2 agree) on every run, and as accurate as a plain loop with fmaf.
 *
 * The kernel keeps an MM_MR x nv-vector block of C in registers, and per k
 * broadcasts MM_MR elements of A and loads nv vectors of B; a slice of B
 * MM_KC deep stays in cache across the row blocks. The last vector of a
 * row is masked when N is not a multiple of the width.
 */
#define MM_MR 6			/* rows of C per block */
#define MM_KC 256		/* depth of a slice */

static void gemm_blas(size_t M, size_t N, size_t K, const float *a,
		      size_t sam, size_t sak, const float *b, size_t ldb,
		      float *c, size_t ldc, int beta)
{
	if (sak == 1)		/* row-major A (M, K), lda = sam */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M,
			    (int)N, (int)K, 1.0f, a, (int)sam, b, (int)ldb,
			    beta ? 1.0f : 0.0f, c, (int)ldc);
	else			/* sam == 1: A stored (K, M), lda = sak */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M,
			    (int)N, (int)K, 1.0f, a, (int)sak, b, (int)ldb,
			    beta ? 1.0f : 0.0f, c, (int)ldc);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(SHD_LSTM_NO_AVX2)
#include <immintrin.h>
#define LSTM_MM 1

/*
 * MM_FUNCS(P, ATTR, VT, VL, NVMAX, MT, MK, LD, LDM, ST, STM, FMA, BC,
 * ZERO) defines P##gemm (as gemm_blas) for vectors VT of VL floats,
 * compiled with ATTR: MT a lane mask, MK(r) the mask of the first r lanes,
 * LD and ST whole vectors, LDM and STM masked ones (LDM zeroes the other
 * lanes), FMA(a, b, c) = a b + c fused, BC a broadcast, ZERO; blocks of up
 * to NVMAX (<= 4) vectors of columns. P##kern is inlined with constant
 * mr, nv and full, so its loops unroll and the accumulators stay in
 * registers.
 */
#define MM_FUNCS(P, ATTR, VT, VL, NVMAX, MT, MK, LD, LDM, ST, STM, FMA, BC,  \
		 ZERO)                                                        \
ATTR static inline __attribute__((always_inline)) void                        \
P##kern(const int mr, const int nv, const int full, size_t K,                 \
	const float *a, size_t sam, size_t sak, const float *b, size_t ldb,   \
	float *c, size_t ldc, size_t rem, int beta)                           \
{                                                                             \
	VT acc[MM_MR][4], bv[4];                                              \
	MT mk[4];                                                             \
                                                                              \
	_Pragma("GCC unroll 4")                                               \
	for (int v = 0; v < nv; v++)                                          \
		mk[v] = MK(rem - (size_t)v * VL);                             \
	_Pragma("GCC unroll 8")                                               \
	for (int i = 0; i < mr; i++) {                                        \
		_Pragma("GCC unroll 4")                                       \
		for (int v = 0; v < nv; v++) {                                \
			float *cp = c + (size_t)i * ldc + (size_t)v * VL;     \
                                                                              \
			acc[i][v] = !beta ? ZERO :                            \
				    full ? LD(cp) : LDM(cp, mk[v]);           \
		}                                                             \
	}                                                                     \
	for (size_t k = 0; k < K; k++) {                                      \
		const float *bk = b + k * ldb, *ak = a + k * sak;             \
                                                                              \
		_Pragma("GCC unroll 4")                                       \
		for (int v = 0; v < nv; v++)                                  \
			bv[v] = full ? LD(bk + v * VL) :                      \
				       LDM(bk + v * VL, mk[v]);               \
		_Pragma("GCC unroll 8")                                       \
		for (int i = 0; i < mr; i++) {                                \
			VT av = BC(ak[(size_t)i * sam]);                      \
                                                                              \
			_Pragma("GCC unroll 4")                               \
			for (int v = 0; v < nv; v++)                          \
				acc[i][v] = FMA(av, bv[v], acc[i][v]);        \
		}                                                             \
	}                                                                     \
	_Pragma("GCC unroll 8")                                               \
	for (int i = 0; i < mr; i++) {                                        \
		_Pragma("GCC unroll 4")                                       \
		for (int v = 0; v < nv; v++) {                                \
			float *cp = c + (size_t)i * ldc + (size_t)v * VL;     \
                                                                              \
			if (full)                                             \
				ST(cp, acc[i][v]);                            \
			else                                                  \
				STM(cp, mk[v], acc[i][v]);                    \
		}                                                             \
	}                                                                     \
}                                                                             \
                                                                              \
/* one block of mr rows: nv and full made constants */                        \
ATTR static inline __attribute__((always_inline)) void                        \
P##rows(const int mr, int nv, int full, size_t K, const float *a,             \
	size_t sam, size_t sak, const float *b, size_t ldb, float *c,         \
	size_t ldc, size_t rem, int beta)                                     \
{                                                                             \
	switch (nv * 2 + full) {                                              \
	case 2: P##kern(mr, 1, 0, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 3: P##kern(mr, 1, 1, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 4: P##kern(mr, 2, 0, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 5: P##kern(mr, 2, 1, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 6: if (NVMAX >= 3)                                               \
		P##kern(mr, 3, 0, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 7: if (NVMAX >= 3)                                               \
		P##kern(mr, 3, 1, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 8: if (NVMAX >= 4)                                               \
		P##kern(mr, 4, 0, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	case 9: if (NVMAX >= 4)                                               \
		P##kern(mr, 4, 1, K, a, sam, sak, b, ldb, c, ldc, rem, beta); \
		break;                                                        \
	}                                                                     \
}                                                                             \
                                                                              \
ATTR static void P##gemm(size_t M, size_t N, size_t K, const float *a,        \
			 size_t sam, size_t sak, const float *b, size_t ldb,  \
			 float *c, size_t ldc, int beta)                      \
{                                                                             \
	size_t k0 = 0;                                                        \
                                                                              \
	do {                                                                  \
		size_t kc = K - k0 < MM_KC ? K - k0 : MM_KC;                  \
		int bt = beta || k0 > 0;                                      \
		const float *ak = a + k0 * sak, *bk = b + k0 * ldb;           \
                                                                              \
		for (size_t n0 = 0; n0 < N; n0 += NVMAX * VL) {               \
			size_t rem = N - n0, m0 = 0;                          \
			int nv = rem >= NVMAX * VL ? NVMAX :                  \
				 (int)((rem + VL - 1) / VL);                  \
			int full = rem >= (size_t)nv * VL;                    \
			const float *bn = bk + n0;                            \
			float *cn = c + n0;                                   \
                                                                              \
			for (; m0 + MM_MR <= M; m0 += MM_MR)                  \
				P##rows(MM_MR, nv, full, kc, ak + m0 * sam,   \
					sam, sak, bn, ldb, cn + m0 * ldc,     \
					ldc, rem, bt);                        \
			switch (M - m0) {                                     \
			case 5: P##rows(5, nv, full, kc, ak + m0 * sam, sam,  \
					sak, bn, ldb, cn + m0 * ldc, ldc,     \
					rem, bt);                             \
				break;                                        \
			case 4: P##rows(4, nv, full, kc, ak + m0 * sam, sam,  \
					sak, bn, ldb, cn + m0 * ldc, ldc,     \
					rem, bt);                             \
				break;                                        \
			case 3: P##rows(3, nv, full, kc, ak + m0 * sam, sam,  \
					sak, bn, ldb, cn + m0 * ldc, ldc,     \
					rem, bt);                             \
				break;                                        \
			case 2: P##rows(2, nv, full, kc, ak + m0 * sam, sam,  \
					sak, bn, ldb, cn + m0 * ldc, ldc,     \
					rem, bt);                             \
				break;                                        \
			case 1: P##rows(1, nv, full, kc, ak + m0 * sam, sam,  \
					sak, bn, ldb, cn + m0 * ldc, ldc,     \
					rem, bt);                             \
				break;                                        \
			}                                                     \
		}                                                             \
		k0 += kc;                                                     \
	} while (k0 < K);                                                     \
}

#define Z_MK(r) ((r) >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (r)) - 1))
#define Z_LDM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define Z_STM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
MM_FUNCS(z16, __attribute__((target("avx512f"))), __m512, 16, 4, __mmask16,
	 Z_MK, _mm512_loadu_ps, Z_LDM, _mm512_storeu_ps, Z_STM,
	 _mm512_fmadd_ps, _mm512_set1_ps, _mm512_setzero_ps())

#define Y_MK(r) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)((r) > 8 ? 8 : (r))), \
				   _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define Y_LDM(p, m) _mm256_maskload_ps((p), (m))
#define Y_STM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
MM_FUNCS(y8, __attribute__((target("avx2,fma"))), __m256, 8, 2, __m256i,
	 Y_MK, _mm256_loadu_ps, Y_LDM, _mm256_storeu_ps, Y_STM,
	 _mm256_fmadd_ps, _mm256_set1_ps, _mm256_setzero_ps())
#endif

/*
 * Is OpenBLAS running one of its pre-AVX2 kernels? That is its fallback on
 * CPUs it does not recognise (Debian 12's OpenBLAS 0.3.21 takes newer Xeons
 * for a Prescott), and 5-8x slower on these shapes than the CPU allows.
 */
static int blas_is_fallback(void)
{
	static const char *const old[] = {
		"prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
		"northwood", "banias", "katmai", "coppermine", "opteron",
		"barcelona", "bobcat", "generic", "unknown", NULL,
	};
	const char *core = openblas_get_corename();

	if (!core)
		return 1;
	for (size_t k = 0; old[k]; k++)
		if (strcasecmp(core, old[k]) == 0)
			return 1;
	return 0;
}

/*
 * Which products: cblas_sgemm, unless OpenBLAS runs a fallback kernel on a
 * CPU with AVX2 + FMA (1) or AVX-512 (2); then the kernels above, which
 * reach the CPU's speed. The choice depends only on the machine.
 */
static int gemm_level(void)
{
#ifdef LSTM_MM
	if (!blas_is_fallback())
		return 0;
	if (__builtin_cpu_supports("avx512f"))
		return 2;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return 1;
#endif
	return 0;
}

/* C(M, N) [+]= A(M, K) B(K, N) as above, by the best kernel here. */
static void gemm(size_t M, size_t N, size_t K, const float *a, size_t sam,
		 size_t sak, const float *b, size_t ldb, float *c, size_t ldc,
		 int beta)
{
	switch (gemm_level()) {
#ifdef LSTM_MM
	case 2:
		z16gemm(M, N, K, a, sam, sak, b, ldb, c, ldc, beta);
		return;
	case 1:
		y8gemm(M, N, K, a, sam, sak, b, ldb, c, ldc, beta);
		return;
#endif
	default:
		gemm_blas(M, N, K, a, sam, sak, b, ldb, c, ldc, beta);
	}
}

/* dst (C, R) = src (R, C)^T */
static void transpose(float *dst, const float *src, size_t R, size_t Cn)
{
	for (size_t r = 0; r < R; r++)
		for (size_t j = 0; j < Cn; j++)
			dst[j * R + r] = src[r * Cn + j];
}

/*
 * One layer forward over all steps.
 *   h (T+1, B, H), c (T+1, B, H): block 0 is the zero initial state, block
 *     t+1 receives step t
 *   tc (T, B, H) tanh(c_t);  gates (T, B, 4H) i, f, g, o after nonlinearity
 *   x (T, B, In);  w_ih (4H, In);  w_hh (4H, H);  bias (4H) = b_ih + b_hh
 */
static void layer_forward(float *h, float *c, float *tc, float *gates,
			  float *wt, const float *x, const float *w_ih,
			  const float *w_hh, const float *bias, size_t T,
			  size_t B, size_t In, size_t H)
{
	size_t G = 4 * H;
#ifdef LSTM_AVX2
	int avx2 = __builtin_cpu_supports("avx2");
	int avx512 = __builtin_cpu_supports("avx512f");
#endif

	/* zeroed on every call: an earlier forward with a smaller B wrote
	 * its steps where this B's initial state lies */
	memset(h, 0, B * H * sizeof(float));
	memset(c, 0, B * H * sizeof(float));
	/* A(TB, 4H) = X(TB, In) W_ih(4H, In)^T, all steps at once; the bias
	 * is added in the gate loop. wt holds W^T (In, 4H), row-major */
	transpose(wt, w_ih, G, In);
	gemm(T * B, G, In, x, In, 1, wt, G, gates, G, 0);
	transpose(wt, w_hh, G, H);	/* W_hh^T (H, 4H) for all steps */
	for (size_t t = 0; t < T; t++) {
		float *a = gates + t * B * G;		/* (B, 4H) */
		const float *hp = h + t * B * H;	/* (B, H) h_{t-1} */
		const float *cp = c + t * B * H;	/* (B, H) c_{t-1} */
		float *hn = h + (t + 1) * B * H;	/* (B, H) h_t */
		float *cn = c + (t + 1) * B * H;	/* (B, H) c_t */
		float *tn = tc + t * B * H;		/* (B, H) */

		/* A_t(B, 4H) += H_{t-1}(B, H) W_hh(4H, H)^T; h_{-1} = 0 */
		if (t > 0)
			gemm(B, G, H, hp, H, 1, wt, G, a, G, 1);
		for (size_t b = 0; b < B; b++) {
			float *ab = a + b * G;
			size_t o = b * H, j = 0;

#ifdef LSTM_AVX2
			if (avx512)
				j = v16gates(ab, bias, cp + o, cn + o, tn + o,
					     hn + o, H);
			if (avx2 && j == 0)
				j = v8gates(ab, bias, cp + o, cn + o, tn + o,
					    hn + o, H);
#endif
#ifdef LSTM_VEC
			if (j == 0)
				j = v4gates(ab, bias, cp + o, cn + o, tn + o,
					    hn + o, H);
#endif
			gates_scalar(ab, bias, cp + o, cn + o, tn + o, hn + o,
				     j, H);
		}
	}
}

/*
 * One layer backward over all steps, the mirror of layer_forward.
 *   dx (T, B, In): gradient wrt the layer input, added to when ADD_DX,
 *     else overwritten; NULL to skip
 *   dw_ih (4H, In), dw_hh (4H, H), db_ih (4H), db_hh (4H): added to
 *   dgates (T, B, 4H): scratch, the gradient wrt the pre-activations
 *   db (4H), wt (In, 4H): scratch
 *   dh (B, H): in, dLoss/dh_{T-1} from outside the layer's own outputs
 *     (the head); scratch after.  dc (B, H): scratch
 *   dhout (T, B, H): dLoss/dh_t from the layer above, or NULL
 *   gates, c, h, tc, x, w_ih, w_hh: as in layer_forward
 */
static void layer_backward(float *dx, int add_dx, float *dw_ih, float *dw_hh,
			   float *db_ih, float *db_hh, float *dgates,
			   float *db, float *wt, float *dh, float *dc,
			   const float *dhout,
			   const float *gates, const float *c, const float *h,
			   const float *tc, const float *x, const float *w_ih,
			   const float *w_hh, size_t T, size_t B, size_t In,
			   size_t H)
{
	size_t G = 4 * H;
#ifdef LSTM_AVX2
	int avx2 = __builtin_cpu_supports("avx2");
	int avx512 = __builtin_cpu_supports("avx512f");
#endif

	memset(dc, 0, B * H * sizeof(float));
	memset(db, 0, G * sizeof(float));
	for (size_t t = T; t-- > 0;) {
		const float *a = gates + t * B * G;	/* (B, 4H) */
		const float *cp = c + t * B * H;	/* (B, H) c_{t-1} */
		const float *tn = tc + t * B * H;	/* (B, H) */
		float *da = dgates + t * B * G;		/* (B, 4H) */

		if (dhout) {
			const float *d = dhout + t * B * H;

			for (size_t r = 0; r < B * H; r++)
				dh[r] += d[r];
		}
		for (size_t b = 0; b < B; b++) {
			const float *ab = a + b * G;
			const float *cpb = cp + b * H, *tb = tn + b * H;
			float *dab = da + b * G;
			float *dhb = dh + b * H, *dcb = dc + b * H;

			size_t j = 0;

#ifdef LSTM_AVX2
			if (avx512)
				j = v16gates_back(dab, dcb, db, ab, cpb, tb,
						  dhb, H);
			if (avx2 && j == 0)
				j = v8gates_back(dab, dcb, db, ab, cpb, tb,
						 dhb, H);
#endif
#ifdef LSTM_VEC
			if (j == 0)
				j = v4gates_back(dab, dcb, db, ab, cpb, tb,
						 dhb, H);
#endif
			gates_back_scalar(dab, dcb, db, ab, cpb, tb, dhb, j,
					  H);
		}
		/* dH_{t-1}(B, H) = dA_t(B, 4H) W_hh(4H, H) */
		if (t > 0)
			gemm(B, H, G, da, G, 1, w_hh, H, dh, H, 0);
	}
	/* dW_ih(4H, In) += dA(TB, 4H)^T X(TB, In), all steps; a narrow
	 * input (layer 0) makes rows of 4H, not In, for the vector kernel:
	 * wt(In, 4H) = X^T dA, then added transposed */
	if (In < 32) {
		gemm(In, G, T * B, x, 1, In, dgates, G, wt, G, 0);
		for (size_t g = 0; g < G; g++)
			for (size_t i = 0; i < In; i++)
				dw_ih[g * In + i] += wt[i * G + g];
	} else {
		gemm(G, In, T * B, dgates, 1, G, x, In, dw_ih, In, 1);
	}
	/* dW_hh(4H, H) += dA_{1..T-1}((T-1)B, 4H)^T H_{0..T-2}((T-1)B, H);
	 * step 0 has h_{-1} = 0 and adds nothing */
	if (T > 1)
		gemm(G, H, (T - 1) * B, dgates + B * G, 1, G, h + B * H, H,
		     dw_hh, H, 1);
	/* db(4H), the column sums of dA(TB, 4H) summed in the step loop,
	 * goes to both biases */
	for (size_t j = 0; j < G; j++) {
		db_ih[j] += db[j];
		db_hh[j] += db[j];
	}
	/* dX(TB, In) (+)= dA(TB, 4H) W_ih(4H, In) */
	if (dx)
		gemm(T * B, In, G, dgates, G, 1, w_ih, In, dx, In, add_dx);
}

/*
 * The head: y(B, K) = h(B, H) W(K, H)^T + b(K), and its backward adding to
 * dW, db and writing dh(B, H).
 */
static void head_forward(float *y, float *wt, const float *h,
			 const float *w, const float *bias, size_t B, size_t H,
			 size_t K)
{
	for (size_t b = 0; b < B; b++)
		memcpy(y + b * K, bias, K * sizeof(float));
	/* Y(B, K) += H(B, H) W(K, H)^T, with wt = W^T (H, K) */
	transpose(wt, w, K, H);
	gemm(B, K, H, h, H, 1, wt, K, y, K, 1);
}

static void head_backward(float *dh, float *dw, float *db, const float *dy,
			  const float *h, const float *w, size_t B, size_t H,
			  size_t K)
{
	/* dW(K, H) += dY(B, K)^T H(B, H) */
	gemm(K, H, B, dy, 1, K, h, H, dw, H, 1);
	for (size_t b = 0; b < B; b++)
		for (size_t k = 0; k < K; k++)
			db[k] += dy[b * K + k];
	/* dH(B, H) = dY(B, K) W(K, H) */
	gemm(B, H, K, dy, K, 1, w, H, dh, H, 0);
}

int shd_lstm_forward(const struct shd_lstm *m, struct shd_lstm_cache *c,
		     const float *x, size_t T, size_t B, float *y)
{
	const struct shd_lstm_config *cfg = &m->cfg;
	size_t H = cfg->n_hidden;
	const float *in = c->x;	/* (T, B, In) input of the layer at hand */

	if (!T || !B || T > c->cfg.max_steps || B > c->cfg.max_batch ||
	    c->cfg.n_in != cfg->n_in || c->cfg.n_hidden != H ||
	    c->cfg.n_layers != cfg->n_layers || c->cfg.n_out != cfg->n_out)
		return SHD_EINVAL;
	use_threads(m->threads);
	memcpy(c->x, x, T * B * cfg->n_in * sizeof(float));
	for (size_t l = 0; l < cfg->n_layers; l++) {
		for (size_t j = 0; j < 4 * H; j++)
			c->bias[j] = m->p.layer[l].b_ih[j] +
				     m->p.layer[l].b_hh[j];
		layer_forward(c->h[l], c->c[l], c->tc[l], c->gates[l], c->wt,
			      in,
			      m->p.layer[l].w_ih, m->p.layer[l].w_hh, c->bias,
			      T, B, layer_in(cfg, l), H);
		in = c->h[l] + B * H;	/* h_0 .. h_{T-1}: (T, B, H) */
	}
	head_forward(y, c->wt, c->h[cfg->n_layers - 1] + T * B * H,
		     m->p.head_w, m->p.head_b, B, H, cfg->n_out);
	c->T = T;
	c->B = B;
	return 0;
}

int shd_lstm_backward(struct shd_lstm *m, struct shd_lstm_cache *c,
		      const float *dy, size_t T, size_t B, float *dx)
{
	const struct shd_lstm_config *cfg = &m->cfg;
	size_t H = cfg->n_hidden, L = cfg->n_layers;
	float *dhout = NULL;	/* (T, B, H) from the layer above */
	float *dhin = c->dh_a;	/* (T, B, H) to the layer below */

	if (!T || T != c->T || B != c->B)
		return SHD_EINVAL;
	use_threads(m->threads);
	head_backward(c->dh, m->g.head_w, m->g.head_b, dy,
		      c->h[L - 1] + T * B * H, m->p.head_w, B, H, cfg->n_out);
	for (size_t l = L; l-- > 0;) {
		const float *in = l ? c->h[l - 1] + B * H : c->x;
		float *d = l ? dhin : dx;

		if (l != L - 1)	/* only the top layer feeds the head */
			memset(c->dh, 0, B * H * sizeof(float));
		layer_backward(d, l == 0, m->g.layer[l].w_ih, m->g.layer[l].w_hh,
			       m->g.layer[l].b_ih, m->g.layer[l].b_hh,
			       c->dgates, c->dbias, c->wt, c->dh, c->dc,
			       dhout, c->gates[l],
			       c->c[l], c->h[l], c->tc[l], in,
			       m->p.layer[l].w_ih, m->p.layer[l].w_hh, T, B,
			       layer_in(cfg, l), H);
		dhout = dhin;
		dhin = dhin == c->dh_a ? c->dh_b : c->dh_a;
	}
	return 0;
}

void shd_lstm_zero_grad(struct shd_lstm *m)
{
	memset(m->grads, 0, m->nparams * sizeof(float));
}

double shd_adam_step(struct shd_lstm *m, float lr, float beta1, float beta2,
		     float eps, float wd, float clip)
{
	size_t n = m->nparams;
	double ss = 0.0, norm;
	float scale = 1.0f, bc1, bc2;

	for (size_t i = 0; i < n; i++)
		ss += (double)m->grads[i] * m->grads[i];
	norm = sqrt(ss);
	if (!isfinite(norm))	/* one bad step would ruin the moments */
		return norm;
	if (clip > 0.0f && norm > clip)
		scale = (float)(clip / norm);
	m->step++;
	bc1 = (float)(1.0 - pow(beta1, (double)m->step));
	bc2 = (float)(1.0 - pow(beta2, (double)m->step));
	for (size_t i = 0; i < n; i++) {
		float g = m->grads[i] * scale;
		float mi = beta1 * m->adam_m[i] + (1.0f - beta1) * g;
		float vi = beta2 * m->adam_v[i] + (1.0f - beta2) * g * g;
		float mh = mi / bc1, vh = vi / bc2;

		m->adam_m[i] = mi;
		m->adam_v[i] = vi;
		m->params[i] -= lr * (wd * m->params[i] +
				      mh / (sqrtf(vh) + eps));
	}
	return norm;
}

double shd_lstm_mse(const float *y, const float *target,
		    const unsigned char *mask, size_t n, float *dy,
		    size_t *count)
{
	double sum = 0.0;
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++) {
		if ((!mask || mask[i]) && !isnan(target[i])) {
			double d = (double)y[i] - target[i];

			sum += d * d;
			cnt++;
		}
	}
	if (dy) {
		for (size_t i = 0; i < n; i++) {
			if ((!mask || mask[i]) && !isnan(target[i]))
				dy[i] = (float)(2.0 * ((double)y[i] -
						       target[i]) / (double)cnt);
			else
				dy[i] = 0.0f;
		}
	}
	if (count)
		*count = cnt;
	return cnt ? sum / (double)cnt : 0.0;
}
