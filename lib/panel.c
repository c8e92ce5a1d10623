/*
 * panel.c - a utilization stream read into regular series, one per
 * resource, on the grid floor(t / step) * step (the grid of shd-ingest -i).
 *
 * Rows are gathered per resource as they come (the stream is in canonical
 * order, so one resource is one run of rows), and each resource is put on
 * the grid as soon as its run ends, so that memory holds the grid and one
 * resource's rows, not the whole stream twice. When the step is not given
 * and the stream does not say it, the first resources' rows wait until the
 * step is settled from them (the median difference of their times).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"

/* Rows of one resource as read. */
struct raw {
	char *key;
	size_t n, cap;
	size_t hint;		/* rows to make room for at first */
	int64_t *t;		/* (n) */
	double *v;		/* (n, nmetric) row-major */
};

static int fail(struct shd_panel *p, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return rc;
}

void shd_panel_init(struct shd_panel *p)
{
	memset(p, 0, sizeof(*p));
}

void shd_panel_release(struct shd_panel *p)
{
	for (size_t m = 0; m < p->nmetric; m++) {
		free(p->metric[m]);
		free(p->unit[m]);
	}
	free(p->metric);
	free(p->unit);
	for (size_t k = 0; k < p->nseries; k++) {
		free(p->series[k].key);
		free(p->series[k].x);
		free(p->series[k].count);
	}
	free(p->series);
	shd_panel_init(p);
}

long shd_panel_find(const struct shd_panel *p, const char *key)
{
	for (size_t k = 0; k < p->nseries; k++)
		if (strcmp(p->series[k].key, key) == 0)
			return (long)k;
	return -1;
}

static int raw_push(struct raw *r, int64_t t, const double *v, size_t nm)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 :
			     r->hint > 16 ? r->hint : 16;
		int64_t *tt = realloc(r->t, cap * sizeof(*tt));
		if (!tt)
			return SHD_ENOMEM;
		r->t = tt;
		double *vv = realloc(r->v, cap * (nm ? nm : 1) * sizeof(*vv));
		if (!vv)
			return SHD_ENOMEM;
		r->v = vv;
		r->cap = cap;
	}
	r->t[r->n] = t;
	memcpy(r->v + r->n * nm, v, nm * sizeof(*v));
	r->n++;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The median positive difference of consecutive times, or 0. */
static int64_t median_step(const struct raw *raws, size_t n)
{
	size_t cap = 1 << 16, k = 0;
	int64_t *d = malloc(cap * sizeof(*d));

	if (!d)
		return 0;
	for (size_t s = 0; s < n && k < cap; s++)
		for (size_t i = 1; i < raws[s].n && k < cap; i++)
			if (raws[s].t[i] > raws[s].t[i - 1])
				d[k++] = raws[s].t[i] - raws[s].t[i - 1];
	int64_t step = 0;
	if (k) {
		qsort(d, k, sizeof(*d), cmp_i64);
		step = d[k / 2];
	}
	free(d);
	return step;
}

static int64_t floor_to(int64_t t, int64_t step)
{
	int64_t q = t / step;

	if (t % step < 0)
		q--;
	return q * step;
}

/*
 * Puts the rows of R on the grid of P->step as series S, only its last
 * KEEP slots when 0 < KEEP < all of them: rows before those are skipped,
 * never placed and then moved.
 */
static int to_grid(struct shd_panel *p, struct raw *r, struct shd_pseries *s,
		   size_t keep)
{
	size_t nm = p->nmetric;
	int64_t first = floor_to(r->t[0], p->step);
	int64_t last = floor_to(r->t[r->n - 1], p->step);
	uint64_t n = (uint64_t)(last - first) / (uint64_t)p->step + 1;

	if (n > 16 * (uint64_t)r->n + (1u << 20))
		return fail(p, SHD_EINVAL, "resource '%s': %llu slots of %lld "
			    "ms for %zu rows: is the step right?", r->key,
			    (unsigned long long)n, (long long)p->step, r->n);
	if (keep && keep < n) {
		first += (int64_t)(n - keep) * p->step;
		n = keep;
	}
	s->key = r->key;
	r->key = NULL;
	s->t0 = first;
	s->n = (size_t)n;
	s->x = malloc(s->n * (nm ? nm : 1) * sizeof(*s->x));
	s->count = calloc(s->n, sizeof(*s->count));
	uint32_t *seen = calloc(s->n * (nm ? nm : 1), sizeof(*seen));
	if (!s->x || !s->count || !seen) {
		free(seen);
		return SHD_ENOMEM;
	}
	for (size_t i = 0; i < s->n * nm; i++)
		s->x[i] = NAN;
	for (size_t i = 0; i < r->n; i++) {
		int64_t at = floor_to(r->t[i], p->step);
		if (at < first)
			continue;
		size_t slot = (size_t)((at - first) / p->step);
		s->count[slot]++;
		for (size_t m = 0; m < nm; m++) {
			double v = r->v[i * nm + m];
			if (isnan(v))
				continue;
			double *dst = &s->x[m * s->n + slot];
			uint32_t c = seen[m * s->n + slot]++;
			*dst = c == 0 ? v : *dst + (v - *dst) / (double)(c + 1);
		}
	}
	free(seen);
	return 0;
}

/* Resources whose rows settle an unknown step (see the top). */
#define STEP_FROM 8

struct reading {
	struct shd_panel *p;
	struct raw *raws;	/* rows of resources not yet on the grid */
	size_t nraw, capraw;
	size_t capser;
	size_t last_n;		/* rows of the last resource put on the grid */
	size_t (*keep)(void *ctx, const char *key);
	void *ctx;
};

/* Puts the resources waiting in RD on the grid and frees their rows. */
static int settle(struct reading *rd)
{
	struct shd_panel *p = rd->p;
	int rc = 0;

	if (p->nseries + rd->nraw > rd->capser) {
		size_t c2 = rd->capser ? rd->capser : 64;
		while (c2 < p->nseries + rd->nraw)
			c2 *= 2;
		struct shd_pseries *ns = realloc(p->series, c2 * sizeof(*ns));
		if (!ns)
			return SHD_ENOMEM;
		p->series = ns;
		rd->capser = c2;
	}
	for (size_t k = 0; k < rd->nraw; k++) {
		struct raw *rw = &rd->raws[k];
		struct shd_pseries *ps = &p->series[p->nseries];
		rd->last_n = rw->n;
		if (!rc) {
			memset(ps, 0, sizeof(*ps));
			p->nseries++;	/* released with P even on failure */
			rc = to_grid(p, rw, ps,
				     rd->keep ? rd->keep(rd->ctx, rw->key) : 0);
		}
		free(rw->key);
		free(rw->t);
		free(rw->v);
		memset(rw, 0, sizeof(*rw));
	}
	rd->nraw = 0;
	return rc;
}

int shd_panel_read(struct shd_panel *p, struct shd_reader *r,
		   const char *const *metrics, size_t nmetrics, int64_t step)
{
	return shd_panel_read_keep(p, r, metrics, nmetrics, step, NULL, NULL);
}

int shd_panel_read_keep(struct shd_panel *p, struct shd_reader *r,
			const char *const *metrics, size_t nmetrics,
			int64_t step,
			size_t (*keep)(void *ctx, const char *key), void *ctx)
{
	const struct shd_schema *s = shd_reader_schema(r);
	struct shd_dict *dict = shd_reader_dict(r);
	struct shd_frame f;
	struct reading rd = { .p = p, .keep = keep, .ctx = ctx };
	int *col = NULL, tcol = -1, kcol = -1, rc = 0;
	double *row = NULL;
	uint32_t cur = UINT32_MAX;
	unsigned char *done = NULL;	/* per key id: its run has ended */
	size_t ndone = 0;

	shd_panel_release(p);
	if (step <= 0) {
		const char *iv = shd_schema_meta(s, "interval_ms");
		step = iv ? strtoll(iv, NULL, 10) : 0;
	}
	p->step = step > 0 ? step : 0;
	for (size_t j = 0; j < s->ncols; j++) {
		if (s->cols[j].type == SHD_TIME && tcol < 0)
			tcol = (int)j;
		if (s->cols[j].type == SHD_KEY && kcol < 0)
			kcol = (int)j;
	}
	if (tcol < 0 || kcol < 0)
		return fail(p, SHD_EFORMAT, "the stream has no %s column",
			    tcol < 0 ? "time" : "key (resource)");
	size_t cap = metrics && nmetrics ? nmetrics : s->ncols;
	col = calloc(cap, sizeof(*col));
	p->metric = calloc(cap, sizeof(*p->metric));
	p->unit = calloc(cap, sizeof(*p->unit));
	if (!col || !p->metric || !p->unit) {
		rc = SHD_ENOMEM;
		goto out;
	}
	if (metrics && nmetrics) {
		for (size_t k = 0; k < nmetrics; k++) {
			int j = shd_schema_find(s, metrics[k]);
			if (j < 0 || s->cols[j].type != SHD_F64) {
				rc = fail(p, SHD_EINVAL, "no f64 metric '%s' in "
					  "the stream", metrics[k]);
				goto out;
			}
			col[p->nmetric++] = j;
		}
	} else {
		for (size_t j = 0; j < s->ncols; j++)
			if (s->cols[j].type == SHD_F64)
				col[p->nmetric++] = (int)j;
	}
	for (size_t m = 0; m < p->nmetric; m++) {
		p->metric[m] = strdup(s->cols[col[m]].name);
		p->unit[m] = strdup(s->cols[col[m]].unit);
		if (!p->metric[m] || !p->unit[m]) {
			rc = SHD_ENOMEM;
			goto out;
		}
	}
	row = malloc((p->nmetric ? p->nmetric : 1) * sizeof(*row));
	if (!row || shd_frame_init(&f, s, dict) < 0) {
		rc = SHD_ENOMEM;
		goto out;
	}
	uint64_t rowno = 0;
	while ((rc = shd_reader_next(r, &f)) == 0) {
		const int64_t *t = SHD_I64COL(&f, tcol);
		const uint32_t *key = SHD_KEYCOL(&f, kcol);
		for (size_t i = 0; i < f.nrows; i++, rowno++) {
			if (key[i] != cur) {
				/* A new run: its key must not have had one. */
				if (cur != UINT32_MAX && cur >= ndone) {
					size_t n = ndone ? ndone : 64;
					while (n <= cur)
						n *= 2;
					unsigned char *d = realloc(done, n);
					if (!d) {
						rc = SHD_ENOMEM;
						goto out_frame;
					}
					memset(d + ndone, 0, n - ndone);
					done = d;
					ndone = n;
				}
				if (cur != UINT32_MAX)
					done[cur] = 1;
				if (key[i] < ndone && done[key[i]]) {
					rc = fail(p, SHD_EFORMAT, "row %llu: "
						  "resource '%s' again after "
						  "others: the stream is not in "
						  "canonical order (hint: "
						  "shd-ingest sorts)",
						  (unsigned long long)rowno + 1,
						  shd_dict_str(dict, key[i], NULL));
					goto out_frame;
				}
				/* the run before is whole: on the grid with it
				 * (the step unknown: tried at 8 resources,
				 * then at 16, 32, ...) */
				if (p->step || (rd.nraw >= STEP_FROM &&
						!(rd.nraw & (rd.nraw - 1)))) {
					if (!p->step)
						p->step = median_step(rd.raws,
								      rd.nraw);
					if (p->step && (rc = settle(&rd)))
						goto out_frame;
				}
				if (rd.nraw == rd.capraw) {
					size_t c2 = rd.capraw ? rd.capraw * 2 : 16;
					struct raw *rr = realloc(rd.raws,
								 c2 * sizeof(*rr));
					if (!rr) {
						rc = SHD_ENOMEM;
						goto out_frame;
					}
					rd.raws = rr;
					rd.capraw = c2;
				}
				struct raw *nr = &rd.raws[rd.nraw];
				memset(nr, 0, sizeof(*nr));
				/* fleets are alike: room for as many rows as
				 * the last resource had saves the copies */
				nr->hint = rd.last_n + rd.last_n / 16;
				nr->key = strdup(shd_dict_str(dict, key[i], NULL));
				if (!rd.raws[rd.nraw++].key) {
					rc = SHD_ENOMEM;
					goto out_frame;
				}
				cur = key[i];
			}
			/* a run was started above: rd.nraw >= 1 */
			struct raw *rw = &rd.raws[rd.nraw - 1];
			/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
			if (rw->n && t[i] < rw->t[rw->n - 1]) {
				rc = fail(p, SHD_EFORMAT, "row %llu: time goes "
					  "back within resource '%s': the stream "
					  "is not in canonical order (hint: "
					  "shd-ingest sorts)",
					  (unsigned long long)rowno + 1, rw->key);
				goto out_frame;
			}
			for (size_t m = 0; m < p->nmetric; m++)
				row[m] = SHD_F64COL(&f, col[m])[i];
			if ((rc = raw_push(rw, t[i], row, p->nmetric)) < 0)
				goto out_frame;
		}
	}
	if (rc != SHD_EOF) {
		if (rc != SHD_ENOMEM)
			fail(p, rc, "%s", shd_reader_errmsg(r));
		goto out_frame;
	}
	if (p->step <= 0)
		p->step = median_step(rd.raws, rd.nraw);
	if (p->step <= 0) {
		rc = fail(p, SHD_EINVAL, "cannot tell the sampling step (fewer "
			  "than two times per resource?)");
		goto out_frame;
	}
	rc = settle(&rd);
	if (!rc && !p->series) {	/* an empty stream: an empty panel */
		p->series = calloc(1, sizeof(*p->series));
		if (!p->series)
			rc = SHD_ENOMEM;
	}
out_frame:
	shd_frame_release(&f);
out:
	for (size_t k = 0; k < rd.nraw; k++) {
		free(rd.raws[k].key);
		free(rd.raws[k].t);
		free(rd.raws[k].v);
	}
	free(rd.raws);
	free(done);
	free(row);
	free(col);
	if (rc == SHD_ENOMEM)
		fail(p, rc, "out of memory");
	return rc;
}
