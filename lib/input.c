/*
 * input.c - the data members of one input.
 *
 * A plain file is one member (mapped read-only, or read into memory when it
 * cannot be mapped). A compressed file or an archive is recognised by its
 * first bytes and read with libarchive: each regular file it holds is
 * decompressed into memory and handed over as a member. A lone compressed
 * file ("x.csv.gz") is libarchive's "raw" format, one member named after
 * the outer file.
 *
 * Security: member paths come from the archive and are untrusted. They are
 * only ever used as text (in messages, and to derive a key); nothing here
 * opens, creates or follows them, so "../../etc/passwd" or "/dev/sda" in an
 * archive are harmless names.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shd.h"

/* The largest member held in memory (read from a pipe or decompressed):
 * 4 GiB. A plain file is mapped, whatever its size. */
#define MEMBER_MAX ((uint64_t)4 << 30)
/* First allocation for a member of unknown size, and the most a member's
 * size field alone may make us allocate before data arrives. */
#define CHUNK_MIN ((size_t)64 << 10)
#define TRUST_SIZE_MAX ((size_t)64 << 20)

struct input {
	const char *shown;	/* the input as messages call it */
	const char *keybase;	/* what its key is made from */
	shd_member_fn fn;
	shd_pieces_fn pfn;	/* NULL: every member whole */
	void *ctx;
	char *errbuf;
	size_t n;
};

static int fail(const struct input *in, int code, const char *fmt, ...)
{
	va_list ap;

	if (in->n == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(in->errbuf, in->n, fmt, ap);
	va_end(ap);
	return code;
}

/* --------------------------------------------------------------- names */

/* Extensions dropped from the end of a key, repeatedly ("x.csv.gz" -> "x"). */
static const char *const key_ext[] = {
	".gz", ".xz", ".zst", ".zstd", ".bz2", ".lz4", ".csv", ".tsv", ".txt",
	".json",
};

/* Control bytes in archive names would reach terminals: show them as '?'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/*
 * The key of NAME: its last path component without the extensions above.
 * An extension is dropped only when something is left before it. Returns a
 * malloc'd string, or NULL when out of memory.
 */
static char *make_key(const char *name)
{
	const char *base = strrchr(name, '/');
	size_t len;
	char *key;
	int again = 1;

	base = base ? base + 1 : name;
	len = strlen(base);
	while (again) {
		again = 0;
		for (size_t i = 0; i < sizeof(key_ext) / sizeof(key_ext[0]); i++) {
			size_t el = strlen(key_ext[i]);

			if (len > el &&
			    strncasecmp(base + len - el, key_ext[i], el) == 0) {
				len -= el;
				again = 1;
				break;
			}
		}
	}
	if (len == 0) {
		base = "default";
		len = strlen(base);
	}
	key = malloc(len + 1);
	if (!key)
		return NULL;
	memcpy(key, base, len);
	key[len] = '\0';
	sanitize(key);
	return key;
}

/*
 * 1 for members nobody wants as data: any path component starting with "."
 * (".DS_Store", "._x.csv" resource forks, ".git/...") other than a leading
 * "./", and anything under "__MACOSX/".
 */
static int hidden_member(const char *name)
{
	const char *p = name;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 0 && p[0] == '.')
			return 1;
		if (len == 8 && memcmp(p, "__MACOSX", 8) == 0)
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* ------------------------------------------------------------- sniffing */

static int has_magic(const unsigned char *p, size_t len, size_t off,
		     const char *magic, size_t mlen)
{
	return len >= off + mlen && memcmp(p + off, magic, mlen) == 0;
}

/* 1 when BUF starts like something libarchive should unpack. */
static int is_packed(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (has_magic(p, len, 0, "\x1f\x8b", 2) ||		/* gzip */
	    has_magic(p, len, 0, "\x1f\x9d", 2) ||		/* compress */
	    has_magic(p, len, 0, "\xfd" "7zXZ\0", 6) ||		/* xz */
	    has_magic(p, len, 0, "\x28\xb5\x2f\xfd", 4) ||	/* zstd */
	    has_magic(p, len, 0, "\x04\x22\x4d\x18", 4) ||	/* lz4 */
	    has_magic(p, len, 0, "\x02\x21\x4c\x18", 4) ||	/* lz4 legacy */
	    has_magic(p, len, 0, "LZIP", 4) ||			/* lzip */
	    has_magic(p, len, 0, "PK\3\4", 4) ||		/* zip */
	    has_magic(p, len, 0, "PK\5\6", 4) ||		/* empty zip */
	    has_magic(p, len, 0, "7z\xbc\xaf\x27\x1c", 6) ||	/* 7-Zip */
	    has_magic(p, len, 0, "Rar!\x1a\x07", 6) ||		/* rar */
	    has_magic(p, len, 257, "ustar", 5))			/* tar */
		return 1;
	/* bzip2: "BZh", a block size digit, then a block or end-of-stream
	 * magic, so that a text file starting "BZh" is not taken for one. */
	if (len >= 10 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' &&
	    p[3] <= '9' &&
	    (memcmp(p + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
	     memcmp(p + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0))
		return 1;
	return 0;
}

/* -------------------------------------------------------------- reading */

/*
 * Watches the lines of a member as it is read into memory, so that a
 * hostile line (a gigabyte without a newline) is refused after
 * SHD_LINE_MAX bytes rather than read whole: the delimited parser would
 * refuse it anyway. JSON (first byte '{' or '[') and compressed data are
 * not line-based and are not watched.
 */
struct lines {
	int mode;		/* LINES_* */
	size_t seen;		/* bytes looked at */
	size_t start;		/* where the current line starts */
	uint64_t lineno;	/* of the current line, from 1 */
};
enum { LINES_UNKNOWN, LINES_TEXT, LINES_OFF };
#define LINES_SNIFF 512		/* bytes needed to tell (tar magic at 257) */

/* Looks at BUF up to LEN (FINAL: that is all); -1 when a line is too long. */
static int lines_check(struct lines *lc, const char *buf, size_t len,
		       int final)
{
	if (lc->mode == LINES_UNKNOWN) {
		size_t off = 0;

		if (len < LINES_SNIFF && !final)
			return 0;
		if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
			off = 3;
		while (off < len && (buf[off] == ' ' || buf[off] == '\t' ||
				     buf[off] == '\r' || buf[off] == '\n'))
			off++;
		lc->mode = is_packed(buf, len) ||
			   (off < len && (buf[off] == '{' || buf[off] == '[')) ?
			   LINES_OFF : LINES_TEXT;
		lc->lineno = 1;
	}
	if (lc->mode != LINES_TEXT)
		return 0;
	while (lc->seen < len) {
		const char *nl = memchr(buf + lc->seen, '\n', len - lc->seen);

		if (!nl) {
			lc->seen = len;
			break;
		}
		lc->seen = (size_t)(nl - buf) + 1;
		lc->start = lc->seen;
		lc->lineno++;
	}
	/* the line, a CR and (not yet seen) its LF, as delimited.c allows */
	return len - lc->start > SHD_LINE_MAX + 1 ? -1 : 0;
}

static int lines_fail(const struct input *in, const char *shown,
		      const struct lines *lc)
{
	return fail(in, SHD_EFORMAT, "%s:%llu: line longer than 1 MiB (not "
		    "delimited text?)", shown, (unsigned long long)lc->lineno);
}

/*
 * Reads FD into the malloc'd buffer *BUFP (*LENP bytes so far, capacity
 * *CAPP; one spare byte holds a NUL) to its end, or until it holds STOP
 * bytes. Returns 1 at the end, 0 when STOP came first, -1 with errno set,
 * -2 when over MEMBER_MAX, or -3 when LC finds a line too long. The buffer
 * stays the caller's to free.
 */
static int slurp(int fd, char **bufp, size_t *lenp, size_t *capp,
		 size_t stop, struct lines *lc)
{
	char *buf = *bufp;
	size_t len = *lenp, cap = *capp;
	int end = 0;

	while (len < stop) {
		ssize_t got;

		if (cap - len < 2) {
			size_t ncap = cap ? cap * 2 : CHUNK_MIN;
			char *nbuf;

			if (ncap > MEMBER_MAX + 2)
				ncap = MEMBER_MAX + 2;
			if (ncap - len < 2)
				return -2;
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				errno = ENOMEM;
				return -1;
			}
			*bufp = buf = nbuf;
			*capp = cap = ncap;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0) {
			end = 1;
			break;
		}
		*lenp = len += (size_t)got;
		if (len > MEMBER_MAX)
			return -2;
		if (lines_check(lc, buf, len, 0) < 0)
			return -3;
	}
	if (end && lines_check(lc, buf, len, 1) < 0)
		return -3;
	if (buf)
		buf[len] = '\0';
	return end;
}

/* MORE of a member read from a file descriptor (SRC points to it). */
static int fd_more(struct shd_pieces *pc, char *buf, size_t cap, size_t *got)
{
	ssize_t r;

	do
		r = read(*(const int *)pc->src, buf, cap);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		snprintf(pc->err, sizeof(pc->err), "%s", strerror(errno));
		*got = 0;
		return SHD_EIO;
	}
	*got = (size_t)r;
	return 0;
}

/* Makes room for NEED bytes plus a NUL in *BUFP (capacity *CAPP). */
static int reserve(char **bufp, size_t *capp, size_t need)
{
	size_t ncap = *capp ? *capp : CHUNK_MIN;
	char *nbuf;

	if (need < *capp)
		return 0;
	while (ncap <= need)
		ncap = ncap > SIZE_MAX / 2 ? need + 1 : ncap * 2;
	if (ncap > MEMBER_MAX + 1 && need + 1 <= MEMBER_MAX + 1)
		ncap = MEMBER_MAX + 1;
	nbuf = realloc(*bufp, ncap);
	if (!nbuf)
		return SHD_ENOMEM;
	*bufp = nbuf;
	*capp = ncap;
	return 0;
}

int shd_pieces_all(struct shd_pieces *pc, char **bufp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = pc->headlen, cap = 0, got;
	int r;

	if (reserve(&buf, &cap, len) < 0)
		goto nomem;
	if (len)
		memcpy(buf, pc->head, len);
	do {
		if (cap - len < 2) {	/* room to read at least a byte */
			if (len >= MEMBER_MAX) {
				free(buf);
				snprintf(pc->err, sizeof(pc->err), "more than "
					 "4 GiB to read whole, not read (hint: "
					 "write it, decompressed, to a plain "
					 "file first)");
				return SHD_EFORMAT;
			}
			if (reserve(&buf, &cap, len + 1) < 0)
				goto nomem;
		}
		if ((r = pc->more(pc, buf + len, cap - len - 1, &got)) < 0) {
			free(buf);
			return r;
		}
		len += got;
	} while (got);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
nomem:
	free(buf);
	snprintf(pc->err, sizeof(pc->err), "out of memory");
	return SHD_ENOMEM;
}

static int archive_fail(const struct input *in, struct archive *ar,
			const char *shown)
{
	const char *msg = archive_error_string(ar);

	if (archive_errno(ar) == ENOMEM)
		return fail(in, SHD_ENOMEM, "%s: out of memory", shown);
	return fail(in, SHD_EFORMAT, "%s: %s", shown,
		    msg ? msg : "unreadable archive");
}

/*
 * Reads the data of the current entry into *BUFP (capacity *CAPP, reused
 * from member to member), its length in *LENP. Sparse members get their
 * holes as zero bytes.
 */
static int read_member(const struct input *in, struct archive *ar,
		       struct archive_entry *e, const char *shown,
		       char **bufp, size_t *capp, size_t *lenp)
{
	size_t len = 0;
	struct lines lc = { 0 };
	int r;

	if (archive_entry_size_is_set(e)) {
		int64_t size = archive_entry_size(e);

		if (size < 0 || (uint64_t)size > MEMBER_MAX)
			return fail(in, SHD_EFORMAT,
				    "%s: member larger than 4 GiB, not read "
				    "(hint: extract or decompress it to a file first)",
				    shown);
		/* Trust a size field only so far: a forged header must not
		 * make us allocate gigabytes for a few bytes of data. */
		r = reserve(bufp, capp, (size_t)size < TRUST_SIZE_MAX ?
				    (size_t)size : TRUST_SIZE_MAX);
		if (r < 0)
			return fail(in, r, "%s: out of memory", shown);
	}
	for (;;) {
		const void *blk;
		size_t bsz;
		la_int64_t off;
		uint64_t end;

		r = archive_read_data_block(ar, &blk, &bsz, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return archive_fail(in, ar, shown);
		/* Formats that keep no offsets give each block in turn. */
		if (off < 0 || (uint64_t)off < len)
			off = (la_int64_t)len;
		end = (uint64_t)off + bsz;
		if (end > MEMBER_MAX)
			return fail(in, SHD_EFORMAT,
				    "%s: member larger than 4 GiB, not read "
				    "(hint: extract or decompress it to a file first)",
				    shown);
		r = reserve(bufp, capp, (size_t)end);
		if (r < 0)
			return fail(in, r, "%s: out of memory", shown);
		memset(*bufp + len, 0, (size_t)off - len);
		if (bsz)
			memcpy(*bufp + off, blk, bsz);
		len = (size_t)end;
		if (lines_check(&lc, *bufp, len, 0) < 0)
			return lines_fail(in, shown, &lc);
	}
	if (lines_check(&lc, *bufp, len, 1) < 0)
		return lines_fail(in, shown, &lc);
	/* A sparse member may end in a hole. */
	if (archive_entry_sparse_count(e) > 0 && archive_entry_size_is_set(e) &&
	    (uint64_t)archive_entry_size(e) > len) {
		size_t size = (size_t)archive_entry_size(e);

		r = reserve(bufp, capp, size);
		if (r < 0)
			return fail(in, r, "%s: out of memory", shown);
		memset(*bufp + len, 0, size - len);
		len = size;
	}
	r = reserve(bufp, capp, len);
	if (r < 0)
		return fail(in, r, "%s: out of memory", shown);
	(*bufp)[len] = '\0';
	*lenp = len;
	return 0;
}

/* The one member of a plain input, called after the input itself. */
static int each_plain(const struct input *in, const char *data, size_t len)
{
	char *key = make_key(in->keybase);
	int r;

	if (!key)
		return fail(in, SHD_ENOMEM, "%s: out of memory", in->shown);
	r = in->fn(in->ctx, len ? data : "", len, in->shown, key);
	free(key);
	return r < 0 ? r : 0;
}

/* A member of an archive read in pieces: where its data stands. */
struct arsrc {
	struct archive *ar;
	struct archive_entry *e;
	const char *blk;	/* the current block, USED bytes of it given */
	size_t bsz, used;
	uint64_t blkoff;	/* where the block goes in the member */
	uint64_t pos;		/* bytes of the member given so far */
	int end, failed;
};

/*
 * MORE of an archive member: its blocks in turn, with the holes of a
 * sparse member (between blocks, and at its end) as zero bytes, as
 * read_member gives them.
 */
static int ar_more(struct shd_pieces *pc, char *buf, size_t cap, size_t *got)
{
	struct arsrc *s = pc->src;
	uint64_t at, n;

	*got = 0;
	while (s->used == s->bsz && !s->end) {
		const void *b;
		size_t bsz;
		la_int64_t off;
		int r = archive_read_data_block(s->ar, &b, &bsz, &off);

		if (r == ARCHIVE_EOF) {
			s->end = 1;
			break;
		}
		if (r < ARCHIVE_WARN) {
			const char *msg = archive_error_string(s->ar);

			s->failed = 1;
			snprintf(pc->err, sizeof(pc->err), "%s",
				 msg ? msg : "unreadable archive");
			return archive_errno(s->ar) == ENOMEM ? SHD_ENOMEM
							      : SHD_EFORMAT;
		}
		if (off < 0 || (uint64_t)off < s->pos)
			off = (la_int64_t)s->pos;
		s->blk = b;
		s->bsz = bsz;
		s->used = 0;
		s->blkoff = (uint64_t)off;
	}
	if (s->end) {
		/* a sparse member may end in a hole */
		at = s->pos;
		if (archive_entry_sparse_count(s->e) > 0 &&
		    archive_entry_size_is_set(s->e) &&
		    archive_entry_size(s->e) > 0)
			at = (uint64_t)archive_entry_size(s->e);
	} else {
		at = s->blkoff + s->used;
	}
	if (at > s->pos) {	/* a hole before what comes */
		n = at - s->pos < cap ? at - s->pos : cap;
		memset(buf, 0, (size_t)n);
	} else if (!s->end) {
		n = s->bsz - s->used < cap ? s->bsz - s->used : cap;
		memcpy(buf, s->blk + s->used, (size_t)n);
		s->used += (size_t)n;
	} else {
		return 0;
	}
	s->pos += n;
	*got = (size_t)n;
	return 0;
}

/*
 * The current member of AR to IN->pfn in pieces, its first
 * SHD_PIECES_HEAD bytes in *BUFP (capacity *CAPP, reused); or to IN->fn
 * whole when it ends within them. A read error within the head fails the
 * input, as read_member does; one after it reaches PFN through MORE and
 * is PFN's to report: then *STOP, as the archive cannot be read on.
 */
static int member_pieces(const struct input *in, struct archive *ar,
			 struct archive_entry *e, const char *shown,
			 const char *key, char **bufp, size_t *capp, int *stop)
{
	struct arsrc s = { .ar = ar, .e = e };
	struct shd_pieces pc = { NULL, 0, ar_more, &s, "" };
	size_t len = 0, got;
	int r = reserve(bufp, capp, SHD_PIECES_HEAD);

	if (r < 0)
		return fail(in, r, "%s: out of memory", shown);
	do {
		if ((r = ar_more(&pc, *bufp + len, SHD_PIECES_HEAD - len,
				 &got)) < 0)
			return r == SHD_ENOMEM ?
			       fail(in, r, "%s: out of memory", shown) :
			       fail(in, r, "%s: %s", shown, pc.err);
		len += got;
	} while (got && len < SHD_PIECES_HEAD);
	if (!got) {
		(*bufp)[len] = '\0';
		return in->fn(in->ctx, *bufp, len, shown, key);
	}
	pc.head = *bufp;
	pc.headlen = len;
	r = in->pfn(in->ctx, &pc, shown, key);
	*stop = s.failed;
	return r;
}

/* Every regular-file member of the archive or compressed file at DATA. */
static int each_archive(const struct input *in, const void *data, size_t len)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *e;
	char *buf = NULL, *shown = NULL, *key = NULL;
	size_t cap = 0, blen = 0;
	int r, status = 0;

	if (!ar)
		return fail(in, SHD_ENOMEM, "%s: out of memory", in->shown);
	/* Every filter, but only real archive formats: text formats such as
	 * mtree would take a decompressed CSV for an archive of its own.
	 * Anything else is one raw member. */
	archive_read_support_filter_all(ar);
	archive_read_support_format_7zip(ar);
	archive_read_support_format_cab(ar);
	archive_read_support_format_cpio(ar);
	archive_read_support_format_iso9660(ar);
	archive_read_support_format_lha(ar);
	archive_read_support_format_rar(ar);
	archive_read_support_format_rar5(ar);
	archive_read_support_format_tar(ar);
	archive_read_support_format_xar(ar);
	archive_read_support_format_zip(ar);
	archive_read_support_format_raw(ar);
	archive_read_support_format_empty(ar);
	if (archive_read_open_memory(ar, data, len) < ARCHIVE_WARN) {
		status = archive_fail(in, ar, in->shown);
		goto out;
	}
	for (;;) {
		const char *mname;
		size_t need;

		r = archive_read_next_header(ar, &e);
		if (r == ARCHIVE_EOF) {
			/* A compressed empty file: one empty member, as an
			 * empty plain file is. */
			if (archive_format(ar) == ARCHIVE_FORMAT_EMPTY)
				status = each_plain(in, "", 0);
			break;
		}
		if (r < ARCHIVE_WARN) {
			status = archive_fail(in, ar, in->shown);
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG ||
		    archive_entry_hardlink(e) || archive_entry_symlink(e))
			continue;
		free(shown);
		free(key);
		shown = key = NULL;
		if (archive_format(ar) == ARCHIVE_FORMAT_RAW) {
			/* A lone compressed file: libarchive calls its only
			 * member "data"; the outer name says more. */
			shown = strdup(in->shown);
			key = make_key(in->keybase);
		} else {
			mname = archive_entry_pathname(e);
			if (!mname)
				mname = archive_entry_pathname_utf8(e);
			if (!mname)
				mname = "?";
			if (hidden_member(mname))
				continue;
			need = strlen(in->shown) + 1 + strlen(mname) + 1;
			shown = malloc(need);
			if (shown) {
				snprintf(shown, need, "%s:%s", in->shown, mname);
				sanitize(shown);
			}
			key = make_key(mname);
		}
		if (!shown || !key) {
			status = fail(in, SHD_ENOMEM, "%s: out of memory",
				      in->shown);
			goto out;
		}
		if (in->pfn) {
			int stop = 0;

			status = member_pieces(in, ar, e, shown, key, &buf,
					       &cap, &stop);
			if (status < 0 || stop)
				goto out;
		} else {
			status = read_member(in, ar, e, shown, &buf, &cap,
					     &blen);
			if (status < 0)
				goto out;
			status = in->fn(in->ctx, buf, blen, shown, key);
			if (status < 0)
				goto out;
		}
		status = 0;
	}
out:
	free(buf);
	free(shown);
	free(key);
	archive_read_free(ar);
	return status;
}

/* The input at DATA (LEN bytes): an archive, or one plain member. */
static int each_member(const struct input *in, const char *data, size_t len)
{
	if (is_packed(data, len))
		return each_archive(in, data, len);
	return each_plain(in, data, len);
}

/* The one member of a plain input read from FD, in pieces: HEAD first. */
static int each_pieces(const struct input *in, int fd, const char *head,
		       size_t headlen)
{
	struct shd_pieces pc = { head, headlen, fd_more, &fd, "" };
	char *key = make_key(in->keybase);
	int r;

	if (!key)
		return fail(in, SHD_ENOMEM, "%s: out of memory", in->shown);
	r = in->pfn(in->ctx, &pc, in->shown, key);
	free(key);
	return r < 0 ? r : 0;
}

int shd_input_each(const char *path, shd_member_fn fn, void *ctx,
		   char *errbuf, size_t n)
{
	return shd_input_pieces(path, fn, NULL, ctx, errbuf, n);
}

int shd_input_pieces(const char *path, shd_member_fn fn, shd_pieces_fn pfn,
		     void *ctx, char *errbuf, size_t n)
{
	struct input in = { path, path, fn, pfn, ctx, errbuf, n };
	int is_stdin = strcmp(path, "-") == 0;
	int fd = STDIN_FILENO, status = 0, r = 0;
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	void *map = MAP_FAILED;
	struct lines lc = { 0 };

	if (n)
		errbuf[0] = '\0';
	if (is_stdin) {
		in.shown = "<stdin>";
		in.keybase = "stdin";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(&in, SHD_EIO, "cannot open '%s': %s", path,
				    strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		status = fail(&in, SHD_EIO, "cannot read '%s': %s", in.shown,
			      strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		status = fail(&in, SHD_EIO, "cannot read '%s': %s", in.shown,
			      strerror(EISDIR));
		errno = EISDIR;
		goto out;
	}
	/* Standard input is read, never mapped: it may not start at offset 0.
	 * Regular files of size 0 are read too (/proc files say 0). */
	if (!is_stdin && S_ISREG(st.st_mode) && st.st_size > 0) {
		/*
		 * A mapped file costs page cache, not memory of ours: no
		 * MEMBER_MAX here. What is decompressed or read from a pipe
		 * is held in memory, and that is bounded.
		 */
		if ((uint64_t)st.st_size > SIZE_MAX) {
			status = fail(&in, SHD_EFORMAT,
				      "%s: file too large to map", in.shown);
			goto out;
		}
		/*
		 * Every byte is read once, front to back: ask for read-ahead
		 * when the file is not cached. (MAP_POPULATE was measured:
		 * no fewer faults on a cached file, and it would read a cold
		 * file whole before parsing starts.)
		 */
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			   fd, 0);
		if (map != MAP_FAILED)
			(void)madvise(map, (size_t)st.st_size,
				      MADV_SEQUENTIAL);
	}
	if (map != MAP_FAILED) {
		status = each_member(&in, map, (size_t)st.st_size);
		munmap(map, (size_t)st.st_size);
		goto out;
	}
	/* A plain member that PFN takes in pieces need not fit in memory;
	 * its head says whether it is one (not an archive, not all there). */
	if (pfn) {
		r = slurp(fd, &buf, &len, &cap, SHD_PIECES_HEAD, &lc);
		if (r == 0 && !is_packed(buf, len)) {
			status = each_pieces(&in, fd, buf, len);
			goto out;
		}
	}
	if (r >= 0)
		r = slurp(fd, &buf, &len, &cap, SIZE_MAX, &lc);
	if (r == -3) {
		status = lines_fail(&in, in.shown, &lc);
		goto out;
	}
	if (r == -2) {
		status = fail(&in, SHD_EFORMAT,
			      "%s: more than 4 GiB from standard input or a "
			      "pipe, not read (hint: write it to a file "
			      "first)", in.shown);
		goto out;
	}
	if (r < 0) {
		status = fail(&in, errno == ENOMEM ? SHD_ENOMEM : SHD_EIO,
			      "cannot read '%s': %s", in.shown,
			      strerror(errno));
		goto out;
	}
	status = each_member(&in, buf, len);
out:
	free(buf);
	if (!is_stdin)
		close(fd);
	return status;
}
