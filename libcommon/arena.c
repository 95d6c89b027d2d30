/* SPDX-License-Identifier: 0BSD */
/** Memory carved out of large blocks, freed all at once (arena.h). */
#include "prelude.h"
#include "arena.h"
#include "hugepage.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The first block's size: a small arena stays small. */
#define FIRST_BLOCK ((size_t)64 << 10)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

/*
 * A block with room for at least size bytes after its header. Past the
 * first, blocks are whole huge pages, aligned and asked for as such
 * (hugepage.h): an arena that grows holds millions of entries, and each of
 * its small pages would cost a fault.
 */
static struct arena_block *block_new(const struct arena *a, size_t size)
{
	struct arena_block *b;
	size_t total;
	void *p;

	if (size > SIZE_MAX - sizeof(*b) - HUGEPAGE_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	total = sizeof(*b) + size;
	if (!a->blocks && total <= FIRST_BLOCK) {
		total = FIRST_BLOCK;
		p = malloc(total);
		if (!p)
			return NULL;
	} else {
		total = (total + HUGEPAGE_SIZE - 1) & ~(HUGEPAGE_SIZE - 1);
		if (posix_memalign(&p, HUGEPAGE_SIZE, total) != 0) {
			errno = ENOMEM;
			return NULL;
		}
		hugepage_advise(p, total);
	}
	b = p;
	b->next = a->blocks;
	b->used = 0;
	b->size = total - sizeof(*b);
	return b;
}

void *arena_alloc(struct arena *a, size_t size, size_t align)
{
	struct arena_block *b = a->blocks;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;

	if (!b || at > b->size || b->size - at < size) {
		b = block_new(a, size);
		if (!b)
			return NULL;
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
