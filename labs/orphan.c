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
 * Both are agents (agent.h): the parent is proclab's, the orphan the
 * parent's (agent_fork).  The orphan cannot die with its parent (that is
 * the point), so it is planned without the parent-death signal
 * (agent_outlives); its lifeline is its command pipe, whose only write
 * end is proclab's: EOF (proclab gone, even by SIGKILL) ends it.
 * agent_fork() tracks it, so teardown kills it too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "claims.h"
#include "i18n.h"
#include "proclab.h"

static const struct lab_option orphan_options[] = {
	{ "subreaper", NULL, 0, 1, 0,
	  "make proclab a child subreaper first: it adopts the orphan and "
	  "reaps it" },
	{ "code", "N", 0, 255, 0, "the exit code of the parent, which proclab "
	  "collects" },
	{ NULL, NULL, 0, 0, 0, NULL },
};

/* What a class's variants change (variant.h): the lesson stays. */
static const struct lab_vary orphan_vary[] = {
	{ "code", 1, 125 },
	{ NULL, 0, 0 },
};

struct adopter {
	pid_t pid;
	char comm[PROC_COMM_MAX];
	const char *kind;       /* "self", "pid1", "subreaper", "other" */
	int depth;
};

/* What one run keeps between its stages. */
struct orphan {
	struct agent *parent, *orphan;
	struct watched *wp, *wo;
	pid_t pgrp, session;    /* the orphan's, before its parent exits */
	struct adopter a;
};

static const struct sentence orphan_sentences[] = {
	{ "subreaper", NULL, "proclab is not a child subreaper, says "
	  "PR_GET_CHILD_SUBREAPER: an orphan below it goes past it", NULL,
	  NULL },
	{ "subreaper", "yes", "proclab is a child subreaper, says "
	  "PR_GET_CHILD_SUBREAPER: an orphan below it comes to it", NULL,
	  NULL },
	{ "subreaper", "pid1", "proclab is not a child subreaper, says "
	  "PR_GET_CHILD_SUBREAPER, but it is PID 1 of its PID namespace: an "
	  "orphan below it comes to it all the same", NULL, NULL },
	{ "group", NULL, "the {role}'s parent is pid {ppid}; process group "
	  "{pgrp}, session {session}", NULL, NULL },
	{ "group", "after", "the {role}'s parent is now pid {ppid}; process "
	  "group {pgrp}, session {session}: {same}", NULL, NULL },
	{ "reparent", "self", "the orphan's parent is now pid {to}, its "
	  "grandparent, no longer pid {from}: proclab made itself a child "
	  "subreaper, and the kernel gives an orphan to the nearest child "
	  "subreaper above it", NULL, NULL },
	{ "reparent", "pid1", "the orphan's parent is now pid {to} "
	  "({to_comm}), no longer pid {from}: no ancestor of the orphan is a "
	  "child subreaper, so PID 1 of its PID namespace adopts it, whatever "
	  "program that is (init, systemd, a container's first process)",
	  NULL, NULL },
	{ "reparent", "pid1-self", "the orphan's parent is now pid {to}, "
	  "proclab itself, no longer pid {from}: not because it is the "
	  "grandparent, but because proclab is PID 1 of its PID namespace "
	  "(as a container's first process is), and PID 1 adopts every "
	  "orphan that no child subreaper takes", NULL, NULL },
	{ "reparent", "pid1-subreaper", "the orphan's parent is now pid {to}, "
	  "proclab itself, no longer pid {from}: proclab made itself a child "
	  "subreaper, and it is PID 1 of its PID namespace as well; either "
	  "would make it the adopter", NULL, NULL },
	{ "reparent", "subreaper", "the orphan's parent is now pid {to} "
	  "({to_comm}), no longer pid {from}: not PID 1 but proclab's "
	  "ancestor {depth} level up, so a child subreaper, the nearest above "
	  "the orphan (/proc does not show the flag; a process can ask "
	  "PR_GET_CHILD_SUBREAPER only about itself)",
	  "the orphan's parent is now pid {to} ({to_comm}), no longer pid "
	  "{from}: not PID 1 but proclab's ancestor {depth} levels up, so a "
	  "child subreaper, the nearest above the orphan (/proc does not show "
	  "the flag; a process can ask PR_GET_CHILD_SUBREAPER only about "
	  "itself)", "depth" },
	{ "reparent", NULL, "the orphan's parent is now pid {to} "
	  "({to_comm}), no longer pid {from}: neither PID 1 nor an ancestor "
	  "of proclab that /proc still shows", NULL, NULL },
	{ "released", NULL, "the orphan is gone {ms} ms after it was told to "
	  "exit: its adopter, pid {adopter}, reaped it; {zombie}", NULL,
	  NULL },
	{ "stays", NULL, "the orphan is still a zombie (Z) {ms} ms after it "
	  "was told to exit: its adopter, pid {adopter} ({adopter_comm}), has "
	  "not waited for it.  An adopter that never waits, such as a "
	  "container's first process that is not an init, keeps every orphan "
	  "that dies under it a zombie for as long as it runs; that is why "
	  "containers run an init that reaps (docker run --init, tini)", NULL,
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* The process group and the session are measured: neither leader is a
 * process of this run.  They are the group and session proclab was
 * started in (proclab's own pid under a shell with job control, the
 * caller's otherwise), and 0 in a PID namespace whose leaders are
 * outside it.  What is the same on every run is whether they change. */
static void group(struct run *r, const struct watched *w, const char *when,
		  const char *same)
{
	emit_form(r, "group", strcmp(when, "after") == 0 ? "after" : NULL,
		  FIELDS(F_PID("pid", w->pid), F_STR("role", w->role),
			 F_STR("when", when), F_PID("ppid", w->st.ppid),
			 F_MEAS("pgrp", (long long)w->st.pgrp),
			 F_MEAS("session", (long long)w->st.session),
			 F_TEXT("same", _(same))));
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
		if (obs_peek(r, p, &st) != PROC_OK)
			return -1;
		p = st.ppid;
	}
	return -1;
}

/* Who the kernel gave the orphan to, and why it had to be that one.  Its
 * comm and its depth are measured: the adopter is whatever runs above
 * proclab (PID 1 of this namespace, a subreaper), not part of the run. */
static void reparent(struct run *r, const struct orphan *o, pid_t from,
		     struct adopter *a)
{
	struct proc_stat st;

	a->pid = o->wo->st.ppid;
	snprintf(a->comm, sizeof(a->comm), "%s",
		 obs_peek(r, a->pid, &st) == PROC_OK ? st.comm : "?");
	a->depth = ancestor_depth(r, a->pid);
	/* PID 1 first: proclab as PID 1 adopts the orphan for being PID 1,
	 * with or without the subreaper flag */
	if (a->pid == 1)
		a->kind = "pid1";
	else if (a->pid == r->self)
		a->kind = "self";
	else if (a->depth > 0)
		a->kind = "subreaper";
	else
		a->kind = "other";
	emit_form(r, "reparent", strcmp(a->kind, "other") == 0 ? NULL
		  : a->pid == r->self && a->pid == 1
		  ? (opt_set(r, "subreaper") ? "pid1-subreaper" : "pid1-self")
		  : a->kind,
		  FIELDS(F_PID("pid", o->wo->pid), F_PID("from", from),
			 F_PID("to", a->pid), F_MEAS("to_comm", a->comm),
			 F_STR("kind", a->kind), F_MEAS("depth", a->depth)));
}

/* A class's --quiz: who adopts the orphan?  Asked before the orphan's
 * new ppid is shown: read quietly (obs_peek), checked by `proclab grade`
 * against the reparent event.  A pid or the adopter's command name. */
static void ask_adopter(struct run *r, const struct orphan *o, pid_t from)
{
	struct proc_stat st, ast;
	char pid[24], comm[PROC_COMM_MAX] = "";

	if (!r->quiz || r->variant < 0 ||
	    obs_peek(r, o->wo->pid, &st) != PROC_OK)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)st.ppid);
	if (obs_peek(r, st.ppid, &ast) == PROC_OK)
		snprintf(comm, sizeof(comm), "%s", ast.comm);
	quiz_value(r, "adopter", o->wo->pid, pid, comm,
		   FIELDS(F_PID("parent", from)));
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
	      FIELDS(F_PID("adopter", a->pid), F_MEAS("adopter_comm", a->comm)));
}

static int stage_fork(struct run *r)
{
	struct orphan *o = run_state(r);
	int sub = 0, rc;

	if (opt_set(r, "subreaper") &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0) {
		pl_warnx(r, "cannot become a child subreaper: %s",
			 strerror(errno));
		return PL_EXIT_FAIL;
	}
	if (prctl(PR_GET_CHILD_SUBREAPER, &sub) < 0) {
		pl_warnx(r, "PR_GET_CHILD_SUBREAPER: %s", strerror(errno));
		return PL_EXIT_FAIL;
	}
	emit_form(r, "subreaper", sub ? "yes" : r->self == 1 ? "pid1" : NULL,
		  FIELDS(F_PID("pid", r->self), F_BOOL("subreaper", sub != 0)));
	o->parent = agent_new(r, "parent");
	if (o->parent == NULL ||
	    (o->orphan = agent_plan_child(r, o->parent, "orphan")) == NULL)
		return PL_EXIT_FAIL;
	/* no parent-death signal: it must outlive its parent */
	agent_outlives(o->orphan);
	if ((rc = agent_start(r, o->parent, NULL)) != 0 ||
	    (rc = agent_fork(r, o->parent, o->orphan, NULL, NULL)) != 0)
		return rc;
	/* one at a time, so that each is first seen in its own await; the
	 * whys are templates (emit.h), so that no digit in them, the 2 of
	 * read(2), is taken for a pid (proclab's, in a PID namespace) */
	o->wp = obs_add(r, o->parent->pid, o->parent->pidfd, "parent");
	if (o->wp == NULL ||
	    obs_await(r, o->wp, "S", "waits in read(2) until its parent "
		      "{ppid} tells it to exit"))
		return PL_EXIT_FAIL;
	o->wo = obs_add(r, o->orphan->pid, o->orphan->pidfd, "orphan");
	if (o->wo == NULL ||
	    obs_await(r, o->wo, "S", "waits in read(2) on its lifeline, "
		      "a pipe from proclab, not from {ppid}: it exits when "
		      "told to, or when proclab is gone"))
		return PL_EXIT_FAIL;
	o->pgrp = o->wo->st.pgrp;
	o->session = o->wo->st.session;
	group(r, o->wp, "before", "");
	group(r, o->wo, "before", "");
	return PL_EXIT_OK;
}

static int stage_exit(struct run *r)
{
	struct orphan *o = run_state(r);
	pid_t from = o->wo->st.ppid;
	int rc;

	if ((rc = agent_do(r, o->parent, AGENT_OP_EXIT, opt_val(r, "code"),
			   NULL)) != 0)
		return rc;
	if (obs_await(r, o->wp, "Z", "exited; its parent {ppid} has not "
		      "waited for it yet, but its child has already been "
		      "handed on"))
		return PL_EXIT_FAIL;
	/* exit_notify() re-parents the children before the exiting task
	 * turns Z, so the new ppid is there to read now */
	ask_adopter(r, o, from);
	obs_sample(r, o->wo, NULL, NULL);
	if (o->wo->state == 'X' || o->wo->st.ppid == from)
		return pl_fail(r, "expected the orphan %d to have a new parent "
			       "once its parent %d was Z; /proc showed %s%d",
			       (int)o->wo->pid, (int)o->wp->pid,
			       o->wo->state == 'X' ? "it gone, last ppid "
			       : "ppid ", (int)o->wo->st.ppid);
	reparent(r, o, from, &o->a);
	claims(r, &o->a);
	if (opt_set(r, "subreaper") && o->a.pid != r->self)
		return pl_fail(r, "expected proclab (%d), a child subreaper, "
			       "to adopt the orphan; %d (%s) did",
			       (int)r->self, (int)o->a.pid, o->a.comm);
	return PL_EXIT_OK;
}

static int stage_adopted(struct run *r)
{
	struct orphan *o = run_state(r);
	bool same;
	int status;

	if (pl_waitpid(r, o->wp->pid, "parent", &status) < 0 ||
	    obs_await(r, o->wp, "X", "reaped: its /proc entry is gone"))
		return PL_EXIT_FAIL;
	if (obs_sample(r, o->wo, NULL, NULL) != 'S') {
		char note[128];

		return pl_fail(r, "expected the orphan %d to sleep on as S; "
			       "/proc showed %c%s", (int)o->wo->pid,
			       o->wo->state,
			       obs_end_note(o->wo, note, sizeof(note)));
	}
	same = o->wo->st.pgrp == o->pgrp && o->wo->st.session == o->session;
	group(r, o->wo, "after", same ? N_("the same as before its parent "
	      "exited") : N_("not the same as before its parent exited"));
	return PL_EXIT_OK;
}

static int stage_gone(struct run *r)
{
	struct orphan *o = run_state(r);
	const struct adopter *a = &o->a;
	long long t0 = pl_now_ms(), ms;
	int status, rc;
	bool saw_z;

	if ((rc = agent_do(r, o->orphan, AGENT_OP_EXIT, 0, NULL)) != 0)
		return rc;
	if (a->pid == r->self) {
		if (obs_await(r, o->wo, "Z", "exited; its adopter {ppid} has not "
			      "waited for it yet") ||
		    pl_waitpid(r, o->wo->pid, "orphan", &status) < 0 ||
		    obs_await(r, o->wo, "X", "reaped by proclab, its adopter"))
			return PL_EXIT_FAIL;
		return PL_EXIT_OK;
	}
	rc = obs_await_or_not(r, o->wo, "X", "reaped by its adopter, not by "
			      "proclab", r->timeout_ms);
	if (rc == 1 && o->wo->state == 'Z') {
		/* the lesson of an adopter that never reaps, not a failure:
		 * the Z seen in passing is what this stage shows (no second
		 * question with --quiz: the answer was told already) */
		if (!r->quiz && obs_await(r, o->wo, "Z", "exited; its adopter "
					  "{ppid} has not waited for it"))
			return PL_EXIT_FAIL;
		emit(r, "stays",
		     FIELDS(F_PID("pid", o->wo->pid), F_PID("adopter", a->pid),
			    F_MEAS("adopter_comm", a->comm),
			    F_MEAS("ms", pl_now_ms() - t0)));
		return PL_EXIT_OK;
	}
	if (rc == 1)
		return obs_await(r, o->wo, "X", "reaped by its adopter, not "
				 "by proclab") ? PL_EXIT_FAIL : PL_EXIT_OK;
	if (rc != 0)
		return PL_EXIT_FAIL;
	ms = pl_now_ms() - t0;
	saw_z = strchr(o->wo->trail, 'Z') != NULL;
	emit(r, "released",
	     FIELDS(F_PID("pid", o->wo->pid), F_PID("adopter", a->pid),
		    F_MEAS("zombie_seen", saw_z), F_MEAS("trail", o->wo->trail),
		    F_MEAS("ms", ms),
		    F_TEXT_MEAS("zombie", saw_z ? _("it was seen as a zombie (Z) "
				"until then") : _("no zombie (Z) was seen on the "
				"way"))));
	return PL_EXIT_OK;
}

static const struct stage orphan_stages[] = {
	{ "fork", "proclab becomes a child subreaper, forks a parent, and "
	  "the parent forks a child", stage_fork, "subreaper", NULL, NULL },
	{ "fork", "proclab forks a parent, and the parent forks a child",
	  stage_fork, "!subreaper", NULL, NULL },
	{ "exit", "the parent exits first; the kernel gives its child a new "
	  "parent", stage_exit, NULL, NULL, NULL },
	{ "adopted", "proclab reaps the parent; the orphan lives on under its "
	  "new parent", stage_adopted, NULL, NULL, NULL },
	{ "end", "the orphan exits; its adopter, not its first parent, must "
	  "reap it", stage_gone, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct lab lab_orphan = {
	.name = "orphan",
	.summary = "a parent exits first: who adopts the orphan, who reaps it",
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
	.vary = orphan_vary,
	.sentences = orphan_sentences,
	.stages = orphan_stages,
	.state_size = sizeof(struct orphan),
};
