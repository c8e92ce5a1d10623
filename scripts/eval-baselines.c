/*
 * eval-baselines - how well the baselines forecast a utilization stream:
 * the bar the LSTM of shd-train (issue 3) has to clear.
 *
 * Reads a .shd stream (FILE or stdin) into regular series on its sampling
 * grid (lib/panel.c: the "interval_ms" metadata of shd-ingest -i, else the
 * median time step), and for every resource and metric:
 *   - splits it in time: the first 70% train, the next 10% validation, the
 *     last 20% test;
 *   - fits the per-step autoregression (lib/baseline.c) on train;
 *   - forecasts steps 1..H from every origin (rolling origin) with last
 *     value, seasonal naive (one day, one week) and the autoregression; a
 *     forecast a method cannot make (no season of history yet, NaN inputs)
 *     falls back to the last value, and targets without a last value or
 *     an actual value are not scored, so all methods are scored on the
 *     same points;
 *   - scores MASE (scale: the one-day seasonal-naive MAE of train) of
 *     targets in validation and in test, at steps 1 and H;
 *   - picks, per series and step, the method with the least validation
 *     MASE ("chosen"), and calibrates split-conformal intervals of the
 *     chosen method on its validation residuals, whose test coverage is
 *     shown (validation serves both the choice and the calibration here;
 *     shd-train keeps a separate calibration part).
 * Prints one table per step (1 and H), with the mean and median over
 * series. Series whose MASE scale is 0 or unknown are listed, not scored.
 *
 *   build/shd-ingest -i 5m DIR/FILE.csv ... | build/tools/eval-baselines
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forecast.h"
#include "panel.h"
#include "shd.h"

#define PROG "eval-baselines"

enum { LAST, SN_DAY, SN_WEEK, AR, NMETHOD };
static const char *method_name[NMETHOD] = { "last", "sn_day", "sn_week",
					    "ar" };

struct opts {
	size_t H, day, week, p;
	double lambda, coverage;
	char **metrics;
	size_t nmetrics;
};

/* The result of one series at one reported step. */
struct score {
	double val[NMETHOD], test[NMETHOD];	/* MASE */
	int chosen;
	double chosen_test, coverage, conf;
};

struct result {
	char *name;
	size_t n;
	double scale;			/* MASE scale; not scored unless > 0 */
	struct score s[2];		/* step 1, step H */
};

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: " PROG " [options] [FILE]\n"
"MASE of last value, seasonal naive (day, week), the per-step linear\n"
"autoregression and the per-series choice on validation, rolling origin\n"
"over the last 20%% of each series (70%% train, 10%% validation).\n"
"\n"
"  -H, --horizon N        the longer step reported, and the AR horizon (12)\n"
"  -d, --day-steps N      steps in a day (default: 86400 s / the step)\n"
"  -w, --week-steps N     steps in a week (default: 7 days)\n"
"  -p, --lags N           AR window: x[t-N+1..t] (default 32)\n"
"  -l, --lambda X         AR ridge, relative (default 1e-3)\n"
"  -c, --coverage C       nominal coverage of the intervals (default 0.9)\n"
"  -m, --metrics A,B      only these metric columns\n"
"  -h, --help             show this help\n"
"\n"
"Put irregular data on a grid first: shd-ingest -i 5m ...\n");
	exit(status);
}

static const struct option longopts[] = {
	{ "horizon", required_argument, NULL, 'H' },
	{ "day-steps", required_argument, NULL, 'd' },
	{ "week-steps", required_argument, NULL, 'w' },
	{ "lags", required_argument, NULL, 'p' },
	{ "lambda", required_argument, NULL, 'l' },
	{ "coverage", required_argument, NULL, 'c' },
	{ "metrics", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static size_t size_arg(const char *opt, const char *s, size_t min)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < min || s[0] == '-') {
		fprintf(stderr, PROG ": bad value '%s' for %s\n", s, opt);
		exit(2);
	}
	return (size_t)v;
}

static double double_arg(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, PROG ": bad value '%s' for %s\n", s, opt);
		exit(2);
	}
	return v;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(4);
	}
	return p;
}

/*
 * Evaluates series X (N values) into R. Returns the seconds spent fitting
 * the autoregression.
 */
static double eval_series(struct result *res, const double *x, size_t n,
			  const struct opts *o)
{
	const size_t H = o->H, steps[2] = { 1, o->H };
	const size_t ntr = n * 7 / 10, nva = n * 8 / 10;
	struct shd_ar ar;
	struct timespec t0, t1;
	double *fc = xcalloc(NMETHOD * H, sizeof(*fc));	/* (method, H) */
	/* absolute errors at the two steps: (2, method, n) by target index */
	double *err = xcalloc(2 * NMETHOD * n, sizeof(*err));
	int rc;

	res->n = n;
	res->scale = shd_mase_scale(x, ntr, o->day);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = shd_ar_fit(&ar, x, ntr, H, o->p, o->day, o->week, o->lambda);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {	/* cannot happen with lambda > 0; say so if it does */
		fprintf(stderr, PROG ": %s: autoregression: %s\n", res->name,
			shd_strerror(rc));
		exit(4);
	}
	for (size_t i = 0; i < 2 * NMETHOD * n; i++)
		err[i] = NAN;

	/* every origin whose targets reach into validation or test */
	for (size_t t = ntr > H ? ntr - H : 0; t + 1 < n; t++) {
		shd_last_value(fc + LAST * H, x, t, H);
		shd_seasonal_naive(fc + SN_DAY * H, x, t, H, o->day);
		shd_seasonal_naive(fc + SN_WEEK * H, x, t, H, o->week);
		shd_ar_predict(&ar, x, t, fc + AR * H);
		for (int s = 0; s < 2; s++) {
			size_t h = steps[s], i = t + h;
			double last = fc[LAST * H + h - 1];
			if (i < ntr || i >= n || isnan(x[i]) || isnan(last))
				continue;
			for (int m = 0; m < NMETHOD; m++) {
				double f = fc[m * H + h - 1];
				if (isnan(f))
					f = last;	/* the fallback */
				err[(s * NMETHOD + m) * n + i] = fabs(x[i] - f);
			}
		}
	}

	/* the MASE of errors |e| against zeros is mean |e| / scale */
	double *zeros = xcalloc(n, sizeof(*zeros));
	for (int s = 0; s < 2; s++) {
		struct score *sc = &res->s[s];
		const double *e[NMETHOD];

		for (int m = 0; m < NMETHOD; m++) {
			e[m] = err + (s * NMETHOD + m) * n;
			sc->val[m] = shd_mase(e[m] + ntr, zeros, nva - ntr,
					      res->scale);
			sc->test[m] = shd_mase(e[m] + nva, zeros, n - nva,
					       res->scale);
		}
		sc->chosen = LAST;
		for (int m = 1; m < NMETHOD; m++)
			if (sc->val[m] < sc->val[sc->chosen])
				sc->chosen = m;
		sc->chosen_test = sc->test[sc->chosen];

		/* intervals of the chosen method from validation residuals */
		double q, center, rscale;
		const double *ec = e[sc->chosen];
		shd_conformal_quantile(ec + ntr, nva - ntr, o->coverage, &q);
		size_t in = 0, cnt = 0;
		for (size_t i = nva; i < n; i++)
			if (!isnan(ec[i])) {
				cnt++;
				in += ec[i] <= q;
			}
		sc->coverage = cnt ? (double)in / (double)cnt : NAN;
		if (shd_robust_center_scale(x, ntr, &center, &rscale) == 0)
			sc->conf = shd_confidence(q, rscale);
		else
			sc->conf = NAN;
	}
	shd_ar_release(&ar);
	free(zeros);
	free(fc);
	free(err);
	return (double)(t1.tv_sec - t0.tv_sec) +
	       1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Mean and median of the non-NaN of v (n), sorting a copy. */
static void mean_median(const double *v, size_t n, double *mean, double *med)
{
	double *w = xcalloc(n, sizeof(*w)), sum = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i])) {
			w[m++] = v[i];
			sum += v[i];
		}
	qsort(w, m, sizeof(*w), cmp_double);
	*mean = m ? sum / (double)m : NAN;
	*med = !m ? NAN : m % 2 ? w[m / 2] : (w[m / 2 - 1] + w[m / 2]) / 2;
	free(w);
}

static void print_table(const struct result *res, size_t nres, int s,
			size_t h, const struct opts *o)
{
	size_t w = 24, nscored = 0;
	/* columns: 4 methods, chosen, coverage, confidence */
	double *col[NMETHOD + 3];

	for (size_t r = 0; r < nres; r++)
		if (strlen(res[r].name) > w)
			w = strlen(res[r].name);
	for (int c = 0; c < NMETHOD + 3; c++)
		col[c] = xcalloc(nres, sizeof(double));

	printf("\nstep %zu (%s ahead): test MASE\n", h,
	       h == 1 ? "one step" : "several steps");
	printf("%-*s %8s %8s %8s %8s %8s  %-8s %6s %6s\n", (int)w, "series",
	       "last", "sn_day", "sn_week", "ar", "chosen", "(pick)", "cov",
	       "conf");
	for (size_t r = 0; r < nres; r++) {
		const struct score *sc = &res[r].s[s];
		if (!(res[r].scale > 0)) {
			printf("%-*s  not scored: MASE scale %g (constant "
			       "training part?)\n", (int)w, res[r].name,
			       res[r].scale);
			for (int c = 0; c < NMETHOD + 3; c++)
				col[c][r] = NAN;
			continue;
		}
		nscored++;
		printf("%-*s", (int)w, res[r].name);
		for (int m = 0; m < NMETHOD; m++) {
			printf(" %8.3f", sc->test[m]);
			col[m][r] = sc->test[m];
		}
		printf(" %8.3f  %-8s %6.3f %6.3f\n", sc->chosen_test,
		       method_name[sc->chosen], sc->coverage, sc->conf);
		col[NMETHOD][r] = sc->chosen_test;
		col[NMETHOD + 1][r] = sc->coverage;
		col[NMETHOD + 2][r] = sc->conf;
	}
	for (int k = 0; k < 2; k++) {
		printf("%-*s", (int)w, k ? "median" : "mean");
		for (int c = 0; c < NMETHOD + 3; c++) {
			double mean, med;
			mean_median(col[c], nres, &mean, &med);
			if (c == NMETHOD + 1)
				printf("  %-8s", "");
			printf(c > NMETHOD ? " %6.3f" : " %8.3f",
			       k ? med : mean);
		}
		putchar('\n');
	}
	/* how often each method was picked, and how often it was right */
	printf("picked:");
	for (int m = 0; m < NMETHOD; m++) {
		size_t cnt = 0;
		for (size_t r = 0; r < nres; r++)
			cnt += res[r].scale > 0 && res[r].s[s].chosen == m;
		printf(" %s %zu", method_name[m], cnt);
	}
	size_t ar_wins = 0;
	for (size_t r = 0; r < nres; r++)
		ar_wins += res[r].scale > 0 &&
			   res[r].s[s].test[AR] < res[r].s[s].test[LAST];
	printf("; ar beats last value on %zu of %zu; cov at nominal %.2f\n",
	       ar_wins, nscored, o->coverage);
	for (int c = 0; c < NMETHOD + 3; c++)
		free(col[c]);
}

int main(int argc, char **argv)
{
	struct opts o = { 12, 0, 0, 32, 1e-3, 0.9, NULL, 0 };
	struct shd_reader *r = NULL;
	struct shd_panel panel;
	const char *path = "-";
	char *mlist = NULL;
	int c, fd, rc, status = 0;

	while ((c = getopt_long(argc, argv, "H:d:w:p:l:c:m:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'H': o.H = size_arg("--horizon", optarg, 1); break;
		case 'd': o.day = size_arg("--day-steps", optarg, 1); break;
		case 'w': o.week = size_arg("--week-steps", optarg, 1); break;
		case 'p': o.p = size_arg("--lags", optarg, 1); break;
		case 'l': o.lambda = double_arg("--lambda", optarg, 1e-300, 1e6);
			  break;
		case 'c': o.coverage = double_arg("--coverage", optarg, 1e-6,
						  1 - 1e-6);
			  break;
		case 'm': mlist = optarg; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(stderr, 2);
	if (argc == 1)
		path = argv[0];
	if (mlist) {
		char *list = strdup(mlist), *save = NULL;
		o.metrics = xcalloc(strlen(mlist) + 1, sizeof(char *));
		for (char *t = strtok_r(list, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			o.metrics[o.nmetrics++] = t;
	}

	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot open '%s': %s\n", path,
			strerror(errno));
		return 4;
	}
	rc = shd_reader_open(&r, fd, strcmp(path, "-") == 0 ? "<stdin>" : path);
	if (rc) {
		fprintf(stderr, PROG ": %s\n",
			r ? shd_reader_errmsg(r) : shd_strerror(rc));
		shd_reader_free(r);
		return rc == SHD_ENOMEM ? 4 : 3;
	}
	shd_panel_init(&panel);
	rc = shd_panel_read(&panel, r, (const char *const *)o.metrics,
			    o.nmetrics, 0);
	if (rc) {
		fprintf(stderr, PROG ": %s\n", panel.err);
		status = rc == SHD_ENOMEM ? 4 : 3;
		goto out;
	}
	if (!o.day) {
		o.day = (size_t)llround(86400000.0 / (double)panel.step);
		if (o.day < 1)
			o.day = 1;
	}
	if (!o.week)
		o.week = 7 * o.day;

	size_t nres = panel.nseries * panel.nmetric, k = 0;
	struct result *res = xcalloc(nres, sizeof(*res));
	double fit_s = 0;
	size_t total = 0;
	for (size_t i = 0; i < panel.nseries; i++) {
		const struct shd_pseries *ps = &panel.series[i];
		for (size_t m = 0; m < panel.nmetric; m++) {
			struct result *rr = &res[k];
			size_t len = strlen(ps->key) + strlen(panel.metric[m]) + 2;
			rr->name = xcalloc(len, 1);
			snprintf(rr->name, len, "%s/%s", ps->key,
				 panel.metric[m]);
			if (ps->n < 10 * (o.H + o.p)) {
				fprintf(stderr, PROG ": %s: %zu steps, too "
					"short; skipped\n", rr->name, ps->n);
				free(rr->name);
				continue;
			}
			fit_s += eval_series(rr, ps->x + m * ps->n, ps->n, &o);
			total += ps->n;
			k++;
		}
	}
	nres = k;
	printf("# %s: %zu series, %zu values, step %lld s, day %zu steps, "
	       "week %zu steps\n", path, nres, total,
	       (long long)(panel.step / 1000), o.day, o.week);
	printf("# AR: p %zu, lambda %g, horizon %zu; fitting took %.3f s "
	       "in all\n", o.p, o.lambda, o.H, fit_s);
	printf("# MASE scale: one-day seasonal-naive MAE of the first 70%%; "
	       "chosen = least validation MASE (70-80%%) per series and "
	       "step;\n# cov/conf: its split-conformal interval at %.2f "
	       "from validation residuals, coverage on test, confidence "
	       "1/(1+q/s)\n", o.coverage);
	print_table(res, nres, 0, 1, &o);
	print_table(res, nres, 1, o.H, &o);
	for (size_t i = 0; i < nres; i++)
		free(res[i].name);
	free(res);
out:
	shd_panel_release(&panel);
	shd_reader_free(r);
	if (fd > 0)
		close(fd);
	if (o.metrics) {
		free(o.metrics[0]);
		free(o.metrics);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
		return 4;
	}
	return status;
}
