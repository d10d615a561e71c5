/* emit.h - every line proclab prints on stdout goes through emitf().
 *
 * One call gives both renderings, as in iproute2's json_print: the fields
 * become a JSON Lines object (with "t", "lab" and "event" first), and the
 * sentence becomes one line of the human timeline.  A lab never branches on
 * --json.
 *
 *	emitf(r, "reap", FIELDS(F_PID("pid", pid), F_INT("raw", status)),
 *	     "%s reaped: %s", role, how);
 *
 * With --stable the emitter, never the lab, makes two runs print the same
 * bytes: "t" is null and the text view shows the stage number instead of
 * the time; a pid (F_PID, F_PIDS) is shown as the role of that pid; a
 * measured value (F_MEAS: a time, a fault count, a kernel function name,
 * anything that varies between runs) is null in JSON and "~" in text;
 * transient state events are left out.  The text view then prints, for
 * every event but state and stage, a canonical line built from the
 * fields (event, then key=value) instead of the lab's sentence, which
 * embeds pids and measured numbers.  So a lab only has to say which of
 * its values are pids and which are measured.
 */
#ifndef PROCLAB_EMIT_H
#define PROCLAB_EMIT_H

#include <stdbool.h>
#include <sys/types.h>

struct run;
struct watched;

enum field_type { FT_END, FT_INT, FT_NUM, FT_STR, FT_BOOL, FT_NULL, FT_CHAR,
		  FT_PID,       /* a pid: its role with --stable */
		  FT_PIDS };    /* a string of comma-separated pids */

struct field {
	const char *key;
	enum field_type type;
	bool meas;      /* measured, varies between runs: null with --stable */
	bool text_only; /* for the sentence only, not a JSON field */
	union {
		long long i;
		double d;
		const char *s;   /* NULL renders as null */
		bool b;
		char c;          /* a state letter, rendered as a 1-char string */
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

#define FIELDS(...)  ((const struct field[]){ __VA_ARGS__, { .type = FT_END } })
#define NO_FIELDS    ((const struct field[]){ { .type = FT_END } })

/* ---- Engine v2: sentences are templates that name their fields ---------
 *
 * A sentence is the text view of one event: a template such as
 *	"{role} {pid} set x = {value} at {address}"
 * whose {key}s name fields of the event.  The emitter renders, from the
 * same fields: the text view (values as they are), the --stable text view
 * (the same sentence; a pid field as its role, a measured field as "~":
 * decided per field, never by rewriting digits) and JSON (the fields only;
 * a text-only field is left out).  "{{" and "}}" are literal braces.
 *
 * Plurals are ngettext-shaped: `one` and `many` are the two forms and
 * `count` names the integer field that picks one (count == 1) or many.
 *
 * Each lab lists its sentences in a table (struct lab's `sentences`, ended
 * by a row whose event is NULL); the engine has its own table for the
 * events every lab shares.  emit() looks an event's sentence up there, so
 * a test can render every sentence of every lab, and a translation has
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

/* Emit one event, worded by its usual sentence (form NULL). */
void emit(struct run *r, const char *event, const struct field *fields);
/* The same, worded by the sentence named `form` of that event. */
void emit_form(struct run *r, const char *event, const char *form,
	       const struct field *fields);
/* The same with a sentence from elsewhere (the claims catalogue). */
void emit_sentence(struct run *r, const struct sentence *s,
		   const struct field *fields);

/* Deprecated, until every lab words its events with sentences: emit one
 * event, `fmt` the printf sentence of the text view. */
void emitf(struct run *r, const char *event, const struct field *fields,
	  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A change of state or ppid of a watched process (called by the observer).
 * `why` explains the state in the text view (NULL: the state's meaning). */
void emit_state(struct run *r, struct watched *w, char from,
		bool transient, const char *why);

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

/* The heading of a stage. */
void emit_stage(struct run *r, const char *name, const char *what);

/* Whether the text view may use color, decided once from the options, the
 * NO_COLOR variable and whether stdout is a terminal. */
bool emit_want_color(bool no_color_option);

/* Flush stdout; on a write error, report it and end proclab (exit 1). */
void emit_flush(struct run *r);

#endif
