/*
 * fuzz-cloudwatch.c - libFuzzer target: shd_parse_cloudwatch on any bytes,
 * stopping at the first bad point and then skipping bad points, each into
 * a fresh accumulator whose schema is then built. Seeds: tests/corpus/
 * cloudwatch/.
 */
#include <stddef.h>
#include <stdint.h>

#include "shd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_parse_opts o = { 0 };

	for (int pass = 0; pass < 3; pass++) {
		struct shd_acc *a = shd_acc_new();
		struct shd_diag d = { 0 };
		struct shd_schema s;

		if (!a)
			return 0;
		d.skip_bad = pass > 0;
		if (pass == 2) {
			o.default_key = "fuzz";
			o.metric = "m";
		}
		shd_parse_cloudwatch(a, (const char *)data, size, "fuzz.json",
				     &o, &d);
		if (shd_acc_schema(a, &s) == 0)
			shd_schema_release(&s);
		shd_acc_free(a);
	}
	return 0;
}
