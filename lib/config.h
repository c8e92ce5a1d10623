/*
 * config.h - the fleet configuration (man/shd-config.5): for each resource
 * what it is, its allocation and bounds, how its metrics drive the
 * allocation, its cooldown and which executor changes it.
 *
 * The file is JSON, read with jansson; every key is known (an unknown key
 * is an error naming its JSON path, "$.resources.web.cpu.maxx"), every
 * value checked. Quantities are numbers or Kubernetes quantity strings
 * ("500m", "512Mi", "2G"); durations are numbers of seconds or strings
 * ("10m", "90s").
 *
 * Knobs are what a plan changes: replicas (a count), cpu (cores per
 * replica, a limit), memory (bytes per replica, a limit) and storage
 * (bytes). A metric of the streams drives one or more knobs.
 */
#ifndef SHD_CONFIG_H
#define SHD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum shd_knob { SHD_KNOB_REPLICAS, SHD_KNOB_CPU, SHD_KNOB_MEMORY,
		SHD_KNOB_STORAGE, SHD_NKNOB };

/* "replicas", "cpu", "memory", "storage"; shd_knob_parse: -1 unknown. */
extern const char *const shd_knob_name[SHD_NKNOB];
int shd_knob_parse(const char *s);

/* One knob of a resource: NaN where not set (then the knob is absent). */
struct shd_knob_conf {
	int set;
	double current;		/* the allocation the file states */
	double min, max;	/* bounds (min 0 / max inf when not given) */
	double max_step;	/* largest change at once (inf: none) */
};

/* How a metric's values read: percent of the allocation, or absolute. */
enum shd_unit { SHD_UNIT_PERCENT, SHD_UNIT_ABSOLUTE };

/* One metric of a resource, by its name in the streams ("cpu"). */
struct shd_metric_conf {
	char *name;
	int unit;		/* enum shd_unit */
	double target;		/* utilization to size for, (0, 1] */
	double headroom;	/* over the predicted peak for limits, >= 0 */
	double capacity;	/* for shd-drift; NaN: none */
	double limit;		/* shd-drift's severity, shd-plan's bound for a
				 * percent metric sizing cpu or memory; NaN: none */
	unsigned drives;	/* bit (1u << knob) per knob it sizes */
};

enum shd_exec_type { SHD_EXEC_KUBECTL, SHD_EXEC_TERRAFORM, SHD_EXEC_CGROUP,
		     SHD_EXEC_COMMAND, SHD_NEXEC };

/* "kubectl", "terraform", "cgroup", "command". */
extern const char *const shd_exec_name[SHD_NEXEC];

/*
 * How a terraform variable holds a knob's value: a JSON number (cores,
 * bytes, a count), or the string shd_knob_format writes, a Kubernetes
 * quantity ("750m", "768Mi") for modules that hand it on as it is.
 */
enum shd_var_format { SHD_VAR_NUMBER, SHD_VAR_QUANTITY, SHD_NVAR_FORMAT };

/* "number", "quantity". */
extern const char *const shd_var_format_name[SHD_NVAR_FORMAT];

/*
 * Where a resource's changes go. Paths are as the file gives them,
 * relative ones resolved against the configuration's directory (the
 * loader does it, so these are usable as they are).
 */
struct shd_executor {
	int type;		/* enum shd_exec_type */
	double timeout;		/* seconds a program may run (default 60) */
	/* kubectl */
	char *manifest;		/* a GitOps file holding the workload */
	char *kind;		/* "deployment", "statefulset", ... */
	char *workload;		/* the object's metadata.name */
	char *container;	/* whose resources change (default: the
				 * resource name) */
	char *namespace;	/* NULL: the file's / the context's */
	char *context;		/* --live: kubectl context, NULL current */
	int live;		/* act on the cluster, not the manifest */
	/* terraform */
	char *dir;		/* the module's directory */
	char *vars[SHD_NKNOB];	/* variable per knob (NULL: not mapped) */
	int var_format[SHD_NKNOB];	/* enum shd_var_format per knob */
	int apply;		/* run terraform apply -auto-approve */
	/* cgroup */
	char *cgroup;		/* path below the cgroup root */
	char *cgroot;		/* the root (default /sys/fs/cgroup) */
	/* command */
	char **argv;		/* template, {resource} {knob} {from} {to}
				 * {plan} {severity} {unit} filled in */
	size_t argc;
};

struct shd_resource_conf {
	char *name;		/* the key in the streams */
	struct shd_knob_conf knob[SHD_NKNOB];
	size_t nmetric;
	struct shd_metric_conf *metric;
	double cooldown;	/* seconds after a change of this resource */
	struct shd_executor exec;
};

struct shd_config {
	char *path;		/* as given to shd_config_load */
	char sha256[65];	/* of the file's bytes, hex */
	/* A shadow's configuration (shd-shadow --config-out): the fraction
	 * of production it mirrors and the digest of production's file it
	 * was made or last synced from; 0 and "" for production's own. */
	double shadow_fraction;
	char shadow_of[65];
	size_t nres;
	struct shd_resource_conf *res;	/* in the file's order */
};

/* Defaults where the file says nothing (man/shd-config.5). */
#define SHD_CONFIG_TARGET 0.7
#define SHD_CONFIG_STORAGE_TARGET 0.8
#define SHD_CONFIG_HEADROOM 0.2
#define SHD_CONFIG_COOLDOWN 600.0
#define SHD_CONFIG_TIMEOUT 60.0

/*
 * Loads PATH. Returns 0, SHD_EFORMAT with "PATH: $.json.path: what" in ERR
 * (N bytes) for a bad file, SHD_EIO when it cannot be read, SHD_ENOMEM.
 */
int shd_config_load(struct shd_config *c, const char *path, char *err,
		    size_t n);
void shd_config_release(struct shd_config *c);

/* The resource named NAME, or NULL. */
const struct shd_resource_conf *shd_config_find(const struct shd_config *c,
						const char *name);
/* The metric named NAME of R, or NULL. */
const struct shd_metric_conf *shd_resource_metric(
	const struct shd_resource_conf *r, const char *name);

/*
 * Is S a name that may reach an executor? 1 to 253 bytes of [A-Za-z0-9._-],
 * starting with a letter or digit, not "." or ".." (and so no '/', no
 * space, no shell or path metacharacter).
 */
int shd_name_ok(const char *s);

/*
 * A quantity: a number, or a string of a decimal number with a Kubernetes
 * suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei). 0 or SHD_EINVAL.
 */
int shd_quantity_parse(const char *s, double *v);

/*
 * How a knob's value is written for people and for kubectl: replicas as
 * an integer, cpu in millicores ("750m") or cores, memory and storage in
 * Mi/Gi when exact, else bytes. Returns BUF.
 */
char *shd_knob_format(int knob, double v, char *buf, size_t n);

#endif
