/*
 * shd-plot - draw one resource's streams through gnuplot: actual use, the
 * forecast with its interval band, limits, alerts and applied changes,
 * one panel per metric, and shd-replay's policies (their allocations and
 * the utilization each would have seen). Reads utilization, forecast,
 * alert and allocation streams (each known by its columns) and
 * shd-apply's journal; writes a PNG, SVG or PDF (gnuplot found at run
 * time), or the gnuplot script (--script). The script itself is
 * lib/plot.c's and lib/plotread.c reads the streams into it; this reads
 * the options, the limits and the journal.
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

/* A --limit M=L. */
struct limit {
	char *metric;
	double v;
};

static void oom(void)
{
	cli_die(EXIT_SYSTEM, "out of memory");
}

/* Reads the stream at PATH into the plot, or dies saying why. */
static void read_input(struct shd_plotin *in, const char *path)
{
	char err[1024];
	int fd = cli_open_in(path), rc;

	rc = shd_plotin_read(in, fd, path, err, sizeof(err));
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc)
		cli_die(rc == SHD_EINVAL ? EXIT_USAGE : cli_status(rc), "%s",
			err);
}

/* --policies named SEL: a word on each that will not be drawn. */
static void policy_warnings(const struct shd_plotin *in, unsigned sel)
{
	const char *path = shd_plotin_path(in, SHD_PLOTIN_ALLOC);

	if (!path) {
		cli_warn("--policies: no allocation stream (shd-replay -o) "
			 "among the inputs");
		return;
	}
	for (int k = 0; k < SHD_NPOL; k++)
		if ((sel & (1u << k)) && !shd_plotin_policy_rows(in, k))
			cli_warn("%s: no rows of policy '%s'; left out", path,
				 shd_policy_name[k]);
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
	struct shd_plotin *in = NULL;
	const char *want = NULL, *resource, *ametric;

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "o:r:c:qhV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_SCRIPT: script = 1; break;
		case 'r':
			if (want)
				cli_die(EXIT_USAGE, "one resource per image "
					"(-r given twice)");
			want = optarg;
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
	}
	if (title && !(plot.title = strdup(title)))
		oom();
	if (shd_plotin_new(&in, &plot, want, metrics != NULL))
		oom();
	if (!argc)
		read_input(in, "-");
	for (int i = 0; i < argc; i++)
		read_input(in, argv[i]);
	if (!shd_plotin_rows(in))
		cli_die(EXIT_BADINPUT, want ? "no rows of resource '%s' "
			"in the inputs" : "no rows in the inputs%s",
			want ? want : "");
	resource = shd_plotin_resource(in);
	ametric = shd_plotin_alloc_metric(in);
	if (step_given && shd_plotin_horizon(in) > 0 &&
	    (long)step > shd_plotin_horizon(in))
		cli_die(EXIT_USAGE, "--step %zu: the forecast's horizon is %ld",
			step, shd_plotin_horizon(in));
	if (shd_plotin_finish(in, (int)step, policies, &upanel))
		oom();
	if (policies_given)
		policy_warnings(in, policies);
	plot.from = from;
	plot.to = to;

	if (config) {
		struct shd_config conf;
		const struct shd_resource_conf *r;
		char err[1024];

		if ((rc = shd_config_load(&conf, config, err, sizeof(err))))
			cli_die(cli_status(rc), "%s", err);
		if ((r = shd_config_find(&conf, resource)))
			for (size_t k = 0; k < r->nmetric; k++) {
				struct shd_plot_panel *pn = shd_plot_find(
					&plot, r->metric[k].name);

				if (isnan(r->metric[k].limit))
					continue;
				if (pn)
					pn->limit = r->metric[k].limit;
				if (upanel >= 0 && !strcmp(r->metric[k].name,
							   ametric))
					plot.panel[upanel].limit =
						r->metric[k].limit;
			}
		shd_config_release(&conf);
	}
	for (size_t k = 0; k < nlim; k++) {
		struct shd_plot_panel *pn = shd_plot_find(&plot, lim[k].metric);

		if (pn)
			pn->limit = lim[k].v;
		if (upanel >= 0 && !strcmp(lim[k].metric, ametric))
			plot.panel[upanel].limit = lim[k].v;
	}
	if (journal)
		read_journal(&plot, journal, resource);
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
		cli_die(EXIT_BADINPUT, "nothing of '%s' to draw", resource);
	if (rc == 0) {
		char a[32], b[32];

		shd_time_format(plot.from, a, sizeof(a));
		shd_time_format(plot.to, b, sizeof(b));
		cli_die(EXIT_BADINPUT, "nothing of '%s' to draw from %s to %s",
			resource, a, b);
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
				cli_prog, output, resource, plot.npanel,
				plot.npanel == 1 ? "" : "s", o.width,
				o.height);
	}

	for (size_t k = 0; k < nlim; k++)
		free(lim[k].metric);
	free(lim);
	shd_plotin_free(in);
	shd_plot_release(&plot);
	return cli_close_stdout();
}
