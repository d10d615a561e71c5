/* emit.c - the human timeline and JSON Lines, from the same calls.
 *
 * An event is worded by a sentence, a template over its fields (emit.h);
 * the text view is rendered into memory, then wrapped to the width of the
 * terminal at the spaces of its message, continuation lines indented under
 * the message column. */
#include "emit.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include "escape.h"
#include "i18n.h"
#include "wstatus.h"
#include "proclab.h"

#define BOLD  "\033[1m"
#define DIM   "\033[2m"
#define RESET "\033[0m"

/* ---- the engine's sentences: the events every lab shares --------------- */

const struct sentence emit_engine_sentences[] = {
	/* pid, schema, version, kernel; text only: lab */
	{ "start", NULL, "proclab {lab}, pid {pid}, Linux {kernel}", NULL, NULL },
	{ "start", "nopidfd", "proclab {lab}, pid {pid}, Linux {kernel} "
	  "(no pidfds: exits seen by sampling)", NULL, NULL },
	/* a class's run: variant, student, options; text only: values */
	{ "start", "variant", "proclab {lab}, pid {pid}, Linux {kernel}, "
	  "variant {variant} ({values})", NULL, NULL },
	/* signals: what proclab inherited as ignored, space-separated */
	{ "ignored", NULL, "inherited as ignored: {signals}; proclab leaves "
	  "them ignored (they will not end it) and gives its children the "
	  "default action", NULL, NULL },
	/* was, now */
	{ "sigchld", NULL, "SIGCHLD was inherited as {was}, which releases children at exit: proclab set it "
	  "back to {now}, so that a child that ends stays a zombie until "
	  "reaped", NULL, NULL },
	/* ok, exit; with --quiz score, questions */
	{ "result", NULL, "ok: every stage showed what it demonstrates",
	  NULL, NULL },
	{ "result", "failed", "failed: see the message above", NULL, NULL },
	{ "result", "quiz", "ok: every stage showed what it demonstrates; "
	  "quiz: {score} of {questions} right", NULL, NULL },
	{ "result", "failed-quiz", "failed: see the message above; "
	  "quiz: {score} of {questions} right", NULL, NULL },
	/* stage_name, message */
	{ "expect", NULL, "{message}", NULL, NULL },
	{ "unavailable", NULL, "{message}", NULL, NULL },
	/* pids, ps */
	{ "pause", NULL, "look now: {ps}   (Enter continues)", NULL, NULL },
	/* n, role, pid, last, choices */
	{ "question", NULL, "{n}: which state will /proc show next for "
	  "{role} {pid}? Answer R, S, D, T, t, Z or X", NULL, NULL },
	{ "question", "shown", "{n}: which state will /proc show next for "
	  "{role} {pid}, last shown as {last}? Answer R, S, D, T, t, Z or X",
	  NULL, NULL },
	/* n, role, pid, last, choices, given: after a line that is not an
	 * answer */
	{ "question", "again", "{n} again: '{given}' is not one of the "
	  "letters; which state will /proc show next for {role} {pid}? "
	  "Answer R, S, D, T, t, Z or X", NULL, NULL },
	/* n, role, pid, expected, given, correct, seen, why; text only:
	 * name (with the letters seen on the way) */
	{ "answer", NULL, "right: {role} {pid} showed {expected} ({name})",
	  NULL, NULL },
	{ "answer", "why", "right: {role} {pid} showed {expected} ({name}): "
	  "{why}", NULL, NULL },
	{ "answer", "wrong", "wrong, you said '{given}': {role} {pid} showed "
	  "{expected} ({name})", NULL, NULL },
	{ "answer", "wrong-why", "wrong, you said '{given}': {role} {pid} "
	  "showed {expected} ({name}): {why}", NULL, NULL },
	{ "answer", "none", "no answer (end of input): {role} {pid} showed "
	  "{expected} ({name})", NULL, NULL },
	{ "answer", "none-why", "no answer (end of input): {role} {pid} "
	  "showed {expected} ({name}): {why}", NULL, NULL },
	/* pid, role, by, call, raw, exited, code, signaled, signal, signame,
	 * core, stopped, continued; text only: how */
	{ "reap", NULL, "{role} {pid} reaped by {call}() in pid {by}: {how} "
	  "(status 0x{raw:04x})", NULL, NULL },
	{ "reap", "noraw", "{role} {pid} reaped by {call}() in pid {by}: "
	  "{how}", NULL, NULL },
	{ "status", NULL, "{role} {pid} reported by {call}() in pid {by}: "
	  "{how} (status 0x{raw:04x})", NULL, NULL },
	{ "status", "noraw", "{role} {pid} reported by {call}() in pid {by}: "
	  "{how}", NULL, NULL },
	/* pid, call, errno, error; text only: message (strerror) */
	{ "wait", NULL, "{call}({pid}) failed: {error} ({message})",
	  NULL, NULL },
	/* a child that could not set up: role, call (e.g. "fcntl(F_DUPFD)"),
	 * errno, error (its name), message ("the ROLE cannot set up: CALL:
	 * strerror", as on stderr) */
	{ "error", NULL, "{message} ({error})", NULL, NULL },
	/* pid, tracer, tracer_comm: proclab's TracerPid at the start */
	{ "traced", NULL, "proclab is traced by pid {tracer} ({tracer_comm}): "
	  "a tracer that follows forks (strace -f) holds a stopped child in "
	  "t (tracing stop), never T, so a stage that shows T ends with exit "
	  "3 instead", NULL, NULL },
	/* pid: proclab is PID 1 of its PID namespace */
	{ "init", NULL, "proclab is PID 1 of its PID namespace: every orphan "
	  "in it comes to proclab, which reaps those no stage is showing",
	  NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

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
	case 'R': return N_("on a CPU or ready for one");
	case 'S': return N_("waiting for an event");
	case 'D': return N_("waiting, and signals must wait too");
	case 'T': return N_("stopped by a signal");
	case 't': return N_("stopped by its tracer");
	case 'Z': return N_("exited; not waited for yet");
	case 'X': return N_("being released");
	default: return "";
	}
}

const char *pl_state_name(char state)
{
	return gettext(procfs_state_name(state));
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

/* ---- display columns and wrapping -------------------------------------- */

/* Wide characters when the locale cannot tell (LC_CTYPE "C"): the East
 * Asian wide and fullwidth blocks. */
static int wide_fallback(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	       (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	       (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	       (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	       (c >= 0x20000 && c <= 0x3fffd) ? 2 : 1;
}

/* The columns of the character (or escape sequence) at s, n bytes there;
 * *len gets its length in bytes. */
static int char_columns(const char *s, size_t n, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k;
	wchar_t wc;
	mbstate_t st;

	if (u[0] == '\033') {           /* a color: ESC [ ... final byte */
		k = 1;
		if (k < n && u[k] == '[') {
			for (k++; k < n && (u[k] < 0x40 || u[k] > 0x7e); k++)
				;
			k += k < n;
		}
		*len = k;
		return 0;
	}
	if (u[0] < 0x80) {
		*len = 1;
		return 1;
	}
	memset(&st, 0, sizeof(st));
	k = mbrtowc(&wc, s, n, &st);
	if (k != (size_t)-1 && k != (size_t)-2 && k > 0) {
		int w = wcwidth(wc);

		*len = k;
		return w < 0 ? 1 : w;
	}
	k = utf8_seq_len(u, n);
	if (k == 0) {
		*len = 1;
		return 1;
	}
	uint32_t c = k == 2 ? (u[0] & 0x1fu) : k == 3 ? (u[0] & 0x0fu)
						      : (u[0] & 0x07u);
	for (size_t i = 1; i < k; i++)
		c = c << 6 | (u[i] & 0x3fu);
	*len = k;
	return wide_fallback(c);
}

int emit_columns(const char *s, size_t n)
{
	int cols = 0;
	size_t k;

	for (size_t i = 0; i < n; i += k)
		cols += char_columns(s + i, n - i, &k);
	return cols;
}

int emit_text_width(const struct run *r)
{
	struct winsize ws;
	const char *c;
	char *end;
	long v;

	if (r->stable)
		return 80;      /* the same bytes on every terminal */
	if (isatty(STDOUT_FILENO) == 1 &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col < 20 ? 20 : ws.ws_col;
	c = getenv("COLUMNS");
	if (c != NULL && *c != '\0') {
		errno = 0;
		v = strtol(c, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0 && v <= 100000)
			return v < 20 ? 20 : (int)v;
	}
	return 80;
}

/* Whether the character at s[i] is one a line must not begin with
 * (closing punctuation), or, `open`, end with (opening punctuation). */
static bool cjk_sticky(const char *s, size_t n, size_t i, bool open)
{
	static const char *const closing[] = {
		"，", "。", "、", "；", "：", "！", "？", "）", "」", "』", "》",
		"”", "’", "…",
	};
	static const char *const opening[] = { "（", "「", "『", "《", "“",
					       "‘" };
	const char *const *set = open ? opening : closing;
	size_t count = open ? sizeof(opening) / sizeof(opening[0])
			    : sizeof(closing) / sizeof(closing[0]);

	if ((unsigned char)s[i] < 0x80)
		return strchr(open ? "([{<" : ")]}>,.;:!?%", s[i]) != NULL;
	for (size_t j = 0; j < count; j++) {
		size_t l = strlen(set[j]);

		if (l <= n - i && memcmp(s + i, set[j], l) == 0)
			return true;
	}
	return false;
}

/* Whether a line may break before s[i], with no space there: next to a
 * wide (CJK) character, as Chinese text breaks between any two
 * characters, except before closing and after opening punctuation.
 * prev is the offset of the character before, of prev_w columns. */
static bool cjk_break(const char *s, size_t n, size_t i, int prev_w,
		      size_t prev)
{
	size_t k;

	if (prev_w != 2 && char_columns(s + i, n - i, &k) != 2)
		return false;
	return !cjk_sticky(s, n, i, false) && !cjk_sticky(s, n, prev, true);
}

/* Write s (n bytes) to dst, wrapped at `width` columns at the spaces after
 * byte `brk` (and between Chinese characters: cjk_break): a word that
 * does not fit begins a new line indented by `indent` columns, the spaces
 * before it dropped; a word longer than a line goes alone on its line,
 * whole. */
static void wrap_to(FILE *dst, const char *s, size_t n, size_t brk,
		    int indent, int width)
{
	size_t i = 0, k;
	int col = 0;
	bool placed = false;    /* a word of the message is on this line */

	for (; i < brk && i < n; i += k) {
		int w = char_columns(s + i, n - i, &k);

		col = s[i] == '\n' ? 0 : col + w;
		fwrite(s + i, 1, k, dst);
	}
	while (i < n) {
		if (s[i] == '\n') {
			fputc('\n', dst);
			i++;
			col = 0;
			placed = false;
			continue;
		}
		size_t gap0 = i, word0, prev = 0;
		int ww = 0, prev_w = 0;

		while (i < n && s[i] == ' ')
			i++;
		word0 = i;
		/* a word ends at a space, or where a line may break between
		 * two characters without one (Chinese) */
		while (i < n && s[i] != ' ' && s[i] != '\n') {
			int cw = char_columns(s + i, n - i, &k);

			if (i > word0 && cjk_break(s, n, i, prev_w, prev))
				break;
			ww += cw;
			prev = i;
			prev_w = cw;
			i += k;
		}
		int gap = (int)(word0 - gap0);

		if (word0 == i)         /* spaces at the end of the line */
			continue;
		if (col + gap + ww > width && (placed || col > indent)) {
			fprintf(dst, "\n%*s", indent, "");
			col = indent;
		} else {
			fwrite(s + gap0, 1, word0 - gap0, dst);
			col += gap;
		}
		fwrite(s + word0, 1, i - word0, dst);
		col += ww;
		placed = true;
	}
}

char *emit_wrap(const char *line, size_t brk, int indent, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	wrap_to(f, line, strlen(line), brk, indent, width);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int emit_pad(FILE *f, const char *s, int width)
{
	int cols = emit_columns(s, strlen(s));

	fputs(s, f);
	if (cols < width) {
		fprintf(f, "%*s", width - cols, "");
		cols = width;
	}
	return cols;
}

void emit_fold(FILE *f, const char *text, int col, int indent, int width)
{
	char *line = NULL, *wrapped = NULL;

	if (col < indent) {
		fprintf(f, "%*s", indent - col, "");
		col = indent;
	}
	text += strspn(text, " ");
	if (asprintf(&line, "%*s%s", col, "", text) < 0)
		line = NULL;    /* undefined after a failure */
	else
		wrapped = emit_wrap(line, (size_t)col, indent, width);
	fputs(wrapped != NULL ? wrapped + col : text, f);
	fputc('\n', f);
	free(wrapped);
	free(line);
}

/* ---- lines ------------------------------------------------------------- */

/* Where the event being rendered goes.  A text line is rendered into
 * memory first, to be wrapped; with --stable inside emit_unordered_begin/
 * end, a line (text or JSON) is held back to be sorted. */
static FILE *out;
static struct {
	bool mem;               /* out is a memory stream */
	char *buf;
	size_t len;
	long brk;               /* byte offset where wrapping may begin; -1 none */
	int indent;             /* columns of continuation lines */
	int alt_indent;         /* the indent when `indent` leaves too little */
} ln;
static struct {
	bool on;
	char **v;
	size_t n, cap;
} held;

/* --record: while an event is written to the record, as JSON */
static FILE *rec_out;

/* With --record: the emitter writes each event twice, first as JSON to
 * the record, then as the view on stdout (text, or JSON with --json).  Returns true
 * when the caller is to emit the event once more now, into the record,
 * and call record_end() after. */
static bool rec_json;    /* r->json before record_begin() */

static bool record_begin(struct run *r)
{
	if (r->record == NULL || rec_out != NULL)
		return false;
	rec_out = r->record;
	rec_json = r->json;
	r->json = true;
	return true;
}

static void record_end(struct run *r)
{
	r->json = rec_json;
	rec_out = NULL;
	/* whole lines, so that a killed run leaves a readable record */
	fflush(r->record);
}

static bool held_room(void)
{
	return held.on && held.n < held.cap;
}

static void line_start(struct run *r)
{
	FILE *f;

	out = rec_out != NULL ? rec_out : stdout;
	ln.mem = false;
	ln.brk = -1;
	ln.indent = ln.alt_indent = 0;
	if (rec_out != NULL || (r->json && !held_room()))
		return;
	ln.buf = NULL;
	ln.len = 0;
	f = open_memstream(&ln.buf, &ln.len);
	if (f != NULL) {        /* else printed as it comes, unwrapped */
		out = f;
		ln.mem = true;
	}
}

/* The columns of the current line of out (since its last newline). */
static int line_columns(void)
{
	const char *nl;

	if (!ln.mem || fflush(out) != 0 || ln.buf == NULL)
		return 0;
	nl = memrchr(ln.buf, '\n', ln.len);
	nl = nl != NULL ? nl + 1 : ln.buf;
	return emit_columns(nl, ln.len - (size_t)(nl - ln.buf));
}

/* The message of the line begins here: the text view may wrap after this
 * point, continuation lines indented by `indent` columns (-1: the column
 * reached here), or by `alt` when that leaves fewer than 24 columns. */
static void wrap_here(int indent, int alt)
{
	int col;

	if (!ln.mem)
		return;
	col = line_columns();
	ln.brk = ftell(out);
	ln.indent = indent < 0 ? col : indent;
	ln.alt_indent = alt < 0 ? ln.indent : alt;
}

static void line_end(struct run *r)
{
	FILE *f = out, *dst = stdout;
	char *hbuf = NULL;
	size_t hlen = 0;
	int width, indent;

	out = stdout;
	if (!ln.mem) {
		emit_flush(r);
		return;
	}
	ln.mem = false;
	if (fclose(f) != 0) {
		free(ln.buf);
		ln.buf = NULL;
		return;
	}
	if (held_room()) {
		dst = open_memstream(&hbuf, &hlen);
		if (dst == NULL)
			dst = stdout;   /* printed in the order it came */
	}
	if (ln.brk < 0) {
		fwrite(ln.buf, 1, ln.len, dst);
	} else {
		width = emit_text_width(r);
		indent = ln.indent;
		if (width - indent < 24)
			indent = ln.alt_indent;
		if (width - indent < 24)
			indent = width >= 48 ? 8 : 2;
		wrap_to(dst, ln.buf, ln.len, (size_t)ln.brk, indent, width);
	}
	free(ln.buf);
	ln.buf = NULL;
	if (dst == stdout) {
		emit_flush(r);
		return;
	}
	if (fclose(dst) == 0)
		held.v[held.n++] = hbuf;
	else
		free(hbuf);
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

/* Deprecated, for a lab's `why` of a state event that is not a template
 * (has no braces): --stable replaces every whole number in it that is the
 * pid of a process this run knows by its role ("its parent 4242 has not
 * waited"); 0 and 1 are left alone.  A template why names its pids as
 * fields instead; this goes when the last lab's whys are templates. */
static void legacy_why_roles(const struct run *r, const char *in, char *dst,
		       size_t size)
{
	size_t len = 0;

	while (*in != '\0' && len + 1 < size) {
		size_t n = strspn(in, "0123456789");
		bool word = n > 0 && n < 10 &&
			    (len == 0 || !isalnum((unsigned char)dst[len - 1])) &&
			    !isalnum((unsigned char)in[n]) && in[n] != '_';
		const char *role = NULL;

		/* not a pid where pids are small (proclab as PID 1, its
		 * children 2, 3, ...): a manual section, "read(2)", and an
		 * exit code, "code 3" */
		if (word && len >= 2 && dst[len - 1] == '(' &&
		    isalnum((unsigned char)dst[len - 2]) && in[n] == ')')
			word = false;
		if (word && len >= 5 && strncmp(dst + len - 5, "code ", 5) == 0)
			word = false;
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

/* The width of the event-name column: the longest event name among the
 * engine's sentences and this lab's, at least 8. */
static int event_column(const struct run *r)
{
	static const struct lab *lab;
	static int width;
	const struct sentence *s;

	if (width != 0 && lab == r->lab)
		return width;
	lab = r->lab;
	width = 8;
	for (s = emit_engine_sentences; s->event != NULL; s++)
		if ((int)strlen(s->event) > width)
			width = (int)strlen(s->event);
	for (s = lab != NULL ? lab->sentences : NULL; s != NULL && s->event != NULL;
	     s++)
		if ((int)strlen(s->event) > width)
			width = (int)strlen(s->event);
	return width;
}

/* The event's name in its column and the space after it: the message
 * begins here, and its continuation lines under it (also when a name
 * longer than the column pushed this line's message). */
static void text_event(struct run *r, const char *event)
{
	int head = line_columns();

	fprintf(out, "%-*s", event_column(r), event);
	wrap_here(head + event_column(r) + 1, -1);
	fputc(' ', out);
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

static void json_list(const struct run *r, const struct field_list *l);

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
	case FT_LIST:
		json_list(r, f->list);
		return;
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

static void __attribute__((noreturn)) nested_list(const char *key)
{
	fflush(stdout);
	fprintf(stderr, "proclab: emit: field %s: a list in a list's row\n",
		key);
	abort();
}

/* An FT_LIST as a JSON array: rows as objects of their JSON fields. */
static void json_list(const struct run *r, const struct field_list *l)
{
	if (l == NULL) {
		fputs("null", out);
		return;
	}
	fputc('[', out);
	for (int i = 0; i < l->n; i++) {
		if (i > 0)
			fputc(',', out);
		if (l->rows == NULL) {
			if (l->strs[i] != NULL)
				json_str(l->strs[i]);
			else
				fputs("null", out);
			continue;
		}
		const char *sep = "";

		fputc('{', out);
		for (const struct field *f = l->rows[i]; f->type != FT_END;
		     f++) {
			if (f->type == FT_LIST)
				nested_list(f->key);
			if (f->text_only)
				continue;
			fputs(sep, out);
			sep = ",";
			json_str(f->key);
			fputc(':', out);
			if (r->stable && f->meas)
				fputs("null", out);
			else
				put_value(r, f, json_str);
		}
		fputc('}', out);
	}
	fputc(']', out);
}

static void json_fields(const struct run *r, const struct field *f)
{
	for (; f->type != FT_END; f++) {
		if (f->text_only)
			continue;
		fputc(',', out);
		json_str(f->key);
		fputc(':', out);
		if (f->raw)
			fputs(f->s != NULL ? f->s : "null", out);
		else if (r->stable && f->meas)
			fputs("null", out);
		else
			put_value(r, f, json_str);
	}
}

/* emitf()'s --stable text view of an event: its fields, not the lab's
 * printf sentence (which embeds pids and measured numbers).  "key=value"
 * each, a pid as its role, a measured value as "~". */
static void text_fields(const struct run *r, const struct field *f)
{
	const char *sep = "";

	for (; f->type != FT_END; f++) {
		if (f->text_only || f->raw)
			continue;
		fprintf(out, "%s%s=", sep, f->key);
		sep = " ";
		if (f->meas)
			fputc('~', out);
		else
			put_value(r, f, text_word);
	}
}

/* ---- templates --------------------------------------------------------- */

struct tmpl {
	const struct run *r;
	const char *event;      /* for the message of a programming error */
	const char *text;
	const struct field *fields;
	bool escape;            /* values through text_put_string */
	int list_indent;        /* columns before a list's rows */
	bool tr;                /* the text view: translated (i18n.h) */
};

static void __attribute__((noreturn))
tmpl_die(const struct tmpl *t, const char *what, const char *key, size_t n)
{
	fflush(stdout);
	fprintf(stderr, "proclab: emit: event %s: %s {%.*s} in \"%s\"\n",
		t->event != NULL ? t->event : "?", what, (int)n, key, t->text);
	abort();
}

static const struct field *find_field(const struct field *f,
				      const char *key, size_t n)
{
	for (; f != NULL && f->type != FT_END; f++)
		if (strncmp(f->key, key, n) == 0 && f->key[n] == '\0')
			return f;
	return NULL;
}

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		  "0123456789_-"

/* A format suffix: printf's flags, width, precision and conversion. */
struct spec {
	char flags[6];
	int width;              /* -1: none */
	int prec;               /* -1: none */
	char conv;              /* d x X o f g e, or '\0' */
};

static void parse_spec(const struct tmpl *t, const char *s, size_t n,
		       const char *key, size_t kn, struct spec *sp)
{
	size_t i = 0, nf = 0;

	memset(sp, 0, sizeof(*sp));
	sp->width = sp->prec = -1;
	for (; i < n && strchr("-#0+ ", s[i]) != NULL && s[i] != '\0'; i++)
		if (nf < sizeof(sp->flags) - 1)
			sp->flags[nf++] = s[i];
	if (i < n && isdigit((unsigned char)s[i]))
		for (sp->width = 0; i < n && isdigit((unsigned char)s[i]) &&
		     sp->width < 1000; i++)
			sp->width = sp->width * 10 + (s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++, sp->prec = 0; i < n && isdigit((unsigned char)s[i]) &&
		     sp->prec < 100; i++)
			sp->prec = sp->prec * 10 + (s[i] - '0');
	if (i < n && s[i] != '\0' && strchr("dxXofge", s[i]) != NULL)
		sp->conv = s[i++];
	if (i != n || n == 0)
		tmpl_die(t, "a bad format suffix in", key, kn);
}

/* A number as the spec says; false if f is not a number. */
static bool format_number(const struct field *f, const struct spec *sp,
			  char *buf, size_t size)
{
	char fmt[32];
	bool is_int = f->type == FT_INT || f->type == FT_PID;
	bool want_int = sp->conv != '\0' && strchr("dxXo", sp->conv) != NULL;
	int n = snprintf(fmt, sizeof(fmt), "%%%s", sp->flags);

	if (!is_int && (f->type != FT_NUM || !isfinite(f->d)))
		return false;
	if (sp->width >= 0)
		n += snprintf(fmt + n, sizeof(fmt) - (size_t)n, "%d", sp->width);
	if (sp->prec >= 0)
		n += snprintf(fmt + n, sizeof(fmt) - (size_t)n, ".%d", sp->prec);
	if (want_int || (sp->conv == '\0' && is_int)) {
		snprintf(fmt + n, sizeof(fmt) - (size_t)n, "ll%c",
			 sp->conv != '\0' ? sp->conv : 'd');
		snprintf(buf, size, fmt, is_int ? f->i : (long long)f->d);
	} else {
		snprintf(fmt + n, sizeof(fmt) - (size_t)n, "%c",
			 sp->conv != '\0' ? sp->conv : 'g');
		snprintf(buf, size, fmt, is_int ? (double)f->i : f->d);
	}
	return true;
}

static void render(FILE *o, const struct tmpl *t);
static void put_field(FILE *o, const struct tmpl *t, const struct field *f,
		      const struct spec *sp);

static void parse_spec_none(struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->width = sp->prec = -1;
}

/* An FT_LIST in a sentence: each row by the list's row template on a line
 * of its own, or the items joined by ", ". */
static void put_list(FILE *o, const struct tmpl *t,
		     const struct field_list *l)
{
	struct spec none;

	parse_spec_none(&none);
	if (l == NULL) {
		fputc('?', o);
		return;
	}
	for (int i = 0; i < l->n; i++) {
		if (l->rows != NULL && l->row != NULL) {
			struct tmpl rt = *t;

			rt.text = t->tr ? gettext(l->row) : l->row;
			rt.fields = l->rows[i];
			for (const struct field *f = rt.fields;
			     f->type != FT_END; f++)
				if (f->type == FT_LIST)
					nested_list(f->key);
			fprintf(o, "\n%*s", t->list_indent, "");
			render(o, &rt);
			continue;
		}
		if (i > 0)
			fputs(", ", o);
		if (l->rows == NULL) {
			struct field sf = F_STR("", l->strs[i]);

			put_field(o, t, &sf, &none);
			continue;
		}
		const char *sep = "";

		for (const struct field *f = l->rows[i]; f->type != FT_END;
		     f++) {
			if (f->type == FT_LIST)
				nested_list(f->key);
			if (f->text_only)
				continue;
			fprintf(o, "%s%s=", sep, f->key);
			sep = " ";
			put_field(o, t, f, &none);
		}
	}
}

/* One field in a sentence: the value as it is; with --stable a pid as its
 * role and a measured value as "~"; a null as "?". */
static void put_field(FILE *o, const struct tmpl *t, const struct field *f,
		      const struct spec *sp)
{
	const struct run *r = t->r;
	char buf[512], c[2] = { f->c, '\0' };
	const char *v = NULL, *role;
	bool number = false, untrusted = false;

	if (f->type == FT_LIST) {
		put_list(o, t, f->list);
		return;
	}
	if (r->stable && f->meas) {
		v = "~";
	} else {
		switch (f->type) {
		case FT_PID:
			role = r->stable ? pid_role(r, f->i) : NULL;
			if (role != NULL)
				v = role;
			else
				number = true;
			break;
		case FT_INT:
		case FT_NUM:
			number = true;
			break;
		case FT_PIDS:
			if (f->s != NULL && r->stable) {
				pids_roles(r, f->s, buf, sizeof(buf));
				v = buf;
			} else {
				v = f->s;
			}
			break;
		case FT_STR:
			v = !t->tr ? f->s : f->said != NULL ? f->said
			    : f->tr ? pl_gettext(f->s) : f->s;
			untrusted = true;
			break;
		case FT_BOOL:
			v = f->b ? "true" : "false";
			break;
		case FT_CHAR:
			v = f->c != '\0' ? c : NULL;
			untrusted = true;
			break;
		case FT_NULL:
		case FT_END:
		case FT_LIST:
			break;
		}
	}
	if (number && format_number(f, sp, buf, sizeof(buf))) {
		fputs(buf, o);  /* the spec's width is printf's, all ASCII */
		return;
	}
	if (v == NULL)
		v = "?";
	/* strings: padded to the width in display columns */
	char *e = NULL;
	size_t elen = 0;
	FILE *m = NULL;

	if (t->escape && untrusted)
		m = open_memstream(&e, &elen);
	if (m != NULL) {
		text_put_string(m, v, strlen(v));
		if (fclose(m) != 0) {
			free(e);
			e = NULL;
		}
	}
	const char *shown = e != NULL ? e : v;
	size_t slen = e != NULL ? elen : strlen(v);
	int pad = sp->conv == '\0' && sp->width > 0
		? sp->width - emit_columns(shown, slen) : 0;
	bool left = strchr(sp->flags, '-') != NULL;

	if (pad > 0 && !left)
		fprintf(o, "%*s", pad, "");
	fwrite(shown, 1, slen, o);
	if (pad > 0 && left)
		fprintf(o, "%*s", pad, "");
	free(e);
}

/* With --stable, "{role} {pid}" would read "child child": a pid field
 * whose role repeats the string field just before it (one space between)
 * is left out, with that space. */
static bool repeats_role(const struct tmpl *t, const struct field *prev,
			 const struct field *f)
{
	const char *role;

	if (!t->r->stable || prev == NULL || prev->type != FT_STR ||
	    prev->s == NULL || prev->meas || f->type != FT_PID || f->meas)
		return false;
	role = pid_role(t->r, f->i);
	return role != NULL && strcmp(role, prev->s) == 0;
}

static void render(FILE *o, const struct tmpl *t)
{
	const char *p = t->text;
	const struct field *prev = NULL;        /* rendered just before */
	bool space = false;                     /* " " after prev, held */

	while (*p != '\0') {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			fputc(p[0], o);
			p += 2;
			prev = NULL;
			continue;
		}
		if (*p == '}')
			tmpl_die(t, "a lone closing brace after", t->text,
				 (size_t)(p - t->text));
		if (*p != '{') {
			size_t n = strcspn(p, "{}");

			if (n == 1 && *p == ' ' && prev != NULL && p[1] == '{') {
				space = true;
				p++;
				continue;
			}
			if (space)
				fputc(' ', o);
			space = false;
			fwrite(p, 1, n, o);
			p += n;
			prev = NULL;
			continue;
		}
		const char *key = ++p, *sfx = NULL;
		size_t kn = strspn(p, KEY_CHARS), sn = 0;
		const struct field *f;
		struct spec sp;

		p += kn;
		if (*p == ':') {
			sfx = ++p;
			sn = strcspn(p, "{}");
			p += sn;
		}
		if (kn == 0 || *p != '}')
			tmpl_die(t, "a malformed field", key,
				 strcspn(key, "}"));
		p++;
		f = find_field(t->fields, key, kn);
		if (f == NULL)
			tmpl_die(t, "no field for", key, kn);
		if (sfx != NULL)
			parse_spec(t, sfx, sn, key, kn, &sp);
		else
			parse_spec_none(&sp);
		if (space && repeats_role(t, prev, f)) {
			space = false;
			continue;       /* prev stays: "{role} {pid} {pid}" */
		}
		if (space)
			fputc(' ', o);
		space = false;
		put_field(o, t, f, &sp);
		prev = f;
	}
	if (space)
		fputc(' ', o);
}

/* The template of s for these fields: `many` unless the count is 1.  With
 * --stable a measured count is "~": always `many`, the same every run. */
static const char *pick(const struct tmpl *t, const struct sentence *s)
{
	const struct field *f;

	if (s->count == NULL)
		return t->tr ? gettext(s->one) : s->one;
	f = find_field(t->fields, s->count, strlen(s->count));
	if (f == NULL || (f->type != FT_INT && f->type != FT_PID))
		tmpl_die(t, "no integer field for the count", s->count,
			 strlen(s->count));
	long long n = t->r->stable && f->meas ? 2 : f->i;

	if (t->tr && s->many != NULL)   /* the language's plural rule */
		return pl_ngettext(s->one, s->many,
				   (unsigned long)(n < 0 ? -n : n));
	if (s->many == NULL || n == 1)
		return t->tr ? gettext(s->one) : s->one;
	return s->many;
}

/* Render into a string to free() (NULL without memory). */
static char *render_str(const struct tmpl *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	render(f, t);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool same_form(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const struct sentence *lookup(const struct sentence *s,
				     const char *event, const char *form)
{
	for (; s != NULL && s->event != NULL; s++)
		if (strcmp(s->event, event) == 0 && same_form(s->form, form))
			return s;
	return NULL;
}

void emit_sentence(struct run *r, const struct sentence *s,
		   const struct field *fields)
{
	struct tmpl t = { r, s->event, s->one, fields, true, 2, true };

	if (record_begin(r)) {
		emit_sentence(r, s, fields);
		record_end(r);
	}
	t.text = pick(&t, s);
	line_start(r);
	if (r->json) {
		json_head(r, s->event);
		json_fields(r, fields);
		fputs("}\n", out);
	} else {
		text_head(r);
		text_event(r, s->event);
		if (ln.mem)
			t.list_indent = ln.indent;
		render(out, &t);
		fputc('\n', out);
	}
	line_end(r);
}

void emit_form(struct run *r, const char *event, const char *form,
	       const struct field *fields)
{
	const struct sentence *s = lookup(r->lab->sentences, event, form);

	if (s == NULL)
		s = lookup(emit_engine_sentences, event, form);
	if (s == NULL) {
		fflush(stdout);
		fprintf(stderr, "proclab: emit: event %s: no sentence%s%s\n",
			event, form != NULL ? " named " : "",
			form != NULL ? form : "");
		abort();
	}
	emit_sentence(r, s, fields);
}

void emit(struct run *r, const char *event, const struct field *fields)
{
	emit_form(r, event, NULL, fields);
}

static char *render_sentence(const struct run *r, const struct sentence *s,
			     const struct field *fields, bool tr)
{
	struct tmpl t = { r, s->event, s->one, fields, true, 2, tr };

	t.text = pick(&t, s);
	return render_str(&t);
}

char *emit_render(const struct run *r, const struct sentence *s,
		  const struct field *fields)
{
	return render_sentence(r, s, fields, true);
}

char *emit_render_text(const struct run *r, const struct sentence *s,
		       const struct field *fields)
{
	struct run *plain;
	char *text;

	if (!r->stable)
		return render_sentence(r, s, fields, false);
	plain = malloc(sizeof(*plain));
	if (plain == NULL)
		return NULL;
	*plain = *r;
	plain->stable = false;
	text = render_sentence(plain, s, fields, false);
	free(plain);
	return text;
}

char *emit_render_options(const struct run *r, const char *tmpl)
{
	struct field f[LAB_OPT_MAX + 1];
	int n = 0;
	struct tmpl t = { r, "stage", tmpl, f, false, 2, false };

	for (const struct lab_option *o = r->lab->options;
	     o != NULL && o->name != NULL && n < LAB_OPT_MAX; o++, n++)
		f[n] = F_INT(o->name, opt_val(r, o->name));
	f[n] = (struct field){ .type = FT_END };
	return render_str(&t);
}

void emitf(struct run *r, const char *event, const struct field *fields,
	  const char *fmt, ...)
{
	if (record_begin(r)) {
		emitf(r, event, fields, "%s", "");
		record_end(r);
	}
	line_start(r);
	if (r->json) {
		json_head(r, event);
		json_fields(r, fields);
		fputs("}\n", out);
	} else if (r->stable) {
		text_head(r);
		text_event(r, event);
		text_fields(r, fields);
		fputc('\n', out);
	} else {
		char text[2048];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		text_head(r);
		text_event(r, event);
		text_put_string(out, text, strlen(text));
		fputc('\n', out);
	}
	line_end(r);
}

/* The fields a state event's why may name; a thread's (obs_add_thread)
 * also carry its tid and its process's tgid. */
/* For a why only (text): a zombie's exit code, from its exit status in
 * /proc/PID/stat ("exited with code {code}"), else null. */
static struct field state_code(const struct watched *w)
{
	struct field f = F_NULL("code");

	if (w->state == 'Z' && w->st.exit_code >= 0 &&
	    (w->st.exit_code & 0x7f) == 0)
		f = F_INT("code", (w->st.exit_code >> 8) & 0xff);
	f.text_only = true;
	return f;
}

/* For a why only (text): the signal that killed a zombie, from the same
 * exit status ("killed by {signame}"), else null. */
static struct field state_signame(const struct watched *w)
{
	static char name[32];   /* one event at a time */
	struct field f = F_NULL("signame");

	if (w->state == 'Z' && w->st.exit_code >= 0 &&
	    (w->st.exit_code & 0x7f) != 0) {
		snprintf(name, sizeof(name), "%s",
			 wstatus_signame(w->st.exit_code & 0x7f).s);
		f = F_STR("signame", name);
	}
	f.text_only = true;
	return f;
}

#define STATE_FIELDS_(w, racy, from, ...)				\
	FIELDS(F_PID("pid", (w)->pid),					\
	       (racy) ? F_MEAS("ppid", (long long)(w)->ppid)		\
		      : F_PID("ppid", (w)->ppid),			\
	       F_STR("role", (w)->role), F_CHAR("state", (w)->state),	\
	       F_CHAR("from", (from)), state_code(w), state_signame(w)	\
	       __VA_ARGS__)
#define STATE_FIELDS(w, racy, from)					\
	((w)->tgid > 0							\
	 ? STATE_FIELDS_(w, racy, from, , F_PID("tid", (w)->pid),	\
			 F_PID("tgid", (w)->tgid))			\
	 : STATE_FIELDS_(w, racy, from))

/* The same with a job-control lab's pgrp, sid and tpgid. */
#define JOB_STATE_FIELDS(w, from)					\
	FIELDS(F_PID("pid", (w)->pid), F_PID("ppid", (w)->ppid),	\
	       F_STR("role", (w)->role), F_CHAR("state", (w)->state),	\
	       F_CHAR("from", (from)), F_PID("pgrp", (w)->st.pgrp),	\
	       F_PID("sid", (w)->st.session),				\
	       F_PID("tpgid", (w)->st.tpgid))

static bool is_template(const char *why)
{
	return strpbrk(why, "{}") != NULL;
}

void emit_render_why(const struct run *r, const struct watched *w,
		     const char *why, bool tr, char *buf, size_t size)
{
	struct tmpl t = { r, "state", why,
			  r->lab != NULL && r->lab->job_control && !w->gone
			  ? JOB_STATE_FIELDS(w, w->shown)
			  : STATE_FIELDS(w, false, w->shown), false, 2, tr };
	char *text;

	if (size == 0)
		return;
	if (tr)
		t.text = why = pl_gettext(why);
	if (why == NULL || !is_template(why)) {
		snprintf(buf, size, "%s", why != NULL ? why : "");
		return;
	}
	text = render_str(&t);
	snprintf(buf, size, "%s", text != NULL ? text : why);
	free(text);
}

/* A job-control lab's columns (struct lab's job_control), as ps -o
 * pgid,sid,tpgid,stat shows them: pids as roles with --stable, 0 and -1
 * as they are; STAT is the state letter, s for a session leader, + for a
 * member of the terminal's foreground process group. */
static void job_columns(const struct run *r, const struct watched *w)
{
	const struct { const char *key; long long pid; } col[] = {
		{ "pgid", w->st.pgrp }, { "sid", w->st.session },
		{ "tpgid", w->st.tpgid },
	};

	for (size_t i = 0; i < sizeof(col) / sizeof(col[0]); i++) {
		const char *role = r->stable ? pid_role(r, col[i].pid) : NULL;

		if (role != NULL)
			fprintf(out, "%s %s ", col[i].key, role);
		else
			fprintf(out, "%s %lld ", col[i].key, col[i].pid);
	}
}

static bool job_control(const struct run *r)
{
	return r->lab != NULL && r->lab->job_control;
}

void emit_state(struct run *r, struct watched *w, char from,
		bool transient, const char *why)
{
	char state = w->state, stable_why[1024];
	int head, role_col;

	if (record_begin(r)) {
		int shown = r->shown;
		char wshown = w->shown;

		emit_state(r, w, from, transient, why);
		record_end(r);
		r->shown = shown;
		w->shown = wshown;
	}

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
	/* a job-control lab's columns, for a process /proc still shows */
	bool jobs = job_control(r) && !w->gone && !racy;

	if (r->stable)          /* what came before may have been transient */
		from = w->shown;
	if (!transient)
		w->shown = state;
	line_start(r);
	if (r->json) {
		json_head(r, "state");
		json_fields(r, jobs ? JOB_STATE_FIELDS(w, from)
					     : STATE_FIELDS(w, racy, from));
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
	head = line_columns();
	role_col = event_column(r);
	if (transient)
		color(r, DIM);
	/* a job-control line is long: it may wrap from its first word, under
	 * the message column */
	if (jobs)
		wrap_here(head + role_col + 1, -1);
	if (racy) {
		fprintf(out, "%-*s ppid %-10s ", role_col, w->role, "~");
	} else if (r->stable && jobs) {
		const char *pr = pid_role(r, w->ppid);

		if (pr != NULL)
			fprintf(out, "%s ppid %s ", w->role, pr);
		else
			fprintf(out, "%s ppid %d ", w->role, (int)w->ppid);
	} else if (r->stable) {
		const char *pr = pid_role(r, w->ppid);

		if (pr != NULL)
			fprintf(out, "%-*s ppid %-10s ", role_col, w->role, pr);
		else
			fprintf(out, "%-*s ppid %-10d ", role_col, w->role,
				(int)w->ppid);
	} else if (jobs) {
		/* room for the columns ps shows */
		fprintf(out, "%s %d ppid %d ", w->role, (int)w->pid,
			(int)w->ppid);
	} else {
		fprintf(out, "%-*s %7d  ppid %-7d ", role_col, w->role,
			(int)w->pid, (int)w->ppid);
	}
	if (jobs)
		job_columns(r, w);
	if (!transient)
		color(r, state_color(state));
	text_put_string(out, &state, 1);    /* a byte from /proc */
	if (jobs) {
		/* ps's STAT flags, padded as "Ss+" is wide */
		int pad = 2;

		if (w->st.session == w->pid)
			fputc('s', out), pad--;
		if (w->st.pgrp == w->st.tpgid)
			fputc('+', out), pad--;
		fprintf(out, "%*s", pad, "");
	}
	/* the state's name and the why wrap, the why under itself (or under
	 * the message column when that leaves too little room) */
	if (!jobs)
		wrap_here(line_columns() + 1 + 13, head + role_col + 1);
	const char *name = w->gone || racy ? _("released")
					   : pl_state_name(state);

	if (jobs) {
		fprintf(out, " %s: ", name);
	} else {                /* 13 display columns */
		int pad = 13 - emit_columns(name, strlen(name));

		fprintf(out, " %s%*s", name, pad > 0 ? pad : 0, "");
	}
	if (!transient)
		color(r, RESET);
	if (why == NULL)
		why = w->gone || racy ? N_("its /proc entry is gone")
				      : state_meaning(state);
	why = pl_gettext(why);
	if (is_template(why)) {
		struct tmpl t = { r, "state", why,
				  jobs ? JOB_STATE_FIELDS(w, from)
					: STATE_FIELDS(w, racy, from),
				  true, 2, true };

		render(out, &t);
	} else {
		if (r->stable) {
			legacy_why_roles(r, why, stable_why, sizeof(stable_why));
			why = stable_why;
		}
		text_put_string(out, why, strlen(why));
	}
	if (w->named && from == '\0' && !w->gone) {
		/* a name from whoever started the process: escaped */
		fprintf(out, " (%s: ", _("comm"));
		text_put_string(out, w->st.comm, strlen(w->st.comm));
		fputc(')', out);
	}
	if (transient)
		fprintf(out, " %s", _("(in passing)"));
	color(r, RESET);
	fputc('\n', out);
	line_end(r);
}

void emit_stage(struct run *r, const char *name, const char *what,
		const char *what_text)
{
	int indent;

	if (record_begin(r)) {
		emit_stage(r, name, what, what_text);
		record_end(r);
	}
	line_start(r);
	if (r->json) {
		json_head(r, "stage");
		json_fields(r, FIELDS(F_STR("name", name), F_STR("what", what)));
		fputs("}\n", out);
	} else {
		fputc('\n', out);
		/* TRANSLATORS: the heading of a stage, "stage 3: fork - ..." */
		indent = fprintf(out, _("stage %d: "), r->stage);
		if (line_columns() > 0) /* in display columns */
			indent = line_columns();
		color(r, BOLD);
		fputs(name, out);
		color(r, RESET);
		fputs(" -", out);
		wrap_here(indent > 0 ? indent : 0, -1);
		fputc(' ', out);
		text_put_string(out, what_text, strlen(what_text));
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
	struct field f[17];
	int n = 0;
	char how[64];
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
	wstatus_describe_text(w, how, sizeof(how));
	f[n++] = F_TEXT("how", how);
	f[n] = (struct field){ .type = FT_END };
	/* a class's --quiz: the exit code in the raw status, before it is
	 * shown decoded */
	if (w->exited && w->raw >= 0) {
		char code[16];

		snprintf(code, sizeof(code), "%d", w->code);
		quiz_value(r, "exit-code", pid, code, NULL,
			   FIELDS(F_STR("call", call), F_INT("raw", w->raw)));
	}
	/* and the signal in it (bits 6-0): its number, or its name */
	if (w->signaled && w->raw >= 0) {
		struct signame name = wstatus_signame(w->sig);
		char sig[16];

		snprintf(sig, sizeof(sig), "%d", w->sig);
		quiz_value(r, "signal", pid, sig, name.s,
			   FIELDS(F_STR("call", call), F_INT("raw", w->raw)));
	}
	emit_form(r, event, w->raw >= 0 ? NULL : "noraw", f);
}
