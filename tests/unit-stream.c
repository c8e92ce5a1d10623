/*
 * unit-stream.c - the stream format: round trips of every type and codec,
 * concatenation, and damage (truncation at every byte, bit flips, bad
 * magic, version, codec) always detected.
 */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "harness.h"
#include "shd.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A stream in memory: written through a memfd, read back as bytes. */
struct mem {
	unsigned char *p;
	size_t len;
};

static int memfd(void)
{
	return memfd_create("unit-stream", 0);
}

static void slurp(int fd, struct mem *m)
{
	off_t end = lseek(fd, 0, SEEK_END);
	m->len = (size_t)end;
	m->p = malloc(m->len ? m->len : 1);
	lseek(fd, 0, SEEK_SET);
	if ((size_t)shd_read_full(fd, m->p, m->len) != m->len)
		FAIL_AT("short read of memfd");
}

static void make_schema(struct shd_schema *s)
{
	shd_schema_init(s);
	shd_schema_add(s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(s, "resource", SHD_KEY, "", "key");
	shd_schema_add(s, "cpu", SHD_F64, "%", "metric");
	shd_schema_add(s, "odd", SHD_F64, "", "metric");
	shd_schema_add(s, "n", SHD_I64, "", "");
	shd_schema_add(s, "f", SHD_F32, "", "");
	shd_schema_add(s, "flag", SHD_U8, "", "");
	shd_schema_set_meta(s, "interval", "300s");
	shd_schema_set_meta(s, "source", "unit-stream");
}

static const double specials[] = {
	0.0, -0.0, 1.0, -1.0, 0.1, 1e300, -1e-300, DBL_MIN, DBL_MIN / 4,
	DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, 4.9e-324, 123.456,
};

/* Fills frame F with N rows of varied data over K resources. */
static void fill(struct shd_frame *f, struct shd_dict *d, size_t n, size_t k)
{
	char name[32];
	shd_frame_reserve(f, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		snprintf(name, sizeof(name), "res-%05zu", i * k / n);
		shd_dict_intern(d, name, strlen(name), &id);
		SHD_I64COL(f, 0)[i] = 1392388200000 + (int64_t)(i % (n / k + 1)) * 300000 +
				      (rnd() % 7 == 0 ? 1000 : 0);
		SHD_KEYCOL(f, 1)[i] = id;
		/* decimal-looking values with some NaN */
		SHD_F64COL(f, 2)[i] = rnd() % 11 == 0 ? NAN :
				      (double)(int64_t)(rnd() % 100000) / 1000.0;
		/* anything at all: specials and random bit patterns */
		uint64_t bits = rnd();
		double v;
		memcpy(&v, &bits, sizeof(v));
		SHD_F64COL(f, 3)[i] = i % 3 ? v : specials[i % (sizeof(specials) / sizeof(specials[0]))];
		SHD_I64COL(f, 4)[i] = (int64_t)rnd();
		SHD_F32COL(f, 5)[i] = (float)(rnd() % 1000) / 7.0f;
		SHD_U8COL(f, 6)[i] = (uint8_t)rnd();
	}
	f->nrows = n;
}

static void write_stream(int fd, const struct shd_schema *s,
			 const struct shd_frame *f, size_t block)
{
	struct shd_writer *w;
	struct shd_writer_opts o = { .block_rows = block };
	if (shd_writer_open(&w, fd, s, &o)) {
		FAIL_AT("writer_open");
		return;
	}
	EXPECT_EQ_INT(shd_writer_write(w, f), 0);
	EXPECT_EQ_INT(shd_writer_close(w), 0);
	shd_writer_free(w);
}

/* Reads all of M, compares with F (repeated TIMES); returns reader status. */
static int read_all(const struct mem *m, const struct shd_frame *want,
		    int times, char *err, size_t errn)
{
	struct shd_reader *r;
	struct shd_frame f;
	int rc = shd_reader_open_mem(&r, m->p, m->len, "t.shd");
	size_t row = 0;
	if (rc) {
		snprintf(err, errn, "%s", shd_reader_errmsg(r));
		shd_reader_free(r);
		return rc;
	}
	shd_frame_init(&f, shd_reader_schema(r), shd_reader_dict(r));
	while ((rc = shd_reader_next(r, &f)) == 0) {
		if (!want)
			continue;
		for (size_t i = 0; i < f.nrows; i++, row++) {
			size_t wi = row % want->nrows;
			if (SHD_I64COL(&f, 0)[i] != SHD_I64COL(want, 0)[wi]) {
				FAIL_AT("row %zu time differs", row);
				goto out;
			}
			const char *a = shd_dict_str(shd_reader_dict(r), SHD_KEYCOL(&f, 1)[i], NULL);
			const char *b = shd_dict_str(want->dict, SHD_KEYCOL(want, 1)[wi], NULL);
			if (strcmp(a, b)) {
				FAIL_AT("row %zu key %s != %s", row, a, b);
				goto out;
			}
			for (int j = 2; j <= 3; j++) {
				uint64_t x, y;
				memcpy(&x, &SHD_F64COL(&f, j)[i], 8);
				memcpy(&y, &SHD_F64COL(want, j)[wi], 8);
				/* NaN payloads of non-decimal columns survive */
				if (x != y && !(isnan(SHD_F64COL(&f, j)[i]) &&
						isnan(SHD_F64COL(want, j)[wi]))) {
					FAIL_AT("row %zu col %d: %.17g != %.17g", row,
						j, SHD_F64COL(&f, j)[i],
						SHD_F64COL(want, j)[wi]);
					goto out;
				}
			}
			if (SHD_I64COL(&f, 4)[i] != SHD_I64COL(want, 4)[wi] ||
			    memcmp(&SHD_F32COL(&f, 5)[i], &SHD_F32COL(want, 5)[wi], 4) ||
			    SHD_U8COL(&f, 6)[i] != SHD_U8COL(want, 6)[wi]) {
				FAIL_AT("row %zu: i64/f32/u8 differ", row);
				goto out;
			}
		}
	}
	if (want)
		EXPECT_EQ_INT(row, want->nrows * (size_t)times);
out:
	snprintf(err, errn, "%s", shd_reader_errmsg(r));
	shd_frame_release(&f);
	shd_reader_free(r);
	return rc;
}

static void round_trip(size_t n, size_t k, size_t block)
{
	struct shd_schema s;
	struct shd_frame f;
	struct shd_dict *d = shd_dict_new();
	struct mem m;
	char err[512];
	int fd = memfd();

	make_schema(&s);
	shd_frame_init(&f, &s, d);
	if (n)
		fill(&f, d, n, k);
	write_stream(fd, &s, &f, block);
	slurp(fd, &m);
	EXPECT_EQ_INT(read_all(&m, n ? &f : NULL, 1, err, sizeof(err)), SHD_EOF);
	free(m.p);
	close(fd);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

static void test_round_trip_blocks(void)
{
	round_trip(10000, 7, 1000);
	round_trip(10000, 7, 0);
	round_trip(4099, 3, 64);
}

static void test_one_row_and_empty(void)
{
	round_trip(1, 1, 0);
	round_trip(0, 1, 0);
}

static void test_many_resources(void)
{
	round_trip(200000, 100000, 0);
}

static void test_schema_and_meta(void)
{
	struct shd_schema s;
	struct shd_frame f;
	struct shd_reader *r;
	struct mem m;
	int fd = memfd();

	make_schema(&s);
	shd_frame_init(&f, &s, NULL);
	write_stream(fd, &s, &f, 0);
	slurp(fd, &m);
	EXPECT_EQ_INT(shd_reader_open_mem(&r, m.p, m.len, "x"), 0);
	const struct shd_schema *got = shd_reader_schema(r);
	EXPECT(shd_schema_same_columns(got, &s));
	EXPECT_EQ_STR(got->cols[2].unit, "%");
	EXPECT_EQ_STR(got->cols[2].role, "metric");
	EXPECT_EQ_STR(shd_schema_meta(got, "interval"), "300s");
	shd_reader_free(r);
	/* numbers in metadata: absent leaves the default, junk is refused */
	{
		double v = 7;

		EXPECT_EQ_INT(shd_schema_meta_num(&s, "nosuch", 0, 1, &v), 0);
		EXPECT_SAME_DOUBLE(v, 7.0);
		shd_schema_set_meta(&s, "n", "0.25");
		EXPECT_EQ_INT(shd_schema_meta_num(&s, "n", 0, 1, &v), 0);
		EXPECT_SAME_DOUBLE(v, 0.25);
		EXPECT_EQ_INT(shd_schema_meta_num(&s, "n", 0.5, 1, &v),
			      SHD_EFORMAT);
		EXPECT_EQ_INT(shd_schema_meta_num(&s, "interval", 0, 1e9, &v),
			      SHD_EFORMAT);
		shd_schema_set_meta(&s, "n", "1e999");
		EXPECT_EQ_INT(shd_schema_meta_num(&s, "n", 0, INFINITY, &v),
			      SHD_EFORMAT);
		shd_schema_set_meta(&s, "n", "");
		EXPECT_EQ_INT(shd_schema_meta_num(&s, "n", -1, 1, &v),
			      SHD_EFORMAT);
		EXPECT_SAME_DOUBLE(v, 0.25);
	}
	free(m.p);
	close(fd);
	shd_frame_release(&f);
	shd_schema_release(&s);
}

static void test_concatenated(void)
{
	struct shd_schema s;
	struct shd_frame f;
	struct shd_dict *d = shd_dict_new();
	struct mem m;
	char err[512];
	int fd = memfd();

	make_schema(&s);
	shd_frame_init(&f, &s, d);
	fill(&f, d, 500, 5);
	write_stream(fd, &s, &f, 128);
	write_stream(fd, &s, &f, 100);
	write_stream(fd, &s, &f, 0);
	slurp(fd, &m);
	EXPECT_EQ_INT(read_all(&m, &f, 3, err, sizeof(err)), SHD_EOF);
	free(m.p);
	close(fd);

	/* A second stream with other columns is refused, by name. */
	struct shd_schema s2;
	struct shd_frame f2;
	fd = memfd();
	write_stream(fd, &s, &f, 0);
	shd_schema_init(&s2);
	shd_schema_add(&s2, "time", SHD_TIME, NULL, NULL);
	shd_frame_init(&f2, &s2, NULL);
	write_stream(fd, &s2, &f2, 0);
	slurp(fd, &m);
	EXPECT_EQ_INT(read_all(&m, NULL, 1, err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "other columns") != NULL);
	free(m.p);
	close(fd);
	shd_frame_release(&f2);
	shd_schema_release(&s2);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

/* A small stream of two blocks, for the damage tests. */
static void small_stream(struct mem *m)
{
	struct shd_schema s;
	struct shd_frame f;
	struct shd_dict *d = shd_dict_new();
	int fd = memfd();

	make_schema(&s);
	shd_frame_init(&f, &s, d);
	fill(&f, d, 40, 3);
	write_stream(fd, &s, &f, 25);
	slurp(fd, m);
	close(fd);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

static void test_truncation_everywhere(void)
{
	struct mem m, cut = { NULL, 0 };
	char err[512];

	small_stream(&m);
	for (size_t len = 0; len < m.len; len++) {
		cut.p = m.p;
		cut.len = len;
		int rc = read_all(&cut, NULL, 1, err, sizeof(err));
		if (rc != SHD_EFORMAT) {
			FAIL_AT("cut at %zu of %zu: status %d (%s)", len, m.len,
				rc, err);
			break;
		}
	}
	cut.len = m.len;
	EXPECT_EQ_INT(read_all(&cut, NULL, 1, err, sizeof(err)), SHD_EOF);
	free(m.p);
}

static void test_bit_flips(void)
{
	struct mem m;
	char err[512];

	small_stream(&m);
	for (size_t pos = 0; pos < m.len; pos++) {
		unsigned char bit = (unsigned char)(1u << (rnd() % 8));
		m.p[pos] ^= bit;
		int rc = read_all(&m, NULL, 1, err, sizeof(err));
		m.p[pos] ^= bit;
		if (rc != SHD_EFORMAT) {
			FAIL_AT("flip at byte %zu of %zu: status %d", pos, m.len, rc);
			break;
		}
	}
	free(m.p);
}

static void test_messages(void)
{
	struct mem m;
	char err[512];

	small_stream(&m);
	m.p[0] = 't';
	EXPECT_EQ_INT(read_all(&m, NULL, 1, err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "t.shd: not an shd stream") != NULL);
	m.p[0] = 0x89;
	m.p[8] = 2;	/* major version 2 */
	EXPECT_EQ_INT(read_all(&m, NULL, 1, err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "version 2.0 is not supported") != NULL);
	m.p[8] = 1;
	struct mem e = { m.p, 0 };
	EXPECT_EQ_INT(read_all(&e, NULL, 1, err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "empty input") != NULL);
	free(m.p);
}

static void test_codecs_chosen(void)
{
	/* Regular times and 2-decimal values must compress far below 8 B. */
	struct shd_schema s;
	struct shd_frame f;
	struct shd_dict *d = shd_dict_new();
	struct mem m;
	int fd = memfd();
	uint32_t id;
	size_t n = 50000;

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "cpu", SHD_F64, "%", "metric");
	shd_frame_init(&f, &s, d);
	shd_frame_reserve(&f, n);
	shd_dict_intern(d, "web-1", 5, &id);
	for (size_t i = 0; i < n; i++) {
		SHD_I64COL(&f, 0)[i] = 1392388200000 + (int64_t)i * 300000;
		SHD_KEYCOL(&f, 1)[i] = id;
		SHD_F64COL(&f, 2)[i] = (double)(4000 + (int)(rnd() % 200)) / 100;
	}
	f.nrows = n;
	write_stream(fd, &s, &f, 0);
	slurp(fd, &m);
	/* one value per row carries ~7.6 bits of entropy */
	EXPECT(m.len < n * 1.5);
	free(m.p);
	close(fd);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

/*
 * Usage derived from capacity and percent (a later column), percent in
 * sixtieths with near exceptions: both new codecs, exact round trips, and
 * a derived column whose source is not allowed refused.
 */
static void derived_stream(struct mem *m, size_t n, int exceptions)
{
	struct shd_schema s;
	struct shd_frame f;
	struct shd_dict *d = shd_dict_new();
	uint32_t id;
	int fd = memfd();

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "usage", SHD_F64, "MHz", "metric");
	shd_schema_add(&s, "cap", SHD_F64, "MHz", "metric");
	shd_schema_add(&s, "pct", SHD_F64, "%", "metric");
	shd_frame_init(&f, &s, d);
	shd_frame_reserve(&f, n);
	shd_dict_intern(d, "vm-1", 4, &id);
	for (size_t i = 0; i < n; i++) {
		double pct = (double)(int64_t)(rnd() % 6000) / 60;
		if (exceptions && i % 5 == 1) {
			uint64_t b;
			memcpy(&b, &pct, 8);
			b += rnd() % 2 ? 1 : (uint64_t)-1;
			memcpy(&pct, &b, 8);
		}
		if (exceptions && i % 7 == 3)
			pct = (double)(int64_t)(rnd() % 5600) / 56;
		SHD_I64COL(&f, 0)[i] = 1372629804000 + (int64_t)i * 300000;
		SHD_KEYCOL(&f, 1)[i] = id;
		SHD_F64COL(&f, 3)[i] = 11703.997976 * (double)(1 + i / 100 % 3);
		SHD_F64COL(&f, 4)[i] = pct;
		SHD_F64COL(&f, 2)[i] = SHD_F64COL(&f, 3)[i] * pct / 100;
	}
	if (exceptions) {
		SHD_F64COL(&f, 2)[3] = -0.0;
		SHD_F64COL(&f, 2)[4] = NAN;
		SHD_F64COL(&f, 4)[5] = NAN;
		SHD_F64COL(&f, 2)[5] = NAN;
		SHD_F64COL(&f, 4)[6] = INFINITY;
	}
	f.nrows = n;
	write_stream(fd, &s, &f, 0);
	slurp(fd, m);
	/* read back: every f64 bit for bit */
	struct shd_reader *r;
	struct shd_frame g;
	EXPECT_EQ_INT(shd_reader_open_mem(&r, m->p, m->len, "d.shd"), 0);
	shd_frame_init(&g, shd_reader_schema(r), shd_reader_dict(r));
	EXPECT_EQ_INT(shd_reader_next(r, &g), 0);
	EXPECT_EQ_INT(g.nrows, n);
	for (size_t i = 0; i < n && i < g.nrows; i++)
		for (size_t j = 2; j < 5; j++)
			if (memcmp(&SHD_F64COL(&f, j)[i], &SHD_F64COL(&g, j)[i], 8)) {
				FAIL_AT("row %zu col %zu: %.17g != %.17g", i, j,
					SHD_F64COL(&g, j)[i], SHD_F64COL(&f, j)[i]);
				i = n;
				break;
			}
	EXPECT_EQ_INT(shd_reader_next(r, &g), SHD_EOF);
	shd_frame_release(&g);
	shd_reader_free(r);
	close(fd);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

/* The first block of M: its offset, and the offset of column J's payload. */
static size_t block_col(const struct mem *m, size_t j, size_t *blk)
{
	size_t b = 0;
	while (memcmp(m->p + b, "SHDB", 4))
		b++;
	*blk = b;
	size_t at = b + 12 + 12 * 5;
	for (size_t k = 0; k < j; k++) {
		uint32_t st;
		memcpy(&st, m->p + b + 12 + 12 * k + 8, 4);
		at += st;
	}
	return at;
}

static void test_derived_and_near(void)
{
	struct mem m;
	size_t blk;

	derived_stream(&m, 20000, 1);
	block_col(&m, 0, &blk);
	EXPECT_EQ_INT(m.p[blk + 12 + 12 * 2], 6);	/* usage: derived */
	EXPECT_EQ_INT(m.p[blk + 12 + 12 * 4], 5);	/* pct: scaled */
	/* exact sixtieths and usage cost about 1.5 B a row */
	EXPECT(m.len < 20000 * 4);
	free(m.p);
	derived_stream(&m, 300, 0);
	free(m.p);
}

static void test_derived_bad_source(void)
{
	struct mem m;
	char err[512];
	size_t blk;

	derived_stream(&m, 200, 0);
	size_t at = block_col(&m, 2, &blk);
	EXPECT_EQ_INT(m.p[blk + 12 + 12 * 2], 6);
	EXPECT_EQ_INT(m.p[blk + 12 + 12 * 2 + 1], 0);	/* not compressed */
	uint32_t total = 0, rows;
	for (size_t k = 0; k < 5; k++) {
		uint32_t st;
		memcpy(&st, m.p + blk + 12 + 12 * k + 8, 4);
		total += st;
	}
	size_t sum_at = blk + 12 + 12 * 5 + total;
	memcpy(&rows, m.p + blk + 4, 4);
	EXPECT_EQ_INT(rows, 200);
	uint8_t save = m.p[at + 2];
	static const uint8_t bad[] = { 2, 0, 1, 5, 0xff };	/* self, time, key, past the end */
	for (size_t k = 0; k < sizeof(bad); k++) {
		m.p[at + 2] = bad[k];
		uint64_t sum = XXH3_64bits(m.p + blk, sum_at - blk);
		memcpy(m.p + sum_at, &sum, 8);
		struct mem cut = { m.p, sum_at + 8 };	/* the chain fails later */
		struct shd_reader *r;
		struct shd_frame g;
		EXPECT_EQ_INT(shd_reader_open_mem(&r, cut.p, cut.len, "d.shd"), 0);
		shd_frame_init(&g, shd_reader_schema(r), shd_reader_dict(r));
		EXPECT_EQ_INT(shd_reader_next(r, &g), SHD_EFORMAT);
		snprintf(err, sizeof(err), "%s", shd_reader_errmsg(r));
		EXPECT(strstr(err, "column 'usage'") != NULL);
		shd_frame_release(&g);
		shd_reader_free(r);
	}
	m.p[at + 2] = save;
	free(m.p);
}

static void test_fd_reader_pipe(void)
{
	struct shd_schema s;
	struct shd_frame f, g;
	struct shd_dict *d = shd_dict_new();
	struct shd_reader *r;
	int fd = memfd();
	size_t rows = 0;
	int rc;

	make_schema(&s);
	shd_frame_init(&f, &s, d);
	fill(&f, d, 3000, 4);
	write_stream(fd, &s, &f, 256);
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ_INT(shd_reader_open(&r, fd, "-"), 0);
	shd_frame_init(&g, shd_reader_schema(r), shd_reader_dict(r));
	while ((rc = shd_reader_next(r, &g)) == 0)
		rows += g.nrows;
	EXPECT_EQ_INT(rc, SHD_EOF);
	EXPECT_EQ_INT(rows, 3000);
	EXPECT_EQ_INT(shd_reader_blocks(r), 12);
	shd_frame_release(&g);
	shd_reader_free(r);
	close(fd);
	shd_frame_release(&f);
	shd_dict_free(d);
	shd_schema_release(&s);
}

/*
 * Blocks whose header and data together just pass a power of two: the
 * reader once made room for the data alone and wrote past its buffer
 * (found by shd-drift on a forecast of a 24-resource fleet). Random
 * doubles do not compress, so each row adds 120 bytes: every size from
 * 1 to 300 rows crosses 4, 8, 16 and 32 KiB with less than the header's
 * 204 bytes to spare at least once.
 */
static void test_block_sizes(void)
{
	struct shd_schema s;
	struct shd_frame f, g;
	struct shd_dict *d = shd_dict_new();
	struct shd_reader *r;
	char name[32];
	int fd = memfd();

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	for (size_t j = 1; j < 16; j++) {
		snprintf(name, sizeof(name), "m%zu", j);
		shd_schema_add(&s, name, SHD_F64, "", "metric");
	}
	shd_frame_init(&f, &s, d);
	for (size_t rows = 1; rows <= 300; rows++) {
		shd_frame_reserve(&f, rows);
		for (size_t i = 0; i < rows; i++) {
			SHD_I64COL(&f, 0)[i] = 1700000000000LL +
					       (int64_t)i * 300000;
			for (size_t j = 1; j < 16; j++) {
				uint64_t x = rnd();
				double v;

				memcpy(&v, &x, sizeof(v));
				SHD_F64COL(&f, j)[i] = isfinite(v) ? v : 1.5;
			}
		}
		f.nrows = rows;
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
			FAIL_AT("memfd");
		write_stream(fd, &s, &f, 65536);
		lseek(fd, 0, SEEK_SET);
		EXPECT_EQ_INT(shd_reader_open(&r, fd, "-"), 0);
		shd_frame_init(&g, shd_reader_schema(r), shd_reader_dict(r));
		EXPECT_EQ_INT(shd_reader_next(r, &g), 0);
		EXPECT_EQ_INT(g.nrows, rows);
		EXPECT_SAME_DOUBLE(SHD_F64COL(&g, 15)[rows - 1],
				   SHD_F64COL(&f, 15)[rows - 1]);
		EXPECT_EQ_INT(shd_reader_next(r, &g), SHD_EOF);
		shd_frame_release(&g);
		shd_reader_free(r);
	}
	close(fd);
	shd_frame_release(&f);
	shd_schema_release(&s);
	shd_dict_free(d);
}

static const struct harness_case cases[] = {
	TEST(test_block_sizes),
	TEST(test_round_trip_blocks),
	TEST(test_one_row_and_empty),
	TEST(test_many_resources),
	TEST(test_schema_and_meta),
	TEST(test_concatenated),
	TEST(test_truncation_everywhere),
	TEST(test_bit_flips),
	TEST(test_messages),
	TEST(test_codecs_chosen),
	TEST(test_derived_and_near),
	TEST(test_derived_bad_source),
	TEST(test_fd_reader_pipe),
};

int main(void)
{
	return RUN_TESTS(cases);
}
