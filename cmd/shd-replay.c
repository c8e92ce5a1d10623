/*
 * shd-replay - what shd would have done on a fleet's history, next to a
 * static allocation, a reactive autoscaler and a percentile recommender
 * (lib/replay.c): breach minutes, slack, changes, alerts and their lead.
 * Reads a rolling forecast of the history; writes a table, JSON, and the
 * allocation stream for shd-plot.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "replay.h"
#include "shd.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-replay -c CONFIG [options] [FORECAST]\n"
"       shd-replay --derive-config FILE [options] [FORECAST]\n"
"Replay a rolling forecast of history (shd-predict's) under shd's\n"
"policy, a static allocation, a reactive autoscaler (HPA-like) and a\n"
"percentile recommender (VPA-like); report breach minutes, slack, changes,\n"
"alerts, alerts before a breach and their median lead, per resource and\n"
"in total. With no FORECAST, or '-', read standard input.\n"
"\n"
"  -c, --config FILE      the configuration (shd-config(5)): allocations,\n"
"                         bounds, targets, limits, cooldowns\n"
"      --derive-config FILE\n"
"                         write a starting configuration derived from the\n"
"                         stream (replicas sized to its observed peaks) and\n"
"                         replay with it\n"
"      --replicas N       the derived configuration's replicas now (4)\n"
"  -m, --metric NAME      the metric that sizes (default: the first that\n"
"                         drives the knob; derived: cpu, else the first)\n"
"      --limit L          the metric's limit (default: the\n"
"                         configuration's, else 90)\n"
"      --delay DURATION   from decision to effect: grace period and start-up\n"
"                         (default 150s)\n"
"      --stabilization DURATION\n"
"                         the reactive policy's scale-down window (5m)\n"
"      --vpa-every DURATION\n"
"                         the percentile policy's period (1h)\n"
"  -o, --output FILE      the allocation stream (time, resource, policy,\n"
"                         alloc, util) for shd-plot\n"
"      --json             the report as JSON on standard output\n"
"  -q, --quiet            no table\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 bad input, 4 system error.\n");
	exit(status);
}

enum { OPT_DERIVE = 256, OPT_REPLICAS, OPT_LIMIT, OPT_DELAY, OPT_STAB,
       OPT_VPA, OPT_JSON };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "derive-config", required_argument, NULL, OPT_DERIVE },
	{ "replicas", required_argument, NULL, OPT_REPLICAS },
	{ "metric", required_argument, NULL, 'm' },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "stabilization", required_argument, NULL, OPT_STAB },
	{ "vpa-every", required_argument, NULL, OPT_VPA },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* A resource's origins, as read. */
struct series {
	char name[256];
	struct shd_replay_point *p;
	size_t n, cap;
	double umax;
};

struct fleet {
	struct series *s;
	size_t n;
	char metric[64];
	int jpred, jhi, jconf, jcur;
	double step_s;
	size_t horizon;
};

static struct shd_replay_point *point(struct series *s, int64_t org)
{
	if (s->n && s->p[s->n - 1].time == org)
		return &s->p[s->n - 1];
	if (s->n && org < s->p[s->n - 1].time)
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct shd_replay_point *np = realloc(s->p, cap * sizeof(*np));

		if (!np)
			cli_die(EXIT_SYSTEM, "out of memory");
		s->p = np;
		s->cap = cap;
	}
	s->p[s->n] = (struct shd_replay_point){ org, NAN, NAN, NAN, NAN };
	return &s->p[s->n++];
}

static double fmax_nan(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

/* Reads the rolling forecast at PATH: per resource, one point an origin. */
static void read_fleet(struct fleet *fl, const char *path, const char *want)
{
	struct shd_reader *r = NULL;
	struct shd_frame f = { 0 };
	const struct shd_schema *s;
	struct shd_dict *d;
	int fd = cli_open_in(path), rc, jr, jo;
	char col[96];

	if ((rc = shd_reader_open(&r, fd, path)) < 0)
		cli_die(cli_status(rc), "%s", r ? shd_reader_errmsg(r)
						: shd_strerror(rc));
	s = shd_reader_schema(r);
	d = shd_reader_dict(r);
	if ((jr = shd_schema_find(s, "resource")) < 0 ||
	    (jo = shd_schema_find(s, "origin")) < 0)
		cli_die(EXIT_BADINPUT, "%s: not a forecast stream (no resource "
			"or origin column)", path);
	if (!want) {
		/* cpu when there is one, else the first metric */
		want = shd_schema_find(s, "cpu.pred") >= 0 ? "cpu" : NULL;
		for (size_t j = 0; !want && j < s->ncols; j++) {
			size_t l = strlen(s->cols[j].name);

			if (l > 5 && l - 5 < sizeof(fl->metric) &&
			    !strcmp(s->cols[j].name + l - 5, ".pred")) {
				snprintf(fl->metric, sizeof(fl->metric),
					 "%.*s", (int)(l - 5),
					 s->cols[j].name);
				want = fl->metric;
			}
		}
		if (!want)
			cli_die(EXIT_BADINPUT, "%s: not a forecast stream: no "
				"m.pred column", path);
	}
	if (want != fl->metric)
		snprintf(fl->metric, sizeof(fl->metric), "%s", want);
	snprintf(col, sizeof(col), "%s.pred", want);
	if ((fl->jpred = shd_schema_find(s, col)) < 0)
		cli_die(EXIT_BADINPUT, "%s: no metric '%s' (no column %s)",
			path, want, col);
	snprintf(col, sizeof(col), "%s.cur", want);
	if ((fl->jcur = shd_schema_find(s, col)) < 0)
		cli_die(EXIT_BADINPUT, "%s: no column %s", path, col);
	if (strcmp(s->cols[fl->jpred].unit, "%") != 0)
		cli_warn("%s: %s is in '%s', not '%%': read as a percent of "
			 "the allocation", path, want, s->cols[fl->jpred].unit);
	snprintf(col, sizeof(col), "%s.hi", want);
	fl->jhi = shd_schema_find(s, col);
	snprintf(col, sizeof(col), "%s.conf", want);
	fl->jconf = shd_schema_find(s, col);
	fl->horizon = (size_t)cli_meta_num(s, "horizon", 0, 1e6, 1, path);
	fl->step_s = cli_meta_num(s, "interval_ms", 0, 1e12, 300000, path) /
		     1000;
	if (shd_frame_init(&f, s, d) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	while ((rc = shd_reader_next(r, &f)) == 0) {
		for (size_t i = 0; i < f.nrows; i++) {
			const char *res = shd_dict_str(d, SHD_KEYCOL(&f, jr)[i],
						       NULL);
			struct series *se = fl->n ? &fl->s[fl->n - 1] : NULL;
			struct shd_replay_point *pt;
			double v;

			if (!se || strcmp(se->name, res)) {
				se = realloc(fl->s, (fl->n + 1) * sizeof(*se));
				if (!se)
					cli_die(EXIT_SYSTEM, "out of memory");
				fl->s = se;
				se = &fl->s[fl->n++];
				memset(se, 0, sizeof(*se));
				snprintf(se->name, sizeof(se->name), "%s", res);
				se->umax = NAN;
			}
			if (!(pt = point(se, SHD_I64COL(&f, jo)[i])))
				cli_die(EXIT_BADINPUT, "%s: %s: origins out of "
					"order (not a rolling forecast in "
					"canonical order)", path, res);
			v = SHD_F64COL(&f, fl->jcur)[i];
			if (!isnan(v)) {
				pt->u = v;
				se->umax = fmax_nan(se->umax, v);
			}
			pt->peak = fmax_nan(pt->peak,
					    SHD_F64COL(&f, fl->jpred)[i]);
			if (fl->jhi >= 0)
				pt->peak_hi = fmax_nan(pt->peak_hi,
					SHD_F64COL(&f, fl->jhi)[i]);
			if (fl->jconf >= 0 &&
			    !isnan(SHD_F64COL(&f, fl->jconf)[i]))
				pt->conf = isnan(pt->conf)
					? SHD_F64COL(&f, fl->jconf)[i]
					: fmin(pt->conf,
					       SHD_F64COL(&f, fl->jconf)[i]);
		}
	}
	if (rc != SHD_EOF)
		cli_die(cli_status(rc), "%s", shd_reader_errmsg(r));
	shd_frame_release(&f);
	shd_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
	if (!fl->n)
		cli_die(EXIT_BADINPUT, "%s: no rows", path);
}

/*
 * A starting configuration: each resource R0 replicas, the metric at the
 * default target (SHD_CONFIG_TARGET) with the limit, max replicas enough
 * for twice the observed peak at the target.
 */
static void derive(const struct fleet *fl, const char *path, double r0,
		   double limit)
{
	json_t *res = json_object(), *doc;
	char *text;

	for (size_t i = 0; i < fl->n; i++) {
		const struct series *s = &fl->s[i];
		double need = isnan(s->umax) ? r0
			      : ceil(r0 * s->umax / (SHD_CONFIG_TARGET * 100));
		json_t *o;

		if (!shd_name_ok(s->name))
			continue;
		o = json_pack("{s:{s:f, s:i, s:f}, s:{s:{s:f, s:f, s:[s]}}, "
			      "s:s, s:{s:s, s:[s]}}",
			      "replicas", "current", r0, "min", 1,
			      "max", fmin(fmax(2 * need, r0), 1e6),
			      "metrics", fl->metric, "target", SHD_CONFIG_TARGET,
			      "limit", limit, "drives", "replicas",
			      "cooldown", "15m",
			      "executor", "type", "command", "argv", "true");
		json_object_set_new(res, s->name, o);
	}
	doc = json_pack("{s:i, s:o}", "shd_config", 1, "resources", res);
	text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				    JSON_REAL_PRECISION(15))
		   : NULL;
	json_decref(doc);
	if (!text)
		cli_die(EXIT_SYSTEM, "out of memory");
	if (cli_write_text(path, text) < 0)
		cli_die(EXIT_SYSTEM, "%s:", path);
	free(text);
}

/* ------------------------------------------------------------ output */

struct out {
	struct shd_writer *w;
	struct shd_frame f;
	struct shd_dict *dict;
	uint32_t pol[SHD_NPOL], res;
};

static int emit(void *ctx, int64_t t, int policy, double alloc, double util)
{
	struct out *u = ctx;
	size_t i = u->f.nrows;
	int rc;

	if ((rc = shd_frame_reserve(&u->f, i + 1)) < 0)
		return rc;
	SHD_I64COL(&u->f, 0)[i] = t;
	SHD_KEYCOL(&u->f, 1)[i] = u->res;
	SHD_KEYCOL(&u->f, 2)[i] = u->pol[policy];
	SHD_F64COL(&u->f, 3)[i] = alloc;
	SHD_F64COL(&u->f, 4)[i] = util;
	if (++u->f.nrows >= 8192) {
		rc = shd_writer_write(u->w, &u->f);
		u->f.nrows = 0;
	}
	return rc;
}

static void fmt(char *b, size_t n, double v, const char *f)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else
		snprintf(b, n, f, v);
}

static void row(const char *res, int k, const struct shd_replay_result *r)
{
	char sl[16], ld[16];

	fmt(sl, sizeof(sl), r->slack * 100, "%.1f%%");
	fmt(ld, sizeof(ld), r->lead_median_min, "%.0f");
	printf("%-20s %-10s %10.0f %7s %7zu %7zu %7zu %8s %9.2f\n", res,
	       shd_policy_name[k], r->breach_min, sl, r->changes, r->alerts,
	       r->alerts_before, ld, r->alloc_mean);
}

static json_t *res_json(const struct shd_replay_result *r)
{
	return json_pack("{s:f, s:o, s:I, s:I, s:I, s:o, s:f, s:I}",
			 "breach_minutes", r->breach_min,
			 "slack", isnan(r->slack) ? json_null()
						  : json_real(r->slack),
			 "changes", (json_int_t)r->changes,
			 "alerts", (json_int_t)r->alerts,
			 "alerts_before_breach", (json_int_t)r->alerts_before,
			 "median_lead_minutes", isnan(r->lead_median_min)
			 ? json_null() : json_real(r->lead_median_min),
			 "mean_allocation", r->alloc_mean,
			 "steps", (json_int_t)r->steps);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct fleet fl = { 0 };
	struct shd_config conf;
	struct shd_replay_opts ro = { 0 };
	struct shd_replay_result tot[SHD_NPOL];
	const char *config = NULL, *derived = NULL, *metric = NULL,
		   *output = NULL, *input = "-";
	int64_t delay = 150000, stab = 300000, vpa = 3600000;
	double r0 = 4, limit = NAN, *leads[SHD_NPOL] = { 0 };
	size_t nleads[SHD_NPOL] = { 0 }, nres = 0, slack_n[SHD_NPOL] = { 0 };
	struct out u = { 0 };
	char err[1024], tmp[4096] = "";
	int c, rc, json = 0, quiet = 0, out_fd = -1;
	json_t *per = json_array();

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:m:o:qhV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case OPT_DERIVE: derived = optarg; break;
		case OPT_REPLICAS:
			r0 = (double)cli_size_arg("--replicas", optarg, 1,
						  100000);
			break;
		case 'm': metric = optarg; break;
		case OPT_LIMIT:
			limit = cli_real_arg("--limit", optarg, 0, 0,
					     INFINITY);
			break;
		case OPT_DELAY: delay = cli_duration_arg("--delay", optarg);
			break;
		case OPT_STAB:
			stab = cli_duration_arg("--stabilization", optarg);
			break;
		case OPT_VPA: vpa = cli_duration_arg("--vpa-every", optarg);
			break;
		case 'o': output = optarg; break;
		case OPT_JSON: json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	input = cli_one_input(argc, argv, optind, "forecast stream");
	if (!config == !derived)
		cli_die(EXIT_USAGE, "give -c CONFIG or --derive-config FILE "
			"(try --help)");

	read_fleet(&fl, input, metric);
	if (derived) {
		derive(&fl, derived, r0, isnan(limit) ? 90 : limit);
		config = derived;
	}
	if ((rc = shd_config_load(&conf, config, err, sizeof(err))))
		cli_die(cli_status(rc), "%s", err);
	ro.step_s = fl.step_s;
	ro.horizon = fl.horizon;
	ro.delay = (size_t)ceil((double)delay / 1000 / fl.step_s);
	ro.stabilize = (size_t)fmax(1, ceil((double)stab / 1000 /
					    fl.step_s));
	ro.vpa_every = (size_t)fmax(1, ceil((double)vpa / 1000 / fl.step_s));

	if (output) {
		struct shd_schema s;

		shd_schema_init(&s);
		if ((out_fd = shd_atomic_open(output, tmp, sizeof(tmp))) < 0)
			cli_die(EXIT_SYSTEM, "%s:", output);
		if (!(u.dict = shd_dict_new()) ||
		    shd_schema_add(&s, "time", SHD_TIME, "ms", "time") ||
		    shd_schema_add(&s, "resource", SHD_KEY, "", "key") ||
		    shd_schema_add(&s, "policy", SHD_KEY, "", "key") ||
		    shd_schema_add(&s, "alloc", SHD_F64, "", "alloc") ||
		    shd_schema_add(&s, "util", SHD_F64, "%", "metric") ||
		    shd_schema_set_meta(&s, "producer",
					"shd-replay " SHD_VERSION) ||
		    shd_schema_set_meta(&s, "metric", fl.metric) ||
		    shd_frame_init(&u.f, &s, u.dict) < 0 ||
		    shd_writer_open(&u.w, out_fd, &s, NULL) < 0) {
			shd_atomic_abort(out_fd, tmp);	/* no temp file left */
			cli_die(EXIT_SYSTEM, "%s: cannot write", output);
		}
		for (int k = 0; k < SHD_NPOL; k++)
			shd_dict_intern(u.dict, shd_policy_name[k],
					strlen(shd_policy_name[k]), &u.pol[k]);
		shd_schema_release(&s);
	}

	memset(tot, 0, sizeof(tot));
	if (!json && !quiet)
		printf("%-20s %-10s %10s %7s %7s %7s %7s %8s %9s\n",
		       "RESOURCE", "POLICY", "BREACH-MIN", "SLACK", "CHANGES",
		       "ALERTS", "BEFORE", "LEAD-MIN", "ALLOC");
	for (size_t i = 0; i < fl.n; i++) {
		struct shd_resource_conf *r = (struct shd_resource_conf *)
			shd_config_find(&conf, fl.s[i].name);
		const struct shd_metric_conf *m;
		struct shd_replay_result res[SHD_NPOL];
		int knob = -1;
		json_t *pr;

		if (!r || !(m = shd_resource_metric(r, fl.metric)))
			continue;
		for (int k = 0; k < SHD_NKNOB && knob < 0; k++)
			if (r->knob[k].set && (m->drives & (1u << k)))
				knob = k;
		if (knob < 0)
			continue;
		if (output) {
			shd_dict_intern(u.dict, r->name, strlen(r->name),
					&u.res);
		}
		rc = shd_replay_run(r, knob, m, isnan(limit) ? (isnan(m->limit)
				    ? 90 : m->limit) : limit, fl.s[i].p,
				    fl.s[i].n, &ro, res, output ? emit : NULL,
				    &u);
		if (rc == SHD_EINVAL)
			continue;
		if (rc && output)
			shd_atomic_abort(out_fd, tmp);	/* a write error */
		if (rc)
			cli_die(EXIT_SYSTEM, "%s: %s", r->name,
				shd_strerror(rc));
		nres++;
		pr = json_pack("{s:s, s:s, s:{}}", "resource", r->name,
			       "knob", shd_knob_name[knob], "policies");
		for (int k = 0; k < SHD_NPOL; k++) {
			if (!json && !quiet)
				row(k ? "" : r->name, k, &res[k]);
			json_object_set_new(json_object_get(pr, "policies"),
					    shd_policy_name[k],
					    res_json(&res[k]));
			tot[k].breach_min += res[k].breach_min;
			if (!isnan(res[k].slack)) {
				tot[k].slack += res[k].slack *
						(double)res[k].steps;
				slack_n[k] += res[k].steps;
			}
			tot[k].changes += res[k].changes;
			tot[k].alerts += res[k].alerts;
			tot[k].alerts_before += res[k].alerts_before;
			tot[k].steps += res[k].steps;
			tot[k].alloc_mean += res[k].alloc_mean;
			if (!isnan(res[k].lead_median_min)) {
				double *nl = realloc(leads[k], (nleads[k] + 1) *
						     sizeof(double));

				if (!nl)
					cli_die(EXIT_SYSTEM, "out of memory");
				leads[k] = nl;
				leads[k][nleads[k]++] = res[k].lead_median_min;
			}
		}
		json_array_append_new(per, pr);
	}
	if (!nres)
		cli_die(EXIT_BADINPUT, "%s: no resource of %s has metric '%s' "
			"driving a knob", input, config, fl.metric);
	for (int k = 0; k < SHD_NPOL; k++) {
		tot[k].slack = slack_n[k] ? tot[k].slack / (double)slack_n[k]
					  : NAN;
		tot[k].lead_median_min = NAN;
		if (nleads[k]) {
			qsort(leads[k], nleads[k], sizeof(double), cmp_double);
			tot[k].lead_median_min = leads[k][nleads[k] / 2];
		}
		free(leads[k]);
	}
	if (json) {
		json_t *t = json_object(), *doc;
		char *text;

		for (int k = 0; k < SHD_NPOL; k++)
			json_object_set_new(t, shd_policy_name[k],
					    res_json(&tot[k]));
		doc = json_pack("{s:s, s:I, s:o, s:o}", "metric", fl.metric,
				"resources", (json_int_t)nres, "total", t,
				"per_resource", per);
		per = NULL;
		if (!doc || !(text = json_dumps(doc, JSON_INDENT(2) |
						JSON_PRESERVE_ORDER |
						JSON_REAL_PRECISION(10))))
			cli_die(EXIT_SYSTEM, "out of memory");
		puts(text);
		free(text);
		json_decref(doc);
	} else if (!quiet) {
		for (int k = 0; k < SHD_NPOL; k++)
			row(k ? "" : "TOTAL", k, &tot[k]);
	}
	json_decref(per);
	if (output) {
		if ((u.f.nrows && shd_writer_write(u.w, &u.f) < 0) ||
		    shd_writer_close(u.w) < 0 ||
		    shd_atomic_commit(out_fd, tmp, output) < 0) {
			shd_atomic_abort(out_fd, tmp);
			cli_die(EXIT_SYSTEM, "%s:", output);
		}
		shd_writer_free(u.w);
		shd_frame_release(&u.f);
		shd_dict_free(u.dict);
	}
	for (size_t i = 0; i < fl.n; i++)
		free(fl.s[i].p);
	free(fl.s);
	shd_config_release(&conf);
	if (cli_close_stdout())
		return EXIT_SYSTEM;
	return EXIT_OK;
}
