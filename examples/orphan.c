/* orphan.c - a parent that exits before its child: the child is orphaned
 * and adopted by the nearest subreaper (proclab), else by PID 1.
 * Usage: orphan [MS]  (how long the child lives on, default 200) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	long ms = argc > 1 ? atol(argv[1]) : 200;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		nanosleep(&ts, NULL);   /* the parent is gone by now */
		printf("child %d: my parent is now %d\n", (int)getpid(),
		       (int)getppid());
		return 0;
	}
	printf("parent %d: exiting before my child %d\n", (int)getpid(),
	       (int)pid);
	return 0;
}
