/*
 * confscale.c - production's configuration scaled to a shadow's
 * (confscale.h has the rule).
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "confscale.h"

double shd_shadow_value(int knob, const char *field, double v, double f)
{
	const double mib = 1048576.0;

	if (isinf(v))
		return v;
	if (knob == SHD_KNOB_REPLICAS) {
		double s = ceil(v * f - 1e-9);

		/* a shadow runs: at least one replica where production has
		 * any (a min of 0 stays 0) */
		return v > 0 && s < 1 ? 1 : s;
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
		if (json_object_set_new(o, fields[i], knob == SHD_KNOB_REPLICAS
					|| knob == SHD_KNOB_STORAGE
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
