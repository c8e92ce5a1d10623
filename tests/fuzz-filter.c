/*
 * fuzz-filter.c - libFuzzer target for shd_filter_load: any bytes give a
 * filter or a clean error (with its reason), never a crash, a leak or an
 * absurd allocation. The loader takes a path, so the bytes go to one
 * temporary file in /tmp, made on the first run, rewritten on each and
 * removed at exit. On success the summary is made and freed too. Seeds:
 * tests/corpus/filter/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FUZZFILE_NAME "filter"
#include "fuzzfile.h"
#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_filter f;
	const char *path;
	char err[512] = "";
	char *s;

	path = fuzzfile_write(data, size);
	if (shd_filter_load(&f, path, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();	/* a failure always says why */
		return 0;
	}
	s = shd_filter_summary(&f);
	free(s);
	shd_filter_release(&f);
	return 0;
}
