/* fork_printf.c - the fork+printf loop: how many '-' are printed?
 * printf("-") leaves the dash in the stdio buffer, and fork() copies the
 * buffer into the child: through a pipe 8 dashes appear, on a terminal
 * with "\n" 6.  Run it both ways under proclab and count the forks. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	for (int i = 0; i < 2; i++) {
		fork();                 /* the buffer is not flushed: on purpose */
		printf("-");
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
