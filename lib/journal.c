/*
 * journal.c - shd-apply's state directory (see journal.h): the lock, the
 * journal of JSON lines (jansson) and cancellation requests.
 *
 * The journal is what a run trusts after a crash, so each record goes out
 * in one write(2) on an O_APPEND descriptor and is fsynced before the
 * caller acts on it. A crash can still cut the last line short: the
 * loader leaves such a line out (and says so), and the next run holding
 * the lock removes it before appending, so that it never becomes a bad
 * line in the middle of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "shd.h"
#include "config.h"
#include "journal.h"

/*
 * Times a journal may hold: 1970 to 9999, what shd_time_format writes in
 * four-digit years and shd_time_parse reads back.
 */
#define TIME_MAX INT64_C(253402300799999)	/* 9999-12-31T23:59:59.999Z */

struct shd_state {
	char *dir;
	int lockfd;		/* -1 when not locked */
	int jfd;		/* the journal, opened on the first append */
};

static const char *const event_name[] = {
	"intent", "done", "failed", "cancelled", "interrupted", "skipped",
};

static int event_ok(const char *s)
{
	for (size_t i = 0; i < sizeof(event_name) / sizeof(event_name[0]); i++)
		if (strcmp(s, event_name[i]) == 0)
			return 1;
	return 0;
}

/*
 * A plan id: 1 to 79 bytes of [0-9A-Za-z:_-]. It names a file in
 * DIR/cancel and is one word in DIR/lock, so no '/', '.', space or
 * newline may get in.
 */
static int plan_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct shd_jrec *)0)->plan))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') &&
		    !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    s[i] != ':' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* DIR/NAME into BUF (PATH_MAX bytes); -1 with ERR when too long. */
static int join(char *buf, const char *dir, const char *name, char *err,
		size_t n)
{
	int len = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	if (len < 0 || len >= PATH_MAX) {
		snprintf(err, n, "'%s/%s': %s", dir, name,
			 strerror(ENAMETOOLONG));
		return -1;
	}
	return 0;
}

/*
 * mkdir -p DIR: missing parents with the default mode (0777 less the
 * umask), DIR itself 0700, as it will hold what was done to the fleet.
 */
static int mkdir_p(const char *dir, char *err, size_t n)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	struct stat sb;

	if (len == 0 || len >= sizeof(path)) {
		snprintf(err, n, "bad state directory '%s'", dir);
		return SHD_EIO;
	}
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	for (size_t i = 1; i < len; i++) {
		if (path[i] != '/' || path[i - 1] == '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST) {
			snprintf(err, n, "cannot create directory '%s': %s",
				 path, strerror(errno));
			return SHD_EIO;
		}
		path[i] = '/';
	}
	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	snprintf(err, n, "cannot create directory '%s': %s", path,
		 errno == EEXIST ? strerror(ENOTDIR) : strerror(errno));
	return SHD_EIO;
}

/*
 * Reads "PID PLAN\n" (or "PID\n") from the lock file FD into *PID and
 * PLAN (80 bytes; "" when none). 0, or -1 when it holds nothing usable
 * (a holder between its flock and its write).
 */
static int lock_read(int fd, long *pid, char *plan)
{
	char buf[128], *end;
	ssize_t got;

	got = pread(fd, buf, sizeof(buf) - 1, 0);
	if (got <= 0)
		return -1;
	buf[got] = '\0';
	errno = 0;
	*pid = strtol(buf, &end, 10);
	if (errno || end == buf || *pid <= 0)
		return -1;
	plan[0] = '\0';
	if (*end == ' ') {
		size_t k = strcspn(end + 1, "\n");

		if (k >= 80)
			return -1;
		memcpy(plan, end + 1, k);
		plan[k] = '\0';
	}
	return 0;
}

/* Takes DIR/lock for ST, recording our pid and PLAN in it. */
static int lock_take(struct shd_state *st, const char *plan, char *err,
		     size_t n)
{
	char path[PATH_MAX], who[128], held[80];
	long pid;
	int fd, len;

	if (join(path, st->dir, "lock", err, n))
		return SHD_EIO;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, n, "cannot open '%s': %s", path,
			 strerror(errno));
		return SHD_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			snprintf(err, n, "cannot lock '%s': %s", path,
				 strerror(errno));
		else if (lock_read(fd, &pid, held) != 0)
			snprintf(err, n, "%s is held by another run", path);
		else if (held[0])
			snprintf(err, n, "%s is held by pid %ld (plan %s)",
				 path, pid, held);
		else
			snprintf(err, n, "%s is held by pid %ld", path, pid);
		close(fd);
		return SHD_EIO;
	}
	/* The holder's identity, for the messages and --cancel of others. */
	len = plan ? snprintf(who, sizeof(who), "%ld %s\n", (long)getpid(),
			      plan)
		   : snprintf(who, sizeof(who), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, who, (size_t)len, 0) != len) {
		snprintf(err, n, "cannot write '%s': %s", path,
			 strerror(errno));
		close(fd);
		return SHD_EIO;
	}
	st->lockfd = fd;
	return 0;
}

int shd_state_open(struct shd_state **stp, const char *dir, int lock,
		   const char *plan, char *err, size_t n)
{
	struct shd_state *st;
	int rc;

	*stp = NULL;
	if (lock && plan && !plan_ok(plan)) {
		snprintf(err, n, "bad plan id '%s'", plan);
		return SHD_EINVAL;
	}
	rc = mkdir_p(dir, err, n);
	if (rc)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->dir = strdup(dir))) {
		free(st);
		snprintf(err, n, "%s", strerror(ENOMEM));
		return SHD_ENOMEM;
	}
	st->lockfd = st->jfd = -1;
	if (lock && (rc = lock_take(st, plan, err, n)) != 0) {
		shd_state_close(st);
		return rc;
	}
	*stp = st;
	return 0;
}

void shd_state_close(struct shd_state *st)
{
	if (!st)
		return;
	if (st->jfd >= 0)
		close(st->jfd);
	if (st->lockfd >= 0) {
		/* An empty lock file: nobody's, whatever flock would say. */
		if (ftruncate(st->lockfd, 0) != 0) {
			/* stale text is harmless: flock decides */
		}
		close(st->lockfd);
	}
	free(st->dir);
	free(st);
}

/* ------------------------------------------------------------ reading */

/* Reads all of FD into *BUF (malloc'd, NUL-terminated), *LEN bytes. */
static int slurp(int fd, char **buf, size_t *len)
{
	size_t cap = 4096, got = 0, want;
	char *b = malloc(cap), *nb;
	long r;

	if (!b)
		return SHD_ENOMEM;
	for (;;) {
		if (cap - got < 2) {
			nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return SHD_ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		want = cap - got - 1;
		r = shd_read_full(fd, b + got, want);
		if (r < 0) {
			free(b);
			return SHD_EIO;
		}
		got += (size_t)r;
		if ((size_t)r < want)
			break;		/* end of file */
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* Copies string V into DST (SIZE bytes); -1 with WHAT when it cannot. */
static int get_str(json_t *v, const char *key, char *dst, size_t size,
		   char *what, size_t wn)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (!s || strlen(s) != len) {
		snprintf(what, wn, "\"%s\" is not a string", key);
		return -1;
	}
	if (len >= size) {
		snprintf(what, wn, "\"%s\" is longer than %zu bytes", key,
			 size - 1);
		return -1;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

/* A number of the journal: a JSON number, or "inf" / "-inf". */
static int get_num(json_t *v, const char *key, double *d, char *what,
		   size_t wn)
{
	const char *s = json_string_value(v);

	if (json_is_number(v)) {
		*d = json_number_value(v);
		return 0;
	}
	if (s && (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0)) {
		*d = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	snprintf(what, wn, "\"%s\" is not a number", key);
	return -1;
}

/* Fills R from the object O of one line; -1 with WHAT when it is bad. */
static int rec_from_json(json_t *o, struct shd_jrec *r, char *what,
			 size_t wn)
{
	enum { HAVE_TIME = 1, HAVE_EVENT = 2, HAVE_PLAN = 4, HAVE_ACTION = 8,
	       HAVE_ALL = 15 };
	char buf[64];
	const char *key;
	json_t *v;
	int have = 0;

	if (!json_is_object(o)) {
		snprintf(what, wn, "not a JSON object");
		return -1;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "time") == 0) {
			if (get_str(v, key, buf, sizeof(buf), what, wn))
				return -1;
			if (shd_time_parse(buf, strlen(buf), &r->time) ||
			    r->time < 0 || r->time > TIME_MAX) {
				snprintf(what, wn, "bad time '%s'", buf);
				return -1;
			}
			have |= HAVE_TIME;
		} else if (strcmp(key, "event") == 0) {
			if (get_str(v, key, r->event, sizeof(r->event), what,
				    wn))
				return -1;
			if (!event_ok(r->event)) {
				snprintf(what, wn, "unknown event '%s'",
					 r->event);
				return -1;
			}
			have |= HAVE_EVENT;
		} else if (strcmp(key, "plan") == 0) {
			if (get_str(v, key, r->plan, sizeof(r->plan), what,
				    wn))
				return -1;
			have |= HAVE_PLAN;
		} else if (strcmp(key, "action") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < -1 ||
			    json_integer_value(v) > LONG_MAX) {
				snprintf(what, wn, "\"action\" is not an "
					 "index or -1");
				return -1;
			}
			r->action = (long)json_integer_value(v);
			have |= HAVE_ACTION;
		} else if (strcmp(key, "resource") == 0) {
			if (get_str(v, key, r->resource, sizeof(r->resource),
				    what, wn))
				return -1;
		} else if (strcmp(key, "knob") == 0) {
			if (get_str(v, key, buf, sizeof(buf), what, wn))
				return -1;
			r->knob = shd_knob_parse(buf);
			if (r->knob < 0) {
				snprintf(what, wn, "unknown knob '%s'", buf);
				return -1;
			}
		} else if (strcmp(key, "from") == 0) {
			if (get_num(v, key, &r->from, what, wn))
				return -1;
		} else if (strcmp(key, "to") == 0) {
			if (get_num(v, key, &r->to, what, wn))
				return -1;
		} else if (strcmp(key, "executor") == 0) {
			if (get_str(v, key, r->executor, sizeof(r->executor),
				    what, wn))
				return -1;
		} else if (strcmp(key, "detail") == 0) {
			if (!json_is_string(v) ||
			    strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				snprintf(what, wn, "\"detail\" is not a "
					 "string");
				return -1;
			}
			free(r->detail);
			r->detail = strdup(json_string_value(v));
			if (!r->detail)
				return SHD_ENOMEM;
		} else {
			snprintf(what, wn, "unknown key \"%.40s\"", key);
			return -1;
		}
	}
	if (have != HAVE_ALL) {
		snprintf(what, wn, "no \"%s\"", !(have & HAVE_TIME) ? "time" :
			 !(have & HAVE_EVENT) ? "event" :
			 !(have & HAVE_PLAN) ? "plan" : "action");
		return -1;
	}
	return 0;
}

static void rec_init(struct shd_jrec *r)
{
	memset(r, 0, sizeof(*r));
	r->action = -1;
	r->knob = -1;
	r->from = r->to = NAN;
}

/*
 * Parses line LINENO (LEN bytes at S) into R. 0; 1 when it is the last
 * line, unterminated (LAST) and not JSON: cut short by a crash; else
 * SHD_EFORMAT or SHD_ENOMEM with ERR.
 */
static int parse_line(const char *s, size_t len, int last, size_t lineno,
		      const char *path, struct shd_jrec *r, char *err,
		      size_t n)
{
	json_error_t je;
	json_t *o;
	char what[160];
	int rc;

	rec_init(r);
	o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		if (last)
			return 1;
		snprintf(err, n, "%s:%zu: not JSON: %s", path, lineno,
			 je.text);
		return SHD_EFORMAT;
	}
	rc = rec_from_json(o, r, what, sizeof(what));
	json_decref(o);
	if (rc == 0)
		return 0;
	free(r->detail);
	r->detail = NULL;
	if (rc == SHD_ENOMEM) {
		snprintf(err, n, "%s", strerror(ENOMEM));
		return SHD_ENOMEM;
	}
	snprintf(err, n, "%s:%zu: %s", path, lineno, what);
	return SHD_EFORMAT;
}

int shd_journal_load(const char *dir, struct shd_jrec **rp, size_t *nrp,
		     int *torn, char *err, size_t n)
{
	char path[PATH_MAX], *buf = NULL;
	struct shd_jrec *r = NULL, *nr_;
	size_t len = 0, nr = 0, cap = 0, lineno = 0, pos = 0;
	int fd, rc = 0;

	*rp = NULL;
	*nrp = 0;
	if (torn)
		*torn = 0;
	if (join(path, dir, "journal", err, n))
		return SHD_EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;	/* nothing done yet */
		snprintf(err, n, "cannot open '%s': %s", path,
			 strerror(errno));
		return SHD_EIO;
	}
	rc = slurp(fd, &buf, &len);
	if (rc) {
		snprintf(err, n, "cannot read '%s': %s", path,
			 strerror(rc == SHD_ENOMEM ? ENOMEM : errno));
		close(fd);
		return rc;
	}
	close(fd);
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos;

		lineno++;
		pos += ll + 1;
		if (nr == cap) {
			cap = cap ? 2 * cap : 64;
			nr_ = realloc(r, cap * sizeof(*r));
			if (!nr_) {
				snprintf(err, n, "%s", strerror(ENOMEM));
				rc = SHD_ENOMEM;
				break;
			}
			r = nr_;
		}
		rc = parse_line(s, ll, !nl, lineno, path, &r[nr], err, n);
		if (rc == 1) {
			if (torn)
				*torn = 1;
			rc = 0;
			break;
		}
		if (rc)
			break;
		nr++;
	}
	free(buf);
	if (rc) {
		shd_jrec_free(r, nr);
		return rc;
	}
	*rp = r;
	*nrp = nr;
	return 0;
}

void shd_jrec_free(struct shd_jrec *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		free(r[i].detail);
	free(r);
}

const struct shd_jrec *shd_journal_last_change(const struct shd_jrec *r,
					       size_t nr,
					       const char *resource,
					       int knob)
{
	for (size_t i = nr; i-- > 0;)
		if (r[i].knob == knob && strcmp(r[i].event, "done") == 0 &&
		    strcmp(r[i].resource, resource) == 0)
			return &r[i];
	return NULL;
}

/* ----------------------------------------------------------- writing */

/* The fewest significant digits that read back as V (finite). */
static int shortest_digits(double v)
{
	char buf[40];

	for (int p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

/*
 * A knob value as JSON: an integer when it is one (replicas, bytes), a
 * string "inf" / "-inf" (an unlimited cgroup) as JSON has no infinity,
 * else a real; *PREC is raised to the digits it needs.
 */
static json_t *num_json(double v, int *prec)
{
	int p;

	if (isinf(v))
		return json_string(v < 0 ? "-inf" : "inf");
	if (v == trunc(v) && fabs(v) < 9007199254740992.0 &&
	    !(v == 0 && signbit(v)))
		return json_integer((json_int_t)v);
	p = shortest_digits(v);
	if (p > *prec)
		*prec = p;
	return json_real(v);
}

/*
 * DETAIL as a JSON string: it may be a program's stderr, so bytes that
 * are not UTF-8 become '?' rather than losing the record.
 */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);
	char *t;

	if (j)
		return j;
	t = strdup(s);
	if (!t)
		return NULL;
	for (char *p = t; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(t);
	free(t);
	return j;
}

/* Adds KEY: V to O (V may be NULL from a failed constructor). */
static int put(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

/* Fixed-size string field F of a record as JSON (NULL if not UTF-8). */
#define FIELD_JSON(f) json_stringn((f), strnlen((f), sizeof(f)))

/* The line of R (with its '\n') in *LINE (malloc'd), *LEN bytes. */
static int rec_line(const struct shd_jrec *r, char **line, size_t *len,
		    char *what, size_t wn)
{
	char t[48];
	json_t *o = json_object();
	size_t tl, size;
	int prec = 1, bad = !o;

	if (!event_ok(r->event) || r->knob < -1 || r->knob >= SHD_NKNOB ||
	    r->time < 0 || r->time > TIME_MAX) {
		json_decref(o);
		snprintf(what, wn, "bad record (event '%.16s', knob %d, "
			 "time %lld)", r->event, r->knob, (long long)r->time);
		return SHD_EINVAL;
	}
	/* Always milliseconds, so that times line up in the file. */
	tl = shd_time_format(r->time, t, sizeof(t) - 4);
	if (!strchr(t, '.') && tl > 0)
		memcpy(t + tl - 1, ".000Z", 6);
	bad = bad || put(o, "time", json_string(t)) ||
	      put(o, "event", json_string(r->event)) ||
	      put(o, "plan", FIELD_JSON(r->plan)) ||
	      put(o, "action", json_integer(r->action));
	if (!bad && r->resource[0])
		bad = put(o, "resource", FIELD_JSON(r->resource));
	if (!bad && r->knob >= 0)
		bad = put(o, "knob", json_string(shd_knob_name[r->knob]));
	if (!bad && !isnan(r->from))
		bad = put(o, "from", num_json(r->from, &prec));
	if (!bad && !isnan(r->to))
		bad = put(o, "to", num_json(r->to, &prec));
	if (!bad && r->executor[0])
		bad = put(o, "executor", FIELD_JSON(r->executor));
	if (!bad && r->detail)
		bad = put(o, "detail", text_json(r->detail));
	if (bad) {
		json_decref(o);
		snprintf(what, wn, "cannot make a record of plan '%.80s' "
			 "(out of memory, or a name not UTF-8)", r->plan);
		return SHD_EINVAL;
	}
	size = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(prec));
	*line = size ? malloc(size + 1) : NULL;
	if (!*line) {
		json_decref(o);
		snprintf(what, wn, "%s", strerror(ENOMEM));
		return SHD_ENOMEM;
	}
	json_dumpb(o, *line, size, JSON_COMPACT | JSON_REAL_PRECISION(prec));
	json_decref(o);
	(*line)[size] = '\n';
	*len = size + 1;
	return 0;
}

/*
 * A journal that does not end in '\n' was cut short by a crash. Its last
 * line is dropped when it is not JSON (a record half written, never acted
 * on: its fsync had not returned) and ended when it is, so that the next
 * record starts a line of its own. Only the lock's holder may do this.
 */
static int repair_tail(int fd)
{
	char *buf, *start;
	size_t len;
	json_t *o;
	int rc;

	rc = slurp(fd, &buf, &len);
	if (rc || len == 0 || buf[len - 1] == '\n') {
		free(rc ? NULL : buf);
		return rc;
	}
	start = memrchr(buf, '\n', len);
	start = start ? start + 1 : buf;
	o = json_loadb(start, len - (size_t)(start - buf), 0, NULL);
	if (o)
		rc = shd_write_all(fd, "\n", 1);
	else if (ftruncate(fd, start - buf) != 0)
		rc = SHD_EIO;
	json_decref(o);
	free(buf);
	return rc;
}

/* Opens the journal for appending, creating it (and syncing DIR) first. */
static int journal_open(struct shd_state *st, const char *path)
{
	int fd, dfd;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
		  0600);
	if (fd >= 0) {
		/* The new name must survive a crash as well as its lines. */
		dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0) {
			if (dfd >= 0)
				close(dfd);
			close(fd);
			return -1;
		}
		close(dfd);
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd >= 0 && st->lockfd >= 0 && repair_tail(fd) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int shd_journal_append(struct shd_state *st, const struct shd_jrec *r,
		       char *err, size_t n)
{
	char path[PATH_MAX], *line = NULL;
	struct shd_jrec now;
	struct timespec ts;
	struct stat sb;
	size_t len;
	int rc;

	if (join(path, st->dir, "journal", err, n))
		return SHD_EIO;
	if (r->time == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = *r;
		now.time = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		r = &now;
	}
	rc = rec_line(r, &line, &len, err, n);
	if (rc)
		return rc;
	if (st->jfd < 0 && (st->jfd = journal_open(st, path)) < 0) {
		snprintf(err, n, "cannot open '%s': %s", path,
			 strerror(errno));
		free(line);
		return SHD_EIO;
	}
	sb.st_size = -1;
	rc = fstat(st->jfd, &sb);
	if (rc == 0)
		rc = shd_write_all(st->jfd, line, len);
	if (rc == 0)
		rc = fsync(st->jfd);
	if (rc != 0) {
		int e = errno;

		/* No half line left behind for the next record to join. */
		if (st->lockfd >= 0 && sb.st_size >= 0 &&
		    ftruncate(st->jfd, sb.st_size) != 0) {
			/* the loader will call it torn */
		}
		snprintf(err, n, "cannot write '%s': %s", path, strerror(e));
		rc = SHD_EIO;
	}
	free(line);
	return rc;
}

/* ----------------------------------------------------------- cancel */

int shd_state_cancel(const char *dir, const char *plan, char *err,
		     size_t n)
{
	char path[PATH_MAX], held[80];
	long pid;
	int fd, rc;

	if (!plan_ok(plan)) {
		snprintf(err, n, "bad plan id '%s'", plan);
		return SHD_EINVAL;
	}
	rc = mkdir_p(dir, err, n);
	if (rc)
		return rc;
	if (join(path, dir, "cancel", err, n))
		return SHD_EIO;
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, n, "cannot create directory '%s': %s", path,
			 strerror(errno));
		return SHD_EIO;
	}
	if (snprintf(path, sizeof(path), "%s/cancel/%s", dir, plan) >=
	    (int)sizeof(path)) {
		snprintf(err, n, "'%s': %s", dir, strerror(ENAMETOOLONG));
		return SHD_EIO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, n, "cannot create '%s': %s", path,
			 strerror(errno));
		return SHD_EIO;
	}
	close(fd);

	/*
	 * Is a run of PLAN holding the lock now? Only while the lock is
	 * held is its pid certain to be that run's (the lock goes with the
	 * process), so a lock we can take ourselves means nobody to signal.
	 */
	if (join(path, dir, "lock", err, n))
		return SHD_EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK ||
	    lock_read(fd, &pid, held) != 0 || strcmp(held, plan) != 0) {
		close(fd);
		return 1;
	}
	close(fd);
	if (kill((pid_t)pid, SIGTERM) != 0) {
		if (errno == ESRCH)
			return 1;	/* it has just finished */
		snprintf(err, n, "cannot signal pid %ld (plan %s): %s", pid,
			 plan, strerror(errno));
		return SHD_EIO;
	}
	return 0;
}

int shd_state_cancelled(const struct shd_state *st, const char *plan)
{
	char path[PATH_MAX];
	struct stat sb;

	if (!plan_ok(plan) ||
	    snprintf(path, sizeof(path), "%s/cancel/%s", st->dir, plan) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &sb) == 0;
}
