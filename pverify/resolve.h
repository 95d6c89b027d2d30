/* SPDX-License-Identifier: 0BSD */
/** Opening manifest paths without letting a hostile manifest leave the root. */
#ifndef PVERIFY_RESOLVE_H
#define PVERIFY_RESOLVE_H

#include "prelude.h"
#include <fcntl.h>

/**
 * Check a manifest path lexically for use under --root: NULL when it may be
 * tried, else a static reason ("absolute path refused under --root", "path
 * climbs out of the root"). "a/../b" is fine; "a/../../b" is not.
 */
const char *resolve_refusal(const char *path, size_t len);

/** Flags to open a manifest entry for reading: O_NONBLOCK, so a FIFO cannot
 * block us (the caller fstat()s and checks for a regular file). */
#define RESOLVE_READ (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/** Flags to look at an entry itself, as lstat() would, without opening it. */
#define RESOLVE_LOOK (O_PATH | O_NOFOLLOW | O_CLOEXEC)

/**
 * Open path with last_flags on its last component: RESOLVE_READ to read it,
 * RESOLVE_LOOK to fstat() the entry itself (a symlink is not followed).
 *
 * With rootfd == AT_FDCWD the path is opened as given, symlinks followed, as
 * sha256sum -c does. Otherwise path must have passed resolve_refusal and is
 * resolved beneath rootfd: through openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) where the kernel has it (symlinks are followed only
 * while they stay inside the root), else component by component with
 * O_NOFOLLOW (no symlink is followed at all).
 *
 * Returns a file descriptor, or -1 with errno (EXDEV: the path, through a
 * symlink, leads out of the root; ELOOP in the fallback: a symlink was met).
 */
int resolve_open(int rootfd, const char *path, int last_flags);

/**
 * Never use openat2 from now on: every path under a root takes the
 * O_NOFOLLOW walk. For tests of the fallback (PTOOLS_NO_OPENAT2=1).
 */
void resolve_disable_openat2(void);

#endif
