/* zombie.c - a child exits and its parent has not waited yet: Z.
 *
 * Stages: fork (R) -> block (S) -> exit (Z, and what the zombie kept and
 * lost) -> kill (SIGKILL changes nothing) -> reap (waitpid, then X).
 * With --ignore-sigchld: fork -> block -> exit (released: X, with or
 * without a fleeting Z) -> wait (waitpid fails with ECHILD).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"
#include "wstatus.h"

/* What built proclab, and so the child, which runs proclab's code. */
#define STR_(x) #x
#define STR(x) STR_(x)
#ifdef __clang__
#define BUILT_WITH_CLANG true
#define COMPILER ("clang " STR(__clang_major__) "." STR(__clang_minor__) "." \
		  STR(__clang_patchlevel__))
#else
#define BUILT_WITH_CLANG false
#define COMPILER ("gcc " __VERSION__)
#endif

static const struct lab_option zombie_options[] = {
	{ "code", "N", 0, 255, 42, "the exit code the child passes to _exit" },
	{ "touch", "MIB", 0, 64, 8,
	  "MiB of memory the child writes first, so that there is a resident "
	  "set to lose" },
	{ "ignore-sigchld", NULL, 0, 1, 0,
	  "set SIGCHLD to SIG_IGN first: the child is released at exit, "
	  "with no zombie to wait for" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* How a held value reads in --stable output. */
enum hold_kind {
	HOLD_EXACT,     /* the same on every run */
	HOLD_PID,       /* a pid: shown as its role */
	HOLD_MEASURED,  /* varies between runs; the verdict does not */
	HOLD_VARIES,    /* the values and the verdict vary */
};

static struct field hold_field(enum hold_kind kind, const char *key,
			       long long v)
{
	if (v < 0)
		return F_NULL(key);
	if (kind == HOLD_PID)
		return F_PID(key, v);
	if (kind == HOLD_EXACT)
		return F_INT(key, v);
	return F_MEAS(key, v);
}

/* One thing a process holds, before exit and as a zombie (after: -1 gone,
 * -2 unreadable). */
static void holds(struct run *r, pid_t pid, const char *what,
		  const char *unit, enum hold_kind kind, long long before,
		  long long after)
{
	const char *verdict = after == -1 ? N_("gone")
			    : after < 0 ? N_("unreadable")
			    : after == 0 && before == 0
			    ? N_("0 both times: too brief to tell")
			    : after == before ? N_("kept") : N_("changed");
	struct field v = F_WORDS("verdict", verdict);
	char b[32], a[32] = "";
	bool varies = kind == HOLD_MEASURED || kind == HOLD_VARIES;

	v.meas = kind == HOLD_VARIES;
	snprintf(b, sizeof(b), "%s", _("unreadable"));
	if (before >= 0)
		snprintf(b, sizeof(b), "%lld%s", before, unit);
	if (after >= 0)
		snprintf(a, sizeof(a), "%lld%s", after, unit);
	emit_form(r, "holds", kind == HOLD_PID ? "pid"
			      : after < 0 ? "lost" : NULL,
		  FIELDS(F_PID("pid", pid), F_WORDS("what", what),
			 hold_field(kind, "before", before),
			 hold_field(kind, "after", after),
			 v,
			 varies ? F_TEXT_MEAS("alive", b) : F_TEXT("alive", b),
			 varies ? F_TEXT_MEAS("dead", a) : F_TEXT("dead", a)));
}

/* A status field: -2 when status could not be read, -1 when the line is
 * missing (what a zombie's status does for VmRSS). */
static long long if_has(const struct probe *p, unsigned bit, long long v)
{
	if (!p->status_ok)
		return -2;
	return (p->ps.has & bit) ? v : -1;
}

/* What the zombie kept and what it lost, and the claim on its
 * owner (zombie-proc-owner). */
static void compare(struct run *r, const struct watched *w,
		    const struct probe *alive, const struct probe *dead,
		    const struct proc_stat *st_alive)
{
	pid_t pid = w->pid;
	uid_t me = geteuid();
	bool dir_is_root = dead->dir_owner == 0,
	     file_is_root = dead->file_owner == 0;

	holds(r, pid, N_("VmRSS (resident memory)"), " kB", HOLD_MEASURED,
	      if_has(alive, PS_VMRSS, alive->ps.vmrss_kb),
	      if_has(dead, PS_VMRSS, dead->ps.vmrss_kb));
	holds(r, pid, N_("open file descriptors"), "", HOLD_EXACT, alive->fds,
	      dead->fds > 0 ? dead->fds : dead->fds == 0 ? -1 : -2);
	holds(r, pid, N_("cmdline bytes"), "", HOLD_MEASURED, alive->cmdline_bytes,
	      dead->cmdline_bytes > 0 ? dead->cmdline_bytes
	      : dead->cmdline_bytes == 0 ? -1 : -2);
	holds(r, pid, N_("threads"), "", HOLD_EXACT,
	      if_has(alive, PS_THREADS, alive->ps.threads),
	      if_has(dead, PS_THREADS, dead->ps.threads));
	holds(r, pid, N_("parent pid"), "", HOLD_PID, (long long)st_alive->ppid,
	      (long long)w->st.ppid);
	holds(r, pid, N_("CPU time (ticks)"), "", HOLD_VARIES,
	      (long long)(st_alive->utime + st_alive->stime),
	      (long long)(w->st.utime + w->st.stime));

	/* as root this cannot tell; as a user the files are root's (the
	 * zombie has no memory map), the directory is not */
	claim(r, "zombie-proc-owner",
	      me == 0 ? CLAIM_DEPENDS
	      : dir_is_root && file_is_root ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("euid", me), F_INT("dir_owner", dead->dir_owner),
		     F_INT("file_owner", dead->file_owner)));
}

/* What one run keeps between its stages. */
struct zombie {
	struct puppet kid;
	struct watched *w;
	struct probe alive;
	struct proc_stat st_alive;
};

static int stage_fork(struct run *r)
{
	struct zombie *z = run_state(r);

	if (puppet_spawn(r, &z->kid, "child") < 0)
		return PL_EXIT_FAIL;
	z->w = obs_add(r, z->kid.pid, z->kid.pidfd, "child");
	if (z->w == NULL ||
	    puppet_do(r, &z->kid, PUP_TOUCH, (unsigned char)opt_val(r, "touch")) ||
	    puppet_do(r, &z->kid, PUP_SPIN, 0))
		return PL_EXIT_FAIL;
	return obs_await(r, z->w, "R", "busy in a loop: on a CPU or queued "
			 "for one");
}

static int stage_block(struct run *r)
{
	struct zombie *z = run_state(r);
	struct watched *w = z->w;

	if (puppet_do(r, &z->kid, PUP_SLEEP, 0) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "S", "waits in read(2) for a byte nobody sent"))
		return PL_EXIT_FAIL;
	obs_probe(r, w, &z->alive);
	z->st_alive = w->st;
	emit_form(r, "wchan", !z->alive.wchan[0] ? "unreadable"
			      : z->alive.on_cpu ? "running" : NULL,
		  FIELDS(F_PID("pid", w->pid), F_MEAS("wchan", z->alive.wchan),
			 F_TEXT("role", w->role)));
	return PL_EXIT_OK;
}

static int stage_exit(struct run *r)
{
	struct zombie *z = run_state(r);
	struct watched *w = z->w;
	struct probe dead;
	int code = (int)opt_val(r, "code");

	if (puppet_do(r, &z->kid, PUP_EXIT, (unsigned char)code) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "Z", "exited; its parent {ppid} has not waited "
		      "for it"))
		return PL_EXIT_FAIL;
	obs_probe(r, w, &dead);
	/* what the zombie is kept for: its exit status, read from /proc */
	if (w->st.exit_code >= 0)
		emit(r, "exit_status",
		     FIELDS(F_PID("pid", w->pid), F_INT("raw", w->st.exit_code),
			    F_INT("code", WEXITSTATUS(w->st.exit_code)),
			    F_TEXT("role", w->role)));
	compare(r, z->w, &z->alive, &dead, &z->st_alive);
	/* The compiler has no say: the zombie is the kernel's.  Built with
	 * clang, this run shows it (make CC=clang); built with gcc it
	 * cannot tell. */
	claim(r, "zombie-llvm", BUILT_WITH_CLANG ? CLAIM_FAILS : CLAIM_DEPENDS,
	      FIELDS(F_MEAS("compiler", COMPILER), F_BOOL("clang",
							  BUILT_WITH_CLANG),
		     F_CHAR("state", w->state)));
	return PL_EXIT_OK;
}

static int stage_kill(struct run *r)
{
	struct zombie *z = run_state(r);
	struct watched *w = z->w;

	if (pl_kill(r, w->pid, SIGKILL) < 0) {
		pl_warnx(r, "cannot send SIGKILL to %d: %s", (int)w->pid,
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	obs_sample(r, w, "Z", NULL);
	emit_form(r, "signal", w->state == 'Z' ? "still-zombie" : NULL,
		  FIELDS(F_PID("pid", w->pid), F_STR("signame", "SIGKILL"),
			 F_CHAR("state", w->state),
			 F_TEXT("state_name", pl_state_name(w->state))));
	if (w->state != 'Z')
		return pl_fail(r, "expected %s %d to stay Z after SIGKILL; /proc "
			       "showed %c", w->role, (int)w->pid, w->state);
	return PL_EXIT_OK;
}

static int stage_reap(struct run *r)
{
	struct watched *w = ((struct zombie *)run_state(r))->w;
	int status;

	if (pl_waitpid(r, w->pid, w->role, &status) < 0)
		return PL_EXIT_FAIL;
	return obs_await(r, w, "X", "reaped: its /proc entry is gone");
}

/* --ignore-sigchld */
static int stage_exit_ignored(struct run *r)
{
	struct zombie *z = run_state(r);
	struct watched *w = z->w;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	bool saw_z;

	if (sigaction(SIGCHLD, &ign, NULL) < 0) {
		pl_warnx(r, "cannot ignore SIGCHLD: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (puppet_do(r, &z->kid, PUP_EXIT, (unsigned char)opt_val(r, "code")) < 0)
		return PL_EXIT_FAIL;
	if (obs_await(r, w, "X", "released with no zombie to wait for"))
		return PL_EXIT_FAIL;
	saw_z = strchr(w->trail, 'Z') != NULL;
	emit(r, "observed",
	     FIELDS(F_PID("pid", w->pid), F_MEAS("zombie_seen", saw_z),
		    F_MEAS("trail", w->trail), F_TEXT("role", w->role),
		    F_TEXT_MEAS("meaning", saw_z
				? _("a Z flashed by before the release, too "
				  "briefly to wait for")
				: _("no Z at all: the entry just vanished"))));
	return PL_EXIT_OK;
}

static int stage_wait_ignored(struct run *r)
{
	struct watched *w = ((struct zombie *)run_state(r))->w;
	int status;

	if (pl_waitpid(r, w->pid, w->role, &status) == 0)
		return pl_fail(r, "expected waitpid(%d) to fail with ECHILD; "
			       "it returned a status", (int)w->pid);
	if (errno != ECHILD)
		return pl_fail(r, "expected waitpid(%d) to fail with ECHILD; "
			       "it failed with %s", (int)w->pid,
			       strerrorname_np(errno));
	return PL_EXIT_OK;
}

static const struct sentence zombie_sentences[] = {
	{ "wchan", NULL, "{role} {pid} sleeps in the kernel function {wchan}",
	  NULL, NULL },
	{ "wchan", "unreadable", "{role} {pid} sleeps; its wchan cannot be "
	  "read", NULL, NULL },
	{ "wchan", "running", "{role} {pid} shows S, but its wchan named no "
	  "kernel function (it read {wchan} for 100 ms): it was still on its "
	  "way off the CPU", NULL, NULL },
	{ "holds", NULL, "{what}: {alive} alive, {dead} as a zombie: "
	  "{verdict}", NULL, NULL },
	{ "holds", "lost", "{what}: {alive} alive; as a zombie: {verdict}",
	  NULL, NULL },
	{ "holds", "pid", "{what}: {before} alive, {after} as a zombie: "
	  "{verdict}", NULL, NULL },
	{ "exit_status", NULL, "{role} {pid} is kept for its exit status: "
	  "/proc/PID/stat shows {raw:#x} (code {code}) for the parent to "
	  "collect", NULL, NULL },
	{ "signal", NULL, "kill({pid}, {signame}) succeeded; /proc then "
	  "showed {state} ({state_name})", NULL, NULL },
	{ "signal", "still-zombie", "kill({pid}, {signame}) succeeded; /proc "
	  "then showed {state} ({state_name}): it is already dead, only a "
	  "wait can remove it", NULL, NULL },
	{ "observed", NULL, "states seen for {role} {pid}: {trail}; {meaning}",
	  NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct stage zombie_stages[] = {
	{ "fork", "proclab forks a child and tells it to spin in a loop",
	  stage_fork, NULL, NULL, NULL },
	{ "block", "the child calls read(2) on an empty pipe",
	  stage_block, NULL, NULL, NULL },
	{ "exit", "the child calls _exit({code})",
	  stage_exit, "!ignore-sigchld", NULL, NULL },
	{ "kill", "SIGKILL to the zombie", stage_kill, "!ignore-sigchld",
	  NULL, NULL },
	{ "reap", "the parent calls waitpid()", stage_reap, "!ignore-sigchld",
	  NULL, NULL },
	{ "exit", "the parent sets SIGCHLD to SIG_IGN, then the child calls "
	  "_exit({code})", stage_exit_ignored, "ignore-sigchld",
	  NULL, NULL },
	{ "wait", "the parent calls waitpid(): there is nothing to collect",
	  stage_wait_ignored, "ignore-sigchld", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* Refuse, before anything is printed, more memory for --touch than this
 * machine can spare (half of MemAvailable); its range is the dispatcher's. */
static int zombie_prepare(struct run *r)
{
	return opt_mib_fits(r, "touch");
}

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary zombie_vary[] = {
	{ "code", 1, 125 },
	{ NULL, 0, 0 },
};

const struct lab lab_zombie = {
	.name = "zombie",
	.summary = "a child exits before its parent waits: Z, then reaped (X)",
	.description =
		"The child runs (R), blocks in read(2) (S), then exits with a "
		"code.  Its\nparent has not called wait yet, so the kernel keeps "
		"it as a zombie (Z):\nproclab shows what the zombie still holds "
		"and what it lost, that SIGKILL\ndoes nothing to it, and how "
		"waitpid() collects the status and lets the\nkernel release it "
		"(X: /proc/PID is gone).  With --ignore-sigchld the parent\n"
		"ignores SIGCHLD first: no zombie waits, and waitpid() fails "
		"with ECHILD.",
	.options = zombie_options,
	.prepare = zombie_prepare,
	.stages = zombie_stages,
	.sentences = zombie_sentences,
	.state_size = sizeof(struct zombie),
	.vary = zombie_vary,
};
