/*
 * sign.c - SHA-256, HMAC-SHA256 and key files (see sign.h), on OpenSSL's
 * libcrypto: EVP_Digest for digests and the EVP_MAC interface (through
 * EVP_Q_mac) for HMAC, as HMAC() is deprecated in OpenSSL 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "shd.h"
#include "sign.h"

#define KEY_MAX 4096

/* Writes the N bytes of MD as lowercase hex into HEX (2N + 1 bytes). */
static void to_hex(const unsigned char *md, size_t n, char *hex)
{
	static const char digit[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digit[md[i] >> 4];
		hex[2 * i + 1] = digit[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void shd_sha256_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/*
	 * EVP_Digest fails only when libcrypto cannot allocate; the empty
	 * string then matches no digest (shd_digest_equal refuses it).
	 */
	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32) {
		hex[0] = '\0';
		return;
	}
	to_hex(md, 32, hex);
}

int shd_hmac_hex(const void *key, size_t klen, const void *buf, size_t len,
		 char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	/* A zero-length key still needs a pointer, or no key is set. */
	static const unsigned char nokey[1];

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
		       klen ? key : nokey, klen, buf, len, md, sizeof(md),
		       &mdlen) || mdlen != 32) {
		hex[0] = '\0';
		return SHD_EIO;
	}
	to_hex(md, 32, hex);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int shd_digest_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	/* Lengths are public (64 for SHA-256); only the bytes are secret. */
	if (la != lb || la == 0)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

/* Why a key file with mode MODE is refused, or NULL when it is not. */
static const char *mode_problem(mode_t mode)
{
	if (mode & 044)
		return "readable";
	if (mode & 022)
		return "writable";
	if (mode & 011)
		return "executable";
	return NULL;
}

int shd_key_load(const char *path, unsigned char *key, size_t *klen,
		 char *err, size_t n)
{
	unsigned char buf[KEY_MAX + 2];	/* room to see a key too long */
	const char *why;
	struct stat sb;
	long got;
	int fd, rc = SHD_EINVAL;

	*klen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, n, "cannot open key '%s': %s", path,
			 strerror(errno));
		return SHD_EIO;
	}
	/* fstat, not stat: the file checked is the file read. */
	if (fstat(fd, &sb) != 0) {
		snprintf(err, n, "cannot stat key '%s': %s", path,
			 strerror(errno));
		close(fd);
		return SHD_EIO;
	}
	why = mode_problem(sb.st_mode);
	if (why) {
		snprintf(err, n, "%s: %s by group or others (mode %04o); "
			 "chmod 600 %s", path, why,
			 (unsigned)(sb.st_mode & 07777), path);
		close(fd);
		return SHD_EINVAL;
	}
	got = shd_read_full(fd, buf, sizeof(buf));
	if (got < 0) {
		snprintf(err, n, "cannot read key '%s': %s", path,
			 strerror(errno));
		rc = SHD_EIO;
		goto out;
	}
	/* One trailing newline is the editor's or echo's, not the key's. */
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got == 0) {
		snprintf(err, n, "%s: the key file is empty", path);
		goto out;
	}
	if (got > KEY_MAX) {
		snprintf(err, n, "%s: a key is at most %d bytes", path,
			 KEY_MAX);
		goto out;
	}
	memcpy(key, buf, (size_t)got);
	*klen = (size_t)got;
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}
