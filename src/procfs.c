/* procfs.c - parse and read /proc/PID/{stat,status,...}. */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"

/* ---- parsing ------------------------------------------------------------ */

/* A cursor over a length-bounded buffer. */
struct cur {
	const char *p, *end;
};

static void skip_blanks(struct cur *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
}

/* Parse one decimal field (optional '-') into *v.  Rejects overflow and
 * anything but digits up to the next blank or end. */
static int next_ll(struct cur *c, long long *v)
{
	bool neg = false;
	unsigned long long acc = 0;
	const char *start;

	skip_blanks(c);
	if (c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');
		if (acc > (ULLONG_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
		c->p++;
	}
	if (c->p == start)
		return -1;
	if (c->p < c->end && *c->p != ' ' && *c->p != '\n')
		return -1;
	if (neg) {
		if (acc > (unsigned long long)LLONG_MAX + 1)
			return -1;
		*v = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
							       : -(long long)acc;
	} else {
		if (acc > LLONG_MAX)
			return -1;
		*v = (long long)acc;
	}
	return 0;
}

/* Unsigned fields (flags, faults, times, vsize) may use the full 64 bits. */
static int next_ull(struct cur *c, unsigned long long *v)
{
	unsigned long long acc = 0;
	const char *start;

	skip_blanks(c);
	start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');
		if (acc > (ULLONG_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
		c->p++;
	}
	if (c->p == start || (c->p < c->end && *c->p != ' ' && *c->p != '\n'))
		return -1;
	*v = acc;
	return 0;
}

static int next_pid(struct cur *c, pid_t *v)
{
	long long x;

	if (next_ll(c, &x) < 0 || x < INT_MIN || x > INT_MAX)
		return -1;
	*v = (pid_t)x;
	return 0;
}

/* Skip fields the parser does not keep.  The kernel prints some of them
 * signed (cutime, nice) and some unsigned (flags, cminflt, cmajflt), up
 * to 2^64 - 1: accept either. */
static int skip_fields(struct cur *c, int n)
{
	long long sv;
	unsigned long long uv;

	while (n-- > 0) {
		skip_blanks(c);
		if (c->p < c->end && *c->p == '-' ? next_ll(c, &sv) < 0
						   : next_ull(c, &uv) < 0)
			return -1;
	}
	return 0;
}

/* The kernel names a state with one letter (task_state_array); a control
 * byte, a blank or a byte above 0x7e there means the text is not what the
 * kernel wrote. */
static bool state_char(char ch)
{
	return ch > ' ' && ch < 0x7f;
}

int procfs_parse_stat(const char *buf, size_t len, struct proc_stat *st)
{
	struct cur c = { buf, buf + len };
	const char *open, *close;
	long long tty, code;
	size_t n;

	memset(st, 0, sizeof(*st));
	if (next_pid(&c, &st->pid) < 0)
		return -1;
	skip_blanks(&c);
	if (c.p >= c.end || *c.p != '(')
		return -1;
	open = c.p;
	/* comm may hold anything, ')' included: it ends at the LAST ')'. */
	close = NULL;
	for (const char *q = c.end; q > open + 0; q--)
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	if (close == NULL || close == open)
		return -1;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(st->comm))
		n = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';

	c.p = close + 1;
	if (c.end - c.p < 3 || c.p[0] != ' ' || !state_char(c.p[1]) ||
	    c.p[2] != ' ')
		return -1;
	st->state = c.p[1];
	c.p += 2;

	if (next_pid(&c, &st->ppid) < 0 || next_pid(&c, &st->pgrp) < 0 ||
	    next_pid(&c, &st->session) < 0 || next_ll(&c, &tty) < 0 ||
	    next_pid(&c, &st->tpgid) < 0 || skip_fields(&c, 1) < 0 ||
	    next_ull(&c, &st->minflt) < 0 || skip_fields(&c, 1) < 0 ||
	    next_ull(&c, &st->majflt) < 0 || skip_fields(&c, 1) < 0 ||
	    next_ull(&c, &st->utime) < 0 || next_ull(&c, &st->stime) < 0 ||
	    skip_fields(&c, 4) < 0 || next_ll(&c, &st->num_threads) < 0 ||
	    skip_fields(&c, 1) < 0 || next_ull(&c, &st->starttime) < 0 ||
	    next_ull(&c, &st->vsize) < 0 || next_ll(&c, &st->rss) < 0)
		return -1;
	/* more fields follow rss: a text that ends here was cut short */
	if (c.p >= c.end || tty < INT_MIN || tty > INT_MAX)
		return -1;
	st->tty_nr = (int)tty;
	/* (52) exit_code, since Linux 3.5: absent on older kernels */
	st->exit_code = -1;
	if (skip_fields(&c, 27) == 0 && next_ll(&c, &code) == 0 &&
	    code >= 0 && code <= INT_MAX)
		st->exit_code = (int)code;
	return 0;
}

/* Undo the escaping of the Name line (seq_escape: \n, \\, \t, octal). */
static void unescape_name(const char *s, const char *end, char *out,
			  size_t size)
{
	size_t o = 0;

	while (s < end && o + 1 < size) {
		char ch = *s++;
		if (ch == '\\' && s < end) {
			char e = *s++;
			switch (e) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'v': ch = '\v'; break;
			case 'f': ch = '\f'; break;
			case 'a': ch = '\a'; break;
			case 'e': ch = '\033'; break;
			case '\\': ch = '\\'; break;
			case '"': ch = '"'; break;
			default:
				if (e >= '0' && e <= '7') {
					unsigned v = (unsigned)(e - '0');
					for (int i = 0; i < 2 && s < end &&
							*s >= '0' && *s <= '7'; i++)
						v = v * 8 + (unsigned)(*s++ - '0');
					ch = (char)(v & 0xff);
				} else {
					/* unknown escape: keep it as written */
					out[o++] = '\\';
					if (o + 1 >= size)
						goto done;
					ch = e;
				}
			}
		}
		out[o++] = ch;
	}
done:
	out[o] = '\0';
}

/* Parse the value of "Key:\tvalue" as a number (first token). */
static int value_ll(const char *v, const char *end, long long *out)
{
	struct cur c = { v, end };

	while (c.p < c.end && (*c.p == '\t' || *c.p == ' '))
		c.p++;
	/* "VmRSS:	    1234 kB": stop the number at the blank before kB */
	const char *q = c.p;
	while (q < c.end && *q != ' ' && *q != '\t' && *q != '\n')
		q++;
	c.end = q;
	return next_ll(&c, out);
}

static const char *const sigfield_names[PSIG_N] = {
	"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
};

const char *procfs_sigfield_name(int field)
{
	return field >= 0 && field < PSIG_N ? sigfield_names[field] : "?";
}

/* Which signal mask a key of klen bytes names, or -1. */
static int sigfield(const char *key, size_t klen)
{
	for (int f = 0; f < PSIG_N; f++)
		if (klen == 6 && memcmp(key, sigfield_names[f], 6) == 0)
			return f;
	return -1;
}

/* "SigBlk:\t0000000000010000": 1 to 16 hex digits (the kernel prints 16
 * for 64 signals), nothing after them; else the field is left out. */
static void parse_sigmask(struct proc_status *ps, int f, const char *v,
			  const char *end)
{
	unsigned long long m = 0;
	size_t n = 0;

	while (v < end && (*v == '\t' || *v == ' '))
		v++;
	for (const char *q = v; q < end; q++, n++) {
		int d = *q >= '0' && *q <= '9' ? *q - '0'
		      : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
		      : *q >= 'A' && *q <= 'F' ? *q - 'A' + 10 : -1;

		if (d < 0 || n >= 16)
			return;
		m = m << 4 | (unsigned)d;
	}
	if (n == 0)
		return;
	memcpy(ps->sig_raw[f], v, n);
	ps->sig_raw[f][n] = '\0';
	ps->sig[f] = m;
	ps->has |= PS_SIGBIT(f);
}

int procfs_parse_status(const char *buf, size_t len, struct proc_status *ps)
{
	const char *p = buf, *end = buf + len;

	memset(ps, 0, sizeof(*ps));
	ps->vmrss_kb = ps->vmsize_kb = -1;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;
		long long v;
		size_t klen;

		if (eol == NULL)
			break;          /* a line cut short is not a line */
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			goto next;
		klen = (size_t)(colon - p);
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
		if (KEY("Name")) {
			const char *v0 = colon + 1;
			if (v0 < eol && *v0 == '\t')
				v0++;
			unescape_name(v0, eol, ps->name, sizeof(ps->name));
			ps->has |= PS_NAME;
		} else if (KEY("State")) {
			const char *v0 = colon + 1;
			while (v0 < eol && (*v0 == '\t' || *v0 == ' '))
				v0++;
			/* "State:\tS (sleeping)": one letter, then a blank */
			if (v0 < eol && state_char(*v0) &&
			    (v0 + 1 == eol || v0[1] == ' ')) {
				ps->state = *v0;
				ps->has |= PS_STATE;
			}
		} else if (sigfield(p, klen) >= 0) {
			parse_sigmask(ps, sigfield(p, klen), colon + 1, eol);
		} else if (value_ll(colon + 1, eol, &v) < 0) {
			/* a field we know with a value we can't read: skip */
		} else if (KEY("Tgid") && v >= 0 && v <= INT_MAX) {
			ps->tgid = (pid_t)v, ps->has |= PS_TGID;
		} else if (KEY("PPid") && v >= 0 && v <= INT_MAX) {
			ps->ppid = (pid_t)v, ps->has |= PS_PPID;
		} else if (KEY("TracerPid") && v >= 0 && v <= INT_MAX) {
			ps->tracer = (pid_t)v, ps->has |= PS_TRACER;
		} else if (KEY("Uid") && v >= 0 && v <= UINT_MAX) {
			ps->uid = (uid_t)v, ps->has |= PS_UID;
		} else if (KEY("Threads") && v >= 0) {
			ps->threads = v, ps->has |= PS_THREADS;
		} else if (KEY("VmRSS") && v >= 0) {
			ps->vmrss_kb = v, ps->has |= PS_VMRSS;
		} else if (KEY("VmSize") && v >= 0) {
			ps->vmsize_kb = v, ps->has |= PS_VMSIZE;
		} else if (KEY("voluntary_ctxt_switches") && v >= 0) {
			ps->vcsw = v, ps->has |= PS_VCSW;
		} else if (KEY("nonvoluntary_ctxt_switches") && v >= 0) {
			ps->nvcsw = v, ps->has |= PS_NVCSW;
		}
#undef KEY
next:
		p = eol + 1;
	}
	return ps->has ? 0 : -1;
}

int procfs_parse_meminfo_available(const char *buf, size_t len, long long *kb)
{
	static const char key[] = "MemAvailable:";
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			break;          /* a line cut short is not a line */
		if ((size_t)(eol - p) > sizeof(key) - 1 &&
		    memcmp(p, key, sizeof(key) - 1) == 0)
			return value_ll(p + sizeof(key) - 1, eol, kb) < 0 ||
			       *kb < 0 ? -1 : 0;
		p = eol + 1;
	}
	return -1;
}

int procfs_parse_fdinfo_flags(const char *buf, size_t len, unsigned *flags)
{
	static const char key[] = "flags:";
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *v;
		unsigned long long m = 0;
		size_t n = 0;

		if (eol == NULL)
			break;          /* a line cut short is not a line */
		if ((size_t)(eol - p) < sizeof(key) - 1 ||
		    memcmp(p, key, sizeof(key) - 1) != 0) {
			p = eol + 1;
			continue;
		}
		/* "flags:\t02100002": octal digits only, at most 11 (32 bits) */
		for (v = p + sizeof(key) - 1; v < eol && (*v == '\t' ||
							   *v == ' '); v++)
			;
		for (; v < eol; v++, n++) {
			if (*v < '0' || *v > '7' || n >= 11)
				return -1;
			m = m << 3 | (unsigned)(*v - '0');
		}
		if (n == 0 || m > 0xffffffffULL)
			return -1;
		*flags = (unsigned)m;
		return 0;
	}
	return -1;
}

const char *procfs_state_name(char state)
{
	/* TRANSLATORS: the kernel's names of the state letters, as
	 * /proc/PID/status shows them (fs/proc/array.c) */
	switch (state) {
	case 'R': return N_("running");
	case 'S': return N_("sleeping");
	case 'D': return N_("disk sleep");
	case 'T': return N_("stopped");
	case 't': return N_("tracing stop");
	case 'X': return N_("dead");
	case 'Z': return N_("zombie");
	case 'P': return N_("parked");
	case 'I': return N_("idle");
	default: return N_("unknown");
	}
}

/* ---- reading ------------------------------------------------------------ */

static int gone_or_error(void)
{
	return errno == ENOENT || errno == ESRCH ? PROC_GONE : PROC_ERROR;
}

/* Open the directory at path and its stat file into h. */
static int open_at(struct proc_handle *h, pid_t pid, const char *path)
{
	h->pid = pid;
	h->dirfd = h->statfd = -1;
	h->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->dirfd < 0)
		return gone_or_error();
	h->statfd = openat(h->dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (h->statfd < 0) {
		int r = gone_or_error(), e = errno;
		close(h->dirfd);
		h->dirfd = -1;
		errno = e;
		return r;
	}
	return PROC_OK;
}

int proc_open(struct proc_handle *h, pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return open_at(h, pid, path);
}

int proc_open_task(struct proc_handle *h, pid_t tgid, pid_t tid)
{
	char path[48];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)tgid, (int)tid);
	return open_at(h, tid, path);
}

/* A task directory's name: a tid, digits only, no leading zero. */
static pid_t tid_name(const char *s)
{
	long long v = 0;

	if (*s < '1' || *s > '9')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > INT_MAX / 10)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v <= INT_MAX ? (pid_t)v : 0;
}

int proc_list_tasks(const struct proc_handle *h, bool thread, pid_t *tids,
		    int max)
{
	/* a task's directory sits in its process's task directory */
	int fd = openat(h->dirfd, thread ? ".." : "task",
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	int n = 0;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	errno = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL; errno = 0) {
		pid_t tid = tid_name(e->d_name);

		if (tid == 0)
			continue;
		if (n < max)
			tids[n] = tid;
		n++;
	}
	if (errno != 0) {
		int e = errno;
		closedir(d);
		errno = e;
		return -1;
	}
	closedir(d);
	return n;
}

void proc_close(struct proc_handle *h)
{
	if (h->statfd >= 0)
		close(h->statfd);
	if (h->dirfd >= 0)
		close(h->dirfd);
	h->statfd = h->dirfd = -1;
}

int proc_read_stat(const struct proc_handle *h, struct proc_stat *st)
{
	char buf[1024];
	ssize_t n;

	do
		n = pread(h->statfd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return gone_or_error();
	if (n == 0) {
		errno = ESRCH;
		return PROC_GONE;
	}
	if (procfs_parse_stat(buf, (size_t)n, st) < 0) {
		errno = EPROTO;
		return PROC_ERROR;
	}
	return PROC_OK;
}

int proc_peek_stat(pid_t pid, struct proc_stat *st)
{
	struct proc_handle h;
	int rc = proc_open(&h, pid), e;

	if (rc != PROC_OK)
		return rc;
	rc = proc_read_stat(&h, st);
	e = errno;
	proc_close(&h);
	errno = e;
	return rc;
}

int proc_read_file(const struct proc_handle *h, const char *name, char *buf,
		   size_t size, size_t *len)
{
	size_t got = 0;
	int fd = openat(h->dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return gone_or_error();
	while (got + 1 < size) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = gone_or_error(), e = errno;
			close(fd);
			errno = e;
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = got;
	return PROC_OK;
}

/* Read all of a /proc file into a malloc'd buffer: status can be far
 * larger than a page (a Groups line with thousands of groups), and a cut
 * line must never be parsed as a whole one. */
static int read_all(const struct proc_handle *h, const char *name,
		    char **out, size_t *len)
{
	size_t size = 4096, got = 0;
	char *buf = malloc(size);
	int fd = openat(h->dirfd, name, O_RDONLY | O_CLOEXEC), e;

	if (buf == NULL || fd < 0)
		goto fail;
	for (;;) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == size) {
			char *bigger = size < (16u << 20) ? realloc(buf, size * 2)
							 : NULL;
			if (bigger == NULL) {
				errno = EOVERFLOW;
				goto fail;
			}
			buf = bigger;
			size *= 2;
		}
	}
	close(fd);
	*out = buf;
	*len = got;
	return PROC_OK;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = e;
	return gone_or_error();
}

int proc_read_status(const struct proc_handle *h, struct proc_status *ps)
{
	char *buf;
	size_t len;
	int r = read_all(h, "status", &buf, &len);

	if (r != PROC_OK)
		return r;
	r = procfs_parse_status(buf, len, ps) < 0 ? PROC_ERROR : PROC_OK;
	free(buf);
	if (r != PROC_OK)
		errno = EPROTO;
	return r;
}

int proc_file_size(const struct proc_handle *h, const char *name,
		   size_t *len)
{
	char *buf;
	int r = read_all(h, name, &buf, len);

	if (r == PROC_OK)
		free(buf);
	return r;
}

int proc_count_fds(const struct proc_handle *h)
{
	int fd = openat(h->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	int n = 0;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int by_fd(const void *a, const void *b)
{
	const struct proc_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

int proc_read_fds(const struct proc_handle *h, struct proc_fd *fds, int max,
		  int *n)
{
	int fd = openat(h->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	*n = 0;
	if (fd < 0)
		return gone_or_error();
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;

		close(fd);
		errno = e;
		return PROC_ERROR;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct proc_fd *f;
		char path[NAME_MAX + 8], info[512];
		long long num = 0;
		ssize_t len;
		size_t got;
		bool digits = e->d_name[0] != '\0';

		/* a number, as every entry is: ".", ".." and else skipped */
		for (const char *q = e->d_name; *q != '\0' && digits; q++) {
			digits = *q >= '0' && *q <= '9' && num <= INT_MAX / 10;
			num = num * 10 + (*q - '0');
		}
		if (!digits || num > INT_MAX)
			continue;
		if ((*n)++ >= max)
			continue;       /* counted, not kept */
		f = &fds[*n - 1];
		memset(f, 0, sizeof(*f));
		f->fd = (int)num;
		snprintf(path, sizeof(path), "fd/%s", e->d_name);
		len = readlinkat(h->dirfd, path, f->target,
				 sizeof(f->target) - 1);
		f->target[len > 0 ? len : 0] = '\0';
		snprintf(path, sizeof(path), "fdinfo/%s", e->d_name);
		if (proc_read_file(h, path, info, sizeof(info), &got) ==
		    PROC_OK)
			f->flags_ok = procfs_parse_fdinfo_flags(info, got,
							       &f->flags) == 0;
	}
	closedir(d);
	qsort(fds, (size_t)(*n < max ? *n : max), sizeof(*fds), by_fd);
	return PROC_OK;
}

int proc_read_link(const struct proc_handle *h, const char *name, char *buf,
		   size_t size)
{
	ssize_t len = readlinkat(h->dirfd, name, buf, size - 1);

	if (len < 0) {
		buf[0] = '\0';
		return gone_or_error();
	}
	buf[len] = '\0';
	return PROC_OK;
}

int proc_read_fd_link(const struct proc_handle *h, int fd, char *buf,
		      size_t size)
{
	char name[32];
	ssize_t n;

	if (size == 0 || fd < 0) {
		errno = EINVAL;
		return PROC_ERROR;
	}
	snprintf(name, sizeof(name), "fd/%d", fd);
	n = readlinkat(h->dirfd, name, buf, size - 1);
	if (n < 0) {
		buf[0] = '\0';
		/* ENOENT is a missing fd while the process is there */
		if (errno == ENOENT && faccessat(h->dirfd, "fd", F_OK, 0) < 0)
			return gone_or_error();
		return errno == ESRCH ? PROC_GONE : PROC_ERROR;
	}
	buf[n] = '\0';
	return PROC_OK;
}

int procfs_parse_pipe_link(const char *buf, size_t len,
			   unsigned long long *inode)
{
	static const char head[] = "pipe:[";
	size_t hl = sizeof(head) - 1, i;
	unsigned long long v = 0;

	if (len < hl + 2 || memcmp(buf, head, hl) != 0 || buf[len - 1] != ']')
		return -1;
	for (i = hl; i < len - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9' || i - hl >= 20)
			return -1;
		if (v > (~0ULL - (unsigned)(buf[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(buf[i] - '0');
	}
	*inode = v;
	return 0;
}

int proc_owner(const struct proc_handle *h, uid_t *uid)
{
	struct stat sb;

	if (fstat(h->dirfd, &sb) < 0)
		return gone_or_error();
	*uid = sb.st_uid;
	return PROC_OK;
}

int proc_file_owner(const struct proc_handle *h, const char *name, uid_t *uid)
{
	struct stat sb;

	if (fstatat(h->dirfd, name, &sb, 0) < 0)
		return gone_or_error();
	*uid = sb.st_uid;
	return PROC_OK;
}

int proc_mem_available(long long *kb)
{
	char buf[8192];
	size_t got = 0;
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return PROC_ERROR;
	while (got + 1 < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (procfs_parse_meminfo_available(buf, got, kb) < 0) {
		errno = EPROTO;
		return PROC_ERROR;
	}
	return PROC_OK;
}

int proc_count_tasks(uid_t uid, long long *n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	*n = 0;
	if (d == NULL)
		return PROC_ERROR;
	while ((e = readdir(d)) != NULL) {
		char task[NAME_MAX + 8];
		struct stat st;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
		    st.st_uid != uid)
			continue;
		snprintf(task, sizeof(task), "%s/task", e->d_name);
		/* gone in between, or unreadable: one task all the same */
		if (fstatat(dirfd(d), task, &st, 0) == 0 && st.st_nlink > 2)
			*n += (long long)st.st_nlink - 2;
		else
			*n += 1;
	}
	closedir(d);
	return PROC_OK;
}

int proc_read_sysctl(const char *name, char *buf, size_t size, size_t *len)
{
	struct proc_handle h = { .pid = 0, .statfd = -1 };
	size_t n;
	int r, e;

	h.dirfd = open("/proc/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h.dirfd < 0)
		return PROC_ERROR;
	r = proc_read_file(&h, name, buf, size, &n);
	e = errno;
	close(h.dirfd);
	errno = e;
	if (r != PROC_OK)
		return r;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (len)
		*len = n;
	return PROC_OK;
}
