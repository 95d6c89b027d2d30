/* SPDX-License-Identifier: 0BSD */
/**
 * Remote delta (see rdelta.c, docs/PROTOCOL.md 4.7): the receiver streams
 * keyed hashes of its old file's blocks; the sender compares each of its
 * own blocks with the receiver's hash of the same block and sends either
 * the block or "same". This module holds the block hash, the sender's view
 * of the hashes arriving on a connection, and the receiver's hashing
 * thread; rdest.c and receive.c drive them.
 */
#ifndef PCOPY_RDELTA_H
#define PCOPY_RDELTA_H

#include "prelude.h"
#include "copy.h"
#include "frame.h"
#include "remote.h"

#define RDELTA_KEY_LEN 16
#define RDELTA_HASH_LEN 16
/* Hashes per HASHES frame, at most. */
#define RDELTA_BATCH 1024
/* The most blocks one SAME frame covers (the sender sends a longer run in parts). */
#define RDELTA_RUN_MAX 1024
/*
 * The receiver sends the hash of block i only once i < (bytes of the new
 * file it has received) / block + RDELTA_WINDOW: the hashes the sender
 * holds stay under RDELTA_WINDOW. It must be at least RDELTA_BATCH +
 * RDELTA_RUN_MAX - 1 so that the hash the sender waits for is always
 * allowed (the sender holds back at most one unfinished SAME run).
 */
#define RDELTA_WINDOW 4096

/**
 * Whether a file of size bytes is offered a delta in a run with opt (both
 * sides apply delta.h's rules to FILE's size).
 */
bool rdelta_eligible(const struct copy_options *opt, uint64_t size);

/** A new random key for a run (getrandom). 0 or -1 with errno. */
int rdelta_new_key(unsigned char key[RDELTA_KEY_LEN]);

/** How many block hashes a delta has: blocks of the old file (size base) that the new one has. */
uint64_t rdelta_hash_count(uint64_t base, uint64_t size, size_t block);

/* ------------------------------------------------------------------ */
/* The sending side: one per connection; one file at a time asks (the file
 * holds the connection until its END). */

struct rdelta_peer;

/** A new state for the connection remote (its key). NULL on ENOMEM. */
struct rdelta_peer *rdelta_peer_new(const struct remote *remote);
void rdelta_peer_free(struct rdelta_peer *peer);

/**
 * The listener got frame (BASE, WHOLE or HASHES): 1 taken, 0 not one of
 * these, -1 malformed or not expected (why).
 */
int rdelta_peer_frame(struct rdelta_peer *peer, const struct frame *frame, const char **why);

/** The connection ended (DONE or lost): wake whoever waits. */
void rdelta_peer_gone(struct rdelta_peer *peer);

/** A FILE of size bytes is about to go out: its answer is expected. */
void rdelta_expect(struct rdelta_peer *peer, uint64_t size);

/**
 * Wait for the answer to the FILE expected: 1 delta (the block size in
 * *block), 0 whole, -1 the connection ended.
 */
int rdelta_answer(struct rdelta_peer *peer, size_t *block);

/**
 * The block of the new file at index (len bytes of data): 1 it has the
 * same bytes as the receiver's block, 0 it must be sent, -1 the
 * connection ended. ready: called once before waiting for a hash not yet
 * there (to send what is queued), with arg.
 */
int rdelta_same(struct rdelta_peer *peer, uint64_t index, const void *data, size_t len,
		int (*ready)(void *arg), void *arg);

/**
 * The file is over (ended, dropped): hashes still coming for it are
 * dropped. With wait, an answer still owed is waited for first (it must
 * not be taken for the next file's); without, the connection is broken.
 */
void rdelta_done(struct rdelta_peer *peer, bool wait);

/* ------------------------------------------------------------------ */
/* The receiving side: the old file's hashes, streamed from a thread. */

struct rdelta_recv;

/**
 * Start a thread that sends BASE, then the hashes of base_fd's blocks (base
 * bytes) to peer, for a new file of size bytes. base_fd is taken over
 * (closed by rdelta_recv_stop). NULL on failure (errno), with nothing sent
 * and base_fd still the caller's.
 */
struct rdelta_recv *rdelta_recv_start(struct remote *peer, int base_fd, uint64_t base,
				      uint64_t size, size_t block);

/** The receiver has the new file's first received bytes: more hashes may go. */
void rdelta_recv_advance(struct rdelta_recv *rd, uint64_t received);

/** The old file's size, and its descriptor (to read SAME ranges from). */
uint64_t rdelta_recv_base(const struct rdelta_recv *rd, int *fd);

/** Stop the thread (the file ended), close the base, free. NULL-safe. */
void rdelta_recv_stop(struct rdelta_recv *rd);

#endif
