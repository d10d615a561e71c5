/* test_cli.c - the command line: help, list, version, and bad input. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proclab.h"
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
	{ ARGV("--version", "a\033[2Jb"), "'a\\033[2Jb'" },
	{ ARGV("-V", "x\ny"), "'x\\ny'" },
};

/* Run one bad command line: exit 2, not a crash; nothing on stdout; one
 * line on stderr, with no raw control character, that names the word. */
static void expect_usage_error(const char *const argv[], const char *word)
{
	struct outcome o;
	char what[512] = "";
	const char *nl;

	for (int i = 0; argv[i] != NULL && strlen(what) < 400; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 "%s\"%s\"", i ? " " : "", argv[i]);
	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 2, "%s: exit %d, stderr %s", what, o.code, o.err);
	ck_assert_msg(o.outlen == 0, "%s: stdout not empty: %s", what, o.out);
	nl = strchr(o.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "%s: not one line: %s", what, o.err);
	ck_assert_msg(strlen(o.err) == o.errlen, "%s: a NUL on stderr", what);
	for (const char *p = o.err; p < nl; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f,
			      "%s: raw control character 0x%02x on stderr: %s",
			      what, (unsigned char)*p, o.err);
	ck_assert_msg(strncmp(o.err, "proclab: ", 9) == 0, "%s: %s", what, o.err);
	ck_assert_msg(strstr(o.err, word) != NULL, "%s: %s not named in: %s",
		      what, word, o.err);
	outcome_free(&o);
}

START_TEST(bad_command_lines)
{
	expect_usage_error(bad[_i].argv, bad[_i].word);
}
END_TEST

/* The same, for every lab and every option, generated from the labs' own
 * table (so a new lab or option is covered by itself). */
#define GEN_MAX 1024
static struct gen {
	const char *argv[6];
	char word[80];
	char num[24];           /* storage for a generated number */
} gen[GEN_MAX];
static int ngen;

/* One generated case: its expected word and argv (up to 5 words, NULL
 * after the last).  Runs before the tests, so it aborts on a full table. */
static struct gen *gen_add(const char *word, ...)
{
	struct gen *g;
	va_list ap;
	int n = 0;

	if (ngen >= GEN_MAX)
		abort();
	g = &gen[ngen++];
	snprintf(g->word, sizeof(g->word), "%s", word);
	va_start(ap, word);
	while (n < 5 && (g->argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	g->argv[n] = NULL;
	return g;
}

#define GEN(word, ...) gen_add(word, __VA_ARGS__, (const char *)NULL)

/* A value no number option takes, and how the message must show it:
 * control characters escaped, never raw. */
static const struct { const char *value, *shown; } bad_values[] = {
	{ "", "''" },
	{ "abc", "'abc'" },
	{ "5x", "'5x'" },
	{ "0x10", "'0x10'" },
	{ "1e3", "'1e3'" },
	{ "1.5", "'1.5'" },
	{ "5 ", "'5 '" },
	{ "99999999999999999999", "'99999999999999999999'" },
	{ "-99999999999999999999", "'-99999999999999999999'" },
	{ "\x1b[31m", "'\\033[31m'" },
	{ "a\nb", "'a\\nb'" },
	{ "\t", "'\\t'" },
};

static void gen_numeric(const char *lab, const char *opt, long long min,
			long long max)
{
	static char names[2 * (LAB_OPT_MAX + 2) * 16][40];
	static int nnames;
	char *dashed, *eq;
	struct gen *g;

	if (nnames + 2 > (int)(sizeof(names) / sizeof(names[0])))
		abort();
	dashed = names[nnames++];
	eq = names[nnames++];

	snprintf(dashed, 40, "--%s", opt);
	snprintf(eq, 40, "--%s=", opt);
	GEN(dashed, lab, dashed);                    /* no value */
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		GEN(bad_values[i].shown, lab, dashed, bad_values[i].value);
	GEN("''", lab, eq);                          /* --opt= */
	g = GEN("", lab, dashed, "");                /* below the range */
	snprintf(g->num, sizeof(g->num), "%lld", min - 1);
	snprintf(g->word, sizeof(g->word), "'%lld' is too small", min - 1);
	g->argv[2] = g->num;
	g = GEN("", lab, dashed, "");                /* above it */
	snprintf(g->num, sizeof(g->num), "%lld", max + 1);
	snprintf(g->word, sizeof(g->word), "'%lld' is too large", max + 1);
	g->argv[2] = g->num;
}

static void gen_all(void)
{
	static char flags[LAB_OPT_MAX * 16][40];
	int nflags = 0;

	for (size_t i = 0; i < lab_count; i++) {
		const struct lab *lab = lab_table[i];
		const char *n = lab->name;

		GEN("'--nosuch'", n, "--nosuch");
		GEN("'-q'", n, "-q");
		GEN("'-\\001'", n, "-\001");
		GEN("'-\\033'", n, "--json", "-\x1b");
		GEN("'--json=1'", n, "--json=1");
		GEN("'--step=yes'", n, "--step=yes");
		gen_numeric(n, "delay", 0, 600000);
		gen_numeric(n, "timeout", 1, 600000);
		for (const struct lab_option *o = lab->options; o && o->name; o++) {
			if (o->arg != NULL) {
				gen_numeric(n, o->name, o->min, o->max);
				continue;
			}
			if (nflags >= (int)(sizeof(flags) / sizeof(flags[0])))
				abort();
			snprintf(flags[nflags], sizeof(flags[0]), "--%s=1", o->name);
			GEN(flags[nflags], n, flags[nflags]);
			nflags++;
		}
		if (lab->args == NULL) {
			GEN("'extra'", n, "extra");
			GEN("'extra'", n, "--json", "--", "extra");
			GEN("''", n, "");
			GEN("'\\033[2J'", n, "\x1b[2J");
			GEN("'a\\nb'", n, "--json", "a\nb");
		}
	}
	/* watch's operands: pids of processes that exist now */
	gen_add("no pid", "watch", (const char *)NULL);
	GEN("no pid", "watch", "--json", "--for", "1");
	GEN("'abc'", "watch", "abc");
	GEN("''", "watch", "");
	GEN("'0'", "watch", "0");
	GEN("'-1'", "watch", "-1");
	GEN("'1.5'", "watch", "1.5");
	GEN("'2147483648'", "watch", "2147483648");
	GEN("'99999999999999999999'", "watch", "99999999999999999999");
	GEN("'1\\033[2J'", "watch", "1\x1b[2J");
	GEN("'1\\n2'", "watch", "1", "1\n2");
	/* above any pid_max (2^22): a pid no process has */
	GEN("2147483647", "watch", "2147483647");
	GEN("2147483647", "watch", "1", "2147483647", "--json");
}

START_TEST(bad_command_lines_every_lab)
{
	expect_usage_error(gen[_i].argv, gen[_i].word);
}
END_TEST

/* Bare `proclab` shows the usage and lists the labs (exit 0). */
START_TEST(no_arguments_is_usage)
{
	struct outcome o;

	run_proclab(&o, NULL, (const char *const[]){ NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_uint_eq(o.errlen, 0);
	ck_assert(strstr(o.out, "usage: proclab") != NULL);
	for (size_t i = 0; i < lab_count; i++)
		ck_assert_msg(strstr(o.out, lab_table[i]->summary) != NULL,
			      "%s", lab_table[i]->name);
	outcome_free(&o);
}
END_TEST

/* `proclab list`: one line a lab, in the order of the table, no wider than
 * 79 columns (scripts read its first word; people read it at 80). */
START_TEST(list_fits)
{
	struct outcome o;
	const char *line;
	size_t i = 0;

	run_proclab(&o, NULL, (const char *const[]){ "list", NULL });
	ck_assert_int_eq(o.code, 0);
	for (line = o.out; *line != '\0'; i++) {
		size_t n = strcspn(line, "\n");

		ck_assert_msg(n <= 79, "list: a line of %zu columns: %.*s", n,
			      (int)n, line);
		ck_assert_uint_lt(i, lab_count);
		ck_assert_msg(strncmp(line, lab_table[i]->name,
				      strlen(lab_table[i]->name)) == 0 &&
			      line[strlen(lab_table[i]->name)] == ' ',
			      "list: line %zu is not %s", i + 1,
			      lab_table[i]->name);
		line += n + (line[n] == '\n');
	}
	ck_assert_uint_eq(i, lab_count);
	outcome_free(&o);
}
END_TEST

Suite *make_cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	gen_all();
	tcase_add_test(tc, help_and_version);
	tcase_add_loop_test(tc, bad_command_lines, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, bad_command_lines_every_lab, 0, ngen);
	tcase_add_test(tc, no_arguments_is_usage);
	tcase_add_test(tc, list_fits);
	suite_add_tcase(s, tc);
	return s;
}
