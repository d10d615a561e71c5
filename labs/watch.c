/* watch.c - follow processes proclab did not create, read-only.
 *
 * `proclab watch PID... [--for SECONDS]` reports every change of state or
 * ppid of the given processes until each is released (X) or the time is
 * up.  It never signals or traces them: a pidfd per process makes its exit
 * an event (pidfd_open needs no permission over the process), and the
 * observer samples /proc/PID/stat for the changes that have no event.
 * Without pidfds (child.h) exits are caught by that sampling too.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "escape.h"
#include "proclab.h"

static const struct lab_option watch_options[] = {
	{ "for", "SECONDS", 1, 604800, 0,
	  "stop after SECONDS even if some are still there (without it: "
	  "until every one is gone)" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* Per process: the /proc handles (its directory and its stat) and a
 * pidfd.  Besides: those open now, and two to spare. */
#define FDS_PER_PID 3
#define FDS_SPARE 2

/* How many fds are open now (an inherited one included: it may hold a
 * number below the limit that a new fd would take). */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int count = 0;

	if (d == NULL)
		return 4;       /* stdin, stdout, stderr, the signalfd */
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		const char *errstr;
		int fd = (int)strtonum(e->d_name, 0, INT_MAX, &errstr);

		count += errstr == NULL && fd != dirfd(d);
	}
	closedir(d);
	return count;
}

static int raise_fd_limit(struct run *r, int npids)
{
	/* a new fd takes the lowest free number: with `count` open, n more
	 * need numbers up to count + n - 1 at most */
	rlim_t need = (rlim_t)open_fds() + (rlim_t)npids * FDS_PER_PID +
		      FDS_SPARE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return PL_EXIT_OK;
	if (rl.rlim_max < need) {
		if (npids == 1)
			pl_warnx(r, "cannot follow %d process: the open-file "
				 "limit is %llu, %llu are needed", npids,
				 (unsigned long long)rl.rlim_max,
				 (unsigned long long)need);
		else
			pl_warnx(r, "cannot follow %d processes: the open-file "
				 "limit is %llu, %llu are needed", npids,
				 (unsigned long long)rl.rlim_max,
				 (unsigned long long)need);
		return PL_EXIT_UNAVAILABLE;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		pl_warnx(r, "cannot raise the open-file limit: %s",
			 strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	return PL_EXIT_OK;
}

/* Without pidfds, what pidfd_open(2) would say of pid: 0 for a process,
 * ESRCH if there is none, ENOENT for a thread's id (its /proc/TID opens
 * too; its thread group tells). */
static int check_process(pid_t pid)
{
	struct proc_handle h;
	struct proc_status ps;
	bool thread;
	int rc = proc_open(&h, pid);

	if (rc == PROC_GONE)    /* or hidden (hidepid): obs_add() tells */
		return kill(pid, 0) == 0 || errno == EPERM ? 0 : ESRCH;
	if (rc != PROC_OK)
		return 0;               /* obs_add() says why */
	thread = proc_read_status(&h, &ps) == PROC_OK &&
		 (ps.has & PS_TGID) && ps.tgid != pid;
	proc_close(&h);
	return thread ? ENOENT : 0;
}

/* Every operand is a pid of a process that exists now; anything else is
 * a usage error, reported before anything is printed on stdout. */
static int watch_prepare(struct run *r)
{
	struct watched *w;
	pid_t *pids;
	int n = 0, rc;

	if (r->argc == 0) {
		pl_warnx(r, "no pid given (usage: proclab watch PID... "
			 "[--for SECONDS])");
		return PL_EXIT_USAGE;
	}
	pids = calloc((size_t)r->argc, sizeof(*pids));
	if (pids == NULL) {
		pl_warnx(r, "out of memory");
		return PL_EXIT_FAIL;
	}
	for (int i = 0; i < r->argc; i++) {
		const char *errstr;
		pid_t pid = (pid_t)strtonum(r->argv[i], 1, INT_MAX, &errstr);
		bool dup = false;

		if (errstr != NULL) {
			char *word = escape_word(r->argv[i]);

			pl_warnx(r, "'%s' is not a pid (a number from 1 to %d)",
				 word != NULL ? word : "?", INT_MAX);
			free(word);
			free(pids);
			return PL_EXIT_USAGE;
		}
		for (int j = 0; j < n; j++)
			dup |= pids[j] == pid;
		if (!dup)
			pids[n++] = pid;
	}
	rc = raise_fd_limit(r, n);
	if (rc == PL_EXIT_OK && obs_reserve(r, n) < 0)
		rc = PL_EXIT_FAIL;
	for (int i = 0; i < n && rc == PL_EXIT_OK; i++) {
		/* pidfd and /proc/PID name the same process unless it is
		 * released and its pid reused in the microseconds between
		 * the two calls: that takes a whole cycle of pids */
		int fd = -1;

		if (r->no_pidfd)
			errno = check_process(pids[i]);
		else
			fd = pidfd_open(pids[i], 0);
		if (fd < 0 && errno != 0) {
			if (errno == ESRCH)
				pl_warnx(r, "no such process: %d", (int)pids[i]);
			else if (errno == ENOENT || errno == EINVAL)
				/* ENOENT on 6.18; EINVAL on some kernels */
				pl_warnx(r, "%d is a thread, not a process",
					 (int)pids[i]);
			else
				pl_warnx(r, "cannot follow %d: %s", (int)pids[i],
					 strerror(errno));
			rc = PL_EXIT_USAGE;
		} else if ((w = obs_add(r, pids[i], fd, "watched")) == NULL) {
			/* hidepid: the user cannot see it, the machine is
			 * the limit, not the command line */
			rc = errno == EACCES ? PL_EXIT_UNAVAILABLE
					     : PL_EXIT_USAGE;
			if (fd >= 0)
				close(fd);
		} else {
			w->named = true;
		}
	}
	free(pids);
	return rc;
}

static int stage_follow(struct run *r)
{
	long long ms = opt_set(r, "for") ? opt_val(r, "for") * 1000 : -1;
	int n = r->obs.n, gone = 0;
	bool all;

	all = obs_follow(r, ms);
	for (int i = 0; i < n; i++) {
		struct watched *w = &r->obs.w[i];

		gone += w->gone;
		if (w->pidfd >= 0)
			close(w->pidfd);
		w->pidfd = -1;
	}
	emit_form(r, "followed", all ? NULL : "time",
		  FIELDS(F_INT("pids", n), F_INT("released", gone),
			 F_STR("reason", all ? "released" : "time")));
	return PL_EXIT_OK;
}

static const struct sentence watch_sentences[] = {
	{ "followed", NULL, "{released} of {pids} process released; nothing "
	  "left to follow", "{released} of {pids} processes released; "
	  "nothing left to follow", "pids" },
	{ "followed", "time", "{released} of {pids} process released when "
	  "the --for time was up", "{released} of {pids} processes released "
	  "when the --for time was up", "pids" },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* One stage: the processes are the command line's, not the lab's, so the
 * heading cannot count them (the followed event does). */
static const struct stage watch_stages[] = {
	{ "follow", "proclab follows the given processes, read-only, until "
	  "each is gone or --for ends", stage_follow, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct lab lab_watch = {
	.name = "watch",
	.summary = "follow any processes' states and parents, read-only",
	.description =
		"Follows processes proclab did not create: every change of "
		"state letter or\nparent pid, as /proc shows it, until each "
		"one is released (X) or --for\nSECONDS pass.  It never signals "
		"or traces them.  Exits are events (a pidfd\nper process); "
		"other changes are sampled, within a millisecond after a "
		"change\nand every 50 ms while nothing moves, so hundreds of "
		"processes cost little.",
	.options = watch_options,
	.args = "PID...",
	.prepare = watch_prepare,
	.sentences = watch_sentences,
	.stages = watch_stages,
	/* one stage, no expected state: nothing to pause at, ask about or
	 * time out on (--for is its time limit) */
	.refuses = "step quiz delay timeout",
};
