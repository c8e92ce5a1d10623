/*
 * fuzz-journal.c - libFuzzer target for shd_journal_load and
 * shd_journal_read: any bytes as STATE/journal give records or a clean
 * error (with its reason), never a crash or a leak, with the chain checked
 * without a key and with one (KEY; the seeds "sealed" and "edited" are
 * sealed with it). What loads must also survive being written again: the
 * records are appended, sealed with KEY, to a second state directory and
 * read back equal, with an intact chain with and without the key, so that
 * shd-apply never writes a journal it cannot read. The loader
 * takes a directory, so the bytes go to DIR/journal in a temporary
 * directory (in /dev/shm when there is one: each append fsyncs, which
 * costs nothing on tmpfs), made on the first run and removed at exit.
 * Seeds: tests/corpus/journal/.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shd.h"
#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], in[80], out[80];
static const unsigned char key[] = "fuzz key";
#define KLEN (sizeof(key) - 1)

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/journal", in);
	unlink(path);
	rmdir(in);
	snprintf(path, sizeof(path), "%s/journal", out);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", out);
	unlink(path);
	rmdir(out);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/shd-fuzz-journal-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	atexit(cleanup);
}

static void put_journal(const uint8_t *data, size_t size)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/journal", in);
	if (access(in, F_OK) != 0 && mkdir(in, 0700) != 0) {
		perror(in);
		abort();
	}
	fp = fopen(path, "wb");
	if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

static int same_rec(const struct shd_jrec *a, const struct shd_jrec *b)
{
	int same_from = (isnan(a->from) && isnan(b->from)) ||
			memcmp(&a->from, &b->from, sizeof(a->from)) == 0;
	int same_to = (isnan(a->to) && isnan(b->to)) ||
		      memcmp(&a->to, &b->to, sizeof(a->to)) == 0;

	return same_from && same_to && (a->time == b->time || !a->time) &&
	       strcmp(a->event, b->event) == 0 &&
	       strcmp(a->plan, b->plan) == 0 && a->action == b->action &&
	       strcmp(a->resource, b->resource) == 0 && a->knob == b->knob &&
	       strcmp(a->executor, b->executor) == 0 &&
	       (a->detail ? b->detail && strcmp(a->detail, b->detail) == 0
			  : !b->detail);
}

/* Writes R again and reads it back: it must come out the same. */
static void rewrite(const struct shd_jrec *r, size_t nr)
{
	struct shd_state *st;
	struct shd_jrec *back;
	struct shd_jinfo info;
	size_t nback;
	char path[128], err[512] = "";
	int torn;

	snprintf(path, sizeof(path), "%s/journal", out);
	unlink(path);
	if (shd_state_open(&st, out, 1, "fuzz", err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	shd_state_set_key(st, key, KLEN);
	for (size_t i = 0; i < nr; i++)
		if (shd_journal_append(st, &r[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "record %zu not written: %s\n", i,
				err);
			abort();
		}
	shd_state_close(st);
	if (shd_journal_load(out, &back, &nback, &torn, err, sizeof(err))) {
		fprintf(stderr, "written journal not read: %s\n", err);
		abort();
	}
	if (nback != nr || torn)
		abort();
	if (shd_journal_read(out, key, KLEN, NULL, NULL, &info, err,
			     sizeof(err)) || info.nrec != nr ||
	    info.sealed != nr || info.legacy) {
		fprintf(stderr, "written journal not sealed: %s\n", err);
		abort();
	}
	for (size_t i = 0; i < nr; i++)
		if (!same_rec(&r[i], &back[i])) {
			fprintf(stderr, "record %zu changed\n", i);
			abort();
		}
	shd_jrec_free(back, nback);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_jrec *r;
	struct shd_jinfo info;
	size_t nr;
	char err[512] = "";
	int torn, rc;

	if (!dir[0])
		setup();
	put_journal(data, size);
	/* with the key: stricter, never more lenient than without */
	rc = shd_journal_read(in, key, KLEN, NULL, NULL, &info, err,
			      sizeof(err));
	if (rc != 0 && err[0] == '\0')
		abort();
	if (rc == 0 && info.sealed != info.nrec)
		abort();
	err[0] = '\0';
	if (shd_journal_load(in, &r, &nr, &torn, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || rc == 0)
			abort();	/* a failure always says why */
		return 0;
	}
	for (size_t i = 0; i < nr; i++)
		if (shd_journal_last_change(r, nr, r[i].resource,
					    r[i].knob) == NULL &&
		    strcmp(r[i].event, "done") == 0)
			abort();
	rewrite(r, nr);
	shd_jrec_free(r, nr);
	return 0;
}
