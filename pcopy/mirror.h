/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --delete: make a destination a mirror of the source tree by setting
 * aside, inside the destination, every entry the source does not have
 * (mirror.c).
 */
#ifndef PCOPY_MIRROR_H
#define PCOPY_MIRROR_H

#include "prelude.h"
#include "run.h"

/**
 * Set aside every entry of dest that the source tree (copy->src_root) does
 * not have: renamed to a name of this run's in dest's root, journaled
 * first, so that an undo (a failure, a signal, pcopy --rollback) puts each
 * back and the completion after the seal removes them for good. Walks dest
 * without following a symlink and never leaves it; pcopy's own names at the
 * root (journal, seal, temporaries) are left alone. A failure fails dest.
 */
void mirror_delete(struct copy *copy, struct dest *dest);

#endif
