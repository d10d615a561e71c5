/* emit.h - every line proclab prints on stdout goes through the emitter.
 *
 * One call gives both renderings, as in iproute2's json_print: the fields
 * become a JSON Lines object (with "t", "lab" and "event" first), and the
 * event's sentence, a template over the same fields, becomes one line of
 * the human timeline.  A lab never branches on --json.
 *
 *	emit(r, "reap", FIELDS(F_PID("pid", pid), F_INT("raw", status),
 *			       F_TEXT("how", how)));
 *
 * with, in the lab's table of sentences,
 *
 *	{ "reap", NULL, "{role} {pid} reaped: {how}", NULL, NULL },
 *
 * With --stable the emitter, never the lab, makes two runs print the same
 * bytes: "t" is null and the text view shows the stage number instead of
 * the time; a pid (F_PID, F_PIDS) is shown as the role of that pid; a
 * measured value (F_MEAS: a time, a fault count, a kernel function name,
 * anything that varies between runs) is null in JSON and "~" in text;
 * transient state events are left out.  So a lab only has to say which of
 * its values are pids and which are measured.
 *
 * The text view fits the terminal: each line is wrapped at the spaces of
 * its message to the width of stdout when it is a terminal (TIOCGWINSZ),
 * else $COLUMNS when set and valid, else 80 columns, measured in display
 * columns (wcwidth: a CJK character counts 2; colors count 0).  A word is
 * never cut: one longer than the line goes alone on its line.
 * Continuation lines are indented under the message column (a state
 * line's under its explanation).  With --stable the width is always 80,
 * so that saved output does not depend on the terminal.  JSON never
 * wraps.  The event-name column is as wide as the longest event name in
 * the engine's sentences and the lab's.
 */
#ifndef PROCLAB_EMIT_H
#define PROCLAB_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct run;
struct watched;

enum field_type { FT_END, FT_INT, FT_NUM, FT_STR, FT_BOOL, FT_NULL, FT_CHAR,
		  FT_PID,       /* a pid: its role with --stable */
		  FT_PIDS,      /* a string of comma-separated pids */
		  FT_LIST };    /* a JSON array (struct field_list) */

struct field_list;

struct field {
	const char *key;
	enum field_type type;
	bool meas;      /* measured, varies between runs: null with --stable */
	bool text_only; /* for the sentence only, not a JSON field */
	bool raw;       /* a JSON value already rendered (an array, an
			 * object): JSON only, never in a sentence */
	bool tr;        /* a string the text view translates (F_WORDS) */
	const char *said; /* FT_STR: what the text view shows instead
			   * (F_SAID: a message in the user's language) */
	union {
		long long i;
		double d;
		const char *s;   /* NULL renders as null */
		bool b;
		char c;          /* a state letter, rendered as a 1-char string */
		const struct field_list *list;  /* FT_LIST; NULL renders as null */
	};
};

#define F_INT(k, v)  ((struct field){ .key = (k), .type = FT_INT, .i = (v) })
#define F_PID(k, v)  ((struct field){ .key = (k), .type = FT_PID, \
				    .i = (long long)(v) })
#define F_PIDS(k, v) ((struct field){ .key = (k), .type = FT_PIDS, .s = (v) })
#define F_NUM(k, v)  ((struct field){ .key = (k), .type = FT_NUM, .d = (v) })
#define F_STR(k, v)  ((struct field){ .key = (k), .type = FT_STR, .s = (v) })
#define F_BOOL(k, v) ((struct field){ .key = (k), .type = FT_BOOL, .b = (v) })
#define F_NULL(k)    ((struct field){ .key = (k), .type = FT_NULL })
#define F_CHAR(k, v) ((struct field){ .key = (k), .type = FT_CHAR, .c = (v) })

/* A measured value: a number, string, bool or state letter that is what
 * this run saw but may differ on the next (times, counts of faults or
 * polls, memory sizes, wchan names, addresses under ASLR, run order). */
static inline struct field field_meas_int(const char *k, long long v)
{
	return (struct field){ .key = k, .type = FT_INT, .meas = true, .i = v };
}
static inline struct field field_meas_num(const char *k, double v)
{
	return (struct field){ .key = k, .type = FT_NUM, .meas = true, .d = v };
}
static inline struct field field_meas_str(const char *k, const char *v)
{
	return (struct field){ .key = k, .type = FT_STR, .meas = true, .s = v };
}
static inline struct field field_meas_bool(const char *k, bool v)
{
	return (struct field){ .key = k, .type = FT_BOOL, .meas = true, .b = v };
}
static inline struct field field_meas_char(const char *k, char v)
{
	return (struct field){ .key = k, .type = FT_CHAR, .meas = true, .c = v };
}
#define F_MEAS(k, v) _Generic((v),					\
	double: field_meas_num, float: field_meas_num,			\
	char *: field_meas_str, const char *: field_meas_str,		\
	bool: field_meas_bool, char: field_meas_char,			\
	default: field_meas_int)(k, v)

/* A JSON array: of flat objects (rows, each a FIELDS() list with no
 * FT_LIST in it: pids, measured and text-only fields work in a row as in
 * an event) or of strings.  JSON: [{...},{...}] or ["...","..."].  Its
 * text view in a sentence: with `row`, a template over one row's fields,
 * each row on a line of its own below the sentence, indented to the
 * message column (rows are not wrapped: the lab keeps them short); without
 * it, the strings (or each row's fields as key=value) joined by ", ".
 * emitf()'s --stable text view shows it as its JSON. */
struct field_list {
	int n;
	const struct field *const *rows;  /* n rows; NULL: a list of strings */
	const char *const *strs;          /* n strings when rows is NULL */
	const char *row;                  /* text view of one row, or NULL */
};
#define F_LIST(k, l) ((struct field){ .key = (k), .type = FT_LIST, \
				    .list = (l) })

#define FIELDS(...)  ((const struct field[]){ __VA_ARGS__, { .type = FT_END } })
#define NO_FIELDS    ((const struct field[]){ { .type = FT_END } })

/* ---- Engine v2: sentences are templates that name their fields ---------
 *
 * A sentence is the text view of one event: a template such as
 *	"{role} {pid} set x = {value} at {address}"
 * whose {key}s name fields of the event.  The emitter renders, from the
 * same fields: the text view (values as they are; strings escaped for the
 * terminal as text_put_string does), the --stable text view (the same
 * sentence; a pid field as its role, a measured field as "~": decided per
 * field, never by rewriting digits) and JSON (the fields only, in order;
 * a text-only field is left out).  A null value reads "?".
 *
 * Template syntax:
 *	{key}          the value of field `key` (letters, digits, _ and -)
 *	{key:SPEC}     with a format suffix, printf's without the '%':
 *	               [flags -#0+ ][width][.precision][conversion d x X o f g e]
 *	               e.g. {raw:04x} "2a00", {ms:.3f} "1.250"; a number is
 *	               formatted by printf (an integer field with f/g/e, a
 *	               number with d/x/X/o, converted); anything else (a
 *	               string, a role, "~") only padded: {what:-24} to 24
 *	               display columns on the left, {n:6} on the right
 *	{{ and }}      literal braces
 * A {key} with no such field, or a malformed one, is a programming error:
 * the emitter prints the event and the key on stderr and aborts.
 *
 * Plurals are ngettext-shaped: `one` and `many` are the two forms and
 * `count` names the integer field that picks one (count == 1) or many;
 * with --stable a measured count always picks many.
 *
 * Each lab lists its sentences in a table (struct lab's `sentences`, ended
 * by a row whose event is NULL); the engine has its own table for the
 * events every lab shares (emit_engine_sentences: start, result, expect,
 * unavailable, pause, question, answer, reap, status, wait, error).  emit()
 * looks an event's sentence up in the lab's table, then the engine's, so a
 * test can render every sentence of every lab, and a translation has
 * every message in one place. */
struct sentence {
	const char *event;      /* the event it words */
	const char *form;       /* NULL: the event's usual sentence; else the
				 * name of another wording of the same event */
	const char *one;        /* the template */
	const char *many;       /* the plural template, or NULL */
	const char *count;      /* the field that picks one or many, or NULL */
};

/* A string for the sentence only: not a JSON field (a phrase derived from
 * other fields, e.g. "exited with code 3"); measured ones read "~". */
#define F_TEXT(k, v) ((struct field){ .key = (k), .type = FT_STR, \
				    .text_only = true, .s = (v) })
/* An English phrase from a fixed set (a literal marked N_()): JSON has it
 * as it is, the text view translated. */
#define F_WORDS(k, v) ((struct field){ .key = (k), .type = FT_STR, \
				     .tr = true, .s = (v) })
/* A string JSON carries as `v` (English, the same bytes in every
 * language) while the text view shows `said` (the same message in the
 * user's language). */
#define F_SAID(k, v, said_) ((struct field){ .key = (k), .type = FT_STR, \
					   .s = (v), .said = (said_) })
#define F_TEXT_MEAS(k, v) ((struct field){ .key = (k), .type = FT_STR, \
					 .text_only = true, .meas = true, \
					 .s = (v) })

/* A JSON value already rendered (e.g. "[{...},{...}]"), written into the
 * JSON object as it is; the text view never shows it.  The caller makes
 * it valid JSON and stable under --stable. */
#define F_JSON(k, v) ((struct field){ .key = (k), .type = FT_STR, \
				    .raw = true, .s = (v) })

/* Emit one event, worded by its usual sentence (form NULL). */
void emit(struct run *r, const char *event, const struct field *fields);
/* The same, worded by the sentence named `form` of that event. */
void emit_form(struct run *r, const char *event, const char *form,
	       const struct field *fields);
/* The same with a sentence from elsewhere (the claims catalogue). */
void emit_sentence(struct run *r, const struct sentence *s,
		   const struct field *fields);

/* The engine's sentences, ended by a {NULL} row. */
extern const struct sentence emit_engine_sentences[];

/* The text view of s over these fields (r->stable says which), without
 * the time and event columns and unwrapped, in the user's language: a
 * string to free(), NULL without memory.  For tests and tools. */
char *emit_render(const struct run *r, const struct sentence *s,
		  const struct field *fields);
/* The same as the text view without --stable words it, whatever the run's
 * options, and untranslated (C locale): for a JSON field that carries the
 * sentence itself, the same bytes in every language. */
char *emit_render_text(const struct run *r, const struct sentence *s,
		       const struct field *fields);

/* A template over the lab's option values by option name, e.g. "forks
 * {children} children" (an option is its number, a flag 0 or 1): a string
 * to free(), NULL without memory. */
char *emit_render_options(const struct run *r, const char *tmpl);

/* The width the text view wraps to (see the top of this file). */
int emit_text_width(const struct run *r);

/* The display columns of n bytes of UTF-8 text, escape sequences (colors)
 * counting 0. */
int emit_columns(const char *s, size_t n);

/* `line` wrapped at `width` columns at its spaces after byte `brk`,
 * continuation lines indented by `indent` columns, as the text view
 * does: a string to free(), NULL without memory.  For tests. */
char *emit_wrap(const char *line, size_t brk, int indent, int width);

/* For the commands' tables and help (not events): s and the blanks that
 * pad it to `width` display columns (a Chinese character is two);
 * returns the columns written. */
int emit_pad(FILE *f, const char *s, int width);
/* text from display column col on (the caller wrote col columns), folded
 * at `width` columns at its spaces and between Chinese characters, lines
 * that go on starting at column indent; its newlines kept; ends the
 * line. */
void emit_fold(FILE *f, const char *text, int col, int indent, int width);

/* Deprecated, until every lab words its events with sentences: emit one
 * event, `fmt` the printf sentence of the text view (wrapped as a
 * sentence is).  Its --stable text view is not the sentence but the
 * fields, "event key=value ...", a pid as its role, a measured value "~". */
void emitf(struct run *r, const char *event, const struct field *fields,
	  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A change of state or ppid of a watched process (called by the observer).
 * `why` explains the state in the text view (NULL: the state's meaning).
 * It is a template over the state event's fields: pid, ppid, role, state
 * and from, e.g. "exited; {ppid} has not waited for it".  Deprecated: a
 * why without braces is printed as it is, except that --stable replaces
 * the pids it holds by their roles (whole numbers only); this goes when
 * every lab's whys are templates. */
void emit_state(struct run *r, struct watched *w, char from,
		bool transient, const char *why);

/* A state why rendered with w's fields as the text view would (without
 * escaping), into buf: for the answer of --quiz.  Without braces: as is.
 * `tr`: translated, for the text view; else as JSON carries it. */
void emit_render_why(const struct run *r, const struct watched *w,
		     const char *why, bool tr, char *buf, size_t size);

struct wstatus;

/* A status a wait call returned: event "reap" when it collected the child,
 * "status" when it reported a stop or a continue.  `role` names the child
 * in the text view; `call` is the wait function ("waitpid", "waitid"). */
void emit_wstatus(struct run *r, pid_t pid, const char *role,
		  const char *call, const struct wstatus *w);
/* The same, for a wait call made by another process, `by` (a lab's child
 * that reaped its own child and reported the status to proclab). */
void emit_wstatus_by(struct run *r, pid_t pid, const char *role,
		     const char *call, pid_t by, const struct wstatus *w);

/* The events between these two happen in an order that varies from run
 * to run (lines arriving from concurrent processes).  With --stable they
 * are held back and printed sorted, so the output does not depend on it;
 * without, they are printed as they come.  The result event ends any
 * section still open. */
void emit_unordered_begin(struct run *r);
void emit_unordered_end(struct run *r);

/* The heading of a stage: `what` for JSON, `what_text` (translated) for
 * the text view. */
void emit_stage(struct run *r, const char *name, const char *what,
		const char *what_text);

/* The kernel's name of a state letter ("zombie"), translated: for the
 * text view only (JSON keeps procfs_state_name()). */
const char *pl_state_name(char state);

/* Whether the text view may use color, decided once from the options, the
 * NO_COLOR variable and whether stdout is a terminal. */
bool emit_want_color(bool no_color_option);

/* Flush stdout; on a write error, report it and end proclab (exit 1). */
void emit_flush(struct run *r);

#endif
