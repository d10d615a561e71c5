/* runcmd.h - `proclab run [options] [--] PROGRAM [ARGS...]`: run any
 * program and follow every process of its tree (src/runcmd.c). */
#ifndef PROCLAB_RUNCMD_H
#define PROCLAB_RUNCMD_H

/* argv[0] is "run".  Returns proclab's exit status: PROGRAM's (128 +
 * signo when a signal killed it), 126/127 when it cannot be run, 2 for a
 * usage error, 3 when this machine cannot trace it. */
int run_command(int argc, char *argv[]);

/* What words `proclab run`'s events (a lab in all but the table). */
extern const struct lab run_command_lab;

#endif
