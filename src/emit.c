/* emit.c - the human timeline and JSON Lines, from the same calls. */
#include "emit.h"

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

static void color(const struct run *r, const char *c)
{
	if (r->color)
		fputs(c, stdout);
}

static void json_head(struct run *r, const char *event)
{
	printf("{\"t\":%.6f,\"lab\":", run_elapsed(r));
	json_put_string(stdout, r->lab->name, strlen(r->lab->name));
	fputs(",\"event\":", stdout);
	json_put_string(stdout, event, strlen(event));
	printf(",\"stage\":%d", r->stage);
}

static void json_fields(const struct field *f)
{
	for (; f->type != FT_END; f++) {
		putchar(',');
		json_put_string(stdout, f->key, strlen(f->key));
		putchar(':');
		switch (f->type) {
		case FT_INT:
			printf("%lld", f->i);
			break;
		case FT_NUM:
			if (isfinite(f->d))
				printf("%.6g", f->d);
			else
				fputs("null", stdout);
			break;
		case FT_STR:
			if (f->s != NULL)
				json_put_string(stdout, f->s, strlen(f->s));
			else
				fputs("null", stdout);
			break;
		case FT_BOOL:
			fputs(f->b ? "true" : "false", stdout);
			break;
		case FT_CHAR:
			if (f->c != '\0')
				json_put_string(stdout, &f->c, 1);
			else
				fputs("null", stdout);
			break;
		case FT_NULL:
		case FT_END:
			fputs("null", stdout);
			break;
		}
	}
}

static void text_head(struct run *r)
{
	color(r, DIM);
	printf("%9.3f ms  ", run_elapsed(r) * 1e3);
	color(r, RESET);
}

void emit(struct run *r, const char *event, const struct field *fields,
	  const char *fmt, ...)
{
	if (r->json) {
		json_head(r, event);
		json_fields(fields);
		fputs("}\n", stdout);
	} else {
		char text[2048];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		text_head(r);
		printf("%-8s ", event);
		text_put_string(stdout, text, strlen(text));
		putchar('\n');
	}
	emit_flush(r);
}

void emit_state(struct run *r, const struct watched *w, char from,
		bool transient, const char *why)
{
	char state = w->state;

	/* the text view keeps to what the stages demonstrate unless -v */
	if (!r->json && transient && !r->verbose)
		return;
	if (r->json) {
		json_head(r, "state");
		json_fields(FIELDS(F_PID("pid", w->pid), F_PID("ppid", w->ppid),
				   F_STR("role", w->role), F_CHAR("state", state),
				   F_CHAR("from", from)));
		fputs(",\"comm\":", stdout);
		json_put_string(stdout, w->st.comm, strlen(w->st.comm));
		if (w->gone)
			fputs(",\"gone\":true", stdout);
		if (transient)
			fputs(",\"transient\":true", stdout);
		fputs("}\n", stdout);
		emit_flush(r);
		return;
	}
	text_head(r);
	if (transient)
		color(r, DIM);
	printf("%-8s %7d  ppid %-7d ", w->role, (int)w->pid, (int)w->ppid);
	if (!transient)
		color(r, state_color(state));
	text_put_string(stdout, &state, 1);    /* a byte from /proc */
	printf(" %-13s", w->gone ? "released" : procfs_state_name(state));
	if (!transient)
		color(r, RESET);
	if (why == NULL)
		why = w->gone ? "its /proc entry is gone" : state_meaning(state);
	text_put_string(stdout, why, strlen(why));
	if (w->named && from == '\0' && !w->gone) {
		/* a name from whoever started the process: escaped */
		fputs(" (comm: ", stdout);
		text_put_string(stdout, w->st.comm, strlen(w->st.comm));
		putchar(')');
	}
	if (transient)
		fputs(" (in passing)", stdout);
	color(r, RESET);
	putchar('\n');
	emit_flush(r);
}

void emit_stage(struct run *r, const char *name, const char *what)
{
	if (r->json) {
		json_head(r, "stage");
		json_fields(FIELDS(F_STR("name", name), F_STR("what", what)));
		fputs("}\n", stdout);
	} else {
		putchar('\n');
		color(r, BOLD);
		printf("stage %d: %s", r->stage, name);
		color(r, RESET);
		fputs(" - ", stdout);
		text_put_string(stdout, what, strlen(what));
		putchar('\n');
	}
	emit_flush(r);
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
	emit(r, event, f, "%s %d %s by %s() in pid %d: %s%s", role, (int)pid,
	     w->exited || w->signaled ? "reaped" : "reported", call,
	     (int)by, how, raw);
}
