/* states.c - one process through every state /proc shows.
 *
 * Stages: run (R) -> sleep (S) -> vfork (D: the caller of a vfork whose
 * child blocks) -> stop (SIGSTOP sent while in D waits; T once released)
 * -> trace (SIGCONT, then PTRACE_SEIZE + PTRACE_INTERRUPT: t) -> resume
 * (PTRACE_DETACH, then spinning: R again) -> exit (Z) -> reap (X).
 * Where ptrace is refused, the trace stage says so and shows nothing.
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

/* The kernel function a process waits in, as /proc/PID/wchan names it. */
static void show_wchan(struct run *r, struct watched *w)
{
	struct probe p;

	if (obs_probe(r, w, &p) != PROC_OK)
		return;
	emitf(r, "wchan", FIELDS(F_PID("pid", w->pid), F_MEAS("wchan", p.wchan),
				F_CHAR("state", w->state)),
	     "%s %d (%c) waits in the kernel function %s", w->role,
	     (int)w->pid, w->state, p.wchan[0] ? p.wchan : "(unreadable)");
}

static int stage_vfork(struct run *r, struct puppet *kid, struct watched *w,
		       struct watched **vp)
{
	struct watched *v;

	stage(r, "vfork", "the child calls vfork (clone with CLONE_VM|"
	      "CLONE_VFORK); its own child blocks in read(2)");
	if (puppet_do(r, kid, PUP_VFORK, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "D", "suspended in vfork until its child exits "
		      "or execs: an uninterruptible wait, and no disk at all"))
		return PL_EXIT_FAIL;
	/* watched from here, so that its first sight is its own stage */
	v = obs_add(r, kid->vchild, kid->vchild_pidfd, "vforked");
	if (v == NULL)
		return PL_EXIT_FAIL;
	if (obs_await(r, v, "S", "borrows its parent's memory and blocks "
		      "in read(2); its parent cannot run until it ends"))
		return PL_EXIT_FAIL;
	show_wchan(r, w);
	*vp = v;
	return PL_EXIT_OK;
}

/* states-stop-in-d: "SIGSTOP to a process in D has no effect".  It is held
 * pending, and stops the process the moment it leaves D. */
static int stage_stop(struct run *r, struct puppet *kid, struct watched *w)
{
	char in_d;

	stage(r, "stop", "SIGSTOP while the child is in D, then its vfork "
	      "child exits and releases it");
	if (send(r, kid, SIGSTOP) < 0)
		return PL_EXIT_FAIL;
	in_d = obs_sample(r, w, "D", NULL);
	emitf(r, "signal", FIELDS(F_PID("pid", w->pid), F_STR("signame", "SIGSTOP"),
				 F_CHAR("state", in_d)),
	     "kill(%d, SIGSTOP) succeeded; right after, /proc shows %c (%s)",
	     (int)w->pid, in_d, procfs_state_name(in_d));
	if (in_d != 'D')
		return pl_fail(r, "expected %s %d to stay D after SIGSTOP; "
			       "/proc showed %c", w->role, (int)w->pid, in_d);
	if (puppet_do(r, kid, PUP_RELEASE, 0) < 0)
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

/* Returns 1 when ptrace is refused (the stage is skipped), 0 when the
 * child showed t, PL_EXIT_FAIL otherwise. */
static int stage_trace(struct run *r, struct puppet *kid, struct watched *w,
		       struct watched *v)
{
	struct wstatus ws;
	int status;
	pid_t got;

	stage(r, "trace", "SIGCONT; then proclab attaches as the child's "
	      "tracer (PTRACE_SEIZE) and stops it (PTRACE_INTERRUPT)");
	if (send(r, kid, SIGCONT) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, v, "X", "reaped by its parent, now running again"))
		return PL_EXIT_FAIL;
	if (ptrace(PTRACE_SEIZE, kid->pid, NULL, NULL) < 0) {
		int e = errno;

		emitf(r, "ptrace", FIELDS(F_PID("pid", kid->pid),
					 F_STR("request", "PTRACE_SEIZE"),
					 F_BOOL("ok", false), F_INT("errno", e),
					 F_STR("error", strerrorname_np(e))),
		     "ptrace(PTRACE_SEIZE, %d) refused: %s (%s); a security "
		     "policy (Yama, seccomp, a container) forbids tracing "
		     "here, so there is no t to show", (int)kid->pid,
		     strerrorname_np(e), strerror(e));
		if (e == EPERM || e == EACCES)
			return 1;
		return pl_fail(r, "expected PTRACE_SEIZE of %d to succeed "
			       "or be refused; it failed with %s",
			       (int)kid->pid, strerrorname_np(e));
	}
	if (ptrace(PTRACE_INTERRUPT, kid->pid, NULL, NULL) < 0) {
		pl_warnx(r, "PTRACE_INTERRUPT %d: %s", (int)kid->pid,
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	emitf(r, "ptrace", FIELDS(F_PID("pid", kid->pid),
				 F_STR("request", "PTRACE_INTERRUPT"),
				 F_BOOL("ok", true)),
	     "ptrace(PTRACE_SEIZE) and ptrace(PTRACE_INTERRUPT) on %d "
	     "succeeded: proclab is its tracer", (int)kid->pid);
	if (obs_await(r, w, "t", "in a tracing stop: it waits for its "
		      "tracer, not for SIGCONT"))
		return PL_EXIT_FAIL;
	/* the stop is recorded (under the same lock as the state), so a
	 * wait that does not block finds it */
	do
		got = waitpid(kid->pid, &status, WNOHANG | __WALL);
	while (got < 0 && errno == EINTR);
	if (got != kid->pid)
		return pl_fail(r, "expected waitpid(%d, __WALL) to report the "
			       "tracing stop; it returned %d", (int)kid->pid,
			       (int)got);
	wstatus_decode(status, &ws);
	emit_wstatus(r, kid->pid, w->role, "waitpid", &ws);
	emitf(r, "ptrace-stop", FIELDS(F_PID("pid", kid->pid),
				      F_INT("stop_event", status >> 16)),
	     "status >> 16 is %d: %s", status >> 16,
	     status >> 16 == PTRACE_EVENT_STOP ? "PTRACE_EVENT_STOP, the "
	     "stop PTRACE_INTERRUPT asked for" : "not PTRACE_EVENT_STOP");
	trace_claims(r, w);
	return 0;
}

static int states_run(struct run *r)
{
	struct puppet kid;
	struct watched *w, *v;
	int rc, status;

	stage(r, "run", "proclab forks a child that spins in a loop");
	if (puppet_spawn(r, &kid, "child") < 0)
		return PL_EXIT_FAIL;
	w = obs_add(r, kid.pid, kid.pidfd, "child");
	if (w == NULL || puppet_do(r, &kid, PUP_SPIN, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "R", "runnable: on a CPU or queued for one; "
		      "Linux has no separate \"ready\" letter"))
		return PL_EXIT_FAIL;

	stage(r, "sleep", "the child blocks in read(2) on an empty pipe");
	if (puppet_do(r, &kid, PUP_SLEEP, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "S", "an interruptible sleep: it waits for a "
		      "byte, and a signal can wake it"))
		return PL_EXIT_FAIL;
	show_wchan(r, w);

	if ((rc = stage_vfork(r, &kid, w, &v)) != PL_EXIT_OK)
		return rc;
	if ((rc = stage_stop(r, &kid, w)) != PL_EXIT_OK)
		return rc;
	rc = stage_trace(r, &kid, w, v);
	if (rc == PL_EXIT_FAIL)
		return rc;

	stage(r, "resume", rc == 0 ? "proclab detaches (PTRACE_DETACH) and "
	      "tells the child to spin again" : "the child is told to spin "
	      "again");
	if (rc == 0 && ptrace(PTRACE_DETACH, kid.pid, NULL, NULL) < 0) {
		pl_warnx(r, "PTRACE_DETACH %d: %s", (int)kid.pid,
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (puppet_do(r, &kid, PUP_SPIN, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "R", "running again: no tracer, no stop; it "
		      "took its next command and loops"))
		return PL_EXIT_FAIL;

	stage(r, "exit", "the child calls _exit; its parent has not waited");
	if (puppet_do(r, &kid, PUP_EXIT, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "Z", "a zombie: it has exited, and only its "
		      "pid and exit status wait for its parent"))
		return PL_EXIT_FAIL;

	stage(r, "reap", "the parent calls waitpid(); the kernel releases the "
	      "child");
	if (pl_waitpid(r, w->pid, w->role, &status) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "X", "released: the status was collected and "
		      "/proc/PID is gone"))
		return PL_EXIT_FAIL;
	emitf(r, "observed", FIELDS(F_PID("pid", w->pid),
				   F_MEAS("trail", w->trail)),
	     "every state seen for %s %d, in order: %s", w->role, (int)w->pid,
	     w->trail);
	return PL_EXIT_OK;
}

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
	.run = states_run,
};
