/* SPDX-License-Identifier: 0BSD */
/**
 * An ASC MHL file read and parsed ahead, on threads of its own: one reads
 * the file in chunks and hashes them (a generation's C4), others feed the
 * chunks to mhl2 readers (mhl2.h), and the caller takes the chunks back in
 * order, each with the entries parsed from it. Each chunk's one buffer
 * passes through all three, so what is hashed is what was parsed. The
 * parse, expat's share of the work, and the hash then run beside what the
 * caller does with each entry instead of before it. A few chunks are in
 * flight at most: memory is bounded whatever the file holds.
 *
 * With more than one parser, a generation's <hashes> is cut into pieces
 * (xmlsplit.h), each parsed alone on whichever parser is free, the rest of
 * the file in order on one reader that steps over them; the entries, their
 * problems and their lines are those of one parse in place. A piece that
 * does not parse alone is reparsed in place, from where the parse was last
 * known to be right to the end, so that a malformed file is reported as one
 * parse would report it.
 */
#ifndef PTOOLS_MHL2AHEAD_H
#define PTOOLS_MHL2AHEAD_H

#include "prelude.h"
#include "hash.h"
#include "mhl2.h"

struct mhl2ahead;

/** One chunk of the file, taken back by mhl2ahead_next. */
struct mhl2ahead_chunk {
	const char *bytes;        /* the file's next bytes, valid until the next call */
	size_t len;
	/* Set on the chunk where the parse stopped (later chunks carry bytes only): */
	bool stopped;
	int error;                /* errno of a read error or a failed callback; 0: malformed */
	const char *why;          /* malformed: what is wrong (valid until the next call) */
	uintmax_t line;           /* malformed: the line the parser had reached */
	bool read_failed;         /* the read failed (error says why); the last chunk */
};

/**
 * Start reading fd (not closed) as a doc. With digest, every byte of the
 * file is hashed into it, read on after a parse that stopped; it is the
 * reading thread's until mhl2ahead_next has returned 0. parsers: how many
 * threads parse (pieces need 2 or more, and a regular file to reread); 0:
 * no threads (nor where none can be started): each chunk is read, hashed
 * and parsed inside mhl2ahead_next, the same chunks with the same entries,
 * where spare cores are too few for the threads to pay for their
 * hand-offs. piece: a piece's size in bytes (0: the default; the tests make
 * them small). Returns NULL with errno.
 */
struct mhl2ahead *mhl2ahead_start(int fd, enum mhl2_doc doc, struct hash_ctx *digest,
				  unsigned parsers, size_t piece);

/**
 * The next chunk into *chunk, after calling fn(arg, ...) for each entry
 * parsed from it, as mhl2_feed would have; fn returning -1 stops the parse
 * there (the chunk is stopped, with fn's errno). Returns 1 with a chunk, 0
 * at the end of the file (or after a read error or a stopped parse, without
 * a digest).
 */
int mhl2ahead_next(struct mhl2ahead *ahead, mhl2_entry_fn *fn, void *arg,
		   struct mhl2ahead_chunk *chunk);

/**
 * After mhl2ahead_next has returned 0: whether the digest was given every
 * byte (0), or -1 with errno (its update failed, or the read did).
 */
int mhl2ahead_digest_status(const struct mhl2ahead *ahead);

/** How many chunks taken so far were pieces, parsed alone. */
uint64_t mhl2ahead_pieces(const struct mhl2ahead *ahead);

/**
 * How many parsers to start on this machine's CPUs (pool_cpus): alone,
 * when nothing else runs meanwhile (a history read before a copy or after
 * it); else beside work that keeps the cores busy (pverify's checks), where
 * threads pay only from three CPUs on. Measured in docs/BENCHMARKS.md.
 */
unsigned mhl2ahead_parsers(bool alone);
/** Stop the threads (where they are) and free everything; NULL-safe. */
void mhl2ahead_free(struct mhl2ahead *ahead);
#endif
