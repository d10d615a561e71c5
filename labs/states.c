/* states.c - one process through every state /proc shows.
 *
 * Stages: run (R) -> sleep (S) -> vfork (D: the caller of a vfork whose
 * child blocks) -> stop (SIGSTOP sent while in D waits; T once released)
 * -> trace (SIGCONT, then PTRACE_SEIZE + PTRACE_INTERRUPT: t) -> resume
 * (PTRACE_DETACH, then spinning: R again) -> exit (Z) -> reap (X).
 * Where ptrace is refused, the trace stage says so and shows nothing, and
 * resume has nothing to detach.  Every sentence is in states_sentences.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

static int send(struct run *r, const struct puppet *kid, int sig)
{
	if (pl_kill(r, kid->pid, sig) == 0)
		return 0;
	pl_warnx(r, "cannot send %s to %d: %s", wstatus_signame(sig).s,
		 (int)kid->pid, strerror(errno));
	return -1;
}

/* The kernel function a process waits in, as /proc/PID/wchan names it
 * (the observer re-reads a "0" until it names one: obs_probe()). */
static void show_wchan(struct run *r, struct watched *w)
{
	struct probe p;

	if (obs_probe(r, w, &p) != PROC_OK)
		return;
	emit_form(r, "wchan", p.wchan[0] == '\0' ? "unreadable"
			      : p.on_cpu ? "running" : NULL,
		  FIELDS(F_PID("pid", w->pid), F_MEAS("wchan", p.wchan),
			 F_CHAR("state", w->state), F_TEXT("role", w->role)));
}

/* What one run keeps between its stages. */
struct states {
	struct puppet kid;
	struct watched *w;      /* the child */
	struct watched *v;      /* its vfork child */
	bool traced;            /* PTRACE_SEIZE worked: the trace stage ran */
};

static int stage_run(struct run *r)
{
	struct states *s = run_state(r);

	if (puppet_spawn(r, &s->kid, "child") < 0)
		return PL_EXIT_FAIL;
	s->w = obs_add(r, s->kid.pid, s->kid.pidfd, "child");
	if (s->w == NULL || puppet_do(r, &s->kid, PUP_SPIN, 0) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, s->w, "R", "runnable: on a CPU or queued for one; "
			 "Linux has no separate \"ready\" letter");
}

static int stage_sleep(struct run *r)
{
	struct states *s = run_state(r);

	if (puppet_do(r, &s->kid, PUP_SLEEP, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, s->w, "S", "an interruptible sleep: it waits for a "
		      "byte, and a signal can wake it"))
		return PL_EXIT_FAIL;
	show_wchan(r, s->w);
	return PL_EXIT_OK;
}

static int stage_vfork(struct run *r)
{
	struct states *s = run_state(r);
	struct watched *w = s->w;

	if (puppet_do(r, &s->kid, PUP_VFORK, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "D", "suspended in vfork until its child exits "
		      "or execs: an uninterruptible wait, and no disk at all"))
		return PL_EXIT_FAIL;
	/* watched from here, so that its first sight is its own stage */
	s->v = obs_add(r, s->kid.vchild, s->kid.vchild_pidfd, "vforked");
	if (s->v == NULL)
		return PL_EXIT_FAIL;
	if (obs_await(r, s->v, "S", "borrows the memory of its parent {ppid} "
		      "and blocks in read(2); {ppid} cannot run until it "
		      "ends"))
		return PL_EXIT_FAIL;
	show_wchan(r, w);
	return PL_EXIT_OK;
}

/* states-stop-in-d: "SIGSTOP to a process in D has no effect".  It is held
 * pending, and stops the process the moment it leaves D. */
static int stage_stop(struct run *r)
{
	struct states *s = run_state(r);
	struct watched *w = s->w;
	char in_d;

	if (send(r, &s->kid, SIGSTOP) < 0)
		return PL_EXIT_FAIL;
	in_d = obs_sample(r, w, "D", NULL);
	emit(r, "signal", FIELDS(F_PID("pid", w->pid),
				 F_STR("signame", "SIGSTOP"), F_CHAR("state", in_d),
				 F_TEXT("name", pl_state_name(in_d))));
	if (in_d != 'D') {
		char note[128];

		return pl_fail(r, "expected %s %d to stay D after SIGSTOP; "
			       "/proc showed %c%s", w->role, (int)w->pid, in_d,
			       obs_end_note(w, note, sizeof(note)));
	}
	if (puppet_do(r, &s->kid, PUP_RELEASE, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "T", "stopped by SIGSTOP, which waited while "
		      "it was in D and took effect as it left; only SIGCONT "
		      "(or SIGKILL) moves it now"))
		return PL_EXIT_FAIL;
	/* the signal stayed pending and stopped it as soon as it left D */
	claim(r, "states-stop-in-d",
	      in_d == 'D' && w->state == 'T' ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_CHAR("state_after_signal", in_d),
		     F_CHAR("state_after_release", w->state)));
	return PL_EXIT_OK;
}

/* Two claims on t: states-t-is-T says T and traced are one state,
 * states-t-swapped that t means "suspended", its code and data moved out
 * to swap. */
static void trace_claims(struct run *r, struct watched *w)
{
	struct probe p;
	long long rss;
	pid_t tracer;

	if (obs_probe(r, w, &p) != PROC_OK)
		return;
	rss = p.status_ok && (p.ps.has & PS_VMRSS) ? p.ps.vmrss_kb : -1;
	tracer = p.status_ok && (p.ps.has & PS_TRACER) ? p.ps.tracer : -1;
	/* two letters, and only the tracer can resume a t */
	claim(r, "states-t-is-T",
	      strchr(w->trail, 'T') != NULL && w->state == 'T' ? CLAIM_HOLDS
								: CLAIM_FAILS,
	      FIELDS(F_MEAS("trail", w->trail), F_CHAR("state", w->state)));
	/* t is a ptrace stop: the memory stays */
	claim(r, "states-t-swapped",
	      rss < 0 ? CLAIM_DEPENDS : rss == 0 ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("tracer", tracer),
		     rss >= 0 ? F_MEAS("vmrss_kb", rss) : F_NULL("vmrss_kb")));
}

/* Where ptrace is refused (EPERM, EACCES) the stage says so and goes on
 * without a t; s->traced tells the next stage which it was. */
static int stage_trace(struct run *r)
{
	struct states *s = run_state(r);
	struct watched *w = s->w;
	pid_t pid = s->kid.pid;
	struct wstatus ws;
	int status;
	pid_t got;

	if (send(r, &s->kid, SIGCONT) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, s->v, "X", "reaped by its parent, the child, which "
		      "SIGCONT let run again"))
		return PL_EXIT_FAIL;
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		int e = errno;

		emit_form(r, "ptrace", "refused",
			  FIELDS(F_PID("pid", pid),
				 F_STR("request", "PTRACE_SEIZE"),
				 F_BOOL("ok", false), F_INT("errno", e),
				 F_STR("error", strerrorname_np(e)),
				 F_TEXT("role", w->role),
				 F_TEXT("message", strerror(e))));
		if (e == EPERM || e == EACCES)
			return PL_EXIT_OK;
		return pl_fail(r, "expected PTRACE_SEIZE of %d to succeed "
			       "or be refused; it failed with %s",
			       (int)pid, strerrorname_np(e));
	}
	s->traced = true;
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
		pl_warnx(r, "PTRACE_INTERRUPT %d: %s", (int)pid,
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	emit(r, "ptrace", FIELDS(F_PID("pid", pid),
				 F_STR("request", "PTRACE_INTERRUPT"),
				 F_BOOL("ok", true), F_TEXT("role", w->role)));
	if (obs_await(r, w, "t", "in a tracing stop: it waits for its "
		      "tracer, not for SIGCONT"))
		return PL_EXIT_FAIL;
	/* the stop is recorded (under the same lock as the state), so a
	 * wait that does not block finds it */
	do
		got = waitpid(pid, &status, WNOHANG | __WALL);
	while (got < 0 && errno == EINTR);
	if (got != pid)
		return pl_fail(r, "expected waitpid(%d, __WALL) to report the "
			       "tracing stop; it returned %d", (int)pid,
			       (int)got);
	wstatus_decode(status, &ws);
	emit_wstatus(r, pid, w->role, "waitpid", &ws);
	emit_form(r, "ptrace-stop", status >> 16 == PTRACE_EVENT_STOP ? NULL
								    : "other",
		  FIELDS(F_PID("pid", pid), F_INT("stop_event", status >> 16)));
	trace_claims(r, w);
	return PL_EXIT_OK;
}

static int stage_resume(struct run *r)
{
	struct states *s = run_state(r);

	if (s->traced && ptrace(PTRACE_DETACH, s->kid.pid, NULL, NULL) < 0) {
		pl_warnx(r, "PTRACE_DETACH %d: %s", (int)s->kid.pid,
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (puppet_do(r, &s->kid, PUP_SPIN, 0) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, s->w, "R", "running again: no tracer, no stop; "
			 "told to spin, it loops on the CPU");
}

static int stage_exit(struct run *r)
{
	struct states *s = run_state(r);

	if (puppet_do(r, &s->kid, PUP_EXIT, (int)opt_val(r, "code")) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, s->w, "Z", "a zombie: it has exited, and its "
			 "parent {ppid} has not waited; only its pid and exit "
			 "status are left");
}

static int stage_reap(struct run *r)
{
	struct watched *w = ((struct states *)run_state(r))->w;
	int status;

	if (pl_waitpid(r, w->pid, w->role, &status) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "X", "released: the status was collected and "
		      "/proc/PID is gone"))
		return PL_EXIT_FAIL;
	emit(r, "observed", FIELDS(F_PID("pid", w->pid),
				   F_MEAS("trail", w->trail),
				   F_TEXT("role", w->role)));
	return PL_EXIT_OK;
}

static const struct stage states_stages[] = {
	{ "run", "proclab forks a child that spins in a loop",
	  stage_run, NULL, NULL, NULL },
	{ "sleep", "the child calls read(2) on an empty pipe",
	  stage_sleep, NULL, NULL, NULL },
	{ "vfork", "the child calls vfork (clone with CLONE_VM|CLONE_VFORK); "
	  "its own child calls read(2)", stage_vfork, NULL, NULL, NULL },
	{ "stop", "SIGSTOP while the child is in D, then its vfork child "
	  "exits", stage_stop, NULL, NULL, NULL },
	{ "trace", "SIGCONT; then proclab attaches as the child's tracer "
	  "(PTRACE_SEIZE) and stops it (PTRACE_INTERRUPT)", stage_trace,
	  NULL, NULL, NULL },
	{ "resume", "proclab lets go of the child (PTRACE_DETACH, if it "
	  "traced it) and tells it to spin again", stage_resume, NULL, NULL,
	  NULL },
	{ "exit", "the child calls _exit",
	  stage_exit, NULL, NULL, NULL },
	{ "reap", "the parent calls waitpid()",
	  stage_reap, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

static const struct sentence states_sentences[] = {
	/* pid, wchan, state; text only: role */
	{ "wchan", NULL, "{role} {pid} ({state}) waits in the kernel function "
	  "{wchan}", NULL, NULL },
	{ "wchan", "unreadable", "{role} {pid} ({state}) waits in a kernel "
	  "function its wchan does not show (unreadable)", NULL, NULL },
	{ "wchan", "running", "{role} {pid} shows {state}, but its wchan named "
	  "no kernel function (it read {wchan} for 100 ms): it was still on "
	  "its way off the CPU", NULL, NULL },
	/* pid, signame, state; text only: name (of the state) */
	{ "signal", NULL, "kill({pid}, {signame}) succeeded; right after, "
	  "/proc shows {state} ({name})", NULL, NULL },
	/* pid, request, ok; text only: role */
	{ "ptrace", NULL, "PTRACE_SEIZE and {request} on {role} {pid} "
	  "succeeded: proclab is its tracer", NULL, NULL },
	/* pid, request, ok, errno, error; text only: role, message */
	{ "ptrace", "refused", "{request} of {role} {pid} refused: {error} "
	  "({message}); a security policy (Yama, seccomp, a container) "
	  "forbids tracing here, so there is no t to show", NULL, NULL },
	/* pid, stop_event */
	{ "ptrace-stop", NULL, "the ptrace event in the status (status >> 16) "
	  "is {stop_event}: PTRACE_EVENT_STOP, the stop PTRACE_INTERRUPT "
	  "asked for", NULL, NULL },
	{ "ptrace-stop", "other", "the ptrace event in the status (status >> "
	  "16) is {stop_event}, not PTRACE_EVENT_STOP, the stop "
	  "PTRACE_INTERRUPT asks for", NULL, NULL },
	/* pid, trail; text only: role */
	{ "observed", NULL, "every letter /proc showed for {role} {pid}, in "
	  "order, those caught in passing too: {trail}", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct lab_option states_options[] = {
	{ "code", "N", 0, 255, 0, "the exit code the child passes to _exit" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary states_vary[] = {
	{ "code", 1, 125 },
	{ NULL, 0, 0 },
};

const struct lab lab_states = {
	.name = "states",
	.summary = "one process through R S D T t, running again, Z and X",
	.description =
		"One child is taken through every state Linux shows in "
		"/proc/PID/stat: it\nspins (R), blocks in read(2) (S), calls "
		"vfork and waits for its child (D),\nis stopped by SIGSTOP (T), "
		"stopped by proclab as its tracer (t), runs\nagain (R), exits "
		"(Z) and is reaped (X).  Each state is read from /proc as\nit "
		"happens, with a line on what it means.  Where ptrace is "
		"refused, the\nt stage says so and is skipped.",
	.sentences = states_sentences,
	.stages = states_stages,
	.state_size = sizeof(struct states),
	.options = states_options,
	.vary = states_vary,
};
