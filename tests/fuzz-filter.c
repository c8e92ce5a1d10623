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

#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[] = "/tmp/shd-fuzz-filter-XXXXXX";
static int tmp_fd = -1;

static void tmp_remove(void)
{
	if (tmp_fd >= 0) {
		close(tmp_fd);
		unlink(tmp_path);
	}
}

/* Makes the temporary file hold exactly DATA (SIZE bytes). */
static void tmp_write(const uint8_t *data, size_t size)
{
	if (tmp_fd < 0) {
		tmp_fd = mkstemp(tmp_path);
		if (tmp_fd < 0) {
			perror("mkstemp");
			abort();
		}
		atexit(tmp_remove);
	}
	if (ftruncate(tmp_fd, 0) != 0 ||
	    (size && pwrite(tmp_fd, data, size, 0) != (ssize_t)size)) {
		perror(tmp_path);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_filter f;
	char err[512] = "";
	char *s;

	tmp_write(data, size);
	if (shd_filter_load(&f, tmp_path, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();	/* a failure always says why */
		return 0;
	}
	s = shd_filter_summary(&f);
	free(s);
	shd_filter_release(&f);
	return 0;
}
