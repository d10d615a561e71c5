/* test_wait.c - `proclab wait`: every status agrees with its raw int, and
 * the stages show what they demonstrate.  Stage numbers come from the
 * lab's table (lab_wait.stages), none is written here. */
#include <check.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 256

extern const struct lab lab_wait;

static const char *ev_name(const struct jobj *e)
{
	return jstr(e, "event");
}

static bool is(const struct jobj *e, const char *event, const char *role)
{
	return strcmp(ev_name(e), event) == 0 &&
	       (role == NULL || strcmp(jstr(e, "role"), role) == 0);
}

static int find(const struct jobj *ev, int n, int from, const char *event,
		const char *role)
{
	for (int i = from; i < n; i++)
		if (is(&ev[i], event, role))
			return i;
	return -1;
}

/* The stage events follow the table, and each event named in `where`
 * happens in its stage. */
static void check_stages(const struct jobj *ev, int n)
{
	static const char *const where[][2] = {
		{ "claim", "signal" }, { "core", "core" },
		{ "poll", "poll" }, { "peek", "peek" }, { "wait", "echild" },
	};
	int k = 0, seen[sizeof(where) / sizeof(where[0])] = { 0 };

	for (int i = 0; i < n; i++) {
		if (is(&ev[i], "stage", NULL)) {
			const char *name = lab_wait.stages[k].name;

			ck_assert_msg(name != NULL, "more stages than the table");
			ck_assert_str_eq(jstr(&ev[i], "name"), name);
			ck_assert_int_eq((int)jnum(&ev[i], "stage"), ++k);
			continue;
		}
		for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++)
			if (is(&ev[i], where[w][0], NULL)) {
				ck_assert_int_eq((int)jnum(&ev[i], "stage"),
						 stage_number("wait", where[w][1]));
				seen[w]++;
			}
	}
	ck_assert_msg(lab_wait.stages[k].name == NULL,
		      "fewer stages than the table");
	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++)
		ck_assert_msg(seen[w] > 0, "no %s event", where[w][0]);
}

/* The stage the n-th event of `event` for `role` happens in. */
static int stage_of(const struct jobj *ev, int n, const char *event,
		    const char *role, int nth)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], event, role) && nth-- == 0)
			return (int)jnum(&ev[i], "stage");
	ck_abort_msg("no %s event for %s", event, role);
	return -1;
}

static int count_coredirs(void)
{
	glob_t g;
	int n;

	if (glob("/tmp/proclab-wait.*", 0, NULL, &g) != 0)
		return 0;
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* Every reap/status event: its decoded fields read from raw as the macros
 * read it; every decode event: its bit fields add up to raw. */
static void check_consistency(const struct jobj *ev, int n, pid_t self)
{
	int statuses = 0, decodes = 0;

	for (int i = 0; i < n; i++) {
		const struct jobj *e = &ev[i];

		if (is(e, "reap", NULL) || is(e, "status", NULL)) {
			int raw = (int)jnum(e, "raw");

			statuses++;
			ck_assert_int_eq((int)jnum(e, "by"), self);
			ck_assert(jbool(e, "exited") == !!WIFEXITED(raw));
			ck_assert(jbool(e, "signaled") == !!WIFSIGNALED(raw));
			ck_assert(jbool(e, "stopped") == !!WIFSTOPPED(raw));
			ck_assert(jbool(e, "continued") == !!WIFCONTINUED(raw));
			if (WIFEXITED(raw))
				ck_assert_int_eq((int)jnum(e, "code"),
						 WEXITSTATUS(raw));
			if (WIFSIGNALED(raw)) {
				ck_assert_int_eq((int)jnum(e, "signal"),
						 WTERMSIG(raw));
				ck_assert(jbool(e, "core") == !!WCOREDUMP(raw));
			}
			if (WIFSTOPPED(raw))
				ck_assert_int_eq((int)jnum(e, "signal"),
						 WSTOPSIG(raw));
			/* reap when collected, status otherwise */
			ck_assert(is(e, "reap", NULL) ==
				  (WIFEXITED(raw) || WIFSIGNALED(raw)));
			/* the next event is the decode of the same int */
			ck_assert(i + 1 < n && is(&ev[i + 1], "decode", NULL));
			ck_assert_int_eq((int)jnum(&ev[i + 1], "raw"), raw);
		}
		if (is(e, "decode", NULL)) {
			int raw = (int)jnum(e, "raw");

			decodes++;
			ck_assert_int_eq(((int)jnum(e, "high") << 8) |
					 ((int)jnum(e, "core_bit") << 7) |
					 (int)jnum(e, "low"), raw);
			ck_assert_int_eq((int)strlen(jstr(e, "bits")), 18);
		}
	}
	ck_assert_int_ge(statuses, 15);   /* 16 when a core may be written */
	ck_assert_int_eq(statuses, decodes);
}

static const struct jobj *reap_of(const struct jobj *ev, int n,
				  const char *role)
{
	int i = find(ev, n, 0, "reap", role);

	ck_assert_msg(i >= 0, "no reap of %s", role);
	return &ev[i];
}

START_TEST(wait_sequence)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *e;
	int n, i, dirs = count_coredirs();

	run_proclab(&o, NULL, (const char *const[]){ "wait", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_str_eq(ev_name(&ev[n - 1]), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	check_consistency(ev, n, o.sid);
	check_stages(ev, n);

	e = reap_of(ev, n, "exit0");
	ck_assert_int_eq((int)jnum(e, "raw"), 0);
	e = reap_of(ev, n, "code");
	ck_assert_int_eq((int)jnum(e, "code"), 3);
	ck_assert_int_eq((int)jnum(e, "raw"), 0x0300);
	e = reap_of(ev, n, "term");
	ck_assert_int_eq((int)jnum(e, "signal"), SIGTERM);
	ck_assert_str_eq(jstr(e, "signame"), "SIGTERM");
	ck_assert_int_eq((int)jnum(e, "raw"), SIGTERM);
	assert_demonstrated(ev, n, "code", "SZX");

	/* the claim: positions are bits, the low ones a signal number */
	i = find(ev, n, 0, "claim", NULL);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(jstr(&ev[i], "id"), "wait-status-bytes");
	ck_assert_str_eq(jstr(&ev[i], "verdict"), "does not hold");
	ck_assert(!jbool(&ev[i], "holds"));
	ck_assert_int_eq((int)jnum(&ev[i], "raw_code") >> 8,
			 (int)jnum(&ev[i], "code"));

	/* core: RLIMIT_CORE 0 gives a clear bit; the core event agrees with
	 * the reap; no core file and no directory left behind */
	e = reap_of(ev, n, "core-off");
	ck_assert_int_eq((int)jnum(e, "signal"), SIGABRT);
	ck_assert(!jbool(e, "core"));
	for (i = find(ev, n, 0, "core", NULL); i >= 0;
	     i = find(ev, n, i + 1, "core", NULL)) {
		int raw = (int)jnum(&ev[i], "raw");
		ck_assert(jbool(&ev[i], "core") == !!WCOREDUMP(raw));
		if (!jbool(&ev[i], "pipe") && jbool(&ev[i], "core"))
			ck_assert_int_ge((int)jnum(&ev[i], "files"), 1);
	}
	i = find(ev, n, 0, "core", NULL);
	if (!jbool(&ev[i], "pipe"))
		ck_assert_int_eq((int)jnum(&ev[i], "rlimit_core"), 0);
	ck_assert_int_eq(count_coredirs(), dirs);

	/* stop and continue: T seen, then back to S */
	assert_demonstrated(ev, n, "sigstop", "STSZX");
	i = find(ev, n, 0, "status", "sigstop");
	ck_assert_int_ge(i, 0);
	ck_assert(jbool(&ev[i], "stopped"));
	ck_assert_int_eq((int)jnum(&ev[i], "signal"), SIGSTOP);
	i = find(ev, n, i + 1, "status", "sigstop");
	ck_assert_int_ge(i, 0);
	ck_assert(jbool(&ev[i], "continued"));
	e = reap_of(ev, n, "sigstop");
	ck_assert_int_eq((int)jnum(e, "signal"), SIGKILL);
	/* the stop in its stage; the continue and the kill in the next */
	ck_assert_int_eq(stage_of(ev, n, "status", "sigstop", 0),
			 stage_number("wait", "stop"));
	ck_assert_int_eq(stage_of(ev, n, "status", "sigstop", 1),
			 stage_number("wait", "continue"));
	ck_assert_int_eq(stage_of(ev, n, "reap", "sigstop", 0),
			 stage_number("wait", "continue"));

	/* poll: at least the empty polls made before the child was told */
	i = find(ev, n, 0, "poll", NULL);
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq((int)jnum(&ev[i], "told_after"), 3);
	ck_assert_int_ge((int)jnum(&ev[i], "polls"), 3);

	/* peek: the child is still Z, then reaped with the same code */
	i = find(ev, n, 0, "peek", NULL);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(jstr(&ev[i], "state"), "Z");
	ck_assert(jbool(&ev[i], "exited"));
	e = reap_of(ev, n, "peeked");
	ck_assert(e > &ev[i]);
	ck_assert_int_eq((int)jnum(e, "code"), (int)jnum(&ev[i], "code"));
	ck_assert_int_eq((int)jnum(e, "pid"), (int)jnum(&ev[i], "pid"));
	assert_demonstrated(ev, n, "peeked", "SZX");

	/* order: reaped as they ended (c, a, b), not as made */
	i = find(ev, n, 0, "order", NULL);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(jstr(&ev[i], "mode"), "one-at-a-time");
	ck_assert(jbool(&ev[i], "as_ended"));
	ck_assert_str_eq(jstr(&ev[i], "reaped"), jstr(&ev[i], "ended"));
	ck_assert_str_ne(jstr(&ev[i], "reaped"), jstr(&ev[i], "made"));
	ck_assert(reap_of(ev, n, "c") < reap_of(ev, n, "a"));
	ck_assert(reap_of(ev, n, "a") < reap_of(ev, n, "b"));
	ck_assert_int_eq((int)jnum(&ev[i], "stage"), stage_number("wait", "order"));
	i = find(ev, n, i + 1, "order", NULL);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(jstr(&ev[i], "mode"), "all-ended-first");
	ck_assert_int_eq((int)jnum(&ev[i], "stage"), stage_number("wait", "zombies"));
	assert_demonstrated(ev, n, "f", "SZX");

	/* and nothing is left to wait for */
	i = find(ev, n, 0, "wait", NULL);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(jstr(&ev[i], "error"), "ECHILD");
	ck_assert_int_eq((int)jnum(&ev[i], "pid"), -1);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(wait_options)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	int n, i;

	run_proclab(&o, NULL, (const char *const[]){ "wait", "--json", "--code",
						      "200", "--polls", "7",
						      NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_eq((int)jnum(reap_of(ev, n, "code"), "code"), 200);
	ck_assert_int_eq((int)jnum(reap_of(ev, n, "code"), "raw"), 200 << 8);
	i = find(ev, n, 0, "poll", NULL);
	ck_assert_int_eq((int)jnum(&ev[i], "told_after"), 7);
	ck_assert_int_ge((int)jnum(&ev[i], "polls"), 7);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(wait_text_view)
{
	struct outcome o;

	/* the sentences unwrapped, to find them whole */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "wait", NULL });
	ck_assert_int_eq(unsetenv("COLUMNS"), 0);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	/* the bits and the macros, for the stop and the continue */
	ck_assert(strstr(o.out, "status 0x137f = 00010011 0 1111111: bits "
			 "15-8 = 19, bit 7 = 0, bits 6-0 = 127; the macros "
			 "read WIFEXITED 0, WIFSIGNALED 0, WIFSTOPPED 1 "
			 "WSTOPSIG 19, WIFCONTINUED 0\n") != NULL);
	ck_assert(strstr(o.out, "0xffff = 11111111 1 1111111") != NULL);
	ck_assert(strstr(o.out, "WIFCONTINUED 1\n") != NULL);
	ck_assert(strstr(o.out, "T stopped") != NULL);
	/* the sentences of the lab's table, with the values filled in */
	ck_assert(strstr(o.out, "bit 7 clear: RLIMIT_CORE 0 forbids a core "
			 "file") != NULL ||
		  strstr(o.out, "bit 7 clear: core_pattern pipes") != NULL);
	ck_assert(strstr(o.out, "times before it collected the child, which "
			 "was told to exit after poll 3;") != NULL);
	ck_assert(strstr(o.out, "WEXITED|WNOWAIT) saw peeked ") != NULL);
	ck_assert(strstr(o.out, "/proc then showed Z: nothing was collected")
		  != NULL);
	ck_assert(strstr(o.out, "with all three already zombies") != NULL);
	ck_assert(strstr(o.out, "waitpid(-1) failed with ECHILD") != NULL);
	ck_assert(strstr(o.out, "\033[") == NULL);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Bad option values: exit 2, nothing on stdout, one line naming the word. */
static const char *const bad[][3] = {
	{ "--code", "256", "256" },
	{ "--code", "-1", "-1" },
	{ "--polls", "0", "0" },
	{ "--polls", "many", "many" },
};

START_TEST(wait_bad_values)
{
	struct outcome o;
	const char *nl;

	run_proclab(&o, NULL, (const char *const[]){ "wait", bad[_i][0],
						      bad[_i][1], NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_uint_eq(o.outlen, 0);
	ck_assert_msg(strstr(o.err, bad[_i][2]) != NULL, "stderr: %s", o.err);
	nl = strchr(o.err, '\n');
	ck_assert(nl != NULL && nl[1] == '\0');
	outcome_free(&o);
}
END_TEST

/* /proc/PID/stat of pid: its state letter and policy (field 41), or 0. */
static char stat_of(int pid, int *policy)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int field = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return '\0';
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return '\0';
	char state = p[2];
	*policy = -1;
	for (p += 3; *p != '\0'; p++)
		if (*p == ' ' && ++field == 41) {
			*policy = atoi(p + 1);
			break;
		}
	return state;
}

/* At every --step pause, what the lab printed last for each process it
 * shows is what /proc (and so ps) shows at that moment; the pause names
 * the lab's live processes, not proclab alone when there are some; a
 * spinning child waits under SCHED_IDLE (5), still R.  wait pauses
 * between the WNOWAIT peek and the reap, with the zombie there. */
static const char *const step_labs[] = { "wait", "states", "zombie", "fork",
					 "orphan", "vfork" };

START_TEST(step_pauses_match_ps)
{
	struct live l;
	struct jobj e;
	char err[1024], last[65536] = "", stage[32] = "";
	int pauses = 0, idle = 0, peek_z = 0;
	bool peeked = false;

	live_start(&l, (const char *const[]){ step_labs[_i], "--json",
					      "--step", NULL });
	while (live_next(&l, &e)) {
		const char *ev = jstr(&e, "event");

		if (strcmp(ev, "stage") == 0) {
			snprintf(stage, sizeof(stage), "%s", jstr(&e, "name"));
			peeked = false;
		}
		if (strcmp(ev, "peek") == 0)
			peeked = true;
		if (strcmp(ev, "state") == 0 && !jbool(&e, "transient")) {
			int pid = (int)jnum(&e, "pid");

			if (pid > 0 && pid < (int)sizeof(last))
				last[pid] = jstr(&e, "state")[0];
		}
		if (strcmp(ev, "pause") != 0)
			continue;
		pauses++;
		char pids[512];
		int listed = 0;

		snprintf(pids, sizeof(pids), "%s", jstr(&e, "pids"));
		for (char *t = strtok(pids, ","); t != NULL;
		     t = strtok(NULL, ",")) {
			int pid = atoi(t), policy;
			char now = stat_of(pid, &policy);

			listed++;
			if (pid == l.pid)
				continue;
			ck_assert_msg(now != '\0', "%s stage %s: pause lists "
				      "%d, which is gone", step_labs[_i], stage,
				      pid);
			if (pid < (int)sizeof(last) && last[pid] != '\0')
				ck_assert_msg(last[pid] == now, "%s stage %s: "
					      "the last line for %d says %c, "
					      "/proc shows %c", step_labs[_i],
					      stage, pid, last[pid], now);
			if (now == 'R' && getuid() == 0) {
				ck_assert_msg(policy == 5, "%s stage %s: %d "
					      "spins under policy %d while "
					      "paused", step_labs[_i], stage,
					      pid, policy);
				idle++;
			}
			if (peeked && now == 'Z')
				peek_z++;
		}
		/* every process shown and not released is listed */
		for (int pid = 1; pid < (int)sizeof(last); pid++)
			if (last[pid] != '\0' && last[pid] != 'X') {
				char mark[16];

				snprintf(mark, sizeof(mark), ",%d,", pid);
				snprintf(pids, sizeof(pids), ",%s,",
					 jstr(&e, "pids"));
				ck_assert_msg(strstr(pids, mark) != NULL,
					      "%s stage %s: %d (last %c) not "
					      "in the pause's %s", step_labs[_i],
					      stage, pid, last[pid],
					      jstr(&e, "pids"));
			}
		ck_assert_int_ge(listed, 1);
		ck_assert_int_eq(write(l.in, "\n", 1), 1);
	}
	ck_assert_int_eq(live_finish(&l, err, sizeof(err)), 0);
	ck_assert_int_gt(pauses, 0);
	if (strcmp(step_labs[_i], "wait") == 0)
		ck_assert_msg(peek_z == 1, "no pause with the peeked zombie");
	if (getuid() == 0 && (strcmp(step_labs[_i], "states") == 0 ||
			      strcmp(step_labs[_i], "zombie") == 0))
		ck_assert_int_ge(idle, 1);
	ck_assert_int_eq(survivors(l.pid), 0);
}
END_TEST

Suite *make_wait_suite(void)
{
	Suite *s = suite_create("wait");
	TCase *tc = tcase_create("wait");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, wait_sequence);
	tcase_add_loop_test(tc, step_pauses_match_ps, 0,
			    sizeof(step_labs) / sizeof(step_labs[0]));
	tcase_add_test(tc, wait_options);
	tcase_add_test(tc, wait_text_view);
	tcase_add_loop_test(tc, wait_bad_values, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, tc);
	return s;
}
