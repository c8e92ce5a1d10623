/*
 * acc.c - the accumulator behind shd-ingest: rows from any number of inputs
 * gathered per resource, then written in canonical order (resource name,
 * then time, stable), merged across sources, optionally on a regular grid.
 *
 * A series keeps its rows column by column: times, the source of each row,
 * and one array per metric, allocated the first time the metric is set in
 * that series (before that the whole column is NaN, and costs nothing).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

struct shd_series {
	struct shd_acc *acc;
	uint32_t key;		/* id in acc->keys */
	int multi;		/* rows come from more than one source */
	size_t n, cap;
	int64_t *t;		/* (n) time in ms */
	unsigned src0;		/* the source of the first row */
	uint32_t *src;		/* (n) source of each row, once there are
				 * two (multi); NULL while all are src0 */
	size_t nv;
	double **v;		/* (nv) per metric: NULL (all NaN) or (cap) */
};

struct shd_acc {
	struct shd_dict *keys;
	struct shd_series **series;	/* (nseries) indexed by key id */
	size_t nseries, cap;
	size_t nmetric;
	char **mname, **munit;		/* (nmetric) */
	struct shd_dict *mdict;		/* metric name -> index */
	unsigned nsource;
	uint64_t rows;
	char err[256];
};

struct shd_acc *shd_acc_new(void)
{
	struct shd_acc *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->keys = shd_dict_new();
	a->mdict = shd_dict_new();
	if (!a->keys || !a->mdict) {
		shd_dict_free(a->keys);
		shd_dict_free(a->mdict);
		free(a);
		return NULL;
	}
	return a;
}

static void series_free(struct shd_series *s)
{
	if (!s)
		return;
	for (size_t m = 0; m < s->nv; m++)
		free(s->v[m]);
	free(s->v);
	free(s->t);
	free(s->src);
	free(s);
}

void shd_acc_free(struct shd_acc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nseries; i++)
		series_free(a->series[i]);
	free(a->series);
	for (size_t m = 0; m < a->nmetric; m++) {
		free(a->mname[m]);
		free(a->munit[m]);
	}
	free(a->mname);
	free(a->munit);
	shd_dict_free(a->keys);
	shd_dict_free(a->mdict);
	free(a);
}

const char *shd_acc_errmsg(const struct shd_acc *a)
{
	return a->err;
}

uint64_t shd_acc_rows(const struct shd_acc *a)
{
	return a->rows;
}

size_t shd_acc_nseries(const struct shd_acc *a)
{
	return a->nseries;
}

int shd_acc_metric(struct shd_acc *a, const char *name, const char *unit)
{
	uint32_t id;

	if (!*name || !strcmp(name, "time") || !strcmp(name, "resource"))
		return SHD_EINVAL;
	if (shd_dict_find(a->mdict, name, strlen(name), &id) == 0) {
		size_t m = id;
		if (unit && *unit && !*a->munit[m]) {
			char *u = strdup(unit);
			if (!u)
				return SHD_ENOMEM;
			free(a->munit[m]);
			a->munit[m] = u;
		}
		return (int)m;
	}
	if (a->nmetric >= 65536)
		return SHD_EINVAL;
	char **nn = realloc(a->mname, (a->nmetric + 1) * sizeof(*nn));
	if (!nn)
		return SHD_ENOMEM;
	a->mname = nn;
	char **uu = realloc(a->munit, (a->nmetric + 1) * sizeof(*uu));
	if (!uu)
		return SHD_ENOMEM;
	a->munit = uu;
	char *n = strdup(name), *u = strdup(unit ? unit : "");
	if (!n || !u) {
		free(n);
		free(u);
		return SHD_ENOMEM;
	}
	if (shd_dict_intern(a->mdict, name, strlen(name), &id) < 0) {
		free(n);
		free(u);
		return SHD_ENOMEM;
	}
	a->mname[a->nmetric] = n;
	a->munit[a->nmetric] = u;
	return (int)a->nmetric++;
}

unsigned shd_acc_source(struct shd_acc *a)
{
	return a->nsource++;
}

struct shd_series *shd_acc_series(struct shd_acc *a, const char *key,
				  size_t len)
{
	uint32_t id;

	if (shd_dict_intern(a->keys, key, len, &id) < 0)
		return NULL;
	if (id < a->nseries)
		return a->series[id];
	if (a->nseries == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		/* an array of pointers: sizeof(*p) is meant */
		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		struct shd_series **p = realloc(a->series, cap * sizeof(*p));
		if (!p)
			return NULL;
		a->series = p;
		a->cap = cap;
	}
	struct shd_series *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->acc = a;
	s->key = id;
	a->series[a->nseries++] = s;
	return s;
}

static int series_grow(struct shd_series *s)
{
	/* Small at first: a million resources of a row or two each are
	 * ~300 bytes apiece (t1000-faults.sh measures them), not 5 KiB. */
	size_t cap = s->cap ? s->cap * 2 : 4;
	int64_t *t = realloc(s->t, cap * sizeof(*t));

	if (!t)
		return SHD_ENOMEM;
	s->t = t;
	if (s->src) {
		uint32_t *src = realloc(s->src, cap * sizeof(*src));
		if (!src)
			return SHD_ENOMEM;
		s->src = src;
	}
	for (size_t m = 0; m < s->nv; m++) {
		if (!s->v[m])
			continue;
		double *v = realloc(s->v[m], cap * sizeof(*v));
		if (!v)
			return SHD_ENOMEM;
		s->v[m] = v;
	}
	s->cap = cap;
	return 0;
}

/* Makes S hold a column for every metric index below NV. */
static int series_cols(struct shd_series *s, size_t nv)
{
	double **p = realloc(s->v, nv * sizeof(*p));

	if (!p)
		return SHD_ENOMEM;
	for (size_t k = s->nv; k < nv; k++)
		p[k] = NULL;
	s->v = p;
	s->nv = nv;
	return 0;
}

/* Allocates the column of metric M (< s->nv), NaN in every row so far. */
static int series_alloc_col(struct shd_series *s, size_t m)
{
	double *col = malloc(s->cap * sizeof(*col));

	if (!col)
		return SHD_ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		col[i] = NAN;
	s->v[m] = col;
	return 0;
}

/*
 * Records SOURCE for row S->n (room for it made): a column of sources is
 * only kept once a second source comes, so that the usual single source
 * costs nothing per row.
 */
static int note_source(struct shd_series *s, unsigned source)
{
	if (!s->src) {
		if (s->n == 0)
			s->src0 = source;
		if (source == s->src0)
			return 0;
		uint32_t *src = malloc(s->cap * sizeof(*src));
		if (!src)
			return SHD_ENOMEM;
		for (size_t i = 0; i < s->n; i++)
			src[i] = s->src0;
		s->src = src;
		s->multi = 1;
	}
	s->src[s->n] = source;
	return 0;
}

int shd_series_row(struct shd_series *s, unsigned source, int64_t t)
{
	if ((s->n == s->cap && series_grow(s) < 0) ||
	    note_source(s, source) < 0)
		return SHD_ENOMEM;
	s->t[s->n] = t;
	for (size_t m = 0; m < s->nv; m++)
		if (s->v[m])
			s->v[m][s->n] = NAN;
	s->n++;
	s->acc->rows++;
	return 0;
}

int shd_series_set(struct shd_series *s, int metric, double v)
{
	size_t m = (size_t)metric;

	if (metric < 0 || s->n == 0)
		return SHD_EINVAL;
	if (m >= s->nv && series_cols(s, m + 1) < 0)
		return SHD_ENOMEM;
	if (!s->v[m] && series_alloc_col(s, m) < 0)
		return SHD_ENOMEM;
	s->v[m][s->n - 1] = v;
	return 0;
}

int shd_series_row_values(struct shd_series *s, unsigned source, int64_t t,
			  const int *metric, const double *vals, size_t n)
{
	size_t r;

	/* Room and columns first, so that a failure adds no row. */
	if (s->n == s->cap && series_grow(s) < 0)
		return SHD_ENOMEM;
	r = s->n;
	/*
	 * The usual case: one value for each of metrics 0..n-1 in order, and
	 * no other columns, all allocated: plain stores.
	 */
	if (s->nv == n) {
		size_t i;

		for (i = 0; i < n; i++)
			if ((size_t)metric[i] != i || !s->v[i])
				break;
		if (i == n) {
			if (note_source(s, source) < 0)
				return SHD_ENOMEM;
			s->t[r] = t;
			/* (Any NaN is stored as NAN, as missing values are.) */
			for (i = 0; i < n; i++)
				s->v[i][r] = isnan(vals[i]) ? NAN : vals[i];
			s->n++;
			s->acc->rows++;
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t m = (size_t)metric[i];

		if (isnan(vals[i]))
			continue;
		if (m >= s->nv && series_cols(s, m + 1) < 0)
			return SHD_ENOMEM;
		if (!s->v[m] && series_alloc_col(s, m) < 0)
			return SHD_ENOMEM;
	}
	if (note_source(s, source) < 0)
		return SHD_ENOMEM;
	s->t[r] = t;
	for (size_t m = 0; m < s->nv; m++)
		if (s->v[m])
			s->v[m][r] = NAN;
	for (size_t i = 0; i < n; i++)
		if (!isnan(vals[i]))
			/* the loop above allocated every column written here */
			/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
			s->v[metric[i]][r] = vals[i];
	s->n++;
	s->acc->rows++;
	return 0;
}

void shd_series_drop_row(struct shd_series *s)
{
	if (s->n) {
		s->n--;
		s->acc->rows--;
	}
}

int shd_agg_parse(const char *name)
{
	static const char *names[] = {
		[SHD_AGG_MEAN] = "mean", [SHD_AGG_MAX] = "max",
		[SHD_AGG_MIN] = "min", [SHD_AGG_LAST] = "last",
		[SHD_AGG_SUM] = "sum",
	};
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int shd_acc_schema(const struct shd_acc *a, struct shd_schema *s)
{
	int rc;

	shd_schema_init(s);
	rc = shd_schema_add(s, "time", SHD_TIME, "ms", "time");
	if (!rc)
		rc = shd_schema_add(s, "resource", SHD_KEY, "", "key");
	for (size_t m = 0; m < a->nmetric && !rc; m++)
		rc = shd_schema_add(s, a->mname[m], SHD_F64, a->munit[m],
				    "metric");
	if (rc)
		shd_schema_release(s);
	return rc;
}

/* ------------------------------------------------------------ writing */

/* Rows on their way to the writer, a block at a time. */
struct out {
	struct shd_writer *w;
	struct shd_frame f;
	size_t block;
	size_t nmetric;
};

static int out_flush(struct out *o)
{
	int rc = 0;

	if (o->f.nrows)
		rc = shd_writer_write(o->w, &o->f);
	o->f.nrows = 0;
	return rc;
}

/* Appends one row; VALS has nmetric values. */
static int out_row(struct out *o, int64_t t, uint32_t key, const double *vals)
{
	size_t r = o->f.nrows;

	SHD_I64COL(&o->f, 0)[r] = t;
	SHD_KEYCOL(&o->f, 1)[r] = key;
	for (size_t m = 0; m < o->nmetric; m++)
		SHD_F64COL(&o->f, 2 + m)[r] = vals[m];
	if (++o->f.nrows == o->block)
		return out_flush(o);
	return 0;
}

/* Rows [i, i+k) of S straight into the frame, a column at a time. */
static int out_rows(struct out *o, const struct shd_series *s, size_t i,
		    size_t k)
{
	while (k > 0) {
		size_t r = o->f.nrows, c = o->block - r;
		if (c > k)
			c = k;
		memcpy(SHD_I64COL(&o->f, 0) + r, s->t + i, c * sizeof(int64_t));
		uint32_t *key = SHD_KEYCOL(&o->f, 1) + r;
		for (size_t x = 0; x < c; x++)
			key[x] = s->key;
		for (size_t m = 0; m < o->nmetric; m++) {
			double *dst = SHD_F64COL(&o->f, 2 + m) + r;
			if (m < s->nv && s->v[m]) {
				memcpy(dst, s->v[m] + i, c * sizeof(double));
			} else {
				for (size_t x = 0; x < c; x++)
					dst[x] = NAN;
			}
		}
		o->f.nrows += c;
		i += c;
		k -= c;
		if (o->f.nrows == o->block) {
			int rc = out_flush(o);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static double value(const struct shd_series *s, size_t m, size_t i)
{
	return m < s->nv && s->v[m] ? s->v[m][i] : NAN;
}

struct ti {
	int64_t t;
	size_t i;
};

static int cmp_ti(const void *x, const void *y)
{
	const struct ti *a = x, *b = y;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Sorts the rows of S by time, keeping the order of equal times. */
static int series_sort(struct shd_series *s)
{
	size_t n = s->n;
	size_t i;

	for (i = 1; i < n; i++)
		if (s->t[i] < s->t[i - 1])
			break;
	if (i >= n)
		return 0;
	struct ti *p = malloc(n * sizeof(*p));
	void *tmp = malloc(n * sizeof(double));
	if (!p || !tmp) {
		free(p);
		free(tmp);
		return SHD_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		p[i].t = s->t[i];
		p[i].i = i;
	}
	qsort(p, n, sizeof(*p), cmp_ti);
	int64_t *t = tmp;
	for (i = 0; i < n; i++)
		t[i] = p[i].t;
	memcpy(s->t, t, n * sizeof(*t));
	if (s->src) {
		uint32_t *u = tmp;
		for (i = 0; i < n; i++)
			u[i] = s->src[p[i].i];
		memcpy(s->src, u, n * sizeof(*u));
	}
	double *d = tmp;
	for (size_t m = 0; m < s->nv; m++) {
		if (!s->v[m])
			continue;
		for (i = 0; i < n; i++)
			d[i] = s->v[m][p[i].i];
		memcpy(s->v[m], d, n * sizeof(*d));
	}
	free(p);
	free(tmp);
	return 0;
}

struct si {
	uint32_t src;
	size_t i;
};

static int cmp_si(const void *x, const void *y)
{
	const struct si *a = x, *b = y;

	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * Rows [i, j) of S share one time and come from several sources. The k-th
 * row of each source joins output row k, unless a metric it has is already
 * set there: then it stands alone after them.
 */
static int merge_group(struct out *o, const struct shd_series *s, size_t i,
		       size_t j)
{
	size_t g = j - i, nm = o->nmetric, nout = 0, nalone = 0;
	struct si *p = malloc(g * sizeof(*p));
	double *row = malloc(g * (nm ? nm : 1) * sizeof(*row));
	size_t *alone = malloc(g * sizeof(*alone));
	int rc = SHD_ENOMEM;

	if (!p || !row || !alone)
		goto out;
	for (size_t x = 0; x < g; x++) {
		p[x].src = s->src[i + x];
		p[x].i = i + x;
	}
	qsort(p, g, sizeof(*p), cmp_si);
	for (size_t x = 0; x < g * nm; x++)
		row[x] = NAN;
	size_t occ = 0;
	for (size_t x = 0; x < g; x++) {
		occ = (x && p[x].src == p[x - 1].src) ? occ + 1 : 0;
		size_t r = p[x].i;
		double *dst = row + occ * nm;
		int clash = 0;
		for (size_t m = 0; m < nm && !clash; m++)
			/* rows of a column are NaN from its allocation on */
			/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
			clash = !isnan(value(s, m, r)) && !isnan(dst[m]);
		if (clash) {
			alone[nalone++] = r;
			continue;
		}
		for (size_t m = 0; m < nm; m++) {
			double v = value(s, m, r);
			if (!isnan(v))
				dst[m] = v;
		}
		if (occ + 1 > nout)
			nout = occ + 1;
	}
	rc = 0;
	for (size_t k = 0; k < nout && !rc; k++)
		rc = out_row(o, s->t[i], s->key, row + k * nm);
	for (size_t k = 0; k < nalone && !rc; k++)
		rc = out_rows(o, s, alone[k], 1);
out:
	free(p);
	free(row);
	free(alone);
	return rc;
}

static int write_rows(struct out *o, const struct shd_series *s)
{
	if (!s->multi)
		return out_rows(o, s, 0, s->n);
	size_t i = 0;
	while (i < s->n) {
		size_t j = i + 1;
		int mixed = 0;
		while (j < s->n && s->t[j] == s->t[i]) {
			mixed |= s->src[j] != s->src[i];
			j++;
		}
		int rc = mixed ? merge_group(o, s, i, j) : out_rows(o, s, i, j - i);
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

static int64_t floor_to(int64_t t, int64_t step)
{
	int64_t q = t / step;

	if (t % step < 0)
		q--;
	return q * step;
}

/* Per metric aggregate state of one slot. */
struct agg {
	double sum, min, max, last;
	size_t n;
};

/*
 * Refuses a grid far larger than the data (a wrong interval, or a stray
 * timestamp decades away) before anything is written.
 */
static int check_grid(struct shd_acc *a, const struct shd_series *s,
		      int64_t step)
{
	int64_t lo = s->t[0], hi = s->t[0];

	for (size_t i = 1; i < s->n; i++) {
		lo = s->t[i] < lo ? s->t[i] : lo;
		hi = s->t[i] > hi ? s->t[i] : hi;
	}
	uint64_t nslot = ((uint64_t)floor_to(hi, step) -
			  (uint64_t)floor_to(lo, step)) / (uint64_t)step + 1;
	uint64_t most = s->n * 16 > (1u << 20) ? s->n * 16 : (1u << 20);
	if (nslot <= most)
		return 0;
	snprintf(a->err, sizeof(a->err), "resource '%s': %llu slots of %lld "
		 "ms for %zu rows, from %lld to %lld ms: is the interval right?",
		 shd_dict_str(a->keys, s->key, NULL), (unsigned long long)nslot,
		 (long long)step, s->n, (long long)lo, (long long)hi);
	return SHD_EINVAL;
}

int shd_acc_check(struct shd_acc *a, const struct shd_acc_opts *opts)
{
	for (size_t k = 0; k < a->nseries && opts && opts->interval > 0; k++) {
		int rc = a->series[k]->n ? check_grid(a, a->series[k],
						       opts->interval) : 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int write_grid(struct shd_acc *a, struct out *o,
		      const struct shd_series *s, int64_t step,
		      enum shd_agg how)
{
	size_t nm = o->nmetric;
	int64_t first = floor_to(s->t[0], step), last = floor_to(s->t[s->n - 1], step);

	(void)a;
	struct agg *g = calloc(nm ? nm : 1, sizeof(*g));
	double *vals = malloc((nm ? nm : 1) * sizeof(*vals));
	int rc = 0;
	if (!g || !vals) {
		rc = SHD_ENOMEM;
		goto out;
	}
	size_t i = 0;
	for (int64_t slot = first; slot <= last && !rc; slot += step) {
		for (size_t m = 0; m < nm; m++)
			g[m].n = 0;
		for (; i < s->n && s->t[i] < slot + step; i++) {
			for (size_t m = 0; m < nm; m++) {
				double v = value(s, m, i);
				struct agg *x = &g[m];
				if (isnan(v))
					continue;
				if (x->n++ == 0) {
					x->sum = x->min = x->max = v;
				} else {
					x->sum += v;
					x->min = v < x->min ? v : x->min;
					x->max = v > x->max ? v : x->max;
				}
				x->last = v;
			}
		}
		for (size_t m = 0; m < nm; m++) {
			struct agg *x = &g[m];
			double v = NAN;
			if (x->n) {
				switch (how) {
				case SHD_AGG_MEAN: v = x->sum / (double)x->n; break;
				case SHD_AGG_MAX: v = x->max; break;
				case SHD_AGG_MIN: v = x->min; break;
				case SHD_AGG_LAST: v = x->last; break;
				case SHD_AGG_SUM: v = x->sum; break;
				}
			}
			vals[m] = v;
		}
		rc = out_row(o, slot, s->key, vals);
	}
out:
	free(g);
	free(vals);
	return rc;
}

static int cmp_key(const void *x, const void *y, void *dict)
{
	const struct shd_series *a = *(struct shd_series *const *)x;
	const struct shd_series *b = *(struct shd_series *const *)y;

	return strcmp(shd_dict_str(dict, a->key, NULL),
		      shd_dict_str(dict, b->key, NULL));
}

int shd_acc_write(struct shd_acc *a, struct shd_writer *w,
		  const struct shd_acc_opts *opts)
{
	struct shd_schema schema;
	struct out o = { .w = w, .block = SHD_BLOCK_ROWS, .nmetric = a->nmetric };
	struct shd_series **order = NULL;
	int rc;

	a->err[0] = '\0';
	rc = shd_acc_schema(a, &schema);
	if (rc)
		return rc;
	rc = shd_frame_init(&o.f, &schema, a->keys);
	shd_schema_release(&schema);
	if (!rc)
		rc = shd_frame_reserve(&o.f, o.block);
	if (rc)
		goto out;

	if ((rc = shd_acc_check(a, opts)) < 0)
		goto out;

	/* Canonical order: by resource name (a->series stays by key id). */
	/* an array of pointers: sizeof(*order) is meant (and below) */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	order = malloc((a->nseries ? a->nseries : 1) * sizeof(*order));
	if (!order) {
		rc = SHD_ENOMEM;
		goto out;
	}
	if (a->nseries)
		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		memcpy(order, a->series, a->nseries * sizeof(*order));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	qsort_r(order, a->nseries, sizeof(*order), cmp_key, a->keys);
	for (size_t k = 0; k < a->nseries && !rc; k++) {
		struct shd_series *s = order[k];
		if (!s->n)
			continue;
		if (opts && opts->nshards) {
			size_t kl;
			const char *key = shd_dict_str(a->keys, s->key, &kl);

			if (shd_shard_of(key, kl, opts->nshards) != opts->shard)
				continue;
		}
		rc = series_sort(s);
		if (rc)
			break;
		if (opts && opts->interval > 0)
			rc = write_grid(a, &o, s, opts->interval, opts->agg);
		else
			rc = write_rows(&o, s);
	}
	if (!rc)
		rc = out_flush(&o);
	if (rc && !a->err[0])
		snprintf(a->err, sizeof(a->err), "%s", rc == SHD_ENOMEM ?
			 "out of memory" : shd_writer_errmsg(w));
out:
	free(order);
	shd_frame_release(&o.f);
	return rc;
}
