/* sigchld_reaper.c - a parent that reaps its children in a SIGCHLD
 * handler, with waitpid(-1, ..., WNOHANG) in a loop (signals do not queue:
 * one SIGCHLD may stand for several children).
 * Usage: sigchld_reaper [N]  (children, default 5) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t reaped;

static void on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		reaped++;
	errno = saved;
}

int main(int argc, char *argv[])
{
	int n = argc > 1 ? atoi(argv[1]) : 5;
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0) {
		perror("sigaction");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(i);
	}
	sigemptyset(&none);
	while (reaped < n)
		sigsuspend(&none);      /* sleep until the next SIGCHLD */
	printf("reaped %d children in the handler\n", (int)reaped);
	return 0;
}
