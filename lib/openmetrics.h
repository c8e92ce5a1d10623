/*
 * openmetrics.h - a stream as OpenMetrics text, the input of `promtool
 * tsdb create-blocks-from openmetrics` (backfilling Prometheus).
 *
 * Each metric column becomes a gauge family "shd_NAME" (NAME with every
 * byte outside [a-zA-Z0-9_:] made '_'); each row gives one sample per
 * column that is not NaN, labelled with the key column (resource="web-1"),
 * stamped in seconds. OpenMetrics wants the samples of a family together
 * and the stream is grouped by resource, so the families after the first
 * are gathered in temporary files and copied out at the end.
 *
 *   # HELP shd_cpu shd column cpu, unit %
 *   # TYPE shd_cpu gauge
 *   shd_cpu{resource="web-1"} 7.51 1704067200
 *   ...
 *   # EOF
 */
#ifndef SHD_OPENMETRICS_H
#define SHD_OPENMETRICS_H

#include <stddef.h>
#include <stdio.h>

#include "shd.h"

struct shd_om;

struct shd_om_opts {
	/*
	 * The metric columns to write, as indexes into the schema, in this
	 * order; NULL (with ncols 0) means every column but the time and
	 * key columns.
	 */
	const int *cols;
	size_t ncols;
	const char *tmpdir;	/* NULL or "": $TMPDIR, else /tmp */
};

/*
 * Starts an OpenMetrics writer on OUT (not closed, written with stdio) for
 * streams of schema S. S needs a time column ("time", else the only
 * column of type time) and may have a key column ("resource", else the
 * only column of type key), which gives the label (its name made a valid
 * label name); every metric column written must be f64 or f32. Without
 * O->cols every other column must be a metric, so a utilization stream is
 * accepted and a forecast or alert stream refused. Two columns that give
 * the same family name are refused too.
 *
 * Nothing is written yet. Returns 0; SHD_EINVAL when the schema does not
 * fit, SHD_EIO when a temporary file cannot be made, or SHD_ENOMEM. *W is
 * set (for shd_om_errmsg) whenever the writer itself could be allocated,
 * and is then freed with shd_om_free whatever the return.
 */
int shd_om_new(struct shd_om **w, FILE *out, const struct shd_schema *s,
	       const struct shd_om_opts *o);

/*
 * Writes row I of frame F (with the writer's columns; key ids in
 * F->dict). Rows must come as a stream holds them in canonical order:
 * each resource in one run, its times strictly increasing, so that every
 * series is in time order (promtool refuses anything else). Frames of
 * several streams (with the same columns) may follow one another.
 *
 * Returns 0; SHD_EFORMAT for a row out of order, a repeated time or a
 * resource name that is not UTF-8 (the writer is then spent); SHD_EIO
 * when a write fails (errno set).
 */
int shd_om_row(struct shd_om *w, const struct shd_frame *f, size_t i);

/*
 * Writes every family after the first from its temporary file, then
 * "# EOF", and flushes OUT. Only a writer finished with 0 has written a
 * complete exposition: after a failure no "# EOF" is ever written, so an
 * OpenMetrics reader refuses the partial text. 0, SHD_EIO or SHD_EFORMAT
 * (the writer failed before).
 */
int shd_om_finish(struct shd_om *w);

/* Samples written so far (NaN values are not samples). */
unsigned long long shd_om_samples(const struct shd_om *w);

/* Text of the last failure (never NULL). */
const char *shd_om_errmsg(const struct shd_om *w);

/* Removes the temporary files and frees W. NULL does nothing. */
void shd_om_free(struct shd_om *w);

/*
 * Helpers, exported for the tests:
 *
 * shd_om_name writes the family name of column NAME ("shd_" + NAME with
 * bytes outside [a-zA-Z0-9_:] made '_') into BUF of N bytes; returns the
 * length it needs (without the NUL), like snprintf.
 *
 * shd_om_time writes MS as seconds ("1704067200", "1704067200.5",
 * "-0.001") such that Prometheus, which multiplies the parsed seconds by
 * 1000 and truncates, gets MS back; BUF must hold 32 bytes. Returns the
 * length.
 */
size_t shd_om_name(const char *name, char *buf, size_t n);
size_t shd_om_time(int64_t ms, char *buf);

#endif
