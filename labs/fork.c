/* fork.c - one call, two returns: what fork() gives each side, and what
 * the two sides share.
 *
 * proclab forks a "parent" (role parent), and the parent itself calls
 * fork() for its children, so that both sides of the fork are processes
 * the observer watches and a student can find with ps.  The parent and
 * its children run only async-signal-safe code; they tell proclab what
 * they saw (fork's return value, getpid, getppid, a value in memory)
 * through one pipe, as fixed-size records small enough to be written
 * atomically by any of them, and proclab checks it against /proc.
 *
 * Stages: fork (parent and children block: S) -> returns (what fork
 * returned on each side, against /proc) -> order (who ran first after
 * each fork, stamped from a shared page) -> memory (a variable the
 * children change keeps its value in the parent) -> cow (the first child
 * reads, then writes the parent's pages: minor faults from /proc) -> run
 * (R) -> block (S) -> exit (Z: the parent has not waited) -> reap (the
 * parent's waitpid, then X; the parent exits and proclab reaps it).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"
#include "wstatus.h"

#define FORK_MAX_CHILDREN 32    /* the observer watches them all */

static const struct lab_option fork_options[] = {
	{ "children", "N", 1, FORK_MAX_CHILDREN, 1,
	  "how many children the parent forks; at most what RLIMIT_NPROC "
	  "leaves you" },
	{ "pages", "N", 1, 65536, 256,
	  "pages of private memory the parent fills before forking; the "
	  "first child reads, then writes them all" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* ---- what the parent and children report ------------------------------ */

enum rec_kind {
	REC_FORKED = 1, /* parent: fork #who returned v0; getpid, getppid, stamp */
	REC_HELLO,      /* child: fork returned v0; getpid, getppid, stamp */
	REC_READY,      /* parent: getpid, getppid, x before forking, &x */
	REC_SHARED,     /* parent: child #who's stamp read from the shared page */
	REC_VALUE,      /* x as the process reads it now, and &x */
	REC_ACK,        /* command v0 done */
	REC_REAPED,     /* parent: waitpid(v0) gave status v1, errno v2 */
	REC_ERROR,      /* what v0 failed with errno v1 (then _exit) */
};

enum { ERR_FORK = 1, ERR_MMAP };

/* 40 bytes, far below PIPE_BUF: each write(2) of one arrives whole, even
 * with several writers on the pipe. */
struct rec {
	int32_t kind;
	int32_t who;            /* 0: the parent; i: child i */
	int64_t v[4];
};

/* Commands, two bytes: the operation and an argument. */
enum {
	CMD_SHARED = 'o',       /* parent: read the children's stamps */
	CMD_VALUE = 'v',        /* both: child sets x, parent reads it */
	CMD_REAP = 'w',         /* parent: waitpid() child arg */
	CMD_READ = 'r',         /* child: read every page */
	CMD_WRITE = 'W',        /* child: write every page */
	CMD_SPIN = 's',         /* child: spin until the next command */
	CMD_BLOCK = 'b',        /* child: block in read(2) */
	CMD_EXIT = 'x',         /* child: _exit(its number) */
};

/* Everything the parent needs, set up before pl_fork(). */
struct plan {
	int nchildren;
	long long pages;
	size_t page_size;
	int rep[2];                             /* records -> proclab */
	int pcmd[2];                            /* proclab -> parent */
	int ccmd[FORK_MAX_CHILDREN + 1][2];     /* proclab -> child i */
};

/* A page shared by the parent and its children (MAP_SHARED): the run
 * order stamps.  Shared memory is never copied, so the parent reads
 * what the children wrote. */
struct stamps {
	unsigned next;
	unsigned child[FORK_MAX_CHILDREN + 1];
};

/* The variable whose copies the children change. */
static volatile int x = 1;

/* ---- inside the parent and the children: async-signal-safe only ------- */

static void say(const struct plan *pl, int kind, int who, int64_t a,
		int64_t b, int64_t c, int64_t d)
{
	struct rec m = { kind, who, { a, b, c, d } };

	if (write(pl->rep[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(126);
}

static void __attribute__((noreturn)) fail_out(const struct plan *pl,
					       int who, int what)
{
	say(pl, REC_ERROR, who, what, errno, 0, 0);
	_exit(125);
}

/* The next command on fd; spinning on the CPU (R) or blocked (S).  EOF:
 * proclab closed the pipe or is gone, and so are we. */
static void next_cmd(int fd, unsigned char m[2], bool spin)
{
	ssize_t n;

	if (spin && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		_exit(126);
	do
		n = read(fd, m, 2);
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	if (spin && fcntl(fd, F_SETFL, 0) < 0)
		_exit(126);
	if (n != 2)
		_exit(0);
}

static void __attribute__((noreturn))
child_main(const struct plan *pl, int i, pid_t returned, unsigned stamp,
	   struct stamps *sh, volatile char *mem, pid_t parent)
{
	static const char comm[16] = "proclab-child";
	unsigned char m[2];
	bool spin = false;

	/* die with the parent; if it died before the request, go now */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	prctl(PR_SET_NAME, comm);
	/* keep only our own command pipe and the report pipe */
	close(pl->pcmd[0]);
	for (int k = i + 1; k <= pl->nchildren; k++)
		close(pl->ccmd[k][0]);
	sh->child[i] = stamp;
	say(pl, REC_HELLO, i, returned, getpid(), getppid(), stamp);
	for (;;) {
		next_cmd(pl->ccmd[i][0], m, spin);
		spin = false;
		switch (m[0]) {
		case CMD_READ: {
			char sum = 0;

			for (long long p = 0; p < pl->pages; p++)
				sum ^= mem[p * (long long)pl->page_size];
			say(pl, REC_ACK, i, m[0], sum, 0, 0);
			break;
		}
		case CMD_WRITE:
			for (long long p = 0; p < pl->pages; p++)
				mem[p * (long long)pl->page_size] = 2;
			say(pl, REC_ACK, i, m[0], 0, 0, 0);
			break;
		case CMD_VALUE:
			x = i + 1;
			say(pl, REC_VALUE, i, x, (int64_t)(uintptr_t)&x, 0, 0);
			break;
		case CMD_SPIN:
			say(pl, REC_ACK, i, m[0], 0, 0, 0);
			spin = true;
			break;
		case CMD_BLOCK:
			say(pl, REC_ACK, i, m[0], 0, 0, 0);
			break;
		case CMD_EXIT:
			_exit(i);
		default:
			_exit(124);
		}
	}
}

static void __attribute__((noreturn)) parent_main(struct plan *pl)
{
	pid_t kids[FORK_MAX_CHILDREN + 1] = { 0 }, me = getpid();
	size_t len = (size_t)pl->pages * pl->page_size;
	volatile char *mem;
	struct stamps *sh;
	unsigned char m[2];

	close(pl->rep[0]);
	close(pl->pcmd[1]);
	for (int k = 1; k <= pl->nchildren; k++)
		close(pl->ccmd[k][1]);

	/* private pages, each written now so that it exists before the fork;
	 * no huge pages, so that one fault is one 4 KiB page */
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail_out(pl, 0, ERR_MMAP);
	if (madvise((void *)mem, len, MADV_NOHUGEPAGE) < 0)
		fail_out(pl, 0, ERR_MMAP);
	for (size_t off = 0; off < len; off += pl->page_size)
		mem[off] = 1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		fail_out(pl, 0, ERR_MMAP);
	say(pl, REC_READY, 0, me, getppid(), x, (int64_t)(uintptr_t)&x);

	for (int i = 1; i <= pl->nchildren; i++) {
		pid_t pid = fork();
		/* the first thing either side does after fork() returns:
		 * the stamps tell who got there first */
		unsigned stamp = __atomic_fetch_add(&sh->next, 1,
						    __ATOMIC_SEQ_CST);

		if (pid == 0)
			child_main(pl, i, pid, stamp, sh, mem, me);
		if (pid < 0)
			fail_out(pl, i, ERR_FORK);
		kids[i] = pid;
		close(pl->ccmd[i][0]);
		say(pl, REC_FORKED, i, pid, me, getppid(), stamp);
	}

	for (;;) {
		next_cmd(pl->pcmd[0], m, false);
		switch (m[0]) {
		case CMD_SHARED:
			for (int i = 1; i <= pl->nchildren; i++)
				say(pl, REC_SHARED, i,
				    __atomic_load_n(&sh->child[i],
						    __ATOMIC_SEQ_CST),
				    __atomic_load_n(&sh->next,
						    __ATOMIC_SEQ_CST), 0, 0);
			break;
		case CMD_VALUE:
			say(pl, REC_VALUE, 0, x, (int64_t)(uintptr_t)&x, 0, 0);
			break;
		case CMD_REAP: {
			int i = m[1], st = 0;
			pid_t got;

			if (i < 1 || i > pl->nchildren)
				_exit(124);
			do
				got = waitpid(kids[i], &st, 0);
			while (got < 0 && errno == EINTR);
			say(pl, REC_REAPED, i, kids[i], st,
			    got < 0 ? errno : 0, 0);
			break;
		}
		default:
			_exit(124);
		}
	}
}

/* ---- proclab's side ---------------------------------------------------- */

struct side {
	struct watched *w;
	pid_t pid;              /* the parent's fork return for a child */
	bool forked, hello, shared, valued, acked, reaped;
	long long returned;     /* what fork() returned on this side */
	long long getpid, getppid;
	long long stamp;        /* child: its own; parent: after fork #i */
	long long parent_stamp; /* child i: the parent's stamp after fork #i */
	long long shared_stamp; /* child i: as the parent read it */
	long long value, addr;
	int ack_op;
	int status, wait_errno;
};

struct forklab {
	struct run *r;
	struct plan pl;
	int n;
	pid_t parent;
	struct side s[FORK_MAX_CHILDREN + 1];   /* 0: the parent */
	bool ready;
	long long x_before, x_addr, shared_next;
	int error_who, error_what, error_errno;
	bool error;
	/* roles for the observer: the lab's state is static, so they
	 * outlive the run as the observer needs */
	char role[FORK_MAX_CHILDREN + 1][16];
};

static const char *role_of(const struct forklab *L, int i)
{
	return L->role[i];
}

/* Record one report in the picture. */
static int absorb(struct forklab *L, const struct rec *m)
{
	struct run *r = L->r;
	struct side *s;

	if (m->who < 0 || m->who > L->n) {
		pl_warnx(r, "garbled report from the parent or a child");
		return -1;
	}
	s = &L->s[m->who];
	switch (m->kind) {
	case REC_READY:
		L->ready = true;
		s->getpid = m->v[0];
		s->getppid = m->v[1];
		L->x_before = m->v[2];
		L->x_addr = m->v[3];
		break;
	case REC_FORKED: {
		int fd;

		s->forked = true;
		s->pid = (pid_t)m->v[0];
		s->parent_stamp = m->v[3];
		L->s[0].getpid = m->v[1];
		L->s[0].getppid = m->v[2];
		/* ours to kill from now on, and to watch */
		if (pl_track(r, s->pid, &fd) < 0)
			return -1;
		s->w = obs_add(r, s->pid, fd, role_of(L, m->who));
		if (s->w == NULL)
			return -1;
		break;
	}
	case REC_HELLO:
		s->hello = true;
		s->returned = m->v[0];
		s->getpid = m->v[1];
		s->getppid = m->v[2];
		s->stamp = m->v[3];
		break;
	case REC_SHARED:
		s->shared = true;
		s->shared_stamp = m->v[0];
		L->shared_next = m->v[1];
		break;
	case REC_VALUE:
		s->valued = true;
		s->value = m->v[0];
		s->addr = m->v[1];
		break;
	case REC_ACK:
		s->acked = true;
		s->ack_op = (int)m->v[0];
		break;
	case REC_REAPED:
		s->reaped = true;
		s->status = (int)m->v[1];
		s->wait_errno = (int)m->v[2];
		break;
	case REC_ERROR:
		L->error = true;
		L->error_who = m->who;
		L->error_what = (int)m->v[0];
		L->error_errno = (int)m->v[1];
		break;
	default:
		pl_warnx(r, "garbled report from the parent or a child");
		return -1;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef bool (*done_fn)(const struct forklab *L, int arg);

/* Read reports until done(L, arg) holds, up to --timeout.  Returns 0, or
 * PL_EXIT_FAIL after saying what did not arrive. */
static int await_reports(struct forklab *L, done_fn done, int arg,
			 const char *what)
{
	struct run *r = L->r;
	long long deadline = now_ms() + r->timeout_ms;

	while (!done(L, arg)) {
		struct rec m;
		long long left = deadline - now_ms();
		ssize_t n;

		if (L->error)
			break;
		if (left <= 0 || !pl_wait_fd(r, L->pl.rep[0], (int)left))
			return pl_fail(r, "expected %s within %d ms; it did "
				       "not come", what, r->timeout_ms);
		do
			n = read(L->pl.rep[0], &m, sizeof(m));
		while (n < 0 && errno == EINTR);
		if (n == 0)
			return pl_fail(r, "expected %s; the parent and its "
				       "children closed the pipe first", what);
		if (n != (ssize_t)sizeof(m)) {
			pl_warnx(r, "cannot read a report: %s",
				 n < 0 ? strerror(errno) : "short read");
			return PL_EXIT_FAIL;
		}
		if (absorb(L, &m) < 0)
			return PL_EXIT_FAIL;
	}
	if (L->error) {
		const char *call = L->error_what == ERR_FORK ? "fork()"
							      : "mmap()";

		if (L->error_what == ERR_FORK)
			emitf(r, "fork_return",
			     FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
				    F_INT("fork", L->error_who), F_INT("returned", -1),
				    F_INT("errno", L->error_errno),
				    F_STR("error", strerrorname_np(L->error_errno))),
			     "parent %d: fork() #%d returned -1 (%s): no child "
			     "was made", (int)L->parent, L->error_who,
			     strerrorname_np(L->error_errno));
		/* only the parent reports errors: the children have
		 * nothing that can fail but their report */
		return pl_fail(r, "expected %s; in the parent %s failed: %s",
			       what, call, strerror(L->error_errno));
	}
	return 0;
}

static bool all_started(const struct forklab *L, int arg)
{
	(void)arg;
	for (int i = 1; i <= L->n; i++)
		if (!L->s[i].forked || !L->s[i].hello)
			return false;
	return L->ready;
}

static bool all_shared(const struct forklab *L, int arg)
{
	(void)arg;
	for (int i = 1; i <= L->n; i++)
		if (!L->s[i].shared)
			return false;
	return true;
}

static bool has_value(const struct forklab *L, int i)
{
	return L->s[i].valued;
}

static bool has_ack(const struct forklab *L, int i)
{
	return L->s[i].acked;
}

static bool has_reaped(const struct forklab *L, int i)
{
	return L->s[i].reaped;
}

static int send_cmd(struct forklab *L, int fd, int who, int op, int arg)
{
	unsigned char m[2] = { (unsigned char)op, (unsigned char)arg };
	ssize_t n;

	do
		n = write(fd, m, 2);
	while (n < 0 && errno == EINTR);
	if (n != 2) {
		pl_warnx(L->r, "cannot command %s %d: %s", role_of(L, who),
			 who ? (int)L->s[who].pid : (int)L->parent,
			 n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/* Send a command to child i and wait for it to be done. */
static int child_do(struct forklab *L, int i, int op)
{
	char what[64];

	L->s[i].acked = false;
	if (send_cmd(L, L->pl.ccmd[i][1], i, op, 0) < 0)
		return PL_EXIT_FAIL;
	snprintf(what, sizeof(what), "%s %d to report its command done",
		 role_of(L, i), (int)L->s[i].pid);
	if (await_reports(L, has_ack, i, what))
		return PL_EXIT_FAIL;
	if (L->s[i].ack_op != op)
		return pl_fail(L->r, "expected %s %d to report command '%c' "
			       "done; it reported '%c'", role_of(L, i),
			       (int)L->s[i].pid, op, L->s[i].ack_op);
	return 0;
}

/* ---- the stages ------------------------------------------------------- */

static int stage_fork(struct forklab *L)
{
	struct run *r = L->r;
	struct watched *pw;
	int pidfd;
	char what[160];

	snprintf(what, sizeof(what), "proclab forks the parent; it writes %lld "
		 "private pages, then forks %d child%s", L->pl.pages, L->n,
		 L->n == 1 ? "" : "ren");
	stage(r, "fork", what);
	L->parent = pl_fork(r, "parent", &pidfd);
	if (L->parent == 0)
		parent_main(&L->pl);
	/* proclab keeps only the write ends of the commands and the read
	 * end of the reports, so that EOF tells each side the other is gone */
	close(L->pl.rep[1]);
	close(L->pl.pcmd[0]);
	L->pl.rep[1] = L->pl.pcmd[0] = -1;
	for (int i = 1; i <= L->n; i++) {
		close(L->pl.ccmd[i][0]);
		L->pl.ccmd[i][0] = -1;
	}
	if (L->parent < 0)
		return PL_EXIT_FAIL;
	pw = obs_add(r, L->parent, pidfd, "parent");
	if (pw == NULL)
		return PL_EXIT_FAIL;
	L->s[0].w = pw;
	L->s[0].pid = L->parent;
	if (await_reports(L, all_started, 0, "the parent and every child to "
			  "report after fork()"))
		return PL_EXIT_FAIL;
	for (int i = 1; i <= L->n; i++)
		if (obs_await(r, L->s[i].w, "S", "blocks in read(2) until "
			      "proclab sends a command"))
			return PL_EXIT_FAIL;
	return obs_await(r, pw, "S", "blocks in read(2) until proclab sends "
			 "a command");
}

static int stage_returns(struct forklab *L)
{
	struct run *r = L->r;
	const struct side *p = &L->s[0];
	bool ok;

	stage(r, "returns", "fork() returned in both processes: what each "
	      "side got, and who it says it is");
	obs_sample_all(r);
	ok = p->getpid == L->parent && p->getppid == r->self &&
	     p->w->ppid == r->self;
	for (int i = 1; i <= L->n; i++) {
		const struct side *c = &L->s[i];

		emitf(r, "fork_return",
		     FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
			    F_INT("fork", i), F_PID("returned", c->pid),
			    F_PID("getpid", p->getpid), F_PID("getppid", p->getppid),
			    F_PID("proc_ppid", p->w->ppid), F_BOOL("agrees", ok)),
		     "parent %d: fork() #%d returned %d (the child's pid); "
		     "getpid() %lld, getppid() %lld (proclab), /proc PPid %d",
		     (int)L->parent, i, (int)c->pid, p->getpid, p->getppid,
		     (int)p->w->ppid);
		if (!ok)
			return pl_fail(r, "expected the parent to see getpid() "
				       "%d and getppid() %d, as /proc does; it "
				       "saw %lld and %lld, /proc PPid %d",
				       (int)L->parent, (int)r->self, p->getpid,
				       p->getppid, (int)p->w->ppid);
	}
	for (int i = 1; i <= L->n; i++) {
		const struct side *c = &L->s[i];
		bool agrees = c->returned == 0 && c->getpid == c->pid &&
			      c->getppid == L->parent &&
			      c->w->ppid == L->parent;

		emitf(r, "fork_return",
		     FIELDS(F_PID("pid", c->pid), F_STR("role", role_of(L, i)),
			    F_INT("fork", i), F_PID("returned", c->returned),
			    F_PID("getpid", c->getpid), F_PID("getppid", c->getppid),
			    F_PID("proc_ppid", c->w->ppid), F_BOOL("agrees", agrees)),
		     "%s %d: fork() returned %lld; getpid() %lld, getppid() "
		     "%lld, /proc PPid %d", role_of(L, i), (int)c->pid,
		     c->returned, c->getpid, c->getppid, (int)c->w->ppid);
		if (!agrees)
			return pl_fail(r, "expected %s to get 0 from fork(), "
				       "getpid() %d (what fork() returned in "
				       "the parent) and getppid() %d, /proc "
				       "PPid %d; it got %lld, %lld, %lld, /proc "
				       "PPid %d", role_of(L, i), (int)c->pid,
				       (int)L->parent, (int)L->parent,
				       c->returned, c->getpid, c->getppid,
				       (int)c->w->ppid);
	}
	return 0;
}

static int stage_order(struct forklab *L)
{
	struct run *r = L->r;
	char order[FORK_MAX_CHILDREN * 2 * 18] = "";
	int parent_first = 0, child_first = 0, shared_seen = 0;
	size_t len = 0;

	stage(r, "order", "who ran first after each fork(): both sides "
	      "stamped a counter in a shared page as their first act");
	if (send_cmd(L, L->pl.pcmd[1], 0, CMD_SHARED, 0) < 0 ||
	    await_reports(L, all_shared, 0, "the parent to read the shared "
			  "page"))
		return PL_EXIT_FAIL;
	for (int i = 1; i <= L->n; i++) {
		const struct side *c = &L->s[i];
		bool pfirst = c->parent_stamp < c->stamp;

		pfirst ? parent_first++ : child_first++;
		if (c->shared_stamp == c->stamp)
			shared_seen++;
		emitf(r, "first_run",
		     FIELDS(F_INT("fork", i), F_PID("child", c->pid),
			    F_MEAS("parent_stamp", c->parent_stamp),
			    F_MEAS("child_stamp", c->stamp),
			    F_MEAS("first", pfirst ? "parent" : "child")),
		     "fork() #%d: the %s went on first (parent stamp %lld, "
		     "%s %d stamp %lld)", i, pfirst ? "parent" : "child",
		     c->parent_stamp, role_of(L, i), (int)c->pid, c->stamp);
	}
	/* the order of the 2N stamps, as roles */
	for (long long k = 0; k < 2LL * L->n; k++)
		for (int i = 1; i <= L->n; i++) {
			const char *who = L->s[i].stamp == k ? role_of(L, i)
					: L->s[i].parent_stamp == k ? "parent"
					: NULL;
			if (who != NULL)
				len += (size_t)snprintf(order + len,
							sizeof(order) - len,
							"%s%s", len ? " " : "",
							who);
		}
	emitf(r, "run_order",
	     FIELDS(F_INT("forks", L->n), F_MEAS("parent_first", parent_first),
		    F_MEAS("child_first", child_first), F_MEAS("order", order),
		    F_INT("stamps", L->shared_next)),
	     "first runs in stamp order: %s (parent first after %d fork%s, "
	     "child first after %d)", order, parent_first,
	     parent_first == 1 ? "" : "s", child_first);
	/* which side runs first is unspecified: a sleep only makes an order
	 * likely; order with wait() or a pipe */
	claim(r, "fork-sleep-orders", CLAIM_DEPENDS,
	      FIELDS(F_MEAS("parent_first", parent_first),
		     F_MEAS("child_first", child_first)));
	claim(r, "fork-shared-cow", shared_seen == 0 ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("children", L->n), F_INT("stamps_seen", shared_seen)));
	if (shared_seen != L->n)
		return pl_fail(r, "expected the parent to read every child's "
			       "stamp in the shared page; it read %d of %d",
			       shared_seen, L->n);
	return 0;
}

static int stage_memory(struct forklab *L)
{
	struct run *r = L->r;
	struct side *p = &L->s[0];
	char addr[32];
	int changed = 0;

	stage(r, "memory", "each child sets its copy of the variable x; then "
	      "the parent reads its own");
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)L->x_addr);
	emitf(r, "memory", FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
				 F_STR("when", "before fork"), F_MEAS("address", addr),
				 F_INT("value", L->x_before)),
	     "parent %d: x = %lld at address %s before fork()", (int)L->parent,
	     L->x_before, addr);
	for (int i = 1; i <= L->n; i++) {
		struct side *c = &L->s[i];

		if (send_cmd(L, L->pl.ccmd[i][1], i, CMD_VALUE, 0) < 0 ||
		    await_reports(L, has_value, i, "a child to set x"))
			return PL_EXIT_FAIL;
		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)c->addr);
		emitf(r, "memory",
		     FIELDS(F_PID("pid", c->pid), F_STR("role", role_of(L, i)),
			    F_STR("when", "set"), F_MEAS("address", addr),
			    F_INT("value", c->value)),
		     "%s %d: set x = %lld at address %s", role_of(L, i),
		     (int)c->pid, c->value, addr);
		if (c->value != L->x_before)
			changed++;
	}
	/* the children's reports have arrived: they wrote before this */
	if (send_cmd(L, L->pl.pcmd[1], 0, CMD_VALUE, 0) < 0 ||
	    await_reports(L, has_value, 0, "the parent to read x"))
		return PL_EXIT_FAIL;
	snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)p->addr);
	emitf(r, "memory", FIELDS(F_PID("pid", L->parent), F_STR("role", "parent"),
				 F_STR("when", "after"), F_MEAS("address", addr),
				 F_INT("value", p->value)),
	     "parent %d: reads x = %lld at address %s, after its children "
	     "changed theirs", (int)L->parent, p->value, addr);
	emitf(r, "separate",
	     FIELDS(F_INT("before", L->x_before), F_INT("parent_after", p->value),
		    F_INT("children_changed", changed),
		    F_BOOL("same_address", p->addr == L->s[1].addr &&
					   p->addr == L->x_addr),
		    F_BOOL("separate", p->value == L->x_before)),
	     "same virtual address in every process, separate values: %d "
	     "child%s changed x, the parent still reads %lld",
	     changed, changed == 1 ? "" : "ren", p->value);
	if (changed != L->n || p->value != L->x_before)
		return pl_fail(r, "expected %d children to change x and the "
			       "parent to keep %lld; %d changed it, the parent "
			       "read %lld", L->n, L->x_before, changed, p->value);
	return 0;
}

/* One pass of the first child over the parent's pages, with its minor
 * fault count read from /proc before and after. */
static int cow_pass(struct forklab *L, int op, long long *delta)
{
	struct run *r = L->r;
	struct side *c = &L->s[1];
	bool writing = op == CMD_WRITE;
	unsigned long long before, after;

	if (obs_sample(r, c->w, NULL, NULL) == 'X')
		return pl_fail(r, "expected %s %d to wait for the %s pass; it "
			       "is gone", c->w->role, (int)c->pid,
			       writing ? "write" : "read");
	before = c->w->st.minflt;
	if (child_do(L, 1, op))
		return PL_EXIT_FAIL;
	if (obs_sample(r, c->w, NULL, NULL) == 'X')
		return pl_fail(r, "%s %d ended during the pass", c->w->role,
			       (int)c->pid);
	after = c->w->st.minflt;
	*delta = (long long)(after - before);
	emitf(r, "cow",
	     FIELDS(F_PID("pid", c->pid), F_STR("pass", writing ? "write" : "read"),
		    F_INT("pages", L->pl.pages),
		    writing ? F_INT("pages_written", L->pl.pages)
			    : F_INT("pages_read", L->pl.pages),
		    F_MEAS("minflt_before", (long long)before),
		    F_MEAS("minflt_after", (long long)after),
		    F_MEAS("minflt_delta", *delta)),
	     "%s %d %s %lld pages: minor faults %llu -> %llu (+%lld)",
	     c->w->role, (int)c->pid, writing ? "wrote" : "read",
	     L->pl.pages, before, after, *delta);
	return 0;
}

static int stage_cow(struct forklab *L)
{
	struct run *r = L->r;
	long long pages = L->pl.pages, rd, wr;
	bool read_free, write_copies;
	char what[160];

	snprintf(what, sizeof(what), "copy-on-write: %s reads the %lld pages "
		 "it shares with the parent, then writes them", role_of(L, 1),
		 pages);
	stage(r, "cow", what);
	if (cow_pass(L, CMD_READ, &rd) || cow_pass(L, CMD_WRITE, &wr))
		return PL_EXIT_FAIL;
	/* reading a shared page needs no fault (fork copied the page table);
	 * writing one faults once, and the kernel copies the page then */
	read_free = rd * 4 < pages || rd == 0;
	write_copies = wr >= pages;
	claim(r, "fork-page-table",
	      read_free && write_copies ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_INT("pages", pages), F_MEAS("read_faults", rd),
		     F_MEAS("write_faults", wr)));
	claim(r, "fork-two-addresses", write_copies ? CLAIM_FAILS : CLAIM_HOLDS,
	      FIELDS(F_INT("pages", pages), F_MEAS("write_faults", wr)));
	if (!write_copies)
		return pl_fail(r, "expected at least one minor fault per page "
			       "written (%lld); /proc counted %lld", pages, wr);
	if (!read_free)
		return pl_fail(r, "expected reading the %lld shared pages to "
			       "take (almost) no faults, fewer than one per "
			       "four pages; /proc counted %lld", pages, rd);
	return 0;
}

/* Command every child, then wait until each shows one of `states`. */
static int children_do(struct forklab *L, int op, const char *states,
		       const char *why)
{
	for (int i = 1; i <= L->n; i++)
		if (op == CMD_EXIT
			    ? send_cmd(L, L->pl.ccmd[i][1], i, op, 0) < 0
			    : child_do(L, i, op))
			return PL_EXIT_FAIL;
	for (int i = 1; i <= L->n; i++)
		if (obs_await(L->r, L->s[i].w, states, why))
			return PL_EXIT_FAIL;
	return 0;
}

static int stage_reap(struct forklab *L)
{
	struct run *r = L->r;
	struct watched *pw = L->s[0].w;
	int status;

	stage(r, "reap", "the parent calls waitpid() for each child: the "
	      "kernel releases it");
	for (int i = 1; i <= L->n; i++) {
		struct side *c = &L->s[i];
		struct wstatus ws;

		if (send_cmd(L, L->pl.pcmd[1], 0, CMD_REAP, i) < 0 ||
		    await_reports(L, has_reaped, i, "the parent to reap a "
				  "child"))
			return PL_EXIT_FAIL;
		if (c->wait_errno != 0) {
			emitf(r, "wait",
			     FIELDS(F_PID("pid", c->pid), F_STR("call", "waitpid"),
				    F_INT("errno", c->wait_errno),
				    F_STR("error", strerrorname_np(c->wait_errno))),
			     "waitpid(%d) in the parent failed: %s",
			     (int)c->pid, strerror(c->wait_errno));
			return pl_fail(r, "expected the parent to reap %s %d; "
				       "waitpid failed", role_of(L, i),
				       (int)c->pid);
		}
		wstatus_decode(c->status, &ws);
		emit_wstatus_by(r, c->pid, role_of(L, i), "waitpid", L->parent,
				&ws);
		if (!ws.exited || ws.code != i)
			return pl_fail(r, "expected %s %d to have exited with "
				       "code %d; the parent got status 0x%04x",
				       role_of(L, i), (int)c->pid, i,
				       (unsigned)c->status);
		if (obs_await(r, c->w, "X", "reaped by its parent: its /proc "
			      "entry is gone"))
			return PL_EXIT_FAIL;
	}

	stage(r, "parent-exit", "proclab closes the parent's command pipe: "
	      "the parent exits, and proclab reaps it");
	close(L->pl.pcmd[1]);
	L->pl.pcmd[1] = -1;
	if (obs_await(r, pw, "Z", "exited; proclab has not waited yet"))
		return PL_EXIT_FAIL;
	if (pl_waitpid(r, L->parent, "parent", &status) < 0)
		return PL_EXIT_FAIL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pl_fail(r, "expected the parent to exit with code 0; "
			       "status 0x%04x", (unsigned)status);
	return obs_await(r, pw, "X", "reaped by proclab: its /proc entry is "
			 "gone");
}

static int fork_stages(struct forklab *L)
{
	struct run *r = L->r;
	char why[96];

	if (stage_fork(L) || stage_returns(L) || stage_order(L) ||
	    stage_memory(L) || stage_cow(L))
		return PL_EXIT_FAIL;

	stage(r, "run", "the children spin on the CPU");
	if (children_do(L, CMD_SPIN, "R", "busy in a loop: on a CPU or "
			"queued for one"))
		return PL_EXIT_FAIL;
	stage(r, "block", "the children block in read(2) on an empty pipe");
	if (children_do(L, CMD_BLOCK, "S", "waits in read(2) for a byte "
			"nobody sent"))
		return PL_EXIT_FAIL;
	stage(r, "exit", "each child calls _exit with its number as the code; "
	      "the parent has not waited");
	snprintf(why, sizeof(why), "exited; its parent %d has not waited for "
		 "it", (int)L->parent);
	if (children_do(L, CMD_EXIT, "Z", why))
		return PL_EXIT_FAIL;
	return stage_reap(L);
}

static int open_pipes(struct forklab *L)
{
	struct plan *pl = &L->pl;

	if (pipe2(pl->rep, O_CLOEXEC) < 0 || pipe2(pl->pcmd, O_CLOEXEC) < 0)
		goto fail;
	for (int i = 1; i <= L->n; i++)
		if (pipe2(pl->ccmd[i], O_CLOEXEC) < 0)
			goto fail;
	return 0;
fail:
	pl_warnx(L->r, "cannot create a pipe: %s", strerror(errno));
	return -1;
}

static void close_pipes(struct forklab *L)
{
	struct plan *pl = &L->pl;
	int *fds[] = { pl->rep, pl->pcmd };

	for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++)
		for (int e = 0; e < 2; e++)
			if (fds[k][e] >= 0)
				close(fds[k][e]);
	for (int i = 1; i <= L->n; i++)
		for (int e = 0; e < 2; e++)
			if (pl->ccmd[i][e] >= 0)
				close(pl->ccmd[i][e]);
}

static int fork_run(struct run *r)
{
	static struct forklab L;
	int rc;

	memset(&L, 0, sizeof(L));
	L.r = r;
	L.n = (int)opt_val(r, "children");
	L.pl.nchildren = L.n;
	L.pl.pages = opt_val(r, "pages");
	L.pl.page_size = (size_t)sysconf(_SC_PAGESIZE);
	memset(L.pl.rep, -1, sizeof(L.pl.rep));
	memset(L.pl.pcmd, -1, sizeof(L.pl.pcmd));
	memset(L.pl.ccmd, -1, sizeof(L.pl.ccmd));
	snprintf(L.role[0], sizeof(L.role[0]), "parent");
	for (int i = 1; i <= L.n; i++)
		snprintf(L.role[i], sizeof(L.role[i]),
			 L.n == 1 ? "child" : "child%d", i);
	if (open_pipes(&L) < 0) {
		close_pipes(&L);
		return PL_EXIT_FAIL;
	}
	rc = fork_stages(&L);
	close_pipes(&L);
	return rc;
}

/* --children: the parent and its children must fit in what RLIMIT_NPROC
 * leaves this user (the kernel exempts only root, uid 0). */
static int check_nproc(struct run *r)
{
	long long n = opt_val(r, "children"), have, room;
	uid_t uid = getuid();
	struct rlimit rl;

	if (uid == 0 || getrlimit(RLIMIT_NPROC, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY ||
	    proc_count_tasks(uid, &have) != PROC_OK)
		return PL_EXIT_OK;
	/* the parent first, then its children */
	room = (long long)rl.rlim_cur - have - 1;
	if (n <= room)
		return PL_EXIT_OK;
	if (room < 1) {
		pl_warnx(r, "no room for a parent and a child: uid %d has %lld "
			 "of the %llu processes RLIMIT_NPROC allows", (int)uid,
			 have, (unsigned long long)rl.rlim_cur);
		return PL_EXIT_UNAVAILABLE;
	}
	pl_warnx(r, "--children: '%lld' is too many for this user (1 to %lld: "
		 "uid %d has %lld of the %llu processes RLIMIT_NPROC allows)",
		 n, room, (int)uid, have, (unsigned long long)rl.rlim_cur);
	return PL_EXIT_USAGE;
}

/* --pages: the parent fills them and its first child writes a copy of
 * each, twice the size in all; at most half of MemAvailable. */
static int check_memory(struct run *r)
{
	long long pages = opt_val(r, "pages"), kb, max;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || proc_mem_available(&kb) != PROC_OK)
		return PL_EXIT_OK;
	max = kb / 2 * 1024 / (2 * page);
	if (pages <= max)
		return PL_EXIT_OK;
	if (max < 1) {
		pl_warnx(r, "only %lld kB of memory available", kb);
		return PL_EXIT_UNAVAILABLE;
	}
	pl_warnx(r, "--pages: '%lld' is too many for this machine (1 to %lld: "
		 "twice the pages in all, at most half of the %lld MiB "
		 "available)", pages, max < 65536 ? max : 65536, kb / 1024);
	return PL_EXIT_USAGE;
}

/* Refuse, before anything is printed, what this user or machine cannot
 * give: the options' own ranges are checked by the dispatcher. */
static int fork_prepare(struct run *r)
{
	int rc = check_nproc(r);

	return rc != PL_EXIT_OK ? rc : check_memory(r);
}

const struct lab lab_fork = {
	.name = "fork",
	.summary = "one call, two returns: fork's values, separate memory, "
		   "copy-on-write",
	.description =
		"proclab forks a parent, and the parent forks its child (or "
		"--children N),\nso that both sides of fork() are processes "
		"you can watch.  Each side\nreports what fork() returned to "
		"it and who it is (getpid, getppid),\nchecked against /proc; "
		"stamps in a shared page show who ran first after\neach "
		"fork; a variable the child changes keeps its value in the "
		"parent;\nthe child reads, then writes --pages pages it "
		"shares with the parent,\nand its minor faults in "
		"/proc/PID/stat show the copy-on-write.  Then\nthe child "
		"runs (R), blocks (S), exits (Z) and its parent reaps it "
		"(X).",
	.options = fork_options,
	.run = fork_run,
	.prepare = fork_prepare,
};
