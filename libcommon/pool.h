/* SPDX-License-Identifier: 0BSD */
/**
 * A pool of worker threads fed through a bounded queue. Threads start lazily:
 * a new one is started only when a task is queued and no started worker is
 * idle, so a pool that sees three tasks never starts sixteen threads.
 *
 * Each worker owns a context made by the init callback in its own thread and
 * destroyed by fini there; tasks are opaque pointers owned by the work
 * callback once dequeued.
 */
#ifndef PTOOLS_POOL_H
#define PTOOLS_POOL_H

#include "prelude.h"

struct pool;

struct pool_config {
	unsigned threads;        /* maximum workers, >= 1 */
	unsigned threads_max;    /* what pool_raise may raise threads to (0: threads) */
	size_t queue_capacity;   /* pool_submit blocks while this many tasks wait */
	/* Make a worker's context; NULL return is allowed and passed through. */
	void *(*init)(void *arg);
	/* Do one task. Called with the worker's context. */
	void (*work)(void *context, void *task);
	/* Destroy a worker's context when the pool shuts down; may be NULL. */
	void (*fini)(void *context);
	void *arg;
};

/** Make a pool; no thread starts yet. Returns NULL with errno on failure. */
struct pool *pool_new(const struct pool_config *config);

/**
 * Queue a task, blocking while the queue is full. Returns 0, or -1 with errno
 * (EAGAIN when no thread could be started and none is running: the caller
 * then still owns task).
 */
int pool_submit(struct pool *pool, void *task);

/**
 * Wait until every queued task is done, then stop and join all workers
 * (running fini in each) and free the pool. NULL-safe.
 */
void pool_finish(struct pool *pool);

/**
 * Raise the maximum number of workers to threads (at most the config's
 * threads_max; a lower number changes nothing): for a pool made before its
 * work was known to block, which then wants more of it in flight. Tasks
 * already waiting get new workers at once; later ones start them as ever.
 */
void pool_raise(struct pool *pool, unsigned threads);

/** The number of worker threads started so far. */
unsigned pool_started(const struct pool *pool);

/** The CPUs this process may run on (its affinity, as nproc counts them; else those online). */
unsigned pool_cpus(void);

/**
 * The CPUs beside the calling thread's (pool_cpus() - 1): how many threads
 * to start beside it when it works too and has the machine to itself.
 */
unsigned pool_spare_cpus(void);

/**
 * A default worker count: pool_cpus() times factor, clamped to [min, max].
 * The CPUs this process may run on, not those online, so that a run under
 * taskset or a cpuset starts as many threads as it has CPUs to run them.
 */
unsigned pool_default_threads(unsigned factor, unsigned min, unsigned max);

#endif
