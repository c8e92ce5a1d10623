/*
 * exec_cgroup.c - the cgroup executor: a local cgroup's CPU quota and
 * memory limit (exec.h).
 *
 * v2 when CGROOT/CGROUP/cpu.max (memory.max for memory) exists: cpu.max
 * holds "QUOTA PERIOD" or "max PERIOD", memory.max bytes or "max". Else
 * v1: CGROOT/cpu/CGROUP/cpu.cfs_quota_us (-1 for none) over
 * cpu.cfs_period_us, and CGROOT/memory/CGROUP/memory.limit_in_bytes.
 *
 * Control files are written in place with one open and write: they
 * cannot be replaced by rename, and the kernel takes the value whole or
 * refuses it (EINVAL for a quota under 1 ms, EBUSY for a memory limit
 * below current use), which we report.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shd.h"
#include "exec_priv.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_PERIOD 100000LL	/* the kernel's default CFS period, us */

/* v1 shows "no limit" as the page counter's maximum, about 2^63 */
#define CG_V1_UNLIMITED 4611686018427387904.0	/* 2^62 */

struct cg {
	char path[4096];	/* the limit's file */
	char period[4096];	/* v1 cpu: cpu.cfs_period_us; else "" */
	int v2;
};

/*
 * Finds KNOB's file for R: v2 when it exists, else v1. Returns 0, or
 * SHD_EINVAL for a knob a cgroup has not, or a path too long.
 */
static int cg_find(const struct shd_resource_conf *r, int knob, struct cg *g,
		   char *err, size_t n)
{
	const char *root = r->exec.cgroot ? r->exec.cgroot : CG_ROOT;
	const char *cg = r->exec.cgroup + (r->exec.cgroup[0] == '/');
	const char *v2 = knob == SHD_KNOB_CPU ? "cpu.max" : "memory.max";
	int k;

	g->v2 = 0;
	g->period[0] = '\0';
	if (knob != SHD_KNOB_CPU && knob != SHD_KNOB_MEMORY)
		return shd_exec_fail(err, n, SHD_EINVAL, "%s: a cgroup has no "
				     "%s", r->name, shd_knob_name[knob]);
	k = snprintf(g->path, sizeof(g->path), "%s/%s/%s", root, cg, v2);
	if (k > 0 && (size_t)k < sizeof(g->path) &&
	    access(g->path, F_OK) == 0) {
		g->v2 = 1;
		return 0;
	}
	g->v2 = 0;
	if (knob == SHD_KNOB_CPU) {
		k = snprintf(g->path, sizeof(g->path),
			     "%s/cpu/%s/cpu.cfs_quota_us", root, cg);
		snprintf(g->period, sizeof(g->period),
			 "%s/cpu/%s/cpu.cfs_period_us", root, cg);
	} else {
		k = snprintf(g->path, sizeof(g->path),
			     "%s/memory/%s/memory.limit_in_bytes", root, cg);
	}
	if (k < 0 || (size_t)k >= sizeof(g->path))
		return shd_exec_fail(err, n, SHD_EINVAL, "%s: cgroup path too "
				     "long", r->name);
	return 0;
}

/* Reads the first line of PATH into BUF (N bytes), newline dropped. */
static int cg_get(const char *path, char *buf, size_t n, char *err,
		  size_t errn)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long k;

	if (fd < 0)
		return shd_exec_fail(err, errn, SHD_EIO, "cannot open '%s': %s",
				     path, strerror(errno));
	k = shd_read_full(fd, buf, n - 1);
	if (k < 0) {
		int e = errno;

		close(fd);
		return shd_exec_fail(err, errn, SHD_EIO, "cannot read '%s': %s",
				     path, strerror(e));
	}
	close(fd);
	buf[k] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int cg_put(const char *path, const char *text, char *err, size_t n)
{
	/* O_TRUNC: ignored by the kernel, needed for a plain file in tests */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int e;

	if (fd < 0)
		return shd_exec_fail(err, n, SHD_EIO, "cannot open '%s': %s",
				     path, strerror(errno));
	if (shd_write_all(fd, text, strlen(text)) < 0) {
		e = errno;
		close(fd);
		return shd_exec_fail(err, n, SHD_EIO, "cannot write '%s': %s",
				     path, strerror(e));
	}
	/* cgroup files report some refusals only at close */
	if (close(fd) < 0)
		return shd_exec_fail(err, n, SHD_EIO, "cannot write '%s': %s",
				     path, strerror(errno));
	return 0;
}

/* "max" or "-1" is inf; else a whole number. -1 when it is neither. */
static int cg_num(const char *s, double *v)
{
	char *end;
	long long x;

	s += strspn(s, " \t");
	if (strncmp(s, "max", 3) == 0 && (!s[3] || s[3] == ' ')) {
		*v = INFINITY;
		return 0;
	}
	errno = 0;
	x = strtoll(s, &end, 10);
	if (end == s || errno || (*end && *end != ' '))
		return -1;
	*v = x < 0 ? INFINITY : (double)x;
	return 0;
}

/* The current value of G's file: cores or bytes, inf for none. */
static int cg_value(const struct cg *g, int knob, double *v, char *err,
		    size_t n)
{
	char line[256], pl[256];
	double q, p = (double)CG_PERIOD;
	int rc;

	if ((rc = cg_get(g->path, line, sizeof(line), err, n)))
		return rc;
	if (cg_num(line, &q) < 0)
		goto bad;
	if (knob == SHD_KNOB_MEMORY) {
		*v = q >= CG_V1_UNLIMITED ? INFINITY : q;
		return 0;
	}
	if (g->v2) {
		const char *sp = strchr(line, ' ');

		if (sp && (cg_num(sp + 1, &p) < 0 || !isfinite(p)))
			goto bad;
	} else if ((rc = cg_get(g->period, pl, sizeof(pl), err, n))) {
		return rc;
	} else if (cg_num(pl, &p) < 0 || !isfinite(p)) {
		return shd_exec_fail(err, n, SHD_EFORMAT, "'%s': unexpected "
				     "'%s'", g->period, pl);
	}
	if (!(p > 0))
		goto bad;
	*v = q / p;
	return 0;
bad:
	return shd_exec_fail(err, n, SHD_EFORMAT, "'%s': unexpected '%s'",
			     g->path, line);
}

/* The period of G for the new quota: as it is, or the default. */
static long long cg_period(const struct cg *g)
{
	char line[256];
	const char *sp;
	double p = NAN;

	if (g->v2) {
		if (cg_get(g->path, line, sizeof(line), NULL, 0) == 0 &&
		    (sp = strchr(line, ' ')))
			cg_num(sp + 1, &p);
	} else if (cg_get(g->period, line, sizeof(line), NULL, 0) == 0) {
		cg_num(line, &p);
	}
	return isfinite(p) && p > 0 ? (long long)p : CG_PERIOD;
}

int shd_cgroup_apply(const struct shd_resource_conf *r,
		     const struct shd_change *c,
		     const struct shd_exec_opts *o, char *err, size_t n)
{
	char text[64], old[256];
	struct cg g;
	int rc;

	if ((rc = cg_find(r, c->knob, &g, err, n)))
		return rc;
	if (c->knob == SHD_KNOB_CPU) {
		long long per = cg_period(&g);
		long long q = llround(c->to * (double)per);

		if (g.v2 && isinf(c->to))
			snprintf(text, sizeof(text), "max %lld\n", per);
		else if (g.v2)
			snprintf(text, sizeof(text), "%lld %lld\n", q, per);
		else
			snprintf(text, sizeof(text), "%lld\n",
				 isinf(c->to) ? -1LL : q);
	} else if (isinf(c->to)) {
		snprintf(text, sizeof(text), "%s\n", g.v2 ? "max" : "-1");
	} else {
		snprintf(text, sizeof(text), "%lld\n", llround(c->to));
	}
	if (cg_get(g.path, old, sizeof(old), NULL, 0) < 0)
		snprintf(old, sizeof(old), "?");
	shd_exec_log(o, "write %s: %s -> %.*s", g.path, old,
		     (int)strcspn(text, "\n"), text);
	if (shd_exec_dry(o))
		return 0;
	return cg_put(g.path, text, err, n);
}

int shd_cgroup_read(const struct shd_resource_conf *r, int knob, double *v,
		    char *err, size_t n)
{
	struct cg g;
	int rc;

	if ((rc = cg_find(r, knob, &g, err, n)))
		return rc;
	return cg_value(&g, knob, v, err, n);
}
