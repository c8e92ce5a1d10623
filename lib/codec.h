/*
 * codec.h - column codecs of the stream format (private to libshd).
 *
 * Each encoder appends the raw (pre-zstd) payload of one column of one block
 * to a growable buffer; each decoder checks every length and index against
 * the buffer it was given and returns SHD_EFORMAT when they disagree.
 * The byte layouts are specified in man/shd-format.5.
 */
#ifndef SHD_CODEC_H
#define SHD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "shd.h"

/* On-disk codec numbers. */
enum shd_codec {
	SHD_C_RAW = 0,		/* little-endian values */
	SHD_C_DELTA2 = 1,	/* zigzag varints: first, delta, delta-of-deltas */
	SHD_C_DICT = 2,		/* block dictionary, then runs of indexes */
	SHD_C_SHUFFLE = 3,	/* byte planes */
	SHD_C_XORSHUF = 4,	/* XOR with the previous value, then planes */
	SHD_C_SCALED = 5,	/* n / D (D = 10^s: decimal) as varint deltas */
	SHD_C_DERIVED = 6,	/* a function of one or two other columns */
};
#define SHD_C_MAX SHD_C_DERIVED

const char *shd_codec_name(int codec);

struct shd_buf {
	uint8_t *p;
	size_t len, cap;
};

void shd_buf_release(struct shd_buf *b);
int shd_buf_reserve(struct shd_buf *b, size_t extra);
int shd_buf_put(struct shd_buf *b, const void *p, size_t n);

/* Little-endian helpers (no alignment assumed). */
void shd_put_le16(uint8_t *p, uint16_t v);
void shd_put_le32(uint8_t *p, uint32_t v);
void shd_put_le64(uint8_t *p, uint64_t v);
uint16_t shd_get_le16(const uint8_t *p);
uint32_t shd_get_le32(const uint8_t *p);
uint64_t shd_get_le64(const uint8_t *p);

/* Column codecs. N values; V points at the first. */
int shd_enc_raw(struct shd_buf *out, const void *v, size_t n, size_t width);
int shd_dec_raw(void *v, size_t n, size_t width, const uint8_t *p,
		size_t len);

int shd_enc_delta2(struct shd_buf *out, const int64_t *v, size_t n);
int shd_dec_delta2(int64_t *v, size_t n, const uint8_t *p, size_t len);

/* Key ids of DICT become block indexes; the decoder interns into OUT. */
int shd_enc_dict(struct shd_buf *out, const uint32_t *ids, size_t n,
		 const struct shd_dict *dict);
int shd_dec_dict(uint32_t *ids, size_t n, const uint8_t *p, size_t len,
		 struct shd_dict *out);

int shd_enc_shuffle(struct shd_buf *out, const void *v, size_t n,
		    size_t width, int xor_prev);
int shd_dec_shuffle(void *v, size_t n, size_t width, int xor_prev,
		    const uint8_t *p, size_t len);

/*
 * Scaled integers (decimal scaling and its generalization to any integer
 * divisor, with exceptions stored raw): returns 1 (and appends nothing) when
 * too few values of V are n / D for one D; else 0 with the payload appended.
 */
int shd_enc_scaled(struct shd_buf *out, const double *v, size_t n);
int shd_dec_scaled(double *v, size_t n, const uint8_t *p, size_t len);

/*
 * Derived columns: each value is OP of the same row's values in columns A
 * and B (other f64 columns of the block, not derived themselves) and a
 * constant C, in IEEE double arithmetic; a NaN result means the quiet NaN.
 * Rows where that is not the value bit for bit are exceptions, kept raw.
 */
enum shd_derive_op {
	SHD_D_MUL = 1,		/* a * b */
	SHD_D_DIV = 2,		/* a / b */
	SHD_D_ADD = 3,		/* a + b */
	SHD_D_SUB = 4,		/* a - b */
	SHD_D_MULDIV = 5,	/* a * b / c */
	SHD_D_DIVMUL = 6,	/* a / b * c */
	SHD_D_MULC = 7,		/* a * c (B is A) */
	SHD_D_DIVC = 8,		/* a / c (B is A) */
};
#define SHD_D_MAX SHD_D_DIVC
#define SHD_DERIVED_HEAD 14	/* op, flags, a, b, c */

struct shd_derive {
	int op;
	uint16_t a, b;
	double c;
};

/*
 * Looks for a derivation of V (N values, column SELF) from the columns
 * COLS[k] (NULL for a column that may not be a source): tries every op on a
 * sample of rows, and on success (0) fills *DV and sets *NEXC to the rows
 * it misses. Returns 1 when none explains nearly all the sample.
 */
int shd_find_derived(const double *v, size_t n, const double *const *cols,
		     size_t ncols, size_t self, struct shd_derive *dv,
		     size_t *nexc);
int shd_enc_derived(struct shd_buf *out, const double *v, size_t n,
		    const struct shd_derive *dv, const double *a,
		    const double *b);
/* Reads and checks the head of a derived payload (op, flags, a, b, c). */
int shd_dec_derived_head(struct shd_derive *dv, const uint8_t *p,
			 size_t len);
int shd_dec_derived(double *v, size_t n, const double *a, const double *b,
		    const uint8_t *p, size_t len);

#endif
