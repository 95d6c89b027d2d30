/* SPDX-License-Identifier: 0BSD */
/** Opening paths beneath a root fd, without following symlinks out of it. */
#include "prelude.h"
#include "beneath.h"
#include "dbuf.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
/*
 * Whether openat2 is worth trying; cleared (racily but harmlessly: every
 * thread reaches the same answer) after the first ENOSYS.
 */
static volatile int openat2_usable = 1;

/* openat2 with RESOLVE_BENEATH and resolve's other flags, or -2 when not usable. */
static int try_openat2_how(int rootfd, const char *path, int flags, mode_t mode,
			   uint64_t resolve)
{
	struct open_how how;
	int fd;

	if (!openat2_usable)
		return -2;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | resolve;
	do {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	} while (fd < 0 && errno == EINTR);
	if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
		return -1; /* the file's, not the call's: the caller asks again without */
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* EPERM: a seccomp filter that blocks unknown calls. */
		openat2_usable = 0;
		return -2;
	}
	if (fd < 0 && errno == EAGAIN)
		return -2; /* a racing rename: let the component walk decide */
	return fd;
}

/* openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or -2 when not usable. */
static int try_openat2(int rootfd, const char *path, int flags, mode_t mode)
{
	return try_openat2_how(rootfd, path, flags, mode,
			       RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}
#endif

void beneath_disable_openat2(void)
{
#ifdef SYS_openat2
	openat2_usable = 0;
#endif
}

/* Whether path holds a ".." component (the caller refuses it). */
static bool has_dotdot(const char *path, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.')
			return true;
		i++;
	}
	return false;
}

/*
 * Walk the components of path (len bytes) from rootfd, opening each directory
 * with O_DIRECTORY|O_NOFOLLOW. Returns a new fd of the last directory (a dup of
 * the root for an empty path).
 */
static int walk_components(int rootfd, const char *path, size_t len, int flags)
{
	char name[NAME_MAX + 1];
	int dirfd, nextfd;
	size_t i = 0;

	dirfd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	if (dirfd < 0)
		return -1;
	while (i < len) {
		size_t start, n;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if (n == 0 || (n == 1 && path[start] == '.'))
			continue;
		if (n > NAME_MAX) {
			xclose(dirfd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, path + start, n);
		name[n] = '\0';
		do {
			nextfd = openat(dirfd, name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | flags);
		} while (nextfd < 0 && errno == EINTR);
		/* A symlink on the way says ELOOP, whatever open(2) made of it
		 * (ENOTDIR with O_DIRECTORY), so callers can tell it from a file. */
		if (nextfd < 0 && errno == ENOTDIR) {
			struct stat st;
			if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				errno = ELOOP;
			else
				errno = ENOTDIR;
		}
		xclose(dirfd);
		if (nextfd < 0)
			return -1;
		dirfd = nextfd;
	}
	return dirfd;
}

int beneath_open_dir(int rootfd, const char *path, size_t len, int flags)
{
	if ((len > 0 && path[0] == '/') || has_dotdot(path, len)) {
		errno = EXDEV;
		return -1;
	}
	flags &= ~(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC);
#ifdef SYS_openat2
	if (len > 0 && len < PATH_MAX && memchr(path, '\0', len) == NULL) {
		char buf[PATH_MAX];
		int fd;

		memcpy(buf, path, len);
		buf[len] = '\0';
		fd = try_openat2(rootfd, buf,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | flags, 0);
		if (fd != -2)
			return fd;
	}
#endif
	return walk_components(rootfd, path, len, flags);
}

void beneath_split(const char *path, size_t len, size_t *dir_len,
		   const char **name, size_t *name_len)
{
	size_t end = len, start;

	while (end > 0 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*name = path + start;
	*name_len = end - start;
	if ((*name_len == 1 && path[start] == '.'))
		*name_len = 0;
	*dir_len = start;
}

int beneath_last_name(const char *path, size_t len, size_t *dir_len, char *name)
{
	const char *base;
	size_t name_len;

	beneath_split(path, len, dir_len, &base, &name_len);
	if (name_len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (name_len > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(name, base, name_len);
	name[name_len] = '\0';
	return 0;
}

int beneath_open(int rootfd, const char *path, int flags, mode_t mode)
{
	size_t len = strlen(path), dir_len;
	char name[NAME_MAX + 1];
	int dirfd, fd, saved;

	if ((len > 0 && path[0] == '/') || has_dotdot(path, len)) {
		errno = EXDEV;
		return -1;
	}
	flags |= O_NOFOLLOW | O_CLOEXEC;
#ifdef SYS_openat2
	if (len > 0 && len < PATH_MAX) {
		fd = try_openat2(rootfd, path, flags, mode);
		if (fd != -2)
			return fd;
	}
#endif
	if (beneath_last_name(path, len, &dir_len, name) != 0) {
		if (errno == EINVAL)
			errno = EISDIR; /* the root itself, or a path ending in "." */
		return -1;
	}
	dirfd = beneath_open_dir(rootfd, path, dir_len, 0);
	if (dirfd < 0)
		return -1;
	do {
		fd = openat(dirfd, name, flags, mode);
	} while (fd < 0 && errno == EINTR);
	saved = errno;
	close(dirfd);
	errno = saved;
	return fd;
}

int beneath_normalize(struct dbuf *out, const char *path, size_t len, bool dotdot)
{
	size_t i = 0;

	dbuf_clear(out);
	if (len > 0 && path[0] == '/' && dbuf_putc(out, '/') != 0)
		return -1;
	while (i < len) {
		size_t start;
		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i == start || (i - start == 1 && path[start] == '.'))
			continue;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
			size_t floor = out->len > 0 && out->data[0] == '/' ? 1 : 0;
			if (!dotdot || out->len == floor) {
				errno = EXDEV;
				return -1;
			}
			while (out->len > floor && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > floor)
				out->len--; /* the slash before the component taken back */
			out->data[out->len] = '\0';
			continue;
		}
		if (out->len > 0 && out->data[out->len - 1] != '/' && dbuf_putc(out, '/') != 0)
			return -1;
		if (dbuf_append(out, path + start, i - start) != 0)
			return -1;
	}
	return 0;
}

int beneath_resolve(int rootfd, const char *path, int flags)
{
	size_t len = strlen(path);
	struct dbuf norm;
	int fd, saved;

	if (len > 0 && path[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	flags |= O_CLOEXEC;
#ifdef SYS_openat2
	if (len > 0 && len < PATH_MAX) {
		fd = try_openat2_how(rootfd, path, flags, 0, RESOLVE_NO_MAGICLINKS);
		if (fd != -2)
			return fd;
	}
#endif
	dbuf_init(&norm);
	if (beneath_normalize(&norm, path, len, true) != 0) {
		dbuf_free(&norm);
		return -1;
	}
	if (norm.len == 0)
		fd = openat(rootfd, ".", flags); /* the root itself */
	else
		fd = beneath_open(rootfd, norm.data, flags, 0);
	saved = errno;
	dbuf_free(&norm);
	errno = saved;
	return fd;
}
