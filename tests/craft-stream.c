/*
 * craft-stream.c - hostile streams for the fault tests (t1000-faults.sh):
 * reads a good stream on stdin, changes one count and writes it to stdout
 * with the checksums made right again, so that a reader has to refuse the
 * count itself, not a checksum.
 *
 *   craft-stream rows N <good.shd     the first block claims N rows (the
 *                                     field is 32 bits: N is clamped)
 *   craft-stream endrows N <good.shd  the end marker claims N rows (64 bits)
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

int main(int argc, char **argv)
{
	size_t cap = 1 << 20, len = 0, k, off;
	unsigned char *b = malloc(cap);
	unsigned long long n;

	if (argc != 3 || (strcmp(argv[1], "rows") && strcmp(argv[1], "endrows")))
		die("usage: craft-stream rows|endrows N <good.shd >bad.shd");
	n = strtoull(argv[2], NULL, 0);
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
