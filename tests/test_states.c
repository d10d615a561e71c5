/* test_states.c - `proclab states` shows R S D T t R Z X for one pid. */
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 128

static bool is(const struct jobj *e, const char *event)
{
	return strcmp(jstr(e, "event"), event) == 0;
}

/* The demonstrated (non-transient) states of pid, in order. */
static void states_of_pid(const struct jobj *ev, int n, int pid, char *out,
			  size_t size)
{
	size_t k = 0;

	for (int i = 0; i < n && k + 1 < size; i++)
		if (is(&ev[i], "state") && (int)jnum(&ev[i], "pid") == pid &&
		    !jbool(&ev[i], "transient"))
			out[k++] = jstr(&ev[i], "state")[0];
	out[k] = '\0';
}

static const struct jobj *find(const struct jobj *ev, int n, const char *event,
			       const char *key, const char *val)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], event) &&
		    (key == NULL || strcmp(jstr(&ev[i], key), val) == 0))
			return &ev[i];
	return NULL;
}

START_TEST(states_tour)
{
	static struct jobj ev[MAXEV];
	const struct jobj *e, *refused;
	struct outcome o;
	char seq[32];
	int n, child = 0, vchild = 0;

	run_proclab(&o, NULL, (const char *const[]){ "states", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(is(&ev[0], "start"));
	ck_assert(is(&ev[n - 1], "result") && jbool(&ev[n - 1], "ok"));

	for (int i = 0; i < n; i++) {
		if (!is(&ev[i], "state"))
			continue;
		if (strcmp(jstr(&ev[i], "role"), "child") == 0) {
			child = (int)jnum(&ev[i], "pid");
			ck_assert_int_eq((int)jnum(&ev[i], "ppid"), o.sid);
		}
	}
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "state") &&
		    strcmp(jstr(&ev[i], "role"), "vforked") == 0) {
			vchild = (int)jnum(&ev[i], "pid");
			/* the vfork child's parent is the D process; caught
			 * in the instant of its release, /proc shows X with
			 * ppid 0 (fs/proc/array.c: no longer pid_alive) */
			if ((int)jnum(&ev[i], "ppid") == 0)
				ck_assert_str_eq(jstr(&ev[i], "state"), "X");
			else
				ck_assert_int_eq((int)jnum(&ev[i], "ppid"), child);
		}
	ck_assert_int_gt(child, 0);
	ck_assert_int_gt(vchild, 0);

	/* one pid, every state, in this order; t only if ptrace works */
	refused = find(ev, n, "ptrace", NULL, NULL);
	ck_assert_ptr_nonnull(refused);
	states_of_pid(ev, n, child, seq, sizeof(seq));
	if (jbool(refused, "ok")) {
		ck_assert_str_eq(seq, "RSDTtRZX");
	} else {
		ck_assert_str_eq(jstr(refused, "error"), "EPERM");
		ck_assert_str_eq(seq, "RSDTRZX");
	}
	states_of_pid(ev, n, vchild, seq, sizeof(seq));
	ck_assert_str_eq(seq, "SX");

	/* SIGSTOP in D: still D, then T once the vfork child let go */
	e = find(ev, n, "signal", "signame", "SIGSTOP");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "state"), "D");
	e = find(ev, n, "claim", "id", "states-stop-in-d");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "state_after_signal"), "D");
	ck_assert_str_eq(jstr(e, "state_after_release"), "T");
	ck_assert(!jbool(e, "holds"));
	e = find(ev, n, "wchan", NULL, NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "state"), "S");

	if (jbool(refused, "ok")) {
		const struct jobj *st, *pt;
		int raw;

		/* the tracing stop as waitpid reports it, fields against raw */
		st = find(ev, n, "status", NULL, NULL);
		ck_assert_ptr_nonnull(st);
		ck_assert_int_eq((int)jnum(st, "pid"), child);
		raw = (int)jnum(st, "raw");
		ck_assert_int_eq(raw & 0x7f, 0x7f);
		ck_assert(jbool(st, "stopped"));
		ck_assert_int_eq((int)jnum(st, "signal"), (raw >> 8) & 0xff);
		ck_assert_str_eq(jstr(st, "signame"), "SIGTRAP");
		pt = find(ev, n, "ptrace-stop", NULL, NULL);
		ck_assert_ptr_nonnull(pt);
		ck_assert_int_eq((int)jnum(pt, "stop_event"), raw >> 16);
		ck_assert_int_eq((int)jnum(pt, "stop_event"), 128);
		e = find(ev, n, "claim", "id", "states-t-swapped");
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq((int)jnum(e, "tracer"), o.sid);
		ck_assert_double_gt(jnum(e, "vmrss_kb"), 0);
	}

	e = find(ev, n, "reap", NULL, NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "pid"), child);
	ck_assert(jbool(e, "exited"));
	ck_assert_int_eq((int)jnum(e, "code"), 0);
	ck_assert_int_eq((int)jnum(e, "raw"), 0);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Killed at the pause after a stage (t, T, D among them): nothing may be
 * left, whatever state the child was in.  After a SIGKILL proclab cannot
 * clean up: its children die of their parent-death signal and are
 * adopted.  The test adopts them (as a subreaper) and reaps them itself,
 * rather than depend on how promptly PID 1 reaps; one that never dies
 * makes the test time out. */
static void killed_at(const char *at_stage, int sig)
{
	kill_at_pause((const char *const[]){ "states", "--json", "--step",
					     NULL }, stage_number("states", at_stage), sig,
		      NULL, NULL);
}

START_TEST(states_killed_while_traced)
{
	killed_at("trace", SIGTERM);
}
END_TEST

START_TEST(states_sigkill_while_traced)
{
	killed_at("trace", SIGKILL);
}
END_TEST

START_TEST(states_killed_in_d)
{
	killed_at("vfork", SIGINT);
}
END_TEST

START_TEST(states_killed_while_stopped)
{
	killed_at("stop", SIGKILL);
}
END_TEST

START_TEST(states_text_view)
{
	struct outcome o;
	char last[32];

	run_proclab(&o, NULL, (const char *const[]){ "states", NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert(strstr(o.out, "D disk sleep") != NULL);
	ck_assert(strstr(o.out, "t tracing stop") != NULL);
	snprintf(last, sizeof(last), "stage %d: reap", stage_number("states", "reap"));
	ck_assert(strstr(o.out, last) != NULL);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef THIS_ARCH
/* In proclab before its exec: ptrace(2) fails with EPERM from now on, as
 * a seccomp policy of a container would have it; the text view is not
 * wrapped (COLUMNS), so that a sentence reads whole.  LeakSanitizer
 * (make SANITIZE=1) stops threads with ptrace at exit: its leak check
 * cannot run here. */
static int refuse_ptrace(void *arg)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];

	(void)arg;
	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0",
		 asan != NULL ? asan : "", asan != NULL && *asan ? ":" : "");
	if (setenv("COLUMNS", "1000", 1) < 0 ||
	    setenv("ASAN_OPTIONS", opts, 1) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	return 0;
}
#endif

/* Where ptrace is refused the lab says so, shows no t, and still exits
 * 0; the resume stage has nothing to detach. */
START_TEST(states_ptrace_refused)
{
#ifdef THIS_ARCH
	static struct jobj ev[MAXEV];
	const struct jobj *p;
	struct outcome o;
	int n;

	run_proclab_as(&o, NULL, (const char *const[]){ "states", "--json",
							NULL },
		       refuse_ptrace, NULL);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	p = find(ev, n, "ptrace", NULL, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert(!jbool(p, "ok"));
	ck_assert_str_eq(jstr(p, "request"), "PTRACE_SEIZE");
	ck_assert_str_eq(jstr(p, "error"), "EPERM");
	assert_demonstrated(ev, n, "child", "RSDTRZX");
	ck_assert_ptr_null(find(ev, n, "ptrace-stop", NULL, NULL));
	ck_assert_ptr_null(find(ev, n, "claim", "id", "states-t-swapped"));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);

	run_proclab_as(&o, NULL, (const char *const[]){ "states", NULL },
		       refuse_ptrace, NULL);
	ck_assert_int_eq(o.code, 0);
	ck_assert(strstr(o.out, "refused: EPERM") != NULL);
	ck_assert(strstr(o.out, "t tracing stop") == NULL);
	outcome_free(&o);
#endif
}
END_TEST

/* A CPU hog of the test's, which dies with it. */
static pid_t spinner(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			;
	}
	return pid;
}

/* Under load a task shows S or D while still on its way off the CPU, and
 * its wchan then reads "0": the engine reads again until it names a
 * function, so no run prints "the kernel function 0" (without that, 1 to
 * 4 runs in 40 did here). */
START_TEST(wchan_names_a_function_under_load)
{
	static const char *const labs[] = { "states", "zombie" };
	static struct jobj ev[MAXEV];
	pid_t hog[2] = { spinner(), spinner() };
	int runs = 0, lines = 0;

	for (int i = 0; i < 40; i++) {
		struct outcome o;
		int n;

		run_proclab(&o, NULL, (const char *const[]){ labs[i % 2],
							    "--json", NULL });
		ck_assert_msg(o.code == 0, "%s: exit %d: %s", labs[i % 2],
			      o.code, o.err);
		n = json_lines(o.out, ev, MAXEV);
		for (int k = 0; k < n; k++) {
			if (!is(&ev[k], "wchan"))
				continue;
			lines++;
			ck_assert_msg(strcmp(jstr(&ev[k], "wchan"), "0") != 0,
				      "run %d of %s: wchan 0 for a task in %s",
				      i, labs[i % 2], jstr(&ev[k], "state"));
		}
		runs++;
		outcome_free(&o);
	}
	for (int k = 0; k < 2; k++) {
		kill(hog[k], SIGKILL);
		waitpid(hog[k], NULL, 0);
	}
	ck_assert_int_eq(runs, 40);
	ck_assert_int_ge(lines, 60);
}
END_TEST

START_TEST(states_no_arguments)
{
	struct outcome o;

	run_proclab(&o, NULL, (const char *const[]){ "states", "123", NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_int_eq((int)o.outlen, 0);
	ck_assert(strstr(o.err, "'123'") != NULL);
	outcome_free(&o);
}
END_TEST

Suite *make_states_suite(void)
{
	Suite *s = suite_create("states");
	TCase *tc = tcase_create("states");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, states_tour);
	tcase_add_test(tc, states_killed_while_traced);
	tcase_add_test(tc, states_sigkill_while_traced);
	tcase_add_test(tc, states_killed_in_d);
	tcase_add_test(tc, states_killed_while_stopped);
	tcase_add_test(tc, states_text_view);
	tcase_add_test(tc, states_ptrace_refused);
	tcase_add_test(tc, states_no_arguments);
	tcase_add_test(tc, wchan_names_a_function_under_load);
	suite_add_tcase(s, tc);
	return s;
}
