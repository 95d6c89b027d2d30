/* SPDX-License-Identifier: 0BSD */
/**
 * The ignore patterns of a new ASC MHL generation: what its
 * processinfo/<ignore> records, and which of them the generation must still
 * apply itself.
 *
 * As the reference implementation (ascmitc/mhl) does, a history's patterns
 * are carried forward: a new generation starts from the newest generation's
 * patterns (or, in a history without any, from the reference
 * implementation's own ".DS_Store", "ascmhl", "ascmhl/"), then adds, each
 * once and in order, ptools' own seal names (MHL2_IGNORE_PATTERNS) and the
 * patterns the run applied (its default excludes and --exclude GLOBs, as
 * given). A carried pattern the run did not apply itself still holds: what
 * it matches is left out of the generation (though a copy may hold it), so
 * that the history never lists what it says it ignores. Patterns are
 * matched with exclude.h's rules (fnmatch), which agree with the reference
 * implementation's gitignore-style ones on names, "dir/", "/anchored" and
 * "a/b" paths.
 */
#ifndef PTOOLS_MHL2IGNORE_H
#define PTOOLS_MHL2IGNORE_H

#include "prelude.h"
#include "exclude.h"
#include "mhl2prior.h"

struct mhl2_ignore {
	const char **patterns;    /* the list recorded; the strings are borrowed */
	size_t n;
	struct exclude carried;   /* carried patterns the run did not apply */
};

/**
 * Build the list from prior's newest patterns (prior may be NULL) and
 * applied, the run's own set (may be NULL). The strings stay prior's and
 * applied's: both must outlive ig. Returns 0, or -1 (ENOMEM).
 */
int mhl2_ignore_build(struct mhl2_ignore *ig, const struct mhl2_prior *prior,
		      const struct exclude *applied);

/**
 * Whether a path relative to the folder (len bytes, NUL-terminated) is left
 * out of the generation: one of MHL2_IGNORE_PATTERNS' names, or it or a
 * directory above it matched by a carried pattern. is_dir: it is a directory.
 */
bool mhl2_ignore_match(const struct mhl2_ignore *ig, const char *rel, size_t len, bool is_dir);

/** Release; NULL-safe, idempotent on a zeroed or built list. */
void mhl2_ignore_fini(struct mhl2_ignore *ig);

#endif
