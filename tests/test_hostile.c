/* test_hostile.c - processes with hostile names: `proclab watch` still
 * prints valid JSON and a terminal line without control characters. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"
#include "suites.h"
#include "testutil.h"

#define MAXEV 128

/* comm is at most 15 bytes (TASK_COMM_LEN - 1): the kernel cuts the rest */
static const char *const names[] = {
	"a\"b\\c'd",            /* quotes and a backslash */
	"x\ny",                 /* a newline */
	"\x1b[31mred\x1b[0m",   /* a terminal escape sequence, cut at 15 */
	") S 1 1 (",            /* what a parser from the first ')' trips on */
	"tab\there\r",
	"bad\xff\xfe utf8",     /* invalid UTF-8 */
	"caf\xc3\xa9 \xe2\x82\xac", /* valid UTF-8: kept as it is */
	("c1\xc2\x9b" "2J"),    /* U+009B, a C1 control (CSI) */
	"del\x7f\x01\x02",
	"aaaaaaaaaaaaaa\xc3\xa9", /* a character cut in two at 15 bytes */
	"",
};
enum { NNAMES = sizeof(names) / sizeof(names[0]) };

/* What the JSON comm must decode to: the name cut at 15 bytes, each byte
 * of an invalid UTF-8 sequence as U+FFFD. */
static void expected_json(const char *name, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strnlen(name, 15), o = 0;
	const unsigned char *end = p + len;

	while (p < end && o + 4 < size) {
		size_t n = utf8_seq_len(p, (size_t)(end - p));
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		} else {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		}
	}
	out[o] = '\0';
}

struct kids {
	pid_t pid[NNAMES];
	int wfd[NNAMES];
	char arg[NNAMES][16];
};

static void start_kids(struct kids *k, const char *argv[], int *argc)
{
	for (int i = 0; i < NNAMES; i++) {
		k->pid[i] = blocked_child(names[i], &k->wfd[i]);
		snprintf(k->arg[i], sizeof(k->arg[i]), "%d", (int)k->pid[i]);
		argv[(*argc)++] = k->arg[i];
	}
}

static void end_kids(struct kids *k)
{
	for (int i = 0; i < NNAMES; i++) {
		int status;

		close(k->wfd[i]);
		ck_assert_int_eq(waitpid(k->pid[i], &status, 0), k->pid[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

START_TEST(hostile_names_json)
{
	static struct jobj ev[MAXEV];
	const char *argv[NNAMES + 8] = { "watch", "--json", "--for", "1" };
	int argc = 4, n, seen = 0;
	struct kids k;
	struct outcome o;

	start_kids(&k, argv, &argc);
	argv[argc] = NULL;
	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);        /* each line valid, strictly */
	for (int i = 0; i < n; i++) {
		char want[64];
		int j;

		if (strcmp(jstr(&ev[i], "event"), "state") != 0)
			continue;
		for (j = 0; j < NNAMES && k.pid[j] != (pid_t)jnum(&ev[i], "pid"); j++)
			;
		if (j == NNAMES) {
			ck_abort_msg("a state of pid %d, not a child's",
				     (int)jnum(&ev[i], "pid"));
			continue;
		}
		/* the comm did not fool the parser: state and ppid are right */
		ck_assert_str_eq(jstr(&ev[i], "state"), "S");
		ck_assert_int_eq((int)jnum(&ev[i], "ppid"), getpid());
		expected_json(names[j], want, sizeof(want));
		ck_assert_msg(strcmp(jstr(&ev[i], "comm"), want) == 0,
			      "name %d: comm '%s', expected '%s'", j,
			      jstr(&ev[i], "comm"), want);
		seen++;
	}
	ck_assert_int_eq(seen, NNAMES);
	end_kids(&k);
	outcome_free(&o);
}
END_TEST

/* Every byte of the text view is printable ASCII, part of a valid UTF-8
 * character that is not a C1 control, or the '\n' ending a line. */
static void assert_terminal_safe(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n = 1;

		if (*p == '\n')
			;               /* ends a line */
		else if (*p >= 0x80) {
			n = utf8_seq_len(p, (size_t)(end - p));
			ck_assert_msg(n > 0, "invalid UTF-8 at byte %zu",
				      (size_t)(p - (const unsigned char *)s));
			ck_assert_msg(!(n == 2 && p[0] == 0xc2 && p[1] < 0xa0),
				      "a C1 control at byte %zu",
				      (size_t)(p - (const unsigned char *)s));
		} else
			ck_assert_msg(*p >= 0x20 && *p != 0x7f,
				      "control character 0x%02x at byte %zu",
				      *p, (size_t)(p - (const unsigned char *)s));
		p += n;
	}
}

START_TEST(hostile_names_text)
{
	const char *argv[NNAMES + 8] = { "watch", "--no-color", "--for", "1" };
	int argc = 4;
	struct kids k;
	struct outcome o;

	start_kids(&k, argv, &argc);
	argv[argc] = NULL;
	/* each name whole on its line: no wrapping */
	ck_assert_int_eq(setenv("COLUMNS", "1000", 1), 0);
	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert_uint_eq(strlen(o.out), o.outlen);
	ck_assert(o.outlen > 0 && o.out[o.outlen - 1] == '\n');
	assert_terminal_safe(o.out, o.outlen);
	/* each process's first line names it, escaped as text_put_string
	 * does: one line per process, no line split by a newline in a name */
	for (int i = 0; i < NNAMES; i++) {
		char want[128], *buf = NULL, head[48];
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		const char *line, *comm;

		ck_assert_ptr_nonnull(f);
		fputs("(comm: ", f);
		text_put_string(f, names[i], strnlen(names[i], 15));
		fputs(")\n", f);
		fclose(f);
		snprintf(want, sizeof(want), "%s", buf);
		free(buf);
		snprintf(head, sizeof(head), "%-11s %7d  ppid %-7d S", "watched",
			 (int)k.pid[i], (int)getpid());
		line = strstr(o.out, head);
		ck_assert_msg(line != NULL, "no line for name %d in:\n%s", i,
			      o.out);
		comm = strstr(line, "(comm: ");
		ck_assert_msg(comm != NULL && comm < strchr(line, '\n') &&
			      strncmp(comm, want, strlen(want)) == 0,
			      "name %d: line %.*s, expected to end %s", i,
			      (int)(strchr(line, '\n') - line), line, want);
	}
	end_kids(&k);
	outcome_free(&o);
}
END_TEST

Suite *make_hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hostile_names_json);
	tcase_add_test(tc, hostile_names_text);
	suite_add_tcase(s, tc);
	return s;
}
