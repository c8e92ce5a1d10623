/*
 * util.c - whole reads and writes that survive short counts and EINTR, and
 * atomic files (write to a temporary name, fsync, rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shd.h"

int shd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SHD_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long shd_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

int shd_atomic_open(const char *path, char *tmp, size_t n)
{
	struct stat st;

	/*
	 * A device, FIFO or socket (/dev/null, /dev/stdout, a named pipe) is
	 * written in place: renaming a temporary file over it would replace
	 * the device with a regular file. TMP is then "" (nothing to rename).
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (n)
			tmp[0] = '\0';
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return SHD_EIO;
		}
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		return fd < 0 ? SHD_EIO : fd;
	}
	/* PATH.tmp. and the six template characters mkostemp replaces */
	int len = snprintf(tmp, n, "%s.tmp.", path);

	if (len < 0 || (size_t)len + 6 >= n) {
		errno = ENAMETOOLONG;
		return SHD_EIO;
	}
	memset(tmp + len, 'X', 6);
	tmp[len + 6] = '\0';
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return SHD_EIO;
	/* mkostemp makes 0600; give the file the usual mode for new files. */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) < 0) {
		int e = errno;
		shd_atomic_abort(fd, tmp);
		errno = e;
		return SHD_EIO;
	}
	return fd;
}

int shd_atomic_commit(int fd, const char *tmp, const char *path)
{
	if (!tmp[0]) {
		/* written in place (not a regular file): nothing to rename */
		return close(fd) < 0 ? SHD_EIO : 0;
	}
	if (fsync(fd) < 0) {
		int e = errno;
		shd_atomic_abort(fd, tmp);
		errno = e;
		return SHD_EIO;
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return SHD_EIO;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return SHD_EIO;
	}
	return 0;
}

int shd_atomic_write(const char *path, const void *buf, size_t len)
{
	char tmp[4096];
	int fd = shd_atomic_open(path, tmp, sizeof(tmp));

	if (fd < 0)
		return SHD_EIO;
	if (shd_write_all(fd, buf, len) < 0) {
		shd_atomic_abort(fd, tmp);	/* keeps errno */
		return SHD_EIO;
	}
	return shd_atomic_commit(fd, tmp, path);
}

void shd_atomic_abort(int fd, const char *tmp)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	errno = e;
}

int shd_tmp_template(char *buf, size_t n, const char *dir,
		     const char *prefix)
{
	int k;

	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	k = snprintf(buf, n, "%s/%s", dir, prefix);
	if (k < 0 || (size_t)k + 7 > n)
		return SHD_EINVAL;
	memset(buf + k, 'X', 6);	/* what mkstemp replaces */
	buf[k + 6] = '\0';
	return 0;
}
