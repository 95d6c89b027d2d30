/* SPDX-License-Identifier: 0BSD */
/** Reaching a path of PATH_MAX bytes or more, which open(2) refuses whole. */
#ifndef PTOOLS_LONGPATH_H
#define PTOOLS_LONGPATH_H

#include "prelude.h"

/**
 * Open the directory holding path's last component, relative to dirfd, in
 * pieces shorter than PATH_MAX (each cut at a '/', symlinks followed as
 * open(2) would), and point *rest at the last component. For a path shorter
 * than PATH_MAX nothing is opened: dirfd itself comes back and *rest is path.
 * The caller closes the result when it differs from dirfd. Returns -1 with
 * errno (ENAMETOOLONG when no cut fits) on failure: compare with -1, since
 * dirfd may be AT_FDCWD, which is negative too.
 */
int longpath_parent(int dirfd, const char *path, const char **rest);

#endif
