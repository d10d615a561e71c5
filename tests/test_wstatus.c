/* test_wstatus.c - the decoder on statuses real children produced. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "wstatus.h"

/* Fork a child that runs `how`, return its raw status from waitpid. */
enum how { EXIT_0, EXIT_42, EXIT_255, KILLED, ABORT_NO_CORE };

static int status_of(enum how how)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit none = { 0, 0 };
		switch (how) {
		case EXIT_0: _exit(0);
		case EXIT_42: _exit(42);
		case EXIT_255: _exit(255);
		case KILLED: raise(SIGKILL); break;
		case ABORT_NO_CORE:
			setrlimit(RLIMIT_CORE, &none);
			signal(SIGABRT, SIG_DFL);
			raise(SIGABRT);
			break;
		}
		_exit(99);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(exited_codes)
{
	struct wstatus w;
	char buf[64];

	wstatus_decode(status_of(EXIT_42), &w);
	ck_assert(w.exited && !w.signaled && !w.stopped && !w.continued);
	ck_assert_int_eq(w.code, 42);
	ck_assert_int_eq(w.raw, 42 << 8);        /* the layout seed 001 shows */
	wstatus_describe(&w, buf, sizeof(buf));
	ck_assert_str_eq(buf, "exited, code 42");
	wstatus_decode(status_of(EXIT_0), &w);
	ck_assert(w.exited);
	ck_assert_int_eq(w.code, 0);
	wstatus_decode(status_of(EXIT_255), &w);
	ck_assert_int_eq(w.code, 255);
}
END_TEST

START_TEST(killed)
{
	struct wstatus w;
	char buf[64];

	wstatus_decode(status_of(KILLED), &w);
	ck_assert(w.signaled && !w.exited && !w.core);
	ck_assert_int_eq(w.sig, SIGKILL);
	ck_assert_int_eq(w.raw & 0x7f, SIGKILL);
	wstatus_describe(&w, buf, sizeof(buf));
	ck_assert_str_eq(buf, "killed by SIGKILL");
}
END_TEST

START_TEST(abort_without_core)
{
	struct wstatus w;

	wstatus_decode(status_of(ABORT_NO_CORE), &w);
	ck_assert(w.signaled);
	ck_assert_int_eq(w.sig, SIGABRT);
	ck_assert(!w.core);                 /* RLIMIT_CORE 0: no core bit */
	ck_assert_int_eq(w.raw & 0x80, 0);
}
END_TEST

START_TEST(stopped_and_continued)
{
	struct wstatus w;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	wstatus_decode(status, &w);
	ck_assert(w.stopped && !w.exited && !w.signaled && !w.continued);
	ck_assert_int_eq(w.sig, SIGSTOP);
	ck_assert_int_eq(status & 0xff, 0x7f);
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	ck_assert_int_eq(waitpid(pid, &status, WCONTINUED), pid);
	wstatus_decode(status, &w);
	ck_assert(w.continued && !w.stopped);
	ck_assert_int_eq(status, 0xffff);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

START_TEST(from_siginfo_agrees)
{
	struct wstatus a, b;
	siginfo_t si;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(7);
	memset(&si, 0, sizeof(si));
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED), 0);
	ck_assert_int_eq(wstatus_from_siginfo(&si, &a), 0);
	wstatus_decode(7 << 8, &b);
	ck_assert(a.exited == b.exited && a.code == b.code);
	ck_assert_int_eq(a.raw, -1);
	ck_assert_str_eq(wstatus_si_code_name(si.si_code), "CLD_EXITED");
	si.si_code = 12345;
	ck_assert_int_eq(wstatus_from_siginfo(&si, &a), -1);
	ck_assert_str_eq(wstatus_si_code_name(si.si_code), "?");
}
END_TEST

START_TEST(signal_names)
{
	ck_assert_str_eq(wstatus_signame(SIGKILL).s, "SIGKILL");
	ck_assert_str_eq(wstatus_signame(SIGCHLD).s, "SIGCHLD");
	ck_assert_str_eq(wstatus_signame(SIGRTMIN + 3).s, "SIGRTMIN+3");
	ck_assert_str_eq(wstatus_signame(200).s, "SIG200");
}
END_TEST

START_TEST(sigset_names)
{
	char buf[768], small[16];

	ck_assert_int_eq(wstatus_sigset_names(0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(wstatus_sigset_names(1ULL << (SIGUSR1 - 1) |
					      1ULL << (SIGTERM - 1),
					      buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "SIGUSR1,SIGTERM");
	/* real-time signals by their distance from SIGRTMIN; bit 63 is 64 */
	ck_assert_int_eq(wstatus_sigset_names(1ULL << (SIGRTMIN - 1) |
					      1ULL << (SIGRTMIN + 1) |
					      1ULL << 63, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "SIGRTMIN,SIGRTMIN+2,SIGRTMIN+30");
	ck_assert_int_eq(wstatus_sigset_names(~0ULL, buf, sizeof(buf)), 64);
	ck_assert(strncmp(buf, "SIGHUP,SIGINT,", 14) == 0);
	ck_assert_int_eq(wstatus_sigset_names(~0ULL, small, sizeof(small)), 64);
	ck_assert_str_eq(small, "SIGHUP,SIGIN...");
}
END_TEST

Suite *make_wstatus_suite(void)
{
	Suite *s = suite_create("wstatus");
	TCase *tc = tcase_create("real");

	tcase_add_test(tc, exited_codes);
	tcase_add_test(tc, killed);
	tcase_add_test(tc, abort_without_core);
	tcase_add_test(tc, stopped_and_continued);
	tcase_add_test(tc, from_siginfo_agrees);
	tcase_add_test(tc, signal_names);
	tcase_add_test(tc, sigset_names);
	suite_add_tcase(s, tc);
	return s;
}
