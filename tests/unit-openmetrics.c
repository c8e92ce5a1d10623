/*
 * unit-openmetrics.c - the OpenMetrics writer: names, label and HELP
 * escaping, UNIT only where OpenMetrics allows it, NaN skipped, infinities,
 * families kept together in column order, times Prometheus reads back to
 * the millisecond, "# EOF" only after success, and the streams refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "openmetrics.h"
#include "shd.h"

/* An exposition in memory. */
struct out {
	char *buf;
	size_t len;
	FILE *fp;
};

static void out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->fp = open_memstream(&o->buf, &o->len);
	if (!o->fp)
		FAIL_AT("open_memstream failed");
}

/* Closes the stream; the text stays in o->buf (freed by out_free). */
static const char *out_text(struct out *o)
{
	if (o->fp) {
		fclose(o->fp);
		o->fp = NULL;
	}
	return o->buf ? o->buf : "";
}

static void out_free(struct out *o)
{
	out_text(o);
	free(o->buf);
}

/* time, resource, cpu (%), mem_bytes (bytes), mem (bytes) */
static void util_schema(struct shd_schema *s)
{
	shd_schema_init(s);
	shd_schema_add(s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(s, "resource", SHD_KEY, "", "key");
	shd_schema_add(s, "cpu", SHD_F64, "%", "metric");
	shd_schema_add(s, "mem_bytes", SHD_F64, "bytes", "metric");
	shd_schema_add(s, "mem", SHD_F64, "bytes", "metric");
}

/* Appends a row to F: time T, resource R, the values V (ncols - 2). */
static void add_row(struct shd_frame *f, int64_t t, const char *r,
		    const double *v)
{
	uint32_t id = 0;
	size_t i = f->nrows;

	shd_frame_reserve(f, i + 1);
	shd_dict_intern(f->dict, r, strlen(r), &id);
	SHD_I64COL(f, 0)[i] = t;
	SHD_KEYCOL(f, 1)[i] = id;
	for (size_t j = 2; j < f->ncols; j++) {
		if (f->types[j] == SHD_F32)
			SHD_F32COL(f, j)[i] = (float)v[j - 2];
		else
			SHD_F64COL(f, j)[i] = v[j - 2];
	}
	f->nrows++;
}

/* Writes every row of F; returns the first failure or shd_om_finish. */
static int write_all(struct shd_om *w, const struct shd_frame *f)
{
	for (size_t i = 0; i < f->nrows; i++) {
		int r = shd_om_row(w, f, i);
		if (r < 0)
			return r;
	}
	return shd_om_finish(w);
}

static void test_names(void)
{
	char buf[64];

	EXPECT_EQ_INT(shd_om_name("cpu", buf, sizeof(buf)), 7);
	EXPECT_EQ_STR(buf, "shd_cpu");
	shd_om_name("cpu.pred", buf, sizeof(buf));
	EXPECT_EQ_STR(buf, "shd_cpu_pred");
	shd_om_name("a-b c/d", buf, sizeof(buf));
	EXPECT_EQ_STR(buf, "shd_a_b_c_d");
	shd_om_name("job:rate5m", buf, sizeof(buf));
	EXPECT_EQ_STR(buf, "shd_job:rate5m");
	shd_om_name("9lives", buf, sizeof(buf));
	EXPECT_EQ_STR(buf, "shd_9lives");
	shd_om_name("\xc3\xbc", buf, sizeof(buf));	/* one UTF-8 letter */
	EXPECT_EQ_STR(buf, "shd___");
	/* like snprintf: the length needed, the text cut */
	EXPECT_EQ_INT(shd_om_name("network", buf, 6), 11);
	EXPECT_EQ_STR(buf, "shd_n");
	EXPECT_EQ_INT(shd_om_name("network", NULL, 0), 11);
}

static void test_time(void)
{
	char buf[32];

	shd_om_time(1704067200000, buf);
	EXPECT_EQ_STR(buf, "1704067200");
	shd_om_time(1704067200500, buf);
	EXPECT_EQ_STR(buf, "1704067200.500");
	shd_om_time(1704067200007, buf);
	EXPECT_EQ_STR(buf, "1704067200.007");
	shd_om_time(0, buf);
	EXPECT_EQ_STR(buf, "0");
	shd_om_time(-1, buf);
	EXPECT_EQ_STR(buf, "-0.001");
	shd_om_time(-86400000, buf);
	EXPECT_EQ_STR(buf, "-86400");
	/*
	 * 1082461240.682 s reads as a double a hair under, and Prometheus
	 * truncates seconds * 1000: one more digit makes it land on .682.
	 */
	shd_om_time(1082461240682, buf);
	EXPECT_EQ_STR(buf, "1082461240.6821");

	/* Any time: Prometheus' reading gives it back, and it rounds to it. */
	uint64_t x = 88172645463325252ull;
	int bad = 0;
	for (int k = 0; k < 200000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t ms = (int64_t)(x % 8000000000000ull) - 2000000000000;
		shd_om_time(ms, buf);
		double t = strtod(buf, NULL) * 1000.0;
		if ((int64_t)t != ms || llround(strtod(buf, NULL) * 1000.0) != ms) {
			if (!bad++)
				FAIL_AT("time %lld written as %s reads as %.17g",
					(long long)ms, buf, t);
		}
	}
	EXPECT_EQ_INT(bad, 0);
}

static void test_families(void)
{
	struct shd_schema s;
	struct shd_dict *d = shd_dict_new();
	struct shd_frame f;
	struct shd_om *w;
	struct out o;

	util_schema(&s);
	shd_frame_init(&f, &s, d);
	/* two resources, three rows each; NaN here and there */
	add_row(&f, 1704067200000, "web-1", (double[]){ 1.5, 100, 7 });
	add_row(&f, 1704067500000, "web-1", (double[]){ NAN, 200, 8 });
	add_row(&f, 1704067800000, "web-1", (double[]){ 2.5, NAN, NAN });
	add_row(&f, 1704067200000, "db-1", (double[]){ 0.1, 1e300, NAN });
	add_row(&f, 1704067500000, "db-1", (double[]){ INFINITY, -INFINITY, NAN });
	add_row(&f, 1704067800250, "db-1", (double[]){ -0.0, 3, NAN });
	out_open(&o);
	EXPECT_EQ_INT(shd_om_new(&w, o.fp, &s, NULL), 0);
	EXPECT_EQ_INT(write_all(w, &f), 0);
	EXPECT_EQ_INT(shd_om_samples(w), 12);
	shd_om_free(w);
	EXPECT_EQ_STR(out_text(&o),
		"# TYPE shd_cpu gauge\n"
		"# HELP shd_cpu shd column cpu, unit %\n"
		"shd_cpu{resource=\"web-1\"} 1.5 1704067200\n"
		"shd_cpu{resource=\"web-1\"} 2.5 1704067800\n"
		"shd_cpu{resource=\"db-1\"} 0.1 1704067200\n"
		"shd_cpu{resource=\"db-1\"} +Inf 1704067500\n"
		"shd_cpu{resource=\"db-1\"} -0 1704067800.250\n"
		"# TYPE shd_mem_bytes gauge\n"
		"# UNIT shd_mem_bytes bytes\n"
		"# HELP shd_mem_bytes shd column mem_bytes, unit bytes\n"
		"shd_mem_bytes{resource=\"web-1\"} 100 1704067200\n"
		"shd_mem_bytes{resource=\"web-1\"} 200 1704067500\n"
		"shd_mem_bytes{resource=\"db-1\"} 1e+300 1704067200\n"
		"shd_mem_bytes{resource=\"db-1\"} -Inf 1704067500\n"
		"shd_mem_bytes{resource=\"db-1\"} 3 1704067800.250\n"
		/* the unit is not the name's suffix: no UNIT line */
		"# TYPE shd_mem gauge\n"
		"# HELP shd_mem shd column mem, unit bytes\n"
		"shd_mem{resource=\"web-1\"} 7 1704067200\n"
		"shd_mem{resource=\"web-1\"} 8 1704067500\n"
		"# EOF\n");
	out_free(&o);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

static void test_escaping(void)
{
	struct shd_schema s;
	struct shd_dict *d = shd_dict_new();
	struct shd_frame f;
	struct shd_om *w;
	struct out o;

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "host-name", SHD_KEY, "", "key");
	shd_schema_add(&s, "lat_seconds", SHD_F32, "s", "metric");
	shd_schema_add(&s, "q\"x", SHD_F64, "a\\b\n", "metric");
	shd_frame_init(&f, &s, d);
	add_row(&f, 1000, "we\"b\\2\n\xc3\xbc", (double[]){ 0.5, 1 });
	out_open(&o);
	EXPECT_EQ_INT(shd_om_new(&w, o.fp, &s, NULL), 0);
	EXPECT_EQ_INT(write_all(w, &f), 0);
	shd_om_free(w);
	EXPECT_EQ_STR(out_text(&o),
		"# TYPE shd_lat_seconds gauge\n"
		"# UNIT shd_lat_seconds seconds\n"
		"# HELP shd_lat_seconds shd column lat_seconds, unit s\n"
		"shd_lat_seconds{host_name=\"we\\\"b\\\\2\\n\xc3\xbc\"} 0.5 1\n"
		"# TYPE shd_q_x gauge\n"
		"# HELP shd_q_x shd column q\\\"x, unit a\\\\b\\n\n"
		"shd_q_x{host_name=\"we\\\"b\\\\2\\n\xc3\xbc\"} 1 1\n"
		"# EOF\n");
	out_free(&o);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

/* A row out of order stops the writer: an error, and never "# EOF". */
static void expect_order_error(const char *r2, int64_t t2, const char *r3,
			       int64_t t3, const char *why)
{
	struct shd_schema s;
	struct shd_dict *d = shd_dict_new();
	struct shd_frame f;
	struct shd_om *w;
	struct out o;

	util_schema(&s);
	shd_frame_init(&f, &s, d);
	add_row(&f, 1000, "a", (double[]){ 1, 2, 3 });
	add_row(&f, t2, r2, (double[]){ 1, 2, 3 });
	add_row(&f, t3, r3, (double[]){ 1, 2, 3 });
	out_open(&o);
	EXPECT_EQ_INT(shd_om_new(&w, o.fp, &s, NULL), 0);
	EXPECT_EQ_INT(write_all(w, &f), SHD_EFORMAT);
	if (!strstr(shd_om_errmsg(w), why))
		FAIL_AT("message '%s' lacks '%s'", shd_om_errmsg(w), why);
	EXPECT_EQ_INT(shd_om_finish(w), SHD_EFORMAT);
	shd_om_free(w);
	if (strstr(out_text(&o), "# EOF"))
		FAIL_AT("# EOF written after a failure:\n%s", out_text(&o));
	out_free(&o);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

static void test_order(void)
{
	expect_order_error("a", 1000, "b", 1000,
			   "resource 'a': time 1970-01-01T00:00:01Z repeats");
	expect_order_error("a", 500, "b", 1000, "is before");
	expect_order_error("b", 1000, "a", 2000,
			   "resource 'a' comes again after other resources");
	expect_order_error("b", 1000, "c\xff", 2000, "is not UTF-8");
}

/* Rows of two streams (two dictionaries): a resource may go on. */
static void test_two_inputs(void)
{
	struct shd_schema s;
	struct shd_dict *d1 = shd_dict_new(), *d2 = shd_dict_new();
	struct shd_frame f1, f2;
	struct shd_om *w;
	struct out o;

	util_schema(&s);
	shd_frame_init(&f1, &s, d1);
	shd_frame_init(&f2, &s, d2);
	add_row(&f1, 1000, "a", (double[]){ 1, NAN, NAN });
	add_row(&f1, 1000, "b", (double[]){ 2, NAN, NAN });
	add_row(&f2, 2000, "b", (double[]){ 3, NAN, NAN });	/* b goes on */
	add_row(&f2, 1000, "c", (double[]){ 4, NAN, NAN });
	out_open(&o);
	EXPECT_EQ_INT(shd_om_new(&w, o.fp, &s, NULL), 0);
	for (size_t i = 0; i < f1.nrows; i++)
		EXPECT_EQ_INT(shd_om_row(w, &f1, i), 0);
	for (size_t i = 0; i < f2.nrows; i++)
		EXPECT_EQ_INT(shd_om_row(w, &f2, i), 0);
	EXPECT_EQ_INT(shd_om_finish(w), 0);
	shd_om_free(w);
	EXPECT_EQ_STR(out_text(&o),
		"# TYPE shd_cpu gauge\n"
		"# HELP shd_cpu shd column cpu, unit %\n"
		"shd_cpu{resource=\"a\"} 1 1\n"
		"shd_cpu{resource=\"b\"} 2 1\n"
		"shd_cpu{resource=\"b\"} 3 2\n"
		"shd_cpu{resource=\"c\"} 4 1\n"
		"# TYPE shd_mem_bytes gauge\n"
		"# UNIT shd_mem_bytes bytes\n"
		"# HELP shd_mem_bytes shd column mem_bytes, unit bytes\n"
		"# TYPE shd_mem gauge\n"
		"# HELP shd_mem shd column mem, unit bytes\n"
		"# EOF\n");
	out_free(&o);
	shd_frame_release(&f1);
	shd_frame_release(&f2);
	shd_dict_free(d1);
	shd_dict_free(d2);
	shd_schema_release(&s);
}

/* shd_om_new on S (with COLS when N > 0): the result and message. */
static void expect_new(const struct shd_schema *s, const int *cols, size_t n,
		       int want, const char *why)
{
	struct shd_om_opts oo = { .cols = cols, .ncols = n };
	struct shd_om *w = NULL;
	struct out o;

	out_open(&o);
	EXPECT_EQ_INT(shd_om_new(&w, o.fp, s, n ? &oo : NULL), want);
	if (why && !strstr(shd_om_errmsg(w), why))
		FAIL_AT("message '%s' lacks '%s'", shd_om_errmsg(w), why);
	shd_om_free(w);
	EXPECT_EQ_STR(out_text(&o), "");	/* nothing written yet */
	out_free(&o);
}

static void test_refused(void)
{
	struct shd_schema s;

	/* a forecast stream: a second time column, an integer column */
	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "origin", SHD_TIME, "ms", "origin");
	shd_schema_add(&s, "step", SHD_I64, "", "step");
	shd_schema_add(&s, "cpu.pred", SHD_F64, "%", "forecast");
	shd_schema_add(&s, "cpu.lo", SHD_F64, "%", "lo");
	shd_schema_add(&s, "cpu_lo", SHD_F64, "%", "lo");
	expect_new(&s, NULL, 0, SHD_EINVAL,
		   "column 'origin' is of type time, not a metric");
	/* ... unless -c picks metric columns */
	expect_new(&s, (int[]){ 4, 5 }, 2, 0, NULL);
	expect_new(&s, (int[]){ 3 }, 1, SHD_EINVAL,
		   "column 'step' is of type i64");
	expect_new(&s, (int[]){ 5, 6 }, 2, SHD_EINVAL,
		   "columns 'cpu.lo' and 'cpu_lo' both make the metric "
		   "shd_cpu_lo");
	shd_schema_release(&s);

	/* an alert stream: a second key column, none named resource */
	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "host", SHD_KEY, "", "key");
	shd_schema_add(&s, "metric", SHD_KEY, "", "key");
	shd_schema_add(&s, "score", SHD_F64, "", "score");
	expect_new(&s, NULL, 0, SHD_EINVAL, "more than one key column");
	shd_schema_release(&s);

	/* no time column; no metric column */
	shd_schema_init(&s);
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "cpu", SHD_F64, "", "metric");
	expect_new(&s, NULL, 0, SHD_EINVAL, "no time column");
	shd_schema_release(&s);
	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	expect_new(&s, NULL, 0, SHD_EINVAL, "no metric column");
	shd_schema_release(&s);
}

/* A stream without a key column: samples without labels. */
static void test_no_key(void)
{
	struct shd_schema s;
	struct shd_frame f;
	struct shd_om *w;
	struct out o;

	shd_schema_init(&s);
	shd_schema_add(&s, "t", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "load", SHD_F64, "", "metric");
	shd_frame_init(&f, &s, NULL);
	shd_frame_reserve(&f, 2);
	SHD_I64COL(&f, 0)[0] = 1000;
	SHD_F64COL(&f, 1)[0] = 0.25;
	SHD_I64COL(&f, 0)[1] = 2000;
	SHD_F64COL(&f, 1)[1] = NAN;
	f.nrows = 2;
	out_open(&o);
	EXPECT_EQ_INT(shd_om_new(&w, o.fp, &s, NULL), 0);
	EXPECT_EQ_INT(write_all(w, &f), 0);
	shd_om_free(w);
	EXPECT_EQ_STR(out_text(&o),
		"# TYPE shd_load gauge\n"
		"# HELP shd_load shd column load\n"
		"shd_load 0.25 1\n"
		"# EOF\n");
	out_free(&o);
	shd_frame_release(&f);
	shd_schema_release(&s);
}

static const struct harness_case cases[] = {
	TEST(test_names),
	TEST(test_time),
	TEST(test_families),
	TEST(test_escaping),
	TEST(test_order),
	TEST(test_two_inputs),
	TEST(test_refused),
	TEST(test_no_key),
};

int main(void)
{
	return RUN_TESTS(cases);
}
