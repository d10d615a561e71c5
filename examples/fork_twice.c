/* fork_twice.c - the articles' classic: two fork() calls in a row make
 * four processes.  Each prints its pid and its parent's. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	fflush(NULL);
	fork();
	fflush(NULL);
	fork();
	printf("pid %d, parent %d\n", (int)getpid(), (int)getppid());
	fflush(NULL);
	while (wait(NULL) > 0)          /* reap our own children */
		;
	return 0;
}
