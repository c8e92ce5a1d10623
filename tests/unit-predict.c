/*
 * unit-predict.c - forecasts as the rows of the forecast stream
 * (lib/predict.c): the stream's columns and metadata, H rows per origin
 * with their times, origin and steps, the interval around the forecast,
 * --method over the model's choice, and the same forecasts whether the
 * origins go through the network in full batches or one at a time.
 */
#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "model.h"
#include "predict.h"
#include "synth.h"
#include "train.h"

#define N (5 * DAY)

static void train(struct shd_model *m, const struct shd_panel *p)
{
	struct shd_train_opts o;

	shd_train_opts_init(&o);
	o.lookback = 24;
	o.horizon = 4;
	o.hidden = 8;
	o.batch = 32;
	o.epochs = 1;
	o.max_windows = 500;
	o.max_eval = 200;
	o.seed = 7;
	EXPECT_EQ_INT(shd_train(m, p, &o, NULL, NULL, NULL), 0);
}

static void test_schema(void)
{
	struct shd_panel p;
	struct shd_model m;
	struct shd_schema s;

	synth(&p, 2, N, 3);
	train(&m, &p);
	shd_schema_init(&s);
	EXPECT_EQ_INT(shd_predict_schema(&s, &m, -1, "m.model", "in.shd"), 0);
	EXPECT_EQ_INT(s.ncols, 4 + 6 * 2);
	EXPECT_EQ_STR(s.cols[3].name, "step");
	EXPECT_EQ_STR(s.cols[4].name, "cpu.pred");
	EXPECT_EQ_STR(s.cols[4].unit, "%");
	EXPECT_EQ_STR(s.cols[7].name, "cpu.conf");
	EXPECT_EQ_STR(s.cols[7].unit, "");
	EXPECT_EQ_STR(s.cols[15].name, "mem");
	EXPECT_EQ_STR(shd_schema_meta(&s, "horizon"), "4");
	EXPECT_EQ_STR(shd_schema_meta(&s, "interval_ms"), "300000");
	EXPECT_EQ_STR(shd_schema_meta(&s, "model"), "m.model");
	EXPECT_EQ_STR(shd_schema_meta(&s, "source"), "in.shd");
	EXPECT(shd_schema_meta(&s, "method") == NULL);
	shd_schema_release(&s);
	shd_schema_init(&s);
	EXPECT_EQ_INT(shd_predict_schema(&s, &m, SHD_M_LAST, "m", "i"), 0);
	EXPECT_EQ_STR(shd_schema_meta(&s, "method"), "last");
	shd_schema_release(&s);
	EXPECT_EQ_INT(shd_predict_method(&m, SHD_M_AR, 1, 1), SHD_M_AR);
	EXPECT_EQ_INT(shd_predict_method(&m, -1, 1, 1), m.ser[3].method);
	shd_model_release(&m);
	shd_panel_release(&p);
}

/*
 * The forecasts of origins [A, B) of both series by METHOD into a memfd,
 * flushed after every origin when ONE, read back into *F (rows).
 */
static size_t run(const struct shd_model *m, const struct shd_panel *p,
		  int method, size_t a, size_t b, int one, double **out)
{
	struct shd_schema s;
	struct shd_writer *w;
	struct shd_predictor *pr;
	struct shd_reader *r;
	struct shd_frame f = { 0 };
	char err[256] = "";
	int fd = memfd_create("unit-predict", 0);
	size_t rows = 0, nc = 0;

	shd_schema_init(&s);
	EXPECT_EQ_INT(shd_predict_schema(&s, m, method, "m", "i"), 0);
	EXPECT_EQ_INT(shd_writer_open(&w, fd, &s, NULL), 0);
	EXPECT_EQ_INT(shd_predictor_new(&pr, m, p, method, &s, w), 0);
	for (size_t k = 0; k < 2; k++)
		for (size_t t = a; t < b; t++) {
			EXPECT_EQ_INT(shd_predictor_push(pr, k, k, t, err,
							 sizeof(err)), 0);
			if (one)
				EXPECT_EQ_INT(shd_predictor_flush(pr, err,
								  sizeof(err)),
					      0);
		}
	EXPECT_EQ_INT(shd_predictor_flush(pr, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_predictor_count(pr), 2 * (b - a));
	EXPECT_EQ_INT(shd_writer_close(w), 0);
	shd_predictor_free(pr);
	shd_writer_free(w);
	shd_schema_release(&s);

	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ_INT(shd_reader_open(&r, fd, "mem"), 0);
	nc = shd_reader_schema(r)->ncols;
	*out = NULL;
	EXPECT_EQ_INT(shd_frame_init(&f, shd_reader_schema(r),
				     shd_reader_dict(r)), 0);
	while (shd_reader_next(r, &f) == 0) {
		*out = realloc(*out, (rows + f.nrows) * nc * sizeof(double));
		for (size_t i = 0; i < f.nrows; i++)
			for (size_t j = 0; j < nc; j++)
				(*out)[(rows + i) * nc + j] =
					j == 1 ? SHD_KEYCOL(&f, j)[i] :
					j == 0 || j == 2 || j == 3 ?
					(double)SHD_I64COL(&f, j)[i] :
					SHD_F64COL(&f, j)[i];
		rows += f.nrows;
	}
	shd_frame_release(&f);
	shd_reader_free(r);
	close(fd);
	return rows;
}

/*
 * Origins [T0, N) of both series by METHOD in full batches against one at
 * a time: the same rows; times, origins, steps, interval, cur and actual.
 */
static void check_rows(const struct shd_model *m, const struct shd_panel *p,
		       int method)
{
	size_t H = m->horizon, nc = 16, t0 = N - 300, na, nb;
	double *a, *b;
	int bad = 0;

	/* 600 origins: batches of 256, 256 and 88 */
	na = run(m, p, method, t0, N, 0, &a);
	nb = run(m, p, method, t0, N, 1, &b);
	EXPECT_EQ_INT(na, 600 * H);
	EXPECT_EQ_INT(nb, na);
	for (size_t i = 0; i < na && i < nb && !bad; i++) {
		const double *ra = a + i * nc, *rb = b + i * nc;
		const struct shd_pseries *s = &p->series[i / (300 * H)];
		size_t o = t0 + (i / H) % 300, h = i % H + 1;

		for (size_t j = 0; j < nc && !bad; j++)
			if (!(ra[j] == rb[j] || (isnan(ra[j]) && isnan(rb[j])) ||
			      fabs(ra[j] - rb[j]) <= 1e-6 * fabs(rb[j]))) {
				FAIL_AT("method %d, row %zu column %zu: %.17g "
					"batched, %.17g alone", method, i, j,
					ra[j], rb[j]);
				bad = 1;
			}
		EXPECT_EQ_INT((int64_t)ra[2], s->t0 + (int64_t)o * STEP);
		EXPECT_EQ_INT((int64_t)ra[0], (int64_t)ra[2] +
			      (int64_t)h * STEP);
		EXPECT_EQ_INT((int64_t)ra[3], (int64_t)h);
		/* the interval holds the forecast; cur and the actual */
		EXPECT(ra[5] <= ra[4] && ra[4] <= ra[6]);
		EXPECT(ra[7] > 0 && ra[7] <= 1);
		EXPECT_SAME_DOUBLE(ra[8], s->x[o]);
		if (o + h < N)
			EXPECT_SAME_DOUBLE(ra[9], s->x[o + h]);
		else
			EXPECT(isnan(ra[9]));
	}
	free(a);
	free(b);
}

static void test_rows(void)
{
	struct shd_panel p;
	struct shd_model m;
	double *a;
	size_t na, nc = 16;

	synth(&p, 2, N, 3);
	train(&m, &p);
	EXPECT_EQ_INT(m.nnet, 1);
	check_rows(&m, &p, -1);		/* the series' own choice */
	check_rows(&m, &p, SHD_M_LSTM);	/* the network for all */
	/* --method last: every step is the value at the origin */
	na = run(&m, &p, SHD_M_LAST, N - 2, N, 0, &a);
	EXPECT_EQ_INT(na, 4 * m.horizon);
	for (size_t i = 0; i < na; i++)
		EXPECT_SAME_DOUBLE(a[i * nc + 4], a[i * nc + 8]);
	free(a);
	shd_model_release(&m);
	shd_panel_release(&p);
}

int main(void)
{
	static const struct harness_case cases[] = {
		TEST(test_schema),
		TEST(test_rows),
	};

	return RUN_TESTS(cases);
}
