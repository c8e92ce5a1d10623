/*
 * confscale.c - production's configuration scaled to a shadow's
 * (confscale.h has the rule).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "confscale.h"
#include "shd.h"
#include "sign.h"

double shd_shadow_value(int knob, const char *field, double v, double f)
{
	const double mib = 1048576.0;

	if (isinf(v))
		return v;
	if (knob == SHD_KNOB_REPLICAS) {
		double s = ceil(v * f - 1e-9);

		/* a shadow runs: at least one replica where production has
		 * any (a min of 0 stays 0) */
		return v <= 0 ? 0 : s < 1 ? 1 : s;
	}
	if (knob == SHD_KNOB_STORAGE)
		return v > 0 ? fmax(ceil(v * f / mib - 1e-9), 1) * mib : 0;
	(void)field;
	return v;
}

/* Scales the fields of one knob object O of KNOB in place. */
static int scale_knob(json_t *o, int knob, double f)
{
	static const char *const fields[] = { "current", "min", "max",
					      "max_step" };

	if (!json_is_object(o))
		return -1;
	for (size_t i = 0; i < 4; i++) {
		json_t *x = json_object_get(o, fields[i]);
		double v;

		if (!x)
			continue;
		if (json_is_number(x))
			v = json_number_value(x);
		else if (!json_is_string(x) ||
			 shd_quantity_parse(json_string_value(x), &v) != 0)
			return -1;
		v = shd_shadow_value(knob, fields[i], v, f);
		/* whole numbers as integers while they are exact (2^53) */
		if (json_object_set_new(o, fields[i], (knob == SHD_KNOB_REPLICAS
					|| knob == SHD_KNOB_STORAGE) &&
					v < 9007199254740992.0
					? json_integer((json_int_t)v)
					: json_real(v)) < 0)
			return -1;
	}
	return 0;
}

json_t *shd_config_shadow(const json_t *prod, double f, const char *sha)
{
	json_t *s, *res, *r;
	const char *name;

	if (!json_is_object(prod) || !(f > 0 && f <= 1))
		return NULL;
	if (!(s = json_deep_copy(prod)))
		return NULL;
	res = json_object_get(s, "resources");
	if (!json_is_object(res))
		goto fail;
	json_object_foreach(res, name, r) {
		json_t *k;

		if ((k = json_object_get(r, "replicas")) &&
		    scale_knob(k, SHD_KNOB_REPLICAS, f) < 0)
			goto fail;
		if ((k = json_object_get(r, "storage")) &&
		    scale_knob(k, SHD_KNOB_STORAGE, f) < 0)
			goto fail;
	}
	if (json_object_set_new(s, "shadow", json_pack(
				"{s:f, s:s}", "fraction", f,
				"production_sha256", sha)) < 0)
		goto fail;
	return s;
fail:
	json_decref(s);
	return NULL;
}

/* The directory of file PATH, absolute and resolved (malloc'd); NULL
 * with errno. */
static char *abs_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *res;

	if (!slash)
		return realpath(".", NULL);
	if (slash == path)
		return strdup("/");
	if (!(dir = strndup(path, (size_t)(slash - path))))
		return NULL;
	res = realpath(dir, NULL);
	free(dir);
	return res;
}

/* Member K of executor E, a relative path, made DIR/K. */
static int absolute_member(json_t *e, const char *k, const char *dir)
{
	json_t *x = json_object_get(e, k);
	const char *v = json_string_value(x);
	size_t l;
	char *p;
	int rc;

	if (!v || !*v || v[0] == '/')
		return 0;
	l = strlen(dir) + strlen(v) + 2;
	if (!(p = malloc(l)))
		return SHD_ENOMEM;
	snprintf(p, l, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", v);
	rc = json_object_set_new(e, k, json_string(p)) < 0 ? SHD_ENOMEM : 0;
	free(p);
	return rc;
}

int shd_config_absolute(json_t *doc, const char *path)
{
	json_t *res = json_object_get(doc, "resources"), *r;
	const char *name;
	char *dir = NULL;
	int rc = 0;

	json_object_foreach(res, name, r) {
		json_t *e = json_object_get(r, "executor");
		const char *type = json_string_value(json_object_get(e,
								      "type"));
		const char *k = !type ? NULL
				: !strcmp(type, "kubectl") ? "manifest"
				: !strcmp(type, "terraform") ? "dir" : NULL;
		const char *v = k ? json_string_value(json_object_get(e, k))
			       : NULL;

		if (!v || !*v || v[0] == '/')
			continue;
		if (!dir && !(dir = abs_dir(path))) {
			rc = errno == ENOMEM ? SHD_ENOMEM : SHD_EIO;
			break;
		}
		if ((rc = absolute_member(e, k, dir)))
			break;
	}
	free(dir);
	return rc;
}

/* Writes TEXT to PATH atomically; 0 or SHD_EIO with ERR. */
static int put(const char *path, const char *text, char *err, size_t n)
{
	if (shd_atomic_write(path, text, strlen(text)) == 0)
		return 0;
	snprintf(err, n, "%s: %s", path, strerror(errno));
	return SHD_EIO;
}

int shd_shadow_write(const char *path, const json_t *shadow,
		     const json_t *prod, const char *psha, char *err,
		     size_t n)
{
	char *text = json_dumps(shadow, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(15));
	char ssha[65], rpath[4096], *rtext = NULL;
	json_t *rec = NULL;
	int rc = SHD_ENOMEM;
	size_t l;

	if (!text)
		goto out;
	l = strlen(text);
	if (!(rtext = realloc(text, l + 2)))
		goto out;
	text = rtext;
	text[l] = '\n';
	text[l + 1] = 0;
	rtext = NULL;
	shd_sha256_hex(text, l + 1, ssha);
	rec = json_pack("{s:i, s:O, s:s, s:s}", "shd_sync", 1, "production",
			(json_t *)prod, "production_sha256", psha,
			"shadow_sha256", ssha);
	if (!rec || !(rtext = json_dumps(rec, JSON_INDENT(2) |
					  JSON_PRESERVE_ORDER)))
		goto out;
	if (snprintf(rpath, sizeof(rpath), "%s.sync", path) >=
	    (int)sizeof(rpath)) {
		snprintf(err, n, "%s: path too long", path);
		rc = SHD_EIO;
		goto out;
	}
	/* the shadow first: a crash between leaves a record that no longer
	 * matches, which shd-sync reports as an edit (--force mends) */
	if ((rc = put(path, text, err, n)) == 0)
		rc = put(rpath, rtext, err, n);
out:
	if (rc == SHD_ENOMEM)
		snprintf(err, n, "%s: out of memory", path);
	free(text);
	free(rtext);
	json_decref(rec);
	return rc;
}

int shd_sync_record_load(const char *path, json_t **prod, char psha[65],
			 char ssha[65], char *err, size_t n)
{
	char rpath[4096];
	json_error_t je;
	const char *p, *s;
	json_t *j, *pr;
	int v;

	if (snprintf(rpath, sizeof(rpath), "%s.sync", path) >=
	    (int)sizeof(rpath)) {
		snprintf(err, n, "%s: path too long", path);
		return SHD_EIO;
	}
	if (!(j = json_load_file(rpath, JSON_REJECT_DUPLICATES, &je))) {
		FILE *f = fopen(rpath, "r");

		if (!f) {
			int e = errno;

			snprintf(err, n, "%s: %s", rpath, strerror(e));
			errno = e;
			return SHD_EIO;
		}
		fclose(f);
		snprintf(err, n, "%s:%d: not a sync record: %s", rpath,
			 je.line, je.text);
		return SHD_EFORMAT;
	}
	if (json_unpack(j, "{s:i, s:o, s:s, s:s}", "shd_sync", &v,
			"production", &pr, "production_sha256", &p,
			"shadow_sha256", &s) != 0 || v != 1 ||
	    !json_is_object(pr) || strlen(p) != 64 || strlen(s) != 64) {
		snprintf(err, n, "%s: $: not a sync record (shd_sync 1, "
			 "production, production_sha256, shadow_sha256)",
			 rpath);
		json_decref(j);
		return SHD_EFORMAT;
	}
	memcpy(psha, p, 65);
	memcpy(ssha, s, 65);
	*prod = json_incref(pr);
	json_decref(j);
	return 0;
}
