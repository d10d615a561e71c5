/* claims.h - the catalogue of claims proclab tests.
 *
 * A claim is something an article (docs/sources.md), a homework simulator
 * or folklore says about processes, in our own words, with the lab that
 * tests it.  A lab reports what it observed with claim(); the engine words
 * it from the catalogue (the source by its title, the claim, the verdict,
 * and the row's evidence sentence rendered over the lab's fields).
 * `proclab claims` lists the catalogue; `proclab claims --check` runs the
 * labs and prints the verdicts seen on this kernel.
 */
#ifndef PROCLAB_CLAIMS_H
#define PROCLAB_CLAIMS_H

#include "emit.h"

enum verdict {
	CLAIM_HOLDS,            /* what was observed agrees */
	CLAIM_FAILS,            /* what was observed contradicts it */
	CLAIM_DEPENDS,          /* it holds on some machines, runs or users
				 * (the evidence says on what) */
};

struct source {
	const char *id;         /* short key, e.g. "art-zombie" */
	const char *title;      /* what users see: the article's title */
};

struct claim_def {
	const char *id;         /* e.g. "zombie-proc-owner" */
	const char *source;     /* a struct source id */
	const char *claim;      /* the claim, in our own words */
	const char *lab;        /* the lab that tests it */
	const char *args;       /* options that lab needs for it, or NULL */
	const char *evidence;   /* template over the fields claim() gets */
	bool varies;            /* the verdict rests on measured values (a
				 * timing): null with --stable */
};

extern const struct source claim_sources[];     /* ends with {NULL} */
extern const struct claim_def claim_table[];    /* ends with {NULL} */

const struct claim_def *claim_find(const char *id);
const struct source *source_find(const char *id);

/* Report the verdict on claim `id` (abort()s on an id not in the table:
 * a programming error caught by the tests), with the fields its evidence
 * sentence names.  Event "claim": {id, source, claim, verdict, holds
 * (true, false, null for depends), the evidence fields}. */
void claim(struct run *r, const char *id, enum verdict v,
	   const struct field *evidence);

/* "holds", "does not hold" or "depends". */
const char *verdict_name(enum verdict v);

/* `proclab claims [--check] [--json]`: argv[0] is "claims".  Returns the
 * exit status. */
int claims_command(int argc, char *argv[]);

#endif
