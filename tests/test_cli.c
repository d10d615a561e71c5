/* test_cli.c - the command line: help, list, version, and bad input. */
#include <check.h>
#include <string.h>

#include "suites.h"
#include "testutil.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_ok_stdout(const char *const argv[], const char *needle)
{
	struct outcome o;

	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 0, "exit %d for %s: %s", o.code, argv[0], o.err);
	ck_assert_msg(strstr(o.out, needle) != NULL, "no '%s' in: %s", needle, o.out);
	ck_assert_str_eq(o.err, "");
	outcome_free(&o);
}

START_TEST(help_and_version)
{
	expect_ok_stdout(ARGV("--help"), "usage: proclab LAB");
	expect_ok_stdout(ARGV("-h"), "Labs:");
	expect_ok_stdout(ARGV("help"), "zombie");
	expect_ok_stdout(ARGV("help", "zombie"), "--ignore-sigchld");
	expect_ok_stdout(ARGV("zombie", "--help"), "--timeout MS");
	expect_ok_stdout(ARGV("--version"), "proclab 0.");
	expect_ok_stdout(ARGV("list"), "zombie ");
}
END_TEST

/* Each bad command line: exit 2, nothing on stdout, one line on stderr
 * that names the offending word. */
static const struct bad {
	const char *const *argv;
	const char *word;
} bad[] = {
	{ ARGV("nosuchlab"), "'nosuchlab'" },
	{ ARGV("--nosuch"), "'--nosuch'" },
	{ ARGV("zombie", "--nosuch"), "'--nosuch'" },
	{ ARGV("zombie", "-q"), "'-q'" },
	{ ARGV("zombie", "--delay"), "'--delay'" },
	{ ARGV("zombie", "--delay", "abc"), "'abc'" },
	{ ARGV("zombie", "--delay", "-5"), "'-5'" },
	{ ARGV("zombie", "--delay", "99999999999999999999999"), "99999999999999999999999" },
	{ ARGV("zombie", "--delay", ""), "''" },
	{ ARGV("zombie", "--delay", "5x"), "'5x'" },
	{ ARGV("zombie", "--timeout", "0"), "'0'" },
	{ ARGV("zombie", "--code", "256"), "'256'" },
	{ ARGV("zombie", "--touch", "65"), "'65'" },
	{ ARGV("zombie", "extra"), "'extra'" },
	{ ARGV("zombie", "--json", "--", "x"), "'x'" },
	{ ARGV("zombie", "--ignore-sigchld=1"), "--ignore-sigchld" },
	{ ARGV("list", "extra"), "'extra'" },
	{ ARGV("help", "nosuchlab"), "'nosuchlab'" },
	{ ARGV("help", "zombie", "x"), "'x'" },
	{ ARGV(""), "''" },
};

START_TEST(bad_command_lines)
{
	const struct bad *b = &bad[_i];
	struct outcome o;
	const char *nl;

	run_proclab(&o, NULL, b->argv);
	ck_assert_msg(o.code == 2, "case %d: exit %d, stderr %s", _i, o.code, o.err);
	ck_assert_msg(o.outlen == 0, "case %d: stdout not empty: %s", _i, o.out);
	nl = strchr(o.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "case %d: not one line: %s", _i, o.err);
	ck_assert_msg(strncmp(o.err, "proclab: ", 9) == 0, "case %d: %s", _i, o.err);
	ck_assert_msg(strstr(o.err, b->word) != NULL, "case %d: '%s' not named in: %s",
		      _i, b->word, o.err);
	outcome_free(&o);
}
END_TEST

START_TEST(no_arguments_is_usage)
{
	struct outcome o;

	run_proclab(&o, NULL, (const char *const[]){ NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_uint_eq(o.outlen, 0);
	ck_assert(strstr(o.err, "usage: proclab") != NULL);
	outcome_free(&o);
}
END_TEST

Suite *make_cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, help_and_version);
	tcase_add_loop_test(tc, bad_command_lines, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, no_arguments_is_usage);
	suite_add_tcase(s, tc);
	return s;
}
