/*
 * fidelity.c - KS distance, quantiles, cycle strength and the fidelity
 * report of a shadow against production (fidelity.h has the definitions).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fidelity.h"
#include "shadow.h"
#include "shd.h"

const double shd_fid_p[3] = { 0.50, 0.95, 0.99 };
const char *const shd_fid_pname[3] = { "p50", "p95", "p99" };

double shd_ks_distance(const double *a, size_t na, const double *b,
		       size_t nb)
{
	size_t i = 0, j = 0;
	double d = 0;

	if (!na || !nb)
		return na == nb ? 0 : 1;
	/* walk the merged values; at each distinct value x step past every
	 * copy of x in both before comparing F_a(x) and F_b(x) */
	while (i < na && j < nb) {
		double x = a[i] < b[j] ? a[i] : b[j];

		while (i < na && a[i] == x)
			i++;
		while (j < nb && b[j] == x)
			j++;
		double e = fabs((double)i / (double)na - (double)j / (double)nb);
		if (e > d)
			d = e;
	}
	/* past the end of one, the other's F only rises to 1: the gap
	 * shrinks, so the largest was seen already */
	return d;
}

double shd_quantile_sorted(const double *x, size_t n, double p)
{
	if (!n)
		return NAN;
	if (p <= 0)
		return x[0];
	if (p >= 1)
		return x[n - 1];
	double h = (double)(n - 1) * p;
	size_t j = (size_t)floor(h);

	if (j + 1 >= n)
		return x[n - 1];
	/* j + 1 < n, checked above */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	return x[j] + (h - (double)j) * (x[j + 1] - x[j]);
}

double shd_rel_err(double s, double p)
{
	if (isnan(s) || isnan(p))
		return NAN;
	if (p == 0)
		return s == 0 ? 0 : NAN;
	return (s - p) / fabs(p);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void shd_sort_doubles(double *x, size_t n)
{
	if (n > 1)
		qsort(x, n, sizeof(*x), cmp_double);
}

#define MAXBINS 168

double shd_cycle_strength(const int64_t *t, const double *x, size_t n,
			  int64_t period, int64_t bin)
{
	double sum[MAXBINS] = { 0 }, mean_b[MAXBINS];
	size_t cnt[MAXBINS] = { 0 }, nb, m = 0, g = 0;
	double total = 0, mean, sst = 0, ssw = 0;

	if (bin <= 0 || period < bin || period / bin > MAXBINS)
		return NAN;
	nb = (size_t)(period / bin);
	for (size_t i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		int64_t ph = t[i] % period;
		size_t k = (size_t)((ph < 0 ? ph + period : ph) / bin);

		if (k >= nb)	/* a period that is not a whole number of bins */
			k = nb - 1;
		sum[k] += x[i];
		cnt[k]++;
		total += x[i];
		m++;
	}
	for (size_t k = 0; k < nb; k++) {
		g += cnt[k] > 0;
		mean_b[k] = cnt[k] ? sum[k] / (double)cnt[k] : 0;
	}
	if (m <= g || m < 2)
		return NAN;
	mean = total / (double)m;
	for (size_t i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		int64_t ph = t[i] % period;
		size_t k = (size_t)((ph < 0 ? ph + period : ph) / bin);

		if (k >= nb)
			k = nb - 1;
		sst += (x[i] - mean) * (x[i] - mean);
		ssw += (x[i] - mean_b[k]) * (x[i] - mean_b[k]);
	}
	/* a constant series (up to rounding) has no cycle to speak of */
	if (!(sst > 1e-12 * (double)m * (fabs(mean) * fabs(mean) + 1e-300)))
		return NAN;
	double s = 1 - (ssw / (double)(m - g)) / (sst / (double)(m - 1));

	return s < 0 ? 0 : s > 1 ? 1 : s;
}

/* Mean over U's resources of the cycle strength of metric M (-1: NaN). */
static double mean_strength(const struct shd_util *u, int m, int64_t period)
{
	double sum = 0;
	size_t k = 0;

	if (m < 0)
		return NAN;
	for (size_t r = 0; r < u->nres; r++) {
		size_t a = u->rstart[r], b = u->rstart[r + 1];
		double s = shd_cycle_strength(u->t + a, u->x[m] + a, b - a,
					      period, SHD_MS_HOUR);
		if (!isnan(s)) {
			sum += s;
			k++;
		}
	}
	return k ? sum / (double)k : NAN;
}

/* The sorted non-NaN values of metric M of U in *V (*N); 0 or ENOMEM. */
static int pooled(const struct shd_util *u, int m, double **v, size_t *n)
{
	*v = NULL;
	*n = 0;
	if (m < 0)
		return 0;
	*v = malloc((u->n ? u->n : 1) * sizeof(**v));
	if (!*v)
		return SHD_ENOMEM;
	for (size_t i = 0; i < u->n; i++)
		if (!isnan(u->x[m][i]))
			(*v)[(*n)++] = u->x[m][i];
	shd_sort_doubles(*v, *n);
	return 0;
}

int shd_fidelity_compute(struct shd_fidelity *f, const struct shd_util *prod,
			 const struct shd_util *shadow, double max_ks)
{
	memset(f, 0, sizeof(*f));
	f->max_ks = max_ks;
	f->faithful = 1;
	f->m = calloc(prod->nmetric ? prod->nmetric : 1, sizeof(*f->m));
	if (!f->m)
		return SHD_ENOMEM;
	f->nmetric = prod->nmetric;
	for (size_t k = 0; k < prod->nmetric; k++) {
		struct shd_fid_metric *fm = &f->m[k];
		const char *name = prod->schema.cols[prod->mcol[k]].name;
		int ms = shd_util_metric(shadow, name);
		double *a, *b;
		size_t na, nb;

		snprintf(fm->name, sizeof(fm->name), "%s", name);
		if (pooled(prod, (int)k, &a, &na))
			return SHD_ENOMEM;
		if (pooled(shadow, ms, &b, &nb)) {
			free(a);
			return SHD_ENOMEM;
		}
		fm->nprod = na;
		fm->nshadow = nb;
		fm->ks = na || nb ? shd_ks_distance(a, na, b, nb) : NAN;
		for (int q = 0; q < 3; q++) {
			fm->q[q][0] = shd_quantile_sorted(a, na, shd_fid_p[q]);
			fm->q[q][1] = shd_quantile_sorted(b, nb, shd_fid_p[q]);
			fm->qerr[q] = shd_rel_err(fm->q[q][1], fm->q[q][0]);
		}
		free(a);
		free(b);
		fm->daily[0] = mean_strength(prod, (int)k, SHD_MS_DAY);
		fm->daily[1] = mean_strength(shadow, ms, SHD_MS_DAY);
		fm->weekly[0] = mean_strength(prod, (int)k, SHD_MS_WEEK);
		fm->weekly[1] = mean_strength(shadow, ms, SHD_MS_WEEK);
		fm->ok = isnan(fm->ks) || fm->ks <= max_ks;
		if (!fm->ok)
			f->faithful = 0;
	}
	return 0;
}

void shd_fidelity_release(struct shd_fidelity *f)
{
	free(f->m);
	memset(f, 0, sizeof(*f));
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* {"production": A, "shadow": B} */
static json_t *pair(double a, double b)
{
	return json_pack("{s:o, s:o}", "production", jnum(a), "shadow",
			 jnum(b));
}

json_t *shd_fidelity_json(const struct shd_fidelity *f)
{
	json_t *root, *metrics, *failed;

	root = json_object();
	metrics = json_object();
	failed = json_array();
	if (!root || !metrics || !failed)
		goto nomem;
	for (size_t k = 0; k < f->nmetric; k++) {
		const struct shd_fid_metric *fm = &f->m[k];
		json_t *o = json_pack("{s:{s:I, s:I}, s:o, s:b}", "values",
				      "production", (json_int_t)fm->nprod,
				      "shadow", (json_int_t)fm->nshadow,
				      "ks", jnum(fm->ks), "ok", fm->ok);

		/* a name of invalid UTF-8 is no JSON key: '?' for its
		 * bytes above 0x7f */
		char key[sizeof(fm->name)];
		snprintf(key, sizeof(key), "%s", fm->name);
		json_t *probe = json_string(key);
		if (!probe)
			for (char *p = key; *p; p++)
				if ((unsigned char)*p >= 0x80)
					*p = '?';
		json_decref(probe);
		if (!o || json_object_set_new(metrics, key, o))
			goto nomem;
		for (int q = 0; q < 3; q++) {
			json_t *e = pair(fm->q[q][0], fm->q[q][1]);

			if (!e || json_object_set_new(e, "rel_err",
						      jnum(fm->qerr[q])) ||
			    json_object_set_new(o, shd_fid_pname[q], e))
				goto nomem;
		}
		if (json_object_set_new(o, "daily", pair(fm->daily[0],
							 fm->daily[1])) ||
		    json_object_set_new(o, "weekly", pair(fm->weekly[0],
							  fm->weekly[1])))
			goto nomem;
		if (!fm->ok && json_array_append_new(failed, json_string(key)))
			goto nomem;
	}
	if (json_object_set_new(root, "max_ks", json_real(f->max_ks)) ||
	    json_object_set_new(root, "verdict", json_string(
				f->faithful ? "faithful" : "not faithful")) ||
	    json_object_set(root, "failed", failed) ||
	    json_object_set(root, "metrics", metrics))
		goto nomem;
	json_decref(failed);
	json_decref(metrics);
	return root;
nomem:
	json_decref(root);
	json_decref(metrics);
	json_decref(failed);
	return NULL;
}
