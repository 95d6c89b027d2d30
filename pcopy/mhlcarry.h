/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --mhl from a SRC that holds its own ASC MHL history (a card
 * offloaded before): the history travels with the files, as it does when
 * the reference implementation's users copy the whole folder and run
 * `ascmhl create` on the copy (mhlcarry.c).
 *
 * SRC/ascmhl is never copied as payload. Its chain is read and every
 * generation it lists checked against its C4 before anything is copied.
 * Each destination's history must agree with SRC's on the generations both
 * have (same sequence, file name and C4); the generations SRC has beyond
 * those are carried (copied byte for byte, their C4 checked again) before
 * the run's own "transfer" generation is appended after them. A destination
 * whose history differs is refused before anything is copied there.
 */
#ifndef PCOPY_MHLCARRY_H
#define PCOPY_MHLCARRY_H

#include "prelude.h"
#include "dbuf.h"
#include "mhl2hist.h"

/** SRC's history. */
struct mhlcarry {
	int histfd;               /* SRC/ascmhl, or -1: SRC has no history */
	struct mhl2_chain chain;  /* its chain, every generation checked */
};

/**
 * Open and check SRC's history. Returns 0 (carry->histfd -1 when SRC has
 * none), or -1 with path holding the file at fault and *reason what is
 * wrong (static; NULL: see errno). Release with mhlcarry_close either way.
 */
int mhlcarry_open(struct mhlcarry *carry, const char *src, struct dbuf *path,
		  const char **reason);

/**
 * How much of SRC's history the destination's history (rootfd/ascmhl)
 * holds already: *from gets that many links (all of SRC's when the
 * destination has more). Returns 0, or -1 with *why (static) when the two
 * differ, or errno (the destination's chain could not be read; *why says
 * how).
 */
int mhlcarry_plan(const struct mhlcarry *carry, int rootfd, size_t *from, const char **why);

/**
 * Copy SRC's generation i to fd (written from its start), checking the
 * bytes against the chain's C4. Returns 0, or -1 with errno (EBADMSG: its
 * C4 is not the chain's any more).
 */
int mhlcarry_copy(const struct mhlcarry *carry, size_t i, int fd);

/** Release; safe on a zeroed carry with histfd -1. */
void mhlcarry_close(struct mhlcarry *carry);

#endif
