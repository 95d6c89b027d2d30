/* SPDX-License-Identifier: 0BSD */
/** grow: doubling from a first size, as far as asked, and an honest refusal. */
#include "prelude.h"
#include "unit.h"
#include "grow.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

UNIT_TEST(grow_doubles_from_the_first_size_and_keeps_what_was_there)
{
	uint32_t *v = NULL;
	size_t cap = 0, n;

	for (n = 0; n < 1000; n++) {
		if (GROW(v, &cap, n + 1, 16) != 0)
			break;
		v[n] = (uint32_t)n * 7;
	}
	EXPECT(n == 1000);
	EXPECT(cap == 1024);    /* 16 doubled six times */
	for (size_t i = 0; i < n; i++)
		if (v[i] != (uint32_t)i * 7) {
			EXPECT(v[i] == (uint32_t)i * 7);
			break;
		}
	/* Enough room already: nothing moves. */
	{
		uint32_t *was = v;

		EXPECT(GROW(v, &cap, 1024, 16) == 0 && v == was && cap == 1024);
	}
	/* Asked for much more at once: doubled as often as it takes. */
	EXPECT(GROW(v, &cap, 5000, 16) == 0 && cap == 8192);
	EXPECT(v[999] == 999 * 7);
	free(v);
}

UNIT_TEST(grow_refuses_a_size_that_overflows_and_leaves_the_array)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	EXPECT(GROW(v, &cap, 4, 4) == 0 && cap == 4);
	v[3] = 42;
	errno = 0;
	EXPECT(GROW(v, &cap, SIZE_MAX / 4, 4) == -1 && errno == ENOMEM);
	EXPECT(cap == 4 && v[3] == 42);
	/* A first size of 0 still makes room. */
	{
		char *c = NULL;
		size_t ccap = 0;

		EXPECT(GROW(c, &ccap, 3, 0) == 0 && ccap >= 3);
		free(c);
	}
	free(v);
}

UNIT_TEST(grow_moves_a_large_array_whole)
{
	uint64_t *v = NULL;
	size_t cap = 0, n;

	/* Past twice a huge page (8 MiB here): the array is moved, not
	   realloc'd, and every element must come along. */
	for (n = 0; n < ((size_t)1 << 20); n++) {
		if (GROW(v, &cap, n + 1, 16) != 0)
			break;
		v[n] = n * 0x9E3779B97F4A7C15u;
	}
	EXPECT(n == (size_t)1 << 20 && cap == (size_t)1 << 20);
	for (size_t i = 0; i < n; i++)
		if (v[i] != i * 0x9E3779B97F4A7C15u) {
			EXPECT(v[i] == i * 0x9E3779B97F4A7C15u);
			break;
		}
	free(v);
}
