/*
 * plot.h - one resource's streams as a gnuplot script (shd-plot).
 *
 * A plot is a stack of panels, one per metric, sharing a time axis. Each
 * panel has layers of points, added in any order:
 *
 *   actual     (t, v): what the resource used
 *   forecast   (t, v = pred, lo, hi): the forecast and its interval band
 *   alert      (t, v = cur, kept): alerts of shd-drift at their origin
 *
 * and a limit (a dashed horizontal line). Marks are vertical lines with a
 * label in every panel (changes from shd-apply's journal).
 *
 * A panel of series comes instead with any number of named lines (t, v),
 * each in a colour of its own, drawn as lines or as steps (a value holds
 * until the next): shd-replay's policies, their allocations and the
 * utilization each would have seen. It is never a metric's panel.
 *
 * shd_plot_prepare sorts the layers, settles the time window (by default
 * from two days before the forecast's last origin, or the end of the
 * actual data, but not before the first point, to the end of the
 * forecast; with series alone, their whole span), drops points outside
 * it and panels left empty. shd_plot_write then writes a self-contained
 * script:
 * the points as inline data blocks ($act1 << EOD ... EOD; times in Unix
 * seconds, a blank line where a value is missing or the series has a
 * hole, so that NaN is a gap and never zero), the terminal and output,
 * and a multiplot of the panels. The script needs nothing but gnuplot 5.
 */
#ifndef SHD_PLOT_H
#define SHD_PLOT_H

#include <stdint.h>
#include <stdio.h>

enum shd_plot_layer { SHD_PLOT_ACTUAL, SHD_PLOT_FORECAST, SHD_PLOT_ALERT,
		      SHD_PLOT_NLAYER };

struct shd_plot_pt {
	int64_t t;		/* ms since the epoch, UTC */
	double v;		/* NaN: missing (a gap) */
	double lo, hi;		/* forecast: the interval; else unused */
	int kept;		/* alert: 1 kept, 0 suppressed */
};

/* What a panel draws: a metric's layers, or series as lines or steps. */
enum shd_plot_kind { SHD_PLOT_METRIC, SHD_PLOT_LINES, SHD_PLOT_STEPS };

/* One named line of a panel of series. */
struct shd_plot_series {
	char *name;		/* owned; the legend entry */
	int colour;		/* an index into plot.c's palette (>= 0) */
	int bold;		/* a thicker line */
	struct shd_plot_pt *pt;	/* owned; t and v only */
	size_t n, cap;
};

struct shd_plot_panel {
	char *metric;		/* owned; of a panel of series, its label */
	char *unit;		/* owned; "" when none */
	double limit;		/* NaN: none */
	int kind;		/* enum shd_plot_kind */
	struct shd_plot_pt *pt[SHD_PLOT_NLAYER];	/* owned; a metric's */
	size_t n[SHD_PLOT_NLAYER], cap[SHD_PLOT_NLAYER];
	struct shd_plot_series *ser;	/* owned, in drawing order */
	size_t nser, capser;
};

struct shd_plot_mark {
	int64_t t;
	char *label;		/* owned */
};

/* Terminals, chosen by the output's extension. */
enum shd_plot_term { SHD_PLOT_PNG, SHD_PLOT_SVG, SHD_PLOT_PDF };

struct shd_plot {
	char *resource;		/* owned; names the default title */
	char *title;		/* owned; NULL: the default */
	int64_t origin;		/* a forecast from one origin: the origin;
				 * else INT64_MIN */
	int64_t last_origin;	/* the newest origin of a rolling forecast
				 * (INT64_MIN: none); anchors the window */
	int step;		/* rolling: the forecast N steps ahead that
				 * is drawn; 0 for one origin */
	int64_t interval;	/* the streams' sampling interval (ms), 0
				 * unknown: labels and holes */
	double coverage;	/* of the interval band (0.9); NaN unknown */
	int64_t from, to;	/* the window; INT64_MIN: the default */
	size_t npanel, cappanel;
	struct shd_plot_panel *panel;	/* owned, in drawing order */
	size_t nmark, capmark;
	struct shd_plot_mark *mark;	/* owned */
};

/* An empty plot: no panels, no marks, default window. */
void shd_plot_init(struct shd_plot *p);
void shd_plot_release(struct shd_plot *p);

/*
 * The panel of METRIC (panels of series aside), or NULL when there is
 * none (shd_plot_find), or added at the end when there is none
 * (shd_plot_panel; UNIT may be NULL, and the first non-empty one given is
 * kept; NULL only on ENOMEM). The pointer stays valid until the next new
 * panel (shd_plot_panel, shd_plot_series_panel) or shd_plot_prepare.
 */
struct shd_plot_panel *shd_plot_find(struct shd_plot *p, const char *metric);
struct shd_plot_panel *shd_plot_panel(struct shd_plot *p, const char *metric,
				      const char *unit);

/* Appends PT to LAYER of panel PN. 0 or SHD_ENOMEM. */
int shd_plot_add(struct shd_plot_panel *pn, int layer,
		 const struct shd_plot_pt *pt);

/*
 * A panel of series, drawn as KIND (SHD_PLOT_LINES or SHD_PLOT_STEPS),
 * added at the end. LABEL names it on the y axis, with UNIT (NULL or ""
 * for none) in parentheses; shd_plot_find never returns it, whatever its
 * label. NULL only on ENOMEM; the pointer stays valid as shd_plot_panel's.
 */
struct shd_plot_panel *shd_plot_series_panel(struct shd_plot *p,
					     const char *label,
					     const char *unit, int kind);

/*
 * The series NAME of panel PN, added at the end (drawn after, so over,
 * the others) with COLOUR and BOLD when there is none. NULL only on
 * ENOMEM; the pointer stays valid until the next new series of PN.
 */
struct shd_plot_series *shd_plot_series(struct shd_plot_panel *pn,
					const char *name, int colour,
					int bold);

/* Appends (T, V) to series S (V NaN: a gap). 0 or SHD_ENOMEM. */
int shd_plot_series_add(struct shd_plot_series *s, int64_t t, double v);

/* A vertical mark at T labelled LABEL (copied). 0 or SHD_ENOMEM. */
int shd_plot_mark(struct shd_plot *p, int64_t t, const char *label);

/*
 * Sorts the layers by time (actual, forecast and series: one point per
 * time, the first with a value winning), settles P->from and P->to where
 * they are INT64_MIN (see above; P->to alone: the two days before it, or
 * with series alone, their span up to it), and keeps only the points,
 * marks and panels inside. Returns
 * the number of panels left (0: nothing to draw in the window), or
 * SHD_EINVAL when the window is empty (from >= to).
 */
int shd_plot_prepare(struct shd_plot *p);

struct shd_plot_out {
	const char *path;	/* where gnuplot writes; NULL: its stdout */
	int term;		/* enum shd_plot_term */
	unsigned width, height;	/* pixels (pdf: at 100 per inch) */
};

/*
 * Writes the gnuplot script of P (prepared) for output O to FP. PNG uses
 * pngcairo, or gnuplot's png where pngcairo is missing; PDF pdfcairo.
 * Returns 0, or SHD_EIO when writing to FP failed.
 */
int shd_plot_write(const struct shd_plot *p, const struct shd_plot_out *o,
		   FILE *fp);

/* The terminal for PATH by its extension (.png .svg .pdf, any case), -1. */
int shd_plot_term_of(const char *path);

/*
 * The time axis for a window of SPAN ms: the strftime format of its
 * labels ("%H:%M" within a day, "%m-%d %H:%M" within a week, "%m-%d"
 * beyond), and the distance between tics (ms: 1 min ... 4 weeks, then
 * multiples of 4 weeks): the smallest with at most MOST whole steps in
 * the span (MOST below 2 counts as 2).
 */
const char *shd_plot_timefmt(int64_t span);
int64_t shd_plot_ticstep(int64_t span, int most);

/* The default height of a plot of N panels, and its width (pixels). */
#define SHD_PLOT_WIDTH 1000u
#define SHD_PLOT_PANEL_HEIGHT 250u

/*
 * Streams into a plot (lib/plotread.c): the utilization, forecast, alert
 * and allocation streams of one resource (each known by its columns, one
 * of each kind) become P's panels and layers.
 */
enum shd_plotin_kind { SHD_PLOTIN_UTIL, SHD_PLOTIN_FORECAST,
		       SHD_PLOTIN_ALERTS, SHD_PLOTIN_ALLOC, SHD_PLOTIN_NKIND };

struct shd_plotin;

/*
 * A reader into P of the rows of RESOURCE (copied; NULL: the first seen,
 * and a second one in the inputs is refused). FIXED_PANELS: P's panels
 * (shd-plot --metrics) are all there will be; other metrics are left out.
 * 0 or SHD_ENOMEM.
 */
int shd_plotin_new(struct shd_plotin **in, struct shd_plot *p,
		   const char *resource, int fixed_panels);
void shd_plotin_free(struct shd_plotin *in);

/*
 * Reads the stream on FD (not closed), named PATH. 0; SHD_EFORMAT (not a
 * stream shd-plot knows, bad metadata, or the reader's), SHD_EIO,
 * SHD_ENOMEM; SHD_EINVAL when the inputs do not go together: two streams
 * of a kind, or several resources and none asked for. ERR (N bytes) says
 * what, naming PATH.
 */
int shd_plotin_read(struct shd_plotin *in, int fd, const char *path,
		    char *err, size_t n);

/*
 * After the last input: the forecast's rows into layers (from one origin,
 * its whole horizon from the value at the origin; from several, the
 * forecast made STEP steps ahead, at the time it is for; its actual
 * values stand in for a utilization stream where none was read), then the
 * allocation rows into two panels of series after the others, one series
 * per policy of POLICIES (a bit per replay.h's index) with rows:
 * "allocation" as steps and "<metric> under each policy" as lines, shd's
 * last and thicker. *UPANEL: the index of the second, or -1. Sets P's
 * resource, and its title when only allocations were read and P has
 * none. 0 or SHD_ENOMEM.
 */
int shd_plotin_finish(struct shd_plotin *in, int step, unsigned policies,
		      long *upanel);

/* The resource whose rows were read (NULL: none yet), and their count. */
const char *shd_plotin_resource(const struct shd_plotin *in);
size_t shd_plotin_rows(const struct shd_plotin *in);
/* The forecast's horizon in steps (its metadata; 0: unknown or none). */
long shd_plotin_horizon(const struct shd_plotin *in);
/* The input of KIND (enum shd_plotin_kind), or NULL. */
const char *shd_plotin_path(const struct shd_plotin *in, int kind);
/* The allocation stream's metric (NULL: none), and rows of POLICY. */
const char *shd_plotin_alloc_metric(const struct shd_plotin *in);
size_t shd_plotin_policy_rows(const struct shd_plotin *in, int policy);

#endif
