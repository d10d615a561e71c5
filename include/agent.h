/* agent.h - one way to drive a lab's processes: the child agent.
 *
 * An agent is a process a lab makes (a child of proclab, or a grandchild
 * forked by another agent) that does what it is told, using only
 * async-signal-safe calls.  Each agent reads commands from a pipe of its
 * own; every agent of a run writes its reports to ONE report channel, the
 * run's.  Commands and reports are the same fixed-size message (struct
 * agent_msg, 48 bytes, far below PIPE_BUF), so each write(2) of one
 * arrives whole even with many writers on the channel.  A report names
 * its sender (the agent's id) and its kind, with four int64 arguments.
 *
 * The answer to a command has the command's op code as its kind; other
 * kinds are AGENT_REP_* and a lab's own (>= AGENT_REP_LAB, sent with
 * agent_say()).
 *
 * Every agent, grandchildren included:
 *   - asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG) and checks
 *     that the parent did not die before the request (getppid), unless
 *     planned with agent_outlives() (an orphan); restores the signal mask
 *     and the default action of every handled signal, and takes the comm
 *     name "proclab-ROLE" (agent_set_name());
 *   - holds nothing but stdin, stdout, stderr, the report channel, its
 *     command pipe, the command pipes of the agents below it that it
 *     has not forked yet (children, their children: any depth), the
 *     fds the lab handed it (agent_give_fd()) and, planned with
 *     agent_inherits(), the fds its parent agent opened itself;
 *   - dies when its command pipe reaches EOF (proclab closed it, or
 *     proclab is gone): the lifeline, next to the parent-death signal.
 *
 * A call that fails while an agent sets up (or in an operation, through
 * agent_fail()) is reported as {which call, errno}; the agent then exits
 * with AGENT_EXIT_SETUP.  The parent turns the report into one line on
 * stderr, "proclab: LAB: the ROLE cannot set up: CALL: STRERROR", and an
 * `error` event (role, pid, call, errno, error, message), and the call
 * that was waiting returns PL_EXIT_UNAVAILABLE: the lab ends with that
 * status, never with a timeout.
 *
 * Calls below that return int return 0, or the exit status the lab ends
 * with (PL_EXIT_FAIL, PL_EXIT_UNAVAILABLE) after the message was given.
 */
#ifndef PROCLAB_AGENT_H
#define PROCLAB_AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_ARGS 4
#define AGENTS_MAX 64           /* agents in one run */
#define AGENT_SLOTS AGENTS_MAX  /* agents one agent can fork */
#define AGENT_GIVE_MAX 6        /* fds handed to one agent */
#define AGENT_QUEUE 256         /* reports held for later expects */

/* One command or one report. */
struct agent_msg {
	int32_t from;           /* report: the sender's id; command: target */
	int32_t kind;           /* report kind, or the command's op code */
	int32_t ref;            /* the agent a report is about (agent_fork's
				 * new agent), else -1 */
	int32_t pad;            /* 0: no stack bytes down the pipe */
	int64_t v[AGENT_ARGS];
};
_Static_assert(sizeof(struct agent_msg) == 48, "agent_msg is 48 bytes");
_Static_assert(sizeof(struct agent_msg) <= PIPE_BUF / 8,
	       "an agent_msg is written atomically");

/* The operations every agent knows.  The answer (if any) is a report of
 * the same kind.  A lab's own operations are numbered from AGENT_OP_LAB. */
enum agent_op {
	AGENT_OP_SPIN = 1,      /* answer, then spin on the CPU (R) until the
				 * next command */
	AGENT_OP_BLOCK,         /* answer, then block in read(2) (S) */
	AGENT_OP_TOUCH,         /* map and write v0 MiB; answer {bytes} */
	AGENT_OP_RAISE,         /* raise(v0); no answer */
	AGENT_OP_EXIT,          /* _exit(v0); no answer */
	/* clone(CLONE_VM|CLONE_VFORK) a child on its own stack; the caller
	 * waits in D until it _exits.  The answer comes from the vfork child
	 * ({its pid}, sender: the caller's id); it then blocks reading the
	 * caller's command pipe and _exits(0) at AGENT_OP_RELEASE.  The
	 * caller reaps it and reads on; no answer for the release. */
	AGENT_OP_VFORK,
	AGENT_OP_RELEASE,
	/* fork the agent v0 (planned with agent_plan_child()); the answer
	 * {fork's return (its pid), getpid, getppid, mark} has ref = v0.
	 * Use agent_fork(), which also expects the new agent's READY. */
	AGENT_OP_FORK,
	/* waitpid() for the agent v0 this agent forked; answer {pid, raw
	 * status, errno (0: collected)} */
	AGENT_OP_REAP,
	AGENT_OP_LAB = 100,     /* a lab's operations: 100..999 */
};

enum agent_report {
	/* an agent has set up: {getpid, getppid, fork's return in it (0),
	 * mark (agent_config's on_fork, 0 without)} */
	AGENT_REP_READY = 1000,
	/* a call failed: {call (enum agent_call), errno, op (0: while setting
	 * up)}; the agent then exits with AGENT_EXIT_SETUP */
	AGENT_REP_ERROR,
	AGENT_REP_LAB = 2000,   /* a lab's own kinds, sent with agent_say() */
};

/* The calls an agent reports as failed, named by agent_call_name(). */
enum agent_call {
	AGENT_CALL_PRCTL = 1,   /* "prctl(PR_SET_PDEATHSIG)" */
	AGENT_CALL_DUPFD,       /* "fcntl(F_DUPFD)" */
	AGENT_CALL_DUP2,
	AGENT_CALL_CLOSE_RANGE,
	AGENT_CALL_SETFL,       /* "fcntl(F_SETFL)" */
	AGENT_CALL_MMAP,
	AGENT_CALL_MADVISE,
	AGENT_CALL_FORK,
	AGENT_CALL_CLONE,
	AGENT_CALL_WAITPID,
	AGENT_CALL_PIPE,
	AGENT_CALL_OPEN,
	AGENT_CALL_DUP,
	AGENT_CALL_SETRLIMIT,
	AGENT_CALL_EXECVE,
	AGENT_CALL_VFORK,
	AGENT_CALL_FDOPEN,      /* a lab's child that uses stdio */
	AGENT_CALL_ON_EXIT,
	AGENT_CALL_DUMPABLE,    /* "prctl(PR_SET_DUMPABLE)" */
	AGENT_CALL_SETSID,
	AGENT_CALL_TIOCSCTTY,   /* "ioctl(TIOCSCTTY)" */
	AGENT_CALL_SETPGID,
	AGENT_CALL_TCSETPGRP,
	AGENT_CALL_KILL,
	AGENT_CALL_SIGACTION,
	AGENT_CALL_SIGPROCMASK,
	AGENT_CALL_MAX
};
const char *agent_call_name(int call);

/* How an agent exits on its own.  Any other code is what it was told
 * (AGENT_OP_EXIT) or what a lab operation chose. */
enum agent_exit {
	AGENT_EXIT_LIFELINE = 0,   /* its command pipe reached EOF */
	AGENT_EXIT_PROTOCOL = 124, /* a command it does not know, or a short
				    * one */
	AGENT_EXIT_SETUP = 125,    /* a call failed, reported first
				    * (AGENT_REP_ERROR) */
	AGENT_EXIT_LOST = 126,     /* it could not write a report */
	AGENT_EXIT_ORPHANED = 127, /* its parent died before it asked for
				    * the parent-death signal (or the request
				    * failed where nothing can be reported) */
};
/* What an agent's exit code means, e.g. "it could not write a report";
 * NULL for a code that is not one of AGENT_EXIT_* but the lifeline's. */
const char *agent_exit_meaning(int code);

/* ---- inside an agent (async-signal-safe only) -------------------------- */

struct agent;
struct agents;

struct agent_ctx {
	int id;                 /* this agent's */
	pid_t self, parent;     /* getpid(), and its parent when it started */
	void *data;             /* agent_config's, this process's copy */
	/* private */
	int rep, cmd;           /* the report channel, the command pipe */
	const struct agent *a;
	struct agents *g;
};

/* AGENT_OK: send the answer (kind = op, v = out); AGENT_QUIET: none. */
enum { AGENT_OK = 0, AGENT_QUIET = 1 };

/* A lab's operation: op code (>= AGENT_OP_LAB) or a report kind (>=
 * AGENT_REP_LAB, fn NULL: a name for messages only), its name, and the
 * function run in the agent with the command's arguments. */
struct agent_op_def {
	int op;
	const char *name;
	int (*fn)(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		  int64_t out[AGENT_ARGS]);
};

/* Report {kind, a..d} now (several per operation are fine). */
void agent_say(struct agent_ctx *c, int kind, int64_t a, int64_t b,
	       int64_t c2, int64_t d);
/* Report that `call` failed with errno, and _exit(AGENT_EXIT_SETUP). */
void agent_fail(struct agent_ctx *c, int call) __attribute__((noreturn));
/* Read the next command from this agent's pipe, blocked in read(2) (S)
 * or, with spin, spinning on the CPU (R).  At EOF (the lifeline) it
 * _exits(AGENT_EXIT_LIFELINE); a short command: AGENT_EXIT_PROTOCOL.  For
 * an operation that reads commands itself (a vfork child reading its
 * caller's pipe). */
void agent_next(const struct agent_ctx *c, struct agent_msg *m, bool spin);
/* The pid of agent `id` that this agent forked, 0 if none. */
pid_t agent_child_pid(const struct agent_ctx *c, int id);

/* clone(CLONE_VM | CLONE_VFORK | SIGCHLD) fn(arg) on a stack of its own:
 * `stack` of `size` bytes, or NULL for one mapped here and unmapped
 * after.  Returns once the child has exited or exec'd: its pid (to be
 * reaped), or -1 with errno (EAGAIN, ENOMEM, ...).  fn runs in the
 * caller's memory, so it may make system calls but must not write what
 * the caller uses (no stdio); mark it no_sanitize("address").
 * Async-signal-safe. */
pid_t agent_clone_vfork(int (*fn)(void *), void *arg, void *stack,
			size_t size);

/* ---- proclab's side ---------------------------------------------------- */

struct run;
struct agent;

struct agent_config {
	/* the lab's operations, ended by a {0} row; NULL: none */
	const struct agent_op_def *ops;
	void *data;             /* handed to every operation (agent_ctx) */
	/* Called on both sides of AGENT_OP_FORK's fork(), the first thing
	 * after it returns (`returned`: fork's value; `id`: the new
	 * agent's); the value is `mark` in both reports.  NULL: 0. */
	int64_t (*on_fork)(void *data, int id, pid_t returned);
};

/* Set the run's agent operations, once, before the first agent_new().
 * Without it agents know the built-in operations only.  Returns 0 or
 * PL_EXIT_FAIL after a message. */
int agent_init(struct run *r, const struct agent_config *cfg);

/* Plan an agent (a child of proclab) named `role` (outlives the run): its
 * id and command pipe.  NULL after a message when the run has no room or
 * no pipe. */
struct agent *agent_new(struct run *r, const char *role);
/* Plan an agent that `parent` (planned, not started) will fork with
 * agent_fork(): its command pipe exists before the first agent above it
 * (the child of proclab) starts, which carries the pipes of its whole
 * subtree.  Any depth: an agent forked by an agent may be the parent of
 * planned agents too, until that first agent starts. */
struct agent *agent_plan_child(struct run *r, struct agent *parent,
			       const char *role);
/* Name a planned agent "proclab-NAME" for ps (comm), instead of
 * "proclab-ROLE"; NAME is cut to fit 15 bytes. */
void agent_set_name(struct agent *a, const char *name);
/* A planned agent (one forked by an agent) that must outlive the agent
 * that forks it, e.g. an orphan: it does not ask for the parent-death
 * signal, which would kill it with its parent; its lifeline (its command
 * pipe, which only proclab holds) still ends it when proclab goes. */
void agent_outlives(struct agent *a);
/* A planned agent (a child of proclab) that stays in proclab's process
 * group instead of the run's (pl_fork_in(), PL_FORK_PROCLAB_GROUP): the
 * terminal's signals (Ctrl-C, Ctrl-Z) reach it too.  The agents it forks
 * inherit that group. */
void agent_in_proclab_group(struct agent *a);
/* A planned agent (one forked by an agent) that keeps, as fork(2) passes
 * them, the fds its parent agent opened itself (a pipe made for it, as a
 * shell makes one before it forks): only the other agents' command pipes
 * are closed in it.  Without this it holds no fd of its parent's. */
void agent_inherits(struct agent *a);
/* Hand fd (open in proclab) to a planned agent, a child of proclab (not
 * one forked by an agent), as its fd `at` (0, 1, 2 replace its stdin,
 * stdout, stderr); the agents it forks inherit it.  Returns 0 or
 * PL_EXIT_FAIL. */
int agent_give_fd(struct run *r, struct agent *a, int fd, int at);

/* Fork planned agent a (pl_fork(): tracked, killed at teardown) and wait
 * for its READY; *ready (if not NULL) receives it. */
int agent_start(struct run *r, struct agent *a, struct agent_msg *ready);
/* agent_new() + agent_start(); NULL after the message, with the status
 * the lab ends with in *rc. */
struct agent *agent_spawn(struct run *r, const char *role, int *rc);

/* Tell a started agent to fork its planned agent `child`; wait for the
 * answer (*forked, if not NULL) and for child's READY (*ready).  The new
 * agent is registered (pl_track(): killed at teardown) with its pid and
 * pidfd in `child`, ready for obs_add(). */
int agent_fork(struct run *r, struct agent *parent, struct agent *child,
	       struct agent_msg *forked, struct agent_msg *ready);

/* Send op with arguments (no wait).  AGENT_OP_EXIT and AGENT_OP_RAISE
 * mark the agent as ending (agent_ending()). */
int agent_send(struct run *r, struct agent *a, int op,
	       const int64_t arg[AGENT_ARGS]);
/* Send op with one argument (the rest 0) and, for an operation that
 * answers, wait for the answer (*out, if not NULL). */
int agent_do(struct run *r, struct agent *a, int op, int64_t arg,
	     struct agent_msg *out);
/* The same with all four arguments. */
int agent_do_args(struct run *r, struct agent *a, int op,
		  const int64_t arg[AGENT_ARGS], struct agent_msg *out);

/* Wait for a report from `from` (NULL: any agent) of `kind` (AGENT_ANY:
 * any), up to --timeout, through pl_wait_fds(): the signals that end
 * proclab still do.  Reports that arrive meanwhile for other senders or
 * kinds are queued for later expects, in order.  Ends at once (no
 * timeout) when:
 *   - any agent reports a failed call: the error line and event, and
 *     PL_EXIT_UNAVAILABLE;
 *   - a started agent that is not ending dies: pl_fail() naming its
 *     role, pid and how it died (signal name, or exit code and what the
 *     code means), and PL_EXIT_FAIL.
 * On timeout: pl_fail() and PL_EXIT_FAIL. */
#define AGENT_ANY (-1)
int agent_expect(struct run *r, const struct agent *from, int kind,
		 struct agent_msg *out);
/* The same within timeout_ms instead of --timeout: for an operation whose
 * work grows with an option (vfork's cost stage with --rss). */
int agent_expect_in(struct run *r, const struct agent *from, int kind,
		    struct agent_msg *out, int timeout_ms);

/* Whether a report from `from` (NULL: any agent) of `kind` (AGENT_ANY:
 * any) has come, without waiting: what the channel holds is read, and
 * the first match taken (into *out, if not NULL).  Once an agent has been
 * collected, every report it wrote has come, so *heard false means it
 * never sent one (an exit handler that did not run).  Returns 0 with
 * *heard set, or, as agent_expect(), the status after a failed call's
 * report or a read error. */
int agent_take(struct run *r, const struct agent *from, int kind,
	       struct agent_msg *out, bool *heard);

/* The lab expects a to end (it killed it, told it to, or runs a lab
 * operation that _exits): an expect no longer fails when it dies,
 * unless it is the agent the expect waits for. */
void agent_ending(struct agent *a);
/* Close a's command pipe: it exits 0 when it reads the EOF (and is then
 * ending).  Safe on NULL and twice. */
void agent_close(struct agent *a);

/* What the parent side knows of one agent (read-only for labs). */
struct agent {
	int id;
	const char *role;
	pid_t pid;              /* 0 until started */
	int pidfd;              /* owned by the run; -1 without pidfds */
	bool started, ending;
	bool outlives;          /* agent_outlives() */
	bool proclab_group;     /* agent_in_proclab_group() */
	bool inherits;          /* agent_inherits() */
	struct agent *parent;   /* the agent that forks it; NULL: proclab */
	/* private */
	int cmd;                /* proclab's write end, -1 once closed */
	int cmd_in;             /* the read end, until the agent holds it */
	char comm[16];
	int nslots;
	struct agent *slot[AGENT_SLOTS];
	int fd, span;           /* its command pipe's fd in the agents, and
				 * its subtree's count (fds fd..fd+span-1) */
	int ngive;
	struct { int fd, at; } give[AGENT_GIVE_MAX];
	/* how it was last told to end: 0 not yet, 'e' _exit(told_value),
	 * 's' by signal told_value, '?' a way proclab cannot check (a lab's
	 * own operation) */
	int told, told_value;
	int told_alt;           /* the signal it was told before, or 0 */
};

/* pid, a zombie with wait status raw, has ended: if it is an agent that
 * ended otherwise than it was told (killed from outside while told to
 * _exit), pl_fail() saying how, and PL_EXIT_FAIL; else 0. */
int agent_end_as_told(struct run *r, pid_t pid, int raw);

/* Called by run_teardown(): close every pipe, free the agents (every
 * struct agent * of the run is invalid afterwards). */
void agents_release(struct run *r);
/* Called by pl_kill(): a signal that ends the agent with that pid (any
 * but 0 and the stop, continue and ignored-by-default ones) marks it as
 * ending. */
void agent_signalled(struct run *r, pid_t pid, int sig);

/* ---- puppets: an agent driven with one-byte arguments -----------------
 * The zombie, states and wait labs' children, kept as a thin layer. */
enum puppet_op {
	PUP_SPIN = AGENT_OP_SPIN,
	PUP_SLEEP = AGENT_OP_BLOCK,
	PUP_TOUCH = AGENT_OP_TOUCH,     /* arg MiB */
	PUP_RAISE = AGENT_OP_RAISE,
	PUP_EXIT = AGENT_OP_EXIT,
	/* puppet_do() returns once the vfork child is there, its pid in
	 * vchild (tracked, so teardown kills it) */
	PUP_VFORK = AGENT_OP_VFORK,
	PUP_RELEASE = AGENT_OP_RELEASE,
};

struct puppet {
	pid_t pid;
	int pidfd;
	pid_t vchild;     /* the vfork child of PUP_VFORK, -1 if none */
	int vchild_pidfd;
	struct agent *a;
};

/* Start a puppet: it is blocked in read(2) (S) once this returns 0. */
int puppet_spawn(struct run *r, struct puppet *p, const char *role);
/* Send a command; wait for the answer of one that has one.  Returns 0,
 * or -1 after a message. */
int puppet_do(struct run *r, struct puppet *p, enum puppet_op op,
	      unsigned char arg);
void puppet_close(struct puppet *p);

#endif
