/* check_main.c - every suite of proclab's tests, in one runner.
 * CK_RUN_SUITE=procfs (or CK_RUN_CASE, CK_FORK=no for gdb/valgrind) picks. */
#include <check.h>
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(make_procfs_suite());
	int failed;

	srunner_add_suite(sr, make_wstatus_suite());
	srunner_add_suite(sr, make_escape_suite());
	srunner_add_suite(sr, make_emit_suite());
	srunner_add_suite(sr, make_cli_suite());
	srunner_add_suite(sr, make_zombie_suite());
	srunner_add_suite(sr, make_hygiene_suite());
	srunner_add_suite(sr, make_exit_suite());
	srunner_add_suite(sr, make_fork_suite());
	srunner_add_suite(sr, make_vfork_suite());
	srunner_add_suite(sr, make_wait_suite());
	srunner_add_suite(sr, make_orphan_suite());
	srunner_add_suite(sr, make_states_suite());
	srunner_add_suite(sr, make_watch_suite());
	srunner_add_suite(sr, make_quiz_suite());
	srunner_add_suite(sr, make_stable_suite());
	srunner_add_suite(sr, make_unix_suite());
	srunner_add_suite(sr, make_hostile_suite());
	srunner_add_suite(sr, make_unpriv_suite());
	srunner_add_suite(sr, make_nopidfd_suite());
	srunner_add_suite(sr, make_stages_suite());
	srunner_add_suite(sr, make_claims_suite());
	srunner_add_suite(sr, make_agent_suite());
	srunner_add_suite(sr, make_sink_suite());
	srunner_add_suite(sr, make_signal_suite());
	srunner_add_suite(sr, make_tree_suite());
	srunner_add_suite(sr, make_session_suite());
	srunner_add_suite(sr, make_where_suite());
	srunner_add_suite(sr, make_thread_suite());
	srunner_add_suite(sr, make_exec_suite());
	srunner_add_suite(sr, make_run_suite());
	srunner_add_suite(sr, make_pipe_suite());
	srunner_add_suite(sr, make_class_suite());
	srunner_add_suite(sr, make_i18n_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
