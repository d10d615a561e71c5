/* session.c - sessions, process groups and job control on a terminal.
 *
 * proclab opens a pseudo-terminal of its own (posix_openpt: no terminal
 * needed, so it runs in CI and in a pipe) and starts a shell-like agent
 * on its slave side: the shell calls setsid() and takes the terminal as
 * its controlling terminal (TIOCSCTTY).  Its jobs are agents it forks:
 *
 *   terminal   - the shell leads a new session on the pty (Ss+)
 *   pipeline   - two processes joined by a pipe, one process group led by
 *                the first, made the foreground group (tcsetpgrp)
 *   background - a job of two that reads the terminal from the
 *                background gets SIGTTIN and stops (T): the reader, and
 *                `nohup`, which ignores SIGHUP; another job only sleeps
 *   suspend    - ^Z (the VSUSP byte written to the master) stops the
 *                foreground job: SIGTSTP to its group, T
 *   fg         - the shell gives it the terminal back and SIGCONT
 *   interrupt  - ^C (VINTR) kills the foreground job, not the shell
 *   daemon     - a double fork with setsid: no controlling terminal
 *                (tty_nr 0, tpgid -1), adopted
 *   hangup     - the shell exits while a background job is stopped: the
 *                orphaned group gets SIGHUP and SIGCONT; the reader dies
 *                of SIGHUP, nohup is continued (T -> S); the sleeping job
 *                lives on
 *
 * proclab is a child subreaper for the run, so it adopts the jobs the
 * shell leaves and the daemon, and reaps them itself.  It never calls
 * setsid, setpgid or tcsetpgrp: its own session, process group and
 * terminal are never touched (the pty is opened with O_NOCTTY).  Every
 * process is an agent or tracked, so teardown kills it whatever its
 * session.  State events carry pgrp, sid and tpgid (struct lab's
 * job_control).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

/* Where the shell and its jobs hold the pipe of the pipeline. */
enum { PIPE_R = 5, PIPE_W = 6 };

enum session_op {
	OP_SESSION = AGENT_OP_LAB,  /* setsid + TIOCSCTTY: {sid, pgrp,
				     * tcgetpgrp} */
	OP_SETPGID,                 /* setpgid(0, v0): {pid, pgrp} */
	OP_PLUMB,                   /* v0: 1 stdout to the pipe, 2 stdin from
				     * it, 0 neither; then close both ends */
	OP_FG,                      /* tcsetpgrp(0, v0), SIGCONT to the group
				     * if v1: {tcgetpgrp} */
	OP_WAIT,                    /* waitpid(v0, v1 flags): {pid, status,
				     * errno} */
	OP_READ,                    /* answer, then read(2) the terminal */
	OP_DAEMON,                  /* setsid, fork the daemon, answer
				     * {daemon pid, sid}, _exit(0) */
	OP_NOHUP,                   /* ignore SIGHUP */
	REP_DAEMON = AGENT_REP_LAB, /* the daemon: {pid, sid, pgrp} */
	REP_READ,                   /* read(2) returned: {n, errno} */
};

/* The signals job control is made of: a shell started by `nohup`, or as
 * a background job of a non-interactive shell, inherits some of them
 * ignored, and ignored they would stay in its jobs (^C would kill
 * nothing).  The shell gives them their default actions back. */
static const int job_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU,
};
#define NJOB_SIGNALS (sizeof(job_signals) / sizeof(job_signals[0]))

/* ---- inside the agents (async-signal-safe only) ------------------------ */

static int op_session(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		      int64_t out[AGENT_ARGS])
{
	pid_t sid;

	(void)arg;
	for (size_t i = 0; i < NJOB_SIGNALS; i++)
		signal(job_signals[i], SIG_DFL);
	sid = setsid();
	if (sid < 0)
		agent_fail(c, AGENT_CALL_SETSID);
	if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
		agent_fail(c, AGENT_CALL_TIOCSCTTY);
	out[0] = sid;
	out[1] = getpgrp();
	out[2] = tcgetpgrp(STDIN_FILENO);
	return AGENT_OK;
}

static int op_setpgid(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		      int64_t out[AGENT_ARGS])
{
	if (setpgid(0, (pid_t)arg[0]) < 0)
		agent_fail(c, AGENT_CALL_SETPGID);
	out[0] = getpid();
	out[1] = getpgrp();
	return AGENT_OK;
}

static int op_plumb(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	(void)out;
	if ((arg[0] == 1 && dup2(PIPE_W, STDOUT_FILENO) < 0) ||
	    (arg[0] == 2 && dup2(PIPE_R, STDIN_FILENO) < 0))
		agent_fail(c, AGENT_CALL_DUP2);
	close(PIPE_R);
	close(PIPE_W);
	return AGENT_OK;
}

/* What a shell does for `fg`: the group gets the terminal, then SIGCONT.
 * A shell is in the background once it has given the terminal away, and
 * tcsetpgrp from there raises SIGTTOU: shells ignore it; this one blocks
 * it for the call. */
static int op_fg(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		 int64_t out[AGENT_ARGS])
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	if (tcsetpgrp(STDIN_FILENO, (pid_t)arg[0]) < 0)
		agent_fail(c, AGENT_CALL_TCSETPGRP);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (arg[1] && kill(-(pid_t)arg[0], SIGCONT) < 0)
		agent_fail(c, AGENT_CALL_KILL);
	out[0] = tcgetpgrp(STDIN_FILENO);
	return AGENT_OK;
}

static int op_nohup(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	(void)c;
	(void)arg;
	(void)out;
	signal(SIGHUP, SIG_IGN);
	return AGENT_OK;
}

static int op_wait(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		   int64_t out[AGENT_ARGS])
{
	int st = 0;
	pid_t got;

	(void)c;
	do
		got = waitpid((pid_t)arg[0], &st, (int)arg[1]);
	while (got < 0 && errno == EINTR);
	out[0] = got;
	out[1] = st;
	out[2] = got < 0 ? errno : 0;
	return AGENT_OK;
}

static int op_read(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		   int64_t out[AGENT_ARGS])
{
	char b;
	ssize_t n;

	(void)arg;
	(void)out;
	agent_say(c, OP_READ, 0, 0, 0, 0);
	n = read(STDIN_FILENO, &b, 1);
	agent_say(c, REP_READ, n, n < 0 ? errno : 0, 0, 0);
	return AGENT_QUIET;
}

/* The daemon: no terminal fds, its lifeline the pipe its first parent
 * read commands from (only proclab writes it): EOF ends it. */
static void __attribute__((noreturn)) daemon_main(struct agent_ctx *c)
{
	char b[sizeof(struct agent_msg)];
	int fd;
	ssize_t n;

	prctl(PR_SET_NAME, "proclab-daemon");
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		agent_fail(c, AGENT_CALL_OPEN);
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			agent_fail(c, AGENT_CALL_DUP2);
	close(fd);
	agent_say(c, REP_DAEMON, getpid(), getsid(0), getpgrp(), 0);
	do
		n = read(c->cmd, b, sizeof(b));
	while (n > 0 || (n < 0 && errno == EINTR));
	_exit(0);
}

static int op_daemon(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		     int64_t out[AGENT_ARGS])
{
	pid_t sid, pid;

	(void)arg;
	(void)out;
	sid = setsid();
	if (sid < 0)
		agent_fail(c, AGENT_CALL_SETSID);
	pid = fork();
	if (pid < 0)
		agent_fail(c, AGENT_CALL_FORK);
	if (pid == 0)
		daemon_main(c);
	agent_say(c, OP_DAEMON, pid, sid, 0, 0);
	_exit(0);
}

static const struct agent_op_def session_ops[] = {
	{ OP_SESSION, "session", op_session },
	{ OP_SETPGID, "setpgid", op_setpgid },
	{ OP_PLUMB, "plumb", op_plumb },
	{ OP_FG, "fg", op_fg },
	{ OP_WAIT, "wait", op_wait },
	{ OP_READ, "read", op_read },
	{ OP_DAEMON, "daemon", op_daemon },
	{ OP_NOHUP, "nohup", op_nohup },
	{ REP_DAEMON, "daemon-ready", NULL },
	{ REP_READ, "read-returned", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side ---------------------------------------------------- */

struct session {
	int master, slave, pipe[2];
	char tty[64];
	cc_t intr, susp;
	struct agent *shell, *p1, *p2, *reader, *nohup, *sleeper, *forker;
	struct watched *ws, *w1, *w2, *wr, *wn, *wsl, *wd;
	pid_t daemon, forker_pid;
	char reader_how[64];
};

static void session_cleanup(struct run *r)
{
	struct session *s = run_state(r);
	int *fds[] = { &s->master, &s->slave, &s->pipe[0], &s->pipe[1] };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* "^C" for a control byte, the byte itself otherwise. */
static void key_name(cc_t c, char *buf, size_t size)
{
	if (c < 32)
		snprintf(buf, size, "^%c", c + 64);
	else if (c == 127)
		snprintf(buf, size, "^?");
	else
		snprintf(buf, size, "%c", c);
}

/* Which job-control signals proclab inherited ignored ("none" if none),
 * as sigaction() reports them: the shell gives them back their defaults.
 * Measured: it depends on how proclab was started, not on the lab. */
static void inherited_ignored(char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "none");
	for (size_t i = 0; i < NJOB_SIGNALS && len < size; i++) {
		struct sigaction old;

		if (sigaction(job_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			len += (size_t)snprintf(buf + len, size - len, "%sSIG%s",
						len ? "," : "",
						sigabbrev_np(job_signals[i]));
	}
}

static int open_pty(struct run *r, struct session *s)
{
	struct termios t;
	char intr[8], susp[8], ignored[128];
	int e;

	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->master < 0)
		return pl_unavailable(r, "cannot open a pseudo-terminal: "
				      "posix_openpt: %s", strerror(errno));
	if (grantpt(s->master) < 0 || unlockpt(s->master) < 0)
		return pl_unavailable(r, "cannot unlock the pseudo-terminal: "
				      "%s", strerror(errno));
	if ((e = ptsname_r(s->master, s->tty, sizeof(s->tty))) != 0)
		return pl_unavailable(r, "cannot name the pseudo-terminal: "
				      "ptsname_r: %s", strerror(e));
	s->slave = open(s->tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->slave < 0)
		return pl_unavailable(r, "cannot open %s: %s", s->tty,
				      strerror(errno));
	if (tcgetattr(s->master, &t) < 0) {
		pl_warnx(r, "cannot read the terminal's settings: %s",
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	s->intr = t.c_cc[VINTR];
	s->susp = t.c_cc[VSUSP];
	key_name(s->intr, intr, sizeof(intr));
	key_name(s->susp, susp, sizeof(susp));
	inherited_ignored(ignored, sizeof(ignored));
	emit(r, "terminal", FIELDS(F_MEAS("tty", (const char *)s->tty),
				   F_STR("intr", intr), F_STR("susp", susp),
				   F_BOOL("isig", (t.c_lflag & ISIG) != 0),
				   F_MEAS("ignored", (const char *)ignored)));
	if (!(t.c_lflag & ISIG))
		return pl_fail(r, "expected the new terminal to have ISIG set "
			       "(keys that signal); it has not");
	return PL_EXIT_OK;
}

/* Type one key on the terminal: write its byte to the master side. */
static int type_key(struct run *r, struct session *s, cc_t key,
		    const char *what)
{
	char name[8];
	ssize_t n;

	key_name(key, name, sizeof(name));
	do
		n = write(s->master, &key, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		pl_warnx(r, "cannot write %s to the terminal: %s", name,
			 n < 0 ? strerror(errno) : "short write");
		return PL_EXIT_FAIL;
	}
	emit(r, "typed", FIELDS(F_STR("key", name), F_INT("byte", key),
				F_STR("what", what)));
	return PL_EXIT_OK;
}

/* An operation with two arguments, its answer in *m. */
static int job_do(struct run *r, struct agent *a, int op, int64_t v0,
		  int64_t v1, struct agent_msg *m)
{
	const int64_t arg[AGENT_ARGS] = { v0, v1, 0, 0 };

	return agent_do_args(r, a, op, arg, m);
}

/* The shell's waitpid for one of its jobs, reported as its status. */
static int shell_wait(struct run *r, struct session *s, pid_t pid,
		      const char *role, int flags, struct wstatus *w)
{
	struct agent_msg m;
	int rc = job_do(r, s->shell, OP_WAIT, pid, flags, &m);

	if (rc)
		return rc;
	if (m.v[0] != pid)
		return pl_fail(r, "expected the shell's waitpid(%d) to return "
			       "its status; it failed: %s", (int)pid,
			       strerror((int)m.v[2]));
	wstatus_decode((int)m.v[1], w);
	emit_wstatus_by(r, pid, role, "waitpid", s->shell->pid, w);
	return PL_EXIT_OK;
}

/* The shell gives the terminal to group pgrp (with SIGCONT: `fg`), and
 * every process shows the new foreground group.  The shell and the
 * continued job are awaited asleep first: they are running for a moment
 * (the shell answering, the job woken), and what is shown must not
 * depend on that moment. */
static int shell_fg(struct run *r, struct session *s, pid_t pgrp, bool cont,
		    const char *why)
{
	struct agent_msg m;
	int rc = job_do(r, s->shell, OP_FG, pgrp, cont, &m);

	if (rc)
		return rc;
	emit_form(r, "tcsetpgrp", cont ? "fg" : NULL,
		  FIELDS(F_TEXT("role", "shell"),
			 F_PID("pid", s->shell->pid), F_PID("pgrp", pgrp),
			 F_BOOL("sigcont", cont), F_PID("tpgid", m.v[0])));
	if (m.v[0] != pgrp)
		return pl_fail(r, "expected the terminal's foreground group to "
			       "be %d after tcsetpgrp; tcgetpgrp said %d",
			       (int)pgrp, (int)m.v[0]);
	if ((rc = obs_await(r, s->ws, "S", why)))
		return rc;
	if (cont &&
	    ((rc = obs_await(r, s->w1, "S", "continued by SIGCONT: it sleeps "
			     "in the foreground group {tpgid} again")) ||
	     (rc = obs_await(r, s->w2, "S", "continued by SIGCONT with its "
			     "group {pgrp}"))))
		return rc;
	obs_show_all(r, why);
	return PL_EXIT_OK;
}

/* Fork a planned job and put it in process group pgrp (0: its own). */
static int start_job(struct run *r, struct session *s, struct agent *a,
		     pid_t pgrp, struct watched **w, const char *why)
{
	struct agent_msg m;
	int rc = agent_fork(r, s->shell, a, NULL, NULL);

	if (rc || (rc = job_do(r, a, OP_SETPGID, pgrp, 0, &m)))
		return rc;
	emit(r, "setpgid", FIELDS(F_PID("pid", a->pid), F_PID("pgrp", m.v[1]),
				  F_TEXT("role", a->role)));
	*w = obs_add(r, a->pid, a->pidfd, a->role);
	if (*w == NULL)
		return PL_EXIT_FAIL;
	return obs_await(r, *w, "S", why);
}

static int stage_terminal(struct run *r)
{
	struct session *s = run_state(r);
	struct agent_msg m;
	int rc;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0)
		return pl_unavailable(r, "cannot become a child subreaper: %s",
				      strerror(errno));
	if ((rc = open_pty(r, s)))
		return rc;
	if (pipe2(s->pipe, O_CLOEXEC) < 0) {
		pl_warnx(r, "cannot create a pipe: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (agent_init(r, &(struct agent_config){ .ops = session_ops }))
		return PL_EXIT_FAIL;
	s->shell = agent_new(r, "shell");
	if (s->shell == NULL ||
	    (s->p1 = agent_plan_child(r, s->shell, "pipe-1")) == NULL ||
	    (s->p2 = agent_plan_child(r, s->shell, "pipe-2")) == NULL ||
	    (s->reader = agent_plan_child(r, s->shell, "reader")) == NULL ||
	    (s->nohup = agent_plan_child(r, s->shell, "nohup")) == NULL ||
	    (s->sleeper = agent_plan_child(r, s->shell, "sleeper")) == NULL ||
	    (s->forker = agent_plan_child(r, s->shell, "forker")) == NULL)
		return PL_EXIT_FAIL;
	/* the background jobs must outlive the shell: no death signal */
	agent_outlives(s->reader);
	agent_outlives(s->nohup);
	agent_outlives(s->sleeper);
	for (int fd = 0; fd < 3; fd++)
		if (agent_give_fd(r, s->shell, s->slave, fd))
			return PL_EXIT_FAIL;
	if (agent_give_fd(r, s->shell, s->pipe[0], PIPE_R) ||
	    agent_give_fd(r, s->shell, s->pipe[1], PIPE_W) ||
	    (rc = agent_start(r, s->shell, NULL)))
		return rc ? rc : PL_EXIT_FAIL;
	/* the shell holds them now; proclab keeps the master alone */
	close(s->slave);
	close(s->pipe[0]);
	close(s->pipe[1]);
	s->slave = s->pipe[0] = s->pipe[1] = -1;
	if ((rc = job_do(r, s->shell, OP_SESSION, 0, 0, &m)))
		return rc;
	emit(r, "session", FIELDS(F_TEXT("role", "shell"),
				  F_PID("pid", s->shell->pid),
				  F_PID("sid", m.v[0]), F_PID("pgrp", m.v[1]),
				  F_PID("tpgid", m.v[2])));
	s->ws = obs_add(r, s->shell->pid, s->shell->pidfd, "shell");
	if (s->ws == NULL)
		return PL_EXIT_FAIL;
	rc = obs_await(r, s->ws, "S", "leads session {sid}; its terminal's "
		       "foreground group is {tpgid}");
	if (rc == 0 && (s->ws->st.session != s->shell->pid ||
			s->ws->st.tpgid != s->shell->pid))
		return pl_fail(r, "expected the shell %d to lead its session and "
			       "own the terminal; /proc showed sid %d, tpgid %d",
			       (int)s->shell->pid, (int)s->ws->st.session,
			       (int)s->ws->st.tpgid);
	return rc;
}

static int stage_pipeline(struct run *r)
{
	struct session *s = run_state(r);
	int rc;

	if ((rc = start_job(r, s, s->p1, 0, &s->w1, N_("leads the job's process "
			    "group {pgrp}"))) ||
	    (rc = job_do(r, s->p1, OP_PLUMB, 1, 0, NULL)) ||
	    (rc = start_job(r, s, s->p2, s->p1->pid, &s->w2, N_("joined the "
			    "group {pgrp} of the job's first process"))) ||
	    (rc = job_do(r, s->p2, OP_PLUMB, 2, 0, NULL)) ||
	    (rc = job_do(r, s->shell, OP_PLUMB, 0, 0, NULL)))
		return rc;
	claim(r, "session-pipeline-job",
	      s->w1->st.pgrp == s->p1->pid && s->w2->st.pgrp == s->p1->pid
	      ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("first", s->p1->pid), F_PID("second", s->p2->pid),
		     F_PID("pgrp", s->w2->st.pgrp)));
	return shell_fg(r, s, s->p1->pid, false, N_("the terminal's foreground "
			"group is now {tpgid}"));
}

static int stage_background(struct run *r)
{
	struct session *s = run_state(r);
	struct wstatus w, wn;
	int rc;

	if ((rc = start_job(r, s, s->reader, 0, &s->wr, N_("a background job: "
			    "its group {pgrp} is not the foreground {tpgid}"))) ||
	    (rc = start_job(r, s, s->nohup, s->reader->pid, &s->wn, N_("joined "
			    "the reader's job {pgrp}"))) ||
	    (rc = job_do(r, s->nohup, OP_NOHUP, 0, 0, NULL)) ||
	    (rc = job_do(r, s->reader, OP_READ, 0, 0, NULL)))
		return rc;
	if ((rc = obs_await(r, s->wr, "T", "it read the terminal from the "
			    "background: the kernel sent its group SIGTTIN")) ||
	    (rc = obs_await(r, s->wn, "T", "by SIGTTIN, with the rest of "
			    "its group {pgrp}")) ||
	    (rc = shell_wait(r, s, s->reader->pid, "reader", WUNTRACED, &w)) ||
	    (rc = shell_wait(r, s, s->nohup->pid, "nohup", WUNTRACED, &wn)))
		return rc;
	if (!w.stopped || w.sig != SIGTTIN || !wn.stopped ||
	    wn.sig != SIGTTIN)
		return pl_fail(r, "expected the reader's job to be stopped by "
			       "SIGTTIN; the shell's waitpid said otherwise");
	return start_job(r, s, s->sleeper, 0, &s->wsl, N_("a background job "
			 "that only sleeps: nothing stops it"));
}

static int stage_suspend(struct run *r)
{
	struct session *s = run_state(r);
	struct wstatus w1, w2;
	int rc;

	if ((rc = type_key(r, s, s->susp, "suspend")) ||
	    (rc = obs_await(r, s->w1, "T", "by SIGTSTP: the terminal "
			    "signalled its foreground group {tpgid}")) ||
	    (rc = obs_await(r, s->w2, "T", "by SIGTSTP, with the rest of its "
			    "group {pgrp}")) ||
	    (rc = shell_wait(r, s, s->p1->pid, "pipe-1", WUNTRACED, &w1)) ||
	    (rc = shell_wait(r, s, s->p2->pid, "pipe-2", WUNTRACED, &w2)))
		return rc;
	if (!w1.stopped || w1.sig != SIGTSTP || !w2.stopped ||
	    w2.sig != SIGTSTP)
		return pl_fail(r, "expected both processes of the job to be "
			       "stopped by SIGTSTP");
	return shell_fg(r, s, s->shell->pid, false, N_("the shell took the "
			"terminal back: the foreground group is {tpgid}"));
}

static int stage_fg(struct run *r)
{
	struct session *s = run_state(r);

	return shell_fg(r, s, s->p1->pid, true, N_("the foreground group is "
			"{tpgid} again"));
}

static int stage_interrupt(struct run *r)
{
	struct session *s = run_state(r);
	struct wstatus w1, w2;
	char sh, rd, sl;
	int rc;

	agent_ending(s->p1);
	agent_ending(s->p2);
	if ((rc = type_key(r, s, s->intr, "interrupt")) ||
	    (rc = obs_await(r, s->w1, "Z", "killed by SIGINT, sent to the "
			    "foreground group; its parent {ppid} has not "
			    "waited yet")) ||
	    (rc = obs_await(r, s->w2, "Z", "killed by SIGINT with its group; "
			    "its parent {ppid} has not waited yet")) ||
	    (rc = shell_wait(r, s, s->p1->pid, "pipe-1", 0, &w1)) ||
	    (rc = shell_wait(r, s, s->p2->pid, "pipe-2", 0, &w2)) ||
	    (rc = obs_await(r, s->w1, "X", "reaped by the shell")) ||
	    (rc = obs_await(r, s->w2, "X", "reaped by the shell")))
		return rc;
	if ((rc = shell_fg(r, s, s->shell->pid, false, N_("the shell took the "
			   "terminal back: the foreground group is {tpgid}"))))
		return rc;
	sh = s->ws->state, rd = s->wr->state, sl = s->wsl->state;
	claim(r, "session-ctrl-c-fg",
	      w1.signaled && w1.sig == SIGINT && w2.signaled &&
	      w2.sig == SIGINT && sh != 'Z' && sh != 'X' && rd == 'T' &&
	      sl == 'S' ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_STR("signame1", wstatus_signame(w1.sig).s),
		     F_STR("signame2", wstatus_signame(w2.sig).s),
		     F_CHAR("shell_state", sh), F_CHAR("reader_state", rd),
		     F_CHAR("sleeper_state", sl)));
	return PL_EXIT_OK;
}

static int stage_daemon(struct run *r)
{
	struct session *s = run_state(r);
	struct agent_msg m, d;
	struct wstatus w;
	int pidfd, rc, in_session = 0;

	agent_ending(s->forker);
	if ((rc = agent_fork(r, s->shell, s->forker, NULL, NULL)))
		return rc;
	s->forker_pid = s->forker->pid;
	if ((rc = job_do(r, s->forker, OP_DAEMON, 0, 0, &m)) ||
	    (rc = agent_expect(r, NULL, REP_DAEMON, &d)))
		return rc;
	s->daemon = (pid_t)m.v[0];
	if (pl_track(r, s->daemon, &pidfd) < 0)
		return PL_EXIT_FAIL;
	kid_set_role(r, s->daemon, "daemon");
	emit(r, "daemon", FIELDS(F_TEXT("role", "forker"),
				 F_PID("pid", s->forker_pid),
				 F_PID("sid", m.v[1]),
				 F_PID("daemon", s->daemon),
				 F_PID("daemon_sid", d.v[1]),
				 F_PID("daemon_pgrp", d.v[2])));
	if ((rc = shell_wait(r, s, s->forker_pid, "forker", 0, &w)))
		return rc;
	/* the forker has exited: its child was handed on already */
	s->wd = obs_add(r, s->daemon, pidfd, "daemon");
	if (s->wd == NULL ||
	    (rc = obs_await(r, s->wd, "S", "adopted by {ppid}; in session "
			    "{sid}, with no terminal: tpgid {tpgid}")))
		return rc ? rc : PL_EXIT_FAIL;
	emit_form(r, "ctty", s->wd->st.tty_nr == 0 ? "none" : NULL,
		  FIELDS(F_PID("pid", s->daemon),
			 s->wd->st.tty_nr == 0 ? F_INT("tty_nr", 0)
			 : F_MEAS("tty_nr", (long long)s->wd->st.tty_nr),
			 F_PID("tpgid", s->wd->st.tpgid),
			 F_TEXT("role", "daemon")));
	emit_form(r, "ctty", s->ws->st.tty_nr == 0 ? "none" : NULL,
		  FIELDS(F_PID("pid", s->shell->pid),
			 s->ws->st.tty_nr == 0 ? F_INT("tty_nr", 0)
			 : F_MEAS("tty_nr", (long long)s->ws->st.tty_nr),
			 F_PID("tpgid", s->ws->st.tpgid),
			 F_TEXT("role", "shell")));
	claim(r, "session-daemon-no-tty",
	      s->wd->st.tty_nr == 0 && s->wd->st.tpgid == -1
	      ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("daemon", s->daemon),
		     F_INT("tty_nr", s->wd->st.tty_nr),
		     F_PID("tpgid", s->wd->st.tpgid),
		     F_PID("ppid", s->wd->st.ppid)));
	/* the jobs the shell started, and the daemon */
	struct watched *jobs[] = { s->w1, s->w2, s->wr, s->wn, s->wsl };
	int njobs = (int)(sizeof(jobs) / sizeof(jobs[0]));

	for (int i = 0; i < njobs; i++)
		in_session += jobs[i]->st.session == s->shell->pid;
	claim(r, "session-shell-leader",
	      in_session == njobs && s->wd->st.session == s->shell->pid
	      ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("shell", s->shell->pid),
		     F_INT("in_session", in_session), F_INT("jobs", njobs),
		     F_PID("daemon_sid", s->wd->st.session)));
	return PL_EXIT_OK;
}

static int stage_hangup(struct run *r)
{
	struct session *s = run_state(r);
	struct wstatus w;
	int status, rc;
	char sl, dm;

	agent_ending(s->shell);
	agent_ending(s->reader);
	agent_ending(s->nohup);
	if ((rc = agent_do(r, s->shell, AGENT_OP_EXIT, 0, NULL)) ||
	    (rc = obs_await(r, s->ws, "Z", "exited; proclab, its parent, has "
			    "not waited yet")) ||
	    (rc = obs_await(r, s->wr, "Z", "killed: its group lost its last "
			    "link to the session ({ppid} adopted it), and the "
			    "kernel sent the stopped group SIGHUP and SIGCONT")) ||
	    (rc = obs_await(r, s->wn, "S", "continued: it ignores SIGHUP, and "
			    "the kernel's SIGCONT woke it; adopted by {ppid}")))
		return rc;
	if (pl_waitpid(r, s->reader->pid, "reader", &status) < 0)
		return PL_EXIT_FAIL;
	wstatus_decode(status, &w);
	snprintf(s->reader_how, sizeof(s->reader_how), "%s",
		 w.signaled ? wstatus_signame(w.sig).s : "exited");
	if ((rc = obs_await(r, s->wr, "X", "reaped by proclab, its adopter")) ||
	    pl_waitpid(r, s->shell->pid, "shell", &status) < 0 ||
	    (rc = obs_await(r, s->ws, "X", "reaped by proclab")))
		return rc ? rc : PL_EXIT_FAIL;
	obs_show_all(r, "outlived the shell; adopted by {ppid}, no terminal "
		     "now: tpgid {tpgid}");
	sl = s->wsl->state, dm = s->wd->state;
	claim(r, "session-sighup-all",
	      sl == 'Z' || sl == 'X' ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_STR("reader_death", s->reader_how),
		     F_CHAR("nohup_state", s->wn->state),
		     F_CHAR("sleeper_state", sl), F_CHAR("daemon_state", dm)));
	if (!w.signaled || w.sig != SIGHUP)
		return pl_fail(r, "expected the stopped reader to die by SIGHUP "
			       "when the shell exited; it %s", s->reader_how);
	return PL_EXIT_OK;
}

static int stage_survivors(struct run *r)
{
	struct session *s = run_state(r);
	struct { struct watched *w; pid_t pid; const char *role; } left[] = {
		{ s->wn, s->nohup->pid, "nohup" },
		{ s->wsl, s->sleeper->pid, "sleeper" },
		{ s->wd, s->daemon, "daemon" },
	};
	int status;

	/* their lifelines: each reads EOF and exits */
	agent_ending(s->sleeper);
	agent_close(s->nohup);
	agent_close(s->sleeper);
	agent_close(s->forker);
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		if (obs_await(r, left[i].w, "Z", "exited; proclab, its adopter, "
			      "has not waited yet") ||
		    pl_waitpid(r, left[i].pid, left[i].role, &status) < 0 ||
		    obs_await(r, left[i].w, "X", "reaped by proclab"))
			return PL_EXIT_FAIL;
	return PL_EXIT_OK;
}

static int session_run(struct run *r)
{
	struct session *s = run_state(r);

	s->master = s->slave = s->pipe[0] = s->pipe[1] = -1;
	run_on_cleanup(r, session_cleanup);
	return PL_EXIT_OK;
}

static const struct sentence session_sentences[] = {
	{ "terminal", NULL, "proclab opened the pseudo-terminal {tty}: its "
	  "interrupt key is {intr}, its suspend key {susp}; job-control "
	  "signals proclab inherited ignored, which the shell resets to their "
	  "defaults: {ignored}", NULL, NULL },
	{ "session", NULL, "the {role} {pid} called setsid(): session {sid}, process "
	  "group {pgrp}; with TIOCSCTTY the terminal is its controlling "
	  "terminal, foreground group {tpgid}", NULL, NULL },
	{ "setpgid", NULL, "{role} {pid} called setpgid(): process group "
	  "{pgrp}", NULL, NULL },
	{ "tcsetpgrp", NULL, "the {role} {pid} called tcsetpgrp({pgrp}): "
	  "tcgetpgrp now says {tpgid}", NULL, NULL },
	{ "tcsetpgrp", "fg", "the {role} {pid} ran fg: tcsetpgrp({pgrp}), "
	  "then kill(-{pgrp}, SIGCONT); tcgetpgrp now says {tpgid}", NULL,
	  NULL },
	{ "typed", NULL, "proclab typed {key} (byte {byte}, {what}): it "
	  "wrote the byte to the master side of the terminal", NULL, NULL },
	{ "daemon", NULL, "the {role} {pid} called setsid() (session {sid}), "
	  "forked {daemon}, the daemon, and exited; the daemon is in session "
	  "{daemon_sid}, group {daemon_pgrp}", NULL, NULL },
	{ "ctty", NULL, "{role} {pid} has a controlling terminal: tty_nr "
	  "{tty_nr}, tpgid {tpgid}", NULL, NULL },
	{ "ctty", "none", "{role} {pid} has no controlling terminal: tty_nr "
	  "{tty_nr}, tpgid {tpgid} (ps: TTY ?, TPGID -1)", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage session_stages[] = {
	{ "terminal", "proclab opens a pseudo-terminal; a shell-like agent "
	  "makes a session on it", stage_terminal, NULL, NULL, NULL },
	{ "pipeline", "the shell starts a pipeline of two processes as one "
	  "job and gives it the terminal", stage_pipeline, NULL, NULL, NULL },
	{ "background", "two background jobs: one reads the terminal, the "
	  "other sleeps", stage_background, NULL, NULL, NULL },
	{ "suspend", "^Z on the terminal stops the foreground job",
	  stage_suspend, NULL, NULL, NULL },
	{ "fg", "the shell continues the job in the foreground",
	  stage_fg, NULL, NULL, NULL },
	{ "interrupt", "^C on the terminal kills the foreground job",
	  stage_interrupt, NULL, NULL, NULL },
	{ "daemon", "a daemon: fork, setsid, fork again, the middle one "
	  "exits", stage_daemon, NULL, NULL, NULL },
	{ "hangup", "the shell exits while a background job is stopped",
	  stage_hangup, NULL, NULL, NULL },
	{ "end", "proclab ends the survivors and reaps them", stage_survivors,
	  NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct lab lab_session = {
	.name = "session",
	.summary = "sessions, process groups and job control on a "
		   "pseudo-terminal",
	.description =
		"On a pseudo-terminal of its own, proclab starts a shell-like "
		"session leader\n(setsid, TIOCSCTTY) and its jobs: a pipeline "
		"of two processes in one process\ngroup made the foreground "
		"group (tcsetpgrp), a background job stopped by\nSIGTTIN when "
		"it reads the terminal, ^Z and fg, ^C, a daemon's double fork "
		"with\nsetsid (no controlling terminal), and the shell's exit, "
		"after which the\nstopped, orphaned job gets SIGHUP and "
		"SIGCONT: its reader dies, its member\nthat ignores SIGHUP "
		"runs on.  Every state line shows the process group,\n"
		"session and foreground group as ps -o pid,pgid,sid,tpgid,stat "
		"does.",
	.run = session_run,
	.stages = session_stages,
	.sentences = session_sentences,
	.state_size = sizeof(struct session),
	.job_control = true,
};
