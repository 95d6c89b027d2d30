/* SPDX-License-Identifier: 0BSD */
/**
 * --reuse OLDLIST: the digests of an earlier run, by path, so that a file
 * whose inode, size and mtime (to the nanosecond) are unchanged keeps its old
 * digests without being read.
 */
#ifndef PHASH_REUSE_H
#define PHASH_REUSE_H

#include "prelude.h"
#include "hash.h"
#include <sys/stat.h>

struct reuse;

/**
 * Load the records of path ("-" for standard input) that carry an mtime and
 * every one of the count algorithms. Malformed lines are reported as
 * `phash: FILE:LINE: why` (exit status 2) and skipped, as in any input.
 * Returns NULL with errno when the file cannot be read or memory runs out.
 */
struct reuse *reuse_load(const char *path, const struct hash_algo *const *algos, size_t count);

/** Free the table; NULL-safe. */
void reuse_free(struct reuse *reuse);

/**
 * The old digests (hex, in algorithm order, count of them) of path if st
 * matches its old record in inode, size and mtime; NULL otherwise. The
 * strings belong to the table. Thread-safe (the table is read-only once
 * loaded).
 */
const char *const *reuse_find(const struct reuse *reuse, const char *path, size_t len,
			      const struct stat *st);

#endif
