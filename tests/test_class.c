/* test_class.c - a class of students: variants (--variant, --student),
 * --record, questions about values, and `proclab grade` on the records
 * (labs/instructor.md's workflow, end to end). */
#include <check.h>
#include <signal.h>
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

/* What `cmd` (a proclab grade) prints, a string to free(); its exit code
 * must be `want`. */
static char *grade_as(const char *cmd, int want)
{
	char buf[4096];
	size_t len;
	FILE *p = popen(cmd, "r");
	int st;

	ck_assert_ptr_nonnull(p);
	len = fread(buf, 1, sizeof(buf) - 1, p);
	buf[len] = '\0';
	st = pclose(p);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == want, "%s", buf);
	return strdup(buf);
}

static char *grade(const char *cmd)
{
	return grade_as(cmd, 1);
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
		char *buf = grade_as(cmd, 0);

		ck_assert_msg(strstr(buf, "score 6 of 6\n") != NULL, "%s", buf);
		free(buf);
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

/* ---- issue 13: the puzzle's forks and wait's signals vary --------------- */

#define BIGEV 640

static struct jobj big[BIGEV];

/* The exit-vs-_exit lab as variant v with --quiz (no answers) and --json:
 * its events into big[]; returns their number. */
static int exit_variant(int v)
{
	char arg[16];
	struct outcome o;
	int n;

	snprintf(arg, sizeof(arg), "%d", v);
	run_proclab(&o, "", (const char *const[]){ "exit-vs-_exit", "--json",
		    "--quiz", "--variant", arg, NULL });
	ck_assert_int_eq(o.code, 0);
	n = json_lines(o.out, big, BIGEV);
	ck_assert_int_lt(n, BIGEV);
	ck_assert_str_eq(jstr(&big[n - 1], "event"), "result");
	outcome_free(&o);
	return n;
}

/* The puzzle's forks follow the variant: 2^N processes, N*2^N lines
 * through a pipe without fflush, 2^(N+1)-2 with; the quiz's "lines"
 * answer is what came; the same variant gives the same numbers. */
START_TEST(variant_varies_puzzle)
{
	int seen[4] = { 0 }, va = -1, vb = -1;

	/* two variants with different forks */
	for (int v = 0; v < VARIANT_COUNT && (va < 0 || vb < 0); v++) {
		long long f = variant_value(v, "exit-vs-_exit", "forks", 2, 3);

		if (f == 2 && va < 0)
			va = v;
		if (f == 3 && vb < 0)
			vb = v;
	}
	ck_assert(va >= 0 && vb >= 0);
	for (int k = 0; k < 3; k++) {
		int v = k == 1 ? vb : va, n = exit_variant(v), pipes = 0;
		long long forks = variant_value(v, "exit-vs-_exit", "forks",
						2, 3);
		char want[32];

		snprintf(want, sizeof(want), "--forks %lld", forks);
		ck_assert_ptr_nonnull(strstr(jstr(&big[0], "options"), want));
		for (int i = 0; i < n; i++) {
			const struct jobj *e = &big[i];
			bool flushed = jbool(e, "flushed");

			if (strcmp(jstr(e, "event"), "fork_stdio") != 0)
				continue;
			ck_assert_int_eq((int)jnum(e, "processes"), 1 << forks);
			ck_assert_int_eq((int)jnum(e, "lines_expected"),
					 (2 << forks) - 2);
			if (strcmp(jstr(e, "stdout"), "pipe") != 0)
				continue;
			pipes++;
			ck_assert_int_eq((int)jnum(e, "lines_received"),
					 flushed ? (2 << forks) - 2
						 : (int)(forks << forks));
			if (!flushed)
				seen[forks] = (int)jnum(e, "lines_received");
		}
		ck_assert_int_eq(pipes, 2);
		/* every "lines" answer expects what its fork_stdio says */
		for (int i = 0; i < n; i++) {
			const struct jobj *a = &big[i];

			if (strcmp(jstr(a, "event"), "answer") != 0 ||
			    strcmp(jstr(a, "kind"), "lines") != 0)
				continue;
			for (int j = i + 1; j < n; j++)
				if (strcmp(jstr(&big[j], "event"),
					   "fork_stdio") == 0) {
					char got[16];

					snprintf(got, sizeof(got), "%d",
						 (int)jnum(&big[j],
							   "lines_received"));
					ck_assert_str_eq(jstr(a, "expected"),
							 got);
					break;
				}
		}
	}
	ck_assert_int_eq(seen[2], 8);
	ck_assert_int_eq(seen[3], 24);
}
END_TEST

/* The wait lab as variant v, --json: the signal of the term child's and
 * the core-off child's reap, into *term and *core (raw statuses into
 * *rterm, *rcore). */
static void wait_variant(int v, int *term, int *core, int *rterm, int *rcore)
{
	char arg[16];
	struct outcome o;
	int n;

	snprintf(arg, sizeof(arg), "%d", v);
	run_proclab(&o, NULL, (const char *const[]){ "wait", "--json",
		    "--variant", arg, NULL });
	ck_assert_int_eq(o.code, 0);
	n = json_lines(o.out, big, BIGEV);
	*term = *core = -1;
	for (int i = 0; i < n; i++) {
		const struct jobj *e = &big[i];

		if (strcmp(jstr(e, "event"), "reap") != 0)
			continue;
		if (strcmp(jstr(e, "role"), "term") == 0) {
			*term = (int)jnum(e, "signal");
			*rterm = (int)jnum(e, "raw");
			ck_assert(!jbool(e, "core"));
		}
		if (strcmp(jstr(e, "role"), "core-off") == 0) {
			*core = (int)jnum(e, "signal");
			*rcore = (int)jnum(e, "raw");
		}
	}
	outcome_free(&o);
}

/* wait's signals follow the variant (the term child's from SIGTERM,
 * SIGINT, SIGHUP, SIGUSR1, SIGALRM; the core children's from SIGABRT,
 * SIGQUIT, SIGSEGV, SIGFPE): different variants, different raw statuses;
 * the same variant, the same; the quiz asks for the signal, and the grade
 * agrees with the record. */
START_TEST(variant_varies_signals)
{
	static const int terms[5] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				      SIGALRM };
	static const int cores[4] = { SIGABRT, SIGQUIT, SIGSEGV, SIGFPE };
	int got_terms = 0, got_cores = 0, raws = 0, last = -1;
	char dir[] = "/tmp/proclab-class-XXXXXX", path[256], cmd[600];
	const char *proclab = getenv("PROCLAB") ? getenv("PROCLAB")
						: "./proclab";
	struct outcome o;
	char *rec;
	int n, asked = 0;

	for (int v = 0; v < 12; v++) {
		int t, c, rt, rc, t2, c2, rt2, rc2;
		long long ti = variant_value(v, "wait", "term-signal", 1, 5),
			  ci = variant_value(v, "wait", "core-signal", 1, 4);

		wait_variant(v, &t, &c, &rt, &rc);
		ck_assert_int_eq(t, terms[ti - 1]);
		ck_assert_int_eq(c, cores[ci - 1]);
		ck_assert_int_eq(rt & 0x7f, t);
		got_terms |= 1 << (ti - 1);
		got_cores |= 1 << (ci - 1);
		raws += last >= 0 && rt != last;
		last = rt;
		if (v < 3) {    /* reproducible */
			wait_variant(v, &t2, &c2, &rt2, &rc2);
			ck_assert_int_eq(rt2, rt);
			ck_assert_int_eq(rc2 & 0x7f, rc & 0x7f);
		}
	}
	/* 12 variants draw more than one of each set */
	ck_assert_int_gt(__builtin_popcount((unsigned)got_terms), 1);
	ck_assert_int_gt(__builtin_popcount((unsigned)got_cores), 1);
	ck_assert_int_gt(raws, 0);

	/* the quiz: "signal" questions whose answers are the reaps'
	 * signals; proclab grade finds the record consistent */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/w.jsonl", dir);
	run_proclab(&o, "", (const char *const[]){ "wait", "--quiz",
		    "--student", "ann", "--record", path, NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_ptr_nonnull(strstr(o.out, "question"));
	outcome_free(&o);
	rec = slurp(path);
	ck_assert_ptr_nonnull(strstr(rec, "\"kind\":\"signal\""));
	n = json_lines(rec, big, BIGEV);
	for (int i = 0; i < n; i++) {
		const struct jobj *a = &big[i];
		const struct jobj *re = NULL;

		if (strcmp(jstr(a, "event"), "answer") != 0 ||
		    strcmp(jstr(a, "kind"), "signal") != 0)
			continue;
		for (int j = i + 1; j < n && re == NULL; j++)
			if (strcmp(jstr(&big[j], "event"), "reap") == 0 &&
			    jnum(&big[j], "pid") == jnum(a, "pid"))
				re = &big[j];
		ck_assert_ptr_nonnull(re);
		ck_assert_int_eq(atoi(jstr(a, "expected")),
				 (int)jnum(re, "signal"));
		ck_assert_str_eq(jstr(a, "also"), jstr(re, "signame"));
		asked++;
	}
	free(rec);
	/* term, core-off, core-on (if allowed), the SIGKILLed stopped one */
	ck_assert_int_ge(asked, 3);
	snprintf(cmd, sizeof(cmd), "%s grade %s", proclab, path);
	{
		char *buf = grade_as(cmd, 0);

		ck_assert_msg(strstr(buf, "score 0 of ") != NULL, "%s", buf);
		free(buf);
	}
	ck_assert_int_eq(unlink(path), 0);
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
	tcase_add_test(tc, variant_varies_puzzle);
	tcase_add_test(tc, variant_varies_signals);
	suite_add_tcase(s, tc);
	return s;
}
