/*
 * fuzz-archive-pieces.c - libFuzzer target for shd_input_pieces against
 * shd_input_each on the same input: a member longer than SHD_PIECES_HEAD
 * (a compressed file or an archive member, decompressed) comes in pieces,
 * and the pieces must add up to what shd_input_each gives whole: the same
 * members, names, keys and bytes, whenever shd_input_each succeeds. Any
 * bytes give members or a clean error, never a crash, a leak or a hang.
 * Seeds: tests/corpus/archive/ (through tests/corpus/archive-pieces),
 * among them members that decompress past the head.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

#define FUZZFILE_NAME "archive-pieces"
#include "fuzzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXM 64

/* What one way of reading gave: per member its name, key, size and sum. */
struct seen {
	size_t n, pieced;
	struct {
		char name[256], key[256];
		uint64_t len, sum;
	} m[MAXM];
	int read_error;
};

static void add(struct seen *s, const char *name, const char *key,
		uint64_t len, uint64_t sum)
{
	if (s->n == MAXM)
		return;
	snprintf(s->m[s->n].name, sizeof(s->m[0].name), "%s", name);
	snprintf(s->m[s->n].key, sizeof(s->m[0].key), "%s", key);
	s->m[s->n].len = len;
	s->m[s->n].sum = sum;
	s->n++;
}

static uint64_t sum_of(uint64_t h, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)buf[i]) * 1099511628211u;
	return h;
}

static int whole(void *ctx, const char *buf, size_t len, const char *name,
		 const char *key)
{
	add(ctx, name, key, len, sum_of(14695981039346656037u, buf, len));
	return 0;
}

static int pieces(void *ctx, struct shd_pieces *pc, const char *name,
		  const char *key)
{
	struct seen *s = ctx;
	char buf[7919];
	uint64_t len = pc->headlen;
	uint64_t h = sum_of(14695981039346656037u, pc->head, pc->headlen);
	size_t got;

	if (pc->headlen < SHD_PIECES_HEAD)
		abort();	/* a shorter member comes whole */
	s->pieced++;
	do {
		if (pc->more(pc, buf, sizeof(buf), &got) < 0) {
			if (pc->err[0] == '\0')
				abort();	/* a failure says why */
			s->read_error = 1;
			return 0;
		}
		h = sum_of(h, buf, got);
		len += got;
	} while (got);
	add(s, name, key, len, h);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write(data, size);
	static struct seen a, b;
	char err1[512] = "", err2[512] = "";
	int rc1, rc2;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	rc1 = shd_input_each(path, whole, &a, err1, sizeof(err1));
	rc2 = shd_input_pieces(path, whole, pieces, &b, err2, sizeof(err2));
	if ((rc1 < 0 && err1[0] == '\0') || (rc2 < 0 && err2[0] == '\0') ||
	    rc1 > 0 || rc2 > 0)
		abort();	/* a failure always says why */
	if (rc1 == 0) {
		if (rc2 != 0 || b.read_error || a.n != b.n)
			abort();
		for (size_t i = 0; i < a.n; i++)
			if (strcmp(a.m[i].name, b.m[i].name) != 0 ||
			    strcmp(a.m[i].key, b.m[i].key) != 0 ||
			    a.m[i].len != b.m[i].len ||
			    a.m[i].sum != b.m[i].sum)
				abort();
	}
	return 0;
}
