/* grade.c - `proclab grade`: score a class's records, and check them.
 *
 *	proclab grade [--csv] [--class FILE] RECORD...
 *
 * A record is the JSON Lines output of one run (--record FILE, or --json).
 * The score is never read from the record: it is recomputed from each
 * answer event and the events the run observed, in the same record, the
 * way the quiz scored it:
 *
 *   a state answer     `expected` must be the state of that pid's last
 *                      state event before the answer; right when `given`
 *                      is that letter (a lower-case letter whose capital
 *                      is a choice counts as the capital), or one of the
 *                      letters `seen` says /proc showed on the way
 *   exit-code          the question's raw status must be the `raw` of the
 *                      reap event of that pid after it; the code is bits
 *                      15-8 of it
 *   signal             the same; the signal is bits 6-0 of it, in
 *                      decimal, or the reap event's `signame`
 *   fork-parent/-child a fork_return event after it must say that fork()
 *                      returned the pid (in the parent) or 0 (in the child)
 *   zombies            the pids whose last demonstrated state before the
 *                      question is Z, counted
 *   adopter            the reparent event of that orphan after it: its
 *                      `to` (or `to_comm`, the adopter's name)
 *   lines              the fork_stdio event of that puzzle (the same
 *                      stdout, flushed or not) after it: lines_received
 *   tree's parent      the reparent event between question and answer:
 *                      its `parent` (a name)
 *
 * A record is flagged INCONSISTENT when an answer's value is not what
 * the record's own observations give, an answer was checked against an
 * observation that is not in the record, the events are out of order
 * (times or stages going back, an answer without its question), it does
 * not begin with start and end with result, or its result does not match
 * (score, questions, ok and exit).  It is flagged COPY when another
 * student's record has the same pids at the same times (the pid and t of
 * every event that has a pid), and VARIANT when the class list assigns the student
 * another variant, or the options that vary are not the variant's values.
 *
 * The class list (--class FILE) has one student a line: "ID" (the variant
 * is the ID's hash, as --student ID gives it) or "ID VARIANT"; # starts a
 * comment.  A record's student is the start event's `student`, else its
 * file name without the directory and ".jsonl".
 *
 * Output: one line per student (in the order of the class list, then of
 * the records), or CSV with a header.  Exit status: 0 when nothing is
 * flagged, 1 when something is, 2 on a usage error or an unreadable file.
 */
#include <err.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "proclab.h"
#include "variant.h"

#define FLAGS_MAX 512

struct record {
	const char *file;
	char student[72];
	char lab[32];
	int variant;            /* -1: none */
	int score, questions;   /* recomputed */
	bool inconsistent, copy, wrong_variant;
	char flags[FLAGS_MAX];  /* what was found, in words (--csv) */
	char said[FLAGS_MAX];   /* the same in the user's language */
	char *print;            /* "pid@t;" of each event with a pid (copy
				 * detection) */
};

struct student {
	char id[72];
	int assigned;           /* -1: not in the class list */
	bool listed;
};

static void flag(struct record *rec, bool *which, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void flag(struct record *rec, bool *which, const char *fmt, ...)
{
	size_t n = strlen(rec->flags);
	va_list ap;

	if (which != NULL) {
		if (*which && which != &rec->inconsistent)
			return;
		*which = true;
	}
	if (n > 0 && n + 2 < sizeof(rec->flags)) {
		strcat(rec->flags, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(rec->flags + n, sizeof(rec->flags) - n, fmt, ap);
	va_end(ap);
	/* the text view's: translated */
	n = strlen(rec->said);
	if (n > 0 && n + 2 < sizeof(rec->said)) {
		strcat(rec->said, _("; "));
		n = strlen(rec->said);
	}
	va_start(ap, fmt);
	if (n < sizeof(rec->said))
		vsnprintf(rec->said + n, sizeof(rec->said) - n, gettext(fmt),
			  ap);
	va_end(ap);
}

static const char *str(const json_t *ev, const char *key)
{
	const json_t *v = json_object_get(ev, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool num(const json_t *ev, const char *key, long long *out)
{
	const json_t *v = json_object_get(ev, key);

	if (!json_is_integer(v))
		return false;
	*out = (long long)json_integer_value(v);
	return true;
}

static bool is(const json_t *ev, const char *event)
{
	const char *e = str(ev, "event");

	return e != NULL && strcmp(e, event) == 0;
}

/* The state letter the quiz counts a given answer as ('\0': none). */
static char letter(const char *given)
{
	static const char choices[] = "RSDTtZX";
	unsigned char c;

	if (given == NULL || given[0] == '\0' || given[1] != '\0')
		return '\0';
	c = (unsigned char)given[0];
	if (strchr(choices, c) != NULL)
		return (char)c;
	if (c >= 'a' && c <= 'z' && strchr(choices, c - 'a' + 'A') != NULL)
		return (char)(c - 'a' + 'A');
	return '\0';
}

/* The last state event of pid in ev[0..end) (demonstrated only when
 * `demonstrated`), or NULL. */
static const json_t *last_state(json_t **ev, size_t end, long long pid,
				bool demonstrated)
{
	for (size_t i = end; i-- > 0;) {
		long long p;

		if (!is(ev[i], "state") || !num(ev[i], "pid", &p) || p != pid)
			continue;
		if (demonstrated &&
		    json_is_true(json_object_get(ev[i], "transient")))
			continue;
		return ev[i];
	}
	return NULL;
}

/* The first event named `event` after `from` whose `key` is pid. */
static const json_t *next_event(json_t **ev, size_t n, size_t from,
				const char *event, const char *key,
				long long pid)
{
	for (size_t i = from + 1; i < n; i++) {
		long long p;

		if (is(ev[i], event) && num(ev[i], key, &p) && p == pid)
			return ev[i];
	}
	return NULL;
}

/* What the record's own events say the answer to question q (at ev[qi])
 * is: into want (and `also`, another right answer).  Returns false, with
 * a flag, when the observation is not in the record. */
static bool value_expected(struct record *rec, json_t **ev, size_t n,
			   size_t qi, const char *kind, long long pid,
			   char *want, size_t size, char *also, size_t asize)
{
	const json_t *q = ev[qi], *o;
	long long v, raw;

	also[0] = '\0';
	if (strcmp(kind, "exit-code") == 0) {
		o = next_event(ev, n, qi, "reap", "pid", pid);
		if (!num(q, "raw", &raw) || o == NULL || !num(o, "raw", &v) ||
		    v != raw)
			goto missing;
		snprintf(want, size, "%lld", (raw >> 8) & 0xff);
		return true;
	}
	if (strcmp(kind, "signal") == 0) {
		o = next_event(ev, n, qi, "reap", "pid", pid);
		if (!num(q, "raw", &raw) || o == NULL || !num(o, "raw", &v) ||
		    v != raw || (raw & 0x7f) == 0 || (raw & 0x7f) == 0x7f)
			goto missing;
		snprintf(want, size, "%lld", raw & 0x7f);
		if (str(o, "signame") != NULL)
			snprintf(also, asize, "%s", str(o, "signame"));
		return true;
	}
	if (strcmp(kind, "fork-parent") == 0 ||
	    strcmp(kind, "fork-child") == 0) {
		bool child = strcmp(kind, "fork-child") == 0;

		for (size_t i = qi + 1; i < n; i++) {
			long long p, ret;

			if (!is(ev[i], "fork_return") ||
			    !num(ev[i], "returned", &ret))
				continue;
			if (child && num(ev[i], "pid", &p) && p == pid) {
				snprintf(want, size, "%lld", ret);
				return true;
			}
			if (!child && str(ev[i], "role") != NULL &&
			    strcmp(str(ev[i], "role"), "parent") == 0 &&
			    ret == pid) {
				snprintf(want, size, "%lld", ret);
				return true;
			}
		}
		goto missing;
	}
	if (strcmp(kind, "zombies") == 0) {
		long long pids[512];
		int np = 0, z = 0;

		for (size_t i = 0; i < qi; i++) {
			long long p;
			int k;

			if (!is(ev[i], "state") || !num(ev[i], "pid", &p))
				continue;
			for (k = 0; k < np && pids[k] != p; k++)
				;
			if (k == np && np < 512)
				pids[np++] = p;
		}
		/* shown as Z (its last demonstrated state), and not seen
		 * gone since (a release caught in passing) */
		for (int k = 0; k < np; k++) {
			const json_t *s = last_state(ev, qi, pids[k], true),
				     *any = last_state(ev, qi, pids[k], false);
			const char *st = s != NULL ? str(s, "state") : NULL,
				   *sa = any != NULL ? str(any, "state") : NULL;

			z += st != NULL && strcmp(st, "Z") == 0 &&
			     sa != NULL && strcmp(sa, "Z") == 0;
		}
		if (last_state(ev, qi, pid, true) == NULL)
			goto missing;
		snprintf(want, size, "%d", z);
		return true;
	}
	if (strcmp(kind, "lines") == 0) {
		const char *out = str(q, "stdout");

		for (size_t i = qi + 1; i < n && out != NULL; i++) {
			const char *o2 = str(ev[i], "stdout");

			if (!is(ev[i], "fork_stdio") || o2 == NULL ||
			    strcmp(o2, out) != 0 ||
			    json_is_true(json_object_get(ev[i], "flushed")) !=
			    json_is_true(json_object_get(q, "flushed")) ||
			    !num(ev[i], "lines_received", &v))
				continue;
			snprintf(want, size, "%lld", v);
			return true;
		}
		goto missing;
	}
	if (strcmp(kind, "adopter") == 0) {
		o = next_event(ev, n, qi, "reparent", "pid", pid);
		if (o == NULL || !num(o, "to", &v))
			goto missing;
		snprintf(want, size, "%lld", v);
		if (str(o, "to_comm") != NULL)
			snprintf(also, asize, "%s", str(o, "to_comm"));
		return true;
	}
	flag(rec, &rec->inconsistent, "question of an unknown kind '%s'",
	     kind);
	return false;
missing:
	flag(rec, &rec->inconsistent, "answer about %s of %lld: the "
	     "observation it checks is not in the record", kind, pid);
	return false;
}

/* Check and score one answer ev[ai] to its question ev[qi]. */
static void grade_answer(struct record *rec, json_t **ev, size_t n,
			 size_t qi, size_t ai)
{
	const json_t *a = ev[ai];
	const char *kind = str(a, "kind"), *given = str(a, "given"),
		   *expected = str(a, "expected");
	long long pid, qpid;
	char want[64], also[64];
	bool right;

	if (!num(a, "pid", &pid) || !num(ev[qi], "pid", &qpid) ||
	    pid != qpid || expected == NULL) {
		flag(rec, &rec->inconsistent, "answer %lld does not match its "
		     "question", (long long)rec->questions);
		return;
	}
	if (kind == NULL && json_object_get(a, "ppid") != NULL) {
		/* tree's: who is the parent now (the reparent event between
		 * the question and the answer names it) */
		const json_t *o = NULL;
		long long p, to;

		for (size_t i = qi + 1; i < ai && o == NULL; i++)
			if (is(ev[i], "reparent") && num(ev[i], "pid", &p) &&
			    p == pid)
				o = ev[i];
		if (o == NULL || str(o, "parent") == NULL ||
		    !num(o, "to", &to) || !num(a, "ppid", &p)) {
			flag(rec, &rec->inconsistent, "answer %d: the "
			     "reparent it checks is not in the record",
			     rec->questions);
			return;
		}
		if (strcmp(str(o, "parent"), expected) != 0 || p != to) {
			flag(rec, &rec->inconsistent, "answer %d says %s, the "
			     "record's reparent says %s", rec->questions,
			     expected, str(o, "parent"));
			return;
		}
		right = given != NULL && strcmp(given, expected) == 0;
	} else if (kind == NULL) {      /* a state question */
		const json_t *s = last_state(ev, ai, pid, false);
		const char *st = s != NULL ? str(s, "state") : NULL;
		const char *seen = str(a, "seen");
		char g = letter(given);

		if (st == NULL) {
			flag(rec, &rec->inconsistent, "answer %d: no state "
			     "of %lld in the record", rec->questions, pid);
			return;
		}
		if (strcmp(st, expected) != 0) {
			flag(rec, &rec->inconsistent, "answer %d says %s, the "
			     "record's state events say %s", rec->questions,
			     expected, st);
			return;
		}
		right = g != '\0' && (g == st[0] ||
				      (seen != NULL && strchr(seen, g)));
	} else {
		if (!value_expected(rec, ev, n, qi, kind, pid, want,
				    sizeof(want), also, sizeof(also)))
			return;
		if (strcmp(want, expected) != 0) {
			flag(rec, &rec->inconsistent, "answer %d says %s is "
			     "%s, the record's events say %s", rec->questions,
			     kind, expected, want);
			return;
		}
		right = given != NULL && (strcmp(given, want) == 0 ||
					  (also[0] != '\0' &&
					   strcmp(given, also) == 0));
	}
	rec->score += right;
	if (json_is_boolean(json_object_get(a, "correct")) &&
	    json_is_true(json_object_get(a, "correct")) != right)
		flag(rec, &rec->inconsistent, "answer %d is marked %s; it is "
		     "%s", rec->questions, right ? "wrong" : "right",
		     right ? "right" : "wrong");
}

/* The options of a start event that vary must have the variant's
 * values. */
static void check_options(struct record *rec, const json_t *start)
{
	const struct lab *lab = NULL;
	const char *opts = str(start, "options");

	for (size_t i = 0; i < lab_count; i++)
		if (strcmp(lab_table[i]->name, rec->lab) == 0)
			lab = lab_table[i];
	if (lab == NULL || rec->variant < 0)
		return;
	for (const struct lab_vary *v = lab->vary; v != NULL && v->option;
	     v++) {
		char want[96];
		long long x = variant_value(rec->variant, lab->name, v->option,
					    v->lo, v->hi);
		const char *p;
		size_t len;

		len = (size_t)snprintf(want, sizeof(want), "--%s %lld",
				       v->option, x);
		p = opts != NULL ? strstr(opts, want) : NULL;
		while (p != NULL && p[len] != '\0' && p[len] != ' ')
			p = strstr(p + 1, want);
		if (p == NULL)
			flag(rec, &rec->wrong_variant, "its options are not "
			     "variant %d's (%s)", rec->variant, want);
	}
}

static void read_record(struct record *rec)
{
	FILE *f = fopen(rec->file, "r");
	json_t **ev = NULL;
	size_t n = 0, cap = 0, len = 0, plen = 0, lineno = 0, bad = 0,
	       first_bad = 0;
	char *line = NULL;
	double t = -1;
	long long stage = 0, last_q = 0, v;
	size_t pending = (size_t)-1;
	const char *s;

	rec->variant = -1;
	if (f == NULL)
		err(PL_EXIT_USAGE, "grade: cannot read '%s'", rec->file);
	while (getline(&line, &len, f) > 0) {
		json_error_t jerr;
		json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);

		lineno++;
		if (!json_is_object(o) || str(o, "event") == NULL) {
			if (bad++ == 0)
				first_bad = lineno;
			json_decref(o);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			ev = realloc(ev, cap * sizeof(*ev));
			if (ev == NULL)
				err(PL_EXIT_USAGE, "grade");
		}
		ev[n++] = o;
	}
	free(line);
	if (ferror(f))
		err(PL_EXIT_USAGE, "grade: cannot read '%s'", rec->file);
	fclose(f);
	if (bad == 1)
		flag(rec, &rec->inconsistent, "line %zu is not a proclab "
		     "event", first_bad);
	else if (bad > 1)
		flag(rec, &rec->inconsistent, "%zu lines are not proclab "
		     "events (the first: line %zu)", bad, first_bad);
	if (n > 0 && is(ev[0], "start")) {
		snprintf(rec->lab, sizeof(rec->lab), "%s",
			 str(ev[0], "lab") ? str(ev[0], "lab") : "?");
		if ((s = str(ev[0], "student")) != NULL)
			snprintf(rec->student, sizeof(rec->student), "%s", s);
		if (num(ev[0], "variant", &v))
			rec->variant = (int)v;
	}
	if (n == 0 || !is(ev[0], "start") || !is(ev[n - 1], "result")) {
		flag(rec, &rec->inconsistent, "not a whole run (start ... "
		     "result)");
		goto out;
	}
	check_options(rec, ev[0]);
	rec->print = calloc(1, 1);
	for (size_t i = 0; i < n; i++) {
		const json_t *tv = json_object_get(ev[i], "t");
		long long st;

		if (!json_is_number(tv)) {
			flag(rec, &rec->inconsistent, "no times (a --stable "
			     "run cannot be checked)");
			goto out;
		}
		if (json_number_value(tv) < t ||
		    !num(ev[i], "stage", &st) || st < stage ||
		    (s = str(ev[i], "lab")) == NULL ||
		    strcmp(s, rec->lab) != 0) {
			flag(rec, &rec->inconsistent, "event %zu is out of "
			     "order", i + 1);
			goto out;
		}
		t = json_number_value(tv);
		stage = st;
		if (json_object_get(ev[i], "pid") != NULL) {
			char one[64];
			long long p = 0;
			int k;

			num(ev[i], "pid", &p);
			k = snprintf(one, sizeof(one), "%lld@%.6f;", p, t);
			rec->print = realloc(rec->print, plen + (size_t)k + 1);
			if (rec->print == NULL)
				err(PL_EXIT_USAGE, "grade");
			memcpy(rec->print + plen, one, (size_t)k + 1);
			plen += (size_t)k;
		}
		if (is(ev[i], "question") && pending != (size_t)-1 &&
		    num(ev[i], "n", &v) && v == last_q) {
			pending = i;    /* asked again: the line was no letter */
		} else if (is(ev[i], "question")) {
			if (!num(ev[i], "n", &v) || v != last_q + 1 ||
			    pending != (size_t)-1) {
				flag(rec, &rec->inconsistent, "question %lld "
				     "is out of order", last_q + 1);
				goto out;
			}
			last_q = v;
			pending = i;
		} else if (is(ev[i], "answer")) {
			if (pending == (size_t)-1 || !num(ev[i], "n", &v) ||
			    v != last_q) {
				flag(rec, &rec->inconsistent, "an answer "
				     "without its question");
				goto out;
			}
			rec->questions++;
			grade_answer(rec, ev, n, pending, i);
			pending = (size_t)-1;
		}
	}
	{
		const json_t *res = ev[n - 1];
		long long sc = -1, qs = -1, ex = -1;
		bool ok = json_is_true(json_object_get(res, "ok"));

		num(res, "score", &sc);
		num(res, "questions", &qs);
		num(res, "exit", &ex);
		if (json_object_get(res, "score") != NULL &&
		    (sc != rec->score || qs != rec->questions))
			flag(rec, &rec->inconsistent, "its result says %lld of "
			     "%lld, its answers give %d of %d", sc, qs,
			     rec->score, rec->questions);
		if (ok != (ex == 0))
			flag(rec, &rec->inconsistent, "its result says ok %s "
			     "with exit %lld", ok ? "true" : "false", ex);
		if (!ok)
			flag(rec, NULL, "the lab failed (exit %lld)", ex);
	}
out:
	for (size_t i = 0; i < n; i++)
		json_decref(ev[i]);
	free(ev);
}

/* The student of a record without one: its file name. */
static void name_from_file(struct record *rec)
{
	const char *b = strrchr(rec->file, '/');
	size_t len;

	b = b != NULL ? b + 1 : rec->file;
	len = strlen(b);
	if (len > 6 && strcmp(b + len - 6, ".jsonl") == 0)
		len -= 6;
	snprintf(rec->student, sizeof(rec->student), "%.*s", (int)len, b);
}

static int read_class(const char *file, struct student **list, size_t *n)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t len = 0, cap = 0;
	int lineno = 0;

	if (f == NULL)
		err(PL_EXIT_USAGE, "grade: --class: cannot read '%s'", file);
	while (getline(&line, &len, f) > 0) {
		char id[72], extra[8];
		int v = -1, k;

		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		k = sscanf(line, "%71s %d %7s", id, &v, extra);
		if (k <= 0)
			continue;
		if (k == 3 || (k == 2 && (v < 0 || v >= VARIANT_COUNT)))
			errx(PL_EXIT_USAGE, "grade: %s:%d: expected 'ID' or "
			     "'ID VARIANT' (0 to %d)", file, lineno,
			     VARIANT_COUNT - 1);
		if (k == 1)
			v = variant_of_student(id);
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			*list = realloc(*list, cap * sizeof(**list));
			if (*list == NULL)
				err(PL_EXIT_USAGE, "grade");
		}
		snprintf((*list)[*n].id, sizeof((*list)[*n].id), "%s", id);
		(*list)[*n].assigned = v;
		(*list)[*n].listed = true;
		(*n)++;
	}
	free(line);
	fclose(f);
	return 0;
}

static void csv_field(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void usage(FILE *f)
{
	fputs(_("usage: proclab grade [--csv] [--class FILE] RECORD...\n"), f);
}

int grade_command(int argc, char *argv[])
{
	struct student *st = NULL;
	struct record *rec;
	size_t nst = 0, nrec = 0;
	bool csv = false, bad = false;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--csv") == 0) {
			csv = true;
		} else if (strcmp(argv[i], "--class") == 0 && i + 1 < argc) {
			read_class(argv[++i], &st, &nst);
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			putchar('\n');
			/* TRANSLATORS: at most 79 display columns a line */
			fputs(_("Scores each RECORD (the JSON of a run: --record "
			      "FILE or --json) from its\nanswers and its "
			      "observed events, never from its score field; "
			      "flags records\nthat are inconsistent, copied "
			      "(the same pids and times as another's) or of\n"
			      "another variant than the class list (ID "
			      "[VARIANT] a line) assigns.  One line\nper "
			      "student, or CSV.  Exit 0: nothing flagged, 1: "
			      "something flagged, 2: usage.\n"), stdout);
			return PL_EXIT_OK;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			usage(stderr);
			return PL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return PL_EXIT_USAGE;
	}
	nrec = (size_t)(argc - i);
	rec = calloc(nrec, sizeof(*rec));
	if (rec == NULL)
		err(PL_EXIT_USAGE, "grade");
	for (size_t k = 0; k < nrec; k++) {
		rec[k].file = argv[i + (int)k];
		read_record(&rec[k]);
		if (rec[k].student[0] == '\0')
			name_from_file(&rec[k]);
	}
	/* copies: the same pids at the same times, another student */
	for (size_t a = 0; a < nrec; a++)
		for (size_t b = 0; b < nrec; b++)
			if (a != b && rec[a].print && rec[b].print &&
			    rec[a].print[0] != '\0' &&
			    strcmp(rec[a].print, rec[b].print) == 0 &&
			    strcmp(rec[a].student, rec[b].student) != 0)
				flag(&rec[a], &rec[a].copy, "a copy: the same "
				     "pids and times as %s's %s",
				     rec[b].student, rec[b].file);
	/* every student of the records, after the class list */
	for (size_t k = 0; k < nrec; k++) {
		size_t s;

		for (s = 0; s < nst && strcmp(st[s].id, rec[k].student); s++)
			;
		if (s == nst) {
			st = realloc(st, (nst + 1) * sizeof(*st));
			if (st == NULL)
				err(PL_EXIT_USAGE, "grade");
			snprintf(st[nst].id, sizeof(st[nst].id), "%s",
				 rec[k].student);
			st[nst].assigned = -1;
			st[nst].listed = false;
			nst++;
		}
		if (st[s].listed && rec[k].variant != st[s].assigned) {
			if (rec[k].variant < 0)
				flag(&rec[k], &rec[k].wrong_variant, "run "
				     "without a variant (assigned %d)",
				     st[s].assigned);
			else
				flag(&rec[k], &rec[k].wrong_variant, "variant "
				     "%d, assigned %d", rec[k].variant,
				     st[s].assigned);
		}
	}
	if (csv)
		puts("student,variant,records,labs,score,questions,flags");
	for (size_t s = 0; s < nst; s++) {
		int score = 0, qs = 0, nr = 0, variant = st[s].assigned;
		char labs[256] = "", flags[2048] = "", said[2048] = "";
		size_t ll = 0, fl = 0, sl = 0;

		for (size_t k = 0; k < nrec; k++) {
			struct record *x = &rec[k];

			if (strcmp(x->student, st[s].id) != 0)
				continue;
			nr++;
			score += x->score;
			qs += x->questions;
			if (variant < 0)
				variant = x->variant;
			if (ll < sizeof(labs))
				ll += (size_t)snprintf(labs + ll,
						       sizeof(labs) - ll,
						       "%s%s", ll ? " " : "",
						       x->lab);
			if (x->flags[0] != '\0' && fl < sizeof(flags))
				fl += (size_t)snprintf(flags + fl,
					sizeof(flags) - fl, "%s%s: %s%s%s%s",
					fl ? "; " : "", x->file,
					x->inconsistent ? "INCONSISTENT " : "",
					x->copy ? "COPY " : "",
					x->wrong_variant ? "VARIANT " : "",
					x->flags);
			if (x->said[0] != '\0' && sl < sizeof(said))
				sl += (size_t)snprintf(said + sl,
					sizeof(said) - sl, "%s%s: %s%s%s%s",
					sl ? _("; ") : "", x->file,
					x->inconsistent ? _("INCONSISTENT ") : "",
					x->copy ? _("COPY ") : "",
					x->wrong_variant ? _("VARIANT ") : "",
					x->said);
			bad = bad || x->inconsistent || x->copy ||
			      x->wrong_variant;
		}
		if (nr == 0) {
			snprintf(flags, sizeof(flags), "no record");
			snprintf(said, sizeof(said), "%s", _("no record"));
		}
		bad = bad || nr == 0;
		if (csv) {
			csv_field(st[s].id);
			printf(",%d,%d,", variant, nr);
			csv_field(labs);
			printf(",%d,%d,", score, qs);
			csv_field(flags);
			putchar('\n');
		} else {
			printf(ngettext("%s: variant %d, %d record (%s), score "
					"%d of %d%s%s\n",
					"%s: variant %d, %d records (%s), score "
					"%d of %d%s%s\n", (unsigned long)nr),
			       st[s].id, variant, nr,
			       labs[0] ? labs : _("none"), score, qs,
			       said[0] ? _("; ") : "", said);
		}
	}
	for (size_t k = 0; k < nrec; k++)
		free(rec[k].print);
	free(rec);
	free(st);
	return bad ? PL_EXIT_FAIL : PL_EXIT_OK;
}
