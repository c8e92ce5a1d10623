/*
 * run.c - run a program by argument vector, with a timeout (exec.h).
 *
 * fork + execvp, never a shell. The child gets /dev/null for stdin and two
 * pipes for stdout and stderr; a third close-on-exec pipe carries execvp's
 * errno back, so "not found" is told from a program that exits 127. The
 * parent polls both output pipes until they close or the deadline passes,
 * then reaps the child: no zombie is left on any path.
 *
 * The child leads a process group of its own, so that a timeout kills
 * what it started too (terraform's providers, a script's sleep); a
 * grandchild holding the pipes open would otherwise keep us waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shd.h"
#include "exec.h"

#define RUN_ERRKEEP 1024		/* bytes of stderr kept for ERR */
#define RUN_OUTMAX (64u << 20)		/* stdout beyond this fails the run */

struct sink {
	char *buf;
	size_t len, cap;
	size_t max;		/* keep at most this many bytes */
	int over;		/* more came than max */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * In the child, between fork and exec: only async-signal-safe calls.
 * Reports a failure as errno on EP, which the parent reads.
 */
static void child(char *const argv[], int out, int errfd, int ep)
{
	struct sigaction sa;
	sigset_t all;
	int in, e;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(errfd, 2) < 0)
		goto fail;
	execvp(argv[0], argv);
fail:
	e = errno;
	while (write(ep, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* Appends LEN bytes to S, keeping at most S->max. -1 when out of memory. */
static int sink_add(struct sink *s, const char *p, size_t len)
{
	if (len > s->max - s->len) {
		len = s->max - s->len;
		s->over = 1;
	}
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;

		while (cap < s->len + len + 1)
			cap *= 2;
		if (!(nb = realloc(s->buf, cap)))
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

/* Reads what FD has into S; closes it at end of file. -1 on ENOMEM. */
static int drain(int *fd, struct sink *s)
{
	char buf[8192];
	ssize_t k = read(*fd, buf, sizeof(buf));

	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (k <= 0) {
		close_fd(fd);
		return 0;
	}
	return sink_add(s, buf, (size_t)k);
}

/*
 * Waits for both pipes to close, or the deadline (END, inf: none).
 * Returns 0, 1 on timeout, -1 out of memory.
 */
static int collect(int *ofd, int *efd, struct sink *out, struct sink *err,
		   double end)
{
	while (*ofd >= 0 || *efd >= 0) {
		struct pollfd p[2] = { { *ofd, POLLIN, 0 },
				       { *efd, POLLIN, 0 } };
		int ms = -1;

		if (isfinite(end)) {
			double left = end - now();

			if (left <= 0)
				return 1;
			ms = (int)ceil(fmin(left, 86400.0) * 1000);
		}
		int k = poll(p, 2, ms);	/* a negative fd is skipped */

		if (k < 0 && errno != EINTR)
			return -1;
		if (k <= 0)
			continue;
		if (p[0].revents && drain(ofd, out) < 0)
			return -1;
		if (p[1].revents && drain(efd, err) < 0)
			return -1;
	}
	return 0;
}

static pid_t reap(pid_t pid, int *status)
{
	pid_t w;

	while ((w = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return w;
}

/* The first line of the child's stderr, or "". */
static const char *first_line(struct sink *s)
{
	if (!s->buf)
		return "";
	s->buf[strcspn(s->buf, "\r\n")] = '\0';
	return s->buf;
}

/* ERR for a child that ended with STATUS. */
static int report(const char *prog, int status, struct sink *e, char *err,
		  size_t n)
{
	const char *line = first_line(e);
	const char *sep = *line ? ": " : "";

	if (WIFEXITED(status))
		snprintf(err, n, "%s: exit status %d%s%s", prog,
			 WEXITSTATUS(status), sep, line);
	else if (WIFSIGNALED(status))
		snprintf(err, n, "%s: killed by signal %d%s%s", prog,
			 WTERMSIG(status), sep, line);
	else
		snprintf(err, n, "%s: ended oddly (status %#x)", prog,
			 (unsigned)status);
	return SHD_EIO;
}

/* Reads execvp's errno from EP: 0 when the program started. */
static int exec_errno(int ep)
{
	int e = 0;
	ssize_t k;

	while ((k = read(ep, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	return k == (ssize_t)sizeof(e) ? e : 0;
}

int shd_run(char *const argv[], double timeout, char **out, char *err,
	    size_t n)
{
	struct sink so = { NULL, 0, 0, out ? RUN_OUTMAX : 0, 0 };
	struct sink se = { NULL, 0, 0, RUN_ERRKEEP, 0 };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 };
	const char *prog = argv && argv[0] ? argv[0] : "(null)";
	double end = INFINITY;
	int rc = SHD_EIO, status = 0, e, timed;
	char dummy[1];
	pid_t pid;

	if (!err || !n) {
		err = dummy;
		n = sizeof(dummy);
	}
	err[0] = '\0';
	if (out)
		*out = NULL;
	if (!argv || !argv[0]) {
		snprintf(err, n, "no program to run");
		return SHD_EINVAL;
	}
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(px, O_CLOEXEC) < 0) {
		snprintf(err, n, "%s: cannot make a pipe: %s", prog,
			 strerror(errno));
		goto out;
	}
	/* a timeout of 0, negative or NaN means none (the config's "0") */
	if (timeout > 0 && isfinite(timeout))
		end = now() + timeout;
	pid = fork();
	if (pid < 0) {
		snprintf(err, n, "%s: cannot fork: %s", prog, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, po[1], pe[1], px[1]);
	/* also in the parent, lest a kill race the child's own setpgid */
	setpgid(pid, pid);
	close_fd(&po[1]);
	close_fd(&pe[1]);
	close_fd(&px[1]);
	if ((e = exec_errno(px[0])) != 0) {
		reap(pid, &status);
		if (e == ENOENT)
			snprintf(err, n, "%s: not found", prog);
		else
			snprintf(err, n, "%s: cannot run: %s", prog,
				 strerror(e));
		goto out;
	}
	timed = collect(&po[0], &pe[0], &so, &se, end);
	e = errno;
	if (timed != 0)
		kill(-pid, SIGKILL);
	if (reap(pid, &status) < 0) {
		snprintf(err, n, "%s: cannot wait: %s", prog, strerror(errno));
		goto out;
	}
	if (timed > 0) {
		snprintf(err, n, "%s: killed after %g s", prog, timeout);
	} else if (timed < 0) {
		snprintf(err, n, "%s: %s", prog, strerror(e));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		report(prog, status, &se, err, n);
	} else if (so.over && out) {
		snprintf(err, n, "%s: output over %u MiB", prog,
			 RUN_OUTMAX >> 20);
	} else {
		rc = 0;
		if (out) {
			*out = so.buf ? so.buf : strdup("");
			so.buf = NULL;
			if (!*out) {
				snprintf(err, n, "%s: out of memory", prog);
				rc = SHD_ENOMEM;
			}
		}
	}
out:
	close_fd(&po[0]);
	close_fd(&po[1]);
	close_fd(&pe[0]);
	close_fd(&pe[1]);
	close_fd(&px[0]);
	close_fd(&px[1]);
	free(so.buf);
	free(se.buf);
	return rc;
}
