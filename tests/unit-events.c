/*
 * unit-events.c - known events (lib/events.c): lines parsed (a header,
 * comments, blank lines, CRLF, a description, "*" and empty for every
 * resource, shd-sync's \u00XX escapes), sorted by time; bad lines named
 * with their number; the lookup in [t0, t1) by resource; a file read from
 * disk, and the lines shd_sync_events_append writes read back.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#include <jansson.h>

#include "events.h"
#include "shd.h"
#include "sync.h"

#define T0 1704067200000LL	/* 2024-01-01T00:00:00Z */
#define MIN 60000LL

static int parse(struct shd_events *e, const char *text, char *err,
		 size_t n)
{
	shd_events_init(e);
	err[0] = '\0';
	return shd_events_parse(e, text, strlen(text), "ev.csv", err, n);
}

static void test_lines(void)
{
	const char *text =
		"time,resource,key,from,to\n"
		"# deploys of the week\n"
		"\n"
		"   \t\n"
		"2024-01-01T00:10:00Z,web,replicas.max,12,16\n"
		"2024-01-01T00:05:00Z,*,cooldown,\"10m\",\"5m\"\r\n"
		"1704067500,db\r\n"
		"2024-01-01T00:01:00Z\n"
		"2024-01-01T00:02:00Z,,a description\n"
		"2024-01-01T00:20:00Z,a\\u002cb\\u005cc,k,1,2\n"
		"2024-01-01T00:30:00Z,x\\u00zz\\u0000y";	/* no end of line */
	struct shd_events e;
	char err[256];

	EXPECT_EQ_INT(parse(&e, text, err, sizeof(err)), 0);
	EXPECT_EQ_STR(err, "");
	EXPECT_EQ_INT(e.n, 7);
	EXPECT(e.sorted);
	/* in time order */
	for (size_t i = 1; i < e.n; i++)
		EXPECT(e.ev[i - 1].t <= e.ev[i].t);
	EXPECT_EQ_INT(e.ev[0].t, T0 + 1 * MIN);
	EXPECT(e.ev[0].resource == NULL);	/* no resource: every one */
	EXPECT_EQ_INT(e.ev[1].t, T0 + 2 * MIN);
	EXPECT(e.ev[1].resource == NULL);	/* empty: every one */
	EXPECT_EQ_INT(e.ev[2].t, T0 + 5 * MIN);
	/* "*" is every resource; the "\r" of "\r\n" is not the value's */
	EXPECT(e.ev[2].resource == NULL || e.ev[3].resource == NULL);
	EXPECT_EQ_INT(e.ev[3].t, T0 + 5 * MIN);	/* Unix seconds */
	EXPECT_EQ_INT(e.ev[4].t, T0 + 10 * MIN);
	EXPECT_EQ_STR(e.ev[4].resource, "web");
	EXPECT_EQ_STR(e.ev[5].resource, "a,b\\c");	/* escapes undone */
	/* not escapes: as they are */
	EXPECT_EQ_STR(e.ev[6].resource, "x\\u00zz\\u0000y");
	EXPECT_EQ_INT(shd_events_count(&e, "web"), 4);	/* 3 fleet-wide */
	EXPECT_EQ_INT(shd_events_count(&e, "db"), 4);
	EXPECT_EQ_INT(shd_events_count(&e, "nosuch"), 3);
	EXPECT_EQ_INT(shd_events_count(&e, NULL), 7);
	shd_events_release(&e);

	/* nothing at all, or only comments */
	EXPECT_EQ_INT(parse(&e, "", err, sizeof(err)), 0);
	EXPECT_EQ_INT(e.n, 0);
	shd_events_release(&e);
	EXPECT_EQ_INT(parse(&e, "# none\n\n", err, sizeof(err)), 0);
	EXPECT_EQ_INT(e.n, 0);
	shd_events_release(&e);
}

static void test_bad_lines(void)
{
	struct shd_events e;
	char err[256], *big;

	/* a header is only a first line */
	EXPECT_EQ_INT(parse(&e, "2024-01-01,web\nwhen,web\n", err,
			    sizeof(err)), SHD_EFORMAT);
	EXPECT_EQ_STR(err, "ev.csv:2: 'when' is not a time");
	EXPECT_EQ_INT(e.n, 1);	/* the lines before */
	shd_events_release(&e);
	/* a comment or a blank first line is line 1 */
	EXPECT_EQ_INT(parse(&e, "# x\ntime,resource\n", err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT_EQ_STR(err, "ev.csv:2: 'time' is not a time");
	shd_events_release(&e);
	/* a NUL byte */
	shd_events_init(&e);
	EXPECT_EQ_INT(shd_events_parse(&e, "2024-01-01\n2024\0-01\n", 20,
				       "ev.csv", err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT_EQ_STR(err, "ev.csv:2: a NUL byte (not a text file)");
	shd_events_release(&e);
	/* a line of SHD_EVENTS_LINE_MAX bytes is taken, one more is not */
	big = malloc(SHD_EVENTS_LINE_MAX + 3);
	EXPECT(big != NULL);
	if (!big)
		return;
	memset(big, 'x', SHD_EVENTS_LINE_MAX + 2);
	memcpy(big, "2024-01-01,", 11);
	big[SHD_EVENTS_LINE_MAX] = '\n';
	big[SHD_EVENTS_LINE_MAX + 1] = '\0';
	EXPECT_EQ_INT(parse(&e, big, err, sizeof(err)), 0);
	EXPECT_EQ_INT(e.n, 1);
	shd_events_release(&e);
	big[SHD_EVENTS_LINE_MAX] = 'x';
	big[SHD_EVENTS_LINE_MAX + 1] = '\n';
	big[SHD_EVENTS_LINE_MAX + 2] = '\0';
	EXPECT_EQ_INT(parse(&e, big, err, sizeof(err)), SHD_EFORMAT);
	EXPECT_EQ_STR(err, "ev.csv:1: line too long");
	shd_events_release(&e);
	free(big);
}

static void test_any(void)
{
	struct shd_events e;

	shd_events_init(&e);
	EXPECT_EQ_INT(shd_events_any(&e, "web", 0, INT64_MAX), 0);
	EXPECT_EQ_INT(shd_events_add(&e, T0 + 30 * MIN, "web"), 0);
	EXPECT_EQ_INT(shd_events_add(&e, T0 + 10 * MIN, "db"), 0);
	EXPECT_EQ_INT(shd_events_add(&e, T0 + 50 * MIN, "*"), 0);
	EXPECT_EQ_INT(shd_events_add(&e, T0 + 40 * MIN, ""), 0);
	EXPECT_EQ_INT(shd_events_add(&e, T0 + 20 * MIN, NULL), 0);
	EXPECT(!e.sorted);
	shd_events_sort(&e);
	EXPECT(e.sorted);
	EXPECT_EQ_INT(e.ev[0].t, T0 + 10 * MIN);
	EXPECT_EQ_INT(e.ev[4].t, T0 + 50 * MIN);
	/* [t0, t1): the start in, the end out */
	EXPECT_EQ_INT(shd_events_any(&e, "db", T0 + 10 * MIN,
				     T0 + 11 * MIN), 1);
	EXPECT_EQ_INT(shd_events_any(&e, "db", T0 + 9 * MIN,
				     T0 + 10 * MIN), 0);
	EXPECT_EQ_INT(shd_events_any(&e, "db", T0 + 10 * MIN + 1,
				     T0 + 20 * MIN), 0);
	/* another resource's event is not web's; fleet-wide ones are */
	EXPECT_EQ_INT(shd_events_any(&e, "web", T0, T0 + 20 * MIN), 0);
	EXPECT_EQ_INT(shd_events_any(&e, "web", T0, T0 + 20 * MIN + 1), 1);
	EXPECT_EQ_INT(shd_events_any(&e, "web", T0 + 29 * MIN,
				     T0 + 31 * MIN), 1);
	EXPECT_EQ_INT(shd_events_any(&e, "db", T0 + 25 * MIN,
				     T0 + 35 * MIN), 0);
	EXPECT_EQ_INT(shd_events_any(&e, "db", T0 + 35 * MIN,
				     T0 + 45 * MIN), 1);
	/* RES NULL: any event */
	EXPECT_EQ_INT(shd_events_any(&e, NULL, T0 + 25 * MIN,
				     T0 + 35 * MIN), 1);
	EXPECT_EQ_INT(shd_events_any(&e, NULL, T0 + 51 * MIN, INT64_MAX), 0);
	/* an empty span */
	EXPECT_EQ_INT(shd_events_any(&e, "web", T0 + 30 * MIN,
				     T0 + 30 * MIN), 0);
	shd_events_release(&e);
	EXPECT_EQ_INT(e.n, 0);
}

static json_t *jparse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (!j)
		FAIL_AT("bad JSON in the test: %s", je.text);
	return j;
}

/* What shd-sync --events appends, read back: the resources as named. */
static void test_sync_lines(void)
{
	char dir[] = "/tmp/unit-events-XXXXXX", path[64], err[256];
	json_t *o = jparse("{\"defaults\": {\"cooldown\": \"10m\"}, "
			   "\"resources\": {\"a,b\\\\c\": {\"cpu\": "
			   "{\"max\": 2}}, \"web\": {\"cpu\": {\"max\": 2}}}}");
	json_t *n = jparse("{\"defaults\": {\"cooldown\": \"5m\"}, "
			   "\"resources\": {\"a,b\\\\c\": {\"cpu\": "
			   "{\"max\": 4}}, \"db\": {\"cpu\": {\"max\": 1}}}}");
	struct shd_sync s;
	struct shd_events e;

	shd_sync_init(&s);
	shd_events_init(&e);
	if (!mkdtemp(dir) || !o || !n) {
		FAIL_AT("setup");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ev", dir);
	/* missing: SHD_EIO, errno kept */
	EXPECT_EQ_INT(shd_events_load(&e, path, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_INT(errno, ENOENT);
	EXPECT(strstr(err, "ev: No such file") != NULL);

	EXPECT_EQ_INT(shd_sync_diff(&s, o, n), 0);
	EXPECT_EQ_INT(s.n, 4);	/* cooldown, a,b\c cpu.max, db, web */
	EXPECT_EQ_INT(shd_sync_events_append(path, &s, T0 + 60 * MIN, err,
					     sizeof(err)), 0);
	EXPECT_EQ_INT(shd_sync_events_append(path, &s, T0, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(shd_events_load(&e, path, err, sizeof(err)), 0);
	EXPECT_EQ_INT(e.n, 8);
	/* sorted: the second sync's (earlier) first */
	EXPECT_EQ_INT(e.ev[0].t, T0);
	EXPECT_EQ_INT(e.ev[7].t, T0 + 60 * MIN);
	EXPECT_EQ_INT(shd_events_count(&e, "a,b\\c"), 4);
	EXPECT_EQ_INT(shd_events_count(&e, "db"), 4);
	EXPECT_EQ_INT(shd_events_count(&e, "web"), 4);
	EXPECT_EQ_INT(shd_events_count(&e, "other"), 2);	/* cooldown */
	EXPECT_EQ_INT(shd_events_any(&e, "a,b\\c", T0 + 1, T0 + 60 * MIN + 1),
		      1);
	EXPECT_EQ_INT(shd_events_any(&e, "other", T0 + 1, T0 + 60 * MIN), 0);
	unlink(path);
	rmdir(dir);
out:
	shd_events_release(&e);
	shd_sync_release(&s);
	json_decref(o);
	json_decref(n);
}

static const struct harness_case cases[] = {
	TEST(test_lines),
	TEST(test_bad_lines),
	TEST(test_any),
	TEST(test_sync_lines),
};

int main(void)
{
	return RUN_TESTS(cases);
}
