/*
 * journal.h - shd-apply's state directory: the journal of what was done,
 * the lock that keeps two runs apart, and cancellation requests.
 *
 * STATE/journal is append-only JSON lines, one record per event, each
 * written with one write(2) and fsynced before the next step:
 *
 *   {"time": "2026-11-28T04:50:00.000Z", "event": "intent", "plan": ID,
 *    "action": I, "resource": R, "knob": K, "from": F, "to": T,
 *    "executor": "kubectl", "detail": "..."}
 *
 * Events: "intent" (about to act), "done", "failed", "cancelled" (the
 * whole plan, action -1), "interrupted" (an intent with no result found by
 * a later run); "skipped" is read but not written (reserved).
 * A run holds STATE/lock (flock) for its whole length; STATE/lock also
 * holds the holder's pid and plan id, for messages and --cancel.
 * STATE/cancel/ID is a request to cancel plan ID.
 */
#ifndef SHD_JOURNAL_H
#define SHD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct shd_jrec {
	int64_t time;		/* ms since the epoch */
	char event[16];
	char plan[80];
	long action;		/* index in the plan; -1 for the plan */
	char resource[256];
	int knob;		/* enum shd_knob; -1 none */
	double from, to;
	char executor[16];
	char *detail;		/* owned; may be NULL */
};

struct shd_state;

/*
 * Opens (creating, mode 0700) the state directory DIR and, when LOCK,
 * takes its lock without waiting, writing PID and PLAN into it. Returns
 * 0; SHD_EIO with the reason in ERR (N bytes): "DIR/lock is held by pid P
 * (plan ID)" when another run has it, or the system error naming the path.
 */
int shd_state_open(struct shd_state **st, const char *dir, int lock,
		   const char *plan, char *err, size_t n);
/* Releases the lock (when held) and frees. */
void shd_state_close(struct shd_state *st);

/*
 * Reads STATE/journal whole: 0 with the records in *R (*N of them; free
 * with shd_jrec_free); a journal that does not exist yet is empty.
 * SHD_EFORMAT with "DIR/journal:LINE: what" in ERR for a bad line (a
 * last line cut short by a crash is reported by *TORN = 1 and left out).
 */
int shd_journal_load(const char *dir, struct shd_jrec **r, size_t *nr,
		     int *torn, char *err, size_t n);
void shd_jrec_free(struct shd_jrec *r, size_t n);

/* Appends R (its time set to now when 0) and fsyncs. 0 or SHD_EIO. */
int shd_journal_append(struct shd_state *st, const struct shd_jrec *r,
		       char *err, size_t n);

/*
 * The last "done" record of (RESOURCE, KNOB) in R, or NULL: the
 * allocation a plan should start from and the time of the last change.
 */
const struct shd_jrec *shd_journal_last_change(const struct shd_jrec *r,
					       size_t nr,
					       const char *resource,
					       int knob);

/*
 * Asks for plan ID to be cancelled: creates DIR/cancel/ID and, when the
 * lock's holder is applying ID, sends it SIGTERM. Returns 0 when the
 * holder was signalled, 1 when the request was only recorded (no run of
 * ID now), SHD_EIO with ERR.
 */
int shd_state_cancel(const char *dir, const char *plan, char *err,
		     size_t n);

/* Has plan ID been asked to cancel? */
int shd_state_cancelled(const struct shd_state *st, const char *plan);

#endif
