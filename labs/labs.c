/* labs.c - the table of labs, in the order `proclab list` shows them.
 * Adding a lab: see the checklist in include/proclab.h. */
#include "proclab.h"

extern const struct lab lab_states;
extern const struct lab lab_fork;
extern const struct lab lab_vfork;
extern const struct lab lab_exit_vs__exit;
extern const struct lab lab_wait;
extern const struct lab lab_zombie;
extern const struct lab lab_orphan;
extern const struct lab lab_watch;
extern const struct lab lab_signal;
extern const struct lab lab_tree;
extern const struct lab lab_session;
extern const struct lab lab_thread;
extern const struct lab lab_exec;
extern const struct lab lab_pipe;

/* The order of a course: states, then birth, death and reaping. */
const struct lab *const lab_table[] = {
	&lab_states,
	&lab_fork,
	&lab_vfork,
	&lab_exit_vs__exit,
	&lab_wait,
	&lab_zombie,
	&lab_orphan,
	&lab_watch,
	&lab_signal,
	&lab_tree,
	&lab_session,
	&lab_thread,
	&lab_exec,
	&lab_pipe,
};

const size_t lab_count = sizeof(lab_table) / sizeof(lab_table[0]);
