/* test_vfork.c - `proclab vfork`: the caller is D while its vfork child
 * runs, sees what the child wrote, resumes at the child's exec; the cost
 * events; bad options; and nothing left behind when killed midway.  Stage
 * numbers come from the lab's table of stages, by name. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 160
#define MIB (1024.0 * 1024.0)

static int count(const struct jobj *ev, int n, const char *event)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += strcmp(jstr(&ev[i], "event"), event) == 0;
	return c;
}

START_TEST(vfork_sequence)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *e, *c0, *c1;
	int n, caller, child, execd;

	run_proclab(&o, NULL, (const char *const[]){ "vfork", "--json",
						      "--rss", "16", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_lt(n, MAXEV);
	assert_demonstrated(ev, n, "caller", "SDSDSX");
	assert_demonstrated(ev, n, "child", "RSZX");
	assert_demonstrated(ev, n, "exec-child", "RSX");

	/* family: proclab -> caller -> both children, as /proc showed */
	caller = role_pid(ev, n, "caller");
	child = role_pid(ev, n, "child");
	execd = role_pid(ev, n, "exec-child");
	ck_assert_int_gt(child, 0);
	ck_assert_int_gt(execd, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(jstr(&ev[i], "event"), "state") != 0 ||
		    jbool(&ev[i], "gone"))
			continue;
		if (strcmp(jstr(&ev[i], "role"), "caller") == 0)
			ck_assert_int_eq((int)jnum(&ev[i], "ppid"), o.sid);
		else
			ck_assert_int_eq((int)jnum(&ev[i], "ppid"), caller);
	}

	/* the vfork stage: still D while the child sleeps */
	e = nth_event(ev, n, "wchan", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "pid"), caller);
	ck_assert_str_eq(jstr(e, "state"), "D");
	ck_assert_int_eq((int)jnum(e, "stage"), stage_number("vfork", "vfork"));
	/* the exec stage: resumed, S in an ordinary wait */
	e = nth_event(ev, n, "wchan", NULL, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "state"), "S");
	ck_assert_int_eq((int)jnum(e, "stage"), stage_number("vfork", "exec"));

	/* clone() returned each child's own pid to the caller */
	ck_assert_int_eq(count(ev, n, "resume"), 2);
	e = nth_event(ev, n, "resume", NULL, 0);
	ck_assert_str_eq(jstr(e, "after"), "_exit");
	ck_assert_int_eq((int)jnum(e, "child"), child);
	ck_assert_int_eq((int)jnum(e, "returned"), child);
	e = nth_event(ev, n, "resume", NULL, 1);
	ck_assert_str_eq(jstr(e, "after"), "exec");
	ck_assert_int_eq((int)jnum(e, "returned"), execd);

	/* one memory: the caller read what the child stored */
	e = nth_event(ev, n, "shared", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "before"), 0);
	ck_assert_int_eq((int)jnum(e, "child_wrote"), 42);
	ck_assert_int_eq((int)jnum(e, "caller_read"), 42);
	e = claim_event(ev, n, "vfork-cannot-write");
	ck_assert_ptr_nonnull(e);
	ck_assert(!jbool(e, "holds"));
	ck_assert_int_eq((int)jnum(e, "caller_read"), 42);
	e = claim_event(ev, n, "vfork-shares-memory");
	ck_assert_ptr_nonnull(e);
	ck_assert(jbool(e, "holds"));

	/* the exec'd child lives on after its parent resumed */
	e = nth_event(ev, n, "exec", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "pid"), execd);
	ck_assert_str_eq(jstr(e, "comm"), "cat");
	ck_assert(jbool(e, "alive"));
	ck_assert_int_eq((int)jnum(e, "echoed"), (int)jnum(e, "sent"));
	e = claim_event(ev, n, "vfork-exec-returns");
	ck_assert_ptr_nonnull(e);
	ck_assert(!jbool(e, "holds"));
	ck_assert(jbool(e, "child_alive"));

	/* the caller reaped both children, proclab the caller */
	ck_assert_int_eq(count(ev, n, "reap"), 3);
	for (int k = 0; k < 3; k++) {
		e = nth_event(ev, n, "reap", NULL, k);
		ck_assert(jbool(e, "exited"));
		ck_assert_int_eq((int)jnum(e, "code"), 0);
		ck_assert_int_eq((int)jnum(e, "raw"), 0);
		ck_assert_int_eq((int)jnum(e, "pid"), k == 0 ? child
						       : k == 1 ? execd : caller);
		ck_assert_int_eq((int)jnum(e, "by"), k < 2 ? caller : o.sid);
	}

	/* cost: measured, positive, the resident set as /proc showed it */
	ck_assert_int_eq(count(ev, n, "cost"), 2);
	c0 = nth_event(ev, n, "cost", NULL, 0);
	c1 = nth_event(ev, n, "cost", NULL, 1);
	ck_assert_int_eq((int)jnum(c0, "touched_bytes"), 0);
	ck_assert_int_eq((int)jnum(c1, "touched_bytes"), 16 << 20);
	for (int k = 0; k < 2; k++) {
		e = k ? c1 : c0;
		ck_assert_double_gt(jnum(e, "rss_bytes"), 0);
		ck_assert_double_gt(jnum(e, "fork_us"), 0);
		ck_assert_double_gt(jnum(e, "vfork_us"), 0);
		ck_assert_int_eq((int)jnum(e, "reps"), 15);
		ck_assert_double_eq_tol(jnum(e, "ratio"),
					jnum(e, "fork_us") / jnum(e, "vfork_us"),
					0.01 * jnum(e, "ratio") + 0.01);
	}
	/* about 16 MiB more than before, not less, not far more */
	ck_assert_double_ge(jnum(c1, "rss_bytes") - jnum(c0, "rss_bytes"),
			    15.9 * MIB);
	ck_assert_double_le(jnum(c1, "rss_bytes") - jnum(c0, "rss_bytes"),
			    17 * MIB);
	e = claim_event(ev, n, "vfork-same-cost");
	ck_assert_ptr_nonnull(e);
	ck_assert_double_eq_tol(jnum(e, "ratio_small"), jnum(c0, "ratio"), 1e-3);
	ck_assert_double_eq_tol(jnum(e, "ratio_large"), jnum(c1, "ratio"), 1e-3);
	/* holds is computed from the ratios, whatever this machine gives */
	ck_assert(jbool(e, "holds") ==
		  (jnum(e, "ratio_small") <= jnum(e, "factor") &&
		   jnum(e, "ratio_small") >= 1 / jnum(e, "factor") &&
		   jnum(e, "ratio_large") <= jnum(e, "factor") &&
		   jnum(e, "ratio_large") >= 1 / jnum(e, "factor")));

	e = &ev[n - 1];
	ck_assert_str_eq(jstr(e, "event"), "result");
	ck_assert(jbool(e, "ok"));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(vfork_value_option)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *e;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "vfork", "--json", "--value",
						      "777", "--rss", "1", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	e = nth_event(ev, n, "shared", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "child_wrote"), 777);
	ck_assert_int_eq((int)jnum(e, "caller_read"), 777);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(vfork_text_view)
{
	struct outcome o;
	char last[32];

	/* sentences whole on their lines: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "vfork", "--rss", "1", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert(strstr(o.out, "D disk sleep") != NULL);
	snprintf(last, sizeof(last), "stage %d: exit", stage_number("vfork", "exit"));
	ck_assert_msg(strstr(o.out, last) != NULL, "no '%s'", last);
	ck_assert_msg(strstr(o.out, "\"Multiprocessing and interprocess "
			     "communication\" says fork and vfork") != NULL,
		      "no cost claim in: %s", o.out);
	ck_assert(strstr(o.out, "\033[") == NULL);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Under a small fd limit the caller cannot move its pipes into place: it
 * reports the call that failed, and proclab ends at once (the long
 * --timeout would show a wait) with exit 3, one line on stderr, and an
 * error event just before the result; nothing is left behind. */
static int few_fds(void *arg)
{
	struct rlimit rl = { 16, 16 };

	(void)arg;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

START_TEST(vfork_setup_failure)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const char *nl;
	int n;

	run_proclab_as(&o, NULL, (const char *const[]){ "vfork", "--json",
			"--timeout", "20000", NULL }, few_fds, NULL);
	ck_assert_msg(o.code == 3, "exit %d: %s", o.code, o.err);
	nl = strchr(o.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", o.err);
	ck_assert_msg(strstr(o.err, "proclab: vfork: the caller cannot set "
			     "up: ") == o.err, "%s", o.err);
	ck_assert(strstr(o.err, "Too many open files") != NULL);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_ge(n, 3);
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert_int_eq((int)jnum(&ev[n - 1], "exit"), 3);
	ck_assert_str_eq(jstr(&ev[n - 2], "event"), "error");
	ck_assert_str_eq(jstr(&ev[n - 2], "role"), "caller");
	ck_assert_str_eq(jstr(&ev[n - 2], "error"), "EMFILE");
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

static const struct bad {
	const char *argv[6];
	const char *word;
} bad[] = {
	{ { "vfork", "--rss", "0", NULL }, "'0'" },
	{ { "vfork", "--rss", "1025", NULL }, "'1025'" },
	{ { "vfork", "--rss", "64MiB", NULL }, "'64MiB'" },
	{ { "vfork", "--rss", NULL }, "--rss" },
	{ { "vfork", "--value", "0", NULL }, "'0'" },
	{ { "vfork", "--value", "-5", NULL }, "'-5'" },
};

START_TEST(vfork_bad_options)
{
	const struct bad *b = &bad[_i];
	struct outcome o;
	const char *nl;

	run_proclab(&o, NULL, b->argv);
	ck_assert_msg(o.code == 2, "case %d: exit %d, stderr %s", _i, o.code, o.err);
	ck_assert_msg(o.outlen == 0, "case %d: stdout not empty: %s", _i, o.out);
	nl = strchr(o.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "case %d: not one line: %s", _i, o.err);
	ck_assert_msg(strstr(o.err, b->word) != NULL, "case %d: '%s' not named in: %s",
		      _i, b->word, o.err);
	if (strcmp(b->argv[1], "--rss") == 0 && b->argv[2] != NULL)
		ck_assert_msg(strstr(o.err, "(1 to ") != NULL, "no range: %s", o.err);
	outcome_free(&o);
}
END_TEST

/* Killed while held at a pause (with --step): at the vfork stage's the
 * caller is D and its child S; at the exec stage's the caller waits in
 * waitpid and cat runs.  SIGTERM goes through proclab's teardown; SIGKILL
 * leaves it to the parent-death signals, the caller's and its children's. */
static const struct killcase {
	int sig;
	const char *stage;
} killcases[] = {
	{ SIGTERM, "vfork" }, { SIGKILL, "vfork" },
	{ SIGTERM, "exec" }, { SIGKILL, "exec" },
};

/* At the vfork stage's pause the caller must be seen in D. */
static void note_caller_d(const struct jobj *e, void *arg)
{
	if (strcmp(jstr(e, "event"), "state") == 0 &&
	    strcmp(jstr(e, "role"), "caller") == 0 &&
	    strcmp(jstr(e, "state"), "D") == 0)
		*(bool *)arg = true;
}

START_TEST(vfork_killed_midway)
{
	const struct killcase *k = &killcases[_i];
	bool caller_d = false;

	kill_at_pause((const char *const[]){ "vfork", "--json", "--step",
					     "--rss", "1", NULL },
		      stage_number("vfork", k->stage), k->sig, note_caller_d, &caller_d);
	if (strcmp(k->stage, "vfork") == 0)
		ck_assert(caller_d);
}
END_TEST

Suite *make_vfork_suite(void)
{
	Suite *s = suite_create("vfork");
	TCase *tc = tcase_create("vfork");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, vfork_sequence);
	tcase_add_test(tc, vfork_value_option);
	tcase_add_test(tc, vfork_text_view);
	tcase_add_test(tc, vfork_setup_failure);
	tcase_add_loop_test(tc, vfork_bad_options, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, vfork_killed_midway, 0,
			    (int)(sizeof(killcases) / sizeof(killcases[0])));
	suite_add_tcase(s, tc);
	return s;
}
