/* SPDX-License-Identifier: 0BSD */
/**
 * qsort on several threads: the array cut into runs sorted at once, then
 * merged pairwise, the pairs of each round at once. For the moments a
 * program waits on one large sort with its cores idle (pcopy --mhl sorting a
 * generation's entries after the copy).
 *
 * Memory: a second array as large as the first, while it sorts.
 */
#ifndef PTOOLS_PSORT_H
#define PTOOLS_PSORT_H

#include "prelude.h"

/**
 * Sort n elements of size bytes at base by cmp, as qsort does (not stable),
 * with up to threads threads besides the caller's. Where the second array
 * or a thread cannot be had, or the array is small, it sorts with fewer,
 * down to qsort alone. cmp is called from several threads at once.
 */
void psort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
	   unsigned threads);
#endif
