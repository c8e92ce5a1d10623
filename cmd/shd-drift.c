/*
 * shd-drift - read a forecast stream (shd-predict) and write the alert
 * stream: drift scored looking ahead (the seed's score) and looking back
 * (surprise), severity from predicted breaches of limits, spurious alerts
 * filtered by a learned filter; or learn that filter; or score alerts
 * against labelled anomaly windows (NAB) and breaches of limits. The
 * scoring is lib/drift.c's, the filter lib/filter.c's, the evaluation
 * lib/alerteval.c's; this reads the options and files and writes alerts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerteval.h"
#include "cli.h"
#include "config.h"
#include "drift.h"
#include "events.h"
#include "filter.h"
#include "nab.h"
#include "shd.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-drift [options] [FILE]\n"
"Score drift in a forecast stream (shd-predict) and write the alert stream.\n"
"With no FILE, or '-', read standard input.\n"
"\n"
"Scoring (VALUE alone sets every metric, METRIC=VALUE one; repeat or\n"
"separate with commas):\n"
"      --w-diff W         weight of |pred - cur| (default 1)\n"
"      --w-conf W         weight of 1 - confidence (default 1)\n"
"      --threshold T      alert when the score reaches T (default 4)\n"
"      --surprise S       alert when the error of the forecast made for now\n"
"                         is as bad as only 10^-S of the series' past\n"
"                         errors (default 2.7)\n"
"      --short N          origins whose errors are averaged (default 2)\n"
"      --memory N         origins that say what is usual (default 2016)\n"
"      --warmup N         origins before surprise counts (default 288)\n"
"      --range-tol F      alert when the value leaves the series' range\n"
"                         so far by F of that range (default 0.05; 0: off)\n"
"      --capacity M=C     measure |pred - cur| in tenths of capacity C\n"
"      --limit M=L        critical when the forecast reaches L in the\n"
"                         horizon; breach_in says when\n"
"      --limits FILE      limits per series: lines 'RESOURCE,METRIC,LIMIT'\n"
"  -c, --config FILE      limits per series from the fleet configuration\n"
"                         (shd-config(5): a metric's \"limit\"); --limits\n"
"                         overrides them, --limit covers the other series\n"
"      --bound pred|hi    what must reach the limit (default pred)\n"
"      --hold N           after an alert, hold repeats of the same series\n"
"                         for N steps (default: the horizon; 0: never)\n"
"Filtering:\n"
"      --learn FILTER     learn the anomaly filter from a replay of history\n"
"                         (rolling forecasts of shd-predict), write FILTER\n"
"      --filter FILTER    suppress the alerts FILTER finds transient\n"
"      --p-min P          suppress below P(sustained) = P (default: the\n"
"                         filter's: with --learn, learned from --eval's\n"
"                         windows, or 0.5)\n"
"      --events FILE      known events: lines 'TIME[,RESOURCE]' (deploys,\n"
"                         configuration changes)\n"
"      --event-window D   events count for alerts up to D after (default 1h)\n"
"      --persist N        steps a drift must last to be sustained (default 6)\n"
"      --show FILTER      print what a filter file holds and exit\n"
"Output:\n"
"      --json             JSON lines instead of the alert stream\n"
"      --all              every scored origin, info included\n"
"      --kept-only        leave out the alerts the filter suppressed\n"
"      --latest           only each resource's latest origin\n"
"Evaluation (a report on standard output instead of alerts):\n"
"      --eval LABELS      score kept alerts against NAB anomaly windows\n"
"                         (combined_windows.json) and, with --limit,\n"
"                         against breaches of the limit; with --learn,\n"
"                         the windows of LABELS choose p_min\n"
"  -o, --output FILE      write FILE (atomically) instead of standard output\n"
"  -f, --force            write the binary stream even to a terminal\n"
"  -q, --quiet            no summary on stderr\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Exit status: 0 no alert kept, 1 alerts kept, 2 usage, 3 bad input\n"
"(file named), 4 system error. See shd-drift(1).\n");
	exit(status);
}

enum { OPT_W_DIFF = 256, OPT_W_CONF, OPT_THRESHOLD, OPT_SURPRISE,
       OPT_CAPACITY, OPT_LIMIT, OPT_BOUND, OPT_HOLD, OPT_LEARN, OPT_FILTER,
       OPT_P_MIN, OPT_EVENTS, OPT_EVENT_WINDOW, OPT_PERSIST, OPT_SHOW,
       OPT_JSON, OPT_ALL, OPT_KEPT_ONLY, OPT_LATEST, OPT_EVAL, OPT_SHORT,
       OPT_MEMORY, OPT_WARMUP, OPT_LIMITS, OPT_RANGE_TOL };

static const struct option longopts[] = {
	{ "w-diff", required_argument, NULL, OPT_W_DIFF },
	{ "w-conf", required_argument, NULL, OPT_W_CONF },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "surprise", required_argument, NULL, OPT_SURPRISE },
	{ "capacity", required_argument, NULL, OPT_CAPACITY },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "limits", required_argument, NULL, OPT_LIMITS },
	{ "config", required_argument, NULL, 'c' },
	{ "bound", required_argument, NULL, OPT_BOUND },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "short", required_argument, NULL, OPT_SHORT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "range-tol", required_argument, NULL, OPT_RANGE_TOL },
	{ "learn", required_argument, NULL, OPT_LEARN },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "p-min", required_argument, NULL, OPT_P_MIN },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "event-window", required_argument, NULL, OPT_EVENT_WINDOW },
	{ "persist", required_argument, NULL, OPT_PERSIST },
	{ "show", required_argument, NULL, OPT_SHOW },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "kept-only", no_argument, NULL, OPT_KEPT_ONLY },
	{ "latest", no_argument, NULL, OPT_LATEST },
	{ "eval", required_argument, NULL, OPT_EVAL },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Per-metric settings as given: a default and NAME=VALUE overrides. */
#define MAX_SET 64
struct settings {
	struct shd_drift_metric def;
	size_t n;
	const char *name[MAX_SET];
	struct shd_drift_metric met[MAX_SET];
};

struct opts {
	const char *input, *output, *learn, *filter, *events, *eval, *limits;
	const char *config;
	struct settings set;
	struct shd_drift_opts dopt;
	double p_min;
	int64_t event_window;
	int json, all, kept_only, latest, force, quiet;
};

/* The settings of metric NAME, made from the default when new. */
static struct shd_drift_metric *metric_set(struct settings *s,
					   const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return &s->met[i];
	if (s->n == MAX_SET)
		cli_die(EXIT_USAGE, "more than %d metrics named in options",
			MAX_SET);
	s->name[s->n] = name;
	s->met[s->n] = s->def;
	return &s->met[s->n++];
}

/*
 * "V" or "M=V[,M=V...]": sets field OFF of the default or of the metrics
 * named. NEED_NAME: a bare value is refused (capacities, limits).
 * Bare values apply to metrics named before as well.
 */
static void per_metric(struct settings *s, const char *opt, char *arg,
		       size_t off, double lo, int lo_ok, int need_name)
{
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '=');
		double v;

		if (!eq) {
			if (need_name)
				cli_die(EXIT_USAGE, "%s: '%s': say which metric "
					"(METRIC=VALUE)", opt, tok);
			v = cli_real_arg(opt, tok, lo, lo_ok, INFINITY);
			memcpy((char *)&s->def + off, &v, sizeof(v));
			for (size_t i = 0; i < s->n; i++)
				memcpy((char *)&s->met[i] + off, &v, sizeof(v));
			continue;
		}
		*eq = '\0';
		if (!*tok)
			cli_die(EXIT_USAGE, "%s: empty metric name", opt);
		v = cli_real_arg(opt, eq + 1, lo, lo_ok, INFINITY);
		memcpy((char *)metric_set(s, tok) + off, &v, sizeof(v));
	}
}

/* ------------------------------------------------------------ output */

struct out {
	const struct opts *o;
	struct shd_drift *d;
	struct shd_filter *filter;	/* --filter */
	struct shd_filter *learn;	/* --learn */
	struct shd_writer *w;
	struct shd_frame f;
	struct shd_dict *odict;		/* keys of the alert stream */
	struct shd_dict *idict;		/* keys of the input */
	uint64_t kept, suppressed, candidates;
	/* --latest: the alerts of the newest origin of the resource */
	struct shd_alert *buf;
	size_t nbuf;
	struct shd_alert_eval ev;	/* --eval, --learn's p_min */
	size_t horizon;			/* steps, from the input's header */
	char err[512];
};

enum { A_TIME, A_RES, A_METRIC, A_SCORE, A_SEV, A_PRED, A_CUR, A_CONF,
       A_BREACH, A_STEP, A_AHEAD, A_SURPRISE, A_KEPT, A_REASON, A_PEAK,
       A_PEAK_HI, A_NCOL };

static int alert_schema(struct shd_schema *s, const struct shd_schema *in,
			const char *input)
{
	int rc = 0;
	const char *iv = shd_schema_meta(in, "interval_ms");

	rc |= shd_schema_add(s, "time", SHD_TIME, "ms", "time");
	rc |= shd_schema_add(s, "resource", SHD_KEY, "", "key");
	rc |= shd_schema_add(s, "metric", SHD_KEY, "", "key");
	rc |= shd_schema_add(s, "score", SHD_F64, "", "score");
	rc |= shd_schema_add(s, "severity", SHD_KEY, "", "severity");
	rc |= shd_schema_add(s, "pred", SHD_F64, "", "forecast");
	rc |= shd_schema_add(s, "cur", SHD_F64, "", "cur");
	rc |= shd_schema_add(s, "conf", SHD_F64, "", "conf");
	rc |= shd_schema_add(s, "breach_in", SHD_F64, "s", "breach_in");
	rc |= shd_schema_add(s, "step", SHD_I64, "", "step");
	rc |= shd_schema_add(s, "ahead", SHD_F64, "", "score");
	rc |= shd_schema_add(s, "surprise", SHD_F64, "", "score");
	rc |= shd_schema_add(s, "kept", SHD_U8, "", "kept");
	rc |= shd_schema_add(s, "reason", SHD_KEY, "", "reason");
	rc |= shd_schema_add(s, "peak", SHD_F64, "", "forecast");
	rc |= shd_schema_add(s, "peak_hi", SHD_F64, "", "hi");
	rc |= shd_schema_set_meta(s, "producer", "shd-drift " SHD_VERSION);
	rc |= shd_schema_set_meta(s, "source", input);
	if (iv)
		rc |= shd_schema_set_meta(s, "interval_ms", iv);
	if ((iv = shd_schema_meta(in, "horizon")))
		rc |= shd_schema_set_meta(s, "horizon", iv);
	/* the metrics' units, for shd-plan: "unit.cpu" = "%" */
	for (size_t j = 0; j < in->ncols; j++) {
		const char *nm = in->cols[j].name;
		size_t l = strlen(nm);
		char key[300];

		if (l > 5 && l < 250 && strcmp(nm + l - 5, ".pred") == 0 &&
		    in->cols[j].unit[0]) {
			snprintf(key, sizeof(key), "unit.%.*s", (int)(l - 5),
				 nm);
			rc |= shd_schema_set_meta(s, key, in->cols[j].unit);
		}
	}
	return rc;
}

static int intern(struct out *u, const char *s, uint32_t *id)
{
	return shd_dict_intern(u->odict, s, strlen(s), id);
}

static int write_json(struct out *u, const struct shd_alert *a)
{
	char t[40];
	json_t *j;
	char *text;
	int rc;

	shd_time_format(a->time, t, sizeof(t));
#define NUM(v) (isfinite(v) ? json_real(v) : json_null())
	j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:I, "
		      "s:o, s:o, s:b, s:s, s:o, s:o}",
		      "time", t,
		      "resource", shd_dict_str(u->idict, a->res, NULL),
		      "metric", shd_drift_metric_name(u->d, a->metric),
		      "score", NUM(a->score),
		      "severity", shd_severity_name(a->severity),
		      "pred", NUM(a->pred), "cur", NUM(a->cur),
		      "conf", NUM(a->conf), "breach_in", NUM(a->breach_in),
		      "step", (json_int_t)a->step,
		      "ahead", NUM(a->ahead), "surprise", NUM(a->surprise),
		      "kept", a->kept, "reason", a->reason,
		      "peak", NUM(a->peak), "peak_hi", NUM(a->peak_hi));
#undef NUM
	if (!j)
		return SHD_ENOMEM;
	text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(j);
	if (!text)
		return SHD_ENOMEM;
	rc = printf("%s\n", text) < 0 ? SHD_EIO : 0;
	free(text);
	return rc;
}

static int write_row(struct out *u, const struct shd_alert *a)
{
	struct shd_frame *f = &u->f;
	size_t i = f->nrows;
	int rc;

	if (u->o->json)
		return write_json(u, a);
	if ((rc = shd_frame_reserve(f, i + 1)) < 0)
		return rc;
	SHD_I64COL(f, A_TIME)[i] = a->time;
	if (intern(u, shd_dict_str(u->idict, a->res, NULL),
		   &SHD_KEYCOL(f, A_RES)[i]) < 0 ||
	    intern(u, shd_drift_metric_name(u->d, a->metric),
		   &SHD_KEYCOL(f, A_METRIC)[i]) < 0 ||
	    intern(u, shd_severity_name(a->severity),
		   &SHD_KEYCOL(f, A_SEV)[i]) < 0 ||
	    intern(u, a->reason, &SHD_KEYCOL(f, A_REASON)[i]) < 0)
		return SHD_ENOMEM;
	SHD_F64COL(f, A_SCORE)[i] = a->score;
	SHD_F64COL(f, A_PRED)[i] = a->pred;
	SHD_F64COL(f, A_CUR)[i] = a->cur;
	SHD_F64COL(f, A_CONF)[i] = a->conf;
	SHD_F64COL(f, A_BREACH)[i] = a->breach_in;
	SHD_I64COL(f, A_STEP)[i] = (int64_t)a->step;
	SHD_F64COL(f, A_AHEAD)[i] = a->ahead;
	SHD_F64COL(f, A_SURPRISE)[i] = a->surprise;
	SHD_U8COL(f, A_KEPT)[i] = (uint8_t)a->kept;
	SHD_F64COL(f, A_PEAK)[i] = a->peak;
	SHD_F64COL(f, A_PEAK_HI)[i] = a->peak_hi;
	f->nrows++;
	if (f->nrows >= 4096) {
		rc = shd_writer_write(u->w, f);
		f->nrows = 0;
		return rc;
	}
	return 0;
}

/* An alert to show: counted, then written unless left out. */
static int emit(struct out *u, const struct shd_alert *a)
{
	if (a->candidate) {
		if (a->kept)
			u->kept++;
		else
			u->suppressed++;
	}
	if (u->o->kept_only && a->candidate && !a->kept)
		return 0;
	if (u->o->eval || u->o->learn)
		return 0;
	return write_row(u, a);
}

static int flush_latest(struct out *u)
{
	int rc = 0;

	for (size_t i = 0; i < u->nbuf && !rc; i++)
		if (u->buf[i].candidate || u->o->all)
			rc = emit(u, &u->buf[i]);
	u->nbuf = 0;
	return rc;
}

static int on_alert(void *ctx, const struct shd_alert *a)
{
	struct out *u = ctx;
	int rc;

	u->candidates += a->candidate;
	if (u->learn && a->candidate && a->label >= 0 &&
	    (rc = shd_filter_add(u->learn, a)))
		return rc;
	if (u->o->eval && (rc = shd_alert_eval_add(&u->ev, a)))
		return rc;
	if (u->o->latest) {
		/* every origin is seen here; the newest one stays */
		if (u->nbuf && u->buf[0].res != a->res &&
		    (rc = flush_latest(u)))
			return rc;
		if (u->nbuf && u->buf[0].time != a->time)
			u->nbuf = 0;
		u->buf[u->nbuf++] = *a;
		return 0;
	}
	if (!a->candidate && !u->o->all)
		return 0;
	return emit(u, a);
}

static void judge(void *ctx, struct shd_alert *a, const char *resource)
{
	struct out *u = ctx;
	double p;

	(void)resource;
	p = shd_filter_prob(u->filter, a);
	if (p < u->filter->p_min) {
		a->kept = 0;
		a->reason = a->feat[SHD_F_EVENT] > 0 ? "event" :
			    a->feat[SHD_F_DAY] >= 0.5 ||
			    a->feat[SHD_F_WEEK] >= 0.5 ? "recurring" :
			    "transient";
	}
}

/* ------------------------------------------------- events and limits */

/*
 * Calls FN for each line of the small text file PATH (WHAT names it in
 * messages) without its end of line, leaving out blank lines and '#'
 * comments; dies naming the file (and line) when it cannot be read.
 */
static void each_line(const char *path, const char *what,
		      void (*fn)(void *ctx, char *line, size_t lineno),
		      void *ctx)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	size_t lineno = 0;

	if (!fp)
		cli_die(EXIT_SYSTEM, "cannot open %s file '%s':", what, path);
	while (fgets(line, sizeof(line), fp)) {
		char *end = line + strcspn(line, "\r\n");

		lineno++;
		if (!*end && !feof(fp))
			cli_die(EXIT_BADINPUT, "%s:%zu: line too long", path,
				lineno);
		*end = '\0';
		if (line[strspn(line, " \t")] && line[0] != '#')
			fn(ctx, line, lineno);
	}
	if (ferror(fp))
		cli_die(EXIT_SYSTEM, "cannot read %s file '%s':", what, path);
	fclose(fp);
}

struct lines {
	struct shd_drift *d;
	const char *path;
	size_t n;		/* lines taken */
	size_t unknown;		/* limits of metrics the stream lacks */
};

/* A limit line: 'RESOURCE,METRIC,LIMIT' (a header line allowed). */
static void limit_line(void *ctx, char *line, size_t lineno)
{
	struct lines *l = ctx;
	char *f[3], *save = NULL;
	size_t k = 0, m = 0;
	double v;

	for (char *t = strtok_r(line, ",", &save); t && k < 3;
	     t = strtok_r(NULL, ",", &save))
		f[k++] = t;
	if (k != 3)
		cli_die(EXIT_BADINPUT, "%s:%zu: expected RESOURCE,METRIC,LIMIT",
			l->path, lineno);
	if (shd_parse_double(f[2], strlen(f[2]), &v) < 0 || isnan(v)) {
		if (lineno == 1)
			return;		/* a header line */
		cli_die(EXIT_BADINPUT, "%s:%zu: '%s' is not a number", l->path,
			lineno, f[2]);
	}
	while (m < shd_drift_nmetric(l->d) &&
	       strcmp(shd_drift_metric_name(l->d, m), f[1]))
		m++;
	if (m == shd_drift_nmetric(l->d)) {
		l->unknown++;
		return;
	}
	if (shd_drift_series_limit(l->d, f[0], m, v) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	l->n++;
}

/* The known events of PATH (lib/events.c reads them) into D. */
static void read_events(struct shd_drift *d, const char *path)
{
	struct shd_events ev;
	char err[512];
	int rc;

	shd_events_init(&ev);
	rc = shd_events_load(&ev, path, err, sizeof(err));
	if (rc == SHD_EIO)
		cli_die(EXIT_SYSTEM, "cannot open events file '%s':", path);
	if (rc)
		cli_die(cli_status(rc), "%s", err);
	for (size_t i = 0; i < ev.n; i++)
		if (shd_drift_event(d, ev.ev[i].t, ev.ev[i].resource) < 0)
			cli_die(EXIT_SYSTEM, "out of memory");
	shd_events_release(&ev);
}

static void read_limits(struct shd_drift *d, const char *path)
{
	struct lines l = { .d = d, .path = path };

	each_line(path, "limits", limit_line, &l);
	if (l.unknown)
		cli_warn("warning: %s: %zu lines name a metric the stream "
			 "lacks", path, l.unknown);
}

/* The limits the configuration gives its resources' metrics. */
static void config_limits(struct shd_drift *d, const char *path)
{
	struct shd_config c;
	char err[1024];
	int rc = shd_config_load(&c, path, err, sizeof(err));

	if (rc)
		cli_die(cli_status(rc), "%s", err);
	for (size_t i = 0; i < c.nres; i++) {
		const struct shd_resource_conf *r = &c.res[i];

		for (size_t k = 0; k < r->nmetric; k++) {
			size_t m = 0;

			if (isnan(r->metric[k].limit))
				continue;
			while (m < shd_drift_nmetric(d) &&
			       strcmp(shd_drift_metric_name(d, m),
				      r->metric[k].name))
				m++;
			if (m < shd_drift_nmetric(d) &&
			    shd_drift_series_limit(d, r->name, m,
						   r->metric[k].limit) < 0)
				cli_die(EXIT_SYSTEM, "out of memory");
		}
	}
	shd_config_release(&c);
}

/* ------------------------------------------------------------ main */

static int show_filter(const char *path)
{
	struct shd_filter f;
	char err[512] = "";
	char *text;
	int rc = shd_filter_load(&f, path, err, sizeof(err));

	if (rc) {
		cli_warn("%s", err[0] ? err : shd_strerror(rc));
		return cli_status(rc);
	}
	text = shd_filter_summary(&f);
	if (!text)
		cli_die(EXIT_SYSTEM, "out of memory");
	printf("%s\n", text);
	printf("series remembered: %zu\n", f.nseries);
	free(text);
	shd_filter_release(&f);
	return cli_close_stdout();
}

int main(int argc, char **argv)
{
	struct opts o = {
		.input = "-",
		.set.def = {
			.capacity = NAN, .limit = NAN,
			.w_diff = SHD_DRIFT_W_DIFF, .w_conf = SHD_DRIFT_W_CONF,
			.threshold = SHD_DRIFT_THRESHOLD,
			.surprise = SHD_DRIFT_SURPRISE,
		},
		.dopt = { .hold = SIZE_MAX, .persist = 6, .short_w = 2, .memory = 2016,
			  .warmup = 288, .range_tol = SHD_DRIFT_RANGE_TOL },
		.p_min = NAN,
		.event_window = 3600000,
	};
	struct out u = { .o = &o };
	struct shd_filter filter, learn;
	struct shd_nab_labels labels;
	struct shd_reader *r = NULL;
	struct shd_frame in = { 0 };
	struct shd_schema schema;
	char err[512] = "", tmp[4096];
	int c, rc, status = EXIT_OK, in_fd = STDIN_FILENO,
		   out_fd = STDOUT_FILENO, have_filter = 0, have_learn = 0,
		   have_labels = 0;

	cli_init(argv[0]);
	shd_schema_init(&schema);
	while ((c = getopt_long(argc, argv, "c:o:fqhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_W_DIFF:
			per_metric(&o.set, "--w-diff", optarg,
				   offsetof(struct shd_drift_metric, w_diff),
				   0, 1, 0);
			break;
		case OPT_W_CONF:
			per_metric(&o.set, "--w-conf", optarg,
				   offsetof(struct shd_drift_metric, w_conf),
				   0, 1, 0);
			break;
		case OPT_THRESHOLD:
			per_metric(&o.set, "--threshold", optarg,
				   offsetof(struct shd_drift_metric,
					    threshold), 0, 0, 0);
			break;
		case OPT_SURPRISE:
			per_metric(&o.set, "--surprise", optarg,
				   offsetof(struct shd_drift_metric, surprise),
				   0, 0, 0);
			break;
		case OPT_CAPACITY:
			per_metric(&o.set, "--capacity", optarg,
				   offsetof(struct shd_drift_metric, capacity),
				   0, 0, 1);
			break;
		case OPT_LIMIT:
			per_metric(&o.set, "--limit", optarg,
				   offsetof(struct shd_drift_metric, limit),
				   -INFINITY, 0, 1);
			break;
		case OPT_LIMITS: o.limits = optarg; break;
		case 'c': o.config = optarg; break;
		case OPT_BOUND:
			if (!strcmp(optarg, "pred"))
				o.dopt.bound_hi = 0;
			else if (!strcmp(optarg, "hi"))
				o.dopt.bound_hi = 1;
			else
				cli_die(EXIT_USAGE, "--bound: 'pred' or 'hi', "
					"not '%s'", optarg);
			break;
		case OPT_HOLD:
			o.dopt.hold = cli_size_arg("--hold", optarg, 0, 1000000);
			break;
		case OPT_PERSIST:
			o.dopt.persist = cli_size_arg("--persist", optarg, 1,
						      64);
			break;
		case OPT_SHORT:
			o.dopt.short_w = cli_size_arg("--short", optarg, 1,
						      SHD_DRIFT_SHORT_MAX);
			break;
		case OPT_MEMORY:
			o.dopt.memory = cli_size_arg("--memory", optarg, 2,
						     100000000);
			break;
		case OPT_WARMUP:
			o.dopt.warmup = cli_size_arg("--warmup", optarg, 0,
						     100000000);
			break;
		case OPT_RANGE_TOL:
			o.dopt.range_tol = cli_real_arg("--range-tol", optarg,
							0, 1, INFINITY);
			break;
		case OPT_LEARN: o.learn = optarg; break;
		case OPT_FILTER: o.filter = optarg; break;
		case OPT_P_MIN:
			o.p_min = cli_real_arg("--p-min", optarg, 0, 1, 1);
			break;
		case OPT_EVENTS: o.events = optarg; break;
		case OPT_EVENT_WINDOW:
			o.event_window = cli_duration_arg("--event-window",
							  optarg);
			break;
		case OPT_SHOW: return show_filter(optarg);
		case OPT_JSON: o.json = 1; break;
		case OPT_ALL: o.all = 1; break;
		case OPT_KEPT_ONLY: o.kept_only = 1; break;
		case OPT_LATEST: o.latest = 1; break;
		case OPT_EVAL: o.eval = optarg; break;
		case 'o': o.output = optarg; break;
		case 'f': o.force = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_die(EXIT_USAGE, "one input at a time (got %d; hint: cat "
			"a.shd b.shd | shd-drift ...)", argc);
	if (argc == 1)
		o.input = argv[0];
	if (o.learn && o.filter)
		cli_die(EXIT_USAGE, "--learn writes a filter; --filter applies "
			"one: one at a time");
	if (!o.output && !o.json && !o.learn && !o.eval)
		cli_binary_stdout(o.force);

	if (o.filter) {
		rc = shd_filter_load(&filter, o.filter, err, sizeof(err));
		if (rc) {
			cli_warn("%s", err[0] ? err : shd_strerror(rc));
			return cli_status(rc);
		}
		if (!isnan(o.p_min))
			filter.p_min = o.p_min;
		have_filter = 1;
		u.filter = &filter;
	}
	if (o.learn) {
		shd_filter_init(&learn);
		have_learn = 1;
		u.learn = &learn;
	}
	shd_nab_labels_init(&labels);	/* _load wants it empty */
	if (o.eval) {
		rc = shd_nab_labels_load(&labels, o.eval, err, sizeof(err));
		if (rc) {
			cli_warn("%s", err[0] ? err : shd_strerror(rc));
			return cli_status(rc);
		}
		have_labels = 1;
	}

	in_fd = cli_open_in(o.input);
	rc = shd_reader_open(&r, in_fd, o.input);
	if (rc) {
		cli_warn("%s", r ? shd_reader_errmsg(r) : shd_strerror(rc));
		status = cli_status(rc);
		goto out;
	}
	u.idict = shd_reader_dict(r);
	{
		const char *hz = shd_schema_meta(shd_reader_schema(r),
						 "horizon");
		long long h = hz ? strtoll(hz, NULL, 10) : 0;

		u.horizon = h > 0 && h < 100000 ? (size_t)h : 12;
	}
	if (o.dopt.hold == SIZE_MAX)
		o.dopt.hold = u.horizon;
	u.d = shd_drift_new(shd_reader_schema(r), u.idict, o.set.name,
			    o.set.met, o.set.n, &o.set.def, &o.dopt, err,
			    sizeof(err));
	if (!u.d) {
		cli_warn("%s: %s", strcmp(o.input, "-") ? o.input : "<stdin>",
			 err);
		status = strcmp(err, "out of memory") ? EXIT_BADINPUT :
			 EXIT_SYSTEM;
		goto out;
	}
	for (size_t i = 0; i < o.set.n; i++) {
		size_t m = 0;

		while (m < shd_drift_nmetric(u.d) &&
		       strcmp(shd_drift_metric_name(u.d, m), o.set.name[i]))
			m++;
		if (m == shd_drift_nmetric(u.d))
			cli_warn("warning: metric '%s' is not in the stream",
				 o.set.name[i]);
	}
	shd_drift_event_window(u.d, o.event_window);
	if (o.events)
		read_events(u.d, o.events);
	if (o.config)
		config_limits(u.d, o.config);
	if (o.limits)
		read_limits(u.d, o.limits);
	if (have_filter) {
		if (shd_filter_prime(&filter, u.d) < 0)
			cli_die(EXIT_SYSTEM, "out of memory");
		shd_drift_judge(u.d, judge, &u);
	}
	shd_alert_eval_init(&u.ev, shd_drift_nmetric(u.d));
	u.buf = calloc(shd_drift_nmetric(u.d), sizeof(*u.buf));
	u.odict = shd_dict_new();
	if (!u.buf || !u.odict ||
	    alert_schema(&schema, shd_reader_schema(r), o.input) < 0 ||
	    shd_frame_init(&in, shd_reader_schema(r), u.idict) < 0 ||
	    shd_frame_init(&u.f, &schema, u.odict) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");

	if (!o.json && !o.learn && !o.eval) {
		if (o.output) {
			out_fd = shd_atomic_open(o.output, tmp, sizeof(tmp));
			if (out_fd < 0)
				cli_die(EXIT_SYSTEM, "cannot create '%s':",
					o.output);
		}
		rc = shd_writer_open(&u.w, out_fd, &schema, NULL);
		if (rc && o.output)
			shd_atomic_abort(out_fd, tmp);	/* no temp file left */
		if (rc)
			cli_die(EXIT_SYSTEM, "cannot write %s: %s", o.output ?
				o.output : "standard output", u.w ?
				shd_writer_errmsg(u.w) : strerror(errno));
	} else if (o.output && !freopen(o.output, "w", stdout)) {
		cli_die(EXIT_SYSTEM, "cannot create '%s':", o.output);
	}

	while ((rc = shd_reader_next(r, &in)) == 0)
		if ((rc = shd_drift_feed(u.d, &in, o.all || o.eval || o.latest,
					 on_alert, &u)))
			break;
	if (rc == SHD_EOF)
		rc = shd_drift_finish(u.d, o.all || o.eval || o.latest,
				      on_alert, &u);
	else if (rc == SHD_EFORMAT && shd_reader_errmsg(r)[0] &&
		 !shd_drift_errmsg(u.d)[0])
		snprintf(u.err, sizeof(u.err), "%s", shd_reader_errmsg(r));
	else if (rc < 0 && rc != SHD_ENOMEM && rc != SHD_EIO)
		snprintf(u.err, sizeof(u.err), "%s: %s",
			 strcmp(o.input, "-") ? o.input : "<stdin>",
			 shd_drift_errmsg(u.d));
	if (!rc && o.latest)
		rc = flush_latest(&u);
	if (rc) {
		/* a bad input is named; what was written stays unfinished
		 * (no end marker), so no reader takes it for whole */
		cli_warn("%s", u.err[0] ? u.err : shd_strerror(rc));
		status = rc == SHD_EFORMAT || rc == SHD_EINVAL ?
			 EXIT_BADINPUT : EXIT_SYSTEM;
		if (o.output && u.w)
			shd_atomic_abort(out_fd, tmp);
		goto out;
	}

	if (u.w) {
		if (u.f.nrows && (rc = shd_writer_write(u.w, &u.f)) == 0)
			u.f.nrows = 0;
		if (!rc)
			rc = shd_writer_close(u.w);
		if (rc) {
			cli_warn("cannot write %s: %s", o.output ? o.output :
				 "standard output", shd_writer_errmsg(u.w));
			status = EXIT_SYSTEM;
			if (o.output)
				shd_atomic_abort(out_fd, tmp);
			goto out;
		}
		if (o.output && shd_atomic_commit(out_fd, tmp, o.output) < 0) {
			cli_warn("cannot write '%s':", o.output);
			status = EXIT_SYSTEM;
			goto out;
		}
	}

	if (o.learn) {
		rc = shd_filter_fit(&learn, 1.0, o.p_min, err, sizeof(err));
		if (rc) {
			cli_warn("--learn: %s", err[0] ? err :
				 shd_strerror(rc));
			status = rc == SHD_EINVAL ? EXIT_BADINPUT : EXIT_SYSTEM;
			goto out;
		}
		if (o.eval && isnan(o.p_min)) {
			long used = shd_alert_eval_tune(&u.ev, u.idict,
							&labels, &learn);

			if (used < 0)
				cli_die(EXIT_SYSTEM, "out of memory");
			if (!o.quiet)
				fprintf(stderr, "%s: p_min %.4g from %ld "
					"windows of '%s' holding a candidate\n",
					cli_prog, learn.p_min, used, o.eval);
		}
		for (uint32_t id = 0; id < shd_dict_count(u.idict); id++)
			for (size_t m = 0; m < shd_drift_nmetric(u.d); m++) {
				double days, weeks, day[24], week[168];

				if (shd_drift_counts(u.d, id, m, &days, day,
						     &weeks, week) < 0 ||
				    days <= 0)
					continue;
				if (shd_filter_keep_series(&learn,
					shd_dict_str(u.idict, id, NULL),
					shd_drift_metric_name(u.d, m), days,
					day, weeks, week) < 0)
					cli_die(EXIT_SYSTEM, "out of memory");
			}
		if (shd_filter_save(&learn, o.learn) < 0) {
			cli_warn("cannot write '%s':", o.learn);
			status = EXIT_SYSTEM;
			goto out;
		}
		if (!o.quiet)
			fprintf(stderr, "%s: learned from %zu candidates "
				"(%zu sustained, %zu transient); at p_min "
				"%.2f it would suppress %zu, %zu of them "
				"sustained\n", cli_prog, learn.n,
				learn.n_sustained, learn.n - learn.n_sustained,
				learn.p_min, learn.n_suppressed, learn.n_lost);
		goto out;
	}
	if (o.eval) {
		if (!shd_alert_eval_nab(&u.ev, u.idict, &labels, o.eval,
					stdout))
			cli_warn("--eval: no resource of the stream is in '%s' "
				 "(keys are file names without directory and "
				 "extension)", o.eval);
		if (shd_alert_eval_breach(&u.ev, u.d, u.horizon, stdout))
			cli_die(EXIT_SYSTEM, "out of memory");
	}
	if (!o.quiet && !o.eval)
		fprintf(stderr, "%s: %llu forecasts scored (resource, metric, "
			"origin), %llu alerts kept, %llu suppressed\n", cli_prog,
			(unsigned long long)shd_drift_scored(u.d),
			(unsigned long long)u.kept,
			(unsigned long long)u.suppressed);
	if (status == EXIT_OK && !o.eval && u.kept)
		status = EXIT_FOUND;
out:
	shd_alert_eval_release(&u.ev);
	free(u.buf);
	shd_writer_free(u.w);
	shd_frame_release(&u.f);
	shd_frame_release(&in);
	shd_schema_release(&schema);
	shd_dict_free(u.odict);
	shd_drift_free(u.d);
	shd_reader_free(r);
	if (have_filter)
		shd_filter_release(&filter);
	if (have_learn)
		shd_filter_release(&learn);
	if (have_labels)
		shd_nab_labels_release(&labels);
	if (in_fd > STDIN_FILENO)
		close(in_fd);
	{
		int cs = cli_close_stdout();

		if (cs != EXIT_OK && (status == EXIT_OK ||
				      status == EXIT_FOUND))
			status = cs;
	}
	return status;
}
