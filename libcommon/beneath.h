/* SPDX-License-Identifier: 0BSD */
/**
 * Opening paths strictly beneath a root directory fd, never following a
 * symlink on the way: what pcopy needs to write into a destination that may
 * hold planted links, and what pverify -C needs to read one.
 *
 * A relative path is resolved component by component: every directory with
 * O_DIRECTORY|O_NOFOLLOW, so a symlink anywhere in the path fails (ELOOP or
 * ENOTDIR) instead of leading outside. openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) does the same in one call when the kernel has it and
 * the path fits in PATH_MAX; the component walk is the fallback and also
 * handles paths longer than PATH_MAX. Absolute paths and ".." components are
 * refused with EXDEV (they would leave the root); "." components and repeated
 * slashes are skipped.
 */
#ifndef PTOOLS_BENEATH_H
#define PTOOLS_BENEATH_H

#include "prelude.h"
#include "dbuf.h"
#include <sys/types.h>

/**
 * Open the directory at path (len bytes, not necessarily NUL-terminated)
 * beneath rootfd. An empty path (or one of only "." components) opens the
 * root itself again. flags are added to O_RDONLY|O_DIRECTORY|O_NOFOLLOW|
 * O_CLOEXEC (O_PATH is allowed). Returns a new fd the caller closes, or -1
 * with errno (ELOOP: a symlink on the way; ENOTDIR: a non-directory; EXDEV:
 * absolute path or ".."; ENOENT; ENOMEM).
 */
int beneath_open_dir(int rootfd, const char *path, size_t len, int flags);

/**
 * Open the file at path beneath rootfd with flags (O_NOFOLLOW and O_CLOEXEC
 * are always added; O_CREAT needs mode). The last component is never followed
 * either: a symlink there fails with ELOOP unless flags holds O_PATH.
 * Returns a new fd or -1 with errno as beneath_open_dir.
 */
int beneath_open(int rootfd, const char *path, int flags, mode_t mode);

/**
 * Open path beneath rootfd as a manifest checked under a root reads it
 * (pverify -C), with flags (O_CLOEXEC added): ".." is allowed while it
 * stays beneath the root; where openat2 is usable, symlinks are followed as
 * long as they stay beneath the root (RESOLVE_BENEATH); elsewhere no symlink
 * is followed at all: the path is normalised lexically, which is then
 * exact, and opened one component at a time with O_NOFOLLOW (a symlink on
 * the way fails with ELOOP). Paths past PATH_MAX take the second way.
 * Returns a new fd, or -1 with errno (EXDEV: the path leaves the root;
 * ELOOP: a symlink not followed; ENOENT, ENOTDIR, ...).
 */
int beneath_resolve(int rootfd, const char *path, int flags);

/**
 * path (len bytes) normalised lexically into out (cleared first): "."
 * components and repeated slashes dropped, a leading "/" kept, and each
 * ".." taking back one component when dotdot is true (refused when false).
 * An empty result means the starting directory itself. Returns 0, or -1
 * with errno: EXDEV for a refused ".." or one that would climb above the
 * start; ENOMEM.
 */
int beneath_normalize(struct dbuf *out, const char *path, size_t len, bool dotdot);

/** Never use openat2 from now on (PTOOLS_NO_OPENAT2, for tests). */
void beneath_disable_openat2(void);

/**
 * Split path (len bytes) into the directory part and the last component,
 * ignoring trailing slashes: *dir_len is the length of the directory part
 * (0 for a name in the root), *name and *name_len the last component.
 * A path of only slashes or dots gives *name_len 0.
 */
void beneath_split(const char *path, size_t len, size_t *dir_len,
		   const char **name, size_t *name_len);

/**
 * beneath_split, with the last component copied, NUL-terminated, into name
 * (NAME_MAX + 1 bytes) for the *at() calls. Returns 0, or -1 with errno
 * EINVAL (no last component) or ENAMETOOLONG (one longer than NAME_MAX).
 */
int beneath_last_name(const char *path, size_t len, size_t *dir_len, char *name);

#endif
