/* tree.c - the fork/exit process-tree homework, with real processes.
 *
 * A list of actions ("a+b,b+c,b-": a forks b, b forks c, b exits; given
 * with -A, or made from --seed by the generator below, or the loop puzzle
 * of --loop N) runs on agents: every named process is one agent, `a` a
 * child of proclab, every other one forked by the agent that the list says
 * forks it (agent_fork, nested to any depth).  After each action the tree
 * is read from /proc (each process's ppid and state, through the
 * observer), never from a model: an exit shows who adopted each orphan
 * (--reaper init: PID 1 of the namespace, outside the tree; --reaper a:
 * the root, a child subreaper; --reaper each: every agent is one, so the
 * nearest living ancestor).  Only the exiting process's own children move;
 * OSTEP's fork.py moves all its descendants under `a` by default, and the
 * lab says where that answer and Linux's differ (claim
 * forkpy-all-to-root, reached when an exiting process has
 * grandchildren).
 *
 * The generator (documented in the man page and labs/tree.md, so that any
 * implementation gives the same list): splitmix64 seeded with --seed;
 * alive = [a]; for each of --actions actions: the exit candidates are the
 * alive processes but a (with --leaf-only: those with no alive child); if
 * next() % 1000 < the fork permille (--forks F times 1000, rounded) or
 * there is no candidate, the process alive[next() % alive] forks the next
 * name (b, c, ... z, ba, bb, ...), else candidates[next() % candidates]
 * exits.  Lists are kept in the order processes were made.
 *
 * Stages: start (proclab forks a; the list) -> actions (each action, its
 * tree; --step pauses after each; with --loop N, after each iteration) ->
 * final (what is left).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "variant.h"

#define TREE_MAX AGENTS_MAX     /* processes in one run, a included */
#define ACTIONS_MAX (2 * TREE_MAX)
#define NAME_LEN 8              /* 7 bytes: "proclab-" + 7 fits comm */
#define PRE_LEN 48
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		   "0123456789"

enum reaper { REAPER_INIT, REAPER_A, REAPER_EACH };
static const char *const reaper_names[] = { "init", "a", "each" };

enum { ACT_FORK, ACT_EXIT };

enum {
	OP_SUBREAPER = AGENT_OP_LAB,    /* prctl(PR_SET_CHILD_SUBREAPER) */
	OP_REAPPID,                     /* waitpid(v0): {pid, raw, errno} */
};

/* ---- the generator: splitmix64 (the engine's, variant.h) ----------- */

/* The k-th name (0: a): a..z, then ba..bz, ca.. (base 26, a as 0 for
 * every digit but a leading one), as long as a name is short. */
static void gen_name(int k, char *buf, size_t size)
{
	char tmp[NAME_LEN];
	int n = 0;

	do {
		tmp[n++] = (char)('a' + k % 26);
		k /= 26;
	} while (k > 0 && n < NAME_LEN - 1);
	for (int i = 0; i < n && (size_t)i + 1 < size; i++)
		buf[i] = tmp[n - 1 - i];
	buf[(size_t)n < size ? (size_t)n : size - 1] = '\0';
}

/* ---- inside the agents (async-signal-safe) ----------------------------- */

static int op_subreaper(struct agent_ctx *c, const int64_t a[],
			int64_t out[])
{
	int on = 0;

	(void)a;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0 ||
	    prctl(PR_GET_CHILD_SUBREAPER, &on) < 0)
		agent_fail(c, AGENT_CALL_PRCTL);
	out[0] = on;
	return AGENT_OK;
}

static int op_reappid(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	int st = 0;
	pid_t got;

	(void)c;
	do
		got = waitpid((pid_t)a[0], &st, 0);
	while (got < 0 && errno == EINTR);
	out[0] = got;
	out[1] = st;
	out[2] = got < 0 ? errno : 0;
	return AGENT_OK;
}

static const struct agent_op_def tree_ops[] = {
	{ OP_SUBREAPER, "subreaper", op_subreaper },
	{ OP_REAPPID, "reap", op_reappid },
	{ 0, NULL, NULL },
};

/* ---- proclab's side ----------------------------------------------------- */

struct proc {
	char name[NAME_LEN];
	int parent;             /* who forks it (index); -1: proclab */
	struct agent *ag;
	struct watched *w;
	bool exited;
	int fpy;                /* fork.py's parent (index), -1: none */
	/* read from /proc for the tree being shown */
	int depth;
	char pre[PRE_LEN];
	const char *pname;      /* its parent's name, as /proc showed it */
};

struct action {
	int kind, who, child;   /* child: -1 for an exit */
	bool show;              /* show the tree after it */
	int iter;               /* --loop: the i of the iteration */
};

struct treelab {
	struct proc p[TREE_MAX];
	int np;
	struct action act[ACTIONS_MAX];
	int na;
	char *words[ACTIONS_MAX];       /* "a+b" ... for the list event */
	char wordbuf[ACTIONS_MAX][2 * NAME_LEN + 2];
	enum reaper reaper;
	int loop;
	int permille;
	bool quiz, solve, show_trees, final, claimed;
	int order[TREE_MAX];            /* the drawing's order */
	struct field rowf[TREE_MAX][8];
	const struct field *rows[TREE_MAX];
};

static int find(const struct treelab *t, const char *name, size_t n)
{
	for (int i = 0; i < t->np; i++)
		if (strlen(t->p[i].name) == n &&
		    strncmp(t->p[i].name, name, n) == 0)
			return i;
	return -1;
}

static bool alive(const struct treelab *t, int i, const bool *gone)
{
	return i >= 0 && i < t->np && !gone[i];
}

static int new_proc(struct treelab *t, const char *name, size_t n,
		    int parent)
{
	struct proc *p = &t->p[t->np];

	snprintf(p->name, sizeof(p->name), "%.*s", (int)n, name);
	p->parent = parent;
	p->fpy = parent;
	return t->np++;
}

static void add_action(struct treelab *t, int kind, int who, int child)
{
	struct action *a = &t->act[t->na];
	char *w = t->wordbuf[t->na];
	size_t n = strlen(t->p[who].name);

	a->kind = kind, a->who = who, a->child = child, a->show = true;
	/* names are shorter than NAME_LEN: "X+Y" fits wordbuf */
	memcpy(w, t->p[who].name, n);
	w[n++] = kind == ACT_FORK ? '+' : '-';
	w[n] = '\0';
	if (kind == ACT_FORK)
		memcpy(w + n, t->p[child].name, strlen(t->p[child].name) + 1);
	t->words[t->na] = w;
	t->na++;
}

static bool has_child(const struct treelab *t, int x, const bool *gone)
{
	for (int i = 0; i < t->np; i++)
		if (!gone[i] && t->p[i].parent == x)
			return true;
	return false;
}

/* Exits seen in the list move no one in the list's own bookkeeping: it
 * only needs who is alive, and for --leaf-only who has children, which
 * no exit changes then (only leaves exit). */
static int parse_list(struct run *r, struct treelab *t, const char *list,
		      bool leaf_only)
{
	bool gone[TREE_MAX] = { false };
	const char *s = list;

	new_proc(t, "a", 1, -1);
	while (*s != '\0') {
		size_t n = strcspn(s, ","), x = strspn(s, NAME_CHARS);
		const char *op = s + x;
		int who = x > 0 ? find(t, s, x) : -1;

		if (x == 0 || x >= NAME_LEN || (*op != '+' && *op != '-') ||
		    (*op == '-' && n != x + 1)) {
			pl_warnx(r, "-A: '%.*s' is not X+Y or X- (names of 1 "
				 "to %d letters or digits)", (int)n, s,
				 NAME_LEN - 1);
			return PL_EXIT_USAGE;
		}
		if (!alive(t, who, gone)) {
			pl_warnx(r, "-A: '%.*s': %.*s is not alive there",
				 (int)n, s, (int)x, s);
			return PL_EXIT_USAGE;
		}
		if (*op == '-') {
			if (who == 0) {
				pl_warnx(r, "-A: '%.*s': a, the root, cannot "
					 "exit (as in fork.py)", (int)n, s);
				return PL_EXIT_USAGE;
			}
			if (leaf_only && has_child(t, who, gone)) {
				pl_warnx(r, "-A: '%.*s': with --leaf-only only "
					 "a process with no children exits",
					 (int)n, s);
				return PL_EXIT_USAGE;
			}
			gone[who] = true;
			add_action(t, ACT_EXIT, who, -1);
		} else {
			size_t y = strspn(op + 1, NAME_CHARS);

			if (y == 0 || y >= NAME_LEN || x + 1 + y != n) {
				pl_warnx(r, "-A: '%.*s' is not X+Y or X- (names "
					 "of 1 to %d letters or digits)",
					 (int)n, s, NAME_LEN - 1);
				return PL_EXIT_USAGE;
			}
			if (find(t, op + 1, y) >= 0) {
				pl_warnx(r, "-A: '%.*s': the name %.*s is "
					 "taken", (int)n, s, (int)y, op + 1);
				return PL_EXIT_USAGE;
			}
			if (t->np >= TREE_MAX || t->na >= ACTIONS_MAX) {
				pl_warnx(r, "-A: more than %d processes: at "
					 "most %d, each one an agent", TREE_MAX,
					 TREE_MAX);
				return PL_EXIT_USAGE;
			}
			add_action(t, ACT_FORK, who,
				   new_proc(t, op + 1, y, who));
		}
		s += n;
		if (*s == ',' && s[1] != '\0')
			s++;
		else if (*s == ',') {
			pl_warnx(r, "-A: a list that ends with ','");
			return PL_EXIT_USAGE;
		}
	}
	if (t->na == 0) {
		pl_warnx(r, "-A: an empty list");
		return PL_EXIT_USAGE;
	}
	return PL_EXIT_OK;
}

static int generate(struct run *r, struct treelab *t, uint64_t seed,
		    int actions, bool leaf_only)
{
	bool gone[TREE_MAX] = { false };
	int alive_l[TREE_MAX], cand[TREE_MAX], names = 1;
	char name[NAME_LEN];

	new_proc(t, "a", 1, -1);
	for (int k = 0; k < actions; k++) {
		int na = 0, nc = 0;

		for (int i = 0; i < t->np; i++) {
			if (gone[i])
				continue;
			alive_l[na++] = i;
			if (i != 0 && (!leaf_only || !has_child(t, i, gone)))
				cand[nc++] = i;
		}
		if ((int)(pl_splitmix64(&seed) % 1000) < t->permille || nc == 0) {
			int who = alive_l[pl_splitmix64(&seed) % (uint64_t)na];

			if (t->np >= TREE_MAX) {
				pl_warnx(r, "--seed %llu --actions %d makes more "
					 "than %d processes: at most %d, each "
					 "one an agent (fewer --actions, or "
					 "lower --forks)", (unsigned long long)
					 opt_val(r, "seed"), actions, TREE_MAX,
					 TREE_MAX);
				return PL_EXIT_USAGE;
			}
			gen_name(names++, name, sizeof(name));
			add_action(t, ACT_FORK, who,
				   new_proc(t, name, strlen(name), who));
		} else {
			int x = cand[pl_splitmix64(&seed) % (uint64_t)nc];

			gone[x] = true;
			add_action(t, ACT_EXIT, x, -1);
		}
	}
	return PL_EXIT_OK;
}

/* for (i = N; i > 0; i--) fork(); every process alive forks once per
 * iteration, in the order they were made; a child is named by its
 * parent's name and the iteration's i ("main" makes "3", "3" makes "32"). */
static int loop_list(struct run *r, struct treelab *t, int n)
{
	if (n > 6) {
		pl_warnx(r, "--loop: '%d' makes 2^%d = %lld processes: at most "
			 "%d (1 to 6)", n, n, 1LL << n, TREE_MAX);
		return PL_EXIT_USAGE;
	}
	new_proc(t, "main", 4, -1);
	for (int i = n; i > 0; i--) {
		int before = t->np;

		for (int k = 0; k < before; k++) {
			/* n <= 6: at most 6 digits, each one 1 to 6 */
			char name[NAME_LEN];
			size_t len = k == 0 ? 0 : strlen(t->p[k].name);

			memcpy(name, t->p[k].name, len);
			name[len] = (char)('0' + i);
			name[len + 1] = '\0';
			add_action(t, ACT_FORK, k,
				   new_proc(t, name, len + 1, k));
			t->act[t->na - 1].show = k == before - 1;
			t->act[t->na - 1].iter = i;
		}
	}
	return PL_EXIT_OK;
}

static int tree_prepare(struct run *r)
{
	struct treelab *t = run_state(r);
	const char *list = opt_text(r, "action-list"),
		   *reaper = opt_text(r, "reaper"),
		   *forks = opt_text(r, "forks");
	bool leaf = opt_val(r, "leaf-only") != 0;

	t->solve = opt_val(r, "solve") != 0;
	t->show_trees = opt_val(r, "show-trees") != 0;
	t->final = opt_val(r, "final") != 0;
	t->loop = (int)opt_val(r, "loop");
	t->quiz = r->quiz;
	t->reaper = REAPER_INIT;
	if (reaper != NULL) {
		int i;

		for (i = 0; i < 3; i++)
			if (strcmp(reaper, reaper_names[i]) == 0)
				break;
		if (i == 3) {
			pl_warnx(r, "--reaper: '%s' is not init, a or each",
				 reaper);
			return PL_EXIT_USAGE;
		}
		t->reaper = (enum reaper)i;
	}
	t->permille = 700;
	if (forks != NULL) {
		char *end;
		double f;

		errno = 0;
		f = strtod(forks, &end);
		if (errno != 0 || end == forks || *end != '\0' || !(f >= 0) ||
		    f > 1) {
			pl_warnx(r, "--forks: '%s' is not a fraction from 0 to "
				 "1", forks);
			return PL_EXIT_USAGE;
		}
		t->permille = (int)(f * 1000 + 0.5);
	}
	if (t->loop > 0 && list != NULL) {
		pl_warnx(r, "--loop and -A: one or the other");
		return PL_EXIT_USAGE;
	}
	if (t->loop > 0)
		return loop_list(r, t, t->loop);
	if (list != NULL)
		return parse_list(r, t, list, leaf);
	return generate(r, t, (uint64_t)opt_val(r, "seed"),
			(int)opt_val(r, "actions"), leaf);
}

/* obs_await without the engine's state question: this lab's --quiz asks
 * who adopts an orphan instead. */
static int await_quiet(struct run *r, struct watched *w, const char *states,
		       const char *why)
{
	bool q = r->quiz;
	int rc;

	r->quiz = false;
	rc = obs_await(r, w, states, why);
	r->quiz = q;
	return rc;
}

static bool live(const struct proc *p)
{
	return p->w != NULL && !p->exited;
}

/* The name /proc's ppid stands for: a live process of the tree,
 * "proclab", "init" (PID 1 of the namespace), or "other" (a process
 * outside the tree, e.g. a child subreaper above proclab). */
static const char *parent_name(const struct run *r, const struct treelab *t,
			       pid_t ppid)
{
	if (ppid == r->self)
		return "proclab";
	if (ppid == 1)
		return "init";
	for (int i = 0; i < t->np; i++)
		if (live(&t->p[i]) && t->p[i].ag->pid == ppid)
			return t->p[i].name;
	return "other";
}

static int index_of_pid(const struct treelab *t, pid_t pid)
{
	for (int i = 0; i < t->np; i++)
		if (live(&t->p[i]) && t->p[i].ag->pid == pid)
			return i;
	return -1;
}

/* Every live process S (blocked in read(2), waiting for a command), then
 * read; the states are shown in the tree, not each on a line. */
static int settle(struct run *r, struct treelab *t)
{
	for (int i = 0; i < t->np; i++)
		/* one sample each; a wait only for one not S yet (a wait
		 * samples every watched process each round) */
		if (live(&t->p[i]) &&
		    obs_sample(r, t->p[i].w, NULL, NULL) != 'S' &&
		    obs_settle(r, t->p[i].w, "S"))
			return PL_EXIT_FAIL;
	for (int i = 0; i < t->np; i++)
		if (live(&t->p[i]))
			t->p[i].pname = parent_name(r, t, t->p[i].w->st.ppid);
	return PL_EXIT_OK;
}

/* Lay the drawing out: depth-first from each process whose parent is not
 * in the tree (a first), children in the order they were made.  pre: the
 * branches ("| ", "  ", then "|-" or "`-"); a root that is not a child of
 * proclab says who holds it, "(init) ". */
static void walk(struct treelab *t, int i, int depth, char *trunk, int *n)
{
	struct proc *p = &t->p[i];
	int last = -1, tl = (int)strlen(trunk);

	p->depth = depth;
	t->order[(*n)++] = i;
	for (int k = 0; k < t->np; k++)
		if (live(&t->p[k]) && t->p[k].w->st.ppid == p->ag->pid)
			last = k;
	for (int k = 0; k < t->np; k++) {
		struct proc *c = &t->p[k];

		if (!live(c) || c->w->st.ppid != p->ag->pid)
			continue;
		if (tl + 4 < PRE_LEN - 8)
			snprintf(c->pre, sizeof(c->pre), "%s%s", trunk,
				 k == last ? "`-" : "|-");
		else
			snprintf(c->pre, sizeof(c->pre), "(%d)%s", depth + 1,
				 k == last ? "`-" : "|-");
		if (tl + 4 < PRE_LEN - 8) {
			strcat(trunk, k == last ? "  " : "| ");
			walk(t, k, depth + 1, trunk, n);
			trunk[tl] = '\0';
		} else {
			walk(t, k, depth + 1, trunk, n);
		}
	}
}

static int draw(struct treelab *t)
{
	char trunk[PRE_LEN];
	int n = 0;

	for (int i = 0; i < t->np; i++) {
		struct proc *p = &t->p[i];

		if (!live(p) || index_of_pid(t, p->w->st.ppid) >= 0)
			continue;
		if (strcmp(p->pname, "proclab") == 0)
			p->pre[0] = '\0';
		else
			snprintf(p->pre, sizeof(p->pre), "(%s) ", p->pname);
		/* its subtree under its name */
		snprintf(trunk, sizeof(trunk), "%*s", (int)strlen(p->pre), "");
		walk(t, i, 0, trunk, &n);
	}
	return n;
}

static void show_tree(struct run *r, struct treelab *t, int n_action)
{
	int n = draw(t);
	struct field_list l = { n, t->rows, NULL,
				"{pre}{name} {pid} {state}" };

	for (int k = 0; k < n; k++) {
		const struct proc *p = &t->p[t->order[k]];
		struct field *f = t->rowf[k];

		f[0] = F_STR("name", p->name);
		f[1] = F_PID("pid", p->ag->pid);
		f[2] = F_PID("ppid", p->w->st.ppid);
		f[3] = F_STR("parent", p->pname);
		f[4] = F_CHAR("state", p->w->state);
		f[5] = F_INT("depth", p->depth);
		f[6] = F_TEXT("pre", p->pre);
		f[7] = (struct field){ .type = FT_END };
		t->rows[k] = f;
	}
	emit_form(r, "tree", n_action == 0 ? "start" : NULL,
		  FIELDS(F_INT("n", n_action), F_INT("count", n),
			 F_LIST("nodes", &l)));
}

/* What the homework shows after action n (0: before any). */
static void after_action(struct run *r, struct treelab *t, int n)
{
	bool last = n == t->na;

	if (t->final && !last)
		return;
	if (t->show_trees || t->solve) {
		show_tree(r, t, n);
		return;
	}
	emit_form(r, "prompt", last && t->final ? "final" : NULL,
		  FIELDS(F_INT("n", n), F_STR("what", "tree")));
}

static void show_action(struct run *r, struct treelab *t, int n)
{
	const struct action *a = &t->act[n - 1];

	if (t->final && t->show_trees && !t->solve)
		return;
	if (t->show_trees && !t->solve) {
		emit_form(r, "action", "hidden",
			  FIELDS(F_INT("n", n), F_NULL("kind"), F_NULL("who"),
				 F_NULL("child")));
		return;
	}
	emit_form(r, "action", a->kind == ACT_FORK ? NULL : "exit",
		  FIELDS(F_INT("n", n), F_STR("kind", a->kind == ACT_FORK
					      ? "fork" : "exit"),
			 F_STR("who", t->p[a->who].name),
			 a->kind == ACT_FORK ? F_STR("child",
						     t->p[a->child].name)
					     : F_NULL("child")));
}

static int become_subreaper(struct run *r, struct proc *p)
{
	struct agent_msg m;
	int rc = agent_do(r, p->ag, OP_SUBREAPER, 0, &m);

	if (rc != 0)
		return rc;
	if (m.v[0] != 1)
		return pl_fail(r, "expected %s to be a child subreaper; "
			       "PR_GET_CHILD_SUBREAPER said %lld", p->name,
			       (long long)m.v[0]);
	emit(r, "subreaper", FIELDS(F_STR("name", p->name),
				    F_PID("pid", p->ag->pid)));
	return PL_EXIT_OK;
}

static int watch(struct run *r, struct proc *p)
{
	p->w = obs_add(r, p->ag->pid, p->ag->pidfd, p->name);
	return p->w != NULL ? PL_EXIT_OK : PL_EXIT_FAIL;
}

static int do_fork(struct run *r, struct treelab *t, const struct action *a)
{
	struct proc *p = &t->p[a->who], *c = &t->p[a->child];
	int rc = agent_fork(r, p->ag, c->ag, NULL, NULL);

	if (rc != 0)
		return rc;
	if ((rc = watch(r, c)) != 0)
		return rc;
	if (t->reaper == REAPER_EACH)
		return become_subreaper(r, c);
	return PL_EXIT_OK;
}

/* fork.py's default answer for an exit: every descendant of x (in its
 * own model) becomes a child of the root; x leaves. */
static void forkpy_exit(struct treelab *t, int x)
{
	bool desc[TREE_MAX] = { false };
	bool more = true;

	desc[x] = true;
	while (more) {
		more = false;
		for (int i = 0; i < t->np; i++)
			if (!desc[i] && t->p[i].fpy >= 0 && desc[t->p[i].fpy] &&
			    live(&t->p[i]))
				desc[i] = more = true;
	}
	for (int i = 0; i < t->np; i++)
		if (desc[i] && i != x)
			t->p[i].fpy = 0;
	t->p[x].fpy = -1;
}

/* Where fork.py's answer and /proc's tree differ, after an exit. */
static void forkpy_compare(struct run *r, struct treelab *t, int n)
{
	struct field f[TREE_MAX][4];
	const struct field *rows[TREE_MAX];
	int k = 0;

	for (int i = 1; i < t->np; i++) {
		const struct proc *p = &t->p[i];

		if (!live(p) || p->fpy < 0 ||
		    strcmp(t->p[p->fpy].name, p->pname) == 0)
			continue;
		f[k][0] = F_STR("name", p->name);
		f[k][1] = F_STR("forkpy", t->p[p->fpy].name);
		f[k][2] = F_STR("linux", p->pname);
		f[k][3] = (struct field){ .type = FT_END };
		rows[k] = f[k];
		k++;
	}
	struct field_list l = { k, rows, NULL,
				"{name}: fork.py says under {forkpy}, "
				"Linux put it under {linux}" };

	emit_form(r, "forkpy", k == 0 ? "same" : NULL,
		  FIELDS(F_INT("n", n), F_BOOL("same", k == 0),
			 F_INT("count", k), F_LIST("nodes", &l)));
}

/* --quiz: who is each orphan's parent now?  Asked before /proc is read
 * for the answer, which tell_parent() checks.  Returns whether a line was
 * read (not EOF). */
static bool ask_parent(struct run *r, const struct proc *x,
		       const struct proc *o)
{
	char line[64];
	const char *p, *end;
	bool answered;

	r->questions++;
	emit_form(r, "question", "parent",
		  FIELDS(F_INT("n", r->questions), F_STR("role", o->name),
			 F_PID("pid", o->ag->pid), F_STR("exited", x->name)));
	answered = pl_read_line(r, line, sizeof(line)) == 1;
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p + (answered ? strlen(p) : 0);
	     end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	snprintf(r->given, sizeof(r->given), "%.*s", (int)(end - p), p);
	return answered;
}

static void tell_parent(struct run *r, const struct proc *o, bool answered)
{
	bool right = answered && strcmp(r->given, o->pname) == 0;

	r->score += right;
	emit_form(r, "answer", !answered ? "parent-none" : right
		  ? "parent" : "parent-wrong",
		  FIELDS(F_INT("n", r->questions), F_STR("role", o->name),
			 F_PID("pid", o->ag->pid), F_STR("expected", o->pname),
			 answered ? F_STR("given", r->given) : F_NULL("given"),
			 F_BOOL("correct", right),
			 F_PID("ppid", o->w->st.ppid)));
}

/* The exiting process's zombie: its parent reaps it (an agent, told to;
 * proclab, for a child of its own), or it is left to init or another
 * process outside the tree. */
static int reap_exited(struct run *r, struct treelab *t, struct proc *x,
		       pid_t parent)
{
	int pi = index_of_pid(t, parent), status;
	struct agent_msg m;

	if (parent == r->self) {
		if (pl_waitpid(r, x->ag->pid, x->name, &status) < 0)
			return PL_EXIT_FAIL;
	} else if (pi >= 0) {
		int rc = agent_do(r, t->p[pi].ag, OP_REAPPID, x->ag->pid, &m);

		if (rc != 0)
			return rc;
		if (m.v[0] != x->ag->pid)
			return pl_fail(r, "expected %s to reap %s %d; waitpid "
				       "failed: %s", t->p[pi].name, x->name,
				       (int)x->ag->pid,
				       strerror((int)m.v[2]));
	} else {
		if (t->solve || !t->show_trees)
			emit_form(r, "reaped", "left",
				  FIELDS(F_STR("name", x->name),
					 F_PID("pid", x->ag->pid),
					 F_PID("by", parent),
					 F_STR("parent", parent == 1 ? "init"
						       : "other")));
		return PL_EXIT_OK;
	}
	if (obs_settle(r, x->w, "X"))
		return PL_EXIT_FAIL;
	if (t->show_trees && !t->solve)
		return PL_EXIT_OK;      /* it would tell the action */
	emit(r, "reaped", FIELDS(F_STR("name", x->name),
				 F_PID("pid", x->ag->pid), F_PID("by", parent),
				 F_STR("parent", pi >= 0 ? t->p[pi].name
					       : "proclab")));
	return PL_EXIT_OK;
}

static int do_exit(struct run *r, struct treelab *t, int n,
		   const struct action *a)
{
	struct proc *x = &t->p[a->who];
	pid_t parent = x->w->st.ppid;
	int kids[TREE_MAX], nk = 0, grand = 0, moved = 0, rc;
	bool ours = parent == r->self || index_of_pid(t, parent) >= 0;

	/* its children and grandchildren, as /proc showed them */
	for (int i = 0; i < t->np; i++)
		if (live(&t->p[i]) && i != a->who &&
		    t->p[i].w->st.ppid == x->ag->pid)
			kids[nk++] = i;
	if ((rc = agent_send(r, x->ag, AGENT_OP_EXIT,
			     (const int64_t[AGENT_ARGS]){ 0, 0, 0, 0 })) != 0)
		return rc;
	/* exit_notify() hands the children on before the task turns Z (and
	 * before its pidfd turns readable).  A parent in the tree (or
	 * proclab) waits until told to: Z.  One outside it (init) reaps in
	 * its own time: only the exit is waited for, its Z or X not shown. */
	if (ours) {
		if (t->solve ? await_quiet(r, x->w, "Z", "exited; its parent "
					   "{ppid} has not waited for it yet")
			     : obs_settle(r, x->w, "Z"))
			return PL_EXIT_FAIL;
	} else if (pl_wait_exit(r, x->ag->pid, r->timeout_ms) != 1) {
		return pl_fail(r, "expected %s %d to exit within %d ms; it did "
			       "not", x->name, (int)x->ag->pid, r->timeout_ms);
	}
	x->exited = true;
	for (int k = 0; k < nk; k++) {
		struct proc *o = &t->p[kids[k]];
		bool answered = false;
		pid_t to;

		/* --quiz: the question before anything of the answer */
		if (t->quiz)
			answered = ask_parent(r, x, o);
		obs_sample(r, o->w, NULL, NULL);
		to = o->w->st.ppid;
		o->pname = parent_name(r, t, to);
		/* who adopts whom is the homework's answer: shown with
		 * --solve, or after the question */
		if (t->solve || t->quiz || to == x->ag->pid)
			emit_form(r, "reparent", to == x->ag->pid ? "kept"
				  : NULL, FIELDS(F_STR("name", o->name),
				  F_PID("pid", o->ag->pid),
				  F_PID("from", x->ag->pid), F_PID("to", to),
				  F_STR("parent", o->pname),
				  F_TEXT("exited", x->name)));
		if (to == x->ag->pid)
			return pl_fail(r, "expected %s to have a new parent "
				       "once %s had exited; /proc still shows "
				       "ppid %d", o->name, x->name, (int)to);
		if (t->quiz)
			tell_parent(r, o, answered);
	}
	if ((rc = reap_exited(r, t, x, parent)) != 0)
		return rc;
	if ((rc = settle(r, t)) != 0)
		return rc;
	/* grandchildren: fork.py moves them to a, Linux leaves them */
	for (int i = 0; i < t->np; i++) {
		const struct proc *g = &t->p[i];
		bool is_grand = false;

		for (int k = 0; k < nk; k++)
			is_grand |= live(g) && g->w->st.ppid ==
				    t->p[kids[k]].ag->pid;
		if (!is_grand)
			continue;
		grand++;
		moved += g->w->st.ppid == t->p[0].ag->pid;
	}
	forkpy_exit(t, a->who);
	if (grand > 0 && !t->claimed) {
		t->claimed = true;
		claim(r, "forkpy-all-to-root",
		      moved == grand ? CLAIM_HOLDS : CLAIM_FAILS,
		      FIELDS(F_STR("exited", x->name), F_INT("grandchildren",
			     grand), F_INT("moved", moved),
			     F_INT("kept", grand - moved)));
	}
	if (t->solve)
		forkpy_compare(r, t, n);
	return PL_EXIT_OK;
}

static int tree_run(struct run *r)
{
	struct treelab *t = run_state(r);
	const struct agent_config cfg = { tree_ops, NULL, NULL };

	if (agent_init(r, &cfg) != 0)
		return PL_EXIT_FAIL;
	/* the whole tree is planned before a starts: a carries every
	 * command pipe below it, and hands each subtree its own */
	t->p[0].ag = agent_new(r, t->p[0].name);
	if (t->p[0].ag == NULL)
		return PL_EXIT_FAIL;
	for (int k = 0; k < t->na; k++) {
		const struct action *a = &t->act[k];
		struct proc *c;

		if (a->kind != ACT_FORK)
			continue;
		c = &t->p[a->child];
		c->ag = agent_plan_child(r, t->p[a->who].ag, c->name);
		if (c->ag == NULL)
			return PL_EXIT_FAIL;
		/* an orphan must not die with its parent */
		agent_outlives(c->ag);
	}
	return PL_EXIT_OK;
}

static int stage_start(struct run *r)
{
	struct treelab *t = run_state(r);
	struct field_list l = { t->na, NULL, (const char *const *)t->words,
				NULL };
	int rc;

	if (!t->show_trees || t->solve)
		emit_form(r, "list", t->loop > 0 ? "loop" : NULL,
			  FIELDS(F_INT("count", t->na), F_LIST("actions", &l),
				 F_STR("reaper", reaper_names[t->reaper]),
				 F_INT("loop", t->loop)));
	if ((rc = agent_start(r, t->p[0].ag, NULL)) != 0 ||
	    (rc = watch(r, &t->p[0])) != 0)
		return rc;
	if (t->reaper != REAPER_INIT &&
	    (rc = become_subreaper(r, &t->p[0])) != 0)
		return rc;
	if ((rc = settle(r, t)) != 0)
		return rc;
	show_tree(r, t, 0);
	return PL_EXIT_OK;
}

static int stage_actions(struct run *r)
{
	struct treelab *t = run_state(r);
	int rc;

	for (int n = 1; n <= t->na; n++) {
		const struct action *a = &t->act[n - 1];

		if (n > 1 && t->act[n - 2].show)
			stage_end(r);   /* --step: look, then go on */
		show_action(r, t, n);
		rc = a->kind == ACT_FORK ? do_fork(r, t, a)
					 : do_exit(r, t, n, a);
		if (rc != 0)
			return rc;
		if (!a->show)
			continue;
		if ((rc = settle(r, t)) != 0)
			return rc;
		if (t->loop > 0 && !(t->final && n < t->na))
			emit(r, "iteration",
			     FIELDS(F_INT("i", a->iter),
				    F_INT("count", a->child + 1)));
		after_action(r, t, n);
	}
	return PL_EXIT_OK;
}

static int stage_final(struct run *r)
{
	struct treelab *t = run_state(r);
	int count = 0;

	for (int i = 0; i < t->np; i++)
		count += live(&t->p[i]);
	emit_form(r, "final", t->loop > 0 ? "loop" : NULL,
		  FIELDS(F_INT("count", count), F_INT("made", t->np),
			 F_INT("actions", t->na)));
	return PL_EXIT_OK;
}

static const struct lab_text_option tree_text_options[] = {
	{ "action-list", 'A', "LIST",
	  "the actions, e.g. a+b,b+c,b- (a forks b, b forks c, b exits); "
	  "without it a list is made from --seed" },
	{ "forks", 0, "F", "the fraction of made-up actions that are forks "
	  "(0 to 1, default 0.7)" },
	{ "reaper", 0, "WHO", "who adopts orphans: init (PID 1, the default), "
	  "a (the root is a child subreaper) or each (every process is one: "
	  "the nearest living ancestor)" },
	{ NULL, 0, NULL, NULL },
};

static const struct lab_option tree_options[] = {
	{ "seed", "N", 0, 2147483647, 0, "the seed of the made-up list" },
	{ "actions", "N", 1, 126, 5, "how many actions to make up" },
	{ "leaf-only", NULL, 0, 1, 0, "only processes with no children exit" },
	{ "show-trees", NULL, 0, 1, 0,
	  "show the trees and ask for the actions" },
	{ "final", NULL, 0, 1, 0, "only the final tree (or its question)" },
	{ "solve", NULL, 0, 1, 0, "show both: the answers" },
	{ "loop", "N", 1, 16, 0,
	  "for (i = N; i > 0; i--) fork(); as 2^N processes: at most 64, so "
	  "N is 6 at most" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static const struct sentence tree_sentences[] = {
	{ "list", NULL, "{count} action: {actions} (orphans: --reaper "
	  "{reaper})", "{count} actions: {actions} (orphans: --reaper "
	  "{reaper})", "count" },
	{ "list", "loop", "for (i = {loop}; i > 0; i--) fork(); as {count} "
	  "forks, iteration by iteration: {actions}", NULL, NULL },
	{ "subreaper", NULL, "{name} {pid} is a child subreaper "
	  "(PR_SET_CHILD_SUBREAPER)", NULL, NULL },
	{ "action", NULL, "{n}: {who} forks {child}", NULL, NULL },
	{ "action", "exit", "{n}: {who} exits", NULL, NULL },
	{ "action", "hidden", "{n}: action?", NULL, NULL },
	{ "tree", NULL, "after action {n}, 1 process, from /proc:{nodes}",
	  "after action {n}, {count} processes, from /proc:{nodes}",
	  "count" },
	{ "tree", "start", "before any action, 1 process, from /proc:{nodes}",
	  "before any action, {count} processes, from /proc:{nodes}",
	  "count" },
	{ "prompt", NULL, "{n}: process tree?", NULL, NULL },
	{ "prompt", "final", "{n}: final process tree?", NULL, NULL },
	{ "reparent", NULL, "{name} {pid}: its parent {exited} exited; the "
	  "kernel gave it to {parent} {to}", NULL, NULL },
	{ "reparent", "kept", "{name} {pid}: its parent {exited} exited, yet "
	  "/proc still shows {to}", NULL, NULL },
	{ "reaped", NULL, "{name} {pid} reaped by {parent} {by}: gone from "
	  "/proc", NULL, NULL },
	{ "reaped", "left", "{name} {pid} is {parent}'s ({by}) to reap, "
	  "outside the tree, in its own time", NULL, NULL },
	{ "forkpy", NULL, "fork.py's answer differs in 1 place:{nodes}",
	  "fork.py's answer differs in {count} places:{nodes}", "count" },
	{ "forkpy", "same", "fork.py's answer is the same tree", NULL, NULL },
	{ "iteration", NULL, "after iteration i = {i}: {count} processes",
	  NULL, NULL },
	{ "final", NULL, "{count} of the {made} processes are alive after "
	  "{actions} actions; they are ended at teardown", NULL, NULL },
	{ "final", "loop", "{count} processes: 2^N for N iterations; they are "
	  "ended at teardown", NULL, NULL },
	{ "question", "parent", "{n}: {exited} exited: who is {role}'s parent "
	  "now? Answer a name, init or proclab", NULL, NULL },
	{ "answer", "parent", "right: {role}'s parent is {expected} ({ppid})",
	  NULL, NULL },
	{ "answer", "parent-wrong", "wrong, you said '{given}': {role}'s "
	  "parent is {expected} ({ppid})", NULL, NULL },
	{ "answer", "parent-none", "no answer (end of input): {role}'s parent "
	  "is {expected} ({ppid})", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage tree_stages[] = {
	{ "start", "proclab forks the root of the tree", stage_start,
	  NULL, NULL, NULL },
	{ "actions", "the actions, on real processes", stage_actions, NULL,
	  NULL, NULL },
	{ "final", "what is left", stage_final, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary tree_vary[] = {
	{ "seed", 1, 999999 },
	{ NULL, 0, 0 },
};

const struct lab lab_tree = {
	.name = "tree",
	.summary = "the fork/exit tree homework on real processes; who adopts",
	.description =
		"A list of fork and exit actions (-A a+b,b+c,b-, or made up "
		"from --seed)\nruns on real processes, each one an agent of "
		"proclab.  After each action\nthe tree is read from /proc.  "
		"When a process exits, only its own children\nmove: to PID 1 "
		"(--reaper init), to the root a (--reaper a) or to the\n"
		"nearest living ancestor (--reaper each).  OSTEP's fork.py "
		"moves all its\ndescendants under a: the lab shows where its "
		"answer differs.  Homework\nmodes as fork.py's: 'Process tree?' "
		"by default, --show-trees, --final,\n--solve; --quiz asks who "
		"adopts each orphan.  --loop N runs the\nfor (i = N; i > 0; "
		"i--) fork(); puzzle.",
	.options = tree_options,
	.text_options = tree_text_options,
	.prepare = tree_prepare,
	.run = tree_run,
	.stages = tree_stages,
	.sentences = tree_sentences,
	.state_size = sizeof(struct treelab),
	.vary = tree_vary,
};
