/*
 * exec_priv.h - what lib/exec*.c share: one apply and one read per
 * executor, and the helpers for messages, dry runs and files.
 *
 * exec.c checks names and values before an executor is called, so the
 * executors take every name from R and C as safe (shd_name_ok) and C->to
 * as a number the knob can hold (>= 0; inf only for a cgroup).
 */
#ifndef SHD_EXEC_PRIV_H
#define SHD_EXEC_PRIV_H

#include <stddef.h>

#include "exec.h"

int shd_kubectl_apply(const struct shd_resource_conf *r,
		      const struct shd_change *c,
		      const struct shd_exec_opts *o, char *err, size_t n);
int shd_kubectl_read(const struct shd_resource_conf *r, int knob, double *v,
		     char *err, size_t n);
int shd_terraform_apply(const struct shd_resource_conf *r,
			const struct shd_change *c,
			const struct shd_exec_opts *o, char *err, size_t n);
int shd_terraform_read(const struct shd_resource_conf *r, int knob,
		       double *v, char *err, size_t n);
int shd_cgroup_apply(const struct shd_resource_conf *r,
		     const struct shd_change *c,
		     const struct shd_exec_opts *o, char *err, size_t n);
int shd_cgroup_read(const struct shd_resource_conf *r, int knob, double *v,
		    char *err, size_t n);
int shd_command_apply(const struct shd_resource_conf *r,
		      const struct shd_change *c,
		      const struct shd_exec_opts *o, char *err, size_t n);

/* snprintf into ERR (N bytes, either may be 0) and return CODE. */
__attribute__((format(printf, 4, 5)))
int shd_exec_fail(char *err, size_t n, int code, const char *fmt, ...);

/* Is this a dry run? (O may be NULL) */
int shd_exec_dry(const struct shd_exec_opts *o);

/*
 * Writes one line to O->log, if there is one: "would " first in a dry
 * run, then FMT ("write web.yaml: ..."), then a newline.
 */
__attribute__((format(printf, 2, 3)))
void shd_exec_log(const struct shd_exec_opts *o, const char *fmt, ...);

/*
 * Runs ARGV with shd_run after echoing "run: ARGV" (quoted for a shell
 * reader) to O->log; in a dry run only echoes it and returns 0 with *OUT
 * NULL.
 */
int shd_exec_run(const struct shd_exec_opts *o, char *const argv[],
		 double timeout, char **out, char *err, size_t n);

/*
 * Writes ARG to FP as a POSIX shell reads it back: as it is when only
 * harmless characters, else in single quotes.
 */
void shd_exec_quote(FILE *fp, const char *arg);

/*
 * Replaces PATH atomically with the LEN bytes of BUF, keeping the mode
 * of the file there (else MODE, or the umask's when MODE is -1). 0 or
 * SHD_EIO with ERR naming PATH.
 */
int shd_exec_write(const char *path, const void *buf, size_t len, int mode,
		   char *err, size_t n);

/*
 * Reads all of PATH into a malloc'd NUL-terminated buffer (*LEN bytes).
 * 0, SHD_EIO with errno set (ENOENT when there is none), SHD_ENOMEM.
 */
int shd_exec_slurp(const char *path, char **buf, size_t *len);

/* The text of V for knob KNOB in a template or JSON: "5", "0.75". */
void shd_exec_number(int knob, double v, char buf[32]);

#endif
