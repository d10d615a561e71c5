/* tables.c - the messages proclab keeps in tables, for translators.
 *
 * The labs' sentences, stages, options, summaries and descriptions, the
 * engine's sentences and the claims catalogue are data: xgettext cannot
 * see them in the sources without a mark on every row.  This program
 * walks the same tables the emitter and `--help` read and prints them as
 * a PO template on stdout (`make pot` merges it with what xgettext finds
 * in the code), each with a comment that says where it is shown, so that
 * no row can be missed and every translator sees the fields a template
 * names.  Plurals (a sentence's `many`, a stage's `what_many`) are
 * msgid_plural entries, as ngettext() looks them up. */
#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "emit.h"
#include "proclab.h"
#include "runcmd.h"

static void po_string(const char *key, const char *s)
{
	printf("%s \"", key);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		default: putchar(*s); break;
		}
	}
	puts("\"");
}

/* One entry; `many`: its plural, or NULL.  `where` says where it shows. */
static void entry(const char *where, const char *one, const char *many)
{
	if (one == NULL || one[0] == '\0')
		return;
	printf("\n#. %s\n", where);
	/* templates name fields in braces; a percent sign is literal */
	puts("#, no-c-format");
	/* pl_ngettext(): a plural is looked up in context "plural" */
	if (many != NULL)
		puts("msgctxt \"plural\"");
	po_string("msgid", one);
	if (many != NULL) {
		po_string("msgid_plural", many);
		puts("msgstr[0] \"\"\nmsgstr[1] \"\"");
	} else {
		puts("msgstr \"\"");
	}
}

static void sentences(const char *who, const struct sentence *s)
{
	char where[160];

	for (; s != NULL && s->event != NULL; s++) {
		snprintf(where, sizeof(where), "%s: the sentence of event "
			 "\"%s\"%s%s%s (a template: keep every {field})", who,
			 s->event, s->form ? ", form \"" : "",
			 s->form ? s->form : "", s->form ? "\"" : "");
		entry(where, s->one, s->many);
	}
}

static void lab(const struct lab *l)
{
	char who[64], where[160];

	snprintf(who, sizeof(who), "lab %s", l->name);
	snprintf(where, sizeof(where), "%s: its summary (proclab list: one "
		 "line of at most 64 columns)", who);
	entry(where, l->summary, NULL);
	snprintf(where, sizeof(where), "%s: its description (--help; "
		 "lines of at most 79 columns, or none: it is folded)", who);
	entry(where, l->description, NULL);
	for (const struct lab_option *o = l->options;
	     o != NULL && o->name != NULL; o++) {
		snprintf(where, sizeof(where), "%s: the help of --%s", who,
			 o->name);
		entry(where, o->help, NULL);
	}
	for (const struct lab_text_option *o = l->text_options;
	     o != NULL && o->name != NULL; o++) {
		snprintf(where, sizeof(where), "%s: the help of --%s", who,
			 o->name);
		entry(where, o->help, NULL);
	}
	for (const struct stage *s = l->stages;
	     s != NULL && s->name != NULL; s++) {
		snprintf(where, sizeof(where), "%s: the heading of stage "
			 "\"%s\" (a template over the lab's options%s%s)",
			 who, s->name, s->count ? "; the count is --" : "",
			 s->count ? s->count : "");
		entry(where, s->what, s->count ? s->what_many : NULL);
	}
	sentences(who, l->sentences);
}

int main(void)
{
	puts("# proclab's tables (po/tables.c); merged into proclab.pot");
	puts("msgid \"\"\nmsgstr \"\"\n"
	     "\"Content-Type: text/plain; charset=UTF-8\\n\"");
	sentences("the engine", emit_engine_sentences);
	sentences("--quiz in a class", quiz_value_sentences);
	for (size_t i = 0; i < lab_count; i++)
		lab(lab_table[i]);
	lab(&run_command_lab);
	for (const struct source *s = claim_sources; s->id != NULL; s++) {
		char where[160];

		snprintf(where, sizeof(where), "the title of source %s "
			 "(an article's: its original title)", s->id);
		entry(where, s->title, NULL);
	}
	for (const struct claim_def *c = claim_table; c->id != NULL; c++) {
		char where[200];

		snprintf(where, sizeof(where), "claim %s: the claim, in our "
			 "own words (proclab claims; the claim event)", c->id);
		entry(where, c->claim, NULL);
		snprintf(where, sizeof(where), "claim %s: what was seen (a "
			 "template: keep every {field})", c->id);
		entry(where, c->evidence, NULL);
	}
	return ferror(stdout) || fflush(stdout) != 0;
}
