/*
 * fuzz-model.c - libFuzzer target for shd_model_load, the reader of the
 * model files shd-train writes and shd-predict, shd-train --init and
 * shd-shadow read: any bytes give a model or a clean error (with its
 * reason), never a crash, a leak or an absurd allocation.
 *
 * A model file ends in a checksum of all bytes before it, so that mutated
 * bytes would almost never get past it to the JSON header and the weights.
 * Each input is therefore loaded twice: as it is, and with its last 8
 * bytes replaced by the right checksum (the file shd-train would have
 * written with those contents). What loads must also save: the model is
 * written and read back, and written again byte for byte the same, so
 * that shd-train --init never meets a model file it cannot rewrite.
 * The loader takes a path, so the bytes go to temporary files (in
 * /dev/shm when there is one: saving fsyncs), removed at exit.
 * Seeds: tests/corpus/model/ (small models of data/ by shd-train).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "shd.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TRAILER 8

static char dir[64], in[80], out1[80], out2[80];
static uint8_t *fixed;
static size_t fixed_cap;

static void cleanup(void)
{
	unlink(in);
	unlink(out1);
	unlink(out2);
	rmdir(dir);
	free(fixed);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/shd-fuzz-model-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(in, sizeof(in), "%s/in.model", dir);
	snprintf(out1, sizeof(out1), "%s/out1.model", dir);
	snprintf(out2, sizeof(out2), "%s/out2.model", dir);
	atexit(cleanup);
}

static void put(const char *path, const uint8_t *data, size_t size)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || (size && fwrite(data, 1, size, fp) != size) ||
	    fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

/* The bytes of PATH, malloc'd, their count in *LEN. */
static uint8_t *get(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (!fp || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 || !(b = malloc((size_t)n + 1)) ||
	    fread(b, 1, (size_t)n, fp) != (size_t)n) {
		perror(path);
		abort();
	}
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/* Saves M, loads it, saves that: the two files must be the same. */
static void round_trip(const struct shd_model *m)
{
	struct shd_model back;
	char err[512] = "";
	uint8_t *a, *b;
	size_t alen, blen;
	int rc;

	rc = shd_model_save(m, out1);
	if (rc != 0) {
		fprintf(stderr, "a loaded model is not saved: %s\n",
			shd_strerror(rc));
		abort();
	}
	if (shd_model_load(&back, out1, err, sizeof(err)) != 0) {
		fprintf(stderr, "a saved model is not loaded: %s\n", err);
		abort();
	}
	rc = shd_model_save(&back, out2);
	shd_model_release(&back);
	if (rc != 0) {
		fprintf(stderr, "a reloaded model is not saved: %s\n",
			shd_strerror(rc));
		abort();
	}
	a = get(out1, &alen);
	b = get(out2, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		fprintf(stderr, "a model changed when saved again\n");
		abort();
	}
	free(a);
	free(b);
}

/* Loads the model of DATA; its checks when it loads. */
static void one(const uint8_t *data, size_t size)
{
	struct shd_model m;
	char err[512] = "";

	put(in, data, size);
	if (shd_model_load(&m, in, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();	/* a failure always says why */
		return;
	}
	for (size_t r = 0; r < m.nres; r++)
		if (shd_model_find(&m, m.res[r]) != (long)r)
			abort();
	round_trip(&m);
	shd_model_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		setup();
	one(data, size);
	if (size < TRAILER)
		return 0;
	if (size > fixed_cap) {
		free(fixed);
		fixed = malloc(size);
		if (!fixed)
			abort();
		fixed_cap = size;
	}
	memcpy(fixed, data, size - TRAILER);
	XXH64_hash_t h = XXH3_64bits(fixed, size - TRAILER);
	for (int i = 0; i < TRAILER; i++)	/* little-endian */
		fixed[size - TRAILER + i] = (uint8_t)(h >> (8 * i));
	if (memcmp(fixed, data, size) != 0)
		one(fixed, size);
	return 0;
}
