/*
 * shd.h - the public interface of libshd.
 *
 * This header is the contract between lib/ and the commands in cmd/.
 * Conventions (see STYLE.md):
 *  - functions return 0 on success, a negative enum shd_err on failure, and a
 *    positive value only where documented (SHD_EOF);
 *  - _init/_release work on storage the caller owns, _new/_free on the heap,
 *    and _free(NULL) does nothing;
 *  - libshd never prints and never exits; detail about a failure stays in the
 *    object that failed (shd_reader_errmsg, struct shd_diag, ...).
 */
#ifndef SHD_H
#define SHD_H

#include <stddef.h>
#include <stdint.h>

#define SHD_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

enum shd_err {
	SHD_OK = 0,
	SHD_EOF = 1,		/* clean end of a stream (not an error) */
	SHD_EIO = -1,		/* read or write failed; errno says why */
	SHD_EFORMAT = -2,	/* bad input: corrupt, truncated or malformed */
	SHD_ENOMEM = -3,	/* out of memory */
	SHD_EINVAL = -4,	/* bad argument or option value */
	SHD_ENUMERIC = -5,	/* numerical failure (singular matrix, NaN loss) */
};

/* Short, static text for an enum shd_err code. */
const char *shd_strerror(int code);

/* ------------------------------------------------------------ dictionary */

/*
 * An interning table of byte strings (resource names and other keys). Ids are
 * dense, start at 0 and never change; strings are stored NUL-terminated.
 */
struct shd_dict;

/* A new empty dictionary, or NULL when out of memory. */
struct shd_dict *shd_dict_new(void);
void shd_dict_free(struct shd_dict *d);

/*
 * The id of the LEN bytes at S, adding them when new. Returns 0 and sets *ID,
 * or SHD_ENOMEM. S need not be NUL-terminated and may contain any byte but NUL
 * (a NUL byte gives SHD_EINVAL).
 */
int shd_dict_intern(struct shd_dict *d, const char *s, size_t len, uint32_t *id);

/* The id of S when present (0 and *ID set), else SHD_EINVAL. */
int shd_dict_find(const struct shd_dict *d, const char *s, size_t len,
		  uint32_t *id);

/*
 * The string of ID (NUL-terminated; its length in *LEN when LEN is not NULL).
 * Valid until the dictionary is freed. ID must be < shd_dict_count(d).
 */
const char *shd_dict_str(const struct shd_dict *d, uint32_t id, size_t *len);

/* Number of strings in the dictionary. */
size_t shd_dict_count(const struct shd_dict *d);

/* ---------------------------------------------------------------- schema */

/* Column types of the stream format; values are the on-disk codes. */
enum shd_type {
	SHD_TIME = 1,	/* int64 milliseconds since the Unix epoch, UTC */
	SHD_KEY = 2,	/* dictionary-encoded string (uint32 ids in memory) */
	SHD_F64 = 3,	/* double; NaN means missing */
	SHD_F32 = 4,	/* float; NaN means missing */
	SHD_I64 = 5,	/* int64 */
	SHD_U8 = 6,	/* uint8 (flags, booleans, small enums) */
};

/* "time", "key", "f64", ... for a type, or NULL for an unknown one. */
const char *shd_type_name(enum shd_type t);
/* The type named NAME, or 0 when unknown. */
enum shd_type shd_type_parse(const char *name);
/* Bytes per value in memory: 8, 4 (key ids and f32) or 1. */
size_t shd_type_size(enum shd_type t);

/*
 * One column: a name, a type, a unit ("" when none; "%", "bytes", "bytes/s",
 * "ms", ...) and a role ("time", "key", "metric", "forecast", "lo", "hi",
 * "conf", "score", ... ; "" when none). Strings are owned by the schema.
 */
struct shd_column {
	char *name;
	enum shd_type type;
	char *unit;
	char *role;
};

/*
 * The schema of a stream: its columns, in order, and free key/value metadata
 * (sampling interval, source, producer, model, ...), both owned.
 */
struct shd_schema {
	size_t ncols;
	struct shd_column *cols;
	size_t nmeta;
	char **meta_key;
	char **meta_val;
};

void shd_schema_init(struct shd_schema *s);
void shd_schema_release(struct shd_schema *s);

/*
 * Appends a column. UNIT and ROLE may be NULL (stored as ""). Returns 0,
 * SHD_EINVAL for an empty name, a name already present or a bad type, or
 * SHD_ENOMEM.
 */
int shd_schema_add(struct shd_schema *s, const char *name, enum shd_type type,
		   const char *unit, const char *role);

/* Index of the column NAME, or -1. */
int shd_schema_find(const struct shd_schema *s, const char *name);

/* Sets (replaces) metadata KEY to VAL. Returns 0 or SHD_ENOMEM. */
int shd_schema_set_meta(struct shd_schema *s, const char *key, const char *val);

/* Metadata value of KEY, or NULL. Valid until the entry changes. */
const char *shd_schema_meta(const struct shd_schema *s, const char *key);

/*
 * Metadata KEY as a number in [LO, HI] into *V, left as it is when KEY is
 * absent: 0, or SHD_EFORMAT when it is not such a number.
 */
int shd_schema_meta_num(const struct shd_schema *s, const char *key,
			double lo, double hi, double *v);

/* Deep copy of SRC into DST (initialised here). 0 or SHD_ENOMEM. */
int shd_schema_copy(struct shd_schema *dst, const struct shd_schema *src);

/* 1 when A and B have the same column names and types in the same order. */
int shd_schema_same_columns(const struct shd_schema *a,
			    const struct shd_schema *b);

/* ----------------------------------------------------------------- frame */

/*
 * A frame is a batch of rows held column by column: col[j] points at nrows
 * values of column j: int64_t for SHD_TIME and SHD_I64, uint32_t dictionary
 * ids for SHD_KEY, double for SHD_F64, float for SHD_F32, uint8_t for SHD_U8.
 * Key ids refer to DICT, which the frame does not own.
 */
struct shd_frame {
	size_t ncols;
	size_t nrows;
	size_t cap;
	enum shd_type *types;	/* (ncols) */
	void **col;		/* (ncols) arrays of cap values */
	struct shd_dict *dict;	/* borrowed */
};

/* Typed access to column J of frame F. */
#define SHD_I64COL(f, j) ((int64_t *)(f)->col[(j)])
#define SHD_KEYCOL(f, j) ((uint32_t *)(f)->col[(j)])
#define SHD_F64COL(f, j) ((double *)(f)->col[(j)])
#define SHD_F32COL(f, j) ((float *)(f)->col[(j)])
#define SHD_U8COL(f, j) ((uint8_t *)(f)->col[(j)])

/* A frame with the columns of S, no rows, keys in DICT. 0 or SHD_ENOMEM. */
int shd_frame_init(struct shd_frame *f, const struct shd_schema *s,
		   struct shd_dict *dict);
void shd_frame_release(struct shd_frame *f);

/* Makes room for at least ROWS rows (nrows unchanged). 0 or SHD_ENOMEM. */
int shd_frame_reserve(struct shd_frame *f, size_t rows);

/* --------------------------------------------------------- stream writer */

struct shd_writer;

struct shd_writer_opts {
	int level;		/* zstd level; 0 means the default (3) */
	size_t block_rows;	/* rows per block; 0 means SHD_BLOCK_ROWS */
};

#define SHD_BLOCK_ROWS 65536
#define SHD_MAX_BLOCK_ROWS (1u << 20)	/* readers refuse larger blocks */

/*
 * Starts a stream on file descriptor FD (not closed by the writer) and writes
 * its header. O may be NULL. On success *W is set and 0 returned; on failure
 * *W is NULL and the return is SHD_EIO (errno set), SHD_EINVAL or SHD_ENOMEM.
 * The schema is copied.
 */
int shd_writer_open(struct shd_writer **w, int fd, const struct shd_schema *s,
		    const struct shd_writer_opts *o);

/*
 * Appends the rows of F (which must have the writer's columns), encoding and
 * writing each block as it fills. Key ids are looked up in F->dict.
 */
int shd_writer_write(struct shd_writer *w, const struct shd_frame *f);

/*
 * Writes the last partial block and the end marker. The stream is complete
 * only when this returns 0. The descriptor stays open.
 */
int shd_writer_close(struct shd_writer *w);

/* Frees the writer (without writing an end marker). NULL does nothing. */
void shd_writer_free(struct shd_writer *w);

/* Text of the last failure (never NULL). */
const char *shd_writer_errmsg(const struct shd_writer *w);

/* Rows written so far; bytes written so far. */
uint64_t shd_writer_rows(const struct shd_writer *w);
uint64_t shd_writer_bytes(const struct shd_writer *w);

/* --------------------------------------------------------- stream reader */

struct shd_reader;

/*
 * Reads a stream header from FD; NAME is used in messages ("-" or "<stdin>"
 * for standard input). On success *R is set and 0 returned. On failure *R
 * is still set (so that shd_reader_errmsg can be read) unless the return is
 * SHD_ENOMEM, and must be freed.
 */
int shd_reader_open(struct shd_reader **r, int fd, const char *name);

/*
 * Reader over an in-memory buffer (tests and fuzzing). BUF must outlive R.
 */
int shd_reader_open_mem(struct shd_reader **r, const void *buf, size_t len,
			const char *name);

/* The schema (of the first stream when several were concatenated). */
const struct shd_schema *shd_reader_schema(const struct shd_reader *r);

/* The dictionary behind the key ids of every frame read. */
struct shd_dict *shd_reader_dict(struct shd_reader *r);

/*
 * Reads the next block into F, replacing its rows. F must have been made by
 * shd_frame_init with the reader's schema and dictionary. Returns 0 with a
 * block, SHD_EOF after the last end marker, or SHD_EFORMAT / SHD_EIO /
 * SHD_ENOMEM (see shd_reader_errmsg). A stream that stops before its end
 * marker is SHD_EFORMAT, never SHD_EOF.
 */
int shd_reader_next(struct shd_reader *r, struct shd_frame *f);

/* Text of the last failure, naming the input and block (never NULL). */
const char *shd_reader_errmsg(const struct shd_reader *r);

/* Rows and blocks read so far. */
uint64_t shd_reader_rows(const struct shd_reader *r);
uint64_t shd_reader_blocks(const struct shd_reader *r);

void shd_reader_free(struct shd_reader *r);

/* ------------------------------------------------------------------ time */

/*
 * Parses a time: ISO 8601 ("2014-02-14T14:30:00Z", with or without "T",
 * "Z", an offset "+01:00"/"+0100", fractions of a second), "YYYY-MM-DD
 * HH:MM:SS" (UTC), "YYYY-MM-DD" (midnight UTC), Unix seconds or milliseconds
 * (integer or decimal; told apart by magnitude: values >= 1e11 are
 * milliseconds). Leading and trailing blanks are ignored. Returns 0 and sets
 * *MS (milliseconds since the epoch, UTC), or SHD_EINVAL.
 */
int shd_time_parse(const char *s, size_t len, int64_t *ms);

/*
 * Writes MS as ISO 8601 UTC ("2014-02-14T14:30:00Z", with ".123" when the
 * milliseconds are not zero) into BUF of size N (32 is always enough).
 * Returns the length written (without the NUL).
 */
size_t shd_time_format(int64_t ms, char *buf, size_t n);

/*
 * Parses a duration: a number with an optional unit ms, s, m (or min), h, d,
 * w ("300", "300s", "5m", "1h30m", "1.5h"; a bare number is seconds).
 * Returns 0 and sets *MS (> 0), or SHD_EINVAL.
 */
int shd_duration_parse(const char *s, int64_t *ms);

/* -------------------------------------------------------------- numbers */

/*
 * Parses a decimal number of LEN bytes at S (no surrounding blanks): an
 * optional sign, digits with an optional fraction and exponent, or "nan",
 * "inf", "infinity" (any case). The result is correctly rounded, as strtod.
 * Returns 0 and sets *V, or SHD_EINVAL.
 */
int shd_parse_double(const char *s, size_t len, double *v);

/*
 * Writes V in the shortest decimal form that reads back to the same double
 * ("0.1", "1e+300", "nan", "inf", "-inf", "-0"). BUF must hold 32 bytes.
 * Returns the length written.
 */
size_t shd_format_double(double v, char *buf);

/* ----------------------------------------------------------- accumulate */

/*
 * An accumulator gathers rows from any number of inputs, one series per
 * resource key, with the union of all metrics as columns, and writes them in
 * canonical order (by resource name, then time; stable). Parsers feed it.
 */
struct shd_acc;
struct shd_series;

struct shd_acc *shd_acc_new(void);
void shd_acc_free(struct shd_acc *a);

/*
 * The index of metric NAME (a column of the output), added when new. UNIT
 * (may be NULL) is recorded the first time one is given. Returns the index
 * (>= 0), or SHD_EINVAL (empty name, or "time"/"resource"), or SHD_ENOMEM.
 */
int shd_acc_metric(struct shd_acc *a, const char *name, const char *unit);

/*
 * A new source id. Rows of one source are never merged with each other;
 * rows of different sources at the same resource and time are merged into
 * one row when their metrics do not overlap (a Prometheus series per metric).
 */
unsigned shd_acc_source(struct shd_acc *a);

/* The series of resource KEY (LEN bytes), created when new; NULL on ENOMEM. */
struct shd_series *shd_acc_series(struct shd_acc *a, const char *key,
				  size_t len);

/*
 * Appends a row to series S at time T from SOURCE, all metrics NaN. Returns 0
 * or SHD_ENOMEM.
 */
int shd_series_row(struct shd_series *s, unsigned source, int64_t t);

/* Sets METRIC of the last row of S to V. Returns 0 or SHD_ENOMEM. */
int shd_series_set(struct shd_series *s, int metric, double v);

/*
 * Appends a row to series S at time T from SOURCE with N values at once:
 * metric METRIC[i] (an index from shd_acc_metric) is VALS[i]; NaN values
 * are missing, and of two values for one metric the later non-NaN one
 * wins. The same as shd_series_row and a shd_series_set per non-NaN value,
 * in one call. Returns 0, or SHD_ENOMEM with no row added.
 */
int shd_series_row_values(struct shd_series *s, unsigned source, int64_t t,
			  const int *metric, const double *vals, size_t n);

/* Removes the last row of S (a row found bad after it was started). */
void shd_series_drop_row(struct shd_series *s);

/* Aggregates for putting series on a regular grid. */
enum shd_agg { SHD_AGG_MEAN, SHD_AGG_MAX, SHD_AGG_MIN, SHD_AGG_LAST,
	       SHD_AGG_SUM };

/* The aggregate named NAME ("mean", ...), or -1. */
int shd_agg_parse(const char *name);

struct shd_acc_opts {
	int64_t interval;	/* grid step in ms; 0 keeps every row as is */
	enum shd_agg agg;	/* how rows in one slot are combined */
	unsigned shard, nshards;	/* keep shard SHARD (0-based) of
					 * NSHARDS only; NSHARDS 0: all */
};

/*
 * Fills S (initialised here) with the output schema: "time", "resource",
 * then every metric in the order first seen, with units.
 */
int shd_acc_schema(const struct shd_acc *a, struct shd_schema *s);

/*
 * Checks, before anything is written, that the series can be written with
 * O: a grid (O->interval) may not be far larger than the data (16 slots a
 * row, or 2^20). Returns 0, or SHD_EINVAL with the reason in
 * shd_acc_errmsg.
 */
int shd_acc_check(struct shd_acc *a, const struct shd_acc_opts *o);

/*
 * Writes every series to W (opened with the schema of shd_acc_schema), in
 * canonical order, regularized when O->interval > 0. Returns 0 or an error
 * of the writer.
 */
int shd_acc_write(struct shd_acc *a, struct shd_writer *w,
		  const struct shd_acc_opts *o);

/* Text of the last failure of shd_acc_write (never NULL). */
const char *shd_acc_errmsg(const struct shd_acc *a);

/* Total rows added, and number of resources. */
uint64_t shd_acc_rows(const struct shd_acc *a);
size_t shd_acc_nseries(const struct shd_acc *a);

/* ------------------------------------------------------------- parsing */

/*
 * Where parse problems go. With skip_bad == 0 the first bad row stops the
 * parse (SHD_EFORMAT) and msg holds "FILE:LINE: what is wrong". With
 * skip_bad set, bad rows are counted, the first SHD_DIAG_KEEP locations kept
 * in first[], and parsing goes on.
 */
#define SHD_DIAG_KEEP 5
struct shd_diag {
	int skip_bad;
	uint64_t nbad;
	char msg[512];
	char first[SHD_DIAG_KEEP][256];
};

/* A --metric NEW=OLD rename (or selection when only those are wanted). */
struct shd_rename {
	const char *to;
	const char *from;
};

/* What the user said about the shape of the input. */
struct shd_parse_opts {
	const char *time_col;	/* NULL: detect ("time", "timestamp", ...) */
	const char *key_col;	/* NULL: detect ("resource", "instance", ...)
				 * or use default_key */
	const char *default_key; /* the key when the input has none (file or
				  * member name without extension) */
	const struct shd_rename *renames; /* NULL or nrenames entries */
	size_t nrenames;	/* > 0: only these metrics are kept */
	int has_start;		/* no time column: row i at start + i*step */
	int64_t start, step;
	char delim;		/* 0: detect; else ',' ';' '\t' */
	const char *key_label;	/* Prometheus: label giving the key
				 * (default "instance") */
	const char *metric;	/* Prometheus/CloudWatch: metric name to use
				 * instead of __name__ / Label / Id */
};

/*
 * Parses delimited text with a header line (CSV, TSV, ";" and ";<tab>"
 * separators, quoted fields, CRLF, UTF-8 BOM, "#" comment lines) from BUF
 * (LEN bytes, need not be NUL-terminated) named NAME in messages, adding its
 * rows to A under one new source. Numeric columns other than time and key
 * become metrics (all of them unless O->renames selects). Empty cells and
 * "NaN"/"null"/"NA" are NaN. A line longer than SHD_LINE_MAX, or a header
 * of more than 65535 columns, is refused (SHD_EFORMAT): memory stays
 * bounded on hostile input. Returns 0, SHD_EFORMAT (details in D->msg) or
 * SHD_ENOMEM.
 */
#define SHD_LINE_MAX ((size_t)1 << 20)	/* longest line of delimited text */
int shd_parse_delimited(struct shd_acc *a, const char *buf, size_t len,
			const char *name, const struct shd_parse_opts *o,
			struct shd_diag *d);

/*
 * A member whose bytes come in pieces (standard input, a pipe, a member of
 * an archive as it is decompressed): HEAD holds the first HEADLEN of them;
 * MORE(PC, BUF, CAP, &GOT) reads the next ones into BUF (GOT 0: the end)
 * and returns 0, or SHD_EIO (reading failed), SHD_EFORMAT (the archive is
 * damaged) or SHD_ENOMEM, with the reason in PC->err. SRC is MORE's.
 */
#define SHD_PIECES_HEAD ((size_t)64 << 10)
struct shd_pieces {
	const char *head;
	size_t headlen;
	int (*more)(struct shd_pieces *pc, char *buf, size_t cap,
		    size_t *got);
	void *src;
	char err[256];
};

/*
 * shd_parse_delimited on a member read in pieces: memory holds the lines
 * being parsed (the first rows while the numeric columns are told apart,
 * then one line and a read-ahead), never the whole member. The rows and
 * messages are those of shd_parse_delimited on the whole member; a read
 * error is MORE's status, with the line where reading stopped and the
 * reason in D->msg.
 */
int shd_parse_delimited_pieces(struct shd_acc *a, struct shd_pieces *pc,
			       const char *name,
			       const struct shd_parse_opts *o,
			       struct shd_diag *d);

/*
 * The whole of PC (HEAD and the rest) in one malloc'd buffer *BUF (*LEN
 * bytes, one more holding a NUL), for readers that need it whole: 0;
 * SHD_EFORMAT past 4 GiB, SHD_EIO, SHD_ENOMEM, with the reason in PC->err.
 */
int shd_pieces_all(struct shd_pieces *pc, char **buf, size_t *len);

/*
 * Parses a Prometheus query_range (or query) JSON response, "resultType":
 * "matrix" (or "vector"). Each series is a source; its key is the label
 * O->key_label (default "instance"), its metric __name__ or O->metric (or a
 * rename). Values "NaN", "+Inf", "-Inf" are kept as such.
 */
int shd_parse_prometheus(struct shd_acc *a, const char *buf, size_t len,
			 const char *name, const struct shd_parse_opts *o,
			 struct shd_diag *d);

/*
 * Parses an AWS CloudWatch get-metric-data JSON response
 * ({"MetricDataResults": [{"Id", "Label", "Timestamps", "Values"}, ...]}).
 * The key is O->default_key unless the Label reads "KEY METRIC" ... see the
 * man page; each result is a source.
 */
int shd_parse_cloudwatch(struct shd_acc *a, const char *buf, size_t len,
			 const char *name, const struct shd_parse_opts *o,
			 struct shd_diag *d);

/* Input formats, for detection and --format. */
enum shd_format { SHD_FMT_AUTO = 0, SHD_FMT_DELIMITED, SHD_FMT_PROMETHEUS,
		  SHD_FMT_CLOUDWATCH };

/* The format named NAME ("csv", "tsv", "prometheus", "cloudwatch"), or -1. */
int shd_format_parse(const char *name);

/* Guesses the format of BUF from its first bytes and, for JSON, its keys. */
enum shd_format shd_format_detect(const char *buf, size_t len);

/* ----------------------------------------------------------------- input */

/*
 * Calls FN for every data member of the input at PATH ("-" for standard
 * input): a plain file is one member; a compressed file (gzip, xz, zstd,
 * bzip2) or an archive (tar, zip, ... read with libarchive) gives each of
 * its regular-file members, decompressed, in memory. NAME is what messages
 * should call the member ("a.tar.gz:dir/x.csv"), KEY its name without
 * directory and extension. Member names are never used as paths. FN returns
 * 0 to go on or a negative error to stop, which is then returned. Other
 * failures return SHD_EIO or SHD_EFORMAT with text in ERRBUF (N bytes).
 */
typedef int (*shd_member_fn)(void *ctx, const char *buf, size_t len,
			     const char *name, const char *key);
int shd_input_each(const char *path, shd_member_fn fn, void *ctx,
		   char *errbuf, size_t n);

/*
 * shd_input_each, except that a member that would be held in memory whole
 * (from standard input or a pipe, or decompressed from an archive) goes
 * to PFN in pieces when it is longer than SHD_PIECES_HEAD, with a head of
 * that many bytes: what it reads need not fit in memory. (A plain file
 * is mapped and goes to FN whole, as does a member that ends within its
 * head, and an archive on a pipe is read whole first, bounded.) A read
 * error after the head reaches PFN through MORE and is PFN's to report;
 * the rest of that input is then left unread.
 */
typedef int (*shd_pieces_fn)(void *ctx, struct shd_pieces *pc,
			     const char *name, const char *key);
int shd_input_pieces(const char *path, shd_member_fn fn, shd_pieces_fn pfn,
		     void *ctx, char *errbuf, size_t n);

/* ------------------------------------------------------------ utilities */

/*
 * The shard (0 .. N-1) of resource KEY (LEN bytes) among N: XXH3-64 of the
 * key modulo N, the same on every machine and in every program, so that
 * shards made anywhere are disjoint and their union is the fleet.
 */
unsigned shd_shard_of(const char *key, size_t len, unsigned n);

/* Parses "K/N" (1 <= K <= N <= 65536) into a 0-based *SHARD and *N: 0 or
 * SHD_EINVAL. */
int shd_shard_parse(const char *s, unsigned *shard, unsigned *n);

/*
 * Writes all LEN bytes of BUF to FD, retrying short writes and EINTR.
 * Returns 0 or SHD_EIO (errno set).
 */
int shd_write_all(int fd, const void *buf, size_t len);

/*
 * Reads up to LEN bytes into BUF, retrying short reads and EINTR until LEN
 * bytes or end of file. Returns the count read (< LEN only at end of file),
 * or -1 with errno set.
 */
long shd_read_full(int fd, void *buf, size_t len);

/*
 * Atomic files: shd_atomic_open creates a temporary file beside PATH and
 * returns its descriptor (>= 0) with the temporary name in TMP (of size
 * N); shd_atomic_commit fsyncs, closes and renames it over PATH;
 * shd_atomic_abort closes and removes it. Negative returns are SHD_EIO.
 * A PATH that is a device, FIFO or socket (/dev/null, /dev/stdout) is
 * opened and written in place instead (TMP is then ""), never replaced.
 */
int shd_atomic_open(const char *path, char *tmp, size_t n);

/*
 * A template for mkstemp(3) and mkdtemp(3) in BUF (N bytes): DIR (NULL or
 * "": $TMPDIR, else /tmp), '/', PREFIX, then the six characters they
 * replace. 0, or SHD_EINVAL when it does not fit.
 */
int shd_tmp_template(char *buf, size_t n, const char *dir,
		     const char *prefix);
int shd_atomic_commit(int fd, const char *tmp, const char *path);
void shd_atomic_abort(int fd, const char *tmp);

/*
 * The LEN bytes at BUF as the file PATH, atomically (the three calls
 * above): 0, or SHD_EIO with errno set and no temporary file left.
 */
int shd_atomic_write(const char *path, const void *buf, size_t len);

#endif
