/* SPDX-License-Identifier: 0BSD */
/** Numbered batches from producers to workers, read ahead together, written out in order. */
#include "prelude.h"
#include "batchpipe.h"
#include "pool.h"
#include "reorder.h"
#include "sleeps.h"
#include "xio.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Files done before their typical size is trusted (BATCHPIPE_FLUSH_IDLE). */
#define SIZE_SAMPLE 16
/* Engines a worker keeps: one per distinct set of algorithms it met
 * (nearly always just one). */
#define ENGINE_CACHE 4
/* Far storage: the first this many opens of a batch are timed; once
 * BATCHPIPE_FAR_OPENS of them slept the workers rise (raise_when_far), and
 * from then on a batch holds at most BATCHPIPE_FAR_ITEMS items. */
#define BATCHPIPE_FAR_ITEMS 4
#define BATCHPIPE_FAR_OPENS 8
/* --unordered output is handed to the sink in chunks of this size. */
#define UNORDERED_CHUNK ((size_t)64 << 10)

struct batchpipe_batch {
	struct batchpipe_batch *next;  /* free list link */
	struct batchpipe *pipe;        /* its pipeline, for a worker without a context */
	uint64_t seq;                  /* reorder sequence number */
	size_t count;
	uint64_t bytes;                /* expected sizes, for closing a batch early */
	alignas(max_align_t) unsigned char items[];
};

struct batchpipe_worker {
	struct batchpipe *pipe;
	bool serial;                   /* its engines never start helper threads */
	struct {
		size_t count;
		const struct hash_algo *algos[HASH_SET_MAX];
		struct hashio *engine;
	} engines[ENGINE_CACHE];
	size_t used, victim;
	struct dircache dirs;
	struct preread *pre;           /* NULL with PTOOLS_IO_URING=0 */
	struct dbuf output;            /* the current batch's output */
	struct outbuf unordered;       /* unordered output, in chunks */
	alignas(max_align_t) unsigned char context[];
};

struct batchpipe {
	struct batchpipe_config config;
	size_t stride;                 /* item_size, aligned */
	atomic_size_t open_ahead;      /* files of a batch opened before reading (preread_share) */
	unsigned jobs_far;             /* config's jobs_far within the descriptor budget */
	size_t dir_ways;               /* directories each worker's dircache keeps open */
	atomic_uint opens_timed, opens_slept; /* raise_when_far's count */
	atomic_bool raised;            /* the workers may be jobs_far many now */
	unsigned cores;
	struct pool *pool;
	struct reorder *reorder;       /* NULL when unordered */
	pthread_mutex_t free_lock;     /* guards free */
	struct batchpipe_batch *free;
	pthread_mutex_t fallback_lock; /* guards fallback, which feeds of several threads share */
	struct batchpipe_worker *fallback;
	atomic_size_t in_flight;       /* batches handed on and not yet done */
	atomic_uint_fast64_t submitted, files_done, bytes_done;
	atomic_uint workers_started;
};

static void *item_at(const struct batchpipe *pipe, struct batchpipe_batch *batch, size_t i)
{
	return batch->items + i * pipe->stride;
}

static struct batchpipe_worker *worker_new(struct batchpipe *pipe, bool serial)
{
	const struct batchpipe_config *config = &pipe->config;
	struct batchpipe_worker *worker;

	worker = calloc(1, sizeof(*worker) + config->context_size);
	if (!worker)
		return NULL;
	worker->pipe = pipe;
	worker->serial = serial;
	dircache_init(&worker->dirs);
	dircache_keep(&worker->dirs, pipe->dir_ways);
	worker->pre = preread_new();
	dbuf_init(&worker->output);
	outbuf_init(&worker->unordered, config->out, UNORDERED_CHUNK);
	if (config->context_init)
		config->context_init(worker->context, config->arg);
	return worker;
}

static void worker_free(struct batchpipe_worker *worker)
{
	const struct batchpipe_config *config;
	size_t i;

	if (!worker)
		return;
	config = &worker->pipe->config;
	if (config->context_fini)
		config->context_fini(worker->context, config->arg);
	/* An output error is reported once, at the end (out_error). */
	(void)outbuf_fini(&worker->unordered);
	dbuf_free(&worker->output);
	for (i = 0; i < worker->used; i++)
		hashio_free(worker->engines[i].engine);
	dircache_fini(&worker->dirs);
	preread_free(worker->pre);
	free(worker);
}

void *batchpipe_arg(const struct batchpipe_worker *worker)
{
	return worker->pipe->config.arg;
}

void *batchpipe_context(struct batchpipe_worker *worker)
{
	return worker->context;
}

struct dircache *batchpipe_dircache(struct batchpipe_worker *worker)
{
	return &worker->dirs;
}

struct hashio *batchpipe_engine(struct batchpipe_worker *worker,
				const struct hash_algo *const *algos, size_t count)
{
	struct hashio_config config = worker->pipe->config.engine;
	struct hashio *engine;
	size_t i, slot;

	for (i = 0; i < worker->used; i++) {
		if (worker->engines[i].count == count &&
		    memcmp(worker->engines[i].algos, algos, count * sizeof(algos[0])) == 0)
			return worker->engines[i].engine;
	}
	if (count > HASH_SET_MAX) {
		errno = EINVAL;
		return NULL;
	}
	config.algos = algos;
	config.count = count;
	config.serial = worker->serial;
	engine = hashio_new(&config);
	if (!engine)
		return NULL;
	if (worker->used < ENGINE_CACHE) {
		slot = worker->used++;
	} else {
		slot = worker->victim++ % ENGINE_CACHE;
		hashio_free(worker->engines[slot].engine);
	}
	worker->engines[slot].count = count;
	memcpy(worker->engines[slot].algos, algos, count * sizeof(algos[0]));
	worker->engines[slot].engine = engine;
	return engine;
}

/* --- batches ----------------------------------------------------------- */

static void batch_destroy(struct batchpipe *pipe, struct batchpipe_batch *batch)
{
	size_t i;

	if (pipe->config.item_free) {
		for (i = 0; i < BATCHPIPE_ITEMS; i++)
			pipe->config.item_free(item_at(pipe, batch, i));
	}
	free(batch);
}

static struct batchpipe_batch *batch_get(struct batchpipe *pipe)
{
	struct batchpipe_batch *batch;
	size_t i;

	pthread_mutex_lock(&pipe->free_lock);
	batch = pipe->free;
	if (batch)
		pipe->free = batch->next;
	pthread_mutex_unlock(&pipe->free_lock);
	if (batch)
		return batch;
	batch = calloc(1, sizeof(*batch) + BATCHPIPE_ITEMS * pipe->stride);
	if (!batch)
		return NULL;
	batch->pipe = pipe;
	if (pipe->config.item_init) {
		for (i = 0; i < BATCHPIPE_ITEMS; i++)
			pipe->config.item_init(item_at(pipe, batch, i));
	}
	return batch;
}

static void batch_put(struct batchpipe *pipe, struct batchpipe_batch *batch)
{
	batch->count = 0;
	batch->bytes = 0;
	batch->seq = 0;
	pthread_mutex_lock(&pipe->free_lock);
	batch->next = pipe->free;
	pipe->free = batch;
	pthread_mutex_unlock(&pipe->free_lock);
}

/* --- the workers' side --------------------------------------------------- */

struct batch_work {
	struct batchpipe_worker *worker;
	struct batchpipe_batch *batch;
	uint64_t bytes;                /* of the files finished */
	bool measure;                  /* time the first opens (raise_when_far) */
};

/*
 * One of the first opens of a batch was timed, and slept or not. On a warm
 * cache an open never sleeps; on far storage each one waits for a round
 * trip, and there more workers mean more requests in flight (a worker opens
 * its files one after another). Once BATCHPIPE_FAR_OPENS timed opens slept,
 * at least half of those timed, the workers rise to jobs_far, once, each
 * with its share of the descriptor budget, and later batches are small
 * (should_flush), so that the files reach all of them.
 */
static void raise_when_far(struct batchpipe *pipe, bool slept)
{
	unsigned timed = atomic_fetch_add(&pipe->opens_timed, 1) + 1;
	unsigned n = slept ? atomic_fetch_add(&pipe->opens_slept, 1) + 1
			   : atomic_load(&pipe->opens_slept);

	if (n < BATCHPIPE_FAR_OPENS || 2 * n < timed || atomic_exchange(&pipe->raised, true))
		return;
	atomic_store(&pipe->open_ahead, preread_share(pipe->jobs_far));
	if (pipe->pool)
		pool_raise(pipe->pool, pipe->jobs_far);
}

static int open_item(void *ctx, size_t i, struct stat *st)
{
	struct batch_work *work = ctx;
	struct batchpipe *pipe = work->worker->pipe;
	long before;
	int fd;

	if (!pipe->config.open)
		return -1;
	if (!work->measure || i >= BATCHPIPE_FAR_ITEMS)
		return pipe->config.open(work->worker, item_at(pipe, work->batch, i), st);
	before = thread_sleeps();
	fd = pipe->config.open(work->worker, item_at(pipe, work->batch, i), st);
	raise_when_far(pipe, thread_sleeps() != before);
	return fd;
}

static void finish_item(void *ctx, size_t i, int fd, const struct stat *st, const void *head,
			size_t head_len)
{
	struct batch_work *work = ctx;
	struct batchpipe *pipe = work->worker->pipe;

	work->bytes += pipe->config.finish(work->worker, item_at(pipe, work->batch, i), fd, st,
					   head, head_len, &work->worker->output);
	if (fd >= 0)
		xclose(fd);
}

/* Hand the batch's output on: in sequence, or at once when unordered. An
 * output error is remembered by the sink and reported once, at the end. */
static void emit(struct batchpipe_worker *worker, uint64_t seq)
{
	struct batchpipe *pipe = worker->pipe;

	if (pipe->reorder) {
		(void)reorder_complete(pipe->reorder, seq, &worker->output);
	} else {
		(void)outbuf_put(&worker->unordered, worker->output.data, worker->output.len);
		dbuf_clear(&worker->output);
	}
}

/* Do every item of a batch, emit its output, recycle it. */
static void process_batch(struct batchpipe_worker *worker, struct batchpipe_batch *batch)
{
	static const struct preread_ops ops = {.open = open_item, .finish = finish_item};
	struct batchpipe *pipe = worker->pipe;
	struct batch_work work = {
		.worker = worker, .batch = batch,
		.measure = pipe->jobs_far > pipe->config.jobs &&
			   !atomic_load_explicit(&pipe->raised, memory_order_relaxed),
	};

	preread_batch(worker->pre, batch->count,
		      atomic_load_explicit(&pipe->open_ahead, memory_order_relaxed), &ops, &work);
	if (pipe->config.batch_end)
		pipe->config.batch_end(worker, &worker->output);
	emit(worker, batch->seq);
	atomic_fetch_add(&pipe->files_done, batch->count);
	atomic_fetch_add(&pipe->bytes_done, work.bytes);
	batch_put(pipe, batch);
	atomic_fetch_sub(&pipe->in_flight, 1);
}

static void process_in_fallback(struct batchpipe *pipe, struct batchpipe_batch *batch)
{
	pthread_mutex_lock(&pipe->fallback_lock);
	process_batch(pipe->fallback, batch);
	pthread_mutex_unlock(&pipe->fallback_lock);
}

static void *pool_init(void *arg)
{
	struct batchpipe *pipe = arg;
	unsigned started;

	if (pipe->config.sched_batch) {
		/* Where the policy is refused, nothing else changes. */
		(void)pthread_setschedparam(pthread_self(), SCHED_BATCH,
					    &(struct sched_param){ 0 });
	}
	/* Helper threads pay only while cores are idle, and each engine that
	 * runs them holds a ring of read buffers: only the first workers get
	 * such engines. Threads start lazily, so the first batch goes to the
	 * first worker, and a single large file is hashed in parallel. */
	started = atomic_fetch_add(&pipe->workers_started, 1);
	return worker_new(pipe, pipe->config.parallel_engines != 0 &&
			  started >= pipe->config.parallel_engines);
}

static void pool_work(void *context, void *arg)
{
	struct batchpipe_worker *worker = context;
	struct batchpipe_batch *batch = arg;

	if (worker)
		process_batch(worker, batch);
	else
		/* No context of its own (out of memory): the fallback's. */
		process_in_fallback(batch->pipe, batch);
}

static void pool_fini(void *context)
{
	worker_free(context);
}

/* --- the producers' side ------------------------------------------------- */

/*
 * BATCHPIPE_FLUSH_IDLE: how many items a batch may hold. Batching pays for
 * small files but hurts large ones: a batch of several large files is a
 * long task that one worker must do alone at the end of the run. Sizes are
 * often unknown beforehand, so the files done so far tell the typical size:
 * batches hold about batch_bytes of it.
 */
static size_t batch_limit(struct batchpipe *pipe)
{
	uint64_t files = atomic_load(&pipe->files_done), bytes = atomic_load(&pipe->bytes_done);
	uint64_t typical, limit = pipe->config.batch_bytes;

	if (files < SIZE_SAMPLE)
		return BATCHPIPE_ITEMS;
	typical = bytes / files;
	if (typical == 0 || limit / typical >= BATCHPIPE_ITEMS)
		return BATCHPIPE_ITEMS;
	return limit / typical > 0 ? (size_t)(limit / typical) : 1;
}

/*
 * Whether the feed's batch, just grown by an item, goes to the workers now.
 * BATCHPIPE_FLUSH_IDLE: when full (batch_limit), at batch_bytes, or when a
 * worker should get work now. For small files that is when fewer batches are
 * in flight than there are cores (a core may be idle): with many workers per
 * core most workers are always idle, and flushing for each of them hands
 * batches on half full, each with a futex wake-up and often a context
 * switch. While files are large, or their size is not known yet, it is
 * whenever a worker is idle: a second large file must not wait in a batch
 * behind the first.
 * BATCHPIPE_FLUSH_FIRST: the first jobs batches go out at once; later ones
 * only when full, since flushing for idle workers brings back a hand-off per
 * file on small files.
 */
static bool should_flush(struct batchpipe *pipe, const struct batchpipe_batch *batch)
{
	const struct batchpipe_config *config = &pipe->config;
	size_t limit;
	bool small;

	if (batch->bytes >= config->batch_bytes)
		return true;
	/* Far storage: each worker opens its files one after another, so they
	 * go out in small batches to as many workers as there are, not in full
	 * ones to a few (small, but not single files: a batch's reads still go
	 * out together). */
	if (atomic_load_explicit(&pipe->raised, memory_order_relaxed))
		return batch->count >= BATCHPIPE_FAR_ITEMS;
	/* Until the first opens have told near from far, batches are small
	 * too: a manifest is read in moments, and had its files all gone out
	 * in full batches before the first open returned, the raised workers
	 * would find nothing left to share. */
	if (pipe->jobs_far > config->jobs && batch->count >= BATCHPIPE_FAR_ITEMS &&
	    atomic_load_explicit(&pipe->opens_timed, memory_order_relaxed) < 2 * BATCHPIPE_FAR_OPENS)
		return true;
	if (config->flush == BATCHPIPE_FLUSH_FIRST)
		return batch->count >= BATCHPIPE_ITEMS || atomic_load(&pipe->submitted) < config->jobs;
	limit = batch_limit(pipe);
	small = limit == BATCHPIPE_ITEMS && atomic_load(&pipe->files_done) >= SIZE_SAMPLE;
	return batch->count >= limit ||
	       atomic_load(&pipe->in_flight) < (small ? pipe->cores : config->jobs);
}

void batchpipe_feed_init(struct batchpipe_feed *feed, struct batchpipe *pipe)
{
	feed->pipe = pipe;
	feed->batch = NULL;
}

void batchpipe_flush(struct batchpipe_feed *feed)
{
	struct batchpipe *pipe = feed->pipe;
	struct batchpipe_batch *batch = feed->batch;

	if (!batch)
		return;
	feed->batch = NULL;
	if (batch->count == 0) {
		batch_put(pipe, batch);
		return;
	}
	if (pipe->reorder)
		batch->seq = reorder_take(pipe->reorder);
	atomic_fetch_add(&pipe->in_flight, 1);
	atomic_fetch_add(&pipe->submitted, 1);
	if (!pipe->pool || pool_submit(pipe->pool, batch) != 0)
		/* No worker thread could start at all: do it here. */
		process_in_fallback(pipe, batch);
}

void *batchpipe_slot(struct batchpipe_feed *feed)
{
	struct batchpipe *pipe = feed->pipe;
	void *item;

	if (feed->batch && feed->batch->count == BATCHPIPE_ITEMS)
		batchpipe_flush(feed);
	if (!feed->batch) {
		feed->batch = batch_get(pipe);
		if (!feed->batch)
			return NULL;
	}
	item = item_at(pipe, feed->batch, feed->batch->count);
	if (pipe->config.item_reset)
		pipe->config.item_reset(item);
	return item;
}

void batchpipe_commit(struct batchpipe_feed *feed, uint64_t bytes)
{
	struct batchpipe *pipe = feed->pipe;
	struct batchpipe_batch *batch = feed->batch;

	PT_ASSERT(batch != NULL);
	PT_ASSERT(batch->count < BATCHPIPE_ITEMS);
	batch->count++;
	batch->bytes += bytes == BATCHPIPE_SIZE_UNKNOWN ? pipe->config.unknown_bytes : bytes;
	if (should_flush(pipe, batch))
		batchpipe_flush(feed);
}

/* --- the pipeline -------------------------------------------------------- */

struct batchpipe *batchpipe_new(const struct batchpipe_config *config)
{
	struct batchpipe *pipe;
	struct pool_config pool_config;
	size_t align = alignof(max_align_t);

	if (!config->finish || !config->out) {
		errno = EINVAL;
		return NULL;
	}
	pipe = calloc(1, sizeof(*pipe));
	if (!pipe)
		return NULL;
	pipe->config = *config;
	pipe->stride = (config->item_size + align - 1) / align * align;
	atomic_init(&pipe->open_ahead, preread_share(config->jobs));
	/* The raised workers' descriptors stay within half the budget, beside
	 * those of the workers before them still finishing a batch. */
	pipe->jobs_far = config->jobs_far;
	if (pipe->jobs_far > preread_budget() / (2 * (PREREAD_FILES + 1)))
		pipe->jobs_far = (unsigned)(preread_budget() / (2 * (PREREAD_FILES + 1)));
	/* Kept directories take at most another such budget, over every worker
	 * there may be (and the fallback worker). */
	pipe->dir_ways = preread_budget() /
			 ((config->jobs > pipe->jobs_far ? config->jobs : pipe->jobs_far) + 1);
	atomic_init(&pipe->opens_timed, 0);
	atomic_init(&pipe->opens_slept, 0);
	atomic_init(&pipe->raised, false);
	pipe->cores = pool_default_threads(1, 1, 1024);
	atomic_init(&pipe->in_flight, 0);
	atomic_init(&pipe->submitted, 0);
	atomic_init(&pipe->files_done, 0);
	atomic_init(&pipe->bytes_done, 0);
	atomic_init(&pipe->workers_started, 0);
	pthread_mutex_init(&pipe->free_lock, NULL);
	pthread_mutex_init(&pipe->fallback_lock, NULL);
	if (config->window) {
		pipe->reorder = reorder_new(config->out, config->window);
		if (!pipe->reorder)
			goto fail;
	}
	/* Made now, so that a run never finds itself without a worker. */
	pipe->fallback = worker_new(pipe, false);
	if (!pipe->fallback)
		goto fail;
	pool_config = (struct pool_config){
		.threads = config->jobs,
		.threads_max = pipe->jobs_far,
		.queue_capacity = config->queue_capacity ? config->queue_capacity
							 : 2 * (size_t)config->jobs,
		.init = pool_init,
		.work = pool_work,
		.fini = pool_fini,
		.arg = pipe,
	};
	if (config->jobs > 0) {
		pipe->pool = pool_new(&pool_config);
		if (!pipe->pool)
			goto fail;
	}
	return pipe;
fail:
	batchpipe_free(pipe);
	return NULL;
}

void batchpipe_drain(struct batchpipe *pipe)
{
	pool_finish(pipe->pool);
	pipe->pool = NULL;
	worker_free(pipe->fallback);
	pipe->fallback = NULL;
}

int batchpipe_finish(struct batchpipe *pipe)
{
	int err;

	batchpipe_drain(pipe);
	if (pipe->reorder)
		return reorder_finish(pipe->reorder);
	err = out_error(pipe->config.out);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

void batchpipe_free(struct batchpipe *pipe)
{
	int saved = errno;

	if (!pipe)
		return;
	pool_finish(pipe->pool);
	worker_free(pipe->fallback);
	reorder_free(pipe->reorder);
	while (pipe->free) {
		struct batchpipe_batch *next = pipe->free->next;

		batch_destroy(pipe, pipe->free);
		pipe->free = next;
	}
	pthread_mutex_destroy(&pipe->free_lock);
	pthread_mutex_destroy(&pipe->fallback_lock);
	free(pipe);
	errno = saved;
}
