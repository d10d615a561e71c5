/* exit.c - exit() flushes stdio and runs the exit handlers, _exit() does
 * not; what that costs depends on where stdout goes.
 *
 * Stages tty, pipe, file: for each kind of stdout (the engine's sinks,
 * sink.h), children print a text with printf (with and without a trailing
 * newline) and leave through exit(), _exit(), a return from a main-like
 * function, or abort().  proclab reads what reached the terminal, the
 * pipe or the file and counts the bytes; each child reports what printf
 * returned, the buffering glibc chose and the bytes still pending in the
 * buffer, and its exit handler reports that it ran.
 *
 * Stages puzzle-tty, puzzle-pipe, puzzle-file: the fork loop with printf
 * from "Basic concepts of process management" (docs/sources.md), without
 * and with fflush.  The article's loop forks twice; --forks N (1 to 3, a
 * class's variants 2 or 3) makes it N: 2^N processes, A to D or A to H.
 * Every process reports each fork with the bytes pending in its stdout at
 * that moment, and how many printf calls it made; the lines that arrive
 * are shown, so the duplicated ones are visible.
 *
 * The children are agents (agent.h) that run one operation of this lab's
 * table and leave.  They use stdio ON PURPOSE: stdio buffering is what the
 * lab demonstrates.  They come from pl_fork(), which flushed proclab's own
 * buffers, so they start with an empty stdout buffer.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"
#include "sink.h"
#include "wstatus.h"

/* ---- what the children do ----------------------------------------------- */

enum way { WAY_EXIT, WAY__EXIT, WAY_RETURN, WAY_ABORT, WAYS };

static const char *const way_name[WAYS] = { "exit", "_exit", "return",
					    "abort" };
static const char *const way_call[WAYS] = { "exit(0)", "_exit(0)",
					    "return 0", "abort()" };

static const char text_nl[] = "hello, world\n";
static const char text_bare[] = "hello, world";

enum {
	/* {way, newline}: printf the text, answer, leave that way */
	OP_PRINT = AGENT_OP_LAB,
	/* {flushed}: the puzzle's program, which exits on its own */
	OP_PUZZLE,
	/* the gate: each puzzle process takes one before it exits */
	OP_GO,
	/* the exit handler ran */
	REP_HANDLER = AGENT_REP_LAB,
	/* a puzzle process forked: {i, its pid, the child's pid, bytes
	 * pending in its stdout} */
	REP_FORKED,
	/* a puzzle process is at the gate: {its pid, printf calls} */
	REP_DONE,
};

/* stdout as a new program has it: proclab's stdout FILE chose its
 * buffering when proclab first printed, a program's chooses at its first
 * write from what fd 1 is (isatty).  A fresh FILE on fd 1 behaves that
 * way, and glibc lets stdout be assigned (glibc manual, "Standard
 * Streams").  proclab's old FILE is empty: pl_fork flushed it. */
static void fresh_stdout(struct agent_ctx *c)
{
	FILE *f = fdopen(STDOUT_FILENO, "w");

	if (f == NULL)
		agent_fail(c, AGENT_CALL_FDOPEN);
	stdout = f;
}

/* The exit handler: exit() runs it, _exit() and abort() do not.  on_exit
 * is glibc's atexit with an argument; exit() runs both from one list. */
static void exit_handler(int status, void *arg)
{
	(void)status;
	agent_say(arg, REP_HANDLER, 0, 0, 0, 0);
}

/* The body of the printer: what a program's main() would do.  The answer
 * to OP_PRINT: {printf's return, line-buffered, buffer size, pending}. */
static int printer_main(struct agent_ctx *c, const char *text)
{
	int printed = printf("%s", text);

	agent_say(c, OP_PRINT, printed, __flbf(stdout) != 0,
		  (int64_t)__fbufsize(stdout), (int64_t)__fpending(stdout));
	return 0;
}

static int op_print(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		    int64_t out[AGENT_ARGS])
{
	const char *text = arg[1] ? text_nl : text_bare;

	(void)out;
	fresh_stdout(c);
	errno = ENOMEM;         /* on_exit does not always set it */
	if (on_exit(exit_handler, c) != 0)
		agent_fail(c, AGENT_CALL_ON_EXIT);
	switch (arg[0]) {
	case WAY_RETURN:
		/* a return from main: the C runtime calls exit(main(...)) */
		exit(printer_main(c, text));
	case WAY_EXIT:
		printer_main(c, text);
		exit(0);
	case WAY_ABORT:
		/* no core file left lying around, whatever core_pattern is */
		if (setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) < 0)
			agent_fail(c, AGENT_CALL_SETRLIMIT);
		if (prctl(PR_SET_DUMPABLE, 0) < 0)
			agent_fail(c, AGENT_CALL_DUMPABLE);
		printer_main(c, text);
		abort();
	default:
		printer_main(c, text);
		_exit(0);
	}
}

/* The most forks the puzzle's loop makes (--forks): 2^3 processes, whose
 * lines still fit on a screen. */
#define PZ_FORKS_MAX 3
#define PZ_PROCS_MAX (1 << PZ_FORKS_MAX)
/* the most lines it prints: each of the 2^N processes ends with N in its
 * buffer (unflushed, fully buffered); 24 for N = 3 */
#define PZ_LINES_MAX 32

/* The article's program (`for (i = forks; i != 0; --i)`: 2 forks in the
 * article), with the reports added.  No fflush before
 * fork(): copying unflushed buffers is the point.  Every process counts
 * its own printf calls (a child starts from 0, not from its parent's
 * count) and waits at the gate before it exits, until proclab has
 * registered them all; then it waits for its children and returns from
 * main. */
static int puzzle_main(struct agent_ctx *c, bool flush, int forks)
{
	struct agent_msg m;
	int calls = 0;

	for (int i = forks; i != 0; --i) {
		pid_t parent = getpid(), pid;
		int64_t pending = (int64_t)__fpending(stdout);

		pid = fork();
		if (pid < 0)
			agent_fail(c, AGENT_CALL_FORK);
		if (pid == 0) {
			/* die with our parent, as every agent does */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
				agent_fail(c, AGENT_CALL_PRCTL);
			if (getppid() != parent)
				_exit(AGENT_EXIT_ORPHANED);
			calls = 0;
		} else {
			agent_say(c, REP_FORKED, i, parent, pid, pending);
		}
		calls++;
		printf("ppid=%d, pid=%d, i=%d\n", getppid(), getpid(), i);
		if (flush)
			fflush(stdout);
	}
	agent_say(c, REP_DONE, getpid(), calls, 0, 0);
	/* the gate; at EOF (proclab is gone) agent_next _exits */
	agent_next(c, &m, false);
	if (m.kind != OP_GO)
		_exit(AGENT_EXIT_PROTOCOL);
	/* every child it made, however many that is (none for a leaf) */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

static int op_puzzle(struct agent_ctx *c, const int64_t arg[AGENT_ARGS],
		     int64_t out[AGENT_ARGS])
{
	(void)out;
	fresh_stdout(c);
	/* a return from main */
	exit(puzzle_main(c, arg[0] != 0, (int)arg[1]));
}

static const struct agent_op_def exit_ops[] = {
	{ OP_PRINT, "print", op_print },
	{ OP_PUZZLE, "puzzle", op_puzzle },
	{ OP_GO, "go", NULL },
	{ REP_HANDLER, "exit handler", NULL },
	{ REP_FORKED, "forked", NULL },
	{ REP_DONE, "done", NULL },
	{ 0, NULL, NULL },
};

/* ---- proclab's side: one case -------------------------------------------- */

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

/* Start an agent `role` with the sink as its stdout. */
static struct agent *start_on(struct run *r, struct sink *s,
			      const char *role, int *rc)
{
	struct agent *a = agent_new(r, role);

	*rc = PL_EXIT_FAIL;
	if (a == NULL)
		return NULL;
	if ((*rc = agent_give_fd(r, a, s->wr, STDOUT_FILENO)) == 0)
		*rc = agent_start(r, a, NULL);
	/* the child holds its end now, or never will */
	sink_forked(s);
	return *rc == 0 ? a : NULL;
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

static int run_case(struct run *r, struct sink *s, struct result *res)
{
	const char *text = res->newline ? text_nl : text_bare;
	int64_t args[AGENT_ARGS] = { res->way, res->newline, 0, 0 };
	struct agent_msg m;
	struct agent *a;
	char out[256];
	ssize_t got = 0;
	int rc;

	if ((a = start_on(r, s, "printer", &rc)) == NULL)
		return rc;
	agent_ending(a);        /* it leaves on its own */
	if ((rc = agent_do_args(r, a, OP_PRINT, args, &m)) != 0)
		return rc;
	res->printed = (int)m.v[0];
	res->line_buffered = m.v[1] != 0;
	res->bufsize = m.v[2];
	res->pending = m.v[3];
	if (sink_streams(s) && (got = sink_read(r, s, out, sizeof(out))) < 0)
		return PL_EXIT_FAIL;
	if ((rc = collect(r, a->pid, &res->w)) != PL_EXIT_OK)
		return rc;
	agent_close(a);
	/* collected: whatever it said has come */
	if ((rc = agent_take(r, a, REP_HANDLER, NULL, &res->atexit_ran)) != 0)
		return rc;
	if (!sink_streams(s) && (got = sink_read(r, s, out, sizeof(out))) < 0)
		return PL_EXIT_FAIL;
	res->received = got;
	if ((size_t)got > strlen(text) || memcmp(out, text, (size_t)got) != 0)
		return pl_fail(r, "expected the bytes from %s to be the start "
			       "of \"%s\"; %zd other bytes came",
			       sink_what(s->kind), text, got);
	return PL_EXIT_OK;
}

/* The rules the cases show, checked on what was seen: exit() and a
 * return from main flush and run the handlers; _exit() and abort() do
 * neither, so exactly the bytes still pending in the buffer are lost. */
static int check_case(struct run *r, const struct result *c)
{
	bool flushes = c->way == WAY_EXIT || c->way == WAY_RETURN;
	long long want = flushes ? c->printed : c->printed - c->pending;

	if (c->received != want)
		return pl_fail(r, "expected %lld of %d bytes from %s after %s "
			       "(%lld were pending); %lld arrived", want,
			       c->printed, sink_what(c->kind), way_call[c->way],
			       c->pending, c->received);
	if (c->atexit_ran != flushes)
		return flushes
		       ? pl_fail(r, "expected the exit handler to run after "
				 "%s; it did not", way_call[c->way])
		       : pl_fail(r, "expected the exit handler not to run "
				 "after %s; it ran", way_call[c->way]);
	if (c->way == WAY_ABORT ? !(c->w.signaled && c->w.sig == SIGABRT)
				: !(c->w.exited && c->w.code == 0))
		return pl_fail(r, "expected the child to %s; its status was "
			       "0x%04x", c->way == WAY_ABORT ? "die of SIGABRT"
			       : "exit with code 0", (unsigned)c->w.raw);
	return PL_EXIT_OK;
}

static void emit_case(struct run *r, const struct result *c)
{
	long long lost = c->printed - c->received;
	char how[64];

	wstatus_describe_text(&c->w, how, sizeof(how));
	emit_form(r, "case", c->w.signaled ? (lost > 0 ? "lost-killed"
						       : "killed")
					   : lost > 0 ? "lost" : NULL,
	     FIELDS(F_STR("exit_fn", way_name[c->way]),
		    F_STR("stdout", sink_name(c->kind)),
		    F_BOOL("newline", c->newline),
		    F_STR("buffering", buffering(c->line_buffered, c->bufsize)),
		    F_INT("bufsize", c->bufsize),
		    F_INT("printed", c->printed),
		    F_INT("pending", c->pending),
		    F_INT("received", c->received),
		    F_BOOL("atexit_ran", c->atexit_ran),
		    F_INT("raw", c->w.raw),
		    F_TEXT("call", way_call[c->way]),
		    F_TEXT("text", c->newline ? text_nl : text_bare),
		    F_TEXT("handler", c->atexit_ran ? _("the exit handler ran")
						    : _("no exit handler ran")),
		    F_TEXT("how", how)));
}

/* The cases on one kind of stdout, then the buffering they all saw. */
static int stage_cases(struct run *r, enum sink_kind kind,
		       struct result res[WAYS][2])
{
	const struct result *first = &res[0][1];

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
			if (res[way][nl].line_buffered != first->line_buffered)
				return pl_fail(r, "expected every child to see "
					       "the same buffering on %s; they "
					       "did not", sink_what(kind));
	emit_form(r, "buffering", buffering(first->line_buffered,
					    first->bufsize),
	     FIELDS(F_STR("stdout", sink_name(kind)),
		    F_STR("mode", buffering(first->line_buffered,
					    first->bufsize)),
		    F_INT("bufsize", first->bufsize),
		    F_TEXT("what", sink_what(kind))));
	return PL_EXIT_OK;
}

/* What "Multiprocessing on Linux" says of exit and _exit, against the
 * cases (docs/sources.md). */
static void claims_exit(struct run *r, struct result res[SINK_KINDS][WAYS][2])
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

/* ---- proclab's side: the fork+printf puzzle ------------------------------ */

/* A fork a puzzle process reported. */
struct pz_fork {
	int i;
	pid_t parent, child;
	long long pending;      /* bytes in the parent's stdout buffer */
};

struct puzzle {
	enum sink_kind kind;
	bool flushed;
	int loops;              /* --forks: the loop's count, N */
	int procs;              /* 2^N: the processes it makes */
	pid_t pid[PZ_PROCS_MAX];        /* A, B, C, ...: 0 if not seen */
	long long pending_at_fork[PZ_PROCS_MAX];        /* for B, C, ... */
	struct pz_fork forks[PZ_PROCS_MAX - 1];
	int nforks;
	int calls, lines, copies;
};

static const char *const pz_role[PZ_PROCS_MAX] = { "A", "B", "C", "D", "E",
						   "F", "G", "H" };

/* "A".."H", or "?" for a pid the puzzle did not make. */
static const char *pz_letter(const struct puzzle *p, pid_t pid)
{
	for (int k = 0; k < p->procs; k++)
		if (p->pid[k] == pid && pid != 0)
			return pz_role[k];
	return "?";
}

/* Who is who, from the reports (they come in any order): A is the
 * program; the child a process forks at i gets the letter 2^(N-i) after
 * its parent's.  With the article's N = 2: B is A's child from i=2, C A's
 * child from i=1, D B's child from i=1; with N = 3: B from i=3, C and D
 * from i=2 (A's, B's), E to H from i=1 (A's to D's).  The letters of one
 * i are given once every earlier one is known; a fork that fits nowhere
 * is a failure. */
static int pz_roles(struct run *r, struct puzzle *p)
{
	for (int i = p->loops; i >= 1; i--)
		for (int j = 0; j < p->nforks; j++) {
			const struct pz_fork *f = &p->forks[j];
			int step = 1 << (p->loops - i), parent = -1, k;

			if (f->i < 1 || f->i > p->loops)
				return pl_fail(r, "expected the puzzle to fork "
					       "at i=%d to i=1; pid %d forked "
					       "%d at i=%d", p->loops,
					       (int)f->parent, (int)f->child,
					       f->i);
			if (f->i != i)
				continue;
			/* the processes that exist before the forks at i */
			for (k = 0; k < step; k++)
				if (p->pid[k] == f->parent && f->parent != 0)
					parent = k;
			k = parent + step;
			if (parent < 0 || p->pid[k] != 0)
				return pl_fail(r, "expected the puzzle to fork "
					       "only %s to %s, each once; pid %d "
					       "forked %d at i=%d", pz_role[1],
					       pz_role[p->procs - 1],
					       (int)f->parent, (int)f->child,
					       f->i);
			p->pid[k] = f->child;
			p->pending_at_fork[k] = f->pending;
		}
	return PL_EXIT_OK;
}

/* Whether every process that exists is at the gate: each known process
 * (A, and every child a fork report named) reported done, and no done
 * report came from a process not yet named.  A process sends the reports
 * of its forks before its own "done", so once all the known ones are done
 * no unknown one is left.  The reports of different processes come in any
 * order: C's "done" can arrive before A's report of forking C. */
static bool pz_complete(const struct puzzle *p, const pid_t *done, int ndone)
{
	if (ndone != p->nforks + 1)
		return false;
	for (int k = -1; k < p->nforks; k++) {
		pid_t pid = k < 0 ? p->pid[0] : p->forks[k].child;
		bool found = false;

		for (int j = 0; j < ndone; j++)
			found |= done[j] == pid;
		if (!found)
			return false;
	}
	return true;
}

/* Take the reports until every process is at the gate; register each
 * child while it is held there, alive. */
static int pz_gather(struct run *r, const struct agent *a, struct puzzle *p)
{
	pid_t done[PZ_PROCS_MAX];
	int ndone = 0, rc;

	p->nforks = p->calls = 0;
	while (!pz_complete(p, done, ndone)) {
		struct agent_msg m;

		if ((rc = agent_expect(r, a, AGENT_ANY, &m)) != 0)
			return rc;
		if (m.kind != REP_DONE && m.kind != REP_FORKED)
			return pl_fail(r, "expected reports of forks from the "
				       "puzzle; report %d came", (int)m.kind);
		if ((m.kind == REP_DONE && ndone == p->procs) ||
		    (m.kind == REP_FORKED && p->nforks == p->procs - 1))
			return pl_fail(r, "expected the puzzle to make %d "
				       "processes; pid %lld made more", p->procs,
				       (long long)m.v[m.kind == REP_DONE ? 0 : 1]);
		if (m.kind == REP_DONE) {
			done[ndone++] = (pid_t)m.v[0];
			p->calls += (int)m.v[1];
			continue;
		}
		if (pl_track(r, (pid_t)m.v[2], NULL) < 0)
			return PL_EXIT_FAIL;
		p->forks[p->nforks++] = (struct pz_fork){
			.i = (int)m.v[0], .parent = (pid_t)m.v[1],
			.child = (pid_t)m.v[2], .pending = m.v[3] };
	}
	return pz_roles(r, p);
}

static void pz_emit_fork(struct run *r, const struct puzzle *p,
			 const struct pz_fork *f)
{
	emit_form(r, "puzzle_fork", f->pending > 0 ? NULL : "empty",
	     FIELDS(F_STR("stdout", sink_name(p->kind)),
		    F_BOOL("flushed", p->flushed), F_PID("parent", f->parent),
		    F_PID("child", f->child), F_INT("i", f->i),
		    /* the bytes of lines that name pids */
		    F_MEAS("pending", f->pending),
		    F_TEXT("parent_is", pz_letter(p, f->parent)),
		    F_TEXT("child_is", pz_letter(p, f->child))));
}

/* Show every line that arrived, with how often its text came. */
static void pz_lines(struct run *r, struct puzzle *p, char *out, size_t len)
{
	char *line[PZ_LINES_MAX];
	int n = 0;

	for (char *s = out; s < out + len && n < PZ_LINES_MAX;) {
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
		emit_form(r, "puzzle_line", times > 1 ? "copies" : NULL,
		     FIELDS(F_STR("stdout", sink_name(p->kind)),
			    F_BOOL("flushed", p->flushed), F_MEAS("n", k + 1),
			    /* names pids, and pids have more digits some day */
			    F_MEAS("text", line[k]),
			    F_CHAR("of", pz_letter(p, pid)[0]),
			    F_INT("times", times)));
	}
	emit_unordered_end(r);
}

/* A class's --quiz: how many lines came, before they are shown.  Lines
 * are counted as pz_lines() counts them (a last one without a newline
 * counts too); `proclab grade` checks the answer against the fork_stdio
 * event that follows. */
static void ask_lines(struct run *r, const struct puzzle *p, const char *out,
		      size_t len)
{
	char lines[16];
	int n = 0;

	for (const char *s = out; s < out + len && n < PZ_LINES_MAX; n++) {
		const char *nl = memchr(s, '\n', (size_t)(out + len - s));

		s = nl != NULL ? nl + 1 : out + len;
	}
	snprintf(lines, sizeof(lines), "%d", n);
	quiz_value(r, "lines", p->pid[0], lines, NULL,
		   FIELDS(F_STR("stdout", sink_name(p->kind)),
			  F_BOOL("flushed", p->flushed),
			  F_TEXT("what", sink_what(p->kind)),
			  F_TEXT("fflush", p->flushed ? _("with") : _("without"))));
}

static int run_puzzle(struct run *r, struct sink *s, struct puzzle *p)
{
	struct agent *a;
	struct wstatus w;
	char out[4096];
	ssize_t got = 0;
	int rc;

	if ((a = start_on(r, s, "puzzle", &rc)) == NULL)
		return rc;
	p->pid[0] = a->pid;
	if ((rc = agent_send(r, a, OP_PUZZLE,
			     (int64_t[AGENT_ARGS]){ p->flushed, p->loops, 0,
						    0 })) != 0 ||
	    (rc = pz_gather(r, a, p)) != 0)
		return rc;
	/* open the gate: every process takes one "go", waits for its
	 * children and exits */
	agent_ending(a);
	for (int k = 0; k <= p->nforks; k++)
		if ((rc = agent_send(r, a, OP_GO, (int64_t[AGENT_ARGS]){ 0 })) != 0)
			return rc;
	if (sink_streams(s) && (got = sink_read(r, s, out, sizeof(out))) < 0)
		return PL_EXIT_FAIL;
	if ((rc = collect(r, a->pid, &w)) != PL_EXIT_OK)
		return rc;
	agent_close(a);
	if (!sink_streams(s) && (got = sink_read(r, s, out, sizeof(out))) < 0)
		return PL_EXIT_FAIL;
	/* their names in --stable output */
	for (int k = 0; k < p->procs; k++)
		kid_set_role(r, p->pid[k], pz_role[k]);
	ask_lines(r, p, out, (size_t)got);
	/* B's fork races A's second one: the reports come in either order */
	emit_unordered_begin(r);
	for (int k = 0; k < p->nforks; k++)
		pz_emit_fork(r, p, &p->forks[k]);
	emit_unordered_end(r);
	pz_lines(r, p, out, (size_t)got);
	emit_form(r, "fork_stdio", p->lines > p->calls ? "copies" : NULL,
	     FIELDS(F_STR("stdout", sink_name(p->kind)),
		    F_BOOL("flushed", p->flushed),
		    F_INT("processes", p->nforks + 1),
		    F_INT("lines_expected", p->calls),
		    F_INT("lines_received", p->lines),
		    F_INT("duplicated", p->copies),
		    F_TEXT("what", sink_what(p->kind)),
		    F_TEXT("fflush", p->flushed ? _("with") : _("without"))));
	if (!w.exited || w.code != 0)
		return pl_fail(r, "expected the puzzle's first process to exit "
			       "with code 0; its status was 0x%04x",
			       (unsigned)w.raw);
	if (p->lines != p->calls + p->copies)
		return pl_fail(r, "expected every line beyond the %d printf "
			       "calls to be a copy; %d lines, %d copies",
			       p->calls, p->lines, p->copies);
	return PL_EXIT_OK;
}

/* What "Basic concepts of process management" says of its fork loop,
 * against the puzzles (docs/sources.md).  The article's loop forks twice:
 * "eight lines without fflush, six with".  With --forks N the same
 * reasoning gives N * 2^N lines without (each of the 2^N processes ends
 * with the N lines of its line of descent in its buffer) and 2^(N+1) - 2
 * with (one per printf call); the verdict compares with those. */
static void claims_puzzle(struct run *r, struct puzzle pz[SINK_KINDS][2])
{
	const struct puzzle *pipe = &pz[SINK_PIPE][0];
	int n = pipe->loops, unflushed = n << n, flushed = (2 << n) - 2;
	bool eight_six = true, some_eight_six = false, first_only;

	for (int k = 0; k < SINK_KINDS; k++)
		if (pz[k][0].lines != unflushed || pz[k][1].lines != flushed)
			eight_six = false;
	/* some kinds of stdout show 8/6: a line-buffered terminal has
	 * nothing left to copy at fork time */
	for (int k = 0; k < SINK_KINDS; k++)
		if (pz[k][0].lines == unflushed && pz[k][1].lines == flushed)
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
	first_only = pipe->pending_at_fork[1] > 0;
	for (int k = 2; k < pipe->procs; k++)
		first_only = first_only && pipe->pending_at_fork[k] == 0;
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

/* Before the first stage: the children's operations. */
static int exit_setup(struct run *r)
{
	const struct agent_config cfg = { exit_ops, NULL, NULL };

	return agent_init(r, &cfg);
}

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
		claims_exit(r, x->res);
	return rc;
}

/* The puzzle on one kind of stdout, without and with fflush: stages
 * puzzle-tty, puzzle-pipe, puzzle-file. */
static int stage_puzzle(struct run *r, enum sink_kind kind)
{
	struct exit_lab *x = run_state(r);
	int rc = PL_EXIT_OK;

	for (int f = 0; f < 2 && rc == PL_EXIT_OK; f++) {
		struct puzzle *p = &x->pz[kind][f];
		struct sink s;

		*p = (struct puzzle){ .kind = kind, .flushed = f,
				      .loops = (int)opt_val(r, "forks") };
		p->procs = 1 << p->loops;
		rc = sink_open(r, &s, kind);
		if (rc == PL_EXIT_OK)
			rc = run_puzzle(r, &s, p);
		sink_close(&s);
	}
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
		claims_puzzle(r, x->pz);
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
	  "without and with fflush", stage_puzzle_tty, NULL, NULL, NULL },
	{ "puzzle-pipe", "the same through a pipe", stage_puzzle_pipe, NULL,
	  NULL, NULL },
	{ "puzzle-file", "the same into a regular file", stage_puzzle_file,
	  NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* The text view of each event.  JSON has the fields that are not F_TEXT:
 *   case: exit_fn, stdout, newline, buffering, bufsize, printed, pending,
 *         received, atexit_ran, raw; text only: call, text, handler, how
 *   buffering: stdout, mode, bufsize; text only: what
 *   puzzle_fork: stdout, flushed, parent, child, i, pending; text only:
 *         parent_is, child_is (A, B, C, D; with --stable the pid after
 *         its letter is left out, the letter being its role)
 *   puzzle_line: stdout, flushed, n, text, of, times
 *   fork_stdio: stdout, flushed, processes, lines_expected,
 *         lines_received, duplicated; text only: what, fflush */
static const struct sentence exit_sentences[] = {
	{ "case", NULL, "printf(\"{text}\"); {call}: {received} of {printed} "
	  "bytes arrived ({pending} still buffered at the end); {handler}",
	  NULL, NULL },
	{ "case", "lost", "printf(\"{text}\"); {call}: {received} of "
	  "{printed} bytes arrived; the {pending} still buffered were LOST; "
	  "{handler}", NULL, NULL },
	{ "case", "killed", "printf(\"{text}\"); {call}: {received} of "
	  "{printed} bytes arrived ({pending} still buffered at the end); "
	  "{handler}; {how}", NULL, NULL },
	{ "case", "lost-killed", "printf(\"{text}\"); {call}: {received} of "
	  "{printed} bytes arrived; the {pending} still buffered were LOST; "
	  "{handler}; {how}", NULL, NULL },
	{ "buffering", "line", "glibc made stdout on {what} line-buffered, "
	  "with a {bufsize}-byte buffer: each \\n writes the line out; text "
	  "without one waits", NULL, NULL },
	{ "buffering", "full", "glibc made stdout on {what} fully buffered, "
	  "with a {bufsize}-byte buffer: nothing is written before it fills, "
	  "fflush or exit()", NULL, NULL },
	{ "buffering", "none", "glibc made stdout on {what} unbuffered: each "
	  "printf writes at once", NULL, NULL },
	{ "puzzle_fork", NULL, "{parent_is} {parent} forked {child_is} "
	  "{child} at i={i} with {pending} byte in its stdout buffer: "
	  "{child_is} gets a copy", "{parent_is} {parent} forked {child_is} "
	  "{child} at i={i} with {pending} bytes in its stdout buffer: "
	  "{child_is} gets a copy", "pending" },
	{ "puzzle_fork", "empty", "{parent_is} {parent} forked {child_is} "
	  "{child} at i={i}; its stdout buffer was empty", NULL, NULL },
	{ "puzzle_line", NULL, "line {n}: {text} ({of}'s)", NULL, NULL },
	{ "puzzle_line", "copies", "line {n}: {text} ({of}'s; came {times} "
	  "times)", NULL, NULL },
	{ "fork_stdio", NULL, "{what}, {fflush} fflush: printf ran "
	  "{lines_expected} times in {processes} processes; "
	  "{lines_received} lines arrived", NULL, NULL },
	{ "fork_stdio", "copies", "{what}, {fflush} fflush: printf ran "
	  "{lines_expected} times in {processes} processes; "
	  "{lines_received} lines arrived, {duplicated} a copy of a line "
	  "still in a buffer at a fork", "{what}, {fflush} fflush: printf "
	  "ran {lines_expected} times in {processes} processes; "
	  "{lines_received} lines arrived, {duplicated} of them copies of "
	  "lines still in a buffer at a fork", "duplicated" },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct lab_option exit_options[] = {
	{ "forks", "N", 1, PZ_FORKS_MAX, 2, "how many times the fork+printf "
	  "puzzle's loop forks: 2^N processes, N*2^N lines through a pipe "
	  "without fflush (the article's 2: A to D, 8 lines; 1 copies "
	  "nothing)" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* What a class's variants change (variant.h): the puzzle's forks.  Not 1:
 * a single fork comes before the first printf, so nothing is copied and
 * the lesson is gone. */
static const struct lab_vary exit_vary[] = {
	{ "forks", 2, PZ_FORKS_MAX },
	{ NULL, 0, 0 },
};

const struct lab lab_exit_vs__exit = {
	.name = "exit-vs-_exit",
	.summary = "exit() flushes stdio and runs handlers; _exit() does not",
	.description =
		"Children print \"hello, world\" with printf, with and without "
		"a newline, to a\nterminal, a pipe and a file, and leave by "
		"exit(), _exit(), a return from\nmain, or abort().  proclab "
		"counts the bytes that arrived and whether an\nexit handler "
		"ran: the bytes lost are the ones still in the stdio buffer,\n"
		"and how many that is depends on the buffering glibc chose "
		"for stdout\n(line-buffered on a terminal, fully buffered "
		"otherwise).  Then a puzzle\nfrom an article, a fork loop with "
		"printf: on a pipe or a file, unflushed\nbuffers are copied "
		"into the children and printed twice.",
	.options = exit_options,
	.vary = exit_vary,
	.run = exit_setup,
	.stages = exit_stages,
	.sentences = exit_sentences,
	.state_size = sizeof(struct exit_lab),
};
