/*
 * unit-plot.c - the gnuplot script of lib/plot.c: terminals by extension,
 * the time axis by span, the default window (one origin, a rolling
 * forecast, history alone), clipping and one point per time, panels left
 * empty dropped, missing values and holes as gaps (never a zero, never
 * "nan" in the data), quoting of names, terminals and sizes; panels of
 * series (shd-replay's policies): steps and lines, colours, the bold one
 * last, their window, whole tics from zero.
 */
#include "harness.h"

#include "shd.h"
#include "plot.h"

#define MIN INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 INT64_C(1706140800000)	/* 2024-01-25T00:00:00Z */

static void pt(struct shd_plot_panel *pn, int layer, int64_t t, double v)
{
	struct shd_plot_pt p = { t, v, v - 1, v + 1, 1 };

	EXPECT_EQ_INT(shd_plot_add(pn, layer, &p), 0);
}

/* The script of P for O, as a string (malloc'd). */
static char *script(const struct shd_plot *p, const struct shd_plot_out *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	EXPECT(fp != NULL);
	EXPECT_EQ_INT(shd_plot_write(p, o, fp), 0);
	fclose(fp);
	return buf;
}

/* The lines of the data block NAME in S, into OUT (n bytes). */
static void block(const char *s, const char *name, char *out, size_t n)
{
	char head[64];
	const char *b, *e;

	snprintf(head, sizeof(head), "%s << EOD\n", name);
	b = strstr(s, head);
	out[0] = '\0';
	if (!b) {
		FAIL_AT("no block %s", name);
		return;
	}
	b += strlen(head);
	e = strstr(b, "EOD\n");
	snprintf(out, n, "%.*s", e ? (int)(e - b) : 0, b);
}

static void test_term(void)
{
	EXPECT_EQ_INT(shd_plot_term_of("a.png"), SHD_PLOT_PNG);
	EXPECT_EQ_INT(shd_plot_term_of("dir/A.PNG"), SHD_PLOT_PNG);
	EXPECT_EQ_INT(shd_plot_term_of("x.svg"), SHD_PLOT_SVG);
	EXPECT_EQ_INT(shd_plot_term_of("x.Pdf"), SHD_PLOT_PDF);
	EXPECT_EQ_INT(shd_plot_term_of("x.jpg"), -1);
	EXPECT_EQ_INT(shd_plot_term_of("-"), -1);
	EXPECT_EQ_INT(shd_plot_term_of("d.png/x"), -1);
	EXPECT_EQ_INT(shd_plot_term_of(NULL), -1);
}

static void test_axis(void)
{
	EXPECT_EQ_STR(shd_plot_timefmt(6 * HOUR), "%H:%M");
	EXPECT_EQ_STR(shd_plot_timefmt(DAY), "%H:%M");
	EXPECT_EQ_STR(shd_plot_timefmt(2 * DAY + HOUR), "%m-%d %H:%M");
	EXPECT_EQ_STR(shd_plot_timefmt(30 * DAY), "%m-%d");
	EXPECT_EQ_INT(shd_plot_ticstep(HOUR, 10), 10 * MIN);
	EXPECT_EQ_INT(shd_plot_ticstep(9 * HOUR + 30 * MIN, 10), HOUR);
	EXPECT_EQ_INT(shd_plot_ticstep(9 * HOUR + 30 * MIN, 3), 3 * HOUR);
	EXPECT_EQ_INT(shd_plot_ticstep(2 * DAY + HOUR, 8), 6 * HOUR);
	EXPECT_EQ_INT(shd_plot_ticstep(2 * DAY + HOUR, 5), 12 * HOUR);
	EXPECT_EQ_INT(shd_plot_ticstep(28 * DAY, 8), 7 * DAY);
	EXPECT_EQ_INT(shd_plot_ticstep(HOUR, 0), 30 * MIN);	/* 2 at least */
	/* far beyond: still a handful of tics */
	EXPECT(3650 * DAY / shd_plot_ticstep(3650 * DAY, 8) <= 8);
}

/* One origin: from 2 days before it to the end of the forecast. */
static void test_window_origin(void)
{
	struct shd_plot p;
	struct shd_plot_panel *pn;

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", "%");
	for (int64_t t = T0 - 3 * DAY; t <= T0 + DAY; t += HOUR)
		pt(pn, SHD_PLOT_ACTUAL, t, 1);
	pt(pn, SHD_PLOT_FORECAST, T0 + HOUR, 2);
	pt(pn, SHD_PLOT_FORECAST, T0 + 2 * HOUR, 3);
	p.origin = T0;
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.from, T0 - 2 * DAY);
	EXPECT_EQ_INT(p.to, T0 + 2 * HOUR);
	/* 2 days and 2 hours of hourly points, both ends in */
	EXPECT_EQ_INT(p.panel[0].n[SHD_PLOT_ACTUAL], 2 * 24 + 3);
	EXPECT_EQ_STR(p.panel[0].unit, "%");
	shd_plot_release(&p);
}

/* Rolling: the last origin anchors; history alone: its end. */
static void test_window_rolling(void)
{
	struct shd_plot p;
	struct shd_plot_panel *pn;

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", NULL);
	for (int64_t t = T0 - 5 * DAY; t <= T0 + 5 * DAY; t += HOUR)
		pt(pn, SHD_PLOT_ACTUAL, t, 1);
	for (int64_t t = T0 - DAY; t <= T0; t += HOUR)
		pt(pn, SHD_PLOT_FORECAST, t + HOUR, 1);
	p.last_origin = T0;
	p.step = 1;
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.from, T0 - 2 * DAY);
	EXPECT_EQ_INT(p.to, T0 + HOUR);
	shd_plot_release(&p);

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", NULL);
	for (int64_t t = T0 - 5 * DAY; t <= T0; t += HOUR)
		pt(pn, SHD_PLOT_ACTUAL, t, 1);
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.from, T0 - 2 * DAY);
	EXPECT_EQ_INT(p.to, T0);
	shd_plot_release(&p);

	/* a forecast alone: from its first point, not two days before */
	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", NULL);
	pt(pn, SHD_PLOT_FORECAST, T0, 1);
	pt(pn, SHD_PLOT_FORECAST, T0 + HOUR, 1);
	p.origin = T0;
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.from, T0);
	EXPECT_EQ_INT(p.to, T0 + HOUR);
	shd_plot_release(&p);

	/* --to alone: two days before it */
	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", NULL);
	for (int64_t t = T0 - 5 * DAY; t <= T0; t += HOUR)
		pt(pn, SHD_PLOT_ACTUAL, t, 1);
	p.to = T0 - DAY;
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.from, T0 - 3 * DAY);
	shd_plot_release(&p);
}

/* Sorting, one point per time, empty panels, marks, a bad window. */
static void test_prepare(void)
{
	struct shd_plot p;
	struct shd_plot_panel *pn;

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", "");
	pt(pn, SHD_PLOT_ACTUAL, T0 + 2 * HOUR, 3);
	pt(pn, SHD_PLOT_ACTUAL, T0, NAN);
	pt(pn, SHD_PLOT_ACTUAL, T0 + HOUR, 2);
	pt(pn, SHD_PLOT_ACTUAL, T0, 1);	/* the one with a value wins */
	pn = shd_plot_panel(&p, "mem", "MiB");
	pt(pn, SHD_PLOT_ACTUAL, T0 - 10 * DAY, 5);	/* outside */
	EXPECT(shd_plot_panel(&p, "mem", "bytes") == pn);
	EXPECT_EQ_STR(pn->unit, "MiB");		/* the first unit kept */
	EXPECT(shd_plot_find(&p, "disk") == NULL);
	EXPECT_EQ_INT(shd_plot_mark(&p, T0 + HOUR, "replicas 2->4"), 0);
	EXPECT_EQ_INT(shd_plot_mark(&p, T0 - 10 * DAY, "old"), 0);
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.npanel, 1);
	EXPECT_EQ_STR(p.panel[0].metric, "cpu");
	EXPECT_EQ_INT(p.panel[0].n[SHD_PLOT_ACTUAL], 3);
	EXPECT_SAME_DOUBLE(p.panel[0].pt[SHD_PLOT_ACTUAL][0].v, 1);
	EXPECT_EQ_INT(p.panel[0].pt[SHD_PLOT_ACTUAL][2].t, T0 + 2 * HOUR);
	EXPECT_EQ_INT(p.nmark, 1);
	EXPECT_EQ_STR(p.mark[0].label, "replicas 2->4");
	shd_plot_release(&p);

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", "");
	pt(pn, SHD_PLOT_ACTUAL, T0, 1);
	p.from = T0 + DAY;	/* after everything: nothing to draw */
	p.to = T0 + 2 * DAY;
	EXPECT_EQ_INT(shd_plot_prepare(&p), 0);
	shd_plot_release(&p);

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", "");
	pt(pn, SHD_PLOT_ACTUAL, T0, 1);
	p.from = T0 + DAY;	/* after the default end: 2 days on */
	EXPECT_EQ_INT(shd_plot_prepare(&p), 0);
	EXPECT_EQ_INT(p.to, T0 + 3 * DAY);
	shd_plot_release(&p);

	shd_plot_init(&p);
	pn = shd_plot_panel(&p, "cpu", "");
	pt(pn, SHD_PLOT_ACTUAL, T0, 1);
	p.from = T0;		/* an empty window */
	p.to = T0;
	EXPECT_EQ_INT(shd_plot_prepare(&p), SHD_EINVAL);
	shd_plot_release(&p);

	shd_plot_init(&p);	/* nothing at all */
	EXPECT_EQ_INT(shd_plot_prepare(&p), 0);
	shd_plot_release(&p);
}

/* Missing values and holes are gaps (blank lines), never zeros. */
static void test_gaps(void)
{
	struct shd_plot p;
	struct shd_plot_panel *pn;
	struct shd_plot_out o = { "out.png", SHD_PLOT_PNG, 1000, 250 };
	char b[4096], *s;

	shd_plot_init(&p);
	p.resource = strdup("web-2");
	p.interval = 5 * MIN;
	pn = shd_plot_panel(&p, "cpu", "%");
	pt(pn, SHD_PLOT_ACTUAL, T0, 1);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 5 * MIN, NAN);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 10 * MIN, NAN);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 15 * MIN, 4);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 20 * MIN, 5);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 60 * MIN, 6);	/* a hole before */
	pt(pn, SHD_PLOT_ACTUAL, T0 + 60 * MIN + 1500, 7);	/* ms */
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	s = script(&p, &o);
	block(s, "$act1", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 1\n"
			 "\n"
			 "1706141700 4\n"
			 "1706142000 5\n"
			 "\n"
			 "1706144400 6\n"
			 "1706144401.500 7\n");
	EXPECT(strstr(s, "nan") == NULL && strstr(s, "NaN") == NULL);
	EXPECT(strstr(s, "$fc1") == NULL);	/* no empty blocks */
	/* the first value is alone (a gap after it): a dot as well */
	block(s, "$actdots1", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 1\n");
	free(s);
	shd_plot_release(&p);

	/* a value alone between gaps, which no line shows, is a dot */
	shd_plot_init(&p);
	p.interval = 5 * MIN;
	pn = shd_plot_panel(&p, "cpu", "%");
	pt(pn, SHD_PLOT_ACTUAL, T0, 1);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 5 * MIN, 2);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 10 * MIN, NAN);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 15 * MIN, 4);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 20 * MIN, NAN);
	pt(pn, SHD_PLOT_ACTUAL, T0 + 40 * MIN, 9);	/* after a hole */
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	s = script(&p, &o);
	block(s, "$actdots1", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706141700 4\n1706143200 9\n");
	EXPECT(strstr(s, "$actdots1 using 1:2 with points") != NULL);
	free(s);
	shd_plot_release(&p);
}

/* A whole script: blocks, layers, legend, limit, marks, quoting. */
static void test_script(void)
{
	struct shd_plot p;
	struct shd_plot_panel *pn;
	struct shd_plot_out o = { "it's.png", SHD_PLOT_PNG, 1000, 500 };
	struct shd_plot_pt al = { T0, 50, NAN, NAN, 0 };
	char b[4096], *s;

	shd_plot_init(&p);
	p.resource = strdup("web\"2'");
	p.origin = T0;
	p.coverage = 0.9;
	p.interval = 5 * MIN;
	pn = shd_plot_panel(&p, "cpu", "%");
	for (int i = -6; i <= 0; i++)
		pt(pn, SHD_PLOT_ACTUAL, T0 + i * 5 * MIN, 40 + i);
	for (int i = 0; i <= 3; i++)
		pt(pn, SHD_PLOT_FORECAST, T0 + i * 5 * MIN, 40 + 2 * i);
	pt(pn, SHD_PLOT_ALERT, T0, 40);		/* kept */
	EXPECT_EQ_INT(shd_plot_add(pn, SHD_PLOT_ALERT, &al), 0);
	pn->limit = 80;
	pn = shd_plot_panel(&p, "disk_io", "KiB/s");
	pt(pn, SHD_PLOT_ACTUAL, T0, 3);
	pt(pn, SHD_PLOT_ACTUAL, T0 - 5 * MIN, 2);
	EXPECT_EQ_INT(shd_plot_mark(&p, T0 + 3000, "replicas 2->4"), 0);
	EXPECT_EQ_INT(shd_plot_prepare(&p), 2);
	s = script(&p, &o);

	EXPECT(strstr(s, "set multiplot layout 2,1 ") != NULL);
	EXPECT(strstr(s, "unset multiplot\n") != NULL);
	EXPECT(strstr(s, "pngcairo size 1000,500 ") != NULL);
	EXPECT(strstr(s, "set terminal png size 1000,500 ") != NULL);
	EXPECT(strstr(s, "set output 'it''s.png'\n") != NULL);
	EXPECT(strstr(s, "title 'web\"2'': forecast from 2024-01-25 00:00 "
			 "UTC'") != NULL);
	EXPECT(strstr(s, "set termoption noenhanced") != NULL);
	block(s, "$band1", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 39 41\n1706141100 41 43\n"
			 "1706141400 43 45\n1706141700 45 47\n");
	block(s, "$kept1", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 40\n");
	block(s, "$supp1", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 50\n");
	block(s, "$act2", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140500 2\n1706140800 3\n");
	/* the band first (behind), the limit dashed, the alerts' legend */
	EXPECT(strstr(s, "plot $band1 using 1:2:3 with filledcurves") != NULL);
	EXPECT(strstr(s, "title '90% interval'") != NULL);
	EXPECT(strstr(s, "80 with lines") != NULL);
	EXPECT(strstr(s, "title 'limit 80'") != NULL);
	EXPECT(strstr(s, "title 'alert, suppressed'") != NULL);
	EXPECT(strstr(s, "set ylabel 'disk_io (KiB/s)'") != NULL);
	/* the mark in both panels, its label once */
	EXPECT(strstr(s, "set label 'replicas 2->4' at 1706140803, graph 1")
	       != NULL);
	EXPECT(strstr(strstr(s, "# panel 2"), "set arrow from 1706140803")
	       != NULL);
	EXPECT(strstr(strstr(s, "# panel 2"), "set label '") == NULL);
	/* x labels on the bottom panel only */
	EXPECT(strstr(strstr(s, "# panel 2"), "timedate") != NULL);
	EXPECT(strstr(strstr(s, "# panel 1"), "set format x ''") != NULL);
	free(s);

	/* pdf in inches at 100 pixels an inch; svg; no output: stdout */
	o.term = SHD_PLOT_PDF;
	s = script(&p, &o);
	EXPECT(strstr(s, "pdfcairo size 10.00in,5.00in") != NULL);
	free(s);
	o.term = SHD_PLOT_SVG;
	o.path = NULL;
	s = script(&p, &o);
	EXPECT(strstr(s, "set terminal svg size 1000,500") != NULL);
	EXPECT(strstr(s, "set output '") == NULL);
	free(s);
	shd_plot_release(&p);
}

/* A title given, control characters made harmless. */
static void test_title(void)
{
	struct shd_plot p;
	struct shd_plot_out o = { NULL, SHD_PLOT_SVG, 400, 300 };
	char *s;

	shd_plot_init(&p);
	p.resource = strdup("a\nb");
	pt(shd_plot_panel(&p, "m\ne", NULL), SHD_PLOT_ACTUAL, T0, 1);
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	s = script(&p, &o);
	EXPECT(strstr(s, "title 'a?b'") != NULL);
	EXPECT(strstr(s, "set ylabel 'm?e'") != NULL);
	free(s);
	p.title = strdup("My title");
	s = script(&p, &o);
	EXPECT(strstr(s, "title 'My title'") != NULL);
	free(s);
	shd_plot_release(&p);
}

/* Panels of series: an allocation as steps, a utilization as lines. */
static void test_series(void)
{
	struct shd_plot p;
	struct shd_plot_panel *pn;
	struct shd_plot_series *sr;
	struct shd_plot_out o = { "a.png", SHD_PLOT_PNG, 1000, 500 };
	char b[4096], *s, *at;

	shd_plot_init(&p);
	p.resource = strdup("web-2");
	pn = shd_plot_series_panel(&p, "allocation", NULL, SHD_PLOT_STEPS);
	EXPECT(pn != NULL);
	sr = shd_plot_series(pn, "static", 0, 0);
	for (int i = 0; i < 6; i++)
		EXPECT_EQ_INT(shd_plot_series_add(sr, T0 + i * 5 * MIN, 4), 0);
	sr = shd_plot_series(pn, "shd", 3, 1);
	for (int i = 5; i >= 0; i--)	/* any order */
		EXPECT_EQ_INT(shd_plot_series_add(sr, T0 + i * 5 * MIN,
						  i < 3 ? 4 : 2), 0);
	EXPECT(shd_plot_series(pn, "shd", 9, 0) == sr);	/* found again */
	/* a label is no metric: a metric of that name is a panel of its own */
	EXPECT(shd_plot_find(&p, "allocation") == NULL);
	pn = shd_plot_series_panel(&p, "cpu under each policy", "%",
				   SHD_PLOT_LINES);
	pn->limit = 90;
	sr = shd_plot_series(pn, "static", 0, 0);
	for (int i = 0; i < 6; i++)
		EXPECT_EQ_INT(shd_plot_series_add(sr, T0 + i * 5 * MIN, 10), 0);
	sr = shd_plot_series(pn, "shd", 3, 1);
	for (int i = 0; i < 6; i++)
		EXPECT_EQ_INT(shd_plot_series_add(sr, T0 + i * 5 * MIN,
						  i == 2 ? NAN : 20), 0);
	EXPECT_EQ_INT(shd_plot_prepare(&p), 2);
	/* series alone: their whole span */
	EXPECT_EQ_INT(p.from, T0);
	EXPECT_EQ_INT(p.to, T0 + 25 * MIN);
	EXPECT_EQ_INT(p.panel[0].ser[1].pt[0].t, T0);	/* sorted */
	s = script(&p, &o);
	block(s, "$ser1_1_static", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 4\n1706141100 4\n1706141400 4\n"
			 "1706141700 4\n1706142000 4\n1706142300 4\n");
	block(s, "$ser1_2_shd", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 4\n1706141100 4\n1706141400 4\n"
			 "1706141700 2\n1706142000 2\n1706142300 2\n");
	/* NaN is a gap, never a zero */
	block(s, "$ser2_2_shd", b, sizeof(b));
	EXPECT_EQ_STR(b, "1706140800 20\n1706141100 20\n\n"
			 "1706141700 20\n1706142000 20\n1706142300 20\n");
	EXPECT(strstr(s, "nan") == NULL && strstr(s, "NaN") == NULL);
	/* steps, distinct colours, the bold one last and thicker */
	EXPECT(strstr(s, "$ser1_1_static using 1:2 with steps lc rgb "
			 "'#7f7f7f' lw 1.5 title 'static'") != NULL);
	at = strstr(s, "$ser1_2_shd using 1:2 with steps lc rgb '#0072b2' "
		       "lw 3 title 'shd'");
	EXPECT(at != NULL && at > strstr(s, "$ser1_1_static using"));
	EXPECT(strstr(s, "$ser2_2_shd using 1:2 with lines lc rgb '#0072b2' "
			 "lw 3 title 'shd'") != NULL);
	/* the allocation from zero with whole tics, then the axis back */
	at = strstr(s, "# panel 1");
	EXPECT(at && strstr(at, "set ylabel 'allocation'\nset ytics 1\n"
				"set yrange [0:*]\n") != NULL);
	EXPECT(strstr(s, "lw 3 title 'shd'\nset autoscale yfix\n"
			 "set offsets 0, 0, graph 0.06, graph 0.06\n\n"
			 "# panel 2") != NULL);
	at = strstr(s, "# panel 2");
	EXPECT(at && strstr(at, "set ylabel 'cpu under each policy (%)'")
	       != NULL);
	EXPECT(at && strstr(at, "plot 90 with lines") != NULL);
	EXPECT(at && strstr(at, "yrange") == NULL);
	free(s);
	shd_plot_release(&p);

	/* with a metric: the metric's window, the series clipped to it */
	shd_plot_init(&p);
	pn = shd_plot_series_panel(&p, "allocation", "", SHD_PLOT_STEPS);
	sr = shd_plot_series(pn, "shd", 3, 1);
	for (int64_t t = T0 - 4 * DAY; t <= T0; t += HOUR)
		EXPECT_EQ_INT(shd_plot_series_add(sr, t, 1), 0);
	pn = shd_plot_panel(&p, "cpu", "%");
	for (int64_t t = T0 - 3 * DAY; t <= T0; t += HOUR)
		pt(pn, SHD_PLOT_ACTUAL, t, 1);
	EXPECT_EQ_INT(shd_plot_prepare(&p), 2);
	EXPECT_EQ_INT(p.from, T0 - 2 * DAY);
	EXPECT_EQ_INT(p.to, T0);
	EXPECT_EQ_INT(p.panel[0].ser[0].n, 2 * 24 + 1);
	shd_plot_release(&p);

	/* --to alone: from the series' start; a series of NaN: no panel */
	shd_plot_init(&p);
	pn = shd_plot_series_panel(&p, "cpu under each policy", "%",
				   SHD_PLOT_LINES);
	sr = shd_plot_series(pn, "static", 0, 0);
	for (int64_t t = T0 - 4 * DAY; t <= T0; t += HOUR)
		EXPECT_EQ_INT(shd_plot_series_add(sr, t, 7), 0);
	pn = shd_plot_series_panel(&p, "allocation", "", SHD_PLOT_STEPS);
	sr = shd_plot_series(pn, "static", 0, 0);
	EXPECT_EQ_INT(shd_plot_series_add(sr, T0, NAN), 0);
	p.to = T0 - DAY;
	EXPECT_EQ_INT(shd_plot_prepare(&p), 1);
	EXPECT_EQ_INT(p.from, T0 - 4 * DAY);
	EXPECT_EQ_STR(p.panel[0].metric, "cpu under each policy");
	shd_plot_release(&p);
}

int main(void)
{
	static const struct harness_case cases[] = {
		TEST(test_term),
		TEST(test_axis),
		TEST(test_window_origin),
		TEST(test_window_rolling),
		TEST(test_prepare),
		TEST(test_gaps),
		TEST(test_script),
		TEST(test_title),
		TEST(test_series),
	};

	return RUN_TESTS(cases);
}
