/* SPDX-License-Identifier: 0BSD */
/**
 * Unicode normalization forms C and D of UTF-8 names (UAX #15), for
 * pverify's second look at a path a manifest names but the disk does not
 * have: macOS writes names decomposed (NFD), most other systems precomposed
 * (NFC), so one name may reach a manifest in one form and the disk in the
 * other. The tables (unorm_data.c) come from the Unicode Character Database
 * through tools/gen_unorm.py; Hangul syllables are composed and decomposed
 * by arithmetic.
 *
 * Pure functions: no state, any thread.
 */
#ifndef PTOOLS_UNORM_H
#define PTOOLS_UNORM_H

#include "prelude.h"
#include "dbuf.h"

enum unorm_form {
	UNORM_NFC, /* canonical decomposition, then canonical composition */
	UNORM_NFD, /* canonical decomposition */
};

/**
 * Append the normalization form of the len bytes at text to out. Returns 0;
 * or -1 with errno EILSEQ when text is not valid UTF-8 (an overlong form, a
 * surrogate, past U+10FFFF, a cut sequence: such a name has no normal form
 * and is left as it is), or ENOMEM. On -1 out holds what it held before.
 */
int unorm_normalize(enum unorm_form form, const char *text, size_t len, struct dbuf *out);

/** The Unicode version of the tables. */
const char *unorm_version(void);

#endif
