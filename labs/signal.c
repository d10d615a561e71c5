/* signal.c - what a signal does to a process, as /proc shows it.
 *
 * proclab's children are agents (agent.h) that run the lab's operations
 * below: set a disposition with sigaction(2), block and unblock signals
 * with sigprocmask(2), raise one.  Their handler reports each run on the
 * run's report channel, so that proclab sees that it ran, for which
 * signal, how often.  proclab sends the signals (pl_kill) and reads the
 * rest from /proc/PID/status through the observer: the state letter and
 * the masks SigPnd, ShdPnd, SigBlk, SigIgn and SigCgt.
 *
 * Stages (signal_stages[]): default (SIGTERM kills: Z, reaped) -> ignore
 * (SIGTERM ignored: still S, nothing pending) -> catch (SIGTERM handled:
 * the handler ran, still S) -> refuse (sigaction refuses SIGKILL and
 * SIGSTOP: EINVAL) -> pending (blocked signals shown pending, ShdPnd for
 * kill, SigPnd for raise, delivered on unblock) -> coalesce (three
 * SIGUSR1 while blocked arrive once, three SIGRTMIN three times) ->
 * d-pending (a signal to a vfork caller in D stays pending until the D
 * ends) -> d-kill (SIGKILL ends that D at once) -> sigchld-once,
 * sigchld-loop, sigchld-ignore, sa-nocldwait (children exit while
 * the parent blocks SIGCHLD: one delivery; what each disposition leaves).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"
#include "wstatus.h"

#define SIG_MAX_CHILDREN 12     /* 4 SIGCHLD stages of parent + children
				 * fit in AGENTS_MAX with the others */

static const struct lab_option signal_options[] = {
	{ "children", "N", 2, SIG_MAX_CHILDREN, 3,
	  "how many children exit together in each SIGCHLD stage" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* ---- the lab's operations, run in the agents (async-signal-safe) ------- */

enum {
	OP_RESET = AGENT_OP_LAB, /* every signal to SIG_DFL, none blocked */
	OP_ACTION,              /* sigaction(v0): v1 an enum act, v2 sa_flags,
				 * v3 what a SIGCHLD handler does (enum chld);
				 * answer {rc, errno} */
	OP_MASK,                /* sigprocmask(v0, the signals of mask v1);
				 * answer {rc, errno, handler runs, reaped} */
	OP_RAISE,               /* raise(v0); answer {rc, errno, runs} */
	OP_PING,                /* answer {handler runs, reaped} */
	OP_REAP_ALL,            /* waitpid(-1, WNOHANG) until none: {reaped} */
};

/* A handler's run: {signal, its call number for that signal, si_code,
 * children its wait calls collected}. */
enum { REP_HANDLED = AGENT_REP_LAB };

enum act { ACT_DEFAULT, ACT_IGNORE, ACT_HANDLER };

/* What a SIGCHLD handler does besides counting. */
enum chld { CHLD_COUNT, CHLD_WAIT_ONCE, CHLD_WAIT_LOOP };

/* One process of the lab, on proclab's side. */
struct actor {
	struct agent *a;
	struct watched *w;
	long long runs;         /* handler runs reported so far */
};

/* What one run keeps (run_state()).  The agents' copies of it, made by
 * fork, hold their handler's counters. */
struct siglab {
	/* in an agent: its handler's counts */
	volatile sig_atomic_t calls[65];
	volatile sig_atomic_t runs, reaped;
	volatile sig_atomic_t chld;     /* enum chld */

	/* proclab's side */
	int n;                          /* --children */
	struct actor catcher;
	struct actor vchild;            /* the catcher's vfork child */
	char d_state;                   /* the catcher's, SIGUSR1 pending */
	int refused_kill, refused_stop; /* sigaction's errno, 0: accepted */
	long long term_runs;
	char term_state;
	char role[SIG_MAX_CHILDREN][ROLE_MAX];
	/* zombies left and handler runs, by SIGCHLD stage */
	int zombies[4], chld_runs[4];
};

/* The agent whose handler reports: set by OP_ACTION in the agent that
 * installs a handler, never in proclab.  A handler has no argument to
 * find its agent by, so this is the lab's one mutable file-scope
 * variable; each agent writes only its own copy. */
static struct agent_ctx *handler_agent;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	struct agent_ctx *c = handler_agent;
	struct siglab *L;
	int e = errno, reaped = 0;

	(void)uc;
	if (c == NULL || sig < 1 || sig > 64)
		return;
	L = c->data;
	if (sig == SIGCHLD && L->chld == CHLD_WAIT_ONCE) {
		if (waitpid(-1, NULL, 0) > 0)
			reaped = 1;
	} else if (sig == SIGCHLD && L->chld == CHLD_WAIT_LOOP) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			reaped++;
	}
	L->reaped += reaped;
	L->calls[sig]++;
	L->runs++;
	agent_say(c, REP_HANDLED, sig, L->calls[sig], si->si_code, reaped);
	errno = e;
}

static int op_reset(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	(void)c, (void)arg, (void)out;
	/* ignored signals survive fork and exec: a lab started from a
	 * shell that ignores SIGINT (a background job), or from a program
	 * that ignores the signals 32 and 33, would show them in SigIgn.
	 * Start from the defaults, so that every run shows the same.
	 * glibc's sigaction() refuses 32 and 33 (it keeps them for its
	 * threads): those through the system call, whose struct is all
	 * zeros for SIG_DFL with no flags and no mask. */
	for (int sig = 1; sig <= 64; sig++) {
		unsigned long ksa[4] = { 0, 0, 0, 0 };

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sig < SIGRTMIN && sig > 31)
			syscall(SYS_rt_sigaction, sig, ksa, NULL,
				sizeof(unsigned long));
		else
			sigaction(sig, &dfl, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return AGENT_OK;
}

static int op_action(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct siglab *L = c->data;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = (int)arg[2];
	if (arg[1] == ACT_HANDLER) {
		handler_agent = c;
		L->chld = (sig_atomic_t)arg[3];
		sa.sa_sigaction = on_signal;
		sa.sa_flags |= SA_SIGINFO;
	} else {
		sa.sa_handler = arg[1] == ACT_IGNORE ? SIG_IGN : SIG_DFL;
	}
	out[0] = sigaction((int)arg[0], &sa, NULL);
	out[1] = out[0] < 0 ? errno : 0;
	return AGENT_OK;
}

static int op_mask(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct siglab *L = c->data;
	sigset_t set;

	sigemptyset(&set);
	for (int sig = 1; sig <= 64; sig++)
		if ((uint64_t)arg[1] >> (sig - 1) & 1)
			sigaddset(&set, sig);
	/* the signals this unblocks are delivered before the call returns
	 * to us: their handlers have reported before this answer */
	out[0] = sigprocmask((int)arg[0], &set, NULL);
	out[1] = out[0] < 0 ? errno : 0;
	out[2] = L->runs;
	out[3] = L->reaped;
	return AGENT_OK;
}

static int op_raise(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct siglab *L = c->data;

	out[0] = raise((int)arg[0]);
	out[1] = out[0] != 0 ? errno : 0;
	out[2] = L->runs;
	return AGENT_OK;
}

static int op_ping(struct agent_ctx *c, const int64_t arg[], int64_t out[])
{
	struct siglab *L = c->data;

	(void)arg;
	out[0] = L->runs;
	out[1] = L->reaped;
	return AGENT_OK;
}

static int op_reap_all(struct agent_ctx *c, const int64_t arg[],
		       int64_t out[])
{
	(void)c, (void)arg;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		out[0]++;
	return AGENT_OK;
}

static const struct agent_op_def signal_ops[] = {
	{ OP_RESET, "reset", op_reset },
	{ OP_ACTION, "sigaction", op_action },
	{ OP_MASK, "sigprocmask", op_mask },
	{ OP_RAISE, "raise", op_raise },
	{ OP_PING, "ping", op_ping },
	{ OP_REAP_ALL, "reap-all", op_reap_all },
	{ REP_HANDLED, "handled", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side ---------------------------------------------------- */

static unsigned long long bit(int sig)
{
	return 1ULL << (sig - 1);
}

static const char *si_code_name(int sig, int code)
{
	if (sig == SIGCHLD && code > 0)
		return wstatus_si_code_name(code);
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_TKILL: return "SI_TKILL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_KERNEL: return "SI_KERNEL";
	default: return "?";
	}
}

/* Start agent `role` (planned with agent_new() unless a is given),
 * watch it, and give it the default disposition of every signal. */
static int actor_start(struct run *r, struct actor *x, struct agent *a,
		       const char *role)
{
	struct agent_msg m;
	int rc;

	if (a == NULL && (a = agent_new(r, role)) == NULL)
		return PL_EXIT_FAIL;
	x->a = a;
	x->runs = 0;
	if ((rc = agent_start(r, a, NULL)) != 0)
		return rc;
	if ((x->w = obs_add(r, a->pid, a->pidfd, a->role)) == NULL)
		return PL_EXIT_FAIL;
	if ((rc = agent_do(r, a, OP_RESET, 0, &m)) != 0)
		return rc;
	return obs_await(r, x->w, "S", "blocks in read(2) until proclab "
			 "sends a command");
}

/* sigaction() in x; *err gets its errno (0: it returned 0). */
static int set_action(struct run *r, struct actor *x, int sig, enum act act,
		      int flags, enum chld chld, int *err)
{
	static const char *const names[] = { "SIG_DFL", "SIG_IGN",
					     "handler" };
	static const char *const texts[] = { "SIG_DFL", "SIG_IGN",
					     "a handler" };
	static const char *const verbs[] = { "reset", "ignore", "catch" };
	int64_t arg[AGENT_ARGS] = { sig, act, flags, chld };
	struct agent_msg m;
	int rc = agent_do_args(r, x->a, OP_ACTION, arg, &m);

	if (rc != 0)
		return rc;
	*err = (int)m.v[1];
	emit_form(r, "action", m.v[0] == 0 ? NULL : "refused",
		  FIELDS(F_PID("pid", x->a->pid),
			 F_STR("signal", wstatus_signame(sig).s),
			 F_STR("action", names[act]),
			 F_STR("flags", flags & SA_NOCLDWAIT ? "SA_NOCLDWAIT"
					: ""),
			 F_INT("rc", m.v[0]),
			 *err ? F_STR("errno", strerrorname_np(*err))
			      : F_NULL("errno"),
			 F_TEXT("role", x->a->role),
			 F_TEXT("with", flags & SA_NOCLDWAIT
				? _(" with SA_NOCLDWAIT") : ""),
			 F_TEXT("verb", verbs[act]),
			 F_TEXT("action_text", texts[act]),
			 F_TEXT("error", *err ? strerror(*err) : "")));
	return PL_EXIT_OK;
}

/* sigprocmask(how) of the signals in `set` in x; *out gets the answer. */
static int set_mask(struct run *r, struct actor *x, int how,
		    unsigned long long set, struct agent_msg *out)
{
	int64_t arg[AGENT_ARGS] = { how, (int64_t)set, 0, 0 };
	char names[256];
	int rc = agent_do_args(r, x->a, OP_MASK, arg, out);

	if (rc != 0)
		return rc;
	wstatus_sigset_names(set, names, sizeof(names));
	emit(r, "mask", FIELDS(F_PID("pid", x->a->pid),
			       F_STR("how", how == SIG_BLOCK ? "SIG_BLOCK"
							     : "SIG_UNBLOCK"),
			       F_STR("signals", names), F_INT("rc", out->v[0]),
			       F_TEXT("role", x->a->role)));
	if (out->v[0] != 0)
		return pl_fail(r, "expected sigprocmask in %s %d to return 0; "
			       "it failed with %s", x->a->role, (int)x->a->pid,
			       strerrorname_np((int)out->v[1]));
	return PL_EXIT_OK;
}

/* Read x's status now and report the signal mask `field`; *mask (if not
 * NULL) gets it, *state the state letter /proc showed. */
static int show_mask(struct run *r, struct actor *x, int field,
		     unsigned long long *mask, char *state)
{
	struct probe p;
	char names[768], list[1024] = "";
	int n;

	if (obs_probe(r, x->w, &p) != PROC_OK || !p.status_ok ||
	    !(p.ps.has & PS_SIGBIT(field)))
		return pl_fail(r, "expected /proc/%d/status to show %s; it "
			       "could not be read", (int)x->a->pid,
			       procfs_sigfield_name(field));
	n = wstatus_sigset_names(p.ps.sig[field], names, sizeof(names));
	/* the text view: a space after each comma, room to wrap */
	for (size_t i = 0, o = 0; o + 2 < sizeof(list); i++) {
		list[o++] = names[i];
		if (names[i] == '\0')
			break;
		if (names[i] == ',')
			list[o++] = ' ';
		list[o] = '\0';
	}
	emit_form(r, "sigmask", n ? NULL : "empty",
		  FIELDS(F_PID("pid", x->a->pid),
			 F_STR("field", procfs_sigfield_name(field)),
			 F_STR("raw", p.ps.sig_raw[field]),
			 F_STR("signals", names), F_TEXT("role", x->a->role),
			 F_TEXT("list", list)));
	if (mask != NULL)
		*mask = p.ps.sig[field];
	if (state != NULL)
		*state = x->w->state;
	return PL_EXIT_OK;
}

/* Report mask `field` of x, and check that of the signals in `care` it
 * holds those in `want` and no other.  Only those: a process run under a
 * tool that handles every signal itself (valgrind catches them all) shows
 * the tool's dispositions, not the program's. */
static int expect_mask(struct run *r, struct actor *x, int field,
		       unsigned long long want, unsigned long long care)
{
	unsigned long long got;
	int rc = show_mask(r, x, field, &got, NULL);
	char w[256], g[768];

	care |= want;
	if (rc != 0 || (got & care) == want)
		return rc;
	wstatus_sigset_names(want, w, sizeof(w));
	wstatus_sigset_names(got & care, g, sizeof(g));
	return pl_fail(r, "expected %s of %s %d to hold {%s}; /proc showed "
		       "{%s}", procfs_sigfield_name(field), x->a->role,
		       (int)x->a->pid, w, g);
}

/* proclab sends sig to x `times` times. */
static int send_sig(struct run *r, struct actor *x, int sig, int times)
{
	for (int i = 0; i < times; i++)
		if (pl_kill(r, x->a->pid, sig) < 0) {
			pl_warnx(r, "cannot send %s to %d: %s",
				 wstatus_signame(sig).s, (int)x->a->pid,
				 strerror(errno));
			return PL_EXIT_FAIL;
		}
	emit(r, "sent", FIELDS(F_PID("pid", x->a->pid),
			       F_STR("signal", wstatus_signame(sig).s),
			       F_INT("count", times),
			       F_TEXT("role", x->a->role)));
	return PL_EXIT_OK;
}

/* The handler runs x reported, up to its total `upto`: each one an
 * event; counts[sig] (if not NULL) adds them up by signal. */
static int hear_handlers(struct run *r, struct actor *x, long long upto,
			 int counts[65])
{
	while (x->runs < upto) {
		struct agent_msg m;
		int rc = agent_expect(r, x->a, REP_HANDLED, &m), sig;

		if (rc != 0)
			return rc;
		sig = (int)m.v[0];
		x->runs++;
		if (counts != NULL && sig >= 1 && sig <= 64)
			counts[sig]++;
		emit_form(r, "handler", sig == SIGCHLD ? "sigchld" : NULL,
			  FIELDS(F_PID("pid", x->a->pid),
				 F_STR("signal", wstatus_signame(sig).s),
				 F_INT("call", m.v[1]),
				 F_STR("code", si_code_name(sig, (int)m.v[2])),
				 F_INT("reaped", m.v[3]),
				 F_TEXT("role", x->a->role)));
	}
	return PL_EXIT_OK;
}

/* x is alive after sig: it answered a command, and /proc shows it S. */
static int survived(struct run *r, struct actor *x, int sig, const char *why)
{
	struct agent_msg m;
	int rc = agent_do(r, x->a, OP_PING, 0, &m);
	char s;

	if (rc != 0)
		return rc;
	/* it was R for an instant to answer: wait for its read(2) */
	if (obs_settle(r, x->w, "S"))
		return PL_EXIT_FAIL;
	s = x->w->state;
	emit(r, "survived", FIELDS(F_PID("pid", x->a->pid),
				   F_STR("signal", wstatus_signame(sig).s),
				   F_CHAR("state", s),
				   F_TEXT("role", x->a->role),
				   F_TEXT("state_name", pl_state_name(s)),
				   F_TEXT("why", _(why))));
	if (s != 'S')
		return pl_fail(r, "expected %s %d to be S after %s; /proc "
			       "showed %c", x->a->role, (int)x->a->pid,
			       wstatus_signame(sig).s, s);
	return PL_EXIT_OK;
}

static void delivered(struct run *r, struct actor *x, int sig, int sent,
		      int received, const char *meaning)
{
	emit(r, "delivered", FIELDS(F_PID("pid", x->a->pid),
				    F_STR("signal", wstatus_signame(sig).s),
				    F_INT("sent", sent),
				    F_INT("received", received),
				    F_TEXT("role", x->a->role),
				    F_TEXT("meaning", _(meaning))));
}

/* proclab closes x's command pipe: it exits 0; reap it. */
static int actor_end(struct run *r, struct actor *x)
{
	int status;

	agent_close(x->a);
	if (pl_waitpid(r, x->a->pid, x->a->role, &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, x->w, "X", "reaped by proclab: its /proc entry "
			 "is gone");
}

/* ---- the stages -------------------------------------------------------- */

static int stage_default(struct run *r)
{
	struct actor x = { 0 };
	unsigned long long cgt;
	int rc, status;

	if ((rc = actor_start(r, &x, NULL, "default")) != 0 ||
	    (rc = show_mask(r, &x, PSIG_CGT, &cgt, NULL)) != 0)
		return rc;
	/* it set no handler: a caught signal is a tool's, which handles
	 * every signal itself (valgrind), and /proc shows the tool's
	 * dispositions, not the program's: nothing here would be true */
	if (cgt != 0)
		return pl_unavailable(r, "the default child set no handler, "
				      "yet /proc shows it catching %d signals: "
				      "a tool (valgrind?) handles its signals",
				      __builtin_popcountll(cgt));
	if ((rc = send_sig(r, &x, SIGTERM, 1)) != 0)
		return rc;
	if (obs_await(r, x.w, "Z", "ended by SIGTERM, whose default action "
		      "terminates; {ppid} has not waited yet"))
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, x.a->pid, x.a->role, &status) < 0)
		return PL_EXIT_FAIL;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		return pl_fail(r, "expected the default child to be killed by "
			       "SIGTERM; its status was %#x", status);
	return obs_await(r, x.w, "X", "reaped by proclab: its /proc entry "
			 "is gone");
}

static int stage_ignore(struct run *r)
{
	struct actor x = { 0 };
	int rc, err;

	if ((rc = actor_start(r, &x, NULL, "ignoring")) != 0 ||
	    (rc = set_action(r, &x, SIGTERM, ACT_IGNORE, 0, 0, &err)) != 0)
		return rc;
	if (err != 0)
		return pl_fail(r, "expected sigaction(SIGTERM, SIG_IGN) to "
			       "succeed; it failed with %s",
			       strerrorname_np(err));
	if ((rc = expect_mask(r, &x, PSIG_IGN, bit(SIGTERM), 0)) != 0 ||
	    (rc = send_sig(r, &x, SIGTERM, 1)) != 0)
		return rc;
	if ((rc = survived(r, &x, SIGTERM, N_("the kernel dropped the "
			   "ignored SIGTERM"))) != 0 ||
	    (rc = expect_mask(r, &x, PSIG_SHDPND, 0, bit(SIGTERM))) != 0)
		return rc;
	return actor_end(r, &x);
}

static int stage_catch(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	int counts[65] = { 0 }, rc, err;

	if ((rc = actor_start(r, x, NULL, "catcher")) != 0 ||
	    (rc = set_action(r, x, SIGTERM, ACT_HANDLER, 0, 0, &err)) != 0)
		return rc;
	if (err != 0)
		return pl_fail(r, "expected sigaction(SIGTERM, handler) to "
			       "succeed; it failed with %s",
			       strerrorname_np(err));
	if ((rc = expect_mask(r, x, PSIG_CGT, bit(SIGTERM), 0)) != 0 ||
	    (rc = send_sig(r, x, SIGTERM, 1)) != 0 ||
	    (rc = hear_handlers(r, x, 1, counts)) != 0)
		return rc;
	if ((rc = survived(r, x, SIGTERM, N_("its handler returned and it "
			   "blocked in read(2) again"))) != 0)
		return rc;
	L->term_runs = counts[SIGTERM];
	L->term_state = x->w->state;
	delivered(r, x, SIGTERM, 1, counts[SIGTERM], N_("the handler ran "
		  "instead of the default action"));
	return PL_EXIT_OK;
}

static int stage_refuse(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	int rc, err[4];

	if ((rc = set_action(r, x, SIGKILL, ACT_HANDLER, 0, 0, &err[0])) ||
	    (rc = set_action(r, x, SIGKILL, ACT_IGNORE, 0, 0, &err[1])) ||
	    (rc = set_action(r, x, SIGSTOP, ACT_HANDLER, 0, 0, &err[2])) ||
	    (rc = set_action(r, x, SIGSTOP, ACT_IGNORE, 0, 0, &err[3])))
		return rc;
	L->refused_kill = err[0];
	L->refused_stop = err[2];
	/* what the kernel took: still the SIGTERM handler alone */
	if ((rc = expect_mask(r, x, PSIG_CGT, bit(SIGTERM),
			       bit(SIGKILL) | bit(SIGSTOP))) != 0 ||
	    (rc = expect_mask(r, x, PSIG_IGN, 0,
			       bit(SIGKILL) | bit(SIGSTOP))) != 0)
		return rc;
	claim(r, "signal-term-catchable",
	      L->refused_kill == EINVAL && L->term_runs == 1 &&
	      L->term_state == 'S' ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("term_runs", L->term_runs),
		     F_CHAR("term_state", L->term_state),
		     F_STR("kill_errno", L->refused_kill
			   ? strerrorname_np(L->refused_kill) : "none")));
	for (int i = 0; i < 4; i++)
		if (err[i] != EINVAL)
			return pl_fail(r, "expected sigaction to refuse %s "
				       "with EINVAL; it returned %s",
				       i < 2 ? "SIGKILL" : "SIGSTOP",
				       err[i] ? strerrorname_np(err[i]) : "0");
	return PL_EXIT_OK;
}

static int stage_pending(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	unsigned long long both = bit(SIGUSR1) | bit(SIGUSR2);
	int rc, err1, err2;
	struct agent_msg m;

	if ((rc = set_action(r, x, SIGUSR1, ACT_HANDLER, 0, 0, &err1)) ||
	    (rc = set_action(r, x, SIGUSR2, ACT_HANDLER, 0, 0, &err2)))
		return rc;
	if (err1 || err2)
		return pl_fail(r, "expected sigaction(SIGUSR1/2, handler) to "
			       "succeed");
	if ((rc = set_mask(r, x, SIG_BLOCK, both, &m)) != 0 ||
	    (rc = expect_mask(r, x, PSIG_BLK, both, 0)) != 0 ||
	    (rc = send_sig(r, x, SIGUSR1, 1)) != 0)
		return rc;
	/* raise() is tgkill(): a signal for the thread, not the process */
	if ((rc = agent_do(r, x->a, OP_RAISE, SIGUSR2, &m)) != 0)
		return rc;
	emit(r, "raise", FIELDS(F_PID("pid", x->a->pid),
				F_STR("signal", "SIGUSR2"), F_INT("rc", m.v[0]),
				F_TEXT("role", x->a->role)));
	if (m.v[2] != x->runs)
		return pl_fail(r, "expected no handler to run while SIGUSR1 "
			       "and SIGUSR2 are blocked; %lld ran",
			       (long long)m.v[2] - x->runs);
	if ((rc = expect_mask(r, x, PSIG_SHDPND, bit(SIGUSR1), both)) != 0)
		return rc;
	return expect_mask(r, x, PSIG_PND, bit(SIGUSR2), both);
}

static int stage_unblock(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	unsigned long long both = bit(SIGUSR1) | bit(SIGUSR2);
	int counts[65] = { 0 }, rc;
	struct agent_msg m;

	if ((rc = set_mask(r, x, SIG_UNBLOCK, both, &m)) != 0 ||
	    (rc = hear_handlers(r, x, m.v[2], counts)) != 0)
		return rc;
	delivered(r, x, SIGUSR1, 1, counts[SIGUSR1], N_("delivered on unblock"));
	delivered(r, x, SIGUSR2, 1, counts[SIGUSR2], N_("delivered on unblock"));
	if (counts[SIGUSR1] != 1 || counts[SIGUSR2] != 1)
		return pl_fail(r, "expected one handler run each for SIGUSR1 "
			       "and SIGUSR2 on unblock; saw %d and %d",
			       counts[SIGUSR1], counts[SIGUSR2]);
	if ((rc = expect_mask(r, x, PSIG_SHDPND, 0, both)) != 0 ||
	    (rc = expect_mask(r, x, PSIG_PND, 0, both)) != 0)
		return rc;
	return expect_mask(r, x, PSIG_BLK, 0, both);
}

static int stage_coalesce(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	int rt = SIGRTMIN, rc, err;
	unsigned long long both = bit(SIGUSR1) | bit(rt);
	struct agent_msg m;

	if ((rc = set_action(r, x, rt, ACT_HANDLER, 0, 0, &err)) != 0)
		return rc;
	if (err)
		return pl_fail(r, "expected sigaction(SIGRTMIN, handler) to "
			       "succeed; it failed with %s",
			       strerrorname_np(err));
	if ((rc = set_mask(r, x, SIG_BLOCK, both, &m)) != 0 ||
	    (rc = send_sig(r, x, SIGUSR1, 3)) != 0 ||
	    (rc = send_sig(r, x, rt, 3)) != 0 ||
	    (rc = expect_mask(r, x, PSIG_SHDPND, both, 0)) != 0)
		return rc;
	return PL_EXIT_OK;
}

static int stage_deliver(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	int rt = SIGRTMIN, counts[65] = { 0 }, rc;
	unsigned long long both = bit(SIGUSR1) | bit(rt);
	struct agent_msg m;

	if ((rc = set_mask(r, x, SIG_UNBLOCK, both, &m)) != 0 ||
	    (rc = hear_handlers(r, x, m.v[2], counts)) != 0)
		return rc;
	delivered(r, x, SIGUSR1, 3, counts[SIGUSR1], counts[SIGUSR1] == 1
		  ? N_("a standard signal is one pending bit: the repeats were "
		    "lost") : N_("each one arrived"));
	delivered(r, x, rt, 3, counts[rt], counts[rt] == 3
		  ? N_("real-time signals queue: each one arrived")
		  : N_("some were lost"));
	if (counts[SIGUSR1] != 1 || counts[rt] != 3)
		return pl_fail(r, "expected SIGUSR1 once and SIGRTMIN three "
			       "times; the handlers ran %d and %d times",
			       counts[SIGUSR1], counts[rt]);
	return PL_EXIT_OK;
}

/* The catcher calls clone(CLONE_VM|CLONE_VFORK): it waits in D for its
 * vfork child, which blocks in read(2) until released.  *vchild gets the
 * child, tracked and watched. */
static int vfork_hold(struct run *r, struct actor *x, struct actor *vchild)
{
	struct agent_msg m;
	int rc, fd;

	if ((rc = agent_do(r, x->a, AGENT_OP_VFORK, 0, &m)) != 0)
		return rc;
	if (m.v[0] <= 0 || m.v[1] != x->a->pid) {
		pl_warnx(r, "the catcher did not say its vfork child's pid");
		return PL_EXIT_FAIL;
	}
	if (pl_track(r, (pid_t)m.v[0], &fd) < 0)
		return PL_EXIT_FAIL;
	kid_set_role(r, (pid_t)m.v[0], "vfork-child");
	vchild->w = obs_add(r, (pid_t)m.v[0], fd, "vfork-child");
	if (vchild->w == NULL)
		return PL_EXIT_FAIL;
	if (obs_await(r, vchild->w, "S", "the vfork child blocks in read(2) "
		      "until proclab releases it"))
		return PL_EXIT_FAIL;
	return obs_await(r, x->w, "D", "waits in the kernel for its vfork "
			 "child to exit or exec: uninterruptible (killable)");
}

static int stage_d_pending(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	unsigned long long pend;
	char state;
	int rc;

	if ((rc = vfork_hold(r, x, &L->vchild)) != 0 ||
	    (rc = send_sig(r, x, SIGUSR1, 1)) != 0 ||
	    (rc = show_mask(r, x, PSIG_SHDPND, &pend, &state)) != 0)
		return rc;
	emit(r, "pending", FIELDS(F_PID("pid", x->a->pid),
				  F_STR("signal", "SIGUSR1"),
				  F_BOOL("pending", pend & bit(SIGUSR1)),
				  F_CHAR("state", state),
				  F_TEXT("role", x->a->role),
				  F_TEXT("state_name",
					 pl_state_name(state))));
	if (state != 'D' || !(pend & bit(SIGUSR1)))
		return pl_fail(r, "expected SIGUSR1 pending and the catcher "
			       "still D; /proc showed %c, ShdPnd %#llx",
			       state, pend);
	L->d_state = state;
	return PL_EXIT_OK;
}

static int stage_d_release(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher;
	int counts[65] = { 0 }, rc;

	/* release: the vfork child exits, the caller leaves D and the
	 * pending signal is delivered on its way back to user space */
	if ((rc = agent_send(r, x->a, AGENT_OP_RELEASE,
			     (const int64_t[AGENT_ARGS]){ 0 })) != 0 ||
	    (rc = hear_handlers(r, x, x->runs + 1, counts)) != 0)
		return rc;
	if (obs_await(r, L->vchild.w, "X", "exited and was reaped by the "
		      "catcher"))
		return PL_EXIT_FAIL;
	if (obs_await(r, x->w, "S", "out of D; its handler ran, then it "
		      "blocked in read(2) again"))
		return PL_EXIT_FAIL;
	delivered(r, x, SIGUSR1, 1, counts[SIGUSR1], N_("delivered when the "
		  "D ended, not before"));
	claim(r, "signal-d-delivered-later",
	      counts[SIGUSR1] == 1 ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_CHAR("state", L->d_state),
		     F_INT("received", counts[SIGUSR1])));
	if (counts[SIGUSR1] != 1)
		return pl_fail(r, "expected the SIGUSR1 handler to run once "
			       "after the release; it ran %d times",
			       counts[SIGUSR1]);
	return PL_EXIT_OK;
}

static int stage_d_kill(struct run *r)
{
	struct siglab *L = run_state(r);
	struct actor *x = &L->catcher, v = { 0 };
	long long t0, ms;
	int rc, status;

	/* the vfork child will be orphaned: to proclab, to be reaped here
	 * rather than by PID 1 in its own time */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0) {
		pl_warnx(r, "cannot become a child subreaper: %s",
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	if ((rc = vfork_hold(r, x, &v)) != 0)
		return rc;
	t0 = pl_now_ms();
	if ((rc = send_sig(r, x, SIGKILL, 1)) != 0)
		return rc;
	if (obs_await(r, x->w, "Z", "SIGKILL ended it in D: the vfork wait "
		      "is killable"))
		return PL_EXIT_FAIL;
	ms = pl_now_ms() - t0;
	emit(r, "killed_in_d", FIELDS(F_PID("pid", x->a->pid),
				      F_STR("signal", "SIGKILL"),
				      F_CHAR("before", 'D'),
				      F_CHAR("after", x->w->state),
				      F_MEAS("ms", ms),
				      F_TEXT("role", x->a->role)));
	claim(r, "signal-d-ignores-all",
	      x->w->state == 'Z' ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_CHAR("after", x->w->state), F_MEAS("ms", ms)));
	if (pl_waitpid(r, x->a->pid, x->a->role, &status) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, x->w, "X", "reaped by proclab: its /proc entry is "
		      "gone"))
		return PL_EXIT_FAIL;
	/* its parent-death signal ends the orphaned vfork child */
	if (obs_await(r, v.w, "Z", "orphaned, adopted by proclab (a "
		      "subreaper) and killed by its parent-death signal"))
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, v.w->pid, "vfork-child", &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, v.w, "X", "reaped by proclab: its /proc entry is "
			 "gone");
}

/* The four SIGCHLD stages, in this order. */
enum chld_stage { CS_ONCE, CS_LOOP, CS_IGNORE, CS_NOCLDWAIT };

static int sigchld_stage(struct run *r, enum chld_stage cs)
{
	static const char *const disp[] = {
		N_("a handler that calls wait() once"),
		N_("a handler that loops on waitpid(WNOHANG)"),
		"SIG_IGN", N_("a handler with SA_NOCLDWAIT"),
	};
	struct siglab *L = run_state(r);
	struct actor p = { 0 }, kid[SIG_MAX_CHILDREN];
	bool block = cs != CS_IGNORE, reap = cs == CS_ONCE || cs == CS_LOOP;
	int rc, err, zombies = 0, n = L->n;
	long long runs, reaped;
	struct agent_msg m;
	struct agent *pa;

	memset(kid, 0, sizeof(kid));
	if ((pa = agent_new(r, "parent")) == NULL)
		return PL_EXIT_FAIL;
	for (int i = 0; i < n; i++) {
		kid[i].a = agent_plan_child(r, pa, L->role[i]);
		if (kid[i].a == NULL)
			return PL_EXIT_FAIL;
		agent_set_name(kid[i].a, "child");
	}
	if ((rc = actor_start(r, &p, pa, "parent")) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if ((rc = agent_fork(r, pa, kid[i].a, NULL, NULL)) != 0)
			return rc;
		kid[i].w = obs_add(r, kid[i].a->pid, kid[i].a->pidfd,
				   L->role[i]);
		if (kid[i].w == NULL)
			return PL_EXIT_FAIL;
	}
	for (int i = 0; i < n; i++)
		if (obs_await(r, kid[i].w, "S", "blocks in read(2) until "
			      "proclab sends a command"))
			return PL_EXIT_FAIL;
	if ((rc = set_action(r, &p, SIGCHLD,
			     cs == CS_IGNORE ? ACT_IGNORE : ACT_HANDLER,
			     cs == CS_NOCLDWAIT ? SA_NOCLDWAIT : 0,
			     cs == CS_ONCE ? CHLD_WAIT_ONCE
			     : cs == CS_LOOP ? CHLD_WAIT_LOOP : CHLD_COUNT,
			     &err)) != 0)
		return rc;
	if (err)
		return pl_fail(r, "expected sigaction(SIGCHLD) to succeed; it "
			       "failed with %s", strerrorname_np(err));
	if (block && (rc = set_mask(r, &p, SIG_BLOCK, bit(SIGCHLD), &m)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		int64_t zero[AGENT_ARGS] = { 0, 0, 0, 0 };

		if ((rc = agent_send(r, kid[i].a, AGENT_OP_EXIT, zero)) != 0)
			return rc;
	}
	for (int i = 0; i < n; i++)
		if (obs_await(r, kid[i].w, reap ? "Z" : "X", reap
			      ? N_("exited; {ppid} has not waited for it")
			      : N_("released at exit: no zombie to wait for")))
			return PL_EXIT_FAIL;
	if (block) {
		/* every child has exited: one SIGCHLD pending, however many */
		if ((rc = expect_mask(r, &p, PSIG_SHDPND, bit(SIGCHLD),
					0)) != 0 ||
		    (rc = set_mask(r, &p, SIG_UNBLOCK, bit(SIGCHLD), &m)) != 0)
			return rc;
		runs = m.v[2], reaped = m.v[3];
	} else {
		if ((rc = agent_do(r, p.a, OP_PING, 0, &m)) != 0)
			return rc;
		runs = m.v[0], reaped = m.v[1];
	}
	if ((rc = hear_handlers(r, &p, runs, NULL)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		char s = obs_sample(r, kid[i].w, "XZ", "reaped by the handler's "
				    "wait call: its /proc entry is gone");

		zombies += s == 'Z';
	}
	L->zombies[cs] = zombies;
	L->chld_runs[cs] = (int)runs;
	emit(r, "coalesce", FIELDS(F_PID("pid", p.a->pid),
				   F_WORDS("disposition", disp[cs]),
				   F_INT("children", n),
				   F_INT("handler_calls", runs),
				   F_INT("reaped", reaped),
				   F_INT("zombies_left", zombies),
				   F_TEXT("role", p.a->role)));
	if (zombies > 0) {
		/* leave none: the parent collects the rest */
		if ((rc = agent_do(r, p.a, OP_REAP_ALL, 0, &m)) != 0)
			return rc;
		emit(r, "cleanup", FIELDS(F_PID("pid", p.a->pid),
					  F_INT("reaped", m.v[0]),
					  F_TEXT("role", p.a->role)));
		for (int i = 0; i < n; i++)
			if (obs_await(r, kid[i].w, "X", "reaped by the "
				      "parent's waitpid loop"))
				return PL_EXIT_FAIL;
	}
	if ((rc = actor_end(r, &p)) != 0)
		return rc;
	if ((cs == CS_ONCE && (runs != 1 || zombies != n - 1)) ||
	    (cs != CS_ONCE && zombies != 0) ||
	    (block && runs != 1) || (!block && runs != 0))
		return pl_fail(r, "expected %s: %s handler run and %d zombies; "
			       "saw %lld runs and %d zombies", disp[cs],
			       block ? "one" : "no",
			       cs == CS_ONCE ? n - 1 : 0, runs, zombies);
	return PL_EXIT_OK;
}

static int stage_chld_once(struct run *r)
{
	return sigchld_stage(r, CS_ONCE);
}

static int stage_chld_loop(struct run *r)
{
	return sigchld_stage(r, CS_LOOP);
}

static int stage_chld_ignore(struct run *r)
{
	return sigchld_stage(r, CS_IGNORE);
}

static int stage_chld_nocldwait(struct run *r)
{
	struct siglab *L = run_state(r);
	int rc = sigchld_stage(r, CS_NOCLDWAIT);

	if (rc != 0)
		return rc;
	/* the article: only SIG_IGN spares the zombies, a handler never */
	claim(r, "sigchld-only-ign",
	      L->zombies[CS_NOCLDWAIT] == 0 || L->zombies[CS_LOOP] == 0
	      ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("ign_zombies", L->zombies[CS_IGNORE]),
		     F_INT("nocldwait_zombies", L->zombies[CS_NOCLDWAIT]),
		     F_INT("nocldwait_runs", L->chld_runs[CS_NOCLDWAIT]),
		     F_INT("loop_zombies", L->zombies[CS_LOOP]),
		     F_INT("once_zombies", L->zombies[CS_ONCE])));
	return PL_EXIT_OK;
}

static const struct sentence signal_sentences[] = {
	/* pid, signal, action, flags, rc, errno; text only: role, with,
	 * verb, error */
	{ "action", NULL, "{role} {pid} sets {signal} to {action_text}{with}: "
	  "sigaction returned 0", NULL, NULL },
	{ "action", "refused", "{role} {pid} asks to {verb} {signal}: "
	  "sigaction returned {rc}, {errno} ({error})", NULL, NULL },
	/* pid, how, signals, rc */
	{ "mask", NULL, "{role} {pid} calls sigprocmask({how}, {signals}): "
	  "returned {rc}", NULL, NULL },
	/* pid, field, raw, signals */
	{ "sigmask", NULL, "{role} {pid}: /proc status {field} {raw} = "
	  "{list}", NULL, NULL },
	{ "sigmask", "empty", "{role} {pid}: /proc status {field} {raw} = "
	  "no signal", NULL, NULL },
	/* pid, signal, count */
	{ "sent", NULL, "proclab sends {signal} to {role} {pid}",
	  "proclab sends {signal} to {role} {pid}, {count} times", "count" },
	/* pid, signal, rc */
	{ "raise", NULL, "{role} {pid} calls raise({signal}): returned {rc} "
	  "(tgkill: pending for the thread)", NULL, NULL },
	/* pid, signal, call, code, reaped */
	{ "handler", NULL, "{role} {pid} ran its {signal} handler (call "
	  "{call}, si_code {code})", NULL, NULL },
	{ "handler", "sigchld", "{role} {pid} ran its {signal} handler (call "
	  "{call}); its wait calls collected {reaped}", NULL, NULL },
	/* pid, signal, state */
	{ "survived", NULL, "{role} {pid} answers proclab after {signal} and "
	  "/proc shows {state} ({state_name}): {why}", NULL, NULL },
	/* pid, signal, sent, received; text only: meaning */
	{ "delivered", NULL, "{signal} to {role} {pid}: sent {sent}, handler "
	  "runs {received}: {meaning}", NULL, NULL },
	/* pid, signal, pending, state */
	{ "pending", NULL, "{signal} stays pending for {role} {pid}, which "
	  "/proc still shows {state} ({state_name})", NULL, NULL },
	/* pid, signal, before, after, ms */
	{ "killed_in_d", NULL, "{signal} took {role} {pid} from {before} to "
	  "{after} in {ms} ms", NULL, NULL },
	/* pid, disposition, children, handler_calls, reaped, zombies_left */
	{ "coalesce", NULL, "{disposition}: {children} children exited, "
	  "handler runs {handler_calls}, reaped by {role} {pid} "
	  "{reaped}, zombies left {zombies_left}", NULL, NULL },
	/* pid, reaped */
	{ "cleanup", NULL, "{role} {pid} reaps the zombies left with a "
	  "waitpid(WNOHANG) loop: {reaped}", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage signal_stages[] = {
	{ "default", "SIGTERM to a child that left it at its default action",
	  stage_default, NULL, NULL, NULL },
	{ "ignore", "SIGTERM to a child that ignores it (SIG_IGN)",
	  stage_ignore, NULL, NULL, NULL },
	{ "catch", "SIGTERM to a child with a handler for it", stage_catch,
	  NULL, NULL, NULL },
	{ "refuse", "the catcher asks sigaction to catch, then ignore, "
	  "SIGKILL and SIGSTOP", stage_refuse, NULL, NULL, NULL },
	{ "pending", "the catcher blocks SIGUSR1 and SIGUSR2; proclab sends "
	  "one, the catcher raises the other", stage_pending, NULL, NULL,
	  NULL },
	{ "unblock", "the catcher unblocks SIGUSR1 and SIGUSR2", stage_unblock,
	  NULL, NULL, NULL },
	{ "coalesce", "three SIGUSR1 and three SIGRTMIN to the catcher while "
	  "it blocks both", stage_coalesce, NULL, NULL, NULL },
	{ "deliver", "the catcher unblocks SIGUSR1 and SIGRTMIN",
	  stage_deliver, NULL, NULL, NULL },
	{ "d-pending", "SIGUSR1 to the catcher while it waits in D for its "
	  "vfork child", stage_d_pending, NULL, NULL, NULL },
	{ "d-release", "proclab releases the vfork child: the catcher leaves "
	  "D", stage_d_release, NULL, NULL, NULL },
	{ "d-kill", "SIGKILL to the catcher while it waits in D again",
	  stage_d_kill, NULL, NULL, NULL },
	{ "sigchld-once", "{children} children exit while their parent "
	  "blocks SIGCHLD; its handler calls wait() once", stage_chld_once,
	  NULL, NULL, NULL },
	{ "sigchld-loop", "{children} children exit while their parent "
	  "blocks SIGCHLD; its handler loops on waitpid(-1, WNOHANG)",
	  stage_chld_loop, NULL, NULL, NULL },
	{ "sigchld-ignore", "{children} children exit; their parent set "
	  "SIGCHLD to SIG_IGN", stage_chld_ignore, NULL, NULL, NULL },
	{ "sa-nocldwait", "{children} children exit while their parent "
	  "blocks SIGCHLD; its handler was set with SA_NOCLDWAIT",
	  stage_chld_nocldwait, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

static int signal_run(struct run *r)
{
	struct siglab *L = run_state(r);
	const struct agent_config cfg = { signal_ops, L, NULL };

	L->n = (int)opt_val(r, "children");
	for (int i = 0; i < L->n; i++)
		snprintf(L->role[i], sizeof(L->role[i]), "child%d", i + 1);
	return agent_init(r, &cfg);
}

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary signal_vary[] = {
	{ "children", 2, 5 },
	{ NULL, 0, 0 },
};

const struct lab lab_signal = {
	.name = "signal",
	.summary = "caught, ignored, blocked, coalesced; in D; SIGCHLD, zombies",
	.description =
		"A child meets SIGTERM at its default action (killed), ignored "
		"(still S)\nand caught (its handler ran).  sigaction refuses "
		"SIGKILL and SIGSTOP.\nBlocked signals show in /proc/PID/status "
		"(ShdPnd for kill, SigPnd for\nraise, SigBlk) and are "
		"delivered on unblock; three SIGUSR1 arrive once,\nthree "
		"SIGRTMIN three times.  A signal to a vfork caller in D waits "
		"for\nthe D to end, but SIGKILL ends it at once.  Children "
		"exit while their\nparent blocks SIGCHLD: one delivery; a "
		"handler that waits once leaves\nzombies, a waitpid loop, "
		"SIG_IGN and SA_NOCLDWAIT leave none.",
	.options = signal_options,
	.run = signal_run,
	.sentences = signal_sentences,
	.stages = signal_stages,
	.state_size = sizeof(struct siglab),
	.vary = signal_vary,
};
