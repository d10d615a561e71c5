/* observer.c - sample /proc, report changes, wait for a state. */
#include "observer.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "proclab.h"
#include "wstatus.h"

int obs_reserve(struct run *r, int n)
{
	struct observer *o = &r->obs;

	if (o->n > 0 || n < 1)
		abort();        /* the table would move under the lab */
	free(o->w);
	free(o->pfd);
	free(o->owner);
	o->w = calloc((size_t)n, sizeof(*o->w));
	o->pfd = calloc((size_t)n + 1, sizeof(*o->pfd));
	o->owner = calloc((size_t)n + 1, sizeof(*o->owner));
	if (o->w == NULL || o->pfd == NULL || o->owner == NULL) {
		pl_sys_error(r, "calloc", ENOMEM, "cannot watch %d "
			     "processes: out of memory", n);
		o->cap = 0;
		return -1;
	}
	o->cap = n;
	return 0;
}

/* Does /proc hide a process that exists?  hidepid=1 refuses its entry
 * (EPERM), hidepid=2 shows none (ENOENT) while its pidfd still says it is
 * there: signal 0 checks that the process exists and sends nothing. */
/* An errno that says the machine or the user's limits are short, not
 * that the process is gone: proclab cannot run the lab here (exit 3). */
static bool limited(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM;
}

static bool hidden(int rc, int e, pid_t pid, int pidfd)
{
	int sent;

	if (rc == PROC_ERROR)
		return e == EPERM || e == EACCES;
	/* without a pidfd, kill(pid, 0): it only asks whether pid exists */
	sent = pidfd >= 0 ? pidfd_send_signal(pidfd, 0, NULL, 0) : kill(pid, 0);
	return sent == 0 || errno == EPERM;
}

static struct watched *add(struct run *r, pid_t tgid, pid_t pid, int pidfd,
			   const char *role, bool quiet_if_gone)
{
	struct observer *o = &r->obs;
	struct watched *w;
	int rc;

	if (o->cap == 0 && obs_reserve(r, OBS_MAX) < 0)
		return NULL;
	if (o->n >= o->cap) {
		pl_warnx(r, "cannot watch %s %d: already watching %d processes",
			 role, (int)pid, o->cap);
		return NULL;
	}
	w = &o->w[o->n];
	memset(w, 0, sizeof(*w));
	rc = tgid > 0 ? proc_open_task(&w->h, tgid, pid) : proc_open(&w->h, pid);
	if (rc != PROC_OK && tgid > 0) {
		int e = errno;

		if (rc == PROC_ERROR && limited(e))
			return pl_sys_error(r, "open", e, "cannot watch %s %d "
					    "of process %d: %s", role,
					    (int)pid, (int)tgid,
					    strerror(e)), NULL;
		pl_warnx(r, "cannot watch %s %d of process %d: %s", role,
			 (int)pid, (int)tgid, rc == PROC_GONE
			 ? "no such thread" : strerror(e));
		errno = rc == PROC_GONE ? ESRCH : e;
		return NULL;
	}
	if (rc != PROC_OK) {
		int e = errno;

		if (hidden(rc, e, pid, pidfd)) {
			pl_warnx(r, "cannot watch %s %d: it exists, but /proc "
				 "does not show it to uid %d (/proc mounted "
				 "with hidepid)", role, (int)pid, (int)getuid());
			errno = EACCES;
			return NULL;
		}
		if (rc == PROC_ERROR && limited(e))
			/* the limits, not the process: exit 3 */
			pl_sys_error(r, "open", e, "cannot watch %s %d: %s",
				     role, (int)pid, strerror(e));
		else if (rc != PROC_GONE || !quiet_if_gone)
			pl_warnx(r, "cannot watch %s %d: %s", role, (int)pid,
				 rc == PROC_GONE ? "no such process"
						 : strerror(e));
		errno = rc == PROC_GONE ? ESRCH : e;
		return NULL;
	}
	w->pid = pid;
	w->tgid = tgid;
	strlcpy(w->rolebuf, role, sizeof(w->rolebuf));
	w->role = w->rolebuf;
	w->pidfd = pidfd;
	o->n++;
	return w;
}

struct watched *obs_add(struct run *r, pid_t pid, int pidfd, const char *role)
{
	return add(r, 0, pid, pidfd, role, false);
}

struct watched *obs_add_thread(struct run *r, pid_t tgid, pid_t tid,
			       const char *role)
{
	if (tgid <= 0)
		abort();        /* a thread of no process: a lab's bug */
	return add(r, tgid, tid, -1, role, false);
}

int obs_tasks(struct run *r, struct watched *w, pid_t *tids, int max)
{
	int n;

	(void)r;
	n = proc_list_tasks(&w->h, w->tgid > 0, tids, max);
	if (n < 0 && errno == ENOENT)
		errno = ESRCH;
	return n;
}

struct watched *obs_try_add(struct run *r, pid_t pid, int pidfd,
			    const char *role)
{
	return add(r, 0, pid, pidfd, role, true);
}

void obs_release(struct observer *o)
{
	for (int i = 0; i < o->n; i++)
		proc_close(&o->w[i].h);
	o->n = 0;
	/* the table stays: a lab may still read what was last seen */
}

static void add_trail(struct watched *w)
{
	size_t n = strlen(w->trail);

	if (n + 1 < sizeof(w->trail))
		w->trail[n] = w->state;
}

/* Every letter /proc may show (6.x and the 2.6.33-3.13 extras): to a
 * follower every change is a demonstrated one. */
static const char every_state[] = "RSDTtXZPIxKW";

static bool in_set(char state, const char *set)
{
	return set != NULL && state != '\0' && strchr(set, state) != NULL;
}

char obs_sample(struct run *r, struct watched *w, const char *demonstrates,
		const char *why)
{
	struct proc_stat st;
	char from = w->seen ? w->state : '\0';
	int rc;

	if (w->gone)
		return 'X';
	rc = proc_read_stat(&w->h, &st);
	/* X in stat: caught in the instant of its release, its entry about
	 * to go: the release itself, reported once, as below */
	if (rc == PROC_OK && st.state != 'X') {
		bool changed = !w->seen || st.state != w->state ||
			       st.ppid != w->ppid;
		/* a job-control lab: a new group, session or foreground
		 * group of the terminal is news too */
		if (w->seen && r->lab != NULL && r->lab->job_control)
			changed |= st.pgrp != w->st.pgrp ||
				   st.session != w->st.session ||
				   st.tpgid != w->st.tpgid;
		w->st = st;
		w->state = st.state;
		w->ppid = st.ppid;
		w->seen = true;
		if (changed) {
			bool transient = !in_set(w->state, demonstrates);
			if (from != w->state)
				add_trail(w);
			w->prev = from;
			w->in_passing = transient;
			emit_state(r, w, from, transient,
				   transient ? NULL : why);
		}
		return w->state;
	}
	/* An unreadable entry is not a state: say so, and report nothing */
	if (rc == PROC_ERROR) {
		pl_warnx(r, "cannot read /proc/%d/stat: %s", (int)w->pid,
			 strerror(errno));
		return '?';
	}
	w->gone = true;
	w->state = 'X';
	w->seen = true;
	add_trail(w);
	w->prev = from;
	w->in_passing = !in_set('X', demonstrates);
	emit_state(r, w, from, w->in_passing, w->in_passing ? NULL : why);
	return 'X';
}

void obs_sample_all(struct run *r)
{
	for (int i = 0; i < r->obs.n; i++)
		obs_sample(r, &r->obs.w[i], NULL, NULL);
}

int obs_peek(struct run *r, pid_t pid, struct proc_stat *st)
{
	(void)r;        /* a lab reads /proc through the observer only */
	return proc_peek_stat(pid, st);
}

void obs_settle_all(struct run *r)
{
	char prev[64] = "";
	long long until = pl_now_ms() + 50;

	for (;;) {
		char now[64] = "";
		int n = r->obs.n < 63 ? r->obs.n : 63;

		for (int i = 0; i < n; i++) {
			struct watched *w = &r->obs.w[i];
			struct proc_stat st;

			now[i] = w->gone ? 'X'
			       : proc_read_stat(&w->h, &st) == PROC_OK
				 ? st.state : 'X';
		}
		now[n] = '\0';
		if (strcmp(now, prev) == 0 || pl_now_ms() >= until)
			return;
		memcpy(prev, now, sizeof(prev));
		pl_wait_fd(r, -1, 2);
	}
}

void obs_show_all(struct run *r, const char *why)
{
	obs_settle_all(r);
	for (int i = 0; i < r->obs.n; i++) {
		struct watched *w = &r->obs.w[i];

		obs_sample(r, w, every_state, why);
		/* a change caught in passing before (while another process
		 * was awaited) is shown now, as obs_await() shows it */
		if (w->in_passing) {
			w->in_passing = false;
			emit_state(r, w, w->prev, false, why);
		}
	}
}

static void sleep_for_event(struct run *r, long long ns);

/* Read wchan into p; re-read it while it says "0" of a task that shows a
 * state off the CPU (see obs_probe). */
static void probe_wchan(struct run *r, struct watched *w, struct probe *p)
{
	long long deadline = pl_now_ns() + OBS_WCHAN_MS * 1000000LL;
	long long backoff = 0;
	char buf[sizeof(p->wchan)];
	size_t len;

	for (;;) {
		long long left;

		p->wchan[0] = '\0';
		if (proc_read_file(&w->h, "wchan", buf, sizeof(buf), &len) !=
		    PROC_OK)
			return;
		memcpy(p->wchan, buf, len + 1);
		if (strcmp(p->wchan, "0") != 0 || !strchr("SDTtI", w->state))
			return;
		left = deadline - pl_now_ns();
		if (left <= 0) {
			p->on_cpu = true;
			return;
		}
		backoff = backoff == 0 ? 10000 : backoff * 2;
		if (backoff > 1000000)
			backoff = 1000000;
		sleep_for_event(r, backoff < left ? backoff : left);
		/* it may have woken and gone on meanwhile */
		if (obs_sample(r, w, NULL, NULL) == 'X')
			return;
	}
}

int obs_probe(struct run *r, struct watched *w, struct probe *p)
{
	size_t len;
	uid_t uid;

	memset(p, 0, sizeof(*p));
	p->fds = -1;
	p->cmdline_bytes = p->dir_owner = p->file_owner = -1;
	if (obs_sample(r, w, NULL, NULL) == 'X')
		return PROC_GONE;
	p->status_ok = proc_read_status(&w->h, &p->ps) == PROC_OK;
	if (!p->status_ok && limited(errno))
		/* the limits, not the process: exit 3 */
		return pl_sys_error(r, "open", errno, "cannot read "
				    "/proc/%d/status: %s", (int)w->pid,
				    strerror(errno)), PROC_ERROR;
	probe_wchan(r, w, p);
	p->fds = proc_count_fds(&w->h);
	p->fds_errno = p->fds < 0 ? errno : 0;
	if (proc_file_size(&w->h, "cmdline", &len) == PROC_OK)
		p->cmdline_bytes = (long long)len;
	if (proc_owner(&w->h, &uid) == PROC_OK)
		p->dir_owner = uid;
	if (proc_file_owner(&w->h, "status", &uid) == PROC_OK)
		p->file_owner = uid;
	return PROC_OK;
}

int obs_probe_exec(struct run *r, struct watched *w, struct probe_exec *p)
{
	size_t len;

	memset(p, 0, sizeof(*p));
	p->cmdline_bytes = p->nfds = -1;
	if (obs_sample(r, w, NULL, NULL) == 'X')
		return PROC_GONE;
	if (proc_read_link(&w->h, "exe", p->exe, sizeof(p->exe)) != PROC_OK)
		p->exe_errno = errno;
	if (proc_read_file(&w->h, "cmdline", p->cmdline, sizeof(p->cmdline),
			   &len) == PROC_OK) {
		p->cmdline_bytes = (long long)len;
		/* the arguments end with NULs: join them with spaces */
		while (len > 0 && p->cmdline[len - 1] == '\0')
			len--;
		for (size_t i = 0; i < len; i++)
			if (p->cmdline[i] == '\0')
				p->cmdline[i] = ' ';
		p->cmdline[len] = '\0';
	}
	if (proc_read_fds(&w->h, p->fd, PROBE_FDS_MAX, &p->nfds) != PROC_OK) {
		p->fds_errno = errno;
		p->nfds = -1;
	}
	return PROC_OK;
}

/* Sleep until an exit event, a signal, or `ns` pass.  The pidfds of
 * watched processes that have not exited are in the set, so an exit ends
 * the sleep at once. */
static void sleep_for_event(struct run *r, long long ns)
{
	struct pollfd *pfd = r->obs.pfd;
	struct watched **owner = r->obs.owner;
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
	nfds_t n = 0;
	int rc;

	pfd[n] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
	owner[n++] = NULL;
	for (int i = 0; i < r->obs.n; i++) {
		struct watched *w = &r->obs.w[i];
		if (w->pidfd >= 0 && !w->exited && !w->gone) {
			pfd[n] = (struct pollfd){ .fd = w->pidfd,
						  .events = POLLIN };
			owner[n++] = w;
		}
	}
	rc = ppoll(pfd, n, &ts, NULL);
	pl_reap_adopted(r);     /* PID 1: an orphan's SIGCHLD ended it */
	if (rc <= 0)
		return;
	if (pfd[0].revents)
		pl_wait_fd(r, -1, 0);   /* takes the signal: does not return */
	for (nfds_t i = 1; i < n; i++)
		if (pfd[i].revents)
			owner[i]->exited = true;
}

int obs_follow(struct run *r, long long ms)
{
	long long deadline = ms < 0 ? -1 : pl_now_ns() + ms * 1000000LL;
	long long backoff = 0, left;

	for (;;) {
		bool changed = false;
		int live = 0;

		for (int i = 0; i < r->obs.n; i++) {
			struct watched *w = &r->obs.w[i];
			char state = w->state;
			pid_t ppid = w->ppid;
			bool seen = w->seen;

			if (w->gone)
				continue;
			obs_sample(r, w, every_state, NULL);
			changed |= !seen || w->state != state || w->ppid != ppid;
			live += !w->gone;
		}
		if (live == 0)
			return 1;
		left = deadline < 0 ? OBS_FOLLOW_MAX_MS * 1000000LL
				    : deadline - pl_now_ns();
		if (left <= 0)
			return 0;
		/* a change may come with more: look again soon; while
		 * nothing moves, back off so that hundreds of processes
		 * cost a few reads each per round, not a core */
		backoff = changed || backoff == 0 ? 1000000 : backoff * 2;
		if (backoff > OBS_FOLLOW_MAX_MS * 1000000LL)
			backoff = OBS_FOLLOW_MAX_MS * 1000000LL;
		sleep_for_event(r, backoff < left ? backoff : left);
	}
}

const char *obs_end_note(const struct watched *w, char *buf, size_t size)
{
	char how[96];
	struct wstatus ws;

	buf[0] = '\0';
	if (w->state == 'Z' && w->st.exit_code >= 0) {
		wstatus_decode(w->st.exit_code, &ws);
		wstatus_describe(&ws, how, sizeof(how));
		snprintf(buf, size, " (it ended: %s)", how);
	} else if (w->state == 'X') {
		snprintf(buf, size, " (it is gone)");
	}
	return buf;
}

/* w shows s, not one of `states`: can it still get there?  Not once it
 * has ended (Z, X: killed from outside, or it died of its own), nor as T
 * while a tracer holds it (strace -f, gdb: a traced process stops in t).
 * Then say so at once instead of waiting for the timeout: returns
 * PL_EXIT_FAIL (it ended) or PL_EXIT_UNAVAILABLE (a tracer), else 0. */
static int cannot_come(struct run *r, struct watched *w, const char *states,
		       char s)
{
	char how[128] = "";
	struct proc_status ps;

	if (s == 't' && strchr(states, 'T') != NULL &&
	    proc_read_status(&w->h, &ps) == PROC_OK &&
	    (ps.has & PS_TRACER) && ps.tracer > 0 && ps.tracer != r->self) {
		struct proc_stat tst;

		return pl_unavailable(r, "expected %s %d to show T (stopped); "
				      "it shows t (tracing stop): pid %d (%s) "
				      "traces it, and a traced process stops "
				      "in t, never in T; run proclab without "
				      "a tracer that follows its children "
				      "(strace without -f)", w->role,
				      (int)w->pid, (int)ps.tracer,
				      proc_peek_stat(ps.tracer, &tst) ==
				      PROC_OK ? tst.comm : "?");
	}
	if (s == 'X' || (s == 'Z' && strchr(states, 'X') == NULL)) {
		if (s == 'Z' && w->st.exit_code >= 0) {
			struct wstatus ws;

			wstatus_decode(w->st.exit_code, &ws);
			wstatus_describe(&ws, how, sizeof(how));
		}
		return pl_fail(r, "expected %s %d to show %s; it %s instead%s%s",
			       w->role, (int)w->pid, states,
			       s == 'Z' ? "ended (Z)" : "is gone (X)",
			       how[0] != '\0' ? ": " : "", how);
	}
	return 0;
}

/* Wait for w to show one of `states` within timeout_ms.  quiet: every
 * change is reported as transient, the state reached too (obs_settle);
 * unsure: a timeout is no failure, it returns 1 (obs_await_or_not). */
/* Whether w runs the program `comm` (NULL: any). */
static bool runs(const struct watched *w, const char *comm)
{
	return comm == NULL || (w->seen && !w->gone &&
				strcmp(w->st.comm, comm) == 0);
}

/* ... comm: the state counts only once w runs that program (NULL: any),
 * before its exec every state is one on the way (obs_await_exec). */
static int await_state(struct run *r, struct watched *w, const char *states,
		       const char *why, int timeout_ms, bool quiet,
		       bool unsure, const char *comm)
{
	long long deadline = pl_now_ns() + (long long)timeout_ms * 1000000LL;
	long long backoff = 0;
	char seen[32] = "";
	size_t nseen = 0;
	int rc;

	for (;;) {
		char s;

		/* the others first, so that the awaited change comes last */
		for (int i = 0; i < r->obs.n; i++)
			if (&r->obs.w[i] != w)
				obs_sample(r, &r->obs.w[i], NULL, NULL);
		s = quiet || !runs(w, comm) ? obs_sample(r, w, NULL, NULL)
					    : obs_sample(r, w, states, why);
		if (s == '?')
			return pl_fail(r, "expected %s %d to show %s; its "
				       "/proc entry could not be read",
				       w->role, (int)w->pid, states);
		/* a zombie's status: did it end as it was told? */
		if (s == 'Z' && in_set(s, states) &&
		    (rc = agent_end_as_told(r, w->pid, w->st.exit_code)) != 0)
			return rc;
		if (in_set(s, states) && runs(w, comm)) {
			/* already reached, but only seen in passing (while
			 * sampling another process): now it is what the
			 * stage shows */
			if (w->in_passing && !quiet) {
				w->in_passing = false;
				emit_state(r, w, w->prev, false, why);
			}
			return 0;
		}
		/* ended before it ran the program: its exec failed */
		if (comm != NULL && !runs(w, comm) && (s == 'Z' || s == 'X'))
			return pl_fail(r, "expected %s %d to run %s; it ended "
				       "running %s", w->role, (int)w->pid, comm,
				       w->st.comm);
		if ((rc = cannot_come(r, w, states, s)) != 0)
			return rc;
		if (nseen == 0 || seen[nseen - 1] != s) {
			if (nseen + 1 < sizeof(seen))
				seen[nseen++] = s;
			seen[nseen] = '\0';
		}
		long long left = deadline - pl_now_ns();
		if (left <= 0 && unsure)
			return 1;
		if (left <= 0)
			break;
		/* 0, 10 us, 20 us, ... 1 ms: catch a quick change quickly,
		 * without taking a busy core from the process we watch */
		backoff = backoff == 0 ? 10000 : backoff * 2;
		if (backoff > 1000000)
			backoff = 1000000;
		sleep_for_event(r, backoff < left ? backoff : left);
	}

	char want[64] = "", saw[128] = "";
	for (const char *p = states; *p; p++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "%s%c (%s)", p == states ? "" : " or ", *p,
			 *p == 'X' ? "released" : procfs_state_name(*p));
	for (size_t i = 0; i < nseen; i++)
		snprintf(saw + strlen(saw), sizeof(saw) - strlen(saw), "%s%c",
			 i ? ", " : "", seen[i]);
	if (comm != NULL && !runs(w, comm))
		return pl_fail(r, "expected %s %d to run %s and show %s within "
			       "%d ms; /proc showed %s, running %s", w->role,
			       (int)w->pid, comm, want, timeout_ms, saw,
			       w->st.comm);
	return pl_fail(r, "expected %s %d to show %s within %d ms; /proc "
		       "showed %s", w->role, (int)w->pid, want, timeout_ms,
		       saw);
}

int obs_await(struct run *r, struct watched *w, const char *states,
	      const char *why)
{
	int rc;

	/* --quiz: the question comes before the first sample, so that
	 * nothing of the change is printed before the answer; the timeout
	 * starts after it (see quiz.c) */
	if (r->quiz)
		quiz_ask(r, w);
	rc = await_state(r, w, states, why, r->timeout_ms, false, false,
			 NULL);
	if (r->quiz)
		quiz_tell(r, w, why);
	if (r->quiz && rc == 0)
		quiz_zombies(r, w);
	return rc;
}

int obs_await_or_not(struct run *r, struct watched *w, const char *states,
		     const char *why, int timeout_ms)
{
	int rc;

	if (r->quiz)
		quiz_ask(r, w);
	rc = await_state(r, w, states, why, timeout_ms, false, true, NULL);
	if (r->quiz)
		quiz_tell(r, w, why);
	if (r->quiz && rc == 0)
		quiz_zombies(r, w);
	return rc;
}

int obs_settle(struct run *r, struct watched *w, const char *states)
{
	return await_state(r, w, states, NULL, r->timeout_ms, true, false,
			    NULL);
}

int obs_await_exec(struct run *r, struct watched *w, const char *comm,
		   const char *states, const char *why)
{
	int rc;

	if (r->quiz)
		quiz_ask(r, w);
	rc = await_state(r, w, states, why, r->timeout_ms, false, false, comm);
	if (r->quiz)
		quiz_tell(r, w, why);
	return rc;
}

int obs_fd_link(struct run *r, struct watched *w, int fd, char *buf,
		size_t size, unsigned long long *pipe_ino)
{
	unsigned long long ino = 0;
	int rc;

	(void)r;
	rc = proc_read_fd_link(&w->h, fd, buf, size);
	if (rc == PROC_OK && procfs_parse_pipe_link(buf, strlen(buf), &ino) < 0)
		ino = 0;
	if (pipe_ino != NULL)
		*pipe_ino = ino;
	return rc;
}
