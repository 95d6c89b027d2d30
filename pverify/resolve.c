/* SPDX-License-Identifier: 0BSD */
/** Opening manifest paths beneath a root: openat2, or an O_NOFOLLOW walk. */
#include "prelude.h"
#include "resolve.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>


const char *resolve_refusal(const char *path, size_t len)
{
	size_t i = 0, start, depth = 0;

	if (len > 0 && path[0] == '/')
		return "absolute path refused under --root";
	while (i < len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (depth == 0)
				return "path climbs out of the root";
			depth--;
		} else if (i - start > 0 && !(i - start == 1 && path[start] == '.')) {
			depth++;
		}
		i++;
	}
	return NULL;
}

/* Whether the kernel knows openat2: set once to 0 on ENOSYS. A plain atomic,
 * so any thread may read and clear it; every value is a valid state. */
static atomic_int have_openat2 = 1;

static int open_beneath2(int rootfd, const char *path, int last_flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)last_flags;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

static bool is_symlink(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/*
 * The fallback: the path is normalised lexically ("." dropped, ".." taken
 * back one component; resolve_refusal already proved it never climbs above
 * the root), then opened one component at a time with O_NOFOLLOW, so that no
 * symlink anywhere is followed. Lexical ".." is then exact, since no
 * component can be a symlink.
 */
static int open_beneath_walk(int rootfd, const char *path, int last_flags)
{
	size_t len = strlen(path), n = 0, i = 0, start, k;
	size_t *comp = NULL;   /* start offsets of kept components */
	size_t *clen = NULL;
	int dirfd = rootfd, fd = -1, saved;
	char *name = NULL;

	comp = malloc((len / 2 + 2) * sizeof(*comp));
	clen = malloc((len / 2 + 2) * sizeof(*clen));
	name = malloc(len + 1);
	if (!comp || !clen || !name)
		goto fail;
	while (i < len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (n == 0) {
				errno = EXDEV;
				goto fail;
			}
			n--;
		} else if (i - start > 0 && !(i - start == 1 && path[start] == '.')) {
			comp[n] = start;
			clen[n] = i - start;
			n++;
		}
		i++;
	}
	if (n == 0) {
		/* The root itself: a directory, which the caller refuses. */
		fd = openat(rootfd, ".", last_flags);
		goto done;
	}
	for (k = 0; k < n; k++) {
		memcpy(name, path + comp[k], clen[k]);
		name[clen[k]] = '\0';
		if (k + 1 < n) {
			fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			/* O_PATH | O_NOFOLLOW on a symlink gives ENOTDIR, which would
			 * read as MISSING: say it was a symlink not followed. */
			if (fd < 0 && errno == ENOTDIR && is_symlink(dirfd, name))
				errno = ELOOP;
		} else
			fd = openat(dirfd, name, last_flags | O_NOFOLLOW);
		if (dirfd != rootfd) {
			saved = errno;
			close(dirfd);
			errno = saved;
		}
		if (fd < 0)
			goto fail;
		dirfd = fd;
	}
done:
	free(comp);
	free(clen);
	free(name);
	return fd;
fail:
	saved = errno;
	free(comp);
	free(clen);
	free(name);
	errno = saved;
	return -1;
}

void resolve_disable_openat2(void)
{
	atomic_store_explicit(&have_openat2, 0, memory_order_relaxed);
}

/*
 * A path of PATH_MAX bytes or more, symlinks followed: open its directories
 * in chunks shorter than PATH_MAX (each cut at a '/'), each relative to the
 * previous one, then the rest.
 */
static int open_long(const char *path, int last_flags)
{
	size_t len = strlen(path), cut;
	int dirfd = AT_FDCWD, fd, saved;
	char *chunk = NULL;

	while (len >= PATH_MAX) {
		for (cut = PATH_MAX - 1; cut > 0 && path[cut] != '/'; cut--)
			;
		if (cut == 0) {
			errno = ENAMETOOLONG;
			fd = -1;
			goto out;
		}
		free(chunk);
		chunk = strndup(path, cut);
		if (!chunk) {
			fd = -1;
			goto out;
		}
		fd = openat(dirfd, chunk, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			goto out;
		if (dirfd != AT_FDCWD)
			close(dirfd);
		dirfd = fd;
		path += cut + 1;
		len -= cut + 1;
	}
	fd = openat(dirfd, path, last_flags);
out:
	saved = errno;
	if (dirfd != AT_FDCWD)
		close(dirfd);
	free(chunk);
	errno = saved;
	return fd;
}

int resolve_open(int rootfd, const char *path, int last_flags)
{
	int fd;

	if (rootfd == AT_FDCWD) {
		fd = open(path, last_flags);
		if (fd < 0 && errno == ENAMETOOLONG)
			fd = open_long(path, last_flags);
		return fd;
	}
	if (atomic_load_explicit(&have_openat2, memory_order_relaxed)) {
		fd = open_beneath2(rootfd, path, last_flags);
		/* ENAMETOOLONG: past PATH_MAX, which the component walk handles. */
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != ENAMETOOLONG))
			return fd;
		/* ENOSYS: an old kernel; EPERM: a seccomp filter that refuses it. */
		if (errno != ENAMETOOLONG)
			atomic_store_explicit(&have_openat2, 0, memory_order_relaxed);
	}
	return open_beneath_walk(rootfd, path, last_flags);
}
