/*
 * predict.c - a model's forecasts of a panel's series as the rows of the
 * forecast stream, a batch through the network at a time (predict.h has
 * the picture).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "lstm.h"
#include "predict.h"
#include "window.h"

/* Output columns before the metrics, and per metric. */
#define NFIXED 4
#define PER_METRIC 6
#define BATCH SHD_PREDICT_BATCH

/* One forecast to make: panel series K (model resource R) from origin T. */
struct job {
	size_t k, r, t;
	int lstm;		/* a metric uses the network */
};

struct shd_predictor {
	const struct shd_model *mdl;
	const struct shd_panel *p;
	int method;
	size_t M, H, T, I, K;
	struct shd_lstm_cache cache;
	int have_cache;
	float *x;		/* (T, BATCH, I) */
	float *y;		/* (BATCH, K) corrections, units of scale */
	double *base;		/* (K + H): the AR's, then scratch */
	double *fc;		/* (H) */
	int *used;		/* (H) method behind each step */
	struct job jobs[BATCH];
	size_t njobs;
	struct shd_dict *dict;
	uint32_t *keyid;	/* (nseries) */
	unsigned char *nonneg;	/* (nseries, M) history never below 0 */
	struct shd_frame f;
	struct shd_writer *w;
	uint64_t count;
};

int shd_predict_method(const struct shd_model *mdl, int method, size_t r,
		       size_t m)
{
	int k = method >= 0 ? method : mdl->ser[r * mdl->nmetric + m].method;

	return k == SHD_M_LSTM && !shd_model_net(mdl, r) ? SHD_M_AR : k;
}

int shd_predict_schema(struct shd_schema *sc, const struct shd_model *m,
		       int method, const char *model, const char *input)
{
	static const char *const suffix[PER_METRIC] = {
		".pred", ".lo", ".hi", ".conf", ".cur", "",
	};
	static const char *const role[PER_METRIC] = {
		"forecast", "lo", "hi", "conf", "cur", "metric",
	};
	char name[1024], buf[64];
	int rc = 0;

	rc |= shd_schema_add(sc, "time", SHD_TIME, "ms", "time");
	rc |= shd_schema_add(sc, "resource", SHD_KEY, "", "key");
	rc |= shd_schema_add(sc, "origin", SHD_TIME, "ms", "origin");
	rc |= shd_schema_add(sc, "step", SHD_I64, "", "step");
	for (size_t k = 0; k < m->nmetric && !rc; k++)
		for (int c = 0; c < PER_METRIC && !rc; c++) {
			snprintf(name, sizeof(name), "%s%s", m->metric[k],
				 suffix[c]);
			rc = shd_schema_add(sc, name, SHD_F64,
					    c == 3 ? "" : m->unit[k], role[c]);
		}
	rc |= shd_schema_set_meta(sc, "producer", "shd-predict " SHD_VERSION);
	rc |= shd_schema_set_meta(sc, "model", model);
	snprintf(buf, sizeof(buf), "%016" PRIx64, m->fingerprint);
	rc |= shd_schema_set_meta(sc, "model_fingerprint", buf);
	snprintf(buf, sizeof(buf), "%g", m->coverage);
	rc |= shd_schema_set_meta(sc, "coverage", buf);
	snprintf(buf, sizeof(buf), "%zu", m->horizon);
	rc |= shd_schema_set_meta(sc, "horizon", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)m->step);
	rc |= shd_schema_set_meta(sc, "interval_ms", buf);
	if (method >= 0)
		rc |= shd_schema_set_meta(sc, "method",
					  shd_method_name(method));
	rc |= shd_schema_set_meta(sc, "source", input);
	return rc ? SHD_ENOMEM : 0;
}

int shd_predictor_new(struct shd_predictor **prp, const struct shd_model *mdl,
		      const struct shd_panel *p, int method,
		      const struct shd_schema *sc, struct shd_writer *w)
{
	struct shd_predictor *pr = calloc(1, sizeof(*pr));
	size_t ns = p->nseries ? p->nseries : 1;

	*prp = NULL;
	if (!pr)
		return SHD_ENOMEM;
	pr->mdl = mdl;
	pr->p = p;
	pr->method = method;
	pr->w = w;
	pr->M = mdl->nmetric;
	pr->H = mdl->horizon;
	pr->T = mdl->lookback;
	pr->I = SHD_WINDOW_INPUTS(pr->M);
	pr->K = pr->H * pr->M;
	pr->keyid = calloc(ns, sizeof(*pr->keyid));
	pr->x = malloc(pr->T * BATCH * pr->I * sizeof(*pr->x));
	pr->y = calloc(BATCH * pr->K, sizeof(*pr->y));
	pr->base = malloc((pr->K + pr->H) * sizeof(*pr->base));
	pr->fc = malloc(pr->H * sizeof(*pr->fc));
	pr->used = malloc(pr->H * sizeof(*pr->used));
	pr->dict = shd_dict_new();
	pr->nonneg = calloc(p->nseries * pr->M + 1, 1);
	if (!pr->keyid || !pr->x || !pr->y || !pr->base || !pr->fc ||
	    !pr->used || !pr->dict || !pr->nonneg)
		goto nomem;
	for (size_t k = 0; k < p->nseries; k++) {
		const struct shd_pseries *s = &p->series[k];

		if (shd_dict_intern(pr->dict, s->key, strlen(s->key),
				    &pr->keyid[k]) < 0)
			goto nomem;
		for (size_t m = 0; m < pr->M; m++) {
			int neg = 0;

			for (size_t i = 0; i < s->n && !neg; i++)
				neg = s->x[m * s->n + i] < 0;
			pr->nonneg[k * pr->M + m] = !neg;
		}
	}
	if (shd_frame_init(&pr->f, sc, pr->dict) < 0 ||
	    shd_frame_reserve(&pr->f, BATCH * pr->H) < 0)
		goto nomem;
	*prp = pr;
	return 0;
nomem:
	shd_predictor_free(pr);
	return SHD_ENOMEM;
}

void shd_predictor_free(struct shd_predictor *pr)
{
	if (!pr)
		return;
	shd_frame_release(&pr->f);
	if (pr->have_cache)
		shd_lstm_cache_release(&pr->cache);
	shd_dict_free(pr->dict);
	free(pr->keyid);
	free(pr->nonneg);
	free(pr->x);
	free(pr->y);
	free(pr->base);
	free(pr->fc);
	free(pr->used);
	free(pr);
}

uint64_t shd_predictor_count(const struct shd_predictor *pr)
{
	return pr->count;
}

/* The forecast of one metric by method METH into pr->fc and pr->used. */
static void forecast_metric(struct shd_predictor *pr, const struct job *j,
			    size_t b, size_t m, int meth)
{
	const struct shd_pseries *s = &pr->p->series[j->k];
	const struct shd_mseries *ser = &pr->mdl->ser[j->r * pr->M + m];
	const double *xm = s->x + m * s->n;
	size_t H = pr->H, P = 0;
	double *lv;

	for (size_t h = 0; h < H; h++)
		pr->used[h] = meth;
	switch (meth) {
	case SHD_M_LSTM:
		for (size_t h = 0; h < H; h++)
			pr->fc[h] = pr->base[m * H + h] +
				    shd_mseries_clamp(ser,
					(double)pr->y[b * pr->K + m * H + h]) *
				    ser->scale;
		return;
	case SHD_M_AR:
		memcpy(pr->fc, pr->base + m * H, H * sizeof(*pr->fc));
		return;
	case SHD_M_SNAIVE_DAY:
		P = pr->mdl->day;
		break;
	case SHD_M_SNAIVE_WEEK:
		P = pr->mdl->week;
		break;
	}
	if (P) {
		size_t nan = 0;

		shd_seasonal_naive(pr->fc, xm, j->t, H, P);
		for (size_t h = 0; h < H; h++)
			nan += isnan(pr->fc[h]);
		if (!nan)
			return;
	}
	/* the last value, alone or where a season has no value */
	lv = pr->base + pr->M * H;	/* scratch (H) */
	shd_last_value(lv, xm, j->t, H);
	for (size_t h = 0; h < H; h++)
		if (!P || isnan(pr->fc[h])) {
			pr->fc[h] = lv[h];
			pr->used[h] = SHD_M_LAST;
		}
}

/* Appends the H rows of job J (slot B of the last forward) to the frame. */
static void emit(struct shd_predictor *pr, const struct job *j, size_t b)
{
	const struct shd_pseries *s = &pr->p->series[j->k];
	struct shd_frame *f = &pr->f;
	size_t H = pr->H, row0 = f->nrows;
	int64_t step = pr->p->step;

	for (size_t h = 1; h <= H; h++) {
		size_t i = row0 + h - 1;

		SHD_I64COL(f, 0)[i] = s->t0 + (int64_t)(j->t + h) * step;
		SHD_KEYCOL(f, 1)[i] = pr->keyid[j->k];
		SHD_I64COL(f, 2)[i] = s->t0 + (int64_t)j->t * step;
		SHD_I64COL(f, 3)[i] = (int64_t)h;
	}
	for (size_t m = 0; m < pr->M; m++) {
		const struct shd_mseries *ser = &pr->mdl->ser[j->r * pr->M + m];
		const double *xm = s->x + m * s->n;
		size_t c = NFIXED + m * PER_METRIC;
		double cur = xm[j->t];

		forecast_metric(pr, j, b, m,
				shd_predict_method(pr->mdl, pr->method, j->r,
						   m));
		for (size_t h = 1; h <= H; h++) {
			size_t i = row0 + h - 1;
			double pred = pr->fc[h - 1], lo = NAN, hi = NAN,
			       cf = NAN;

			if (!isnan(pred)) {
				double q = ser->q[(size_t)pr->used[h - 1] * H +
						  h - 1] * ser->scale;

				lo = pred - q;
				hi = pred + q;
				cf = shd_confidence(q, ser->scale);
				/* a series that never went below zero (usage,
				 * bytes) is not forecast below it */
				if (pr->nonneg[j->k * pr->M + m]) {
					pred = pred < 0 ? 0 : pred;
					lo = lo < 0 ? 0 : lo;
					hi = hi < 0 ? 0 : hi;
				}
			}
			SHD_F64COL(f, c)[i] = pred;
			SHD_F64COL(f, c + 1)[i] = lo;
			SHD_F64COL(f, c + 2)[i] = hi;
			SHD_F64COL(f, c + 3)[i] = cf;
			SHD_F64COL(f, c + 4)[i] = cur;
			SHD_F64COL(f, c + 5)[i] = j->t + h < s->n ?
						  xm[j->t + h] : NAN;
		}
	}
	f->nrows += H;
}

/* The network's corrections of the queued jobs into pr->y. */
static int forward(struct shd_predictor *pr, char *err, size_t n)
{
	const struct shd_lstm *net = shd_model_net(pr->mdl, pr->jobs[0].r);
	const struct shd_lstm_config *c = &net->cfg;
	size_t nb = pr->njobs;
	int rc;

	if (pr->have_cache && (pr->cache.cfg.n_in != c->n_in ||
			       pr->cache.cfg.n_hidden != c->n_hidden ||
			       pr->cache.cfg.n_layers != c->n_layers ||
			       pr->cache.cfg.n_out != c->n_out)) {
		shd_lstm_cache_release(&pr->cache);
		pr->have_cache = 0;
	}
	if (!pr->have_cache) {
		struct shd_lstm_config cfg = *c;

		cfg.max_steps = pr->T;
		cfg.max_batch = BATCH;
		if ((rc = shd_lstm_cache_init(&pr->cache, &cfg))) {
			snprintf(err, n, "cannot run the network: %s",
				 shd_strerror(rc));
			return rc;
		}
		pr->have_cache = 1;
	}
	for (size_t b = 0; b < nb; b++) {
		const struct job *j = &pr->jobs[b];

		shd_window_inputs(pr->x, nb, b, &pr->p->series[j->k], pr->M,
				  &pr->mdl->ser[j->r * pr->M], j->t, pr->T,
				  pr->H, pr->mdl->day, pr->mdl->week,
				  pr->p->step);
	}
	rc = shd_lstm_forward(net, &pr->cache, pr->x, pr->T, nb, pr->y);
	if (rc)
		snprintf(err, n, "cannot run the network: %s",
			 shd_strerror(rc));
	return rc;
}

int shd_predictor_flush(struct shd_predictor *pr, char *err, size_t n)
{
	size_t nb = pr->njobs;
	int rc, any_net = 0;

	if (!nb)
		return 0;
	for (size_t b = 0; b < nb; b++)
		any_net |= pr->jobs[b].lstm;
	if (any_net && (rc = forward(pr, err, n)))
		return rc;
	pr->f.nrows = 0;
	for (size_t b = 0; b < nb; b++) {
		const struct job *j = &pr->jobs[b];

		shd_window_base(pr->base, &pr->p->series[j->k], pr->M,
				&pr->mdl->ser[j->r * pr->M], j->t, pr->H);
		emit(pr, j, b);
	}
	pr->count += nb;
	pr->njobs = 0;
	rc = shd_writer_write(pr->w, &pr->f);
	if (rc)
		snprintf(err, n, "%s", shd_writer_errmsg(pr->w));
	return rc;
}

int shd_predictor_push(struct shd_predictor *pr, size_t k, size_t r,
		       size_t t, char *err, size_t n)
{
	struct job *j;
	int rc;

	/* a batch shares one network */
	if (pr->njobs == BATCH || (pr->njobs && pr->mdl->per_resource &&
				   pr->jobs[0].r != r)) {
		if ((rc = shd_predictor_flush(pr, err, n)))
			return rc;
	}
	j = &pr->jobs[pr->njobs++];
	*j = (struct job){ .k = k, .r = r, .t = t };
	for (size_t m = 0; m < pr->M; m++)
		j->lstm |= shd_predict_method(pr->mdl, pr->method, r, m) ==
			   SHD_M_LSTM;
	return 0;
}
