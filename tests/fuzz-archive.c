/*
 * fuzz-archive.c - libFuzzer target for shd_input_each, which hands
 * shd-ingest the members of an input: a plain file, a compressed file or
 * an archive of exports (tar, zip, ... through libarchive). Any bytes give
 * members or a clean error (with its reason), never a crash, a leak or a
 * hang. Member names come from the archive and are untrusted: what reaches
 * the caller must be safe text. The name shown in messages is the input's
 * path, ':' and the member's name with control bytes replaced; the key
 * (the default resource name) is one path component, never empty, never
 * "." or "..", without '/' or control bytes. (input.c opens nothing but
 * the input itself: names never become paths on disk.) Each member's bytes
 * are all read, and shd-ingest's format guess runs on them.
 * Seeds: tests/corpus/archive/ (tar, tar.gz, zip, gz, with names such as
 * "../x", "/etc/passwd" and very long ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

#define FUZZFILE_NAME "archive"
#include "fuzzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	const char *path;
	size_t members;
	uint64_t bytes;
};

static int member(void *ctx, const char *buf, size_t len, const char *name,
		  const char *key)
{
	struct seen *s = ctx;
	size_t plen = strlen(s->path);
	unsigned sum = 0;

	if (!buf || !name || !key)
		abort();
	/* the name: the input, or the input ':' a member name */
	if (strncmp(name, s->path, plen) != 0 ||
	    (name[plen] != '\0' && name[plen] != ':'))
		abort();
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	/* the key: one harmless path component */
	if (!key[0] || strchr(key, '/') || strcmp(key, ".") == 0 ||
	    strcmp(key, "..") == 0)
		abort();
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	/* every byte of the member can be read */
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)buf[i];
	(void)shd_format_detect(buf, len);
	s->members++;
	s->bytes += len + (sum & 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write(data, size);
	struct seen s = { path, 0, 0 };
	char err[512] = "";
	int rc;

	rc = shd_input_each(path, member, &s, err, sizeof(err));
	if (rc < 0 && err[0] == '\0')
		abort();	/* a failure always says why */
	if (rc > 0)
		abort();
	return 0;
}
