/* exit.c - exit() flushes stdio and runs atexit handlers, _exit() does not;
 * what that costs depends on where stdout goes.
 *
 * Stages tty, pipe, file: for each kind of stdout, children print a text
 * with printf (with and without a trailing newline) and leave through
 * exit(), _exit(), a return from a main-like function, or abort().
 * proclab reads what reached the terminal, the pipe or the file and counts
 * the bytes; each child reports (with write(2), on a side pipe) what printf
 * returned, the buffering glibc chose and the bytes still pending in the
 * buffer, and its atexit handler reports whether it ran.
 *
 * Stages puzzle-tty, puzzle-pipe, puzzle-file: the fork loop with
 * printf, without and with fflush.  Every printf call bumps a counter in a
 * shared page; every fork is reported with the bytes pending in the
 * forking process's stdout at that moment; the lines that arrive are shown,
 * so the duplicated ones are visible.
 *
 * The stages are the rows of exit_stages, one per kind of stdout; the
 * terminal, the pipe and the file are the engine's sinks (sink.h).
 *
 * The children of this lab use stdio ON PURPOSE: stdio buffering is what
 * the lab demonstrates.  They come from pl_fork(), which flushed proclab's
 * own buffers, so they start with an empty stdout buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "sink.h"
#include "wstatus.h"

/* In the child: stdout becomes the sink, the side channel fd 3, the gate
 * fd 4 (if any), and nothing else of proclab's stays open. */
enum { SIDE_FD = 3, GATE_FD = 4 };

static void child_setup(const struct sink *s, int side, int gate)
{
	int out = sink_child_fd(s);
	int sd = fcntl(side, F_DUPFD, 10);
	int gt = gate >= 0 ? fcntl(gate, F_DUPFD, 10) : -1;
	FILE *f;

	if (out < 0 || sd < 0 || (gate >= 0 && gt < 0) ||
	    dup2(out, STDOUT_FILENO) < 0 || dup2(sd, SIDE_FD) < 0 ||
	    (gt >= 0 && dup2(gt, GATE_FD) < 0))
		_exit(126);
	if (close_range(gt >= 0 ? GATE_FD + 1 : SIDE_FD + 1, ~0U, 0) < 0)
		_exit(126);
	/* stdio ON PURPOSE from here on.  proclab's stdout FILE chose its
	 * buffering when proclab first printed; a new program's stdout
	 * chooses at its first write, from what fd 1 is (isatty).  A fresh
	 * FILE on fd 1 behaves like that, and glibc lets stdout be assigned
	 * (glibc manual, "Standard Streams").  proclab's old FILE is empty:
	 * pl_fork flushed it. */
	f = fdopen(STDOUT_FILENO, "w");
	if (f == NULL)
		_exit(126);
	stdout = f;
}

/* Wait (up to --timeout) for a child of ours to end and collect it. */
static int collect(struct run *r, pid_t pid, struct wstatus *w)
{
	int status;
	pid_t got;

	if (!pl_wait_exit(r, pid, r->timeout_ms))
		return pl_fail(r, "expected child %d to end within %d ms; it "
			       "did not", (int)pid, r->timeout_ms);
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		pl_warnx(r, "waitpid(%d): %s", (int)pid, strerror(errno));
		return PL_EXIT_FAIL;
	}
	wstatus_decode(status, w);
	return PL_EXIT_OK;
}

/* ---- the cases: printf, then a way out ---------------------------------- */

enum way { WAY_EXIT, WAY__EXIT, WAY_RETURN, WAY_ABORT, WAYS };

static const char *const way_name[WAYS] = { "exit", "_exit", "return",
					    "abort" };
static const char *const way_call[WAYS] = { "exit(0)", "_exit(0)",
					    "return 0", "abort()" };

static const char text_nl[] = "hello, world\n";
static const char text_bare[] = "hello, world";

/* What a printer child tells proclab on the side channel, with write(2),
 * after its printf and before it leaves. */
struct printer_report {
	int printed;            /* printf's return value */
	int line_buffered;      /* __flbf(stdout) */
	long long bufsize;      /* __fbufsize(stdout) */
	long long pending;      /* __fpending(stdout): not yet written */
};

enum { ATEXIT_MARK = 'A' };

static void atexit_report(void)
{
	const char c = ATEXIT_MARK;

	if (write(SIDE_FD, &c, 1) != 1)
		_exit(125);
}

/* The body of the printer: what a program's main() would do. */
static int printer_main(const char *text)
{
	struct printer_report rep;

	rep.printed = printf("%s", text);
	rep.line_buffered = __flbf(stdout) != 0;
	rep.bufsize = (long long)__fbufsize(stdout);
	rep.pending = (long long)__fpending(stdout);
	if (write(SIDE_FD, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(125);
	return 0;
}

static void __attribute__((noreturn)) printer(enum way way, const char *text)
{
	if (atexit(atexit_report) != 0)
		_exit(125);
	switch (way) {
	case WAY_RETURN:
		/* a return from main: the C runtime calls exit(main(...)) */
		exit(printer_main(text));
	case WAY_EXIT:
		printer_main(text);
		exit(0);
	case WAY_ABORT:
		/* no core file left lying around, whatever core_pattern is */
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		prctl(PR_SET_DUMPABLE, 0);
		printer_main(text);
		abort();
	default:
		printer_main(text);
		_exit(0);
	}
}

struct result {
	enum way way;
	enum sink_kind kind;
	bool newline;
	int printed;
	long long pending, received;
	bool line_buffered, atexit_ran;
	long long bufsize;
	struct wstatus w;
};

static const char *buffering(bool line, long long bufsize)
{
	return line ? "line" : bufsize <= 1 ? "none" : "full";
}

static const char *buffering_long(bool line, long long bufsize)
{
	return line ? "line-buffered" : bufsize <= 1 ? "unbuffered"
						    : "fully buffered";
}

/* Read the side channel: the report, then the atexit mark if it came. */
static int read_side(struct run *r, int fd, struct result *res)
{
	char buf[sizeof(struct printer_report) + 8];
	struct printer_report rep;
	ssize_t n = sink_drain(r, fd, buf, sizeof(buf), "the side channel");

	if (n < 0)
		return PL_EXIT_FAIL;
	if ((size_t)n < sizeof(rep))
		return pl_fail(r, "expected a %zu-byte report from the child; "
			       "%zd bytes came", sizeof(rep), n);
	memcpy(&rep, buf, sizeof(rep));
	res->printed = rep.printed;
	res->line_buffered = rep.line_buffered;
	res->bufsize = rep.bufsize;
	res->pending = rep.pending;
	res->atexit_ran = (size_t)n > sizeof(rep) &&
			  buf[sizeof(rep)] == ATEXIT_MARK;
	return PL_EXIT_OK;
}

static int run_case(struct run *r, struct sink *s, struct result *res)
{
	const char *text = res->newline ? text_nl : text_bare;
	char out[256];
	ssize_t got = 0;
	int side[2], rc;
	pid_t pid;

	if (pipe2(side, O_CLOEXEC) < 0) {
		pl_warnx(r, "cannot create a pipe: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	pid = pl_fork(r, "printer", NULL);
	if (pid == 0) {
		child_setup(s, side[1], -1);
		printer(res->way, text);
	}
	close(side[1]);
	sink_forked(s);
	if (pid < 0) {
		close(side[0]);
		return PL_EXIT_FAIL;
	}
	if (sink_streams(s))
		got = sink_read(r, s, out, sizeof(out));
	rc = got < 0 ? PL_EXIT_FAIL : read_side(r, side[0], res);
	close(side[0]);
	if (rc == PL_EXIT_OK)
		rc = collect(r, pid, &res->w);
	if (rc == PL_EXIT_OK && !sink_streams(s))
		got = sink_read(r, s, out, sizeof(out));
	if (rc != PL_EXIT_OK || got < 0)
		return PL_EXIT_FAIL;
	res->received = got;
	if ((size_t)got > strlen(text) || memcmp(out, text, (size_t)got) != 0)
		return pl_fail(r, "expected the bytes from %s to be the start "
			       "of \"%s\"; %zd other bytes came",
			       sink_what(s->kind), text, got);
	return PL_EXIT_OK;
}

/* The rules the table shows, checked on what was seen: exit() and a
 * return from main flush and run the handlers; _exit() and abort() do
 * neither, so exactly the bytes still pending in the buffer are lost. */
static int check_case(struct run *r, const struct result *c)
{
	bool flushes = c->way == WAY_EXIT || c->way == WAY_RETURN;
	long long want = flushes ? c->printed : c->printed - c->pending;

	if (c->received != want)
		return pl_fail(r, "expected %lld of %d bytes from %s after %s "
			       "(%lld were pending); %lld arrived", want,
			       c->printed, way_call[c->way], sink_what(c->kind),
			       c->pending, c->received);
	if (c->atexit_ran != flushes)
		return pl_fail(r, "expected the atexit handler %s after %s; it "
			       "%s", flushes ? "to run" : "not to run",
			       way_call[c->way], c->atexit_ran ? "ran" : "did not");
	if (c->way == WAY_ABORT ? !(c->w.signaled && c->w.sig == SIGABRT)
				: !(c->w.exited && c->w.code == 0))
		return pl_fail(r, "expected the child to %s; its status was "
			       "0x%04x", c->way == WAY_ABORT ? "die of SIGABRT"
			       : "exit with code 0", (unsigned)c->w.raw);
	return PL_EXIT_OK;
}

static void emit_case(struct run *r, const struct result *c)
{
	char quoted[32], how[64], lost[32] = "";	/* the text view shows a
							 * newline as \n */
	long long missing = c->printed - c->received;

	snprintf(quoted, sizeof(quoted), "\"%s\"",
		 c->newline ? text_nl : text_bare);
	wstatus_describe(&c->w, how, sizeof(how));
	if (missing > 0)
		snprintf(lost, sizeof(lost), "%lld LOST", missing);
	emitf(r, "case",
	     FIELDS(F_STR("exit_fn", way_name[c->way]),
		    F_STR("stdout", sink_name(c->kind)),
		    F_BOOL("newline", c->newline),
		    F_STR("buffering", buffering(c->line_buffered, c->bufsize)),
		    F_INT("bufsize", c->bufsize),
		    F_INT("printed", c->printed),
		    F_INT("pending", c->pending),
		    F_INT("received", c->received),
		    F_BOOL("atexit_ran", c->atexit_ran),
		    F_INT("raw", c->w.raw)),
	     "%-9s %-5s %-15s %-17s printed %2d  pending %2lld  arrived "
	     "%2lld  %-8s atexit %-4s %s",
	     way_call[c->way], sink_name(c->kind),
	     buffering_long(c->line_buffered, c->bufsize), quoted, c->printed,
	     c->pending, c->received, lost, c->atexit_ran ? "ran" : "not",
	     how);
}

static int stage_cases(struct run *r, enum sink_kind kind,
		       struct result res[WAYS][2])
{
	for (int nl = 1; nl >= 0; nl--)
		for (int way = 0; way < WAYS; way++) {
			struct result *c = &res[way][nl];
			struct sink s;
			int rc;

			*c = (struct result){ .way = (enum way)way,
					      .kind = kind, .newline = nl };
			rc = sink_open(r, &s, kind);
			if (rc == PL_EXIT_OK)
				rc = run_case(r, &s, c);
			sink_close(&s);
			if (rc != PL_EXIT_OK)
				return rc;
			emit_case(r, c);
			if ((rc = check_case(r, c)) != PL_EXIT_OK)
				return rc;
		}
	/* the buffering every child of this stage saw must agree */
	for (int way = 0; way < WAYS; way++)
		for (int nl = 0; nl < 2; nl++)
			if (res[way][nl].line_buffered !=
			    res[0][1].line_buffered)
				return pl_fail(r, "expected every child to see "
					       "the same buffering on %s; they "
					       "did not", sink_what(kind));
	emitf(r, "buffering",
	     FIELDS(F_STR("stdout", sink_name(kind)),
		    F_STR("mode", buffering(res[0][1].line_buffered,
					    res[0][1].bufsize)),
		    F_INT("bufsize", res[0][1].bufsize)),
	     "stdout on %s: glibc chose %s with a %lld-byte buffer: %s",
	     sink_what(kind), buffering_long(res[0][1].line_buffered,
					     res[0][1].bufsize),
	     res[0][1].bufsize, res[0][1].line_buffered
	     ? "each \n writes the line out, a text without one waits"
	     : "nothing is written until the buffer fills, fflush, or exit()");
	return PL_EXIT_OK;
}

/* What "Multiprocessing on Linux" says of exit and _exit, against the
 * cases (docs/sources.md). */
static void claims_001(struct run *r, struct result res[SINK_KINDS][WAYS][2])
{
	long long exit_min = 1000, _exit_max = 0, printed = 0, nl_got[SINK_KINDS];
	bool all_nl_lost = true, exit_full = true, _exit_skip = true;

	for (int k = 0; k < SINK_KINDS; k++) {
		const struct result *e = &res[k][WAY_EXIT][0],
				    *u = &res[k][WAY__EXIT][0];

		printed = e->printed;
		if (e->received < exit_min)
			exit_min = e->received;
		if (u->received > _exit_max)
			_exit_max = u->received;
		nl_got[k] = res[k][WAY__EXIT][1].received;
		if (nl_got[k] != 0)
			all_nl_lost = false;
		for (int nl = 0; nl < 2; nl++) {
			const struct result *x = &res[k][WAY_EXIT][nl],
					    *y = &res[k][WAY__EXIT][nl];
			if (x->received != x->printed || !x->atexit_ran)
				exit_full = false;
			if (y->atexit_ran)
				_exit_skip = false;
		}
	}
	claim(r, "exit-hello-world",
	      exit_min == printed && _exit_max == 0 ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("printed", printed),
		     F_INT("exit_received_min", exit_min),
		     F_INT("_exit_received_max", _exit_max)));
	/* a line-buffered terminal already wrote the line at the \n */
	claim(r, "exit-underscore-loses",
	      all_nl_lost ? CLAIM_HOLDS
	      : nl_got[SINK_PIPE] == 0 || nl_got[SINK_FILE] == 0 ? CLAIM_DEPENDS
	      : CLAIM_FAILS,
	      FIELDS(F_INT("printed", res[0][WAY__EXIT][1].printed),
		     F_INT("tty_received", nl_got[SINK_TTY]),
		     F_INT("pipe_received", nl_got[SINK_PIPE]),
		     F_INT("file_received", nl_got[SINK_FILE])));
	claim(r, "exit-flush-handlers",
	      exit_full && _exit_skip ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_BOOL("exit_flushed_and_ran_atexit", exit_full),
		     F_BOOL("_exit_skipped_atexit", _exit_skip)));
}

/* ---- the fork+printf puzzle (docs/sources.md) ---------------------------- */

/* A message of a puzzle process to proclab, with write(2). */
struct pz_msg {
	char kind;              /* 'F' forked, 'E' fork failed, 'D' done */
	int i, err;
	pid_t parent, child;
	long long pending;      /* bytes in the parent's stdout buffer */
};

static void pz_send(const struct pz_msg *m)
{
	if (write(SIDE_FD, m, sizeof(*m)) != (ssize_t)sizeof(*m))
		_exit(125);
}

/* The puzzle's program, with the reports added.  No fflush before fork():
 * copying unflushed buffers is the point.  The gate holds every process
 * before its exit until proclab has registered them all. */
static int puzzle_main(bool flush, int *calls)
{
	struct pz_msg m;
	char c;
	int i;

	for (i = 2; i != 0; --i) {
		pid_t parent = getpid(), pid;

		m = (struct pz_msg){ .kind = 'F', .i = i, .parent = parent,
				     .pending = (long long)__fpending(stdout) };
		pid = fork();
		if (pid == 0) {
			/* die with our parent, as pl_fork's children do */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
			    getppid() != parent)
				_exit(127);
		} else {
			if (pid < 0) {
				m.kind = 'E';
				m.err = errno;
			}
			m.child = pid;
			pz_send(&m);
		}
		__atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST);
		printf("ppid=%d, pid=%d, i=%d\n", getppid(), getpid(), i);
		if (flush)
			fflush(stdout);
	}
	m = (struct pz_msg){ .kind = 'D', .parent = getpid(),
			     .pending = (long long)__fpending(stdout) };
	pz_send(&m);
	while (read(GATE_FD, &c, 1) < 0 && errno == EINTR)
		;
	wait(NULL);
	wait(NULL);
	return 0;
}

struct puzzle {
	enum sink_kind kind;
	bool flushed;
	pid_t pid[4];           /* A, B, C, D: 0 if not seen */
	long long pending_at_fork[4];   /* for B, C, D */
	int calls, lines, copies;
};

static char pz_letter(const struct puzzle *p, pid_t pid)
{
	for (int k = 0; k < 4; k++)
		if (p->pid[k] == pid && pid != 0)
			return (char)('A' + k);
	return '?';
}

/* Who is who: A is the program; B is A's child from i=2, C A's child from
 * i=1, D B's child from i=1: the only forks the program makes.  Decided
 * once every report is in, as they come in any order. */
static int pz_roles(struct run *r, struct puzzle *p,
		    const struct pz_msg *forks, int nforks)
{
	for (int pass = 0; pass < 2; pass++)
		for (int j = 0; j < nforks; j++) {
			const struct pz_msg *m = &forks[j];
			int k = -1;

			if (pass == 0 && m->parent == p->pid[0])
				k = m->i == 2 ? 1 : 2;
			else if (pass == 1 && m->parent == p->pid[1] &&
				 m->i == 1)
				k = 3;
			else if (pass == 1 && m->parent != p->pid[0])
				return pl_fail(r, "expected the puzzle to fork "
					       "only B, C and D; pid %d forked "
					       "%d at i=%d", (int)m->parent,
					       (int)m->child, m->i);
			if (k < 0)
				continue;
			p->pid[k] = m->child;
			p->pending_at_fork[k] = m->pending;
		}
	return PL_EXIT_OK;
}

/* Whether every process that exists is at the gate: each known process
 * (A, and every child a fork report named) reported done, and no done
 * report came from a process not yet named.  A process sends the reports
 * of its forks before its own "done", so once all the known ones are done
 * no unknown one is left.  The reports of different processes come in any
 * order: C's "done" can arrive before A's report of forking C. */
static bool pz_complete(pid_t a, const struct pz_msg *forks, int nforks,
			const pid_t *done, int ndone)
{
	if (ndone != nforks + 1)
		return false;
	for (int k = -1; k < nforks; k++) {
		pid_t pid = k < 0 ? a : forks[k].child;
		bool found = false;

		for (int j = 0; j < ndone; j++)
			found |= done[j] == pid;
		if (!found)
			return false;
	}
	return true;
}

/* Read the reports until every process is at the gate; register each
 * child while it is held there, alive. */
static int pz_gather(struct run *r, int fd, struct puzzle *p,
		     struct pz_msg forks[3], int *nforks)
{
	pid_t done[4];
	int ndone = 0;

	*nforks = 0;
	while (!pz_complete(p->pid[0], forks, *nforks, done, ndone)) {
		struct pz_msg m;
		ssize_t n;

		if (!pl_wait_fd(r, fd, r->timeout_ms))
			return pl_fail(r, "expected every puzzle process to "
				       "finish its loop within %d ms; %d of %d "
				       "did", r->timeout_ms, ndone,
				       *nforks + 1);
		n = read(fd, &m, sizeof(m));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			return pl_fail(r, "expected a report from every puzzle "
				       "process; the channel %s",
				       n == 0 ? "closed early" : "failed");
		if (m.kind == 'E')
			return pl_fail(r, "a puzzle process could not fork: %s",
				       strerror(m.err));
		if (m.kind == 'D' && ndone < 4) {
			done[ndone++] = m.parent;
			continue;
		}
		if (m.kind == 'D' || *nforks == 3)
			return pl_fail(r, "expected the puzzle to make 4 "
				       "processes; pid %d made more",
				       (int)m.parent);
		if (pl_track(r, m.child, NULL) < 0)
			return PL_EXIT_FAIL;
		forks[(*nforks)++] = m;
	}
	return pz_roles(r, p, forks, *nforks);
}

static void pz_emit_fork(struct run *r, const struct puzzle *p,
			 const struct pz_msg *m)
{
	emitf(r, "puzzle_fork",
	     FIELDS(F_STR("stdout", sink_name(p->kind)),
		    F_BOOL("flushed", p->flushed), F_PID("parent", m->parent),
		    F_PID("child", m->child), F_INT("i", m->i),
		    /* the bytes of lines that name pids */
		    F_MEAS("pending", m->pending)),
	     "%c (%d) forked %c (%d) at i=%d with %lld bytes unflushed in "
	     "stdout%s", pz_letter(p, m->parent), (int)m->parent,
	     pz_letter(p, m->child), (int)m->child, m->i, m->pending,
	     m->pending > 0 ? ": the child gets a copy of them" : "");
}

/* Show every line that arrived, with how often its text came. */
static void pz_lines(struct run *r, struct puzzle *p, char *out, size_t len)
{
	char *line[32];
	int n = 0;

	for (char *s = out; s < out + len && n < 32;) {
		char *nl = memchr(s, '\n', (size_t)(out + len - s));

		if (nl == NULL)
			nl = out + len;
		*nl = '\0';
		line[n++] = s;
		s = nl + 1;
	}
	p->lines = n;
	p->copies = 0;
	/* the processes write concurrently: the order of arrival varies */
	emit_unordered_begin(r);
	for (int k = 0; k < n; k++) {
		int times = 0, first = -1, pid = 0;

		for (int j = 0; j < n; j++)
			if (strcmp(line[j], line[k]) == 0) {
				times++;
				if (first < 0)
					first = j;
			}
		if (first != k)
			p->copies++;
		sscanf(line[k], "ppid=%*d, pid=%d", &pid);
		emitf(r, "puzzle_line",
		     FIELDS(F_STR("stdout", sink_name(p->kind)),
			    F_BOOL("flushed", p->flushed), F_MEAS("n", k + 1),
			    /* names pids, and pids have more digits some day */
			    F_MEAS("text", line[k]),
			    F_CHAR("of", pz_letter(p, pid)),
			    F_INT("times", times)),
		     "  line %d: %-36s %c's line%s", k + 1, line[k],
		     pz_letter(p, pid), times > 1 ? "  <- DUPLICATED" : "");
	}
	emit_unordered_end(r);
}

static int run_puzzle(struct run *r, struct puzzle *p, int *calls)
{
	struct pz_msg forks[3];
	struct sink s;
	struct wstatus w;
	char out[1024];
	ssize_t got = 0;
	int rep[2] = { -1, -1 }, gate[2] = { -1, -1 }, nforks = 0;
	int rc;
	pid_t pid;

	*calls = 0;
	rc = sink_open(r, &s, p->kind);
	if (rc != PL_EXIT_OK)
		goto out;
	rc = PL_EXIT_FAIL;
	if (pipe2(rep, O_CLOEXEC) < 0 || pipe2(gate, O_CLOEXEC) < 0) {
		pl_warnx(r, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	pid = pl_fork(r, "puzzle", NULL);
	if (pid == 0) {
		child_setup(&s, rep[1], gate[0]);
		exit(puzzle_main(p->flushed, calls));   /* return from main */
	}
	close(rep[1]);
	close(gate[0]);
	rep[1] = gate[0] = -1;
	sink_forked(&s);
	if (pid < 0)
		goto out;
	p->pid[0] = pid;
	rc = pz_gather(r, rep[0], p, forks, &nforks);
	/* open the gate: every process waits for its children and exits */
	close(gate[1]);
	gate[1] = -1;
	if (rc != PL_EXIT_OK)
		goto out;
	if (sink_streams(&s) &&
	    (got = sink_read(r, &s, out, sizeof(out))) < 0) {
		rc = PL_EXIT_FAIL;
		goto out;
	}
	if ((rc = collect(r, pid, &w)) != PL_EXIT_OK)
		goto out;
	if (!sink_streams(&s) &&
	    (got = sink_read(r, &s, out, sizeof(out))) < 0) {
		rc = PL_EXIT_FAIL;
		goto out;
	}
	p->calls = __atomic_load_n(calls, __ATOMIC_SEQ_CST);
	for (int k = 0; k < 4; k++)     /* their names in --stable output */
		kid_set_role(r, p->pid[k], (const char *[]){ "A", "B", "C",
							    "D" }[k]);
	/* B's fork races A's second one: the reports come in either order */
	emit_unordered_begin(r);
	for (int k = 0; k < nforks; k++)
		pz_emit_fork(r, p, &forks[k]);
	emit_unordered_end(r);
	pz_lines(r, p, out, (size_t)got);
	emitf(r, "fork_stdio",
	     FIELDS(F_STR("stdout", sink_name(p->kind)),
		    F_BOOL("flushed", p->flushed),
		    F_INT("processes", nforks + 1),
		    F_INT("lines_expected", p->calls),
		    F_INT("lines_received", p->lines),
		    F_INT("duplicated", p->copies)),
	     "%s, %s: printf ran %d times in %d processes, %d lines arrived%s",
	     sink_what(p->kind), p->flushed ? "with fflush" : "without fflush",
	     p->calls, nforks + 1, p->lines,
	     p->lines > p->calls ? ": the extra ones are copies of unflushed "
	     "buffers, written again by the children that inherited them" : "");
	rc = PL_EXIT_OK;
	if (!w.exited || w.code != 0)
		rc = pl_fail(r, "expected the puzzle's first process to exit "
			     "with code 0; its status was 0x%04x",
			     (unsigned)w.raw);
	else if (p->lines != p->calls + p->copies)
		rc = pl_fail(r, "expected every line beyond the %d printf calls "
			     "to be a copy; %d lines, %d copies", p->calls,
			     p->lines, p->copies);
out:
	for (int k = 0; k < 2; k++) {
		if (rep[k] >= 0)
			close(rep[k]);
		if (gate[k] >= 0)
			close(gate[k]);
	}
	sink_close(&s);
	return rc;
}

static void claims_003(struct run *r, struct puzzle pz[SINK_KINDS][2])
{
	const struct puzzle *pipe = &pz[SINK_PIPE][0];
	bool eight_six = true, some_eight_six = false, first_only;

	for (int k = 0; k < SINK_KINDS; k++)
		if (pz[k][0].lines != 8 || pz[k][1].lines != 6)
			eight_six = false;
	/* some kinds of stdout show 8/6: a line-buffered terminal has
	 * nothing left to copy at fork time */
	for (int k = 0; k < SINK_KINDS; k++)
		if (pz[k][0].lines == 8 && pz[k][1].lines == 6)
			some_eight_six = true;
	claim(r, "exit-puzzle-lines",
	      eight_six ? CLAIM_HOLDS
	      : some_eight_six ? CLAIM_DEPENDS : CLAIM_FAILS,
	      FIELDS(F_INT("tty_unflushed", pz[SINK_TTY][0].lines),
		     F_INT("tty_flushed", pz[SINK_TTY][1].lines),
		     F_INT("pipe_unflushed", pz[SINK_PIPE][0].lines),
		     F_INT("pipe_flushed", pz[SINK_PIPE][1].lines),
		     F_INT("file_unflushed", pz[SINK_FILE][0].lines),
		     F_INT("file_flushed", pz[SINK_FILE][1].lines)));
	first_only = pipe->pending_at_fork[1] > 0 &&
		     pipe->pending_at_fork[2] == 0 &&
		     pipe->pending_at_fork[3] == 0;
	/* else B was forked before anyone printed; C got A's line and D
	 * got B's */
	claim(r, "exit-puzzle-first-child",
	      first_only ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_MEAS("pending_at_fork_b", pipe->pending_at_fork[1]),
		     F_MEAS("pending_at_fork_c", pipe->pending_at_fork[2]),
		     F_MEAS("pending_at_fork_d", pipe->pending_at_fork[3])));
}

/* ---- the stages ---------------------------------------------------------- */

/* What one run keeps between its stages: every case and every puzzle,
 * for the claims that compare them. */
struct exit_lab {
	struct result res[SINK_KINDS][WAYS][2];
	struct puzzle pz[SINK_KINDS][2];
};

/* The cases on one kind of stdout: stages tty, pipe, file. */
static int stage_kind(struct run *r, enum sink_kind kind)
{
	struct exit_lab *x = run_state(r);

	return stage_cases(r, kind, x->res[kind]);
}

static int stage_tty(struct run *r)
{
	return stage_kind(r, SINK_TTY);
}

static int stage_pipe(struct run *r)
{
	return stage_kind(r, SINK_PIPE);
}

/* The last kind, then the claims about exit and _exit, on all three. */
static int stage_file(struct run *r)
{
	struct exit_lab *x = run_state(r);
	int rc = stage_kind(r, SINK_FILE);

	if (rc == PL_EXIT_OK)
		claims_001(r, x->res);
	return rc;
}

/* The puzzle on one kind of stdout, without and with fflush: stages
 * puzzle-tty, puzzle-pipe, puzzle-file. */
static int stage_puzzle(struct run *r, enum sink_kind kind)
{
	struct exit_lab *x = run_state(r);
	int *calls, rc = PL_EXIT_OK;

	/* every printf call of the puzzle counts itself here */
	calls = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (calls == MAP_FAILED) {
		pl_warnx(r, "cannot map a shared page: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	for (int f = 0; f < 2 && rc == PL_EXIT_OK; f++) {
		x->pz[kind][f] = (struct puzzle){ .kind = kind, .flushed = f };
		rc = run_puzzle(r, &x->pz[kind][f], calls);
	}
	munmap(calls, sizeof(int));
	return rc;
}

static int stage_puzzle_tty(struct run *r)
{
	return stage_puzzle(r, SINK_TTY);
}

static int stage_puzzle_pipe(struct run *r)
{
	return stage_puzzle(r, SINK_PIPE);
}

/* The last kind, then the claims about the puzzle, on all three. */
static int stage_puzzle_file(struct run *r)
{
	struct exit_lab *x = run_state(r);
	int rc = stage_puzzle(r, SINK_FILE);

	if (rc == PL_EXIT_OK)
		claims_003(r, x->pz);
	return rc;
}

static const struct stage exit_stages[] = {
	{ "tty", "children print to a pseudo-terminal, then leave by exit(), "
	  "_exit(), return or abort()", stage_tty, NULL, NULL, NULL },
	{ "pipe", "the same, with stdout a pipe", stage_pipe, NULL, NULL,
	  NULL },
	{ "file", "the same, with stdout a regular file (unlinked)",
	  stage_file, NULL, NULL, NULL },
	{ "puzzle-tty", "the fork+printf puzzle, stdout a pseudo-terminal, "
	  "without and with fflush", stage_puzzle_tty, NULL,
	  NULL, NULL },
	{ "puzzle-pipe", "the same through a pipe", stage_puzzle_pipe, NULL,
	  NULL, NULL },
	{ "puzzle-file", "the same into a regular file", stage_puzzle_file,
	  NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct lab lab_exit_vs__exit = {
	.name = "exit-vs-_exit",
	.summary = "exit() flushes stdio and runs atexit, _exit() does not; "
		   "a fork+printf puzzle",
	.description =
		"Children print \"hello, world\" with printf, with and without "
		"a newline, to a\nterminal, a pipe and a file, and leave by "
		"exit(), _exit(), a return from\nmain, or abort().  proclab "
		"counts the bytes that arrived and whether an\natexit handler "
		"ran: the bytes lost are the ones still in the stdio buffer,\n"
		"and how many that is depends on the buffering glibc chose "
		"for stdout\n(line-buffered on a terminal, fully buffered "
		"otherwise).  Then a puzzle\nfrom an article, a fork loop with "
		"printf: on a pipe or a file, unflushed\nbuffers are copied "
		"into the children and printed twice.",
	.options = NULL,
	.stages = exit_stages,
	.state_size = sizeof(struct exit_lab),
};
