/*
 * config.c - the fleet configuration (config.h, man/shd-config.5).
 *
 * The loader walks the JSON with the path of each value in hand, so every
 * complaint names where it is: "fleet.json: $.resources.web.cpu.max: not
 * a quantity". Keys are checked against a table per object: a typo is an
 * error, never a silent default.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "shd.h"
#include "sign.h"

const char *const shd_knob_name[SHD_NKNOB] = {
	"replicas", "cpu", "memory", "storage"
};

const char *const shd_exec_name[SHD_NEXEC] = {
	"kubectl", "terraform", "cgroup", "command"
};

const char *const shd_var_format_name[SHD_NVAR_FORMAT] = {
	"number", "quantity"
};

int shd_knob_parse(const char *s)
{
	for (int k = 0; k < SHD_NKNOB; k++)
		if (strcmp(s, shd_knob_name[k]) == 0)
			return k;
	return -1;
}

int shd_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	/* "." and ".." cannot pass the first-character rule. */
	return 1;
}

int shd_quantity_parse(const char *s, double *v)
{
	static const struct { const char *sfx; double mul; } sfx[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 },
		{ "Gi", 1073741824.0 }, { "Ti", 1099511627776.0 },
		{ "Pi", 1125899906842624.0 }, { "Ei", 1152921504606846976.0 },
		{ "m", 1e-3 }, { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 },
		{ "T", 1e12 }, { "P", 1e15 }, { "E", 1e18 },
	};
	size_t n = strlen(s), num = n;
	double mul = 1, x;

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		size_t l = strlen(sfx[i].sfx);

		if (n > l && strcmp(s + n - l, sfx[i].sfx) == 0) {
			num = n - l;
			mul = sfx[i].mul;
			break;
		}
	}
	if (num == 0 || shd_parse_double(s, num, &x) != 0 || !isfinite(x) ||
	    x < 0)
		return SHD_EINVAL;
	*v = x * mul;
	return isfinite(*v) ? 0 : SHD_EINVAL;
}

char *shd_knob_format(int knob, double v, char *buf, size_t n)
{
	const double mi = 1048576.0, gi = 1073741824.0;

	if (isinf(v)) {
		snprintf(buf, n, "max");
		/* replicas print as plain bytes do, on purpose */
		/* NOLINTNEXTLINE(bugprone-branch-clone) */
	} else if (knob == SHD_KNOB_REPLICAS) {
		snprintf(buf, n, "%.0f", v);
	} else if (knob == SHD_KNOB_CPU) {
		double m = round(v * 1000);

		if (fmod(m, 1000) == 0)
			snprintf(buf, n, "%.0f", m / 1000);
		else
			snprintf(buf, n, "%.0fm", m);
	} else if (v >= gi && fmod(v, gi) == 0) {
		snprintf(buf, n, "%.0fGi", v / gi);
	} else if (v >= mi && fmod(v, mi) == 0) {
		snprintf(buf, n, "%.0fMi", v / mi);
	} else {
		snprintf(buf, n, "%.0f", v);
	}
	return buf;
}

/* ---------------------------------------------------------------- loader */

#define PATHN 640

struct ld {
	const char *file;
	char *err;
	size_t n;
	char dir[4096];		/* the configuration's directory */
};

__attribute__((format(printf, 3, 4)))
static int bad(struct ld *l, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->n, "%s: %s: %s", l->file, path, msg);
	return SHD_EFORMAT;
}

/* P (PATHN bytes) = BASE followed by FMT: the JSON path of a member. */
__attribute__((format(printf, 3, 4)))
static void at(char *p, const char *base, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(p, PATHN, "%s", base);

	if (k < 0 || k >= PATHN)
		return;
	va_start(ap, fmt);
	vsnprintf(p + k, PATHN - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Every key of object O must be in KEYS (NULL-terminated). */
static int known_keys(struct ld *l, json_t *o, const char *path,
		      const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i = 0;

		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i]) {
			char known[256] = "";

			for (i = 0; keys[i]; i++) {
				strncat(known, i ? ", " : "",
					sizeof(known) - strlen(known) - 1);
				strncat(known, keys[i],
					sizeof(known) - strlen(known) - 1);
			}
			return bad(l, path, "unknown key '%s' (known: %s)", k,
				   known);
		}
	}
	return 0;
}

static int need_object(struct ld *l, json_t *o, const char *path)
{
	return json_is_object(o) ? 0 : bad(l, path, "not an object");
}

/* A quantity at PATH: a number or a quantity string, >= 0. */
static int quantity(struct ld *l, json_t *x, const char *path, double *v)
{
	if (json_is_number(x)) {
		*v = json_number_value(x);
		if (isfinite(*v) && *v >= 0)
			return 0;
	} else if (json_is_string(x) &&
		   shd_quantity_parse(json_string_value(x), v) == 0) {
		return 0;
	}
	return bad(l, path, "not a quantity (a number >= 0, or \"500m\", "
		   "\"512Mi\", \"2G\")");
}

/* A duration at PATH in seconds: a number or "10m". */
static int duration(struct ld *l, json_t *x, const char *path, double *v)
{
	int64_t ms;

	if (json_is_number(x) && json_number_value(x) >= 0 &&
	    isfinite(json_number_value(x))) {
		*v = json_number_value(x);
		return 0;
	}
	if (json_is_string(x) &&
	    shd_duration_parse(json_string_value(x), &ms) == 0) {
		*v = (double)ms / 1000;
		return 0;
	}
	return bad(l, path, "not a duration (seconds, or \"90s\", \"10m\")");
}

static int fraction(struct ld *l, json_t *x, const char *path, double lo,
		    double hi, double *v)
{
	if (!json_is_number(x) || !(json_number_value(x) > lo) ||
	    !(json_number_value(x) <= hi))
		return bad(l, path, "not a number in (%g, %g]", lo, hi);
	*v = json_number_value(x);
	return 0;
}

static int boolean(struct ld *l, json_t *x, const char *path, int *v)
{
	if (!json_is_boolean(x))
		return bad(l, path, "not true or false");
	*v = json_is_true(x);
	return 0;
}

/* A name that may reach an executor, copied into *OUT. */
static int name(struct ld *l, json_t *x, const char *path, char **out)
{
	if (!json_is_string(x) || !shd_name_ok(json_string_value(x)))
		return bad(l, path, "not a name (1 to 253 of A-Z a-z 0-9 . _ "
			   "-, starting with a letter or digit)");
	if (!(*out = strdup(json_string_value(x))))
		return SHD_ENOMEM;
	return 0;
}

/* A file path, relative ones taken from the configuration's directory. */
static int file_path(struct ld *l, json_t *x, const char *path, char **out)
{
	const char *s = json_is_string(x) ? json_string_value(x) : NULL;

	if (!s || !*s || strlen(s) > 2048)
		return bad(l, path, "not a file path");
	if (s[0] == '/' || strcmp(l->dir, ".") == 0) {
		*out = strdup(s);
	} else {
		size_t n = strlen(l->dir) + strlen(s) + 2;

		if ((*out = malloc(n)))
			snprintf(*out, n, "%s/%s", l->dir, s);
	}
	return *out ? 0 : SHD_ENOMEM;
}

static int knob_conf(struct ld *l, json_t *o, const char *path, int k,
		     struct shd_knob_conf *kc)
{
	static const char *const keys[] = { "current", "min", "max",
					    "max_step", NULL };
	char p[PATHN];
	json_t *x;
	int rc;

	if ((rc = need_object(l, o, path)) || (rc = known_keys(l, o, path,
							       keys)))
		return rc;
	kc->set = 1;
	kc->min = k == SHD_KNOB_REPLICAS ? 1 : 0;
	kc->max = INFINITY;
	kc->max_step = INFINITY;
	at(p, path, ".current");
	if (!(x = json_object_get(o, "current")))
		return bad(l, p, "missing (the allocation now)");
	if ((rc = quantity(l, x, p, &kc->current)))
		return rc;
	at(p, path, ".min");
	if ((x = json_object_get(o, "min")) &&
	    (rc = quantity(l, x, p, &kc->min)))
		return rc;
	at(p, path, ".max");
	if ((x = json_object_get(o, "max")) &&
	    (rc = quantity(l, x, p, &kc->max)))
		return rc;
	at(p, path, ".max_step");
	if ((x = json_object_get(o, "max_step"))) {
		if ((rc = quantity(l, x, p, &kc->max_step)))
			return rc;
		if (kc->max_step <= 0)
			return bad(l, p, "must be above 0");
	}
	if (k == SHD_KNOB_REPLICAS &&
	    (kc->current != floor(kc->current) || kc->min != floor(kc->min) ||
	     (isfinite(kc->max) && kc->max != floor(kc->max)) ||
	     (isfinite(kc->max_step) && kc->max_step != floor(kc->max_step))))
		return bad(l, path, "replicas are whole numbers");
	if (k == SHD_KNOB_REPLICAS && (kc->current > 1e6 || kc->min > 1e6 ||
				       (isfinite(kc->max) && kc->max > 1e6)))
		return bad(l, path, "over a million replicas");
	if (kc->min > kc->max)
		return bad(l, path, "min %g is above max %g", kc->min,
			   kc->max);
	return 0;
}

/* Which knobs a metric drives when the file does not say (config.h). */
static unsigned default_drives(const char *metric, const struct
			       shd_resource_conf *r)
{
	int rep = r->knob[SHD_KNOB_REPLICAS].set;

	if (strcmp(metric, "cpu") == 0)
		return rep ? 1u << SHD_KNOB_REPLICAS : 1u << SHD_KNOB_CPU;
	if (strcmp(metric, "mem") == 0 || strcmp(metric, "memory") == 0)
		return r->knob[SHD_KNOB_MEMORY].set ? 1u << SHD_KNOB_MEMORY
						    : 1u << SHD_KNOB_REPLICAS;
	if (strcmp(metric, "disk") == 0 || strcmp(metric, "storage") == 0)
		return 1u << SHD_KNOB_STORAGE;
	return 0;
}

/* Metric NAME of R from object O over defaults DEF (may be NULL). */
static int metric_conf(struct ld *l, json_t *o, json_t *def,
		       const char *path, const char *mname,
		       struct shd_resource_conf *r, struct shd_metric_conf *m)
{
	static const char *const keys[] = { "unit", "target", "headroom",
		"capacity", "limit", "drives", NULL };
	json_t *layers[2] = { def, o };
	char p[PATHN];
	int rc;

	if (!(m->name = strdup(mname)))
		return SHD_ENOMEM;
	m->unit = SHD_UNIT_PERCENT;
	m->target = NAN;
	m->headroom = SHD_CONFIG_HEADROOM;
	m->capacity = m->limit = NAN;
	m->drives = 0;
	for (int i = 0; i < 2; i++) {
		json_t *x, *src = layers[i];

		if (!src)
			continue;
		if ((rc = need_object(l, src, path)) ||
		    (rc = known_keys(l, src, path, keys)))
			return rc;
		at(p, path, ".unit");
		if ((x = json_object_get(src, "unit"))) {
			const char *u = json_string_value(x);

			if (u && strcmp(u, "percent") == 0)
				m->unit = SHD_UNIT_PERCENT;
			else if (u && strcmp(u, "absolute") == 0)
				m->unit = SHD_UNIT_ABSOLUTE;
			else
				return bad(l, p, "not \"percent\" or "
					   "\"absolute\"");
		}
		at(p, path, ".target");
		if ((x = json_object_get(src, "target")) &&
		    (rc = fraction(l, x, p, 0, 1, &m->target)))
			return rc;
		at(p, path, ".headroom");
		if ((x = json_object_get(src, "headroom")) &&
		    (rc = fraction(l, x, p, -1e-300, 10, &m->headroom)))
			return rc;
		at(p, path, ".capacity");
		if ((x = json_object_get(src, "capacity")) &&
		    (rc = quantity(l, x, p, &m->capacity)))
			return rc;
		at(p, path, ".limit");
		if ((x = json_object_get(src, "limit")) &&
		    (rc = quantity(l, x, p, &m->limit)))
			return rc;
		if ((x = json_object_get(src, "drives"))) {
			size_t j;
			json_t *d;

			at(p, path, ".drives");
			if (!json_is_array(x))
				return bad(l, p, "not an array of knobs");
			m->drives = 0;
			json_array_foreach(x, j, d) {
				int k = json_is_string(d)
					? shd_knob_parse(json_string_value(d))
					: -1;

				at(p, path, ".drives[%zu]",
					 j);
				if (k < 0)
					return bad(l, p, "not a knob (replicas, "
						   "cpu, memory, storage)");
				m->drives |= 1u << k;
			}
		}
	}
	if (!m->drives && !json_object_get(o ? o : def, "drives"))
		m->drives = default_drives(mname, r);
	for (int k = 0; k < SHD_NKNOB; k++)
		if ((m->drives & (1u << k)) && !r->knob[k].set) {
			at(p, path, ".drives");
			return bad(l, p, "drives %s, which the resource does "
				   "not have", shd_knob_name[k]);
		}
	if (isnan(m->target))
		m->target = (m->drives & (1u << SHD_KNOB_STORAGE))
			? SHD_CONFIG_STORAGE_TARGET : SHD_CONFIG_TARGET;
	return 0;
}

static int exec_kubectl(struct ld *l, json_t *o, const char *path,
			const struct shd_resource_conf *r,
			struct shd_executor *e)
{
	static const char *const keys[] = { "type", "timeout", "manifest",
		"kind", "workload", "container", "namespace", "context",
		"live", NULL };
	char p[PATHN];
	json_t *x;
	int rc;

	if ((rc = known_keys(l, o, path, keys)))
		return rc;
	at(p, path, ".live");
	if ((x = json_object_get(o, "live")) && (rc = boolean(l, x, p,
							       &e->live)))
		return rc;
	at(p, path, ".manifest");
	if ((x = json_object_get(o, "manifest"))) {
		if ((rc = file_path(l, x, p, &e->manifest)))
			return rc;
	} else if (!e->live) {
		return bad(l, p, "missing (or \"live\": true)");
	}
	const char *nk[] = { "kind", "workload", "container", "namespace",
			     "context" };
	char **dst[] = { &e->kind, &e->workload, &e->container,
			 &e->namespace, &e->context };
	for (size_t i = 0; i < 5; i++) {
		at(p, path, ".%s", nk[i]);
		if ((x = json_object_get(o, nk[i])) &&
		    (rc = name(l, x, p, dst[i])))
			return rc;
	}
	if (!e->kind && !(e->kind = strdup("deployment")))
		return SHD_ENOMEM;
	if (!e->workload && !(e->workload = strdup(r->name)))
		return SHD_ENOMEM;
	if (!e->container && !(e->container = strdup(r->name)))
		return SHD_ENOMEM;
	if (r->knob[SHD_KNOB_STORAGE].set)
		return bad(l, path, "kubectl does not change storage; use "
			   "terraform or a command");
	return 0;
}

/*
 * Terraform variable names as both terraform and shd_name_ok take them: a
 * letter, then [A-Za-z0-9_-].
 */
static int tf_var_ok(const char *s)
{
	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/*
 * A knob's variable at PATH: "NAME", or {"name": "NAME", "format":
 * "number" | "quantity"} (format number when not given).
 */
static int tf_variable(struct ld *l, json_t *v, const char *path, char **out,
		       int *format)
{
	static const char *const keys[] = { "name", "format", NULL };
	char p[PATHN];
	json_t *x;
	int rc;

	*format = SHD_VAR_NUMBER;
	p[0] = '\0';
	if (json_is_object(v)) {
		if ((rc = known_keys(l, v, path, keys)))
			return rc;
		at(p, path, ".format");
		if ((x = json_object_get(v, "format"))) {
			int f = 0;

			while (f < SHD_NVAR_FORMAT && (!json_is_string(x) ||
			       strcmp(json_string_value(x),
				      shd_var_format_name[f]) != 0))
				f++;
			if (f == SHD_NVAR_FORMAT)
				return bad(l, p, "not \"number\" (cores, bytes, "
					   "a count) or \"quantity\" (a string: "
					   "\"750m\", \"768Mi\")");
			*format = f;
		}
		at(p, path, ".name");
		if (!(v = json_object_get(v, "name")))
			return bad(l, p, "missing (the variable's name)");
	}
	if (!json_is_string(v) || !tf_var_ok(json_string_value(v)) ||
	    strlen(json_string_value(v)) > 200)
		return bad(l, p[0] ? p : path, "not a terraform variable name "
			   "(or {\"name\": NAME, \"format\": \"quantity\"})");
	if (!(*out = strdup(json_string_value(v))))
		return SHD_ENOMEM;
	return 0;
}

static int exec_terraform(struct ld *l, json_t *o, const char *path,
			  const struct shd_resource_conf *r,
			  struct shd_executor *e)
{
	static const char *const keys[] = { "type", "timeout", "dir",
		"variables", "apply", NULL };
	char p[PATHN];
	json_t *x;
	int rc;

	if ((rc = known_keys(l, o, path, keys)))
		return rc;
	at(p, path, ".dir");
	if (!(x = json_object_get(o, "dir")))
		return bad(l, p, "missing (the module's directory)");
	if ((rc = file_path(l, x, p, &e->dir)))
		return rc;
	at(p, path, ".apply");
	if ((x = json_object_get(o, "apply")) && (rc = boolean(l, x, p,
							       &e->apply)))
		return rc;
	at(p, path, ".variables");
	x = json_object_get(o, "variables");
	if (x && (rc = need_object(l, x, p)))
		return rc;
	if (x) {
		const char *k;
		json_t *v;

		json_object_foreach(x, k, v)
			if (shd_knob_parse(k) < 0)
				return bad(l, p, "unknown knob '%s' (known: "
					   "replicas, cpu, memory, storage)", k);
	}
	for (int k = 0; k < SHD_NKNOB; k++) {
		json_t *v = x ? json_object_get(x, shd_knob_name[k]) : NULL;
		char def[300];

		at(p, path, ".variables.%s", shd_knob_name[k]);
		if (!r->knob[k].set) {
			if (v)
				return bad(l, p, "the resource has no %s knob",
					   shd_knob_name[k]);
			continue;
		}
		if (v) {
			if ((rc = tf_variable(l, v, p, &e->vars[k],
					      &e->var_format[k])))
				return rc;
		} else {
			/* web-1's replicas: web_1_replicas */
			snprintf(def, sizeof(def), "%s_%s", r->name,
				 shd_knob_name[k]);
			for (char *c = def; *c; c++)
				if (!isalnum((unsigned char)*c))
					*c = '_';
			if (!tf_var_ok(def)) {	/* 9lives: r_9lives_cpu */
				memmove(def + 2, def, strlen(def) + 1);
				def[0] = 'r';
				def[1] = '_';
			}
			e->vars[k] = strdup(def);
		}
		if (!e->vars[k])
			return SHD_ENOMEM;
	}
	return 0;
}

static int exec_cgroup(struct ld *l, json_t *o, const char *path,
		       const struct shd_resource_conf *r,
		       struct shd_executor *e)
{
	static const char *const keys[] = { "type", "timeout", "path",
					    "root", NULL };
	char p[PATHN];
	json_t *x;
	int rc;

	if ((rc = known_keys(l, o, path, keys)))
		return rc;
	at(p, path, ".path");
	x = json_object_get(o, "path");
	if (!json_is_string(x))
		return bad(l, p, "missing (the cgroup below the root)");
	{
		char *s = strdup(json_string_value(x)), *save = NULL;
		int ok = s && *s && s[0] != '/';

		if (!s)
			return SHD_ENOMEM;
		for (char *c = strtok_r(s, "/", &save); ok && c;
		     c = strtok_r(NULL, "/", &save))
			ok = shd_name_ok(c);
		free(s);
		if (!ok)
			return bad(l, p, "not a cgroup path (names of A-Z "
				   "a-z 0-9 . _ - joined by '/', relative)");
		if (!(e->cgroup = strdup(json_string_value(x))))
			return SHD_ENOMEM;
	}
	at(p, path, ".root");
	if ((x = json_object_get(o, "root"))) {
		if (!json_is_string(x) || json_string_value(x)[0] != '/')
			return bad(l, p, "not an absolute path");
		if (!(e->cgroot = strdup(json_string_value(x))))
			return SHD_ENOMEM;
	}
	if (r->knob[SHD_KNOB_REPLICAS].set || r->knob[SHD_KNOB_STORAGE].set)
		return bad(l, path, "a cgroup has cpu and memory only");
	return 0;
}

/*
 * The {word}s of an argument must be placeholders shd fills in; other
 * braces (JSON in an argument) are left alone by the executor.
 */
static int placeholders(struct ld *l, const char *s, const char *path)
{
	static const char *const known[] = { "resource", "knob", "from", "to",
		"unit", "plan", "severity", NULL };

	for (const char *b = strchr(s, '{'); b; b = strchr(b + 1, '{')) {
		size_t n = strspn(b + 1, "abcdefghijklmnopqrstuvwxyz_");
		size_t i = 0;

		if (n == 0 || b[1 + n] != '}')
			continue;
		while (known[i] && (strlen(known[i]) != n ||
				    strncmp(known[i], b + 1, n) != 0))
			i++;
		if (!known[i])
			return bad(l, path, "unknown placeholder {%.*s} (known: "
				   "{resource} {knob} {from} {to} {unit} "
				   "{plan} {severity})", (int)n, b + 1);
	}
	return 0;
}

static int exec_command(struct ld *l, json_t *o, const char *path,
			struct shd_executor *e)
{
	static const char *const keys[] = { "type", "timeout", "argv", NULL };
	char p[PATHN];
	json_t *x, *a;
	size_t i;
	int rc;

	if ((rc = known_keys(l, o, path, keys)))
		return rc;
	at(p, path, ".argv");
	x = json_object_get(o, "argv");
	if (!json_is_array(x) || json_array_size(x) == 0 ||
	    json_array_size(x) > 256)
		return bad(l, p, "not an array of 1 to 256 strings (the "
			   "program and its arguments; no shell)");
	if (!(e->argv = calloc(json_array_size(x) + 1, sizeof(char *))))
		return SHD_ENOMEM;
	json_array_foreach(x, i, a) {
		at(p, path, ".argv[%zu]", i);
		if (!json_is_string(a) || (i == 0 && !*json_string_value(a)))
			return bad(l, p, "not a string");
		if (!(e->argv[i] = strdup(json_string_value(a))))
			return SHD_ENOMEM;
		e->argc++;
		if ((rc = placeholders(l, e->argv[i], p)))
			return rc;
	}
	return 0;
}

static int executor(struct ld *l, json_t *o, const char *path,
		    const struct shd_resource_conf *r, struct shd_executor *e)
{
	char p[PATHN];
	json_t *x;
	int rc, t;

	if ((rc = need_object(l, o, path)))
		return rc;
	at(p, path, ".type");
	x = json_object_get(o, "type");
	for (t = 0; t < SHD_NEXEC; t++)
		if (json_is_string(x) &&
		    strcmp(json_string_value(x), shd_exec_name[t]) == 0)
			break;
	if (t == SHD_NEXEC)
		return bad(l, p, "not one of kubectl, terraform, cgroup, "
			   "command");
	e->type = t;
	e->timeout = SHD_CONFIG_TIMEOUT;
	at(p, path, ".timeout");
	if ((x = json_object_get(o, "timeout")) &&
	    (rc = duration(l, x, p, &e->timeout)))
		return rc;
	switch (t) {
	case SHD_EXEC_KUBECTL: return exec_kubectl(l, o, path, r, e);
	case SHD_EXEC_TERRAFORM: return exec_terraform(l, o, path, r, e);
	case SHD_EXEC_CGROUP: return exec_cgroup(l, o, path, r, e);
	default: return exec_command(l, o, path, e);
	}
}

static int resource(struct ld *l, json_t *o, json_t *defs, const char *rname,
		    struct shd_resource_conf *r)
{
	static const char *const keys[] = { "replicas", "cpu", "memory",
		"storage", "metrics", "cooldown", "executor", NULL };
	json_t *mets = json_object_get(o, "metrics");
	json_t *dmets = defs ? json_object_get(defs, "metrics") : NULL;
	char path[PATHN], p[PATHN];
	const char *k;
	json_t *x;
	int rc, any = 0;

	snprintf(path, sizeof(path), "$.resources.%s", rname);
	if (!shd_name_ok(rname))
		return bad(l, path, "not a resource name (1 to 253 of A-Z a-z "
			   "0-9 . _ -, starting with a letter or digit)");
	if ((rc = need_object(l, o, path)) ||
	    (rc = known_keys(l, o, path, keys)))
		return rc;
	if (!(r->name = strdup(rname)))
		return SHD_ENOMEM;
	for (int kn = 0; kn < SHD_NKNOB; kn++) {
		r->knob[kn].current = r->knob[kn].min = NAN;
		r->knob[kn].max = r->knob[kn].max_step = NAN;
		at(p, path, ".%s", shd_knob_name[kn]);
		if ((x = json_object_get(o, shd_knob_name[kn]))) {
			if ((rc = knob_conf(l, x, p, kn, &r->knob[kn])))
				return rc;
			any = 1;
		}
	}
	if (!any)
		return bad(l, path, "no knob (replicas, cpu, memory or "
			   "storage) to change");
	r->cooldown = SHD_CONFIG_COOLDOWN;
	x = json_object_get(o, "cooldown");
	if (!x && defs)
		x = json_object_get(defs, "cooldown");
	at(p, path, ".cooldown");
	if (x && (rc = duration(l, x, p, &r->cooldown)))
		return rc;
	at(p, path, ".metrics");
	if (mets && (rc = need_object(l, mets, p)))
		return rc;
	/* The resource's metrics, then the defaults' others. */
	size_t cap = (mets ? json_object_size(mets) : 0) +
		     (dmets ? json_object_size(dmets) : 0);
	if (cap && !(r->metric = calloc(cap, sizeof(*r->metric))))
		return SHD_ENOMEM;
	if (mets) {
		json_object_foreach(mets, k, x) {
			json_t *d = dmets ? json_object_get(dmets, k) : NULL;

			at(p, path, ".metrics.%s", k);
			if ((rc = metric_conf(l, x, d, p, k, r,
					      &r->metric[r->nmetric++])))
				return rc;
		}
	}
	if (dmets) {
		json_object_foreach(dmets, k, x) {
			if (mets && json_object_get(mets, k))
				continue;
			/* A default only counts where it can drive a knob
			 * this resource has. */
			struct shd_metric_conf *m = &r->metric[r->nmetric];

			snprintf(p, sizeof(p), "$.defaults.metrics.%s", k);
			rc = metric_conf(l, NULL, x, p, k, r, m);
			if (rc == SHD_ENOMEM)
				return rc;
			if (rc == 0 && m->drives) {
				r->nmetric++;
			} else {
				free(m->name);
				memset(m, 0, sizeof(*m));
				l->err[0] = 0;
			}
		}
	}
	at(p, path, ".executor");
	if (!(x = json_object_get(o, "executor")))
		return bad(l, p, "missing (what changes the resource)");
	return executor(l, x, p, r, &r->exec);
}

/*
 * The defaults, checked where they are written (a resource that takes
 * one then cannot fail on it): the cooldown, and each metric as it would
 * be for a resource with every knob.
 */
static int check_defaults(struct ld *l, json_t *defs)
{
	struct shd_resource_conf all = { .name = (char *)"defaults" };
	json_t *mets = json_object_get(defs, "metrics"), *x;
	char p[PATHN];
	const char *k;
	double v;
	int rc;

	if ((x = json_object_get(defs, "cooldown")) &&
	    (rc = duration(l, x, "$.defaults.cooldown", &v)))
		return rc;
	if (!mets)
		return 0;
	if ((rc = need_object(l, mets, "$.defaults.metrics")))
		return rc;
	for (int kn = 0; kn < SHD_NKNOB; kn++)
		all.knob[kn].set = 1;
	json_object_foreach(mets, k, x) {
		struct shd_metric_conf m = { 0 };

		at(p, "$.defaults.metrics", ".%s", k);
		rc = metric_conf(l, NULL, x, p, k, &all, &m);
		free(m.name);
		if (rc)
			return rc;
	}
	return 0;
}

/* "shadow": {"fraction": F, "production_sha256": HEX} */
static int shadow_of(struct ld *l, json_t *o, struct shd_config *c)
{
	static const char *const keys[] = { "fraction", "production_sha256",
					    NULL };
	json_t *x;
	int rc;

	if ((rc = need_object(l, o, "$.shadow")) ||
	    (rc = known_keys(l, o, "$.shadow", keys)))
		return rc;
	if ((rc = fraction(l, json_object_get(o, "fraction"),
			   "$.shadow.fraction", 0, 1, &c->shadow_fraction)))
		return rc;
	x = json_object_get(o, "production_sha256");
	if (!json_is_string(x) || strlen(json_string_value(x)) != 64 ||
	    strspn(json_string_value(x), "0123456789abcdef") != 64)
		return bad(l, "$.shadow.production_sha256", "not a SHA-256 "
			   "in hex");
	memcpy(c->shadow_of, json_string_value(x), 65);
	return 0;
}

static int load_json(struct shd_config *c, json_t *j, struct ld *l)
{
	static const char *const top[] = { "shd_config", "defaults",
					   "resources", "shadow", NULL };
	static const char *const dkeys[] = { "cooldown", "metrics", NULL };
	json_t *defs, *res, *x;
	const char *k;
	int rc;

	if ((rc = need_object(l, j, "$")) ||
	    (rc = known_keys(l, j, "$", top)))
		return rc;
	x = json_object_get(j, "shd_config");
	if (x && (!json_is_integer(x) || json_integer_value(x) != 1))
		return bad(l, "$.shd_config", "not 1 (the only version this "
			   "shd knows)");
	if ((x = json_object_get(j, "shadow")) &&
	    (rc = shadow_of(l, x, c)))
		return rc;
	defs = json_object_get(j, "defaults");
	if (defs && ((rc = need_object(l, defs, "$.defaults")) ||
		     (rc = known_keys(l, defs, "$.defaults", dkeys))))
		return rc;
	if (defs && (rc = check_defaults(l, defs)))
		return rc;
	res = json_object_get(j, "resources");
	if (!res)
		return bad(l, "$.resources", "missing");
	if ((rc = need_object(l, res, "$.resources")))
		return rc;
	if (!(c->res = calloc(json_object_size(res) + 1, sizeof(*c->res))))
		return SHD_ENOMEM;
	json_object_foreach(res, k, x) {
		if ((rc = resource(l, x, defs, k, &c->res[c->nres++])))
			return rc;
	}
	return 0;
}

/* Reads PATH whole (a configuration is small: refuse over 16 MiB). */
static char *slurp(const char *path, size_t *len, char *err, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 16, used = 0;
	char *buf = NULL;
	long r;

	if (fd < 0) {
		snprintf(err, n, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (used == cap || !buf) {
			char *nb = used == cap ? realloc(buf, cap *= 2)
					       : malloc(cap);
			if (!nb || cap > (16u << 20)) {
				snprintf(err, n, "%s: %s", path, nb
					 ? "over 16 MiB: not a configuration"
					 : strerror(ENOMEM));
				free(nb ? nb : buf);
				close(fd);
				return NULL;
			}
			buf = nb;
		}
		r = shd_read_full(fd, buf + used, cap - used);
		if (r < 0) {
			snprintf(err, n, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		used += (size_t)r;
		if (used < cap)
			break;
	}
	close(fd);
	*len = used;
	return buf;
}

int shd_config_load(struct shd_config *c, const char *path, char *err,
		    size_t n)
{
	struct ld l = { .file = path, .err = err, .n = n };
	json_error_t je;
	size_t len;
	char *buf, *slash;
	json_t *j;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!(buf = slurp(path, &len, err, n)))
		return SHD_EIO;
	shd_sha256_hex(buf, len, c->sha256);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!j) {
		snprintf(err, n, "%s:%d:%d: not JSON: %s", path, je.line,
			 je.column, je.text);
		return SHD_EFORMAT;
	}
	snprintf(l.dir, sizeof(l.dir), "%s", path);
	slash = strrchr(l.dir, '/');
	if (!slash)
		snprintf(l.dir, sizeof(l.dir), ".");
	else if (slash == l.dir)
		slash[1] = 0;
	else
		*slash = 0;
	if (!(c->path = strdup(path)))
		rc = SHD_ENOMEM;
	else
		rc = load_json(c, j, &l);
	json_decref(j);
	if (rc == SHD_ENOMEM)
		snprintf(err, n, "%s: %s", path, strerror(ENOMEM));
	if (rc)
		shd_config_release(c);
	return rc;
}

static void exec_release(struct shd_executor *e)
{
	free(e->manifest);
	free(e->kind);
	free(e->workload);
	free(e->container);
	free(e->namespace);
	free(e->context);
	free(e->dir);
	for (int k = 0; k < SHD_NKNOB; k++)
		free(e->vars[k]);
	free(e->cgroup);
	free(e->cgroot);
	for (size_t i = 0; i < e->argc; i++)
		free(e->argv[i]);
	free(e->argv);
}

void shd_config_release(struct shd_config *c)
{
	for (size_t i = 0; i < c->nres; i++) {
		struct shd_resource_conf *r = &c->res[i];

		free(r->name);
		for (size_t m = 0; m < r->nmetric; m++)
			free(r->metric[m].name);
		free(r->metric);
		exec_release(&r->exec);
	}
	free(c->res);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

const struct shd_resource_conf *shd_config_find(const struct shd_config *c,
						const char *nm)
{
	for (size_t i = 0; i < c->nres; i++)
		if (strcmp(c->res[i].name, nm) == 0)
			return &c->res[i];
	return NULL;
}

const struct shd_metric_conf *shd_resource_metric(
	const struct shd_resource_conf *r, const char *nm)
{
	for (size_t i = 0; i < r->nmetric; i++)
		if (strcmp(r->metric[i].name, nm) == 0)
			return &r->metric[i];
	return NULL;
}
