/* claims_cmd.c - `proclab claims`: the catalogue of claims, and with
 * --check the verdicts this kernel gives, from the labs' own JSON.
 *
 * --check runs each lab that tests a claim once per set of options, as
 * `/proc/self/exe LAB [ARGS] --json` with stdin from /dev/null and stdout
 * into a pipe, and parses its JSON Lines with jansson: the claim events,
 * by id.  A lab that does not end within LAB_DEADLINE_MS gets SIGTERM
 * (it then removes what it made) and its claims read "not reached". */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "claims.h"
#include "escape.h"
#include "proclab.h"

#define WIDTH 79                /* the last column text may use */
#define ID_WIDTH 24             /* the longest id (tests/test_claims.c) */
#define LAB_WIDTH 13            /* "exit-vs-_exit" */
#define VERDICT_WIDTH 13        /* "does not hold" */
#define LAB_DEADLINE_MS 120000  /* a lab's whole run, SIGTERM after */
#define MAX_ARGS 8

static void usage(FILE *f)
{
	fputs(_("usage: proclab claims [--json]\n"
		"       proclab claims --check [--json]\n"), f);
}

static void help(void)
{
	usage(stdout);
	putchar('\n');
	/* TRANSLATORS: lines of at most 79 display columns; the options
	 * keep their names and their layout */
	fputs(_("The catalogue of claims proclab tests: what an article or "
	      "folklore says about\nprocesses, in our own words, with its "
	      "source (docs/sources.md) and the lab that\ntests it.\n\n"
	      "  --check     run those labs and show the verdict each claim "
	      "gets on this\n"
	      "              kernel: holds, does not hold, depends (the "
	      "evidence says on\n"
	      "              what), or not reached (the lab failed or could "
	      "not run here)\n"
	      "  --json      one JSON object a line, one line a claim\n"
	      "  -h, --help  show this help\n\n"
	      "Exit status: 0 the list was printed, or every claim was "
	      "reached; 1 a lab\nfailed or a claim was not reached; 2 usage "
	      "error; 3 a lab cannot run here.\n"), stdout);
}

/* Print `text` from display column `col` on, folded at WIDTH into lines
 * that start at column `indent`; end the line. */
static void fold(const char *text, int col, int indent)
{
	emit_fold(stdout, text, col, indent, WIDTH);
}

/* One value of a lab's JSON as a sentence shows it. */
static void put_json(char *dst, size_t size, const json_t *v)
{
	if (json_is_integer(v))
		snprintf(dst, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(dst, size, "%.1f", json_real_value(v));
	else if (json_is_string(v))
		snprintf(dst, size, "%s", json_string_value(v));
	else if (json_is_true(v))
		snprintf(dst, size, "yes");
	else if (json_is_false(v))
		snprintf(dst, size, "no");
	else
		snprintf(dst, size, "unknown");
}

/* Render a row's evidence template over a claim event's fields. */
static void render(const char *t, const json_t *ev, char *dst, size_t size)
{
	size_t len = 0;

	dst[0] = '\0';
	while (*t != '\0' && len + 1 < size) {
		const char *end = strchr(t, '}');
		char key[64], val[256];

		if (t[0] != '{' || end == NULL ||
		    (size_t)(end - t) > sizeof(key)) {
			dst[len++] = *t++;
			continue;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(end - t - 1), t + 1);
		key[strcspn(key, ":")] = '\0';        /* a format suffix */
		put_json(val, sizeof(val), json_object_get(ev, key));
		len += (size_t)snprintf(dst + len, size - len, "%s", val);
		if (len >= size)
			len = size - 1;
		t = end + 1;
	}
	dst[len] = '\0';
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s == NULL)
		errx(PL_EXIT_FAIL, "claims: out of memory");
	puts(s);
	free(s);
	json_decref(o);
}

static json_t *claim_json(const struct claim_def *c)
{
	const struct source *s = source_find(c->source);

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s}",
			 "id", c->id, "source", s != NULL ? s->title : "",
			 "source_id", c->source, "claim", c->claim,
			 "lab", c->lab, "args", c->args,
			 "evidence", c->evidence);
}

static void list(bool json)
{
	if (json) {
		for (const struct claim_def *c = claim_table; c->id; c++)
			print_json(claim_json(c));
		return;
	}
	printf("  %-*s  ", ID_WIDTH, "ID");
	emit_pad(stdout, _("LAB"), LAB_WIDTH);
	printf("  %s\n", _("CLAIM"));
	for (const struct source *s = claim_sources; s->id != NULL; s++) {
		bool any = false;

		for (const struct claim_def *c = claim_table; c->id; c++) {
			char lab[64];
			int col;

			if (strcmp(c->source, s->id) != 0)
				continue;
			if (!any)
				printf(_("\"%s\" (%s)\n"), _(s->title), s->id);
			any = true;
			snprintf(lab, sizeof(lab), "%s%s%s", c->lab,
				 c->args ? " " : "", c->args ? c->args : "");
			col = printf("  %-*s  %-*s", ID_WIDTH, c->id,
				     LAB_WIDTH, lab);
			fold(_(c->claim), col, 2 + ID_WIDTH + 2 + LAB_WIDTH + 2);
		}
	}
}

/* ---- --check ------------------------------------------------------------ */

struct seen {
	json_t *event;          /* the claim event, or NULL: not reached */
	int lab_status;         /* the exit status of its lab's run */
};

/* Keep the claim events of one line of a lab's JSON output. */
static void take_line(const char *line, const char *lab, struct seen *seen)
{
	json_error_t jerr;
	json_t *ev = json_loads(line, JSON_REJECT_DUPLICATES, &jerr), *id;
	const struct claim_def *c;

	if (ev == NULL) {
		warnx("claims: %s: a line that is not JSON: %s", lab, jerr.text);
		return;
	}
	id = json_object_get(ev, "id");
	c = json_is_string(id) ? claim_find(json_string_value(id)) : NULL;
	if (json_is_string(json_object_get(ev, "event")) &&
	    strcmp(json_string_value(json_object_get(ev, "event")),
		   "claim") == 0 && c != NULL &&
	    seen[c - claim_table].event == NULL) {
		seen[c - claim_table].event = ev;
		return;
	}
	json_decref(ev);
}

/* Run `lab` with `args` and --json; keep its claim events.  Returns its
 * exit status, or PL_EXIT_FAIL when it could not be run or was ended. */
static int run_one(const char *lab, const char *args, struct seen *seen)
{
	char argbuf[256], *argv[MAX_ARGS + 4], *buf = NULL, *save;
	size_t cap = 0, len = 0, argc = 0;
	long long deadline = pl_now_ms() + LAB_DEADLINE_MS;
	bool ended = false;
	int p[2], null, status;
	pid_t pid;

	snprintf(argbuf, sizeof(argbuf), "%s", args != NULL ? args : "");
	argv[argc++] = (char *)"proclab";
	argv[argc++] = (char *)lab;
	for (char *a = strtok_r(argbuf, " ", &save); a != NULL &&
	     argc < MAX_ARGS + 2; a = strtok_r(NULL, " ", &save))
		argv[argc++] = a;
	argv[argc++] = (char *)"--json";
	argv[argc] = NULL;

	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0) {
		warn("claims: /dev/null");
		return PL_EXIT_UNAVAILABLE;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		warn("claims: %s: cannot make a pipe", lab);
		close(null);
		return PL_EXIT_UNAVAILABLE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		warn("claims: %s: cannot fork", lab);
		close(null), close(p[0]), close(p[1]);
		return PL_EXIT_UNAVAILABLE;
	}
	if (pid == 0) {
		/* async-signal-safe calls only, until exec */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
		    dup2(null, STDIN_FILENO) < 0 ||
		    dup2(p[1], STDOUT_FILENO) < 0)
			_exit(126);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(null);
	close(p[1]);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		long long left = deadline - pl_now_ms();
		char *nl;
		ssize_t got;
		int ready;

		ready = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			if (ended)
				break;
			warnx("claims: %s: no end after %d s; ending it", lab,
			      LAB_DEADLINE_MS / 1000);
			kill(pid, SIGTERM);
			ended = true;
			deadline = pl_now_ms() + 10000;
			continue;
		}
		if (len + 4096 + 1 > cap) {
			char *bigger = realloc(buf, cap = len + 65536);

			if (bigger == NULL) {
				warnx("claims: %s: out of memory", lab);
				kill(pid, SIGTERM);
				ended = true;
				break;
			}
			buf = bigger;
		}
		got = read(p[0], buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		buf[len] = '\0';
		/* each whole line, then keep the rest */
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			take_line(buf, lab, seen);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
	}
	free(buf);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			warn("claims: %s: waitpid", lab);
			return PL_EXIT_FAIL;
		}
	/* an orphan the lab handed to PID 1 came here (a subreaper: see
	 * check()); the lab waited for its end: reap it, as PID 1 would */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (ended || !WIFEXITED(status))
		return PL_EXIT_FAIL;
	return WEXITSTATUS(status);
}

static bool same_run(const struct claim_def *a, const struct claim_def *b)
{
	return strcmp(a->lab, b->lab) == 0 &&
	       strcmp(a->args ? a->args : "", b->args ? b->args : "") == 0;
}

static const char *not_reached(int lab_status)
{
	switch (lab_status) {
	case PL_EXIT_OK: return N_("the lab ran but did not report it");
	case PL_EXIT_UNAVAILABLE: return N_("the lab cannot run here");
	default: return N_("the lab failed before it");
	}
}

static int check(bool json)
{
	size_t n = 0;
	struct seen *seen;
	bool failed = false, unavailable = false, missing = false;
	int counts[4] = { 0 };

	while (claim_table[n].id != NULL)
		n++;
	seen = calloc(n, sizeof(*seen));
	if (seen == NULL)
		errx(PL_EXIT_FAIL, "claims: out of memory");
	/* what the labs orphan comes here, not to PID 1: no zombie of
	 * theirs is left for an init that may never reap */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) < 0)
		warn("claims: cannot become a child subreaper");
	for (size_t i = 0; i < n; i++) {
		size_t first = 0;
		int rc;

		while (!same_run(&claim_table[first], &claim_table[i]))
			first++;
		if (first < i) {        /* that run has been made */
			seen[i].lab_status = seen[first].lab_status;
			continue;
		}
		rc = run_one(claim_table[i].lab, claim_table[i].args, seen);
		for (size_t j = i; j < n; j++)
			if (same_run(&claim_table[j], &claim_table[i]))
				seen[j].lab_status = rc;
		if (rc == PL_EXIT_UNAVAILABLE)
			unavailable = true;
		else if (rc != PL_EXIT_OK)
			failed = true;
		if (rc != PL_EXIT_OK)
			warnx("claims: %s%s%s: exit status %d", claim_table[i].lab,
			      claim_table[i].args ? " " : "",
			      claim_table[i].args ? claim_table[i].args : "",
			      rc);
	}
	if (!json)
	{
		printf("%-*s  ", ID_WIDTH, "ID");
		emit_pad(stdout, _("VERDICT"), VERDICT_WIDTH);
		printf("  %s\n", _("EVIDENCE"));
	}
	for (size_t i = 0; i < n; i++) {
		const struct claim_def *c = &claim_table[i];
		json_t *ev = seen[i].event, *verdict = NULL;
		const char *v = N_("not reached");
		char evidence[1024], said[1024];

		if (ev != NULL) {
			verdict = json_object_get(ev, "verdict");
			v = json_is_string(verdict) ? json_string_value(verdict)
						    : "unknown";
			render(c->evidence, ev, evidence, sizeof(evidence));
			render(pl_gettext(c->evidence), ev, said,
			       sizeof(said));
			counts[strcmp(v, "holds") == 0 ? 0
			       : strcmp(v, "does not hold") == 0 ? 1 : 2]++;
		} else {
			snprintf(evidence, sizeof(evidence), "%s",
				 not_reached(seen[i].lab_status));
			snprintf(said, sizeof(said), "%s",
				 _(not_reached(seen[i].lab_status)));
			counts[3]++;
			missing = true;
		}
		if (json) {
			print_json(json_pack("{s:s, s:s, s:s?, s:b, s:O?, s:O?,"
					     " s:s, s:i}",
					     "id", c->id, "lab", c->lab,
					     "args", c->args,
					     "reached", ev != NULL,
					     "verdict", verdict,
					     "holds", ev != NULL ?
					     json_object_get(ev, "holds") : NULL,
					     "evidence", evidence,
					     "lab_status", seen[i].lab_status));
		} else {
			int col = printf("%-*s  ", ID_WIDTH, c->id);

			col += emit_pad(stdout, _(v), VERDICT_WIDTH);
			fold(said, col, ID_WIDTH + 2 + VERDICT_WIDTH + 2);
		}
		json_decref(ev);
	}
	free(seen);
	if (!json)
		printf(_("\n%zu claims: %d hold, %d do not hold, %d depend, "
			 "%d not reached\n"), n, counts[0], counts[1],
		       counts[2], counts[3]);
	if (failed)
		return PL_EXIT_FAIL;
	if (unavailable)
		return PL_EXIT_UNAVAILABLE;
	return missing ? PL_EXIT_FAIL : PL_EXIT_OK;
}

int claims_command(int argc, char *argv[])
{
	bool json = false, do_check = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--check") == 0) {
			do_check = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			help();
			return PL_EXIT_OK;
		} else {
			char *s = escape_word(argv[i]);

			if (argv[i][0] == '-')
				warnx("claims: unknown option '%s' (see "
				      "'proclab claims --help')",
				      s != NULL ? s : "?");
			else
				warnx("claims: unexpected argument '%s' (see "
				      "'proclab claims --help')",
				      s != NULL ? s : "?");
			free(s);
			return PL_EXIT_USAGE;
		}
	}
	if (do_check)
		return check(json);
	list(json);
	return PL_EXIT_OK;
}
