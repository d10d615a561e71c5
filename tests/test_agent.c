/* test_agent.c - the child agent (agent.h), driven in this process: round
 * trips of the built-in operations and of a lab's table, agent_fork and
 * its grandchild (killed at teardown), reports queued for later expects,
 * agents forked by agents to any depth (fork_nested), a failed call
 * reported as an error event with exit 3, and an agent
 * killed from outside noticed at once; `proclab fork` under a memory limit
 * ends with the error line, not a timeout. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

enum {
	OP_ADD = AGENT_OP_LAB,  /* {a + b} */
	OP_WHO,                 /* {getpid, getppid} */
	OP_SAY3,                /* three REP_ITEM reports, then the answer */
	OP_EMFILE,              /* lower RLIMIT_NOFILE, then dup(): fails */
	OP_PUT,                 /* write(v0, "ok", 2) */
	OP_MKPIPE,              /* pipe(): {read fd, write fd} */
	OP_SLEEP,               /* exec sleep 30 */
	REP_ITEM = AGENT_REP_LAB,
	REP_NEVER,              /* nobody sends it */
};

static int op_add(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	(void)c;
	out[0] = a[0] + a[1];
	return AGENT_OK;
}

static int op_who(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	(void)a;
	out[0] = getpid();
	out[1] = getppid();
	out[2] = c->id;
	return AGENT_OK;
}

static int op_say3(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	for (int i = 0; i < 3; i++)
		agent_say(c, REP_ITEM, a[0] + i, 0, 0, 0);
	out[0] = 3;
	return AGENT_OK;
}

static int op_emfile(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	struct rlimit rl = { 3, 3 };

	(void)a, (void)out;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		agent_fail(c, AGENT_CALL_SETRLIMIT);
	if (dup(0) < 0)         /* fds 0..4 are open: EMFILE */
		agent_fail(c, AGENT_CALL_DUP);
	return AGENT_OK;
}

static int op_put(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	(void)c;
	out[0] = write((int)a[0], "ok", 2);
	return AGENT_OK;
}

static int op_mkpipe(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	int p[2];

	(void)a;
	if (pipe(p) < 0)
		agent_fail(c, AGENT_CALL_PIPE);
	out[0] = p[0];
	out[1] = p[1];
	return AGENT_OK;
}

static int op_sleep(struct agent_ctx *c, const int64_t a[], int64_t out[])
{
	char *const argv[] = { "sleep", "30", NULL };
	extern char **environ;

	(void)a, (void)out;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		agent_fail(c, AGENT_CALL_CLOSE_RANGE);
	execve("/bin/sleep", argv, environ);
	execve("/usr/bin/sleep", argv, environ);
	agent_fail(c, AGENT_CALL_EXECVE);
}

static const struct agent_op_def test_ops[] = {
	{ OP_MKPIPE, "mkpipe", op_mkpipe },
	{ OP_SLEEP, "sleep", op_sleep },
	{ OP_PUT, "put", op_put },
	{ OP_ADD, "add", op_add },
	{ OP_WHO, "who", op_who },
	{ OP_SAY3, "say3", op_say3 },
	{ OP_EMFILE, "emfile", op_emfile },
	{ REP_ITEM, "item", NULL },
	{ REP_NEVER, "never", NULL },
	{ 0, NULL, NULL },
};

static struct run R;
static int out_fd = -1, err_fd = -1;

/* A run that is not a lab, in JSON, its stdout and stderr kept in
 * memory files for the test to read. */
static struct run *setup(void)
{
	static const struct lab agent_lab = { .name = "agent" };
	const struct agent_config cfg = { test_ops, NULL, NULL };
	sigset_t set;

	memset(&R, 0, sizeof(R));
	R.lab = &agent_lab;
	R.json = true;
	R.timeout_ms = 5000;
	R.self = getpid();
	R.no_pidfd = !pl_pidfd_works();
	clock_gettime(CLOCK_MONOTONIC, &R.t0);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);       /* as src/main.c does */
	R.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	ck_assert_int_ge(R.sigfd, 0);
	ck_assert_int_eq(obs_reserve(&R, OBS_MAX), 0);
	fflush(NULL);
	out_fd = memfd_create("out", 0);
	err_fd = memfd_create("err", 0);
	ck_assert(out_fd >= 0 && err_fd >= 0);
	ck_assert_int_eq(dup2(out_fd, STDOUT_FILENO), STDOUT_FILENO);
	ck_assert_int_eq(dup2(err_fd, STDERR_FILENO), STDERR_FILENO);
	ck_assert_int_eq(agent_init(&R, &cfg), 0);
	return &R;
}

/* Everything written to fd (stdout or stderr's memory file) so far. */
static const char *captured(int fd)
{
	static char buf[2][16384];
	char *b = buf[fd == err_fd];
	ssize_t n;

	fflush(NULL);
	n = pread(fd, b, sizeof(buf[0]) - 1, 0);
	b[n > 0 ? n : 0] = '\0';
	return b;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* /proc/PID/comm, without the newline. */
static void comm_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, (int)size, f));
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* How many fds the process has open. */
static int nfds(pid_t pid)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "ls /proc/%d/fd | wc -l", (int)pid);
	FILE *f = popen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

START_TEST(round_trip)
{
	struct run *r = setup();
	struct agent_msg m;
	struct agent *a;
	int64_t args[AGENT_ARGS] = { 40, 2, 0, 0 };
	char comm[32];
	int rc, status;

	a = agent_spawn(r, "worker", &rc);
	ck_assert_msg(a != NULL, "rc %d: %s", rc, captured(err_fd));
	comm_of(a->pid, comm, sizeof(comm));
	ck_assert_str_eq(comm, "proclab-worker");
	/* stdin, stdout, stderr, the report channel, its command pipe */
	ck_assert_int_eq(nfds(a->pid), 5);
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_SPIN, 0, &m), 0);
	ck_assert_int_eq(m.from, a->id);
	ck_assert_int_eq(m.kind, AGENT_OP_SPIN);
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_BLOCK, 0, NULL), 0);
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_TOUCH, 2, &m), 0);
	ck_assert_int_eq(m.v[0], 2 << 20);
	ck_assert_int_eq(agent_do_args(r, a, OP_ADD, args, &m), 0);
	ck_assert_int_eq(m.v[0], 42);
	ck_assert_int_eq(agent_do(r, a, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[0], a->pid);
	ck_assert_int_eq(m.v[1], getpid());
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_EXIT, 7, NULL), 0);
	ck_assert_int_eq(pl_waitpid(r, a->pid, "worker", &status), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	/* the lifeline: a second agent exits 0 when its pipe is closed */
	a = agent_spawn(r, "second", &rc);
	ck_assert_ptr_nonnull(a);
	agent_close(a);
	ck_assert_int_eq(pl_waitpid(r, a->pid, "second", &status), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	run_teardown(r);
}
END_TEST

/* The process group of pid (field 5 of /proc/PID/stat). */
static pid_t pgrp_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int pgrp = -1;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	ck_assert(p != NULL && sscanf(p + 2, "%*c %*d %d", &pgrp) == 1);
	return (pid_t)pgrp;
}

/* With a janitor, agents go into the run's group (and their children
 * with them); agent_in_proclab_group() keeps one in proclab's, and the
 * teardown stops the janitor. */
START_TEST(process_groups)
{
	struct run *r = setup();
	struct agent *a, *b, *p, *g;
	pid_t janitor;
	int rc;

	ck_assert_int_eq(janitor_start(r), 0);
	janitor = r->janitor;
	ck_assert_int_eq(r->pgid, janitor);
	ck_assert_int_eq(pgrp_of(janitor), janitor);
	a = agent_spawn(r, "grouped", &rc);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(pgrp_of(a->pid), r->pgid);
	b = agent_new(r, "mine");
	ck_assert_ptr_nonnull(b);
	agent_in_proclab_group(b);
	ck_assert_int_eq(agent_start(r, b, NULL), 0);
	ck_assert_int_eq(pgrp_of(b->pid), getpgrp());
	p = agent_new(r, "parent");
	g = agent_plan_child(r, p, "child");
	ck_assert(p != NULL && g != NULL);
	ck_assert_int_eq(agent_start(r, p, NULL), 0);
	ck_assert_int_eq(agent_fork(r, p, g, NULL, NULL), 0);
	ck_assert_int_eq(pgrp_of(g->pid), r->pgid);
	run_teardown(r);
	ck_assert_int_eq(r->janitor, 0);
	ck_assert_int_eq(kill(janitor, 0), -1);        /* reaped */
}
END_TEST

/* An fd handed to an agent at the number asked for; nothing else more. */
START_TEST(give_fd)
{
	struct run *r = setup();
	struct agent_msg m;
	struct agent *a;
	char buf[8] = "";
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	a = agent_new(r, "writer");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(agent_give_fd(r, a, p[1], 9), 0);
	ck_assert_int_ne(agent_give_fd(r, a, p[1], 9), 0);  /* taken */
	ck_assert_int_eq(agent_start(r, a, NULL), 0);
	close(p[1]);
	/* stdio, fd 9, the report channel and its command pipe */
	ck_assert_int_eq(nfds(a->pid), 6);
	ck_assert_int_eq(agent_do(r, a, OP_PUT, 9, &m), 0);
	ck_assert_int_eq(m.v[0], 2);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ok");
	/* the agent held the only write end: EOF once it is gone */
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_EXIT, 0, NULL), 0);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 0);
	/* and one that exited while we wait for it: said at once */
	ck_assert_int_eq(agent_expect(r, a, REP_NEVER, NULL), PL_EXIT_FAIL);
	ck_assert_msg(strstr(captured(err_fd), "exited with code 0 while") !=
		      NULL, "%s", captured(err_fd));
	close(p[0]);
	run_teardown(r);
}
END_TEST

/* agent_take(): a report that came is taken without waiting, once; one
 * that never came is not heard, at once, even from an agent that has
 * ended. */
START_TEST(take_without_waiting)
{
	struct run *r = setup();
	struct agent_msg m;
	struct agent *a;
	bool heard;
	double t0;
	int rc, status;

	a = agent_spawn(r, "sayer", &rc);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(agent_do(r, a, OP_SAY3, 5, &m), 0);
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_EXIT, 0, NULL), 0);
	ck_assert_int_eq(pl_waitpid(r, a->pid, "sayer", &status), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(agent_take(r, a, REP_ITEM, &m, &heard), 0);
		ck_assert(heard);
		ck_assert_int_eq(m.v[0], 5 + i);
	}
	t0 = now_ms();
	ck_assert_int_eq(agent_take(r, a, REP_ITEM, &m, &heard), 0);
	ck_assert(!heard);
	ck_assert_int_eq(agent_take(r, NULL, REP_NEVER, NULL, &heard), 0);
	ck_assert(!heard);
	ck_assert(now_ms() - t0 < 1000);
	run_teardown(r);
}
END_TEST

/* A report of another kind, or from another sender, waits in the queue
 * for the expect that asks for it. */
START_TEST(queued_reports)
{
	struct run *r = setup();
	struct agent_msg m;
	struct agent *a, *b;
	int64_t args[AGENT_ARGS] = { 10, 0, 0, 0 };
	int rc;

	a = agent_spawn(r, "first", &rc);
	b = agent_spawn(r, "second", &rc);
	ck_assert(a != NULL && b != NULL);
	/* b's three items and answer come while nobody asks for them */
	ck_assert_int_eq(agent_send(r, b, OP_SAY3, args), 0);
	ck_assert_int_eq(agent_do(r, b, AGENT_OP_BLOCK, 0, NULL), 0);
	args[0] = 1;
	args[1] = 2;
	ck_assert_int_eq(agent_do_args(r, a, OP_ADD, args, &m), 0);
	ck_assert_int_eq(m.from, a->id);
	ck_assert_int_eq(m.v[0], 3);
	/* then taken in order, by sender and kind */
	ck_assert_int_eq(agent_expect(r, b, OP_SAY3, &m), 0);
	ck_assert_int_eq(m.v[0], 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(agent_expect(r, NULL, REP_ITEM, &m), 0);
		ck_assert_int_eq(m.from, b->id);
		ck_assert_int_eq(m.v[0], 10 + i);
	}
	run_teardown(r);
}
END_TEST

/* agent_fork: the parent agent forks a planned agent, which is tracked,
 * watched and driven like any; teardown kills both. */
START_TEST(fork_grandchild)
{
	struct run *r = setup();
	struct agent_msg forked, ready, m;
	struct agent *p, *g;
	struct watched *w;
	char comm[32];
	pid_t gpid, ppid;

	p = agent_new(r, "boss");
	g = agent_plan_child(r, p, "grand");
	ck_assert(p != NULL && g != NULL);
	ck_assert_int_eq(agent_start(r, p, NULL), 0);
	ck_assert_int_eq(agent_fork(r, p, g, &forked, &ready), 0);
	gpid = g->pid;
	ppid = p->pid;
	ck_assert_int_eq(forked.v[0], gpid);
	ck_assert_int_eq(ready.v[0], gpid);     /* its getpid */
	ck_assert_int_eq(ready.v[1], p->pid);   /* its getppid */
	ck_assert_int_eq(ready.v[2], 0);        /* fork's return in it */
	ck_assert(r->no_pidfd || kid_pidfd(r, gpid) >= 0);
	comm_of(gpid, comm, sizeof(comm));
	ck_assert_str_eq(comm, "proclab-grand");
	/* stdio, the channel, its own command pipe: not its parent's */
	ck_assert_int_eq(nfds(gpid), 5);
	w = obs_add(r, gpid, g->pidfd, "grand");
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(agent_do(r, g, AGENT_OP_SPIN, 0, NULL), 0);
	ck_assert_int_eq(obs_await(r, w, "R", "spins"), 0);
	ck_assert_int_eq(agent_do(r, g, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[1], p->pid);
	ck_assert_int_eq(agent_do(r, g, AGENT_OP_BLOCK, 0, NULL), 0);
	ck_assert_int_eq(obs_await(r, w, "S", "blocks"), 0);
	run_teardown(r);        /* p and g are gone: freed */
	ck_assert_int_eq(kill(gpid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(kill(ppid, 0), -1);
}
END_TEST

/* An agent planned to outlive its parent (an orphan) survives it, is
 * adopted (here by the test, a subreaper) and still ends at the lifeline. */
START_TEST(orphan_outlives)
{
	struct run *r = setup();
	struct agent_msg m;
	struct agent *p, *g;
	int status;
	pid_t gpid;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	p = agent_new(r, "parent");
	g = agent_plan_child(r, p, "orphan");
	agent_outlives(g);
	ck_assert_int_eq(agent_start(r, p, NULL), 0);
	ck_assert_int_eq(agent_fork(r, p, g, NULL, NULL), 0);
	gpid = g->pid;
	ck_assert_int_eq(agent_do(r, p, AGENT_OP_EXIT, 0, NULL), 0);
	ck_assert_int_eq(pl_waitpid(r, p->pid, "parent", &status), 0);
	ck_assert_int_eq(agent_do(r, g, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[1], getpid());     /* adopted by the subreaper */
	agent_close(g);
	ck_assert_int_eq(waitpid(gpid, &status, 0), gpid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	run_teardown(r);
}
END_TEST

/* A failed call in an agent: one line on stderr, an error event, exit 3,
 * long before the timeout. */
START_TEST(setup_failure)
{
	struct run *r = setup();
	struct agent *a;
	char want[128];
	int rc;

	r->timeout_ms = 20000;
	a = agent_spawn(r, "worker", &rc);
	ck_assert_ptr_nonnull(a);
	rc = agent_do(r, a, OP_EMFILE, 0, NULL);
	ck_assert_int_eq(rc, PL_EXIT_UNAVAILABLE);
	snprintf(want, sizeof(want), "proclab: agent: the worker cannot set "
		 "up: dup: %s\n", strerror(EMFILE));
	ck_assert_str_eq(captured(err_fd), want);
	snprintf(want, sizeof(want), "\"role\":\"worker\","
		 "\"pid\":%d,\"call\":\"dup\",\"errno\":%d,\"error\":\"EMFILE\","
		 "\"message\":\"the worker cannot set up: dup: %s\"}",
		 (int)a->pid, EMFILE, strerror(EMFILE));
	ck_assert_msg(strstr(captured(out_fd), want) != NULL, "%s",
		      captured(out_fd));
	run_teardown(r);
}
END_TEST

/* Killed from outside while proclab waits for it: said at once, with the
 * signal; the same for a grandchild (not proclab's child). */
START_TEST(killed_from_outside)
{
	struct run *r = setup();
	struct agent *a, *p, *g;
	char want[160];
	double t0;
	int rc;

	r->timeout_ms = 20000;
	a = agent_spawn(r, "victim", &rc);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(kill(a->pid, SIGKILL), 0);     /* not pl_kill */
	t0 = now_ms();
	rc = agent_expect(r, a, REP_NEVER, NULL);
	fprintf(stdout, "# noticed in %.1f ms\n", now_ms() - t0);
	ck_assert_int_eq(rc, PL_EXIT_FAIL);
	snprintf(want, sizeof(want), "the victim %d was killed by SIGKILL "
		 "while proclab waited for the victim's report \"never\"",
		 (int)a->pid);
	ck_assert_msg(strstr(captured(err_fd), want) != NULL, "%s",
		      captured(err_fd));

	p = agent_new(r, "boss");
	g = agent_plan_child(r, p, "grand");
	ck_assert_int_eq(agent_start(r, p, NULL), 0);
	ck_assert_int_eq(agent_fork(r, p, g, NULL, NULL), 0);
	ck_assert_int_eq(kill(g->pid, SIGTERM), 0);
	rc = agent_expect(r, p, REP_NEVER, NULL);
	ck_assert_int_eq(rc, PL_EXIT_FAIL);
	snprintf(want, sizeof(want), "the grand %d was killed by SIGTERM "
		 "while proclab waited for the boss's report \"never\"",
		 (int)g->pid);
	ck_assert_msg(strstr(captured(err_fd), want) != NULL, "%s",
		      captured(err_fd));
	run_teardown(r);
}
END_TEST

/* An agent's exit code is named in the message. */
START_TEST(exit_codes_decoded)
{
	struct run *r = setup();
	struct agent *a;
	char want[160];
	int rc;

	a = agent_spawn(r, "worker", &rc);
	ck_assert_ptr_nonnull(a);
	/* a command it does not know */
	ck_assert_int_eq(agent_send(r, a, 999, (int64_t[AGENT_ARGS]){ 0 }), 0);
	rc = agent_expect(r, a, 999, NULL);
	ck_assert_int_eq(rc, PL_EXIT_FAIL);
	snprintf(want, sizeof(want), "the worker %d exited with code %d (%s)",
		 (int)a->pid, AGENT_EXIT_PROTOCOL,
		 agent_exit_meaning(AGENT_EXIT_PROTOCOL));
	ck_assert_msg(strstr(captured(err_fd), want) != NULL, "%s",
		      captured(err_fd));
	run_teardown(r);
}
END_TEST

/* proclab fork under a small address-space limit: the parent's mmap fails;
 * exit 3, one line, an error event before the result, no timeout. */
static int small_as(void *arg)
{
	struct rlimit rl = { 200 << 20, 200 << 20 };

	(void)arg;
	return setrlimit(RLIMIT_AS, &rl);
}

START_TEST(fork_lab_setup_failure)
{
	struct outcome o;
	struct jobj ev[64];
	int n;

	run_proclab_as(&o, NULL, (const char *const[]){ "fork", "--pages",
			"65536", "--json", "--timeout", "20000", NULL },
		       small_as, NULL);
	if (strstr(o.err, "AddressSanitizer") != NULL) {
		fprintf(stderr, "fork_lab_setup_failure: not run (ASan cannot "
			"run under RLIMIT_AS)\n");
		outcome_free(&o);
		return;
	}
	ck_assert_msg(o.code == 3, "exit %d: %s", o.code, o.err);
	ck_assert_str_eq(o.err, "proclab: fork: the parent cannot set up: "
			 "mmap: Cannot allocate memory\n");
	n = json_lines(o.out, ev, 64);
	ck_assert_int_ge(n, 3);
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert_str_eq(jstr(&ev[n - 2], "event"), "error");
	ck_assert_str_eq(jstr(&ev[n - 2], "role"), "parent");
	ck_assert_str_eq(jstr(&ev[n - 2], "call"), "mmap");
	ck_assert_str_eq(jstr(&ev[n - 2], "error"), "ENOMEM");
	ck_assert_int_eq((int)jnum(&ev[n - 2], "errno"), ENOMEM);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* The clone-vfork helper: the caller is suspended until the child exits,
 * and the child ran in the caller's memory. */
static int __attribute__((no_sanitize("address"))) vchild(void *arg)
{
	*(volatile int *)arg = 42;
	_exit(5);
}

START_TEST(clone_vfork_helper)
{
	volatile int shared = 0;
	int status;
	pid_t pid = agent_clone_vfork(vchild, (void *)&shared, NULL, 65536);

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(shared, 42);   /* before it returned: CLONE_VFORK */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 5);
}
END_TEST

/* Agents forked by agents fork agents: a chain four deep and a second
 * branch.  Each holds stdio, the channel, its own pipe and the pipes of
 * the agents below it not yet forked; each reports its real parent; an
 * orphan in the middle keeps its own children (only it moves); closing a
 * pipe ends that agent alone; teardown ends the rest. */
START_TEST(fork_nested)
{
	struct run *r = setup();
	struct agent *a, *b, *c, *d, *e;
	struct agent_msg ready, m;
	pid_t pids[5];

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	a = agent_new(r, "a");
	ck_assert_ptr_nonnull(a);
	b = agent_plan_child(r, a, "b");
	ck_assert_ptr_nonnull(b);
	c = agent_plan_child(r, b, "c");
	ck_assert_ptr_nonnull(c);
	d = agent_plan_child(r, c, "d");
	ck_assert_ptr_nonnull(d);
	e = agent_plan_child(r, a, "e");
	ck_assert_ptr_nonnull(e);
	agent_outlives(c);
	agent_outlives(d);
	ck_assert_int_eq(agent_start(r, a, NULL), 0);
	/* too late to plan under a started tree */
	ck_assert_ptr_null(agent_plan_child(r, d, "late"));
	/* stdio, the channel, its own pipe, b's, c's, d's, e's */
	ck_assert_int_eq(nfds(a->pid), 9);
	ck_assert_int_eq(agent_fork(r, a, b, NULL, &ready), 0);
	ck_assert_int_eq(ready.v[1], a->pid);
	ck_assert_int_eq(nfds(a->pid), 6);      /* e's still */
	ck_assert_int_eq(nfds(b->pid), 7);      /* its own, c's, d's */
	ck_assert_int_eq(agent_fork(r, b, c, NULL, &ready), 0);
	ck_assert_int_eq(ready.v[1], b->pid);
	ck_assert_int_eq(agent_fork(r, c, d, NULL, &ready), 0);
	ck_assert_int_eq(ready.v[1], c->pid);
	ck_assert_int_eq(nfds(d->pid), 5);
	ck_assert_int_eq(nfds(c->pid), 5);
	ck_assert_int_eq(agent_fork(r, a, e, NULL, &ready), 0);
	ck_assert_int_eq(nfds(a->pid), 5);
	ck_assert_int_eq(agent_do(r, d, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[1], c->pid);
	pids[0] = a->pid, pids[1] = b->pid, pids[2] = c->pid;
	pids[3] = d->pid, pids[4] = e->pid;
	/* b exits: c, its child, goes to the subreaper; d stays c's */
	ck_assert_int_eq(agent_do(r, b, AGENT_OP_EXIT, 0, NULL), 0);
	ck_assert_int_eq(pl_wait_exit(r, pids[1], 5000), 1);
	ck_assert_int_eq(agent_do(r, c, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[1], getpid());
	ck_assert_int_eq(agent_do(r, d, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[1], c->pid);
	/* the lifeline: d alone ends when its pipe closes */
	agent_close(d);
	ck_assert_int_eq(agent_do(r, c, AGENT_OP_REAP, d->id, &m), 0);
	ck_assert_int_eq(m.v[0], pids[3]);
	ck_assert(WIFEXITED(m.v[1]) && WEXITSTATUS(m.v[1]) == 0);
	ck_assert_int_eq(agent_do(r, e, OP_WHO, 0, &m), 0);
	ck_assert_int_eq(m.v[1], pids[0]);
	run_teardown(r);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(kill(pids[i], 0), -1);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 0UL), 0);
}
END_TEST

/* obs_settle: the state is reached, and reported only as transient. */
/* agent_inherits(): a child forked after its parent made a pipe has the
 * pipe (the same inode in /proc), one forked without it has not. */
START_TEST(fork_inherits)
{
	struct run *r = setup();
	struct agent *p, *heir, *other;
	struct watched *wp, *wh;
	struct agent_msg m;
	unsigned long long a = 0, b = 0;
	char link[64];
	int wfd;

	p = agent_new(r, "parent");
	heir = agent_plan_child(r, p, "heir");
	other = agent_plan_child(r, p, "other");
	ck_assert(p != NULL && heir != NULL && other != NULL);
	agent_inherits(heir);
	ck_assert_int_eq(agent_start(r, p, NULL), 0);
	ck_assert_int_eq(agent_do(r, p, OP_MKPIPE, 0, &m), 0);
	wfd = (int)m.v[1];
	ck_assert_int_eq(agent_fork(r, p, heir, NULL, NULL), 0);
	ck_assert_int_eq(agent_fork(r, p, other, NULL, NULL), 0);
	wp = obs_add(r, p->pid, p->pidfd, "parent");
	wh = obs_add(r, heir->pid, heir->pidfd, "heir");
	ck_assert(wp != NULL && wh != NULL);
	ck_assert_int_eq(obs_fd_link(r, wp, wfd, link, sizeof(link), &a),
			 PROC_OK);
	ck_assert_int_eq(obs_fd_link(r, wh, wfd, link, sizeof(link), &b),
			 PROC_OK);
	ck_assert(a != 0 && a == b);
	ck_assert_int_eq(agent_do(r, heir, OP_PUT, wfd, &m), 0);
	ck_assert_int_eq(m.v[0], 2);
	ck_assert_int_eq(agent_do(r, other, OP_PUT, wfd, &m), 0);
	ck_assert_int_eq(m.v[0], -1);   /* EBADF: not passed on */
	run_teardown(r);
}
END_TEST

/* obs_await_exec(): the agent's own S before the exec does not count;
 * sleep's S does; a program it never runs is a failure. */
START_TEST(await_exec)
{
	struct run *r = setup();
	struct agent *a;
	struct watched *w;
	int rc;

	a = agent_spawn(r, "execer", &rc);
	ck_assert_ptr_nonnull(a);
	w = obs_add(r, a->pid, a->pidfd, "execer");
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(obs_await(r, w, "S", "waits for a command"), 0);
	agent_ending(a);
	ck_assert_int_eq(agent_send(r, a, OP_SLEEP,
				    (const int64_t[AGENT_ARGS]){ 0 }), 0);
	ck_assert_int_eq(obs_await_exec(r, w, "sleep", "S", "sleeps"), 0);
	ck_assert_str_eq(w->st.comm, "sleep");
	ck_assert_int_eq(w->state, 'S');
	r->timeout_ms = 50;
	ck_assert_int_eq(obs_await_exec(r, w, "cat", "S", "never"),
			 PL_EXIT_FAIL);
	ck_assert_ptr_nonnull(strstr(captured(err_fd), "to run cat"));
	run_teardown(r);
}
END_TEST

START_TEST(settle_is_transient)
{
	struct run *r = setup();
	struct agent *a;
	struct watched *w;
	const char *out;
	int rc;

	a = agent_spawn(r, "quiet", &rc);
	ck_assert_ptr_nonnull(a);
	w = obs_add(r, a->pid, a->pidfd, "quiet");
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_SPIN, 0, NULL), 0);
	ck_assert_int_eq(obs_settle(r, w, "R"), 0);
	ck_assert_int_eq(w->state, 'R');
	ck_assert_int_eq(agent_do(r, a, AGENT_OP_BLOCK, 0, NULL), 0);
	ck_assert_int_eq(obs_settle(r, w, "S"), 0);
	ck_assert_int_eq(w->state, 'S');
	fflush(stdout);
	out = captured(out_fd);
	ck_assert_ptr_nonnull(strstr(out, "\"event\":\"state\""));
	/* every state line is transient */
	for (const char *p = out; *p != '\0'; p += strcspn(p, "\n") + 1) {
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		if (strstr(line, "\"event\":\"state\"") != NULL)
			ck_assert_msg(strstr(line, "\"transient\":true"), "%s",
				      line);
		if (p[strcspn(p, "\n")] == '\0')
			break;
	}
	run_teardown(r);
}
END_TEST

Suite *make_agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("agent");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, process_groups);
	tcase_add_test(tc, give_fd);
	tcase_add_test(tc, queued_reports);
	tcase_add_test(tc, take_without_waiting);
	tcase_add_test(tc, fork_grandchild);
	tcase_add_test(tc, orphan_outlives);
	tcase_add_test(tc, setup_failure);
	tcase_add_test(tc, killed_from_outside);
	tcase_add_test(tc, exit_codes_decoded);
	tcase_add_test(tc, fork_lab_setup_failure);
	tcase_add_test(tc, clone_vfork_helper);
	tcase_add_test(tc, fork_nested);
	tcase_add_test(tc, settle_is_transient);
	tcase_add_test(tc, fork_inherits);
	tcase_add_test(tc, await_exec);
	suite_add_tcase(s, tc);
	return s;
}
