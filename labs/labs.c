/* labs.c - the table of labs, in the order `proclab list` shows them.
 * Adding a lab: see the checklist in include/proclab.h. */
#include "proclab.h"

extern const struct lab lab_zombie;
extern const struct lab lab_states;
extern const struct lab lab_watch;

const struct lab *const lab_table[] = {
	&lab_zombie,
	&lab_states,
	&lab_watch,
};

const size_t lab_count = sizeof(lab_table) / sizeof(lab_table[0]);
