/* test_orphan.c - `proclab orphan`: the adopter is the one the kernel must
 * choose, with and without --subreaper and under an outside subreaper. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 128

static bool is(const struct jobj *e, const char *event, const char *role)
{
	return strcmp(jstr(e, "event"), event) == 0 &&
	       (role == NULL || strcmp(jstr(e, "role"), role) == 0);
}

static const struct jobj *group_of(const struct jobj *ev, int n,
				   const char *role, const char *when)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "group", role) &&
		    strcmp(jstr(&ev[i], "when"), when) == 0)
			return &ev[i];
	return NULL;
}

/* The run's stages are the rows of the lab's table its options select, in
 * table order: no count is written here. */
static void follows_table(const struct jobj *ev, int n, bool subreaper)
{
	const struct lab *lab = NULL;
	struct run r = { 0 };
	int k = 0;

	for (size_t l = 0; l < lab_count; l++)
		if (strcmp(lab_table[l]->name, "orphan") == 0)
			lab = lab_table[l];
	ck_assert_ptr_nonnull(lab);
	r.lab = lab;
	for (int i = 0; lab->options[i].name != NULL; i++)
		if (strcmp(lab->options[i].name, "subreaper") == 0) {
			r.set[i] = subreaper;
			r.val[i] = subreaper;
		}
	for (const struct stage *s = lab->stages; s->name != NULL; s++) {
		const struct jobj *e;

		if (!stage_applies(&r, s))
			continue;
		e = nth_event(ev, n, "stage", NULL, k++);
		ck_assert_msg(e != NULL, "no stage event for %s", s->name);
		ck_assert_str_eq(jstr(e, "name"), s->name);
	}
	ck_assert_ptr_null(nth_event(ev, n, "stage", NULL, k));
}

/* The number of the stage named `name` in this run, -1 if none. */
static int stage_no(const struct jobj *ev, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "stage", NULL) &&
		    strcmp(jstr(&ev[i], "name"), name) == 0)
			return (int)jnum(&ev[i], "stage");
	return -1;
}

/* pid's parent as /proc shows it now, -1 if unreadable. */
static pid_t parent_of(pid_t pid)
{
	struct proc_handle h;
	struct proc_stat st;
	pid_t pp = -1;

	if (proc_open(&h, pid) != PROC_OK)
		return -1;
	if (proc_read_stat(&h, &st) == PROC_OK)
		pp = st.ppid;
	proc_close(&h);
	return pp;
}

static bool is_my_ancestor(pid_t pid)
{
	for (pid_t p = getpid(); p > 0; p = parent_of(p))
		if (p == pid)
			return true;
	return false;
}

/* What every run shows, whoever adopts: returns the reparent event. */
static const struct jobj *common(const struct jobj *ev, int n, pid_t sid,
				 bool subreaper)
{
	const struct jobj *rp, *before, *after, *pb, *reap;

	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	follows_table(ev, n, subreaper);
	assert_demonstrated(ev, n, "parent", "SZX");
	rp = nth_event(ev, n, "reparent", NULL, 0);
	ck_assert_ptr_nonnull(rp);
	pb = group_of(ev, n, "parent", "before");
	before = group_of(ev, n, "orphan", "before");
	after = group_of(ev, n, "orphan", "after");
	ck_assert(pb != NULL && before != NULL && after != NULL);
	/* the orphan's first parent is the one that exited */
	ck_assert_int_eq((int)jnum(before, "ppid"), (int)jnum(pb, "pid"));
	ck_assert_int_eq((int)jnum(pb, "ppid"), sid);
	ck_assert_int_eq((int)jnum(rp, "from"), (int)jnum(pb, "pid"));
	ck_assert_int_eq((int)jnum(rp, "pid"), (int)jnum(before, "pid"));
	ck_assert_int_ne((int)jnum(rp, "to"), (int)jnum(rp, "from"));
	/* each in the stage that demonstrates it */
	ck_assert_int_eq((int)jnum(pb, "stage"), stage_no(ev, n, "fork"));
	ck_assert_int_eq((int)jnum(rp, "stage"), stage_no(ev, n, "exit"));
	ck_assert_int_eq((int)jnum(after, "stage"), stage_no(ev, n, "adopted"));
	ck_assert_int_eq((int)jnum(after, "ppid"), (int)jnum(rp, "to"));
	/* it keeps its process group and session */
	ck_assert_int_eq((int)jnum(after, "pgrp"), (int)jnum(before, "pgrp"));
	ck_assert_int_eq((int)jnum(after, "session"),
			 (int)jnum(before, "session"));
	ck_assert_int_eq((int)jnum(before, "session"), sid);
	ck_assert_int_ne((int)strlen(jstr(rp, "to_comm")), 0);
	/* proclab reaped the parent */
	reap = nth_event(ev, n, "reap", "parent", 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert_int_eq((int)jnum(reap, "by"), sid);
	ck_assert(jbool(reap, "exited"));
	/* the claims agree with the adopter */
	ck_assert(jbool(nth_event(ev, n, "claim", NULL, 0), "holds") ==
		  ((pid_t)jnum(rp, "to") == sid));
	ck_assert(jbool(nth_event(ev, n, "claim", NULL, 1), "holds") ==
		  ((pid_t)jnum(rp, "to") == 1));
	return rp;
}

START_TEST(orphan_default)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *rp, *rel;
	pid_t to;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(!jbool(nth_event(ev, n, "subreaper", NULL, 0), "subreaper"));
	rp = common(ev, n, o.sid, false);
	to = (pid_t)jnum(rp, "to");
	ck_assert_int_ne(to, o.sid);            /* not the grandparent */
	/* PID 1, or a subreaper this test runs under */
	if (to == 1)
		ck_assert_str_eq(jstr(rp, "kind"), "pid1");
	else {
		ck_assert_str_eq(jstr(rp, "kind"), "subreaper");
		ck_assert(is_my_ancestor(to));
	}
	/* the adopter reaped it, not proclab: gone, no reap event */
	assert_demonstrated(ev, n, "orphan", "SX");
	ck_assert_ptr_null(nth_event(ev, n, "reap", "orphan", 0));
	rel = nth_event(ev, n, "released", NULL, 0);
	ck_assert_ptr_nonnull(rel);
	ck_assert_int_eq((int)jnum(rel, "adopter"), to);
	ck_assert_int_eq((int)jnum(rel, "stage"), stage_no(ev, n, "end"));
	ck_assert(jbool(rel, "zombie_seen") ==
		  (strchr(jstr(rel, "trail"), 'Z') != NULL));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(orphan_subreaper)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *rp, *reap;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--json",
						      "--subreaper", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(jbool(nth_event(ev, n, "subreaper", NULL, 0), "subreaper"));
	rp = common(ev, n, o.sid, true);
	ck_assert_int_eq((int)jnum(rp, "to"), o.sid);
	ck_assert_str_eq(jstr(rp, "kind"), "self");
	ck_assert_int_eq((int)jnum(rp, "depth"), 0);
	ck_assert_str_eq(jstr(rp, "to_comm"), "proclab");
	/* proclab saw it as its zombie, then reaped it */
	assert_demonstrated(ev, n, "orphan", "SZX");
	reap = nth_event(ev, n, "reap", "orphan", 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert_int_eq((int)jnum(reap, "by"), o.sid);
	ck_assert_int_eq((int)jnum(reap, "pid"), (int)jnum(rp, "pid"));
	ck_assert_int_eq((int)jnum(reap, "stage"), stage_no(ev, n, "end"));
	ck_assert_ptr_null(nth_event(ev, n, "released", NULL, 0));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* ---- under an outside subreaper: this test process adopts ------------- */

struct reaper {
	pid_t sentinel;         /* our own child, ended by the main thread */
	pid_t reaped;           /* the adopted orphan this thread reaped */
	int status;
};

static bool comm_is(pid_t pid, const char *name)
{
	struct proc_handle h;
	struct proc_stat st;
	bool yes = false;

	if (proc_open(&h, pid) != PROC_OK)
		return false;
	if (proc_read_stat(&h, &st) == PROC_OK)
		yes = strcmp(st.comm, name) == 0;
	proc_close(&h);
	return yes;
}

/* Reap what we adopt; leave proclab itself to run_proclab().  The
 * sentinel keeps waitid() from failing with ECHILD before proclab is
 * forked, and its end (after run_proclab) ends this thread. */
static void *reaper_main(void *arg)
{
	struct reaper *rp = arg;

	for (;;) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (si.si_pid == rp->sentinel)
			break;
		if (!comm_is(si.si_pid, "proclab-orphan"))
			break;          /* proclab: not ours to collect */
		waitpid(si.si_pid, &rp->status, 0);
		rp->reaped = si.si_pid;
	}
	waitpid(rp->sentinel, NULL, 0);
	return NULL;
}

START_TEST(orphan_outside_subreaper)
{
	static struct jobj ev[MAXEV];
	struct reaper rp = { 0 };
	struct outcome o;
	const struct jobj *r;
	pthread_t t;
	int pipefd[2], n;
	char comm[64];

	/* Check runs this test in its own process: the flag dies with it */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	rp.sentinel = fork();
	ck_assert_int_ge(rp.sentinel, 0);
	if (rp.sentinel == 0) {
		char b;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[1]);
		(void)!read(pipefd[0], &b, 1);
		_exit(0);
	}
	close(pipefd[0]);
	ck_assert_int_eq(pthread_create(&t, NULL, reaper_main, &rp), 0);

	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--json", NULL });
	close(pipefd[1]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);

	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	r = common(ev, n, o.sid, false);
	/* the nearest subreaper above the orphan is this process */
	ck_assert_int_eq((int)jnum(r, "to"), getpid());
	ck_assert_str_eq(jstr(r, "kind"), "subreaper");
	ck_assert_int_eq((int)jnum(r, "depth"), 1);
	ck_assert_int_eq(prctl(PR_GET_NAME, comm), 0);
	ck_assert_str_eq(jstr(r, "to_comm"), comm);
	/* and this process reaped it */
	ck_assert_int_eq(rp.reaped, (int)jnum(r, "pid"));
	ck_assert(WIFEXITED(rp.status));
	assert_demonstrated(ev, n, "orphan", "SX");
	ck_assert_int_eq((int)jnum(nth_event(ev, n, "released", NULL, 0), "adopter"),
			 getpid());
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(orphan_text_view)
{
	struct outcome o;
	char want[160];

	/* sentences whole on their lines: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--subreaper",
						      NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	/* the values in the sentences are proclab's: it is the adopter,
	 * and it leads the session and the group run_proclab() made */
	snprintf(want, sizeof(want), "reparent    the orphan's parent is now "
		 "pid %d, its grandparent, no longer pid ", (int)o.sid);
	ck_assert_msg(strstr(o.out, want) != NULL, "no '%s' in:\n%s", want,
		      o.out);
	/* the orphan is in the run's own process group (its janitor's,
	 * not proclab's), in proclab's session */
	{
		const char *g = strstr(o.out, "; process group ");
		int pgrp = 0;

		ck_assert_msg(g != NULL && sscanf(g, "; process group %d",
						  &pgrp) == 1, "%s", o.out);
		ck_assert_int_ne(pgrp, (int)o.sid);
		snprintf(want, sizeof(want), "process group %d, session %d: "
			 "the same as before its parent exited", pgrp,
			 (int)o.sid);
	}
	ck_assert_msg(strstr(o.out, want) != NULL, "no '%s' in:\n%s", want,
		      o.out);
	ck_assert(strstr(o.out, "is a child subreaper, says "
			 "PR_GET_CHILD_SUBREAPER") != NULL);
	ck_assert(strstr(o.out, "\033[") == NULL);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* ---- the same bytes in a new PID namespace ----------------------------- */

/* Everything `cmd` prints on stdout (a string to free()); *status its
 * wait status. */
static char *output_of(const char *cmd, int *status)
{
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *in, *out;

	fflush(NULL);
	in = popen(cmd, "r");
	ck_assert_ptr_nonnull(in);
	out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		ck_assert_uint_eq(fwrite(chunk, 1, n, out), n);
	*status = pclose(in);
	ck_assert_int_eq(fclose(out), 0);
	return buf;
}

static const char *const pidns_variants[][2] = {
	{ "", "" }, { "--subreaper", "" }, { "", "--json" },
	{ "--subreaper", "--json" },
};

/* --stable prints the same bytes where pids are small, proclab's parent
 * is PID 1 (a shell that reaps at once) and the process group and session
 * leaders are outside the namespace (0 in /proc), as outside it. */
START_TEST(orphan_same_in_pidns)
{
	const char *opt = pidns_variants[_i][0], *json = pidns_variants[_i][1];
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	char cmd[1024];
	struct outcome o;
	const char *argv[6];
	char *inside;
	int status, n = 0;

	free(output_of("unshare --pid --fork --mount-proc true "
		       ">/dev/null 2>&1", &status));
	if (status != 0)
		return;         /* no PID namespace here (not root) */
	/* `; true`: the shell stays PID 1 instead of exec'ing proclab */
	snprintf(cmd, sizeof(cmd), "unshare --pid --fork --mount-proc sh -c "
		 "'\"$0\" orphan %s %s --stable --no-color </dev/null; "
		 "true' '%s'", opt, json, prog);
	inside = output_of(cmd, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: status 0x%x", cmd, status);
	argv[n++] = "orphan";
	argv[n++] = "--stable";
	argv[n++] = "--no-color";
	if (opt[0] != '\0')
		argv[n++] = opt;
	if (json[0] != '\0')
		argv[n++] = json;
	argv[n] = NULL;
	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	/* the first line that differs, for the message */
	size_t i = 0, start = 0;

	for (; inside[i] != '\0' && inside[i] == o.out[i]; i++)
		if (inside[i] == '\n')
			start = i + 1;
	ck_assert_msg(inside[i] == o.out[i], "orphan %s %s --stable differs "
		      "in a PID namespace: \"%.*s\" inside, \"%.*s\" outside",
		      opt, json, (int)strcspn(inside + start, "\n"),
		      inside + start, (int)strcspn(o.out + start, "\n"),
		      o.out + start);
	free(inside);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

Suite *make_orphan_suite(void)
{
	Suite *s = suite_create("orphan");
	TCase *tc = tcase_create("orphan");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, orphan_default);
	tcase_add_test(tc, orphan_subreaper);
	tcase_add_test(tc, orphan_outside_subreaper);
	tcase_add_test(tc, orphan_text_view);
	tcase_add_loop_test(tc, orphan_same_in_pidns, 0,
			    (int)(sizeof(pidns_variants) /
				  sizeof(pidns_variants[0])));
	suite_add_tcase(s, tc);
	return s;
}
