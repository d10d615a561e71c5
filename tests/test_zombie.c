/* test_zombie.c - `proclab zombie` shows R, S, Z, X, in that order. */
#include <check.h>
#include <string.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 128

START_TEST(zombie_sequence)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *start, *reap, *sig, *res;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	start = &ev[0];
	ck_assert_str_eq(jstr(start, "event"), "start");
	ck_assert_int_eq((int)jnum(start, "schema"), PROCLAB_SCHEMA);
	ck_assert_int_eq((pid_t)jnum(start, "pid"), o.sid);
	assert_demonstrated(ev, n, "child", "RSZX");

	sig = nth_event(ev, n, "signal", NULL, 0);
	ck_assert_ptr_nonnull(sig);
	ck_assert_str_eq(jstr(sig, "state"), "Z");       /* SIGKILL did nothing */
	reap = nth_event(ev, n, "reap", NULL, 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert(jbool(reap, "exited"));
	ck_assert_int_eq((int)jnum(reap, "code"), 42);
	ck_assert_int_eq((int)jnum(reap, "raw"), 42 << 8);
	ck_assert_int_eq((int)jnum(reap, "by"), o.sid);
	ck_assert(!jbool(reap, "signaled"));

	/* every state event names a pid whose parent is proclab (or 0, for
	 * an X caught in the instant of release) */
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "state") == 0 &&
		    !(jnum(&ev[i], "ppid") == 0 &&
		      strcmp(jstr(&ev[i], "state"), "X") == 0))
			ck_assert_int_eq((int)jnum(&ev[i], "ppid"), o.sid);
	/* the zombie lost its memory */
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "holds") == 0 &&
		    strncmp(jstr(&ev[i], "what"), "VmRSS", 5) == 0) {
			ck_assert_double_gt(jnum(&ev[i], "before"), 0);
			ck_assert_str_eq(jstr(&ev[i], "verdict"), "gone");
		}
	res = &ev[n - 1];
	ck_assert_str_eq(jstr(res, "event"), "result");
	ck_assert(jbool(res, "ok"));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(zombie_exit_code_option)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *reap;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json", "--code", "7", NULL });
	ck_assert_int_eq(o.code, 0);
	n = json_lines(o.out, ev, MAXEV);
	reap = nth_event(ev, n, "reap", NULL, 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert_int_eq((int)jnum(reap, "code"), 7);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(zombie_ignore_sigchld)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *w, *obs;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json",
						      "--ignore-sigchld", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	assert_demonstrated(ev, n, "child", "RSX");          /* no demonstrated Z */
	ck_assert_ptr_null(nth_event(ev, n, "reap", NULL, 0));
	w = nth_event(ev, n, "wait", NULL, 0);
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(jstr(w, "error"), "ECHILD");
	obs = nth_event(ev, n, "observed", NULL, 0);
	ck_assert_ptr_nonnull(obs);
	/* zombie_seen must match the states actually reported */
	ck_assert(jbool(obs, "zombie_seen") == (strchr(jstr(obs, "trail"), 'Z') != NULL));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(zombie_text_view)
{
	struct outcome o;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert(strstr(o.out, "Z zombie") != NULL);
	ck_assert(strstr(o.out, "X released") != NULL);
	ck_assert(strstr(o.out, "\033[") == NULL);     /* not a terminal: no color */
	ck_assert(strstr(o.out, "stage 5: reap") != NULL);
	outcome_free(&o);
}
END_TEST

/* --step pauses after every stage; EOF on stdin means go on, and a line
 * per stage works the same.  At the exit stage's pause, ps would show Z. */
START_TEST(zombie_step)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	int n, pauses = 0;
	bool z_pause = false;

	run_proclab(&o, "\n\n\n\n\n\n", (const char *const[]){ "zombie", "--json",
								"--step", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "pause") == 0) {
			pauses++;
			ck_assert(strstr(jstr(&ev[i], "ps"), "ps -o pid,ppid,stat") != NULL);
			if ((int)jnum(&ev[i], "stage") == 3)
				z_pause = true;
		}
	ck_assert_int_eq(pauses, 5);
	ck_assert(z_pause);
	outcome_free(&o);
}
END_TEST

Suite *make_zombie_suite(void)
{
	Suite *s = suite_create("zombie");
	TCase *tc = tcase_create("zombie");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, zombie_sequence);
	tcase_add_test(tc, zombie_exit_code_option);
	tcase_add_test(tc, zombie_ignore_sigchld);
	tcase_add_test(tc, zombie_text_view);
	tcase_add_test(tc, zombie_step);
	suite_add_tcase(s, tc);
	return s;
}
