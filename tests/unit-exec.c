/*
 * unit-exec.c - the executors (lib/exec*.c, lib/run.c): shd_run's exit
 * statuses, capture, "not found" and timeouts (no zombie left); kubectl
 * manifest patches of a Deployment (replicas, cpu with requests lowered,
 * memory; other documents byte for byte; mode kept; a repeat leaves the
 * file alone; dry runs) and of a StatefulSet of two containers (only the
 * changed lines differ; a Guaranteed container's requests follow its
 * limits; back to the original bytes), the text edit on other layouts
 * and kubectl's YAML where it gives up, a document kubectl does not
 * validate left alone, skipped without kubectl; terraform tfvars as
 * numbers and quantity strings, and the configuration's two forms of a
 * variable; cgroup v2 and v1 files under a fake root; the command
 * template; and bad names and values refused before anything runs.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shd.h"
#include "exec.h"

/* ------------------------------------------------------------ fixtures */

static char *mk_tmp(void)
{
	char *d = strdup("/tmp/shd-unit-exec.XXXXXX");

	if (!d || !mkdtemp(d)) {
		FAIL_AT("mkdtemp: %s", strerror(errno));
		free(d);
		return NULL;
	}
	return d;
}

static void rm_tmp(char *d)
{
	char err[256];
	char *argv[] = { "rm", "-rf", d, NULL };

	if (d && shd_run(argv, 10, NULL, err, sizeof(err)) != 0)
		FAIL_AT("rm -rf %s: %s", d, err);
	free(d);
}

/* DIR/NAME, in a static buffer of its own per slot */
static const char *at(const char *dir, const char *name, int slot)
{
	static char buf[4][4096];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", dir, name);
	return buf[slot];
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || shd_write_all(fd, text, strlen(text)) < 0)
		FAIL_AT("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

/* The whole of PATH, malloc'd ("" when it cannot be read) */
static char *get(const char *path)
{
	char *b = calloc(1, 1 << 16);
	int fd = open(path, O_RDONLY);
	long k = fd < 0 ? -1 : shd_read_full(fd, b, (1 << 16) - 1);

	if (k < 0)
		k = 0;
	b[k] = '\0';
	if (fd >= 0)
		close(fd);
	return b;
}

static void mkdirs(const char *path)
{
	char *argv[] = { "mkdir", "-p", (char *)path, NULL };
	char err[256];

	if (shd_run(argv, 10, NULL, err, sizeof(err)) != 0)
		FAIL_AT("mkdir -p %s: %s", path, err);
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Descriptors open now: counted, to catch a leak */
static int nfds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* No child of ours is left, not even a zombie, and no descriptor */
static void expect_clean(int fds)
{
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		FAIL_AT("a child process is left over");
	EXPECT_EQ_INT(nfds(), fds);
}

static struct shd_resource_conf res(const char *name, int type)
{
	struct shd_resource_conf r;

	memset(&r, 0, sizeof(r));
	r.name = (char *)name;
	r.exec.type = type;
	r.exec.timeout = 20;
	return r;
}

static struct shd_change change(const char *name, int knob, double from,
				double to)
{
	struct shd_change c = { name, knob, from, to, "p1a2b3", "warning" };

	return c;
}

/* ------------------------------------------------------------- shd_run */

static void test_run_status(void)
{
	int fds = nfds();
	char err[256] = "x";
	char *t[] = { "true", NULL }, *f[] = { "false", NULL };
	char *s[] = { "sh", "-c", "echo oops >&2; echo more >&2; exit 3",
		      NULL };

	EXPECT_EQ_INT(shd_run(t, 5, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_STR(err, "");
	EXPECT_EQ_INT(shd_run(f, 5, NULL, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_STR(err, "false: exit status 1");
	EXPECT_EQ_INT(shd_run(s, 5, NULL, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_STR(err, "sh: exit status 3: oops");
	expect_clean(fds);
}

static void test_run_not_found(void)
{
	int fds = nfds();
	char err[256];
	char *argv[] = { "shd-no-such-program", "x", NULL };
	char *abs[] = { "/nonexistent/prog", NULL };

	EXPECT_EQ_INT(shd_run(argv, 5, NULL, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_STR(err, "shd-no-such-program: not found");
	EXPECT_EQ_INT(shd_run(abs, 5, NULL, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_STR(err, "/nonexistent/prog: not found");
	expect_clean(fds);
}

static void test_run_capture(void)
{
	int fds = nfds();
	char err[256], *out = NULL;
	char *argv[] = { "printf", "a\\nb %s", "c", NULL };
	char *big[] = { "seq", "1", "200000", NULL };
	char *in[] = { "cat", NULL };

	EXPECT_EQ_INT(shd_run(argv, 5, &out, err, sizeof(err)), 0);
	EXPECT_EQ_STR(out, "a\nb c");
	free(out);
	/* more than a pipe holds: both pipes must be drained as we go */
	EXPECT_EQ_INT(shd_run(big, 5, &out, err, sizeof(err)), 0);
	EXPECT_EQ_INT(out ? strlen(out) : 0, 1288895);
	free(out);
	/* stdin is /dev/null: cat ends at once */
	EXPECT_EQ_INT(shd_run(in, 5, &out, err, sizeof(err)), 0);
	EXPECT_EQ_STR(out, "");
	free(out);
	expect_clean(fds);
}

static void test_run_timeout(void)
{
	int fds = nfds();
	char err[256];
	char *argv[] = { "sleep", "5", NULL };
	/* the grandchild holds the pipes too: the group is killed */
	char *sh[] = { "sh", "-c", "sleep 5; echo done", NULL };
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ_INT(shd_run(argv, 0.2, NULL, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_STR(err, "sleep: killed after 0.2 s");
	EXPECT(elapsed(&t0) < 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ_INT(shd_run(sh, 0.2, NULL, err, sizeof(err)), SHD_EIO);
	EXPECT_EQ_STR(err, "sh: killed after 0.2 s");
	EXPECT(elapsed(&t0) < 2);
	expect_clean(fds);
}

/* ------------------------------------------------------------- kubectl */

static int have_kubectl(void)
{
	char *argv[] = { "kubectl", "version", "--client", NULL };
	char err[256];

	if (shd_run(argv, 30, NULL, err, sizeof(err)) == 0)
		return 1;
	printf("# skip: no kubectl (%s)\n", err);
	return 0;
}

static const char deploy[] =
	"# the web tier\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: web\n"
	"spec:\n"
	"  replicas: 2\n"
	"  selector:\n"
	"    matchLabels: {app: web}\n"
	"  template:\n"
	"    metadata:\n"
	"      labels: {app: web}\n"
	"    spec:\n"
	"      containers:\n"
	"      - name: web\n"
	"        image: nginx:1.25\n"
	"        resources:\n"
	"          requests: {cpu: \"1\", memory: 256Mi}\n"
	"          limits: {cpu: \"2\", memory: 1Gi}\n"
	"      - name: side\n"
	"        image: busybox\n";

static const char service[] =
	"# a header comment\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata:\n"
	"  name: web   # same name, other kind\n"
	"spec:\n"
	"  ports: [{port: 80}]\n";

static const char tail_docs[] =
	"--- # the config\n"
	"apiVersion: v1\n"
	"kind: ConfigMap\n"
	"metadata: {name: web-config}\n"
	"data:\n"
	"  x: |\n"
	"    keep   this  spacing\n"
	"---\n"
	"# nothing but a comment\n";

static struct shd_resource_conf kube_res(const char *manifest)
{
	struct shd_resource_conf r = res("web", SHD_EXEC_KUBECTL);

	r.exec.manifest = (char *)manifest;
	r.exec.kind = "deployment";	/* the file says "Deployment" */
	r.exec.workload = "web";
	return r;
}

/* The first line of kubectl's jsonpath Q on PATH's Deployment */
static char *kube_get(const char *path, const char *q)
{
	char *jp = NULL, *out = NULL, err[256];

	if (asprintf(&jp, "jsonpath=%s", q) < 0)
		return NULL;
	char *argv[] = { "kubectl", "patch", "--local", "-f", (char *)path,
			 "--type", "merge", "-p", "{}", "-o", jp, NULL };

	if (shd_run(argv, 30, &out, err, sizeof(err)) != 0)
		FAIL_AT("kubectl: %s", err);
	free(jp);
	return out;
}

#define WEB_CT "{.spec.template.spec.containers[?(@.name==\"web\")]"

static void test_kubectl_replicas(void)
{
	char err[512] = "", *before, *after;
	char *d = mk_tmp();
	const char *path = at(d, "web.yaml", 0);
	struct shd_resource_conf r = kube_res(path);
	struct shd_change c = change("web", SHD_KNOB_REPLICAS, 2, 5);
	struct stat st;
	double v = 0;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	put(path, deploy, 0640);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_STR(err, "");
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 5);
	EXPECT(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	before = get(path);
	/* the leading comment stays; the rest is kubectl's YAML */
	EXPECT(strncmp(before, "# the web tier\napiVersion", 25) == 0);
	/* again: already there, the file is not rewritten */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	after = get(path);
	EXPECT_EQ_STR(after, before);
	free(before);
	free(after);
	/* the other containers are left as they were */
	char *names = kube_get(path, "{.spec.template.spec.containers[*]"
				     ".name}");

	EXPECT_EQ_STR(names, "web side");
	free(names);
	rm_tmp(d);
}

static void test_kubectl_cpu_memory(void)
{
	char err[512] = "", *s;
	char *d = mk_tmp();
	const char *path = at(d, "web.yaml", 0);
	struct shd_resource_conf r = kube_res(path);
	struct shd_change c = change("web", SHD_KNOB_CPU, 2, 0.75);
	double v = 0;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	put(path, deploy, 0644);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_STR(err, "");
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 0.75);
	/* the request of 1 was over the new limit: lowered to it */
	s = kube_get(path, WEB_CT ".resources.limits.cpu}/"
			   WEB_CT ".resources.requests.cpu}");
	EXPECT_EQ_STR(s, "750m/750m");
	free(s);
	/* memory: 1Gi -> 768Mi, over the request of 256Mi, kept */
	c = change("web", SHD_KNOB_MEMORY, 1 << 30, 768.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 768.0 * 1048576);
	s = kube_get(path, WEB_CT ".resources.limits.memory}/"
			   WEB_CT ".resources.requests.memory}");
	EXPECT_EQ_STR(s, "768Mi/256Mi");
	free(s);
	/* container named apart from the resource */
	r.exec.container = "side";
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT(isinf(v));	/* no limit */
	r.exec.container = "nope";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "no container 'nope'") != NULL);
	rm_tmp(d);
}

static void test_kubectl_multidoc(void)
{
	int fds = nfds();
	char err[512] = "", *text = NULL, *got, *log = NULL;
	char *d = mk_tmp();
	const char *path = at(d, "all.yaml", 0);
	struct shd_resource_conf r = kube_res(path);
	struct shd_change c = change("web", SHD_KNOB_REPLICAS, 2, 7);
	size_t loglen = 0;
	double v;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	if (asprintf(&text, "%s---\n%s%s", service, deploy, tail_docs) < 0)
		return;
	put(path, text, 0600);
	/* a dry run says what it would write and writes nothing */
	FILE *lf = open_memstream(&log, &loglen);
	struct shd_exec_opts o = { 1, lf };

	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	got = get(path);
	EXPECT_EQ_STR(got, text);
	free(got);
	EXPECT(log && strstr(log, "would write ") &&
	       strstr(log, ": Deployment/web spec.replicas 2 -> 7\n"));
	free(log);

	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_STR(err, "");
	got = get(path);
	/* the Service and its separator, byte for byte */
	EXPECT(strncmp(got, text, strlen(service) + 4) == 0);
	/* and everything from the next separator on */
	size_t gl = strlen(got), tl = strlen(tail_docs);

	EXPECT(gl > tl && strcmp(got + gl - tl, tail_docs) == 0);
	EXPECT(strstr(got, "replicas: 7\n") != NULL);
	free(got);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 7);
	free(text);
	rm_tmp(d);
	expect_clean(fds);
}

static void test_kubectl_not_there(void)
{
	int fds = nfds();
	char err[512] = "", *text;
	char *d = mk_tmp();
	const char *path = at(d, "two.yaml", 0);
	struct shd_resource_conf r = kube_res(path);
	struct shd_change c = change("web", SHD_KNOB_REPLICAS, 2, 3);
	double v;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	put(path, service, 0644);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "two.yaml: no deployment 'web' in it") != NULL);
	/* twice the same Deployment: which one? */
	if (asprintf(&text, "%s---\n%s", deploy, deploy) < 0)
		return;
	put(path, text, 0644);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "2 documents hold deployment 'web'") != NULL);
	free(text);
	/* one in a namespace of its own: the configured one decides */
	if (asprintf(&text, "%s---\napiVersion: apps/v1\nkind: Deployment\n"
		     "metadata:\n  name: web\n  namespace: other\nspec:\n"
		     "  replicas: 9\n", deploy) < 0)
		return;
	put(path, text, 0644);
	free(text);
	r.exec.namespace = "prod";
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 2);
	r.exec.namespace = NULL;
	/* not YAML at all: kubectl's message, and the line */
	put(path, "apiVersion: v1\n---\nkind: [Deployment, web\n", 0644);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "two.yaml: document at line 3: kubectl") != NULL);
	/* no file */
	r.exec.manifest = (char *)at(d, "none.yaml", 1);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EIO);
	EXPECT(strstr(err, "none.yaml': No such file") != NULL);
	rm_tmp(d);
	expect_clean(fds);
}

/* A StatefulSet of two containers between other documents */
static const char sts[] =
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: db}\n"
	"spec: {clusterIP: None}\n"
	"---\n"
	"# the database\n"
	"apiVersion: apps/v1\n"
	"kind: StatefulSet\n"
	"metadata:\n"
	"  name: db\n"
	"spec:\n"
	"  serviceName: db\n"
	"  replicas: 3   # three\n"
	"  template:\n"
	"    spec:\n"
	"      containers:\n"
	"      - name: postgres\n"
	"        image: postgres:16\n"
	"        resources:\n"
	"          requests: {cpu: 500m, memory: 1Gi}\n"
	"          limits: {cpu: \"2\", memory: 4Gi}\n"
	"      # requests equal to limits: Guaranteed QoS\n"
	"      - name: exporter\n"
	"        image: exporter\n"
	"        resources:\n"
	"          requests:\n"
	"            cpu: 200m\n"
	"            memory: 128Mi\n"
	"          limits:\n"
	"            cpu: 200m\n"
	"            memory: 128Mi\n"
	"---\n"
	"apiVersion: policy/v1\n"
	"kind: PodDisruptionBudget\n"
	"metadata: {name: db}\n"
	"spec: {minAvailable: 2}\n";

static struct shd_resource_conf sts_res(const char *manifest)
{
	struct shd_resource_conf r = kube_res(manifest);

	r.exec.kind = "statefulset";
	r.exec.workload = "db";
	r.exec.container = "exporter";
	return r;
}

/* TEXT with every FROM replaced by TO (malloc'd) */
static char *subst(const char *text, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *s, *o;

	for (p = text; (p = strstr(p, from)); p += fl)
		n++;
	s = o = malloc(strlen(text) + n * (tl + 1) + 1);
	for (p = text; *p;) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(o, to, tl);
			o += tl;
			p += fl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return s;
}

static void test_kubectl_statefulset(void)
{
	int fds = nfds();
	char err[512] = "", *got, *want, *w2, *log = NULL;
	char *d = mk_tmp();
	const char *path = at(d, "db.yaml", 0);
	struct shd_resource_conf r = sts_res(path);
	struct shd_change c = change("db", SHD_KNOB_REPLICAS, 3, 5);
	size_t len = 0;
	double v;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	put(path, sts, 0644);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 3);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 0.2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_STR(err, "");
	/* cpu up: the exporter's requests follow (Guaranteed stays so) */
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 0, lf };

	c = change("db", SHD_KNOB_CPU, 0.2, 1.2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_MEMORY, 128.0 * 1048576, 384.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	EXPECT(log && strstr(log, ": StatefulSet/db container exporter "
			     "limits.cpu 200m -> 1200m (requests too)\n") &&
	       strstr(log, "limits.memory 128Mi -> 384Mi (requests too)\n"));
	free(log);
	/* the changed values and nothing else, byte for byte */
	want = subst(sts, "replicas: 3", "replicas: 5");
	w2 = subst(want, "    cpu: 200m", "    cpu: 1200m");
	free(want);
	want = subst(w2, "    memory: 128Mi", "    memory: 384Mi");
	free(w2);
	got = get(path);
	EXPECT_EQ_STR(got, want);
	free(got);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 384.0 * 1048576);
	/* kubectl reads it: the exporter's requests, postgres untouched */
	got = kube_get(path, "{.spec.template.spec.containers[1].resources."
			     "requests.cpu}/{.spec.template.spec.containers[0]"
			     ".resources.requests.cpu}");
	EXPECT(got && strstr(got, "1200m/500m"));
	free(got);
	/* again: already there */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	got = get(path);
	EXPECT_EQ_STR(got, want);
	free(got);
	/* back: the original bytes */
	c = change("db", SHD_KNOB_MEMORY, 384.0 * 1048576, 128.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_CPU, 1.2, 0.2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_REPLICAS, 5, 3);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	got = get(path);
	EXPECT_EQ_STR(got, sts);
	free(got);
	free(want);
	/* the kind must match: it is no Deployment */
	r.exec.kind = "deployment";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "db.yaml: no deployment 'db' in it") != NULL);
	rm_tmp(d);
	expect_clean(fds);
}

/* Requests: above the new limit they come down; a Burstable container's
 * stay otherwise; none set stays none */
static void test_kubectl_requests(void)
{
	char err[512] = "", *s;
	char *d = mk_tmp();
	const char *path = at(d, "db.yaml", 0);
	struct shd_resource_conf r = sts_res(path);
	struct shd_change c;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	put(path, sts, 0644);
	r.exec.container = "postgres";
	/* Burstable: up, the request of 500m stays */
	c = change("db", SHD_KNOB_CPU, 2, 3);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT(strstr(s, "requests: {cpu: 500m, memory: 1Gi}\n"
			 "          limits: {cpu: \"3\", memory: 4Gi}\n"));
	free(s);
	/* down below it: the request comes down too */
	c = change("db", SHD_KNOB_CPU, 3, 0.25);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT(strstr(s, "requests: {cpu: 250m, memory: 1Gi}\n"
			 "          limits: {cpu: 250m, memory: 4Gi}\n"));
	free(s);
	/* memory's request is under its limit: still Burstable, cpu's
	 * request stays where it is when the limit goes up again */
	c = change("db", SHD_KNOB_CPU, 0.25, 1);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT(strstr(s, "requests: {cpu: 250m, memory: 1Gi}\n"
			 "          limits: {cpu: \"1\", memory: 4Gi}\n"));
	free(s);
	/* limits only (requests default to them): none are written */
	put(path, "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: "
		  "{name: db}\nspec:\n  template:\n    spec:\n      "
		  "containers:\n      - name: postgres\n        resources:\n"
		  "          limits: {cpu: 1, memory: 1Gi}\n", 0644);
	c = change("db", SHD_KNOB_MEMORY, 1 << 30, 2.0 * (1 << 30));
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT(strstr(s, "          limits: {cpu: 1, memory: 2Gi}\n"));
	EXPECT(!strstr(s, "requests"));
	free(s);
	rm_tmp(d);
}

/* The text edit on other layouts, and kubectl's YAML where it gives up */
static void test_kubectl_layouts(void)
{
	static const char block[] =
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  name: web   # the web tier\n"
		"spec:\n"
		"  template:\n"
		"    spec:\n"
		"        containers:\n"
		"          - name: \"web\"   # main\n"
		"            image: nginx\n"
		"            args:\n"
		"              - --port=80\n"
		"            # no resources yet\n"
		"\n"
		"          - name: side\n"
		"            image: busybox\n"
		"            resources: {}\n"
		"        volumes: []";	/* no newline at the end */
	char err[512] = "", *s, *log = NULL;
	char *d = mk_tmp();
	const char *path = at(d, "web.yaml", 0);
	struct shd_resource_conf r = kube_res(path);
	struct shd_change c = change("web", SHD_KNOB_CPU, INFINITY, 0.5);
	size_t len = 0;
	double v;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	put(path, block, 0644);
	/* no resources: added where the container's keys are */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	r.exec.container = "side";	/* "resources: {}" made a block */
	c = change("web", SHD_KNOB_MEMORY, INFINITY, 1 << 30);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("web", SHD_KNOB_REPLICAS, 1, 4);	/* none: 1 */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT_EQ_STR(s,
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  name: web   # the web tier\n"
		"spec:\n"
		"  template:\n"
		"    spec:\n"
		"        containers:\n"
		"          - name: \"web\"   # main\n"
		"            image: nginx\n"
		"            args:\n"
		"              - --port=80\n"
		"            resources:\n"
		"              limits:\n"
		"                cpu: 500m\n"
		"            # no resources yet\n"
		"\n"
		"          - name: side\n"
		"            image: busybox\n"
		"            resources:\n"
		"              limits:\n"
		"                memory: 1Gi\n"
		"        volumes: []\n"
		"  replicas: 4\n");
	free(s);
	/* an alias: the edit gives up, kubectl's YAML is written */
	put(path, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
		  "spec:\n  template:\n    spec:\n      containers:\n"
		  "      - name: web\n        resources: &r {limits: {cpu: 1}}\n"
		  "      - name: side\n        resources: *r\n", 0644);
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 0, lf };

	r.exec.container = "web";
	c = change("web", SHD_KNOB_CPU, 1, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	EXPECT(log && strstr(log, "limits.cpu 1 -> 2 (the document as kubectl "
			     "prints it)\n"));
	free(log);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 2);
	r.exec.container = "side";
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 1);
	rm_tmp(d);
}

/* A patched document kubectl does not validate is not written */
static void test_kubectl_validate(void)
{
	int fds = nfds();
	char err[512] = "", *bad, *got, *log = NULL;
	char *d = mk_tmp();
	const char *path = at(d, "db.yaml", 0);
	struct shd_resource_conf r = sts_res(path);
	struct shd_change c = change("db", SHD_KNOB_REPLICAS, 3, 5);
	size_t len = 0;

	if (!d || !have_kubectl()) {
		rm_tmp(d);
		return;
	}
	/* serviceName is a string: a list is YAML, not a StatefulSet */
	bad = subst(sts, "serviceName: db", "serviceName: [db]");
	put(path, bad, 0644);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "/db.yaml: document at line 6: the patched "
		      "document does not validate, the file is left alone: "
		      "kubectl: exit status 1: error: ") != NULL);
	/* kubectl's message names the manifest, not our temporary file */
	EXPECT(strstr(err, "shd-kubectl.") == NULL);
	got = get(path);
	EXPECT_EQ_STR(got, bad);
	free(got);
	/* a dry run checks as much */
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 1, lf };

	c = change("db", SHD_KNOB_CPU, 0.2, 1);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)),
		      SHD_EFORMAT);
	fclose(lf);
	EXPECT(log && !strstr(log, "would write"));
	free(log);
	free(bad);
	/* a bad quantity elsewhere: the same */
	bad = subst(sts, "memory: 4Gi", "memory: lots");
	put(path, bad, 0644);
	c = change("db", SHD_KNOB_CPU, 0.2, 1);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "does not validate") && strstr(err, "quantities"));
	got = get(path);
	EXPECT_EQ_STR(got, bad);
	free(got);
	free(bad);
	rm_tmp(d);
	expect_clean(fds);
}

static void test_kubectl_live_dry(void)
{
	char err[512] = "", *log = NULL;
	size_t len = 0;
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 1, lf };
	struct shd_resource_conf r = kube_res(NULL);
	struct shd_change c = change("web", SHD_KNOB_REPLICAS, 2, 5);

	r.exec.live = 1;
	r.exec.context = "prod-eu";
	r.exec.namespace = "shop";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	EXPECT_EQ_STR(log, "would run: kubectl --context prod-eu -n shop scale "
			   "deployment/web --replicas=5\n");
	free(log);
	double v;

	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), SHD_EINVAL);
}

/* ----------------------------------------------------------- terraform */

static void test_terraform(void)
{
	int fds = nfds();
	char err[512] = "", *s, *log = NULL;
	char *d = mk_tmp();
	struct shd_resource_conf r = res("db", SHD_EXEC_TERRAFORM);
	struct shd_change c = change("db", SHD_KNOB_REPLICAS, 2, 4);
	const char *path = at(d, "db.auto.tfvars.json", 0);
	size_t len = 0;
	double v;

	if (!d)
		return;
	r.exec.dir = d;
	r.exec.vars[SHD_KNOB_REPLICAS] = "db_replicas";
	r.exec.vars[SHD_KNOB_CPU] = "db_cpu";
	r.exec.vars[SHD_KNOB_MEMORY] = "db_memory";
	/* no file yet: cannot tell */
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), SHD_EINVAL);
	put(path, "{\"zone\": \"eu-1\", \"db_replicas\": 2, \"ratio\": 0.1}",
	    0640);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_CPU, 1, 0.75);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_MEMORY, 1, 768.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT_EQ_STR(s, "{\n"
			 "  \"db_cpu\": 0.75,\n"
			 "  \"db_memory\": 805306368,\n"
			 "  \"db_replicas\": 4,\n"
			 "  \"ratio\": 0.1,\n"
			 "  \"zone\": \"eu-1\"\n"
			 "}\n");
	free(s);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 0.75);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 805306368);
	/* storage has no variable */
	c = change("db", SHD_KNOB_STORAGE, 1, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "terraform variable for storage not configured");
	/* a dry run with apply: the command, and no change */
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 1, lf };

	r.exec.apply = 1;
	c = change("db", SHD_KNOB_REPLICAS, 4, 6);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	EXPECT(log && strstr(log, "db_replicas 4 -> 6\nwould run: "
			     "terraform -chdir=/tmp/shd-unit-exec.") &&
	       strstr(log, " apply -auto-approve -input=false -no-color\n"));
	free(log);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 4);
	/* not an object */
	put(path, "[1, 2]\n", 0644);
	r.exec.apply = 0;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EFORMAT);
	EXPECT(strstr(err, "db.auto.tfvars.json: not a JSON object") != NULL);
	put(path, "{\"db_replicas\": 2,", 0644);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), SHD_EFORMAT);
	rm_tmp(d);
	expect_clean(fds);
}

/* Variables as Kubernetes quantities ("format": "quantity") */
static void test_terraform_quantity(void)
{
	char err[512] = "", *s;
	char *d = mk_tmp();
	struct shd_resource_conf r = res("db", SHD_EXEC_TERRAFORM);
	struct shd_change c = change("db", SHD_KNOB_CPU, 1, 0.75);
	const char *path = at(d, "db.auto.tfvars.json", 0);
	double v;

	if (!d)
		return;
	r.exec.dir = d;
	r.exec.vars[SHD_KNOB_REPLICAS] = "db_replicas";
	r.exec.vars[SHD_KNOB_CPU] = "db_cpu";
	r.exec.vars[SHD_KNOB_MEMORY] = "db_memory";
	r.exec.vars[SHD_KNOB_STORAGE] = "db_disk";
	r.exec.var_format[SHD_KNOB_CPU] = SHD_VAR_QUANTITY;
	r.exec.var_format[SHD_KNOB_MEMORY] = SHD_VAR_QUANTITY;
	r.exec.var_format[SHD_KNOB_STORAGE] = SHD_VAR_QUANTITY;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_MEMORY, 1, 2.0 * (1 << 30));
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_STORAGE, 1, 1e9 + 1);	/* not Mi: bytes */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	c = change("db", SHD_KNOB_REPLICAS, 1, 3);	/* a number still */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT_EQ_STR(s, "{\n"
			 "  \"db_cpu\": \"750m\",\n"
			 "  \"db_disk\": \"1000000001\",\n"
			 "  \"db_memory\": \"2Gi\",\n"
			 "  \"db_replicas\": 3\n"
			 "}\n");
	free(s);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 0.75);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 2.0 * (1 << 30));
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_STORAGE, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 1e9 + 1);
	/* whole cores: "2", a string all the same */
	c = change("db", SHD_KNOB_CPU, 0.75, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(path);
	EXPECT(strstr(s, "\"db_cpu\": \"2\",\n") != NULL);
	free(s);
	/* either form reads, whatever the format now: a number for the
	 * quantity, a quantity string for the number */
	put(path, "{\"db_cpu\": 1.5, \"db_replicas\": \"4\", "
		  "\"db_memory\": \"512Mi\", \"db_disk\": \"lots\"}\n", 0644);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 1.5);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 4);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 512.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_STORAGE, &v, err,
				    sizeof(err)), SHD_EFORMAT);
	EXPECT(strstr(err, "db.auto.tfvars.json: 'db_disk' is not a number or "
		      "a quantity") != NULL);
	rm_tmp(d);
}

/* The configuration's two forms of a variable, and its errors by path */
static void test_terraform_config(void)
{
	static const struct { const char *vars, *err; } bad[] = {
		{ "{\"cpu\": {\"nam\": \"x\"}}", "$.resources.db.executor."
		  "variables.cpu: unknown key 'nam' (known: name, format)" },
		{ "{\"cpu\": {\"name\": \"x\", \"format\": \"string\"}}",
		  "$.resources.db.executor.variables.cpu.format: not "
		  "\"number\"" },
		{ "{\"cpu\": {\"format\": \"quantity\"}}", "$.resources.db."
		  "executor.variables.cpu.name: missing" },
		{ "{\"cpu\": {\"name\": \"a b\"}}", "$.resources.db.executor."
		  "variables.cpu.name: not a terraform variable name" },
		{ "{\"cpu\": 5}", "$.resources.db.executor.variables.cpu: not "
		  "a terraform variable name" },
		{ "{\"storage\": \"x\"}", "$.resources.db.executor.variables."
		  "storage: the resource has no storage knob" },
		{ "{\"cpuu\": \"x\"}", "$.resources.db.executor.variables: "
		  "unknown knob 'cpuu'" },
	};
	char *d = mk_tmp(), err[512], *text = NULL;
	const char *path = d ? at(d, "fleet.json", 0) : NULL;
	const struct shd_resource_conf *r;
	struct shd_config cf;

	if (!d)
		return;
	put(path, "{\"resources\": {\"db\": {\"replicas\": {\"current\": 1}, "
		  "\"cpu\": {\"current\": 1}, \"memory\": {\"current\": "
		  "\"1Gi\"}, \"executor\": {\"type\": \"terraform\", \"dir\": "
		  "\"tf\", \"variables\": {\"cpu\": \"db_cpu\", \"memory\": "
		  "{\"name\": \"db_memory\", \"format\": \"quantity\"}, "
		  "\"replicas\": {\"name\": \"n\", \"format\": \"number\"}}}}}}",
	    0644);
	EXPECT_EQ_INT(shd_config_load(&cf, path, err, sizeof(err)), 0);
	if ((r = shd_config_find(&cf, "db"))) {
		EXPECT_EQ_STR(r->exec.vars[SHD_KNOB_CPU], "db_cpu");
		EXPECT_EQ_INT(r->exec.var_format[SHD_KNOB_CPU],
			      SHD_VAR_NUMBER);
		EXPECT_EQ_STR(r->exec.vars[SHD_KNOB_MEMORY], "db_memory");
		EXPECT_EQ_INT(r->exec.var_format[SHD_KNOB_MEMORY],
			      SHD_VAR_QUANTITY);
		EXPECT_EQ_STR(r->exec.vars[SHD_KNOB_REPLICAS], "n");
		EXPECT_EQ_INT(r->exec.var_format[SHD_KNOB_REPLICAS],
			      SHD_VAR_NUMBER);
		shd_config_release(&cf);
	} else {
		FAIL_AT("%s", err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		free(text);
		if (asprintf(&text, "{\"resources\": {\"db\": {\"cpu\": "
			     "{\"current\": 1}, \"executor\": {\"type\": "
			     "\"terraform\", \"dir\": \"tf\", \"variables\": "
			     "%s}}}}", bad[i].vars) < 0)
			break;
		put(path, text, 0644);
		EXPECT_EQ_INT(shd_config_load(&cf, path, err, sizeof(err)),
			      SHD_EFORMAT);
		if (!strstr(err, bad[i].err))
			FAIL_AT("%s: '%s' lacks '%s'", bad[i].vars, err,
				bad[i].err);
	}
	free(text);
	rm_tmp(d);
}

/* -------------------------------------------------------------- cgroup */

static void test_cgroup_v2(void)
{
	char err[512] = "", *s;
	char *d = mk_tmp();
	struct shd_resource_conf r = res("batch", SHD_EXEC_CGROUP);
	struct shd_change c = change("batch", SHD_KNOB_CPU, INFINITY, 0.75);
	double v;

	if (!d)
		return;
	mkdirs(at(d, "shd.slice/batch", 0));
	put(at(d, "shd.slice/batch/cpu.max", 0), "max 100000\n", 0644);
	put(at(d, "shd.slice/batch/memory.max", 0), "max\n", 0644);
	r.exec.cgroot = d;
	r.exec.cgroup = "shd.slice/batch";
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT(isinf(v));
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(at(d, "shd.slice/batch/cpu.max", 0));
	EXPECT_EQ_STR(s, "75000 100000\n");
	free(s);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 0.75);
	c = change("batch", SHD_KNOB_MEMORY, INFINITY, 768.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(at(d, "shd.slice/batch/memory.max", 0));
	EXPECT_EQ_STR(s, "805306368\n");
	free(s);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 805306368);
	/* back to unlimited */
	c = change("batch", SHD_KNOB_MEMORY, 1, INFINITY);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(at(d, "shd.slice/batch/memory.max", 0));
	EXPECT_EQ_STR(s, "max\n");
	free(s);
	/* a leading '/' is the root's */
	r.exec.cgroup = "/shd.slice/batch";
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 0.75);
	/* what a cgroup has not */
	c = change("batch", SHD_KNOB_REPLICAS, 1, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	c = change("batch", SHD_KNOB_STORAGE, 1, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	rm_tmp(d);
}

static void test_cgroup_v1(void)
{
	int fds = nfds();
	char err[512] = "", *s, *log = NULL;
	char *d = mk_tmp();
	struct shd_resource_conf r = res("batch", SHD_EXEC_CGROUP);
	struct shd_change c = change("batch", SHD_KNOB_CPU, INFINITY, 1.5);
	size_t len = 0;
	double v;

	if (!d)
		return;
	mkdirs(at(d, "cpu/G", 0));
	mkdirs(at(d, "memory/G", 0));
	put(at(d, "cpu/G/cpu.cfs_quota_us", 0), "-1\n", 0644);
	put(at(d, "cpu/G/cpu.cfs_period_us", 0), "50000\n", 0644);
	put(at(d, "memory/G/memory.limit_in_bytes", 0),
	    "9223372036854771712\n", 0644);
	r.exec.cgroot = d;
	r.exec.cgroup = "G";
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT(isinf(v));
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT(isinf(v));
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	s = get(at(d, "cpu/G/cpu.cfs_quota_us", 0));
	EXPECT_EQ_STR(s, "75000\n");
	free(s);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err, sizeof(err)),
		      0);
	EXPECT_SAME_DOUBLE(v, 1.5);
	c = change("batch", SHD_KNOB_MEMORY, INFINITY, 512.0 * 1048576);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_MEMORY, &v, err,
				    sizeof(err)), 0);
	EXPECT_SAME_DOUBLE(v, 536870912);
	/* dry run: said, not done */
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 1, lf };

	c = change("batch", SHD_KNOB_CPU, 1.5, INFINITY);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	EXPECT(log && strstr(log, "would write ") &&
	       strstr(log, "/cpu/G/cpu.cfs_quota_us: 75000 -> -1\n"));
	free(log);
	s = get(at(d, "cpu/G/cpu.cfs_quota_us", 0));
	EXPECT_EQ_STR(s, "75000\n");
	free(s);
	/* no such cgroup */
	r.exec.cgroup = "H";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EIO);
	EXPECT(strstr(err, "cpu/H/cpu.cfs_quota_us': No such file") != NULL);
	rm_tmp(d);
	expect_clean(fds);
}

/* ------------------------------------------------------------- command */

static void test_command(void)
{
	char err[512] = "";
	char *d = mk_tmp(), *tmpl = NULL;
	struct shd_resource_conf r = res("web", SHD_EXEC_COMMAND);
	struct shd_change c = change("web", SHD_KNOB_CPU, 1, 0.75);
	double v;

	if (!d || asprintf(&tmpl, "%s/{resource}-{knob}-{from}-{to}{unit}-"
			   "{severity}-{plan}", d) < 0)
		return;
	char *argv[] = { "touch", tmpl };

	r.exec.argv = argv;
	r.exec.argc = 2;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT(access(at(d, "web-cpu-1-0.75cores-warning-p1a2b3", 0), F_OK)
	       == 0);
	c = change("web", SHD_KNOB_REPLICAS, 3, 5);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	EXPECT(access(at(d, "web-replicas-3-5-warning-p1a2b3", 0), F_OK)
	       == 0);
	/* a typo in a placeholder: nothing runs */
	char bad[4096];

	snprintf(bad, sizeof(bad), "%s/{reource}", d);
	argv[1] = bad;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "unknown placeholder '{reource}' in the command");
	EXPECT(access(at(d, "{reource}", 0), F_OK) != 0);
	/* other braces are literal */
	char *json[] = { "test", "{\"to\":{to}}", "=", "{\"to\":5}" };

	r.exec.argv = json;
	r.exec.argc = 4;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)), 0);
	/* a failing command: its status */
	json[3] = "{\"to\":6}";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EIO);
	EXPECT_EQ_STR(err, "test: exit status 1");
	/* a command cannot be read */
	EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_REPLICAS, &v, err,
				    sizeof(err)), SHD_EINVAL);
	free(tmpl);
	rm_tmp(d);
}

/* ------------------------------------------------------ names, values */

static void test_bad_names(void)
{
	char err[512] = "";
	char *d = mk_tmp(), *tmpl = NULL;
	struct shd_resource_conf r = res("web;rm -rf /", SHD_EXEC_COMMAND);
	struct shd_change c = change("web;rm -rf /", SHD_KNOB_REPLICAS, 1, 2);
	double v;

	if (!d || asprintf(&tmpl, "%s/ran", d) < 0)
		return;
	char *argv[] = { "touch", tmpl };

	r.exec.argv = argv;
	r.exec.argc = 2;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "invalid resource name 'web;rm -rf /'");
	r.name = "../x";
	c.resource = "../x";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	/* the config's name good, the plan's not */
	r.name = "web";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	c.resource = "web";
	c.plan = "x y";
	argv[1] = "{plan}";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "invalid plan id 'x y' for the command");
	argv[1] = tmpl;
	c.plan = "p1";
	/* values a knob cannot take */
	c.to = -1;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	c.to = NAN;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	c.to = 2.5;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "replicas value 2.5 not a whole number");
	c.to = INFINITY;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	c.knob = SHD_NKNOB;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT(access(tmpl, F_OK) != 0);	/* nothing ran */

	/* cgroup paths, part by part */
	r = res("batch", SHD_EXEC_CGROUP);
	r.exec.cgroot = d;
	c = change("batch", SHD_KNOB_CPU, 1, 2);
	const char *cg[] = { "a/../b", "..", "a//b", "a/", "a b", "-x/y" };

	for (size_t i = 0; i < sizeof(cg) / sizeof(cg[0]); i++) {
		r.exec.cgroup = (char *)cg[i];
		EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
			      SHD_EINVAL);
		EXPECT(strstr(err, "invalid cgroup path") != NULL);
		EXPECT_EQ_INT(shd_exec_read(&r, SHD_KNOB_CPU, &v, err,
					    sizeof(err)), SHD_EINVAL);
	}
	/* kubectl names */
	r = kube_res(at(d, "web.yaml", 0));
	c = change("web", SHD_KNOB_REPLICAS, 1, 2);
	r.exec.container = "x y";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "invalid container name 'x y'");
	r.exec.container = NULL;
	r.exec.namespace = "--all";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	r.exec.namespace = NULL;
	r.exec.kind = "deploy/x";
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	r.exec.kind = "deployment";
	c.to = INFINITY;	/* only a cgroup has "max" */
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	/* terraform variable */
	r = res("db", SHD_EXEC_TERRAFORM);
	r.exec.dir = d;
	r.exec.vars[SHD_KNOB_REPLICAS] = "a b";
	c = change("db", SHD_KNOB_REPLICAS, 1, 2);
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, NULL, err, sizeof(err)),
		      SHD_EINVAL);
	EXPECT_EQ_STR(err, "invalid terraform variable name 'a b'");
	EXPECT(access(at(d, "db.auto.tfvars.json", 0), F_OK) != 0);
	free(tmpl);
	rm_tmp(d);
}

static void test_quote(void)
{
	char *log = NULL;
	size_t len = 0;
	FILE *lf = open_memstream(&log, &len);
	struct shd_exec_opts o = { 1, lf };
	struct shd_resource_conf r = res("web", SHD_EXEC_COMMAND);
	struct shd_change c = change("web", SHD_KNOB_REPLICAS, 1, 2);
	char *argv[] = { "echo", "it's", "a b", "", "x=1,y:/z" };
	char err[256];

	r.exec.argv = argv;
	r.exec.argc = 5;
	EXPECT_EQ_INT(shd_exec_apply(&r, &c, &o, err, sizeof(err)), 0);
	fclose(lf);
	EXPECT_EQ_STR(log, "would run: echo 'it'\\''s' 'a b' '' x=1,y:/z\n");
	free(log);
}

static const struct harness_case cases[] = {
	TEST(test_run_status),
	TEST(test_run_not_found),
	TEST(test_run_capture),
	TEST(test_run_timeout),
	TEST(test_kubectl_replicas),
	TEST(test_kubectl_cpu_memory),
	TEST(test_kubectl_multidoc),
	TEST(test_kubectl_not_there),
	TEST(test_kubectl_statefulset),
	TEST(test_kubectl_requests),
	TEST(test_kubectl_layouts),
	TEST(test_kubectl_validate),
	TEST(test_kubectl_live_dry),
	TEST(test_terraform),
	TEST(test_terraform_quantity),
	TEST(test_terraform_config),
	TEST(test_cgroup_v2),
	TEST(test_cgroup_v1),
	TEST(test_command),
	TEST(test_bad_names),
	TEST(test_quote),
};

int main(void)
{
	return RUN_TESTS(cases);
}
