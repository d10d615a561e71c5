/* emit.c - the human timeline and JSON Lines, from the same calls. */
#include "emit.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "wstatus.h"
#include "proclab.h"

#define BOLD  "\033[1m"
#define DIM   "\033[2m"
#define RESET "\033[0m"

static const char *state_color(char s)
{
	switch (s) {
	case 'R': return "\033[32m";  /* green */
	case 'S': return "\033[34m";  /* blue */
	case 'D': return "\033[35m";  /* magenta */
	case 'T': case 't': return "\033[33m"; /* yellow */
	case 'Z': return "\033[31m";  /* red */
	default: return "\033[2m";
	}
}

/* What a letter means, for changes seen in passing. */
static const char *state_meaning(char s)
{
	switch (s) {
	case 'R': return "on a CPU or ready for one";
	case 'S': return "waiting for an event";
	case 'D': return "waiting, and signals must wait too";
	case 'T': return "stopped by a signal";
	case 't': return "stopped by its tracer";
	case 'Z': return "exited; not waited for yet";
	case 'X': return "being released";
	default: return "";
	}
}

bool emit_want_color(bool no_color_option)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (no_color_option || (nc != NULL && nc[0] != '\0'))
		return false;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

void emit_flush(struct run *r)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	/* Nobody reads us any more: stop the lab, leave nothing behind. */
	int e = errno;
	run_teardown(r);
	if (e != EPIPE)
		pl_warnx(r, "cannot write to standard output: %s", strerror(e));
	_exit(PL_EXIT_FAIL);
}

/* Where the event being rendered goes: stdout, or with --stable inside
 * emit_unordered_begin/end, a line held back to be sorted. */
static FILE *out;
static struct {
	bool on;
	char **v;
	size_t n, cap;
	char *buf;
	size_t len;
} held;

static void line_start(void)
{
	out = stdout;
	if (held.on && held.n < held.cap) {
		FILE *f = open_memstream(&held.buf, &held.len);

		if (f != NULL)          /* else printed in the order it came */
			out = f;
	}
}

static void line_end(struct run *r)
{
	if (out == stdout) {
		emit_flush(r);
		return;
	}
	if (fclose(out) == 0)
		held.v[held.n++] = held.buf;
	else
		free(held.buf);
	held.buf = NULL;
	out = stdout;
}

void emit_unordered_begin(struct run *r)
{
	if (!r->stable || held.on)
		return;
	held.cap = 256;
	held.n = 0;
	held.v = calloc(held.cap, sizeof(*held.v));
	held.on = held.v != NULL;
	if (!held.on)
		held.cap = 0;
}

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void emit_unordered_end(struct run *r)
{
	if (!held.on)
		return;
	held.on = false;
	qsort(held.v, held.n, sizeof(*held.v), by_bytes);
	for (size_t i = 0; i < held.n; i++) {
		fputs(held.v[i], stdout);
		free(held.v[i]);
	}
	free(held.v);
	held.v = NULL;
	held.n = held.cap = 0;
	emit_flush(r);
}

static void color(const struct run *r, const char *c)
{
	if (r->color)
		fputs(c, out);
}

/* ---- --stable: roles for pids ------------------------------------------ */

/* The role of a pid this run knows (proclab itself, a watched process, a
 * child from pl_fork), or NULL.  Newest first: a pid reused within the
 * run names the latest process. */
static const char *known_role(const struct run *r, long long pid)
{
	if (pid == r->self)
		return "proclab";
	for (int i = r->obs.n - 1; i >= 0; i--)
		if (r->obs.w[i].pid == pid)
			return r->obs.w[i].role;
	for (int i = r->kids.n - 1; i >= 0; i--)
		if (r->kids.k[i].pid == pid && r->kids.k[i].role != NULL)
			return r->kids.k[i].role;
	return NULL;
}

/* What stands for pid in stable output; NULL for 0 and negative numbers
 * (no process: "ppid 0", "waitpid(-1)"), which are printed as they are. */
static const char *pid_role(const struct run *r, long long pid)
{
	const char *role;

	if (pid <= 0)
		return NULL;
	role = known_role(r, pid);
	if (role != NULL)
		return role;
	return pid == 1 ? "pid1" : "pid?";
}

/* A list of comma-separated pids, each replaced by its role. */
static void pids_roles(const struct run *r, const char *in, char *dst,
		       size_t size)
{
	size_t len = 0;

	dst[0] = '\0';
	while (*in != '\0' && len < size) {
		char *end;
		long long pid = strtoll(in, &end, 10);
		const char *role = end > in ? pid_role(r, pid) : NULL;
		size_t n = strcspn(in, ",");

		if (role != NULL && (size_t)(end - in) == n)
			len += (size_t)snprintf(dst + len, size - len, "%s",
						role);
		else
			len += (size_t)snprintf(dst + len, size - len, "%.*s",
						(int)n, in);
		in += n;
		if (*in == ',' && len < size)
			len += (size_t)snprintf(dst + len, size - len, ",");
		if (*in == ',')
			in++;
	}
}

/* A lab's explanation with every whole number that is the pid of a
 * process this run knows replaced by its role.  Only for the `why` of a
 * state event, fixed sentences where a pid is the only number that
 * varies ("its parent 4242 has not waited"); 0 and 1 are left alone. */
static void text_roles(const struct run *r, const char *in, char *dst,
		       size_t size)
{
	size_t len = 0;

	while (*in != '\0' && len + 1 < size) {
		size_t n = strspn(in, "0123456789");
		bool word = n > 0 && n < 10 &&
			    (len == 0 || !isalnum((unsigned char)dst[len - 1])) &&
			    !isalnum((unsigned char)in[n]) && in[n] != '_';
		const char *role = NULL;

		if (word) {
			long long v = strtoll(in, NULL, 10);
			role = v > 1 ? known_role(r, v) : NULL;
		}
		if (role != NULL) {
			len += (size_t)snprintf(dst + len, size - len, "%s",
						role);
			in += n;
		} else {
			n = n > 0 ? n : 1;
			len += (size_t)snprintf(dst + len, size - len, "%.*s",
						(int)n, in);
			in += n;
		}
	}
	dst[len < size ? len : size - 1] = '\0';
}

static void json_head(struct run *r, const char *event)
{
	if (r->stable)
		fputs("{\"t\":null,\"lab\":", out);
	else
		fprintf(out, "{\"t\":%.6f,\"lab\":", run_elapsed(r));
	json_put_string(out, r->lab->name, strlen(r->lab->name));
	fputs(",\"event\":", out);
	json_put_string(out, event, strlen(event));
	fprintf(out, ",\"stage\":%d", r->stage);
}

static void text_head(struct run *r)
{
	color(r, DIM);
	if (r->stable)
		fprintf(out, "[%d] ", r->stage);   /* the time, which varies */
	else
		fprintf(out, "%9.3f ms  ", run_elapsed(r) * 1e3);
	color(r, RESET);
}

/* A string in a canonical line: bare when that is unambiguous, else as a
 * JSON string (quoted and escaped). */
static void text_word(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=' ||
		    *p == '\\')
			break;
	if (*s != '\0' && *p == '\0')
		fputs(s, out);
	else
		json_put_string(out, s, strlen(s));
}

static void json_str(const char *s)
{
	json_put_string(out, s, strlen(s));
}

/* One field's value: numbers as they are, strings through put_str (a JSON
 * string, or a word of the text view), a pid as its role with --stable. */
static void put_value(const struct run *r, const struct field *f,
		      void (*put_str)(const char *s))
{
	const char *role;
	char roles[512], c[2];

	switch (f->type) {
	case FT_PID:
		role = r->stable ? pid_role(r, f->i) : NULL;
		if (role != NULL)
			put_str(role);
		else
			fprintf(out, "%lld", f->i);
		return;
	case FT_PIDS:
		if (f->s != NULL && r->stable) {
			pids_roles(r, f->s, roles, sizeof(roles));
			put_str(roles);
			return;
		}
		break;
	case FT_INT:
		fprintf(out, "%lld", f->i);
		return;
	case FT_NUM:
		if (isfinite(f->d)) {
			fprintf(out, "%.6g", f->d);
			return;
		}
		break;
	case FT_BOOL:
		fputs(f->b ? "true" : "false", out);
		return;
	case FT_CHAR:
		if (f->c != '\0') {
			c[0] = f->c, c[1] = '\0';
			put_str(c);
			return;
		}
		break;
	case FT_STR:
	case FT_NULL:
	case FT_END:
		break;
	}
	if ((f->type == FT_STR || f->type == FT_PIDS) && f->s != NULL)
		put_str(f->s);
	else
		fputs("null", out);
}

static void json_fields(const struct run *r, const struct field *f)
{
	for (; f->type != FT_END; f++) {
		fputc(',', out);
		json_str(f->key);
		fputc(':', out);
		if (r->stable && f->meas)
			fputs("null", out);
		else
			put_value(r, f, json_str);
	}
}

/* --stable's text view of an event: its fields, not the lab's sentence
 * (which embeds pids and measured numbers).  "key=value" each, a pid as
 * its role, a measured value as "~". */
static void text_fields(const struct run *r, const struct field *f)
{
	for (; f->type != FT_END; f++) {
		fprintf(out, " %s=", f->key);
		if (f->meas)
			fputc('~', out);
		else
			put_value(r, f, text_word);
	}
}

void emitf(struct run *r, const char *event, const struct field *fields,
	  const char *fmt, ...)
{
	line_start();
	if (r->json) {
		json_head(r, event);
		json_fields(r, fields);
		fputs("}\n", out);
	} else if (r->stable) {
		text_head(r);
		fprintf(out, "%-8s", event);
		text_fields(r, fields);
		fputc('\n', out);
	} else {
		char text[2048];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		text_head(r);
		fprintf(out, "%-8s ", event);
		text_put_string(out, text, strlen(text));
		fputc('\n', out);
	}
	line_end(r);
}

void emit_state(struct run *r, struct watched *w, char from,
		bool transient, const char *why)
{
	char state = w->state, stable_why[1024];

	r->shown += !transient;
	/* the text view keeps to what the stages demonstrate unless -v;
	 * --stable leaves out what may differ from run to run */
	if ((!r->json && transient && !r->verbose) ||
	    (r->stable && transient))
		return;
	/* Caught in the instant of its release, a process shows X with ppid 0
	 * and its entry not yet gone; a moment later the entry is gone.
	 * Which one a run sees is luck: --stable blanks the difference. */
	bool racy = r->stable && state == 'X';

	if (r->stable)          /* what came before may have been transient */
		from = w->shown;
	if (!transient)
		w->shown = state;
	line_start();
	if (r->json) {
		json_head(r, "state");
		json_fields(r, FIELDS(F_PID("pid", w->pid),
				   racy ? F_MEAS("ppid", (long long)w->ppid)
					: F_PID("ppid", w->ppid),
				   F_STR("role", w->role), F_CHAR("state", state),
				   F_CHAR("from", from)));
		fputs(",\"comm\":", out);
		json_put_string(out, w->st.comm, strlen(w->st.comm));
		if (w->gone && !racy)
			fputs(",\"gone\":true", out);
		if (transient)
			fputs(",\"transient\":true", out);
		fputs("}\n", out);
		line_end(r);
		return;
	}
	text_head(r);
	if (transient)
		color(r, DIM);
	if (racy) {
		fprintf(out, "%-10s ppid %-10s ", w->role, "~");
	} else if (r->stable) {
		const char *pr = pid_role(r, w->ppid);

		if (pr != NULL)
			fprintf(out, "%-10s ppid %-10s ", w->role, pr);
		else
			fprintf(out, "%-10s ppid %-10d ", w->role, (int)w->ppid);
	} else {
		fprintf(out, "%-8s %7d  ppid %-7d ", w->role, (int)w->pid,
		       (int)w->ppid);
	}
	if (!transient)
		color(r, state_color(state));
	text_put_string(out, &state, 1);    /* a byte from /proc */
	fprintf(out, " %-13s", w->gone || racy ? "released"
					       : procfs_state_name(state));
	if (!transient)
		color(r, RESET);
	if (why == NULL)
		why = w->gone || racy ? "its /proc entry is gone"
				      : state_meaning(state);
	if (r->stable) {
		text_roles(r, why, stable_why, sizeof(stable_why));
		why = stable_why;
	}
	text_put_string(out, why, strlen(why));
	if (w->named && from == '\0' && !w->gone) {
		/* a name from whoever started the process: escaped */
		fputs(" (comm: ", out);
		text_put_string(out, w->st.comm, strlen(w->st.comm));
		fputc(')', out);
	}
	if (transient)
		fputs(" (in passing)", out);
	color(r, RESET);
	fputc('\n', out);
	line_end(r);
}

void emit_stage(struct run *r, const char *name, const char *what)
{
	line_start();
	if (r->json) {
		json_head(r, "stage");
		json_fields(r, FIELDS(F_STR("name", name), F_STR("what", what)));
		fputs("}\n", out);
	} else {
		fputc('\n', out);
		color(r, BOLD);
		fprintf(out, "stage %d: %s", r->stage, name);
		color(r, RESET);
		fputs(" - ", out);
		text_put_string(out, what, strlen(what));
		fputc('\n', out);
	}
	line_end(r);
}

void emit_wstatus(struct run *r, pid_t pid, const char *role,
		  const char *call, const struct wstatus *w)
{
	emit_wstatus_by(r, pid, role, call, getpid(), w);
}

void emit_wstatus_by(struct run *r, pid_t pid, const char *role,
		     const char *call, pid_t by, const struct wstatus *w)
{
	struct field f[16];
	int n = 0;
	char how[64], raw[48] = "";
	const char *event = w->exited || w->signaled ? "reap" : "status";

	f[n++] = F_PID("pid", pid);
	f[n++] = F_STR("role", role);
	f[n++] = F_PID("by", by);
	f[n++] = F_STR("call", call);
	f[n++] = w->raw >= 0 ? F_INT("raw", w->raw) : F_NULL("raw");
	f[n++] = F_BOOL("exited", w->exited);
	if (w->exited)
		f[n++] = F_INT("code", w->code);
	f[n++] = F_BOOL("signaled", w->signaled);
	if (w->signaled || w->stopped) {
		f[n++] = F_INT("signal", w->sig);
		f[n++] = F_STR("signame", wstatus_signame(w->sig).s);
	}
	if (w->signaled)
		f[n++] = F_BOOL("core", w->core);
	f[n++] = F_BOOL("stopped", w->stopped);
	f[n++] = F_BOOL("continued", w->continued);
	f[n] = (struct field){ .type = FT_END };

	wstatus_describe(w, how, sizeof(how));
	if (w->raw >= 0)
		snprintf(raw, sizeof(raw), " (status 0x%04x)", (unsigned)w->raw);
	emitf(r, event, f, "%s %d %s by %s() in pid %d: %s%s", role, (int)pid,
	     w->exited || w->signaled ? "reaped" : "reported", call,
	     (int)by, how, raw);
}
