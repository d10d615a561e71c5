/* sink.h - what a child's stdout is connected to: a terminal, a pipe or a
 * regular file.
 *
 * stdio chooses its buffering from what fd 1 is, so a lab that shows
 * buffering needs all three.  A sink is made in proclab (sink_open), its
 * write end (`wr`) handed to a child as stdout (agent_give_fd), proclab's
 * copy of that end dropped once the child holds it (sink_forked), read back
 * once the child has written (sink_read) and torn down (sink_close).
 * Nothing is left behind: the terminal is a fresh pseudo-terminal whose
 * master closes with proclab, and the file never has a name in $TMPDIR
 * (O_TMPFILE; where the file system lacks it, a name that is unlinked at
 * once).
 *
 *   struct sink s;
 *   sink_open(r, &s, SINK_PIPE);
 *   a = agent_new(r, "printer");
 *   agent_give_fd(r, a, s.wr, STDOUT_FILENO);
 *   rc = agent_start(r, a, NULL);
 *   sink_forked(&s);
 *   if (sink_streams(&s)) got = sink_read(r, &s, buf, sizeof(buf));
 *   ... collect the child ...
 *   if (!sink_streams(&s)) got = sink_read(r, &s, buf, sizeof(buf));
 *   sink_close(&s);
 */
#ifndef PROCLAB_SINK_H
#define PROCLAB_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum sink_kind { SINK_TTY, SINK_PIPE, SINK_FILE, SINK_KINDS };

struct sink {
	enum sink_kind kind;
	int rd;                 /* proclab reads here; -1 when closed */
	int wr;                 /* the child's end: the terminal's slave, the
				 * pipe's write end, the file (== rd) */
};

struct run;

/* The kind's short name, as JSON shows it: "tty", "pipe", "file". */
const char *sink_name(enum sink_kind kind);

/* The kind in words: "a terminal", "a pipe", "a regular file". */
const char *sink_what(enum sink_kind kind);

/* Make a sink of this kind.  Returns PL_EXIT_OK, or the exit status after
 * a message (PL_EXIT_UNAVAILABLE: no pseudo-terminal, no writable
 * $TMPDIR).  s can be given to sink_close() either way. */
int sink_open(struct run *r, struct sink *s, enum sink_kind kind);

/* In proclab once the child holds its end: drop proclab's copy of the
 * terminal's slave or the pipe's write end, so that reading sees the end
 * (EIO, EOF) once every child has closed it. */
void sink_forked(struct sink *s);

/* Whether the bytes are read while the children run, until they close
 * their ends (a terminal, a pipe), or only after they have ended (a file):
 * the moment to call sink_read(). */
bool sink_streams(const struct sink *s);

/* Read back what the children wrote, into buf (size - 1 bytes at most;
 * not terminated): from a terminal or a pipe until every writer has closed
 * it, waiting up to --timeout; from a file, all it holds.  Returns the
 * bytes read, or -1 after a message (pl_fail when the bytes did not end in
 * time or did not fit). */
ssize_t sink_read(struct run *r, struct sink *s, char *buf, size_t size);

/* Close what is left of s; a second call does nothing. */
void sink_close(struct sink *s);

#endif
