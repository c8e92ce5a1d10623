/*
 * pieces.h - for tests and fuzz targets of readers in pieces: a member
 * held in memory and handed over PIECE bytes at a time (the head too),
 * optionally failing from a byte on.
 */
#ifndef SHD_TEST_PIECES_H
#define SHD_TEST_PIECES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shd.h"

/* TEXT (LEN bytes) PIECE bytes at a time; a read error instead of the
 * bytes from FAIL_AT on (SIZE_MAX: none). */
struct pieces_src {
	const char *text;
	size_t len, pos, piece, fail_at;
};

static int pieces_more(struct shd_pieces *pc, char *buf, size_t cap,
		       size_t *got)
{
	struct pieces_src *s = pc->src;
	size_t n = s->len - s->pos;

	if (n > s->piece)
		n = s->piece;
	if (n > cap)
		n = cap;
	if (s->pos >= s->fail_at) {
		snprintf(pc->err, sizeof(pc->err), "Input/output error");
		return SHD_EIO;
	}
	if (s->pos + n > s->fail_at)
		n = s->fail_at - s->pos;
	memcpy(buf, s->text + s->pos, n);
	s->pos += n;
	*got = n;
	return 0;
}

/* PC reading S, set up over TEXT (LEN bytes) with its first piece as the
 * head. */
static void pieces_init(struct shd_pieces *pc, struct pieces_src *s,
			const char *text, size_t len, size_t piece,
			size_t fail_at)
{
	*s = (struct pieces_src){ text, len, 0, piece, fail_at };
	memset(pc, 0, sizeof(*pc));
	pc->head = text;
	pc->headlen = s->pos = len < piece ? len : piece;
	pc->more = pieces_more;
	pc->src = s;
}

#endif
