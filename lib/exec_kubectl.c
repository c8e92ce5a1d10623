/*
 * exec_kubectl.c - the kubectl executor (exec.h).
 *
 * Manifest mode edits a file of a GitOps checkout and needs no cluster.
 * The file is split into YAML documents on "---" lines; each document
 * that mentions the workload is written to a temporary file and asked,
 * with `kubectl patch --local -o jsonpath`, for its kind, name and the
 * fields we touch. Exactly one must be KIND/WORKLOAD. That document is
 * patched (`kubectl patch --local --type strategic -o yaml`), and the
 * file is put back together: the other documents and the separators byte
 * for byte, the patched one as kubectl prints it after its own leading
 * comments. A file already at the value is left alone, so repeating a
 * change makes no diff.
 *
 * kubectl parses the YAML, not us: it knows the kinds, the strategic
 * merge of containers by name, and the quantity syntax. The cost is a
 * kubectl run per candidate document.
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

/* Writes document I to K->doc. */
static int put_doc(struct kx *k, size_t i)
{
	int fd, rc;

	if (!k->dir[0] && (rc = mk_dir(k)))
		return rc;
	fd = open(k->doc, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || shd_write_all(fd, k->buf + k->d[i].start,
				    k->d[i].end - k->d[i].start) < 0) {
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
	/* kubectl refusing the document is bad input; not running, not */
	if (rc == SHD_EIO && strstr(msg, ": exit status "))
		rc = SHD_EFORMAT;
	if (rc)
		return shd_exec_fail(k->err, k->n, rc, "%s: document at line "
				     "%zu: %s", k->x->manifest, k->d[i].line,
				     msg);
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

	return strcasecmp(in->f[KI_KIND], k->x->kind) == 0 &&
	       strcmp(in->f[KI_NAME], k->x->workload) == 0 &&
	       (!k->x->namespace || !*ns || strcmp(ns, k->x->namespace) == 0);
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
		 * A document not holding the name as text cannot be named
		 * so (anchors do not cross documents); skipping it spares
		 * a kubectl run per unrelated document.
		 */
		if (!memmem(p, len, k->x->workload, strlen(k->x->workload)))
			continue;
		if ((rc = put_doc(k, i)) || (rc = doc_info(k, i, &in)))
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

/* ------------------------------------------------------------ patching */

/*
 * The strategic merge patch setting KNOB to TEXT (a quantity, or the
 * count); LOWER adds requests of the same. Compact JSON, malloc'd.
 */
static char *patch_json(const struct kx *k, int knob, const char *text,
			double count, int lower)
{
	const char *res = knob == SHD_KNOB_CPU ? "cpu" : "memory";
	json_t *p;
	char *s;

	if (knob == SHD_KNOB_REPLICAS) {
		p = json_pack("{s:{s:I}}", "spec", "replicas",
			      (json_int_t)llround(count));
	} else {
		json_t *rs = json_pack("{s:{s:s}}", "limits", res, text);

		if (rs && lower && json_object_set_new(rs, "requests",
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

/* Runs the patch on K->doc; kubectl's YAML in *OUT. */
static int run_patch(struct kx *k, const char *patch, char **out)
{
	char *argv[] = { "kubectl", "patch", "--local", "-f", k->doc,
			 "--type", "strategic", "-p", (char *)patch, "-o",
			 "yaml", NULL };

	return shd_run(argv, k->x->timeout, out, k->err, k->n);
}

/* The manifest with the matched document's YAML replaced by Y. */
static int write_back(struct kx *k, const char *y)
{
	const struct kdoc *d = &k->d[k->match];
	size_t lead = lead_len(k->buf + d->start, d->end - d->start);
	size_t yl = strlen(y), len = d->start + lead + yl + k->len - d->end;
	int nl = yl && y[yl - 1] != '\n';	/* the next "---" needs a line */
	char *b = malloc(len + nl + 1);
	int rc;

	if (!b)
		return shd_exec_fail(k->err, k->n, SHD_ENOMEM, "out of memory");
	memcpy(b, k->buf, d->start + lead);
	memcpy(b + d->start + lead, y, yl);
	if (nl)
		b[d->start + lead + yl++] = '\n';
	len += nl;
	memcpy(b + d->start + lead + yl, k->buf + d->end, k->len - d->end);
	rc = shd_exec_write(k->x->manifest, b, len, -1, k->err, k->n);
	free(b);
	return rc;
}

/* What the new value is as text, and whether requests must come down. */
static int target(struct kx *k, int knob, double to, char *text, size_t tn,
		  int *lower, int *same)
{
	double cur, req, want = to;
	int rc;

	*lower = 0;
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
	if ((rc = field(k, knob == SHD_KNOB_CPU ? KI_REQ_CPU : KI_REQ_MEM,
			&req)))
		return rc;
	*lower = isfinite(req) && req > want;
	*same = cur == want && !*lower;
	return 0;
}

static int manifest_apply(const struct shd_resource_conf *r,
			  const struct shd_change *c,
			  const struct shd_exec_opts *o, char *err, size_t n)
{
	const char *what[] = { "spec.replicas", "limits.cpu",
			       "limits.memory" };
	int fk[] = { KI_REPLICAS, KI_LIM_CPU, KI_LIM_MEM };
	char text[64], ctr[300] = "", *patch = NULL, *y = NULL;
	int rc, lower = 0, same = 0;
	struct kx k;

	if ((rc = kx_open(&k, r, err, n)) ||
	    (rc = target(&k, c->knob, c->to, text, sizeof(text), &lower,
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
	if (!(patch = patch_json(&k, c->knob, text, c->to, lower))) {
		rc = shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
		goto out;
	}
	/* the patch runs in a dry run too: it checks, and writes nothing */
	if ((rc = put_doc(&k, k.match)) || (rc = run_patch(&k, patch, &y)))
		goto out;
	shd_exec_log(o, "write %s: %s/%s %s%s %s -> %s%s", r->exec.manifest,
		     k.info.f[KI_KIND], k.info.f[KI_NAME], ctr, what[c->knob],
		     *old ? old : "(unset)", text,
		     lower ? " (requests too)" : "");
	if (!shd_exec_dry(o))
		rc = write_back(&k, y);
out:
	free(y);
	free(patch);
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

/* The live container's request of RES ("cpu", "memory"), inf if none. */
static int live_request(const struct shd_resource_conf *r, const char *c,
			const char *res, double *v, char *err, size_t n)
{
	char *argv[16], *obj = NULL, *jp = NULL, *out = NULL;
	size_t i = live_base(&r->exec, argv);
	int rc = SHD_ENOMEM;

	if (asprintf(&obj, "%s/%s", r->exec.kind, r->exec.workload) < 0 ||
	    asprintf(&jp, "jsonpath={" CT "[?(@.name==\"%s\")].resources."
		     "requests.%s}", c, res) < 0) {
		shd_exec_fail(err, n, rc, "out of memory");
		goto out;
	}
	argv[i++] = "get";
	argv[i++] = obj;
	argv[i++] = "-o";
	argv[i++] = jp;
	argv[i] = NULL;
	if ((rc = shd_run(argv, r->exec.timeout, &out, err, n)))
		goto out;
	*v = INFINITY;
	if (*out && shd_quantity_parse(out, v) != 0)
		rc = shd_exec_fail(err, n, SHD_EFORMAT, "%s: bad %s request "
				   "'%s'", obj, res, out);
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
	double req = INFINITY, want = c->to;
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
		if ((rc = live_request(r, ctr, res, &req, err, n)))
			goto out;
		rc = SHD_ENOMEM;
		if (asprintf(&a1, "--limits=%s=%s", res, q) < 0 ||
		    (req > want && asprintf(&a2, "--requests=%s=%s", res,
					    q) < 0))
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
