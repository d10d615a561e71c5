/* test_unix.c - proclab as a Unix citizen: help that agrees with itself,
 * nothing on stderr after --help, write errors reported, and color only on
 * a terminal (tested on a pseudo-terminal), as NO_COLOR, --no-color and
 * TERM=dumb ask. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char *prog(void)
{
	return getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
}

/* The labs `proclab list` names, NULL-terminated, in labs[] (max 31). */
static int list_labs(char *labs[32])
{
	struct outcome o;
	char *save = NULL, *line;
	int n = 0;

	run_proclab(&o, NULL, ARGV("list"));
	ck_assert_int_eq(o.code, 0);
	for (line = strtok_r(o.out, "\n", &save); line != NULL && n < 31;
	     line = strtok_r(NULL, "\n", &save))
		labs[n++] = strndup(line, strcspn(line, " "));
	labs[n] = NULL;
	outcome_free(&o);
	ck_assert_int_ge(n, 8);
	return n;
}

/* Run proclab with argv; exit 0, nothing on stderr; its stdout (malloc'd) */
static char *help_of(const char *const argv[])
{
	struct outcome o;
	char *out;

	run_proclab(&o, NULL, argv);
	ck_assert_msg(o.code == 0, "%s %s: exit %d: %s", argv[0],
		      argv[1] ? argv[1] : "", o.code, o.err);
	ck_assert_msg(o.errlen == 0, "%s: stderr: %s", argv[0], o.err);
	out = strdup(o.out);
	outcome_free(&o);
	return out;
}

/* Every lab's --help: exit 0, stderr empty, its usage line first, no line
 * wider than 79 columns; and `help LAB`, `--help LAB`, `-h LAB` print the
 * same bytes. */
START_TEST(every_lab_help)
{
	char *labs[32];
	int n = list_labs(labs);

	for (int i = 0; i < n; i++) {
		char *a = help_of(ARGV(labs[i], "--help"));
		char *b = help_of(ARGV("help", labs[i]));
		char *c = help_of(ARGV("--help", labs[i]));
		char *d = help_of(ARGV(labs[i], "-h"));
		char head[64];
		size_t w;

		snprintf(head, sizeof(head), "usage: proclab %s ", labs[i]);
		ck_assert_msg(strncmp(a, head, strlen(head)) == 0, "%s", a);
		for (const char *l = a; *l != '\0'; l += w + (l[w] != '\0')) {
			w = strcspn(l, "\n");
			ck_assert_msg(w <= 79, "%s --help: %zu columns: %.*s",
				      labs[i], w, (int)w, l);
		}
		ck_assert_str_eq(a, b);
		ck_assert_str_eq(a, c);
		ck_assert_str_eq(a, d);
		free(a), free(b), free(c), free(d), free(labs[i]);
	}
}
END_TEST

/* `proclab`, `--help`, `-h` and `help` agree: the usage that bare
 * `proclab` prints (before its list of labs) is how --help begins, and the
 * three helps are the same. */
START_TEST(main_help_agrees)
{
	char *a = help_of(ARGV("--help"));
	char *b = help_of(ARGV("-h"));
	char *c = help_of(ARGV("help"));
	struct outcome o;

	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, c);
	run_proclab(&o, NULL, (const char *const[]){ NULL });
	ck_assert_int_eq(o.code, 0);
	ck_assert_uint_eq(o.errlen, 0);
	ck_assert_msg(strncmp(o.out, "usage: proclab LAB [options]\n", 29) == 0,
		      "%s", o.out);
	{
		size_t ulen = (size_t)(strstr(o.out, "\n\n") - o.out) + 2;

		ck_assert_msg(strncmp(a, o.out, ulen) == 0,
			      "usage:\n%s\n--help:\n%s", o.out, a);
	}
	/* every lab with operands has its line, as in the SYNOPSIS */
	ck_assert_msg(strstr(o.out, "\n       proclab watch PID... [options]\n"),
		      "%s", o.out);
	outcome_free(&o);
	free(a), free(b), free(c);
}
END_TEST

START_TEST(version_lines)
{
	char *v = help_of(ARGV("--version"));
	char first[64];

	snprintf(first, sizeof(first), "%.*s", (int)strcspn(v, "\n"), v);
	ck_assert_str_eq(first, "proclab 0.1.0");
	ck_assert_msg(strstr(v, "\nJSON Lines schema 2\n") != NULL, "%s", v);
	/* the versions pkg-config gave the build: numbers, not "unknown" */
	ck_assert_msg(strstr(v, "libbsd 0.") != NULL, "%s", v);
	ck_assert_msg(strstr(v, "tests: Check 0.") != NULL, "%s", v);
	free(v);
}
END_TEST

/* Run proclab with argv, stdout on /dev/full, stderr into err.  Returns
 * its exit code; its session is *sid. */
static int run_full(const char *const argv[], char *err, size_t size,
		    pid_t *sid)
{
	const char *args[16] = { "proclab" };
	int p[2], status;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	for (int i = 0; argv[i] != NULL && i < 14; i++)
		args[i + 1] = argv[i];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int full = open("/dev/full", O_WRONLY);

		if (full < 0 || dup2(full, 1) < 0 || dup2(p[1], 2) < 0 ||
		    setsid() < 0)
			_exit(126);
		execv(prog(), (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < size &&
	       ((n = read(p[0], err + len, size - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	err[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*sid = pid;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A full disk on stdout is an error: exit 1 and one line on stderr, for
 * help text as for a lab (which also leaves nothing behind). */
static const char *const *const full_cases[] = {
	ARGV("--help"), ARGV("help", "zombie"), ARGV("list"),
	ARGV("--version"), ARGV("zombie", "--help"), ARGV("zombie"),
	ARGV("zombie", "--json"),
};

START_TEST(write_error_reported)
{
	char err[4096];
	pid_t sid;
	int code = run_full(full_cases[_i], err, sizeof(err), &sid);
	const char *nl = strchr(err, '\n');

	ck_assert_msg(code == 1, "%s: exit %d: %s", full_cases[_i][0], code, err);
	ck_assert_msg(strstr(err, "proclab: ") == err &&
		      strstr(err, "cannot write to standard output: No space "
			     "left on device") != NULL &&
		      nl != NULL && nl[1] == '\0',
		      "case %d: %s", _i, err);
	ck_assert_int_eq(survivors(sid), 0);
}
END_TEST

/* Run proclab with argv on a pseudo-terminal, in an environment of only
 * TERM (unset if NULL) and NO_COLOR (unset if NULL).  Returns the exit
 * code; out gets what the terminal showed. */
static int run_pty(const char *const argv[], const char *term,
		   const char *no_color, char *out, size_t size)
{
	const char *args[16] = { "proclab" };
	char tv[64], nv[64];
	const char *env[3] = { NULL };
	int master, status, k = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	for (int i = 0; argv[i] != NULL && i < 14; i++)
		args[i + 1] = argv[i];
	if (term != NULL) {
		snprintf(tv, sizeof(tv), "TERM=%s", term);
		env[k++] = tv;
	}
	if (no_color != NULL) {
		snprintf(nv, sizeof(nv), "NO_COLOR=%s", no_color);
		env[k++] = nv;
	}
	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {         /* forkpty made it a session leader */
		execve(prog(), (char *const *)args, (char *const *)env);
		_exit(127);
	}
	/* EIO once the last holder of the terminal is gone */
	while (len + 1 < size &&
	       ((n = read(master, out + len, size - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	out[len] = '\0';
	close(master);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(survivors(pid), 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const struct color_case {
	const char *const *argv;
	const char *term, *no_color;
	bool color;
} color_cases[] = {
	{ ARGV("zombie"), "xterm", NULL, true },
	{ ARGV("zombie"), "xterm", "", true },  /* empty: not set */
	{ ARGV("zombie"), NULL, NULL, true },
	{ ARGV("zombie"), "xterm", "1", false },
	{ ARGV("zombie", "--no-color"), "xterm", NULL, false },
	{ ARGV("zombie"), "dumb", NULL, false },
	{ ARGV("zombie", "--json"), "xterm", NULL, false },
};

START_TEST(color_only_on_a_terminal)
{
	const struct color_case *c = &color_cases[_i];
	static char out[1 << 16];
	int code = run_pty(c->argv, c->term, c->no_color, out, sizeof(out));

	ck_assert_msg(code == 0, "case %d: exit %d: %s", _i, code, out);
	ck_assert_msg(strstr(out, "result") != NULL, "case %d: %s", _i, out);
	ck_assert_msg((strchr(out, '\033') != NULL) == c->color,
		      "case %d: color %s expected: %s", _i,
		      c->color ? "" : "not", out);
	if (c->color)   /* a state letter in its color, e.g. Z in red */
		ck_assert_msg(strstr(out, "\033[31mZ") != NULL ||
			      strstr(out, "\033[1;31mZ") != NULL,
			      "case %d: no red Z: %s", _i, out);
}
END_TEST

/* Not a terminal: no color, even with TERM set and NO_COLOR unset. */
START_TEST(no_color_on_a_pipe)
{
	struct outcome o;

	unsetenv("NO_COLOR");
	setenv("TERM", "xterm", 1);
	run_proclab(&o, NULL, ARGV("zombie"));
	ck_assert_int_eq(o.code, 0);
	ck_assert_msg(strchr(o.out, '\033') == NULL, "%s", o.out);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

Suite *make_unix_suite(void)
{
	Suite *s = suite_create("unix");
	TCase *tc = tcase_create("unix");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, every_lab_help);
	tcase_add_test(tc, main_help_agrees);
	tcase_add_test(tc, version_lines);
	tcase_add_loop_test(tc, write_error_reported, 0,
			    (int)(sizeof(full_cases) / sizeof(full_cases[0])));
	tcase_add_loop_test(tc, color_only_on_a_terminal, 0,
			    (int)(sizeof(color_cases) / sizeof(color_cases[0])));
	tcase_add_test(tc, no_color_on_a_pipe);
	suite_add_tcase(s, tc);
	return s;
}
