/*
 * confscale.h - a shadow's configuration from production's (shd-shadow
 * --config-out, shd-sync): the same resources, executors and metrics, with
 * what scales with the fleet scaled down by the shadow's fraction F and
 * what is per replica kept (shd-shadow(1), "The shadow's configuration"):
 *
 *   replicas  current, min, max: ceil(x * F), at least 1 (min: at least
 *             1 when production's min is); max_step: ceil(x * F)
 *   storage   current, min, max, max_step: x * F, up to a whole MiB
 *   cpu, memory (per replica), metrics (targets, headroom, capacity and
 *             limit per replica), cooldown, executor: kept
 *
 * and a top-level "shadow": {"fraction": F, "production_sha256": SHA}.
 * Quantities come out as numbers (cores, bytes), whatever production
 * wrote.
 */
#ifndef SHD_CONFSCALE_H
#define SHD_CONFSCALE_H

#include <jansson.h>

/*
 * The shadow value of field FIELD ("current", "min", "max", "max_step")
 * of knob KNOB at production value V (a quantity already parsed).
 */
double shd_shadow_value(int knob, const char *field, double v, double f);

/*
 * A new shadow configuration document from production's PROD (parsed
 * JSON, already valid: shd_config_load it first) at fraction F in (0, 1],
 * with production's file digest SHA (hex). NULL on out of memory or when
 * PROD is not a configuration object.
 */
json_t *shd_config_shadow(const json_t *prod, double f, const char *sha);

/*
 * Makes the relative executor paths of configuration document DOC
 * absolute, against the directory of the file PATH it was read from (made
 * absolute with the working directory): kubectl's "manifest" and
 * terraform's "dir", which shd_config_load takes relative to the file
 * that holds them. A shadow's configuration lives beside the shadow, not
 * production, so its paths must not stay relative: shd-shadow and
 * shd-sync make production's documents absolute before they scale them.
 * Other values are left alone. 0; SHD_EIO (errno) when the directory
 * cannot be resolved; SHD_ENOMEM.
 */
int shd_config_absolute(json_t *doc, const char *path);

/*
 * Writing a shadow's configuration: SHADOW (the document) to PATH
 * atomically, then its sync record PATH.sync atomically:
 *   {"shd_sync": 1, "production": PROD, "production_sha256": PSHA,
 *    "shadow_sha256": SHA-256 of the bytes written to PATH}
 * so that shd-sync knows what production was (to find its changes) and
 * whether PATH was edited by hand since. 0 or SHD_EIO / SHD_ENOMEM with
 * the reason in ERR (N bytes).
 */
int shd_shadow_write(const char *path, const json_t *shadow,
		     const json_t *prod, const char *psha, char *err,
		     size_t n);

/*
 * Reads PATH.sync: production's document as last synced (*PROD, a new
 * reference), its digest and the digest of the shadow file as written.
 * 0; SHD_EIO when it cannot be read (no record: ENOENT in errno);
 * SHD_EFORMAT naming the file and the JSON path.
 */
int shd_sync_record_load(const char *path, json_t **prod, char psha[65],
			 char ssha[65], char *err, size_t n);

#endif
