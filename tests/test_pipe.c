/* test_pipe.c - `proclab pipe`: ls | wc -l by hand, one pipe inode in
 * both children, the forgotten write end, a full pipe, SIGPIPE and
 * EPIPE, a FIFO; killed at a pause, it leaves no process and no FIFO. */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 256
#define PIPE_STAGES 12          /* checked by pipe_sequence */

START_TEST(pipe_sequence)
{
	static struct jobj ev[MAXEV];
	struct outcome o;
	const struct jobj *e, *pipe, *res;
	double inode, cap, shell;
	int n, fds = 0, reads = 0;
	static const int want_reads[] = { 8, 0, 0, 0, 8 };
	struct stat sb;

	ck_assert_int_eq(stage_number("pipe", NULL), PIPE_STAGES);
	run_proclab(&o, NULL, (const char *const[]){ "pipe", "--json", NULL });
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);

	pipe = nth_event(ev, n, "pipe", NULL, 0);
	ck_assert_ptr_nonnull(pipe);
	inode = jnum(pipe, "inode");
	cap = jnum(pipe, "capacity");
	shell = jnum(pipe, "pid");
	ck_assert(inode > 0 && cap >= 4096);
	/* every fd event but wc's stdout names the shell's pipe */
	while ((e = nth_event(ev, n, "fd", NULL, fds++)) != NULL) {
		bool other = jnum(e, "pid") != shell && jnum(e, "fd") == 1 &&
			     !jbool(e, "same") && jnum(e, "inode") != inode;

		ck_assert_msg(other || jnum(e, "inode") == inode,
			      "fd %d of %d: inode %.0f, not %.0f",
			      (int)jnum(e, "fd"), (int)jnum(e, "pid"),
			      jnum(e, "inode"), inode);
	}
	ck_assert_int_ge(fds, 6);
	e = nth_event(ev, n, "mmap", NULL, 0);
	ck_assert_str_eq(jstr(e, "error"), "ENODEV");

	/* wc: S before and after ls exits, then Z at EOF and reaped */
	assert_demonstrated(ev, n, "reader", "SZX");
	assert_demonstrated(ev, n, "writer", "ZX");
	e = nth_event(ev, n, "wchan", NULL, 0);
	ck_assert_ptr_nonnull(strstr(jstr(e, "wchan"), "pipe"));
	e = nth_event(ev, n, "forgotten", NULL, 0);
	ck_assert_str_eq(jstr(e, "state"), "S");
	ck_assert_str_eq(jstr(e, "comm"), "wc");
	ck_assert(jnum(e, "holder") == shell);
	e = nth_event(ev, n, "count", NULL, 0);
	ck_assert_int_eq((int)jnum(e, "lines"), 1);
	for (int k = 0; k < 2; k++) {
		e = nth_event(ev, n, "reap", NULL, k);
		ck_assert(jnum(e, "by") == shell);
		ck_assert(jbool(e, "exited") && jnum(e, "code") == 0);
	}

	/* full: exactly the capacity, then S in the pipe's write */
	e = nth_event(ev, n, "blocked", NULL, 0);
	ck_assert(jnum(e, "bytes_written") == cap);
	ck_assert(jnum(e, "capacity") == cap);
	ck_assert_ptr_nonnull(strstr(jstr(e, "wchan"), "pipe"));
	assert_demonstrated(ev, n, "filler", "S");
	/* no reader: SIGPIPE, or EPIPE when ignored */
	e = nth_event(ev, n, "reap", "sigpipe", 0);
	ck_assert_ptr_nonnull(e);
	ck_assert(jbool(e, "signaled"));
	ck_assert_int_eq((int)jnum(e, "signal"), SIGPIPE);
	e = nth_event(ev, n, "write", NULL, 0);
	ck_assert_int_eq((int)jnum(e, "ret"), -1);
	ck_assert_int_eq((int)jnum(e, "errno"), EPIPE);

	/* the FIFO: open blocks in S, then the reads */
	assert_demonstrated(ev, n, "fifo-reader", "S");
	while ((e = nth_event(ev, n, "read", NULL, reads)) != NULL) {
		ck_assert_int_lt(reads, 5);
		ck_assert_int_eq((int)jnum(e, "ret"), want_reads[reads]);
		reads++;
	}
	ck_assert_int_eq(reads, 5);
	e = nth_event(ev, n, "fifo", NULL, 0);
	ck_assert_int_eq(stat(jstr(e, "path"), &sb), -1);
	ck_assert_int_eq(errno, ENOENT);

	ck_assert(!jbool(claim_event(ev, n, "pipe-via-mmap"), "holds"));
	ck_assert(jbool(claim_event(ev, n, "pipe-shell-children"), "holds"));
	ck_assert(jbool(claim_event(ev, n, "fifo-eof-repeats"), "holds"));
	ck_assert(!jbool(claim_event(ev, n, "fifo-must-reopen"), "holds"));
	res = &ev[n - 1];
	ck_assert_str_eq(jstr(res, "event"), "result");
	ck_assert(jbool(res, "ok"));
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

static void note_fifo(const struct jobj *e, void *arg)
{
	if (strcmp(jstr(e, "event"), "fifo") == 0)
		snprintf(arg, 256, "%s", jstr(e, "path"));
}

/* Killed at the FIFO's pause, SIGKILL included: no process and no
 * directory is left (the janitor removes it when proclab cannot). */
START_TEST(killed_at_fifo)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGKILL };
	char path[256] = "", *slash;
	struct stat sb;

	kill_at_pause((const char *const[]){ "pipe", "--json", "--step",
					     NULL },
		      stage_number("pipe", "fifo-open"), sigs[_i], note_fifo,
		      path);
	ck_assert_msg(path[0] == '/', "no fifo event");
	ck_assert_int_eq(stat(path, &sb), -1);
	slash = strrchr(path, '/');
	*slash = '\0';
	ck_assert_msg(stat(path, &sb) == -1 && errno == ENOENT,
		      "%s is left after signal %d", path, sigs[_i]);
}
END_TEST

/* The lab's directories there are now. */
static size_t pipe_dirs(void)
{
	const char *tmp = getenv("TMPDIR");
	char pat[128];
	glob_t g;
	size_t n;

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(pat, sizeof(pat), "%s/proclab-pipe.*", tmp);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

/* Killed at the pause of every stage (wc, a grandchild that exec'd,
 * waiting on the pipe; ls exited; the filler blocked; ...), with SIGINT
 * or SIGKILL: no process, and no directory (made before the first stage)
 * is left. */
START_TEST(killed_at_each)
{
	int sig = _i % 2 ? SIGKILL : SIGINT, stage = 1 + _i / 2;
	size_t before = pipe_dirs();

	kill_at_pause((const char *const[]){ "pipe", "--json", "--step",
					     NULL }, stage, sig, NULL, NULL);
	ck_assert_uint_eq(pipe_dirs(), before);
}
END_TEST


Suite *make_pipe_suite(void)
{
	Suite *s = suite_create("pipe");
	TCase *tc = tcase_create("pipe");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pipe_sequence);
	tcase_add_loop_test(tc, killed_at_fifo, 0, 4);
	tcase_add_loop_test(tc, killed_at_each, 0, 2 * PIPE_STAGES);
	suite_add_tcase(s, tc);
	return s;
}
