/*
 * unit-delimited.c - shd_parse_delimited, checked through what the
 * accumulator writes: each case parses a small text, writes the
 * accumulator to a temporary stream, reads it back and compares a text
 * dump of it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pieces.h"
#include "shd.h"

/*
 * The stream of A as text: a line "name[unit] ..." for the columns, then
 * one line per row "TIME KEY V1 V2 ...". Returns a malloc'ed string.
 */
static char *dump(struct shd_acc *a)
{
	struct shd_schema s;
	struct shd_writer *w = NULL;
	struct shd_reader *r = NULL;
	struct shd_frame f;
	FILE *tmp = tmpfile();
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int rc;

	if (!tmp || !out || shd_acc_schema(a, &s) != 0) {
		FAIL_AT("cannot set up the dump");
		exit(1);
	}
	for (size_t j = 0; j < s.ncols; j++)
		fprintf(out, "%s%s%s%s%s", j ? " " : "", s.cols[j].name,
			*s.cols[j].unit ? "[" : "", s.cols[j].unit,
			*s.cols[j].unit ? "]" : "");
	fputc('\n', out);
	if (shd_writer_open(&w, fileno(tmp), &s, NULL) != 0 ||
	    shd_acc_write(a, w, NULL) != 0 || shd_writer_close(w) != 0) {
		FAIL_AT("cannot write the stream");
		exit(1);
	}
	shd_writer_free(w);
	shd_schema_release(&s);
	lseek(fileno(tmp), 0, SEEK_SET);
	if (shd_reader_open(&r, fileno(tmp), "tmp") != 0 ||
	    shd_frame_init(&f, shd_reader_schema(r), shd_reader_dict(r)) != 0) {
		FAIL_AT("cannot read the stream back: %s",
			r ? shd_reader_errmsg(r) : "?");
		exit(1);
	}
	while ((rc = shd_reader_next(r, &f)) == 0) {
		for (size_t i = 0; i < f.nrows; i++) {
			char tb[32], vb[32];

			shd_time_format(SHD_I64COL(&f, 0)[i], tb, sizeof tb);
			fprintf(out, "%s %s", tb,
				shd_dict_str(f.dict, SHD_KEYCOL(&f, 1)[i], NULL));
			for (size_t j = 2; j < f.ncols; j++) {
				shd_format_double(SHD_F64COL(&f, j)[i], vb);
				fprintf(out, " %s", vb);
			}
			fputc('\n', out);
		}
	}
	EXPECT_EQ_INT(rc, SHD_EOF);
	shd_frame_release(&f);
	shd_reader_free(r);
	fclose(tmp);
	fclose(out);
	return text;
}

/* shd_parse_delimited_pieces of TEXT (LEN bytes), PIECE bytes at a time
 * (the head too), into A with O and D. */
static int parse_pieces(struct shd_acc *a, const char *text, size_t len,
			size_t piece, size_t fail_at,
			const struct shd_parse_opts *o, struct shd_diag *d)
{
	struct pieces_src s;
	struct shd_pieces pc;

	pieces_init(&pc, &s, text, len, piece, fail_at);
	return shd_parse_delimited_pieces(a, &pc, "in.csv", o, d);
}

/*
 * The same text read in pieces of every size must give what it gives
 * whole (WANT_RC, A, D): the status, the messages and the rows. D0 is D
 * as it was before (what the caller asked: skip_bad).
 */
static void expect_pieces_agree(const char *text, size_t len,
				const struct shd_parse_opts *o,
				const struct shd_diag *d0,
				const struct shd_diag *d, int want_rc,
				struct shd_acc *a)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 1000 };
	char *whole = want_rc == 0 ? dump(a) : NULL;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct shd_diag dp = *d0;
		struct shd_acc *ap = shd_acc_new();
		int rc = parse_pieces(ap, text, len, sizes[k], SIZE_MAX, o,
				      &dp);

		if (rc != want_rc)
			FAIL_AT("pieces of %zu: rc %d, whole %d; msg '%s'",
				sizes[k], rc, want_rc, dp.msg);
		EXPECT_EQ_STR(dp.msg, d->msg);
		EXPECT_EQ_INT(dp.nbad, d->nbad);
		for (int i = 0; i < SHD_DIAG_KEEP && i < (int)d->nbad; i++)
			EXPECT_EQ_STR(dp.first[i], d->first[i]);
		EXPECT_EQ_INT(shd_acc_rows(ap), shd_acc_rows(a));
		if (whole && rc == 0) {
			char *got = dump(ap);

			EXPECT_EQ_STR(got, whole);
			free(got);
		}
		shd_acc_free(ap);
	}
	free(whole);
}

/* Parses TEXT as "in.csv" with O (may be NULL) and D into a fresh acc;
 * the same in pieces must agree. */
static struct shd_acc *parse(const char *text, const struct shd_parse_opts *o,
			     struct shd_diag *d, int want_rc)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d0 = *d;
	int rc;

	rc = shd_parse_delimited(a, text, strlen(text), "in.csv", o, d);
	if (rc != want_rc)
		FAIL_AT("rc %d, expected %d; msg '%s'", rc, want_rc, d->msg);
	expect_pieces_agree(text, strlen(text), o, &d0, d, rc, a);
	return a;
}

/* Parses TEXT and compares the dump of the result with WANT. */
static void expect_dump(const char *text, const struct shd_parse_opts *o,
			const char *want)
{
	struct shd_diag d = { 0 };
	struct shd_acc *a = parse(text, o, &d, 0);
	char *got = dump(a);

	EXPECT_EQ_STR(got, want);
	EXPECT_EQ_INT(d.nbad, 0);
	free(got);
	shd_acc_free(a);
}

/* Parses TEXT expecting a failure with message WANT. */
static void expect_error(const char *text, const struct shd_parse_opts *o,
			 const char *want)
{
	struct shd_diag d = { 0 };
	struct shd_acc *a = parse(text, o, &d, SHD_EFORMAT);

	EXPECT_EQ_STR(d.msg, want);
	shd_acc_free(a);
}

static void test_nab(void)
{
	struct shd_parse_opts o = { .default_key = "rds_cpu" };

	expect_dump("timestamp,value\n"
		    "2014-02-14 14:30:00,6.456\n"
		    "2014-02-14 14:35:00,5.816\n"
		    "2014-02-14 14:40:00,51.846000000000004\n", &o,
		    "time[ms] resource value\n"
		    "2014-02-14T14:30:00Z rds_cpu 6.456\n"
		    "2014-02-14T14:35:00Z rds_cpu 5.816\n"
		    "2014-02-14T14:40:00Z rds_cpu 51.846000000000004\n");
	/* No default key: "default". No final newline. */
	expect_dump("timestamp,value\n2014-02-14 14:30:00,1", NULL,
		    "time[ms] resource value\n"
		    "2014-02-14T14:30:00Z default 1\n");
}

static void test_bitbrains(void)
{
	struct shd_parse_opts o = { .default_key = "89" };

	expect_dump(
	    "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\t"
	    "CPU usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\t"
	    "Memory usage [KB];\tDisk read throughput [KB/s];\t"
	    "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\t"
	    "Network transmitted throughput [KB/s]\n"
	    "1372629804;\t2;\t5851.998636;\t185.31329014000002;\t"
	    "3.166666666666667;\t6283264.0;\t545257.6;\t76.86666666666667;\t"
	    "312.2;\t0.4666666666666667;\t0.4\n"
	    "1372630104;\t2;\t5851.998636;\t132.645302416;\t2.2666666666666666;\t"
	    "6283264.0;\t415234.13333333336;\t52.599999999999994;\t"
	    "84.93333333333332;\t0.13333333333333333;\t0.06666666666666667\n"
	    "1372630404;\t2;\t5851.998636;\t146.29996590000002;\t2.5;\t"
	    "6283264.0;\t402650.93333333335;\t53.199999999999996;\t"
	    "66.66666666666667;\t0.13333333333333333;\t0.13333333333333333\n",
	    &o,
	    "time[ms] resource cpu_cores cpu_capacity_provisioned[MHZ] "
	    "cpu_usage[MHZ] cpu_usage_2[%] memory_capacity_provisioned[KB] "
	    "memory_usage[KB] disk_read_throughput[KB/s] "
	    "disk_write_throughput[KB/s] network_received_throughput[KB/s] "
	    "network_transmitted_throughput[KB/s]\n"
	    "2013-06-30T22:03:24Z 89 2 5851.998636 185.31329014000002 "
	    "3.166666666666667 6283264 545257.6 76.86666666666667 312.2 "
	    "0.4666666666666667 0.4\n"
	    "2013-06-30T22:08:24Z 89 2 5851.998636 132.645302416 "
	    "2.2666666666666666 6283264 415234.13333333336 52.599999999999994 "
	    "84.93333333333332 0.13333333333333333 0.06666666666666667\n"
	    "2013-06-30T22:13:24Z 89 2 5851.998636 146.29996590000002 2.5 "
	    "6283264 402650.93333333335 53.199999999999996 66.66666666666667 "
	    "0.13333333333333333 0.13333333333333333\n");
}

static void test_keys(void)
{
	/* Keys from a column, in runs and interleaved; a string column. */
	expect_dump("time,host,region,cpu\n"
		    "1000,b,eu-west,1\n"
		    "1000,a,eu-west,2\n"
		    "2000,a,us-east,3\n"
		    "2000,b,eu-west,4\n"
		    "3000,b,eu-west,5\n", NULL,
		    "time[ms] resource cpu\n"
		    "1970-01-01T00:16:40Z a 2\n"
		    "1970-01-01T00:33:20Z a 3\n"
		    "1970-01-01T00:16:40Z b 1\n"
		    "1970-01-01T00:33:20Z b 4\n"
		    "1970-01-01T00:50:00Z b 5\n");
	/* --key-col by raw header text, --time-col by normalized name. */
	{
		struct shd_parse_opts o = { .key_col = "Box Name",
					    .time_col = "when" };

		expect_dump("When;Box Name;Load\n"
			    "2024-01-01T00:05:00Z;x1;0.5\n", &o,
			    "time[ms] resource load\n"
			    "2024-01-01T00:05:00Z x1 0.5\n");
	}
}

static void test_quoted(void)
{
	expect_dump("\"time\",\"name, with comma\",\"v\"\n"
		    "\"2024-01-01 00:05:00\",\"a \"\"b\"\"\",\"1.5\"\n"
		    "2024-01-01 00:10:00 , \"x,y\" , 2 \n", NULL,
		    "time[ms] resource v\n"
		    "2024-01-01T00:05:00Z default 1.5\n"
		    "2024-01-01T00:10:00Z default 2\n");
	/* A quoted key with a comma in it. */
	expect_dump("time,instance,v\n"
		    "0,\"a,b\",1\n"
		    "0,\"say \"\"hi\"\"\",2\n", NULL,
		    "time[ms] resource v\n"
		    "1970-01-01T00:00:00Z a,b 1\n"
		    "1970-01-01T00:00:00Z say \"hi\" 2\n");
}

static void test_crlf_bom_comments(void)
{
	expect_dump("\xEF\xBB\xBF# exported by some tool\r\n"
		    "\r\n"
		    "# another comment\r\n"
		    "timestamp,value\r\n"
		    "2014-02-14 14:30:00,1\r\n"
		    "\r\n"
		    "# comment between rows\r\n"
		    "   \r\n"
		    "2014-02-14 14:35:00,2\r", NULL,
		    "time[ms] resource value\n"
		    "2014-02-14T14:30:00Z default 1\n"
		    "2014-02-14T14:35:00Z default 2\n");
}

static void test_tsv_and_semicolon(void)
{
	expect_dump("ts\tvalue\n1\t 2.5\n", NULL,
		    "time[ms] resource value\n"
		    "1970-01-01T00:00:01Z default 2.5\n");
	/* "3,5" is not a number here: a string column, left out. */
	expect_dump("date;value;cpu\n2024-01-01;3,5;7\n", NULL,
		    "time[ms] resource cpu\n"
		    "2024-01-01T00:00:00Z default 7\n");
}

static void test_names(void)
{
	/* Units, normalization, duplicates, empty names, reserved names. */
	expect_dump("Time,CPU usage [%],cpu-usage (MHz),,  Weird--Name!! ,"
		    "x.y,resource\n"
		    "0,1,2,3,4,5,r\n", NULL,
		    "time[ms] resource cpu_usage[%] cpu_usage_2[MHz] col4 "
		    "weird_name x.y\n"
		    "1970-01-01T00:00:00Z r 1 2 3 4 5\n");
	/* A numeric "time" that is not the time column: time_2. */
	{
		struct shd_parse_opts o = { .time_col = "t" };

		expect_dump("t,time\n5,7\n", &o,
			    "time[ms] resource time_2\n"
			    "1970-01-01T00:00:05Z default 7\n");
	}
}

static void test_nan_and_empty(void)
{
	expect_dump("time,a,b,c\n"
		    "0,1,,NaN\n"
		    "1,NA,null,None\n"
		    "2,nan,3,\n", NULL,
		    "time[ms] resource a b c\n"
		    "1970-01-01T00:00:00Z default 1 nan nan\n"
		    "1970-01-01T00:00:01Z default nan nan nan\n"
		    "1970-01-01T00:00:02Z default nan 3 nan\n");
	/* Header only: metrics registered, no rows. */
	expect_dump("time,a,b\n", NULL, "time[ms] resource a b\n");
}

static void test_renames(void)
{
	static const struct shd_rename ren[] = {
		{ "mem", "Memory usage [KB]" },
		{ "cpu", "cpu_usage" },
	};
	struct shd_parse_opts o = { .renames = ren, .nrenames = 2 };

	expect_dump("time,CPU usage [%],Memory usage [KB],other\n"
		    "0,1,2,3\n", &o,
		    "time[ms] resource mem[KB] cpu[%]\n"
		    "1970-01-01T00:00:00Z default 2 1\n");
	{
		static const struct shd_rename bad[] = { { "x", "nope" } };
		struct shd_parse_opts ob = { .renames = bad, .nrenames = 1 };

		expect_error("time,a\n0,1\n", &ob, "in.csv: no column 'nope'");
	}
}

static void test_start_step(void)
{
	struct shd_parse_opts o = { .has_start = 1, .start = 1000,
				    .step = 300000, .default_key = "g" };

	expect_dump("avg_cpu,avg_mem\n0.5,0.25\n\n0.75,0.5\n0.125,1\n", &o,
		    "time[ms] resource avg_cpu avg_mem\n"
		    "1970-01-01T00:00:01Z g 0.5 0.25\n"
		    "1970-01-01T00:05:01Z g 0.75 0.5\n"
		    "1970-01-01T00:10:01Z g 0.125 1\n");
}

static void test_file_errors(void)
{
	struct shd_parse_opts o = { .key_col = "nope" };

	expect_error("", NULL, "in.csv: no header line");
	expect_error("# only\n\n#comments\n", NULL, "in.csv: no header line");
	expect_error("a,b\n1,2\n", NULL,
		     "in.csv: no time column (hint: name it with --time-col, "
		     "or give --start and --step)");
	expect_error("time,a\n1,2\n", &o, "in.csv: no column 'nope'");
	expect_error("\"time,a\n1,2\n", NULL,
		     "in.csv:1: header: unterminated quoted field");
}

static void test_bad_rows(void)
{
	static const char text[] =
	    "# comment\n"			/* 1 */
	    "time,host,cpu,mem\n"		/* 2 */
	    "2014-02-14 14:30:00,a,1,2\n"	/* 3 */
	    "2014-13-01,a,1,2\n"		/* 4 bad time */
	    "\n"				/* 5 */
	    "2014-02-14 14:35:00,a,1\n"		/* 6 3 fields */
	    "2014-02-14 14:40:00,a,abc,2\n"	/* 7 not a number */
	    "2014-02-14 14:45:00,,1,2\n"	/* 8 empty key */
	    "2014-02-14 14:50:00,\"a,1,2\n"	/* 9 quote */
	    "2014-02-14 14:55:00,a,5,6\n";	/* 10 */
	/* Named metrics, so that "abc" does not make cpu a string column. */
	static const struct shd_rename ren[] = {
		{ "cpu", "cpu" }, { "mem", "mem" },
	};
	struct shd_parse_opts o = { .renames = ren, .nrenames = 2 };
	struct shd_diag d = { 0 };
	struct shd_acc *a;
	char *got;

	/* The first bad row stops the parse. */
	a = parse(text, &o, &d, SHD_EFORMAT);
	EXPECT_EQ_STR(d.msg, "in.csv:4: bad time '2014-13-01'");
	shd_acc_free(a);

	/* With skip_bad, every bad row is counted and the rest is kept. */
	memset(&d, 0, sizeof d);
	d.skip_bad = 1;
	a = parse(text, &o, &d, 0);
	EXPECT_EQ_INT(d.nbad, 5);
	EXPECT_EQ_STR(d.first[0], "in.csv:4: bad time '2014-13-01'");
	EXPECT_EQ_STR(d.first[1], "in.csv:6: 3 fields, expected 4");
	EXPECT_EQ_STR(d.first[2], "in.csv:7: column 'cpu': 'abc' is not a number");
	EXPECT_EQ_STR(d.first[3], "in.csv:8: empty key in column 'host'");
	EXPECT_EQ_STR(d.first[4], "in.csv:9: unterminated quoted field");
	got = dump(a);
	EXPECT_EQ_STR(got, "time[ms] resource cpu mem\n"
			   "2014-02-14T14:30:00Z a 1 2\n"
			   "2014-02-14T14:55:00Z a 5 6\n");
	free(got);
	EXPECT_EQ_INT(shd_acc_rows(a), 2);
	shd_acc_free(a);

	/* More bad rows than are kept; too many fields; text after quote. */
	memset(&d, 0, sizeof d);
	d.skip_bad = 1;
	a = parse("time,v\nx,1\ny,1\nz,1\n0,1,2\n0,\"1\"x\n0,1\n0,\n", NULL,
		  &d, 0);
	EXPECT_EQ_INT(d.nbad, 5);
	EXPECT_EQ_STR(d.first[3], "in.csv:5: 3 fields, expected 2");
	EXPECT_EQ_STR(d.first[4], "in.csv:6: text after a closing quote");
	EXPECT_EQ_INT(shd_acc_rows(a), 2);
	shd_acc_free(a);

	/* A non-number after the first 64 rows is a bad row too. */
	{
		char big[4096];
		size_t n = (size_t)sprintf(big, "time,v\n");

		for (int i = 0; i < 70; i++)
			n += (size_t)sprintf(big + n, "%d,%d\n", i, i);
		sprintf(big + n, "70,oops\n");
		memset(&d, 0, sizeof d);
		a = parse(big, NULL, &d, SHD_EFORMAT);
		EXPECT_EQ_STR(d.msg, "in.csv:72: column 'v': 'oops' is not a number");
		shd_acc_free(a);
	}
}

/* Never reads past LEN: the text continues with garbage after it. */
static void test_length_bound(void)
{
	static const char text[] = "time,v\n0,1\n1,2XXXX";
	struct shd_diag d = { 0 };
	struct shd_acc *a = shd_acc_new();
	char *copy = malloc(sizeof text - 5);
	char *got;

	memcpy(copy, text, sizeof text - 5);	/* no NUL, no XXXX */
	EXPECT_EQ_INT(shd_parse_delimited(a, copy, sizeof text - 5, "in.csv",
					  NULL, &d), 0);
	got = dump(a);
	EXPECT_EQ_STR(got, "time[ms] resource v\n"
			   "1970-01-01T00:00:00Z default 1\n"
			   "1970-01-01T00:00:01Z default 2\n");
	free(got);
	free(copy);
	shd_acc_free(a);
}

/* Two inputs into one accumulator: the metric columns are shared. */
static void test_two_inputs(void)
{
	struct shd_acc *a = shd_acc_new();
	struct shd_diag d = { 0 };
	struct shd_parse_opts o1 = { .default_key = "one" };
	struct shd_parse_opts o2 = { .default_key = "two" };
	static const char t1[] = "time,cpu\n0,1\n";
	static const char t2[] = "time,mem,cpu\n0,5,6\n";
	char *got;

	EXPECT_EQ_INT(shd_parse_delimited(a, t1, strlen(t1), "1", &o1, &d), 0);
	EXPECT_EQ_INT(shd_parse_delimited(a, t2, strlen(t2), "2", &o2, &d), 0);
	got = dump(a);
	EXPECT_EQ_STR(got, "time[ms] resource cpu mem\n"
			   "1970-01-01T00:00:00Z one 1 nan\n"
			   "1970-01-01T00:00:00Z two 6 5\n");
	free(got);
	shd_acc_free(a);
}

/*
 * Fields of every length from 0 to 40 bytes, padded with blanks, so that
 * delimiters fall at every offset of the 8-byte scan; repeated times.
 */
static void test_field_lengths(void)
{
	char *text = malloc(1 << 16), *want = malloc(1 << 16);
	size_t n = 0, k = 0;
	struct shd_diag d = { 0 };
	struct shd_acc *a = shd_acc_new();
	char *got;

	n += (size_t)sprintf(text + n, "time,a,b\n");
	k += (size_t)sprintf(want + k, "time[ms] resource a b\n");
	for (int i = 0; i < 41; i++) {
		/* a: i digits of 1 (or empty); b: 7 after i blanks. */
		n += (size_t)sprintf(text + n, "%d,", i / 4);
		for (int j = 0; j < i && j < 15; j++)
			text[n++] = '1';
		for (int j = 15; j < i; j++)
			text[n++] = ' ';
		n += (size_t)sprintf(text + n, ",%*s7\n", i, "");
		{
			char tb[32], vb[32];
			double v = 0;

			for (int j = 0; j < i && j < 15; j++)
				v = v * 10 + 1;
			shd_time_format((i / 4) * 1000, tb, sizeof tb);
			shd_format_double(i ? v : NAN, vb);
			k += (size_t)sprintf(want + k, "%s default %s 7\n", tb, vb);
		}
	}
	text[n] = '\0';
	EXPECT_EQ_INT(shd_parse_delimited(a, text, n, "in.csv", NULL, &d), 0);
	{
		struct shd_diag d0 = { 0 };

		expect_pieces_agree(text, n, NULL, &d0, &d, 0, a);
	}
	got = dump(a);
	EXPECT_EQ_STR(got, want);
	free(got);
	free(text);
	free(want);
	shd_acc_free(a);
}

/*
 * The one-pass row parser (numbers read a word at a time, times through a
 * per-day cache) must give exactly what shd_parse_double and
 * shd_time_parse give, for every shape of cell, and leave anything odd to
 * the general path. Each value is in the last column, so that some end
 * the buffer with no newline after them.
 */
static void test_fast_path(void)
{
	static const char *const nums[] = {
		"2.50", "259.6", "438.4", "2.2", "0", "-0", "-0.0", "+5", "5.",
		".5", "-.5", "7", "1234567", "12345678", "123456789",
		"1.2345678", "12.345678", "123456.7", "1234567.8", "1234567.",
		"12345678.9", "0.1234567", "0.5833333333333334",
		"68.27332152666668", "9007199254740992", "9007199254740993",
		"90071992547409935", "1234567890123456789",
		"12345678901234567890", "0.000001", "99999999.99999999",
		"00000000000000000001.5", "1e3", "1.5E-3", " 7.25", "7.25 ",
		"\t3.5\t", "NaN", "-nan", "inf", "-Infinity", "", "null", "NA",
		"1.6777216E7", "0.46666666666666673", "3.0000000000000004",
	};
	static const char *const times[] = {
		"2024-01-01 00:00:00", "2024-01-01 00:05:00",
		"2024-01-01 09:45:00", "2024-01-01T10:00:00",
		"2024-01-01t10:00:07", "2024-01-01 19:59:59",
		"2024-01-01 23:59:60", "2024-01-02 00:00:01",
		"2024-01-02 00:00:01", "2024-01-02 00:00:02Z",
		"2024-01-02 00:00:03", "2024-01-02T02:10+01",
		"2024-01-02 01:20:00", "2024-01-02 01:20:00.5",
		"2024-02-29 12:00:00", "2024-02-29 12:00:01",
		" 2024-02-29 12:00:02", "2024-03-01 00:00",
		"2024-03-01 00:00:05", "1709251206", "2024-03-01 00:00:07",
	};
	size_t nn = sizeof nums / sizeof nums[0];
	size_t nt = sizeof times / sizeof times[0];

	for (int crlf = 0; crlf < 2; crlf++) {
		char *text = NULL, *want = NULL;
		size_t tsize = 0, wsize = 0;
		FILE *in = open_memstream(&text, &tsize);
		FILE *out = open_memstream(&want, &wsize);
		const char *eol = crlf ? "\r\n" : "\n";

		/* Numbers: time is the row number in seconds. */
		fprintf(in, "time,host,x%s", eol);
		fprintf(out, "time[ms] resource x\n");
		for (size_t i = 0; i < nn; i++) {
			char tb[32], vb[32];
			const char *v = nums[i];
			size_t len = strlen(v);
			double d;

			fprintf(in, "%zu,h,%s%s", i, v, i + 1 < nn ? eol : "");
			while (len && (*v == ' ' || *v == '\t')) {
				v++;
				len--;
			}
			while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			if (len == 0 || !strcmp(v, "null") || !strcmp(v, "NA"))
				d = NAN;
			else if (shd_parse_double(v, len, &d) != 0)
				FAIL_AT("'%s' does not parse", v);
			if (isnan(d))
				d = NAN;
			shd_time_format((int64_t)i * 1000, tb, sizeof tb);
			shd_format_double(d, vb);
			fprintf(out, "%s h %s\n", tb, vb);
		}
		fclose(in);
		fclose(out);
		expect_dump(text, NULL, want);
		free(text);
		free(want);

		/* Times, in increasing order, the last at the buffer's end. */
		text = want = NULL;
		in = open_memstream(&text, &tsize);
		out = open_memstream(&want, &wsize);
		fprintf(in, "time;host;x%s", eol);
		fprintf(out, "time[ms] resource x\n");
		for (size_t i = 0; i < nt; i++) {
			char tb[32];
			int64_t ms = 0;

			fprintf(in, "%s;h;%zu%s", times[i], i,
				i + 1 < nt ? eol : "");
			if (shd_time_parse(times[i], strlen(times[i]), &ms))
				FAIL_AT("'%s' does not parse", times[i]);
			shd_time_format(ms, tb, sizeof tb);
			fprintf(out, "%s h %zu\n", tb, i);
		}
		fclose(in);
		fclose(out);
		expect_dump(text, NULL, want);
		free(text);
		free(want);
	}
	/* A bad clock after a good one of the same day is still bad. */
	expect_error("time,v\n2024-01-01 10:00:00,1\n2024-01-01 24:00:00,2\n",
		     NULL, "in.csv:3: bad time '2024-01-01 24:00:00'");
	expect_error("time,v\n2024-01-01 10:00:00,1\n2024-01-01 10:60:00,2\n",
		     NULL, "in.csv:3: bad time '2024-01-01 10:60:00'");
	expect_error("time,v\n2024-01-01 10:00:00,1\n2024-01-01 10:00:61,2\n",
		     NULL, "in.csv:3: bad time '2024-01-01 10:00:61'");
	/* Field counts, and a number glued to text. */
	expect_error("time,v\n2024-01-01 10:00:00,1,2\n", NULL,
		     "in.csv:2: 3 fields, expected 2");
	expect_error("time,v,w\n2024-01-01 10:00:00,1\n", NULL,
		     "in.csv:2: 2 fields, expected 3");
	expect_error("time,v\n1,2\n2,3.5x\n", NULL,
		     "in.csv:3: column 'v': '3.5x' is not a number");
	expect_error("time,v\n1,2\n2,1.2.3\n", NULL,
		     "in.csv:3: column 'v': '1.2.3' is not a number");
}

/*
 * In pieces: a read error names the line where reading stopped and wins
 * over what the cut text would say; a line of SHD_LINE_MAX bytes across
 * many pieces is read, and two bytes more (one is a CR's room) refused,
 * as whole.
 */
static void test_pieces(void)
{
	static const char text[] = "time,v\n0,1\n1,2\n2,3\n";
	struct shd_diag d = { 0 };
	struct shd_acc *a = shd_acc_new();
	char *big = malloc(SHD_LINE_MAX + 64);

	EXPECT_EQ_INT(parse_pieces(a, text, strlen(text), 4, 13, NULL, &d),
		      SHD_EIO);
	EXPECT_EQ_STR(d.msg, "in.csv:3: cannot read: Input/output error");
	shd_acc_free(a);

	/* the header, then a row of SHD_LINE_MAX bytes (then two more) */
	for (size_t extra = 0; extra < 2; extra++) {
		size_t k = (size_t)sprintf(big, "time,v\n0,");
		size_t digits = SHD_LINE_MAX - 2 + 2 * extra;
		struct shd_diag dp = { 0 };
		struct shd_acc *ap = shd_acc_new();
		int whole;

		memset(big + k, '0', digits - 1);
		big[k + digits - 1] = '5';
		k += digits;
		big[k++] = '\n';
		memset(&d, 0, sizeof d);
		a = shd_acc_new();
		whole = shd_parse_delimited(a, big, k, "in.csv", NULL, &d);
		EXPECT_EQ_INT(whole, (extra ? SHD_EFORMAT : 0));
		EXPECT_EQ_INT(parse_pieces(ap, big, k, 4093, SIZE_MAX, NULL,
					   &dp), whole);
		EXPECT_EQ_STR(dp.msg, d.msg);
		EXPECT_EQ_INT(shd_acc_rows(ap), (extra ? 0 : 1));
		shd_acc_free(a);
		shd_acc_free(ap);
	}
	free(big);
}

static const struct harness_case cases[] = {
	TEST(test_pieces),
	TEST(test_fast_path),
	TEST(test_field_lengths),
	TEST(test_nab),
	TEST(test_bitbrains),
	TEST(test_keys),
	TEST(test_quoted),
	TEST(test_crlf_bom_comments),
	TEST(test_tsv_and_semicolon),
	TEST(test_names),
	TEST(test_nan_and_empty),
	TEST(test_renames),
	TEST(test_start_step),
	TEST(test_file_errors),
	TEST(test_bad_rows),
	TEST(test_length_bound),
	TEST(test_two_inputs),
};

int main(void)
{
	return RUN_TESTS(cases);
}
