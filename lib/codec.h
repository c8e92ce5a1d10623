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
};
#define SHD_C_MAX SHD_C_SCALED

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

#endif
