/*
 * exec_command.c - the command executor (exec.h): a user's program run
 * with an argument template, each {name} filled in from the change.
 *
 * A placeholder is '{', lower-case letters, '}'; an unknown one is an
 * error, so a typo does not run a command with "{reource}" in it. Any
 * other brace is literal (a JSON argument, "{\"a\":1}", passes through).
 * The filled arguments go to execvp as they are: no shell, so no
 * quoting, and a value cannot become two arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shd.h"
#include "exec_priv.h"

static const char *const unit_name[SHD_NKNOB] = { "", "cores", "bytes",
						  "bytes" };

/*
 * The value of placeholder NAME (LEN bytes) for C, in BUF when it is a
 * number; NULL for an unknown name. *BAD is set to the name of a value
 * from the plan that is not fit for an argument.
 */
static const char *value(const struct shd_change *c, const char *name,
			 size_t len, char buf[32], const char **bad)
{
#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
	if (IS("resource"))
		return c->resource;
	if (IS("knob"))
		return shd_knob_name[c->knob];
	if (IS("unit"))
		return unit_name[c->knob];
	if (IS("from") || IS("to")) {
		shd_exec_number(c->knob, IS("to") ? c->to : c->from, buf);
		return buf;
	}
	if (IS("plan") || IS("severity")) {
		const char *v = IS("plan") ? c->plan : c->severity;

		if (v && *v && !shd_name_ok(v))
			*bad = IS("plan") ? "plan id" : "severity";
		return v ? v : "";
	}
	return NULL;
#undef IS
}

/* ARG with its placeholders filled, malloc'd, in *RES; 0 or an error. */
static int fill(const char *arg, const struct shd_change *c, char **res,
		char *err, size_t n)
{
	const char *bad = NULL, *v;
	char *out = NULL, buf[32];
	size_t len = 0, k;
	FILE *f = open_memstream(&out, &len);
	int rc = 0;

	*res = NULL;
	if (!f)
		return shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
	while (*arg) {
		k = *arg == '{' ? strspn(arg + 1, "abcdefghijklmnopqrstuvwxyz")
				: 0;
		if (k == 0 || arg[k + 1] != '}') {
			fputc(*arg++, f);
			continue;
		}
		if (!(v = value(c, arg + 1, k, buf, &bad))) {
			rc = shd_exec_fail(err, n, SHD_EINVAL, "unknown "
					   "placeholder '%.*s' in the command",
					   (int)k + 2, arg);
			break;
		}
		if (bad) {
			rc = shd_exec_fail(err, n, SHD_EINVAL, "invalid %s "
					   "'%s' for the command", bad, v);
			break;
		}
		fputs(v, f);
		arg += k + 2;
	}
	if (fclose(f) != 0 && !rc)
		rc = shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
	if (rc)
		free(out);
	else
		*res = out;
	return rc;
}

static void free_argv(char **argv, size_t argc)
{
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int shd_command_apply(const struct shd_resource_conf *r,
		      const struct shd_change *c,
		      const struct shd_exec_opts *o, char *err, size_t n)
{
	size_t argc = r->exec.argc;
	char **argv = calloc(argc + 1, sizeof(*argv)), *out = NULL;
	int rc = 0;

	if (!argv)
		return shd_exec_fail(err, n, SHD_ENOMEM, "out of memory");
	/* fill all first: a bad template runs nothing */
	for (size_t i = 0; i < argc; i++) {
		if ((rc = fill(r->exec.argv[i], c, &argv[i], err, n)))
			goto out;
	}
	rc = shd_exec_run(o, argv, r->exec.timeout, &out, err, n);
	/* what the command says goes with its echo */
	if (out && *out && o && o->log) {
		fputs(out, o->log);
		if (out[strlen(out) - 1] != '\n')
			fputc('\n', o->log);
		fflush(o->log);
	}
out:
	free(out);
	free_argv(argv, argc);
	return rc;
}
