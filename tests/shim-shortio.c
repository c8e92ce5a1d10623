/*
 * shim-shortio.c - an LD_PRELOAD shim for the fault tests (t1000-faults.sh):
 * read(2) and write(2) that move fewer bytes than asked and now and then
 * fail with EINTR without moving any, as a pipe, a socket or a signal may
 * make them do. A program that loops correctly (shd_read_full,
 * shd_write_all) gives the same output with it as without it.
 *
 *   LD_PRELOAD=build/tests/shim-shortio.so shd-cat x.shd
 *
 * SHD_SHIM_SEED (a number) picks another pseudo-random sequence. Only calls
 * through the dynamic symbols are affected: glibc's stdio reaches the
 * kernel without them, so fwrite and printf are not. (The idea is jq's
 * src/inject_errors.c.)
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);

static read_fn real_read;
static write_fn real_write;
static uint64_t state;

/* xorshift64*: the shim's own, so as not to disturb the program's rand(). */
static uint64_t next(void)
{
	if (!state) {
		const char *s = getenv("SHD_SHIM_SEED");
		state = (s && *s ? strtoull(s, NULL, 10) : 0) * 2654435761u +
			0x9e3779b97f4a7c15u;
		if (!state)
			state = 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1du;
}

/*
 * How many of N bytes this call moves: all of them a quarter of the time,
 * else 1 .. N-1 (mostly small); 0 means "fail with EINTR" (one call in 8).
 */
static size_t shorten(size_t n)
{
	uint64_t r = next();

	if (n == 0)
		return 0;
	if ((r & 7) == 0)
		return 0;
	if ((r & 3) == 1 || n == 1)
		return n;
	r >>= 8;
	size_t m = n - 1;	/* 1 .. N-1 bytes, often fewer than 64 */
	if ((r & 1) && m > 63)
		m = 63;
	return 1 + (size_t)((r >> 1) % m);
}

ssize_t read(int fd, void *buf, size_t n)
{
	size_t k;

	if (!real_read)
		real_read = (read_fn)dlsym(RTLD_NEXT, "read");
	if (n == 0)
		return real_read(fd, buf, n);
	k = shorten(n);
	if (k == 0) {
		errno = EINTR;
		return -1;
	}
	return real_read(fd, buf, k);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	size_t k;

	if (!real_write)
		real_write = (write_fn)dlsym(RTLD_NEXT, "write");
	/* stderr whole: messages are compared, not their syscalls */
	if (n == 0 || fd == STDERR_FILENO)
		return real_write(fd, buf, n);
	k = shorten(n);
	if (k == 0) {
		errno = EINTR;
		return -1;
	}
	return real_write(fd, buf, k);
}
