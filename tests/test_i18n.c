/* test_i18n.c - proclab in Chinese (po/zh_CN.po): every template of the
 * tables translated and naming the same fields, every lab run in Chinese
 * on an 80-column terminal with no line wider, help and usage errors in
 * Chinese, and JSON the same bytes in every language.  tests/po.sh checks
 * the catalogue itself (msgfmt --check, nothing untranslated or fuzzy). */
#include <check.h>
#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "claims.h"
#include "proclab.h"
#include "runcmd.h"
#include "suites.h"
#include "testutil.h"

/* The environment of a run in Chinese on a machine with no Chinese locale
 * generated, as the README says. */
static const char *const zh_env[] = { "LC_ALL=", "LANG=C.UTF-8",
				      "LANGUAGE=zh_CN", NULL };

static void set_env(const char *const env[])
{
	for (; *env != NULL; env++) {
		char key[32];
		const char *eq = strchr(*env, '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - *env), *env);
		if (eq[1] == '\0')
			ck_assert_int_eq(unsetenv(key), 0);
		else
			ck_assert_int_eq(setenv(key, eq + 1, 1), 0);
	}
}

static void chinese(void)
{
	set_env(zh_env);
}

static void english(void)
{
	set_env((const char *const[]){ "LC_ALL=C", "LANGUAGE=", NULL });
}

/* gettext() in this process, from the catalogue beside the proclab under
 * test (the build tree's locale/). */
static void load_catalogue(void)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16];
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";

	snprintf(exe, sizeof(exe), "%s", prog);
	snprintf(dir, sizeof(dir), "%s/locale", dirname(exe));
	chinese();
	ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
	ck_assert_ptr_nonnull(bindtextdomain(PL_DOMAIN, dir));
	ck_assert_ptr_nonnull(textdomain(PL_DOMAIN));
	ck_assert_msg(pl_translated(), "no zh_CN catalogue in %s", dir);
}

/* The {fields} a template names, sorted, one space between: "pid role". */
static void fields_of(const char *t, char *out, size_t size)
{
	char keys[32][40];
	int n = 0;
	size_t len = 0;

	for (const char *p = t; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] == '{') {
			p++;
			continue;
		}
		if (*p != '{')
			continue;
		size_t k = strcspn(p + 1, "}");

		if (n < 32)
			snprintf(keys[n++], sizeof(keys[0]), "%.*s", (int)k,
				 p + 1);
		p += k;
	}
	qsort(keys, (size_t)n, sizeof(keys[0]),
	      (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s",
					i ? " " : "", keys[i]);
}

static int untranslated;

/* A template of the tables, in Chinese: translated, and naming the same
 * fields (with their format suffixes) as the English one, or as its
 * plural (Chinese has one form). */
static void check_template(const char *where, const char *one,
			   const char *many)
{
	const char *zh = many != NULL ? pl_ngettext(one, many, 2)
				      : gettext(one);
	char f_one[512], f_many[512], f_zh[512];

	if (one == NULL || one[0] == '\0')
		return;
	if (zh == one || zh == many) {
		fprintf(stderr, "untranslated (%s): %s\n", where, one);
		untranslated++;
		return;
	}
	fields_of(one, f_one, sizeof(f_one));
	fields_of(many != NULL ? many : one, f_many, sizeof(f_many));
	fields_of(zh, f_zh, sizeof(f_zh));
	ck_assert_msg(strcmp(f_zh, f_one) == 0 || strcmp(f_zh, f_many) == 0,
		      "%s: \"%s\" names {%s}, its translation \"%s\" {%s}",
		      where, one, f_one, zh, f_zh);
}

static void check_sentences(const char *who, const struct sentence *s)
{
	for (; s != NULL && s->event != NULL; s++)
		check_template(who, s->one, s->many);
}

START_TEST(every_template_translated)
{
	load_catalogue();
	untranslated = 0;
	check_sentences("engine", emit_engine_sentences);
	check_sentences("quiz", quiz_value_sentences);
	for (size_t i = 0; i <= lab_count; i++) {
		const struct lab *l = i < lab_count ? lab_table[i]
						    : &run_command_lab;

		check_template(l->name, l->summary, NULL);
		check_template(l->name, l->description, NULL);
		for (const struct lab_option *o = l->options;
		     o != NULL && o->name != NULL; o++)
			check_template(l->name, o->help, NULL);
		for (const struct stage *s = l->stages;
		     s != NULL && s->name != NULL; s++)
			check_template(l->name, s->what,
				       s->count ? s->what_many : NULL);
		check_sentences(l->name, l->sentences);
	}
	for (const struct claim_def *c = claim_table; c->id != NULL; c++) {
		check_template(c->id, c->claim, NULL);
		check_template(c->id, c->evidence, NULL);
	}
	ck_assert_int_eq(untranslated, 0);
}
END_TEST

/* Each lab in Chinese, -v, on a terminal of 80 columns: it passes, says
 * its stages in Chinese, and no line is wider than the terminal; then in
 * a pipe with --stable (80 columns too). */
START_TEST(every_lab_in_chinese)
{
	const struct lab *lab = lab_table[_i];
	char line[4096], *out;
	int code;
	struct outcome o;

	if (lab->args != NULL)  /* watch needs pids */
		return;
	out = run_in_pty((const char *const[]){ lab->name, "-v", NULL }, 80,
			 zh_env, &code);
	ck_assert_msg(code == 0, "%s in Chinese: exit %d: %s", lab->name, code,
		      out);
	ck_assert_msg(strstr(out, "阶段") != NULL,
		      "%s: no stage heading in Chinese: %s", lab->name, out);
	ck_assert_msg(widest(out, line, sizeof(line)) <= 80,
		      "%s in Chinese: a line wider than 80 columns: %s",
		      lab->name, line);
	free(out);
	chinese();
	run_proclab(&o, NULL, (const char *const[]){ lab->name, "--stable",
						     NULL });
	ck_assert_msg(o.code == 0, "%s --stable in Chinese: exit %d: %s",
		      lab->name, o.code, o.err);
	ck_assert_msg(widest(o.out, line, sizeof(line)) <= 80,
		      "%s --stable in Chinese: a line wider than 80 columns: "
		      "%s", lab->name, line);
	outcome_free(&o);
}
END_TEST

/* Every run of digits as one '#' (a failure message names a pid, which
 * --stable does not hide in a message). */
static void no_digits(char *s)
{
	char *w = s;

	for (const char *p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			*w++ = *p;
		else if (w == s || w[-1] != '#')
			*w++ = '#';
	*w = '\0';
}

/* ulimit -n 10: a child cannot set up, an error event with its strerror
 * and exit 3, the same on every run */
static int few_files(void *arg)
{
	struct rlimit rl = { 10, 10 };

	(void)arg;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* A script gets the same bytes in every language. */
static void same_json_as(const char *const argv[], int (*before)(void *))
{
	struct outcome en, zh;

	english();
	run_proclab_as(&en, NULL, argv, before, NULL);
	chinese();
	run_proclab_as(&zh, NULL, argv, before, NULL);
	ck_assert_msg(en.code == zh.code, "%s: exit %d in English, %d in "
		      "Chinese", argv[0], en.code, zh.code);
	if (en.code != 0) {
		no_digits(en.out);
		no_digits(zh.out);
	}
	ck_assert_msg(strcmp(en.out, zh.out) == 0,
		      "%s %s: the JSON differs in Chinese:\n%s\n---\n%s",
		      argv[0], argv[1], en.out, zh.out);
	outcome_free(&en);
	outcome_free(&zh);
}

static void same_json(const char *const argv[])
{
	same_json_as(argv, NULL);
}

START_TEST(json_in_every_language)
{
	const struct lab *lab = lab_table[_i];

	if (lab->args != NULL)
		return;
	same_json((const char *const[]){ lab->name, "--stable", "--json",
					 NULL });
}
END_TEST

START_TEST(json_of_the_commands)
{
	same_json((const char *const[]){ "list", "--json", NULL });
	same_json((const char *const[]){ "claims", "--json", NULL });
	/* a failure's message (with a strerror): the English in JSON */
	same_json_as((const char *const[]){ "zombie", "--stable", "--json",
					    NULL }, few_files);
}
END_TEST

/* Help in Chinese fits 80 columns and is not the English. */
static void help_fits(const char *const argv[])
{
	struct outcome en, zh;
	char line[4096];

	english();
	run_proclab(&en, NULL, argv);
	chinese();
	run_proclab(&zh, NULL, argv);
	ck_assert_msg(zh.code == 0, "%s: exit %d: %s", argv[0], zh.code,
		      zh.err);
	ck_assert_msg(strcmp(en.out, zh.out) != 0, "%s %s: still English",
		      argv[0], argv[1] ? argv[1] : "");
	ck_assert_msg(widest(zh.out, line, sizeof(line)) <= 80,
		      "%s %s in Chinese: a line wider than 80 columns: %s",
		      argv[0], argv[1] ? argv[1] : "", line);
	outcome_free(&en);
	outcome_free(&zh);
}

START_TEST(help_in_chinese)
{
	help_fits((const char *const[]){ "--help", NULL });
	help_fits((const char *const[]){ "list", NULL });
	help_fits((const char *const[]){ "claims", NULL });
	help_fits((const char *const[]){ "claims", "--help", NULL });
	help_fits((const char *const[]){ "grade", "--help", NULL });
	help_fits((const char *const[]){ "run", "--help", NULL });
	for (size_t i = 0; i < lab_count; i++)
		help_fits((const char *const[]){ lab_table[i]->name, "--help",
						 NULL });
}
END_TEST

/* A usage error in Chinese, with the exit status of every language; a
 * locale the machine does not have (zh_CN.UTF-8 is not generated on a
 * fresh Debian) still lets LANGUAGE choose Chinese. */
START_TEST(usage_errors_in_chinese)
{
	struct outcome o;

	chinese();
	run_proclab(&o, NULL, (const char *const[]){ "zomby", NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_msg(strstr(o.err, "zombie") != NULL &&
		      strstr(o.err, "未知") != NULL, "not Chinese: %s", o.err);
	outcome_free(&o);
	ck_assert_int_eq(setenv("LANG", "zh_CN.UTF-8", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--code",
						     "300", NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_msg(strstr(o.err, "无效") != NULL, "not Chinese: %s",
		      o.err);
	outcome_free(&o);
	/* the C locale: English, whatever LANGUAGE says (as gettext does) */
	set_env((const char *const[]){ "LANG=C", "LANGUAGE=zh_CN", NULL });
	run_proclab(&o, NULL, (const char *const[]){ "zomby", NULL });
	ck_assert_msg(strstr(o.err, "unknown lab") != NULL, "%s", o.err);
	outcome_free(&o);
}
END_TEST

Suite *make_i18n_suite(void)
{
	Suite *s = suite_create("i18n");
	TCase *t = tcase_create("zh_CN");

	tcase_set_timeout(t, 300);
	tcase_add_test(t, every_template_translated);
	tcase_add_loop_test(t, every_lab_in_chinese, 0, (int)lab_count);
	tcase_add_loop_test(t, json_in_every_language, 0, (int)lab_count);
	tcase_add_test(t, json_of_the_commands);
	tcase_add_test(t, help_in_chinese);
	tcase_add_test(t, usage_errors_in_chinese);
	suite_add_tcase(s, t);
	return s;
}
