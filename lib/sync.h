/*
 * sync.h - production's configuration changes mirrored to a shadow's
 * (shd-sync): the changes between two production documents, and their
 * application to the shadow's document, scaled as confscale.h scales.
 *
 * A change is (resource, key, from, to): the resource by name, or "*" for
 * the top-level "defaults"; the key a path of object members inside it
 * ("replicas.max", "metrics.cpu.target", "executor.argv"), empty for the
 * resource (or the defaults) as a whole; from and to the JSON values, NULL
 * where absent (a key or a resource added or removed). Objects are walked
 * member by member; any other value (a number, a string, an array) is one
 * value. Only "resources" and "defaults" are compared: "shd_config" is the
 * format's version and "shadow" the shadow's own.
 *
 * Applying a change sets (or removes) the same key in the shadow's
 * document: values under "replicas" and "storage" scaled by the shadow's
 * fraction exactly as shd_config_shadow scales them (it is called to do
 * it), everything else copied. Keys production did not change are left as
 * the shadow has them (with their order), so edits made to the shadow by
 * hand survive where production did not change the same key; where it did,
 * production's value wins and the change says so (own).
 */
#ifndef SHD_SYNC_H
#define SHD_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct shd_sync_change {
	char *resource;		/* production's name, "*" for the defaults */
	char **comp;		/* the key: NCOMP member names inside it */
	size_t ncomp;		/* 0: the resource (or defaults) whole */
	json_t *from, *to;	/* production's values; NULL: absent */
	/* filled in by shd_sync_apply */
	json_t *sfrom, *sto;	/* the shadow's before and after (NULL:
				 * absent) */
	int applied;		/* shd_sync_apply filled these in */
	int own;		/* the shadow held a value of its own there
				 * (not production's FROM, scaled), which
				 * TO replaced: a hand edit overridden */
};

struct shd_sync {
	struct shd_sync_change *c;
	size_t n, cap;
};

void shd_sync_init(struct shd_sync *s);
void shd_sync_release(struct shd_sync *s);

/*
 * Appends to S the changes from production's document OLD to NEW: the
 * defaults' first, then per resource in NEW's order (added ones where they
 * come), then the resources NEW no longer has. 0; SHD_EINVAL when either
 * is not an object with a "resources" object, or has a resource named
 * "*"; SHD_ENOMEM.
 */
int shd_sync_diff(struct shd_sync *s, const json_t *old_doc,
		  const json_t *new_doc);

/*
 * The shadow's value for production's value V at key COMP[0..NCOMP) of
 * RESOURCE ("*": the defaults, never scaled), at fraction F in (0, 1]: a
 * new reference; NULL when V is NULL, out of memory, or V cannot be scaled
 * (not a quantity where one is needed).
 */
json_t *shd_sync_scale(const char *resource, char *const *comp,
		       size_t ncomp, const json_t *v, double f);

/*
 * Applies the changes of S to the shadow's document SHADOW in place, at
 * fraction F: NEW is production's new document (where the shadow lacks an
 * object on a change's way, production's whole object there is copied,
 * scaled); sets "shadow"."production_sha256" to SHA (hex), and
 * "shd_config" to NEW's when it has one. Fills each change's sfrom, sto,
 * applied and own. 0; SHD_EINVAL with ERR (N bytes) when a document is
 * not a configuration object or a value cannot be scaled; SHD_ENOMEM.
 */
int shd_sync_apply(struct shd_sync *s, json_t *shadow, const json_t *new_doc,
		   double f, const char *sha, char *err, size_t n);

/*
 * Does SHADOW, once written, load as a configuration (shd_config_load's
 * rules)? 0; SHD_EFORMAT with "NAME: $.json.path: what" in ERR; SHD_EIO
 * when no temporary file can be made. (It goes through a temporary file,
 * removed at once, until config.h loads a document in memory.)
 */
int shd_sync_check(const json_t *shadow, const char *name, char *err,
		   size_t n);

/*
 * The change for people, without end of line, malloc'd (NULL: out of
 * memory):
 *   web.replicas.max: 10 -> 12 (shadow 1 -> 2)
 *   web.cpu.max: 4 -> 8
 *   web.memory.max: (none) -> "4Gi"
 *   defaults.cooldown: "10m" -> "5m"
 *   cache: added
 *   db: removed
 * Values are compact JSON; the shadow's part once applied, when its values
 * differ from production's. Names are escaped as in event lines.
 */
char *shd_sync_line(const struct shd_sync_change *c);

/*
 * The change as an event line of shd-drift --events, with its end of
 * line, malloc'd (NULL: out of memory); under 4096 bytes:
 *   TIME,RESOURCE,KEY,FROM,TO
 * TIME is T (ms) in ISO 8601 UTC; RESOURCE the name or "*" (every
 * resource: the defaults); KEY the dotted key (empty for a whole
 * resource); FROM and TO compact JSON texts, empty when absent, a value
 * over 900 bytes written as the JSON string "(N bytes)" (and a name or
 * key over 900 bytes cut). In names and
 * keys, ',', '\', control characters and a '.' inside a member name are
 * written as \u00XX, so the first three commas split the fields.
 */
char *shd_sync_event(const struct shd_sync_change *c, int64_t t);

/*
 * Appends an event line per change of S to PATH (created 0644 when
 * missing): O_APPEND, one write per line, fsync. 0 or SHD_EIO / SHD_ENOMEM
 * with ERR.
 */
int shd_sync_events_append(const char *path, const struct shd_sync *s,
			   int64_t t, char *err, size_t n);

/*
 * Locks the shadow configuration PATH against other runs that read or
 * rewrite it (shd-sync, shd-shadow --config-out): flock(2) on PATH.lock,
 * beside it. EXCLUSIVE for a read-modify-write (the lock file is created,
 * 0644, and never removed: a removed lock file would let two runs lock two
 * files); else shared, for a reader (no lock file yet: nothing to wait
 * for, *FD is -1). Waits up to WAIT_MS ms for another holder (0: not at
 * all; negative: for ever), polling. 0 and the lock's descriptor in *FD
 * (closing it unlocks); SHD_EIO with errno EWOULDBLOCK when the lock was
 * still held after WAIT_MS, or another errno, and "PATH.lock: reason" in
 * ERR (N bytes).
 */
int shd_sync_lock(const char *path, int exclusive, long long wait_ms,
		  int *fd, char *err, size_t n);

#endif
