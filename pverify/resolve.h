/* SPDX-License-Identifier: 0BSD */
/**
 * Manifest paths under --root: the lexical check that refuses a path before
 * anything is opened (the opening itself is libcommon's beneath_resolve, so
 * a hostile manifest cannot leave the root through a symlink either).
 */
#ifndef PVERIFY_RESOLVE_H
#define PVERIFY_RESOLVE_H

#include "prelude.h"

/**
 * Check a manifest path lexically for use under --root: NULL when it may be
 * tried, else a static reason ("absolute path refused under --root", "path
 * climbs out of the root"). "a/../b" is fine; "a/../../b" is not.
 */
const char *resolve_refusal(const char *path, size_t len);

#endif
