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
 * Without pidfds (pidfd_open(2) fails with ENOSYS: Linux < 5.3, or
 * valgrind 3.19, which does not know the call; or PROCLAB_NO_PIDFD is
 * set, to test this path) every pidfd here is -1, and pl_kill(),
 * pl_waitid() and pl_wait_exit() name processes by pid instead.  That is
 * safe for a child we have not waited for: until we do, its pid is not
 * released, so it cannot name anyone else.  A tracked process that is not
 * our child is signalled only while the /proc/PID opened when it was
 * tracked still reads (see pl_kill()).
 *
 * A child that does what it is told (spin, block, touch memory, raise a
 * signal, exit, vfork, fork a grandchild, a lab's own operations) is an
 * agent: see agent.h, which is built on pl_fork() and pl_track().
 */
#ifndef PROCLAB_CHILD_H
#define PROCLAB_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "procfs.h"

#define KIDS_MAX 256

struct kids {
	struct kid {
		pid_t pid;
		int pidfd;              /* -1 without pidfds */
		bool child;             /* pl_fork()ed, not pl_track()ed */
		const char *role;       /* pl_fork's; NULL for pl_track's */
		/* without pidfds, for a tracked process: its /proc/PID,
		 * kept open to tell that it is still the same process */
		struct proc_handle h;
	} k[KIDS_MAX];
	int n;
};

struct run;

/* Whether pidfds can be used, decided once when proclab starts: false if
 * pidfd_open(2) is not there (ENOSYS, or EPERM from a seccomp filter) or
 * the environment variable PROCLAB_NO_PIDFD is set and not empty. */
bool pl_pidfd_works(void);

/* Fork a child named for `role` (a string that outlives the run).
 * Returns the pid in the parent, 0 in the
 * child, -1 with a message on failure.  *pidfd (if not NULL) receives the
 * child's pidfd, owned by the run. */
pid_t pl_fork(struct run *r, const char *role, int *pidfd);

/* pl_fork() with flags.  Every child goes into the run's own process
 * group (janitor.c; not a group leader, so it may call setsid), except
 * with PL_FORK_PROCLAB_GROUP: it stays in proclab's group, where the
 * terminal's signals reach it too (a lab about job control).  Either way
 * it gets the default action back for the signals proclab inherited as
 * ignored (nohup), and none of the terminal signals sent to proclab's
 * group before it left it. */
enum { PL_FORK_PROCLAB_GROUP = 1 };
pid_t pl_fork_in(struct run *r, const char *role, int *pidfd, int flags);

/* In a new child (async-signal-safe): every signal with a handler gets
 * its default action back (a handler of the process that forked means
 * nothing in the child); ignored signals stay ignored. */
void pl_reset_handlers(void);

/* Register a process this run made but did not fork itself (a grandchild,
 * an orphan), so that teardown kills it too.  Returns 0, with its pidfd
 * (owned by the run; -1 without pidfds) in *pidfd if not NULL, or -1 with
 * a message. */
int pl_track(struct run *r, pid_t pid, int *pidfd);

/* Name a registered process (one from pl_track) for --stable output,
 * which shows roles instead of pids.  `role` outlives the run. */
void kid_set_role(struct run *r, pid_t pid, const char *role);

/* The registered pidfd of pid, -1 if pid is not one of ours (or there are
 * no pidfds). */
int kid_pidfd(const struct run *r, pid_t pid);

/* Send sig to pid, one of ours: through its pidfd, or without one by pid
 * while it is still the process we made.  Returns 0, or -1 with errno
 * (ESRCH: gone, or not one of ours), as kill(2). */
int pl_kill(struct run *r, pid_t pid, int sig);

/* waitid(2) on pid, a child of ours: P_PIDFD on its pidfd, or P_PID
 * without one.  Returns as waitid(2). */
int pl_waitid(struct run *r, pid_t pid, siginfo_t *si, int options);

/* Wait up to timeout_ms (-1: no limit) for pid, one of ours, to end,
 * leaving it to be collected, while signals that end proclab are watched
 * (pl_wait_fd()).  Its pidfd turns readable at its exit; without one, it
 * is looked at every millisecond.  Returns 1 when it has ended (or is
 * gone, or not one of ours), 0 on timeout. */
int pl_wait_exit(struct run *r, pid_t pid, int timeout_ms);

/* Wait (up to --timeout) for child pid, one of ours, to end, then collect
 * it with waitpid(2) and report the status (emit_wstatus).  Returns 0 with
 * *status set; -1 with errno when waitpid fails (ECHILD: there was nothing
 * to collect), reported as a "wait" event; -2 on timeout. */
int pl_waitpid(struct run *r, pid_t pid, const char *role, int *status);

#endif
