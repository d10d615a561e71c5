/* child.c - fork children that cannot outlive proclab; puppets. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
			pl_warnx(r, "cannot open a pidfd for %d: %s", (int)pid,
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
	struct timespec t0, now;

	if (k == NULL)
		return 1;
	if (k->pidfd >= 0)
		return pl_wait_fd(r, k->pidfd, timeout_ms);
	/* no exit event to sleep on: look every millisecond, as the
	 * observer does (signals still end proclab meanwhile) */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!kid_ended(k)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_ms >= 0 &&
		    (now.tv_sec - t0.tv_sec) * 1000 +
		    (now.tv_nsec - t0.tv_nsec) / 1000000 >= timeout_ms)
			return 0;
		pl_wait_fd(r, -1, 1);
	}
	return 1;
}

pid_t pl_fork(struct run *r, const char *role, int *pidfd)
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
		pl_warnx(r, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* async-signal-safe calls only from here on */
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);       /* proclab ignores it */
		/* die with proclab; if it died before the request, go now */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != parent)
			_exit(127);
		prctl(PR_SET_NAME, comm);
		return 0;
	}
	if (!r->no_pidfd && (fd = pidfd_open(pid, 0)) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pl_warnx(r, "cannot open a pidfd for %d: %s", (int)pid,
			 strerror(e));
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

/* ---- the puppet, inside the child (async-signal-safe only) ------------- */

enum { PUP_CMD_FD = 3, PUP_ACK_FD = 4, PUP_READY = '!' };

static size_t page_size = 4096;

static void pup_ack(unsigned char op)
{
	if (write(PUP_ACK_FD, &op, 1) != 1)
		_exit(126);
}

/* Read the next 2-byte command; blocking (S) or spinning (R). */
static void pup_next(unsigned char m[2], bool spin)
{
	ssize_t n;

	if (spin && fcntl(PUP_CMD_FD, F_SETFL, O_NONBLOCK) < 0)
		_exit(126);
	do
		n = read(PUP_CMD_FD, m, 2);
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	if (spin && fcntl(PUP_CMD_FD, F_SETFL, 0) < 0)
		_exit(126);
	if (n != 2)        /* EOF: proclab is gone, so are we */
		_exit(0);
}

static void pup_touch(unsigned mib)
{
	size_t len = (size_t)mib << 20;
	char *p;

	if (len == 0)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(125);
	for (size_t off = 0; off < len; off += page_size)
		p[off] = 1;
}

/* The vfork child.  It shares the puppet's memory (CLONE_VM) and runs on
 * its own stack, so it may make system calls but must write nothing of
 * the puppet's: no stdio, no globals. */
static int __attribute__((no_sanitize("address"))) pup_vchild(void *arg)
{
	pid_t parent = (pid_t)(intptr_t)arg, me;
	unsigned char msg[1 + sizeof(pid_t)], m[2];
	ssize_t n;

	/* the death signal is not inherited through clone: ask again */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	prctl(PR_SET_NAME, "proclab-vfork");
	me = getpid();
	msg[0] = PUP_VFORK;
	memcpy(msg + 1, &me, sizeof(me));
	if (write(PUP_ACK_FD, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		_exit(126);
	do
		n = read(PUP_CMD_FD, m, 2);
	while (n < 0 && errno == EINTR);
	_exit(n == 2 && m[0] == PUP_RELEASE ? 0 : 124);
}

/* clone(CLONE_VM|CLONE_VFORK) as posix_spawn does: the caller sleeps in
 * wait_for_vfork_done (D) until the child exits or execs. */
static void pup_vfork(void)
{
	size_t size = 64 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pid_t pid;

	if (stack == MAP_FAILED)
		_exit(125);
	pid = clone(pup_vchild, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD,
		    (void *)(intptr_t)getpid());
	if (pid < 0)
		_exit(125);
	/* released: the child has exited; reap it */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	munmap(stack, size);
}

static void __attribute__((noreturn)) puppet_main(int cmd, int ack)
{
	unsigned char m[2];
	bool spin = false;
	int a = fcntl(cmd, F_DUPFD, 10), b = fcntl(ack, F_DUPFD, 10);

	if (a < 0 || b < 0 || dup2(a, PUP_CMD_FD) < 0 ||
	    dup2(b, PUP_ACK_FD) < 0)
		_exit(126);
	/* hold nothing else: no sibling's pipe, no proclab fd */
	if (close_range(PUP_ACK_FD + 1, ~0U, 0) < 0)
		_exit(126);     /* Linux < 5.9: refuse to run with leaked fds */
	pup_ack(PUP_READY);
	for (;;) {
		pup_next(m, spin);
		spin = false;
		switch (m[0]) {
		case PUP_SPIN:
			pup_ack(m[0]);
			spin = true;
			break;
		case PUP_SLEEP:
			pup_ack(m[0]);
			break;
		case PUP_TOUCH:
			pup_touch(m[1]);
			pup_ack(m[0]);
			break;
		case PUP_RAISE:
			raise(m[1]);
			break;
		case PUP_EXIT:
			_exit(m[1]);
		case PUP_VFORK:
			pup_vfork();    /* answered by the vfork child */
			break;
		default:
			_exit(124);
		}
	}
}

/* ---- the puppet, seen from proclab ------------------------------------- */

static int pup_wait_ack(struct run *r, struct puppet *p, unsigned char want)
{
	unsigned char got;
	ssize_t n;

	if (!pl_wait_fd(r, p->ack, r->timeout_ms)) {
		pl_warnx(r, "child %d did not answer within %d ms", (int)p->pid,
			 r->timeout_ms);
		return -1;
	}
	do
		n = read(p->ack, &got, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || got != want) {
		pl_warnx(r, "child %d %s", (int)p->pid,
			 n == 0 ? "ended unexpectedly" : "answered garbage");
		return -1;
	}
	return 0;
}

int puppet_spawn(struct run *r, struct puppet *p, const char *role)
{
	int cmd[2], ack[2];

	p->pid = p->vchild = -1;
	p->cmd = p->ack = p->pidfd = p->vchild_pidfd = -1;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (pipe2(cmd, O_CLOEXEC) < 0) {
		pl_warnx(r, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ack, O_CLOEXEC) < 0) {
		pl_warnx(r, "cannot create a pipe: %s", strerror(errno));
		close(cmd[0]);
		close(cmd[1]);
		return -1;
	}
	p->pid = pl_fork(r, role, &p->pidfd);
	if (p->pid == 0)
		puppet_main(cmd[0], ack[1]);
	close(cmd[0]);
	close(ack[1]);
	p->cmd = cmd[1];
	p->ack = ack[0];
	if (p->pid < 0) {
		puppet_close(p);
		return -1;
	}
	return pup_wait_ack(r, p, PUP_READY);
}

/* After PUP_VFORK's answer: the vfork child's pid, in the same write. */
static int pup_vchild_pid(struct run *r, struct puppet *p)
{
	pid_t pid;
	ssize_t n;

	do
		n = read(p->ack, &pid, sizeof(pid));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(pid) || pid <= 0) {
		pl_warnx(r, "child %d did not say its vfork child's pid",
			 (int)p->pid);
		return -1;
	}
	if (pl_track(r, pid, &p->vchild_pidfd) < 0)
		return -1;
	p->vchild = pid;
	return 0;
}

int puppet_do(struct run *r, struct puppet *p, enum puppet_op op,
	      unsigned char arg)
{
	unsigned char m[2] = { (unsigned char)op, arg };
	ssize_t n;

	do
		n = write(p->cmd, m, 2);
	while (n < 0 && errno == EINTR);
	if (n != 2) {
		pl_warnx(r, "cannot command child %d: %s", (int)p->pid,
			 n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	if (op == PUP_EXIT || op == PUP_RAISE || op == PUP_RELEASE)
		return 0;
	if (pup_wait_ack(r, p, (unsigned char)op) < 0)
		return -1;
	if (op == PUP_VFORK)
		return pup_vchild_pid(r, p);
	return 0;
}

void puppet_close(struct puppet *p)
{
	if (p->cmd >= 0)
		close(p->cmd);
	if (p->ack >= 0)
		close(p->ack);
	p->cmd = p->ack = -1;
}
