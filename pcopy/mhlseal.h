/* SPDX-License-Identifier: 0BSD */
/** pcopy --mhl: each destination's ASC MHL generation and chain, journaled (mhlseal.c). */
#ifndef PCOPY_MHLSEAL_H
#define PCOPY_MHLSEAL_H
#include "prelude.h"
#include "worker.h"
#include "hash.h"
#include "mhl2.h"
#include <time.h>

struct mhlcarry;

/**
 * Before a tree is copied (copy_tree): read and check SRC's own ASC MHL
 * history, if it has one (mhlcarry.h). A history that cannot be carried
 * stops the run (exit 1, nothing copied); a destination whose history
 * differs from SRC's is refused (dest failed, the others go on); a remote
 * destination is sent the history (rdest_history), checked and carried
 * there.
 */
void mhlseal_prepare(struct copy *copy, const char *src);

/**
 * A history the sender sent (receive.c), checked (mhlcarry_receive_end):
 * the run carries it as mhlseal_prepare's, each destination planned against
 * it. src names the sender's SRC in messages. Takes carry (malloc'd) over.
 */
void mhlseal_adopt(struct copy *copy, struct mhlcarry *carry, const char *src);

/**
 * Wait for SRC's history, read beside the copy for the destinations that
 * carry it, to be read: one that does not parse stops the run (stop_run_why).
 * Call once the copy is done, before its outcome is decided; a no-op when
 * nothing is being read.
 */
void mhlseal_wait(struct copy *copy);

/** Release what mhlseal_prepare kept; NULL-safe on copy->mhl_source. */
void mhlseal_release(struct copy *copy);

/**
 * Whether name, at the top of SRC, is left out of the copy because --mhl
 * gives each destination its own history (SRC's is carried, not copied).
 */
bool mhlseal_is_source_history(const struct copy *copy, const char *name);

/** Find the generation's formats among -a's algorithms (copy->mhl_formats), once. */
void mhlseal_setup(struct copy *copy);

/** A finished file's digests as the generation writes them (mhlseal_entry_make). */
struct mhlseal_entry {
	char digests[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
};

/**
 * The generation's digest strings of a file whose registry digests (one hex
 * string per algorithm of -a) are hex: made before the destination's lock is
 * taken, as a C4 costs a base58 encoding. Returns 0, or -1 (EINVAL).
 */
int mhlseal_entry_make(const struct copy *copy, char hex[][HASH_HEX_MAX + 1],
		       struct mhlseal_entry *entry);

/**
 * Keep a file the seal lists (rel, len bytes; its size, mtime and entry) for
 * dest's generation, called with dest->lock held as the file's record goes
 * into the seal: the generation is then made from what the copy gathered,
 * not by reading the seal back. Returns 0, or -1 with errno (ENOMEM).
 */
int mhlseal_keep(const struct copy *copy, struct dest *dest, const char *rel, size_t len,
		 uint64_t size, const struct timespec *mtime, const struct mhlseal_entry *entry);

/** Release what mhlseal_keep gathered for dest; safe when nothing was. */
void mhlseal_forget(struct dest *dest);

/**
 * After the native seal is in place in dest and before the journal's
 * commit: carry the generations of SRC's history dest lacks, then write a
 * new ASC MHL generation (dated when) and the extended chain into
 * dest/ascmhl, through the journal. Returns 0, or -1 with dest failed
 * (reported as any destination failure is).
 */
int mhlseal_write(struct copy *copy, struct worker *worker, struct dest *dest, time_t when);
#endif
