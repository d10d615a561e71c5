/* wait.c - every way a parent learns how its child ended, and the int that
 * says it.
 *
 * Stages: exit (_exit(0)) -> code (_exit(--code)) -> signal (SIGTERM, or
 * the signal --term-signal picks) -> core (SIGABRT, or the signal
 * --core-signal picks, with RLIMIT_CORE 0, then with the limit raised, in a
 * private directory) -> stop (SIGSTOP, WUNTRACED) -> continue (SIGCONT,
 * WCONTINUED, then SIGKILL) -> poll (a WNOHANG loop) -> peek (waitid with
 * WNOWAIT: the child stays Z) -> order (children reaped in the order they
 * end) -> zombies (the same, all ended before the first wait) -> echild
 * (nothing left to wait for).
 *
 * Every child is an agent (agent.h): it blocks in read(2) until told how
 * to end, so each ending is commanded and each status observed, never
 * assumed.  Stops and continues have no pidfd event; they are awaited
 * through a signalfd for SIGCHLD, which pl_wait_fd() watches together
 * with SIGINT.  The stages are a table (wait_stages), the sentences
 * another (wait_sentences); what the stages share lives in a struct
 * wait_state, reached through run_state().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

static const struct lab_option wait_options[] = {
	{ "code", "N", 0, 255, 3, "the exit code of the child that exits "
	  "with a code (and of the peeked one)" },
	{ "polls", "N", 1, 1000, 3, "empty WNOHANG polls before the polled "
	  "child is told to exit" },
	{ "order", "N", 1, 5, 1, "the order in which the order and zombies "
	  "stages' children end, one of the five that are not the order they "
	  "were made in: 1 c a b, 2 b c a, 3 c b a, 4 b a c, 5 a c b" },
	{ "term-signal", "N", 1, 5, 1, "the signal that kills the signal "
	  "stage's child, one of five whose default action ends a process "
	  "without a core dump: 1 SIGTERM, 2 SIGINT, 3 SIGHUP, 4 SIGUSR1, "
	  "5 SIGALRM" },
	{ "core-signal", "N", 1, 4, 1, "the signal the core stage's children "
	  "raise, one of four whose default action dumps core: 1 SIGABRT, "
	  "2 SIGQUIT, 3 SIGSEGV, 4 SIGFPE" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* The signals of --term-signal and --core-signal, in the order their help
 * numbers them: the lesson of each stage is the same for every one (no
 * core bit; a core bit that RLIMIT_CORE decides).  Signals, not numbers:
 * a signal's number is the kernel's business (SIGUSR1 is 10 on x86 and
 * ARM, 30 on Alpha). */
static const int term_signals[5] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				     SIGALRM };
static const int core_signals[4] = { SIGABRT, SIGQUIT, SIGSEGV, SIGFPE };

static int term_signal(const struct run *r)
{
	return term_signals[opt_val(r, "term-signal") - 1];
}

static int core_signal(const struct run *r)
{
	return core_signals[opt_val(r, "core-signal") - 1];
}

/* A number for the sentence only, not a JSON field. */
#define F_TEXT_INT(k, v) ((struct field){ .key = (k), .type = FT_INT, \
					.text_only = true, .i = (v) })

/* The lab's sentences: every event it words (the state whys are the
 * literal strings of obs_await(), none holds a pid). */
static const struct sentence wait_sentences[] = {
	/* pid, raw, bits, high, core_bit, low, macros */
	{ "decode", NULL, "status 0x{raw:04x} = {bits}: bits 15-8 = {high}, "
	  "bit 7 = {core_bit}, bits 6-0 = {low}; the macros read {macros}",
	  NULL, NULL },
	/* pid, raw, rlimit_core, core_pattern, pipe, core, files, bytes,
	 * why (this sentence, rendered); text only: file, limit.  One form
	 * for each reason the core bit came out as it did. */
	{ "core", "written", "bit 7 set: the kernel wrote the core file "
	  "\"{file}\" ({bytes} byte) in the child's directory, as "
	  "core_pattern \"{core_pattern}\" says, because RLIMIT_CORE was "
	  "{limit}; proclab deleted it",
	  "bit 7 set: the kernel wrote the core file \"{file}\" ({bytes} "
	  "bytes) in the child's directory, as core_pattern "
	  "\"{core_pattern}\" says, because RLIMIT_CORE was {limit}; proclab "
	  "deleted it", "bytes" },
	{ "core", "piped", "bit 7 set: core_pattern pipes the dump to a "
	  "program (\"{core_pattern}\"), which took it", NULL, NULL },
	{ "core", "elsewhere", "bit 7 set: a dump was written outside the "
	  "child's directory (core_pattern \"{core_pattern}\")", NULL, NULL },
	{ "core", "pipe-one", "bit 7 clear: core_pattern pipes dumps to a "
	  "program (\"{core_pattern}\"), and for a pipe the kernel ignores "
	  "RLIMIT_CORE except the value 1, which means \"no dump\"",
	  NULL, NULL },
	{ "core", "forbidden", "bit 7 clear: RLIMIT_CORE 0 forbids a core "
	  "file, so none was written ({files} file in the child's directory)",
	  "bit 7 clear: RLIMIT_CORE 0 forbids a core file, so none was "
	  "written ({files} files in the child's directory)", "files" },
	{ "core", "unread", "bit 7 clear: RLIMIT_CORE 0 forbids a core file "
	  "(the child's directory could not be read)", NULL, NULL },
	{ "core", "none", "bit 7 clear although RLIMIT_CORE was {limit}: the "
	  "kernel wrote no dump (core_pattern \"{core_pattern}\")",
	  NULL, NULL },
	/* core_pattern: why there is no case with the bit set */
	{ "note", "elsewhere", "core_pattern \"{core_pattern}\" sends dumps "
	  "outside the child's directory; proclab leaves no core file "
	  "behind, so it does not raise the limit", NULL, NULL },
	{ "note", "hard-zero", "the hard RLIMIT_CORE is 0: a core dump cannot "
	  "be allowed here, so there is no case with the bit set",
	  NULL, NULL },
	/* pid, polls, told_after */
	{ "poll", NULL, "waitpid({pid}, WNOHANG) returned 0 (nothing to "
	  "collect yet) once before it collected the child, which was told "
	  "to exit after poll {told_after}; a blocking waitpid() makes one "
	  "call and sleeps instead",
	  "waitpid({pid}, WNOHANG) returned 0 (nothing to collect yet) "
	  "{polls} times before it collected the child, which was told to "
	  "exit after poll {told_after}; a blocking waitpid() makes one call "
	  "and sleeps instead", "polls" },
	/* pid, by, call, exited, code, signaled, state; text only: role,
	 * idtype, how, si_code, si_status */
	{ "peek", NULL, "{call}({idtype}, WEXITED|WNOWAIT) saw {role} {pid}: "
	  "{how} (si_code {si_code}, si_status {si_status}); /proc then "
	  "showed {state}: nothing was collected", NULL, NULL },
	{ "peek", "collected", "{call}({idtype}, WEXITED|WNOWAIT) saw {role} "
	  "{pid}: {how} (si_code {si_code}, si_status {si_status}); /proc "
	  "then showed {state}", NULL, NULL },
	/* mode, made, ended, reaped, as_ended, as_made */
	{ "order", NULL, "made {made}, ended {ended}, waitpid(-1) returned "
	  "{reaped}: each wait returned the child that had just ended",
	  NULL, NULL },
	{ "order", "not-as-ended", "made {made}, ended {ended}, waitpid(-1) "
	  "returned {reaped}: not in the order they ended", NULL, NULL },
	{ "order", "as-made", "made {made}, ended {ended}, waitpid(-1) "
	  "returned {reaped}: with all three already zombies, Linux hands "
	  "them out in the order they were made (its list of children), not "
	  "the order they ended", NULL, NULL },
	{ "order", "as-ended", "made {made}, ended {ended}, waitpid(-1) "
	  "returned {reaped}: in the order they ended", NULL, NULL },
	{ "order", "neither", "made {made}, ended {ended}, waitpid(-1) "
	  "returned {reaped}: in neither the order made nor the order ended",
	  NULL, NULL },
	/* pid, call, errno, error; text only: message (strerror) */
	{ "wait", "echild", "{call}({pid}) failed with {error} ({message}): "
	  "every child has been collected, so the call returns at once "
	  "instead of waiting forever", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* A child of this lab: an agent and what the observer knows of it. */
struct wkid {
	struct agent *a;
	struct watched *w;
};

/* What one run keeps between its stages. */
struct wait_state {
	int chldfd;               /* signalfd for SIGCHLD, -1 when closed */
	char coredir[256];        /* the core-dumping child's directory */
	int raw_code, raw_term;   /* the statuses the claim reads */
	struct wkid stopped;      /* stopped in one stage, continued next */
};

/* ---- starting and ending children ------------------------------------- */

/* Calls that return int return 0, or the exit status the lab ends with
 * after the message was given (as agent.h's do). */

static int spawn(struct run *r, struct wkid *k, const char *role)
{
	int rc;

	k->w = NULL;
	k->a = agent_spawn(r, role, &rc);
	if (k->a == NULL)
		return rc;
	k->w = obs_add(r, k->a->pid, k->a->pidfd, role);
	if (k->w == NULL)
		return PL_EXIT_FAIL;
	return obs_await(r, k->w, "S", "blocked in read(2), waiting to be "
			 "told how to end");
}

/* How <sys/wait.h> reads one int: its bits, then every macro. */
static void decode(struct run *r, pid_t pid, int raw)
{
	unsigned u = (unsigned)raw, high = (u >> 8) & 0xff,
		 core_bit = (u >> 7) & 1, low = u & 0x7f;
	char bits[24], how[200];
	size_t n = 0;

	for (int b = 15; b >= 0; b--) {
		bits[n++] = (u >> b) & 1 ? '1' : '0';
		if (b == 8 || b == 7)
			bits[n++] = ' ';
	}
	bits[n] = '\0';
	/* the real macros on the real int, never a hand decoding */
	n = (size_t)snprintf(how, sizeof(how), "WIFEXITED %d", !!WIFEXITED(raw));
	if (WIFEXITED(raw))
		n += (size_t)snprintf(how + n, sizeof(how) - n,
				      " WEXITSTATUS %d", WEXITSTATUS(raw));
	n += (size_t)snprintf(how + n, sizeof(how) - n, ", WIFSIGNALED %d",
			      !!WIFSIGNALED(raw));
	if (WIFSIGNALED(raw))
		n += (size_t)snprintf(how + n, sizeof(how) - n,
				      " WTERMSIG %d WCOREDUMP %d",
				      WTERMSIG(raw), !!WCOREDUMP(raw));
	n += (size_t)snprintf(how + n, sizeof(how) - n, ", WIFSTOPPED %d",
			      !!WIFSTOPPED(raw));
	if (WIFSTOPPED(raw))
		n += (size_t)snprintf(how + n, sizeof(how) - n, " WSTOPSIG %d",
				      WSTOPSIG(raw));
	snprintf(how + n, sizeof(how) - n, ", WIFCONTINUED %d",
		 !!WIFCONTINUED(raw));
	emit(r, "decode",
	     FIELDS(F_PID("pid", pid), F_INT("raw", raw), F_STR("bits", bits),
		    F_INT("high", high), F_INT("core_bit", core_bit),
		    F_INT("low", low), F_STR("macros", how)));
}

/* Wait for the zombie, collect it, show the status, see it released. */
static int reap(struct run *r, struct wkid *k, const char *why_z, int *status)
{
	int rc;

	if ((rc = obs_await(r, k->w, "Z", why_z)) != 0)
		return rc;
	run_pause(r);           /* --step: the zombie, before its reap */
	if (pl_waitpid(r, k->a->pid, k->a->role, status) < 0)
		return PL_EXIT_FAIL;
	decode(r, k->a->pid, *status);
	agent_close(k->a);
	return obs_await(r, k->w, "X", "reaped: its /proc entry is gone");
}

/* Tell k to end (AGENT_OP_EXIT with a code, AGENT_OP_RAISE a signal),
 * then reap it. */
static int end_and_reap(struct run *r, struct wkid *k, int op, int arg,
			const char *why_z, int *status)
{
	int rc = agent_do(r, k->a, op, arg, NULL);

	return rc != 0 ? rc : reap(r, k, why_z, status);
}

/* ---- SIGCHLD as an event ---------------------------------------------- */

static int sigchld_open(struct run *r)
{
	struct wait_state *ws = run_state(r);
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* blocked here, so it queues for the signalfd; pl_fork() gives each
	 * child an empty mask again */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (ws->chldfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		pl_warnx(r, "cannot watch SIGCHLD: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	return 0;
}

static void sigchld_close(struct wait_state *ws)
{
	sigset_t set;

	if (ws->chldfd >= 0)
		close(ws->chldfd);
	ws->chldfd = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void sigchld_drain(const struct wait_state *ws)
{
	struct signalfd_siginfo si;

	while (read(ws->chldfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

/* waitpid(pid, flags | WNOHANG) until it reports something.  Between
 * tries, sleep until the next SIGCHLD (the kernel sends one for every
 * stop, continue and exit of a child), watching SIGINT too.  Returns the
 * pid collected, or -1 (message given; errno set when waitpid failed). */
static pid_t wait_event(struct run *r, pid_t pid, int flags, int *status,
			const char *what)
{
	struct wait_state *ws = run_state(r);
	long long deadline = pl_now_ms() + r->timeout_ms;

	for (;;) {
		pid_t got = waitpid(pid, status, flags | WNOHANG);
		long long left;

		if (got > 0)
			return got;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			pl_warnx(r, "waitpid(%d): %s", (int)pid, strerror(e));
			errno = e;
			return -1;
		}
		left = deadline - pl_now_ms();
		if (left <= 0 || !pl_wait_fd(r, ws->chldfd, (int)left)) {
			pl_fail(r, "expected waitpid(%d) to report %s within "
				"%d ms; it reported nothing", (int)pid, what,
				r->timeout_ms);
			errno = 0;
			return -1;
		}
		sigchld_drain(ws);
	}
}

/* ---- the stages --------------------------------------------------------- */

static int stage_exit(struct run *r)
{
	struct wkid k;
	int st, rc;

	if ((rc = spawn(r, &k, "exit0")) != 0)
		return rc;
	return end_and_reap(r, &k, AGENT_OP_EXIT, 0, N_("exited with code 0, not "
			    "waited for yet"), &st);
}

static int stage_code(struct run *r)
{
	struct wait_state *ws = run_state(r);
	struct wkid k;
	int rc, code = (int)opt_val(r, "code");

	if ((rc = spawn(r, &k, "code")) != 0)
		return rc;
	return end_and_reap(r, &k, AGENT_OP_EXIT, code,
			    N_("exited with code {code}, not waited for yet"),
			    &ws->raw_code);
}

/* wait-status-bytes: an article says "byte 8-15" and "byte 0-7 hold the error code". */
static void claim_bits(struct run *r, int code, int raw_code, int sig,
		       int raw_term)
{
	bool bits = WEXITSTATUS(raw_code) == ((raw_code >> 8) & 0xff) &&
		    WEXITSTATUS(raw_code) == code &&
		    WTERMSIG(raw_term) == (raw_term & 0x7f) &&
		    WTERMSIG(raw_term) == sig;

	/* they are BITS of a 16-bit field, and bits 6-0 hold the number of
	 * the signal that killed the child, not an error code; bit 7 is the
	 * core flag */
	claim(r, "wait-status-bytes", bits ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("raw_code", raw_code), F_INT("code", code),
		     F_INT("raw_signal", raw_term), F_INT("signal", sig)));
}

static int stage_signal(struct run *r)
{
	struct wait_state *ws = run_state(r);
	struct wkid k;
	int rc, sig = term_signal(r);
	/* "term": terminated by a signal, whichever --term-signal picks */
	if ((rc = spawn(r, &k, "term")) != 0 ||
	    (rc = end_and_reap(r, &k, AGENT_OP_RAISE, sig,
			       N_("killed by {signame}, not waited for yet"),
			       &ws->raw_term)))
		return rc;
	/* the catalogue's evidence names SIGTERM (and a JSON field for the
	 * name would change the default output): with another signal
	 * (--term-signal) the claim is not reported */
	if (sig == SIGTERM)
		claim_bits(r, (int)opt_val(r, "code"), ws->raw_code, sig,
			   ws->raw_term);
	return PL_EXIT_OK;
}

/* ---- the core bit --------------------------------------------------------- */

/* The core-dumping child's private directory. */
static void coredir_remove(struct wait_state *ws)
{
	if (ws->coredir[0] == '\0')
		return;
	DIR *d = opendir(ws->coredir);
	if (d != NULL) {
		for (struct dirent *e; (e = readdir(d)) != NULL;)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(ws->coredir);
	ws->coredir[0] = '\0';
}

/* After every child is reaped, also when a signal ends proclab: what the
 * lab made outside processes goes, and SIGCHLD is unblocked again. */
static void wait_cleanup(struct run *r)
{
	struct wait_state *ws = run_state(r);

	coredir_remove(ws);
	sigchld_close(ws);
}

/* Count (and delete) what the dump left in the directory. */
static int coredir_sweep(const struct wait_state *ws, long long *bytes,
			 char *name, size_t size)
{
	DIR *d = opendir(ws->coredir);
	int n = 0;

	*bytes = 0;
	name[0] = '\0';
	if (d == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct stat sb;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
			*bytes += sb.st_size;
		if (n++ == 0)
			snprintf(name, size, "%s", e->d_name);
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return n;
}

/* Spawn a child whose working directory is the private directory: a
 * relative core_pattern writes the core file there, nowhere else. */
static int spawn_in_coredir(struct run *r, struct wkid *k, const char *role)
{
	const char *dir = ((struct wait_state *)run_state(r))->coredir;
	int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), rc;

	if (here < 0 || chdir(dir) < 0) {
		pl_warnx(r, "cannot enter %s: %s", dir, strerror(errno));
		if (here >= 0)
			close(here);
		return PL_EXIT_FAIL;
	}
	rc = spawn(r, k, role);
	if (fchdir(here) < 0) {
		pl_warnx(r, "cannot return to the working directory: %s",
			 strerror(errno));
		rc = PL_EXIT_FAIL;
	}
	close(here);
	return rc;
}

struct core_setting {
	char pattern[256];
	bool pipe, relative;
};

/* The sentence of the lab's table for this event and form. */
static const struct sentence *wait_sentence(const char *event,
					    const char *form)
{
	for (const struct sentence *s = wait_sentences; s->event; s++)
		if (strcmp(s->event, event) == 0 && s->form != NULL &&
		    strcmp(s->form, form) == 0)
			return s;
	return NULL;
}

/* Which sentence says why the core bit came out as it did. */
static const char *core_form(const struct core_setting *cs, bool core,
			     int files, rlim_t limit)
{
	if (core)
		return files > 0 ? "written" : cs->pipe ? "piped" : "elsewhere";
	if (cs->pipe && limit == 1)
		return "pipe-one";
	if (limit == 0)
		return files < 0 ? "unread" : "forbidden";
	return "none";
}

/* One SIGABRT (or --core-signal's) under one RLIMIT_CORE, and why the
 * core bit came out so. */
static int core_case(struct run *r, const struct core_setting *cs,
		     const char *role, rlim_t soft)
{
	struct wkid k;
	struct rlimit lim, seen;
	long long bytes;
	char file[256], limit[32];
	int st, files, rc, sig = core_signal(r);
	bool core;

	if ((rc = spawn_in_coredir(r, &k, role)) != 0)
		return rc;
	/* set the child's soft limit from outside, then read it back */
	if (prlimit(k.a->pid, RLIMIT_CORE, NULL, &lim) < 0)
		goto fail;
	lim.rlim_cur = soft;
	if (prlimit(k.a->pid, RLIMIT_CORE, &lim, NULL) < 0 ||
	    prlimit(k.a->pid, RLIMIT_CORE, NULL, &seen) < 0)
		goto fail;
	if ((rc = end_and_reap(r, &k, AGENT_OP_RAISE, sig,
			       N_("killed by {signame} (after any core dump), "
				  "not waited for yet"), &st)))
		return rc;
	core = WIFSIGNALED(st) && WCOREDUMP(st);
	files = coredir_sweep(run_state(r), &bytes, file, sizeof(file));
	if (seen.rlim_cur == RLIM_INFINITY)
		snprintf(limit, sizeof(limit), "unlimited");
	else
		snprintf(limit, sizeof(limit), "%llu",
			 (unsigned long long)seen.rlim_cur);

	const struct sentence *s = wait_sentence("core", core_form(cs, core,
						 files, seen.rlim_cur));
	enum { WHY = 8 };
	struct field f[] = {
		F_PID("pid", k.a->pid), F_INT("raw", st),
		seen.rlim_cur == RLIM_INFINITY
			? F_NULL("rlimit_core")
			: F_INT("rlimit_core", (long long)seen.rlim_cur),
		F_STR("core_pattern", cs->pattern), F_BOOL("pipe", cs->pipe),
		F_BOOL("core", core), F_INT("files", files),
		F_MEAS("bytes", bytes),
		F_NULL("why"),          /* f[WHY]: the sentence, below */
		/* a file name from a pattern with %p, %t, ... varies */
		{ .key = "file", .type = FT_STR, .text_only = true,
		  .meas = strchr(cs->pattern, '%') != NULL, .s = file },
		F_TEXT("limit", limit),
		{ .type = FT_END },
	};
	/* JSON's "why" is this sentence as the text view words it, the
	 * size included: measured (null with --stable) when it names one */
	char *why = emit_render_text(r, s, f);
	f[WHY] = bytes > 0 ? F_MEAS("why", why) : F_STR("why", why);
	emit_sentence(r, s, f);
	free(why);
	return 0;
fail:
	pl_warnx(r, "cannot set RLIMIT_CORE of %d: %s", (int)k.a->pid,
		 strerror(errno));
	return PL_EXIT_FAIL;
}

static int stage_core(struct run *r)
{
	struct wait_state *ws = run_state(r);
	struct core_setting cs = { .pipe = false };
	struct rlimit mine;
	const char *tmp = getenv("TMPDIR");
	size_t len;
	int rc;

	if (proc_read_sysctl("kernel/core_pattern", cs.pattern,
			     sizeof(cs.pattern), &len) != PROC_OK)
		snprintf(cs.pattern, sizeof(cs.pattern), "(unreadable)");
	cs.pipe = cs.pattern[0] == '|';
	cs.relative = !cs.pipe && cs.pattern[0] != '/' &&
		      cs.pattern[0] != '(';
	if (getrlimit(RLIMIT_CORE, &mine) < 0) {
		pl_warnx(r, "getrlimit: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	/* removed by wait_cleanup() if a signal ends us here, by the
	 * janitor if proclab dies without a teardown (SIGKILL) */
	snprintf(ws->coredir, sizeof(ws->coredir), "%s/proclab-wait.XXXXXX",
		 tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (run_mkdtemp(r, ws->coredir) < 0) {
		pl_warnx(r, "cannot create %s: %s", ws->coredir,
			 strerror(errno));
		ws->coredir[0] = '\0';
		return PL_EXIT_FAIL;
	}

	/* for a pipe the kernel ignores a limit of 0; 1 still means no */
	if ((rc = core_case(r, &cs, "core-off", cs.pipe ? 1 : 0)) != 0)
		return rc;
	if (!cs.relative)
		emit_form(r, "note", "elsewhere",
			  FIELDS(F_STR("core_pattern", cs.pattern)));
	else if (mine.rlim_max == 0)
		emit_form(r, "note", "hard-zero",
			  FIELDS(F_STR("core_pattern", cs.pattern)));
	else if ((rc = core_case(r, &cs, "core-on", mine.rlim_max)) != 0)
		return rc;
	coredir_remove(ws);
	return PL_EXIT_OK;
}

/* ---- stopped and continued --------------------------------------------- */

/* A status waitpid() returned for a live child: reported, its bits
 * decoded, and checked to be the stop (or the continue) the stage shows. */
static int report_status(struct run *r, const struct wkid *k, int st,
			 bool continued)
{
	struct wstatus ws;

	wstatus_decode(st, &ws);
	emit_wstatus(r, k->a->pid, k->a->role, "waitpid", &ws);
	decode(r, k->a->pid, st);
	if (continued ? !ws.continued : !ws.stopped)
		return pl_fail(r, "expected a %s status; got 0x%04x",
			       continued ? "continue" : "stop", (unsigned)st);
	return 0;
}

/* Send sig to k. */
static int signal_kid(struct run *r, const struct wkid *k, int sig)
{
	if (pl_kill(r, k->a->pid, sig) == 0)
		return 0;
	pl_warnx(r, "cannot signal %d: %s", (int)k->a->pid, strerror(errno));
	return PL_EXIT_FAIL;
}

static int stage_stop(struct run *r)
{
	struct wkid *k = &((struct wait_state *)run_state(r))->stopped;
	int st, rc;

	/* named for the signal it gets, as "term" is: not for a state */
	if ((rc = spawn(r, k, "sigstop")) != 0 ||
	    (rc = signal_kid(r, k, SIGSTOP)) != 0 ||
	    (rc = obs_await(r, k->w, "T", "stopped by SIGSTOP from proclab")))
		return rc;
	if (wait_event(r, k->a->pid, WUNTRACED, &st, "the stop") < 0)
		return PL_EXIT_FAIL;
	return report_status(r, k, st, false);
}

static int stage_continue(struct run *r)
{
	struct wkid *k = &((struct wait_state *)run_state(r))->stopped;
	int st, rc;

	if ((rc = signal_kid(r, k, SIGCONT)) != 0 ||
	    (rc = obs_await(r, k->w, "S", "running again: back in read(2)")))
		return rc;
	if (wait_event(r, k->a->pid, WCONTINUED, &st, "the continue") < 0)
		return PL_EXIT_FAIL;
	if ((rc = report_status(r, k, st, true)) != 0 ||
	    (rc = signal_kid(r, k, SIGKILL)) != 0)
		return rc;
	return reap(r, k, N_("killed by SIGKILL from proclab, not waited for yet"),
		    &st);
}

/* ---- polling, peeking ---------------------------------------------------- */

static int stage_poll(struct run *r)
{
	struct wkid k;
	struct wstatus ws;
	long long deadline;
	int st, rc, polls = 0, tell = (int)opt_val(r, "polls");
	pid_t got;

	if ((rc = spawn(r, &k, "polled")) != 0)
		return rc;
	deadline = pl_now_ms() + r->timeout_ms;
	for (;;) {
		got = waitpid(k.a->pid, &st, WNOHANG);
		if (got == k.a->pid)
			break;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pl_warnx(r, "waitpid(%d): %s", (int)k.a->pid,
				 strerror(errno));
			return PL_EXIT_FAIL;
		}
		polls++;
		/* what this loop does between calls: look at the child */
		obs_sample(r, k.w, NULL, NULL);
		pl_wait_fd(r, -1, 0);   /* SIGINT still ends proclab */
		if (polls == tell &&
		    (rc = agent_do(r, k.a, AGENT_OP_EXIT, 0, NULL)) != 0)
			return rc;
		if (pl_now_ms() > deadline)
			return pl_fail(r, "expected the polled child %d to end "
				       "within %d ms; %d polls found nothing",
				       (int)k.a->pid, r->timeout_ms, polls);
	}
	emit(r, "poll", FIELDS(F_PID("pid", k.a->pid), F_MEAS("polls", polls),
			       F_INT("told_after", tell)));
	wstatus_decode(st, &ws);
	emit_wstatus(r, k.a->pid, k.a->role, "waitpid", &ws);
	decode(r, k.a->pid, st);
	agent_close(k.a);
	return obs_await(r, k.w, "X", "reaped: its /proc entry is gone");
}

static int stage_peek(struct run *r)
{
	struct wkid k;
	struct wstatus ws;
	siginfo_t si;
	char how[64];
	int st, rc, code = (int)opt_val(r, "code");

	if ((rc = spawn(r, &k, "peeked")) != 0 ||
	    (rc = agent_do(r, k.a, AGENT_OP_EXIT, code, NULL)) != 0 ||
	    (rc = obs_await(r, k.w, "Z", "exited, not waited for yet")))
		return rc;
	/* by pidfd where pidfds work, else by pid (child.h) */
	const char *idtype = kid_pidfd(r, k.a->pid) >= 0 ? "P_PIDFD" : "P_PID";
	memset(&si, 0, sizeof(si));
	if (pl_waitid(r, k.a->pid, &si, WEXITED | WNOWAIT | WNOHANG) < 0) {
		pl_warnx(r, "waitid(%s, %d): %s", idtype, (int)k.a->pid,
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (si.si_pid != k.a->pid || wstatus_from_siginfo(&si, &ws) < 0) {
		pl_warnx(r, "waitid(%s, %d): nothing to report", idtype,
			 (int)k.a->pid);
		return PL_EXIT_FAIL;
	}
	wstatus_describe_text(&ws, how, sizeof(how));
	obs_sample(r, k.w, "Z", NULL);
	emit_form(r, "peek", k.w->state == 'Z' ? NULL : "collected",
		  FIELDS(F_PID("pid", k.a->pid), F_PID("by", getpid()),
			 F_STR("call", "waitid"), F_BOOL("exited", ws.exited),
			 ws.exited ? F_INT("code", ws.code) : F_NULL("code"),
			 F_BOOL("signaled", ws.signaled),
			 F_CHAR("state", k.w->state),
			 F_TEXT("role", k.a->role), F_TEXT("idtype", idtype),
			 F_TEXT("how", how),
			 F_TEXT("si_code", wstatus_si_code_name(si.si_code)),
			 F_TEXT_INT("si_status", si.si_status)));
	if (k.w->state != 'Z')
		return pl_fail(r, "expected %s %d to stay Z after the peek; "
			       "/proc showed %c", k.a->role, (int)k.a->pid,
			       k.w->state);
	return reap(r, &k, N_("still a zombie"), &st);
}

/* ---- the order of waitpid(-1) ------------------------------------------ */

/* "101,102,103" */
static void pid_list(char *buf, size_t size, const pid_t *p, int n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d",
					i ? "," : "", (int)p[i]);
}

static struct wkid *kid_of(struct wkid *k, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (k[i].a->pid == pid)
			return &k[i];
	return NULL;
}

/* Collect whatever child has ended, with waitpid(-1): like wait(). */
static int reap_any(struct run *r, struct wkid *k, int n, pid_t *reaped)
{
	struct wstatus ws;
	struct wkid *x;
	pid_t got;
	int st;

	got = wait_event(r, -1, 0, &st, "an ended child");
	if (got < 0)
		return PL_EXIT_FAIL;
	x = kid_of(k, n, got);
	wstatus_decode(st, &ws);
	emit_wstatus(r, got, x != NULL ? x->a->role : "?", "waitpid", &ws);
	decode(r, got, st);
	*reaped = got;
	if (x == NULL)
		return pl_fail(r, "waitpid(-1) collected %d, not one of the "
			       "children of this stage", (int)got);
	agent_close(x->a);
	return obs_await(r, x->w, "X", "reaped: its /proc entry is gone");
}

/* Which sentence words a round's outcome. */
static const char *order_form(bool all_first, bool as_ended, bool as_made)
{
	if (!all_first)
		return as_ended ? NULL : "not-as-ended";
	return as_made ? "as-made" : as_ended ? "as-ended" : "neither";
}

/* The orders of --order: which child ends first, second and third
 * (indexes into the made order); never the made order itself. */
static const int end_orders[5][3] = {
	{ 2, 0, 1 }, { 1, 2, 0 }, { 2, 1, 0 }, { 1, 0, 2 }, { 0, 2, 1 },
};

/* Three children end in the order --order gives (indexes into made
 * order), with exit codes 1, 2, 3 in that order. */
static int order_round(struct run *r, struct wkid *k, const char *const *roles,
		       bool all_first)
{
	const int *ends = end_orders[opt_val(r, "order") - 1];
	pid_t made[3], ended[3], reaped[3];
	char m[64], e[64], g[64];
	bool as_ended = true, as_made = true;
	int rc;

	for (int i = 0; i < 3; i++) {
		if ((rc = spawn(r, &k[i], roles[i])) != 0)
			return rc;
		made[i] = k[i].a->pid;
	}
	for (int i = 0; i < 3; i++) {
		struct wkid *x = &k[ends[i]];

		ended[i] = x->a->pid;
		if ((rc = agent_do(r, x->a, AGENT_OP_EXIT, i + 1, NULL)) != 0)
			return rc;
		if (all_first)
			rc = obs_await(r, x->w, "Z", "exited with code {code}, "
				       "not waited for yet");
		else
			rc = reap_any(r, k, 3, &reaped[i]);
		if (rc != 0)
			return rc;
	}
	if (all_first)
		run_pause(r);   /* --step: three zombies, none reaped */
	for (int i = 0; all_first && i < 3; i++)
		if ((rc = reap_any(r, k, 3, &reaped[i])) != 0)
			return rc;
	for (int i = 0; i < 3; i++) {
		as_ended = as_ended && reaped[i] == ended[i];
		as_made = as_made && reaped[i] == made[i];
	}
	pid_list(m, sizeof(m), made, 3);
	pid_list(e, sizeof(e), ended, 3);
	pid_list(g, sizeof(g), reaped, 3);
	emit_form(r, "order", order_form(all_first, as_ended, as_made),
		  FIELDS(F_STR("mode", all_first ? "all-ended-first"
						 : "one-at-a-time"),
			 F_PIDS("made", m), F_PIDS("ended", e),
			 F_PIDS("reaped", g), F_BOOL("as_ended", as_ended),
			 F_BOOL("as_made", as_made)));
	if (!all_first && !as_ended)
		return pl_fail(r, "expected waitpid(-1) to return each child "
			       "as it ended (%s); it returned %s", e, g);
	return 0;
}

static int stage_order(struct run *r)
{
	static const char *const roles[3] = { "a", "b", "c" };
	struct wkid k[3];

	return order_round(r, k, roles, false);
}

static int stage_zombies(struct run *r)
{
	static const char *const roles[3] = { "d", "e", "f" };
	struct wkid k[3];

	return order_round(r, k, roles, true);
}

static int stage_echild(struct run *r)
{
	int st, e;
	pid_t got;

	got = waitpid(-1, &st, WNOHANG);
	if (got >= 0)
		return pl_fail(r, "expected waitpid(-1) to fail with ECHILD; "
			       "it returned %d", (int)got);
	e = errno;
	emit_form(r, "wait", "echild",
		  FIELDS(F_PID("pid", -1), F_STR("call", "waitpid"),
			 F_INT("errno", e), F_STR("error", strerrorname_np(e)),
			 F_TEXT("message", strerror(e))));
	if (e != ECHILD)
		return pl_fail(r, "expected ECHILD; got %s",
			       strerrorname_np(e));
	return 0;
}

static const struct stage wait_stages[] = {
	{ "exit", "a child calls _exit(0); then proclab calls waitpid()",
	  stage_exit, NULL, NULL, NULL },
	{ "code", "a child calls _exit with a code: it travels in bits 15-8",
	  stage_code, NULL, NULL, NULL },
	/* another signal than the first of its option is not named in the
	 * heading: a class's quiz asks for it */
	{ "signal", "a child is killed by SIGTERM: the signal number travels "
	  "in bits 6-0", stage_signal, NULL, "a child is killed by a signal "
	  "that dumps no core: the signal number travels in bits 6-0",
	  "term-signal" },
	{ "core", "a child raises SIGABRT: with RLIMIT_CORE 0, then with the "
	  "limit raised (in a private directory)", stage_core, NULL, "a child "
	  "raises a signal whose default action dumps core: with RLIMIT_CORE "
	  "0, then with the limit raised (in a private directory)",
	  "core-signal" },
	{ "stop", "SIGSTOP to a child; waitpid(WUNTRACED) reports the stop "
	  "without reaping", stage_stop, NULL, NULL, NULL },
	{ "continue", "SIGCONT to the stopped child; waitpid(WCONTINUED) "
	  "reports it; then SIGKILL", stage_continue, NULL, NULL, NULL },
	{ "poll", "a WNOHANG loop: waitpid() returns 0 until the child has "
	  "ended", stage_poll, NULL, NULL, NULL },
	{ "peek", "a child calls _exit; proclab reads its status with "
	  "waitid(WEXITED|WNOWAIT), then with waitpid()", stage_peek, NULL, NULL, NULL },
	{ "order", "three children end in another order than they were made; "
	  "waitpid(-1) after each end", stage_order, NULL, NULL, NULL },
	{ "zombies", "three more children end in that order too, all before "
	  "anyone waits; then waitpid(-1) three times", stage_zombies, NULL,
	  NULL, NULL },
	{ "echild", "waitpid(-1) with no child left", stage_echild, NULL,
	  NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* Before the first stage: SIGCHLD becomes an event, and the cleanup is
 * in place for whatever ends the run. */
static int wait_run(struct run *r)
{
	struct wait_state *ws = run_state(r);

	ws->chldfd = -1;
	/* waitpid(-1) would collect a child proclab did not make (one it
	 * inherited across exec: `sleep 9 & exec proclab wait`), and no
	 * ECHILD would come */
	if (r->ninherited > 0)
		return r->ninherited == 1
		       ? pl_unavailable(r, "proclab has %d child it did not "
					"make (inherited across exec, e.g. "
					"pid %d): waitpid(-1) would see it "
					"too; run it where it starts with "
					"none", r->ninherited,
					(int)r->inherited[0])
		       : pl_unavailable(r, "proclab has %d children it did "
					"not make (inherited across exec, "
					"e.g. pid %d): waitpid(-1) would see "
					"them too; run it where it starts "
					"with none", r->ninherited,
					(int)r->inherited[0]);
	run_on_cleanup(r, wait_cleanup);
	return sigchld_open(r);
}

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary wait_vary[] = {
	{ "code", 1, 125 },
	{ "polls", 1, 6 },
	{ "order", 1, 5 },
	{ "term-signal", 1, 5 },
	{ "core-signal", 1, 4 },
	{ NULL, 0, 0 },
};

const struct lab lab_wait = {
	.name = "wait",
	.summary = "how a parent learns how a child ended: the status, bit by bit",
	.description =
		"Children end every way a parent can learn of: _exit(0), "
		"_exit(code), killed\nby SIGTERM, SIGABRT with and without a "
		"core dump, stopped (WUNTRACED) and\ncontinued (WCONTINUED) "
		"(--term-signal and --core-signal pick other\nsignals).  "
		"Each status is shown as raw bits and as the\n<sys/wait.h> "
		"macros read it.  Then: a WNOHANG polling loop, waitid() with\n"
		"WNOWAIT (the child stays a zombie), waitpid(-1) returning "
		"children as they\nend, and ECHILD when none is left.",
	.options = wait_options,
	.run = wait_run,
	.sentences = wait_sentences,
	.stages = wait_stages,
	.state_size = sizeof(struct wait_state),
	.vary = wait_vary,
};
