/* orphan.c - a parent exits before its child: who adopts the child, and
 * who reaps it.
 *
 * Stages: fork (proclab -> parent -> orphan, all S; process groups and
 * sessions) -> exit (the parent exits: Z, and the orphan's ppid changes to
 * the adopter the kernel chose) -> adopted (proclab reaps the parent; the
 * orphan lives on, same group and session) -> end (the orphan exits and its
 * adopter reaps it: X, no lingering zombie).
 * With --subreaper proclab first makes itself a child subreaper, adopts
 * the orphan, sees it Z and reaps it itself.
 *
 * The orphan cannot die with its parent (that is the point), so instead of
 * a parent-death signal it holds a lifeline: the read end of a pipe whose
 * only write end is proclab's.  It blocks in read(2) on it; a byte tells it
 * to exit, and EOF (proclab gone, even by SIGKILL) ends it too.  It is also
 * tracked with pl_track(), so teardown kills it too (pl_kill()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "claims.h"
#include "proclab.h"

static const struct lab_option orphan_options[] = {
	{ "subreaper", NULL, 0, 1, 0,
	  "make proclab a child subreaper first: it adopts the orphan and "
	  "reaps it" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

enum { LIFELINE_FD = 3 };

/* ---- inside the children (async-signal-safe only) ---------------------- */

static void __attribute__((noreturn)) orphan_main(int lifeline, int info)
{
	pid_t me = getpid();
	unsigned char code;
	ssize_t n;

	/* its own name first, so that proclab never sees the parent's */
	prctl(PR_SET_NAME, "proclab-orphan");
	if (write(info, &me, sizeof(me)) != (ssize_t)sizeof(me))
		_exit(126);
	/* hold nothing but the lifeline (stdio stays, as for puppets) */
	if (lifeline != LIFELINE_FD && dup2(lifeline, LIFELINE_FD) < 0)
		_exit(126);
	if (close_range(LIFELINE_FD + 1, ~0U, 0) < 0)
		_exit(126);
	do
		n = read(LIFELINE_FD, &code, 1);
	while (n < 0 && errno == EINTR);
	_exit(n == 1 ? code : 0);       /* a byte: its exit code; EOF: 0 */
}

/* The parent: fork the orphan (a plain fork: pl_fork's parent-death
 * signal is exactly what an orphan must not have, and the kernel clears
 * it in fork children anyway), then wait for the word to exit. */
static void __attribute__((noreturn)) parent_main(int pcmd, int lifeline,
						  int lifeline_w, int info)
{
	unsigned char b;
	pid_t pid;
	ssize_t n;

	/* the orphan's lifeline must end in proclab alone */
	close(lifeline_w);
	pid = fork();
	if (pid < 0)
		_exit(126);
	if (pid == 0)
		orphan_main(lifeline, info);
	close(lifeline);
	close(info);
	do
		n = read(pcmd, &b, 1);
	while (n < 0 && errno == EINTR);
	_exit(0);
}

/* ---- proclab's side ----------------------------------------------------- */

struct family {
	pid_t parent, orphan;
	int pcmd;               /* write end: tell the parent to exit */
	int lifeline;           /* write end: tell the orphan to exit */
	struct watched *wp, *wo;
};

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static int make_family(struct run *r, struct family *f)
{
	int pc[2] = { -1, -1 }, ll[2] = { -1, -1 }, in[2] = { -1, -1 };
	int pidfd, rc = -1;
	ssize_t n;

	if (pipe2(pc, O_CLOEXEC) < 0 || pipe2(ll, O_CLOEXEC) < 0 ||
	    pipe2(in, O_CLOEXEC) < 0) {
		pl_warnx(r, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	f->parent = pl_fork(r, "parent", &pidfd);
	if (f->parent == 0) {
		/* proclab's ends: held here, they would keep the parent's own
		 * command pipe from ever reading EOF */
		close(pc[1]);
		close(in[0]);
		parent_main(pc[0], ll[0], ll[1], in[1]);
	}
	if (f->parent < 0)
		goto out;
	close(pc[0]);
	close(ll[0]);
	close(in[1]);
	pc[0] = ll[0] = in[1] = -1;
	if (!pl_wait_fd(r, in[0], r->timeout_ms)) {
		pl_warnx(r, "the parent %d did not report its child within "
			 "%d ms", (int)f->parent, r->timeout_ms);
		goto out;
	}
	n = read(in[0], &f->orphan, sizeof(f->orphan));
	if (n != (ssize_t)sizeof(f->orphan) || f->orphan <= 0) {
		pl_warnx(r, "the parent %d could not fork its child",
			 (int)f->parent);
		goto out;
	}
	/* one at a time, so that each is first seen in its own await */
	f->wp = obs_add(r, f->parent, pidfd, "parent");
	if (f->wp == NULL ||
	    obs_await(r, f->wp, "S", "waits in read(2) for the word to exit"))
		goto out;
	/* the orphan blocks on the lifeline we hold: it cannot be gone */
	if (pl_track(r, f->orphan, &pidfd) < 0)
		goto out;
	f->wo = obs_add(r, f->orphan, pidfd, "orphan");
	if (f->wo == NULL ||
	    obs_await(r, f->wo, "S", "waits in read(2) on its lifeline to "
		      "proclab"))
		goto out;
	f->pcmd = pc[1];
	f->lifeline = ll[1];
	pc[1] = ll[1] = -1;
	rc = 0;
out:
	close_pair(pc);
	close_pair(ll);
	close_pair(in);
	return rc;
}

static void group(struct run *r, const struct watched *w, const char *when)
{
	emitf(r, "group",
	     FIELDS(F_PID("pid", w->pid), F_STR("role", w->role),
		    F_STR("when", when), F_PID("ppid", w->st.ppid),
		    F_PID("pgrp", w->st.pgrp), F_PID("session", w->st.session)),
	     "%-7s %s %d: parent %d, process group %d, session %d", when,
	     w->role, (int)w->pid, (int)w->st.ppid, (int)w->st.pgrp,
	     (int)w->st.session);
}

/* How many steps up from proclab `pid` is (0: proclab), -1 if it is not
 * one of proclab's ancestors. */
static int ancestor_depth(struct run *r, pid_t pid)
{
	pid_t p = r->self;

	for (int depth = 0; depth < 256 && p > 0; depth++) {
		struct proc_stat st;

		if (p == pid)
			return depth;
		if (proc_peek_stat(p, &st) != PROC_OK)
			return -1;
		p = st.ppid;
	}
	return -1;
}

struct adopter {
	pid_t pid;
	char comm[PROC_COMM_MAX];
	const char *kind;       /* "self", "pid1", "subreaper", "other" */
	int depth;
};

static void reparent(struct run *r, const struct family *f, pid_t from,
		     struct adopter *a)
{
	struct proc_stat st;
	char why[512];

	a->pid = f->wo->st.ppid;
	snprintf(a->comm, sizeof(a->comm), "%s",
		 proc_peek_stat(a->pid, &st) == PROC_OK ? st.comm : "?");
	a->depth = ancestor_depth(r, a->pid);
	if (a->pid == r->self) {
		a->kind = "self";
		snprintf(why, sizeof(why), "proclab, the orphan's grandparent, "
			 "is a child subreaper (it asked with "
			 "PR_SET_CHILD_SUBREAPER), the nearest one above the "
			 "orphan, so the kernel gave the orphan to it");
	} else if (a->pid == 1) {
		bool classic = strcmp(a->comm, "init") == 0 ||
			       strcmp(a->comm, "systemd") == 0;
		a->kind = "pid1";
		snprintf(why, sizeof(why), "no ancestor of the orphan is a "
			 "child subreaper, so PID 1 of its PID namespace adopts "
			 "it%s%s%s", classic ? "" : "; here PID 1 is \"",
			 classic ? "" : a->comm,
			 classic ? "" : "\", not a classic init: PID 1 is "
			 "whatever program was started first in this namespace "
			 "(a VM's or container's own supervisor), and whatever "
			 "it is, the kernel gives it the orphans to reap");
	} else if (a->depth > 0) {
		a->kind = "subreaper";
		snprintf(why, sizeof(why), "pid %d is not PID 1 but an "
			 "ancestor of proclab, %d level%s up: the kernel gives "
			 "orphans only to the nearest child subreaper above "
			 "them, else to PID 1, so %d must be a subreaper (the "
			 "flag is not shown in /proc; only a process can ask "
			 "PR_GET_CHILD_SUBREAPER about itself)", (int)a->pid,
			 a->depth, a->depth == 1 ? "" : "s", (int)a->pid);
	} else {
		a->kind = "other";
		snprintf(why, sizeof(why), "pid %d is neither PID 1 nor an "
			 "ancestor of proclab that /proc still shows",
			 (int)a->pid);
	}
	emitf(r, "reparent",
	     FIELDS(F_PID("pid", f->orphan), F_PID("from", from),
		    F_PID("to", a->pid), F_STR("to_comm", a->comm),
		    F_STR("kind", a->kind), F_MEAS("depth", (long long)a->depth)),
	     "orphan %d: ppid %d -> %d (%s): %s", (int)f->orphan, (int)from,
	     (int)a->pid, a->comm, why);
}

static void claims(struct run *r, const struct adopter *a)
{
	bool grand = a->pid == r->self, one = a->pid == 1;

	/* a grandparent adopts only if it is a child subreaper (proclab
	 * with --subreaper); PID 1 adopts, whatever its name, when no
	 * child subreaper is above the orphan */
	claim(r, "orphan-grandparent", grand ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("grandparent", r->self), F_PID("adopter", a->pid)));
	claim(r, "orphan-init", one ? CLAIM_HOLDS : CLAIM_FAILS,
	      FIELDS(F_PID("adopter", a->pid), F_STR("adopter_comm", a->comm)));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int tell(struct run *r, int fd, unsigned char b, const char *who)
{
	ssize_t n;

	do
		n = write(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		pl_warnx(r, "cannot tell the %s: %s", who,
			 n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

static int orphan_end(struct run *r, struct family *f,
		      const struct adopter *a)
{
	long long t0;
	char why[160];
	int status;
	bool saw_z;

	stage(r, "end", "the orphan exits; its adopter, not its first parent, "
	      "must reap it");
	t0 = now_ms();
	if (tell(r, f->lifeline, 0, "orphan"))
		return PL_EXIT_FAIL;
	if (a->pid == r->self) {
		snprintf(why, sizeof(why), "exited; its adopter proclab (%d) "
			 "has not waited yet", (int)r->self);
		if (obs_await(r, f->wo, "Z", why) ||
		    pl_waitpid(r, f->orphan, "orphan", &status) < 0 ||
		    obs_await(r, f->wo, "X", "reaped by proclab, its adopter"))
			return PL_EXIT_FAIL;
		return PL_EXIT_OK;
	}
	snprintf(why, sizeof(why), "reaped by its adopter %d (%s)",
		 (int)a->pid, a->comm);
	if (obs_await(r, f->wo, "X", why))
		return PL_EXIT_FAIL;
	saw_z = strchr(f->wo->trail, 'Z') != NULL;
	emitf(r, "released",
	     FIELDS(F_PID("pid", f->orphan), F_PID("adopter", a->pid),
		    F_MEAS("zombie_seen", saw_z),
		    F_MEAS("trail", f->wo->trail),
		    F_MEAS("ms", now_ms() - t0)),
	     "orphan %d is gone %lld ms after it was told to exit: %d (%s) "
	     "reaped it%s", (int)f->orphan, now_ms() - t0, (int)a->pid,
	     a->comm, saw_z ? "; until then it was a zombie (Z), so this "
	     "adopter reaps on its own schedule" : "; no zombie was seen");
	return PL_EXIT_OK;
}

static int orphan_run(struct run *r)
{
	struct family f = { .pcmd = -1, .lifeline = -1 };
	struct adopter a;
	int status, sub = 0, rc = PL_EXIT_FAIL;
	bool want = opt_set(r, "subreaper");
	pid_t from;

	stage(r, "fork", want ? "proclab becomes a child subreaper, forks a "
	      "parent, and the parent forks a child"
	      : "proclab forks a parent, and the parent forks a child");
	if (want && prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0) {
		pl_warnx(r, "cannot become a child subreaper: %s",
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (prctl(PR_GET_CHILD_SUBREAPER, &sub) < 0) {
		pl_warnx(r, "PR_GET_CHILD_SUBREAPER: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	emitf(r, "subreaper", FIELDS(F_PID("pid", r->self),
				    F_BOOL("subreaper", sub != 0)),
	     "proclab (%d) %s a child subreaper (PR_GET_CHILD_SUBREAPER "
	     "says %d)", (int)r->self, sub ? "is" : "is not", sub);
	if (make_family(r, &f))
		goto out;
	group(r, f.wp, "before");
	group(r, f.wo, "before");

	stage(r, "exit", "the parent exits first; the kernel gives its child "
	      "a new parent");
	from = f.wo->st.ppid;
	if (tell(r, f.pcmd, 0, "parent"))
		goto out;
	if (obs_await(r, f.wp, "Z", "exited; proclab has not waited for it "
		      "yet, but its child was already handed on"))
		goto out;
	/* exit_notify() re-parents the children before the exiting task
	 * turns Z, so the new ppid is there to read now */
	obs_sample(r, f.wo, NULL, NULL);
	if (f.wo->state == 'X' || f.wo->st.ppid == from)
		goto bad_reparent;
	reparent(r, &f, from, &a);
	claims(r, &a);
	if (want && a.pid != r->self) {
		rc = pl_fail(r, "expected proclab (%d), a child subreaper, to "
			     "adopt the orphan; %d (%s) did", (int)r->self,
			     (int)a.pid, a.comm);
		goto out;
	}

	stage(r, "adopted", "proclab reaps the parent; the orphan lives on "
	      "under its new parent");
	if (pl_waitpid(r, f.parent, "parent", &status) < 0 ||
	    obs_await(r, f.wp, "X", "reaped: its /proc entry is gone"))
		goto out;
	if (obs_sample(r, f.wo, NULL, NULL) != 'S') {
		rc = pl_fail(r, "expected the orphan %d to sleep on as S; /proc "
			     "showed %c", (int)f.orphan, f.wo->state);
		goto out;
	}
	group(r, f.wo, "after");

	rc = orphan_end(r, &f, &a);
	goto out;
bad_reparent:
	rc = pl_fail(r, "expected the orphan %d to have a new parent once its "
		     "parent %d was Z; /proc showed %s%d", (int)f.orphan,
		     (int)f.parent, f.wo->state == 'X' ? "it gone, last ppid "
		     : "ppid ", (int)f.wo->st.ppid);
out:
	if (f.pcmd >= 0)
		close(f.pcmd);
	if (f.lifeline >= 0)
		close(f.lifeline);
	return rc;
}

const struct lab lab_orphan = {
	.name = "orphan",
	.summary = "a parent exits before its child: who adopts the orphan, "
		   "and who reaps it",
	.description =
		"proclab forks a parent, which forks a child, then exits.  The "
		"kernel hands\nthe child to the nearest child subreaper above "
		"it, or else to PID 1 of its\nPID namespace: proclab shows the "
		"new ppid and names the adopter, as /proc\nshows it.  The "
		"parent is reaped, the orphan lives on in the same process\n"
		"group and session, then exits, and its adopter reaps it.  With "
		"--subreaper\nproclab makes itself a child subreaper first, "
		"adopts the orphan and reaps it.",
	.options = orphan_options,
	.run = orphan_run,
};
