/* SPDX-License-Identifier: 0BSD */
/**
 * What each thread of a run keeps (walkers and readers alike), and the task
 * a producer hands a reader.
 */
#ifndef PCOPY_WORKER_H
#define PCOPY_WORKER_H

#include "prelude.h"
#include "dbuf.h"
#include "run.h"
#include <sys/stat.h>

/**
 * A cache of directory fds beneath one destination root (opened without
 * following links): the last few directories used. (libcommon/dircache.h is
 * another thing: one directory, opened by a plain path.)
 */
#define DEST_DIRCACHE_WAYS 4
struct dest_dircache {
	struct dbuf path[DEST_DIRCACHE_WAYS];
	int fd[DEST_DIRCACHE_WAYS];
	unsigned next;               /* the way replaced next (round robin) */
};

/** What one thread (walker or reader) keeps between entries. */
struct worker {
	struct copy *copy;
	struct dest_dircache *dirs;  /* one per destination */
	struct dbuf scratch;
	/* Records mode: the parent last made sure of, so a run of files in one
	 * directory does not re-check its ancestors. */
	struct dbuf last_parent;
	/* A walker thread copies small files itself (it is also a reader):
	 * handing a 4 KiB file to another thread costs more than copying it. */
	bool inline_small;
	/* A walker's regular files held back until its directory is done, to
	 * be read as one batch (producer.c); NULL elsewhere. */
	struct held_files *held;
};

/* Files up to this size are copied by the walker thread that found them. */
#define INLINE_MAX ((off_t)256 << 10)

struct file_batch;

/**
 * One regular file to copy, or a batch of them (batch set, srcfd -1): made
 * by the producer, owned by the reader.
 */
struct task {
	struct copy *copy;
	struct file_batch *batch;
	int srcfd;
	struct stat st;
	/* The file's first head_len bytes, when already read (preread.h):
	 * the reader goes on from there. */
	const void *head;
	size_t head_len;
	/* -p with no source descriptor (a peer's file): its extended attributes
	 * as proto.h encodes them. */
	const unsigned char *xattrs;
	size_t xattrs_len;
	size_t rel_len;
	char rel[];                  /* path relative to every destination root */
};

/** Free what a worker holds (its directory caches for ndests destinations). */
void worker_fini(struct worker *worker, size_t ndests);

#endif
