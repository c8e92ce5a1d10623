/*
 * fuzz-nablabels.c - libFuzzer target for shd_nab_labels_load: any bytes
 * give labels or a clean error (with its reason), never a crash, a leak or
 * an absurd allocation. The loader takes a path, so the bytes go to one
 * temporary file in /tmp, made on the first run, rewritten on each and
 * removed at exit. On success a key is looked up and the windows found
 * are checked against what shd_nab_labels_load promises. Seeds:
 * tests/corpus/nablabels/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FUZZFILE_NAME "nablabels"
#include "fuzzfile.h"
#include "nab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_nab_labels l;
	const struct shd_nab_window *w;
	const char *path;
	char err[512] = "";
	size_t nw;

	shd_nab_labels_init(&l);
	path = fuzzfile_write(data, size);
	if (shd_nab_labels_load(&l, path, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || l.nfile != 0)
			abort();	/* says why, leaves L empty */
		return 0;
	}
	/* the first file's key, when there is one, then a key no file has */
	if (l.nfile) {
		w = shd_nab_labels_find(&l, l.key[0], &nw);
		if (!w || nw != l.nwin[0])
			abort();
		for (size_t i = 0; i < nw; i++)
			if (w[i].to < w[i].from ||
			    (i > 0 && w[i].from <= w[i - 1].to))
				abort();
	}
	w = shd_nab_labels_find(&l, "ec2_cpu_utilization_24ae8d", &nw);
	if (!w && nw != 0)
		abort();
	shd_nab_labels_release(&l);
	return 0;
}
