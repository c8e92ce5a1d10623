/*
 * unit-config.c - the fleet configuration (lib/config.c): a full file read
 * back key by key, defaults and their merging, relative paths, quantities,
 * names, and errors that name the JSON path.
 */
#include <unistd.h>

#include "harness.h"

#include "config.h"
#include "shd.h"

static char tmpdir[64];

/* Writes TEXT to tmpdir/NAME and returns the path (static). */
static const char *put(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f) {
		FAIL_AT("cannot write %s", path);
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static const char full[] =
"{ \"shd_config\": 1,\n"
"  \"defaults\": { \"cooldown\": \"5m\",\n"
"    \"metrics\": { \"cpu\": { \"target\": 0.6, \"limit\": 80 },\n"
"                   \"disk\": { \"target\": 0.9 } } },\n"
"  \"resources\": {\n"
"    \"web\": { \"replicas\": { \"current\": 3, \"max\": 20, \"max_step\": 4 },\n"
"      \"executor\": { \"type\": \"kubectl\", \"manifest\": \"gitops/web.yaml\" } },\n"
"    \"db-1\": { \"cpu\": { \"current\": \"1500m\", \"min\": \"250m\", \"max\": 8 },\n"
"      \"memory\": { \"current\": \"4Gi\", \"max\": \"32Gi\", \"max_step\": \"2Gi\" },\n"
"      \"storage\": { \"current\": \"100Gi\" },\n"
"      \"cooldown\": 60,\n"
"      \"metrics\": { \"mem\": { \"unit\": \"absolute\", \"headroom\": 0.3 } },\n"
"      \"executor\": { \"type\": \"terraform\", \"dir\": \"/srv/tf\",\n"
"        \"variables\": { \"cpu\": \"db_cpu\" }, \"apply\": true } },\n"
"    \"batch\": { \"cpu\": { \"current\": 2 },\n"
"      \"executor\": { \"type\": \"cgroup\", \"path\": \"shd/batch\", \"timeout\": \"5s\" } },\n"
"    \"job\": { \"replicas\": { \"current\": 1, \"min\": 0 },\n"
"      \"executor\": { \"type\": \"command\", \"argv\": [\"resize\", \"{resource}\", \"{to}\"] } }\n"
"  } }\n";

static void test_full(void)
{
	struct shd_config c;
	char err[512] = "", want[128];
	const struct shd_resource_conf *r;
	const struct shd_metric_conf *m;
	int rc = shd_config_load(&c, put("full.json", full), err, sizeof(err));

	EXPECT_EQ_INT(rc, 0);
	if (rc) {
		FAIL_AT("%s", err);
		return;
	}
	EXPECT_EQ_INT(c.nres, 4);
	EXPECT_EQ_INT(strlen(c.sha256), 64);

	r = shd_config_find(&c, "web");
	EXPECT(r != NULL);
	EXPECT(r->knob[SHD_KNOB_REPLICAS].set);
	EXPECT(!r->knob[SHD_KNOB_CPU].set);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_REPLICAS].current, 3);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_REPLICAS].min, 1);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_REPLICAS].max, 20);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_REPLICAS].max_step, 4);
	EXPECT_SAME_DOUBLE(r->cooldown, 300);
	EXPECT_EQ_INT(r->exec.type, SHD_EXEC_KUBECTL);
	snprintf(want, sizeof(want), "%s/gitops/web.yaml", tmpdir);
	EXPECT_EQ_STR(r->exec.manifest, want);
	EXPECT_EQ_STR(r->exec.kind, "deployment");
	EXPECT_EQ_STR(r->exec.workload, "web");
	EXPECT_EQ_STR(r->exec.container, "web");
	/* cpu from the defaults drives replicas; disk has no storage here */
	m = shd_resource_metric(r, "cpu");
	EXPECT(m != NULL);
	if (m) {
		EXPECT_EQ_INT(m->drives, 1u << SHD_KNOB_REPLICAS);
		EXPECT_SAME_DOUBLE(m->target, 0.6);
		EXPECT_SAME_DOUBLE(m->limit, 80);
		EXPECT_SAME_DOUBLE(m->headroom, SHD_CONFIG_HEADROOM);
	}
	EXPECT(shd_resource_metric(r, "disk") == NULL);

	r = shd_config_find(&c, "db-1");
	EXPECT(r != NULL);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_CPU].current, 1.5);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_CPU].min, 0.25);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_MEMORY].current, 4294967296.0);
	EXPECT_SAME_DOUBLE(r->knob[SHD_KNOB_MEMORY].max_step, 2147483648.0);
	EXPECT_SAME_DOUBLE(r->cooldown, 60);
	EXPECT_EQ_STR(r->exec.dir, "/srv/tf");
	EXPECT_EQ_STR(r->exec.vars[SHD_KNOB_CPU], "db_cpu");
	EXPECT_EQ_STR(r->exec.vars[SHD_KNOB_MEMORY], "db_1_memory");
	EXPECT(r->exec.vars[SHD_KNOB_REPLICAS] == NULL);
	EXPECT(r->exec.apply);
	m = shd_resource_metric(r, "mem");
	EXPECT(m != NULL);
	if (m) {
		EXPECT_EQ_INT(m->unit, SHD_UNIT_ABSOLUTE);
		EXPECT_EQ_INT(m->drives, 1u << SHD_KNOB_MEMORY);
		EXPECT_SAME_DOUBLE(m->headroom, 0.3);
		EXPECT_SAME_DOUBLE(m->target, SHD_CONFIG_TARGET);
	}
	m = shd_resource_metric(r, "cpu");
	EXPECT(m && m->drives == 1u << SHD_KNOB_CPU);
	m = shd_resource_metric(r, "disk");
	EXPECT(m && m->drives == 1u << SHD_KNOB_STORAGE);
	EXPECT(m && m->target == 0.9);

	r = shd_config_find(&c, "batch");
	EXPECT(r && r->exec.type == SHD_EXEC_CGROUP);
	EXPECT(r && strcmp(r->exec.cgroup, "shd/batch") == 0);
	EXPECT(r && r->exec.timeout == 5);

	r = shd_config_find(&c, "job");
	EXPECT(r && r->exec.type == SHD_EXEC_COMMAND && r->exec.argc == 3);
	EXPECT(r && strcmp(r->exec.argv[1], "{resource}") == 0);
	EXPECT(r && r->exec.argv[3] == NULL);
	EXPECT(r && r->knob[SHD_KNOB_REPLICAS].min == 0);
	EXPECT(shd_config_find(&c, "nope") == NULL);
	shd_config_release(&c);
}

/* Loads TEXT and expects SHD_EFORMAT with NEEDLE in the message. */
static void expect_bad(const char *text, const char *needle, int line)
{
	struct shd_config c;
	char err[512] = "";
	int rc = shd_config_load(&c, put("bad.json", text), err, sizeof(err));

	if (rc != SHD_EFORMAT || !strstr(err, needle))
		fprintf(stderr, "# line %d: rc %d, message '%s', wanted '%s'\n",
			line, rc, err, needle);
	EXPECT_EQ_INT(rc, SHD_EFORMAT);
	EXPECT(strstr(err, needle) != NULL);
	EXPECT(strstr(err, "bad.json") != NULL);
	if (rc == 0)
		shd_config_release(&c);
}

#define BAD(text, needle) expect_bad(text, needle, __LINE__)
#define EX "\"executor\": {\"type\": \"command\", \"argv\": [\"x\"]}"

static void test_errors(void)
{
	BAD("{", "not JSON");
	BAD("[]", "$: not an object");
	BAD("{\"resources\": {}, \"extra\": 1}", "$: unknown key 'extra'");
	BAD("{\"shd_config\": 2, \"resources\": {}}", "$.shd_config");
	BAD("{}", "$.resources: missing");
	BAD("{\"resources\": {\"web;rm -rf /\": {}}}",
	    "$.resources.web;rm -rf /: not a resource name");
	BAD("{\"resources\": {\"../x\": {}}}", "not a resource name");
	BAD("{\"resources\": {\"w\": {" EX "}}}", "no knob");
	BAD("{\"resources\": {\"w\": {\"replicas\": {\"current\": 2, "
	    "\"maxx\": 3}, " EX "}}}",
	    "$.resources.w.replicas: unknown key 'maxx'");
	BAD("{\"resources\": {\"w\": {\"replicas\": {\"current\": 2.5}, "
	    EX "}}}", "whole numbers");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": \"lots\"}, "
	    EX "}}}", "$.resources.w.cpu.current: not a quantity");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1, \"min\": 4, "
	    "\"max\": 2}, " EX "}}}", "min 4 is above max 2");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}}}}",
	    "$.resources.w.executor: missing");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"ssh\"}}}}",
	    "$.resources.w.executor.type");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"cgroup\", \"path\": \"a/../b\"}}}}",
	    "not a cgroup path");
	BAD("{\"resources\": {\"w\": {\"replicas\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"cgroup\", \"path\": \"a\"}}}}",
	    "cpu and memory only");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"kubectl\", \"manifest\": \"m.yaml\", "
	    "\"container\": \"a b\"}}}}",
	    "$.resources.w.executor.container: not a name");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"kubectl\"}}}}",
	    "executor.manifest: missing");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"command\", \"argv\": []}}}}",
	    "executor.argv: not an array");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"metrics\": {\"cpu\": {\"target\": 1.5}}, " EX "}}}",
	    "$.resources.w.metrics.cpu.target: not a number in (0, 1]");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"metrics\": {\"cpu\": {\"drives\": [\"replicas\"]}}, " EX
	    "}}}", "drives replicas, which the resource does not have");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"metrics\": {\"cpu\": {\"drives\": [\"disks\"]}}, " EX "}}}",
	    "$.resources.w.metrics.cpu.drives[0]: not a knob");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"cooldown\": \"soon\", " EX "}}}",
	    "$.resources.w.cooldown: not a duration");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"terraform\", \"dir\": \"t\", "
	    "\"variables\": {\"cpu\": \"a b\"}}}}}", "variables.cpu");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}}, "
	    "\"w\": {}}}", "duplicate");
	/* defaults are checked where they are, used or not */
	BAD("{\"defaults\": {\"cooldown\": \"later\"}, \"resources\": {}}",
	    "$.defaults.cooldown: not a duration");
	BAD("{\"defaults\": {\"metrics\": {\"net\": {\"targt\": 1}}}, "
	    "\"resources\": {}}", "$.defaults.metrics.net: unknown key");
	BAD("{\"resources\": {\"w\": {\"replicas\": {\"current\": 2, "
	    "\"max_step\": 0.5}, " EX "}}}", "whole numbers");
	BAD("{\"resources\": {\"w\": {\"cpu\": {\"current\": 1}, "
	    "\"executor\": {\"type\": \"command\", \"argv\": [\"x\", "
	    "\"{resource}\", \"{tto}\"]}}}}",
	    "$.resources.w.executor.argv[2]: unknown placeholder {tto}");
}

static void test_missing_file(void)
{
	struct shd_config c;
	char err[512] = "", path[128];

	snprintf(path, sizeof(path), "%s/none.json", tmpdir);
	EXPECT_EQ_INT(shd_config_load(&c, path, err, sizeof(err)), SHD_EIO);
	EXPECT(strstr(err, "none.json") != NULL);
}

static void test_quantity(void)
{
	static const struct { const char *s; double v; } ok[] = {
		{ "0", 0 }, { "2", 2 }, { "500m", 0.5 }, { "1.5", 1.5 },
		{ "512Mi", 536870912.0 }, { "2Gi", 2147483648.0 },
		{ "1k", 1000 }, { "3G", 3e9 }, { "1Ki", 1024 }, { "1e3", 1000 },
	};
	static const char *const bad[] = { "", "m", "Mi", "-1", "1x",
					   "1 Gi", "nan", "inf", "Gi1" };
	double v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		EXPECT_EQ_INT(shd_quantity_parse(ok[i].s, &v), 0);
		EXPECT_SAME_DOUBLE(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (shd_quantity_parse(bad[i], &v) == 0)
			FAIL_AT("'%s' parsed as %g", bad[i], v);
}

static void test_format(void)
{
	char b[32];

	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_REPLICAS, 5, b, sizeof(b)),
		      "5");
	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_CPU, 0.75, b, sizeof(b)),
		      "750m");
	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_CPU, 2, b, sizeof(b)), "2");
	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_MEMORY, 805306368.0, b,
				      sizeof(b)), "768Mi");
	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_STORAGE, 107374182400.0, b,
				      sizeof(b)), "100Gi");
	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_MEMORY, 1000, b, sizeof(b)),
		      "1000");
	EXPECT_EQ_STR(shd_knob_format(SHD_KNOB_MEMORY, INFINITY, b,
				      sizeof(b)), "max");
}

static void test_names(void)
{
	static const char *const ok[] = { "web", "web-1", "a.b_c", "9x" };
	static const char *const bad[] = { "", ".", "..", "../x", "a/b",
		"web;rm -rf /", "a b", "-x", "$(id)", "x\n", "é" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		EXPECT(shd_name_ok(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (shd_name_ok(bad[i]))
			FAIL_AT("'%s' accepted", bad[i]);
	EXPECT_EQ_INT(shd_knob_parse("memory"), SHD_KNOB_MEMORY);
	EXPECT_EQ_INT(shd_knob_parse("mem"), -1);
}

static const struct harness_case cases[] = {
	TEST(test_full),
	TEST(test_errors),
	TEST(test_missing_file),
	TEST(test_quantity),
	TEST(test_format),
	TEST(test_names),
};

static void cleanup(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/full.json", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/bad.json", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/shd-config.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	return RUN_TESTS(cases);
}
