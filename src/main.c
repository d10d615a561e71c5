/* main.c - proclab: dispatch to a lab, parse its options, run it. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "claims.h"
#include "escape.h"
#include "grade.h"
#include "i18n.h"
#include "proclab.h"
#include "runcmd.h"
#include "variant.h"

#define DELAY_MAX   600000      /* ms: ten minutes between stages */
#define TIMEOUT_MAX 600000      /* ms */
#define TIMEOUT_DEF 3000

/* TRANSLATORS: keep the layout: an option's line starts with two spaces
 * and "--NAME" (untranslated), its text from column 19 on, lines that go
 * on with it start with more spaces; at most 79 display columns a line
 * (a Chinese character is two).  `proclab LAB --help` leaves out the
 * lines of an option the lab refuses. */
static const char common_usage[] = N_(
	"Options every lab takes:\n"
	"  --json          print JSON Lines (see docs/json.md) instead of text\n"
	"  --step          pause after each stage until Enter (or EOF) on stdin\n"
	"  --quiz          before each change a stage shows, ask which state\n"
	"                  comes next (one answer a line on stdin), then score\n"
	"  --delay MS      wait MS milliseconds between stages (0 to 600000,\n"
	"                  default 0)\n"
	"  --timeout MS    how long a stage waits for the state it expects\n"
	"                  (1 to 600000, default 3000)\n"
	"  --stable        the same bytes on every run, to diff against a saved\n"
	"                  copy: roles for pids, stage numbers for times, \"~\"\n"
	"                  (JSON null) for measured values, no changes caught\n"
	"                  in passing\n"
	"  --no-color      no color, even on a terminal (so does NO_COLOR)\n"
	"  --variant N     run variant N (0 to 999) of the lab: the options\n"
	"                  marked \"varies\" take its values unless given\n"
	"  --student ID    the variant of this student ID (a hash of it);\n"
	"                  the record says the ID and the variant\n"
	"  --record FILE   also write the JSON Lines record to FILE (the\n"
	"                  text view and the quiz stay on the terminal)\n"
	"  -v, --verbose   also show changes caught in passing (JSON always has\n"
	"                  them, marked transient)\n"
	"  -h, --help      show this help\n");

/* The SYNOPSIS of proclab(1). */
static void usage_main(FILE *f)
{
	fputs(_("usage: proclab LAB [options]\n"), f);
	for (size_t i = 0; i < lab_count; i++)
		if (lab_table[i]->args != NULL)
			fprintf(f, _("       proclab %s %s [options]\n"),
				lab_table[i]->name, lab_table[i]->args);
	fputs(_("       proclab run [options] [--] PROGRAM [ARGS...]\n"
		"       proclab claims [--check] [--json]\n"
		"       proclab grade [--csv] [--class FILE] RECORD...\n"
		"       proclab list [--json]\n"
		"       proclab help [LAB]\n"
		"       proclab --help | --version\n"), f);
}


static void list_labs(void);
static void fold(const char *text, int col, int indent);

static void help_main(void)
{
	usage_main(stdout);
	putchar('\n');
	fold(_("proclab forks real processes, drives them through the "
	       "states Linux shows in\n/proc (R S D T t Z X) and prints "
	       "every transition as it is observed."), 0, 0);
	printf("\n%s\n", _("Labs:"));
	list_labs();
	fputs("\n", stdout);
	fputs(_(common_usage), stdout);
	putchar('\n');
	fold(_("Exit status: 0 every stage saw what it demonstrates, 1 the "
	       "kernel did not show\nan expected state in time, 2 usage "
	       "error, 3 this machine cannot run the lab."), 0, 0);
	putchar('\n');
	fold(_("'proclab help LAB' or 'proclab LAB --help' describes a lab; "
	       "see also proclab(1)."), 0, 0);
}

/* Print text from display column col on, folded at 79 columns into lines
 * that start at column indent (emit_fold); end the line. */
static void fold(const char *text, int col, int indent)
{
	emit_fold(stdout, text, col, indent, 79);
}

/* One lab a line (its summary fits: tests/test_cli.c), for people and
 * for scripts: the completions and tests/golden.sh read the first word. */
static void list_labs(void)
{
	for (size_t i = 0; i < lab_count; i++)
		printf("%-14s %s\n", lab_table[i]->name,
		       _(lab_table[i]->summary));
}

/* One option in `proclab LAB --help`, laid out as common_usage is: the text
 * in a column of its own; a name too long for it puts the text below. */
static void help_option(const char *left, const char *text)
{
	enum { COL = 18 };
	int col = printf("  %s", left); /* ASCII */

	if (col > COL - 2) {
		putchar('\n');
		col = 0;
	}
	fold(text, col, COL);
}

/* Does lab refuse the common option `name` (struct lab's `refuses`)? */
static bool refused(const struct lab *lab, const char *name)
{
	const char *p = lab->refuses;
	size_t n = strlen(name);

	while (p != NULL && (p = strstr(p, name)) != NULL) {
		if ((p == lab->refuses || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static void help_lab(const struct lab *lab)
{
	bool skip;
	const struct lab_option *o = lab->options;

	printf(_("usage: proclab %s%s%s [options]\n"), lab->name,
	       lab->args ? " " : "", lab->args ? lab->args : "");
	putchar('\n');
	fold(_(lab->summary), 0, 0);
	putchar('\n');
	fold(_(lab->description), 0, 0);
	if ((o != NULL && o->name != NULL) || lab->text_options != NULL)
		printf("\n%s\n", _("Options of this lab:"));
	for (const struct lab_text_option *t = lab->text_options;
	     t != NULL && t->name != NULL; t++) {
		char left[64], sh[8] = "";

		if (t->letter != 0)
			snprintf(sh, sizeof(sh), "-%c, ", t->letter);
		snprintf(left, sizeof(left), "%s--%s %s", sh, t->name, t->arg);
		help_option(left, _(t->help));
	}
	if (o != NULL && o->name != NULL) {
		for (; o->name != NULL; o++) {
			char left[48], text[512];

			snprintf(left, sizeof(left), "--%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
			/* a default outside the range means "not set" */
			if (o->arg && o->def >= o->min && o->def <= o->max)
				snprintf(text, sizeof(text),
					 _("%s (%lld to %lld, default %lld)"),
					 _(o->help), o->min, o->max, o->def);
			else if (o->arg)
				snprintf(text, sizeof(text),
					 _("%s (%lld to %lld)"), _(o->help),
					 o->min, o->max);
			else
				snprintf(text, sizeof(text), "%s", _(o->help));
			help_option(left, text);
		}
	}
	if (lab->stages != NULL) {
		static const struct run defaults;  /* every option unset */
		struct run r = defaults;

		r.lab = lab;
		printf("\n%s\n", _("Stages:"));
		for (const struct stage *s = lab->stages; s->name != NULL; s++) {
			char left[48], what[512], text[600];
			const char *opt = s->when;

			snprintf(left, sizeof(left), "%s", s->name);
			stage_what(&r, s, true, what, sizeof(what));
			if (opt != NULL && opt[0] == '!')
				snprintf(text, sizeof(text), _("%s (not with "
					 "--%s)"), what, opt + 1);
			else if (opt != NULL)
				snprintf(text, sizeof(text), _("%s (only with "
					 "--%s)"), what, opt);
			else
				snprintf(text, sizeof(text), "%s", what);
			help_option(left, text);
		}
	}
	putchar('\n');
	/* common_usage without the options the lab refuses (an option's
	 * line and the deeper-indented lines that go on with its text) */
	skip = false;
	for (const char *l = _(common_usage), *nl; *l != '\0'; l = nl + 1) {
		char name[32];

		nl = strchr(l, '\n');
		if (strncmp(l, "  -", 3) == 0 || l[0] != ' ') {
			size_t n = strcspn(l + 4, " \n");

			snprintf(name, sizeof(name), "%.*s",
				 (int)(n < sizeof(name) ? n : sizeof(name) - 1),
				 l + 4);
			skip = strncmp(l, "  --", 4) == 0 && refused(lab, name);
		}
		if (!skip)
			fwrite(l, 1, (size_t)(nl - l) + 1, stdout);
	}
	if (lab->refuses != NULL) {
		static const char *const names[] = { "step", "quiz", "delay",
						     "timeout" };
		char text[256];
		int len = snprintf(text, sizeof(text), _("%s refuses"),
				   lab->name);

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (refused(lab, names[i]) && len < (int)sizeof(text))
				len += snprintf(text + len, sizeof(text) - len,
						" --%s", names[i]);
		if (len < (int)sizeof(text))
			snprintf(text + len, sizeof(text) - len, "%s",
				 _(" (a usage error): nothing in it pauses, "
				   "asks or waits for an expected state."));
		putchar('\n');
		fold(text, 0, 0);
	}
}

static const char *known(const char *version)
{
	return version[0] != '\0' ? version : "unknown";
}

/* The first line is the version alone, for scripts: `proclab --version |
 * head -n1`.  Check is linked only into the tests, built with this tree. */
static void version(void)
{
	printf("proclab %s\n"
	       "JSON Lines schema %d\n"
	       "built with libbsd %s; tests: Check %s\n",
	       PROCLAB_VERSION, PROCLAB_SCHEMA,
	       known(PROCLAB_LIBBSD_VERSION), known(PROCLAB_CHECK_VERSION));
}

/* The labs as JSON Lines, one object a lab: name, summary, options
 * (name, arg, min, max, default, varies: [lo, hi] or null), stages. */
static void list_json(void)
{
	for (size_t i = 0; i < lab_count; i++) {
		const struct lab *l = lab_table[i];
		json_t *o = json_pack("{s:s, s:s, s:[], s:[]}", "name", l->name,
				      "summary", l->summary, "options",
				      "stages");
		json_t *opts = json_object_get(o, "options"),
		       *stages = json_object_get(o, "stages");
		char *s;

		for (const struct lab_option *p = l->options;
		     p != NULL && p->name != NULL; p++) {
			json_t *vary = json_null();

			for (const struct lab_vary *v = l->vary;
			     v != NULL && v->option != NULL; v++)
				if (strcmp(v->option, p->name) == 0)
					vary = json_pack("[I, I]",
							 (json_int_t)v->lo,
							 (json_int_t)v->hi);
			json_array_append_new(opts, json_pack(
				"{s:s, s:s?, s:I, s:I, s:I, s:o}", "name",
				p->name, "arg", p->arg, "min",
				(json_int_t)p->min, "max", (json_int_t)p->max,
				"default", (json_int_t)p->def, "varies",
				vary));
		}
		for (const struct stage *st = l->stages;
		     st != NULL && st->name != NULL; st++)
			json_array_append_new(stages, json_string(st->name));
		s = json_dumps(o, JSON_COMPACT);
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(o);
	}
}

/* Levenshtein distance of a and b (short words), for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t x = d[i - 1][j] + 1, y = d[i][j - 1] + 1,
			       z = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			d[i][j] = x < y ? (x < z ? x : z) : (y < z ? y : z);
		}
	return d[la][lb];
}

/* The lab or command nearest to a mistyped word, or NULL when none is
 * near (at most 2 edits, and fewer than the word's length). */
static const char *nearest(const char *word)
{
	static const char *const commands[] = { "list", "help", "claims", "run",
						"grade" };
	const char *best = NULL;
	size_t bd = 3;

	for (size_t i = 0; i < lab_count; i++) {
		size_t d = distance(word, lab_table[i]->name);

		if (d < bd) {
			bd = d;
			best = lab_table[i]->name;
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		size_t d = distance(word, commands[i]);

		if (d < bd) {
			bd = d;
			best = commands[i];
		}
	}
	return best != NULL && bd < strlen(word) ? best : NULL;
}

static const struct lab *find_lab(const char *name)
{
	for (size_t i = 0; i < lab_count; i++)
		if (strcmp(lab_table[i]->name, name) == 0)
			return lab_table[i];
	return NULL;
}

/* exit 0 after a successful write of help text, 1 if stdout failed */
static int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("cannot write to standard output");
		return PL_EXIT_FAIL;
	}
	return PL_EXIT_OK;
}

/* A word from the command line as an error message shows it: escaped, so
 * that control characters in it cannot act on the terminal.  Only for a
 * message right before exit, so never freed. */
static const char *shown(const char *word)
{
	const char *s = escape_word(word);

	return s != NULL ? s : "?";
}

static long long number(const char *lab, const char *opt, const char *arg,
			long long min, long long max)
{
	const char *errstr;
	long long v = strtonum(arg, min, max, &errstr);

	if (errstr != NULL)
		errx(PL_EXIT_USAGE, "%s: --%s: '%s' is %s (%lld to %lld)", lab,
		     opt, shown(arg), errstr, min, max);
	return v;
}

/* Options marked as varying take the variant's value unless given. */
static void apply_variant(struct run *r)
{
	const struct lab_option *o = r->lab->options;

	if (r->variant < 0)
		return;
	for (const struct lab_vary *v = r->lab->vary; v != NULL &&
	     v->option != NULL; v++) {
		int i = 0;

		while (o != NULL && o[i].name != NULL &&
		       strcmp(o[i].name, v->option) != 0)
			i++;
		/* the lab table is wrong: no such option, or out of range */
		if (o == NULL || o[i].name == NULL || o[i].arg == NULL ||
		    v->lo < o[i].min || v->hi > o[i].max || v->lo > v->hi)
			abort();
		if (r->set[i])
			continue;
		r->set[i] = true;
		r->val[i] = variant_value(r->variant, r->lab->name, o[i].name,
					  v->lo, v->hi);
	}
}

enum { OPT_JSON = 256, OPT_STEP, OPT_DELAY, OPT_TIMEOUT, OPT_NOCOLOR,
       OPT_QUIZ, OPT_STABLE, OPT_VARIANT, OPT_STUDENT, OPT_RECORD,
       OPT_LAB = 512, OPT_TEXT = 768 };

/* Parse argv (argv[0] is the lab's name) into r.  Exits 2 on any error,
 * with one line on stderr naming the bad word; exits 0 after --help. */
static void parse_options(struct run *r, int argc, char *argv[])
{
	static const struct option common[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "step", no_argument, NULL, OPT_STEP },
		{ "delay", required_argument, NULL, OPT_DELAY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "no-color", no_argument, NULL, OPT_NOCOLOR },
		{ "quiz", no_argument, NULL, OPT_QUIZ },
		{ "stable", no_argument, NULL, OPT_STABLE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "variant", required_argument, NULL, OPT_VARIANT },
		{ "student", required_argument, NULL, OPT_STUDENT },
		{ "record", required_argument, NULL, OPT_RECORD },
	};
	enum { NCOMMON = sizeof(common) / sizeof(common[0]) };
	struct option longopts[NCOMMON + 2 * LAB_OPT_MAX + 1];
	const struct lab *lab = r->lab;
	const struct lab_option *lo = lab->options;
	const struct lab_text_option *to = lab->text_options;
	char shorts[4 + 2 * LAB_OPT_MAX] = ":hv";
	bool no_color = false;
	const char *record = NULL;
	int n = NCOMMON, c, at = -1;

	memcpy(longopts, common, sizeof(common));
	for (int i = 0; lo != NULL && lo[i].name != NULL; i++) {
		if (i >= LAB_OPT_MAX)
			abort();        /* the lab table is wrong */
		longopts[n++] = (struct option){ lo[i].name,
			lo[i].arg ? required_argument : no_argument, NULL,
			OPT_LAB + i };
	}
	for (int i = 0; to != NULL && to[i].name != NULL; i++) {
		if (i >= LAB_OPT_MAX)
			abort();
		longopts[n++] = (struct option){ to[i].name, required_argument,
						 NULL, OPT_TEXT + i };
		if (to[i].letter != 0) {
			size_t k = strlen(shorts);

			shorts[k] = to[i].letter;
			shorts[k + 1] = ':';
			shorts[k + 2] = '\0';
		}
	}
	longopts[n] = (struct option){ 0 };

	r->timeout_ms = TIMEOUT_DEF;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, longopts, &at)) != -1) {
		for (int i = 0; to != NULL && to[i].name != NULL; i++)
			if (to[i].letter != 0 && c == to[i].letter)
				c = OPT_TEXT + i;
		if (c >= OPT_TEXT) {
			r->text[c - OPT_TEXT] = optarg;
			continue;
		}
		switch (c) {
		case OPT_JSON: r->json = true; break;
		case OPT_STEP: r->step = true; break;
		case OPT_QUIZ: r->quiz = true; break;
		case OPT_NOCOLOR: no_color = true; break;
		case OPT_STABLE: r->stable = true; break;
		case OPT_VARIANT:
			r->variant = (int)number(lab->name, "variant", optarg,
						 0, VARIANT_COUNT - 1);
			break;
		case OPT_STUDENT:
			if (optarg[0] == '\0' || strlen(optarg) > 64)
				errx(PL_EXIT_USAGE, "%s: --student: an ID is 1 "
				     "to 64 bytes", lab->name);
			r->student = optarg;
			break;
		case OPT_RECORD:
			record = optarg;
			break;
		case 'v': r->verbose = true; break;
		case 'h':
			help_lab(lab);
			exit(finish_stdout());
		case OPT_DELAY:
			r->delay_ms = (int)number(lab->name, "delay", optarg, 0,
						  DELAY_MAX);
			break;
		case OPT_TIMEOUT:
			r->timeout_ms = (int)number(lab->name, "timeout",
						    optarg, 1, TIMEOUT_MAX);
			break;
		case ':':
			errx(PL_EXIT_USAGE, "%s: option '%s' needs a value",
			     lab->name, shown(argv[optind - 1]));
		case '?': {
			const char *word = argv[optind - 1];
			/* optopt is a char: a byte above 127 is negative */
			if (optopt > 0 && optopt < 256 && word[1] != '-') {
				char opt[3] = { '-', (char)optopt, '\0' };
				errx(PL_EXIT_USAGE, "%s: unknown option '%s' "
				     "(see 'proclab %s --help')", lab->name,
				     shown(opt), lab->name);
			}
			if (optopt != 0 && strchr(word, '=') != NULL)
				errx(PL_EXIT_USAGE, "%s: option '%s' takes no "
				     "value", lab->name, shown(word));
			errx(PL_EXIT_USAGE, "%s: unknown option '%s' (see "
			     "'proclab %s --help')", lab->name, shown(word),
			     lab->name);
		}
		default: {
			int i = c - OPT_LAB;
			r->set[i] = true;
			r->val[i] = lo[i].arg ? number(lab->name, lo[i].name,
						       optarg, lo[i].min,
						       lo[i].max)
					      : 1;
		}
		}
		/* after the value was checked: a bad one is named first */
		if (at >= 0 && at < NCOMMON && refused(lab, common[at].name))
			errx(PL_EXIT_USAGE, "%s: option '--%s' does not apply to "
			     "this lab (see 'proclab %s --help')", lab->name,
			     common[at].name, lab->name);
		at = -1;
	}
	if (optind < argc && lab->args == NULL)
		errx(PL_EXIT_USAGE, "%s: unexpected argument '%s'", lab->name,
		     shown(argv[optind]));
	/* getopt_long has moved the operands to the end */
	r->argc = argc - optind;
	r->argv = argv + optind;
	r->color = !r->json && emit_want_color(no_color);
	if (r->student != NULL) {
		int v = variant_of_student(r->student);

		if (r->variant >= 0 && r->variant != v)
			errx(PL_EXIT_USAGE, "%s: --student %s is variant %d, "
			     "not %d: give one of them", lab->name,
			     shown(r->student), v, r->variant);
		r->variant = v;
	}
	apply_variant(r);
	if (record != NULL) {
		r->record = fopen(record, "we");
		if (r->record == NULL)
			err(PL_EXIT_USAGE, "%s: --record: cannot open '%s'",
			    lab->name, shown(record));
	}
}

static struct run *current;

/* Say what proclab inherited and did not keep, or keeps against the
 * usual (only when it did: the usual start says nothing of it). */
static void emit_inherited(struct run *r, const char *sigchld_reset)
{
	static const int ending[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
	char names[64] = "";
	size_t len = 0;

	for (size_t i = 0; i < sizeof(ending) / sizeof(ending[0]); i++)
		if (sigismember(&r->inherited_ign, ending[i]) == 1)
			len += (size_t)snprintf(names + len, sizeof(names) - len,
						"%sSIG%s", len ? " " : "",
						sigabbrev_np(ending[i]));
	if (len > 0)
		emit(r, "ignored", FIELDS(F_STR("signals", names)));
	if (sigchld_reset != NULL)
		emit(r, "sigchld", FIELDS(F_STR("was", sigchld_reset),
					  F_STR("now", "SIG_DFL")));
}

static void teardown_at_exit(void)
{
	if (current != NULL)
		run_teardown(current);
}

/* The start event of a run with a variant: the variant, the student's ID
 * (null when given by number) and the value of every option, so that a
 * record says what its lesson was. */
static void start_variant(struct run *r, const char *kernel)
{
	const struct lab_option *o = r->lab->options;
	char values[512] = "";
	size_t len = 0;

	for (int i = 0; o != NULL && o[i].name != NULL; i++)
		if (o[i].arg != NULL && len < sizeof(values))
			len += (size_t)snprintf(values + len,
						sizeof(values) - len,
						"%s--%s %lld", len ? " " : "",
						o[i].name, opt_val(r, o[i].name));
	emit_form(r, "start", "variant",
		  FIELDS(F_PID("pid", r->self),
			 F_INT("schema", PROCLAB_SCHEMA),
			 F_STR("version", PROCLAB_VERSION),
			 F_MEAS("kernel", kernel),
			 F_BOOL("pidfd", !r->no_pidfd),
			 F_INT("variant", r->variant),
			 F_STR("student", r->student),
			 F_STR("options", values),
			 F_TEXT("lab", r->lab->name),
			 F_TEXT("values", values[0] ? values
						    : _("no options"))));
}

/* The start event: the first line of every run past its command line. */
static void emit_start(struct run *r)
{
	struct utsname u;

	if (uname(&u) < 0)
		strcpy(u.release, "unknown");
	if (r->variant >= 0) {
		start_variant(r, u.release);
		return;
	}
	emit_form(r, "start", r->no_pidfd ? "nopidfd" : NULL,
		  FIELDS(F_PID("pid", r->self), F_INT("schema", PROCLAB_SCHEMA),
			 F_STR("version", PROCLAB_VERSION),
			 F_MEAS("kernel", u.release),
			 F_BOOL("pidfd", !r->no_pidfd),
			 F_TEXT("lab", r->lab->name)));
}

/* The result event: the last line of every run past its command line. */
static void emit_result(struct run *r, int rc)
{
	if (r->quiz)    /* the score says how the student did, not the lab */
		emit_form(r, "result", rc == PL_EXIT_OK ? "quiz" : "failed-quiz",
			  FIELDS(F_BOOL("ok", rc == PL_EXIT_OK),
				 F_INT("exit", rc), F_INT("score", r->score),
				 F_INT("questions", r->questions)));
	else
		emit_form(r, "result", rc == PL_EXIT_OK ? NULL : "failed",
			  FIELDS(F_BOOL("ok", rc == PL_EXIT_OK),
				 F_INT("exit", rc)));
}

/* The machine cannot run the lab, found before the start event (no /proc,
 * a /proc of another PID namespace, no signalfd, no memory, a lab's
 * prepare): one line on stderr, msg (NULL: the lab's prepare has printed
 * it); with --json, as on every run that ends with exit 3, `start` first,
 * then `unavailable` (the message) and `result`.  The text view prints
 * nothing on stdout: the line on stderr says it all. */
static int unavailable_early(struct run *r, const char *msg)
{
	if (msg != NULL)
		pl_warnx(r, "%s", msg);
	else
		msg = pl_last_warning();
	if (r->json) {
		r->stage_name = "";
		emit_start(r);
		emit(r, "unavailable", FIELDS(F_STR("stage_name", ""),
					     F_STR("message", msg)));
		emit_result(r, PL_EXIT_UNAVAILABLE);
		finish_stdout();
	}
	return PL_EXIT_UNAVAILABLE;
}

/* Is /proc this PID namespace's?  Under `unshare --pid --fork` without
 * --mount-proc it is the parent namespace's: every pid read there names
 * some other process (the host's kernel threads for proclab's children).
 * /proc/self then names proclab by its pid out there, or (a /proc of
 * a namespace proclab is not in) nothing at all.  Returns NULL, or why not
 * in buf. */
static const char *foreign_proc(char *buf, size_t size)
{
	char link[32];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	const char *errstr;
	pid_t self = getpid(), seen;

	if (n < 0 && errno != ENOENT)
		return NULL;            /* cannot tell: let the labs try */
	if (n >= 0) {
		link[n] = '\0';
		seen = (pid_t)strtonum(link, 1, INT_MAX, &errstr);
		if (errstr != NULL || seen == self)
			return NULL;
		snprintf(buf, size, "/proc is not this PID namespace's: it "
			 "shows proclab as pid %d, getpid() says %d; run "
			 "proclab with a /proc of its own: unshare --pid "
			 "--fork --mount-proc", (int)seen, (int)self);
	} else {
		snprintf(buf, size, "/proc is not this PID namespace's: "
			 "/proc/self names no process, getpid() says %d; run "
			 "proclab with a /proc of its own: unshare --pid "
			 "--fork --mount-proc", (int)self);
	}
	return buf;
}

/* Under a tracer (strace, gdb): say so at the start, with what it costs. */
static void note_tracer(struct run *r)
{
	struct proc_handle h;
	struct proc_status ps;
	struct proc_stat st;

	if (proc_open(&h, r->self) != PROC_OK)
		return;
	if (proc_read_status(&h, &ps) == PROC_OK && (ps.has & PS_TRACER) &&
	    ps.tracer > 0)
		emit(r, "traced",
		     FIELDS(F_PID("pid", r->self), F_MEAS("tracer", ps.tracer),
			    F_MEAS("tracer_comm",
				   proc_peek_stat(ps.tracer, &st) == PROC_OK
				   ? st.comm : "?")));
	proc_close(&h);
}

/* Block the signals that end proclab and read them from a signalfd; one
 * inherited as ignored (nohup, a script's background job) stays ignored:
 * blocked, it would be queued and read.  An inherited SIGCHLD = SIG_IGN
 * or SA_NOCLDWAIT would release every child at its exit, so no lab could
 * show a zombie: it gets its default back (*sigchld_reset: which it was). */
static int setup_signals(struct run *r, const char **sigchld_reset)
{
	static const int ending[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction old;
	sigset_t set;

	sigemptyset(&set);
	sigemptyset(&r->inherited_ign);
	for (size_t i = 0; i < sizeof(ending) / sizeof(ending[0]); i++) {
		if (sigaction(ending[i], NULL, &old) == 0 &&
		    !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN)
			sigaddset(&r->inherited_ign, ending[i]);
		else
			sigaddset(&set, ending[i]);
	}
	*sigchld_reset = NULL;
	if (sigaction(SIGCHLD, NULL, &old) == 0 &&
	    ((!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) ||
	     (old.sa_flags & SA_NOCLDWAIT))) {
		if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
			return -1;
		*sigchld_reset = old.sa_flags & SA_NOCLDWAIT ? "SA_NOCLDWAIT"
								 : "SIG_IGN";
	}
	/* blocked, SIGCONT still continues us; read, it says we were
	 * stopped (report()) */
	sigaddset(&set, SIGCONT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (r->sigfd < 0)
		return -1;
	/* a closed stdout is an error to report, not a death */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int run_lab(const struct lab *lab, int argc, char *argv[])
{
	static struct run r;
	char msg[512];
	const char *sigchld_reset;
	int rc;

	r.lab = lab;
	r.sigfd = -1;
	r.variant = -1;
	parse_options(&r, argc, argv);
	r.self = getpid();
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	if (access("/proc/self/stat", R_OK) < 0) {
		snprintf(msg, sizeof(msg), "/proc is not available: %s",
			 strerror(errno));
		return unavailable_early(&r, msg);
	}
	if (foreign_proc(msg, sizeof(msg)) != NULL)
		return unavailable_early(&r, msg);
	if (setup_signals(&r, &sigchld_reset) < 0 ||
	    pl_init_reaper(&r) < 0) {
		snprintf(msg, sizeof(msg), "cannot set up signals: %s",
			 strerror(errno));
		return unavailable_early(&r, msg);
	}
	/* let the observer's short sleeps be short */
	prctl(PR_SET_TIMERSLACK, 1UL);
	setproctitle("%s", lab->name);
	r.no_pidfd = !pl_pidfd_works();
	if (lab->state_size > 0 &&
	    (r.state = calloc(1, lab->state_size)) == NULL)
		return unavailable_early(&r, "cannot allocate: out of memory");
	/* before the first fork: what is ours to reap, and the run's group
	 * (its janitor counts as a process of the user when prepare checks
	 * RLIMIT_NPROC); without a janitor, children stay in our group */
	run_note_inherited(&r);
	janitor_start(&r);
	if (lab->prepare != NULL && (rc = lab->prepare(&r)) != PL_EXIT_OK) {
		janitor_stop(&r);
		return rc == PL_EXIT_UNAVAILABLE ? unavailable_early(&r, NULL)
						 : rc;
	}
	current = &r;
	atexit(teardown_at_exit);

	emit_start(&r);
	emit_inherited(&r, sigchld_reset);
	note_tracer(&r);
	if (r.self == 1)
		emit(&r, "init", FIELDS(F_PID("pid", r.self)));
	rc = lab->run != NULL ? lab->run(&r) : PL_EXIT_OK;
	if (rc == PL_EXIT_OK && lab->stages != NULL)
		rc = run_stages(&r);
	emit_unordered_end(&r);         /* a lab that failed inside one */
	run_explain(&r, rc == PL_EXIT_FAIL && r.unavailable
			? PL_EXIT_UNAVAILABLE : rc);
	stage_end(&r);
	run_teardown(&r);
	if (rc == PL_EXIT_OK && r.failed)
		rc = PL_EXIT_FAIL;
	/* a lab that ended on a child's failed call (puppets say -1) */
	if (rc == PL_EXIT_FAIL && r.unavailable)
		rc = PL_EXIT_UNAVAILABLE;
	emit_result(&r, rc);
	current = NULL;
	if (finish_stdout() != PL_EXIT_OK && rc == PL_EXIT_OK)
		rc = PL_EXIT_FAIL;
	if (r.record != NULL) {
		FILE *f = r.record;

		r.record = NULL;
		if ((ferror(f) | fclose(f)) != 0) {
			warnx("%s: --record: cannot write the record",
			      lab->name);
			if (rc == PL_EXIT_OK)
				rc = PL_EXIT_FAIL;
		}
	}
	return rc;
}

int main(int argc, char *argv[], char *envp[])
{
	const struct lab *lab;
	const char *cmd;

	/* A closed stdin, stdout or stderr would be taken by the next fd
	 * opened (the signalfd, a pipe): give it /dev/null instead. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return PL_EXIT_UNAVAILABLE;
	/* display columns (LC_CTYPE) and the language (LC_MESSAGES) only,
	 * so that numbers stay C-formatted */
	pl_i18n_init();
	setproctitle_init(argc, argv, envp);
	if (argc < 2) {         /* bare proclab: what there is to run */
		usage_main(stdout);
		printf("\n%s\n", _("Labs:"));
		list_labs();
		printf("\n%s\n", _("'proclab LAB --help' describes a lab."));
		return finish_stdout();
	}
	cmd = argv[1];
	/* --help is help: `proclab --help LAB` works as `proclab help LAB` */
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		cmd = "help";
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		if (argc > 2)
			errx(PL_EXIT_USAGE, "%s: unexpected argument '%s'",
			     cmd, shown(argv[2]));
		version();
		return finish_stdout();
	}
	if (strcmp(cmd, "run") == 0)
		return run_command(argc - 1, argv + 1);
	if (strcmp(cmd, "claims") == 0) {
		int rc = claims_command(argc - 1, argv + 1);

		return finish_stdout() != PL_EXIT_OK && rc == PL_EXIT_OK
		       ? PL_EXIT_FAIL : rc;
	}
	if (strcmp(cmd, "grade") == 0) {
		int rc = grade_command(argc - 1, argv + 1);

		return finish_stdout() != PL_EXIT_OK && rc == PL_EXIT_OK
		       ? PL_EXIT_FAIL : rc;
	}
	if (strcmp(cmd, "list") == 0 && argc == 3 &&
	    strcmp(argv[2], "--json") == 0) {
		list_json();
		return finish_stdout();
	}
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "help") == 0) {
		if (argc > 3 || (argc == 3 && strcmp(cmd, "list") == 0))
			errx(PL_EXIT_USAGE, "%s: unexpected argument '%s'",
			     cmd, shown(argv[argc - 1]));
		if (argc == 2) {
			if (strcmp(cmd, "list") == 0)
				list_labs();
			else
				help_main();
			return finish_stdout();
		}
		if (strcmp(cmd, "help") == 0 && strcmp(argv[2], "claims") == 0)
			return claims_command(2, (char *[]){ argv[2],
							     (char *)"--help",
							     NULL });
		lab = find_lab(argv[2]);
		if (lab == NULL)
			errx(PL_EXIT_USAGE, "unknown lab '%s' (see 'proclab "
			     "list')", shown(argv[2]));
		help_lab(lab);
		return finish_stdout();
	}
	lab = find_lab(cmd);
	if (lab == NULL) {
		const char *near;

		/* an option before the lab: `proclab --delay 5 zombie` */
		for (int i = 2; cmd[0] == '-' && i < argc; i++)
			if (find_lab(argv[i]) != NULL)
				errx(PL_EXIT_USAGE, "'%s' goes after the lab: "
				     "proclab %s %s ...", shown(cmd),
				     shown(argv[i]), shown(cmd));
		if (cmd[0] == '-')
			errx(PL_EXIT_USAGE, "unknown option '%s' (see "
			     "'proclab --help')", shown(cmd));
		if ((near = nearest(cmd)) != NULL)
			errx(PL_EXIT_USAGE, "unknown lab '%s'; did you mean "
			     "'%s'? (see 'proclab list')", shown(cmd), near);
		errx(PL_EXIT_USAGE, "unknown lab '%s' (see 'proclab list')",
		     shown(cmd));
	}
	return run_lab(lab, argc - 1, argv + 1);
}
