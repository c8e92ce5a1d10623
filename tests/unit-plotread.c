/*
 * unit-plotread.c - streams into a plot (lib/plotread.c): the resource's
 * rows of a utilization stream become its metrics' panels, a second
 * resource without one asked for is refused naming both, streams known by
 * their columns (two of a kind refused, bad metadata named), a forecast
 * from one origin drawn from the value at the origin, a rolling one at
 * the step asked for, and allocations as two panels of series after the
 * metrics'.
 */
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#include "plot.h"
#include "replay.h"
#include "shd.h"

#define MIN INT64_C(60000)
#define T0 INT64_C(1706140800000)	/* 2024-01-25T00:00:00Z */

/* Column J of a test stream: its name, type and unit. */
struct col {
	const char *name;
	enum shd_type type;
	const char *unit;
};

/*
 * A stream of the columns C (NC) and N rows through a memfd, rewound:
 * row i has time T0 + i minutes, key columns KEYS[i % NKEYS] (every key
 * column the same), origin T0 when ORIGINS is 1 (else T0 + (i / 3) min),
 * step i % 3 + 1, kept 1, and value 10 i + j in numeric column j. META:
 * "k=v" metadata or NULL.
 */
static int stream_of(const struct col *c, size_t nc, size_t n,
		     const char *const *keys, size_t nkeys, int origins,
		     const char *meta)
{
	struct shd_schema s;
	struct shd_dict *d = shd_dict_new();
	struct shd_frame f;
	struct shd_writer *w;
	int fd = memfd_create("unit-plotread", 0);

	shd_schema_init(&s);
	for (size_t j = 0; j < nc; j++)
		shd_schema_add(&s, c[j].name, c[j].type, c[j].unit, "");
	if (meta) {
		char k[64];
		const char *eq = strchr(meta, '=');

		snprintf(k, sizeof(k), "%.*s", (int)(eq - meta), meta);
		shd_schema_set_meta(&s, k, eq + 1);
	}
	shd_frame_init(&f, &s, d);
	shd_frame_reserve(&f, n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < nc; j++) {
			const char *name = c[j].name;
			uint32_t id;

			switch (c[j].type) {
			case SHD_TIME:
				SHD_I64COL(&f, j)[i] =
					!strcmp(name, "origin")
						? T0 + (origins == 1 ? 0 :
							(int64_t)(i / 3) * MIN)
						: T0 + (int64_t)i * MIN;
				break;
			case SHD_KEY:
				shd_dict_intern(d, keys[i % nkeys],
						strlen(keys[i % nkeys]), &id);
				SHD_KEYCOL(&f, j)[i] = id;
				break;
			case SHD_U8: SHD_U8COL(&f, j)[i] = 1; break;
			case SHD_I64:
				SHD_I64COL(&f, j)[i] = (int64_t)(i % 3 + 1);
				break;
			default:
				SHD_F64COL(&f, j)[i] = 10.0 * (double)i +
						       (double)j;
			}
		}
	f.nrows = n;
	EXPECT_EQ_INT(shd_writer_open(&w, fd, &s, NULL), 0);
	EXPECT_EQ_INT(shd_writer_write(w, &f), 0);
	EXPECT_EQ_INT(shd_writer_close(w), 0);
	shd_writer_free(w);
	shd_frame_release(&f);
	shd_schema_release(&s);
	shd_dict_free(d);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static const struct col util[] = {
	{ "time", SHD_TIME, "ms" }, { "resource", SHD_KEY, "" },
	{ "cpu", SHD_F64, "%" }, { "mem", SHD_F64, "MiB" },
};
static const char *const two[] = { "web-1", "web-2" };

/* Reads FD (then closed) into IN as PATH: the status, the message. */
static int rd(struct shd_plotin *in, int fd, const char *path, char *err,
	      size_t n)
{
	int rc = shd_plotin_read(in, fd, path, err, n);

	close(fd);
	return rc;
}

static void test_util(void)
{
	struct shd_plot p;
	struct shd_plotin *in;
	char err[256];
	long up;

	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, "web-2", 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 10, two, 2, 1,
				       "interval_ms=60000"),
			 "u.shd", err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_plotin_finish(in, 1, 0, &up), 0);
	EXPECT_EQ_INT(up, -1);
	EXPECT_EQ_INT(shd_plotin_rows(in), 5);
	EXPECT_EQ_STR(shd_plotin_resource(in), "web-2");
	EXPECT_EQ_STR(p.resource, "web-2");
	EXPECT_EQ_INT(p.interval, 60000);
	EXPECT_EQ_INT(p.npanel, 2);
	EXPECT_EQ_STR(p.panel[0].metric, "cpu");
	EXPECT_EQ_STR(p.panel[0].unit, "%");
	EXPECT_EQ_STR(p.panel[1].metric, "mem");
	EXPECT_EQ_INT(p.panel[0].n[SHD_PLOT_ACTUAL], 5);
	/* web-2's rows are 1, 3, 5, ...: cpu (column 2) = 10 i + 2 */
	EXPECT_EQ_INT(p.panel[0].pt[SHD_PLOT_ACTUAL][0].t, T0 + MIN);
	EXPECT_SAME_DOUBLE(p.panel[0].pt[SHD_PLOT_ACTUAL][0].v, 12.0);
	EXPECT_SAME_DOUBLE(p.panel[1].pt[SHD_PLOT_ACTUAL][4].v, 93.0);
	EXPECT(!strcmp(shd_plotin_path(in, SHD_PLOTIN_UTIL), "u.shd"));
	EXPECT(shd_plotin_path(in, SHD_PLOTIN_FORECAST) == NULL);
	shd_plotin_free(in);
	shd_plot_release(&p);

	/* --metrics: the panels given are all there are */
	shd_plot_init(&p);
	EXPECT(shd_plot_panel(&p, "mem", NULL) != NULL);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, NULL, 1), 0);
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 4, two, 1, 1, NULL),
			 "u.shd", err, sizeof(err)), 0);
	EXPECT_EQ_INT(p.npanel, 1);
	EXPECT_EQ_INT(p.panel[0].n[SHD_PLOT_ACTUAL], 4);
	shd_plotin_free(in);
	shd_plot_release(&p);
}

static void test_refused(void)
{
	static const struct col nores[] = {
		{ "time", SHD_TIME, "ms" }, { "cpu", SHD_F64, "%" },
	};
	static const char *const six[] = { "a", "b", "c", "d", "e", "f" };
	struct shd_plot p;
	struct shd_plotin *in;
	char err[256];

	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, NULL, 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 10, two, 2, 1, NULL), "u.shd",
			 err, sizeof(err)), SHD_EINVAL);
	EXPECT_EQ_STR(err, "the inputs hold several resources (web-1, "
		      "web-2): choose one with -r");
	shd_plotin_free(in);
	shd_plot_release(&p);

	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, NULL, 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 12, six, 6, 1, NULL), "u.shd",
			 err, sizeof(err)), SHD_EINVAL);
	EXPECT(strstr(err, "(a, b, c, d, e, ...)") != NULL);
	shd_plotin_free(in);
	shd_plot_release(&p);

	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, "web-1", 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(nores, 2, 3, two, 1, 1, NULL), "n.shd",
			 err, sizeof(err)), SHD_EFORMAT);
	EXPECT_EQ_STR(err, "n.shd: not a stream shd-plot knows: no 'time' "
		      "and 'resource' columns");
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 3, two, 2, 1, NULL), "a.shd",
			 err, sizeof(err)), 0);
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 3, two, 2, 1, NULL), "b.shd",
			 err, sizeof(err)), SHD_EINVAL);
	EXPECT_EQ_STR(err, "two utilization streams ('a.shd', 'b.shd'): give "
		      "one of each kind");
	shd_plotin_free(in);
	shd_plot_release(&p);

	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, "web-1", 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(util, 4, 3, two, 2, 1,
				       "interval_ms=-5"),
			 "m.shd", err, sizeof(err)), SHD_EFORMAT);
	EXPECT_EQ_STR(err, "m.shd: bad metadata interval_ms '-5'");
	shd_plotin_free(in);
	shd_plot_release(&p);
}

static const struct col fc[] = {
	{ "time", SHD_TIME, "ms" }, { "resource", SHD_KEY, "" },
	{ "origin", SHD_TIME, "ms" }, { "step", SHD_I64, "" },
	{ "cpu.pred", SHD_F64, "%" }, { "cpu.lo", SHD_F64, "%" },
	{ "cpu.hi", SHD_F64, "%" }, { "cpu.cur", SHD_F64, "%" },
};

static void test_forecast(void)
{
	struct shd_plot p;
	struct shd_plotin *in;
	const struct shd_plot_pt *f;
	char err[256];
	long up;

	/* one origin, 3 steps: the value at the origin, then the steps */
	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, NULL, 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(fc, 8, 3, two, 1, 1,
				       "horizon=3"),
			 "f.shd", err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_plotin_horizon(in), 3);
	EXPECT_EQ_INT(shd_plotin_finish(in, 1, 0, &up), 0);
	EXPECT_EQ_INT(p.origin, T0);
	EXPECT_EQ_INT(p.npanel, 1);
	EXPECT_EQ_STR(p.panel[0].metric, "cpu");
	EXPECT_EQ_INT(p.panel[0].n[SHD_PLOT_FORECAST], 4);
	f = p.panel[0].pt[SHD_PLOT_FORECAST];
	EXPECT_EQ_INT(f[0].t, T0);
	EXPECT_SAME_DOUBLE(f[0].v, 7.0);	/* cpu.cur of the step-1 row */
	EXPECT_SAME_DOUBLE(f[1].v, 4.0);
	EXPECT_SAME_DOUBLE(f[1].lo, 5.0);
	EXPECT_SAME_DOUBLE(f[3].hi, 26.0);
	/* no utilization stream: the forecast's own values stand in */
	EXPECT(p.panel[0].n[SHD_PLOT_ACTUAL] > 0);
	shd_plotin_free(in);
	shd_plot_release(&p);

	/* rolling (origins T0, T0+1min, ...): the step-2 forecasts alone */
	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, "web-1", 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(fc, 8, 9, two, 1, 3, NULL), "f.shd",
			 err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_plotin_finish(in, 2, 0, &up), 0);
	EXPECT_EQ_INT(p.step, 2);
	EXPECT_EQ_INT(p.last_origin, T0 + 2 * MIN);
	EXPECT_EQ_INT(p.panel[0].n[SHD_PLOT_FORECAST], 3);
	EXPECT_SAME_DOUBLE(p.panel[0].pt[SHD_PLOT_FORECAST][1].v, 44.0);
	shd_plotin_free(in);
	shd_plot_release(&p);
}

static void test_alloc(void)
{
	static const struct col al[] = {
		{ "time", SHD_TIME, "ms" }, { "resource", SHD_KEY, "" },
		{ "policy", SHD_KEY, "" }, { "alloc", SHD_F64, "m" },
		{ "util", SHD_F64, "%" },
	};
	struct shd_plot p;
	struct shd_plotin *in;
	char err[256];
	long up;

	/* the key columns share the keys: resource and policy alike */
	static const char *const pol[] = { "shd" };

	shd_plot_init(&p);
	EXPECT_EQ_INT(shd_plotin_new(&in, &p, NULL, 0), 0);
	EXPECT_EQ_INT(rd(in, stream_of(al, 5, 1, pol, 1, 1, "metric=cpu"),
			 "a.shd", err, sizeof(err)), 0);
	EXPECT_EQ_STR(shd_plotin_alloc_metric(in), "cpu");
	EXPECT_EQ_INT(shd_plotin_policy_rows(in, SHD_POL_SHD), 1);
	EXPECT_EQ_INT(shd_plotin_policy_rows(in, SHD_POL_STATIC), 0);
	EXPECT_EQ_INT(shd_plotin_finish(in, 1, (1u << SHD_NPOL) - 1, &up),
		      0);
	EXPECT_EQ_INT(p.npanel, 2);
	EXPECT_EQ_INT(up, 1);
	EXPECT_EQ_STR(p.panel[0].metric, "allocation");
	EXPECT_EQ_STR(p.panel[1].metric, "cpu under each policy");
	EXPECT_EQ_INT(p.panel[0].nser, 1);
	EXPECT_EQ_STR(p.panel[0].ser[0].name, "shd");
	EXPECT_EQ_STR(p.title, "shd: policies replayed on cpu");
	shd_plotin_free(in);
	shd_plot_release(&p);
}

int main(void)
{
	static const struct harness_case cases[] = {
		TEST(test_util),
		TEST(test_refused),
		TEST(test_forecast),
		TEST(test_alloc),
	};

	return RUN_TESTS(cases);
}
