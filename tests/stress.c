/* stress.c - `make stress`: kill proclab at random moments of every lab and
 * count what it leaves behind; then run every lab many times with every
 * core busy and check that it teaches the same lesson each time.
 *
 * Why a C program and not a shell script: the harness must be a child
 * subreaper (prctl(2); no shell can ask for that), reap what it adopts the
 * moment it is handed over (a signalfd for SIGCHLD), place kills with
 * sub-millisecond precision while it reads proclab's output (ppoll(2)), and
 * read JSON Lines with the tests' strict reader (tests/testutil.c), not
 * with grep.
 *
 * Kill trials.  Every lab of `proclab list` runs in a session of its own
 * (setsid) and gets SIGINT, SIGTERM, SIGHUP or SIGKILL either after a
 * random delay within the lab's measured run time, or at a random --step
 * pause, where its children sit in the states it demonstrates: running,
 * blocked, stopped, traced, vfork-suspended, zombies, orphans adopted by
 * another process.  The delays are random on purpose: this is a stress
 * harness, not synchronisation.  What a run made is what its session
 * holds (the engine moves children into the run's own process group, in
 * the same session), but for the session lab, whose shell calls setsid
 * (and its daemon too): what that lab leaves behind in other sessions
 * comes to the harness, a subreaper, so the harness counts its own
 * adopted children too.
 *
 * User trials (as many again, STRESS_USER_TRIALS): the way users run and
 * stop it - Ctrl-C or Ctrl-\ typed on a pseudo-terminal whose foreground
 * group is proclab's, every process of the session stopped before a
 * SIGKILL, SIGINT/SIGQUIT/SIGHUP inherited as ignored and then sent,
 * SIGCHLD inherited as ignored, a child inherited across exec (which must
 * still be running, not killed nor reaped).  Each prints failures/trials.
 *
 * Who reaps.  PID 1 here reaps orphans only every couple of seconds, so
 * counting with PID 1 as the adopter would call dead processes survivors.
 * The harness is a child subreaper instead: whatever proclab's processes
 * orphan (the orphan lab's orphan, the children of a SIGKILLed proclab)
 * comes to the harness, which reaps it at once, as a prompt init would.
 * Then, for each trial:
 *   alive at exit  processes of the session not yet zombies the moment
 *                  proclab has been reaped; after SIGINT, SIGTERM or SIGHUP
 *                  this must be 0 (teardown waits for them), after SIGKILL
 *                  they are still dying of their parent-death signal;
 *   survivors      what is left of the session, alive or zombie, after a
 *                  grace of up to STRESS_GRACE_MS (default 2000; over as
 *                  soon as the session is empty), plus any process the
 *                  harness adopted from outside the session and that is
 *                  still there.  The goal is 0.
 * Survivors are listed, then killed, so that one leak does not spoil the
 * next trial.  The exit status is checked too: 128 + signo after an
 * orderly teardown, death by the signal for SIGKILL (or for a signal that
 * came before proclab set up its signalfd), 0 if the lab had ended first.
 *
 * Same lesson.  Every lab but watch (and a few option variants) runs
 * STRESS_RUNS times with a busy loop on every online CPU (they spin
 * through the kill trials too).  Each run's
 * lesson is its stage names and, per role, the demonstrated states (state
 * events not marked transient), in order; every run must exit 0 and match
 * the first.  Runs in both parts are checked for leftovers the same way.
 *
 * Where users run it.  Every lab (but watch) runs STRESS_WHERE times (3)
 * under each condition: as PID 1 of a PID namespace (unshare --pid --fork
 * --mount-proc; exit 0), orphan under a PID 1 that never reaps (this
 * program as that init, --init-no-reap; exit 0 and the zombie that
 * stays), under strace -f, and at ulimit -n 10, -v 8000 and -u 2 (as a
 * fresh uid): exit 0 or 3, never a timeout; start first, result last;
 * exit 3 with its reason (an error or unavailable event); nothing left.
 * A condition this machine cannot make (no unshare, no strace) is
 * skipped, and says so.
 *
 * Environment: PROCLAB (./proclab), STRESS_TRIALS (320 kill trials in all),
 * STRESS_RUNS (200 runs per lab), STRESS_WHERE (3), STRESS_SEED (printed: the same seed
 * makes the same choices of variant, signal, delay and pause, though not
 * the same timing), STRESS_GRACE_MS.  Prints `name value` lines; exits 1 on any survivor,
 * bad exit or different lesson.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_LABS 32
#define MAX_HELPERS 64

static const char *prog;
static pid_t self;
static int sfd = -1;            /* signalfd: SIGCHLD */
static sigset_t oldmask;
static long grace_ms = 2000;

static pid_t helpers[MAX_HELPERS];   /* busy loops, watch targets */
static int nhelpers;
static unsigned long adopted;        /* reaped by the harness, not proclab */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("stress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rng_state;

static uint64_t rnd(void)       /* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static long env_num(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		die("%s=%s: not a number in %ld..%ld", name, s, min, max);
	return v;
}

/* ---- children of the harness ------------------------------------------ */

static bool is_helper(pid_t pid)
{
	for (int i = 0; i < nhelpers; i++)
		if (helpers[i] == pid)
			return true;
	return false;
}

static void forget_helper(pid_t pid)
{
	for (int i = 0; i < nhelpers; i++)
		if (helpers[i] == pid)
			helpers[i] = helpers[--nhelpers];
}

/* A child that dies with the harness; returns 0 in it. */
static pid_t fork_child(void)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != parent)
			_exit(127);
	}
	return pid;
}

static pid_t start_helper(bool busy)
{
	pid_t pid;

	if (nhelpers == MAX_HELPERS)
		die("too many helpers");
	pid = fork_child();
	if (pid == 0) {
		if (busy)
			for (volatile unsigned long n = 0;; n++)
				;
		for (;;)
			pause();
	}
	helpers[nhelpers++] = pid;
	return pid;
}

static void stop_helper(pid_t pid)
{
	forget_helper(pid);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The proclab being driven, and what became of it. */
static struct {
	pid_t pid;
	bool done;
	int status;
} cur;

/* Reap every child that has ended: proclab, or a process adopted. */
static void reap(void)
{
	struct signalfd_siginfo si;
	int status;
	pid_t p;

	while (read(sfd, &si, sizeof(si)) > 0)
		;
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p == cur.pid) {
			cur.done = true;
			cur.status = status;
		} else if (is_helper(p)) {
			forget_helper(p);
			fprintf(stderr, "stress: helper %d ended early\n",
				(int)p);
		} else {
			adopted++;
		}
	}
}

/* ---- /proc ------------------------------------------------------------- */

struct proc_ent {
	pid_t pid, ppid, sid;
	char state;
	char comm[32];
};

/* The processes of session sid, and the harness's own children that are
 * not its helpers nor proclab (adopted from anywhere). */
static int scan(pid_t sid, struct proc_ent *v, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		die("/proc: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024], *lp, *rp;
		struct proc_ent p;
		ssize_t len;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		lp = strchr(buf, '(');
		rp = strrchr(buf, ')');
		if (lp == NULL || rp == NULL || rp < lp ||
		    sscanf(rp + 2, "%c %d %*d %d", &p.state, &p.ppid,
			   &p.sid) != 3)
			continue;
		p.pid = (pid_t)atoi(buf);
		snprintf(p.comm, sizeof(p.comm), "%.*s",
			 (int)(rp - lp - 1), lp + 1);
		if (p.sid != sid &&
		    (p.ppid != self || is_helper(p.pid) || p.pid == cur.pid))
			continue;
		if (n < max)
			v[n] = p;
		n++;
	}
	closedir(d);
	return n;
}

static int count_alive(const struct proc_ent *v, int n)
{
	int alive = 0;

	for (int i = 0; i < n; i++)
		alive += v[i].state != 'Z';
	return alive;
}

/* ---- driving proclab ----------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			die("out of memory");
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

struct trial {
	const char *argv[16];   /* without argv[0] */
	/* where: a command that runs proclab (unshare, strace), before
	 * prog; a limit to set first (res 0: none), a uid to become */
	const char *wrap[10];
	int res;
	rlim_t lim;
	uid_t uid;
	int sig;                /* 0: no kill */
	int64_t delay_ns;       /* kill after this; -1: not by time */
	int step_k;             /* kill at the k-th pause (with --step) */
	/* how users run it (user trials): on a terminal, with the kill a
	 * key (Ctrl-C, Ctrl-\) the terminal turns into a signal to the
	 * foreground group; every process of the run stopped before a
	 * SIGKILL; signals inherited as ignored; a child inherited */
	bool pty, stop, ign, chld_ign, inherit;
	int tty;                /* the pty's master while it runs */
	pid_t *inherited;       /* shared: the inherited child's pid */
	/* results */
	int pauses;
	bool killed, hung;
	int status;
	int64_t ns;
	struct buf out, err;
};

/* SIGSTOP every process of session sid but its leader, then wait (up to
 * a second) until each shows T (or D: a vfork caller stops once its
 * child lets go). */
static void stop_session(pid_t sid)
{
	static struct proc_ent v[256];

	for (int round = 0; round < 1000; round++) {
		int n = scan(sid, v, 256), running = 0;

		for (int i = 0; i < n && i < 256; i++) {
			if (v[i].pid == sid || v[i].sid != sid ||
			    strchr("TZDX", v[i].state) != NULL)
				continue;
			running++;
			kill(v[i].pid, SIGSTOP);
		}
		if (running == 0)
			return;
		poll(NULL, 0, 1);
	}
}

/* The kill a trial makes: a key on the terminal, every process stopped
 * then SIGKILL, or t->sig to proclab. */
static void act(struct trial *t)
{
	if (t->pty) {
		char key = t->sig == SIGQUIT ? '\034' : '\003';

		if (write(t->tty, &key, 1) < 0) {
			/* the terminal is gone with proclab */
		}
		return;
	}
	if (t->stop)
		stop_session(cur.pid);
	kill(cur.pid, t->sig);
}

/* Count pause events in the new complete lines; answer or kill. */
static void on_lines(struct trial *t, size_t *scanned, int in)
{
	static struct jobj o;
	char *line, *eol;

	if (t->out.p == NULL)
		return;         /* nothing read yet */
	while ((line = t->out.p + *scanned,
		eol = memchr(line, '\n', t->out.len - *scanned)) != NULL) {
		size_t len = (size_t)(eol - line);

		*scanned += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;          /* a terminal's line end */
		if (json_parse_line(line, len, &o) < 0 ||
		    strcmp(jstr(&o, "event"), "pause") != 0)
			continue;
		t->pauses++;
		if (t->step_k > 0 && t->pauses == t->step_k && !t->killed) {
			act(t);
			t->killed = true;
			/* an ignored signal ends nothing: go on */
			if (t->ign && in >= 0 && write(in, "\n", 1) < 0) {
				/* proclab is gone */
			}
		} else if (in >= 0 && write(in, "\n", 1) < 0) {
			/* proclab is gone: its end is reported by wait */
		}
	}
}

static void set_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
}

/* Run proclab with t->argv in a session of its own; kill it as t says.
 * Returns once proclab has been reaped. */
static void drive(struct trial *t)
{
	const char *args[32] = { "proclab" };
	int in[2], out[2], err[2];
	size_t nargs = 1, scanned = 0;
	int64_t start, kill_at, deadline;
	bool step = false;

	if (t->wrap[0] != NULL) {
		for (nargs = 0; t->wrap[nargs] != NULL; nargs++)
			args[nargs] = t->wrap[nargs];
		args[nargs++] = prog;
	}
	for (int i = 0; t->argv[i] != NULL; i++) {
		args[nargs++] = t->argv[i];
		step |= strcmp(t->argv[i], "--step") == 0;
	}
	args[nargs] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	t->out.len = t->err.len = 0;
	t->pauses = 0;
	t->killed = t->hung = false;
	cur.done = false;
	start = now_ns();
	t->tty = -1;
	if (t->pty) {
		int slave;

		if (openpty(&t->tty, &slave, NULL, NULL, NULL) < 0)
			die("openpty: %s", strerror(errno));
		/* the terminal in place of the pipes */
		dup2(slave, in[0]);
		dup2(slave, out[1]);
		dup2(slave, err[1]);
		close(slave);
	}
	cur.pid = fork_child();
	if (cur.pid == 0) {
		if (setsid() < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(err[1], 2) < 0)
			_exit(127);
		if (t->pty && ioctl(0, TIOCSCTTY, 0) < 0)
			_exit(127);
		if (t->ign && (signal(SIGINT, SIG_IGN) == SIG_ERR ||
			       signal(SIGQUIT, SIG_IGN) == SIG_ERR ||
			       signal(SIGHUP, SIG_IGN) == SIG_ERR))
			_exit(127);
		if (t->chld_ign && signal(SIGCHLD, SIG_IGN) == SIG_ERR)
			_exit(127);
		if (t->inherit) {
			/* `sleep 100 & exec proclab ...` */
			pid_t kid = fork();

			if (kid < 0)
				_exit(127);
			if (kid == 0) {
				close_range(0, ~0U, 0);
				for (;;)
					pause();
			}
			*t->inherited = kid;
		}
		if (t->res != 0 || t->uid != 0) {
			struct rlimit rl = { t->lim, t->lim };

			if ((t->uid != 0 && setresgid(t->uid, t->uid, t->uid) < 0) ||
			    (t->res != 0 && setrlimit(t->res, &rl) < 0) ||
			    (t->uid != 0 && setresuid(t->uid, t->uid, t->uid) < 0))
				_exit(126);
		}
		if (t->wrap[0] != NULL)
			execvp(t->wrap[0], (char *const *)args);
		else
			execv(prog, (char *const *)args);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (t->pty) {           /* read and write the terminal */
		close(in[1]);
		close(out[0]);
		in[1] = t->tty;
		out[0] = dup(t->tty);
		if (out[0] < 0)
			die("dup: %s", strerror(errno));
		close(err[0]);
		err[0] = -1;
	}
	if (!step && !t->pty) { /* stdin at EOF, as from /dev/null */
		close(in[1]);
		in[1] = -1;
	}
	set_nonblock(out[0]);
	if (err[0] >= 0)
		set_nonblock(err[0]);
	kill_at = t->sig && t->delay_ns >= 0 ? start + t->delay_ns : -1;
	deadline = start + 60 * 1000000000LL;
	while (!cur.done) {
		struct pollfd p[3] = {
			{ sfd, POLLIN, 0 },
			{ out[0], POLLIN, 0 }, { err[0], POLLIN, 0 },
		};
		int64_t now = now_ns(), wake;
		struct timespec ts;
		char b[8192];
		ssize_t n;

		/* what is ignored is ignored from proclab's first line on
		 * (before, the fork might not have set it up yet) */
		if (kill_at >= 0 && !t->killed && now >= kill_at &&
		    (!t->ign || t->out.len > 0)) {
			act(t);
			t->killed = true;
		}
		if (now >= deadline && !t->hung) {
			t->hung = true;
			kill(cur.pid, SIGKILL);
			deadline = now + 10 * 1000000000LL;
		} else if (now >= deadline) {
			die("proclab %d does not end even by SIGKILL",
			    (int)cur.pid);
		}
		wake = kill_at >= 0 && !t->killed && now < kill_at ? kill_at
								    : deadline;
		ts.tv_sec = (wake - now) / 1000000000;
		ts.tv_nsec = (wake - now) % 1000000000;
		if (ppoll(p, 3, &ts, NULL) < 0 && errno != EINTR)
			die("ppoll: %s", strerror(errno));
		if (p[1].revents) {
			while ((n = read(out[0], b, sizeof(b))) > 0)
				buf_add(&t->out, b, (size_t)n);
			/* EOF; EIO: the terminal's last holder is gone */
			if (n == 0 || (n < 0 && errno == EIO)) {
				close(out[0]);
				out[0] = -1;
			}
			on_lines(t, &scanned, in[1]);
		}
		if (p[2].revents) {
			while ((n = read(err[0], b, sizeof(b))) > 0)
				buf_add(&t->err, b, (size_t)n);
			if (n == 0) {
				close(err[0]);
				err[0] = -1;
			}
		}
		if (p[0].revents)
			reap();
	}
	t->ns = now_ns() - start;
	t->status = cur.status;
	/* what proclab wrote before it ended; its children may still hold
	 * the pipes, so read only what is there */
	for (int i = 0; i < 2; i++) {
		int fd = i ? err[0] : out[0];
		char b[8192];
		ssize_t n;

		while (fd >= 0 && (n = read(fd, b, sizeof(b))) > 0)
			buf_add(i ? &t->err : &t->out, b, (size_t)n);
		if (fd >= 0)
			close(fd);
	}
	if (in[1] >= 0)
		close(in[1]);
	t->tty = -1;
}

static void trial_free(struct trial *t)
{
	free(t->out.p);
	free(t->err.p);
	memset(&t->out, 0, sizeof(t->out));
	memset(&t->err, 0, sizeof(t->err));
}

static void set_args(struct trial *t, const char *lab, const char *const *var,
		     const char *a, const char *b, const char *c)
{
	int n = 0;

	t->argv[n++] = lab;
	for (int i = 0; var != NULL && var[i] != NULL; i++)
		t->argv[n++] = var[i];
	if (a)
		t->argv[n++] = a;
	if (b)
		t->argv[n++] = b;
	if (c)
		t->argv[n++] = c;
	t->argv[n] = NULL;
}

/* ---- the labs ---------------------------------------------------------- */

/* Options that make a lab take another path (other processes, another
 * adopter, no zombie): the trials and the lesson runs take them too.  A
 * lab not named here runs with its defaults only. */
static const struct variant {
	const char *lab;
	const char *args[4];
} variants[] = {
	{ "fork", { "--children", "4", NULL } },
	{ "zombie", { "--ignore-sigchld", NULL } },
	{ "orphan", { "--subreaper", NULL } },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static char lab_names[MAX_LABS][32];
static int nlabs;

static void list_labs(void)
{
	struct trial t = { .argv = { "list", NULL } };
	char *p;

	drive(&t);
	if (!WIFEXITED(t.status) || WEXITSTATUS(t.status) != 0 ||
	    t.out.p == NULL)
		die("%s list: failed", prog);
	for (p = t.out.p; *p != '\0' && nlabs < MAX_LABS;) {
		size_t n = strcspn(p, " \n");

		if (n > 0 && n < sizeof(lab_names[0]))
			snprintf(lab_names[nlabs++], sizeof(lab_names[0]), "%.*s",
				 (int)n, p);
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	trial_free(&t);
	if (nlabs == 0)
		die("%s list: no labs", prog);
}

/* The i-th variant of lab (0: its defaults); NULL past the last. */
static const char *const *variant(const char *lab, int i, bool *exists)
{
	static const char *const none[] = { NULL };

	*exists = true;
	if (i == 0)
		return none;
	for (size_t k = 0; k < NVARIANTS; k++)
		if (strcmp(variants[k].lab, lab) == 0 && --i == 0)
			return variants[k].args;
	*exists = false;
	return NULL;
}

static int nvariants(const char *lab)
{
	bool ok;
	int n = 0;

	while (variant(lab, n, &ok), ok)
		n++;
	return n;
}

/* ---- kill trials --------------------------------------------------------- */

static const int kill_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGKILL };

struct tally {
	unsigned long trials, survivors, bad, orderly, by_signal, finished,
		      step_kills, alive_at_exit;
};

static void print_survivors(const struct trial *t, const struct proc_ent *v,
			    int n)
{
	fprintf(stderr, "stress: proclab");
	for (int i = 0; t->argv[i] != NULL; i++)
		fprintf(stderr, " %s", t->argv[i]);
	if (t->sig)
		fprintf(stderr, " killed by SIG%s %s", sigabbrev_np(t->sig),
			t->step_k ? "at a --step pause" : "after a delay");
	fprintf(stderr, ": %d left:\n", n);
	for (int i = 0; i < n && i < 64; i++)
		fprintf(stderr, "  pid %d ppid %d session %d state %c comm %s\n",
			(int)v[i].pid, (int)v[i].ppid, (int)v[i].sid,
			v[i].state, v[i].comm);
}

/* Wait (reaping what is handed over) until scan() finds nothing, or ms
 * pass.  Returns what is left. */
static int settle(pid_t sid, struct proc_ent *v, int max, long ms)
{
	int64_t end = now_ns() + ms * 1000000;

	for (;;) {
		struct pollfd p = { sfd, POLLIN, 0 };
		int n;

		reap();
		n = scan(sid, v, max);
		if (n == 0 || now_ns() >= end)
			return n;
		/* a poll on SIGCHLD, at most 2 ms: a dying process may
		 * not be ours to be told about */
		poll(&p, 1, 2);
	}
}

/* After any run: what is left of it after the grace period, listed and
 * then killed.  Returns how many were left. */
static int left_behind(const struct trial *t)
{
	static struct proc_ent v[256];
	int n = settle(cur.pid, v, 256, grace_ms);

	if (n > 0) {
		print_survivors(t, v, n);
		for (int i = 0; i < n && i < 256; i++)
			kill(v[i].pid, SIGKILL);
		if (settle(cur.pid, v, 256, 5000) > 0)
			die("cannot clear what proclab left");
	}
	return n;
}

static void kill_trial(struct trial *t, struct tally *y)
{
	static struct proc_ent v[256];
	int n, code = -1, sig = t->sig;
	bool orderly, by_signal, finished;

	drive(t);
	if (WIFEXITED(t->status))
		code = WEXITSTATUS(t->status);
	orderly = sig != SIGKILL && code == 128 + sig;
	by_signal = WIFSIGNALED(t->status) && WTERMSIG(t->status) == sig;
	finished = code == 0;
	y->trials++;
	y->orderly += orderly;
	y->by_signal += by_signal;
	y->finished += finished;
	y->step_kills += t->step_k > 0;
	n = scan(cur.pid, v, 256);
	if (orderly && count_alive(v, n) > 0) {
		y->alive_at_exit += (unsigned long)count_alive(v, n);
		fprintf(stderr, "stress: alive when proclab exited %d: ", code);
		print_survivors(t, v, n);
	}
	if (!orderly && !by_signal && !finished) {
		y->bad++;
		fprintf(stderr, "stress: proclab %s killed by SIG%s: %s %d%s%.*s\n",
			t->argv[0], sigabbrev_np(sig),
			code >= 0 ? "exit" : "signal",
			code >= 0 ? code : WTERMSIG(t->status),
			t->err.len ? "; stderr: " : "", (int)t->err.len,
			t->err.p ? t->err.p : "");
	}
	y->survivors += (unsigned long)left_behind(t);
}

/* Measure one plain run (its length) and one --step run (its pauses). */
static void calibrate(const char *lab, int64_t *ns, int *pauses)
{
	struct trial t = { .sig = 0, .delay_ns = -1 };

	set_args(&t, lab, NULL, "--json", NULL, NULL);
	drive(&t);
	*ns = t.ns;
	if (!WIFEXITED(t.status) || WEXITSTATUS(t.status) != 0)
		die("proclab %s: exit %d without a kill: %.*s", lab,
		    t.status, (int)t.err.len, t.err.p ? t.err.p : "");
	if (left_behind(&t) > 0)
		die("proclab %s leaves processes behind on its own", lab);
	set_args(&t, lab, NULL, "--json", "--step", NULL);
	drive(&t);
	*pauses = t.pauses;
	if (left_behind(&t) > 0)
		die("proclab %s --step leaves processes behind", lab);
	trial_free(&t);
}

static bool kill_trials(long total)
{
	struct tally all = { 0 };
	char pidarg[16];

	for (int l = 0; l < nlabs; l++) {
		const char *lab = lab_names[l];
		bool watch = strcmp(lab, "watch") == 0;
		long n = total / nlabs + (l < total % nlabs);
		struct tally y = { 0 };
		pid_t target = -1;
		int64_t ns = 20000000;  /* watch: until its target ends */
		int pauses = 0, nstep = 0;

		if (n == 0)
			continue;
		if (watch) {
			target = start_helper(false);
			snprintf(pidarg, sizeof(pidarg), "%d", (int)target);
		} else {
			calibrate(lab, &ns, &pauses);
		}
		for (long i = 0; i < n; i++) {
			struct trial t = { .sig = kill_sigs[i % 4] };
			bool ok;
			int var = (int)(rnd() % (uint64_t)nvariants(lab));
			const char *const *va = variant(lab, var, &ok);
			bool text = rnd() % 4 == 0;

			/* half the kills at a --step pause, where the
			 * children hold a demonstrated state: each pause
			 * in turn, so that all are hit */
			if (pauses > 0 && (i + i / 4) % 2 == 1) {
				t.step_k = 1 + nstep++ % pauses;
				t.delay_ns = -1;
				set_args(&t, lab, va, "--json", "--step", NULL);
			} else {
				/* anywhere from exec to a little past the
				 * measured end */
				t.delay_ns = (int64_t)(rnd() %
						       (uint64_t)(ns * 5 / 4 + 1));
				set_args(&t, lab, va, watch ? pidarg :
					 text ? "--no-color" : "--json",
					 NULL, NULL);
			}
			kill_trial(&t, &y);
			trial_free(&t);
		}
		if (target > 0)
			stop_helper(target);
		printf("stress_survivors_%s %lu/%lu\n", lab, y.survivors,
		       y.trials);
		fflush(stdout);
		all.trials += y.trials;
		all.survivors += y.survivors;
		all.bad += y.bad;
		all.orderly += y.orderly;
		all.by_signal += y.by_signal;
		all.finished += y.finished;
		all.step_kills += y.step_kills;
		all.alive_at_exit += y.alive_at_exit;
	}
	printf("stress_trials %lu\n", all.trials);
	printf("stress_step_kills %lu\n", all.step_kills);
	printf("stress_orderly %lu\n", all.orderly);
	printf("stress_by_signal %lu\n", all.by_signal);
	printf("stress_finished_first %lu\n", all.finished);
	printf("stress_bad_exit %lu\n", all.bad);
	printf("stress_alive_at_orderly_exit %lu\n", all.alive_at_exit);
	printf("stress_adopted_reaped %lu\n", adopted);
	printf("stress_survivors %lu\n", all.survivors);
	fflush(stdout);
	return all.survivors == 0 && all.bad == 0 && all.alive_at_exit == 0;
}

/* ---- the way users run and stop it ---------------------------------------- */

enum { U_PTY, U_STOP, U_IGN, U_CHLD, U_INHERIT, U_KINDS };
static const char *const user_kind[U_KINDS] = {
	"terminal_keys", "stopped_then_sigkill", "inherited_sig_ign",
	"inherited_sigchld_ign", "inherited_child",
};

/* One trial of kind k on lab: returns true if it went as it must. */
static bool user_trial(const char *lab, int k, int64_t ns, int pauses)
{
	static pid_t *shared;
	struct trial t = { .delay_ns = -1 };
	bool at_pause = pauses > 0 && rnd() % 2 == 0, ok;
	int code = -1;
	char st = 0;

	if (shared == NULL) {
		shared = mmap(NULL, sizeof(pid_t), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shared == MAP_FAILED)
			die("mmap: %s", strerror(errno));
	}
	*shared = 0;
	t.inherited = shared;
	switch (k) {
	case U_PTY:
		t.pty = true;
		t.sig = rnd() % 2 ? SIGINT : SIGQUIT;
		break;
	case U_STOP:
		t.stop = true;
		t.sig = SIGKILL;
		break;
	case U_IGN:             /* nohup, a script's background job */
		t.ign = true;
		t.sig = rnd() % 2 ? SIGHUP : SIGINT;
		break;
	case U_CHLD:
		t.chld_ign = true;
		at_pause = false;
		break;
	case U_INHERIT:
		t.inherit = true;
		at_pause = false;
		break;
	}
	if (t.sig == 0)
		set_args(&t, lab, NULL, "--json", NULL, NULL);
	else if (at_pause) {
		t.step_k = 1 + (int)(rnd() % (uint64_t)pauses);
		set_args(&t, lab, NULL, "--json", "--step", NULL);
	} else {
		t.delay_ns = (int64_t)(rnd() % (uint64_t)(ns * 5 / 4 + 1));
		set_args(&t, lab, NULL, "--json", NULL, NULL);
	}
	drive(&t);
	if (WIFEXITED(t.status))
		code = WEXITSTATUS(t.status);
	switch (k) {
	case U_PTY:             /* 128 + signal, or done before the key, or
				 * killed by it before its signalfd was set */
		ok = code == 128 + t.sig || code == 0 ||
		     (WIFSIGNALED(t.status) && WTERMSIG(t.status) == t.sig);
		break;
	case U_STOP:
		ok = (WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL) ||
		     code == 0;
		break;
	case U_INHERIT:         /* wait's waitpid(-1) would see it: exit 3 */
		ok = code == 0 || (code == 3 && strcmp(lab, "wait") == 0);
		break;
	default:                /* what is ignored must not end it */
		ok = code == 0;
		break;
	}
	if (!ok)
		fprintf(stderr, "stress: %s %s: status %#x%s%.*s\n",
			user_kind[k], lab, t.status, t.err.len ? "; stderr: "
			: "", (int)t.err.len, t.err.p ? t.err.p : "");
	if (k == U_INHERIT && *shared > 0) {
		static struct proc_ent v[1];
		char path[64], buf[256], *rp;
		int fd;
		ssize_t n;

		/* alive and not reaped; ours (adopted) now: end it */
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)*shared);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			rp = strrchr(buf, ')');
			st = rp != NULL ? rp[2] : 0;
		}
		if (st != 'S' && st != 'R') {   /* alive: not Z, not gone */
			fprintf(stderr, "stress: %s %s: the inherited child "
				"%d shows '%c'\n", user_kind[k], lab,
				(int)*shared, st ? st : '-');
			ok = false;
		}
		kill(*shared, SIGKILL);
		settle(-1, v, 0, 1000); /* reaped as adopted */
	}
	if (left_behind(&t) > 0)
		ok = false;
	trial_free(&t);
	return ok;
}

static bool user_trials(long total)
{
	unsigned long trials[U_KINDS] = { 0 }, failed[U_KINDS] = { 0 };
	bool ok = true;

	for (int l = 0; l < nlabs; l++) {
		const char *lab = lab_names[l];
		long n = total / nlabs + (l < total % nlabs);
		int64_t ns;
		int pauses;

		if (n == 0 || strcmp(lab, "watch") == 0)
			continue;
		calibrate(lab, &ns, &pauses);
		for (long i = 0; i < n; i++) {
			int k = (int)((i + (long)l) % U_KINDS);

			trials[k]++;
			if (!user_trial(lab, k, ns, pauses))
				failed[k]++;
		}
	}
	for (int k = 0; k < U_KINDS; k++) {
		printf("stress_%s %lu/%lu\n", user_kind[k], failed[k],
		       trials[k]);
		ok &= failed[k] == 0;
	}
	fflush(stdout);
	return ok;
}

/* ---- same lesson every run ----------------------------------------------- */

/* The lesson of one run: its stages, then each role's demonstrated
 * states, in order of first appearance.  -1 if a line is not JSON. */
static int lesson(const char *out, struct buf *les)
{
	static struct jobj o;
	static char role[32][64], states[32][256];
	int nroles = 0;
	const char *line, *eol;

	les->len = 0;
	buf_add(les, "stages:", 7);
	for (line = out; (eol = strchr(line, '\n')) != NULL; line = eol + 1) {
		const char *ev, *r;
		int i;

		if (json_parse_line(line, (size_t)(eol - line), &o) < 0)
			return -1;
		ev = jstr(&o, "event");
		if (strcmp(ev, "stage") == 0) {
			buf_add(les, " ", 1);
			buf_add(les, jstr(&o, "name"), strlen(jstr(&o, "name")));
		}
		if (strcmp(ev, "state") != 0 || jbool(&o, "transient"))
			continue;
		r = jstr(&o, "role");
		for (i = 0; i < nroles && strcmp(role[i], r) != 0; i++)
			;
		if (i == nroles) {
			if (nroles == 32)
				continue;
			snprintf(role[nroles], sizeof(role[0]), "%s", r);
			states[nroles++][0] = '\0';
		}
		if (strlen(states[i]) + 1 < sizeof(states[0]))
			strncat(states[i], jstr(&o, "state"), 1);
	}
	for (int i = 0; i < nroles; i++) {
		buf_add(les, "; ", 2);
		buf_add(les, role[i], strlen(role[i]));
		buf_add(les, " ", 1);
		buf_add(les, states[i], strlen(states[i]));
	}
	return 0;
}

static bool same_lesson(const char *lab, const char *const *va, long runs)
{
	struct buf first = { 0 }, les = { 0 };
	char label[128];
	long same = 0;
	int k;

	k = snprintf(label, sizeof(label), "%s", lab);
	for (int i = 0; va[i] != NULL; i++) {
		const char *a = va[i];

		while (*a == '-')
			a++;
		k += snprintf(label + k, sizeof(label) - (size_t)k, "_%s", a);
	}
	for (long i = 0; i < runs; i++) {
		struct trial t = { .delay_ns = -1 };

		set_args(&t, lab, va, "--json", NULL, NULL);
		drive(&t);
		if (left_behind(&t) > 0) {
			/* listed by left_behind(); not the same lesson */
		} else if (!WIFEXITED(t.status) || WEXITSTATUS(t.status) != 0 ||
		    t.out.p == NULL || lesson(t.out.p, &les) < 0) {
			fprintf(stderr, "stress: %s run %ld: status %#x%s%.*s\n",
				label, i + 1, t.status,
				t.err.len ? "; stderr: " : "", (int)t.err.len,
				t.err.p ? t.err.p : "");
		} else if (first.len == 0) {
			buf_add(&first, les.p, les.len);
			same++;
		} else if (strcmp(first.p, les.p) == 0) {
			same++;
		} else {
			fprintf(stderr, "stress: %s run %ld differs:\n"
				"  first: %s\n  this:  %s\n", label, i + 1,
				first.p, les.p);
		}
		trial_free(&t);
	}
	printf("same_lesson_%s %ld/%ld\n", label, same, runs);
	fflush(stdout);
	free(first.p);
	free(les.p);
	return same == runs;
}

/* ---- where users run it ---------------------------------------------- */

static char self_exe[4096];

/* `stress --init-no-reap PROG ARGS...`: PID 1 of a namespace that runs
 * PROG and never reaps anything: it wakes at PROG's end (a pidfd), reads
 * its status without collecting it, and exits with it. */
static int init_no_reap(char *argv[])
{
	siginfo_t si;
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return 127;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if ((fd = pidfd_open(pid, 0)) >= 0)
		poll(&(struct pollfd){ fd, POLLIN, 0 }, 1, -1);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		return 127;
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

struct where {
	const char *name;
	const char *wrap[10];
	int res;
	rlim_t lim;
	uid_t uid;
	bool must_pass;         /* exit 0 only */
	const char *only;       /* one lab, NULL: every lab */
	const char *probe;      /* a shell command that must succeed */
};

static bool where_run(const struct where *w, const char *lab)
{
	static struct jobj ev[512];
	struct trial t = { .delay_ns = -1, .res = w->res, .lim = w->lim,
			   .uid = w->uid };
	int n, code;
	bool ok = true;

	memcpy(t.wrap, w->wrap, sizeof(t.wrap));
	set_args(&t, lab, NULL, "--json", "--timeout", "20000");
	drive(&t);
	code = WIFEXITED(t.status) ? WEXITSTATUS(t.status) : -1;
	n = 0;          /* json_lines() is for Check tests: parse here */
	for (const char *line = t.out.p, *eol;
	     line != NULL && n < 512 && (eol = strchr(line, '\n')) != NULL;
	     line = eol + 1)
		if (json_parse_line(line, (size_t)(eol - line), &ev[n++]) < 0) {
			n = 0;
			break;
		}
	if (t.hung || (code != 0 && (w->must_pass || code != 3)))
		ok = false;
	else if (n < 2 || strcmp(jstr(&ev[0], "event"), "start") != 0 ||
		 strcmp(jstr(&ev[n - 1], "event"), "result") != 0 ||
		 (int)jnum(&ev[n - 1], "exit") != code)
		ok = false;
	else if (code == 3 && nth_event(ev, n, "error", NULL, 0) == NULL &&
		 nth_event(ev, n, "unavailable", NULL, 0) == NULL)
		ok = false;
	else if (w->only != NULL && strcmp(w->name, "noreap") == 0 &&
		 nth_event(ev, n, "stays", NULL, 0) == NULL)
		ok = false;
	if (!ok)
		fprintf(stderr, "stress: where %s: %s: status %#x%s%.*s\n",
			w->name, lab, t.status, t.err.len ? "; stderr: " : "",
			(int)t.err.len, t.err.p ? t.err.p : "");
	if (left_behind(&t) > 0)
		ok = false;
	trial_free(&t);
	return ok;
}

static bool where_trials(long runs)
{
	const struct where conds[] = {
		{ "pid1", { "unshare", "--pid", "--fork", "--mount-proc",
			    "--kill-child", NULL }, 0, 0, 0, true, NULL,
		  "unshare --pid --fork --mount-proc true" },
		{ "noreap", { "unshare", "--pid", "--fork", "--mount-proc",
			      "--kill-child", self_exe, "--init-no-reap",
			      NULL }, 0, 0, 0, true, "orphan",
		  "unshare --pid --fork --mount-proc true" },
		{ "strace", { "strace", "-f", "-o", "/dev/null", NULL }, 0, 0,
		  0, false, NULL, "strace -o /dev/null true" },
		{ "nofile10", { NULL }, RLIMIT_NOFILE, 10, 0, false, NULL,
		  NULL },
		{ "as8000", { NULL }, RLIMIT_AS, 8000 * 1024, 0, false, NULL,
		  NULL },
		{ "nproc2", { NULL }, RLIMIT_NPROC, 2, 61236, false, NULL,
		  NULL },
	};
	bool all = true;

	for (size_t c = 0; c < sizeof(conds) / sizeof(conds[0]); c++) {
		const struct where *w = &conds[c];
		unsigned long trials = 0, failures = 0;
		char probe[256];

		snprintf(probe, sizeof(probe), "%s >/dev/null 2>&1",
			 w->probe != NULL ? w->probe : "true");
		if ((w->uid != 0 && geteuid() != 0) || system(probe) != 0) {
			printf("stress_where_%s skipped\n", w->name);
			continue;
		}
		for (int l = 0; l < nlabs; l++) {
			if (strcmp(lab_names[l], "watch") == 0 ||
			    (w->only != NULL && strcmp(lab_names[l], w->only)))
				continue;
			for (long i = 0; i < runs; i++) {
				trials++;
				failures += !where_run(w, lab_names[l]);
			}
		}
		printf("stress_where_%s %lu/%lu\n", w->name, failures, trials);
		fflush(stdout);
		all &= failures == 0;
	}
	return all;
}

int main(int argc, char *argv[])
{
	long trials, runs, ncpu, where, user;
	bool ok = true;
	sigset_t chld;
	uint64_t seed;
	ssize_t len;

	if (argc > 2 && strcmp(argv[1], "--init-no-reap") == 0)
		return init_no_reap(argv + 2);
	len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (len > 0)
		self_exe[len] = '\0';

	prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	trials = env_num("STRESS_TRIALS", 320, 0, 1000000);
	runs = env_num("STRESS_RUNS", 200, 0, 1000000);
	where = env_num("STRESS_WHERE", 3, 0, 1000000);
	user = env_num("STRESS_USER_TRIALS", trials, 0, 1000000);
	grace_ms = env_num("STRESS_GRACE_MS", 2000, 0, 600000);
	seed = (uint64_t)env_num("STRESS_SEED", (long)(now_ns() % 1000000000),
				 1, LONG_MAX);
	rng_state = seed;
	self = getpid();
	/* orphans of proclab's processes come here, not to PID 1 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0)
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &oldmask) < 0)
		die("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	printf("stress_seed %llu\n", (unsigned long long)seed);

	list_labs();
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > MAX_HELPERS / 2)
		ncpu = MAX_HELPERS / 2;
	/* every CPU busy, for the kill trials and the lesson runs alike */
	for (long i = 0; i < ncpu; i++)
		start_helper(true);
	printf("stress_busy_loops %ld\n", ncpu);
	fflush(stdout);
	if (trials > 0)
		ok &= kill_trials(trials);
	/* as many again the way users run and stop it (terminal keys,
	 * stopped children, nohup, SIGCHLD ignored, an inherited child):
	 * failures/trials of each */
	if (user > 0)
		ok &= user_trials(user);
	for (int l = 0; runs > 0 && l < nlabs; l++) {
		if (strcmp(lab_names[l], "watch") == 0)
			continue;       /* it teaches what its target does */
		for (int v = 0; v < nvariants(lab_names[l]); v++) {
			bool exists;

			ok &= same_lesson(lab_names[l], variant(lab_names[l], v, &exists),
					  runs);
		}
	}
	if (where > 0)
		ok &= where_trials(where);
	while (nhelpers > 0)
		stop_helper(helpers[0]);
	return ok ? 0 : 1;
}
