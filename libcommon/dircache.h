/* SPDX-License-Identifier: 0BSD */
/**
 * The last few directories opened, kept for the next paths in them: a
 * worker that opens thousands of files from a few directories then resolves
 * each path's directory part once, not once per file (the lookup of a long
 * path's components costs about a third of the open). A walk's files
 * arrive grouped by directory, but a list that parallel workers wrote as
 * they finished (pcopy's seal, its bag's manifests) interleaves two or three
 * directories line by line: one directory kept would be opened again for
 * two files in three. One cache belongs to one thread.
 */
#ifndef PTOOLS_DIRCACHE_H
#define PTOOLS_DIRCACHE_H

#include "prelude.h"
#include "dbuf.h"

/** How many directories a cache keeps. */
#define DIRCACHE_WAYS 4

struct dircache_way {
	int fd;            /* O_PATH descriptor of the directory named dir, or -1 */
	int root;          /* where dir was resolved: AT_FDCWD, or a root fd it is beneath */
	struct dbuf dir;   /* its path, as the caller spelt it */
};

struct dircache {
	struct dircache_way ways[DIRCACHE_WAYS]; /* the most recently used first */
	size_t nways;      /* how many it may use (dircache_keep), 1 to DIRCACHE_WAYS */
};

/** Make an empty cache that keeps one directory; opens nothing. */
void dircache_init(struct dircache *cache);

/**
 * Let the cache keep up to ways directories (1 to DIRCACHE_WAYS; outside
 * that, the nearest), each an open descriptor: a caller with many workers
 * and a small limit of open files keeps fewer. Call it while the cache is
 * empty, after dircache_init.
 */
void dircache_keep(struct dircache *cache, size_t ways);

/** Close the cached directories and free their paths; the cache is empty again. NULL-safe. */
void dircache_fini(struct dircache *cache);

/**
 * A directory descriptor and a name relative to it that reach path (len
 * bytes, NUL-terminated), as openat(AT_FDCWD, path) would: the directory
 * part is opened (O_PATH, symlinks followed) unless it is cached, in place
 * of the least recently used one. When the path has no usable directory part (no '/', a
 * trailing '/', a root's own name) or the directory cannot be opened (it may
 * be missing, or too long for one open), AT_FDCWD and path itself come back,
 * so the caller's open reports the error as it would have. The descriptor
 * stays owned by the cache: valid until the next call or dircache_fini.
 */
int dircache_at(struct dircache *cache, const char *path, size_t len, const char **name);

/**
 * dircache_at for a path that must stay beneath rootfd (pverify -C): the
 * directory part is opened with beneath_resolve (beneath.h: O_PATH, ".."
 * and symlinks only while they stay beneath the root) unless it is cached
 * from rootfd. The caller then opens *name beneath the descriptor
 * that comes back (beneath_resolve, or open_read_at's OPEN_READ_BENEATH),
 * so the last component cannot leave that directory either. When the path
 * has no usable directory part (no '/', a trailing '/', a last component
 * "." or "..", a path of PATH_MAX bytes or more, which beneath_resolve
 * takes another way) or the directory cannot be resolved beneath the root
 * (missing, or a symlink leading out), rootfd and path itself come back, so
 * the caller's open refuses or reports it as it would have. An open of
 * *name that fails with EXDEV is to be asked again from rootfd with the
 * whole path: a symlink that climbs out of its directory ("../x") may still
 * stay beneath the root, and the answer is then the one the whole path
 * resolved from the root gives. rootfd stays open while the cache holds a
 * directory from it; the descriptor returned is owned as dircache_at's.
 *
 * Why a cached directory is as safe as resolving every path from the root:
 * the directory was itself resolved beneath the root, by the same rules, and
 * a path is matched to it only by the spelling that was resolved. What the
 * rules defend against is a hostile manifest, whose paths (and the symlinks
 * they meet in the tree) must not lead outside; a directory renamed out of
 * the root while it is cached needs someone writing to the tree during the
 * check, which is outside that threat model (beneath_resolve's own
 * component walk holds directory descriptors the same way).
 */
int dircache_at_beneath(struct dircache *cache, int rootfd, const char *path, size_t len,
			const char **name);

#endif
