/*
 * fuzz-sync.c - libFuzzer target for shd-sync's readers: the sync record
 * (shd_sync_record_load) and the changes between two configuration
 * documents (shd_sync_diff, shd_sync_apply).
 *
 * Input without a NUL byte: a record file SHADOW.sync; it loads or fails
 * with a message naming it; a loaded one's production is diffed against
 * a fixed configuration both ways. Input with a NUL byte: two JSON
 * documents, old before it and new after it. Either way, when both make a
 * shadow (shd_config_shadow), the shadow of old synced with the changes
 * must be the shadow of new; and every change gives a line for people and
 * an event line that shd-drift --events reads (one line under 4096 bytes,
 * a time before the first comma). Seeds: tests/corpus/sync/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZFILE_NAME "sync"
#include "fuzzfile.h"
#include "confscale.h"
#include "shd.h"
#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] =
	"{\"defaults\": {\"cooldown\": 60}, \"resources\": {\"web\": "
	"{\"replicas\": {\"current\": 4, \"max\": 9}, \"storage\": {\"current\":"
	" \"1Gi\"}, \"executor\": {\"type\": \"command\", \"argv\": [\"x\"]}}}}";

static char sync_link[sizeof(fuzzfile_path) + 8];

static void unlink_sync(void)
{
	unlink(sync_link);
}

static void check_lines(const struct shd_sync *s)
{
	for (size_t i = 0; i < s->n; i++) {
		char *h = shd_sync_line(&s->c[i]);
		char *e = shd_sync_event(&s->c[i], 1767225600000LL);
		const char *comma = e ? strchr(e, ',') : NULL;
		int64_t t;

		if (!h || !e || strlen(e) >= 4095 || !comma ||
		    strchr(e, '\n') != e + strlen(e) - 1 ||
		    shd_time_parse(e, (size_t)(comma - e), &t) != 0 ||
		    t != 1767225600000LL || strchr(h, '\n'))
			abort();
		free(h);
		free(e);
	}
}

/* Diffs OLD to NEW; where both make a shadow, syncs and compares. */
static void sync_pair(json_t *o, json_t *n)
{
	static const char sha[] = "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef";
	const double f = 0.3;
	struct shd_sync s;
	json_t *so, *sn;
	char err[512];

	shd_sync_init(&s);
	if (shd_sync_diff(&s, o, n) != 0) {
		shd_sync_release(&s);
		return;
	}
	check_lines(&s);
	so = shd_config_shadow(o, f, sha);
	sn = shd_config_shadow(n, f, sha);
	if (so && sn) {
		if (shd_sync_apply(&s, so, n, f, sha, err, sizeof(err)) != 0)
			abort();	/* new scales, so each change does */
		check_lines(&s);
		if (!json_equal(json_object_get(so, "resources"),
				json_object_get(sn, "resources")))
			abort();
		if (json_object_get(sn, "defaults") ?
		    !json_equal(json_object_get(so, "defaults"),
				json_object_get(sn, "defaults")) :
		    json_object_get(so, "defaults") != NULL)
			abort();
	}
	json_decref(so);
	json_decref(sn);
	shd_sync_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	json_t *o, *n;

	if (nul) {
		size_t k = (size_t)(nul - data);

		o = json_loadb((const char *)data, k, JSON_REJECT_DUPLICATES,
			       NULL);
		n = json_loadb((const char *)nul + 1, size - k - 1,
			       JSON_REJECT_DUPLICATES, NULL);
		if (o && n)
			sync_pair(o, n);
	} else {
		const char *path = fuzzfile_write(data, size);
		char psha[65], ssha[65], err[512] = "";
		int rc;

		if (!sync_link[0]) {
			snprintf(sync_link, sizeof(sync_link), "%s.sync", path);
			unlink(sync_link);
			if (symlink(path, sync_link) != 0) {
				perror(sync_link);
				abort();
			}
			atexit(unlink_sync);
		}
		o = NULL;
		n = json_loads(fixed, 0, NULL);
		rc = shd_sync_record_load(path, &o, psha, ssha, err,
					  sizeof(err));
		if (rc != 0) {
			if (!strstr(err, sync_link) || o)
				abort();	/* a failure names the file */
		} else {
			if (strlen(psha) != 64 || strlen(ssha) != 64 || !o)
				abort();
			sync_pair(o, n);
			sync_pair(n, o);
		}
	}
	json_decref(o);
	json_decref(n);
	return 0;
}
