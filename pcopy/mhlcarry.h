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
 *
 * Over the remote protocol the sender sends SRC's history before the tree
 * (PROTOCOL.md 4.9, rdest.c), and the receiver gathers it here and checks
 * it again itself, as it would check SRC's own: its chain read, every
 * generation it lists there with its C4. What arrives is kept in unnamed
 * memory files (memfd), bounded by the protocol's limits, never in a
 * destination, until the generations are carried at seal time.
 */
#ifndef PCOPY_MHLCARRY_H
#define PCOPY_MHLCARRY_H

#include "prelude.h"
#include "dbuf.h"
#include "mhl2hist.h"

struct mhlcarry_received;

/** SRC's history. */
struct mhlcarry {
	int histfd;               /* SRC/ascmhl, or -1: SRC has no history here */
	struct mhl2_chain chain;  /* its chain, every generation checked; empty: none to carry */
	struct mhlcarry_received *received; /* a history the sender sent, or NULL */
};

/** mhlcarry_read gives a file's bytes in pieces of at most this many. */
#define MHLCARRY_PIECE ((size_t)1 << 20)

/** mhlcarry_read's index for the chain file. */
#define MHLCARRY_CHAIN SIZE_MAX

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

/** What mhlcarry_read hands each piece to: 0, or -1 (with errno) to stop. */
typedef int mhlcarry_piece_fn(void *arg, const void *data, size_t len);

/**
 * Read SRC's generation i, or its chain file (i MHLCARRY_CHAIN), handing
 * its bytes to fn in order, in pieces of 1 to MHLCARRY_PIECE bytes (none
 * for an empty file). A generation's bytes are checked against the
 * chain's C4 at the end. Returns 0, or -1 with errno (EBADMSG: the C4 is
 * not the chain's any more; or fn's).
 */
int mhlcarry_read(const struct mhlcarry *carry, size_t i, mhlcarry_piece_fn *fn, void *arg);

/**
 * Gather a history the sender sends (HISTORY frames) into carry, zeroed
 * with histfd -1: mhlcarry_receive for each piece, then mhlcarry_receive_end.
 * Returns 0; or -1 with *why (static) and errno EPROTO when the sender
 * breaks the protocol's order or limits (the chain first, each file's
 * pieces together, no file twice, PROTO_HISTORY_MAX bytes and
 * PROTO_HISTORY_FILES_MAX files at most); or -1 with errno.
 */
int mhlcarry_receive(struct mhlcarry *carry, const char *name, size_t name_len, const void *data,
		     size_t len, const char **why);

/**
 * The received history is whole: check it as mhlcarry_open checks SRC's.
 * src names the sender's SRC in path. Returns 0, or -1: with errno EPROTO
 * and *reason when the sender broke the protocol (nothing received, a
 * generation the chain does not list); else with path holding the file at
 * fault and *reason what is wrong, as mhlcarry_open.
 */
int mhlcarry_receive_end(struct mhlcarry *carry, const char *src, struct dbuf *path,
			 const char **reason);

/** Release; safe on a zeroed carry with histfd -1. */
void mhlcarry_close(struct mhlcarry *carry);

#endif
