/*
 * unit-sync.c - configuration sync (lib/sync.c): the changes between two
 * production documents (keys changed, added, removed; resources added and
 * removed; the defaults), their application to a shadow scaled as
 * shd_config_shadow scales (a synced shadow is the shadow made from the
 * new production), hand edits kept where production did not change the
 * key and overridden where it did, the lines for people and for
 * shd-drift --events, appending events, checking the result, and the sync
 * record written and read back (lib/confscale.c); relative executor
 * paths made absolute; the lock of one run at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include <jansson.h>

#include "config.h"
#include "confscale.h"
#include "shd.h"
#include "sign.h"
#include "sync.h"

static char tmpdir[64];

static const char *tpath(const char *name)
{
	static char path[4][400];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
	return path[k];
}

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		FAIL_AT("bad JSON in the test: %d: %s", je.line, je.text);
	return j;
}

static const char prod0[] =
"{ \"shd_config\": 1,\n"
"  \"defaults\": { \"cooldown\": \"10m\", \"metrics\": { \"cpu\": { \"target\": 0.6 } } },\n"
"  \"resources\": {\n"
"    \"web\": { \"replicas\": { \"current\": 8, \"min\": 4, \"max\": 12, \"max_step\": 4 },\n"
"             \"cpu\": { \"current\": \"500m\", \"max\": 2 },\n"
"             \"metrics\": { \"cpu\": { \"target\": 0.5 } },\n"
"             \"executor\": { \"type\": \"command\", \"argv\": [\"true\", \"{to}\"] } },\n"
"    \"db\": { \"memory\": { \"current\": \"4Gi\" },\n"
"            \"storage\": { \"current\": \"100Gi\", \"max\": \"400Gi\" },\n"
"            \"metrics\": { \"disk\": { \"target\": 0.8 } },\n"
"            \"executor\": { \"type\": \"command\", \"argv\": [\"true\"] } } } }\n";

/* prod0 with: web's replicas.max 12 -> 16, cpu target 0.5 -> 0.7, memory
 * added, argv changed; the default cooldown 5m; db removed; cache added. */
static const char prod1[] =
"{ \"shd_config\": 1,\n"
"  \"defaults\": { \"cooldown\": \"5m\", \"metrics\": { \"cpu\": { \"target\": 0.6 } } },\n"
"  \"resources\": {\n"
"    \"web\": { \"replicas\": { \"current\": 8, \"min\": 4, \"max\": 16, \"max_step\": 4 },\n"
"             \"cpu\": { \"current\": \"500m\", \"max\": 2 },\n"
"             \"memory\": { \"current\": \"1Gi\" },\n"
"             \"metrics\": { \"cpu\": { \"target\": 0.7 } },\n"
"             \"executor\": { \"type\": \"command\", \"argv\": [\"true\", \"{resource}\"] } },\n"
"    \"cache\": { \"replicas\": { \"current\": 6, \"max\": 20 },\n"
"               \"storage\": { \"current\": \"10Gi\" },\n"
"               \"executor\": { \"type\": \"command\", \"argv\": [\"true\"] } } } }\n";

static const char sha0[] =
	"0000000000000000000000000000000000000000000000000000000000000000";
static const char sha1[] =
	"1111111111111111111111111111111111111111111111111111111111111111";

/* The lines of the changes of S, one per line, in a static buffer. */
static const char *lines(const struct shd_sync *s)
{
	static char buf[4096];

	buf[0] = 0;
	for (size_t i = 0; i < s->n; i++) {
		char *l = shd_sync_line(&s->c[i]);

		if (!l) {
			FAIL_AT("shd_sync_line gave NULL");
			continue;
		}
		strncat(buf, l, sizeof(buf) - strlen(buf) - 2);
		strcat(buf, "\n");
		free(l);
	}
	return buf;
}

static void test_diff(void)
{
	json_t *a = parse(prod0), *b = parse(prod1);
	struct shd_sync s;

	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, a, b), 0);
	EXPECT_EQ_STR(lines(&s),
		"defaults.cooldown: \"10m\" -> \"5m\"\n"
		"web.replicas.max: 12 -> 16\n"
		"web.memory: (none) -> {\"current\":\"1Gi\"}\n"
		"web.metrics.cpu.target: 0.5 -> 0.7\n"
		"web.executor.argv: [\"true\",\"{to}\"] -> [\"true\",\"{resource}\"]\n"
		"cache: added\n"
		"db: removed\n");
	EXPECT_EQ_INT(s.n, 7);
	if (s.n == 7) {
		EXPECT_EQ_STR(s.c[0].resource, "*");
		EXPECT_EQ_INT(s.c[0].ncomp, 1);
		EXPECT_EQ_STR(s.c[1].resource, "web");
		EXPECT_EQ_INT(s.c[1].ncomp, 2);
		EXPECT_EQ_STR(s.c[1].comp[0], "replicas");
		EXPECT_EQ_STR(s.c[1].comp[1], "max");
		EXPECT(s.c[5].from == NULL && json_is_object(s.c[5].to));
		EXPECT(s.c[6].to == NULL && json_is_object(s.c[6].from));
	}
	shd_sync_release(&s);

	/* the same document: nothing; and back again: as many changes */
	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, b, b), 0);
	EXPECT_EQ_INT(s.n, 0);
	EXPECT_EQ_INT(shd_sync_diff(&s, b, a), 0);
	EXPECT_EQ_INT(s.n, 7);
	shd_sync_release(&s);

	/* not configurations */
	shd_sync_init(&s);
	json_t *x = parse("{\"resources\": []}"), *y = parse("[1]");
	json_t *z = parse("{\"resources\": {\"*\": {}}}");
	EXPECT_EQ_INT(shd_sync_diff(&s, x, b), SHD_EINVAL);
	EXPECT_EQ_INT(shd_sync_diff(&s, a, y), SHD_EINVAL);
	EXPECT_EQ_INT(shd_sync_diff(&s, a, z), SHD_EINVAL);
	EXPECT_EQ_INT(shd_sync_diff(&s, z, a), SHD_EINVAL);
	EXPECT_EQ_INT(s.n, 0);
	shd_sync_release(&s);
	json_decref(x);
	json_decref(y);
	json_decref(z);
	json_decref(a);
	json_decref(b);
}

/* shd_sync_scale at the key of dotted KEY (up to 3 members). */
static json_t *scale_at(const char *res, const char *key, const char *v,
			double f)
{
	char buf[128], *comp[3], *save = NULL;
	size_t n = 0;
	json_t *j = json_loads(v, JSON_DECODE_ANY, NULL), *out;

	snprintf(buf, sizeof(buf), "%s", key);
	for (char *t = strtok_r(buf, ".", &save); t && n < 3;
	     t = strtok_r(NULL, ".", &save))
		comp[n++] = t;
	out = shd_sync_scale(res, comp, n, j, f);
	json_decref(j);
	return out;
}

static void expect_json(json_t *got, const char *want, int line)
{
	char *t = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY |
				   JSON_SORT_KEYS | JSON_REAL_PRECISION(15))
		      : NULL;

	if (!t || strcmp(t, want))
		fprintf(stderr, "# line %d: got %s, want %s\n", line,
			t ? t : "NULL", want), harness_failed_now = 1;
	free(t);
	json_decref(got);
}
#define EXPECT_JSON(got, want) expect_json((got), (want), __LINE__)

static void test_scale(void)
{
	/* replicas: ceil(x * f), at least 1; storage: whole MiB up */
	EXPECT_JSON(scale_at("web", "replicas.max", "16", 0.25), "4");
	EXPECT_JSON(scale_at("web", "replicas.max", "17", 0.25), "5");
	EXPECT_JSON(scale_at("web", "replicas.current", "\"3\"", 0.1), "1");
	EXPECT_JSON(scale_at("web", "replicas.min", "0", 0.1), "0");
	EXPECT_JSON(scale_at("db", "storage.current", "\"10Gi\"", 0.25),
		    "2684354560");
	EXPECT_JSON(scale_at("db", "storage.max", "1000", 0.5), "1048576");
	/* a whole knob, a whole resource */
	EXPECT_JSON(scale_at("web", "replicas", "{\"current\": 8, \"max\": 12}",
			     0.25), "{\"current\":2,\"max\":3}");
	EXPECT_JSON(scale_at("web", "", "{\"replicas\": {\"current\": 8}, "
			     "\"cpu\": {\"current\": \"2\"}}", 0.5),
		    "{\"cpu\":{\"current\":\"2\"},\"replicas\":{\"current\":4}}");
	/* per replica, and the defaults: as they are */
	EXPECT_JSON(scale_at("web", "cpu.max", "\"4\"", 0.25), "\"4\"");
	EXPECT_JSON(scale_at("web", "memory", "{\"current\": \"1Gi\"}", 0.25),
		    "{\"current\":\"1Gi\"}");
	EXPECT_JSON(scale_at("web", "metrics.cpu.target", "0.7", 0.25), "0.7");
	EXPECT_JSON(scale_at("*", "cooldown", "\"5m\"", 0.25), "\"5m\"");
	/* an unknown member of a knob is copied; not a quantity: NULL */
	EXPECT_JSON(scale_at("web", "replicas.note", "\"x\"", 0.25), "\"x\"");
	EXPECT(scale_at("web", "replicas.max", "\"lots\"", 0.25) == NULL);
	EXPECT(shd_sync_scale("web", NULL, 0, NULL, 0.5) == NULL);
}

/* Is the synced shadow SH the shadow made from NEW (resources and
 * defaults, and production's digest)? */
static void expect_synced(json_t *sh, const char *new_text, double f,
			  const char *sha, int line)
{
	json_t *n = parse(new_text), *want = shd_config_shadow(n, f, sha);

	if (!want || !json_equal(json_object_get(sh, "resources"),
				 json_object_get(want, "resources")) ||
	    !json_equal(json_object_get(sh, "shadow"),
			json_object_get(want, "shadow")) ||
	    (json_object_get(want, "defaults") &&
	     !json_equal(json_object_get(sh, "defaults"),
			 json_object_get(want, "defaults"))) ||
	    (!json_object_get(want, "defaults") &&
	     json_object_get(sh, "defaults"))) {
		char *g = json_dumps(sh, JSON_COMPACT | JSON_SORT_KEYS);
		char *w = want ? json_dumps(want, JSON_COMPACT |
					    JSON_SORT_KEYS) : NULL;

		fprintf(stderr, "# line %d: synced\n#   %s\n# made\n#   %s\n",
			line, g, w ? w : "NULL");
		harness_failed_now = 1;
		free(g);
		free(w);
	}
	json_decref(want);
	json_decref(n);
}

/* The shadow of OLD at F, synced to NEW; returns it (and S's changes). */
static json_t *sync_docs(const char *old_text, const char *new_text,
			 double f, struct shd_sync *s)
{
	json_t *o = parse(old_text), *n = parse(new_text);
	json_t *sh = shd_config_shadow(o, f, sha0);
	char err[256] = "";

	shd_sync_init(s);
	EXPECT(sh != NULL);
	EXPECT_EQ_INT(shd_sync_diff(s, o, n), 0);
	if (shd_sync_apply(s, sh, n, f, sha1, err, sizeof(err)))
		FAIL_AT("apply: %s", err);
	json_decref(o);
	json_decref(n);
	return sh;
}

static void test_apply(void)
{
	struct shd_sync s;
	json_t *sh = sync_docs(prod0, prod1, 0.25, &s);

	expect_synced(sh, prod1, 0.25, sha1, __LINE__);
	EXPECT_EQ_STR(lines(&s),
		"defaults.cooldown: \"10m\" -> \"5m\"\n"
		"web.replicas.max: 12 -> 16 (shadow 3 -> 4)\n"
		"web.memory: (none) -> {\"current\":\"1Gi\"}\n"
		"web.metrics.cpu.target: 0.5 -> 0.7\n"
		"web.executor.argv: [\"true\",\"{to}\"] -> [\"true\",\"{resource}\"]\n"
		"cache: added\n"
		"db: removed\n");
	for (size_t i = 0; i < s.n; i++)
		EXPECT_EQ_INT(s.c[i].own, 0);
	/* the shadow's order kept: web first, the new resource last, the
	 * changed key where it was */
	{
		void *it = json_object_iter(json_object_get(sh, "resources"));
		json_t *rep = json_object_get(json_object_get(json_object_get(
				json_object_get(sh, "resources"), "web"),
				"replicas"), "max");

		EXPECT_EQ_STR(json_object_iter_key(it), "web");
		it = json_object_iter_next(json_object_get(sh, "resources"),
					   it);
		EXPECT_EQ_STR(json_object_iter_key(it), "cache");
		EXPECT(json_is_integer(rep) && json_integer_value(rep) == 4);
		it = json_object_iter(json_object_get(json_object_get(
			json_object_get(sh, "resources"), "web"), "replicas"));
		EXPECT_EQ_STR(json_object_iter_key(it), "current");
	}
	shd_sync_release(&s);
	json_decref(sh);

	/* and back: db comes back scaled, cache goes */
	sh = sync_docs(prod1, prod0, 0.1, &s);
	expect_synced(sh, prod0, 0.1, sha1, __LINE__);
	shd_sync_release(&s);
	json_decref(sh);

	/* nothing changed: the shadow is the same but for the digest */
	sh = sync_docs(prod0, prod0, 0.25, &s);
	EXPECT_EQ_INT(s.n, 0);
	expect_synced(sh, prod0, 0.25, sha1, __LINE__);
	shd_sync_release(&s);
	json_decref(sh);
}

/* A synced shadow is the shadow of the new production, whatever changed. */
static void test_apply_cases(void)
{
	static const char *const docs[] = {
		"{\"resources\": {\"a\": {\"replicas\": {\"current\": 3}, "
		"\"executor\": {\"type\": \"command\", \"argv\": [\"x\"]}}}}",
		/* a knob added, storage as a string, defaults appear */
		"{\"defaults\": {\"metrics\": {\"disk\": {\"target\": 0.9}}}, "
		"\"resources\": {\"a\": {\"replicas\": {\"current\": 30, "
		"\"max\": 50}, \"storage\": {\"current\": \"1Ti\", \"max_step\": "
		"\"10Gi\"}, \"executor\": {\"type\": \"command\", \"argv\": "
		"[\"x\"]}}}}",
		/* a knob gone, replicas as strings, a metric added */
		"{\"defaults\": {}, \"resources\": {\"a\": {\"replicas\": "
		"{\"current\": \"7\", \"min\": \"0\"}, \"metrics\": {\"mem\": "
		"{\"drives\": [\"replicas\"]}}, \"executor\": {\"type\": "
		"\"command\", \"argv\": [\"x\"]}}, \"b\": {\"cpu\": {\"current\": "
		"1}, \"executor\": {\"type\": \"command\", \"argv\": [\"y\"]}}}}",
		/* a resource's type of value changed (not valid, still
		 * mirrored), defaults gone */
		"{\"resources\": {\"a\": {\"replicas\": {\"current\": 1}}, "
		"\"b\": {\"storage\": {\"current\": 12345678}}}}",
		prod0, prod1,
	};
	size_t nd = sizeof(docs) / sizeof(docs[0]);
	const double fr[] = { 1, 0.5, 0.1, 0.03 };

	for (size_t i = 0; i < nd; i++)
		for (size_t j = 0; j < nd; j++)
			for (size_t k = 0; k < 4; k++) {
				struct shd_sync s;
				json_t *sh = sync_docs(docs[i], docs[j], fr[k],
						       &s);

				expect_synced(sh, docs[j], fr[k], sha1,
					      __LINE__);
				if (harness_failed_now) {
					fprintf(stderr, "#   docs %zu -> %zu at "
						"%g\n", i, j, fr[k]);
					k = 4, j = i = nd;
				}
				shd_sync_release(&s);
				json_decref(sh);
			}
}

/* Hand edits: kept where production did not change the key; replaced
 * (and said) where it did; an object the shadow lacks comes whole. */
static void test_hand_edits(void)
{
	json_t *o = parse(prod0), *n = parse(prod1);
	json_t *sh = shd_config_shadow(o, 0.25, sha0);
	json_t *web = json_object_get(json_object_get(sh, "resources"), "web");
	struct shd_sync s;
	char err[256] = "";

	/* edits: cpu.current (production keeps it), replicas.max (which
	 * production changes), the metrics object removed (production
	 * changes a key inside it), a resource of the shadow's own */
	json_object_set_new(json_object_get(web, "cpu"), "current",
			    json_string("250m"));
	json_object_set_new(json_object_get(web, "replicas"), "max",
			    json_integer(2));
	json_object_del(web, "metrics");
	json_object_set_new(json_object_get(sh, "resources"), "mine",
			    json_pack("{s:{s:i}}", "replicas", "current", 1));

	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, o, n), 0);
	EXPECT_EQ_INT(shd_sync_apply(&s, sh, n, 0.25, sha1, err, sizeof(err)),
		      0);
	web = json_object_get(json_object_get(sh, "resources"), "web");
	EXPECT_EQ_STR(json_string_value(json_object_get(json_object_get(
		web, "cpu"), "current")), "250m");
	EXPECT_EQ_INT(json_integer_value(json_object_get(json_object_get(
		web, "replicas"), "max")), 4);
	EXPECT_JSON(json_incref(json_object_get(web, "metrics")),
		    "{\"cpu\":{\"target\":0.7}}");
	EXPECT(json_object_get(json_object_get(sh, "resources"), "mine"));
	for (size_t i = 0; i < s.n; i++) {
		char *l = shd_sync_line(&s.c[i]);
		int want = strstr(l, "replicas.max") || strstr(l, "metrics");

		if (s.c[i].own != want)
			FAIL_AT("own %d: %s", s.c[i].own, l);
		free(l);
	}
	EXPECT_EQ_STR(lines(&s) + strlen("defaults.cooldown: \"10m\" -> "
					 "\"5m\"\n"),
		"web.replicas.max: 12 -> 16 (shadow 2 -> 4)\n"
		"web.memory: (none) -> {\"current\":\"1Gi\"}\n"
		"web.metrics.cpu.target: 0.5 -> 0.7 (shadow (none) -> 0.7)\n"
		"web.executor.argv: [\"true\",\"{to}\"] -> [\"true\",\"{resource}\"]\n"
		"cache: added\n"
		"db: removed\n");
	shd_sync_release(&s);
	json_decref(sh);

	/* a resource removed from the shadow by hand comes back whole when
	 * production changes it */
	sh = shd_config_shadow(o, 0.25, sha0);
	json_object_del(json_object_get(sh, "resources"), "web");
	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, o, n), 0);
	EXPECT_EQ_INT(shd_sync_apply(&s, sh, n, 0.25, sha1, err, sizeof(err)),
		      0);
	expect_synced(sh, prod1, 0.25, sha1, __LINE__);
	EXPECT(s.n > 1 && s.c[1].own && !s.c[1].sfrom && s.c[1].sto &&
	       json_integer_value(s.c[1].sto) == 4);
	shd_sync_release(&s);
	json_decref(sh);

	/* a value that cannot be scaled, a shadow that is no configuration */
	sh = shd_config_shadow(o, 0.25, sha0);
	json_t *bad = json_deep_copy(n);
	json_object_set_new(json_object_get(json_object_get(json_object_get(
		bad, "resources"), "web"), "replicas"), "max",
		json_string("lots"));
	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, o, bad), 0);
	EXPECT_EQ_INT(shd_sync_apply(&s, sh, bad, 0.25, sha1, err,
				     sizeof(err)), SHD_EINVAL);
	EXPECT(strstr(err, "web.replicas.max: cannot scale") != NULL);
	json_t *arr = parse("[]");
	EXPECT_EQ_INT(shd_sync_apply(&s, arr, n, 0.25, sha1, err,
				     sizeof(err)), SHD_EINVAL);
	EXPECT_EQ_INT(shd_sync_apply(&s, sh, n, 0, sha1, err, sizeof(err)),
		      SHD_EINVAL);
	shd_sync_release(&s);
	json_decref(arr);
	json_decref(bad);
	json_decref(sh);
	json_decref(o);
	json_decref(n);
}

/*
 * An event line as shd-drift's reader takes it (cmd/shd-drift.c,
 * event_line): the time before the first comma, the resource before the
 * second; lines under 4096 bytes.
 */
static int drift_reads(const char *line, int64_t *t, char *res, size_t n)
{
	const char *c1 = strchr(line, ','), *c2;

	if (strlen(line) >= 4095 || !c1 || strchr(line, '\n') !=
	    line + strlen(line) - 1)
		return -1;
	if (shd_time_parse(line, (size_t)(c1 - line), t) < 0)
		return -1;
	c2 = strchr(c1 + 1, ',');
	snprintf(res, n, "%.*s", (int)(c2 ? c2 - c1 - 1 : 0), c1 + 1);
	return 0;
}

static void test_event_lines(void)
{
	json_t *o = parse(prod0), *n = parse(prod1);
	struct shd_sync s;
	const int64_t t = 1767225600000LL;	/* 2026-01-01 */
	static const char *const want[] = {
		"2026-01-01T00:00:00Z,*,cooldown,\"10m\",\"5m\"\n",
		"2026-01-01T00:00:00Z,web,replicas.max,12,16\n",
		"2026-01-01T00:00:00Z,web,memory,,{\"current\":\"1Gi\"}\n",
		"2026-01-01T00:00:00Z,web,metrics.cpu.target,0.5,0.7\n",
		"2026-01-01T00:00:00Z,web,executor.argv,[\"true\",\"{to}\"],"
		"[\"true\",\"{resource}\"]\n",
		"2026-01-01T00:00:00Z,cache,,,{\"replicas\":{\"current\":6,"
		"\"max\":20},\"storage\":{\"current\":\"10Gi\"},\"executor\":"
		"{\"type\":\"command\",\"argv\":[\"true\"]}}\n",
		NULL,	/* db removed: checked below */
	};

	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, o, n), 0);
	EXPECT_EQ_INT(s.n, 7);
	for (size_t i = 0; i < s.n && i < 7; i++) {
		char *l = shd_sync_event(&s.c[i], t), res[64];
		int64_t tt = 0;

		if (want[i])
			EXPECT_EQ_STR(l, want[i]);
		EXPECT_EQ_INT(drift_reads(l, &tt, res, sizeof(res)), 0);
		EXPECT_EQ_INT(tt, t);
		EXPECT_EQ_STR(res, s.c[i].resource);
		free(l);
	}
	if (s.n == 7) {
		char *l = shd_sync_event(&s.c[6], t);

		EXPECT(!strncmp(l, "2026-01-01T00:00:00Z,db,,{\"memory\"", 33));
		EXPECT(l[strlen(l) - 2] == ',');	/* to: absent */
		free(l);
	}
	shd_sync_release(&s);

	/* odd names and keys are escaped, long values stand in: any line
	 * is one line under 4096 bytes that shd-drift reads */
	json_t *a = parse("{\"resources\": {\"r,1\": {\"metrics\": {\"a.b,\\nc\": "
			  "{\"target\": 0.5}}}}}");
	json_t *b = json_deep_copy(a), *big = json_array();
	json_t *m = json_object_get(json_object_get(json_object_get(
		json_object_get(b, "resources"), "r,1"), "metrics"), "a.b,\nc");
	char name[3000];

	for (int i = 0; i < 500; i++)
		json_array_append_new(big, json_string("0123456789"));
	json_object_set_new(m, "target", big);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	json_object_set_new(json_object_get(b, "resources"), name,
			    json_object());
	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, a, b), 0);
	EXPECT_EQ_INT(s.n, 2);
	if (s.n == 2) {
		char *l = shd_sync_event(&s.c[0], t), res[64];
		char *h = shd_sync_line(&s.c[0]);
		int64_t tt;

		EXPECT_EQ_STR(l, "2026-01-01T00:00:00Z,r\\u002c1,metrics."
			      "a\\u002eb\\u002c\\u000ac.target,0.5,"
			      "\"(6501 bytes)\"\n");
		EXPECT(drift_reads(l, &tt, res, sizeof(res)) == 0);
		EXPECT(!strncmp(h, "r\\u002c1.metrics.a\\u002eb\\u002c\\u000ac"
				".target: 0.5 -> [\"0123456789\"", 50));
		free(l);
		free(h);
		l = shd_sync_event(&s.c[1], t);
		EXPECT(l && strlen(l) < 4096 && drift_reads(l, &tt, res,
							    sizeof(res)) == 0);
		free(l);
	}
	shd_sync_release(&s);
	json_decref(a);
	json_decref(b);
	json_decref(o);
	json_decref(n);
}

static void test_events_append(void)
{
	json_t *o = parse(prod0), *n = parse(prod1);
	const char *p = tpath("events");
	struct shd_sync s, none;
	char err[256] = "", buf[8192];
	size_t nl = 0;
	struct stat st;
	FILE *f;

	shd_sync_init(&s);
	shd_sync_init(&none);
	EXPECT_EQ_INT(shd_sync_diff(&s, o, n), 0);
	/* nothing to append: no file made */
	EXPECT_EQ_INT(shd_sync_events_append(p, &none, 0, err, sizeof(err)), 0);
	EXPECT(stat(p, &st) != 0);
	EXPECT_EQ_INT(shd_sync_events_append(p, &s, 1767225600000LL, err,
					     sizeof(err)), 0);
	EXPECT_EQ_INT(shd_sync_events_append(p, &s, 1767229200000LL, err,
					     sizeof(err)), 0);
	EXPECT(stat(p, &st) == 0 && S_ISREG(st.st_mode));
	if ((f = fopen(p, "r"))) {
		while (fgets(buf, sizeof(buf), f)) {
			int64_t t;
			char res[64];

			EXPECT_EQ_INT(drift_reads(buf, &t, res, sizeof(res)),
				      0);
			EXPECT_EQ_INT(t, nl < 7 ? 1767225600000LL
						: 1767229200000LL);
			nl++;
		}
		fclose(f);
	}
	EXPECT_EQ_INT(nl, 14);
	/* cannot be opened: the message names it */
	EXPECT_EQ_INT(shd_sync_events_append(tmpdir, &s, 0, err, sizeof(err)),
		      SHD_EIO);
	EXPECT(strstr(err, tmpdir) != NULL);
	shd_sync_release(&s);
	json_decref(o);
	json_decref(n);
}

static void test_check(void)
{
	json_t *o = parse(prod0), *sh = shd_config_shadow(o, 0.25, sha0);
	char err[512] = "";

	EXPECT_EQ_INT(shd_sync_check(sh, "s.json (as synced)", err,
				     sizeof(err)), 0);
	/* a hand edit that clashes: min above max */
	json_object_set_new(json_object_get(json_object_get(json_object_get(
		sh, "resources"), "web"), "replicas"), "min", json_integer(9));
	EXPECT_EQ_INT(shd_sync_check(sh, "s.json (as synced)", err,
				     sizeof(err)), SHD_EFORMAT);
	EXPECT_EQ_STR(err, "s.json (as synced): $.resources.web.replicas: min "
		      "9 is above max 3");
	json_decref(sh);
	json_decref(o);
}

/* A shadow and its record as shd-shadow --config-out writes them, read
 * back: the record's digests are the files'. */
static void test_record(void)
{
	json_t *o = parse(prod0), *n = parse(prod1), *rec = NULL;
	json_t *sh = shd_config_shadow(o, 0.25, sha0);
	const char *p = tpath("shadow.json");
	char err[512] = "", psha[65], ssha[65], buf[1 << 14];
	struct shd_config c;
	struct shd_sync s;
	FILE *f;
	size_t len = 0;

	EXPECT_EQ_INT(shd_shadow_write(p, sh, o, sha0, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_sync_record_load(p, &rec, psha, ssha, err,
					   sizeof(err)), 0);
	EXPECT_EQ_STR(psha, sha0);
	EXPECT(rec && json_equal(rec, o));
	if ((f = fopen(p, "rb"))) {
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	{
		char h[65];

		shd_sha256_hex(buf, len, h);
		EXPECT_EQ_STR(ssha, h);
	}
	EXPECT_EQ_INT(shd_config_load(&c, p, err, sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(c.shadow_fraction, 0.25);
	EXPECT_EQ_STR(c.shadow_of, sha0);
	EXPECT_EQ_STR(c.sha256, ssha);
	shd_config_release(&c);

	/* synced from the record, written, read again: in sync */
	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, rec, n), 0);
	EXPECT_EQ_INT(shd_sync_apply(&s, sh, n, 0.25, sha1, err, sizeof(err)),
		      0);
	EXPECT_EQ_INT(shd_shadow_write(p, sh, n, sha1, err, sizeof(err)), 0);
	shd_sync_release(&s);
	json_decref(rec);
	rec = NULL;
	EXPECT_EQ_INT(shd_sync_record_load(p, &rec, psha, ssha, err,
					   sizeof(err)), 0);
	EXPECT(rec && json_equal(rec, n));
	EXPECT_EQ_STR(psha, sha1);
	EXPECT_EQ_INT(shd_config_load(&c, p, err, sizeof(err)), 0);
	EXPECT_EQ_STR(c.shadow_of, sha1);
	EXPECT(shd_config_find(&c, "cache") && !shd_config_find(&c, "db"));
	shd_config_release(&c);
	shd_sync_init(&s);
	EXPECT_EQ_INT(shd_sync_diff(&s, rec, n), 0);
	EXPECT_EQ_INT(s.n, 0);
	shd_sync_release(&s);

	json_decref(rec);
	json_decref(sh);
	json_decref(o);
	json_decref(n);
}

/*
 * Relative executor paths made absolute against production's directory,
 * so that the shadow's configuration, written elsewhere, loads with the
 * same paths as production's.
 */
static void test_absolute(void)
{
	static const char text[] =
"{ \"shd_config\": 1, \"resources\": {\n"
"  \"web\": { \"replicas\": { \"current\": 4 }, \"executor\": { \"type\": \"kubectl\",\n"
"    \"manifest\": \"gitops/web.yaml\", \"workload\": \"web\" } },\n"
"  \"web2\": { \"replicas\": { \"current\": 4 }, \"executor\": { \"type\": \"kubectl\",\n"
"    \"manifest\": \"/srv/gitops/web2.yaml\", \"workload\": \"web2\" } },\n"
"  \"db\": { \"cpu\": { \"current\": 2 }, \"executor\": { \"type\": \"terraform\", \"dir\": \"tf\" } },\n"
"  \"batch\": { \"cpu\": { \"current\": 1 }, \"executor\": { \"type\": \"cgroup\", \"path\": \"shd/batch\" } },\n"
"  \"idle\": { \"replicas\": { \"current\": 3 }, \"executor\": { \"type\": \"command\",\n"
"    \"argv\": [\"./scale.sh\", \"{to}\"] } } } }\n";
	char other[] = "/tmp/shd-sync-other.XXXXXX", spath[64], want[4200];
	char err[1024], *real = realpath(tmpdir, NULL), *cwd = realpath(".", NULL);
	struct shd_config pc, sc;
	json_t *doc = parse(text), *again, *sh = NULL, *here = parse(text);
	int fd;

	if (!real || !cwd || !doc || !here || !mkdtemp(other)) {
		FAIL_AT("setup");
		goto out;
	}
	fd = open(tpath("prod.json"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	EXPECT(fd >= 0 && write(fd, text, strlen(text)) ==
	       (ssize_t)strlen(text));
	close(fd);
	EXPECT_EQ_INT(shd_config_load(&pc, tpath("prod.json"), err,
				      sizeof(err)), 0);

	EXPECT_EQ_INT(shd_config_absolute(doc, tpath("prod.json")), 0);
	snprintf(want, sizeof(want), "%s/gitops/web.yaml", real);
	EXPECT_EQ_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(json_object_get(doc, "resources"), "web"),
		"executor"), "manifest")), want);
	snprintf(want, sizeof(want), "%s/tf", real);
	EXPECT_EQ_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(json_object_get(doc, "resources"), "db"),
		"executor"), "dir")), want);
	/* absolute paths, cgroups and programs as they were */
	EXPECT_EQ_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(json_object_get(doc, "resources"), "web2"),
		"executor"), "manifest")), "/srv/gitops/web2.yaml");
	EXPECT_EQ_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(json_object_get(doc, "resources"), "batch"),
		"executor"), "path")), "shd/batch");
	EXPECT_EQ_STR(json_string_value(json_array_get(json_object_get(
		json_object_get(json_object_get(json_object_get(doc,
		"resources"), "idle"), "executor"), "argv"), 0)),
		"./scale.sh");
	/* twice is once */
	again = json_deep_copy(doc);
	EXPECT_EQ_INT(shd_config_absolute(again, "/no/such/dir/x.json"), 0);
	EXPECT(json_equal(again, doc));
	json_decref(again);

	/* the shadow, written elsewhere, loads with production's paths */
	sh = shd_config_shadow(doc, 0.5, pc.sha256);
	EXPECT(sh != NULL);
	snprintf(spath, sizeof(spath), "%s/shadow.json", other);
	EXPECT_EQ_INT(shd_shadow_write(spath, sh, doc, pc.sha256, err,
				       sizeof(err)), 0);
	EXPECT_EQ_INT(shd_config_load(&sc, spath, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/gitops/web.yaml", real);
	EXPECT_EQ_STR(sc.res[0].exec.manifest, want);
	snprintf(want, sizeof(want), "%s/tf", real);
	EXPECT_EQ_STR(sc.res[2].exec.dir, want);
	snprintf(want, sizeof(want), "%s/gitops/web.yaml", tmpdir);
	EXPECT_EQ_STR(pc.res[0].exec.manifest, want);
	shd_config_release(&sc);
	shd_config_release(&pc);
	unlink(spath);
	snprintf(spath, sizeof(spath), "%s/shadow.json.sync", other);
	unlink(spath);
	rmdir(other);

	/* a name without a directory: the working directory's */
	EXPECT_EQ_INT(shd_config_absolute(here, "prod.json"), 0);
	snprintf(want, sizeof(want), "%s/gitops/web.yaml", cwd);
	EXPECT_EQ_STR(json_string_value(json_object_get(json_object_get(
		json_object_get(json_object_get(here, "resources"), "web"),
		"executor"), "manifest")), want);
	json_decref(here);
	/* a directory that is not there */
	here = parse(text);
	EXPECT_EQ_INT(shd_config_absolute(here, "/no/such/dir/x.json"),
		      SHD_EIO);
	EXPECT_EQ_INT(errno, ENOENT);
out:
	json_decref(doc);
	json_decref(here);
	json_decref(sh);
	free(real);
	free(cwd);
}

/* One run at a time: the lock beside the shadow. */
static void test_lock(void)
{
	const char *shadow = tpath("locked.json");
	char err[512];
	int a = -2, b = -2, c = -2;

	/* shared, no lock file yet: nothing to wait for, nothing made */
	EXPECT_EQ_INT(shd_sync_lock(shadow, 0, 0, &a, err, sizeof(err)), 0);
	EXPECT_EQ_INT(a, -1);
	EXPECT(access(tpath("locked.json.lock"), F_OK) != 0);
	/* exclusive: made, held */
	EXPECT_EQ_INT(shd_sync_lock(shadow, 1, 0, &a, err, sizeof(err)), 0);
	EXPECT(a >= 0);
	EXPECT(access(tpath("locked.json.lock"), F_OK) == 0);
	/* a second one gives up after WAIT, saying why */
	EXPECT_EQ_INT(shd_sync_lock(shadow, 1, 0, &b, err, sizeof(err)),
		      SHD_EIO);
	EXPECT_EQ_INT(errno, EWOULDBLOCK);
	EXPECT_EQ_INT(b, -1);
	EXPECT(strstr(err, "locked.json.lock: held by another process"));
	EXPECT_EQ_INT(shd_sync_lock(shadow, 0, 60, &b, err, sizeof(err)),
		      SHD_EIO);
	EXPECT_EQ_INT(errno, EWOULDBLOCK);
	close(a);
	/* released: shared locks together, then exclusive again */
	EXPECT_EQ_INT(shd_sync_lock(shadow, 0, 0, &b, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_sync_lock(shadow, 0, 0, &c, err, sizeof(err)), 0);
	EXPECT(b >= 0 && c >= 0);
	EXPECT_EQ_INT(shd_sync_lock(shadow, 1, 0, &a, err, sizeof(err)),
		      SHD_EIO);
	close(b);
	close(c);
	EXPECT_EQ_INT(shd_sync_lock(shadow, 1, -1, &a, err, sizeof(err)), 0);
	close(a);
	/* a directory that is not there */
	EXPECT_EQ_INT(shd_sync_lock("/no/such/dir/x.json", 1, 0, &a, err,
				    sizeof(err)), SHD_EIO);
	EXPECT_EQ_INT(errno, ENOENT);
	EXPECT(strstr(err, "/no/such/dir/x.json.lock: No such file"));
}

static const struct harness_case cases[] = {
	TEST(test_diff),
	TEST(test_scale),
	TEST(test_apply),
	TEST(test_apply_cases),
	TEST(test_hand_edits),
	TEST(test_event_lines),
	TEST(test_events_append),
	TEST(test_check),
	TEST(test_record),
	TEST(test_absolute),
	TEST(test_lock),
};

static void cleanup(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.')
			unlink(tpath(e->d_name));
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/shd-sync.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	return RUN_TESTS(cases);
}
