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
 *
 * The chain (journal.h): a record's "prev" is the SHA-256 of the line
 * before it, '\n' included, and that of the first chained record covers
 * every byte before it, so that a legacy prefix (records of an older
 * shd-apply, without "prev") is covered too once the chain begins. The
 * hmac covers the line without its last member, ',"hmac":"..."}' less
 * the '}': it is checked on the bytes as written, never on a re-encoding.
 */
#include <assert.h>
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
#include "sign.h"

/*
 * Times a journal may hold: 1970 to 9999, what shd_time_format writes in
 * four-digit years and shd_time_parse reads back.
 */
#define TIME_MAX INT64_C(253402300799999)	/* 9999-12-31T23:59:59.999Z */

struct shd_state {
	char *dir;
	int lockfd;		/* -1 when not locked */
	int jfd;		/* the journal, opened on the first append */
	const unsigned char *key;	/* seals appends; NULL: none */
	size_t klen;
	char head[65];		/* the next record's "prev"; "" unknown */
	off_t size;		/* the journal's size when HEAD was taken */
};

/* The chain's members of a line: "" when absent. */
struct link {
	char prev[65];
	char hmac[65];
};

/* ,"hmac":"<64 hex>"} : how every sealed line ends. */
#define SEAL_TAIL 75

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
	st->size = -1;
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

void shd_state_set_key(struct shd_state *st, const unsigned char *key,
		       size_t klen)
{
	st->key = key;
	st->klen = key ? klen : 0;
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

/* 64 lowercase hex digits, as shd_sha256_hex writes them? */
static int is_digest(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Fills R and LK from the object O of one line; -1 with WHAT if bad. */
static int rec_from_json(json_t *o, struct shd_jrec *r, struct link *lk,
			 char *what, size_t wn)
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
		} else if (strcmp(key, "prev") == 0 ||
			   strcmp(key, "hmac") == 0) {
			char *d = key[0] == 'p' ? lk->prev : lk->hmac;

			if (get_str(v, key, d, sizeof(lk->prev), what, wn))
				return -1;
			if (!is_digest(d)) {
				snprintf(what, wn, "\"%s\" is not a SHA-256 in "
					 "hex", key);
				return -1;
			}
		} else {
			snprintf(what, wn, "unknown key \"%.40s\"", key);
			return -1;
		}
	}
	if (lk->hmac[0] && !lk->prev[0]) {
		snprintf(what, wn, "\"hmac\" without \"prev\"");
		return -1;
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
		      const char *path, struct shd_jrec *r, struct link *lk,
		      char *err, size_t n)
{
	json_error_t je;
	json_t *o;
	char what[160];
	int rc;

	rec_init(r);
	memset(lk, 0, sizeof(*lk));
	o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		if (last)
			return 1;
		snprintf(err, n, "%s:%zu: not JSON: %s", path, lineno,
			 je.text);
		return SHD_EFORMAT;
	}
	rc = rec_from_json(o, r, lk, what, sizeof(what));
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

/* ------------------------------------------------------------- chain */

/* SHA-256 of the LEN bytes at S and, when NL, a '\n' after them. */
static int range_hash(const char *s, size_t len, int nl, char hex[65])
{
	char *t = NULL;

	if (nl) {
		if (!(t = malloc(len + 1)))
			return SHD_ENOMEM;
		memcpy(t, s, len);
		t[len] = '\n';
		s = t;
		len++;
	}
	shd_sha256_hex(s, len, hex);
	free(t);
	return hex[0] ? 0 : SHD_ENOMEM;
}

/* A line of the journal: LEN bytes at OFF, then a '\n' when NL. */
struct span {
	size_t off, len;
	int nl;
};

/* The SHA-256 of line L of BUF with its '\n' (added if it lacks one). */
static int line_hash(const char *buf, const struct span *l, char hex[65])
{
	return range_hash(buf + l->off, l->len + l->nl, !l->nl, hex);
}

/*
 * Checks the hmac HMAC of line S (LEN bytes) under KEY: 0 when it
 * matches, 1 when it does not, 2 when the line does not end with it as
 * written (',"hmac":"HEX"}'), SHD_ENOMEM.
 */
static int seal_check(const char *s, size_t len, const char *hmac,
		      const unsigned char *key, size_t klen)
{
	char mac[65], *body;
	size_t bl;
	int rc;

	if (len <= SEAL_TAIL ||
	    memcmp(s + len - SEAL_TAIL, ",\"hmac\":\"", 9) != 0 ||
	    memcmp(s + len - 66, hmac, 64) != 0 ||
	    memcmp(s + len - 2, "\"}", 2) != 0)
		return 2;
	bl = len - SEAL_TAIL + 1;
	if (!(body = malloc(bl)))
		return SHD_ENOMEM;
	memcpy(body, s, bl - 1);
	body[bl - 1] = '}';
	rc = shd_hmac_hex(key, klen, body, bl, mac);
	free(body);
	if (rc)
		return SHD_ENOMEM;
	return shd_digest_equal(mac, hmac) ? 0 : 1;
}

/* The line (1-based) of L[0..NL) whose hash is H, or 0. */
static size_t line_of_hash(const char *buf, const struct span *l, size_t nl,
			   const char *h)
{
	char x[65];

	for (size_t i = 0; i < nl; i++)
		if (line_hash(buf, &l[i], x) == 0 && strcmp(x, h) == 0)
			return i + 1;
	return 0;
}

/*
 * Why the "prev" PREV of line I (0-based) of L[0..NL) is not what it
 * should be, in WHAT (WN bytes), and the line to name in *AT: guessed
 * from the line whose hash it is, if any. FIRST: I begins the chain;
 * KEYED: every line before I was sealed, so none of them was edited.
 */
static void why_broken(const char *buf, const struct span *l, size_t nl,
		       size_t i, const char *prev, int first, int keyed,
		       size_t *at, char *what, size_t wn)
{
	size_t j = line_of_hash(buf, l, nl, prev);

	*at = i + 1;
	if (j && j < i && !first) {
		/* it follows line j: the lines between were added */
		*at = j + 1;
		if (j + 1 == i)
			snprintf(what, wn, "inserted: line %zu is chained to "
				 "line %zu: this line is not part of the "
				 "chain", i + 1, j);
		else
			snprintf(what, wn, "inserted: line %zu is chained to "
				 "line %zu: lines %zu to %zu are not part of "
				 "the chain", i + 1, j, j + 1, i);
	} else if (j > i + 1) {
		snprintf(what, wn, "reordered: \"prev\" is the SHA-256 of "
			 "line %zu, which comes after it", j);
	} else if (first && i == 0) {
		snprintf(what, wn, "deleted: \"prev\" is not the SHA-256 of "
			 "an empty journal: the records before this one were "
			 "removed%s", keyed ? "" : ", or this line edited");
	} else if (first) {
		snprintf(what, wn, "edited or deleted: \"prev\" is not the "
			 "SHA-256 of lines 1 to %zu (written before the "
			 "chain): they were edited or removed", i);
	} else if (keyed) {
		snprintf(what, wn, "deleted: \"prev\" is not the SHA-256 of "
			 "line %zu: records after it were removed", i);
	} else {
		snprintf(what, wn, "edited: \"prev\" is not the SHA-256 of "
			 "line %zu: line %zu was edited, or records after it "
			 "were removed", i, i);
	}
}

/*
 * Parses the journal BUF (LEN bytes, read from PATH) into *RP (*NRP
 * records; RP NULL: none kept) and INFO. CHAIN: check the chain (with
 * KEY, the hmacs too), as journal.h says; else links are not looked at.
 */
static int journal_parse(const char *buf, size_t len, const char *path,
			 const unsigned char *key, size_t klen, int chain,
			 struct shd_jrec **rp, size_t *nrp,
			 struct shd_jinfo *info, char *err, size_t n)
{
	struct span *l = NULL, *nl_;
	struct shd_jrec *r = NULL, *nr_, one;
	size_t nl = 0, lcap = 0, nr = 0, rcap = 0, pos = 0, chain_at = 0;
	size_t at, last = 0;	/* LAST: complete lines */
	char want[65], what[300];
	struct link lk;
	int rc = 0;

	memset(info, 0, sizeof(*info));
	while (pos < len) {
		const char *s = buf + pos, *e = memchr(s, '\n', len - pos);

		if (nl == lcap) {
			lcap = lcap ? 2 * lcap : 64;
			if (!(nl_ = realloc(l, lcap * sizeof(*l)))) {
				rc = SHD_ENOMEM;
				goto out;
			}
			l = nl_;
		}
		l[nl].off = pos;
		l[nl].len = e ? (size_t)(e - s) : len - pos;
		l[nl].nl = e != NULL;
		pos += l[nl++].len + 1;
	}
	for (size_t i = 0; i < nl; i++) {
		struct shd_jrec *rec = &one;
		const char *s = buf + l[i].off;

		if (rp && nr == rcap) {
			rcap = rcap ? 2 * rcap : 64;
			if (!(nr_ = realloc(r, rcap * sizeof(*r)))) {
				rc = SHD_ENOMEM;
				goto out;
			}
			r = nr_;
		}
		if (rp)
			rec = &r[nr];
		rc = parse_line(s, l[i].len, !l[i].nl, i + 1, path, rec, &lk,
				err, n);
		if (rc == 1) {	/* rc is set again below the loop */
			info->torn = 1;
			break;
		}
		if (rc)
			goto done;
		if (rp)
			nr++;
		else
			free(one.detail);
		info->nrec++;
		last = i + 1;
		info->sealed += lk.hmac[0] != '\0';
		if (!chain)
			continue;
		if (!lk.prev[0]) {
			if (chain_at) {
				snprintf(what, sizeof(what), "inserted: no "
					 "\"prev\", but the chain began at line "
					 "%zu", chain_at);
				goto broken;
			}
			if (key) {
				snprintf(what, sizeof(what), "unsealed: no "
					 "\"prev\" (a record of an older "
					 "shd-apply): with a key, every record "
					 "must be sealed");
				goto broken;
			}
			info->legacy++;
			continue;
		}
		if (key && !lk.hmac[0]) {
			snprintf(what, sizeof(what), "unsealed: no \"hmac\" "
				 "(written without the key, or by hand)");
			goto broken;
		}
		if (key) {
			rc = seal_check(s, l[i].len, lk.hmac, key, klen);
			if (rc < 0)
				goto out;
			if (rc) {
				snprintf(what, sizeof(what), rc == 2 ?
					 "bad hmac: \"hmac\" is not the last "
					 "member (the line was rewritten)" :
					 "bad hmac: the record was edited, or "
					 "sealed with another key");
				goto broken;
			}
		}
		rc = chain_at ? line_hash(buf, &l[i - 1], want)
			      : range_hash(buf, l[i].off, 0, want);
		if (rc)
			goto out;
		if (strcmp(lk.prev, want) != 0) {
			why_broken(buf, l, nl, i, lk.prev, !chain_at,
				   key != NULL, &at, what, sizeof(what));
			snprintf(err, n, "%s:%zu: %s", path, at, what);
			rc = SHD_EFORMAT;
			goto done;
		}
		if (!chain_at)
			chain_at = i + 1;
		continue;
broken:
		snprintf(err, n, "%s:%zu: %s", path, i + 1, what);
		rc = SHD_EFORMAT;
		goto done;
	}
	/* The head: the last line's hash, or all of a legacy journal's. */
	if (chain_at)
		rc = line_hash(buf, &l[last - 1], info->head);
	else if (last)
		rc = range_hash(buf, l[last - 1].off + l[last - 1].len +
				l[last - 1].nl, !l[last - 1].nl, info->head);
	else
		rc = range_hash("", 0, 0, info->head);
out:
	if (rc == SHD_ENOMEM)
		snprintf(err, n, "%s", strerror(ENOMEM));
done:
	free(l);
	if (rc) {
		shd_jrec_free(r, nr);
		return rc;
	}
	if (rp) {
		*rp = r;
		*nrp = nr;
	}
	return 0;
}

/* Reads DIR/journal into *BUF (NULL when there is none), PATH its name. */
static int journal_slurp(const char *dir, char *path, char **buf,
			 size_t *len, char *err, size_t n)
{
	int fd, rc;

	*buf = NULL;
	*len = 0;
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
	rc = slurp(fd, buf, len);
	if (rc)
		snprintf(err, n, "cannot read '%s': %s", path,
			 strerror(rc == SHD_ENOMEM ? ENOMEM : errno));
	close(fd);
	return rc;
}

int shd_journal_read(const char *dir, const unsigned char *key, size_t klen,
		     struct shd_jrec **rp, size_t *nrp, struct shd_jinfo *info,
		     char *err, size_t n)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int rc;

	if (rp) {
		*rp = NULL;
		*nrp = 0;
	}
	memset(info, 0, sizeof(*info));
	rc = journal_slurp(dir, path, &buf, &len, err, n);
	if (rc)
		return rc;
	rc = journal_parse(buf ? buf : "", len, path, key, klen, 1, rp, nrp,
			   info, err, n);
	free(buf);
	return rc;
}

int shd_journal_load(const char *dir, struct shd_jrec **rp, size_t *nrp,
		     int *torn, char *err, size_t n)
{
	struct shd_jinfo info;
	int rc = shd_journal_read(dir, NULL, 0, rp, nrp, &info, err, n);

	if (torn)
		*torn = rc ? 0 : info.torn;
	return rc;
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

/*
 * R as a JSON object in *OP (the caller's reference) and the digits its
 * reals need in *PREC; SHD_EINVAL with WHAT when it cannot be written.
 */
static int rec_json(const struct shd_jrec *r, json_t **op, int *prec,
		    char *what, size_t wn)
{
	char t[48];
	json_t *o = json_object();
	size_t tl;
	int bad = !o;

	*op = NULL;
	*prec = 1;

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
		bad = put(o, "from", num_json(r->from, prec));
	if (!bad && !isnan(r->to))
		bad = put(o, "to", num_json(r->to, prec));
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
	*op = o;
	return 0;
}

/*
 * The line of the record O (taken) with "prev" PREV and, with KEY (KLEN
 * bytes), "hmac" last: in *LINE (malloc'd, '\n' included), *LEN bytes.
 */
static int rec_line(json_t *o, int prec, const char *prev,
		    const unsigned char *key, size_t klen, char **line,
		    size_t *len, char *what, size_t wn)
{
	size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(prec), size;
	char mac[65];

	*line = NULL;
	if (put(o, "prev", json_string(prev)) ||
	    !(size = json_dumpb(o, NULL, 0, flags)) ||
	    !(*line = malloc(size + SEAL_TAIL + 1))) {
		json_decref(o);
		snprintf(what, wn, "%s", strerror(ENOMEM));
		return SHD_ENOMEM;
	}
	json_dumpb(o, *line, size, flags);
	json_decref(o);
	if (key) {
		/* {...,"prev":"P"} becomes {...,"prev":"P","hmac":"H"} */
		if (shd_hmac_hex(key, klen, *line, size, mac)) {
			free(*line);
			*line = NULL;
			snprintf(what, wn, "cannot compute the hmac");
			return SHD_EIO;
		}
		memcpy(*line + size - 1, ",\"hmac\":\"", 9);
		memcpy(*line + size + 8, mac, 64);
		memcpy(*line + size + 72, "\"}", 2);
		size += SEAL_TAIL - 1;
	}
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

/*
 * Sets ST's head from the journal FD (repaired, when we hold the lock):
 * the hash of its last line when that is chained, else of all of it (a
 * legacy journal, or an empty one).
 */
static int head_take(struct shd_state *st, int fd)
{
	const char *last;
	char *buf;
	size_t len;
	json_t *o;
	int rc;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return SHD_EIO;
	rc = slurp(fd, &buf, &len);
	if (rc)
		return rc;
	last = len > 1 ? memrchr(buf, '\n', len - 1) : NULL;
	last = last ? last + 1 : buf;
	o = json_loadb(last, len - (size_t)(last - buf), 0, NULL);
	if (json_is_string(json_object_get(o, "prev")))
		rc = range_hash(last, len - (size_t)(last - buf),
				len && buf[len - 1] != '\n', st->head);
	else
		rc = range_hash(buf, len, len && buf[len - 1] != '\n',
				st->head);
	json_decref(o);
	free(buf);
	st->size = rc ? -1 : (off_t)len;
	return rc;
}

int shd_journal_append(struct shd_state *st, const struct shd_jrec *r,
		       char *err, size_t n)
{
	char path[PATH_MAX], *line = NULL;
	struct shd_jrec now;
	struct timespec ts;
	struct stat sb;
	json_t *o;
	size_t len;
	int rc, prec;

	if (join(path, st->dir, "journal", err, n))
		return SHD_EIO;
	if (r->time == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = *r;
		now.time = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		r = &now;
	}
	rc = rec_json(r, &o, &prec, err, n);
	if (rc)
		return rc;
	if (st->jfd < 0 && (st->jfd = journal_open(st, path)) < 0) {
		snprintf(err, n, "cannot open '%s': %s", path,
			 strerror(errno));
		json_decref(o);
		return SHD_EIO;
	}
	/*
	 * The head is kept from one append to the next; the file changing
	 * size behind our back (a writer without the lock) means reading
	 * it again.
	 */
	sb.st_size = -1;
	if (fstat(st->jfd, &sb) != 0 ||
	    ((!st->head[0] || st->size != sb.st_size) &&
	     head_take(st, st->jfd) != 0)) {
		snprintf(err, n, "cannot read '%s': %s", path,
			 strerror(errno));
		json_decref(o);
		return SHD_EIO;
	}
	rc = rec_line(o, prec, st->head, st->key, st->klen, &line, &len, err,
		      n);
	if (rc)
		return rc;
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
		st->head[0] = '\0';
		snprintf(err, n, "cannot write '%s': %s", path, strerror(e));
		rc = SHD_EIO;
	} else if (range_hash(line, len, 0, st->head) != 0) {
		st->head[0] = '\0';	/* taken from the file next time */
	} else {
		st->size = sb.st_size + (off_t)len;
	}
	free(line);
	return rc;
}

int shd_journal_seal(struct shd_state *st, size_t *nrec, char *err,
		     size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX], head[65];
	char *buf = NULL, *line;
	struct shd_jrec *r = NULL;
	struct shd_jinfo info;
	size_t len, nr = 0;
	int fd = -1, dfd, rc;

	assert(st->lockfd >= 0);
	*nrec = 0;
	rc = journal_slurp(st->dir, path, &buf, &len, err, n);
	if (rc || !buf)
		return rc ? rc : 1;	/* no journal */
	rc = journal_parse(buf, len, path, NULL, 0, 0, &r, &nr, &info, err,
			   n);
	free(buf);
	if (rc)
		return rc;
	if (join(tmp, st->dir, "journal.tmp", err, n) ||
	    join(old, st->dir, "journal.old", err, n)) {
		rc = SHD_EIO;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto sys;
	range_hash("", 0, 0, head);
	for (size_t i = 0; i < nr; i++) {
		json_t *o;
		int prec;

		rc = rec_json(&r[i], &o, &prec, err, n);
		if (rc == 0)
			rc = rec_line(o, prec, head, st->key, st->klen, &line,
				      &len, err, n);
		if (rc)
			goto out;
		rc = shd_write_all(fd, line, len);
		if (rc == 0)
			rc = range_hash(line, len, 0, head);
		free(line);
		if (rc)
			goto sys;
	}
	if (fsync(fd) != 0)
		goto sys;
	/* The old file is kept, and never replaced: it may be evidence. */
	if (link(path, old) != 0) {
		if (errno == EEXIST)
			snprintf(err, n, "'%s' exists: move it aside first",
				 old);
		else
			snprintf(err, n, "cannot link '%s' to '%s': %s", path,
				 old, strerror(errno));
		rc = SHD_EIO;
		goto out;
	}
	if (rename(tmp, path) != 0)
		goto sys;
	dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		if (dfd >= 0)
			close(dfd);
		goto sys;
	}
	close(dfd);
	/* Appends go to the new file, chained to its head. */
	if (st->jfd >= 0)
		close(st->jfd);
	st->jfd = -1;
	st->head[0] = '\0';
	*nrec = nr;
	rc = 0;
	goto out;
sys:
	snprintf(err, n, "cannot write '%s': %s", tmp, strerror(errno));
	rc = SHD_EIO;
out:
	if (fd >= 0) {
		close(fd);
		if (rc)
			unlink(tmp);
	}
	shd_jrec_free(r, nr);
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
