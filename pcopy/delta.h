/* SPDX-License-Identifier: 0BSD */
/**
 * Delta updates: a destination file that exists is compared with the source
 * block by block as the source is read, and only the blocks that differ are
 * written (see delta.c). This header holds the rules and the counting that
 * the engine (fileop.c), --dry-run and the summary share.
 */
#ifndef PCOPY_DELTA_H
#define PCOPY_DELTA_H

#include "prelude.h"
#include "copy.h"
#include <sys/stat.h>

/** Files smaller than this are copied whole: comparing would cost more than it saves. */
#define DELTA_MIN_SIZE ((uint64_t)1 << 20)

/** The default of --block-size (its bounds are the protocol's, proto.h). */
#define DELTA_BLOCK_DEFAULT ((size_t)64 << 10)

/*
 * Past this many blocks compared, a file whose blocks differ in more than
 * nine of ten is copied whole from there on (reading the old file would
 * only slow the copy down), where the new version is not a clone (whose
 * equal blocks cost nothing) and not the old file itself (--inplace).
 */
#define DELTA_FALLBACK_BLOCKS 16

/**
 * Parse a --block-size argument (bytes, or with a K or M suffix): a power
 * of two from PROTO_BLOCK_MIN to PROTO_BLOCK_MAX. Returns 0, or -1 (EINVAL).
 */
int delta_parse_block_size(const char *arg, size_t *size);

/** Whether delta updates are on for the run (-W off; --delta, --inplace, -f, -u on). */
bool delta_on(const struct copy_options *opt);

/**
 * Whether the source file src replaces the existing old by delta: both
 * regular, the source large enough, and delta on.
 */
bool delta_eligible(const struct copy_options *opt, const struct stat *src,
		    const struct stat *old);

/** What a delta did to one file, or to a whole destination (added up). */
struct delta_count {
	uint64_t files;   /* files updated by delta (changed or not) */
	uint64_t blocks;  /* blocks compared */
	uint64_t differ;  /* blocks that differed */
	uint64_t written; /* bytes written into the destination's copy */
};

/** Similarity in tenths of a percent: the blocks that did not differ. */
unsigned delta_similar_permille(const struct delta_count *count);

/**
 * Compare the files srcfd and oldfd block by block (--dry-run): count
 * blocks (the source's) and those that differ. Returns 0, or -1 with errno.
 */
int delta_compare_files(int srcfd, int oldfd, size_t block_size, struct delta_count *count);

#endif
