/* fork.c - one call, two returns: what fork() gives each side, and what
 * the two sides share.
 *
 * proclab starts a "parent" agent (agent.h), and the parent itself calls
 * fork() for its children (agent_fork), so that both sides of the fork
 * are processes the observer watches and a student can find with ps.
 * The parent and its children run the lab's operations below (async-
 * signal-safe code only) and report what they saw (fork's return value,
 * getpid, getppid, a value in memory) on the run's report channel, and
 * proclab checks it against /proc.
 *
 * Stages (the table fork_stages[]): fork (parent and children block: S)
 * -> returns (what fork returned on each side, against /proc) -> order
 * (who ran first after each fork, stamped from a shared page) -> memory
 * (a variable the children change keeps its value in the parent) -> cow
 * (the first child reads, then writes the parent's pages: minor faults
 * from /proc) -> run (R) -> block (S) -> exit (Z: the parent has not
 * waited) -> reap (the parent's waitpid, then X) -> parent-exit (the
 * parent exits, Z, and proclab reaps it: X).  What a run keeps between
 * stages is a struct forklab (run_state()).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"
#include "wstatus.h"

#define FORK_MAX_CHILDREN 32    /* the observer watches them all */

static const struct lab_option fork_options[] = {
	{ "children", "N", 1, FORK_MAX_CHILDREN, 1,
	  "how many children the parent forks; at most what RLIMIT_NPROC "
	  "leaves you" },
	{ "pages", "N", 1, 65536, 256,
	  "pages of private memory the parent fills before forking; the "
	  "first child reads, then writes them all" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* ---- the lab's operations, run in the parent and children ------------- */

enum {
	OP_SETUP = AGENT_OP_LAB, /* parent: fill the pages, map the shared
				  * page; answer {x, &x} */
	OP_SHARED,              /* parent: {child v0's stamp, stamps taken} */
	OP_VALUE,               /* set x = v0 (-1: leave it); answer {x, &x} */
	OP_READ,                /* child: read every page; answer {xor} */
	OP_WRITE,               /* child: write every page */
};

/* A page shared by the parent and its children (MAP_SHARED): the run
 * order stamps.  Shared memory is never copied, so the parent reads
 * what the children wrote. */
struct stamps {
	unsigned next;
	unsigned child[FORK_MAX_CHILDREN + 1];
};

/* What proclab learned of one side of a fork. */
struct side {
	struct agent *a;
	struct watched *w;
	pid_t pid;              /* the parent's fork return for a child */
	long long returned;     /* what fork() returned on this side */
	long long getpid, getppid;
	long long stamp;        /* child: its own */
	long long parent_stamp; /* child i: the parent's stamp after fork #i */
	/* child i: the parent's getpid() and getppid() after fork #i */
	long long parent_getpid, parent_getppid;
	long long shared_stamp; /* child i: as the parent read it */
	long long value, addr;
};

/* What one run keeps between its stages (run_state()); each agent works
 * on its own copy, made by fork. */
struct forklab {
	int n;
	long long pages;
	size_t page_size;
	pid_t parent;
	struct side s[FORK_MAX_CHILDREN + 1];   /* 0: the parent */
	long long x_before, x_addr, shared_next;
	/* the agents' roles: the run's state lives as long as its agents */
	char role[FORK_MAX_CHILDREN + 1][16];
	/* the variable whose copies the children change: 1 before fork */
	volatile int x;
	/* the parent's (its copy of this struct): set by OP_SETUP */
	volatile char *mem;
	struct stamps *sh;
};

static int op_setup(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct forklab *L = c->data;
	size_t len = (size_t)L->pages * L->page_size;

	(void)arg;
	/* private pages, each written now so that it exists before the fork;
	 * no huge pages, so that one fault is one 4 KiB page */
	L->mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (L->mem == MAP_FAILED)
		agent_fail(c, AGENT_CALL_MMAP);
	if (madvise((void *)L->mem, len, MADV_NOHUGEPAGE) < 0)
		agent_fail(c, AGENT_CALL_MADVISE);
	for (size_t off = 0; off < len; off += L->page_size)
		L->mem[off] = 1;
	L->sh = mmap(NULL, sizeof(*L->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (L->sh == MAP_FAILED)
		agent_fail(c, AGENT_CALL_MMAP);
	out[0] = L->x;
	out[1] = (int64_t)(uintptr_t)&L->x;
	return AGENT_OK;
}

/* Both sides of each fork: stamp the shared counter, the first thing
 * after fork() returns, so that the stamps tell who got there first. */
static int64_t on_fork(void *data, int id, pid_t returned)
{
	struct forklab *L = data;
	unsigned stamp = __atomic_fetch_add(&L->sh->next, 1, __ATOMIC_SEQ_CST);

	for (int i = 1; returned == 0 && i <= L->n; i++)
		if (L->s[i].a->id == id)
			L->sh->child[i] = stamp;
	return stamp;
}

static int op_shared(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct forklab *L = c->data;

	int64_t i = arg[0] >= 0 && arg[0] <= FORK_MAX_CHILDREN ? arg[0] : 0;

	out[0] = __atomic_load_n(&L->sh->child[i], __ATOMIC_SEQ_CST);
	out[1] = __atomic_load_n(&L->sh->next, __ATOMIC_SEQ_CST);
	return AGENT_OK;
}

static int op_value(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct forklab *L = c->data;

	if (arg[0] >= 0)
		L->x = (int)arg[0];
	out[0] = L->x;
	out[1] = (int64_t)(uintptr_t)&L->x;
	return AGENT_OK;
}

static int op_read(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct forklab *L = c->data;
	char sum = 0;

	(void)arg;
	for (long long p = 0; p < L->pages; p++)
		sum ^= L->mem[p * (long long)L->page_size];
	out[0] = sum;
	return AGENT_OK;
}

static int op_write(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct forklab *L = c->data;

	(void)arg, (void)out;
	for (long long p = 0; p < L->pages; p++)
		L->mem[p * (long long)L->page_size] = 2;
	return AGENT_OK;
}

static const struct agent_op_def fork_ops[] = {
	{ OP_SETUP, "setup", op_setup },
	{ OP_SHARED, "shared", op_shared },
	{ OP_VALUE, "value", op_value },
	{ OP_READ, "read", op_read },
	{ OP_WRITE, "write", op_write },
	{ 0, NULL, NULL },
};

/* ---- the stages ------------------------------------------------------- */

static const char *role_of(const struct forklab *L, int i)
{
	return L->role[i];
}

static int stage_fork(struct run *r)
{
	struct forklab *L = run_state(r);
	struct side *p = &L->s[0];
	struct agent_msg m, ready;
	int rc;

	if ((rc = agent_start(r, p->a, NULL)) != 0)
		return rc;
	L->parent = p->pid = p->a->pid;
	p->w = obs_add(r, L->parent, p->a->pidfd, "parent");
	if (p->w == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, p->a, OP_SETUP, 0, &m)) != 0)
		return rc;
	L->x_before = m.v[0];
	L->x_addr = m.v[1];
	for (int i = 1; i <= L->n; i++) {
		struct side *c = &L->s[i];

		if ((rc = agent_fork(r, p->a, c->a, &m, &ready)) != 0)
			return rc;
		c->pid = c->a->pid;
		c->parent_stamp = m.v[3];
		c->parent_getpid = m.v[1];
		c->parent_getppid = m.v[2];
		c->getpid = ready.v[0];
		c->getppid = ready.v[1];
		c->returned = ready.v[2];
		c->stamp = ready.v[3];
		c->w = obs_add(r, c->pid, c->a->pidfd, role_of(L, i));
		if (c->w == NULL)
			return PL_EXIT_FAIL;
	}
	for (int i = 1; i <= L->n; i++)
		if (obs_await(r, L->s[i].w, "S", "blocks in read(2) until "
			      "proclab sends a command"))
			return PL_EXIT_FAIL;
	return obs_await(r, p->w, "S", "blocks in read(2) until proclab sends "
			 "a command");
}

static int stage_returns(struct run *r)
{
	struct forklab *L = run_state(r);
	const struct side *p = &L->s[0];

	obs_sample_all(r);
	for (int i = 1; i <= L->n; i++) {
		const struct side *c = &L->s[i];
		bool ok = c->parent_getpid == L->parent &&
			  c->parent_getppid == r->self &&
			  p->w->ppid == r->self;

		char ret[24];

		snprintf(ret, sizeof(ret), "%d", (int)c->pid);
		quiz_value(r, "fork-parent", c->pid, ret, NULL,
			   FIELDS(F_PID("parent", L->parent)));
		emit(r, "fork_return",
		     FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
			    F_INT("fork", i), F_PID("returned", c->pid),
			    F_PID("getpid", c->parent_getpid),
			    F_PID("getppid", c->parent_getppid),
			    F_PID("proc_ppid", p->w->ppid), F_BOOL("agrees", ok)));
		if (!ok)
			return pl_fail(r, "expected the parent to see getpid() "
				       "%d and getppid() %d after fork() #%d, as "
				       "/proc does; it saw %lld and %lld, /proc "
				       "PPid %d", (int)L->parent, (int)r->self,
				       i, c->parent_getpid, c->parent_getppid,
				       (int)p->w->ppid);
	}
	for (int i = 1; i <= L->n; i++) {
		const struct side *c = &L->s[i];
		bool agrees = c->returned == 0 && c->getpid == c->pid &&
			      c->getppid == L->parent &&
			      c->w->ppid == L->parent;

		char ret[24];

		snprintf(ret, sizeof(ret), "%lld", c->returned);
		quiz_value(r, "fork-child", c->pid, ret, NULL,
			   FIELDS(F_PID("parent", L->parent)));
		emit_form(r, "fork_return", "child",
			  FIELDS(F_PID("pid", c->pid), F_STR("role", role_of(L, i)),
				 F_INT("fork", i), F_PID("returned", c->returned),
				 F_PID("getpid", c->getpid),
				 F_PID("getppid", c->getppid),
				 F_PID("proc_ppid", c->w->ppid),
				 F_BOOL("agrees", agrees)));
		if (!agrees)
			return pl_fail(r, "expected %s to get 0 from fork(), "
				       "getpid() %d (what fork() returned in "
				       "the parent) and getppid() %d, /proc "
				       "PPid %d; it got %lld, %lld, %lld, /proc "
				       "PPid %d", role_of(L, i), (int)c->pid,
				       (int)L->parent, (int)L->parent,
				       c->returned, c->getpid, c->getppid,
				       (int)c->w->ppid);
	}
	return 0;
}

static int stage_order(struct run *r)
{
	struct forklab *L = run_state(r);
	char order[FORK_MAX_CHILDREN * 2 * 18] = "";
	int parent_first = 0, child_first = 0, shared_seen = 0;
	size_t len = 0;

	for (int i = 1; i <= L->n; i++) {
		struct side *c = &L->s[i];
		struct agent_msg m;
		int rc = agent_do(r, L->s[0].a, OP_SHARED, i, &m);
		bool pfirst = c->parent_stamp < c->stamp;

		if (rc != 0)
			return rc;
		c->shared_stamp = m.v[0];
		L->shared_next = m.v[1];

		pfirst ? parent_first++ : child_first++;
		if (c->shared_stamp == c->stamp)
			shared_seen++;
		emit(r, "first_run",
		     FIELDS(F_INT("fork", i), F_PID("child", c->pid),
			    F_MEAS("parent_stamp", c->parent_stamp),
			    F_MEAS("child_stamp", c->stamp),
			    F_MEAS("first", pfirst ? "parent" : "child"),
			    F_TEXT("role", role_of(L, i))));
	}
	/* the order of the 2N stamps, as roles */
	for (long long k = 0; k < 2LL * L->n; k++)
		for (int i = 1; i <= L->n; i++) {
			const char *who = L->s[i].stamp == k ? role_of(L, i)
					: L->s[i].parent_stamp == k ? "parent"
					: NULL;
			if (who != NULL)
				len += (size_t)snprintf(order + len,
							sizeof(order) - len,
							"%s%s", len ? " " : "",
							who);
		}
	emit(r, "run_order",
	     FIELDS(F_INT("forks", L->n), F_MEAS("parent_first", parent_first),
		    F_MEAS("child_first", child_first), F_MEAS("order", order),
		    F_INT("stamps", L->shared_next)));
	/* which side runs first is unspecified: a sleep only makes an order
	 * likely; order with wait() or a pipe */
	claim(r, "fork-sleep-orders", CLAIM_DEPENDS,
	      FIELDS(F_MEAS("parent_first", parent_first),
		     F_MEAS("child_first", child_first)));
	claim(r, "fork-shared-cow", shared_seen == 0 ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("children", L->n), F_INT("stamps_seen", shared_seen)));
	if (shared_seen != L->n)
		return pl_fail(r, "expected the parent to read every child's "
			       "stamp in the shared page; it read %d of %d",
			       shared_seen, L->n);
	return 0;
}

static int stage_memory(struct run *r)
{
	struct forklab *L = run_state(r);
	struct side *p = &L->s[0];
	char addr[32];
	int changed = 0;
	bool same;

	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)L->x_addr);
	emit_form(r, "memory", "before",
		  FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
			 F_STR("when", "before fork"), F_MEAS("address", addr),
			 F_INT("value", L->x_before)));
	for (int i = 1; i <= L->n; i++) {
		struct side *c = &L->s[i];
		struct agent_msg m;
		int rc = agent_do(r, c->a, OP_VALUE, i + 1, &m);

		if (rc != 0)
			return rc;
		c->value = m.v[0];
		c->addr = m.v[1];
		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)c->addr);
		emit_form(r, "memory", "set",
			  FIELDS(F_PID("pid", c->pid), F_STR("role", role_of(L, i)),
				 F_STR("when", "set"), F_MEAS("address", addr),
				 F_INT("value", c->value)));
		if (c->value != L->x_before)
			changed++;
	}
	/* the children's reports have arrived: they wrote before this */
	struct agent_msg m;
	int rc = agent_do(r, p->a, OP_VALUE, -1, &m);

	if (rc != 0)
		return rc;
	p->value = m.v[0];
	p->addr = m.v[1];
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)p->addr);
	emit_form(r, "memory", "after",
		  FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
			 F_STR("when", "after"), F_MEAS("address", addr),
			 F_INT("value", p->value)));
	same = p->addr == L->x_addr;
	for (int i = 1; i <= L->n; i++)
		same = same && L->s[i].addr == L->x_addr;
	emit_form(r, "separate", p->value == L->x_before ? NULL : "one-value",
		  FIELDS(F_INT("before", L->x_before),
			 F_INT("parent_after", p->value),
			 F_INT("children_changed", changed),
			 F_BOOL("same_address", same),
			 F_BOOL("separate", p->value == L->x_before),
			 F_TEXT("where", same ? _("the same virtual address in "
				"every process") : _("different virtual "
				"addresses"))));
	if (changed != L->n || p->value != L->x_before)
		return pl_fail(r, "expected %d children to change x and the "
			       "parent to keep %lld; %d changed it, the parent "
			       "read %lld", L->n, L->x_before, changed, p->value);
	return 0;
}

/* One pass of the first child over the parent's pages, with its minor
 * fault count read from /proc before and after. */
static int cow_pass(struct run *r, int op, long long *delta)
{
	struct forklab *L = run_state(r);
	struct side *c = &L->s[1];
	bool writing = op == OP_WRITE;
	unsigned long long before, after;

	if (obs_sample(r, c->w, NULL, NULL) == 'X')
		return pl_fail(r, "expected %s %d to wait for the %s pass; it "
			       "is gone", c->w->role, (int)c->pid,
			       writing ? "write" : "read");
	before = c->w->st.minflt;
	int rc = agent_do(r, c->a, op, 0, NULL);

	if (rc != 0)
		return rc;
	if (obs_sample(r, c->w, NULL, NULL) == 'X')
		return pl_fail(r, "%s %d ended during the pass", c->w->role,
			       (int)c->pid);
	after = c->w->st.minflt;
	*delta = (long long)(after - before);
	emit_form(r, "cow", writing ? "write" : "read",
		  FIELDS(F_PID("pid", c->pid),
			 F_STR("pass", writing ? "write" : "read"),
			 F_INT("pages", L->pages),
			 writing ? F_INT("pages_written", L->pages)
				 : F_INT("pages_read", L->pages),
			 F_MEAS("minflt_before", (long long)before),
			 F_MEAS("minflt_after", (long long)after),
			 F_MEAS("minflt_delta", *delta),
			 F_TEXT("role", c->w->role)));
	return 0;
}

static int stage_cow(struct run *r)
{
	struct forklab *L = run_state(r);
	long long pages = L->pages, rd, wr;
	bool read_free, write_copies;
	int rc = cow_pass(r, OP_READ, &rd);

	if (rc != 0 || (rc = cow_pass(r, OP_WRITE, &wr)) != 0)
		return rc;
	/* reading a shared page needs no fault (fork copied the page table);
	 * writing one faults once, and the kernel copies the page then */
	read_free = rd * 4 < pages || rd == 0;
	write_copies = wr >= pages;
	claim(r, "fork-page-table",
	      read_free && write_copies ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("pages", pages), F_MEAS("read_faults", rd),
		     F_MEAS("write_faults", wr)));
	claim(r, "fork-two-addresses", write_copies ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("pages", pages), F_MEAS("write_faults", wr)));
	if (!write_copies)
		return pl_fail(r, "expected at least one minor fault per page "
			       "written (%lld); /proc counted %lld", pages, wr);
	if (!read_free)
		return pl_fail(r, "expected reading the %lld shared pages to "
			       "take (almost) no faults, fewer than one per "
			       "four pages; /proc counted %lld", pages, rd);
	return 0;
}

/* Command every child, then wait until each shows one of `states`. */
static int children_do(struct run *r, int op, const char *states,
		       const char *why)
{
	struct forklab *L = run_state(r);

	for (int i = 1; i <= L->n; i++) {
		/* _exit's code: the child's number */
		int rc = agent_do(r, L->s[i].a, op,
				  op == AGENT_OP_EXIT ? i : 0, NULL);

		if (rc != 0)
			return rc;
	}
	for (int i = 1; i <= L->n; i++)
		if (obs_await(r, L->s[i].w, states, why))
			return PL_EXIT_FAIL;
	return 0;
}

static int stage_run(struct run *r)
{
	return children_do(r, AGENT_OP_SPIN, "R", N_("busy in a loop: on a CPU "
			   "or queued for one"));
}

static int stage_block(struct run *r)
{
	return children_do(r, AGENT_OP_BLOCK, "S", N_("waits in read(2) for a "
			   "byte nobody sent"));
}

/* The state line shows the parent's pid (ppid): the why need not. */
static int stage_exit(struct run *r)
{
	return children_do(r, AGENT_OP_EXIT, "Z", N_("exited; its parent has not "
			   "waited for it"));
}

static int stage_reap(struct run *r)
{
	struct forklab *L = run_state(r);

	for (int i = 1; i <= L->n; i++) {
		struct side *c = &L->s[i];
		struct wstatus ws;
		struct agent_msg m;
		int rc = agent_do(r, L->s[0].a, AGENT_OP_REAP, c->a->id, &m);
		int wait_errno = (int)m.v[2], st = (int)m.v[1];

		if (rc != 0)
			return rc;
		if (wait_errno != 0) {
			emit_form(r, "wait", "parent",
				  FIELDS(F_PID("pid", c->pid),
					 F_STR("call", "waitpid"),
					 F_INT("errno", wait_errno),
					 F_STR("error",
					       strerrorname_np(wait_errno)),
					 F_TEXT("message",
						strerror(wait_errno))));
			return pl_fail(r, "expected the parent to reap %s %d; "
				       "waitpid failed", role_of(L, i),
				       (int)c->pid);
		}
		wstatus_decode(st, &ws);
		emit_wstatus_by(r, c->pid, role_of(L, i), "waitpid", L->parent,
				&ws);
		if (!ws.exited || ws.code != i)
			return pl_fail(r, "expected %s %d to have exited with "
				       "code %d; the parent got status 0x%04x",
				       role_of(L, i), (int)c->pid, i,
				       (unsigned)st);
		if (obs_await(r, c->w, "X", "reaped by its parent: its /proc "
			      "entry is gone"))
			return PL_EXIT_FAIL;
	}
	return 0;
}

static int stage_parent_exit(struct run *r)
{
	struct forklab *L = run_state(r);
	struct watched *pw = L->s[0].w;
	int status;

	agent_close(L->s[0].a);
	if (obs_await(r, pw, "Z", "exited; proclab has not waited yet"))
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, L->parent, "parent", &status) < 0)
		return PL_EXIT_FAIL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pl_fail(r, "expected the parent to exit with code 0; "
			       "status 0x%04x", (unsigned)status);
	return obs_await(r, pw, "X", "reaped by proclab: its /proc entry is "
			 "gone");
}

/* The lab's sentences (emit.h): one per event and form. */
static const struct sentence fork_sentences[] = {
	/* pid, role, fork, returned, getpid, getppid, proc_ppid, agrees */
	{ "fork_return", NULL, "{role} {pid}: fork() #{fork} returned "
	  "{returned} (the child's pid); getpid() {getpid}, getppid() "
	  "{getppid}; its parent in /proc: {proc_ppid}", NULL, NULL },
	{ "fork_return", "child", "{role} {pid}: fork() returned {returned}; "
	  "getpid() {getpid}, getppid() {getppid}; its parent in /proc: "
	  "{proc_ppid}", NULL, NULL },
	/* fork, child, parent_stamp, child_stamp, first; text only: role */
	{ "first_run", NULL, "fork() #{fork}: the {first} ran first (stamps: "
	  "parent {parent_stamp}, {role} {child_stamp})", NULL, NULL },
	/* forks, parent_first, child_first, order, stamps (the counts are
	 * the fork-sleep-orders claim's evidence, the next line) */
	{ "run_order", NULL, "in stamp order: {order}", NULL, NULL },
	/* pid, role, when, address, value */
	{ "memory", "before", "{role} {pid}: x = {value} at address {address} "
	  "before fork()", NULL, NULL },
	{ "memory", "set", "{role} {pid}: sets x = {value} at address "
	  "{address}", NULL, NULL },
	{ "memory", "after", "{role} {pid}: x = {value} at address {address}, "
	  "after each child set its copy", NULL, NULL },
	/* before, parent_after, children_changed, same_address, separate;
	 * text only: where */
	{ "separate", NULL, "{where}, separate values: {children_changed} "
	  "child changed x, the parent still reads {parent_after}",
	  "{where}, separate values: {children_changed} children changed x, "
	  "the parent still reads {parent_after}", "children_changed" },
	{ "separate", "one-value", "{where}, one value: {children_changed} "
	  "child changed x, and the parent reads {parent_after}, not "
	  "{before}", "{where}, one value: {children_changed} children "
	  "changed x, and the parent reads {parent_after}, not {before}",
	  "children_changed" },
	/* pid, pass, pages, pages_read or pages_written, minflt_before,
	 * minflt_after, minflt_delta; text only: role */
	{ "cow", "read", "{role} {pid} read {pages} page: minor faults "
	  "{minflt_before} -> {minflt_after}, {minflt_delta} new",
	  "{role} {pid} read {pages} pages: minor faults {minflt_before} -> "
	  "{minflt_after}, {minflt_delta} new", "pages" },
	{ "cow", "write", "{role} {pid} wrote {pages} page: minor faults "
	  "{minflt_before} -> {minflt_after}, {minflt_delta} new",
	  "{role} {pid} wrote {pages} pages: minor faults {minflt_before} -> "
	  "{minflt_after}, {minflt_delta} new", "pages" },
	/* pid, call, errno, error; text only: message */
	{ "wait", "parent", "{call}({pid}) in the parent failed: {error} "
	  "({message})", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* The headings, in the number of children (or pages) the options give. */
static const struct stage fork_stages[] = {
	{ "fork", "proclab forks the parent; the parent writes its private "
	  "pages, then forks its child", stage_fork, NULL,
	  "proclab forks the parent; the parent writes its private pages, "
	  "then forks {children} children", "children" },
	{ "returns", "fork() returned in both processes: what each side got, "
	  "and who it says it is", stage_returns, NULL, NULL, NULL },
	{ "order", "who ran first after fork(): both sides stamped a counter "
	  "in a shared page as their first act", stage_order, NULL,
	  "who ran first after each fork(): both sides stamped a counter in a "
	  "shared page as their first act", "children" },
	{ "memory", "the child sets its copy of the variable x; then the "
	  "parent reads its own", stage_memory, NULL,
	  "each child sets its copy of the variable x; then the parent reads "
	  "its own", "children" },
	{ "cow", "copy-on-write: a child reads the one page it shares with "
	  "the parent, then writes it", stage_cow, NULL,
	  "copy-on-write: a child reads the {pages} pages it shares with the "
	  "parent, then writes them", "pages" },
	{ "run", "the child is told to spin in a loop", stage_run, NULL,
	  "the children are told to spin in a loop", "children" },
	{ "block", "the child calls read(2) on an empty pipe", stage_block,
	  NULL, "the children call read(2) on an empty pipe", "children" },
	{ "exit", "the child calls _exit(1)", stage_exit, NULL,
	  "each child calls _exit with its number as the code", "children" },
	{ "reap", "the parent calls waitpid() for its child", stage_reap,
	  NULL, "the parent calls waitpid() for each child", "children" },
	{ "parent-exit", "proclab closes the parent's command pipe: the "
	  "parent exits, and proclab reaps it", stage_parent_exit, NULL, NULL,
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* Before the first stage: the run's state, the lab's operations, and the
 * agents planned: the parent and, before it starts, the children it
 * forks. */
static int fork_run(struct run *r)
{
	struct forklab *L = run_state(r);
	const struct agent_config cfg = { fork_ops, L, on_fork };
	int rc;

	L->n = (int)opt_val(r, "children");
	L->pages = opt_val(r, "pages");
	L->page_size = (size_t)sysconf(_SC_PAGESIZE);
	L->x = 1;
	snprintf(L->role[0], sizeof(L->role[0]), "parent");
	for (int i = 1; i <= L->n; i++)
		snprintf(L->role[i], sizeof(L->role[i]),
			 L->n == 1 ? "child" : "child%d", i);
	if ((rc = agent_init(r, &cfg)) != 0)
		return rc;
	if ((L->s[0].a = agent_new(r, L->role[0])) == NULL)
		return PL_EXIT_FAIL;
	for (int i = 1; i <= L->n; i++) {
		L->s[i].a = agent_plan_child(r, L->s[0].a, L->role[i]);
		if (L->s[i].a == NULL)
			return PL_EXIT_FAIL;
		agent_set_name(L->s[i].a, "child");
	}
	return PL_EXIT_OK;
}

/* --children: the parent and its children must fit in what RLIMIT_NPROC
 * leaves this user (the kernel exempts only root, uid 0). */
static int check_nproc(struct run *r)
{
	long long n = opt_val(r, "children"), have, room;
	uid_t uid = getuid();
	struct rlimit rl;

	if (uid == 0 || getrlimit(RLIMIT_NPROC, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY ||
	    proc_count_tasks(uid, &have) != PROC_OK)
		return PL_EXIT_OK;
	/* the parent first, then its children */
	room = (long long)rl.rlim_cur - have - 1;
	if (n <= room)
		return PL_EXIT_OK;
	if (room < 1) {
		pl_warnx(r, "no room for a parent and a child: uid %d has %lld "
			 "of the %llu processes RLIMIT_NPROC allows", (int)uid,
			 have, (unsigned long long)rl.rlim_cur);
		return PL_EXIT_UNAVAILABLE;
	}
	pl_warnx(r, "--children: '%lld' is too many for this user (1 to %lld: "
		 "uid %d has %lld of the %llu processes RLIMIT_NPROC allows)",
		 n, room, (int)uid, have, (unsigned long long)rl.rlim_cur);
	return PL_EXIT_USAGE;
}

/* --pages: the parent fills them and its first child writes a copy of
 * each, twice the size in all; at most half of MemAvailable. */
static int check_memory(struct run *r)
{
	long long pages = opt_val(r, "pages"), kb, max;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || proc_mem_available(&kb) != PROC_OK)
		return PL_EXIT_OK;
	max = kb / 2 * 1024 / (2 * page);
	if (pages <= max)
		return PL_EXIT_OK;
	if (max < 1) {
		pl_warnx(r, "only %lld kB of memory available", kb);
		return PL_EXIT_UNAVAILABLE;
	}
	pl_warnx(r, "--pages: '%lld' is too many for this machine (1 to %lld: "
		 "twice the pages in all, at most half of the %lld MiB "
		 "available)", pages, max < 65536 ? max : 65536, kb / 1024);
	return PL_EXIT_USAGE;
}

/* Refuse, before anything is printed, what this user or machine cannot
 * give: the options' own ranges are checked by the dispatcher. */
static int fork_prepare(struct run *r)
{
	int rc = check_nproc(r);

	return rc != PL_EXIT_OK ? rc : check_memory(r);
}

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary fork_vary[] = {
	{ "children", 1, 4 },
	{ "pages", 64, 512 },
	{ NULL, 0, 0 },
};

const struct lab lab_fork = {
	.name = "fork",
	.summary = "one call, two returns; separate memory; copy-on-write",
	.description =
		"proclab forks a parent, and the parent forks its child (or "
		"--children N),\nso that both sides of fork() are processes "
		"you can watch.  Each side\nreports what fork() returned to "
		"it and who it is (getpid, getppid),\nchecked against /proc; "
		"stamps in a shared page show who ran first after\neach "
		"fork; a variable the child changes keeps its value in the "
		"parent;\nthe child reads, then writes --pages pages it "
		"shares with the parent,\nand its minor faults in "
		"/proc/PID/stat show the copy-on-write.  Then\nthe child "
		"runs (R), blocks (S), exits (Z) and its parent reaps it "
		"(X).",
	.options = fork_options,
	.run = fork_run,
	.prepare = fork_prepare,
	.sentences = fork_sentences,
	.stages = fork_stages,
	.state_size = sizeof(struct forklab),
	.vary = fork_vary,
};
