/* test_thread.c - `proclab thread`: three tids of one tgid in their own
 * states, what a thread, a fork child and each clone() flag share, a
 * thread's _exit() ending them all, a main thread's pthread_exit()
 * leaving a zombie leader, SIGKILL; the flags themselves under strace
 * (when installed); bad options; nothing left behind when killed. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 120

static const struct jobj *find(const struct jobj *ev, int n, const char *event,
			       const char *key, const char *val)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), event) == 0 &&
		    (key == NULL || strcmp(jstr(&ev[i], key), val) == 0))
			return &ev[i];
	return NULL;
}

/* Every state event of role carries tid (its pid) and tgid. */
static void check_thread_events(const struct jobj *ev, int n,
				const char *role, int tgid)
{
	int seen = 0;

	for (int i = 0; i < n; i++) {
		if (strcmp(jstr(&ev[i], "event"), "state") != 0 ||
		    strcmp(jstr(&ev[i], "role"), role) != 0)
			continue;
		ck_assert_msg(jnum(&ev[i], "tid") == jnum(&ev[i], "pid"),
			      "%s: tid is not its pid", role);
		ck_assert_int_eq((int)jnum(&ev[i], "tgid"), tgid);
		seen++;
	}
	ck_assert_int_gt(seen, 0);
}

/* What each way of making a task shared, as the lab reports it. */
static const struct share_row {
	const char *how;
	bool memory, files, handlers, same_pid;
} shares[] = {
	{ "pthread_create", true, true, true, true },
	{ "fork", false, false, false, false },
	{ "CLONE_VM", true, false, false, false },
	{ "CLONE_FILES", false, true, false, false },
	{ "CLONE_VM|CLONE_SIGHAND", true, false, true, false },
	{ "CLONE_VM|CLONE_SIGHAND|CLONE_THREAD", true, false, true, true },
	{ "CLONE_VM|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD", true, true, true,
	  true },
};

START_TEST(thread_sequence)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *e;
	char tids[64];
	int n, first, second;

	run_proclab(&o, NULL, (const char *const[]){ "thread", "--json",
						      NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_lt(n, MAXEV);

	/* each thread in its own state, then gone with the others */
	assert_demonstrated(ev, n, "spinner", "RX");
	assert_demonstrated(ev, n, "sleeper", "SX");
	assert_demonstrated(ev, n, "first", "SZX");
	/* pthread_exit(): the leader Z at once, the others run on */
	assert_demonstrated(ev, n, "second", "ZX");
	assert_demonstrated(ev, n, "worker", "SX");
	assert_demonstrated(ev, n, "idler", "SX");

	first = role_pid(ev, n, "first");
	second = role_pid(ev, n, "second");
	ck_assert_int_gt(first, 0);
	ck_assert_int_gt(second, 0);
	check_thread_events(ev, n, "first", first);
	check_thread_events(ev, n, "spinner", first);
	check_thread_events(ev, n, "sleeper", first);
	check_thread_events(ev, n, "worker", second);

	/* /proc/PID/task: the three tids, leader first */
	e = find(ev, n, "threads", NULL, NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "pid"), first);
	ck_assert_int_eq((int)jnum(e, "count"), 3);
	snprintf(tids, sizeof(tids), "%d,%d,%d", first,
		 role_pid(ev, n, "spinner"), role_pid(ev, n, "sleeper"));
	ck_assert_str_eq(jstr(e, "tids"), tids);
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "tgid") == 0) {
			ck_assert_int_eq((int)jnum(&ev[i], "tgid"), first);
			ck_assert_int_eq((int)jnum(&ev[i], "getpid"), first);
		}

	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
		const struct share_row *s = &shares[i];

		e = find(ev, n, "shares", "how", s->how);
		ck_assert_msg(e != NULL, "no shares event for %s", s->how);
		ck_assert_msg(jbool(e, "memory") == s->memory &&
			      jbool(e, "files") == s->files &&
			      jbool(e, "handlers") == s->handlers &&
			      jbool(e, "same_pid") == s->same_pid,
			      "%s shared something else", s->how);
		ck_assert_int_eq((int)jnum(e, "read"), s->memory ? 4242 : 0);
	}
	/* the lone flags the kernel refuses */
	e = find(ev, n, "shares", "how", "CLONE_SIGHAND");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "error"), "EINVAL");
	e = find(ev, n, "shares", "how", "CLONE_THREAD");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "error"), "EINVAL");

	/* the thread's _exit(7) ended the process; SIGKILL the second */
	e = find(ev, n, "reap", "role", "first");
	ck_assert_ptr_nonnull(e);
	ck_assert(jbool(e, "exited"));
	ck_assert_int_eq((int)jnum(e, "code"), 7);
	e = find(ev, n, "reap", "role", "second");
	ck_assert_ptr_nonnull(e);
	ck_assert(jbool(e, "signaled"));
	ck_assert_int_eq((int)jnum(e, "signal"), SIGKILL);

	/* the second process answered from its worker, leader a zombie */
	e = find(ev, n, "answered", NULL, NULL);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "tid"), role_pid(ev, n, "worker"));
	ck_assert_int_eq((int)jnum(e, "getpid"), second);
	ck_assert_str_eq(jstr(e, "main_state"), "Z");

	static const struct { const char *id, *verdict; } claims[] = {
		{ "thread-same-pid", "holds" },
		{ "thread-clone-flags", "holds" },
		{ "thread-signals-flag", "does not hold" },
		{ "thread-exit-ends-all", "holds" },
		{ "thread-main-ends-all", "depends" },
	};
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		e = find(ev, n, "claim", "id", claims[i].id);
		ck_assert_msg(e != NULL, "no claim %s", claims[i].id);
		ck_assert_str_eq(jstr(e, "verdict"), claims[i].verdict);
	}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(thread_code_option)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *e;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "thread", "--json",
						      "--code", "0", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	e = find(ev, n, "reap", "role", "first");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq((int)jnum(e, "code"), 0);
	outcome_free(&o);
}
END_TEST

/* The flags themselves, as strace shows them: pthread_create's are the
 * article's list, fork's have no CLONE_VM. */
START_TEST(thread_flags_under_strace)
{
	char cmd[512], line[1024];
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	char out[] = "/tmp/proclab-strace-XXXXXX";
	bool thread = false, forked = false;
	int fd;
	FILE *f;

	if (access("/usr/bin/strace", X_OK) != 0 &&
	    access("/bin/strace", X_OK) != 0)
		return;         /* not installed: the effects are tested */
	fd = mkstemp(out);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "strace -f -qq -e trace=clone,clone3 -o %s "
		 "%s thread >/dev/null 2>&1", out, prog);
	if (system(cmd) != 0) {
		unlink(out);    /* ptrace not allowed here: nothing to see */
		return;
	}
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
			   "CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
			   "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID") != NULL)
			thread = true;
		if (strstr(line, "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|"
			   "SIGCHLD") != NULL)
			forked = true;
	}
	fclose(f);
	unlink(out);
	ck_assert_msg(thread, "no clone with pthread_create's flags");
	ck_assert_msg(forked, "no clone with fork's flags");
}
END_TEST

static const char *const bad[][4] = {
	{ "thread", "--code", "256", NULL },
	{ "thread", "--code", "-1", NULL },
	{ "thread", "--code", NULL },
	{ "thread", "extra", NULL },
};

START_TEST(thread_bad_options)
{
	struct outcome o;
	const char *nl;

	run_proclab(&o, NULL, bad[_i]);
	ck_assert_msg(o.code == 2, "case %d: exit %d: %s", _i, o.code, o.err);
	ck_assert_int_eq((int)o.outlen, 0);
	nl = strchr(o.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", o.err);
	outcome_free(&o);
}
END_TEST

/* Killed at a pause: with three threads (one spinning), with the
 * second's leader a zombie and two threads running on.  SIGTERM goes
 * through proclab's teardown; SIGKILL leaves it to the parent-death
 * signals and the lifelines. */
static const struct killcase {
	int sig;
	const char *stage;
} killcases[] = {
	{ SIGTERM, "threads" }, { SIGKILL, "threads" },
	{ SIGINT, "clone" }, { SIGKILL, "clone" },
	{ SIGTERM, "pthread-exit" }, { SIGKILL, "pthread-exit" },
};

/* Each pause names the watched threads' process, once, for ps -L (at
 * most one process has threads alive at a time): counts the pauses. */
static void note_pause(const struct jobj *e, void *arg)
{
	const char *pids = jstr(e, "pids");

	if (strcmp(jstr(e, "event"), "pause") != 0)
		return;
	(*(int *)arg)++;
	/* after the exit stage no thread is left to look at: proclab */
	if ((int)jnum(e, "stage") == stage_number("thread", "exit"))
		return;
	ck_assert_msg(strncmp(jstr(e, "ps"), "ps -o pid,lwp,", 14) == 0 &&
		      strstr(jstr(e, "ps"), " -L -p ") != NULL,
		      "pause: %s", jstr(e, "ps"));
	ck_assert_msg(strchr(pids, ',') == NULL, "pids: %s", pids);
}

START_TEST(thread_killed_midway)
{
	const struct killcase *k = &killcases[_i];
	int pauses = 0;

	kill_at_pause((const char *const[]){ "thread", "--json", "--step",
					     NULL },
		      stage_number("thread", k->stage), k->sig, note_pause,
		      &pauses);
	ck_assert_int_eq(pauses, stage_number("thread", k->stage));
}
END_TEST

Suite *make_thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = tcase_create("thread");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, thread_sequence);
	tcase_add_test(tc, thread_code_option);
	tcase_add_test(tc, thread_flags_under_strace);
	tcase_add_loop_test(tc, thread_bad_options, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, thread_killed_midway, 0,
			    (int)(sizeof(killcases) / sizeof(killcases[0])));
	suite_add_tcase(s, tc);
	return s;
}
