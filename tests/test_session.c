/* test_session.c - `proclab session`: sessions, process groups and job
 * control on the pseudo-terminal proclab opens, as the JSON tells them,
 * and nothing left behind in any session. */
#include <check.h>
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "procfs.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 256

static bool is(const struct jobj *e, const char *event, const char *role)
{
	return strcmp(jstr(e, "event"), event) == 0 &&
	       (role == NULL || strcmp(jstr(e, "role"), role) == 0);
}

/* The last demonstrated state event of role before event index `before`
 * showing `state`. */
static const struct jobj *last_state(const struct jobj *ev, int n,
				     const char *role, char state)
{
	const struct jobj *found = NULL;

	for (int i = 0; i < n; i++)
		if (is(&ev[i], "state", role) && !jbool(&ev[i], "transient") &&
		    jstr(&ev[i], "state")[0] == state)
			found = &ev[i];
	return found;
}

/* After proclab has ended: no process of the run is left, in any
 * session.  The test is a child subreaper, so whatever survived proclab
 * would be its child now. */
static void nothing_left(void)
{
	pid_t p;

	do
		p = waitpid(-1, NULL, WNOHANG);
	while (p > 0 || (p < 0 && errno == EINTR));
	ck_assert_msg(p < 0 && errno == ECHILD, "a process of the run is "
		      "still there");
}

START_TEST(session_sequence)
{
	static struct jobj ev[MAXEV];
	const struct jobj *e, *c;
	struct outcome o;
	char seq[32];
	int n, shell, p1, p2, reader, sleeper, daemon, self;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	run_proclab(&o, NULL, (const char *const[]){ "session", "--json",
						      NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(jbool(&ev[n - 1], "ok"));
	self = (int)jnum(&ev[0], "pid");
	ck_assert_int_eq(self, o.sid);
	shell = role_pid(ev, n, "shell");
	p1 = role_pid(ev, n, "pipe-1");
	p2 = role_pid(ev, n, "pipe-2");
	reader = role_pid(ev, n, "reader");
	sleeper = role_pid(ev, n, "sleeper");
	daemon = role_pid(ev, n, "daemon");

	/* every state event of a live process carries its groups */
	for (int i = 0; i < n; i++) {
		if (!is(&ev[i], "state", NULL) || jbool(&ev[i], "gone"))
			continue;
		ck_assert_msg(jget(&ev[i], "pgrp") && jget(&ev[i], "sid") &&
			      jget(&ev[i], "tpgid"), "state %d without groups",
			      i);
		/* proclab's own session is never one of the lab's */
		ck_assert_int_ne((int)jnum(&ev[i], "sid"), self);
	}
	/* the shell leads its session and owns the terminal */
	e = nth_event(ev, n, "session", NULL, 0);
	ck_assert_int_eq((int)jnum(e, "sid"), shell);
	ck_assert_int_eq((int)jnum(e, "tpgid"), shell);
	e = nth_event(ev, n, "state", "shell", 0);
	ck_assert_int_eq((int)jnum(e, "sid"), shell);
	ck_assert_int_eq((int)jnum(e, "pgrp"), shell);
	ck_assert_int_eq((int)jnum(e, "tpgid"), shell);
	/* the pipeline: one group, led by its first process, in the
	 * foreground, then stopped (T) in it */
	e = last_state(ev, n, "pipe-2", 'T');
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "pgrp"), p1);
	ck_assert_int_eq((int)jnum(e, "sid"), shell);
	e = nth_event(ev, n, "status", "pipe-1", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGTSTP");
	ck_assert_int_eq((int)jnum(e, "by"), shell);
	e = nth_event(ev, n, "status", "pipe-2", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGTSTP");
	/* ^C: both died of SIGINT, reaped by the shell */
	for (int k = 0; k < 2; k++) {
		e = nth_event(ev, n, "reap", k ? "pipe-2" : "pipe-1", 0);
		ck_assert_ptr_nonnull(e);
		ck_assert(jbool(e, "signaled"));
		ck_assert_str_eq(jstr(e, "signame"), "SIGINT");
		ck_assert_int_eq((int)jnum(e, "by"), shell);
		ck_assert_int_eq((int)jnum(e, "pid"), k ? p2 : p1);
	}
	/* the background reader: SIGTTIN, then SIGHUP once orphaned */
	e = nth_event(ev, n, "status", "reader", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGTTIN");
	ck_assert(jbool(e, "stopped"));
	e = last_state(ev, n, "reader", 'T');
	ck_assert_int_eq((int)jnum(e, "pgrp"), reader);
	ck_assert_int_ne((int)jnum(e, "tpgid"), reader);
	e = nth_event(ev, n, "reap", "reader", 0);
	ck_assert(jbool(e, "signaled"));
	ck_assert_str_eq(jstr(e, "signame"), "SIGHUP");
	ck_assert_int_eq((int)jnum(e, "by"), self);
	/* nohup, in the reader's job, stopped with it by SIGTTIN, then
	 * continued by the kernel's SIGCONT (it ignores SIGHUP), adopted */
	e = nth_event(ev, n, "status", "nohup", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGTTIN");
	e = last_state(ev, n, "nohup", 'T');
	ck_assert_int_eq((int)jnum(e, "pgrp"), reader);
	demonstrated(ev, n, "nohup", seq, sizeof(seq));
	ck_assert_msg(strlen(seq) >= 4 &&
		      strcmp(seq + strlen(seq) - 4, "TSZX") == 0, "%s", seq);
	e = last_state(ev, n, "nohup", 'S');
	ck_assert_int_eq((int)jnum(e, "ppid"), self);
	ck_assert_int_eq((int)jnum(e, "pgrp"), reader);
	e = nth_event(ev, n, "reap", "nohup", 0);
	ck_assert(jbool(e, "exited"));
	ck_assert_int_eq((int)jnum(e, "by"), self);
	/* the sleeper outlived the shell: adopted, no terminal */
	e = last_state(ev, n, "sleeper", 'S');
	ck_assert_int_eq((int)jnum(e, "ppid"), self);
	ck_assert_int_eq((int)jnum(e, "tpgid"), -1);
	ck_assert_int_eq((int)jnum(e, "pid"), sleeper);
	/* the daemon: its own session, no terminal, adopted by proclab */
	e = last_state(ev, n, "daemon", 'S');
	ck_assert_int_eq((int)jnum(e, "ppid"), self);
	ck_assert_int_eq((int)jnum(e, "tpgid"), -1);
	ck_assert_int_ne((int)jnum(e, "sid"), shell);
	ck_assert_int_ne((int)jnum(e, "sid"), daemon);  /* not a leader */
	e = nth_event(ev, n, "ctty", NULL, 0);
	ck_assert_int_eq((int)jnum(e, "pid"), daemon);
	ck_assert_int_eq((int)jnum(e, "tty_nr"), 0);
	/* the claims */
	static const struct { const char *id; bool holds; } want[] = {
		{ "session-pipeline-job", true },
		{ "session-ctrl-c-fg", true },
		{ "session-daemon-no-tty", true },
		{ "session-shell-leader", false },
		{ "session-sighup-all", false },
	};
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		c = NULL;
		for (int i = 0; i < n && c == NULL; i++)
			if (is(&ev[i], "claim", NULL) &&
			    strcmp(jstr(&ev[i], "id"), want[k].id) == 0)
				c = &ev[i];
		ck_assert_msg(c != NULL, "no claim %s", want[k].id);
		ck_assert_msg(jbool(c, "holds") == want[k].holds, "%s",
			      want[k].id);
	}
	outcome_free(&o);
	nothing_left();
}
END_TEST

/* Killed at each pause (SIGINT, SIGTERM: teardown; SIGKILL: lifelines,
 * parent-death signals, and the kernel's SIGHUP to an orphaned group),
 * nothing survives in any session. */
START_TEST(session_killed_at_pause)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGKILL };
	int stage = 1 + _i / 3;

	kill_at_pause((const char *const[]){ "session", "--json", "--step",
					      NULL }, stage, sigs[_i % 3],
		      NULL, NULL);
}
END_TEST

/* Run from a terminal (forkpty: proclab leads a session and the pty is
 * its controlling terminal), proclab keeps both: at every pause it is
 * still its session's leader, its group the terminal's foreground. */
START_TEST(session_keeps_proclab_terminal)
{
	char buf[65536], *seen = buf;
	size_t len = 0;
	int master, status, pauses = 0;
	ssize_t got;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *prog = getenv("PROCLAB");

		execl(prog != NULL ? prog : "./proclab", "proclab", "session",
		      "--json", "--step", (char *)NULL);
		_exit(127);
	}
	for (;;) {
		char *p;

		got = read(master, buf + len, sizeof(buf) - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;          /* EIO: the terminal is gone */
		len += (size_t)got;
		buf[len] = '\0';
		while ((p = strstr(seen, "\"event\":\"pause\"")) != NULL) {
			struct proc_stat st;

			seen = p + 1;
			ck_assert_int_eq(proc_peek_stat(pid, &st), PROC_OK);
			ck_assert_int_eq(st.session, pid);
			ck_assert_int_eq(st.pgrp, pid);
			ck_assert_int_eq(st.tpgid, pid);
			ck_assert_int_ne(st.tty_nr, 0);
			pauses++;
			ck_assert_int_eq(write(master, "\r", 1), 1);
		}
		ck_assert_uint_lt(len, sizeof(buf) - 1);
	}
	close(master);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status 0x%x: %s", status, buf);
	ck_assert_int_eq(pauses, 9);
}
END_TEST

/* At every --step pause, what /proc shows of each process the suggested
 * ps names (the columns ps -o pid,ppid,pgid,sid,tpgid,stat reads) agrees
 * with the last state event proclab printed for it. */
struct last { int pid, ppid, pgrp, sid, tpgid; char state; };

START_TEST(session_pause_agrees_with_ps)
{
	static struct last last[32];
	struct live l;
	struct jobj e;
	char err[1024];
	int nlast = 0, pauses = 0, self = -1;

	live_start(&l, (const char *const[]){ "session", "--json", "--step",
					       NULL });
	while (live_next(&l, &e)) {
		if (is(&e, "start", NULL))
			self = (int)jnum(&e, "pid");
		if (is(&e, "state", NULL) && !jbool(&e, "gone") &&
		    !jbool(&e, "transient")) {
			int pid = (int)jnum(&e, "pid"), k;

			for (k = 0; k < nlast && last[k].pid != pid; k++)
				;
			ck_assert_int_lt(k, 32);
			nlast += k == nlast;
			last[k] = (struct last){ pid, (int)jnum(&e, "ppid"),
				(int)jnum(&e, "pgrp"), (int)jnum(&e, "sid"),
				(int)jnum(&e, "tpgid"), jstr(&e, "state")[0] };
			continue;
		}
		if (!is(&e, "pause", NULL))
			continue;
		ck_assert_msg(strstr(jstr(&e, "ps"), "pgid,sid,tpgid,stat") !=
			      NULL, "%s", jstr(&e, "ps"));
		for (const char *p = jstr(&e, "pids"); *p != '\0';) {
			struct proc_stat st;
			char *end;
			int pid = (int)strtol(p, &end, 10), k;

			p = *end == ',' ? end + 1 : end;
			if (pid == self)        /* nothing of the lab is left */
				continue;
			for (k = 0; k < nlast && last[k].pid != pid; k++)
				;
			ck_assert_msg(k < nlast, "pid %d never shown (%s)", pid,
				      jstr(&e, "pids"));
			ck_assert_int_eq(proc_peek_stat(pid, &st), PROC_OK);
			ck_assert_int_eq(st.ppid, last[k].ppid);
			ck_assert_int_eq(st.pgrp, last[k].pgrp);
			ck_assert_int_eq(st.session, last[k].sid);
			ck_assert_int_eq(st.tpgid, last[k].tpgid);
			ck_assert_msg(st.state == last[k].state, "pid %d: %c, "
				      "shown %c", pid, st.state, last[k].state);
		}
		pauses++;
		ck_assert_int_eq(write(l.in, "\n", 1), 1);
	}
	ck_assert_int_eq(live_finish(&l, err, sizeof(err)), 0);
	ck_assert_int_eq(pauses, 9);
}
END_TEST

/* Started as nohup or a non-interactive shell's background job would
 * start it (SIGHUP, SIGINT ignored), the lab says so and still works:
 * its shell gives the jobs the default actions back. */
static int ignore_hup_int(void *arg)
{
	(void)arg;
	return signal(SIGHUP, SIG_IGN) == SIG_ERR ||
	       signal(SIGINT, SIG_IGN) == SIG_ERR ? -1 : 0;
}

START_TEST(session_inherited_ignored)
{
	static struct jobj ev[MAXEV];
	const struct jobj *e;
	struct outcome o;
	int n;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	run_proclab_as(&o, NULL, (const char *const[]){ "session", "--json",
							 NULL },
		       ignore_hup_int, NULL);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	e = nth_event(ev, n, "terminal", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "ignored"), "SIGHUP,SIGINT");
	e = nth_event(ev, n, "reap", "pipe-1", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGINT");
	e = nth_event(ev, n, "reap", "reader", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGHUP");
	outcome_free(&o);
	nothing_left();
}
END_TEST

/* ---- the engine's job-control flag, unit by unit ------------------------ */

/* A child that, for each byte read, moves to the group the byte names
 * ('o': its own, 'b': back to ours), answers, and exits at EOF. */
static pid_t group_child(int *cmd, int *ack)
{
	int c[2], a[2];
	pid_t back = getpgrp(), pid;

	ck_assert_int_eq(pipe(c), 0);
	ck_assert_int_eq(pipe(a), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char b;

		close(c[1]);
		close(a[0]);
		while (read(c[0], &b, 1) == 1) {
			if (setpgid(0, b == 'o' ? 0 : back) < 0 ||
			    write(a[1], &b, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(c[0]);
	close(a[1]);
	*cmd = c[1];
	*ack = a[0];
	return pid;
}

/* Move the child, and wait (behind the observer's back) until it sleeps
 * in read(2) again, so that what the observer sees next is the move. */
static void move(pid_t kid, int cmd, int ack, char where)
{
	struct proc_stat st;
	char b;

	ck_assert_int_eq(write(cmd, &where, 1), 1);
	ck_assert_int_eq(read(ack, &b, 1), 1);
	for (int i = 0; i < 3000; i++) {
		ck_assert_int_eq(proc_peek_stat(kid, &st), PROC_OK);
		if (st.state == 'S')
			return;
		usleep(1000);
	}
	ck_abort_msg("the child did not sleep again");
}

/* A run that prints JSON into a memory file. */
static void unit_run(struct run *r, const struct lab *lab, int out)
{
	memset(r, 0, sizeof(*r));
	r->lab = lab;
	r->json = true;
	r->self = getpid();
	r->sigfd = -1;
	r->timeout_ms = 3000;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	ck_assert_int_eq(obs_reserve(r, 4), 0);
	fflush(stdout);
	ck_assert_int_eq(dup2(out, STDOUT_FILENO), STDOUT_FILENO);
}

START_TEST(job_control_observer)
{
	static const struct lab jobs = { .name = "jobs", .job_control = true };
	static const struct lab plain = { .name = "plain" };
	static struct jobj ev[16];
	static char buf[8192];
	struct run r, r2;
	struct watched *w, *w2;
	int cmd, ack, out = memfd_create("out", 0), n, status;
	int saved = dup(STDOUT_FILENO);
	pid_t kid = group_child(&cmd, &ack);
	ssize_t len;

	ck_assert_int_ge(out, 0);
	ck_assert_int_ge(saved, 0);
	unit_run(&r, &jobs, out);
	w = obs_add(&r, kid, -1, "kid");
	ck_assert_ptr_nonnull(w);
	/* wait until it sleeps in read(2) */
	for (int i = 0; i < 3000 && obs_sample(&r, w, "S", NULL) != 'S'; i++)
		usleep(1000);
	/* a new group is a state event, though the letter stays */
	move(kid, cmd, ack, 'o');
	obs_show_all(&r, "in group {pgrp}");
	obs_show_all(&r, "in group {pgrp}");    /* no change: nothing */
	/* caught in passing, then shown again as demonstrated */
	move(kid, cmd, ack, 'b');
	obs_sample(&r, w, NULL, NULL);
	obs_show_all(&r, NULL);
	/* another lab: a group change is no event */
	unit_run(&r2, &plain, out);
	w2 = obs_add(&r2, kid, -1, "kid");
	ck_assert_ptr_nonnull(w2);
	ck_assert_int_eq(obs_sample(&r2, w2, "S", NULL), 'S');
	move(kid, cmd, ack, 'o');
	obs_show_all(&r2, NULL);
	fflush(stdout);
	ck_assert_int_eq(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	len = pread(out, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(len, 0);
	buf[len] = '\0';
	n = json_lines(buf, ev, 16);
	/* kid: first sight (maybe R first, in passing), the group change,
	 * the move back in passing and again demonstrated; then the plain
	 * lab's first sight and nothing more */
	ck_assert_msg(n >= 5, "%s", buf);
	ck_assert_int_eq((int)jnum(&ev[n - 1], "pid"), kid);
	ck_assert_ptr_null(jget(&ev[n - 1], "pgrp"));   /* plain lab */
	ck_assert_str_eq(jstr(&ev[n - 1], "from"), "");
	ck_assert_int_eq((int)jnum(&ev[n - 2], "pgrp"), getpgrp());
	ck_assert(!jbool(&ev[n - 2], "transient"));
	ck_assert_int_eq((int)jnum(&ev[n - 3], "pgrp"), getpgrp());
	ck_assert(jbool(&ev[n - 3], "transient"));
	ck_assert_int_eq((int)jnum(&ev[n - 4], "pgrp"), kid);
	ck_assert(!jbool(&ev[n - 4], "transient"));
	ck_assert_str_eq(jstr(&ev[n - 4], "state"), "S");
	ck_assert_str_eq(jstr(&ev[n - 4], "from"), "S");
	ck_assert_int_eq((int)jnum(&ev[n - 4], "sid"), getsid(0));
	ck_assert_int_eq((int)jnum(&ev[n - 5], "pgrp"), getpgrp());
	close(cmd);
	ck_assert_int_eq(waitpid(kid, &status, 0), kid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (struct run *x = &r; x != NULL; x = x == &r ? &r2 : NULL) {
		obs_release(&x->obs);
		free(x->obs.w);
		free(x->obs.pfd);
		free(x->obs.owner);
	}
}
END_TEST

Suite *make_session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, job_control_observer);
	tcase_add_test(tc, session_sequence);
	tcase_add_test(tc, session_inherited_ignored);
	tcase_add_loop_test(tc, session_killed_at_pause, 0, 9 * 3);
	tcase_add_test(tc, session_keeps_proclab_terminal);
	tcase_add_test(tc, session_pause_agrees_with_ps);
	suite_add_tcase(s, tc);
	return s;
}
