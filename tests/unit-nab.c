/*
 * unit-nab.c - NAB scoring (lib/nab.c): hand-computed scores of one small
 * file, probation, windows without rows, normalization, and the label
 * loader on NAB's own combined_windows.json (data/nab/, found from the top
 * of the tree or $SHD_TOP) and on small files written to $TMPDIR.
 *
 * NAB's scaled sigmoid 2 / (1 + e^(5y)) - 1 equals tanh(-5y/2); the
 * expected values below use tanh, an independent form of the same curve.
 */
#include <errno.h>
#include <unistd.h>

#include "harness.h"

#include "nab.h"

#define N 100			/* rows of the small file; probation 15 */
#define STEP 60000		/* one row a minute */
#define TOL 1e-12

static const struct shd_nab_profile *const std = &shd_nab_profiles[0];
static const struct shd_nab_profile *const low_fp = &shd_nab_profiles[1];
static const struct shd_nab_profile *const low_fn = &shd_nab_profiles[2];

/* ------------------------------------------------------------- helpers */

static int64_t ts[N];

static void init_times(void)
{
	for (size_t i = 0; i < N; i++)
		ts[i] = INT64_C(1400000000000) + (int64_t)i * STEP;
}

/* The window over rows A..B of ts, inclusive. */
static struct shd_nab_window rows(size_t a, size_t b)
{
	struct shd_nab_window w = { ts[a], ts[b] };

	return w;
}

/* The sigmoid part of a hit at row I of a window over rows LO..LAST. */
static double hit(size_t i, size_t lo, size_t last)
{
	double y = -(double)(last - i + 1) / (double)(last - lo + 1);

	return tanh(-2.5 * y) / tanh(2.5);
}

/* The unweighted cost of a false positive Y window widths past one. */
static double fp_cost(double y)
{
	return y > 3 ? -1.0 : tanh(-2.5 * y);
}

/*
 * The score of the small file under P with detections at the rows listed
 * in DET (ended by -1) and windows W (NW).
 */
static double score_at(const int *det, const struct shd_nab_window *w,
		       size_t nw, const struct shd_nab_profile *p,
		       struct shd_nab_counts *c)
{
	uint8_t d[N] = { 0 };

	for (; *det >= 0; det++)
		d[*det] = 1;
	return shd_nab_score(ts, d, N, w, nw, p, c);
}

static void expect_counts(const struct shd_nab_counts *c, size_t tp,
			  size_t fp, size_t fn, size_t windows)
{
	EXPECT_EQ_INT(c->tp, tp);
	EXPECT_EQ_INT(c->fp, fp);
	EXPECT_EQ_INT(c->fn, fn);
	EXPECT_EQ_INT(c->windows, windows);
}

static char tmpdir[64];

/* Writes TEXT to the file NAME in tmpdir; its path goes to PATH (256). */
static void write_tmp(char *path, const char *name, const char *text)
{
	FILE *fp;

	snprintf(path, 256, "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	if (!fp) {
		FAIL_AT("cannot create '%s': %s", path, strerror(errno));
		return;
	}
	fputs(text, fp);
	if (fclose(fp) != 0)
		FAIL_AT("cannot write '%s'", path);
}

/* "DIR/data/nab/NAME" under the top of the tree in PATH (512 bytes). */
static void nab_path(char *path, const char *name)
{
	const char *top = getenv("SHD_TOP");

	snprintf(path, 512, "%s/data/nab/%s", top && *top ? top : ".", name);
}

/* --------------------------------------------------------------- cases */

static void test_profiles(void)
{
	EXPECT_EQ_STR(shd_nab_profiles[0].name, "standard");
	EXPECT_EQ_STR(shd_nab_profiles[1].name, "reward_low_FP_rate");
	EXPECT_EQ_STR(shd_nab_profiles[2].name, "reward_low_FN_rate");
	EXPECT_SAME_DOUBLE(std->tp, 1.0);
	EXPECT_SAME_DOUBLE(std->fn, 1.0);
	EXPECT_SAME_DOUBLE(std->fp, 0.11);
	EXPECT_SAME_DOUBLE(low_fp->tp, 1.0);
	EXPECT_SAME_DOUBLE(low_fp->fn, 1.0);
	EXPECT_SAME_DOUBLE(low_fp->fp, 0.22);
	EXPECT_SAME_DOUBLE(low_fn->tp, 1.0);
	EXPECT_SAME_DOUBLE(low_fn->fn, 2.0);
	EXPECT_SAME_DOUBLE(low_fn->fp, 0.11);
}

/* One window over rows 40..49 (10 rows): where the first hit lands. */
static void test_true_positive(void)
{
	struct shd_nab_window w = rows(40, 49);
	struct shd_nab_counts c;
	double s;

	/* The left edge: sig(-1) / sig(-1), exactly 1. */
	s = score_at((const int[]){ 40, -1 }, &w, 1, std, &c);
	EXPECT_SAME_DOUBLE(s, 1.0);
	expect_counts(&c, 1, 0, 0, 1);

	/* The right edge: y = -1/10, sig(-0.1) / sig(-1). */
	s = score_at((const int[]){ 49, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, 0.24824154977542992, TOL);
	EXPECT_NEAR(s, hit(49, 40, 49), TOL);
	expect_counts(&c, 1, 0, 0, 1);

	/* The middle: y = -5/10. */
	s = score_at((const int[]){ 45, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, tanh(1.25) / tanh(2.5), TOL);

	/* Only the earliest hit counts; the others are worth nothing. */
	s = score_at((const int[]){ 45, 40, 49, -1 }, &w, 1, std, &c);
	EXPECT_SAME_DOUBLE(s, 1.0);
	expect_counts(&c, 1, 0, 0, 1);
	s = score_at((const int[]){ 47, 48, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, hit(47, 40, 49), TOL);
	expect_counts(&c, 1, 0, 0, 1);

	/* A_TP scales it; A_FP and A_FN do not. */
	s = score_at((const int[]){ 45, -1 }, &w, 1, low_fn, &c);
	EXPECT_NEAR(s, hit(45, 40, 49), TOL);
}

static void test_false_negative(void)
{
	struct shd_nab_window w = rows(40, 49);
	struct shd_nab_counts c;

	EXPECT_SAME_DOUBLE(score_at((const int[]){ -1 }, &w, 1, std, &c),
			   -1.0);
	expect_counts(&c, 0, 0, 1, 1);
	EXPECT_SAME_DOUBLE(score_at((const int[]){ -1 }, &w, 1, low_fp, &c),
			   -1.0);
	EXPECT_SAME_DOUBLE(score_at((const int[]){ -1 }, &w, 1, low_fn, &c),
			   -2.0);
	expect_counts(&c, 0, 0, 1, 1);
}

static void test_false_positive(void)
{
	struct shd_nab_window w = rows(40, 49);
	struct shd_nab_counts c;
	double s;

	/* Before any window: the full cost, -A_FP. */
	s = score_at((const int[]){ 20, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, -1.0 - 0.11, TOL);
	expect_counts(&c, 0, 1, 1, 1);
	s = score_at((const int[]){ 20, 39, -1 }, &w, 1, low_fp, &c);
	EXPECT_NEAR(s, -1.0 - 2 * 0.22, TOL);
	expect_counts(&c, 0, 2, 1, 1);
	s = score_at((const int[]){ 20, -1 }, NULL, 0, std, &c);
	EXPECT_NEAR(s, -0.11, TOL);
	expect_counts(&c, 0, 1, 0, 0);

	/* Right after the window: 1/9 widths past it, close to 0. */
	s = score_at((const int[]){ 40, 50, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, 1.0 + 0.11 * fp_cost(1.0 / 9), TOL);
	EXPECT_NEAR(s, 1.0 - 0.11 * tanh(2.5 / 9), TOL);
	EXPECT(s < 1.0 && s > 1.0 - 0.11 / 2);
	expect_counts(&c, 1, 1, 0, 1);

	/* Row 76 is 27/9 = 3 widths past: still the sigmoid; 77 is -1. */
	s = score_at((const int[]){ 40, 76, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, 1.0 - 0.11 * tanh(7.5), TOL);
	EXPECT(s > 1.0 - 0.11);
	s = score_at((const int[]){ 40, 77, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, 1.0 - 0.11, TOL);
	s = score_at((const int[]){ 40, 99, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, 1.0 - 0.11, TOL);

	/* Every false positive counts, each by its own distance. */
	s = score_at((const int[]){ 16, 55, 60, -1 }, &w, 1, std, &c);
	EXPECT_NEAR(s, -1.0 - 0.11 + 0.11 * (fp_cost(6.0 / 9) +
					     fp_cost(11.0 / 9)), TOL);
	expect_counts(&c, 0, 3, 1, 1);
}

/* Two windows: a false positive is weighed by the window before it. */
static void test_two_windows(void)
{
	struct shd_nab_window w[2] = { rows(30, 39), rows(60, 69) };
	struct shd_nab_counts c;
	double s;

	s = score_at((const int[]){ 32, 50, 75, -1 }, w, 2, std, &c);
	EXPECT_NEAR(s, hit(32, 30, 39) - 1.0 +
		       0.11 * (fp_cost(11.0 / 9) + fp_cost(6.0 / 9)), TOL);
	expect_counts(&c, 1, 2, 1, 2);

	s = score_at((const int[]){ 30, 60, -1 }, w, 2, low_fn, &c);
	EXPECT_SAME_DOUBLE(s, 2.0);
	expect_counts(&c, 2, 0, 0, 2);
}

static void test_probation(void)
{
	struct shd_nab_window w = rows(40, 49), early = rows(10, 19);
	struct shd_nab_window first = rows(0, 9);
	struct shd_nab_counts c;
	uint8_t *d;
	int64_t *t;
	double s;

	/* 100 rows: rows 0..14 are probationary. */
	s = score_at((const int[]){ 0, 5, 14, -1 }, NULL, 0, std, &c);
	EXPECT_SAME_DOUBLE(s, 0.0);
	expect_counts(&c, 0, 0, 0, 0);
	s = score_at((const int[]){ 14, 15, -1 }, NULL, 0, std, &c);
	EXPECT_NEAR(s, -0.11, TOL);
	expect_counts(&c, 0, 1, 0, 0);
	s = score_at((const int[]){ 5, -1 }, &w, 1, std, &c);
	EXPECT_SAME_DOUBLE(s, -1.0);
	expect_counts(&c, 0, 0, 1, 1);

	/* A window reaching into probation is scored, over all its rows. */
	s = score_at((const int[]){ 12, -1 }, &early, 1, std, &c);
	EXPECT_SAME_DOUBLE(s, -1.0);
	expect_counts(&c, 0, 0, 1, 1);
	s = score_at((const int[]){ 12, 15, -1 }, &early, 1, std, &c);
	EXPECT_NEAR(s, hit(15, 10, 19), TOL);
	EXPECT_NEAR(s, tanh(1.25) / tanh(2.5), TOL);
	expect_counts(&c, 1, 0, 0, 1);
	/* ... and one inside it is a sure miss. */
	s = score_at((const int[]){ 0, 9, -1 }, &first, 1, std, &c);
	EXPECT_SAME_DOUBLE(s, -1.0);
	expect_counts(&c, 0, 0, 1, 1);
	/* A false positive after it is weighed by it. */
	s = score_at((const int[]){ 20, -1 }, &early, 1, std, &c);
	EXPECT_NEAR(s, -1.0 + 0.11 * fp_cost(1.0 / 9), TOL);

	/* min(floor(0.15 n), 750): 604 of NAB's 4032 rows, 750 of 10000. */
	t = malloc(10000 * sizeof(*t));
	d = calloc(10000, 1);
	if (!t || !d) {
		FAIL_AT("out of memory");
		goto out;
	}
	for (size_t i = 0; i < 10000; i++)
		t[i] = (int64_t)i * STEP;
	d[603] = 1;
	EXPECT_SAME_DOUBLE(shd_nab_score(t, d, 4032, NULL, 0, std, &c), 0.0);
	d[604] = 1;
	EXPECT_NEAR(shd_nab_score(t, d, 4032, NULL, 0, std, &c), -0.11, TOL);
	expect_counts(&c, 0, 1, 0, 0);
	memset(d, 0, 10000);
	d[749] = 1;
	EXPECT_SAME_DOUBLE(shd_nab_score(t, d, 10000, NULL, 0, std, &c), 0.0);
	d[750] = 1;
	EXPECT_NEAR(shd_nab_score(t, d, 10000, NULL, 0, std, &c), -0.11, TOL);
	memset(d, 0, 10000);
	d[2] = 1;			/* probation 3 of 20, 2 of 19 */
	EXPECT_SAME_DOUBLE(shd_nab_score(t, d, 20, NULL, 0, std, &c), 0.0);
	EXPECT_NEAR(shd_nab_score(t, d, 19, NULL, 0, std, &c), -0.11, TOL);
	EXPECT_NEAR(shd_nab_score(t, d, 3, NULL, 0, std, &c), -0.11, TOL);
	EXPECT_SAME_DOUBLE(shd_nab_score(t, d, 0, NULL, 0, std, &c), 0.0);
	expect_counts(&c, 0, 0, 0, 0);
out:
	free(t);
	free(d);
}

/* min(floor(0.15 n), 750) */
static void test_probation_rows(void)
{
	EXPECT_EQ_INT(shd_nab_probation(0), 0);
	EXPECT_EQ_INT(shd_nab_probation(6), 0);
	EXPECT_EQ_INT(shd_nab_probation(7), 1);
	EXPECT_EQ_INT(shd_nab_probation(1243), 186);
	EXPECT_EQ_INT(shd_nab_probation(4032), 604);
	EXPECT_EQ_INT(shd_nab_probation(5000), 750);
	EXPECT_EQ_INT(shd_nab_probation(18050), 750);
}

/* Windows holding no row are not scored; widths are counted in rows. */
static void test_window_rows(void)
{
	struct shd_nab_window w[3];
	struct shd_nab_counts c;
	double s;

	/* Between two rows, before the data, after it. */
	w[0].from = ts[0] - 10 * STEP;
	w[0].to = ts[0] - 1;
	w[1].from = ts[40] + 1;
	w[1].to = ts[41] - 1;
	w[2].from = ts[N - 1] + 1;
	w[2].to = ts[N - 1] + STEP;
	s = score_at((const int[]){ -1 }, w, 3, std, &c);
	EXPECT_SAME_DOUBLE(s, 0.0);
	expect_counts(&c, 0, 0, 0, 0);
	EXPECT_SAME_DOUBLE(shd_nab_score(NULL, NULL, 0, w, 3, low_fn, &c),
			   0.0);
	expect_counts(&c, 0, 0, 0, 0);

	/* Bounds are inclusive and need not fall on a row. */
	w[0].from = ts[39] + 1;
	w[0].to = ts[49] + STEP - 1;
	s = score_at((const int[]){ 39, 40, 50, -1 }, w, 1, std, &c);
	EXPECT_NEAR(s, -0.11 + 1.0 + 0.11 * fp_cost(1.0 / 9), TOL);
	expect_counts(&c, 1, 2, 0, 1);
	w[0].from = ts[0] - STEP;		/* from before the data */
	w[0].to = ts[19];
	s = score_at((const int[]){ 15, -1 }, w, 1, std, &c);
	EXPECT_NEAR(s, hit(15, 0, 19), TOL);
	expect_counts(&c, 1, 0, 0, 1);

	/* An empty window is no "window before" for a false positive. */
	w[0] = rows(40, 49);
	w[1].from = ts[60] + 1;
	w[1].to = ts[61] - 1;
	s = score_at((const int[]){ 40, 62, -1 }, w, 2, std, &c);
	EXPECT_NEAR(s, 1.0 + 0.11 * fp_cost(13.0 / 9), TOL);
	expect_counts(&c, 1, 1, 0, 1);

	/* A one-row window: hit at y = -1; a false positive after, -A_FP. */
	w[0] = rows(40, 40);
	s = score_at((const int[]){ 40, 41, -1 }, w, 1, std, &c);
	EXPECT_NEAR(s, 1.0 - 0.11, TOL);
	expect_counts(&c, 1, 1, 0, 1);
}

static void test_normalize(void)
{
	for (size_t k = 0; k < 3; k++) {
		const struct shd_nab_profile *p = &shd_nab_profiles[k];

		EXPECT_NEAR(shd_nab_normalize(7 * p->tp, 7, p), 100.0, 1e-9);
		EXPECT_NEAR(shd_nab_normalize(-7 * p->fn, 7, p), 0.0, 1e-9);
		EXPECT(isnan(shd_nab_normalize(0.0, 0, p)));
	}
	EXPECT_NEAR(shd_nab_normalize(0.0, 4, std), 50.0, 1e-9);
	EXPECT_NEAR(shd_nab_normalize(0.0, 3, low_fn), 200.0 / 3, 1e-9);
	EXPECT_NEAR(shd_nab_normalize(-5.0, 2, std), -75.0, 1e-9);
}

/*
 * Reads the times of a NAB csv ("timestamp,value" header, then "YYYY-MM-DD
 * HH:MM:SS,value") into T (MAX). Returns the number of rows, 0 on failure.
 */
static size_t read_nab_csv(const char *path, int64_t *t, size_t max)
{
	char line[256];
	size_t n = 0;
	FILE *fp = fopen(path, "r");

	if (!fp) {
		FAIL_AT("cannot open '%s' (run from the top of the tree or "
			"set SHD_TOP)", path);
		return 0;
	}
	if (!fgets(line, sizeof(line), fp))
		FAIL_AT("%s: empty", path);
	while (n < max && fgets(line, sizeof(line), fp)) {
		char *comma = strchr(line, ',');

		if (!comma || shd_time_parse(line, (size_t)(comma - line),
					     &t[n]) != 0) {
			FAIL_AT("%s: bad row %zu: %s", path, n + 1, line);
			n = 0;
			break;
		}
		n++;
	}
	fclose(fp);
	return n;
}

/*
 * NAB's own labels and four of its files. What NAB's published results
 * (results/<detector>/<detector>_<profile>_scores.csv) say of these files:
 * 4032 rows, 3428 of them scored (probation 604); 402, 402, 402 and 405
 * rows in windows; the null detector scores -2, -2, -2, -3 (standard) and
 * -4, -4, -4, -6 (reward_low_FN_rate).
 */
static void test_labels_nab(void)
{
	static const struct {
		const char *key;
		size_t nwin, inrows;
	} files[] = {
		{ "ec2_cpu_utilization_24ae8d", 2, 402 },
		{ "ec2_cpu_utilization_5f5533", 2, 402 },
		{ "rds_cpu_utilization_cc0c53", 2, 402 },
		{ "ec2_disk_write_bytes_c0d644", 3, 405 },
	};
	struct shd_nab_labels l;
	const struct shd_nab_window *w;
	char path[512], err[256];
	size_t nw, total = 0;
	int64_t ms, *t = malloc(5000 * sizeof(*t));
	uint8_t *d = calloc(5000, 1);
	double sum = 0;
	int r;

	shd_nab_labels_init(&l);
	if (!t || !d) {
		FAIL_AT("out of memory");
		goto out;
	}
	nab_path(path, "combined_windows.json");
	r = shd_nab_labels_load(&l, path, err, sizeof(err));
	EXPECT_EQ_INT(r, 0);
	if (r) {
		FAIL_AT("%s", err);
		goto out;
	}
	EXPECT_EQ_INT(l.nfile, 12);

	w = shd_nab_labels_find(&l, "ec2_cpu_utilization_24ae8d", &nw);
	EXPECT(w != NULL);
	EXPECT_EQ_INT(nw, 2);
	if (w && nw == 2) {
		/* "2014-02-26 13:45:00.000000" first, "2014-02-28
		 * 01:35:00.000000" last */
		EXPECT_EQ_INT(shd_time_parse("2014-02-26T13:45:00Z", 20, &ms),
			      0);
		EXPECT_EQ_INT(w[0].from, ms);
		EXPECT_EQ_INT(w[0].from, INT64_C(1393422300000));
		EXPECT_EQ_INT(w[1].to, INT64_C(1393551300000));
	}
	w = shd_nab_labels_find(&l, "cpu_utilization_asg_misconfiguration",
				&nw);
	EXPECT(w != NULL);
	EXPECT_EQ_INT(nw, 1);
	w = shd_nab_labels_find(&l, "ec2_cpu_utilization_c6585a", &nw);
	EXPECT(w != NULL);
	EXPECT_EQ_INT(nw, 0);
	nw = 99;
	EXPECT(shd_nab_labels_find(&l, "ec2_cpu_utilization", &nw) == NULL);
	EXPECT_EQ_INT(nw, 0);
	EXPECT(shd_nab_labels_find(&l, "realAWSCloudwatch/"
				   "ec2_cpu_utilization_24ae8d.csv",
				   &nw) == NULL);

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct shd_nab_counts c;
		char name[128];
		size_t n, inrows = 0;

		snprintf(name, sizeof(name), "%s.csv", files[f].key);
		nab_path(path, name);
		n = read_nab_csv(path, t, 5000);
		EXPECT_EQ_INT(n, 4032);
		w = shd_nab_labels_find(&l, files[f].key, &nw);
		EXPECT_EQ_INT(nw, files[f].nwin);
		if (n != 4032 || !w || nw != files[f].nwin)
			continue;
		memset(d, 0, n);
		for (size_t j = 0; j < nw; j++) {
			int first = 1;

			for (size_t i = 0; i < n; i++) {
				if (t[i] < w[j].from || t[i] > w[j].to)
					continue;
				inrows++;
				d[i] = first;	/* a hit on the left edge */
				first = 0;
			}
		}
		EXPECT_EQ_INT(inrows, files[f].inrows);

		EXPECT_SAME_DOUBLE(shd_nab_score(t, NULL, 0, w, nw, std, &c),
				   0.0);
		EXPECT_SAME_DOUBLE(shd_nab_score(t, d, n, w, nw, std, &c),
				   (double)nw);
		expect_counts(&c, nw, 0, 0, nw);
		sum += shd_nab_score(t, d, n, w, nw, low_fp, NULL);
		total += nw;

		memset(d, 0, n);
		EXPECT_SAME_DOUBLE(shd_nab_score(t, d, n, w, nw, std, &c),
				   -(double)nw);
		expect_counts(&c, 0, 0, nw, nw);
		EXPECT_SAME_DOUBLE(shd_nab_score(t, d, n, w, nw, low_fn, &c),
				   -2.0 * (double)nw);
		/* Row 604 is the first scored; no window is that early. */
		d[603] = 1;
		EXPECT_SAME_DOUBLE(shd_nab_score(t, d, n, w, nw, std, &c),
				   -(double)nw);
		d[604] = 1;
		EXPECT_NEAR(shd_nab_score(t, d, n, w, nw, low_fp, &c),
			    -(double)nw - 0.22, TOL);
		expect_counts(&c, 0, 1, nw, nw);
	}
	EXPECT_EQ_INT(total, 9);
	EXPECT_NEAR(shd_nab_normalize(sum, total, low_fp), 100.0, 1e-9);
out:
	shd_nab_labels_release(&l);
	EXPECT_EQ_INT(l.nfile, 0);
	free(t);
	free(d);
}

static void test_labels_small(void)
{
	struct shd_nab_labels l;
	const struct shd_nab_window *w;
	char path[256], err[256];
	size_t nw;
	int r;

	write_tmp(path, "small.json",
		  "{\"realX/a.csv\": [[\"2014-01-01 00:00:00.000000\",\n"
		  "  \"2014-01-01 01:00:00.500000\"],\n"
		  " [\"2014-01-02 00:00:00\", \"2014-01-02 00:00:00\"]],\n"
		  " \"b.csv\": [],\n"
		  " \"x/y/c.d.csv\": [[\"2014-01-03T00:00:00Z\","
		  " \"2014-01-03 00:05:00.000001\"]],\n"
		  " \"d\": []}\n");
	shd_nab_labels_init(&l);
	r = shd_nab_labels_load(&l, path, err, sizeof(err));
	EXPECT_EQ_INT(r, 0);
	if (r)
		FAIL_AT("%s", err);
	EXPECT_EQ_INT(l.nfile, 4);

	w = shd_nab_labels_find(&l, "a", &nw);
	EXPECT_EQ_INT(nw, 2);
	if (w && nw == 2) {
		EXPECT_EQ_INT(w[0].from, INT64_C(1388534400000));
		EXPECT_EQ_INT(w[0].to, INT64_C(1388534400000) + 3600500);
		EXPECT_EQ_INT(w[1].from, INT64_C(1388534400000) + 86400000);
		EXPECT_EQ_INT(w[1].to, w[1].from);
	}
	w = shd_nab_labels_find(&l, "b", &nw);
	EXPECT(w != NULL);
	EXPECT_EQ_INT(nw, 0);
	w = shd_nab_labels_find(&l, "c.d", &nw);
	EXPECT_EQ_INT(nw, 1);
	if (w && nw == 1) {
		EXPECT_EQ_INT(w[0].from, INT64_C(1388534400000) + 2 * 86400000);
		EXPECT_EQ_INT(w[0].to - w[0].from, 300000);
	}
	w = shd_nab_labels_find(&l, "d", &nw);
	EXPECT(w != NULL);
	EXPECT(shd_nab_labels_find(&l, "a.csv", &nw) == NULL);
	shd_nab_labels_release(&l);
	EXPECT_EQ_INT(l.nfile, 0);
	shd_nab_labels_release(&l);		/* harmless twice */
	unlink(path);

	/* An empty object is fine. */
	write_tmp(path, "empty.json", "{}");
	EXPECT_EQ_INT(shd_nab_labels_load(&l, path, err, sizeof(err)), 0);
	EXPECT_EQ_INT(l.nfile, 0);
	EXPECT(shd_nab_labels_find(&l, "a", &nw) == NULL);
	shd_nab_labels_release(&l);
	unlink(path);
}

/* Each bad file gives CODE with its name (and NEEDLE) in the message. */
static void expect_bad(const char *text, int code, const char *needle)
{
	struct shd_nab_labels l;
	char path[256], err[256];
	int r;

	write_tmp(path, "bad.json", text);
	shd_nab_labels_init(&l);
	err[0] = '\0';
	r = shd_nab_labels_load(&l, path, err, sizeof(err));
	EXPECT_EQ_INT(r, code);
	if (!strstr(err, path))
		FAIL_AT("no file name in \"%s\"", err);
	if (needle && !strstr(err, needle))
		FAIL_AT("no \"%s\" in \"%s\"", needle, err);
	EXPECT_EQ_INT(l.nfile, 0);
	EXPECT(l.key == NULL && l.nwin == NULL && l.win == NULL);
	shd_nab_labels_release(&l);
	unlink(path);
}

static void test_labels_bad(void)
{
	struct shd_nab_labels l;
	char err[256];
	int r;

	expect_bad("{\"a.csv\": [[\"2014-01-01\", \"2014-01-02\"]", SHD_EFORMAT,
		   NULL);
	expect_bad("", SHD_EFORMAT, NULL);
	expect_bad("[]", SHD_EFORMAT, NULL);
	expect_bad("{\"d/a.csv\": {}}", SHD_EFORMAT, "d/a.csv");
	expect_bad("{\"a.csv\": [], \"d/b.csv\": [[\"2014-01-01 00:00:00\","
		   " \"2014-13-01 00:00:00.000000\"]]}", SHD_EFORMAT,
		   "d/b.csv");
	expect_bad("{\"d/b.csv\": [[\"2014-01-01 00:00:00\", 5]]}",
		   SHD_EFORMAT, "d/b.csv");
	expect_bad("{\"d/b.csv\": [[\"2014-01-01 00:00:00\"]]}",
		   SHD_EFORMAT, "d/b.csv");
	expect_bad("{\"d/b.csv\": [\"2014-01-01 00:00:00\"]}",
		   SHD_EFORMAT, "d/b.csv");
	/* Backwards, out of order, overlapping. */
	expect_bad("{\"d/b.csv\": [[\"2014-01-02\", \"2014-01-01\"]]}",
		   SHD_EFORMAT, "window 1");
	expect_bad("{\"d/b.csv\": [[\"2014-01-03\", \"2014-01-04\"],"
		   " [\"2014-01-01\", \"2014-01-02\"]]}", SHD_EFORMAT,
		   "window 2");
	expect_bad("{\"d/b.csv\": [[\"2014-01-01\", \"2014-01-03\"],"
		   " [\"2014-01-03\", \"2014-01-04\"]]}", SHD_EFORMAT,
		   "window 2");
	/* Two paths, one key. */
	expect_bad("{\"d/b.csv\": [], \"e/b.csv\": []}", SHD_EFORMAT,
		   "e/b.csv");
	expect_bad("{\"d/\": []}", SHD_EFORMAT, "d/");

	/* Unreadable. */
	shd_nab_labels_init(&l);
	r = shd_nab_labels_load(&l, "/nonexistent/combined_windows.json",
				err, sizeof(err));
	EXPECT_EQ_INT(r, SHD_EIO);
	EXPECT(strstr(err, "/nonexistent/combined_windows.json") != NULL);
	r = shd_nab_labels_load(&l, tmpdir, err, sizeof(err));
	EXPECT_EQ_INT(r, SHD_EIO);
	EXPECT(strstr(err, tmpdir) != NULL);
	EXPECT_EQ_INT(l.nfile, 0);
	/* No room for a message is fine. */
	r = shd_nab_labels_load(&l, tmpdir, err, 0);
	EXPECT_EQ_INT(r, SHD_EIO);
	shd_nab_labels_release(&l);
}

static const struct harness_case cases[] = {
	TEST(test_profiles),
	TEST(test_true_positive),
	TEST(test_false_negative),
	TEST(test_false_positive),
	TEST(test_two_windows),
	TEST(test_probation),
	TEST(test_probation_rows),
	TEST(test_window_rows),
	TEST(test_normalize),
	TEST(test_labels_nab),
	TEST(test_labels_small),
	TEST(test_labels_bad),
};

static void remove_tmpdir(void)
{
	if (rmdir(tmpdir) != 0)
		fprintf(stderr, "# cannot remove %s\n", tmpdir);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	init_times();
	snprintf(tmpdir, sizeof(tmpdir), "%s/shd-nab.XXXXXX",
		 t && *t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(remove_tmpdir);
	return RUN_TESTS(cases);
}
