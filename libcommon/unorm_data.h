/* SPDX-License-Identifier: 0BSD */
/**
 * The Unicode tables behind unorm.c, generated into unorm_data.c by
 * tools/gen_unorm.py: private to unorm.c (and its unit tests). Every table
 * is sorted by its first field(s), for binary search.
 */
#ifndef PTOOLS_UNORM_DATA_H
#define PTOOLS_UNORM_DATA_H

#include "prelude.h"

/** A code point's full canonical decomposition: len code points at unorm_pool[offset]. */
struct unorm_decomp {
	uint32_t cp;
	uint16_t offset;
	uint8_t len;
};

/** A code point's canonical combining class, when it is not 0. */
struct unorm_class {
	uint32_t cp;
	uint8_t ccc;
};

/** A canonical composition: first followed by second composes to composite. */
struct unorm_pair {
	uint32_t first, second, composite;
};

extern const char unorm_unicode_version[];
extern const uint32_t unorm_pool[];
extern const struct unorm_decomp unorm_decomps[];
extern const size_t unorm_ndecomps;
extern const struct unorm_class unorm_classes[];
extern const size_t unorm_nclasses;
extern const struct unorm_pair unorm_pairs[];
extern const size_t unorm_npairs;

#endif
