/* run.c - one run of a lab: stages, pauses, failures, signals, teardown.
 *
 * The signals that end proclab (SIGINT, SIGTERM, SIGHUP, SIGQUIT) are
 * blocked and read from a signalfd, never handled in a handler: every wait
 * proclab does goes through pl_wait_fd() or the observer's ppoll, both of
 * which watch that fd.  When one arrives, every child is killed and reaped
 * and proclab exits 128 + signo.
 */
#include "proclab.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

bool opt_set(const struct run *r, const char *name)
{
	int i = opt_index(r, name);

	if (i < 0)
		abort();
	return r->set[i];
}

void pl_warnx(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "proclab: %s: ", r->lab->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int report(struct run *r, int code, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->failed = true;
	emit(r, code == PL_EXIT_FAIL ? "expect" : "unavailable",
	     FIELDS(F_STR("stage_name", r->stage_name), F_STR("message", msg)));
	if (r->json || !isatty(STDOUT_FILENO) ||
	    !isatty(STDERR_FILENO))
		pl_warnx(r, "%s", msg);
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

int pl_unavailable(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = report(r, PL_EXIT_UNAVAILABLE, fmt, ap);
	va_end(ap);
	return rc;
}

/* Kill every child of ours that /proc shows (our own children cannot be
 * reaped, so their pids cannot be reused, while we look). */
static int kill_own_children(pid_t self)
{
	DIR *d = opendir("/proc");
	int n = 0;

	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct proc_stat st;
		const char *errstr;
		pid_t pid = (pid_t)strtonum(e->d_name, 1, INT_MAX, &errstr);

		if (errstr == NULL && proc_peek_stat(pid, &st) == PROC_OK &&
		    st.ppid == self && st.state != 'Z' &&
		    kill(pid, SIGKILL) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Wait up to timeout_ms for a tracked process that is not our child (an
 * orphan its adopter reaps) to end: its pidfd turns readable at its exit;
 * without one, its kept /proc/PID shows Z or is gone. */
static void await_tracked_exit(const struct kid *k, int timeout_ms)
{
	struct pollfd p = { .fd = k->pidfd, .events = POLLIN };
	struct timespec tick = { 0, 1000000 };
	struct proc_stat st;

	if (k->pidfd >= 0) {
		while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
			;
		return;
	}
	if (k->h.statfd < 0)
		return;
	for (int ms = 0; ms < timeout_ms; ms++) {
		if (proc_read_stat(&k->h, &st) != PROC_OK || st.state == 'Z')
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
	/* Reap until no child is left; kill what is still alive each round
	 * (an adopted grandchild, one forked while we were killing). */
	for (;;) {
		pid_t p;

		while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (p < 0 && errno != EINTR)
			break;          /* ECHILD: nothing left */
		kill_own_children(r->self);
		p = waitpid(-1, NULL, 0);
		if (p < 0 && errno == ECHILD)
			break;
	}
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
	obs_release(&r->obs);
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
	for (;;) {
		int got = poll(pfd, (nfds_t)n + 1, timeout_ms), ready = 0;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pl_warnx(r, "poll: %s", strerror(errno));
			run_teardown(r);
			exit(PL_EXIT_FAIL);
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
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
		pl_wait_fd(r, STDIN_FILENO, -1);
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

/* With --step: show what to look at, then wait for a line on stdin. */
static void pause_for_student(struct run *r)
{
	char pids[512] = "", ps[600];
	size_t len = 0;
	int nlive = 0;

	for (int i = 0; i < r->obs.n && len < sizeof(pids) - 16; i++) {
		const struct watched *w = &r->obs.w[i];
		if (w->gone)
			continue;
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d",
					nlive++ ? "," : "", (int)w->pid);
	}
	if (nlive == 0)
		snprintf(pids, sizeof(pids), "%d", (int)r->self);
	snprintf(ps, sizeof(ps), "ps -o pid,ppid,stat,wchan:20,comm -p %s",
		 pids);
	emit(r, "pause", FIELDS(F_PIDS("pids", pids), F_MEAS("ps", ps)));
	/* a line, EOF or an error: go on */
	pl_read_line(r, ps, sizeof(ps));
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
	stage_end(r);
	r->stage++;
	r->stage_name = name;
	emit_stage(r, name, what);
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

char *stage_what(const struct run *r, const struct stage *s, char *dst,
		 size_t size)
{
	const char *t = s->what;
	char *text;

	if (s->count != NULL && s->what_many != NULL &&
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
		char what[512];
		int rc;

		if (!stage_applies(r, s))
			continue;
		stage(r, s->name, stage_what(r, s, what, sizeof(what)));
		if ((rc = s->run(r)) != PL_EXIT_OK)
			return rc;
	}
	return PL_EXIT_OK;
}
