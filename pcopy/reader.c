/* SPDX-License-Identifier: 0BSD */
/**
 * Readers: a pool of threads per source device (godi's streams per input
 * device), each thread with a hashio engine and a fileop per destination.
 */
#include "prelude.h"
#include "reader.h"
#include "fileop.h"
#include "pool.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *reader_init(void *arg)
{
	struct copy *copy = arg;
	struct hashio_config config;
	struct reader *reader;

	reader = calloc(1, sizeof(*reader));
	if (!reader)
		return NULL;
	reader->worker.copy = copy;
	reader->worker.dirs = calloc(copy->ndests, sizeof(*reader->worker.dirs));
	reader->ops = calloc(copy->ndests, sizeof(*reader->ops));
	memset(&config, 0, sizeof(config));
	config.algos = copy->opt.algos;
	config.count = copy->opt.nalgos;
	/* Readers already run in parallel: no helper threads per file. */
	config.serial = true;
	reader->engine = hashio_new(&config);
	if (!reader->worker.dirs || !reader->ops || !reader->engine) {
		free(reader->worker.dirs);
		free(reader->ops);
		hashio_free(reader->engine);
		free(reader);
		return NULL;
	}
	for (size_t i = 0; i < copy->ndests; i++) {
		for (unsigned way = 0; way < DEST_DIRCACHE_WAYS; way++)
			reader->worker.dirs[i].fd[way] = -1;
		reader->ops[i].reader = reader;
		reader->ops[i].dest = &copy->dests[i];
		reader->ops[i].fd = -1;
	}
	pthread_mutex_init(&reader->lock, NULL);
	pthread_cond_init(&reader->cond, NULL);
	return reader;
}


void reader_fini(void *context)
{
	struct reader *reader = context;

	if (!reader)
		return;
	for (size_t i = 0; i < reader->worker.copy->ndests; i++)
		hashio_free(reader->ops[i].verify);
	worker_fini(&reader->worker, reader->worker.copy->ndests);
	free(reader->ops);
	hashio_free(reader->engine);
	pthread_mutex_destroy(&reader->lock);
	pthread_cond_destroy(&reader->cond);
	free(reader);
}

/* A reader's task: copy one file (the pool's work callback; also a walker's, inline). */
static void reader_work(void *context, void *item)
{
	struct reader *reader = context;
	struct task *task = item;

	if (!reader) {
		stop_run(task->copy, STOP_INTERNAL, task->rel, ENOMEM);
	} else if (!stopping(reader->worker.copy)) {
		reader_copy(reader, task);
	}
	close(task->srcfd);
	free(task);
}

/*
 * The readers of source device dev, made when its first file comes. NULL
 * (errno set) when they cannot be made.
 */
static struct pool *device_readers(struct copy *copy, dev_t dev)
{
	struct pool_config config;
	struct pool *readers = NULL;

	pthread_mutex_lock(&copy->devices_lock);
	for (size_t i = 0; i < copy->ndevices && !readers; i++)
		if (copy->devices[i].dev == dev)
			readers = copy->devices[i].readers;
	if (!readers && copy->ndevices == SOURCE_DEVICES_MAX)
		readers = copy->devices[SOURCE_DEVICES_MAX - 1].readers;
	if (!readers) {
		memset(&config, 0, sizeof(config));
		config.threads = copy->opt.readers;
		config.queue_capacity = (size_t)copy->opt.readers * 4;
		config.init = reader_init;
		config.work = reader_work;
		config.fini = reader_fini;
		config.arg = copy;
		readers = pool_new(&config);
		if (readers) {
			copy->devices[copy->ndevices].dev = dev;
			copy->devices[copy->ndevices].readers = readers;
			copy->ndevices++;
		}
	}
	pthread_mutex_unlock(&copy->devices_lock);
	return readers;
}

/*
 * Hand a regular file (open as srcfd, which the task then owns) to its
 * device's readers, or copy it right here when it is small and worker is a
 * walker.
 */
void submit_file(struct worker *worker, int srcfd, const struct stat *st,
		 const char *rel, size_t len, const void *head, size_t head_len)
{
	struct copy *copy = worker->copy;
	struct task *task = malloc(sizeof(*task) + len + 1);
	struct pool *readers;

	if (!task) {
		close(srcfd);
		stop_run(copy, STOP_INTERNAL, rel, ENOMEM);
		return;
	}
	task->copy = copy;
	task->srcfd = srcfd;
	task->st = *st;
	task->head = head;
	task->head_len = head_len;
	task->rel_len = len;
	memcpy(task->rel, rel, len);
	task->rel[len] = '\0';
	/* A head lives only as long as the caller's batch: only for a copy made here. */
	PT_ASSERT(head_len == 0 || (worker->inline_small && st->st_size <= INLINE_MAX));
	if (worker->inline_small && st->st_size <= INLINE_MAX) {
		/* worker is the first member of a struct reader (walker_init). */
		reader_work((struct reader *)worker, task);
		return;
	}
	readers = device_readers(copy, st->st_dev);
	if (!readers || pool_submit(readers, task) != 0) {
		int err = errno;
		close(srcfd);
		free(task);
		stop_run(copy, STOP_INTERNAL, rel, err);
	}
}

void readers_finish(struct copy *copy)
{
	for (size_t i = 0; i < copy->ndevices; i++)
		pool_finish(copy->devices[i].readers);
	copy->ndevices = 0;
}
