/* SPDX-License-Identifier: 0BSD */
/** The last directory opened, kept for the next path in it. */
#include "prelude.h"
#include "dircache.h"
#include "xio.h"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void dircache_init(struct dircache *cache)
{
	cache->fd = -1;
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

int dircache_at(struct dircache *cache, const char *path, size_t len, const char **name)
{
	const char *slash = memrchr(path, '/', len);
	size_t dir_len;
	int fd;

	*name = path;
	/* "/x" keeps the full path: its one component is cheap to look up. */
	if (!slash || slash == path || (size_t)(slash - path) + 1 == len)
		return AT_FDCWD;
	dir_len = (size_t)(slash - path);
	if (cache->fd >= 0 && cache->dir.len == dir_len && memcmp(cache->dir.data, path, dir_len) == 0) {
		*name = slash + 1;
		return cache->fd;
	}
	forget(cache);
	if (dbuf_append(&cache->dir, path, dir_len) != 0)
		return AT_FDCWD;
	fd = open(cache->dir.data, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		dbuf_clear(&cache->dir);
		return AT_FDCWD;
	}
	cache->fd = fd;
	*name = slash + 1;
	return fd;
}
