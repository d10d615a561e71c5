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
static const struct jobj *common(const struct jobj *ev, int n, pid_t sid)
{
	const struct jobj *rp, *before, *after, *pb, *reap;
	char seq[16];

	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	demonstrated(ev, n, "parent", seq, sizeof(seq));
	ck_assert_str_eq(seq, "SZX");
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
	char seq[16];
	pid_t to;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(!jbool(nth_event(ev, n, "subreaper", NULL, 0), "subreaper"));
	rp = common(ev, n, o.sid);
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
	demonstrated(ev, n, "orphan", seq, sizeof(seq));
	ck_assert_str_eq(seq, "SX");
	ck_assert_ptr_null(nth_event(ev, n, "reap", "orphan", 0));
	rel = nth_event(ev, n, "released", NULL, 0);
	ck_assert_ptr_nonnull(rel);
	ck_assert_int_eq((int)jnum(rel, "adopter"), to);
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
	char seq[16];
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--json",
						      "--subreaper", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(jbool(nth_event(ev, n, "subreaper", NULL, 0), "subreaper"));
	rp = common(ev, n, o.sid);
	ck_assert_int_eq((int)jnum(rp, "to"), o.sid);
	ck_assert_str_eq(jstr(rp, "kind"), "self");
	ck_assert_int_eq((int)jnum(rp, "depth"), 0);
	ck_assert_str_eq(jstr(rp, "to_comm"), "proclab");
	/* proclab saw it as its zombie, then reaped it */
	demonstrated(ev, n, "orphan", seq, sizeof(seq));
	ck_assert_str_eq(seq, "SZX");
	reap = nth_event(ev, n, "reap", "orphan", 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert_int_eq((int)jnum(reap, "by"), o.sid);
	ck_assert_int_eq((int)jnum(reap, "pid"), (int)jnum(rp, "pid"));
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
	char seq[16], comm[64];

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
	r = common(ev, n, o.sid);
	/* the nearest subreaper above the orphan is this process */
	ck_assert_int_eq((int)jnum(r, "to"), getpid());
	ck_assert_str_eq(jstr(r, "kind"), "subreaper");
	ck_assert_int_eq((int)jnum(r, "depth"), 1);
	ck_assert_int_eq(prctl(PR_GET_NAME, comm), 0);
	ck_assert_str_eq(jstr(r, "to_comm"), comm);
	/* and this process reaped it */
	ck_assert_int_eq(rp.reaped, (int)jnum(r, "pid"));
	ck_assert(WIFEXITED(rp.status));
	demonstrated(ev, n, "orphan", seq, sizeof(seq));
	ck_assert_str_eq(seq, "SX");
	ck_assert_int_eq((int)jnum(nth_event(ev, n, "released", NULL, 0), "adopter"),
			 getpid());
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(orphan_text_view)
{
	struct outcome o;

	/* sentences whole on their lines: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "orphan", "--subreaper",
						      NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert(strstr(o.out, "reparent    orphan ") != NULL);
	ck_assert(strstr(o.out, "(proclab): proclab, the orphan's "
			 "grandparent, is a child subreaper") != NULL);
	ck_assert(strstr(o.out, "process group") != NULL);
	ck_assert(strstr(o.out, "\033[") == NULL);
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
	suite_add_tcase(s, tc);
	return s;
}
