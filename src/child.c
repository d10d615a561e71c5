/* child.c - fork children that cannot outlive proclab, track, kill, wait. */
#include "child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "wstatus.h"

bool pl_pidfd_works(void)
{
	const char *no = getenv("PROCLAB_NO_PIDFD");
	int fd;

	if (no != NULL && no[0] != '\0')
		return false;
	fd = pidfd_open(getpid(), 0);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	/* any other error is the caller's to report when it happens again */
	return errno != ENOSYS && errno != EPERM;
}

/* pid's entry, -1 if none; newest first: a pid reused within the run
 * names the latest process */
static int kid_index(const struct run *r, pid_t pid)
{
	for (int i = r->kids.n - 1; i >= 0; i--)
		if (r->kids.k[i].pid == pid)
			return i;
	return -1;
}

void kid_set_role(struct run *r, pid_t pid, const char *role)
{
	int i = kid_index(r, pid);

	if (i >= 0)
		r->kids.k[i].role = role;
}

static struct kid *find_kid(struct run *r, pid_t pid)
{
	int i = kid_index(r, pid);

	return i >= 0 ? &r->kids.k[i] : NULL;
}

int kid_pidfd(const struct run *r, pid_t pid)
{
	int i = kid_index(r, pid);

	return i >= 0 ? r->kids.k[i].pidfd : -1;
}

static void add_kid(struct run *r, pid_t pid, int pidfd, bool child,
		    const struct proc_handle *h)
{
	struct kid *k = &r->kids.k[r->kids.n++];

	k->pid = pid;
	k->pidfd = pidfd;
	k->child = child;
	k->role = NULL;
	k->h = *h;
}

int pl_track(struct run *r, pid_t pid, int *pidfd)
{
	struct proc_handle h = { pid, -1, -1 };
	int fd = -1, rc;

	if (r->kids.n >= KIDS_MAX) {
		pl_warnx(r, "cannot track %d: already %d processes", (int)pid,
			 KIDS_MAX);
		return -1;
	}
	if (!r->no_pidfd) {
		fd = pidfd_open(pid, 0);
		if (fd < 0) {
			pl_sys_error(r, "pidfd_open", errno, "cannot open a "
				     "pidfd for %d: %s", (int)pid,
				     strerror(errno));
			return -1;
		}
	} else if ((rc = proc_open(&h, pid)) != PROC_OK) {
		pl_warnx(r, "cannot track %d: %s", (int)pid,
			 rc == PROC_GONE ? "no such process" : strerror(errno));
		return -1;
	}
	add_kid(r, pid, fd, false, &h);
	if (pidfd != NULL)
		*pidfd = fd;
	return 0;
}

/* Without a pidfd: is k still the process we made, so that its pid names
 * it?  A child is, as long as we have not waited for it (WNOWAIT leaves it
 * be): until then its pid is not released.  (Not so while SIGCHLD is
 * ignored, when the kernel releases a child at its exit; teardown restores
 * the default first.)  A tracked process is, as long as the /proc/PID kept
 * since pl_track() still reads: that fails once the process is released,
 * whoever has its pid now.  Between that read and the kill(2) after it the
 * process could be released and its pid handed out again, but pids are
 * handed out in turn, so that takes pid_max new processes in that moment;
 * that is the one thing only a pidfd rules out. */
static bool kid_same(struct kid *k)
{
	struct proc_stat st;
	siginfo_t si;

	if (k->child)
		return waitid(P_PID, (id_t)k->pid, &si,
			      WEXITED | WNOHANG | WNOWAIT) == 0;
	return k->h.statfd >= 0 && proc_read_stat(&k->h, &st) == PROC_OK;
}

int pl_kill(struct run *r, pid_t pid, int sig)
{
	struct kid *k = find_kid(r, pid);

	agent_signalled(r, pid, sig);
	if (k != NULL && k->pidfd >= 0)
		return pidfd_send_signal(k->pidfd, sig, NULL, 0);
	if (k == NULL || !kid_same(k)) {
		errno = ESRCH;
		return -1;
	}
	return kill(pid, sig);
}

int pl_waitid(struct run *r, pid_t pid, siginfo_t *si, int options)
{
	int fd = kid_pidfd(r, pid);

	if (fd >= 0)
		return waitid(P_PIDFD, (id_t)fd, si, options);
	return waitid(P_PID, (id_t)pid, si, options);
}

/* Without a pidfd: has k ended (exited or been killed)? */
static bool kid_ended(struct kid *k)
{
	struct proc_stat st;
	siginfo_t si;

	if (k->child) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)k->pid, &si,
			   WEXITED | WNOHANG | WNOWAIT) < 0)
			/* collected already, or released at its exit
			 * because SIGCHLD is ignored */
			return errno == ECHILD;
		return si.si_pid == k->pid;
	}
	return k->h.statfd < 0 || proc_read_stat(&k->h, &st) != PROC_OK ||
	       st.state == 'Z' || st.state == 'X';
}

int pl_wait_exit(struct run *r, pid_t pid, int timeout_ms)
{
	struct kid *k = find_kid(r, pid);
	long long t0;

	if (k == NULL)
		return 1;
	if (k->pidfd >= 0)
		return pl_wait_fd(r, k->pidfd, timeout_ms);
	/* no exit event to sleep on: look every millisecond, as the
	 * observer does (signals still end proclab meanwhile) */
	t0 = pl_now_ms();
	while (!kid_ended(k)) {
		if (timeout_ms >= 0 && pl_now_ms() - t0 >= timeout_ms)
			return 0;
		pl_wait_fd(r, -1, 1);
	}
	return 1;
}

void pl_reset_handlers(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, NULL, &old) < 0)
			continue;       /* EINVAL: glibc's own (SIGCANCEL) */
		if (!(old.sa_flags & SA_SIGINFO) &&
		    (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN))
			continue;
		signal(sig, SIG_DFL);
	}
}

pid_t pl_fork(struct run *r, const char *role, int *pidfd)
{
	return pl_fork_in(r, role, pidfd, 0);
}

/* In a new child: the run's group, unless the lab wants proclab's (the
 * child is then no group leader either way, so it may call setsid). */
static void child_group(const struct run *r, int flags)
{
	if (r->pgid > 0 && !(flags & PL_FORK_PROCLAB_GROUP)) {
		setpgid(0, r->pgid);
		if (r->ttou_ign)        /* see janitor_start() */
			signal(SIGTTOU, SIG_IGN);
	}
}

/* In a new child, before its mask opens: a terminal signal that reached
 * proclab's group before the child left it is pending here; discard it
 * (ignoring a signal does), and give the signals proclab inherited as
 * ignored their default action back: they were not the lab's choice. */
static void child_signals(const struct run *r)
{
	static const int term[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };

	for (size_t i = 0; i < sizeof(term) / sizeof(term[0]); i++) {
		struct sigaction old;

		if (sigaction(term[i], NULL, &old) < 0)
			continue;
		signal(term[i], SIG_IGN);
		if (sigismember(&r->inherited_ign, term[i]) == 1)
			signal(term[i], SIG_DFL);
		else
			sigaction(term[i], &old, NULL);
	}
}

pid_t pl_fork_in(struct run *r, const char *role, int *pidfd, int flags)
{
	char comm[16];          /* TASK_COMM_LEN */
	pid_t parent = getpid(), pid;
	int fd = -1;

	if (r->kids.n >= KIDS_MAX) {
		pl_warnx(r, "cannot fork: this run already made %d processes",
			 KIDS_MAX);
		return -1;
	}
	/* everything a child could need is prepared before the fork */
	snprintf(comm, sizeof(comm), "proclab-%s", role);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pl_sys_error(r, "fork", errno, "cannot fork: %s",
			     strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* async-signal-safe calls only from here on */
		sigset_t none;

		child_group(r, flags);
		child_signals(r);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);       /* proclab ignores it */
		pl_reset_handlers();
		/* die with proclab; if it died before the request, go now */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != parent)
			_exit(AGENT_EXIT_ORPHANED);
		prctl(PR_SET_NAME, comm);
		return 0;
	}
	/* both sides ask, so that it is in its group once we go on; EACCES:
	 * it did already and has exec'd */
	if (r->pgid > 0 && !(flags & PL_FORK_PROCLAB_GROUP))
		setpgid(pid, r->pgid);
	if (!r->no_pidfd && (fd = pidfd_open(pid, 0)) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pl_sys_error(r, "pidfd_open", e, "cannot open a pidfd for "
			     "%d: %s", (int)pid, strerror(e));
		return -1;
	}
	add_kid(r, pid, fd, true, &(struct proc_handle){ pid, -1, -1 });
	r->kids.k[r->kids.n - 1].role = role;
	if (pidfd != NULL)
		*pidfd = fd;
	return pid;
}

int pl_waitpid(struct run *r, pid_t pid, const char *role, int *status)
{
	struct wstatus w;
	pid_t got;

	/* wait where signals and the timeout are watched too, then collect
	 * without blocking */
	if (!pl_wait_exit(r, pid, r->timeout_ms)) {
		pl_fail(r, "expected %s %d to end within %d ms; it did not",
			role, (int)pid, r->timeout_ms);
		return -2;
	}
	do
		got = waitpid(pid, status, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		int e = errno;
		emit(r, "wait", FIELDS(F_PID("pid", pid), F_STR("call", "waitpid"),
				      F_INT("errno", e),
				      F_STR("error", strerrorname_np(e)),
				      F_TEXT("message", strerror(e))));
		errno = e;
		return -1;
	}
	wstatus_decode(*status, &w);
	emit_wstatus(r, pid, role, "waitpid", &w);
	return 0;
}
