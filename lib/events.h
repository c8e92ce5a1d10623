/*
 * events.h - a file of known events: deploys, configuration changes, the
 * lines shd-sync --events appends (private to libshd; read by shd-drift
 * --events and shd-train --events).
 *
 * The file is text, one event a line:
 *
 *   TIME[,RESOURCE[,anything]]
 *
 * TIME as shd_time_parse takes it (ISO 8601, Unix seconds or ms);
 * RESOURCE the resource it concerns, empty or "*" for every resource (a
 * fleet-wide event: shd-sync writes "*" for a change of the defaults);
 * the rest (shd-sync's KEY,FROM,TO, or a description) is not read. In
 * RESOURCE, \u00XX stands for the byte XX (as shd_sync_event escapes ','
 * and '\' in a name). Blank lines and lines starting with '#' are left
 * out; a first line whose TIME is not a time is a header. A line holds at
 * most SHD_EVENTS_LINE_MAX bytes; "\r\n" ends a line as "\n" does.
 */
#ifndef SHD_EVENTS_H
#define SHD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define SHD_EVENTS_LINE_MAX 4094

struct shd_event {
	int64_t t;		/* ms since the epoch, UTC */
	char *resource;		/* NULL: every resource */
};

struct shd_events {
	struct shd_event *ev;	/* (n) in time order once sorted */
	size_t n, cap;
	int sorted;
};

void shd_events_init(struct shd_events *e);
void shd_events_release(struct shd_events *e);

/*
 * Adds an event at T for resource RES (copied; NULL, "" or "*": every
 * resource). E is unsorted until shd_events_sort. 0 or SHD_ENOMEM.
 */
int shd_events_add(struct shd_events *e, int64_t t, const char *res);

/* Sorts E by time. */
void shd_events_sort(struct shd_events *e);

/*
 * Adds the events of the text BUF (LEN bytes, the whole file; NUL bytes
 * are an error) to E and sorts it. NAME names it in messages. 0;
 * SHD_EFORMAT with "NAME:LINE: what" in ERR (N bytes) for a line too long,
 * a time that is not one or a NUL byte; SHD_ENOMEM. On failure E holds the
 * events of the lines before the bad one.
 */
int shd_events_parse(struct shd_events *e, const char *buf, size_t len,
		     const char *name, char *err, size_t n);

/*
 * Reads the events file PATH into E (shd_events_parse). SHD_EIO with errno
 * set and "PATH: reason" in ERR when it cannot be read; else as
 * shd_events_parse.
 */
int shd_events_load(struct shd_events *e, const char *path, char *err,
		    size_t n);

/*
 * Is there an event of resource RES (or of every resource) at a time in
 * [T0, T1)? RES NULL: an event of any resource. 1 or 0. E must be sorted (shd_events_parse, _load and _sort
 * leave it so). O(log n + events in the span).
 */
int shd_events_any(const struct shd_events *e, const char *res, int64_t t0,
		   int64_t t1);

/*
 * How many events of E are for resource RES or every resource (RES NULL:
 * all of them).
 */
size_t shd_events_count(const struct shd_events *e, const char *res);

#endif
