/* run.c - one run of a lab: stages, pauses, failures, signals, teardown.
 *
 * The signals that end proclab (SIGINT, SIGTERM, SIGHUP, SIGQUIT) are
 * blocked and read from a signalfd, never handled in a handler: every wait
 * proclab does goes through pl_wait_fd() or the observer's ppoll, both of
 * which watch that fd.  When one arrives, every child is killed and reaped
 * and proclab exits 128 + signo.  SIGCONT is read there too: after a stop
 * (Ctrl-Z, then fg) a failed stage says that proclab was stopped.
 */
#include "i18n.h"
#include "proclab.h"

#define CAP_SYS_NICE_BIT 23     /* linux/capability.h: CAP_SYS_NICE */

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

double run_elapsed(const struct run *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->t0.tv_sec) +
	       (double)(now.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static int opt_index(const struct run *r, const char *name)
{
	const struct lab_option *o = r->lab->options;

	for (int i = 0; o != NULL && o[i].name != NULL; i++)
		if (strcmp(o[i].name, name) == 0)
			return i;
	return -1;
}

long long opt_val(const struct run *r, const char *name)
{
	int i = opt_index(r, name);

	if (i < 0)
		abort();        /* a lab asked for an option it doesn't have */
	return r->set[i] ? r->val[i] : r->lab->options[i].def;
}

const char *opt_text(const struct run *r, const char *name)
{
	const struct lab_text_option *t = r->lab->text_options;

	for (int i = 0; t != NULL && t[i].name != NULL; i++)
		if (strcmp(t[i].name, name) == 0)
			return r->text[i];
	abort();        /* a lab asked for an option it doesn't have */
}

int opt_mib_fits(struct run *r, const char *name)
{
	const struct lab_option *o = &r->lab->options[opt_index(r, name)];
	long long kb, mib = opt_val(r, name);

	if (proc_mem_available(&kb) != PROC_OK || mib <= kb / 1024 / 2)
		return PL_EXIT_OK;
	pl_warnx(r, "--%s: '%lld' is too large for this machine (%lld to "
		 "%lld: half of the %lld MiB available)", name, mib, o->min,
		 kb / 1024 / 2, kb / 1024);
	return PL_EXIT_USAGE;
}

bool opt_set(const struct run *r, const char *name)
{
	int i = opt_index(r, name);

	if (i < 0)
		abort();
	return r->set[i];
}

/* The last message pl_warnx() printed: the reason of a failure that a
 * lab (or the engine) only warned about, for run_explain(), and the
 * `unavailable` event of a lab whose prepare ends it with exit 3. */
static char last_warning[1024];
static char last_said[1024];    /* the same in the user's language */

const char *pl_last_warning(void)
{
	return last_warning;
}

/* vsnprintf() of fmt into en (English, for JSON) and of its translation
 * into said (for stderr and the text view). */
static void format_both(char *en, char *said, size_t size, const char *fmt,
			va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	vsnprintf(en, size, fmt, ap);
	vsnprintf(said, size, gettext(fmt), aq);
	va_end(aq);
}

static void warn_said(const struct run *r)
{
	fprintf(stderr, "proclab: %s: %s\n", r->lab->name, last_said);
}

/* A message already formatted, both ways: kept as pl_warnx() keeps it,
 * and said on stderr. */
static void warn_both(const struct run *r, const char *msg, const char *said)
{
	fflush(stdout);
	strlcpy(last_warning, msg, sizeof(last_warning));
	strlcpy(last_said, said, sizeof(last_said));
	warn_said(r);
}

void pl_warnx(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	format_both(last_warning, last_said, sizeof(last_warning), fmt, ap);
	va_end(ap);
	warn_said(r);
}

void run_explain(struct run *r, int rc)
{
	static const char *const bug =
		N_("the lab ended without saying why (a bug in proclab)");
	const char *msg = last_warning[0] != '\0' ? last_warning : bug;
	const char *said = last_warning[0] != '\0' ? last_said : _(bug);

	if (r->failed || (rc != PL_EXIT_FAIL && rc != PL_EXIT_UNAVAILABLE))
		return;
	r->failed = true;
	/* stderr had it already (pl_warnx) */
	emit(r, rc == PL_EXIT_FAIL ? "expect" : "unavailable",
	     FIELDS(F_STR("stage_name", r->stage_name),
		    F_SAID("message", msg, said)));
}

static int report(struct run *r, int code, const char *fmt, va_list ap)
{
	static const char *const stopped =
		N_(" (proclab was stopped, e.g. by Ctrl-Z, and continued "
		   "during this stage, whose timeout ran on meanwhile: "
		   "stop it at a --step pause instead)");
	char msg[1024], said[1024];

	format_both(msg, said, sizeof(msg), fmt, ap);
	/* Ctrl-Z stops proclab alone (its children are in the run's group):
	 * a stage's timeout went on while it could not watch */
	if (code == PL_EXIT_FAIL && r->cont_stage > 0 &&
	    r->cont_stage == r->stage) {
		strlcat(msg, stopped, sizeof(msg));
		strlcat(said, _(stopped), sizeof(said));
	}
	r->failed = true;
	/* a lab that returns PL_EXIT_FAIL after it still ends with 3 */
	r->unavailable |= code == PL_EXIT_UNAVAILABLE;
	emit(r, code == PL_EXIT_FAIL ? "expect" : "unavailable",
	     FIELDS(F_STR("stage_name", r->stage_name),
		    F_SAID("message", msg, said)));
	if (r->json || !isatty(STDOUT_FILENO) ||
	    !isatty(STDERR_FILENO))
		warn_both(r, msg, said);
	return code;
}

int pl_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = report(r, PL_EXIT_FAIL, fmt, ap);
	va_end(ap);
	return rc;
}

/* proclab's own call failed (a pipe, a pidfd, a fork, memory: the limits
 * of this machine or this user): the `error` event a failed call of an
 * agent gives, with role "proclab", and the line on stderr.  The lab ends
 * with PL_EXIT_UNAVAILABLE (run_lab() turns the PL_EXIT_FAIL its callers
 * return into it). */
int pl_sys_error(struct run *r, const char *call, int e, const char *fmt,
		 ...)
{
	char msg[512], said[512];
	va_list ap;

	va_start(ap, fmt);
	format_both(msg, said, sizeof(msg), fmt, ap);
	va_end(ap);
	r->failed = true;
	r->unavailable = true;
	emit(r, "error", FIELDS(F_STR("role", "proclab"),
			       F_PID("pid", r->self), F_STR("call", call),
			       F_INT("errno", e),
			       F_STR("error", strerrorname_np(e)),
			       F_SAID("message", msg, said)));
	if (r->json || !isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO))
		warn_both(r, msg, said);
	errno = e;
	return PL_EXIT_UNAVAILABLE;
}

int pl_unavailable(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = report(r, PL_EXIT_UNAVAILABLE, fmt, ap);
	va_end(ap);
	return rc;
}

/* Wait up to timeout_ms for a tracked process that is not our child (an
 * orphan its adopter reaps) to end: its pidfd turns readable at its exit;
 * without one, its kept /proc/PID shows Z or is gone. */
static void await_tracked_exit(const struct kid *k, int timeout_ms)
{
	struct pollfd p = { .fd = k->pidfd, .events = POLLIN };
	struct timespec tick = { 0, 1000000 };
	struct proc_stat st;
	int ms = 0;

	if (k->pidfd >= 0) {
		while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
			;
		/* then, as long as the timeout allows, for its adopter (PID 1
		 * of an orphan lesson) to reap it: a signal 0 reaches a
		 * zombie, not a reaped process */
		for (; ms < timeout_ms && pidfd_send_signal(k->pidfd, 0, NULL,
							    0) == 0; ms++)
			nanosleep(&tick, NULL);
		return;
	}
	if (k->h.statfd < 0)
		return;
	for (; ms < timeout_ms; ms++) {
		if (proc_read_stat(&k->h, &st) != PROC_OK)
			return;
		nanosleep(&tick, NULL);     /* no event to wait on: poll */
	}
}

void run_teardown(struct run *r)
{
	if (getpid() != r->self)        /* never from a child */
		return;
	if (r->before_teardown != NULL) {
		void (*fn)(struct run *) = r->before_teardown;

		r->before_teardown = NULL;      /* once */
		fn(r);
	}
	/* Our children must stay ours to reap (a lab may have ignored
	 * SIGCHLD): only then can no pid we kill by number be reused. */
	signal(SIGCHLD, SIG_DFL);
	/* Whatever a killed child leaves orphaned comes to us from now on,
	 * to be reaped here rather than left to someone else. */
	prctl(PR_SET_CHILD_SUBREAPER, 1UL);
	for (int i = 0; i < r->kids.n; i++) {
		/* SIGKILL ends running, sleeping, stopped, traced and
		 * vfork-suspended processes alike; ESRCH: already gone.
		 * Through the pidfd, or by pid while it is still ours. */
		pl_kill(r, r->kids.k[i].pid, SIGKILL);
	}
	/* Reap until none of ours is left; kill what is still alive each
	 * round (an adopted grandchild, one forked while we were killing).
	 * Children proclab inherited across exec are not ours. */
	run_reap_own(r);
	/* What we tracked but cannot reap dies in its own time: wait for it,
	 * so that nothing we made still runs once proclab is gone. */
	for (int i = 0; i < r->kids.n; i++) {
		struct kid *k = &r->kids.k[i];

		if (!k->child)
			await_tracked_exit(k, r->timeout_ms);
		if (k->pidfd >= 0)
			close(k->pidfd);
		k->pidfd = -1;
		proc_close(&k->h);
	}
	r->kids.n = 0;          /* a second teardown has nothing to kill */
	agents_release(r);
	if (r->cleanup != NULL) {
		void (*cleanup)(struct run *) = r->cleanup;

		r->cleanup = NULL;      /* once, even if it ends in exit() */
		cleanup(r);
	}
	janitor_stop(r);        /* everything it would clear up is gone */
	obs_release(&r->obs);
}

/* ---- proclab as PID 1 of its PID namespace -------------------------------
 * Every orphan of the namespace comes to PID 1, which must reap it or it
 * stays a zombie.  As PID 1, proclab takes SIGCHLD in a handler that only
 * raises a flag (a signalfd would take it from the wait lab's); every wait
 * (pl_wait_fds, the observer's sleep) ends on it, and pl_reap_adopted()
 * reaps the zombies among proclab's children that are not the run's:
 * never one a lab made or tracks, which the lab still has to show. */
static volatile sig_atomic_t chld_flag;

static void on_sigchld(int sig)
{
	(void)sig;
	chld_flag = 1;
}

int pl_init_reaper(struct run *r)
{
	struct sigaction sa;

	if (r->self != 1)
		return 0;
	chld_flag = 1;          /* zombies handed over before the exec */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGCHLD, &sa, NULL);
}

static bool run_made(const struct run *r, pid_t pid)
{
	for (int i = 0; i < r->kids.n; i++)
		if (r->kids.k[i].pid == pid)
			return true;
	for (int i = 0; i < r->obs.n; i++)
		if (r->obs.w[i].pid == pid)
			return true;
	return false;
}

void pl_reap_adopted(struct run *r)
{
	DIR *d;

	if (!chld_flag || getpid() != r->self)
		return;
	chld_flag = 0;
	if ((d = opendir("/proc")) == NULL)
		return;         /* no fd left: the next SIGCHLD tries again */
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct proc_stat st;
		const char *errstr;
		pid_t pid = (pid_t)strtonum(e->d_name, 2, INT_MAX, &errstr);

		/* a zombie child of ours keeps its pid until we reap it */
		if (errstr == NULL && proc_peek_stat(pid, &st) == PROC_OK &&
		    st.ppid == r->self && st.state == 'Z' && !run_made(r, pid))
			waitpid(pid, NULL, WNOHANG);
	}
	closedir(d);
}

static void __attribute__((noreturn)) die_by_signal(struct run *r, int sig)
{
	run_teardown(r);
	if (r->color)
		fputs("\033[0m", stdout);
	fflush(stdout);
	/* the shell's convention for "ended by a signal" (as tini does) */
	_exit(128 + sig);
}

int pl_wait_fds(struct run *r, struct pollfd *fds, int n, int timeout_ms)
{
	struct pollfd pfd[1 + AGENTS_MAX + 4];

	if (n < 0 || n > AGENTS_MAX + 4) {
		pl_warnx(r, "poll: %d fds is too many", n);
		run_teardown(r);
		exit(PL_EXIT_FAIL);
	}
	pfd[0] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
	for (int i = 0; i < n; i++)
		pfd[1 + i] = (struct pollfd){ .fd = fds[i].fd,
					      .events = POLLIN };
	for (long long end = timeout_ms < 0 ? -1 : pl_now_ms() + timeout_ms;;) {
		/* no limit, or what is left of it (never below 0: a
		 * timeout passed is a poll that does not wait) */
		long long left = end < 0 ? -1 : end - pl_now_ms();
		int got, ready = 0;

		pl_reap_adopted(r);
		got = poll(pfd, (nfds_t)n + 1,
			   end < 0 ? -1 : left > 0 ? (int)left : 0);
		if (got < 0 && errno == EINTR)
			continue;       /* a SIGCHLD as PID 1: reap, go on */
		if (got < 0) {
			pl_warnx(r, "poll: %s", strerror(errno));
			run_teardown(r);
			exit(PL_EXIT_FAIL);
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(r->sigfd, &si, sizeof(si)) != sizeof(si))
				;
			else if (si.ssi_signo == SIGCONT)
				r->cont_stage = r->stage;  /* see report() */
			else
				die_by_signal(r, (int)si.ssi_signo);
		}
		if (got == 0)
			return 0;
		for (int i = 0; i < n; i++) {
			fds[i].revents = pfd[1 + i].revents;
			ready += fds[i].fd >= 0 && fds[i].revents != 0;
		}
		if (ready > 0)
			return ready;
	}
}

int pl_wait_fd(struct run *r, int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return pl_wait_fds(r, &p, fd >= 0 ? 1 : 0, timeout_ms) > 0;
}

/* What stdin has sent and no line has taken yet: kept between calls, so
 * that a pipe's lines go one to each pause or question, never lost in a
 * read that took more than one. */
static struct {
	char buf[4096];
	size_t len;
	bool eof;
} in;

int pl_read_line(struct run *r, char *line, size_t size)
{
	return pl_read_line_tick(r, line, size, NULL, NULL);
}

/* Wait for stdin; with a tick, call it now and then on a back-off (1 ms
 * growing to 50 ms) until stdin is readable. */
static void wait_stdin(struct run *r, void (*tick)(struct run *, void *),
		       void *arg)
{
	int ms = 1;

	if (tick == NULL) {
		pl_wait_fd(r, STDIN_FILENO, -1);
		return;
	}
	for (;;) {
		tick(r, arg);
		if (pl_wait_fd(r, STDIN_FILENO, ms))
			return;
		ms = ms * 2 > 50 ? 50 : ms * 2;
	}
}

int pl_read_line_tick(struct run *r, char *line, size_t size,
		      void (*tick)(struct run *r, void *arg), void *arg)
{
	bool cut = false;

	for (;;) {
		char *nl = memchr(in.buf, '\n', in.len);
		size_t n = nl != NULL ? (size_t)(nl - in.buf) : in.len;
		ssize_t got;

		/* a line, a last line without a newline, or a full buffer:
		 * hand it out (once) and drop it */
		if (nl != NULL || (in.eof && in.len > 0) ||
		    in.len == sizeof(in.buf)) {
			if (!cut) {
				size_t k = n < size - 1 ? n : size - 1;
				memcpy(line, in.buf, k);
				line[k] = '\0';
			}
			n += nl != NULL;
			memmove(in.buf, in.buf + n, in.len - n);
			in.len -= n;
			if (nl != NULL || in.eof)
				return 1;
			cut = true;     /* a very long line: skip its rest */
			continue;
		}
		if (in.eof)
			return cut;
		wait_stdin(r, tick, arg);
		got = read(STDIN_FILENO, in.buf + in.len,
			   sizeof(in.buf) - in.len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			in.eof = true;  /* an error ends the input, as EOF */
		else
			in.len += (size_t)got;
	}
}

/* Can a child put under SCHED_IDLE be given its policy back?  Leaving
 * SCHED_IDLE takes CAP_SYS_NICE, or an RLIMIT_NICE that allows nice 0
 * (sched(7)); without either, a spinning child stays at full cost rather
 * than at idle priority for the rest of the lab. */
static bool can_unidle(void)
{
	struct rlimit rl;
	char line[256];
	bool cap = false;
	FILE *f;

	if (getrlimit(RLIMIT_NICE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 20))
		return true;
	f = fopen("/proc/self/status", "re");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "CapEff:", 7) == 0)
			cap = (strtoull(line + 7, NULL, 16) >> CAP_SYS_NICE_BIT)
			      & 1;
	fclose(f);
	return cap;
}

/* The processes a pause shows: every watched one still there, then every
 * other one the run made that is still there (a zombie too, as ps shows
 * it); proclab itself only when there is none. */
static int live_pids(struct run *r, pid_t *out, int max, bool *threads)
{
	int n = 0;

	*threads = false;
	for (int i = 0; i < r->obs.n && n < max; i++) {
		const struct watched *w = &r->obs.w[i];
		/* a watched thread: its process, once (ps -L shows each) */
		pid_t pid = w->tgid > 0 ? w->tgid : w->pid;
		bool dup = false;

		for (int j = 0; j < n && !dup; j++)
			dup = out[j] == pid;
		if (w->gone || dup)
			continue;
		*threads |= w->tgid > 0;
		out[n++] = pid;
	}
	for (int i = 0; i < r->kids.n && n < max; i++) {
		pid_t pid = r->kids.k[i].pid;
		bool dup = false;

		for (int j = 0; j < n && !dup; j++)
			dup = out[j] == pid;
		/* signal 0 tells whether it is there; a reaped child's pid
		 * is not ours to name (child.h) */
		if (!dup && pid > 0 && pl_kill(r, pid, 0) == 0)
			out[n++] = pid;
	}
	return n;
}

/* With --step: sample every watched process, so that the last line shown
 * for each is what ps shows now; show what to look at; then wait for a
 * line on stdin.  Meanwhile, children that spin (R) run under SCHED_IDLE:
 * still R for ps, but they take no CPU that anything else wants. */
static void pause_for_student(struct run *r)
{
	static const char every_state[] = "RSDTtXZPIxKW";
	char pids[512] = "", ps[600];
	struct { pid_t pid; int policy; struct sched_param sp; } idle[64];
	pid_t live[64];
	size_t len = 0;
	int nlive, nidle = 0;
	bool unidle = can_unidle(), threads;

	obs_settle_all(r);
	for (int i = 0; i < r->obs.n; i++) {
		static const char why[] = "as the pause finds it: it changed "
					  "since its last line";
		struct watched *w = &r->obs.w[i];

		obs_sample(r, w, every_state, why);
		/* a change seen only in passing was never shown */
		if (w->seen && w->shown != w->state) {
			w->in_passing = false;
			emit_state(r, w, w->prev, false, why);
		}
	}
	nlive = live_pids(r, live, 64, &threads);
	for (int i = 0; i < nlive && len < sizeof(pids) - 16; i++)
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d",
					i ? "," : "", (int)live[i]);
	if (nlive == 0)
		snprintf(pids, sizeof(pids), "%d", (int)r->self);
	for (int i = 0; i < nlive && unidle; i++) {
		struct sched_param none = { 0 };
		struct proc_stat st;

		if (proc_peek_stat(live[i], &st) != PROC_OK || st.state != 'R')
			continue;
		idle[nidle].pid = live[i];
		idle[nidle].policy = sched_getscheduler(live[i]);
		if (idle[nidle].policy < 0 ||
		    sched_getparam(live[i], &idle[nidle].sp) < 0 ||
		    idle[nidle].policy == SCHED_IDLE)
			continue;
		if (sched_setscheduler(live[i], SCHED_IDLE, &none) == 0)
			nidle++;
	}
	snprintf(ps, sizeof(ps), "ps %s -p %s",
		 r->lab != NULL && r->lab->job_control
		 ? "-o pid,ppid,pgid,sid,tpgid,stat,comm"
		 : threads ? "-o pid,lwp,ppid,stat,wchan:20,comm -L"
		 : "-o pid,ppid,stat,wchan:20,comm", pids);
	emit(r, "pause", FIELDS(F_PIDS("pids", pids), F_MEAS("ps", ps)));
	/* a line, EOF or an error: go on */
	pl_read_line(r, ps, sizeof(ps));
	for (int i = 0; i < nidle; i++)
		if (sched_setscheduler(idle[i].pid, idle[i].policy,
				       &idle[i].sp) < 0 && errno != ESRCH)
			pl_warnx(r, "cannot give %d its scheduling policy "
				 "back: %s", (int)idle[i].pid, strerror(errno));
}

void run_pause(struct run *r)
{
	if (r->step)
		pause_for_student(r);
}

void stage_end(struct run *r)
{
	if (r->stage == 0)
		return;
	if (r->step)
		pause_for_student(r);
	if (r->delay_ms > 0)
		pl_wait_fd(r, -1, r->delay_ms);
}

void stage(struct run *r, const char *name, const char *what)
{
	stage_text(r, name, what, gettext(what));
}

void stage_text(struct run *r, const char *name, const char *what,
		const char *what_text)
{
	stage_end(r);
	last_warning[0] = '\0';        /* a failure's reason is this stage's */
	r->stage++;
	r->stage_name = name;
	emit_stage(r, name, what, what_text);
}

/* ---- stages as data ----------------------------------------------------- */

long long pl_now_ns(void)
{
	struct timespec ts;

	/* cannot fail with a valid clock and pointer; async-signal-safe */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long pl_now_ms(void)
{
	return pl_now_ns() / 1000000;
}

void *run_state(struct run *r)
{
	return r->state;
}

void run_on_cleanup(struct run *r, void (*fn)(struct run *r))
{
	r->cleanup = fn;
}

bool stage_applies(const struct run *r, const struct stage *s)
{
	const char *opt = s->when;
	bool want = true;

	if (opt == NULL)
		return true;
	if (opt[0] == '!') {
		want = false;
		opt++;
	}
	return (opt_val(r, opt) != 0) == want;
}

char *stage_what(const struct run *r, const struct stage *s, bool tr,
		 char *dst, size_t size)
{
	const char *t = s->what;
	char *text;

	if (tr && s->count != NULL && s->what_many != NULL)
		t = pl_ngettext(s->what, s->what_many,
				(unsigned long)opt_val(r, s->count));
	else if (tr)
		t = gettext(s->what);
	else if (s->count != NULL && s->what_many != NULL &&
		 opt_val(r, s->count) != 1)
		t = s->what_many;
	text = emit_render_options(r, t);
	strlcpy(dst, text != NULL ? text : t, size);
	free(text);
	return dst;
}

int run_stages(struct run *r)
{
	for (const struct stage *s = r->lab->stages; s->name != NULL; s++) {
		char what[512], what_text[1024];
		int rc;

		if (!stage_applies(r, s))
			continue;
		stage_text(r, s->name, stage_what(r, s, false, what,
						  sizeof(what)),
			   stage_what(r, s, true, what_text,
				      sizeof(what_text)));
		if ((rc = s->run(r)) != PL_EXIT_OK)
			return rc;
	}
	return PL_EXIT_OK;
}
