/* test_quiz.c - --quiz asks before each demonstrated change, reads one
 * answer a line from stdin, tells what /proc showed, and scores. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 512
#define MAXQ 128

static struct jobj ev[MAXEV];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is(const struct jobj *o, const char *event)
{
	return strcmp(jstr(o, "event"), event) == 0;
}

static bool shown(const struct jobj *o)
{
	return is(o, "state") && !jbool(o, "transient");
}

/* The result event, which must be the last line. */
static const struct jobj *result(int n)
{
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
	return &ev[n - 1];
}

/* Run LAB --quiz --json with `input` on stdin: the expected letters of
 * its answers go to `key` (one letter each), their number is returned.
 * Every question is answered, in order, right after it is asked; the
 * result carries the score and the number of questions; exit 0. */
static int quiz_run(struct outcome *o, const char *lab, const char *input,
		    char *key, int *score)
{
	int n, q = 0, a = 0, right = 0, pid = 0;
	const struct jobj *res;

	run_proclab(o, input, (const char *const[]){ lab, "--quiz", "--json",
						      NULL });
	ck_assert_msg(o->code == 0, "%s: exit %d: %s", lab, o->code, o->err);
	n = json_lines(o->out, ev, MAXEV);
	ck_assert_int_lt(n, MAXEV);
	for (int i = 0; i < n; i++) {
		if (is(&ev[i], "question") && jget(&ev[i], "given") != NULL) {
			/* asked again after a line that was no answer */
			ck_assert_int_eq((int)jnum(&ev[i], "n"), q);
			ck_assert_int_eq(q, a + 1);
		} else if (is(&ev[i], "question")) {
			ck_assert_int_eq(q, a);         /* none pending */
			ck_assert_int_eq((int)jnum(&ev[i], "n"), ++q);
			ck_assert_str_eq(jstr(&ev[i], "choices"), "RSDTtZX");
			pid = (int)jnum(&ev[i], "pid");
		} else if (is(&ev[i], "answer")) {
			ck_assert_int_eq((int)jnum(&ev[i], "n"), ++a);
			ck_assert_int_eq(a, q);
			ck_assert_int_lt(a, MAXQ);
			key[a - 1] = jstr(&ev[i], "expected")[0];
			ck_assert(strchr("RSDTtZX", key[a - 1]) != NULL);
			ck_assert(jstr(&ev[i], "why")[0] != '\0');
			/* it names the process its question named */
			ck_assert_int_eq((int)jnum(&ev[i], "pid"), pid);
			right += jbool(&ev[i], "correct");
		}
	}
	key[a] = '\0';
	ck_assert_int_eq(q, a);
	res = result(n);
	ck_assert(jbool(res, "ok"));
	ck_assert_int_eq((int)jnum(res, "questions"), q);
	ck_assert_int_eq((int)jnum(res, "score"), right);
	*score = right;
	return q;
}

/* Every state the lab demonstrates is shown between a question about
 * that very process and its answer: asked before it was printed. */
static void asked_before_shown(int n)
{
	for (int i = 0; i < n; i++) {
		int qi = -1, ai = -1;

		if (!shown(&ev[i]))
			continue;
		for (int j = i - 1; j >= 0 && qi < 0; j--)
			if (is(&ev[j], "question") || is(&ev[j], "answer"))
				qi = is(&ev[j], "question") ? j : -2;
		for (int j = i + 1; j < n && ai < 0; j++)
			if (is(&ev[j], "answer"))
				ai = j;
		ck_assert_msg(qi >= 0 && ai > i, "state %s of %s at line %d "
			      "shown outside a question", jstr(&ev[i], "state"),
			      jstr(&ev[i], "role"), i + 1);
		ck_assert_int_eq((int)jnum(&ev[qi], "pid"), (int)jnum(&ev[i], "pid"));
		ck_assert_int_eq((int)jnum(&ev[ai], "pid"), (int)jnum(&ev[i], "pid"));
		ck_assert_str_eq(jstr(&ev[ai], "expected"), jstr(&ev[i], "state"));
		ck_assert_str_eq(jstr(&ev[qi], "role"), jstr(&ev[i], "role"));
	}
}

/* One answer a line. */
static char *lines(const char *letters)
{
	size_t k = strlen(letters);
	char *s = malloc(2 * k + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < k; i++) {
		s[2 * i] = letters[i];
		s[2 * i + 1] = '\n';
	}
	s[2 * k] = '\0';
	return s;
}

/* A wrong letter for each right one: one /proc shows on the way to none
 * of these labs' states (a state passed on the way counts as right). */
static void wrong(const char *key, char *out)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++)
		out[i] = key[i] == 't' ? 'Z' : 't';
	out[i] = '\0';
}

static const char *const quiz_labs[] = { "zombie", "states", "wait", "fork" };

/* EOF: no answer, every question wrong.  Then the letters /proc showed,
 * fed back: all right.  Then a wrong letter each: none right. */
START_TEST(quiz_eof_right_wrong)
{
	const char *lab = quiz_labs[_i];
	char key[MAXQ], again[MAXQ], bad[MAXQ], *in;
	struct outcome o;
	int q, score, n;

	q = quiz_run(&o, lab, NULL, key, &score);
	ck_assert_int_gt(q, 3);
	ck_assert_int_eq(score, 0);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "answer")) {
			ck_assert_int_eq(jget(&ev[i], "given")->type, 'z');
			ck_assert(!jbool(&ev[i], "correct"));
		}
	asked_before_shown(n);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);

	in = lines(key);
	ck_assert_int_eq(quiz_run(&o, lab, in, again, &score), q);
	ck_assert_str_eq(again, key);           /* the same states each run */
	ck_assert_int_eq(score, q);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "answer"))
			ck_assert_str_eq(jstr(&ev[i], "given"),
					 jstr(&ev[i], "expected"));
	asked_before_shown(n);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
	free(in);

	wrong(key, bad);
	in = lines(bad);
	ck_assert_int_eq(quiz_run(&o, lab, in, again, &score), q);
	ck_assert_str_eq(again, key);
	ck_assert_int_eq(score, 0);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
	free(in);
}
END_TEST

/* The questions are the demonstrated changes: in zombie, the demonstrated
 * states of a run without --quiz, in the same order. */
START_TEST(quiz_follows_demonstrated)
{
	char key[MAXQ], seq[MAXQ];
	struct outcome o;
	int n, score;

	run_proclab(&o, NULL, (const char *const[]){ "zombie", "--json", NULL });
	ck_assert_int_eq(o.code, 0);
	n = json_lines(o.out, ev, MAXEV);
	demonstrated(ev, n, "child", seq, sizeof(seq));  /* for below */
	ck_assert_str_eq(seq, "RSZX");
	ck_assert_ptr_null(jget(result(n), "questions"));  /* no quiz */
	outcome_free(&o);

	ck_assert_int_eq(quiz_run(&o, "zombie", "R\n S \nzombie\n", key, &score), 4);
	ck_assert_str_eq(key, seq);
	ck_assert_int_eq(score, 2);     /* blanks around a letter are fine */
	n = json_lines(o.out, ev, MAXEV);
	/* one letter, not a word: asked again, then the input ended */
	ck_assert_str_eq(jstr(nth_event(ev, n, "question", "child", 3), "given"),
			 "zombie");
	ck_assert_int_eq(jnum(nth_event(ev, n, "question", "child", 3), "n"), 3);
	ck_assert_int_eq(jget(nth_event(ev, n, "answer", "child", 2), "given")->type,
			 'z');
	ck_assert_int_eq(jget(nth_event(ev, n, "answer", "child", 3), "given")->type,
			 'z');
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* A line that is not an answer ("zz", an empty line) asks the same
 * question again instead of using it up; a letter whose other case is no
 * choice ("x", "z") is that letter; "T" and "t" stay apart. */
START_TEST(quiz_asks_again)
{
	char key[MAXQ];
	struct outcome o;
	int n, score, asked = 0;

	ck_assert_int_eq(quiz_run(&o, "zombie", "zz\n\nr\ns\n  \nZ \nx\n",
				  key, &score), 4);
	ck_assert_str_eq(key, "RSZX");
	ck_assert_int_eq(score, 4);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		asked += is(&ev[i], "question");
	ck_assert_int_eq(asked, 7);     /* 4, and 3 again */
	ck_assert_str_eq(jstr(nth_event(ev, n, "question", "child", 1), "given"),
			 "zz");
	ck_assert_str_eq(jstr(nth_event(ev, n, "question", "child", 2), "given"),
			 "");
	ck_assert_int_eq(jnum(nth_event(ev, n, "question", "child", 2), "n"), 1);
	ck_assert_str_eq(jstr(nth_event(ev, n, "answer", "child", 3), "given"),
			 "x");
	ck_assert(jbool(nth_event(ev, n, "answer", "child", 3), "correct"));
	outcome_free(&o);

	/* t is not T */
	ck_assert_int_eq(quiz_run(&o, "zombie", "t\n", key, &score), 4);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_str_eq(jstr(nth_event(ev, n, "answer", "child", 0), "given"),
			 "t");
	ck_assert_int_eq(score, 0);
	outcome_free(&o);
}
END_TEST

/* An orphan's Z lasts as long as its adopter takes to reap it (a second
 * or two under a lazy init).  The test adopts it (child subreaper), sees
 * it Z, reaps it, and only then answers Z: /proc showed Z after the
 * question, on the way to X, so the answer is right. */
START_TEST(quiz_state_passed_while_thinking)
{
	struct live l;
	struct jobj e;
	char err[512], stage[32] = "";
	bool told = false;
	int code;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	live_start(&l, (const char *const[]){ "orphan", "--quiz", "--json",
					      NULL });
	while (live_next(&l, &e)) {
		if (is(&e, "stage"))
			snprintf(stage, sizeof(stage), "%s", jstr(&e, "name"));
		if (is(&e, "question") && strcmp(stage, "end") == 0) {
			pid_t pid = (pid_t)jnum(&e, "pid");
			char path[64], buf[512], *rp;
			long long t0 = now_ms();
			bool z = false;

			ck_assert_str_eq(jstr(&e, "role"), "orphan");
			snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
			while (!z && now_ms() - t0 < 5000) {
				FILE *f = fopen(path, "r");

				ck_assert_ptr_nonnull(f);
				ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
				fclose(f);
				rp = strrchr(buf, ')');
				z = rp != NULL && rp[2] == 'Z';
			}
			ck_assert_msg(z, "the orphan %d never showed Z", (int)pid);
			/* a lazy adopter: the zombie stays a while */
			nanosleep(&(struct timespec){ 0, 300000000 }, NULL);
			ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
			ck_assert_int_eq(write(l.in, "Z\n", 2), 2);
		} else if (is(&e, "question")) {
			ck_assert_int_eq(write(l.in, "S\n", 2), 2);
		}
		if (is(&e, "answer") && strcmp(stage, "end") == 0) {
			ck_assert_str_eq(jstr(&e, "expected"), "X");
			ck_assert_str_eq(jstr(&e, "given"), "Z");
			ck_assert_msg(strstr(jstr(&e, "seen"), "ZX") != NULL,
				      "seen %s", jstr(&e, "seen"));
			ck_assert(jbool(&e, "correct"));
			told = true;
		}
	}
	code = live_finish(&l, err, sizeof(err));
	ck_assert_msg(code == 0, "exit %d: %s", code, err);
	ck_assert(told);
	ck_assert_int_eq(survivors(l.pid), 0);
}
END_TEST

/* A stage heading comes before the question of its stage: it says what
 * is done, never the state that shows (zombie's gave all four away). */
START_TEST(quiz_headings_keep_the_answers)
{
	static const char *const giveaway[] = {
		"on the CPU", "runs", "running", "blocks", "sleep", "zombie",
		"has not waited", "releas", "collects",
	};
	static const char *const labs[][3] = {
		{ "zombie" }, { "zombie", "--ignore-sigchld" }, { "states" },
		{ "fork" }, { "wait" }, { "orphan" }, { "orphan", "--subreaper" },
		{ "vfork" },
	};

	for (size_t k = 0; k < sizeof(labs) / sizeof(labs[0]); k++) {
		struct outcome o;
		int n;
		bool asks = false;

		run_proclab(&o, NULL, (const char *const[]){ labs[k][0],
			    "--json", "--quiz", labs[k][1], NULL });
		ck_assert_msg(o.code == 0, "%s: exit %d", labs[k][0], o.code);
		n = json_lines(o.out, ev, MAXEV);
		/* a stage with a question: its heading must not tell */
		for (int i = n - 1; i >= 0; i--) {
			if (is(&ev[i], "question"))
				asks = true;
			if (!is(&ev[i], "stage"))
				continue;
			for (size_t g = 0; asks && g < sizeof(giveaway) /
					 sizeof(giveaway[0]); g++)
				ck_assert_msg(strstr(jstr(&ev[i], "what"),
						     giveaway[g]) == NULL,
					      "%s stage %s: \"%s\" tells: %s",
					      labs[k][0], jstr(&ev[i], "name"),
					      giveaway[g], jstr(&ev[i], "what"));
			asks = false;
		}
		outcome_free(&o);
	}
}
END_TEST

/* The text view: the question comes before the state it asks about, and
 * the result line gives the score. */
START_TEST(quiz_text_view)
{
	struct outcome o;
	const char *q, *z, *a;

	/* sentences whole on their lines: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, "R\nS\nT\nX\n", (const char *const[]){ "zombie", "--quiz", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	q = strstr(o.out, "question    3: which state will /proc show next for child");
	z = strstr(o.out, "Z zombie");
	a = strstr(o.out, "answer      wrong, you said 'T': child");
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_nonnull(z);
	ck_assert_ptr_nonnull(a);
	ck_assert(q < z && z < a);
	ck_assert(strstr(o.out, "last shown as S?") != NULL);
	ck_assert(strstr(o.out, "quiz: 3 of 4 right") != NULL);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* --step and --quiz share stdin line by line: an answer, then Enter for
 * the pause, stage after stage. */
START_TEST(quiz_with_step)
{
	struct outcome o;
	int n, pauses = 0;

	run_proclab(&o, "R\n\nS\n\nZ\n\n\nX\n\n",
		    (const char *const[]){ "zombie", "--quiz", "--step", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	for (int i = 0; i < n; i++)
		pauses += is(&ev[i], "pause");
	ck_assert_int_eq(pauses, 5);
	ck_assert_int_eq((int)jnum(result(n), "score"), 4);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* A lab with no state to demonstrate asks nothing and still runs. */
START_TEST(quiz_no_questions)
{
	struct outcome o;
	int n;

	run_proclab(&o, NULL, (const char *const[]){ "exit-vs-_exit", "--quiz",
						      "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_eq((int)jnum(result(n), "questions"), 0);
	ck_assert_int_eq((int)jnum(result(n), "score"), 0);
	ck_assert_ptr_null(nth_event(ev, n, "question", NULL, 0));
	outcome_free(&o);
}
END_TEST

/* A signal while proclab waits for an answer ends it cleanly. */
START_TEST(quiz_signal_while_asking)
{
	struct live l;
	struct jobj e;
	char err[512];
	int code;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	live_start(&l, (const char *const[]){ "zombie", "--quiz", "--json", NULL });
	for (int q = 0; q < 3;) {       /* answer two, hold the third */
		ck_assert_msg(live_next(&l, &e), "proclab ended early");
		if (!is(&e, "question"))
			continue;
		if (++q < 3)
			ck_assert_int_eq(write(l.in, q == 1 ? "R\n" : "S\n", 2), 2);
	}
	ck_assert_int_eq(kill(l.pid, SIGTERM), 0);
	code = live_finish(&l, err, sizeof(err));
	ck_assert_int_eq(code, 128 + SIGTERM);
	ck_assert_int_eq(survivors(l.pid), 0);
}
END_TEST

Suite *make_quiz_suite(void)
{
	Suite *s = suite_create("quiz");
	TCase *tc = tcase_create("quiz");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, quiz_eof_right_wrong, 0,
			    sizeof(quiz_labs) / sizeof(quiz_labs[0]));
	tcase_add_test(tc, quiz_follows_demonstrated);
	tcase_add_test(tc, quiz_text_view);
	tcase_add_test(tc, quiz_with_step);
	tcase_add_test(tc, quiz_no_questions);
	tcase_add_test(tc, quiz_signal_while_asking);
	tcase_add_test(tc, quiz_asks_again);
	tcase_add_test(tc, quiz_state_passed_while_thinking);
	tcase_add_test(tc, quiz_headings_keep_the_answers);
	suite_add_tcase(s, tc);
	return s;
}
