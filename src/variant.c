/* variant.c - values of varying lab options (variant.h). */
#include <stdio.h>

#include "variant.h"

uint64_t pl_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t pl_fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int variant_of_student(const char *id)
{
	return (int)(pl_fnv1a64(id) % VARIANT_COUNT);
}

long long variant_value(int v, const char *lab, const char *name,
			long long lo, long long hi)
{
	char key[128];
	uint64_t s;

	if (hi <= lo)
		return lo;
	snprintf(key, sizeof(key), "%s/%s", lab, name);
	s = (uint64_t)v ^ pl_fnv1a64(key);
	return lo + (long long)(pl_splitmix64(&s) %
				(uint64_t)(hi - lo + 1));
}
