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
	int root;          /* where dir was resolved: AT_FDCWD, or a root fd it is beneath */
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

/**
 * dircache_at for a path that must stay beneath rootfd (pverify -C): the
 * directory part is opened with beneath_resolve (beneath.h: O_PATH, ".."
 * and symlinks only while they stay beneath the root) unless it is the one
 * cached from rootfd. The caller then opens *name beneath the descriptor
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
