/* i18n.h - proclab's messages in the user's language (GNU gettext).
 *
 * What a person reads is translated; what a program reads never is: the
 * text view, help, usage errors and messages on stderr go through
 * gettext; JSON Lines (event names, field names, values, the sentence a
 * JSON field carries), --stable JSON and exit codes are the same bytes in
 * every language.
 *
 * Where the messages are marked:
 *   _("...")        a message translated where it is used;
 *   N_("...")       a message in a table, translated where it is shown;
 *   the tables      the labs' sentences, stages, options, summaries and
 *                   descriptions, the engine's sentences and the claims
 *                   are listed for translators by po/tables.c (`make
 *                   pot`), which walks them as the emitter does, so that
 *                   no row can be missed;
 *   keywords        the functions whose argument is a message (pl_fail's
 *                   format, obs_await's why, ...) are named in the
 *                   Makefile's XGETTEXT_KEYWORDS: they call gettext
 *                   themselves, on the text view's side only.
 */
#ifndef PROCLAB_I18N_H
#define PROCLAB_I18N_H

#include <libintl.h>

#define PL_DOMAIN "proclab"

#define _(s)  gettext(s)
#define N_(s) (s)

/* err(3): the format translated.  xgettext finds these calls by the
 * Makefile's keywords; a file includes i18n.h after <err.h>. */
#ifdef _ERR_H
#define err(st, fmt, ...)   (err)((st), gettext(fmt), ##__VA_ARGS__)
#define errx(st, fmt, ...)  (errx)((st), gettext(fmt), ##__VA_ARGS__)
#define warn(fmt, ...)      (warn)(gettext(fmt), ##__VA_ARGS__)
#define warnx(fmt, ...)     (warnx)(gettext(fmt), ##__VA_ARGS__)
/* ngettext() for the tables' plurals (a sentence's one/many, a stage's
 * what/what_many): looked up in context "plural", so that a template
 * that is a plural here and a plain message elsewhere are two entries. */
const char *pl_ngettext(const char *one, const char *many, unsigned long n);

#endif

/* setlocale() for the categories proclab uses (LC_CTYPE: display columns;
 * LC_MESSAGES: the language; numbers stay C-formatted) and the message
 * catalogue's directory: a `locale` directory beside the binary (the
 * build tree: `make` puts the .mo there), else ../share/locale from it
 * (installed under any PREFIX), else the LOCALEDIR it was built with.  When the locale the environment names is not installed (a
 * fresh Debian has no zh_CN.UTF-8), C.UTF-8 is used for that category,
 * so that LANGUAGE=zh_CN still chooses Chinese.  libc's messages
 * (strerror) stay English, as JSON carries them. */
void pl_i18n_init(void);

/* Whether messages are translated now (LANGUAGE, LC_ALL, LC_MESSAGES or
 * LANG chose a catalogue): false in the C locale. */
int pl_translated(void);

/* gettext(s) for a message that may be NULL or empty (gettext("")
 * returns the catalogue's header). */
const char *pl_gettext(const char *s);

/* ngettext() for the tables' plurals (a sentence's one/many, a stage's
 * what/what_many): looked up in context "plural", so that a template
 * that is a plural here and a plain message elsewhere are two entries. */
const char *pl_ngettext(const char *one, const char *many, unsigned long n);

#endif
