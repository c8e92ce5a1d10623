/*
 * fuzzfile.h - for fuzz targets of readers that take a path: the bytes of
 * each run go to one temporary file in /tmp, made on the first run,
 * rewritten on each and removed at exit. FUZZFILE_NAME names it.
 */
#ifndef SHD_FUZZFILE_H
#define SHD_FUZZFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzzfile_path[] = "/tmp/shd-fuzz-" FUZZFILE_NAME "-XXXXXX";
static int fuzzfile_fd = -1;

static void fuzzfile_remove(void)
{
	if (fuzzfile_fd >= 0) {
		close(fuzzfile_fd);
		unlink(fuzzfile_path);
	}
}

/* Makes the temporary file hold exactly DATA (SIZE bytes); its path. */
static const char *fuzzfile_write(const uint8_t *data, size_t size)
{
	if (fuzzfile_fd < 0) {
		fuzzfile_fd = mkstemp(fuzzfile_path);
		if (fuzzfile_fd < 0) {
			perror("mkstemp");
			abort();
		}
		atexit(fuzzfile_remove);
	}
	if (ftruncate(fuzzfile_fd, 0) != 0 ||
	    (size && pwrite(fuzzfile_fd, data, size, 0) != (ssize_t)size)) {
		perror(fuzzfile_path);
		abort();
	}
	return fuzzfile_path;
}

#endif
