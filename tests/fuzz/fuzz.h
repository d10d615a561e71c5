/* fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * A harness either feeds its input to a parser as it is, or reads it as a
 * stream of choices (a "provider") to build a well-formed text whose
 * parse result is known in advance.  Every property a harness checks ends
 * in check(), which abort()s: libFuzzer reports that as a crash and saves
 * the input.
 */
#ifndef PROCLAB_FUZZ_H
#define PROCLAB_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/* check(), showing the text that was parsed (printable bytes as they
 * are, others in octal), for a property of a built text. */
#define check_text(cond, text, len) do {				\
	if (!(cond)) {							\
		fputs("text: \"", stderr);				\
		for (size_t i_ = 0; i_ < (len); i_++) {			\
			unsigned char c_ = (unsigned char)(text)[i_];	\
			if (c_ >= 0x20 && c_ < 0x7f && c_ != '\\')	\
				fputc(c_, stderr);			\
			else						\
				fprintf(stderr, "\\%03o", c_);	\
		}							\
		fputs("\"\n", stderr);				\
		check(cond);						\
	}								\
} while (0)

/* Choices drawn from the input; zeros once it runs out. */
struct provider {
	const uint8_t *p, *end;
};

static inline uint8_t take_u8(struct provider *pv)
{
	return pv->p < pv->end ? *pv->p++ : 0;
}

static inline uint64_t take_u64(struct provider *pv)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take_u8(pv);
	return v;
}

/* A number in [0, max]. */
static inline uint64_t take_upto(struct provider *pv, uint64_t max)
{
	uint64_t v = take_u64(pv);

	return max == UINT64_MAX ? v : v % (max + 1);
}

/* Well-formed UTF-8 by the byte ranges of Unicode's Table 3-7, written
 * independently of src/escape.c so that the two can check each other.
 * The length of the sequence at s, or 0 if none starts there. */
static inline size_t wf_utf8_len(const uint8_t *s, size_t avail)
{
	static const struct { uint8_t lo0, hi0, lo1, hi1, n; } t[] = {
		{ 0x00, 0x7f, 0x00, 0x00, 1 },
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (s[0] < t[i].lo0 || s[0] > t[i].hi0)
			continue;
		if (t[i].n == 1)
			return 1;
		if (avail < t[i].n || s[1] < t[i].lo1 || s[1] > t[i].hi1)
			return 0;
		for (size_t k = 2; k < t[i].n; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		return t[i].n;
	}
	return 0;
}

static inline int wf_utf8(const uint8_t *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n)
		if ((n = wf_utf8_len(s + i, len - i)) == 0)
			return 0;
	return 1;
}

/* Capture what a writer puts to a FILE. */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static inline void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	if (c->f == NULL)
		abort();
}

static inline void capture_close(struct capture *c)
{
	if (fclose(c->f) != 0)
		abort();
}

#endif
