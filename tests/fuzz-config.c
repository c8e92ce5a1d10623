/*
 * fuzz-config.c - libFuzzer target for shd_config_load: any bytes give a
 * configuration or a clean error naming the file, never a crash, a leak
 * or an absurd allocation. On success every resource is looked up again
 * and its knobs formatted. Seeds: tests/corpus/config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZFILE_NAME "config"
#include "fuzzfile.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_config c;
	const char *path = fuzzfile_write(data, size);
	char err[512] = "", b[64];

	if (shd_config_load(&c, path, err, sizeof(err)) != 0) {
		if (!strstr(err, path))
			abort();	/* a failure names the file */
		return 0;
	}
	for (size_t i = 0; i < c.nres; i++) {
		const struct shd_resource_conf *r = &c.res[i];

		if (shd_config_find(&c, r->name) != r || !shd_name_ok(r->name))
			abort();
		for (int k = 0; k < SHD_NKNOB; k++)
			if (r->knob[k].set)
				shd_knob_format(k, r->knob[k].current, b,
						sizeof(b));
	}
	shd_config_release(&c);
	return 0;
}
