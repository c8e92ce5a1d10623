/*
 * shd-ingest - read utilization exports (CSV/TSV, Prometheus and CloudWatch
 * JSON; plain, compressed or inside archives) and write one .shd stream in
 * canonical order (by resource, then time) to stdout or -o FILE.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shd.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-ingest [options] [FILE...]\n"
"Read exports (CSV, TSV, Prometheus or CloudWatch JSON; plain, .gz, .xz,\n"
".zst, .bz2, or archives such as .tar.gz and .zip) and write a .shd stream.\n"
"With no FILE, or FILE '-', read standard input.\n"
"\n"
"  -F, --format FMT       csv, tsv, prometheus or cloudwatch (default: detect)\n"
"  -t, --time-col NAME    the time column (default: time, timestamp, date, ...)\n"
"  -k, --key-col NAME     the resource column (default: resource, instance, ...)\n"
"      --key NAME         resource name for inputs without a key column\n"
"                         (default: the file or member name without extension)\n"
"  -m, --metric NEW=OLD   keep column OLD as metric NEW (repeatable; then only\n"
"                         these are kept, in this order); for JSON,\n"
"                         --metric NAME names the metric of every series\n"
"      --key-label LABEL  Prometheus label that names the resource (instance)\n"
"  -u, --unit NAME=UNIT   record UNIT for metric NAME (%%, bytes, MiB, ...)\n"
"      --start TIME       no time column: the first row's time ...\n"
"      --step DUR         ... and the step between rows (300, 5m, 1h)\n"
"  -i, --interval DUR     put each resource on a regular grid of DUR\n"
"  -a, --agg HOW          combine rows in one slot: mean (default), max, min,\n"
"                         last, sum\n"
"      --skip-bad         skip bad rows (counted and reported on stderr)\n"
"      --shard K/N        keep the resources of shard K of N only (a stable\n"
"                         hash of the name: shards are disjoint, their\n"
"                         concatenation is the whole fleet)\n"
"  -o, --output FILE      write FILE (atomically) instead of standard output\n"
"  -l, --level N          zstd level, 1 (fast) to 19 (small); default 3\n"
"  -f, --force            write the binary stream even to a terminal\n"
"  -q, --quiet            no progress or summary on stderr\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 bad input (file:line named), 4 system error.\n"
"See shd-ingest(1).\n");
	exit(status);
}

enum { OPT_KEY = 256, OPT_KEY_LABEL, OPT_START, OPT_STEP, OPT_SKIP_BAD,
       OPT_SHARD };

static const struct option longopts[] = {
	{ "format", required_argument, NULL, 'F' },
	{ "time-col", required_argument, NULL, 't' },
	{ "key-col", required_argument, NULL, 'k' },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "metric", required_argument, NULL, 'm' },
	{ "key-label", required_argument, NULL, OPT_KEY_LABEL },
	{ "unit", required_argument, NULL, 'u' },
	{ "start", required_argument, NULL, OPT_START },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "interval", required_argument, NULL, 'i' },
	{ "agg", required_argument, NULL, 'a' },
	{ "skip-bad", no_argument, NULL, OPT_SKIP_BAD },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "output", required_argument, NULL, 'o' },
	{ "level", required_argument, NULL, 'l' },
	{ "force", no_argument, NULL, 'f' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct ingest {
	struct shd_acc *acc;
	struct shd_parse_opts popts;
	const char *key;	/* --key, or NULL for the member name */
	int format;
	int progress;
	struct shd_diag diag;
	int bad;		/* inputs that failed */
	int io_errors;		/* ... of them because reading failed */
	int row_errors;		/* ... of them on a row --skip-bad would skip */
	unsigned long members;
};

/*
 * Is MSG about one row ("file.csv:17: ...", not "file.csv:1: header: ..."
 * nor "file.csv.gz:17: cannot read: ...")?
 * Only then does --skip-bad help, and only then is it hinted.
 */
static int is_row_error(const char *msg)
{
	const char *p = strstr(msg, ": ");
	const char *colon = p ? memrchr(msg, ':', (size_t)(p - msg)) : NULL;

	if (!colon || colon == msg || !strchr("0123456789", colon[1]))
		return 0;
	return strncmp(p + 2, "header", 6) != 0 &&
	       strncmp(p + 2, "cannot read", 11) != 0;
}

/* What a parse of member NAME ended with (RC): warned and counted. */
static int parsed(struct ingest *in, int rc)
{
	if (in->progress)
		fprintf(stderr, "\r\033[K");
	if (rc == SHD_ENOMEM)
		return rc;
	if (rc) {
		cli_warn("%s", in->diag.msg[0] ? in->diag.msg : shd_strerror(rc));
		in->bad++;
		in->io_errors += rc == SHD_EIO;
		in->row_errors += is_row_error(in->diag.msg);
	}
	return 0;
}

/* Options of one member, and its start counted and shown. */
static struct shd_parse_opts starting(struct ingest *in, const char *name,
				      const char *key, size_t len)
{
	struct shd_parse_opts o = in->popts;

	o.default_key = in->key ? in->key : key;
	in->members++;
	if (in->progress) {
		if (len)
			fprintf(stderr, "\r%s: reading %s (%zu KiB)\033[K",
				cli_prog, name, len / 1024);
		else
			fprintf(stderr, "\r%s: reading %s\033[K", cli_prog,
				name);
	}
	in->diag.msg[0] = '\0';
	return o;
}

/* Is the text at BUF (LEN bytes) JSON: its first byte past blanks? */
static int json_like(const char *buf, size_t len)
{
	size_t k = 0;

	while (k < len && k < 4096 && strchr(" \t\r\n", buf[k]))
		k++;
	return k < len && (buf[k] == '{' || buf[k] == '[');
}

/* Called for every file or archive member: parse it into the accumulator. */
static int member(void *ctx, const char *buf, size_t len, const char *name,
		  const char *key)
{
	struct ingest *in = ctx;
	struct shd_parse_opts o;
	int fmt = in->format ? in->format : (int)shd_format_detect(buf, len);
	int rc;

	if (!in->format && fmt == SHD_FMT_DELIMITED && json_like(buf, len)) {
		cli_warn("%s: JSON, but neither a Prometheus nor a CloudWatch "
			 "answer (hint: --format forces one)", name);
		in->bad++;
		return 0;
	}
	o = starting(in, name, key, len);
	switch (fmt) {
	case SHD_FMT_PROMETHEUS:
		rc = shd_parse_prometheus(in->acc, buf, len, name, &o, &in->diag);
		break;
	case SHD_FMT_CLOUDWATCH:
		rc = shd_parse_cloudwatch(in->acc, buf, len, name, &o, &in->diag);
		break;
	default:
		rc = shd_parse_delimited(in->acc, buf, len, name, &o, &in->diag);
		break;
	}
	return parsed(in, rc);
}

/*
 * Called for standard input or a pipe that holds no archive: delimited
 * text is parsed as it comes, so that it need not fit in memory; JSON is
 * read whole first (bounded at 4 GiB).
 */
static int pieces(void *ctx, struct shd_pieces *pc, const char *name,
		  const char *key)
{
	struct ingest *in = ctx;
	struct shd_parse_opts o;
	char *buf;
	size_t len;
	int rc;

	if (in->format ? in->format != SHD_FMT_DELIMITED
		       : json_like(pc->head, pc->headlen)) {
		if ((rc = shd_pieces_all(pc, &buf, &len)) == SHD_ENOMEM)
			return rc;
		if (rc) {
			cli_warn("%s: %s", name, pc->err);
			in->bad++;
			in->io_errors += rc == SHD_EIO;
			return 0;
		}
		rc = member(ctx, buf, len, name, key);
		free(buf);
		return rc;
	}
	o = starting(in, name, key, 0);
	rc = shd_parse_delimited_pieces(in->acc, pc, name, &o, &in->diag);
	return parsed(in, rc);
}

static void add_rename(struct shd_parse_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct shd_rename *r;

	if (!eq) {
		o->metric = arg;
		return;
	}
	if (eq == arg || !eq[1])
		cli_die(EXIT_USAGE, "--metric: expected NEW=OLD, got '%s'", arg);
	r = realloc((void *)o->renames, (o->nrenames + 1) * sizeof(*r));
	if (!r)
		cli_die(EXIT_SYSTEM, "out of memory");
	r[o->nrenames].to = strndup(arg, (size_t)(eq - arg));
	r[o->nrenames].from = eq + 1;
	if (!r[o->nrenames].to)
		cli_die(EXIT_SYSTEM, "out of memory");
	o->renames = r;
	o->nrenames++;
}

int main(int argc, char **argv)
{
	struct ingest in = { 0 };
	struct shd_acc_opts aopts = { 0 };
	struct shd_writer_opts wopts = { 0 };
	struct shd_writer *w = NULL;
	struct shd_schema schema;
	const char *output = NULL, *interval_arg = NULL;
	const char **units = NULL;
	size_t nunits = 0;
	int force = 0, quiet = 0, have_step = 0, c, rc;
	int status = EXIT_OK, fd = STDOUT_FILENO;
	char tmp[4096], err[512];

	cli_init(argv[0]);
	shd_schema_init(&schema);
	while ((c = getopt_long(argc, argv, "F:t:k:m:u:i:a:o:l:fqhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'F':
			in.format = shd_format_parse(optarg);
			if (in.format < 0)
				cli_die(EXIT_USAGE, "--format: unknown format "
					"'%s' (csv, tsv, prometheus, cloudwatch)",
					optarg);
			if (strcmp(optarg, "tsv") == 0)
				in.popts.delim = '\t';
			break;
		case 't': in.popts.time_col = optarg; break;
		case 'k': in.popts.key_col = optarg; break;
		case OPT_KEY:
			if (!*optarg)
				cli_die(EXIT_USAGE, "--key: empty name");
			in.key = optarg;
			break;
		case 'm': add_rename(&in.popts, optarg); break;
		case OPT_KEY_LABEL: in.popts.key_label = optarg; break;
		case 'u': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				cli_die(EXIT_USAGE, "--unit: expected NAME=UNIT, "
					"got '%s'", optarg);
			const char **u = realloc(units, (nunits + 1) * sizeof(*u));
			if (!u)
				cli_die(EXIT_SYSTEM, "out of memory");
			units = u;
			units[nunits++] = optarg;
			break;
		}
		case OPT_START:
			in.popts.start = cli_time_arg("--start", optarg);
			in.popts.has_start = 1;
			break;
		case OPT_STEP:
			in.popts.step = cli_duration_arg("--step", optarg);
			have_step = 1;
			break;
		case 'i':
			interval_arg = optarg;
			aopts.interval = cli_duration_arg("--interval", optarg);
			break;
		case 'a':
			if (shd_agg_parse(optarg) < 0)
				cli_die(EXIT_USAGE, "--agg: unknown aggregate "
					"'%s' (mean, max, min, last, sum)", optarg);
			aopts.agg = (enum shd_agg)shd_agg_parse(optarg);
			break;
		case OPT_SKIP_BAD: in.diag.skip_bad = 1; break;
		case OPT_SHARD:
			if (shd_shard_parse(optarg, &aopts.shard,
					    &aopts.nshards))
				cli_die(EXIT_USAGE, "--shard: '%s' is not K/N "
					"(1 <= K <= N <= 65536)", optarg);
			break;
		case 'o': output = optarg; break;
		case 'l':
			wopts.level = (int)cli_size_arg("--level", optarg, 1, 19);
			break;
		case 'f': force = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (in.popts.has_start != have_step)
		cli_die(EXIT_USAGE, "--start and --step go together");
	if (in.popts.has_start && in.popts.time_col)
		cli_die(EXIT_USAGE, "--time-col and --start exclude each other");
	if (!output)
		cli_binary_stdout(force);

	in.acc = shd_acc_new();
	if (!in.acc)
		cli_die(EXIT_SYSTEM, "out of memory");
	in.progress = cli_progress_wanted(quiet);
	char *stdin_only[] = { "-" };
	char **inputs = argc ? argv : stdin_only;
	int ninputs = argc ? argc : 1;
	for (int k = 0; k < ninputs; k++) {
		err[0] = '\0';
		rc = shd_input_pieces(inputs[k], member, pieces, &in, err,
				      sizeof(err));
		if (rc == SHD_ENOMEM)
			cli_die(EXIT_SYSTEM, "out of memory");
		if (rc) {
			/* A missing or unreadable input is the user's to fix. */
			int user = errno == ENOENT || errno == EACCES ||
				   errno == EISDIR || errno == ENOTDIR;
			cli_warn("%s", err[0] ? err : shd_strerror(rc));
			if (status == EXIT_OK)
				status = rc == SHD_EIO && !user ? EXIT_SYSTEM :
					 EXIT_BADINPUT;
		}
	}
	if (in.diag.nbad) {
		cli_warn("skipped %llu bad row%s (the first below)",
			 (unsigned long long)in.diag.nbad,
			 in.diag.nbad == 1 ? "" : "s");
		for (int k = 0; k < SHD_DIAG_KEEP && k < (int)in.diag.nbad; k++)
			fprintf(stderr, "  %s\n", in.diag.first[k]);
	}
	if (in.io_errors && status == EXIT_OK)
		status = EXIT_SYSTEM;
	if (in.bad && status == EXIT_OK)
		status = EXIT_BADINPUT;
	if (status != EXIT_OK) {
		cli_warn("no stream written%s", in.row_errors && !in.diag.skip_bad ?
			 "\nhint: --skip-bad drops bad rows and goes on" : "");
		goto out;
	}

	if (shd_acc_check(in.acc, &aopts) < 0) {
		cli_warn("%s", shd_acc_errmsg(in.acc));
		cli_warn("no stream written");
		status = EXIT_BADINPUT;
		goto out;
	}
	if (shd_acc_schema(in.acc, &schema) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	shd_schema_set_meta(&schema, "producer", "shd-ingest " SHD_VERSION);
	{
		/* "source": the inputs, as given (cut short past 1 KiB). */
		char src[1024];
		size_t k = 0;
		src[0] = '\0';
		for (int j = 0; j < ninputs && k < sizeof(src) - 1; j++)
			k += (size_t)snprintf(src + k, sizeof(src) - k, "%s%s",
					      j ? " " : "", inputs[j]);
		shd_schema_set_meta(&schema, "source", src);
	}
	for (size_t k = 0; k < nunits; k++) {
		const char *eq = strchr(units[k], '=');
		char *name = strndup(units[k], (size_t)(eq - units[k]));
		int j = name ? shd_schema_find(&schema, name) : -1;
		if (j < 2) {
			cli_warn("--unit: no metric '%s' in the input", name);
			free(name);
			status = EXIT_USAGE;
			goto out;
		}
		free(name);
		free(schema.cols[j].unit);
		schema.cols[j].unit = strdup(eq + 1);
		if (!schema.cols[j].unit)
			cli_die(EXIT_SYSTEM, "out of memory");
	}
	if (interval_arg) {
		char ms[32];
		snprintf(ms, sizeof(ms), "%lld", (long long)aopts.interval);
		shd_schema_set_meta(&schema, "interval_ms", ms);
		shd_schema_set_meta(&schema, "agg",
				    (const char *[]){ "mean", "max", "min",
						      "last", "sum" }[aopts.agg]);
	}
	if (output) {
		fd = shd_atomic_open(output, tmp, sizeof(tmp));
		if (fd < 0)
			cli_die(EXIT_SYSTEM, "cannot create '%s':", output);
	}
	rc = shd_writer_open(&w, fd, &schema, &wopts);
	if (!rc)
		rc = shd_acc_write(in.acc, w, &aopts);
	if (!rc)
		rc = shd_writer_close(w);
	if (rc) {
		const char *why = *shd_acc_errmsg(in.acc) ? shd_acc_errmsg(in.acc) :
				  w ? shd_writer_errmsg(w) : shd_strerror(rc);
		if (rc == SHD_EIO && !w)
			why = strerror(errno);
		cli_warn("cannot write %s: %s", output ? output :
			 "standard output", why);
		status = cli_status(rc);
		if (output)
			shd_atomic_abort(fd, tmp);
		goto out;
	}
	if (output && shd_atomic_commit(fd, tmp, output) < 0) {
		cli_warn("cannot write '%s':", output);
		status = EXIT_SYSTEM;
		goto out;
	}
	if (!quiet && in.progress)
		fprintf(stderr, "%s: %llu rows, %zu resource%s, %llu bytes\n",
			cli_prog, (unsigned long long)shd_writer_rows(w),
			shd_acc_nseries(in.acc),
			shd_acc_nseries(in.acc) == 1 ? "" : "s",
			(unsigned long long)shd_writer_bytes(w));
out:
	shd_writer_free(w);
	shd_schema_release(&schema);
	shd_acc_free(in.acc);
	for (size_t k = 0; k < in.popts.nrenames; k++)
		free((void *)in.popts.renames[k].to);
	free((void *)in.popts.renames);
	free(units);
	if (cli_close_stdout() != EXIT_OK && status == EXIT_OK)
		status = EXIT_SYSTEM;
	return status;
}
