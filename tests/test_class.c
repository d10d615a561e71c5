/* test_class.c - a class of students: variants (--variant, --student),
 * --record, questions about values, and `proclab grade` on the records
 * (labs/instructor.md's workflow, end to end). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"
#include "variant.h"

#define MAXEV 256

static struct jobj ev[MAXEV];

static const struct jobj *find(int n, const char *event)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), event) == 0)
			return &ev[i];
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(data, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* The generator is the documented one: splitmix64 from 0 begins with
 * 0xe220a8397b1dcdaf (its reference output); FNV-1a of "" is its offset. */
START_TEST(generator_documented)
{
	uint64_t s = 0;

	ck_assert(pl_splitmix64(&s) == 0xe220a8397b1dcdafULL);
	ck_assert(pl_fnv1a64("") == 0xcbf29ce484222325ULL);
	ck_assert(pl_fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
	for (int v = 0; v < VARIANT_COUNT; v++) {
		long long x = variant_value(v, "zombie", "code", 1, 125);

		ck_assert(x >= 1 && x <= 125);
		ck_assert_int_eq(x, variant_value(v, "zombie", "code", 1, 125));
	}
	ck_assert_int_eq(variant_of_student("ann"),
			 (int)(pl_fnv1a64("ann") % VARIANT_COUNT));
}
END_TEST

/* Every lab's vary table names numeric options of its own, in range. */
START_TEST(vary_tables_sound)
{
	int labs_varying = 0;

	for (size_t i = 0; i < lab_count; i++) {
		const struct lab *l = lab_table[i];

		for (const struct lab_vary *v = l->vary; v && v->option; v++) {
			const struct lab_option *o = l->options;

			while (o && o->name && strcmp(o->name, v->option))
				o++;
			ck_assert_msg(o && o->name && o->arg, "%s: --%s",
				      l->name, v->option);
			ck_assert_msg(v->lo >= o->min && v->hi <= o->max &&
				      v->lo < v->hi, "%s: --%s", l->name,
				      v->option);
		}
		labs_varying += l->vary != NULL;
	}
	ck_assert_int_ge(labs_varying, 6);
}
END_TEST

/* A variant changes the exit code the zombie lab's child uses: the reap
 * shows the variant's code; the same variant, the same code; an explicit
 * --code wins; the start event says the variant and the options. */
START_TEST(variant_changes_values)
{
	int a = 1, b = 2;
	struct outcome o;
	char arg[16];
	int n;

	while (variant_value(a, "zombie", "code", 1, 125) ==
	       variant_value(b, "zombie", "code", 1, 125))
		b++;
	for (int k = 0; k < 2; k++) {
		int v = k == 0 ? a : b;
		long long code = variant_value(v, "zombie", "code", 1, 125);

		snprintf(arg, sizeof(arg), "%d", v);
		run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json",
			    "--variant", arg, NULL });
		ck_assert_int_eq(o.code, 0);
		n = json_lines(o.out, ev, MAXEV);
		ck_assert_int_eq((int)jnum(find(n, "start"), "variant"), v);
		ck_assert_int_eq((long long)jnum(find(n, "reap"), "code"), code);
		ck_assert_ptr_nonnull(strstr(jstr(find(n, "start"), "options"),
					     "--code "));
		outcome_free(&o);
	}
	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json",
		    "--variant", arg, "--code", "42", NULL });
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_eq((int)jnum(find(n, "reap"), "code"), 42);
	outcome_free(&o);
	/* no variant: no variant field, the defaults */
	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json", NULL });
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_ptr_null(jget(find(n, "start"), "variant"));
	ck_assert_int_eq((int)jnum(find(n, "reap"), "code"), 42);
	outcome_free(&o);
	/* --student and another --variant disagree: a usage error */
	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--student",
		    "ann", "--variant",
		    variant_of_student("ann") == 0 ? "1" : "0", NULL });
	ck_assert_int_eq(o.code, 2);
	outcome_free(&o);
}
END_TEST

/* --record: the text view and the questions on stdout, the JSON record in
 * the file (with --step too). */
START_TEST(record_and_text)
{
	char dir[] = "/tmp/proclab-class-XXXXXX", path[256];
	struct outcome o;
	char *rec;
	int n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.jsonl", dir);
	run_proclab(&o, "R\n\nS\n\n",
		    (const char *const[]){ "zombie", "--quiz", "--step",
					   "--variant", "3", "--record", path,
					   NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "which state will /proc show"));
	ck_assert_ptr_null(strstr(o.out, "{\"t\""));
	rec = slurp(path);
	n = json_lines(rec, ev, MAXEV);
	ck_assert_int_gt(n, 5);
	ck_assert_str_eq(jstr(&ev[0], "event"), "start");
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	ck_assert_ptr_nonnull(find(n, "question"));
	ck_assert_ptr_nonnull(find(n, "pause"));
	free(rec);
	outcome_free(&o);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Run the zombie lab as `student` with a record; the answers: the states
 * right (after a line that is no letter), the zombie count right, the exit
 * code `code`. */
static void student_run(const char *dir, const char *student, long long code,
			char *path, size_t size)
{
	char in[128];
	struct outcome o;

	snprintf(path, size, "%s/%s.jsonl", dir, student);
	/* "s?" is no letter: the second question is asked again */
	snprintf(in, sizeof(in), "R\ns?\nS\nZ\n1\n%lld\nX\n", code);
	run_proclab(&o, in, (const char *const[]){ "zombie", "--quiz",
		    "--student", student, "--record", path, NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "question"));
	outcome_free(&o);
	{
		char *rec = slurp(path);

		ck_assert_ptr_nonnull(strstr(rec, "\"kind\":\"exit-code\""));
		free(rec);
	}
}

static char *grade(const char *cmd)
{
	char buf[4096];
	size_t len;
	FILE *p = popen(cmd, "r");
	int st;

	ck_assert_ptr_nonnull(p);
	len = fread(buf, 1, sizeof(buf) - 1, p);
	buf[len] = '\0';
	st = pclose(p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s", buf);
	return strdup(buf);
}

/* The class workflow: two students, two variants; one edits the score of
 * its record, one hands in a copy of the other's. */
START_TEST(class_workflow)
{
	char dir[] = "/tmp/proclab-class-XXXXXX", ann[256], bob[256],
	     eve[256], class[256], cmd[2048], line[160];
	int va = variant_of_student("ann"), vb = variant_of_student("bob"),
	    ve = variant_of_student("eve");
	long long ca = variant_value(va, "zombie", "code", 1, 125),
		  cb = variant_value(vb, "zombie", "code", 1, 125);
	char *text, *p, *out;
	const char *proclab = getenv("PROCLAB") ? getenv("PROCLAB")
						: "./proclab";

	ck_assert_int_ne(va, vb);
	ck_assert_int_ne(ca, cb);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	student_run(dir, "ann", ca, ann, sizeof(ann));          /* 6 of 6 */
	student_run(dir, "bob", ca, bob, sizeof(bob));          /* 5 of 6 */
	/* bob edits his score; eve hands in ann's run as hers */
	text = slurp(bob);
	p = strstr(text, "\"score\":5");
	ck_assert_ptr_nonnull(p);
	p[8] = '6';
	spit(bob, text);
	free(text);
	text = slurp(ann);
	p = strstr(text, "\"student\":\"ann\"");
	ck_assert_ptr_nonnull(p);
	memcpy(p + 11, "eve", 3);
	snprintf(eve, sizeof(eve), "%s/eve.jsonl", dir);
	spit(eve, text);
	free(text);
	snprintf(class, sizeof(class), "%s/class.txt", dir);
	spit(class, "# the class list\nann\nbob\neve\n");

	snprintf(cmd, sizeof(cmd), "%s grade --class %s %s %s %s", proclab,
		 class, ann, bob, eve);
	out = grade(cmd);
	snprintf(line, sizeof(line), "ann: variant %d, 1 record (zombie), "
		 "score 6 of 6; ", va);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	snprintf(line, sizeof(line), "bob: variant %d, 1 record (zombie), "
		 "score 5 of 6; ", vb);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "INCONSISTENT its result says 6 of 6, its "
			     "answers give 5 of 6") != NULL, "%s", out);
	snprintf(line, sizeof(line), "eve: variant %d, 1 record (zombie), "
		 "score 6 of 6; ", ve);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "COPY VARIANT a copy: the same pids and "
			     "times as ann's") != NULL, "%s", out);
	snprintf(line, sizeof(line), "variant %d, assigned %d", va, ve);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	free(out);

	/* the same through labs/grade.sh and a directory, as CSV */
	unlink(class);
	snprintf(class, sizeof(class), "%s/class.list", dir);
	spit(class, "ann\nbob\neve\n");
	snprintf(cmd, sizeof(cmd), "PROCLAB=%s sh labs/grade.sh --csv "
		 "--class %s %s", proclab, class, dir);
	out = grade(cmd);
	ck_assert_msg(strncmp(out, "student,variant,records,labs,score,"
			      "questions,flags\n", 48) == 0, "%s", out);
	snprintf(line, sizeof(line), "\"bob\",%d,1,\"zombie\",5,6,", vb);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	free(out);

	ck_assert_int_eq(unlink(ann), 0);
	ck_assert_int_eq(unlink(bob), 0);
	ck_assert_int_eq(unlink(eve), 0);
	ck_assert_int_eq(unlink(class), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A record that claims an observation it does not have, or has events
 * out of order, is inconsistent; an untouched one is not. */
START_TEST(grade_finds_edits)
{
	char dir[] = "/tmp/proclab-class-XXXXXX", a[256], b[256], cmd[1024];
	const char *proclab = getenv("PROCLAB") ? getenv("PROCLAB")
						: "./proclab";
	long long code = variant_value(variant_of_student("cy"), "zombie",
				       "code", 1, 125);
	char *text, *p, *out;
	struct outcome o;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	student_run(dir, "cy", code, a, sizeof(a));
	snprintf(cmd, sizeof(cmd), "%s grade %s", proclab, a);
	p = NULL;
	{
		FILE *f = popen(cmd, "r");
		char buf[1024];
		size_t len;

		ck_assert_ptr_nonnull(f);
		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		ck_assert_int_eq(pclose(f), 0);
		ck_assert_msg(strstr(buf, "score 6 of 6\n") != NULL, "%s", buf);
	}
	/* the expected exit code changed to the given one */
	text = slurp(a);
	p = strstr(text, "\"kind\":\"exit-code\"");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, "\"raw\":");
	ck_assert_ptr_nonnull(p);
	p[6] = p[6] == '1' ? '2' : '1';
	snprintf(b, sizeof(b), "%s/cy2.jsonl", dir);
	spit(b, text);
	free(text);
	snprintf(cmd, sizeof(cmd), "%s grade %s", proclab, b);
	out = grade(cmd);
	ck_assert_msg(strstr(out, "INCONSISTENT") != NULL, "%s", out);
	free(out);
	/* two events swapped: out of order */
	text = slurp(a);
	{
		char *l2 = strchr(text, '\n') + 1, *l3 = strchr(l2, '\n') + 1,
		     *l4 = strchr(l3, '\n') + 1, *tmp;
		size_t n2 = (size_t)(l3 - l2), n3 = (size_t)(l4 - l3);

		tmp = malloc(n2);
		ck_assert_ptr_nonnull(tmp);
		memcpy(tmp, l2, n2);
		memmove(l2, l3, n3);
		memcpy(l2 + n3, tmp, n2);
		free(tmp);
	}
	spit(b, text);
	free(text);
	out = grade(cmd);
	ck_assert_msg(strstr(out, "out of order") != NULL, "%s", out);
	free(out);
	/* a line that is no event */
	text = slurp(a);
	p = malloc(strlen(text) + 16);
	ck_assert_ptr_nonnull(p);
	strcpy(p, "{\"score\":6}\n");
	strcat(p, text);
	spit(b, p);
	free(p);
	free(text);
	out = grade(cmd);
	ck_assert_msg(strstr(out, "line 1 is not a proclab event") != NULL,
		      "%s", out);
	free(out);
	/* proclab list --json: one object a lab */
	run_proclab(&o, NULL, (const char *const[]){ "list", "--json", NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_int_eq(json_lines(o.out, ev, MAXEV), (int)lab_count);
	outcome_free(&o);
	unlink(a);
	unlink(b);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Typing: a near miss is suggested; an option before the lab is told to
 * go after it. */
START_TEST(typing)
{
	struct outcome o;

	run_proclab(&o, NULL, (const char *const[]){ "zomby", NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_msg(strstr(o.err, "did you mean 'zombie'?") != NULL, "%s",
		      o.err);
	outcome_free(&o);
	run_proclab(&o, NULL, (const char *const[]){ "--delay", "5", "zombie",
						      NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_msg(strstr(o.err, "'--delay' goes after the lab: proclab "
			     "zombie --delay") != NULL, "%s", o.err);
	outcome_free(&o);
	run_proclab(&o, NULL, (const char *const[]){ "xyzzyq", NULL });
	ck_assert_int_eq(o.code, 2);
	ck_assert_ptr_null(strstr(o.err, "did you mean"));
	outcome_free(&o);
}
END_TEST

Suite *make_class_suite(void)
{
	Suite *s = suite_create("class");
	TCase *tc = tcase_create("class");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, generator_documented);
	tcase_add_test(tc, vary_tables_sound);
	tcase_add_test(tc, variant_changes_values);
	tcase_add_test(tc, record_and_text);
	tcase_add_test(tc, class_workflow);
	tcase_add_test(tc, grade_finds_edits);
	tcase_add_test(tc, typing);
	suite_add_tcase(s, tc);
	return s;
}
