/* SPDX-License-Identifier: 0BSD */
/**
 * The last directory opened, kept for the next path in it: a worker that
 * opens thousands of files from a few directories then resolves each path's
 * directory part once, not once per file (a walk's files arrive grouped by
 * directory, and the lookup of a long path's components costs about a third
 * of the open). One cache belongs to one thread.
 */
#ifndef PTOOLS_DIRCACHE_H
#define PTOOLS_DIRCACHE_H

#include "prelude.h"
#include "dbuf.h"

struct dircache {
	int fd;            /* O_PATH descriptor of the directory named dir, or -1 */
	struct dbuf dir;   /* its path, as the caller spelt it */
};

/** Make an empty cache; opens nothing. */
void dircache_init(struct dircache *cache);

/** Close the cached directory and free the path; the cache is empty again. NULL-safe. */
void dircache_fini(struct dircache *cache);

/**
 * A directory descriptor and a name relative to it that reach path (len
 * bytes, NUL-terminated), as openat(AT_FDCWD, path) would: the directory
 * part is opened (O_PATH, symlinks followed) unless it is the one cached,
 * which it replaces. When the path has no usable directory part (no '/', a
 * trailing '/', a root's own name) or the directory cannot be opened (it may
 * be missing, or too long for one open), AT_FDCWD and path itself come back,
 * so the caller's open reports the error as it would have. The descriptor
 * stays owned by the cache: valid until the next call or dircache_fini.
 */
int dircache_at(struct dircache *cache, const char *path, size_t len, const char **name);

#endif
