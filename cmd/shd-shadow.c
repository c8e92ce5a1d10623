/*
 * shd-shadow - read a production utilization stream (FILE or standard
 * input) and write its shadow: a seeded, statistically faithful subset
 * (lib/shadow.c) to standard output or -o FILE; with -c and --config-out
 * the shadow's configuration (lib/confscale.c); a fidelity report
 * (lib/fidelity.c) on standard error and, with --report, as JSON. Exit 3
 * when the shadow is not faithful (after writing it all).
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

#include "cli.h"
#include "config.h"
#include "confscale.h"
#include "fidelity.h"
#include "shadow.h"
#include "shd.h"
#include "sign.h"
#include "sync.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-shadow [options] [STREAM]\n"
"Write a shadow of a production utilization stream: a seeded, statistically\n"
"faithful subset, with a fidelity report. With no STREAM, or '-', read\n"
"standard input.\n"
"\n"
"  -f, --fraction F       share of production to keep, in (0, 1] (0.1)\n"
"  -s, --strategy S,...   applied in order: resources (default: stratified\n"
"                         by load profile), days, weeks (whole UTC periods),\n"
"                         downsample (buckets of 1/F rows: mean, p95, max)\n"
"      --seed N           random seed (1); the same seed gives the same bytes\n"
"      --profile-metric M the metric of the load profiles (default: the\n"
"                         first)\n"
"      --max-ks D         largest KS distance of a faithful metric (0.1)\n"
"      --report FILE      write the fidelity report as JSON (atomically)\n"
"  -c, --config CONFIG    production's configuration (shd-config(5)) ...\n"
"      --config-out FILE  ... and where to write the shadow's (+ FILE.sync)\n"
"  -o, --output FILE      write FILE (atomically) instead of standard output\n"
"      --force            write the binary stream even to a terminal\n"
"  -q, --quiet            no report table on stderr\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Exit status: 0 faithful, 2 usage, 3 bad input or not faithful (the shadow\n"
"is still written), 4 system error. See shd-shadow(1).\n");
	exit(status);
}

enum { OPT_SEED = 256, OPT_PROFILE, OPT_MAX_KS, OPT_REPORT, OPT_CONFIG_OUT,
       OPT_FORCE };

static const struct option longopts[] = {
	{ "fraction", required_argument, NULL, 'f' },
	{ "strategy", required_argument, NULL, 's' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "profile-metric", required_argument, NULL, OPT_PROFILE },
	{ "max-ks", required_argument, NULL, OPT_MAX_KS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "config", required_argument, NULL, 'c' },
	{ "config-out", required_argument, NULL, OPT_CONFIG_OUT },
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* A number in (0, 1] (or [0, 1] when ZERO_OK) or die (2) naming OPT. */
static double unit_arg(const char *opt, const char *s, int zero_ok)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !(v <= 1) || v < 0 || (!zero_ok && v == 0))
		cli_die(EXIT_USAGE, "%s: expected a number in %s0, 1], got '%s'",
			opt, zero_ok ? "[" : "(", s);
	return v;
}

/* S as a JSON string; bytes of invalid UTF-8 become '?'. NULL: ENOMEM. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *c;

	if (j || !(c = strdup(s)))
		return j;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}


/*
 * Production's configuration: checked by shd_config_load, then the same
 * bytes as JSON (a file changed between the two reads is refused). Dies
 * on failure.
 */
static json_t *load_config(const char *path, struct shd_config *conf)
{
	char err[1024], sha[65];
	json_error_t je;
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	json_t *j;
	int rc;

	if ((rc = shd_config_load(conf, path, err, sizeof(err))))
		cli_die(rc == SHD_EIO && errno != ENOENT && errno != EACCES ?
			EXIT_SYSTEM : EXIT_BADINPUT, "%s", err);
	if (conf->shadow_fraction > 0)
		cli_die(EXIT_BADINPUT, "%s: a shadow's configuration already "
			"(fraction %g of production): give production's",
			path, conf->shadow_fraction);
	if (!(fp = fopen(path, "rb")))
		cli_die(EXIT_SYSTEM, "cannot open '%s':", path);
	do {
		if (len == cap) {
			char *b = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!b)
				cli_die(EXIT_SYSTEM, "out of memory");
			buf = b;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	if (ferror(fp))
		cli_die(EXIT_SYSTEM, "cannot read '%s':", path);
	fclose(fp);
	shd_sha256_hex(buf, len, sha);
	if (strcmp(sha, conf->sha256) != 0)
		cli_die(EXIT_BADINPUT, "%s: changed while it was read; try "
			"again", path);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!j)
		cli_die(EXIT_BADINPUT, "%s:%d:%d: not JSON: %s", path, je.line,
			je.column, je.text);
	return j;
}

/* "resources: kept 1 of 6 resources (...)" for step I. */
static void step_text(const struct shd_step_info *si, char *buf, size_t n)
{
	static const char *const feat[] = {
		"one stratum", "level tertiles",
		"level x variability tertiles",
		"level x variability x daily-cycle tertiles",
	};
	char iv[32] = "";

	switch (si->strategy) {
	case SHD_STRAT_RESOURCES:
		snprintf(buf, n, "resources: kept %zu of %zu (strata: %s, %zu "
			 "non-empty)", si->kept, si->of, feat[si->features],
			 si->strata);
		break;
	case SHD_STRAT_DAYS:
	case SHD_STRAT_WEEKS:
		snprintf(buf, n, "%s: kept %zu of %zu UTC %s",
			 shd_strategy_name[si->strategy], si->kept, si->of,
			 si->strategy == SHD_STRAT_DAYS ? "days" : "weeks");
		break;
	default:
		if (si->interval)
			snprintf(iv, sizeof(iv), ", interval %gs",
				 (double)si->interval / 1000);
		snprintf(buf, n, "downsample: buckets of %zu rows, %zu of %zu "
			 "rows%s", si->bucket, si->kept, si->of, iv);
		break;
	}
}

static json_t *steps_json(const struct shd_step_info *info, size_t ns)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < ns; i++) {
		const struct shd_step_info *si = &info[i];
		json_t *o = json_pack("{s:s, s:f, s:I, s:I}", "strategy",
				      shd_strategy_name[si->strategy],
				      "fraction", si->fraction,
				      "kept", (json_int_t)si->kept,
				      "of", (json_int_t)si->of);
		if (o && si->strategy == SHD_STRAT_RESOURCES) {
			json_object_set_new(o, "features",
					    json_integer((json_int_t)si->features));
			json_object_set_new(o, "strata",
					    json_integer((json_int_t)si->strata));
		}
		if (o && si->strategy == SHD_STRAT_DOWNSAMPLE) {
			json_object_set_new(o, "bucket",
					    json_integer((json_int_t)si->bucket));
			json_object_set_new(o, "interval_ms", si->interval ?
					    json_integer(si->interval) :
					    json_null());
		}
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static void cell(double v, int pct)
{
	if (isnan(v))
		fprintf(stderr, " %8s", "-");
	else if (pct)
		fprintf(stderr, " %+7.1f%%", 100 * v);
	else
		fprintf(stderr, " %8.3f", v);
}

/* "  0.53 / 0.49" */
static void pair(const double v[2])
{
	fputs("  ", stderr);
	for (int i = 0; i < 2; i++) {
		if (isnan(v[i]))
			fprintf(stderr, "%4s", "-");
		else
			fprintf(stderr, "%4.2f", v[i]);
		fputs(i ? "" : " / ", stderr);
	}
}

/* The report table on stderr. */
static void table(const struct shd_fidelity *fid)
{
	fprintf(stderr, "%-16s %8s %8s %8s %8s  %-11s  %s\n", "metric", "KS",
		"p50 err", "p95 err", "p99 err", "daily p/s", "weekly p/s");
	for (size_t k = 0; k < fid->nmetric; k++) {
		const struct shd_fid_metric *m = &fid->m[k];

		fprintf(stderr, "%-16.16s", m->name);
		cell(m->ks, 0);
		for (int q = 0; q < 3; q++)
			cell(m->qerr[q], 1);
		pair(m->daily);
		pair(m->weekly);
		fprintf(stderr, "%s\n", m->ok ? "" : "  <- KS too large");
	}
}

/* "cpu (KS 0.31), mem (KS 0.2)" */
static void failed_list(const struct shd_fidelity *fid, char *buf, size_t n)
{
	size_t l = 0;

	buf[0] = 0;
	for (size_t k = 0; k < fid->nmetric && l < n; k++)
		if (!fid->m[k].ok)
			l += (size_t)snprintf(buf + l, n - l, "%s%s (KS %.3g)",
					      l ? ", " : "", fid->m[k].name,
					      fid->m[k].ks);
}

int main(int argc, char **argv)
{
	const char *input = "-", *output = NULL, *report = NULL;
	const char *config = NULL, *config_out = NULL, *profile = NULL;
	const char *strategy = "resources";
	double fraction = 0.1, max_ks = 0.1;
	uint64_t seed = 1;
	int strat[SHD_MAX_STEPS], force = 0, quiet = 0, c, rc;
	int status = EXIT_OK, fd = STDOUT_FILENO, metric = 0;
	size_t ns;
	struct shd_step_info info[SHD_MAX_STEPS];
	struct shd_util prod, sh;
	struct shd_fidelity fid = { 0 };
	struct shd_config conf = { 0 };
	struct shd_reader *r = NULL;
	struct shd_writer *w = NULL;
	json_t *prod_json = NULL, *shadow_conf = NULL, *rep = NULL;
	char tmp[4096], err[1024], num[64], *text = NULL;

	cli_init(argv[0]);
	shd_util_init(&prod);
	shd_util_init(&sh);
	while ((c = getopt_long(argc, argv, "f:s:c:o:qhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'f': fraction = unit_arg("--fraction", optarg, 0); break;
		case 's': strategy = optarg; break;
		case OPT_SEED:
			seed = cli_size_arg("--seed", optarg, 0, SIZE_MAX);
			break;
		case OPT_PROFILE: profile = optarg; break;
		case OPT_MAX_KS: max_ks = unit_arg("--max-ks", optarg, 1); break;
		case OPT_REPORT: report = optarg; break;
		case 'c': config = optarg; break;
		case OPT_CONFIG_OUT: config_out = optarg; break;
		case 'o': output = optarg; break;
		case OPT_FORCE: force = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_die(EXIT_USAGE, "one STREAM at most (hint: cat a.shd b.shd "
			"| shd-shadow)");
	if (argc == 1)
		input = argv[0];
	if (shd_strategy_parse(strategy, strat, &ns, err, sizeof(err)))
		cli_die(EXIT_USAGE, "--strategy: %s", err);
	if (!config != !config_out)
		cli_die(EXIT_USAGE, "-c and --config-out go together");
	/* cli_binary_stdout's hint names -f, which is --fraction here */
	if (!output && !force && isatty(STDOUT_FILENO))
		cli_die(EXIT_USAGE, "will not write a binary stream to a "
			"terminal\nhint: pipe it (| shd-cat), use -o FILE, or "
			"--force");

	/* everything is read and checked before anything is written */
	if (config) {
		prod_json = load_config(config, &conf);
		/* the shadow's file lives elsewhere: no relative paths */
		if ((rc = shd_config_absolute(prod_json, config)))
			cli_die(EXIT_SYSTEM, rc == SHD_ENOMEM ? "out of memory"
				: "cannot resolve the directory of '%s':",
				config);
	}
	rc = shd_reader_open(&r, cli_open_in(input), input);
	if (!rc)
		rc = shd_util_read(&prod, r, input);
	if (rc) {
		cli_warn("%s", prod.err[0] ? prod.err : r ? shd_reader_errmsg(r) :
			 shd_strerror(rc));
		status = cli_status(rc);
		goto out;
	}
	if (!prod.n) {
		cli_warn("%s: no rows: nothing to sample", input);
		status = EXIT_BADINPUT;
		goto out;
	}
	if (profile && (metric = shd_util_metric(&prod, profile)) < 0) {
		cli_warn("--profile-metric: no metric '%s' in %s", profile, input);
		status = EXIT_USAGE;
		goto out;
	}
	if ((rc = shd_shadow_run(&sh, &prod, strat, ns, fraction, seed,
				 (size_t)metric, info))) {
		cli_warn("%s", sh.err[0] ? sh.err : shd_strerror(rc));
		status = rc == SHD_ENOMEM ? EXIT_SYSTEM : EXIT_BADINPUT;
		goto out;
	}
	if (shd_fidelity_compute(&fid, &prod, &sh, max_ks))
		cli_die(EXIT_SYSTEM, "out of memory");

	shd_schema_set_meta(&sh.schema, "producer", "shd-shadow " SHD_VERSION);
	shd_schema_set_meta(&sh.schema, "source", input);
	snprintf(num, sizeof(num), "%.17g", fraction);
	shd_schema_set_meta(&sh.schema, "shadow.fraction", num);
	shd_schema_set_meta(&sh.schema, "shadow.strategy", strategy);
	snprintf(num, sizeof(num), "%" PRIu64, seed);
	shd_schema_set_meta(&sh.schema, "shadow.seed", num);

	/* the stream */
	if (output && (fd = shd_atomic_open(output, tmp, sizeof(tmp))) < 0)
		cli_die(EXIT_SYSTEM, "cannot create '%s':", output);
	rc = shd_writer_open(&w, fd, &sh.schema, NULL);
	if (!rc)
		rc = shd_util_write(&sh, w);
	if (!rc)
		rc = shd_writer_close(w);
	if (rc || (output && shd_atomic_commit(fd, tmp, output) < 0)) {
		cli_warn("cannot write %s: %s", output ? output :
			 "standard output", rc && w ? shd_writer_errmsg(w) :
			 strerror(errno));
		if (rc && output)
			shd_atomic_abort(fd, tmp);
		status = EXIT_SYSTEM;
		goto out;
	}

	/* the configuration */
	if (config_out) {
		if (!(shadow_conf = shd_config_shadow(prod_json, fraction,
						       conf.sha256)))
			cli_die(EXIT_SYSTEM, "out of memory");
		/* not while shd-sync reads or rewrites it (its lock) */
		int lockfd;
		if (shd_sync_lock(config_out, 1, 60000, &lockfd, err,
				  sizeof(err)))
			cli_die(EXIT_SYSTEM, "cannot lock '%s': %s", config_out,
				err);
		rc = shd_shadow_write(config_out, shadow_conf, prod_json,
				      conf.sha256, err, sizeof(err));
		close(lockfd);
		if (rc) {
			cli_warn("cannot write %s", err);
			status = EXIT_SYSTEM;
			goto out;
		}
	}

	/* the report */
	if (report) {
		rep = json_pack("{s:i, s:{s:o, s:I, s:I}, s:{s:f, s:s, s:I, "
				"s:I, s:I}, s:o}", "shd_shadow_report", 1,
				"production", "source", jstr(input),
				"rows", (json_int_t)prod.n,
				"resources", (json_int_t)prod.nres,
				"shadow", "fraction", fraction,
				"strategy", strategy, "seed", (json_int_t)seed,
				"rows", (json_int_t)sh.n,
				"resources", (json_int_t)sh.nres,
				"steps", steps_json(info, ns));
		json_t *fj = shd_fidelity_json(&fid), *names = json_array();
		for (size_t k = 0; names && k < sh.nres; k++)
			if (json_array_append_new(names, jstr(
					shd_util_resource(&sh, k)))) {
				json_decref(names);
				names = NULL;
			}
		if (!rep || !fj || !names || json_object_set_new(
			    json_object_get(rep, "shadow"), "resource_names",
			    names) || json_object_update(rep, fj) ||
		    !(text = json_dumps(rep, JSON_INDENT(2) |
					JSON_PRESERVE_ORDER |
					JSON_REAL_PRECISION(10))))
			cli_die(EXIT_SYSTEM, "out of memory");
		json_decref(fj);
		size_t l = strlen(text);
		char *t2 = realloc(text, l + 2);
		if (!t2)
			cli_die(EXIT_SYSTEM, "out of memory");
		text = t2;
		memcpy(text + l, "\n", 2);
		if (shd_atomic_write(report, text, strlen(text)) < 0) {
			cli_warn("cannot write '%s':", report);
			status = EXIT_SYSTEM;
			goto out;
		}
	}

	if (!quiet) {
		for (size_t i = 0; i < ns; i++) {
			step_text(&info[i], err, sizeof(err));
			cli_warn("%s", err);
		}
		cli_warn("shadow: %zu of %zu rows, %zu of %zu resources",
			 sh.n, prod.n, sh.nres, prod.nres);
		table(&fid);
	}
	failed_list(&fid, err, sizeof(err));
	if (fid.faithful) {
		if (!quiet)
			cli_warn("faithful: every metric's KS distance is at "
				 "most %g", max_ks);
	} else {
		cli_warn("not faithful: %s above --max-ks %g (the shadow is "
			 "written and complete)", err, max_ks);
		status = EXIT_BADINPUT;
	}
out:
	free(text);
	json_decref(rep);
	json_decref(shadow_conf);
	json_decref(prod_json);
	if (config)
		shd_config_release(&conf);
	shd_fidelity_release(&fid);
	shd_writer_free(w);
	shd_reader_free(r);
	shd_util_release(&sh);
	shd_util_release(&prod);
	if (cli_close_stdout() != EXIT_OK && status == EXIT_OK)
		status = EXIT_SYSTEM;
	return status;
}
