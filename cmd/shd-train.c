/*
 * shd-train - read a utilization stream (FILE or standard input), train the
 * forecasting model (lib/train.c) and write it to MODEL atomically; the
 * training report goes to standard error. `shd-train --report MODEL' prints
 * the report of a model to standard output.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "model.h"
#include "panel.h"
#include "shd.h"
#include "train.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-train [options] -o MODEL [FILE]\n"
"       shd-train --report MODEL\n"
"Train a forecasting model (autoregression + LSTM correction, chosen per\n"
"series on validation, with conformal intervals) on a utilization stream.\n"
"With no FILE, or FILE '-', read standard input.\n"
"\n"
"  -o, --output MODEL     write the model to MODEL (atomically)\n"
"      --lookback N       steps of history the network reads (48)\n"
"      --horizon N|DUR    steps forecast, or a duration (default 5 minutes'\n"
"                         worth, at least 1 step)\n"
"      --hidden N         LSTM units per layer (32)\n"
"      --layers N         LSTM layers (1)\n"
"      --batch N          windows per mini-batch (64)\n"
"      --epochs N         passes over the training windows, at most (20)\n"
"      --patience N       epochs without a better validation loss before\n"
"                         stopping (3)\n"
"      --lr X             Adam learning rate (0.001)\n"
"      --weight-decay X   decoupled weight decay (0)\n"
"      --seed N           random seed (1); the same seed, data and threads\n"
"                         give the same model\n"
"      --threads N        threads for the series' fits and BLAS (1)\n"
"      --metrics A,B      train on these metrics (default: all)\n"
"      --interval DUR     the sampling step (default: the stream's)\n"
"      --per-resource     one network per resource\n"
"      --coverage X       nominal coverage of the intervals (0.9)\n"
"      --huber C          the autoregression's Huber constant in robust\n"
"                         residual scales (0.5); 0: least squares\n"
"      --split A,B        training and validation fractions of each series\n"
"                         (0.7,0.15); calibration gets the rest\n"
"      --max-windows N    training windows per network, at most (100000)\n"
"      --init OLD         start from the weights of model OLD (retraining)\n"
"      --events FILE      known events, lines 'TIME[,RESOURCE,...]' (as\n"
"                         shd-sync --events writes them): windows whose\n"
"                         forecast span holds one of their resource are\n"
"                         left out of the loss, the choice and calibration\n"
"      --report MODEL     print the training report of MODEL and exit\n"
"  -q, --quiet            no progress or report on stderr\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 bad input, 4 system error.\n"
"See shd-train(1).\n");
	exit(status);
}

enum {
	OPT_LOOKBACK = 256, OPT_HORIZON, OPT_HIDDEN, OPT_LAYERS, OPT_BATCH,
	OPT_EPOCHS, OPT_PATIENCE, OPT_LR, OPT_WD, OPT_SEED, OPT_THREADS,
	OPT_METRICS, OPT_INTERVAL, OPT_PER_RESOURCE, OPT_COVERAGE, OPT_SPLIT,
	OPT_MAX_WINDOWS, OPT_INIT, OPT_REPORT, OPT_EVENTS, OPT_HUBER,
};

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "lookback", required_argument, NULL, OPT_LOOKBACK },
	{ "horizon", required_argument, NULL, OPT_HORIZON },
	{ "hidden", required_argument, NULL, OPT_HIDDEN },
	{ "layers", required_argument, NULL, OPT_LAYERS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "patience", required_argument, NULL, OPT_PATIENCE },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "weight-decay", required_argument, NULL, OPT_WD },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "per-resource", no_argument, NULL, OPT_PER_RESOURCE },
	{ "coverage", required_argument, NULL, OPT_COVERAGE },
	{ "huber", required_argument, NULL, OPT_HUBER },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "max-windows", required_argument, NULL, OPT_MAX_WINDOWS },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --------------------------------------------------------------- report */

static double jget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void cell(FILE *fp, double v)
{
	if (isfinite(v))
		fprintf(fp, " %9.3f", v);
	else
		fprintf(fp, " %9s", "-");
}

/*
 * The report (JSON text of lib/train.c) as a table on FP. Returns 0, or -1
 * when it is not such a report.
 */
static int print_report(FILE *fp, const char *text)
{
	json_error_t jerr;
	json_t *root = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
	json_t *methods = json_object_get(root, "methods");
	json_t *chosen = json_object_get(root, "chosen");

	if (!json_is_object(methods) || !json_is_object(chosen)) {
		json_decref(root);
		return -1;
	}
	long long H = (long long)jget(root, "horizon");
	char hh[32];
	snprintf(hh, sizeof(hh), "h=%lld", H);
	fprintf(fp, "validation MASE, mean over %lld series (horizon %lld "
		"step%s)\n", (long long)jget(root, "series"), H,
		H == 1 ? "" : "s");
	fprintf(fp, "%-12s %9s %9s %9s %7s\n", "method", "h=1", hh, "mean",
		"chosen");
	for (int k = 0; k < SHD_M_COUNT; k++) {
		json_t *e = json_object_get(methods, shd_method_name(k));
		fprintf(fp, "%-12s", shd_method_name(k));
		cell(fp, jget(e, "h1"));
		cell(fp, jget(e, "hH"));
		cell(fp, jget(e, "mean"));
		fprintf(fp, " %7lld\n", (long long)jget(e, "chosen"));
	}
	fprintf(fp, "%-12s", "(chosen)");
	cell(fp, jget(chosen, "h1"));
	cell(fp, jget(chosen, "hH"));
	cell(fp, jget(chosen, "mean"));
	fputc('\n', fp);
	fprintf(fp, "networks %lld%s, epochs %lld (best %lld), validation "
		"loss %.5g at the start, %.5g kept\n",
		(long long)jget(root, "networks"),
		jget(root, "warm_started") > 0 ? " (warm start)" : "",
		(long long)jget(root, "epochs"),
		(long long)jget(root, "best_epoch"),
		jget(root, "val_loss_start"), jget(root, "val_loss_best"));
	fprintf(fp, "windows: %lld training, %lld validation, %lld "
		"calibration", (long long)jget(root, "train_windows"),
		(long long)jget(root, "val_windows"),
		(long long)jget(root, "cal_windows"));
	if (isfinite(jget(root, "seconds")))
		fprintf(fp, "; %.0f windows/s, %.1f s",
			jget(root, "windows_per_s"), jget(root, "seconds"));
	fputc('\n', fp);
	json_t *ev = json_object_get(root, "event_windows");
	if (json_is_object(ev))
		fprintf(fp, "left out for known events: %lld training, %lld "
			"validation, %lld calibration windows\n",
			(long long)jget(ev, "train"), (long long)jget(ev, "val"),
			(long long)jget(ev, "cal"));
	json_decref(root);
	return 0;
}

static int report_model(const char *path)
{
	struct shd_model m;
	char err[512], from[40], to[40];
	int rc = shd_model_load(&m, path, err, sizeof(err));

	if (rc) {
		cli_warn("%s", rc == SHD_EFORMAT ? err :
			 rc == SHD_EIO ? strerror(errno) : shd_strerror(rc));
		return rc == SHD_EFORMAT || errno == ENOENT || errno == EACCES ?
		       EXIT_BADINPUT : cli_status(rc);
	}
	shd_time_format(m.data_from, from, sizeof(from));
	shd_time_format(m.data_to, to, sizeof(to));
	printf("model %s: %zu resource%s, metrics", path, m.nres,
	       m.nres == 1 ? "" : "s");
	for (size_t k = 0; k < m.nmetric; k++)
		printf("%s%s", k ? "," : " ", m.metric[k]);
	printf("; step %lld ms, lookback %zu, horizon %zu\n",
	       (long long)m.step, m.lookback, m.horizon);
	printf("data %s to %s\n", from, to);
	if (print_report(stdout, m.report) < 0)
		printf("(no training report)\n");
	shd_model_release(&m);
	return EXIT_OK;
}

/* ------------------------------------------------------------- progress */

static void progress(void *ctx, const struct shd_train_progress *pr)
{
	(void)ctx;
	int width = 20, fill = pr->total ?
		(int)((double)width * (double)pr->done / (double)pr->total) : 0;
	char bar[32], left[32] = "";

	memset(bar, '=', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(width - fill));
	bar[width] = '\0';
	if (isfinite(pr->left))
		snprintf(left, sizeof(left), ", %d:%02d left",
			 (int)(pr->left / 60), (int)fmod(pr->left, 60));
	fprintf(stderr, "\r%s: ", cli_prog);
	if (pr->nnet > 1)
		fprintf(stderr, "net %zu/%zu ", pr->net + 1, pr->nnet);
	fprintf(stderr, "epoch %zu/%zu [%s] loss %.4g val %.4g, %.0f win/s%s"
		"\033[K", pr->epoch, pr->epochs, bar, pr->loss, pr->val_loss,
		pr->windows_per_s, left);
}

/* --------------------------------------------------------------- events */

/*
 * Says how many of the events of PATH concern the stream's resources (a
 * fleet-wide event concerns them all), and warns when none does: a file
 * of another fleet, or resources named otherwise.
 */
static void note_events(const struct shd_events *ev, const struct shd_panel *p,
			const char *path)
{
	size_t mine = 0;

	for (size_t i = 0; i < ev->n; i++) {
		const char *res = ev->ev[i].resource;
		mine += !res || shd_panel_find(p, res) >= 0;
	}
	if (ev->n && !mine)
		cli_warn("warning: none of the %zu events of '%s' concerns a "
			 "resource of the stream", ev->n, path);
	else
		cli_warn("%s: %zu event%s, %zu for the stream's resources or "
			 "fleet-wide", path, ev->n, ev->n == 1 ? "" : "s", mine);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct shd_train_opts o;
	struct shd_train_report rep;
	struct shd_model m, old;
	struct shd_panel p;
	struct shd_events events;
	struct shd_reader *r = NULL;
	const char *output = NULL, *init = NULL, *report = NULL;
	const char *events_path = NULL;
	const char *horizon_arg = NULL;
	char *metrics_arg = NULL, **metrics = NULL;
	size_t nmetrics = 0;
	int64_t interval = 0;
	int quiet = 0, c, rc, fd = -1, status = EXIT_OK;
	int have_hidden = 0, have_layers = 0, have_lookback = 0;
	char err[512];

	cli_init(argv[0]);
	shd_train_opts_init(&o);
	shd_model_init(&m);
	shd_model_init(&old);
	shd_panel_init(&p);
	shd_events_init(&events);
	while ((c = getopt_long(argc, argv, "o:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_LOOKBACK:
			o.lookback = cli_size_arg("--lookback", optarg, 1, 100000);
			have_lookback = 1;
			break;
		case OPT_HORIZON: horizon_arg = optarg; break;
		case OPT_HIDDEN:
			o.hidden = cli_size_arg("--hidden", optarg, 1, 4096);
			have_hidden = 1;
			break;
		case OPT_LAYERS:
			o.layers = cli_size_arg("--layers", optarg, 1,
					    SHD_LSTM_MAX_LAYERS);
			have_layers = 1;
			break;
		case OPT_BATCH:
			o.batch = cli_size_arg("--batch", optarg, 1, 65536);
			break;
		case OPT_EPOCHS:
			o.epochs = cli_size_arg("--epochs", optarg, 0, 1000000);
			break;
		case OPT_PATIENCE:
			o.patience = cli_size_arg("--patience", optarg, 1, 1000000);
			break;
		case OPT_LR: o.lr = cli_real_arg("--lr", optarg, 0, 0, 10); break;
		case OPT_WD:
			o.wd = cli_real_arg("--weight-decay", optarg, 0, 1, 10);
			break;
		case OPT_SEED:
			o.seed = cli_size_arg("--seed", optarg, 0, SIZE_MAX);
			break;
		case OPT_THREADS:
			o.threads = (int)cli_size_arg("--threads", optarg, 1, 256);
			break;
		case OPT_METRICS: metrics_arg = optarg; break;
		case OPT_INTERVAL:
			interval = cli_duration_arg("--interval", optarg);
			break;
		case OPT_PER_RESOURCE: o.per_resource = 1; break;
		case OPT_COVERAGE:
			o.coverage = cli_real_arg("--coverage", optarg, 0, 0, 1);
			break;
		case OPT_HUBER:
			o.huber = cli_real_arg("--huber", optarg, 0, 1, 1e6);
			break;
		case OPT_SPLIT: {
			char *comma = strchr(optarg, ',');
			if (!comma)
				cli_die(EXIT_USAGE, "--split: expected TRAIN,"
					"VALIDATION fractions, got '%s'", optarg);
			*comma = '\0';
			o.split_train = cli_real_arg("--split", optarg, 0, 0, 1);
			o.split_val = cli_real_arg("--split", comma + 1, 0, 0, 1);
			if (o.split_train + o.split_val >= 1)
				cli_die(EXIT_USAGE, "--split: the fractions "
					"leave nothing for calibration");
			break;
		}
		case OPT_MAX_WINDOWS:
			o.max_windows = cli_size_arg("--max-windows", optarg, 1,
						 SIZE_MAX / 1024);
			break;
		case OPT_INIT: init = optarg; break;
		case OPT_REPORT: report = optarg; break;
		case OPT_EVENTS: events_path = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (report) {
		if (output || argc || events_path)
			cli_die(EXIT_USAGE, "--report takes a model and nothing "
				"else");
		status = report_model(report);
		if (cli_close_stdout() != EXIT_OK && status == EXIT_OK)
			status = EXIT_SYSTEM;
		return status;
	}
	if (!output) {
		cli_warn("no model file (-o MODEL)");
		usage(stderr, EXIT_USAGE);
	}
	if (argc > 1)
		cli_die(EXIT_USAGE, "one input at most (hint: cat the streams, "
			"or shd-ingest several files into one)");
	int64_t horizon_ms = 0;
	if (horizon_arg) {
		if (strspn(horizon_arg, "0123456789") == strlen(horizon_arg))
			o.horizon = cli_size_arg("--horizon", horizon_arg, 1, 100000);
		else
			horizon_ms = cli_duration_arg("--horizon", horizon_arg);
	}
	if (metrics_arg) {
		for (char *tok = strtok(metrics_arg, ","); tok;
		     tok = strtok(NULL, ",")) {
			char **mm = realloc(metrics, (nmetrics + 1) *
					    sizeof(*mm));
			if (!mm)
				cli_die(EXIT_SYSTEM, "out of memory");
			metrics = mm;
			metrics[nmetrics++] = tok;
		}
		if (!nmetrics)
			cli_die(EXIT_USAGE, "--metrics: no metric named");
	}

	/* --init: the old model's architecture unless told otherwise */
	if (init) {
		rc = shd_model_load(&old, init, err, sizeof(err));
		if (rc) {
			cli_warn("--init: %s", rc == SHD_EFORMAT ? err :
				 rc == SHD_EIO ? strerror(errno) :
				 shd_strerror(rc));
			status = rc == SHD_EFORMAT || errno == ENOENT ?
				 EXIT_BADINPUT : cli_status(rc);
			goto out;
		}
		if (!old.nnet) {
			cli_warn("--init: '%s' has no network", init);
			status = EXIT_BADINPUT;
			goto out;
		}
		if (!have_hidden)
			o.hidden = old.net[0].cfg.n_hidden;
		if (!have_layers)
			o.layers = old.net[0].cfg.n_layers;
		if (!have_lookback)
			o.lookback = old.lookback;
		if (!horizon_arg)
			o.horizon = old.horizon;
		if (!metrics_arg) {
			metrics = calloc(old.nmetric, sizeof(*metrics));
			if (!metrics)
				cli_die(EXIT_SYSTEM, "out of memory");
			for (size_t k = 0; k < old.nmetric; k++)
				metrics[k] = old.metric[k];
			nmetrics = old.nmetric;
		}
		o.per_resource |= old.per_resource;
		o.init = &old;
	}

	/* the known events */
	if (events_path) {
		rc = shd_events_load(&events, events_path, err, sizeof(err));
		if (rc) {
			cli_warn("--events: %s", err);
			status = rc == SHD_EIO && (errno == ENOENT ||
				 errno == EACCES || errno == EISDIR) ?
				 EXIT_BADINPUT : cli_status(rc);
			goto out;
		}
		o.events = &events;
	}

	/* the stream */
	const char *in = argc ? argv[0] : "-";
	fd = cli_open_in(in);
	rc = shd_reader_open(&r, fd, strcmp(in, "-") ? in : "<stdin>");
	if (rc) {
		cli_warn("%s", r ? shd_reader_errmsg(r) : shd_strerror(rc));
		status = cli_status(rc);
		goto out;
	}
	rc = shd_panel_read(&p, r, (const char *const *)metrics, nmetrics,
			    interval);
	if (rc) {
		cli_warn("%s", p.err[0] ? p.err : shd_strerror(rc));
		status = cli_status(rc);
		if (rc == SHD_EINVAL)
			status = EXIT_BADINPUT;
		goto out;
	}
	if (horizon_ms) {
		o.horizon = (size_t)(horizon_ms / p.step);
		if (!o.horizon)
			o.horizon = 1;
	}

	if (events_path && !quiet)
		note_events(&events, &p, events_path);
	rc = shd_train(&m, &p, &o, &rep, cli_progress_wanted(quiet) ?
		       progress : NULL, NULL);
	if (cli_progress_wanted(quiet))
		fprintf(stderr, "\r\033[K");
	if (rc) {
		cli_warn("%s", rep.err[0] ? rep.err : shd_strerror(rc));
		status = rc == SHD_EINVAL || rc == SHD_ENUMERIC ?
			 EXIT_BADINPUT : cli_status(rc);
		goto out;
	}
	if (shd_model_save(&m, output) < 0) {
		cli_warn("cannot write '%s':", output);
		status = EXIT_SYSTEM;
		goto out;
	}
	if (!quiet)
		print_report(stderr, m.report);
out:
	shd_reader_free(r);
	if (fd > STDIN_FILENO)
		close(fd);
	shd_panel_release(&p);
	shd_events_release(&events);
	shd_model_release(&m);
	shd_model_release(&old);
	free(metrics);
	if (cli_close_stdout() != EXIT_OK && status == EXIT_OK)
		status = EXIT_SYSTEM;
	return status;
}
