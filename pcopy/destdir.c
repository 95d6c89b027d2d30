/* SPDX-License-Identifier: 0BSD */
/**
 * Paths beneath each destination root: directories opened through a small
 * per-thread cache and made with mkdirat, never following a symlink;
 * temporaries' names, or unnamed (O_TMPFILE) files where the destination
 * allows; installing a finished copy under its final name (journaled
 * first); symlinks and special files.
 */
#include "prelude.h"
#include "destdir.h"
#include "beneath.h"
#include "diag.h"
#include "journal.h"
#include "journal_finish.h"
#include "proto.h"
#include "rdest.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/*
 * The fd of directory dir (dir_len bytes, relative) in dest, opened beneath
 * the root without following links and cached in the worker. Returns -1 with
 * errno.
 */
int dest_dircache_get(struct worker *worker, struct dest *dest, const char *dir,
		 size_t dir_len)
{
	struct dest_dircache *cache = &worker->dirs[dest->index];
	unsigned way;

	for (way = 0; way < DEST_DIRCACHE_WAYS; way++) {
		if (cache->fd[way] >= 0 && cache->path[way].len == dir_len &&
		    (dir_len == 0 || memcmp(cache->path[way].data, dir, dir_len) == 0))
			return cache->fd[way];
	}
	way = cache->next++ % DEST_DIRCACHE_WAYS;
	if (cache->fd[way] >= 0)
		close(cache->fd[way]);
	cache->fd[way] = -1;
	dbuf_clear(&cache->path[way]);
	if (dbuf_append(&cache->path[way], dir, dir_len) != 0)
		return -1;
	cache->fd[way] = beneath_open_dir(dest->rootfd, dir, dir_len, 0);
	return cache->fd[way];
}

/*
 * The open parent directory of rel in dest, its length in rel (*dir_len) and
 * rel's last component (into name, NAME_MAX + 1 bytes); or -1 once dest is
 * failed (or had failed already).
 */
int dest_parent(struct worker *worker, struct dest *dest, const char *rel, size_t len,
		size_t *dir_len, char *name)
{
	int dirfd;

	if (!dest_ok(dest))
		return -1;
	if (beneath_last_name(rel, len, dir_len, name) != 0) {
		dest_fail(dest, rel, len, errno, NULL);
		return -1;
	}
	dirfd = dest_dircache_get(worker, dest, rel, *dir_len);
	if (dirfd < 0)
		dest_fail(dest, rel, len, errno, "parent directory");
	return dirfd;
}

/* Copy every extended attribute (POSIX ACLs included) from one fd to another. */
int dest_each_xattr(int srcfd, dest_xattr_fn *fn, void *arg)
{
	char *names = NULL, *value = NULL;
	ssize_t list_len, value_len;
	size_t value_cap = 0;
	int ret = -1;

	list_len = flistxattr(srcfd, NULL, 0);
	if (list_len <= 0)
		return (list_len < 0 && errno != ENOTSUP) ? -1 : 0;
	names = malloc((size_t)list_len);
	if (!names)
		return -1;
	list_len = flistxattr(srcfd, names, (size_t)list_len);
	if (list_len < 0)
		goto out;
	for (char *name = names; name < names + list_len; name += strlen(name) + 1) {
		value_len = fgetxattr(srcfd, name, NULL, 0);
		if (value_len < 0)
			goto out;
		if ((size_t)value_len + 1 > value_cap) {
			char *grown = realloc(value, (size_t)value_len + 1);
			if (!grown)
				goto out;
			value = grown;
			value_cap = (size_t)value_len + 1;
		}
		value_len = fgetxattr(srcfd, name, value, value_cap);
		if (value_len < 0 || fn(arg, name, value, (size_t)value_len) != 0)
			goto out;
	}
	ret = 0;
out:
	free(names);
	free(value);
	return ret;
}

/* dest_each_xattr's fn for a copy: set it on *arg's descriptor. */
static int set_xattr(void *arg, const char *name, const void *value, size_t len)
{
	if (fsetxattr(*(int *)arg, name, value, len, 0) != 0) {
		/* Where the destination cannot hold it, -p does what it can. */
		if (errno == ENOTSUP || errno == EPERM)
			return 0;
		return -1;
	}
	return 0;
}

int dest_copy_xattrs(int srcfd, int dstfd)
{
	return dest_each_xattr(srcfd, set_xattr, &dstfd);
}

int dest_set_xattrs(const unsigned char *xattrs, size_t len, int dstfd)
{
	char name[XATTR_NAME_MAX + 1];
	const unsigned char *value;
	size_t pos = 0, value_len;
	int ret;

	while ((ret = proto_xattr_next(xattrs, len, &pos, name, &value, &value_len)) == 1)
		if (set_xattr(&dstfd, name, value, value_len) != 0)
			return -1;
	if (ret < 0)
		errno = EPROTO;
	return ret;
}

/* The mode bits kept: set-id bits only together with the owner (-p). */
mode_t dest_kept_mode(const struct copy *copy, mode_t mode)
{
	return mode & (copy->opt.preserve ? 07777 : 01777);
}

/*
 * Make directory rel in dest (its parent exists), or accept the directory
 * already there. Never follows a symlink: a link (or anything but a
 * directory) in its place fails the destination. srcfd (or -1) supplies the
 * xattrs with -p.
 */
void dest_make_dir(struct worker *worker, struct dest *dest, const char *rel,
		   size_t len, const struct stat *st, int srcfd)
{
	struct copy *copy = worker->copy;
	char name[NAME_MAX + 1];
	struct stat old;
	size_t dir_len;
	int dirfd, fd;

	if (dest->rdest) {
		rdest_dir(copy, dest, rel, len, st, srcfd);
		return;
	}
	dirfd = dest_parent(worker, dest, rel, len, &dir_len, name);
	if (dirfd < 0)
		return;
	if (fstatat(dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(old.st_mode)) {
			dest_fail(dest, rel, len, S_ISLNK(old.st_mode) ? ELOOP : ENOTDIR,
				  S_ISLNK(old.st_mode) ? "a symlink where the source has a directory "
							 "(never followed in a destination)"
						       : "exists and is not a directory");
			return;
		}
		if (journal_old_dir(dest->journal, rel, len, &old.st_mtim,
				    dest_kept_mode(copy, st->st_mode), &st->st_mtim) != 0)
			dest_fail(dest, rel, len, errno, "journal");
		return;
	}
	if (errno != ENOENT) {
		dest_fail(dest, rel, len, errno, NULL);
		return;
	}
	if (journal_dir(dest->journal, rel, len, dest_kept_mode(copy, st->st_mode), &st->st_mtim) != 0) {
		dest_fail(dest, rel, len, errno, "journal");
		return;
	}
	/* Private until completion applies the real mode. */
	if (mkdirat(dirfd, name, 0700) != 0) {
		dest_fail(dest, rel, len, errno, NULL);
		return;
	}
	if (!copy->opt.preserve)
		return;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, st->st_uid, st->st_gid) != 0 ||
	    (srcfd >= 0 && dest_copy_xattrs(srcfd, fd) != 0))
		dest_fail(dest, rel, len, errno, "preserving owner/xattrs");
	if (fd >= 0)
		close(fd);
}

/* A fresh temporary name, unique to this run. */
void dest_temp_name(struct copy *copy, char *buf, size_t size, const char *suffix)
{
	uint64_t seq = atomic_fetch_add(&copy->temp_seq, 1);

	snprintf(buf, size, ".pcopy.%016" PRIx64 ".%" PRIu64 "%s", copy->run_id, seq, suffix);
}

/* Append the directory part of rel and a name into buf (for journal records). */
int dest_sibling_path(struct dbuf *buf, const char *rel, size_t dir_len, const char *name)
{
	dbuf_clear(buf);
	if (dbuf_append(buf, rel, dir_len) != 0 || dbuf_puts(buf, name) != 0)
		return -1;
	return 0;
}

/*
 * Put the temporary temp (in dirfd, holding inode ino) in place as name,
 * journaling first. exists: the name was taken when checked (--force or
 * --update): the old file is linked to a backup first, then replaced
 * atomically; otherwise the rename refuses to replace anything. Returns 0 or
 * -1 with errno (*what says which step).
 */
int dest_install(struct worker *worker, struct dest *dest, int dirfd, const char *rel,
	    size_t len, const char *name, const char *temp, uint64_t ino, bool exists,
	    const char **what)
{
	char backup[64];

	if (dest->single_name) {
		/* A single file's root holds it, its seal and signature as they are named. */
		rel = name;
		len = strlen(name);
	}
	if (exists) {
		/* The backup sits next to the file: same filesystem, one rename back. */
		dest_temp_name(worker->copy, backup, sizeof(backup), ".bak");
		*what = "journal";
		if (journal_backup(dest->journal, rel, len, backup, strlen(backup)) != 0)
			return -1;
		*what = "keeping the old file";
		if (linkat(dirfd, name, dirfd, backup, 0) != 0) {
			if (errno != ENOENT)
				return -1;
			exists = false; /* it went away meanwhile */
		}
	}
	*what = "journal";
	if (journal_final(dest->journal, rel, len, ino) != 0)
		return -1;
	*what = NULL;
	if (exists)
		return renameat(dirfd, temp, dirfd, name);
	if (renameat2(dirfd, temp, dirfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		*what = WHY_EXISTS;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A filesystem without RENAME_NOREPLACE: link never replaces either. */
	if (linkat(dirfd, temp, dirfd, name, 0) != 0) {
		if (errno == EEXIST)
			*what = WHY_EXISTS;
		return -1;
	}
	unlinkat(dirfd, temp, 0);
	return 0;
}

/* Room for "/proc/self/fd/N". */
#define PROC_FD_PATH_MAX (sizeof("/proc/self/fd/") + 3 * sizeof(int))

/*
 * linkat's source for the unnamed file fd, linked the anon_link way: returns
 * the directory fd and sets *path (proc holds it when needed) and *flags.
 */
static int anon_source(enum anon_link way, int fd, char proc[PROC_FD_PATH_MAX],
		       const char **path, int *flags)
{
	if (way == ANON_EMPTY_PATH) {
		*path = "";
		*flags = AT_EMPTY_PATH;
		return fd;
	}
	snprintf(proc, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
	*path = proc;
	*flags = AT_SYMLINK_FOLLOW;
	return AT_FDCWD;
}

/*
 * Find how dest can link an unnamed file into place, by doing it once under a
 * journaled temporary name in the root (removed at once). Unnamed copies save
 * the temporary name and the rename: a third of the cost of a small file on
 * ext4. Leaves ANON_NONE where O_TMPFILE or both ways of linking fail (an
 * older filesystem, no /proc, not permitted).
 */
void dest_probe_anon(struct copy *copy, struct dest *dest)
{
	static const enum anon_link ways[] = { ANON_EMPTY_PATH, ANON_PROC_FD };
	char temp[64], proc[PROC_FD_PATH_MAX];
	const char *path;
	int fd, flags;

	dest->anon_link = ANON_NONE;
	/* For tests of the named temporaries, which a filesystem without
	 * O_TMPFILE gets (and --force/--update get everywhere). */
	if (getenv("PTOOLS_NO_TMPFILE"))
		return;
	fd = openat(dest->rootfd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	dest_temp_name(copy, temp, sizeof(temp), ".probe");
	if (journal_temp(dest->journal, temp, strlen(temp)) == 0) {
		for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
			int from = anon_source(ways[i], fd, proc, &path, &flags);

			if (linkat(from, path, dest->rootfd, temp, flags) == 0) {
				dest->anon_link = ways[i];
				unlinkat(dest->rootfd, temp, 0);
				break;
			}
		}
	}
	close(fd);
}

/*
 * An unnamed file (O_TMPFILE, mode mode) in dirfd for a copy into dest, or -1
 * with errno; ENOTSUP when unnamed files cannot be used there (make a named
 * temporary instead).
 */
int dest_create_anon(const struct dest *dest, int dirfd, mode_t mode)
{
	int fd;

	if (dest->anon_link == ANON_NONE) {
		errno = ENOTSUP;
		return -1;
	}
	fd = openat(dirfd, ".", O_RDWR | O_TMPFILE | O_CLOEXEC, mode);
	/* A directory on another filesystem (a mount inside the destination)
	 * may not have O_TMPFILE. */
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		errno = ENOTSUP;
	return fd;
}

/*
 * Link the file at from/path (linkat's flags) into place as name in dirfd,
 * journaling its inode ino first; never replaces anything. Returns 0 or -1
 * with errno (*what says which step).
 */
int dest_install_link(struct dest *dest, const char *rel, size_t len, uint64_t ino, int from,
		 const char *path, int flags, int dirfd, const char *name, const char **what)
{
	if (dest->single_name) {
		rel = name; /* as dest_install */
		len = strlen(name);
	}
	*what = "journal";
	if (journal_final(dest->journal, rel, len, ino) != 0)
		return -1;
	*what = NULL;
	if (linkat(from, path, dirfd, name, flags) == 0)
		return 0;
	if (errno == EEXIST)
		*what = WHY_EXISTS;
	return -1;
}

int dest_install_anon(struct dest *dest, int dirfd, const char *rel, size_t len, const char *name,
		 int fd, uint64_t ino, const char **what)
{
	char proc[PROC_FD_PATH_MAX];
	const char *path;
	int flags, from = anon_source(dest->anon_link, fd, proc, &path, &flags);

	return dest_install_link(dest, rel, len, ino, from, path, flags, dirfd, name, what);
}

/*
 * Whether the final name may be used: 0 when it is free (*exists false), or
 * taken and replaceable with --force/--update (*exists true, *old its
 * lstat); -1 with errno (EISDIR) when it must not be touched. Without
 * --force/--update the name is not looked at: dest_install() refuses to replace.
 */
bool dest_looks_current(const struct copy *copy, bool ours, const struct stat *old,
			const struct stat *src)
{
	return (copy->opt.update || ours) && !copy->opt.force &&
	       (S_ISREG(src->st_mode) || S_ISLNK(src->st_mode)) &&
	       (old->st_mode & S_IFMT) == (src->st_mode & S_IFMT) &&
	       (!S_ISREG(src->st_mode) || old->st_size == src->st_size) &&
	       old->st_mtim.tv_sec == src->st_mtim.tv_sec &&
	       old->st_mtim.tv_nsec == src->st_mtim.tv_nsec;
}

int dest_check_final(struct copy *copy, const struct dest *dest, int dirfd, const char *name,
		bool *exists, bool *ours, struct stat *old)
{
	*exists = false;
	*ours = false;
	if (!copy->opt.force && !copy->opt.update && !dest->owned) {
		/* The rename into place refuses to replace anything (RENAME_NOREPLACE),
		 * which is the real guarantee; skipping this look saves a call per file. */
		return 0;
	}
	if (fstatat(dirfd, name, old, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(old->st_mode)) {
		errno = EISDIR;
		return -1;
	}
	*exists = true;
	*ours = journal_owns(dest->owned, (uint64_t)old->st_ino);
	if (!*ours && !copy->opt.force && !copy->opt.update) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

/* Copy a symlink or a special file (no data) into one destination. */
void dest_make_node(struct worker *worker, struct dest *dest, const char *rel,
		    size_t len, const struct stat *st, const char *target)
{
	struct copy *copy = worker->copy;
	char name[NAME_MAX + 1], temp[64];
	const char *what = NULL;
	struct stat old, made;
	size_t dir_len;
	bool exists, ours;
	int dirfd;

	if (dest->rdest) {
		rdest_node(dest, rel, len, st, target);
		return;
	}
	dirfd = dest_parent(worker, dest, rel, len, &dir_len, name);
	if (dirfd < 0)
		return;
	if (dest_check_final(copy, dest, dirfd, name, &exists, &ours, &old) != 0) {
		dest_fail(dest, rel, len, errno, errno == EEXIST ? "not replaced without --force" : NULL);
		return;
	}
	if (exists && dest_looks_current(copy, ours, &old, st))
		return; /* a symlink that is current */
	dest_temp_name(copy, temp, sizeof(temp), "");
	if (dest_sibling_path(&worker->scratch, rel, dir_len, temp) != 0 ||
	    journal_temp(dest->journal, worker->scratch.data, worker->scratch.len) != 0) {
		dest_fail(dest, rel, len, errno, "journal");
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		if (symlinkat(target, dirfd, temp) != 0)
			goto fail;
	} else if (mknodat(dirfd, temp, (st->st_mode & S_IFMT) | 0600, st->st_rdev) != 0) {
		goto fail;
	}
	what = "setting metadata";
	if (copy->opt.preserve && fchownat(dirfd, temp, st->st_uid, st->st_gid,
					   AT_SYMLINK_NOFOLLOW) != 0)
		goto fail_temp;
	if (!S_ISLNK(st->st_mode) && fchmodat(dirfd, temp, dest_kept_mode(copy, st->st_mode), 0) != 0)
		goto fail_temp;
	{
		struct timespec times[2] = { st->st_atim, st->st_mtim };
		if (utimensat(dirfd, temp, times, AT_SYMLINK_NOFOLLOW) != 0)
			goto fail_temp;
	}
	if (fstatat(dirfd, temp, &made, AT_SYMLINK_NOFOLLOW) != 0)
		goto fail_temp;
	if (dest_install(worker, dest, dirfd, rel, len, name, temp, (uint64_t)made.st_ino, exists,
		    &what) != 0)
		goto fail_temp;
	atomic_fetch_add(&dest->files, 1);
	return;
fail_temp:
	dest_fail(dest, rel, len, errno, what);
	unlinkat(dirfd, temp, 0);
	return;
fail:
	dest_fail(dest, rel, len, errno, what);
}
