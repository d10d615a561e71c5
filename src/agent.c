/* agent.c - the child agent: commands in, reports out (agent.h). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"
#include "wstatus.h"

/* The run's agents, behind r->agents. */
struct agents {
	struct agent_config cfg;
	int rep[2];             /* the report channel: read end proclab's */
	struct agent a[AGENTS_MAX];
	int n;
	struct agent_msg q[AGENT_QUEUE];        /* reports not yet expected */
	int qn;
	size_t page;
	/* inside an agent: the pids of the agents it forked, by id */
	pid_t forked[AGENTS_MAX];
};

static const char *const call_names[AGENT_CALL_MAX] = {
	[AGENT_CALL_PRCTL] = "prctl(PR_SET_PDEATHSIG)",
	[AGENT_CALL_DUPFD] = "fcntl(F_DUPFD)",
	[AGENT_CALL_DUP2] = "dup2",
	[AGENT_CALL_CLOSE_RANGE] = "close_range",
	[AGENT_CALL_SETFL] = "fcntl(F_SETFL)",
	[AGENT_CALL_MMAP] = "mmap",
	[AGENT_CALL_MADVISE] = "madvise",
	[AGENT_CALL_FORK] = "fork",
	[AGENT_CALL_CLONE] = "clone",
	[AGENT_CALL_WAITPID] = "waitpid",
	[AGENT_CALL_PIPE] = "pipe",
	[AGENT_CALL_OPEN] = "open",
	[AGENT_CALL_DUP] = "dup",
	[AGENT_CALL_SETRLIMIT] = "setrlimit",
	[AGENT_CALL_EXECVE] = "execve",
	[AGENT_CALL_VFORK] = "vfork",
	[AGENT_CALL_FDOPEN] = "fdopen",
	[AGENT_CALL_ON_EXIT] = "on_exit",
	[AGENT_CALL_DUMPABLE] = "prctl(PR_SET_DUMPABLE)",
	[AGENT_CALL_SETSID] = "setsid",
	[AGENT_CALL_TIOCSCTTY] = "ioctl(TIOCSCTTY)",
	[AGENT_CALL_SETPGID] = "setpgid",
	[AGENT_CALL_TCSETPGRP] = "tcsetpgrp",
	[AGENT_CALL_KILL] = "kill",
	[AGENT_CALL_SIGACTION] = "sigaction",
	[AGENT_CALL_SIGPROCMASK] = "sigprocmask",
};

const char *agent_call_name(int call)
{
	if (call > 0 && call < AGENT_CALL_MAX && call_names[call] != NULL)
		return call_names[call];
	return "a call";
}

const char *agent_exit_meaning(int code)
{
	switch (code) {
	case AGENT_EXIT_PROTOCOL:
		return "it got a command it does not know";
	case AGENT_EXIT_SETUP:
		return "a call failed while it set up";
	case AGENT_EXIT_LOST:
		return "it could not write a report";
	case AGENT_EXIT_ORPHANED:
		return "its parent died before it could ask to die with it";
	default:
		return NULL;
	}
}

/* ---- inside an agent: async-signal-safe only --------------------------- */

static void put(int fd, const struct agent_msg *m)
{
	if (write(fd, m, sizeof(*m)) != (ssize_t)sizeof(*m))
		_exit(AGENT_EXIT_LOST);
}

void agent_say(struct agent_ctx *c, int kind, int64_t a, int64_t b,
	       int64_t c2, int64_t d)
{
	struct agent_msg m = { c->id, kind, -1, 0, { a, b, c2, d } };

	put(c->rep, &m);
}

static void __attribute__((noreturn)) fail_on(int rep, int id, int call,
					      int op)
{
	struct agent_msg m = { id, AGENT_REP_ERROR, -1, 0,
			       { call, errno, op, 0 } };

	put(rep, &m);
	_exit(AGENT_EXIT_SETUP);
}

void agent_fail(struct agent_ctx *c, int call)
{
	fail_on(c->rep, c->id, call, 0);
}

pid_t agent_child_pid(const struct agent_ctx *c, int id)
{
	return id >= 0 && id < AGENTS_MAX ? c->g->forked[id] : 0;
}

pid_t agent_clone_vfork(int (*fn)(void *), void *arg, void *stack,
			size_t size)
{
	char *own = NULL;
	pid_t pid;
	int e;

	if (stack == NULL) {
		own = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (own == MAP_FAILED)
			return -1;
		stack = own;
	}
	/* the stack grows down: clone takes its top */
	pid = clone(fn, (char *)stack + size,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
	e = errno;
	if (own != NULL)
		munmap(own, size);
	errno = e;
	return pid;
}

/* Put each src fd at its dst (dst distinct), closing every other fd but
 * stdin, stdout and stderr (those not replaced).  *rep is the report
 * fd, followed as it moves (it is one of the pairs). */
static void place_fds(int *rep, int id, const int *src, const int *dst,
		      int n)
{
	int hi = 3, tmp[AGENTS_MAX + AGENT_GIVE_MAX + 2];

	for (int i = 0; i < n; i++)
		if (dst[i] + 1 > hi)
			hi = dst[i] + 1;
	/* first out of the way of every dst, then into place */
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD, hi)) < 0)
			fail_on(*rep, id, AGENT_CALL_DUPFD, 0);
	for (int i = 0; i < n; i++) {
		if (src[i] == *rep)
			*rep = tmp[i];
	}
	for (int i = 0; i < n; i++) {
		bool is_rep = tmp[i] == *rep;

		if (dup2(tmp[i], dst[i]) < 0)
			fail_on(*rep, id, AGENT_CALL_DUP2, 0);
		if (is_rep)
			*rep = dst[i];
	}
	/* hold nothing else: no sibling's pipe, no proclab fd */
	for (int fd = 3; fd < hi; fd++) {
		bool keep = false;

		for (int i = 0; i < n; i++)
			keep |= dst[i] == fd;
		if (!keep)
			close(fd);      /* EBADF: was not open */
	}
	if (close_range((unsigned)hi, ~0U, 0) < 0)
		/* Linux < 5.9: refuse to run with leaked fds */
		fail_on(*rep, id, AGENT_CALL_CLOSE_RANGE, 0);
}

/* Where agent fds go in an agent that proclab forks: the report channel
 * first, then its command pipe, then the command pipes of every agent
 * below it, in pre-order (assign_fds()). */
static int fd_base(const struct agent *a)
{
	int base = 3;

	for (int i = 0; i < a->ngive; i++)
		if (a->give[i].at + 1 > base)
			base = a->give[i].at + 1;
	return base;
}

static void __attribute__((noreturn)) agent_loop(struct agents *g,
						 struct agent_ctx *c);

/* Number the command pipes of a's subtree from fd: a's own at fd, then
 * each child's subtree in turn (pre-order), so that every subtree's pipes
 * are one range of fds, [fd, fd + span).  Returns the fd after it. */
static int assign_fds(struct agent *a, int fd)
{
	a->fd = fd++;
	for (int i = 0; i < a->nslots; i++)
		fd = assign_fds(a->slot[i], fd);
	a->span = fd - a->fd;
	return fd;
}

/* a's subtree's read ends, in the order of assign_fds(). */
static int subtree_pipes(const struct agent *a, int *src, int n)
{
	src[n++] = a->cmd_in;
	for (int i = 0; i < a->nslots; i++)
		n = subtree_pipes(a->slot[i], src, n);
	return n;
}

/* Close a's subtree's read ends in proclab (the agents hold them). */
static void close_subtree(struct agent *a)
{
	if (a->cmd_in >= 0)
		close(a->cmd_in);
	a->cmd_in = -1;
	for (int i = 0; i < a->nslots; i++)
		close_subtree(a->slot[i]);
}

/* The first things a new agent does: die with its parent, its name. */
static void agent_setup(int rep, const struct agent *a, pid_t parent)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	pl_reset_handlers();
	/* agent_outlives(): the lifeline alone ties it to proclab */
	if (!a->outlives) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			fail_on(rep, a->id, AGENT_CALL_PRCTL, 0);
		if (getppid() != parent)
			_exit(AGENT_EXIT_ORPHANED);
	}
	prctl(PR_SET_NAME, a->comm);
}

/* A child of proclab, just out of pl_fork() (which did agent_setup's
 * part already). */
static void __attribute__((noreturn)) agent_main(struct agents *g,
						 struct agent *a)
{
	int src[AGENTS_MAX + AGENT_GIVE_MAX + 2], dst[AGENTS_MAX +
						      AGENT_GIVE_MAX + 2];
	int n = 0, m, base = fd_base(a), rep = g->rep[1];
	struct agent_ctx c = { .id = a->id, .self = getpid(),
			       .parent = getppid(), .data = g->cfg.data,
			       .a = a, .g = g };

	src[n] = rep, dst[n++] = base;
	/* its own command pipe at base + 1 (a->fd), then its subtree's */
	m = subtree_pipes(a, src, n);
	for (; n < m; n++)
		dst[n] = base + 1 + (n - 1);
	for (int i = 0; i < a->ngive; i++)
		src[n] = a->give[i].fd, dst[n++] = a->give[i].at;
	place_fds(&rep, a->id, src, dst, n);
	prctl(PR_SET_NAME, a->comm);    /* agent_set_name()'s, if any */
	c.rep = base;
	c.cmd = base + 1;
	agent_say(&c, AGENT_REP_READY, c.self, c.parent, 0, 0);
	agent_loop(g, &c);
}

/* AGENT_OP_FORK: fork planned agent `id` (one of our slots).  Our
 * subtree's command pipes are the fds [a->fd, a->fd + a->span) (ours
 * first); k's subtree is one range inside it. */
static void op_fork(struct agents *g, struct agent_ctx *c, int64_t id)
{
	const struct agent *a = c->a, *k = NULL;
	int64_t mark;
	pid_t pid;

	for (int i = 0; i < a->nslots; i++)
		if (a->slot[i]->id == id)
			k = a->slot[i];
	if (k == NULL)
		_exit(AGENT_EXIT_PROTOCOL);
	pid = fork();
	/* the first thing either side does after fork() returns */
	mark = g->cfg.on_fork != NULL ? g->cfg.on_fork(c->data, k->id, pid)
				      : 0;
	if (pid < 0)
		agent_fail(c, AGENT_CALL_FORK);
	if (pid == 0) {
		struct agent_ctx gc = { .id = k->id, .parent = c->self,
					.data = c->data, .rep = c->rep,
					.cmd = c->cmd, .a = k, .g = g };

		agent_setup(c->rep, k, c->self);
		gc.self = getpid();
		/* its own command pipe and its subtree's, nothing else of
		 * ours: not our pipe, not its siblings' (below our range are
		 * the channel and the fds handed to the first agent) */
		gc.cmd = k->fd;
		/* agent_inherits(): the fds above our subtree's range are
		 * the ones we opened ourselves; keep them */
		unsigned top = k->inherits ? (unsigned)(a->fd + a->span - 1)
					   : ~0U;

		if (close_range((unsigned)a->fd, (unsigned)k->fd - 1, 0) < 0 ||
		    ((unsigned)(k->fd + k->span) <= top &&
		     close_range((unsigned)(k->fd + k->span), top, 0) < 0))
			fail_on(c->rep, k->id, AGENT_CALL_CLOSE_RANGE,
				AGENT_OP_FORK);
		agent_say(&gc, AGENT_REP_READY, gc.self, getppid(), pid, mark);
		agent_loop(g, &gc);
	}
	g->forked[k->id] = pid;
	/* the child holds its subtree's command pipes; we must not, or they
	 * would not see EOF when proclab closes them */
	if (close_range((unsigned)k->fd, (unsigned)(k->fd + k->span - 1), 0)
	    < 0)
		agent_fail(c, AGENT_CALL_CLOSE_RANGE);
	struct agent_msg m = { c->id, AGENT_OP_FORK, k->id, 0,
			       { pid, c->self, getppid(), mark } };
	put(c->rep, &m);
}

static void op_reap(struct agents *g, struct agent_ctx *c, int64_t id)
{
	pid_t pid = id >= 0 && id < AGENTS_MAX ? g->forked[id] : 0, got;
	int st = 0;

	if (pid <= 0)
		_exit(AGENT_EXIT_PROTOCOL);
	do
		got = waitpid(pid, &st, 0);
	while (got < 0 && errno == EINTR);
	agent_say(c, AGENT_OP_REAP, pid, st, got < 0 ? errno : 0, 0);
}

static void op_touch(struct agents *g, struct agent_ctx *c, int64_t mib)
{
	size_t len = (size_t)mib << 20;
	char *p;

	if (len > 0) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			fail_on(c->rep, c->id, AGENT_CALL_MMAP, AGENT_OP_TOUCH);
		for (size_t off = 0; off < len; off += g->page)
			p[off] = 1;
	}
	agent_say(c, AGENT_OP_TOUCH, (int64_t)len, 0, 0, 0);
}

/* The vfork child: in the caller's memory, on its own stack.  It answers
 * for the caller, then waits for the release on the caller's pipe. */
static int __attribute__((no_sanitize("address"))) vchild_main(void *arg)
{
	const struct agent_ctx *c = arg;
	struct agent_msg m = { c->id, AGENT_OP_VFORK, -1, 0, { 0, 0, 0, 0 } };
	ssize_t n;

	/* the death signal is not inherited through clone: ask again */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail_on(c->rep, c->id, AGENT_CALL_PRCTL, AGENT_OP_VFORK);
	if (getppid() != c->self)
		_exit(AGENT_EXIT_ORPHANED);
	prctl(PR_SET_NAME, "proclab-vfork");
	m.v[0] = getpid();
	m.v[1] = getppid();
	put(c->rep, &m);
	do
		n = read(c->cmd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		_exit(AGENT_EXIT_LIFELINE);
	_exit(n == (ssize_t)sizeof(m) && m.kind == AGENT_OP_RELEASE
	      ? 0 : AGENT_EXIT_PROTOCOL);
}

static void op_vfork(struct agent_ctx *c)
{
	pid_t pid = agent_clone_vfork(vchild_main, c, NULL, 64 * 1024);

	if (pid < 0)
		fail_on(c->rep, c->id, errno == ENOMEM ? AGENT_CALL_MMAP
			: AGENT_CALL_CLONE, AGENT_OP_VFORK);
	/* released: the child has exited; reap it */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void agent_next(const struct agent_ctx *c, struct agent_msg *m, bool spin)
{
	ssize_t n;

	if (spin && fcntl(c->cmd, F_SETFL, O_NONBLOCK) < 0)
		fail_on(c->rep, c->id, AGENT_CALL_SETFL, AGENT_OP_SPIN);
	do
		n = read(c->cmd, m, sizeof(*m));
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	if (spin && fcntl(c->cmd, F_SETFL, 0) < 0)
		fail_on(c->rep, c->id, AGENT_CALL_SETFL, AGENT_OP_SPIN);
	if (n == 0)
		_exit(AGENT_EXIT_LIFELINE);
	if (n != (ssize_t)sizeof(*m))
		_exit(AGENT_EXIT_PROTOCOL);
}

static void __attribute__((noreturn)) agent_loop(struct agents *g,
						 struct agent_ctx *c)
{
	struct agent_msg m;
	bool spin = false;

	for (;;) {
		const struct agent_op_def *d = NULL;
		int64_t out[AGENT_ARGS] = { 0, 0, 0, 0 };

		agent_next(c, &m, spin);
		spin = false;
		switch (m.kind) {
		case AGENT_OP_SPIN:
			agent_say(c, m.kind, 0, 0, 0, 0);
			spin = true;
			continue;
		case AGENT_OP_BLOCK:
			agent_say(c, m.kind, 0, 0, 0, 0);
			continue;
		case AGENT_OP_TOUCH:
			op_touch(g, c, m.v[0]);
			continue;
		case AGENT_OP_RAISE:
			raise((int)m.v[0]);
			continue;
		case AGENT_OP_EXIT:
			_exit((int)m.v[0]);
		case AGENT_OP_VFORK:
			op_vfork(c);
			continue;
		case AGENT_OP_RELEASE:
			continue;       /* nothing held: nothing to release */
		case AGENT_OP_FORK:
			op_fork(g, c, m.v[0]);
			continue;
		case AGENT_OP_REAP:
			op_reap(g, c, m.v[0]);
			continue;
		default:
			break;
		}
		for (int i = 0; g->cfg.ops != NULL && g->cfg.ops[i].op != 0;
		     i++)
			if (g->cfg.ops[i].op == m.kind &&
			    g->cfg.ops[i].fn != NULL)
				d = &g->cfg.ops[i];
		if (d == NULL)
			_exit(AGENT_EXIT_PROTOCOL);
		if (d->fn(c, m.v, out) == AGENT_OK)
			agent_say(c, m.kind, out[0], out[1], out[2], out[3]);
	}
}

/* ---- proclab's side ---------------------------------------------------- */

static struct agents *agents_of(struct run *r)
{
	struct agents *g = r->agents;

	if (g != NULL)
		return g;
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		pl_sys_error(r, "calloc", errno, "cannot set up agents: %s",
			     strerror(errno));
		return NULL;
	}
	g->rep[0] = g->rep[1] = -1;
	if (pipe2(g->rep, O_CLOEXEC) < 0 ||
	    fcntl(g->rep[0], F_SETFL, O_NONBLOCK) < 0) {
		pl_sys_error(r, g->rep[0] < 0 ? "pipe2" : "fcntl(F_SETFL)",
			     errno, "cannot create a pipe: %s",
			     strerror(errno));
		if (g->rep[0] >= 0) {
			close(g->rep[0]);
			close(g->rep[1]);
		}
		free(g);
		return NULL;
	}
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	r->agents = g;
	return g;
}

int agent_init(struct run *r, const struct agent_config *cfg)
{
	struct agents *g = agents_of(r);

	if (g == NULL)
		return PL_EXIT_FAIL;
	g->cfg = *cfg;
	return 0;
}

void agents_release(struct run *r)
{
	struct agents *g = r->agents;

	if (g == NULL)
		return;
	for (int i = 0; i < g->n; i++) {
		agent_close(&g->a[i]);
		if (g->a[i].cmd_in >= 0)
			close(g->a[i].cmd_in);
		g->a[i].cmd_in = -1;
	}
	close(g->rep[0]);
	close(g->rep[1]);
	free(g);
	r->agents = NULL;
}

struct agent *agent_new(struct run *r, const char *role)
{
	struct agents *g = agents_of(r);
	struct agent *a;
	int p[2];

	if (g == NULL)
		return NULL;
	if (g->n >= AGENTS_MAX) {
		pl_warnx(r, "cannot plan a %s: already %d agents", role,
			 AGENTS_MAX);
		return NULL;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		pl_sys_error(r, "pipe2", errno, "cannot create a pipe: %s",
			     strerror(errno));
		return NULL;
	}
	a = &g->a[g->n];
	memset(a, 0, sizeof(*a));
	a->id = g->n++;
	a->role = role;
	a->pidfd = -1;
	a->cmd_in = p[0];
	a->cmd = p[1];
	snprintf(a->comm, sizeof(a->comm), "proclab-%s", role);
	return a;
}

struct agent *agent_plan_child(struct run *r, struct agent *parent,
			       const char *role)
{
	struct agent *a;

	const struct agent *top = parent;

	while (top->parent != NULL)
		top = top->parent;
	/* the first agent carries every pipe of its subtree when it starts */
	if (parent->started || top->started || parent->nslots >= AGENT_SLOTS) {
		pl_warnx(r, "cannot plan a %s under the %s: %s", role,
			 parent->role, parent->started ? "it has started"
			 : top->started ? "the first agent above it has started"
			 : "no room");
		return NULL;
	}
	a = agent_new(r, role);
	if (a == NULL)
		return NULL;
	a->parent = parent;
	parent->slot[parent->nslots++] = a;
	return a;
}

void agent_in_proclab_group(struct agent *a)
{
	a->proclab_group = true;
}

void agent_inherits(struct agent *a)
{
	a->inherits = true;
}

void agent_outlives(struct agent *a)
{
	a->outlives = true;
}

void agent_set_name(struct agent *a, const char *name)
{
	snprintf(a->comm, sizeof(a->comm), "proclab-%s", name);
}

int agent_give_fd(struct run *r, struct agent *a, int fd, int at)
{
	if (a->started || a->parent != NULL || a->ngive >= AGENT_GIVE_MAX ||
	    at < 0 || at > 1000 || fd < 0) {
		pl_warnx(r, "cannot hand fd %d to the %s as fd %d", fd,
			 a->role, at);
		return PL_EXIT_FAIL;
	}
	for (int i = 0; i < a->ngive; i++)
		if (a->give[i].at == at) {
			pl_warnx(r, "cannot hand two fds to the %s as fd %d",
				 a->role, at);
			return PL_EXIT_FAIL;
		}
	a->give[a->ngive].fd = fd;
	a->give[a->ngive].at = at;
	a->ngive++;
	return 0;
}

static struct agent *by_id(struct agents *g, int id)
{
	return id >= 0 && id < g->n ? &g->a[id] : NULL;
}

static const char *kind_name(const struct agents *g, int kind, char *buf,
			     size_t size)
{
	static const char *const builtin[] = {
		[AGENT_OP_SPIN] = "spin", [AGENT_OP_BLOCK] = "block",
		[AGENT_OP_TOUCH] = "touch", [AGENT_OP_RAISE] = "raise",
		[AGENT_OP_EXIT] = "exit", [AGENT_OP_VFORK] = "vfork",
		[AGENT_OP_RELEASE] = "release", [AGENT_OP_FORK] = "fork",
		[AGENT_OP_REAP] = "reap",
	};

	if (kind > 0 && kind <= AGENT_OP_REAP)
		return builtin[kind];
	if (kind == AGENT_REP_READY)
		return "ready";
	for (int i = 0; g->cfg.ops != NULL && g->cfg.ops[i].op != 0; i++)
		if (g->cfg.ops[i].op == kind)
			return g->cfg.ops[i].name;
	snprintf(buf, size, "#%d", kind);
	return buf;
}

/* A report of a failed call: the line, the event, exit 3. */
static int setup_error(struct run *r, struct agents *g,
		       const struct agent_msg *m)
{
	const struct agent *a = by_id(g, m->from);
	const char *role = a != NULL ? a->role : "agent";
	const char *call = agent_call_name((int)m->v[0]);
	int e = (int)m->v[1];
	char msg[256];

	snprintf(msg, sizeof(msg), "the %s cannot set up: %s: %s", role, call,
		 strerror(e));
	r->failed = true;
	r->unavailable = true;
	emit(r, "error", FIELDS(F_STR("role", role),
			       F_PID("pid", a != NULL ? a->pid : 0),
			       F_STR("call", call), F_INT("errno", e),
			       F_STR("error", strerrorname_np(e)),
			       F_STR("message", msg)));
	if (r->json || !isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO))
		pl_warnx(r, "%s", msg);
	return PL_EXIT_UNAVAILABLE;
}

/* Read every report waiting on the channel into the queue. */
static int drain(struct run *r, struct agents *g)
{
	for (;;) {
		struct agent_msg m;
		ssize_t n = read(g->rep[0], &m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n != (ssize_t)sizeof(m)) {
			pl_warnx(r, "cannot read a report: %s",
				 n < 0 ? strerror(errno) : "short read");
			return PL_EXIT_FAIL;
		}
		if (g->qn == AGENT_QUEUE) {
			pl_warnx(r, "%d reports nobody expected", AGENT_QUEUE);
			return PL_EXIT_FAIL;
		}
		g->q[g->qn++] = m;
	}
}

/* The first queued report matching, taken out of the queue. */
static bool take(struct agents *g, int from, int kind, struct agent_msg *out)
{
	for (int i = 0; i < g->qn; i++) {
		const struct agent_msg *m = &g->q[i];

		if ((from == AGENT_ANY || m->from == from) &&
		    (kind == AGENT_ANY || m->kind == kind)) {
			if (out != NULL)
				*out = *m;
			memmove(&g->q[i], &g->q[i + 1],
				(size_t)(g->qn - i - 1) * sizeof(*m));
			g->qn--;
			return true;
		}
	}
	return false;
}

/* Has a (started, watched) ended?  Without waiting. */
static bool has_ended(struct run *r, const struct agent *a)
{
	if (a->pidfd >= 0) {
		struct pollfd p = { .fd = a->pidfd, .events = POLLIN };

		return poll(&p, 1, 0) > 0;
	}
	return pl_wait_exit(r, a->pid, 0) == 1;
}

/* The wait status of pid, a zombie, from /proc/PID/stat (exit_code, the
 * last field, Linux 3.5); -1 if it cannot be read. */
static int zombie_status(pid_t pid)
{
	char path[32], buf[1024], *last;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	last = strrchr(buf, ')');
	if (last == NULL || strstr(last, ") Z ") != last)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	last = strrchr(buf, ' ');
	return last != NULL ? atoi(last + 1) : -1;
}

/* "was killed by SIGKILL", "exited with code 125 (a call failed while it
 * set up)", or "ended" when it is not ours to ask (a grandchild). */
static void how_ended(struct run *r, const struct agent *a, char *buf,
		      size_t size)
{
	siginfo_t si;
	struct wstatus w;
	const char *meaning;

	si.si_pid = 0;
	if (a->parent != NULL) {
		/* not our child to ask: /proc/PID/stat's last field is the
		 * exit status while it waits for its parent (a zombie) */
		int raw = zombie_status(a->pid);

		if (raw < 0) {
			snprintf(buf, size, "ended");
			return;
		}
		wstatus_decode(raw, &w);
	} else if (pl_waitid(r, a->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		   si.si_pid == 0 || wstatus_from_siginfo(&si, &w) < 0) {
		snprintf(buf, size, "ended");
		return;
	}
	if (w.signaled) {
		snprintf(buf, size, "was killed by %s",
			 wstatus_signame(w.sig).s);
		return;
	}
	meaning = agent_exit_meaning(w.code);
	snprintf(buf, size, "exited with code %d%s%s%s", w.code,
		 meaning != NULL ? " (" : "", meaning != NULL ? meaning : "",
		 meaning != NULL ? ")" : "");
}

int agent_expect(struct run *r, const struct agent *from, int kind,
		 struct agent_msg *out)
{
	return agent_expect_in(r, from, kind, out, r->timeout_ms);
}

int agent_expect_in(struct run *r, const struct agent *from, int kind,
		    struct agent_msg *out, int timeout_ms)
{
	struct agents *g = r->agents;
	long long deadline = pl_now_ms() + timeout_ms;
	char kbuf[16];
	int rc;

	if (g == NULL)
		return pl_fail(r, "expected a report, but no agent was made");
	for (;;) {
		struct pollfd fds[1 + AGENTS_MAX];
		const struct agent *dead = NULL;
		struct agent_msg err;
		long long left;
		int n = 0;
		bool sample = false;

		if ((rc = drain(r, g)) != 0)
			return rc;
		if (take(g, AGENT_ANY, AGENT_REP_ERROR, &err))
			return setup_error(r, g, &err);
		if (take(g, from != NULL ? from->id : AGENT_ANY, kind, out))
			return 0;
		/* an agent that died before saying what we wait for */
		for (int i = 0; i < g->n && dead == NULL; i++) {
			const struct agent *a = &g->a[i];

			/* the one we wait for, even if it was told to end:
			 * it will never answer now */
			if (a->started && a->pid > 0 &&
			    (!a->ending || a == from) && has_ended(r, a))
				dead = a;
		}
		if (dead != NULL) {
			char how[128];

			/* what it wrote before it ended is there by now */
			if ((rc = drain(r, g)) != 0)
				return rc;
			if (take(g, AGENT_ANY, AGENT_REP_ERROR, &err))
				return setup_error(r, g, &err);
			if (take(g, from != NULL ? from->id : AGENT_ANY, kind,
				 out))
				return 0;
			how_ended(r, dead, how, sizeof(how));
			/* said once: a later expect waits for the others */
			((struct agent *)dead)->ending = true;
			return pl_fail(r, "the %s %d %s while proclab waited "
				       "for %s%s%s report \"%s\"", dead->role,
				       (int)dead->pid, how,
				       from != NULL ? "the " : "any",
				       from != NULL ? from->role : "",
				       from != NULL ? "'s" : "",
				       kind_name(g, kind, kbuf,
						 sizeof(kbuf)));
		}
		left = deadline - pl_now_ms();
		if (left <= 0)
			break;
		fds[n++] = (struct pollfd){ .fd = g->rep[0], .events = POLLIN };
		for (int i = 0; i < g->n; i++) {
			const struct agent *a = &g->a[i];

			if (!a->started || (a->ending && a != from) ||
			    a->pid <= 0)
				continue;
			if (a->pidfd >= 0)
				fds[n++] = (struct pollfd){ .fd = a->pidfd,
							    .events = POLLIN };
			else
				sample = true;  /* no exit event: look */
		}
		/* without pidfds, look at the agents every 10 ms */
		pl_wait_fds(r, fds, n, sample && left > 10 ? 10 : (int)left);
	}
	if (from != NULL)
		return pl_fail(r, "expected the %s %d to report \"%s\" within "
			       "%d ms; it did not", from->role, (int)from->pid,
			       kind_name(g, kind, kbuf, sizeof(kbuf)),
			       timeout_ms);
	return pl_fail(r, "expected a report \"%s\" within %d ms; none came",
		       kind_name(g, kind, kbuf, sizeof(kbuf)), timeout_ms);
}

int agent_take(struct run *r, const struct agent *from, int kind,
	       struct agent_msg *out, bool *heard)
{
	struct agents *g = r->agents;
	struct agent_msg err;
	int rc;

	*heard = false;
	if (g == NULL)
		return 0;
	if ((rc = drain(r, g)) != 0)
		return rc;
	if (take(g, AGENT_ANY, AGENT_REP_ERROR, &err))
		return setup_error(r, g, &err);
	*heard = take(g, from != NULL ? from->id : AGENT_ANY, kind, out);
	return 0;
}

int agent_start(struct run *r, struct agent *a, struct agent_msg *ready)
{
	struct agents *g = r->agents;
	pid_t pid;

	if (a->started || a->parent != NULL) {
		pl_warnx(r, "cannot start the %s: %s", a->role, a->started ?
			 "it has started" : "its parent agent forks it");
		return PL_EXIT_FAIL;
	}
	/* the fd of every command pipe of its subtree, in the agents */
	assign_fds(a, fd_base(a) + 1);
	pid = pl_fork_in(r, a->role, &a->pidfd,
			 a->proclab_group ? PL_FORK_PROCLAB_GROUP : 0);
	if (pid == 0)
		agent_main(g, a);
	/* the agents hold their read ends now; proclab must not, so that
	 * EOF reaches them when proclab closes the write ends */
	close_subtree(a);
	if (pid < 0)
		return PL_EXIT_FAIL;
	a->pid = pid;
	a->started = true;
	return agent_expect(r, a, AGENT_REP_READY, ready);
}

struct agent *agent_spawn(struct run *r, const char *role, int *rc)
{
	struct agent *a = agent_new(r, role);

	*rc = PL_EXIT_FAIL;
	if (a == NULL)
		return NULL;
	*rc = agent_start(r, a, NULL);
	return *rc == 0 ? a : NULL;
}

int agent_fork(struct run *r, struct agent *parent, struct agent *child,
	       struct agent_msg *forked, struct agent_msg *ready)
{
	struct agent_msg m;
	int64_t arg[AGENT_ARGS] = { child->id, 0, 0, 0 };
	int rc;

	if (child->parent != parent || child->started) {
		pl_warnx(r, "the %s cannot fork the %s", parent->role,
			 child->role);
		return PL_EXIT_FAIL;
	}
	if ((rc = agent_send(r, parent, AGENT_OP_FORK, arg)) != 0 ||
	    (rc = agent_expect(r, parent, AGENT_OP_FORK, &m)) != 0)
		return rc;
	if (m.ref != child->id || m.v[0] <= 0)
		return pl_fail(r, "expected the %s to fork the %s; it answered "
			       "for agent %d, pid %lld", parent->role,
			       child->role, (int)m.ref, (long long)m.v[0]);
	child->pid = (pid_t)m.v[0];
	/* ours to kill from now on, and to watch */
	if (pl_track(r, child->pid, &child->pidfd) < 0)
		return PL_EXIT_FAIL;
	kid_set_role(r, child->pid, child->role);
	child->started = true;
	if (forked != NULL)
		*forked = m;
	return agent_expect(r, child, AGENT_REP_READY, ready);
}

/* Does sig end a process by default? */
static bool ends(int sig)
{
	switch (sig) {
	case 0: case SIGSTOP: case SIGCONT: case SIGTSTP: case SIGTTIN:
	case SIGTTOU: case SIGCHLD: case SIGURG: case SIGWINCH:
		return false;
	}
	return true;
}

/* How a was told to end.  A later word replaces an earlier one (the agent
 * survived it to be told again: a signal it handles), but a signal sent
 * just before may still be the one it dies of: that one is kept too. */
static void tell(struct agent *a, int how, int value)
{
	a->told_alt = a->told == 's' ? a->told_value : 0;
	a->told = how;
	a->told_value = value;
}

int agent_send(struct run *r, struct agent *a, int op,
	       const int64_t arg[AGENT_ARGS])
{
	struct agent_msg m = { a->id, op, -1, 0,
			       { arg[0], arg[1], arg[2], arg[3] } };
	ssize_t n;

	if (a->cmd < 0) {
		pl_warnx(r, "cannot command the %s %d: its pipe is closed",
			 a->role, (int)a->pid);
		return PL_EXIT_FAIL;
	}
	if (op == AGENT_OP_EXIT || op == AGENT_OP_RAISE)
		a->ending = true;
	if (op == AGENT_OP_EXIT)
		tell(a, 'e', (int)(arg[0] & 0xff));
	if (op == AGENT_OP_RAISE && ends((int)arg[0]))
		tell(a, 's', (int)arg[0]);
	do
		n = write(a->cmd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EPIPE && a->started) {
		/* no reader left: it has ended (killed from outside, most
		 * likely): say how, not "Broken pipe"; its exit follows the
		 * close of its fds at once */
		char how[160];

		if (a->parent == NULL)
			pl_wait_exit(r, a->pid, r->timeout_ms);
		how_ended(r, a, how, sizeof(how));
		return pl_fail(r, "cannot command the %s %d: it %s", a->role,
			       (int)a->pid, how);
	}
	if (n != (ssize_t)sizeof(m)) {
		pl_warnx(r, "cannot command the %s %d: %s", a->role,
			 (int)a->pid, n < 0 ? strerror(errno) : "short write");
		return PL_EXIT_FAIL;
	}
	return 0;
}

int agent_do_args(struct run *r, struct agent *a, int op,
		  const int64_t arg[AGENT_ARGS], struct agent_msg *out)
{
	int rc = agent_send(r, a, op, arg);

	if (rc != 0 || op == AGENT_OP_EXIT || op == AGENT_OP_RAISE ||
	    op == AGENT_OP_RELEASE)
		return rc;
	return agent_expect(r, a, op, out);
}

int agent_do(struct run *r, struct agent *a, int op, int64_t arg,
	     struct agent_msg *out)
{
	int64_t args[AGENT_ARGS] = { arg, 0, 0, 0 };

	return agent_do_args(r, a, op, args, out);
}

void agent_signalled(struct run *r, pid_t pid, int sig)
{
	struct agents *g = r->agents;

	if (!ends(sig))
		return;
	for (int i = 0; g != NULL && i < g->n; i++)
		if (g->a[i].started && g->a[i].pid == pid) {
			g->a[i].ending = true;
			tell(&g->a[i], 's', sig);
		}
}

void agent_ending(struct agent *a)
{
	a->ending = true;
	tell(a, '?', 0);
}

int agent_end_as_told(struct run *r, pid_t pid, int raw)
{
	struct agents *g = r->agents;
	char how[96], told[64];
	struct wstatus w;
	const struct agent *a = NULL;

	for (int i = 0; g != NULL && i < g->n; i++)
		if (g->a[i].started && g->a[i].pid == pid)
			a = &g->a[i];
	if (a == NULL || raw < 0 || a->told == 0 || a->told == '?')
		return 0;
	wstatus_decode(raw, &w);
	if (a->told == 'e' && w.exited && w.code == a->told_value)
		return 0;
	if (a->told == 's' && w.signaled && w.sig == a->told_value)
		return 0;
	if (a->told_alt != 0 && w.signaled && w.sig == a->told_alt)
		return 0;
	wstatus_describe(&w, how, sizeof(how));
	if (a->told == 'e')
		snprintf(told, sizeof(told), "_exit(%d)", a->told_value);
	else
		snprintf(told, sizeof(told), "%s",
			 wstatus_signame(a->told_value).s);
	return pl_fail(r, "the %s %d ended (%s), not by the %s proclab told "
		       "it: something outside proclab ended it first", a->role,
		       (int)a->pid, how, told);
}

void agent_close(struct agent *a)
{
	if (a == NULL)
		return;
	if (a->cmd >= 0)
		close(a->cmd);
	a->cmd = -1;
	a->ending = true;
	tell(a, 'e', AGENT_EXIT_LIFELINE);
}

/* ---- puppets ----------------------------------------------------------- */

int puppet_spawn(struct run *r, struct puppet *p, const char *role)
{
	int rc;

	p->pid = p->vchild = -1;
	p->pidfd = p->vchild_pidfd = -1;
	p->a = agent_spawn(r, role, &rc);
	if (p->a == NULL)
		return -1;
	p->pid = p->a->pid;
	p->pidfd = p->a->pidfd;
	return 0;
}

int puppet_do(struct run *r, struct puppet *p, enum puppet_op op,
	      unsigned char arg)
{
	struct agent_msg m;

	if (agent_do(r, p->a, (int)op, arg, &m) != 0)
		return -1;
	if (op != PUP_VFORK)
		return 0;
	/* the vfork child answered: ours to kill from now on */
	if (m.v[0] <= 0 || m.v[1] != p->pid) {
		pl_warnx(r, "child %d did not say its vfork child's pid",
			 (int)p->pid);
		return -1;
	}
	if (pl_track(r, (pid_t)m.v[0], &p->vchild_pidfd) < 0)
		return -1;
	p->vchild = (pid_t)m.v[0];
	return 0;
}

void puppet_close(struct puppet *p)
{
	agent_close(p->a);
}
