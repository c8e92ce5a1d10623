/*
 * eval-forecast - score rolling forecasts against what really came: the
 * accuracy measurement of issue 3 (scripts/bench-forecast runs it).
 *
 * Every series is a resource's metric of a utilization stream UTIL, put on
 * its sampling grid as shd-train and shd-predict do (lib/panel.c): values
 * x[0..n-1]. With the fractions of the options (defaults 0.7 and 0.8):
 *
 *   n_scale = floor(0.7 n)    the MASE scale is the mean |x[i] - x[i-day]|
 *                             over i in [day, n_scale) where both are known
 *                             (day = 288 steps at 5 minutes);
 *   n_test  = floor(0.8 n)    the test part: every origin t >= n_test, and a
 *                             point (t, h) is scored when x[t+h] is known
 *                             (t + h < n) and some value is known at or
 *                             before t (so that a last value exists).
 *
 * Every method is scored on exactly these points, MASE = mean |x[t+h] -
 * pred| / scale. A method with no forecast at a point (shd-predict leaves
 * origins without a value in their window out; a peer may say NaN) gets the
 * last value there, and the number of such fallbacks is reported.
 *
 * Forecasts come from shd-predict --rolling streams (-f NAME=FILE: the
 * columns time, resource, origin, step and, per metric m, m.pred, m.lo,
 * m.hi, m.conf, m.cur, m) and from peers as CSV (-p NAME=FILE: a header
 * "series,origin,step,pred", then one row per forecast, series being
 * "resource/metric", origin the index t on the grid). The first -f stream
 * (or --interval NAME) also gives the interval coverage (lo <= x <= hi)
 * and the mean confidence over the scored points.
 *
 * Other modes:
 *   --cut F         copy UTIL (stdin) to stdout as a stream, keeping only the
 *                   rows of each resource before its own floor(F n)-th grid
 *                   slot; each resource's cut time goes to stderr. The model
 *                   trained on it never sees the test part.
 *   --dump-grid P   write P.csv (series,i,value: the grid, NaN empty) and
 *                   P-meta.csv (series,t0_ms,step_ms,n,n_scale,n_test,day,
 *                   scale) for the Python peers, so that they see the same
 *                   grid, the same test points and the same scale.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "panel.h"
#include "shd.h"

#define PROG "eval-forecast"
#define MAXMETH 16
#define MAXSTEP 8

struct method {
	const char *name, *path;
	int peer;		/* CSV of a peer, else a forecast stream */
	/* per series s, reported step k: (n) arrays by origin index */
	double **pred, **lo, **hi, **conf;
	size_t rows, mismatch, unknown;
};

struct series {
	char *name;		/* resource/metric */
	size_t panel_i, metric;
	const double *x;
	size_t n, n_scale, n_test;
	int64_t t0;
	double scale;
	double *last;		/* (n) latest known value at or before t */
};

static struct {
	double frac_scale, frac_test;
	size_t day;
	size_t steps[MAXSTEP];
	size_t nstep;
	int json;
	const char *table;	/* "all", "mean", "series" */
	const char *interval;	/* method whose intervals are scored */
	const char *chosen;	/* the method that has to meet the target */
	const char *vs[4];	/* comma lists: what it is compared with */
	size_t nvs;
	int lines;		/* "mase STEP SERIES METHOD VALUE" lines */
	const char *title;
} opt = { 0.7, 0.8, 0, { 0 }, 0, 0, "all", NULL, "chosen", { NULL }, 0, 0,
	  "" };

static void die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die(4, "out of memory");
	return p;
}

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: " PROG " [options] -f NAME=FORECAST.shd ... [-p NAME=PEER.csv ...] UTIL.shd\n"
"       " PROG " --cut F < UTIL.shd > CUT.shd\n"
"       " PROG " --dump-grid PREFIX UTIL.shd\n"
"MASE of rolling forecasts over the test part of every series (origins\n"
"from the --test fraction on), scaled by the one-day seasonal-naive MAE of\n"
"the first --scale fraction; interval coverage and mean confidence.\n"
"\n"
"  -f NAME=FILE          a forecast stream of shd-predict --rolling\n"
"  -p NAME=FILE          a peer's forecasts: CSV series,origin,step,pred\n"
"  -s, --step N          report step N (repeatable; default 1)\n"
"      --interval NAME   whose intervals to score (default the first -f)\n"
"      --chosen NAME     the method held to the target (default chosen)\n"
"      --vs A,B,...      compared with the best of these (default every\n"
"                        other method); up to 4 lists, a target line each\n"
"      --scale F         the MASE scale's fraction (default 0.7)\n"
"      --test F          the test part starts at F (default 0.8)\n"
"      --day N           steps in a day (default 86400 s / the step)\n"
"      --table WHICH     all, mean or series (default all)\n"
"      --title TEXT      a title for the tables\n"
"      --json            one JSON object instead of tables\n"
"      --lines           lines \"mase STEP SERIES METHOD VALUE\", \"mean STEP\n"
"                        METHOD VALUE\" (as the Python peers print them)\n"
"      --cut F           cut mode (see above)\n"
"      --dump-grid P     write P.csv and P-meta.csv for the Python peers\n"
"  -h, --help            this help\n");
	exit(status);
}

static double frac_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v > 0 && v < 1))
		die(2, "bad fraction '%s'", s);
	return v;
}

static size_t frac_index(double f, size_t n)
{
	return (size_t)floor(f * (double)n);
}

/* ------------------------------------------------------------ reading */

static struct shd_reader *open_stream(const char *path, int *fdp)
{
	struct shd_reader *r = NULL;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
	if (fd < 0)
		die(3, "cannot open '%s': %s", path, strerror(errno));
	int rc = shd_reader_open(&r, fd, fd == 0 ? "<stdin>" : path);
	if (rc)
		die(rc == SHD_ENOMEM ? 4 : 3, "%s",
		    r ? shd_reader_errmsg(r) : shd_strerror(rc));
	*fdp = fd;
	return r;
}

static void read_panel(struct shd_panel *p, struct shd_reader *r)
{
	shd_panel_init(p);
	int rc = shd_panel_read(p, r, NULL, 0, 0);
	if (rc)
		die(rc == SHD_ENOMEM ? 4 : 3, "%s", p->err);
}

/* ---------------------------------------------------------------- cut */

static int cut_mode(double f)
{
	/* read stdin whole: the panel and the copy each need a pass */
	size_t cap = 1 << 20, len = 0;
	char *buf = xcalloc(cap, 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die(4, "out of memory");
		}
		ssize_t k = read(0, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die(4, "read error: %s", strerror(errno));
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (isatty(1))
		die(2, "not writing a binary stream to a terminal");

	struct shd_reader *r = NULL;
	struct shd_panel p;
	int rc = shd_reader_open_mem(&r, buf, len, "<stdin>");
	if (rc)
		die(3, "%s", r ? shd_reader_errmsg(r) : shd_strerror(rc));
	read_panel(&p, r);
	shd_reader_free(r);

	rc = shd_reader_open_mem(&r, buf, len, "<stdin>");
	if (rc)
		die(3, "%s", shd_reader_errmsg(r));
	const struct shd_schema *sc = shd_reader_schema(r);
	struct shd_dict *dict = shd_reader_dict(r);
	int tcol = shd_schema_find(sc, "time"), kcol = -1;
	for (size_t j = 0; j < sc->ncols; j++)
		if (sc->cols[j].type == SHD_KEY)
			kcol = (int)j;
	if (tcol < 0 || kcol < 0)
		die(3, "the stream has no time or no key column");

	/* cut time of every resource, by dictionary id as ids appear */
	size_t ncut = 0, capcut = 64;
	int64_t *cut = xcalloc(capcut, sizeof(*cut));
	for (size_t i = 0; i < p.nseries; i++) {
		const struct shd_pseries *s = &p.series[i];
		size_t k = frac_index(f, s->n);
		char t[32];
		shd_time_format(s->t0 + (int64_t)k * p.step, t, sizeof(t));
		fprintf(stderr, "cut %s %s %zu of %zu\n", s->key, t, k, s->n);
	}

	struct shd_writer *w = NULL;
	rc = shd_writer_open(&w, 1, sc, NULL);
	if (rc)
		die(4, "cannot write: %s", shd_strerror(rc));
	struct shd_frame in, out;
	if (shd_frame_init(&in, sc, dict) || shd_frame_init(&out, sc, dict))
		die(4, "out of memory");
	while ((rc = shd_reader_next(r, &in)) == 0) {
		const int64_t *tt = SHD_I64COL(&in, tcol);
		const uint32_t *kk = SHD_KEYCOL(&in, kcol);
		if (shd_frame_reserve(&out, in.nrows))
			die(4, "out of memory");
		out.nrows = 0;
		for (size_t i = 0; i < in.nrows; i++) {
			uint32_t id = kk[i];
			while (id >= ncut) {	/* a new id: look its cut up */
				if (ncut == capcut) {
					capcut *= 2;
					cut = realloc(cut, capcut * sizeof(*cut));
					if (!cut)
						die(4, "out of memory");
				}
				const char *key = shd_dict_str(dict, (uint32_t)ncut,
							       NULL);
				long si = shd_panel_find(&p, key);
				if (si < 0)
					cut[ncut] = INT64_MIN;
				else {
					const struct shd_pseries *s =
						&p.series[si];
					cut[ncut] = s->t0 + (int64_t)frac_index(
						f, s->n) * p.step;
				}
				ncut++;
			}
			if (!(tt[i] < cut[id]))
				continue;
			for (size_t j = 0; j < sc->ncols; j++) {
				size_t z = shd_type_size(in.types[j]);
				memcpy((char *)out.col[j] + out.nrows * z,
				       (const char *)in.col[j] + i * z, z);
			}
			out.nrows++;
		}
		if (out.nrows && (rc = shd_writer_write(w, &out)))
			die(4, "%s", shd_writer_errmsg(w));
	}
	if (rc != SHD_EOF)
		die(3, "%s", shd_reader_errmsg(r));
	if (shd_writer_close(w))
		die(4, "%s", shd_writer_errmsg(w));
	fprintf(stderr, "cut: %llu rows kept\n",
		(unsigned long long)shd_writer_rows(w));
	shd_writer_free(w);
	shd_frame_release(&in);
	shd_frame_release(&out);
	shd_reader_free(r);
	shd_panel_release(&p);
	free(cut);
	free(buf);
	return 0;
}

/* ------------------------------------------------------------- series */

static double mase_scale(const double *x, size_t n_scale, size_t day)
{
	double sum = 0;
	size_t cnt = 0;

	for (size_t i = day; i < n_scale; i++)
		if (!isnan(x[i]) && !isnan(x[i - day])) {
			sum += fabs(x[i] - x[i - day]);
			cnt++;
		}
	return cnt ? sum / (double)cnt : NAN;
}

static struct series *make_series(const struct shd_panel *p, size_t *ns)
{
	size_t n = p->nseries * p->nmetric, k = 0;
	struct series *s = xcalloc(n, sizeof(*s));

	for (size_t i = 0; i < p->nseries; i++)
		for (size_t m = 0; m < p->nmetric; m++, k++) {
			const struct shd_pseries *ps = &p->series[i];
			struct series *e = &s[k];
			size_t len = strlen(ps->key) + strlen(p->metric[m]) + 2;
			e->name = xcalloc(len, 1);
			snprintf(e->name, len, "%s/%s", ps->key, p->metric[m]);
			e->panel_i = i;
			e->metric = m;
			e->x = ps->x + m * ps->n;
			e->n = ps->n;
			e->t0 = ps->t0;
			e->n_scale = frac_index(opt.frac_scale, e->n);
			e->n_test = frac_index(opt.frac_test, e->n);
			e->scale = mase_scale(e->x, e->n_scale, opt.day);
			e->last = xcalloc(e->n, sizeof(double));
			double last = NAN;
			for (size_t t = 0; t < e->n; t++) {
				if (!isnan(e->x[t]))
					last = e->x[t];
				e->last[t] = last;
			}
		}
	*ns = n;
	return s;
}

static int dump_grid(const char *prefix, const struct shd_panel *p,
		     const struct series *s, size_t ns)
{
	size_t len = strlen(prefix) + 16;
	char *path = xcalloc(len, 1), num[32];

	snprintf(path, len, "%s.csv", prefix);
	FILE *fp = fopen(path, "w");
	if (!fp)
		die(4, "cannot write '%s': %s", path, strerror(errno));
	fputs("series,i,value\n", fp);
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			if (isnan(s[k].x[i]))
				num[0] = 0;
			else
				shd_format_double(s[k].x[i], num);
			fprintf(fp, "%s,%zu,%s\n", s[k].name, i, num);
		}
	if (fclose(fp))
		die(4, "write error on '%s': %s", path, strerror(errno));
	snprintf(path, len, "%s-meta.csv", prefix);
	fp = fopen(path, "w");
	if (!fp)
		die(4, "cannot write '%s': %s", path, strerror(errno));
	fputs("series,t0_ms,step_ms,n,n_scale,n_test,day,scale\n", fp);
	for (size_t k = 0; k < ns; k++) {
		shd_format_double(s[k].scale, num);
		fprintf(fp, "%s,%lld,%lld,%zu,%zu,%zu,%zu,%s\n", s[k].name,
			(long long)s[k].t0, (long long)p->step, s[k].n,
			s[k].n_scale, s[k].n_test, opt.day, num);
	}
	if (fclose(fp))
		die(4, "write error on '%s': %s", path, strerror(errno));
	free(path);
	return 0;
}

/* ----------------------------------------------------------- forecasts */

static int step_index(int64_t h)
{
	for (size_t k = 0; k < opt.nstep; k++)
		if ((int64_t)opt.steps[k] == h)
			return (int)k;
	return -1;
}

static double **nan_arrays(const struct series *s, size_t ns)
{
	double **a = xcalloc(ns * opt.nstep, sizeof(*a));
	for (size_t k = 0; k < ns; k++)
		for (size_t j = 0; j < opt.nstep; j++) {
			double *v = xcalloc(s[k].n, sizeof(double));
			for (size_t i = 0; i < s[k].n; i++)
				v[i] = NAN;
			a[k * opt.nstep + j] = v;
		}
	return a;
}

/* The index of origin time T in series S, or -1 when off its grid. */
static long origin_index(const struct series *s, int64_t t, int64_t step)
{
	if (t < s->t0 || (t - s->t0) % step)
		return -1;
	int64_t i = (t - s->t0) / step;
	return i < (int64_t)s->n ? (long)i : -1;
}

static void read_forecast(struct method *me, const struct shd_panel *p,
			  struct series *s, size_t ns)
{
	int fd;
	struct shd_reader *r = open_stream(me->path, &fd);
	const struct shd_schema *sc = shd_reader_schema(r);
	const char *iv = shd_schema_meta(sc, "interval_ms");
	int ct = shd_schema_find(sc, "time"), cr = shd_schema_find(sc, "resource"),
	    co = shd_schema_find(sc, "origin"), cs = shd_schema_find(sc, "step");
	size_t nm = p->nmetric;
	int *cp = xcalloc(4 * nm, sizeof(int)), *ca = xcalloc(nm, sizeof(int));

	if (ct < 0 || cr < 0 || co < 0 || cs < 0)
		die(3, "%s: not a forecast stream (time, resource, origin, "
		    "step)", me->path);
	if (iv && strtoll(iv, NULL, 10) != p->step)
		die(3, "%s: step %s ms, the utilization stream's is %lld ms",
		    me->path, iv, (long long)p->step);
	for (size_t m = 0; m < nm; m++) {
		static const char *suf[4] = { "pred", "lo", "hi", "conf" };
		char name[256];
		for (int j = 0; j < 4; j++) {
			snprintf(name, sizeof(name), "%s.%s", p->metric[m],
				 suf[j]);
			cp[4 * m + j] = shd_schema_find(sc, name);
			if (cp[4 * m + j] < 0)
				die(3, "%s: no column %s", me->path, name);
		}
		ca[m] = shd_schema_find(sc, p->metric[m]);
	}
	me->pred = nan_arrays(s, ns);
	me->lo = nan_arrays(s, ns);
	me->hi = nan_arrays(s, ns);
	me->conf = nan_arrays(s, ns);

	struct shd_frame f;
	struct shd_dict *dict = shd_reader_dict(r);
	int rc;
	if (shd_frame_init(&f, sc, dict))
		die(4, "out of memory");
	while ((rc = shd_reader_next(r, &f)) == 0) {
		const int64_t *to = SHD_I64COL(&f, co), *ts = SHD_I64COL(&f, cs);
		const uint32_t *kr = SHD_KEYCOL(&f, cr);
		uint32_t lastid = UINT32_MAX;
		long pi = -1;
		for (size_t i = 0; i < f.nrows; i++) {
			int j = step_index(ts[i]);
			me->rows++;
			if (j < 0)
				continue;
			if (kr[i] != lastid) {
				lastid = kr[i];
				pi = shd_panel_find(p, shd_dict_str(dict, kr[i],
								    NULL));
			}
			if (pi < 0) {
				me->unknown++;
				continue;
			}
			for (size_t m = 0; m < nm; m++) {
				struct series *e = &s[(size_t)pi * nm + m];
				long t = origin_index(e, to[i], p->step);
				if (t < 0) {
					me->unknown++;
					continue;
				}
				size_t a = (size_t)(e - s) * opt.nstep + (size_t)j;
				me->pred[a][t] = SHD_F64COL(&f, cp[4 * m])[i];
				me->lo[a][t] = SHD_F64COL(&f, cp[4 * m + 1])[i];
				me->hi[a][t] = SHD_F64COL(&f, cp[4 * m + 2])[i];
				me->conf[a][t] = SHD_F64COL(&f, cp[4 * m + 3])[i];
				/* its actual value must be ours */
				size_t tgt = (size_t)t + (size_t)ts[i];
				if (ca[m] >= 0 && tgt < e->n) {
					double v = SHD_F64COL(&f, ca[m])[i],
					       x = e->x[tgt];
					if (isnan(v) != isnan(x) ||
					    (!isnan(x) && v != x))
						me->mismatch++;
				}
			}
		}
	}
	if (rc != SHD_EOF)
		die(3, "%s", shd_reader_errmsg(r));
	shd_frame_release(&f);
	shd_reader_free(r);
	if (fd > 0)
		close(fd);
	free(cp);
	free(ca);
}

static void read_peer(struct method *me, struct series *s, size_t ns)
{
	FILE *fp = fopen(me->path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;

	if (!fp)
		die(3, "cannot open '%s': %s", me->path, strerror(errno));
	me->pred = nan_arrays(s, ns);
	/* series names to indices: a linear probe from the previous one */
	size_t hint = 0;
	while (getline(&line, &cap, fp) > 0) {
		lineno++;
		if (lineno == 1) {
			if (strncmp(line, "series,origin,step,pred", 23))
				die(3, "%s: header is not "
				    "series,origin,step,pred", me->path);
			continue;
		}
		line[strcspn(line, "\r\n")] = 0;
		/* the last three fields are numbers; the series may hold ',' */
		char *c3 = strrchr(line, ','), *c2, *c1;
		if (!c3)
			goto bad;
		*c3 = 0;
		if (!(c2 = strrchr(line, ',')))
			goto bad;
		*c2 = 0;
		if (!(c1 = strrchr(line, ',')))
			goto bad;
		*c1 = 0;
		char *end;
		long t = strtol(c1 + 1, &end, 10);
		if (*end || t < 0)
			goto bad;
		long h = strtol(c2 + 1, &end, 10);
		if (*end)
			goto bad;
		double v = *(c3 + 1) ? strtod(c3 + 1, &end) : NAN;
		if (*(c3 + 1) && *end)
			goto bad;
		me->rows++;
		int j = step_index(h);
		if (j < 0)
			continue;
		size_t k, tries;
		for (k = hint, tries = 0; tries < ns; tries++, k = (k + 1) % ns)
			if (strcmp(s[k].name, line) == 0)
				break;
		if (tries == ns || (size_t)t >= s[k].n) {
			me->unknown++;
			continue;
		}
		hint = k;
		me->pred[k * opt.nstep + (size_t)j][t] = v;
		continue;
bad:
		die(3, "%s:%zu: not series,origin,step,pred", me->path, lineno);
	}
	if (ferror(fp))
		die(4, "read error on '%s'", me->path);
	free(line);
	fclose(fp);
}

/* ------------------------------------------------------------- scoring */

struct cell {
	double mase;		/* NaN: not scored */
	size_t npts, nfall;
	double cov, conf;	/* interval method only */
};

static void score(struct cell *c, const struct method *me,
		  const struct series *e, size_t a, size_t h, int with_iv)
{
	double sum = 0, csum = 0;
	size_t cnt = 0, fall = 0, in = 0, ccnt = 0;

	for (size_t t = e->n_test; t + h < e->n; t++) {
		double x = e->x[t + h], last = e->last[t];
		if (isnan(x) || isnan(last))
			continue;
		double f = me->pred[a][t];
		if (isnan(f)) {
			f = last;
			fall++;
		}
		sum += fabs(x - f);
		cnt++;
		if (with_iv) {
			/* a forecast not made is an interval not given */
			in += me->lo[a][t] <= x && x <= me->hi[a][t];
			if (!isnan(me->conf[a][t])) {
				csum += me->conf[a][t];
				ccnt++;
			}
		}
	}
	c->npts = cnt;
	c->nfall = fall;
	c->mase = cnt && e->scale > 0 ? sum / (double)cnt / e->scale : NAN;
	c->cov = with_iv && cnt ? (double)in / (double)cnt : NAN;
	c->conf = ccnt ? csum / (double)ccnt : NAN;
}

/*
 * Which other forecast stream gives exactly the forecasts of method CH on
 * the test part of series E (at reported step A): the method a series
 * chose, seen from outside. NULL when none does.
 */
static const char *pick_of(const struct method *me, size_t nme, int ch,
			   const struct series *e, size_t a)
{
	if (ch < 0)
		return NULL;
	for (size_t m = 0; m < nme; m++) {
		size_t same = 0, diff = 0;
		if ((int)m == ch || me[m].peer)
			continue;
		for (size_t t = e->n_test; t < e->n && !diff; t++) {
			double u = me[ch].pred[a][t], v = me[m].pred[a][t];
			if (isnan(u) && isnan(v))
				continue;
			if (u == v)
				same++;
			else
				diff++;
		}
		if (same && !diff)
			return me[m].name;
	}
	return NULL;
}

static double mean_of(const double *v, size_t n, size_t *cnt)
{
	double sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i])) {
			sum += v[i];
			k++;
		}
	if (cnt)
		*cnt = k;
	return k ? sum / (double)k : NAN;
}

static int in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *q = strchr(p, ',');
		size_t l = q ? (size_t)(q - p) : strlen(p);
		if (l == len && strncmp(p, name, l) == 0)
			return 1;
		p = q ? q + 1 : NULL;
	}
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_num(double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", stdout);
	else
		printf("%.6g", v);
}

static void report(struct method *me, size_t nme, const struct series *s,
		   size_t ns)
{
	int iv = 0;
	if (opt.interval) {
		iv = -1;
		for (size_t m = 0; m < nme; m++)
			if (strcmp(me[m].name, opt.interval) == 0)
				iv = (int)m;
		if (iv < 0 || me[iv].peer)
			die(2, "--interval %s: no such forecast stream",
			    opt.interval);
	} else if (me[0].peer)
		iv = -1;
	int ch = -1;
	for (size_t m = 0; m < nme; m++)
		if (strcmp(me[m].name, opt.chosen) == 0)
			ch = (int)m;

	size_t w = 12;
	for (size_t k = 0; k < ns; k++)
		if (strlen(s[k].name) > w)
			w = strlen(s[k].name);
	struct cell *c = xcalloc(opt.nstep * nme * ns, sizeof(*c));
	double *col = xcalloc(ns, sizeof(double));
	size_t scored = 0;
	for (size_t k = 0; k < ns; k++)
		scored += s[k].scale > 0;

	if (opt.json) {
		printf("{\"title\":");
		json_str(opt.title);
		printf(",\"series\":%zu,\"scored\":%zu,\"steps\":[", ns, scored);
	}
	for (size_t j = 0; j < opt.nstep; j++) {
		size_t h = opt.steps[j];
		struct cell *cj = c + j * nme * ns;
		for (size_t m = 0; m < nme; m++)
			for (size_t k = 0; k < ns; k++)
				score(&cj[m * ns + k], &me[m], &s[k],
				      k * opt.nstep + j, h, (int)m == iv);
		double mean[MAXMETH], cov, conf;
		size_t fall[MAXMETH];
		for (size_t m = 0; m < nme; m++) {
			fall[m] = 0;
			for (size_t k = 0; k < ns; k++) {
				col[k] = cj[m * ns + k].mase;
				fall[m] += cj[m * ns + k].nfall;
			}
			mean[m] = mean_of(col, ns, NULL);
		}
		if (iv >= 0) {
			for (size_t k = 0; k < ns; k++)
				col[k] = s[k].scale > 0 ? cj[iv * ns + k].cov : NAN;
			cov = mean_of(col, ns, NULL);
			for (size_t k = 0; k < ns; k++)
				col[k] = s[k].scale > 0 ? cj[iv * ns + k].conf : NAN;
			conf = mean_of(col, ns, NULL);
		} else
			cov = conf = NAN;
		/* the target: the chosen method's mean >= 10% below the best
		 * of each --vs list (the first one goes into the JSON) */
		int bests[4];
		double ratios[4];
		size_t nvs = opt.nvs ? opt.nvs : 1;
		for (size_t v = 0; v < nvs; v++) {
			int b = -1;
			for (size_t m = 0; m < nme; m++)
				if ((int)m != ch && (!opt.vs[v] ||
				     in_list(opt.vs[v], me[m].name)) &&
				    !isnan(mean[m]) &&
				    (b < 0 || mean[m] < mean[b]))
					b = (int)m;
			bests[v] = b;
			ratios[v] = ch >= 0 && b >= 0 ? mean[ch] / mean[b] : NAN;
		}
		int best = bests[0];
		double ratio = ratios[0];
		if (opt.lines) {
			for (size_t k = 0; k < ns; k++)
				for (size_t m = 0; m < nme; m++)
					printf("mase %zu %s %s %.17g\n", h,
					       s[k].name, me[m].name,
					       cj[m * ns + k].mase);
			for (size_t m = 0; m < nme; m++)
				printf("mean %zu %s %.17g\n", h, me[m].name,
				       mean[m]);
			printf("coverage %zu %.17g\nconf %zu %.17g\n", h, cov,
			       h, conf);
			continue;
		}
		size_t npts = 0;
		for (size_t k = 0; k < ns; k++)
			npts += cj[k].npts;

		if (opt.json) {
			printf("%s{\"step\":%zu,\"points\":%zu,\"mean\":{",
			       j ? "," : "", h, npts);
			for (size_t m = 0; m < nme; m++) {
				printf(m ? "," : "");
				json_str(me[m].name);
				putchar(':');
				json_num(mean[m]);
			}
			printf("},\"fallbacks\":{");
			for (size_t m = 0; m < nme; m++) {
				printf(m ? "," : "");
				json_str(me[m].name);
				printf(":%zu", fall[m]);
			}
			printf("},\"coverage\":");
			json_num(cov);
			printf(",\"conf\":");
			json_num(conf);
			printf(",\"best_other\":");
			if (best >= 0)
				json_str(me[best].name);
			else
				fputs("null", stdout);
			printf(",\"ratio\":");
			json_num(ratio);
			printf(",\"target_met\":%s,\"per_series\":[",
			       ratio <= 0.9 ? "true" : "false");
			for (size_t k = 0; k < ns; k++) {
				printf("%s{\"series\":", k ? "," : "");
				json_str(s[k].name);
				printf(",\"scale\":");
				json_num(s[k].scale);
				printf(",\"points\":%zu", cj[k].npts);
				for (size_t m = 0; m < nme; m++) {
					putchar(',');
					json_str(me[m].name);
					putchar(':');
					json_num(cj[m * ns + k].mase);
				}
				if (iv >= 0) {
					printf(",\"coverage\":");
					json_num(cj[iv * ns + k].cov);
					printf(",\"conf\":");
					json_num(cj[iv * ns + k].conf);
				}
				putchar('}');
			}
			printf("]}");
			continue;
		}

		const char *ivn = iv >= 0 ? me[iv].name : "-";
		if (!strcmp(opt.table, "all") || !strcmp(opt.table, "mean")) {
			printf("%s step %zu: mean test MASE over %zu series "
			       "(%zu points)\n", opt.title, h, scored, npts);
			for (size_t m = 0; m < nme; m++)
				printf(" %11s", me[m].name);
			printf(" | %6s %6s\n", "cov", "conf");
			for (size_t m = 0; m < nme; m++)
				printf(" %11.3f", mean[m]);
			printf(" | %6.3f %6.3f\n", cov, conf);
			for (size_t v = 0; v < nvs; v++)
				if (ch >= 0 && bests[v] >= 0)
					printf("  target: %s <= 0.9 x the best "
					       "of {%s} (%s %.3f): ratio %.3f "
					       "-> %s\n", opt.chosen,
					       opt.vs[v] ? opt.vs[v] : "all others",
					       me[bests[v]].name,
					       mean[bests[v]], ratios[v],
					       ratios[v] <= 0.9 ? "MET" :
					       "NOT MET");
			if (iv >= 0)
				printf("  intervals of %s: coverage %.3f "
				       "(nominal 0.9), mean confidence %.3f\n",
				       ivn, cov, conf);
			for (size_t m = 0; m < nme; m++) {
				if (fall[m])
					printf("  %s: %zu points without a "
					       "forecast took the last value\n",
					       me[m].name, fall[m]);
				if (me[m].mismatch)
					printf("  %s: WARNING: %zu actual "
					       "values differ from the "
					       "utilization stream's\n",
					       me[m].name, me[m].mismatch);
				if (me[m].unknown)
					printf("  %s: %zu rows of unknown "
					       "series or origins ignored\n",
					       me[m].name, me[m].unknown);
			}
		}
		if (!strcmp(opt.table, "all") || !strcmp(opt.table, "series")) {
			printf("%s step %zu: test MASE per series; cov and "
			       "conf of %s\n", opt.title, h, ivn);
			if (ch >= 0)
				printf("%-*s %6s %-11s", (int)w, "series",
				       "points", "pick");
			else
				printf("%-*s %6s", (int)w, "series", "points");
			for (size_t m = 0; m < nme; m++)
				printf(" %11s", me[m].name);
			printf(" | %6s %6s\n", "cov", "conf");
			for (size_t k = 0; k < ns; k++) {
				printf("%-*s %6zu", (int)w, s[k].name,
				       cj[k].npts);
				if (ch >= 0) {
					const char *pk = pick_of(me, nme, ch,
						&s[k], k * opt.nstep + j);
					printf(" %-11s", pk ? pk : "?");
				}
				if (!(s[k].scale > 0)) {
					printf("  not scored: MASE scale %g\n",
					       s[k].scale);
					continue;
				}
				for (size_t m = 0; m < nme; m++)
					printf(" %11.3f", cj[m * ns + k].mase);
				if (iv >= 0)
					printf(" | %6.3f %6.3f\n",
					       cj[iv * ns + k].cov,
					       cj[iv * ns + k].conf);
				else
					putchar('\n');
			}
			printf("%-*s %6s", (int)w, "mean", "");
			if (ch >= 0)
				printf(" %-11s", "");
			for (size_t m = 0; m < nme; m++)
				printf(" %11.3f", mean[m]);
			printf(" | %6.3f %6.3f\n", cov, conf);
		}
	}
	if (opt.json)
		printf("]}\n");
	free(c);
	free(col);
}

/* ---------------------------------------------------------------- main */

enum { O_INTERVAL = 256, O_CHOSEN, O_VS, O_SCALE, O_TEST, O_DAY, O_TABLE,
       O_TITLE, O_JSON, O_CUT, O_DUMP, O_LINES };

static const struct option longopts[] = {
	{ "step", required_argument, NULL, 's' },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "chosen", required_argument, NULL, O_CHOSEN },
	{ "vs", required_argument, NULL, O_VS },
	{ "scale", required_argument, NULL, O_SCALE },
	{ "test", required_argument, NULL, O_TEST },
	{ "day", required_argument, NULL, O_DAY },
	{ "table", required_argument, NULL, O_TABLE },
	{ "title", required_argument, NULL, O_TITLE },
	{ "json", no_argument, NULL, O_JSON },
	{ "lines", no_argument, NULL, O_LINES },
	{ "cut", required_argument, NULL, O_CUT },
	{ "dump-grid", required_argument, NULL, O_DUMP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct method me[MAXMETH];
	size_t nme = 0;
	const char *dump = NULL;
	double cut = 0;
	int c;

	memset(me, 0, sizeof(me));
	while ((c = getopt_long(argc, argv, "f:p:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 'p': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1])
				die(2, "-%c wants NAME=FILE", c);
			if (nme == MAXMETH)
				die(2, "at most %d methods", MAXMETH);
			*eq = 0;
			me[nme].name = optarg;
			me[nme].path = eq + 1;
			me[nme].peer = c == 'p';
			nme++;
			break;
		}
		case 's': {
			char *end;
			long h = strtol(optarg, &end, 10);
			if (*end || h < 1 || opt.nstep == MAXSTEP)
				die(2, "bad --step '%s'", optarg);
			opt.steps[opt.nstep++] = (size_t)h;
			break;
		}
		case O_INTERVAL: opt.interval = optarg; break;
		case O_CHOSEN: opt.chosen = optarg; break;
		case O_VS:
			if (opt.nvs == 4)
				die(2, "at most 4 --vs");
			opt.vs[opt.nvs++] = optarg;
			break;
		case O_LINES: opt.lines = 1; break;
		case O_SCALE: opt.frac_scale = frac_arg(optarg); break;
		case O_TEST: opt.frac_test = frac_arg(optarg); break;
		case O_DAY: {
			char *end;
			long d = strtol(optarg, &end, 10);
			if (*end || d < 1)
				die(2, "bad --day '%s'", optarg);
			opt.day = (size_t)d;
			break;
		}
		case O_TABLE:
			if (strcmp(optarg, "all") && strcmp(optarg, "mean") &&
			    strcmp(optarg, "series"))
				die(2, "--table: all, mean or series");
			opt.table = optarg;
			break;
		case O_TITLE: opt.title = optarg; break;
		case O_JSON: opt.json = 1; break;
		case O_CUT: cut = frac_arg(optarg); break;
		case O_DUMP: dump = optarg; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (cut > 0) {
		if (optind != argc)
			usage(stderr, 2);
		return cut_mode(cut);
	}
	if (optind != argc - 1)
		usage(stderr, 2);
	if (!opt.nstep)
		opt.steps[opt.nstep++] = 1;
	if (!dump && !nme)
		die(2, "no forecasts (-f or -p) to score");

	int fd;
	struct shd_panel p;
	struct shd_reader *r = open_stream(argv[optind], &fd);
	read_panel(&p, r);
	shd_reader_free(r);
	if (fd > 0)
		close(fd);
	if (!opt.day) {
		opt.day = (size_t)llround(86400000.0 / (double)p.step);
		if (opt.day < 1)
			opt.day = 1;
	}
	size_t ns;
	struct series *s = make_series(&p, &ns);
	if (dump)
		return dump_grid(dump, &p, s, ns);

	for (size_t m = 0; m < nme; m++) {
		if (me[m].peer)
			read_peer(&me[m], s, ns);
		else
			read_forecast(&me[m], &p, s, ns);
	}
	report(me, nme, s, ns);
	if (fflush(stdout) || ferror(stdout))
		die(4, "write error: %s", strerror(errno));
	for (size_t k = 0; k < ns; k++) {
		free(s[k].name);
		free(s[k].last);
	}
	free(s);
	shd_panel_release(&p);
	return 0;
}
