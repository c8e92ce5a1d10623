/*
 * unit-alerteval.c - alerts judged against what happened
 * (lib/alerteval.c): timelines per resource (origins once, kept alerts of
 * any metric and of each, values where an alert came), NAB's table for
 * the resources the labels know only, and breaches of a limit alerted
 * ahead, with the lead and the false alerts per resource-day.
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#include "alerteval.h"

#define MIN INT64_C(60000)
#define T0 INT64_C(1706140800000)	/* 2024-01-25T00:00:00Z */

static struct shd_alert alert(uint32_t res, size_t metric, int64_t t,
			      double cur, int kept)
{
	struct shd_alert a;

	memset(&a, 0, sizeof(a));
	a.res = res;
	a.metric = metric;
	a.time = t;
	a.cur = cur;
	a.candidate = kept;
	a.kept = kept;
	a.reason = "";
	return a;
}

static void test_timeline(void)
{
	struct shd_alert_eval e;
	const struct shd_timeline *tl;
	struct shd_alert a;

	shd_alert_eval_init(&e, 2);
	a = alert(3, 0, T0, 1.0, 0);
	EXPECT_EQ_INT(shd_alert_eval_add(&e, &a), 0);
	a = alert(3, 1, T0, 2.0, 1);
	EXPECT_EQ_INT(shd_alert_eval_add(&e, &a), 0);
	a = alert(3, 0, T0 + MIN, 3.0, 0);
	EXPECT_EQ_INT(shd_alert_eval_add(&e, &a), 0);
	a = alert(5, 1, T0, 4.0, 1);
	EXPECT_EQ_INT(shd_alert_eval_add(&e, &a), 0);
	EXPECT_EQ_INT(e.ntl, 2);
	tl = &e.tl[0];
	EXPECT_EQ_INT(tl->res, 3);
	EXPECT_EQ_INT(tl->n, 2);
	EXPECT_EQ_INT(tl->t[1], T0 + MIN);
	EXPECT_EQ_INT(tl->det[0], 1);
	EXPECT_EQ_INT(tl->detm[0], 0);
	EXPECT_EQ_INT(tl->detm[1], 1);
	EXPECT_EQ_INT(tl->det[1], 0);
	EXPECT_SAME_DOUBLE(tl->cur[0], 1.0);
	EXPECT_SAME_DOUBLE(tl->cur[1], 2.0);
	EXPECT_SAME_DOUBLE(tl->cur[2], 3.0);
	EXPECT(isnan(tl->cur[3]));	/* metric 1 said nothing then */
	tl = &e.tl[1];
	EXPECT_EQ_INT(tl->res, 5);
	EXPECT(isnan(tl->cur[0]));
	EXPECT_SAME_DOUBLE(tl->cur[1], 4.0);
	shd_alert_eval_release(&e);
	EXPECT_EQ_INT(e.ntl, 0);
}

/* A timeline of N origins a minute apart, kept alerts at those in DET. */
static void series(struct shd_alert_eval *e, uint32_t res, size_t n,
		   const double *cur, const size_t *det, size_t ndet)
{
	for (size_t i = 0; i < n; i++) {
		int kept = 0;
		struct shd_alert a;

		for (size_t k = 0; k < ndet; k++)
			kept |= det[k] == i;
		a = alert(res, 0, T0 + (int64_t)i * MIN, cur ? cur[i] : 0,
			  kept);
		EXPECT_EQ_INT(shd_alert_eval_add(e, &a), 0);
	}
}

static void test_nab(void)
{
	char path[] = "/tmp/unit-alerteval.XXXXXX", err[256], line[256];
	struct shd_nab_labels lab;
	struct shd_alert_eval e;
	struct shd_dict *keys = shd_dict_new();
	uint32_t a, b;
	size_t hit[] = { 150 };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int fd = mkstemp(path);
	/* a window of 10 minutes from origin 145, in a file named a.csv */
	static const char json[] =
		"{\"dir/a.csv\": [[\"2024-01-25 02:25:00.000000\", "
		"\"2024-01-25 02:35:00.000000\"]]}";

	EXPECT(fd >= 0);
	EXPECT_EQ_INT(write(fd, json, sizeof(json) - 1),
		      (long)(sizeof(json) - 1));
	close(fd);
	shd_nab_labels_init(&lab);
	EXPECT_EQ_INT(shd_nab_labels_load(&lab, path, err, sizeof(err)), 0);
	unlink(path);
	EXPECT_EQ_INT(shd_dict_intern(keys, "a", 1, &a), 0);
	EXPECT_EQ_INT(shd_dict_intern(keys, "b", 1, &b), 0);

	shd_alert_eval_init(&e, 1);
	series(&e, a, 200, NULL, hit, 1);
	series(&e, b, 200, NULL, hit, 1);	/* not in the labels */
	fp = open_memstream(&buf, &len);
	EXPECT_EQ_INT(shd_alert_eval_nab(&e, keys, &lab, "w.json", fp), 1);
	fclose(fp);
	EXPECT(strncmp(buf, "NAB scores (labels: w.json)\n", 28) == 0);
	EXPECT(strstr(buf, "\nb ") == NULL);
	/* a: 1 window, caught (tp 1, fp 0, fn 0) */
	snprintf(line, sizeof(line), "%-44s %5d %4d %4d %4d", "a", 1, 1, 0, 0);
	EXPECT(strstr(buf, line) != NULL);
	snprintf(line, sizeof(line), "%-44s %5d %4d %4d %4d", "total (raw)", 1,
		 1, 0, 0);
	EXPECT(strstr(buf, line) != NULL);
	free(buf);

	/* --learn's p_min: a filter that learned nothing has no candidate
	 * in the window (the count, not an error) */
	{
		struct shd_filter f;

		shd_filter_init(&f);
		EXPECT_EQ_INT(shd_alert_eval_tune(&e, keys, &lab, &f), 0);
		shd_filter_release(&f);
	}
	shd_alert_eval_release(&e);
	shd_nab_labels_release(&lab);
	shd_dict_free(keys);
}

static void test_breach(void)
{
	struct shd_schema s;
	struct shd_dict *keys = shd_dict_new();
	static const struct shd_drift_metric def = {
		.capacity = NAN, .limit = NAN, .w_diff = 1, .w_conf = 1,
		.threshold = 4, .surprise = 2.7,
	};
	struct shd_drift_opts o = { .short_w = 1, .memory = 100,
				    .warmup = 10, .persist = 3 };
	struct shd_drift *d;
	struct shd_alert_eval e;
	double cur[20];
	size_t det[] = { 7, 15 };	/* ahead of the breach at 9; false */
	uint32_t r;
	char err[256] = "", *buf = NULL;
	size_t len = 0;
	FILE *fp;

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "origin", SHD_TIME, "ms", "origin");
	shd_schema_add(&s, "step", SHD_I64, "", "step");
	shd_schema_add(&s, "cpu.pred", SHD_F64, "%", "forecast");
	shd_schema_add(&s, "cpu.lo", SHD_F64, "%", "lo");
	shd_schema_add(&s, "cpu.hi", SHD_F64, "%", "hi");
	shd_schema_add(&s, "cpu.conf", SHD_F64, "", "conf");
	shd_schema_add(&s, "cpu.cur", SHD_F64, "%", "cur");
	shd_schema_add(&s, "cpu", SHD_F64, "%", "metric");
	shd_schema_set_meta(&s, "interval_ms", "60000");
	d = shd_drift_new(&s, keys, NULL, NULL, 0, &def, &o, err, sizeof(err));
	if (!d) {
		FAIL_AT("shd_drift_new: %s", err);
		return;
	}
	EXPECT_EQ_INT(shd_dict_intern(keys, "web", 3, &r), 0);
	EXPECT_EQ_INT(shd_drift_series_limit(d, "web", 0, 80), 0);
	for (size_t i = 0; i < 20; i++)
		cur[i] = i >= 9 && i < 12 ? 90 : 50;
	shd_alert_eval_init(&e, 1);
	series(&e, r, 20, cur, det, 2);
	fp = open_memstream(&buf, &len);
	EXPECT_EQ_INT(shd_alert_eval_breach(&e, d, 3, fp), 0);
	fclose(fp);
	EXPECT_EQ_STR(buf, "cpu: 1 series with a limit, 1 breaches, alerted "
		      "ahead 1 (100.0%), median lead 120 s; 2 alerts, 1 "
		      "false (75.789 per resource-day)\n");
	free(buf);
	shd_alert_eval_release(&e);
	shd_drift_free(d);
	shd_schema_release(&s);
	shd_dict_free(keys);
}

int main(void)
{
	static const struct harness_case cases[] = {
		TEST(test_timeline),
		TEST(test_nab),
		TEST(test_breach),
	};

	return RUN_TESTS(cases);
}
