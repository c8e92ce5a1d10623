/* cli.c - shared helpers of the shd commands (see cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "shd.h"

const char *cli_prog = "shd";

void cli_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	cli_prog = slash ? slash + 1 : argv0;
}

static void vwarn(const char *fmt, va_list ap)
{
	int e = errno;
	size_t n = strlen(fmt);

	fprintf(stderr, "%s: ", cli_prog);
	vfprintf(stderr, fmt, ap);
	if (n && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(e));
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void cli_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void cli_version(void)
{
	printf("%s (shd) %s\n", cli_prog, SHD_VERSION);
	exit(cli_close_stdout());
}

int cli_status(int shd_err)
{
	return shd_err == SHD_EFORMAT || shd_err == SHD_EINVAL ?
	       EXIT_BADINPUT : EXIT_SYSTEM;
}

int cli_open_in(const char *path)
{
	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_die(errno == ENOENT || errno == EACCES || errno == EISDIR ?
			EXIT_BADINPUT : EXIT_SYSTEM,
			"cannot open '%s':", path);
	return fd;
}

void cli_binary_stdout(int force)
{
	if (!force && isatty(STDOUT_FILENO))
		cli_die(EXIT_USAGE, "will not write a binary stream to a "
			"terminal\nhint: pipe it (| shd-cat), use -o FILE, or "
			"-f to force");
}

int cli_close_stdout(void)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);

	if (fclose(stdout) != 0)
		bad = 1;
	if (bad) {
		cli_warn("write error on standard output:");
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

int64_t cli_time_arg(const char *opt, const char *s)
{
	int64_t ms;

	if (shd_time_parse(s, strlen(s), &ms) < 0)
		cli_die(EXIT_USAGE, "%s: bad time '%s' (use ISO 8601, "
			"'YYYY-MM-DD HH:MM:SS' or Unix seconds)", opt, s);
	return ms;
}

int64_t cli_duration_arg(const char *opt, const char *s)
{
	int64_t ms;

	if (shd_duration_parse(s, &ms) < 0)
		cli_die(EXIT_USAGE, "%s: bad duration '%s' (for example 300, "
			"300s, 5m, 1h)", opt, s);
	return ms;
}

size_t cli_size_arg(const char *opt, const char *s, size_t lo, size_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < lo || v > hi)
		cli_die(EXIT_USAGE, "%s: expected a whole number from %zu to "
			"%zu, got '%s'", opt, lo, hi, s);
	return (size_t)v;
}

double cli_real_arg(const char *opt, const char *s, double lo, int lo_ok,
		    double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v < lo ||
	    (!lo_ok && v == lo) || v >= hi)
		cli_die(EXIT_USAGE, "%s: bad value '%s'", opt, s);
	return v;
}

double cli_meta_num(const struct shd_schema *s, const char *key, double lo,
		    double hi, double def, const char *path)
{
	double v = def;

	if (shd_schema_meta_num(s, key, lo, hi, &v))
		cli_die(EXIT_BADINPUT, "%s: bad metadata %s '%s'", path, key,
			shd_schema_meta(s, key));
	return v;
}

int cli_progress_wanted(int quiet)
{
	return !quiet && isatty(STDERR_FILENO);
}

const char *cli_state_dir(const char *dir)
{
	static char buf[4096];
	const char *e;

	if (dir && *dir)
		return dir;
	if ((e = getenv("SHD_STATE")) && *e)
		return e;
	if ((e = getenv("XDG_STATE_HOME")) && *e) {
		snprintf(buf, sizeof(buf), "%s/shd", e);
		return buf;
	}
	if ((e = getenv("HOME")) && *e) {
		snprintf(buf, sizeof(buf), "%s/.local/state/shd", e);
		return buf;
	}
	cli_die(EXIT_USAGE, "no state directory: give --state DIR or set "
		"SHD_STATE");
}

const char *cli_one_input(int argc, char **argv, int optind_,
			  const char *what)
{
	if (optind_ + 1 < argc)
		cli_die(EXIT_USAGE, "one %s at most (try --help)", what);
	return optind_ < argc ? argv[optind_] : "-";
}

int cli_write_text(const char *path, const char *text)
{
	size_t n = strlen(text);
	char *b = malloc(n + 2);
	int rc;

	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(b, text, n + 1);
	b[n] = '\n';	/* the text and a newline: not a C string */
	rc = shd_atomic_write(path, b, n + 1);
	free(b);
	return rc < 0 ? -1 : 0;
}
