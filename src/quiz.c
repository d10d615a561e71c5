/* quiz.c - --quiz: predict the next state, then see what /proc shows.
 *
 * obs_await() asks before it takes its first sample and tells after it
 * returns.  The lab has already caused the change by then (sent the
 * command, the signal), so the process may be on its way; but nothing of
 * it has been printed, and the wait for the state starts only after the
 * answer: a student who thinks for a minute does not time the lab out.
 * Asking in the observer keeps the quiz out of the labs: every await is a
 * question, in every lab, with no lab code of its own.
 *
 * While the student thinks, the process is read (silently: nothing is
 * printed before the answer), so that a state it passes through then is
 * known too: an orphan's Z that its adopter reaps a second later.  An
 * answer is right when /proc showed that letter after the question: the
 * state the stage demonstrates, or one on the way to it (an R between D
 * and T).  A line that is not one of the letters asks again; a letter in
 * the wrong case counts where only one case is a choice ("x" is X; "t"
 * and "T" differ).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "proclab.h"

static const char choices[] = "RSDTtZX";

/* The state the text view last showed for w ('\0': none yet); a change
 * seen only in passing was not shown, so it would give the answer away. */
static char last_shown(const struct watched *w)
{
	return w->seen && !w->in_passing ? w->state : '\0';
}

/* The question pending between quiz_ask() and quiz_tell() */
static struct {
	int shown_before;       /* r->shown when it was asked */
	char before;            /* w's state as last read before it */
	size_t trail_at;        /* strlen(w->trail) then */
	char path[32];          /* letters read while the student thought */
} asked;

static void add_letter(char *path, size_t size, char c)
{
	size_t n = strlen(path);

	if (c == '\0' || (n > 0 && path[n - 1] == c) || n + 1 >= size)
		return;
	path[n] = c;
	path[n + 1] = '\0';
}

/* Read w without reporting anything: the answer is not in yet. */
static void peek(struct run *r, void *arg)
{
	const struct watched *w = arg;
	struct proc_stat st;
	int rc;

	(void)r;
	if (w->gone) {
		add_letter(asked.path, sizeof(asked.path), 'X');
		return;
	}
	rc = proc_read_stat(&w->h, &st);
	if (rc == PROC_OK)
		add_letter(asked.path, sizeof(asked.path), st.state);
	else if (rc == PROC_GONE)
		add_letter(asked.path, sizeof(asked.path), 'X');
}

/* The choice an answer names, or '\0': one letter, of either case where
 * only one case is a choice. */
static char letter(const char *given)
{
	unsigned char c = (unsigned char)given[0];

	if (c == '\0' || given[1] != '\0')
		return '\0';
	if (strchr(choices, c) != NULL)
		return (char)c;
	if (islower(c) && strchr(choices, toupper(c)) != NULL)
		return (char)toupper(c);
	return '\0';
}

void quiz_ask(struct run *r, const struct watched *w)
{
	char line[256], last = last_shown(w), prev[16] = "";
	const char *p, *end;
	bool again = false;

	r->questions++;
	asked.before = w->seen ? w->state : '\0';
	asked.trail_at = strlen(w->trail);
	asked.path[0] = '\0';
	for (;;) {
		emit_form(r, "question", again ? "again"
				       : last != '\0' ? "shown" : NULL,
			  FIELDS(F_INT("n", r->questions),
				 F_STR("role", w->role), F_PID("pid", w->pid),
				 F_CHAR("last", last),
				 F_STR("choices", choices),
				 again ? F_STR("given", prev)
				       : (struct field){ .type = FT_END }));
		r->answered = pl_read_line_tick(r, line, sizeof(line), peek,
						(void *)w) == 1;
		asked.shown_before = r->shown;
		r->given[0] = '\0';
		if (!r->answered)
			return;
		/* the answer without the blanks around it */
		for (p = line; isspace((unsigned char)*p); p++)
			;
		for (end = p + strlen(p);
		     end > p && isspace((unsigned char)end[-1]); end--)
			;
		snprintf(r->given, sizeof(r->given), "%.*s", (int)(end - p), p);
		if (letter(r->given) != '\0')
			return;
		/* not one of the letters: ask again, saying what it was */
		snprintf(prev, sizeof(prev), "%s", r->given);
		again = true;
	}
}

/* Every letter /proc showed for w since the question, in order, without
 * the state it was in when asked; the state it ended in if none. */
static void seen_since(const struct watched *w, char *out, size_t size)
{
	char all[64] = "";
	const char *p;

	for (p = asked.path; *p; p++)
		add_letter(all, sizeof(all), *p);
	if (asked.trail_at < strlen(w->trail))
		for (p = w->trail + asked.trail_at; *p; p++)
			add_letter(all, sizeof(all), *p);
	for (p = all; *p != '\0' && *p == asked.before; p++)
		;
	out[0] = '\0';
	for (; *p; p++)
		add_letter(out, size, *p);
	if (out[0] == '\0' && w->seen)
		add_letter(out, size, w->state);
}

void quiz_tell(struct run *r, const struct watched *w, const char *why)
{
	char seen = w->seen ? w->state : '\0', text[1024], said[1024],
	     path[32], name[256], given = letter(r->given);
	bool correct = r->answered && seen != '\0' && given != '\0';
	const char *state_name = seen == '\0' ? _("unread")
			       : w->gone ? _("released") : pl_state_name(seen);
	/* the why is on the state line just above, unless the state had
	 * been shown before and nothing changed */
	bool tell_why = r->shown == asked.shown_before;
	static const char *const forms[3][2] = {
		{ NULL, "why" }, { "wrong", "wrong-why" }, { "none", "none-why" },
	};

	seen_since(w, path, sizeof(path));
	correct = correct && strchr(path, given) != NULL;
	/* the letters on the way, when there were any */
	snprintf(name, sizeof(name), "%s", state_name);
	if (strlen(path) > 1 || (path[0] != '\0' && path[0] != seen)) {
		size_t n = strlen(name);

		n += (size_t)snprintf(name + n, sizeof(name) - n,
				      "%s", _("; on the way /proc showed"));
		for (const char *p = path; *p && n < sizeof(name); p++)
			if (*p != seen || p[1] != '\0')
				n += (size_t)snprintf(name + n,
						      sizeof(name) - n,
						      " %c", *p);
	}
	r->score += correct;
	emit_render_why(r, w, why, false, text, sizeof(text));
	emit_render_why(r, w, why, true, said, sizeof(said));
	tell_why = tell_why && text[0] != '\0';
	emit_form(r, "answer",
		  forms[!r->answered ? 2 : !correct ? 1 : 0][tell_why],
		  FIELDS(F_INT("n", r->questions), F_STR("role", w->role),
			 F_PID("pid", w->pid), F_CHAR("expected", seen),
			 r->answered ? F_STR("given", r->given)
				     : F_NULL("given"),
			 F_BOOL("correct", correct), F_MEAS("seen", path),
			 F_SAID("why", text, said), F_TEXT("name", name)));
}

/* ---- questions about values (a class run: --quiz with a variant) ------
 *
 * A value question is asked before the event that shows the value: the
 * question shows what the student needs (the raw status in hex, the pids)
 * and the answer is a number or a word, compared with the value this run
 * observed, as text, without the blanks around it (a number in another
 * base than the one asked for is wrong: the exit code is asked in
 * decimal).  The answer event carries what `proclab grade` needs to check
 * it again against the record's own events: the kind, the pid it is
 * about and the expected value. */

const struct sentence quiz_value_sentences[] = {
	/* n, kind, pid, call, raw */
	{ "question", "exit-code", "{n}: {call}() returned status "
	  "0x{raw:04x} for {pid}: with what exit code did it exit? (a "
	  "number)", NULL, NULL },
	/* n, kind, pid, call, raw */
	{ "question", "signal", "{n}: {call}() returned status 0x{raw:04x} "
	  "for {pid}: which signal killed it? (its number, or its name such "
	  "as SIGKILL)", NULL, NULL },
	/* n, kind, pid, parent */
	{ "question", "fork-child", "{n}: {pid} is a child of {parent}: what "
	  "did fork() return in {pid}? (a number)", NULL, NULL },
	{ "question", "fork-parent", "{n}: {pid} is a child of {parent}: what "
	  "did fork() return in {parent}? (a number)", NULL, NULL },
	/* n, kind, pid */
	{ "question", "zombies", "{n}: how many of this lab's processes are "
	  "zombies now, after {pid} exited? (a number)", NULL, NULL },
	/* n, kind, pid, parent */
	{ "question", "adopter", "{n}: {parent} has exited: which process "
	  "adopts its orphan {pid}? (a pid or a command name)", NULL, NULL },
	/* n, kind, pid, stdout, flushed; text only: what, fflush */
	{ "question", "lines", "{n}: the fork+printf puzzle ({pid}'s program, "
	  "{fflush} fflush) has written to {what}: how many lines came "
	  "through? (a number)", NULL, NULL },
	/* n, kind, pid, expected, given, correct */
	{ "answer", "value", "right: {kind} for {pid} is {expected}",
	  NULL, NULL },
	{ "answer", "value-wrong", "wrong, you said '{given}': {kind} for "
	  "{pid} is {expected}", NULL, NULL },
	{ "answer", "value-none", "no answer (end of input): {kind} for {pid} "
	  "is {expected}", NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct sentence *value_sentence(const char *event,
					     const char *form)
{
	for (const struct sentence *s = quiz_value_sentences; s->event; s++)
		if (strcmp(s->event, event) == 0 && strcmp(s->form, form) == 0)
			return s;
	abort();        /* a kind with no sentence: a programming error */
}

/* The fields of a value question: n, kind, pid, then the caller's. */
static void value_fields(struct field *f, size_t size, int n,
			 const char *kind, pid_t pid,
			 const struct field *more)
{
	size_t k = 0;

	f[k++] = F_INT("n", n);
	f[k++] = F_STR("kind", kind);
	f[k++] = F_PID("pid", pid);
	for (; more != NULL && more->type != FT_END && k + 1 < size; more++)
		f[k++] = *more;
	f[k] = (struct field){ .type = FT_END };
}

void quiz_value(struct run *r, const char *kind, pid_t about,
		const char *expected, const char *also,
		const struct field *fields)
{
	char line[256], given[64], form[32];
	const char *p, *end;
	struct field f[16];
	bool answered, correct;

	if (!r->quiz || r->variant < 0)
		return;
	r->questions++;
	snprintf(form, sizeof(form), "%s", kind);
	value_fields(f, 16, r->questions, kind, about, fields);
	emit_sentence(r, value_sentence("question", form), f);
	answered = pl_read_line(r, line, sizeof(line)) == 1;
	given[0] = '\0';
	if (answered) {
		for (p = line; isspace((unsigned char)*p); p++)
			;
		for (end = p + strlen(p);
		     end > p && isspace((unsigned char)end[-1]); end--)
			;
		snprintf(given, sizeof(given), "%.*s", (int)(end - p), p);
	}
	correct = answered && (strcmp(given, expected) == 0 ||
			       (also != NULL && also[0] != '\0' &&
				strcmp(given, also) == 0));
	r->score += correct;
	emit_sentence(r, value_sentence("answer", !answered ? "value-none"
					: correct ? "value" : "value-wrong"),
		      FIELDS(F_INT("n", r->questions), F_STR("kind", kind),
			     F_PID("pid", about), F_STR("expected", expected),
			     answered ? F_STR("given", given)
				      : F_NULL("given"),
			     F_BOOL("correct", correct),
			     F_STR("also", also)));
}

void quiz_zombies(struct run *r, const struct watched *w)
{
	char count[16];
	int n = 0;

	if (w->shown != 'Z')
		return;
	for (int i = 0; i < r->obs.n; i++)
		n += r->obs.w[i].shown == 'Z' && !r->obs.w[i].gone;
	snprintf(count, sizeof(count), "%d", n);
	quiz_value(r, "zombies", w->pid, count, NULL, NO_FIELDS);
}
