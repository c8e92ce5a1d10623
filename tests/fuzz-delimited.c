/*
 * fuzz-delimited.c - libFuzzer target for shd_parse_delimited.
 *
 * The input bytes are parsed as they are (no NUL added, so reading past
 * the end shows up under ASan), first stopping at the first bad row, then
 * skipping bad rows, then once more with --start/--step. When the strict
 * parse succeeds, the skipping one must agree with it: no bad rows and the
 * same number of rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const uint8_t *data, size_t size, int skip_bad, int start,
	       uint64_t *rows, uint64_t *nbad)
{
	struct shd_parse_opts o = { .default_key = "fuzz" };
	struct shd_diag d;
	struct shd_acc *a = shd_acc_new();
	int rc;

	if (!a)
		abort();
	memset(&d, 0, sizeof d);
	d.skip_bad = skip_bad;
	if (start) {
		o.has_start = 1;
		o.start = -1000;
		o.step = 60000;
	}
	rc = shd_parse_delimited(a, (const char *)data, size, "fuzz.csv", &o,
				 &d);
	if (rc < 0 && d.msg[0] == '\0')
		abort();	/* a failure always says why */
	*rows = shd_acc_rows(a);
	*nbad = d.nbad;
	shd_acc_free(a);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly SIZE bytes, so ASan sees any overread. */
	uint8_t *buf = malloc(size ? size : 1);
	uint64_t rows1, bad1, rows2, bad2;
	int rc1, rc2;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc1 = run(buf, size, 0, 0, &rows1, &bad1);
	rc2 = run(buf, size, 1, 0, &rows2, &bad2);
	if (rc1 == 0 && (rc2 != 0 || bad2 != 0 || rows1 != rows2))
		abort();
	if (rc1 == 0 && bad1 != 0)
		abort();
	run(buf, size, 1, 1, &rows2, &bad2);
	free(buf);
	return 0;
}
