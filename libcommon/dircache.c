/* SPDX-License-Identifier: 0BSD */
/** The last few directories opened, kept for the next paths in them. */
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
	for (size_t i = 0; i < DIRCACHE_WAYS; i++) {
		cache->ways[i].fd = -1;
		cache->ways[i].root = AT_FDCWD;
		dbuf_init(&cache->ways[i].dir);
	}
	cache->nways = 1;
}

void dircache_keep(struct dircache *cache, size_t ways)
{
	cache->nways = ways < 1 ? 1 : ways > DIRCACHE_WAYS ? DIRCACHE_WAYS : ways;
}

/* Forget a cached directory (its path storage is kept for reuse). */
static void forget(struct dircache_way *way)
{
	if (way->fd >= 0)
		xclose(way->fd);
	way->fd = -1;
	dbuf_clear(&way->dir);
}

void dircache_fini(struct dircache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < DIRCACHE_WAYS; i++) {
		forget(&cache->ways[i]);
		dbuf_free(&cache->ways[i].dir);
	}
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

/* Make way i the first, the ones before it each moved down one. */
static void to_front(struct dircache *cache, size_t i)
{
	struct dircache_way way = cache->ways[i];

	memmove(&cache->ways[1], &cache->ways[0], i * sizeof(cache->ways[0]));
	cache->ways[0] = way;
}

/* Whether the cache holds the directory path[0, dir_len) resolved from
 * root: then it is made the first, and its descriptor comes back; else -1. */
static int holds(struct dircache *cache, int root, const char *path, size_t dir_len)
{
	for (size_t i = 0; i < cache->nways; i++) {
		const struct dircache_way *way = &cache->ways[i];

		if (way->fd >= 0 && way->root == root && way->dir.len == dir_len &&
		    memcmp(way->dir.data, path, dir_len) == 0) {
			if (i > 0)
				to_front(cache, i);
			return cache->ways[0].fd;
		}
	}
	return -1;
}

/*
 * Make path[0, dir_len), resolved from root, the first cached directory,
 * in the place of the least recently used. Returns its descriptor, or -1
 * (that place left empty) when it cannot be opened.
 */
static int remember(struct dircache *cache, int root, const char *path, size_t dir_len)
{
	struct dircache_way *way;
	int fd;

	to_front(cache, cache->nways - 1);
	way = &cache->ways[0];
	forget(way);
	if (dbuf_append(&way->dir, path, dir_len) != 0)
		return -1;
	if (root == AT_FDCWD)
		fd = open(way->dir.data, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		fd = beneath_resolve(root, way->dir.data, O_PATH | O_DIRECTORY);
	if (fd < 0) {
		dbuf_clear(&way->dir);
		return -1;
	}
	way->fd = fd;
	way->root = root;
	return fd;
}

int dircache_at(struct dircache *cache, const char *path, size_t len, const char **name)
{
	const char *slash = last_slash(path, len);
	size_t dir_len;
	int fd;

	*name = path;
	if (!slash)
		return AT_FDCWD;
	dir_len = (size_t)(slash - path);
	fd = holds(cache, AT_FDCWD, path, dir_len);
	if (fd < 0 && (fd = remember(cache, AT_FDCWD, path, dir_len)) < 0)
		return AT_FDCWD;
	*name = slash + 1;
	return fd;
}

int dircache_at_beneath(struct dircache *cache, int rootfd, const char *path, size_t len,
			const char **name)
{
	const char *slash = last_slash(path, len);
	size_t dir_len, name_len;
	int fd;

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
	fd = holds(cache, rootfd, path, dir_len);
	if (fd < 0 && (fd = remember(cache, rootfd, path, dir_len)) < 0)
		return rootfd;
	*name = slash + 1;
	return fd;
}
