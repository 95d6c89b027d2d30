/* SPDX-License-Identifier: 0BSD */
/**
 * The batch pipeline of phash and pverify: items read by one or more
 * producing threads are gathered into numbered batches, handed to a pool of
 * workers, opened and read ahead together (preread.h), finished one by one
 * by the caller's callback, and their output written in input order through
 * a bounded reorder window (or as each batch ends, unordered).
 *
 * Batching is what makes many small files cheap: one queue hand-off, one
 * reorder slot and one output commit per batch instead of per file. A batch
 * is handed on early when a worker might be idle (enum batchpipe_flush), and
 * closes at batch_bytes of expected size, so that one batch never holds many
 * large files other workers could share.
 *
 * Each worker owns a dircache, a preread, a cache of hashing engines (one
 * per set of algorithms) and the caller's per-worker context. When no worker
 * thread can start at all, or a worker's context cannot be allocated,
 * batches are done by one fallback worker under a lock, with the same output
 * in the same order.
 *
 * Items are the caller's structs, stored inside the batches (item_size bytes
 * each) and recycled: a record's storage is allocated once for the run.
 */
#ifndef PTOOLS_BATCHPIPE_H
#define PTOOLS_BATCHPIPE_H

#include "prelude.h"
#include "dbuf.h"
#include "dircache.h"
#include "hash.h"
#include "hashio.h"
#include "out.h"
#include "preread.h"
#include <sys/stat.h>

/** Most items in one batch: a batch is opened and read ahead at once. */
#define BATCHPIPE_ITEMS PREREAD_FILES

/** batchpipe_commit's size of an item whose size is not known. */
#define BATCHPIPE_SIZE_UNKNOWN UINT64_MAX

/** When a batch that is not full is handed to the workers. */
enum batchpipe_flush {
	/*
	 * Whenever a worker may be idle: fewer batches in flight than workers
	 * (while files are large or their size is not known yet), or than
	 * cores once the files done so far prove small; and a batch holds at
	 * most about batch_bytes of the typical size of the files done so far.
	 * For input whose sizes are mostly unknown until read (phash).
	 */
	BATCHPIPE_FLUSH_IDLE,
	/*
	 * The first `jobs` batches go out one item each, so a short list of
	 * large files is spread over every worker; after that only full
	 * batches (BATCHPIPE_ITEMS, or batch_bytes of expected size). For
	 * input that mostly states its sizes (pverify's manifests).
	 */
	BATCHPIPE_FLUSH_FIRST,
};

struct batchpipe_worker;

/*
 * The programs' jobs_far without -j: on far storage each worker keeps one
 * request in flight, and on a filesystem that waits a millisecond a request
 * 32 and 128 workers ran as fast as each other and about twice as fast as
 * 16 (docs/BENCHMARKS.md, far storage).
 */
#define BATCHPIPE_JOBS_FAR 64

struct batchpipe_config {
	unsigned jobs;              /* worker threads at most; 0: none, every batch is done
				       by the fallback worker in the thread that flushes it */
	unsigned jobs_far;          /* worker threads at most once opens are seen to sleep
				       (far or cold storage), as far as the descriptor
				       budget allows; <= jobs: never more than jobs */
	size_t queue_capacity;      /* batches queued at most; 0: 2 * jobs */
	struct out *out;            /* where output goes (not owned) */
	size_t window;              /* ordered: batches in flight at most; 0: unordered */
	enum batchpipe_flush flush;
	uint64_t batch_bytes;       /* a batch closes at this many bytes of expected size */
	uint64_t unknown_bytes;     /* what an item of unknown size counts as */
	unsigned parallel_engines;  /* workers whose engines may start helper threads; 0: all */
	bool sched_batch;           /* workers run SCHED_BATCH: they never preempt the producer */
	/* The engines' settings; algos and count are given per engine, serial per worker. */
	struct hashio_config engine;

	size_t item_size;           /* bytes of one item */
	void (*item_init)(void *item);   /* once per item slot, when a batch is made; may be NULL */
	void (*item_free)(void *item);   /* once per item slot, when a batch is freed; may be NULL */
	void (*item_reset)(void *item);  /* before an item slot is reused; may be NULL */

	size_t context_size;        /* bytes of the caller's per-worker context */
	void (*context_init)(void *context, void *arg);  /* may be NULL (the context is zeroed) */
	void (*context_fini)(void *context, void *arg);  /* may be NULL */

	/*
	 * preread's open for one item: open it for reading with its fstat in
	 * *st and return the descriptor, or -1 when there is nothing to read
	 * (finish decides alone). May be NULL.
	 */
	int (*open)(struct batchpipe_worker *worker, void *item, struct stat *st);
	/*
	 * Finish one item, in batch order: fd and st as open returned them (fd
	 * -1 if it did not open one; the pipeline closes fd afterwards), its
	 * first head_len bytes if they were read ahead. Appends the item's
	 * output to *out. Returns the bytes of the file it finished (0 if
	 * none), which BATCHPIPE_FLUSH_IDLE takes as the typical size.
	 */
	uint64_t (*finish)(struct batchpipe_worker *worker, void *item, int fd,
			   const struct stat *st, const void *head, size_t head_len,
			   struct dbuf *out);
	/* After a batch's last item, before its output is written; may be NULL. */
	void (*batch_end)(struct batchpipe_worker *worker, struct dbuf *out);
	void *arg;                  /* passed to the callbacks (batchpipe_arg) */
};

struct batchpipe;

/**
 * Make a pipeline (no thread starts yet); config is copied. Returns NULL
 * with errno on failure.
 */
struct batchpipe *batchpipe_new(const struct batchpipe_config *config);

/**
 * Wait for every batch handed on and stop the workers (unordered output is
 * written out; ordered output still held back is left to batchpipe_finish).
 * Call after every feed is flushed; calling it again does nothing.
 */
void batchpipe_drain(struct batchpipe *pipe);

/**
 * batchpipe_drain, then write out whatever is still held back. Returns 0,
 * or -1 with errno of the first output error (EPIPE when the reader went
 * away).
 */
int batchpipe_finish(struct batchpipe *pipe);

/** Free the pipeline (after batchpipe_finish); NULL-safe. Does not free the out. */
void batchpipe_free(struct batchpipe *pipe);

/**
 * One producing thread's open batch. Several threads may feed one pipeline,
 * each through its own feed (unordered output only: with ordered output the
 * order is the order in which batches are flushed).
 */
struct batchpipe_feed {
	struct batchpipe *pipe;
	struct batchpipe_batch *batch;  /* being filled, or NULL */
};

/** Start a feed of pipe; allocates nothing. */
void batchpipe_feed_init(struct batchpipe_feed *feed, struct batchpipe *pipe);

/**
 * The next free item of the feed's batch, reset (item_reset), handing the
 * batch on first when it is full. It counts only once batchpipe_commit is
 * called, so a failed read can reuse it. Returns NULL (ENOMEM) when no batch
 * can be had.
 */
void *batchpipe_slot(struct batchpipe_feed *feed);

/**
 * Count the item batchpipe_slot gave, of bytes expected size
 * (BATCHPIPE_SIZE_UNKNOWN when not known), and hand the batch on if the
 * flush policy says so. The item belongs to the pipeline from now on.
 */
void batchpipe_commit(struct batchpipe_feed *feed, uint64_t bytes);

/**
 * Hand the feed's open batch on, if any. When no worker thread can start,
 * the batch is done in this thread before this returns.
 */
void batchpipe_flush(struct batchpipe_feed *feed);

/** The config's arg. */
void *batchpipe_arg(const struct batchpipe_worker *worker);

/** The caller's per-worker context (config.context_size bytes). */
void *batchpipe_context(struct batchpipe_worker *worker);

/** The worker's directory cache (dircache.h), for opening items relative to it. */
struct dircache *batchpipe_dircache(struct batchpipe_worker *worker);

/**
 * The worker's engine for these algorithms (count of them), made on first
 * use with config.engine's settings and reused for every later item with the
 * same algorithms, in the same order; a few sets are kept at once. Owned by
 * the worker. Returns NULL with errno when it cannot be made.
 */
struct hashio *batchpipe_engine(struct batchpipe_worker *worker,
				const struct hash_algo *const *algos, size_t count);

#endif
