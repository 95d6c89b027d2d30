/* SPDX-License-Identifier: 0BSD */
/** Opening a file to read it, the one safe way (openread.h). */
#include "prelude.h"
#include "openread.h"
#include "beneath.h"
#include "longpath.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/*
 * Whether O_NOATIME is worth asking for: only a file's owner (or
 * CAP_FOWNER) may, and a process that met EPERM once will meet it for most
 * files; cleared then, which every thread may do (any value is valid).
 */
static atomic_int noatime_allowed = 1;

/* openat (or beneath_resolve) of name in parent, with O_NOATIME when allowed. */
static int open_once(int parent, const char *name, int open_flags, bool beneath)
{
	int fd;

	if (atomic_load_explicit(&noatime_allowed, memory_order_relaxed)) {
		fd = beneath ? beneath_resolve(parent, name, open_flags | O_NOATIME)
			     : openat(parent, name, open_flags | O_NOATIME);
		if (fd >= 0 || errno != EPERM)
			return fd;
		atomic_store_explicit(&noatime_allowed, 0, memory_order_relaxed);
	}
	return beneath ? beneath_resolve(parent, name, open_flags) : openat(parent, name, open_flags);
}

/* stat name in parent as the open would see it. */
static int stat_entry(int parent, const char *name, int flags, struct stat *st)
{
	int fd, ret;

	if (!(flags & OPEN_READ_BENEATH))
		return fstatat(parent, name, st,
			       (flags & OPEN_READ_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0);
	fd = beneath_resolve(parent, name,
			     O_PATH | ((flags & OPEN_READ_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -1;
	ret = fstat(fd, st);
	xclose(fd);
	return ret;
}

static int open_in(int parent, const char *name, int flags, struct stat *st, bool *have_stat)
{
	int open_flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	bool beneath = flags & OPEN_READ_BENEATH;
	int fd, err;

	if (flags & OPEN_READ_NOFOLLOW)
		open_flags |= O_NOFOLLOW;
	if (!(flags & OPEN_READ_NO_PRESTAT)) {
		if (stat_entry(parent, name, flags, st) != 0)
			return -1;
		*have_stat = true;
		if (!S_ISREG(st->st_mode))
			return OPEN_READ_NOT_REGULAR;
	}
	fd = open_once(parent, name, open_flags, beneath);
	if (fd < 0) {
		err = errno;
		/* Say what the entry is all the same: a walker's record of it
		 * carries its inode and size. */
		if (flags & OPEN_READ_NO_PRESTAT)
			*have_stat = stat_entry(parent, name, flags, st) == 0;
		/* With O_NOFOLLOW a symlink fails with ELOOP: that is a symlink
		 * to pass through, not an error. */
		if (err == ELOOP && (flags & OPEN_READ_NOFOLLOW) && *have_stat &&
		    S_ISLNK(st->st_mode))
			return OPEN_READ_NOT_REGULAR;
		errno = err;
		return -1;
	}
	if (fstat(fd, st) != 0) {
		xclose(fd);
		*have_stat = false;
		return -1;
	}
	*have_stat = true;
	/* Refused before any read: it changed since the stat, or none was made. */
	if (!S_ISREG(st->st_mode)) {
		xclose(fd);
		return OPEN_READ_NOT_REGULAR;
	}
	return fd;
}

int open_read_at(int dirfd, const char *path, int flags, struct stat *st, bool *have_stat)
{
	const char *name = path;
	bool ignored;
	int parent, fd, err;

	if (!have_stat)
		have_stat = &ignored;
	*have_stat = false;
	if (flags & OPEN_READ_BENEATH)
		return open_in(dirfd, path, flags, st, have_stat); /* long paths handled there */
	parent = longpath_parent(dirfd, path, &name);
	if (parent == -1)
		return -1;
	fd = open_in(parent, name, flags, st, have_stat);
	if (parent != dirfd) {
		err = errno;
		xclose(parent);
		errno = err;
	}
	return fd;
}

int open_regular_at(int dirfd, const char *name)
{
	struct stat st;
	int fd = open_read_at(dirfd, name, OPEN_READ_NOFOLLOW | OPEN_READ_NO_PRESTAT, &st, NULL);

	if (fd == OPEN_READ_NOT_REGULAR) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENOTREGULAR;
		return -1;
	}
	return fd;
}
