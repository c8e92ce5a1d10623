/*
 * exec_kubectl.c - the kubectl executor (exec.h).
 *
 * Manifest mode edits a file of a GitOps checkout and needs no cluster.
 * The file is split into YAML documents on "---" lines; each document
 * that mentions the workload and its kind is written to a temporary file
 * and asked, with `kubectl patch --local -o jsonpath`, for its kind, name
 * and the fields we touch. Exactly one must be KIND/WORKLOAD. kubectl patches
 * that document (`kubectl patch --local --type strategic -o json`): its
 * result is the truth. What is written is, where it can be, the old text
 * with only the changed values replaced or the missing keys added (a
 * diff of a line or two; comments, key order and flow style kept), and
 * only when kubectl reads that text as the very object of its own patch
 * (JSON equal); else the document as kubectl prints it (block style,
 * keys sorted) after its own leading comments. Either is then validated
 * offline (validate()); a document that fails leaves the file alone. The
 * other documents and the separators stay byte for byte. A file already
 * at the value is left alone, so repeating a change makes no diff.
 *
 * kubectl parses the YAML, not us: it knows the kinds, the strategic
 * merge of containers by name, and the quantity syntax; the text edit
 * (ye_*) only finds lines, and kubectl checks each of its results. The
 * cost is a kubectl run per candidate document and three per change.
 *
 * Live mode runs `kubectl scale` / `kubectl set resources` against the
 * cluster of the configured context.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "shd.h"
#include "exec_priv.h"

/* What the jsonpath query prints about a document, a line each. */
enum { KI_KIND, KI_NAME, KI_NS, KI_CONTAINERS, KI_REPLICAS, KI_LIM_CPU,
       KI_LIM_MEM, KI_REQ_CPU, KI_REQ_MEM, KI_N };

#define CT ".spec.template.spec.containers"

struct kdoc {
	size_t start, end;	/* bytes of the file; end at a "---" line */
	size_t line;		/* of start, from 1 */
};

struct kinfo {
	char *out;		/* kubectl's output; F points into it */
	const char *f[KI_N];
};

struct kx {
	const struct shd_executor *x;
	const char *container;
	char dir[PATH_MAX];	/* mkdtemp's, "" until made */
	char doc[PATH_MAX];	/* DIR/<basename of the manifest> */
	char *buf;		/* the manifest */
	size_t len;
	struct kdoc *d;
	size_t nd;
	size_t match;		/* the document of KIND/WORKLOAD */
	struct kinfo info;	/* of that document */
	char *err;
	size_t n;
};

/* ------------------------------------------------------------ splitting */

/* Is LEN bytes at P "---", then blanks and maybe a comment? */
static int is_sep(const char *p, size_t len)
{
	size_t i = 3;

	if (len < 3 || memcmp(p, "---", 3) != 0)
		return 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return i == len || (i > 3 && p[i] == '#');
}

/* Is the line at P blank, a comment or a "..." end marker? */
static int is_blank(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return i == len || p[i] == '#' ||
	       (i == 0 && len >= 3 && memcmp(p, "...", 3) == 0);
}

/* Bytes of the leading blank and comment lines of P (LEN bytes). */
static size_t lead_len(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - p) : len;

		if (!is_blank(p + i, e - i))
			break;
		i = nl ? e + 1 : len;
	}
	return i;
}

static int add_doc(struct kx *k, size_t *cap, size_t start, size_t end,
		   size_t line)
{
	if (k->nd == *cap) {
		size_t nc = *cap ? 2 * *cap : 8;
		struct kdoc *nd = realloc(k->d, nc * sizeof(*nd));

		if (!nd)
			return SHD_ENOMEM;
		k->d = nd;
		*cap = nc;
	}
	k->d[k->nd++] = (struct kdoc){ start, end, line };
	return 0;
}

/* K->d: the documents of K->buf, between the separator lines. */
static int split(struct kx *k)
{
	size_t i = 0, start = 0, line = 1, first = 1, cap = 0;

	while (i < k->len) {
		const char *nl = memchr(k->buf + i, '\n', k->len - i);
		size_t e = nl ? (size_t)(nl - k->buf) : k->len;
		size_t next = nl ? e + 1 : k->len;

		if (is_sep(k->buf + i, e - i)) {
			if (add_doc(k, &cap, start, i, first))
				return SHD_ENOMEM;
			start = next;
			first = line + 1;
		}
		i = next;
		line++;
	}
	return add_doc(k, &cap, start, k->len, first);
}

/* ------------------------------------------------------------ kubectl */

static void kx_release(struct kx *k)
{
	if (k->doc[0])
		unlink(k->doc);
	if (k->dir[0])
		rmdir(k->dir);
	free(k->info.out);
	free(k->d);
	free(k->buf);
}

/* Makes the temporary directory and K->doc's name in it. */
static int mk_dir(struct kx *k)
{
	const char *base = strrchr(k->x->manifest, '/');
	int e;

	if (shd_tmp_template(k->dir, sizeof(k->dir), NULL, "shd-kubectl.") ||
	    !mkdtemp(k->dir)) {
		e = errno;
		k->dir[0] = '\0';
		return shd_exec_fail(k->err, k->n, SHD_EIO, "cannot make a "
				     "temporary directory: %s", strerror(e));
	}
	/* the same name as the manifest, for kubectl's messages */
	base = base ? base + 1 : k->x->manifest;
	e = snprintf(k->doc, sizeof(k->doc), "%s/%s", k->dir, base);
	if (e < 0 || (size_t)e >= sizeof(k->doc)) {
		k->doc[0] = '\0';
		return shd_exec_fail(k->err, k->n, SHD_EINVAL, "%s: name too "
				     "long", k->x->manifest);
	}
	return 0;
}

/* Writes the LEN bytes of TEXT to K->doc. */
static int put_text(struct kx *k, const char *text, size_t len)
{
	int fd, rc;

	if (!k->dir[0] && (rc = mk_dir(k)))
		return rc;
	fd = open(k->doc, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || shd_write_all(fd, text, len) < 0) {
		rc = errno;
		if (fd >= 0)
			close(fd);
		return shd_exec_fail(k->err, k->n, SHD_EIO, "cannot write "
				     "'%s': %s", k->doc, strerror(rc));
	}
	if (close(fd) < 0)
		return shd_exec_fail(k->err, k->n, SHD_EIO, "cannot write "
				     "'%s': %s", k->doc, strerror(errno));
	return 0;
}

/* The jsonpath template for the fields of enum KI_* (malloc'd). */
static char *query(const char *c)
{
	char *q = NULL;
#define NL "{\"\\n\"}"	/* a newline in kubectl's jsonpath */
#define RS "{" CT "[?(@.name==\"%s\")].resources."
	int rc = asprintf(&q,
		"{.kind}" NL "{.metadata.name}" NL "{.metadata.namespace}" NL
		"{" CT "[*].name}" NL "{.spec.replicas}" NL
		RS "limits.cpu}" NL RS "limits.memory}" NL
		RS "requests.cpu}" NL RS "requests.memory}" NL,
		c, c, c, c);
#undef RS
#undef NL

	return rc < 0 ? NULL : q;
}

/* MSG (kubectl's) without our temporary directory in file names */
static void untemp(const struct kx *k, char *msg)
{
	size_t dl = strlen(k->dir);
	char *p;

	while (dl && (p = strstr(msg, k->dir)) && p[dl] == '/')
		memmove(p, p + dl + 1, strlen(p + dl + 1) + 1);
}

/*
 * RC from shd_run of kubectl on document I, MSG its message, as our
 * error: kubectl refusing the document is bad input (SHD_EFORMAT); not
 * running, or killed, is not. WHAT may say what was asked.
 */
static int kfail(struct kx *k, size_t i, int rc, char *msg, const char *what)
{
	if (rc == SHD_EIO && strstr(msg, ": exit status "))
		rc = SHD_EFORMAT;
	untemp(k, msg);
	return shd_exec_fail(k->err, k->n, rc, "%s: document at line %zu: "
			     "%s%s", k->x->manifest, k->d[i].line, what, msg);
}

/* Asks kubectl about the document in K->doc. */
static int doc_info(struct kx *k, size_t i, struct kinfo *in)
{
	char *q = query(k->container), *o = NULL, msg[1024];
	char *jp = NULL;
	int rc;

	memset(in, 0, sizeof(*in));
	if (!q || asprintf(&jp, "jsonpath=%s", q) < 0) {
		free(q);
		return shd_exec_fail(k->err, k->n, SHD_ENOMEM, "out of memory");
	}
	/* merge, not strategic: it works for every kind, CRDs included */
	char *argv[] = { "kubectl", "patch", "--local", "-f", k->doc,
			 "--type", "merge", "-p", "{}", "-o", jp, NULL };

	rc = shd_run(argv, k->x->timeout, &o, msg, sizeof(msg));
	free(jp);
	free(q);
	if (rc)
		return kfail(k, i, rc, msg, "");
	in->out = o;
	for (int f = 0; f < KI_N; f++) {
		char *nl = strchr(o, '\n');

		in->f[f] = o;
		if (!nl)
			break;
		*nl = '\0';
		o = nl + 1;
	}
	for (int f = 0; f < KI_N; f++)
		if (!in->f[f])
			in->f[f] = "";
	return 0;
}

static int is_match(const struct kx *k, const struct kinfo *in)
{
	const char *ns = in->f[KI_NS];

	/* doc_info filled in->f, or failed (shd_exec_fail is never 0) */
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
	return strcasecmp(in->f[KI_KIND], k->x->kind) == 0 &&
	       strcmp(in->f[KI_NAME], k->x->workload) == 0 &&
	       (!k->x->namespace || !*ns || strcmp(ns, k->x->namespace) == 0);
}

/* Does P (LEN bytes) hold W, in any case? */
static int has_word(const char *p, size_t len, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; wl && i + wl <= len; i++)
		if (strncasecmp(p + i, w, wl) == 0)
			return 1;
	return 0;
}

/* Finds the one document of KIND/WORKLOAD: K->match and K->info. */
static int find(struct kx *k)
{
	size_t hits = 0;
	struct kinfo in;
	int rc;

	for (size_t i = 0; i < k->nd; i++) {
		const char *p = k->buf + k->d[i].start;
		size_t len = k->d[i].end - k->d[i].start;

		if (lead_len(p, len) == len)
			continue;	/* comments only: kubectl says "no
					 * objects passed" */
		/*
		 * A document not holding the name and the kind as text
		 * cannot be named so or be of that kind (anchors do not
		 * cross documents); skipping it spares a kubectl run per
		 * unrelated document.
		 */
		if (!memmem(p, len, k->x->workload, strlen(k->x->workload)) ||
		    !has_word(p, len, k->x->kind))
			continue;
		if ((rc = put_text(k, p, len)) ||
		    (rc = doc_info(k, i, &in)))
			return rc;
		if (!is_match(k, &in)) {
			free(in.out);
			continue;
		}
		if (hits++) {
			free(in.out);
			continue;
		}
		k->match = i;
		k->info = in;
	}
	if (hits == 1)
		return 0;
	if (hits == 0)
		return shd_exec_fail(k->err, k->n, SHD_EFORMAT, "%s: no %s '%s'"
				     " in it", k->x->manifest, k->x->kind,
				     k->x->workload);
	return shd_exec_fail(k->err, k->n, SHD_EFORMAT, "%s: %zu documents "
			     "hold %s '%s'", k->x->manifest, hits, k->x->kind,
			     k->x->workload);
}

static int kx_open(struct kx *k, const struct shd_resource_conf *r,
		   char *err, size_t n)
{
	int rc;

	memset(k, 0, sizeof(*k));
	k->x = &r->exec;
	k->container = r->exec.container ? r->exec.container : r->name;
	k->err = err;
	k->n = n;
	rc = shd_exec_slurp(k->x->manifest, &k->buf, &k->len);
	if (rc == SHD_EIO)
		return shd_exec_fail(err, n, rc, "cannot read '%s': %s",
				     k->x->manifest, strerror(errno));
	if (rc || (rc = split(k)))
		return shd_exec_fail(err, n, rc, "%s: out of memory",
				     k->x->manifest);
	return find(k);
}

/* Does the matched workload have our container? */
static int has_container(const struct kx *k)
{
	const char *s = k->info.f[KI_CONTAINERS];
	size_t len = strlen(k->container);

	while (*s) {
		size_t w = strcspn(s, " ");

		if (w == len && memcmp(s, k->container, len) == 0)
			return 1;
		s += w + (s[w] == ' ');
	}
	return 0;
}

/* A quantity field of the match: inf when empty (no limit). */
static int field(const struct kx *k, int f, double *v)
{
	const char *s = k->info.f[f];

	if (!*s) {
		*v = INFINITY;
		return 0;
	}
	if (shd_quantity_parse(s, v) == 0)
		return 0;
	return shd_exec_fail(k->err, k->n, SHD_EFORMAT, "%s: %s '%s': bad "
			     "quantity '%s'", k->x->manifest, k->x->kind,
			     k->x->workload, s);
}

/* The value of KNOB in the matched document. */
static int current(const struct kx *k, int knob, double *v)
{
	const char *s = k->info.f[KI_REPLICAS];
	char *end;

	if (knob == SHD_KNOB_REPLICAS) {
		/* no spec.replicas: Kubernetes' default of 1 */
		*v = *s ? strtod(s, &end) : 1;
		if (*s && (*end || !(*v >= 0)))
			return shd_exec_fail(k->err, k->n, SHD_EFORMAT, "%s: "
					     "bad replicas '%s'",
					     k->x->manifest, s);
		return 0;
	}
	if (!has_container(k))
		return shd_exec_fail(k->err, k->n, SHD_EFORMAT, "%s: %s '%s' "
				     "has no container '%s'", k->x->manifest,
				     k->x->kind, k->x->workload,
				     k->container);
	return field(k, knob == SHD_KNOB_CPU ? KI_LIM_CPU : KI_LIM_MEM, v);
}

/* ------------------------------------------------------------- editing */

/*
 * The text edit (see the top of the file). The document is read as lines
 * and their indentation; a block is the lines of one mapping, its keys at
 * column COL (an item of a sequence starts on its "- " line, its first
 * key after the dash). What it knows: block mappings and sequences, flow
 * mappings of scalars on one line, plain and quoted one-line scalars.
 * Everything else makes it give up (-1), and kubectl's YAML is written.
 */
struct yline {
	size_t off, len;	/* in the document, without the '\n' */
	int ind;		/* leading spaces; -1: blank or a comment */
};

struct yblk {
	size_t from, to;	/* lines */
	int col;		/* of the keys */
	int item;		/* the first line is a "- " line */
};

struct yedit {
	size_t off, len;	/* bytes replaced */
	char *text;		/* by these (malloc'd) */
};

struct yed {
	const char *t;		/* the document */
	size_t n;
	struct yline *l;
	size_t nl;
	struct yedit e[4];
	size_t ne;
};

static void ye_release(struct yed *y)
{
	for (size_t i = 0; i < y->ne; i++)
		free(y->e[i].text);
	free(y->l);
}

/* Y->l; -1 where the text holds what the edit leaves to kubectl (tabs
 * in the indentation, CRLF line ends) */
static int ye_lines(struct yed *y)
{
	size_t cap = 0;

	for (size_t i = 0; i < y->n;) {
		const char *nl = memchr(y->t + i, '\n', y->n - i);
		size_t e = nl ? (size_t)(nl - y->t) : y->n;
		struct yline ln = { i, e - i, 0 };

		while ((size_t)ln.ind < ln.len && y->t[i + ln.ind] == ' ')
			ln.ind++;
		if ((ln.len && y->t[e - 1] == '\r') ||
		    ((size_t)ln.ind < ln.len && y->t[i + ln.ind] == '\t'))
			return -1;
		if ((size_t)ln.ind == ln.len || y->t[i + ln.ind] == '#')
			ln.ind = -1;
		if (y->nl == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct yline *l = realloc(y->l, nc * sizeof(*l));

			if (!l)
				return -1;
			y->l = l;
			cap = nc;
		}
		y->l[y->nl++] = ln;
		i = nl ? e + 1 : y->n;
	}
	return 0;
}

static const char *ye_end(const struct yed *y, size_t i)
{
	return y->t + y->l[i].off + y->l[i].len;
}

/* Is line I "- ..." (or "-" alone)? */
static int ye_dash(const struct yed *y, size_t i)
{
	const char *p = y->t + y->l[i].off + y->l[i].ind;

	return y->l[i].ind >= 0 && *p == '-' &&
	       (p + 1 == ye_end(y, i) || p[1] == ' ');
}

/* Where KEY's value starts when line I of B holds "KEY:" at B's column */
static const char *ye_key(const struct yed *y, const struct yblk *b,
			  size_t i, const char *key)
{
	const char *p, *e = ye_end(y, i);
	size_t kl = strlen(key);

	if (y->l[i].ind < 0 ||
	    (y->l[i].ind != b->col && !(b->item && i == b->from)))
		return NULL;
	p = y->t + y->l[i].off + b->col;
	if (*p == '"' || *p == '\'') {
		if ((size_t)(e - p) < kl + 2 || p[kl + 1] != *p ||
		    memcmp(p + 1, key, kl) != 0)
			return NULL;
		p += kl + 2;
	} else {
		if ((size_t)(e - p) < kl || memcmp(p, key, kl) != 0)
			return NULL;
		p += kl;
	}
	if (p == e || *p != ':' || (p + 1 < e && p[1] != ' '))
		return NULL;
	return p + 1;
}

static size_t ye_find(const struct yed *y, const struct yblk *b,
		      const char *key, const char **val)
{
	for (size_t i = b->from; i < b->to; i++)
		if ((*val = ye_key(y, b, i, key)))
			return i;
	return SIZE_MAX;
}

enum { YV_BLOCK, YV_FLOW, YV_SCALAR, YV_OTHER };

static int ye_kind(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	if (p == e || *p == '#')
		return YV_BLOCK;
	if (*p == '{')
		return YV_FLOW;
	if (strchr("[&*!|>%@`", *p))
		return YV_OTHER;
	return YV_SCALAR;
}

/*
 * The scalar at P (before E, leading spaces skipped): [*S, *SE) with its
 * quotes, *Q the quote or 0. STOP ends a plain one besides " #" (",}" in
 * a flow mapping). -1 when it is not a one-line scalar.
 */
static int ye_scalar(const char *p, const char *e, const char *stop,
		     const char **s, const char **se, char *q)
{
	while (p < e && *p == ' ')
		p++;
	*s = p;
	*q = 0;
	if (p == e)
		return -1;
	if (*p == '"' || *p == '\'') {
		char c = *q = *p;

		for (p++; p < e; p++) {
			if (c == '"' && *p == '\\') {
				p++;
				continue;
			}
			if (*p == c && c == '\'' && p + 1 < e && p[1] == '\'') {
				p++;
				continue;
			}
			if (*p == c)
				break;
		}
		if (p >= e)
			return -1;
		*se = p + 1;
		return 0;
	}
	if (strchr("{[&*!|>%@`#", *p))
		return -1;
	while (p < e && !strchr(stop, *p) && !(*p == '#' && p[-1] == ' '))
		p++;
	while (p > *s && p[-1] == ' ')
		p--;
	*se = p;
	return 0;
}

/* Only blanks and a comment from P to E? */
static int ye_rest_ok(const char *p, const char *e)
{
	while (p < e && *p == ' ')
		p++;
	return p == e || *p == '#';
}

/* The block under the key on line I of B; -1 when there is none */
static int ye_child(const struct yed *y, const struct yblk *b, size_t i,
		    struct yblk *c)
{
	size_t j = i + 1;
	int seq;

	while (j < b->to && y->l[j].ind < 0)
		j++;
	if (j == b->to)
		return -1;
	seq = ye_dash(y, j);
	if (y->l[j].ind < b->col || (y->l[j].ind == b->col && !seq))
		return -1;
	c->from = j;
	c->col = y->l[j].ind;
	c->item = 0;
	for (c->to = j + 1; c->to < b->to; c->to++) {
		const struct yline *ln = &y->l[c->to];

		if (ln->ind < 0 || ln->ind > b->col)
			continue;
		if (ln->ind == b->col && seq && c->col == b->col &&
		    ye_dash(y, c->to))
			continue;	/* an indentless sequence goes on */
		break;
	}
	return 0;
}

/* The block mapping at KEYS[0..NK) under B */
static int ye_path(const struct yed *y, struct yblk *b,
		   const char *const *keys, size_t nk)
{
	for (size_t k = 0; k < nk; k++) {
		const char *v;
		size_t i = ye_find(y, b, keys[k], &v);
		struct yblk c;

		if (i == SIZE_MAX || ye_kind(v, ye_end(y, i)) != YV_BLOCK ||
		    ye_child(y, b, i, &c) != 0)
			return -1;
		*b = c;
	}
	return 0;
}

/* The item of sequence block S whose "name" is NAME */
static int ye_item(const struct yed *y, const struct yblk *s,
		   const char *name, struct yblk *it)
{
	int d = y->l[s->from].ind;

	if (!ye_dash(y, s->from))
		return -1;
	for (size_t i = s->from; i < s->to; i++) {
		const char *p, *v, *vs, *ve;
		size_t e = i + 1, k;
		char q;

		if (y->l[i].ind != d || !ye_dash(y, i))
			continue;
		while (e < s->to && !(y->l[e].ind == d && ye_dash(y, e)))
			e++;
		p = y->t + y->l[i].off + d + 1;
		while (p < ye_end(y, i) && *p == ' ')
			p++;
		if (p == ye_end(y, i) || *p == '#' || *p == '-')
			return -1;
		it->from = i;
		it->to = e;
		it->col = (int)(p - (y->t + y->l[i].off));
		it->item = 1;
		k = ye_find(y, it, "name", &v);
		if (k != SIZE_MAX &&
		    ye_scalar(v, ye_end(y, k), "", &vs, &ve, &q) == 0 &&
		    ye_rest_ok(ve, ye_end(y, k)) &&
		    (size_t)(ve - vs) == strlen(name) + 2 * (q != 0) &&
		    memcmp(vs + (q != 0), name, strlen(name)) == 0)
			return 0;
		i = e - 1;
	}
	return -1;
}

static int ye_push(struct yed *y, size_t off, size_t len, char *text)
{
	if (!text || y->ne == sizeof(y->e) / sizeof(y->e[0])) {
		free(text);
		return -1;
	}
	y->e[y->ne++] = (struct yedit){ off, len, text };
	return 0;
}

/* Would YAML read the N bytes at S, unquoted, as a number? */
static int ye_numeric(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && strchr("0123456789.", s[k]) && s[k])
		k++;
	return n && k == n;
}

/*
 * VAL as the new scalar in place of the old one [S, SE) (none: S NULL).
 * A count plain. Else in the old one's quotes, unless they were there
 * only for a number (cpu: "1" -> 750m); and quoted when YAML would read
 * it as a number (cpu "2": kubectl writes a string there, and the check
 * compares types). That is how kubectl itself writes them.
 */
static char *ye_text(const char *val, const char *s, const char *se,
		     int count)
{
	char q = s && se - s >= 2 && (*s == '"' || *s == '\'') ? *s : 0;
	char *t = NULL;

	if (q && ye_numeric(s + 1, (size_t)(se - s) - 2))
		q = 0;
	if (count)
		q = 0;
	else if (!q && ye_numeric(val, strlen(val)))
		q = '"';
	if ((q && asprintf(&t, "%c%s%c", q, val, q) < 0) ||
	    (!q && !(t = strdup(val))))
		return NULL;
	return t;
}

/* Replaces the scalar at V (the line ending at E) */
static int ye_set_scalar(struct yed *y, const char *v, const char *e,
			 const char *val, int count)
{
	const char *s, *se;
	char q;

	if (ye_scalar(v, e, "", &s, &se, &q) || !ye_rest_ok(se, e))
		return -1;
	return ye_push(y, (size_t)(s - y->t), (size_t)(se - s),
		       ye_text(val, s, se, count));
}

/* KEY in the one-line flow mapping at V ('{' after blanks) to VAL */
static int ye_set_flow(struct yed *y, const char *v, const char *e,
		       const char *key, const char *val, int count)
{
	const char *p = v, *last = NULL, *ks, *ke, *vs, *ve;
	size_t kl = strlen(key);
	char q, kq;
	char *t = NULL;

	while (*p == ' ')
		p++;
	for (p++;;) {
		while (p < e && *p == ' ')
			p++;
		if (p < e && *p == '}')
			break;
		/* KEY: VALUE, then ',' or '}' */
		if (ye_scalar(p, e, ":,}", &ks, &ke, &kq) || ke >= e ||
		    *ke != ':' || ke + 1 >= e || ke[1] != ' ')
			return -1;
		if (ye_scalar(ke + 1, e, ",}", &vs, &ve, &q))
			return -1;
		if ((size_t)(ke - ks) == kl + 2 * (kq != 0) &&
		    memcmp(ks + (kq != 0), key, kl) == 0)
			return ye_push(y, (size_t)(vs - y->t),
				       (size_t)(ve - vs),
				       ye_text(val, vs, ve, count));
		last = ve;
		for (p = ve; p < e && *p == ' '; p++)
			;
		if (p < e && *p == ',')
			p++;
		else if (p >= e || *p != '}')
			return -1;
	}
	if (!ye_rest_ok(p + 1, e))
		return -1;
	/* not there: after the last entry, or into "{}" */
	char *s = ye_text(val, NULL, NULL, count);

	if (!s || asprintf(&t, "%s%s: %s", last ? ", " : "", key, s) < 0)
		t = NULL;
	free(s);
	return ye_push(y, (size_t)((last ? last : p) - y->t), 0, t);
}

/* KEYS[0..NK) as new lines at column COL, VAL on the last, each line
 * ending in '\n' unless NOLAST */
static char *ye_lines_of(const char *const *keys, size_t nk, int col,
			 const char *val, int count)
{
	char *s = NULL, *v = ye_text(val, NULL, NULL, count);
	size_t len = 0;
	FILE *f = v ? open_memstream(&s, &len) : NULL;

	if (!f) {
		free(v);
		return NULL;
	}
	for (size_t k = 0; k < nk; k++)
		fprintf(f, "%*s%s:%s%s\n", col + 2 * (int)k, "", keys[k],
			k + 1 == nk ? " " : "", k + 1 == nk ? v : "");
	free(v);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* KEYS[0..NK) under B to VAL: the scalar replaced, what is missing added */
static int ye_set(struct yed *y, const struct yblk *b,
		  const char *const *keys, size_t nk, const char *val,
		  int count)
{
	const char *v;
	size_t i = ye_find(y, b, keys[0], &v), last;
	struct yblk c;

	if (i == SIZE_MAX) {
		/* after the block's last line */
		for (last = b->to; last > b->from && y->l[last - 1].ind < 0;
		     last--)
			;
		size_t off = last < y->nl ? y->l[last].off : y->n;
		char *s = ye_lines_of(keys, nk, b->col, val, count), *t = s;

		if (s && off == y->n && y->n && y->t[y->n - 1] != '\n' &&
		    asprintf(&t, "\n%s", s) < 0)
			t = NULL;
		if (t != s)
			free(s);
		return ye_push(y, off, 0, t);
	}
	switch (ye_kind(v, ye_end(y, i))) {
	case YV_SCALAR:
		return nk == 1 ? ye_set_scalar(y, v, ye_end(y, i), val, count)
			       : -1;
	case YV_FLOW: {
		const char *p = v, *e = ye_end(y, i);

		if (nk == 2)
			return ye_set_flow(y, v, e, keys[1], val, count);
		/* "resources: {}": made a block */
		while (*p == ' ')
			p++;
		if (nk < 2 || e - p < 2 || p[1] != '}' || !ye_rest_ok(p + 2, e))
			return -1;
		char *s = ye_lines_of(keys + 1, nk - 1, b->col + 2, val,
				      count), *t = NULL;

		/* the old line's '\n' ends the last new one */
		if (s && asprintf(&t, "\n%.*s", (int)strlen(s) - 1, s) < 0)
			t = NULL;
		free(s);
		return ye_push(y, (size_t)(v - y->t), (size_t)(p + 2 - v), t);
	}
	case YV_BLOCK:
		if (nk == 1 || ye_child(y, b, i, &c) || ye_dash(y, c.from))
			return -1;
		return ye_set(y, &c, keys + 1, nk - 1, val, count);
	default:
		return -1;
	}
}

static int ye_cmp(const void *a, const void *b)
{
	const struct yedit *x = a, *z = b;

	return (x->off > z->off) - (x->off < z->off);
}

/* The document with the edits made (malloc'd), NULL if they overlap */
static char *ye_apply(struct yed *y)
{
	size_t len = y->n, at = 0, o = 0;
	char *s;

	qsort(y->e, y->ne, sizeof(y->e[0]), ye_cmp);
	for (size_t i = 0; i < y->ne; i++) {
		if (y->e[i].off < at)
			return NULL;
		at = y->e[i].off + y->e[i].len;
		len += strlen(y->e[i].text) - y->e[i].len;
	}
	if (!(s = malloc(len + 1)))
		return NULL;
	at = 0;
	for (size_t i = 0; i < y->ne; i++) {
		size_t tl = strlen(y->e[i].text);

		memcpy(s + o, y->t + at, y->e[i].off - at);
		o += y->e[i].off - at;
		memcpy(s + o, y->e[i].text, tl);
		o += tl;
		at = y->e[i].off + y->e[i].len;
	}
	memcpy(s + o, y->t + at, y->n - at);
	s[len] = '\0';
	return s;
}

/*
 * DOC (LEN bytes) with KNOB set to TEXT, in place, and the container's
 * request too when REQ; NULL when the edit does not know how.
 */
static char *ye_edit(const char *doc, size_t len, const char *container,
		     int knob, const char *text, int req)
{
	static const char *const tpl[] = { "spec", "template", "spec",
					   "containers" };
	const char *res = knob == SHD_KNOB_CPU ? "cpu" : "memory";
	struct yed y = { .t = doc, .n = len };
	struct yblk b = { 0, 0, 0, 0 }, it;
	char *s = NULL;

	if (ye_lines(&y) || !y.nl)
		goto out;
	b.to = y.nl;
	if (knob == SHD_KNOB_REPLICAS) {
		const char *const k[] = { "spec", "replicas" };

		if (ye_set(&y, &b, k, 2, text, 1))
			goto out;
	} else {
		const char *const lim[] = { "resources", "limits", res };
		const char *const rq[] = { "resources", "requests", res };

		if (ye_path(&y, &b, tpl, 4) || ye_item(&y, &b, container,
						       &it) ||
		    ye_set(&y, &it, lim, 3, text, 0) ||
		    (req && ye_set(&y, &it, rq, 3, text, 0)))
			goto out;
	}
	s = ye_apply(&y);
out:
	ye_release(&y);
	return s;
}

/* ------------------------------------------------------------ patching */

/*
 * The strategic merge patch setting KNOB to TEXT (a quantity, or the
 * count); REQ sets the request to the same. Compact JSON, malloc'd.
 */
static char *patch_json(const struct kx *k, int knob, const char *text,
			double count, int req)
{
	const char *res = knob == SHD_KNOB_CPU ? "cpu" : "memory";
	json_t *p;
	char *s;

	if (knob == SHD_KNOB_REPLICAS) {
		p = json_pack("{s:{s:I}}", "spec", "replicas",
			      (json_int_t)llround(count));
	} else {
		json_t *rs = json_pack("{s:{s:s}}", "limits", res, text);

		if (rs && req && json_object_set_new(rs, "requests",
				json_pack("{s:s}", res, text)) < 0) {
			json_decref(rs);
			rs = NULL;
		}
		p = json_pack("{s:{s:{s:{s:[{s:s,s:o}]}}}}", "spec", "template",
			      "spec", "containers", "name", k->container,
			      "resources", rs);
	}
	if (!p)
		return NULL;
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

/* Runs the patch on K->doc; kubectl's document (FORMAT json or yaml) in
 * *OUT. With no PATCH, the document as it is. */
static int run_patch(struct kx *k, const char *patch, const char *format,
		     char **out)
{
	char *argv[] = { "kubectl", "patch", "--local", "-f", k->doc,
			 "--type", patch ? "strategic" : "merge", "-p",
			 patch ? (char *)patch : "{}", "-o", (char *)format,
			 NULL };
	char msg[1024];
	int rc = shd_run(argv, k->x->timeout, out, msg, sizeof(msg));

	return rc ? kfail(k, k->match, rc, msg, "") : 0;
}

/*
 * Does kubectl read K->doc as the object JSON holds? 1 yes, 0 no, < 0 an
 * error (kubectl's message in K->err).
 */
static int same_object(struct kx *k, const char *json)
{
	char *out = NULL;
	json_t *a, *b;
	int rc;

	/* kubectl refusing the edit: not the same, kubectl's YAML it is */
	if ((rc = run_patch(k, NULL, "json", &out))) {
		if (rc != SHD_EFORMAT)
			return rc;
		if (k->err && k->n)
			k->err[0] = '\0';
		return 0;
	}
	a = json_loads(json, 0, NULL);
	b = json_loads(out, 0, NULL);
	rc = a && b && json_equal(a, b);
	json_decref(a);
	json_decref(b);
	free(out);
	return rc;
}

/*
 * Validates the document in K->doc with no cluster: kubectl reads it as
 * the Go type of its kind (wrong types, bad quantities, unknown kinds
 * fail; unknown fields need the API server's schema and pass).
 * `create`/`apply --dry-run=client` would ask the API server for the
 * kind's resource mapping (and its OpenAPI unless --validate=false): not
 * for a GitOps checkout with no cluster. `set env --list` prints the
 * containers and changes nothing; kubectl 1.20 (Debian 12's) has it.
 */
static int validate(struct kx *k)
{
	char *argv[] = { "kubectl", "set", "env", "--local",
			 "--dry-run=client", "--list", "-f", k->doc, NULL };
	char msg[1024];
	int rc = shd_run(argv, k->x->timeout, NULL, msg, sizeof(msg));

	return rc ? kfail(k, k->match, rc, msg, "the patched document does "
			  "not validate, the file is left alone: ") : 0;
}

/*
 * The new text of the matched document: the old one edited in place when
 * kubectl reads that as its own patch's result, else kubectl's YAML of
 * it after the old leading comments. *KEPT says which. Malloc'd.
 */
static int new_doc(struct kx *k, int knob, const char *text, double count,
		   int req, char **doc, int *kept)
{
	const struct kdoc *d = &k->d[k->match];
	const char *old = k->buf + d->start;
	size_t len = d->end - d->start, lead = lead_len(old, len);
	char *patch = patch_json(k, knob, text, count, req);
	char *want = NULL, *ed = NULL, *y = NULL;
	int rc;

	*doc = NULL;
	*kept = 0;
	if (!patch)
		return shd_exec_fail(k->err, k->n, SHD_ENOMEM, "out of memory");
	/* the patch runs in a dry run too: it checks, and writes nothing */
	if ((rc = put_text(k, old, len)) ||
	    (rc = run_patch(k, patch, "json", &want)))
		goto out;
	ed = ye_edit(old, len, k->container, knob, text, req);
	if (ed && (rc = put_text(k, ed, strlen(ed))) == 0 &&
	    (rc = same_object(k, want)) == 1) {
		*doc = ed;
		*kept = 1;
		ed = NULL;
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	/* kubectl's YAML of the patched document */
	if ((rc = put_text(k, old, len)) ||
	    (rc = run_patch(k, patch, "yaml", &y)))
		goto out;
	size_t yl = strlen(y);
	int nl = yl && y[yl - 1] != '\n';	/* the next "---" needs a line */

	if (asprintf(doc, "%.*s%s%s", (int)lead, old, y, nl ? "\n" : "") < 0) {
		*doc = NULL;
		rc = shd_exec_fail(k->err, k->n, SHD_ENOMEM, "out of memory");
	}
out:
	free(y);
	free(ed);
	free(want);
	free(patch);
	return rc;
}

/* The manifest with the matched document replaced by DOC. */
static int write_back(struct kx *k, const char *doc)
{
	const struct kdoc *d = &k->d[k->match];
	size_t dl = strlen(doc), len = d->start + dl + k->len - d->end;
	char *b = malloc(len + 1);
	int rc;

	if (!b)
		return shd_exec_fail(k->err, k->n, SHD_ENOMEM, "out of memory");
	memcpy(b, k->buf, d->start);
	/* b is counted (len), not a string */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(b + d->start, doc, dl);
	memcpy(b + d->start + dl, k->buf + d->end, k->len - d->end);
	rc = shd_exec_write(k->x->manifest, b, len, -1, k->err, k->n);
	free(b);
	return rc;
}

/*
 * Does the request of resource I (0 cpu, 1 memory) become WANT with its
 * limit? LIM and REQ are the container's limits and requests of cpu and
 * memory (inf: not set). Yes when the request is above the new limit
 * (Kubernetes refuses a request over its limit), and when the container
 * is of Guaranteed QoS, every limit set and every request equal to its
 * limit (a request not set defaults to the limit): shd keeps it so. A
 * request not set stays unset. Else the request stays.
 */
static int req_follows(const double lim[2], const double req[2], int i,
		       double want)
{
	int guaranteed = 1;

	for (int j = 0; j < 2; j++)
		guaranteed &= isfinite(lim[j]) &&
			      (!isfinite(req[j]) || req[j] == lim[j]);
	return isfinite(req[i]) && req[i] != want &&
	       (req[i] > want || guaranteed);
}

/* What the new value is as text, and whether the request changes too. */
static int target(struct kx *k, int knob, double to, char *text, size_t tn,
		  int *req, int *same)
{
	double cur, want = to, lim[2], rq[2];
	int rc;

	*req = 0;
	if ((rc = current(k, knob, &cur)))
		return rc;
	if (knob == SHD_KNOB_REPLICAS) {
		snprintf(text, tn, "%lld", (long long)llround(to));
		*same = cur == to;
		return 0;
	}
	shd_knob_format(knob, to, text, tn);
	/* what kubectl will hold is the text; compare against that */
	if (shd_quantity_parse(text, &want) != 0)
		return shd_exec_fail(k->err, k->n, SHD_EINVAL, "bad %s "
				     "quantity '%s'", shd_knob_name[knob],
				     text);
	if ((rc = field(k, KI_LIM_CPU, &lim[0])) ||
	    (rc = field(k, KI_LIM_MEM, &lim[1])) ||
	    (rc = field(k, KI_REQ_CPU, &rq[0])) ||
	    (rc = field(k, KI_REQ_MEM, &rq[1])))
		return rc;
	*req = req_follows(lim, rq, knob != SHD_KNOB_CPU, want);
	*same = cur == want && !*req;
	return 0;
}

static int manifest_apply(const struct shd_resource_conf *r,
			  const struct shd_change *c,
			  const struct shd_exec_opts *o, char *err, size_t n)
{
	const char *what[] = { "spec.replicas", "limits.cpu",
			       "limits.memory" };
	int fk[] = { KI_REPLICAS, KI_LIM_CPU, KI_LIM_MEM };
	char text[64], ctr[300] = "", *doc = NULL;
	int rc, req = 0, same = 0, kept = 0;
	struct kx k;

	if ((rc = kx_open(&k, r, err, n)) ||
	    (rc = target(&k, c->knob, c->to, text, sizeof(text), &req,
			 &same)))
		goto out;
	const char *old = k.info.f[fk[c->knob]];

	if (c->knob != SHD_KNOB_REPLICAS)
		snprintf(ctr, sizeof(ctr), "container %s ", k.container);
	if (same) {
		shd_exec_log(o, "leave %s: %s/%s %s%s already %s",
			     r->exec.manifest, k.info.f[KI_KIND],
			     k.info.f[KI_NAME], ctr, what[c->knob], text);
		goto out;
	}
	/* new_doc set doc, or failed (shd_exec_fail is never 0) */
	if ((rc = new_doc(&k, c->knob, text, c->to, req, &doc, &kept)) ||
	    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
	    (rc = put_text(&k, doc, strlen(doc))) || (rc = validate(&k)))
		goto out;
	shd_exec_log(o, "write %s: %s/%s %s%s %s -> %s%s%s", r->exec.manifest,
		     k.info.f[KI_KIND], k.info.f[KI_NAME], ctr, what[c->knob],
		     *old ? old : "(unset)", text,
		     req ? " (requests too)" : "",
		     kept ? "" : " (the document as kubectl prints it)");
	if (!shd_exec_dry(o))
		rc = write_back(&k, doc);
out:
	free(doc);
	kx_release(&k);
	return rc;
}

/* ---------------------------------------------------------------- live */

/* "kubectl [--context C] [-n NS]" into ARGV; the count used. */
static size_t live_base(const struct shd_executor *x, char **argv)
{
	size_t i = 0;

	argv[i++] = "kubectl";
	if (x->context) {
		argv[i++] = "--context";
		argv[i++] = x->context;
	}
	if (x->namespace) {
		argv[i++] = "-n";
		argv[i++] = x->namespace;
	}
	return i;
}

/* The live container's limits and requests of cpu and memory, inf
 * where not set (LIM, REQ as for req_follows()). */
static int live_resources(const struct shd_resource_conf *r, const char *c,
			  double lim[2], double req[2], char *err, size_t n)
{
	char *argv[16], *obj = NULL, *jp = NULL, *out = NULL, *f[4];
	size_t i = live_base(&r->exec, argv);
	int rc = SHD_ENOMEM;

#define RS "{" CT "[?(@.name==\"%s\")].resources."
	if (asprintf(&obj, "%s/%s", r->exec.kind, r->exec.workload) < 0 ||
	    asprintf(&jp, "jsonpath=" RS "limits.cpu}{\"\\n\"}"
		     RS "limits.memory}{\"\\n\"}" RS "requests.cpu}{\"\\n\"}"
		     RS "requests.memory}", c, c, c, c) < 0) {
		shd_exec_fail(err, n, rc, "out of memory");
		goto out;
	}
#undef RS
	argv[i++] = "get";
	argv[i++] = obj;
	argv[i++] = "-o";
	argv[i++] = jp;
	argv[i] = NULL;
	if ((rc = shd_run(argv, r->exec.timeout, &out, err, n)))
		goto out;
	f[0] = out;
	for (int j = 1; j < 4; j++) {
		char *nl = f[j - 1] ? strchr(f[j - 1], '\n') : NULL;

		if (nl)
			*nl++ = '\0';
		f[j] = nl;
	}
	for (int j = 0; j < 4; j++) {
		double *v = j < 2 ? &lim[j] : &req[j - 2];

		*v = INFINITY;
		if (f[j] && *f[j] && shd_quantity_parse(f[j], v) != 0) {
			rc = shd_exec_fail(err, n, SHD_EFORMAT, "%s: container "
					   "%s: bad quantity '%s'", obj, c,
					   f[j]);
			break;
		}
	}
out:
	free(out);
	free(jp);
	free(obj);
	return rc;
}

static int live_apply(const struct shd_resource_conf *r,
		      const struct shd_change *c,
		      const struct shd_exec_opts *o, char *err, size_t n)
{
	const char *ctr = r->exec.container ? r->exec.container : r->name;
	const char *res = c->knob == SHD_KNOB_CPU ? "cpu" : "memory";
	char *argv[16], *obj = NULL, *a1 = NULL, *a2 = NULL, q[64];
	size_t i = live_base(&r->exec, argv);
	double lim[2], req[2], want = c->to;
	int rc = SHD_ENOMEM;

	if (asprintf(&obj, "%s/%s", r->exec.kind, r->exec.workload) < 0)
		return shd_exec_fail(err, n, rc, "out of memory");
	if (c->knob == SHD_KNOB_REPLICAS) {
		if (asprintf(&a1, "--replicas=%lld", llround(c->to)) < 0)
			goto nomem;
		argv[i++] = "scale";
		argv[i++] = obj;
		argv[i++] = a1;
	} else {
		shd_knob_format(c->knob, c->to, q, sizeof(q));
		shd_quantity_parse(q, &want);
		/* a read, so it runs in a dry run too */
		if ((rc = live_resources(r, ctr, lim, req, err, n)))
			goto out;
		if (asprintf(&a1, "--limits=%s=%s", res, q) < 0 ||
		    (req_follows(lim, req, c->knob != SHD_KNOB_CPU, want) &&
		     asprintf(&a2, "--requests=%s=%s", res, q) < 0))
			goto nomem;
		argv[i++] = "set";
		argv[i++] = "resources";
		argv[i++] = obj;
		argv[i++] = "-c";
		argv[i++] = (char *)ctr;
		argv[i++] = a1;
		if (a2)
			argv[i++] = a2;
	}
	argv[i] = NULL;
	rc = shd_exec_run(o, argv, r->exec.timeout, NULL, err, n);
	goto out;
nomem:
	rc = shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
out:
	free(a2);
	free(a1);
	free(obj);
	return rc;
}

/* ------------------------------------------------------------- entries */

int shd_kubectl_apply(const struct shd_resource_conf *r,
		      const struct shd_change *c,
		      const struct shd_exec_opts *o, char *err, size_t n)
{
	if (c->knob == SHD_KNOB_STORAGE)
		return shd_exec_fail(err, n, SHD_EINVAL, "%s: the kubectl "
				     "executor cannot set storage", r->name);
	if (r->exec.live)
		return live_apply(r, c, o, err, n);
	return manifest_apply(r, c, o, err, n);
}

int shd_kubectl_read(const struct shd_resource_conf *r, int knob, double *v,
		     char *err, size_t n)
{
	struct kx k;
	int rc;

	if (knob == SHD_KNOB_STORAGE)
		return shd_exec_fail(err, n, SHD_EINVAL, "%s: the kubectl "
				     "executor cannot set storage", r->name);
	if (r->exec.live)
		return shd_exec_fail(err, n, SHD_EINVAL, "%s: a live cluster "
				     "is not read", r->name);
	if ((rc = kx_open(&k, r, err, n)) == 0)
		rc = current(&k, knob, v);
	kx_release(&k);
	return rc;
}
