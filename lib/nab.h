/*
 * nab.h - the scoring of the Numenta Anomaly Benchmark (NAB): labelled
 * anomaly windows, the raw score of a detector's alerts on one file, and
 * the normalized score of a set of files. Written from the description of
 * NAB's scoring (github.com/numenta/NAB), not from its code.
 *
 * In brief, for a file of n rows:
 *   - the first min(floor(0.15 n), 750) rows are probationary: detections
 *     there are ignored (a window reaching into them is still scored);
 *   - in each window only the earliest detection counts, a true positive
 *     worth A_TP * sig(y) / sig(-1), y = -(last - i + 1) / width (rows), so
 *     1 at the window's left edge, falling to ~0 at its right edge; later
 *     detections in the same window count for nothing;
 *   - a window without a detection is a false negative, -A_FN;
 *   - a detection outside every window is a false positive, A_FP * sig(y),
 *     y = (i - last) / (width - 1) of the window before it (near its right
 *     edge ~0, three widths past it -A_FP), or -A_FP before the first window;
 *   - sig(y) = 2 / (1 + exp(5 y)) - 1, taken as -1 when y > 3.
 * "last" is the index of a window's last row and "width" its number of rows.
 */
#ifndef SHD_NAB_H
#define SHD_NAB_H

#include <stddef.h>
#include <stdint.h>

#include "shd.h"

/* A NAB cost profile: the weights A_TP, A_FN, A_FP above. */
struct shd_nab_profile {
	const char *name;
	double tp, fn, fp;
};

/*
 * The three NAB profiles, in the order standard (1, 1, 0.11),
 * reward_low_FP_rate (1, 1, 0.22), reward_low_FN_rate (1, 2, 0.11).
 */
extern const struct shd_nab_profile shd_nab_profiles[3];

/* An anomaly window: a row at time t is in it when from <= t <= to. */
struct shd_nab_window {
	int64_t from, to;	/* ms since the epoch, UTC, both inclusive */
};

/* The windows of each labelled file. */
struct shd_nab_labels {
	size_t nfile;
	char **key;		/* (nfile) the label's path without
				 * directory and extension, as in
				 * "ec2_cpu_utilization_24ae8d" */
	size_t *nwin;		/* (nfile) windows of each file, may be 0 */
	struct shd_nab_window **win;	/* (nfile) each (nwin[i]), ascending,
					 * not overlapping; never NULL */
};

/* Empty labels (nfile 0); _release on them is harmless. */
void shd_nab_labels_init(struct shd_nab_labels *l);

/* Frees what L holds and leaves it empty, as after _init. */
void shd_nab_labels_release(struct shd_nab_labels *l);

/*
 * Reads a NAB combined_windows.json at PATH into L (initialized, empty): an
 * object mapping "dir/file.csv" to a list of [start, end] pairs of times
 * ("2014-02-26 13:45:00.000000", anything shd_time_parse takes). Every
 * window must have start <= end, and each file's windows must be ascending
 * and not overlap. Returns 0; SHD_EIO when PATH cannot be opened or read
 * (errno set); SHD_EFORMAT for bad JSON, a bad or misplaced time, or two
 * paths giving the same key; SHD_ENOMEM. On failure ERR (N bytes) names the
 * file (and the key) and L is left empty.
 */
int shd_nab_labels_load(struct shd_nab_labels *l, const char *path,
			char *err, size_t n);

/*
 * The windows of the file KEY, *NWIN of them, or NULL (and *NWIN = 0) when
 * L does not name KEY. A named file without windows gives a non-NULL
 * pointer and *NWIN = 0. The pointer lives until L is released.
 */
const struct shd_nab_window *shd_nab_labels_find(
	const struct shd_nab_labels *l, const char *key, size_t *nwin);

/* What a score is made of (windows and detections, not rows). */
struct shd_nab_counts {
	size_t tp;		/* windows detected */
	size_t fp;		/* detections outside windows (not probation) */
	size_t fn;		/* windows missed */
	size_t windows;		/* windows scored: tp + fn */
};

/*
 * The raw NAB score of one file under profile P: T (n) the times of its
 * rows, ascending; DET (n) nonzero where the detector fired; W (nw) its
 * windows, ascending and not overlapping (asserted; shd_nab_labels_load
 * checks it). Widths count rows of T, probationary ones included. A window
 * holding no row of T (outside the data, or between two rows) is ignored
 * altogether: neither a hit nor a miss, not counted in C->windows, and no
 * "window before" for a false positive. After a window of one row, where
 * NAB would divide by zero, a false positive costs the full -A_FP. Fills C
 * when it is not NULL. No windows and no detections score 0.
 */
double shd_nab_score(const int64_t *t, const uint8_t *det, size_t n,
		     const struct shd_nab_window *w, size_t nw,
		     const struct shd_nab_profile *p,
		     struct shd_nab_counts *c);

/* NAB's probation of a file of N rows: min(floor(0.15 N), 750) rows. */
size_t shd_nab_probation(size_t n);

/*
 * The normalized score of a set of files with NWINDOWS windows in all (the
 * sum of their counts' windows) whose raw scores sum to S: 100 * (S - null)
 * / (perfect - null), perfect = A_TP * NWINDOWS, null = -A_FN * NWINDOWS
 * (the score of a detector that never fires). 100 is perfect, 0 is no
 * better than silence; it can be negative. NAN when NWINDOWS is 0.
 */
double shd_nab_normalize(double s, size_t nwindows,
			 const struct shd_nab_profile *p);

#endif
