/* SPDX-License-Identifier: 0BSD */
/**
 * Group commit: the journal's appends, gathered into as few writes as the
 * write-ahead promise allows.
 *
 * Why. Every record must be in the journal before the creation it describes,
 * so each append waits for its write (and with --fsync its fdatasync). One
 * write per record costs nothing on a local disk, but on far storage (NFS,
 * SMB, FUSE) each write is a round trip, and writes to one file are served
 * one at a time: with a record before each temporary and each rename, every
 * thread copying files ends up queued on the journal. With --fsync the same
 * holds for the fdatasync per record even on a local disk.
 *
 * How (leader and followers). An append puts its record at the end of a
 * buffer, in the order appends are accepted. If no write is in progress, the
 * appender becomes the writer: it takes the whole buffer, leaves an empty one
 * in its place, and writes what it took in one write(2) (then one fdatasync)
 * without the lock, so that other appenders go on filling the new buffer
 * meanwhile. When its write returns it marks every record it took as written
 * and wakes the appenders waiting; the first of them whose record is still
 * buffered becomes the next writer and takes everything gathered in the
 * meantime. An append returns only once the write holding its record has
 * returned, so the record is in the file (the page cache outlives a kill -9)
 * before its caller makes the creation, as with a write of its own. One
 * writer at a time, each taking the buffer whole, keeps the file's records in
 * the order their appends were accepted: a record appended after another's
 * append returned (a directory's, say, before what is made in it) comes later
 * in the file.
 *
 * Failure. A write or fdatasync that fails fails every record it held, and
 * its error becomes the group's: nothing more is written (after a short write
 * a partial record may end the file, and nothing may follow it), and every
 * append still buffered or made later fails with it. A failed write may have
 * put some of its records in the file: each names a creation its caller,
 * told of the failure, never attempts, as after a kill between a record and
 * its creation, which undo is made for.
 *
 * Bounds. The buffer holds at most JOURNAL_GROUP_MAX bytes (or one longer
 * record): an appender whose record does not fit waits until a writer takes
 * the buffer. Two buffers are kept, the one filling and the writer's, so
 * memory stays bounded and no allocation is made once both have grown.
 */
#include "prelude.h"
#include "journal_group.h"
#include "dbuf.h"
#include "xio.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct journal_group {
	int fd;
	bool sync;
	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t progress;  /* a writer took the buffer or finished, or the group failed */
	struct dbuf pending;      /* records accepted and not yet taken by a writer */
	struct dbuf spare;        /* the writer's batch during a write; empty storage otherwise */
	uint64_t accepted;        /* records accepted: the last one's number */
	uint64_t written;         /* records 1..written are in the file (synced, with sync) */
	bool writing;             /* a writer holds spare and is writing it */
	int error;                /* the group's failure: nothing is written after it */
};

struct journal_group *journal_group_new(int fd, bool sync)
{
	struct journal_group *group = calloc(1, sizeof(*group));
	int err;

	if (!group)
		return NULL;
	group->fd = fd;
	group->sync = sync;
	dbuf_init(&group->pending);
	dbuf_init(&group->spare);
	err = pthread_mutex_init(&group->lock, NULL);
	if (err == 0) {
		err = pthread_cond_init(&group->progress, NULL);
		if (err != 0)
			pthread_mutex_destroy(&group->lock);
	}
	if (err != 0) {
		free(group);
		errno = err;
		return NULL;
	}
	return group;
}

void journal_group_free(struct journal_group *group)
{
	if (!group)
		return;
	dbuf_free(&group->pending);
	dbuf_free(&group->spare);
	pthread_cond_destroy(&group->progress);
	pthread_mutex_destroy(&group->lock);
	free(group);
}

/* Whether a record of len bytes may join the buffer now. */
static bool has_room(const struct journal_group *group, size_t len)
{
	return group->pending.len == 0 ||
	       (group->pending.len <= JOURNAL_GROUP_MAX &&
		len <= JOURNAL_GROUP_MAX - group->pending.len);
}

/*
 * Become the writer: take every buffered record and write them, the lock
 * dropped meanwhile (the caller holds it, and holds it again on return).
 */
static void write_batch(struct journal_group *group)
{
	struct dbuf batch = group->pending;
	uint64_t last = group->accepted;
	int err = 0;

	group->pending = group->spare;
	group->writing = true;
	pthread_cond_broadcast(&group->progress); /* room for appenders waiting for it */
	pthread_mutex_unlock(&group->lock);

	if (xwrite(group->fd, batch.data, batch.len) != 0 ||
	    (group->sync && fdatasync(group->fd) != 0))
		err = errno ? errno : EIO;

	pthread_mutex_lock(&group->lock);
	dbuf_clear(&batch);
	group->spare = batch;
	group->writing = false;
	if (err == 0)
		group->written = last;
	else if (!group->error)
		group->error = err;
	pthread_cond_broadcast(&group->progress);
}

int journal_group_append(struct journal_group *group, const void *record, size_t len)
{
	uint64_t mine;
	int ret = 0;

	pthread_mutex_lock(&group->lock);
	while (!group->error && !has_room(group, len))
		pthread_cond_wait(&group->progress, &group->lock);
	if (group->error) {
		errno = group->error;
		ret = -1;
		goto out;
	}
	if (dbuf_append(&group->pending, record, len) != 0) {
		ret = -1;
		goto out;
	}
	mine = ++group->accepted;
	while (group->written < mine && !group->error) {
		if (group->writing)
			pthread_cond_wait(&group->progress, &group->lock);
		else
			write_batch(group);
	}
	/* A write that held this record succeeded even if the group failed since. */
	if (group->written < mine) {
		errno = group->error;
		ret = -1;
	}
out:
	pthread_mutex_unlock(&group->lock);
	return ret;
}

void journal_group_fail(struct journal_group *group, int err)
{
	pthread_mutex_lock(&group->lock);
	if (!group->error) {
		group->error = err;
		pthread_cond_broadcast(&group->progress);
	}
	pthread_mutex_unlock(&group->lock);
}

int journal_group_error(struct journal_group *group)
{
	int err;

	pthread_mutex_lock(&group->lock);
	err = group->error;
	pthread_mutex_unlock(&group->lock);
	return err;
}
