/* variant.h - one variant of a lab per student: --variant N, --student ID.
 *
 * A lab marks its options as varying by table data alone: a row
 * {option, lo, hi} in its `vary` table (struct lab_vary, proclab.h) gives
 * the range a variant draws the option's value from.  The range lies
 * inside the option's [min, max] and keeps the lesson the same: an exit
 * code, a number of children, a seed.  An option given on the command line
 * always wins over the variant.
 *
 * The generator is ours, so that every build and every machine draws the
 * same values: splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", 2014), the one `proclab tree` uses for
 * its made-up lists.  The value of option NAME of lab LAB in variant V is
 *
 *	s = V ^ fnv1a64("LAB/NAME");  vary_min + splitmix64(&s) % (vary_max - vary_min + 1)
 *
 * (fnv1a64: FNV-1a, 64 bits, offset 0xcbf29ce484222325, prime
 * 0x100000001b3, over the bytes of the string).  --student ID hashes the
 * ID the same way: variant = fnv1a64(ID) % VARIANT_COUNT (1000), so that
 * the instructor needs no table of variants; the start event of a record
 * says the ID, the variant and the value of every option.
 */
#ifndef PROCLAB_VARIANT_H
#define PROCLAB_VARIANT_H

#include <stdint.h>

#define VARIANT_COUNT 1000      /* variants 0 to 999 */

/* The next number of the sequence seeded by *s (splitmix64). */
uint64_t pl_splitmix64(uint64_t *s);

/* FNV-1a, 64 bits, of a string. */
uint64_t pl_fnv1a64(const char *s);

/* The variant of a student's ID: fnv1a64(id) % VARIANT_COUNT. */
int variant_of_student(const char *id);

/* The value option `name` of lab `lab` takes in variant v, in
 * [lo, hi]. */
long long variant_value(int v, const char *lab, const char *name,
			long long lo, long long hi);

#endif
