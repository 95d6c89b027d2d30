/* SPDX-License-Identifier: 0BSD */
/**
 * --audit DIR (hashdeep's audit mode): walk DIR with libcommon's walker,
 * find the regular files the manifest does not name, and pair them with the
 * manifest's MISSING entries by digest: a pair is MOVED, a file left over is
 * NEW, an entry left over stays MISSING.
 */
#ifndef PVERIFY_AUDIT_H
#define PVERIFY_AUDIT_H

#include "prelude.h"
#include "report.h"
#include "task.h"

struct audit;

/** Make an empty audit. Returns NULL with errno. */
struct audit *audit_new(void);

/** Free the audit; NULL-safe. */
void audit_free(struct audit *audit);

/**
 * Remember a manifest path (as the manifest names it; it is normalised:
 * "./" prefixes, "//" and "/./" dropped). Returns 0, or -1 (ENOMEM).
 */
int audit_add_path(struct audit *audit, const char *path, size_t len);

/**
 * Leave this file (by device and inode) out of the NEW files: the manifest
 * itself, when it lives in the audited tree (pcopy's .ptools-seal does).
 */
void audit_ignore(struct audit *audit, uint64_t dev, uint64_t ino);

/**
 * Walk walk_root and collect every regular file whose path, less its first
 * strip bytes and normalised, the manifest does not name. Unreadable entries
 * are reported on stderr and counted in *errors. Returns 0, or -1 with errno
 * when the walk could not run.
 */
int audit_walk(struct audit *audit, const char *walk_root, size_t strip, unsigned threads,
	       uint64_t *errors);

/**
 * Pair the collected files with the missing tasks (ownership of the tasks
 * and the array passes to the audit) by their first digest, hashing only the
 * files whose size matches some missing entry; then print MISSING, MOVED and
 * NEW lines through report and count them. Returns 0, or -1 with errno.
 */
int audit_finish(struct audit *audit, struct report *report, struct task **missing,
		 size_t nmissing);

#endif
