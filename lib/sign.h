/*
 * sign.h - digests and signatures (OpenSSL's libcrypto): plan ids,
 * configuration fingerprints and HMAC-SHA256 plan signatures.
 */
#ifndef SHD_SIGN_H
#define SHD_SIGN_H

#include <stddef.h>

/* SHA-256 of BUF in lowercase hex (65 bytes with the NUL). */
void shd_sha256_hex(const void *buf, size_t len, char hex[65]);

/* HMAC-SHA256 of BUF under KEY, in lowercase hex. 0 or SHD_EIO. */
int shd_hmac_hex(const void *key, size_t klen, const void *buf, size_t len,
		 char hex[65]);

/* Compares two hex digests in constant time: 1 when equal. */
int shd_digest_equal(const char *a, const char *b);

/*
 * Reads a key file: refused (SHD_EINVAL) when it is readable or writable
 * by group or others, empty, or over 4096 bytes; a trailing newline is
 * not part of the key. 0 with the key in KEY (*KLEN bytes, of at most
 * 4096); SHD_EIO when it cannot be read. ERR says which.
 */
int shd_key_load(const char *path, unsigned char *key, size_t *klen,
		 char *err, size_t n);

#endif
