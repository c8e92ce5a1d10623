/*
 * unit-sign.c - digests and keys (lib/sign.c): SHA-256 against the FIPS
 * 180-2 vectors, HMAC-SHA256 against RFC 4231, the constant-time compare,
 * and key files (permissions, trailing newline, size limits).
 */
#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shd.h"
#include "sign.h"

static char tmpdir[] = "/tmp/shd-unit-sign-XXXXXX";

/* Writes LEN bytes of S to tmpdir/NAME with MODE; its path in PATH. */
static void put_file(char *path, size_t n, const char *name, const void *s,
		     size_t len, mode_t mode)
{
	int fd;

	snprintf(path, n, "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || shd_write_all(fd, s, len) != 0)
		FAIL_AT("cannot write %s", path);
	if (fd >= 0)
		close(fd);
	if (chmod(path, mode) != 0)
		FAIL_AT("cannot chmod %s", path);
}

static void test_sha256_fips(void)
{
	char hex[65];

	shd_sha256_hex("abc", 3, hex);
	EXPECT_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
			   "b00361a396177a9cb410ff61f20015ad");
	shd_sha256_hex("", 0, hex);
	EXPECT_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb924"
			   "27ae41e4649b934ca495991b7852b855");
	shd_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnop"
		       "nopq", 56, hex);
	EXPECT_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039"
			   "a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hmac_rfc4231(void)
{
	unsigned char key1[20];
	char hex[65];

	/* Test case 1: a 20-byte key of 0x0b. */
	memset(key1, 0x0b, sizeof(key1));
	EXPECT_EQ_INT(shd_hmac_hex(key1, sizeof(key1), "Hi There", 8, hex), 0);
	EXPECT_EQ_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b"
			   "881dc200c9833da726e9376c2e32cff7");
	/* Test case 2: a key shorter than the output. */
	EXPECT_EQ_INT(shd_hmac_hex("Jefe", 4, "what do ya want for nothing?",
				   28, hex), 0);
	EXPECT_EQ_STR(hex, "5bdcc146bf60754e6a042426089575c7"
			   "5a003f089d2739839dec58b964ec3843");
	/* An empty key is still a key (the zero-padded block). */
	EXPECT_EQ_INT(shd_hmac_hex("", 0, "", 0, hex), 0);
	EXPECT_EQ_STR(hex, "b613679a0814d9ec772f95d778c35fc5"
			   "ff1697c493715653c6c712144292c5ad");
}

static void test_digest_equal(void)
{
	char a[65], b[65];

	shd_sha256_hex("abc", 3, a);
	shd_sha256_hex("abc", 3, b);
	EXPECT_EQ_INT(shd_digest_equal(a, b), 1);
	b[63] = b[63] == '0' ? '1' : '0';
	EXPECT_EQ_INT(shd_digest_equal(a, b), 0);
	EXPECT_EQ_INT(shd_digest_equal(a, "ba7816bf"), 0);
	/* A digest that failed to be made matches nothing, not even itself. */
	EXPECT_EQ_INT(shd_digest_equal("", ""), 0);
}

static void test_key_mode(void)
{
	unsigned char key[4096];
	char path[256], err[600] = "", want[600];
	size_t klen = 99;

	put_file(path, sizeof(path), "k644", "secret\n", 7, 0644);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)),
		      SHD_EINVAL);
	snprintf(want, sizeof(want), "%s: readable by group or others "
		 "(mode 0644); chmod 600 %s", path, path);
	EXPECT_EQ_STR(err, want);
	EXPECT_EQ_INT(klen, 0);

	put_file(path, sizeof(path), "k620", "secret\n", 7, 0620);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT(strstr(err, "writable by group or others (mode 0620)"));

	put_file(path, sizeof(path), "k600", "secret\n", 7, 0600);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)), 0);
	EXPECT_EQ_INT(klen, 6);
	EXPECT(memcmp(key, "secret", 6) == 0);

	put_file(path, sizeof(path), "k400", "secret", 6, 0400);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)), 0);
	EXPECT_EQ_INT(klen, 6);
}

static void test_key_content(void)
{
	static unsigned char big[4098];
	unsigned char key[4096];
	char path[256], err[600] = "", h1[65], h2[65];
	size_t klen;

	/* Only one newline is stripped; the rest is the key's. */
	put_file(path, sizeof(path), "k2nl", "ab\n\n", 4, 0600);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)), 0);
	EXPECT_EQ_INT(klen, 3);
	EXPECT(memcmp(key, "ab\n", 3) == 0);

	/* The key signs as the bytes without the newline. */
	put_file(path, sizeof(path), "kjefe", "Jefe\n", 5, 0600);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)), 0);
	shd_hmac_hex(key, klen, "x", 1, h1);
	shd_hmac_hex("Jefe", 4, "x", 1, h2);
	EXPECT_EQ_STR(h1, h2);

	put_file(path, sizeof(path), "kempty", "\n", 1, 0600);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT(strstr(err, "empty"));

	/* 4096 bytes and a newline: the largest key. */
	memset(big, 'k', sizeof(big));
	big[4096] = '\n';
	put_file(path, sizeof(path), "k4096", big, 4097, 0600);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)), 0);
	EXPECT_EQ_INT(klen, 4096);
	big[4096] = 'k';
	put_file(path, sizeof(path), "k4097", big, 4097, 0600);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT(strstr(err, "at most 4096 bytes"));

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	EXPECT_EQ_INT(shd_key_load(path, key, &klen, err, sizeof(err)),
		      SHD_EIO);
	EXPECT(strstr(err, "No such file"));
}

static const struct harness_case cases[] = {
	TEST(test_sha256_fips),
	TEST(test_hmac_rfc4231),
	TEST(test_digest_equal),
	TEST(test_key_mode),
	TEST(test_key_content),
};

int main(void)
{
	char cmd[128];
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = RUN_TESTS(cases);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", tmpdir);
	return rc;
}
