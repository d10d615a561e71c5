/* wstatus.c - decode wait statuses with the libc macros. */
#include "wstatus.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "i18n.h"

void wstatus_decode(int raw, struct wstatus *w)
{
	memset(w, 0, sizeof(*w));
	w->raw = raw;
	if (WIFEXITED(raw)) {
		w->exited = true;
		w->code = WEXITSTATUS(raw);
	} else if (WIFSIGNALED(raw)) {
		w->signaled = true;
		w->sig = WTERMSIG(raw);
		w->core = WCOREDUMP(raw);
	} else if (WIFSTOPPED(raw)) {
		w->stopped = true;
		w->sig = WSTOPSIG(raw);
	} else if (WIFCONTINUED(raw)) {
		w->continued = true;
	}
}

int wstatus_from_siginfo(const siginfo_t *si, struct wstatus *w)
{
	memset(w, 0, sizeof(*w));
	w->raw = -1;
	switch (si->si_code) {
	case CLD_EXITED:
		w->exited = true;
		w->code = si->si_status;
		return 0;
	case CLD_DUMPED:
		w->core = true;
		/* fall through */
	case CLD_KILLED:
		w->signaled = true;
		w->sig = si->si_status;
		return 0;
	case CLD_STOPPED:
	case CLD_TRAPPED:
		w->stopped = true;
		w->sig = si->si_status;
		return 0;
	case CLD_CONTINUED:
		w->continued = true;
		return 0;
	default:
		return -1;
	}
}

struct signame wstatus_signame(int sig)
{
	struct signame n;
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(n.s, sizeof(n.s), "SIG%s", abbrev);
	else if (sig == SIGRTMIN)
		snprintf(n.s, sizeof(n.s), "SIGRTMIN");
	else if (sig > SIGRTMIN && sig <= SIGRTMAX)
		snprintf(n.s, sizeof(n.s), "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(n.s, sizeof(n.s), "SIG%d", sig);
	return n;
}

int wstatus_sigset_names(unsigned long long mask, char *buf, size_t size)
{
	size_t len = 0;
	bool cut = false;
	int count = 0;

	if (size == 0)
		return __builtin_popcountll(mask);
	buf[0] = '\0';
	for (int sig = 1; sig <= 64; sig++) {
		struct signame n;
		size_t need;

		if (!(mask >> (sig - 1) & 1))
			continue;
		count++;
		if (cut)
			continue;
		n = wstatus_signame(sig);
		need = strlen(n.s) + (len ? 1 : 0);
		if (len + need + 1 > size) {
			cut = true;
			continue;
		}
		snprintf(buf + len, size - len, "%s%s", len ? "," : "", n.s);
		len += need;
	}
	if (cut && size >= 4) {
		if (len + 4 > size)
			len = size - 4;
		memcpy(buf + len, "...", 4);
	}
	return count;
}

const char *wstatus_si_code_name(int si_code)
{
	switch (si_code) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_TRAPPED: return "CLD_TRAPPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	default: return "?";
	}
}

static void describe(const struct wstatus *w, char *buf, size_t size,
		     const char *(*tr)(const char *))
{
	if (w->exited)
		snprintf(buf, size, tr(N_("exited, code %d")), w->code);
	else if (w->signaled && w->core)
		snprintf(buf, size, tr(N_("killed by %s (core dumped)")),
			 wstatus_signame(w->sig).s);
	else if (w->signaled)
		snprintf(buf, size, tr(N_("killed by %s")),
			 wstatus_signame(w->sig).s);
	else if (w->stopped)
		snprintf(buf, size, tr(N_("stopped by %s")),
			 wstatus_signame(w->sig).s);
	else if (w->continued)
		snprintf(buf, size, "%s", tr(N_("continued")));
	else
		snprintf(buf, size, tr(N_("unrecognised status 0x%x")),
			 (unsigned)w->raw);
}

static const char *as_is(const char *s)
{
	return s;
}

static const char *translated(const char *s)
{
	return gettext(s);
}

void wstatus_describe(const struct wstatus *w, char *buf, size_t size)
{
	describe(w, buf, size, as_is);
}

void wstatus_describe_text(const struct wstatus *w, char *buf, size_t size)
{
	describe(w, buf, size, translated);
}
