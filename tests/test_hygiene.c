/* test_hygiene.c - killed at any stage, proclab leaves nothing behind. */
#include <check.h>
#include <signal.h>
#include <string.h>

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

Suite *make_hygiene_suite(void)
{
	Suite *s = suite_create("hygiene");
	TCase *tc = tcase_create("signals");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, killed_while_paused, 0, NSIGS * NSTAGES);
	suite_add_tcase(s, tc);
	return s;
}
