/* SPDX-License-Identifier: 0BSD */
/**
 * Paths beneath each destination root (see destdir.c). Every function works
 * relative to the destination's root descriptor and never follows a symlink
 * planted inside a destination.
 */
#ifndef PCOPY_DESTDIR_H
#define PCOPY_DESTDIR_H

#include "prelude.h"
#include "worker.h"

/** Descriptor of directory dir (dir_len bytes, relative) in dest, from worker's cache. */
int dest_dircache_get(struct worker *worker, struct dest *dest, const char *dir, size_t dir_len);

/**
 * The open parent directory of rel in dest (a cached descriptor, not to be
 * closed), its length in rel (*dir_len) and rel's last component (into name,
 * NAME_MAX + 1 bytes); or -1 once dest is failed (or had failed already).
 */
int dest_parent(struct worker *worker, struct dest *dest, const char *rel, size_t len,
		size_t *dir_len, char *name);

/** What dest_each_xattr calls for each attribute: 0 to go on, -1 (errno) to stop. */
typedef int dest_xattr_fn(void *arg, const char *name, const void *value, size_t len);

/** Call fn for every extended attribute (POSIX ACLs included) of srcfd. 0 or -1. */
int dest_each_xattr(int srcfd, dest_xattr_fn *fn, void *arg);

/** Copy every extended attribute (POSIX ACLs included) from one fd to another. */
int dest_copy_xattrs(int srcfd, int dstfd);

/** Set the extended attributes of an xattrs blob (proto.h) on dstfd. 0 or -1. */
int dest_set_xattrs(const unsigned char *xattrs, size_t len, int dstfd);

/** The mode bits kept: set-id bits only together with the owner (-p). */
mode_t dest_kept_mode(const struct copy *copy, mode_t mode);

/**
 * Make directory rel in dest (its parent exists), or accept the directory
 * already there. srcfd (or -1) supplies the xattrs with -p.
 */
void dest_make_dir(struct worker *worker, struct dest *dest, const char *rel, size_t len,
		   const struct stat *st, int srcfd);

/** A fresh temporary name, unique to this run, with suffix. */
void dest_temp_name(struct copy *copy, char *buf, size_t size, const char *suffix);

/** Put the directory part of rel (dir_len bytes) and name into buf (for the journal). */
int dest_sibling_path(struct dbuf *buf, const char *rel, size_t dir_len, const char *name);

/**
 * Put the temporary temp (in dirfd, holding inode ino) in place as name,
 * journaling first. exists: the name was taken when checked (--force or
 * --update): the old file is linked to a backup first, then replaced
 * atomically; otherwise the rename refuses to replace anything. Returns 0 or
 * -1 with errno (*what says which step).
 */
int dest_install(struct worker *worker, struct dest *dest, int dirfd, const char *rel, size_t len,
	    const char *name, const char *temp, uint64_t ino, bool exists, const char **what);

/**
 * Find how unnamed (O_TMPFILE) copies can be linked into place in dest
 * (dest->anon_link), once, after its journal exists. PTOOLS_NO_TMPFILE set
 * in the environment makes every copy use a named temporary (for tests).
 */
void dest_probe_anon(struct copy *copy, struct dest *dest);

/**
 * An unnamed file (O_TMPFILE, mode mode) in dirfd, or -1 with errno: ENOTSUP
 * when dest cannot use them there (make a named temporary instead).
 */
int dest_create_anon(const struct dest *dest, int dirfd, mode_t mode);

/** Why a copy was not put in place: its name was taken meanwhile. */
#define WHY_EXISTS "exists (not replaced without --force or --update)"

/**
 * Link the file at from/path (linkat's flags) into place as name in dirfd,
 * journaling its inode ino first; never replaces anything. Returns 0 or -1
 * with errno (*what says which step).
 */
int dest_install_link(struct dest *dest, const char *rel, size_t len, uint64_t ino, int from,
		 const char *path, int flags, int dirfd, const char *name, const char **what);

/**
 * Link the unnamed file fd (inode ino, from dest_create_anon in dirfd) into
 * place as name, journaling first; never replaces anything (dest_install_link).
 */
int dest_install_anon(struct dest *dest, int dirfd, const char *rel, size_t len, const char *name,
		 int fd, uint64_t ino, const char **what);

/**
 * Whether the entry old at a final name may be kept for the source entry
 * src: the run may keep what it finds (--update without --force, or the
 * interrupted run being resumed made it: ours) and it looks current, a
 * regular file or symlink as src is, with src's mtime (and a file's size).
 * A regular file kept so is still compared with the source as it is read
 * (fileop.c), never sealed on trust.
 */
bool dest_looks_current(const struct copy *copy, bool ours, const struct stat *old,
			const struct stat *src);

/**
 * Whether the final name may be used: 0 when it is free (*exists false), or
 * taken and replaceable (*exists true, *old its lstat): with --force or
 * --update, or (*ours true) because the interrupted run being resumed put it
 * there; -1 with errno when it must not be touched (EEXIST, EISDIR).
 */
int dest_check_final(struct copy *copy, const struct dest *dest, int dirfd, const char *name,
		bool *exists, bool *ours, struct stat *old);

/** Copy a symlink (target) or a special file (no data) into one destination. */
void dest_make_node(struct worker *worker, struct dest *dest, const char *rel, size_t len,
		    const struct stat *st, const char *target);

#endif
