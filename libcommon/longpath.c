/* SPDX-License-Identifier: 0BSD */
/** Reaching a path of PATH_MAX bytes or more through its directories. */
#include "prelude.h"
#include "longpath.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int longpath_parent(int dirfd, const char *path, const char **rest)
{
	const char *last, *p = path;
	int fd = dirfd;

	if (strlen(path) < PATH_MAX) {
		*rest = path;
		return dirfd;
	}
	last = strrchr(path, '/');
	if (!last || last == path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	while (p < last) {
		size_t len = (size_t)(last - p);
		char *piece;
		int next;

		if (len >= PATH_MAX) {
			const char *cut = memrchr(p, '/', PATH_MAX - 1);

			if (!cut || cut == p) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			len = (size_t)(cut - p);
		}
		piece = strndup(p, len);
		if (!piece)
			goto fail;
		next = openat(fd, piece, O_PATH | O_DIRECTORY | O_CLOEXEC);
		free(piece);
		if (next < 0)
			goto fail;
		if (fd != dirfd)
			close(fd);
		fd = next;
		p += len;
		while (*p == '/' && p < last)
			p++;
	}
	*rest = last + 1;
	return fd;
fail:
	if (fd != dirfd)
		xclose(fd);
	return -1;
}
