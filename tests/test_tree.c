/* test_tree.c - `proclab tree`: the trees read from /proc after each
 * action agree, over many seeds, with a model of each --reaper written
 * here from the kernel's rule (only the exiting process's children move:
 * to a reaper outside the tree, to a, or to the exiting process's parent),
 * not from the lab's code; the lists made from --seed are the ones the
 * documented generator (splitmix64, man page) gives, recomputed here; the
 * loop puzzle makes 2^N processes named by their iterations; fork.py's
 * claim does not hold when an exiting process has grandchildren; --quiz
 * checks answers against /proc; lists too large are refused with exit 2;
 * nothing is left behind, also when proclab is killed at a pause. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 400
#define MAXP 64

static struct jobj ev[MAXEV];
static struct jobj nodes[MAXP];

/* ---- the documented generator, written again ---------------------------- */

static uint64_t next(uint64_t *s)
{
	uint64_t z;

	*s += 0x9e3779b97f4a7c15ULL;
	z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* a..z, then ba..bz, ca..: the name's digits in base 26, 'a' as 0 */
static void name_of(int k, char *out)
{
	char rev[8];
	int n = 0;

	do {
		rev[n++] = (char)('a' + k % 26);
		k /= 26;
	} while (k > 0);
	for (int i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
}

struct model {
	char name[MAXP][8];
	int parent[MAXP];       /* -1 proclab, -2 outside (init), else index */
	int forker[MAXP];
	bool dead[MAXP];
	int n;
	char list[1024];        /* "a+b,b-" */
};

static int mfind(const struct model *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->name[i], name) == 0)
			return i;
	return -1;
}

static void gen(struct model *m, uint64_t seed, int actions, int permille,
		bool leaf)
{
	int made = 1;

	memset(m, 0, sizeof(*m));
	strcpy(m->name[0], "a");
	m->parent[0] = m->forker[0] = -1;
	m->n = 1;
	for (int k = 0; k < actions; k++) {
		int alive[MAXP], cand[MAXP], na = 0, nc = 0;

		for (int i = 0; i < m->n; i++) {
			bool kids = false;

			if (m->dead[i])
				continue;
			alive[na++] = i;
			for (int j = 0; j < m->n; j++)
				kids |= !m->dead[j] && m->forker[j] == i;
			if (i > 0 && (!leaf || !kids))
				cand[nc++] = i;
		}
		if (k > 0)
			strcat(m->list, ",");
		if ((int)(next(&seed) % 1000) < permille || nc == 0) {
			int who = alive[next(&seed) % (uint64_t)na];

			ck_assert_int_lt(m->n, MAXP);
			name_of(made++, m->name[m->n]);
			m->forker[m->n] = who;
			sprintf(m->list + strlen(m->list), "%s+%s",
				m->name[who], m->name[m->n]);
			m->n++;
		} else {
			int x = cand[next(&seed) % (uint64_t)nc];

			m->dead[x] = true;
			sprintf(m->list + strlen(m->list), "%s-", m->name[x]);
		}
	}
}

/* ---- the reaper models --------------------------------------------------- */

enum { INIT, A, EACH };

/* Apply one action ("x+y" or "x-") to the tree of parents. */
static void apply(struct model *m, const char *act, int reaper)
{
	char x[8], y[8];

	if (sscanf(act, "%7[a-z0-9]+%7[a-z0-9]", x, y) == 2) {
		int p = mfind(m, x);

		ck_assert_int_ge(p, 0);
		strcpy(m->name[m->n], y);
		m->parent[m->n] = p;
		m->dead[m->n] = false;
		m->n++;
		return;
	}
	ck_assert_int_eq(sscanf(act, "%7[a-z0-9]-", x), 1);
	int e = mfind(m, x);

	ck_assert_int_ge(e, 0);
	m->dead[e] = true;
	/* its own children, and no one else, move */
	for (int i = 0; i < m->n; i++)
		if (!m->dead[i] && m->parent[i] == e)
			m->parent[i] = reaper == INIT ? -2 : reaper == A ? 0
				     : m->parent[e];
}

static const char *pname(const struct model *m, int i)
{
	return m->parent[i] == -1 ? "proclab" : m->parent[i] == -2 ? "init"
	       : m->name[m->parent[i]];
}

/* The tree event against the model: the same live names, each with the
 * parent the model says ("init": a reaper outside the tree, PID 1 or the
 * test itself as a subreaper, which the lab names "other"), and the ppid
 * (a role with --stable) agreeing with the parent. */
static void same_tree(const struct jobj *e, const struct model *m,
		      const char *ctx)
{
	int n = jarray(e, "nodes", nodes, MAXP), live = 0;

	ck_assert_int_ge(n, 1);
	ck_assert_int_eq((int)jnum(e, "count"), n);
	for (int i = 0; i < m->n; i++)
		live += !m->dead[i];
	ck_assert_msg(n == live, "%s: %d nodes, the model has %d", ctx, n,
		      live);
	for (int k = 0; k < n; k++) {
		const char *name = jstr(&nodes[k], "name"),
			   *parent = jstr(&nodes[k], "parent"),
			   *ppid = jstr(&nodes[k], "ppid");
		int i = mfind(m, name);

		ck_assert_msg(i >= 0 && !m->dead[i], "%s: %s is not alive in "
			      "the model", ctx, name);
		if (strcmp(parent, "other") == 0)
			parent = "init";
		ck_assert_msg(strcmp(parent, pname(m, i)) == 0, "%s: %s's "
			      "parent is %s, the model says %s", ctx, name,
			      parent, pname(m, i));
		ck_assert_str_eq(jstr(&nodes[k], "pid"), name);
		if (m->parent[i] >= 0 || m->parent[i] == -1)
			ck_assert_str_eq(ppid, pname(m, i));
		ck_assert_str_eq(jstr(&nodes[k], "state"), "S");
	}
}

/* Reap what the test adopts (as a subreaper) once proclab is gone. */
static void reap_adopted(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	ck_assert_int_eq(errno, ECHILD);
}

/* Run proclab tree with argv (after "tree"), check each tree against the
 * model built from the lab's own list event (compared with `want` when
 * not NULL), and that nothing is left. */
static void check_run(const char *const *argv, int reaper, const char *want)
{
	const char *full[24] = { "tree", "--json", "--stable", "--solve" };
	struct outcome o;
	struct model m;
	int k = 4, n, trees = 0, acts = 0;
	char list[1024] = "";

	for (int i = 0; argv[i] != NULL; i++)
		full[k++] = argv[i];
	full[k] = NULL;
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	run_proclab(&o, NULL, full);
	reap_adopted();
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	memset(&m, 0, sizeof(m));
	strcpy(m.name[0], "a");
	m.parent[0] = -1;
	m.n = 1;
	for (int i = 0; i < n; i++) {
		const char *event = jstr(&ev[i], "event");
		char ctx[1100];

		if (strcmp(event, "list") == 0) {
			static struct jobj w[2 * MAXP];
			int na = jarray(&ev[i], "actions", w, 2 * MAXP);

			for (int j = 0; j < na; j++)
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 j ? "," : "", jstr(&w[j], ""));
			if (want != NULL)
				ck_assert_str_eq(list, want);
		} else if (strcmp(event, "action") == 0) {
			char act[20];

			snprintf(act, sizeof(act), "%s%s%s",
				 jstr(&ev[i], "who"),
				 strcmp(jstr(&ev[i], "kind"), "fork") == 0
				 ? "+" : "-", jstr(&ev[i], "child"));
			apply(&m, act, reaper);
			acts++;
		} else if (strcmp(event, "tree") == 0) {
			ck_assert_int_eq((int)jnum(&ev[i], "n"), acts);
			snprintf(ctx, sizeof(ctx), "%s, after action %d",
				 list, acts);
			same_tree(&ev[i], &m, ctx);
			trees++;
		}
	}
	ck_assert_int_eq(trees, acts + 1);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}

static const char *const reapers[] = { "init", "a", "each" };

/* Many seeds, each reaper: the list is the documented generator's, and
 * every tree is the model's. */
START_TEST(seeds_against_models)
{
	int reaper = _i % 3, seed = _i / 3;
	bool leaf = seed % 4 == 3;
	char s[16], want[1024];
	struct model m;

	gen(&m, (uint64_t)seed, 16, 700, leaf);
	snprintf(want, sizeof(want), "%s", m.list);
	snprintf(s, sizeof(s), "%d", seed);
	check_run((const char *const[]){ "--seed", s, "--actions", "16",
					 "--reaper", reapers[reaper],
					 leaf ? "--leaf-only" : NULL, NULL },
		  reaper, want);
}
END_TEST

/* A list with grandchildren, under each reaper; fork.py's claim that all
 * descendants go to a does not hold. */
START_TEST(grandchildren_stay)
{
	/* c exits below b: its child d goes outside, to a, or to b */
	static const char list[] = "a+b,b+c,c+d,d+e,c-,b+f,f+g,b-,a+h,h+i,"
				   "i+j,i-";
	struct outcome o;
	const struct jobj *c;
	int n;

	check_run((const char *const[]){ "-A", list, "--reaper",
					 reapers[_i], NULL }, _i, list);
	run_proclab(&o, NULL, (const char *const[]){ "tree", "--json",
		    "--stable", "-A", list, "--reaper", reapers[_i], NULL });
	reap_adopted();
	ck_assert_int_eq(o.code, 0);
	n = json_lines(o.out, ev, MAXEV);
	c = nth_event(ev, n, "claim", NULL, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(jstr(c, "id"), "forkpy-all-to-root");
	ck_assert_str_eq(jstr(c, "verdict"), "does not hold");
	ck_assert_int_eq((int)jnum(c, "grandchildren"), 1);   /* e */
	ck_assert_int_eq((int)jnum(c, "moved"), 0);
	ck_assert_ptr_null(nth_event(ev, n, "claim", NULL, 1));
	/* without --solve: trees are asked for, not shown */
	ck_assert_ptr_null(nth_event(ev, n, "tree", NULL, 1));
	ck_assert_ptr_nonnull(nth_event(ev, n, "prompt", NULL, 0));
	outcome_free(&o);
}
END_TEST

/* for (i = 3; i > 0; i--) fork(); makes 8 processes named by the
 * iterations that made them. */
START_TEST(loop_puzzle)
{
	struct outcome o;
	const struct jobj *t = NULL;
	int n, k, counts[3] = { 0 }, nc = 0;
	static const char *const parent[][2] = {
		{ "main", "proclab" }, { "3", "main" }, { "2", "main" },
		{ "1", "main" }, { "32", "3" }, { "31", "3" }, { "21", "2" },
		{ "321", "32" },
	};

	run_proclab(&o, NULL, (const char *const[]){ "tree", "--json",
		    "--stable", "--solve", "--loop", "3", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++) {
		if (strcmp(jstr(&ev[i], "event"), "iteration") == 0 && nc < 3)
			counts[nc++] = (int)jnum(&ev[i], "count");
		if (strcmp(jstr(&ev[i], "event"), "tree") == 0)
			t = &ev[i];
	}
	ck_assert_int_eq(nc, 3);
	ck_assert(counts[0] == 2 && counts[1] == 4 && counts[2] == 8);
	ck_assert_ptr_nonnull(t);
	k = jarray(t, "nodes", nodes, MAXP);
	ck_assert_int_eq(k, 8);
	for (int i = 0; i < 8; i++) {
		bool found = false;

		for (int j = 0; j < k; j++)
			if (strcmp(jstr(&nodes[j], "name"), parent[i][0]) == 0) {
				ck_assert_str_eq(jstr(&nodes[j], "parent"),
						 parent[i][1]);
				found = true;
			}
		ck_assert_msg(found, "no %s", parent[i][0]);
	}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* --quiz: after b exits, who is c's parent?  Under --reaper each: a. */
START_TEST(quiz_parent)
{
	struct outcome o;
	const struct jobj *a;
	int n;

	run_proclab(&o, "a\nb\n", (const char *const[]){ "tree", "--json",
		    "--stable", "--quiz", "--reaper", "each", "-A",
		    "a+b,b+c,b+d,b-", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	a = nth_event(ev, n, "answer", NULL, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(jstr(a, "expected"), "a");
	ck_assert(jbool(a, "correct"));
	a = nth_event(ev, n, "answer", NULL, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(jstr(a, "given"), "b");
	ck_assert(!jbool(a, "correct"));
	ck_assert_ptr_null(nth_event(ev, n, "answer", NULL, 2));
	/* no state questions: this lab asks about parents */
	ck_assert_str_eq(jstr(nth_event(ev, n, "question", NULL, 0), "exited"),
			 "b");
	a = nth_event(ev, n, "result", NULL, 0);
	ck_assert_int_eq((int)jnum(a, "score"), 1);
	ck_assert_int_eq((int)jnum(a, "questions"), 2);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Too many processes, bad lists and words: exit 2, one line, no stdout. */
START_TEST(refusals)
{
	static const char *const bad[][8] = {
		{ "--loop", "7", NULL },
		{ "--actions", "126", "--forks", "1", NULL },
		{ "-A", "a-", NULL },
		{ "-A", "a+b,c+d", NULL },
		{ "-A", "a+b,a+b", NULL },
		{ "-A", "a+b,b+c,b-", "--leaf-only", NULL },
		{ "-A", "a+b,", NULL },
		{ "--reaper", "b", NULL },
		{ "--forks", "0.7x", NULL },
		{ "-A", "a+b", "--loop", "2", NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[10] = { "tree" };
		struct outcome o;

		for (int k = 0; bad[i][k] != NULL; k++)
			argv[k + 1] = bad[i][k];
		run_proclab(&o, NULL, argv);
		ck_assert_msg(o.code == 2, "%s: exit %d", bad[i][1], o.code);
		ck_assert_str_eq(o.out, "");
		ck_assert_ptr_nonnull(strstr(o.err, "proclab: tree: "));
		/* one line */
		ck_assert_ptr_nonnull(strchr(o.err, '\n'));
		ck_assert_str_eq(strchr(o.err, '\n'), "\n");
		outcome_free(&o);
	}
}
END_TEST

/* 63 forks, 64 processes: the cap, reached. */
START_TEST(sixty_four)
{
	char list[1024] = "", name[8];

	for (int k = 1; k < 64; k++) {
		name_of(k, name);
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%sa+%s", k > 1 ? "," : "", name);
	}
	check_run((const char *const[]){ "-A", list, NULL }, INIT, list);
}
END_TEST

START_TEST(killed_at_pause)
{
	int sig = _i == 0 ? SIGKILL : SIGTERM;

	/* at the first pause of the actions, and at the last one, with an
	 * orphan adopted outside the tree (by the test, a subreaper) */
	kill_at_pause((const char *const[]){ "tree", "--json", "--step",
		      "--reaper", "a", "-A", "a+b,b+c,c+d,b-,a+e", NULL }, 2,
		      sig, NULL, NULL);
	kill_at_pause((const char *const[]){ "tree", "--json", "--step",
		      "-A", "a+b,b+c,c+d,b-,a+e", NULL }, 3, sig, NULL, NULL);
}
END_TEST

Suite *make_tree_suite(void)
{
	Suite *s = suite_create("tree");
	TCase *tc = tcase_create("tree");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, seeds_against_models, 0, 3 * 20);
	tcase_add_loop_test(tc, grandchildren_stay, 0, 3);
	tcase_add_test(tc, loop_puzzle);
	tcase_add_test(tc, quiz_parent);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, sixty_four);
	tcase_add_loop_test(tc, killed_at_pause, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
