/*
 * events.c - a file of known events, parsed, sorted and looked up
 * (events.h has the format).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "shd.h"

void shd_events_init(struct shd_events *e)
{
	memset(e, 0, sizeof(*e));
	e->sorted = 1;
}

void shd_events_release(struct shd_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->ev[i].resource);
	free(e->ev);
	shd_events_init(e);
}

int shd_events_add(struct shd_events *e, int64_t t, const char *res)
{
	char *r = NULL;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		struct shd_event *nv;

		if (cap > SIZE_MAX / sizeof(*nv))
			return SHD_ENOMEM;
		if (!(nv = realloc(e->ev, cap * sizeof(*nv))))
			return SHD_ENOMEM;
		e->ev = nv;
		e->cap = cap;
	}
	if (res && *res && strcmp(res, "*") && !(r = strdup(res)))
		return SHD_ENOMEM;
	if (e->n && t < e->ev[e->n - 1].t)
		e->sorted = 0;
	e->ev[e->n].t = t;
	e->ev[e->n].resource = r;
	e->n++;
	return 0;
}

static int cmp_event(const void *a, const void *b)
{
	const struct shd_event *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

void shd_events_sort(struct shd_events *e)
{
	if (!e->sorted && e->n > 1)
		qsort(e->ev, e->n, sizeof(*e->ev), cmp_event);
	e->sorted = 1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Undoes shd_sync_event's escapes in S in place: "\u00XX" (XX not 00)
 * becomes the byte XX; anything else stays as it is.
 */
static void unescape(char *s)
{
	char *w = s;

	while (*s) {
		int hi, lo;

		if (s[0] == '\\' && s[1] == 'u' && s[2] == '0' &&
		    s[3] == '0' && (hi = hexval(s[4])) >= 0 &&
		    (lo = hexval(s[5])) >= 0 && (hi || lo)) {
			*w++ = (char)(hi * 16 + lo);
			s += 6;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* One line (L bytes, no end of line, no NUL) of NAME, number LINENO. */
static int parse_line(struct shd_events *e, const char *l, size_t len,
		      const char *name, size_t lineno, char *err, size_t n)
{
	char line[SHD_EVENTS_LINE_MAX + 1];
	char *comma, *res = NULL, *end;
	int64_t t;

	memcpy(line, l, len);
	line[len] = '\0';
	if ((comma = strchr(line, ','))) {
		*comma = '\0';
		res = comma + 1;
		if ((end = strchr(res, ',')))
			*end = '\0';	/* a description follows */
		unescape(res);
	}
	if (shd_time_parse(line, strlen(line), &t) < 0) {
		if (lineno == 1)
			return 0;	/* a header line */
		snprintf(err, n, "%s:%zu: '%.64s' is not a time", name,
			 lineno, line);
		return SHD_EFORMAT;
	}
	return shd_events_add(e, t, res);
}

/* Is S (L bytes) only blanks? */
static int blank(const char *s, size_t l)
{
	for (size_t i = 0; i < l; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int shd_events_parse(struct shd_events *e, const char *buf, size_t len,
		     const char *name, char *err, size_t n)
{
	const char *p = buf, *end = buf + len;
	size_t lineno = 0;
	int rc = 0;

	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *cr;
		size_t l = (size_t)(le - p);

		lineno++;
		if (memchr(p, '\0', l)) {
			snprintf(err, n, "%s:%zu: a NUL byte (not a text "
				 "file)", name, lineno);
			rc = SHD_EFORMAT;
			break;
		}
		if (l && p[l - 1] == '\r')
			l--;
		if (l > SHD_EVENTS_LINE_MAX) {
			snprintf(err, n, "%s:%zu: line too long", name,
				 lineno);
			rc = SHD_EFORMAT;
			break;
		}
		if ((cr = memchr(p, '\r', l)))	/* as shd-drift always did */
			l = (size_t)(cr - p);
		if (l && p[0] != '#' && !blank(p, l))
			rc = parse_line(e, p, l, name, lineno, err, n);
		p = le + (nl != NULL);
	}
	if (rc == SHD_ENOMEM)
		snprintf(err, n, "%s: out of memory", name);
	shd_events_sort(e);
	return rc;
}

int shd_events_load(struct shd_events *e, const char *path, char *err,
		    size_t n)
{
	FILE *fp = fopen(path, "rb");
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int rc, en;

	if (!fp)
		goto io;
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? 2 * cap : 65536;
			if (!(nb = realloc(buf, cap))) {
				free(buf);
				fclose(fp);
				snprintf(err, n, "%s: out of memory", path);
				return SHD_ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		en = errno;
		free(buf);
		fclose(fp);
		errno = en;
		goto io;
	}
	fclose(fp);
	rc = shd_events_parse(e, buf, len, path, err, n);
	free(buf);
	return rc;
io:
	en = errno;
	snprintf(err, n, "%s: %s", path, strerror(en));
	errno = en;
	return SHD_EIO;
}

int shd_events_any(const struct shd_events *e, const char *res, int64_t t0,
		   int64_t t1)
{
	size_t lo = 0, hi = e->n;

	assert(e->sorted);
	while (lo < hi) {	/* the first event at or after t0 */
		size_t mid = lo + (hi - lo) / 2;

		if (e->ev[mid].t < t0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < e->n && e->ev[i].t < t1; i++)
		if (!res || !e->ev[i].resource ||
		    !strcmp(e->ev[i].resource, res))
			return 1;
	return 0;
}

size_t shd_events_count(const struct shd_events *e, const char *res)
{
	size_t c = 0;

	for (size_t i = 0; i < e->n; i++)
		c += !res || !e->ev[i].resource ||
		     !strcmp(e->ev[i].resource, res);
	return c;
}
