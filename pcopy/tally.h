/* SPDX-License-Identifier: 0BSD */
/**
 * The totals progress shows beside what is done: counted by a walk of their
 * own beside the copy (a tree), or by a first pass over a record file.
 */
#ifndef PCOPY_TALLY_H
#define PCOPY_TALLY_H

#include "prelude.h"
#include "input.h"
#include "run.h"

struct tally;

/** Add one regular file of size bytes to every destination's expected total. */
void tally_file(struct copy *copy, uint64_t size);

/**
 * Start counting the regular files under root (as the copy will take them)
 * in a thread of its own, when progress is shown; NULL otherwise or when
 * the thread cannot start (the totals then stay unknown).
 */
struct tally *tally_tree_start(struct copy *copy, const char *root);

/** Wait for the count to end, mark the totals known and free it. NULL-safe. */
void tally_finish(struct tally *tally);

/**
 * When progress is shown and standard input is a regular file, count its
 * records first (regular files, by the sizes they carry) and rewind it, so
 * that the totals are known from the start (copy->counted). Plain paths
 * count as files of unknown size. Nothing is reported; a failure leaves the
 * totals unknown.
 */
void tally_records(struct copy *copy, bool nul_separated);

#endif
