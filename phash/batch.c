/* SPDX-License-Identifier: 0BSD */
/** Recycled batches of phash's input items. */
#include "prelude.h"
#include "batch.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct batch_pool {
	pthread_mutex_t lock;  /* guards free */
	struct batch *free;
};

struct batch_pool *batch_pool_new(void)
{
	struct batch_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	if (pthread_mutex_init(&pool->lock, NULL) != 0) {
		free(pool);
		errno = ENOMEM;
		return NULL;
	}
	return pool;
}

static void batch_destroy(struct batch *batch)
{
	size_t i;

	for (i = 0; i < BATCH_TASKS; i++) {
		rec_free(&batch->tasks[i].rec);
		dbuf_free(&batch->tasks[i].text);
	}
	free(batch);
}

void batch_pool_free(struct batch_pool *pool)
{
	if (!pool)
		return;
	while (pool->free) {
		struct batch *next = pool->free->next;

		batch_destroy(pool->free);
		pool->free = next;
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

struct batch *batch_get(struct batch_pool *pool)
{
	struct batch *batch;
	size_t i;

	pthread_mutex_lock(&pool->lock);
	batch = pool->free;
	if (batch)
		pool->free = batch->next;
	pthread_mutex_unlock(&pool->lock);
	if (batch)
		return batch;
	batch = calloc(1, sizeof(*batch));
	if (!batch)
		return NULL;
	for (i = 0; i < BATCH_TASKS; i++) {
		rec_init(&batch->tasks[i].rec);
		dbuf_init(&batch->tasks[i].text);
	}
	return batch;
}

void batch_put(struct batch_pool *pool, struct batch *batch)
{
	batch->count = 0;
	batch->bytes = 0;
	batch->seq = 0;
	pthread_mutex_lock(&pool->lock);
	batch->next = pool->free;
	pool->free = batch;
	pthread_mutex_unlock(&pool->lock);
}

struct task *batch_slot(struct batch *batch)
{
	struct task *task;

	if (batch->count == BATCH_TASKS)
		return NULL;
	task = &batch->tasks[batch->count];
	task->is_text = false;
	task->fresh = false;
	task->named = false;
	task->known_regular = false;
	task->have_stat = false;
	task->walk_error = 0;
	rec_reset(&task->rec);
	dbuf_clear(&task->text);
	return task;
}

void batch_commit(struct batch *batch, uint64_t bytes)
{
	batch->count++;
	batch->bytes += bytes;
}
