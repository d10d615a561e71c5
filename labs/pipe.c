/* pipe.c - the shell's `ls | wc -l` done by hand, and what pipes and
 * FIFOs do at their edges: full, without a reader, without a writer.
 *
 * A "shell" agent calls pipe(), forks two children (agent_fork), each of
 * which puts its end of the pipe on stdin or stdout with dup2(), closes
 * the pipe's own fds and execs: wc -l reads, ls writes.  The shell
 * forgets to close its write end, so wc waits on after ls has exited,
 * until the shell closes it.  Then: a writer fills a pipe nobody reads
 * and blocks (S) after exactly F_GETPIPE_SZ bytes; a writer whose pipe
 * has no reader dies of SIGPIPE, or gets EPIPE with SIGPIPE ignored; a
 * FIFO in a private directory: open() for reading blocks until a writer
 * opens it, and what its reader sees after the writer closes.
 *
 * Stages (pipe_stages[]): pipe -> fork -> exec-wc -> exec-ls -> close ->
 * full -> sigpipe -> epipe -> fifo-open -> fifo-write -> fifo-eof ->
 * fifo-again.  The programs are ls and wc from /bin or /usr/bin (exit 3
 * without them).  The FIFO's directory comes from run_mkdtemp(): removed
 * at the end (run_on_cleanup) and, if proclab is killed with SIGKILL, by
 * the engine's janitor.  Every fd is read from /proc/PID/fd through the observer
 * (obs_fd_link), every byte count is what a call returned in an agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

/* --bytes: what the FIFO's writer (and a writer with no reader) writes
 * each time; at most op_write's text, and what op_read reads at once */
#define FIFO_BYTES_MAX 32

static const struct lab_option pipe_options[] = {
	{ "bytes", "N", 1, FIFO_BYTES_MAX, 8,
	  "bytes the FIFO's writer, and a writer with no reader, write each "
	  "time" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static int fifo_bytes(const struct run *r)
{
	return (int)opt_val(r, "bytes");
}

#define EOF_READS 3             /* reads after the writer closed */

/* ---- the lab's operations (async-signal-safe code only) --------------- */

enum {
	OP_PIPE = AGENT_OP_LAB, /* pipe(); v0 1: and wc's output pipe;
				 * answer {read fd, write fd, F_GETPIPE_SZ,
				 * mmap's errno (0: it mapped)} */
	OP_PLUMB,               /* a child: v0 0 the reader, 1 the writer:
				 * dup2 its end, close every pipe fd */
	OP_EXEC,                /* v0 0: exec wc -l, 1: exec ls DIR */
	OP_CLOSE,               /* close(v0); answer {rc, errno} */
	OP_TIDY,                /* the shell: close the pipe's read end and
				 * wc's output's write end; {rc, errno} */
	OP_COLLECT,             /* the shell: read wc's output to EOF;
				 * answer {lines, bytes} */
	OP_FILL,                /* write PIPE_BUF-byte blocks to fd v0
				 * forever: REP_FILLED after each */
	OP_WRITE,               /* write v1 bytes to fd v0; {ret, errno} */
	OP_SIGPIPE,             /* v0 1: ignore SIGPIPE, 0: default */
	OP_OPEN,                /* open the FIFO with flags v0; {fd, errno} */
	OP_READ,                /* read up to 64 bytes of fd v0; {ret,
				 * errno} */
	REP_FILLED = AGENT_REP_LAB, /* {bytes so far, writes} */
};

/* Set before the first agent starts; each agent works on its copy. */
struct pipeconf {
	char dir[128];          /* the private directory, "" once removed */
	char fifo[160];         /* dir/fifo */
	char ls[32], wc[32];    /* the programs' paths */
	int p[2];               /* the pipe of the agent that made it */
	int out[2];             /* the shell's: wc's stdout, -1 if none */
};

static int op_pipe(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct pipeconf *k = c->data;
	void *m;

	if (pipe(k->p) < 0)
		agent_fail(c, AGENT_CALL_PIPE);
	k->out[0] = k->out[1] = -1;
	if (arg[0] == 1 && pipe(k->out) < 0)
		agent_fail(c, AGENT_CALL_PIPE);
	out[0] = k->p[0];
	out[1] = k->p[1];
	out[2] = fcntl(k->p[0], F_GETPIPE_SZ);
	if (out[2] < 0)
		agent_fail(c, AGENT_CALL_SETFL);
	/* the article's claim: shell pipes move data through mmap */
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, k->p[0], 0);
	out[3] = m == MAP_FAILED ? errno : 0;
	if (m != MAP_FAILED)
		munmap(m, 4096);
	return AGENT_OK;
}

static void close_all(const struct pipeconf *k)
{
	close(k->p[0]);
	close(k->p[1]);
	if (k->out[0] >= 0) {
		close(k->out[0]);
		close(k->out[1]);
	}
}

static int op_plumb(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	const struct pipeconf *k = c->data;

	(void)out;
	if (arg[0] == 0) {
		if (dup2(k->p[0], 0) < 0 || dup2(k->out[1], 1) < 0)
			agent_fail(c, AGENT_CALL_DUP2);
	} else if (dup2(k->p[1], 1) < 0) {
		agent_fail(c, AGENT_CALL_DUP2);
	}
	close_all(k);
	return AGENT_OK;
}

/* Only 0, 1 and 2 cross the exec; the report channel stays open until the
 * exec succeeds, for a failure to be reported. */
static int op_exec(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	const struct pipeconf *k = c->data;
	char *const wc[] = { "wc", "-l", NULL };
	char *const ls[] = { "ls", (char *)k->dir, NULL };
	extern char **environ;

	(void)out;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_CLOSE_RANGE);
	if (arg[0] == 0)
		execve(k->wc, wc, environ);
	else
		execve(k->ls, ls, environ);
	agent_fail(c, AGENT_CALL_EXECVE);
}

static int op_close(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	(void)c;
	out[0] = close((int)arg[0]);
	out[1] = out[0] < 0 ? errno : 0;
	return AGENT_OK;
}

static int op_tidy(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	const struct pipeconf *k = c->data;

	(void)arg;
	out[0] = close(k->p[0]) < 0 || close(k->out[1]) < 0 ? -1 : 0;
	out[1] = out[0] < 0 ? errno : 0;
	return AGENT_OK;
}

static int op_collect(struct agent_ctx *c, const int64_t arg[],
		      int64_t out[])
{
	const struct pipeconf *k = c->data;
	char buf[64];
	size_t got = 0;
	long long lines = -1;

	(void)arg;
	for (;;) {
		ssize_t n = read(k->out[0], buf + got, sizeof(buf) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			agent_fail(c, AGENT_CALL_OPEN);
		if (n == 0 || (got += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	/* wc -l prints the count, perhaps after spaces */
	for (size_t i = 0; i < got; i++) {
		if (buf[i] >= '0' && buf[i] <= '9')
			lines = (lines < 0 ? 0 : lines * 10) + (buf[i] - '0');
		else if (lines >= 0 || buf[i] != ' ')
			break;
	}
	out[0] = lines;
	out[1] = (int64_t)got;
	return AGENT_OK;
}

static int op_fill(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	static const char block[PIPE_BUF];
	int64_t total = 0, writes = 0;

	(void)out;
	for (;;) {
		/* PIPE_BUF bytes at once: all of them or none, never part */
		ssize_t n = write((int)arg[0], block, sizeof(block));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			agent_fail(c, AGENT_CALL_DUP);
		total += n;
		writes++;
		agent_say(c, REP_FILLED, total, writes, 0, 0);
	}
}

static int op_write(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	static const char text[] = "proclab\nproclab\nproclab\nproclab\n";
	size_t n = arg[1] > 0 && (size_t)arg[1] < sizeof(text)
		   ? (size_t)arg[1] : 1;

	(void)c;
	out[0] = write((int)arg[0], text, n);
	out[1] = out[0] < 0 ? errno : 0;
	return AGENT_OK;
}

static int op_sigpipe(struct agent_ctx *c, const int64_t arg[],
		      int64_t out[])
{
	struct sigaction sa = { .sa_handler = arg[0] ? SIG_IGN : SIG_DFL };

	(void)out;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		agent_fail(c, AGENT_CALL_SETFL);
	return AGENT_OK;
}

static int op_open(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	const struct pipeconf *k = c->data;

	out[0] = open(k->fifo, (int)arg[0] | O_CLOEXEC);
	out[1] = out[0] < 0 ? errno : 0;
	return AGENT_OK;
}

static int op_read(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	char buf[64];

	(void)c;
	out[0] = read((int)arg[0], buf, sizeof(buf));
	out[1] = out[0] < 0 ? errno : 0;
	return AGENT_OK;
}

static const struct agent_op_def pipe_ops[] = {
	{ OP_PIPE, "pipe", op_pipe },
	{ OP_PLUMB, "plumb", op_plumb },
	{ OP_EXEC, "exec", op_exec },
	{ OP_CLOSE, "close", op_close },
	{ OP_TIDY, "tidy", op_tidy },
	{ OP_COLLECT, "collect", op_collect },
	{ OP_FILL, "fill", op_fill },
	{ OP_WRITE, "write", op_write },
	{ OP_SIGPIPE, "sigpipe", op_sigpipe },
	{ OP_OPEN, "open", op_open },
	{ OP_READ, "read", op_read },
	{ REP_FILLED, "filled", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side --------------------------------------------------- */

/* What one run keeps between its stages (run_state()). */
struct pipelab {
	struct pipeconf conf;
	struct agent *shell, *reader, *writer, *fifo_r, *fifo_w;
	struct watched *ws, *wr, *ww, *wfr;
	int rfd, wfd;           /* the shell's pipe fds */
	long long capacity;
	unsigned long long inode;
	int fifo_rfd, fifo_wfd; /* in the FIFO's reader and writer */
	long long eof_reads;    /* reads that returned 0 */
};

static int expect_call(struct run *r, const char *what, int64_t rc,
		       int64_t err)
{
	if (rc >= 0)
		return PL_EXIT_OK;
	return pl_fail(r, "%s failed: %s", what, strerror((int)err));
}

/* Read fd of w from /proc and report it: `want` is the pipe's inode (0:
 * any).  Returns the inode, 0 when it is not a pipe. */
static unsigned long long show_fd(struct run *r, struct watched *w, int fd,
				  unsigned long long want, const char *what)
{
	char link[128];
	unsigned long long ino = 0;
	int rc = obs_fd_link(r, w, fd, link, sizeof(link), &ino);

	emit_form(r, "fd", rc != PROC_OK ? "unreadable"
			   : ino == 0 ? "other" : want == 0 ? "new"
			   : ino == want ? NULL : "another",
		  FIELDS(F_PID("pid", w->pid), F_INT("fd", fd),
			 F_MEAS("link", rc == PROC_OK ? link : NULL),
			 ino ? F_MEAS("inode", (long long)ino) : F_NULL("inode"),
			 F_BOOL("same", want != 0 && ino == want),
			 F_TEXT("role", w->role), F_TEXT("what", _(what))));
	return ino;
}

static struct watched *watch(struct run *r, struct agent *a)
{
	return obs_add(r, a->pid, a->pidfd, a->role);
}

static int stage_pipe(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	unsigned long long w_ino;
	int rc;

	if ((L->shell = agent_new(r, "shell")) == NULL ||
	    (L->reader = agent_plan_child(r, L->shell, "reader")) == NULL ||
	    (L->writer = agent_plan_child(r, L->shell, "writer")) == NULL)
		return PL_EXIT_FAIL;
	/* fork(2) passes the shell's pipe on to them */
	agent_inherits(L->reader);
	agent_inherits(L->writer);
	if ((rc = agent_start(r, L->shell, NULL)) != 0)
		return rc;
	if ((L->ws = watch(r, L->shell)) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, L->shell, OP_PIPE, 1, &m)) != 0)
		return rc;
	L->rfd = (int)m.v[0];
	L->wfd = (int)m.v[1];
	L->capacity = m.v[2];
	L->inode = show_fd(r, L->ws, L->rfd, 0, N_("the read end"));
	w_ino = show_fd(r, L->ws, L->wfd, L->inode, N_("the write end"));
	if (L->inode == 0 || w_ino != L->inode)
		return pl_fail(r, "expected both ends of the shell's pipe to "
			       "show one pipe:[N] in /proc/%d/fd",
			       (int)L->shell->pid);
	emit(r, "pipe", FIELDS(F_TEXT("role", "shell"),
			       F_PID("pid", L->shell->pid),
			       F_MEAS("inode", (long long)L->inode),
			       F_INT("capacity", L->capacity),
			       F_INT("read_fd", L->rfd),
			       F_INT("write_fd", L->wfd)));
	emit_form(r, "mmap", m.v[3] ? NULL : "mapped",
		  FIELDS(F_TEXT("role", "shell"), F_PID("pid", L->shell->pid),
			 F_INT("errno", m.v[3]),
			 F_STR("error", m.v[3] ? strerrorname_np((int)m.v[3])
					       : NULL),
			 F_TEXT("message", m.v[3] ? strerror((int)m.v[3])
						  : "")));
	claim(r, "pipe-via-mmap", m.v[3] ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_STR("mmap", m.v[3] ? strerrorname_np((int)m.v[3])
					  : "mapped"),
		     F_MEAS("inode", (long long)L->inode),
		     F_INT("capacity", L->capacity)));
	return PL_EXIT_OK;
}

static int stage_fork(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	int rc;

	if ((rc = agent_fork(r, L->shell, L->reader, NULL, NULL)) != 0 ||
	    (rc = agent_fork(r, L->shell, L->writer, NULL, NULL)) != 0)
		return rc;
	if ((L->wr = watch(r, L->reader)) == NULL ||
	    (L->ww = watch(r, L->writer)) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, L->reader, OP_PLUMB, 0, NULL)) != 0 ||
	    (rc = agent_do(r, L->writer, OP_PLUMB, 1, NULL)) != 0)
		return rc;
	/* the shell closes what it does not need, and forgets its write
	 * end */
	if ((rc = agent_do(r, L->shell, OP_TIDY, 0, &m)) != 0 ||
	    (rc = expect_call(r, "the shell's close", m.v[0], m.v[1])) != 0)
		return rc;
	emit(r, "plumbed", FIELDS(F_TEXT("srole", "shell"),
				  F_PID("shell", L->shell->pid),
				  F_TEXT("rrole", "reader"),
				  F_PID("reader", L->reader->pid),
				  F_TEXT("wrole", "writer"),
				  F_PID("writer", L->writer->pid)));
	if (show_fd(r, L->wr, 0, L->inode, N_("stdin")) != L->inode ||
	    show_fd(r, L->ww, 1, L->inode, N_("stdout")) != L->inode)
		return pl_fail(r, "expected the reader's stdin and the "
			       "writer's stdout to be the shell's pipe");
	show_fd(r, L->wr, 1, L->inode, N_("stdout, for the shell to read"));
	show_fd(r, L->ws, L->wfd, L->inode, N_("the write end it forgot"));
	return PL_EXIT_OK;
}

/* obs_await_exec() failed with rc: a failed execve has been reported by
 * the agent (an `error` event, exit 3); else rc. */
static int exec_failed(struct run *r, struct agent *a, int rc)
{
	bool heard;
	int rc2 = agent_take(r, a, AGENT_ANY, NULL, &heard);

	return rc2 != 0 ? rc2 : rc;
}

static int stage_exec_wc(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct probe p;
	int rc;

	/* spinning (R), so that its S is wc's, not the agent's */
	if ((rc = agent_do(r, L->reader, AGENT_OP_SPIN, 0, NULL)) != 0)
		return rc;
	agent_ending(L->reader);
	if ((rc = agent_send(r, L->reader, OP_EXEC,
			     (const int64_t[AGENT_ARGS]){ 0 })) != 0)
		return rc;
	if ((rc = obs_await_exec(r, L->wr, "wc", "S", "runs wc now: it waits "
				 "in read(2) on the empty pipe")) != 0)
		return exec_failed(r, L->reader, rc);
	obs_probe(r, L->wr, &p);
	emit_form(r, "wchan", p.wchan[0] ? NULL : "unreadable",
		  FIELDS(F_PID("pid", L->wr->pid), F_MEAS("wchan", p.wchan),
			 F_TEXT("role", L->wr->role)));
	show_fd(r, L->wr, 0, L->inode, N_("stdin, after the exec"));
	return PL_EXIT_OK;
}

/* The shell reaps child a (its watched w) and reports the status. */
static int shell_reap(struct run *r, struct agent *a, struct watched *w,
		      struct wstatus *ws)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	int rc;

	if ((rc = agent_do(r, L->shell, AGENT_OP_REAP, a->id, &m)) != 0)
		return rc;
	if (m.v[2] != 0)
		return pl_fail(r, "expected the shell to reap %s %d; waitpid "
			       "failed: %s", a->role, (int)a->pid,
			       strerror((int)m.v[2]));
	wstatus_decode((int)m.v[1], ws);
	emit_wstatus_by(r, a->pid, a->role, "waitpid", L->shell->pid, ws);
	return obs_await(r, w, "X", "reaped by the shell: its /proc entry is "
			 "gone");
}

static int stage_exec_ls(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct wstatus ws;
	int rc;

	if ((rc = agent_do(r, L->writer, AGENT_OP_SPIN, 0, NULL)) != 0)
		return rc;
	agent_ending(L->writer);
	if ((rc = agent_send(r, L->writer, OP_EXEC,
			     (const int64_t[AGENT_ARGS]){ 1 })) != 0)
		return rc;
	if ((rc = obs_await_exec(r, L->ww, "ls", "Z", "ran ls, wrote the "
				 "listing into the pipe and exited; the shell "
				 "has not waited")) != 0)
		return exec_failed(r, L->writer, rc);
	if ((rc = shell_reap(r, L->writer, L->ww, &ws)) != 0)
		return rc;
	if (!ws.exited || ws.code != 0)
		return pl_fail(r, "expected ls to exit with code 0");
	/* wc has read the listing and waits again: a writer is left */
	if ((rc = obs_settle(r, L->wr, "S")) != 0)
		return rc;
	emit(r, "forgotten", FIELDS(F_TEXT("role", L->wr->role),
				    F_PID("pid", L->wr->pid),
				    F_STR("comm", L->wr->st.comm),
				    F_CHAR("state", L->wr->state),
				    F_TEXT("hrole", L->ws->role),
				    F_PID("holder", L->shell->pid),
				    F_INT("fd", L->wfd),
				    F_TEXT("state_name",
					   pl_state_name(L->wr->state))));
	return PL_EXIT_OK;
}

static int stage_close(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	struct wstatus ws;
	int rc;
	bool same;

	if ((rc = agent_do(r, L->shell, OP_CLOSE, L->wfd, &m)) != 0 ||
	    (rc = expect_call(r, "the shell's close", m.v[0], m.v[1])) != 0)
		return rc;
	if ((rc = obs_await(r, L->wr, "Z", "read end-of-file, printed its "
			    "count and exited")) != 0)
		return rc;
	if ((rc = agent_do(r, L->shell, OP_COLLECT, 0, &m)) != 0)
		return rc;
	emit(r, "count", FIELDS(F_TEXT("role", L->wr->role),
				F_PID("pid", L->wr->pid),
				F_INT("lines", m.v[0]), F_INT("bytes", m.v[1]),
				F_INT("entries", 1)));
	if ((rc = shell_reap(r, L->reader, L->wr, &ws)) != 0)
		return rc;
	if (m.v[0] != 1)
		return pl_fail(r, "expected wc -l to count the 1 entry of the "
			       "directory; it printed %lld", (long long)m.v[0]);
	same = L->wr->st.ppid == L->shell->pid &&
	       L->ww->st.ppid == L->shell->pid;
	claim(r, "pipe-shell-children", same ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("shell", L->shell->pid),
		     F_PID("ls_parent", L->ww->st.ppid),
		     F_PID("wc_parent", L->wr->st.ppid),
		     F_INT("lines", m.v[0])));
	return PL_EXIT_OK;
}

static int stage_full(struct run *r)
{
	struct agent_msg m, last = { 0 };
	struct agent *a;
	struct watched *w;
	struct probe p;
	long long cap;
	bool heard = true;
	int rc;

	if ((a = agent_spawn(r, "filler", &rc)) == NULL)
		return rc;
	if ((w = watch(r, a)) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, a, OP_PIPE, 0, &m)) != 0)
		return rc;
	cap = m.v[2];
	if ((rc = agent_do(r, a, AGENT_OP_SPIN, 0, NULL)) != 0 ||
	    (rc = agent_send(r, a, OP_FILL,
			     (const int64_t[AGENT_ARGS]){ m.v[1] })) != 0)
		return rc;
	if ((rc = obs_await(r, w, "S", "blocked in write(2): the pipe is "
			    "full and nobody reads it")) != 0)
		return rc;
	/* every report was sent before the write that blocks */
	while (heard) {
		if ((rc = agent_take(r, a, REP_FILLED, &m, &heard)) != 0)
			return rc;
		if (heard)
			last = m;
	}
	obs_probe(r, w, &p);
	emit(r, "blocked", FIELDS(F_TEXT("role", a->role),
				  F_PID("pid", a->pid),
				  F_INT("bytes_written", last.v[0]),
				  F_INT("writes", last.v[1]),
				  F_INT("capacity", cap),
				  F_MEAS("wchan", p.wchan),
				  F_INT("block", PIPE_BUF)));
	if (last.v[0] != cap)
		return pl_fail(r, "expected the filler to block after %lld "
			       "bytes (F_GETPIPE_SZ); it wrote %lld", cap,
			       (long long)last.v[0]);
	/* it would wait forever: the teardown ends it */
	return PL_EXIT_OK;
}

/* An agent with a pipe whose read end it closed: no reader is left. */
static int readerless(struct run *r, const char *role, bool ignore,
		      struct agent **ap, struct watched **wp, int *wfd)
{
	struct agent_msg m;
	int rc;

	if ((*ap = agent_spawn(r, role, &rc)) == NULL)
		return rc;
	if ((*wp = watch(r, *ap)) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, *ap, OP_SIGPIPE, ignore, NULL)) != 0 ||
	    (rc = agent_do(r, *ap, OP_PIPE, 0, &m)) != 0)
		return rc;
	*wfd = (int)m.v[1];
	if ((rc = agent_do(r, *ap, OP_CLOSE, m.v[0], &m)) != 0 ||
	    (rc = expect_call(r, "close", m.v[0], m.v[1])) != 0)
		return rc;
	return obs_await(r, *wp, "S", "holds the write end of a pipe whose "
			 "read end it closed: no reader is left");
}

static int stage_sigpipe(struct run *r)
{
	struct agent *a;
	struct watched *w;
	struct wstatus ws;
	int rc, wfd, status;

	if ((rc = readerless(r, "sigpipe", false, &a, &w, &wfd)) != 0)
		return rc;
	agent_ending(a);
	if ((rc = agent_send(r, a, OP_WRITE, (const int64_t[AGENT_ARGS]){
				     wfd, fifo_bytes(r) })))
		return rc;
	if (pl_waitpid(r, a->pid, a->role, &status) < 0)
		return PL_EXIT_FAIL;
	wstatus_decode(status, &ws);
	if ((rc = obs_await(r, w, "X", "reaped: its /proc entry is gone")))
		return rc;
	if (!ws.signaled || ws.sig != SIGPIPE)
		return pl_fail(r, "expected the writer to die of SIGPIPE; "
			       "status 0x%04x", status);
	return PL_EXIT_OK;
}

static int stage_epipe(struct run *r)
{
	struct agent *a;
	struct watched *w;
	struct agent_msg m;
	int rc, wfd;

	if ((rc = readerless(r, "epipe", true, &a, &w, &wfd)) != 0)
		return rc;
	if ((rc = agent_do_args(r, a, OP_WRITE, (const int64_t[AGENT_ARGS]){
					wfd, fifo_bytes(r) }, &m)) != 0)
		return rc;
	emit_form(r, "write", m.v[0] < 0 ? "failed" : NULL,
		  FIELDS(F_TEXT("role", a->role), F_PID("pid", a->pid),
			 F_INT("ret", m.v[0]),
			 F_INT("errno", m.v[1]),
			 F_STR("error", m.v[1] ? strerrorname_np((int)m.v[1])
					       : NULL),
			 F_TEXT("message", m.v[1] ? strerror((int)m.v[1])
						  : "")));
	if (m.v[0] != -1 || m.v[1] != EPIPE)
		return pl_fail(r, "expected write(2) to fail with EPIPE");
	obs_sample(r, w, "S", NULL);
	if (w->state == 'X' || w->state == 'Z')
		return pl_fail(r, "expected the writer to live on with "
			       "SIGPIPE ignored; /proc showed %c", w->state);
	return PL_EXIT_OK;
}

static int stage_fifo_open(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct probe p;
	int rc;

	emit(r, "fifo", FIELDS(F_MEAS("path", L->conf.fifo)));
	if ((L->fifo_r = agent_spawn(r, "fifo-reader", &rc)) == NULL)
		return rc;
	if ((L->wfr = watch(r, L->fifo_r)) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, L->fifo_r, AGENT_OP_SPIN, 0, NULL)) != 0 ||
	    (rc = agent_send(r, L->fifo_r, OP_OPEN,
			     (const int64_t[AGENT_ARGS]){ O_RDONLY })) != 0)
		return rc;
	if ((rc = obs_await(r, L->wfr, "S", "blocked in open(2): no writer "
			    "has the FIFO open yet")) != 0)
		return rc;
	obs_probe(r, L->wfr, &p);
	emit_form(r, "wchan", p.wchan[0] ? NULL : "unreadable",
		  FIELDS(F_PID("pid", L->wfr->pid), F_MEAS("wchan", p.wchan),
			 F_TEXT("role", L->wfr->role)));
	return PL_EXIT_OK;
}

/* The FIFO's reader reads once; reported. */
static int fifo_read(struct run *r, long long *got)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	int rc;

	if ((rc = agent_do(r, L->fifo_r, OP_READ, L->fifo_rfd, &m)) != 0 ||
	    (rc = expect_call(r, "the reader's read", m.v[0], m.v[1])) != 0)
		return rc;
	*got = m.v[0];
	emit_form(r, "read", m.v[0] == 0 ? "eof" : NULL,
		  FIELDS(F_TEXT("role", L->wfr->role),
			 F_PID("pid", L->fifo_r->pid), F_INT("fd", L->fifo_rfd),
			 F_INT("ret", m.v[0])));
	return PL_EXIT_OK;
}

/* The FIFO's writer opens it (the reader is there: no wait) and writes. */
static int fifo_write(struct run *r, struct agent_msg *m)
{
	struct pipelab *L = run_state(r);
	int rc;

	if ((rc = agent_do(r, L->fifo_w, OP_OPEN, O_WRONLY, m)) != 0 ||
	    (rc = expect_call(r, "the writer's open", m->v[0], m->v[1])))
		return rc;
	L->fifo_wfd = (int)m->v[0];
	if ((rc = agent_do_args(r, L->fifo_w, OP_WRITE,
				(const int64_t[AGENT_ARGS]){ L->fifo_wfd,
							     fifo_bytes(r) },
				m)) != 0 ||
	    (rc = expect_call(r, "the writer's write", m->v[0], m->v[1])))
		return rc;
	emit(r, "write", FIELDS(F_TEXT("role", "fifo-writer"),
				F_PID("pid", L->fifo_w->pid),
				F_INT("ret", m->v[0]), F_INT("errno", 0),
				F_NULL("error"), F_TEXT("message", "")));
	return PL_EXIT_OK;
}

static int stage_fifo_write(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	long long got;
	int rc;

	if ((L->fifo_w = agent_spawn(r, "fifo-writer", &rc)) == NULL)
		return rc;
	if ((rc = agent_do(r, L->fifo_w, OP_OPEN, O_WRONLY, &m)) != 0 ||
	    (rc = expect_call(r, "the writer's open", m.v[0], m.v[1])))
		return rc;
	L->fifo_wfd = (int)m.v[0];
	/* the reader's open returns now */
	if ((rc = agent_expect(r, L->fifo_r, OP_OPEN, &m)) != 0 ||
	    (rc = expect_call(r, "the reader's open", m.v[0], m.v[1])))
		return rc;
	L->fifo_rfd = (int)m.v[0];
	emit(r, "opened", FIELDS(F_TEXT("role", L->wfr->role),
				 F_PID("pid", L->fifo_r->pid),
				 F_TEXT("wrole", "fifo-writer"),
				 F_PID("writer", L->fifo_w->pid),
				 F_INT("fd", L->fifo_rfd)));
	if ((rc = obs_settle(r, L->wfr, "S")) != 0)
		return rc;
	if ((rc = agent_do_args(r, L->fifo_w, OP_WRITE,
				(const int64_t[AGENT_ARGS]){ L->fifo_wfd,
							     fifo_bytes(r) },
				&m)) != 0 ||
	    (rc = expect_call(r, "the writer's write", m.v[0], m.v[1])))
		return rc;
	emit(r, "write", FIELDS(F_TEXT("role", "fifo-writer"),
				F_PID("pid", L->fifo_w->pid),
				F_INT("ret", m.v[0]), F_INT("errno", 0),
				F_NULL("error"), F_TEXT("message", "")));
	if ((rc = fifo_read(r, &got)) != 0)
		return rc;
	if (got != fifo_bytes(r))
		return pl_fail(r, "expected the reader to read %d bytes; it "
			       "read %lld", fifo_bytes(r), got);
	return PL_EXIT_OK;
}

static int stage_fifo_eof(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	long long got;
	int rc;

	if ((rc = agent_do(r, L->fifo_w, OP_CLOSE, L->fifo_wfd, &m)) != 0 ||
	    (rc = expect_call(r, "the writer's close", m.v[0], m.v[1])))
		return rc;
	L->eof_reads = 0;
	for (int i = 0; i < EOF_READS; i++) {
		if ((rc = fifo_read(r, &got)) != 0)
			return rc;
		L->eof_reads += got == 0;
	}
	claim(r, "fifo-eof-repeats",
	      L->eof_reads == EOF_READS ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("eofs", L->eof_reads), F_INT("reads", EOF_READS)));
	return PL_EXIT_OK;
}

static int stage_fifo_again(struct run *r)
{
	struct pipelab *L = run_state(r);
	struct agent_msg m;
	long long got;
	int rc;

	if ((rc = fifo_write(r, &m)) != 0 || (rc = fifo_read(r, &got)) != 0)
		return rc;
	claim(r, "fifo-must-reopen",
	      got == fifo_bytes(r) ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("bytes", got), F_INT("fd", L->fifo_rfd)));
	return PL_EXIT_OK;
}

/* ---- setup and cleanup ------------------------------------------------ */

static int find(struct run *r, char *dst, size_t size, const char *name)
{
	const char *const dirs[] = { "/bin", "/usr/bin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dst, size, "%s/%s", dirs[i], name);
		if (access(dst, X_OK) == 0)
			return 0;
	}
	dst[0] = '\0';
	return pl_unavailable(r, "no %s to exec in /bin or /usr/bin", name);
}

static void pipe_cleanup(struct run *r)
{
	struct pipelab *L = run_state(r);

	if (L->conf.dir[0] == '\0')
		return;
	unlink(L->conf.fifo);
	rmdir(L->conf.dir);
	L->conf.dir[0] = '\0';
}

static int pipe_setup(struct run *r)
{
	struct pipelab *L = run_state(r);
	const struct agent_config cfg = { .ops = pipe_ops, .data = &L->conf };
	const char *tmp = getenv("TMPDIR");
	int rc;

	run_on_cleanup(r, pipe_cleanup);
	if ((rc = find(r, L->conf.ls, sizeof(L->conf.ls), "ls")) != 0 ||
	    (rc = find(r, L->conf.wc, sizeof(L->conf.wc), "wc")) != 0)
		return rc;
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(L->conf.dir, sizeof(L->conf.dir), "%s/proclab-pipe.XXXXXX",
		 tmp);
	/* removed by the engine's janitor if proclab dies without its
	 * teardown (SIGKILL), by pipe_cleanup otherwise */
	if (run_mkdtemp(r, L->conf.dir) < 0) {
		L->conf.dir[0] = '\0';
		return pl_unavailable(r, "cannot create a directory in %s: %s",
				      tmp, strerror(errno));
	}
	snprintf(L->conf.fifo, sizeof(L->conf.fifo), "%s/fifo", L->conf.dir);
	if (mkfifo(L->conf.fifo, 0600) < 0)
		return pl_unavailable(r, "cannot make the FIFO %s: %s",
				      L->conf.fifo, strerror(errno));
	return agent_init(r, &cfg);
}

static const struct sentence pipe_sentences[] = {
	{ "fd", NULL, "{role} {pid} fd {fd} ({what}) is {link}: the same "
	  "pipe", NULL, NULL },
	{ "fd", "new", "{role} {pid} fd {fd} ({what}) is {link}", NULL, NULL },
	{ "fd", "another", "{role} {pid} fd {fd} ({what}) is {link}: another "
	  "pipe", NULL, NULL },
	{ "fd", "other", "{role} {pid} fd {fd} ({what}) is {link}: not a pipe",
	  NULL, NULL },
	{ "fd", "unreadable", "{role} {pid} fd {fd} ({what}) cannot be read "
	  "in /proc", NULL, NULL },
	{ "pipe", NULL, "pipe() in {role} {pid} gave fds {read_fd} and {write_fd}: "
	  "pipe inode {inode}, F_GETPIPE_SZ {capacity} bytes", NULL, NULL },
	{ "mmap", NULL, "mmap(MAP_SHARED) of the pipe in {role} {pid} failed: "
	  "{error} ({message}); a pipe is a kernel buffer, not a mapping",
	  NULL, NULL },
	{ "mmap", "mapped", "mmap(MAP_SHARED) of the pipe in {role} {pid} "
	  "succeeded",
	  NULL, NULL },
	{ "plumbed", NULL, "{rrole} {reader} and {wrole} {writer} dup2()ed "
	  "their ends onto stdin and stdout and closed the pipe's own fds; "
	  "{srole} {shell} closed the read end and forgot its write end",
	  NULL, NULL },
	{ "wchan", NULL, "{role} {pid} sleeps in the kernel function {wchan}",
	  NULL, NULL },
	{ "wchan", "unreadable", "{role} {pid} sleeps; its wchan cannot be "
	  "read", NULL, NULL },
	{ "forgotten", NULL, "{role} {pid} ({comm}) is still {state} "
	  "({state_name}): {hrole} {holder} holds the write end, its fd {fd}, "
	  "so there is no end-of-file", NULL, NULL },
	{ "count", NULL, "{role} {pid} (wc -l) wrote {lines} ({bytes} bytes) "
	  "to the shell: the {entries} entry ls listed", NULL, NULL },
	{ "blocked", NULL, "{role} {pid} blocked after {writes} writes of {block} "
	  "bytes: {bytes_written} bytes written, F_GETPIPE_SZ {capacity}; "
	  "wchan {wchan}", NULL, NULL },
	{ "write", NULL, "write(2) in {role} {pid} returned {ret}", NULL,
	  NULL },
	{ "write", "failed", "write(2) in {role} {pid} returned {ret}: {error} "
	  "({message}); SIGPIPE is ignored, so the process lives on", NULL,
	  NULL },
	{ "fifo", NULL, "mkfifo made {path}", NULL, NULL },
	{ "opened", NULL, "open(2) in {role} {pid} returned fd {fd} once "
	  "{wrole} {writer} opened the FIFO", NULL, NULL },
	{ "read", NULL, "read(2) of fd {fd} in {role} {pid} returned {ret} "
	  "bytes",
	  NULL, NULL },
	{ "read", "eof", "read(2) of fd {fd} in {role} {pid} returned 0 at "
	  "once: end-of-file, no writer", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage pipe_stages[] = {
	{ "pipe", "the shell calls pipe(): two fds, one pipe",
	  stage_pipe, NULL, NULL, NULL },
	{ "fork", "the shell forks a reader and a writer; each dup2()s its "
	  "end onto stdin or stdout and closes the rest", stage_fork, NULL,
	  NULL, NULL },
	{ "exec-wc", "the reader execs wc -l: it waits for input",
	  stage_exec_wc, NULL, NULL, NULL },
	{ "exec-ls", "the writer execs ls: it writes the listing and exits",
	  stage_exec_ls, NULL, NULL, NULL },
	{ "close", "the shell closes its forgotten write end", stage_close,
	  NULL, NULL, NULL },
	{ "full", "a writer fills a pipe that nobody reads; it stays blocked "
	  "until proclab ends",
	  stage_full, NULL, NULL, NULL },
	{ "sigpipe", "a writer writes to a pipe with no reader",
	  stage_sigpipe, NULL, NULL, NULL },
	{ "epipe", "the same with SIGPIPE ignored", stage_epipe, NULL, NULL,
	  NULL },
	{ "fifo-open", "a reader opens a FIFO that no writer has open",
	  stage_fifo_open, NULL, NULL, NULL },
	{ "fifo-write", "a writer opens the FIFO and writes",
	  stage_fifo_write, NULL, NULL, NULL },
	{ "fifo-eof", "the writer closes; the reader reads on",
	  stage_fifo_eof, NULL, NULL, NULL },
	{ "fifo-again", "the writer opens the FIFO again; the reader reads "
	  "the same fd, not reopened", stage_fifo_again, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary pipe_vary[] = {
	{ "bytes", 2, 32 },
	{ NULL, 0, 0 },
};

const struct lab lab_pipe = {
	.name = "pipe",
	.summary = "ls | wc -l by hand: pipe, fork, dup2, exec; full pipes; FIFOs",
	.description =
		"A shell (proclab's child) calls pipe() and forks two "
		"children: each dup2()s\nits end onto stdin or stdout, closes "
		"the pipe's fds and execs, wc -l and ls.\n/proc/PID/fd shows "
		"the same pipe inode in both.  The shell forgets its write\n"
		"end: wc waits (S) after ls has exited, until the shell closes "
		"it.  Then a\nwriter fills a pipe nobody reads and blocks after "
		"F_GETPIPE_SZ bytes; a\nwriter with no reader dies of SIGPIPE, "
		"or gets EPIPE with SIGPIPE ignored;\nand a FIFO: open() for "
		"reading waits for a writer, and after the writer\ncloses, "
		"each read returns end-of-file at once.",
	.run = pipe_setup,
	.options = pipe_options,
	.vary = pipe_vary,
	.sentences = pipe_sentences,
	.stages = pipe_stages,
	.state_size = sizeof(struct pipelab),
};
