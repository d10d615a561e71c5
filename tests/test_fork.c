/* test_fork.c - `proclab fork`: both returns of fork(), checked; the run
 * order reported as a permutation; separate memory; one minor fault per
 * page written and (almost) none per page read; R S Z X; nothing left. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 512

static struct jobj ev[MAXEV];

static int count(int n, const char *event)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += strcmp(jstr(&ev[i], "event"), event) == 0;
	return k;
}

/* The k-th (from 0) event named `event` whose `key` is `val` (NULL: any). */
static const struct jobj *nth(int n, const char *event, const char *key,
			      const char *val, int k)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), event) == 0 &&
		    (key == NULL || strcmp(jstr(&ev[i], key), val) == 0) &&
		    k-- == 0)
			return &ev[i];
	return NULL;
}

static int run_json(struct outcome *o, const char *const argv[])
{
	int n;

	run_proclab(o, NULL, argv);
	ck_assert_msg(o->code == 0, "exit %d: %s", o->code, o->err);
	n = json_lines(o->out, ev, MAXEV);
	ck_assert_str_eq(jstr(&ev[0], "event"), "start");
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	return n;
}

#define PID(o, k) ((long)jnum(o, k))

START_TEST(fork_returns_and_states)
{
	struct outcome o;
	const struct jobj *pr, *cr, *fr, *reap;
	long parent, child;
	int n = run_json(&o, (const char *const[]){ "fork", "--json", NULL });

	assert_demonstrated(ev, n, "parent", "SZX");
	assert_demonstrated(ev, n, "child", "SRSZX");

	/* the parent got the child's pid, the child 0; each knows its
	 * parent, and /proc agrees */
	ck_assert_int_eq(count(n, "fork_return"), 2);
	pr = nth(n, "fork_return", "role", "parent", 0);
	cr = nth(n, "fork_return", "role", "child", 0);
	ck_assert_ptr_nonnull(pr);
	ck_assert_ptr_nonnull(cr);
	parent = PID(pr, "pid");
	child = PID(cr, "pid");
	ck_assert_int_ne(parent, child);
	ck_assert_int_eq(PID(pr, "returned"), child);
	ck_assert_int_eq(PID(pr, "getpid"), parent);
	ck_assert_int_eq(PID(pr, "getppid"), o.sid);
	ck_assert_int_eq(PID(pr, "proc_ppid"), o.sid);
	ck_assert_int_eq(PID(cr, "returned"), 0);
	ck_assert_int_eq(PID(cr, "getpid"), child);
	ck_assert_int_eq(PID(cr, "getppid"), parent);
	ck_assert_int_eq(PID(cr, "proc_ppid"), parent);
	ck_assert(jbool(pr, "agrees") && jbool(cr, "agrees"));

	/* every state event of the child names the parent as its parent */
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "state") == 0)
			ck_assert_int_eq(PID(&ev[i], "ppid"),
					 strcmp(jstr(&ev[i], "role"), "child")
						 ? o.sid : parent);

	/* one fork: two stamps, 0 and 1, one for each side */
	fr = nth(n, "first_run", NULL, NULL, 0);
	ck_assert_ptr_nonnull(fr);
	ck_assert_int_eq(PID(fr, "child"), child);
	ck_assert_int_eq(PID(fr, "parent_stamp") + PID(fr, "child_stamp"), 1);
	ck_assert_str_eq(jstr(fr, "first"), PID(fr, "parent_stamp") == 0
					    ? "parent" : "child");

	/* the parent reaped the child (status from its waitpid), proclab
	 * reaped the parent */
	reap = nth(n, "reap", "role", "child", 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert_int_eq(PID(reap, "by"), parent);
	ck_assert_int_eq(PID(reap, "pid"), child);
	ck_assert(jbool(reap, "exited"));
	ck_assert_int_eq((int)jnum(reap, "code"), 1);
	ck_assert_int_eq((int)jnum(reap, "raw"), 1 << 8);
	reap = nth(n, "reap", "role", "parent", 0);
	ck_assert_ptr_nonnull(reap);
	ck_assert_int_eq(PID(reap, "by"), o.sid);
	ck_assert_int_eq((int)jnum(reap, "raw"), 0);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(fork_separate_memory)
{
	struct outcome o;
	const struct jobj *before, *set, *after, *sep;
	int n = run_json(&o, (const char *const[]){ "fork", "--json", NULL });

	before = nth(n, "memory", "when", "before fork", 0);
	set = nth(n, "memory", "when", "set", 0);
	after = nth(n, "memory", "when", "after", 0);
	sep = nth(n, "separate", NULL, NULL, 0);
	ck_assert(before && set && after && sep);
	/* the same address in both, two values */
	ck_assert_str_eq(jstr(before, "address"), jstr(set, "address"));
	ck_assert_str_eq(jstr(after, "address"), jstr(set, "address"));
	ck_assert(jnum(set, "value") != jnum(before, "value"));
	ck_assert(jnum(after, "value") == jnum(before, "value"));
	ck_assert(jbool(sep, "separate"));
	ck_assert(jbool(sep, "same_address"));
	ck_assert_int_eq((int)jnum(sep, "children_changed"), 1);
	ck_assert(jnum(sep, "parent_after") == jnum(before, "value"));
	outcome_free(&o);
}
END_TEST

/* Copy-on-write: reading the shared pages costs (almost) no fault,
 * writing them one fault per page.  No exact counts. */
static void check_cow(const char *pages)
{
	struct outcome o;
	const struct jobj *rd, *wr, *c;
	long np = atol(pages);
	int n = run_json(&o, (const char *const[]){ "fork", "--json", "--pages",
						     pages, NULL });

	ck_assert_int_eq(count(n, "cow"), 2);
	rd = nth(n, "cow", "pass", "read", 0);
	wr = nth(n, "cow", "pass", "write", 0);
	ck_assert(rd && wr);
	ck_assert_int_eq((long)jnum(rd, "pages"), np);
	ck_assert_int_eq((long)jnum(rd, "pages_read"), np);
	ck_assert_int_eq((long)jnum(wr, "pages_written"), np);
	for (const struct jobj *p = rd; p; p = p == rd ? wr : NULL)
		ck_assert_int_eq((long)(jnum(p, "minflt_after") - jnum(p, "minflt_before")),
				 (long)jnum(p, "minflt_delta"));
	ck_assert_msg(jnum(wr, "minflt_delta") >= np, "write: %g faults for %ld pages",
		      jnum(wr, "minflt_delta"), np);
	ck_assert_msg(jnum(rd, "minflt_delta") * 4 < np,
		      "read: %g faults for %ld pages", jnum(rd, "minflt_delta"), np);
	/* fork copies the page table only; the "two addresses" do not hold */
	c = nth(n, "claim", "id", "fork-page-table", 0);
	ck_assert_ptr_nonnull(c);
	ck_assert(jbool(c, "holds"));
	ck_assert(jnum(c, "write_faults") == jnum(wr, "minflt_delta"));
	c = nth(n, "claim", "id", "fork-two-addresses", 0);
	ck_assert_ptr_nonnull(c);
	ck_assert(!jbool(c, "holds"));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}

START_TEST(fork_cow_default)
{
	check_cow("256");
}
END_TEST

START_TEST(fork_cow_many_pages)
{
	check_cow("4096");
}
END_TEST

/* Several children: each runs the whole sequence; the 2N stamps are a
 * permutation of 0..2N-1 that respects what causality fixes (the parent's
 * own stamps in order; child i+1 cannot run before fork #i+1 was called,
 * after the parent's stamp for fork #i), whatever the scheduler did. */
START_TEST(fork_children_order)
{
	enum { N = 5 };
	struct outcome o;
	const struct jobj *ro, *c;
	bool seen[2 * N] = { false };
	long prev_parent = -1;
	char role[32], seq[32], order[256], *tok, *save;
	int parents = 0, childs[N + 1] = { 0 };
	int n = run_json(&o, (const char *const[]){ "fork", "--json", "--children",
						     "5", "--pages", "16", NULL });

	ck_assert_int_eq(count(n, "fork_return"), 2 * N);
	ck_assert_int_eq(count(n, "first_run"), N);
	for (int i = 1; i <= N; i++) {
		const struct jobj *fr = nth(n, "first_run", NULL, NULL, i - 1);
		long ps = PID(fr, "parent_stamp"), cs = PID(fr, "child_stamp");

		ck_assert_int_eq((int)jnum(fr, "fork"), i);
		ck_assert(ps >= 0 && ps < 2 * N && cs >= 0 && cs < 2 * N);
		ck_assert(!seen[ps] && !seen[cs]);
		seen[ps] = seen[cs] = true;
		ck_assert_int_gt(ps, prev_parent);
		ck_assert_int_gt(cs, prev_parent);
		prev_parent = ps;

		snprintf(role, sizeof(role), "child%d", i);
		demonstrated(ev, n, role, seq, sizeof(seq));
		ck_assert_str_eq(seq, "SRSZX");
		c = nth(n, "reap", "role", role, 0);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq((int)jnum(c, "code"), i);
		ck_assert_int_eq(PID(c, "pid"), PID(fr, "child"));
	}
	/* the order string names every process: the parent once per fork */
	ro = nth(n, "run_order", NULL, NULL, 0);
	ck_assert_ptr_nonnull(ro);
	ck_assert_int_eq((int)jnum(ro, "stamps"), 2 * N);
	ck_assert_int_eq((int)(jnum(ro, "parent_first") + jnum(ro, "child_first")), N);
	snprintf(order, sizeof(order), "%s", jstr(ro, "order"));
	for (tok = strtok_r(order, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "parent") == 0)
			parents++;
		else {
			int k = atoi(tok + 5);
			ck_assert(strncmp(tok, "child", 5) == 0 && k >= 1 && k <= N);
			childs[k]++;
		}
	}
	ck_assert_int_eq(parents, N);
	for (int i = 1; i <= N; i++)
		ck_assert_int_eq(childs[i], 1);
	c = nth(n, "separate", NULL, NULL, 0);
	ck_assert_int_eq((int)jnum(c, "children_changed"), N);
	c = nth(n, "claim", "id", "fork-shared-cow", 0);
	ck_assert_ptr_nonnull(c);
	ck_assert(!jbool(c, "holds"));
	ck_assert_int_eq((int)jnum(c, "stamps_seen"), N);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(fork_text_view)
{
	struct outcome o;
	char last[64];

	snprintf(last, sizeof(last), "stage %d: parent-exit",
		 stage_number("fork", "parent-exit"));
	/* sentences whole on their lines: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "fork", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert(strstr(o.out, "fork() returned 0;") != NULL);
	ck_assert(strstr(o.out, "(the child's pid)") != NULL);
	ck_assert(strstr(o.out, "minor faults") != NULL);
	ck_assert(strstr(o.out, "Z zombie") != NULL);
	ck_assert_msg(strstr(o.out, last) != NULL, "no \"%s\"", last);
	ck_assert_str_eq(o.err, "");
	outcome_free(&o);
}
END_TEST

START_TEST(fork_step)
{
	struct outcome o;
	int n, pauses = 0, stages = stage_number("fork", NULL);
	char enter[64] = "";

	/* one Enter for each pause: one after every stage */
	ck_assert_int_lt(stages, (int)sizeof(enter));
	memset(enter, '\n', (size_t)stages);
	run_proclab(&o, enter,
		    (const char *const[]){ "fork", "--json", "--step", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "pause") == 0) {
			pauses++;
			/* at the exit stage's pause both are there for ps */
			if ((int)jnum(&ev[i], "stage") == stage_number("fork", "exit"))
				ck_assert(strchr(jstr(&ev[i], "pids"), ',') != NULL);
		}
	ck_assert_int_eq(pauses, stages);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

static void killed_at(int at, int sig)
{
	kill_at_pause((const char *const[]){ "fork", "--json", "--step",
					     "--children", "3", NULL },
		      at, sig, NULL, NULL);
}

START_TEST(fork_sigterm_while_running)
{
	killed_at(stage_number("fork", "run"), SIGTERM);    /* children spinning */
}
END_TEST

START_TEST(fork_sigkill_with_zombies)
{
	/* no teardown: parent-death signals */
	killed_at(stage_number("fork", "exit"), SIGKILL);
}
END_TEST

/* Out-of-range counts: exit 2, nothing on stdout, one line naming the
 * bad word and the range. */
static const char *const bad[][3] = {
	{ "--children", "0", "1 to 32" },
	{ "--children", "33", "1 to 32" },
	{ "--children", "-1", "1 to 32" },
	{ "--children", "many", "1 to 32" },
	{ "--pages", "0", "1 to 65536" },
	{ "--pages", "65537", "1 to 65536" },
	{ "--pages", "1e3", "1 to 65536" },
};

START_TEST(fork_bad_values)
{
	struct outcome o;
	const char *nl;
	char word[32];

	run_proclab(&o, NULL, (const char *const[]){ "fork", bad[_i][0], bad[_i][1],
						      NULL });
	ck_assert_msg(o.code == 2, "%s %s: exit %d", bad[_i][0], bad[_i][1], o.code);
	ck_assert_int_eq((int)o.outlen, 0);
	nl = strchr(o.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", o.err);
	snprintf(word, sizeof(word), "'%s'", bad[_i][1]);
	ck_assert_msg(strstr(o.err, word) != NULL, "%s not named: %s", word, o.err);
	ck_assert_msg(strstr(o.err, bad[_i][2]) != NULL, "no range: %s", o.err);
	outcome_free(&o);
}
END_TEST

Suite *make_fork_suite(void)
{
	Suite *s = suite_create("fork");
	TCase *tc = tcase_create("fork");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fork_returns_and_states);
	tcase_add_test(tc, fork_separate_memory);
	tcase_add_test(tc, fork_cow_default);
	tcase_add_test(tc, fork_cow_many_pages);
	tcase_add_test(tc, fork_children_order);
	tcase_add_test(tc, fork_text_view);
	tcase_add_test(tc, fork_step);
	tcase_add_test(tc, fork_sigterm_while_running);
	tcase_add_test(tc, fork_sigkill_with_zombies);
	tcase_add_loop_test(tc, fork_bad_values, 0, sizeof(bad) / sizeof(bad[0]));
	suite_add_tcase(s, tc);
	return s;
}
