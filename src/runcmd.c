/* runcmd.c - `proclab run [options] -- PROGRAM [ARGS...]`: run any program
 * and follow every process of its tree until all have ended.
 *
 * Not a canned lab: the processes are the student's, so there are no
 * stages and nothing is expected; the command reports what happened.  It
 * uses the engine all the same: the emitter (sentences below, --json,
 * --stable), the observer (state events read from /proc through kept fds),
 * the signalfd of run.c and its teardown.
 *
 * How the tree is followed (--via ptrace, the one built in): PROGRAM is
 * forked with pl_fork(), seized with PTRACE_SEIZE before it execs, with
 * PTRACE_O_TRACEFORK, TRACEVFORK, TRACECLONE and TRACEEXEC, so the kernel
 * attaches every descendant at its creation and stops it until proclab
 * has seen it: no fork, exec or exit can be missed, however short the
 * process.  An exit is the tracer's wait notification (the process is a
 * zombie from then on); who reaps it, and when, is read from its kept
 * /proc/PID/stat (gone: reaped, by the parent it had).  PTRACE_O_EXITKILL
 * kills every tracee if proclab dies, even by SIGKILL, and proclab is the
 * tree's child subreaper, so an orphan comes to it, never to PID 1.
 * PTRACE_SEIZE keeps group-stops truthful: a process stopped by SIGSTOP
 * stays stopped (PTRACE_LISTEN), and /proc shows it as t, not T.
 *
 * Signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT) end proclab through run.c's
 * signalfd; its teardown first calls kill_everything() here (the run's
 * before_teardown hook), which SIGKILLs every process of the tree and
 * reaps until nothing is left.
 *
 * A pid proclab signals is always one it has not yet collected the exit
 * of as tracer: such a process cannot be released, so its pid cannot have
 * been reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"
#include "i18n.h"
#include "proclab.h"
#include "runcmd.h"
#include "wstatus.h"

#define MAX_PROCS_DEF 256       /* processes alive at once */
#define MAX_PROCS_MAX 4096
#define TOTAL_MAX 16384         /* processes in one run, in all */
#define LINGER_MAX 86400000     /* ms */
#define SAMPLE_MAX_MS 20        /* the longest sleep between samples */
#define LEFT_PIDS 5             /* pids a `left` finding names */

/* One process (or thread) of the tree. */
struct node {
	pid_t pid;
	pid_t tgid;             /* its process: pid, or a thread's leader */
	pid_t parent;           /* the process that forked it */
	pid_t ppid;             /* the parent /proc showed last */
	pid_t orphaned_by;      /* the parent whose exit orphaned it */
	pid_t adopter;          /* who adopted it then; 0: never orphaned */
	pid_t reaper;           /* who reaped it */
	const char *call;       /* "fork", "vfork", "clone"; NULL: unknown */
	char comm[PROC_COMM_MAX];
	char role[16];          /* --stable's name for it */
	long long start_ns, exit_ns, reap_ns;
	int status;             /* the wait status of its exit */
	bool thread;            /* a thread, not a process: not reported */
	bool announced;         /* its fork event was emitted */
	bool started;           /* its first stop was seen and resumed */
	bool waiting;           /* stopped until its parent's fork event */
	bool grouped;           /* in a group-stop (PTRACE_LISTEN) */
	bool continued;         /* out of a group-stop: show its next state */
	bool exited;            /* the tracer collected its exit */
	bool reaped;            /* released: /proc/PID is gone */
	bool held;              /* --step: a status collected while held */
	int held_status;
	int first_child, next_sibling;  /* for the tree: indexes, -1 none */
	struct watched *w;      /* its /proc/PID/stat; NULL for a thread */
	int pidfd;              /* --via connector: to signal it; else -1 */
};

struct rs {
	struct run *r;
	struct node *nodes;
	int n, cap;
	int live, peak;         /* processes not exited; the most at once */
	int max_procs;
	long long linger_ms;    /* -1: wait for all */
	bool quiet, tree_only;
	bool capped, lingered;
	int chldfd;             /* signalfd for SIGCHLD */
	bool connector;         /* --via connector, not ptrace */
	int nl;                 /* the connector's netlink socket */
	long long lost;         /* connector events the kernel dropped */
	char **argv;            /* PROGRAM and its arguments */
	char path[PATH_MAX];    /* PROGRAM as found on PATH */
	pid_t program;
	bool program_done;
	int program_status;
	long long program_exit_ns;
	int left;               /* processes alive when PROGRAM exited */
	char left_pids[64];     /* the first LEFT_PIDS of them */
	int killed;             /* by --linger or --max-procs */
	long long kill_ns;      /* when proclab first killed the tree */
	long long t0_ns;
};

/* ---- sentences ---------------------------------------------------------- */

const struct sentence run_command_sentences[] = {
	/* pid, schema, version, kernel, pidfd, program, via, misses,
	 * max_procs */
	{ "start", NULL, "proclab run, pid {pid}, Linux {kernel}: follows "
	  "{program} via {via} ({misses})", NULL, NULL },
	/* pid, ppid, call; text only: pcomm */
	{ "fork", NULL, "{ppid} ({pcomm}) made {pid} with {call}()", NULL,
	  NULL },
	{ "fork", "unknown", "{pid} appeared as a child of {ppid} ({pcomm})",
	  NULL, NULL },
	{ "fork", "connector", "{ppid} ({pcomm}) made {pid}", NULL, NULL },
	/* pid, comm, filename */
	{ "exec", NULL, "{pid} now runs {filename} ({comm})", NULL, NULL },
	/* pid, ppid, raw, code, signal, core; text only: comm, how */
	{ "exit", NULL, "{pid} ({comm}) {how}: a zombie until {ppid} waits",
	  NULL, NULL },
	{ "exit", "reaped", "{pid} ({comm}) {how}; reaped at once by {ppid}",
	  NULL, NULL },
	/* pid, by, zombie_ms; text only: bycomm */
	{ "reap", NULL, "{pid} reaped by {by} ({bycomm}) after {zombie_ms:.1f} "
	  "ms as a zombie", NULL, NULL },
	/* pid, from, to, why; text only: tocomm */
	{ "reparent", NULL, "{pid}'s parent {from} is gone: its parent is "
	  "now {to} ({tocomm}), {why}", NULL, NULL },
	/* kind, pid, ppid, zombie_ms; text only: comm */
	{ "finding", "zombie", "{pid} ({comm}) was a zombie for "
	  "{zombie_ms:.1f} ms: its parent {ppid} never called wait(); "
	  "proclab, the subreaper, reaped it after {ppid} exited", NULL, NULL },
	/* kind, pid, from, to; text only: comm, tocomm */
	{ "finding", "orphan", "{pid} ({comm}) was orphaned when {from} "
	  "exited; adopted by {to} ({tocomm})", NULL, NULL },
	/* kind, pid, count, pids */
	{ "finding", "left", "{count} process was still running when "
	  "{pid} ({program}) exited: {pids}", "{count} processes were still "
	  "running when {pid} ({program}) exited: {pids}{more}", "count" },
	/* kind, pid, max_procs, count */
	{ "finding", "cap", "more than {max_procs} processes at once: "
	  "proclab killed the tree ({count} killed; --max-procs)", NULL, NULL },
	/* kind, pid, linger_ms, count */
	{ "finding", "linger", "{count} process still ran {linger_ms} ms "
	  "after {pid} exited: killed (--linger)", "{count} processes still "
	  "ran {linger_ms} ms after {pid} exited: killed (--linger)", "count" },
	/* kind, pid, count */
	{ "finding", "lost", "the kernel dropped process events {count} "
	  "time: forks, execs or exits may be missing above", "the kernel "
	  "dropped process events {count} times: forks, execs or exits may "
	  "be missing above", "count" },
	/* kind, pid */
	{ "finding", "clean", "no zombie left unreaped, no orphan, nothing "
	  "left running", NULL, NULL },
	/* count, peak, nodes (JSON only) */
	{ "tree", NULL, "{count} process ran, at most {peak} at once:",
	  "{count} processes ran, at most {peak} at once:", "count" },
	/* text only: indent, pid, comm, how, life, extra */
	{ "node", NULL, "{indent}{pid} {comm}: {how}, lived {life} ms{extra}",
	  NULL, NULL },
	/* ok, exit, pid, raw, code, signal; text only: how */
	{ "result", NULL, "{pid} {how}: proclab exits {exit}", NULL, NULL },
	{ "result", "capped", "{pid} {how} (the tree was killed): proclab "
	  "exits {exit}", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* Not in the table of labs: `proclab run` is a command.  This gives the
 * emitter its name and sentences, and messages their "proclab: run: ". */
const struct lab run_command_lab = {
	.name = "run",
	.summary = "run any program and follow every process it makes",
	.description = "",
	.sentences = run_command_sentences,
};

static const char run_usage[] =
	N_("usage: proclab run [options] [--] PROGRAM [ARGS...]\n");

static void run_help(void)
{
	fputs(_(run_usage), stdout);
	putchar('\n');
	/* TRANSLATORS: at most 79 display columns a line; option names and
	 * the layout of the options (text from column 19) kept */
	fputs(_("Runs PROGRAM as proclab's child and follows it and every "
	      "process it makes\nuntil all have ended: each fork, exec, exit "
	      "and reap, each change of state\n/proc shows (D T t Z; R and S "
	      "with -v), each orphan's adoption.  Then the\ntree of everything "
	      "that ran, and findings: zombies never reaped, orphans,\n"
	      "processes left running.  proclab exits with PROGRAM's status "
	      "(128 + the\nsignal number when a signal killed it).\n\n"
	      "Options:\n"
	      "  -q, --quiet     only the findings and the result\n"
	      "  --tree          only the tree (and the result)\n"
	      "  --via METHOD    how to follow the tree: ptrace (the default: "
	      "misses\n"
	      "                  nothing, holds the tree for --step, and "
	      "SIGKILL to\n"
	      "                  proclab kills it) or connector (the kernel's "
	      "process\n"
	      "                  events: untraced, may drop events under load, "
	      "cannot\n"
	      "                  hold, only in the initial PID namespace)\n"
	      "  --max-procs N   at most N processes alive at once, else the "
	      "tree is\n"
	      "                  killed (1 to 4096, default 256)\n"
	      "  --linger MS     after PROGRAM exits, wait at most MS for what "
	      "it left\n"
	      "                  running, then kill it (default: wait for all)\n"
	      "  --step          pause at each fork, exec and exit, with the "
	      "tree held,\n"
	      "                  until Enter (or EOF) on stdin\n"
	      "  --json          print JSON Lines (see docs/json.md)\n"
	      "  --stable        roles for pids, \"~\" for times: the same bytes "
	      "every run\n"
	      "                  for a program that does the same\n"
	      "  --no-color      no color, even on a terminal\n"
	      "  -v, --verbose   also R and S, and the t of each ptrace stop\n"
	      "  -h, --help      show this help\n\n"
	      "Exit status: PROGRAM's; 126 or 127 when PROGRAM cannot be run "
	      "(as a shell\nsays); 2 usage error; 3 this machine cannot trace "
	      "it.\n"), stdout);
}

/* ---- the node table ----------------------------------------------------- */

static long long now_ns(void)
{
	return pl_now_ns();
}

static double ms_between(long long a, long long b)
{
	return (double)(b - a) / 1e6;
}

/* The newest node of pid that is not yet released. */
static struct node *find(struct rs *s, pid_t pid)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (s->nodes[i].pid == pid && !s->nodes[i].reaped)
			return &s->nodes[i];
	return NULL;
}

static const char *comm_of(struct rs *s, pid_t pid)
{
	struct node *n;

	if (pid == s->r->self)
		return "proclab";
	n = find(s, pid);
	if (n == NULL)  /* an adopter outside the tree: pid 1, a subreaper */
		for (int i = s->n - 1; i >= 0 && n == NULL; i--)
			if (s->nodes[i].pid == pid)
				n = &s->nodes[i];
	if (n != NULL)
		return n->comm;
	return "?";
}

static void kill_tree(struct rs *s);

/* A new process or thread: its node, with its /proc/PID/stat kept open.
 * NULL (the tree then killed) when the run's limits are reached. */
static struct node *add_node(struct rs *s, pid_t pid, pid_t parent,
			     pid_t tgid)
{
	bool thread = tgid != pid;
	struct node *n;

	if (s->n >= s->cap) {
		pl_warnx(s->r, "more than %d processes in one run: killing "
			 "the tree", TOTAL_MAX);
		kill_tree(s);
		return NULL;
	}
	n = &s->nodes[s->n];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	n->tgid = tgid;
	n->parent = n->ppid = parent;
	n->thread = thread;
	n->start_ns = now_ns();
	n->first_child = n->next_sibling = -1;
	n->pidfd = -1;
	if (pid == s->program)
		strcpy(n->role, "program");
	else
		snprintf(n->role, sizeof(n->role), "p%d", s->n + 1);
	if (!thread && s->connector) {
		/* gone already (it lived less than the event took to come):
		 * no /proc to read, nothing to signal */
		n->pidfd = pidfd_open(pid, 0);
		if (n->pidfd >= 0)
			n->w = obs_try_add(s->r, pid, -1, n->role);
		if (n->w == NULL && n->pidfd >= 0) {
			close(n->pidfd);
			n->pidfd = -1;
		}
	} else if (!thread) {
		n->w = obs_add(s->r, pid, -1, n->role);
		if (n->w == NULL) {
			pl_warnx(s->r, "cannot follow %d: killing the tree",
				 (int)pid);
			kill(pid, SIGKILL);     /* a tracee: not released */
			kill_tree(s);
			return NULL;
		}
	}
	if (n->w != NULL) {
		n->w->named = true;
		if (proc_read_stat(&n->w->h, &n->w->st) == PROC_OK) {
			strlcpy(n->comm, n->w->st.comm, sizeof(n->comm));
			if (parent == 0)
				n->parent = n->ppid = n->w->st.ppid;
		}
		n->w->ppid = n->ppid;
	}
	s->n++;
	if (!thread) {
		s->live++;
		if (s->live > s->peak)
			s->peak = s->live;
	}
	return n;
}

/* The process tid belongs to (its Tgid): tid itself for a process, the
 * leader for a thread. */
static pid_t tgid_of(pid_t tid)
{
	struct proc_handle h;
	struct proc_status ps;
	pid_t tgid = tid;

	if (proc_open(&h, tid) != PROC_OK)
		return tid;
	if (proc_read_status(&h, &ps) == PROC_OK && (ps.has & PS_TGID))
		tgid = ps.tgid;
	proc_close(&h);
	return tgid;
}

/* ---- holding the tree for --step ---------------------------------------- */

static void handle(struct rs *s, pid_t pid, int st, pid_t current);

/* Stop every process of the tree that runs (PTRACE_INTERRUPT), and keep
 * what each reports for later: the tree is then held as it is.  `current`
 * is stopped already (its event is being reported).  A process in D (a
 * vfork parent) cannot stop until it leaves D: it is held by the kernel. */
static void hold_tree(struct rs *s, pid_t current)
{
	int waiting = 0;

	for (int i = 0; i < s->n; i++) {
		struct node *n = &s->nodes[i];
		struct proc_stat st;

		/* held already (by an earlier pause, not yet released) */
		if (n->held || n->exited || n->pid == current || n->waiting ||
		    n->grouped || !n->started)
			continue;
		if (n->w != NULL && proc_read_stat(&n->w->h, &st) == PROC_OK &&
		    st.state == 'D')
			continue;
		if (ptrace(PTRACE_INTERRUPT, n->pid, 0, 0) == 0) {
			n->held_status = -1;
			n->held = true;
			waiting++;
		}
	}
	/* each stops at once, unless it is on its way out; whatever else
	 * reports meanwhile is stopped too, and kept for later the same way */
	for (long long end = pl_now_ms() + 1000; waiting > 0 &&
	     pl_now_ms() < end;) {
		int st;
		pid_t pid = waitpid(-1, &st, __WALL | WNOHANG);
		struct node *n;

		if (pid == 0) {
			char sink[sizeof(struct signalfd_siginfo) * 8];

			if (pl_wait_fd(s->r, s->chldfd, 100))
				(void)!read(s->chldfd, sink, sizeof(sink));
			continue;
		}
		if (pid < 0)
			break;
		n = find(s, pid);
		if (n != NULL && n->held && n->held_status == -1) {
			n->held_status = st;
			waiting--;
		} else if (n != NULL && !n->held) {
			n->held = true;
			n->held_status = st;
		} else if (n == NULL) {
			handle(s, pid, st, current);   /* a new child: waits */
		}
	}
}

/* The statuses kept while the tree was held, handled now. */
static int release_held(struct rs *s)
{
	int done = 0;

	for (int i = 0; i < s->n; i++) {
		struct node *n = &s->nodes[i];

		if (!n->held)
			continue;
		n->held = false;
		if (n->held_status != -1) {
			handle(s, n->pid, n->held_status, 0);
			done++;
		}
	}
	return done;
}

/* --step: hold the tree, show what to look at, wait for a line. */
static void step(struct rs *s, pid_t current)
{
	char pids[512] = "", ps[600];
	size_t len = 0;
	int k = 0;

	if (!s->r->step)
		return;
	if (!s->connector)      /* the connector cannot hold anything */
		hold_tree(s, current);
	for (int i = 0; i < s->n && len < sizeof(pids) - 16; i++) {
		const struct node *n = &s->nodes[i];

		if (n->thread || n->reaped)
			continue;
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d",
					k++ ? "," : "", (int)n->pid);
	}
	if (k == 0)
		snprintf(pids, sizeof(pids), "%d", (int)s->r->self);
	snprintf(ps, sizeof(ps), "ps -o pid,ppid,stat,wchan:20,comm -p %s",
		 pids);
	emit(s->r, "pause", FIELDS(F_PIDS("pids", pids), F_MEAS("ps", ps)));
	pl_read_line(s->r, ps, sizeof(ps));
}

/* ---- events ------------------------------------------------------------- */

static bool shows_trace(const struct rs *s)
{
	return !s->quiet && !s->tree_only;
}

static void resume(pid_t pid, int sig)
{
	/* ESRCH: killed meanwhile (SIGKILL ends a stop); nothing to do */
	ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
}

static void announce(struct rs *s, struct node *c, pid_t current,
		     bool pause)
{
	c->announced = true;
	if (shows_trace(s))
		emit_form(s->r, "fork", c->call != NULL ? NULL :
			  s->connector ? "connector" : "unknown",
			  FIELDS(F_PID("pid", c->pid), F_PID("ppid", c->parent),
				 F_STR("call", c->call),
				 F_TEXT("pcomm", comm_of(s, c->parent))));
	if (shows_trace(s) && pause)
		step(s, current);
}

static const char *call_name(int ev)
{
	return ev == PTRACE_EVENT_VFORK ? "vfork" :
	       ev == PTRACE_EVENT_CLONE ? "clone" : "fork";
}

/* The parent's PTRACE_EVENT_FORK, VFORK or CLONE: the child pid. */
static void on_fork_event(struct rs *s, struct node *p, int ev)
{
	unsigned long msg = 0;
	struct node *c;
	pid_t pid;

	if (ptrace(PTRACE_GETEVENTMSG, p->pid, 0, &msg) < 0)
		return;
	pid = (pid_t)msg;
	c = find(s, pid);
	if (c == NULL) {
		pid_t tgid = ev == PTRACE_EVENT_CLONE ? tgid_of(pid) : pid;

		/* a process made by a thread is its process's child */
		c = add_node(s, pid, tgid != pid ? 0 : p->tgid, tgid);
		if (c == NULL)
			return;
		if (c->thread) {
			c->announced = true;
			return;
		}
	}
	if (c->thread)
		return;
	c->call = call_name(ev);
	if (s->capped) {
		kill(pid, SIGKILL);
		return;
	}
	if (s->live > s->max_procs) {
		s->capped = true;
		pl_warnx(s->r, "more than %d processes at once (--max-procs): "
			 "killing the tree", s->max_procs);
		kill_tree(s);
		return;
	}
	if (!c->announced)
		announce(s, c, p->pid, true);
	if (c->waiting) {       /* its first stop came first: go on now */
		c->waiting = false;
		c->started = true;
		resume(c->pid, 0);
	}
}

static void on_exec(struct rs *s, struct node *n)
{
	char exe[PATH_MAX];
	ssize_t len = -1;

	if (n->w != NULL) {
		if (proc_read_stat(&n->w->h, &n->w->st) == PROC_OK)
			strlcpy(n->comm, n->w->st.comm, sizeof(n->comm));
		len = readlinkat(n->w->h.dirfd, "exe", exe, sizeof(exe) - 1);
	}
	if (len < 0)
		strcpy(exe, "?");
	else
		exe[len] = '\0';
	if (!shows_trace(s))
		return;
	emit(s->r, "exec", FIELDS(F_PID("pid", n->pid),
				 F_STR("comm", n->comm),
				 F_STR("filename", exe)));
	step(s, n->pid);
}

/* How an exit status reads: "exited with code 3", "was killed by SIGSEGV
 * (core dumped)". */
static void describe(int status, char *buf, size_t size)
{
	/* for the text view only: translated */
	if (WIFEXITED(status))
		snprintf(buf, size, _("exited with code %d"),
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WCOREDUMP(status))
		snprintf(buf, size, _("was killed by %s (core dumped)"),
			 wstatus_signame(WTERMSIG(status)).s);
	else if (WIFSIGNALED(status))
		snprintf(buf, size, _("was killed by %s"),
			 wstatus_signame(WTERMSIG(status)).s);
	else
		snprintf(buf, size, _("ended (status 0x%04x)"), status);
}

static const char *demonstrated(const struct node *n)
{
	/* R and S flicker all the time, but the first after a group-stop
	 * says it goes on; a ptrace stop's t is proclab's own; so is the Z
	 * of a child of proclab's (PROGRAM, or an orphan it adopted), which
	 * its own wait reaps at once: whether a sample catches that instant
	 * is luck, shown with -v */
	bool own = n->w != NULL && n->w->ppid == getpid();

	if (own)
		return n->grouped ? "DTtX" : n->continued ? "RSDTX" : "DTX";
	return n->grouped ? "DTtZX" : n->continued ? "RSDTZX" : "DTZX";
}

static const char *state_why(const struct node *n, char state)
{
	switch (state) {
	case 'X':
		return "reaped: its /proc entry is gone";
	case 't':
		return n->grouped ? "stopped by a signal; traced, so /proc "
			"shows t where it would show T" : NULL;
	case 'R':
	case 'S':
		return n->continued ? "continued (SIGCONT)" : NULL;
	default:
		return NULL;
	}
}

static void reaped(struct rs *s, struct node *n, pid_t by)
{
	n->reaped = true;
	n->reaper = by;
	n->reap_ns = now_ns();
	if (shows_trace(s) && n->w != NULL && !n->w->gone)
		obs_sample(s->r, n->w, demonstrated(n), state_why(n, 'X'));
	if (n->w != NULL) {
		proc_close(&n->w->h);
		n->w->gone = true;
		n->w->state = 'X';
	}
	if (n->pidfd >= 0)
		close(n->pidfd);
	n->pidfd = -1;
	if (shows_trace(s))
		emit(s->r, "reap", FIELDS(F_PID("pid", n->pid), F_PID("by", by),
			F_MEAS("zombie_ms", ms_between(n->exit_ns, n->reap_ns)),
			F_TEXT("bycomm", comm_of(s, by))));
}

static void reparented(struct rs *s, struct node *n, pid_t to, char state)
{
	pid_t from = n->ppid;
	const char *why = to == s->r->self ? "the tree's child subreaper" :
			  to == 1 ? "PID 1: no subreaper above it" :
			  "the nearest subreaper (or a thread of its parent)";

	n->ppid = to;
	/* a zombie handed on is not an orphan: its parent never waited;
	 * nor is what proclab's own killing orphans */
	if (n->adopter == 0 && !n->exited && state != 'Z' && !s->capped &&
	    !s->lingered) {
		n->adopter = to;
		n->orphaned_by = from;
	}
	if (shows_trace(s))
		emit(s->r, "reparent", FIELDS(F_PID("pid", n->pid),
			F_PID("from", from), F_PID("to", to), F_STR("why", why),
			F_TEXT("tocomm", comm_of(s, to))));
}

/* Read one process's /proc/PID/stat: a state change is reported (when
 * the trace is shown), a new parent is a reparent, a vanished entry of an
 * exited process its reap. */
static void sample(struct rs *s, struct node *n)
{
	struct watched *w = n->w;
	char c;

	if (w == NULL || n->reaped)
		return;
	if (shows_trace(s)) {
		struct proc_stat st;
		char now = proc_read_stat(&w->h, &st) == PROC_OK ? st.state
								 : 'X';
		bool was_continued = n->continued;

		c = obs_sample(s->r, w, demonstrated(n), state_why(n, now));
		if (was_continued && (c == 'R' || c == 'S'))
			n->continued = false;
	} else {
		struct proc_stat st;
		int rc = proc_read_stat(&w->h, &st);

		if (rc == PROC_OK) {
			w->st = st;
			w->ppid = st.ppid;
			c = w->state = st.state;
		} else {
			c = 'X';
		}
	}
	if (c == 'X') {
		if (n->exited)
			reaped(s, n, n->ppid);
		return;
	}
	if (c != '?' && w->ppid != n->ppid && w->ppid != 0)
		reparented(s, n, w->ppid, c);
}

static void sample_all(struct rs *s)
{
	for (int i = 0; i < s->n; i++)
		sample(s, &s->nodes[i]);
}

static void on_exited(struct rs *s, struct node *n, int status)
{
	char how[96];
	struct proc_stat st;
	int rc;

	if (n->exited) {        /* the second notice: we reaped it */
		reaped(s, n, s->r->self);
		return;
	}
	n->exited = true;
	n->exit_ns = now_ns();
	n->status = status;
	if (n->thread) {
		n->reaped = true;
		return;
	}
	s->live--;
	describe(status, how, sizeof(how));
	/* Z now, or gone if this wait reaped it (proclab is its parent) */
	rc = n->w != NULL ? proc_read_stat(&n->w->h, &st) : PROC_GONE;
	if (rc == PROC_OK && st.ppid != n->ppid && st.ppid != 0)
		reparented(s, n, st.ppid, st.state);
	if (shows_trace(s)) {
		struct wstatus ws;

		wstatus_decode(status, &ws);
		emit_form(s->r, "exit", rc == PROC_OK ? NULL : "reaped",
			  FIELDS(F_PID("pid", n->pid), F_PID("ppid", n->ppid),
				 F_INT("raw", status),
				 ws.exited ? F_INT("code", ws.code)
					   : F_NULL("code"),
				 ws.signaled ? F_STR("signal",
						     wstatus_signame(ws.sig).s)
					     : F_NULL("signal"),
				 F_BOOL("core", ws.core),
				 F_TEXT("comm", n->comm), F_TEXT("how", how)));
	}
	if (rc != PROC_OK)      /* by its parent, waiting already */
		reaped(s, n, n->ppid);
	else if (shows_trace(s))
		obs_sample(s->r, n->w, demonstrated(n),
			   state_why(n, st.state));
	if (n->pid == s->program) {
		size_t len = 0;

		s->program_done = true;
		s->program_status = status;
		s->program_exit_ns = n->exit_ns;
		for (int i = 0; i < s->n; i++) {
			const struct node *o = &s->nodes[i];

			if (o->thread || o->exited)
				continue;
			if (s->left++ < LEFT_PIDS)
				len += (size_t)snprintf(s->left_pids + len,
					sizeof(s->left_pids) - len, "%s%d",
					len ? "," : "", (int)o->pid);
		}
	}
	/* a child that waits for its parent's fork event: it will not come */
	for (int i = 0; i < s->n; i++) {
		struct node *c = &s->nodes[i];

		if (c->waiting && c->parent == n->pid) {
			c->waiting = false;
			c->started = true;
			if (!c->announced)
				announce(s, c, n->pid, true);
			resume(c->pid, 0);
		}
	}
	/* its children are someone else's now */
	sample_all(s);
	if (shows_trace(s))
		step(s, 0);
}

static bool stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* One status from waitpid(2). */
static void handle(struct rs *s, pid_t pid, int st, pid_t current)
{
	struct node *n = find(s, pid);
	int ev, sig;

	if (n == NULL) {
		/* a new child whose first stop came before its parent's
		 * fork event: it waits for that event, to be reported */
		if (!WIFSTOPPED(st))
			return;
		n = add_node(s, pid, 0, tgid_of(pid));
		if (n == NULL)
			return;
		if (s->capped) {
			kill(pid, SIGKILL);
			return;
		}
		if (n->thread) {
			n->announced = n->started = true;
			resume(pid, 0);
			return;
		}
		n->waiting = true;
		return;
	}
	if (!WIFSTOPPED(st)) {
		on_exited(s, n, st);
		return;
	}
	ev = (int)((unsigned)st >> 16);
	sig = WSTOPSIG(st);
	switch (ev) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		on_fork_event(s, n, ev);
		resume(pid, 0);
		break;
	case PTRACE_EVENT_EXEC:
		on_exec(s, n);
		resume(pid, 0);
		break;
	case PTRACE_EVENT_STOP:
		if (!n->started) {              /* its first stop */
			if (!n->announced && !n->thread) {
				n->waiting = true;      /* until the fork event */
				break;
			}
			n->started = true;
			resume(pid, 0);
		} else if (stop_signal(sig)) {  /* a group-stop: stay */
			n->grouped = true;
			ptrace(PTRACE_LISTEN, pid, 0, 0);
		} else {                        /* PTRACE_INTERRUPT's */
			resume(pid, 0);
		}
		break;
	case 0:                                 /* a signal: deliver it */
		n->continued |= n->grouped;
		n->grouped = false;
		n->started = true;
		resume(pid, sig);
		break;
	default:
		resume(pid, 0);
		break;
	}
	(void)current;
}

/* Collect every status waitpid has; -1 once nothing is left to wait for. */
static int drain(struct rs *s)
{
	int handled = release_held(s);

	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, __WALL | WNOHANG);

		if (pid > 0) {
			handle(s, pid, st, 0);
			handled++;
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return -1;      /* ECHILD: the tree is gone */
		return handled;
	}
}

/* SIGKILL every child of proclab (not yet waited for: their pids cannot
 * be reused), as /proc/self/task/TID/children lists them. */
static void kill_children(struct rs *s)
{
	char path[64], buf[4096];
	struct proc_handle h;
	size_t len = 0;

	if (proc_open(&h, s->r->self) != PROC_OK)
		return;
	snprintf(path, sizeof(path), "task/%d/children", (int)s->r->self);
	if (proc_read_file(&h, path, buf, sizeof(buf), &len) == PROC_OK) {
		buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
		for (char *p = buf, *end; *p != '\0'; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
		}
	}
	proc_close(&h);
}

/* SIGKILL every process of the tree that has not exited. */
static void kill_tree(struct rs *s)
{
	if (s->kill_ns == 0)
		s->kill_ns = now_ns();
	for (int i = 0; i < s->n; i++) {
		struct node *n = &s->nodes[i];

		if (n->exited || n->thread)
			continue;
		if (s->connector ? n->pidfd >= 0 &&
		    pidfd_send_signal(n->pidfd, SIGKILL, NULL, 0) == 0
				 : kill(n->pid, SIGKILL) == 0)
			s->killed++;
	}
	if (s->connector)
		kill_children(s);
}

static int cn_read(struct rs *s);
static bool cn_sees_own_fork(struct rs *s, pid_t pid);
static bool initial_pid_ns(void);

/* The teardown hook: kill everything, reap until nothing is left. */
static void kill_everything(struct run *r)
{
	struct rs *s = run_state(r);

	s->quiet = true;        /* no more events: proclab is ending */
	s->tree_only = true;
	r->step = false;
	/* the connector: kill what its events name and proclab's children
	 * (orphans come to proclab, the subreaper) until none is left */
	while (s->connector) {
		struct pollfd p = { .fd = s->chldfd, .events = POLLIN };
		char sink[sizeof(struct signalfd_siginfo) * 16];
		pid_t pid;

		cn_read(s);
		kill_tree(s);
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno == ECHILD)
			return;
		if (poll(&p, 1, 10) > 0)
			(void)!read(s->chldfd, sink, sizeof(sink));
	}
	for (;;) {
		int st;
		pid_t pid;

		kill_tree(s);
		pid = waitpid(-1, &st, __WALL);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (find(s, pid) == NULL && WIFSTOPPED(st))
			kill(pid, SIGKILL);     /* a new tracee: ours */
		else if (find(s, pid) != NULL && !WIFSTOPPED(st))
			on_exited(s, find(s, pid), st);
	}
}

/* ---- --via connector: the kernel's process events ------------------------ */

/* Listen to the process-events connector (any user may on Linux 6.18;
 * older kernels want CAP_NET_ADMIN).  The socket, or -1 with errno. */
static int cn_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = CN_IDX_PROC };
	union {
		struct nlmsghdr nh;
		char bytes[NLMSG_LENGTH(sizeof(struct cn_msg) +
					sizeof(enum proc_cn_mcast_op))];
	} req;
	struct cn_msg *cn = NLMSG_DATA(&req.nh);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_CONNECTOR);
	int size = 1 << 22;     /* room for bursts: a lost event is a miss */

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req.bytes);
	req.nh.nlmsg_type = NLMSG_DONE;
	req.nh.nlmsg_pid = (unsigned)getpid();
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, &req, sizeof(req.bytes), 0) < 0)
		goto fail;
	return fd;
fail:
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return -1;
}

static void cn_event(struct rs *s, const struct proc_event *ev)
{
	struct node *n, *p;

	switch (ev->what) {
	case PROC_EVENT_FORK: {
		pid_t child = ev->event_data.fork.child_pid;

		if (child != ev->event_data.fork.child_tgid)
			return;         /* a thread */
		p = find(s, ev->event_data.fork.parent_tgid);
		if (p == NULL || p->thread || find(s, child) != NULL)
			return;         /* not of the tree */
		n = add_node(s, child, p->pid, child);
		if (n == NULL)
			return;
		if (s->capped) {
			if (n->pidfd >= 0)
				pidfd_send_signal(n->pidfd, SIGKILL, NULL, 0);
			return;
		}
		if (s->live > s->max_procs) {
			s->capped = true;
			pl_warnx(s->r, "more than %d processes at once "
				 "(--max-procs): killing the tree",
				 s->max_procs);
			kill_tree(s);
			return;
		}
		announce(s, n, 0, true);
		return;
	}
	case PROC_EVENT_EXEC:
		n = find(s, ev->event_data.exec.process_tgid);
		if (n != NULL && !n->thread && !n->exited)
			on_exec(s, n);
		return;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid !=
		    ev->event_data.exit.process_tgid)
			return;         /* a thread */
		n = find(s, ev->event_data.exit.process_pid);
		if (n != NULL && !n->exited)
			on_exited(s, n, (int)ev->event_data.exit.exit_code);
		return;
	default:
		return;
	}
}

/* Every event the socket holds; the count. */
static int cn_read(struct rs *s)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int handled = 0;

	for (;;) {
		ssize_t got = recv(s->nl, buf, sizeof(buf), 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ENOBUFS) {
			s->lost++;      /* the kernel dropped some */
			continue;
		}
		if (got <= 0)
			return handled;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, (size_t)got); nh = NLMSG_NEXT(nh, got)) {
			struct cn_msg *cn = NLMSG_DATA(nh);

			struct proc_event ev;

			if (nh->nlmsg_type != NLMSG_DONE ||
			    cn->id.idx != CN_IDX_PROC ||
			    cn->len < sizeof(ev))
				continue;
			/* the event is not aligned for its 8-byte fields */
			memcpy(&ev, cn->data, sizeof(ev));
			cn_event(s, &ev);
			handled++;
		}
	}
}

/* Whether the connector reports proclab's fork of pid (PROGRAM, waiting
 * for its go) with the pids proclab knows, within a second.  Not in a
 * PID namespace of its own: there the events carry the initial
 * namespace's pids.  Events of other processes are dropped meanwhile:
 * none of them can be of the tree yet. */
static bool cn_sees_own_fork(struct rs *s, pid_t pid)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	long long end = pl_now_ms() + 1000;

	while (pl_now_ms() < end) {
		ssize_t got;

		if (!pl_wait_fd(s->r, s->nl, (int)(end - pl_now_ms())))
			return false;
		got = recv(s->nl, buf, sizeof(buf), 0);
		if (got < 0 && (errno == EINTR || errno == EAGAIN ||
				errno == ENOBUFS))
			continue;
		if (got <= 0)
			return false;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, (size_t)got); nh = NLMSG_NEXT(nh, got)) {
			struct cn_msg *cn = NLMSG_DATA(nh);
			struct proc_event ev;

			if (nh->nlmsg_type != NLMSG_DONE ||
			    cn->id.idx != CN_IDX_PROC || cn->len < sizeof(ev))
				continue;
			memcpy(&ev, cn->data, sizeof(ev));
			if (ev.what == PROC_EVENT_FORK &&
			    ev.event_data.fork.parent_tgid == s->r->self &&
			    ev.event_data.fork.child_pid == pid)
				return true;
		}
	}
	return false;
}

/* The connector's drain: its events, then the exits of proclab's own
 * children (PROGRAM, adopted orphans), which proclab reaps.  -1 once
 * proclab has no child left: the tree is gone. */
static int cn_drain(struct rs *s)
{
	int handled = cn_read(s);

	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		struct node *n;

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0) {
			if (pid < 0)
				cn_read(s);     /* the last exits */
			return pid < 0 ? -1 : handled;
		}
		handled++;
		n = find(s, pid);
		if (n == NULL)
			continue;
		if (!n->exited)
			cn_read(s);     /* its exit event, if it came */
		if (n->ppid != s->r->self) {
			/* a zombie handed on if it ended before its parent */
			const struct node *p = NULL;

			for (int i = s->n - 1; i >= 0 && p == NULL; i--)
				if (s->nodes[i].pid == n->ppid)
					p = &s->nodes[i];
			reparented(s, n, s->r->self, n->exited && p != NULL &&
				   p->exited && n->exit_ns <= p->exit_ns ? 'Z'
									  : '?');
		}
		if (!n->exited)
			on_exited(s, n, st);
		if (!n->reaped)
			reaped(s, n, s->r->self);
	}
}

/* Whether proclab is in the initial PID namespace, where the connector's
 * pids are its own: NSpid in /proc/self/status has one pid there. */
static bool initial_pid_ns(void)
{
	char buf[8192];
	struct proc_handle h;
	size_t len = 0;
	const char *l;
	bool one = true;

	if (proc_open(&h, getpid()) != PROC_OK)
		return true;
	if (proc_read_file(&h, "status", buf, sizeof(buf), &len) == PROC_OK) {
		buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
		l = strstr(buf, "\nNSpid:");
		if (l != NULL) {
			const char *eol = strchr(l + 1, '\n');
			int words = 0;

			for (const char *c = l + 7; c < eol && *c; c++)
				words += (c[0] != ' ' && c[0] != '\t') &&
					 (c[-1] == ' ' || c[-1] == '\t');
			one = words <= 1;
		}
	}
	proc_close(&h);
	return one;
}

/* ---- the end: tree and findings ------------------------------------------ */

static void tree_json(struct rs *s, FILE *f)
{
	const struct run *r = s->r;
	bool first = true;

	fputc('[', f);
	for (int i = 0; i < s->n; i++) {
		const struct node *n = &s->nodes[i];
		const struct node *p = NULL;

		if (n->thread)
			continue;
		for (int j = i - 1; j >= 0 && p == NULL; j--)
			if (s->nodes[j].pid == n->parent && !s->nodes[j].thread)
				p = &s->nodes[j];
		fputs(first ? "{" : ",{", f);
		first = false;
		if (r->stable) {
			fprintf(f, "\"pid\":\"%s\",\"ppid\":", n->role);
			if (p != NULL)
				fprintf(f, "\"%s\"", p->role);
			else
				fputs(n->parent == r->self ? "\"proclab\""
							   : "null", f);
		} else {
			fprintf(f, "\"pid\":%d,\"ppid\":%d", (int)n->pid,
				(int)n->parent);
		}
		fputs(",\"comm\":", f);
		json_put_string(f, n->comm, strlen(n->comm));
		if (r->stable)
			fputs(",\"start\":null,\"end\":null", f);
		else
			fprintf(f, ",\"start\":%.3f,\"end\":%.3f",
				ms_between(s->t0_ns, n->start_ns),
				n->exited ? ms_between(s->t0_ns, n->exit_ns)
					  : -1.0);
		if (!n->exited)
			fputs(",\"exit\":null", f);
		else if (WIFEXITED(n->status))
			fprintf(f, ",\"exit\":{\"raw\":%d,\"code\":%d}",
				n->status, WEXITSTATUS(n->status));
		else
			fprintf(f, ",\"exit\":{\"raw\":%d,\"signal\":\"%s\","
				"\"core\":%s}", n->status,
				wstatus_signame(WTERMSIG(n->status)).s,
				WCOREDUMP(n->status) ? "true" : "false");
		if (r->stable || !n->reaped)
			fputs(",\"zombie_ms\":null", f);
		else
			fprintf(f, ",\"zombie_ms\":%.3f",
				ms_between(n->exit_ns, n->reap_ns));
		if (n->adopter == 0)
			fputs(",\"adopted_by\":null", f);
		else if (r->stable)
			fprintf(f, ",\"adopted_by\":\"%s\"",
				n->adopter == r->self ? "proclab" :
				n->adopter == 1 ? "pid1" : "pid?");
		else
			fprintf(f, ",\"adopted_by\":%d", (int)n->adopter);
		fputc('}', f);
	}
	fputc(']', f);
}

static void tree_text(struct rs *s, int i, int depth)
{
	for (; i >= 0; i = s->nodes[i].next_sibling) {
		const struct node *n = &s->nodes[i];
		char indent[64], how[96], extra[160] = "", life[32];
		size_t len = 0;

		for (int d = 0; d < depth && len < sizeof(indent) - 4; d++)
			len += (size_t)snprintf(indent + len,
						sizeof(indent) - len, "| ");
		indent[len] = '\0';
		if (n->exited)
			describe(n->status, how, sizeof(how));
		else
			snprintf(how, sizeof(how), "%s", _("still running"));
		snprintf(life, sizeof(life), "%.1f",
			 ms_between(n->start_ns, n->exited ? n->exit_ns
							   : now_ns()));
		if (n->reaped && ms_between(n->exit_ns, n->reap_ns) >= 1.0 &&
		    !s->r->stable)
			snprintf(extra, sizeof(extra), _(", zombie %.1f ms"),
				 ms_between(n->exit_ns, n->reap_ns));
		if (n->adopter != 0) {
			len = strlen(extra);
			if (s->r->stable)
				snprintf(extra + len, sizeof(extra) - len,
					 _(", adopted by %s"),
					 n->adopter == s->r->self ? "proclab"
								  : "pid?");
			else
				snprintf(extra + len, sizeof(extra) - len,
					 _(", adopted by %d"), (int)n->adopter);
		}
		emit(s->r, "node", FIELDS(F_TEXT("indent", indent),
			F_PID("pid", n->pid), F_STR("comm", n->comm),
			F_TEXT("how", how), F_TEXT_MEAS("life", life),
			F_TEXT("extra", extra)));
		tree_text(s, n->first_child, depth + 1);
	}
}

static void print_tree(struct rs *s)
{
	int count = 0, root = -1, *last;
	char *json = NULL;
	size_t jlen = 0;
	FILE *f;

	last = calloc((size_t)s->n + 1, sizeof(*last));
	if (last == NULL)
		return;
	/* children lists, in the order they were made */
	for (int i = 0; i < s->n; i++) {
		struct node *n = &s->nodes[i];
		int p = -1;

		last[i] = -1;
		if (n->thread)
			continue;
		count++;
		for (int j = i - 1; j >= 0 && p < 0; j--)
			if (s->nodes[j].pid == n->parent && !s->nodes[j].thread)
				p = j;
		if (p < 0) {
			if (root < 0)
				root = i;
			else
				s->nodes[last[s->n]].next_sibling = i;
			last[s->n] = i;
			continue;
		}
		if (s->nodes[p].first_child < 0)
			s->nodes[p].first_child = i;
		else
			s->nodes[last[p]].next_sibling = i;
		last[p] = i;
	}
	free(last);
	f = open_memstream(&json, &jlen);
	if (f == NULL)
		return;
	tree_json(s, f);
	if (fclose(f) != 0) {
		free(json);
		return;
	}
	emit(s->r, "tree", FIELDS(F_INT("count", count),
				 F_MEAS("peak", s->peak), F_JSON("nodes", json)));
	free(json);
	if (!s->r->json)
		tree_text(s, root, 0);
}

static void findings(struct rs *s)
{
	struct run *r = s->r;
	int found = 0;

	if (s->capped) {
		found++;
		emit_form(r, "finding", "cap", FIELDS(F_STR("kind", "cap"),
			  F_PID("pid", s->program),
			  F_INT("max_procs", s->max_procs),
			  F_MEAS("count", s->killed)));
	}
	for (int i = 0; i < s->n; i++) {
		const struct node *n = &s->nodes[i];

		if (n->thread)
			continue;
		/* (what proclab's own killing left is not the program's) */
		if (n->reaped && n->reaper == r->self && n->adopter == 0 &&
		    n->parent != r->self &&
		    (s->kill_ns == 0 || n->reap_ns < s->kill_ns)) {
			/* a zombie whose parent exited without waiting */
			found++;
			emit_form(r, "finding", "zombie",
				  FIELDS(F_STR("kind", "zombie"),
					 F_PID("pid", n->pid),
					 F_PID("ppid", n->parent),
					 F_MEAS("zombie_ms", ms_between(
						n->exit_ns, n->reap_ns)),
					 F_TEXT("comm", n->comm)));
		}
		if (n->adopter != 0) {
			found++;
			emit_form(r, "finding", "orphan",
				  FIELDS(F_STR("kind", "orphan"),
					 F_PID("pid", n->pid),
					 F_PID("from", n->orphaned_by),
					 F_PID("to", n->adopter),
					 F_TEXT("comm", n->comm),
					 F_TEXT("tocomm",
						comm_of(s, n->adopter))));
		}
	}
	if (s->left > 0 && !s->capped) {     /* else the cap says it */
		found++;
		emit_form(r, "finding", "left", FIELDS(F_STR("kind", "left"),
			  F_PID("pid", s->program), F_INT("count", s->left),
			  F_PIDS("pids", s->left_pids),
			  F_TEXT("more", s->left > LEFT_PIDS ? _(" and more") : ""),
			  F_TEXT("program", s->nodes[0].comm)));
	}
	if (s->lingered) {
		found++;
		emit_form(r, "finding", "linger",
			  FIELDS(F_STR("kind", "linger"),
				 F_PID("pid", s->program),
				 F_INT("linger_ms", s->linger_ms),
				 F_INT("count", s->killed)));
	}
	if (s->lost > 0) {
		found++;
		emit_form(r, "finding", "lost", FIELDS(F_STR("kind", "lost"),
			  F_PID("pid", s->program), F_MEAS("count", s->lost)));
	}
	if (found == 0)
		emit_form(r, "finding", "clean", FIELDS(F_STR("kind", "clean"),
			  F_PID("pid", s->program)));
}

/* ---- the command ----------------------------------------------------------- */

/* PROGRAM as execve(2) will take it: a name with a slash as it is, else
 * the first executable file of that name on PATH.  0, or an errno. */
static int find_program(const char *name, char *path, size_t size)
{
	const char *dirs = getenv("PATH");
	int err = ENOENT;

	if (strchr(name, '/') != NULL) {
		strlcpy(path, name, size);
		return access(path, X_OK) == 0 ? 0 : errno;
	}
	if (dirs == NULL)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	while (*dirs != '\0') {
		size_t len = strcspn(dirs, ":");
		struct stat sb;

		snprintf(path, size, "%.*s/%s", (int)(len ? len : 1),
			 len ? dirs : ".", name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (access(path, X_OK) == 0)
				return 0;
			err = EACCES;
		}
		dirs += len + (dirs[len] == ':');
	}
	return err;
}

/* Fork PROGRAM, seize it before it execs, let it exec.  PL_EXIT_OK, or the
 * exit status after a message. */
static int launch(struct rs *s)
{
	struct run *r = s->r;
	int go[2], fail[2], e = 0;
	pid_t pid;
	ssize_t got;

	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(fail, O_CLOEXEC) < 0) {
		pl_unavailable(r, "cannot make a pipe: %s", strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	pid = pl_fork(r, "program", NULL);
	if (pid < 0)
		return PL_EXIT_UNAVAILABLE;
	if (pid == 0) {
		char c;

		close(go[1]);
		close(fail[0]);
		/* with --step, proclab reads the Enters: not PROGRAM */
		if (r->step) {
			int null = open("/dev/null", O_RDONLY);

			if (null < 0 || dup2(null, STDIN_FILENO) < 0)
				_exit(126);
			if (null != STDIN_FILENO)
				close(null);
		}
		while ((got = read(go[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (got != 1)
			_exit(127);     /* proclab gave up */
		execv(s->path, s->argv);
		e = errno;
		(void)!write(fail[1], &e, sizeof(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	close(go[0]);
	close(fail[1]);
	s->program = pid;
	if (!s->connector &&
	    ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)(PTRACE_O_TRACEFORK |
		   PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
		   PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0) {
		e = errno;
		close(go[1]);
		close(fail[0]);
		pl_unavailable(r, "cannot trace %s: ptrace: %s (a container's "
			 "seccomp filter or Yama's ptrace_scope may forbid it)",
			 s->argv[0], strerror(e));
		return PL_EXIT_UNAVAILABLE;
	}
	if (s->connector && (!initial_pid_ns() || !cn_sees_own_fork(s, pid))) {
		close(go[1]);
		close(fail[0]);
		pl_unavailable(r, "--via connector: the process events do not name "
			 "proclab's own fork of %s with its pids (a PID "
			 "namespace?); try --via ptrace", s->argv[0]);
		return PL_EXIT_UNAVAILABLE;
	}
	if (add_node(s, pid, r->self, pid) == NULL) {
		close(go[1]);
		close(fail[0]);
		return PL_EXIT_UNAVAILABLE;
	}
	s->nodes[0].call = "fork";
	s->nodes[0].started = true;
	/* no pause here: the tree is held only once PROGRAM runs */
	announce(s, &s->nodes[0], 0, false);
	if (write(go[1], "g", 1) != 1) {
		pl_unavailable(r, "cannot start %s: %s", s->argv[0], strerror(errno));
		close(go[1]);
		close(fail[0]);
		return PL_EXIT_UNAVAILABLE;
	}
	close(go[1]);
	/* EOF at the exec (close-on-exec), or the errno of a failed one */
	pl_wait_fd(r, fail[0], -1);
	got = read(fail[0], &e, sizeof(e));
	close(fail[0]);
	if (got == (ssize_t)sizeof(e)) {
		pl_warnx(r, "cannot run %s: %s", s->argv[0], strerror(e));
		return e == ENOENT ? 127 : 126;
	}
	return PL_EXIT_OK;
}

/* Follow the tree until nothing of it is left. */
static void follow(struct rs *s)
{
	int sleep_ms = 1;

	for (;;) {
		int got = s->connector ? cn_drain(s) : drain(s);
		char sink[sizeof(struct signalfd_siginfo) * 16];
		struct pollfd fds[2] = { { .fd = s->chldfd, .events = POLLIN },
					 { .fd = s->connector ? s->nl : -1,
					   .events = POLLIN } };

		if (got < 0)
			break;
		sample_all(s);
		if (got > 0)
			sleep_ms = 1;
		if (s->program_done && s->linger_ms >= 0 && !s->lingered &&
		    s->live > 0 && now_ns() - s->program_exit_ns >=
		    s->linger_ms * 1000000LL) {
			s->lingered = true;
			s->killed = 0;
			kill_tree(s);
			continue;
		}
		if (pl_wait_fds(s->r, fds, s->connector ? 2 : 1, sleep_ms) > 0) {
			if (fds[0].revents & POLLIN)
				(void)!read(s->chldfd, sink, sizeof(sink));
		} else if (sleep_ms < SAMPLE_MAX_MS) {
			sleep_ms *= 2;
		}
	}
	sample_all(s);  /* reaps caught in the last moment */
	for (int i = 0; i < s->n; i++)  /* gone without a last look */
		if (s->nodes[i].exited && !s->nodes[i].reaped &&
		    !s->nodes[i].thread)
			reaped(s, &s->nodes[i], s->nodes[i].ppid);
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return PL_EXIT_FAIL;
}

enum { O_JSON = 256, O_STEP, O_STABLE, O_NOCOLOR, O_TREE, O_VIA, O_MAX,
       O_LINGER };

static long long number(const char *opt, const char *arg, long long min,
			long long max)
{
	const char *errstr;
	long long v = strtonum(arg, min, max, &errstr);

	if (errstr != NULL) {
		char *w = escape_word(arg);

		fprintf(stderr, _("proclab: run: --%s: '%s' is %s (%lld to "
				  "%lld)\n"), opt, w != NULL ? w : "?", errstr,
			min, max);
		free(w);
		exit(PL_EXIT_USAGE);
	}
	return v;
}

static void __attribute__((noreturn)) usage_error(const char *fmt,
						  const char *word)
{
	char *w = escape_word(word);

	fputs("proclab: run: ", stderr);
	fprintf(stderr, gettext(fmt), w != NULL ? w : "?");
	fprintf(stderr, " %s\n", _("(see 'proclab run --help')"));
	free(w);
	exit(PL_EXIT_USAGE);
}

static void parse(struct run *r, struct rs *s, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "step", no_argument, NULL, O_STEP },
		{ "stable", no_argument, NULL, O_STABLE },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "tree", no_argument, NULL, O_TREE },
		{ "via", required_argument, NULL, O_VIA },
		{ "max-procs", required_argument, NULL, O_MAX },
		{ "linger", required_argument, NULL, O_LINGER },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool no_color = false;
	int c;

	opterr = 0;
	optind = 1;
	/* '+': options end at PROGRAM, whose own options are its own */
	while ((c = getopt_long(argc, argv, "+:hqv", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: r->json = true; break;
		case O_STEP: r->step = true; break;
		case O_STABLE: r->stable = true; break;
		case O_NOCOLOR: no_color = true; break;
		case O_TREE: s->tree_only = true; break;
		case 'q': s->quiet = true; break;
		case 'v': r->verbose = true; break;
		case 'h':
			run_help();
			exit(fflush(stdout) == 0 && !ferror(stdout)
			     ? PL_EXIT_OK : PL_EXIT_FAIL);
		case O_VIA:
			if (strcmp(optarg, "connector") == 0)
				s->connector = true;
			else if (strcmp(optarg, "ptrace") == 0)
				s->connector = false;
			else
				usage_error("--via: '%s' is not a method "
					    "(ptrace, connector)", optarg);
			break;
		case O_MAX:
			s->max_procs = (int)number("max-procs", optarg, 1,
						   MAX_PROCS_MAX);
			break;
		case O_LINGER:
			s->linger_ms = number("linger", optarg, 0, LINGER_MAX);
			break;
		case ':':
			usage_error("option '%s' needs a value",
				    argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fputs(_("proclab: run: no PROGRAM given\n"), stderr);
		fputs(_(run_usage), stderr);
		exit(PL_EXIT_USAGE);
	}
	if (s->quiet && s->tree_only)
		usage_error("%s: -q and --tree exclude each other", "-q");
	s->argv = argv + optind;
	r->color = !r->json && emit_want_color(no_color);
}

static int raise_fd_limit(struct rs *s)
{
	/* two fds per process alive (its /proc/PID and stat) */
	rlim_t need = (rlim_t)s->max_procs * 2 + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need)
		return -1;
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

int run_command(int argc, char *argv[])
{
	static struct run run;
	static struct rs rs;
	struct run *r = &run;
	struct rs *s = &rs;
	struct utsname u;
	sigset_t set;
	int rc, e;
	bool capped;

	r->lab = &run_command_lab;
	r->sigfd = -1;
	r->timeout_ms = 3000;
	s->r = r;
	s->max_procs = MAX_PROCS_DEF;
	s->linger_ms = -1;
	parse(r, s, argc, argv);
	if ((e = find_program(s->argv[0], s->path, sizeof(s->path))) != 0) {
		char *w = escape_word(s->argv[0]);

		fprintf(stderr, _("proclab: run: cannot run '%s': %s\n"),
			w != NULL ? w : "?", strerror(e));
		free(w);
		return e == ENOENT ? 127 : 126;
	}
	if (access("/proc/self/stat", R_OK) < 0) {
		pl_warnx(r, "/proc is not available: %s", strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	if (raise_fd_limit(s) < 0) {
		pl_warnx(r, "the open-file limit is too low for --max-procs "
			 "%d", s->max_procs);
		return PL_EXIT_UNAVAILABLE;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		pl_warnx(r, "cannot block signals: %s", strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	sigdelset(&set, SIGCHLD);
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	s->chldfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0 || s->chldfd < 0) {
		pl_warnx(r, "cannot make a signalfd: %s", strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* orphans of the tree come to proclab, never to PID 1 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0) {
		pl_warnx(r, "cannot become a subreaper: %s", strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	if (s->connector && (s->nl = cn_open()) < 0) {
		pl_warnx(r, "--via connector: cannot listen to process "
			 "events: %s", strerror(errno));
		return PL_EXIT_UNAVAILABLE;
	}
	prctl(PR_SET_TIMERSLACK, 1UL);
	r->self = getpid();
	r->no_pidfd = !pl_pidfd_works();
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	s->t0_ns = now_ns();
	s->cap = TOTAL_MAX;
	s->nodes = calloc((size_t)s->cap, sizeof(*s->nodes));
	if (s->nodes == NULL || obs_reserve(r, s->cap) < 0) {
		pl_warnx(r, "cannot allocate");
		return PL_EXIT_UNAVAILABLE;
	}
	r->state = s;
	r->before_teardown = kill_everything;
	if (uname(&u) < 0)
		strcpy(u.release, "unknown");
	if (!s->quiet && !s->tree_only)
		emit(r, "start", FIELDS(F_PID("pid", r->self),
			F_INT("schema", PROCLAB_SCHEMA),
			F_STR("version", PROCLAB_VERSION),
			F_MEAS("kernel", u.release),
			F_BOOL("pidfd", !r->no_pidfd),
			F_STR("program", s->argv[0]),
			F_STR("via", s->connector ? "connector" : "ptrace"),
			F_WORDS("misses", s->connector
				? N_("may drop events under load, said if so; "
				     "cannot hold the tree; SIGKILL to proclab "
				     "leaves it")
				: N_("misses no fork, exec or exit; stopped "
				     "shows t, not T")),
			F_INT("max_procs", s->max_procs)));
	rc = launch(s);
	if (rc != PL_EXIT_OK) {
		run_teardown(r);
		emit_flush(r);
		return rc;
	}
	follow(s);
	capped = s->capped;
	if (!s->quiet)
		print_tree(s);
	if (!s->tree_only)
		findings(s);
	rc = exit_status(s->program_status);
	{
		char how[96];
		struct wstatus ws;

		wstatus_decode(s->program_status, &ws);
		describe(s->program_status, how, sizeof(how));
		emit_form(r, "result", capped ? "capped" : NULL,
			  FIELDS(F_BOOL("ok", rc == 0), F_INT("exit", rc),
				 F_PID("pid", s->program),
				 F_INT("raw", s->program_status),
				 ws.exited ? F_INT("code", ws.code)
					   : F_NULL("code"),
				 ws.signaled ? F_STR("signal",
						     wstatus_signame(ws.sig).s)
					     : F_NULL("signal"),
				 F_TEXT("how", how)));
	}
	run_teardown(r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		pl_warnx(r, "cannot write to standard output");
		if (rc == 0)
			rc = PL_EXIT_FAIL;
	}
	free(s->nodes);
	return rc;
}
