/* i18n.c - choosing the language of the messages (see i18n.h). */
#include <libgen.h>
#include <stdbool.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"

#ifndef PROCLAB_LOCALEDIR
#define PROCLAB_LOCALEDIR "/usr/local/share/locale"
#endif

/* Whether dir holds a catalogue of ours (any language of po/LINGUAS
 * would do; zh_CN is the one there is). */
static bool has_catalogue(const char *dir)
{
	char probe[PATH_MAX + 64];

	snprintf(probe, sizeof(probe), "%s/zh_CN/LC_MESSAGES/%s.mo", dir,
		 PL_DOMAIN);
	return access(probe, R_OK) == 0;
}

/* Beside the binary first: the build tree (./proclab and locale/), then
 * an installed tree of any prefix (PREFIX/bin/proclab and
 * PREFIX/share/locale), then the directory it was built for. */
static const char *locale_dir(void)
{
	static char dir[PATH_MAX + 32];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *bin;

	if (n <= 0)
		return PROCLAB_LOCALEDIR;
	exe[n] = '\0';
	bin = dirname(exe);
	snprintf(dir, sizeof(dir), "%s/locale", bin);
	if (has_catalogue(dir))
		return dir;
	snprintf(dir, sizeof(dir), "%s/../share/locale", bin);
	if (has_catalogue(dir))
		return dir;
	return PROCLAB_LOCALEDIR;
}

void pl_i18n_init(void)
{
	/* the environment's locale, or C.UTF-8 when it names one that is
	 * not installed (LANG=zh_CN.UTF-8 on a fresh machine): LANGUAGE
	 * is ignored only in the C locale */
	if (setlocale(LC_CTYPE, "") == NULL)
		setlocale(LC_CTYPE, "C.UTF-8");
	if (setlocale(LC_MESSAGES, "") == NULL)
		setlocale(LC_MESSAGES, "C.UTF-8");
	bindtextdomain(PL_DOMAIN, locale_dir());
	textdomain(PL_DOMAIN);
	/* libc's own messages (strerror) stay English: they go into the
	 * messages JSON carries, which are the same bytes in every language.
	 * Our directory has no libc.mo. */
	bindtextdomain("libc", locale_dir());
}

int pl_translated(void)
{
	/* the catalogue's header is its translation of "" */
	static const char *const empty = "";
	const char *h = gettext(empty);

	return h != NULL && h[0] != '\0';
}

const char *pl_gettext(const char *s)
{
	return s != NULL && s[0] != '\0' ? gettext(s) : s;
}

const char *pl_ngettext(const char *one, const char *many, unsigned long n)
{
	char key[1024];
	const char *t;

	/* msgctxt "plural" \004 msgid, as gettext.h's npgettext() */
	if ((size_t)snprintf(key, sizeof(key), "plural\004%s", one) >=
	    sizeof(key))
		return n == 1 ? one : many;
	t = ngettext(key, many, n);
	if (t == key)           /* untranslated */
		return one;
	return t;
}
