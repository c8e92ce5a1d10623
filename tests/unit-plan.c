/*
 * unit-plan.c - plans (lib/plan.c): the sizing rule of each knob, the
 * guard rails and their order, the journal as the starting allocation and
 * the cooldown, suppressed alerts, and the plan file: id from content,
 * tampering and signatures.
 */
#include <unistd.h>

#include "harness.h"

#include "config.h"
#include "drift.h"
#include "plan.h"
#include "shd.h"

static char tmpdir[64];

static const char *put(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (!(f = fopen(path, "w"))) {
		FAIL_AT("cannot write %s", path);
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static const char conf_text[] =
"{ \"resources\": {\n"
"  \"web\": { \"replicas\": { \"current\": 4, \"min\": 2, \"max\": 10, \"max_step\": 3 },\n"
"    \"metrics\": { \"cpu\": { \"target\": 0.5 }, \"mem\": { \"target\": 0.8, \"drives\": [\"replicas\"] } },\n"
"    \"cooldown\": \"10m\",\n"
"    \"executor\": { \"type\": \"command\", \"argv\": [\"true\"] } },\n"
"  \"db\": { \"cpu\": { \"current\": 2, \"max\": 3 }, \"memory\": { \"current\": \"4Gi\" },\n"
"    \"storage\": { \"current\": \"100Gi\" },\n"
"    \"metrics\": { \"cpu\": { \"headroom\": 0.25 }, \"mem\": { \"unit\": \"absolute\" },\n"
"                   \"disk\": { \"target\": 0.8 } },\n"
"    \"executor\": { \"type\": \"command\", \"argv\": [\"true\"] } } } }\n";

struct fx {
	struct shd_config c;
	struct shd_obs o[8];
	size_t n;
	struct shd_plan p;
};

static void fx_init(struct fx *x)
{
	char err[512] = "";

	memset(x, 0, sizeof(*x));
	if (shd_config_load(&x->c, put("fleet.json", conf_text), err,
			    sizeof(err)))
		FAIL_AT("config: %s", err);
	shd_plan_init(&x->p);
}

static void fx_release(struct fx *x)
{
	shd_plan_release(&x->p);
	shd_config_release(&x->c);
}

/* An observation: an alert (kept) unless ALERT is 0. */
static struct shd_obs *obs(struct fx *x, const char *res, const char *m,
			   double cur, double peak, double hi, int alert)
{
	struct shd_obs *o = &x->o[x->n++];

	memset(o, 0, sizeof(*o));
	snprintf(o->resource, sizeof(o->resource), "%s", res);
	snprintf(o->metric, sizeof(o->metric), "%s", m);
	o->time = 1700000000000LL;
	o->cur = o->pred = cur;
	o->peak = peak;
	o->peak_hi = hi;
	o->conf = 0.8;
	o->breach_in = NAN;
	o->severity = SHD_SEV_WARNING;
	o->alert = alert;
	o->kept = alert;
	return o;
}

static const struct shd_action *find(const struct shd_action *v, size_t n,
				     const char *res, int knob)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].resource, res) && v[i].knob == knob)
			return &v[i];
	return NULL;
}

static int build(struct fx *x, const struct shd_jrec *j, size_t nj)
{
	return shd_plan_build(&x->p, &x->c, x->o, x->n, j, nj,
			      1700000600000LL);
}

static void test_replicas_up(void)
{
	struct fx x;
	const struct shd_action *a;

	fx_init(&x);
	/* 4 replicas at a peak hi of 80% with target 50%: 6.4 -> 7 */
	obs(&x, "web", "cpu", 40, 70, 80, 1);
	EXPECT_EQ_INT(build(&x, NULL, 0), 0);
	EXPECT_EQ_INT(x.p.nact, 1);
	a = find(x.p.act, x.p.nact, "web", SHD_KNOB_REPLICAS);
	EXPECT(a != NULL);
	if (a) {
		EXPECT_SAME_DOUBLE(a->from, 4);
		EXPECT_SAME_DOUBLE(a->wanted, 7);
		EXPECT_SAME_DOUBLE(a->to, 7);
		EXPECT_EQ_INT(a->guards, 0);
		EXPECT_EQ_STR(a->metric, "cpu");
		EXPECT(strstr(a->reason, "4 replicas need 7") != NULL);
	}
	fx_release(&x);

	/* 200%: wanted 16, over max 10 and step 3: 7 */
	fx_init(&x);
	obs(&x, "web", "cpu", 100, 150, 200, 1);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "web", SHD_KNOB_REPLICAS);
	EXPECT(a && a->wanted == 16 && a->to == 7);
	EXPECT(a && a->guards == (SHD_GUARD_MAX | SHD_GUARD_STEP));
	fx_release(&x);
}

static void test_replicas_metrics(void)
{
	struct fx x;
	const struct shd_action *a;

	/* the alert is on cpu, but mem (no alert, numbers only) needs more:
	 * 4 * 0.9 / 0.8 = 4.5 -> 5, against cpu's 4 * 0.5 / 0.5 = 4 */
	fx_init(&x);
	obs(&x, "web", "cpu", 30, 45, 50, 1);
	obs(&x, "web", "mem", 85, 88, 90, 0);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "web", SHD_KNOB_REPLICAS);
	EXPECT(a && a->to == 5 && strcmp(a->metric, "mem") == 0);
	fx_release(&x);

	/* within 10% of now: no change, no action */
	fx_init(&x);
	obs(&x, "web", "cpu", 50, 50, 52, 1);
	build(&x, NULL, 0);
	EXPECT_EQ_INT(x.p.nact, 0);
	EXPECT_EQ_INT(x.p.nheld, 0);
	fx_release(&x);
}

static void test_replicas_down(void)
{
	struct fx x;
	const struct shd_action *a;

	/* 4 at 10% hi, target 50%: 0.8 -> 1, min 2, step 3 -> 2 */
	fx_init(&x);
	obs(&x, "web", "cpu", 20, 8, 10, 1);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "web", SHD_KNOB_REPLICAS);
	EXPECT(a && a->wanted == 1 && a->to == 2);
	EXPECT(a && a->guards == SHD_GUARD_MIN);
	fx_release(&x);

	/* the same while a scale-up alert is open: held */
	fx_init(&x);
	obs(&x, "web", "cpu", 20, 8, 10, 1)->up_open = 1;
	build(&x, NULL, 0);
	EXPECT_EQ_INT(x.p.nact, 0);
	a = find(x.p.held, x.p.nheld, "web", SHD_KNOB_REPLICAS);
	EXPECT(a && a->to == 4 && (a->guards & SHD_GUARD_UP_OPEN));
	fx_release(&x);
}

static void test_suppressed(void)
{
	struct fx x;
	struct shd_obs *o;

	fx_init(&x);
	o = obs(&x, "web", "cpu", 40, 150, 200, 1);
	o->kept = 0;
	snprintf(o->reason, sizeof(o->reason), "filter p=0.12");
	obs(&x, "ghost", "cpu", 40, 150, 200, 1);
	build(&x, NULL, 0);
	EXPECT_EQ_INT(x.p.nact, 0);
	EXPECT_EQ_INT(x.p.nheld, 0);
	EXPECT_EQ_INT(x.p.nign, 2);
	if (x.p.nign == 2) {
		EXPECT_EQ_STR(x.p.ign[0].resource, "ghost");
		EXPECT(strstr(x.p.ign[0].why, "not in the configuration"));
		EXPECT_EQ_STR(x.p.ign[1].resource, "web");
		EXPECT(strstr(x.p.ign[1].why, "filter p=0.12"));
	}
	fx_release(&x);
}

static void test_journal(void)
{
	struct fx x;
	struct shd_jrec j[1];
	const struct shd_action *a;

	memset(j, 0, sizeof(j));
	snprintf(j[0].event, sizeof(j[0].event), "done");
	snprintf(j[0].plan, sizeof(j[0].plan), "p1");
	snprintf(j[0].resource, sizeof(j[0].resource), "web");
	j[0].knob = SHD_KNOB_REPLICAS;
	j[0].from = 4;
	j[0].to = 6;
	/* 5 minutes before "now": inside the 10 minute cooldown */
	j[0].time = 1700000300000LL;

	fx_init(&x);
	obs(&x, "web", "cpu", 40, 70, 80, 1);	/* 6 * 0.8 / 0.5 = 9.6 */
	build(&x, j, 1);
	EXPECT_EQ_INT(x.p.nact, 0);
	a = find(x.p.held, x.p.nheld, "web", SHD_KNOB_REPLICAS);
	EXPECT(a && a->from == 6 && a->to == 6 && a->wanted == 10);
	EXPECT(a && (a->guards & SHD_GUARD_COOLDOWN));
	fx_release(&x);

	/* 20 minutes before: the cooldown is over; from the journal's 6 */
	j[0].time = 1700000600000LL - 1200000;
	fx_init(&x);
	obs(&x, "web", "cpu", 40, 70, 80, 1);
	build(&x, j, 1);
	a = find(x.p.act, x.p.nact, "web", SHD_KNOB_REPLICAS);
	EXPECT(a && a->from == 6 && a->to == 9);
	EXPECT(a && a->guards == SHD_GUARD_STEP);
	fx_release(&x);
}

static void test_limits(void)
{
	struct fx x;
	const struct shd_action *a;

	/* cpu in percent of 2 cores: peak 90% = 1.8 cores, +25% = 2.25,
	 * hi 95% = 1.9: 2.25 -> 2250m; max 3 */
	fx_init(&x);
	obs(&x, "db", "cpu", 60, 90, 95, 1);
	/* mem absolute: peak 5 GiB * 1.2 = 6 GiB; hi 5.5 GiB */
	obs(&x, "db", "mem", 3.0 * 1073741824, 5.0 * 1073741824,
	    5.5 * 1073741824, 1);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "db", SHD_KNOB_CPU);
	EXPECT(a && a->from == 2 && a->to == 2.25);
	a = find(x.p.act, x.p.nact, "db", SHD_KNOB_MEMORY);
	EXPECT(a && a->to == 6.0 * 1073741824);
	EXPECT(a && strcmp(a->metric, "mem") == 0);
	fx_release(&x);

	/* at the limit (a throttled cpu: 95% now, the upper bound 100%) the
	 * demand is unknown: at least the headroom more, 2 * 1.25 */
	fx_init(&x);
	obs(&x, "db", "cpu", 95, 95, 100, 1);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "db", SHD_KNOB_CPU);
	EXPECT(a && a->to == 2.5);
	fx_release(&x);

	/* the upper bound wins over peak + headroom */
	fx_init(&x);
	obs(&x, "db", "cpu", 60, 80, 140, 1);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "db", SHD_KNOB_CPU);
	EXPECT(a && a->wanted == 2.8 && a->to == 2.8);
	fx_release(&x);
}

/*
 * A percent metric's limit bounds the size too: a cgroup at 81% of its
 * quota with a limit of 80 (shd-drift's critical) gets the quota that
 * brings the upper bound to the limit, even where peak + headroom would
 * be within the tolerance; under the limit, the tolerance holds.
 */
static void test_limit_bounds(void)
{
	static const char text[] =
	"{ \"resources\": { \"cg\": { \"cpu\": { \"current\": \"200m\", \"max\": 2 },\n"
	"  \"metrics\": { \"cpu\": { \"limit\": 80 } },\n"
	"  \"executor\": { \"type\": \"command\", \"argv\": [\"true\"] } } } }\n";
	struct fx x;
	const struct shd_action *a;
	char err[512] = "";

	for (int over = 0; over < 2; over++) {
		memset(&x, 0, sizeof(x));
		if (shd_config_load(&x.c, put("limit.json", text), err,
				    sizeof(err)))
			FAIL_AT("config: %s", err);
		shd_plan_init(&x.p);
		/* peak 81.2% of 0.2 cores, + 20% = 0.195: within 10% */
		obs(&x, "cg", "cpu", 81.2, 81.2, over ? 86.64 : 79, 1);
		EXPECT_EQ_INT(build(&x, NULL, 0), 0);
		a = find(x.p.act, x.p.nact, "cg", SHD_KNOB_CPU);
		if (over)	/* 0.2 * 86.64 / 80 = 0.2166 -> 217m */
			EXPECT(a && a->from == 0.2 && a->to == 0.217);
		else
			EXPECT(a == NULL);
		fx_release(&x);
	}
}

static void test_storage(void)
{
	struct fx x;
	const struct shd_action *a;

	/* 70% -> 85% of 100 GiB: does not fill, no change */
	fx_init(&x);
	obs(&x, "db", "disk", 70, 80, 85, 1);
	build(&x, NULL, 0);
	EXPECT(find(x.p.act, x.p.nact, "db", SHD_KNOB_STORAGE) == NULL);
	fx_release(&x);

	/* 104% within the horizon: 104 GiB / 0.8 = 130 GiB */
	fx_init(&x);
	obs(&x, "db", "disk", 90, 100, 104, 1);
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "db", SHD_KNOB_STORAGE);
	EXPECT(a && a->to == 130.0 * 1073741824);
	fx_release(&x);

	/* a predicted breach of drift's limit grows it too */
	fx_init(&x);
	obs(&x, "db", "disk", 85, 88, 92, 1)->breach_in = 600;
	build(&x, NULL, 0);
	a = find(x.p.act, x.p.nact, "db", SHD_KNOB_STORAGE);
	EXPECT(a && a->to == 115.0 * 1073741824);
	fx_release(&x);
}

static const unsigned char key[] = "0123456789abcdef0123456789abcdef";

/* Writes plan P of X as a file, signed with KEY when SIGN. */
static const char *save(struct fx *x, int sign, const char *name)
{
	json_t *j = shd_plan_json(&x->p, &x->c, sign ? key : NULL,
				  sizeof(key) - 1);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17))
		    : NULL;
	const char *path = put(name, s ? s : "");

	free(s);
	json_decref(j);
	return path;
}

/* Replaces the first FROM in file PATH by TO. */
static void edit(const char *path, const char *from, const char *to)
{
	char buf[16384], out[16384];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	char *p;

	if (f)
		fclose(f);
	buf[n] = 0;
	p = strstr(buf, from);
	if (!p) {
		FAIL_AT("'%s' not in the plan", from);
		return;
	}
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - buf), buf, to,
		 p + strlen(from));
	if ((f = fopen(path, "w"))) {
		fputs(out, f);
		fclose(f);
	}
}

static void test_file(void)
{
	struct fx x;
	struct shd_plan q;
	char err[512] = "", id[17];
	const char *path;
	int sig = -1, rc;

	fx_init(&x);
	obs(&x, "web", "cpu", 40, 70, 80, 1);
	obs(&x, "db", "cpu", 60, 90, 95, 1);
	build(&x, NULL, 0);
	EXPECT_EQ_INT(x.p.nact, 2);
	path = save(&x, 0, "plan.json");
	rc = shd_plan_load(&q, path, NULL, 0, &sig, err, sizeof(err));
	EXPECT_EQ_INT(rc, 0);
	if (rc)
		FAIL_AT("%s", err);
	EXPECT_EQ_INT(sig, 0);
	EXPECT_EQ_INT(q.nact, 2);
	EXPECT_EQ_INT(strlen(q.id), 16);
	memcpy(id, q.id, sizeof(id));
	if (q.nact == 2) {
		EXPECT_EQ_STR(q.act[0].resource, x.p.act[0].resource);
		EXPECT_SAME_DOUBLE(q.act[0].to, x.p.act[0].to);
		EXPECT_EQ_INT(q.act[0].knob, x.p.act[0].knob);
		EXPECT_EQ_INT(q.act[0].severity, SHD_SEV_WARNING);
	}
	shd_plan_release(&q);

	/* the same situation planned again: the same id */
	x.p.created += 3600000;
	path = save(&x, 0, "plan2.json");
	EXPECT_EQ_INT(shd_plan_load(&q, path, NULL, 0, &sig, err,
				    sizeof(err)), 0);
	EXPECT_EQ_STR(q.id, id);
	shd_plan_release(&q);

	/* a changed target: the id no longer matches */
	edit(path, "\"to\": 7.0", "\"to\": 70.0");
	EXPECT_EQ_INT(shd_plan_load(&q, path, NULL, 0, &sig, err,
				    sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "$.id") && strstr(err, "changed"));

	/* a name that could reach a shell or a path */
	path = save(&x, 0, "plan3.json");
	edit(path, "\"resource\": \"web\"", "\"resource\": \"web;rm -rf /\"");
	EXPECT_EQ_INT(shd_plan_load(&q, path, NULL, 0, &sig, err,
				    sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "not a valid name") != NULL);

	/* signed: checks with the key, refuses another key and tampering
	 * even when the id is made to match */
	path = save(&x, 1, "signed.json");
	EXPECT_EQ_INT(shd_plan_load(&q, path, key, sizeof(key) - 1, &sig,
				    err, sizeof(err)), 0);
	EXPECT_EQ_INT(sig, 1);
	shd_plan_release(&q);
	EXPECT_EQ_INT(shd_plan_load(&q, path, (const unsigned char *)"other",
				    5, &sig, err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "$.signature") != NULL);
	edit(path, "\"created\": \"", "\"created\": \"1");
	EXPECT_EQ_INT(shd_plan_load(&q, path, key, sizeof(key) - 1, &sig,
				    err, sizeof(err)), SHD_EFORMAT);
	/* unsigned plan, key given: refused */
	path = save(&x, 0, "plan4.json");
	EXPECT_EQ_INT(shd_plan_load(&q, path, key, sizeof(key) - 1, &sig,
				    err, sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "not signed") != NULL);
	fx_release(&x);
}

static void test_bad_files(void)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"shd_plan\": 2}",
		"{\"shd_plan\": 1, \"id\": \"x\"}",
		"{\"shd_plan\": 1, \"id\": \"x\", \"created\": "
		"\"2024-01-01T00:00:00Z\", \"config\": {\"sha256\": \"ab\"}, "
		"\"actions\": [], \"held\": []}",
		"{\"shd_plan\": 1, \"id\": \"x\", \"created\": "
		"\"2024-01-01T00:00:00Z\", \"config\": {\"sha256\": \"ab\"}, "
		"\"actions\": [{\"resource\": \"w\", \"knob\": \"gpu\", "
		"\"from\": 1, \"to\": 2}], \"held\": []}",
	};
	struct shd_plan q;
	char err[512];
	int sig;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = shd_plan_load(&q, put("bad.json", bad[i]), NULL, 0,
				       &sig, err, sizeof(err));

		if (rc != SHD_EFORMAT)
			FAIL_AT("bad plan %zu: rc %d", i, rc);
		EXPECT(strstr(err, "bad.json") != NULL);
	}
}

static const struct harness_case cases[] = {
	TEST(test_replicas_up),
	TEST(test_replicas_metrics),
	TEST(test_replicas_down),
	TEST(test_suppressed),
	TEST(test_journal),
	TEST(test_limits),
	TEST(test_limit_bounds),
	TEST(test_storage),
	TEST(test_file),
	TEST(test_bad_files),
};

static void cleanup(void)
{
	static const char *const f[] = { "fleet.json", "plan.json",
		"plan2.json", "plan3.json", "plan4.json", "signed.json",
		"bad.json" };
	char p[128];

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, f[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/shd-plan.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	return RUN_TESTS(cases);
}
