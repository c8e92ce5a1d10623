/*
 * fuzz-stream.c - libFuzzer target for the stream reader: any bytes give
 * blocks or a clean error, never a crash, a hang or an absurd allocation.
 */
#include <stddef.h>
#include <stdint.h>

#include "shd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_reader *r;
	struct shd_frame f;

	if (shd_reader_open_mem(&r, data, size, "fuzz") != 0) {
		shd_reader_free(r);
		return 0;
	}
	if (shd_frame_init(&f, shd_reader_schema(r), shd_reader_dict(r)) == 0) {
		while (shd_reader_next(r, &f) == 0)
			;
		shd_frame_release(&f);
	}
	shd_reader_free(r);
	return 0;
}
