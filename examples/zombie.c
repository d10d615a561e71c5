/* zombie.c - a parent that never calls wait(): its child stays a zombie
 * (Z) until the parent exits, then the subreaper (proclab) reaps it.
 * Usage: zombie [MS]  (how long the parent lives on, default 300) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(7);               /* the child ends at once */
	printf("parent %d: child %d exits now; I never wait for it\n",
	       (int)getpid(), (int)pid);
	fflush(NULL);
	nanosleep(&ts, NULL);           /* the child is Z all this time */
	return 0;
}
