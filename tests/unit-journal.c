/*
 * unit-journal.c - the state directory (lib/journal.c): records written
 * and read back with every field and with the optional ones left out, a
 * last line cut short by a crash (reported, skipped, then repaired by the
 * next run), bad lines, the lock and its message (held in this process
 * and by a child), cancellation requests and the signal to the run they
 * name, and last_change; the hash chain: links and seals as written,
 * each kind of tampering named at its line (edited, deleted, inserted,
 * reordered, bad or missing hmac), a legacy prefix, a torn line then an
 * append, and sealing again.
 */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shd.h"
#include "config.h"
#include "journal.h"
#include "sign.h"

/* SHA-256 of the empty string: the "prev" of a new journal's first line */
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char tmpdir[] = "/tmp/shd-unit-journal-XXXXXX";
static int ncase;

/* A fresh state directory name for each test (not yet created). */
static const char *new_dir(char *buf, size_t n)
{
	snprintf(buf, n, "%s/s%d", tmpdir, ++ncase);
	return buf;
}

static void rec(struct shd_jrec *r, const char *event, const char *plan,
		long action, const char *res, int knob, double from, double to)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->event, sizeof(r->event), "%s", event);
	snprintf(r->plan, sizeof(r->plan), "%s", plan);
	r->action = action;
	snprintf(r->resource, sizeof(r->resource), "%s", res);
	r->knob = knob;
	r->from = from;
	r->to = to;
}

/* The whole of DIR/NAME as a string (static buffer). */
static const char *file_text(const char *dir, const char *name)
{
	static char buf[8192];
	char path[512];
	long got = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		got = shd_read_full(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[got > 0 ? got : 0] = '\0';
	return buf;
}

/* Appends raw bytes S to DIR/journal, as a crash or an editor would. */
static void raw_append(const char *dir, const char *s)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/journal", dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || shd_write_all(fd, s, strlen(s)) != 0)
		FAIL_AT("cannot append to %s", path);
	if (fd >= 0)
		close(fd);
}

/* Drops the last byte of DIR/journal (its '\n'), as a crash might. */
static void chop_newline(const char *dir)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/journal", dir);
	if (stat(path, &sb) != 0 || sb.st_size < 1 ||
	    truncate(path, sb.st_size - 1) != 0)
		FAIL_AT("cannot chop %s", path);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_roundtrip(void)
{
	char dir[256], err[512] = "";
	struct shd_state *st = NULL;
	struct shd_jrec r[3], *got = NULL;
	size_t n = 0;
	int torn = -1;
	int64_t t0, t1;

	EXPECT_EQ_INT(shd_state_open(&st, new_dir(dir, sizeof(dir)), 1,
				     "plan-1", err, sizeof(err)), 0);
	rec(&r[0], "intent", "plan-1", 3, "web", SHD_KNOB_CPU, 0.3, 1.5);
	r[0].time = 1795000000123;	/* 2026-11-18T11:06:40.123Z */
	snprintf(r[0].executor, sizeof(r[0].executor), "kubectl");
	r[0].detail = "said \"ok\"\nthen\tleft \xc3\xa9";
	rec(&r[1], "done", "plan-1", 3, "web", SHD_KNOB_MEMORY, 536870912,
	    INFINITY);
	r[1].time = 1795000000000;
	rec(&r[2], "failed", "plan-1", 4, "db", SHD_KNOB_REPLICAS, 2, 3);
	r[2].detail = "bad \xff byte";	/* a program's stderr */
	t0 = now_ms();
	for (int i = 0; i < 3; i++)
		EXPECT_EQ_INT(shd_journal_append(st, &r[i], err, sizeof(err)),
			      0);
	t1 = now_ms();
	shd_state_close(st);

	/* The text people read: compact, fixed ms, short numbers. */
	EXPECT(strstr(file_text(dir, "journal"),
		      "{\"time\":\"2026-11-18T11:06:40.123Z\",\"event\":"
		      "\"intent\",\"plan\":\"plan-1\",\"action\":3,"
		      "\"resource\":\"web\",\"knob\":\"cpu\",\"from\":0.3,"
		      "\"to\":1.5,\"executor\":\"kubectl\",\"detail\":"
		      "\"said \\\"ok\\\"\\nthen\\tleft \xc3\xa9\","
		      "\"prev\":\"" EMPTY_SHA256 "\"}\n") ==
	       file_text(dir, "journal"));
	EXPECT(strstr(file_text(dir, "journal"),
		      "\"time\":\"2026-11-18T11:06:40.000Z\""));
	EXPECT(strstr(file_text(dir, "journal"),
		      "\"from\":536870912,\"to\":\"inf\""));

	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, &torn, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, 3);
	EXPECT_EQ_INT(torn, 0);
	if (n != 3)
		goto out;
	EXPECT_EQ_INT(got[0].time, 1795000000123);
	EXPECT_EQ_STR(got[0].event, "intent");
	EXPECT_EQ_STR(got[0].plan, "plan-1");
	EXPECT_EQ_INT(got[0].action, 3);
	EXPECT_EQ_STR(got[0].resource, "web");
	EXPECT_EQ_INT(got[0].knob, SHD_KNOB_CPU);
	EXPECT_SAME_DOUBLE(got[0].from, 0.3);
	EXPECT_SAME_DOUBLE(got[0].to, 1.5);
	EXPECT_EQ_STR(got[0].executor, "kubectl");
	EXPECT_EQ_STR(got[0].detail, r[0].detail);
	EXPECT_EQ_INT(got[1].time, 1795000000000);
	EXPECT_EQ_INT(got[1].knob, SHD_KNOB_MEMORY);
	EXPECT_SAME_DOUBLE(got[1].from, 536870912);
	EXPECT_SAME_DOUBLE(got[1].to, INFINITY);
	EXPECT(got[1].detail == NULL);
	/* time 0 is now */
	EXPECT(got[2].time >= t0 && got[2].time <= t1);
	EXPECT_EQ_STR(got[2].detail, "bad ? byte");
	EXPECT_EQ_STR(got[2].executor, "");
out:
	shd_jrec_free(got, n);
}

/* Digits enough to read back, and no more. */
static void test_numbers(void)
{
	static const double v[] = { 0.1, 1.0 / 3, 2.5e-7, 1e300, -0.0, -4,
				    9007199254740993.0, 0.75 };
	char dir[256], err[512] = "";
	struct shd_state *st = NULL;
	struct shd_jrec r, *got = NULL;
	size_t n = 0, nv = sizeof(v) / sizeof(v[0]);

	EXPECT_EQ_INT(shd_state_open(&st, new_dir(dir, sizeof(dir)), 1,
				     "p", err, sizeof(err)), 0);
	for (size_t i = 0; i < nv; i++) {
		rec(&r, "done", "p", (long)i, "web", SHD_KNOB_CPU, v[i],
		    -v[i]);
		r.time = 1;
		EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	}
	shd_state_close(st);
	EXPECT(strstr(file_text(dir, "journal"), "\"from\":0.1,"));
	EXPECT(strstr(file_text(dir, "journal"), "\"from\":0.75,"));
	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, NULL, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, nv);
	for (size_t i = 0; i < n && i < nv; i++) {
		EXPECT_SAME_DOUBLE(got[i].from, v[i]);
		EXPECT_SAME_DOUBLE(got[i].to, -v[i]);
		EXPECT_EQ_INT(got[i].time, 1);
	}
	shd_jrec_free(got, n);
}

static void test_optional_omitted(void)
{
	char dir[256], err[512] = "";
	struct shd_state *st = NULL;
	struct shd_jrec r, *got = NULL;
	size_t n = 0;
	const char *text;

	EXPECT_EQ_INT(shd_state_open(&st, new_dir(dir, sizeof(dir)), 1,
				     "p2", err, sizeof(err)), 0);
	rec(&r, "cancelled", "p2", -1, "", -1, NAN, NAN);
	r.time = 1795000000000;
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	shd_state_close(st);
	text = file_text(dir, "journal");
	EXPECT_EQ_STR(text, "{\"time\":\"2026-11-18T11:06:40.000Z\","
		      "\"event\":\"cancelled\",\"plan\":\"p2\",\"action\":-1,"
		      "\"prev\":\"" EMPTY_SHA256 "\"}\n");
	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, NULL, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, 1);
	if (n == 1) {
		EXPECT_EQ_INT(got[0].action, -1);
		EXPECT_EQ_INT(got[0].knob, -1);
		EXPECT(isnan(got[0].from) && isnan(got[0].to));
		EXPECT(got[0].detail == NULL);
		EXPECT_EQ_STR(got[0].resource, "");
	}
	shd_jrec_free(got, n);
}

static void test_refused_records(void)
{
	char dir[256], err[512] = "";
	struct shd_state *st = NULL;
	struct shd_jrec r;

	EXPECT_EQ_INT(shd_state_open(&st, new_dir(dir, sizeof(dir)), 1,
				     "p", err, sizeof(err)), 0);
	/* Records the loader would refuse are not written. */
	rec(&r, "finished", "p", 0, "web", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)),
		      SHD_EINVAL);
	rec(&r, "done", "p", 0, "web", SHD_NKNOB, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)),
		      SHD_EINVAL);
	rec(&r, "done", "p", 0, "w\xff", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)),
		      SHD_EINVAL);
	rec(&r, "done", "p", 0, "web", -1, NAN, NAN);
	r.time = INT64_C(253402300800000);	/* year 10000 */
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)),
		      SHD_EINVAL);
	r.time = -1;
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)),
		      SHD_EINVAL);
	shd_state_close(st);
	EXPECT_EQ_STR(file_text(dir, "journal"), "");
}

static void test_missing_journal(void)
{
	char dir[256], err[512] = "";
	struct shd_jrec *got = (void *)1;
	size_t n = 9;
	int torn = 9;

	EXPECT_EQ_INT(shd_journal_load(new_dir(dir, sizeof(dir)), &got, &n,
				       &torn, err, sizeof(err)), 0);
	EXPECT_EQ_INT(n, 0);
	EXPECT_EQ_INT(torn, 0);
	EXPECT(got == NULL);
}

#define LINE(ev, act) "{\"time\":\"2026-11-18T08:26:40.000Z\",\"event\":\"" \
		      ev "\",\"plan\":\"p\",\"action\":" #act "}"

static void test_torn(void)
{
	char dir[256], err[512] = "";
	struct shd_state *st = NULL;
	struct shd_jrec r, *got = NULL;
	size_t n = 0;
	int torn = 0;

	new_dir(dir, sizeof(dir));
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err, sizeof(err)), 0);
	shd_state_close(st);
	raw_append(dir, LINE("intent", 0) "\n" LINE("done", 0) "\n"
		   "{\"time\":\"2026-11-18T08:2");
	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, &torn, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, 2);
	EXPECT_EQ_INT(torn, 1);
	shd_jrec_free(got, n);

	/* The next run drops the half line before writing its own. */
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err, sizeof(err)), 0);
	rec(&r, "intent", "p", 1, "web", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	shd_state_close(st);
	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, &torn, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, 3);
	EXPECT_EQ_INT(torn, 0);
	if (n == 3)
		EXPECT_EQ_INT(got[2].action, 1);
	shd_jrec_free(got, n);

	/*
	 * A whole record that lost only its newline is kept, and ended: a
	 * chained one, as a legacy line after the chain is an insertion.
	 */
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err, sizeof(err)), 0);
	rec(&r, "done", "p", 1, "web", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	shd_state_close(st);
	chop_newline(dir);
	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, &torn, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, 4);
	EXPECT_EQ_INT(torn, 0);
	shd_jrec_free(got, n);
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err, sizeof(err)), 0);
	rec(&r, "intent", "p", 2, "web", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	shd_state_close(st);
	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, &torn, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(n, 5);
	if (n == 5) {
		EXPECT_EQ_STR(got[3].event, "done");
		EXPECT_EQ_INT(got[4].action, 2);
	}
	shd_jrec_free(got, n);
}

/* Loads DIR and expects SHD_EFORMAT with WANT (after DIR/) in the text. */
static void expect_bad(const char *dir, const char *want)
{
	char err[512] = "", full[512];
	struct shd_jrec *got = NULL;
	size_t n = 0;

	EXPECT_EQ_INT(shd_journal_load(dir, &got, &n, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	snprintf(full, sizeof(full), "%s/%s", dir, want);
	if (strncmp(err, full, strlen(full)) != 0)
		FAIL_AT("message \"%s\", expected it to start \"%s\"", err,
			full);
	EXPECT(got == NULL && n == 0);
}

static void test_bad_lines(void)
{
	static const struct {
		const char *line, *want;
	} bad[] = {
		{ "{\"time\":", "journal:2: not JSON" },
		{ "[1]", "journal:2: not a JSON object" },
		{ LINE("finished", 0), "journal:2: unknown event 'finished'" },
		{ LINE("done", "3"), "journal:2: \"action\" is not an index" },
		{ LINE("done", -2), "journal:2: \"action\" is not an index" },
		{ "{\"event\":\"done\",\"plan\":\"p\",\"action\":1}",
		  "journal:2: no \"time\"" },
		{ "{\"time\":\"yesterday\",\"event\":\"done\",\"plan\":\"p\","
		  "\"action\":1}", "journal:2: bad time 'yesterday'" },
		{ "{\"time\":\"2026-11-18T08:26:40.000Z\",\"event\":\"done\","
		  "\"plan\":\"p\",\"action\":1,\"knob\":\"disk\"}",
		  "journal:2: unknown knob 'disk'" },
		{ "{\"time\":\"2026-11-18T08:26:40.000Z\",\"event\":\"done\","
		  "\"plan\":\"p\",\"action\":1,\"from\":\"1\"}",
		  "journal:2: \"from\" is not a number" },
		{ "{\"time\":\"2026-11-18T08:26:40.000Z\",\"event\":\"done\","
		  "\"plan\":\"p\",\"action\":1,\"colour\":1}",
		  "journal:2: unknown key \"colour\"" },
		{ "{\"time\":\"2026-11-18T08:26:40.000Z\",\"event\":\"done\","
		  "\"plan\":\"p\",\"action\":1,\"detail\":7}",
		  "journal:2: \"detail\" is not a string" },
		{ "", "journal:2: not JSON" },
		/* read back only in the years the writer can write */
		{ "{\"time\":\"10000-01-01T00:00:00Z\",\"event\":\"done\","
		  "\"plan\":\"p\",\"action\":1}", "journal:2: bad time" },
		{ "{\"time\":\"-99999999999999\",\"event\":\"done\","
		  "\"plan\":\"p\",\"action\":1}", "journal:2: bad time" },
	};
	char dir[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		new_dir(dir, sizeof(dir));
		mkdir(dir, 0700);
		raw_append(dir, LINE("intent", 0) "\n");
		raw_append(dir, bad[i].line);
		raw_append(dir, "\n" LINE("done", 0) "\n");
		expect_bad(dir, bad[i].want);
	}
	/* Even a complete last line is checked: only a torn one is let go. */
	new_dir(dir, sizeof(dir));
	mkdir(dir, 0700);
	raw_append(dir, LINE("intent", 0) "\n" LINE("finished", 0));
	expect_bad(dir, "journal:2: unknown event");
}

static void test_lock(void)
{
	char dir[256], err[512] = "", want[600];
	struct shd_state *a = NULL, *b = NULL;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/deep/er/state%d", tmpdir, ++ncase);
	EXPECT_EQ_INT(shd_state_open(&a, dir, 1, "plan-A", err, sizeof(err)),
		      0);
	EXPECT(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	snprintf(want, sizeof(want), "%ld plan-A\n", (long)getpid());
	EXPECT_EQ_STR(file_text(dir, "lock"), want);

	/*
	 * flock belongs to the open file description, so a second open in
	 * this process conflicts as another process would.
	 */
	EXPECT_EQ_INT(shd_state_open(&b, dir, 1, "plan-B", err, sizeof(err)),
		      SHD_EIO);
	EXPECT(b == NULL);
	snprintf(want, sizeof(want), "%s/lock is held by pid %ld (plan plan-A)",
		 dir, (long)getpid());
	EXPECT_EQ_STR(err, want);
	/* Without the lock: reading is always possible. */
	EXPECT_EQ_INT(shd_state_open(&b, dir, 0, NULL, err, sizeof(err)), 0);
	shd_state_close(b);
	b = NULL;

	shd_state_close(a);
	EXPECT_EQ_STR(file_text(dir, "lock"), "");
	EXPECT_EQ_INT(shd_state_open(&b, dir, 1, "plan-B", err, sizeof(err)),
		      0);
	shd_state_close(b);

	EXPECT_EQ_INT(shd_state_open(&b, dir, 1, "bad/plan", err, sizeof(err)),
		      SHD_EINVAL);
	/* A file where a directory should be. */
	snprintf(dir, sizeof(dir), "%s/deep/er/state%d/lock/sub", tmpdir,
		 ncase);
	EXPECT_EQ_INT(shd_state_open(&b, dir, 1, "p", err, sizeof(err)),
		      SHD_EIO);
	EXPECT(strstr(err, "cannot create directory"));
}

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term++;
}

static void test_cancel(void)
{
	char dir[256], err[512] = "", path[512];
	struct shd_state *st = NULL;
	struct sigaction sa, old;
	struct stat sb;

	new_dir(dir, sizeof(dir));
	/* Nobody running: the request is only recorded. */
	EXPECT_EQ_INT(shd_state_cancel(dir, "plan-X", err, sizeof(err)), 1);
	snprintf(path, sizeof(path), "%s/cancel/plan-X", dir);
	EXPECT(stat(path, &sb) == 0);
	EXPECT_EQ_INT(shd_state_cancel(dir, "../x", err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_INT(shd_state_cancel(dir, "", err, sizeof(err)),
		      SHD_EINVAL);

	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "plan-Y", err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(shd_state_cancelled(st, "plan-X"), 1);
	EXPECT_EQ_INT(shd_state_cancelled(st, "plan-Y"), 0);
	EXPECT_EQ_INT(shd_state_cancelled(st, "../cancel/plan-X"), 0);

	/* A run of another plan holds the lock: not signalled. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old);
	got_term = 0;
	EXPECT_EQ_INT(shd_state_cancel(dir, "plan-Z", err, sizeof(err)), 1);
	EXPECT_EQ_INT(got_term, 0);
	EXPECT_EQ_INT(shd_state_cancelled(st, "plan-Z"), 1);

	/* The holder is applying plan-Y (this process): SIGTERM. */
	EXPECT_EQ_INT(shd_state_cancel(dir, "plan-Y", err, sizeof(err)), 0);
	EXPECT_EQ_INT(got_term, 1);
	EXPECT_EQ_INT(shd_state_cancelled(st, "plan-Y"), 1);
	shd_state_close(st);

	/* Lock released: recorded only. */
	EXPECT_EQ_INT(shd_state_cancel(dir, "plan-Y", err, sizeof(err)), 1);
	EXPECT_EQ_INT(got_term, 1);
	sigaction(SIGTERM, &old, NULL);
}

/* Another process holds the lock: named in the message, and cancelled. */
static void test_cancel_other_process(void)
{
	char dir[256], err[512] = "", want[600], c;
	struct shd_state *st = NULL;
	int fds[2], status = 0;
	pid_t pid;

	new_dir(dir, sizeof(dir));
	if (pipe(fds) != 0) {
		FAIL_AT("pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		alarm(10);	/* never outlive a broken test */
		if (shd_state_open(&st, dir, 1, "plan-C", err, sizeof(err)))
			_exit(1);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &c, 1) != 1) {
		FAIL_AT("the child did not take the lock");
		close(fds[0]);
		return;
	}
	close(fds[0]);
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "plan-D", err, sizeof(err)),
		      SHD_EIO);
	snprintf(want, sizeof(want), "%s/lock is held by pid %ld (plan plan-C)",
		 dir, (long)pid);
	EXPECT_EQ_STR(err, want);
	EXPECT_EQ_INT(shd_state_cancel(dir, "plan-C", err, sizeof(err)), 0);
	EXPECT_EQ_INT(waitpid(pid, &status, 0), pid);
	EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	/* Its lock went with it. */
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "plan-D", err, sizeof(err)),
		      0);
	shd_state_close(st);
}

static void test_last_change(void)
{
	struct shd_jrec r[7];

	rec(&r[0], "done", "a", 0, "web", SHD_KNOB_CPU, 1, 2);
	rec(&r[1], "done", "a", 1, "web", SHD_KNOB_MEMORY, 1, 2);
	rec(&r[2], "done", "b", 0, "web", SHD_KNOB_CPU, 2, 3);
	rec(&r[3], "failed", "c", 0, "web", SHD_KNOB_CPU, 3, 4);
	rec(&r[4], "intent", "d", 0, "web", SHD_KNOB_CPU, 3, 5);
	rec(&r[5], "done", "d", 1, "db", SHD_KNOB_CPU, 1, 9);
	rec(&r[6], "skipped", "b", 0, "web", SHD_KNOB_CPU, 2, 3);
	for (int i = 0; i < 7; i++)
		r[i].time = 1000 * (i + 1);
	EXPECT(shd_journal_last_change(r, 7, "web", SHD_KNOB_CPU) == &r[2]);
	EXPECT(shd_journal_last_change(r, 7, "web", SHD_KNOB_MEMORY) == &r[1]);
	EXPECT(shd_journal_last_change(r, 7, "db", SHD_KNOB_CPU) == &r[5]);
	EXPECT(shd_journal_last_change(r, 7, "web", SHD_KNOB_REPLICAS) ==
	       NULL);
	EXPECT(shd_journal_last_change(r, 7, "we", SHD_KNOB_CPU) == NULL);
	EXPECT(shd_journal_last_change(r, 0, "web", SHD_KNOB_CPU) == NULL);
}

/* ------------------------------------------------------------- chain */

#define MAXL 16

/* The lines of DIR/journal, each with its '\n', into L; how many. */
static int get_lines(const char *dir, char l[MAXL][1024])
{
	const char *t = file_text(dir, "journal");
	int n = 0;

	while (*t && n < MAXL) {
		size_t k = strcspn(t, "\n");

		if (k + 2 > sizeof(l[0]))
			FAIL_AT("line too long");
		snprintf(l[n++], sizeof(l[0]), "%.*s%s", (int)k, t,
			 t[k] ? "\n" : "");
		t += k + (t[k] != '\0');
	}
	return n;
}

/* DIR/journal made of L[0..N) (each line's text as it is). */
static void put_lines(const char *dir, char (*l)[1024], int n)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	for (int i = 0; i < n; i++)
		raw_append(dir, l[i]);
}

static const unsigned char key1[] = "the key of the plan signer";
static const unsigned char key2[] = "another key";
#define K1 key1, sizeof(key1) - 1
#define K2 key2, sizeof(key2) - 1

/* A fresh DIR with N records appended, sealed with KEY when not NULL. */
static void chained(char *dir, size_t dn, int n, const unsigned char *key,
		    size_t klen)
{
	struct shd_state *st = NULL;
	struct shd_jrec r;
	char err[512] = "";

	EXPECT_EQ_INT(shd_state_open(&st, new_dir(dir, dn), 1, "p", err,
				     sizeof(err)), 0);
	if (!st)
		return;
	shd_state_set_key(st, key, klen);
	for (int i = 0; i < n; i++) {
		rec(&r, i % 2 ? "done" : "intent", "p", i / 2, "web",
		    SHD_KNOB_REPLICAS, 2 + i / 2, 3 + i / 2);
		r.time = 1795000000000 + i;
		EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	}
	shd_state_close(st);
}

/* Reading DIR (with KEY) fails with SHD_EFORMAT, "DIR/WANT..." in ERR. */
static void expect_broken(const char *dir, const unsigned char *key,
			  size_t klen, const char *want)
{
	char err[512] = "", full[512];
	struct shd_jinfo info;
	struct shd_jrec *got = NULL;
	size_t n = 0;

	EXPECT_EQ_INT(shd_journal_read(dir, key, klen, &got, &n, &info, err,
				       sizeof(err)), SHD_EFORMAT);
	snprintf(full, sizeof(full), "%s/%s", dir, want);
	if (strncmp(err, full, strlen(full)) != 0)
		FAIL_AT("message \"%s\", expected it to start \"%s\"", err,
			full);
	EXPECT(got == NULL && n == 0);
}

/* Reading DIR (with KEY) succeeds with N records. */
static void expect_intact(const char *dir, const unsigned char *key,
			  size_t klen, size_t n, struct shd_jinfo *info)
{
	char err[512] = "";

	EXPECT_EQ_INT(shd_journal_read(dir, key, klen, NULL, NULL, info, err,
				       sizeof(err)), 0);
	if (err[0])
		FAIL_AT("%s", err);
	EXPECT_EQ_INT(info->nrec, n);
}

/* Each line's "prev" is the SHA-256 of the line before, '\n' and all. */
static void test_chain_links(void)
{
	char dir[256], l[MAXL][1024], h[65], want[80];
	struct shd_jinfo info;
	int n;

	chained(dir, sizeof(dir), 4, NULL, 0);
	n = get_lines(dir, l);
	EXPECT_EQ_INT(n, 4);
	EXPECT(strstr(l[0], ",\"prev\":\"" EMPTY_SHA256 "\"}\n") != NULL);
	for (int i = 1; i < n; i++) {
		shd_sha256_hex(l[i - 1], strlen(l[i - 1]), h);
		snprintf(want, sizeof(want), ",\"prev\":\"%s\"}\n", h);
		EXPECT(strstr(l[i], want) != NULL);
		EXPECT(strstr(l[i], "hmac") == NULL);
	}
	expect_intact(dir, NULL, 0, 4, &info);
	EXPECT_EQ_INT(info.legacy, 0);
	EXPECT_EQ_INT(info.sealed, 0);
	EXPECT_EQ_INT(info.torn, 0);
	shd_sha256_hex(l[3], strlen(l[3]), h);
	EXPECT_EQ_STR(info.head, h);
	/* a key asks for seals these records have not */
	expect_broken(dir, K1, "journal:1: unsealed: no \"hmac\"");

	/* sealed: "hmac" last, the HMAC of the line without it */
	chained(dir, sizeof(dir), 3, K1);
	n = get_lines(dir, l);
	EXPECT_EQ_INT(n, 3);
	for (int i = 0; i < n; i++) {
		char *m = strstr(l[i], ",\"hmac\":\"");
		size_t bl;

		EXPECT(m != NULL && strlen(m) == 76);
		if (!m)
			continue;
		bl = (size_t)(m - l[i]);
		memcpy(want, m + 9, 64);
		want[64] = '\0';
		l[i][bl] = '}';
		EXPECT_EQ_INT(shd_hmac_hex(key1, sizeof(key1) - 1, l[i],
					   bl + 1, h), 0);
		EXPECT_EQ_STR(h, want);
	}
	expect_intact(dir, K1, 3, &info);
	EXPECT_EQ_INT(info.sealed, 3);
	/* without the key, the chain still is checked; the seals not */
	expect_intact(dir, NULL, 0, 3, &info);
	expect_broken(dir, K2, "journal:1: bad hmac: the record was edited");
}

/* A byte of line A changed from X to Y. */
static void edit_byte(char l[MAXL][1024], int a, const char *x,
		      const char *y)
{
	char *p = strstr(l[a], x);

	if (!p || strlen(x) != strlen(y))
		FAIL_AT("no '%s' in line %d", x, a + 1);
	else
		memcpy(p, y, strlen(y));
}

static void test_tamper(void)
{
	char dir[256], l[MAXL][1024], m[MAXL][1024];
	struct shd_jinfo info;
	int n;

	/* without a key: the chain alone */
	chained(dir, sizeof(dir), 5, NULL, 0);
	n = get_lines(dir, l);
	EXPECT_EQ_INT(n, 5);

	memcpy(m, l, sizeof(m));			/* edited */
	edit_byte(m, 1, "\"to\":3", "\"to\":9");
	put_lines(dir, m, 5);
	expect_broken(dir, NULL, 0, "journal:3: edited: \"prev\" is not the "
		      "SHA-256 of line 2: line 2 was edited");
	memcpy(m, l, sizeof(m));			/* its own "prev" */
	{
		char *p = strstr(m[2], "\"prev\":\"") + 8;

		*p = *p == '0' ? '1' : '0';
	}
	put_lines(dir, m, 5);
	expect_broken(dir, NULL, 0, "journal:3: edited");
	{						/* deleted */
		char d[MAXL][1024];

		memcpy(d[0], l[0], sizeof(d[0]));
		memcpy(d[1], l[1], sizeof(d[0]));
		memcpy(d[2], l[3], sizeof(d[0]));
		memcpy(d[3], l[4], sizeof(d[0]));
		put_lines(dir, d, 4);
		expect_broken(dir, NULL, 0, "journal:3: edited");
		/* the first line gone */
		put_lines(dir, l + 1, 4);
		expect_broken(dir, NULL, 0, "journal:1: deleted: \"prev\" is "
			      "not the SHA-256 of an empty journal");
		/* a copy of line 2 inserted after it */
		memcpy(d[0], l[0], sizeof(d[0]));
		memcpy(d[1], l[1], sizeof(d[0]));
		memcpy(d[2], l[1], sizeof(d[0]));
		memcpy(d[3], l[2], sizeof(d[0]));
		put_lines(dir, d, 4);
		expect_broken(dir, NULL, 0, "journal:2: inserted: line 3 is "
			      "chained to line 1");
		/* a line without "prev" inserted */
		snprintf(d[2], sizeof(d[2]), "%s\n", LINE("done", 7));
		put_lines(dir, d, 4);
		expect_broken(dir, NULL, 0, "journal:3: inserted: no \"prev\", "
			      "but the chain began at line 1");
		/* lines 3 and 4 swapped */
		memcpy(d[2], l[3], sizeof(d[0]));
		memcpy(d[3], l[2], sizeof(d[0]));
		memcpy(d[4], l[4], sizeof(d[0]));
		put_lines(dir, d, 5);
		expect_broken(dir, NULL, 0, "journal:3: reordered: \"prev\" is "
			      "the SHA-256 of line 4");
	}
	/*
	 * What a chain without a key cannot see: the last line edited, or
	 * the last lines removed (--verify-journal's head is the anchor).
	 */
	memcpy(m, l, sizeof(m));
	edit_byte(m, 4, "\"to\":5", "\"to\":7");
	put_lines(dir, m, 5);
	expect_intact(dir, NULL, 0, 5, &info);
	put_lines(dir, l, 3);
	expect_intact(dir, NULL, 0, 3, &info);

	/* with a key: the edited line itself, and deletions as such */
	chained(dir, sizeof(dir), 5, K1);
	n = get_lines(dir, l);
	EXPECT_EQ_INT(n, 5);
	memcpy(m, l, sizeof(m));
	edit_byte(m, 1, "\"to\":3", "\"to\":9");
	put_lines(dir, m, 5);
	expect_broken(dir, K1, "journal:2: bad hmac: the record was edited");
	memcpy(m, l, sizeof(m));
	edit_byte(m, 4, "\"to\":5", "\"to\":7");	/* the last line too */
	put_lines(dir, m, 5);
	expect_broken(dir, K1, "journal:5: bad hmac");
	memcpy(m, l, sizeof(m));
	memcpy(m[2], l[3], sizeof(m[0]));
	memcpy(m[3], l[4], sizeof(m[0]));
	put_lines(dir, m, 4);
	expect_broken(dir, K1, "journal:3: deleted: \"prev\" is not the "
		      "SHA-256 of line 2: records after it were removed");
	/* the hmac where the writer never puts it: not checked, refused */
	memcpy(m, l, sizeof(m));
	strcpy(m[1] + strlen(m[1]) - 2, " }\n");
	put_lines(dir, m, 5);
	expect_broken(dir, K1, "journal:2: bad hmac: \"hmac\" is not the last "
		      "member");
	/* a record appended without the key */
	put_lines(dir, l, 5);
	{
		struct shd_state *st = NULL;
		struct shd_jrec r;
		char err[512] = "";

		EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err,
					     sizeof(err)), 0);
		rec(&r, "done", "p", 9, "web", -1, NAN, NAN);
		EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
		shd_state_close(st);
	}
	expect_broken(dir, K1, "journal:6: unsealed: no \"hmac\"");
	expect_intact(dir, NULL, 0, 6, &info);
	EXPECT_EQ_INT(info.sealed, 5);
	/* bad chain members are bad lines */
	memcpy(m, l, sizeof(m));
	edit_byte(m, 0, "\"prev\":\"e", "\"prev\":\"E");
	put_lines(dir, m, 5);
	expect_broken(dir, NULL, 0, "journal:1: \"prev\" is not a SHA-256");
}

/* Records of an older shd-apply, then chained ones. */
static void test_legacy_prefix(void)
{
	char dir[256], l[MAXL][1024], h[65], want[80], *t;
	struct shd_state *st = NULL;
	struct shd_jrec r, *got = NULL;
	struct shd_jinfo info;
	char err[512] = "";
	size_t n = 0;

	new_dir(dir, sizeof(dir));
	mkdir(dir, 0700);
	raw_append(dir, LINE("intent", 0) "\n" LINE("done", 0) "\n");
	expect_intact(dir, NULL, 0, 2, &info);
	EXPECT_EQ_INT(info.legacy, 2);
	t = (char *)file_text(dir, "journal");
	shd_sha256_hex(t, strlen(t), h);
	EXPECT_EQ_STR(info.head, h);	/* all of it */
	expect_broken(dir, K1, "journal:1: unsealed: no \"prev\"");

	/* the first chained record covers the whole prefix */
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err, sizeof(err)), 0);
	rec(&r, "intent", "p", 1, "web", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	shd_state_close(st);
	EXPECT_EQ_INT(get_lines(dir, l), 4);
	snprintf(want, sizeof(want), ",\"prev\":\"%s\"}\n", h);
	EXPECT(strstr(l[2], want) != NULL);
	EXPECT_EQ_INT(shd_journal_read(dir, NULL, 0, &got, &n, &info, err,
				       sizeof(err)), 0);
	EXPECT_EQ_INT(n, 4);
	EXPECT_EQ_INT(info.legacy, 2);
	shd_jrec_free(got, n);

	/* so an edit of it is seen */
	edit_byte(l, 0, "\"action\":0", "\"action\":5");
	put_lines(dir, l, 4);
	expect_broken(dir, NULL, 0, "journal:3: edited or deleted: \"prev\" is "
		      "not the SHA-256 of lines 1 to 2");
}

/* A line cut short, then the next run appends: chained to the last whole. */
static void test_torn_chain(void)
{
	char dir[256], l[MAXL][1024], h[65], want[80];
	struct shd_state *st = NULL;
	struct shd_jrec r;
	struct shd_jinfo info;
	char err[512] = "";

	chained(dir, sizeof(dir), 2, K1);
	raw_append(dir, "{\"time\":\"2026-11-18T08:2");
	expect_intact(dir, K1, 2, &info);
	EXPECT_EQ_INT(info.torn, 1);
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, "p", err, sizeof(err)), 0);
	shd_state_set_key(st, K1);
	rec(&r, "done", "p", 5, "web", -1, NAN, NAN);
	EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	shd_state_close(st);
	EXPECT_EQ_INT(get_lines(dir, l), 3);
	shd_sha256_hex(l[1], strlen(l[1]), h);
	snprintf(want, sizeof(want), "\"prev\":\"%s\"", h);
	EXPECT(strstr(l[2], want) != NULL);
	expect_intact(dir, K1, 3, &info);
	EXPECT_EQ_INT(info.torn, 0);
}

/* Sealing again: a legacy or edited journal becomes one chain. */
static void test_seal(void)
{
	char dir[256], l[MAXL][1024], old[8192], path[512];
	struct shd_state *st = NULL;
	struct shd_jinfo info;
	char err[512] = "";
	size_t n = 9;

	/* nothing to seal */
	EXPECT_EQ_INT(shd_state_open(&st, new_dir(dir, sizeof(dir)), 1, NULL,
				     err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_journal_seal(st, &n, err, sizeof(err)), 1);
	EXPECT_EQ_INT(n, 0);
	shd_state_close(st);
	snprintf(path, sizeof(path), "%s/journal", dir);
	EXPECT(access(path, F_OK) != 0);

	/* an edited chain, a legacy line in it, a torn tail */
	chained(dir, sizeof(dir), 3, NULL, 0);
	get_lines(dir, l);
	edit_byte(l, 0, "\"to\":3", "\"to\":4");
	snprintf(l[3], sizeof(l[3]), "%s\n", LINE("done", 7));
	put_lines(dir, l, 4);
	raw_append(dir, "{\"ti");
	snprintf(old, sizeof(old), "%s", file_text(dir, "journal"));
	expect_broken(dir, NULL, 0, "journal:2: edited");

	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	shd_state_set_key(st, K1);
	EXPECT_EQ_INT(shd_journal_seal(st, &n, err, sizeof(err)), 0);
	EXPECT_EQ_INT(n, 4);
	/* appends after it go to the new file, chained */
	{
		struct shd_jrec r;

		rec(&r, "done", "p", 8, "web", -1, NAN, NAN);
		EXPECT_EQ_INT(shd_journal_append(st, &r, err, sizeof(err)), 0);
	}
	shd_state_close(st);
	expect_intact(dir, K1, 5, &info);
	EXPECT_EQ_INT(info.legacy, 0);
	EXPECT_EQ_INT(info.sealed, 5);
	EXPECT(strstr(file_text(dir, "journal"), "\"to\":4,") != NULL);
	EXPECT_EQ_STR(file_text(dir, "journal.old"), old);
	snprintf(path, sizeof(path), "%s/journal.tmp", dir);
	EXPECT(access(path, F_OK) != 0);

	/* journal.old is never replaced */
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_journal_seal(st, &n, err, sizeof(err)), SHD_EIO);
	EXPECT(strstr(err, "journal.old' exists") != NULL);
	shd_state_close(st);
	EXPECT(access(path, F_OK) != 0);
	expect_intact(dir, K1, 5, &info);

	/* a bad line is not sealed over */
	snprintf(path, sizeof(path), "%s/journal.old", dir);
	unlink(path);
	raw_append(dir, "[1]\n");
	EXPECT_EQ_INT(shd_state_open(&st, dir, 1, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_journal_seal(st, &n, err, sizeof(err)),
		      SHD_EFORMAT);
	shd_state_close(st);
	EXPECT(access(path, F_OK) != 0);
}

static const struct harness_case cases[] = {
	TEST(test_roundtrip),
	TEST(test_numbers),
	TEST(test_optional_omitted),
	TEST(test_refused_records),
	TEST(test_missing_journal),
	TEST(test_torn),
	TEST(test_bad_lines),
	TEST(test_lock),
	TEST(test_cancel),
	TEST(test_cancel_other_process),
	TEST(test_last_change),
	TEST(test_chain_links),
	TEST(test_tamper),
	TEST(test_legacy_prefix),
	TEST(test_torn_chain),
	TEST(test_seal),
};

int main(void)
{
	char cmd[128];
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	rc = RUN_TESTS(cases);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", tmpdir);
	return rc;
}
