/*
 * shd-plan - read the alert stream (shd-drift) and the fleet configuration
 * and write an adjustment plan (JSON): the sizing rule and the guard rails
 * are lib/plan.c's; this reads streams into observations and writes.
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
#include "drift.h"
#include "journal.h"
#include "plan.h"
#include "shd.h"
#include "sign.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-plan -c CONFIG [options] [ALERTS]\n"
"Turn the alert stream of shd-drift into an adjustment plan (JSON) within\n"
"the configuration's bounds, steps and cooldowns. With no ALERTS, or '-',\n"
"read standard input.\n"
"\n"
"  -c, --config FILE      the fleet configuration (shd-config(5))\n"
"      --forecast FILE    the forecast stream behind the alerts: size from\n"
"                         every metric of an alerted resource, not only the\n"
"                         alerted ones\n"
"      --state DIR        shd-apply's state directory: the journal gives the\n"
"                         last changes (cooldowns, allocations now); default\n"
"                         $SHD_STATE, else $XDG_STATE_HOME/shd\n"
"      --now TIME         plan as of TIME (replays, tests); default now\n"
"      --key FILE         sign the plan (HMAC-SHA256; mode 0600 file)\n"
"  -o, --output FILE      write the plan to FILE (atomically), not stdout\n"
"  -q, --quiet            no summary on standard error\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit status: 0 the plan is empty, 1 it has actions, 2 usage, 3 bad input\n"
"(alerts, configuration, journal, key), 4 system error.\n");
	exit(status);
}

enum { OPT_FORECAST = 256, OPT_STATE, OPT_NOW, OPT_KEY };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "forecast", required_argument, NULL, OPT_FORECAST },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

struct obsv {
	struct shd_obs *v;
	size_t n, cap;
};

/* The observation of (RES, METRIC) among those from index FROM on. */
static struct shd_obs *obs_get(struct obsv *o, size_t from, const char *res,
			       const char *metric)
{
	for (size_t i = from; i < o->n; i++)
		if (!strcmp(o->v[i].resource, res) &&
		    !strcmp(o->v[i].metric, metric))
			return &o->v[i];
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct shd_obs *nv = realloc(o->v, cap * sizeof(*nv));

		if (!nv)
			cli_die(EXIT_SYSTEM, "out of memory");
		o->v = nv;
		o->cap = cap;
	}
	memset(&o->v[o->n], 0, sizeof(o->v[0]));
	snprintf(o->v[o->n].resource, sizeof(o->v->resource), "%s", res);
	snprintf(o->v[o->n].metric, sizeof(o->v->metric), "%s", metric);
	o->v[o->n].time = INT64_MIN;
	o->v[o->n].peak = o->v[o->n].peak_hi = NAN;
	o->v[o->n].conf = o->v[o->n].cur = o->v[o->n].breach_in = NAN;
	return &o->v[o->n++];
}

/* A reader of the stream at PATH ("-": stdin), its descriptor in *FD. */
static struct shd_reader *open_stream(const char *path, int *fd)
{
	struct shd_reader *r = NULL;
	int rc;

	*fd = cli_open_in(path);
	if ((rc = shd_reader_open(&r, *fd, path)) < 0)
		cli_die(cli_status(rc), "%s", r ? shd_reader_errmsg(r)
						: shd_strerror(rc));
	return r;
}

/* Column J of S, or die naming the stream. */
static int need_col(const struct shd_schema *s, const char *name,
		    const char *what, const char *path)
{
	int j = shd_schema_find(s, name);

	if (j < 0)
		cli_die(EXIT_BADINPUT, "%s: not %s: no column '%s'", path,
			what, name);
	return j;
}

static double f64_or_nan(const struct shd_frame *f, int j, size_t i)
{
	return j < 0 ? NAN : SHD_F64COL(f, j)[i];
}

/* One alert row, kept whole until the window is known. */
struct arow {
	char res[256], metric[64], reason[64];
	int64_t time;
	double score, pred, cur, conf, breach, peak, peak_hi;
	int sev, kept;
};

static int sev_parse(const char *s)
{
	return !strcmp(s, "critical") ? SHD_SEV_CRITICAL
	       : !strcmp(s, "warning") ? SHD_SEV_WARNING : SHD_SEV_INFO;
}

/*
 * Reads the alert stream at PATH into rows; *WINDOW gets the length of a
 * forecast window (horizon x interval, ms; 0 when the header lacks them).
 */
static struct arow *read_alerts(const char *path, size_t *nrow,
				int64_t *window)
{
	struct shd_reader *r;
	struct shd_frame f = { 0 };
	const struct shd_schema *s;
	struct shd_dict *d;
	struct arow *v = NULL;
	size_t n = 0, cap = 0;
	int fd, rc;
	int jt, jr, jm, js, jsev, jp, jc, jcf, jb, jk, jre, jpk, jph;

	r = open_stream(path, &fd);
	s = shd_reader_schema(r);
	d = shd_reader_dict(r);
	jt = need_col(s, "time", "an alert stream", path);
	jr = need_col(s, "resource", "an alert stream", path);
	jm = need_col(s, "metric", "an alert stream", path);
	js = need_col(s, "score", "an alert stream", path);
	jsev = need_col(s, "severity", "an alert stream", path);
	jp = need_col(s, "pred", "an alert stream", path);
	jc = need_col(s, "cur", "an alert stream", path);
	jcf = need_col(s, "conf", "an alert stream", path);
	jb = need_col(s, "breach_in", "an alert stream", path);
	jk = need_col(s, "kept", "an alert stream", path);
	jre = need_col(s, "reason", "an alert stream", path);
	jpk = shd_schema_find(s, "peak");
	jph = shd_schema_find(s, "peak_hi");
	*window = (int64_t)(cli_meta_num(s, "horizon", 0, 1e6, 0, path) *
			    cli_meta_num(s, "interval_ms", 0, 1e12, 0, path));
	if (shd_frame_init(&f, s, d) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	while ((rc = shd_reader_next(r, &f)) == 0) {
		for (size_t i = 0; i < f.nrows; i++) {
			struct arow *a;

			if (n == cap) {
				struct arow *nv;

				cap = cap ? 2 * cap : 256;
				if (!(nv = realloc(v, cap * sizeof(*v))))
					cli_die(EXIT_SYSTEM, "out of memory");
				v = nv;
			}
			a = &v[n++];
			snprintf(a->res, sizeof(a->res), "%s", shd_dict_str(
				 d, SHD_KEYCOL(&f, jr)[i], NULL));
			snprintf(a->metric, sizeof(a->metric), "%s",
				 shd_dict_str(d, SHD_KEYCOL(&f, jm)[i], NULL));
			snprintf(a->reason, sizeof(a->reason), "%s",
				 shd_dict_str(d, SHD_KEYCOL(&f, jre)[i], NULL));
			a->sev = sev_parse(shd_dict_str(
					   d, SHD_KEYCOL(&f, jsev)[i], NULL));
			a->time = SHD_I64COL(&f, jt)[i];
			a->score = SHD_F64COL(&f, js)[i];
			a->pred = SHD_F64COL(&f, jp)[i];
			a->cur = SHD_F64COL(&f, jc)[i];
			a->conf = SHD_F64COL(&f, jcf)[i];
			a->breach = SHD_F64COL(&f, jb)[i];
			a->kept = SHD_U8COL(&f, jk)[i] != 0;
			a->peak = f64_or_nan(&f, jpk, i);
			a->peak_hi = f64_or_nan(&f, jph, i);
			if (isnan(a->peak))
				a->peak = a->pred;
		}
	}
	if (rc != SHD_EOF)
		cli_die(cli_status(rc), "%s", shd_reader_errmsg(r));
	shd_frame_release(&f);
	shd_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
	*nrow = n;
	return v;
}

static int by_res_time(const void *x, const void *y)
{
	const struct arow *a = x, *b = y;
	int c = strcmp(a->res, b->res);

	return c ? c : (a->time > b->time) - (a->time < b->time);
}

/*
 * The observations: per resource and metric the newest alert inside the
 * resource's newest forecast window; every alert of that window that
 * looks up (pred above cur, or a breach of a limit ahead) and was kept or
 * held as a repeat opens a scale-up.
 */
static void gather(struct obsv *o, struct arow *v, size_t n, int64_t window)
{
	if (n)
		qsort(v, n, sizeof(*v), by_res_time);
	for (size_t g = 0, e; g < n; g = e) {
		size_t first = o->n;
		int64_t newest;
		int up = 0;

		for (e = g; e < n && !strcmp(v[e].res, v[g].res); e++)
			;
		newest = v[e - 1].time;
		for (size_t k = g; k < e; k++)
			if (v[k].time + window >= newest &&
			    v[k].sev >= SHD_SEV_WARNING &&
			    (v[k].kept || !strcmp(v[k].reason, "repeat")) &&
			    (v[k].pred > v[k].cur || isfinite(v[k].breach)))
				up = 1;
		/* ascending time: the last row of a metric wins */
		for (size_t k = g; k < e; k++) {
			struct shd_obs *b;

			if (v[k].time + window < newest)
				continue;
			b = obs_get(o, first, v[k].res, v[k].metric);
			b->up_open = up;
			b->time = v[k].time;
			/* info rows (--all) carry numbers, not alerts */
			b->alert = v[k].sev >= SHD_SEV_WARNING;
			b->kept = v[k].kept;
			snprintf(b->reason, sizeof(b->reason), "%s",
				 v[k].reason);
			b->severity = v[k].sev;
			b->score = v[k].score;
			b->pred = v[k].pred;
			b->cur = v[k].cur;
			b->conf = v[k].conf;
			b->breach_in = v[k].breach;
			b->peak = v[k].peak;
			b->peak_hi = v[k].peak_hi;
		}
	}
}

/* Is RES (key ID of the forecast's dictionary) among the alerted? */
static int alerted(const struct obsv *o, signed char **memo, size_t *nmemo,
		   uint32_t id, const char *res)
{
	if (id >= *nmemo) {
		size_t n = (size_t)id + 1024;
		signed char *m = realloc(*memo, n);

		if (!m)
			cli_die(EXIT_SYSTEM, "out of memory");
		memset(m + *nmemo, -1, n - *nmemo);
		*memo = m;
		*nmemo = n;
	}
	if ((*memo)[id] < 0) {
		(*memo)[id] = 0;
		for (size_t k = 0; k < o->n; k++)
			if (o->v[k].alert && !strcmp(o->v[k].resource, res))
				(*memo)[id] = 1;
	}
	return (*memo)[id];
}

/*
 * For the metrics of an alerted resource that no alert covers, the
 * forecast stream's newest origin gives the numbers (peaks over the
 * horizon), so that every metric driving a knob has its say.
 */
static void read_forecast(struct obsv *o, const char *path)
{
	struct shd_reader *r;
	struct shd_frame f = { 0 };
	const struct shd_schema *s;
	struct shd_dict *d;
	int fd, rc, jr, jo;
	size_t nm = 0, nmemo = 0;
	signed char *memo = NULL;
	struct { char name[64]; int pred, hi, conf, cur; } m[64];

	r = open_stream(path, &fd);
	s = shd_reader_schema(r);
	d = shd_reader_dict(r);
	jr = need_col(s, "resource", "a forecast stream", path);
	jo = need_col(s, "origin", "a forecast stream", path);
	for (size_t j = 0; j < s->ncols && nm < 64; j++) {
		const char *cn = s->cols[j].name;
		size_t l = strlen(cn);
		char col[80];

		if (l <= 5 || l - 5 >= sizeof(m[0].name) ||
		    strcmp(cn + l - 5, ".pred"))
			continue;
		/* m[nm].name is written here, not read */
		/* cppcheck-suppress legacyUninitvar */
		snprintf(m[nm].name, sizeof(m[nm].name), "%.*s", (int)(l - 5),
			 cn);
		m[nm].pred = (int)j;
		snprintf(col, sizeof(col), "%s.hi", m[nm].name);
		m[nm].hi = shd_schema_find(s, col);
		snprintf(col, sizeof(col), "%s.conf", m[nm].name);
		m[nm].conf = shd_schema_find(s, col);
		snprintf(col, sizeof(col), "%s.cur", m[nm].name);
		m[nm].cur = shd_schema_find(s, col);
		nm++;
	}
	if (!nm)
		cli_die(EXIT_BADINPUT, "%s: not a forecast stream: no m.pred "
			"column", path);
	if (shd_frame_init(&f, s, d) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	while ((rc = shd_reader_next(r, &f)) == 0) {
		for (size_t i = 0; i < f.nrows; i++) {
			uint32_t id = SHD_KEYCOL(&f, jr)[i];
			const char *res = shd_dict_str(d, id, NULL);
			int64_t org = SHD_I64COL(&f, jo)[i];

			if (!alerted(o, &memo, &nmemo, id, res))
				continue;
			for (size_t k = 0; k < nm; k++) {
				struct shd_obs *b = obs_get(o, 0, res,
							    m[k].name);
				double p = SHD_F64COL(&f, m[k].pred)[i];
				double hi = f64_or_nan(&f, m[k].hi, i);
				double cf = f64_or_nan(&f, m[k].conf, i);

				/* an alert has its own peaks */
				if (b->alert || org < b->time)
					continue;
				if (org > b->time) {
					b->time = org;
					b->peak = b->peak_hi = NAN;
					b->conf = NAN;
					b->cur = f64_or_nan(&f, m[k].cur, i);
				}
				if (!isnan(p))
					b->peak = isnan(b->peak) ? p
						  : fmax(b->peak, p);
				if (!isnan(hi))
					b->peak_hi = isnan(b->peak_hi) ? hi
						     : fmax(b->peak_hi, hi);
				if (!isnan(cf))
					b->conf = isnan(b->conf) ? cf
						  : fmin(b->conf, cf);
			}
		}
	}
	if (rc != SHD_EOF)
		cli_die(cli_status(rc), "%s", shd_reader_errmsg(r));
	free(memo);
	shd_frame_release(&f);
	shd_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
}

static void summary(const struct shd_plan *p, const char *id)
{
	char f[32], t[32];

	fprintf(stderr, "%s: plan %s: %zu action%s, %zu held, %zu ignored\n",
		cli_prog, id, p->nact, p->nact == 1 ? "" : "s", p->nheld,
		p->nign);
	for (size_t i = 0; i < p->nact; i++) {
		const struct shd_action *a = &p->act[i];

		fprintf(stderr, "  %s %s %s -> %s (%s)\n", a->resource,
			shd_knob_name[a->knob],
			shd_knob_format(a->knob, a->from, f, sizeof(f)),
			shd_knob_format(a->knob, a->to, t, sizeof(t)),
			shd_severity_name(a->severity));
	}
}

/*
 * A journal record later than NOW: the clock went back, or --now is before
 * the journal. Such a record counts as just made (its cooldown holds, see
 * shd-plan(1)); a warning says why actions are held.
 */
static void future_warn(const char *state, const struct shd_jrec *jr,
			size_t nj, int64_t now)
{
	int64_t last = INT64_MIN;
	char at[40], nw[40];

	for (size_t i = 0; i < nj; i++)
		if (jr[i].time > last)
			last = jr[i].time;
	/* now is whole seconds: a record of this second is not later */
	if (last <= now || last - now < 1000)
		return;
	shd_time_format(last, at, sizeof(at));
	shd_time_format(now, nw, sizeof(nw));
	cli_warn("%s/journal: a record of %s is later than now (%s): did the "
		 "clock go back? cooldowns count it as just made", state, at,
		 nw);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *forecast = NULL, *state = NULL,
		   *key = NULL, *output = NULL, *input = "-";
	unsigned char kbuf[4096];
	size_t klen = 0, nrow = 0, nj = 0;
	struct shd_config conf;
	struct shd_plan plan;
	struct shd_jrec *jr = NULL;
	struct shd_jinfo jinfo;
	struct obsv obs = { 0 };
	struct arow *rows;
	int64_t now = (int64_t)time(NULL) * 1000, window;
	char err[1024];
	int c, rc, quiet = 0;
	json_t *j;
	char *text;

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:o:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case OPT_FORECAST: forecast = optarg; break;
		case OPT_STATE: state = optarg; break;
		case OPT_NOW: now = cli_time_arg("--now", optarg); break;
		case OPT_KEY: key = optarg; break;
		case 'o': output = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	input = cli_one_input(argc, argv, optind, "alert stream");
	if (!config)
		cli_die(EXIT_USAGE, "-c CONFIG is required (try --help)");
	if (forecast && !strcmp(forecast, "-") && !strcmp(input, "-"))
		cli_die(EXIT_USAGE, "the alerts and --forecast cannot both be "
			"standard input");

	if ((rc = shd_config_load(&conf, config, err, sizeof(err))))
		cli_die(cli_status(rc), "%s", err);
	if (key && (rc = shd_key_load(key, kbuf, &klen, err, sizeof(err))))
		cli_die(rc == SHD_EINVAL ? EXIT_BADINPUT : cli_status(rc),
			"%s", err);
	state = cli_state_dir(state);
	/* the chain checked (and, with the key, the seals): allocations and
	 * cooldowns are not taken from a history that may have been edited */
	rc = shd_journal_read(state, key ? kbuf : NULL, klen, &jr, &nj, &jinfo,
			      err, sizeof(err));
	if (rc == SHD_EFORMAT)
		cli_die(EXIT_BADINPUT, "%s\nhint: 'shd-apply --verify-journal' "
			"checks it; see shd-apply(1), The journal", err);
	if (rc)
		cli_die(cli_status(rc), "%s", err);
	if (jinfo.torn)
		cli_warn("%s/journal: the last line is cut short (a crash?); "
			 "shd-apply reports it", state);
	future_warn(state, jr, nj, now);

	rows = read_alerts(input, &nrow, &window);
	gather(&obs, rows, nrow, window);
	free(rows);
	if (forecast)
		read_forecast(&obs, forecast);

	shd_plan_init(&plan);
	if (shd_plan_build(&plan, &conf, obs.v, obs.n, jr, nj, now))
		cli_die(EXIT_SYSTEM, "out of memory");
	/* a number JSON cannot hold (inf, nan) makes shd_plan_json fail:
	 * name it, not "out of memory" */
	if (shd_plan_check(&plan, err, sizeof(err)))
		cli_die(EXIT_BADINPUT, "cannot write the plan: %s", err);
	if (!(j = shd_plan_json(&plan, &conf, key ? kbuf : NULL, klen)) ||
	    !(text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17))))
		cli_die(EXIT_SYSTEM, "out of memory");
	if (!quiet)
		summary(&plan, json_string_value(json_object_get(j, "id")));
	if (output) {
		if (cli_write_text(output, text) < 0)
			cli_die(EXIT_SYSTEM, "%s:", output);
	} else {
		if (fputs(text, stdout) == EOF || putchar('\n') == EOF)
			cli_die(EXIT_SYSTEM, "standard output:");
	}
	rc = plan.nact ? EXIT_FOUND : EXIT_OK;
	free(text);
	json_decref(j);
	shd_plan_release(&plan);
	shd_jrec_free(jr, nj);
	shd_config_release(&conf);
	free(obs.v);
	if (cli_close_stdout())
		return EXIT_SYSTEM;
	return rc;
}
