/*
 * plot.c - one resource's streams as a gnuplot script (see plot.h).
 *
 * The script is self-contained (inline data blocks, gnuplot 5's plain
 * numbers on a time-formatted axis) so that --script output can be kept,
 * edited and run again with nothing but gnuplot. Layout is fixed in
 * pixels and turned into screen fractions, so that the panels of a stack
 * line up whatever their tic labels, and the legend sits in a right-hand
 * margin of its own instead of over the data.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "shd.h"
#include "plot.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define WINDOW_MS (2 * DAY_MS)	/* the default window before the anchor */

/* Colours: a colour-blind safe blue for forecasts, grey for what was. */
#define C_ACTUAL "#222222"
#define C_FORECAST "#1f5fbf"
#define C_BAND "#bcd3f0"
#define C_LIMIT "#d95f02"
#define C_KEPT "#d62728"
#define C_SUPP "#8c8c8c"
#define C_MARK "#1b9e77"
#define C_ORIGIN "#999999"
#define C_GRID "#e4e4e4"

/*
 * Series, by their colour index: Okabe and Ito's colour-blind safe
 * palette, grey first (shd-plot: static, reactive, percentile, shd), then
 * round again.
 */
static const char *const c_series[] = {
	"#7f7f7f", "#cc79a7", "#009e73", "#0072b2", "#e69f00", "#56b4e9",
	"#d55e00", "#000000",
};
#define NSERIES_C (sizeof(c_series) / sizeof(c_series[0]))

void shd_plot_init(struct shd_plot *p)
{
	memset(p, 0, sizeof(*p));
	p->origin = p->last_origin = INT64_MIN;
	p->from = p->to = INT64_MIN;
	p->coverage = NAN;
}

static void panel_release(struct shd_plot_panel *pn)
{
	free(pn->metric);
	free(pn->unit);
	for (int l = 0; l < SHD_PLOT_NLAYER; l++)
		free(pn->pt[l]);
	for (size_t k = 0; k < pn->nser; k++) {
		free(pn->ser[k].name);
		free(pn->ser[k].pt);
	}
	free(pn->ser);
	memset(pn, 0, sizeof(*pn));
}

void shd_plot_release(struct shd_plot *p)
{
	for (size_t i = 0; i < p->npanel; i++)
		panel_release(&p->panel[i]);
	for (size_t i = 0; i < p->nmark; i++)
		free(p->mark[i].label);
	free(p->panel);
	free(p->mark);
	free(p->resource);
	free(p->title);
	shd_plot_init(p);
}

struct shd_plot_panel *shd_plot_find(struct shd_plot *p, const char *metric)
{
	for (size_t i = 0; i < p->npanel; i++)
		if (p->panel[i].kind == SHD_PLOT_METRIC &&
		    strcmp(p->panel[i].metric, metric) == 0)
			return &p->panel[i];
	return NULL;
}

/* A new empty panel NAME of KIND at the end, or NULL (ENOMEM). */
static struct shd_plot_panel *new_panel(struct shd_plot *p, const char *name,
					int kind)
{
	struct shd_plot_panel *pn;

	if (p->npanel == p->cappanel) {
		size_t cap = p->cappanel ? 2 * p->cappanel : 8;
		struct shd_plot_panel *np = realloc(p->panel, cap * sizeof(*np));

		if (!np)
			return NULL;
		p->panel = np;
		p->cappanel = cap;
	}
	pn = &p->panel[p->npanel];
	memset(pn, 0, sizeof(*pn));
	pn->limit = NAN;
	pn->kind = kind;
	if (!(pn->metric = strdup(name)) || !(pn->unit = strdup(""))) {
		panel_release(pn);
		return NULL;
	}
	p->npanel++;
	return pn;
}

struct shd_plot_panel *shd_plot_panel(struct shd_plot *p, const char *metric,
				      const char *unit)
{
	struct shd_plot_panel *pn = shd_plot_find(p, metric);

	if (!pn && !(pn = new_panel(p, metric, SHD_PLOT_METRIC)))
		return NULL;
	if (unit && *unit && strcmp(unit, "-") != 0 && !*pn->unit) {
		char *u = strdup(unit);

		if (!u)
			return NULL;
		free(pn->unit);
		pn->unit = u;
	}
	return pn;
}

int shd_plot_add(struct shd_plot_panel *pn, int layer,
		 const struct shd_plot_pt *pt)
{
	if (pn->n[layer] == pn->cap[layer]) {
		size_t cap = pn->cap[layer] ? 2 * pn->cap[layer] : 256;
		struct shd_plot_pt *np = realloc(pn->pt[layer],
						 cap * sizeof(*np));

		if (!np)
			return SHD_ENOMEM;
		pn->pt[layer] = np;
		pn->cap[layer] = cap;
	}
	pn->pt[layer][pn->n[layer]++] = *pt;
	return 0;
}

struct shd_plot_panel *shd_plot_series_panel(struct shd_plot *p,
					     const char *label,
					     const char *unit, int kind)
{
	struct shd_plot_panel *pn;

	assert(kind == SHD_PLOT_LINES || kind == SHD_PLOT_STEPS);
	if (!(pn = new_panel(p, label, kind)))
		return NULL;
	if (unit && *unit && strcmp(unit, "-") != 0) {
		char *u = strdup(unit);

		if (!u) {
			panel_release(pn);
			p->npanel--;
			return NULL;
		}
		free(pn->unit);
		pn->unit = u;
	}
	return pn;
}

struct shd_plot_series *shd_plot_series(struct shd_plot_panel *pn,
					const char *name, int colour,
					int bold)
{
	struct shd_plot_series *sr;

	assert(pn->kind != SHD_PLOT_METRIC && colour >= 0);
	for (size_t k = 0; k < pn->nser; k++)
		if (!strcmp(pn->ser[k].name, name))
			return &pn->ser[k];
	if (pn->nser == pn->capser) {
		size_t cap = pn->capser ? 2 * pn->capser : 4;
		struct shd_plot_series *ns = realloc(pn->ser,
						     cap * sizeof(*ns));

		if (!ns)
			return NULL;
		pn->ser = ns;
		pn->capser = cap;
	}
	sr = &pn->ser[pn->nser];
	memset(sr, 0, sizeof(*sr));
	if (!(sr->name = strdup(name)))
		return NULL;
	sr->colour = colour;
	sr->bold = bold;
	pn->nser++;
	return sr;
}

int shd_plot_series_add(struct shd_plot_series *s, int64_t t, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct shd_plot_pt *np = realloc(s->pt, cap * sizeof(*np));

		if (!np)
			return SHD_ENOMEM;
		s->pt = np;
		s->cap = cap;
	}
	s->pt[s->n++] = (struct shd_plot_pt){ t, v, NAN, NAN, 0 };
	return 0;
}

int shd_plot_mark(struct shd_plot *p, int64_t t, const char *label)
{
	char *s;

	if (p->nmark == p->capmark) {
		size_t cap = p->capmark ? 2 * p->capmark : 16;
		struct shd_plot_mark *nm = realloc(p->mark, cap * sizeof(*nm));

		if (!nm)
			return SHD_ENOMEM;
		p->mark = nm;
		p->capmark = cap;
	}
	if (!(s = strdup(label)))
		return SHD_ENOMEM;
	p->mark[p->nmark].t = t;
	p->mark[p->nmark].label = s;
	p->nmark++;
	return 0;
}

/* ------------------------------------------------------------ prepare */

/* By time; at one time, a point with a value before one without. */
static int by_time(const void *x, const void *y)
{
	const struct shd_plot_pt *a = x, *b = y;

	if (a->t != b->t)
		return (a->t > b->t) - (a->t < b->t);
	return isnan(a->v) - isnan(b->v);
}

static int mark_by_time(const void *x, const void *y)
{
	const struct shd_plot_mark *a = x, *b = y;

	return (a->t > b->t) - (a->t < b->t);
}

/* Sorts a layer; with UNIQUE, one point per time (the first kept). */
static void sort_layer(struct shd_plot_pt *v, size_t *n, int unique)
{
	size_t k = 0;

	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), by_time);
	if (!unique)
		return;
	for (size_t i = 0; i < *n; i++)
		if (k == 0 || v[i].t != v[k - 1].t)
			v[k++] = v[i];
	*n = k;
}

/* Keeps the points of V inside [FROM, TO]. */
static void clip_layer(struct shd_plot_pt *v, size_t *n, int64_t from,
		       int64_t to)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++)
		if (v[i].t >= from && v[i].t <= to)
			v[k++] = v[i];
	*n = k;
}

static void span_pts(const struct shd_plot_pt *v, size_t n, int64_t *lo,
		     int64_t *hi)
{
	for (size_t k = 0; k < n; k++) {
		if (v[k].t < *lo)
			*lo = v[k].t;
		if (v[k].t > *hi)
			*hi = v[k].t;
	}
}

/* The span of LAYER in all panels; of the series with SHD_PLOT_NLAYER. */
static void span_of(const struct shd_plot *p, int layer, int64_t *lo,
		    int64_t *hi)
{
	for (size_t i = 0; i < p->npanel; i++) {
		const struct shd_plot_panel *pn = &p->panel[i];

		if (layer < SHD_PLOT_NLAYER) {
			span_pts(pn->pt[layer], pn->n[layer], lo, hi);
			continue;
		}
		for (size_t k = 0; k < pn->nser; k++)
			span_pts(pn->ser[k].pt, pn->ser[k].n, lo, hi);
	}
}

/* Has V (N points) a value? */
static int any_value(const struct shd_plot_pt *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i].v))
			return 1;
	return 0;
}

/*
 * The window of series alone: their whole span, within what was given
 * (--from alone: to their end; --to alone: from their start), and two
 * days where that leaves nothing.
 */
static void series_window(struct shd_plot *p, int64_t slo, int64_t shi)
{
	if (p->from == INT64_MIN)
		p->from = p->to == INT64_MIN || slo < p->to ? slo
							     : p->to - WINDOW_MS;
	if (p->to == INT64_MIN)
		p->to = shi > p->from ? shi : p->from + WINDOW_MS;
}

int shd_plot_prepare(struct shd_plot *p)
{
	int64_t alo = INT64_MAX, ahi = INT64_MIN, flo = INT64_MAX,
		fhi = INT64_MIN, llo = INT64_MAX, lhi = INT64_MIN,
		slo = INT64_MAX, shi = INT64_MIN, anchor, to, first;
	size_t k = 0, np;

	for (size_t i = 0; i < p->npanel; i++) {
		struct shd_plot_panel *pn = &p->panel[i];

		sort_layer(pn->pt[SHD_PLOT_ACTUAL], &pn->n[SHD_PLOT_ACTUAL], 1);
		sort_layer(pn->pt[SHD_PLOT_FORECAST],
			   &pn->n[SHD_PLOT_FORECAST], 1);
		sort_layer(pn->pt[SHD_PLOT_ALERT], &pn->n[SHD_PLOT_ALERT], 0);
		for (size_t j = 0; j < pn->nser; j++)
			sort_layer(pn->ser[j].pt, &pn->ser[j].n, 1);
	}
	if (p->nmark > 1)
		qsort(p->mark, p->nmark, sizeof(*p->mark), mark_by_time);

	/*
	 * The window: from two days before the forecast's (last) origin, or
	 * the end of what was used, to the end of the forecast.
	 */
	span_of(p, SHD_PLOT_ACTUAL, &alo, &ahi);
	span_of(p, SHD_PLOT_FORECAST, &flo, &fhi);
	span_of(p, SHD_PLOT_ALERT, &llo, &lhi);
	span_of(p, SHD_PLOT_NLAYER, &slo, &shi);
	if (p->origin != INT64_MIN)
		anchor = p->origin;
	else if (p->last_origin != INT64_MIN)
		anchor = p->last_origin;
	else if (ahi != INT64_MIN)
		anchor = ahi;
	else if (fhi != INT64_MIN)
		anchor = fhi;
	else
		anchor = lhi;
	to = fhi != INT64_MIN && fhi > anchor ? fhi : anchor;
	first = alo < flo ? alo : flo;
	first = llo < first ? llo : first;
	first = slo < first ? slo : first;
	if (anchor == INT64_MIN && shi != INT64_MIN)
		series_window(p, slo, shi);
	else if (anchor == INT64_MIN)
		return 0;	/* no point at all */
	if (p->from == INT64_MIN) {
		p->from = (p->to != INT64_MIN ? p->to : anchor) - WINDOW_MS;
		/* not before the data begins (a forecast alone) */
		if (first > p->from &&
		    first < (p->to != INT64_MIN ? p->to : to))
			p->from = first;
	}
	if (p->to == INT64_MIN)
		p->to = to > p->from ? to : p->from + WINDOW_MS;
	if (p->from >= p->to)
		return SHD_EINVAL;

	for (size_t i = 0; i < p->npanel; i++) {
		struct shd_plot_panel *pn = &p->panel[i];
		int any = 0;

		/* a panel of missing values only is left out too */
		for (int l = 0; l < SHD_PLOT_NLAYER; l++) {
			clip_layer(pn->pt[l], &pn->n[l], p->from, p->to);
			for (size_t j = 0; j < pn->n[l] && !any; j++)
				any = !isnan(pn->pt[l][j].v) ||
				      (l == SHD_PLOT_FORECAST &&
				       !isnan(pn->pt[l][j].lo) &&
				       !isnan(pn->pt[l][j].hi));
		}
		for (size_t j = 0; j < pn->nser; j++) {
			struct shd_plot_series *sr = &pn->ser[j];

			clip_layer(sr->pt, &sr->n, p->from, p->to);
			any = any || any_value(sr->pt, sr->n);
		}
		if (!any) {
			panel_release(pn);
			continue;
		}
		if (k != i)
			p->panel[k] = *pn;
		k++;
	}
	p->npanel = k;
	np = k;
	k = 0;
	for (size_t i = 0; i < p->nmark; i++) {
		if (p->mark[i].t >= p->from && p->mark[i].t <= p->to)
			p->mark[k++] = p->mark[i];
		else
			free(p->mark[i].label);
	}
	p->nmark = k;
	return (int)np;
}

/* ----------------------------------------------------------- the axis */

int shd_plot_term_of(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;

	if (!dot || strchr(dot, '/'))
		return -1;
	if (!strcasecmp(dot, ".png"))
		return SHD_PLOT_PNG;
	if (!strcasecmp(dot, ".svg"))
		return SHD_PLOT_SVG;
	if (!strcasecmp(dot, ".pdf"))
		return SHD_PLOT_PDF;
	return -1;
}

const char *shd_plot_timefmt(int64_t span)
{
	if (span <= DAY_MS)
		return "%H:%M";
	if (span <= 7 * DAY_MS)
		return "%m-%d %H:%M";
	return "%m-%d";
}

int64_t shd_plot_ticstep(int64_t span, int most)
{
	static const int64_t step[] = {
		MIN_MS, 5 * MIN_MS, 10 * MIN_MS, 15 * MIN_MS, 30 * MIN_MS,
		HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS,
		DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS, 28 * DAY_MS,
	};
	size_t n = sizeof(step) / sizeof(step[0]);

	if (most < 2)
		most = 2;
	for (size_t i = 0; i < n; i++)
		if (span / step[i] <= most)
			return step[i];
	/* beyond: whole multiples of 4 weeks */
	return (span / most / step[n - 1] + 1) * step[n - 1];
}

/* ------------------------------------------------------------- writing */

/* gnuplot single-quoted string: '' for ', control bytes made '?'. */
static void put_str(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\'')
			fputs("''", fp);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', fp);
		else
			fputc(c, fp);
	}
	fputc('\'', fp);
}

/* A time as gnuplot reads it: Unix seconds, with milliseconds if any. */
static void put_time(FILE *fp, int64_t ms)
{
	int64_t s = ms / 1000, r = ms % 1000;

	if (r < 0) {
		s--;
		r += 1000;
	}
	if (r)
		fprintf(fp, "%" PRId64 ".%03d", s, (int)r);
	else
		fprintf(fp, "%" PRId64, s);
}

static void put_num(FILE *fp, double v)
{
	char buf[32];

	shd_format_double(v, buf);
	fputs(buf, fp);
}

/* "2024-01-25 20:30" (UTC; seconds only when not zero). */
static void fmt_utc(int64_t ms, char *buf, size_t n)
{
	char iso[32];

	shd_time_format(ms, iso, sizeof(iso));
	/* 2024-01-25T20:30:00Z -> 2024-01-25 20:30 */
	iso[10] = ' ';
	if (!strncmp(iso + 16, ":00Z", 4) || !strncmp(iso + 16, ":00.", 4))
		iso[16] = '\0';
	else
		iso[19] = '\0';
	snprintf(buf, n, "%s", iso);
}

/* A duration for labels: "5 min", "1 h", "90 min", "2 d". */
static void fmt_dur(int64_t ms, char *buf, size_t n)
{
	if (ms % DAY_MS == 0)
		snprintf(buf, n, "%" PRId64 " d", ms / DAY_MS);
	else if (ms % HOUR_MS == 0)
		snprintf(buf, n, "%" PRId64 " h", ms / HOUR_MS);
	else if (ms % MIN_MS == 0)
		snprintf(buf, n, "%" PRId64 " min", ms / MIN_MS);
	else
		snprintf(buf, n, "%g s", (double)ms / 1000);
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/*
 * The usual distance between points of a layer: the interval when known,
 * else the median step; a step far beyond it is a hole.
 */
static int64_t usual_step(const struct shd_plot *p,
			  const struct shd_plot_pt *v, size_t n)
{
	int64_t *d, med;
	size_t k = 0;

	if (p->interval > 0)
		return p->interval;
	if (n < 3 || !(d = malloc((n - 1) * sizeof(*d))))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (v[i].t > v[i - 1].t)
			d[k++] = v[i].t - v[i - 1].t;
	if (!k) {
		free(d);
		return 0;
	}
	qsort(d, k, sizeof(*d), cmp_i64);
	med = d[k / 2];
	free(d);
	return med;
}

enum block { B_VALUE, B_BAND, B_KEPT, B_SUPP, B_DOTS };

/*
 * Is the value of point I of V alone, with no value next to it that a line
 * would join (a missing value or a hole on both sides)? A line cannot show
 * it: it is drawn as a dot.
 */
static int alone(const struct shd_plot_pt *v, size_t n, size_t i,
		 int64_t step)
{
	int64_t most = step > 0 ? step * 5 / 2 : INT64_MAX;

	if (isnan(v[i].v))
		return 0;
	if (i > 0 && !isnan(v[i - 1].v) && v[i].t - v[i - 1].t <= most)
		return 0;
	if (i + 1 < n && !isnan(v[i + 1].v) && v[i + 1].t - v[i].t <= most)
		return 0;
	return 1;
}

/* Does layer V (N points) have anything to draw as block B? */
static int block_has(const struct shd_plot *p, const struct shd_plot_pt *v,
		     size_t n, int b)
{
	int64_t step = b == B_DOTS ? usual_step(p, v, n) : 0;

	for (size_t i = 0; i < n; i++) {
		if (b == B_DOTS && alone(v, n, i, step))
			return 1;
		if (b == B_VALUE && !isnan(v[i].v))
			return 1;
		if (b == B_BAND && !isnan(v[i].lo) && !isnan(v[i].hi))
			return 1;
		if (b == B_KEPT && v[i].kept && !isnan(v[i].v))
			return 1;
		if (b == B_SUPP && !v[i].kept && !isnan(v[i].v))
			return 1;
	}
	return 0;
}

/*
 * Writes $NAME with the points of V as block B: "t v" or "t lo hi" rows,
 * one blank line for a run of missing values or a hole in time.
 */
static void put_block(FILE *fp, const struct shd_plot *p, const char *name,
		      const struct shd_plot_pt *v, size_t n, int b)
{
	int64_t step = b == B_KEPT || b == B_SUPP ? 0 : usual_step(p, v, n);
	int gap = 1;		/* no blank line before the first row */
	int64_t last = INT64_MIN;

	fprintf(fp, "$%s << EOD\n", name);
	for (size_t i = 0; i < n; i++) {
		int ok;

		if (b == B_DOTS) {
			if (alone(v, n, i, step)) {
				put_time(fp, v[i].t);
				fputc(' ', fp);
				put_num(fp, v[i].v);
				fputc('\n', fp);
			}
			continue;
		}
		switch (b) {
		case B_BAND: ok = !isnan(v[i].lo) && !isnan(v[i].hi); break;
		case B_KEPT: ok = v[i].kept && !isnan(v[i].v); break;
		case B_SUPP: ok = !v[i].kept && !isnan(v[i].v); break;
		default: ok = !isnan(v[i].v); break;
		}
		if (!ok) {
			if (!gap && (b == B_VALUE || b == B_BAND)) {
				fputc('\n', fp);
				gap = 1;
			}
			continue;
		}
		if (!gap && step > 0 && last != INT64_MIN &&
		    v[i].t - last > step * 5 / 2)
			fputc('\n', fp);
		put_time(fp, v[i].t);
		fputc(' ', fp);
		if (b == B_BAND) {
			put_num(fp, v[i].lo);
			fputc(' ', fp);
			put_num(fp, v[i].hi);
		} else {
			put_num(fp, v[i].v);
		}
		fputc('\n', fp);
		last = v[i].t;
		gap = 0;
	}
	fputs("EOD\n", fp);
}

/* Block B of layer V of panel IDX, $<PREFIX><IDX>, if it has anything. */
static void put_layer(FILE *fp, const struct shd_plot *p, const char *prefix,
		      size_t idx, const struct shd_plot_pt *v, size_t n, int b)
{
	char name[32];

	if (!block_has(p, v, n, b))
		return;
	snprintf(name, sizeof(name), "%s%zu", prefix, idx);
	put_block(fp, p, name, v, n, b);
}

/*
 * The block of series K of panel IDX: $ser<IDX>_<K>, then its name in
 * letters, digits and '_' (to read the script by), "ser2_4_shd"; DOTS:
 * its values alone, $serdots2_4_shd.
 */
static void series_block(char *buf, size_t n, size_t idx, size_t k,
			 const char *name, int dots)
{
	size_t l;

	snprintf(buf, n, "ser%s%zu_%zu_", dots ? "dots" : "", idx, k + 1);
	l = strlen(buf);
	for (; *name && l + 1 < n && l < 40; name++) {
		unsigned char c = (unsigned char)*name;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			buf[l++] = (char)c;
	}
	if (buf[l - 1] == '_')
		l--;		/* nothing of the name: "ser2_4" */
	buf[l] = '\0';
}

/* The forecast's legend entry: "forecast", "forecast 5 min ahead". */
static void fc_label(const struct shd_plot *p, char *buf, size_t n)
{
	char d[32];

	if (p->step <= 0)
		snprintf(buf, n, "forecast");
	else if (p->interval > 0) {
		fmt_dur(p->interval * p->step, d, sizeof(d));
		snprintf(buf, n, "forecast %s ahead", d);
	} else {
		snprintf(buf, n, "forecast %d step%s ahead", p->step,
			 p->step == 1 ? "" : "s");
	}
}

static void put_title(FILE *fp, const struct shd_plot *p)
{
	char buf[512], t[32], d[32];

	if (p->title) {
		put_str(fp, p->title);
		return;
	}
	if (p->origin != INT64_MIN) {
		fmt_utc(p->origin, t, sizeof(t));
		snprintf(buf, sizeof(buf), "%s: forecast from %s UTC",
			 p->resource ? p->resource : "", t);
	} else if (p->step > 0) {
		if (p->interval > 0) {
			fmt_dur(p->interval * p->step, d, sizeof(d));
			snprintf(buf, sizeof(buf), "%s: forecasts %s ahead",
				 p->resource ? p->resource : "", d);
		} else {
			snprintf(buf, sizeof(buf), "%s: forecasts %d step%s "
				 "ahead", p->resource ? p->resource : "",
				 p->step, p->step == 1 ? "" : "s");
		}
	} else {
		snprintf(buf, sizeof(buf), "%s", p->resource ? p->resource : "");
	}
	put_str(fp, buf);
}

/* The x axis label: the date when the window is within one UTC day. */
static void put_xlabel(FILE *fp, const struct shd_plot *p)
{
	char a[32], b[32], buf[96];

	shd_time_format(p->from, a, sizeof(a));
	shd_time_format(p->to - 1, b, sizeof(b));
	if (!strncmp(a, b, 10))
		snprintf(buf, sizeof(buf), "%.10s (UTC)", a);
	else if (p->to - p->from <= DAY_MS)	/* labels without a date */
		snprintf(buf, sizeof(buf), "%.10s to %.10s (UTC)", a, b);
	else if (!strncmp(a, b, 4))
		snprintf(buf, sizeof(buf), "%.4s (UTC)", a);
	else
		snprintf(buf, sizeof(buf), "time (UTC)");
	fputs("set xlabel ", fp);
	put_str(fp, buf);
	fputc('\n', fp);
}

static void put_terminal(FILE *fp, const struct shd_plot_out *o)
{
	unsigned w = o->width, h = o->height;

	switch (o->term) {
	case SHD_PLOT_SVG:
		fprintf(fp, "set terminal svg size %u,%u font 'sans,10' "
			"background rgb 'white'\n", w, h);
		break;
	case SHD_PLOT_PDF:
		fprintf(fp, "set terminal pdfcairo size %.2fin,%.2fin "
			"font 'sans,10' background rgb 'white'\n",
			w / 100.0, h / 100.0);
		break;
	default:
		/* Debian's gnuplot-nox has pngcairo; the gd png is the
		 * fallback of builds without cairo */
		fprintf(fp,
			"if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) {\n"
			"    set terminal pngcairo size %u,%u font 'sans,10' "
			"background rgb 'white'\n"
			"} else {\n"
			"    set terminal png size %u,%u background rgb 'white'\n"
			"}\n", w, h, w, h);
	}
	if (o->path) {
		fputs("set output ", fp);
		put_str(fp, o->path);
		fputc('\n', fp);
	} else {
		fputs("# no 'set output': the image goes to standard output "
		      "(gnuplot THIS > plot.png)\n", fp);
	}
}

/* The y axis of a panel: its data's range, and a little room around. */
#define Y_AXIS "set autoscale yfix\n" \
	       "set offsets 0, 0, graph 0.06, graph 0.06\n"

/* Screen fractions of the layout, from margins in pixels. */
struct layout {
	double l, r, b, t, gap;
	double panel_px, width_px;	/* a panel's plot area */
};

/*
 * The legend sits right of the panels, in a margin wide enough for its
 * longest entry (gnuplot cannot shrink a multiplot's fixed panels for
 * it, and would draw it over the data): about 7 pixels a character at
 * 10 points, plus the sample line.
 */
static size_t key_chars(const struct shd_plot *p)
{
	char buf[96];
	size_t most = strlen("alert, suppressed");

	fc_label(p, buf, sizeof(buf));
	if (strlen(buf) > most)
		most = strlen(buf);
	for (size_t i = 0; i < p->npanel; i++) {
		for (size_t k = 0; k < p->panel[i].nser; k++)
			if (strlen(p->panel[i].ser[k].name) > most)
				most = strlen(p->panel[i].ser[k].name);
		if (isnan(p->panel[i].limit))
			continue;
		shd_format_double(p->panel[i].limit, buf);
		if (strlen(buf) + 6 > most)
			most = strlen(buf) + 6;
	}
	return most;
}

static struct layout layout_of(const struct shd_plot *p,
			       const struct shd_plot_out *o)
{
	double w = o->width ? o->width : 1, h = o->height ? o->height : 1;
	size_t np = p->npanel;
	struct layout L;

	L.l = 85 / w;
	L.r = 1 - (double)(50 + 7 * key_chars(p)) / w;
	L.b = 55 / h;
	/* the title, and the labels of the marks above the top panel */
	L.t = 1 - (p->nmark ? 56 : 38) / h;
	L.gap = np > 1 ? 22 / h : 0;
	/* tiny images: keep the plot area, give up margins */
	if (L.r - L.l < 0.3) {
		L.l = 0.12;
		L.r = 0.75;
	}
	if ((L.t - L.b - (double)(np - 1) * L.gap) * h < 40 * (double)np) {
		L.b = 0.08;
		L.t = 0.92;
		L.gap = 0;
	}
	L.panel_px = (L.t - L.b - (double)(np - 1) * L.gap) * h /
		     (double)(np ? np : 1);
	L.width_px = (L.r - L.l) * w;
	return L;
}

/*
 * Does the y axis of panel PN start at zero? Steps (allocations) that
 * are never negative: an allocation is an amount, and 4 replicas against
 * 1 should look four times as many.
 */
static int from_zero(const struct shd_plot_panel *pn)
{
	if (pn->kind != SHD_PLOT_STEPS)
		return 0;
	for (size_t k = 0; k < pn->nser; k++)
		for (size_t j = 0; j < pn->ser[k].n; j++)
			if (pn->ser[k].pt[j].v < 0)
				return 0;
	return 1;
}

/*
 * A y tic step for panel PN: a round number (1, 2, 2.5 or 5 times a power
 * of ten) giving at most one tic per 30 pixels of its height; gnuplot's
 * own choice looks at the range only, and crowds short panels. Steps of
 * whole numbers only (allocations: replicas) have whole tics. 0 when the
 * panel's values span nothing.
 */
static double ytic_step(const struct shd_plot_panel *pn, double px)
{
	static const double nice[] = { 1, 2, 2.5, 5, 10 };
	double lo = INFINITY, hi = -INFINITY, raw, mag;
	int most = (int)(px / 30), whole = pn->kind == SHD_PLOT_STEPS;

	for (size_t k = 0; k < pn->nser; k++)
		for (size_t j = 0; j < pn->ser[k].n; j++) {
			double v = pn->ser[k].pt[j].v;

			if (!isfinite(v))
				continue;
			lo = fmin(lo, v);
			hi = fmax(hi, v);
			whole = whole && v == floor(v);
		}
	for (int l = 0; l < SHD_PLOT_NLAYER; l++)
		for (size_t k = 0; k < pn->n[l]; k++) {
			const struct shd_plot_pt *q = &pn->pt[l][k];
			double v[3] = { q->v, NAN, NAN };

			if (l == SHD_PLOT_FORECAST) {
				v[1] = q->lo;
				v[2] = q->hi;
			}
			for (int j = 0; j < 3; j++)
				if (isfinite(v[j])) {
					lo = fmin(lo, v[j]);
					hi = fmax(hi, v[j]);
				}
		}
	if (isfinite(pn->limit)) {
		lo = fmin(lo, pn->limit);
		hi = fmax(hi, pn->limit);
	}
	if (from_zero(pn))
		lo = 0;
	if (!(hi > lo) || !isfinite(hi - lo))
		return 0;
	if (most < 2)
		most = 2;
	/* the range grows by the offsets (6% each side) */
	raw = (hi - lo) * 1.12 / most;
	mag = pow(10, floor(log10(raw)));
	for (size_t k = 0; k < sizeof(nice) / sizeof(nice[0]); k++)
		if (nice[k] * mag >= raw &&
		    (!whole || nice[k] * mag == floor(nice[k] * mag)))
			return whole && nice[k] * mag < 1 ? 1 : nice[k] * mag;
	return whole && 10 * mag < 1 ? 1 : 10 * mag;
}

static void put_panel(FILE *fp, const struct shd_plot *p,
		      const struct layout *L, size_t i, int last)
{
	const struct shd_plot_panel *pn = &p->panel[i];
	const struct shd_plot_pt *fc = pn->pt[SHD_PLOT_FORECAST];
	const struct shd_plot_pt *ac = pn->pt[SHD_PLOT_ACTUAL];
	const struct shd_plot_pt *al = pn->pt[SHD_PLOT_ALERT];
	size_t nf = pn->n[SHD_PLOT_FORECAST], na = pn->n[SHD_PLOT_ACTUAL],
	       nl = pn->n[SHD_PLOT_ALERT];
	const char *sep = "plot ";
	char buf[320];
	double ystep;

	fprintf(fp, "\n# panel %zu: ", i + 1);
	put_str(fp, pn->metric);
	fputc('\n', fp);
	if (*pn->unit)
		snprintf(buf, sizeof(buf), "%s (%s)", pn->metric, pn->unit);
	else
		snprintf(buf, sizeof(buf), "%s", pn->metric);
	fputs("set ylabel ", fp);
	put_str(fp, buf);
	fputc('\n', fp);
	if ((ystep = ytic_step(pn, L->panel_px)) > 0) {
		fputs("set ytics ", fp);
		put_num(fp, ystep);
		fputc('\n', fp);
	} else {
		fputs("set ytics autofreq\n", fp);
	}
	/* from zero, with room above the top step for the frame */
	if (from_zero(pn))
		fputs("set yrange [0:*]\nset offsets 0, 0, graph 0.1, 0\n",
		      fp);
	if (last) {
		fputs("set format x ", fp);
		put_str(fp, shd_plot_timefmt(p->to - p->from));
		fputs(" timedate\n", fp);
		put_xlabel(fp, p);
	} else {
		fputs("set format x ''\nunset xlabel\n", fp);
	}
	fputs("unset arrow\nunset label\n", fp);
	if (p->origin != INT64_MIN && p->origin >= p->from &&
	    p->origin <= p->to) {
		fputs("set arrow from ", fp);
		put_time(fp, p->origin);
		fputs(", graph 0 to ", fp);
		put_time(fp, p->origin);
		fputs(", graph 1 nohead back lc rgb '" C_ORIGIN
		      "' lw 1 dt 3\n", fp);
	}
	for (size_t k = 0; k < p->nmark; k++) {
		fputs("set arrow from ", fp);
		put_time(fp, p->mark[k].t);
		fputs(", graph 0 to ", fp);
		put_time(fp, p->mark[k].t);
		fputs(", graph 1 nohead front lc rgb '" C_MARK
		      "' lw 1.5 dt 2\n", fp);
		/*
		 * the labels once, just above the top panel (in the data
		 * they would hide what the change answered); left of the
		 * line in the right part, so that they stay inside
		 */
		if (i == 0) {
			int right = (double)(p->mark[k].t - p->from) >
				    0.6 * (double)(p->to - p->from);

			fputs("set label ", fp);
			put_str(fp, p->mark[k].label);
			fputs(" at ", fp);
			put_time(fp, p->mark[k].t);
			fprintf(fp, ", graph 1 offset 0,0.7 %s front "
				"tc rgb '" C_MARK "'\n",
				right ? "right" : "left");
		}
	}

	if (block_has(p, fc, nf, B_BAND)) {
		if (isnan(p->coverage))
			snprintf(buf, sizeof(buf), "interval");
		else
			snprintf(buf, sizeof(buf), "%g%% interval",
				 100 * p->coverage);
		fprintf(fp, "%s$band%zu using 1:2:3 with filledcurves "
			"fc rgb '" C_BAND "' fs solid 1.0 noborder title ",
			sep, i + 1);
		put_str(fp, buf);
		sep = ", \\\n     ";
	}
	if (block_has(p, fc, nf, B_VALUE)) {
		fc_label(p, buf, sizeof(buf));
		fprintf(fp, "%s$fc%zu using 1:2 with lines lc rgb '"
			C_FORECAST "' lw 2 title ", sep, i + 1);
		put_str(fp, buf);
		sep = ", \\\n     ";
	}
	if (block_has(p, fc, nf, B_DOTS)) {
		fprintf(fp, "%s$fcdots%zu using 1:2 with points pt 7 ps 0.6 "
			"lc rgb '" C_FORECAST "' notitle", sep, i + 1);
		sep = ", \\\n     ";
	}
	if (block_has(p, ac, na, B_VALUE)) {
		fprintf(fp, "%s$act%zu using 1:2 with lines lc rgb '"
			C_ACTUAL "' lw 1.25 title 'actual'", sep, i + 1);
		sep = ", \\\n     ";
	}
	/* values alone between gaps, which no line shows: dots */
	if (block_has(p, ac, na, B_DOTS)) {
		fprintf(fp, "%s$actdots%zu using 1:2 with points pt 7 ps 0.5 "
			"lc rgb '" C_ACTUAL "' notitle", sep, i + 1);
		sep = ", \\\n     ";
	}
	if (!isnan(pn->limit)) {
		char v[32];

		shd_format_double(pn->limit, v);
		snprintf(buf, sizeof(buf), "limit %s", v);
		fprintf(fp, "%s%s with lines lc rgb '" C_LIMIT
			"' lw 1.5 dt 2 title ", sep, v);
		put_str(fp, buf);
		sep = ", \\\n     ";
	}
	if (block_has(p, al, nl, B_KEPT)) {
		fprintf(fp, "%s$kept%zu using 1:2 with points pt 9 ps 1.6 "
			"lc rgb '" C_KEPT "' title 'alert'", sep, i + 1);
		sep = ", \\\n     ";
	}
	if (block_has(p, al, nl, B_SUPP)) {
		fprintf(fp, "%s$supp%zu using 1:2 with points pt 6 ps 1.3 "
			"lw 1.5 lc rgb '" C_SUPP "' title 'alert, suppressed'",
			sep, i + 1);
		sep = ", \\\n     ";
	}
	/*
	 * series over the limit, in their order (the last on top); a bold
	 * one is twice as thick, so that it shows where others run with it
	 */
	for (size_t k = 0; k < pn->nser; k++) {
		const struct shd_plot_series *sr = &pn->ser[k];
		const char *c = c_series[(size_t)sr->colour % NSERIES_C];
		char name[64];

		if (block_has(p, sr->pt, sr->n, B_VALUE)) {
			series_block(name, sizeof(name), i + 1, k, sr->name,
				     0);
			fprintf(fp, "%s$%s using 1:2 with %s lc rgb '%s' "
				"lw %s title ", sep, name,
				pn->kind == SHD_PLOT_STEPS ? "steps" : "lines",
				c, sr->bold ? "3" : "1.5");
			put_str(fp, sr->name);
			sep = ", \\\n     ";
		}
		if (block_has(p, sr->pt, sr->n, B_DOTS)) {
			series_block(name, sizeof(name), i + 1, k, sr->name,
				     1);
			fprintf(fp, "%s$%s using 1:2 with points pt 7 ps %s "
				"lc rgb '%s' notitle", sep, name,
				sr->bold ? "0.8" : "0.5", c);
			sep = ", \\\n     ";
		}
	}
	if (!strcmp(sep, "plot "))
		/* nothing drawable (only missing values): an empty frame */
		fputs("set yrange [0:1]\nplot NaN notitle", fp);
	fputc('\n', fp);
	/* the next panel's y axis as before */
	if (!strcmp(sep, "plot ") || from_zero(pn))
		fputs(Y_AXIS, fp);
}

int shd_plot_write(const struct shd_plot *p, const struct shd_plot_out *o,
		   FILE *fp)
{
	struct layout L = layout_of(p, o);
	/* as many tics as labels fit: a format is as long as its labels
	 * ("%m-%d %H:%M", "01-25 18:00"), 7 pixels a character, a gap */
	const char *xfmt = shd_plot_timefmt(p->to - p->from);
	int64_t step = shd_plot_ticstep(p->to - p->from, (int)(L.width_px /
		(double)(7 * strlen(xfmt) + 30))), t0;

	fprintf(fp, "# gnuplot script of shd-plot %s: ", SHD_VERSION);
	put_str(fp, p->resource ? p->resource : "");
	fprintf(fp, ", %zu panel%s\n", p->npanel, p->npanel == 1 ? "" : "s");
	fputs("# run it with gnuplot 5 (the data is inline below); times "
	      "are Unix seconds (UTC)\n"
	      "# and a blank line in a block is a gap (a missing value), "
	      "never a zero\n\n", fp);

	for (size_t i = 0; i < p->npanel; i++) {
		const struct shd_plot_panel *pn = &p->panel[i];
		const struct shd_plot_pt *ac = pn->pt[SHD_PLOT_ACTUAL];
		const struct shd_plot_pt *fc = pn->pt[SHD_PLOT_FORECAST];
		const struct shd_plot_pt *al = pn->pt[SHD_PLOT_ALERT];
		size_t na = pn->n[SHD_PLOT_ACTUAL],
		       nf = pn->n[SHD_PLOT_FORECAST],
		       nl = pn->n[SHD_PLOT_ALERT];

		fputs("# ", fp);
		put_str(fp, pn->metric);
		fputc('\n', fp);
		put_layer(fp, p, "act", i + 1, ac, na, B_VALUE);
		put_layer(fp, p, "actdots", i + 1, ac, na, B_DOTS);
		put_layer(fp, p, "fc", i + 1, fc, nf, B_VALUE);
		put_layer(fp, p, "fcdots", i + 1, fc, nf, B_DOTS);
		put_layer(fp, p, "band", i + 1, fc, nf, B_BAND);
		put_layer(fp, p, "kept", i + 1, al, nl, B_KEPT);
		put_layer(fp, p, "supp", i + 1, al, nl, B_SUPP);
		for (size_t k = 0; k < pn->nser; k++) {
			const struct shd_plot_series *sr = &pn->ser[k];
			char name[64];

			fputs("# ", fp);
			put_str(fp, sr->name);
			fputc('\n', fp);
			series_block(name, sizeof(name), i + 1, k, sr->name, 0);
			if (block_has(p, sr->pt, sr->n, B_VALUE))
				put_block(fp, p, name, sr->pt, sr->n, B_VALUE);
			series_block(name, sizeof(name), i + 1, k, sr->name, 1);
			if (block_has(p, sr->pt, sr->n, B_DOTS))
				put_block(fp, p, name, sr->pt, sr->n, B_DOTS);
		}
	}

	fputc('\n', fp);
	put_terminal(fp, o);
	fputs("set encoding utf8\n"
	      "set termoption noenhanced\n", fp);
	fputs("set xrange [", fp);
	put_time(fp, p->from);
	fputc(':', fp);
	put_time(fp, p->to);
	fputs("]\n", fp);
	/* tics at whole multiples of the step, in UTC */
	t0 = p->from / step * step;
	if (t0 < p->from)
		t0 += step;
	fputs("set xtics ", fp);
	put_time(fp, t0);
	fputs(", ", fp);
	put_time(fp, step);
	fputs(" nomirror out scale 0.6\n"
	      "set mxtics 2\n"
	      "set ytics nomirror out scale 0.6\n"
	      "set format y '%.4g'\n"
	      "set grid xtics ytics back lc rgb '" C_GRID "' lw 1 dt 1\n"
	      Y_AXIS
	      "set key outside right top vertical Left reverse noautotitle "
	      "samplen 2.5 spacing 1.1\n"
	      "set style fill solid 1.0 noborder\n", fp);
	fprintf(fp, "set multiplot layout %zu,1 margins %.4f, %.4f, %.4f, "
		"%.4f spacing 0, %.4f title ",
		p->npanel, L.l, L.r, L.b, L.t, L.gap);
	put_title(fp, p);
	fputs(" font ',12'\n", fp);
	for (size_t i = 0; i < p->npanel; i++)
		put_panel(fp, p, &L, i, i + 1 == p->npanel);
	fputs("\nunset multiplot\nset output\n", fp);
	return ferror(fp) ? SHD_EIO : 0;
}
