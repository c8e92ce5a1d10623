/*
 * gen-fleet - writes a synthetic fleet of resource-utilization traces as CSV.
 *
 * Output: a header "timestamp,resource,cpu,mem,disk_io,net_in,net_out" (the
 * metric columns as chosen by --metrics), then one row per resource and time
 * step, grouped by resource, ascending time within a resource; timestamps
 * are "YYYY-MM-DD HH:MM:SS" UTC.  Units: cpu percent of the machine [0,100],
 * mem MiB (bounded by the machine's capacity, which is not written), disk_io,
 * net_in, net_out and net (= net_in + net_out) KiB/s.
 *
 * Each resource follows one profile (web, app, db, batch, cache, idle,
 * worker) and may carry modifiers (a level shift at a random time, a
 * leak-like memory trend with restarts, heavy-tailed spikes, a slow growth).
 * The shapes were modelled on the traces in ../shared/data (Bitbrains VMs,
 * NAB CloudWatch, cluster aggregates): daily and weekly cycles with quiet
 * weekends, nightly jobs, noise with heavy tails, net_out following net_in
 * and disk I/O partly following CPU.
 *
 * The generator is deterministic: the same options and seed give the same
 * bytes.  Every resource has its own xorshift64* stream seeded from (seed,
 * index), so resource i is the same whatever -n is.  Numbers are formatted
 * by hand into a large buffer; printf would be the bottleneck at 80M rows.
 *
 * Benchmark input (about 210 MB, 1000 resources x 2 weeks at 5 min, 4.03M
 * rows, columns timestamp,resource,cpu,mem,disk_io,net):
 *
 *   build/tools/gen-fleet --big > fleet-big.csv
 *   (the same as: gen-fleet -n 1000 -w 2 -s 42 --metrics cpu,mem,disk_io,net)
 *
 * The sample data/fleet.csv.gz is made by scripts/make-sample-data.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "gen-fleet"
#define VERSION "1.0"

#define WEEK_S 604800
#define DAY_S 86400
#define TWO_PI 6.283185307179586

/* ---------------------------------------------------------------- rng */

/* xorshift64* (Vigna), seeded through splitmix64; plus a cached normal. */
struct rng {
	uint64_t s;
	double spare;
	int has_spare;
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed * 0x2545f4914f6cdd1dULL + stream;
	r->s = splitmix64(&x);
	if (r->s == 0)
		r->s = 0x9e3779b97f4a7c15ULL;
	r->has_spare = 0;
	r->spare = 0;
}

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0,1). */
static double rng_unif(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unif(r);
}

/* Standard normal: polar Box-Muller, keeping the second value. */
static double rng_normal(struct rng *r)
{
	double u, v, s, f;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	do {
		u = 2.0 * rng_unif(r) - 1.0;
		v = 2.0 * rng_unif(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	f = sqrt(-2.0 * log(s) / s);
	r->spare = v * f;
	r->has_spare = 1;
	return u * f;
}

/* Pareto with minimum 1 and tail index ALPHA (heavy tail for small alpha). */
static double rng_pareto(struct rng *r, double alpha)
{
	return pow(1.0 - rng_unif(r), -1.0 / alpha);
}

/* ------------------------------------------------------------- output */

#define OUTBUF (1u << 20)

struct out {
	char *buf;
	size_t len;
	int fd;
};

static void die_write(void)
{
	fprintf(stderr, "%s: write error: %s\n", PROG, strerror(errno));
	exit(4);
}

static void out_flush(struct out *o)
{
	size_t off = 0;

	while (off < o->len) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_write();
		}
		off += (size_t)n;
	}
	o->len = 0;
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static const double pow10tab[] = { 1, 10, 100, 1000, 10000, 100000, 1e6 };

/* V rounded half away from zero to DEC (0..6) decimals, as "%.*f" would. */
static char *put_fixed(char *p, double v, int dec)
{
	uint64_t r, scale, ip, fp;
	int i;

	if (!(v == v)) /* NaN: an empty field */
		return p;
	if (v < 0) {
		v = -v;
		if (v * pow10tab[dec] >= 0.5)
			*p++ = '-';
	}
	if (v > 1e15)
		v = 1e15;
	scale = (uint64_t)pow10tab[dec];
	r = (uint64_t)(v * pow10tab[dec] + 0.5);
	ip = r / scale;
	fp = r % scale;
	p = put_uint(p, ip);
	if (dec > 0) {
		*p++ = '.';
		for (i = dec - 1; i >= 0; i--) {
			p[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		p += dec;
	}
	return p;
}

static char *put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* ---------------------------------------------------------------- time */

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/*
 * Parses "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or with "T"), an optional
 * trailing "Z", or Unix seconds.  Returns 0 and sets *T, or -1.
 */
static int parse_start(const char *s, int64_t *t)
{
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	char *end;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		*t = (int64_t)strtoll(s, &end, 10);
		return errno ? -1 : 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s == ' ' || *s == 'T') {
		s++;
		n = 0;
		if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return -1;
		s += n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s + 1, "%2d%n", &se, &n) != 1 || n != 2)
				return -1;
			s += 3;
		}
	}
	if (*s == 'Z')
		s++;
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 59 || h < 0 || mi < 0 || se < 0)
		return -1;
	*t = days_from_civil(y, mo, d) * DAY_S + h * 3600 + mi * 60 + se;
	return 0;
}

/* ------------------------------------------------------------ profiles */

enum kind { K_WEB, K_APP, K_DB, K_BATCH, K_CACHE, K_IDLE, K_WORKER, NKIND };

static const char *const kind_name[NKIND] = {
	"web", "app", "db", "batch", "cache", "idle", "worker"
};

enum {
	MOD_SHIFT = 1, /* a level shift (step change) at a random time */
	MOD_LEAK = 2,  /* memory grows like a leak, restarts drop it */
	MOD_SPIKES = 4, /* frequent heavy-tailed spikes */
	MOD_TREND = 8  /* slow growth of load over the weeks */
};

static const struct {
	const char *name;
	int bit;
} mod_name[] = {
	{ "shift", MOD_SHIFT }, { "leak", MOD_LEAK },
	{ "spikes", MOD_SPIKES }, { "trend", MOD_TREND },
};

/* One resource: its drawn parameters and the running state of its series. */
struct res {
	enum kind kind;
	int mods;
	struct rng rng;

	int64_t tz;        /* local time offset, seconds (peaks follow it) */
	double peak;       /* hour of the daily peak, local */
	double weekend;    /* activity factor on Saturday and Sunday */
	double cpu_base, cpu_amp;   /* percent */
	double cap, mem_base, mem_amp; /* MiB */
	double disk_base;  /* KiB/s at the reference CPU */
	double net_base, net_ratio; /* KiB/s in; out/in */
	double sig_cpu, sig_mem, sig_disk, sig_net; /* noise (log scale) */
	double phi;        /* AR(1) coefficient of the noise */

	/* spikes */
	double spike_p, spike_scale, spike_alpha, spike_decay;
	/* nightly job (batch) or backup (db) */
	double job_start, job_len;  /* hours, local */
	double job_cpu, job_disk, job_mem, job_net;
	/* leak */
	double leak_rate;  /* MiB per second */
	double restart_at; /* fraction of capacity that triggers a restart */
	double deploy_p;   /* probability of a restart per step */
	/* level shift */
	int64_t shift_step;
	double shift_cpu, shift_net, shift_mem;
	/* trend: relative growth per week */
	double trend;

	/* state */
	double e_cpu, e_mem, e_disk, e_net, e_out;
	double spike, mem_slow, leak, age;
	int64_t day;
	double day_gain, day_job_start, day_job_len;
	int day_job;
};

static double pickd(struct rng *r, const double *v, size_t n)
{
	return v[(size_t)(rng_unif(r) * (double)n) % n];
}

static enum kind draw_kind(struct rng *r)
{
	/* web .28, app .12, db .10, batch .14, cache .08, idle .16, worker .12 */
	static const double cum[NKIND] = { .28, .40, .50, .64, .72, .88, 1.0 };
	double u = rng_unif(r);
	int k;

	for (k = 0; k < NKIND - 1; k++)
		if (u < cum[k])
			break;
	return (enum kind)k;
}

static int draw_mods(struct rng *r, enum kind k)
{
	int m = 0;

	if (rng_unif(r) < 0.15)
		m |= MOD_SHIFT;
	if (k != K_IDLE && rng_unif(r) < 0.08)
		m |= MOD_LEAK;
	if (rng_unif(r) < 0.15)
		m |= MOD_SPIKES;
	if (k != K_IDLE && rng_unif(r) < 0.12)
		m |= MOD_TREND;
	return m;
}

/*
 * Draws the parameters of resource R of kind K with modifiers MODS; NSTEPS
 * is the length of its series, STEP the sampling interval in seconds.
 */
static void res_setup(struct res *R, int64_t nsteps, int64_t step)
{
	static const double tzs[] = { 0, 0, 0, 0, 0, 0, -5, -5, 1, 8, -8 };
	static const double caps_s[] = { 1024, 2048, 2048, 4096 };
	static const double caps_m[] = { 2048, 4096, 4096, 8192 };
	static const double caps_l[] = { 8192, 16384, 16384, 32768 };
	struct rng *r = &R->rng;
	double steps_per_day = (double)DAY_S / (double)step;

	R->tz = (int64_t)(pickd(r, tzs, sizeof tzs / sizeof *tzs) * 3600);
	R->peak = rng_range(r, 12.5, 16.0);
	R->weekend = rng_range(r, 0.35, 0.85);
	R->phi = rng_range(r, 0.6, 0.9);
	R->sig_cpu = rng_range(r, 0.08, 0.25);
	R->sig_mem = rng_range(r, 0.005, 0.02);
	R->sig_disk = rng_range(r, 0.25, 0.6);
	R->sig_net = rng_range(r, 0.12, 0.35);
	R->spike_p = 1.0 / rng_range(r, 1500, 4000);
	R->spike_scale = rng_range(r, 8, 25);
	R->spike_alpha = rng_range(r, 1.6, 2.4);
	R->spike_decay = rng_range(r, 0.2, 0.5);
	R->job_cpu = R->job_disk = R->job_mem = R->job_net = 0;
	R->job_start = rng_range(r, 0.5, 3.5);
	R->job_len = 0;
	R->leak_rate = 0;
	R->restart_at = 1.0;
	R->deploy_p = 0;
	R->trend = 0;

	switch (R->kind) {
	case K_WEB:
	case K_APP:
		R->cpu_base = rng_range(r, 3, 12);
		R->cpu_amp = rng_range(r, 15, 50);
		R->cap = pickd(r, caps_m, 4);
		R->mem_base = R->cap * rng_range(r, 0.3, 0.55);
		R->mem_amp = R->cap * rng_range(r, 0.04, 0.12);
		R->disk_base = rng_range(r, 50, 800);
		R->net_base = rng_range(r, 200, 5000);
		R->net_ratio = rng_range(r, 2, 6);
		if (R->kind == K_APP) {
			R->net_ratio = rng_range(r, 0.8, 2.5);
			R->mods |= MOD_LEAK;
		}
		break;
	case K_DB:
		R->cpu_base = rng_range(r, 5, 15);
		R->cpu_amp = rng_range(r, 10, 35);
		R->cap = pickd(r, caps_l, 4);
		R->mem_base = R->cap * rng_range(r, 0.7, 0.85);
		R->mem_amp = R->cap * rng_range(r, 0.01, 0.03);
		R->disk_base = rng_range(r, 500, 5000);
		R->net_base = rng_range(r, 100, 2000);
		R->net_ratio = rng_range(r, 1, 3);
		R->sig_cpu *= 0.6;
		/* nightly backup: disk and net_out heavy, some CPU */
		R->job_len = rng_range(r, 0.5, 1.5);
		R->job_cpu = rng_range(r, 8, 20);
		R->job_disk = R->disk_base * rng_range(r, 3, 10);
		R->job_net = rng_range(r, 2000, 20000);
		break;
	case K_BATCH:
		R->cpu_base = rng_range(r, 2, 8);
		R->cpu_amp = rng_range(r, 1, 5);
		R->cap = pickd(r, caps_l, 4) / 2;
		R->mem_base = R->cap * rng_range(r, 0.15, 0.3);
		R->mem_amp = R->cap * 0.01;
		R->disk_base = rng_range(r, 20, 200);
		R->net_base = rng_range(r, 10, 200);
		R->net_ratio = rng_range(r, 0.2, 1);
		R->job_len = rng_range(r, 1, 4);
		R->job_cpu = rng_range(r, 50, 90);
		R->job_disk = rng_range(r, 2000, 40000);
		R->job_mem = R->cap * rng_range(r, 0.3, 0.5);
		R->job_net = rng_range(r, 500, 5000);
		break;
	case K_CACHE:
		R->cpu_base = rng_range(r, 2, 6);
		R->cpu_amp = rng_range(r, 5, 15);
		R->cap = pickd(r, caps_l, 4);
		R->mem_base = R->cap * rng_range(r, 0.6, 0.85);
		R->mem_amp = 0;
		R->disk_base = rng_range(r, 5, 50);
		R->net_base = rng_range(r, 1000, 20000);
		R->net_ratio = rng_range(r, 1, 4);
		R->sig_mem *= 0.3;
		/* rare restarts; the cache then refills over about a day */
		R->deploy_p = 1.0 / (steps_per_day * rng_range(r, 10, 25));
		break;
	case K_IDLE:
		R->cpu_base = rng_range(r, 0.2, 2);
		R->cpu_amp = rng_range(r, 0, 0.5);
		R->cap = pickd(r, caps_s, 4);
		R->mem_base = R->cap * rng_range(r, 0.1, 0.25);
		R->mem_amp = 0;
		R->disk_base = rng_range(r, 0.5, 10);
		R->net_base = rng_range(r, 0.1, 5);
		R->net_ratio = rng_range(r, 0.5, 2);
		R->spike_p = 1.0 / rng_range(r, 800, 2500);
		R->spike_scale = rng_range(r, 15, 40);
		break;
	case K_WORKER:
		R->cpu_base = rng_range(r, 5, 20);
		R->cpu_amp = rng_range(r, 0, 10);
		R->cap = pickd(r, caps_m, 4);
		R->mem_base = R->cap * rng_range(r, 0.2, 0.4);
		R->mem_amp = R->cap * rng_range(r, 0.05, 0.15);
		R->disk_base = rng_range(r, 20, 400);
		R->net_base = rng_range(r, 50, 1000);
		R->net_ratio = rng_range(r, 0.3, 1.5);
		R->mods |= MOD_SPIKES;
		break;
	case NKIND:
		break;
	}

	if (R->mods & MOD_SPIKES) {
		R->spike_p = 1.0 / rng_range(r, 40, 200);
		R->spike_scale = rng_range(r, 10, 30);
		R->spike_alpha = rng_range(r, 1.2, 1.8);
		R->spike_decay = rng_range(r, 0.3, 0.7);
	}
	if (R->mods & MOD_LEAK) {
		/* fills up to the restart point in 2 to 6 days; deploys too */
		R->restart_at = rng_range(r, 0.85, 0.95);
		R->leak_rate = (R->restart_at * R->cap - R->mem_base - R->mem_amp) /
			       (rng_range(r, 2, 6) * DAY_S);
		if (R->leak_rate < 0)
			R->leak_rate = 0;
		R->deploy_p = 1.0 / (steps_per_day * rng_range(r, 3, 8));
	}
	R->shift_step = -1;
	R->shift_cpu = R->shift_net = 1;
	R->shift_mem = 0;
	if (R->mods & MOD_SHIFT) {
		double k = rng_unif(r) < 0.7 ? rng_range(r, 1.6, 2.6)
					     : rng_range(r, 0.35, 0.6);
		R->shift_step = (int64_t)(rng_range(r, 0.35, 0.75) * (double)nsteps);
		R->shift_cpu = k;
		R->shift_net = pow(k, 0.7);
		R->shift_mem = R->cap * (k > 1 ? 1 : -1) * rng_range(r, 0.05, 0.15);
	}
	if (R->mods & MOD_TREND)
		R->trend = rng_range(r, 0.03, 0.12);

	R->e_cpu = R->e_mem = R->e_disk = R->e_net = R->e_out = 0;
	R->spike = 0;
	R->mem_slow = 0;
	R->leak = 0;
	R->age = 1e9;
	R->day = INT64_MIN;
	R->day_gain = 1;
	R->day_job = 0;
	R->day_job_start = R->day_job_len = 0;
}

/* Daily activity in [0,1] at local hour H: deep nights, a broad day. */
static double diurnal(double h, double peak)
{
	double c = 0.5 + 0.5 * cos(TWO_PI * (h - peak) / 24.0);

	return 0.85 * c * sqrt(c) + 0.15 * (0.5 + 0.5 * cos(2 * TWO_PI * (h - peak - 4) / 24.0));
}

/* Trapezoid in [0,1] over the job's run: U is the elapsed fraction. */
static double job_shape(double u)
{
	double a = u * 12, b = (1 - u) * 25;

	return a < 1 ? a : b < 1 ? b : 1;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* AR(1) with stationary standard deviation SIGMA; occasional wide steps. */
static double ar1(struct rng *r, double e, double phi, double sigma)
{
	double z = rng_normal(r);

	if ((rng_next(r) & 63) == 0)
		z *= 3; /* a heavier tail than the normal */
	return phi * e + sigma * sqrt(1 - phi * phi) * z;
}

enum { M_CPU, M_MEM, M_DISK, M_NET_IN, M_NET_OUT, M_NET, NMETRIC };

static const char *const metric_name[NMETRIC] = {
	"cpu", "mem", "disk_io", "net_in", "net_out", "net"
};
static const int metric_dec[NMETRIC] = { 2, 1, 1, 1, 1, 1 };

/* The values at step K (time T, UTC seconds) of resource R into V. */
static void res_step(struct res *R, int64_t k, int64_t t, int64_t step, double *v)
{
	struct rng *r = &R->rng;
	int64_t lt = t + R->tz, day = floordiv(lt, DAY_S);
	int64_t sod = lt - day * DAY_S; /* local second of the day */
	double h = (double)sod / 3600.0;
	int dow = (int)(day + 3 - 7 * floordiv(day + 3, 7)); /* 0 = Monday */
	int weekend = dow >= 5;
	double a, cpu, mem, disk, nin, nout, job = 0, g, cpu_ref, restart = 0;

	if (day != R->day) {
		R->day = day;
		R->day_gain = exp(0.08 * rng_normal(r));
		R->day_job_start = R->job_start + 0.25 * (2 * rng_unif(r) - 1);
		R->day_job_len = R->job_len * exp(0.15 * rng_normal(r));
		if (R->kind == K_BATCH && dow == 6)
			R->day_job_len *= 1.6; /* the weekly full run on Sunday */
		R->day_job = R->job_len > 0 && rng_unif(r) < 0.97;
	}

	/* activity in [0, ~1.2] */
	switch (R->kind) {
	case K_IDLE:
		a = 0.3 * diurnal(h, R->peak);
		break;
	case K_BATCH:
		a = 0.5 * diurnal(h, R->peak);
		break;
	default:
		a = diurnal(h, R->peak) * (weekend ? R->weekend : 1.0);
		break;
	}
	a *= R->day_gain;
	g = 1 + R->trend * (double)(k * step) / WEEK_S;

	if (R->day_job && h >= R->day_job_start &&
	    h < R->day_job_start + R->day_job_len)
		job = job_shape((h - R->day_job_start) / R->day_job_len);

	/* heavy-tailed spikes that decay over a few steps */
	R->spike *= R->spike_decay;
	if (rng_unif(r) < R->spike_p * (R->kind == K_WORKER ? 0.3 + 1.4 * a : 1))
		R->spike += R->spike_scale * (rng_pareto(r, R->spike_alpha) - 0.6);

	/* restarts: deploys, or memory running full */
	R->age += (double)step;
	if (R->deploy_p > 0 && rng_unif(r) < R->deploy_p)
		restart = 1;
	if (R->leak_rate > 0 &&
	    R->mem_base + R->mem_slow + R->leak > R->restart_at * R->cap)
		restart = 1;
	if (restart) {
		R->leak = 0;
		R->age = 0;
		R->spike += rng_range(r, 10, 30); /* warm-up after start */
	}
	R->leak += R->leak_rate * (double)step * rng_range(r, 0.5, 1.5);

	R->e_cpu = ar1(r, R->e_cpu, R->phi, R->sig_cpu);
	R->e_mem = ar1(r, R->e_mem, 0.97, R->sig_mem);
	R->e_disk = ar1(r, R->e_disk, 0.5, R->sig_disk);
	R->e_net = ar1(r, R->e_net, R->phi, R->sig_net);
	R->e_out = ar1(r, R->e_out, 0.5, 0.08);

	/* cpu */
	cpu = (R->cpu_base + R->cpu_amp * a) * g * exp(R->e_cpu);
	cpu += job * R->job_cpu * (0.9 + 0.1 * rng_unif(r));
	if (R->kind == K_IDLE && sod % 3600 < step)
		cpu += rng_range(r, 0.5, 3); /* hourly cron */
	if (k >= R->shift_step && R->shift_step >= 0)
		cpu *= R->shift_cpu;
	cpu_ref = R->cpu_base + 0.5 * R->cpu_amp;
	cpu += R->spike;
	cpu = clamp(cpu, 0, 100);

	/* memory: follows load slowly; leaks; a cache refills after a restart */
	R->mem_slow += 0.03 * (R->mem_amp * a - R->mem_slow);
	mem = R->mem_base + R->mem_slow + R->leak + job * R->job_mem;
	if (R->kind == K_CACHE)
		mem -= 0.5 * R->mem_base * exp(-R->age / (0.7 * DAY_S));
	else if (R->age < 4.0 * 3600)
		mem -= 0.15 * R->mem_base * (1 - R->age / (4.0 * 3600));
	if (k >= R->shift_step && R->shift_step >= 0)
		mem += R->shift_mem;
	mem *= exp(R->e_mem);
	mem = clamp(mem, 0.02 * R->cap, R->cap);

	/* disk I/O: partly tracks cpu, plus jobs */
	disk = R->disk_base * (0.3 + 0.7 * cpu / cpu_ref) * exp(R->e_disk);
	disk += job * R->job_disk * exp(0.2 * rng_normal(r));
	if (R->kind == K_IDLE && sod < step)
		disk += rng_range(r, 100, 600); /* nightly logrotate */
	disk = disk < 0 ? 0 : disk;

	/* network: out follows in; a db backup goes out on its own */
	nin = R->net_base * (0.15 + 0.85 * a) * g * exp(R->e_net);
	if (k >= R->shift_step && R->shift_step >= 0)
		nin *= R->shift_net;
	nin += 0.1 * R->net_base * R->spike / R->spike_scale;
	if (R->kind == K_BATCH)
		nin += job * R->job_net;
	nout = nin * R->net_ratio * exp(R->e_out);
	if (R->kind == K_DB)
		nout += job * R->job_net;
	nin = nin < 0 ? 0 : nin;
	nout = nout < 0 ? 0 : nout;

	v[M_CPU] = cpu;
	v[M_MEM] = mem;
	v[M_DISK] = disk;
	v[M_NET_IN] = nin;
	v[M_NET_OUT] = nout;
	v[M_NET] = nin + nout;
}

/* -------------------------------------------------------------- driver */

struct cfg {
	long n;
	double weeks;
	uint64_t seed;
	int64_t step, start;
	int metrics[NMETRIC], nmetrics;
	char sep;
	const char *prefix;
	char *roles; /* comma-separated role specs, or NULL */
};

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: gen-fleet [-n RESOURCES] [-w WEEKS] [-s SEED] [--step SECONDS]\n"
"                 [--start TIME] [--metrics LIST] [--format csv|tsv]\n"
"                 [--names PREFIX | --roles LIST] [--big]\n"
"Writes a synthetic fleet of utilization traces as CSV to stdout:\n"
"timestamp,resource,cpu,mem,disk_io,net_in,net_out; grouped by resource,\n"
"ascending time; timestamps YYYY-MM-DD HH:MM:SS UTC.\n"
"\n"
"  -n, --resources N   number of resources (default 10, or the number of roles)\n"
"  -w, --weeks W       length of each series in weeks, may be fractional (4)\n"
"  -s, --seed S        random seed; the same seed gives the same bytes (1)\n"
"      --step SECONDS  sampling interval (300)\n"
"      --start TIME    first timestamp, YYYY-MM-DD[ HH:MM[:SS]] UTC or Unix\n"
"                      seconds (2024-01-01 00:00:00, a Monday)\n"
"      --metrics LIST  columns, comma-separated, in that order, from cpu\n"
"                      (percent), mem (MiB), disk_io, net_in, net_out, net\n"
"                      (= net_in + net_out) (KiB/s)\n"
"                      (default cpu,mem,disk_io,net_in,net_out)\n"
"      --format FMT    csv (default) or tsv\n"
"      --names PREFIX  resources are PREFIX-0001, PREFIX-0002, ... (vm); the\n"
"                      profile of each is drawn at random\n"
"      --roles LIST    fixed profiles instead, cycled over the resources, e.g.\n"
"                      web,web+shift,db,batch,cache+leak,idle; names are\n"
"                      web-1, web-2, db-1, ...  Profiles: web, app, db, batch,\n"
"                      cache, idle, worker; modifiers: +shift (level shift),\n"
"                      +leak (memory growth, restarts), +spikes, +trend\n"
"      --big           the benchmark input: -n 1000 -w 2 -s 42\n"
"                      --metrics cpu,mem,disk_io,net (about 210 MB)\n"
"  -h, --help          this text\n"
"  -V, --version       the version\n");
	exit(status);
}

static void bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", PROG);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fprintf(stderr, "hint: see '%s --help'\n", PROG);
	exit(2);
}

static int parse_metrics(struct cfg *c, const char *arg)
{
	const char *p = arg;

	c->nmetrics = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		int m, j;

		for (m = 0; m < NMETRIC; m++)
			if (strlen(metric_name[m]) == len &&
			    memcmp(metric_name[m], p, len) == 0)
				break;
		if (m == NMETRIC)
			return -1;
		for (j = 0; j < c->nmetrics; j++)
			if (c->metrics[j] == m)
				return -1;
		c->metrics[c->nmetrics++] = m;
		p += len;
		if (*p == ',' && p[1] == '\0')
			return -1;
		if (*p == ',')
			p++;
	}
	return c->nmetrics > 0 ? 0 : -1;
}

/* Parses one role spec "kind[+mod...]" of length LEN. */
static int parse_role(const char *p, size_t len, enum kind *k, int *mods)
{
	size_t n = strcspn(p, "+");
	int i;
	size_t j;

	if (n > len)
		n = len;
	for (i = 0; i < NKIND; i++)
		if (strlen(kind_name[i]) == n && memcmp(kind_name[i], p, n) == 0)
			break;
	if (i == NKIND)
		return -1;
	*k = (enum kind)i;
	*mods = 0;
	p += n;
	len -= n;
	while (len > 0) {
		p++, len--; /* '+' */
		n = strcspn(p, "+");
		if (n > len)
			n = len;
		for (j = 0; j < sizeof mod_name / sizeof *mod_name; j++)
			if (strlen(mod_name[j].name) == n &&
			    memcmp(mod_name[j].name, p, n) == 0)
				break;
		if (j == sizeof mod_name / sizeof *mod_name)
			return -1;
		*mods |= mod_name[j].bit;
		p += n;
		len -= n;
	}
	return 0;
}

/* Role I (cycled) of the list: its kind, modifiers and name counter. */
struct role {
	enum kind kind;
	int mods;
};

static long parse_roles(const char *list, struct role **out)
{
	const char *p = list;
	long n = 0;
	struct role *v = NULL;

	while (*p) {
		size_t len = strcspn(p, ",");
		struct role *nv;

		nv = realloc(v, (size_t)(n + 1) * sizeof *v);
		if (!nv) {
			free(v);
			return -1;
		}
		v = nv;
		if (len == 0 || parse_role(p, len, &v[n].kind, &v[n].mods) < 0) {
			free(v);
			return -1;
		}
		n++;
		p += len;
		if (*p == ',' && p[1] == '\0') {
			free(v);
			return -1;
		}
		if (*p == ',')
			p++;
	}
	*out = v;
	return n;
}

static int64_t parse_int(const char *s, int64_t lo, int64_t hi, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		bad(what, s);
	return (int64_t)v;
}

static void generate(const struct cfg *c, const struct role *roles, long nroles)
{
	struct out o;
	int64_t nsteps = (int64_t)floor(c->weeks * WEEK_S / (double)c->step + 1e-9);
	long *counter = NULL, i;
	int j, width = 1;
	char *p, name[160], date[16];
	size_t namelen;
	long x;

	o.buf = malloc(OUTBUF);
	o.len = 0;
	o.fd = 1;
	if (nroles > 0)
		counter = calloc((size_t)NKIND, sizeof *counter);
	if (!o.buf || (nroles > 0 && !counter)) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(4);
	}
	for (x = c->n; x >= 10; x /= 10)
		width++;

	p = o.buf;
	p = put_str(p, "timestamp", 9);
	*p++ = c->sep;
	p = put_str(p, "resource", 8);
	for (j = 0; j < c->nmetrics; j++) {
		const char *m = metric_name[c->metrics[j]];
		*p++ = c->sep;
		p = put_str(p, m, strlen(m));
	}
	*p++ = '\n';
	o.len = (size_t)(p - o.buf);

	for (i = 0; i < c->n; i++) {
		struct res R;
		int64_t k, cached_day = INT64_MIN;
		double v[NMETRIC];

		memset(&R, 0, sizeof R);
		rng_seed(&R.rng, c->seed, (uint64_t)i);
		if (nroles > 0) {
			const struct role *ro = &roles[i % nroles];
			R.kind = ro->kind;
			R.mods = ro->mods;
			snprintf(name, sizeof name, "%s-%ld", kind_name[R.kind],
				 ++counter[R.kind]);
		} else {
			R.kind = draw_kind(&R.rng);
			R.mods = draw_mods(&R.rng, R.kind);
			/* PREFIX-NNN, zero-padded so names sort like numbers */
			char num[24], *q = put_uint(num, (uint64_t)(i + 1));
			int nd = (int)(q - num);

			q = put_str(name, c->prefix, strlen(c->prefix));
			*q++ = '-';
			for (j = nd; j < width; j++)
				*q++ = '0';
			q = put_str(q, num, (size_t)nd);
			*q = '\0';
		}
		namelen = strlen(name);
		res_setup(&R, nsteps, c->step);

		for (k = 0; k < nsteps; k++) {
			int64_t t = c->start + k * c->step;
			int64_t day = floordiv(t, DAY_S), sod = t - day * DAY_S;

			res_step(&R, k, t, c->step, v);
			if (day != cached_day) {
				int64_t y;
				int mo, d;
				char *q = date;

				civil_from_days(day, &y, &mo, &d);
				if (y < 0 || y > 9999) {
					fprintf(stderr, "%s: time out of range\n", PROG);
					exit(2);
				}
				q = put2(q, (int)(y / 100));
				q = put2(q, (int)(y % 100));
				*q++ = '-';
				q = put2(q, mo);
				*q++ = '-';
				q = put2(q, d);
				*q++ = ' ';
				cached_day = day;
			}
			if (o.len + namelen + 256 > OUTBUF)
				out_flush(&o);
			p = o.buf + o.len;
			p = put_str(p, date, 11);
			p = put2(p, (int)(sod / 3600));
			*p++ = ':';
			p = put2(p, (int)(sod / 60 % 60));
			*p++ = ':';
			p = put2(p, (int)(sod % 60));
			*p++ = c->sep;
			p = put_str(p, name, namelen);
			for (j = 0; j < c->nmetrics; j++) {
				int m = c->metrics[j];
				*p++ = c->sep;
				p = put_fixed(p, v[m], metric_dec[m]);
			}
			*p++ = '\n';
			o.len = (size_t)(p - o.buf);
		}
	}
	out_flush(&o);
	free(o.buf);
	free(counter);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'n' },
		{ "weeks", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "step", required_argument, NULL, 'S' },
		{ "start", required_argument, NULL, 'T' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "format", required_argument, NULL, 'F' },
		{ "names", required_argument, NULL, 'N' },
		{ "roles", required_argument, NULL, 'R' },
		{ "big", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg c;
	struct role *roles = NULL;
	long nroles = 0;
	int ch, big = 0, set_n = 0, set_w = 0, set_s = 0, set_m = 0;
	char *end;

	memset(&c, 0, sizeof c);
	c.n = 10;
	c.weeks = 4;
	c.seed = 1;
	c.step = 300;
	c.start = days_from_civil(2024, 1, 1) * DAY_S;
	c.sep = ',';
	c.prefix = "vm";
	parse_metrics(&c, "cpu,mem,disk_io,net_in,net_out");

	while ((ch = getopt_long(argc, argv, "n:w:s:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			c.n = (long)parse_int(optarg, 1, 100000000,
					      "bad resource count '%s'");
			set_n = 1;
			break;
		case 'w':
			errno = 0;
			c.weeks = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(c.weeks > 0) ||
			    c.weeks > 10000)
				bad("bad number of weeks '%s'", optarg);
			set_w = 1;
			break;
		case 's':
			c.seed = (uint64_t)parse_int(optarg, 0, INT64_MAX,
						     "bad seed '%s'");
			set_s = 1;
			break;
		case 'S':
			c.step = parse_int(optarg, 1, WEEK_S, "bad step '%s' (seconds)");
			break;
		case 'T':
			if (parse_start(optarg, &c.start) < 0)
				bad("bad start time '%s'", optarg);
			break;
		case 'M':
			if (parse_metrics(&c, optarg) < 0)
				bad("bad metric list '%s' (cpu, mem, disk_io, "
				    "net_in, net_out, net; each once)", optarg);
			set_m = 1;
			break;
		case 'F':
			if (strcmp(optarg, "csv") == 0)
				c.sep = ',';
			else if (strcmp(optarg, "tsv") == 0)
				c.sep = '\t';
			else
				bad("unknown format '%s' (csv or tsv)", optarg);
			break;
		case 'N':
			if (!*optarg || strlen(optarg) > 100 ||
			    strpbrk(optarg, ",\t\n\r\"'"))
				bad("bad name prefix '%s'", optarg);
			c.prefix = optarg;
			break;
		case 'R':
			free(roles);
			nroles = parse_roles(optarg, &roles);
			if (nroles <= 0)
				bad("bad role list '%s'", optarg);
			break;
		case 'B':
			big = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			printf("%s %s\n", PROG, VERSION);
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		bad("unexpected argument '%s'", argv[0]);
	if (big) {
		if (!set_n)
			c.n = 1000;
		if (!set_w)
			c.weeks = 2;
		if (!set_s)
			c.seed = 42;
		if (!set_m)
			parse_metrics(&c, "cpu,mem,disk_io,net");
	}
	if (nroles > 0 && !set_n)
		c.n = nroles;

	generate(&c, roles, nroles);
	free(roles);
	if (close(1) < 0)
		die_write();
	return 0;
}
