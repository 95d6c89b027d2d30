/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --mhl: the entries of a generation (files with their digest strings,
 * directories), kept in large blocks as they are added and sorted by path
 * at the end through a small index (mhlfiles.c).
 *
 * Memory: one entry per file or directory, as compact as its path and
 * digests; no allocation per entry.
 */
#ifndef PCOPY_MHLFILES_H
#define PCOPY_MHLFILES_H
#include "prelude.h"
#include "mhl2.h"
#include <time.h>

struct mhlfiles;

/** One entry, as mhlfiles_get gives it: everything points into the list. */
struct mhlfile {
	const char *path;         /* relative, NUL-terminated, len bytes */
	size_t len;
	bool dir;
	uint64_t size;
	struct timespec mtime;
	const char *digests[MHL2_FORMATS]; /* files: one string per format of the list */
};

/**
 * An empty list whose files carry nformats digest strings, those of
 * formats (in that order). Returns NULL with errno. Free with mhlfiles_free.
 */
struct mhlfiles *mhlfiles_new(const enum mhl2_format *formats, size_t nformats);

/** Free the list and everything mhlfiles_get gave; NULL-safe. */
void mhlfiles_free(struct mhlfiles *files);

/**
 * Add a file: path (len bytes), size, mtime and digests, one string per
 * format of the list (copied). Not thread-safe: the caller serialises
 * additions. Returns 0, or -1 with errno (ENOMEM).
 */
int mhlfiles_add(struct mhlfiles *files, const char *path, size_t len, uint64_t size,
		 const struct timespec *mtime, const char (*digests)[MHL2_DIGEST_MAX + 1]);

/** Add a directory (path len bytes). As mhlfiles_add. */
int mhlfiles_add_dir(struct mhlfiles *files, const char *path, size_t len);

/** Whether an entry (path, len bytes) is to be kept by mhlfiles_sort. */
typedef bool mhlfiles_keep_fn(void *arg, const char *path, size_t len, bool dir);

/**
 * Index the entries keep (NULL: all) accepts, in the order of
 * mhl2_path_cmp on their paths (each directory's subtree right after it);
 * those it refuses are gone from the list. Entries added later are not
 * indexed until the next call. threads: how many threads besides the
 * caller's may sort (psort.h).
 * Returns 0, or -1 with errno (ENOMEM).
 */
int mhlfiles_sort(struct mhlfiles *files, mhlfiles_keep_fn *keep, void *arg, unsigned threads);

/** How many entries the last mhlfiles_sort indexed. */
size_t mhlfiles_count(const struct mhlfiles *files);

/** The i-th entry in sorted order (i below mhlfiles_count). */
void mhlfiles_get(const struct mhlfiles *files, size_t i, struct mhlfile *out);

/** The i-th entry's path (as mhlfiles_get's), for merging lists. */
const char *mhlfiles_path(const struct mhlfiles *files, size_t i);
#endif
