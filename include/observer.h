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

/* Sample every watched process once; every change is transient. */
void obs_sample_all(struct run *r);

/* Read /proc/PID/stat once for a process this run does not watch (an
 * ancestor of proclab, an orphan's adopter): nothing is reported and
 * nothing is kept.  Returns PROC_OK, PROC_GONE (no such process, or /proc
 * hides it) or PROC_ERROR, as proc_peek_stat(). */
int obs_peek(struct run *r, pid_t pid, struct proc_stat *st);

/* What /proc shows of a process beyond its state, read at one moment. */
struct probe {
	bool status_ok;
	struct proc_status ps;      /* VmRSS, Threads, switches, ... */
	char wchan[64];             /* "" when unreadable */
	int fds;                    /* entries in /proc/PID/fd, -1 if unreadable */
	int fds_errno;
	long long cmdline_bytes;    /* -1 if unreadable */
	long long dir_owner;        /* uid owning /proc/PID, -1 if unknown */
	long long file_owner;       /* uid owning /proc/PID/status */
};

/* Sample w (reporting a change as transient), then read the rest. */
int obs_probe(struct run *r, struct watched *w, struct probe *p);

/* obs_probe() for a process just seen asleep (S or D): /proc/PID/stat
 * shows S as soon as a task marks itself sleeping, a moment before it
 * leaves the CPU, and until then wchan reads "0".  This probes again, on
 * the back-off of obs_await(), until wchan names a function, the process
 * is no longer asleep, or OBS_ASLEEP_MAX_MS (at most --timeout) pass;
 * p holds the last probe. */
#define OBS_ASLEEP_MAX_MS 500
int obs_probe_asleep(struct run *r, struct watched *w, struct probe *p);

/* Where w's fd `fd` points, read from /proc/PID/fd/FD at this moment: the
 * link's text into buf (e.g. "pipe:[4242]", "/dev/null"; "" when it cannot
 * be read) and, for an anonymous pipe, its inode in *pipe_ino (0 for
 * anything else, a FIFO opened by its path too; may be NULL).  Returns PROC_OK, PROC_GONE, or PROC_ERROR with
 * errno (ENOENT: no such fd). */
int obs_fd_link(struct run *r, struct watched *w, int fd, char *buf,
		size_t size, unsigned long long *pipe_ino);

void obs_release(struct observer *o);

#endif
