/* sink.c - what a child's stdout is connected to: a fresh pseudo-terminal,
 * a pipe or a regular file without a name (sink.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "proclab.h"
#include "sink.h"

static const char *const names[SINK_KINDS] = { "tty", "pipe", "file" };
static const char *const whats[SINK_KINDS] = {
	"a terminal", "a pipe", "a regular file",
};

const char *sink_name(enum sink_kind kind)
{
	return kind < SINK_KINDS ? names[kind] : "?";
}

const char *sink_what(enum sink_kind kind)
{
	return kind < SINK_KINDS ? whats[kind] : "?";
}

/* A fresh pseudo-terminal without output processing, so that the bytes
 * read from the master are the bytes written (no \n -> \r\n); its slave
 * is the child's end.  It does not become proclab's controlling
 * terminal (O_NOCTTY). */
static int open_tty(struct run *r, struct sink *s)
{
	struct termios t;
	char pts[64];

	s->rd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->rd < 0)
		return pl_unavailable(r, "cannot open a pseudo-terminal: %s",
				      strerror(errno));
	/* on a pty master, the termios calls act on the slave's settings */
	if (grantpt(s->rd) < 0 || unlockpt(s->rd) < 0 ||
	    ptsname_r(s->rd, pts, sizeof(pts)) != 0 ||
	    tcgetattr(s->rd, &t) < 0)
		return pl_unavailable(r, "cannot set up a pseudo-terminal: %s",
				      strerror(errno));
	t.c_oflag &= ~(tcflag_t)OPOST;
	if (tcsetattr(s->rd, TCSANOW, &t) < 0)
		return pl_unavailable(r, "cannot turn off the terminal's "
				      "output processing: %s", strerror(errno));
	s->wr = open(pts, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (s->wr < 0)
		return pl_unavailable(r, "cannot open %s: %s", pts,
				      strerror(errno));
	return PL_EXIT_OK;
}

/* A regular file in $TMPDIR (or /tmp) that has no name: O_TMPFILE, or
 * where the file system refuses it, a name unlinked at once. */
static int open_file(struct run *r, struct sink *s)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	s->rd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->rd >= 0) {
		s->wr = s->rd;
		return PL_EXIT_OK;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return pl_unavailable(r, "cannot create a file in %s: %s", dir,
				      strerror(errno));
	if ((size_t)snprintf(path, sizeof(path), "%s/proclab-sink-XXXXXX",
			     dir) >= sizeof(path))
		return pl_unavailable(r, "TMPDIR is too long");
	s->rd = mkostemp(path, O_CLOEXEC);
	if (s->rd < 0)
		return pl_unavailable(r, "cannot create a file in %s: %s", dir,
				      strerror(errno));
	if (unlink(path) < 0) {
		pl_warnx(r, "cannot remove %s: %s", path, strerror(errno));
		return PL_EXIT_FAIL;
	}
	s->wr = s->rd;
	return PL_EXIT_OK;
}

int sink_open(struct run *r, struct sink *s, enum sink_kind kind)
{
	int p[2];

	s->kind = kind;
	s->rd = s->wr = -1;
	switch (kind) {
	case SINK_TTY:
		return open_tty(r, s);
	case SINK_FILE:
		return open_file(r, s);
	default:
		if (pipe2(p, O_CLOEXEC) < 0)
			return pl_sys_error(r, "pipe2", errno, "cannot create "
					    "a pipe: %s", strerror(errno));
		s->rd = p[0];
		s->wr = p[1];
		return PL_EXIT_OK;
	}
}

void sink_forked(struct sink *s)
{
	if (s->kind != SINK_FILE && s->wr >= 0) {
		close(s->wr);
		s->wr = -1;
	}
}

bool sink_streams(const struct sink *s)
{
	return s->kind != SINK_FILE;
}

/* Read fd until EOF (a pipe) or EIO (a terminal whose last writer closed
 * it), waiting up to --timeout for each read. */
static ssize_t drain(struct run *r, int fd, char *buf, size_t size,
		     const char *what)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (!pl_wait_fd(r, fd, r->timeout_ms)) {
			pl_fail(r, "expected %s to reach its end within %d ms; "
				"it did not", what, r->timeout_ms);
			return -1;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == EIO))
			return (ssize_t)len;
		if (n < 0) {
			pl_warnx(r, "cannot read %s: %s", what, strerror(errno));
			return -1;
		}
		len += (size_t)n;
		if (len == size) {
			pl_fail(r, "expected at most %zu bytes from %s; more "
				"came", size - 1, what);
			return -1;
		}
	}
}

ssize_t sink_read(struct run *r, struct sink *s, char *buf, size_t size)
{
	ssize_t n;

	if (sink_streams(s))
		return drain(r, s->rd, buf, size, sink_what(s->kind));
	n = pread(s->rd, buf, size, 0);
	if (n < 0)
		pl_warnx(r, "cannot read the file: %s", strerror(errno));
	else if ((size_t)n == size)
		return pl_fail(r, "expected at most %zu bytes in the file; "
			       "there were more", size - 1), -1;
	return n;
}

void sink_close(struct sink *s)
{
	if (s->rd >= 0)
		close(s->rd);
	if (s->wr >= 0 && s->wr != s->rd)
		close(s->wr);
	s->rd = s->wr = -1;
}
