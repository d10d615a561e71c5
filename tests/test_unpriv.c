/* test_unpriv.c - every lab without privileges, and in odd places: /proc
 * mounted with hidepid or missing, a low RLIMIT_NPROC.
 *
 * Run as root, the tests drop to uid 65534 (nobody) in proclab's own
 * process just before the exec, as setpriv --reuid=65534 --regid=65534
 * --clear-groups would; run as anyone else, they run the labs as that
 * user.  The tests that need root (a mount namespace, a fresh uid) say
 * so on stderr and pass without running when they can't. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

#define MAXEV 256
#define NOBODY 65534
/* a uid that runs nothing else, so that its process count is known */
#define FRESH_UID 61234

enum proc_mount { PROC_AS_IS, PROC_HIDEPID1, PROC_HIDEPID2, PROC_NONE };

struct as {
	uid_t uid;              /* to become, if not ours */
	long long nproc;        /* RLIMIT_NPROC to set, or -1 */
	enum proc_mount proc;   /* what /proc to give proclab */
};

static void say(const char *what)
{
	const char *e = strerror(errno);

	/* stderr is proclab's: the test shows it on failure */
	if (write(2, what, strlen(what)) < 0 || write(2, ": ", 2) < 0 ||
	    write(2, e, strlen(e)) < 0 || write(2, "\n", 1) < 0)
		return;
}

/* A /proc of its own for proclab, in a mount namespace of its own: made
 * private first, so that nothing reaches the test's /proc. */
static int remount_proc(enum proc_mount how)
{
	static const char *const opts[] = { [PROC_HIDEPID1] = "hidepid=1",
					    [PROC_HIDEPID2] = "hidepid=2" };

	if (unshare(CLONE_NEWNS) < 0)
		return say("unshare"), -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return say("mount --make-rprivate /"), -1;
	if (how == PROC_NONE) {
		if (mount("none", "/proc", "tmpfs", MS_NOSUID, "size=4k") < 0)
			return say("mount tmpfs on /proc"), -1;
	} else if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV |
			 MS_NOEXEC, opts[how]) < 0)
		return say("mount proc"), -1;
	return 0;
}

/* In proclab's process, between fork and exec. */
static int become(void *arg)
{
	const struct as *a = arg;
	struct rlimit rl = { (rlim_t)a->nproc, (rlim_t)a->nproc };

	if (a->proc != PROC_AS_IS && remount_proc(a->proc) < 0)
		return -1;
	if (a->nproc >= 0 && setrlimit(RLIMIT_NPROC, &rl) < 0)
		return say("setrlimit"), -1;
	if (a->uid == getuid())
		return 0;
	if (setgroups(0, NULL) < 0 || setresgid(a->uid, a->uid, a->uid) < 0 ||
	    setresuid(a->uid, a->uid, a->uid) < 0)
		return say("setresuid"), -1;
	return 0;
}

/* Whom the tests run proclab as: nobody when root, else ourselves. */
static uid_t unprivileged(void)
{
	return getuid() == 0 ? NOBODY : getuid();
}

/* Can this test make a mount namespace (root, not in a locked-down
 * container)?  Tried in a child, which then ends. */
static bool can_remount(const char *test)
{
	int status;
	pid_t pid;

	if (getuid() != 0) {
		fprintf(stderr, "%s: not run (needs root)\n", test);
		return false;
	}
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(unshare(CLONE_NEWNS) < 0 ? 1 : 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	fprintf(stderr, "%s: not run (no mount namespace here)\n", test);
	return false;
}

/* The proclab binary and the current directory must be reachable by the
 * user the tests become. */
static bool reachable(const struct as *a, const char *test)
{
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct as plain = *a;

		plain.proc = PROC_AS_IS;
		_exit(become(&plain) == 0 && access(prog, X_OK) == 0 &&
		      access(".", X_OK) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	fprintf(stderr, "%s: not run (uid %d cannot run %s from here: make "
		"the tree world-readable)\n", test, (int)a->uid, prog);
	return false;
}

/* A directory of the user's own for TMPDIR; it must be empty again after
 * the lab (proclab leaves nothing behind). */
static void make_tmpdir(char *dir, size_t size, uid_t uid)
{
	snprintf(dir, size, "/tmp/proclab-unpriv.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chown(dir, uid, (gid_t)uid), 0);
	ck_assert_int_eq(setenv("TMPDIR", dir, 1), 0);
}

static void remove_tmpdir(const char *dir, const char *lab)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int left = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		left += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	ck_assert_int_eq(unsetenv("TMPDIR"), 0);
	ck_assert_msg(left == 0, "%s left %d files in %s", lab, left, dir);
	ck_assert_int_eq(rmdir(dir), 0);
}

static void end_child(pid_t pid, int wfd)
{
	int status;

	close(wfd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Exit 3 or 2 with one line on stderr naming `word`, nothing on stdout
 * (with --json and exit 3: start, unavailable and result, json.md's
 * promise for every exit 3). */
static void assert_refused(const struct outcome *o, int code, const char *word)
{
	ck_assert_msg(o->code == code, "exit %d, expected %d: %s", o->code, code,
		      o->err);
	if (code == 3 && o->outlen > 0) {
		static struct jobj ev[4];
		int n = json_lines(o->out, ev, 4);

		ck_assert_msg(n == 3, "stdout: %s", o->out);
		ck_assert_str_eq(jstr(&ev[0], "event"), "start");
		ck_assert_str_eq(jstr(&ev[1], "event"), "unavailable");
		ck_assert_ptr_nonnull(strstr(jstr(&ev[1], "message"), word));
		ck_assert_str_eq(jstr(&ev[2], "event"), "result");
		ck_assert_int_eq((int)jnum(&ev[2], "exit"), 3);
	} else {
		ck_assert_msg(o->outlen == 0, "stdout: %s", o->out);
	}
	ck_assert_msg(o->errlen > 0 && strchr(o->err, '\n') == o->err + o->errlen - 1,
		      "not one line: %s", o->err);
	ck_assert_msg(strstr(o->err, word) != NULL, "no '%s' in: %s", word, o->err);
}

/* ---- every lab as an unprivileged user --------------------------------- */

/* zombie-proc-owner: an article says a zombie's /proc/PID files are root's.  What 6.18 shows a
 * user: the directory is the user's, the files root's (the zombie has no
 * mm left); a kernel that kept the user's would make the claim no truer. */
static void assert_zombie_claim(const struct jobj *ev, int n, uid_t uid)
{
	const struct jobj *c = nth_event(ev, n, "claim", NULL, 0);
	int file;

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(jstr(c, "id"), "zombie-proc-owner");
	ck_assert_int_eq((int)jnum(c, "euid"), (int)uid);
	ck_assert_int_eq((int)jnum(c, "dir_owner"), (int)uid);
	file = (int)jnum(c, "file_owner");
	ck_assert_msg(file == 0 || file == (int)uid, "file_owner %d", file);
	ck_assert_int_eq(jget(c, "holds")->type, 'b');
	ck_assert(!jbool(c, "holds"));
}

START_TEST(every_lab_unprivileged)
{
	static struct jobj ev[MAXEV];
	struct as a = { unprivileged(), -1, PROC_AS_IS };
	const char *const *lab = lab_case(_i);
	const char *argv[8] = { lab[0] };
	char dir[64];
	struct outcome o;
	int argc = 1, n;

	if (!reachable(&a, lab_case(_i)[0]))
		return;
	for (int j = 1; j < 5 && lab[j] != NULL; j++)
		argv[argc++] = lab[j];
	argv[argc++] = "--json";
	argv[argc] = NULL;
	make_tmpdir(dir, sizeof(dir), a.uid);
	run_proclab_as(&o, NULL, argv, become, &a);
	ck_assert_msg(o.code == 0, "%s as uid %d: exit %d: %s", lab_case(_i)[0],
		      (int)a.uid, o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_int_ge(n, 2);
	ck_assert_int_eq((int)jnum(&ev[0], "pid"), o.sid);
	ck_assert(jbool(&ev[n - 1], "ok"));
	ck_assert_int_eq(survivors(o.sid), 0);
	remove_tmpdir(dir, lab_case(_i)[0]);
	if (strcmp(lab[0], "zombie") == 0 && lab[1] == NULL)
		assert_zombie_claim(ev, n, a.uid);
	if (strcmp(lab_case(_i)[0], "states") == 0) {
		/* ptrace refused (Yama, a container) is the documented skip:
		 * then there is no t; allowed, there is */
		const struct jobj *p = nth_event(ev, n, "ptrace", NULL, 0);
		char seq[32];

		ck_assert_ptr_nonnull(p);
		demonstrated(ev, n, "child", seq, sizeof(seq));
		ck_assert_msg((strchr(seq, 't') != NULL) == jbool(p, "ok"),
			      "ptrace ok %d, states %s", jbool(p, "ok"), seq);
	}
	outcome_free(&o);
}
END_TEST

/* watch reads another user's process: /proc shows it by default. */
START_TEST(watch_unprivileged)
{
	static struct jobj ev[MAXEV];
	struct as a = { unprivileged(), -1, PROC_AS_IS };
	char pidarg[16];
	struct outcome o;
	int wfd, n;
	pid_t pid;

	if (!reachable(&a, "watch"))
		return;
	pid = blocked_child(NULL, &wfd);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	run_proclab_as(&o, NULL, (const char *const[]){ "watch", pidarg, "--for",
			"1", "--json", NULL }, become, &a);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	ck_assert_ptr_nonnull(nth_event(ev, n, "state", "watched", 0));
	ck_assert_int_eq((int)jnum(nth_event(ev, n, "state", "watched", 0), "pid"),
			 pid);
	ck_assert_str_eq(jstr(nth_event(ev, n, "followed", NULL, 0), "reason"),
			 "time");
	end_child(pid, wfd);
	outcome_free(&o);
}
END_TEST

/* ---- /proc that hides, /proc that is not there ---------------------------- */

/* hidepid=2 shows a user no one else's /proc/PID, hidepid=1 refuses
 * entry: watch says so in one line and exits 3.  The process exists. */
START_TEST(watch_under_hidepid)
{
	static const enum proc_mount how[] = { PROC_HIDEPID2, PROC_HIDEPID1 };
	struct as a = { NOBODY, -1, how[_i] };
	char pidarg[16];
	struct outcome o;
	int wfd;
	pid_t pid;

	if (!can_remount("watch_under_hidepid") || !reachable(&a, "watch"))
		return;
	pid = blocked_child(NULL, &wfd);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	run_proclab_as(&o, NULL, (const char *const[]){ "watch", pidarg,
			"--json", NULL }, become, &a);
	assert_refused(&o, 3, "hidepid");
	ck_assert(strstr(o.err, pidarg) != NULL);
	end_child(pid, wfd);
	outcome_free(&o);
}
END_TEST

/* A lab sees its own processes under hidepid=2: nothing changes. */
START_TEST(zombie_under_hidepid)
{
	static struct jobj ev[MAXEV];
	struct as a = { NOBODY, -1, PROC_HIDEPID2 };
	struct outcome o;
	int n;

	if (!can_remount("zombie_under_hidepid") || !reachable(&a, "zombie"))
		return;
	run_proclab_as(&o, NULL, (const char *const[]){ "zombie", "--json",
			NULL }, become, &a);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	n = json_lines(o.out, ev, MAXEV);
	assert_demonstrated(ev, n, "child", "RSZX");
	assert_zombie_claim(ev, n, NOBODY);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

/* No /proc at all (an empty tmpfs in its place): exit 3, one line. */
START_TEST(no_proc)
{
	struct as a = { 0, -1, PROC_NONE };
	struct outcome o;

	if (!can_remount("no_proc"))
		return;
	run_proclab_as(&o, NULL, (const char *const[]){ lab_case(_i)[0], NULL },
		       become, &a);
	/* ASan and LSan read /proc themselves, and talk when it is gone */
	if (strncmp(o.err, "==", 2) == 0 && strstr(o.err, "Sanitizer")) {
		fprintf(stderr, "no_proc: not checked (a sanitizer build "
			"needs /proc)\n");
		outcome_free(&o);
		return;
	}
	assert_refused(&o, 3, "/proc");
	outcome_free(&o);
}
END_TEST

/* ---- RLIMIT_NPROC --------------------------------------------------------- */

/* With RLIMIT_NPROC 6 and nothing else running as the user, proclab, its
 * janitor, the parent and 3 children fit; 4 children do not, and proclab
 * says so before forking any.  Limit 2 leaves no room at all. */
START_TEST(fork_children_capped_by_nproc)
{
	struct as a = { FRESH_UID, 6, PROC_AS_IS };
	struct outcome o;

	if (getuid() != 0) {
		fprintf(stderr, "fork_children_capped_by_nproc: not run "
			"(needs root)\n");
		return;
	}
	if (!reachable(&a, "fork"))
		return;
	run_proclab_as(&o, NULL, (const char *const[]){ "fork", "--children",
			"3", "--json", NULL }, become, &a);
	ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);

	run_proclab_as(&o, NULL, (const char *const[]){ "fork", "--children",
			"4", NULL }, become, &a);
	assert_refused(&o, 2, "'4' is too many");
	ck_assert_msg(strstr(o.err, "1 to 3") != NULL, "%s", o.err);
	ck_assert_msg(strstr(o.err, "RLIMIT_NPROC") != NULL, "%s", o.err);
	outcome_free(&o);

	a.nproc = 2;
	run_proclab_as(&o, NULL, (const char *const[]){ "fork", NULL }, become,
		       &a);
	assert_refused(&o, 3, "RLIMIT_NPROC");
	outcome_free(&o);
}
END_TEST

/* A lab that fails says why, in the text view and in JSON: with no room
 * for one more process, each lab that started fails or refuses with an
 * `expect`, `unavailable` or `error` event right before `result`, and the text
 * view has it above the result (a failure the engine only warned about
 * printed "see the message above" with no message above). */
START_TEST(every_failure_says_why)
{
	struct as a = { FRESH_UID, 1, PROC_AS_IS };
	static struct jobj ev[MAXEV];
	const char *argv[8] = { NULL };
	struct outcome o;
	int n, k;

	if (getuid() != 0) {
		fprintf(stderr, "every_failure_says_why: not run (needs root)\n");
		return;
	}
	if (!reachable(&a, "every_failure_says_why"))
		return;
	for (k = 0; k < 5 && lab_case(_i)[k] != NULL; k++)
		argv[k] = lab_case(_i)[k];
	argv[k] = "--json";
	run_proclab_as(&o, NULL, argv, become, &a);
	ck_assert_msg(o.code == 1 || o.code == 3, "%s: exit %d: %s", argv[0],
		      o.code, o.err);
	if (o.outlen > 0) {
		const char *why;

		n = json_lines(o.out, ev, MAXEV);
		ck_assert_int_ge(n, 2);
		ck_assert_str_eq(jstr(&ev[n - 1], "event"), "result");
		why = jstr(&ev[n - 2], "event");
		ck_assert_msg(strcmp(why, "expect") == 0 ||
			      strcmp(why, "unavailable") == 0 ||
			      strcmp(why, "error") == 0,
			      "%s: no reason before the result, but %s: %s",
			      argv[0], why, o.out);
		ck_assert_msg(strlen(jstr(&ev[n - 2], "message")) > 0, "%s",
			      o.out);
	}
	outcome_free(&o);

	argv[k] = NULL;         /* the text view */
	run_proclab_as(&o, NULL, argv, become, &a);
	if (o.outlen > 0) {
		char *res = strstr(o.out, "  result  ");

		ck_assert_ptr_nonnull(res);
		*res = '\0';   /* what came before the result */
		ck_assert_msg(strstr(o.out, "stage ") == NULL ||
			      strstr(o.out, " expect ") != NULL ||
			      strstr(o.out, " unavailable ") != NULL ||
			      strstr(o.out, " error ") != NULL,
			      "%s: no reason in the text view: %s", argv[0],
			      o.out);
	}
	ck_assert_int_eq(survivors(o.sid), 0);
	outcome_free(&o);
}
END_TEST

Suite *make_unpriv_suite(void)
{
	Suite *s = suite_create("unpriv");
	TCase *tc = tcase_create("unpriv");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, every_lab_unprivileged, 0, lab_cases());
	tcase_add_test(tc, watch_unprivileged);
	tcase_add_loop_test(tc, watch_under_hidepid, 0, 2);
	tcase_add_test(tc, zombie_under_hidepid);
	tcase_add_loop_test(tc, no_proc, 0, lab_cases());
	tcase_add_test(tc, fork_children_capped_by_nproc);
	tcase_add_loop_test(tc, every_failure_says_why, 0, lab_cases());
	suite_add_tcase(s, tc);
	return s;
}
