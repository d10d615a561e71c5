/* emit.h - every line proclab prints on stdout goes through emit().
 *
 * One call gives both renderings, as in iproute2's json_print: the fields
 * become a JSON Lines object (with "t", "lab" and "event" first), and the
 * sentence becomes one line of the human timeline.  A lab never branches on
 * --json.
 *
 *	emit(r, "reap", FIELDS(F_PID("pid", pid), F_INT("raw", status)),
 *	     "%s reaped: %s", role, how);
 */
#ifndef PROCLAB_EMIT_H
#define PROCLAB_EMIT_H

#include <stdbool.h>
#include <sys/types.h>

struct run;
struct watched;

enum field_type { FT_END, FT_INT, FT_NUM, FT_STR, FT_BOOL, FT_NULL, FT_CHAR };

struct field {
	const char *key;
	enum field_type type;
	union {
		long long i;
		double d;
		const char *s;   /* NULL renders as null */
		bool b;
		char c;          /* a state letter, rendered as a 1-char string */
	};
};

#define F_INT(k, v)  ((struct field){ .key = (k), .type = FT_INT, .i = (v) })
#define F_PID(k, v)  F_INT(k, (long long)(v))
#define F_NUM(k, v)  ((struct field){ .key = (k), .type = FT_NUM, .d = (v) })
#define F_STR(k, v)  ((struct field){ .key = (k), .type = FT_STR, .s = (v) })
#define F_BOOL(k, v) ((struct field){ .key = (k), .type = FT_BOOL, .b = (v) })
#define F_NULL(k)    ((struct field){ .key = (k), .type = FT_NULL })
#define F_CHAR(k, v) ((struct field){ .key = (k), .type = FT_CHAR, .c = (v) })
#define FIELDS(...)  ((const struct field[]){ __VA_ARGS__, { .type = FT_END } })
#define NO_FIELDS    ((const struct field[]){ { .type = FT_END } })

/* Emit one event.  `fmt` is the sentence of the text view. */
void emit(struct run *r, const char *event, const struct field *fields,
	  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A change of state or ppid of a watched process (called by the observer).
 * `why` explains the state in the text view (NULL: the state's meaning). */
void emit_state(struct run *r, const struct watched *w, char from,
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

/* The heading of a stage. */
void emit_stage(struct run *r, const char *name, const char *what);

/* Whether the text view may use color, decided once from the options, the
 * NO_COLOR variable and whether stdout is a terminal. */
bool emit_want_color(bool no_color_option);

/* Flush stdout; on a write error, report it and end proclab (exit 1). */
void emit_flush(struct run *r);

#endif
