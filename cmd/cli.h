/*
 * cli.h - what every shd command shares: messages in the house style, exit
 * statuses, opening inputs, finishing stdout. Commands only: libshd never
 * prints or exits.
 */
#ifndef SHD_CLI_H
#define SHD_CLI_H

#include <stdint.h>
#include <stdio.h>

struct shd_schema;

/* Exit statuses, the same in every program (DESIGN.md). */
enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1,		/* a question answered yes (drift, a plan) */
	EXIT_USAGE = 2,
	EXIT_BADINPUT = 3,	/* the message names the file, line or block */
	EXIT_SYSTEM = 4,
};

/* The program's name for messages ("shd-ingest"); set by cli_init. */
extern const char *cli_prog;

void cli_init(const char *argv0);

/*
 * "PROG: message" on stderr. A format ending in ':' gets ": strerror(errno)"
 * appended (sbase eprintf).
 */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void cli_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "PROG (shd) VERSION" on stdout, exit 0. */
_Noreturn void cli_version(void);

/* Exit status for a libshd error code: bad input 3, anything else 4. */
int cli_status(int shd_err);

/* Opens PATH for reading ("-" is stdin); dies with status 4 naming it. */
int cli_open_in(const char *path);

/*
 * Refuses to write binary data to a terminal unless FORCE (zstd's rule):
 * dies with status 2 and a hint.
 */
void cli_binary_stdout(int force);

/* Flushes and closes stdout; a failed last write is an error (status 4). */
int cli_close_stdout(void);

/* Parses a TIME argument of any program (what ingest reads) or dies (2). */
int64_t cli_time_arg(const char *opt, const char *s);

/* Parses a duration argument or dies (2). */
int64_t cli_duration_arg(const char *opt, const char *s);

/* A whole number option in [LO, HI] or die (2) naming OPT. */
size_t cli_size_arg(const char *opt, const char *s, size_t lo, size_t hi);

/* A number in (LO, HI), or [LO, HI) when LO_OK, or die (2) naming OPT. */
double cli_real_arg(const char *opt, const char *s, double lo, int lo_ok,
		    double hi);

/*
 * Metadata KEY of the stream PATH (schema S) as a number in [LO, HI], or
 * DEF when the stream has none; anything else dies (3) naming it. (The
 * metadata is the producer's text: atof would take "1e300" or "x".)
 */
double cli_meta_num(const struct shd_schema *s, const char *key, double lo,
		    double hi, double def, const char *path);

/*
 * TEXT and a newline as the file PATH, atomically: 0, or -1 with errno
 * set (and no temporary file left).
 */
int cli_write_text(const char *path, const char *text);

/*
 * The one input operand after the options (ARGV[*OPTIND]), "-" when there
 * is none; dies (2) when there are more, naming WHAT ("alert stream").
 */
const char *cli_one_input(int argc, char **argv, int optind_,
			  const char *what);

/* Is stderr a terminal that wants progress? */
int cli_progress_wanted(int quiet);

/*
 * shd-apply's state directory: DIR when given, else $SHD_STATE, else
 * $XDG_STATE_HOME/shd, else $HOME/.local/state/shd; dies (2) when none
 * can be found. The string is static or DIR itself.
 */
const char *cli_state_dir(const char *dir);

#endif
