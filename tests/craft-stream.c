/*
 * craft-stream.c - hostile streams for the fault tests (t1000-faults.sh):
 * reads a good stream on stdin, changes one count and writes it to stdout
 * with the checksums made right again, so that a reader has to refuse the
 * count itself, not a checksum.
 *
 *   craft-stream rows N <good.shd     the first block claims N rows (the
 *                                     field is 32 bits: N is clamped)
 *   craft-stream endrows N <good.shd  the end marker claims N rows (64 bits)
 *   craft-stream keys N [LEN]         a stream of its own (no input): N rows
 *                                     of N distinct keys (resource), each
 *                                     LEN bytes (default 8), in blocks of
 *                                     65536 rows, all checksums right
 *
 * The layout is that of lib/stream.c and man/shd-format.5:
 *   header = magic(8) major(2) minor(2) len(4) json(len) xxh3(8)
 *   block  = "SHDB" nrows(4) ncols(4) coldesc(12 * ncols) payload* xxh3(8)
 *   end    = "SHDE" rows(8) blocks(8) chain(8) xxh3(8)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void die(const char *msg)
{
	fprintf(stderr, "craft-stream: %s\n", msg);
	exit(2);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned char *varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static void out(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n)
		die("write error");
}

/*
 * keys N LEN: time (raw int64, codec 0) and resource (codec 2: the block's
 * dictionary, then one run per row), uncompressed. Key i is "k" and i in
 * decimal, zero-padded to LEN bytes.
 */
static int keys(unsigned long long n, size_t len)
{
	static const unsigned char magic[8] = { 0x89, 'S', 'H', 'D', '\r',
						'\n', 0x1a, '\n' };
	static const char json[] = "{\"columns\":[{\"name\":\"time\","
		"\"type\":\"time\",\"unit\":\"ms\",\"role\":\"time\"},"
		"{\"name\":\"resource\",\"type\":\"key\",\"unit\":\"\","
		"\"role\":\"key\"}],\"meta\":{}}";
	const size_t per = 65536, jl = sizeof(json) - 1;
	unsigned char h[16 + sizeof(json) + 8], sum[8];
	unsigned long long done = 0, blocks = 0;
	XXH3_state_t *chain = XXH3_createState();
	size_t cap = 36 + per * 8 + per * (len + 30);
	unsigned char *b = malloc(cap);
	char *key = malloc(len + 32);

	if (!chain || !b || !key || len < 8 || len > 4096)
		die("keys: out of memory, or LEN not 8 to 4096");
	memcpy(h, magic, 8);
	h[8] = 1, h[9] = 0, h[10] = 0, h[11] = 0;
	put32(h + 12, (uint32_t)jl);
	memcpy(h + 16, json, jl);
	put64(h + 16 + jl, XXH3_64bits(h, 16 + jl));
	out(h, 16 + jl + 8);
	XXH3_64bits_reset(chain);
	while (done < n) {
		size_t k = n - done < per ? (size_t)(n - done) : per;
		unsigned char *p = b + 36, *d;
		/* time: raw int64 little-endian, 2024-01-01 */
		for (size_t i = 0; i < k; i++, p += 8)
			put64(p, 1704067200000ull);
		d = p;
		p = varint(p, k);
		for (size_t i = 0; i < k; i++) {
			snprintf(key, len + 32, "k%0*llu", (int)len - 1,
				 done + i);
			p = varint(p, len);
			memcpy(p, key, len);
			p += len;
		}
		p = varint(p, k);
		for (size_t i = 0; i < k; i++) {
			p = varint(p, i);
			p = varint(p, 1);
		}
		memcpy(b, "SHDB", 4);
		put32(b + 4, (uint32_t)k);
		put32(b + 8, 2);
		memset(b + 12, 0, 24);
		put32(b + 12 + 4, (uint32_t)(k * 8));
		put32(b + 12 + 8, (uint32_t)(k * 8));
		b[24] = 2;
		put32(b + 24 + 4, (uint32_t)(p - d));
		put32(b + 24 + 8, (uint32_t)(p - d));
		put64(sum, XXH3_64bits(b, (size_t)(p - b)));
		out(b, (size_t)(p - b));
		out(sum, 8);
		XXH3_64bits_update(chain, sum, 8);
		done += k;
		blocks++;
	}
	memcpy(b, "SHDE", 4);
	put64(b + 4, n);
	put64(b + 12, blocks);
	put64(b + 20, XXH3_64bits_digest(chain));
	put64(b + 28, XXH3_64bits(b, 28));
	out(b, 36);
	if (fflush(stdout))
		die("write error");
	XXH3_freeState(chain);
	free(b);
	free(key);
	return 0;
}

int main(int argc, char **argv)
{
	size_t cap = 1 << 20, len = 0, k, off;
	unsigned char *b;
	unsigned long long n;

	if (argc >= 3 && strcmp(argv[1], "keys") == 0)
		return keys(strtoull(argv[2], NULL, 0),
			    argc > 3 ? strtoul(argv[3], NULL, 0) : 8);
	if (argc != 3 || (strcmp(argv[1], "rows") && strcmp(argv[1], "endrows")))
		die("usage: craft-stream rows|endrows N <good.shd >bad.shd\n"
		    "       craft-stream keys N [LEN] >keys.shd");
	n = strtoull(argv[2], NULL, 0);
	b = malloc(cap);
	while (b && (k = fread(b + len, 1, cap - len, stdin)) > 0) {
		len += k;
		if (len == cap && !(b = realloc(b, cap *= 2)))
			die("out of memory");
	}
	if (!b)
		die("out of memory");
	if (len < 16 || memcmp(b + 1, "SHD", 3))
		die("not a stream on standard input");
	off = 16 + get32(b + 12) + 8;		/* the first block */
	if (off + 12 > len || memcmp(b + off, "SHDB", 4))
		die("no block after the header");
	if (strcmp(argv[1], "rows") == 0) {
		size_t ncols = get32(b + off + 8), head = 12 + 12 * ncols, sum = 0;

		for (size_t j = 0; j < ncols; j++)
			sum += get32(b + off + 12 + 12 * j + 8);
		if (off + head + sum + 8 > len)
			die("short block");
		n = n > UINT32_MAX ? UINT32_MAX : n;
		for (int i = 0; i < 4; i++)
			b[off + 4 + i] = (unsigned char)(n >> (8 * i));
		put64(b + off + head + sum, XXH3_64bits(b + off, head + sum));
	} else {
		/* the one end marker of a one-stream input: its last 36 bytes */
		unsigned char *e = b + len - 36;

		if (len < 36 + off || memcmp(e, "SHDE", 4))
			die("no end marker at the end");
		put64(e + 4, n);
		put64(e + 28, XXH3_64bits(e, 28));
	}
	if (fwrite(b, 1, len, stdout) != len || fflush(stdout))
		die("write error");
	free(b);
	return 0;
}
