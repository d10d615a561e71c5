/* thread.c - threads are tasks that share: one tgid, one memory, one fd
 * table, one set of handlers; clone() with other flags.
 *
 * proclab starts an agent, "first" (agent.h), which calls pthread_create
 * twice (a child of single-threaded proclab may: nothing of the parent's
 * is locked).  The threads report through the agent's report channel, one
 * 48-byte write each, atomic below PIPE_BUF.  The observer watches each
 * thread on its own (obs_add_thread: /proc/PID/task/TID/stat), so every
 * state event of this lab carries `tid` and `tgid`.
 *
 * Stages: threads (/proc/PID/task lists three tids, one Tgid; the spinner
 * R, the sleeper S, the main thread S) -> share (a new thread stores a
 * number, opens a file and sets a handler: the main thread sees all
 * three) -> fork (a forked child does the same: the parent sees none) ->
 * clone (CLONE_VM, CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD one at a time,
 * the last two alone refused with EINVAL, then with what they need, then
 * all four) -> exit (the sleeper calls _exit(): exit_group ends every
 * thread; the main thread Z, reaped) -> pthread-exit (a second agent,
 * "second", starts two threads and its main thread calls pthread_exit():
 * it shows Z while the process runs on and answers) -> kill (SIGKILL ends
 * both remaining threads; the process is reaped with signal 9).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"
#include "wstatus.h"

static const struct lab_option thread_options[] = {
	{ "code", "N", 0, 255, 7,
	  "the exit code the sleeping thread passes to _exit" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

enum { CLONE_STACK = 64 * 1024 };
#define STAMP 4242              /* what a new task stores */

/* The agents' operations and reports. */
enum {
	/* start the spinner and the sleeper; each reports REP_TID; answer
	 * {gettid, getpid} */
	OP_THREADS = AGENT_OP_LAB,
	/* make a task (v0: HOW_*; v1: clone flags) that stores STAMP, opens
	 * /dev/null, sets a SIGUSR2 handler and reports REP_CHILD; wait for
	 * its end; answer {0 or -errno, the value read, handler seen (0/1),
	 * getpid} */
	OP_CHILD,
	/* is fd v0 open here?  answer {1 or 0, errno}; closes it if open */
	OP_FDCHECK,
	/* wake the sleeper: it calls _exit(v0); no answer */
	OP_EXIT_THREAD,
	/* start the worker and the idler (REP_TID each), answer {gettid,
	 * getpid}, then pthread_exit() the main thread */
	OP_PEXIT,
	/* answered by whichever thread reads it: {gettid, getpid} */
	OP_PING,
	REP_TID = AGENT_REP_LAB,        /* {index, gettid, getpid} */
	REP_CHILD,                      /* {fd, getpid, gettid, getppid} */
};

enum { HOW_PTHREAD, HOW_FORK, HOW_CLONE };

/* sigaction(SIGUSR2) with a valid handler does not fail; if it did, the
 * engine, which has no name for it, would report "a call" failed */
#define SIGACTION_CALL AGENT_CALL_MAX

/* The agents' side of one run: each agent has its own copy (agent_config
 * data), which its threads share. */
struct tconf {
	struct agent_ctx ctx;   /* the agent's, for its threads' reports */
	int wake[2];            /* the sleeper's (and the idler's) pipe */
	int stop;               /* never set: the spinner spins to the end */
	int code;
	/* one OP_CHILD */
	int64_t value;
	uint32_t tidword;       /* CLONE_CHILD_CLEARTID's futex */
};

/* ---- inside the agents (async-signal-safe, and pthread_create) ------- */

static void on_usr2(int sig)
{
	(void)sig;
}

static void *spinner(void *arg)
{
	struct tconf *t = arg;

	agent_say(&t->ctx, REP_TID, 1, gettid(), getpid(), 0);
	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* Blocks in read(2) on its pipe; a byte makes it _exit(code): the
 * exit_group(2) of the whole process. */
static void *sleeper(void *arg)
{
	struct tconf *t = arg;
	char b;
	ssize_t n;

	agent_say(&t->ctx, REP_TID, 2, gettid(), getpid(), 0);
	do
		n = read(t->wake[0], &b, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(t->code);
	return NULL;
}

/* The second process's worker: reads the agent's commands after its main
 * thread is gone.  EOF (the lifeline) ends the process in agent_next. */
static void *worker(void *arg)
{
	struct tconf *t = arg;
	struct agent_msg m;

	agent_say(&t->ctx, REP_TID, 1, gettid(), getpid(), 0);
	for (;;) {
		agent_next(&t->ctx, &m, false);
		if (m.kind == OP_PING)
			agent_say(&t->ctx, OP_PING, gettid(), getpid(), 0, 0);
		else if (m.kind == AGENT_OP_EXIT)
			_exit((int)m.v[0]);
	}
	return NULL;
}

static void *idler(void *arg)
{
	struct tconf *t = arg;
	char b;

	agent_say(&t->ctx, REP_TID, 2, gettid(), getpid(), 0);
	while (read(t->wake[0], &b, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int op_threads(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		      int64_t out[AGENT_ARGS])
{
	struct tconf *t = c->data;
	pthread_t a, b;
	int e;

	(void)arg;
	t->ctx = *c;
	if (pipe2(t->wake, O_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_PIPE);
	if ((e = pthread_create(&a, NULL, spinner, t)) != 0 ||
	    (e = pthread_create(&b, NULL, sleeper, t)) != 0) {
		errno = e;
		agent_fail(c, AGENT_CALL_CLONE);
	}
	out[0] = gettid();
	out[1] = getpid();
	return AGENT_OK;
}

/* What every new task of OP_CHILD does, in whatever memory it has.  It
 * runs on a stack of its own with the caller's TLS (clone without
 * CLONE_SETTLS): system calls only. */
__attribute__((no_sanitize("address")))
static int child_body(void *arg)
{
	struct tconf *t = arg;
	struct sigaction sa = { .sa_handler = on_usr2 };
	int fd;

	/* a process of its own must not outlive the agent (a thread of the
	 * agent's group goes with it anyway) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	t->value = STAMP;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		agent_fail(&t->ctx, AGENT_CALL_OPEN);
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		agent_fail(&t->ctx, SIGACTION_CALL);
	agent_say(&t->ctx, REP_CHILD, fd, getpid(), gettid(), getppid());
	return 0;
}

static void *child_thread(void *arg)
{
	child_body(arg);
	return NULL;
}

static int op_child(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	struct tconf *t = c->data;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, now;
	int flags = (int)arg[1], status, e;
	pid_t pid = 0;
	pthread_t th;
	char *stack;

	t->ctx = *c;
	t->value = 0;
	if (sigaction(SIGUSR2, &dfl, NULL) < 0)
		agent_fail(c, SIGACTION_CALL);
	switch (arg[0]) {
	case HOW_PTHREAD:
		if ((e = pthread_create(&th, NULL, child_thread, t)) != 0 ||
		    (e = pthread_join(th, NULL)) != 0) {
			errno = e;
			agent_fail(c, AGENT_CALL_CLONE);
		}
		break;
	case HOW_FORK:
		pid = fork();
		if (pid < 0)
			agent_fail(c, AGENT_CALL_FORK);
		if (pid == 0)
			_exit(child_body(t));
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				agent_fail(c, AGENT_CALL_WAITPID);
		break;
	default:
		stack = mmap(NULL, CLONE_STACK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED)
			agent_fail(c, AGENT_CALL_MMAP);
		/* a thread cannot be waited for: the kernel clears tidword
		 * and wakes its futex when it ends, as for pthread_join */
		if (flags & CLONE_THREAD)
			flags |= CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
		else
			flags |= SIGCHLD;
		__atomic_store_n(&t->tidword, 0, __ATOMIC_SEQ_CST);
		pid = clone(child_body, stack + CLONE_STACK, flags, t,
			    &t->tidword, NULL, &t->tidword);
		if (pid < 0) {
			out[0] = -errno;
			munmap(stack, CLONE_STACK);
			return AGENT_OK;
		}
		if (flags & CLONE_THREAD) {
			uint32_t v;

			while ((v = __atomic_load_n(&t->tidword,
						    __ATOMIC_SEQ_CST)) != 0)
				syscall(SYS_futex, &t->tidword, FUTEX_WAIT, v,
					NULL, NULL, 0);
		} else {
			while (waitpid(pid, &status, 0) < 0)
				if (errno != EINTR)
					agent_fail(c, AGENT_CALL_WAITPID);
		}
		munmap(stack, CLONE_STACK);
	}
	if (sigaction(SIGUSR2, &dfl, &now) < 0)
		agent_fail(c, SIGACTION_CALL);
	out[0] = 0;
	out[1] = t->value;
	out[2] = now.sa_handler == on_usr2;
	out[3] = getpid();
	return AGENT_OK;
}

static int op_fdcheck(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		      int64_t out[AGENT_ARGS])
{
	int fd = (int)arg[0];

	(void)c;
	out[0] = fd >= 0 && fcntl(fd, F_GETFD) >= 0;
	out[1] = out[0] ? 0 : errno;
	if (out[0])
		close(fd);
	return AGENT_OK;
}

static int op_exit_thread(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
			  int64_t out[AGENT_ARGS])
{
	struct tconf *t = c->data;
	char b = 'x';

	(void)out;
	t->code = (int)arg[0];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (write(t->wake[1], &b, 1) < 0)
		if (errno != EINTR)
			agent_fail(c, AGENT_CALL_PIPE);
	return AGENT_QUIET;
}

static int op_pexit(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	struct tconf *t = c->data;
	pthread_t a, b;
	int e;

	(void)arg;
	(void)out;
	t->ctx = *c;
	if (pipe2(t->wake, O_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_PIPE);
	if ((e = pthread_create(&a, NULL, worker, t)) != 0 ||
	    (e = pthread_create(&b, NULL, idler, t)) != 0) {
		errno = e;
		agent_fail(c, AGENT_CALL_CLONE);
	}
	agent_say(c, OP_PEXIT, gettid(), getpid(), 0, 0);
	pthread_exit(NULL);
}

static const struct agent_op_def thread_ops[] = {
	{ OP_THREADS, "threads", op_threads },
	{ OP_CHILD, "child", op_child },
	{ OP_FDCHECK, "fdcheck", op_fdcheck },
	{ OP_EXIT_THREAD, "exit-thread", op_exit_thread },
	{ OP_PEXIT, "pthread-exit", op_pexit },
	{ OP_PING, "ping", NULL },
	{ REP_TID, "thread started", NULL },
	{ REP_CHILD, "new task", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side ----------------------------------------------------- */

enum { TASKS_MAX = 16 };

/* One task a shares row describes. */
struct shared_row {
	bool memory, files, handlers, same_pid;
};

/* What one run keeps between its stages. */
struct tlab {
	struct tconf conf;
	struct agent *first, *second;
	struct watched *main1, *spin, *sleep;   /* first's threads */
	struct watched *main2, *work, *idle;    /* second's */
	struct shared_row pth, fork, vm_sighand, all4;
	int thread_alone, sighand_alone;        /* errno of the lone flag */
	bool same_pid;
	int pids_seen;
};

/* The tids /proc/PID/task of w lists, as "a,b,c"; the count, or -1 after
 * pl_fail's message. */
static int list_tasks(struct run *r, struct watched *w, pid_t *tids,
		      char *buf, size_t size)
{
	int n = obs_tasks(r, w, tids, TASKS_MAX);
	size_t len = 0;

	if (n < 0)
		return pl_fail(r, "cannot list /proc/%d/task: %s", (int)w->pid,
			       strerror(errno)), -1;
	buf[0] = '\0';
	for (int i = 0; i < n && i < TASKS_MAX && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d",
					i ? "," : "", (int)tids[i]);
	emit(r, "threads", FIELDS(F_PID("pid", w->pid), F_PIDS("tids", buf),
				  F_INT("count", n)));
	return n;
}

/* Wait for the two REP_TIDs of a's new threads: their tids by index. */
static int expect_tids(struct run *r, struct agent *a, pid_t tid[3],
		       pid_t pid[3])
{
	struct agent_msg m;
	int rc;

	for (int i = 0; i < 2; i++) {
		if ((rc = agent_expect(r, a, REP_TID, &m)) != 0)
			return rc;
		if (m.v[0] < 1 || m.v[0] > 2)
			return pl_fail(r, "a thread reported index %lld",
				       (long long)m.v[0]);
		tid[m.v[0]] = (pid_t)m.v[1];
		pid[m.v[0]] = (pid_t)m.v[2];
	}
	return 0;
}

static bool has(const pid_t *tids, int n, pid_t tid)
{
	for (int i = 0; i < n && i < TASKS_MAX; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static int stage_threads(struct run *r)
{
	struct tlab *t = run_state(r);
	struct agent_msg m;
	pid_t tid[3], pid[3], tids[TASKS_MAX];
	char list[TASKS_MAX * 12];
	struct watched *w[3];
	int rc, n;
	bool same = true;

	if ((t->first = agent_spawn(r, "first", &rc)) == NULL)
		return rc;
	if ((rc = agent_do(r, t->first, OP_THREADS, 0, &m)) != 0 ||
	    (rc = expect_tids(r, t->first, tid, pid)) != 0)
		return rc;
	tid[0] = (pid_t)m.v[0];
	pid[0] = (pid_t)m.v[1];
	t->main1 = obs_add_thread(r, t->first->pid, tid[0], "first");
	t->spin = obs_add_thread(r, t->first->pid, tid[1], "spinner");
	t->sleep = obs_add_thread(r, t->first->pid, tid[2], "sleeper");
	if (t->main1 == NULL || t->spin == NULL || t->sleep == NULL)
		return PL_EXIT_FAIL;
	if (obs_await(r, t->spin, "R", "spins in a loop: on a CPU or "
		      "queued for one") ||
	    obs_await(r, t->sleep, "S", "blocks in read(2) on its own pipe") ||
	    obs_await(r, t->main1, "S", "the main thread waits in read(2) "
		      "for the next command"))
		return PL_EXIT_FAIL;
	if ((n = list_tasks(r, t->main1, tids, list, sizeof(list))) < 0)
		return PL_EXIT_FAIL;
	if (n != 3 || !has(tids, n, tid[0]) || !has(tids, n, tid[1]) ||
	    !has(tids, n, tid[2]))
		return pl_fail(r, "expected /proc/%d/task to list %d, %d and "
			       "%d; it listed %s", (int)t->first->pid,
			       (int)tid[0], (int)tid[1], (int)tid[2], list);
	w[0] = t->main1;
	w[1] = t->spin;
	w[2] = t->sleep;
	for (int i = 0; i < 3; i++) {
		struct probe p;

		obs_probe(r, w[i], &p);
		if (!p.status_ok || !(p.ps.has & PS_TGID))
			return pl_fail(r, "cannot read the Tgid of %s %d",
				       w[i]->role, (int)w[i]->pid);
		emit(r, "tgid", FIELDS(F_PID("tid", w[i]->pid),
				       F_PID("tgid", p.ps.tgid),
				       F_PID("getpid", pid[i]),
				       F_TEXT("role", w[i]->role)));
		same = same && p.ps.tgid == t->first->pid &&
		       pid[i] == t->first->pid;
	}
	t->same_pid = same;
	claim(r, "thread-same-pid", same ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("threads", n), F_PID("pid", t->first->pid),
		     F_PIDS("tids", list)));
	return PL_EXIT_OK;
}

/* One OP_CHILD, reported as a "shares" event; *row gets what it shared.
 * Returns 0, or the status to end with. */
static int make_task(struct run *r, int how, int flags, const char *what,
		     struct shared_row *row, int *err)
{
	struct tlab *t = run_state(r);
	int64_t args[AGENT_ARGS] = { how, flags, 0, 0 };
	struct agent_msg m, kid, fd;
	int rc;

	*err = 0;
	if ((rc = agent_do_args(r, t->first, OP_CHILD, args, &m)) != 0)
		return rc;
	if (m.v[0] < 0) {
		*err = (int)-m.v[0];
		emit_form(r, "shares", "refused",
			  FIELDS(F_STR("how", what),
				 F_STR("error", strerrorname_np(*err))));
		return 0;
	}
	if ((rc = agent_expect(r, t->first, REP_CHILD, &kid)) != 0 ||
	    (rc = agent_do(r, t->first, OP_FDCHECK, kid.v[0], &fd)) != 0)
		return rc;
	row->memory = m.v[1] == STAMP;
	row->files = fd.v[0] == 1;
	row->handlers = m.v[2] == 1;
	row->same_pid = kid.v[1] == m.v[3];
	emit(r, "shares",
	     FIELDS(F_STR("how", what), F_BOOL("memory", row->memory),
		    F_BOOL("files", row->files),
		    F_BOOL("handlers", row->handlers),
		    F_BOOL("same_pid", row->same_pid),
		    F_INT("stored", STAMP), F_INT("read", m.v[1]),
		    F_INT("fd", kid.v[0]),
		    F_TEXT("mem", row->memory ? _("shared") : _("apart")),
		    F_TEXT("fds", row->files ? _("shared") : _("apart")),
		    F_TEXT("hand", row->handlers ? _("shared") : _("apart")),
		    F_TEXT("pidw", row->same_pid ? _("the caller's")
			   : _("its own"))));
	return 0;
}

static int stage_share(struct run *r)
{
	struct tlab *t = run_state(r);
	int e;

	return make_task(r, HOW_PTHREAD, 0, "pthread_create", &t->pth, &e);
}

static int stage_fork(struct run *r)
{
	struct tlab *t = run_state(r);
	int e;

	return make_task(r, HOW_FORK, 0, "fork", &t->fork, &e);
}

static int stage_clone(struct run *r)
{
	struct tlab *t = run_state(r);
	struct shared_row row;
	int rc, e;
	static const struct { int flags; const char *name; } one[] = {
		{ CLONE_VM, "CLONE_VM" },
		{ CLONE_FILES, "CLONE_FILES" },
		{ CLONE_SIGHAND, "CLONE_SIGHAND" },
		{ CLONE_VM | CLONE_SIGHAND, "CLONE_VM|CLONE_SIGHAND" },
		{ CLONE_THREAD, "CLONE_THREAD" },
		{ CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
		  "CLONE_VM|CLONE_SIGHAND|CLONE_THREAD" },
		{ CLONE_VM | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD,
		  "CLONE_VM|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD" },
	};

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		memset(&row, 0, sizeof(row));
		if ((rc = make_task(r, HOW_CLONE, one[i].flags, one[i].name,
				    &row, &e)) != 0)
			return rc;
		if (one[i].flags == CLONE_SIGHAND)
			t->sighand_alone = e;
		else if (one[i].flags == CLONE_THREAD)
			t->thread_alone = e;
		else if (one[i].flags == (CLONE_VM | CLONE_SIGHAND))
			t->vm_sighand = row;
		else if (i + 1 == sizeof(one) / sizeof(one[0]))
			t->all4 = row;
	}
	/* the article: CLONE_THREAD is what shares signals */
	claim(r, "thread-signals-flag",
	      t->thread_alone != 0 && t->vm_sighand.handlers ? CLAIM_FAILS
	      : CLAIM_HOLDS,
	      FIELDS(F_STR("thread_alone", t->thread_alone
			   ? strerrorname_np(t->thread_alone) : "accepted"),
		     F_BOOL("sighand_shares", t->vm_sighand.handlers)));
	/* the other: a thread is clone() with pthread_create's flags,
	 * where fork's share nothing */
	bool like = t->all4.memory && t->all4.files && t->all4.handlers &&
		    t->all4.same_pid && t->pth.memory && t->pth.files &&
		    t->pth.handlers && t->pth.same_pid;
	bool fork_apart = !t->fork.memory && !t->fork.files &&
			  !t->fork.handlers && !t->fork.same_pid;
	claim(r, "thread-clone-flags",
	      like && fork_apart ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_BOOL("clone_like_thread", like),
		     F_BOOL("fork_shares_nothing", fork_apart)));
	return PL_EXIT_OK;
}

static int stage_exit(struct run *r)
{
	struct tlab *t = run_state(r);
	int code = (int)opt_val(r, "code"), status, rc;
	int64_t args[AGENT_ARGS] = { code, 0, 0, 0 };

	agent_ending(t->first);
	if ((rc = agent_send(r, t->first, OP_EXIT_THREAD, args)) != 0)
		return rc;
	if (obs_await(r, t->spin, "X", "ended by the sleeper's _exit(): "
		      "exit_group(2) ends every thread") ||
	    obs_await(r, t->main1, "Z", "the process has exited; its parent "
		      "{ppid} has not waited for it") ||
	    obs_await(r, t->sleep, "X", "its task entry is gone"))
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, t->first->pid, "first", &status) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, t->main1, "X", "reaped: its /proc entry is gone"))
		return PL_EXIT_FAIL;
	bool ended = t->spin->state == 'X' && t->sleep->state == 'X' &&
		     WIFEXITED(status) && WEXITSTATUS(status) == code;
	claim(r, "thread-exit-ends-all", ended ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("code", code),
		     F_INT("status", WIFEXITED(status) ? WEXITSTATUS(status)
			   : -1)));
	return PL_EXIT_OK;
}

static int stage_pexit(struct run *r)
{
	struct tlab *t = run_state(r);
	struct agent_msg m;
	pid_t tid[3], pid[3], tids[TASKS_MAX];
	char list[TASKS_MAX * 12];
	int rc, n;

	if ((t->second = agent_spawn(r, "second", &rc)) == NULL)
		return rc;
	if ((rc = agent_do(r, t->second, OP_PEXIT, 0, &m)) != 0 ||
	    (rc = expect_tids(r, t->second, tid, pid)) != 0)
		return rc;
	t->main2 = obs_add_thread(r, t->second->pid, (pid_t)m.v[0], "second");
	t->work = obs_add_thread(r, t->second->pid, tid[1], "worker");
	t->idle = obs_add_thread(r, t->second->pid, tid[2], "idler");
	if (t->main2 == NULL || t->work == NULL || t->idle == NULL)
		return PL_EXIT_FAIL;
	if (obs_await(r, t->main2, "Z", "the main thread called "
		      "pthread_exit(): a zombie while its threads run on") ||
	    obs_await(r, t->work, "S", "reads the process's commands in "
		      "read(2)") ||
	    obs_await(r, t->idle, "S", "blocks in read(2) on its own pipe"))
		return PL_EXIT_FAIL;
	if ((n = list_tasks(r, t->main2, tids, list, sizeof(list))) < 0)
		return PL_EXIT_FAIL;
	/* the process runs: its worker answers */
	if ((rc = agent_do(r, t->second, OP_PING, 0, &m)) != 0)
		return rc;
	emit(r, "answered", FIELDS(F_PID("tid", m.v[0]),
				   F_PID("getpid", m.v[1]),
				   F_CHAR("main_state", t->main2->state)));
	claim(r, "thread-main-ends-all",
	      t->main2->state == 'Z' && m.v[0] == t->work->pid
	      ? CLAIM_DEPENDS : CLAIM_HOLDS,
	      FIELDS(F_INT("tasks", n), F_CHAR("main_state",
					       t->main2->state)));
	return PL_EXIT_OK;
}

static int stage_kill(struct run *r)
{
	struct tlab *t = run_state(r);
	int status;

	if (pl_kill(r, t->second->pid, SIGKILL) < 0) {
		pl_warnx(r, "cannot send SIGKILL to %d: %s",
			 (int)t->second->pid, strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (obs_await(r, t->work, "X", "SIGKILL ends every thread of the "
		      "process") ||
	    obs_await(r, t->idle, "X", "its task entry is gone"))
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, t->second->pid, "second", &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, t->main2, "X", "reaped: its /proc entry is gone");
}

static int thread_setup(struct run *r)
{
	struct tlab *t = run_state(r);
	const struct agent_config cfg = { .ops = thread_ops, .data = &t->conf };

	t->conf.wake[0] = t->conf.wake[1] = -1;
	return agent_init(r, &cfg);
}

static const struct sentence thread_sentences[] = {
	/* pid, tids, count */
	{ "threads", NULL, "/proc/{pid}/task lists {count} task: {tids}",
	  "/proc/{pid}/task lists {count} tasks: {tids}", "count" },
	/* tid, tgid, getpid; text only: role */
	{ "tgid", NULL, "{role} {tid}: Tgid {tgid} in its status, getpid() "
	  "{getpid}", NULL, NULL },
	/* how, memory, files, handlers, same_pid, stored, read, fd; text
	 * only: mem, fds, hand, pidw */
	{ "shares", NULL, "{how}: memory {mem} (stored {stored}, the caller "
	  "read {read}), fd {fd} {fds}, handlers {hand}, getpid() {pidw}",
	  NULL, NULL },
	/* how, error */
	{ "shares", "refused", "{how} alone: clone() fails with {error}",
	  NULL, NULL },
	/* tid, getpid, main_state */
	{ "answered", NULL, "thread {tid} of process {getpid} answered: the "
	  "process runs on, its main thread {main_state}", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage thread_stages[] = {
	{ "threads", "the agent calls pthread_create twice: one thread "
	  "spins, one blocks in read(2)", stage_threads, NULL, NULL, NULL },
	{ "share", "a new thread stores a number, opens a file and sets a "
	  "handler; the main thread looks", stage_share, NULL, NULL, NULL },
	{ "fork", "a forked child does the same; its parent looks",
	  stage_fork, NULL, NULL, NULL },
	{ "clone", "clone() with CLONE_VM, CLONE_FILES, CLONE_SIGHAND, "
	  "CLONE_THREAD, one at a time, then together", stage_clone, NULL,
	  NULL, NULL },
	{ "exit", "the sleeping thread calls _exit({code})", stage_exit, NULL,
	  NULL, NULL },
	{ "pthread-exit", "a second agent starts two threads; its main "
	  "thread calls pthread_exit()", stage_pexit, NULL, NULL, NULL },
	{ "kill", "SIGKILL to the second process", stage_kill, NULL, NULL,
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary thread_vary[] = {
	{ "code", 1, 125 },
	{ NULL, 0, 0 },
};

const struct lab lab_thread = {
	.name = "thread",
	.summary = "threads: one tgid, shared memory and fds; clone's flags",
	.description =
		"An agent calls pthread_create twice: /proc/PID/task lists "
		"three tids with one\nTgid, each thread in its own state (as "
		"ps -L shows).  A thread's writes and\nopened fds are the "
		"whole process's; a forked child's are not.  clone() with\n"
		"CLONE_VM, CLONE_FILES, CLONE_SIGHAND and CLONE_THREAD shows "
		"what each shares.\nA thread's _exit() ends every thread "
		"(exit_group); a main thread's\npthread_exit() leaves it a "
		"zombie while the others run on; SIGKILL ends all.",
	.options = thread_options,
	.run = thread_setup,
	.sentences = thread_sentences,
	.stages = thread_stages,
	.state_size = sizeof(struct tlab),
	.vary = thread_vary,
};
