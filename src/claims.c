/* claims.c - the catalogue of claims (claims.h) and claim(), which words
 * a lab's verdict on one of them.
 *
 * A row states a claim in our own words and names the lab that tests it;
 * its evidence is a sentence over the fields that lab passes to claim().
 * docs/sources.md describes each source; the worksheets (labs/ *.md) say
 * what the verdicts mean. */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proclab.h"

const struct source claim_sources[] = {
	{ "art-multiprocess-principles", "Principles of multiprocessing" },
	{ "art-linux-multiprocess", "Multiprocessing on Linux" },
	{ "art-multiprocess-programming", "Multiprocess programming" },
	{ "art-process-basics", "Basic concepts of process management" },
	{ "art-processes-ipc", "Multiprocessing and interprocess communication" },
	{ "folklore", "common folklore" },
	{ "ostep-homework", "OSTEP's homework simulators" },
	{ NULL, NULL },
};

const struct claim_def claim_table[] = {
	/* states */
	{ "states-stop-in-d", "art-multiprocess-programming",
	  "SIGSTOP sent to a process in D has no effect", "states", NULL,
	  "{state_after_signal} right after the signal, "
	  "{state_after_release} once the wait ended", false },
	{ "states-t-is-T", "art-multiprocess-programming",
	  "stopped (T) and traced (t) are one state", "states", NULL,
	  "the child showed {trail}, in that order, and is {state} now",
	  false },
	{ "states-t-swapped", "art-linux-multiprocess",
	  "t means suspended: code and data moved out to swap", "states",
	  NULL, "TracerPid {tracer}, VmRSS {vmrss_kb} kB", false },
	/* fork */
	{ "fork-sleep-orders", "art-linux-multiprocess",
	  "a sleep(1) in the parent makes the child run first", "fork", NULL,
	  "with no sleep, forks after which the parent ran first: "
	  "{parent_first}; the child first: {child_first}", false },
	{ "fork-shared-cow", "art-multiprocess-principles",
	  "memory mapped MAP_SHARED is copy-on-write too", "fork", NULL,
	  "stamps each child wrote into a MAP_SHARED page that the parent "
	  "read back: {stamps_seen} of {children}", false },
	{ "fork-page-table", "art-process-basics",
	  "before any write, fork copies only the page table", "fork", NULL,
	  "minor faults: {read_faults} to read the {pages}-page shared "
	  "memory, {write_faults} to write it", false },
	{ "fork-two-addresses", "art-linux-multiprocess",
	  "the child copies only two addresses (code and data), so fork "
	  "costs almost nothing", "fork", NULL,
	  "minor faults of the child's first writes to the {pages}-page "
	  "memory: {write_faults}; the copying is only put off", false },
	/* vfork */
	{ "vfork-cannot-write", "art-process-basics",
	  "a vfork child cannot write its parent's address space", "vfork",
	  NULL, "the child stored {child_wrote}, the caller then read "
	  "{caller_read}", false },
	{ "vfork-shares-memory", "art-processes-ipc",
	  "a vfork child can modify its parent's variables (shared, not "
	  "copied)", "vfork", NULL,
	  "the child stored {child_wrote}, the caller then read "
	  "{caller_read}", false },
	{ "vfork-exec-returns", "art-process-basics",
	  "the vfork parent runs again when the child's execv() returns, "
	  "taking the child for ended", "vfork", NULL,
	  "the caller resumed when the exec succeeded; its child, now "
	  "{comm}, still alive: {child_alive}", false },
	{ "vfork-same-cost", "art-processes-ipc",
	  "fork and vfork cost about the same now", "vfork", NULL,
	  "fork took {ratio_small:.1f}x as long as vfork, {ratio_large:.1f}x "
	  "with more memory written; writing it made fork take "
	  "{fork_growth:.1f}x and vfork {vfork_growth:.1f}x as long as "
	  "before (about the same: within {factor}x)", true },
	/* exit-vs-_exit */
	{ "exit-hello-world", "art-linux-multiprocess",
	  "printf(\"hello world\") then exit(0) prints it; then _exit(0) "
	  "prints nothing", "exit-vs-_exit", NULL,
	  "exit() delivered at least {exit_received_min} of {printed} bytes, "
	  "_exit() at most {_exit_received_max}, to a terminal, a pipe and a "
	  "file", false },
	{ "exit-underscore-loses", "art-linux-multiprocess",
	  "_exit(0) loses what printf printed", "exit-vs-_exit", NULL,
	  "of {printed} bytes ending in a newline, _exit() delivered "
	  "{tty_received} to a terminal, {pipe_received} to a pipe, "
	  "{file_received} to a file", false },
	{ "exit-flush-handlers", "art-linux-multiprocess",
	  "exit() is: flush the stdio buffers, run the atexit handlers, "
	  "then _exit()", "exit-vs-_exit", NULL,
	  "exit() delivered every byte and ran the handler: "
	  "{exit_flushed_and_ran_atexit}; _exit() skipped the handler: "
	  "{_exit_skipped_atexit}", false },
	{ "exit-puzzle-lines", "art-process-basics",
	  "the fork loop prints eight lines without fflush, six with it",
	  "exit-vs-_exit", NULL,
	  "lines without/with fflush: terminal {tty_unflushed}/{tty_flushed}, "
	  "pipe {pipe_unflushed}/{pipe_flushed}, file "
	  "{file_unflushed}/{file_flushed}", false },
	{ "exit-puzzle-first-child", "art-process-basics",
	  "in the fork loop only the first child copies the parent's "
	  "unflushed output", "exit-vs-_exit", NULL,
	  "through a pipe, bytes unflushed at each fork: B "
	  "{pending_at_fork_b}, C {pending_at_fork_c}, D {pending_at_fork_d}", false },
	/* wait */
	{ "wait-status-bytes", "art-linux-multiprocess",
	  "a normal exit puts the status in bytes 8-15, a killed child an "
	  "error code in bytes 0-7", "wait", NULL,
	  "_exit({code}) gave the status {raw_code} (the code times 256), "
	  "SIGTERM ({signal}) gave {raw_signal} (the signal number)", false },
	/* zombie */
	{ "zombie-proc-owner", "art-processes-ipc",
	  "a zombie's /proc/PID files are owned by root", "zombie", NULL,
	  "/proc/PID owned by uid {dir_owner}, its status file by uid "
	  "{file_owner}; proclab runs as uid {euid}", false },
	{ "zombie-llvm", "art-processes-ipc",
	  "a program built with llvm (clang) leaves no zombie, even with no "
	  "SIGCHLD handler and no wait", "zombie", NULL,
	  "proclab and its child were built with {compiler}; the child showed "
	  "{state} with no handler and no wait yet", false },
	/* orphan */
	{ "orphan-grandparent", "art-linux-multiprocess",
	  "an orphan passes to its parent's parent", "orphan", NULL,
	  "the grandparent is pid {grandparent}, the adopter pid {adopter}", false },
	{ "orphan-init", "art-process-basics",
	  "an orphan is adopted by init", "orphan", NULL,
	  "the adopter is pid {adopter} ({adopter_comm})", false },
	/* signal */
	{ "signal-term-catchable", "art-multiprocess-principles",
	  "SIGTERM, unlike SIGKILL, can be caught: the process runs a "
	  "handler instead of ending", "signal", NULL,
	  "the SIGTERM handler ran {term_runs} time, the child stayed "
	  "{term_state}; sigaction(SIGKILL) failed with {kill_errno}", false },
	{ "signal-d-ignores-all", "art-multiprocess-programming",
	  "a process in D does not respond to any signal, not even SIGKILL",
	  "signal", NULL, "SIGKILL took the vfork caller from D to {after} "
	  "in {ms} ms (its wait is TASK_KILLABLE)", false },
	{ "signal-d-delivered-later", "art-multiprocess-programming",
	  "a signal sent to a process in D is delivered when it leaves D",
	  "signal", NULL, "SIGUSR1 stayed pending while /proc showed "
	  "{state}; its handler ran {received} time once the D ended",
	  false },
	{ "sigchld-only-ign", "art-processes-ipc",
	  "only setting SIGCHLD to SIG_IGN ends zombies automatically; a "
	  "handler does not help", "signal", NULL,
	  "zombies left: SIG_IGN {ign_zombies}, a handler set with "
	  "SA_NOCLDWAIT {nocldwait_zombies} (it ran {nocldwait_runs} time), "
	  "a handler looping on waitpid {loop_zombies}, one calling wait() "
	  "once {once_zombies}", false },
	/* tree */
	{ "forkpy-all-to-root", "ostep-homework",
	  "when a process exits, all its descendants become children of the "
	  "root process a (fork.py's default)", "tree", "-A a+b,b+c,c+d,b-",
	  "grandchildren of {exited} when it exited: {grandchildren}; moved "
	  "under a: {moved}; kept their parents: {kept}", false },
	/* session */
	{ "session-pipeline-job", "art-processes-ipc",
	  "the processes of a pipeline make one job, led by the first: its "
	  "pid is the job's PGID", "session", NULL,
	  "the first process {first} and the second {second} are both in "
	  "process group {pgrp}", false },
	{ "session-ctrl-c-fg", "art-multiprocess-principles",
	  "Ctrl+C sends SIGINT, which ends only the foreground processes",
	  "session", NULL,
	  "the foreground job died of {signame1} and {signame2}; the shell "
	  "is {shell_state}, the stopped background job {reader_state}, the "
	  "sleeping one {sleeper_state}", false },
	{ "session-shell-leader", "art-processes-ipc",
	  "every process a login shell starts stays in its session, the "
	  "shell its leader (the SID column)", "session", NULL,
	  "{in_session} of the {jobs} jobs' processes have {shell}, the "
	  "shell, as their SID; the daemon's SID is {daemon_sid}", false },
	{ "session-daemon-no-tty", "art-multiprocess-principles",
	  "a daemon has no controlling terminal: ps ajxf shows TTY ? and "
	  "TPGID -1", "session", NULL,
	  "the daemon's /proc/PID/stat shows tty_nr {tty_nr} and tpgid "
	  "{tpgid}; its parent is {ppid}", false },
	{ "session-sighup-all", "art-multiprocess-principles",
	  "when the terminal's user leaves, every process of the session "
	  "gets SIGHUP and ends", "session", NULL,
	  "the shell exited: the stopped job's reader died of "
	  "{reader_death}, its member that ignores SIGHUP is {nohup_state}; "
	  "the sleeping background job is {sleeper_state}, the daemon "
	  "{daemon_state}", false },
	/* thread */
	{ "thread-same-pid", "art-processes-ipc",
	  "every thread of a process has the same pid; a thread's own "
	  "identity is its tid", "thread", NULL,
	  "getpid() returned {pid} in each of the {threads} threads, and "
	  "/proc showed Tgid {pid} for each of the tids {tids}", false },
	{ "thread-clone-flags", "art-processes-ipc",
	  "fork, vfork and pthread_create are all clone(), with different "
	  "flags: a thread shares the memory, fds and handlers", "thread",
	  NULL, "a clone() with CLONE_VM, CLONE_FILES, CLONE_SIGHAND and "
	  "CLONE_THREAD shared all that a pthread_create thread does: "
	  "{clone_like_thread}; a fork child shared none of it: "
	  "{fork_shares_nothing}", false },
	{ "thread-signals-flag", "art-process-basics",
	  "CLONE_THREAD is the clone() flag that shares signal handling",
	  "thread", NULL, "CLONE_THREAD alone: {thread_alone}; handlers "
	  "shared by CLONE_VM|CLONE_SIGHAND, without CLONE_THREAD: "
	  "{sighand_shares}", false },
	{ "thread-exit-ends-all", "art-process-basics",
	  "a thread that calls exit() ends every thread of its process",
	  "thread", NULL, "a thread called _exit({code}) (exit() ends in the "
	  "same exit_group(2)): every thread's task entry went, the process "
	  "was reaped with code {status}", false },
	{ "thread-main-ends-all", "art-process-basics",
	  "when the main thread ends, every thread of the process ends",
	  "thread", NULL, "through exit_group(2) yes; after the main "
	  "thread's pthread_exit() it showed {main_state} while /proc listed "
	  "{tasks} tasks and a thread answered", false },
	/* exec */
	{ "exec-fork-then-exec", "art-multiprocess-principles",
	  "a program starts in a copy its parent forks, which then loads the "
	  "program with exec: one process, a new program", "exec", NULL,
	  "fork returned {pid}; after the exec /proc shows pid {pid_after}, "
	  "parent {ppid_after}, running {comm_after}", false },
	{ "exec-replaces-memory", "art-multiprocess-programming",
	  "exec replaces the data, heap, stack and code with the new "
	  "program's", "exec", NULL,
	  "VmSize {vmsize_before} kB before, {vmsize_after} kB after; VmRSS "
	  "{vmrss_before} kB before, {vmrss_after} kB after, the {touched_mib} "
	  "MiB written gone; /proc/PID/exe changed: {exe_changed}", false },
	{ "exec-resets-signals", "folklore",
	  "exec resets every signal to its default disposition", "exec", NULL,
	  "the handled {caught} went back to default, but the ignored "
	  "{ignored} stayed ignored and the blocked {blocked} stayed blocked",
	  false },
	{ "exec-closes-files", "folklore",
	  "exec closes the files the old program opened", "exec", NULL,
	  "of {before} open fds, the exec closed the {closed} marked "
	  "close-on-exec and kept {kept}, fd {kept_fd} ({kept_target}) among "
	  "them", false },
	{ "vfork-exec-resumes", "art-processes-ipc",
	  "a vfork parent runs again only once its child calls _exit or "
	  "exec", "exec", NULL,
	  "the caller was {state} while its child ran; it resumed at the "
	  "exec, its child alive as {comm}: {child_alive}", false },
	/* pipe */
	{ "pipe-via-mmap", "art-processes-ipc",
	  "a shell pipe moves its data through memory shared with mmap "
	  "(MAP_SHARED)", "pipe", NULL,
	  "mmap(MAP_SHARED) of a pipe's fd: {mmap}; the pipe is inode {inode} "
	  "of pipefs, a kernel buffer of {capacity} bytes", false },
	{ "pipe-shell-children", "art-processes-ipc",
	  "for ls | grep the shell forks two children that exec the two "
	  "programs, joined by a pipe", "pipe", NULL,
	  "ls's parent {ls_parent} and wc's parent {wc_parent}, where the "
	  "shell is {shell}; one pipe inode in both; wc counted {lines}",
	  false },
	{ "fifo-eof-repeats", "art-processes-ipc",
	  "once the writer is gone, a FIFO's reader reads end-of-file again "
	  "and again, without blocking", "pipe", NULL,
	  "{eofs} of {reads} reads after the writer closed returned 0 at "
	  "once", false },
	{ "fifo-must-reopen", "art-processes-ipc",
	  "after end-of-file a FIFO's reader must close and reopen it to "
	  "read what a later writer writes", "pipe", NULL,
	  "the same fd {fd}, never reopened, read {bytes} bytes from the next "
	  "writer; reopening only makes the reader wait in open()", false },
	{ NULL, NULL, NULL, NULL, NULL, NULL, false },
};

const struct claim_def *claim_find(const char *id)
{
	for (const struct claim_def *c = claim_table; c->id != NULL; c++)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

const struct source *source_find(const char *id)
{
	for (const struct source *s = claim_sources; s->id != NULL; s++)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case CLAIM_HOLDS: return "holds";
	case CLAIM_FAILS: return "does not hold";
	case CLAIM_DEPENDS: return "depends";
	}
	return "depends";
}

enum { CLAIM_FIELDS_MAX = 24 };

void claim(struct run *r, const char *id, enum verdict v,
	   const struct field *evidence)
{
	const struct claim_def *c = claim_find(id);
	const struct source *src = c != NULL ? source_find(c->source) : NULL;
	struct field f[CLAIM_FIELDS_MAX + 6];
	char form[1024];
	size_t n = 0;

	if (c == NULL || src == NULL) {
		fprintf(stderr, "proclab: claim: '%s' is not in the "
			"catalogue\n", id);
		abort();
	}
	f[n++] = F_STR("id", c->id);
	f[n++] = F_STR("source", src->title);
	f[n++] = F_STR("claim", c->claim);
	f[n] = F_STR("verdict", verdict_name(v));
	f[n++].meas = c->varies;
	f[n] = v == CLAIM_DEPENDS ? F_NULL("holds")
				  : F_BOOL("holds", v == CLAIM_HOLDS);
	f[n++].meas = c->varies;
	for (; evidence->type != FT_END; evidence++) {
		if (n == CLAIM_FIELDS_MAX + 5)
			abort();        /* a row with too many fields */
		f[n++] = *evidence;
	}
	f[n] = (struct field){ .type = FT_END };
	/* the engine words it, from the row */
	snprintf(form, sizeof(form), "\"{source}\" says {claim}: {verdict} "
		 "here. Seen: %s", c->evidence);
	emit_sentence(r, &(const struct sentence){ .event = "claim",
						    .form = c->id,
						    .one = form }, f);
}
