/* test_sink.c - every kind of sink (sink.h) carries a child's bytes back
 * unchanged, and leaves nothing behind: no fd in proclab, no file in
 * $TMPDIR. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proclab.h"
#include "sink.h"
#include "suites.h"

/* The fds this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;           /* the directory's own fd */
}

/* The entries of dir, . and .. aside. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* A child writes text to the sink's end; proclab reads it back at the
 * moment sink_streams() says. */
static void round_trip(struct run *r, enum sink_kind kind, const char *text)
{
	char buf[64];
	struct sink s;
	ssize_t got = 0;
	int status;
	pid_t pid;

	ck_assert_int_eq(sink_open(r, &s, kind), PL_EXIT_OK);
	ck_assert_int_ge(s.rd, 0);
	ck_assert_int_ge(s.wr, 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		size_t len = strlen(text);

		_exit(write(s.wr, text, len) == (ssize_t)len ? 0 : 1);
	}
	sink_forked(&s);
	if (sink_streams(&s))
		got = sink_read(r, &s, buf, sizeof(buf));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!sink_streams(&s))
		got = sink_read(r, &s, buf, sizeof(buf));
	ck_assert_int_eq(got, (ssize_t)strlen(text));
	ck_assert(memcmp(buf, text, (size_t)got) == 0);
	sink_close(&s);
	sink_close(&s);         /* a second close does nothing */
	ck_assert_int_eq(s.rd, -1);
}

START_TEST(sink_kinds)
{
	char dir[] = "/tmp/proclab-test-sink.XXXXXX";
	struct run r = { .lab = lab_table[0], .sigfd = -1,
			 .timeout_ms = 3000 };
	int fds = open_fds();

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(setenv("TMPDIR", dir, 1), 0);
	for (int k = 0; k < SINK_KINDS; k++) {
		ck_assert_str_ne(sink_name((enum sink_kind)k), "?");
		ck_assert_str_ne(sink_what((enum sink_kind)k), "?");
		/* a terminal without output processing: \n stays \n */
		round_trip(&r, (enum sink_kind)k, "hello, world\n");
		ck_assert_int_eq(entries(dir), 0);
		ck_assert_int_eq(open_fds(), fds);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* More bytes than the buffer holds: refused, not cut silently. */
START_TEST(sink_too_much)
{
	struct run r = { .lab = lab_table[0], .sigfd = -1,
			 .timeout_ms = 3000, .stage_name = "test" };
	struct sink s;
	char buf[4];

	/* the failure is reported; this test has no use for the words */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	ck_assert_int_eq(sink_open(&r, &s, SINK_FILE), PL_EXIT_OK);
	ck_assert_int_eq(write(s.wr, "hello", 5), 5);
	ck_assert_int_eq(sink_read(&r, &s, buf, sizeof(buf)), -1);
	ck_assert(r.failed);
	sink_close(&s);
}
END_TEST

Suite *make_sink_suite(void)
{
	Suite *s = suite_create("sink");
	TCase *tc = tcase_create("sink");

	tcase_add_test(tc, sink_kinds);
	tcase_add_test(tc, sink_too_much);
	suite_add_tcase(s, tc);
	return s;
}
