/* vfork.c - the vfork caller waits in D until its child _exits or execs.
 *
 * proclab starts an agent, the "caller" (agent.h), which on command calls
 * clone(CLONE_VM | CLONE_VFORK | SIGCHLD), the flags vfork(2) uses, but
 * with the child on a stack of its own (agent_clone_vfork(), as glibc's
 * posix_spawn does).  The child shares the caller's memory, yet may block
 * in read(2) or talk to proclab without trampling the frame the caller
 * returns to, which a real vfork() child must not do.  The kernel
 * suspends the caller in wait_for_vfork_done() (/proc: D) until the child
 * gives the memory back: at _exit, or when an execve succeeds.  While the
 * caller is suspended, its child reads the commands proclab sends to the
 * caller, from the caller's pipe, and reports on the caller's behalf.
 *
 * Stages: fork (caller S) -> vfork (child R then S, caller D) -> write
 * (the child stores a number in the caller's memory and _exits: child Z,
 * the caller reads the number, reaps it (X) and blocks again: S) -> exec
 * (a second child R, caller D; the child execs cat: cat S, alive, while the
 * caller waits for it in waitpid: S) -> end (cat reads EOF, the caller
 * reaps it: X) -> cost (fork vs vfork with a small and a large resident
 * set) -> exit (the caller exits and is reaped: X).
 *
 * Two watched processes change state at once only where one of them is
 * held still: the caller spins (R) after a vfork returns until proclab
 * tells it to reap, so every state a stage demonstrates is the same on
 * every run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

static const struct lab_option vfork_options[] = {
	{ "value", "N", 1, 1000000, 42,
	  "the number the vfork child stores in the caller's variable" },
	{ "rss", "MIB", 1, 1024, 64,
	  "MiB the caller writes before the second cost measurement; "
	  "at most half of MemAvailable" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

enum { COST_REPS = 15 };        /* medians of 15: fast, and steady enough */
#define SAME_COST_FACTOR 2.0    /* "about the same": within a factor of 2 */
enum { VCHILD_STACK = 64 * 1024 };

/* The caller's operations (agent.h), the commands its vfork child reads
 * from the caller's pipe while the caller is suspended, and the child's
 * reports, sent on the caller's behalf. */
enum {
	/* clone a child; once clone returns, answer {pid, the variable
	 * before, after}; spin (R) until OP_REAP, reap the child and answer
	 * that {pid, wait status} */
	OP_VFORK = AGENT_OP_LAB,
	OP_REAP,
	OP_TOUCH,       /* write v0 MiB of fresh 4 KiB pages; {bytes} */
	OP_COST,        /* time v0 fork()s and vfork()s; {reps, fork ns,
			 * vfork ns}, medians */
	OP_BLOCK,       /* child: stop spinning, block in read(2) */
	OP_STORE,       /* child: store v0 in the caller's variable, _exit */
	OP_EXEC,        /* child: execve cat */
	REP_CHILD = AGENT_REP_LAB,      /* child: I run: {pid, ppid} */
	REP_STORED,     /* child: stored v0; v1 is what reads back */
};

/* Set before proclab starts the caller; read-only afterwards (the caller
 * works on its copy, handed to its operations as agent_ctx's data). */
struct vconf {
	char exe[32];           /* the program the exec child runs */
	const char *exe_name;   /* its basename: the comm /proc shows */
	size_t page;
};

/* The caller's variable, on the caller's stack; the child writes it. */
struct vshare {
	volatile int value;
	struct agent_ctx *c;    /* the caller's: the child reports as it */
	const struct vconf *conf;
};

/* ---- the caller and its child (async-signal-safe calls only) ----------- */

/* stdin and stdout are cat's pipes already (agent_give_fd()); nothing
 * else crosses the exec, and the report channel stays open until the
 * exec succeeds, for a failure to be reported. */
static void __attribute__((noreturn)) child_exec(struct agent_ctx *c,
						 const struct vconf *conf)
{
	char *const argv[] = { (char *)conf->exe_name, NULL };

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_CLOSE_RANGE);
	execve(conf->exe, argv, environ);
	agent_fail(c, AGENT_CALL_EXECVE);
}

/* The child of clone(CLONE_VM | CLONE_VFORK): it runs in the caller's
 * memory (errno too: it is the caller's thread-local errno, harmless while
 * the caller is suspended), on its own stack.  Not instrumented by ASan
 * (make SANITIZE=1), which takes a stack it did not see made for a
 * corrupted one at _exit. */
static int __attribute__((no_sanitize("address"))) child_main(void *arg)
{
	struct vshare *sh = arg;
	struct agent_ctx *c = sh->c;
	struct agent_msg m;
	bool spin = true;

	/* the death signal is not inherited through clone: ask for it, and
	 * check that the caller did not die before */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		agent_fail(c, AGENT_CALL_PRCTL);
	if (getppid() != c->self)
		_exit(AGENT_EXIT_ORPHANED);
	prctl(PR_SET_NAME, "proclab-child");
	agent_say(c, REP_CHILD, getpid(), getppid(), 0, 0);
	for (;;) {
		agent_next(c, &m, spin);
		switch (m.kind) {
		case OP_BLOCK:
			spin = false;
			break;
		case OP_STORE:
			/* Linux lets the child write the parent's memory;
			 * POSIX leaves it undefined for vfork() */
			sh->value = (int)m.v[0];
			agent_say(c, REP_STORED, m.v[0], sh->value, 0, 0);
			_exit(0);
		case OP_EXEC:
			child_exec(c, sh->conf);
		default:
			_exit(AGENT_EXIT_PROTOCOL);
		}
	}
}

static int op_vfork(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	struct vshare sh = { .value = 0, .c = c, .conf = c->data };
	int before = sh.value, status;
	struct agent_msg m;
	char *stack;
	pid_t pid;

	(void)arg;
	(void)out;
	stack = mmap(NULL, VCHILD_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		agent_fail(c, AGENT_CALL_MMAP);
	pid = agent_clone_vfork(child_main, &sh, stack, VCHILD_STACK);
	/* here only once the child has _exited or exec'd */
	if (pid < 0)
		agent_fail(c, AGENT_CALL_CLONE);
	munmap(stack, VCHILD_STACK);    /* the child is done with it */
	agent_say(c, OP_VFORK, pid, before, sh.value, 0);
	/* hold still (R) until told to reap */
	agent_next(c, &m, true);
	if (m.kind != OP_REAP)
		_exit(AGENT_EXIT_PROTOCOL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			agent_fail(c, AGENT_CALL_WAITPID);
	agent_say(c, OP_REAP, pid, status, 0, 0);
	return AGENT_QUIET;
}

static int op_touch(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	const struct vconf *conf = c->data;
	size_t len = (size_t)arg[0] << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		agent_fail(c, AGENT_CALL_MMAP);
	/* 4 KiB pages, so fork has one page-table entry per page to copy
	 * (EINVAL: no transparent huge pages in this kernel, fine) */
	if (madvise(p, len, MADV_NOHUGEPAGE) < 0 && errno != EINVAL)
		agent_fail(c, AGENT_CALL_MADVISE);
	for (size_t off = 0; off < len; off += conf->page)
		p[off] = 1;
	out[0] = (int64_t)len;
	return AGENT_OK;
}

/* fork() and vfork() whose child _exits at once.  Their own frames, so
 * that the vfork child returns into nothing of the caller's.  The child
 * asks for the death signal first, like every process proclab makes (a
 * child stopped before its _exit would outlive the caller otherwise);
 * if the caller is gone already, it _exits anyway. */
static pid_t __attribute__((noinline)) fork_exit(void)
{
	pid_t pid = fork();  /* async-signal-safe in POSIX.1-2008 */

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(0);
	}
	return pid;
}

static pid_t __attribute__((noinline)) vfork_exit(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(0);
	}
	return pid;
}

/* Nanoseconds from the call to the collected status: create, run, exit,
 * reap. */
static long long time_one(struct agent_ctx *c, bool use_vfork)
{
	long long t0 = pl_now_ns();
	pid_t pid = use_vfork ? vfork_exit() : fork_exit();
	int status;

	if (pid < 0)
		agent_fail(c, use_vfork ? AGENT_CALL_VFORK : AGENT_CALL_FORK);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			agent_fail(c, AGENT_CALL_WAITPID);
	return pl_now_ns() - t0;
}

static long long median(long long *v, int n)
{
	for (int i = 1; i < n; i++)     /* insertion sort: n is 15 */
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			long long t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static int op_cost(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		   int64_t out[AGENT_ARGS])
{
	long long f[COST_REPS], v[COST_REPS];
	int reps = arg[0] > 0 && arg[0] < COST_REPS ? (int)arg[0] : COST_REPS;

	/* one of each first, not counted: warm caches and page tables */
	time_one(c, false);
	time_one(c, true);
	/* interleaved, so a burst of noise hits both alike */
	for (int i = 0; i < reps; i++) {
		f[i] = time_one(c, false);
		v[i] = time_one(c, true);
	}
	out[0] = reps;
	out[1] = median(f, reps);
	out[2] = median(v, reps);
	return AGENT_OK;
}

/* The names also word proclab's messages ("expected the caller to report
 * \"stored\"..."); a row without a function is read by the vfork child,
 * or a report. */
static const struct agent_op_def vfork_ops[] = {
	{ OP_VFORK, "vfork", op_vfork },
	{ OP_REAP, "reap", NULL },
	{ OP_TOUCH, "touch", op_touch },
	{ OP_COST, "cost", op_cost },
	{ OP_BLOCK, "block", NULL },
	{ OP_STORE, "store", NULL },
	{ OP_EXEC, "exec", NULL },
	{ REP_CHILD, "vfork child running", NULL },
	{ REP_STORED, "stored", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side ----------------------------------------------------- */

/* What one run keeps between its stages. */
struct vlab {
	struct vconf conf;
	struct agent *agent;    /* the caller */
	struct watched *caller;
	struct watched *child;  /* the first vfork child (write) */
	struct watched *execd;  /* the second, which execs cat (exec, end) */
	int feed, echo;         /* proclab's ends of cat's stdin and stdout */
};

/* Fields for the sentence only, not for JSON: a measured string, a
 * measured number ("~" with --stable), an integer. */
static struct field text_meas_str(const char *key, const char *s)
{
	struct field f = F_TEXT(key, s);

	f.meas = true;
	return f;
}

static struct field text_meas_num(const char *key, double d)
{
	struct field f = F_MEAS(key, d);

	f.text_only = true;
	return f;
}

static struct field text_int(const char *key, long long i)
{
	struct field f = F_INT(key, i);

	f.text_only = true;
	return f;
}

/* Send the caller op with one argument; while the caller is suspended,
 * its vfork child reads it. */
static int tell(struct run *r, struct vlab *v, int op, int64_t arg)
{
	const int64_t a[AGENT_ARGS] = { arg, 0, 0, 0 };

	return agent_send(r, v->agent, op, a);
}

/* Writing and timing take time of their own, which grows with the memory
 * (about 3 s for 1024 MiB here): --timeout plus 20 ms per MiB. */
static int work_ms(const struct run *r)
{
	return r->timeout_ms + 20 * (int)opt_val(r, "rss");
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The caller clones a child (role); it is seen running (R) while the
 * caller is seen suspended (D).  The caller is awaited before the child
 * is watched, so that neither change is caught in passing. */
static int start_child(struct run *r, struct vlab *v, const char *role,
		       struct watched **wp)
{
	struct agent_msg m;
	int fd, rc;

	if ((rc = tell(r, v, OP_VFORK, 0)) != 0 ||
	    (rc = agent_expect(r, v->agent, REP_CHILD, &m)) != 0)
		return rc;
	if (pl_track(r, (pid_t)m.v[0], &fd) < 0)
		return PL_EXIT_FAIL;
	if ((rc = obs_await(r, v->caller, "D", "suspended in vfork until its "
			    "child calls _exit or execs")) != 0)
		return rc;
	*wp = obs_add(r, (pid_t)m.v[0], fd, role);
	if (*wp == NULL)
		return PL_EXIT_FAIL;
	return obs_await(r, *wp, "R", "runs in its parent's memory, on a "
			 "stack of its own");
}

/* The caller's report that clone() returned. */
static int resumed(struct run *r, struct vlab *v, const struct watched *w,
		   const char *after, struct agent_msg *m)
{
	int rc = agent_expect(r, v->agent, OP_VFORK, m);

	if (rc != 0)
		return rc;
	emit(r, "resume", FIELDS(F_PID("pid", v->caller->pid),
				 F_PID("child", w->pid),
				 F_PID("returned", m->v[0]),
				 F_STR("after", after),
				 F_TEXT("role", v->caller->role)));
	if (m->v[0] != w->pid)
		return pl_fail(r, "expected clone() to return the child's pid "
			       "%d; it returned %lld", (int)w->pid,
			       (long long)m->v[0]);
	return 0;
}

/* The caller waited for its child and reports the status; then /proc must
 * show the child released. */
static int reaped(struct run *r, struct vlab *v, struct watched *w)
{
	struct wstatus ws;
	struct agent_msg m;
	int rc = agent_expect(r, v->agent, OP_REAP, &m);

	if (rc != 0)
		return rc;
	wstatus_decode((int)m.v[1], &ws);
	emit_wstatus_by(r, (pid_t)m.v[0], w->role, "waitpid", v->caller->pid,
			&ws);
	/* the caller reaped it before it reported: it must be gone now */
	if (obs_sample(r, w, "X", "reaped by its parent, the caller") != 'X')
		return pl_fail(r, "expected %s %d to be released after the "
			       "caller reaped it; /proc showed %c", w->role,
			       (int)w->pid, w->state);
	return 0;
}

/* Where w sleeps in the kernel (the observer re-reads a wchan of "0"
 * until it names a function: obs_probe()). */
static void show_wchan(struct run *r, struct watched *w, const char *how)
{
	const char *form = NULL;
	struct probe p;

	if (obs_probe(r, w, &p) != PROC_OK)
		p.wchan[0] = '\0';
	if (p.wchan[0] == '\0')
		form = "unreadable";
	else if (p.on_cpu)
		form = "running";
	emit_form(r, "wchan", form,
		  FIELDS(F_PID("pid", w->pid), F_STR("role", w->role),
			 F_CHAR("state", w->state),
			 F_MEAS("wchan", p.wchan),
			 F_TEXT("state_name", pl_state_name(w->state)),
			 F_TEXT("how", _(how))));
}

static int stage_fork(struct run *r)
{
	struct vlab *v = run_state(r);
	int feed[2], echo[2], rc;
	struct agent *a;

	/* no pipe: this machine (its limits) cannot run the lab */
	if (pipe2(feed, O_CLOEXEC) < 0)
		return pl_unavailable(r, "cannot create a pipe for cat: %s",
				      strerror(errno));
	if (pipe2(echo, O_CLOEXEC) < 0) {
		rc = pl_unavailable(r, "cannot create a pipe for cat: %s",
				    strerror(errno));
		close(feed[0]);
		close(feed[1]);
		return rc;
	}
	v->feed = feed[1];
	v->echo = echo[0];
	/* cat's stdin and stdout, as the caller's: its children inherit
	 * them */
	a = v->agent = agent_new(r, "caller");
	rc = a == NULL ? PL_EXIT_FAIL : agent_give_fd(r, a, feed[0], 0);
	if (rc == 0)
		rc = agent_give_fd(r, a, echo[1], 1);
	if (rc == 0)
		rc = agent_start(r, a, NULL);
	close(feed[0]);
	close(echo[1]);
	if (rc != 0)
		return rc;
	v->caller = obs_add(r, a->pid, a->pidfd, "caller");
	if (v->caller == NULL)
		return PL_EXIT_FAIL;
	return obs_await(r, v->caller, "S", "waits in read(2) for the next "
			 "command of its parent {ppid}");
}

static int stage_vfork(struct run *r)
{
	struct vlab *v = run_state(r);
	int rc;

	if ((rc = start_child(r, v, "child", &v->child)) != 0 ||
	    (rc = tell(r, v, OP_BLOCK, 0)) != 0 ||
	    (rc = obs_await(r, v->child, "S", "blocked in read(2); its parent "
			    "{ppid} still waits for it")) != 0)
		return rc;
	show_wchan(r, v->caller, N_("suspended until the child lets go of the "
		   "memory they share; no disk involved"));
	if (v->caller->state != 'D')
		return pl_fail(r, "expected the caller %d to stay D while its "
			       "vfork child sleeps; /proc showed %c",
			       (int)v->caller->pid, v->caller->state);
	return 0;
}

static int stage_write(struct run *r)
{
	struct vlab *v = run_state(r);
	struct watched *w = v->child;
	struct agent_msg st, res;
	bool same;
	char note[128];
	int rc;

	/* the order goes down the caller's pipe: a vfork child killed from
	 * outside (at the pause before) would leave it to the caller */
	if (strchr("ZX", obs_sample(r, w, NULL, NULL)) != NULL)
		return pl_fail(r, "expected the vfork child %d to wait for its "
			       "order; /proc showed %c%s", (int)w->pid,
			       w->state, obs_end_note(w, note, sizeof(note)));
	if ((rc = tell(r, v, OP_STORE, opt_val(r, "value"))) != 0 ||
	    (rc = agent_expect(r, v->agent, REP_STORED, &st)) != 0 ||
	    (rc = resumed(r, v, w, "_exit", &res)) != 0)
		return rc;
	same = res.v[2] == st.v[0];
	emit_form(r, "shared", same ? NULL : "apart",
		  FIELDS(F_PID("pid", v->caller->pid), F_PID("child", w->pid),
			 F_INT("before", res.v[1]),
			 F_INT("child_wrote", st.v[0]),
			 F_INT("caller_read", res.v[2])));
	/* POSIX calls such writes undefined: "must not", not "cannot" */
	claim(r, "vfork-cannot-write", same ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("child_wrote", st.v[0]),
		     F_INT("caller_read", res.v[2])));
	claim(r, "vfork-shares-memory", same ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("child_wrote", st.v[0]),
		     F_INT("caller_read", res.v[2])));
	if (!same)
		return pl_fail(r, "expected the caller to read %lld, stored by "
			       "its vfork child; it read %lld",
			       (long long)st.v[0], (long long)res.v[2]);
	if ((rc = obs_await(r, w, "Z", "exited; its parent, the caller, has "
			    "not waited yet")) != 0 ||
	    (rc = tell(r, v, OP_REAP, 0)) != 0 ||
	    (rc = reaped(r, v, w)) != 0)
		return rc;
	return obs_await(r, v->caller, "S", "resumed, reaped its child, and "
			 "waits for its parent {ppid} again");
}

static int stage_exec(struct run *r)
{
	static const char ping[] = "ping\n";
	struct vlab *v = run_state(r);
	struct watched *w;
	struct agent_msg res;
	char comm[PROC_COMM_MAX], back[16];
	ssize_t n;
	bool alive;
	int rc;

	if ((rc = start_child(r, v, "exec-child", &v->execd)) != 0)
		return rc;
	w = v->execd;
	if ((rc = tell(r, v, OP_EXEC, 0)) != 0 ||
	    (rc = resumed(r, v, w, "exec", &res)) != 0 ||
	    (rc = obs_await(r, w, "S", "runs cat now, blocked reading its "
			    "stdin: alive, and its parent runs again")) != 0)
		return rc;
	snprintf(comm, sizeof(comm), "%s", w->st.comm);
	if ((rc = tell(r, v, OP_REAP, 0)) != 0 ||
	    (rc = obs_await(r, v->caller, "S", "waits in waitpid() for its "
			    "child, which still runs")) != 0)
		return rc;
	show_wchan(r, v->caller, N_("an ordinary wait for a child, no longer "
		   "the vfork one"));

	/* cat answers: it is alive and runs the new program */
	do
		n = write(v->feed, ping, sizeof(ping) - 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(ping) - 1) {
		pl_warnx(r, "cannot write to cat: %s",
			 n < 0 ? strerror(errno) : "short write");
		return PL_EXIT_FAIL;
	}
	if (!pl_wait_fd(r, v->echo, r->timeout_ms))
		return pl_fail(r, "expected cat %d to echo a line within %d "
			       "ms; it did not", (int)w->pid, r->timeout_ms);
	do
		n = read(v->echo, back, sizeof(back));
	while (n < 0 && errno == EINTR);
	obs_sample(r, w, NULL, NULL);
	alive = !w->gone && w->state != 'Z' && n > 0;
	emit_form(r, "exec", alive ? NULL : "gone",
		  FIELDS(F_PID("pid", w->pid), F_STR("program", v->conf.exe),
			 F_STR("comm", comm),
			 F_INT("sent", (long long)sizeof(ping) - 1),
			 F_INT("echoed", n < 0 ? 0 : n),
			 /* cat may be reading or writing */
			 F_MEAS("state", w->state), F_BOOL("alive", alive),
			 F_TEXT("role", w->role),
			 text_meas_str("state_name",
				       procfs_state_name(w->state))));
	/* a successful execve never returns: the caller resumed when the
	 * exec replaced the shared memory */
	claim(r, "vfork-exec-returns", alive ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_BOOL("child_alive", alive), F_STR("comm", comm)));
	if (!alive)
		return pl_fail(r, "expected cat %d to be alive after its parent "
			       "resumed; /proc showed %c", (int)w->pid,
			       w->state);
	return 0;
}

static int stage_eof(struct run *r)
{
	struct vlab *v = run_state(r);

	close_fd(&v->feed);
	return reaped(r, v, v->execd);
}

/* One measurement at the caller's present resident set. */
static int cost(struct run *r, struct vlab *v, long long touched,
		double *ratio, double *fork_us, double *vfork_us)
{
	struct probe p;
	struct agent_msg m;
	long long rss;
	int rc;

	obs_probe(r, v->caller, &p);
	if (!p.status_ok || !(p.ps.has & PS_VMRSS))
		return pl_fail(r, "expected to read the caller's VmRSS from "
			       "/proc/%d/status; it was unreadable",
			       (int)v->caller->pid);
	rss = p.ps.vmrss_kb * 1024;
	if ((rc = tell(r, v, OP_COST, COST_REPS)) != 0 ||
	    (rc = agent_expect_in(r, v->agent, OP_COST, &m, work_ms(r))) != 0)
		return rc;
	*fork_us = (double)m.v[1] / 1e3;
	*vfork_us = (double)m.v[2] / 1e3;
	*ratio = m.v[2] > 0 ? (double)m.v[1] / (double)m.v[2] : 0;
	emit_form(r, "cost", touched > 0 ? "written" : NULL,
		  FIELDS(F_MEAS("rss_bytes", rss),
			 F_INT("touched_bytes", touched),
			 F_INT("reps", m.v[0]), F_MEAS("fork_us", *fork_us),
			 F_MEAS("vfork_us", *vfork_us),
			 F_MEAS("ratio", *ratio),
			 text_meas_num("rss_mib", (double)rss / 1048576),
			 text_int("touched_mib", touched >> 20)));
	return 0;
}

static int stage_cost(struct run *r)
{
	struct vlab *v = run_state(r);
	double rs, rl, fs, fl, vs, vl;
	struct agent_msg m;
	bool same;
	int rc;

	if ((rc = cost(r, v, 0, &rs, &fs, &vs)) != 0 ||
	    (rc = tell(r, v, OP_TOUCH, opt_val(r, "rss"))) != 0 ||
	    (rc = agent_expect_in(r, v->agent, OP_TOUCH, &m,
				  work_ms(r))) != 0 ||
	    (rc = cost(r, v, m.v[0], &rl, &fl, &vl)) != 0)
		return rc;
	same = rs <= SAME_COST_FACTOR && rs >= 1 / SAME_COST_FACTOR &&
	       rl <= SAME_COST_FACTOR && rl >= 1 / SAME_COST_FACTOR;
	/* when not: fork copies the page tables, vfork borrows the whole
	 * address space */
	claim(r, "vfork-same-cost", same ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_NUM("factor", SAME_COST_FACTOR),
		     F_MEAS("ratio_small", rs), F_MEAS("ratio_large", rl),
		     F_MEAS("fork_growth", fs > 0 ? fl / fs : 0),
		     F_MEAS("vfork_growth", vs > 0 ? vl / vs : 0)));
	return 0;
}

static int stage_exit(struct run *r)
{
	struct vlab *v = run_state(r);
	int status;

	/* the lifeline: at EOF on its command pipe the caller exits */
	agent_close(v->agent);
	if (pl_waitpid(r, v->caller->pid, "caller", &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, v->caller, "X", "reaped: its /proc entry is gone");
}

static int find_program(struct run *r, struct vconf *conf)
{
	static const char *const where[] = { "/bin/cat", "/usr/bin/cat" };

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0) {
			snprintf(conf->exe, sizeof(conf->exe), "%s", where[i]);
			conf->exe_name = "cat";
			return 0;
		}
	return pl_unavailable(r, "no cat to exec in /bin or /usr/bin");
}

/* proclab's ends of cat's pipes, closed once every child is reaped (the
 * agents' pipes are the engine's). */
static void vfork_cleanup(struct run *r)
{
	struct vlab *v = run_state(r);

	close_fd(&v->feed);
	close_fd(&v->echo);
}

/* Before the first stage. */
static int vfork_setup(struct run *r)
{
	struct vlab *v = run_state(r);
	const struct agent_config cfg = { .ops = vfork_ops, .data = &v->conf };
	int rc;

	v->feed = v->echo = -1;
	run_on_cleanup(r, vfork_cleanup);
	v->conf.page = (size_t)sysconf(_SC_PAGESIZE);
	if ((rc = find_program(r, &v->conf)) != 0)
		return rc;
	return agent_init(r, &cfg);
}

static const struct sentence vfork_sentences[] = {
	/* pid, role, state, wchan; text only: state_name, how */
	{ "wchan", NULL, "{role} {pid} is {state} ({state_name}) in the "
	  "kernel function {wchan}: {how}", NULL, NULL },
	{ "wchan", "unreadable", "{role} {pid} is {state} ({state_name}); "
	  "the kernel function it sleeps in cannot be read: {how}", NULL,
	  NULL },
	{ "wchan", "running", "{role} {pid} is {state} ({state_name}) but "
	  "its wchan named no kernel function (it read {wchan} for 100 ms): "
	  "it was still on its way off the CPU", NULL,
	  NULL },
	/* pid, child, returned, after; text only: role */
	{ "resume", NULL, "{role} {pid} resumed after its child's {after}: "
	  "clone() returned {returned} to it", NULL, NULL },
	/* pid, child, before, child_wrote, caller_read */
	{ "shared", NULL, "the variable held {before} before the clone; the "
	  "child stored {child_wrote}; the caller then read {caller_read}: "
	  "one memory, two processes", NULL, NULL },
	{ "shared", "apart", "the variable held {before} before the clone; "
	  "the child stored {child_wrote}; the caller then read "
	  "{caller_read}: the child's write did not reach it", NULL, NULL },
	/* pid, program, comm, sent, echoed, state, alive; text only: role,
	 * state_name */
	{ "exec", NULL, "{role} {pid} runs {program} (its name in /proc: "
	  "{comm}): it echoed {echoed} of the {sent} bytes sent and is "
	  "{state} ({state_name})", NULL, NULL },
	{ "exec", "gone", "{role} {pid} ran {program} (its name in /proc: "
	  "{comm}); it echoed {echoed} of the {sent} bytes sent and is no "
	  "longer alive: {state} ({state_name})", NULL, NULL },
	/* rss_bytes, touched_bytes, reps, fork_us, vfork_us, ratio; text
	 * only: rss_mib, touched_mib */
	{ "cost", NULL, "{rss_mib:.1f} MiB resident: fork {fork_us:.1f} us, "
	  "vfork {vfork_us:.1f} us (medians of {reps}, from the call to the "
	  "reaped child): fork takes {ratio:.1f}x as long", NULL, NULL },
	{ "cost", "written", "{rss_mib:.1f} MiB resident after writing "
	  "{touched_mib} MiB more: fork {fork_us:.1f} us, vfork "
	  "{vfork_us:.1f} us: fork takes {ratio:.1f}x as long", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage vfork_stages[] = {
	{ "fork", "proclab forks the caller; it waits for a command in read(2)",
	  stage_fork, NULL, NULL, NULL },
	{ "vfork", "the caller calls clone(CLONE_VM|CLONE_VFORK); the child "
	  "calls read(2)", stage_vfork, NULL, NULL, NULL },
	{ "write", "the child stores a number in the caller's variable and "
	  "calls _exit; the caller resumes and reads it", stage_write, NULL,
	  NULL, NULL },
	{ "exec", "the caller vforks again, and this child execs cat",
	  stage_exec, NULL, NULL, NULL },
	{ "end", "proclab closes cat's stdin: cat reads EOF and exits; the "
	  "caller's waitpid() collects it", stage_eof, NULL, NULL, NULL },
	{ "cost", "the caller times fork() against vfork(), as it is and "
	  "after writing {rss} MiB", stage_cost, NULL, NULL, NULL },
	{ "exit", "proclab closes the caller's command pipe: it exits, and "
	  "proclab reaps it", stage_exit, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* Refuse, before anything is printed, more memory than this machine can
 * spare: the option's own range is checked by the dispatcher. */
static int vfork_prepare(struct run *r)
{
	long long kb, max, mib = opt_val(r, "rss");

	/* unreadable: the option's own range (1 to 1024 MiB) stands */
	if (proc_mem_available(&kb) != PROC_OK)
		return PL_EXIT_OK;
	max = kb / 1024 / 2;
	if (mib <= max)
		return PL_EXIT_OK;
	pl_warnx(r, "--rss: '%lld' is too large for this machine (1 to %lld: "
		 "half of the %lld MiB available)", mib,
		 max < 1024 ? max : 1024, kb / 1024);
	return PL_EXIT_USAGE;
}

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary vfork_vary[] = {
	{ "value", 1, 999 },
	{ NULL, 0, 0 },
};

const struct lab lab_vfork = {
	.name = "vfork",
	.summary = "the caller waits in D until its child execs or exits; the cost",
	.description =
		"The caller (proclab's child) calls clone(CLONE_VM|CLONE_VFORK), "
		"vfork's flags,\nwith the child on a stack of its own.  The "
		"kernel suspends the caller (D)\nwhile the child runs (R) and "
		"even sleeps (S); the child stores a number in\nthe caller's "
		"memory and _exits, and the caller resumes and reads it.  A\n"
		"second child execs cat: the caller resumes at the exec, while "
		"cat lives\non.  Last, the caller times fork() against vfork() "
		"with a small resident\nset and after writing --rss MiB.",
	.options = vfork_options,
	.run = vfork_setup,
	.prepare = vfork_prepare,
	.sentences = vfork_sentences,
	.stages = vfork_stages,
	.state_size = sizeof(struct vlab),
	.vary = vfork_vary,
};
