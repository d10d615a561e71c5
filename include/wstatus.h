/* wstatus.h - what a wait status says, field by field.
 *
 * The int that wait(2) stores is decoded with the <sys/wait.h> macros
 * (WIFEXITED, WEXITSTATUS, ...) and never by hand, so that proclab shows how
 * the real macros read the real bits.  waitid(2) reports through a siginfo_t
 * instead; wstatus_from_siginfo() rebuilds the same decoded view from it.
 */
#ifndef PROCLAB_WSTATUS_H
#define PROCLAB_WSTATUS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct wstatus {
	int raw;          /* the int status, or -1 when it came from waitid */
	bool exited;      /* WIFEXITED */
	int code;         /* WEXITSTATUS */
	bool signaled;    /* WIFSIGNALED */
	int sig;          /* WTERMSIG, or WSTOPSIG when stopped */
	bool core;        /* WCOREDUMP */
	bool stopped;     /* WIFSTOPPED */
	bool continued;   /* WIFCONTINUED */
};

void wstatus_decode(int raw, struct wstatus *w);
/* From waitid()'s si_code/si_status.  Returns -1 if si_code is not CLD_*. */
int wstatus_from_siginfo(const siginfo_t *si, struct wstatus *w);

/* "SIGKILL" for 9, "SIGRTMIN+3", "SIG99" for what has no name.  Returned by
 * value, so wstatus_signame(a).s and wstatus_signame(b).s can be used in one
 * expression. */
struct signame {
	char s[16];
};
struct signame wstatus_signame(int sig);

/* The signals of a mask as /proc/PID/status prints it (bit n - 1 for
 * signal n, 1 to 64), named by wstatus_signame() and joined by commas:
 * "SIGUSR1,SIGTERM,SIGRTMIN+2"; "" for none.  A list that does not fit
 * in size bytes ends with "..." (size >= 4).  Returns how many signals
 * the mask holds. */
int wstatus_sigset_names(unsigned long long mask, char *buf, size_t size);

/* "CLD_EXITED" for a waitid() si_code, "?" for anything else. */
const char *wstatus_si_code_name(int si_code);

/* A one-line description, e.g. "exited, code 42" or "killed by SIGKILL". */
void wstatus_describe(const struct wstatus *w, char *buf, size_t size);
/* The same in the user's language, for the text view only. */
void wstatus_describe_text(const struct wstatus *w, char *buf, size_t size);

#endif
