/* forkbomb.c - a fork bomb, made safe: every process forks until fork()
 * fails or N levels are reached (default 20: 2^20 processes, far beyond
 * proclab's --max-procs, which kills the tree).  Run it only under
 * proclab run: `proclab run --max-procs 64 -- forkbomb`. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	int levels = argc > 1 ? atoi(argv[1]) : 20;

	for (int i = 0; i < levels; i++)
		if (fork() < 0)
			break;
	while (wait(NULL) > 0)
		;
	return 0;
}
