/*
 * shd-apply - apply a plan of shd-plan: show it, wait the grace period
 * (cancellable), optionally ask, then change each target through its
 * executor, with every step in the journal of the state directory.
 * Re-running a plan is a no-op; --rollback undoes one; --cancel stops one
 * from another shell. The journal is a hash chain (sealed with --key):
 * --verify-journal checks it, --seal-journal writes it chained again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "drift.h"
#include "exec.h"
#include "journal.h"
#include "plan.h"
#include "shd.h"
#include "sign.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-apply -c CONFIG [options] PLAN\n"
"       shd-apply -c CONFIG [options] --rollback PLAN_ID\n"
"       shd-apply [--state DIR] --cancel PLAN_ID\n"
"       shd-apply [--state DIR] [--key FILE] --verify-journal\n"
"       shd-apply [--state DIR] [--key FILE] --seal-journal\n"
"Apply a plan of shd-plan after a grace period in which it can be\n"
"cancelled; record every step in the journal. '-' reads the plan from\n"
"standard input.\n"
"\n"
"  -c, --config FILE      the fleet configuration (shd-config(5)): the\n"
"                         executors of the plan's resources\n"
"  -g, --grace DURATION   wait before acting (default 90s; 0: none)\n"
"      --confirm          after the grace period, ask for a typed 'yes'\n"
"                         on the terminal\n"
"      --confirm-timeout DURATION\n"
"                         how long to wait for it (default 60s; no answer:\n"
"                         no change)\n"
"  -n, --dry-run          print what each executor would run or write;\n"
"                         change nothing, write no journal\n"
"      --key FILE         the plan must be signed with this key\n"
"                         (HMAC-SHA256; mode 0600 file); the journal's\n"
"                         records must be, and are, sealed with it\n"
"      --state DIR        the state directory (journal, lock); default\n"
"                         $SHD_STATE, else $XDG_STATE_HOME/shd\n"
"      --rollback PLAN_ID apply the inverse of that plan's applied actions\n"
"      --cancel PLAN_ID   cancel that plan: a run waiting on it stops, a\n"
"                         later run refuses it\n"
"      --verify-journal   check the journal's hash chain (and, with --key,\n"
"                         its seals): 0 intact, 3 broken (the line named)\n"
"      --seal-journal     write the journal chained (and sealed) again,\n"
"                         after review; the old one stays as journal.old\n"
"      --now TIME         the time the journal records (replays of\n"
"                         history; default the clock's)\n"
"  -q, --quiet            no table and no countdown\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit status: 0 applied, already applied, or cancelled; 2 usage; 3 bad\n"
"plan, configuration or signature, a name refused, or a journal whose\n"
"chain is broken; 4 an executor failed or another run holds the state\n"
"directory.\n");
	exit(status);
}

enum { OPT_CONFIRM = 256, OPT_CONFIRM_TIMEOUT, OPT_KEY, OPT_STATE,
       OPT_ROLLBACK, OPT_CANCEL, OPT_NOW, OPT_VERIFY, OPT_SEAL };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "grace", required_argument, NULL, 'g' },
	{ "confirm", no_argument, NULL, OPT_CONFIRM },
	{ "confirm-timeout", required_argument, NULL, OPT_CONFIRM_TIMEOUT },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "rollback", required_argument, NULL, OPT_ROLLBACK },
	{ "cancel", required_argument, NULL, OPT_CANCEL },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "verify-journal", no_argument, NULL, OPT_VERIFY },
	{ "seal-journal", no_argument, NULL, OPT_SEAL },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	const char *config, *plan, *key, *state, *rollback, *cancel;
	const unsigned char *kbuf;	/* --key's bytes, NULL without */
	size_t klen;
	int64_t grace_ms, confirm_ms;
	int confirm, dry_run, quiet, verify, seal;
};

static volatile sig_atomic_t stop_sig;

/* --now: the time the journal records (0: the clock's) */
static int64_t record_time;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ------------------------------------------------------------ journal */

static void record(struct shd_state *st, const char *event, const char *plan,
		   long i, const struct shd_action *a, const char *exec,
		   const char *detail)
{
	struct shd_jrec r;
	char err[512];

	memset(&r, 0, sizeof(r));
	r.time = record_time;
	snprintf(r.event, sizeof(r.event), "%s", event);
	snprintf(r.plan, sizeof(r.plan), "%s", plan);
	r.action = i;
	r.knob = a ? a->knob : -1;
	r.from = a ? a->from : NAN;
	r.to = a ? a->to : NAN;
	if (a)
		snprintf(r.resource, sizeof(r.resource), "%s", a->resource);
	snprintf(r.executor, sizeof(r.executor), "%s", exec ? exec : "");
	r.detail = (char *)detail;
	/* Without the journal, nothing may change: stop here. */
	if (shd_journal_append(st, &r, err, sizeof(err)))
		cli_die(EXIT_SYSTEM, "%s", err);
}

/*
 * Reads the journal, checking its chain (and seals, with --key), or dies:
 * nothing is sized or done from a history that may have been edited.
 * WARN: say what is odd about it (once a run).
 */
static void journal_read(const struct opts *o, struct shd_jrec **j,
			 size_t *nj, int warn)
{
	struct shd_jinfo info;
	char err[1024];
	int rc;

	rc = shd_journal_read(o->state, o->kbuf, o->klen, j, nj, &info, err,
			      sizeof(err));
	if (rc == SHD_EFORMAT)
		cli_die(EXIT_BADINPUT, "%s\nhint: nothing is done on a journal "
			"that may have been edited: after review, move it "
			"aside, or seal it again with --seal-journal (see "
			"shd-apply(1), The journal)", err);
	if (rc)
		cli_die(cli_status(rc), "%s", err);
	if (warn && info.torn)
		cli_warn("%s/journal: the last line was cut short (a crash "
			 "while writing it); it is left out", o->state);
	if (warn && info.sealed && !o->kbuf)
		cli_warn("%s/journal: its records are sealed; give --key to "
			 "check them (this run's records are not sealed, and a "
			 "run with --key refuses them)", o->state);
}

/* The last record of (PLAN, action I), or NULL. */
static const struct shd_jrec *status_of(const struct shd_jrec *j, size_t nj,
					const char *plan, long i)
{
	for (size_t k = nj; k-- > 0;)
		if (j[k].action == i && strcmp(j[k].plan, plan) == 0)
			return &j[k];
	return NULL;
}

/* Intents with no result after them: a run died in between. */
static void report_interrupted(struct shd_state *st, const struct shd_jrec *j,
			       size_t nj)
{
	for (size_t k = 0; k < nj; k++) {
		const struct shd_jrec *last;
		struct shd_action a = { 0 };

		if (strcmp(j[k].event, "intent") != 0)
			continue;
		last = status_of(j, nj, j[k].plan, j[k].action);
		if (last != &j[k])
			continue;
		cli_warn("plan %s, action %ld (%s %s -> %g) was interrupted: "
			 "begun, never finished; its target may or may not "
			 "have changed (re-running the plan sets it again)",
			 j[k].plan, j[k].action, j[k].resource,
			 j[k].knob >= 0 ? shd_knob_name[j[k].knob] : "?",
			 j[k].to);
		snprintf(a.resource, sizeof(a.resource), "%s", j[k].resource);
		a.knob = j[k].knob;
		a.from = j[k].from;
		a.to = j[k].to;
		record(st, "interrupted", j[k].plan, j[k].action, &a,
		       j[k].executor, "an intent with no result: the run "
		       "that began it stopped");
	}
}

static int plan_cancelled(const struct shd_jrec *j, size_t nj,
			  const char *plan)
{
	for (size_t k = 0; k < nj; k++)
		if (!strcmp(j[k].event, "cancelled") &&
		    !strcmp(j[k].plan, plan))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ showing */

static void table(const char *id, const struct shd_action *a, size_t n,
		  const struct shd_config *c)
{
	char f[32], t[32];

	fprintf(stderr, "%s: plan %s: %zu change%s\n", cli_prog, id, n,
		n == 1 ? "" : "s");
	fprintf(stderr, "  %-20s %-9s %10s    %-10s %-9s %s\n", "RESOURCE",
		"KNOB", "FROM", "TO", "SEVERITY", "VIA");
	for (size_t i = 0; i < n; i++) {
		const struct shd_resource_conf *r =
			shd_config_find(c, a[i].resource);

		fprintf(stderr, "  %-20s %-9s %10s -> %-10s %-9s %s\n",
			a[i].resource, shd_knob_name[a[i].knob],
			shd_knob_format(a[i].knob, a[i].from, f, sizeof(f)),
			shd_knob_format(a[i].knob, a[i].to, t, sizeof(t)),
			shd_severity_name(a[i].severity),
			r ? shd_exec_name[r->exec.type] : "?");
		if (a[i].reason[0])
			fprintf(stderr, "      %s\n", a[i].reason);
	}
}

/*
 * The grace period: 0 when it ran out, else what stopped it (the signal
 * number, or -1 for a cancel request).
 */
static int grace(const struct opts *o, struct shd_state *st, const char *id)
{
	int tty = isatty(STDERR_FILENO) && !o->quiet;
	int64_t left = o->grace_ms;
	int shown = -1;

	if (left > 0 && !o->quiet)
		fprintf(stderr, "%s: applying in %.0f s; Ctrl-C or "
			"'shd-apply --cancel %s' stops it\n", cli_prog,
			(double)left / 1000, id);
	while (left > 0) {
		struct timespec ts = { 0, 200 * 1000000L };
		int s = (int)((left + 999) / 1000);

		if (stop_sig)
			break;
		if (shd_state_cancelled(st, id))
			return -1;
		if (tty && s != shown) {
			fprintf(stderr, "\r  %d s ", s);
			shown = s;
		}
		if (left < 200)
			ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
		left -= ts.tv_nsec / 1000000L;
	}
	if (tty && shown >= 0)
		fputs("\r        \r", stderr);
	if (stop_sig)
		return stop_sig;
	return shd_state_cancelled(st, id) ? -1 : 0;
}

/* Asks on the terminal: 1 for a typed "yes" in time. */
static int confirmed(const struct opts *o, int fd, const char *id, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char line[64] = "", q[160];
	int64_t left = o->confirm_ms;
	size_t got = 0;

	snprintf(q, sizeof(q), "apply %zu change%s of plan %s? type yes "
		 "(%.0f s): ", n, n == 1 ? "" : "s", id,
		 (double)left / 1000);
	if (write(fd, q, strlen(q)) < 0)
		return 0;
	while (left > 0 && !stop_sig && got < sizeof(line) - 1) {
		int t = left > 200 ? 200 : (int)left, r = poll(&p, 1, t);
		long k;

		left -= t;
		if (r <= 0)
			continue;
		k = read(fd, line + got, 1);
		if (k <= 0)
			break;
		if (line[got] == '\n')
			break;
		got++;
	}
	line[got] = 0;
	if (left <= 0 && write(fd, "\n", 1) < 0)
		return 0;
	return strcmp(line, "yes") == 0;
}

/* ----------------------------------------------------------- applying */

/* The inverse of plan ID's applied actions, newest first. */
static struct shd_action *inverse(const struct shd_jrec *j, size_t nj,
				  const char *id, size_t *n)
{
	struct shd_action *v = NULL;

	*n = 0;
	for (size_t k = nj; k-- > 0;) {
		struct shd_action *a;

		if (strcmp(j[k].event, "done") || strcmp(j[k].plan, id))
			continue;
		if (!(a = realloc(v, (*n + 1) * sizeof(*v))))
			cli_die(EXIT_SYSTEM, "out of memory");
		v = a;
		a = &v[(*n)++];
		memset(a, 0, sizeof(*a));
		snprintf(a->resource, sizeof(a->resource), "%s",
			 j[k].resource);
		a->knob = j[k].knob;
		a->from = j[k].to;
		a->to = j[k].from;
		a->severity = SHD_SEV_INFO;
		snprintf(a->reason, sizeof(a->reason), "rollback of plan %s, "
			 "action %ld", id, j[k].action);
	}
	return v;
}

/* Every action names a resource of the configuration with that knob. */
static void check_actions(const struct shd_action *a, size_t n,
			  const struct shd_config *c, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		const struct shd_resource_conf *r;
		const struct shd_knob_conf *kc;
		char f[32], t[32];

		if (!shd_name_ok(a[i].resource))
			cli_die(EXIT_BADINPUT, "%s: action %zu: '%s' is not a "
				"valid resource name", what, i,
				a[i].resource);
		r = shd_config_find(c, a[i].resource);
		if (!r)
			cli_die(EXIT_BADINPUT, "%s: action %zu: resource '%s' "
				"is not in %s", what, i, a[i].resource,
				c->path);
		kc = &r->knob[a[i].knob];
		if (!kc->set)
			cli_die(EXIT_BADINPUT, "%s: action %zu: %s has no %s "
				"in %s", what, i, a[i].resource,
				shd_knob_name[a[i].knob], c->path);
		/* a plan never takes a knob past the configuration's rails,
		 * whoever wrote it */
		if (a[i].to < kc->min || a[i].to > kc->max ||
		    fabs(a[i].to - a[i].from) > kc->max_step * (1 + 1e-12))
			cli_die(EXIT_BADINPUT, "%s: action %zu: %s %s %s -> %s "
				"is outside the bounds or the largest step of "
				"%s", what, i, a[i].resource,
				shd_knob_name[a[i].knob],
				shd_knob_format(a[i].knob, a[i].from, f,
						sizeof(f)),
				shd_knob_format(a[i].knob, a[i].to, t,
						sizeof(t)), c->path);
	}
}

static int dry_run(const struct shd_action *a, size_t n,
		   const struct shd_config *c, const char *id)
{
	struct shd_exec_opts eo = { .dry_run = 1, .log = stdout };
	char err[1024];
	int status = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		const struct shd_resource_conf *r =
			shd_config_find(c, a[i].resource);
		struct shd_change ch = {
			a[i].resource, a[i].knob, a[i].from, a[i].to, id,
			shd_severity_name(a[i].severity)
		};
		int rc = shd_exec_apply(r, &ch, &eo, err, sizeof(err));

		if (rc) {
			cli_warn("%s %s: %s", a[i].resource,
				 shd_knob_name[a[i].knob], err);
			status = rc == SHD_EINVAL || rc == SHD_EFORMAT
				 ? EXIT_BADINPUT : EXIT_SYSTEM;
		}
	}
	return status;
}

static int run(const struct opts *o, const struct shd_config *c,
	       const char *id, const struct shd_action *a, size_t n)
{
	struct shd_state *st = NULL;
	struct shd_jrec *j = NULL;
	struct shd_exec_opts eo = { 0 };
	size_t nj = 0, todo = 0, done = 0;
	int rc, why, tty = -1;
	char err[1024];

	catch_signals();
	if (shd_state_open(&st, o->state, 1, id, err, sizeof(err)) != 0)
		cli_die(EXIT_SYSTEM, "%s", err);
	shd_state_set_key(st, o->kbuf, o->klen);
	journal_read(o, &j, &nj, 1);
	report_interrupted(st, j, nj);

	if (plan_cancelled(j, nj, id) || shd_state_cancelled(st, id)) {
		if (!o->quiet)
			fprintf(stderr, "%s: plan %s was cancelled; nothing to "
				"do\n", cli_prog, id);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct shd_jrec *s = status_of(j, nj, id, (long)i);

		todo += !s || strcmp(s->event, "done") != 0;
	}
	if (!todo) {
		if (!o->quiet)
			fprintf(stderr, "%s: plan %s: %s\n", cli_prog, id,
				n ? "already applied; nothing to do"
				  : "no actions");
		goto out;
	}
	if (!o->quiet)
		table(id, a, n, c);
	if (o->confirm &&
	    (tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		cli_die(EXIT_USAGE, "--confirm needs a terminal: /dev/tty:");
	why = grace(o, st, id);
	if (!why && o->confirm && !confirmed(o, tty, id, todo))
		why = -2;
	if (why) {
		const char *d = why == -1 ? "cancelled by shd-apply --cancel"
				: why == -2 ? "not confirmed"
				: why == SIGINT ? "cancelled by SIGINT"
				: why == SIGTERM ? "cancelled by SIGTERM"
				: "cancelled by SIGHUP";

		record(st, "cancelled", id, -1, NULL, NULL, d);
		fprintf(stderr, "%s: plan %s: %s; nothing changed\n",
			cli_prog, id, d);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct shd_resource_conf *r =
			shd_config_find(c, a[i].resource);
		const struct shd_jrec *s = status_of(j, nj, id, (long)i);
		const char *ex = shd_exec_name[r->exec.type];
		struct shd_change ch = {
			a[i].resource, a[i].knob, a[i].from, a[i].to, id,
			shd_severity_name(a[i].severity)
		};
		char f[32], t[32];

		if (s && !strcmp(s->event, "done"))
			continue;
		if (stop_sig) {
			char d[96];

			snprintf(d, sizeof(d), "stopped by signal %d after %zu "
				 "of %zu changes", (int)stop_sig, done, todo);
			record(st, "cancelled", id, -1, NULL, NULL, d);
			fprintf(stderr, "%s: plan %s: %s\n", cli_prog, id, d);
			rc = EXIT_SYSTEM;
			goto end;
		}
		record(st, "intent", id, (long)i, &a[i], ex, a[i].reason);
		rc = shd_exec_apply(r, &ch, &eo, err, sizeof(err));
		if (rc) {
			record(st, "failed", id, (long)i, &a[i], ex, err);
			cli_warn("%s %s %s -> %s: %s", a[i].resource,
				 shd_knob_name[a[i].knob],
				 shd_knob_format(a[i].knob, a[i].from, f,
						 sizeof(f)),
				 shd_knob_format(a[i].knob, a[i].to, t,
						 sizeof(t)), err);
			rc = rc == SHD_EINVAL || rc == SHD_EFORMAT
			     ? EXIT_BADINPUT : EXIT_SYSTEM;
			goto end;
		}
		record(st, "done", id, (long)i, &a[i], ex, NULL);
		done++;
		if (!o->quiet)
			fprintf(stderr, "%s: %s %s %s -> %s: done\n", cli_prog,
				a[i].resource, shd_knob_name[a[i].knob],
				shd_knob_format(a[i].knob, a[i].from, f,
						sizeof(f)),
				shd_knob_format(a[i].knob, a[i].to, t,
						sizeof(t)));
	}
out:
	rc = EXIT_OK;
end:
	if (tty >= 0)
		close(tty);
	shd_jrec_free(j, nj);
	shd_state_close(st);
	return rc;
}

/* --verify-journal: the summary on stdout, or the broken line (3). */
static int verify_journal(const struct opts *o)
{
	struct shd_jinfo info;
	char err[1024];
	int rc;

	rc = shd_journal_read(o->state, o->kbuf, o->klen, NULL, NULL, &info,
			      err, sizeof(err));
	if (rc == SHD_EFORMAT) {
		cli_warn("%s\nhint: after review, move the journal aside, or "
			 "seal it again with --seal-journal", err);
		return EXIT_BADINPUT;
	}
	if (rc) {
		cli_warn("%s", err);
		return cli_status(rc);
	}
	if (info.torn)
		cli_warn("%s/journal: the last line was cut short (a crash "
			 "while writing it); it is left out", o->state);
	if (info.legacy && info.legacy == info.nrec)
		cli_warn("%s/journal: no record is chained yet (an older "
			 "shd-apply wrote them); the next one covers them",
			 o->state);
	if (info.sealed && !o->kbuf)
		cli_warn("%s/journal: %zu record%s sealed; give --key to check "
			 "the seals", o->state, info.sealed,
			 info.sealed == 1 ? " is" : "s are");
	printf("journal: %zu record%s, chain intact%s\n", info.nrec,
	       info.nrec == 1 ? "" : "s",
	       o->kbuf && info.nrec ? ", every record sealed with the key"
				    : "");
	printf("head: %s\n", info.head);
	return EXIT_OK;
}

/* --seal-journal: the journal chained again, under the lock. */
static int seal_journal(const struct opts *o)
{
	struct shd_state *st = NULL;
	char err[1024];
	size_t n = 0;
	int rc;

	if (shd_state_open(&st, o->state, 1, NULL, err, sizeof(err)) != 0)
		cli_die(EXIT_SYSTEM, "%s", err);
	shd_state_set_key(st, o->kbuf, o->klen);
	rc = shd_journal_seal(st, &n, err, sizeof(err));
	shd_state_close(st);
	if (rc < 0)
		cli_die(cli_status(rc), "%s", err);
	if (rc == 1) {
		fprintf(stderr, "%s: %s/journal: no journal; nothing to seal\n",
			cli_prog, o->state);
		return EXIT_OK;
	}
	fprintf(stderr, "%s: %s/journal: %zu record%s chained%s; the old "
		"journal is %s/journal.old\n", cli_prog, o->state, n,
		n == 1 ? "" : "s", o->kbuf ? " and sealed with the key" : "",
		o->state);
	return EXIT_OK;
}

/*
 * Plan ids as the journal takes them: [0-9A-Za-z:_-], and short enough
 * (64) that "rollback-ID" is one too.
 */
static int plan_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 &&
	       strspn(s, "0123456789abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ:_-") == n;
}

/* --grace: a duration, or zero ("0", "0s", "0m") for none. */
static int64_t grace_arg(const char *s)
{
	size_t z = strspn(s, "0.");

	if (s[0] == '0' && (!s[z] || !strcmp(s + z, "s") || !strcmp(s + z, "ms") ||
		      !strcmp(s + z, "m") || !strcmp(s + z, "h")))
		return 0;
	return cli_duration_arg("--grace", s);
}

int main(int argc, char **argv)
{
	struct opts o = { .grace_ms = 90000, .confirm_ms = 60000 };
	unsigned char kbuf[4096];
	size_t klen = 0;
	struct shd_config conf;
	struct shd_plan plan;
	char err[1024];
	int c, rc, signed_ = 0;

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:g:nqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'g': o.grace_ms = grace_arg(optarg); break;
		case OPT_CONFIRM: o.confirm = 1; break;
		case OPT_CONFIRM_TIMEOUT:
			o.confirm_ms = cli_duration_arg("--confirm-timeout",
							optarg);
			break;
		case 'n': o.dry_run = 1; break;
		case OPT_KEY: o.key = optarg; break;
		case OPT_STATE: o.state = optarg; break;
		case OPT_ROLLBACK: o.rollback = optarg; break;
		case OPT_CANCEL: o.cancel = optarg; break;
		case OPT_NOW: record_time = cli_time_arg("--now", optarg); break;
		case OPT_VERIFY: o.verify = 1; break;
		case OPT_SEAL: o.seal = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	o.state = cli_state_dir(o.state);
	if (!!o.cancel + o.verify + o.seal > 1)
		cli_die(EXIT_USAGE, "--cancel, --verify-journal and "
			"--seal-journal go alone");
	if (o.cancel) {
		if (optind < argc || o.rollback)
			cli_die(EXIT_USAGE, "--cancel takes a plan id only");
		rc = shd_state_cancel(o.state, o.cancel, err, sizeof(err));
		if (rc < 0)
			cli_die(rc == SHD_EINVAL ? EXIT_USAGE : EXIT_SYSTEM,
				"%s", err);
		fprintf(stderr, "%s: plan %s: %s\n", cli_prog, o.cancel,
			rc == 0 ? "the run applying it was told to stop"
				: "cancelled; no run is applying it now, and "
				  "none will");
		return EXIT_OK;
	}
	if ((o.verify || o.seal) && (optind < argc || o.rollback))
		cli_die(EXIT_USAGE, "%s takes no PLAN and no --rollback",
			o.verify ? "--verify-journal" : "--seal-journal");
	if (o.key && (rc = shd_key_load(o.key, kbuf, &klen, err,
					sizeof(err))))
		cli_die(rc == SHD_EINVAL ? EXIT_BADINPUT : cli_status(rc),
			"%s", err);
	o.kbuf = o.key ? kbuf : NULL;
	o.klen = klen;
	if (o.verify || o.seal) {
		rc = o.verify ? verify_journal(&o) : seal_journal(&o);
		if (cli_close_stdout())
			return EXIT_SYSTEM;
		return rc;
	}
	if (!o.config)
		cli_die(EXIT_USAGE, "-c CONFIG is required (try --help)");
	if (o.rollback ? optind != argc : optind + 1 != argc)
		cli_die(EXIT_USAGE, o.rollback ? "--rollback takes no PLAN "
			"file" : "one PLAN file (try --help)");
	if ((rc = shd_config_load(&conf, o.config, err, sizeof(err))))
		cli_die(cli_status(rc), "%s", err);
	/* a shadow's configuration carries production's executors */
	if (conf.shadow_fraction > 0)
		cli_die(EXIT_BADINPUT, "%s is a shadow's configuration (its "
			"executors are production's): plans of a shadow are for "
			"shd-whatif; apply with production's configuration",
			o.config);

	shd_plan_init(&plan);
	if (o.rollback) {
		struct shd_jrec *j = NULL;
		size_t nj = 0;

		if (!plan_id_ok(o.rollback))
			cli_die(EXIT_USAGE, "--rollback: '%s' is not a plan id",
				o.rollback);
		journal_read(&o, &j, &nj, 0);
		plan.act = inverse(j, nj, o.rollback, &plan.nact);
		shd_jrec_free(j, nj);
		if (!plan.nact)
			cli_die(EXIT_BADINPUT, "%s/journal: plan %s has no "
				"applied change to roll back", o.state,
				o.rollback);
		snprintf(plan.id, sizeof(plan.id), "%.16s", o.rollback);
	} else {
		rc = shd_plan_load(&plan, o.plan = argv[optind],
				   o.key ? kbuf : NULL, klen, &signed_, err,
				   sizeof(err));
		if (rc)
			cli_die(cli_status(rc), "%s", err);
		if (signed_ && !o.key)
			cli_warn("%s is signed; give --key to check it",
				 o.plan);
		if (strcmp(plan.config_sha256, conf.sha256) != 0)
			cli_warn("%s changed since the plan was made", o.config);
	}
	check_actions(plan.act, plan.nact, &conf, o.rollback ? "rollback"
								: o.plan);
	{
		/* a rollback's journal name tells it apart from the plan */
		char id[80];

		snprintf(id, sizeof(id), o.rollback ? "rollback-%s" : "%s",
			 o.rollback ? o.rollback : plan.id);
		if (o.dry_run)
			rc = dry_run(plan.act, plan.nact, &conf, id);
		else
			rc = run(&o, &conf, id, plan.act, plan.nact);
	}
	shd_plan_release(&plan);
	shd_config_release(&conf);
	if (cli_close_stdout())
		return EXIT_SYSTEM;
	return rc;
}
