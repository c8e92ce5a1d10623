/*
 * plotread.c - streams of one resource into a plot (plot.h): which
 * resource, what kind each stream is (known by its columns), and its rows
 * as panels and layers. A forecast's rows wait for the last input, since
 * how they are drawn depends on whether they come from one origin or
 * several; allocation rows wait too, as their panels come after all the
 * metrics'.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "replay.h"
#include "shd.h"

static const char *const kind_name[SHD_PLOTIN_NKIND] = {
	"utilization", "forecast", "alert", "allocation"
};

/* Forecast columns of one metric; -1 where absent. */
struct fcm {
	char name[128];
	int pred, lo, hi, cur, act;
	char unit[64];
};

/* One forecast row of the resource; its values are in fv, 5 a metric. */
struct fcrow {
	int64_t t, origin, step;
};

/* One allocation row of the resource (policy: an index of replay.h's). */
struct arow {
	int64_t t;
	int policy;
	double alloc, util;
};

#define NAMES_SHOWN 5

struct shd_plotin {
	struct shd_plot *p;
	char *want;		/* the resource asked for, or NULL */
	char *chosen;		/* whose rows are kept */
	int several;		/* no resource asked and a second one came */
	char *seen[NAMES_SHOWN];	/* resources seen, for the message */
	size_t nseen;
	int more;		/* and others */
	int fixed_panels;	/* no panel added */
	int oom;		/* an allocation failed while reading */
	char *kind_path[SHD_PLOTIN_NKIND];	/* the input of each kind */
	size_t rows;		/* rows of the resource, all inputs */
	/* the forecast stream, kept until its mode is known */
	struct fcm *fm;
	size_t nfm;
	struct fcrow *fr;
	double *fv;		/* (nfr, nfm, 5): pred lo hi cur act */
	size_t nfr, capfr;
	long horizon;
	/* the allocation stream: its rows, the metric and its unit */
	struct arow *ar;
	size_t nar, capar;
	char *ametric, *aunit;
};

static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
	va_list ap;

	if (n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return code;
}

int shd_plotin_new(struct shd_plotin **inp, struct shd_plot *p,
		   const char *resource, int fixed_panels)
{
	struct shd_plotin *in = calloc(1, sizeof(*in));

	*inp = NULL;
	if (!in)
		return SHD_ENOMEM;
	in->p = p;
	in->fixed_panels = fixed_panels;
	if (resource && (!(in->want = strdup(resource)) ||
			 !(in->chosen = strdup(resource)))) {
		shd_plotin_free(in);
		return SHD_ENOMEM;
	}
	*inp = in;
	return 0;
}

void shd_plotin_free(struct shd_plotin *in)
{
	if (!in)
		return;
	for (size_t k = 0; k < in->nseen; k++)
		free(in->seen[k]);
	for (int k = 0; k < SHD_PLOTIN_NKIND; k++)
		free(in->kind_path[k]);
	free(in->want);
	free(in->chosen);
	free(in->fm);
	free(in->fr);
	free(in->fv);
	free(in->ar);
	free(in->ametric);
	free(in->aunit);
	free(in);
}

const char *shd_plotin_resource(const struct shd_plotin *in)
{
	return in->chosen;
}

size_t shd_plotin_rows(const struct shd_plotin *in)
{
	return in->rows;
}

long shd_plotin_horizon(const struct shd_plotin *in)
{
	return in->horizon;
}

const char *shd_plotin_path(const struct shd_plotin *in, int kind)
{
	return kind >= 0 && kind < SHD_PLOTIN_NKIND ? in->kind_path[kind]
						    : NULL;
}

const char *shd_plotin_alloc_metric(const struct shd_plotin *in)
{
	return in->ametric;
}

size_t shd_plotin_policy_rows(const struct shd_plotin *in, int policy)
{
	size_t n = 0;

	for (size_t i = 0; i < in->nar; i++)
		n += in->ar[i].policy == policy;
	return n;
}

static double value_at(const struct shd_frame *f, int j, size_t i)
{
	if (j < 0)
		return NAN;
	switch (f->types[j]) {
	case SHD_F64: return SHD_F64COL(f, j)[i];
	case SHD_F32: return SHD_F32COL(f, j)[i];
	case SHD_I64: return (double)SHD_I64COL(f, j)[i];
	case SHD_U8: return SHD_U8COL(f, j)[i];
	default: return NAN;
	}
}

static int numeric(enum shd_type t)
{
	return t == SHD_F64 || t == SHD_F32 || t == SHD_I64;
}

/* Column NAME of type TYPE (0: any numeric), or -1. */
static int col_of(const struct shd_schema *s, const char *name, int type)
{
	int j = shd_schema_find(s, name);

	if (j < 0)
		return -1;
	if (type ? s->cols[j].type != (enum shd_type)type
		 : !numeric(s->cols[j].type))
		return -1;
	return j;
}

/* What kind of stream S is (enum shd_plotin_kind), or SHD_EFORMAT. */
static int kind_of(const struct shd_schema *s, const char *path, char *err,
		   size_t n)
{
	size_t nmetric = 0;

	if (col_of(s, "time", SHD_TIME) < 0 ||
	    col_of(s, "resource", SHD_KEY) < 0)
		return fail(err, n, SHD_EFORMAT, "%s: not a stream shd-plot "
			    "knows: no 'time' and 'resource' columns", path);
	if (col_of(s, "metric", SHD_KEY) >= 0 &&
	    col_of(s, "severity", SHD_KEY) >= 0 &&
	    col_of(s, "cur", 0) >= 0 && col_of(s, "kept", SHD_U8) >= 0)
		return SHD_PLOTIN_ALERTS;
	if (col_of(s, "policy", SHD_KEY) >= 0 && col_of(s, "alloc", 0) >= 0 &&
	    col_of(s, "util", 0) >= 0)
		return SHD_PLOTIN_ALLOC;
	if (col_of(s, "origin", SHD_TIME) >= 0 && col_of(s, "step", 0) >= 0) {
		for (size_t j = 0; j < s->ncols; j++) {
			size_t l = strlen(s->cols[j].name);

			if (l > 5 && !strcmp(s->cols[j].name + l - 5, ".pred"))
				return SHD_PLOTIN_FORECAST;
		}
		return fail(err, n, SHD_EFORMAT, "%s: not a forecast stream "
			    "shd-plot knows: no 'M.pred' column", path);
	}
	for (size_t j = 0; j < s->ncols; j++)
		if (numeric(s->cols[j].type))
			nmetric++;
	if (!nmetric)
		return fail(err, n, SHD_EFORMAT, "%s: not a stream shd-plot "
			    "knows: no metric column (utilization, forecast, "
			    "alerts or allocations)", path);
	return SHD_PLOTIN_UTIL;
}

static void note_seen(struct shd_plotin *in, const char *name)
{
	for (size_t k = 0; k < in->nseen; k++)
		if (!strcmp(in->seen[k], name))
			return;
	if (in->nseen == NAMES_SHOWN)
		in->more = 1;
	else if ((in->seen[in->nseen] = strdup(name)))
		in->nseen++;
	else
		in->oom = 1;
}

/*
 * Is row I of F the resource's? Without a resource asked for, the first
 * one seen is chosen; a second one is noted (and the input is refused
 * once read, naming them).
 */
static int mine(struct shd_plotin *in, const struct shd_frame *f, int jr,
		size_t i, uint32_t *id, int *have_id)
{
	uint32_t k = SHD_KEYCOL(f, jr)[i];
	const char *name;

	if (*have_id && (k == *id || in->want))
		return k == *id;
	name = shd_dict_str(f->dict, k, NULL);
	if (!in->chosen) {
		if (!(in->chosen = strdup(name))) {
			in->oom = 1;
			return 0;
		}
		note_seen(in, name);
		*id = k;
		*have_id = 1;
		return 1;
	}
	if (!in->want && strcmp(name, in->chosen) != 0) {
		in->several = 1;
		note_seen(in, name);
	}
	return 0;
}

/*
 * The index of METRIC's panel (added when new unless the panels are
 * fixed; UNIT noted), or -1. Panels move when one is added: keep indexes.
 */
static long panel_for(struct shd_plotin *in, const char *metric,
		      const char *unit)
{
	struct shd_plot_panel *pn = shd_plot_find(in->p, metric);

	if (!pn && in->fixed_panels)
		return -1;
	if (!(pn = shd_plot_panel(in->p, metric, unit))) {
		in->oom = 1;
		return -1;
	}
	return pn - in->p->panel;
}

static void add(struct shd_plotin *in, long pi, int layer, int64_t t,
		double v, double lo, double hi, int kept)
{
	struct shd_plot_pt pt = { t, v, lo, hi, kept };

	if (pi >= 0 && shd_plot_add(&in->p->panel[pi], layer, &pt) < 0)
		in->oom = 1;
}

/* The forecast's metric columns (M.pred, M.lo, M.hi, M.cur, M). */
static int forecast_cols(struct shd_plotin *in, const struct shd_schema *s)
{
	for (size_t j = 0; j < s->ncols; j++) {
		const char *cn = s->cols[j].name;
		size_t l = strlen(cn);
		struct fcm *m;
		char col[160];

		if (l <= 5 || strcmp(cn + l - 5, ".pred") ||
		    l - 5 >= sizeof(in->fm->name) || !numeric(s->cols[j].type))
			continue;
		m = realloc(in->fm, (in->nfm + 1) * sizeof(*in->fm));
		if (!m)
			return SHD_ENOMEM;
		in->fm = m;
		m = &in->fm[in->nfm++];
		snprintf(m->name, sizeof(m->name), "%.*s", (int)(l - 5), cn);
		m->pred = (int)j;
		snprintf(col, sizeof(col), "%s.lo", m->name);
		m->lo = col_of(s, col, 0);
		snprintf(col, sizeof(col), "%s.hi", m->name);
		m->hi = col_of(s, col, 0);
		snprintf(col, sizeof(col), "%s.cur", m->name);
		m->cur = col_of(s, col, 0);
		m->act = col_of(s, m->name, 0);
		snprintf(m->unit, sizeof(m->unit), "%s", s->cols[j].unit);
	}
	return 0;
}

static void forecast_row(struct shd_plotin *in, const struct shd_frame *f,
			 size_t i, int jt, int jo, int js)
{
	double *v;

	if (in->nfr == in->capfr) {
		size_t cap = in->capfr ? 2 * in->capfr : 256;
		struct fcrow *fr = realloc(in->fr, cap * sizeof(*fr));

		if (fr)
			in->fr = fr;
		v = fr ? realloc(in->fv, cap * in->nfm * 5 * sizeof(*v)) : NULL;
		if (!v) {
			in->oom = 1;
			return;
		}
		in->fv = v;
		in->capfr = cap;
	}
	in->fr[in->nfr].t = SHD_I64COL(f, jt)[i];
	in->fr[in->nfr].origin = SHD_I64COL(f, jo)[i];
	in->fr[in->nfr].step = (int64_t)value_at(f, js, i);
	v = in->fv + in->nfr * in->nfm * 5;
	for (size_t k = 0; k < in->nfm; k++) {
		v[5 * k] = value_at(f, in->fm[k].pred, i);
		v[5 * k + 1] = value_at(f, in->fm[k].lo, i);
		v[5 * k + 2] = value_at(f, in->fm[k].hi, i);
		v[5 * k + 3] = value_at(f, in->fm[k].cur, i);
		v[5 * k + 4] = value_at(f, in->fm[k].act, i);
	}
	in->nfr++;
}

static void alloc_row(struct shd_plotin *in, int64_t t, int policy,
		      double alloc, double util)
{
	if (in->nar == in->capar) {
		size_t cap = in->capar ? 2 * in->capar : 1024;
		struct arow *ar = realloc(in->ar, cap * sizeof(*ar));

		if (!ar) {
			in->oom = 1;
			return;
		}
		in->ar = ar;
		in->capar = cap;
	}
	in->ar[in->nar++] = (struct arow){ t, policy, alloc, util };
}

/* Metadata KEY of S as a number in [LO, HI] into *V (left when absent). */
static int meta_num(const struct shd_schema *s, const char *key, double lo,
		    double hi, double *v, const char *path, char *err,
		    size_t n)
{
	if (shd_schema_meta_num(s, key, lo, hi, v))
		return fail(err, n, SHD_EFORMAT, "%s: bad metadata %s '%s'",
			    path, key, shd_schema_meta(s, key));
	return 0;
}

/* The columns of the stream of kind KIND, and what its header says. */
struct cols {
	int jt, jr, jm, jo, js, jsev, jc, jk, jp, ja, ju;
	struct { int j; long pi; } *um;	/* utilization: column, panel */
	size_t num;
};

static int header(struct shd_plotin *in, const struct shd_schema *s,
		  int kind, struct cols *c, const char *path, char *err,
		  size_t n)
{
	struct shd_plot *p = in->p;
	double x;
	int rc;

	c->jt = shd_schema_find(s, "time");
	c->jr = shd_schema_find(s, "resource");
	x = (double)p->interval;
	if (!p->interval &&
	    (rc = meta_num(s, "interval_ms", 0, 1e12, &x, path, err, n)))
		return rc;
	p->interval = (int64_t)x;
	if (kind == SHD_PLOTIN_UTIL) {
		if (!(c->um = calloc(s->ncols, sizeof(*c->um))))
			return SHD_ENOMEM;
		for (size_t j = 0; j < s->ncols; j++)
			if ((int)j != c->jt && (int)j != c->jr &&
			    numeric(s->cols[j].type)) {
				c->um[c->num].j = (int)j;
				c->um[c->num++].pi = panel_for(
					in, s->cols[j].name, s->cols[j].unit);
			}
	} else if (kind == SHD_PLOTIN_FORECAST) {
		c->jo = shd_schema_find(s, "origin");
		c->js = shd_schema_find(s, "step");
		if ((rc = forecast_cols(in, s)))
			return rc;
		if (!in->nfm)
			return fail(err, n, SHD_EFORMAT, "%s: not a forecast "
				    "stream shd-plot knows: no numeric "
				    "'M.pred' column", path);
		if ((rc = meta_num(s, "coverage", 0, 1, &p->coverage, path,
				   err, n)))
			return rc;
		x = 0;
		if ((rc = meta_num(s, "horizon", 0, 1e6, &x, path, err, n)))
			return rc;
		in->horizon = (long)x;
	} else if (kind == SHD_PLOTIN_ALLOC) {
		const char *m = shd_schema_meta(s, "metric");

		c->jp = shd_schema_find(s, "policy");
		c->ja = shd_schema_find(s, "alloc");
		c->ju = shd_schema_find(s, "util");
		/* the metric the policies size by; shd-replay names it */
		if (!(in->ametric = strdup(m && *m ? m : "util")) ||
		    !(in->aunit = strdup(s->cols[c->ju].unit)))
			return SHD_ENOMEM;
	} else {
		c->jm = shd_schema_find(s, "metric");
		c->jsev = shd_schema_find(s, "severity");
		c->jc = shd_schema_find(s, "cur");
		c->jk = shd_schema_find(s, "kept");
	}
	return in->oom ? SHD_ENOMEM : 0;
}

/* Row I of F, the resource's, of a stream of kind KIND. */
static void row(struct shd_plotin *in, const struct shd_schema *s, int kind,
		const struct cols *c, const struct shd_frame *f, size_t i,
		const uint32_t *pid, const int *have_pol)
{
	int64_t t = SHD_I64COL(f, c->jt)[i];

	if (kind == SHD_PLOTIN_UTIL) {
		for (size_t k = 0; k < c->num; k++)
			add(in, c->um[k].pi, SHD_PLOT_ACTUAL, t,
			    value_at(f, c->um[k].j, i), NAN, NAN, 0);
	} else if (kind == SHD_PLOTIN_FORECAST) {
		forecast_row(in, f, i, c->jt, c->jo, c->js);
	} else if (kind == SHD_PLOTIN_ALLOC) {
		uint32_t k = SHD_KEYCOL(f, c->jp)[i];
		int pol = -1;

		for (int q = 0; q < SHD_NPOL && pol < 0; q++)
			if (have_pol[q] && pid[q] == k)
				pol = q;
		if (pol >= 0)	/* a policy unknown here: no */
			alloc_row(in, t, pol, value_at(f, c->ja, i),
				  value_at(f, c->ju, i));
	} else {
		const char *m = shd_dict_str(f->dict, SHD_KEYCOL(f, c->jm)[i],
					     NULL);
		const char *sev = shd_dict_str(
			f->dict, SHD_KEYCOL(f, c->jsev)[i], NULL);
		char key[160];

		if (!strcmp(sev, "info"))
			return;	/* --all: no alert */
		snprintf(key, sizeof(key), "unit.%s", m);
		add(in, panel_for(in, m, shd_schema_meta(s, key)),
		    SHD_PLOT_ALERT, t, value_at(f, c->jc, i), NAN, NAN,
		    SHD_U8COL(f, c->jk)[i] != 0);
	}
}

/* The rows of R's stream of kind KIND that are the resource's. */
static int rows(struct shd_plotin *in, struct shd_reader *r, int kind,
		const struct cols *c, char *err, size_t n)
{
	const struct shd_schema *s = shd_reader_schema(r);
	struct shd_frame f = { 0 };
	int rc = 0;

	if (shd_frame_init(&f, s, shd_reader_dict(r)) < 0)
		return SHD_ENOMEM;
	while (!in->oom && (rc = shd_reader_next(r, &f)) == 0) {
		uint32_t id = 0, pid[SHD_NPOL] = { 0 };
		int have_id = 0, have_pol[SHD_NPOL] = { 0 };

		if (in->chosen && shd_dict_find(f.dict, in->chosen,
						strlen(in->chosen), &id) == 0)
			have_id = 1;
		else if (in->chosen && in->want)
			continue;	/* not in this block */
		for (int k = 0; kind == SHD_PLOTIN_ALLOC && k < SHD_NPOL; k++)
			have_pol[k] = shd_dict_find(
				f.dict, shd_policy_name[k],
				strlen(shd_policy_name[k]), &pid[k]) == 0;
		for (size_t i = 0; i < f.nrows && !in->oom; i++) {
			if (!mine(in, &f, c->jr, i, &id, &have_id))
				continue;
			in->rows++;
			row(in, s, kind, c, &f, i, pid, have_pol);
		}
	}
	shd_frame_release(&f);
	if (in->oom)
		return SHD_ENOMEM;
	if (rc != SHD_EOF)
		return fail(err, n, rc, "%s", shd_reader_errmsg(r));
	return 0;
}

/* "the inputs hold several resources (a, b, ...): choose one" */
static int several(const struct shd_plotin *in, char *err, size_t n)
{
	char list[512] = "";

	for (size_t k = 0; k < in->nseen; k++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", k ? ", " : "", in->seen[k]);
	return fail(err, n, SHD_EINVAL, "the inputs hold several resources "
		    "(%s%s): choose one with -r", list, in->more ? ", ..." : "");
}

int shd_plotin_read(struct shd_plotin *in, int fd, const char *path,
		    char *err, size_t n)
{
	struct shd_reader *r = NULL;
	struct cols c = { .jm = -1, .jo = -1, .js = -1, .jsev = -1, .jc = -1,
			  .jk = -1, .jp = -1, .ja = -1, .ju = -1 };
	int kind, rc;

	if ((rc = shd_reader_open(&r, fd, path)) < 0) {
		rc = fail(err, n, rc, "%s", r ? shd_reader_errmsg(r)
					      : shd_strerror(rc));
		goto out;
	}
	if ((kind = kind_of(shd_reader_schema(r), path, err, n)) < 0) {
		rc = kind;
		goto out;
	}
	if (in->kind_path[kind]) {
		rc = fail(err, n, SHD_EINVAL, "two %s streams ('%s', '%s'): "
			  "give one of each kind", kind_name[kind],
			  in->kind_path[kind], path);
		goto out;
	}
	if (!(in->kind_path[kind] = strdup(path))) {
		rc = SHD_ENOMEM;
		goto out;
	}
	if (!(rc = header(in, shd_reader_schema(r), kind, &c, path, err, n)))
		rc = rows(in, r, kind, &c, err, n);
	if (!rc && in->several)
		rc = several(in, err, n);
out:
	if (rc == SHD_ENOMEM)
		fail(err, n, rc, "out of memory");
	free(c.um);
	shd_reader_free(r);
	return rc;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/*
 * The forecast rows into layers: from one origin, its whole horizon
 * (starting at the value at the origin); from several (a rolling
 * forecast), the forecast made STEP steps ahead at the time it is for.
 * The forecast's actual values (M at time, M.cur at the origin) stand in
 * for a utilization stream where none was given.
 */
static int forecast_layers(struct shd_plotin *in, int step)
{
	struct shd_plot *p = in->p;
	int64_t *o;
	size_t no = 0;

	if (!in->nfr)
		return 0;
	if (!(o = malloc(in->nfr * sizeof(*o))))
		return SHD_ENOMEM;
	for (size_t i = 0; i < in->nfr; i++)
		o[i] = in->fr[i].origin;
	qsort(o, in->nfr, sizeof(*o), cmp_i64);
	for (size_t i = 0; i < in->nfr; i++)
		if (!no || o[i] != o[no - 1])
			o[no++] = o[i];
	if (no == 1) {
		p->origin = o[0];
	} else {
		p->step = step;
		p->last_origin = o[no - 1];
	}
	free(o);
	for (size_t k = 0; k < in->nfm && !in->oom; k++) {
		long pi = panel_for(in, in->fm[k].name, in->fm[k].unit);
		int from_util;

		if (pi < 0)
			continue;
		from_util = p->panel[pi].n[SHD_PLOT_ACTUAL] > 0;
		for (size_t i = 0; i < in->nfr; i++) {
			const double *v = in->fv + (i * in->nfm + k) * 5;
			const struct fcrow *r = &in->fr[i];

			if (no == 1 && r->step == 1 && !isnan(v[3]))
				add(in, pi, SHD_PLOT_FORECAST, r->origin, v[3],
				    v[3], v[3], 0);
			if (no == 1 || r->step == step)
				add(in, pi, SHD_PLOT_FORECAST, r->t, v[0],
				    v[1], v[2], 0);
			if (!from_util) {
				add(in, pi, SHD_PLOT_ACTUAL, r->origin, v[3],
				    NAN, NAN, 0);
				add(in, pi, SHD_PLOT_ACTUAL, r->t, v[4], NAN,
				    NAN, 0);
			}
		}
	}
	return in->oom ? SHD_ENOMEM : 0;
}

/*
 * The allocation rows into two panels of series after the others, one
 * series per policy of SEL in replay.h's order, so that shd's comes last,
 * on top, and thicker: "allocation", as steps (an allocation holds until
 * the next), and "<metric> under each policy", as lines.
 */
static int alloc_layers(struct shd_plotin *in, unsigned sel, long *upanel)
{
	struct shd_plot *p = in->p;
	char label[192];
	long ia, iu;

	if (!in->kind_path[SHD_PLOTIN_ALLOC])
		return 0;
	snprintf(label, sizeof(label), "%s under each policy", in->ametric);
	if (!shd_plot_series_panel(p, "allocation", NULL, SHD_PLOT_STEPS))
		return SHD_ENOMEM;
	ia = (long)p->npanel - 1;
	if (!shd_plot_series_panel(p, label, in->aunit, SHD_PLOT_LINES))
		return SHD_ENOMEM;
	iu = (long)p->npanel - 1;
	*upanel = iu;
	for (int k = 0; k < SHD_NPOL; k++) {
		struct shd_plot_series *sa, *su;

		if (!(sel & (1u << k)) || !shd_plotin_policy_rows(in, k))
			continue;
		if (!(sa = shd_plot_series(&p->panel[ia], shd_policy_name[k],
					   k, k == SHD_POL_SHD)) ||
		    !(su = shd_plot_series(&p->panel[iu], shd_policy_name[k],
					   k, k == SHD_POL_SHD)))
			return SHD_ENOMEM;
		for (size_t i = 0; i < in->nar; i++)
			if (in->ar[i].policy == k &&
			    (shd_plot_series_add(sa, in->ar[i].t,
						 in->ar[i].alloc) < 0 ||
			     shd_plot_series_add(su, in->ar[i].t,
						 in->ar[i].util) < 0))
				return SHD_ENOMEM;
	}
	return 0;
}

int shd_plotin_finish(struct shd_plotin *in, int step, unsigned policies,
		      long *upanel)
{
	int rc;

	*upanel = -1;
	if ((rc = forecast_layers(in, step)))
		return rc;
	if ((rc = alloc_layers(in, policies, upanel)))
		return rc;
	/* the allocation stream alone: say what the panels compare */
	if (!in->p->title && in->kind_path[SHD_PLOTIN_ALLOC] &&
	    !in->kind_path[SHD_PLOTIN_UTIL] &&
	    !in->kind_path[SHD_PLOTIN_FORECAST] &&
	    !in->kind_path[SHD_PLOTIN_ALERTS] &&
	    asprintf(&in->p->title, "%s: policies replayed on %s",
		     in->chosen, in->ametric) < 0) {
		in->p->title = NULL;
		return SHD_ENOMEM;
	}
	if (!in->p->resource && in->chosen &&
	    !(in->p->resource = strdup(in->chosen)))
		return SHD_ENOMEM;
	return 0;
}
