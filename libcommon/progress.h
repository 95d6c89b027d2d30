/* SPDX-License-Identifier: 0BSD */
/**
 * Progress on standard error: files and bytes done, rate, and an ETA when the
 * totals are known. Workers only add to atomic counters; one background
 * thread redraws a single line (with \r) four times a second. Like diag.c,
 * this is a reporting helper: the only other libcommon module that writes to
 * stderr, and only when the program asked for it.
 */
#ifndef PTOOLS_PROGRESS_H
#define PTOOLS_PROGRESS_H

#include "prelude.h"

/** Most lanes (separately counted streams, e.g. pcopy's destinations). */
#define PROGRESS_LANES_MAX 16

struct progress;

/**
 * Start reporting with nlanes counters (1 for a single stream); names[i]
 * labels lane i and may be NULL when nlanes is 1. The strings must outlive
 * the progress. Returns NULL with errno on failure (the caller can go on
 * without progress).
 */
struct progress *progress_new(size_t nlanes, const char *const *names);

/** Add to the expected totals of a lane (for the ETA); thread-safe. */
void progress_expect(struct progress *progress, size_t lane, uint64_t files, uint64_t bytes);

/**
 * The expected totals are complete (the walk or the input has ended): from
 * now on each lane shows done/total files, bytes of total and a percentage.
 * NULL-safe.
 */
void progress_known(struct progress *progress);

/** Count work done on a lane; thread-safe and cheap (two atomic adds). NULL-safe. */
void progress_add(struct progress *progress, size_t lane, uint64_t files, uint64_t bytes);

/**
 * Count blocks compared on a lane, and those of them that changed (a delta
 * update's): the line then shows them. Thread-safe, NULL-safe.
 */
void progress_blocks(struct progress *progress, size_t lane, uint64_t blocks, uint64_t changed);

/** Stop the thread, draw the final line, end it with a newline and free; NULL-safe. */
void progress_finish(struct progress *progress);

/** Whether progress should be on by default: standard error is a terminal. */
bool progress_default(void);

/** Format bytes as "1.5 GiB" into buf (at least 16 bytes). Returns buf. */
char *progress_human(uint64_t bytes, char *buf, size_t size);

#endif
