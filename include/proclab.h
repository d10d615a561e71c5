/* proclab.h - what a lab sees of the engine.
 *
 * A lab is one module in labs/ that fills one `struct lab` and lists it in
 * the table of labs/labs.c.  Its run function gets a `struct run`: the
 * options, the emitter and the observer for this run.  A lab never reads
 * /proc and never prints: it drives processes and asks the observer
 * (observer.h) to wait for and report what /proc shows, and it reports
 * anything else through emit() (emit.h), which renders its sentence, a
 * template in the lab's `sentences`, as text, or its fields as JSON.
 *
 * Adding a lab, the checklist (every file a lab touches):
 *   1. labs/NAME.c: `const struct lab lab_NAME = { ... };` with its
 *      options (read with opt_val()/opt_set()), a table of stages
 *      (`.stages`; the engine runs them, `--help` lists them), a table of
 *      sentences (`.sentences`: the text of each event, emit.h), and its
 *      per-run state (`.state_size`, run_state()): no mutable globals.
 *      Children are agents (agent.h: agent_spawn(), agent_fork() for
 *      grandchildren, a table of the lab's own operations) or come from
 *      pl_fork() (child.h); never from fork() itself.  Anything outside
 *      processes to remove at the end: run_on_cleanup().
 *   2. labs/labs.c: one row (the table is in the order `list` prints;
 *      the summary fits `proclab list` in 80 columns).  The Makefile
 *      picks up labs/ *.c, and `make install` labs/ *.md, by themselves.
 *   3. labs/NAME.md: the worksheet (idea, predictions, what to run and
 *      watch, questions, answers for the instructor).
 *   4. tests/test_NAME.c: runs the lab and asserts the observed sequence
 *      and that nothing is left behind, with stage numbers from the table
 *      (stage_number()); its suite in tests/check_main.c and
 *      tests/suites.h.  Every-lab tests (stages, emit, stable,
 *      unprivileged, golden) take the lab from lab_table by themselves.
 *   5. tests/golden/NAME.txt and .jsonl: `make golden` writes them (the
 *      lab comes from `proclab list`; option variants worth keeping go in
 *      tests/golden.sh and testutil.c's lab_variants); review the diff.
 *   6. Each claim it tests: a row in src/claims.c (its source in
 *      docs/sources.md), reported with claim() (claims.h).
 *   7. Its JSON events in docs/json.md, its section in man/proclab.1, its
 *      line in README.md's `proclab list`.
 */
#ifndef PROCLAB_PROCLAB_H
#define PROCLAB_PROCLAB_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "agent.h"
#include "child.h"
#include "emit.h"
#include "i18n.h"
#include "observer.h"

#define PROCLAB_VERSION "0.1.0"
#define PROCLAB_SCHEMA 2

/* Exit statuses. */
enum {
	PL_EXIT_OK = 0,          /* every stage saw what it demonstrates */
	PL_EXIT_FAIL = 1,        /* the kernel did not show what was expected */
	PL_EXIT_USAGE = 2,       /* bad command line */
	PL_EXIT_UNAVAILABLE = 3, /* this machine cannot run the lab */
};

/* A lab's own option: --NAME, or --NAME ARG with a number in [min, max]. */
struct lab_option {
	const char *name;
	const char *arg;          /* metavariable; NULL for a flag */
	long long min, max, def;
	const char *help;
};

/* A varying option (variant.h): with --variant or --student, option
 * `option` (a numeric one of the lab's options) takes a value from
 * [lo, hi] drawn for the variant, unless it is given.  A lab lists them in
 * its `vary` table: data only, it reads the value with opt_val() as
 * always.  The range keeps the lesson: the same stages, states and
 * claims; other numbers (exit codes, counts, seeds). */
struct lab_vary {
	const char *option;
	long long lo, hi;
};

#define LAB_OPT_MAX 8

/* A lab's option that takes a word or a list as it is: --NAME ARG, and
 * -L ARG when `letter` is not 0.  The lab checks the text itself (in its
 * `prepare`: exit 2 with one line on stderr). */
struct lab_text_option {
	const char *name;
	char letter;              /* a short option, or 0 */
	const char *arg;          /* metavariable, e.g. "LIST" */
	const char *help;
};

struct run;

/* One stage of a lab: the engine runs a lab's stages in table order.  Each
 * begins with its heading (`name`, and `what`: a template over the lab's
 * option values by option name, e.g. "forks {children} children"; with
 * `what_many` and `count` its plural, ngettext-shaped: the option `count`
 * picks `what` when it is 1, else `what_many`), after the previous
 * stage's pause.  `run` returns PL_EXIT_OK to go on to the next stage, or
 * the exit status to end the lab with.  `when` names a flag option: the
 * stage runs only when it is given ("subreaper"), or only when it is not
 * ("!subreaper"); NULL: always.  `proclab LAB --help` lists the stages. */
struct stage {
	const char *name;
	const char *what;
	int (*run)(struct run *r);
	const char *when;
	const char *what_many;
	const char *count;
};

struct lab {
	const char *name;
	const char *summary;      /* one line for `proclab list` */
	const char *description;  /* a paragraph for `proclab LAB --help` */
	const struct lab_option *options; /* ends with a {NULL} row; may be NULL */
	int (*run)(struct run *r);
	/* Positional arguments, e.g. "PID...": their metavariable for the
	 * usage line; NULL for a lab that takes none (the dispatcher then
	 * rejects any). */
	const char *args;
	/* Optional: called after the options are parsed and before the start
	 * event, to check the positional arguments or limits that depend on
	 * the machine, and take what the lab needs.  Returns PL_EXIT_OK, or the exit status after one line on
	 * stderr (pl_warnx) and nothing on stdout. */
	int (*prepare)(struct run *r);
	/* Engine v2: the lab's sentences (emit.h), ended by a {NULL} row. */
	const struct sentence *sentences;
	/* Engine v2: the lab's stages, ended by a {NULL} row.  With stages,
	 * `run` (if not NULL) sets up before the first one. */
	const struct stage *stages;
	/* Bytes of state the lab keeps for one run (zeroed before `prepare`
	 * and `run`; see run_state()): a lab has no mutable globals. */
	size_t state_size;
	/* Options that take text (ends with a {NULL} row; may be NULL); at
	 * most LAB_OPT_MAX. */
	const struct lab_text_option *text_options;
	/* A job-control lab: its state events carry the process group, the
	 * session and the terminal's foreground group (pgrp, sid, tpgid) as
	 * the sample showed them, a change of any of them is an event as a
	 * change of state or ppid is, the text view shows them like
	 * `ps -o pid,pgid,sid,tpgid,stat` (with ps's s and +), and the --step
	 * pause suggests a ps with those columns.  Other labs: false. */
	bool job_control;
	/* Options every lab takes that mean nothing to this one, by name
	 * separated by spaces ("step quiz delay timeout"): given, they are a
	 * usage error (exit 2), and `--help` says so.  NULL: none. */
	const char *refuses;
	/* Options that vary per variant (variant.h), ended by a {NULL} row;
	 * NULL: none. */
	const struct lab_vary *vary;
};

extern const struct lab *const lab_table[];
extern const size_t lab_count;

/* One run of one lab. */
struct run {
	const struct lab *lab;

	/* options every lab takes */
	bool json, step, verbose, color;
	bool quiz;                /* ask before each demonstrated change */
	bool stable;              /* --stable: the emitter's business only */
	int delay_ms, timeout_ms;
	/* the lab's own options, in the order of lab->options */
	long long val[LAB_OPT_MAX];
	bool set[LAB_OPT_MAX];
	/* positional arguments (only for a lab with `args`) */
	int argc;
	char **argv;

	/* engine state */
	pid_t self;               /* proclab's own pid */
	struct timespec t0;       /* when the lab started */
	int stage;                /* number of the current stage, 0 before any */
	const char *stage_name;
	int sigfd;                /* signalfd for SIGINT, SIGTERM, SIGHUP, ... */
	struct observer obs;
	struct kids kids;         /* every process this run created */
	struct agents *agents;    /* the run's agents and report channel
				   * (agent.h); NULL until the first */
	bool no_pidfd;            /* pidfds don't work here (child.h) */
	bool failed;
	bool unavailable;         /* a child could not set up (agent.h): the
				   * lab ends with PL_EXIT_UNAVAILABLE */
	/* --quiz: questions asked, answers right, and the answer pending
	 * between quiz_ask() and quiz_tell() ("" at EOF) */
	int questions, score;
	char given[16];
	bool answered;
	int shown;                /* demonstrated state events so far */
	/* Called once by run_teardown() after every child is reaped (also
	 * when a signal ends proclab): removes what the lab made outside
	 * processes, e.g. a temporary directory.  NULL: nothing to do. */
	void (*cleanup)(struct run *r);
	/* Called once, first, by run_teardown() (also when a signal ends
	 * proclab): kills and reaps what the run follows but did not make
	 * with pl_fork() (`proclab run`'s traced tree).  NULL: nothing. */
	void (*before_teardown)(struct run *r);
	void *state;              /* run_state() */
	/* the lab's text options as given, in the order of
	 * lab->text_options; NULL when not given */
	const char *text[LAB_OPT_MAX];
	/* the run's process group and its janitor (janitor.c); 0: none */
	pid_t pgid, janitor;
	int janitor_fd;
	bool ttou_ign;            /* the terminal has TOSTOP: children in the
				   * run's group ignore SIGTTOU */
	/* children proclab had when it started (inherited across exec):
	 * never killed or reaped */
	pid_t *inherited;
	int ninherited;
	/* SIGINT, SIGTERM, SIGHUP, SIGQUIT as proclab inherited them
	 * ignored (nohup): they stay ignored in proclab, and its children
	 * get the default action back */
	sigset_t inherited_ign;
	int cont_stage;           /* the stage during which proclab was last
				   * continued after a stop (SIGCONT), 0 */
	/* --variant N or --student ID (variant.h): the variant, -1 for none;
	 * the student's ID as given, or NULL */
	int variant;
	const char *student;
	/* --record FILE: the JSON Lines record, written while the view (text,
	 * or JSON with --json) goes to stdout; NULL: none */
	FILE *record;
};

/* The value of the lab's option `name` (its default when not given). */
long long opt_val(const struct run *r, const char *name);
bool opt_set(const struct run *r, const char *name);

/* For `prepare`: option `name` (MiB a child will write) fits in half of
 * MemAvailable: PL_EXIT_OK; else one line naming the range, PL_EXIT_USAGE. */
int opt_mib_fits(struct run *r, const char *name);
/* The text of the lab's text option `name`, NULL when not given. */
const char *opt_text(const struct run *r, const char *name);

/* Begin stage `name`: ends the previous one first (with --step: pause for
 * the student; with --delay: wait), then reports the new one. */
void stage(struct run *r, const char *name, const char *what);
/* The same with the heading's text in the user's language (`what` is
 * JSON's, English); stage() translates `what` with gettext(). */
void stage_text(struct run *r, const char *name, const char *what,
		const char *what_text);

/* The end of the lab's last stage: the same pause as between stages. */
void stage_end(struct run *r);

/* With --step: a pause inside a stage, where it has something for ps to
 * see that is gone by its end (a zombie before its reap).  The same
 * `pause` event as between stages; nothing without --step. */
void run_pause(struct run *r);

/* Report that the kernel did not show what a stage expects (the lab then
 * returns PL_EXIT_FAIL).  The text says what was expected and what was
 * seen; it is printed on stderr too. */
int pl_fail(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The machine can't run this lab (no /proc, a privilege missing, ...). */
int pl_unavailable(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Wait until fd (if >= 0) is readable or timeout_ms passes (-1: forever),
 * while watching for SIGINT, SIGTERM, SIGHUP and SIGQUIT: those end proclab
 * at once, with every child killed and reaped, exit 128 + signo.  Returns 1
 * if fd is readable, 0 on timeout. */
int pl_wait_fd(struct run *r, int fd, int timeout_ms);

struct pollfd;
/* The same for n fds (their revents set): returns how many are ready, 0
 * on timeout. */
int pl_wait_fds(struct run *r, struct pollfd *fds, int n, int timeout_ms);

/* Read one line from stdin (the newline dropped, a longer line cut to
 * size - 1), waiting through pl_wait_fd() with no timeout.  Returns 1 for
 * a line, 0 at EOF or on a read error.  --step and --quiz both read their
 * lines here, so that piped input is shared line by line between them. */
int pl_read_line(struct run *r, char *line, size_t size);

/* The same, calling tick(r, arg) while it waits for the line: at once,
 * then on a back-off of 1 ms growing to 50 ms (--quiz samples the process
 * it asks about while the student thinks). */
int pl_read_line_tick(struct run *r, char *line, size_t size,
		      void (*tick)(struct run *r, void *arg), void *arg);

/* --quiz (called by obs_await): before the wait, ask which state w will
 * show next and read the answer; after it, report what /proc showed and
 * whether the answer was right, with `why`. */
void quiz_ask(struct run *r, const struct watched *w);
void quiz_tell(struct run *r, const struct watched *w, const char *why);

/* --quiz in a class (a variant chosen): ask for a value the run has just
 * observed, free-form (a number or a word), before the event that shows
 * it.  `kind` names the question for `proclab grade` ("exit-code",
 * "fork-child", "fork-parent", "zombies", "adopter"); `about` is the pid
 * it is about; `expected` the value as text; `also` another answer that
 * counts as right (a command name for a pid), or NULL.  The question's
 * sentence is the engine's `question` of form `kind`, over the fields
 * given (ended by FT_END) plus n, kind and pid.  Without --quiz or a
 * variant: nothing. */
void quiz_value(struct run *r, const char *kind, pid_t about,
		const char *expected, const char *also,
		const struct field *fields);
/* The sentences of those questions and their answers, {NULL}-ended. */
extern const struct sentence quiz_value_sentences[];

/* A class's --quiz, after a wait that showed w as Z: how many of the
 * run's watched processes the text view now shows as zombies (their last
 * demonstrated state).  Nothing unless w was shown Z, or without a
 * variant. */
void quiz_zombies(struct run *r, const struct watched *w);

/* Seconds since the lab started. */
double run_elapsed(const struct run *r);

/* The one clock of proclab: CLOCK_MONOTONIC in milliseconds, or in
 * nanoseconds (async-signal-safe: a lab's child may time itself). */
long long pl_now_ms(void);
long long pl_now_ns(void);

/* The lab's state for this run: lab->state_size zeroed bytes. */
void *run_state(struct run *r);

/* Have fn called once by run_teardown() after every child is reaped (also
 * when a signal ends proclab), to remove what the lab made outside
 * processes (a temporary directory).  One per run; a second call replaces
 * the first. */
void run_on_cleanup(struct run *r, void (*fn)(struct run *r));

/* Run the lab's stages (lab->stages) in order; returns the first exit
 * status that is not PL_EXIT_OK, or PL_EXIT_OK. */
int run_stages(struct run *r);

/* Whether stage s runs with this run's options (its `when`). */
bool stage_applies(const struct run *r, const struct stage *s);

/* The heading of stage s rendered over the option values (the defaults
 * when r's options were not parsed: for --help); `tr`: translated (the
 * text view; ngettext picks the form), else English (JSON).  Returns
 * dst. */
char *stage_what(const struct run *r, const struct stage *s, bool tr,
		 char *dst, size_t size);

/* Kill and reap every process this run made that is still there. */
void run_teardown(struct run *r);

/* A lab that ends with PL_EXIT_FAIL or PL_EXIT_UNAVAILABLE and no
 * pl_fail(), pl_unavailable() or agent `error` event before it: report
 * the last pl_warnx() message as its `expect` (or `unavailable`) event,
 * so that the reason is in the text view and in JSON too.  Called once,
 * by main, before the result. */
void run_explain(struct run *r, int rc);
/* proclab's own call `call` failed with errno e where the machine or the
 * user's limits are the cause (EMFILE, ENOMEM, EAGAIN): an `error` event
 * (role "proclab") and the message fmt on stderr; the lab then ends with
 * PL_EXIT_UNAVAILABLE.  Returns PL_EXIT_UNAVAILABLE, errno kept. */
int pl_sys_error(struct run *r, const char *call, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The last message pl_warnx() printed ("" if none). */
const char *pl_last_warning(void);

/* As PID 1 of its PID namespace (r->self == 1), take SIGCHLD (a handler
 * that raises a flag), so that orphans handed to proclab are reaped while
 * it waits: pl_reap_adopted(), called by every wait, reaps each zombie
 * child that is not a process of the run.  Not PID 1: nothing.  Returns
 * 0, or -1 with errno. */
int pl_init_reaper(struct run *r);
void pl_reap_adopted(struct run *r);
/* ---- the run's process group and janitor (janitor.c) ----------------- */

#define JANITOR_PATH 256        /* a registered path, NUL included */
#define JANITOR_PATHS 8

/* Fork the janitor, leader of the run's own process group (r->pgid),
 * which pl_fork() puts every child in: terminal signals reach proclab
 * alone, and if proclab dies without a teardown the janitor kills what
 * is left of the group and removes what run_mkdtemp() made.  Returns 0,
 * or -1 with errno (the run then goes on without: children stay in
 * proclab's group). */
int janitor_start(struct run *r);
/* Kill and reap the janitor (teardown, after the lab's cleanup). */
void janitor_stop(struct run *r);

/* mkdtemp(3) for a lab: a directory (tmpl ends in XXXXXX, shorter than
 * JANITOR_PATH) that the janitor removes, with the files in it, if
 * proclab dies without its teardown.  The lab's cleanup removes it
 * otherwise.  Returns 0, or -1 with errno. */
int run_mkdtemp(struct run *r, char *tmpl);

/* Note the children proclab already has (inherited across exec), before
 * the first fork; run_inherited() tells whether pid is one of them. */
void run_note_inherited(struct run *r);
bool run_inherited(const struct run *r, pid_t pid);

/* Kill and reap every child of proclab that the run made (teardown). */
void run_reap_own(struct run *r);

/* "proclab: LAB: " prefix of messages. */
void pl_warnx(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
