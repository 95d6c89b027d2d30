/* SPDX-License-Identifier: 0BSD */
/**
 * Memory carved out of large blocks and freed all at once: for tables of
 * millions of small entries or strings (a bag's files, a history's paths
 * and digests), where a malloc each would cost more than the parse that
 * makes them.
 */
#ifndef PTOOLS_ARENA_H
#define PTOOLS_ARENA_H

#include "prelude.h"

struct arena_block;

/** An arena: zero it to start ({0}); free it with arena_free. */
struct arena {
	struct arena_block *blocks; /* the newest first */
};

/**
 * Room for size bytes aligned to align (a power of two, at most
 * _Alignof(max_align_t)), valid until arena_free. Returns NULL (ENOMEM).
 */
void *arena_alloc(struct arena *a, size_t size, size_t align);
/** A copy of s (len bytes) with a NUL after it, in the arena. NULL (ENOMEM). */
char *arena_strndup(struct arena *a, const char *s, size_t len);
/** Free every block; the arena is then empty. */
void arena_free(struct arena *a);
#endif
