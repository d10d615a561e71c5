/* grade.h - `proclab grade`: score and check a class's records (grade.c). */
#ifndef PROCLAB_GRADE_H
#define PROCLAB_GRADE_H

/* argv[0] is "grade".  Returns the exit status: 0 nothing flagged, 1
 * something flagged, 2 usage. */
int grade_command(int argc, char *argv[]);

#endif
