/*
 * stream.c - the .shd stream: header, blocks, end marker (man/shd-format.5).
 *
 *   stream  = header block* end      (streams may follow one another)
 *   header  = magic(8) major(2) minor(2) len(4) json(len) xxh3(8)
 *   block   = "SHDB" nrows(4) ncols(4) coldesc(12 * ncols) payload* xxh3(8)
 *   coldesc = codec(1) zstd(1) 0(2) rawsize(4) storedsize(4)
 *   end     = "SHDE" rows(8) blocks(8) chain(8) xxh3(8)
 *
 * All integers little-endian. Every checksum is XXH3-64 of the bytes before
 * it in the same frame; the end marker's chain is XXH3-64 over the block
 * checksums in order, so a lost, repeated or reordered block is found.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <xxhash.h>
#include <zstd.h>

#include "codec.h"
#include "shd.h"

static const uint8_t MAGIC[8] = { 0x89, 'S', 'H', 'D', '\r', '\n', 0x1a, '\n' };
#define VERSION_MAJOR 1
#define VERSION_MINOR 0
#define MAX_HEADER (1u << 20)
#define MAX_COLS 65535
#define COLDESC 12
/* A column's decoded payload is at most this (bounds every allocation). */
#define RAW_CAP(nrows) ((size_t)(nrows) * 16 + (16u << 20))
/* Rows times columns of one block, and its stored bytes, at most. */
#define MAX_CELLS (1u << 27)
#define MAX_BLOCK_BYTES (1u << 30)
/*
 * The distinct keys of a stream (all its key columns and concatenated
 * members: they share one dictionary), and their bytes. One block's
 * dictionary is bounded by the block; these bound what the blocks add up
 * to in the reader's dictionary, which lives as long as the reader.
 * About 40 MB of memory for a million keys of 8 bytes, about 100 MB at
 * the byte limit (tests/t1000-faults.sh). Writers refuse to go past them too.
 */
#define MAX_KEYS (1u << 20)
#define MAX_KEY_BYTES (64u << 20)

/* ---------------------------------------------------------------- header */

static char *header_json(const struct shd_schema *s)
{
	json_t *root = json_object(), *cols = json_array(), *meta = json_object();
	char *text = NULL;

	if (!root || !cols || !meta)
		goto out;
	for (size_t j = 0; j < s->ncols; j++) {
		const struct shd_column *c = &s->cols[j];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", c->name,
				      "type", shd_type_name(c->type),
				      "unit", c->unit, "role", c->role);
		if (!o || json_array_append_new(cols, o) < 0)
			goto out;
	}
	for (size_t k = 0; k < s->nmeta; k++)
		if (json_object_set_new(meta, s->meta_key[k],
					json_string(s->meta_val[k])) < 0)
			goto out;
	if (json_object_set(root, "columns", cols) < 0 ||
	    json_object_set(root, "meta", meta) < 0)
		goto out;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(cols);
	json_decref(meta);
	json_decref(root);
	return text;
}

/* Parses header JSON into S; on failure writes a reason into WHY. */
static int header_parse(struct shd_schema *s, const char *text, size_t len,
			char *why, size_t n)
{
	json_error_t e;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	int rc = SHD_EFORMAT;

	shd_schema_init(s);
	if (!root) {
		snprintf(why, n, "header JSON: %s", e.text);
		return SHD_EFORMAT;
	}
	json_t *cols = json_object_get(root, "columns");
	json_t *meta = json_object_get(root, "meta");
	if (!json_is_array(cols) || json_array_size(cols) == 0 ||
	    json_array_size(cols) > MAX_COLS) {
		snprintf(why, n, "header: \"columns\" must be a non-empty array");
		goto out;
	}
	for (size_t j = 0; j < json_array_size(cols); j++) {
		json_t *c = json_array_get(cols, j);
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *unit = json_string_value(json_object_get(c, "unit"));
		const char *role = json_string_value(json_object_get(c, "role"));
		enum shd_type t = type ? shd_type_parse(type) : 0;
		if (!name || !*name) {
			snprintf(why, n, "header: column %zu has no name", j + 1);
			goto out;
		}
		if (!t) {
			snprintf(why, n, "header: column '%s' has unknown type "
				 "'%s'", name, type ? type : "(none)");
			goto out;
		}
		int r = shd_schema_add(s, name, t, unit, role);
		if (r == SHD_ENOMEM) {
			rc = r;
			goto out;
		}
		if (r < 0) {
			snprintf(why, n, "header: column '%s' appears twice",
				 name);
			goto out;
		}
	}
	if (json_is_object(meta)) {
		const char *k;
		json_t *v;
		json_object_foreach(meta, k, v) {
			char *dump = NULL;
			const char *val = json_string_value(v);
			if (!val)
				val = dump = json_dumps(v, JSON_COMPACT |
							JSON_ENCODE_ANY);
			int r = val ? shd_schema_set_meta(s, k, val) : SHD_ENOMEM;
			free(dump);
			if (r < 0) {
				rc = r;
				goto out;
			}
		}
	}
	rc = 0;
out:
	json_decref(root);
	if (rc)
		shd_schema_release(s);
	return rc;
}

/* ---------------------------------------------------------------- writer */

struct shd_writer {
	int fd;
	struct shd_schema schema;
	int level;
	size_t block_rows;
	struct shd_frame pend;		/* rows waiting for a full block */
	struct shd_dict *dict;		/* of the frames written */
	ZSTD_CCtx *cctx;
	struct shd_buf blk, raw, zbuf;
	uint8_t *role;			/* (ncols) per block: see put_f64 */
	const double **src;		/* (ncols) candidate sources */
	XXH3_state_t *chain;
	uint64_t rows, blocks, bytes;
	size_t nkeys, key_bytes;	/* of dict: counted up to nkeys */
	int failed;
	char err[256];
};

static int wfail(struct shd_writer *w, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->failed = rc;
	return rc;
}

static int wput(struct shd_writer *w, const void *p, size_t n)
{
	if (shd_write_all(w->fd, p, n) < 0)
		return wfail(w, SHD_EIO, "write error: %s", strerror(errno));
	w->bytes += n;
	return 0;
}

int shd_writer_open(struct shd_writer **wp, int fd, const struct shd_schema *s,
		    const struct shd_writer_opts *o)
{
	struct shd_writer *w;
	int rc;

	*wp = NULL;
	if (s->ncols == 0 || s->ncols > MAX_COLS)
		return SHD_EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return SHD_ENOMEM;
	w->fd = fd;
	w->level = o && o->level ? o->level : 3;
	w->block_rows = o && o->block_rows ? o->block_rows : SHD_BLOCK_ROWS;
	if (w->block_rows > SHD_MAX_BLOCK_ROWS)
		w->block_rows = SHD_MAX_BLOCK_ROWS;
	if (w->block_rows > MAX_CELLS / s->ncols)
		w->block_rows = MAX_CELLS / s->ncols;
	rc = shd_schema_copy(&w->schema, s);
	if (rc) {
		free(w);
		return rc;
	}
	w->cctx = ZSTD_createCCtx();
	w->chain = XXH3_createState();
	w->role = calloc(s->ncols, sizeof(*w->role));
	w->src = calloc(s->ncols, sizeof(*w->src));
	if (!w->cctx || !w->chain || !w->role || !w->src || XXH3_64bits_reset(w->chain) != XXH_OK ||
	    shd_frame_init(&w->pend, s, NULL) < 0) {
		shd_writer_free(w);
		return SHD_ENOMEM;
	}
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level);

	char *json = header_json(s);
	if (!json) {
		shd_writer_free(w);
		return SHD_ENOMEM;
	}
	size_t jlen = strlen(json);
	struct shd_buf h = { 0 };
	rc = shd_buf_reserve(&h, 16 + jlen + 8);
	if (!rc) {
		memcpy(h.p, MAGIC, 8);
		shd_put_le16(h.p + 8, VERSION_MAJOR);
		shd_put_le16(h.p + 10, VERSION_MINOR);
		shd_put_le32(h.p + 12, (uint32_t)jlen);
		memcpy(h.p + 16, json, jlen);
		shd_put_le64(h.p + 16 + jlen, XXH3_64bits(h.p, 16 + jlen));
		rc = jlen > MAX_HEADER ? SHD_EINVAL : wput(w, h.p, 24 + jlen);
	}
	free(json);
	shd_buf_release(&h);
	if (rc) {
		int e = errno;
		shd_writer_free(w);
		errno = e;
		return rc;
	}
	*wp = w;
	return 0;
}

/* Compresses RAW when that saves space; appends to BLK; fills DESC_OUT
 * (never a pointer into BLK, which may move). */
static int put_payload(struct shd_writer *w, const struct shd_buf *raw,
		       int codec, uint8_t *desc_out, struct shd_buf *blk)
{
	size_t bound = ZSTD_compressBound(raw->len);
	uint8_t desc[COLDESC] = { 0 };

	if (raw->len > UINT32_MAX)
		return wfail(w, SHD_EINVAL, "column payload over 4 GiB");
	if (shd_buf_reserve(blk, bound > raw->len ? bound : raw->len) < 0)
		return wfail(w, SHD_ENOMEM, "out of memory");
	size_t z = raw->len ? ZSTD_compress2(w->cctx, blk->p + blk->len, bound,
					     raw->p, raw->len) : 0;
	desc[0] = (uint8_t)codec;
	shd_put_le32(desc + 4, (uint32_t)raw->len);
	if (raw->len && !ZSTD_isError(z) && z < raw->len) {
		desc[1] = 1;
		shd_put_le32(desc + 8, (uint32_t)z);
		blk->len += z;
	} else {
		memcpy(blk->p + blk->len, raw->p, raw->len);
		shd_put_le32(desc + 8, (uint32_t)raw->len);
		blk->len += raw->len;
	}
	memcpy(desc_out, desc, COLDESC);
	return 0;
}

enum { ROLE_FREE, ROLE_DERIVED, ROLE_SOURCE };

/*
 * A float column: derived from other columns of the row when that explains
 * nearly every value (then nothing else is tried when it takes under half a
 * byte a value); scaled integers (decimal scaling, or another divisor) when
 * they explain the values and compress to under 2 bytes a value; else the
 * smallest after zstd of these, raw and byte-shuffled. Raw keeps repeated
 * values whole for zstd to match; shuffling suits smooth noisy values.
 *
 * Column J of F, rows [off, off + n). A derived column's sources become
 * ROLE_SOURCE and are never derived themselves, so a reader can decode
 * every other column first.
 */
static int put_f64(struct shd_writer *w, const struct shd_frame *f,
		   size_t off, size_t n, size_t j, size_t descpos)
{
	static const int codecs[] = { SHD_C_DERIVED, SHD_C_SCALED, SHD_C_RAW,
				      SHD_C_SHUFFLE };
	const double *v = (const double *)f->col[j] + off;
	uint8_t desc[COLDESC], best_desc[COLDESC];
	size_t best_off = 0, best_len = SIZE_MAX, nexc;
	struct shd_derive dv;
	int derive = 0;

	if (w->role[j] == ROLE_FREE) {
		for (size_t k = 0; k < f->ncols; k++)
			w->src[k] = f->types[k] == SHD_F64 && k != j &&
				    w->role[k] != ROLE_DERIVED ?
				    (const double *)f->col[k] + off : NULL;
		derive = shd_find_derived(v, n, w->src, f->ncols, j, &dv,
					  &nexc) == 0;
	}
	w->zbuf.len = 0;
	for (size_t k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++) {
		int r;
		w->raw.len = 0;
		switch (codecs[k]) {
		case SHD_C_DERIVED:
			if (!derive)
				continue;
			r = shd_enc_derived(&w->raw, v, n, &dv, w->src[dv.a],
					    w->src[dv.b]);
			break;
		case SHD_C_SCALED: r = shd_enc_scaled(&w->raw, v, n); break;
		case SHD_C_RAW: r = shd_enc_raw(&w->raw, v, n, 8); break;
		default: r = shd_enc_shuffle(&w->raw, v, n, 8, 0); break;
		}
		if (r < 0)
			return wfail(w, r, "out of memory");
		if (r > 0)
			continue;	/* scaled does not apply */
		size_t at = w->zbuf.len;
		if (put_payload(w, &w->raw, codecs[k], desc, &w->zbuf) < 0)
			return w->failed;
		if (w->zbuf.len - at < best_len) {
			best_off = at;
			best_len = w->zbuf.len - at;
			memcpy(best_desc, desc, COLDESC);
		}
		if (codecs[k] == SHD_C_DERIVED && best_len < n / 2)
			break;
		if (codecs[k] == SHD_C_SCALED && best_len < 2 * n)
			break;
	}
	if (best_desc[0] == SHD_C_DERIVED) {
		w->role[j] = ROLE_DERIVED;
		/* DERIVED is chosen only after shd_find_derived set dv */
		/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.ArraySubscript) */
		w->role[dv.a] = w->role[dv.b] = ROLE_SOURCE;
	}
	if (shd_buf_put(&w->blk, w->zbuf.p + best_off, best_len) < 0)
		return wfail(w, SHD_ENOMEM, "out of memory");
	memcpy(w->blk.p + descpos, best_desc, COLDESC);
	return 0;
}

/*
 * Counts the keys the dictionary D has gained since the last count into
 * *NKEYS and *BYTES: SHD_EFORMAT when they pass MAX_KEYS or MAX_KEY_BYTES.
 * A stream holds at most the keys of its dictionary, so a writer whose
 * dictionary is within the limits writes a stream every reader takes.
 */
static int count_keys(const struct shd_dict *d, size_t *nkeys, size_t *bytes)
{
	size_t n = d ? shd_dict_count(d) : 0;

	for (; *nkeys < n; (*nkeys)++) {
		size_t len;
		shd_dict_str(d, (uint32_t)*nkeys, &len);
		*bytes += len;
	}
	return *nkeys > MAX_KEYS || *bytes > MAX_KEY_BYTES ? SHD_EFORMAT : 0;
}

/* Encodes rows [off, off+n) of F as one block and writes it. */
static int write_block(struct shd_writer *w, const struct shd_frame *f,
		       size_t off, size_t n)
{
	size_t ncols = w->schema.ncols;
	size_t head = 12 + COLDESC * ncols;
	int rc = 0;

	if (count_keys(f->dict, &w->nkeys, &w->key_bytes))
		return wfail(w, SHD_EFORMAT, "%zu distinct keys of %zu bytes "
			     "in all: more than a stream holds (%u keys, %u "
			     "MiB)", w->nkeys, w->key_bytes, MAX_KEYS,
			     MAX_KEY_BYTES >> 20);
	w->blk.len = 0;
	if (shd_buf_reserve(&w->blk, head) < 0)
		return wfail(w, SHD_ENOMEM, "out of memory");
	memcpy(w->blk.p, "SHDB", 4);
	shd_put_le32(w->blk.p + 4, (uint32_t)n);
	shd_put_le32(w->blk.p + 8, (uint32_t)ncols);
	w->blk.len = head;
	memset(w->role, ROLE_FREE, ncols);
	for (size_t j = 0; j < ncols && !rc; j++) {
		size_t descpos = 12 + COLDESC * j;
		enum shd_type t = w->schema.cols[j].type;
		const char *col = (const char *)f->col[j] + off * shd_type_size(t);
		int codec;
		w->raw.len = 0;
		switch (t) {
		case SHD_TIME:
		case SHD_I64:
			codec = SHD_C_DELTA2;
			rc = shd_enc_delta2(&w->raw, (const int64_t *)col, n);
			break;
		case SHD_KEY:
			codec = SHD_C_DICT;
			rc = shd_enc_dict(&w->raw, (const uint32_t *)col, n,
					  f->dict);
			break;
		case SHD_F64:
			rc = put_f64(w, f, off, n, j, descpos);
			continue;
		case SHD_F32:
			codec = SHD_C_SHUFFLE;
			rc = shd_enc_shuffle(&w->raw, col, n, 4, 0);
			break;
		default:
			codec = SHD_C_RAW;
			rc = shd_enc_raw(&w->raw, col, n, 1);
			break;
		}
		if (rc)
			return wfail(w, rc, "out of memory");
		uint8_t desc[COLDESC];
		rc = put_payload(w, &w->raw, codec, desc, &w->blk);
		if (!rc)
			memcpy(w->blk.p + descpos, desc, COLDESC);
	}
	if (rc)
		return rc;
	uint64_t sum = XXH3_64bits(w->blk.p, w->blk.len);
	uint8_t le[8];
	shd_put_le64(le, sum);
	if (shd_buf_put(&w->blk, le, 8) < 0)
		return wfail(w, SHD_ENOMEM, "out of memory");
	XXH3_64bits_update(w->chain, le, 8);
	rc = wput(w, w->blk.p, w->blk.len);
	if (!rc) {
		w->rows += n;
		w->blocks++;
	}
	return rc;
}

/* Copies rows [off, off+n) of F to the end of the pending frame. */
static void pend_copy(struct shd_writer *w, const struct shd_frame *f,
		      size_t off, size_t n)
{
	for (size_t j = 0; j < f->ncols; j++) {
		size_t sz = shd_type_size(f->types[j]);
		memcpy((char *)w->pend.col[j] + w->pend.nrows * sz,
		       (const char *)f->col[j] + off * sz, n * sz);
	}
	w->pend.nrows += n;
}

int shd_writer_write(struct shd_writer *w, const struct shd_frame *f)
{
	size_t off = 0, n = f->nrows;

	if (w->failed)
		return w->failed;
	if (f->ncols != w->schema.ncols)
		return wfail(w, SHD_EINVAL, "frame has %zu columns, stream %zu",
			     f->ncols, w->schema.ncols);
	for (size_t j = 0; j < f->ncols; j++)
		if (f->types[j] != w->schema.cols[j].type)
			return wfail(w, SHD_EINVAL, "column %zu: type differs",
				     j + 1);
	if (n == 0)
		return 0;
	if (!w->dict)
		w->dict = f->dict;
	else if (f->dict && f->dict != w->dict)
		return wfail(w, SHD_EINVAL, "frames of one stream must share "
			     "a dictionary");
	if (shd_frame_reserve(&w->pend, w->block_rows) < 0)
		return wfail(w, SHD_ENOMEM, "out of memory");
	w->pend.dict = w->dict;
	while (off < n) {
		if (w->pend.nrows == 0 && n - off >= w->block_rows) {
			/* Whole blocks straight from the caller's frame. */
			int rc = write_block(w, f, off, w->block_rows);
			if (rc)
				return rc;
			off += w->block_rows;
			continue;
		}
		size_t room = w->block_rows - w->pend.nrows;
		size_t k = n - off < room ? n - off : room;
		pend_copy(w, f, off, k);
		off += k;
		if (w->pend.nrows == w->block_rows) {
			int rc = write_block(w, &w->pend, 0, w->pend.nrows);
			w->pend.nrows = 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

int shd_writer_close(struct shd_writer *w)
{
	if (w->failed)
		return w->failed;
	if (w->pend.nrows) {
		int rc = write_block(w, &w->pend, 0, w->pend.nrows);
		w->pend.nrows = 0;
		if (rc)
			return rc;
	}
	uint8_t end[36];
	/* a magic, not a string */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(end, "SHDE", 4);
	shd_put_le64(end + 4, w->rows);
	shd_put_le64(end + 12, w->blocks);
	shd_put_le64(end + 20, XXH3_64bits_digest(w->chain));
	shd_put_le64(end + 28, XXH3_64bits(end, 28));
	return wput(w, end, sizeof(end));
}

void shd_writer_free(struct shd_writer *w)
{
	if (!w)
		return;
	shd_schema_release(&w->schema);
	shd_frame_release(&w->pend);
	ZSTD_freeCCtx(w->cctx);
	XXH3_freeState(w->chain);
	shd_buf_release(&w->blk);
	shd_buf_release(&w->raw);
	shd_buf_release(&w->zbuf);
	free(w->role);
	free(w->src);
	free(w);
}

const char *shd_writer_errmsg(const struct shd_writer *w)
{
	return w->err[0] ? w->err : "no error";
}

uint64_t shd_writer_rows(const struct shd_writer *w)
{
	return w->rows;
}

uint64_t shd_writer_bytes(const struct shd_writer *w)
{
	return w->bytes;
}

/* ---------------------------------------------------------------- reader */

enum { R_BLOCKS, R_AFTER_END, R_FAILED };

struct shd_reader {
	int fd;
	const uint8_t *mem;	/* in-memory input, or NULL */
	size_t memlen;
	uint8_t *rbuf;		/* read-ahead buffer for fd input */
	size_t rlen, rpos;
	uint64_t off;		/* bytes consumed from the input */
	char *name;
	struct shd_schema schema;
	struct shd_dict *dict;
	size_t nkeys, key_bytes;	/* of dict: counted up to nkeys */
	ZSTD_DCtx *dctx;
	struct shd_buf blk, raw;
	XXH3_state_t *chain;
	uint64_t rows, blocks;		/* in all */
	uint64_t mrows, mblocks;	/* in the current stream */
	unsigned member;		/* 1 for the first stream */
	int state, rc;
	char err[512];
};

#define RBUF (64 * 1024)

static int rfail(struct shd_reader *r, int rc, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, sizeof(r->err), "%s: ", r->name);

	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	r->state = R_FAILED;
	r->rc = rc;
	return rc;
}

/* Reads up to N bytes; fewer only at end of input. -1 on a read error. */
static long rread(struct shd_reader *r, void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t got = 0;

	if (r->mem) {
		size_t left = r->memlen - (size_t)r->off;
		got = n < left ? n : left;
		memcpy(d, r->mem + r->off, got);
		r->off += got;
		return (long)got;
	}
	while (got < n) {
		if (r->rpos == r->rlen) {
			if (n - got >= RBUF) {
				long k = shd_read_full(r->fd, d + got, n - got);
				if (k < 0)
					return -1;
				got += (size_t)k;
				break;
			}
			long k = shd_read_full(r->fd, r->rbuf, RBUF);
			if (k < 0)
				return -1;
			r->rlen = (size_t)k;
			r->rpos = 0;
			if (k == 0)
				break;
		}
		size_t c = r->rlen - r->rpos;
		if (c > n - got)
			c = n - got;
		memcpy(d + got, r->rbuf + r->rpos, c);
		r->rpos += c;
		got += c;
	}
	r->off += got;
	return (long)got;
}

/* Reads exactly N bytes or fails naming WHAT. */
static int rneed(struct shd_reader *r, void *dst, size_t n, const char *what)
{
	long k = rread(r, dst, n);

	if (k < 0)
		return rfail(r, SHD_EIO, "read error: %s", strerror(errno));
	if ((size_t)k < n)
		return rfail(r, SHD_EFORMAT, "truncated %s at byte %llu "
			     "(the stream was cut short)", what,
			     (unsigned long long)r->off);
	return 0;
}

/* The rest of a header after its 8 magic bytes. */
static int read_header(struct shd_reader *r)
{
	uint8_t h[16];
	struct shd_schema s;
	char why[256];
	uint64_t at = r->off - 8;

	memcpy(h, MAGIC, 8);
	if (rneed(r, h + 8, 8, "stream header"))
		return r->rc;
	unsigned major = shd_get_le16(h + 8), minor = shd_get_le16(h + 10);
	uint32_t jlen = shd_get_le32(h + 12);
	if (major != VERSION_MAJOR)
		return rfail(r, SHD_EFORMAT, "stream format version %u.%u is "
			     "not supported (this reader knows version %d)",
			     major, minor, VERSION_MAJOR);
	if (jlen > MAX_HEADER)
		return rfail(r, SHD_EFORMAT, "header of %lu bytes at byte "
			     "%llu is larger than the limit (%u)",
			     (unsigned long)jlen, (unsigned long long)at,
			     MAX_HEADER);
	r->blk.len = 0;
	if (shd_buf_reserve(&r->blk, 16 + jlen + 8) < 0)
		return rfail(r, SHD_ENOMEM, "out of memory");
	memcpy(r->blk.p, h, 16);
	if (rneed(r, r->blk.p + 16, jlen + 8, "stream header"))
		return r->rc;
	if (XXH3_64bits(r->blk.p, 16 + jlen) != shd_get_le64(r->blk.p + 16 + jlen))
		return rfail(r, SHD_EFORMAT, "header checksum mismatch at byte "
			     "%llu (corrupt stream)", (unsigned long long)at);
	int rc = header_parse(&s, (const char *)r->blk.p + 16, jlen, why,
			      sizeof(why));
	if (rc == SHD_ENOMEM)
		return rfail(r, rc, "out of memory");
	if (rc)
		return rfail(r, rc, "%s", why);
	if (r->member == 0) {
		r->schema = s;
	} else {
		int same = shd_schema_same_columns(&r->schema, &s);
		shd_schema_release(&s);
		if (!same)
			return rfail(r, SHD_EFORMAT, "the stream that starts at "
				     "byte %llu has other columns than the "
				     "first (concatenated streams must agree)",
				     (unsigned long long)at);
	}
	r->member++;
	r->mrows = r->mblocks = 0;
	XXH3_64bits_reset(r->chain);
	r->state = R_BLOCKS;
	return 0;
}

static int reader_init(struct shd_reader **rp, const char *name)
{
	struct shd_reader *r = calloc(1, sizeof(*r));

	*rp = r;
	if (!r)
		return SHD_ENOMEM;
	r->fd = -1;
	r->name = strdup(name ? name : "<stream>");
	r->dict = shd_dict_new();
	r->dctx = ZSTD_createDCtx();
	r->chain = XXH3_createState();
	if (!r->name || !r->dict || !r->dctx || !r->chain) {
		shd_reader_free(r);
		*rp = NULL;
		return SHD_ENOMEM;
	}
	return 0;
}

static int reader_start(struct shd_reader *r)
{
	uint8_t m[8];
	long k = rread(r, m, 8);

	if (k < 0)
		return rfail(r, SHD_EIO, "read error: %s", strerror(errno));
	if (k == 0)
		return rfail(r, SHD_EFORMAT, "empty input: no stream header "
			     "(did the program before it in the pipe fail?)");
	if ((size_t)k < 8 && memcmp(m, MAGIC, (size_t)k) == 0)
		return rfail(r, SHD_EFORMAT, "truncated stream header at byte "
			     "%ld (the stream was cut short)", k);
	if ((size_t)k < 8 || memcmp(m, MAGIC, 8) != 0) {
		int text = 1;
		for (long i = 0; i < k; i++)
			text &= m[i] >= 0x09 && m[i] < 0x7f;
		return rfail(r, SHD_EFORMAT, "not an shd stream (bad magic)%s",
			     text ? "\nhint: this looks like text; shd-ingest "
			     "converts CSV and JSON exports to a stream" : "");
	}
	return read_header(r);
}

int shd_reader_open(struct shd_reader **rp, int fd, const char *name)
{
	int rc = reader_init(rp, strcmp(name, "-") ? name : "<stdin>");

	if (rc)
		return rc;
	(*rp)->fd = fd;
	(*rp)->rbuf = malloc(RBUF);
	if (!(*rp)->rbuf)
		return rfail(*rp, SHD_ENOMEM, "out of memory");
	return reader_start(*rp);
}

int shd_reader_open_mem(struct shd_reader **rp, const void *buf, size_t len,
			const char *name)
{
	int rc = reader_init(rp, name);

	if (rc)
		return rc;
	(*rp)->mem = buf;
	(*rp)->memlen = len;
	return reader_start(*rp);
}

const struct shd_schema *shd_reader_schema(const struct shd_reader *r)
{
	return &r->schema;
}

struct shd_dict *shd_reader_dict(struct shd_reader *r)
{
	return r->dict;
}

const char *shd_reader_errmsg(const struct shd_reader *r)
{
	return r->err[0] ? r->err : "no error";
}

uint64_t shd_reader_rows(const struct shd_reader *r)
{
	return r->rows;
}

uint64_t shd_reader_blocks(const struct shd_reader *r)
{
	return r->blocks;
}

void shd_reader_free(struct shd_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->rbuf);
	shd_schema_release(&r->schema);
	shd_dict_free(r->dict);
	ZSTD_freeDCtx(r->dctx);
	XXH3_freeState(r->chain);
	shd_buf_release(&r->blk);
	shd_buf_release(&r->raw);
	free(r);
}

static int read_end(struct shd_reader *r, uint64_t at)
{
	uint8_t e[36];

	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a magic */
	memcpy(e, "SHDE", 4);
	if (rneed(r, e + 4, 32, "end marker"))
		return r->rc;
	if (XXH3_64bits(e, 28) != shd_get_le64(e + 28))
		return rfail(r, SHD_EFORMAT, "end marker checksum mismatch at "
			     "byte %llu (corrupt stream)",
			     (unsigned long long)at);
	if (shd_get_le64(e + 4) != r->mrows || shd_get_le64(e + 12) != r->mblocks)
		return rfail(r, SHD_EFORMAT, "end marker at byte %llu counts "
			     "%llu rows in %llu blocks, but %llu rows in %llu "
			     "blocks were read (blocks lost or repeated)",
			     (unsigned long long)at,
			     (unsigned long long)shd_get_le64(e + 4),
			     (unsigned long long)shd_get_le64(e + 12),
			     (unsigned long long)r->mrows,
			     (unsigned long long)r->mblocks);
	if (shd_get_le64(e + 20) != XXH3_64bits_digest(r->chain))
		return rfail(r, SHD_EFORMAT, "end marker at byte %llu: the "
			     "blocks' checksums do not chain (blocks lost, "
			     "repeated or reordered)", (unsigned long long)at);
	r->state = R_AFTER_END;
	return 0;
}

/*
 * Decodes column J of the block whose payload is P; DESCS are the block's
 * column descriptors. A derived column's sources are decoded already.
 */
static int decode_col(struct shd_reader *r, struct shd_frame *f, size_t j,
		      const uint8_t *descs, const uint8_t *p, size_t n,
		      uint64_t bno)
{
	const uint8_t *desc = descs + COLDESC * j;
	const struct shd_column *c = &r->schema.cols[j];
	int codec = desc[0], z = desc[1];
	size_t rawlen = shd_get_le32(desc + 4), stored = shd_get_le32(desc + 8);
	const uint8_t *raw = p;

	if (z > 1 || desc[2] || desc[3])
		return rfail(r, SHD_EFORMAT, "block %llu, column '%s': unknown "
			     "compression %d", (unsigned long long)bno, c->name, z);
	if (z == 1) {
		r->raw.len = 0;
		if (shd_buf_reserve(&r->raw, rawlen ? rawlen : 1) < 0)
			return rfail(r, SHD_ENOMEM, "out of memory");
		size_t k = ZSTD_decompressDCtx(r->dctx, r->raw.p, rawlen, p, stored);
		if (ZSTD_isError(k) || k != rawlen)
			return rfail(r, SHD_EFORMAT, "block %llu, column '%s': "
				     "bad compressed data (%s)",
				     (unsigned long long)bno, c->name,
				     ZSTD_isError(k) ? ZSTD_getErrorName(k) :
				     "wrong size");
		raw = r->raw.p;
	} else if (rawlen != stored) {
		return rfail(r, SHD_EFORMAT, "block %llu, column '%s': sizes "
			     "disagree", (unsigned long long)bno, c->name);
	}
	int ok = SHD_EFORMAT;
	void *dst = f->col[j];
	switch (codec) {
	case SHD_C_RAW:
		if (c->type != SHD_KEY)
			ok = shd_dec_raw(dst, n, shd_type_size(c->type), raw,
					 rawlen);
		break;
	case SHD_C_DELTA2:
		if (c->type == SHD_TIME || c->type == SHD_I64)
			ok = shd_dec_delta2(dst, n, raw, rawlen);
		break;
	case SHD_C_DICT:
		if (c->type != SHD_KEY)
			break;
		ok = shd_dec_dict(dst, n, raw, rawlen, r->dict);
		/* the dictionary grows by one block's at most (bounded by
		 * the block's size): past the limits, stop there */
		if (!ok && count_keys(r->dict, &r->nkeys, &r->key_bytes))
			return rfail(r, SHD_EFORMAT, "block %llu, column '%s': "
				     "the stream's dictionary reaches %zu "
				     "distinct keys of %zu bytes in all, more "
				     "than a stream may hold (%u keys, %u MiB)",
				     (unsigned long long)bno, c->name,
				     r->nkeys, r->key_bytes, MAX_KEYS,
				     MAX_KEY_BYTES >> 20);
		break;
	case SHD_C_SHUFFLE:
	case SHD_C_XORSHUF:
		if (c->type == SHD_F64 || c->type == SHD_F32 ||
		    c->type == SHD_I64 || c->type == SHD_TIME)
			ok = shd_dec_shuffle(dst, n, shd_type_size(c->type),
					     codec == SHD_C_XORSHUF, raw, rawlen);
		break;
	case SHD_C_SCALED:
		if (c->type == SHD_F64)
			ok = shd_dec_scaled(dst, n, raw, rawlen);
		break;
	case SHD_C_DERIVED: {
		struct shd_derive dv;
		const struct shd_column *cols = r->schema.cols;
		size_t nc = r->schema.ncols;
		if (c->type != SHD_F64 ||
		    shd_dec_derived_head(&dv, raw, rawlen) < 0)
			break;
		if (dv.a >= nc || dv.b >= nc || dv.a == j || dv.b == j ||
		    cols[dv.a].type != SHD_F64 || cols[dv.b].type != SHD_F64 ||
		    descs[COLDESC * dv.a] == SHD_C_DERIVED ||
		    descs[COLDESC * dv.b] == SHD_C_DERIVED)
			return rfail(r, SHD_EFORMAT, "block %llu, column '%s': "
				     "derived from a column that cannot be a "
				     "source", (unsigned long long)bno, c->name);
		ok = shd_dec_derived(dst, n, f->col[dv.a], f->col[dv.b], raw,
				     rawlen);
		break;
	}
	default:
		return rfail(r, SHD_EFORMAT, "block %llu, column '%s': unknown "
			     "codec %d (written by a newer shd?)",
			     (unsigned long long)bno, c->name, codec);
	}
	if (ok == SHD_ENOMEM)
		return rfail(r, ok, "out of memory");
	if (ok)
		return rfail(r, SHD_EFORMAT, "block %llu, column '%s': bad %s "
			     "payload for a %s column", (unsigned long long)bno,
			     c->name, shd_codec_name(codec),
			     shd_type_name(c->type));
	return 0;
}

static int read_block(struct shd_reader *r, struct shd_frame *f, uint64_t at)
{
	size_t ncols = r->schema.ncols, head = 12 + COLDESC * ncols;
	uint64_t bno = r->blocks + 1;

	r->blk.len = 0;
	if (shd_buf_reserve(&r->blk, head) < 0)
		return rfail(r, SHD_ENOMEM, "out of memory");
	memcpy(r->blk.p, "SHDB", 4);
	if (rneed(r, r->blk.p + 4, head - 4, "block header"))
		return r->rc;
	uint32_t nrows = shd_get_le32(r->blk.p + 4);
	uint32_t nc = shd_get_le32(r->blk.p + 8);
	if (nc != ncols)
		return rfail(r, SHD_EFORMAT, "block %llu at byte %llu has %lu "
			     "columns, the header %zu (corrupt stream)",
			     (unsigned long long)bno, (unsigned long long)at,
			     (unsigned long)nc, ncols);
	if (nrows == 0 || nrows > SHD_MAX_BLOCK_ROWS ||
	    (uint64_t)nrows * ncols > MAX_CELLS)
		return rfail(r, SHD_EFORMAT, "block %llu at byte %llu claims "
			     "%lu rows (allowed 1 to %u; corrupt stream)",
			     (unsigned long long)bno, (unsigned long long)at,
			     (unsigned long)nrows, SHD_MAX_BLOCK_ROWS);
	size_t total = 0;
	for (size_t j = 0; j < ncols; j++) {
		const uint8_t *d = r->blk.p + 12 + COLDESC * j;
		size_t rawlen = shd_get_le32(d + 4), stored = shd_get_le32(d + 8);
		if (rawlen > RAW_CAP(nrows) ||
		    stored > ZSTD_compressBound(rawlen) + 64)
			return rfail(r, SHD_EFORMAT, "block %llu at byte %llu, "
				     "column '%s': impossible size (corrupt "
				     "stream)", (unsigned long long)bno,
				     (unsigned long long)at,
				     r->schema.cols[j].name);
		total += stored;
		if (total > MAX_BLOCK_BYTES)
			return rfail(r, SHD_EFORMAT, "block %llu at byte %llu "
				     "claims over %u bytes (corrupt stream)",
				     (unsigned long long)bno,
				     (unsigned long long)at, MAX_BLOCK_BYTES);
	}
	/* the header stays in front: room for all of it (blk.len is 0) */
	if (shd_buf_reserve(&r->blk, head + total + 8) < 0)
		return rfail(r, SHD_ENOMEM, "out of memory");
	if (rneed(r, r->blk.p + head, total + 8, "block"))
		return r->rc;
	uint64_t sum = shd_get_le64(r->blk.p + head + total);
	if (XXH3_64bits(r->blk.p, head + total) != sum)
		return rfail(r, SHD_EFORMAT, "block %llu at byte %llu: checksum "
			     "mismatch (corrupt stream)",
			     (unsigned long long)bno, (unsigned long long)at);
	XXH3_64bits_update(r->chain, r->blk.p + head + total, 8);
	if (shd_frame_reserve(f, nrows) < 0)
		return rfail(r, SHD_ENOMEM, "out of memory");
	f->nrows = 0;
	f->dict = r->dict;
	/* Derived columns last: their sources must be decoded first. */
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *p = r->blk.p + head;
		for (size_t j = 0; j < ncols; j++) {
			const uint8_t *d = r->blk.p + 12 + COLDESC * j;
			size_t stored = shd_get_le32(d + 8);
			if ((d[0] == SHD_C_DERIVED) == pass &&
			    decode_col(r, f, j, r->blk.p + 12, p, nrows, bno))
				return r->rc;
			p += stored;
		}
	}
	f->nrows = nrows;
	r->rows += nrows;
	r->mrows += nrows;
	r->blocks++;
	r->mblocks++;
	return 0;
}

int shd_reader_next(struct shd_reader *r, struct shd_frame *f)
{
	if (f->ncols != r->schema.ncols)
		return SHD_EINVAL;
	for (;;) {
		uint8_t tag[8];
		uint64_t at = r->off;
		long k;

		if (r->state == R_FAILED)
			return r->rc;
		if (r->state == R_AFTER_END) {
			k = rread(r, tag, 8);
			if (k < 0)
				return rfail(r, SHD_EIO, "read error: %s",
					     strerror(errno));
			if (k == 0)
				return SHD_EOF;
			if ((size_t)k < 8 || memcmp(tag, MAGIC, 8) != 0)
				return rfail(r, SHD_EFORMAT, "unexpected bytes "
					     "after the end marker at byte %llu "
					     "(not a stream header)",
					     (unsigned long long)at);
			if (read_header(r))
				return r->rc;
			continue;
		}
		k = rread(r, tag, 4);
		if (k < 0)
			return rfail(r, SHD_EIO, "read error: %s", strerror(errno));
		if (k < 4)
			return rfail(r, SHD_EFORMAT, "the stream stops at byte "
				     "%llu after block %llu without its end "
				     "marker (truncated: did its producer fail?)",
				     (unsigned long long)r->off,
				     (unsigned long long)r->blocks);
		if (memcmp(tag, "SHDB", 4) == 0)
			return read_block(r, f, at);
		if (memcmp(tag, "SHDE", 4) == 0) {
			if (read_end(r, at))
				return r->rc;
			continue;
		}
		return rfail(r, SHD_EFORMAT, "no block or end marker at byte "
			     "%llu, after block %llu (corrupt stream)",
			     (unsigned long long)at,
			     (unsigned long long)r->blocks);
	}
}
