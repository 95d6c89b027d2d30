/* SPDX-License-Identifier: 0BSD */
/**
 * The bounded reorder window. Slots form a ring indexed by seq % window; at
 * most one thread at a time (the one holding `writing`) drains consecutive
 * finished slots into one buffer and writes it outside the lock, so output
 * stays in order while the other workers go on hashing, and whatever can be
 * written is written at once (a record never waits behind a huge file it
 * precedes). Items that finish while a write is under way are picked up by
 * the same drain, so a busy run makes few, large writes.
 */
#include "prelude.h"
#include "reorder.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct reorder_slot {
	struct dbuf bytes;
	bool done;
};

struct reorder {
	struct out *out;
	size_t window;
	pthread_mutex_t lock;     /* guards everything below but batch */
	pthread_cond_t not_full;  /* next_out advanced */
	struct reorder_slot *slots;
	uint64_t next_seq;        /* the next number reorder_take gives */
	uint64_t next_out;        /* the next number to write */
	bool writing;             /* a thread is draining: it alone owns batch */
	int error;                /* first output errno, or 0 */
	struct dbuf batch;
};

struct reorder *reorder_new(struct out *out, size_t window)
{
	struct reorder *reorder;

	if (window == 0) {
		errno = EINVAL;
		return NULL;
	}
	reorder = calloc(1, sizeof(*reorder));
	if (!reorder)
		return NULL;
	reorder->slots = calloc(window, sizeof(*reorder->slots));
	if (!reorder->slots || pthread_mutex_init(&reorder->lock, NULL) != 0) {
		free(reorder->slots);
		free(reorder);
		errno = ENOMEM;
		return NULL;
	}
	pthread_cond_init(&reorder->not_full, NULL);
	reorder->out = out;
	reorder->window = window;
	dbuf_init(&reorder->batch);
	return reorder;
}

void reorder_free(struct reorder *reorder)
{
	size_t i;

	if (!reorder)
		return;
	for (i = 0; i < reorder->window; i++)
		dbuf_free(&reorder->slots[i].bytes);
	free(reorder->slots);
	dbuf_free(&reorder->batch);
	pthread_cond_destroy(&reorder->not_full);
	pthread_mutex_destroy(&reorder->lock);
	free(reorder);
}

uint64_t reorder_take(struct reorder *reorder)
{
	uint64_t seq;

	pthread_mutex_lock(&reorder->lock);
	while (reorder->next_seq - reorder->next_out >= reorder->window)
		pthread_cond_wait(&reorder->not_full, &reorder->lock);
	seq = reorder->next_seq++;
	pthread_mutex_unlock(&reorder->lock);
	return seq;
}

/*
 * Drain consecutive finished slots and write them out in one transfer, until
 * nothing more is ready; called with the lock held and writing set by the
 * caller. Returns with the lock held.
 */
static void drain(struct reorder *reorder)
{
	for (;;) {
		bool moved = false;
		size_t len;
		int err = 0;

		while (reorder->next_out < reorder->next_seq) {
			struct reorder_slot *slot = &reorder->slots[reorder->next_out % reorder->window];

			if (!slot->done)
				break;
			if (!reorder->error && dbuf_append(&reorder->batch, slot->bytes.data, slot->bytes.len) != 0)
				reorder->error = ENOMEM;
			dbuf_clear(&slot->bytes);
			slot->done = false;
			reorder->next_out++;
			moved = true;
		}
		if (moved)
			pthread_cond_broadcast(&reorder->not_full);
		len = reorder->batch.len;
		if (len == 0)
			return;
		pthread_mutex_unlock(&reorder->lock);
		if (out_write(reorder->out, reorder->batch.data, len) != 0)
			err = errno;
		dbuf_clear(&reorder->batch);
		pthread_mutex_lock(&reorder->lock);
		if (err && !reorder->error)
			reorder->error = err;
	}
}

/* drain as the one writer; called and returns with the lock held. */
static void drain_now(struct reorder *reorder)
{
	reorder->writing = true;
	drain(reorder);
	reorder->writing = false;
}

/* Unlock, and return 0, or -1 with errno the first output error. */
static int unlock_status(struct reorder *reorder)
{
	int err = reorder->error;

	pthread_mutex_unlock(&reorder->lock);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int reorder_complete(struct reorder *reorder, uint64_t seq, struct dbuf *bytes)
{
	struct reorder_slot *slot;
	struct dbuf swap;

	pthread_mutex_lock(&reorder->lock);
	slot = &reorder->slots[seq % reorder->window];
	PT_ASSERT(!slot->done && seq >= reorder->next_out && seq < reorder->next_seq);
	swap = slot->bytes;
	slot->bytes = *bytes;
	*bytes = swap;
	dbuf_clear(bytes);
	slot->done = true;
	if (seq == reorder->next_out && !reorder->writing)
		drain_now(reorder);
	return unlock_status(reorder);
}

int reorder_finish(struct reorder *reorder)
{
	pthread_mutex_lock(&reorder->lock);
	PT_ASSERT(!reorder->writing);
	drain_now(reorder);
	return unlock_status(reorder);
}
