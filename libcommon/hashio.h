/* SPDX-License-Identifier: 0BSD */
/**
 * The read-once, hash-many engine shared by phash, pverify and pcopy: opens a
 * regular file without following it into a FIFO or device, reads it in large
 * blocks (posix_fadvise SEQUENTIAL), feeds every block to each algorithm and
 * to an optional sink (pcopy's destinations), detects a file changing under
 * it, and optionally drops its pages afterwards (--nocache). For a large file
 * and several algorithms, the algorithms run in parallel over a small ring of
 * shared read buffers (see the essay in hashio.c).
 *
 * One struct hashio belongs to one worker thread at a time.
 */
#ifndef PTOOLS_HASHIO_H
#define PTOOLS_HASHIO_H

#include "prelude.h"
#include "hash.h"
#include "progress.h"
#include <sys/stat.h>
#include <time.h>

/** The default read size: 1 MiB. */
#define HASHIO_BLOCK_DEFAULT ((size_t)1 << 20)

struct hashio_config {
	const struct hash_algo *const *algos; /* copied; count >= 0 */
	size_t count;
	size_t block_size;    /* read size; 0 = default (1 MiB) */
	bool nocache;         /* drop the file's pages once read */
	bool serial;          /* never start helper threads (all algorithms in the caller's thread) */
	struct progress *progress; /* if set, every block read is added to lane progress_lane */
	size_t progress_lane;
};

/** The outcome for one file; carries its own error (never rely on errno across threads). */
struct hashio_result {
	int error;            /* 0, or the errno that stopped the read */
	bool changed;         /* size or mtime differed between start and end */
	bool not_regular;     /* the path is not a regular file: nothing was read */
	/* From fstat of the opened file, or the stat of a non-regular one; after
	 * an error, from whatever stat came before it, or (HASHIO_KNOWN_REGULAR)
	 * from the stat made once the open failed (all 0 when none worked). */
	uint64_t ino, size;
	struct timespec mtime;
	mode_t mode;
	char hex[HASH_SET_MAX][HASH_HEX_MAX + 1]; /* one per algorithm, in config order */
};

/**
 * Called with each block after it is read, in file order. Return 0 to go on,
 * or an errno value to stop the file (reported in result->error).
 */
typedef int hashio_sink_fn(void *arg, const void *data, size_t len, uint64_t offset);

struct hashio;

/** Make an engine. Returns NULL with errno on failure. */
struct hashio *hashio_new(const struct hashio_config *config);

/** Free an engine (and stop its helper threads); NULL-safe. */
void hashio_free(struct hashio *engine);

/**
 * Hash the file at path relative to dirfd (AT_FDCWD for plain paths), opened
 * the one safe way (openread.h) with flags (enum open_read_flags). A path
 * that is not a regular file sets result->not_regular (with ino, size, mode
 * and mtime from its stat) and is never opened for reading (so a FIFO cannot
 * hang us, nor a tape rewind). Paths longer than PATH_MAX work. Returns 0
 * when the digests are in result, or -1 when result->error (or not_regular)
 * says why not.
 */
int hashio_file_at(struct hashio *engine, int dirfd, const char *path, int flags,
		   struct hashio_result *result);

/**
 * Hash an already open regular file from its start (with pread: the file
 * offset is left alone), passing every block to sink (may be NULL). st is the
 * caller's fstat of fd, or NULL. When the caller has already read the first
 * head_len bytes of the file into head (preread.h), they are hashed and
 * passed to sink as if read here, and reading goes on from head_len
 * (serially: a head is for small files); head_len 0 reads it all. Returns 0
 * or -1 as hashio_file_at.
 */
int hashio_fd(struct hashio *engine, int fd, const struct stat *st, const void *head,
	      size_t head_len, hashio_sink_fn *sink, void *sink_arg, struct hashio_result *result);

#endif
