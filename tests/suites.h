/* suites.h - one constructor per test file. */
#ifndef PROCLAB_SUITES_H
#define PROCLAB_SUITES_H

#include <check.h>

Suite *make_procfs_suite(void);
Suite *make_wstatus_suite(void);
Suite *make_escape_suite(void);
Suite *make_cli_suite(void);
Suite *make_zombie_suite(void);
Suite *make_states_suite(void);
Suite *make_watch_suite(void);

#endif
