/*
 * exec.h - executors: where a plan acts (DESIGN.md, "Executors").
 *
 * An executor sets one knob of one resource to an absolute value, so that
 * doing a change twice is the same as doing it once. Programs run by
 * argument vector (fork + execvp), never through a shell, with a timeout;
 * every name that reaches one has passed shd_name_ok (the configuration
 * loader and the plan reader check them).
 *
 *   kubectl    the manifest file (a GitOps checkout): the document
 *              holding KIND/WORKLOAD patched by `kubectl patch --local`
 *              (edited in place where kubectl reads the edit as its own
 *              patch, else as kubectl prints it; other documents kept
 *              byte for byte), validated offline (`kubectl set env
 *              --local --dry-run=client`), the file replaced atomically;
 *              with live, `kubectl scale` / `kubectl set resources` on
 *              the cluster. replicas -> spec.replicas; cpu, memory -> the
 *              container's resources.limits, and its requests too when
 *              above the new limit or when the container is of Guaranteed
 *              QoS.
 *   terraform  DIR/<resource>.auto.tfvars.json, written atomically with
 *              the knob's variable as a number or a quantity string
 *              (other variables in it kept); with apply,
 *              `terraform -chdir=DIR apply -auto-approve -input=false`.
 *   cgroup     v2: CGROOT/CGROUP/cpu.max ("QUOTA 100000") and memory.max;
 *              v1 (where the v2 files are absent): CGROOT/cpu/CGROUP/
 *              cpu.cfs_quota_us (period cpu.cfs_period_us) and
 *              CGROOT/memory/CGROUP/memory.limit_in_bytes.
 *   command    the argument template with {resource}, {knob}, {from},
 *              {to}, {unit}, {plan} and {severity} filled in.
 */
#ifndef SHD_EXEC_H
#define SHD_EXEC_H

#include <stdio.h>

#include "config.h"

/* One change for an executor. */
struct shd_change {
	const char *resource;
	int knob;		/* enum shd_knob */
	double from, to;
	const char *plan;	/* the plan's id */
	const char *severity;
};

struct shd_exec_opts {
	int dry_run;		/* print what would run or be written, to
				 * LOG, and change nothing */
	FILE *log;		/* dry run and commands' echo; may be NULL */
};

/*
 * Applies change C of resource R through R's executor. Returns 0;
 * SHD_EINVAL when the executor cannot set that knob (a cgroup's replicas)
 * or a name fails shd_name_ok; SHD_EFORMAT when the target's file is not
 * what it should be (no such workload in the manifest); SHD_EIO when a
 * program fails, times out or a file cannot be written. ERR (N bytes)
 * says what, with the program's own message where there is one.
 */
int shd_exec_apply(const struct shd_resource_conf *r,
		   const struct shd_change *c, const struct shd_exec_opts *o,
		   char *err, size_t n);

/*
 * Reads the value knob KNOB of R has now, where the executor can tell
 * (manifest, tfvars, cgroup files; not a command or a live cluster):
 * 0 with *V set (inf for an unlimited cgroup), SHD_EINVAL when it cannot
 * tell, other errors as above.
 */
int shd_exec_read(const struct shd_resource_conf *r, int knob, double *v,
		  char *err, size_t n);

/*
 * Runs ARGV (argv[0] looked up in PATH) with no shell, stdin from
 * /dev/null, for at most TIMEOUT seconds. Its stdout is returned in *OUT
 * (malloc'd, NUL-terminated; OUT may be NULL to discard), its stderr kept
 * for ERR. Returns 0 when it exits 0; SHD_EIO otherwise, with
 * "PROG: exit status S: first line of its stderr", "PROG: killed after
 * T s" or "PROG: not found" in ERR.
 */
int shd_run(char *const argv[], double timeout, char **out, char *err,
	    size_t n);

#endif
