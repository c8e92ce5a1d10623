/*
 * unit-jsonin.c - the Prometheus and CloudWatch readers, format detection.
 *
 * Fixtures from tests/data/ (or $SHD_TESTS/data/) go through a parser into
 * an accumulator, which is written as a stream to a temporary file and read
 * back, so that the checks see what shd-ingest would write.
 */
#include <unistd.h>

#include "harness.h"
#include "shd.h"

/* ------------------------------------------------------------- helpers */

#define MAXROWS 64
#define MAXCOLS 8

/* What an accumulator wrote: rows in canonical order. */
struct table {
	struct shd_schema schema;
	size_t nrows;
	int64_t t[MAXROWS];
	char key[MAXROWS][32];
	double v[MAXROWS][MAXCOLS];	/* by column index */
};

static char *slurp_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("SHD_TESTS");
	char path[512];
	char *buf = NULL;
	size_t cap = 0, n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/data/%s", dir ? dir : "tests", name);
	fp = fopen(path, "rb");
	if (!fp) {
		FAIL_AT("cannot open fixture '%s'", path);
		*len = 0;
		return calloc(1, 1);
	}
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		if (got == 0)
			break;
		n += got;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Writes A through the stream writer and reads it back into TB. */
static void dump(struct shd_acc *a, struct table *tb)
{
	struct shd_acc_opts ao = { .interval = 0, .agg = SHD_AGG_MEAN };
	struct shd_writer *w = NULL;
	struct shd_reader *r = NULL;
	struct shd_frame f;
	FILE *fp = tmpfile();
	int fd, rc;

	memset(tb, 0, sizeof(*tb));
	shd_schema_init(&tb->schema);
	if (!fp) {
		FAIL_AT("tmpfile failed");
		return;
	}
	fd = fileno(fp);
	EXPECT_EQ_INT(shd_acc_schema(a, &tb->schema), 0);
	EXPECT(tb->schema.ncols <= MAXCOLS);
	EXPECT_EQ_INT(shd_writer_open(&w, fd, &tb->schema, NULL), 0);
	if (!w)
		goto out;
	EXPECT_EQ_INT(shd_acc_write(a, w, &ao), 0);
	EXPECT_EQ_INT(shd_writer_close(w), 0);
	shd_writer_free(w);
	EXPECT_EQ_INT(lseek(fd, 0, SEEK_SET), 0);
	rc = shd_reader_open(&r, fd, "dump");
	EXPECT_EQ_INT(rc, 0);
	if (rc != 0)
		goto out;
	EXPECT(shd_schema_same_columns(shd_reader_schema(r), &tb->schema));
	EXPECT_EQ_INT(shd_frame_init(&f, shd_reader_schema(r),
				     shd_reader_dict(r)), 0);
	while ((rc = shd_reader_next(r, &f)) == 0) {
		for (size_t i = 0; i < f.nrows && tb->nrows < MAXROWS; i++) {
			size_t k = tb->nrows++;

			tb->t[k] = SHD_I64COL(&f, 0)[i];
			snprintf(tb->key[k], sizeof(tb->key[k]), "%s",
				 shd_dict_str(f.dict, SHD_KEYCOL(&f, 1)[i],
					      NULL));
			for (size_t j = 2; j < f.ncols && j < MAXCOLS; j++)
				tb->v[k][j] = SHD_F64COL(&f, j)[i];
		}
	}
	EXPECT_EQ_INT(rc, SHD_EOF);
	shd_frame_release(&f);
out:
	shd_reader_free(r);
	fclose(fp);
}

static int parse_fixture(int (*parse)(struct shd_acc *, const char *, size_t,
				      const char *, const struct shd_parse_opts *,
				      struct shd_diag *),
			 struct shd_acc *a, const char *file,
			 const struct shd_parse_opts *o, struct shd_diag *d)
{
	size_t len;
	char *buf = slurp_fixture(file, &len);
	int r = parse(a, buf, len, file, o, d);

	free(buf);
	return r;
}

static int prom(struct shd_acc *a, const char *text,
		const struct shd_parse_opts *o, struct shd_diag *d)
{
	return shd_parse_prometheus(a, text, strlen(text), "x.json", o, d);
}

static int cw(struct shd_acc *a, const char *text,
	      const struct shd_parse_opts *o, struct shd_diag *d)
{
	return shd_parse_cloudwatch(a, text, strlen(text), "x.json", o, d);
}

/* ------------------------------------------------------ detect, names */

static void test_format_detect(void)
{
	static const struct {
		const char *text;
		enum shd_format fmt;
	} cases[] = {
		{ "time,cpu\n1,2\n", SHD_FMT_DELIMITED },
		{ "", SHD_FMT_DELIMITED },
		{ "  \n", SHD_FMT_DELIMITED },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\"}}",
		  SHD_FMT_PROMETHEUS },
		{ "\xef\xbb\xbf\n {\"data\":{\"result\":[]}}", SHD_FMT_PROMETHEUS },
		{ "[{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}]",
		  SHD_FMT_PROMETHEUS },
		{ "{\"MetricDataResults\":[],\"Messages\":[]}", SHD_FMT_CLOUDWATCH },
		{ "{\"other\":1}", SHD_FMT_DELIMITED },
		{ "resultType,MetricDataResults\n", SHD_FMT_DELIMITED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_EQ_INT(shd_format_detect(cases[i].text,
						strlen(cases[i].text)),
			      cases[i].fmt);
}

static void test_format_detect_fixtures(void)
{
	static const struct {
		const char *file;
		enum shd_format fmt;
	} cases[] = {
		{ "prom-matrix.json", SHD_FMT_PROMETHEUS },
		{ "prom-vector.json", SHD_FMT_PROMETHEUS },
		{ "cw.json", SHD_FMT_CLOUDWATCH },
		{ "cw-mismatch.json", SHD_FMT_CLOUDWATCH },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *buf = slurp_fixture(cases[i].file, &len);

		EXPECT_EQ_INT(shd_format_detect(buf, len), cases[i].fmt);
		free(buf);
	}
}

static void test_format_parse(void)
{
	EXPECT_EQ_INT(shd_format_parse("csv"), SHD_FMT_DELIMITED);
	EXPECT_EQ_INT(shd_format_parse("tsv"), SHD_FMT_DELIMITED);
	EXPECT_EQ_INT(shd_format_parse("delimited"), SHD_FMT_DELIMITED);
	EXPECT_EQ_INT(shd_format_parse("text"), SHD_FMT_DELIMITED);
	EXPECT_EQ_INT(shd_format_parse("prometheus"), SHD_FMT_PROMETHEUS);
	EXPECT_EQ_INT(shd_format_parse("prom"), SHD_FMT_PROMETHEUS);
	EXPECT_EQ_INT(shd_format_parse("cloudwatch"), SHD_FMT_CLOUDWATCH);
	EXPECT_EQ_INT(shd_format_parse("cw"), SHD_FMT_CLOUDWATCH);
	EXPECT_EQ_INT(shd_format_parse("auto"), SHD_FMT_AUTO);
	EXPECT_EQ_INT(shd_format_parse("json"), -1);
	EXPECT_EQ_INT(shd_format_parse(""), -1);
	EXPECT_EQ_INT(shd_format_parse("CSV"), -1);
}

/* ----------------------------------------------------------- Prometheus */

static void test_prom_matrix(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;
	const int64_t t0 = INT64_C(1435781430781);

	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-matrix.json",
				    NULL, &d), 0);
	EXPECT_EQ_INT(shd_acc_nseries(a), 2);
	EXPECT_EQ_INT(shd_acc_rows(a), 12);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 4);
	if (tb.schema.ncols == 4) {
		EXPECT_EQ_STR(tb.schema.cols[2].name, "node_load1");
		EXPECT_EQ_STR(tb.schema.cols[2].unit, "");
		EXPECT_EQ_STR(tb.schema.cols[3].name,
			      "node_memory_MemAvailable_bytes");
		EXPECT_EQ_STR(tb.schema.cols[3].unit, "bytes");
	}
	/* One row per instance and time: the two metrics' series merge. */
	EXPECT_EQ_INT(tb.nrows, 6);
	EXPECT_EQ_STR(tb.key[0], "a:9100");
	EXPECT_EQ_STR(tb.key[3], "b:9100");
	EXPECT_EQ_INT(tb.t[0], t0);
	EXPECT_EQ_INT(tb.t[1], t0 + 15000);
	EXPECT_EQ_INT(tb.t[5], t0 + 30000);
	EXPECT_SAME_DOUBLE(tb.v[0][2], 0.25);
	EXPECT_SAME_DOUBLE(tb.v[1][2], 0.5);
	EXPECT_SAME_DOUBLE(tb.v[2][2], NAN);
	EXPECT_SAME_DOUBLE(tb.v[0][3], 8254341120.0);
	EXPECT_SAME_DOUBLE(tb.v[3][2], 1.5);
	EXPECT_SAME_DOUBLE(tb.v[3][3], 2.1e9);
	EXPECT_SAME_DOUBLE(tb.v[4][3], INFINITY);
	EXPECT_SAME_DOUBLE(tb.v[5][2], 2.0);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static void test_prom_vector(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-vector.json",
				    NULL, &d), 0);
	EXPECT_EQ_INT(shd_acc_nseries(a), 2);
	EXPECT_EQ_INT(shd_acc_rows(a), 2);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.nrows, 2);
	EXPECT_EQ_STR(tb.key[0], "localhost:9090");
	EXPECT_EQ_STR(tb.key[1], "localhost:9100");
	EXPECT_EQ_INT(tb.t[0], INT64_C(1700000000500));
	EXPECT_SAME_DOUBLE(tb.v[0][2], 1.0);
	EXPECT_SAME_DOUBLE(tb.v[1][2], 0.0);
	EXPECT_EQ_STR(tb.schema.cols[2].name, "up");
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static void test_prom_error_response(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };

	d.skip_bad = 1;
	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-error.json",
				    NULL, &d), SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "prom-error.json: query failed: bad_data: "
			     "invalid parameter \"query\": 1:9: parse error: "
			     "unexpected end of input");
	EXPECT_EQ_INT(shd_acc_rows(a), 0);
	shd_acc_free(a);
}

static void test_prom_options(void)
{
	static const char text[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
		"\"result\":[{\"metric\":{\"__name__\":\"x\",\"job\":\"api\","
		"\"instance\":\"h1\"},\"values\":[[10,\"1\"],[20,\"2\"]]}]}}";
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	o.key_label = "job";
	o.metric = "requests";
	EXPECT_EQ_INT(prom(a, text, &o, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.nrows, 2);
	EXPECT_EQ_STR(tb.key[0], "api");
	EXPECT_EQ_STR(tb.schema.cols[2].name, "requests");
	EXPECT_EQ_INT(tb.t[1], 20000);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);

	/* No such label: the default key, then "default". */
	o.key_label = "pod";
	o.default_key = "file";
	a = shd_acc_new();
	EXPECT_EQ_INT(prom(a, text, &o, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_STR(tb.key[0], "file");
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
	o.default_key = NULL;
	a = shd_acc_new();
	EXPECT_EQ_INT(prom(a, text, &o, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_STR(tb.key[0], "default");
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static void test_prom_renames_select(void)
{
	const struct shd_rename ren[] = {
		{ "mem", "node_memory_MemAvailable_bytes" },
	};
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	o.renames = ren;
	o.nrenames = 1;
	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-matrix.json",
				    &o, &d), 0);
	EXPECT_EQ_INT(shd_acc_rows(a), 6);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 3);
	EXPECT_EQ_STR(tb.schema.cols[2].name, "mem");
	EXPECT_SAME_DOUBLE(tb.v[0][2], 8254341120.0);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

/*
 * Columns follow the order of --metric NEW=OLD, as for CSV, not the order
 * the series arrive in (node_load1 first in the fixture); a NEW no series
 * has is a column of NaN; the unit is still inferred from the new name.
 */
static void test_prom_renames_order(void)
{
	const struct shd_rename ren[] = {
		{ "mem_bytes", "node_memory_MemAvailable_bytes" },
		{ "gone", "no_such_metric" },
		{ "load", "node_load1" },
	};
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	o.renames = ren;
	o.nrenames = 3;
	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-matrix.json",
				    &o, &d), 0);
	/* A second input keeps the order the first one set. */
	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-matrix.json",
				    &o, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 5);
	EXPECT_EQ_STR(tb.schema.cols[2].name, "mem_bytes");
	EXPECT_EQ_STR(tb.schema.cols[2].unit, "bytes");
	EXPECT_EQ_STR(tb.schema.cols[3].name, "gone");
	EXPECT_EQ_STR(tb.schema.cols[4].name, "load");
	EXPECT_EQ_STR(tb.key[0], "a:9100");
	EXPECT_SAME_DOUBLE(tb.v[0][2], 8254341120.0);
	EXPECT(isnan(tb.v[0][3]));
	EXPECT_SAME_DOUBLE(tb.v[0][4], 0.25);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

/* A reserved NEW name fails before anything is read. */
static void test_prom_renames_reserved(void)
{
	const struct shd_rename ren[] = { { "time", "node_load1" } };
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };

	o.renames = ren;
	o.nrenames = 1;
	EXPECT_EQ_INT(parse_fixture(shd_parse_prometheus, a, "prom-matrix.json",
				    &o, &d), SHD_EFORMAT);
	EXPECT(strstr(d.msg, "prom-matrix.json: --metric time=node_load1: "
			     "'time' cannot be a column") != NULL);
	EXPECT_EQ_INT(shd_acc_rows(a), 0);
	shd_acc_free(a);
}

static void test_prom_names_and_units(void)
{
	static const char text[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		"\"result\":["
		"{\"metric\":{\"__name__\":\"odd name-x\"},\"value\":[1,\"1\"]},"
		"{\"metric\":{},\"value\":[1,\"2\"]},"
		"{\"metric\":{\"__name__\":\"cpu_seconds_total\"},\"value\":[1,\"3\"]},"
		"{\"metric\":{\"__name__\":\"rx_bytes_total\"},\"value\":[1,\"4\"]},"
		"{\"metric\":{\"__name__\":\"hit_ratio\"},\"value\":[1,\"5\"]},"
		"{\"metric\":{\"__name__\":\"disk_used_percent\"},\"value\":[1,\"6\"]},"
		"{\"metric\":{\"__name__\":\"ns:rate5m\"},\"value\":[1,\"7\"]}"
		"]}}";
	static const char *const want[][2] = {
		{ "odd_name_x", "" }, { "value", "" },
		{ "cpu_seconds_total", "s" }, { "rx_bytes_total", "bytes" },
		{ "hit_ratio", "ratio" }, { "disk_used_percent", "%" },
		{ "ns:rate5m", "" },
	};
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct shd_schema s;

	EXPECT_EQ_INT(prom(a, text, NULL, &d), 0);
	EXPECT_EQ_INT(shd_acc_schema(a, &s), 0);
	EXPECT_EQ_INT(s.ncols, 9);
	for (size_t i = 0; i < 7 && i + 2 < s.ncols; i++) {
		EXPECT_EQ_STR(s.cols[i + 2].name, want[i][0]);
		EXPECT_EQ_STR(s.cols[i + 2].unit, want[i][1]);
	}
	shd_schema_release(&s);
	shd_acc_free(a);
}

static void test_prom_bad_points(void)
{
	static const char text[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
		"\"result\":[{\"metric\":{\"instance\":\"h\"},\"values\":"
		"[[1,\"1\"],[2,\"2\",3],[3,\"abc\"],[\"4\",\"4\"],[5,\"5\"],"
		"[1e300,\"6\"]]}]}}";
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };

	EXPECT_EQ_INT(prom(a, text, NULL, &d), SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "x.json: data.result[0].values[1]: expected "
			     "[time, \"value\"]");
	shd_acc_free(a);

	a = shd_acc_new();
	memset(&d, 0, sizeof(d));
	d.skip_bad = 1;
	EXPECT_EQ_INT(prom(a, text, NULL, &d), 0);
	EXPECT_EQ_INT(d.nbad, 4);
	EXPECT_EQ_INT(shd_acc_rows(a), 2);
	EXPECT_EQ_STR(d.first[0], "x.json: data.result[0].values[1]: expected "
				  "[time, \"value\"]");
	EXPECT_EQ_STR(d.first[1], "x.json: data.result[0].values[2]: bad value "
				  "'abc'");
	EXPECT_EQ_STR(d.first[2], "x.json: data.result[0].values[3]: expected "
				  "[time, \"value\"]");
	EXPECT_EQ_STR(d.first[3], "x.json: data.result[0].values[5]: time out "
				  "of range");
	shd_acc_free(a);
}

static void test_prom_structural_errors(void)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "", "x.json: no JSON document" },
		{ "{\"status\":\"success\"}",
		  "x.json: data: missing (not a Prometheus response?)" },
		{ "{\"data\":{\"resultType\":\"matrix\",\"result\":{}}}",
		  "x.json: data.result: expected an array" },
		{ "{\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"2\"]}}",
		  "x.json: data.resultType: 'scalar' is not supported (matrix "
		  "or vector)" },
		{ "{\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":"
		  "{},\"values\":{}}]}}",
		  "x.json: data.result[0].values: expected an array" },
		{ "{\"data\":{\"resultType\":\"matrix\",\"result\":[7]}}",
		  "x.json: data.result[0]: expected an object" },
		{ "{\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":"
		  "[]}]}}",
		  "x.json: data.result[0].metric: expected an object of labels" },
		{ "[1]", "x.json: [0]: expected a Prometheus response object" },
		{ "{\"status\":\"weird\"}", "x.json: status: unexpected status "
					   "'weird'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct shd_acc *a = shd_acc_new();
		struct shd_diag d = { 0 };

		d.skip_bad = 1;
		EXPECT_EQ_INT(prom(a, cases[i].text, NULL, &d), SHD_EFORMAT);
		EXPECT_EQ_STR(d.msg, cases[i].msg);
		shd_acc_free(a);
	}
}

static void test_prom_several_documents(void)
{
	static const char one[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
		"\"result\":[{\"metric\":{\"__name__\":\"a\",\"instance\":\"h\"},"
		"\"values\":[[1,\"1\"],[2,\"2\"]]}]}}";
	static const char two[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
		"\"result\":[{\"metric\":{\"__name__\":\"b\",\"instance\":\"h\"},"
		"\"values\":[[1,\"3\"],[2,\"4\"]]}]}}";
	char text[1024];
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	/* Concatenated, as a shell loop of curl calls writes them. */
	snprintf(text, sizeof(text), "%s\n%s\n", one, two);
	EXPECT_EQ_INT(prom(a, text, NULL, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.nrows, 2);
	EXPECT_EQ_INT(tb.schema.ncols, 4);
	EXPECT_SAME_DOUBLE(tb.v[1][2], 2.0);
	EXPECT_SAME_DOUBLE(tb.v[1][3], 4.0);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);

	/* A JSON array of responses. */
	a = shd_acc_new();
	snprintf(text, sizeof(text), "[%s,\n%s]", one, two);
	EXPECT_EQ_INT(prom(a, text, NULL, &d), 0);
	EXPECT_EQ_INT(shd_acc_rows(a), 4);
	shd_acc_free(a);

	/* Errors in later documents say which. */
	a = shd_acc_new();
	snprintf(text, sizeof(text), "%s%s", one,
		 "{\"status\":\"success\",\"data\":{\"result\":5}}");
	EXPECT_EQ_INT(prom(a, text, NULL, &d), SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "x.json: document 2: data.result: expected an "
			     "array");
	shd_acc_free(a);
	a = shd_acc_new();
	snprintf(text, sizeof(text), "[%s,{\"data\":{\"result\":[5]}}]", one);
	EXPECT_EQ_INT(prom(a, text, NULL, &d), SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "x.json: [1].data.result[0]: expected an object");
	shd_acc_free(a);
}

static void test_prom_syntax_error_position(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	char text[512];

	EXPECT_EQ_INT(prom(a, "{\n  \"status\": \"success\",\n  \"data\": {]\n}",
			   NULL, &d), SHD_EFORMAT);
	EXPECT(strncmp(d.msg, "x.json:3:12: ", 13) == 0);

	/* The position counts from the start of the input, not of the
	 * second document. */
	snprintf(text, sizeof(text), "%s",
		 "{\"data\":{\"result\":[]}}\n\n{\"data\":{\"result\":[]}} {]");
	EXPECT_EQ_INT(prom(a, text, NULL, &d), SHD_EFORMAT);
	EXPECT(strncmp(d.msg, "x.json:3:25: ", 13) == 0);

	EXPECT_EQ_INT(prom(a, "{\"data\":{\"result\":[]}} 42", NULL, &d),
		      SHD_EFORMAT);
	EXPECT(strncmp(d.msg, "x.json:1:", 9) == 0);
	shd_acc_free(a);
}

static void test_prom_hostile(void)
{
	char *deep = malloc(200001);
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };

	/* Nesting beyond jansson's limit is a syntax error, not a crash. */
	memset(deep, '[', 200000);
	deep[200000] = '\0';
	EXPECT_EQ_INT(prom(a, deep, NULL, &d), SHD_EFORMAT);
	EXPECT(strncmp(d.msg, "x.json:1:", 9) == 0);
	free(deep);
	EXPECT_EQ_INT(prom(a, "{\"a\":\"\\u0000\"}", NULL, &d), SHD_EFORMAT);
	/* A metric named like a reserved column. */
	EXPECT_EQ_INT(prom(a, "{\"data\":{\"resultType\":\"vector\",\"result\":"
			      "[{\"metric\":{\"__name__\":\"time\"},"
			      "\"value\":[1,\"1\"]}]}}", NULL, &d),
		      SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "x.json: data.result[0]: metric 'time' cannot be "
			     "a column (reserved name, or too many metrics)");
	EXPECT_EQ_INT(shd_acc_rows(a), 0);
	shd_acc_free(a);
}

/* ----------------------------------------------------------- CloudWatch */

static void test_cw_fixture(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;
	const int64_t t0 = INT64_C(1704067200000);	/* 2024-01-01 */

	EXPECT_EQ_INT(parse_fixture(shd_parse_cloudwatch, a, "cw.json", NULL,
				    &d), 0);
	EXPECT_EQ_INT(shd_acc_nseries(a), 2);
	EXPECT_EQ_INT(shd_acc_rows(a), 7);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 4);
	if (tb.schema.ncols == 4) {
		EXPECT_EQ_STR(tb.schema.cols[2].name, "CPUUtilization");
		EXPECT_EQ_STR(tb.schema.cols[2].unit, "%");
		EXPECT_EQ_STR(tb.schema.cols[3].name, "NetworkInBytes");
		EXPECT_EQ_STR(tb.schema.cols[3].unit, "bytes");
	}
	EXPECT_EQ_INT(tb.nrows, 7);
	/* Newest first in the file, oldest first out. */
	EXPECT_EQ_STR(tb.key[0], "i-0abc123");
	EXPECT_EQ_INT(tb.t[0], t0);
	EXPECT_SAME_DOUBLE(tb.v[0][2], 3.125);
	EXPECT_SAME_DOUBLE(tb.v[1][2], 7.0);
	EXPECT_SAME_DOUBLE(tb.v[2][2], 40.25);
	EXPECT_SAME_DOUBLE(tb.v[3][2], 12.5);
	EXPECT_EQ_INT(tb.t[3], t0 + 15 * 60000);
	EXPECT_SAME_DOUBLE(tb.v[3][3], NAN);
	EXPECT_EQ_STR(tb.key[4], "i-0def456");
	EXPECT_SAME_DOUBLE(tb.v[4][3], 0.0);
	EXPECT_SAME_DOUBLE(tb.v[6][3], 1048576.0);
	EXPECT_EQ_INT(tb.t[6], t0 + 10 * 60000);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static void test_cw_mismatch(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };

	d.skip_bad = 1;
	EXPECT_EQ_INT(parse_fixture(shd_parse_cloudwatch, a, "cw-mismatch.json",
				    NULL, &d), SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "cw-mismatch.json: MetricDataResults[1]: 3 "
			     "timestamps but 2 values");
	shd_acc_free(a);
}

static void test_cw_labels(void)
{
	static const char text[] =
		"{\"MetricDataResults\":["
		"{\"Id\":\"m1\",\"Label\":\"CPUUtilization\",\"Timestamps\":"
		"[\"2024-01-01T00:00:00Z\"],\"Values\":[1]},"
		"{\"Id\":\"m2\",\"Timestamps\":[\"2024-01-01T00:00:00Z\"],"
		"\"Values\":[2]},"
		"{\"Id\":\"m3\",\"Label\":\"web-2 Disk Read Bytes\",\"Timestamps\":"
		"[\"2024-01-01T00:00:00Z\"],\"Values\":[3]}"
		"],\"Messages\":[]}";
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	o.default_key = "web-1";
	EXPECT_EQ_INT(cw(a, text, &o, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 5);
	if (tb.schema.ncols == 5) {
		EXPECT_EQ_STR(tb.schema.cols[2].name, "CPUUtilization");
		EXPECT_EQ_STR(tb.schema.cols[3].name, "m2");
		EXPECT_EQ_STR(tb.schema.cols[4].name, "Disk_Read_Bytes");
		EXPECT_EQ_STR(tb.schema.cols[4].unit, "bytes");
	}
	EXPECT_EQ_INT(tb.nrows, 2);
	EXPECT_EQ_STR(tb.key[0], "web-1");
	EXPECT_SAME_DOUBLE(tb.v[0][2], 1.0);
	EXPECT_SAME_DOUBLE(tb.v[0][3], 2.0);
	EXPECT_EQ_STR(tb.key[1], "web-2");
	EXPECT_SAME_DOUBLE(tb.v[1][4], 3.0);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);

	/* O->metric replaces what the labels say. */
	o.metric = "cpu";
	a = shd_acc_new();
	EXPECT_EQ_INT(cw(a, text, &o, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 3);
	EXPECT_EQ_STR(tb.schema.cols[2].name, "cpu");
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static void test_cw_pages(void)
{
	static const char text[] =
		"{\"MetricDataResults\":[{\"Id\":\"c\",\"Label\":\"h CPU\","
		"\"Timestamps\":[\"2024-01-01T00:10:00Z\",\"2024-01-01T00:05:00Z\"],"
		"\"Values\":[3,2],\"StatusCode\":\"PartialData\"}],"
		"\"NextToken\":\"t1\",\"Messages\":[]}\n"
		"{\"MetricDataResults\":[{\"Id\":\"c\",\"Label\":\"h CPU\","
		"\"Timestamps\":[\"2024-01-01T00:00:00Z\"],"
		"\"Values\":[1],\"StatusCode\":\"Complete\"}],\"Messages\":[]}\n";
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	EXPECT_EQ_INT(cw(a, text, NULL, &d), 0);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.nrows, 3);
	EXPECT_SAME_DOUBLE(tb.v[0][2], 1.0);
	EXPECT_SAME_DOUBLE(tb.v[2][2], 3.0);
	EXPECT_EQ_INT(tb.t[2], INT64_C(1704067800000));
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static void test_cw_bad_points(void)
{
	static const char text[] =
		"{\"MetricDataResults\":[{\"Id\":\"c\",\"Label\":\"h CPU\","
		"\"Timestamps\":[\"2024-01-01T00:10:00Z\",\"yesterday\",7,"
		"\"2024-01-01T00:00:00Z\"],"
		"\"Values\":[3,2,1,\"x\"]}]}";
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };

	EXPECT_EQ_INT(cw(a, text, NULL, &d), SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "x.json: MetricDataResults[0].Timestamps[1]: bad "
			     "time 'yesterday'");
	shd_acc_free(a);
	a = shd_acc_new();
	d.skip_bad = 1;
	EXPECT_EQ_INT(cw(a, text, NULL, &d), 0);
	EXPECT_EQ_INT(d.nbad, 3);
	EXPECT_EQ_INT(shd_acc_rows(a), 1);
	EXPECT_EQ_STR(d.first[1], "x.json: MetricDataResults[0].Timestamps[2]: "
				  "expected a time string");
	EXPECT_EQ_STR(d.first[2], "x.json: MetricDataResults[0].Values[3]: "
				  "expected a number");
	shd_acc_free(a);
}

static void test_cw_structural_errors(void)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "{\"Messages\":[]}", "x.json: MetricDataResults: missing (not "
				       "a get-metric-data response?)" },
		{ "{\"MetricDataResults\":{}}",
		  "x.json: MetricDataResults: expected an array" },
		{ "{\"MetricDataResults\":[{\"Id\":\"a\",\"Values\":[]}]}",
		  "x.json: MetricDataResults[0].Timestamps: missing" },
		{ "{\"MetricDataResults\":[{\"Id\":\"a\",\"Timestamps\":[],"
		  "\"Values\":\"no\"}]}",
		  "x.json: MetricDataResults[0].Values: expected an array" },
		{ "{\"MetricDataResults\":[{\"Id\":\"a\",\"Timestamps\":[],"
		  "\"Values\":[],\"StatusCode\":\"Forbidden\",\"Messages\":"
		  "[{\"Code\":\"Forbidden\",\"Value\":\"not allowed\"}]}]}",
		  "x.json: MetricDataResults[0]: StatusCode Forbidden: not "
		  "allowed" },
		{ "[{\"MetricDataResults\":[]}, 3]",
		  "x.json: [1]: expected a get-metric-data response object" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct shd_acc *a = shd_acc_new();
		struct shd_diag d = { 0 };

		d.skip_bad = 1;
		EXPECT_EQ_INT(cw(a, cases[i].text, NULL, &d), SHD_EFORMAT);
		EXPECT_EQ_STR(d.msg, cases[i].msg);
		shd_acc_free(a);
	}
}

static void test_cw_renames_select(void)
{
	const struct shd_rename ren[] = { { "net_in", "NetworkInBytes" } };
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	o.renames = ren;
	o.nrenames = 1;
	EXPECT_EQ_INT(parse_fixture(shd_parse_cloudwatch, a, "cw.json", &o, &d),
		      0);
	EXPECT_EQ_INT(shd_acc_rows(a), 3);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 3);
	EXPECT_EQ_STR(tb.schema.cols[2].name, "net_in");
	EXPECT_EQ_STR(tb.key[0], "i-0def456");
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

/* CloudWatch too: -m order, not the order of MetricDataResults. */
static void test_cw_renames_order(void)
{
	const struct shd_rename ren[] = {
		{ "net_in", "NetworkInBytes" },
		{ "cpu", "CPUUtilization" },
	};
	struct shd_parse_opts o = { 0 };
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct table tb;

	o.renames = ren;
	o.nrenames = 2;
	EXPECT_EQ_INT(parse_fixture(shd_parse_cloudwatch, a, "cw.json", &o, &d),
		      0);
	EXPECT_EQ_INT(shd_acc_rows(a), 7);
	dump(a, &tb);
	EXPECT_EQ_INT(tb.schema.ncols, 4);
	EXPECT_EQ_STR(tb.schema.cols[2].name, "net_in");
	EXPECT_EQ_STR(tb.schema.cols[3].name, "cpu");
	EXPECT_EQ_STR(tb.key[0], "i-0abc123");
	EXPECT(isnan(tb.v[0][2]));
	EXPECT_SAME_DOUBLE(tb.v[0][3], 3.125);
	shd_schema_release(&tb.schema);
	shd_acc_free(a);
}

static const struct harness_case cases[] = {
	TEST(test_format_detect),
	TEST(test_format_detect_fixtures),
	TEST(test_format_parse),
	TEST(test_prom_matrix),
	TEST(test_prom_vector),
	TEST(test_prom_error_response),
	TEST(test_prom_options),
	TEST(test_prom_renames_select),
	TEST(test_prom_renames_order),
	TEST(test_prom_renames_reserved),
	TEST(test_prom_names_and_units),
	TEST(test_prom_bad_points),
	TEST(test_prom_structural_errors),
	TEST(test_prom_several_documents),
	TEST(test_prom_syntax_error_position),
	TEST(test_prom_hostile),
	TEST(test_cw_fixture),
	TEST(test_cw_mismatch),
	TEST(test_cw_labels),
	TEST(test_cw_pages),
	TEST(test_cw_bad_points),
	TEST(test_cw_structural_errors),
	TEST(test_cw_renames_select),
	TEST(test_cw_renames_order),
};

int main(void)
{
	return RUN_TESTS(cases);
}
