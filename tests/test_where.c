/* test_where.c - the labs where users really run them: proclab as PID 1
 * of a PID namespace (a container), under an init that never reaps, in a
 * PID namespace without its own /proc, under strace -f, at low limits,
 * with a child killed from outside; and watch's fds and options.
 *
 * The namespaces are made in proclab's own process just before the exec
 * (as `unshare --pid --fork --mount-proc` does): unshare(2), then a fork
 * whose child is PID 1.  The tests that need them (root, or a kernel and
 * seccomp profile that allow it) say so on stderr and pass without
 * running where they can't, as do those that need strace.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 512

enum ns_kind {
	NS_PID1,                /* proclab is PID 1, with its own /proc */
	NS_NONREAPING,          /* PID 1 forks proclab and never reaps */
	NS_NO_PROC,             /* proclab is PID 1, /proc is the host's */
	NS_PID1_ADOPTED,        /* NS_PID1, with an orphan handed to it */
};

struct ns {
	enum ns_kind kind;
	int gate;               /* NS_PID1_ADOPTED: the orphan reads it */
	char comm[16];          /* NS_PID1_ADOPTED: the orphan's name */
	char helper[16];        /* and its parent's, a zombie from the start */
};

/* In proclab's process before the exec: a new PID namespace (and a mount
 * namespace with its /proc, but for NS_NO_PROC).  The process that made
 * it waits for PID 1 and exits as it did; PID 1 returns, to exec
 * proclab, or (NS_NONREAPING) forks the child that does and waits for its
 * end without reaping it, or anything else. */
static int into_pidns(void *arg)
{
	struct ns *ns = arg;
	int flags = CLONE_NEWPID | (ns->kind != NS_NO_PROC ? CLONE_NEWNS : 0);
	siginfo_t si;
	pid_t pid;
	int st;

	if (unshare(flags) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		/* holds nothing of the test's: its pipes reach EOF when
		 * proclab and the test close them */
		close_range(0, ~0U, 0);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	if (ns->kind != NS_NO_PROC &&
	    (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	     mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		   NULL) < 0))
		_exit(125);
	if (ns->kind == NS_PID1_ADOPTED) {
		/* a helper forks the orphan and exits at once: the orphan
		 * comes to PID 1 (proclab, after the exec), and the helper
		 * is a zombie child of proclab's from the start */
		if ((pid = fork()) < 0)
			return -1;
		if (pid == 0) {
			prctl(PR_SET_NAME, ns->helper);
			if (fork() == 0) {
				char c;

				prctl(PR_SET_NAME, ns->comm);
				/* the gate's read end only: its write end
				 * is the test's alone */
				if (ns->gate > 3)
					close_range(3, (unsigned)ns->gate - 1,
						    0);
				close_range((unsigned)ns->gate + 1, ~0U, 0);
				while (read(ns->gate, &c, 1) < 0 &&
				       errno == EINTR)
					;
				_exit(0);
			}
			_exit(0);
		}
		close(ns->gate);
		return 0;
	}
	if (ns->kind != NS_NONREAPING)
		return 0;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0)
		return 0;       /* proclab, the child of an init that never reaps */
	/* the init: wake at proclab's end (its pidfd), read its status, and
	 * leave it, as every other child, unreaped */
	st = pidfd_open(pid, 0);
	if (st >= 0)
		poll(&(struct pollfd){ st, POLLIN, 0 }, 1, -1);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		_exit(124);
	_exit(si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status);
}

/* Can this machine make the namespaces?  Tried once, in a child. */
static bool pidns_ok(void)
{
	static int ok = -1;
	struct ns ns = { NS_PID1, -1, "", "" };
	pid_t pid;
	int st;

	if (ok >= 0)
		return ok;
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(into_pidns(&ns) < 0 ? 1 : getpid() == 1 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!ok)
		fprintf(stderr, "where: skipped: cannot make a PID namespace "
			"with its own /proc here (unshare: not root?)\n");
	return ok;
}

/* start first, result last, and the result's exit the status proclab
 * exited with; returns the number of events. */
static int promise(const struct outcome *o, struct jobj *ev)
{
	int n = json_lines(o->out, ev, MAXEV);

	ck_assert_msg(n >= 2, "too few events: %s / %s", o->out, o->err);
	ck_assert_str_eq(jstr(&ev[0], "event"), "start");
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert_int_eq((int)jnum(&ev[n - 1], "exit"), o->code);
	return n;
}

static int count_events(const struct jobj *ev, int n, const char *event)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += strcmp(jstr(&ev[i], "event"), event) == 0;
	return k;
}

/* The text view's words with every run of blanks one space: a phrase is
 * found wherever the view folded it. */
static char *squash(const char *text)
{
	char *s = strdup(text), *d = s;

	ck_assert_ptr_nonnull(s);
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\n') {
			if (d > s && d[-1] != ' ')
				*d++ = ' ';
			continue;
		}
		*d++ = *p;
	}
	*d = '\0';
	return s;
}

/* ---- proclab as PID 1 ---------------------------------------------------- */

START_TEST(every_lab_as_pid1)
{
	static struct jobj ev[MAXEV];
	struct ns ns = { NS_PID1, -1, "", "" };

	if (!pidns_ok())
		return;
	for (size_t i = 0; i < lab_count; i++) {
		const char *lab = lab_table[i]->name;
		const char *argv[] = { lab, "--json", NULL };
		struct outcome o;
		int n;

		if (lab_table[i]->args != NULL)
			continue;       /* watch follows given pids */
		run_proclab_as(&o, NULL, argv, into_pidns, &ns);
		ck_assert_msg(o.code == 0, "%s as PID 1: exit %d: %s", lab,
			      o.code, o.err);
		n = promise(&o, ev);
		ck_assert_int_eq((int)jnum(&ev[0], "pid"), 1);
		ck_assert_int_eq(count_events(ev, n, "init"), 1);
		outcome_free(&o);
	}
}
END_TEST

START_TEST(orphan_as_pid1_says_why)
{
	static struct jobj ev[MAXEV];
	const char *argv[] = { "orphan", "--json", NULL };
	const char *text[] = { "orphan", "--no-color", NULL };
	const char *sub[] = { "orphan", "--subreaper", "--no-color", NULL };
	struct ns ns = { NS_PID1, -1, "", "" };
	const struct jobj *e;
	struct outcome o;
	char trail[32], *words;
	int n;

	if (!pidns_ok())
		return;
	run_proclab_as(&o, NULL, argv, into_pidns, &ns);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = promise(&o, ev);
	e = nth_event(ev, n, "subreaper", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert(!jbool(e, "subreaper"));
	e = nth_event(ev, n, "reparent", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "to"), 1);
	ck_assert_str_eq(jstr(e, "kind"), "pid1");
	/* proclab adopts it, so proclab shows its Z and reaps it */
	demonstrated(ev, n, "orphan", trail, sizeof(trail));
	ck_assert_str_eq(trail, "SZX");
	outcome_free(&o);

	run_proclab_as(&o, NULL, text, into_pidns, &ns);
	ck_assert_int_eq(o.code, 0);
	/* never "not a subreaper ... goes past it", then "adopted as one" */
	words = squash(o.out);
	ck_assert_msg(strstr(words, "goes past it") == NULL, "%s", words);
	ck_assert_msg(strstr(words, "made itself a child subreaper") == NULL,
		      "%s", words);
	ck_assert_msg(strstr(words, "but it is PID 1 of its PID namespace") !=
		      NULL, "%s", words);
	ck_assert_msg(strstr(words, "because proclab is PID 1") != NULL, "%s",
		      words);
	free(words);
	outcome_free(&o);

	/* with --subreaper both are true, and both are said */
	run_proclab_as(&o, NULL, sub, into_pidns, &ns);
	ck_assert_int_eq(o.code, 0);
	words = squash(o.out);
	ck_assert_msg(strstr(words, "made itself a child subreaper, and it is "
			     "PID 1") != NULL, "%s", words);
	free(words);
	outcome_free(&o);
}
END_TEST

/* pid of a process named comm, 0 if none */
static pid_t find_comm(const char *comm)
{
	DIR *d = opendir("/proc");
	pid_t found = 0;

	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; found == 0 && (e = readdir(d)) != NULL;) {
		char path[300], buf[64];
		ssize_t len;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, comm) == 0)
			found = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/* As PID 1 proclab reaps what it is handed while a lab pauses: an orphan
 * of the namespace that dies then is gone at once, not a zombie until
 * proclab ends. */
START_TEST(pid1_reaps_adopted)
{
	const char *argv[] = { "zombie", "--json", "--step", NULL };
	struct ns ns = { NS_PID1_ADOPTED, -1, "", "" };
	struct live l;
	struct jobj e;
	int gate[2], pauses = 0;
	pid_t orphan = 0;
	char err[2048];

	if (!pidns_ok())
		return;
	snprintf(ns.comm, sizeof(ns.comm), "pl-adopt-%d",
		 (int)(getpid() % 100000));
	snprintf(ns.helper, sizeof(ns.helper), "pl-helper%d",
		 (int)(getpid() % 100000));
	ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
	ns.gate = gate[0];
	live_start_as(&l, argv, into_pidns, &ns);
	close(gate[0]);
	while (live_next(&l, &e)) {
		if (strcmp(jstr(&e, "event"), "pause") != 0)
			continue;
		if (++pauses == 1) {
			long long t0 = pl_now_ms();

			orphan = find_comm(ns.comm);
			ck_assert_msg(orphan > 0, "no orphan %s", ns.comm);
			/* the helper, a zombie child of proclab's since before
			 * its exec: reaped at its first wait */
			ck_assert_msg(find_comm(ns.helper) == 0, "the helper "
				      "zombie %s is still there", ns.helper);
			close(gate[1]);         /* the orphan exits now */
			while (find_comm(ns.comm) != 0 &&
			       pl_now_ms() - t0 < 3000)
				poll(NULL, 0, 5);       /* test side: a poll */
			ck_assert_msg(find_comm(ns.comm) == 0, "orphan %d not "
				      "reaped by proclab, PID 1, within 3 s",
				      (int)orphan);
		}
		ck_assert_int_eq(write(l.in, "\n", 1), 1);
	}
	ck_assert_int_ge(pauses, 1);
	ck_assert_int_eq(live_finish(&l, err, sizeof(err)), 0);
}
END_TEST

/* Under an init that never reaps, the orphan stays a zombie: the lesson,
 * exit 0, not a timeout. */
START_TEST(nonreaping_init_orphan_stays)
{
	static struct jobj ev[MAXEV];
	const char *argv[] = { "orphan", "--json", "--timeout", "400", NULL };
	const char *text[] = { "orphan", "--no-color", "--timeout", "400",
			       NULL };
	struct ns ns = { NS_NONREAPING, -1, "", "" };
	const struct jobj *e;
	struct outcome o;
	char trail[32], *words;
	int n;

	if (!pidns_ok())
		return;
	run_proclab_as(&o, NULL, argv, into_pidns, &ns);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = promise(&o, ev);
	ck_assert(jbool(&ev[n - 1], "ok"));
	e = nth_event(ev, n, "reparent", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "kind"), "pid1");
	e = nth_event(ev, n, "stays", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "adopter"), 1);
	ck_assert_ptr_null(nth_event(ev, n, "released", NULL, 0));
	demonstrated(ev, n, "orphan", trail, sizeof(trail));
	ck_assert_str_eq(trail, "SZ");
	outcome_free(&o);

	run_proclab_as(&o, NULL, text, into_pidns, &ns);
	ck_assert_int_eq(o.code, 0);
	words = squash(o.out);
	ck_assert_msg(strstr(words, "still a zombie") != NULL, "%s", words);
	free(words);
	ck_assert_str_eq(o.err, "");
	outcome_free(&o);
}
END_TEST

/* `unshare --pid --fork` without --mount-proc: /proc is the host's. */
START_TEST(foreign_proc_refused)
{
	static struct jobj ev[MAXEV];
	const char *argv[] = { "orphan", "--json", NULL };
	const char *text[] = { "orphan", NULL };
	struct ns ns = { NS_NO_PROC, -1, "", "" };
	struct outcome o;
	int n;

	if (!pidns_ok())
		return;
	run_proclab_as(&o, NULL, argv, into_pidns, &ns);
	ck_assert_msg(o.code == PL_EXIT_UNAVAILABLE, "exit %d: %s", o.code,
		      o.err);
	n = promise(&o, ev);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(jstr(&ev[1], "event"), "unavailable");
	ck_assert_ptr_nonnull(strstr(jstr(&ev[1], "message"), "--mount-proc"));
	ck_assert_int_eq(count_events(ev, n, "state"), 0);
	outcome_free(&o);

	run_proclab_as(&o, NULL, text, into_pidns, &ns);
	ck_assert_int_eq(o.code, PL_EXIT_UNAVAILABLE);
	ck_assert_str_eq(o.out, "");
	/* one line */
	ck_assert_msg(strchr(o.err, '\n') == o.err + o.errlen - 1, "%s", o.err);
	ck_assert_ptr_nonnull(strstr(o.err, "not this PID namespace's"));
	outcome_free(&o);
}
END_TEST

/* ---- under strace -f ---------------------------------------------------- */

static const char *strace_path(void)
{
	static const char *const where[] = { "/usr/bin/strace", "/bin/strace" };

	for (size_t i = 0; i < 2; i++)
		if (access(where[i], X_OK) == 0 &&
		    system("strace -o /dev/null true >/dev/null 2>&1") == 0)
			return where[i];
	fprintf(stderr, "where: skipped: no strace that can trace here\n");
	return NULL;
}

/* In proclab's process before the exec: a build with ASan (make
 * SANITIZE=1) cannot check for leaks under a tracer or with no process
 * to spare (LeakSanitizer stops the world with a thread of its own). */
static void no_leak_check(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char opts[512];

	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0", old ? old : "",
		 old && old[0] ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

struct traced {
	const char *strace;
	const char *const *argv;        /* proclab's, without argv[0] */
};

static int exec_strace(void *arg)
{
	const struct traced *t = arg;
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	const char *args[32] = { "strace", "-f", "-o", "/dev/null", prog };
	size_t n = 5;

	for (size_t i = 0; t->argv[i] != NULL && n < 31; i++)
		args[n++] = t->argv[i];
	args[n] = NULL;
	no_leak_check();
	execv(t->strace, (char *const *)args);
	return -1;
}

START_TEST(strace_f_ends_at_once)
{
	static struct jobj ev[MAXEV];
	static const char *const labs[] = { "states", "wait" };
	const char *strace = strace_path();

	if (strace == NULL)
		return;
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { labs[i], "--json", "--timeout", "20000",
				       NULL };
		struct traced t = { strace, argv };
		long long t0 = pl_now_ms(), ms;
		const struct jobj *e;
		struct outcome o;
		int n;

		run_proclab_as(&o, NULL, argv, exec_strace, &t);
		ms = pl_now_ms() - t0;
		ck_assert_msg(o.code == PL_EXIT_UNAVAILABLE, "%s: exit %d: %s",
			      labs[i], o.code, o.err);
		/* the tracer is noticed: never the 20 s timeout */
		ck_assert_msg(ms < 10000, "%s took %lld ms", labs[i], ms);
		n = promise(&o, ev);
		ck_assert_ptr_nonnull(nth_event(ev, n, "traced", NULL, 0));
		e = nth_event(ev, n, "unavailable", NULL, 0);
		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_nonnull(strstr(jstr(e, "message"),
					     "t (tracing stop)"));
		outcome_free(&o);
	}
}
END_TEST

START_TEST(strace_f_zombie_still_teaches)
{
	static struct jobj ev[MAXEV];
	const char *argv[] = { "zombie", "--json", NULL };
	struct traced t = { strace_path(), argv };
	struct outcome o;
	int n;

	if (t.strace == NULL)
		return;
	run_proclab_as(&o, NULL, argv, exec_strace, &t);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = promise(&o, ev);
	ck_assert_ptr_nonnull(nth_event(ev, n, "traced", NULL, 0));
	outcome_free(&o);
}
END_TEST

/* ---- low limits --------------------------------------------------------- */

struct limits {
	int resource;
	rlim_t value;
	uid_t uid;              /* to become first, 0: stay */
};

static int lower(void *arg)
{
	const struct limits *l = arg;
	struct rlimit rl = { l->value, l->value };

	no_leak_check();
	if (l->uid != 0 && (setgroups(0, NULL) < 0 ||
			    setresgid(l->uid, l->uid, l->uid) < 0))
		return -1;
	if (setrlimit(l->resource, &rl) < 0)
		return -1;
	if (l->uid != 0 && setresuid(l->uid, l->uid, l->uid) < 0)
		return -1;
	return 0;
}

/* Every lab at the limit: it runs (0), or ends at once with exit 3 and an
 * `error` (a call that failed) or `unavailable` event before `result`;
 * start first, result last either way. */
static void every_lab_under(const struct limits *lim, const char *what)
{
	static struct jobj ev[MAXEV];

	for (size_t i = 0; i < lab_count; i++) {
		const char *lab = lab_table[i]->name;
		const char *argv[] = { lab, "--json", "--timeout", "20000",
				       NULL };
		long long t0 = pl_now_ms();
		struct outcome o;
		int n;

		if (lab_table[i]->args != NULL)
			continue;
		run_proclab_as(&o, NULL, argv, lower, (void *)lim);
		if (o.code == 127 && strstr(o.err, "libasan") != NULL) {
			fprintf(stderr, "where: %s: skipped: an ASan build "
				"cannot even load there\n", what);
			outcome_free(&o);
			return;
		}
		ck_assert_msg(o.code == 0 || o.code == PL_EXIT_UNAVAILABLE,
			      "%s under %s: exit %d: %s", lab, what, o.code,
			      o.err);
		ck_assert_msg(pl_now_ms() - t0 < 10000, "%s under %s: a "
			      "timeout", lab, what);
		n = promise(&o, ev);
		if (o.code == PL_EXIT_UNAVAILABLE)
			ck_assert_msg(count_events(ev, n, "error") +
				      count_events(ev, n, "unavailable") >= 1,
				      "%s under %s: exit 3 without a reason",
				      lab, what);
		outcome_free(&o);
	}
}

START_TEST(low_fd_limit)
{
	struct limits lim = { RLIMIT_NOFILE, 10, 0 };

	every_lab_under(&lim, "ulimit -n 10");
	lim.value = 64;
	every_lab_under(&lim, "ulimit -n 64");
}
END_TEST

START_TEST(low_memory_limit)
{
	struct limits lim = { RLIMIT_AS, 8000 * 1024, 0 };

	every_lab_under(&lim, "ulimit -v 8000");
}
END_TEST

START_TEST(low_process_limit)
{
	/* a uid that runs nothing else, so that 2 is what it has */
	struct limits lim = { RLIMIT_NPROC, 2, 61235 };

	if (geteuid() != 0) {
		fprintf(stderr, "where: low_process_limit: skipped: needs "
			"root to take a fresh uid\n");
		return;
	}
	every_lab_under(&lim, "ulimit -u 2 as uid 61235");
}
END_TEST

/* proclab's own failed call (the pidfd of its first child: the 11th fd)
 * is named, with an error event of role proclab, exit 3. */
START_TEST(engine_failure_is_named)
{
	static struct jobj ev[MAXEV];
	const char *argv[] = { "orphan", "--json", NULL };
	struct limits lim = { RLIMIT_NOFILE, 10, 0 };
	const struct jobj *e;
	struct outcome o;
	int n;

	run_proclab_as(&o, NULL, argv, lower, &lim);
	ck_assert_msg(o.code == PL_EXIT_UNAVAILABLE, "exit %d: %s", o.code,
		      o.err);
	n = promise(&o, ev);
	e = nth_event(ev, n, "error", NULL, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "error"), "EMFILE");
	ck_assert_str_ne(jstr(e, "call"), "");
	ck_assert_str_eq(jstr(&ev[n - 2], "event"), "error");
	outcome_free(&o);
}
END_TEST

/* ---- a child killed from outside ---------------------------------------- */

/* Wait (the test's side, up to 2 s) until pid has died of the kill: Z,
 * or gone.  As a user would: kill, look, then press Enter. */
static void await_dead(pid_t pid)
{
	long long t0 = pl_now_ms();
	struct proc_stat st;

	while (proc_peek_stat(pid, &st) == PROC_OK && st.state != 'Z' &&
	       pl_now_ms() - t0 < 2000)
		poll(NULL, 0, 1);
}

static void kill_child_at_pause(const char *lab, int stage, const char *role)
{
	const char *argv[] = { lab, "--json", "--step", "--timeout", "20000",
			       NULL };
	struct live l;
	struct jobj e;
	pid_t victim = 0;
	long long t0 = 0;
	char err[2048];
	bool said = false;
	int rc;

	live_start(&l, argv);
	while (live_next(&l, &e)) {
		const char *ev = jstr(&e, "event");

		if (strcmp(ev, "state") == 0 && victim == 0 &&
		    strcmp(jstr(&e, "role"), role) == 0)
			victim = (pid_t)jnum(&e, "pid");
		if ((strcmp(ev, "expect") == 0 || strcmp(ev, "error") == 0) &&
		    strstr(jstr(&e, "message"), "killed by SIGKILL") != NULL)
			said = true;
		if (strcmp(ev, "pause") != 0)
			continue;
		if ((int)jnum(&e, "stage") == stage && t0 == 0) {
			ck_assert_int_gt(victim, 0);
			ck_assert_int_eq(kill(victim, SIGKILL), 0);
			await_dead(victim);
			t0 = pl_now_ms();
		}
		if (write(l.in, "\n", 1) != 1)
			break;
	}
	rc = live_finish(&l, err, sizeof(err));
	ck_assert_msg(rc == PL_EXIT_FAIL, "%s: exit %d (victim %d at stage "
		      "%d): %s", lab, rc, (int)victim, stage, err);
	ck_assert_msg(t0 > 0 && pl_now_ms() - t0 < 5000, "%s: not at once",
		      lab);
	ck_assert_msg(said, "%s: no word of SIGKILL: %s", lab, err);
}

START_TEST(killed_from_outside)
{
	kill_child_at_pause("zombie", stage_number("zombie", "block"), "child");
	kill_child_at_pause("orphan", stage_number("orphan", "fork"), "orphan");
	kill_child_at_pause("states", stage_number("states", "sleep"), "child");
	/* the vfork child, which waits for its order on the caller's pipe */
	kill_child_at_pause("vfork", stage_number("vfork", "vfork"), "child");
}
END_TEST

/* ---- watch -------------------------------------------------------------- */

START_TEST(watch_refuses_what_it_ignores)
{
	static const char *const opts[][2] = {
		{ "--step", NULL }, { "--quiz", NULL }, { "--delay", "10" },
		{ "--timeout", "10" },
	};
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (size_t i = 0; i < 4; i++) {
		const char *argv[] = { "watch", "--for", "1", opts[i][0],
				       opts[i][1], opts[i][1] ? pid : NULL,
				       NULL };
		struct outcome o;

		if (opts[i][1] == NULL)
			argv[4] = pid;
		run_proclab(&o, NULL, argv);
		ck_assert_msg(o.code == PL_EXIT_USAGE, "%s: exit %d",
			      opts[i][0], o.code);
		ck_assert_str_eq(o.out, "");
		ck_assert_ptr_nonnull(strstr(o.err, "does not apply"));
		outcome_free(&o);
	}
	/* nor does its help offer them (shell completion reads it) */
	{
		const char *argv[] = { "watch", "--help", NULL };
		struct outcome o;

		run_proclab(&o, NULL, argv);
		ck_assert_int_eq(o.code, 0);
		ck_assert_ptr_null(strstr(o.out, "  --step "));
		ck_assert_ptr_null(strstr(o.out, "  --timeout "));
		ck_assert_ptr_nonnull(strstr(o.out, "  --json "));
		ck_assert_ptr_nonnull(strstr(o.out, "watch refuses"));
		outcome_free(&o);
	}
}
END_TEST

/* the fds open in this process, as proclab will inherit them */
static int fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = -1;             /* the directory's own */

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 2;           /* . and .. */
}

static int nofile(void *arg)
{
	struct rlimit rl = { *(rlim_t *)arg, *(rlim_t *)arg };

	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* watch follows one pid with a few fds more than it holds at the start
 * (its signalfd, 3 for the pid, 2 spare), not 19. */
START_TEST(watch_needs_few_fds)
{
	int wfd;
	pid_t child = blocked_child(NULL, &wfd);
	char pid[16];
	const char *argv[] = { "watch", "--for", "1", pid, "--json", NULL };
	struct outcome o;
	rlim_t lim;

	snprintf(pid, sizeof(pid), "%d", (int)child);
	/* proclab inherits what this process holds at the fork, less the
	 * pipes run_proclab makes (CLOEXEC) and with its own 0, 1, 2 */
	lim = (rlim_t)fds_open() + 1 + 3 + 2 + 3;
	ck_assert_uint_lt(lim, 19);
	run_proclab_as(&o, NULL, argv, nofile, &lim);
	ck_assert_msg(o.code == 0, "limit %d: exit %d: %s", (int)lim, o.code,
		      o.err);
	outcome_free(&o);
	close(wfd);
	waitpid(child, NULL, 0);
}
END_TEST

Suite *make_where_suite(void)
{
	Suite *s = suite_create("where");
	TCase *tc = tcase_create("where");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_lab_as_pid1);
	tcase_add_test(tc, orphan_as_pid1_says_why);
	tcase_add_test(tc, pid1_reaps_adopted);
	tcase_add_test(tc, nonreaping_init_orphan_stays);
	tcase_add_test(tc, foreign_proc_refused);
	tcase_add_test(tc, strace_f_ends_at_once);
	tcase_add_test(tc, strace_f_zombie_still_teaches);
	tcase_add_test(tc, low_fd_limit);
	tcase_add_test(tc, low_memory_limit);
	tcase_add_test(tc, low_process_limit);
	tcase_add_test(tc, engine_failure_is_named);
	tcase_add_test(tc, killed_from_outside);
	tcase_add_test(tc, watch_refuses_what_it_ignores);
	tcase_add_test(tc, watch_needs_few_fds);
	suite_add_tcase(s, tc);
	return s;
}
