/* SPDX-License-Identifier: 0BSD */
/** arena: aligned room, copies of strings, blocks larger than the default. */
#include "prelude.h"
#include "unit.h"
#include "arena.h"
#include <stdint.h>
#include <string.h>

UNIT_TEST(arena_gives_aligned_room_that_stays_until_freed)
{
	struct arena a = {0};
	char *first = arena_strndup(&a, "abc", 3), *big;
	uint64_t *n = arena_alloc(&a, sizeof(*n), _Alignof(uint64_t));

	EXPECT(first && strcmp(first, "abc") == 0);
	EXPECT(n && (uintptr_t)n % _Alignof(uint64_t) == 0);
	if (n)
		*n = 42;
	/* Larger than a block: one of its own; what came before stays. */
	big = arena_alloc(&a, (size_t)3 << 20, 1);
	EXPECT(big != NULL);
	if (big)
		memset(big, 'x', (size_t)3 << 20);
	for (int i = 0; i < 100000; i++) {
		char *s = arena_strndup(&a, "0123456789abcdef", (size_t)(i % 17));

		EXPECT(s && strlen(s) == (size_t)(i % 17));
		if (!s)
			break;
	}
	EXPECT(strcmp(first, "abc") == 0 && n && *n == 42);
	arena_free(&a);
	EXPECT(a.blocks == NULL);
}
