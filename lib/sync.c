/*
 * sync.c - production's configuration changes mirrored to a shadow's
 * (sync.h has the picture).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "confscale.h"
#include "shd.h"
#include "sync.h"

/* How values are written: compact, any value, reals as the shadow file. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/*
 * Event lines stay under shd-drift's 4096 bytes: values longer than this
 * are written as "(N bytes)", names and keys cut after about this.
 */
#define EVENT_VALUE_MAX 900
#define EVENT_NAME_MAX 900

/* Same value, or both absent. */
static int same(const json_t *a, const json_t *b)
{
	return a == b || (a && b && json_equal((json_t *)a, (json_t *)b));
}

void shd_sync_init(struct shd_sync *s)
{
	memset(s, 0, sizeof(*s));
}

static void change_release(struct shd_sync_change *c)
{
	free(c->resource);
	for (size_t i = 0; c->comp && i < c->ncomp; i++)
		free(c->comp[i]);
	free(c->comp);
	json_decref(c->from);
	json_decref(c->to);
	json_decref(c->sfrom);
	json_decref(c->sto);
}

void shd_sync_release(struct shd_sync *s)
{
	for (size_t i = 0; i < s->n; i++)
		change_release(&s->c[i]);
	free(s->c);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ diff */

/* The key being walked: a stack of member names (borrowed). */
struct walk {
	struct shd_sync *s;
	const char *res;
	const char **path;
	size_t depth, cap;
};

static int push(struct walk *w, const char *k)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		const char **p = realloc(w->path, cap * sizeof(*p));

		if (!p)
			return SHD_ENOMEM;
		w->path = p;
		w->cap = cap;
	}
	w->path[w->depth++] = k;
	return 0;
}

/* A change of the walked key from FROM to TO (borrowed; NULL: absent). */
static int add(struct walk *w, json_t *from, json_t *to)
{
	struct shd_sync *s = w->s;
	struct shd_sync_change *c;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct shd_sync_change *nc = realloc(s->c, cap * sizeof(*nc));

		if (!nc)
			return SHD_ENOMEM;
		s->c = nc;
		s->cap = cap;
	}
	c = &s->c[s->n];
	memset(c, 0, sizeof(*c));
	if (!(c->resource = strdup(w->res)) ||
	    (w->depth && !(c->comp = calloc(w->depth, sizeof(char *)))))
		goto fail;
	for (c->ncomp = 0; c->ncomp < w->depth; c->ncomp++)
		if (!(c->comp[c->ncomp] = strdup(w->path[c->ncomp])))
			goto fail;
	c->from = json_incref(from);
	c->to = json_incref(to);
	s->n++;
	return 0;
fail:
	change_release(c);
	return SHD_ENOMEM;
}

/* The changes from object O to object N at the walked key. */
static int walk_obj(struct walk *w, json_t *o, json_t *n)
{
	const char *k;
	json_t *vn, *vo;
	int rc = 0;

	json_object_foreach(n, k, vn) {
		if ((rc = push(w, k)))
			return rc;
		vo = json_object_get(o, k);
		if (!vo)
			rc = add(w, NULL, vn);
		else if (json_is_object(vo) && json_is_object(vn))
			rc = walk_obj(w, vo, vn);
		else if (!json_equal(vo, vn))
			rc = add(w, vo, vn);
		w->depth--;
		if (rc)
			return rc;
	}
	json_object_foreach(o, k, vo) {
		if (json_object_get(n, k))
			continue;
		if ((rc = push(w, k)))
			return rc;
		rc = add(w, vo, NULL);
		w->depth--;
		if (rc)
			return rc;
	}
	return 0;
}

/* The changes of one value (a resource, the defaults) from O to N. */
static int walk_value(struct walk *w, json_t *o, json_t *n)
{
	if (json_is_object(o) && json_is_object(n))
		return walk_obj(w, o, n);
	return same(o, n) ? 0 : add(w, o, n);
}

int shd_sync_diff(struct shd_sync *s, const json_t *old_doc,
		  const json_t *new_doc)
{
	json_t *o = (json_t *)old_doc, *n = (json_t *)new_doc;
	json_t *ro = json_object_get(o, "resources");
	json_t *rn = json_object_get(n, "resources");
	struct walk w = { .s = s, .res = "*" };
	const char *k;
	json_t *v;
	int rc;

	/* "*" names the defaults: no resource may have that name (none that
	 * shd_config_load takes does) */
	if (!json_is_object(o) || !json_is_object(n) ||
	    !json_is_object(ro) || !json_is_object(rn) ||
	    json_object_get(ro, "*") || json_object_get(rn, "*"))
		return SHD_EINVAL;
	rc = walk_value(&w, json_object_get(o, "defaults"),
			json_object_get(n, "defaults"));
	json_object_foreach(rn, k, v) {
		if (rc)
			break;
		w.res = k;
		rc = walk_value(&w, json_object_get(ro, k), v);
	}
	json_object_foreach(ro, k, v) {
		if (rc)
			break;
		w.res = k;
		if (!json_object_get(rn, k))
			rc = add(&w, v, NULL);
	}
	free(w.path);
	return rc;
}

/* A growing string; on out of memory it stays NULL. */
struct sb {
	char *p;
	size_t n, cap;
	int bad;
};

static void sb_add(struct sb *b, const char *s, size_t l)
{
	if (b->bad)
		return;
	if (b->n + l + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *np;

		while (cap < b->n + l + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->bad = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, l);
	b->n += l;
	b->p[b->n] = 0;
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* ----------------------------------------------------------------- apply */

static int scaled_knob(const char *k)
{
	return !strcmp(k, "replicas") || !strcmp(k, "storage");
}

json_t *shd_sync_scale(const char *resource, char *const *comp,
		       size_t ncomp, const json_t *v, double f)
{
	json_t *x, *doc, *res, *s, *out = NULL;

	if (!v)
		return NULL;
	if (!strcmp(resource, "*") || (ncomp && !scaled_knob(comp[0])))
		return json_deep_copy(v);
	/*
	 * The value wrapped in a one-resource document, scaled by
	 * shd_config_shadow itself and taken out again: one rule, one place.
	 */
	if (!(x = json_deep_copy(v)))
		return NULL;
	for (size_t i = ncomp; i-- > 0;) {
		json_t *o = json_object();

		if (!o || json_object_set_new(o, comp[i], x) < 0) {
			json_decref(o ? o : x);
			return NULL;
		}
		x = o;
	}
	doc = json_object();
	res = json_object();
	if (!doc || !res || json_object_set_new(res, "x", x) < 0) {
		json_decref(doc);
		json_decref(res ? res : x);
		return NULL;
	}
	if (json_object_set_new(doc, "resources", res) < 0) {
		json_decref(doc);
		return NULL;
	}
	if ((s = shd_config_shadow(doc, f, ""))) {
		x = json_object_get(json_object_get(s, "resources"), "x");
		for (size_t i = 0; i < ncomp && x; i++)
			x = json_object_get(x, comp[i]);
		out = json_incref(x);
		json_decref(s);
	}
	json_decref(doc);
	return out;
}

/*
 * Sets member K of object O to V (a new reference, taken; NULL removes
 * it). 0 or SHD_ENOMEM.
 */
static int put(json_t *o, const char *k, json_t *v)
{
	if (!v) {
		json_object_del(o, k);
		return 0;
	}
	return json_object_set_new(o, k, v) < 0 ? SHD_ENOMEM : 0;
}

/* The key's text for messages: "web.replicas.max", "defaults.cooldown". */
static void sb_where(struct sb *b, const struct shd_sync_change *c);

/*
 * Member I of the full path of C's key from the top of a document:
 * "resources", NAME, comp... or "defaults", comp...
 */
static const char *part(const struct shd_sync_change *c, size_t i)
{
	if (!strcmp(c->resource, "*"))
		return i == 0 ? "defaults" : c->comp[i - 1];
	return i == 0 ? "resources" : i == 1 ? c->resource : c->comp[i - 2];
}

/* The change C applied to the shadow S (NW: production's new document). */
static int apply_one(struct shd_sync_change *c, json_t *s, const json_t *nw,
		     double f, char *err, size_t n)
{
	size_t base = strcmp(c->resource, "*") ? 2 : 1, np = base + c->ncomp;
	json_t *o = s, *no = (json_t *)nw, *v = NULL;
	const char *k = part(c, np - 1);
	struct sb b = { 0 };

	/* down to the key's parent; the first object the shadow lacks (or
	 * has as something else) comes whole from production */
	for (size_t i = 0; i + 1 < np; i++) {
		json_t *child = json_object_get(o, part(c, i));

		no = json_object_get(no, part(c, i));
		if (json_is_object(child)) {
			o = child;
			continue;
		}
		if (i + 1 < base) {	/* "resources" itself: checked */
			snprintf(err, n, "$.%s: not an object", part(c, i));
			return SHD_EINVAL;
		}
		if (!no)	/* gone from production too */
			return 0;
		v = shd_sync_scale(c->resource, c->comp, i + 1 - base, no, f);
		if (!v)
			goto unscalable;
		c->own = 1;	/* the shadow had no such object */
		if (put(o, part(c, i), v))
			return SHD_ENOMEM;
		v = json_object_get(o, part(c, i));
		for (size_t j = i + 1; j < np && v; j++)
			v = json_object_get(v, part(c, j));
		c->sto = json_incref(v);
		return 0;
	}
	c->sfrom = json_incref(json_object_get(o, k));
	if (c->to && !(v = shd_sync_scale(c->resource, c->comp, c->ncomp,
					  c->to, f)))
		goto unscalable;
	if (put(o, k, v))
		return SHD_ENOMEM;
	c->sto = json_incref(json_object_get(o, k));
	if (!same(c->sfrom, c->sto)) {
		json_t *want = shd_sync_scale(c->resource, c->comp, c->ncomp,
					      c->from, f);

		c->own = !same(c->sfrom, want);
		json_decref(want);
	}
	return 0;
unscalable:
	sb_where(&b, c);
	snprintf(err, n, "%s: cannot scale %s for the shadow (not a quantity)",
		 b.p && !b.bad ? b.p : "?", c->ncomp ? "the value" : "it");
	free(b.p);
	return SHD_EINVAL;
}

int shd_sync_apply(struct shd_sync *s, json_t *shadow, const json_t *new_doc,
		   double f, const char *sha, char *err, size_t n)
{
	json_t *sh, *ver;
	int rc;

	if (!json_is_object(shadow) || !json_is_object(new_doc) ||
	    !json_is_object(json_object_get(shadow, "resources")) ||
	    !json_is_object(json_object_get(new_doc, "resources")) ||
	    !(f > 0 && f <= 1)) {
		snprintf(err, n, "$: not a configuration (an object with "
			 "\"resources\")");
		return SHD_EINVAL;
	}
	for (size_t i = 0; i < s->n; i++) {
		json_decref(s->c[i].sfrom);
		json_decref(s->c[i].sto);
		s->c[i].sfrom = s->c[i].sto = NULL;
		s->c[i].own = 0;
		if ((rc = apply_one(&s->c[i], shadow, new_doc, f, err, n)))
			goto fail;
		s->c[i].applied = 1;
	}
	sh = json_object_get(shadow, "shadow");
	if (!json_is_object(sh)) {
		/* set_new takes SH even when it fails */
		if (!(sh = json_object()) ||
		    json_object_set_new(shadow, "shadow", sh) < 0 ||
		    json_object_set_new(sh, "fraction", json_real(f)) < 0)
			goto nomem;
	}
	if (json_object_set_new(sh, "production_sha256", json_string(sha)) < 0)
		goto nomem;
	if ((ver = json_object_get(new_doc, "shd_config")) &&
	    json_object_set_new(shadow, "shd_config", json_deep_copy(ver)) < 0)
		goto nomem;
	return 0;
nomem:
	rc = SHD_ENOMEM;
fail:
	if (rc == SHD_ENOMEM)
		snprintf(err, n, "out of memory");
	return rc;
}

/* ----------------------------------------------------------------- check */

int shd_sync_check(const json_t *shadow, const char *name, char *err,
		   size_t n)
{
	const char *dir = getenv("TMPDIR");
	char tmp[4096], e2[1024];
	struct shd_config c;
	char *text;
	size_t l;
	int fd, rc;

	if (shd_tmp_template(tmp, sizeof(tmp), dir, "shd-sync-") &&
	    shd_tmp_template(tmp, sizeof(tmp), "/tmp", "shd-sync-")) {
		snprintf(err, n, "no room for a temporary file name");
		return SHD_EIO;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		snprintf(err, n, "%s: %s", tmp, strerror(errno));
		return SHD_EIO;
	}
	if (!(text = json_dumps(shadow, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(15)))) {
		close(fd);
		unlink(tmp);
		snprintf(err, n, "%s: out of memory", name);
		return SHD_ENOMEM;
	}
	rc = shd_write_all(fd, text, strlen(text));
	free(text);
	if (close(fd) != 0 || rc != 0) {
		snprintf(err, n, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return SHD_EIO;
	}
	rc = shd_config_load(&c, tmp, e2, sizeof(e2));
	unlink(tmp);
	if (rc == 0) {
		shd_config_release(&c);
		return 0;
	}
	/* the message names the temporary file: name NAME instead */
	l = strlen(tmp);
	snprintf(err, n, "%s%s", name, strncmp(e2, tmp, l) ? e2 : e2 + l);
	return rc;
}

/* ----------------------------------------------------------------- lines */

/* S (a name or a key's member), at most MAX bytes of it, escaped. */
static void sb_name(struct sb *b, const char *s, int dot, size_t max)
{
	size_t start = b->n;

	for (; *s && b->n - start < max; s++) {
		unsigned char ch = (unsigned char)*s;
		char e[8];

		if (ch < 0x20 || ch == 0x7f || ch == ',' || ch == '\\' ||
		    (dot && ch == '.')) {
			snprintf(e, sizeof(e), "\\u%04x", ch);
			sb_str(b, e);
		} else {
			sb_add(b, (const char *)&ch, 1);
		}
	}
}

/* The dotted key of C, cut after about MAX bytes. */
static void sb_key(struct sb *b, const struct shd_sync_change *c, size_t max)
{
	size_t start = b->n;

	for (size_t i = 0; i < c->ncomp && b->n - start < max; i++) {
		if (i)
			sb_str(b, ".");
		sb_name(b, c->comp[i], 1, max - (b->n - start));
	}
}

/* V as compact JSON; ABSENT when NULL; "(N bytes)" over MAX (0: any). */
static void sb_value(struct sb *b, const json_t *v, const char *absent,
		     size_t max)
{
	char *t;

	if (!v) {
		sb_str(b, absent);
		return;
	}
	if (!(t = json_dumps(v, DUMP_FLAGS))) {
		b->bad = 1;
		return;
	}
	if (max && strlen(t) > max) {
		char m[48];

		snprintf(m, sizeof(m), "\"(%zu bytes)\"", strlen(t));
		sb_str(b, m);
	} else {
		sb_str(b, t);
	}
	free(t);
}

static char *sb_done(struct sb *b)
{
	if (b->bad || !b->p) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

static void sb_where(struct sb *b, const struct shd_sync_change *c)
{
	sb_name(b, strcmp(c->resource, "*") ? c->resource : "defaults", 0,
		(size_t)-1);
	if (c->ncomp) {
		sb_str(b, ".");
		sb_key(b, c, (size_t)-1);
	}
}

char *shd_sync_line(const struct shd_sync_change *c)
{
	struct sb b = { 0 };
	int defaults = !strcmp(c->resource, "*");

	sb_where(&b, c);
	sb_str(&b, ": ");
	if (!c->ncomp && !defaults && (!c->from || !c->to)) {
		sb_str(&b, c->to ? "added" : "removed");
		return sb_done(&b);
	}
	sb_value(&b, c->from, "(none)", 0);
	sb_str(&b, " -> ");
	sb_value(&b, c->to, "(none)", 0);
	if (c->applied && (!same(c->sfrom, c->from) || !same(c->sto, c->to))) {
		sb_str(&b, " (shadow ");
		sb_value(&b, c->sfrom, "(none)", 0);
		sb_str(&b, " -> ");
		sb_value(&b, c->sto, "(none)", 0);
		sb_str(&b, ")");
	}
	return sb_done(&b);
}

char *shd_sync_event(const struct shd_sync_change *c, int64_t t)
{
	struct sb b = { 0 };
	char ts[40];

	shd_time_format(t, ts, sizeof(ts));
	sb_str(&b, ts);
	sb_str(&b, ",");
	sb_name(&b, c->resource, 0, EVENT_NAME_MAX);
	sb_str(&b, ",");
	sb_key(&b, c, EVENT_NAME_MAX);
	sb_str(&b, ",");
	sb_value(&b, c->from, "", EVENT_VALUE_MAX);
	sb_str(&b, ",");
	sb_value(&b, c->to, "", EVENT_VALUE_MAX);
	sb_str(&b, "\n");
	return sb_done(&b);
}

int shd_sync_events_append(const char *path, const struct shd_sync *s,
			   int64_t t, char *err, size_t n)
{
	int fd, e;

	if (!s->n)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		goto io;
	for (size_t i = 0; i < s->n; i++) {
		char *line = shd_sync_event(&s->c[i], t);
		size_t l;
		ssize_t w;

		if (!line) {
			close(fd);
			snprintf(err, n, "%s: out of memory", path);
			return SHD_ENOMEM;
		}
		/* one write per line: appenders never interleave within one
		 * (a short write to a regular file means a full disk) */
		l = strlen(line);
		do
			w = write(fd, line, l);
		while (w < 0 && errno == EINTR);
		free(line);
		if (w >= 0 && (size_t)w != l)
			errno = ENOSPC;
		if (w < 0 || (size_t)w != l)
			goto io_fd;
	}
	if (fsync(fd) != 0)
		goto io_fd;
	if (close(fd) != 0)
		goto io;
	return 0;
io_fd:
	e = errno;
	close(fd);
	errno = e;
io:
	snprintf(err, n, "%s: %s", path, strerror(errno));
	return SHD_EIO;
}

/* ------------------------------------------------------------------ lock */

int shd_sync_lock(const char *path, int exclusive, long long wait_ms,
		  int *fd, char *err, size_t n)
{
	const long long poll_ms = 20;
	char lpath[4096];
	struct timespec t0, now;
	int e;

	*fd = -1;
	if (snprintf(lpath, sizeof(lpath), "%s.lock", path) >=
	    (int)sizeof(lpath)) {
		errno = ENAMETOOLONG;
		goto io;
	}
	*fd = exclusive ? open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644)
			: open(lpath, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		if (!exclusive && errno == ENOENT)
			return 0;	/* never locked: nobody to wait for */
		goto io;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (flock(*fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
		struct timespec ts = { 0, poll_ms * 1000000L };
		long long waited;

		if (errno == EINTR)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (long long)(now.tv_sec - t0.tv_sec) * 1000 +
			 (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (errno != EWOULDBLOCK || (wait_ms >= 0 && waited >= wait_ms))
			goto io_fd;
		if (wait_ms >= 0 && wait_ms - waited < poll_ms)
			ts.tv_nsec = (long)(wait_ms - waited) * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 0;
io_fd:
	e = errno;
	close(*fd);
	*fd = -1;
	errno = e;
io:
	e = errno;
	snprintf(err, n, "%s: %s", lpath, e == EWOULDBLOCK ? "held by "
		 "another process" : strerror(e));
	errno = e;
	return SHD_EIO;
}
