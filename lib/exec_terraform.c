/*
 * exec_terraform.c - the terraform executor (exec.h): the knob's variable
 * in DIR/<resource>.auto.tfvars.json, which terraform loads by itself,
 * then `terraform apply` when the configuration asks for it.
 *
 * The file is ours to rewrite but may hold other variables: they are
 * kept (as values; keys come out sorted, two-space indented, so that the
 * file is the same whatever wrote it last).
 *
 * A variable is a JSON number (cores, bytes, a count) or, in the quantity
 * format, the string Kubernetes would write ("750m", "768Mi"): modules
 * that hand the value to a Kubernetes or Helm provider take it as it is.
 * Either reads back.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shd.h"
#include "exec_priv.h"

/*
 * 15 digits, not 17: a value typed as 0.1 is written back as 0.1, not
 * 0.10000000000000001, and every value of 15 significant digits or fewer
 * (all a planner makes) reads back the same.
 */
#define TF_DUMP (JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15))

static char *tf_path(const struct shd_resource_conf *r)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s.auto.tfvars.json", r->exec.dir, r->name) < 0)
		return NULL;
	return p;
}

/*
 * Loads PATH's object into *J (a new empty one when there is no file).
 * 0, SHD_EIO, SHD_EFORMAT or SHD_ENOMEM with ERR naming PATH.
 */
static int tf_load(const char *path, json_t **j, char *err, size_t n)
{
	json_error_t je;
	size_t len;
	char *buf;
	int rc;

	*j = NULL;
	rc = shd_exec_slurp(path, &buf, &len);
	if (rc == SHD_EIO && errno == ENOENT) {
		*j = json_object();
		return *j ? 0 : SHD_ENOMEM;
	}
	if (rc == SHD_EIO)
		return shd_exec_fail(err, n, rc, "cannot read '%s': %s", path,
				     strerror(errno));
	if (rc)
		return shd_exec_fail(err, n, rc, "%s: out of memory", path);
	*j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!*j)
		return shd_exec_fail(err, n, SHD_EFORMAT, "%s:%d:%d: %s", path,
				     je.line, je.column, je.text);
	if (!json_is_object(*j)) {
		json_decref(*j);
		*j = NULL;
		return shd_exec_fail(err, n, SHD_EFORMAT, "%s: not a JSON "
				     "object", path);
	}
	return 0;
}

/*
 * The JSON value for V of KNOB: a count or bytes whole, cores real; in
 * the quantity format the string Kubernetes would write ("750m", "2Gi").
 */
static json_t *tf_value(int knob, int format, double v)
{
	char q[64];

	if (format == SHD_VAR_QUANTITY)
		return json_string(shd_knob_format(knob, v, q, sizeof(q)));
	if (knob == SHD_KNOB_CPU)
		return json_real(v);
	return json_integer((json_int_t)llround(v));
}

static int tf_write(const char *path, json_t *j, char *err, size_t n)
{
	char *s = json_dumps(j, TF_DUMP);
	size_t len;
	int rc;

	if (!s)
		return shd_exec_fail(err, n, SHD_ENOMEM, "%s: out of memory",
				     path);
	len = strlen(s);
	/* json_dumps leaves no newline: make it a text file */
	char *t = realloc(s, len + 2);

	if (!t) {
		free(s);
		return shd_exec_fail(err, n, SHD_ENOMEM, "%s: out of memory",
				     path);
	}
	t[len++] = '\n';
	t[len] = '\0';
	rc = shd_exec_write(path, t, len, -1, err, n);
	free(t);
	return rc;
}

/* Runs terraform apply in R's directory. */
static int tf_apply(const struct shd_resource_conf *r,
		    const struct shd_exec_opts *o, char *err, size_t n)
{
	char *chdir = NULL;
	int rc;

	if (asprintf(&chdir, "-chdir=%s", r->exec.dir) < 0)
		return shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
	char *argv[] = { "terraform", chdir, "apply", "-auto-approve",
			 "-input=false", "-no-color", NULL };

	rc = shd_exec_run(o, argv, r->exec.timeout, NULL, err, n);
	free(chdir);
	return rc;
}

int shd_terraform_apply(const struct shd_resource_conf *r,
			const struct shd_change *c,
			const struct shd_exec_opts *o, char *err, size_t n)
{
	const char *var = r->exec.vars[c->knob];
	char *path = tf_path(r), *old = NULL, *new = NULL;
	json_t *j = NULL, *v;
	int rc;

	if (!path)
		return shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
	if ((rc = tf_load(path, &j, err, n)))
		goto out;
	old = (v = json_object_get(j, var)) ? json_dumps(v, TF_DUMP |
						       JSON_ENCODE_ANY) : NULL;
	if (!(v = tf_value(c->knob, r->exec.var_format[c->knob], c->to)) ||
	    json_object_set_new(j, var, v)) {
		rc = shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
		goto out;
	}
	new = json_dumps(v, TF_DUMP | JSON_ENCODE_ANY);
	shd_exec_log(o, "write %s: %s %s -> %s", path, var,
		     old ? old : "(unset)", new ? new : "?");
	if (!shd_exec_dry(o) && (rc = tf_write(path, j, err, n)))
		goto out;
	if (r->exec.apply)
		rc = tf_apply(r, o, err, n);
out:
	free(old);
	free(new);
	json_decref(j);
	free(path);
	return rc;
}

int shd_terraform_read(const struct shd_resource_conf *r, int knob,
		       double *v, char *err, size_t n)
{
	const char *var = r->exec.vars[knob];
	char *path = tf_path(r);
	json_t *j = NULL, *x;
	int rc;

	if (!path)
		return shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
	if ((rc = tf_load(path, &j, err, n)))
		goto out;
	/* a number or a quantity string, whatever the configured format:
	 * a file written before the format changed still reads */
	x = json_object_get(j, var);
	if (!x)
		rc = shd_exec_fail(err, n, SHD_EINVAL, "%s: no variable '%s'",
				   path, var);
	else if (json_is_number(x) && json_number_value(x) >= 0)
		*v = json_number_value(x);
	else if (!json_is_string(x) ||
		 shd_quantity_parse(json_string_value(x), v) != 0)
		rc = shd_exec_fail(err, n, SHD_EFORMAT, "%s: '%s' is not a "
				   "number or a quantity (\"750m\", \"2Gi\")",
				   path, var);
out:
	json_decref(j);
	free(path);
	return rc;
}
