/* quiz.c - --quiz: predict the next state, then see what /proc shows.
 *
 * obs_await() asks before it takes its first sample and tells after it
 * returns.  The lab has already caused the change by then (sent the
 * command, the signal), so the process may be on its way; but nothing of
 * it has been printed, and the wait for the state starts only after the
 * answer: a student who thinks for a minute does not time the lab out.
 * Asking in the observer keeps the quiz out of the labs: every await is a
 * question, in every lab, with no lab code of its own.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "proclab.h"

static const char choices[] = "RSDTtZX";

/* The state the text view last showed for w ('\0': none yet); a change
 * seen only in passing was not shown, so it would give the answer away. */
static char last_shown(const struct watched *w)
{
	return w->seen && !w->in_passing ? w->state : '\0';
}

/* r->shown when the question was asked */
static int shown_before;

void quiz_ask(struct run *r, const struct watched *w)
{
	char line[256], last = last_shown(w);
	const char *p, *end;

	r->questions++;
	emit_form(r, "question", last != '\0' ? "shown" : NULL,
		  FIELDS(F_INT("n", r->questions), F_STR("role", w->role),
			 F_PID("pid", w->pid), F_CHAR("last", last),
			 F_STR("choices", choices)));
	r->answered = pl_read_line(r, line, sizeof(line)) == 1;
	shown_before = r->shown;
	r->given[0] = '\0';
	if (!r->answered)
		return;
	/* the answer without the blanks around it */
	for (p = line; isspace((unsigned char)*p); p++)
		;
	for (end = p + strlen(p); end > p && isspace((unsigned char)end[-1]);
	     end--)
		;
	snprintf(r->given, sizeof(r->given), "%.*s", (int)(end - p), p);
}

void quiz_tell(struct run *r, const struct watched *w, const char *why)
{
	char seen = w->seen ? w->state : '\0', text[1024];
	bool correct = r->answered && seen != '\0' &&
		       strlen(r->given) == 1 && r->given[0] == seen &&
		       strchr(choices, seen) != NULL;
	const char *name = seen == '\0' ? "unread"
			 : w->gone ? "released" : procfs_state_name(seen);
	/* the why is on the state line just above, unless the state had
	 * been shown before and nothing changed */
	bool tell_why = r->shown == shown_before;
	static const char *const forms[3][2] = {
		{ NULL, "why" }, { "wrong", "wrong-why" }, { "none", "none-why" },
	};

	r->score += correct;
	emit_render_why(r, w, why, text, sizeof(text));
	tell_why = tell_why && text[0] != '\0';
	emit_form(r, "answer",
		  forms[!r->answered ? 2 : !correct ? 1 : 0][tell_why],
		  FIELDS(F_INT("n", r->questions), F_STR("role", w->role),
			 F_PID("pid", w->pid), F_CHAR("expected", seen),
			 r->answered ? F_STR("given", r->given)
				     : F_NULL("given"),
			 F_BOOL("correct", correct), F_STR("why", text),
			 F_TEXT("name", name)));
}
