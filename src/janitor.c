/* janitor.c - the run's own process group, and the janitor that clears up
 * when proclab dies without a teardown (SIGKILL, a crash).
 *
 * Before a lab's first fork, proclab forks the janitor: it leads a new
 * process group, the run's, and pl_fork() puts every child in it (agents'
 * children and orphans inherit it).  So the signals a terminal sends to
 * its foreground process group (Ctrl-C, Ctrl-\, Ctrl-Z) and `kill --
 * -PGID` of proclab's group reach proclab alone: no child dies on its own
 * before teardown, which then kills and reaps them in order, a child
 * subreaper by then, so that no grandchild goes to PID 1.  (The other way,
 * becoming a subreaper before the first fork, would change what the orphan
 * lab demonstrates: adoption by PID 1.)
 *
 * The janitor blocks every signal and asks for SIGUSR1 when proclab dies
 * (PR_SET_PDEATHSIG).  Until then it only reads, from a pipe, the paths
 * proclab registers (run_mkdtemp()).  When proclab dies it SIGKILLs every
 * other process still in the run's group - stopped ones, an orphan that
 * asks for no parent-death signal, a child stopped before it could ask -
 * waits until none is left, removes the registered directories, and
 * exits.  An orderly teardown does all that itself and then kills the
 * janitor.
 *
 * The janitor is proclab's child, but with no exit signal, so that
 * waitpid(-1) in a lab does not see it (the wait lab's ECHILD); ps shows
 * it as proclab-janitor.  It does not exec: from its clone to _exit()
 * it makes system calls only (no stdio, no malloc, no opendir).
 */
#include "proclab.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* One registration: a path, NUL-padded; one write(2) each (< PIPE_BUF). */
struct janitor_msg {
	char path[JANITOR_PATH];
};

/* ---- inside the janitor (system calls only) ------------------------------ */

/* The state and process group of /proc/PID/stat (0 on any failure).  comm
 * may hold ") ", so the fields start after the last ')'. */
static char stat_of(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char path[32], buf[512], *p = path, *end;
	char digits[12];
	int n = 0, fd;
	ssize_t len;
	long v[2] = { 0, 0 };

	for (unsigned u = (unsigned)pid; u > 0 || n == 0; u /= 10)
		digits[n++] = (char)('0' + u % 10);
	memcpy(p, "/proc/", 6);
	p += 6;
	while (n > 0)
		*p++ = digits[--n];
	memcpy(p, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	end = strrchr(buf, ')');
	if (end == NULL || end[1] != ' ' || end[2] == '\0' || end[3] != ' ')
		return 0;
	p = end + 4;            /* the ppid */
	for (int i = 0; i < 2; i++) {
		while (*p >= '0' && *p <= '9')
			v[i] = v[i] * 10 + (*p++ - '0');
		if (*p++ != ' ')
			return 0;
	}
	*ppid = (pid_t)v[0];
	*pgrp = (pid_t)v[1];
	return end[2];
}

/* The pid a /proc entry names, 0 if not a number. */
static pid_t entry_pid(const char *name)
{
	long v = 0;

	if (*name == '\0')
		return 0;
	for (; *name != '\0'; name++) {
		if (*name < '0' || *name > '9' || v > INT_MAX / 10)
			return 0;
		v = v * 10 + (*name - '0');
	}
	return (pid_t)v;
}

/* The record layout getdents64(2) fills. */
struct dent64 {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* SIGKILL every process of group pgid but us that has not ended; returns
 * how many were alive.  Through a pidfd opened first and checked after
 * (the pid might have been released and reused between the read of its
 * stat and the kill); without pidfds, by pid. */
static int kill_group_once(pid_t pgid, pid_t self)
{
	char buf[4096];
	int d = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), alive = 0;
	ssize_t n;

	if (d < 0)
		return 0;
	while ((n = getdents64(d, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dent64 *e = (struct dent64 *)(buf + off);
			pid_t pid = entry_pid(e->name), ppid, pgrp;
			char st;
			int fd;

			off += e->reclen;
			if (pid <= 0 || pid == self)
				continue;
			st = stat_of(pid, &ppid, &pgrp);
			if (st == 0 || pgrp != pgid || st == 'Z' || st == 'X')
				continue;
			alive++;
			fd = pidfd_open(pid, 0);
			if (fd >= 0) {
				st = stat_of(pid, &ppid, &pgrp);
				if (st != 0 && pgrp == pgid)
					pidfd_send_signal(fd, SIGKILL, NULL, 0);
				close(fd);
			} else if (errno == ENOSYS || errno == EPERM) {
				kill(pid, SIGKILL);
			}
		}
	}
	close(d);
	return alive;
}

/* Empty directory `path` (one level: the files a lab's child wrote) and
 * remove it.  A path that is not there is fine. */
static void remove_dir(const char *path)
{
	char buf[4096];
	int d = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (d < 0)
		return;
	while ((n = getdents64(d, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dent64 *e = (struct dent64 *)(buf + off);

			off += e->reclen;
			if (strcmp(e->name, ".") == 0 ||
			    strcmp(e->name, "..") == 0)
				continue;
			if (unlinkat(d, e->name, 0) < 0 && errno == EISDIR)
				unlinkat(d, e->name, AT_REMOVEDIR);
		}
	}
	close(d);
	rmdir(path);
}

static void __attribute__((noreturn)) janitor_main(int rfd, pid_t parent)
{
	static char paths[JANITOR_PATHS][JANITOR_PATH];
	struct timespec tick = { 0, 1000000 };
	struct janitor_msg m;
	sigset_t all, death;
	int npaths = 0, sfd, null;
	struct pollfd p[2];

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	sigemptyset(&death);
	sigaddset(&death, SIGUSR1);
	sfd = signalfd(-1, &death, SFD_CLOEXEC);
	if (sfd < 0 || prctl(PR_SET_PDEATHSIG, SIGUSR1) < 0)
		_exit(AGENT_EXIT_SETUP);
	prctl(PR_SET_NAME, "proclab-janitor");
	if (chdir("/") < 0)        /* holds no directory busy */
		_exit(AGENT_EXIT_SETUP);
	/* hold nothing of proclab's: not its terminal or the pipe its
	 * reader waits on for EOF */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(rfd, 3) < 0 || dup2(sfd, 4) < 0)
		_exit(AGENT_EXIT_SETUP);
	for (int fd = 0; fd <= 2; fd++)
		dup2(null, fd);
	close_range(5, ~0U, 0);
	p[0] = (struct pollfd){ .fd = 3, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = 4, .events = POLLIN };
	/* proclab gone before we asked for the signal: clear up now */
	while (getppid() == parent) {
		if (poll(p, 2, -1) < 0)
			continue;       /* EINTR: nothing is delivered here */
		if (p[1].revents != 0)
			break;
		if (p[0].revents == 0)
			continue;
		if (read(3, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
			if (npaths < JANITOR_PATHS) {
				memcpy(paths[npaths], m.path, sizeof(m.path));
				paths[npaths++][JANITOR_PATH - 1] = '\0';
			}
		} else {
			p[0].fd = -1;   /* EOF: nothing more will come */
		}
	}
	/* what proclab wrote before it died is still in the pipe */
	fcntl(3, F_SETFL, O_NONBLOCK);
	while (npaths < JANITOR_PATHS &&
	       read(3, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		memcpy(paths[npaths], m.path, sizeof(m.path));
		paths[npaths++][JANITOR_PATH - 1] = '\0';
	}
	/* Kill until none is left: a process forked while we looked is
	 * found the next time.  They are not our children, so there is no
	 * event to wait for: look again every millisecond, for at most ten
	 * seconds. */
	for (int i = 0; i < 10000 && kill_group_once(getpid(), getpid()) > 0;
	     i++)
		nanosleep(&tick, NULL);
	for (int i = 0; i < npaths; i++)
		remove_dir(paths[i]);
	_exit(0);
}

/* ---- proclab's side ---------------------------------------------------------- */

int janitor_start(struct run *r)
{
	pid_t parent = getpid(), pid;
	int p[2];

	r->janitor = 0;
	r->janitor_fd = -1;
	r->pgid = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* fork, but with no exit signal: a "clone" child, which waitpid(-1)
	 * does not wait for (only __WALL or __WCLONE do), so that the labs'
	 * waitpid(-1) and ECHILD see the lab's children alone.  A raw clone
	 * skips glibc's fork handlers; the janitor makes system calls only. */
	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, 0UL);
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		/* async-signal-safe calls only from here on */
		setpgid(0, 0);
		janitor_main(p[0], parent);
	}
	close(p[0]);
	/* both sides ask, so that the group exists once fork returns here */
	if (setpgid(pid, pid) < 0 && errno != EACCES) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WCLONE);
		close(p[1]);
		errno = e;
		return -1;
	}
	r->janitor = pid;
	r->janitor_fd = p[1];
	r->pgid = pid;
	/* With `stty tostop`, a background group that writes to the
	 * terminal gets SIGTTOU and stops: the lab's children (exit-vs-_exit
	 * prints) then ignore it, as they may only when it is set. */
	for (int fd = 1; fd <= 2; fd++) {
		struct termios t;

		if (tcgetattr(fd, &t) == 0 && (t.c_lflag & TOSTOP))
			r->ttou_ign = true;
	}
	return 0;
}

void janitor_stop(struct run *r)
{
	if (r->janitor <= 0)
		return;
	/* still our unreaped child: its pid names it */
	kill(r->janitor, SIGKILL);
	while (waitpid(r->janitor, NULL, __WCLONE) < 0 && errno == EINTR)
		;
	close(r->janitor_fd);
	r->janitor = 0;
	r->janitor_fd = -1;
}

int run_mkdtemp(struct run *r, char *tmpl)
{
	size_t len = strlen(tmpl);
	static const char set[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (len < 6 || len >= JANITOR_PATH ||
	    strcmp(tmpl + len - 6, "XXXXXX") != 0) {
		errno = EINVAL;
		return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		struct janitor_msg m;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			long long t = pl_now_ns() ^ (long long)getpid() << 20;
			memcpy(rnd, &t, sizeof(rnd));
		}
		for (int i = 0; i < 6; i++)
			tmpl[len - 6 + i] = set[rnd[i] % (sizeof(set) - 1)];
		/* registered before it exists: no moment when it exists and
		 * the janitor does not know it */
		memset(&m, 0, sizeof(m));
		memcpy(m.path, tmpl, len);
		if (r->janitor_fd >= 0 &&
		    write(r->janitor_fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
			return -1;
		if (mkdir(tmpl, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* ---- what proclab inherited ---------------------------------------------- */

static void note_inherited(struct run *r, pid_t pid)
{
	pid_t *more = realloc(r->inherited, sizeof(pid_t) *
			      (size_t)(r->ninherited + 1));

	if (more == NULL)
		return;
	r->inherited = more;
	r->inherited[r->ninherited++] = pid;
}

void run_note_inherited(struct run *r)
{
	char path[64];
	FILE *f;
	DIR *d;

	r->ninherited = 0;
	/* the kernel's list of our children (CONFIG_PROC_CHILDREN): one
	 * file, not a look at every process */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)r->self,
		 (int)r->self);
	if ((f = fopen(path, "re")) != NULL) {
		int pid;

		while (fscanf(f, "%d", &pid) == 1)
			if (pid > 0)
				note_inherited(r, (pid_t)pid);
		fclose(f);
		return;
	}
	if ((d = opendir("/proc")) == NULL)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		pid_t pid = entry_pid(e->d_name), ppid, pgrp;

		if (pid > 0 && stat_of(pid, &ppid, &pgrp) != 0 &&
		    ppid == r->self)
			note_inherited(r, pid);
	}
	closedir(d);
}

bool run_inherited(const struct run *r, pid_t pid)
{
	for (int i = 0; i < r->ninherited; i++)
		if (r->inherited[i] == pid)
			return true;
	return false;
}

/* Kill and reap every child of ours the run made: in the run's group, or
 * out of it (a child that left it, one adopted at teardown), but never one
 * proclab inherited across exec (run_note_inherited()) nor the janitor.
 * Our children cannot be released before we reap them, so their pids name
 * them while we look.  A child we cannot signal (EPERM) is not waited for. */
void run_reap_own(struct run *r)
{
	for (;;) {
		DIR *d = opendir("/proc");
		pid_t other = 0;
		bool grouped = false;
		int left = 0;

		if (d == NULL)
			return;
		for (struct dirent *e; (e = readdir(d)) != NULL;) {
			pid_t pid = entry_pid(e->d_name), ppid, pgrp;
			char st;

			if (pid <= 0 || pid == r->janitor ||
			    (st = stat_of(pid, &ppid, &pgrp)) == 0 ||
			    ppid != r->self || run_inherited(r, pid))
				continue;
			/* a zombie whose threads are still on their way out
			 * (a killed thread group's leader shows Z before the
			 * group is done) cannot be reaped yet: wait for it */
			if (st == 'Z') {
				if (waitpid(pid, NULL, WNOHANG) == 0) {
					left++;
					other = pid;
				}
				continue;
			}
			if (kill(pid, SIGKILL) < 0)
				continue;
			left++;
			if (r->pgid > 0 && pgrp == r->pgid)
				grouped = true;
			else
				other = pid;
		}
		closedir(d);
		if (left == 0)
			return;
		/* one of them ends: look again */
		while (waitpid(grouped ? -r->pgid : other, NULL, 0) < 0 &&
		       errno == EINTR)
			;
	}
}
