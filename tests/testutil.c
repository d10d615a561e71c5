/* testutil.c - run proclab, collect its output, parse JSON Lines. */
#include "proclab.h"
#include "testutil.h"

#include "escape.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void run_proclab(struct outcome *o, const char *input, const char *const argv[])
{
	run_proclab_as(o, input, argv, NULL, NULL);
}

void run_proclab_as(struct outcome *o, const char *input,
		    const char *const argv[], int (*before_exec)(void *),
		    void *arg)
{
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	const char *args[64];
	int out[2], err[2], in[2];
	size_t nargs = 0, inlen = input ? strlen(input) : 0, inoff = 0;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	o->out = calloc(1, 1);
	o->err = calloc(1, 1);
	args[nargs++] = "proclab";
	while (argv[nargs - 1] != NULL && nargs < 63) {
		args[nargs] = argv[nargs - 1];
		nargs++;
	}
	args[nargs] = NULL;
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (before_exec != NULL && before_exec(arg) < 0)
			_exit(126);
		execv(prog, (char *const *)args);
		_exit(127);
	}
	o->sid = pid;
	close(out[1]);
	close(err[1]);
	close(in[0]);
	if (inlen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int open = 2; open > 0;) {
		struct pollfd p[3] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 },
				       { in[1], POLLOUT, 0 } };
		ck_assert_int_ge(poll(p, in[1] >= 0 ? 3 : 2, -1), 0);
		for (int i = 0; i < 2; i++) {
			char buf[4096];
			ssize_t n;
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				*(i == 0 ? &out[0] : &err[0]) = -1;
				open--;
				continue;
			}
			if (i == 0)
				append(&o->out, &o->outlen, buf, (size_t)n);
			else
				append(&o->err, &o->errlen, buf, (size_t)n);
		}
		if (in[1] >= 0 && p[2].revents) {
			ssize_t n = write(in[1], input + inoff, inlen - inoff);
			if (n > 0)
				inoff += (size_t)n;
			if (n < 0 || inoff == inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	ck_assert_int_eq(waitpid(pid, &o->status, 0), pid);
	o->code = WIFEXITED(o->status) ? WEXITSTATUS(o->status)
				       : 128 + WTERMSIG(o->status);
}

void outcome_free(struct outcome *o)
{
	free(o->out);
	free(o->err);
}

pid_t blocked_child(const char *name, int *wfd)
{
	pid_t parent = getpid(), pid;
	int p[2], ready[2];
	char c;

	/* close-on-exec, so that proclab holds no write end */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
		    (name != NULL && prctl(PR_SET_NAME, name) < 0) ||
		    write(ready[1], "", 1) != 1)
			_exit(127);
		/* keep only the read end: no sibling's write end either */
		if (dup2(p[0], 3) < 0 || close_range(4, ~0U, 0) < 0)
			_exit(126);
		while (read(3, &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*wfd = p[1];
	return pid;
}

static int count_session(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024], *close;
		int s;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		close = strrchr(buf, ')');
		/* ") S ppid pgrp session" */
		if (close && sscanf(close + 2, "%*c %*d %*d %d", &s) == 1 &&
		    s == sid)
			n++;
	}
	closedir(d);
	return n;
}

int survivors(pid_t sid)
{
	struct timespec t = { 0, 2000000 };
	int n = count_session(sid);

	/* A child killed by its parent-death signal still has to be reaped by
	 * whoever adopted it: give that a moment, checking as we go. */
	for (int i = 0; i < 500 && n > 0; i++) {
		nanosleep(&t, NULL);
		n = count_session(sid);
	}
	return n;
}

/* ---- a strict little JSON reader, for flat objects ---------------------- */

struct jp {
	const char *p, *end;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t'))
		j->p++;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		*v <<= 4;
		if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
	if (cp < 0x10000) { o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f)); return 3; }
	o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); return 4;
}

/* A string; raw control characters and invalid UTF-8 are errors. */
static int jstring(struct jp *j, char *out, size_t size)
{
	size_t o = 0;

	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		char tmp[4];
		size_t n = 1;

		if (c < 0x20)
			return -1;
		if (c == '\\') {
			unsigned cp;
			if (j->p + 1 >= j->end)
				return -1;
			j->p++;
			switch (*j->p) {
			case '"': tmp[0] = '"'; break;
			case '\\': tmp[0] = '\\'; break;
			case '/': tmp[0] = '/'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u':
				if (j->end - j->p < 5 || hex4(j->p + 1, &cp) < 0 ||
				    (cp >= 0xd800 && cp <= 0xdfff))
					return -1;
				j->p += 4;
				n = put_utf8(tmp, cp);
				break;
			default: return -1;
			}
			j->p++;
		} else {
			if (c >= 0x80) {
				/* must be valid UTF-8 */
				n = utf8_seq_len((const unsigned char *)j->p,
						 (size_t)(j->end - j->p));
				if (n == 0)
					return -1;
			}
			memcpy(tmp, j->p, n);
			j->p += n;
		}
		if (o + n < size) {
			memcpy(out + o, tmp, n);
			o += n;
		}
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	out[o] = '\0';
	return 0;
}

/* The end of the object, array or string at p (nested ones and strings
 * with escapes skipped), or NULL if it does not end before end. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	bool str = false;

	for (; p < end; p++) {
		if (str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				str = false;
			if (!str && depth == 0)
				return p + 1;
			continue;
		}
		if (*p == '"')
			str = true;
		else if (*p == '[' || *p == '{')
			depth++;
		else if ((*p == ']' || *p == '}') && --depth == 0)
			return p + 1;
	}
	return NULL;
}

int json_parse_line(const char *line, size_t len, struct jobj *o)
{
	struct jp j = { line, line + len };

	o->n = 0;
	ws(&j);
	if (j.p >= j.end || *j.p++ != '{')
		return -1;
	ws(&j);
	if (j.p < j.end && *j.p == '}')
		return j.p + 1 == j.end ? 0 : -1;
	for (;;) {
		struct jmember m = { 0 };
		ws(&j);
		if (jstring(&j, m.key, sizeof(m.key)) < 0)
			return -1;
		ws(&j);
		if (j.p >= j.end || *j.p++ != ':')
			return -1;
		ws(&j);
		if (j.p >= j.end)
			return -1;
		if (*j.p == '"') {
			m.type = 's';
			if (jstring(&j, m.str, sizeof(m.str)) < 0)
				return -1;
		} else if (j.end - j.p >= 4 && memcmp(j.p, "true", 4) == 0) {
			m.type = 'b', m.b = true, j.p += 4;
		} else if (j.end - j.p >= 5 && memcmp(j.p, "false", 5) == 0) {
			m.type = 'b', m.b = false, j.p += 5;
		} else if (j.end - j.p >= 4 && memcmp(j.p, "null", 4) == 0) {
			m.type = 'z', j.p += 4;
		} else if (*j.p == '[') {
			const char *e = skip_value(j.p, j.end);

			if (e == NULL)
				return -1;
			m.type = 'a', m.raw = j.p, m.rawlen = (size_t)(e - j.p);
			j.p = e;
		} else {
			char num[64], *e;
			size_t n = 0;
			while (j.p + n < j.end && n < sizeof(num) - 1 &&
			       strchr("-+.eE0123456789", j.p[n]))
				n++;
			memcpy(num, j.p, n);
			num[n] = '\0';
			if (n == 0 || (num[0] == '0' && n > 1 && num[1] != '.') ||
			    (num[0] == '-' && num[1] == '0' && n > 2 && num[2] != '.'))
				return -1;
			m.num = strtod(num, &e);
			if (*e != '\0')
				return -1;
			m.type = 'n';
			j.p += n;
		}
		if (o->n < JMAX)
			o->m[o->n++] = m;
		ws(&j);
		if (j.p >= j.end)
			return -1;
		if (*j.p == ',') {
			j.p++;
			continue;
		}
		if (*j.p++ != '}')
			return -1;
		ws(&j);
		return j.p == j.end ? o->n : -1;
	}
}

const struct jmember *jget(const struct jobj *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->m[i].key, key) == 0)
			return &o->m[i];
	return NULL;
}

const char *jstr(const struct jobj *o, const char *key)
{
	const struct jmember *m = jget(o, key);
	return m && m->type == 's' ? m->str : "";
}

double jnum(const struct jobj *o, const char *key)
{
	const struct jmember *m = jget(o, key);
	return m && m->type == 'n' ? m->num : -1e300;
}

bool jbool(const struct jobj *o, const char *key)
{
	const struct jmember *m = jget(o, key);
	return m && m->type == 'b' && m->b;
}

static bool is(const struct jobj *e, const char *event, const char *role)
{
	return strcmp(jstr(e, "event"), event) == 0 &&
	       (role == NULL || strcmp(jstr(e, "role"), role) == 0);
}

void demonstrated(const struct jobj *ev, int n, const char *role, char *out,
		  size_t size)
{
	size_t k = 0;

	for (int i = 0; i < n && k + 1 < size; i++)
		if (is(&ev[i], "state", role) && !jbool(&ev[i], "transient"))
			out[k++] = jstr(&ev[i], "state")[0];
	out[k] = '\0';
}

void assert_demonstrated(const struct jobj *ev, int n, const char *role,
			 const char *want)
{
	char seq[64];

	demonstrated(ev, n, role, seq, sizeof(seq));
	ck_assert_msg(strcmp(seq, want) == 0, "%s demonstrated \"%s\", "
		      "expected \"%s\"", role, seq, want);
}

const struct jobj *nth_event(const struct jobj *ev, int n, const char *event,
			     const char *role, int k)
{
	for (int i = 0; i < n; i++)
		if (is(&ev[i], event, role) && k-- == 0)
			return &ev[i];
	return NULL;
}

int json_lines(const char *out, struct jobj *objs, int max)
{
	int n = 0;

	while (*out != '\0') {
		const char *eol = strchr(out, '\n');
		ck_assert_msg(eol != NULL, "output does not end with a newline");
		ck_assert_int_lt(n, max);
		ck_assert_msg(json_parse_line(out, (size_t)(eol - out), &objs[n]) >= 0,
			      "not a JSON object: %.*s", (int)(eol - out), out);
		n++;
		out = eol + 1;
	}
	return n;
}

/* ---- proclab while it runs ---------------------------------------------- */

void live_start(struct live *l, const char *const argv[])
{
	live_start_as(l, argv, NULL, NULL);
}

void live_start_as(struct live *l, const char *const argv[],
		   int (*before_exec)(void *), void *arg)
{
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	const char **args;
	int out[2], err[2], in[2];
	size_t n = 0;

	memset(l, 0, sizeof(*l));
	while (argv[n] != NULL)
		n++;
	args = calloc(n + 2, sizeof(*args));
	ck_assert_ptr_nonnull(args);
	args[0] = "proclab";
	memcpy(args + 1, argv, n * sizeof(*args));
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	fflush(NULL);
	l->pid = fork();
	ck_assert_int_ge(l->pid, 0);
	if (l->pid == 0) {
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (before_exec != NULL && before_exec(arg) < 0)
			_exit(126);
		execv(prog, (char *const *)args);
		_exit(127);
	}
	free(args);
	close(out[1]);
	close(err[1]);
	close(in[0]);
	l->in = in[1];
	l->out = out[0];
	l->err = err[0];
	signal(SIGPIPE, SIG_IGN);
}

int live_next(struct live *l, struct jobj *o)
{
	for (;;) {
		char *eol = memchr(l->buf, '\n', l->len);
		struct pollfd p = { l->out, POLLIN, 0 };
		ssize_t n;

		if (eol != NULL) {
			size_t k = (size_t)(eol - l->buf);
			ck_assert_msg(json_parse_line(l->buf, k, o) >= 0,
				      "not a JSON object: %.*s", (int)k, l->buf);
			memmove(l->buf, eol + 1, l->len - k - 1);
			l->len -= k + 1;
			return 1;
		}
		ck_assert_msg(l->len < sizeof(l->buf), "line too long");
		/* a guard against a hung proclab, not a synchronisation */
		ck_assert_msg(poll(&p, 1, 20000) == 1,
			      "proclab printed nothing for 20 s");
		n = read(l->out, l->buf + l->len, sizeof(l->buf) - l->len);
		ck_assert_int_ge(n, 0);
		if (n == 0) {
			ck_assert_msg(l->len == 0, "last line has no newline");
			return 0;
		}
		l->len += (size_t)n;
	}
}

int live_finish(struct live *l, char *err, size_t size)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int status;

	if (l->in >= 0)
		close(l->in);
	l->in = -1;
	while ((n = read(l->out, buf, sizeof(buf))) > 0)
		;
	close(l->out);
	while (size > 0 && (n = read(l->err, err + got, size - 1 - got)) > 0)
		got += (size_t)n;
	if (size > 0)
		err[got] = '\0';
	close(l->err);
	ck_assert_int_eq(waitpid(l->pid, &status, 0), l->pid);
	l->status = status;
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}

void kill_at_pause(const char *const argv[], int stage, int sig,
		   void (*each)(const struct jobj *e, void *arg), void *arg)
{
	struct live l;
	struct jobj e;
	char err[1024];

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1UL), 0);
	live_start(&l, argv);
	for (;;) {
		ck_assert_msg(live_next(&l, &e), "%s ended before the pause of "
			      "stage %d", argv[0], stage);
		if (each != NULL)
			each(&e, arg);
		if (strcmp(jstr(&e, "event"), "pause") != 0)
			continue;
		if ((int)jnum(&e, "stage") == stage)
			break;
		ck_assert_int_eq(write(l.in, "\n", 1), 1);  /* Enter */
	}
	ck_assert_int_eq(kill(l.pid, sig), 0);
	live_finish(&l, err, sizeof(err));
	/* an orderly end exits 128 + signo; SIGKILL allows no end at all */
	if (sig == SIGKILL)
		ck_assert_msg(WIFSIGNALED(l.status) && WTERMSIG(l.status) == sig,
			      "%s: status 0x%x after SIGKILL", argv[0], l.status);
	else
		ck_assert_msg(WIFEXITED(l.status) &&
			      WEXITSTATUS(l.status) == 128 + sig,
			      "%s: status 0x%x after %s: %s", argv[0], l.status,
			      strsignal(sig), err);
	/* Every descendant must end by itself (teardown, or parent-death
	 * signals): one still alive blocks this loop into the test's
	 * timeout, a failure as it must be. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_int_eq(survivors(l.pid), 0);
}

int stage_number(const char *lab, const char *name)
{
	const struct lab *l = NULL;
	struct run r = { 0 };
	int k = 0;

	for (size_t i = 0; i < lab_count; i++)
		if (strcmp(lab_table[i]->name, lab) == 0)
			l = lab_table[i];
	ck_assert_msg(l != NULL && l->stages != NULL,
		      "no lab %s with a table of stages", lab);
	r.lab = l;
	for (const struct stage *s = l->stages; s->name != NULL; s++) {
		if (!stage_applies(&r, s))
			continue;
		k++;
		if (name != NULL && strcmp(s->name, name) == 0)
			return k;
	}
	ck_assert_msg(name == NULL, "the %s lab has no stage %s", lab, name);
	return k;
}

static const char *const lab_variants[][4] = {
	{ "fork", "--children", "4", NULL },
	{ "zombie", "--ignore-sigchld", NULL },
	{ "orphan", "--subreaper", NULL },
};

int lab_cases(void)
{
	int n = 0;

	for (size_t i = 0; i < lab_count; i++)
		n += lab_table[i]->args == NULL;
	return n + (int)(sizeof(lab_variants) / sizeof(lab_variants[0]));
}

const char *const *lab_case(int i)
{
	static const char *argv[2];

	for (size_t l = 0; l < lab_count; l++) {
		if (lab_table[l]->args != NULL)
			continue;
		if (i-- == 0) {
			argv[0] = lab_table[l]->name;
			argv[1] = NULL;
			return argv;
		}
	}
	ck_assert_int_lt(i, (int)(sizeof(lab_variants) / sizeof(lab_variants[0])));
	return lab_variants[i];
}

int jarray(const struct jobj *o, const char *key, struct jobj *objs, int max)
{
	const struct jmember *m = jget(o, key);
	struct jp j;
	int n = 0;

	if (m == NULL || m->type != 'a')
		return -1;
	j.p = m->raw + 1;
	j.end = m->raw + m->rawlen - 1;
	ws(&j);
	while (j.p < j.end) {
		struct jobj tmp, *dst = n < max ? &objs[n] : &tmp;

		if (*j.p == '"') {
			dst->n = 1;
			memset(&dst->m[0], 0, sizeof(dst->m[0]));
			dst->m[0].type = 's';
			if (jstring(&j, dst->m[0].str, sizeof(dst->m[0].str)) < 0)
				return -1;
		} else {
			const char *e = skip_value(j.p, j.end);

			if (*j.p != '{' || e == NULL ||
			    json_parse_line(j.p, (size_t)(e - j.p), dst) < 0)
				return -1;
			j.p = e;
		}
		n++;
		ws(&j);
		if (j.p < j.end && *j.p++ != ',')
			return -1;
		ws(&j);
	}
	return n < max ? n : max;
}

const struct jobj *claim_event(const struct jobj *ev, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jstr(&ev[i], "event"), "claim") == 0 &&
		    strcmp(jstr(&ev[i], "id"), id) == 0)
			return &ev[i];
	return NULL;
}

int role_pid(const struct jobj *ev, int n, const char *role)
{
	const struct jobj *e = nth_event(ev, n, "state", role, 0);

	ck_assert_msg(e != NULL, "no state event for %s", role);
	return (int)jnum(e, "pid");
}

/* ---- the text view as a terminal shows it -------------------------------- */

int widest(const char *out, char *line, size_t size)
{
	int max = 0;

	for (const char *p = out; *p != '\0';) {
		size_t len = strcspn(p, "\r\n");
		int cols = emit_columns(p, len);

		if (cols > max) {
			max = cols;
			snprintf(line, size, "%.*s", (int)len, p);
		}
		p += len;
		p += strspn(p, "\r\n");
	}
	return max;
}

char *run_in_pty(const char *const argv[], int cols, const char *const env[],
		 int *code)
{
	struct winsize ws = { .ws_row = 50, .ws_col = (unsigned short)cols };
	const char *prog = getenv("PROCLAB") ? getenv("PROCLAB") : "./proclab";
	const char *args[32];
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);
	int master, status;
	pid_t pid;

	ck_assert_ptr_nonnull(f);
	args[n++] = "proclab";
	for (; argv[n - 1] != NULL && n < 31; n++)
		args[n] = argv[n - 1];
	args[n] = NULL;
	fflush(NULL);
	pid = forkpty(&master, NULL, NULL, &ws);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		unsetenv("COLUMNS");
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		execv(prog, (char *const *)args);
		_exit(127);
	}
	for (;;) {
		char chunk[4096];
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t got;

		ck_assert_int_eq(poll(&p, 1, 30000), 1);
		got = read(master, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)           /* EIO: the child closed its side */
			break;
		fwrite(chunk, 1, (size_t)got, f);
	}
	close(master);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(survivors(pid), 0);
	return buf;
}
