/*
 * unit-input.c - shd_input_each: plain files, standard input, compressed
 * files and archives (built here with libarchive's write API), names, keys
 * and failures.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "shd.h"

/* ------------------------------------------------------------- helpers */

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char paths[8][256];
	static unsigned next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return p;
}

struct member {
	char name[256];
	char key[128];
	char data[256];
	size_t len;
};

struct seen {
	size_t n;
	struct member m[16];
	int stop_at;		/* return SHD_EINVAL at this call (1-based) */
};

static int collect(void *ctx, const char *buf, size_t len, const char *name,
		   const char *key)
{
	struct seen *s = ctx;
	struct member *m;

	if (s->n == sizeof(s->m) / sizeof(s->m[0]))
		return SHD_ENOMEM;
	m = &s->m[s->n++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->key, sizeof(m->key), "%s", key);
	m->len = len;
	memcpy(m->data, buf, len < sizeof(m->data) - 1 ? len : sizeof(m->data) - 1);
	if (s->stop_at && (int)s->n == s->stop_at)
		return SHD_EINVAL;
	return 0;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
		FAIL_AT("cannot write '%s'", path);
}

/* An archive entry to write: 'f' file, 'd' directory, 'l' symlink. */
struct entry {
	char type;
	const char *name;
	const char *data;	/* file contents, or symlink target */
};

/*
 * Writes ENTRIES into PATH with libarchive in FORMAT (an
 * archive_write_set_format_* function) through FILTER (an
 * archive_write_add_filter_* function, or NULL). Returns 0, or -1 when
 * this libarchive cannot write that combination.
 */
static int write_archive(const char *path, int (*format)(struct archive *),
			 int (*filter)(struct archive *),
			 const struct entry *entries, size_t n)
{
	struct archive *aw = archive_write_new();
	int status = 0;

	if (format(aw) != ARCHIVE_OK ||
	    (filter && filter(aw) != ARCHIVE_OK)) {
		archive_write_free(aw);
		return -1;
	}
	if (archive_write_open_filename(aw, path) != ARCHIVE_OK) {
		FAIL_AT("cannot create '%s': %s", path, archive_error_string(aw));
		archive_write_free(aw);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = entries[i].type == 'f' ? strlen(entries[i].data) : 0;

		archive_entry_set_pathname(e, entries[i].name);
		archive_entry_set_mtime(e, 1700000000, 0);
		switch (entries[i].type) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, entries[i].data);
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)len);
			break;
		}
		if (archive_write_header(aw, e) != ARCHIVE_OK ||
		    (len && archive_write_data(aw, entries[i].data, len) !=
				    (la_ssize_t)len)) {
			FAIL_AT("writing '%s': %s", entries[i].name,
				archive_error_string(aw));
			status = -1;
		}
		archive_entry_free(e);
	}
	if (archive_write_close(aw) != ARCHIVE_OK) {
		FAIL_AT("closing '%s': %s", path, archive_error_string(aw));
		status = -1;
	}
	archive_write_free(aw);
	return status;
}

static int each(const char *path, struct seen *s, char *err, size_t n)
{
	memset(s, 0, sizeof(*s));
	err[0] = 'x';
	err[1] = '\0';
	return shd_input_each(path, collect, s, err, n);
}

static const char csv_a[] = "time,cpu\n2024-01-01,1.5\n";
static const char csv_b[] = "time,cpu\n2024-01-01,2.5\n2024-01-02,3\n";

/* --------------------------------------------------------------- tests */

static void test_plain_file(void)
{
	const char *path = tmp_path("ec2_cpu_utilization_24ae8d.csv");
	struct seen s;
	char err[256];

	write_file(path, csv_a, strlen(csv_a));
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_STR(s.m[0].name, path);
	EXPECT_EQ_STR(s.m[0].key, "ec2_cpu_utilization_24ae8d");
	EXPECT_EQ_INT(s.m[0].len, strlen(csv_a));
	EXPECT_EQ_STR(s.m[0].data, csv_a);
	EXPECT_EQ_STR(err, "");
}

static void test_keys_of_plain_files(void)
{
	static const struct {
		const char *file, *key;
	} cases[] = {
		{ "a.b.txt", "a.b" },
		{ "noext", "noext" },
		{ "M.JSON", "M" },
		{ "89.tsv", "89" },
		{ "csv.csv", "csv" },
	};
	struct seen s;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = tmp_path(cases[i].file);

		write_file(path, "x\n", 2);
		EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
		EXPECT_EQ_INT(s.n, 1);
		EXPECT_EQ_STR(s.m[0].key, cases[i].key);
	}
}

static void test_empty_file(void)
{
	const char *path = tmp_path("empty.csv");
	struct seen s;
	char err[256];

	write_file(path, "", 0);
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_INT(s.m[0].len, 0);
	EXPECT_EQ_STR(s.m[0].key, "empty");
}

static void test_missing_file(void)
{
	const char *path = tmp_path("nope.csv");
	char want[512];
	struct seen s;
	char err[512];

	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_INT(s.n, 0);
	snprintf(want, sizeof(want), "cannot open '%s': %s", path,
		 strerror(ENOENT));
	EXPECT_EQ_STR(err, want);
}

static void test_directory_is_an_error(void)
{
	struct seen s;
	char err[256];

	EXPECT_EQ_INT(each(tmpdir, &s, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_INT(s.n, 0);
	EXPECT(strstr(err, tmpdir) != NULL);
}

static void test_text_starting_like_bzip2_is_plain(void)
{
	const char *path = tmp_path("BZh.csv");
	static const char text[] = "BZh9 is not bzip2\n1,2\n";
	struct seen s;
	char err[256];

	write_file(path, text, strlen(text));
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_STR(s.m[0].data, text);
}

static void test_tar_gz(void)
{
	const char *path = tmp_path("rnd.tar.gz");
	const struct entry entries[] = {
		{ 'd', "rnd/", NULL },
		{ 'd', "rnd/2013-7/", NULL },
		{ 'f', "rnd/2013-7/89.csv", csv_a },
		{ 'f', "rnd/.hidden.csv", "h,i\n" },
		{ 'f', "rnd/._89.csv", "resource fork" },
		{ 'f', "__MACOSX/rnd/._89.csv", "resource fork" },
		{ 'l', "rnd/link.csv", "2013-7/89.csv" },
		{ 'f', "./rnd/2013-8/90.csv.gz", csv_b },
		{ 'f', "../../evil.csv", csv_a },
	};
	struct seen s;
	char err[256], want[256];

	if (write_archive(path, archive_write_set_format_pax_restricted,
			  archive_write_add_filter_gzip, entries,
			  sizeof(entries) / sizeof(entries[0])) < 0)
		return;
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 2);
	if (s.n != 2)
		for (size_t i = 0; i < s.n; i++)
			printf("# member %zu: %s\n", i, s.m[i].name);
	snprintf(want, sizeof(want), "%s:rnd/2013-7/89.csv", path);
	EXPECT_EQ_STR(s.m[0].name, want);
	EXPECT_EQ_STR(s.m[0].key, "89");
	EXPECT_EQ_STR(s.m[0].data, csv_a);
	EXPECT_EQ_INT(s.m[0].len, strlen(csv_a));
	snprintf(want, sizeof(want), "%s:./rnd/2013-8/90.csv.gz", path);
	EXPECT_EQ_STR(s.m[1].name, want);
	EXPECT_EQ_STR(s.m[1].key, "90");
	EXPECT_EQ_STR(s.m[1].data, csv_b);
	/* "../../evil.csv" starts with "." like a dotfile, and is skipped. */
}

static void test_zip(void)
{
	const char *path = tmp_path("nab.zip");
	const struct entry entries[] = {
		{ 'd', "realAWSCloudwatch/", NULL },
		{ 'f', "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
		  csv_a },
		{ 'f', "y.tsv", csv_b },
		{ 'f', "__MACOSX/realAWSCloudwatch/._y.tsv", "fork" },
	};
	struct seen s;
	char err[256], want[256];

	if (write_archive(path, archive_write_set_format_zip, NULL, entries,
			  sizeof(entries) / sizeof(entries[0])) < 0)
		return;
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 2);
	snprintf(want, sizeof(want),
		 "%s:realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv", path);
	EXPECT_EQ_STR(s.m[0].name, want);
	EXPECT_EQ_STR(s.m[0].key, "ec2_cpu_utilization_24ae8d");
	EXPECT_EQ_STR(s.m[0].data, csv_a);
	EXPECT_EQ_STR(s.m[1].key, "y");
	EXPECT_EQ_STR(s.m[1].data, csv_b);
}

/* A lone compressed file: libarchive's raw format through a filter. */
static void lone(const char *file, int (*filter)(struct archive *))
{
	const char *path = tmp_path(file);
	const struct entry entries[] = { { 'f', "data", csv_b } };
	struct seen s;
	char err[256];

	if (write_archive(path, archive_write_set_format_raw, filter, entries,
			  1) < 0) {
		printf("# skipped %s: this libarchive cannot write it\n", file);
		return;
	}
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_STR(s.m[0].name, path);
	EXPECT_EQ_STR(s.m[0].key, "x");
	EXPECT_EQ_INT(s.m[0].len, strlen(csv_b));
	EXPECT_EQ_STR(s.m[0].data, csv_b);
}

static void test_lone_gz(void)
{
	lone("x.csv.gz", archive_write_add_filter_gzip);
}

static void test_lone_xz_zst_bz2(void)
{
	lone("x.csv.xz", archive_write_add_filter_xz);
	lone("x.csv.zst", archive_write_add_filter_zstd);
	lone("x.csv.bz2", archive_write_add_filter_bzip2);
}

/* An empty compressed file is one empty member, as an empty plain file. */
static void test_lone_empty_gz(void)
{
	const char *path = tmp_path("nothing.csv.gz");
	const struct entry entries[] = { { 'f', "data", "" } };
	struct seen s;
	char err[256];

	if (write_archive(path, archive_write_set_format_raw,
			  archive_write_add_filter_gzip, entries, 1) < 0)
		return;
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_INT(s.m[0].len, 0);
	EXPECT_EQ_STR(s.m[0].key, "nothing");
}

static void test_tar_zst(void)
{
	const char *path = tmp_path("two.tar.zst");
	const struct entry entries[] = {
		{ 'f', "a.csv", csv_a },
		{ 'f', "b.csv", csv_b },
	};
	struct seen s;
	char err[256];

	if (write_archive(path, archive_write_set_format_ustar,
			  archive_write_add_filter_zstd, entries, 2) < 0) {
		printf("# skipped: this libarchive cannot write zstd\n");
		return;
	}
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 2);
	EXPECT_EQ_STR(s.m[0].key, "a");
	EXPECT_EQ_STR(s.m[1].key, "b");
	EXPECT_EQ_STR(s.m[1].data, csv_b);
}

static void test_truncated_gz_names_file(void)
{
	const char *path = tmp_path("cut.csv.gz");
	const struct entry entries[] = { { 'f', "data", NULL } };
	char big[8192];
	struct entry e = entries[0];
	struct stat st;
	struct seen s;
	char err[512];

	/* Enough text that the deflate stream spans many bytes. */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + (i * 7919 % 26));
	big[sizeof(big) - 1] = '\0';
	e.data = big;
	if (write_archive(path, archive_write_set_format_raw,
			  archive_write_add_filter_gzip, &e, 1) < 0)
		return;
	EXPECT_EQ_INT(stat(path, &st), 0);
	EXPECT_EQ_INT(truncate(path, st.st_size / 2), 0);
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, path) == err);
	EXPECT(strlen(err) > strlen(path) + 2);
}

static void test_corrupt_zip_names_file(void)
{
	const char *path = tmp_path("bad.zip");
	/* A local file header and then nothing. */
	static const char junk[] = "PK\3\4\x14\0\0\0\x08\0\0\0\0\0";
	struct seen s;
	char err[512];

	write_file(path, junk, sizeof(junk) - 1);
	EXPECT(each(path, &s, err, sizeof(err)) < 0);
	EXPECT_EQ_INT(s.n, 0);
	EXPECT(strstr(err, path) == err);
}

static void test_fn_error_stops(void)
{
	const char *path = tmp_path("three.tar");
	const struct entry entries[] = {
		{ 'f', "a.csv", csv_a },
		{ 'f', "b.csv", csv_b },
		{ 'f', "c.csv", csv_a },
	};
	struct seen s;
	char err[256];

	if (write_archive(path, archive_write_set_format_ustar, NULL, entries,
			  3) < 0)
		return;
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	EXPECT_EQ_INT(shd_input_each(path, collect, &s, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_INT(s.n, 2);
}

/* Runs shd_input_each on "-" with standard input reading BUF from a pipe. */
static int each_stdin(const void *buf, size_t len, struct seen *s, char *err,
		      size_t n)
{
	int fds[2], saved = dup(STDIN_FILENO), r;

	if (saved < 0 || pipe(fds) < 0) {
		FAIL_AT("pipe: %s", strerror(errno));
		return -100;
	}
	/* Small inputs fit in the pipe buffer: no writer process needed. */
	if (write(fds[1], buf, len) != (ssize_t)len)
		FAIL_AT("write: %s", strerror(errno));
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	r = each("-", s, err, n);
	dup2(saved, STDIN_FILENO);
	close(saved);
	return r;
}

/* What shd_input_pieces gave: members whole (S), or in pieces (the rest). */
struct both {
	struct seen s;
	int calls;
	size_t headlen, len;
	char name[64], key[64];
	char *data;
};

static int collect_whole(void *ctx, const char *buf, size_t len,
			 const char *name, const char *key)
{
	return collect(&((struct both *)ctx)->s, buf, len, name, key);
}

static int gather(void *ctx, struct shd_pieces *pc, const char *name,
		  const char *key)
{
	struct both *g = ctx;
	char buf[5000];
	size_t got;

	g->calls++;
	g->headlen = g->len = pc->headlen;
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->key, sizeof(g->key), "%s", key);
	if (!(g->data = malloc(pc->headlen + 1)))
		return SHD_ENOMEM;
	memcpy(g->data, pc->head, pc->headlen);
	do {
		char *d;

		if (pc->more(pc, buf, sizeof(buf), &got) < 0)
			return SHD_EIO;
		if (!(d = realloc(g->data, g->len + got + 1)))
			return SHD_ENOMEM;
		g->data = d;
		memcpy(g->data + g->len, buf, got);
		g->len += got;
	} while (got);
	return 0;
}

/*
 * shd_input_pieces on "-", a child writing LEN bytes of BUF to the pipe
 * that is standard input (more than a pipe holds: in turns).
 */
static int pieces_stdin(const void *buf, size_t len, struct both *b,
			char *err, size_t n)
{
	int fds[2], saved = dup(STDIN_FILENO), r, st;
	pid_t pid;

	memset(b, 0, sizeof(*b));
	if (saved < 0 || pipe(fds) < 0 || (pid = fork()) < 0) {
		FAIL_AT("pipe, fork: %s", strerror(errno));
		return -100;
	}
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], buf, len) == (ssize_t)len ? 0 : 1);
	}
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	r = shd_input_pieces("-", collect_whole, gather, b, err, n);
	dup2(saved, STDIN_FILENO);
	close(saved);
	waitpid(pid, &st, 0);
	return r;
}

/*
 * shd_input_pieces: plain text on a pipe past the head comes in pieces,
 * all of it, with a head of at least SHD_PIECES_HEAD; text that ends
 * within the head, and compressed data, come whole as before.
 */
static void test_pieces(void)
{
	size_t big = 3 * SHD_PIECES_HEAD + 12345;
	char *text = malloc(big);
	struct both b;
	char err[256];

	for (size_t i = 0; i < big; i++)
		text[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 26);
	EXPECT_EQ_INT(pieces_stdin(text, big, &b, err, sizeof(err)), 0);
	EXPECT_EQ_INT(b.calls, 1);
	EXPECT_EQ_INT(b.s.n, 0);
	EXPECT(b.headlen >= SHD_PIECES_HEAD);
	EXPECT_EQ_INT(b.len, big);
	EXPECT(b.data && memcmp(b.data, text, big) == 0);
	EXPECT_EQ_STR(b.name, "<stdin>");
	EXPECT_EQ_STR(b.key, "stdin");
	free(b.data);

	EXPECT_EQ_INT(pieces_stdin(csv_b, strlen(csv_b), &b, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(b.calls, 0);
	EXPECT_EQ_INT(b.s.n, 1);
	EXPECT_EQ_STR(b.s.m[0].data, csv_b);

	/* compressed: whole, decompressed */
	{
		const char *path = tmp_path("pieces.csv.gz");
		const struct entry entries[] = { { 'f', "data", csv_a } };
		FILE *fp;
		size_t len;

		if (write_archive(path, archive_write_set_format_raw,
				  archive_write_add_filter_gzip, entries,
				  1) == 0 && (fp = fopen(path, "rb"))) {
			len = fread(text, 1, big, fp);
			fclose(fp);
			EXPECT_EQ_INT(pieces_stdin(text, len, &b, err,
						   sizeof(err)), 0);
			EXPECT_EQ_INT(b.calls, 0);
			EXPECT_EQ_INT(b.s.n, 1);
			EXPECT_EQ_STR(b.s.m[0].data, csv_a);
		} else {
			FAIL_AT("cannot make '%s'", path);
		}
	}
	free(text);
}

static void test_stdin_plain(void)
{
	struct seen s;
	char err[256];

	EXPECT_EQ_INT(each_stdin(csv_b, strlen(csv_b), &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_STR(s.m[0].name, "<stdin>");
	EXPECT_EQ_STR(s.m[0].key, "stdin");
	EXPECT_EQ_STR(s.m[0].data, csv_b);
}

static void test_stdin_compressed(void)
{
	const char *path = tmp_path("in.csv.gz");
	const struct entry entries[] = { { 'f', "data", csv_a } };
	char buf[4096];
	struct seen s;
	char err[256];
	FILE *fp;
	size_t len;

	if (write_archive(path, archive_write_set_format_raw,
			  archive_write_add_filter_gzip, entries, 1) < 0)
		return;
	fp = fopen(path, "rb");
	if (!fp) {
		FAIL_AT("cannot open '%s'", path);
		return;
	}
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	EXPECT_EQ_INT(each_stdin(buf, len, &s, err, sizeof(err)), 0);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_STR(s.m[0].name, "<stdin>");
	EXPECT_EQ_STR(s.m[0].key, "stdin");
	EXPECT_EQ_STR(s.m[0].data, csv_a);
}

static void test_stdin_truncated(void)
{
	static const char gz[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03\x4b\x4c";
	struct seen s;
	char err[256];

	EXPECT_EQ_INT(each_stdin(gz, sizeof(gz) - 1, &s, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strncmp(err, "<stdin>", 7) == 0);
}

/* A pipe given by path is read, not mapped. */
static void test_pipe_path(void)
{
	int fds[2];
	char path[64];
	struct seen s;
	char err[256];

	if (pipe(fds) < 0) {
		FAIL_AT("pipe: %s", strerror(errno));
		return;
	}
	if (write(fds[1], csv_a, strlen(csv_a)) != (ssize_t)strlen(csv_a))
		FAIL_AT("write: %s", strerror(errno));
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	EXPECT_EQ_INT(each(path, &s, err, sizeof(err)), 0);
	close(fds[0]);
	EXPECT_EQ_INT(s.n, 1);
	EXPECT_EQ_STR(s.m[0].data, csv_a);
}

static const struct harness_case cases[] = {
	TEST(test_plain_file),
	TEST(test_keys_of_plain_files),
	TEST(test_empty_file),
	TEST(test_missing_file),
	TEST(test_directory_is_an_error),
	TEST(test_text_starting_like_bzip2_is_plain),
	TEST(test_tar_gz),
	TEST(test_zip),
	TEST(test_lone_gz),
	TEST(test_lone_xz_zst_bz2),
	TEST(test_lone_empty_gz),
	TEST(test_tar_zst),
	TEST(test_truncated_gz_names_file),
	TEST(test_corrupt_zip_names_file),
	TEST(test_fn_error_stops),
	TEST(test_stdin_plain),
	TEST(test_pieces),
	TEST(test_stdin_compressed),
	TEST(test_stdin_truncated),
	TEST(test_pipe_path),
};

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", tmpdir);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/shd-input.XXXXXX",
		 t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(remove_tmpdir);
	return RUN_TESTS(cases);
}
