/* observer.h - watch processes through /proc and report what changes.
 *
 * The observer holds a set of watched {pid, role}.  Each sample re-reads
 * /proc/PID/stat through a kept fd; a change of state letter or ppid is an
 * event (emit_state).  A vanished entry is state 'X' ("released").
 *
 * obs_await() waits until a process shows one of a set of states, or times
 * out.  Exits are events, not polls: it sleeps in ppoll(2) on the pidfds of
 * the watched processes, so an exit wakes it at once; in between it
 * re-samples on a short back-off (tens of microseconds growing to 1 ms),
 * which is how a change with no event of its own (R -> S) is caught.
 * Without pidfds (child.h) an exit is caught the same way, within 1 ms
 * (within OBS_FOLLOW_MAX_MS in obs_follow()).
 */
#ifndef PROCLAB_OBSERVER_H
#define PROCLAB_OBSERVER_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

#include "procfs.h"

/* How many processes an observer holds unless obs_reserve() asks for more. */
#define OBS_MAX 64

#define ROLE_MAX 24             /* bytes of a role name, NUL included */

struct watched {
	pid_t pid;
	const char *role;       /* points to rolebuf: a copy of the caller's */
	char rolebuf[ROLE_MAX];
	struct proc_handle h;
	int pidfd;              /* -1 when there is none: no exit event then */
	bool seen;              /* sampled at least once */
	bool gone;              /* /proc entry vanished: released */
	bool exited;            /* the pidfd reported the exit */
	char state;             /* last letter seen, 'X' once gone */
	pid_t ppid;             /* last ppid seen */
	char trail[32];         /* every state letter seen, in order */
	char prev;              /* the letter before `state`, as reported */
	bool in_passing;        /* `state` was reported as transient */
	char shown;             /* the last state reported as demonstrated,
				 * '\0' before any: --stable's `from` */
	bool named;             /* the text view gives its comm at first sight */
	pid_t tgid;             /* obs_add_thread(): the thread's process,
				 * and `pid` is its tid; 0 for a process */
	struct proc_stat st;    /* last successful sample */
};

struct observer {
	struct watched *w;      /* cap entries, allocated once: they never move */
	int n, cap;
	struct pollfd *pfd;     /* cap + 1: the sleep's ppoll set */
	struct watched **owner;
};

struct run;

/* Make room for n processes (OBS_MAX by default).  Only before the first
 * obs_add(), since labs keep pointers into the table.  Returns 0, or -1
 * with a message. */
int obs_reserve(struct run *r, int n);

/* Follow every watched process, reporting each change of state or ppid
 * (none is transient: following is the point), until every one is
 * released (returns 1) or `ms` milliseconds pass (returns 0; ms < 0: no
 * limit).  Exits wake it at once through the pidfds; other changes are
 * caught by sampling every process, within 1 ms after a change, backing
 * off to OBS_FOLLOW_MAX_MS while nothing moves. */
#define OBS_FOLLOW_MAX_MS 50
int obs_follow(struct run *r, long long ms);

/* Start watching pid under `role` (copied: a longer one is cut).
 * pidfd may be -1.  Returns NULL, with a message, if the table is full or
 * the process is already gone (errno ESRCH), or if it is there but /proc
 * does not show it to this user (errno EACCES: hidepid). */
struct watched *obs_add(struct run *r, pid_t pid, int pidfd, const char *role);

/* Start watching one thread, tid, of process tgid under `role`: its
 * /proc/TGID/task/TID/stat, so its own state (a process's stat shows its
 * main thread's).  It has no pidfd: its end (X, once its task entry is
 * gone) is caught by sampling, within 1 ms.  Its state events carry `tid`
 * and `tgid` besides `pid` (the tid).  NULL, with a message, as
 * obs_add(). */
struct watched *obs_add_thread(struct run *r, pid_t tgid, pid_t tid,
			       const char *role);

/* The tids /proc/PID/task of w's process lists now (w a process, or one
 * of its threads), as proc_list_tasks(): at most max stored, the count
 * returned; -1 with errno (ESRCH: w is gone). */
int obs_tasks(struct run *r, struct watched *w, pid_t *tids, int max);
/* The same, but a process already released is not an error: NULL with
 * errno ESRCH and no message (`proclab run --via connector` learns of a
 * process from an event that may come after its end). */
struct watched *obs_try_add(struct run *r, pid_t pid, int pidfd,
			    const char *role);

/* Read w once now; report a change (transient unless the new state is in
 * `demonstrates`).  Returns the state letter, 'X' when gone, '?' (after a
 * message) when /proc/PID/stat could not be read or parsed. */
char obs_sample(struct run *r, struct watched *w, const char *demonstrates,
		const char *why);

/* Wait until w shows one of the letters in `states` ('X': released).
 * Changes on the way are reported as transient; reaching the state is
 * reported as demonstrated, explained by `why` (also when the change was
 * caught in passing before, e.g. while waiting for another process: it
 * is then reported again, as demonstrated).  On timeout: pl_fail()
 * naming what was expected and every state seen, and PL_EXIT_FAIL.
 * Returns 0 when the state was seen. */
int obs_await(struct run *r, struct watched *w, const char *states,
	      const char *why);

/* obs_await() for a process that execs: wait until /proc shows w running
 * the program whose comm is `comm` (its exec is done) in one of `states`.
 * Every state before the exec is one on the way (transient), so that the
 * caller's own state before its exec (S, waiting for a command) does not
 * count.  On timeout the failure names what w was running. */
int obs_await_exec(struct run *r, struct watched *w, const char *comm,
		   const char *states, const char *why);

/* Wait, as obs_await() does, until w shows one of `states`, but report
 * every change on the way as transient, the last one too: for a lab that
 * reports the state itself (in an event of its own) after a command that
 * may or may not have woken the process for an instant, so that its
 * output does not depend on whether a sample caught that instant.
 * No --quiz question.  Returns 0, or PL_EXIT_FAIL on timeout. */
int obs_settle(struct run *r, struct watched *w, const char *states);
/* The same, for a change that may never come and is a lesson when it
 * does not (an adopter that never reaps): waits up to timeout_ms and
 * returns 1, without a failure, if w has not shown one of `states` by
 * then; 0 when it has; PL_EXIT_FAIL as obs_await() when /proc cannot be
 * read. */
int obs_await_or_not(struct run *r, struct watched *w, const char *states,
		     const char *why, int timeout_ms);

/* For a message on an unexpected state: " (it ended: killed by
 * SIGKILL)" when w was last seen a zombie (its exit status, from /proc),
 * " (it is gone)" when released, else "".  Returns buf. */
const char *obs_end_note(const struct watched *w, char *buf, size_t size);

/* Sample every watched process once; every change is transient. */
void obs_sample_all(struct run *r);

/* Read /proc/PID/stat once for a process this run does not watch (an
 * ancestor of proclab, an orphan's adopter): nothing is reported and
 * nothing is kept.  Returns PROC_OK, PROC_GONE (no such process, or /proc
 * hides it) or PROC_ERROR, as proc_peek_stat(). */
int obs_peek(struct run *r, pid_t pid, struct proc_stat *st);
/* Sample every watched process once and report every change as
 * demonstrated, explained by `why` (a template over the state event's
 * fields; NULL: the state's meaning); a change seen only in passing
 * before (while another process was awaited) is reported again, as
 * demonstrated.  For a change that reaches many processes at once (a new
 * foreground group of a terminal), so that what is shown does not depend
 * on which samples caught it first. */
void obs_show_all(struct run *r, const char *why);

/* A child that has just answered proclab is still R for a moment on its
 * way back into read(2): read every watched process (without reporting)
 * until two reads 2 ms apart agree, for at most 50 ms, so that what is
 * shown next (a pause, obs_show_all) is where each one stays. */
void obs_settle_all(struct run *r);

/* What /proc shows of a process beyond its state, read at one moment. */
struct probe {
	bool status_ok;
	struct proc_status ps;      /* VmRSS, Threads, switches, ... */
	char wchan[64];             /* "" when unreadable; "0" when it
				     * named no function (see on_cpu) */
	bool on_cpu;                /* wchan still read "0" after
				     * OBS_WCHAN_MS of re-reading: the task
				     * was still running, or on its way off
				     * the CPU (the 'S' or 'D' in its stat
				     * is set before it leaves) */
	int fds;                    /* entries in /proc/PID/fd, -1 if unreadable */
	int fds_errno;
	long long cmdline_bytes;    /* -1 if unreadable */
	long long dir_owner;        /* uid owning /proc/PID, -1 if unknown */
	long long file_owner;       /* uid owning /proc/PID/status */
};

/* Sample w (reporting a change as transient), then read the rest.  A
 * task that shows a sleeping state (S, D, T, t, I) but whose wchan reads
 * "0" has set its state and is still on its way off the CPU: wchan is
 * read again, on the observer's back-off (10 us growing to 1 ms, woken
 * only by a signal), until it names a function or OBS_WCHAN_MS pass;
 * then p->on_cpu says it never did. */
#define OBS_WCHAN_MS 100
int obs_probe(struct run *r, struct watched *w, struct probe *p);

/* What /proc shows of the program a process runs and the files it holds:
 * what exec changes and keeps.  Read at one moment, after a sample. */
#define PROBE_FDS_MAX 32
struct probe_exec {
	char exe[256];              /* the link /proc/PID/exe, "" if
				     * unreadable (exe_errno) */
	int exe_errno;
	char cmdline[256];          /* the arguments joined by spaces, cut */
	long long cmdline_bytes;    /* as read, NULs included; -1 if
				     * unreadable */
	int nfds;                   /* entries of /proc/PID/fd, -1 if
				     * unreadable (fds_errno); the first
				     * PROBE_FDS_MAX are in fd[] */
	int fds_errno;
	struct proc_fd fd[PROBE_FDS_MAX];
};

/* Sample w (reporting a change as transient), then read its exe,
 * cmdline and open files.  PROC_GONE when it is released. */
int obs_probe_exec(struct run *r, struct watched *w, struct probe_exec *p);

/* Where w's fd `fd` points, read from /proc/PID/fd/FD at this moment: the
 * link's text into buf (e.g. "pipe:[4242]", "/dev/null"; "" when it cannot
 * be read) and, for an anonymous pipe, its inode in *pipe_ino (0 for
 * anything else, a FIFO opened by its path too; may be NULL).  Returns PROC_OK, PROC_GONE, or PROC_ERROR with
 * errno (ENOENT: no such fd). */
int obs_fd_link(struct run *r, struct watched *w, int fd, char *buf,
		size_t size, unsigned long long *pipe_ino);

void obs_release(struct observer *o);

#endif
