/*
 * nab.c - the Numenta Anomaly Benchmark's scoring: its label file, the raw
 * score of one file and the normalized score of a set (rules in nab.h).
 *
 * A file is scored in one pass over its rows, window by window: the rows
 * before a window (false positives, weighed by the window before them),
 * then the window itself (its earliest detection, or a miss). A window's
 * rows are found by binary search over the times, so a window that falls
 * between two rows, or outside the data, holds none and is skipped.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nab.h"

/* Probation: the first 15% of a file's rows, at most 750 (0.15 * 5000). */
#define PROBATION_PERCENT 15
#define PROBATION_MAX 750

const struct shd_nab_profile shd_nab_profiles[3] = {
	{ "standard", 1.0, 1.0, 0.11 },
	{ "reward_low_FP_rate", 1.0, 1.0, 0.22 },
	{ "reward_low_FN_rate", 1.0, 2.0, 0.11 },
};

/* ------------------------------------------------------------- scoring */

/*
 * NAB's scaled sigmoid, 2 / (1 + e^(5y)) - 1: 0.987 at y = -1, 0 at y = 0,
 * -0.987 at y = 1, and exactly -1 past y = 3.
 */
static double scaled_sigmoid(double y)
{
	if (y > 3.0)
		return -1.0;
	return 2.0 / (1.0 + exp(5.0 * y)) - 1.0;
}

/*
 * min(floor(0.15 n), 750). The integer form agrees with NAB's floating
 * point floor(0.15 * n) for every n (checked up to 200000; beyond 5000 it
 * is 750 anyway).
 */
size_t shd_nab_probation(size_t n)
{
	if (n >= PROBATION_MAX * 100 / PROBATION_PERCENT)
		return PROBATION_MAX;
	return n * PROBATION_PERCENT / 100;
}

/* The first index in [lo, n) of T (ascending) with T[i] > X, or n. */
static size_t first_after(const int64_t *t, size_t lo, size_t n, int64_t x)
{
	size_t hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The first index in [lo, n) of T (ascending) with T[i] >= X, or n. */
static size_t first_from(const int64_t *t, size_t lo, size_t n, int64_t x)
{
	return x == INT64_MIN ? lo : first_after(t, lo, n, x - 1);
}

/*
 * The false positives among rows [from, to), which lie after the window
 * whose last row is LAST and which holds WIDTH rows (WIDTH 0: no window
 * before them). Adds their number to *NFP.
 */
static double false_positives(const uint8_t *det, size_t from, size_t to,
			      size_t last, size_t width,
			      const struct shd_nab_profile *p, size_t *nfp)
{
	double s = 0;

	for (size_t i = from; i < to; i++) {
		double u = -1.0;

		if (!det[i])
			continue;
		/*
		 * (i - last) / (width - 1) widths past the window. A window
		 * of one row would divide by zero (NAB itself would fail):
		 * take the limit, a full-cost false positive.
		 */
		if (width > 1)
			u = scaled_sigmoid((double)(i - last) /
					   (double)(width - 1));
		s += p->fp * u;
		(*nfp)++;
	}
	return s;
}

double shd_nab_score(const int64_t *t, const uint8_t *det, size_t n,
		     const struct shd_nab_window *w, size_t nw,
		     const struct shd_nab_profile *p,
		     struct shd_nab_counts *c)
{
	struct shd_nab_counts k = { 0, 0, 0, 0 };
	size_t prob = shd_nab_probation(n);
	size_t pos = 0;			/* rows before it are scored */
	size_t last = 0, width = 0;	/* the window before pos; 0: none */
	double s = 0;

	for (size_t j = 0; j < nw; j++) {
		size_t lo, hi, i;

		assert(w[j].from <= w[j].to);
		assert(j == 0 || w[j - 1].to < w[j].from);
		lo = first_from(t, pos, n, w[j].from);
		hi = first_after(t, lo, n, w[j].to);
		if (lo == hi)
			continue;	/* no row in it: not scored at all */

		s += false_positives(det, pos > prob ? pos : prob, lo, last,
				     width, p, &k.fp);

		/* The earliest detection after probation, if any. */
		i = lo > prob ? lo : prob;
		while (i < hi && !det[i])
			i++;
		if (i < hi) {
			/* y = -(last row - i + 1) / width, in [-1, 0) */
			double y = -(double)(hi - i) / (double)(hi - lo);

			s += p->tp * scaled_sigmoid(y) / scaled_sigmoid(-1.0);
			k.tp++;
		} else {
			s -= p->fn;
			k.fn++;
		}
		k.windows++;
		last = hi - 1;
		width = hi - lo;
		pos = hi;
	}
	s += false_positives(det, pos > prob ? pos : prob, n, last, width, p,
			     &k.fp);
	if (c)
		*c = k;
	return s;
}

double shd_nab_normalize(double s, size_t nwindows,
			 const struct shd_nab_profile *p)
{
	double perfect, null;

	if (nwindows == 0)
		return NAN;
	perfect = p->tp * (double)nwindows;
	null = -p->fn * (double)nwindows;
	return 100.0 * (s - null) / (perfect - null);
}

/* -------------------------------------------------------------- labels */

static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
	va_list ap;

	if (n == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return code;
}

void shd_nab_labels_init(struct shd_nab_labels *l)
{
	l->nfile = 0;
	l->key = NULL;
	l->nwin = NULL;
	l->win = NULL;
}

void shd_nab_labels_release(struct shd_nab_labels *l)
{
	for (size_t i = 0; i < l->nfile; i++) {
		free(l->key[i]);
		free(l->win[i]);
	}
	free(l->key);
	free(l->nwin);
	free(l->win);
	shd_nab_labels_init(l);
}

const struct shd_nab_window *shd_nab_labels_find(
	const struct shd_nab_labels *l, const char *key, size_t *nwin)
{
	for (size_t i = 0; i < l->nfile; i++) {
		/* nfile keys, all set, once nfile > 0 */
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
		if (strcmp(l->key[i], key) == 0) {
			*nwin = l->nwin[i];
			return l->win[i];
		}
	}
	*nwin = 0;
	return NULL;
}

/*
 * The key of a label's path NAME: its last component without its extension
 * (the last '.' and what follows, when something is left before it).
 * Returns a malloc'd string, or NULL when out of memory.
 */
static char *make_key(const char *name)
{
	const char *base = strrchr(name, '/'), *dot;
	size_t len;
	char *key;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	len = dot && dot > base ? (size_t)(dot - base) : strlen(base);
	key = malloc(len + 1);
	if (!key)
		return NULL;
	memcpy(key, base, len);
	key[len] = '\0';
	return key;
}

/* One time of window J (0-based) of NAME: V, the start when END is 0. */
static int load_time(int64_t *ms, const json_t *v, const char *path,
		     const char *name, size_t j, int end, char *err, size_t n)
{
	const char *what = end ? "end" : "start";

	if (!json_is_string(v))
		return fail(err, n, SHD_EFORMAT,
			    "%s: '%s': window %zu: %s is not a string", path,
			    name, j + 1, what);
	if (shd_time_parse(json_string_value(v), json_string_length(v),
			   ms) != 0)
		return fail(err, n, SHD_EFORMAT,
			    "%s: '%s': window %zu: bad %s time '%.64s'", path,
			    name, j + 1, what, json_string_value(v));
	return 0;
}

/* SHD_EFORMAT: window J (0-based) of NAME, in the labels at PATH, is WHAT. */
static int bad_window(char *err, size_t n, const char *path,
		      const char *name, size_t j, const char *what)
{
	return fail(err, n, SHD_EFORMAT, "%s: '%s': window %zu %s", path, name,
		    j + 1, what);
}

/* Adds the file NAME with windows V (from the labels at PATH) to L. */
static int load_file(struct shd_nab_labels *l, const char *path,
		     const char *name, const json_t *v, char *err, size_t n)
{
	size_t f = l->nfile, nw, dup;
	struct shd_nab_window *w;
	char *key;
	int r;

	if (!json_is_array(v))
		return fail(err, n, SHD_EFORMAT,
			    "%s: '%s': expected a list of windows", path, name);
	key = make_key(name);
	if (!key)
		return fail(err, n, SHD_ENOMEM, "%s: out of memory", path);
	if (!key[0]) {
		free(key);
		return fail(err, n, SHD_EFORMAT, "%s: '%s': no file name",
			    path, name);
	}
	if (shd_nab_labels_find(l, key, &dup)) {
		r = fail(err, n, SHD_EFORMAT,
			 "%s: '%s': a second file with key '%s'", path, name,
			 key);
		free(key);
		return r;
	}
	nw = json_array_size(v);
	/* Never NULL, even without windows: NULL from _find means unknown. */
	w = malloc((nw ? nw : 1) * sizeof(*w));
	if (!w) {
		free(key);
		return fail(err, n, SHD_ENOMEM, "%s: out of memory", path);
	}
	l->key[f] = key;
	l->win[f] = w;
	l->nwin[f] = 0;
	l->nfile++;

	for (size_t j = 0; j < nw; j++) {
		const json_t *pair = json_array_get(v, j);

		if (!json_is_array(pair) || json_array_size(pair) != 2)
			return bad_window(err, n, path, name, j,
					  "is not [start, end]");
		r = load_time(&w[j].from, json_array_get(pair, 0), path, name,
			      j, 0, err, n);
		if (r == 0)
			r = load_time(&w[j].to, json_array_get(pair, 1), path,
				      name, j, 1, err, n);
		if (r)
			return r;
		/* both set: load_time fails with a code, never 0 */
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		if (w[j].to < w[j].from)
			return bad_window(err, n, path, name, j,
					  "ends before it starts");
		if (j > 0 && w[j].from <= w[j - 1].to)
			return fail(err, n, SHD_EFORMAT,
				    "%s: '%s': window %zu starts before "
				    "window %zu ends", path, name, j + 1, j);
		l->nwin[f]++;
	}
	return 0;
}

int shd_nab_labels_load(struct shd_nab_labels *l, const char *path,
			char *err, size_t n)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *name;
	size_t nf;
	FILE *fp;
	int status = 0, e;

	if (n)
		err[0] = '\0';
	fp = fopen(path, "r");
	if (!fp)
		return fail(err, n, SHD_EIO, "cannot open '%s': %s", path,
			    strerror(errno));
	/* json_loadf rather than json_load_file: a read error is SHD_EIO. */
	root = json_loadf(fp, 0, &jerr);
	if (!root && ferror(fp)) {
		e = errno;
		fclose(fp);
		errno = e;
		return fail(err, n, SHD_EIO, "cannot read '%s': %s", path,
			    strerror(e));
	}
	fclose(fp);
	if (!root) {
#if JANSSON_VERSION_HEX >= 0x020b00
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return fail(err, n, SHD_ENOMEM, "%s: out of memory",
				    path);
#endif
		return fail(err, n, SHD_EFORMAT, "%s:%d:%d: %s", path,
			    jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		status = fail(err, n, SHD_EFORMAT,
			      "%s: expected an object of file paths", path);
		goto out;
	}

	nf = json_object_size(root);
	l->key = calloc(nf ? nf : 1, sizeof(*l->key));
	l->nwin = calloc(nf ? nf : 1, sizeof(*l->nwin));
	/* an array of pointers: sizeof(*l->win) is meant */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	l->win = calloc(nf ? nf : 1, sizeof(*l->win));
	if (!l->key || !l->nwin || !l->win) {
		status = fail(err, n, SHD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	json_object_foreach(root, name, v) {
		status = load_file(l, path, name, v, err, n);
		if (status)
			break;
	}
out:
	json_decref(root);
	if (status)
		shd_nab_labels_release(l);
	return status;
}
