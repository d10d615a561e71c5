/* wait.c - every way a parent learns how its child ended, and the int that
 * says it.
 *
 * Stages: exit (_exit(0)) -> code (_exit(--code)) -> signal (SIGTERM) ->
 * core (SIGABRT with RLIMIT_CORE 0, then with the limit raised, in a
 * private directory) -> stop (SIGSTOP, WUNTRACED) -> continue (SIGCONT,
 * WCONTINUED, then SIGKILL) -> poll (a WNOHANG loop) -> peek (waitid with
 * WNOWAIT: the child stays Z) -> order (children reaped in the order they
 * end) -> echild (nothing left to wait for).
 *
 * Every child is a puppet: it blocks in read(2) until told how to end, so
 * each ending is commanded and each status observed, never assumed.
 * Stops and continues have no pidfd event; they are awaited through a
 * signalfd for SIGCHLD, which pl_wait_fd() watches together with SIGINT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

static const struct lab_option wait_options[] = {
	{ "code", "N", 0, 255, 3, "the exit code of the child that exits "
	  "with a code (and of the peeked one)" },
	{ "polls", "N", 1, 1000, 3, "empty WNOHANG polls before the polled "
	  "child is told to exit" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* A child of this lab: a puppet and what the observer knows of it. */
struct wkid {
	struct puppet p;
	struct watched *w;
	const char *role;
};

static int chldfd = -1;          /* signalfd for SIGCHLD */
static char coredir[256];        /* the core-dumping child's directory */

/* ---- starting and ending children ------------------------------------- */

static int spawn(struct run *r, struct wkid *k, const char *role)
{
	k->role = role;
	k->w = NULL;
	if (puppet_spawn(r, &k->p, role) < 0)
		return -1;
	k->w = obs_add(r, k->p.pid, k->p.pidfd, role);
	if (k->w == NULL)
		return -1;
	return obs_await(r, k->w, "S", "blocked in read(2), waiting to be "
			 "told how to end");
}

/* How <sys/wait.h> reads one int: its bits, then every macro. */
static void decode(struct run *r, pid_t pid, int raw)
{
	unsigned u = (unsigned)raw, high = (u >> 8) & 0xff,
		 core_bit = (u >> 7) & 1, low = u & 0x7f;
	char bits[24], how[200];
	size_t n = 0;

	for (int b = 15; b >= 0; b--) {
		bits[n++] = (u >> b) & 1 ? '1' : '0';
		if (b == 8 || b == 7)
			bits[n++] = ' ';
	}
	bits[n] = '\0';
	/* the real macros on the real int, never a hand decoding */
	n = (size_t)snprintf(how, sizeof(how), "WIFEXITED %d", !!WIFEXITED(raw));
	if (WIFEXITED(raw))
		n += (size_t)snprintf(how + n, sizeof(how) - n,
				      " WEXITSTATUS %d", WEXITSTATUS(raw));
	n += (size_t)snprintf(how + n, sizeof(how) - n, ", WIFSIGNALED %d",
			      !!WIFSIGNALED(raw));
	if (WIFSIGNALED(raw))
		n += (size_t)snprintf(how + n, sizeof(how) - n,
				      " WTERMSIG %d WCOREDUMP %d",
				      WTERMSIG(raw), !!WCOREDUMP(raw));
	n += (size_t)snprintf(how + n, sizeof(how) - n, ", WIFSTOPPED %d",
			      !!WIFSTOPPED(raw));
	if (WIFSTOPPED(raw))
		n += (size_t)snprintf(how + n, sizeof(how) - n, " WSTOPSIG %d",
				      WSTOPSIG(raw));
	snprintf(how + n, sizeof(how) - n, ", WIFCONTINUED %d",
		 !!WIFCONTINUED(raw));
	emitf(r, "decode",
	     FIELDS(F_PID("pid", pid), F_INT("raw", raw), F_STR("bits", bits),
		    F_INT("high", high), F_INT("core_bit", core_bit),
		    F_INT("low", low), F_STR("macros", how)),
	     "0x%04x = %s (bits 15-8: %u, bit 7: %u, bits 6-0: %u) -> %s",
	     u, bits, high, core_bit, low, how);
}

/* Wait for the zombie, collect it, show the status, see it released. */
static int reap(struct run *r, struct wkid *k, const char *why_z, int *status)
{
	if (obs_await(r, k->w, "Z", why_z))
		return -1;
	if (pl_waitpid(r, k->p.pid, k->role, status) < 0)
		return -1;
	decode(r, k->p.pid, *status);
	puppet_close(&k->p);
	return obs_await(r, k->w, "X", "reaped: its /proc entry is gone");
}

static int command_and_reap(struct run *r, struct wkid *k, enum puppet_op op,
			    int arg, const char *why_z, int *status)
{
	if (puppet_do(r, &k->p, op, (unsigned char)arg) < 0)
		return -1;
	return reap(r, k, why_z, status);
}

/* ---- SIGCHLD as an event ---------------------------------------------- */

static int sigchld_open(struct run *r)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* blocked here, so it queues for the signalfd; pl_fork() gives each
	 * child an empty mask again */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (chldfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		pl_warnx(r, "cannot watch SIGCHLD: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void sigchld_close(void)
{
	sigset_t set;

	if (chldfd >= 0)
		close(chldfd);
	chldfd = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void sigchld_drain(void)
{
	struct signalfd_siginfo si;

	while (read(chldfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid(pid, flags | WNOHANG) until it reports something.  Between
 * tries, sleep until the next SIGCHLD (the kernel sends one for every
 * stop, continue and exit of a child), watching SIGINT too.  Returns the
 * pid collected, or -1 (message given; errno set when waitpid failed). */
static pid_t wait_event(struct run *r, pid_t pid, int flags, int *status,
			const char *what)
{
	long long deadline = now_ms() + r->timeout_ms;

	for (;;) {
		pid_t got = waitpid(pid, status, flags | WNOHANG);
		long long left;

		if (got > 0)
			return got;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			pl_warnx(r, "waitpid(%d): %s", (int)pid, strerror(e));
			errno = e;
			return -1;
		}
		left = deadline - now_ms();
		if (left <= 0 || !pl_wait_fd(r, chldfd, (int)left)) {
			pl_fail(r, "expected waitpid(%d) to report %s within "
				"%d ms; it reported nothing", (int)pid, what,
				r->timeout_ms);
			errno = 0;
			return -1;
		}
		sigchld_drain();
	}
}

/* ---- the stages --------------------------------------------------------- */

static int stage_exits(struct run *r, int *raw_code, int *raw_term)
{
	struct wkid a, b, c;
	int st, code = (int)opt_val(r, "code");
	char why[96];

	stage(r, "exit", "a child calls _exit(0); waitpid() collects the "
	      "status");
	if (spawn(r, &a, "exit0") ||
	    command_and_reap(r, &a, PUP_EXIT, 0, "exited with code 0, not "
			     "waited for yet", &st))
		return -1;

	stage(r, "code", "a child calls _exit with a code: it travels in "
	      "bits 15-8");
	snprintf(why, sizeof(why), "exited with code %d, not waited for yet",
		 code);
	if (spawn(r, &b, "code") ||
	    command_and_reap(r, &b, PUP_EXIT, code, why, raw_code))
		return -1;

	stage(r, "signal", "a child is killed by SIGTERM: the signal number "
	      "travels in bits 6-0");
	if (spawn(r, &c, "term") ||
	    command_and_reap(r, &c, PUP_RAISE, SIGTERM, "killed by SIGTERM, "
			     "not waited for yet", raw_term))
		return -1;
	return 0;
}

/* wait-status-bytes: an article says "byte 8-15" and "byte 0-7 hold the error code". */
static void claim_bits(struct run *r, int code, int raw_code, int raw_term)
{
	bool bits = WEXITSTATUS(raw_code) == ((raw_code >> 8) & 0xff) &&
		    WEXITSTATUS(raw_code) == code &&
		    WTERMSIG(raw_term) == (raw_term & 0x7f) &&
		    WTERMSIG(raw_term) == SIGTERM;

	/* they are BITS of a 16-bit field, and bits 6-0 hold the number of
	 * the signal that killed the child, not an error code; bit 7 is the
	 * core flag */
	claim(r, "wait-status-bytes", bits ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("raw_code", raw_code), F_INT("code", code),
		     F_INT("raw_signal", raw_term), F_INT("signal", SIGTERM)));
}

/* The core-dumping child's private directory. */
static void coredir_remove(struct run *r)
{
	(void)r;
	if (coredir[0] == '\0')
		return;
	DIR *d = opendir(coredir);
	if (d != NULL) {
		for (struct dirent *e; (e = readdir(d)) != NULL;)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(coredir);
	coredir[0] = '\0';
}

/* Count (and delete) what the dump left in the directory. */
static int coredir_sweep(long long *bytes, char *name, size_t size)
{
	DIR *d = opendir(coredir);
	int n = 0;

	*bytes = 0;
	name[0] = '\0';
	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct stat sb;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			*bytes += sb.st_size;
		if (n++ == 0)
			snprintf(name, size, "%s", e->d_name);
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return n;
}

/* Spawn a puppet whose working directory is the private directory: a
 * relative core_pattern writes the core file there, nowhere else. */
static int spawn_in_coredir(struct run *r, struct wkid *k, const char *role)
{
	int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), rc;

	if (here < 0 || chdir(coredir) < 0) {
		pl_warnx(r, "cannot enter %s: %s", coredir, strerror(errno));
		if (here >= 0)
			close(here);
		return -1;
	}
	rc = spawn(r, k, role);
	if (fchdir(here) < 0) {
		pl_warnx(r, "cannot return to the working directory: %s",
			 strerror(errno));
		rc = -1;
	}
	close(here);
	return rc;
}

struct core_setting {
	char pattern[256];
	bool pipe, relative;
};

/* One SIGABRT under one RLIMIT_CORE, and why the core bit came out so. */
static int core_case(struct run *r, const struct core_setting *cs,
		     const char *role, rlim_t soft)
{
	struct wkid k;
	struct rlimit lim, seen;
	long long bytes;
	char file[256], why[1024], limtxt[32];
	int st, files;
	bool core;

	if (spawn_in_coredir(r, &k, role))
		return -1;
	/* set the child's soft limit from outside, then read it back */
	if (prlimit(k.p.pid, RLIMIT_CORE, NULL, &lim) < 0)
		goto fail;
	lim.rlim_cur = soft;
	if (prlimit(k.p.pid, RLIMIT_CORE, &lim, NULL) < 0 ||
	    prlimit(k.p.pid, RLIMIT_CORE, NULL, &seen) < 0)
		goto fail;
	if (command_and_reap(r, &k, PUP_RAISE, SIGABRT, "killed by SIGABRT "
			     "(after any core dump), not waited for yet", &st))
		return -1;
	core = WIFSIGNALED(st) && WCOREDUMP(st);
	files = coredir_sweep(&bytes, file, sizeof(file));
	if (seen.rlim_cur == RLIM_INFINITY)
		snprintf(limtxt, sizeof(limtxt), "unlimited");
	else
		snprintf(limtxt, sizeof(limtxt), "%llu",
			 (unsigned long long)seen.rlim_cur);
	if (core && files > 0)
		snprintf(why, sizeof(why), "bit 7 set: the kernel wrote the "
			 "core file \"%s\" (%lld bytes) in the child's "
			 "directory, as core_pattern \"%s\" says, because "
			 "RLIMIT_CORE was %s; proclab deleted it", file, bytes,
			 cs->pattern, limtxt);
	else if (core && cs->pipe)
		snprintf(why, sizeof(why), "bit 7 set: core_pattern pipes the "
			 "dump to a program (\"%s\"), which took it", cs->pattern);
	else if (core)
		snprintf(why, sizeof(why), "bit 7 set: a dump was written "
			 "outside the child's directory (core_pattern \"%s\")",
			 cs->pattern);
	else if (cs->pipe && seen.rlim_cur == 1)
		snprintf(why, sizeof(why), "bit 7 clear: core_pattern pipes "
			 "dumps to a program (\"%s\"), and for a pipe the kernel "
			 "ignores RLIMIT_CORE except the value 1, which means "
			 "\"no dump\"", cs->pattern);
	else if (seen.rlim_cur == 0)
		snprintf(why, sizeof(why), "bit 7 clear: RLIMIT_CORE 0 forbids "
			 "a core file, so none was written (%d files in the "
			 "child's directory)", files < 0 ? 0 : files);
	else
		snprintf(why, sizeof(why), "bit 7 clear although RLIMIT_CORE "
			 "was %s: the kernel wrote no dump (core_pattern "
			 "\"%s\")", limtxt, cs->pattern);
	emitf(r, "core",
	     FIELDS(F_PID("pid", k.p.pid), F_INT("raw", st),
		    seen.rlim_cur == RLIM_INFINITY
			    ? F_NULL("rlimit_core")
			    : F_INT("rlimit_core", (long long)seen.rlim_cur),
		    F_STR("core_pattern", cs->pattern), F_BOOL("pipe", cs->pipe),
		    F_BOOL("core", core), F_INT("files", files),
		    F_MEAS("bytes", bytes),
		    /* the sentence names the size when there is a file */
		    bytes > 0 ? F_MEAS("why", why) : F_STR("why", why)),
	     "%s", why);
	return 0;
fail:
	pl_warnx(r, "cannot set RLIMIT_CORE of %d: %s", (int)k.p.pid,
		 strerror(errno));
	return -1;
}

static int stage_core(struct run *r)
{
	struct core_setting cs = { .pipe = false };
	struct rlimit mine;
	const char *tmp = getenv("TMPDIR");
	size_t len;

	stage(r, "core", "a child raises SIGABRT: with RLIMIT_CORE 0, then "
	      "with the limit raised (in a private directory)");
	if (proc_read_sysctl("kernel/core_pattern", cs.pattern,
			     sizeof(cs.pattern), &len) != PROC_OK)
		snprintf(cs.pattern, sizeof(cs.pattern), "(unreadable)");
	cs.pipe = cs.pattern[0] == '|';
	cs.relative = !cs.pipe && cs.pattern[0] != '/' &&
		      cs.pattern[0] != '(';
	if (getrlimit(RLIMIT_CORE, &mine) < 0) {
		pl_warnx(r, "getrlimit: %s", strerror(errno));
		return -1;
	}
	snprintf(coredir, sizeof(coredir), "%s/proclab-wait.XXXXXX",
		 tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(coredir) == NULL) {
		pl_warnx(r, "cannot create %s: %s", coredir, strerror(errno));
		coredir[0] = '\0';
		return -1;
	}
	run_on_cleanup(r, coredir_remove); /* also if a signal ends us here */

	/* for a pipe the kernel ignores a limit of 0; 1 still means no */
	if (core_case(r, &cs, "core-off", cs.pipe ? 1 : 0))
		return -1;
	if (!cs.relative)
		emitf(r, "note", FIELDS(F_STR("core_pattern", cs.pattern)),
		     "core_pattern \"%s\" sends dumps outside the child's "
		     "directory; proclab leaves no core file behind, so it "
		     "does not raise the limit", cs.pattern);
	else if (mine.rlim_max == 0)
		emitf(r, "note", FIELDS(F_STR("core_pattern", cs.pattern)),
		     "the hard RLIMIT_CORE is 0: a core dump cannot be allowed "
		     "here, so there is no case with the bit set");
	else if (core_case(r, &cs, "core-on", mine.rlim_max))
		return -1;
	coredir_remove(r);
	run_on_cleanup(r, NULL);
	return 0;
}

/* A status waitpid() returned for a live child: reported, its bits
 * decoded, and checked to be the stop (or the continue) the stage shows. */
static int report_status(struct run *r, const struct wkid *k, int st,
			 bool continued)
{
	struct wstatus ws;

	wstatus_decode(st, &ws);
	emit_wstatus(r, k->p.pid, k->role, "waitpid", &ws);
	decode(r, k->p.pid, st);
	if (continued ? !ws.continued : !ws.stopped)
		return pl_fail(r, "expected a %s status; got 0x%04x",
			       continued ? "continue" : "stop", (unsigned)st);
	return 0;
}

static int stage_stop(struct run *r)
{
	struct wkid k;
	int st, rc;

	stage(r, "stop", "SIGSTOP to a child; waitpid(WUNTRACED) reports the "
	      "stop without reaping");
	if (spawn(r, &k, "stopped"))
		return -1;
	if (pl_kill(r, k.p.pid, SIGSTOP) < 0)
		goto fail;
	if (obs_await(r, k.w, "T", "stopped by SIGSTOP from proclab"))
		return -1;
	if (wait_event(r, k.p.pid, WUNTRACED, &st, "the stop") < 0)
		return -1;
	if ((rc = report_status(r, &k, st, false)) != 0)
		return rc;

	stage(r, "continue", "SIGCONT to the stopped child; "
	      "waitpid(WCONTINUED) reports it; then SIGKILL");
	if (pl_kill(r, k.p.pid, SIGCONT) < 0)
		goto fail;
	if (obs_await(r, k.w, "S", "running again: back in read(2)"))
		return -1;
	if (wait_event(r, k.p.pid, WCONTINUED, &st, "the continue") < 0)
		return -1;
	if ((rc = report_status(r, &k, st, true)) != 0)
		return rc;
	if (pl_kill(r, k.p.pid, SIGKILL) < 0)
		goto fail;
	return reap(r, &k, "killed by SIGKILL from proclab, not waited for "
		    "yet", &st);
fail:
	pl_warnx(r, "cannot signal %d: %s", (int)k.p.pid, strerror(errno));
	return -1;
}

static int stage_poll(struct run *r)
{
	struct wkid k;
	long long deadline;
	int st, polls = 0, tell = (int)opt_val(r, "polls");
	pid_t got;

	stage(r, "poll", "a WNOHANG loop: waitpid() returns 0 until the "
	      "child has ended");
	if (spawn(r, &k, "polled"))
		return -1;
	deadline = now_ms() + r->timeout_ms;
	for (;;) {
		got = waitpid(k.p.pid, &st, WNOHANG);
		if (got == k.p.pid)
			break;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pl_warnx(r, "waitpid(%d): %s", (int)k.p.pid,
				 strerror(errno));
			return -1;
		}
		polls++;
		/* what this loop does between calls: look at the child */
		obs_sample(r, k.w, NULL, NULL);
		pl_wait_fd(r, -1, 0);   /* SIGINT still ends proclab */
		if (polls == tell &&
		    puppet_do(r, &k.p, PUP_EXIT, 0) < 0)
			return -1;
		if (now_ms() > deadline)
			return pl_fail(r, "expected the polled child %d to end "
				       "within %d ms; %d polls found nothing",
				       (int)k.p.pid, r->timeout_ms, polls);
	}
	emitf(r, "poll", FIELDS(F_PID("pid", k.p.pid), F_MEAS("polls", polls),
			       F_INT("told_after", tell)),
	     "waitpid(%d, WNOHANG) returned 0 %d times before it collected "
	     "the child (told to exit after %d); a blocking waitpid() makes "
	     "one call and sleeps instead", (int)k.p.pid, polls, tell);
	{
		struct wstatus ws;
		wstatus_decode(st, &ws);
		emit_wstatus(r, k.p.pid, k.role, "waitpid", &ws);
		decode(r, k.p.pid, st);
	}
	puppet_close(&k.p);
	return obs_await(r, k.w, "X", "reaped: its /proc entry is gone");
}

static int stage_peek(struct run *r)
{
	struct wkid k;
	struct wstatus ws;
	siginfo_t si;
	char how[64];
	int st, code = (int)opt_val(r, "code");

	stage(r, "peek", "waitid(WEXITED|WNOWAIT) reads the status and leaves "
	      "the zombie; then waitpid() reaps it");
	if (spawn(r, &k, "peeked") ||
	    puppet_do(r, &k.p, PUP_EXIT, (unsigned char)code) < 0 ||
	    obs_await(r, k.w, "Z", "exited, not waited for yet"))
		return -1;
	/* by pidfd where pidfds work, else by pid (child.h) */
	const char *idtype = kid_pidfd(r, k.p.pid) >= 0 ? "P_PIDFD" : "P_PID";
	memset(&si, 0, sizeof(si));
	if (pl_waitid(r, k.p.pid, &si, WEXITED | WNOWAIT | WNOHANG) < 0) {
		pl_warnx(r, "waitid(%s, %d): %s", idtype, (int)k.p.pid,
			 strerror(errno));
		return -1;
	}
	if (si.si_pid != k.p.pid || wstatus_from_siginfo(&si, &ws) < 0) {
		pl_warnx(r, "waitid(%s, %d): nothing to report", idtype,
			 (int)k.p.pid);
		return -1;
	}
	wstatus_describe(&ws, how, sizeof(how));
	obs_sample(r, k.w, "Z", NULL);
	emitf(r, "peek",
	     FIELDS(F_PID("pid", k.p.pid), F_PID("by", getpid()),
		    F_STR("call", "waitid"), F_BOOL("exited", ws.exited),
		    ws.exited ? F_INT("code", ws.code) : F_NULL("code"),
		    F_BOOL("signaled", ws.signaled), F_CHAR("state", k.w->state)),
	     "waitid(%s, WEXITED|WNOWAIT) saw %s %d: %s (si_code %s, "
	     "si_status %d); /proc then showed %c%s", idtype, k.role,
	     (int)k.p.pid,
	     how, wstatus_si_code_name(si.si_code), si.si_status, k.w->state,
	     k.w->state == 'Z' ? ": nothing was collected" : "");
	if (k.w->state != 'Z')
		return pl_fail(r, "expected %s %d to stay Z after the peek; "
			       "/proc showed %c", k.role, (int)k.p.pid,
			       k.w->state);
	return reap(r, &k, "still a zombie", &st);
}

/* "101,102,103" */
static void pid_list(char *buf, size_t size, const pid_t *p, int n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d",
					i ? "," : "", (int)p[i]);
}

static const char *role_of(struct wkid *k, int n, pid_t pid, int *idx)
{
	for (int i = 0; i < n; i++)
		if (k[i].p.pid == pid) {
			*idx = i;
			return k[i].role;
		}
	*idx = -1;
	return "?";
}

/* Collect whatever child has ended, with waitpid(-1): like wait(). */
static int reap_any(struct run *r, struct wkid *k, int n, pid_t *reaped)
{
	struct wstatus ws;
	const char *role;
	pid_t got;
	int st, i;

	got = wait_event(r, -1, 0, &st, "an ended child");
	if (got < 0)
		return -1;
	role = role_of(k, n, got, &i);
	wstatus_decode(st, &ws);
	emit_wstatus(r, got, role, "waitpid", &ws);
	decode(r, got, st);
	*reaped = got;
	if (i < 0)
		return pl_fail(r, "waitpid(-1) collected %d, not one of the "
			       "children of this stage", (int)got);
	puppet_close(&k[i].p);
	return obs_await(r, k[i].w, "X", "reaped: its /proc entry is gone");
}

/* Three children end in the order given (indexes into made order). */
static int order_round(struct run *r, struct wkid *k, const char *const *roles,
		       bool all_first)
{
	static const int ends[3] = { 2, 0, 1 };
	pid_t made[3], ended[3], reaped[3];
	char m[64], e[64], g[64];
	bool as_ended = true, as_made = true;
	const char *mode = all_first ? "all-ended-first" : "one-at-a-time";

	for (int i = 0; i < 3; i++) {
		if (spawn(r, &k[i], roles[i]))
			return -1;
		made[i] = k[i].p.pid;
	}
	for (int i = 0; i < 3; i++) {
		struct wkid *x = &k[ends[i]];

		ended[i] = x->p.pid;
		if (puppet_do(r, &x->p, PUP_EXIT, (unsigned char)(i + 1)) < 0)
			return -1;
		if (all_first) {
			if (obs_await(r, x->w, "Z", "exited; nobody waits yet"))
				return -1;
		} else if (reap_any(r, k, 3, &reaped[i])) {
			return -1;
		}
	}
	for (int i = 0; all_first && i < 3; i++)
		if (reap_any(r, k, 3, &reaped[i]))
			return -1;
	for (int i = 0; i < 3; i++) {
		as_ended = as_ended && reaped[i] == ended[i];
		as_made = as_made && reaped[i] == made[i];
	}
	pid_list(m, sizeof(m), made, 3);
	pid_list(e, sizeof(e), ended, 3);
	pid_list(g, sizeof(g), reaped, 3);
	emitf(r, "order",
	     FIELDS(F_STR("mode", mode), F_PIDS("made", m), F_PIDS("ended", e),
		    F_PIDS("reaped", g), F_BOOL("as_ended", as_ended),
		    F_BOOL("as_made", as_made)),
	     "made %s, ended %s, waitpid(-1) returned %s: %s", m, e, g,
	     !all_first ? (as_ended ? "each wait returned the child that "
			  "had just ended" : "not in the order they ended")
	     : as_made ? "with all three already zombies, Linux hands them "
			 "out in the order they were made (its list of "
			 "children), not the order they ended"
	     : as_ended ? "in the order they ended"
	     : "in neither the order made nor the order ended");
	if (!all_first && !as_ended)
		return pl_fail(r, "expected waitpid(-1) to return each child "
			       "as it ended (%s); it returned %s", e, g);
	return 0;
}

static int stage_order(struct run *r)
{
	static const char *const one[3] = { "a", "b", "c" };
	static const char *const all[3] = { "d", "e", "f" };
	struct wkid k[3];

	stage(r, "order", "three children end in another order than they were "
	      "made; waitpid(-1) after each end");
	if (order_round(r, k, one, false))
		return -1;
	stage(r, "zombies", "three children end the same way, all before "
	      "anyone waits; then waitpid(-1) three times");
	return order_round(r, k, all, true);
}

static int stage_echild(struct run *r)
{
	int st, e;
	pid_t got;

	stage(r, "echild", "waitpid(-1) with no child left");
	got = waitpid(-1, &st, WNOHANG);
	if (got >= 0)
		return pl_fail(r, "expected waitpid(-1) to fail with ECHILD; "
			       "it returned %d", (int)got);
	e = errno;
	emitf(r, "wait", FIELDS(F_PID("pid", -1), F_STR("call", "waitpid"),
			       F_INT("errno", e),
			       F_STR("error", strerrorname_np(e))),
	     "waitpid(-1) failed: %s (%s): every child has been collected, "
	     "so there is nothing to wait for, not even forever",
	     strerrorname_np(e), strerror(e));
	if (e != ECHILD)
		return pl_fail(r, "expected ECHILD; got %s",
			       strerrorname_np(e));
	return 0;
}

static int wait_run(struct run *r)
{
	int raw_code, raw_term, rc = PL_EXIT_FAIL;

	if (sigchld_open(r))
		return PL_EXIT_FAIL;
	if (stage_exits(r, &raw_code, &raw_term))
		goto out;
	claim_bits(r, (int)opt_val(r, "code"), raw_code, raw_term);
	if (stage_core(r) || stage_stop(r) || stage_poll(r) ||
	    stage_peek(r) || stage_order(r) || stage_echild(r))
		goto out;
	rc = PL_EXIT_OK;
out:
	sigchld_close();
	return rc;
}

const struct lab lab_wait = {
	.name = "wait",
	.summary = "how a parent learns how a child ended: the wait status, "
		   "bit by bit",
	.description =
		"Children end every way a parent can learn of: _exit(0), "
		"_exit(code), killed\nby SIGTERM, SIGABRT with and without a "
		"core dump, stopped (WUNTRACED) and\ncontinued (WCONTINUED).  "
		"Each status is shown as raw bits and as the\n<sys/wait.h> "
		"macros read it.  Then: a WNOHANG polling loop, waitid() with\n"
		"WNOWAIT (the child stays a zombie), waitpid(-1) returning "
		"children as they\nend, and ECHILD when none is left.",
	.options = wait_options,
	.run = wait_run,
};
