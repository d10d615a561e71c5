/* test_signal.c - `proclab signal`: what each disposition, mask and state
 * does to a signal, read back from the JSON it printed. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 512

static struct jobj ev[MAXEV];

/* The number of stage `name` in the signal lab (1-based). */
static int stage_no(const char *name)
{
	const struct lab *lab = NULL;
	int k = 0;

	for (size_t i = 0; i < lab_count; i++)
		if (strcmp(lab_table[i]->name, "signal") == 0)
			lab = lab_table[i];
	ck_assert_ptr_nonnull(lab);
	for (const struct stage *s = lab->stages; s->name != NULL; s++) {
		k++;
		if (strcmp(s->name, name) == 0)
			return k;
	}
	ck_abort_msg("signal has no stage %s", name);
	return -1;
}

/* The k-th event `event` whose `key` is `value`, or NULL. */
static const struct jobj *find(int n, const char *event, const char *key,
			       const char *value, int k)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), event) == 0 &&
		    (key == NULL || strcmp(jstr(&ev[i], key), value) == 0) &&
		    k-- == 0)
			return &ev[i];
	return NULL;
}

/* The event `event` of stage `stage` whose `key` is `value`. */
static const struct jobj *in_stage(int n, const char *stage,
				   const char *event, const char *key,
				   const char *value)
{
	int no = stage_no(stage);

	for (int i = 0; i < n; i++)
		if ((int)jnum(&ev[i], "stage") == no &&
		    strcmp(jstr(&ev[i], "event"), event) == 0 &&
		    (key == NULL || strcmp(jstr(&ev[i], key), value) == 0))
			return &ev[i];
	ck_abort_msg("no %s event with %s=%s in stage %s", event,
		     key ? key : "-", value ? value : "-", stage);
	return NULL;
}

static int run_json(struct outcome *o, const char *const argv[])
{
	int n;

	run_proclab(o, NULL, argv);
	ck_assert_msg(o->code == 0, "exit %d: %s", o->code, o->err);
	n = json_lines(o->out, ev, MAXEV);
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	return n;
}

START_TEST(signal_sigterm_three_ways)
{
	struct outcome o;
	const struct jobj *e;
	int n = run_json(&o, (const char *const[]){ "signal", "--json", NULL });

	/* default action: killed, a zombie, reaped */
	assert_demonstrated(ev, n, "default", "SZX");
	e = nth_event(ev, n, "reap", "default", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert(jbool(e, "signaled"));
	ck_assert_str_eq(jstr(e, "signame"), "SIGTERM");

	/* ignored: SigIgn shows it, nothing pending, still S, exits 0 */
	e = in_stage(n, "ignore", "sigmask", "field", "SigIgn");
	ck_assert_str_eq(jstr(e, "raw"), "0000000000004000");
	ck_assert_str_eq(jstr(e, "signals"), "SIGTERM");
	e = in_stage(n, "ignore", "sigmask", "field", "ShdPnd");
	ck_assert_str_eq(jstr(e, "signals"), "");
	e = in_stage(n, "ignore", "survived", NULL, NULL);
	ck_assert_str_eq(jstr(e, "state"), "S");
	e = nth_event(ev, n, "reap", "ignoring", 0);
	ck_assert(jbool(e, "exited"));

	/* caught: SigCgt shows it, the handler ran once, still S */
	e = in_stage(n, "catch", "sigmask", "field", "SigCgt");
	ck_assert_str_eq(jstr(e, "signals"), "SIGTERM");
	e = in_stage(n, "catch", "handler", "signal", "SIGTERM");
	ck_assert_int_eq((int)jnum(e, "call"), 1);
	ck_assert_str_eq(jstr(e, "code"), "SI_USER");
	e = in_stage(n, "catch", "survived", NULL, NULL);
	ck_assert_str_eq(jstr(e, "state"), "S");
	e = in_stage(n, "catch", "delivered", "signal", "SIGTERM");
	ck_assert_int_eq((int)jnum(e, "sent"), 1);
	ck_assert_int_eq((int)jnum(e, "received"), 1);

	/* SIGKILL and SIGSTOP: neither caught nor ignored */
	for (int k = 0; k < 4; k++) {
		e = find(n, "action", "errno", "EINVAL", k);
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq((int)jnum(e, "rc"), -1);
		ck_assert_str_eq(jstr(e, "signal"), k < 2 ? "SIGKILL" : "SIGSTOP");
	}
	ck_assert_ptr_null(find(n, "action", "errno", "EINVAL", 4));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(signal_pending_and_coalesced)
{
	struct outcome o;
	const struct jobj *e;
	int n = run_json(&o, (const char *const[]){ "signal", "--json", NULL });

	/* kill() is for the process (ShdPnd), raise() for the thread */
	e = in_stage(n, "pending", "sigmask", "field", "SigBlk");
	ck_assert_str_eq(jstr(e, "signals"), "SIGUSR1,SIGUSR2");
	ck_assert_str_eq(jstr(e, "raw"), "0000000000000a00");
	e = in_stage(n, "pending", "sigmask", "field", "ShdPnd");
	ck_assert_str_eq(jstr(e, "signals"), "SIGUSR1");
	e = in_stage(n, "pending", "sigmask", "field", "SigPnd");
	ck_assert_str_eq(jstr(e, "signals"), "SIGUSR2");
	e = in_stage(n, "unblock", "handler", "signal", "SIGUSR2");
	ck_assert_str_eq(jstr(e, "code"), "SI_TKILL");
	e = in_stage(n, "unblock", "delivered", "signal", "SIGUSR1");
	ck_assert_int_eq((int)jnum(e, "received"), 1);
	e = in_stage(n, "unblock", "sigmask", "field", "SigBlk");
	ck_assert_str_eq(jstr(e, "signals"), "");

	/* three of each while blocked: one bit each in ShdPnd */
	e = in_stage(n, "coalesce", "sigmask", "field", "ShdPnd");
	ck_assert_str_eq(jstr(e, "signals"), "SIGUSR1,SIGRTMIN");
	e = in_stage(n, "deliver", "delivered", "signal", "SIGUSR1");
	ck_assert_int_eq((int)jnum(e, "sent"), 3);
	ck_assert_int_eq((int)jnum(e, "received"), 1);
	e = in_stage(n, "deliver", "delivered", "signal", "SIGRTMIN");
	ck_assert_int_eq((int)jnum(e, "sent"), 3);
	ck_assert_int_eq((int)jnum(e, "received"), 3);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(signal_and_d)
{
	struct outcome o;
	const struct jobj *e;
	int n = run_json(&o, (const char *const[]){ "signal", "--json", NULL });

	e = in_stage(n, "d-pending", "pending", "signal", "SIGUSR1");
	ck_assert_str_eq(jstr(e, "state"), "D");
	ck_assert(jbool(e, "pending"));
	/* the handler ran only after the release */
	for (int i = 0; i < n; i++)
		ck_assert(strcmp(jstr(&ev[i], "event"), "handler") != 0 ||
			  (int)jnum(&ev[i], "stage") != stage_no("d-pending"));
	e = in_stage(n, "d-release", "delivered", "signal", "SIGUSR1");
	ck_assert_int_eq((int)jnum(e, "received"), 1);
	e = in_stage(n, "d-kill", "killed_in_d", NULL, NULL);
	ck_assert_str_eq(jstr(e, "after"), "Z");
	e = nth_event(ev, n, "reap", "catcher", 0);
	ck_assert_str_eq(jstr(e, "signame"), "SIGKILL");
	/* the catcher: S, D twice, then the zombie SIGKILL made */
	assert_demonstrated(ev, n, "catcher", "SDSDZX");
	e = in_stage(n, "d-release", "claim", "id", "signal-d-delivered-later");
	ck_assert_str_eq(jstr(e, "verdict"), "holds");
	e = in_stage(n, "d-kill", "claim", "id", "signal-d-ignores-all");
	ck_assert_str_eq(jstr(e, "verdict"), "does not hold");
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* stage, handler runs, reaped by the parent, zombies left (of 4) */
static const struct { const char *stage; int runs, reaped, zombies; }
chld[] = {
	{ "sigchld-once", 1, 1, 3 },
	{ "sigchld-loop", 1, 4, 0 },
	{ "sigchld-ignore", 0, 0, 0 },
	{ "sa-nocldwait", 1, 0, 0 },
};

START_TEST(signal_sigchld)
{
	struct outcome o;
	const struct jobj *e;
	int n = run_json(&o, (const char *const[]){ "signal", "--json",
						    "--children", "4", NULL });

	for (size_t i = 0; i < sizeof(chld) / sizeof(chld[0]); i++) {
		e = in_stage(n, chld[i].stage, "coalesce", NULL, NULL);
		ck_assert_int_eq((int)jnum(e, "children"), 4);
		ck_assert_msg((int)jnum(e, "handler_calls") == chld[i].runs,
			      "%s: %g runs", chld[i].stage,
			      jnum(e, "handler_calls"));
		ck_assert_int_eq((int)jnum(e, "reaped"), chld[i].reaped);
		ck_assert_int_eq((int)jnum(e, "zombies_left"), chld[i].zombies);
	}
	/* the zombies were seen as Z before the handler ran */
	e = in_stage(n, "sigchld-once", "sigmask", "field", "ShdPnd");
	ck_assert_str_eq(jstr(e, "signals"), "SIGCHLD");
	e = in_stage(n, "sigchld-once", "cleanup", NULL, NULL);
	ck_assert_int_eq((int)jnum(e, "reaped"), 3);
	e = in_stage(n, "sa-nocldwait", "action", "flags", "SA_NOCLDWAIT");
	ck_assert_int_eq((int)jnum(e, "rc"), 0);
	e = in_stage(n, "sa-nocldwait", "claim", "id", "sigchld-only-ign");
	ck_assert_str_eq(jstr(e, "verdict"), "does not hold");
	ck_assert_int_eq((int)jnum(e, "nocldwait_zombies"), 0);
	ck_assert_int_eq((int)jnum(e, "once_zombies"), 3);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Killed at a pause: in D with its vfork child, and with signals
 * pending. */
START_TEST(signal_killed_in_d)
{
	kill_at_pause((const char *const[]){ "signal", "--json", "--step",
					     NULL },
		      stage_no("d-pending"), _i == 0 ? SIGKILL : SIGTERM,
		      NULL, NULL);
}
END_TEST

START_TEST(signal_killed_with_pending)
{
	kill_at_pause((const char *const[]){ "signal", "--json", "--step",
					     NULL },
		      stage_no("coalesce"), _i == 0 ? SIGKILL : SIGINT,
		      NULL, NULL);
}
END_TEST

Suite *make_signal_suite(void)
{
	Suite *s = suite_create("signal");
	TCase *tc = tcase_create("signal");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, signal_sigterm_three_ways);
	tcase_add_test(tc, signal_pending_and_coalesced);
	tcase_add_test(tc, signal_and_d);
	tcase_add_test(tc, signal_sigchld);
	tcase_add_loop_test(tc, signal_killed_in_d, 0, 2);
	tcase_add_loop_test(tc, signal_killed_with_pending, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
