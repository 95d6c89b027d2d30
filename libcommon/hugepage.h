/* SPDX-License-Identifier: 0BSD */
/**
 * Huge pages for large tables and blocks, where the kernel gives them only
 * on request (transparent huge pages in "madvise" mode, as here and on many
 * distributions). Two things make them worth asking for: a first touch of a
 * 4 KiB page costs a fault, many microseconds in a virtual machine (see
 * docs/BENCHMARKS.md, 2026-12-05), and lookups spread across a large table
 * miss the TLB at nearly every step with small pages. A request is a hint:
 * where it is refused, or no huge page is free, small pages serve as before.
 */
#ifndef PTOOLS_HUGEPAGE_H
#define PTOOLS_HUGEPAGE_H

#include "prelude.h"

/** The size of a huge page (x86-64 and arm64 with 4 KiB base pages). */
#define HUGEPAGE_SIZE ((size_t)2 << 20)

/**
 * The smallest block worth asking huge pages for: below it, a huge page
 * would mostly hold what the block does not use.
 */
#define HUGEPAGE_MIN (2 * HUGEPAGE_SIZE)

/** Ask for huge pages on the whole HUGEPAGE_SIZE extents inside [p, p + bytes). */
void hugepage_advise(void *p, size_t bytes);

/**
 * bytes of memory to free with free(): from malloc when less than
 * HUGEPAGE_MIN, else aligned to a huge page and asked for huge pages.
 * Returns NULL with errno ENOMEM.
 */
void *hugepage_alloc(size_t bytes);

#endif
