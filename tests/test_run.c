/* test_run.c - `proclab run -- PROGRAM`: nothing of the tree missed
 * (against a record the program itself writes), exit statuses, findings,
 * the --max-procs cap, and nothing left behind when proclab is killed.
 *
 * The example programs are found beside the proclab under test:
 * build/examples/ for ./proclab, DIR/examples/ for DIR/proclab.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 4096
#define NOBODY 65534

static struct jobj ev[MAXEV];

/* The JSON lines of out but the tree (its nodes are an array, which the
 * flat reader does not take): parsed into ev. */
static int events(const char *out)
{
	char *copy = strdup(out), *w = copy;
	const char *p = out;
	int n;

	ck_assert_ptr_nonnull(copy);
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len;

		ck_assert_ptr_nonnull(eol);
		len = (size_t)(eol - p) + 1;
		/* and the lines the example programs print themselves */
		if (*p == '{' && (strstr(p, "\"event\":\"tree\"") == NULL ||
		    strstr(p, "\"event\":\"tree\"") > eol)) {
			memcpy(w, p, len);
			w += len;
		}
		p = eol + 1;
	}
	*w = '\0';
	n = json_lines(copy, ev, MAXEV);
	free(copy);
	return n;
}

static const char *example(const char *name)
{
	static char path[PATH_MAX];
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	const char *slash = strrchr(prog, '/');

	if (strcmp(prog, "./proclab") == 0 || slash == NULL)
		snprintf(path, sizeof(path), "build/examples/%s", name);
	else
		snprintf(path, sizeof(path), "%.*s/examples/%s",
			 (int)(slash - prog), prog, name);
	return path;
}

/* How many events `event` name pid in field `key`. */
static int count_pid(int n, const char *event, const char *key, long pid)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), event) == 0 &&
		    (long)jnum(&ev[i], key) == pid)
			k++;
	return k;
}

static int count_event(int n, const char *event)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += strcmp(jstr(&ev[i], "event"), event) == 0;
	return k;
}

static const struct jobj *finding(int n, const char *kind)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "finding") == 0 &&
		    strcmp(jstr(&ev[i], "kind"), kind) == 0)
			return &ev[i];
	return NULL;
}

static int become_nobody(void *arg)
{
	(void)arg;
	if (getuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return -1;
	return 0;
}

/* 100 /bin/true and 100 subshells, each a millisecond or less; the shell
 * writes each pid ($!) to a file as it forks it: the record made without
 * proclab, which every fork, exit and reap proclab reports must match. */
static void no_miss(bool nobody, bool connector)
{
	char dir[] = "/tmp/proclab-run.XXXXXX", rec[64], cmd[400];
	long pids[256];
	int npids = 0, n;
	struct outcome o;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	snprintf(rec, sizeof(rec), "%s/pids", dir);
	snprintf(cmd, sizeof(cmd), "i=0; while [ $i -lt 100 ]; do /bin/true & "
		 "echo $! >>%s; (exit 0) & echo $! >>%s; i=$((i+1)); done; "
		 "wait", rec, rec);
	run_proclab_as(&o, NULL, (const char *const[]){ "run", "--json",
		       "--via", connector ? "connector" : "ptrace", "--",
		       "sh", "-c", cmd, NULL }, nobody ? become_nobody : NULL,
		       NULL);
	if (connector && o.code == 3) {         /* refused here: says why */
		ck_assert(strstr(o.err, "connector") != NULL);
		outcome_free(&o);
		unlink(rec);
		rmdir(dir);
		return;
	}
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = events(o.out);
	f = fopen(rec, "r");
	ck_assert_ptr_nonnull(f);
	while (npids < 256 && fscanf(f, "%ld", &pids[npids]) == 1)
		npids++;
	fclose(f);
	unlink(rec);
	rmdir(dir);
	ck_assert_int_eq(npids, 200);
	/* the shell and the 200 it made, no more */
	ck_assert_int_eq(count_event(n, "fork"), 201);
	ck_assert_int_eq(count_event(n, "exit"), 201);
	ck_assert_int_eq(count_event(n, "reap"), 201);
	for (int i = 0; i < npids; i++) {
		ck_assert_msg(count_pid(n, "fork", "pid", pids[i]) == 1,
			      "no fork event for %ld", pids[i]);
		ck_assert_msg(count_pid(n, "exit", "pid", pids[i]) == 1,
			      "no exit event for %ld", pids[i]);
		ck_assert_msg(count_pid(n, "reap", "pid", pids[i]) == 1,
			      "no reap event for %ld", pids[i]);
		/* each /bin/true execs; each subshell does not */
		ck_assert_int_eq(count_pid(n, "exec", "pid", pids[i]),
				 i % 2 == 0 ? 1 : 0);
	}
	ck_assert_str_eq(jstr(&ev[0], "via"), connector ? "connector"
							 : "ptrace");
	ck_assert_ptr_null(finding(n, "lost"));
	/* the tree: one JSON line, its nodes an array (F_JSON) */
	ck_assert(strstr(o.out, "\"event\":\"tree\",\"stage\":0,"
			 "\"count\":201,") != NULL);
	ck_assert(strstr(o.out, "\"nodes\":[{\"pid\":") != NULL);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}

START_TEST(nothing_missed)
{
	no_miss(false, false);
}
END_TEST

START_TEST(nothing_missed_unprivileged)
{
	no_miss(true, false);
}
END_TEST

START_TEST(connector_nothing_missed)
{
	no_miss(false, true);
	no_miss(true, true);
}
END_TEST

/* In a PID namespace of its own, the connector's pids are not proclab's:
 * refused, exit 3, unless the namespace cannot be made here. */
START_TEST(connector_refused_in_pidns)
{
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	char cmd[PATH_MAX + 200];
	int rc;

	if (system("unshare --pid --fork true >/dev/null 2>&1") != 0)
		return;         /* no PID namespace here: nothing to test */
	snprintf(cmd, sizeof(cmd), "unshare --pid --fork --mount-proc %s run "
		 "-q --via connector -- true >/dev/null 2>&1", prog);
	rc = system(cmd);
	ck_assert(WIFEXITED(rc));
	ck_assert_int_eq(WEXITSTATUS(rc), 3);
	/* ptrace works there */
	snprintf(cmd, sizeof(cmd), "unshare --pid --fork --mount-proc %s run "
		 "-q -- sh -c 'exit 5' >/dev/null 2>&1", prog);
	rc = system(cmd);
	ck_assert(WIFEXITED(rc));
	ck_assert_int_eq(WEXITSTATUS(rc), 5);
}
END_TEST

/* obs_try_add(): a released process is no error, and says nothing */
START_TEST(try_add_released)
{
	static const struct lab l = { .name = "test" };
	struct run r = { .lab = &l, .sigfd = -1 };
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	errno = 0;
	ck_assert_ptr_null(obs_try_add(&r, pid, -1, "gone"));
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_ptr_nonnull(obs_try_add(&r, getpid(), -1, "self"));
	obs_release(&r.obs);
	free(r.obs.w);          /* the table stays after a release */
	free(r.obs.pfd);
	free(r.obs.owner);
}
END_TEST

START_TEST(exit_status_is_programs)
{
	struct outcome o;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "run", "--json", "--",
		    "sh", "-c", "exit 3", NULL });
	ck_assert_int_eq(o.code, 3);
	n = events(o.out);
	ck_assert_int_eq((int)jnum(&ev[n - 1], "exit"), 3);
	ck_assert_int_eq((int)jnum(&ev[n - 1], "code"), 3);
	outcome_free(&o);
	run_proclab(&o, NULL, (const char *const[]){ "run", "--json", "--",
		    "sh", "-c", "kill -SEGV $$", NULL });
	ck_assert_int_eq(o.code, 128 + SIGSEGV);
	n = events(o.out);
	ck_assert_str_eq(jstr(&ev[n - 1], "signal"), "SIGSEGV");
	outcome_free(&o);
	run_proclab(&o, NULL, (const char *const[]){ "run", "-q", "--",
		    "/nonexistent/program", NULL });
	ck_assert_int_eq(o.code, 127);
	ck_assert_uint_eq(o.outlen, 0);
	outcome_free(&o);
}
END_TEST

START_TEST(usage_errors)
{
	static const char *const bad[][5] = {
		{ "run", NULL },
		{ "run", "--json", NULL },
		{ "run", "--via", "magic", "true", NULL },
		{ "run", "--max-procs", "0", "true", NULL },
		{ "run", "--linger", "x", "true", NULL },
		{ "run", "-q", "--tree", "true", NULL },
		{ "run", "--nosuch", "true", NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct outcome o;

		run_proclab(&o, NULL, bad[i]);
		ck_assert_msg(o.code == 2, "case %zu: exit %d", i, o.code);
		ck_assert_uint_eq(o.outlen, 0);
		ck_assert(strstr(o.err, "proclab: run: ") != NULL);
		outcome_free(&o);
	}
}
END_TEST

START_TEST(zombie_and_orphan_found)
{
	struct outcome o;
	const struct jobj *f;
	long program, child;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "run", "--json", "--",
		    example("zombie"), "50", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = events(o.out);
	program = (long)jnum(nth_event(ev, n, "exec", NULL, 0), "pid");
	child = (long)jnum(nth_event(ev, n, "fork", NULL, 1), "pid");
	f = finding(n, "zombie");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq((long)jnum(f, "pid"), child);
	ck_assert_int_eq((long)jnum(f, "ppid"), program);
	ck_assert(jnum(f, "zombie_ms") >= 40);      /* the parent slept 50 */
	ck_assert_ptr_null(finding(n, "orphan"));
	outcome_free(&o);

	run_proclab(&o, NULL, (const char *const[]){ "run", "--json", "--",
		    example("orphan"), "50", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = events(o.out);
	child = (long)jnum(nth_event(ev, n, "fork", NULL, 1), "pid");
	f = finding(n, "orphan");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq((long)jnum(f, "pid"), child);
	ck_assert_int_eq((long)jnum(f, "to"), (long)jnum(&ev[0], "pid"));
	ck_assert_int_eq(count_pid(n, "reparent", "pid", child), 1);
	f = finding(n, "left");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq((int)jnum(f, "count"), 1);
	ck_assert_ptr_null(finding(n, "zombie"));
	outcome_free(&o);
}
END_TEST

START_TEST(fork_bomb_capped)
{
	struct outcome o;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "run", "--json",
		    "--max-procs", "32", "--", example("forkbomb"), NULL });
	ck_assert_int_eq(o.code, 128 + SIGKILL);
	ck_assert(strstr(o.err, "--max-procs") != NULL);
	n = events(o.out);
	ck_assert_ptr_nonnull(finding(n, "cap"));
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Kill proclab (signal sig) while two sleeps run, optionally at a --step
 * pause with the tree held: nothing of the tree may be left. */
static void killed(int sig, bool at_pause, bool connector)
{
	const char *argv[] = { "run", "--json", at_pause ? "--step" : "--json",
			       "--via", connector ? "connector" : "ptrace",
			       "--", "sh", "-c", "sleep 30 & sleep 30 & wait",
			       NULL };
	long pids[2];
	int execs = 0, code;
	struct live l;
	struct jobj e;
	char err[512];

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	live_start(&l, argv);
	while (execs < 2 && live_next(&l, &e)) {
		if (strcmp(jstr(&e, "event"), "pause") == 0 && execs < 2)
			ck_assert_int_eq(write(l.in, "\n", 1), 1);
		if (strcmp(jstr(&e, "event"), "exec") == 0 &&
		    strcmp(jstr(&e, "comm"), "sleep") == 0)
			pids[execs++] = (long)jnum(&e, "pid");
	}
	ck_assert_int_eq(execs, 2);
	if (at_pause)   /* the pause after the second exec: held */
		while (live_next(&l, &e) &&
		       strcmp(jstr(&e, "event"), "pause") != 0)
			;
	ck_assert_int_eq(kill(l.pid, sig), 0);
	code = live_finish(&l, err, sizeof(err));
	ck_assert_int_eq(code, 128 + sig);
	for (int i = 0; i < 2; i++) {
		bool gone = false;

		/* dead: gone, or a zombie adopted by this test (subreaper) */
		for (int k = 0; k < 2000 && !gone; k++) {
			struct timespec t = { 0, 1000000 };

			while (waitpid(-1, NULL, WNOHANG) > 0)
				;       /* what came to this subreaper */
			gone = kill((pid_t)pids[i], 0) < 0 && errno == ESRCH;
			if (!gone)
				nanosleep(&t, NULL);
		}
		ck_assert_msg(gone, "sleep %ld survived proclab", pids[i]);
	}
	for (int k = 0; k < 1000 && waitpid(-1, NULL, WNOHANG) >= 0; k++) {
		struct timespec t = { 0, 1000000 };

		nanosleep(&t, NULL);    /* the shell, killed with them */
	}
	ck_assert_int_eq(survivors(l.pid), 0);
}

START_TEST(sigkill_leaves_nothing)
{
	killed(SIGKILL, false, false);
}
END_TEST

START_TEST(sigterm_leaves_nothing)
{
	killed(SIGTERM, false, false);
	killed(SIGTERM, false, true);   /* the connector: by teardown */
}
END_TEST

START_TEST(sigint_at_pause_leaves_nothing)
{
	killed(SIGINT, true, false);
}
END_TEST

START_TEST(step_pauses_with_ps)
{
	struct outcome o;
	const struct jobj *p;
	int n;

	run_proclab(&o, "\n\n\n\n\n\n\n\n\n\n\n\n", (const char *const[]){
		    "run", "--json", "--step", "--", example("zombie"), "10",
		    NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = events(o.out);
	/* exec, fork, the child's exit, the parent's */
	ck_assert_int_ge(count_event(n, "pause"), 4);
	p = nth_event(ev, n, "pause", NULL, 0);
	ck_assert(strncmp(jstr(p, "ps"), "ps -o pid,ppid,stat", 19) == 0);
	ck_assert_ptr_nonnull(finding(n, "zombie"));
	outcome_free(&o);
}
END_TEST

/* The text view: 80 columns, and -q is the findings and the result. */
START_TEST(text_fits_and_quiet)
{
	struct outcome o;
	int width = 0, col = 0, lines = 0;

	ck_assert_int_eq(setenv("COLUMNS", "80", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "run", "-v", "--",
		    example("orphan"), "10", NULL });
	ck_assert_int_eq(o.code, 0);
	for (const char *c = o.out; *c != '\0'; c++) {
		if (*c == '\n') {
			col = 0;
			continue;
		}
		if (++col > width)
			width = col;
	}
	ck_assert_msg(width <= 80, "a line of %d columns:\n%s", width, o.out);
	ck_assert(strstr(o.out, "tree") != NULL);
	outcome_free(&o);
	run_proclab(&o, NULL, (const char *const[]){ "run", "-q", "--",
		    example("orphan"), "10", NULL });
	ck_assert_int_eq(o.code, 0);
	for (const char *c = o.out; *c != '\0'; c++)
		lines += *c == '\n';
	ck_assert(strstr(o.out, "finding") != NULL);
	ck_assert(strstr(o.out, "result") != NULL);
	ck_assert(strstr(o.out, " fork ") == NULL);
	ck_assert(strstr(o.out, " tree ") == NULL);
	outcome_free(&o);
}
END_TEST

/* --stable: the same bytes on every run of a program that does the same;
 * --help: the options, exit 0. */
START_TEST(stable_and_help)
{
	struct outcome a, b;

	for (int json = 0; json < 2; json++) {
		const char *const argv[] = { "run", "--stable", json ? "--json" :
					     "--no-color", "--", "sh", "-c",
					     "exit 4", NULL };

		run_proclab(&a, NULL, argv);
		run_proclab(&b, NULL, argv);
		ck_assert_int_eq(a.code, 4);
		ck_assert_int_eq(b.code, 4);
		ck_assert_str_eq(a.out, b.out);
		ck_assert(strstr(a.out, "program") != NULL);
		outcome_free(&a);
		outcome_free(&b);
	}
	run_proclab(&a, NULL, (const char *const[]){ "run", "--help", NULL });
	ck_assert_int_eq(a.code, 0);
	ck_assert(strstr(a.out, "--max-procs") != NULL);
	ck_assert(strstr(a.out, "--via") != NULL);
	outcome_free(&a);
}
END_TEST

Suite *make_run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nothing_missed);
	tcase_add_test(tc, nothing_missed_unprivileged);
	tcase_add_test(tc, connector_nothing_missed);
	tcase_add_test(tc, try_add_released);
	tcase_add_test(tc, connector_refused_in_pidns);
	tcase_add_test(tc, exit_status_is_programs);
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, zombie_and_orphan_found);
	tcase_add_test(tc, fork_bomb_capped);
	tcase_add_test(tc, sigkill_leaves_nothing);
	tcase_add_test(tc, sigterm_leaves_nothing);
	tcase_add_test(tc, sigint_at_pause_leaves_nothing);
	tcase_add_test(tc, step_pauses_with_ps);
	tcase_add_test(tc, text_fits_and_quiet);
	tcase_add_test(tc, stable_and_help);
	suite_add_tcase(s, tc);
	return s;
}
