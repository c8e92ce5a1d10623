/*
 * unit-shadow.c - the sampling strategies of shd-shadow (lib/shadow.c):
 * stratified resource sampling keeps every stratum of a synthetic fleet
 * of 27 clearly different kinds, the same seed the same choice and another
 * seed another; days and weeks keep whole UTC periods; downsample keeps
 * mean, p95 and max per bucket; the stream in memory: order checks, what
 * is not a utilization stream, a write and read back.
 */
#include <stdio.h>
#include <unistd.h>

#include "harness.h"

#include "fidelity.h"
#include "rng.h"
#include "shadow.h"
#include "shd.h"

#define T0 1704067200000LL	/* 2024-01-01T00:00Z, a Monday */
#define MIN5 300000LL

static void schema_of(struct shd_schema *s, const char *const *metrics,
		      size_t nm)
{
	shd_schema_init(s);
	shd_schema_add(s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(s, "resource", SHD_KEY, "", "key");
	for (size_t m = 0; m < nm; m++)
		shd_schema_add(s, metrics[m], SHD_F64, "%", "metric");
}

static void start(struct shd_util *u, const char *interval)
{
	static const char *const one[] = { "cpu" };
	struct shd_schema s;

	schema_of(&s, one, 1);
	if (interval)
		shd_schema_set_meta(&s, "interval_ms", interval);
	shd_util_init(u);
	EXPECT_EQ_INT(shd_util_start(u, &s, "test"), 0);
	shd_schema_release(&s);
}

/* -------------------------------------------------- a fleet of kinds */

/*
 * 27 kinds, REPS resources each, two weeks at 30 minutes: level (mean) 10,
 * 40 or 80; coefficient of variation 0.02, 0.2 or 0.6; share of the
 * variance in a daily sine 0, 0.5 or 0.95 (the rest noise). Resource
 * "k<l><v><d>-<i>".
 */
static const double LEVEL[3] = { 10, 40, 80 }, CV[3] = { 0.02, 0.2, 0.6 },
		    DAILY[3] = { 0, 0.5, 0.95 };
#define NSTEP (14 * 48)

static void fleet(struct shd_util *u, size_t reps)
{
	struct shd_rng rng;
	char key[80];

	start(u, "1800000");
	shd_rng_seed(&rng, 42);
	for (int l = 0; l < 3; l++)
		for (int v = 0; v < 3; v++)
			for (int d = 0; d < 3; d++)
				for (size_t i = 0; i < reps; i++) {
					double sd = LEVEL[l] * CV[v];
					double a = sqrt(DAILY[d]) * sd * sqrt(2.0);
					double e = sqrt(1 - DAILY[d]) * sd;
					snprintf(key, sizeof(key), "k%d%d%d-%03zu",
						 l, v, d, i);
					for (size_t k = 0; k < NSTEP; k++) {
						double x = LEVEL[l] + a *
							sin(2 * M_PI * (double)k / 48) +
							e * shd_rng_normal(&rng);
						EXPECT_EQ_INT(shd_util_add(u, key,
							T0 + (int64_t)k * 1800000,
							&x), 0);
					}
				}
}

/* The kind (0..26) of resource R: from its name "k<l><v><d>-". */
static int kind_of(const struct shd_util *u, size_t r)
{
	const char *k = shd_util_resource(u, r);

	return (k[1] - '0') * 9 + (k[2] - '0') * 3 + (k[3] - '0');
}

static void test_profile(void)
{
	struct shd_util u;
	struct shd_profile p[27];

	fleet(&u, 1);
	EXPECT_EQ_INT(u.nres, 27);
	shd_profile_compute(p, &u, 0);
	for (size_t r = 0; r < 27; r++) {
		int k = kind_of(&u, r);
		EXPECT_NEAR(p[r].level, LEVEL[k / 9], LEVEL[k / 9] * 0.1);
		EXPECT_NEAR(p[r].cv, CV[k / 3 % 3], CV[k / 3 % 3] * 0.15);
		EXPECT_NEAR(p[r].daily, DAILY[k % 3], 0.08);
	}
	shd_util_release(&u);
}

static void test_stratify_every_kind(void)
{
	struct shd_util u;
	struct shd_profile *p;
	unsigned char *pick;
	size_t *cell, n, count[27] = { 0 }, kcell[27];
	struct shd_step_info info;

	fleet(&u, 10);
	n = u.nres;
	EXPECT_EQ_INT(n, 270);
	p = malloc(n * sizeof(*p));
	pick = malloc(n);
	cell = malloc(n * sizeof(*cell));
	shd_profile_compute(p, &u, 0);

	/* 10%: 27 picks, one of each kind */
	EXPECT_EQ_INT(shd_stratify(pick, cell, p, n, 0.1, 1, &info), 0);
	EXPECT_EQ_INT(info.kept, 27);
	EXPECT_EQ_INT(info.features, 3);
	EXPECT_EQ_INT(info.strata, 27);
	for (size_t r = 0; r < n; r++) {
		int k = kind_of(&u, r);
		count[k] += pick[r];
		/* a kind is one stratum, and a stratum one kind */
		if (r % 10 == 0)
			kcell[k] = cell[r];
		EXPECT_EQ_INT(cell[r], kcell[k]);
	}
	for (int k = 0; k < 27; k++) {
		EXPECT_EQ_INT(count[k], 1);
		for (int j = 0; j < k; j++)
			EXPECT(kcell[j] != kcell[k]);
	}

	/* 30%: 81 picks, in proportion: 3 of each */
	memset(count, 0, sizeof(count));
	EXPECT_EQ_INT(shd_stratify(pick, NULL, p, n, 0.3, 5, &info), 0);
	EXPECT_EQ_INT(info.kept, 81);
	for (size_t r = 0; r < n; r++)
		count[kind_of(&u, r)] += pick[r];
	for (int k = 0; k < 27; k++)
		EXPECT_EQ_INT(count[k], 3);

	/* 1%: 3 picks cannot cover 27 strata: level tertiles, one each */
	memset(count, 0, sizeof(count));
	EXPECT_EQ_INT(shd_stratify(pick, NULL, p, n, 0.01, 1, &info), 0);
	EXPECT_EQ_INT(info.kept, 3);
	EXPECT_EQ_INT(info.features, 1);
	EXPECT_EQ_INT(info.strata, 3);
	size_t lv[3] = { 0 };
	for (size_t r = 0; r < n; r++)
		lv[kind_of(&u, r) / 9] += pick[r];
	EXPECT(lv[0] == 1 && lv[1] == 1 && lv[2] == 1);

	free(p);
	free(pick);
	free(cell);
	shd_util_release(&u);
}

/* A fleet of 1000: 37 or so of each kind, 100 picks, every kind kept. */
static void test_stratify_thousand(void)
{
	struct shd_profile *p = malloc(1000 * sizeof(*p));
	unsigned char *pick = malloc(1000);
	size_t count[27] = { 0 }, total = 0;
	struct shd_rng rng;

	shd_rng_seed(&rng, 3);
	for (size_t r = 0; r < 1000; r++) {
		int k = (int)(r % 27);
		p[r].level = LEVEL[k / 9] * (1 + 0.01 * shd_rng_normal(&rng));
		p[r].cv = CV[k / 3 % 3] * (1 + 0.01 * shd_rng_normal(&rng));
		p[r].daily = DAILY[k % 3] + 0.001 * shd_rng_uniform(&rng);
	}
	EXPECT_EQ_INT(shd_stratify(pick, NULL, p, 1000, 0.1, 9, NULL), 0);
	for (size_t r = 0; r < 1000; r++) {
		count[r % 27] += pick[r];
		total += pick[r];
	}
	EXPECT_EQ_INT(total, 100);
	for (int k = 0; k < 27; k++)
		EXPECT(count[k] >= 3 && count[k] <= 4);
	free(p);
	free(pick);
}

static int same_rows(const struct shd_util *a, const struct shd_util *b)
{
	if (a->n != b->n || a->nres != b->nres || a->nmetric != b->nmetric)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->t[i] != b->t[i] ||
		    strcmp(shd_dict_str(a->dict, a->key[i], NULL),
			   shd_dict_str(b->dict, b->key[i], NULL)) != 0)
			return 0;
		for (size_t m = 0; m < a->nmetric; m++)
			if (memcmp(&a->x[m][i], &b->x[m][i], sizeof(double)))
				return 0;
	}
	return 1;
}

static void test_resources_seeded(void)
{
	struct shd_util u, a, b, c;
	struct shd_step_info info;
	int differ = 0;

	fleet(&u, 4);
	EXPECT_EQ_INT(shd_shadow_resources(&a, &u, 0.25, 1, 0, &info), 0);
	EXPECT_EQ_INT(shd_shadow_resources(&b, &u, 0.25, 1, 0, NULL), 0);
	EXPECT_EQ_INT(a.nres, 27);
	EXPECT(same_rows(&a, &b));
	/* chosen resources are kept whole */
	for (size_t r = 0; r < a.nres; r++)
		EXPECT_EQ_INT(a.rstart[r + 1] - a.rstart[r], NSTEP);
	for (uint64_t s = 2; s < 6; s++) {
		EXPECT_EQ_INT(shd_shadow_resources(&c, &u, 0.25, s, 0, NULL), 0);
		differ |= !same_rows(&a, &c);
		shd_util_release(&c);
	}
	EXPECT(differ);
	shd_util_release(&a);
	shd_util_release(&b);

	/* too few picks for the strata: one pick from one stratum */
	EXPECT_EQ_INT(shd_shadow_resources(&a, &u, 0.001, 1, 0, &info), 0);
	EXPECT_EQ_INT(a.nres, 1);
	EXPECT_EQ_INT(info.features, 0);
	shd_util_release(&a);
	shd_util_release(&u);
}

/* ---------------------------------------------------------- periods */

static int64_t day_of(int64_t t)
{
	return t / SHD_MS_DAY;
}

static void test_days_whole(void)
{
	struct shd_util u, s, s2;
	struct shd_step_info info;
	char key[16];
	int kept_day[20] = { 0 };
	size_t prod_rows[20] = { 0 }, shadow_rows[20] = { 0 };

	/* 3 resources, 10 days at 5 minutes from 06:00 of day 0 to 06:00
	 * of day 10 (11 UTC days touched, the first and last partly) */
	start(&u, "300000");
	for (int r = 0; r < 3; r++) {
		snprintf(key, sizeof(key), "r%d", r);
		for (int64_t t = T0 + 6 * SHD_MS_HOUR;
		     t < T0 + 10 * SHD_MS_DAY + 6 * SHD_MS_HOUR; t += MIN5) {
			double x = (double)r + (double)(t % 7);
			EXPECT_EQ_INT(shd_util_add(&u, key, t, &x), 0);
			prod_rows[day_of(t - T0)]++;
		}
	}
	EXPECT_EQ_INT(shd_shadow_periods(&s, &u, 0.3, 1, SHD_MS_DAY, &info), 0);
	EXPECT_EQ_INT(info.of, 11);
	EXPECT_EQ_INT(info.kept, 3);
	EXPECT_EQ_INT(s.nres, 3);
	for (size_t i = 0; i < s.n; i++) {
		kept_day[day_of(s.t[i] - T0)] = 1;
		shadow_rows[day_of(s.t[i] - T0)]++;
	}
	int ndays = 0, last = -10;
	for (int d = 0; d < 20; d++) {
		if (!kept_day[d])
			continue;
		ndays++;
		/* whole: every row of the day, of every resource */
		EXPECT_EQ_INT(shadow_rows[d], prod_rows[d]);
		/* spread: systematic steps of 11/3 days */
		EXPECT(d - last >= 3);
		last = d;
	}
	EXPECT_EQ_INT(ndays, 3);
	/* the values come along unchanged */
	for (size_t i = 0; i < s.n; i++)
		EXPECT_NEAR(s.x[0][i], (double)(s.key[i]) + (double)(s.t[i] % 7), 0);

	/* same seed, same days; some other seed, other days */
	EXPECT_EQ_INT(shd_shadow_periods(&s2, &u, 0.3, 1, SHD_MS_DAY, NULL), 0);
	EXPECT(same_rows(&s, &s2));
	shd_util_release(&s2);
	int differ = 0;
	for (uint64_t seed = 2; seed < 12; seed++) {
		EXPECT_EQ_INT(shd_shadow_periods(&s2, &u, 0.3, seed, SHD_MS_DAY,
						 NULL), 0);
		differ |= !same_rows(&s, &s2);
		shd_util_release(&s2);
	}
	EXPECT(differ);
	shd_util_release(&s);

	/* at least one day, even at a tiny fraction */
	EXPECT_EQ_INT(shd_shadow_periods(&s, &u, 0.001, 1, SHD_MS_DAY, &info), 0);
	EXPECT_EQ_INT(info.kept, 1);
	EXPECT(s.n > 0);
	shd_util_release(&s);
	shd_util_release(&u);
}

static void test_weeks_monday(void)
{
	struct shd_util u, s;
	struct shd_step_info info;
	double x = 1;

	/* Sunday 23:00 and Monday 00:00 are in two weeks; the rows of the
	 * Monday and the next Sunday in one */
	start(&u, NULL);
	EXPECT_EQ_INT(shd_util_add(&u, "a", T0 - SHD_MS_HOUR, &x), 0);
	EXPECT_EQ_INT(shd_util_add(&u, "a", T0, &x), 0);
	EXPECT_EQ_INT(shd_util_add(&u, "a", T0 + 7 * SHD_MS_DAY - 1, &x), 0);
	EXPECT_EQ_INT(shd_shadow_periods(&s, &u, 0.5, 1, SHD_MS_WEEK, &info), 0);
	EXPECT_EQ_INT(info.of, 2);
	EXPECT_EQ_INT(info.kept, 1);
	EXPECT(s.n == 1 || s.n == 2);
	if (s.n == 2)
		EXPECT(s.t[0] == T0 && s.t[1] == T0 + 7 * SHD_MS_DAY - 1);
	else
		EXPECT(s.t[0] == T0 - SHD_MS_HOUR);
	shd_util_release(&s);
	shd_util_release(&u);
}

/* ------------------------------------------------------- downsample */

static void test_downsample_grid(void)
{
	struct shd_util u, s;
	struct shd_step_info info;
	/* 12 rows on a 5-minute grid from a 20-minute boundary; a NaN */
	double v[12] = { 1, 5, 3, 2,  10, NAN, 30, 20,  7, 7, 7, 7 };
	double mean[3] = { 11.0 / 4, 60.0 / 3, 7 };
	/* p95 of {1,2,3,5}: h = 3 * 0.95 = 2.85 -> 3 + 0.85 * 2 = 4.7;
	 * of {10,20,30}: h = 1.9 -> 20 + 0.9 * 10 = 29 */
	double p95[3] = { 4.7, 29, 7 }, max[3] = { 5, 30, 7 };

	start(&u, "300000");
	for (int i = 0; i < 12; i++)
		EXPECT_EQ_INT(shd_util_add(&u, "db", T0 + i * MIN5, &v[i]), 0);
	EXPECT_EQ_INT(shd_shadow_downsample(&s, &u, 0.25, &info), 0);
	EXPECT_EQ_INT(info.bucket, 4);
	EXPECT_EQ_INT(info.interval, 4 * MIN5);
	EXPECT_EQ_STR(shd_schema_meta(&s.schema, "interval_ms"), "1200000");
	EXPECT_EQ_INT(s.nmetric, 3);
	EXPECT_EQ_INT(shd_util_metric(&s, "cpu"), 0);
	EXPECT_EQ_INT(shd_util_metric(&s, "cpu.p95"), 1);
	EXPECT_EQ_INT(shd_util_metric(&s, "cpu.max"), 2);
	EXPECT_EQ_STR(s.schema.cols[s.mcol[1]].unit, "%");
	EXPECT_EQ_INT(s.n, 3);
	for (int b = 0; b < 3; b++) {
		EXPECT_EQ_INT(s.t[b], T0 + b * 4 * MIN5);
		EXPECT_NEAR(s.x[0][b], mean[b], 1e-12);
		EXPECT_NEAR(s.x[1][b], p95[b], 1e-12);
		EXPECT_NEAR(s.x[2][b], max[b], 0);
	}
	shd_util_release(&s);

	/* off the grid's boundary: the first bucket is partial */
	shd_util_release(&u);
	start(&u, "300000");
	for (int i = 0; i < 5; i++) {
		double x = i;
		EXPECT_EQ_INT(shd_util_add(&u, "db", T0 + (i + 3) * MIN5, &x), 0);
	}
	EXPECT_EQ_INT(shd_shadow_downsample(&s, &u, 0.25, NULL), 0);
	EXPECT_EQ_INT(s.n, 2);
	EXPECT_EQ_INT(s.t[0], T0);
	EXPECT_NEAR(s.x[0][0], 0, 0);
	EXPECT_NEAR(s.x[0][1], 2.5, 0);
	shd_util_release(&s);
	shd_util_release(&u);
}

static void test_downsample_rows(void)
{
	struct shd_util u, s, s2;
	double nan = NAN;

	/* no interval: buckets of consecutive rows at the first one's time;
	 * a bucket of NaN only is NaN */
	start(&u, NULL);
	for (int i = 0; i < 7; i++) {
		double x = i;
		EXPECT_EQ_INT(shd_util_add(&u, "a", 1000 + i * 7, &x), 0);
	}
	EXPECT_EQ_INT(shd_util_add(&u, "b", 5, &nan), 0);
	EXPECT_EQ_INT(shd_shadow_downsample(&s, &u, 1.0 / 3, NULL), 0);
	EXPECT(shd_schema_meta(&s.schema, "interval_ms") == NULL);
	EXPECT_EQ_INT(s.n, 4);
	EXPECT_EQ_INT(s.nres, 2);
	EXPECT_EQ_INT(s.t[0], 1000);
	EXPECT_EQ_INT(s.t[1], 1021);
	EXPECT_EQ_INT(s.t[2], 1042);
	EXPECT_NEAR(s.x[0][1], 4, 0);
	EXPECT_NEAR(s.x[2][2], 6, 0);
	EXPECT(isnan(s.x[0][3]) && isnan(s.x[1][3]) && isnan(s.x[2][3]));

	/* twice: the columns exist already */
	EXPECT_EQ_INT(shd_shadow_downsample(&s2, &s, 0.5, NULL), SHD_EINVAL);
	EXPECT(strstr(s2.err, "cpu.p95") != NULL);
	shd_util_release(&s2);
	shd_util_release(&s);
	shd_util_release(&u);
}

/* ------------------------------------------------- the stream in memory */

static void test_order(void)
{
	struct shd_util u;
	double x = 1;

	start(&u, NULL);
	EXPECT_EQ_INT(shd_util_add(&u, "a", 10, &x), 0);
	EXPECT_EQ_INT(shd_util_add(&u, "a", 10, &x), 0);
	EXPECT_EQ_INT(shd_util_add(&u, "b", 5, &x), 0);
	EXPECT_EQ_INT(shd_util_add(&u, "b", 4, &x), SHD_EFORMAT);
	EXPECT(strstr(u.err, "row 4") && strstr(u.err, "goes back"));
	EXPECT_EQ_INT(shd_util_add(&u, "a", 20, &x), SHD_EFORMAT);
	EXPECT(strstr(u.err, "'a' again"));
	EXPECT_EQ_INT(u.nres, 2);
	EXPECT_EQ_INT(u.rstart[2], 3);
	shd_util_release(&u);
}

static void test_not_utilization(void)
{
	static const char *const none[] = { NULL };
	struct shd_schema s;
	struct shd_util u;

	/* a forecast stream: origin and step */
	schema_of(&s, none, 0);
	shd_schema_add(&s, "origin", SHD_TIME, "ms", "origin");
	shd_schema_add(&s, "cpu.pred", SHD_F64, "", "forecast");
	shd_util_init(&u);
	EXPECT_EQ_INT(shd_util_start(&u, &s, "fc.shd"), SHD_EFORMAT);
	EXPECT(strstr(u.err, "fc.shd: not a utilization stream: column 'origin'"));
	shd_util_release(&u);
	shd_schema_release(&s);

	/* no metric */
	schema_of(&s, none, 0);
	shd_util_init(&u);
	EXPECT_EQ_INT(shd_util_start(&u, &s, "x"), SHD_EFORMAT);
	EXPECT(strstr(u.err, "no metric"));
	shd_util_release(&u);
	shd_schema_release(&s);

	/* no resource */
	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "cpu", SHD_F64, "", "metric");
	shd_util_init(&u);
	EXPECT_EQ_INT(shd_util_start(&u, &s, "x"), SHD_EFORMAT);
	EXPECT(strstr(u.err, "'resource'"));
	shd_util_release(&u);
	shd_schema_release(&s);
}

static void test_write_read(void)
{
	struct shd_schema s;
	struct shd_util u, v;
	struct shd_writer *w = NULL;
	struct shd_reader *r = NULL;
	FILE *fp = tmpfile();
	double x[2];

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "cpu", SHD_F64, "%", "metric");
	shd_schema_add(&s, "mem", SHD_F32, "MiB", "");
	shd_util_init(&u);
	EXPECT_EQ_INT(shd_util_start(&u, &s, "mem"), 0);
	for (int i = 0; i < 70000; i++) {
		x[0] = i % 3 ? i * 0.1 : NAN;
		x[1] = (float)(i * 0.5);
		EXPECT_EQ_INT(shd_util_add(&u, i < 40000 ? "web" : "db",
					   T0 + i * MIN5, x), 0);
	}
	EXPECT(fp != NULL);
	EXPECT_EQ_INT(shd_writer_open(&w, fileno(fp), &u.schema, NULL), 0);
	EXPECT_EQ_INT(shd_util_write(&u, w), 0);
	EXPECT_EQ_INT(shd_writer_close(w), 0);
	shd_writer_free(w);
	EXPECT_EQ_INT(lseek(fileno(fp), 0, SEEK_SET), 0);
	EXPECT_EQ_INT(shd_reader_open(&r, fileno(fp), "tmp"), 0);
	shd_util_init(&v);
	EXPECT_EQ_INT(shd_util_read(&v, r, "tmp"), 0);
	EXPECT(same_rows(&u, &v));
	EXPECT_EQ_INT(v.nres, 2);
	EXPECT_EQ_INT(v.schema.cols[3].type, SHD_F32);
	shd_reader_free(r);
	shd_util_release(&v);
	shd_util_release(&u);
	shd_schema_release(&s);
	fclose(fp);
}

static void test_strategy_parse(void)
{
	int s[SHD_MAX_STEPS];
	size_t n;
	char err[128];

	EXPECT_EQ_INT(shd_strategy_parse("resources", s, &n, err, sizeof(err)), 0);
	EXPECT(n == 1 && s[0] == SHD_STRAT_RESOURCES);
	EXPECT_EQ_INT(shd_strategy_parse("days,downsample", s, &n, err,
					 sizeof(err)), 0);
	EXPECT(n == 2 && s[0] == SHD_STRAT_DAYS && s[1] == SHD_STRAT_DOWNSAMPLE);
	EXPECT_EQ_INT(shd_strategy_parse("days,hours", s, &n, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT(strstr(err, "'hours'"));
	EXPECT_EQ_INT(shd_strategy_parse("weeks,weeks", s, &n, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT(strstr(err, "twice"));
	EXPECT_EQ_INT(shd_strategy_parse("", s, &n, err, sizeof(err)), SHD_EINVAL);
	EXPECT_EQ_INT(shd_strategy_parse("days,", s, &n, err, sizeof(err)),
		      SHD_EINVAL);
}

static void test_run_composes(void)
{
	struct shd_util u, s;
	struct shd_step_info info[2];
	int st[2] = { SHD_STRAT_RESOURCES, SHD_STRAT_DAYS };

	fleet(&u, 4);
	/* each of two steps keeps sqrt(0.25) = 0.5 */
	EXPECT_EQ_INT(shd_shadow_run(&s, &u, st, 2, 0.25, 1, 0, info), 0);
	EXPECT_NEAR(info[0].fraction, 0.5, 1e-12);
	EXPECT_EQ_INT(info[0].kept, 54);
	EXPECT_EQ_INT(info[1].of, 14);
	EXPECT_EQ_INT(info[1].kept, 7);
	EXPECT_EQ_INT(s.nres, 54);
	EXPECT_EQ_INT(s.n, 54 * 7 * 48);
	shd_util_release(&s);
	shd_util_release(&u);
}

static const struct harness_case cases[] = {
	TEST(test_profile),
	TEST(test_stratify_every_kind),
	TEST(test_stratify_thousand),
	TEST(test_resources_seeded),
	TEST(test_days_whole),
	TEST(test_weeks_monday),
	TEST(test_downsample_grid),
	TEST(test_downsample_rows),
	TEST(test_order),
	TEST(test_not_utilization),
	TEST(test_write_read),
	TEST(test_strategy_parse),
	TEST(test_run_composes),
};

int main(void)
{
	return RUN_TESTS(cases);
}
