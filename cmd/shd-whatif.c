/*
 * shd-whatif - what a proposed change of allocation does to the forecast:
 * the forecast stream under the change (lib/whatif.c's capacity model),
 * per resource and metric the peak, the time above the limit, the
 * headroom and the slowdown at the peak, before and after, and the plan
 * shd-plan would then make. Exit 1 when the change would breach a limit,
 * so CI can gate a configuration change on it.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "confscale.h"
#include "drift.h"
#include "journal.h"
#include "plan.h"
#include "shd.h"
#include "whatif.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-whatif -c CONFIG -s RESOURCE.KNOB=VALUE... [options] [FORECAST]\n"
"What a change of allocation does to a forecast (shd-predict's stream):\n"
"the peak, the time above the limit, the headroom and the slowdown at the\n"
"peak of each affected resource and metric, before and after, and the\n"
"plan shd-plan would then make. With no FORECAST, or '-', read standard\n"
"input.\n"
"\n"
"  -c, --config FILE      the configuration: production's, or a shadow's\n"
"                         (as shd-shadow writes it), whose forecast is then\n"
"                         scaled back to production\n"
"      --shadow FILE      the shadow's configuration, when FORECAST is the\n"
"                         shadow's and CONFIG production's: the result and\n"
"                         the plan are production's\n"
"  -s, --set R.KNOB=VALUE the change: web.replicas=6, db.memory=8Gi,\n"
"                         db.cpu=500m (repeatable; production's terms)\n"
"      --limit M=L        the limit of metric M (default: the\n"
"                         configuration's; 100 for a percent metric)\n"
"      --bound pred|hi    what must pass the limit: the forecast (default)\n"
"                         or its upper bound\n"
"      --state DIR        shd-apply's state directory: allocations now\n"
"                         (default $SHD_STATE, else $XDG_STATE_HOME/shd)\n"
"  -o, --output FILE      write the forecast stream under the change\n"
"      --json             the report as JSON on standard output\n"
"  -q, --quiet            no table\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit status: 0 no limit is passed after the change, 1 one is, 2 usage,\n"
"3 bad input, 4 system error.\n");
	exit(status);
}

enum { OPT_LIMIT = 256, OPT_BOUND, OPT_STATE, OPT_JSON, OPT_SHADOW };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "set", required_argument, NULL, 's' },
	{ "shadow", required_argument, NULL, OPT_SHADOW },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "bound", required_argument, NULL, OPT_BOUND },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

#define MAXSET 64
#define MAXMET 64

/* Per metric of the stream: its columns and what the user set. */
struct metric {
	char name[64];
	int pred, lo, hi, conf, cur, act;
	int percent;		/* the stream's unit is "%" */
	double limit;		/* --limit; NaN: the configuration's */
};

/* Before and after, over one set of forecast rows. */
struct span {
	double peak[2], hi[2], cur[2], conf;
	size_t above[2], rows;
};

/* One affected resource and metric. */
struct row {
	const struct shd_resource_conf *r;
	const struct shd_metric_conf *mc;
	size_t m;		/* index in metric[] */
	double factor;		/* the product over the changes */
	double limit;
	int64_t origin;		/* the newest origin seen */
	int rolling;		/* more than one origin */
	struct span last;	/* the rows of the newest origin */
	struct span step1;	/* step 1 of every origin (a replay) */
};

struct ctx {
	struct shd_config conf;
	struct shd_config shadow;	/* --shadow; nres 0 when none */
	struct shd_whatif_set set[MAXSET];
	double from[MAXSET];	/* the allocation now, the config's terms */
	size_t nset;
	struct metric met[MAXMET];
	size_t nmet;
	struct row *rows;
	size_t nrows;
	double step_s;		/* seconds per forecast step */
	int bound_hi;
};

static void span_init(struct span *s)
{
	for (int i = 0; i < 2; i++) {
		s->peak[i] = s->hi[i] = s->cur[i] = NAN;
		s->above[i] = 0;
	}
	s->conf = NAN;
	s->rows = 0;
}

static double fmax_nan(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

/* Adds one forecast value (before: i 0, after: i 1). */
static void span_add(struct span *s, int i, double p, double h, double c,
		     double limit, int bound_hi)
{
	double v = bound_hi && !isnan(h) ? h : p;

	s->peak[i] = fmax_nan(s->peak[i], p);
	s->hi[i] = fmax_nan(s->hi[i], h);
	if (!isnan(c))
		s->cur[i] = c;
	if (!isnan(v) && v >= limit)
		s->above[i]++;
}

/* The limit of metric M for resource R: --limit, the configuration's,
 * 100 for a percent metric, else none. */
static double limit_of(const struct metric *m,
		       const struct shd_metric_conf *mc)
{
	if (!isnan(m->limit))
		return m->limit;
	if (mc && !isnan(mc->limit))
		return mc->limit;
	return m->percent ? 100 : INFINITY;
}

static void parse_limit(struct ctx *x, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		cli_die(EXIT_USAGE, "--limit: '%s': not METRIC=LIMIT", arg);
	*eq = 0;
	if (x->nmet == MAXMET)
		cli_die(EXIT_USAGE, "--limit: too many metrics");
	snprintf(x->met[x->nmet].name, sizeof(x->met[0].name), "%s", arg);
	x->met[x->nmet].limit = cli_real_arg("--limit", eq + 1, -INFINITY, 0,
					     INFINITY);
	x->met[x->nmet].pred = -1;
	x->nmet++;
}

/* The stream's metrics (m.pred columns) merged with the --limit ones. */
static void find_metrics(struct ctx *x, const struct shd_schema *s,
			 const char *path)
{
	size_t given = x->nmet;

	for (size_t j = 0; j < s->ncols; j++) {
		const char *cn = s->cols[j].name;
		size_t l = strlen(cn), k;
		struct metric *m;
		char col[96];

		if (l <= 5 || l - 5 >= sizeof(x->met[0].name) ||
		    strcmp(cn + l - 5, ".pred"))
			continue;
		for (k = 0; k < given; k++)
			if (strlen(x->met[k].name) == l - 5 &&
			    !strncmp(x->met[k].name, cn, l - 5))
				break;
		if (k == given) {
			if (x->nmet == MAXMET)
				cli_die(EXIT_BADINPUT, "%s: over %d metrics",
					path, MAXMET);
			k = x->nmet++;
			snprintf(x->met[k].name, sizeof(x->met[k].name),
				 "%.*s", (int)(l - 5), cn);
			x->met[k].limit = NAN;
		}
		m = &x->met[k];
		m->pred = (int)j;
		m->percent = !strcmp(s->cols[j].unit, "%");
		snprintf(col, sizeof(col), "%s.lo", m->name);
		m->lo = shd_schema_find(s, col);
		snprintf(col, sizeof(col), "%s.hi", m->name);
		m->hi = shd_schema_find(s, col);
		snprintf(col, sizeof(col), "%s.conf", m->name);
		m->conf = shd_schema_find(s, col);
		snprintf(col, sizeof(col), "%s.cur", m->name);
		m->cur = shd_schema_find(s, col);
		m->act = shd_schema_find(s, m->name);
	}
	for (size_t k = 0; k < given; k++)
		if (x->met[k].pred < 0)
			cli_die(EXIT_USAGE, "--limit: metric '%s' is not in %s",
				x->met[k].name, path);
	if (x->nmet == given)
		cli_die(EXIT_BADINPUT, "%s: not a forecast stream: no m.pred "
			"column", path);
}

/* The allocation of knob K of R now: the journal's, else the file's. */
static double now_of(const struct shd_resource_conf *r, int k,
		     const struct shd_jrec *j, size_t nj)
{
	const struct shd_jrec *lc = shd_journal_last_change(j, nj, r->name, k);

	return lc && isfinite(lc->to) ? lc->to : r->knob[k].current;
}

/* The shadow's fraction: --shadow's, the configuration's own, else 1. */
static double fraction(const struct ctx *x)
{
	if (x->shadow.nres)
		return x->shadow.shadow_fraction;
	return x->conf.shadow_fraction > 0 ? x->conf.shadow_fraction : 1;
}

/* The affected rows: every metric of a changed resource with a factor. */
static void affected(struct ctx *x, const struct shd_jrec *j, size_t nj)
{
	double f = fraction(x);

	for (size_t si = 0; si < x->nset; si++) {
		const struct shd_resource_conf *r =
			shd_config_find(&x->conf, x->set[si].resource);
		int k = x->set[si].knob;

		if (!r)
			cli_die(EXIT_BADINPUT, "--set: '%s' is not in %s",
				x->set[si].resource, x->conf.path);
		if (!r->knob[k].set)
			cli_die(EXIT_BADINPUT, "--set: %s has no %s in %s",
				r->name, shd_knob_name[k], x->conf.path);
		x->from[si] = now_of(r, k, j, nj);
		if (x->shadow.nres) {
			/* the forecast is the shadow's: its allocation now */
			r = shd_config_find(&x->shadow, x->set[si].resource);
			if (!r || !r->knob[k].set)
				cli_die(EXIT_BADINPUT, "--set: %s has no %s in "
					"the shadow %s", x->set[si].resource,
					shd_knob_name[k], x->shadow.path);
			x->from[si] = r->knob[k].current;
		}
		for (size_t m = 0; m < x->nmet; m++) {
			const struct shd_metric_conf *mc =
				shd_resource_metric(r, x->met[m].name);
			double fac = shd_whatif_factor(r, mc, x->met[m].name,
						       x->met[m].percent, k,
						       x->from[si],
						       x->set[si].to, f);
			struct row *w = NULL;

			for (size_t i = 0; i < x->nrows; i++)
				if (x->rows[i].r == r && x->rows[i].m == m)
					w = &x->rows[i];
			if (!w) {
				w = realloc(x->rows, (x->nrows + 1) *
					    sizeof(*w));
				if (!w)
					cli_die(EXIT_SYSTEM, "out of memory");
				x->rows = w;
				w = &x->rows[x->nrows++];
				memset(w, 0, sizeof(*w));
				w->r = r;
				w->mc = mc;
				w->m = m;
				w->factor = 1;
				w->limit = limit_of(&x->met[m], mc);
				w->origin = INT64_MIN;
				span_init(&w->last);
				span_init(&w->step1);
			}
			w->factor *= fac;
		}
	}
}

static struct row *row_of(struct ctx *x, const char *res, size_t m)
{
	for (size_t i = 0; i < x->nrows; i++)
		if (x->rows[i].m == m && !strcmp(x->rows[i].r->name, res))
			return &x->rows[i];
	return NULL;
}

static double *col(const struct shd_frame *f, int j)
{
	return j < 0 ? NULL : SHD_F64COL(f, j);
}

static double at(const double *c, size_t i)
{
	return c ? c[i] : NAN;
}

static void scale(double *c, size_t i, double fac)
{
	if (c)
		c[i] *= fac;
}

/* Records the rows of F before the change, then changes them. */
static void feed(struct ctx *x, struct shd_frame *f, int jr, int jo, int js,
		 struct shd_dict *d)
{
	for (size_t i = 0; i < f->nrows; i++) {
		const char *res = shd_dict_str(d, SHD_KEYCOL(f, jr)[i], NULL);
		int64_t org = SHD_I64COL(f, jo)[i];
		int64_t step = SHD_I64COL(f, js)[i];

		for (size_t m = 0; m < x->nmet; m++) {
			struct metric *mt = &x->met[m];
			struct row *w = row_of(x, res, m);
			double *p = col(f, mt->pred), *hi = col(f, mt->hi);
			double *cur = col(f, mt->cur);

			if (!w)
				continue;
			if (org != w->origin) {
				if (w->origin != INT64_MIN)
					w->rolling = 1;
				if (org < w->origin)
					goto change;
				w->origin = org;
				span_init(&w->last);
			}
			for (int a = 0; a < 2; a++) {
				double fac = a ? w->factor : 1;

				span_add(&w->last, a, at(p, i) * fac,
					 at(hi, i) * fac, at(cur, i) * fac,
					 w->limit, x->bound_hi);
				if (step == 1)
					span_add(&w->step1, a, at(p, i) * fac,
						 at(hi, i) * fac,
						 at(cur, i) * fac, w->limit,
						 x->bound_hi);
			}
			w->last.rows++;
			w->step1.rows += step == 1;
			if (mt->conf >= 0 && !isnan(at(col(f, mt->conf), i)))
				w->last.conf = isnan(w->last.conf)
					? at(col(f, mt->conf), i)
					: fmin(w->last.conf,
					       at(col(f, mt->conf), i));
change:
			scale(p, i, w->factor);
			scale(col(f, mt->lo), i, w->factor);
			scale(hi, i, w->factor);
			scale(cur, i, w->factor);
			scale(col(f, mt->act), i, w->factor);
		}
	}
}

/* The span that speaks for a row: a replay's step 1, else the origin's. */
static const struct span *span_of(const struct row *w)
{
	return w->rolling ? &w->step1 : &w->last;
}

/* The plan shd-plan would make after the change, from the newest origin
 * (every affected metric counted as an alert). */
static json_t *plan_after(struct ctx *x, struct shd_plan *p)
{
	struct shd_obs *obs = calloc(x->nrows + 1, sizeof(*obs));
	/* with --shadow the result is production's: so is the plan */
	double f = x->shadow.nres ? 1 : fraction(x);
	json_t *out;
	char why[256];

	if (!obs)
		cli_die(EXIT_SYSTEM, "out of memory");
	/* the configuration as it would be */
	for (size_t si = 0; si < x->nset; si++) {
		struct shd_resource_conf *r = (struct shd_resource_conf *)
			shd_config_find(&x->conf, x->set[si].resource);
		int k = x->set[si].knob;

		r->knob[k].current = f < 1 ? shd_shadow_value(k, "current",
							      x->set[si].to, f)
				   : x->set[si].to;
	}
	for (size_t i = 0; i < x->nrows; i++) {
		const struct row *w = &x->rows[i];
		struct shd_obs *o = &obs[i];

		snprintf(o->resource, sizeof(o->resource), "%s", w->r->name);
		snprintf(o->metric, sizeof(o->metric), "%s",
			 x->met[w->m].name);
		o->time = w->origin;
		o->cur = o->pred = w->last.cur[1];
		o->peak = w->last.peak[1];
		o->peak_hi = w->last.hi[1];
		o->conf = w->last.conf;
		o->breach_in = NAN;
		o->severity = w->last.above[1] ? SHD_SEV_CRITICAL
					       : SHD_SEV_WARNING;
		o->alert = o->kept = 1;
	}
	shd_plan_init(p);
	/* no journal: its cooldowns do not hold a change not yet made */
	if (shd_plan_build(p, &x->conf, obs, x->nrows, NULL, 0,
			   (int64_t)time(NULL) * 1000))
		cli_die(EXIT_SYSTEM, "out of memory");
	if (shd_plan_check(p, why, sizeof(why)))
		cli_die(EXIT_BADINPUT, "cannot write the plan: %s", why);
	if (!(out = shd_plan_json(p, &x->conf, NULL, 0)))
		cli_die(EXIT_SYSTEM, "out of memory");
	free(obs);
	return out;
}

static void fmt(char *b, size_t n, double v)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (isinf(v))
		snprintf(b, n, "inf");
	else
		snprintf(b, n, "%.4g", v);
}

static void table(const struct ctx *x, const struct shd_plan *p)
{
	char a[5][24], b[5][24];

	for (size_t si = 0; si < x->nset; si++) {
		char fr[32], t[32];

		printf("change: %s %s %s -> %s%s\n", x->set[si].resource,
		       shd_knob_name[x->set[si].knob],
		       shd_knob_format(x->set[si].knob, x->from[si], fr,
				       sizeof(fr)),
		       shd_knob_format(x->set[si].knob, x->set[si].to, t,
				       sizeof(t)),
		       fraction(x) < 1 ? " (from: the shadow's)" : "");
	}
	if (fraction(x) < 1)
		printf("on a shadow of %.3g of production, scaled back\n",
		       fraction(x));
	printf("%-16s %-8s %8s %19s %19s %15s %9s %17s\n", "RESOURCE",
	       "METRIC", "LIMIT", "PEAK", "UPPER", "ABOVE (min)",
	       "HEADROOM", "SLOWDOWN@PEAK");
	for (size_t i = 0; i < x->nrows; i++) {
		const struct row *w = &x->rows[i];
		const struct span *s = span_of(w);
		const struct metric *m = &x->met[w->m];

		if (w->factor == 1 || !s->rows)
			continue;
		for (int k = 0; k < 2; k++) {
			char (*o)[24] = k ? b : a;

			fmt(o[0], 24, s->peak[k]);
			fmt(o[1], 24, s->hi[k]);
			fmt(o[2], 24, (double)s->above[k] * x->step_s / 60);
			fmt(o[3], 24, m->percent
			    ? shd_whatif_slowdown(s->peak[k]) : NAN);
		}
		fmt(a[4], 24, w->limit);
		fmt(b[4], 24, w->limit - s->peak[1]);
		printf("%-16s %-8s %8s %8s -> %-8s %8s -> %-8s %6s -> %-6s "
		       "%9s %7s -> %-7s\n", w->r->name, m->name, a[4], a[0],
		       b[0], a[1], b[1], a[2], b[2], b[4], a[3], b[3]);
	}
	if (!p->nact) {
		printf("shd-plan would then change nothing\n");
		return;
	}
	for (size_t i = 0; i < p->nact; i++) {
		char f[32], t[32];

		printf("shd-plan would then: %s %s %s -> %s (%s)\n",
		       p->act[i].resource, shd_knob_name[p->act[i].knob],
		       shd_knob_format(p->act[i].knob, p->act[i].from, f,
				       sizeof(f)),
		       shd_knob_format(p->act[i].knob, p->act[i].to, t,
				       sizeof(t)), p->act[i].metric);
	}
}

#define NUM(v) (isfinite(v) ? json_real(v) : json_null())

static json_t *report_json(const struct ctx *x, json_t *plan, int breach)
{
	json_t *ch = json_array(), *rs = json_array();

	for (size_t si = 0; si < x->nset; si++)
		json_array_append_new(ch, json_pack("{s:s, s:s, s:f, s:f}",
				      "resource", x->set[si].resource,
				      "knob", shd_knob_name[x->set[si].knob],
				      "from", x->from[si], "to", x->set[si].to));
	for (size_t i = 0; i < x->nrows; i++) {
		const struct row *w = &x->rows[i];
		const struct span *s = span_of(w);
		const struct metric *m = &x->met[w->m];

		if (w->factor == 1 || !s->rows)
			continue;
		json_array_append_new(rs, json_pack(
			"{s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:o, s:f, s:f, "
			"s:o, s:o, s:o}",
			"resource", w->r->name, "metric", m->name,
			"factor", w->factor, "limit", NUM(w->limit),
			"peak_before", NUM(s->peak[0]),
			"peak_after", NUM(s->peak[1]),
			"upper_before", NUM(s->hi[0]),
			"upper_after", NUM(s->hi[1]),
			"minutes_above_before",
			(double)s->above[0] * x->step_s / 60,
			"minutes_above_after",
			(double)s->above[1] * x->step_s / 60,
			"headroom_after", NUM(w->limit - s->peak[1]),
			"slowdown_before", m->percent
			? NUM(shd_whatif_slowdown(s->peak[0])) : json_null(),
			"slowdown_after", m->percent
			? NUM(shd_whatif_slowdown(s->peak[1])) : json_null()));
	}
	return json_pack("{s:o, s:o, s:o, s:b, s:o}", "changes", ch,
			 "resources", rs, "plan", plan, "breach", breach,
			 "shadow_fraction", fraction(x) < 1
			 ? json_real(fraction(x)) : json_null());
}

int main(int argc, char **argv)
{
	struct ctx x = { .bound_hi = 0 };
	const char *config = NULL, *state = NULL, *output = NULL,
		   *input = "-", *shadow = NULL;
	struct shd_reader *r = NULL;
	struct shd_writer *w = NULL;
	struct shd_frame f = { 0 };
	struct shd_jrec *jr = NULL;
	struct shd_plan plan;
	const struct shd_schema *s;
	char err[1024], tmp[4096] = "";
	size_t nj = 0;
	int c, rc, json = 0, quiet = 0, torn, fd, out_fd = -1, breach = 0;
	int jr_, jo, js;
	json_t *pj;

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:s:o:qhV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's':
			if (x.nset == MAXSET)
				cli_die(EXIT_USAGE, "--set: at most %d", MAXSET);
			if (shd_whatif_parse(optarg, &x.set[x.nset], err,
					     sizeof(err)))
				cli_die(EXIT_USAGE, "--set: %s", err);
			x.nset++;
			break;
		case OPT_LIMIT: parse_limit(&x, optarg); break;
		case OPT_BOUND:
			if (!strcmp(optarg, "pred") || !strcmp(optarg, "hi"))
				x.bound_hi = !strcmp(optarg, "hi");
			else
				cli_die(EXIT_USAGE, "--bound: 'pred' or 'hi', "
					"not '%s'", optarg);
			break;
		case OPT_STATE: state = optarg; break;
		case OPT_SHADOW: shadow = optarg; break;
		case 'o': output = optarg; break;
		case OPT_JSON: json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	input = cli_one_input(argc, argv, optind, "forecast stream");
	if (!config || !x.nset)
		cli_die(EXIT_USAGE, "-c CONFIG and at least one --set are "
			"required (try --help)");
	if ((rc = shd_config_load(&x.conf, config, err, sizeof(err))))
		cli_die(cli_status(rc), "%s", err);
	if (shadow) {
		if ((rc = shd_config_load(&x.shadow, shadow, err, sizeof(err))))
			cli_die(cli_status(rc), "%s", err);
		if (!(x.shadow.shadow_fraction > 0))
			cli_die(EXIT_BADINPUT, "--shadow: %s is not a shadow's "
				"configuration (no \"shadow\" key)", shadow);
		if (x.conf.shadow_fraction > 0)
			cli_die(EXIT_USAGE, "--shadow: %s is a shadow's "
				"configuration itself; give production's with "
				"-c", config);
		if (strcmp(x.shadow.shadow_of, x.conf.sha256) != 0)
			cli_warn("%s was made from another version of %s "
				 "(shd-sync brings it up to date)", shadow,
				 config);
	}
	state = cli_state_dir(state);
	if ((rc = shd_journal_load(state, &jr, &nj, &torn, err, sizeof(err))))
		cli_die(cli_status(rc), "%s", err);

	fd = cli_open_in(input);
	if ((rc = shd_reader_open(&r, fd, input)) < 0)
		cli_die(cli_status(rc), "%s", r ? shd_reader_errmsg(r)
						: shd_strerror(rc));
	s = shd_reader_schema(r);
	if ((jr_ = shd_schema_find(s, "resource")) < 0 ||
	    (jo = shd_schema_find(s, "origin")) < 0 ||
	    (js = shd_schema_find(s, "step")) < 0)
		cli_die(EXIT_BADINPUT, "%s: not a forecast stream (no resource, "
			"origin or step column)", input);
	find_metrics(&x, s, input);
	x.step_s = cli_meta_num(s, "interval_ms", 0, 1e12, 300000, input) /
		   1000;
	affected(&x, jr, nj);

	if (output) {
		if ((out_fd = shd_atomic_open(output, tmp, sizeof(tmp))) < 0)
			cli_die(EXIT_SYSTEM, "%s:", output);
		if (shd_writer_open(&w, out_fd, s, NULL) < 0) {
			shd_atomic_abort(out_fd, tmp);	/* no temp file left */
			cli_die(EXIT_SYSTEM, "%s: cannot write", output);
		}
	}
	if (shd_frame_init(&f, s, shd_reader_dict(r)) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	while ((rc = shd_reader_next(r, &f)) == 0) {
		feed(&x, &f, jr_, jo, js, shd_reader_dict(r));
		if (w && shd_writer_write(w, &f) < 0) {
			shd_atomic_abort(out_fd, tmp);
			cli_die(EXIT_SYSTEM, "%s: %s", output,
				shd_writer_errmsg(w));
		}
	}
	if (rc != SHD_EOF) {
		if (w)
			shd_atomic_abort(out_fd, tmp);
		cli_die(cli_status(rc), "%s", shd_reader_errmsg(r));
	}
	if (w) {
		if (shd_writer_close(w) < 0 ||
		    shd_atomic_commit(out_fd, tmp, output) < 0) {
			shd_atomic_abort(out_fd, tmp);
			cli_die(EXIT_SYSTEM, "%s:", output);
		}
		shd_writer_free(w);
	}
	for (size_t i = 0; i < x.nrows; i++) {
		const struct span *sp = span_of(&x.rows[i]);

		if (x.rows[i].factor != 1 && sp->above[1])
			breach = 1;
	}
	pj = plan_after(&x, &plan);
	if (json) {
		json_t *rep = report_json(&x, pj, breach);
		char *text = rep ? json_dumps(rep, JSON_INDENT(2) |
					      JSON_REAL_PRECISION(17)) : NULL;

		if (!text)
			cli_die(EXIT_SYSTEM, "out of memory");
		puts(text);
		free(text);
		json_decref(rep);
	} else {
		if (!quiet)
			table(&x, &plan);
		json_decref(pj);
	}
	shd_plan_release(&plan);
	shd_frame_release(&f);
	shd_reader_free(r);
	shd_jrec_free(jr, nj);
	free(x.rows);
	shd_config_release(&x.conf);
	if (x.shadow.nres)
		shd_config_release(&x.shadow);
	if (cli_close_stdout())
		return EXIT_SYSTEM;
	return breach ? EXIT_FOUND : EXIT_OK;
}
