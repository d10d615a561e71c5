/* test_stages.c - a lab's stages are data: `proclab LAB --help` lists them,
 * and a run shows exactly the stages its options select, in table order.
 * Every count comes from the tables (lab_table, lab->stages), none is
 * written here. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 1024

/* The index of the flag option named by a stage's `when`, or -1. */
static int when_flag(const struct lab *lab, const char *when)
{
	if (when == NULL)
		return -1;
	when += when[0] == '!';
	for (int i = 0; lab->options != NULL && lab->options[i].name; i++)
		if (strcmp(lab->options[i].name, when) == 0)
			return i;
	return -2;
}

START_TEST(help_lists_stages)
{
	for (size_t l = 0; l < lab_count; l++) {
		const struct lab *lab = lab_table[l];
		const char *argv[] = { lab->name, "--help", NULL };
		struct outcome o;

		if (lab->stages == NULL)
			continue;
		run_proclab(&o, NULL, argv);
		ck_assert_int_eq(o.code, 0);
		const char *sec = strstr(o.out, "\nStages:\n");
		ck_assert_msg(sec != NULL, "%s --help has no Stages:", lab->name);
		for (const struct stage *s = lab->stages; s->name; s++) {
			char want[64];

			snprintf(want, sizeof(want), "\n  %s ", s->name);
			ck_assert_msg(strstr(sec, want) != NULL,
				      "%s --help does not list stage %s",
				      lab->name, s->name);
			ck_assert_msg(when_flag(lab, s->when) >= -1,
				      "%s: stage %s: when names no option",
				      lab->name, s->name);
		}
		outcome_free(&o);
	}
}
END_TEST

/* Run lab with flag `flag` (an option index, -1: none) and compare its
 * stage events with the stages the table selects. */
static void check_run(const struct lab *lab, int flag)
{
	static struct jobj ev[MAXEV];
	struct run r = { .lab = lab };
	const char *argv[6] = { lab->name, "--json", "--stable", NULL };
	char opt[64];
	struct outcome o;
	int n, k = 0;

	if (flag >= 0) {
		snprintf(opt, sizeof(opt), "--%s", lab->options[flag].name);
		argv[3] = opt;
		r.set[flag] = true;
		r.val[flag] = 1;
	}
	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 0, "%s %s: exit %d: %s", lab->name,
		      flag >= 0 ? opt : "", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	for (const struct stage *s = lab->stages; s->name; s++) {
		const struct jobj *e;

		if (!stage_applies(&r, s))
			continue;
		e = nth_event(ev, n, "stage", NULL, k++);
		ck_assert_msg(e != NULL, "%s %s: no stage event for %s",
			      lab->name, flag >= 0 ? opt : "", s->name);
		ck_assert_str_eq(jstr(e, "name"), s->name);
	}
	ck_assert_msg(nth_event(ev, n, "stage", NULL, k) == NULL,
		      "%s %s: more stages than its table selects", lab->name,
		      flag >= 0 ? opt : "");
	outcome_free(&o);
}

START_TEST(runs_follow_the_table)
{
	for (size_t l = 0; l < lab_count; l++) {
		const struct lab *lab = lab_table[l];
		int flags[LAB_OPT_MAX], nf = 0;

		if (lab->stages == NULL || lab->args != NULL)
			continue;
		check_run(lab, -1);
		/* each flag a `when` names, once */
		for (const struct stage *s = lab->stages; s->name; s++) {
			int f = when_flag(lab, s->when), seen = 0;

			for (int i = 0; i < nf; i++)
				seen |= flags[i] == f;
			if (f >= 0 && !seen) {
				flags[nf++] = f;
				check_run(lab, f);
			}
		}
	}
}
END_TEST

Suite *make_stages_suite(void)
{
	Suite *s = suite_create("stages");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, help_lists_stages);
	tcase_add_test(tc, runs_follow_the_table);
	suite_add_tcase(s, tc);
	return s;
}
