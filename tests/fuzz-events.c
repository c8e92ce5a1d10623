/*
 * fuzz-events.c - libFuzzer target for the known-events reader
 * (lib/events.c): any bytes give events or a clean error naming the line,
 * never a crash, a leak or an absurd allocation. The bytes are parsed in
 * memory (shd_events_parse) and, through one temporary file in /tmp, by
 * shd_events_load, which must agree; the events come out sorted, and each
 * is found by shd_events_any at its own time for its own resource. Seeds:
 * tests/corpus/events/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZFILE_NAME "events"
#include "fuzzfile.h"
#include "events.h"
#include "shd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shd_events a, b;
	char ea[512] = "", eb[512] = "";
	const char *path;
	int ra, rb;

	shd_events_init(&a);
	shd_events_init(&b);
	ra = shd_events_parse(&a, (const char *)data, size, "f", ea,
			      sizeof(ea));
	if (ra != 0 && ra != SHD_EFORMAT)
		abort();
	if (ra && strncmp(ea, "f:", 2) != 0)
		abort();	/* a failure names the file and line */
	if (!a.sorted)
		abort();
	for (size_t i = 0; i < a.n; i++) {
		const struct shd_event *e = &a.ev[i];

		if (i && a.ev[i - 1].t > e->t)
			abort();
		if (e->resource && (!*e->resource ||
				    !strcmp(e->resource, "*")))
			abort();	/* those are NULL: every resource */
		if (!shd_events_any(&a, e->resource ? e->resource : "x",
				    e->t, e->t == INT64_MAX ? e->t : e->t + 1)
		    && e->t != INT64_MAX)
			abort();
	}

	path = fuzzfile_write(data, size);
	rb = shd_events_load(&b, path, eb, sizeof(eb));
	if (rb != ra || a.n != b.n)
		abort();
	for (size_t i = 0; i < a.n; i++)
		if (a.ev[i].t != b.ev[i].t ||
		    !a.ev[i].resource != !b.ev[i].resource)
			abort();
	shd_events_release(&a);
	shd_events_release(&b);
	return 0;
}
