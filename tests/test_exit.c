/* test_exit.c - `proclab exit-vs-_exit` loses bytes exactly where stdio
 * still held them, and seed 003's puzzle duplicates lines only on a pipe or
 * a file without fflush. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proclab.h"
#include "sink.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 256

static struct jobj ev[MAXEV];

static bool is(const struct jobj *o, const char *event)
{
	return strcmp(jstr(o, "event"), event) == 0;
}

static const struct jobj *find_case(int n, const char *fn, const char *out,
				    bool newline)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "case") && strcmp(jstr(&ev[i], "exit_fn"), fn) == 0 &&
		    strcmp(jstr(&ev[i], "stdout"), out) == 0 &&
		    jbool(&ev[i], "newline") == newline)
			return &ev[i];
	return NULL;
}

static const struct jobj *find_stdio(int n, const char *out, bool flushed)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], "fork_stdio") &&
		    strcmp(jstr(&ev[i], "stdout"), out) == 0 &&
		    jbool(&ev[i], "flushed") == flushed)
			return &ev[i];
	return NULL;
}

static int run_json(struct outcome *o)
{
	run_proclab(o, NULL, (const char *const[]){ "exit-vs-_exit", "--json",
						     NULL });
	ck_assert_msg(o->code == 0, "exit %d: %s", o->code, o->err);
	return json_lines(o->out, ev, MAXEV);
}

static const char *const fns[] = { "exit", "_exit", "return", "abort" };
#define NFNS ((int)(sizeof(fns) / sizeof(fns[0])))

/* The lab's row in the table of labs, and how many stages a run shows
 * (the lab has no options: every stage of its table runs). */
static const struct lab *exit_lab(void)
{
	for (size_t l = 0; l < lab_count; l++)
		if (strcmp(lab_table[l]->name, "exit-vs-_exit") == 0)
			return lab_table[l];
	ck_abort_msg("no exit-vs-_exit in the table of labs");
	return NULL;
}

static int exit_stages(void)
{
	int n = 0;

	for (const struct stage *s = exit_lab()->stages; s->name; s++)
		n++;
	return n;
}

START_TEST(exit_cases)
{
	struct outcome o;
	int n = run_json(&o), ncase = 0;

	for (int i = 0; i < n; i++)
		ncase += is(&ev[i], "case");
	/* every way out, with and without a newline, on every sink */
	ck_assert_int_eq(ncase, SINK_KINDS * NFNS * 2);
	for (int k = 0; k < SINK_KINDS; k++)
		for (int f = 0; f < NFNS; f++)
			for (int nl = 0; nl < 2; nl++) {
				const struct jobj *c = find_case(n, fns[f], sink_name(k), nl);
				bool flushes = f == 0 || f == 2;
				bool tty = k == SINK_TTY;
				int printed;

				ck_assert_ptr_nonnull(c);
				printed = (int)jnum(c, "printed");
				ck_assert_int_eq(printed, nl ? 13 : 12);
				ck_assert_str_eq(jstr(c, "buffering"), tty ? "line" : "full");
				/* a terminal wrote the line at its \n already */
				ck_assert_int_eq((int)jnum(c, "pending"),
						 tty && nl ? 0 : printed);
				/* lost exactly where bytes were still buffered */
				ck_assert_int_eq((int)jnum(c, "received"),
						 flushes || (tty && nl) ? printed : 0);
				ck_assert(jbool(c, "atexit_ran") == flushes);
				/* abort: SIGABRT in the raw status; else exit 0 */
				ck_assert_int_eq((int)jnum(c, "raw"), f == 3 ? 6 : 0);
			}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(exit_puzzle)
{
	struct outcome o;
	int n = run_json(&o);

	for (int k = 0; k < SINK_KINDS; k++)
		for (int fl = 0; fl < 2; fl++) {
			const struct jobj *s = find_stdio(n, sink_name(k), fl);
			int lines = 0, dup = 0, forks = 0;

			ck_assert_ptr_nonnull(s);
			ck_assert_int_eq((int)jnum(s, "processes"), 4);
			ck_assert_int_eq((int)jnum(s, "lines_expected"), 6);
			ck_assert_int_eq((int)jnum(s, "lines_received"),
					 k != SINK_TTY && !fl ? 8 : 6);
			for (int i = 0; i < n; i++) {
				const struct jobj *e = &ev[i];

				if (strcmp(jstr(e, "stdout"), sink_name(k)) != 0 ||
				    jbool(e, "flushed") != (bool)fl)
					continue;
				if (is(e, "puzzle_line")) {
					lines++;
					ck_assert(strncmp(jstr(e, "text"), "ppid=", 5) == 0);
					if (jnum(e, "times") > 1) {
						dup++;
						/* only A's and B's i=2 lines are copied */
						ck_assert(strstr(jstr(e, "text"), "i=2") != NULL);
						ck_assert(strcmp(jstr(e, "of"), "A") == 0 || strcmp(jstr(e, "of"), "B") == 0);
					}
				}
				if (is(e, "puzzle_fork")) {
					forks++;
					/* bytes pending at the fork: only the i=1
					 * forks, only when fully buffered, unflushed */
					ck_assert_int_eq(jnum(e, "pending") > 0,
							 k != SINK_TTY && !fl && jnum(e, "i") == 1);
				}
			}
			ck_assert_int_eq(lines, (int)jnum(s, "lines_received"));
			ck_assert_int_eq(dup, k != SINK_TTY && !fl ? 4 : 0);
			ck_assert_int_eq(forks, 3);
		}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(exit_claims)
{
	struct outcome o;
	int n = run_json(&o), claims = 0;

	for (int i = 0; i < n; i++) {
		const struct jobj *c = &ev[i];
		const char *claim = jstr(c, "claim");

		if (!is(c, "claim"))
			continue;
		claims++;
		if (strstr(claim, "nothing is printed"))
			ck_assert(jbool(c, "holds"));
		else if (strstr(claim, "is lost")) {
			ck_assert(!jbool(c, "holds"));
			ck_assert_int_eq((int)jnum(c, "tty_received"), 13);
			ck_assert_int_eq((int)jnum(c, "pipe_received"), 0);
		} else if (strstr(claim, "eight lines")) {
			ck_assert(!jbool(c, "holds"));
			ck_assert_int_eq((int)jnum(c, "tty_unflushed"), 6);
			ck_assert_int_eq((int)jnum(c, "pipe_unflushed"), 8);
		} else if (strstr(claim, "first child")) {
			ck_assert(!jbool(c, "holds"));
			ck_assert_int_eq((int)jnum(c, "pending_at_fork_b"), 0);
			ck_assert_int_gt((int)jnum(c, "pending_at_fork_c"), 0);
		}
	}
	ck_assert_int_eq(claims, 5);
	ck_assert(jbool(&ev[n - 1], "ok"));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

START_TEST(exit_text_and_step)
{
	struct outcome o;
	static struct jobj pev[MAXEV];
	char enters[64] = "";
	int n, pauses = 0, stages = exit_stages();

	/* sentences whole on their lines: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ "exit-vs-_exit", NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert(strstr(o.out, "line-buffered, with a 1024-byte") != NULL);
	ck_assert(strstr(o.out, "fully buffered, with a 4096-byte") != NULL);
	ck_assert(strstr(o.out, "printf(\"hello, world\\n\"); _exit(0): 0 of 13 "
			 "bytes arrived; the 13 still buffered were LOST; no "
			 "exit handler ran") != NULL);
	ck_assert(strstr(o.out, "printf(\"hello, world\"); exit(0): 12 of 12 "
			 "bytes arrived (12 still buffered at the end); the "
			 "exit handler ran") != NULL);
	ck_assert(strstr(o.out, "; killed by SIGABRT") != NULL);
	ck_assert(strstr(o.out, "'s; came 2 times)") != NULL);
	ck_assert(strstr(o.out, "bytes in its stdout buffer: C gets a copy")
		  != NULL);
	ck_assert(strstr(o.out, "2 of them copies of lines") != NULL);
	ck_assert_str_eq(o.err, "");
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);

	/* one Enter for each stage's pause */
	ck_assert_int_lt(stages, (int)sizeof(enters));
	memset(enters, '\n', (size_t)stages);
	run_proclab(&o, enters, (const char *const[]){ "exit-vs-_exit",
				"--json", "--step", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, pev, MAXEV);
	for (int i = 0; i < n; i++)
		pauses += strcmp(jstr(&pev[i], "event"), "pause") == 0;
	ck_assert_int_eq(pauses, stages);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

Suite *make_exit_suite(void)
{
	Suite *s = suite_create("exit-vs-_exit");
	TCase *tc = tcase_create("exit-vs-_exit");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exit_cases);
	tcase_add_test(tc, exit_puzzle);
	tcase_add_test(tc, exit_claims);
	tcase_add_test(tc, exit_text_and_step);
	suite_add_tcase(s, tc);
	return s;
}
