/*
 * shd-plot - draw one resource's streams through gnuplot: actual use, the
 * forecast with its interval band, limits, alerts and applied changes,
 * one panel per metric, and shd-replay's policies (their allocations and
 * the utilization each would have seen). Reads utilization, forecast,
 * alert and allocation streams (each known by its columns) and
 * shd-apply's journal; writes a PNG, SVG or PDF (gnuplot found at run
 * time), or the gnuplot script (--script). The script itself is
 * lib/plot.c's; this reads the inputs into it.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "exec.h"
#include "plot.h"
#include "replay.h"
#include "shd.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-plot -o FILE.png|.svg|.pdf [options] [STREAM...]\n"
"       shd-plot --script [options] [STREAM...]\n"
"Draw a resource's utilization, forecast (with its interval band), limits,\n"
"alerts and applied changes through gnuplot, one panel per metric, and\n"
"replayed policies' allocations. Each STREAM is a utilization stream, a\n"
"forecast stream (shd-predict), an alert stream (shd-drift) or an\n"
"allocation stream (shd-replay -o), told apart by their columns; with\n"
"none, or '-', read standard input.\n"
"\n"
"  -o, --output FILE      write the image (format by extension: .png,\n"
"                         .svg, .pdf), atomically\n"
"      --script           print the gnuplot script, data inline, instead\n"
"                         (no gnuplot needed)\n"
"  -r, --resource NAME    the resource to draw (needed when the inputs\n"
"                         hold several)\n"
"      --metrics A,B,...  these metrics, in this order (default: all)\n"
"      --policies A,B,... of an allocation stream, these policies (static,\n"
"                         reactive, percentile, shd; default: all)\n"
"      --step N           of a rolling forecast, draw the forecast made N\n"
"                         steps ahead (default 1)\n"
"      --limit M=L        a limit line at L on metric M (repeatable)\n"
"  -c, --config FILE      limits from the fleet configuration\n"
"                         (shd-config(5): the resource's metrics' \"limit\")\n"
"      --journal FILE     shd-apply's journal (or its state directory):\n"
"                         the resource's changes as marked lines\n"
"      --from TIME        start of the time axis (default: 2 days before\n"
"                         the forecast's origin or the end of the data;\n"
"                         an allocation stream alone: its start)\n"
"      --to TIME          end of the time axis (default: the end of the\n"
"                         forecast or of the data)\n"
"      --size WxH         image size in pixels (default 1000 x 250 per\n"
"                         panel; pdf at 100 pixels an inch)\n"
"      --title TEXT       the title (default: the resource and forecast)\n"
"  -q, --quiet            no summary on standard error\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"gnuplot is $SHD_GNUPLOT, else 'gnuplot' on PATH (Debian: gnuplot-nox).\n"
"Exit status: 0 ok, 2 usage, 3 bad input (not a stream shd-plot knows,\n"
"truncated, no rows of the resource), 4 system error or gnuplot failed.\n");
	exit(status);
}

enum { OPT_SCRIPT = 256, OPT_METRICS, OPT_POLICIES, OPT_STEP, OPT_LIMIT,
       OPT_JOURNAL, OPT_FROM, OPT_TO, OPT_SIZE, OPT_TITLE };

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "script", no_argument, NULL, OPT_SCRIPT },
	{ "resource", required_argument, NULL, 'r' },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "policies", required_argument, NULL, OPT_POLICIES },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "config", required_argument, NULL, 'c' },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

enum kind { K_UTIL, K_FORECAST, K_ALERTS, K_ALLOC, K_N };
static const char *const kind_name[K_N] = { "utilization", "forecast",
					    "alert", "allocation" };

/* A --limit M=L. */
struct limit {
	char *metric;
	double v;
};

/* Forecast columns of one metric; -1 where absent. */
struct fcm {
	char name[128];
	int pred, lo, hi, cur, act;
	char unit[64];
};

/* One forecast row of the resource: values per metric, 5 each. */
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

struct ctx {
	struct shd_plot *p;
	const char *want;	/* -r NAME, or NULL */
	char *chosen;		/* whose rows are kept */
	int several;		/* no -r and a second resource came */
	char *seen[NAMES_SHOWN];	/* resources seen, for the message */
	size_t nseen;
	int more;		/* and others */
	int fixed_panels;	/* --metrics: no panel added */
	int64_t interval;
	const char *kind_path[K_N];	/* the input of each kind */
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

static void oom(void)
{
	cli_die(EXIT_SYSTEM, "out of memory");
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

/* What kind of stream S is, or die naming PATH. */
static enum kind kind_of(const struct shd_schema *s, const char *path)
{
	size_t nmetric = 0;

	if (col_of(s, "time", SHD_TIME) < 0 ||
	    col_of(s, "resource", SHD_KEY) < 0)
		cli_die(EXIT_BADINPUT, "%s: not a stream shd-plot knows: no "
			"'time' and 'resource' columns", path);
	if (col_of(s, "metric", SHD_KEY) >= 0 &&
	    col_of(s, "severity", SHD_KEY) >= 0 &&
	    col_of(s, "cur", 0) >= 0 && col_of(s, "kept", SHD_U8) >= 0)
		return K_ALERTS;
	if (col_of(s, "policy", SHD_KEY) >= 0 && col_of(s, "alloc", 0) >= 0 &&
	    col_of(s, "util", 0) >= 0)
		return K_ALLOC;
	if (col_of(s, "origin", SHD_TIME) >= 0 && col_of(s, "step", 0) >= 0) {
		for (size_t j = 0; j < s->ncols; j++) {
			size_t l = strlen(s->cols[j].name);

			if (l > 5 && !strcmp(s->cols[j].name + l - 5, ".pred"))
				return K_FORECAST;
		}
		cli_die(EXIT_BADINPUT, "%s: not a forecast stream shd-plot "
			"knows: no 'M.pred' column", path);
	}
	for (size_t j = 0; j < s->ncols; j++)
		if (numeric(s->cols[j].type))
			nmetric++;
	if (!nmetric)
		cli_die(EXIT_BADINPUT, "%s: not a stream shd-plot knows: no "
			"metric column (utilization, forecast, alerts or "
			"allocations)", path);
	return K_UTIL;
}

static void note_seen(struct ctx *c, const char *name)
{
	for (size_t k = 0; k < c->nseen; k++)
		if (!strcmp(c->seen[k], name))
			return;
	if (c->nseen == NAMES_SHOWN)
		c->more = 1;
	else if (!(c->seen[c->nseen++] = strdup(name)))
		oom();
}

/*
 * Is row I of F the resource's? Without -r the first resource seen is
 * chosen; a second one is noted (and the run ends after this input).
 */
static int mine(struct ctx *c, const struct shd_frame *f, int jr, size_t i,
		uint32_t *id, int *have_id)
{
	uint32_t k = SHD_KEYCOL(f, jr)[i];
	const char *name;

	if (*have_id && (k == *id || c->want))
		return k == *id;
	name = shd_dict_str(f->dict, k, NULL);
	if (!c->chosen) {
		if (!(c->chosen = strdup(name)))
			oom();
		note_seen(c, name);
		*id = k;
		*have_id = 1;
		return 1;
	}
	if (!c->want && strcmp(name, c->chosen) != 0) {
		c->several = 1;
		note_seen(c, name);
	}
	return 0;
}

/*
 * The index of METRIC's panel (added when new unless --metrics fixed
 * them; UNIT noted), or -1. Panels move when one is added: keep indexes.
 */
static long panel_for(struct ctx *c, const char *metric, const char *unit)
{
	struct shd_plot_panel *pn = shd_plot_find(c->p, metric);

	if (!pn && c->fixed_panels)
		return -1;
	if (!(pn = shd_plot_panel(c->p, metric, unit)))
		oom();
	return pn - c->p->panel;
}

static void add(struct ctx *c, long pi, int layer, int64_t t, double v,
		double lo, double hi, int kept)
{
	struct shd_plot_pt pt = { t, v, lo, hi, kept };

	if (pi >= 0 && shd_plot_add(&c->p->panel[pi], layer, &pt) < 0)
		oom();
}

/* The forecast's metric columns (M.pred, M.lo, M.hi, M.cur, M). */
static void forecast_cols(struct ctx *c, const struct shd_schema *s)
{
	for (size_t j = 0; j < s->ncols; j++) {
		const char *cn = s->cols[j].name;
		size_t l = strlen(cn);
		struct fcm *m;
		char col[160];

		if (l <= 5 || strcmp(cn + l - 5, ".pred") ||
		    l - 5 >= sizeof(c->fm->name) || !numeric(s->cols[j].type))
			continue;
		if (!(c->fm = realloc(c->fm, (c->nfm + 1) * sizeof(*c->fm))))
			oom();
		m = &c->fm[c->nfm++];
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
}

static void forecast_row(struct ctx *c, const struct shd_frame *f, size_t i,
			 int jt, int jo, int js)
{
	double *v;

	if (c->nfr == c->capfr) {
		c->capfr = c->capfr ? 2 * c->capfr : 256;
		if (!(c->fr = realloc(c->fr, c->capfr * sizeof(*c->fr))) ||
		    !(c->fv = realloc(c->fv, c->capfr * c->nfm * 5 *
					     sizeof(*c->fv))))
			oom();
	}
	c->fr[c->nfr].t = SHD_I64COL(f, jt)[i];
	c->fr[c->nfr].origin = SHD_I64COL(f, jo)[i];
	c->fr[c->nfr].step = (int64_t)value_at(f, js, i);
	v = c->fv + c->nfr * c->nfm * 5;
	for (size_t k = 0; k < c->nfm; k++) {
		v[5 * k] = value_at(f, c->fm[k].pred, i);
		v[5 * k + 1] = value_at(f, c->fm[k].lo, i);
		v[5 * k + 2] = value_at(f, c->fm[k].hi, i);
		v[5 * k + 3] = value_at(f, c->fm[k].cur, i);
		v[5 * k + 4] = value_at(f, c->fm[k].act, i);
	}
	c->nfr++;
}

static void alloc_row(struct ctx *c, int64_t t, int policy, double alloc,
		      double util)
{
	if (c->nar == c->capar) {
		c->capar = c->capar ? 2 * c->capar : 1024;
		if (!(c->ar = realloc(c->ar, c->capar * sizeof(*c->ar))))
			oom();
	}
	c->ar[c->nar++] = (struct arow){ t, policy, alloc, util };
}

/* Reads the stream at PATH into the plot (or the forecast rows). */
static void read_input(struct ctx *c, const char *path)
{
	struct shd_reader *r = NULL;
	struct shd_frame f = { 0 };
	const struct shd_schema *s;
	enum kind kind;
	int fd, rc, jt, jr, jm = -1, jo = -1, js = -1, jsev = -1, jc = -1,
	    jk = -1, jp = -1, ja = -1, ju = -1;
	struct { int j; long pi; } *um = NULL;
	size_t num = 0;

	fd = cli_open_in(path);
	if ((rc = shd_reader_open(&r, fd, path)) < 0)
		cli_die(cli_status(rc), "%s", r ? shd_reader_errmsg(r)
						: shd_strerror(rc));
	s = shd_reader_schema(r);
	kind = kind_of(s, path);
	if (c->kind_path[kind])
		cli_die(EXIT_USAGE, "two %s streams ('%s', '%s'): give one "
			"of each kind", kind_name[kind], c->kind_path[kind],
			path);
	c->kind_path[kind] = path;
	jt = shd_schema_find(s, "time");
	jr = shd_schema_find(s, "resource");
	if (!c->interval)
		c->interval = (int64_t)cli_meta_num(s, "interval_ms", 0, 1e12,
						    0, path);
	if (kind == K_UTIL) {
		if (!(um = calloc(s->ncols, sizeof(*um))))
			oom();
		for (size_t j = 0; j < s->ncols; j++)
			if ((int)j != jt && (int)j != jr &&
			    numeric(s->cols[j].type)) {
				um[num].j = (int)j;
				um[num++].pi = panel_for(c, s->cols[j].name,
							 s->cols[j].unit);
			}
	} else if (kind == K_FORECAST) {
		jo = shd_schema_find(s, "origin");
		js = shd_schema_find(s, "step");
		forecast_cols(c, s);
		if (!c->nfm)
			cli_die(EXIT_BADINPUT, "%s: not a forecast stream "
				"shd-plot knows: no numeric 'M.pred' column",
				path);
		c->p->coverage = cli_meta_num(s, "coverage", 0, 1,
					      c->p->coverage, path);
		c->horizon = (long)cli_meta_num(s, "horizon", 0, 1e6, 0, path);
	} else if (kind == K_ALLOC) {
		const char *m = shd_schema_meta(s, "metric");

		jp = shd_schema_find(s, "policy");
		ja = shd_schema_find(s, "alloc");
		ju = shd_schema_find(s, "util");
		/* the metric the policies size by; shd-replay names it */
		if (!(c->ametric = strdup(m && *m ? m : "util")) ||
		    !(c->aunit = strdup(s->cols[ju].unit)))
			oom();
	} else {
		jm = shd_schema_find(s, "metric");
		jsev = shd_schema_find(s, "severity");
		jc = shd_schema_find(s, "cur");
		jk = shd_schema_find(s, "kept");
	}
	if (shd_frame_init(&f, s, shd_reader_dict(r)) < 0)
		oom();
	while ((rc = shd_reader_next(r, &f)) == 0) {
		uint32_t id = 0, pid[SHD_NPOL];
		int have_id = 0, have_pol[SHD_NPOL];

		if (c->chosen && shd_dict_find(f.dict, c->chosen,
					       strlen(c->chosen), &id) == 0)
			have_id = 1;
		else if (c->chosen && c->want)
			continue;	/* not in this block */
		for (int k = 0; kind == K_ALLOC && k < SHD_NPOL; k++)
			have_pol[k] = shd_dict_find(
				f.dict, shd_policy_name[k],
				strlen(shd_policy_name[k]), &pid[k]) == 0;
		for (size_t i = 0; i < f.nrows; i++) {
			int64_t t;

			if (!mine(c, &f, jr, i, &id, &have_id))
				continue;
			c->rows++;
			t = SHD_I64COL(&f, jt)[i];
			if (kind == K_UTIL) {
				for (size_t k = 0; k < num; k++)
					add(c, um[k].pi, SHD_PLOT_ACTUAL, t,
					    value_at(&f, um[k].j, i), NAN, NAN,
					    0);
			} else if (kind == K_FORECAST) {
				forecast_row(c, &f, i, jt, jo, js);
			} else if (kind == K_ALLOC) {
				uint32_t k = SHD_KEYCOL(&f, jp)[i];
				int pol = -1;

				for (int q = 0; q < SHD_NPOL && pol < 0; q++)
					if (have_pol[q] && pid[q] == k)
						pol = q;
				if (pol >= 0)	/* a policy unknown here: no */
					alloc_row(c, t, pol,
						  value_at(&f, ja, i),
						  value_at(&f, ju, i));
			} else {
				const char *m = shd_dict_str(
					f.dict, SHD_KEYCOL(&f, jm)[i], NULL);
				const char *sev = shd_dict_str(
					f.dict, SHD_KEYCOL(&f, jsev)[i], NULL);
				char key[160];

				if (!strcmp(sev, "info"))
					continue;	/* --all: no alert */
				snprintf(key, sizeof(key), "unit.%s", m);
				add(c, panel_for(c, m, shd_schema_meta(s, key)),
				    SHD_PLOT_ALERT, t, value_at(&f, jc, i),
				    NAN, NAN, SHD_U8COL(&f, jk)[i] != 0);
			}
		}
	}
	if (rc != SHD_EOF)
		cli_die(cli_status(rc), "%s", shd_reader_errmsg(r));
	free(um);
	shd_frame_release(&f);
	shd_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
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
static void forecast_layers(struct ctx *c, int step)
{
	struct shd_plot *p = c->p;
	int64_t *o;
	size_t no = 0;

	if (!c->nfr)
		return;
	if (!(o = malloc(c->nfr * sizeof(*o))))
		oom();
	for (size_t i = 0; i < c->nfr; i++)
		o[i] = c->fr[i].origin;
	qsort(o, c->nfr, sizeof(*o), cmp_i64);
	for (size_t i = 0; i < c->nfr; i++)
		if (!no || o[i] != o[no - 1])
			o[no++] = o[i];
	if (no == 1) {
		p->origin = o[0];
	} else {
		p->step = step;
		p->last_origin = o[no - 1];
	}
	free(o);
	for (size_t k = 0; k < c->nfm; k++) {
		long pi = panel_for(c, c->fm[k].name, c->fm[k].unit);
		int from_util;

		if (pi < 0)
			continue;
		from_util = p->panel[pi].n[SHD_PLOT_ACTUAL] > 0;
		for (size_t i = 0; i < c->nfr; i++) {
			const double *v = c->fv + (i * c->nfm + k) * 5;
			const struct fcrow *r = &c->fr[i];

			if (no == 1 && r->step == 1 && !isnan(v[3]))
				add(c, pi, SHD_PLOT_FORECAST, r->origin, v[3],
				    v[3], v[3], 0);
			if (no == 1 || r->step == step)
				add(c, pi, SHD_PLOT_FORECAST, r->t, v[0], v[1],
				    v[2], 0);
			if (!from_util) {
				add(c, pi, SHD_PLOT_ACTUAL, r->origin, v[3],
				    NAN, NAN, 0);
				add(c, pi, SHD_PLOT_ACTUAL, r->t, v[4], NAN,
				    NAN, 0);
			}
		}
	}
}

/*
 * The allocation rows into two panels of series after the others, one
 * series per policy of SEL (a bit per replay.h's index) in replay.h's
 * order, so that shd's comes last, on top, and thicker: "allocation", as
 * steps (an allocation holds until the next), and "<metric> under each
 * policy", as lines. GIVEN: --policies named them, so a missing one is
 * worth a word. Returns the second panel's index, or -1.
 */
static long alloc_layers(struct ctx *c, unsigned sel, int given)
{
	struct shd_plot *p = c->p;
	size_t n[SHD_NPOL] = { 0 };
	char label[192];
	long ia, iu;

	if (!c->kind_path[K_ALLOC]) {
		if (given)
			cli_warn("--policies: no allocation stream "
				 "(shd-replay -o) among the inputs");
		return -1;
	}
	for (size_t i = 0; i < c->nar; i++)
		n[c->ar[i].policy]++;
	for (int k = 0; k < SHD_NPOL; k++)
		if (given && (sel & (1u << k)) && !n[k])
			cli_warn("%s: no rows of policy '%s'; left out",
				 c->kind_path[K_ALLOC], shd_policy_name[k]);
	snprintf(label, sizeof(label), "%s under each policy", c->ametric);
	if (!shd_plot_series_panel(p, "allocation", NULL, SHD_PLOT_STEPS))
		oom();
	ia = (long)p->npanel - 1;
	if (!shd_plot_series_panel(p, label, c->aunit, SHD_PLOT_LINES))
		oom();
	iu = (long)p->npanel - 1;
	for (int k = 0; k < SHD_NPOL; k++) {
		struct shd_plot_series *sa, *su;

		if (!(sel & (1u << k)) || !n[k])
			continue;
		if (!(sa = shd_plot_series(&p->panel[ia], shd_policy_name[k],
					   k, k == SHD_POL_SHD)) ||
		    !(su = shd_plot_series(&p->panel[iu], shd_policy_name[k],
					   k, k == SHD_POL_SHD)))
			oom();
		for (size_t i = 0; i < c->nar; i++)
			if (c->ar[i].policy == k &&
			    (shd_plot_series_add(sa, c->ar[i].t,
						 c->ar[i].alloc) < 0 ||
			     shd_plot_series_add(su, c->ar[i].t,
						 c->ar[i].util) < 0))
				oom();
	}
	return iu;
}

/* --policies A,B,...: a bit per replay.h's index. */
static unsigned parse_policies(const char *arg)
{
	char *s = strdup(arg), *save = NULL;
	unsigned sel = 0;

	if (!s)
		oom();
	for (char *tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int k = 0;

		while (k < SHD_NPOL && strcmp(tok, shd_policy_name[k]))
			k++;
		if (k == SHD_NPOL)
			cli_die(EXIT_USAGE, "--policies: no policy '%s' (static, "
				"reactive, percentile, shd)", tok);
		sel |= 1u << k;
	}
	free(s);
	if (!sel)
		cli_die(EXIT_USAGE, "--policies: no policy named");
	return sel;
}

/* "replicas 2->4" from a journal's knob and values. */
static void change_label(const char *knob, double from, double to,
			 char *buf, size_t n)
{
	int k = shd_knob_parse(knob);
	char a[64], b[64];

	if (k >= 0) {
		shd_knob_format(k, from, a, sizeof(a));
		shd_knob_format(k, to, b, sizeof(b));
	} else {
		snprintf(a, sizeof(a), "%g", from);
		snprintf(b, sizeof(b), "%g", to);
	}
	snprintf(buf, n, "%s %s->%s", knob, a, b);
}

/*
 * shd-apply's journal (JSON lines; a directory means DIR/journal): each
 * "done" change of RESOURCE becomes a mark. A bad line is bad input; a
 * last line cut short (a crash while writing) is left out, as shd-apply
 * does.
 */
static void read_journal(struct shd_plot *p, const char *arg,
			 const char *resource)
{
	char path[4096], *line = NULL;
	size_t cap = 0, lineno = 0;
	struct stat st;
	ssize_t len;
	FILE *fp;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/journal", arg);
	else
		snprintf(path, sizeof(path), "%s", arg);
	if (!(fp = fdopen(cli_open_in(path), "r")))
		cli_die(EXIT_SYSTEM, "%s:", path);
	while ((len = getline(&line, &cap, fp)) >= 0) {
		int torn = len == 0 || line[len - 1] != '\n';
		json_error_t je;
		json_t *j;
		const char *ev, *res, *knob, *ts;
		int64_t t;
		char label[160];

		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		if (!(j = json_loadb(line, (size_t)len, 0, &je))) {
			if (torn)
				break;
			cli_die(EXIT_BADINPUT, "%s:%zu: not JSON: %s", path,
				lineno, je.text);
		}
		ev = json_string_value(json_object_get(j, "event"));
		res = json_string_value(json_object_get(j, "resource"));
		knob = json_string_value(json_object_get(j, "knob"));
		ts = json_string_value(json_object_get(j, "time"));
		if (!ev || !ts || shd_time_parse(ts, strlen(ts), &t) < 0)
			cli_die(EXIT_BADINPUT, "%s:%zu: not a journal record "
				"(no event or time)", path, lineno);
		if (!strcmp(ev, "done") && res && knob &&
		    !strcmp(res, resource)) {
			change_label(knob, json_number_value(
					     json_object_get(j, "from")),
				     json_number_value(json_object_get(j, "to")),
				     label, sizeof(label));
			if (shd_plot_mark(p, t, label) < 0)
				oom();
		}
		json_decref(j);
	}
	if (ferror(fp))
		cli_die(EXIT_SYSTEM, "cannot read '%s':", path);
	free(line);
	fclose(fp);
}

/* --limit M=L[,M=L...] */
static void parse_limits(struct limit **lv, size_t *n, const char *arg)
{
	char *s = strdup(arg), *save = NULL;

	if (!s)
		oom();
	for (char *tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		double v;

		if (!eq || eq == tok)
			cli_die(EXIT_USAGE, "--limit: expected METRIC=LIMIT, "
				"got '%s'", tok);
		*eq = '\0';
		errno = 0;
		v = strtod(eq + 1, &end);
		if (!eq[1] || *end || errno || !isfinite(v))
			cli_die(EXIT_USAGE, "--limit: bad value '%s'", eq + 1);
		if (!(*lv = realloc(*lv, (*n + 1) * sizeof(**lv))) ||
		    !((*lv)[*n].metric = strdup(tok)))
			oom();
		(*lv)[(*n)++].v = v;
	}
	free(s);
}

static void parse_size(const char *s, unsigned *w, unsigned *h)
{
	char *end;
	unsigned long a, b;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || (*end != 'x' && *end != 'X'))
		goto bad;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || a < 64 || b < 64 ||
	    a > 16384 || b > 16384)
		goto bad;
	*w = (unsigned)a;
	*h = (unsigned)b;
	return;
bad:
	cli_die(EXIT_USAGE, "--size: expected WIDTHxHEIGHT in pixels, each "
		"64 to 16384 (1000x750), got '%s'", s);
}

/* The gnuplot to run: $SHD_GNUPLOT or 'gnuplot'; NULL when not found. */
static const char *find_gnuplot(void)
{
	const char *g = getenv("SHD_GNUPLOT"), *path;
	char buf[4096];

	if (!g || !*g)
		g = "gnuplot";
	if (strchr(g, '/'))
		return access(g, X_OK) == 0 ? g : NULL;
	path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *d = path; ; d++) {
		const char *e = strchr(d, ':');
		size_t l = e ? (size_t)(e - d) : strlen(d);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, l ? d : ".", g);
		if (access(buf, X_OK) == 0)
			return g;
		if (!e)
			break;
		d = e;
	}
	return NULL;
}

#define NO_GNUPLOT "gnuplot not found: install gnuplot-nox (scripts/deps) " \
		   "or use --script"

/* Runs GNUPLOT on the script of P for O; the image replaces O->path. */
static void render(const char *gnuplot, const struct shd_plot *p,
		   struct shd_plot_out o, const char *output)
{
	const char *tmpdir = getenv("TMPDIR");
	char script[4096], tmp[4096], err[1024];
	char *argv[3];
	struct stat st;
	int sfd, ofd, rc;
	FILE *fp;

	ofd = shd_atomic_open(output, tmp, sizeof(tmp));
	if (ofd < 0)
		cli_die(EXIT_SYSTEM, "%s:", output);
	if (!tmp[0] && isatty(ofd))
		cli_die(EXIT_USAGE, "will not write an image to a terminal");
	o.path = tmp[0] ? tmp : output;
	if (shd_tmp_template(script, sizeof(script), tmpdir, "shd-plot.") ||
	    (sfd = mkstemp(script)) < 0 || !(fp = fdopen(sfd, "w"))) {
		shd_atomic_abort(ofd, tmp);
		cli_die(EXIT_SYSTEM, "cannot make a temporary file in '%s':",
			tmpdir && *tmpdir ? tmpdir : "/tmp");
	}
	rc = shd_plot_write(p, &o, fp);
	if (fclose(fp) != 0 || rc) {
		unlink(script);
		shd_atomic_abort(ofd, tmp);
		cli_die(EXIT_SYSTEM, "%s:", script);
	}
	argv[0] = (char *)gnuplot;
	argv[1] = script;
	argv[2] = NULL;
	rc = shd_run(argv, 120, NULL, err, sizeof(err));
	unlink(script);
	if (rc == 0 && tmp[0] && (fstat(ofd, &st) < 0 || st.st_size == 0)) {
		snprintf(err, sizeof(err), "%s wrote nothing", gnuplot);
		rc = SHD_EIO;
	}
	if (rc) {
		shd_atomic_abort(ofd, tmp);
		if (strstr(err, ": not found"))
			cli_die(EXIT_SYSTEM, NO_GNUPLOT);
		cli_die(EXIT_SYSTEM, "%s: gnuplot failed: %s", output, err);
	}
	if (shd_atomic_commit(ofd, tmp, output) < 0)
		cli_die(EXIT_SYSTEM, "%s:", output);
}

int main(int argc, char **argv)
{
	const char *output = NULL, *config = NULL, *journal = NULL,
		   *title = NULL, *gnuplot = NULL;
	char *metrics = NULL;
	unsigned policies = (1u << SHD_NPOL) - 1;
	int policies_given = 0;
	long upanel;
	struct limit *lim = NULL;
	size_t nlim = 0, step = 1, nstdin = 0;
	unsigned width = 0, height = 0;
	int c, rc, script = 0, quiet = 0, step_given = 0;
	int64_t from = INT64_MIN, to = INT64_MIN;
	struct shd_plot plot;
	struct shd_plot_out o = { 0 };
	struct ctx ctx = { 0 };

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "o:r:c:qhV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_SCRIPT: script = 1; break;
		case 'r':
			if (ctx.want)
				cli_die(EXIT_USAGE, "one resource per image "
					"(-r given twice)");
			ctx.want = optarg;
			break;
		case OPT_METRICS: metrics = optarg; break;
		case OPT_POLICIES:
			policies = parse_policies(optarg);
			policies_given = 1;
			break;
		case OPT_STEP:
			step = cli_size_arg("--step", optarg, 1, 1000000);
			step_given = 1;
			break;
		case OPT_LIMIT: parse_limits(&lim, &nlim, optarg); break;
		case 'c': config = optarg; break;
		case OPT_JOURNAL: journal = optarg; break;
		case OPT_FROM: from = cli_time_arg("--from", optarg); break;
		case OPT_TO: to = cli_time_arg("--to", optarg); break;
		case OPT_SIZE: parse_size(optarg, &width, &height); break;
		case OPT_TITLE: title = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (!output && !script)
		cli_die(EXIT_USAGE, "give -o FILE.png|.svg|.pdf, or --script "
			"(an image is never written to standard output)");
	if (output && (o.term = shd_plot_term_of(output)) < 0)
		cli_die(EXIT_USAGE, "-o '%s': the extension names the format: "
			".png, .svg or .pdf", output);
	if (from != INT64_MIN && to != INT64_MIN && from >= to)
		cli_die(EXIT_USAGE, "--from must come before --to");
	for (int i = 0; i < argc; i++)
		nstdin += !strcmp(argv[i], "-");
	if (nstdin > 1 || (journal && !strcmp(journal, "-") &&
			   (nstdin || !argc)))
		cli_die(EXIT_USAGE, "standard input can be read once only");
	if (!script && !(gnuplot = find_gnuplot()))
		cli_die(EXIT_SYSTEM, NO_GNUPLOT);

	shd_plot_init(&plot);
	ctx.p = &plot;
	if (ctx.want && !(ctx.chosen = strdup(ctx.want)))
		oom();
	if (metrics) {
		char *s = strdup(metrics), *save = NULL;

		if (!s)
			oom();
		for (char *m = strtok_r(s, ",", &save); m;
		     m = strtok_r(NULL, ",", &save))
			if (!shd_plot_panel(&plot, m, NULL))
				oom();
		free(s);
		if (!plot.npanel)
			cli_die(EXIT_USAGE, "--metrics: no metric named");
		ctx.fixed_panels = 1;
	}

	if (!argc)
		read_input(&ctx, "-");
	for (int i = 0; i < argc && !ctx.several; i++)
		read_input(&ctx, argv[i]);
	if (ctx.several) {
		char list[512] = "";

		for (size_t k = 0; k < ctx.nseen; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", k ? ", " : "", ctx.seen[k]);
		cli_die(EXIT_USAGE, "the inputs hold several resources (%s%s): "
			"choose one with -r", list,
			ctx.more ? ", ..." : "");
	}
	if (!ctx.rows)
		cli_die(EXIT_BADINPUT, ctx.want ? "no rows of resource '%s' "
			"in the inputs" : "no rows in the inputs%s",
			ctx.want ? ctx.want : "");
	if (step_given && ctx.horizon > 0 && (long)step > ctx.horizon)
		cli_die(EXIT_USAGE, "--step %zu: the forecast's horizon is %ld",
			step, ctx.horizon);
	forecast_layers(&ctx, (int)step);
	upanel = alloc_layers(&ctx, policies, policies_given);
	/* the allocation stream alone: say what the panels compare */
	if (!title && ctx.kind_path[K_ALLOC] && !ctx.kind_path[K_UTIL] &&
	    !ctx.kind_path[K_FORECAST] && !ctx.kind_path[K_ALERTS] &&
	    asprintf(&plot.title, "%s: policies replayed on %s", ctx.chosen,
		     ctx.ametric) < 0)
		oom();
	if (!(plot.resource = strdup(ctx.chosen)) ||
	    (title && !(plot.title = strdup(title))))
		oom();
	plot.interval = ctx.interval;
	plot.from = from;
	plot.to = to;

	if (config) {
		struct shd_config conf;
		const struct shd_resource_conf *r;
		char err[1024];

		if ((rc = shd_config_load(&conf, config, err, sizeof(err))))
			cli_die(cli_status(rc), "%s", err);
		if ((r = shd_config_find(&conf, ctx.chosen)))
			for (size_t k = 0; k < r->nmetric; k++) {
				struct shd_plot_panel *pn = shd_plot_find(
					&plot, r->metric[k].name);

				if (isnan(r->metric[k].limit))
					continue;
				if (pn)
					pn->limit = r->metric[k].limit;
				if (upanel >= 0 && !strcmp(r->metric[k].name,
							   ctx.ametric))
					plot.panel[upanel].limit =
						r->metric[k].limit;
			}
		shd_config_release(&conf);
	}
	for (size_t k = 0; k < nlim; k++) {
		struct shd_plot_panel *pn = shd_plot_find(&plot, lim[k].metric);

		if (pn)
			pn->limit = lim[k].v;
		if (upanel >= 0 && !strcmp(lim[k].metric, ctx.ametric))
			plot.panel[upanel].limit = lim[k].v;
	}
	if (journal)
		read_journal(&plot, journal, ctx.chosen);
	for (size_t k = 0; metrics && k < plot.npanel; k++) {
		const struct shd_plot_panel *pn = &plot.panel[k];

		if (pn->kind == SHD_PLOT_METRIC && !pn->n[SHD_PLOT_ACTUAL] &&
		    !pn->n[SHD_PLOT_FORECAST] &&
		    !pn->n[SHD_PLOT_ALERT])
			cli_warn("no metric '%s' in the inputs; left out",
				 pn->metric);
	}

	rc = shd_plot_prepare(&plot);
	if (rc < 0)
		cli_die(EXIT_USAGE, "the time window is empty (--from, --to)");
	if (rc == 0 && (plot.from == INT64_MIN || plot.to == INT64_MIN))
		cli_die(EXIT_BADINPUT, "nothing of '%s' to draw", ctx.chosen);
	if (rc == 0) {
		char a[32], b[32];

		shd_time_format(plot.from, a, sizeof(a));
		shd_time_format(plot.to, b, sizeof(b));
		cli_die(EXIT_BADINPUT, "nothing of '%s' to draw from %s to %s",
			ctx.chosen, a, b);
	}
	o.width = width ? width : SHD_PLOT_WIDTH;
	o.height = height ? height
			  : SHD_PLOT_PANEL_HEIGHT * (unsigned)plot.npanel;
	if (script) {
		o.path = output;
		if (shd_plot_write(&plot, &o, stdout))
			cli_die(EXIT_SYSTEM, "standard output:");
	} else {
		render(gnuplot, &plot, o, output);
		if (!quiet)
			fprintf(stderr, "%s: %s: %s, %zu panel%s, %ux%u\n",
				cli_prog, output, ctx.chosen, plot.npanel,
				plot.npanel == 1 ? "" : "s", o.width,
				o.height);
	}

	for (size_t k = 0; k < nlim; k++)
		free(lim[k].metric);
	free(lim);
	for (size_t k = 0; k < ctx.nseen; k++)
		free(ctx.seen[k]);
	free(ctx.chosen);
	free(ctx.fm);
	free(ctx.fr);
	free(ctx.fv);
	free(ctx.ar);
	free(ctx.ametric);
	free(ctx.aunit);
	shd_plot_release(&plot);
	return cli_close_stdout();
}
