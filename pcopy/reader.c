/* SPDX-License-Identifier: 0BSD */
/**
 * Readers: a pool of threads per source device (godi's streams per input
 * device), each thread with a hashio engine and a fileop per destination.
 */
#include "prelude.h"
#include "reader.h"
#include "fileop.h"
#include "openread.h"
#include "pool.h"
#include "dbuf.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
	config.algos = copy->read_algos;
	config.count = copy->read_nalgos;
	/* Readers already run in parallel: no helper threads per file. */
	config.serial = true;
	reader->engine = hashio_new(&config);
	reader->pre = preread_new(); /* NULL: read file by file */
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
		reader->ops[i].keep_fd = -1;
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
	for (size_t i = 0; i < reader->worker.copy->ndests; i++) {
		hashio_free(reader->ops[i].verify);
		free(reader->ops[i].compare_buf);
		dbuf_free(&reader->ops[i].rbuf);
	}
	worker_fini(&reader->worker, reader->worker.copy->ndests);
	free(reader->ops);
	hashio_free(reader->engine);
	preread_free(reader->pre);
	pthread_mutex_destroy(&reader->lock);
	pthread_cond_destroy(&reader->cond);
	free(reader);
}

int source_open(struct copy *copy, int at_fd, const char *at_path, const char *rel,
		struct stat *st)
{
	int fd = open_read_at(at_fd, at_path, OPEN_READ_NOFOLLOW | OPEN_READ_NO_PRESTAT, st, NULL);

	if (fd == OPEN_READ_NOT_REGULAR)
		source_error(copy, rel, 0, "changed while being copied");
	else if (fd < 0)
		source_error(copy, rel, errno, NULL);
	return fd >= 0 ? fd : -1;
}

/* A task for one file (srcfd, which it then owns); NULL when memory is short. */
static struct task *task_new(struct copy *copy, int srcfd, const struct stat *st, const char *rel,
			     size_t len, const void *head, size_t head_len)
{
	struct task *task = malloc(sizeof(*task) + len + 1);

	if (!task)
		return NULL;
	task->copy = copy;
	task->batch = NULL;
	task->srcfd = srcfd;
	task->st = *st;
	task->head = head;
	task->head_len = head_len;
	task->rel_len = len;
	memcpy(task->rel, rel, len);
	task->rel[len] = '\0';
	return task;
}

unsigned readers_max(const struct copy *copy)
{
	size_t per_reader = 2 + copy->ndests * (DEST_DIRCACHE_WAYS + 1);
	size_t by_fds = preread_budget() / per_reader;
	unsigned far = by_fds < READERS_FAR ? (unsigned)by_fds : READERS_FAR;

	return copy->opt.readers_given || far < copy->opt.readers ? copy->opt.readers : far;
}

size_t readers_ahead_budget(unsigned readers)
{
	/* preread's budget, less a ring's descriptor for every reader there
	 * could be. */
	size_t budget = preread_budget(), rings = (size_t)readers * SOURCE_DEVICES_MAX;

	return budget > rings ? budget - rings : 0;
}

/* Take up to want descriptors from the readers' shared budget; returns how many. */
static size_t take_ahead(struct copy *copy, size_t want)
{
	size_t left = atomic_load(&copy->ahead_left), take;

	do
		take = left < want ? left : want;
	while (take > 0 && !atomic_compare_exchange_weak(&copy->ahead_left, &left, left - take));
	return take;
}

struct batch_run {
	struct reader *reader;
	struct file_batch *batch;
};

/* preread's open: file i of a batch; a walker hands a large one to the readers. */
static int batch_open(void *ctx, size_t i, struct stat *st)
{
	struct batch_run *run = ctx;
	struct worker *worker = &run->reader->worker;
	const struct file_batch *batch = run->batch;
	const char *rel = batch->text.data + batch->rel_off[i];
	int fd;

	if (stopping(worker->copy))
		return -1;
	fd = source_open(worker->copy, batch->dirfd, batch->text.data + batch->name_off[i], rel, st);
	/* A walker copies only small files itself (submit_file). */
	if (fd >= 0 && worker->inline_small && st->st_size > INLINE_MAX) {
		submit_file(worker, fd, st, rel, batch->rel_len[i], NULL, 0);
		return -1;
	}
	return fd;
}

static void reader_work(void *context, void *item);

/* preread's finish: copy file i of a batch here, from its head if it was read. */
static void batch_finish(void *ctx, size_t i, int fd, const struct stat *st, const void *head,
			 size_t head_len)
{
	struct batch_run *run = ctx;
	struct copy *copy = run->reader->worker.copy;
	const char *rel = run->batch->text.data + run->batch->rel_off[i];
	struct task *task;

	if (fd < 0)
		return;
	task = task_new(copy, fd, st, rel, run->batch->rel_len[i], head, head_len);
	if (!task) {
		close(fd);
		stop_run(copy, STOP_INTERNAL, rel, ENOMEM);
		return;
	}
	reader_work(run->reader, task);
}

void batch_copy(struct reader *reader, struct file_batch *batch, size_t ahead)
{
	static const struct preread_ops ops = {.open = batch_open, .finish = batch_finish};
	struct batch_run run = {reader, batch};

	preread_batch(reader->pre, batch->n, ahead, &ops, &run);
	batch->n = 0;
	dbuf_clear(&batch->text);
}

/* Copy a records batch, with descriptors ahead from the readers' shared budget. */
static void copy_records_batch(struct reader *reader, struct file_batch *batch)
{
	size_t ahead = take_ahead(reader->worker.copy, batch->n);

	batch_copy(reader, batch, ahead);
	atomic_fetch_add(&reader->worker.copy->ahead_left, ahead);
}

/* A reader's task: copy one file or a batch (the pool's work callback; also a walker's, inline). */
static void reader_work(void *context, void *item)
{
	struct reader *reader = context;
	struct task *task = item;

	if (!reader) {
		stop_run(task->copy, STOP_INTERNAL, task->batch ? task->batch->text.data : task->rel,
			 ENOMEM);
	} else if (stopping(reader->worker.copy)) {
		/* nothing more is copied */
	} else if (task->batch) {
		copy_records_batch(reader, task->batch);
	} else {
		reader_copy(reader, task);
	}
	if (task->batch && task->batch->handed)
		atomic_fetch_sub(&task->copy->handed, 1);
	if (task->batch)
		batch_free(task->batch);
	else
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
		config.threads = atomic_load(&copy->far) ? readers_max(copy) : copy->opt.readers;
		/* Room for far storage's readers, should the source be found far later. */
		config.threads_max = readers_max(copy);
		config.queue_capacity = (size_t)config.threads * 4;
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
	struct task *task = task_new(copy, srcfd, st, rel, len, head, head_len);
	struct pool *readers;

	if (!task) {
		close(srcfd);
		stop_run(copy, STOP_INTERNAL, rel, ENOMEM);
		return;
	}
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

void readers_go_far(struct copy *copy)
{
	pthread_mutex_lock(&copy->devices_lock);
	for (size_t i = 0; i < copy->ndevices; i++)
		pool_raise(copy->devices[i].readers, readers_max(copy));
	pthread_mutex_unlock(&copy->devices_lock);
}

void readers_finish(struct copy *copy)
{
	for (size_t i = 0; i < copy->ndevices; i++)
		pool_finish(copy->devices[i].readers);
	copy->ndevices = 0;
}

void batch_submit(struct worker *worker, struct file_batch **pending)
{
	struct copy *copy = worker->copy;
	struct file_batch *batch = *pending;
	struct task *task;
	struct pool *readers;

	*pending = NULL;
	if (!batch)
		return;
	task = calloc(1, sizeof(*task) + 1);
	readers = task ? device_readers(copy, batch->dev) : NULL;
	if (!readers || stopping(copy)) {
		if (!stopping(copy))
			stop_run(copy, STOP_INTERNAL, batch->text.data, task ? errno : ENOMEM);
		free(task);
		batch_free(batch);
		return;
	}
	task->copy = copy;
	task->batch = batch;
	task->srcfd = -1;
	if (pool_submit(readers, task) != 0) {
		stop_run(copy, STOP_INTERNAL, batch->text.data, errno);
		free(task);
		batch_free(batch);
	}
}

void batch_add(struct worker *worker, struct file_batch **pending, int dirfd, const char *rel,
	       size_t len, const struct stat *st)
{
	struct file_batch *batch = *pending;

	if (batch && (batch->base != dirfd || batch->dev != st->st_dev))
		batch_submit(worker, pending);
	batch = *pending;
	if (!batch) {
		batch = calloc(1, sizeof(*batch));
		if (!batch) {
			stop_run(worker->copy, STOP_INTERNAL, rel, ENOMEM);
			return;
		}
		dbuf_init(&batch->text);
		batch->base = dirfd;
		batch->dev = st->st_dev;
		/* Its own descriptor: the producer's may be closed before a
		 * reader gets to the batch. */
		batch->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
		batch->own_dirfd = true;
		if (batch->dirfd < 0) {
			stop_run(worker->copy, STOP_INTERNAL, rel, errno);
			batch_free(batch);
			return;
		}
		*pending = batch;
	}
	if (batch_push(batch, NULL, rel, len) != 0) {
		stop_run(worker->copy, STOP_INTERNAL, rel, errno);
		return;
	}
	if (batch->n == PREREAD_FILES)
		batch_submit(worker, pending);
}
