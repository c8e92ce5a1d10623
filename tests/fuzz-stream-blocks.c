/*
 * fuzz-stream-blocks.c - a structure-aware libFuzzer target for the stream
 * reader's codecs. fuzz-stream.c feeds raw bytes, which almost never get
 * past the checksums; this one builds a valid stream around the fuzzed
 * payloads (header, block headers with right sizes, zstd frames, block
 * checksums, the end marker and its chain), so that every run reaches the
 * decoders: delta-of-delta, dictionary, shuffle, XOR-shuffle, decimal
 * scaling, derived columns and raw values, of every column type.
 *
 * The input, read front to back (missing bytes read as 0):
 *   per block, while input remains (at most MAXBLOCKS):
 *     nrows(2)                 1 + n % MAXROWS rows
 *     per column (SCHEMA below, in order):
 *       sel(1)                 a codec for the column's type; 1 in 16 any
 *       flags(1)               bit 0: zstd; bits 1-7: a derived column's
 *                              operation (1-4), sources (5, 6) and
 *                              exceptions (7)
 *       len(2)                 payload bytes that follow (clamped)
 *       c(1)                   only for a derived operation with a
 *                              constant: c = (int8_t)c / 4
 *       payload(len)
 * The layout is that of lib/stream.c and man/shd-format.5.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#include <zstd.h>

#include "codec.h"
#include "shd.h"

#define MAXBLOCKS 8
#define MAXROWS 2048
#define NCOLS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *name, *type;
	enum shd_type t;
} SCHEMA[NCOLS] = {
	{ "time", "time", SHD_TIME }, { "resource", "key", SHD_KEY },
	{ "a", "f64", SHD_F64 }, { "b", "f64", SHD_F64 },
	{ "c", "f32", SHD_F32 }, { "d", "i64", SHD_I64 },
	{ "e", "u8", SHD_U8 }, { "f", "f64", SHD_F64 },
};

struct in {
	const uint8_t *p, *end;
};

static unsigned get8(struct in *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static unsigned get16(struct in *in)
{
	unsigned v = get8(in);
	return v | get8(in) << 8;
}

struct out {
	uint8_t *p;
	size_t len, cap;
};

static uint8_t *room(struct out *o, size_t n)
{
	if (!o->p || o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n)
			cap *= 2;
		uint8_t *p = realloc(o->p, cap);
		if (!p)
			abort();
		o->p = p;
		o->cap = cap;
	}
	o->len += n;
	return o->p + o->len - n;
}

static void put(struct out *o, const void *v, size_t n)
{
	memcpy(room(o, n), v, n);
}

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A codec the reader accepts for type T, picked by SEL. */
static int codec_for(enum shd_type t, unsigned sel)
{
	if ((sel & 15) == 15)
		return (int)(sel >> 4) % (SHD_C_MAX + 2);
	sel >>= 4;
	switch (t) {
	case SHD_TIME:
	case SHD_I64: {
		static const int c[] = { SHD_C_RAW, SHD_C_DELTA2, SHD_C_SHUFFLE,
					 SHD_C_XORSHUF };
		return c[sel % 4];
	}
	case SHD_KEY:
		return SHD_C_DICT;
	case SHD_F64: {
		static const int c[] = { SHD_C_RAW, SHD_C_SHUFFLE, SHD_C_XORSHUF,
					 SHD_C_SCALED, SHD_C_DERIVED };
		return c[sel % 5];
	}
	case SHD_F32: {
		static const int c[] = { SHD_C_RAW, SHD_C_SHUFFLE, SHD_C_XORSHUF };
		return c[sel % 3];
	}
	default:
		return SHD_C_RAW;
	}
}

/* The 14-byte head of a derived column J: op, flags, a, b, c (c from IN
 * when the operation takes one). */
static void derived_head(uint8_t *h, unsigned flags, size_t j, struct in *in)
{
	static const uint16_t f64[] = { 2, 3, 7 };
	unsigned op = 1 + (flags >> 1) % SHD_D_MAX;
	unsigned a = f64[(flags >> 5) % 3], b = f64[(flags >> 6) % 3];
	double c = op == SHD_D_MULDIV || op == SHD_D_DIVMUL ||
		   op == SHD_D_MULC || op == SHD_D_DIVC ?
		   (double)(int8_t)get8(in) / 4 : 0;
	uint64_t cb;

	if (a == j)
		a = 2 + (j == 2);
	if (op >= SHD_D_MULC)
		b = a;
	else if (b == j || b == a)
		b = a == 2 ? 3 : 2;
	memcpy(&cb, &c, sizeof(cb));
	h[0] = (uint8_t)op;
	h[1] = (uint8_t)(flags >> 7);		/* exceptions follow */
	le(h + 2, a, 2);
	le(h + 4, b, 2);
	le(h + 6, cb, 8);
}

static void build(struct out *s, struct in *in)
{
	static const uint8_t magic[8] = { 0x89, 'S', 'H', 'D', '\r', '\n',
					  0x1a, '\n' };
	char json[1024];
	size_t jl = 0;

	jl += (size_t)snprintf(json, sizeof(json), "{\"columns\":[");
	for (size_t j = 0; j < NCOLS; j++)
		jl += (size_t)snprintf(json + jl, sizeof(json) - jl,
				       "%s{\"name\":\"%s\",\"type\":\"%s\","
				       "\"unit\":\"\",\"role\":\"\"}",
				       j ? "," : "", SCHEMA[j].name,
				       SCHEMA[j].type);
	jl += (size_t)snprintf(json + jl, sizeof(json) - jl, "],\"meta\":{}}");
	size_t h0 = s->len;
	uint8_t *h = room(s, 16);
	memcpy(h, magic, 8);
	le(h + 8, 1, 2);
	le(h + 10, 0, 2);
	le(h + 12, jl, 4);
	put(s, json, jl);
	le(room(s, 8), XXH3_64bits(s->p + h0, 16 + jl), 8);

	XXH3_state_t *chain = XXH3_createState();
	uint64_t rows = 0, blocks = 0;
	struct out pay = { 0 };
	if (!chain)
		abort();
	XXH3_64bits_reset(chain);
	while (in->p < in->end && blocks < MAXBLOCKS) {
		unsigned nrows = 1 + get16(in) % MAXROWS;
		uint8_t desc[12 * NCOLS];
		pay.len = 0;
		for (size_t j = 0; j < NCOLS; j++) {
			unsigned sel = get8(in), flags = get8(in);
			int codec = codec_for(SCHEMA[j].t, sel);
			uint8_t raw[SHD_DERIVED_HEAD + 65535];
			size_t rl = 0, n = get16(in);
			if (codec == SHD_C_DERIVED && SCHEMA[j].t == SHD_F64) {
				derived_head(raw, flags, j, in);
				rl = SHD_DERIVED_HEAD;
			}
			if (n > (size_t)(in->end - in->p))
				n = (size_t)(in->end - in->p);
			memcpy(raw + rl, in->p, n);
			in->p += n;
			rl += n;
			size_t stored = rl;
			if (flags & 1) {
				size_t cap = ZSTD_compressBound(rl), at = pay.len;
				uint8_t *z = room(&pay, cap);
				stored = ZSTD_compress(z, cap, raw, rl, 1);
				if (ZSTD_isError(stored))
					abort();
				pay.len = at + stored;
			} else {
				put(&pay, raw, rl);
			}
			uint8_t *d = desc + 12 * j;
			d[0] = (uint8_t)codec;
			d[1] = flags & 1;
			d[2] = d[3] = 0;
			le(d + 4, rl, 4);
			le(d + 8, stored, 4);
		}
		size_t b0 = s->len;
		uint8_t *b = room(s, 12);
		memcpy(b, "SHDB", 4);
		le(b + 4, nrows, 4);
		le(b + 8, NCOLS, 4);
		put(s, desc, sizeof(desc));
		put(s, pay.p, pay.len);
		uint8_t *sum = room(s, 8);
		le(sum, XXH3_64bits(s->p + b0, s->len - 8 - b0), 8);
		XXH3_64bits_update(chain, sum, 8);
		rows += nrows;
		blocks++;
	}
	uint8_t *e = room(s, 36);
	memcpy(e, "SHDE", 4);
	le(e + 4, rows, 8);
	le(e + 12, blocks, 8);
	le(e + 20, XXH3_64bits_digest(chain), 8);
	le(e + 28, XXH3_64bits(e, 28), 8);
	XXH3_freeState(chain);
	free(pay.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, data + size };
	struct out s = { 0 };
	struct shd_reader *r;
	struct shd_frame f;

	build(&s, &in);
	if (shd_reader_open_mem(&r, s.p, s.len, "fuzz") != 0) {
		/* the header is ours: it must be accepted */
		abort();
	}
	if (shd_frame_init(&f, shd_reader_schema(r), shd_reader_dict(r)) == 0) {
		int rc;
		while ((rc = shd_reader_next(r, &f)) == 0) {
			/* touch every decoded value: uninitialised ones show
			 * under MSan, wrong sizes under ASan */
			volatile uint8_t x = 0;
			for (size_t j = 0; j < NCOLS; j++) {
				const uint8_t *v = f.col[j];
				size_t w = shd_type_size(SCHEMA[j].t);
				for (size_t i = 0; i < f.nrows * w; i++)
					x ^= v[i];
			}
			(void)x;
		}
		/* the end marker is ours: only a codec may refuse */
		if (rc != SHD_EOF && rc != SHD_EFORMAT)
			abort();
		shd_frame_release(&f);
	}
	shd_reader_free(r);
	free(s.p);
	return 0;
}
