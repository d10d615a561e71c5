/* child.h - the processes a lab creates, and the guarantee that none of
 * them outlives proclab.
 *
 * Every child comes from pl_fork(), which flushes stdio, forks, and in the
 * child: restores the signal mask, asks for SIGKILL when proclab dies
 * (PR_SET_PDEATHSIG, then checks the parent did not die in between), names
 * the process for ps (comm "proclab-ROLE") and returns 0.  In the parent the
 * child is registered with a pidfd, so run_teardown() can kill and reap it
 * (stopped and traced children included: SIGKILL works on both).
 *
 * A puppet is a child that does what it is told through a pipe, using only
 * async-signal-safe calls: spin on the CPU (R), block in read(2) (S), touch
 * memory, raise a signal or exit with a code.  It also dies when the
 * command pipe closes, a second lifeline besides the parent-death signal.
 */
#ifndef PROCLAB_CHILD_H
#define PROCLAB_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#define KIDS_MAX 256

struct kids {
	struct kid {
		pid_t pid;
		int pidfd;
		const char *role;   /* pl_fork's; NULL for pl_track's */
	} k[KIDS_MAX];
	int n;
};

struct run;

/* Fork a child named for `role` (a string that outlives the run).  Returns the pid in the parent, 0 in the
 * child, -1 with a message on failure.  *pidfd (if not NULL) receives the
 * child's pidfd, owned by the run. */
pid_t pl_fork(struct run *r, const char *role, int *pidfd);

/* Register a process this run made but did not fork itself (a grandchild,
 * an orphan), so that teardown kills it too.  Returns its pidfd (owned by
 * the run), or -1 with a message. */
int pl_track(struct run *r, pid_t pid);

/* Name a registered process (one from pl_track) for --stable output,
 * which shows roles instead of pids.  `role` outlives the run. */
void kid_set_role(struct run *r, pid_t pid, const char *role);

/* The registered pidfd of pid, -1 if pid is not one of ours. */
int kid_pidfd(const struct run *r, pid_t pid);

/* Wait (up to --timeout) for child pid, one of ours, to end, then collect
 * it with waitpid(2) and report the status (emit_wstatus).  Returns 0 with
 * *status set; -1 with errno when waitpid fails (ECHILD: there was nothing
 * to collect), reported as a "wait" event; -2 on timeout. */
int pl_waitpid(struct run *r, pid_t pid, const char *role, int *status);

/* Commands a puppet understands (one byte each, and one byte argument). */
enum puppet_op {
	PUP_SPIN = 'r',   /* spin on the CPU until the next command */
	PUP_SLEEP = 's',  /* block in read(2) for the next command */
	PUP_TOUCH = 'm',  /* map and write arg MiB, then block again */
	PUP_RAISE = 'k',  /* raise signal arg */
	PUP_EXIT = 'x',   /* _exit(arg) */
	/* vfork: clone(CLONE_VM|CLONE_VFORK) a child on its own stack that
	 * blocks reading the command pipe; the puppet waits in D meanwhile.
	 * puppet_do() returns once the vfork child is there, its pid in
	 * vchild (tracked, so teardown kills it). */
	PUP_VFORK = 'v',
	/* taken by the vfork child, which _exits: that releases the puppet,
	 * which reaps it and reads on.  No answer (observe the effect: the
	 * puppet may have a stop signal pending). */
	PUP_RELEASE = 'u',
};

struct puppet {
	pid_t pid;
	int pidfd;
	int cmd;          /* write end: commands */
	int ack;          /* read end: one byte per command taken */
	pid_t vchild;     /* the vfork child of PUP_VFORK, -1 if none */
	int vchild_pidfd;
};

/* Start a puppet: it is blocked in read(2) (S) once this returns 0. */
int puppet_spawn(struct run *r, struct puppet *p, const char *role);

/* Send a command.  Waits (up to --timeout) for the puppet to take it,
 * except for PUP_EXIT, PUP_RAISE and PUP_RELEASE, whose effect the caller
 * observes.
 * Returns 0, or -1 with a message if the puppet is gone or mute. */
int puppet_do(struct run *r, struct puppet *p, enum puppet_op op,
	      unsigned char arg);

void puppet_close(struct puppet *p);

#endif
