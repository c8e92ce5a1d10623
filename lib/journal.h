/*
 * journal.h - shd-apply's state directory: the journal of what was done,
 * the lock that keeps two runs apart, and cancellation requests.
 *
 * STATE/journal is append-only JSON lines, one record per event, each
 * written with one write(2) and fsynced before the next step:
 *
 *   {"time": "2026-11-28T04:50:00.000Z", "event": "intent", "plan": ID,
 *    "action": I, "resource": R, "knob": K, "from": F, "to": T,
 *    "executor": "kubectl", "detail": "...", "prev": "9f86d0...",
 *    "hmac": "5d41..."}
 *
 * The records form a hash chain: "prev" is the SHA-256 (hex) of the line
 * before, its '\n' included; the first record of the chain has that of
 * all the bytes before it (of the empty string in a new journal, of the
 * records an older shd-apply wrote otherwise: a legacy prefix). With a
 * key, "hmac" is the HMAC-SHA256 of the line without its ',"hmac":"..."'
 * (always the last member), so that only the key's holder can write a
 * consistent chain. An edit, a deletion (but of the last records), an
 * insertion or a move then breaks a link that shd_journal_read names.
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
 * Sets the key (KLEN bytes) that ST's appends seal records with, or none
 * (NULL). The key is not copied: it must stay valid until ST is closed.
 */
void shd_state_set_key(struct shd_state *st, const unsigned char *key,
		       size_t klen);

/* What shd_journal_read found besides the records. */
struct shd_jinfo {
	size_t nrec;		/* complete records */
	size_t legacy;		/* records before the chain began (no "prev") */
	size_t sealed;		/* records with an "hmac" */
	int torn;		/* a last line cut short was left out */
	char head[65];		/* the "prev" of the next record */
};

/*
 * Reads STATE/journal whole and checks its chain: 0 with the records in
 * *R (*NR of them; free with shd_jrec_free; R may be NULL to check only)
 * and INFO; a journal that does not exist yet is empty. Without a KEY
 * (NULL), records without "prev" are accepted before the first with one
 * (a legacy prefix) and hmacs are not checked; with KEY (KLEN bytes),
 * every record must carry "prev" and a matching "hmac". SHD_EFORMAT with
 * "DIR/journal:LINE: what" in ERR for a bad line or a broken link: what
 * starts with the kind ("edited", "deleted", "inserted", "reordered",
 * "bad hmac", "unsealed"). A last line cut short by a crash is left out
 * (INFO->torn). SHD_EIO, SHD_ENOMEM with ERR.
 */
int shd_journal_read(const char *dir, const unsigned char *key, size_t klen,
		     struct shd_jrec **r, size_t *nr, struct shd_jinfo *info,
		     char *err, size_t n);

/* shd_journal_read without a key; *TORN (when not NULL) is INFO's torn. */
int shd_journal_load(const char *dir, struct shd_jrec **r, size_t *nr,
		     int *torn, char *err, size_t n);
void shd_jrec_free(struct shd_jrec *r, size_t n);

/*
 * Appends R (its time set to now when 0), chained to the last complete
 * record and sealed with ST's key if it has one, and fsyncs. Only the
 * lock's holder keeps the chain whole. 0, SHD_EINVAL (R cannot be
 * written) or SHD_EIO, with ERR.
 */
int shd_journal_append(struct shd_state *st, const struct shd_jrec *r,
		       char *err, size_t n);

/*
 * Writes STATE/journal again, every record chained from the start and
 * sealed with ST's key (if any), whatever its links said: for a journal
 * of an older shd-apply given a key, or one whose edit a person has
 * reviewed. The old file stays as STATE/journal.old (refused when that
 * exists). ST must hold the lock. 0 with the number of records in *NREC;
 * 1 when there is no journal (nothing is written); SHD_EFORMAT for a bad
 * line (none is dropped but a torn last one), SHD_EIO, with ERR.
 */
int shd_journal_seal(struct shd_state *st, size_t *nrec, char *err,
		     size_t n);

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
