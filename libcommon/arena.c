/* SPDX-License-Identifier: 0BSD */
/** Memory carved out of large blocks, freed all at once (arena.h). */
#include "prelude.h"
#include "arena.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A block's size (one of its own for anything larger). */
#define BLOCK_SIZE ((size_t)1 << 20)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

void *arena_alloc(struct arena *a, size_t size, size_t align)
{
	struct arena_block *b = a->blocks;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;

	if (!b || at > b->size || b->size - at < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;

		if (cap > SIZE_MAX - sizeof(*b)) {
			errno = ENOMEM;
			return NULL;
		}
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = a->blocks;
		b->used = 0;
		b->size = cap;
		a->blocks = b;
		at = 0;
	}
	b->used = at + size;
	return (char *)b->data + at;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *copy;

	if (len == SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	copy = arena_alloc(a, len + 1, 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

void arena_free(struct arena *a)
{
	while (a->blocks) {
		struct arena_block *next = a->blocks->next;

		free(a->blocks);
		a->blocks = next;
	}
}
