/* test_stable.c - `proclab LAB --stable` prints the same bytes on every
 * run, in text and JSON, and names no pid of the run. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 512


/* JSON keys whose values are pids (or lists of pids) in every lab that
 * has them.  ("made", "ended" and "reaped" are pids in wait but counts in
 * tree and signal: not checked here; a pid printed would make two runs
 * differ, which twice() checks for every key.) */
static const char *const pid_keys[] = {
	"pid", "ppid", "by", "child", "parent", "returned", "getpid",
	"getppid", "proc_ppid", "tracer", "grandparent", "adopter", "to",
	"from", "pgrp", "session", "pids",
};

/* The last pid the kernel handed out in our pid namespace. */
static long last_pid(void)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "r");
	long v = -1;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

/* Fails if a number is followed by " ms": a time ("~ ms" is a measured
 * one, as it should be). */
static void no_time_in(const char *lab, const char *out)
{
	for (const char *p = strstr(out, " ms"); p != NULL;
	     p = strstr(p + 1, " ms"))
		ck_assert_msg(p == out || !isdigit((unsigned char)p[-1]),
			      "%s: --stable printed a time: ...%.40s", lab,
			      p > out + 20 ? p - 20 : out);
}

/* The first line where a and b differ, for the failure message. */
static void first_difference(const char *a, const char *b, char *msg,
			     size_t size)
{
	size_t line = 1, i = 0, start = 0;

	for (; a[i] != '\0' && a[i] == b[i]; i++)
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
	snprintf(msg, size, "line %zu: \"%.*s\" vs \"%.*s\"", line,
		 (int)strcspn(a + start, "\n"), a + start,
		 (int)strcspn(b + start, "\n"), b + start);
}

/* Run the lab case args (lab_case()) with --stable, and --json if json. */
static void run_stable(struct outcome *o, const char *const *args, bool json,
		       long *lo, long *hi)
{
	const char *argv[8];
	int n = 0;

	while (args[n] != NULL && n < 5) {
		argv[n] = args[n];
		n++;
	}
	argv[n++] = "--stable";
	if (json)
		argv[n++] = "--json";
	argv[n] = NULL;
	*lo = last_pid();
	run_proclab(o, NULL, argv);
	*hi = last_pid();
	ck_assert_msg(o->code == 0, "%s --stable: exit %d: %s", args[0],
		      o->code, o->err);
	ck_assert_int_eq(survivors(o->sid), 0);
	ck_assert(*hi != *lo);  /* it forked (the pids may wrap) */
}

static void twice(const char *const *args, bool json)
{
	const char *lab = args[0];
	struct outcome a, b;
	long lo_a, hi_a, lo_b, hi_b;
	char msg[512];

	run_stable(&a, args, json, &lo_a, &hi_a);
	run_stable(&b, args, json, &lo_b, &hi_b);
	first_difference(a.out, b.out, msg, sizeof(msg));
	ck_assert_msg(a.outlen == b.outlen &&
		      memcmp(a.out, b.out, a.outlen) == 0,
		      "%s --stable%s: two runs differ at %s", lab,
		      json ? " --json" : "", msg);
	/* two runs have other pids: a pid printed would differ above */
	ck_assert(hi_a != hi_b);
	no_time_in(lab, a.out);
	outcome_free(&a);
	outcome_free(&b);
}

START_TEST(stable_text_twice)
{
	twice(lab_case(_i), false);
}
END_TEST

START_TEST(stable_json_twice)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	long lo, hi;
	int n;

	twice(lab_case(_i), true);
	/* and what it prints is the schema, with roles for pids */
	run_stable(&o, lab_case(_i), true, &lo, &hi);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_gt(n, 2);
	ck_assert_str_eq(jstr(&ev[0], "event"), "start");
	ck_assert_str_eq(jstr(&ev[0], "pid"), "proclab");
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert(jbool(&ev[n - 1], "ok"));
	for (int i = 0; i < n; i++) {
		const struct jmember *t = jget(&ev[i], "t");

		ck_assert_ptr_nonnull(t);
		ck_assert_int_eq(t->type, 'z');
		ck_assert(!jget(&ev[i], "transient"));
		for (size_t k = 0; k < sizeof(pid_keys) / sizeof(*pid_keys);
		     k++) {
			const struct jmember *m = jget(&ev[i], pid_keys[k]);

			/* a role; numbers only for "no process" (0, -1) */
			ck_assert_msg(m == NULL || m->type != 'n' ||
				      m->num <= 0, "%s: line %d: \"%s\": %g",
				      lab_case(_i)[0], i + 1, pid_keys[k], m->num);
		}
	}
	outcome_free(&o);
}
END_TEST

/* The text view: the state events keep their layout, without the time
 * and the pid; the engine's events are their sentences, a pid as its
 * role and a measured value as "~"; a lab's emitf() events are fields;
 * lines wrap at 80 columns under the message column. */
START_TEST(stable_text_zombie)
{
	struct outcome o;
	long lo, hi;

	run_stable(&o, (const char *const[]){ "zombie", NULL }, false, &lo,
		   &hi);
	ck_assert_msg(strncmp(o.out, "[0] start       proclab zombie, pid "
			      "proclab, Linux ~\n", 50) == 0, "%.80s", o.out);
	ck_assert_ptr_nonnull(strstr(o.out,
		"\n[3] child       ppid proclab    Z zombie       exited; its "
		"parent proclab has\n"
		"                                               not waited "
		"for it\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "\n[2] wchan       child sleeps "
				     "in the kernel function ~\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "\n[3] holds       parent pid: "
				     "proclab alive, proclab as a zombie: "
				     "kept\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "\n[5] reap        child "
				     "reaped by waitpid() in pid proclab: "
				     "exited, code 42\n                "
				     "(status 0x2a00)\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "\n[5] result      ok: every "
				     "stage showed what it demonstrates\n"));
	ck_assert_ptr_nonnull(strstr(o.out, "\nstage 5: reap - "));
	outcome_free(&o);
}
END_TEST

/* --step --stable: the pause names roles, and the ps command (which
 * needs pids) is left out. */
START_TEST(stable_step)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	int n, pauses = 0;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--stable",
		    "--json", "--step", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++) {
		if (strcmp(jstr(&ev[i], "event"), "pause") != 0)
			continue;
		pauses++;
		ck_assert_ptr_null(strpbrk(jstr(&ev[i], "pids"),
					   "0123456789"));
		ck_assert_int_eq(jget(&ev[i], "ps")->type, 'z');
	}
	ck_assert_int_eq(pauses, 5);
	ck_assert_str_eq(jstr(nth_event(ev, n, "pause", NULL, 1), "pids"),
			 "child");
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* Without --stable nothing changes: times and pids are numbers. */
START_TEST(normal_unchanged)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json",
						     NULL });
	ck_assert_int_eq(o.code, 0);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(jget(&ev[i], "t")->type, 'n');
	ck_assert_int_eq((pid_t)jnum(&ev[0], "pid"), o.sid);
	ck_assert_int_eq(jget(&ev[0], "kernel")->type, 's');
	ck_assert_int_eq((pid_t)jnum(nth_event(ev, n, "reap", NULL, 0), "by"),
			 o.sid);
	outcome_free(&o);
	run_proclab(&o, NULL, (const char *const[]){ "zombie", NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_msg(strstr(o.out, " ms  start       proclab zombie, pid ") !=
		      NULL, "%.80s", o.out);
	outcome_free(&o);
}
END_TEST

Suite *make_stable_suite(void)
{
	Suite *s = suite_create("stable");
	TCase *tc = tcase_create("stable");
	int nlabs = lab_cases();

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, stable_text_twice, 0, nlabs);
	tcase_add_loop_test(tc, stable_json_twice, 0, nlabs);
	tcase_add_test(tc, stable_text_zombie);
	tcase_add_test(tc, stable_step);
	tcase_add_test(tc, normal_unchanged);
	suite_add_tcase(s, tc);
	return s;
}
