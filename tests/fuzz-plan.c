/*
 * fuzz-plan.c - libFuzzer target for shd_plan_load, with and without a
 * key: any bytes give a plan whose id matches its content, or a clean
 * error naming the file; every name in a loaded plan passes shd_name_ok.
 * Seeds: tests/corpus/plan/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZFILE_NAME "plan"
#include "fuzzfile.h"
#include "config.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *path, const unsigned char *key, size_t klen)
{
	struct shd_plan p;
	char err[512] = "";
	int sig;

	if (shd_plan_load(&p, path, key, klen, &sig, err, sizeof(err)) != 0) {
		if (!strstr(err, path))
			abort();
		return;
	}
	if (strlen(p.id) != 16 || (key && !sig))
		abort();
	for (size_t i = 0; i < p.nact; i++)
		if (!shd_name_ok(p.act[i].resource) || p.act[i].knob < 0 ||
		    p.act[i].knob >= SHD_NKNOB)
			abort();
	shd_plan_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write(data, size);

	one(path, NULL, 0);
	one(path, (const unsigned char *)"fuzz key", 8);
	return 0;
}
