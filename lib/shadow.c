/*
 * shadow.c - a utilization stream in memory and the sampling strategies of
 * shd-shadow (shadow.h has the picture).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fidelity.h"
#include "rng.h"
#include "shadow.h"
#include "shd.h"

const char *const shd_strategy_name[SHD_NSTRAT] = {
	"resources", "days", "weeks", "downsample",
};

/* ------------------------------------------------------------- util */

void shd_util_init(struct shd_util *u)
{
	memset(u, 0, sizeof(*u));
	shd_schema_init(&u->schema);
	u->tcol = u->kcol = -1;
}

void shd_util_release(struct shd_util *u)
{
	shd_schema_release(&u->schema);
	shd_dict_free(u->dict);
	free(u->mcol);
	free(u->t);
	free(u->key);
	for (size_t m = 0; m < u->nmetric; m++)
		free(u->x ? u->x[m] : NULL);
	free(u->x);
	free(u->rstart);
	free(u->seen);
	shd_util_init(u);
}

static int is_metric(const struct shd_column *c)
{
	return (c->type == SHD_F64 || c->type == SHD_F32) &&
	       (!*c->role || strcmp(c->role, "metric") == 0);
}

int shd_util_start(struct shd_util *u, const struct shd_schema *s,
		   const char *name)
{
	int tcol = shd_schema_find(s, "time"), kcol = shd_schema_find(s, "resource");
	size_t nm = 0;

	snprintf(u->name, sizeof(u->name), "%s", name ? name : "-");
	if (tcol < 0 || s->cols[tcol].type != SHD_TIME) {
		snprintf(u->err, sizeof(u->err), "%s: not a utilization stream: "
			 "no column 'time' of type time", u->name);
		return SHD_EFORMAT;
	}
	if (kcol < 0 || s->cols[kcol].type != SHD_KEY) {
		snprintf(u->err, sizeof(u->err), "%s: not a utilization stream: "
			 "no column 'resource' of type key", u->name);
		return SHD_EFORMAT;
	}
	for (size_t j = 0; j < s->ncols; j++) {
		const struct shd_column *c = &s->cols[j];

		if ((int)j == tcol || (int)j == kcol)
			continue;
		if (!is_metric(c)) {
			snprintf(u->err, sizeof(u->err), "%s: not a utilization "
				 "stream: column '%s' (%s, role %s) is not a "
				 "metric (f64 or f32, role metric)", u->name,
				 c->name, shd_type_name(c->type),
				 *c->role ? c->role : "none");
			return SHD_EFORMAT;
		}
		nm++;
	}
	if (!nm) {
		snprintf(u->err, sizeof(u->err), "%s: not a utilization stream: "
			 "no metric column", u->name);
		return SHD_EFORMAT;
	}
	if (shd_schema_copy(&u->schema, s) < 0)
		return SHD_ENOMEM;
	u->tcol = tcol;
	u->kcol = kcol;
	u->mcol = malloc(nm * sizeof(*u->mcol));
	u->x = calloc(nm, sizeof(*u->x));
	u->dict = shd_dict_new();
	u->rstart = malloc(sizeof(*u->rstart));
	if (!u->mcol || !u->x || !u->dict || !u->rstart)
		return SHD_ENOMEM;
	for (size_t j = 0; j < s->ncols; j++)
		if ((int)j != tcol && (int)j != kcol)
			u->mcol[u->nmetric++] = (int)j;
	u->rstart[0] = 0;
	return 0;
}

/* Room for one more row. */
static int grow(struct shd_util *u)
{
	size_t cap;

	if (u->n < u->cap)
		return 0;
	cap = u->cap ? 2 * u->cap : 1024;
	int64_t *t = realloc(u->t, cap * sizeof(*t));
	if (!t)
		return SHD_ENOMEM;
	u->t = t;
	uint32_t *k = realloc(u->key, cap * sizeof(*k));
	if (!k)
		return SHD_ENOMEM;
	u->key = k;
	for (size_t m = 0; m < u->nmetric; m++) {
		double *x = realloc(u->x[m], cap * sizeof(*x));
		if (!x)
			return SHD_ENOMEM;
		u->x[m] = x;
	}
	u->cap = cap;
	return 0;
}

/*
 * Appends a row of resource ID (of U's dictionary) at T, checking the
 * order; the caller fills the values at row u->n - 1.
 */
static int add_id(struct shd_util *u, uint32_t id, int64_t t)
{
	int rc;

	if (u->nres == 0 || u->key[u->n - 1] != id) {
		size_t nd = shd_dict_count(u->dict);

		if (nd > u->nseen) {
			unsigned char *s = realloc(u->seen, nd);
			if (!s)
				return SHD_ENOMEM;
			memset(s + u->nseen, 0, nd - u->nseen);
			u->seen = s;
			u->nseen = nd;
		}
		if (u->seen[id]) {
			snprintf(u->err, sizeof(u->err), "%s: row %zu: not in "
				 "canonical order: resource '%s' again after "
				 "'%s' (rows must be grouped by resource)",
				 u->name, u->n + 1, shd_dict_str(u->dict, id, NULL),
				 shd_dict_str(u->dict, u->key[u->n - 1], NULL));
			return SHD_EFORMAT;
		}
		size_t *rs = realloc(u->rstart, (u->nres + 2) * sizeof(*rs));
		if (!rs)
			return SHD_ENOMEM;
		u->rstart = rs;
		u->rstart[u->nres++] = u->n;
		u->seen[id] = 1;
	} else if (t < u->last_t) {
		char a[40], b[40];

		shd_time_format(t, a, sizeof(a));
		shd_time_format(u->last_t, b, sizeof(b));
		snprintf(u->err, sizeof(u->err), "%s: row %zu: not in canonical "
			 "order: resource '%s' goes back in time (%s after %s)",
			 u->name, u->n + 1, shd_dict_str(u->dict, id, NULL), a, b);
		return SHD_EFORMAT;
	}
	if ((rc = grow(u)))
		return rc;
	u->t[u->n] = t;
	u->key[u->n] = id;
	u->n++;
	u->rstart[u->nres] = u->n;
	u->last_t = t;
	return 0;
}

int shd_util_add(struct shd_util *u, const char *key, int64_t t,
		 const double *vals)
{
	uint32_t id;
	int rc;

	if ((rc = shd_dict_intern(u->dict, key, strlen(key), &id)))
		return rc;
	if ((rc = add_id(u, id, t)))
		return rc;
	for (size_t m = 0; m < u->nmetric; m++)
		u->x[m][u->n - 1] = vals[m];
	return 0;
}

int shd_util_read(struct shd_util *u, struct shd_reader *r, const char *name)
{
	const struct shd_schema *s = shd_reader_schema(r);
	struct shd_dict *rd = shd_reader_dict(r);
	struct shd_frame f;
	uint32_t *map = NULL;	/* reader's key id -> ours, UINT32_MAX new */
	size_t nmap = 0;
	int rc;

	if ((rc = shd_util_start(u, s, name)))
		return rc;
	if ((rc = shd_frame_init(&f, s, rd)))
		return rc;
	while ((rc = shd_reader_next(r, &f)) == 0) {
		const int64_t *tc = SHD_I64COL(&f, u->tcol);
		const uint32_t *kc = SHD_KEYCOL(&f, u->kcol);
		size_t nd = shd_dict_count(rd);

		if (nd > nmap) {
			uint32_t *mp = realloc(map, nd * sizeof(*mp));
			if (!mp) {
				rc = SHD_ENOMEM;
				break;
			}
			for (size_t k = nmap; k < nd; k++)
				mp[k] = UINT32_MAX;
			map = mp;
			nmap = nd;
		}
		for (size_t i = 0; i < f.nrows && !rc; i++) {
			uint32_t rid = kc[i];

			/* rid < nd <= nmap: the reader checks key ids */
			/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
			if (map[rid] == UINT32_MAX) {
				size_t len;
				const char *k = shd_dict_str(rd, rid, &len);
				rc = shd_dict_intern(u->dict, k, len, &map[rid]);
				if (rc)
					break;
			}
			if ((rc = add_id(u, map[rid], tc[i])))
				break;
			for (size_t m = 0; m < u->nmetric; m++) {
				int j = u->mcol[m];
				u->x[m][u->n - 1] = f.types[j] == SHD_F64 ?
					SHD_F64COL(&f, j)[i] :
					(double)SHD_F32COL(&f, j)[i];
			}
		}
		if (rc)
			break;
	}
	if (rc < 0 && rc != SHD_ENOMEM && !u->err[0])
		snprintf(u->err, sizeof(u->err), "%s", shd_reader_errmsg(r));
	shd_frame_release(&f);
	free(map);
	return rc == SHD_EOF ? 0 : rc;
}

int shd_util_metric(const struct shd_util *u, const char *name)
{
	for (size_t m = 0; m < u->nmetric; m++)
		if (strcmp(u->schema.cols[u->mcol[m]].name, name) == 0)
			return (int)m;
	return -1;
}

const char *shd_util_resource(const struct shd_util *u, size_t r)
{
	return shd_dict_str(u->dict, u->key[u->rstart[r]], NULL);
}

int shd_util_write(const struct shd_util *u, struct shd_writer *w)
{
	struct shd_frame f;
	int rc;

	if ((rc = shd_frame_init(&f, &u->schema, u->dict)))
		return rc;
	if ((rc = shd_frame_reserve(&f, SHD_BLOCK_ROWS))) {
		shd_frame_release(&f);
		return rc;
	}
	for (size_t a = 0; a < u->n && !rc; a += SHD_BLOCK_ROWS) {
		size_t b = a + SHD_BLOCK_ROWS < u->n ? a + SHD_BLOCK_ROWS : u->n;

		f.nrows = b - a;
		memcpy(SHD_I64COL(&f, u->tcol), u->t + a, f.nrows * sizeof(int64_t));
		memcpy(SHD_KEYCOL(&f, u->kcol), u->key + a,
		       f.nrows * sizeof(uint32_t));
		for (size_t m = 0; m < u->nmetric; m++) {
			int j = u->mcol[m];
			if (f.types[j] == SHD_F64) {
				memcpy(SHD_F64COL(&f, j), u->x[m] + a,
				       f.nrows * sizeof(double));
			} else {
				float *c = SHD_F32COL(&f, j);
				for (size_t i = a; i < b; i++)
					c[i - a] = (float)u->x[m][i];
			}
		}
		rc = shd_writer_write(w, &f);
	}
	shd_frame_release(&f);
	return rc;
}

/* DST (started) gets every string of SRC's dictionary, with the same ids. */
static int copy_dict(struct shd_util *dst, const struct shd_util *src)
{
	for (size_t k = 0; k < shd_dict_count(src->dict); k++) {
		size_t len;
		const char *s = shd_dict_str(src->dict, (uint32_t)k, &len);
		uint32_t id;
		int rc = shd_dict_intern(dst->dict, s, len, &id);

		if (rc)
			return rc;
	}
	return 0;
}

/* DST initialised and started with schema S and SRC's dictionary. */
static int start_like(struct shd_util *dst, const struct shd_util *src,
		      const struct shd_schema *s)
{
	int rc;

	shd_util_init(dst);
	if ((rc = shd_util_start(dst, s, src->name)))
		return rc == SHD_EFORMAT ? SHD_EINVAL : rc;
	return copy_dict(dst, src);
}

int shd_util_subset(struct shd_util *dst, const struct shd_util *src,
		    const unsigned char *keep)
{
	int rc = start_like(dst, src, &src->schema);

	for (size_t i = 0; i < src->n && !rc; i++) {
		/* KEEP has src->n flags (the caller's) */
		/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch) */
		if (!keep[i])
			continue;
		if ((rc = add_id(dst, src->key[i], src->t[i])))
			break;
		for (size_t m = 0; m < src->nmetric; m++)
			dst->x[m][dst->n - 1] = src->x[m][i];
	}
	return rc;
}

/* ------------------------------------------------------- strategies */

int shd_strategy_parse(const char *list, int *s, size_t *ns, char *err,
		       size_t n)
{
	const char *p = list;

	*ns = 0;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int k;

		for (k = 0; k < SHD_NSTRAT; k++)
			if (strlen(shd_strategy_name[k]) == len &&
			    strncmp(p, shd_strategy_name[k], len) == 0)
				break;
		if (k == SHD_NSTRAT) {
			snprintf(err, n, "unknown strategy '%.*s' (resources, "
				 "days, weeks, downsample)", (int)len, p);
			return SHD_EINVAL;
		}
		for (size_t i = 0; i < *ns; i++)
			if (s[i] == k) {
				snprintf(err, n, "strategy '%s' given twice",
					 shd_strategy_name[k]);
				return SHD_EINVAL;
			}
		if (*ns == SHD_MAX_STEPS) {
			snprintf(err, n, "too many strategies");
			return SHD_EINVAL;
		}
		s[(*ns)++] = k;
		if (!e)
			return 0;
		p = e + 1;
	}
}

/* round(f n), at least 1 and at most N (N > 0). */
static size_t picks(double f, size_t n)
{
	double k = floor(f * (double)n + 0.5);

	if (k < 1)
		return 1;
	return k > (double)n ? n : (size_t)k;
}

void shd_profile_compute(struct shd_profile *p, const struct shd_util *u,
			 size_t metric)
{
	for (size_t r = 0; r < u->nres; r++) {
		size_t a = u->rstart[r], b = u->rstart[r + 1], k = 0;
		const double *x = u->x[metric];
		double sum = 0, ss = 0, mean, sd;

		for (size_t i = a; i < b; i++)
			if (!isnan(x[i])) {
				sum += x[i];
				k++;
			}
		if (!k) {
			p[r].level = p[r].cv = NAN;
			p[r].daily = 0;
			continue;
		}
		mean = sum / (double)k;
		for (size_t i = a; i < b; i++)
			if (!isnan(x[i]))
				ss += (x[i] - mean) * (x[i] - mean);
		sd = sqrt(ss / (double)k);
		p[r].level = mean;
		p[r].cv = mean != 0 ? sd / fabs(mean) : sd > 0 ? INFINITY : 0;
		p[r].daily = shd_cycle_strength(u->t + a, x + a, b - a,
						SHD_MS_DAY, SHD_MS_HOUR);
		if (isnan(p[r].daily))
			p[r].daily = 0;
	}
}

#define NCELL 28	/* 27 cells of tertiles, and "no data" */
#define NODATA 27

/* Feature K (0 level, 1 cv, 2 daily) of P. */
static double feature(const struct shd_profile *p, int k)
{
	return k == 0 ? p->level : k == 1 ? p->cv : p->daily;
}

/*
 * The tertile (0, 1, 2) of feature K of every profile among those with
 * data: 0 below the value at rank m/3 of the m sorted, 2 from the one at
 * rank 2m/3 on (ties share a tertile). Profiles without data get 0.
 */
static int tertiles(unsigned char *bin, const struct shd_profile *p, size_t n,
		    int k)
{
	double *s = malloc((n ? n : 1) * sizeof(*s)), q1, q2;
	size_t m = 0;

	if (!s)
		return SHD_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!isnan(p[i].level))
			s[m++] = feature(&p[i], k);
	shd_sort_doubles(s, m);
	q1 = m ? s[m / 3] : 0;
	q2 = m ? s[2 * m / 3] : 0;
	for (size_t i = 0; i < n; i++) {
		double x = feature(&p[i], k);
		bin[i] = isnan(p[i].level) ? 0 :
			 (unsigned char)((x >= q1) + (x >= q2));
	}
	free(s);
	return 0;
}

int shd_stratify(unsigned char *pick, size_t *cell, const struct shd_profile *p,
		 size_t n, double f, uint64_t seed, struct shd_step_info *info)
{
	unsigned char *bin[3];
	size_t *c = malloc((n ? n : 1) * sizeof(*c)), *order = NULL;
	size_t size[NCELL], alloc[NCELL], start[NCELL], k, nf, ne = 0;
	struct shd_rng rng;
	int rc = SHD_ENOMEM;

	bin[0] = malloc(n ? n : 1);
	bin[1] = malloc(n ? n : 1);
	bin[2] = malloc(n ? n : 1);
	order = malloc((n ? n : 1) * sizeof(*order));
	if (!c || !bin[0] || !bin[1] || !bin[2] || !order)
		goto out;
	memset(pick, 0, n);
	if (info) {
		info->kept = 0;
		info->of = n;
		info->features = 3;
		info->strata = 0;
	}
	rc = 0;
	if (!n)
		goto out;
	if ((rc = tertiles(bin[0], p, n, 0)) ||
	    (rc = tertiles(bin[1], p, n, 1)) ||
	    (rc = tertiles(bin[2], p, n, 2)))
		goto out;
	k = picks(f, n);

	/* the finest strata that give every non-empty one a pick */
	for (nf = 3;; nf--) {
		memset(size, 0, sizeof(size));
		for (size_t i = 0; i < n; i++) {
			size_t cc = 0;
			if (nf == 0)
				cc = 0;
			else if (isnan(p[i].level))
				cc = NODATA;
			else
				cc = (size_t)bin[0][i] * 9 +
				     (nf >= 2 ? (size_t)bin[1][i] * 3 : 0) +
				     (nf >= 3 ? bin[2][i] : 0);
			c[i] = cc;
			size[cc]++;
		}
		ne = 0;
		for (size_t j = 0; j < NCELL; j++)
			ne += size[j] > 0;
		if (ne <= k || nf == 0)
			break;
	}

	/* one each, then the rest to the largest shortfall of f n_j */
	for (size_t j = 0; j < NCELL; j++)
		alloc[j] = size[j] > 0;
	for (size_t left = k - ne; left > 0; left--) {
		size_t best = NCELL;
		double bs = -INFINITY;
		for (size_t j = 0; j < NCELL; j++) {
			if (alloc[j] >= size[j])
				continue;
			double s = (double)k * (double)size[j] / (double)n -
				   (double)alloc[j];
			if (s > bs) {
				bs = s;
				best = j;
			}
		}
		if (best == NCELL)
			break;
		alloc[best]++;
	}

	/* members of each cell in input order, then a seeded partial
	 * Fisher-Yates shuffle picks alloc[j] of them */
	start[0] = 0;
	for (size_t j = 1; j < NCELL; j++)
		start[j] = start[j - 1] + size[j - 1];
	{
		size_t fill[NCELL];
		memcpy(fill, start, sizeof(fill));
		for (size_t i = 0; i < n; i++)
			order[fill[c[i]]++] = i;
	}
	shd_rng_seed(&rng, seed);
	for (size_t j = 0; j < NCELL; j++) {
		size_t *m = order + start[j];
		for (size_t i = 0; i < alloc[j]; i++) {
			size_t r = i + (size_t)shd_rng_below(&rng, size[j] - i);
			size_t t = m[i];
			m[i] = m[r];
			m[r] = t;
			pick[m[i]] = 1;
		}
	}
	if (cell)
		memcpy(cell, c, n * sizeof(*c));
	if (info) {
		info->kept = k;
		info->features = nf;
		info->strata = ne;
	}
out:
	free(c);
	free(order);
	free(bin[0]);
	free(bin[1]);
	free(bin[2]);
	return rc;
}

/* Keeps the rows of the resources marked in PICK (nres). */
static int keep_resources(struct shd_util *dst, const struct shd_util *src,
			  const unsigned char *pick)
{
	unsigned char *keep = malloc(src->n ? src->n : 1);
	int rc;

	if (!keep)
		return SHD_ENOMEM;
	for (size_t r = 0; r < src->nres; r++)
		memset(keep + src->rstart[r], pick[r],
		       src->rstart[r + 1] - src->rstart[r]);
	rc = shd_util_subset(dst, src, keep);
	free(keep);
	return rc;
}

int shd_shadow_resources(struct shd_util *dst, const struct shd_util *src,
			 double f, uint64_t seed, size_t metric,
			 struct shd_step_info *info)
{
	struct shd_profile *p = malloc((src->nres ? src->nres : 1) * sizeof(*p));
	unsigned char *pick = malloc(src->nres ? src->nres : 1);
	int rc = SHD_ENOMEM;

	shd_util_init(dst);
	if (info) {
		memset(info, 0, sizeof(*info));
		info->strategy = SHD_STRAT_RESOURCES;
		info->fraction = f;
	}
	if (!p || !pick)
		goto out;
	shd_profile_compute(p, src, metric);
	if ((rc = shd_stratify(pick, NULL, p, src->nres, f, seed, info)))
		goto out;
	rc = keep_resources(dst, src, pick);
out:
	free(p);
	free(pick);
	return rc;
}

/* floor(a / b) for b > 0 */
static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return q - (a % b != 0 && a < 0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Weeks start on Monday: 1970-01-05T00:00Z is the first Monday. */
#define MONDAY0 (4 * SHD_MS_DAY)

int shd_shadow_periods(struct shd_util *dst, const struct shd_util *src,
		       double f, uint64_t seed, int64_t period,
		       struct shd_step_info *info)
{
	int64_t off = period == SHD_MS_WEEK ? MONDAY0 : 0;
	int64_t *id = malloc((src->n ? src->n : 1) * sizeof(*id));
	unsigned char *chosen = NULL, *keep = NULL;
	size_t c = 0, k = 0;
	struct shd_rng rng;
	int rc = SHD_ENOMEM;

	shd_util_init(dst);
	if (info) {
		memset(info, 0, sizeof(*info));
		info->strategy = period == SHD_MS_WEEK ? SHD_STRAT_WEEKS :
			SHD_STRAT_DAYS;
		info->fraction = f;
	}
	if (!id)
		goto out;
	/* the distinct periods that hold rows, in time order */
	for (size_t i = 0; i < src->n; i++)
		id[i] = floordiv(src->t[i] - off, period);
	qsort(id, src->n, sizeof(*id), cmp_i64);
	for (size_t i = 0; i < src->n; i++)
		if (c == 0 || id[i] != id[c - 1])
			id[c++] = id[i];
	chosen = calloc(c ? c : 1, 1);
	keep = malloc(src->n ? src->n : 1);
	if (!chosen || !keep)
		goto out;
	if (c) {
		/* systematic: every (c / k)-th from a random start */
		double step, u;

		k = picks(f, c);
		step = (double)c / (double)k;
		shd_rng_seed(&rng, seed);
		u = shd_rng_uniform(&rng) * step;
		for (size_t i = 0; i < k; i++) {
			size_t j = (size_t)floor(u + (double)i * step);
			chosen[j < c ? j : c - 1] = 1;
		}
	}
	for (size_t i = 0; i < src->n; i++) {
		int64_t p = floordiv(src->t[i] - off, period);
		const int64_t *hit = bsearch(&p, id, c, sizeof(*id), cmp_i64);
		keep[i] = hit && chosen[hit - id];
	}
	if (info) {
		info->kept = k;
		info->of = c;
	}
	rc = shd_util_subset(dst, src, keep);
out:
	free(id);
	free(chosen);
	free(keep);
	return rc;
}

/* A positive whole number of ms from the "interval_ms" metadata, or 0. */
static int64_t meta_interval(const struct shd_schema *s)
{
	const char *v = shd_schema_meta(s, "interval_ms");
	char *end;
	long long x;

	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtoll(v, &end, 10);
	return *end || errno || x <= 0 ? 0 : (int64_t)x;
}

/* Mean, p95 and max of the non-NaN of X[0..n) into OUT[3] (S: scratch). */
static void bucket_stats(const double *x, size_t n, double *s, double *out)
{
	size_t k = 0;
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i])) {
			s[k++] = x[i];
			sum += x[i];
		}
	if (!k) {
		out[0] = out[1] = out[2] = NAN;
		return;
	}
	shd_sort_doubles(s, k);
	out[0] = sum / (double)k;
	out[1] = shd_quantile_sorted(s, k, 0.95);
	out[2] = s[k - 1];
}

int shd_shadow_downsample(struct shd_util *dst, const struct shd_util *src,
			  double f, struct shd_step_info *info)
{
	struct shd_schema s;
	size_t nm = src->nmetric, b = (size_t)floor(1 / f + 0.5);
	int64_t iv = meta_interval(&src->schema), w;
	double *scratch = NULL, st[3];
	char name[512], num[32];
	int rc;

	if (b < 1)
		b = 1;
	shd_util_init(dst);
	if (info) {
		memset(info, 0, sizeof(*info));
		info->strategy = SHD_STRAT_DOWNSAMPLE;
		info->fraction = f;
		info->bucket = b;
		info->of = src->n;
	}
	if ((rc = shd_schema_copy(&s, &src->schema))) {
		shd_schema_release(&s);
		return rc;
	}
	for (size_t m = 0; m < nm && !rc; m++) {
		const struct shd_column *c = &src->schema.cols[src->mcol[m]];
		for (int q = 0; q < 2 && !rc; q++) {
			snprintf(name, sizeof(name), "%s.%s", c->name,
				 q ? "max" : "p95");
			if (shd_schema_find(&src->schema, name) >= 0) {
				snprintf(dst->err, sizeof(dst->err), "%.200s: has "
					 "a column '%.200s' already (downsampled "
					 "before?): downsample the original",
					 src->name, name);
				rc = SHD_EINVAL;
				break;
			}
			rc = shd_schema_add(&s, name, c->type, c->unit, "metric");
		}
	}
	w = iv && (uint64_t)iv <= (uint64_t)INT64_MAX / b ? iv * (int64_t)b : 0;
	if (!rc && w) {
		snprintf(num, sizeof(num), "%lld", (long long)w);
		rc = shd_schema_set_meta(&s, "interval_ms", num);
	}
	if (rc) {
		shd_schema_release(&s);
		if (rc == SHD_EINVAL)
			return rc;
		return SHD_ENOMEM;
	}
	if (info)
		info->interval = w;
	rc = start_like(dst, src, &s);
	shd_schema_release(&s);
	scratch = malloc((src->n ? src->n : 1) * sizeof(*scratch));
	if (!rc && !scratch)
		rc = SHD_ENOMEM;
	for (size_t r = 0; r < src->nres && !rc; r++) {
		size_t a = src->rstart[r], e = src->rstart[r + 1];

		while (a < e && !rc) {
			size_t z = a + 1;
			int64_t t;

			if (w) {
				int64_t bk = floordiv(src->t[a], w);
				while (z < e && floordiv(src->t[z], w) == bk)
					z++;
				t = bk * w;
			} else {
				z = a + b < e ? a + b : e;
				t = src->t[a];
			}
			if ((rc = add_id(dst, src->key[a], t)))
				break;
			for (size_t m = 0; m < nm; m++) {
				bucket_stats(src->x[m] + a, z - a, scratch, st);
				dst->x[m][dst->n - 1] = st[0];
				dst->x[nm + 2 * m][dst->n - 1] = st[1];
				dst->x[nm + 2 * m + 1][dst->n - 1] = st[2];
			}
			a = z;
		}
	}
	if (info)
		info->kept = dst->n;
	free(scratch);
	return rc;
}

int shd_shadow_run(struct shd_util *dst, const struct shd_util *src,
		   const int *s, size_t ns, double f, uint64_t seed,
		   size_t metric, struct shd_step_info *info)
{
	struct shd_util a, b;
	const struct shd_util *cur = src;
	double fe = ns ? pow(f, 1.0 / (double)ns) : 1;
	int have = 0, rc = 0;

	shd_util_init(&a);
	if (!ns) {
		unsigned char *keep = malloc(src->n ? src->n : 1);
		if (!keep) {
			shd_util_init(dst);
			return SHD_ENOMEM;
		}
		memset(keep, 1, src->n);
		rc = shd_util_subset(dst, src, keep);
		free(keep);
		return rc;
	}
	for (size_t i = 0; i < ns; i++) {
		switch (s[i]) {
		case SHD_STRAT_RESOURCES:
			rc = shd_shadow_resources(&b, cur, fe, seed + i, metric,
						  &info[i]);
			break;
		case SHD_STRAT_DAYS:
			rc = shd_shadow_periods(&b, cur, fe, seed + i, SHD_MS_DAY,
						&info[i]);
			break;
		case SHD_STRAT_WEEKS:
			rc = shd_shadow_periods(&b, cur, fe, seed + i,
						SHD_MS_WEEK, &info[i]);
			break;
		default:
			rc = shd_shadow_downsample(&b, cur, fe, &info[i]);
			break;
		}
		if (have)
			shd_util_release(&a);
		if (rc) {
			shd_util_init(dst);
			snprintf(dst->err, sizeof(dst->err), "%s", b.err);
			shd_util_release(&b);
			return rc;
		}
		a = b;
		cur = &a;
		have = 1;
	}
	*dst = a;
	return 0;
}
