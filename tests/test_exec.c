/* test_exec.c - `proclab exec`: the same pid and parent after the exec, a
 * new comm, exe, cmdline and memory; the fds with close-on-exec closed,
 * the others kept; a handled signal reset, an ignored one kept, the mask
 * kept; ENOENT returns; the vfork caller resumes at the exec; its claims;
 * bad options; nothing left behind when killed at a pause.  Stage numbers
 * come from the lab's table of stages, by name. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 160

/* The `fds` event of `when`, its list parsed into fds; returns its count. */
static int fds_of(const struct jobj *ev, int n, const char *when,
		  struct jobj *fds, int max, int *pid)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "fds") == 0 &&
		    strcmp(jstr(&ev[i], "when"), when) == 0) {
			int k = jarray(&ev[i], "fds", fds, max);

			ck_assert_int_eq(k, (int)jnum(&ev[i], "count"));
			*pid = (int)jnum(&ev[i], "pid");
			return k;
		}
	ck_abort_msg("no fds event %s", when);
	return -1;
}

static const struct jobj *signals_of(const struct jobj *ev, int n,
				     const char *when)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "signals") == 0 &&
		    strcmp(jstr(&ev[i], "when"), when) == 0)
			return &ev[i];
	return NULL;
}

START_TEST(exec_sequence)
{
	static struct jobj ev[MAXEV];
	static struct jobj fds[PROBE_FDS_MAX];
	struct outcome o;
	const struct jobj *e;
	char exe[256];
	int n, k, child, caller, vchild, pid;

	run_proclab(&o, NULL, (const char *const[]){ "exec", "--json",
						      "--touch", "8", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_lt(n, MAXEV);
	assert_demonstrated(ev, n, "child", "SRSRSZX");
	assert_demonstrated(ev, n, "caller", "SDSX");
	assert_demonstrated(ev, n, "vchild", "RSZX");

	/* the exec: one process, a new program */
	e = nth_event(ev, n, "exec", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "stage"), stage_number("exec", "exec"));
	child = (int)jnum(e, "pid_before");
	ck_assert_int_gt(child, 0);
	ck_assert_int_eq((int)jnum(e, "pid_after"), child);
	ck_assert_int_eq((int)jnum(e, "ppid_before"), o.sid);
	ck_assert_int_eq((int)jnum(e, "ppid_after"), o.sid);
	ck_assert_str_eq(jstr(e, "comm_before"), "proclab-child");
	ck_assert_str_eq(jstr(e, "comm_after"), "cat");
	snprintf(exe, sizeof(exe), "%s", jstr(e, "exe_after"));
	ck_assert_msg(strlen(exe) > 4 && strcmp(exe + strlen(exe) - 4,
						"/cat") == 0, "exe %s", exe);
	ck_assert_str_ne(jstr(e, "exe_before"), exe);
	ck_assert_str_eq(jstr(e, "cmdline_after"), "cat");
	ck_assert_str_ne(jstr(e, "cmdline_before"), "cat");
	/* the 8 MiB written are gone with the old memory */
	ck_assert(jnum(e, "vmrss_before") > 8 * 1024);
	ck_assert(jnum(e, "vmrss_after") < 8 * 1024);
	ck_assert(jnum(e, "vmsize_after") < jnum(e, "vmsize_before"));
	e = nth_event(ev, n, "echo", NULL, 0);
	ck_assert_int_eq((int)jnum(e, "echoed"), 5);

	/* ENOENT: the call returned in the child, which ran on unchanged */
	e = nth_event(ev, n, "exec_failed", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "error"), "ENOENT");
	ck_assert_int_eq((int)jnum(e, "getpid"), child);
	ck_assert_str_eq(jstr(e, "comm"), "proclab-child");
	ck_assert(jbool(e, "unchanged"));
	ck_assert(jbool(e, "watch_open"));

	/* fds: 3 (no close-on-exec) kept, 4 and the pipes above closed */
	k = fds_of(ev, n, "before", fds, PROBE_FDS_MAX, &pid);
	ck_assert_int_eq(pid, child);
	ck_assert_int_eq(k, 8);
	for (int i = 0; i < k; i++) {
		ck_assert_int_eq((int)jnum(&fds[i], "fd"), i);
		ck_assert(jbool(&fds[i], "cloexec") == (i >= 4));
	}
	ck_assert_str_eq(jstr(&fds[0], "what"), "stdin: proclab writes");
	ck_assert_str_eq(jstr(&fds[3], "target"), "/dev/null");
	ck_assert_str_eq(jstr(&fds[4], "target"), "/dev/zero");
	ck_assert_str_eq(jstr(&fds[5], "what"), "the exec watch");
	k = fds_of(ev, n, "after", fds, PROBE_FDS_MAX, &pid);
	ck_assert_int_eq(pid, child);
	ck_assert_int_eq(k, 4);
	for (int i = 0; i < k; i++)
		ck_assert_int_eq((int)jnum(&fds[i], "fd"), i);
	ck_assert_str_eq(jstr(&fds[3], "target"), "/dev/null");
	e = nth_event(ev, n, "fd_summary", NULL, 0);
	ck_assert_int_eq((int)jnum(e, "kept"), 4);
	ck_assert_int_eq((int)jnum(e, "closed"), 4);
	ck_assert_int_eq((int)jnum(e, "against_flag"), 0);

	/* signals: the handler reset, the ignored and the blocked kept */
	e = signals_of(ev, n, "before");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "caught"), "SIGUSR1");
	ck_assert_str_eq(jstr(e, "ignored"), "SIGHUP");
	ck_assert_str_eq(jstr(e, "blocked"), "SIGUSR2");
	e = signals_of(ev, n, "after");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "caught"), "none");
	ck_assert_str_eq(jstr(e, "ignored"), "SIGHUP");
	ck_assert_str_eq(jstr(e, "blocked"), "SIGUSR2");
	e = nth_event(ev, n, "sent", NULL, 1);
	ck_assert_str_eq(jstr(e, "signal"), "SIGUSR2");
	ck_assert(jbool(e, "pending"));
	ck_assert_str_eq(jstr(e, "state"), "S");
	/* and SIGUSR1, no longer handled, killed cat */
	e = nth_event(ev, n, "reap", "child", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert(jbool(e, "signaled"));
	ck_assert_int_eq((int)jnum(e, "signal"), SIGUSR1);

	/* vfork: the caller resumed at the exec, its child alive as cat */
	e = nth_event(ev, n, "resume", NULL, 0);
	ck_assert_ptr_nonnull(e);
	caller = (int)jnum(e, "pid");
	vchild = (int)jnum(e, "child");
	ck_assert_int_eq((int)jnum(e, "returned"), vchild);
	ck_assert_str_eq(jstr(e, "while_child_ran"), "D");
	ck_assert(jbool(e, "child_alive"));
	ck_assert_str_eq(jstr(e, "child_comm"), "cat");
	e = nth_event(ev, n, "reap", "vchild", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "by"), caller);
	ck_assert(jbool(e, "exited"));
	ck_assert_int_eq((int)jnum(e, "code"), 0);

	/* the claims */
	static const struct { const char *id, *verdict; } want[] = {
		{ "exec-fork-then-exec", "holds" },
		{ "exec-replaces-memory", "holds" },
		{ "exec-closes-files", "does not hold" },
		{ "exec-resets-signals", "does not hold" },
		{ "vfork-exec-resumes", "holds" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		e = claim_event(ev, n, want[i].id);
		ck_assert_msg(e != NULL, "no claim %s", want[i].id);
		ck_assert_str_eq(jstr(e, "verdict"), want[i].verdict);
	}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

static const char *const bad[] = { "0", "7", "257", "x", "-1" };

START_TEST(exec_bad_options)
{
	struct outcome o;

	run_proclab(&o, NULL, (const char *const[]){ "exec", "--touch",
						      bad[_i], NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_uint_eq(o.outlen, 0);
	ck_assert_ptr_nonnull(strstr(o.err, "--touch"));
	outcome_free(&o);
}
END_TEST

static const struct killcase {
	int sig;
	const char *stage;
} killcases[] = {
	{ SIGINT, "fork" }, { SIGKILL, "prepare" }, { SIGTERM, "enoent" },
	{ SIGTERM, "exec" }, { SIGKILL, "exec" }, { SIGKILL, "fds" },
	{ SIGINT, "signals" }, { SIGTERM, "vfork" }, { SIGKILL, "vfork" },
	{ SIGKILL, "end" },
};

START_TEST(exec_killed_at_pause)
{
	const struct killcase *k = &killcases[_i];

	kill_at_pause((const char *const[]){ "exec", "--json", "--step",
					     "--touch", "8", NULL },
		      stage_number("exec", k->stage), k->sig, NULL, NULL);
}
END_TEST

Suite *make_exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exec_sequence);
	tcase_add_loop_test(tc, exec_bad_options, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, exec_killed_at_pause, 0,
			    (int)(sizeof(killcases) / sizeof(killcases[0])));
	suite_add_tcase(s, tc);
	return s;
}
