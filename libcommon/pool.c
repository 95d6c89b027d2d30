/* SPDX-License-Identifier: 0BSD */
/**
 * A lazy worker pool over a bounded ring of tasks.
 *
 * One mutex guards the ring and the counters. A worker is started only when
 * more tasks wait than there are idle workers, so small jobs start few
 * threads; the ring's bound makes a fast producer wait for slow workers
 * instead of queueing the whole input in memory.
 */
#include "prelude.h"
#include "pool.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

struct pool {
	struct pool_config config;
	pthread_mutex_t lock;      /* guards everything below */
	pthread_cond_t not_empty;  /* a task was queued, or the pool is closing */
	pthread_cond_t not_full;   /* a slot was freed */
	void **ring;
	size_t head, count;        /* ring[head] is the oldest of count tasks */
	pthread_t *threads;
	unsigned started;
	unsigned idle;
	bool closing;
};

static void *worker_main(void *arg)
{
	struct pool *pool = arg;
	void *context = pool->config.init ? pool->config.init(pool->config.arg) : NULL;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		void *task;

		while (pool->count == 0 && !pool->closing) {
			pool->idle++;
			pthread_cond_wait(&pool->not_empty, &pool->lock);
			pool->idle--;
		}
		if (pool->count == 0)
			break; /* closing and drained */
		task = pool->ring[pool->head];
		pool->head = (pool->head + 1) % pool->config.queue_capacity;
		pool->count--;
		pthread_cond_signal(&pool->not_full);
		pthread_mutex_unlock(&pool->lock);
		pool->config.work(context, task);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	if (pool->config.fini)
		pool->config.fini(context);
	return NULL;
}

struct pool *pool_new(const struct pool_config *config)
{
	struct pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->config = *config;
	if (pool->config.threads == 0)
		pool->config.threads = 1;
	if (pool->config.threads_max < pool->config.threads)
		pool->config.threads_max = pool->config.threads;
	if (pool->config.queue_capacity == 0)
		pool->config.queue_capacity = 4 * (size_t)pool->config.threads;
	pool->ring = calloc(pool->config.queue_capacity, sizeof(*pool->ring));
	pool->threads = calloc(pool->config.threads_max, sizeof(*pool->threads));
	if (!pool->ring || !pool->threads)
		goto fail;
	if (pthread_mutex_init(&pool->lock, NULL) != 0)
		goto fail;
	pthread_cond_init(&pool->not_empty, NULL);
	pthread_cond_init(&pool->not_full, NULL);
	return pool;
fail:
	free(pool->ring);
	free(pool->threads);
	free(pool);
	errno = ENOMEM;
	return NULL;
}

/* Start one more worker; called with the lock held. Returns 0 or an errno value. */
static int start_worker(struct pool *pool)
{
	int err = pthread_create(&pool->threads[pool->started], NULL, worker_main, pool);

	if (err == 0)
		pool->started++;
	return err;
}

int pool_submit(struct pool *pool, void *task)
{
	size_t tail;
	int err;

	pthread_mutex_lock(&pool->lock);
	while (pool->count == pool->config.queue_capacity)
		pthread_cond_wait(&pool->not_full, &pool->lock);
	tail = (pool->head + pool->count) % pool->config.queue_capacity;
	pool->ring[tail] = task;
	pool->count++;
	if (pool->count > pool->idle && pool->started < pool->config.threads) {
		err = start_worker(pool);
		if (err != 0 && pool->started == 0) {
			/* Nobody could ever run it: hand the task back. */
			pool->count--;
			pthread_mutex_unlock(&pool->lock);
			errno = EAGAIN;
			return -1;
		}
	}
	pthread_cond_signal(&pool->not_empty);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

void pool_finish(struct pool *pool)
{
	unsigned i;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->closing = true;
	pthread_cond_broadcast(&pool->not_empty);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < pool->started; i++)
		pthread_join(pool->threads[i], NULL);
	pthread_cond_destroy(&pool->not_empty);
	pthread_cond_destroy(&pool->not_full);
	pthread_mutex_destroy(&pool->lock);
	free(pool->ring);
	free(pool->threads);
	free(pool);
}

void pool_raise(struct pool *pool, unsigned threads)
{
	pthread_mutex_lock(&pool->lock);
	if (threads > pool->config.threads_max)
		threads = pool->config.threads_max;
	if (threads > pool->config.threads)
		pool->config.threads = threads;
	/* Tasks already waiting get the new workers now, not at the next submit. */
	while (pool->count > pool->idle && pool->started < pool->config.threads &&
	       !pool->closing && start_worker(pool) == 0)
		;
	pthread_mutex_unlock(&pool->lock);
}

unsigned pool_started(const struct pool *pool)
{
	unsigned n;

	pthread_mutex_lock((pthread_mutex_t *)&pool->lock);
	n = pool->started;
	pthread_mutex_unlock((pthread_mutex_t *)&pool->lock);
	return n;
}

unsigned pool_cpus(void)
{
	cpu_set_t set;
	long online;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (unsigned)online : 1;
}

unsigned pool_spare_cpus(void)
{
	return pool_cpus() - 1;
}

unsigned pool_default_threads(unsigned factor, unsigned min, unsigned max)
{
	unsigned long n = (unsigned long)pool_cpus() * factor;

	if (n < min)
		n = min;
	if (n > max)
		n = max;
	return (unsigned)n;
}
