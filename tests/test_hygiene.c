/* test_hygiene.c - however proclab is stopped or started, it leaves nothing
 * behind and touches only what it made.
 *
 *   signals     killed at any pause of the zombie lab (as before)
 *   terminal    Ctrl-C and Ctrl-\ through a pty at every pause of every lab
 *               (the whole foreground group gets them): exit 130/131, and
 *               nothing is left or handed to a reaper above proclab;
 *               with `stty tostop` the children's output does not stop them
 *   stopped     every process of the run stopped (SIGSTOP), then SIGKILL
 *               to proclab: the janitor kills what is left
 *   tmpfiles    SIGKILL during wait's core stage: no proclab-wait.* stays
 *   inherited   a child proclab inherited across exec is neither killed
 *               nor reaped (nor waited for, if it is another user's);
 *               SIGHUP inherited as ignored stays ignored; an inherited
 *               SIGCHLD = SIG_IGN is reset, and every lab passes
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGKILL };
enum { NSIGS = sizeof(sigs) / sizeof(sigs[0]), NSTAGES = 5 };

static void no_result(const struct jobj *e, void *arg)
{
	ck_assert_msg(strcmp(jstr(e, "event"), "result") != 0,
		      "a run killed at pause %d printed a result", *(int *)arg);
}

/* Kill `proclab zombie --step` while it holds the processes of stage s:
 * the child running, sleeping, a zombie, a zombie after SIGKILL, reaped. */
START_TEST(killed_while_paused)
{
	int sig = sigs[_i % NSIGS], stage = 1 + _i / NSIGS;

	kill_at_pause((const char *const[]){ "zombie", "--json", "--step",
					     NULL }, stage, sig, no_result, &stage);
}
END_TEST

/* ---- helpers ---------------------------------------------------------- */

static const char *proclab_path(void)
{
	const char *p = getenv("PROCLAB");

	return p != NULL ? p : "./proclab";
}

/* Every lab with stages but watch (which follows others' processes). */
static const struct lab *nth_lab(int i)
{
	for (size_t k = 0; k < lab_count; k++) {
		const struct lab *l = lab_table[k];

		if (l->stages == NULL || strcmp(l->name, "watch") == 0)
			continue;
		if (i-- == 0)
			return l;
	}
	return NULL;
}

static int nlabs(void)
{
	int n = 0;

	while (nth_lab(n) != NULL)
		n++;
	return n;
}

/* Reap whatever the test (a child subreaper) adopted and has ended;
 * returns how many, waiting up to a second for the last to end. */
static int reap_adopted(void)
{
	struct timespec t = { 0, 2000000 };
	int n = 0;

	for (int i = 0; i < 500; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p > 0) {
			n++;
			continue;
		}
		if (p < 0)      /* ECHILD: nothing left */
			break;
		nanosleep(&t, NULL);
	}
	return n;
}

/* The state letter of pid, 0 if it is gone. */
static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

/* ---- Ctrl-C and Ctrl-\ through a terminal ----------------------------- */

/* Run LAB --step --json on a pty; press Enter at each pause before the
 * pause-th, there type `key` (the terminal sends its signal to the whole
 * foreground group: proclab and, unless they are in a group of their
 * own, its children).  Returns proclab's exit code, 128 + signal. */
static int pty_key_at_pause(const char *lab, int pause, char key, pid_t *sid,
			    char *out, size_t size)
{
	const char *args[] = { "proclab", lab, "--step", "--json", NULL };
	int master, status, seen = 0;
	size_t len = 0;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(proclab_path(), (char *const *)args);
		_exit(127);
	}
	*sid = pid;
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t n;
		int now = 0;

		ck_assert_msg(poll(&p, 1, 20000) == 1, "%s: nothing for 20 s "
			      "at pause %d: %s", lab, pause, out);
		n = read(master, out + len, size - 1 - len);
		if (n <= 0)
			break;  /* EIO: the last holder of the terminal is gone */
		len += (size_t)n;
		out[len] = '\0';
		for (const char *s = out; (s = strstr(s, "\"event\":\"pause\""))
		     != NULL; s++)
			now++;
		for (; seen < now; seen++) {
			char c = seen + 1 == pause ? key : '\n';
			ck_assert_int_eq(write(master, &c, 1), 1);
		}
		if (len + 1 >= size)
			len = 0;        /* keep reading; counts start over */
	}
	close(master);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(terminal_keys_at_every_pause)
{
	const struct lab *l = nth_lab(_i);
	int pauses = stage_number(l->name, NULL);

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	for (int k = 1; k <= pauses; k++) {
		static char out[1 << 16];
		char key = k % 2 ? '\003' : '\034';     /* Ctrl-C, Ctrl-\ */
		int want = k % 2 ? 128 + SIGINT : 128 + SIGQUIT, code, adopted;
		pid_t sid;

		code = pty_key_at_pause(l->name, k, key, &sid, out, sizeof(out));
		ck_assert_msg(code == want, "%s: exit %d at pause %d, expected "
			      "%d: %s", l->name, code, k, want, out);
		/* whatever a child orphaned came to proclab's teardown, not
		 * to us; the orphan lab's orphan comes to us by design once
		 * its parent has exited (stage "exit" on) */
		adopted = reap_adopted();
		ck_assert_msg(adopted == 0 || (strcmp(l->name, "orphan") == 0 &&
			      adopted == 1 && k >= stage_number("orphan",
								"exit")),
			      "%s: %d processes went past proclab at pause %d",
			      l->name, adopted, k);
		ck_assert_int_eq(survivors(sid), 0);
	}
}
END_TEST

/* `stty tostop`: a background group that writes to the terminal stops
 * on SIGTTOU.  The lab whose children print (exit-vs-_exit) must still
 * pass.  (Its children print to terminals of their own (sink.c), so this
 * passes without janitor_start()'s SIGTTOU rule too: that rule is for a
 * lab whose children write to proclab's terminal.) */
START_TEST(tostop_terminal)
{
	const char *args[] = { "proclab", "exit-vs-_exit", "--no-color", NULL };
	static char out[1 << 16];
	size_t len = 0;
	int master, status;
	ssize_t n;
	pid_t pid;

	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct termios t;

		if (tcgetattr(1, &t) < 0)
			_exit(126);
		t.c_lflag |= TOSTOP;
		if (tcsetattr(1, TCSANOW, &t) < 0)
			_exit(126);
		execv(proclab_path(), (char *const *)args);
		_exit(127);
	}
	while (len + 1 < sizeof(out) &&
	       ((n = read(master, out + len, sizeof(out) - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	out[len] = '\0';
	close(master);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status 0x%x: %s", status, out);
	ck_assert_int_eq(survivors(pid), 0);
}
END_TEST

/* ---- stopped, then SIGKILL ------------------------------------------- */

/* SIGSTOP every process of session sid but pid; returns how many. */
static int stop_session(pid_t sid, pid_t but)
{
	DIR *d = opendir("/proc");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char path[300], buf[512], *p;
		int pid = atoi(e->d_name), ppid, pgrp, s;
		FILE *f;
		size_t len;

		if (pid <= 0 || pid == but)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 2, "%*c %d %d %d", &ppid, &pgrp, &s) != 3 ||
		    s != sid || p[2] == 'Z')
			continue;
		n += kill(pid, SIGSTOP) == 0;
	}
	closedir(d);
	return n;
}

/* Wait up to a second until every process of session sid but its
 * leader shows T (or D: a vfork caller stops once its child lets go). */
static bool all_stopped(pid_t sid)
{
	struct timespec t = { 0, 1000000 };

	for (int i = 0; i < 1000; i++) {
		DIR *d = opendir("/proc");
		int running = 0;

		ck_assert_ptr_nonnull(d);
		for (struct dirent *e; (e = readdir(d)) != NULL;) {
			char path[300], buf[512], *p;
			int pid = atoi(e->d_name), s;
			FILE *f;
			size_t len;

			if (pid <= 0 || pid == sid)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/stat", pid);
			if ((f = fopen(path, "re")) == NULL)
				continue;
			len = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[len] = '\0';
			if ((p = strrchr(buf, ')')) != NULL &&
			    sscanf(p + 2, "%*c %*d %*d %d", &s) == 1 &&
			    s == sid && strchr("TZD", p[2]) == NULL)
				running++;
		}
		closedir(d);
		if (running == 0)
			return true;
		nanosleep(&t, NULL);
	}
	return false;
}

static const struct { const char *lab; } stop_labs[] = {
	{ "orphan" }, { "exit-vs-_exit" }, { "vfork" }, { "fork" },
};

START_TEST(stopped_children_then_sigkill)
{
	const char *lab = stop_labs[_i].lab;
	int pauses = stage_number(lab, NULL);

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	for (int k = 1; k <= pauses; k++) {
		struct live l;
		struct jobj e;
		char err[512];
		int seen = 0;

		live_start(&l, (const char *const[]){ lab, "--json", "--step",
						      NULL });
		while (seen < k) {
			ck_assert_msg(live_next(&l, &e), "%s ended before "
				      "pause %d", lab, k);
			if (strcmp(jstr(&e, "event"), "pause") != 0)
				continue;
			if (++seen < k)
				ck_assert_int_eq(write(l.in, "\n", 1), 1);
		}
		/* the janitor too: once it is stopped, proclab's death
		 * orphans the run's group, and the kernel continues it
		 * (SIGHUP, SIGCONT); a stop still on its way at that moment
		 * would take effect after, with no one left to undo it */
		stop_session(l.pid, l.pid);
		ck_assert_msg(all_stopped(l.pid), "%s: pause %d: not stopped",
			      lab, k);
		ck_assert_int_eq(kill(l.pid, SIGKILL), 0);
		live_finish(&l, err, sizeof(err));
		ck_assert(WIFSIGNALED(l.status));
		reap_adopted();
		if (survivors(l.pid) != 0) {
			char cmd[128];

			snprintf(cmd, sizeof(cmd), "ps -s %d -o pid,ppid,pgid,"
				 "stat,wchan:20,comm >&2", (int)l.pid);
			if (system(cmd) != 0)
				fprintf(stderr, "ps failed\n");
			ck_abort_msg("%s: survivors after pause %d", lab, k);
		}
		reap_adopted();
	}
}
END_TEST

/* ---- temporary files ------------------------------------------------- */

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* SIGKILL at random moments of wait's core stage (and around it), in a
 * TMPDIR of the test's own: nothing may stay in it. */
START_TEST(sigkill_in_core_stage_leaves_no_directory)
{
	char tmp[] = "/tmp/proclab-hygiene.XXXXXX";
	unsigned seed = (unsigned)getpid();

	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(setenv("TMPDIR", tmp, 1), 0);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	for (int t = 0; t < 20; t++) {
		struct live l;
		struct jobj e;
		char err[512];
		struct timespec d = { 0, (long)(rand_r(&seed) % 20000) * 1000 };

		live_start(&l, (const char *const[]){ "wait", "--json", NULL });
		do
			ck_assert(live_next(&l, &e));
		while (strcmp(jstr(&e, "event"), "stage") != 0 ||
		       strcmp(jstr(&e, "name"), "core") != 0);
		nanosleep(&d, NULL);
		kill(l.pid, SIGKILL);
		live_finish(&l, err, sizeof(err));
		reap_adopted();
		ck_assert_int_eq(survivors(l.pid), 0);
		/* the janitor has removed it by the time the session is
		 * empty: it is the session's last process */
		ck_assert_msg(count_entries(tmp) == 0, "trial %d left a "
			      "directory in %s", t, tmp);
	}
	ck_assert_int_eq(rmdir(tmp), 0);
}
END_TEST

/* ---- what proclab inherits ------------------------------------------- */

struct inherit {
	pid_t *child;           /* shared: the pid of the inherited child */
	uid_t uid;              /* become this user after the fork, if not 0 */
	int ignore;             /* a signal to set to SIG_IGN, 0: none */
	bool nocldwait;         /* SIGCHLD with SA_NOCLDWAIT */
};

/* In proclab's process, before the exec: fork a child that waits (it
 * becomes proclab's inherited child), then drop to uid, ignore. */
static int inherit(void *arg)
{
	struct inherit *in = arg;

	if (in->child != NULL) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			/* not holding proclab's output open for the test */
			int null = open("/dev/null", O_RDWR);

			if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
			    close_range(3, ~0U, 0) < 0)
				_exit(1);
			pause();
			_exit(0);
		}
		*in->child = pid;
	}
	if (in->uid != 0 && (setresgid(in->uid, in->uid, in->uid) < 0 ||
			     setresuid(in->uid, in->uid, in->uid) < 0))
		return -1;
	if (in->ignore != 0 && signal(in->ignore, SIG_IGN) == SIG_ERR)
		return -1;
	if (in->nocldwait) {
		struct sigaction sa = { .sa_handler = SIG_DFL,
					.sa_flags = SA_NOCLDWAIT };
		if (sigaction(SIGCHLD, &sa, NULL) < 0)
			return -1;
	}
	return 0;
}

/* `bash -c 'sleep 100 & exec proclab ...'`: the sleep is not proclab's to
 * kill or reap; as another user's (root's, proclab running as nobody) it
 * does not hold up teardown either. */
START_TEST(inherited_child_is_left_alone)
{
	pid_t *child = mmap(NULL, sizeof(pid_t), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct inherit in = { .child = child, .uid = _i ? 65534 : 0 };
	struct outcome o;
	struct timespec t0, t1;

	ck_assert_ptr_ne(child, MAP_FAILED);
	if (_i && getuid() != 0) {
		fprintf(stderr, "inherited_child_is_left_alone: another "
			"user's child not tried (needs root)\n");
		return;
	}
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_proclab_as(&o, NULL, (const char *const[]){ "zombie", "--json",
						       NULL }, inherit, &in);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 3, "teardown waited for the "
		      "inherited child");
	/* alive, not killed, not reaped: it came to us, its new parent */
	ck_assert_msg(state_of(*child) == 'S' || state_of(*child) == 'R',
		      "the inherited child %d shows '%c'", (int)*child,
		      state_of(*child));
	ck_assert_int_eq(kill(*child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(*child, NULL, 0), *child);
	outcome_free(&o);
	munmap(child, sizeof(pid_t));
}
END_TEST

/* The wait lab's waitpid(-1) would collect an inherited child: it says
 * so and exits 3, leaving the child alone. */
START_TEST(wait_refuses_with_an_inherited_child)
{
	pid_t *child = mmap(NULL, sizeof(pid_t), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct inherit in = { .child = child };
	struct outcome o;

	ck_assert_ptr_ne(child, MAP_FAILED);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	run_proclab_as(&o, NULL, (const char *const[]){ "wait", NULL },
		       inherit, &in);
	ck_assert_msg(o.code == 3, "exit %d: %s", o.code, o.err);
	ck_assert_msg(strstr(o.err, "inherited across exec") != NULL, "%s",
		      o.err);
	ck_assert(state_of(*child) == 'S' || state_of(*child) == 'R');
	ck_assert_int_eq(kill(*child, SIGKILL), 0);
	ck_assert_int_eq(waitpid(*child, NULL, 0), *child);
	outcome_free(&o);
	munmap(child, sizeof(pid_t));
}
END_TEST

/* nohup: SIGHUP inherited as ignored stays ignored; the start says so. */
START_TEST(nohup_keeps_sighup_ignored)
{
	struct live l;
	struct jobj e;
	char err[512];
	bool said = false;

	/* inherited by proclab through fork and exec */
	ck_assert(signal(SIGHUP, SIG_IGN) != SIG_ERR);
	live_start(&l, (const char *const[]){ "zombie", "--json", "--step",
					      NULL });
	ck_assert(signal(SIGHUP, SIG_DFL) != SIG_ERR);
	for (;;) {
		ck_assert(live_next(&l, &e));
		if (strcmp(jstr(&e, "event"), "ignored") == 0)
			said = strstr(jstr(&e, "signals"), "SIGHUP") != NULL;
		if (strcmp(jstr(&e, "event"), "pause") == 0)
			break;
	}
	ck_assert_msg(said, "no 'ignored' event naming SIGHUP");
	ck_assert_int_eq(kill(l.pid, SIGHUP), 0);
	ck_assert_int_eq(live_finish(&l, err, sizeof(err)), 0);
	ck_assert_int_eq(survivors(l.pid), 0);
}
END_TEST

/* An inherited SIGCHLD = SIG_IGN would release every child at exit:
 * every lab must still pass, and say what it reset.  (Odd _i: SA_NOCLDWAIT,
 * which execve() clears with every flag: nothing to reset, nothing said.) */
START_TEST(inherited_sigchld_ignored)
{
	const struct lab *l = nth_lab(_i / 2);
	struct inherit in = { .ignore = _i % 2 ? 0 : SIGCHLD,
			      .nocldwait = _i % 2 };
	struct outcome o;
	struct jobj ev[256];
	int n;

	run_proclab_as(&o, NULL, (const char *const[]){ l->name, "--json",
						       NULL }, inherit, &in);
	ck_assert_msg(o.code == 0, "%s: exit %d: %s", l->name, o.code, o.err);
	n = json_lines(o.out, ev, 256);
	if (_i % 2 == 0) {
		ck_assert_ptr_nonnull(nth_event(ev, n, "sigchld", NULL, 0));
		ck_assert_str_eq(jstr(nth_event(ev, n, "sigchld", NULL, 0),
				      "was"), "SIG_IGN");
	} else {
		ck_assert_ptr_null(nth_event(ev, n, "sigchld", NULL, 0));
	}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

Suite *make_hygiene_suite(void)
{
	Suite *s = suite_create("hygiene");
	TCase *tc = tcase_create("signals");
	TCase *tt = tcase_create("terminal");
	TCase *ts = tcase_create("stopped");
	TCase *tf = tcase_create("tmpfiles");
	TCase *ti = tcase_create("inherited");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, killed_while_paused, 0, NSIGS * NSTAGES);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tt, 60);
	tcase_add_loop_test(tt, terminal_keys_at_every_pause, 0, nlabs());
	tcase_add_test(tt, tostop_terminal);
	suite_add_tcase(s, tt);
	tcase_set_timeout(ts, 60);
	tcase_add_loop_test(ts, stopped_children_then_sigkill, 0,
			    sizeof(stop_labs) / sizeof(stop_labs[0]));
	suite_add_tcase(s, ts);
	tcase_set_timeout(tf, 60);
	tcase_add_test(tf, sigkill_in_core_stage_leaves_no_directory);
	suite_add_tcase(s, tf);
	tcase_set_timeout(ti, 30);
	tcase_add_loop_test(ti, inherited_child_is_left_alone, 0, 2);
	tcase_add_test(ti, wait_refuses_with_an_inherited_child);
	tcase_add_test(ti, nohup_keeps_sighup_ignored);
	tcase_add_loop_test(ti, inherited_sigchld_ignored, 0, 2 * nlabs());
	suite_add_tcase(s, ti);
	return s;
}
