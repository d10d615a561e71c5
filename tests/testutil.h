/* testutil.h - run ./proclab as a user would, and read what it printed. */
#ifndef PROCLAB_TESTUTIL_H
#define PROCLAB_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct outcome {
	int status;          /* raw wait status of proclab */
	int code;            /* exit code, or 128 + signal */
	char *out, *err;     /* everything printed, NUL-terminated */
	size_t outlen, errlen;
	pid_t sid;           /* the session proclab ran in (its own pid) */
};

/* Run the proclab under test (env PROCLAB, default ./proclab) with argv
 * (NULL-terminated, without argv[0]) in a session of its own, feeding
 * `input` (may be NULL: stdin is /dev/null) on stdin. */
void run_proclab(struct outcome *o, const char *input, const char *const argv[]);
void outcome_free(struct outcome *o);
/* The same, calling before_exec(arg) in proclab's process just before the
 * exec (to drop privileges, lower a limit, enter a namespace); if it
 * returns -1, proclab is not run and the exit code is 126. */
void run_proclab_as(struct outcome *o, const char *input,
		    const char *const argv[], int (*before_exec)(void *),
		    void *arg);


/* A child of the test that blocks reading a pipe and exits when *wfd, the
 * write end, is closed; named `name` first unless NULL (it has taken the
 * name when this returns).  It dies with the test (parent-death signal)
 * and holds no other fd of the test's. */
pid_t blocked_child(const char *name, int *wfd);

/* How many processes are still in session sid, waiting up to a second for
 * stragglers killed by a parent-death signal to be reaped by their new
 * parent.  0 is the only good answer. */
int survivors(pid_t sid);

/* A flat JSON object, parsed strictly: returns the number of members, or
 * -1 if the line is not a valid JSON object of strings, numbers, true,
 * false and null. */
#define JMAX 32
struct jobj {
	int n;
	struct jmember {
		char key[32];
		char type;       /* 's' string, 'n' number, 'b' bool, 'z' null,
				  * 'a' array (raw: its text in the line) */
		char str[256];   /* strings decoded (UTF-8) */
		double num;
		bool b;
		const char *raw; /* 'a': points into the parsed line */
		size_t rawlen;
	} m[JMAX];
};
int json_parse_line(const char *line, size_t len, struct jobj *o);
const struct jmember *jget(const struct jobj *o, const char *key);
const char *jstr(const struct jobj *o, const char *key);   /* "" if absent */
double jnum(const struct jobj *o, const char *key);        /* -1e300 if absent */
bool jbool(const struct jobj *o, const char *key);
/* The array `key` of o (an event's FT_LIST) parsed: each element, an
 * object, into objs[i]; a string element becomes an object with one
 * member "" holding it.  Returns the number of elements (at most max), -1
 * if absent or not valid. */
int jarray(const struct jobj *o, const char *key, struct jobj *objs, int max);

/* The demonstrated (non-transient) state letters of role, in order. */
void demonstrated(const struct jobj *ev, int n, const char *role, char *out,
		  size_t size);
/* Assert that the letters demonstrated for `role` are exactly `want`. */
void assert_demonstrated(const struct jobj *ev, int n, const char *role,
			 const char *want);
/* The k-th (0-based) event named `event`, of `role` unless NULL; or NULL. */
const struct jobj *nth_event(const struct jobj *ev, int n, const char *event,
			     const char *role, int k);

/* Split out into lines and parse each; fails the test on invalid JSON.
 * Returns the number of objects (at most max). */
int json_lines(const char *out, struct jobj *objs, int max);

/* proclab running while the test reads its output line by line, to act on
 * what it printed (send a signal, answer a --step pause). */
struct live {
	pid_t pid;           /* proclab; also its session id */
	int in, out, err;    /* its stdin (write end), stdout, stderr */
	char buf[65536];
	size_t len;          /* bytes of buf not yet returned as lines */
	int status;          /* its raw wait status, after live_finish() */
};

/* Start proclab with argv (as run_proclab) in a session of its own. */
void live_start(struct live *l, const char *const argv[]);
/* The same, calling before_exec(arg) just before the exec, as
 * run_proclab_as() does. */
void live_start_as(struct live *l, const char *const argv[],
		   int (*before_exec)(void *), void *arg);
/* The next line of stdout as JSON in *o (fails the test if it is not
 * JSON, or if nothing comes within 20 s).  Returns 0 at EOF, else 1. */
int live_next(struct live *l, struct jobj *o);
/* Close stdin, read stdout to EOF (lines dropped), reap proclab; returns
 * its exit code, or 128 + signal.  Its stderr goes to err (size bytes). */
int live_finish(struct live *l, char *err, size_t size);

/* Start proclab with argv (which must hold --json and --step), press Enter
 * at every pause before stage `stage`'s, and at that one send sig, while
 * the lab holds its processes.  `each`, if not NULL, sees every event
 * before the kill.  The test becomes a child subreaper first and reaps
 * what a SIGKILLed proclab orphans, so that nothing depends on how soon
 * PID 1 reaps.  Asserts that proclab exits 128 + sig (dies of SIGKILL)
 * and that nothing it made survives. */
void kill_at_pause(const char *const argv[], int stage, int sig,
		   void (*each)(const struct jobj *e, void *arg), void *arg);

/* The number a run of `lab` with its default options gives the stage
 * named `name` (from 1), from the lab's table; with name NULL, how many
 * stages that run has.  Fails the test if there is no such lab or stage:
 * no test writes a stage number or count of its own. */
int stage_number(const char *lab, const char *name);

/* The runs a run-every-lab test makes: each lab of the table that needs no
 * operand, with its defaults, then a few variants of options (those of
 * tests/golden.sh).  lab_case(i) is a NULL-terminated argv without
 * argv[0] (the lab's name first); lab_cases() how many there are. */
int lab_cases(void);

/* The claim event with that id (src/claims.c), or NULL. */
const struct jobj *claim_event(const struct jobj *ev, int n, const char *id);
/* The pid of the process of that role (its first state event); fails the
 * test if there is none. */
int role_pid(const struct jobj *ev, int n, const char *role);
const char *const *lab_case(int i);

/* The widest line of out in display columns (a Chinese character is two,
 * color escapes none); that line into `line`. */
int widest(const char *out, char *line, size_t size);

/* proclab with argv (NULL-terminated, without argv[0]) in a pty of `cols`
 * columns, with the NAME=VALUE strings of env (NULL-terminated, or NULL)
 * added to its environment; everything it printed (a string to free()),
 * its exit code in *code; no process of it left. */
char *run_in_pty(const char *const argv[], int cols, const char *const env[],
		 int *code);

#endif
