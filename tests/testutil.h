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

/* proclab running in the background, its stdin and stdout pipes ours. */
struct live {
	pid_t pid;           /* also its session id */
	int in, out;         /* write end of its stdin, read end of its stdout */
	char buf[65536];
	size_t len;
};
void live_start(struct live *l, const char *const argv[]);
/* Read its stdout until `needle` has appeared `count` times in total;
 * false at EOF. */
bool live_wait_for(struct live *l, const char *needle, int count);
/* Reap it; returns the exit code (128 + signal when killed). */
int live_finish(struct live *l);

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
		char type;       /* 's' string, 'n' number, 'b' bool, 'z' null */
		char str[256];   /* strings decoded (UTF-8) */
		double num;
		bool b;
	} m[JMAX];
};
int json_parse_line(const char *line, size_t len, struct jobj *o);
const struct jmember *jget(const struct jobj *o, const char *key);
const char *jstr(const struct jobj *o, const char *key);   /* "" if absent */
double jnum(const struct jobj *o, const char *key);        /* -1e300 if absent */
bool jbool(const struct jobj *o, const char *key);

/* Split out into lines and parse each; fails the test on invalid JSON.
 * Returns the number of objects (at most max). */
int json_lines(const char *out, struct jobj *objs, int max);

#endif
