/* vfork.c - the vfork caller waits in D until its child _exits or execs.
 *
 * proclab forks a "caller", which on command calls
 * clone(CLONE_VM | CLONE_VFORK | SIGCHLD), the flags vfork(2) uses, but
 * with the child on a stack of its own (as glibc's posix_spawn does).  The
 * child shares the caller's memory, yet may block in read(2) or talk to
 * proclab without trampling the frame the caller returns to, which a real
 * vfork() child must not do.  The kernel suspends the caller in
 * wait_for_vfork_done() (/proc: D) until the child gives the memory back:
 * at _exit, or when an execve succeeds.
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
 * held still: the caller spins (R) after a vfork returns until proclab's
 * next command, so every state a stage demonstrates is the same on every
 * run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

/* The caller's and the child's fds, at fixed numbers. */
enum { FD_CMD = 3, FD_REP, FD_KID, FD_FEED, FD_ECHO, FD_NEXT };

/* proclab -> caller (FD_CMD) and proclab -> child (FD_KID), one write. */
struct vcmd {
	char op;
	int arg;
};

enum {
	C_VFORK = 'v',  /* caller: clone a child, then spin until told */
	C_REAP = 'w',   /* caller: waitpid() for the last child */
	C_TOUCH = 'm',  /* caller: write arg MiB of fresh memory */
	C_COST = 'c',   /* caller: time arg fork()s and vfork()s */
	K_BLOCK = 'b',  /* child: stop spinning, block in read(2) */
	K_STORE = 's',  /* child: store arg in the caller's variable, _exit */
	K_EXEC = 'e',   /* child: execve the program */
};

/* caller or child -> proclab (FD_REP): one write each, smaller than
 * PIPE_BUF, so messages never mix. */
struct vmsg {
	char tag;
	int pid;                /* who speaks, or whom it is about */
	long long a, b;
};

enum {
	M_PID = 'p',            /* child: I run, as pid */
	M_STORED = 'S',         /* child: stored a; b is what reads back */
	M_RESUMED = 'r',        /* caller: clone returned pid; the variable
				 * was a before, is b now */
	M_REAPED = 'z',         /* caller: waitpid(pid) stored status a */
	M_TOUCHED = 't',        /* caller: wrote a bytes */
	M_COST = 'c',           /* caller: median ns: a fork, b vfork */
	M_ERROR = 'e',          /* a: which call (VE_*), b: errno */
};

enum { VE_CLONE, VE_WAITPID, VE_EXECVE, VE_DUP2, VE_MMAP, VE_FORK, VE_VFORK,
       VE_FCNTL, VE_CLOSE_RANGE, VE_CLOCK };
static const char *const ve_name[] = {
	"clone", "waitpid", "execve", "dup2", "mmap", "fork", "vfork",
	"fcntl", "close_range", "clock_gettime",
};

/* Set before proclab forks the caller; read-only afterwards. */
static struct {
	char exe[32];           /* the program the exec child runs */
	const char *exe_name;   /* its basename: the comm /proc shows */
	size_t page;
} conf;

/* The caller's variable, on the caller's stack; the child writes it. */
struct vshare {
	volatile int value;
	pid_t caller;
};

/* ---- the caller and its child (async-signal-safe calls only) ----------- */

static void say(char tag, pid_t pid, long long a, long long b)
{
	struct vmsg m;

	/* no stack garbage in the padding, which goes down the pipe too */
	memset(&m, 0, sizeof(m));
	m.tag = tag;
	m.pid = (int)pid;
	m.a = a;
	m.b = b;
	if (write(FD_REP, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(126);
}

static void say_error(int call)
{
	say(M_ERROR, getpid(), call, errno);
}

/* The next command on fd: spinning on a non-blocking read (R), or blocked
 * in read(2) (S).  EOF means proclab is gone: so are we. */
static void next_cmd(int fd, struct vcmd *c, bool spin)
{
	ssize_t n;

	if (spin && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		_exit(126);
	do
		n = read(fd, c, sizeof(*c));
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	if (spin && fcntl(fd, F_SETFL, 0) < 0)
		_exit(126);
	if (n != (ssize_t)sizeof(*c))
		_exit(0);
}

static void __attribute__((noreturn)) child_exec(void)
{
	char *const argv[] = { (char *)conf.exe_name, NULL };

	/* stdin: proclab's feed; stdout: proclab's echo pipe; nothing else
	 * of ours crosses the exec (FD_REP stays open until it succeeds) */
	if (dup2(FD_FEED, STDIN_FILENO) < 0 || dup2(FD_ECHO, STDOUT_FILENO) < 0) {
		say_error(VE_DUP2);
		_exit(127);
	}
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		say_error(VE_CLOSE_RANGE);
		_exit(127);
	}
	execve(conf.exe, argv, environ);
	say_error(VE_EXECVE);
	_exit(127);
}

/* The child of clone(CLONE_VM | CLONE_VFORK): it runs in the caller's
 * memory (errno too: it is the caller's thread-local errno, harmless while
 * the caller is suspended), on its own stack.  Not instrumented by ASan
 * (make SANITIZE=1), which takes a stack it did not see made for a
 * corrupted one at _exit. */
static int __attribute__((no_sanitize("address"))) child_main(void *arg)
{
	struct vshare *sh = arg;
	struct vcmd c;
	bool spin = true;

	/* PR_SET_PDEATHSIG fires when the parent THREAD dies: the caller
	 * is single-threaded.  Check the parent did not die before. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sh->caller)
		_exit(127);
	prctl(PR_SET_NAME, "proclab-child");
	say(M_PID, getpid(), 0, 0);
	for (;;) {
		next_cmd(FD_KID, &c, spin);
		switch (c.op) {
		case K_BLOCK:
			spin = false;
			break;
		case K_STORE:
			/* Linux lets the child write the parent's memory;
			 * POSIX leaves it undefined for vfork() */
			sh->value = c.arg;
			say(M_STORED, getpid(), c.arg, sh->value);
			_exit(0);
		case K_EXEC:
			child_exec();
		default:
			_exit(124);
		}
	}
}

static pid_t caller_vfork(void *stack, size_t size)
{
	struct vshare sh = { .value = 0, .caller = getpid() };
	int before = sh.value;
	pid_t pid;

	pid = agent_clone_vfork(child_main, &sh, stack, size);
	/* here only once the child has _exited or exec'd */
	if (pid < 0) {
		say_error(VE_CLONE);
		return -1;
	}
	say(M_RESUMED, pid, before, sh.value);
	return pid;
}

static void caller_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			say_error(VE_WAITPID);
			return;
		}
	say(M_REAPED, pid, status, 0);
}

static void caller_touch(int mib)
{
	size_t len = (size_t)mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		say_error(VE_MMAP);
		return;
	}
	/* 4 KiB pages, so fork has one page-table entry per page to copy
	 * (EINVAL: no transparent huge pages in this kernel, fine) */
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += conf.page)
		p[off] = 1;
	say(M_TOUCHED, getpid(), (long long)len, 0);
}

static long long now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -1;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* fork() and vfork() whose child _exits at once.  Their own frames, so
 * that the vfork child returns into nothing of the caller's. */
static pid_t __attribute__((noinline)) fork_exit(void)
{
	pid_t pid = fork();  /* async-signal-safe in POSIX.1-2008 */

	if (pid == 0)
		_exit(0);
	return pid;
}

static pid_t __attribute__((noinline)) vfork_exit(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	return pid;
}

/* Nanoseconds from the call to the collected status: create, run, exit,
 * reap.  The children need no parent-death signal: they _exit at once. */
static long long time_one(bool use_vfork)
{
	long long t0 = now_ns(), t1;
	pid_t pid = use_vfork ? vfork_exit() : fork_exit();
	int status;

	if (pid < 0) {
		say_error(use_vfork ? VE_VFORK : VE_FORK);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			say_error(VE_WAITPID);
			return -1;
		}
	t1 = now_ns();
	if (t0 < 0 || t1 < 0) {
		say_error(VE_CLOCK);
		return -1;
	}
	return t1 - t0;
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

static void caller_cost(int reps)
{
	long long f[COST_REPS], v[COST_REPS];

	if (reps > COST_REPS)
		reps = COST_REPS;
	/* one of each first, not counted: warm caches and page tables */
	if (time_one(false) < 0 || time_one(true) < 0)
		return;
	/* interleaved, so a burst of noise hits both alike */
	for (int i = 0; i < reps; i++)
		if ((f[i] = time_one(false)) < 0 ||
		    (v[i] = time_one(true)) < 0)
			return;
	say(M_COST, reps, median(f, reps), median(v, reps));
}

static void __attribute__((noreturn)) caller_main(const int fds[])
{
	enum { STACK = 64 * 1024 };
	int tmp[FD_NEXT - FD_CMD];
	struct vcmd c;
	bool spin = false;
	pid_t last = -1;
	char *stack;

	/* fds at fixed numbers, nothing else of proclab's kept */
	for (int i = 0; i < FD_NEXT - FD_CMD; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD, 64)) < 0)
			_exit(126);
	for (int i = 0; i < FD_NEXT - FD_CMD; i++)
		if (dup2(tmp[i], FD_CMD + i) < 0)
			_exit(126);
	if (close_range(FD_NEXT, ~0U, 0) < 0)
		_exit(126);
	stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		say_error(VE_MMAP);
		_exit(1);
	}
	for (;;) {
		next_cmd(FD_CMD, &c, spin);
		spin = false;
		switch (c.op) {
		case C_VFORK:
			last = caller_vfork(stack, STACK);
			spin = true;    /* hold still (R) until told */
			break;
		case C_REAP:
			caller_reap(last);
			break;
		case C_TOUCH:
			caller_touch(c.arg);
			break;
		case C_COST:
			caller_cost(c.arg);
			break;
		default:
			_exit(124);
		}
	}
}

/* ---- proclab's side ----------------------------------------------------- */

enum { P_CMD, P_REP, P_KID, P_FEED, P_ECHO, P_N };

struct vlab {
	int own[P_N];           /* proclab's ends: cmd, rep, kid, feed, echo */
	struct watched *caller;
	int value;
};

static int tell(struct run *r, struct vlab *v, int p, char op, int arg)
{
	struct vcmd c;
	ssize_t n;

	memset(&c, 0, sizeof(c));       /* the padding goes down the pipe */
	c.op = op;
	c.arg = arg;
	do
		n = write(v->own[p], &c, sizeof(c));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(c)) {
		pl_warnx(r, "cannot command the %s: %s",
			 p == P_CMD ? "caller" : "child",
			 n < 0 ? strerror(errno) : "short write");
		return PL_EXIT_FAIL;
	}
	return 0;
}

/* The next report of the caller or its child, which must be `want`,
 * within ms milliseconds. */
static int hear_in(struct run *r, struct vlab *v, char want, struct vmsg *m,
		   int ms)
{
	ssize_t n;

	if (!pl_wait_fd(r, v->own[P_REP], ms))
		return pl_fail(r, "expected a report from the caller or its "
			       "child within %d ms; none came", ms);
	do
		n = read(v->own[P_REP], m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return pl_fail(r, "expected a report from the caller or its "
			       "child; both had ended");
	if (n != (ssize_t)sizeof(*m)) {
		pl_warnx(r, "cannot read the caller's report: %s",
			 n < 0 ? strerror(errno) : "short read");
		return PL_EXIT_FAIL;
	}
	if (m->tag == M_ERROR) {
		size_t call = (size_t)m->a;
		pl_warnx(r, "process %d: %s failed: %s", m->pid,
			 call < sizeof(ve_name) / sizeof(ve_name[0])
				 ? ve_name[call] : "a call",
			 strerror((int)m->b));
		return PL_EXIT_FAIL;
	}
	if (m->tag != want) {
		pl_warnx(r, "expected report '%c', got '%c'", want, m->tag);
		return PL_EXIT_FAIL;
	}
	return 0;
}

static int hear(struct run *r, struct vlab *v, char want, struct vmsg *m)
{
	return hear_in(r, v, want, m, r->timeout_ms);
}

/* Writing and timing take time of their own, which grows with the memory
 * (about 3 s for 1024 MiB here): --timeout plus 20 ms per MiB. */
static int work_ms(const struct run *r)
{
	return r->timeout_ms + 20 * (int)opt_val(r, "rss");
}

static void close_own(struct vlab *v, int p)
{
	if (v->own[p] >= 0)
		close(v->own[p]);
	v->own[p] = -1;
}

/* The caller clones a child (role); it is seen running (R) while the
 * caller is seen suspended (D).  The caller is awaited before the child
 * is watched, so that neither change is caught in passing. */
static struct watched *start_child(struct run *r, struct vlab *v,
				   const char *role)
{
	struct watched *w;
	struct vmsg m;
	int fd;

	if (tell(r, v, P_CMD, C_VFORK, 0) || hear(r, v, M_PID, &m))
		return NULL;
	if (pl_track(r, m.pid, &fd) < 0 ||
	    obs_await(r, v->caller, "D", "suspended in vfork until its child "
		      "calls _exit or execs"))
		return NULL;
	w = obs_add(r, m.pid, fd, role);
	if (w == NULL ||
	    obs_await(r, w, "R", "runs in its parent's memory, on a stack "
		      "of its own"))
		return NULL;
	return w;
}

/* The caller's report that clone() returned. */
static int resumed(struct run *r, struct vlab *v, const struct watched *w,
		   const char *after, struct vmsg *m)
{
	if (hear(r, v, M_RESUMED, m))
		return PL_EXIT_FAIL;
	emitf(r, "resume", FIELDS(F_PID("pid", v->caller->pid),
				 F_PID("child", w->pid),
				 F_PID("returned", m->pid),
				 F_STR("after", after)),
	     "the caller %d resumed: clone() returned %d to it, after the "
	     "child's %s", (int)v->caller->pid, m->pid, after);
	if (m->pid != w->pid)
		return pl_fail(r, "expected clone() to return the child's pid "
			       "%d; it returned %d", (int)w->pid, m->pid);
	return 0;
}

/* The caller waited for its child and reports the status; then /proc must
 * show the child released. */
static int reaped(struct run *r, struct vlab *v, struct watched *w)
{
	struct wstatus ws;
	struct vmsg m;

	if (hear(r, v, M_REAPED, &m))
		return PL_EXIT_FAIL;
	wstatus_decode((int)m.a, &ws);
	emit_wstatus_by(r, m.pid, w->role, "waitpid", v->caller->pid, &ws);
	/* the caller reaped it before it reported: it must be gone now */
	if (obs_sample(r, w, "X", "reaped by its parent, the caller") != 'X')
		return pl_fail(r, "expected %s %d to be released after the "
			       "caller reaped it; /proc showed %c", w->role,
			       (int)w->pid, w->state);
	return 0;
}

static void show_wchan(struct run *r, struct watched *w, const char *how)
{
	struct probe p;

	obs_probe(r, w, &p);
	emitf(r, "wchan", FIELDS(F_PID("pid", w->pid), F_STR("role", w->role),
				F_CHAR("state", w->state),
				F_MEAS("wchan", p.wchan)),
	     "%s %d is %c (%s) in the kernel function %s: %s", w->role,
	     (int)w->pid, w->state, procfs_state_name(w->state),
	     p.wchan[0] ? p.wchan : "(wchan unreadable)", how);
}

static int stage_fork(struct run *r, struct vlab *v)
{
	int p[P_N][2], mine[P_N], theirs[P_N], pidfd = -1;
	pid_t pid;

	stage(r, "fork", "proclab forks the caller; it waits for a command "
	      "in read(2)");
	for (int i = 0; i < P_N; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			pl_warnx(r, "cannot create a pipe: %s",
				 strerror(errno));
			while (i-- > 0) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return PL_EXIT_FAIL;
		}
	/* the caller reads commands and writes reports; its children read
	 * proclab's commands, cat reads the feed and writes the echo */
	for (int i = 0; i < P_N; i++) {
		int they_read = i != P_REP && i != P_ECHO;

		theirs[i] = p[i][they_read ? 0 : 1];
		mine[i] = p[i][they_read ? 1 : 0];
	}
	pid = pl_fork(r, "caller", &pidfd);
	if (pid == 0)
		caller_main(theirs);
	for (int i = 0; i < P_N; i++) {
		close(theirs[i]);
		v->own[i] = mine[i];
	}
	if (pid < 0)
		return PL_EXIT_FAIL;
	v->caller = obs_add(r, pid, pidfd, "caller");
	if (v->caller == NULL)
		return PL_EXIT_FAIL;
	return obs_await(r, v->caller, "S", "waits in read(2) for proclab's "
			 "next command");
}

static int stage_vfork(struct run *r, struct vlab *v, struct watched **wp)
{
	struct watched *w;

	stage(r, "vfork", "the caller calls clone(CLONE_VM|CLONE_VFORK): "
	      "the child runs, then blocks in read(2)");
	w = *wp = start_child(r, v, "child");
	if (w == NULL || tell(r, v, P_KID, K_BLOCK, 0) ||
	    obs_await(r, w, "S", "blocked in read(2); its parent still "
		      "waits for it"))
		return PL_EXIT_FAIL;
	show_wchan(r, v->caller, "suspended until the child lets go of the "
		   "memory they share; no disk involved");
	if (v->caller->state != 'D')
		return pl_fail(r, "expected the caller %d to stay D while its "
			       "vfork child sleeps; /proc showed %c",
			       (int)v->caller->pid, v->caller->state);
	return 0;
}

static int stage_write(struct run *r, struct vlab *v, struct watched *w)
{
	struct vmsg st, res;
	bool same;

	stage(r, "write", "the child stores a number in the caller's "
	      "variable and calls _exit; the caller resumes and reads it");
	if (tell(r, v, P_KID, K_STORE, v->value) || hear(r, v, M_STORED, &st) ||
	    resumed(r, v, w, "_exit", &res))
		return PL_EXIT_FAIL;
	same = res.b == st.a;
	emitf(r, "shared", FIELDS(F_PID("pid", v->caller->pid),
				 F_PID("child", w->pid),
				 F_INT("before", res.a),
				 F_INT("child_wrote", st.a),
				 F_INT("caller_read", res.b)),
	     "the variable held %lld before the clone; the child stored %lld; "
	     "the caller then read %lld%s", res.a, st.a, res.b,
	     same ? ": one memory, two processes" : "");
	/* POSIX calls such writes undefined: "must not", not "cannot" */
	claim(r, "vfork-cannot-write", same ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("child_wrote", st.a), F_INT("caller_read", res.b)));
	claim(r, "vfork-shares-memory", same ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("child_wrote", st.a), F_INT("caller_read", res.b)));
	if (!same)
		return pl_fail(r, "expected the caller to read %lld, stored by "
			       "its vfork child; it read %lld", st.a, res.b);
	if (obs_await(r, w, "Z", "exited; its parent, the caller, has not "
		      "waited yet") ||
	    tell(r, v, P_CMD, C_REAP, 0) || reaped(r, v, w))
		return PL_EXIT_FAIL;
	return obs_await(r, v->caller, "S", "resumed, reaped its child, and "
			 "waits for proclab again");
}

static int stage_exec(struct run *r, struct vlab *v, struct watched **wp)
{
	static const char ping[] = "ping\n";
	struct watched *w;
	struct vmsg res;
	char comm[PROC_COMM_MAX], back[16];
	ssize_t n;
	bool alive;

	stage(r, "exec", "a second vfork child runs, then execs cat: the "
	      "caller resumes while cat still runs");
	w = *wp = start_child(r, v, "exec-child");
	if (w == NULL || tell(r, v, P_KID, K_EXEC, 0) ||
	    resumed(r, v, w, "exec", &res) ||
	    obs_await(r, w, "S", "runs cat now, blocked reading its stdin: "
		      "alive, and its parent runs again"))
		return PL_EXIT_FAIL;
	snprintf(comm, sizeof(comm), "%s", w->st.comm);
	if (tell(r, v, P_CMD, C_REAP, 0) ||
	    obs_await(r, v->caller, "S", "waits in waitpid() for its child, "
		      "which still runs"))
		return PL_EXIT_FAIL;
	show_wchan(r, v->caller, "an ordinary wait for a child, no longer "
		   "the vfork one");

	/* cat answers: it is alive and runs the new program */
	do
		n = write(v->own[P_FEED], ping, sizeof(ping) - 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(ping) - 1) {
		pl_warnx(r, "cannot write to cat: %s",
			 n < 0 ? strerror(errno) : "short write");
		return PL_EXIT_FAIL;
	}
	if (!pl_wait_fd(r, v->own[P_ECHO], r->timeout_ms))
		return pl_fail(r, "expected cat %d to echo a line within %d "
			       "ms; it did not", (int)w->pid, r->timeout_ms);
	do
		n = read(v->own[P_ECHO], back, sizeof(back));
	while (n < 0 && errno == EINTR);
	obs_sample(r, w, NULL, NULL);
	alive = !w->gone && w->state != 'Z' && n > 0;
	emitf(r, "exec", FIELDS(F_PID("pid", w->pid),
			       F_STR("program", conf.exe), F_STR("comm", comm),
			       F_INT("sent", (long long)sizeof(ping) - 1),
			       F_INT("echoed", n < 0 ? 0 : n),
			       /* cat may be reading or writing */
			       F_MEAS("state", w->state),
			       F_BOOL("alive", alive)),
	     "%s %d runs %s (comm \"%s\"): it echoed %zd of the %zu bytes "
	     "sent and is %c (%s)", w->role, (int)w->pid, conf.exe, comm,
	     n < 0 ? 0 : n, sizeof(ping) - 1, w->state,
	     procfs_state_name(w->state));
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

static int stage_eof(struct run *r, struct vlab *v, struct watched *w)
{
	stage(r, "end", "proclab closes cat's stdin: cat reads EOF and exits; "
	      "the caller's waitpid() collects it");
	close_own(v, P_FEED);
	return reaped(r, v, w);
}

/* One measurement at the caller's present resident set. */
static int cost(struct run *r, struct vlab *v, long long touched,
		double *ratio, double *fork_us, double *vfork_us)
{
	struct probe p;
	struct vmsg m;
	long long rss;

	obs_probe(r, v->caller, &p);
	if (!p.status_ok || !(p.ps.has & PS_VMRSS))
		return pl_fail(r, "expected to read the caller's VmRSS from "
			       "/proc/%d/status; it was unreadable",
			       (int)v->caller->pid);
	rss = p.ps.vmrss_kb * 1024;
	if (tell(r, v, P_CMD, C_COST, COST_REPS) ||
	    hear_in(r, v, M_COST, &m, work_ms(r)))
		return PL_EXIT_FAIL;
	*fork_us = (double)m.a / 1e3;
	*vfork_us = (double)m.b / 1e3;
	*ratio = m.b > 0 ? (double)m.a / (double)m.b : 0;
	emitf(r, "cost", FIELDS(F_MEAS("rss_bytes", rss),
			       F_INT("touched_bytes", touched),
			       F_INT("reps", m.pid), F_MEAS("fork_us", *fork_us),
			       F_MEAS("vfork_us", *vfork_us),
			       F_MEAS("ratio", *ratio)),
	     "resident set %.1f MiB: fork %.1f us, vfork %.1f us (medians of "
	     "%d, create to reaped): fork takes %.1fx as long",
	     (double)rss / 1048576, *fork_us, *vfork_us, m.pid, *ratio);
	return 0;
}

static int stage_cost(struct run *r, struct vlab *v)
{
	double rs, rl, fs, fl, vs, vl;
	long long mib = opt_val(r, "rss");
	struct vmsg m;
	bool same;

	stage(r, "cost", "the caller times fork() against vfork(), as it is "
	      "and after writing --rss MiB");
	if (cost(r, v, 0, &rs, &fs, &vs) ||
	    tell(r, v, P_CMD, C_TOUCH, (int)mib) ||
	    hear_in(r, v, M_TOUCHED, &m, work_ms(r)) ||
	    cost(r, v, m.a, &rl, &fl, &vl))
		return PL_EXIT_FAIL;
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

static int stage_exit(struct run *r, struct vlab *v)
{
	int status;

	stage(r, "exit", "proclab closes the caller's command pipe: it exits, "
	      "and proclab reaps it");
	close_own(v, P_CMD);
	if (pl_waitpid(r, v->caller->pid, "caller", &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, v->caller, "X", "reaped: its /proc entry is gone");
}

static int find_program(struct run *r)
{
	static const char *const where[] = { "/bin/cat", "/usr/bin/cat" };

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0) {
			snprintf(conf.exe, sizeof(conf.exe), "%s", where[i]);
			conf.exe_name = "cat";
			return 0;
		}
	return pl_unavailable(r, "no cat to exec in /bin or /usr/bin");
}

static int vfork_stages(struct run *r, struct vlab *v)
{
	struct watched *child, *execd;

	if (stage_fork(r, v) || stage_vfork(r, v, &child) ||
	    stage_write(r, v, child) || stage_exec(r, v, &execd) ||
	    stage_eof(r, v, execd) || stage_cost(r, v) || stage_exit(r, v))
		return PL_EXIT_FAIL;
	return PL_EXIT_OK;
}

static int vfork_run(struct run *r)
{
	struct vlab v = { .value = (int)opt_val(r, "value") };
	int rc;

	for (int i = 0; i < P_N; i++)
		v.own[i] = -1;
	conf.page = (size_t)sysconf(_SC_PAGESIZE);
	rc = find_program(r);
	if (rc == 0)
		rc = vfork_stages(r, &v);
	for (int i = 0; i < P_N; i++)
		close_own(&v, i);
	return rc;
}

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

const struct lab lab_vfork = {
	.name = "vfork",
	.summary = "the vfork caller waits in D until its child _exits or "
		   "execs; the cost",
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
	.run = vfork_run,
	.prepare = vfork_prepare,
};
