/* test_hygiene.c - killed at any stage, proclab leaves nothing behind. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGKILL };
enum { NSIGS = sizeof(sigs) / sizeof(sigs[0]), NSTAGES = 5 };

/* Kill `proclab zombie --step` while it holds the processes of stage s:
 * the child running, sleeping, a zombie, a zombie after SIGKILL, reaped. */
START_TEST(killed_while_paused)
{
	int sig = sigs[_i % NSIGS], stage = 1 + _i / NSIGS, code;
	bool saw_result = false;
	char err[512];
	struct live l;

	/* The test adopts what a SIGKILLed proclab orphans, as an init
	 * would, so that the count below does not depend on this machine's
	 * pid 1 reaping promptly. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	live_start(&l, (const char *const[]){ "zombie", "--json", "--step", NULL });
	for (int p = 1; p <= stage;) {
		struct jobj ev;
		ck_assert_msg(live_next(&l, &ev), "proclab ended before pause %d", stage);
		if (strcmp(jstr(&ev, "event"), "result") == 0)
			saw_result = true;
		if (strcmp(jstr(&ev, "event"), "pause") != 0)
			continue;
		if (p++ < stage)    /* Enter: on to the next stage */
			ck_assert_int_eq(write(l.in, "\n", 1), 1);
	}
	ck_assert_int_eq(kill(l.pid, sig), 0);
	code = live_finish(&l, err, sizeof(err));
	ck_assert_msg(code == 128 + sig, "exit %d after %s: %s", code,
		      strsignal(sig), err);
	/* reap whatever came to us (only after SIGKILL can there be any) */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	ck_assert_int_eq(survivors(l.pid), 0);
	ck_assert_msg(!saw_result, "a run killed at pause %d printed a result", stage);
}
END_TEST

Suite *make_hygiene_suite(void)
{
	Suite *s = suite_create("hygiene");
	TCase *tc = tcase_create("signals");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, killed_while_paused, 0, NSIGS * NSTAGES);
	suite_add_tcase(s, tc);
	return s;
}
