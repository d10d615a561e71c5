/* test_emit.c - the emitter: sentences as templates, and text that fits.
 *
 * Every sentence of the engine's table and of every lab's is rendered
 * with dummy fields made from its own keys, in the three views; the
 * template syntax (plurals, braces, format suffixes, unknown keys) and the
 * wrapping (display columns, no word cut, the message column) are checked
 * on their own; and every lab runs in a pipe with COLUMNS=80 and in a pty
 * of 80 and 120 columns, no line wider than the terminal. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"
#include "suites.h"
#include "testutil.h"

/* ---- a run without a lab running, and its stdout captured -------------- */

static const struct lab_option test_options[] = {
	{ "children", "N", 1, 64, 2, "how many" },
	{ "ignore-sigchld", NULL, 0, 1, 0, "a flag" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

static const struct sentence test_sentences[] = {
	{ "page", NULL, "{n} page", "{n} pages", "n" },
	{ "brace", NULL, "{{literal}} {a} }}{{", NULL, NULL },
	{ "hex", NULL, "status 0x{raw:04x}, {ms:.3f} ms, [{w:-6}] [{w:6}]",
	  NULL, NULL },
	{ "unknown", NULL, "{role} has {nothing}", NULL, NULL },
	{ "malformed", NULL, "{role has no end", NULL, NULL },
	{ "a-very-long-event-name", NULL, "{a}", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct lab test_lab = {
	.name = "testlab",
	.summary = "a lab for the emitter's tests",
	.options = test_options,
	.sentences = test_sentences,
};

static void init_run(struct run *r, const struct lab *lab, bool stable,
		     bool json)
{
	memset(r, 0, sizeof(*r));
	r->lab = lab;
	r->stable = stable;
	r->json = json;
	r->self = getpid();
	r->sigfd = -1;
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
}

/* stdout into a temporary file while capturing */
static int saved_stdout = -1;
static FILE *captured;

static void capture_begin(void)
{
	fflush(stdout);
	captured = tmpfile();
	ck_assert_ptr_nonnull(captured);
	saved_stdout = dup(STDOUT_FILENO);
	ck_assert_int_ge(saved_stdout, 0);
	ck_assert_int_eq(dup2(fileno(captured), STDOUT_FILENO), STDOUT_FILENO);
}

/* What was printed since capture_begin(): a string to free(). */
static char *capture_end(void)
{
	long n;
	char *buf;

	fflush(stdout);
	ck_assert_int_eq(dup2(saved_stdout, STDOUT_FILENO), STDOUT_FILENO);
	close(saved_stdout);
	n = ftell(captured);
	ck_assert_int_ge(n, 0);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	rewind(captured);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, captured), (size_t)n);
	fclose(captured);
	return buf;
}

static void utf8_locale(void)
{
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
}

/* ---- every sentence, with fields made from its own keys ---------------- */

#define MAXF 24

struct dummy {
	struct field f[MAXF + 1];
	char keys[MAXF][40];
	char vals[MAXF][44];
	int n;
};

static void add_keys(struct dummy *d, const char *t)
{
	while (t != NULL && *t != '\0') {
		if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}')) {
			t += 2;
			continue;
		}
		if (*t++ != '{')
			continue;
		size_t kn = strcspn(t, ":}");
		const char *spec = t[kn] == ':' ? t + kn + 1 : NULL;
		bool number = spec != NULL &&
			      strpbrk(spec, "dxXofge") != NULL &&
			      strpbrk(spec, "dxXofge") < strchr(spec, '}');
		int i;

		ck_assert_uint_lt(kn, sizeof(d->keys[0]));
		for (i = 0; i < d->n; i++)
			if (strlen(d->keys[i]) == kn &&
			    strncmp(d->keys[i], t, kn) == 0)
				break;
		if (i == d->n && d->n < MAXF) {
			memcpy(d->keys[i], t, kn);
			d->keys[i][kn] = '\0';
			d->vals[i][0] = '<';
			memcpy(d->vals[i] + 1, t, kn);
			memcpy(d->vals[i] + 1 + kn, ">", 2);
			d->f[i] = number ? F_INT(d->keys[i], 2)
					 : F_STR(d->keys[i], d->vals[i]);
			d->n++;
		}
		t += kn;
	}
}

static void make_dummy(struct dummy *d, const struct sentence *s)
{
	memset(d, 0, sizeof(*d));
	add_keys(d, s->one);
	add_keys(d, s->many);
	if (s->count != NULL) {
		int i;

		for (i = 0; i < d->n; i++)
			if (strcmp(d->keys[i], s->count) == 0)
				break;
		if (i == d->n) {
			snprintf(d->keys[i], sizeof(d->keys[i]), "%s", s->count);
			d->n++;
		}
		d->f[i] = F_INT(d->keys[i], 2);
	}
	d->f[d->n] = (struct field){ .type = FT_END };
}

static bool deliberate_error(const struct sentence *s)
{
	return strcmp(s->event, "unknown") == 0 ||
	       strcmp(s->event, "malformed") == 0;
}

static void render_table(const struct lab *lab, const struct sentence *tab)
{
	for (const struct sentence *s = tab; s != NULL && s->event != NULL;
	     s++) {
		struct dummy d;
		struct run r;
		char *text, *out;
		struct jobj o;

		if (deliberate_error(s))
			continue;
		make_dummy(&d, s);
		for (int stable = 0; stable <= 1; stable++) {
			init_run(&r, lab, stable, false);
			text = emit_render(&r, s, d.f);
			ck_assert_ptr_nonnull(text);
			/* every string field shows, as it is in both views */
			for (int i = 0; i < d.n; i++)
				if (d.f[i].type == FT_STR)
					ck_assert_msg(strstr(text, d.vals[i]),
						      "%s/%s: no %s in \"%s\"",
						      s->event, s->form ? s->form : "-",
						      d.vals[i], text);
			free(text);
			/* the whole line, through the emitter */
			capture_begin();
			emit_sentence(&r, s, d.f);
			out = capture_end();
			ck_assert_msg(strlen(out) > 0 && out[strlen(out) - 1] == '\n',
				      "%s: \"%s\"", s->event, out);
			free(out);
		}
		for (int stable = 0; stable <= 1; stable++) {
			init_run(&r, lab, stable, true);
			capture_begin();
			emit_sentence(&r, s, d.f);
			out = capture_end();
			ck_assert_msg(json_parse_line(out, strcspn(out, "\n"), &o) > 0,
				      "%s: not JSON: %s", s->event, out);
			ck_assert_str_eq(jstr(&o, "event"), s->event);
			ck_assert_str_eq(out + strcspn(out, "\n"), "\n");
			free(out);
		}
	}
}

START_TEST(every_engine_sentence)
{
	render_table(lab_table[0], emit_engine_sentences);
}
END_TEST

START_TEST(every_lab_sentence)
{
	render_table(lab_table[_i], lab_table[_i]->sentences);
}
END_TEST

START_TEST(test_lab_sentences)
{
	render_table(&test_lab, test_lab.sentences);
}
END_TEST

/* ---- the template syntax ------------------------------------------------ */

static char *render(bool stable, const char *event,
		    const struct field *fields)
{
	struct run r;
	const struct sentence *s;
	char *text;

	init_run(&r, &test_lab, stable, false);
	for (s = test_sentences; s->event != NULL; s++)
		if (strcmp(s->event, event) == 0)
			break;
	ck_assert_ptr_nonnull(s->event);
	text = emit_render(&r, s, fields);
	ck_assert_ptr_nonnull(text);
	return text;
}

#define RENDERS(stable, event, fields, want) do {			\
	char *got_ = render(stable, event, fields);			\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(plurals)
{
	RENDERS(false, "page", FIELDS(F_INT("n", 1)), "1 page");
	RENDERS(false, "page", FIELDS(F_INT("n", 2)), "2 pages");
	RENDERS(false, "page", FIELDS(F_INT("n", 0)), "0 pages");
	RENDERS(true, "page", FIELDS(F_INT("n", 1)), "1 page");
	/* measured: "~" every run, and the same form every run */
	RENDERS(true, "page", FIELDS(F_MEAS("n", 1LL)), "~ pages");
	RENDERS(false, "page", FIELDS(F_MEAS("n", 1LL)), "1 page");
}
END_TEST

START_TEST(braces)
{
	RENDERS(false, "brace", FIELDS(F_STR("a", "x")), "{literal} x }{");
}
END_TEST

START_TEST(format_suffix)
{
	utf8_locale();
	RENDERS(false, "hex", FIELDS(F_INT("raw", 10752), F_NUM("ms", 1.25),
				     F_STR("w", "ab")),
		"status 0x2a00, 1.250 ms, [ab    ] [    ab]");
	RENDERS(false, "hex", FIELDS(F_INT("raw", 0), F_NUM("ms", 0),
				     F_STR("w", "\xe6\xbc\xa2\xe5\xad\x97")),
		"status 0x0000, 0.000 ms, [\xe6\xbc\xa2\xe5\xad\x97  ] "
		"[  \xe6\xbc\xa2\xe5\xad\x97]");
	/* --stable: a measured value is "~", whatever its format */
	RENDERS(true, "hex", FIELDS(F_INT("raw", 6), F_MEAS("ms", 2.5),
				    F_MEAS("w", "ab")),
		"status 0x0006, ~ ms, [~     ] [     ~]");
}
END_TEST

/* A pid is its role with --stable, a number without; a string from /proc
 * is escaped; a text-only field stays out of JSON. */
START_TEST(stable_pids_and_escapes)
{
	struct run r;
	struct sentence s = { "x", NULL, "{role} {pid} {comm} {other}", NULL,
			      NULL };
	const struct field *f = FIELDS(F_STR("role", "child"),
				       F_PID("pid", getpid()),
				       F_STR("comm", "a\nb\033c"),
				       F_PID("other", 999999999),
				       F_TEXT("how", "hidden"));
	char *text, want[64], *out;

	init_run(&r, &test_lab, false, false);
	text = emit_render(&r, &s, f);
	snprintf(want, sizeof(want), "child %d a\\nb\\x1bc 999999999",
		 (int)getpid());
	ck_assert_str_eq(text, want);
	free(text);
	init_run(&r, &test_lab, true, false);
	text = emit_render(&r, &s, f);
	ck_assert_str_eq(text, "child proclab a\\nb\\x1bc pid?");
	free(text);
	init_run(&r, &test_lab, true, true);
	capture_begin();
	emit_sentence(&r, &s, f);
	out = capture_end();
	ck_assert_ptr_null(strstr(out, "hidden"));
	ck_assert_ptr_nonnull(strstr(out, "\"pid\":\"proclab\""));
	free(out);
}
END_TEST

/* With --stable "{role} {pid}" is "proclab", not "proclab proclab"; a
 * role that differs stays, and so does the text view's number. */
START_TEST(stable_role_not_repeated)
{
	struct run r;
	struct sentence s = { "x", NULL, "{role} {pid} waits; {other} {pid}",
			      NULL, NULL };
	const struct field *f = FIELDS(F_STR("role", "proclab"),
				       F_PID("pid", getpid()),
				       F_STR("other", "parent"));
	char *text, want[64];

	init_run(&r, &test_lab, true, false);
	text = emit_render(&r, &s, f);
	ck_assert_str_eq(text, "proclab waits; parent proclab");
	free(text);
	init_run(&r, &test_lab, false, false);
	text = emit_render(&r, &s, f);
	snprintf(want, sizeof(want), "proclab %d waits; parent %d",
		 (int)getpid(), (int)getpid());
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

/* A {key} with no field is a programming error: abort. */
START_TEST(unknown_key_aborts)
{
	struct run r;

	init_run(&r, &test_lab, false, false);
	emit(&r, "unknown", FIELDS(F_STR("role", "child")));
}
END_TEST

START_TEST(malformed_aborts)
{
	struct run r;

	init_run(&r, &test_lab, true, false);
	emit(&r, "malformed", FIELDS(F_STR("role", "child")));
}
END_TEST

START_TEST(no_sentence_aborts)
{
	struct run r;

	init_run(&r, &test_lab, false, true);
	emit(&r, "no-such-event", NO_FIELDS);
}
END_TEST

/* Stage headings: templates over the options by name. */
START_TEST(stage_options)
{
	struct run r;
	char *text;

	init_run(&r, &test_lab, false, false);
	text = emit_render_options(&r, "forks {children} children "
				   "({ignore-sigchld})");
	ck_assert_str_eq(text, "forks 2 children (0)");
	free(text);
	r.val[0] = 5, r.set[0] = true;
	text = emit_render_options(&r, "forks {children} children");
	ck_assert_str_eq(text, "forks 5 children");
	free(text);
}
END_TEST

/* A state's why is a template over the state event's fields; a why
 * without braces is printed as it is (--stable: its pids as roles). */
static char *state_line(bool stable, pid_t ppid, const char *why)
{
	static struct watched w;
	struct run r;

	init_run(&r, lab_table[0], stable, false);
	memset(&w, 0, sizeof(w));
	w.pid = 999999998;
	w.ppid = ppid;
	w.role = "child";
	w.state = 'Z';
	w.seen = true;
	w.shown = 'S';          /* --stable's from */
	setenv("COLUMNS", "1000", 1);   /* unwrapped, without --stable */
	snprintf(w.st.comm, sizeof(w.st.comm), "sleep");
	capture_begin();
	emit_state(&r, &w, 'S', false, why);
	return capture_end();
}

START_TEST(state_why_template)
{
	char *out, want[160];

	out = state_line(true, getpid(), "{ppid}: {role} {pid} {from}>{state}");
	ck_assert_msg(strstr(out, " Z zombie       proclab: child pid? "
			     "S>Z\n") != NULL, "%s", out);
	free(out);
	out = state_line(false, getpid(), "exited; {ppid} has not waited");
	snprintf(want, sizeof(want), "exited; %d has not waited\n",
		 (int)getpid());
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
	/* the deprecated literal why: digits of a known pid as its role */
	snprintf(want, sizeof(want), "exited; pid %d has not waited",
		 (int)getpid());
	out = state_line(true, getpid(), want);
	ck_assert_msg(strstr(out, "exited; pid proclab has not"),
		      "%s", out);
	free(out);
	out = state_line(false, getpid(), want);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(state_why_unknown_key_aborts)
{
	free(state_line(false, 1, "exited; {parent} has not waited"));
}
END_TEST

/* A stage heading wraps under its name. */
START_TEST(stage_heading_wraps)
{
	struct run r;
	char *out;

	init_run(&r, &test_lab, true, false);
	r.stage = 3;
	capture_begin();
	char *what = emit_render_options(&r, "the {children} children call "
			"_exit one after the other; their parent has not "
			"waited for any of them yet, so each stays a zombie");

	ck_assert_ptr_nonnull(what);
	emit_stage(&r, "exit", what, what);
	free(what);
	out = capture_end();
	ck_assert_str_eq(out, "\nstage 3: exit - the 2 children call _exit "
			 "one after the other; their parent has\n"
			 "         not waited for any of them yet, so each "
			 "stays a zombie\n");
	free(out);
}
END_TEST

/* ---- text that fits ------------------------------------------------------ */

START_TEST(columns)
{
	utf8_locale();
	ck_assert_int_eq(emit_columns("abc", 3), 3);
	ck_assert_int_eq(emit_columns("\033[1mab\033[0m", 10), 2);
	/* CJK counts 2 a character: 3 bytes, 2 columns */
	ck_assert_int_eq(emit_columns("\xe6\xbc\xa2\xe5\xad\x97", 6), 4);
	/* é: 2 bytes, 1 column */
	ck_assert_int_eq(emit_columns("\xc3\xa9", 2), 1);
}
END_TEST

/* The words of s, separated by single spaces, into buf. */
/* The words of s, one space between; the blanks between two Chinese
 * characters (where the text view may break a line) left out, so that
 * only an ASCII word cut in two shows as a difference. */
static void words(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	while (*s != '\0' && n + 1 < size) {
		while (*s == ' ' || *s == '\n')
			s++;
		size_t k = strcspn(s, " \n");

		if (n > 0 && (unsigned char)buf[n - 1] >= 0x80 &&
		    (unsigned char)s[0] >= 0x80) {
			n += (size_t)snprintf(buf + n, size - n, "%.*s",
					      (int)k, s);
			s += k;
			continue;
		}

		if (k == 0)
			break;
		n += (size_t)snprintf(buf + n, size - n, "%s%.*s", n ? " " : "",
				      (int)k, s);
		s += k;
	}
	buf[n < size ? n : size - 1] = '\0';
}

static void check_wrap(int width)
{
	/* a head, the event column, then a message of ASCII and CJK words
	 * and one word longer than any line */
	static const char head[] = "    1.234 ms  question    ";
	static const char *const parts[] = {
		"which", "state", "will", "/proc", "show", "next", "for",
		"\xe5\xad\x90\xe8\xbf\x9b\xe7\xa8\x8b",          /* 3 CJK */
		"\xe5\x83\xb5\xe5\xb0\xb8\xe8\xbf\x9b\xe7\xa8\x8b", /* 4 CJK */
		"12345?", "Answer", "R,", "S,", "D,", "T,", "t,", "Z", "or",
		"X;", "\xe7\x88\xb6\xe8\xbf\x9b\xe7\xa8\x8b\xe6\xb2\xa1\xe6"
		"\x9c\x89\xe7\xad\x89\xe5\xbe\x85\xe5\xae\x83",       /* 8 CJK */
		"and", "then",
		"a_word_longer_than_any_line_of_a_terminal_at_all_"
		"a_word_longer_than_any_line_of_a_terminal_at_all_"
		"a_word_longer_than_any_line_of_a_terminal_at_all",
		"the", "end",
	};
	char line[2048], w1[2048], w2[2048];
	size_t n = 0, brk = sizeof(head) - 2;   /* before the last space */
	/* under the message column, or near the edge on a narrow terminal
	 * (as the emitter does when the column leaves too little room) */
	int indent = width < 50 ? 8 : (int)sizeof(head) - 1;
	char *got;

	n = (size_t)snprintf(line, sizeof(line), "%s", head);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
				      i ? " " : "", parts[i]);
	got = emit_wrap(line, brk, indent, width);
	ck_assert_ptr_nonnull(got);
	/* no word cut: the same words in the same order */
	words(line, w1, sizeof(w1));
	words(got, w2, sizeof(w2));
	ck_assert_str_eq(w1, w2);
	/* no line too wide, except the word longer than a line, alone */
	int lines = 0;

	for (const char *p = got; *p != '\0'; lines++) {
		size_t len = strcspn(p, "\n");
		int cols = emit_columns(p, len);

		/* only a word longer than the room may pass the width, alone
		 * on its line */
		if (cols > width)
			ck_assert_msg(lines > 0 &&
				      strspn(p, " ") == (size_t)indent &&
				      memchr(p + indent, ' ',
					     len - (size_t)indent) == NULL,
				      "%d columns > %d: %.*s", cols, width,
				      (int)len, p);
		/* continuation lines begin at the message column */
		if (lines > 0)
			ck_assert_msg(strspn(p, " ") == (size_t)indent,
				      "not under the message column: %.*s",
				      (int)len, p);
		/* nothing left at the end of a line */
		ck_assert(len == 0 || p[len - 1] != ' ');
		p += len + (p[len] == '\n');
	}
	ck_assert_int_ge(lines, width < 100 ? 4 : 3);
	free(got);
}

START_TEST(wrap_40_80_120)
{
	utf8_locale();
	check_wrap(40);
	check_wrap(80);
	check_wrap(120);
}
END_TEST

/* The message column is the same for every event of the engine's table
 * and the lab's, and a longer name pushes only its own line's message. */
START_TEST(message_column)
{
	struct run r;
	char *out, *p;
	int col = -1;

	init_run(&r, &test_lab, true, false);
	capture_begin();
	emit(&r, "page", FIELDS(F_INT("n", 3)));
	emit_form(&r, "result", "failed", FIELDS(F_BOOL("ok", false),
						 F_INT("exit", 1)));
	emit(&r, "expect", FIELDS(F_STR("stage_name", "x"),
				  F_STR("message", "m")));
	out = capture_end();
	for (p = out; *p != '\0'; p = strchr(p, '\n') + 1) {
		const char *m = p + 4 + strlen("a-very-long-event-name") + 1;

		/* "[0] " then the column as wide as the longest name */
		ck_assert_msg(m[-1] == ' ' && m[-2] == ' ' && m[0] != ' ',
			      "%s", p);
		if (col < 0)
			col = (int)(m - p);
		ck_assert_int_eq((int)(m - p), col);
	}
	free(out);
}
END_TEST

START_TEST(width_from_columns)
{
	struct run r;

	init_run(&r, &test_lab, false, false);
	if (isatty(STDOUT_FILENO))
		return;
	ck_assert_int_eq(setenv("COLUMNS", "123", 1), 0);
	ck_assert_int_eq(emit_text_width(&r), 123);
	ck_assert_int_eq(setenv("COLUMNS", "12x", 1), 0);
	ck_assert_int_eq(emit_text_width(&r), 80);
	ck_assert_int_eq(unsetenv("COLUMNS"), 0);
	ck_assert_int_eq(emit_text_width(&r), 80);
	r.stable = true;
	ck_assert_int_eq(setenv("COLUMNS", "200", 1), 0);
	ck_assert_int_eq(emit_text_width(&r), 80);
}
END_TEST

/* ---- every lab, in a pipe and in a pty ----------------------------------- */

START_TEST(every_lab_fits)
{
	const struct lab *lab = lab_table[_i];
	char line[4096], *out;
	int code;
	struct outcome o;

	if (lab->args != NULL)  /* watch needs pids: hostile tests its text */
		return;
	utf8_locale();
	/* a pipe, COLUMNS=80 */
	ck_assert_int_eq(setenv("COLUMNS", "80", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ lab->name, "-v", NULL });
	ck_assert_msg(o.code == 0, "%s: exit %d: %s", lab->name, o.code, o.err);
	ck_assert_msg(widest(o.out, line, sizeof(line)) <= 80,
		      "%s: a line wider than 80 columns: %s", lab->name, line);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
	/* and --stable, always 80 */
	ck_assert_int_eq(setenv("COLUMNS", "200", 1), 0);
	run_proclab(&o, NULL, (const char *const[]){ lab->name, "--stable",
						     NULL });
	ck_assert_msg(o.code == 0, "%s: exit %d: %s", lab->name, o.code, o.err);
	ck_assert_msg(widest(o.out, line, sizeof(line)) <= 80,
		      "%s --stable: a line wider than 80 columns: %s",
		      lab->name, line);
	outcome_free(&o);
	/* a terminal of 80, then 120 columns */
	for (int cols = 80; cols <= 120; cols += 40) {
		out = run_in_pty((const char *const[]){ lab->name, "-v", NULL },
				 cols, NULL, &code);
		ck_assert_msg(code == 0, "%s in a pty: exit %d: %s", lab->name,
			      code, out);
		ck_assert_msg(widest(out, line, sizeof(line)) <= cols,
			      "%s: a line wider than %d columns: %s",
			      lab->name, cols, line);
		ck_assert_msg(strchr(out, '\033') != NULL,
			      "%s: no color on a terminal", lab->name);
		free(out);
	}
}
END_TEST

/* FT_LIST: a JSON array of flat objects (a pid its role with --stable, a
 * measured value null, a text-only field left out) or of strings; in the
 * text view rows on lines of their own under the message, or items joined
 * by ", ". */
START_TEST(list_fields)
{
	struct run r;
	const struct field *rows[] = {
		FIELDS(F_STR("name", "a"), F_PID("pid", getpid()),
		       F_MEAS("ms", 12LL), F_TEXT("pre", "")),
		FIELDS(F_STR("name", "b"), F_PID("pid", 999999999),
		       F_MEAS("ms", 3LL), F_TEXT("pre", "`-")),
	};
	const char *words[] = { "x", "y\"z" };
	const struct field_list nodes = { 2, rows, NULL, "{pre}{name} {pid}" };
	const struct field_list flat = { 2, rows, NULL, NULL };
	const struct field_list strs = { 2, NULL, words, NULL };
	const struct field_list none = { 0, NULL, words, NULL };
	struct sentence s = { "tree", NULL, "{n} nodes: {nodes}", NULL, NULL };
	struct sentence s2 = { "x", NULL, "{flat}; {strs}; [{none}]", NULL,
			       NULL };
	const struct field *f = FIELDS(F_INT("n", 2), F_LIST("nodes", &nodes));
	const struct field *f2 = FIELDS(F_LIST("flat", &flat),
					F_LIST("strs", &strs),
					F_LIST("none", &none));
	char *text, *out, want[256];
	static struct jobj o, items[4];

	init_run(&r, &test_lab, true, true);
	capture_begin();
	emit_sentence(&r, &s, f);
	emit_sentence(&r, &s2, f2);
	out = capture_end();
	ck_assert_ptr_nonnull(strstr(out, "\"nodes\":[{\"name\":\"a\","
				     "\"pid\":\"proclab\",\"ms\":null},"
				     "{\"name\":\"b\",\"pid\":\"pid?\","
				     "\"ms\":null}]}\n"));
	ck_assert_ptr_nonnull(strstr(out, "\"strs\":[\"x\",\"y\\\"z\"],"
				     "\"none\":[]}\n"));
	ck_assert_int_gt(json_parse_line(out, strcspn(out, "\n"), &o), 0);
	ck_assert_int_eq(jarray(&o, "nodes", items, 4), 2);
	ck_assert_str_eq(jstr(&items[1], "name"), "b");
	ck_assert_str_eq(jstr(&items[0], "pid"), "proclab");
	ck_assert_int_gt(json_parse_line(strchr(out, '\n') + 1,
					 strcspn(strchr(out, '\n') + 1, "\n"),
					 &o), 0);
	ck_assert_int_eq(jarray(&o, "strs", items, 4), 2);
	ck_assert_str_eq(jstr(&items[1], ""), "y\"z");
	ck_assert_int_eq(jarray(&o, "none", items, 4), 0);
	free(out);
	init_run(&r, &test_lab, false, true);
	capture_begin();
	emit_sentence(&r, &s, f);
	out = capture_end();
	snprintf(want, sizeof(want), "{\"name\":\"a\",\"pid\":%d,\"ms\":12}",
		 (int)getpid());
	ck_assert_ptr_nonnull(strstr(out, want));
	free(out);
	/* text: one row a line, under the message column */
	init_run(&r, &test_lab, true, false);
	capture_begin();
	emit_sentence(&r, &s, f);
	out = capture_end();
	/* the message column: where "2 nodes" begins */
	{
		int col = (int)(strstr(out, "2 nodes") - out);

		snprintf(want, sizeof(want), "[0] tree%*s2 nodes:\n%*sa "
			 "proclab\n%*s`-b pid?\n", col - 8, "", col, "", col,
			 "");
		ck_assert_str_eq(out, want);
	}
	free(out);
	text = emit_render(&r, &s2, f2);
	ck_assert_str_eq(text, "name=a pid=proclab ms=~, name=b pid=pid? "
			 "ms=~; x, y\"z; []");
	free(text);
}
END_TEST

/* struct lab's job_control: a state event carries pgrp, sid and tpgid
 * (JSON), and the text view shows them with ps's STAT flags; without the
 * flag neither has them. */
static const struct lab job_lab = {
	.name = "joblab",
	.summary = "a job-control lab for the emitter's tests",
	.sentences = test_sentences,
	.job_control = true,
};

static char *job_state(const struct lab *lab, bool stable, bool json,
		       pid_t pgrp, pid_t tpgid)
{
	static struct watched w;
	struct run r;

	init_run(&r, lab, stable, json);
	memset(&w, 0, sizeof(w));
	w.pid = getpid() + 1;   /* a pid proclab does not know: "pid?" */
	w.ppid = getpid();
	w.role = "shell";
	w.state = 'S';
	w.seen = true;
	w.st.pgrp = pgrp;
	w.st.session = w.pid;
	w.st.tpgid = tpgid;
	setenv("COLUMNS", "1000", 1);
	snprintf(w.st.comm, sizeof(w.st.comm), "sh");
	capture_begin();
	emit_state(&r, &w, '\0', false, "group {pgrp}, foreground {tpgid}");
	return capture_end();
}

START_TEST(job_control_state)
{
	char *out, want[200];
	pid_t me = getpid(), sh = me + 1;

	out = job_state(&job_lab, false, true, sh, sh);
	snprintf(want, sizeof(want), "\"from\":null,\"pgrp\":%d,\"sid\":%d,"
		 "\"tpgid\":%d,\"comm\"", (int)sh, (int)sh, (int)sh);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
	/* --stable: a pid of the run as its role, -1 as it is */
	out = job_state(&job_lab, true, true, me, -1);
	ck_assert_msg(strstr(out, "\"pgrp\":\"proclab\",\"sid\":\"pid?\","
			     "\"tpgid\":-1,") != NULL, "%s", out);
	free(out);
	out = job_state(&job_lab, false, false, sh, sh);
	snprintf(want, sizeof(want), "shell %d ppid %d pgid %d sid %d tpgid "
		 "%d Ss+ sleeping: group %d, foreground %d\n", (int)sh,
		 (int)me, (int)sh, (int)sh, (int)sh, (int)sh, (int)sh);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(out);
	out = job_state(&job_lab, true, false, me, -1);
	ck_assert_msg(strstr(out, "shell ppid proclab pgid proclab sid pid? "
			     "tpgid -1 Ss  sleeping: group") != NULL &&
		      strstr(out, "proclab, foreground -1\n") != NULL, "%s",
		      out);
	free(out);
	/* another lab: no such fields (a why naming them is an error) */
	out = job_state(&test_lab, false, true, sh, sh);
	ck_assert_msg(strstr(out, "pgrp") == NULL, "%s", out);
	free(out);
}
END_TEST

/* F_JSON: a rendered JSON value, written as it is; never in the text */
START_TEST(raw_json_field)
{
	struct run r;
	char *out;

	for (int stable = 0; stable < 2; stable++) {
		init_run(&r, &test_lab, stable, true);
		capture_begin();
		emit(&r, "page", FIELDS(F_INT("n", 2),
					F_JSON("nodes", "[1,{\"a\":null}]")));
		out = capture_end();
		ck_assert_msg(strstr(out, ",\"n\":2,\"nodes\":[1,{\"a\":null}]}"
				     "\n") != NULL, "%s", out);
		free(out);
	}
	init_run(&r, &test_lab, false, false);
	capture_begin();
	emit(&r, "page", FIELDS(F_INT("n", 2), F_JSON("nodes", "[1]")));
	out = capture_end();
	ck_assert(strstr(out, "2 pages") != NULL);
	ck_assert(strstr(out, "[1]") == NULL);
	free(out);
}
END_TEST

Suite *make_emit_suite(void)
{
	Suite *s = suite_create("emit");
	TCase *tc = tcase_create("templates");
	TCase *tw = tcase_create("wrap");
	TCase *tl = tcase_create("labs");

	tcase_add_test(tc, list_fields);
	tcase_add_test(tc, every_engine_sentence);
	tcase_add_loop_test(tc, every_lab_sentence, 0, (int)lab_count);
	tcase_add_test(tc, test_lab_sentences);
	tcase_add_test(tc, plurals);
	tcase_add_test(tc, braces);
	tcase_add_test(tc, format_suffix);
	tcase_add_test(tc, stable_pids_and_escapes);
	tcase_add_test(tc, stable_role_not_repeated);
	tcase_add_test_raise_signal(tc, unknown_key_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, malformed_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, no_sentence_aborts, SIGABRT);
	tcase_add_test(tc, stage_options);
	tcase_add_test(tc, state_why_template);
	tcase_add_test_raise_signal(tc, state_why_unknown_key_aborts, SIGABRT);
	tcase_add_test(tc, stage_heading_wraps);
	tcase_add_test(tc, job_control_state);
	tcase_add_test(tc, raw_json_field);
	suite_add_tcase(s, tc);
	tcase_add_test(tw, columns);
	tcase_add_test(tw, wrap_40_80_120);
	tcase_add_test(tw, message_column);
	tcase_add_test(tw, width_from_columns);
	suite_add_tcase(s, tw);
	tcase_set_timeout(tl, 120);
	tcase_add_loop_test(tl, every_lab_fits, 0, (int)lab_count);
	suite_add_tcase(s, tl);
	return s;
}
