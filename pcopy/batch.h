/* SPDX-License-Identifier: 0BSD */
/** A batch of regular files to copy together (pcopy/batch.c). */
#ifndef PCOPY_BATCH_H
#define PCOPY_BATCH_H

#include "prelude.h"
#include "dbuf.h"
#include "preread.h"
#include <sys/types.h>

/**
 * Regular files named relative to one directory, copied together so that
 * the cold small ones are read with one system call (preread.h); one at a
 * time, a thread sleeps once per cold file. Two producers fill them: a
 * walker with a directory's files (dirfd borrowed: the walker's, pinned
 * until walk's dir_done), and records mode with small files of one device
 * for the readers (dirfd its own duplicate of base).
 */
struct file_batch {
	int dirfd;                   /* the directory the names are in */
	bool own_dirfd;              /* closed by batch_free */
	int base;                    /* records: the producer's descriptor dirfd duplicates */
	dev_t dev;                   /* records: the device of every file */
	bool handed;                 /* a walker's, handed to the readers (run.h's handed) */
	size_t n;
	size_t name_off[PREREAD_FILES], rel_off[PREREAD_FILES], rel_len[PREREAD_FILES];
	struct dbuf text;            /* the names and relative paths, NUL-terminated */
};

/**
 * Add a file (batch->n below PREREAD_FILES): name opens it in dirfd (NULL:
 * rel itself does), rel (len bytes) is its path in every destination.
 * Returns 0, or -1 with errno ENOMEM.
 */
int batch_push(struct file_batch *batch, const char *name, const char *rel, size_t len);

/** Free a heap-made batch (NULL-safe). */
void batch_free(struct file_batch *batch);

#endif
