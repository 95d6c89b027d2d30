/* SPDX-License-Identifier: 0BSD */
/** The last directory opened, kept for the next path in it. */
#include "prelude.h"
#include "dircache.h"
#include "beneath.h"
#include "xio.h"
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

void dircache_init(struct dircache *cache)
{
	cache->fd = -1;
	cache->root = AT_FDCWD;
	dbuf_init(&cache->dir);
}

/* Forget the cached directory (its path storage is kept for reuse). */
static void forget(struct dircache *cache)
{
	if (cache->fd >= 0)
		xclose(cache->fd);
	cache->fd = -1;
	dbuf_clear(&cache->dir);
}

void dircache_fini(struct dircache *cache)
{
	if (!cache)
		return;
	forget(cache);
	dbuf_free(&cache->dir);
}

/*
 * The slash before path's last component, or NULL when the path has no
 * directory part worth caching: no '/', a trailing '/', or "/x" (its one
 * component is cheap to look up).
 */
static const char *last_slash(const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len);

	if (!slash || slash == path || (size_t)(slash - path) + 1 == len)
		return NULL;
	return slash;
}

/* Whether the cache holds the directory path[0, dir_len) resolved from root. */
static bool holds(const struct dircache *cache, int root, const char *path, size_t dir_len)
{
	return cache->fd >= 0 && cache->root == root && cache->dir.len == dir_len &&
	       memcmp(cache->dir.data, path, dir_len) == 0;
}

/*
 * Make path[0, dir_len), resolved from root, the cached directory. Returns
 * its descriptor, or -1 (the cache left empty) when it cannot be opened.
 */
static int remember(struct dircache *cache, int root, const char *path, size_t dir_len)
{
	int fd;

	forget(cache);
	if (dbuf_append(&cache->dir, path, dir_len) != 0)
		return -1;
	if (root == AT_FDCWD)
		fd = open(cache->dir.data, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		fd = beneath_resolve(root, cache->dir.data, O_PATH | O_DIRECTORY);
	if (fd < 0) {
		dbuf_clear(&cache->dir);
		return -1;
	}
	cache->fd = fd;
	cache->root = root;
	return fd;
}

int dircache_at(struct dircache *cache, const char *path, size_t len, const char **name)
{
	const char *slash = last_slash(path, len);
	size_t dir_len;

	*name = path;
	if (!slash)
		return AT_FDCWD;
	dir_len = (size_t)(slash - path);
	if (!holds(cache, AT_FDCWD, path, dir_len) && remember(cache, AT_FDCWD, path, dir_len) < 0)
		return AT_FDCWD;
	*name = slash + 1;
	return cache->fd;
}

int dircache_at_beneath(struct dircache *cache, int rootfd, const char *path, size_t len,
			const char **name)
{
	const char *slash = last_slash(path, len);
	size_t dir_len, name_len;

	*name = path;
	/* beneath_resolve follows symlinks beneath the root only for paths
	 * openat2 takes whole (under PATH_MAX); a longer one split here could
	 * have its directory part take the other way and not refuse the same. */
	if (!slash || len >= PATH_MAX)
		return rootfd;
	dir_len = (size_t)(slash - path);
	name_len = len - dir_len - 1;
	/* "." or ".." would resolve against the directory, not within it. */
	if (slash[1] == '.' && (name_len == 1 || (name_len == 2 && slash[2] == '.')))
		return rootfd;
	if (!holds(cache, rootfd, path, dir_len) && remember(cache, rootfd, path, dir_len) < 0)
		return rootfd;
	*name = slash + 1;
	return cache->fd;
}
