/*
 * shd-predict - read a model (shd-train) and a utilization stream (FILE or
 * stdin), and write the forecast stream: per resource, from its latest
 * time (or, with --rolling, from every time: a replay of history), each
 * step of the horizon with interval bounds, confidence, the current value
 * and, where known, the value that really came. A resource the model has
 * not seen gets its per-series parts fitted from its own history first
 * (shd_train_extend), unless --known-only. The forecasts themselves are
 * lib/predict.c's; this chooses the origins, fits the unseen and says
 * what it left out.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "forecast.h"
#include "model.h"
#include "panel.h"
#include "predict.h"
#include "shd.h"
#include "train.h"
#include "window.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-predict -m MODEL [options] [FILE]\n"
"Forecast each resource of a utilization stream with a model made by\n"
"shd-train, and write the forecast stream. With no FILE, or '-', read\n"
"standard input.\n"
"\n"
"  -m, --model MODEL      the model (required)\n"
"      --rolling          forecast from every time of the input (a replay of\n"
"                         history), not only from the latest\n"
"      --from TIME        only origins at or after TIME\n"
"      --to TIME          only origins before TIME\n"
"      --method NAME      use NAME for every series instead of the model's\n"
"                         choice: lstm, ar, last, snaive_day, snaive_week\n"
"      --known-only       leave out resources the model has not seen (by\n"
"                         default they are fitted from their own history)\n"
"      --max-age DUR      warn when the model is older than DUR (30d, 12h)\n"
"      --threads N        BLAS threads of the network (default 1)\n"
"  -o, --output FILE      write FILE (atomically) instead of standard output\n"
"  -f, --force            write the binary stream even to a terminal\n"
"  -q, --quiet            no progress or summary on stderr\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"TIME is ISO 8601, 'YYYY-MM-DD HH:MM:SS' (UTC) or Unix seconds.\n"
"Exit status: 0 ok, 2 usage, 3 bad input (file named), 4 system error.\n"
"See shd-predict(1).\n");
	exit(status);
}

enum { OPT_ROLLING = 256, OPT_FROM, OPT_TO, OPT_METHOD, OPT_MAX_AGE,
       OPT_THREADS, OPT_KNOWN_ONLY };

static const struct option longopts[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "rolling", no_argument, NULL, OPT_ROLLING },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "method", required_argument, NULL, OPT_METHOD },
	{ "known-only", no_argument, NULL, OPT_KNOWN_ONLY },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *model, *output, *input;
	int rolling, method, threads, force, quiet, known_only;
	int has_from, has_to;
	int64_t from, to, max_age;
};

/* What to forecast for one panel series. */
struct plan {
	long r;			/* model resource, -1 when unknown */
	size_t a, b;		/* origins [a, b) */
	int too_short;		/* unknown, too little history to fit */
};

struct pred {
	const struct opts *o;
	const struct shd_model *mdl;
	const struct shd_panel *p;
	struct plan *plan;	/* (nseries) */
	size_t M, H, T;
	struct shd_predictor *pr;
	int progress;
};

static const char *method_names_list = "lstm, ar, last, snaive_day, snaive_week";

/*
 * How much of a known resource's history a forecast from its latest time
 * reads, with room for the seasonal values' fallbacks (the same slot a
 * season earlier when the first is missing): the lookback and the AR's
 * lags, two of the longest season, and the horizon. Everything before is
 * let go while the stream is read, so memory does not grow with the
 * length of the history. An unseen resource keeps all (it is fitted from
 * it).
 */
static size_t keep_tail(void *ctx, const char *key)
{
	const struct shd_model *m = ctx;
	size_t season = m->week > m->day ? m->week : m->day;

	if (shd_model_find(m, key) < 0)
		return 0;
	return m->lookback + m->ar_p + 2 * season + m->horizon;
}

/* Does series S have a value of any metric in the window ending at T? */
static int has_window(const struct pred *pd, const struct shd_pseries *s,
		      size_t t)
{
	for (size_t m = 0; m < pd->M; m++)
		if (!isnan(shd_window_ref(s, m, t, pd->T)))
			return 1;
	return 0;
}

/* The first index of S at or after time T (0..n). */
static size_t index_at(const struct shd_pseries *s, int64_t step, int64_t t)
{
	if (t <= s->t0)
		return 0;
	/* (t - t0) may overflow only for absurd times: clamp */
	if (t - s->t0 < 0 || (uint64_t)(t - s->t0) / (uint64_t)step >= s->n)
		return s->n;
	uint64_t d = (uint64_t)(t - s->t0);
	return (size_t)((d + (uint64_t)step - 1) / (uint64_t)step);
}

/*
 * The resources K of P with SEL[k] set, into LIST (N bytes): a few named,
 * then "and N more". Returns how many there are.
 */
static size_t name_list(const struct shd_panel *p, const unsigned char *sel,
			char *list, size_t n)
{
	size_t count = 0, shown = 0, l;

	list[0] = '\0';
	for (size_t k = 0; k < p->nseries; k++) {
		if (!sel[k])
			continue;
		count++;
		if (shown < 5) {
			l = strlen(list);
			snprintf(list + l, n - l, "%s'%s'", shown ? ", " : "",
				 p->series[k].key);
			shown++;
		}
	}
	if (count > shown) {
		l = strlen(list);
		snprintf(list + l, n - l, " and %zu more", count - shown);
	}
	return count;
}

/*
 * Warns about the resources the model has not seen and that are not
 * forecast (a few named): those fit_unknown found too short, with NEED,
 * the samples it needs, and the others.
 */
static void warn_unknown(const struct pred *pd, const char *model,
			 size_t need)
{
	unsigned char *sel = calloc(pd->p->nseries + 1, 1);
	char list[512];
	size_t nunk;

	if (!sel)
		cli_die(EXIT_SYSTEM, "out of memory");
	for (size_t k = 0; k < pd->p->nseries; k++)
		sel[k] = pd->plan[k].r < 0 && pd->plan[k].too_short;
	nunk = name_list(pd->p, sel, list, sizeof(list));
	if (nunk)
		cli_warn("%zu resource%s not in model '%s', not forecast: %s "
			 "(too little history%s to fit %s: %zu samples "
			 "needed)", nunk, nunk == 1 ? "" : "s", model, list,
			 pd->o->rolling && pd->o->has_from ? " before --from" :
			 "", nunk == 1 ? "it" : "them", need);
	for (size_t k = 0; k < pd->p->nseries; k++)
		sel[k] = pd->plan[k].r < 0 && !pd->plan[k].too_short;
	nunk = name_list(pd->p, sel, list, sizeof(list));
	if (nunk)
		cli_warn("%zu resource%s not in model '%s', not forecast: %s",
			 nunk, nunk == 1 ? "" : "s", model, list);
	free(sel);
}

/*
 * The origins [*A, *B) of series S: every index in the range of
 * --from/--to with --rolling, else the latest one there that holds a
 * value. Returns 0; 1 when the range holds no time of S, 2 when it holds
 * no value (not rolling).
 */
static int origins(const struct pred *pd, const struct shd_pseries *s,
		   size_t *a, size_t *b)
{
	const struct opts *o = pd->o;

	*a = o->has_from ? index_at(s, pd->p->step, o->from) : 0;
	*b = o->has_to ? index_at(s, pd->p->step, o->to) : s->n;
	if (*a >= *b)
		return 1;
	if (o->rolling)
		return 0;
	for (size_t t = *b; t > *a;) {
		t--;
		for (size_t m = 0; m < pd->M; m++)
			if (!isnan(s->x[m * s->n + t])) {
				*a = t;
				*b = t + 1;
				return 0;
			}
	}
	return 2;
}

/*
 * Fits the resources of the input that MDL has not seen from their own
 * history and adds them to it (shd_train_extend, as shd-train fits a
 * series, with the model's network). The history is the samples before
 * the first origin (the origin included without --rolling; with --rolling
 * and no --from, everything before --to), so that no forecast is made by
 * parts fitted on what came after it. A resource whose history is too
 * short for the split is left out (its plan's too_short set): *NEED is
 * then the samples needed.
 * Returns 0, or an shd_err with the reason in ERR (N bytes).
 */
static int fit_unknown(struct pred *pd, struct shd_model *mdl,
		       const char *model, size_t *need, char *err, size_t n)
{
	const struct shd_panel *p = pd->p;
	struct shd_train_opts to;
	struct shd_train_report rep;
	struct shd_panel sub;
	unsigned char *sel = NULL;
	size_t nshort = 0, M = pd->M;
	int rc = SHD_ENOMEM;

	*need = 0;
	shd_train_opts_init(&to);
	shd_panel_init(&sub);
	sub.step = p->step;
	sub.nmetric = M;
	sub.metric = p->metric;		/* borrowed: not released below */
	sub.unit = p->unit;
	sub.series = calloc(p->nseries + 1, sizeof(*sub.series));
	sel = calloc(p->nseries + 1, 1);
	if (!sub.series || !sel)
		goto out;
	for (size_t k = 0; k < p->nseries; k++) {
		const struct shd_pseries *s = &p->series[k];
		size_t a, b, end;
		if (shd_model_find(mdl, s->key) >= 0 || origins(pd, s, &a, &b))
			continue;
		end = pd->o->rolling && pd->o->has_from ? a : b;
		if (!shd_train_long_enough(&to, end, pd->T, pd->H)) {
			pd->plan[k].too_short = 1;
			nshort++;
			continue;
		}
		struct shd_pseries *c = &sub.series[sub.nseries];
		c->key = s->key;	/* borrowed */
		c->t0 = s->t0;
		c->n = end;
		c->x = malloc(M * end * sizeof(*c->x));
		if (!c->x)
			goto out;
		for (size_t m = 0; m < M; m++)
			memcpy(c->x + m * end, s->x + m * s->n,
			       end * sizeof(*c->x));
		sub.nseries++;
		sel[k] = 1;
	}
	if (nshort)
		*need = shd_train_min_samples(&to, pd->T, pd->H);
	rc = 0;
	if (!sub.nseries)
		goto out;
	if (pd->progress)
		fprintf(stderr, "\r%s: fitting %zu resource%s the model has "
			"not seen\033[K", cli_prog, sub.nseries,
			sub.nseries == 1 ? "" : "s");
	rc = shd_train_extend(mdl, &sub, &to, &rep);
	if (pd->progress)
		fprintf(stderr, "\r\033[K");
	if (rc) {
		snprintf(err, n, "%s", rep.err);
		goto out;
	}

	/* the note: how many, what their series chose, which */
	char list[512], how[256] = "";
	size_t nfit = name_list(p, sel, list, sizeof(list));
	static const int order[SHD_M_COUNT] = {
		SHD_M_LSTM, SHD_M_AR, SHD_M_LAST, SHD_M_SNAIVE_DAY,
		SHD_M_SNAIVE_WEEK,
	};
	for (int i = 0; i < SHD_M_COUNT; i++) {
		size_t l = strlen(how), c = rep.chosen[order[i]];
		if (c)
			snprintf(how + l, sizeof(how) - l, "%s%s %zu",
				 l ? ", " : "", shd_method_name(order[i]), c);
	}
	cli_warn("%zu resource%s not in model '%s': fitted from %s own "
		 "history (%zu series: %s): %s", nfit, nfit == 1 ? "" : "s",
		 model, nfit == 1 ? "its" : "their", rep.nseries, how, list);
out:
	if (rc == SHD_ENOMEM && !err[0])
		snprintf(err, n, "out of memory");
	for (size_t i = 0; sub.series && i < sub.nseries; i++)
		free(sub.series[i].x);
	free(sub.series);
	free(sel);
	return rc;
}

/* Decides the origins of every series; returns how many series have any. */
static size_t make_plan(struct pred *pd)
{
	const struct opts *o = pd->o;
	size_t nwork = 0, nshort = 0;

	for (size_t k = 0; k < pd->p->nseries; k++) {
		const struct shd_pseries *s = &pd->p->series[k];
		struct plan *pl = &pd->plan[k];
		size_t a, b;

		pl->r = shd_model_find(pd->mdl, s->key);
		pl->a = pl->b = 0;
		if (pl->r < 0)
			continue;
		switch (origins(pd, s, &a, &b)) {
		case 1:
			cli_warn("resource '%s': no time in the range of "
				 "--from/--to, not forecast", s->key);
			continue;
		case 2:
			cli_warn("resource '%s': no value%s, not forecast",
				 s->key, o->has_from || o->has_to ?
				 " in the range of --from/--to" : "");
			continue;
		}
		if (!o->rolling) {
			size_t t = a;
			char when[40];
			shd_time_format(s->t0 + (int64_t)t * pd->p->step, when,
					sizeof(when));
			for (size_t m = 0; m < pd->M; m++)
				if (isnan(shd_window_ref(s, m, t, pd->T)))
					cli_warn("resource '%s': no %s value in "
						 "the %zu samples up to %s: its "
						 "%s forecast is NaN", s->key,
						 pd->mdl->metric[m], pd->T, when,
						 pd->mdl->metric[m]);
			if (t + 1 < pd->T)
				cli_warn("resource '%s': %zu samples of history, "
					 "fewer than the lookback (%zu): forecast "
					 "from a zero-padded window", s->key,
					 t + 1, pd->T);
		} else {
			nshort += a + 1 < pd->T;
		}
		pl->a = a;
		pl->b = b;
		nwork++;
	}
	if (nshort)
		cli_warn("%zu resource%s %s origins with fewer samples of "
			 "history than the lookback (%zu): forecast from "
			 "zero-padded windows", nshort, nshort == 1 ? "" : "s",
			 nshort == 1 ? "has" : "have", pd->T);
	return nwork;
}

/* Runs the plan: every origin of every series, in canonical order. */
static int run(struct pred *pd, char *err, size_t n)
{
	int rc;

	for (size_t k = 0; k < pd->p->nseries; k++) {
		const struct plan *pl = &pd->plan[k];
		const struct shd_pseries *s = &pd->p->series[k];
		size_t skipped = 0;

		if (pd->progress)
			fprintf(stderr, "\r%s: resource %zu of %zu (%s)\033[K",
				cli_prog, k + 1, pd->p->nseries, s->key);
		for (size_t t = pl->a; t < pl->b; t++) {
			if (!has_window(pd, s, t)) {
				skipped++;
				continue;
			}
			if ((rc = shd_predictor_push(pd->pr, k, (size_t)pl->r,
						     t, err, n)))
				return rc;
		}
		if (skipped && pd->progress)
			fprintf(stderr, "\r\033[K");
		if (skipped)
			cli_warn("resource '%s': %zu origin%s with no value in "
				 "the %zu samples before, not forecast", s->key,
				 skipped, skipped == 1 ? "" : "s", pd->T);
	}
	rc = shd_predictor_flush(pd->pr, err, n);
	if (pd->progress)
		fprintf(stderr, "\r\033[K");
	return rc;
}

/*
 * Warns when the model's training data end more than --max-age before the
 * newest data it is asked to forecast from. Data time, not the wall clock:
 * the check means the same in a replay of history as in cron.
 */
static void check_age(const struct shd_model *m, const struct shd_panel *p,
		      int64_t max_age)
{
	int64_t newest = INT64_MIN;
	char when[40];

	if (max_age <= 0)
		return;
	for (size_t k = 0; k < p->nseries; k++) {
		const struct shd_pseries *s = &p->series[k];
		int64_t last = s->t0 + (int64_t)(s->n ? s->n - 1 : 0) * p->step;
		newest = last > newest ? last : newest;
	}
	int64_t age = newest - m->data_to;
	if (p->nseries == 0 || age <= max_age)
		return;
	shd_time_format(m->data_to, when, sizeof(when));
	if (age >= 2 * 86400000LL)
		cli_warn("model is %lld days old (its training data end %s)",
			 (long long)(age / 86400000), when);
	else
		cli_warn("model is %lld hours old (its training data end %s)",
			 (long long)(age / 3600000), when);
}

/* Exit status for a failed model load. */
static int load_status(int rc, int e)
{
	if (rc == SHD_EIO)
		return e == ENOENT || e == EACCES || e == EISDIR ||
		       e == ENOTDIR ? EXIT_BADINPUT : EXIT_SYSTEM;
	return cli_status(rc);
}

int main(int argc, char **argv)
{
	struct opts o = { .method = -1, .threads = 1, .input = "-" };
	struct shd_model mdl;
	struct shd_panel panel;
	struct shd_reader *r = NULL;
	struct shd_schema schema;
	struct pred pd = { 0 };
	struct shd_writer *w = NULL;
	char err[1024], tmp[4096];
	int c, rc, status = EXIT_OK, in_fd = -1, out_fd = STDOUT_FILENO;

	cli_init(argv[0]);
	shd_model_init(&mdl);
	shd_panel_init(&panel);
	shd_schema_init(&schema);
	while ((c = getopt_long(argc, argv, "m:o:fqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case OPT_ROLLING: o.rolling = 1; break;
		case OPT_FROM:
			o.from = cli_time_arg("--from", optarg);
			o.has_from = 1;
			break;
		case OPT_TO:
			o.to = cli_time_arg("--to", optarg);
			o.has_to = 1;
			break;
		case OPT_METHOD:
			o.method = shd_method_parse(optarg);
			if (o.method < 0)
				cli_die(EXIT_USAGE, "--method: unknown method "
					"'%s' (%s)", optarg, method_names_list);
			break;
		case OPT_MAX_AGE:
			o.max_age = cli_duration_arg("--max-age", optarg);
			break;
		case OPT_THREADS:
			o.threads = (int)cli_size_arg("--threads", optarg, 1, 256);
			break;
		case OPT_KNOWN_ONLY: o.known_only = 1; break;
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
	if (!o.model) {
		cli_warn("no model (-m MODEL)");
		usage(stderr, EXIT_USAGE);
	}
	if (argc > 1)
		cli_die(EXIT_USAGE, "one input at a time (got %d; hint: cat "
			"a.shd b.shd | shd-predict ...)", argc);
	if (argc == 1)
		o.input = argv[0];
	if (o.has_from && o.has_to && o.from >= o.to)
		cli_die(EXIT_USAGE, "--from must be before --to");
	if (!o.output)
		cli_binary_stdout(o.force);

	/* the model first: a bad one is found before any data is read */
	rc = shd_model_load(&mdl, o.model, err, sizeof(err));
	if (rc) {
		int e = errno;
		cli_warn("%s", err[0] ? err : shd_strerror(rc));
		status = load_status(rc, e);
		goto out;
	}
	if (o.method == SHD_M_LSTM && !mdl.nnet)
		cli_die(EXIT_USAGE, "--method lstm: model '%s' has no network",
			o.model);
	for (size_t k = 0; k < mdl.nnet; k++)
		shd_lstm_set_threads(&mdl.net[k], o.threads);

	/* the input, on the model's grid */
	in_fd = cli_open_in(o.input);
	const char *iname = strcmp(o.input, "-") ? o.input : "<stdin>";
	rc = shd_reader_open(&r, in_fd, o.input);
	if (rc) {
		cli_warn("%s", r ? shd_reader_errmsg(r) : shd_strerror(rc));
		status = cli_status(rc);
		goto out;
	}
	{
		const char *iv = shd_schema_meta(shd_reader_schema(r),
						 "interval_ms");
		long long ms = iv ? strtoll(iv, NULL, 10) : 0;
		if (ms > 0 && ms != mdl.step)
			cli_warn("%s: samples every %lld ms, the model's every "
				 "%lld ms: averaged onto the model's grid",
				 iname, ms, (long long)mdl.step);
	}
	rc = shd_panel_read_keep(&panel, r, (const char *const *)mdl.metric,
				 mdl.nmetric, mdl.step, o.rolling || o.has_to ?
				 NULL : keep_tail, &mdl);
	if (rc) {
		const char *msg = panel.err[0] ? panel.err : shd_strerror(rc);
		if (strncmp(msg, o.input, strlen(o.input)) == 0)
			cli_warn("%s", msg);
		else
			cli_warn("%s: %s", iname, msg);
		if (rc == SHD_EINVAL && strstr(msg, "no f64 metric"))
			fprintf(stderr, "hint: model '%s' forecasts from the "
				"metrics it was trained on\n", o.model);
		status = rc == SHD_ENOMEM ? EXIT_SYSTEM : cli_status(rc);
		goto out;
	}
	check_age(&mdl, &panel, o.max_age);

	pd.o = &o;
	pd.mdl = &mdl;
	pd.p = &panel;
	pd.M = mdl.nmetric;
	pd.H = mdl.horizon;
	pd.T = mdl.lookback;
	pd.progress = cli_progress_wanted(o.quiet);
	pd.plan = calloc(panel.nseries ? panel.nseries : 1, sizeof(*pd.plan));
	if (!pd.plan)
		cli_die(EXIT_SYSTEM, "out of memory");

	if (!panel.nseries) {
		cli_warn("%s: no rows: nothing to forecast", iname);
		status = EXIT_BADINPUT;
		goto out;
	}
	/* resources the model has not seen: fitted from their history */
	size_t need = 0;
	if (!o.known_only) {
		err[0] = '\0';
		rc = fit_unknown(&pd, &mdl, o.model, &need, err, sizeof(err));
		if (rc) {
			cli_warn("cannot fit the resources model '%s' has not "
				 "seen: %s", o.model, err);
			status = cli_status(rc);
			goto out;
		}
	}
	size_t nknown = 0;
	for (size_t k = 0; k < panel.nseries; k++)
		nknown += shd_model_find(&mdl, panel.series[k].key) >= 0;
	if (make_plan(&pd) == 0) {
		warn_unknown(&pd, o.model, need);
		cli_warn("%s: nothing to forecast%s", iname, nknown ? "" :
			 o.known_only ? " (no resource of the input is in the "
			 "model)" : " (no resource of the input is in the "
			 "model or has the history to be fitted)");
		status = EXIT_BADINPUT;
		goto out;
	}
	warn_unknown(&pd, o.model, need);

	if (shd_predict_schema(&schema, &mdl, o.method, o.model, o.input) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	if (o.output) {
		out_fd = shd_atomic_open(o.output, tmp, sizeof(tmp));
		if (out_fd < 0)
			cli_die(EXIT_SYSTEM, "cannot create '%s':", o.output);
	}
	err[0] = '\0';
	rc = shd_writer_open(&w, out_fd, &schema, NULL);
	if (rc)
		snprintf(err, sizeof(err), "%s", w ? shd_writer_errmsg(w) :
			 strerror(errno));
	if (!rc && shd_predictor_new(&pd.pr, &mdl, &panel, o.method, &schema,
				     w))
		cli_die(EXIT_SYSTEM, "out of memory");
	if (!rc)
		rc = run(&pd, err, sizeof(err));
	if (!rc && (rc = shd_writer_close(w)))
		snprintf(err, sizeof(err), "%s", shd_writer_errmsg(w));
	if (rc) {
		cli_warn("cannot write %s: %s", o.output ? o.output :
			 "standard output", err[0] ? err : shd_strerror(rc));
		status = EXIT_SYSTEM;	/* our output failed, not the input */
		if (o.output)
			shd_atomic_abort(out_fd, tmp);
		goto out;
	}
	if (o.output && shd_atomic_commit(out_fd, tmp, o.output) < 0) {
		cli_warn("cannot write '%s':", o.output);
		status = EXIT_SYSTEM;
		goto out;
	}
	if (pd.progress)
		fprintf(stderr, "%s: %llu forecasts of %zu steps, %llu rows\n",
			cli_prog,
			(unsigned long long)shd_predictor_count(pd.pr), pd.H,
			(unsigned long long)shd_writer_rows(w));
out:
	shd_predictor_free(pd.pr);
	shd_writer_free(w);
	free(pd.plan);
	shd_schema_release(&schema);
	shd_panel_release(&panel);
	shd_reader_free(r);
	if (in_fd > STDIN_FILENO)
		close(in_fd);
	shd_model_release(&mdl);
	if (cli_close_stdout() != EXIT_OK && status == EXIT_OK)
		status = EXIT_SYSTEM;
	return status;
}
