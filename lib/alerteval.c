/*
 * alerteval.c - shd-drift's alerts judged against what happened: a
 * timeline per resource, scored by NAB's method and by breaches of limits
 * (alerteval.h has the picture).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerteval.h"

void shd_alert_eval_init(struct shd_alert_eval *e, size_t nmetric)
{
	memset(e, 0, sizeof(*e));
	e->nmetric = nmetric;
}

void shd_alert_eval_release(struct shd_alert_eval *e)
{
	for (size_t k = 0; k < e->ntl; k++) {
		free(e->tl[k].t);
		free(e->tl[k].det);
		free(e->tl[k].detm);
		free(e->tl[k].cur);
	}
	free(e->tl);
	e->tl = NULL;
	e->ntl = 0;
}

/* Room for one more origin in TL (M metrics). 0 or SHD_ENOMEM. */
static int grow(struct shd_timeline *tl, size_t M)
{
	size_t cap = tl->cap ? 2 * tl->cap : 1024;
	int64_t *t = realloc(tl->t, cap * sizeof(*t));
	uint8_t *det = t ? realloc(tl->det, cap) : NULL;
	uint8_t *detm = det ? realloc(tl->detm, cap * M) : NULL;
	double *cur = detm ? realloc(tl->cur, cap * M * sizeof(*cur)) : NULL;

	if (t)
		tl->t = t;
	if (det)
		tl->det = det;
	if (detm)
		tl->detm = detm;
	if (!cur)
		return SHD_ENOMEM;
	tl->cur = cur;
	tl->cap = cap;
	return 0;
}

int shd_alert_eval_add(struct shd_alert_eval *e, const struct shd_alert *a)
{
	size_t M = e->nmetric;
	struct shd_timeline *tl = e->ntl ? &e->tl[e->ntl - 1] : NULL;

	if (!tl || tl->res != a->res) {
		struct shd_timeline *n = realloc(e->tl,
						 (e->ntl + 1) * sizeof(*n));

		if (!n)
			return SHD_ENOMEM;
		e->tl = n;
		tl = &e->tl[e->ntl++];
		memset(tl, 0, sizeof(*tl));
		tl->res = a->res;
	}
	if (!tl->n || tl->t[tl->n - 1] != a->time) {
		if (tl->n == tl->cap && grow(tl, M))
			return SHD_ENOMEM;
		tl->t[tl->n] = a->time;
		tl->det[tl->n] = 0;
		for (size_t m = 0; m < M; m++) {
			tl->cur[tl->n * M + m] = NAN;
			tl->detm[tl->n * M + m] = 0;
		}
		tl->n++;
	}
	tl->cur[(tl->n - 1) * M + a->metric] = a->cur;
	tl->detm[(tl->n - 1) * M + a->metric] = a->candidate && a->kept;
	tl->det[tl->n - 1] |= a->candidate && a->kept;
	return 0;
}

size_t shd_alert_eval_nab(const struct shd_alert_eval *e,
			  const struct shd_dict *keys,
			  const struct shd_nab_labels *lab,
			  const char *labels, FILE *fp)
{
	size_t nw_total = 0, files = 0;
	double raw[3] = { 0 };
	struct shd_nab_counts tot[3];

	memset(tot, 0, sizeof(tot));
	fprintf(fp, "NAB scores (labels: %s)\n", labels);
	fprintf(fp, "%-44s %5s %4s %4s %4s %9s %9s %9s\n", "resource", "wins",
		"tp", "fp", "fn", "standard", "low_fp", "low_fn");
	for (size_t k = 0; k < e->ntl; k++) {
		const struct shd_timeline *tl = &e->tl[k];
		const char *key = shd_dict_str(keys, tl->res, NULL);
		const struct shd_nab_window *w;
		struct shd_nab_counts c[3];
		size_t nw;
		double s[3];

		w = shd_nab_labels_find(lab, key, &nw);
		if (!w && !nw)
			continue;	/* not in the labels: not scored */
		files++;
		for (int p = 0; p < 3; p++) {
			s[p] = shd_nab_score(tl->t, tl->det, tl->n, w, nw,
					     &shd_nab_profiles[p], &c[p]);
			raw[p] += s[p];
			tot[p].tp += c[p].tp;
			tot[p].fp += c[p].fp;
			tot[p].fn += c[p].fn;
		}
		nw_total += c[0].windows;
		fprintf(fp, "%-44s %5zu %4zu %4zu %4zu %9.3f %9.3f %9.3f\n",
			key, c[0].windows, c[0].tp, c[0].fp, c[0].fn, s[0],
			s[1], s[2]);
	}
	fprintf(fp, "%-44s %5zu %4zu %4zu %4zu %9.3f %9.3f %9.3f\n",
		"total (raw)", nw_total, tot[0].tp, tot[0].fp, tot[0].fn,
		raw[0], raw[1], raw[2]);
	fprintf(fp, "%-44s %5s %4s %4s %4s %9.2f %9.2f %9.2f\n",
		"normalized (0 null, 100 perfect)", "", "", "", "",
		shd_nab_normalize(raw[0], nw_total, &shd_nab_profiles[0]),
		shd_nab_normalize(raw[1], nw_total, &shd_nab_profiles[1]),
		shd_nab_normalize(raw[2], nw_total, &shd_nab_profiles[2]));
	return files;
}

long shd_alert_eval_tune(const struct shd_alert_eval *e,
			 const struct shd_dict *keys,
			 const struct shd_nab_labels *lab,
			 struct shd_filter *f)
{
	size_t n = 0, cap = 0;
	uint32_t *res = NULL;
	int64_t *from = NULL, *to = NULL;
	long used = SHD_ENOMEM;

	for (size_t k = 0; k < e->ntl; k++) {
		const struct shd_timeline *tl = &e->tl[k];
		size_t nw, prob = shd_nab_probation(tl->n);
		const struct shd_nab_window *w = shd_nab_labels_find(
			lab, shd_dict_str(keys, tl->res, NULL), &nw);

		for (size_t i = 0; i < nw && prob < tl->n; i++) {
			if (n == cap) {
				size_t c2 = cap ? 2 * cap : 64;
				uint32_t *r2 = realloc(res, c2 * sizeof(*r2));
				int64_t *f2, *t2;

				if (r2)
					res = r2;
				f2 = r2 ? realloc(from, c2 * sizeof(*f2)) : NULL;
				if (f2)
					from = f2;
				t2 = f2 ? realloc(to, c2 * sizeof(*t2)) : NULL;
				if (!t2)
					goto out;
				to = t2;
				cap = c2;
			}
			res[n] = tl->res;
			from[n] = w[i].from > tl->t[prob] ? w[i].from :
				  tl->t[prob];
			to[n++] = w[i].to;
		}
	}
	used = (long)shd_filter_tune(f, res, from, to, n);
out:
	free(res);
	free(from);
	free(to);
	return used;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int shd_alert_eval_breach(const struct shd_alert_eval *e,
			  const struct shd_drift *d, size_t horizon, FILE *fp)
{
	size_t M = e->nmetric, maxn = 1, total = 0;
	double *lead, *cur;
	uint8_t *det;
	int rc = 0;

	for (size_t k = 0; k < e->ntl; k++) {
		maxn = e->tl[k].n > maxn ? e->tl[k].n : maxn;
		total += e->tl[k].n;
	}
	cur = malloc(maxn * sizeof(*cur));
	det = malloc(maxn);
	lead = malloc((total + 1) * sizeof(*lead));
	if (!cur || !det || !lead) {
		rc = SHD_ENOMEM;
		goto out;
	}
	for (size_t m = 0; m < M; m++) {
		struct shd_breach_eval tot = { 0 };
		double days = 0;
		size_t nlead = 0, nser = 0;

		for (size_t k = 0; k < e->ntl; k++) {
			const struct shd_timeline *tl = &e->tl[k];
			double limit = shd_drift_limit(d, tl->res, m);
			struct shd_breach_eval be;
			int64_t step;

			if (isnan(limit) || tl->n < 2)
				continue;
			nser++;
			for (size_t i = 0; i < tl->n; i++) {
				cur[i] = tl->cur[i * M + m];
				det[i] = tl->detm[i * M + m];
			}
			step = tl->t[1] - tl->t[0];
			days += (double)(tl->t[tl->n - 1] - tl->t[0]) /
				86400000.0;
			/* an alert counts for breaches within the horizon */
			shd_breach_eval(tl->t, cur, det, tl->n, limit,
					(int64_t)horizon * step, &be,
					lead + nlead);
			nlead += be.nlead;
			tot.breaches += be.breaches;
			tot.ahead += be.ahead;
			tot.alerts += be.alerts;
			tot.false_alerts += be.false_alerts;
		}
		if (nser)
			fprintf(fp, "%s: %zu series with a limit, %zu "
				"breaches, alerted ahead %zu (%.1f%%), median "
				"lead %.0f s; %zu alerts, %zu false (%.3f per "
				"resource-day)\n", shd_drift_metric_name(d, m),
				nser, tot.breaches, tot.ahead,
				tot.breaches ? 100.0 * (double)tot.ahead /
					       (double)tot.breaches : 0.0,
				median(lead, nlead) / 1000, tot.alerts,
				tot.false_alerts, days > 0 ?
				(double)tot.false_alerts / days : 0.0);
	}
out:
	free(cur);
	free(det);
	free(lead);
	return rc;
}
