/*
 * fuzz-pieces.c - libFuzzer target for shd_parse_delimited_pieces, against
 * shd_parse_delimited on the same bytes: the text read in pieces (as from
 * a pipe) must give what it gives whole, the status, the message, the
 * bad rows and the rows. The piece size comes from the input's first
 * byte (1 to 256 bytes, or 4093), the rest is the text; bad rows are
 * skipped when its low bit is set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pieces.h"
#include "shd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_parse_opts o = { .default_key = "fuzz" };
	struct shd_diag d1, d2;
	struct shd_acc *a1, *a2;
	struct pieces_src s;
	struct shd_pieces pc;
	char *text;
	int rc1, rc2;

	if (size < 1)
		return 0;
	/* a heap copy of exactly the text, so ASan sees any overread */
	text = malloc(size);
	a1 = shd_acc_new();
	a2 = shd_acc_new();
	if (!text || !a1 || !a2)
		abort();
	memcpy(text, data + 1, size - 1);
	memset(&d1, 0, sizeof d1);
	d1.skip_bad = data[0] & 1;
	d2 = d1;
	pieces_init(&pc, &s, text, size - 1,
		    data[0] == 0xff ? 4093 : (size_t)data[0] + 1, SIZE_MAX);

	rc1 = shd_parse_delimited(a1, text, size - 1, "fuzz.csv", &o, &d1);
	rc2 = shd_parse_delimited_pieces(a2, &pc, "fuzz.csv", &o, &d2);
	if (rc1 != rc2 || strcmp(d1.msg, d2.msg) != 0 || d1.nbad != d2.nbad ||
	    shd_acc_rows(a1) != shd_acc_rows(a2) ||
	    shd_acc_nseries(a1) != shd_acc_nseries(a2))
		abort();
	for (int k = 0; k < SHD_DIAG_KEEP && k < (int)d1.nbad; k++)
		if (strcmp(d1.first[k], d2.first[k]) != 0)
			abort();
	shd_acc_free(a1);
	shd_acc_free(a2);
	free(text);
	return 0;
}
