/* exec.c - fork, then exec in the child: one process, a new program.
 *
 * proclab forks the "child" (an agent, agent.h), which writes --touch MiB
 * of memory, opens /dev/null as fd 3 without close-on-exec and /dev/zero
 * as fd 4 with it, catches SIGUSR1, ignores SIGHUP and blocks SIGUSR2.
 * Then it calls execve() twice: on a path that does not exist (ENOENT:
 * the call returns, and the child runs on in proclab's code, unchanged),
 * then on cat.  What changed and what was kept is read from /proc before
 * and after: pid, ppid, comm, /proc/PID/exe, cmdline, VmRSS and VmSize
 * (status), the open files (/proc/PID/fd and fdinfo's flags), the signal
 * masks (SigCgt, SigIgn, SigBlk).  Last, a "caller" agent calls
 * clone(CLONE_VM|CLONE_VFORK) and its child execs cat: the caller leaves
 * D at the exec, while cat lives on.
 *
 * Why cat: its /proc/PID/exe, comm and cmdline all differ from proclab's;
 * it is on every system; it sets no handler, blocks nothing and opens
 * nothing for an empty stdin, so what /proc shows of it is what the exec
 * left; reading an empty pipe it holds still in S for as long as a
 * student looks; and it ends on EOF, or of a signal whose handler the
 * exec removed.
 *
 * Knowing when the exec has happened: the child holds the write end of a
 * pipe (the "exec watch", fd 5) marked close-on-exec, and proclab holds
 * no other write end: a successful execve closes it, and proclab reads
 * EOF.  A failed one leaves it open.
 *
 * Stages (exec_stages[]): fork (S) -> prepare (the fds and signals
 * before) -> enoent (R, then a failed exec returns: S in proclab's code)
 * -> exec (R, then the same pid runs cat: S) -> fds (what survived) ->
 * signals (what was reset; SIGHUP and SIGUSR2 leave cat asleep, SIGUSR1
 * kills it: Z, reaped, X) -> vfork (the caller D while its child spins,
 * S once the child execs, with cat alive: S) -> end (cat reads EOF and
 * the caller reaps it; the caller exits, X).  The child spins before
 * each exec so that the sleep after it is a change /proc shows on every
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"
#include "wstatus.h"

static const struct lab_option exec_options[] = {
	{ "touch", "MIB", 8, 256, 16,
	  "MiB of memory the child writes before the exec, more than cat "
	  "holds in all, for the exec to throw away" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* The child's fds as the lab lays them out (agent_give_fd() and
 * OP_PREPARE); the engine puts the agent's own pipes above WATCH_FD. */
enum { KEEP_FD = 3, CLOSE_FD = 4, WATCH_FD = 5 };
#define SIG_CAUGHT SIGUSR1
#define SIG_IGNORED SIGHUP
#define SIG_BLOCKED SIGUSR2
#define MISSING "/nonexistent/proclab-exec"
enum { VCHILD_STACK = 64 * 1024 };

enum {
	OP_PREPARE = AGENT_OP_LAB, /* child: fds 3 and 4, the signals;
				    * answer {3, 4} */
	OP_EXEC,        /* child: execve MISSING (v0 0; answer {errno,
			 * getpid, getppid}) or cat (v0 1; no answer) */
	OP_VFORK,       /* caller: clone a child; once clone returns,
			 * answer {pid} */
	OP_VEXEC,       /* vfork child: execve cat */
	OP_VREAP,       /* caller: waitpid for it; answer {pid, status} */
	REP_VCHILD = AGENT_REP_LAB, /* vfork child: {getpid, getppid} */
};

/* Set before the first agent starts; the agents read their copy. */
struct xconf {
	char exe[32];           /* the program: /bin/cat or /usr/bin/cat */
	pid_t vpid;             /* the caller's copy: its vfork child */
};

/* ---- in the agents (async-signal-safe calls only) ---------------------- */

static void on_usr1(int sig)
{
	(void)sig;
}

/* Put a new open of path at fd `at`, with or without close-on-exec. */
static void open_at(struct agent_ctx *c, const char *path, int at,
		    bool cloexec)
{
	int fd = open(path, O_RDONLY | (cloexec ? O_CLOEXEC : 0));

	if (fd < 0)
		agent_fail(c, AGENT_CALL_OPEN);
	if (fd != at) {
		if (dup3(fd, at, cloexec ? O_CLOEXEC : 0) < 0)
			agent_fail(c, AGENT_CALL_DUP2);
		close(fd);
	}
}

static int op_prepare(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		      int64_t out[AGENT_ARGS])
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t blk;

	(void)arg;
	open_at(c, "/dev/null", KEEP_FD, false);
	open_at(c, "/dev/zero", CLOSE_FD, true);
	/* what a careful program does before it execs: nothing of its own
	 * (the exec watch, the agent's pipes) for the new program */
	if (close_range(WATCH_FD, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_CLOSE_RANGE);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_CAUGHT, &sa, NULL) < 0 ||
	    signal(SIG_IGNORED, SIG_IGN) == SIG_ERR)
		agent_fail(c, AGENT_CALL_SIGACTION);
	sigemptyset(&blk);
	sigaddset(&blk, SIG_BLOCKED);
	if (sigprocmask(SIG_BLOCK, &blk, NULL) < 0)
		agent_fail(c, AGENT_CALL_SIGPROCMASK);
	out[0] = KEEP_FD;
	out[1] = CLOSE_FD;
	return AGENT_OK;
}

static int op_exec(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		   int64_t out[AGENT_ARGS])
{
	const struct xconf *conf = c->data;
	char *const argv[] = { (char *)"cat", NULL };

	if (arg[0] == 0) {
		/* returns: there is no such file */
		execve(MISSING, argv, environ);
		out[0] = errno;
		out[1] = getpid();
		out[2] = getppid();
		return AGENT_OK;
	}
	execve(conf->exe, argv, environ);
	agent_fail(c, AGENT_CALL_EXECVE);
}

/* The child of clone(CLONE_VM | CLONE_VFORK), on a stack of its own, in
 * the caller's memory: it says it runs, then spins until OP_VEXEC comes
 * on the caller's pipe.  Not instrumented by ASan (see labs/vfork.c). */
static int __attribute__((no_sanitize("address"))) vchild_main(void *arg)
{
	struct agent_ctx *c = arg;
	const struct xconf *conf = c->data;
	char *const argv[] = { (char *)"cat", NULL };
	struct agent_msg m;

	/* the death signal is not inherited through clone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		agent_fail(c, AGENT_CALL_PRCTL);
	if (getppid() != c->self)
		_exit(AGENT_EXIT_ORPHANED);
	prctl(PR_SET_NAME, "proclab-vchild");
	agent_say(c, REP_VCHILD, getpid(), getppid(), 0, 0);
	/* on the CPU (R) until told to exec */
	agent_next(c, &m, true);
	if (m.kind != OP_VEXEC)
		_exit(AGENT_EXIT_PROTOCOL);
	/* its fds are its own (no CLONE_FILES): cat gets 0, 1, 2 only */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_CLOSE_RANGE);
	execve(conf->exe, argv, environ);
	agent_fail(c, AGENT_CALL_EXECVE);
}

static int op_vfork(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	struct xconf *conf = c->data;
	pid_t pid;

	(void)arg;
	pid = agent_clone_vfork(vchild_main, c, NULL, VCHILD_STACK);
	/* here only once the child has exec'd (or died) */
	if (pid < 0)
		agent_fail(c, errno == ENOMEM ? AGENT_CALL_MMAP
			   : AGENT_CALL_CLONE);
	conf->vpid = pid;
	out[0] = pid;
	return AGENT_OK;
}

static int op_vreap(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	const struct xconf *conf = c->data;
	int status = 0;

	(void)arg;
	while (waitpid(conf->vpid, &status, 0) < 0)
		if (errno != EINTR)
			agent_fail(c, AGENT_CALL_WAITPID);
	out[0] = conf->vpid;
	out[1] = status;
	return AGENT_OK;
}

static const struct agent_op_def exec_ops[] = {
	{ OP_PREPARE, "prepare", op_prepare },
	{ OP_EXEC, "exec", op_exec },
	{ OP_VFORK, "vfork", op_vfork },
	{ OP_VEXEC, "vexec", NULL },
	{ OP_VREAP, "reap", op_vreap },
	{ REP_VCHILD, "vfork child running", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side ----------------------------------------------------- */

/* What /proc showed of the child at one moment. */
struct snap {
	struct proc_stat st;
	struct probe p;
	struct probe_exec x;
};

struct execlab {
	struct xconf conf;
	struct agent *child, *caller;
	struct watched *w, *cw, *vw;    /* child, caller, vfork child */
	/* proclab's ends: cat's stdin and stdout, the exec watch, the
	 * vfork cat's stdin */
	int feed, echo, watch, vfeed;
	unsigned long long feed_ino, echo_ino, watch_ino;
	struct snap before, after;
	long long touched;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static unsigned long long ino_of(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

/* Read the child now: stat, status, exe, cmdline, fds. */
static int snapshot(struct run *r, struct watched *w, struct snap *s)
{
	if (obs_probe(r, w, &s->p) != PROC_OK ||
	    obs_probe_exec(r, w, &s->x) != PROC_OK)
		return pl_fail(r, "expected to read /proc/%d; %s %d is gone",
			       (int)w->pid, w->role, (int)w->pid);
	s->st = w->st;
	if (!s->p.status_ok || !(s->p.ps.has & PS_SIGALL) ||
	    !(s->p.ps.has & PS_VMSIZE) || !(s->p.ps.has & PS_VMRSS))
		return pl_fail(r, "expected to read the signal masks, VmSize "
			       "and VmRSS of /proc/%d/status; they were "
			       "unreadable", (int)w->pid);
	if (s->x.nfds < 0)
		return pl_fail(r, "expected to list /proc/%d/fd; %s",
			       (int)w->pid, strerror(s->x.fds_errno));
	return 0;
}

/* What the lab knows an open file to be, from its target: one of its
 * pipes (by inode), or nothing to add. */
static const char *fd_what(const struct execlab *L, const struct proc_fd *f)
{
	unsigned long long ino;

	if (sscanf(f->target, "pipe:[%llu]", &ino) != 1)
		return "";
	return ino == L->feed_ino ? N_("stdin: proclab writes")
	     : ino == L->echo_ino ? N_("proclab reads")
	     : ino == L->watch_ino ? N_("the exec watch")
	     : N_("an agent pipe");
}

/* A target that names an inode varies between runs. */
static bool target_varies(const char *target)
{
	return strchr(target, '[') != NULL || target[0] == '\0';
}

static void emit_fds(struct run *r, const struct execlab *L,
		     const struct watched *w, const struct snap *s,
		     const char *when)
{
	struct field rows[PROBE_FDS_MAX][6];
	const struct field *rowp[PROBE_FDS_MAX];
	int n = s->x.nfds < PROBE_FDS_MAX ? s->x.nfds : PROBE_FDS_MAX;
	struct field_list l = { .n = n, .rows = rowp,
				.row = "fd {fd}  {target:-15} {flag:-7} {what}" };

	for (int i = 0; i < n; i++) {
		const struct proc_fd *f = &s->x.fd[i];
		bool ce = f->flags_ok && (f->flags & O_CLOEXEC);

		rows[i][0] = F_INT("fd", f->fd);
		rows[i][1] = target_varies(f->target)
			     ? F_MEAS("target", f->target)
			     : F_STR("target", f->target);
		rows[i][2] = f->flags_ok ? F_BOOL("cloexec", ce)
					 : F_NULL("cloexec");
		rows[i][3] = F_TEXT("flag", !f->flags_ok ? "?"
				    : ce ? "cloexec" : "-");
		rows[i][4] = F_WORDS("what", fd_what(L, f));
		rows[i][5] = (struct field){ .type = FT_END };
		rowp[i] = rows[i];
	}
	emit(r, "fds", FIELDS(F_PID("pid", w->pid), F_WORDS("when", when),
			      F_INT("count", s->x.nfds), F_LIST("fds", &l),
			      F_TEXT("role", w->role)));
}

/* The three signals of the lab as one mask. */
static unsigned long long lab_sigs(void)
{
	return 1ULL << (SIG_CAUGHT - 1) | 1ULL << (SIG_IGNORED - 1) |
	       1ULL << (SIG_BLOCKED - 1);
}

static void emit_signals(struct run *r, const struct watched *w,
			 const struct snap *s, const char *when)
{
	const unsigned long long *m = s->p.ps.sig, mine = lab_sigs();
	char cgt[64], ign[64], blk[64];

	/* the lab's signals only: the rest is what proclab inherited */
	if (wstatus_sigset_names(m[PSIG_CGT] & mine, cgt, sizeof(cgt)) == 0)
		snprintf(cgt, sizeof(cgt), "none");
	if (wstatus_sigset_names(m[PSIG_IGN] & mine, ign, sizeof(ign)) == 0)
		snprintf(ign, sizeof(ign), "none");
	if (wstatus_sigset_names(m[PSIG_BLK] & mine, blk, sizeof(blk)) == 0)
		snprintf(blk, sizeof(blk), "none");
	emit(r, "signals",
	     FIELDS(F_PID("pid", w->pid), F_WORDS("when", when),
		    F_STR("caught", cgt), F_STR("ignored", ign),
		    F_STR("blocked", blk),
		    F_MEAS("sigcgt", s->p.ps.sig_raw[PSIG_CGT]),
		    F_MEAS("sigign", s->p.ps.sig_raw[PSIG_IGN]),
		    F_MEAS("sigblk", s->p.ps.sig_raw[PSIG_BLK]),
		    F_TEXT("role", w->role)));
}

static int stage_fork(struct run *r)
{
	struct execlab *L = run_state(r);
	int feed[2], echo[2], watch[2], rc;
	struct agent_msg m;
	struct agent *a;

	if (pipe2(feed, O_CLOEXEC) < 0)
		return pl_unavailable(r, "cannot create a pipe: %s",
				      strerror(errno));
	if (pipe2(echo, O_CLOEXEC) < 0) {
		rc = pl_unavailable(r, "cannot create a pipe: %s",
				    strerror(errno));
		close(feed[0]), close(feed[1]);
		return rc;
	}
	if (pipe2(watch, O_CLOEXEC) < 0) {
		rc = pl_unavailable(r, "cannot create a pipe: %s",
				    strerror(errno));
		close(feed[0]), close(feed[1]), close(echo[0]), close(echo[1]);
		return rc;
	}
	L->feed = feed[1];
	L->echo = echo[0];
	L->watch = watch[0];
	L->feed_ino = ino_of(feed[1]);
	L->echo_ino = ino_of(echo[0]);
	L->watch_ino = ino_of(watch[0]);
	/* cat's stdin, stdout and stderr, and the exec watch */
	a = L->child = agent_new(r, "child");
	rc = a == NULL ? PL_EXIT_FAIL : agent_give_fd(r, a, feed[0], 0);
	if (rc == 0)
		rc = agent_give_fd(r, a, echo[1], 1);
	if (rc == 0)
		rc = agent_give_fd(r, a, echo[1], 2);
	if (rc == 0)
		rc = agent_give_fd(r, a, watch[1], WATCH_FD);
	if (rc == 0)
		rc = agent_start(r, a, NULL);
	/* proclab keeps no write end of the watch: EOF means the exec */
	close(feed[0]), close(echo[1]), close(watch[1]);
	if (rc != 0)
		return rc;
	if ((L->w = obs_add(r, a->pid, a->pidfd, "child")) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, a, AGENT_OP_TOUCH, opt_val(r, "touch"), &m)) != 0)
		return rc;
	L->touched = m.v[0];
	return obs_await(r, L->w, "S", "waits in read(2) for proclab's next "
			 "command");
}

static int stage_prepare(struct run *r)
{
	struct execlab *L = run_state(r);
	const unsigned long long *m;
	int rc;

	if ((rc = agent_do(r, L->child, OP_PREPARE, 0, NULL)) != 0 ||
	    (rc = obs_settle(r, L->w, "S")) != 0 ||
	    (rc = snapshot(r, L->w, &L->before)) != 0)
		return rc;
	emit_fds(r, L, L->w, &L->before, N_("before"));
	emit_signals(r, L->w, &L->before, N_("before"));
	m = L->before.p.ps.sig;
	/* a tool that handles every signal itself (valgrind) shows its own
	 * dispositions in /proc, not the child's */
	if (!(m[PSIG_CGT] >> (SIG_CAUGHT - 1) & 1) ||
	    !(m[PSIG_IGN] >> (SIG_IGNORED - 1) & 1) ||
	    !(m[PSIG_BLK] >> (SIG_BLOCKED - 1) & 1) ||
	    (m[PSIG_CGT] & ~lab_sigs()) != 0)
		return pl_unavailable(r, "/proc does not show the child's "
				      "signal dispositions (SigCgt %s, SigIgn "
				      "%s, SigBlk %s): a tool (valgrind?) "
				      "handles its signals",
				      L->before.p.ps.sig_raw[PSIG_CGT],
				      L->before.p.ps.sig_raw[PSIG_IGN],
				      L->before.p.ps.sig_raw[PSIG_BLK]);
	return 0;
}

/* Whether the exec watch has reached EOF (the exec closed its write end)
 * within ms. */
static bool watch_eof(struct run *r, int fd, int ms)
{
	char b;
	ssize_t n;

	if (!pl_wait_fd(r, fd, ms))
		return false;
	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

static int stage_enoent(struct run *r)
{
	struct execlab *L = run_state(r);
	struct watched *w = L->w;
	struct agent_msg m;
	struct probe_exec x;
	bool open_watch, same, answers;
	int rc, e;

	/* on the CPU first (R), so that the sleep after the exec is a
	 * change /proc shows */
	if ((rc = agent_do(r, L->child, AGENT_OP_SPIN, 0, NULL)) != 0 ||
	    (rc = obs_await(r, w, "R", "busy in a loop until the next "
			    "command")) != 0 ||
	    (rc = agent_do(r, L->child, OP_EXEC, 0, &m)) != 0)
		return rc;
	e = (int)m.v[0];
	/* it answered: the call returned, in the old program */
	open_watch = !watch_eof(r, L->watch, 0);
	answers = true;
	if ((rc = obs_await(r, w, "S", "still proclab's code: it answered, "
			    "and waits for the next command")) != 0)
		return rc;
	if (obs_probe_exec(r, w, &x) != PROC_OK)
		return pl_fail(r, "%s %d is gone", w->role, (int)w->pid);
	same = strcmp(w->st.comm, L->before.st.comm) == 0 &&
	       strcmp(x.exe, L->before.x.exe) == 0 &&
	       x.nfds == L->before.x.nfds;
	emit_form(r, "exec_failed", same ? NULL : "changed",
		  FIELDS(F_PID("pid", w->pid), F_STR("path", MISSING),
			 F_INT("errno", e), F_STR("error", strerrorname_np(e)),
			 F_PID("getpid", m.v[1]), F_PID("getppid", m.v[2]),
			 F_STR("comm", w->st.comm), F_BOOL("unchanged", same),
			 F_INT("fds", x.nfds), F_BOOL("watch_open", open_watch),
			 F_BOOL("answers", answers),
			 F_TEXT("role", w->role),
			 F_TEXT("message", strerror(e))));
	if (e != ENOENT || !same || !open_watch || m.v[1] != w->pid)
		return pl_fail(r, "expected execve(\"%s\") to fail with ENOENT "
			       "and leave %s %d as it was; errno %s, comm %s, "
			       "%d fds (%d before)", MISSING, w->role,
			       (int)w->pid, strerrorname_np(e), w->st.comm,
			       x.nfds, L->before.x.nfds);
	return 0;
}

/* One line of the comparison: before and after. */
static void compare(struct run *r, const struct watched *w, const char *what,
		    struct field before, struct field after, const char *verdict)
{
	before.key = "before";
	after.key = "after";
	emit(r, "compare", FIELDS(F_PID("pid", w->pid), F_WORDS("what", what),
				  before, after, F_WORDS("verdict", verdict)));
}

static int stage_exec(struct run *r)
{
	static const char ping[] = "ping\n";
	struct execlab *L = run_state(r);
	struct watched *w = L->w;
	const struct snap *b = &L->before, *a = &L->after;
	bool same_pid, same_ppid, new_comm, new_exe, new_cmd, freed;
	bool exec_done, heard;
	char back[16];
	ssize_t n;
	int rc;

	if ((rc = agent_do(r, L->child, AGENT_OP_SPIN, 0, NULL)) != 0 ||
	    (rc = obs_await(r, w, "R", "busy in a loop until the next "
			    "command")) != 0)
		return rc;
	{
		const int64_t arg[AGENT_ARGS] = { 1, 0, 0, 0 };

		if ((rc = agent_send(r, L->child, OP_EXEC, arg)) != 0)
			return rc;
	}
	/* from here it is cat: it will not answer */
	agent_ending(L->child);
	exec_done = watch_eof(r, L->watch, r->timeout_ms);
	/* EOF also when the exec failed and the child _exited: then it
	 * reported the failure first, and that ends the lab here (exit 3) */
	if ((rc = agent_take(r, L->child, AGENT_ANY, NULL, &heard)) != 0)
		return rc;
	if (!exec_done)
		return pl_fail(r, "expected the exec watch to read EOF within "
			       "%d ms (the exec closes it); it did not",
			       r->timeout_ms);
	if ((rc = obs_await(r, w, "S", "runs cat now: blocked in read(2) on "
			    "its stdin, the pipe it kept")) != 0 ||
	    (rc = snapshot(r, w, &L->after)) != 0)
		return rc;
	same_pid = a->st.pid == b->st.pid && w->pid == a->st.pid;
	same_ppid = a->st.ppid == b->st.ppid;
	new_comm = strcmp(a->st.comm, b->st.comm) != 0;
	new_exe = strcmp(a->x.exe, b->x.exe) != 0;
	new_cmd = strcmp(a->x.cmdline, b->x.cmdline) != 0;
	freed = a->p.ps.vmrss_kb * 1024 < L->touched;
	emit(r, "exec",
	     FIELDS(F_PID("pid_before", b->st.pid), F_PID("pid_after", a->st.pid),
		    F_PID("ppid_before", b->st.ppid),
		    F_PID("ppid_after", a->st.ppid),
		    F_STR("comm_before", b->st.comm),
		    F_STR("comm_after", a->st.comm),
		    F_MEAS("exe_before", b->x.exe),
		    F_MEAS("exe_after", a->x.exe),
		    F_MEAS("cmdline_before", b->x.cmdline),
		    F_STR("cmdline_after", a->x.cmdline),
		    F_MEAS("vmrss_before", b->p.ps.vmrss_kb),
		    F_MEAS("vmrss_after", a->p.ps.vmrss_kb),
		    F_MEAS("vmsize_before", b->p.ps.vmsize_kb),
		    F_MEAS("vmsize_after", a->p.ps.vmsize_kb),
		    F_BOOL("same_pid", same_pid),
		    F_TEXT("role", w->role)));
	compare(r, w, N_("pid"), F_PID("", b->st.pid), F_PID("", a->st.pid),
		same_pid ? N_("kept") : N_("changed"));
	compare(r, w, N_("parent"), F_PID("", b->st.ppid), F_PID("", a->st.ppid),
		same_ppid ? N_("kept") : N_("changed"));
	compare(r, w, N_("comm"), F_STR("", b->st.comm), F_STR("", a->st.comm),
		new_comm ? N_("changed") : N_("kept"));
	compare(r, w, N_("exe"), F_MEAS("", b->x.exe), F_MEAS("", a->x.exe),
		new_exe ? N_("changed") : N_("kept"));
	compare(r, w, N_("cmdline"), F_MEAS("", b->x.cmdline),
		F_STR("", a->x.cmdline), new_cmd ? N_("changed") : N_("kept"));
	compare(r, w, N_("VmSize kB"), F_MEAS("", b->p.ps.vmsize_kb),
		F_MEAS("", a->p.ps.vmsize_kb),
		a->p.ps.vmsize_kb < b->p.ps.vmsize_kb ? N_("smaller") : N_("larger"));
	compare(r, w, N_("VmRSS kB"), F_MEAS("", b->p.ps.vmrss_kb),
		F_MEAS("", a->p.ps.vmrss_kb),
		freed ? N_("less than the MiB written") : N_("not less than the MiB "
		"written"));

	/* cat runs: what goes into its stdin comes back on its stdout */
	do
		n = write(L->feed, ping, sizeof(ping) - 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(ping) - 1)
		return pl_fail(r, "expected to write to cat's stdin: %s",
			       n < 0 ? strerror(errno) : "short write");
	if (!pl_wait_fd(r, L->echo, r->timeout_ms))
		return pl_fail(r, "expected cat %d to echo a line within %d "
			       "ms; it did not", (int)w->pid, r->timeout_ms);
	do
		n = read(L->echo, back, sizeof(back));
	while (n < 0 && errno == EINTR);
	emit(r, "echo", FIELDS(F_PID("pid", w->pid),
			       F_INT("sent", (long long)sizeof(ping) - 1),
			       F_INT("echoed", n < 0 ? 0 : n),
			       F_STR("comm", a->st.comm),
			       F_TEXT("role", w->role)));

	claim(r, "exec-fork-then-exec",
	      same_pid && same_ppid && new_comm && new_exe ? CLAIM_HOLDS
							   : CLAIM_FAILS,
	      FIELDS(F_PID("pid", w->pid), F_PID("pid_after", a->st.pid),
		     F_PID("ppid_after", a->st.ppid),
		     F_STR("comm_after", a->st.comm)));
	claim(r, "exec-replaces-memory", freed && new_exe ? CLAIM_HOLDS
							  : CLAIM_FAILS,
	      FIELDS(F_MEAS("vmsize_before", b->p.ps.vmsize_kb),
		     F_MEAS("vmsize_after", a->p.ps.vmsize_kb),
		     F_MEAS("vmrss_before", b->p.ps.vmrss_kb),
		     F_MEAS("vmrss_after", a->p.ps.vmrss_kb),
		     F_INT("touched_mib", L->touched >> 20),
		     F_BOOL("exe_changed", new_exe)));
	if (!same_pid || !same_ppid || !new_comm || !new_exe || !freed ||
	    n != (ssize_t)sizeof(ping) - 1)
		return pl_fail(r, "expected pid %d and ppid %d to stay, comm "
			       "and exe to change and the %lld MiB written to "
			       "go, and cat to echo; /proc showed pid %d, ppid "
			       "%d, comm %s, VmRSS %lld kB; echoed %zd bytes",
			       (int)b->st.pid, (int)b->st.ppid,
			       L->touched >> 20, (int)a->st.pid,
			       (int)a->st.ppid, a->st.comm, a->p.ps.vmrss_kb,
			       n);
	return 0;
}

/* Whether fd is open in s, and its entry. */
static const struct proc_fd *find_fd(const struct snap *s, int fd)
{
	int n = s->x.nfds < PROBE_FDS_MAX ? s->x.nfds : PROBE_FDS_MAX;

	for (int i = 0; i < n; i++)
		if (s->x.fd[i].fd == fd)
			return &s->x.fd[i];
	return NULL;
}

static int stage_fds(struct run *r)
{
	struct execlab *L = run_state(r);
	struct watched *w = L->w;
	int kept = 0, closed = 0, wrong = 0;

	emit_fds(r, L, w, &L->after, N_("after"));
	for (int i = 0; i < L->before.x.nfds && i < PROBE_FDS_MAX; i++) {
		const struct proc_fd *f = &L->before.x.fd[i];
		const struct proc_fd *g = find_fd(&L->after, f->fd);
		bool ce = f->flags_ok && (f->flags & O_CLOEXEC);
		bool open = g != NULL && strcmp(g->target, f->target) == 0;

		if (!f->flags_ok)
			continue;
		open ? kept++ : closed++;
		if (open == ce)
			wrong++;
		if (f->fd != KEEP_FD && f->fd != CLOSE_FD)
			continue;
		emit_form(r, "fd_fate", open ? NULL : "closed",
			  FIELDS(F_PID("pid", w->pid), F_INT("fd", f->fd),
				 F_STR("target", f->target),
				 F_BOOL("cloexec", ce), F_BOOL("open_after", open),
				 F_TEXT("role", w->role)));
	}
	emit(r, "fd_summary", FIELDS(F_PID("pid", w->pid),
				     F_INT("before", L->before.x.nfds),
				     F_INT("after", L->after.x.nfds),
				     F_INT("kept", kept), F_INT("closed", closed),
				     F_INT("against_flag", wrong),
				     F_TEXT("role", w->role)));
	/* only the fds marked close-on-exec are closed */
	claim(r, "exec-closes-files", kept > 0 ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("before", L->before.x.nfds), F_INT("closed", closed),
		     F_INT("kept", kept), F_INT("kept_fd", KEEP_FD),
		     F_STR("kept_target", find_fd(&L->after, KEEP_FD) != NULL
			   ? find_fd(&L->after, KEEP_FD)->target : "none")));
	if (wrong != 0 || find_fd(&L->after, KEEP_FD) == NULL ||
	    find_fd(&L->after, CLOSE_FD) != NULL)
		return pl_fail(r, "expected exactly the fds without "
			       "close-on-exec to survive the exec; %d did "
			       "otherwise", wrong);
	return 0;
}

/* One signal's disposition from the masks: "caught", "ignored",
 * "default", with ", blocked". */
/* A signal's disposition as /proc/PID/status shows it, in words: one of
 * these six (the text view translates them) */
static const char *disposition(const struct snap *s, int sig)
{
	static const char *const words[2][3] = {
		{ N_("caught"), N_("ignored"), N_("default") },
		{ N_("caught and blocked"), N_("ignored and blocked"),
		  N_("default and blocked") },
	};
	const unsigned long long *m = s->p.ps.sig, bit = 1ULL << (sig - 1);

	return words[(m[PSIG_BLK] & bit) != 0][m[PSIG_CGT] & bit ? 0
					       : m[PSIG_IGN] & bit ? 1 : 2];
}

static int stage_signals(struct run *r)
{
	static const int sigs[] = { SIG_CAUGHT, SIG_IGNORED, SIG_BLOCKED };
	static const char *const want[] = { "default", "ignored",
					    "default and blocked" };
	struct execlab *L = run_state(r);
	struct watched *w = L->w;
	struct probe p;
	int bad = 0, status;

	emit_signals(r, w, &L->after, N_("after"));
	for (int i = 0; i < 3; i++) {
		const char *b = disposition(&L->before, sigs[i]),
			   *a = disposition(&L->after, sigs[i]);
		bool as = strcmp(a, want[i]) == 0;
		bad += !as;
		emit(r, "signal_fate",
		     FIELDS(F_PID("pid", w->pid),
			    F_STR("signal", wstatus_signame(sigs[i]).s),
			    F_WORDS("before", b), F_WORDS("after", a),
			    F_TEXT("role", w->role)));
	}
	/* only handlers are reset: the ignored and the blocked cross */
	claim(r, "exec-resets-signals", bad == 0 ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_STR("caught", wstatus_signame(SIG_CAUGHT).s),
		     F_STR("ignored", wstatus_signame(SIG_IGNORED).s),
		     F_STR("blocked", wstatus_signame(SIG_BLOCKED).s),
		     F_INT("as_expected", 3 - bad)));
	if (bad != 0)
		return pl_fail(r, "expected %s default, %s ignored and %s "
			       "blocked after the exec; %d of them were not",
			       wstatus_signame(SIG_CAUGHT).s,
			       wstatus_signame(SIG_IGNORED).s,
			       wstatus_signame(SIG_BLOCKED).s, bad);

	/* what the dispositions do: the ignored and the blocked signal
	 * leave cat asleep; the blocked one waits, pending */
	for (int i = 1; i < 3; i++) {
		if (pl_kill(r, w->pid, sigs[i]) < 0)
			return pl_fail(r, "expected to send %s to %d: %s",
				       wstatus_signame(sigs[i]).s, (int)w->pid,
				       strerror(errno));
		/* it may wake for an instant: the state it settles in */
		if (obs_settle(r, w, "S") != 0)
			return PL_EXIT_FAIL;
		if (obs_probe(r, w, &p) != PROC_OK || !p.status_ok)
			return pl_fail(r, "expected cat %d to live on after "
				       "%s; it is gone", (int)w->pid,
				       wstatus_signame(sigs[i]).s);
		bool pending = (p.ps.sig[PSIG_SHDPND] |
				p.ps.sig[PSIG_PND]) >> (sigs[i] - 1) & 1;

		emit_form(r, "sent", pending ? "pending" : NULL,
			  FIELDS(F_PID("pid", w->pid),
				 F_STR("signal", wstatus_signame(sigs[i]).s),
				 F_CHAR("state", w->state),
				 F_BOOL("pending", pending),
				 F_TEXT("role", w->role),
				 F_TEXT("state_name",
					pl_state_name(w->state))));
		if (w->state != 'S' || pending != (sigs[i] == SIG_BLOCKED))
			return pl_fail(r, "expected cat %d to sleep on (S) "
				       "after %s%s; /proc showed %c",
				       (int)w->pid,
				       wstatus_signame(sigs[i]).s,
				       sigs[i] == SIG_BLOCKED
				       ? ", with it pending" : "", w->state);
	}
	if (pl_kill(r, w->pid, SIG_CAUGHT) < 0)
		return pl_fail(r, "expected to send %s to %d: %s",
			       wstatus_signame(SIG_CAUGHT).s, (int)w->pid,
			       strerror(errno));
	if (obs_await(r, w, "Z", "killed by SIGUSR1: its default action, "
		      "the handler went with the old program") != 0)
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, w->pid, w->role, &status) < 0)
		return PL_EXIT_FAIL;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIG_CAUGHT)
		return pl_fail(r, "expected cat %d to be killed by %s; status "
			       "0x%04x", (int)w->pid,
			       wstatus_signame(SIG_CAUGHT).s, (unsigned)status);
	return obs_await(r, w, "X", "reaped: its /proc entry is gone");
}

static int stage_vfork(struct run *r)
{
	struct execlab *L = run_state(r);
	int vfeed[2], rc, fd;
	struct agent_msg m, res;
	struct agent *a;
	char cstate, comm[PROC_COMM_MAX];
	bool alive;

	if (pipe2(vfeed, O_CLOEXEC) < 0)
		return pl_unavailable(r, "cannot create a pipe: %s",
				      strerror(errno));
	L->vfeed = vfeed[1];
	a = L->caller = agent_new(r, "caller");
	rc = a == NULL ? PL_EXIT_FAIL : agent_give_fd(r, a, vfeed[0], 0);
	if (rc == 0)
		rc = agent_start(r, a, NULL);
	close(vfeed[0]);
	if (rc != 0)
		return rc;
	if ((L->cw = obs_add(r, a->pid, a->pidfd, "caller")) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = obs_await(r, L->cw, "S", "waits in read(2) for a command")))
		return rc;
	{
		const int64_t arg[AGENT_ARGS] = { 0, 0, 0, 0 };

		if ((rc = agent_send(r, a, OP_VFORK, arg)) != 0 ||
		    (rc = agent_expect(r, a, REP_VCHILD, &m)) != 0)
			return rc;
	}
	if (pl_track(r, (pid_t)m.v[0], &fd) < 0)
		return PL_EXIT_FAIL;
	kid_set_role(r, (pid_t)m.v[0], "vchild");
	if ((rc = obs_await(r, L->cw, "D", "suspended in vfork until its "
			    "child execs or exits")) != 0)
		return rc;
	if ((L->vw = obs_add(r, (pid_t)m.v[0], fd, "vchild")) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = obs_await(r, L->vw, "R", "runs in its parent's memory, on "
			    "a stack of its own")) != 0)
		return rc;
	/* the caller is still D while its child runs */
	cstate = obs_sample(r, L->cw, "D", NULL);
	if (cstate != 'D')
		return pl_fail(r, "expected the caller %d to stay D while its "
			       "vfork child runs; /proc showed %c",
			       (int)L->cw->pid, cstate);
	{
		const int64_t arg[AGENT_ARGS] = { 0, 0, 0, 0 };

		if ((rc = agent_send(r, a, OP_VEXEC, arg)) != 0 ||
		    (rc = agent_expect(r, a, OP_VFORK, &res)) != 0)
			return rc;
	}
	/* the caller runs again: is its child alive?  (Its new name comes a
	 * moment after the caller is let go: read it once cat sleeps.) */
	obs_sample(r, L->vw, NULL, NULL);
	alive = !L->vw->gone && L->vw->state != 'Z' && L->vw->state != 'X';
	if ((rc = obs_await(r, L->cw, "S", "resumed at its child's exec; "
			    "waits in read(2) for a command")) != 0 ||
	    (rc = obs_await(r, L->vw, "S", "runs cat now, blocked in read(2) "
			    "on its stdin")) != 0)
		return rc;
	snprintf(comm, sizeof(comm), "%s", L->vw->st.comm);
	emit_form(r, "resume", alive ? NULL : "gone",
		  FIELDS(F_PID("pid", L->cw->pid), F_PID("child", L->vw->pid),
			 F_PID("returned", res.v[0]),
			 F_CHAR("while_child_ran", cstate),
			 F_BOOL("child_alive", alive),
			 F_STR("child_comm", comm),
			 F_TEXT("role", L->cw->role)));
	claim(r, "vfork-exec-resumes", alive && cstate == 'D' &&
	      strcmp(comm, "cat") == 0 ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_CHAR("state", cstate), F_BOOL("child_alive", alive),
		     F_STR("comm", comm)));
	if (!alive || res.v[0] != L->vw->pid || strcmp(comm, "cat") != 0)
		return pl_fail(r, "expected the caller to resume at the exec, "
			       "with its child alive as cat; clone returned "
			       "%lld, the child is %c, %s", (long long)res.v[0],
			       L->vw->state, comm);
	return 0;
}

static int stage_eof(struct run *r)
{
	struct execlab *L = run_state(r);
	struct wstatus ws;
	struct agent_msg m;
	int rc, status;

	close_fd(&L->vfeed);
	if ((rc = obs_await(r, L->vw, "Z", "cat read EOF and exited; its "
			    "parent has not waited yet")) != 0 ||
	    (rc = agent_do(r, L->caller, OP_VREAP, 0, &m)) != 0)
		return rc;
	wstatus_decode((int)m.v[1], &ws);
	emit_wstatus_by(r, (pid_t)m.v[0], L->vw->role, "waitpid", L->cw->pid,
			&ws);
	if ((rc = obs_await(r, L->vw, "X", "reaped by the caller: its /proc "
			    "entry is gone")) != 0)
		return rc;
	agent_close(L->caller);
	if (pl_waitpid(r, L->cw->pid, "caller", &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, L->cw, "X", "reaped by proclab: its /proc entry "
			 "is gone");
}

static const struct sentence exec_sentences[] = {
	/* pid, when, count, fds (fd, target, cloexec; text only: flag,
	 * what); text only: role */
	{ "fds", NULL, "{role} {pid} holds {count} open file {when} the "
	  "exec:{fds}", "{role} {pid} holds {count} open files {when} the "
	  "exec:{fds}", "count" },
	/* pid, when, caught, ignored, blocked, sigcgt, sigign, sigblk */
	{ "signals", NULL, "{role} {pid} {when} the exec: catches {caught}, "
	  "ignores {ignored}, blocks {blocked}", NULL, NULL },
	/* pid, path, errno, error, getpid, getppid, comm, unchanged, fds,
	 * watch_open, answers; text only: role, message */
	{ "exec_failed", NULL, "execve(\"{path}\") returned -1, {error} "
	  "({message}): {role} {pid} runs on in the old program (comm {comm}, "
	  "getpid() {getpid}, the same {fds} fds, the exec watch still open)",
	  NULL, NULL },
	{ "exec_failed", "changed", "execve(\"{path}\") returned -1, {error} "
	  "({message}), yet {role} {pid} changed: comm {comm}, {fds} fds",
	  NULL, NULL },
	/* pid_before, pid_after, ppid_*, comm_*, exe_*, cmdline_*, vmrss_*,
	 * vmsize_*, same_pid; text only: role */
	{ "exec", NULL, "execve() succeeded (the exec watch read EOF): {role} "
	  "{pid_after} now runs {comm_after} ({exe_after})", NULL, NULL },
	/* pid, what, before, after, verdict */
	{ "compare", NULL, "{what:-10} {before} -> {after}: {verdict}", NULL,
	  NULL },
	/* pid, sent, echoed, comm; text only: role */
	{ "echo", NULL, "{comm} {pid} echoed {echoed} of the {sent} bytes "
	  "proclab wrote to its stdin: the new program uses the fds it kept",
	  NULL, NULL },
	/* pid, fd, target, cloexec, open_after; text only: role */
	{ "fd_fate", NULL, "fd {fd} ({target}, no close-on-exec): still open "
	  "after the exec", NULL, NULL },
	{ "fd_fate", "closed", "fd {fd} ({target}, close-on-exec): closed by "
	  "the exec", NULL, NULL },
	/* pid, before, after, kept, closed, against_flag; text only: role */
	{ "fd_summary", NULL, "{before} fds before, {after} after: {kept} "
	  "kept, {closed} closed, {against_flag} against their flag", NULL,
	  NULL },
	/* pid, signal, before, after; text only: role */
	{ "signal_fate", NULL, "{signal}: before the exec {before}; after it "
	  "{after}", NULL, NULL },
	/* pid, signal, state, pending; text only: role, state_name */
	{ "sent", NULL, "kill({pid}, {signal}): {role} stays {state} "
	  "({state_name}); nothing pending", NULL, NULL },
	{ "sent", "pending", "kill({pid}, {signal}): {role} stays {state} "
	  "({state_name}); the signal waits, pending (ShdPnd)", NULL, NULL },
	/* pid, child, returned, while_child_slept, child_alive, child_comm;
	 * text only: role */
	{ "resume", NULL, "{role} {pid} resumed: clone() returned {returned}, "
	  "while its child, now {child_comm}, lives on", NULL, NULL },
	{ "resume", "gone", "{role} {pid} resumed: clone() returned "
	  "{returned}; its child ({child_comm}) is gone", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage exec_stages[] = {
	{ "fork", "proclab forks the child; it writes {touch} MiB and waits "
	  "for commands", stage_fork, NULL, NULL, NULL },
	{ "prepare", "the child opens fd 3 without close-on-exec and fd 4 "
	  "with it; catches SIGUSR1, ignores SIGHUP, blocks SIGUSR2",
	  stage_prepare, NULL, NULL, NULL },
	{ "enoent", "the child spins, then execs a program that does not "
	  "exist",
	  stage_enoent, NULL, NULL, NULL },
	{ "exec", "the child spins, then execs cat: the same process, a new "
	  "program",
	  stage_exec, NULL, NULL, NULL },
	{ "fds", "which open files crossed the exec", stage_fds, NULL, NULL,
	  NULL },
	{ "signals", "which signal dispositions crossed the exec; then "
	  "SIGHUP, SIGUSR2 and SIGUSR1 to cat", stage_signals, NULL, NULL,
	  NULL },
	{ "vfork", "a caller calls clone(CLONE_VM|CLONE_VFORK); its child "
	  "runs, then execs cat", stage_vfork, NULL, NULL, NULL },
	{ "end", "cat reads EOF and exits; the caller reaps it, then exits",
	  stage_eof, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

static void exec_cleanup(struct run *r)
{
	struct execlab *L = run_state(r);

	close_fd(&L->feed);
	close_fd(&L->echo);
	close_fd(&L->watch);
	close_fd(&L->vfeed);
}

static int exec_setup(struct run *r)
{
	static const char *const where[] = { "/bin/cat", "/usr/bin/cat" };
	struct execlab *L = run_state(r);
	const struct agent_config cfg = { .ops = exec_ops, .data = &L->conf };

	L->feed = L->echo = L->watch = L->vfeed = -1;
	run_on_cleanup(r, exec_cleanup);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0) {
			snprintf(L->conf.exe, sizeof(L->conf.exe), "%s",
				 where[i]);
			return agent_init(r, &cfg);
		}
	return pl_unavailable(r, "no cat to exec in /bin or /usr/bin");
}

/* Refuse more memory for --touch than this machine can spare. */
static int exec_prepare(struct run *r)
{
	return opt_mib_fits(r, "touch");
}

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary exec_vary[] = {
	{ "touch", 8, 64 },
	{ NULL, 0, 0 },
};

const struct lab lab_exec = {
	.name = "exec",
	.summary = "fork, then exec: same pid, new program; what crosses",
	.description =
		"proclab forks the child, which writes --touch MiB, opens one "
		"file with\nclose-on-exec and one without, catches SIGUSR1, "
		"ignores SIGHUP and blocks\nSIGUSR2.  An exec of a missing "
		"file returns ENOENT and the child runs on;\nan exec of cat "
		"keeps the pid and parent and replaces comm, exe, cmdline\nand "
		"the memory.  /proc shows which fds and signal dispositions "
		"crossed.\nLast, a vfork caller stays D until its child "
		"execs, not until it exits.",
	.options = exec_options,
	.run = exec_setup,
	.prepare = exec_prepare,
	.sentences = exec_sentences,
	.stages = exec_stages,
	.state_size = sizeof(struct execlab),
	.vary = exec_vary,
};
