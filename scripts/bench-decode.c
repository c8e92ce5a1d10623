/*
 * bench-decode - decode a .shd stream and report the throughput of decoded
 * column data (bytes of the in-memory columns per second of wall time).
 * Used by scripts/bench; not installed.
 *
 *   bench-decode FILE [REPEAT]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "shd.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench-decode FILE [REPEAT]\n");
		return 2;
	}
	int repeat = argc > 2 ? atoi(argv[2]) : 3;
	double best = 1e30;
	unsigned long long bytes = 0, rows = 0;
	for (int k = 0; k < repeat; k++) {
		int fd = open(argv[1], O_RDONLY);
		struct shd_reader *r;
		struct shd_frame f;
		int rc;
		if (fd < 0) {
			perror(argv[1]);
			return 4;
		}
		double t0 = now();
		if (shd_reader_open(&r, fd, argv[1])) {
			fprintf(stderr, "%s\n", shd_reader_errmsg(r));
			return 3;
		}
		shd_frame_init(&f, shd_reader_schema(r), shd_reader_dict(r));
		bytes = rows = 0;
		while ((rc = shd_reader_next(r, &f)) == 0) {
			for (size_t j = 0; j < f.ncols; j++)
				bytes += f.nrows * shd_type_size(f.types[j]);
			rows += f.nrows;
		}
		double t = now() - t0;
		if (rc != SHD_EOF) {
			fprintf(stderr, "%s\n", shd_reader_errmsg(r));
			return 3;
		}
		if (t < best)
			best = t;
		shd_frame_release(&f);
		shd_reader_free(r);
		close(fd);
	}
	printf("decode %llu rows %llu bytes %.3f s %.0f MB/s\n", rows, bytes,
	       best, (double)bytes / best / 1e6);
	return 0;
}
