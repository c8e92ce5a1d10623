/*
 * shd-sync - mirror production's configuration changes to a shadow's: reads
 * production's configuration (new, and old from --old or the shadow's sync
 * record SHADOW.sync) and the shadow's, rewrites the shadow's with the same
 * changes scaled, and its record (lib/confscale.c), atomically; appends the
 * changes to an events file. The diff and its application are lib/sync.c's.
 * One run at a time on a shadow: the whole read-modify-write holds the
 * lock SHADOW.lock (shd_sync_lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "confscale.h"
#include "shd.h"
#include "sign.h"
#include "sync.h"

static void usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: shd-sync -p PRODUCTION -s SHADOW [options]\n"
"Mirror the changes of production's configuration to the shadow's: the\n"
"same keys changed, replicas and storage scaled by the shadow's fraction.\n"
"Production's configuration before is --old, else the one the shadow was\n"
"last synced from (SHADOW.sync).\n"
"\n"
"  -p, --production FILE  production's configuration now (shd-config(5))\n"
"  -s, --shadow FILE      the shadow's configuration (as shd-shadow writes\n"
"                         it), rewritten with its record FILE.sync\n"
"      --old FILE         production's configuration before (default: the\n"
"                         one in SHADOW.sync)\n"
"      --events FILE      append each change as an event line\n"
"                         'TIME,RESOURCE,KEY,FROM,TO' (shd-drift reads them)\n"
"      --now TIME         the events' time (default now)\n"
"      --wait DUR         wait at most DUR for another run on the same\n"
"                         shadow to finish (default 60s; 0: not at all)\n"
"  -f, --force            sync a shadow edited by hand since the last sync\n"
"                         (its edits are kept where production did not\n"
"                         change the same key)\n"
"  -n, --dry-run          print the changes on standard output, write nothing\n"
"  -q, --quiet            no changes or summary on standard error\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Exit status: 0 in sync (nothing to mirror), 1 changes mirrored (or, with\n"
"--dry-run, to mirror), 2 usage, 3 bad input (a configuration, the record,\n"
"a shadow edited by hand without --force), 4 system error (or another run\n"
"held the shadow's lock longer than --wait).\n");
	exit(status);
}

enum { OPT_OLD = 256, OPT_EVENTS, OPT_NOW, OPT_WAIT };

static const struct option longopts[] = {
	{ "production", required_argument, NULL, 'p' },
	{ "shadow", required_argument, NULL, 's' },
	{ "old", required_argument, NULL, OPT_OLD },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "force", no_argument, NULL, 'f' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/*
 * Loads the configuration at PATH: checked by shd_config_load (*CONF keeps
 * the checked form), its document in *DOC; the digest is of the bytes
 * parsed (the file read once for both). 0, or the exit status after a
 * message naming the file (and the JSON path).
 */
static int load(const char *path, struct shd_config *conf, json_t **doc)
{
	char err[1024], sha[65];
	json_error_t je;
	size_t len = 0, cap = 1 << 16;
	char *buf = NULL, *nb;
	int fd, rc;
	long r;

	if ((rc = shd_config_load(conf, path, err, sizeof(err)))) {
		int st = rc == SHD_EIO && (errno == ENOENT || errno == EACCES ||
					   errno == EISDIR) ? EXIT_BADINPUT
			 : cli_status(rc);

		cli_warn("%s", err);
		return st;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_warn("cannot open '%s':", path);
		return EXIT_SYSTEM;
	}
	for (r = 1; r > 0 && (len == cap || !buf); len += (size_t)r) {
		if (!(nb = realloc(buf, cap *= 2))) {
			free(buf);
			close(fd);
			cli_warn("out of memory");
			return EXIT_SYSTEM;
		}
		buf = nb;
		r = shd_read_full(fd, buf + len, cap - len);
		if (r < 0) {
			cli_warn("cannot read '%s':", path);
			free(buf);
			close(fd);
			return EXIT_SYSTEM;
		}
	}
	close(fd);
	shd_sha256_hex(buf, len, sha);
	*doc = NULL;
	if (shd_digest_equal(sha, conf->sha256))
		*doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	else
		snprintf(je.text, sizeof(je.text), "changed while being "
			 "read; try again");
	free(buf);
	if (!*doc) {	/* shd_config_load took it: out of memory */
		cli_warn("%s: %s", path, je.text);
		return EXIT_SYSTEM;
	}
	return 0;
}

/*
 * The relative executor paths of DOC made absolute against the directory
 * of PATH (shd_config_absolute). 0, or the exit status after a message.
 */
static int absolute(json_t *doc, const char *path)
{
	int rc = shd_config_absolute(doc, path);

	if (rc == SHD_ENOMEM)
		cli_warn("out of memory");
	else if (rc)
		cli_warn("cannot resolve the directory of '%s':", path);
	return rc ? EXIT_SYSTEM : 0;
}

/* Same document, or both absent. */
static int same(json_t *a, json_t *b)
{
	return a == b || (a && b && json_equal(a, b));
}

/* Prints each change on FP (and the overridden hand edits on stderr). */
static void show(const struct shd_sync *s, FILE *fp, int notes)
{
	for (size_t i = 0; i < s->n; i++) {
		char *line = shd_sync_line(&s->c[i]);

		if (!line)
			cli_die(EXIT_SYSTEM, "out of memory");
		fprintf(fp, "%s\n", line);
		if (notes && s->c[i].own)
			cli_warn("note: production's change replaced the "
				 "shadow's own value: %s", line);
		free(line);
	}
}

int main(int argc, char **argv)
{
	const char *prod = NULL, *shadow = NULL, *old = NULL, *events = NULL;
	int64_t now = (int64_t)time(NULL) * 1000, wait = 60000;
	int c, rc, force = 0, dry = 0, quiet = 0, have_rec = 0, edited = 0;
	int no_rec = 0, write_needed, status, lockfd = -1;
	struct stat st;
	struct shd_config pconf = { 0 }, sconf = { 0 }, oconf = { 0 };
	struct shd_sync sync;
	json_t *newp = NULL, *sdoc = NULL, *work = NULL, *oldp = NULL;
	json_t *rec = NULL;
	char err[1024], rpsha[65] = "", rssha[65] = "", sname[4200];

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "p:s:fnqhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p': prod = optarg; break;
		case 's': shadow = optarg; break;
		case OPT_OLD: old = optarg; break;
		case OPT_EVENTS: events = optarg; break;
		case OPT_NOW: now = cli_time_arg("--now", optarg); break;
		case OPT_WAIT:	/* 0: give up at once (no duration is 0) */
			wait = *optarg && !optarg[strspn(optarg, "0")] ? 0
			       : cli_duration_arg("--wait", optarg);
			break;
		case 'f': force = 1; break;
		case 'n': dry = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout, EXIT_OK); break;
		case 'V': cli_version(); break;
		default: usage(stderr, EXIT_USAGE);
		}
	}
	if (optind < argc)
		cli_die(EXIT_USAGE, "unexpected argument '%s' (try --help)",
			argv[optind]);
	if (!prod || !shadow)
		cli_die(EXIT_USAGE, "-p PRODUCTION and -s SHADOW are required "
			"(try --help)");
	if (!strcmp(prod, shadow) || !strcmp(shadow, "-"))
		cli_die(EXIT_USAGE, "-s SHADOW must be the shadow's own file");

	/*
	 * One run at a time: the lock is held from the first read of the
	 * shadow and its record to the last write (a dry run shares it).
	 * A shadow that is not there gets no lock file: load says so.
	 */
	shd_sync_init(&sync);
	if (stat(shadow, &st) == 0 &&
	    shd_sync_lock(shadow, !dry, wait, &lockfd, err, sizeof(err)) != 0) {
		if (errno == EWOULDBLOCK)
			cli_warn("'%s' is being synced by another process "
				 "(%s for %.3g s)\nhint: try again later, or "
				 "--wait longer", shadow, err,
				 (double)wait / 1000);
		else
			cli_warn("cannot lock '%s': %s", shadow, err);
		status = EXIT_SYSTEM;
		goto out;
	}

	/* production now and before, the shadow: all checked first */
	if ((status = load(prod, &pconf, &newp)) ||
	    (old && (status = load(old, &oconf, &oldp))) ||
	    (status = load(shadow, &sconf, &sdoc)))
		goto out;
	/* relative executor paths are production's: absolute in the shadow */
	if ((status = absolute(newp, prod)) ||
	    (oldp && (status = absolute(oldp, old))))
		goto out;
	if (!(sconf.shadow_fraction > 0)) {
		cli_warn("%s: $.shadow: missing: not a shadow's configuration"
			 "\nhint: make one with shd-shadow --config-out",
			 shadow);
		status = EXIT_BADINPUT;
		goto out;
	}

	rc = shd_sync_record_load(shadow, &rec, rpsha, rssha, err,
				  sizeof(err));
	if (rc == 0) {
		have_rec = 1;
		/* production as last synced, from where it is now */
		if ((status = absolute(rec, prod)))
			goto out;
	} else if (rc == SHD_EIO && errno == ENOENT) {
		no_rec = 1;
		if (!old) {
			cli_warn("%s (no sync record)\nhint: give --old with "
				 "production's configuration as the shadow "
				 "mirrors it, or make the shadow again with "
				 "shd-shadow --config-out", err);
			status = EXIT_BADINPUT;
			goto out;
		}
	} else if (rc == SHD_EFORMAT && old && force) {
		cli_warn("%s: made again from --old (--force)", err);
	} else if (rc == SHD_EFORMAT) {
		cli_warn("%s\nhint: --old FILE --force makes it again from "
			 "production's configuration as the shadow mirrors it",
			 err);
		status = EXIT_BADINPUT;
		goto out;
	} else {
		cli_warn("%s", err);
		status = cli_status(rc);
		goto out;
	}

	/* the bytes of the shadow as the last sync wrote them? */
	edited = have_rec && !shd_digest_equal(sconf.sha256, rssha);
	if (edited && !force) {
		cli_warn("'%s' was edited by hand since the last sync (its "
			 "SHA-256 is not the one in '%s.sync')\nhint: --force "
			 "keeps the edits where production did not change the "
			 "same key (with --dry-run: what it would do)", shadow,
			 shadow);
		status = EXIT_BADINPUT;
		goto out;
	}
	if (edited && !quiet)
		cli_warn("'%s' was edited by hand since the last sync: the "
			 "edits are kept where production did not change the "
			 "same key; where it did, production's change wins "
			 "(--force)", shadow);
	if (no_rec && !quiet)
		cli_warn("no sync record '%s.sync': cannot tell whether '%s' "
			 "was edited by hand; changes from '%s'", shadow,
			 shadow, old);

	/*
	 * The changes: none when the record shows this production already
	 * mirrored (whatever --old says), else from --old or the record.
	 */
	if (!(have_rec && json_equal(rec, newp)) &&
	    (rc = shd_sync_diff(&sync, oldp ? oldp : rec, newp))) {
		cli_warn("%s: not a configuration: no \"resources\" object",
			 oldp ? old : "the sync record");
		status = rc == SHD_ENOMEM ? EXIT_SYSTEM : EXIT_BADINPUT;
		goto out;
	}
	if (!(work = json_deep_copy(sdoc))) {
		cli_warn("out of memory");
		status = EXIT_SYSTEM;
		goto out;
	}
	/* a relative path left in the shadow (by an older shd-shadow, or a
	 * hand edit) is production's too */
	if ((status = absolute(work, prod)))
		goto out;
	if ((rc = shd_sync_apply(&sync, work, newp, sconf.shadow_fraction,
				 pconf.sha256, err, sizeof(err)))) {
		cli_warn("%s: %s", shadow, err);
		status = cli_status(rc);
		goto out;
	}
	snprintf(sname, sizeof(sname), "%s (as synced)", shadow);
	if ((rc = shd_sync_check(work, sname, err, sizeof(err)))) {
		cli_warn("%s%s", err, force ? "\nhint: a hand edit kept by "
			 "--force may clash with production's change: edit the "
			 "shadow, or make it again" : "");
		status = cli_status(rc);
		goto out;
	}
	write_needed = !same(work, sdoc) || !have_rec || edited ||
		       strcmp(rpsha, pconf.sha256) || !same(rec, newp);

	if (dry) {
		show(&sync, stdout, 0);
		fflush(stdout);
		if (!quiet)
			cli_warn("%s: %zu change%s from '%s' (dry run: nothing "
				 "written)", shadow, sync.n,
				 sync.n == 1 ? "" : "s", prod);
		status = sync.n ? EXIT_FOUND : EXIT_OK;
		goto out;
	}
	if (!quiet)
		show(&sync, stderr, 1);
	/* events first: after a crash between, a run again writes them
	 * twice rather than never */
	if (events && shd_sync_events_append(events, &sync, now, err,
					     sizeof(err)) != 0) {
		cli_warn("%s", err);
		status = EXIT_SYSTEM;
		goto out;
	}
	if (write_needed && (rc = shd_shadow_write(shadow, work, newp,
						   pconf.sha256, err,
						   sizeof(err)))) {
		cli_warn("%s", err);
		status = cli_status(rc);
		goto out;
	}
	if (!quiet && sync.n)
		cli_warn("%s: %zu change%s from '%s' mirrored", shadow, sync.n,
			 sync.n == 1 ? "" : "s", prod);
	else if (!quiet)
		cli_warn("%s: in sync with '%s'%s", shadow, prod,
			 !write_needed ? ""
			 : edited ? " (hand edits accepted)"
			 : " (record brought up to date)");
	status = sync.n ? EXIT_FOUND : EXIT_OK;
out:
	if (lockfd >= 0)
		close(lockfd);	/* after the last write */
	shd_sync_release(&sync);
	json_decref(work);
	json_decref(sdoc);
	json_decref(newp);
	json_decref(oldp);
	json_decref(rec);
	shd_config_release(&pconf);
	shd_config_release(&sconf);
	shd_config_release(&oconf);
	if (cli_close_stdout())
		return EXIT_SYSTEM;
	return status;
}
