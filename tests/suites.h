/* suites.h - one constructor per test file. */
#ifndef PROCLAB_SUITES_H
#define PROCLAB_SUITES_H

#include <check.h>

Suite *make_procfs_suite(void);
Suite *make_wstatus_suite(void);
Suite *make_escape_suite(void);
Suite *make_cli_suite(void);
Suite *make_zombie_suite(void);
Suite *make_hygiene_suite(void);
Suite *make_exit_suite(void);
Suite *make_fork_suite(void);
Suite *make_vfork_suite(void);
Suite *make_wait_suite(void);
Suite *make_orphan_suite(void);
Suite *make_states_suite(void);
Suite *make_watch_suite(void);
Suite *make_quiz_suite(void);
Suite *make_stable_suite(void);
Suite *make_unix_suite(void);
Suite *make_hostile_suite(void);
Suite *make_unpriv_suite(void);
Suite *make_nopidfd_suite(void);
Suite *make_stages_suite(void);
Suite *make_claims_suite(void);
Suite *make_agent_suite(void);
Suite *make_emit_suite(void);
Suite *make_sink_suite(void);
Suite *make_signal_suite(void);
Suite *make_tree_suite(void);
Suite *make_session_suite(void);
Suite *make_where_suite(void);
Suite *make_thread_suite(void);
Suite *make_exec_suite(void);
Suite *make_run_suite(void);
Suite *make_pipe_suite(void);
Suite *make_class_suite(void);
Suite *make_i18n_suite(void);

#endif
