/* bench.c - `make bench`: what the observer costs, measured in one run.
 *
 * Prints `name value` lines:
 *   pread_ns            one bare pread of a kept-open /proc/PID/stat
 *   sample_ns           one obs_sample() of the same process (pread+parse)
 *   sample_ratio        sample_ns / pread_ns (goal <= 1.5)
 *   exit_wake_us_p50/99 a child's last instruction before _exit() to a bare
 *                       poll(2) on its pidfd waking: the kernel's floor
 *   exit_detect_us_p50  the same to the observer reporting it Z
 *   exit_detect_us_p99  (goal p99 <= 200)
 *   exit_detect_ratio   exit_detect_us_p50 / exit_wake_us_p50
 *   zombie_lab_ms       median wall time of `proclab zombie --json`
 *   popen_ps_ratio      `ps -o stat= -p PID` through popen, over pread
 *   run_bare_ms         a shell loop running /bin/true 500 times, bare
 *   run_proclab_ms      the same under `proclab run --json` (to a file)
 *   run_ratio           run_proclab_ms / run_bare_ms (goal <= 1.25)
 *   run_ratio_min       the same of the fastest runs (less noise from
 *                       other work on the machine)
 *   run_strace_ratio    the same under `strace -f -o /dev/null`, over bare
 *                       (when strace is installed)
 *   run_caught          processes proclab reported forked, of run_ran
 *   run_connector_ratio the same under `proclab run --via connector`
 *   run_connector_caught  processes it reported forked, of run_ran
 * Timings are medians or percentiles over many repetitions, and the ratios
 * compare figures taken in the same run, on the same machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proclab.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static FILE *results;

/* A run that is not a lab: the observer's machinery, output discarded. */
static void setup_run(struct run *r)
{
	static const struct lab bench_lab = { .name = "bench" };
	sigset_t set;

	memset(r, 0, sizeof(*r));
	r->lab = &bench_lab;
	r->json = true;
	r->timeout_ms = 3000;
	r->self = getpid();
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	prctl(PR_SET_TIMERSLACK, 1UL);          /* as src/main.c does */
	if (r->sigfd < 0 || obs_reserve(r, OBS_MAX) < 0) {
		perror("bench: setup");
		exit(1);
	}
}

/* Median cost of a bare pread and of an observer sample of a sleeping
 * child, interleaved in rounds so that both see the same machine. */
static void bench_sample(struct run *r)
{
	enum { ROUNDS = 41, PER = 2000 };
	double pread_ns[ROUNDS], sample_ns[ROUNDS];
	struct puppet p;
	struct watched *w;
	char buf[1024];

	if (puppet_spawn(r, &p, "bench") < 0 ||
	    (w = obs_add(r, p.pid, p.pidfd, "bench")) == NULL)
		exit(1);
	obs_sample(r, w, "S", NULL);
	for (int k = 0; k < ROUNDS; k++) {
		double t0 = now_ns();
		for (int i = 0; i < PER; i++)
			if (pread(w->h.statfd, buf, sizeof(buf), 0) <= 0)
				exit(1);
		double t1 = now_ns();
		for (int i = 0; i < PER; i++)
			obs_sample(r, w, "S", NULL);
		double t2 = now_ns();
		pread_ns[k] = (t1 - t0) / PER;
		sample_ns[k] = (t2 - t1) / PER;
	}
	double a = percentile(pread_ns, ROUNDS, 0.5),
	       b = percentile(sample_ns, ROUNDS, 0.5);
	fprintf(results, "pread_ns %.0f\nsample_ns %.0f\nsample_ratio %.2f\n",
		a, b, b / a);

	/* for scale: what asking ps costs */
	enum { PS = 20 };
	double ps_ns[PS];
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "ps -o stat= -p %d", (int)p.pid);
	for (int k = 0; k < PS; k++) {
		double t0 = now_ns();
		FILE *f = popen(cmd, "r");
		if (f == NULL)
			exit(1);
		while (fgets(buf, sizeof(buf), f) != NULL)
			;
		pclose(f);
		ps_ns[k] = now_ns() - t0;
	}
	fprintf(results, "popen_ps_ratio %.0f\n",
		percentile(ps_ns, PS, 0.5) / a);
	run_teardown(r);
}

/* From the child's last clock_gettime before _exit() to the parent seeing
 * the exit: with `observe`, obs_await() returning with Z seen; without, a
 * bare poll(2) on the pidfd waking up (the floor the kernel sets). */
static double exit_latency(struct run *r, bool observe, double *stamp)
{
	int go[2], status, pidfd;
	char c = 'x';
	pid_t pid;
	struct watched *w;
	struct pollfd p;
	double t;

	r->obs.n = 0;
	r->kids.n = 0;
	if (pipe2(go, O_CLOEXEC) < 0)
		exit(1);
	pid = pl_fork(r, "bench", &pidfd);
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		struct timespec ts;
		(void)!read(go[0], &c, 1);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		*stamp = (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
		_exit(0);
	}
	close(go[0]);
	w = obs_add(r, pid, pidfd, "bench");
	if (w == NULL || obs_await(r, w, "S", NULL) != 0 ||
	    write(go[1], &c, 1) != 1)
		exit(1);
	if (observe) {
		if (obs_await(r, w, "Z", NULL) != 0)
			exit(1);
	} else {
		p = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (poll(&p, 1, -1) != 1)
			exit(1);
	}
	t = (now_ns() - *stamp) / 1e3;
	close(go[1]);
	waitpid(pid, &status, 0);
	close(pidfd);
	obs_release(&r->obs);
	return t;
}

static void bench_exit_detect(struct run *r)
{
	enum { N = 301 };
	static double seen[N], floor_[N];
	double *stamp = mmap(NULL, sizeof(double), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (stamp == MAP_FAILED)
		exit(1);
	for (int i = 0; i < N; i++) {       /* interleaved: same conditions */
		floor_[i] = exit_latency(r, false, stamp);
		seen[i] = exit_latency(r, true, stamp);
	}
	double f50 = percentile(floor_, N, 0.5), s50 = percentile(seen, N, 0.5);
	fprintf(results, "exit_wake_us_p50 %.0f\nexit_wake_us_p99 %.0f\n"
		"exit_detect_us_p50 %.0f\nexit_detect_us_p99 %.0f\n"
		"exit_detect_ratio %.2f\n", f50, percentile(floor_, N, 0.99),
		s50, percentile(seen, N, 0.99), s50 / f50);
}

static void bench_zombie_lab(void)
{
	enum { N = 21 };
	double ms[N];
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";

	for (int i = 0; i < N; i++) {
		double t0 = now_ns();
		int status;
		pid_t pid = fork();

		if (pid < 0)
			exit(1);
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			execl(prog, "proclab", "zombie", "--json", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || status != 0) {
			fprintf(stderr, "bench: proclab zombie failed\n");
			exit(1);
		}
		ms[i] = (now_ns() - t0) / 1e6;
	}
	fprintf(results, "zombie_lab_ms %.1f\n", percentile(ms, N, 0.5));
}

/* Run argv with stdout to `out` (NULL: /dev/null); wall milliseconds. */
static double timed(char *const argv[], const char *out)
{
	double t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		exit(1);
	if (pid == 0) {
		int fd = out != NULL ? open(out, O_WRONLY | O_CREAT | O_TRUNC,
					    0600) : open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || status != 0) {
		fprintf(stderr, "bench: %s failed (status 0x%x)\n", argv[0],
			status);
		exit(1);
	}
	return (now_ns() - t0) / 1e6;
}

/* The count of lines of file holding needle. */
static int count_lines(const char *file, const char *needle)
{
	FILE *f = fopen(file, "r");
	char line[4096];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void bench_run_command(void)
{
	enum { N = 7, LOOPS = 500 };
	static const char loop[] = "i=0; while [ $i -lt 500 ]; do /bin/true; "
				   "i=$((i+1)); done";
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	char *bare[] = { "sh", "-c", (char *)loop, NULL };
	char *traced[] = { (char *)prog, "run", "--json", "--", "sh", "-c",
			   (char *)loop, NULL };
	char *strace[] = { "strace", "-f", "-o", "/dev/null", "sh", "-c",
			   (char *)loop, NULL };
	char *cn[] = { (char *)prog, "run", "--json", "--via", "connector",
		       "--", "sh", "-c", (char *)loop, NULL };
	bool have_strace = system("strace -V >/dev/null 2>&1") == 0;
	double b[N], t[N], st[N], c[N];
	char cout[] = "/tmp/proclab-bench-cn.XXXXXX";
	int cfd = mkstemp(cout), ccaught;
	char out[] = "/tmp/proclab-bench-run.XXXXXX";
	int fd = mkstemp(out), caught;

	if (fd < 0 || cfd < 0)
		exit(1);
	close(fd);
	close(cfd);
	for (int i = 0; i < N; i++) {   /* interleaved: same conditions */
		b[i] = timed(bare, NULL);
		t[i] = timed(traced, out);
		c[i] = timed(cn, cout);
		if (have_strace)
			st[i] = timed(strace, NULL);
	}
	caught = count_lines(out, "\"event\":\"fork\"");
	ccaught = count_lines(cout, "\"event\":\"fork\"");
	unlink(out);
	unlink(cout);
	double b50 = percentile(b, N, 0.5), t50 = percentile(t, N, 0.5);
	fprintf(results, "run_bare_ms %.1f\nrun_proclab_ms %.1f\n"
		"run_ratio %.2f\n", b50, t50, t50 / b50);
	/* percentile() sorted them: [0] is the fastest */
	fprintf(results, "run_ratio_min %.2f\n", t[0] / b[0]);
	if (have_strace)
		fprintf(results, "run_strace_ratio %.2f\n",
			percentile(st, N, 0.5) / b50);
	else
		fprintf(results, "run_strace_ratio skipped: no strace\n");
	/* the shell and its 500 /bin/true */
	fprintf(results, "run_caught %d\nrun_ran %d\n", caught, LOOPS + 1);
	fprintf(results, "run_connector_ratio %.2f\nrun_connector_caught %d\n",
		percentile(c, N, 0.5) / b50, ccaught);
}

int main(void)
{
	struct run r;
	int null;

	/* results on the real stdout; the emitter's events go to /dev/null */
	results = fdopen(dup(STDOUT_FILENO), "w");
	null = open("/dev/null", O_WRONLY);
	if (results == NULL || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
		perror("bench");
		return 1;
	}
	setvbuf(results, NULL, _IOLBF, 0);
	setup_run(&r);
	bench_sample(&r);
	bench_exit_detect(&r);
	bench_zombie_lab();
	bench_run_command();
	return 0;
}
