/* SPDX-License-Identifier: 0BSD */
/**
 * Batches of input items, the unit of work handed to phash's workers: one
 * queue operation, one reorder slot and one output commit per batch instead
 * of per file, which is what makes 200,000 small files cheap. Batches are
 * recycled through a free list, so a record's storage is allocated once and
 * reused for the whole run.
 */
#ifndef PHASH_BATCH_H
#define PHASH_BATCH_H

#include "prelude.h"
#include "dbuf.h"
#include "record.h"
#include <sys/stat.h>

/** Most items in one batch. */
#define BATCH_TASKS 32

/** One input item: a record to hash, or text to pass through unchanged. */
struct task {
	bool is_text;         /* text holds a whole line (LF included) to copy out */
	bool fresh;           /* made here (plain path, argument, walk): add a type attribute */
	bool named;           /* an argument or a plain path: a directory is an error */
	bool known_regular;   /* a walker just saw it as a regular file */
	bool have_stat;       /* st holds a walker's lstat of a non-regular entry */
	int walk_error;       /* the walker could not reach it */
	struct stat st;
	struct rec rec;
	struct dbuf text;
};

/** A batch: owned by the producer while it fills it, then by one worker. */
struct batch {
	struct batch *next;   /* free list link */
	void *owner;          /* the run it belongs to (phash's state), for the worker */
	uint64_t seq;         /* reorder sequence number */
	size_t count;
	uint64_t bytes;       /* sizes known from the input, for closing a batch early */
	struct task tasks[BATCH_TASKS];
};

struct batch_pool;

/** Make an empty free list. Returns NULL (ENOMEM) on failure. */
struct batch_pool *batch_pool_new(void);

/** Free the free list and every batch on it; NULL-safe. Batches still out are the caller's. */
void batch_pool_free(struct batch_pool *pool);

/** An empty batch, recycled or new. Thread-safe. Returns NULL (ENOMEM) on failure. */
struct batch *batch_get(struct batch_pool *pool);

/** Return a batch to the free list (its items are reset). Thread-safe. */
void batch_put(struct batch_pool *pool, struct batch *batch);

/**
 * The next free item of batch, reset, or NULL when the batch is full. It
 * counts only once batch_commit is called, so a failed read can reuse it.
 */
struct task *batch_slot(struct batch *batch);

/** Count the item batch_slot gave, with bytes of expected size. */
void batch_commit(struct batch *batch, uint64_t bytes);

#endif
