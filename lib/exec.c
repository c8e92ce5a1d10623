/*
 * exec.c - the executors' front door (exec.h): every name from the
 * configuration that could reach a program or a path is checked with
 * shd_name_ok here, and the value with what the knob can hold, before
 * the executor of the resource is called. Also the helpers the executors
 * share (exec_priv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shd.h"
#include "exec_priv.h"

int shd_exec_fail(char *err, size_t n, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return code;
}

int shd_exec_dry(const struct shd_exec_opts *o)
{
	return o && o->dry_run;
}

void shd_exec_log(const struct shd_exec_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o || !o->log)
		return;
	if (o->dry_run)
		fputs("would ", o->log);
	va_start(ap, fmt);
	vfprintf(o->log, fmt, ap);
	va_end(ap);
	fputc('\n', o->log);
	fflush(o->log);
}

void shd_exec_quote(FILE *fp, const char *arg)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				   "@%+=:,./_-";

	if (*arg && arg[strspn(arg, safe)] == '\0') {
		fputs(arg, fp);
		return;
	}
	/* 'it'\''s': a quote cannot stand inside single quotes */
	fputc('\'', fp);
	for (; *arg; arg++) {
		if (*arg == '\'')
			fputs("'\\''", fp);
		else
			fputc(*arg, fp);
	}
	fputc('\'', fp);
}

int shd_exec_run(const struct shd_exec_opts *o, char *const argv[],
		 double timeout, char **out, char *err, size_t n)
{
	if (out)
		*out = NULL;
	if (o && o->log) {
		fputs(o->dry_run ? "would run:" : "run:", o->log);
		for (size_t i = 0; argv[i]; i++) {
			fputc(' ', o->log);
			shd_exec_quote(o->log, argv[i]);
		}
		fputc('\n', o->log);
		fflush(o->log);
	}
	if (shd_exec_dry(o))
		return 0;
	return shd_run(argv, timeout, out, err, n);
}

int shd_exec_slurp(const char *path, char **buf, size_t *len)
{
	size_t cap = 8192, got = 0;
	char *b = NULL, *nb;
	int fd, e;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return SHD_EIO;
	for (;;) {
		if (!(nb = realloc(b, cap + 1))) {
			free(b);
			close(fd);
			return SHD_ENOMEM;
		}
		b = nb;
		long k = shd_read_full(fd, b + got, cap - got);

		if (k < 0) {
			e = errno;
			free(b);
			close(fd);
			errno = e;
			return SHD_EIO;
		}
		got += (size_t)k;
		if (got < cap)
			break;
		cap *= 2;
	}
	close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

int shd_exec_write(const char *path, const void *buf, size_t len, int mode,
		   char *err, size_t n)
{
	char tmp[4096], *real;
	struct stat st;
	int fd, e;

	/* through a symbolic link, so that the link stays one */
	real = realpath(path, NULL);
	if (real)
		path = real;
	if (stat(path, &st) == 0)
		mode = (int)(st.st_mode & 07777);
	fd = shd_atomic_open(path, tmp, sizeof(tmp));
	if (fd < 0)
		goto fail;
	/* the temporary file got the mode for new files; keep the old one */
	if ((tmp[0] && mode >= 0 && fchmod(fd, (mode_t)mode) < 0) ||
	    shd_write_all(fd, buf, len) < 0) {
		e = errno;
		shd_atomic_abort(fd, tmp);
		errno = e;
		goto fail;
	}
	if (shd_atomic_commit(fd, tmp, path) < 0)
		goto fail;
	free(real);
	return 0;
fail:
	e = errno;
	shd_exec_fail(err, n, SHD_EIO, "cannot write '%s': %s", path,
		      strerror(e));
	free(real);
	return SHD_EIO;
}

void shd_exec_number(int knob, double v, char buf[32])
{
	if (knob == SHD_KNOB_REPLICAS && isfinite(v) && fabs(v) < 9e15)
		snprintf(buf, 32, "%lld", (long long)llround(v));
	else
		shd_format_double(v, buf);
}

/* ------------------------------------------------------------- checks */

static int check_name(const char *what, const char *s, char *err, size_t n)
{
	if (s && shd_name_ok(s))
		return 0;
	if (!s)
		return shd_exec_fail(err, n, SHD_EINVAL, "no %s configured",
				     what);
	return shd_exec_fail(err, n, SHD_EINVAL, "invalid %s name '%s'", what,
			     s);
}

static int check_opt(const char *what, const char *s, char *err, size_t n)
{
	return s ? check_name(what, s, err, n) : 0;
}

/* Every '/'-separated part of P (one leading '/' allowed) a name. */
static int check_cgroup(const char *p, char *err, size_t n)
{
	char part[256];

	if (!p)
		return shd_exec_fail(err, n, SHD_EINVAL,
				     "no cgroup configured");
	const char *s = p + (*p == '/');

	for (;;) {
		size_t k = strcspn(s, "/");

		if (k >= sizeof(part))
			break;
		memcpy(part, s, k);
		part[k] = '\0';
		if (!shd_name_ok(part))
			break;
		if (!s[k])
			return 0;
		s += k + 1;
	}
	return shd_exec_fail(err, n, SHD_EINVAL, "invalid cgroup path '%s'",
			     p);
}

static int check_kubectl(const struct shd_executor *x, char *err, size_t n)
{
	int rc;

	if (!x->live && !x->manifest)
		return shd_exec_fail(err, n, SHD_EINVAL,
				     "no kubectl manifest configured");
	if ((rc = check_name("kind", x->kind, err, n)) ||
	    (rc = check_name("workload", x->workload, err, n)) ||
	    (rc = check_opt("container", x->container, err, n)) ||
	    (rc = check_opt("namespace", x->namespace, err, n)) ||
	    (rc = check_opt("context", x->context, err, n)))
		return rc;
	return 0;
}

/* The names of R's executor that KNOB would use. */
static int check_conf(const struct shd_resource_conf *r, int knob, char *err,
		      size_t n)
{
	const struct shd_executor *x = &r->exec;
	int rc;

	if ((rc = check_name("resource", r->name, err, n)))
		return rc;
	if (knob < 0 || knob >= SHD_NKNOB)
		return shd_exec_fail(err, n, SHD_EINVAL, "unknown knob %d",
				     knob);
	switch (x->type) {
	case SHD_EXEC_KUBECTL:
		return check_kubectl(x, err, n);
	case SHD_EXEC_TERRAFORM:
		if (!x->dir)
			return shd_exec_fail(err, n, SHD_EINVAL,
					     "no terraform dir configured");
		if (!x->vars[knob])
			return shd_exec_fail(err, n, SHD_EINVAL,
					     "terraform variable for %s not "
					     "configured", shd_knob_name[knob]);
		return check_name("terraform variable", x->vars[knob], err,
				  n);
	case SHD_EXEC_CGROUP:
		return check_cgroup(x->cgroup, err, n);
	case SHD_EXEC_COMMAND:
		if (!x->argv || !x->argc || !x->argv[0])
			return shd_exec_fail(err, n, SHD_EINVAL,
					     "no command configured");
		return 0;
	}
	return shd_exec_fail(err, n, SHD_EINVAL, "unknown executor type %d",
			     x->type);
}

/* Can KNOB of an executor of TYPE be set to V? */
static int check_value(int type, int knob, double v, char *err, size_t n)
{
	char buf[32];

	shd_format_double(v, buf);
	/* inf is a cgroup's "max"; nothing else can say unlimited */
	if (isnan(v) || v < 0 || (isinf(v) && type != SHD_EXEC_CGROUP))
		return shd_exec_fail(err, n, SHD_EINVAL, "bad %s value %s",
				     shd_knob_name[knob], buf);
	/* beyond 2^53 integers are not exact; no knob needs that much */
	if (isfinite(v) && v > 9e15)
		return shd_exec_fail(err, n, SHD_EINVAL, "%s value %s too "
				     "large", shd_knob_name[knob], buf);
	if (knob == SHD_KNOB_REPLICAS && v != floor(v))
		return shd_exec_fail(err, n, SHD_EINVAL, "replicas value %s "
				     "not a whole number", buf);
	return 0;
}

int shd_exec_apply(const struct shd_resource_conf *r,
		   const struct shd_change *c, const struct shd_exec_opts *o,
		   char *err, size_t n)
{
	int rc;

	if (err && n)
		err[0] = '\0';
	if (!r || !c)
		return shd_exec_fail(err, n, SHD_EINVAL, !r ? "no such resource"
				     " in the configuration" : "no change");
	if ((rc = check_name("resource", c->resource, err, n)) ||
	    (rc = check_conf(r, c->knob, err, n)) ||
	    (rc = check_value(r->exec.type, c->knob, c->to, err, n)))
		return rc;
	switch (r->exec.type) {
	case SHD_EXEC_KUBECTL:
		return shd_kubectl_apply(r, c, o, err, n);
	case SHD_EXEC_TERRAFORM:
		return shd_terraform_apply(r, c, o, err, n);
	case SHD_EXEC_CGROUP:
		return shd_cgroup_apply(r, c, o, err, n);
	default:
		return shd_command_apply(r, c, o, err, n);
	}
}

int shd_exec_read(const struct shd_resource_conf *r, int knob, double *v,
		  char *err, size_t n)
{
	int rc;

	if (err && n)
		err[0] = '\0';
	*v = NAN;
	if (!r)
		return shd_exec_fail(err, n, SHD_EINVAL, "no such resource in "
				     "the configuration");
	if ((rc = check_conf(r, knob, err, n)))
		return rc;
	switch (r->exec.type) {
	case SHD_EXEC_KUBECTL:
		return shd_kubectl_read(r, knob, v, err, n);
	case SHD_EXEC_TERRAFORM:
		return shd_terraform_read(r, knob, v, err, n);
	case SHD_EXEC_CGROUP:
		return shd_cgroup_read(r, knob, v, err, n);
	default:
		return shd_exec_fail(err, n, SHD_EINVAL, "%s: a command cannot "
				     "tell the value of %s", r->name,
				     shd_knob_name[knob]);
	}
}
