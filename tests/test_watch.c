/* test_watch.c - `proclab watch` follows processes the test made. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 128

static bool is(const struct jobj *e, const char *event)
{
	return strcmp(jstr(e, "event"), event) == 0;
}

/* Read proclab's events until pid shows `want`; every state of pid seen
 * on the way is appended to trail. */
static void until_state(struct live *l, pid_t pid, char want, char *trail,
			size_t size)
{
	struct jobj e;

	for (;;) {
		ck_assert_msg(live_next(l, &e), "proclab ended before %d "
			      "showed %c (seen: %s)", (int)pid, want, trail);
		if (!is(&e, "state"))
			continue;
		ck_assert_int_eq((int)jnum(&e, "pid"), pid);
		ck_assert_int_eq((int)jnum(&e, "ppid"), getpid());
		ck_assert_str_eq(jstr(&e, "role"), "watched");
		ck_assert(!jbool(&e, "transient"));
		if (strlen(trail) + 1 < size)
			strncat(trail, jstr(&e, "state"), 1);
		if (jstr(&e, "state")[0] == want)
			return;
	}
}

/* The test drives its own child and acts only on what proclab printed:
 * SIGSTOP once it showed S, SIGCONT once it showed T, EOF once S again,
 * the reap once Z. */
START_TEST(watch_follows_s_t_s_end)
{
	struct live l;
	struct jobj e;
	char trail[64] = "", pidarg[16], err[256], *p, *q;
	int wfd, status, code;
	pid_t pid = blocked_child(NULL, &wfd);

	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	live_start(&l, (const char *const[]){ "watch", pidarg, "--json", NULL });
	ck_assert(live_next(&l, &e) && is(&e, "start"));
	until_state(&l, pid, 'S', trail, sizeof(trail));
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	until_state(&l, pid, 'T', trail, sizeof(trail));
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	until_state(&l, pid, 'S', trail, sizeof(trail));
	close(wfd);
	until_state(&l, pid, 'Z', trail, sizeof(trail));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	until_state(&l, pid, 'X', trail, sizeof(trail));
	ck_assert(live_next(&l, &e) && is(&e, "followed"));
	ck_assert_str_eq(jstr(&e, "reason"), "released");
	ck_assert_int_eq((int)jnum(&e, "pids"), 1);
	ck_assert_int_eq((int)jnum(&e, "released"), 1);
	ck_assert(live_next(&l, &e) && is(&e, "result") && jbool(&e, "ok"));
	ck_assert(!live_next(&l, &e));
	code = live_finish(&l, err, sizeof(err));
	ck_assert_msg(code == 0, "exit %d: %s", code, err);
	/* R may flash by while the child wakes; the rest is fixed */
	for (p = q = trail; *p; p++)
		if (*p != 'R')
			*q++ = *p;
	*q = '\0';
	ck_assert_str_eq(trail, "STSZX");
	ck_assert_int_eq(survivors(l.pid), 0);
}
END_TEST

/* With --for, proclab ends in time, exit 0, and leaves its pid alone. */
START_TEST(watch_for_ends_while_alive)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	char pidarg[16], stat[64];
	int wfd, n, status;
	pid_t pid = blocked_child(NULL, &wfd);
	FILE *f;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	run_proclab(&o, NULL, (const char *const[]){ "watch", pidarg, "--for",
						      "1", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert(is(&ev[n - 2], "followed"));
	ck_assert_str_eq(jstr(&ev[n - 2], "reason"), "time");
	ck_assert_int_eq((int)jnum(&ev[n - 2], "released"), 0);
	ck_assert(is(&ev[n - 1], "result") && jbool(&ev[n - 1], "ok"));
	/* still there, still blocked: nothing was sent to it */
	snprintf(stat, sizeof(stat), "/proc/%d/stat", (int)pid);
	f = fopen(stat, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert(fgets(stat, sizeof(stat), f) != NULL);
	fclose(f);
	ck_assert(strstr(stat, ") S ") != NULL);
	close(wfd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	outcome_free(&o);
}
END_TEST

/* More than the observer's default 64: 200 children end together. */
START_TEST(watch_hundreds)
{
	enum { N = 200 };
	static pid_t pids[N];
	static char args[N][16];
	const char *argv[N + 3];
	struct live l;
	struct jobj e;
	char err[256];
	int wfd[N], first = 0, released = 0;

	for (int i = 0; i < N; i++) {
		pids[i] = blocked_child(NULL, &wfd[i]);
		snprintf(args[i], sizeof(args[i]), "%d", (int)pids[i]);
		argv[i + 1] = args[i];
	}
	argv[0] = "watch";
	argv[N + 1] = "--json";
	argv[N + 2] = NULL;
	live_start(&l, argv);
	/* once proclab has seen every one, end them all and reap them */
	while (first < N) {
		if (!live_next(&l, &e)) {
			live_finish(&l, err, sizeof(err));
			ck_abort_msg("proclab ended early: %s", err);
		}
		first += is(&e, "state") && jget(&e, "from")->type == 'z';
	}
	for (int i = 0; i < N; i++)
		close(wfd[i]);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(waitpid(pids[i], NULL, 0), pids[i]);
	while (live_next(&l, &e)) {
		released += is(&e, "state") && jbool(&e, "gone");
		if (is(&e, "followed")) {
			ck_assert_int_eq((int)jnum(&e, "pids"), N);
			ck_assert_int_eq((int)jnum(&e, "released"), N);
		}
	}
	ck_assert_int_eq(released, N);
	ck_assert_int_eq(live_finish(&l, err, sizeof(err)), 0);
}
END_TEST

/* A usage error: exit 2, nothing on stdout, one line on stderr that
 * names the bad word. */
static void usage_error(const char *const argv[], const char *word)
{
	struct outcome o;

	run_proclab(&o, NULL, argv);
	ck_assert_int_eq(o.code, 2);
	ck_assert_int_eq((int)o.outlen, 0);
	ck_assert_msg(strstr(o.err, word) != NULL, "stderr: %s", o.err);
	ck_assert_ptr_eq(strchr(o.err, '\n'), o.err + o.errlen - 1);
	outcome_free(&o);
}

START_TEST(watch_no_such_process)
{
	char pidarg[16];
	pid_t pid;

	/* a pid that was just released */
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	usage_error((const char *const[]){ "watch", pidarg, "--json", NULL },
		    pidarg);
	usage_error((const char *const[]){ "watch", "1", pidarg, NULL }, pidarg);
}
END_TEST

START_TEST(watch_malformed_pid)
{
	usage_error((const char *const[]){ "watch", "12abc", NULL }, "'12abc'");
	usage_error((const char *const[]){ "watch", "0", "--json", NULL }, "'0'");
	usage_error((const char *const[]){ "watch", "99999999999", NULL },
		    "'99999999999'");
	usage_error((const char *const[]){ "watch", NULL }, "no pid");
	usage_error((const char *const[]){ "watch", "1", "--for", "0", NULL },
		    "--for");
}
END_TEST

Suite *make_watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("watch");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, watch_follows_s_t_s_end);
	tcase_add_test(tc, watch_for_ends_while_alive);
	tcase_add_test(tc, watch_hundreds);
	tcase_add_test(tc, watch_no_such_process);
	tcase_add_test(tc, watch_malformed_pid);
	suite_add_tcase(s, tc);
	return s;
}
