/*
 * train.c - shd_train: a panel in, a model out (see model.h for the
 * picture and train.h for the split).
 *
 *   1. per series: robust scale, MASE scale and an autoregression on the
 *      training part;
 *   2. the network(s): head zeroed, so they start as the autoregression;
 *      mini-batches of training windows, masked MSE on the correction in
 *      units of scale, Adam, early stopping on the validation loss with
 *      the best weights kept;
 *   3. per series and method, the validation MASE; a more complex method
 *      (last < ar < lstm) is chosen only when its advantage is
 *      significant (Diebold-Mariano); seasonal naive must win by 10%;
 *   4. per series, method and step, split-conformal half-widths: the
 *      larger of those of the validation and of the calibration
 *      residuals (each pooled over the metric's series when a series has
 *      too few).
 *
 * Dimensions: R resources, M metrics, S = R M series, H horizon steps,
 * T lookback steps, I inputs per step, K = M H outputs, B batch,
 * NM = SHD_M_COUNT methods.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "forecast.h"
#include "model.h"
#include "rng.h"
#include "train.h"
#include "window.h"

#define NM SHD_M_COUNT
#define MIN_EXTRA 8		/* windows a part needs beyond the horizon */
#define MIN_CAL 30		/* residuals a series needs of its own */
#define HUBER 1.0		/* the loss is quadratic up to this error, in
				 * units of the series' MASE scale */

enum { PART_TRAIN, PART_VAL, PART_CAL };

/* A window: resource r, origin t. */
struct win {
	size_t r, t;
};

struct trainer {
	const struct shd_panel *p;
	const struct shd_train_opts *o;
	struct shd_model *m;
	struct shd_train_report *rep;
	shd_train_progress_fn progress;
	void *ctx;
	size_t R, M, H, T, I, K, B;
	size_t *bound;		/* (R, 2): end of training, of validation */
	struct shd_rng rng;
	/* scratch of one batch, sized once */
	struct shd_lstm_cache cache;
	float *x;		/* (T, B, I) */
	float *y;		/* (B, K) network output */
	float *tgt;		/* (B, K) */
	float *maskf;		/* (K) */
	unsigned char *mask;	/* (B, K) */
	float *wt;		/* (B, K) scale / mase_scale of the series */
	float *dy;		/* (B, K) */
	double *base;		/* (B, K) autoregression, series units */
	double *pred;		/* (NM, H) one series' forecasts */
	/* timing */
	double t_start, t_last_progress;
	double train_time;
	size_t train_seen;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(struct trainer *tr, int rc, const char *fmt, ...)
{
	va_list ap;

	if (tr->rep) {
		va_start(ap, fmt);
		vsnprintf(tr->rep->err, sizeof(tr->rep->err), fmt, ap);
		va_end(ap);
	}
	return rc;
}

void shd_train_opts_init(struct shd_train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->lookback = 48;
	o->horizon = 0;
	o->hidden = 32;
	o->layers = 1;
	o->batch = 64;
	o->epochs = 20;
	o->patience = 3;
	o->ar_p = 32;
	o->max_windows = 100000;
	o->max_eval = 50000;
	o->lr = 1e-3;
	o->wd = 0;
	o->clip = 1.0;
	o->ridge = 1e-3;
	o->huber = 0.5;
	o->coverage = 0.9;
	o->split_train = 0.7;
	o->split_val = 0.15;
	o->seed = 1;
	o->threads = 1;
}

/* ------------------------------------------------------------- the split */

static void split(const struct shd_train_opts *o, size_t n, size_t *ntr,
		  size_t *nva)
{
	*ntr = (size_t)floor((double)n * o->split_train);
	*nva = (size_t)floor((double)n * o->split_val);
	if (*ntr + *nva > n)
		*nva = n - *ntr;
}

int shd_train_long_enough(const struct shd_train_opts *o, size_t n,
			   size_t T, size_t H)
{
	size_t ntr, nva;

	split(o, n, &ntr, &nva);
	return ntr >= T + H + MIN_EXTRA && nva >= H + MIN_EXTRA &&
	       n - ntr - nva >= H + MIN_EXTRA;
}

size_t shd_train_min_samples(const struct shd_train_opts *o, size_t T,
			     size_t H)
{
	/*
	 * Training and validation grow with n (floors of fixed fractions);
	 * calibration, n minus both, may drop by 1 or 2 as n grows, but
	 * stays within 2 of (1 - a - b) n, so a run of long enough n that
	 * spans 2 / (1 - a - b) + 1 values has every longer n long enough.
	 */
	double c = 1 - o->split_train - o->split_val, lo;
	size_t run, ok = 0;

	if (!(o->split_train > 0 && o->split_val > 0 && c > 1e-9))
		return SIZE_MAX;	/* (next to) no calibration part */
	run = (size_t)ceil(2 / c) + 1;
	/* no fewer: training <= a n, validation <= b n, calibration
	 * <= c n + 2 */
	lo = fmax((double)(T + H + MIN_EXTRA) / o->split_train,
		  (double)(H + MIN_EXTRA) / o->split_val);
	lo = fmax(lo, ((double)(H + MIN_EXTRA) - 2) / c);
	if (!(lo < 1e15))
		return SIZE_MAX;
	for (size_t n = lo > 1 ? (size_t)lo - 1 : 0;; n++) {
		ok = shd_train_long_enough(o, n, T, H) ? ok + 1 : 0;
		if (ok > run)
			return n - run;
	}
}

/* [a, b) of part PART of resource R. */
static void part_range(const struct trainer *tr, size_t r, int part,
		       size_t *a, size_t *b)
{
	size_t n = tr->p->series[r].n;
	size_t e1 = tr->bound[2 * r], e2 = tr->bound[2 * r + 1];

	*a = part == PART_TRAIN ? 0 : part == PART_VAL ? e1 : e2;
	*b = part == PART_TRAIN ? e1 : part == PART_VAL ? e2 : n;
}

/*
 * Is origin T of resource R a window of the part ending at END: some
 * metric has a value within the lookback (to forecast from) and a known
 * target t+h < END?
 */
static int win_ok(const struct trainer *tr, size_t r, size_t t, size_t end)
{
	const struct shd_pseries *s = &tr->p->series[r];

	for (size_t m = 0; m < tr->M; m++) {
		const double *xm = s->x + m * s->n;
		if (isnan(shd_window_ref(s, m, t, tr->T)))
			continue;
		for (size_t h = 1; h <= tr->H && t + h < end; h++)
			if (!isnan(xm[t + h]))
				return 1;
	}
	return 0;
}

/*
 * Does a known event of resource R (or of every resource) fall in the
 * slots whose targets window (R, T) counts: t+1 .. t+H, before END?
 */
static int win_event(const struct trainer *tr, size_t r, size_t t,
		     size_t end)
{
	const struct shd_pseries *s = &tr->p->series[r];
	int64_t step = tr->p->step, o = s->t0 + (int64_t)t * step;
	size_t last = t + tr->H < end ? t + tr->H : end - 1;

	return tr->o->events && tr->o->events->n &&
	       shd_events_any(tr->o->events, s->key, o + step,
			      o + (int64_t)(last - t + 1) * step);
}

/* 1 when origin T of R is a window of the part ending at END; 2 when it
 * would be but for a known event; 0 when not. */
static int win_use(const struct trainer *tr, size_t r, size_t t, size_t end)
{
	if (!win_ok(tr, r, t, end))
		return 0;
	return win_event(tr, r, t, end) ? 2 : 1;
}

/*
 * The windows of PART for resources [R0, R1) into *OUT (allocated here):
 * all of them when they are at most CAP; else CAP drawn uniformly with
 * the RNG (RANDOM), or every k-th (not RANDOM). In resource and time order.
 * *LEFT: how many were left out for a known event.
 */
static int windows(struct trainer *tr, int part, size_t r0, size_t r1,
		   size_t cap, int random, struct win **out, size_t *nout,
		   size_t *left)
{
	size_t total = 0, want, k = 0, i = 0, stride = 1;

	*out = NULL;
	*nout = 0;
	*left = 0;
	for (size_t r = r0; r < r1; r++) {
		size_t a, b;
		part_range(tr, r, part, &a, &b);
		for (size_t t = a ? a - 1 : 0; t + 1 < b; t++) {
			int u = win_use(tr, r, t, b);
			total += u == 1;
			*left += u == 2;
		}
	}
	if (!total)
		return 0;
	if (cap == 0)
		cap = 1;
	want = total < cap ? total : cap;
	if (!random)
		stride = (total + cap - 1) / cap;
	struct win *w = malloc(want * sizeof(*w));
	if (!w)
		return SHD_ENOMEM;
	for (size_t r = r0; r < r1 && k < want; r++) {
		size_t a, b;
		part_range(tr, r, part, &a, &b);
		for (size_t t = a ? a - 1 : 0; t + 1 < b && k < want; t++) {
			if (win_use(tr, r, t, b) != 1)
				continue;
			int take;
			if (random)	/* selection sampling, Knuth's S */
				take = shd_rng_below(&tr->rng, total - i) <
				       want - k;
			else
				take = i % stride == 0;
			i++;
			if (take)
				w[k++] = (struct win){ r, t };
		}
	}
	*out = w;
	*nout = k;
	return 0;
}

/* ----------------------------------------------------------- batches */

/*
 * Fills x, base, tgt and mask for the NB windows W of PART (targets past
 * the part's end are masked). Returns the count of known targets.
 */
static size_t fill_batch(struct trainer *tr, const struct win *w, size_t nb,
			 int part)
{
	const struct shd_model *m = tr->m;
	size_t M = tr->M, H = tr->H, K = tr->K, known = 0;

	for (size_t b = 0; b < nb; b++) {
		const struct shd_pseries *s = &tr->p->series[w[b].r];
		const struct shd_mseries *ser = &m->ser[w[b].r * M];
		size_t t = w[b].t, a, end;
		float *tg = tr->tgt + b * K;
		unsigned char *mk = tr->mask + b * K;

		part_range(tr, w[b].r, part, &a, &end);
		shd_window_inputs(tr->x, nb, b, s, M, ser, t, tr->T, H, m->day,
				  m->week, tr->p->step);
		shd_window_base(tr->base + b * K, s, M, ser, t, H);
		shd_window_targets(tg, tr->maskf, s, M, ser, tr->base + b * K,
				   t, H);
		for (size_t k = 0; k < K; k++) {
			size_t h = k % H + 1;
			tr->wt[b * K + k] = ser[k / H].mase_scale > 0 ?
				(float)(ser[k / H].scale / ser[k / H].mase_scale) :
				1.0f;
			if (!(tr->wt[b * K + k] >= 1e-3f && tr->wt[b * K + k] <= 1e3f))
				tr->wt[b * K + k] = tr->wt[b * K + k] > 1e3f ?
						    1e3f : 1e-3f;
			if (t + h >= end) {
				tg[k] = 0;
				tr->maskf[k] = 0;
			}
			mk[k] = tr->maskf[k] != 0;
			known += mk[k];
		}
	}
	return known;
}

/*
 * The loss of the batch (N = B K outputs): errors e = (y - target) * wt,
 * in units of each series' MASE scale, where MASK is set; Huber's loss of
 * e (quadratic within HUBER, linear beyond), so that the bursts of a spiky
 * series do not drown the rest, and training aims where the choice of a
 * method (validation MASE) looks. When DY is not NULL, it receives the
 * gradient of the mean. Returns the mean loss (0 when nothing counts);
 * *COUNT the outputs that count, *ABS the sum of |e|.
 */
static double batch_loss(const struct trainer *tr, size_t n, float *dy,
			 size_t *count, double *abs_)
{
	double sum = 0, sa = 0;
	size_t c = 0;

	for (size_t i = 0; i < n; i++) {
		if (!tr->mask[i])
			continue;
		double e = ((double)tr->y[i] - tr->tgt[i]) * tr->wt[i];
		double a = fabs(e);
		sum += a <= HUBER ? 0.5 * e * e : HUBER * (a - 0.5 * HUBER);
		sa += a;
		c++;
	}
	if (dy)
		for (size_t i = 0; i < n; i++) {
			double e = ((double)tr->y[i] - tr->tgt[i]) * tr->wt[i];
			double g = e > HUBER ? HUBER : e < -HUBER ? -HUBER : e;
			dy[i] = tr->mask[i] ? (float)(g * tr->wt[i] / (double)c)
					    : 0.0f;
		}
	*count = c;
	if (abs_)
		*abs_ = sa;
	return c ? sum / (double)c : 0;
}

/*
 * The validation loss of NET over windows W: the mean absolute error of
 * its forecasts in units of each series' MASE scale.
 */
static int val_loss(struct trainer *tr, const struct shd_lstm *net,
		    const struct win *w, size_t n, double *loss)
{
	double sum = 0;
	size_t cnt = 0;

	for (size_t i = 0; i < n; i += tr->B) {
		size_t nb = n - i < tr->B ? n - i : tr->B, c;
		fill_batch(tr, w + i, nb, PART_VAL);
		int rc = shd_lstm_forward(net, &tr->cache, tr->x, tr->T, nb,
					  tr->y);
		if (rc)
			return rc;
		double sa;
		batch_loss(tr, nb * tr->K, NULL, &c, &sa);
		sum += sa;
		cnt += c;
	}
	*loss = cnt ? sum / (double)cnt : NAN;
	return 0;
}

static void report_progress(struct trainer *tr, struct shd_train_progress *pr,
			    int force)
{
	double t = now_s();

	if (!tr->progress || (!force && t - tr->t_last_progress < 0.25))
		return;
	tr->t_last_progress = t;
	pr->elapsed = t - tr->t_start;
	pr->windows_per_s = tr->train_time > 0 ?
			    (double)tr->train_seen / tr->train_time : NAN;
	/* what is left if no early stop: this net, then as many per net */
	double left_w = (double)(pr->total - pr->done) +
			(double)(pr->epochs - pr->epoch) * (double)pr->total +
			(double)(pr->nnet - pr->net - 1) *
			(double)pr->epochs * (double)pr->total;
	pr->left = pr->windows_per_s > 0 ? left_w / pr->windows_per_s : NAN;
	tr->progress(tr->ctx, pr);
}

/*
 * Trains network NI (resources [R0, R1)) with early stopping; leaves the
 * best weights in it.
 */
static int train_net(struct trainer *tr, size_t ni, size_t r0, size_t r1,
		     double *loss_start, double *loss_best, size_t *epochs_run,
		     size_t *best_epoch)
{
	const struct shd_train_opts *o = tr->o;
	struct shd_lstm *net = &tr->m->net[ni];
	struct win *tw = NULL, *vw = NULL;
	size_t ntw, nvw, bad = 0, ltw, lvw;
	float *best = NULL;
	double best_loss;
	int rc;

	*epochs_run = *best_epoch = 0;
	*loss_start = *loss_best = NAN;
	if ((rc = windows(tr, PART_TRAIN, r0, r1, o->max_windows, 1, &tw,
			  &ntw, &ltw)) ||
	    (rc = windows(tr, PART_VAL, r0, r1, o->max_eval, 0, &vw, &nvw,
			  &lvw)))
		goto out;
	tr->rep->train_windows += ntw;
	tr->rep->val_windows += nvw;
	tr->rep->train_events += ltw;
	tr->rep->val_events += lvw;
	best = malloc(net->nparams * sizeof(*best));
	if (!best) {
		rc = SHD_ENOMEM;
		goto out;
	}
	memcpy(best, net->params, net->nparams * sizeof(*best));
	if ((rc = val_loss(tr, net, vw, nvw, &best_loss)))
		goto out;
	*loss_start = *loss_best = best_loss;
	if (!ntw || !nvw)
		goto out;	/* nothing to learn, or to judge it by */

	struct shd_train_progress pr = {
		.net = ni, .nnet = tr->m->nnet, .epochs = o->epochs,
		.total = ntw, .val_loss = best_loss,
	};
	for (size_t ep = 1; ep <= o->epochs; ep++) {
		double sum = 0;
		size_t cnt = 0;

		/* shuffle the training windows only (Fisher-Yates) */
		for (size_t i = ntw - 1; i > 0; i--) {
			size_t j = (size_t)shd_rng_below(&tr->rng, i + 1);
			struct win tmp = tw[i];
			tw[i] = tw[j];
			tw[j] = tmp;
		}
		pr.epoch = ep;
		for (size_t i = 0; i < ntw; i += tr->B) {
			size_t nb = ntw - i < tr->B ? ntw - i : tr->B, c;
			double t0 = now_s();
			fill_batch(tr, tw + i, nb, PART_TRAIN);
			if ((rc = shd_lstm_forward(net, &tr->cache, tr->x,
						   tr->T, nb, tr->y)))
				goto out;
			double l = batch_loss(tr, nb * tr->K, tr->dy, &c,
					      NULL);
			if (c) {
				shd_lstm_zero_grad(net);
				if ((rc = shd_lstm_backward(net, &tr->cache,
							    tr->dy, tr->T, nb,
							    NULL)))
					goto out;
				double g = shd_adam_step(net, (float)o->lr,
							 0.9f, 0.999f, 1e-8f,
							 (float)o->wd,
							 (float)o->clip);
				if (!isfinite(g)) {
					rc = fail(tr, SHD_ENUMERIC, "training "
						  "diverged (gradient %g) "
						  "(hint: a smaller --lr)", g);
					goto out;
				}
				sum += l * (double)c;
				cnt += c;
			}
			tr->train_time += now_s() - t0;
			tr->train_seen += nb;
			pr.done = i + nb;
			pr.loss = cnt ? sum / (double)cnt : NAN;
			report_progress(tr, &pr, 0);
		}
		double vl;
		if ((rc = val_loss(tr, net, vw, nvw, &vl)))
			goto out;
		*epochs_run = ep;
		pr.val_loss = vl;
		report_progress(tr, &pr, 1);
		if (vl < best_loss) {
			best_loss = vl;
			*best_epoch = ep;
			memcpy(best, net->params, net->nparams * sizeof(*best));
			bad = 0;
		} else if (!isfinite(vl) || ++bad >= o->patience) {
			break;
		}
	}
	memcpy(net->params, best, net->nparams * sizeof(*best));
	*loss_best = best_loss;
out:
	free(best);
	free(tw);
	free(vw);
	return rc;
}

/* ------------------------------------------------- methods and errors */

/* Can series (r, m) use season P (n_train holds one)? */
static int has_season(const struct trainer *tr, size_t r, size_t P)
{
	return P && tr->bound[2 * r] >= P;
}

/*
 * The forecasts of every method for metric M of window slot B (after a
 * forward pass): PRED (NM, H), NaN where a method has none (lstm for a
 * resource without a network).
 */
static void forecasts(struct trainer *tr, const struct win *w, size_t b,
		      size_t m)
{
	const struct shd_pseries *s = &tr->p->series[w->r];
	const struct shd_mseries *ser = &tr->m->ser[w->r * tr->M + m];
	const double *xm = s->x + m * s->n;
	size_t H = tr->H;
	double *pr = tr->pred;
	int net = shd_model_net(tr->m, w->r) != NULL;

	for (size_t h = 0; h < H; h++) {
		double base = tr->base[b * tr->K + m * H + h];
		pr[SHD_M_AR * H + h] = base;
		pr[SHD_M_LSTM * H + h] = net ? base + shd_mseries_clamp(ser,
			(double)tr->y[b * tr->K + m * H + h]) * ser->scale :
			NAN;
	}
	shd_last_value(pr + SHD_M_LAST * H, xm, w->t, H);
	if (has_season(tr, w->r, tr->m->day))
		shd_seasonal_naive(pr + SHD_M_SNAIVE_DAY * H, xm, w->t, H,
				   tr->m->day);
	else
		for (size_t h = 0; h < H; h++)
			pr[SHD_M_SNAIVE_DAY * H + h] = NAN;
	if (has_season(tr, w->r, tr->m->week))
		shd_seasonal_naive(pr + SHD_M_SNAIVE_WEEK * H, xm, w->t, H,
				   tr->m->week);
	else
		for (size_t h = 0; h < H; h++)
			pr[SHD_M_SNAIVE_WEEK * H + h] = NAN;
}

/* The network of resource R, or NULL (shd_train_extend: none). */
static const struct shd_lstm *net_of(const struct trainer *tr, size_t r)
{
	return shd_model_net(tr->m, r);
}

/*
 * Runs windows W (N, ordered by resource) of PART through the networks and
 * the baselines: RES (N, M, NM, H) gets |error| / scale (NaN when there is
 * none).
 */
static int evaluate(struct trainer *tr, const struct win *w, size_t n,
		    int part, float *res)
{
	size_t M = tr->M, H = tr->H;

	for (size_t i = 0; i < n;) {
		/* a batch of windows that share a network */
		size_t nb = 1;
		const struct shd_lstm *net = net_of(tr, w[i].r);
		while (i + nb < n && nb < tr->B && net_of(tr, w[i + nb].r) == net)
			nb++;
		fill_batch(tr, w + i, nb, part);
		int rc = net ? shd_lstm_forward(net, &tr->cache, tr->x, tr->T,
						nb, tr->y) : 0;
		if (rc)
			return rc;
		for (size_t b = 0; b < nb; b++) {
			const struct win *wb = &w[i + b];
			const struct shd_pseries *s = &tr->p->series[wb->r];
			size_t a, end;
			part_range(tr, wb->r, part, &a, &end);
			for (size_t m = 0; m < M; m++) {
				const double *xm = s->x + m * s->n;
				struct shd_mseries *ser = &tr->m->ser[wb->r * M + m];
				double scale = ser->scale;
				float *rr = res + ((i + b) * M + m) * NM * H;
				/* validation sets the range it is then
				 * clamped to: no clamp here */
				for (size_t h = 0; net && part == PART_VAL &&
				     h < H; h++) {
					double y = tr->y[b * tr->K + m * H + h];
					ser->yrange[0] = fmin(ser->yrange[0], y);
					ser->yrange[1] = fmax(ser->yrange[1], y);
				}
				forecasts(tr, wb, b, m);
				for (size_t k = 0; k < NM; k++)
					for (size_t h = 1; h <= H; h++) {
						double v = wb->t + h < end ?
							   xm[wb->t + h] : NAN;
						double e = fabs(v -
							tr->pred[k * H + h - 1]);
						rr[k * H + h - 1] = (float)(e / scale);
					}
			}
		}
		i += nb;
	}
	return 0;
}

/*
 * Leaving a simpler method for a more complex one on the strength of a
 * small validation advantage is a bet on noise: on NAB an LSTM that beat
 * the autoregression by 0.1% on validation was 50% worse on test. So a
 * method replaces a simpler one only when its advantage is significant:
 * the Diebold-Mariano statistic (Diebold and Mariano 1995) of the
 * per-window differences of absolute error, with the Newey-West variance
 * over H-1 lags (forecasts H steps ahead overlap), must exceed SHD_DM_Z, the
 * one-sided 5% point of the normal.
 */
#define SEASONAL_MARGIN 0.10

/*
 * Does method K beat method B significantly on the validation windows
 * [I0, I1) of series (r, m)? RES as evaluate() fills it; D scratch of
 * I1 - I0.
 */
static int dm_better(const struct trainer *tr, const float *res, size_t i0,
		     size_t i1, size_t m, int b, int k, double *d)
{
	size_t M = tr->M, H = tr->H, n = 0;

	for (size_t i = i0; i < i1; i++) {
		const float *rr = res + (i * M + m) * NM * H;
		double sum = 0;
		size_t c = 0;
		for (size_t h = 0; h < H; h++) {
			double eb = rr[(size_t)b * H + h], ek = rr[(size_t)k * H + h];
			if (!isnan(eb) && !isnan(ek)) {
				sum += eb - ek;
				c++;
			}
		}
		if (c)
			d[n++] = sum / (double)c;
	}
	return shd_dm_stat(d, n, H - 1) > SHD_DM_Z;
}

/*
 * From the validation residuals RES of windows W (N, ordered by resource):
 * each series' val_err and chosen method, and the report's means.
 */
static int choose(struct trainer *tr, const struct win *w, size_t n,
		  const float *res)
{
	/* from the simplest: a tie keeps the simpler method */
	static const int order[NM] = { SHD_M_LAST, SHD_M_SNAIVE_DAY,
				       SHD_M_SNAIVE_WEEK, SHD_M_AR,
				       SHD_M_LSTM };
	size_t M = tr->M, H = tr->H;
	double sum[NM + 1][3] = { { 0 } };
	size_t num[NM + 1][3] = { { 0 } };
	struct shd_train_report *rep = tr->rep;
	double *d = malloc((n ? n : 1) * sizeof(*d));
	double *abs_ = malloc(NM * H * sizeof(*abs_));
	size_t *cnt = malloc(NM * H * sizeof(*cnt));

	if (!d || !abs_ || !cnt) {
		free(d);
		free(abs_);
		free(cnt);
		return SHD_ENOMEM;
	}
	for (size_t r = 0, i0 = 0; r < tr->R; r++) {
		size_t i1 = i0;
		while (i1 < n && w[i1].r == r)
			i1++;
		for (size_t m = 0; m < M; m++) {
			struct shd_mseries *ser = &tr->m->ser[r * M + m];
			double mae[NM], at[NM][3];
			memset(abs_, 0, NM * H * sizeof(*abs_));
			memset(cnt, 0, NM * H * sizeof(*cnt));
			for (size_t i = i0; i < i1; i++) {
				const float *rr = res + (i * M + m) * NM * H;
				for (size_t j = 0; j < NM * H; j++)
					if (!isnan(rr[j])) {
						abs_[j] += rr[j] * ser->scale;
						cnt[j]++;
					}
			}
			for (size_t k = 0; k < NM; k++) {
				double tot = 0;
				size_t nh = 0;
				for (size_t h = 0; h < H; h++) {
					size_t j = k * H + h;
					double e = cnt[j] ? abs_[j] / (double)cnt[j] : NAN;
					if (!isnan(e)) {
						tot += e;
						nh++;
					}
					if (h == 0)
						at[k][0] = e / ser->mase_scale;
					if (h == H - 1)
						at[k][1] = e / ser->mase_scale;
				}
				mae[k] = nh ? tot / (double)nh : NAN;
				ser->val_err[k] = ser->mase_scale > 0 &&
						  isfinite(ser->mase_scale) ?
						  mae[k] / ser->mase_scale : NAN;
				at[k][2] = ser->val_err[k];
				if (!(ser->mase_scale > 0) ||
				    !isfinite(ser->mase_scale))
					at[k][0] = at[k][1] = NAN;
			}
			/*
			 * last, ar, lstm: each replaces the one chosen so far
			 * when it has less error, significantly so.
			 */
			int best = SHD_M_LAST, least = SHD_M_LAST;
			for (size_t j = 0; j < NM; j++) {
				int k = order[j];
				if (k == SHD_M_SNAIVE_DAY || k == SHD_M_SNAIVE_WEEK ||
				    isnan(mae[k]))
					continue;
				if (isnan(mae[least]) || mae[k] < mae[least])
					least = k;
				if (isnan(mae[best]) ||
				    (mae[k] < mae[best] &&
				     dm_better(tr, res, i0, i1, m, best, k, d)))
					best = k;
			}
			/*
			 * Seasonal naive carries the level of a day or a week
			 * ago, so a level shift ruins it (on NAB a narrow
			 * validation win cost 20x the last value's error on
			 * test): it must beat every other method by
			 * SEASONAL_MARGIN to be chosen.
			 */
			int other = best;
			for (size_t j = 0; j < NM; j++) {
				int k = order[j];
				if (k != SHD_M_SNAIVE_DAY && k != SHD_M_SNAIVE_WEEK)
					continue;
				if (!isnan(mae[k]) && (isnan(mae[least]) ||
				    mae[k] < (1 - SEASONAL_MARGIN) * mae[least]) &&
				    (best == other || mae[k] < mae[best]))
					best = k;
			}
			ser->method = best;
			rep->chosen[best]++;
			for (size_t k = 0; k <= NM; k++)
				for (int c = 0; c < 3; c++) {
					double v = at[k < NM ? k : (size_t)best][c];
					if (isfinite(v)) {
						sum[k][c] += v;
						num[k][c]++;
					}
				}
		}
		i0 = i1;
	}
	for (size_t k = 0; k <= NM; k++)
		for (int c = 0; c < 3; c++)
			rep->mase[k][c] = num[k][c] ? sum[k][c] /
						      (double)num[k][c] : NAN;
	free(d);
	free(abs_);
	free(cnt);
	return 0;
}

/*
 * The conformal half-widths Q (S, NM, H) from the residuals RES of windows
 * W (N, ordered by resource) of one part: per series when it has MIN_CAL
 * residuals of a step, else pooled over the series of its metric; +inf for
 * a method a series does not have.
 */
static int quantiles(struct trainer *tr, const struct win *w, size_t n,
		     const float *res, double *q)
{
	size_t M = tr->M, H = tr->H, R = tr->R;
	double *buf = malloc((n ? n : 1) * sizeof(*buf));
	double *pooled = malloc(M * NM * H * sizeof(*pooled));
	int rc = 0;

	if (!buf || !pooled) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < M * NM * H && !rc; j++) {
		size_t m = j / (NM * H), kh = j % (NM * H);
		for (size_t i = 0; i < n; i++)
			buf[i] = res[(i * M + m) * NM * H + kh];
		rc = shd_conformal_quantile(buf, n, tr->o->coverage, &pooled[j]);
	}
	for (size_t r = 0, i0 = 0; r < R && !rc; r++) {
		size_t i1 = i0;
		while (i1 < n && w[i1].r == r)
			i1++;
		for (size_t m = 0; m < M && !rc; m++) {
			double *qs = q + (r * M + m) * NM * H;
			for (size_t kh = 0; kh < NM * H && !rc; kh++) {
				size_t c = 0;
				for (size_t i = i0; i < i1; i++) {
					float v = res[(i * M + m) * NM * H + kh];
					if (!isnan(v))
						buf[c++] = v;
				}
				size_t k = kh / H;
				if ((k == SHD_M_SNAIVE_DAY &&
				     !has_season(tr, r, tr->m->day)) ||
				    (k == SHD_M_SNAIVE_WEEK &&
				     !has_season(tr, r, tr->m->week)) ||
				    (k == SHD_M_LSTM && !net_of(tr, r)))
					qs[kh] = INFINITY;
				else if (c >= MIN_CAL)
					rc = shd_conformal_quantile(buf, c,
						tr->o->coverage, &qs[kh]);
				else
					qs[kh] = pooled[m * NM * H + kh];
			}
		}
		i0 = i1;
	}
out:
	free(buf);
	free(pooled);
	return rc;
}

/* ------------------------------------------------------------- setup */

/*
 * Normalization, MASE scale and autoregression of every series: the
 * per-series part of training, which grows with the fleet. Series are
 * independent, so they are shared among --threads threads (resources
 * interleaved); the result is the same whatever the count.
 */
struct fit_job {
	struct trainer *tr;
	size_t first, stride;
	int rc;			/* the first failure of this job */
	size_t bad_r, bad_k;
	pthread_t tid;
};

static void *job_fail(struct fit_job *job, int rc, size_t r, size_t k)
{
	job->rc = rc;
	job->bad_r = r;
	job->bad_k = k;
	return NULL;
}

static void *fit_some(void *arg)
{
	struct fit_job *job = arg;
	struct trainer *tr = job->tr;
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): set by fit_series */
	const struct shd_panel *p = tr->p;
	struct shd_model *m = tr->m;
	int rc;

	for (size_t r = job->first; r < tr->R; r += job->stride) {
		const struct shd_pseries *s = &p->series[r];
		size_t ntr = tr->bound[2 * r];
		for (size_t k = 0; k < tr->M; k++) {
			struct shd_mseries *ser = &m->ser[r * tr->M + k];
			const double *x = s->x + k * s->n;
			double c, sc;
			ser->q = malloc(NM * tr->H * sizeof(*ser->q));
			if (!ser->q)
				return job_fail(job, SHD_ENOMEM, r, k);
			for (size_t j = 0; j < NM * tr->H; j++)
				ser->q[j] = INFINITY;
			for (size_t j = 0; j < NM; j++)
				ser->val_err[j] = NAN;
			/* empty until the validation windows fill it */
			ser->yrange[0] = INFINITY;
			ser->yrange[1] = -INFINITY;
			ser->method = SHD_M_LAST;
			rc = shd_robust_center_scale(x, ntr, &c, &sc);
			if (rc == SHD_ENOMEM)
				return job_fail(job, rc, r, k);
			if (rc) {	/* nothing known in training */
				c = 0;
				sc = 1;
			} else {
				/*
				 * A series that is mostly one value (a disk
				 * idle but for bursts) has a MAD of 0; its
				 * mean absolute deviation still says how
				 * far it moves. A constant series gets 1:
				 * every target of it is 0 anyway.
				 */
				double sum = 0, floor_ = 1e-9 * (1 + fabs(c));
				size_t cnt = 0;
				for (size_t i = 0; i < ntr; i++)
					if (!isnan(x[i])) {
						sum += fabs(x[i] - c);
						cnt++;
					}
				double mad = cnt ? 1.2533 * sum / (double)cnt : 0;
				if (sc < 0.1 * mad)
					sc = 0.1 * mad;
				if (!(sc > floor_))
					sc = 1;
			}
			ser->center = c;
			ser->scale = sc;
			ser->mase_scale = shd_mase_scale(x, ntr,
							 m->day ? m->day : 1);
			rc = shd_ar_fit_select(&ser->ar, x, ntr,
					       tr->bound[2 * r + 1] - ntr,
					       tr->H, tr->o->ar_p, m->day,
					       m->week, tr->o->ridge,
					       tr->o->huber);
			if (rc)
				return job_fail(job, rc, r, k);
		}
	}
	return NULL;
}

static int fit_series(struct trainer *tr)
{
	size_t nt = (size_t)tr->o->threads, started = 1;
	struct fit_job *jobs, *bad = NULL;
	int rc = 0;

	if (nt > tr->R)
		nt = tr->R ? tr->R : 1;
	jobs = calloc(nt, sizeof(*jobs));
	if (!jobs)
		return SHD_ENOMEM;
	for (size_t t = 0; t < nt; t++)
		jobs[t] = (struct fit_job){ .tr = tr, .first = t, .stride = nt };
	for (; started < nt; started++)
		if (pthread_create(&jobs[started].tid, NULL, fit_some,
				   &jobs[started]))
			break;
	/* threads that could not start: their series, here */
	for (size_t t = started; t < nt; t++)
		fit_some(&jobs[t]);
	fit_some(&jobs[0]);
	for (size_t t = 1; t < started; t++)
		pthread_join(jobs[t].tid, NULL);
	/* the failure of the lowest series, as one thread would have met it */
	for (size_t t = 0; t < nt; t++)
		if (jobs[t].rc && (!bad || jobs[t].bad_r < bad->bad_r ||
				   (jobs[t].bad_r == bad->bad_r &&
				    jobs[t].bad_k < bad->bad_k)))
			bad = &jobs[t];
	if (bad) {
		rc = bad->rc;
		if (rc == SHD_ENUMERIC)
			rc = fail(tr, rc, "resource '%s', metric '%s': the "
				  "autoregression cannot be fitted",
				  tr->p->series[bad->bad_r].key,
				  tr->p->metric[bad->bad_k]);
	}
	free(jobs);
	return rc;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

/* The model's data part: names, range, fingerprint, seasons. */
static int fill_meta(struct trainer *tr)
{
	const struct shd_panel *p = tr->p;
	struct shd_model *m = tr->m;
	XXH3_state_t *st = XXH3_createState();
	size_t M = tr->M, R = tr->R, maxtr = 0;

	if (!st)
		return SHD_ENOMEM;
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, &p->step, sizeof(p->step));
	m->step = p->step;
	m->nmetric = M;
	m->metric = calloc(M, sizeof(*m->metric));
	m->unit = calloc(M, sizeof(*m->unit));
	m->nres = R;
	m->res = calloc(R, sizeof(*m->res));
	m->ser = calloc(R * M, sizeof(*m->ser));
	if (!m->metric || !m->unit || !m->res || !m->ser)
		goto nomem;
	for (size_t k = 0; k < M; k++) {
		m->metric[k] = xstrdup(p->metric[k]);
		m->unit[k] = xstrdup(p->unit[k]);
		if (!m->metric[k] || !m->unit[k])
			goto nomem;
		XXH3_64bits_update(st, p->metric[k], strlen(p->metric[k]) + 1);
	}
	m->data_from = INT64_MAX;
	m->data_to = INT64_MIN;
	for (size_t r = 0; r < R; r++) {
		const struct shd_pseries *s = &p->series[r];
		m->res[r] = xstrdup(s->key);
		if (!m->res[r])
			goto nomem;
		XXH3_64bits_update(st, s->key, strlen(s->key) + 1);
		XXH3_64bits_update(st, &s->t0, sizeof(s->t0));
		XXH3_64bits_update(st, &s->n, sizeof(s->n));
		XXH3_64bits_update(st, s->x, s->n * M * sizeof(*s->x));
		if (s->t0 < m->data_from)
			m->data_from = s->t0;
		int64_t last = s->t0 + (int64_t)(s->n - 1) * p->step;
		if (last > m->data_to)
			m->data_to = last;
		if (tr->bound[2 * r] > maxtr)
			maxtr = tr->bound[2 * r];
	}
	m->fingerprint = XXH3_64bits_digest(st);
	XXH3_freeState(st);

	/* seasons in steps, when some series' training part holds one */
	size_t day = (size_t)llround(86400000.0 / (double)p->step);
	m->day = day >= 2 && maxtr >= day ? day : 0;
	m->week = day >= 2 && maxtr >= 7 * day ? 7 * day : 0;
	return 0;
nomem:
	XXH3_freeState(st);
	return SHD_ENOMEM;
}

/* Checks O and P; sets H and the split bounds. */
static int check(struct trainer *tr)
{
	const struct shd_train_opts *o = tr->o;
	const struct shd_panel *p = tr->p;

	if (!o->lookback || !o->hidden || !o->layers ||
	    o->layers > SHD_LSTM_MAX_LAYERS || !o->batch || !o->ar_p ||
	    !o->max_windows || !o->max_eval || !(o->lr > 0) || !(o->wd >= 0) ||
	    !(o->coverage > 0 && o->coverage < 1) || !(o->split_train > 0) ||
	    !(o->split_val > 0) || !(o->split_train + o->split_val < 1) ||
	    !(o->ridge >= 0) ||
	    !(o->huber >= 0) || !isfinite(o->huber) || o->threads < 1)
		return fail(tr, SHD_EINVAL, "bad training options");
	if (!p->nseries || !p->nmetric)
		return fail(tr, SHD_EINVAL, "no %s in the stream",
			    p->nseries ? "metric" : "resource");
	if (p->step <= 0)
		return fail(tr, SHD_EINVAL, "no sampling step");
	tr->R = p->nseries;
	tr->M = p->nmetric;
	tr->T = o->lookback;
	tr->H = o->horizon;
	if (!tr->H) {
		tr->H = (size_t)(300000 / p->step);
		if (!tr->H)
			tr->H = 1;
	}
	tr->I = SHD_WINDOW_INPUTS(tr->M);
	tr->K = tr->M * tr->H;
	tr->B = o->batch;
	tr->bound = malloc(2 * tr->R * sizeof(*tr->bound));
	if (!tr->bound)
		return SHD_ENOMEM;
	for (size_t r = 0; r < tr->R; r++) {
		size_t n = p->series[r].n, ntr, nva, need;
		if (!shd_train_long_enough(o, n, tr->T, tr->H)) {
			need = shd_train_min_samples(o, tr->T, tr->H);
			return fail(tr, SHD_EINVAL, "resource '%s' has %zu "
				    "samples, too few for --lookback %zu and "
				    "--horizon %zu: it needs at least %zu "
				    "(training must hold lookback + horizon + "
				    "%d steps, validation and calibration "
				    "horizon + %d each)", p->series[r].key, n,
				    tr->T, tr->H, need, MIN_EXTRA, MIN_EXTRA);
		}
		split(o, n, &ntr, &nva);
		tr->bound[2 * r] = ntr;
		tr->bound[2 * r + 1] = ntr + nva;
	}
	return 0;
}

/* The networks: fresh with a zero head, or the --init weights. */
static int make_nets(struct trainer *tr)
{
	const struct shd_train_opts *o = tr->o;
	const struct shd_model *old = o->init;
	struct shd_model *m = tr->m;
	struct shd_lstm_config cfg = {
		.n_in = tr->I, .n_hidden = o->hidden, .n_layers = o->layers,
		.n_out = tr->K, .max_steps = tr->T, .max_batch = tr->B,
		.forget_bias = 1,
	};
	int rc;

	if (old) {
		if (old->nmetric != tr->M)
			return fail(tr, SHD_EINVAL, "--init: the model has %zu "
				    "metrics, the stream %zu", old->nmetric,
				    tr->M);
		for (size_t k = 0; k < tr->M; k++)
			if (strcmp(old->metric[k], m->metric[k]) != 0)
				return fail(tr, SHD_EINVAL, "--init: the "
					    "model's metric %zu is '%s', the "
					    "stream's '%s'", k + 1,
					    old->metric[k], m->metric[k]);
		if (!old->per_resource != !o->per_resource)
			return fail(tr, SHD_EINVAL, "--init: the model was "
				    "trained %s --per-resource",
				    old->per_resource ? "with" : "without");
		if (!old->nnet)
			return fail(tr, SHD_EINVAL, "--init: the model has no "
				    "network");
		const struct shd_lstm_config *oc = &old->net[0].cfg;
		if (oc->n_in != cfg.n_in || oc->n_hidden != cfg.n_hidden ||
		    oc->n_layers != cfg.n_layers || oc->n_out != cfg.n_out)
			return fail(tr, SHD_EINVAL, "--init: the model's "
				    "network (hidden %zu, layers %zu, horizon "
				    "%zu) differs from this one (hidden %zu, "
				    "layers %zu, horizon %zu)", oc->n_hidden,
				    /* M >= 1: check() refuses a panel without
				     * metrics */
				    /* NOLINTNEXTLINE(clang-analyzer-core.DivideZero) */
				    oc->n_layers, oc->n_out / tr->M,
				    cfg.n_hidden, cfg.n_layers, tr->H);
	}
	m->nnet = o->per_resource ? tr->R : 1;
	m->net = calloc(m->nnet, sizeof(*m->net));
	if (!m->net)
		return SHD_ENOMEM;
	for (size_t i = 0; i < m->nnet; i++) {
		struct shd_lstm *net = &m->net[i];
		if ((rc = shd_lstm_init(net, &cfg, o->seed + i)))
			return rc == SHD_ENOMEM ? rc :
			       fail(tr, rc, "bad network size");
		shd_lstm_set_threads(net, o->threads);
		const struct shd_lstm *src = NULL;
		if (old && !o->per_resource) {
			src = &old->net[0];
		} else if (old) {
			long j = shd_model_find(old, m->res[i]);
			if (j >= 0 && (size_t)j < old->nnet)
				src = &old->net[j];
		}
		if (src && src->nparams == net->nparams) {
			memcpy(net->params, src->params,
			       net->nparams * sizeof(*net->params));
			tr->rep->warm++;
			continue;
		}
		/* a zero head: the network starts as the autoregression */
		memset(net->p.head_w, 0, tr->K * o->hidden * sizeof(float));
		memset(net->p.head_b, 0, tr->K * sizeof(float));
	}
	return shd_lstm_cache_init(&tr->cache, &cfg);
}

static int scratch(struct trainer *tr)
{
	size_t B = tr->B, K = tr->K;

	tr->x = malloc(tr->T * B * tr->I * sizeof(*tr->x));
	tr->y = malloc(B * K * sizeof(*tr->y));
	tr->tgt = malloc(B * K * sizeof(*tr->tgt));
	tr->maskf = malloc(K * sizeof(*tr->maskf));
	tr->mask = malloc(B * K);
	tr->dy = malloc(B * K * sizeof(*tr->dy));
	tr->wt = malloc(B * K * sizeof(*tr->wt));
	tr->base = malloc(B * K * sizeof(*tr->base));
	tr->pred = malloc(NM * tr->H * sizeof(*tr->pred));
	if (!tr->x || !tr->y || !tr->tgt || !tr->maskf || !tr->mask ||
	    !tr->dy || !tr->wt || !tr->base || !tr->pred)
		return SHD_ENOMEM;
	return 0;
}

/* ------------------------------------------------------------- report */

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int make_report(struct trainer *tr, int timed)
{
	const struct shd_train_report *rep = tr->rep;
	json_t *root = json_object(), *methods = json_object();

	if (!root || !methods || json_object_set(root, "methods", methods))
		goto nomem;
	json_object_set_new(root, "measure", json_string("validation MASE"));
	for (size_t k = 0; k <= NM; k++) {
		json_t *e = json_object();
		if (!e)
			goto nomem;
		json_object_set_new(e, "h1", jnum(rep->mase[k][0]));
		json_object_set_new(e, "hH", jnum(rep->mase[k][1]));
		json_object_set_new(e, "mean", jnum(rep->mase[k][2]));
		if (k < NM)
			json_object_set_new(e, "chosen",
					    json_integer((json_int_t)rep->chosen[k]));
		json_object_set_new(k < NM ? methods : root,
				    k < NM ? shd_method_name((int)k) : "chosen",
				    e);
	}
	json_decref(methods);
	methods = NULL;
	json_object_set_new(root, "horizon", json_integer((json_int_t)tr->H));
	json_object_set_new(root, "series", json_integer((json_int_t)rep->nseries));
	json_object_set_new(root, "networks",
			    json_integer((json_int_t)tr->m->nnet));
	json_object_set_new(root, "warm_started",
			    json_integer((json_int_t)rep->warm));
	json_object_set_new(root, "epochs",
			    json_integer((json_int_t)rep->epochs_run));
	json_object_set_new(root, "best_epoch",
			    json_integer((json_int_t)rep->best_epoch));
	json_object_set_new(root, "val_loss_start", jnum(rep->val_loss_start));
	json_object_set_new(root, "val_loss_best", jnum(rep->val_loss_best));
	json_object_set_new(root, "train_windows",
			    json_integer((json_int_t)rep->train_windows));
	json_object_set_new(root, "val_windows",
			    json_integer((json_int_t)rep->val_windows));
	json_object_set_new(root, "cal_windows",
			    json_integer((json_int_t)rep->cal_windows));
	/* only with events: a model trained without stays byte for byte */
	if (tr->o->events) {
		json_t *e = json_pack("{s:I, s:I, s:I}", "train",
				      (json_int_t)rep->train_events, "val",
				      (json_int_t)rep->val_events, "cal",
				      (json_int_t)rep->cal_events);
		if (!e || json_object_set_new(root, "event_windows", e))
			goto nomem;
	}
	if (timed) {
		json_object_set_new(root, "windows_per_s",
				    jnum(rep->windows_per_s));
		json_object_set_new(root, "seconds", jnum(rep->seconds));
	}
	tr->m->report = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
	json_decref(root);
	return tr->m->report ? 0 : SHD_ENOMEM;
nomem:
	json_decref(root);
	json_decref(methods);
	return SHD_ENOMEM;
}

/* ------------------------------------------------- choice, calibration */

/*
 * Steps 3 and 4 of shd_train, on the networks as they are: every method's
 * validation errors and each series' choice, then the conformal
 * half-widths. CAP: windows of each part at most (thinned evenly beyond).
 *
 * The half-width is the larger of the split-conformal quantiles of the
 * validation and of the calibration residuals. Each alone covers with
 * probability >= coverage when the future's residuals are exchangeable
 * with its part's, so the larger does too; but load drifts, and one
 * quiet part (a disk idle through calibration) gave intervals that held
 * 65% of the truth later. An interval that held in both of the two most
 * recent periods is less often fooled by one of them.
 */
static int choose_and_calibrate(struct trainer *tr, size_t cap)
{
	struct shd_train_report *rep = tr->rep;
	struct win *cw = NULL, *vw = NULL;
	size_t nvw, ncw, S = tr->R * tr->M, lvw, lcw, NQ = NM * tr->H;
	double *qv = NULL, *qc = NULL;
	float *res = NULL;
	int rc;

	if ((rc = windows(tr, PART_VAL, 0, tr->R, cap, 0, &vw, &nvw, &lvw)))
		goto out;
	if (!rep->val_windows && !rep->val_events) {
		rep->val_windows = nvw;
		rep->val_events = lvw;
	}
	/* M, H >= 1 (check()), so no size below is 0 */
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	qv = malloc((S ? S : 1) * NQ * sizeof(*qv));
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	qc = malloc((S ? S : 1) * NQ * sizeof(*qc));
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	res = malloc((nvw ? nvw : 1) * tr->M * NQ * sizeof(*res));
	if (!qv || !qc || !res) {
		rc = SHD_ENOMEM;
		goto out;
	}
	if ((rc = evaluate(tr, vw, nvw, PART_VAL, res)))
		goto out;
	for (size_t i = 0; i < S; i++) {
		struct shd_mseries *ser = &tr->m->ser[i];
		if (!(ser->yrange[0] <= ser->yrange[1])) {
			/* no validation window: nothing to clamp to */
			ser->yrange[0] = -INFINITY;
			ser->yrange[1] = INFINITY;
		}
	}
	if ((rc = choose(tr, vw, nvw, res)) ||
	    (rc = quantiles(tr, vw, nvw, res, qv)))
		goto out;
	free(res);
	res = NULL;

	if ((rc = windows(tr, PART_CAL, 0, tr->R, cap, 0, &cw, &ncw, &lcw)))
		goto out;
	rep->cal_windows = ncw;
	rep->cal_events = lcw;
	res = malloc((ncw ? ncw : 1) * tr->M * NQ * sizeof(*res));
	if (!res) {
		rc = SHD_ENOMEM;
		goto out;
	}
	if ((rc = evaluate(tr, cw, ncw, PART_CAL, res)) ||
	    (rc = quantiles(tr, cw, ncw, res, qc)))
		goto out;
	/* inf: too few residuals in that part to say; the other part's,
	 * when it has them */
	for (size_t i = 0; i < S * NQ; i++) {
		double a = qv[i], b = qc[i];
		tr->m->ser[i / NQ].q[i % NQ] = isinf(a) ? b : isinf(b) ? a :
					       fmax(a, b);
	}
out:
	free(vw);
	free(cw);
	free(qv);
	free(qc);
	free(res);
	return rc;
}

/* Frees the trainer's scratch. */
static void trainer_release(struct trainer *tr)
{
	shd_lstm_cache_release(&tr->cache);
	free(tr->bound);
	free(tr->x);
	free(tr->y);
	free(tr->tgt);
	free(tr->maskf);
	free(tr->mask);
	free(tr->dy);
	free(tr->wt);
	free(tr->base);
	free(tr->pred);
}

/* ------------------------------------------------------------ shd_train */

int shd_train(struct shd_model *m, const struct shd_panel *p,
	      const struct shd_train_opts *o, struct shd_train_report *rep,
	      shd_train_progress_fn progress, void *ctx)
{
	struct shd_train_report local;
	struct trainer tr = { .p = p, .o = o, .m = m, .progress = progress,
			      .ctx = ctx };
	int rc;

	shd_model_init(m);
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	tr.rep = rep;
	tr.t_start = tr.t_last_progress = now_s();
	shd_rng_seed(&tr.rng, o->seed);
	if ((rc = check(&tr)) || (rc = fill_meta(&tr)))
		goto out;
	m->lookback = tr.T;
	m->horizon = tr.H;
	m->ar_p = o->ar_p;
	m->coverage = o->coverage;
	m->seed = o->seed;
	m->per_resource = o->per_resource;
	rep->nseries = tr.R * tr.M;
	if ((rc = fit_series(&tr)) || (rc = make_nets(&tr)) ||
	    (rc = scratch(&tr)))
		goto out;

	/* 2. the networks */
	rep->val_loss_start = rep->val_loss_best = 0;
	size_t nloss = 0;
	for (size_t i = 0; i < m->nnet; i++) {
		size_t r0 = o->per_resource ? i : 0;
		size_t r1 = o->per_resource ? i + 1 : tr.R, ep, best_ep;
		double l0, l1;
		rc = train_net(&tr, i, r0, r1, &l0, &l1, &ep, &best_ep);
		if (rc)
			goto out;
		if (isfinite(l0) && isfinite(l1)) {
			rep->val_loss_start += l0;
			rep->val_loss_best += l1;
			nloss++;
		}
		if (ep > rep->epochs_run)
			rep->epochs_run = ep;
		if (i == 0)
			rep->best_epoch = best_ep;
	}

	rep->val_loss_start = nloss ? rep->val_loss_start / (double)nloss : NAN;
	rep->val_loss_best = nloss ? rep->val_loss_best / (double)nloss : NAN;

	/* 3, 4. the choice of a method per series, the calibration */
	if ((rc = choose_and_calibrate(&tr, o->max_eval * m->nnet)))
		goto out;

	/* 5. the report */
	rep->seconds = now_s() - tr.t_start;
	rep->windows_per_s = tr.train_time > 0 ?
			     (double)tr.train_seen / tr.train_time : NAN;
	/*
	 * Times and speeds go to REP (and stderr) only: the model holds no
	 * wall-clock value, so a seeded run gives the same bytes.
	 */
	rc = make_report(&tr, 0);
out:
	if (rc == SHD_ENOMEM)
		fail(&tr, rc, "out of memory");
	else if (rc && !rep->err[0])
		fail(&tr, rc, "%s", shd_strerror(rc));
	trainer_release(&tr);
	return rc;
}

/* ----------------------------------------------------- shd_train_extend */

/*
 * Moves the series and names of NM (resources the model does not know)
 * to the end of M, whose arrays have room for them. NM keeps nothing.
 */
static void append(struct shd_model *m, struct shd_model *nm)
{
	size_t M = m->nmetric;

	memcpy(m->ser + m->nres * M, nm->ser, nm->nres * M * sizeof(*m->ser));
	memcpy(m->res + m->nres, nm->res, nm->nres * sizeof(*m->res));
	m->nres += nm->nres;
	free(nm->ser);
	free(nm->res);
	nm->ser = NULL;
	nm->res = NULL;
	nm->nres = 0;
}

int shd_train_extend(struct shd_model *m, const struct shd_panel *p,
		     const struct shd_train_opts *o_in,
		     struct shd_train_report *rep)
{
	struct shd_train_report local;
	struct shd_train_opts o = *o_in;
	struct shd_model nm;	/* the new resources, M's network lent */
	struct trainer tr = { .p = p, .o = &o, .m = &nm };
	size_t M = m->nmetric;
	int rc;

	shd_model_init(&nm);
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	tr.rep = rep;
	tr.t_start = tr.t_last_progress = now_s();

	/* the model's sizes, not the options' */
	o.lookback = m->lookback;
	o.horizon = m->horizon;
	o.ar_p = m->ar_p;
	o.coverage = m->coverage;
	o.per_resource = m->per_resource;
	o.init = NULL;
	if (m->nnet) {
		o.hidden = m->net[0].cfg.n_hidden;
		o.layers = m->net[0].cfg.n_layers;
	}
	if (p->nmetric != M || p->step != m->step) {
		rc = fail(&tr, SHD_EINVAL, "the panel's metrics or step are "
			  "not the model's");
		goto out;
	}
	for (size_t k = 0; k < M; k++)
		if (strcmp(p->metric[k], m->metric[k]) != 0) {
			rc = fail(&tr, SHD_EINVAL, "metric %zu is '%s', the "
				  "model's '%s'", k + 1, p->metric[k],
				  m->metric[k]);
			goto out;
		}
	for (size_t r = 0; r < p->nseries; r++)
		if (shd_model_find(m, p->series[r].key) >= 0) {
			rc = fail(&tr, SHD_EINVAL, "resource '%s' is in the "
				  "model already", p->series[r].key);
			goto out;
		}
	if ((rc = check(&tr)))
		goto out;

	/* NM: the new series on M's seasons, with M's network (if global) */
	nm.step = m->step;
	nm.nmetric = M;
	nm.lookback = m->lookback;
	nm.horizon = m->horizon;
	nm.day = m->day;
	nm.week = m->week;
	nm.ar_p = m->ar_p;
	nm.coverage = m->coverage;
	nm.per_resource = m->per_resource;
	nm.nres = tr.R;
	nm.res = calloc(tr.R, sizeof(*nm.res));
	/* M >= 1: the model has metrics */
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI) */
	nm.ser = calloc(tr.R ? tr.R * M : 1, sizeof(*nm.ser));
	if (!nm.res || !nm.ser) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < tr.R; r++)
		if (!(nm.res[r] = xstrdup(p->series[r].key))) {
			rc = SHD_ENOMEM;
			goto out;
		}
	if (!m->per_resource && m->nnet) {
		nm.net = m->net;	/* lent: taken back before release */
		nm.nnet = 1;
	}
	rep->nseries = tr.R * M;
	if ((rc = fit_series(&tr)) || (rc = scratch(&tr)))
		goto out;
	if (nm.nnet) {
		struct shd_lstm_config cfg = nm.net[0].cfg;
		cfg.max_steps = tr.T;
		cfg.max_batch = tr.B;
		if ((rc = shd_lstm_cache_init(&tr.cache, &cfg)))
			goto out;
	}
	if ((rc = choose_and_calibrate(&tr, o.max_eval *
				       (m->per_resource ? tr.R : 1))))
		goto out;

	/* room for them in M, then move them there */
	char **res = realloc(m->res, (m->nres + tr.R) * sizeof(*res));
	if (!res) {
		rc = SHD_ENOMEM;
		goto out;
	}
	m->res = res;
	struct shd_mseries *ser = realloc(m->ser, (m->nres + tr.R) * M *
					  sizeof(*ser));
	if (!ser) {
		rc = SHD_ENOMEM;
		goto out;
	}
	m->ser = ser;
	append(m, &nm);
	rep->seconds = now_s() - tr.t_start;
out:
	if (rc == SHD_ENOMEM)
		fail(&tr, rc, "out of memory");
	else if (rc && !rep->err[0])
		fail(&tr, rc, "%s", shd_strerror(rc));
	nm.net = NULL;		/* M's */
	nm.nnet = 0;
	shd_model_release(&nm);	/* the series, when they were not moved */
	trainer_release(&tr);
	return rc;
}
