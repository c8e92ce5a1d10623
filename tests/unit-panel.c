/*
 * unit-panel.c - streams read into regular per-resource series: the grid,
 * averaging of rows that share a slot, gaps, the step from metadata or the
 * data, and streams out of canonical order refused.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "panel.h"

struct row {
	const char *key;
	int64_t t;	/* seconds */
	double cpu, mem;
};

/* A stream of ROWS through a memfd, opened for reading in *R. */
static int stream_of(const struct row *rows, size_t n, const char *interval,
		     struct shd_reader **r)
{
	struct shd_schema s;
	struct shd_dict *d = shd_dict_new();
	struct shd_frame f;
	struct shd_writer *w;
	int fd = memfd_create("unit-panel", 0);

	shd_schema_init(&s);
	shd_schema_add(&s, "time", SHD_TIME, "ms", "time");
	shd_schema_add(&s, "resource", SHD_KEY, "", "key");
	shd_schema_add(&s, "cpu", SHD_F64, "%", "metric");
	shd_schema_add(&s, "mem", SHD_F64, "MiB", "metric");
	if (interval)
		shd_schema_set_meta(&s, "interval_ms", interval);
	shd_frame_init(&f, &s, d);
	shd_frame_reserve(&f, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		shd_dict_intern(d, rows[i].key, strlen(rows[i].key), &id);
		SHD_I64COL(&f, 0)[i] = rows[i].t * 1000;
		SHD_KEYCOL(&f, 1)[i] = id;
		SHD_F64COL(&f, 2)[i] = rows[i].cpu;
		SHD_F64COL(&f, 3)[i] = rows[i].mem;
	}
	f.nrows = n;
	shd_writer_open(&w, fd, &s, NULL);
	shd_writer_write(w, &f);
	shd_writer_close(w);
	shd_writer_free(w);
	shd_frame_release(&f);
	shd_schema_release(&s);
	shd_dict_free(d);
	lseek(fd, 0, SEEK_SET);
	return shd_reader_open(r, fd, "t.shd");
}

static void test_grid_and_gaps(void)
{
	/* Bitbrains-like jitter: 300 s and 301 s steps; one gap. */
	const struct row rows[] = {
		{ "a", 1000200, 1, 10 }, { "a", 1000501, 2, 20 },
		{ "a", 1000801, 3, NAN }, { "a", 1001401, 5, 50 },
		{ "b", 1000000, 7, 70 }, { "b", 1000100, 9, 90 },
	};
	struct shd_reader *r;
	struct shd_panel p;

	EXPECT_EQ_INT(stream_of(rows, 6, NULL, &r), 0);
	shd_panel_init(&p);
	EXPECT_EQ_INT(shd_panel_read(&p, r, NULL, 0, 300000), 0);
	EXPECT_EQ_INT(p.nmetric, 2);
	EXPECT_EQ_STR(p.metric[1], "mem");
	EXPECT_EQ_STR(p.unit[0], "%");
	EXPECT_EQ_INT(p.nseries, 2);
	const struct shd_pseries *a = &p.series[0];
	EXPECT_EQ_STR(a->key, "a");
	EXPECT_EQ_INT(a->t0, 1000200000);	/* floor(t / 300 s) * 300 s */
	EXPECT_EQ_INT(a->n, 5);
	EXPECT_SAME_DOUBLE(a->x[0], 1);
	EXPECT_SAME_DOUBLE(a->x[1], 2);
	EXPECT_SAME_DOUBLE(a->x[2], 3);
	EXPECT_SAME_DOUBLE(a->x[3], NAN);	/* a gap stays NaN */
	EXPECT_SAME_DOUBLE(a->x[4], 5);
	EXPECT_SAME_DOUBLE(a->x[a->n + 2], NAN);	/* mem of slot 2 */
	EXPECT_EQ_INT(a->count[3], 0);
	/* b: two rows in one slot are averaged */
	const struct shd_pseries *b = &p.series[1];
	EXPECT_EQ_INT(b->n, 1);
	EXPECT_SAME_DOUBLE(b->x[0], 8);
	EXPECT_SAME_DOUBLE(b->x[1], 80);
	EXPECT_EQ_INT(b->count[0], 2);
	EXPECT_EQ_INT(shd_panel_find(&p, "b"), 1);
	EXPECT_EQ_INT(shd_panel_find(&p, "c"), -1);
	shd_panel_release(&p);
	shd_reader_free(r);
}

static void test_step_from_meta_and_data(void)
{
	const struct row rows[] = {
		{ "a", 0, 1, 1 }, { "a", 60, 2, 2 }, { "a", 120, 3, 3 },
		{ "a", 240, 4, 4 },
	};
	struct shd_reader *r;
	struct shd_panel p;

	shd_panel_init(&p);
	EXPECT_EQ_INT(stream_of(rows, 4, NULL, &r), 0);
	EXPECT_EQ_INT(shd_panel_read(&p, r, NULL, 0, 0), 0);
	EXPECT_EQ_INT(p.step, 60000);		/* the median difference */
	EXPECT_EQ_INT(p.series[0].n, 5);
	shd_reader_free(r);
	EXPECT_EQ_INT(stream_of(rows, 4, "120000", &r), 0);
	EXPECT_EQ_INT(shd_panel_read(&p, r, NULL, 0, 0), 0);
	EXPECT_EQ_INT(p.step, 120000);		/* the stream's interval */
	EXPECT_EQ_INT(p.series[0].n, 3);
	shd_panel_release(&p);
	shd_reader_free(r);
}

static void test_metric_choice(void)
{
	const struct row rows[] = { { "a", 0, 1, 2 }, { "a", 60, 3, 4 } };
	const char *want[] = { "mem" }, *bad[] = { "disk" };
	struct shd_reader *r;
	struct shd_panel p;

	shd_panel_init(&p);
	stream_of(rows, 2, NULL, &r);
	EXPECT_EQ_INT(shd_panel_read(&p, r, want, 1, 0), 0);
	EXPECT_EQ_INT(p.nmetric, 1);
	EXPECT_SAME_DOUBLE(p.series[0].x[1], 4);
	shd_reader_free(r);
	stream_of(rows, 2, NULL, &r);
	EXPECT_EQ_INT(shd_panel_read(&p, r, bad, 1, 0), SHD_EINVAL);
	EXPECT(strstr(p.err, "'disk'") != NULL);
	shd_panel_release(&p);
	shd_reader_free(r);
}

static void test_order_refused(void)
{
	const struct row back[] = { { "a", 60, 1, 1 }, { "a", 0, 2, 2 } };
	const struct row split[] = {
		{ "a", 0, 1, 1 }, { "b", 0, 2, 2 }, { "a", 60, 3, 3 },
	};
	struct shd_reader *r;
	struct shd_panel p;

	shd_panel_init(&p);
	stream_of(back, 2, NULL, &r);
	EXPECT_EQ_INT(shd_panel_read(&p, r, NULL, 0, 0), SHD_EFORMAT);
	EXPECT(strstr(p.err, "time goes back") != NULL);
	shd_reader_free(r);
	stream_of(split, 3, NULL, &r);
	EXPECT_EQ_INT(shd_panel_read(&p, r, NULL, 0, 0), SHD_EFORMAT);
	EXPECT(strstr(p.err, "row 3: resource 'a' again") != NULL);
	shd_panel_release(&p);
	shd_reader_free(r);
}

/* keep: 3 slots of "a", everything of the others */
static size_t keep3(void *ctx, const char *key)
{
	(*(int *)ctx)++;
	return strcmp(key, "a") == 0 ? 3 : 0;
}

/*
 * shd_panel_read_keep: the tail of the grid, the same values as the whole
 * read has there; and the step settled from the first resources' rows
 * while later ones go on the grid as their runs end (ten resources, more
 * than the eight that settle it).
 */
static void test_keep_tail(void)
{
	struct row rows[10 * 6];
	char names[10][8];
	struct shd_reader *r;
	struct shd_panel all, tail;
	int calls = 0;

	for (int k = 0; k < 10; k++) {
		snprintf(names[k], sizeof(names[k]), k ? "r%d" : "a", k);
		for (int i = 0; i < 6; i++)
			rows[k * 6 + i] = (struct row){ names[k], 600 * i + k,
				100 * k + i, i == 4 ? NAN : 10 * i };
	}
	shd_panel_init(&all);
	shd_panel_init(&tail);
	EXPECT_EQ_INT(stream_of(rows, 60, NULL, &r), 0);
	EXPECT_EQ_INT(shd_panel_read(&all, r, NULL, 0, 0), 0);
	shd_reader_free(r);
	EXPECT_EQ_INT(stream_of(rows, 60, NULL, &r), 0);
	EXPECT_EQ_INT(shd_panel_read_keep(&tail, r, NULL, 0, 0, keep3, &calls),
		      0);
	shd_reader_free(r);
	EXPECT_EQ_INT(calls, 10);
	EXPECT_EQ_INT(all.step, 600000);
	EXPECT_EQ_INT(tail.step, 600000);
	EXPECT_EQ_INT(tail.nseries, 10);
	const struct shd_pseries *a = &all.series[0], *t = &tail.series[0];
	EXPECT_EQ_INT(a->n, 6);
	EXPECT_EQ_INT(t->n, 3);
	EXPECT_EQ_INT(t->t0, a->t0 + 3 * 600000);
	for (size_t i = 0; i < 3; i++) {
		EXPECT_SAME_DOUBLE(t->x[i], a->x[3 + i]);		/* cpu */
		EXPECT_SAME_DOUBLE(t->x[3 + i], a->x[6 + 3 + i]);	/* mem */
		EXPECT_EQ_INT(t->count[i], a->count[3 + i]);
	}
	for (size_t k = 1; k < 10; k++) {
		EXPECT_EQ_STR(tail.series[k].key, all.series[k].key);
		EXPECT_EQ_INT(tail.series[k].n, 6);
		EXPECT_SAME_DOUBLE(tail.series[k].x[5], all.series[k].x[5]);
	}
	shd_panel_release(&all);
	shd_panel_release(&tail);
}

static const struct harness_case cases[] = {
	TEST(test_keep_tail),
	TEST(test_grid_and_gaps),
	TEST(test_step_from_meta_and_data),
	TEST(test_metric_choice),
	TEST(test_order_refused),
};

int main(void)
{
	return RUN_TESTS(cases);
}
