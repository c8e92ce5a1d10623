/*
 * shd-cat - print .shd streams as CSV, TSV or JSON lines, or describe them
 * (--info: schema, metadata, rows, per resource and per column statistics),
 * or write them as OpenMetrics text for promtool's backfill
 * (--openmetrics). Reads the FILEs (or stdin) one after another, like cat.
 */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "openmetrics.h"
#include "shd.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-cat [options] [FILE...]\n"
"Print .shd streams as text, or describe them. With no FILE, or '-', read\n"
"standard input.\n"
"\n"
"      --csv              comma-separated values with a header (default)\n"
"      --tsv              tab-separated values with a header\n"
"      --json             one JSON object per row (NaN is null)\n"
"      --info             schema, metadata, rows, per resource time range and\n"
"                         count, per column min/mean/max and NaN count\n"
"      --openmetrics      OpenMetrics text for 'promtool tsdb\n"
"                         create-blocks-from openmetrics': a gauge shd_NAME\n"
"                         per metric column, resource=\"...\" labels, NaN\n"
"                         skipped (time, resource and f64/f32 columns only)\n"
"  -e, --epoch            print time as Unix seconds (default ISO 8601 UTC)\n"
"  -r, --resource NAME    only rows of resource NAME (repeatable)\n"
"  -c, --columns A,B,...  only these columns, in this order\n"
"      --from TIME        only rows at or after TIME\n"
"      --to TIME          only rows before TIME\n"
"      --shard K/N        only rows of the resources of shard K of N (the\n"
"                         stable hash shd-ingest --shard uses)\n"
"  -H, --no-header        no header line (CSV, TSV)\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"TIME is ISO 8601, 'YYYY-MM-DD HH:MM:SS' (UTC) or Unix seconds.\n"
"Exit status: 0 ok, 2 usage, 3 bad input (block named), 4 system error.\n"
"See shd-cat(1) and shd-format(5).\n");
	exit(status);
}

enum { OPT_CSV = 256, OPT_TSV, OPT_JSON, OPT_INFO, OPT_OM, OPT_FROM, OPT_TO,
       OPT_SHARD };

static const struct option longopts[] = {
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "tsv", no_argument, NULL, OPT_TSV },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "info", no_argument, NULL, OPT_INFO },
	{ "openmetrics", no_argument, NULL, OPT_OM },
	{ "epoch", no_argument, NULL, 'e' },
	{ "resource", required_argument, NULL, 'r' },
	{ "columns", required_argument, NULL, 'c' },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "no-header", no_argument, NULL, 'H' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

enum mode { CSV, TSV, JSON, INFO, OPENMETRICS };

struct opts {
	enum mode mode;
	int epoch, header;
	const char **resources;
	size_t nresources;
	unsigned shard, nshards;	/* --shard; nshards 0: all */
	char *columns;		/* comma list, or NULL for all */
	int has_from, has_to;
	int64_t from, to;
};

/* Per column statistics for --info. */
struct colstat {
	double min, max, sum;
	uint64_t n, nan;
};

/* Per resource statistics for --info. */
struct resstat {
	int64_t first, last;
	uint64_t rows;
};

struct cat {
	const struct opts *o;
	const struct shd_schema *schema;
	int tcol, kcol;			/* time and key column, or -1 */
	size_t nsel;
	int *sel;			/* (nsel) columns to print */
	unsigned char *keep;		/* per key id: 0 unknown, 1 no, 2 yes */
	size_t nkeep;
	struct colstat *cs;
	struct resstat *rs;
	size_t nrs;
	uint64_t rows, blocks;
	int printed_header;
};

static void put_quoted(const char *s, char delim)
{
	if (!strpbrk(s, "\"\r\n") && !strchr(s, delim)) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void put_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void put_time(int64_t ms, int epoch)
{
	char buf[40];

	if (epoch) {
		if (ms % 1000 == 0)
			printf("%lld", (long long)(ms / 1000));
		else
			printf("%s%lld.%03lld", ms < 0 ? "-" : "",
			       (long long)llabs(ms / 1000),
			       (long long)llabs(ms % 1000));
		return;
	}
	shd_time_format(ms, buf, sizeof(buf));
	fputs(buf, stdout);
}

static void put_value(const struct shd_frame *f, struct shd_dict *d,
		      size_t j, size_t i, const struct cat *c)
{
	char buf[40];
	int json = c->o->mode == JSON;

	switch (f->types[j]) {
	case SHD_TIME:
		json = json && !c->o->epoch;	/* epoch seconds are a number */
		if (json)
			putchar('"');
		put_time(SHD_I64COL(f, j)[i], c->o->epoch);
		if (json)
			putchar('"');
		break;
	case SHD_KEY: {
		const char *s = shd_dict_str(d, SHD_KEYCOL(f, j)[i], NULL);
		if (json)
			put_json_string(s);
		else
			put_quoted(s, c->o->mode == TSV ? '\t' : ',');
		break;
	}
	case SHD_F64:
	case SHD_F32: {
		double v = f->types[j] == SHD_F64 ? SHD_F64COL(f, j)[i] :
			   (double)SHD_F32COL(f, j)[i];
		if (json && !isfinite(v))
			fputs(isnan(v) ? "null" : v > 0 ? "1e999" : "-1e999",
			      stdout);
		else if (!json && isnan(v))
			;	/* an empty cell: what ingest reads as NaN */
		else
			fwrite(buf, 1, shd_format_double(v, buf), stdout);
		break;
	}
	case SHD_I64:
		printf("%lld", (long long)SHD_I64COL(f, j)[i]);
		break;
	case SHD_U8:
		printf("%u", SHD_U8COL(f, j)[i]);
		break;
	}
}

/* Should rows of key ID be printed? Looked up once per key. */
static int keep_key(struct cat *c, struct shd_dict *d, uint32_t id)
{
	if (!c->o->nresources && !c->o->nshards)
		return 1;
	if (id >= c->nkeep) {
		size_t n = c->nkeep ? c->nkeep : 64;
		while (n <= id)
			n *= 2;
		unsigned char *k = realloc(c->keep, n);
		if (!k)
			cli_die(EXIT_SYSTEM, "out of memory");
		memset(k + c->nkeep, 0, n - c->nkeep);
		c->keep = k;
		c->nkeep = n;
	}
	if (!c->keep[id]) {
		size_t len;
		const char *s = shd_dict_str(d, id, &len);
		c->keep[id] = c->o->nresources ? 1 : 2;
		for (size_t k = 0; k < c->o->nresources; k++)
			if (strcmp(s, c->o->resources[k]) == 0)
				c->keep[id] = 2;
		if (c->o->nshards &&
		    shd_shard_of(s, len, c->o->nshards) != c->o->shard)
			c->keep[id] = 1;
	}
	return c->keep[id] == 2;
}

/* Resolves --columns against the schema; dies (2) naming an unknown one. */
static void select_columns(struct cat *c, const char *file)
{
	const struct shd_schema *s = c->schema;

	c->sel = calloc(s->ncols + 1, sizeof(*c->sel));
	if (!c->sel)
		cli_die(EXIT_SYSTEM, "out of memory");
	if (!c->o->columns) {
		for (size_t j = 0; j < s->ncols; j++)
			c->sel[c->nsel++] = (int)j;
		return;
	}
	char *list = strdup(c->o->columns), *save = NULL;
	for (char *n = strtok_r(list, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		int j = shd_schema_find(s, n);
		if (j < 0)
			cli_die(EXIT_USAGE, "%s: no column '%s' (see shd-cat "
				"--info)", file, n);
		int *sel = realloc(c->sel, (c->nsel + 1) * sizeof(*sel));
		if (!sel)
			cli_die(EXIT_SYSTEM, "out of memory");
		c->sel = sel;
		c->sel[c->nsel++] = j;
	}
	free(list);
}

static void print_header(struct cat *c)
{
	if (c->printed_header || !c->o->header || c->o->mode == JSON)
		return;
	for (size_t k = 0; k < c->nsel; k++) {
		if (k)
			putchar(c->o->mode == TSV ? '\t' : ',');
		put_quoted(c->schema->cols[c->sel[k]].name,
			   c->o->mode == TSV ? '\t' : ',');
	}
	putchar('\n');
	c->printed_header = 1;
}

static void print_rows(struct cat *c, const struct shd_frame *f,
		       struct shd_dict *d)
{
	char sep = c->o->mode == TSV ? '\t' : ',';

	for (size_t i = 0; i < f->nrows; i++) {
		if (c->kcol >= 0 && !keep_key(c, d, SHD_KEYCOL(f, c->kcol)[i]))
			continue;
		if (c->tcol >= 0) {
			int64_t t = SHD_I64COL(f, c->tcol)[i];
			if ((c->o->has_from && t < c->o->from) ||
			    (c->o->has_to && t >= c->o->to))
				continue;
		}
		if (c->o->mode == JSON)
			putchar('{');
		for (size_t k = 0; k < c->nsel; k++) {
			size_t j = (size_t)c->sel[k];
			if (c->o->mode == JSON) {
				if (k)
					putchar(',');
				put_json_string(c->schema->cols[j].name);
				putchar(':');
			} else if (k) {
				putchar(sep);
			}
			put_value(f, d, j, i, c);
		}
		fputs(c->o->mode == JSON ? "}\n" : "\n", stdout);
	}
}

static void gather(struct cat *c, const struct shd_frame *f,
		   struct shd_dict *d)
{
	for (size_t i = 0; i < f->nrows; i++) {
		if (c->kcol >= 0 && !keep_key(c, d, SHD_KEYCOL(f, c->kcol)[i]))
			continue;
		int64_t t = c->tcol >= 0 ? SHD_I64COL(f, c->tcol)[i] : 0;
		if (c->tcol >= 0 && ((c->o->has_from && t < c->o->from) ||
				     (c->o->has_to && t >= c->o->to)))
			continue;
		c->rows++;
		if (c->kcol >= 0) {
			uint32_t id = SHD_KEYCOL(f, c->kcol)[i];
			if (id >= c->nrs) {
				size_t n = c->nrs ? c->nrs * 2 : 64;
				while (n <= id)
					n *= 2;
				struct resstat *rs = realloc(c->rs, n * sizeof(*rs));
				if (!rs)
					cli_die(EXIT_SYSTEM, "out of memory");
				memset(rs + c->nrs, 0, (n - c->nrs) * sizeof(*rs));
				c->rs = rs;
				c->nrs = n;
			}
			struct resstat *r = &c->rs[id];
			if (!r->rows++ || t < r->first)
				r->first = t;
			if (r->rows == 1 || t > r->last)
				r->last = t;
		}
		for (size_t j = 0; j < f->ncols; j++) {
			double v;
			switch (f->types[j]) {
			case SHD_F64: v = SHD_F64COL(f, j)[i]; break;
			case SHD_F32: v = SHD_F32COL(f, j)[i]; break;
			case SHD_I64: v = (double)SHD_I64COL(f, j)[i]; break;
			case SHD_U8: v = SHD_U8COL(f, j)[i]; break;
			default: continue;
			}
			struct colstat *s = &c->cs[j];
			if (isnan(v)) {
				s->nan++;
				continue;
			}
			if (!s->n++ || v < s->min)
				s->min = v;
			if (s->n == 1 || v > s->max)
				s->max = v;
			s->sum += v;
		}
	}
}

static void print_info(struct cat *c, const char *name, struct shd_dict *d)
{
	const struct shd_schema *s = c->schema;
	char a[40], b[40], x[40];

	printf("stream: %s\n", name);
	printf("rows: %llu\nblocks: %llu\n", (unsigned long long)c->rows,
	       (unsigned long long)c->blocks);
	printf("columns:\n");
	for (size_t j = 0; j < s->ncols; j++) {
		const struct shd_column *col = &s->cols[j];
		printf("  %-24s %-5s unit=%-8s role=%s", col->name,
		       shd_type_name(col->type), *col->unit ? col->unit : "-",
		       *col->role ? col->role : "-");
		struct colstat *st = &c->cs[j];
		if (col->type != SHD_TIME && col->type != SHD_KEY) {
			shd_format_double(st->n ? st->min : NAN, a);
			shd_format_double(st->n ? st->sum / (double)st->n : NAN, x);
			shd_format_double(st->n ? st->max : NAN, b);
			printf("  min=%s mean=%s max=%s nan=%llu", a, x, b,
			       (unsigned long long)st->nan);
		}
		putchar('\n');
	}
	if (s->nmeta) {
		printf("meta:\n");
		for (size_t k = 0; k < s->nmeta; k++)
			printf("  %s: %s\n", s->meta_key[k], s->meta_val[k]);
	}
	if (c->kcol < 0)
		return;
	size_t nres = 0;
	for (size_t id = 0; id < c->nrs; id++)
		nres += c->rs[id].rows > 0;
	printf("resources: %zu\n", nres);
	for (size_t id = 0; id < c->nrs; id++) {
		struct resstat *r = &c->rs[id];
		if (!r->rows)
			continue;
		shd_time_format(r->first, a, sizeof(a));
		shd_time_format(r->last, b, sizeof(b));
		printf("  %s  rows=%llu  from=%s  to=%s\n",
		       shd_dict_str(d, (uint32_t)id, NULL),
		       (unsigned long long)r->rows, a, b);
	}
}

/* Finds the time and key columns: by role, else by name, else by type. */
static int find_col(const struct shd_schema *s, enum shd_type t,
		    const char *name)
{
	int j = shd_schema_find(s, name);

	if (j >= 0 && s->cols[j].type == t)
		return j;
	for (size_t k = 0; k < s->ncols; k++)
		if (s->cols[k].type == t)
			return (int)k;
	return -1;
}

/* Prints one input; returns an exit status. */
/* The stream's time and key columns; dies (2) when a filter needs one
 * the stream lacks. */
static void find_cols(struct cat *c, struct shd_reader *r, const char *path)
{
	const struct opts *o = c->o;

	c->schema = shd_reader_schema(r);
	c->tcol = find_col(c->schema, SHD_TIME, "time");
	c->kcol = find_col(c->schema, SHD_KEY, "resource");
	if ((o->has_from || o->has_to) && c->tcol < 0)
		cli_die(EXIT_USAGE, "%s: --from/--to: the stream has no time "
			"column", path);
	if ((o->nresources || o->nshards) && c->kcol < 0)
		cli_die(EXIT_USAGE, "%s: --resource, --shard: the stream has "
			"no key column", path);
}

static int cat_file(const char *path, const struct opts *o,
		    struct shd_schema *prev, int *printed_header)
{
	struct shd_reader *r = NULL;
	struct shd_frame f = { 0 };
	struct cat c = { .o = o, .printed_header = *printed_header };
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
		 STDIN_FILENO, rc, status = EXIT_OK;

	if (fd < 0) {
		/* Warn and go on with the other inputs; exit 3 at the end. */
		cli_warn("cannot open '%s':", path);
		return EXIT_BADINPUT;
	}
	rc = shd_reader_open(&r, fd, path);
	if (rc) {
		cli_warn("%s", r ? shd_reader_errmsg(r) : shd_strerror(rc));
		status = cli_status(rc);
		goto out;
	}
	find_cols(&c, r, path);
	select_columns(&c, path);
	c.cs = calloc(c.schema->ncols, sizeof(*c.cs));
	if (!c.cs || shd_frame_init(&f, c.schema, shd_reader_dict(r)) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	if (o->mode != INFO) {
		if (prev->ncols && !shd_schema_same_columns(prev, c.schema))
			c.printed_header = 0;	/* other columns: new header */
		print_header(&c);
		shd_schema_release(prev);
		if (shd_schema_copy(prev, c.schema) < 0)
			cli_die(EXIT_SYSTEM, "out of memory");
	}
	while ((rc = shd_reader_next(r, &f)) == 0) {
		c.blocks++;
		if (o->mode == INFO)
			gather(&c, &f, shd_reader_dict(r));
		else
			print_rows(&c, &f, shd_reader_dict(r));
	}
	if (rc != SHD_EOF) {
		fflush(stdout);
		cli_warn("%s", shd_reader_errmsg(r));
		status = cli_status(rc);
	}
	if (o->mode == INFO)
		print_info(&c, strcmp(path, "-") ? path : "<stdin>",
			   shd_reader_dict(r));
	*printed_header = c.printed_header;
out:
	shd_frame_release(&f);
	free(c.sel);
	free(c.keep);
	free(c.cs);
	free(c.rs);
	shd_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
	return status;
}

/* Does row I of F pass -r, --from and --to? */
static int row_wanted(struct cat *c, const struct shd_frame *f,
		      struct shd_dict *d, size_t i)
{
	if (c->kcol >= 0 && !keep_key(c, d, SHD_KEYCOL(f, c->kcol)[i]))
		return 0;
	if (c->tcol >= 0) {
		int64_t t = SHD_I64COL(f, c->tcol)[i];
		if ((c->o->has_from && t < c->o->from) ||
		    (c->o->has_to && t >= c->o->to))
			return 0;
	}
	return 1;
}

/*
 * --openmetrics: the rows of one input that pass the filters go to *OM,
 * made from the first input's schema (kept in FIRST). Any failure stops
 * the run, as the exposition could only be incomplete: the caller writes
 * "# EOF" only when every input returned EXIT_OK.
 */
static int om_file(const char *path, const struct opts *o, struct shd_om **om,
		   struct shd_schema *first)
{
	struct shd_reader *r = NULL;
	struct shd_frame f = { 0 };
	struct cat c = { .o = o };
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
		 STDIN_FILENO, rc, status = EXIT_OK;

	if (fd < 0) {
		cli_warn("cannot open '%s':", path);
		return EXIT_BADINPUT;
	}
	rc = shd_reader_open(&r, fd, path);
	if (rc) {
		cli_warn("%s", r ? shd_reader_errmsg(r) : shd_strerror(rc));
		status = cli_status(rc);
		goto out;
	}
	find_cols(&c, r, path);
	if (!*om) {
		struct shd_om_opts oo = { 0 };

		if (o->columns) {
			/* -c picks the metrics; time and key come anyway. */
			size_t n = 0;
			select_columns(&c, path);
			for (size_t k = 0; k < c.nsel; k++)
				if (c.sel[k] != c.tcol && c.sel[k] != c.kcol)
					c.sel[n++] = c.sel[k];
			if (n == 0)
				cli_die(EXIT_USAGE, "%s: --openmetrics: -c names "
					"no metric column", path);
			oo.cols = c.sel;
			oo.ncols = n;
		}
		rc = shd_om_new(om, stdout, c.schema, &oo);
		if (rc == SHD_ENOMEM)
			cli_die(EXIT_SYSTEM, "out of memory");
		if (rc == SHD_EINVAL)
			cli_die(EXIT_USAGE, "%s: --openmetrics: %s", path,
				shd_om_errmsg(*om));
		if (rc)
			cli_die(EXIT_SYSTEM, "%s", shd_om_errmsg(*om));
		if (shd_schema_copy(first, c.schema) < 0)
			cli_die(EXIT_SYSTEM, "out of memory");
	} else if (!shd_schema_same_columns(first, c.schema)) {
		cli_warn("%s: --openmetrics: the columns differ from those of "
			 "the first input", path);
		status = EXIT_BADINPUT;
		goto out;
	}
	if (shd_frame_init(&f, c.schema, shd_reader_dict(r)) < 0)
		cli_die(EXIT_SYSTEM, "out of memory");
	while ((rc = shd_reader_next(r, &f)) == 0) {
		for (size_t i = 0; i < f.nrows; i++) {
			if (!row_wanted(&c, &f, shd_reader_dict(r), i))
				continue;
			int e = shd_om_row(*om, &f, i);
			if (e == SHD_ENOMEM)
				cli_die(EXIT_SYSTEM, "out of memory");
			if (e < 0) {
				fflush(stdout);
				cli_warn("%s: %s", path, shd_om_errmsg(*om));
				if (e == SHD_EFORMAT)
					fprintf(stderr, "hint: put the rows in "
						"canonical order first: shd-cat "
						"%s | shd-ingest -i INTERVAL | "
						"shd-cat --openmetrics\n", path);
				status = e == SHD_EFORMAT ? EXIT_BADINPUT
							  : EXIT_SYSTEM;
				goto out;
			}
		}
	}
	if (rc != SHD_EOF) {
		fflush(stdout);
		cli_warn("%s", shd_reader_errmsg(r));
		status = cli_status(rc);
	}
out:
	shd_frame_release(&f);
	free(c.sel);
	free(c.keep);
	shd_reader_free(r);
	if (fd != STDIN_FILENO)
		close(fd);
	return status;
}

int main(int argc, char **argv)
{
	struct opts o = { .mode = CSV, .header = 1 };
	struct shd_schema prev;
	int c, status = EXIT_OK, printed_header = 0;

	cli_init(argv[0]);
	shd_schema_init(&prev);
	while ((c = getopt_long(argc, argv, "er:c:HhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CSV: o.mode = CSV; break;
		case OPT_TSV: o.mode = TSV; break;
		case OPT_JSON: o.mode = JSON; break;
		case OPT_INFO: o.mode = INFO; break;
		case OPT_OM: o.mode = OPENMETRICS; break;
		case 'e': o.epoch = 1; break;
		case 'r': {
			const char **r = realloc(o.resources,
						 (o.nresources + 1) * sizeof(*r));
			if (!r)
				cli_die(EXIT_SYSTEM, "out of memory");
			r[o.nresources++] = optarg;
			o.resources = r;
			break;
		}
		case 'c': o.columns = optarg; break;
		case OPT_FROM:
			o.from = cli_time_arg("--from", optarg);
			o.has_from = 1;
			break;
		case OPT_SHARD:
			if (shd_shard_parse(optarg, &o.shard, &o.nshards))
				cli_die(EXIT_USAGE, "--shard: '%s' is not K/N "
					"(1 <= K <= N <= 65536)", optarg);
			break;
		case OPT_TO:
			o.to = cli_time_arg("--to", optarg);
			o.has_to = 1;
			break;
		case 'H': o.header = 0; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.columns && !*o.columns)
		cli_die(EXIT_USAGE, "--columns: empty list");
	static char out_buf[1 << 16];
	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	if (o.mode == OPENMETRICS) {
		/* One exposition of every input; "# EOF" only when all is well. */
		struct shd_om *om = NULL;
		for (int k = 0; k < (argc ? argc : 1) && status == EXIT_OK; k++)
			status = om_file(argc ? argv[k] : "-", &o, &om, &prev);
		if (status == EXIT_OK && shd_om_finish(om) < 0) {
			cli_warn("%s", shd_om_errmsg(om));
			status = EXIT_SYSTEM;
		}
		shd_om_free(om);
	} else if (argc == 0) {
		status = cat_file("-", &o, &prev, &printed_header);
	} else {
		for (int k = 0; k < argc; k++) {
			int st = cat_file(argv[k], &o, &prev, &printed_header);
			if (st != EXIT_OK && status == EXIT_OK)
				status = st;
		}
	}
	free(o.resources);
	shd_schema_release(&prev);
	int st = cli_close_stdout();
	return status != EXIT_OK ? status : st;
}
