/* SPDX-License-Identifier: 0BSD */
/**
 * The one way every program opens a file to read its content (hashio for
 * phash, pverify's checks, pcopy's sources): it never blocks on a FIFO,
 * never opens a device or anything else that is not a regular file for
 * reading (a tape would rewind), never makes a terminal its controlling one,
 * leaves the access time alone where the caller owns the file, follows no
 * final symlink when asked, and reaches paths past PATH_MAX.
 */
#ifndef PTOOLS_OPENREAD_H
#define PTOOLS_OPENREAD_H

#include "prelude.h"
#include "diag.h"
#include <sys/stat.h>

/** Flags of open_read_at. */
enum open_read_flags {
	/* A symlink in the last component is not followed: it is reported as
	 * not regular (with its lstat). */
	OPEN_READ_NOFOLLOW = 1 << 0,
	/* Skip the stat before the open (the caller has just seen a regular
	 * file, or expects one): the open itself cannot block (O_NONBLOCK),
	 * and the fstat after it still refuses what is not regular before
	 * anything is read. A failed open is followed by a stat, so *st still
	 * says what the entry is. */
	OPEN_READ_NO_PRESTAT = 1 << 1,
	/* dirfd is a root the path must stay beneath (beneath_resolve): ".."
	 * and symlinks only while they stay inside it. */
	OPEN_READ_BENEATH = 1 << 2,
};

/** open_read_at's answer for an entry that is there but is not a regular file. */
#define OPEN_READ_NOT_REGULAR (-2)

/**
 * Open path (relative to dirfd, AT_FDCWD for plain paths) to read it, with
 * enum open_read_flags. Returns the descriptor of a regular file (the caller
 * closes it) with its fstat in *st; OPEN_READ_NOT_REGULAR with the entry's
 * stat in *st; or -1 with errno, *have_stat (may be NULL) then saying
 * whether *st holds the entry's stat all the same (the open failed after a
 * stat: EACCES, say).
 */
int open_read_at(int dirfd, const char *path, int flags, struct stat *st, bool *have_stat);

/**
 * A file of a format the tools read themselves (an ASC MHL chain or
 * generation, a bag's tag file) opened as open_read_at opens content, its
 * last component not followed: an open that cannot hang on a FIFO, and
 * nothing but a regular file. Returns the descriptor, or -1 with errno
 * (EISDIR, ENOTREGULAR (diag.h), or the open's).
 */
int open_regular_at(int dirfd, const char *name);

#endif
