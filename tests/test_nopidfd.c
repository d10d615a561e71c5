/* test_nopidfd.c - without pidfds (PROCLAB_NO_PIDFD=1: what valgrind 3.19
 * and Linux < 5.3 leave proclab), the labs show the same states as with
 * them, and leave nothing behind, killed or not. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 512

static const char *const cases[][2] = {
	{ "zombie", NULL },
	{ "zombie", "--ignore-sigchld" },
	{ "states", NULL },
	{ "wait", NULL },
	{ "orphan", NULL },
	{ "orphan", "--subreaper" },
};

/* "role:STATES role:STATES ...": every role's demonstrated states, the
 * roles in the order they were first seen. */
static void sequences(const struct jobj *ev, int n, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *role = jstr(&ev[i], "role");
		char seq[32];
		bool seen = false;

		if (strcmp(jstr(&ev[i], "event"), "state") != 0)
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(jstr(&ev[j], "event"), "state") == 0 &&
			       strcmp(jstr(&ev[j], "role"), role) == 0;
		if (seen)
			continue;
		demonstrated(ev, n, role, seq, sizeof(seq));
		len += (size_t)snprintf(out + len, size - len, "%s%s:%s",
					len ? " " : "", role, seq);
		ck_assert_uint_lt(len, size);
	}
}

/* Run a case, with pidfds or without; its sequences into seqs. */
static void run_case(int c, bool pidfd, char *seqs, size_t size)
{
	static struct jobj ev[MAXEV];
	const char *argv[] = { cases[c][0], "--json", cases[c][1], NULL };
	const struct jobj *start;
	struct outcome o;
	int n;

	if (pidfd)
		unsetenv("PROCLAB_NO_PIDFD");
	else
		setenv("PROCLAB_NO_PIDFD", "1", 1);
	run_proclab(&o, NULL, argv);
	unsetenv("PROCLAB_NO_PIDFD");
	ck_assert_msg(o.code == 0, "%s %s, %s pidfds: exit %d: %s",
		      cases[c][0], cases[c][1] ? cases[c][1] : "",
		      pidfd ? "with" : "without", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_lt(n, MAXEV);
	start = &ev[0];
	ck_assert_str_eq(jstr(start, "event"), "start");
	ck_assert_ptr_nonnull(jget(start, "pidfd"));
	if (!pidfd)
		ck_assert(!jbool(start, "pidfd"));
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	sequences(ev, n, seqs, size);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}

START_TEST(same_states)
{
	char with[256], without[256];

	run_case(_i, true, with, sizeof(with));
	run_case(_i, false, without, sizeof(without));
	ck_assert_msg(with[0] != '\0', "%s showed no state", cases[_i][0]);
	ck_assert_str_eq(without, with);
}
END_TEST

/* Killed while it holds a process that is not its child and, without a
 * pidfd, is signalled by pid: the vfork child of states' third stage,
 * the adopted orphan of orphan's second. */
static const struct {
	const char *lab;
	const char *stage;
	int sig;
} kills[] = {
	{ "states", "vfork", SIGTERM }, { "states", "vfork", SIGKILL },
	{ "orphan", "exit", SIGTERM }, { "orphan", "exit", SIGKILL },
};

static void no_pidfd_said(const struct jobj *e, void *arg)
{
	(void)arg;
	if (strcmp(jstr(e, "event"), "start") == 0)
		ck_assert(!jbool(e, "pidfd"));
}

START_TEST(killed_without_pidfds)
{
	setenv("PROCLAB_NO_PIDFD", "1", 1);
	kill_at_pause((const char *const[]){ kills[_i].lab, "--json", "--step",
					     NULL },
		      stage_number(kills[_i].lab, kills[_i].stage),
		      kills[_i].sig, no_pidfd_said, NULL);
	unsetenv("PROCLAB_NO_PIDFD");
}
END_TEST

Suite *make_nopidfd_suite(void)
{
	Suite *s = suite_create("nopidfd");
	TCase *tc = tcase_create("fallback");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, same_states, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, killed_without_pidfds, 0,
			    (int)(sizeof(kills) / sizeof(kills[0])));
	suite_add_tcase(s, tc);
	return s;
}
