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

struct exclude;

struct audit;

/**
 * Make an empty audit. base is the directory the manifest's relative paths
 * are relative to (the -C root, or the current directory), canonical
 * (realpath), copied. Returns NULL with errno.
 */
struct audit *audit_new(const char *base);

/** Free the audit; NULL-safe. */
void audit_free(struct audit *audit);

/**
 * Remember a manifest path (as the manifest names it). Manifest paths and
 * walked paths are compared after the same resolution: joined to base (or
 * the walked directory's canonical path), "." and empty components dropped
 * and ".." taken back lexically, then made relative to base when inside it;
 * so "./a", "a//b/../a" and "BASE/a" name one file, which is never both
 * checked and NEW. Returns 0, or -1 (ENOMEM).
 */
int audit_add_path(struct audit *audit, const char *path, size_t len);

/**
 * audit_add_path, and with audit_count_bytes *size_cell (else NULL) is where
 * the check of that path records the size of the regular file it opened, as
 * size + 1 (0: not learned), so that the walk need not stat it again. The
 * cell stays put until audit_free; it is written by one worker and read by
 * the walk after the workers are joined. A path with a ".." component gets
 * no cell (NULL): the kernel takes ".." back after following symlinks, the
 * comparison lexically, so its file may not be the one the walk keys so.
 */
int audit_add_listed(struct audit *audit, const char *path, size_t len, uint64_t **size_cell);

/**
 * audit_add_listed, unless a path with the same key was added before: then
 * nothing is added, *size_cell is NULL and *added false (a manifest that
 * lists a path twice). Returns 0, or -1 (ENOMEM).
 */
int audit_add_once(struct audit *audit, const char *path, size_t len, uint64_t **size_cell,
		   bool *added);

/**
 * A hint: path is about to be added with audit_add_once; its place in the
 * table is fetched from memory meanwhile. Nothing else changes.
 */
void audit_prefetch(const struct audit *audit, const char *path, size_t len);

/**
 * A hint, before the paths are added: about paths paths, text_bytes bytes
 * in all, will be, as a manifest's size tells. The table is made that large
 * at once rather than grown (and rebuilt) as they come; more still fit.
 * Memory reserved and never used is not touched. Returns 0, or -1 (ENOMEM;
 * nothing lost, the hint is dropped).
 */
int audit_expect(struct audit *audit, size_t paths, size_t text_bytes);

/**
 * Leave this file (by device and inode) out of the NEW files: the manifest
 * itself, when it lives in the audited tree (pcopy's .ptools-seal does).
 */
void audit_ignore(struct audit *audit, uint64_t dev, uint64_t ino);

/**
 * Leave out of the walk the entries set matches (exclude.h; paths relative
 * to the walked directory), counted for audit_excluded. set is borrowed: it
 * must outlive the walk. NULL: nothing is left out.
 */
void audit_exclude(struct audit *audit, const struct exclude *set);

/**
 * Also leave out what pattern matches (exclude.h's rules): an ASC MHL
 * history's ignore patterns, which its generations do not list. The audit
 * keeps a copy. Returns 0, or -1 with errno (EINVAL: a pattern that matches
 * nothing; ENOMEM).
 */
int audit_exclude_pattern(struct audit *audit, const char *pattern);

/** How many entries the walk left out by the exclude set. */
uint64_t audit_excluded(const struct audit *audit);

/**
 * Walk walk_root (relative to the current directory, or absolute) and
 * collect every regular file the manifest does not name (audit_add_path's
 * comparison). Unreadable entries are reported on stderr and counted in
 * *errors. Returns 0, or -1 with errno when the walk could not run (walk_root
 * cannot be resolved, for one).
 */
int audit_walk(struct audit *audit, const char *walk_root, unsigned threads, uint64_t *errors);

/**
 * Pair the collected files with the missing tasks (ownership of the tasks
 * and the array passes to the audit) by their first digest, hashing only the
 * files whose size matches some missing entry; then print MISSING, MOVED and
 * NEW lines through report and count them. Returns 0, or -1 with errno.
 */
int audit_finish(struct audit *audit, struct report *report, struct task **missing,
		 size_t nmissing);

/**
 * Set up --audit before the manifest is read: the directory to walk
 * (audit_dir, beneath root when relative and root is not NULL) must exist,
 * be a directory and, under a root, lie inside it, or no manifest path could
 * name its files; each failure is reported on stderr, never a silently
 * skipped audit. On success *walk_root (malloc'd, the caller frees it) is
 * what to walk and *audit the audit, keyed from the canonical root (or
 * current directory). Returns 0, or -1 after the message (a usage error).
 */
int audit_setup(const char *root, const char *audit_dir, char **walk_root, struct audit **audit);

/**
 * Leave the manifest itself out of the NEW files: the file manifest (NULL
 * or "-": standard input, when it is a file); else, for a seal read from a
 * pipe (recognised by its content: sealed_content), the seal by its default
 * name at rootfd, where pcopy writes it.
 */
void audit_ignore_manifest(struct audit *audit, const char *manifest, int rootfd,
			   bool sealed_content);

/**
 * Count every regular file's bytes, for audit_walked: a file the manifest
 * names by the size its check learned (audit_add_listed's cell), any other,
 * or one whose check learned nothing (unreadable, refused), by a stat in the
 * walk. Without it only the files the manifest does not name are stat'ed,
 * and the bytes are 0. Call it before the first path is added.
 */
void audit_count_bytes(struct audit *audit);

/**
 * After the walk: the regular files found (listed or not), their bytes
 * (with audit_count_bytes), and the entries that are neither files nor
 * directories (symlinks, devices).
 */
void audit_walked(const struct audit *audit, uint64_t *files, uint64_t *bytes, uint64_t *others);

/**
 * Walk walk_root with jobs threads, then pair report's missing entries with
 * the new files (audit_walk, audit_finish). Unreadable entries add to
 * *walk_errors. Returns 0, or -1 with errno.
 */
int audit_run(struct audit *audit, const char *walk_root, unsigned jobs, struct report *report,
	      uint64_t *walk_errors);

#endif
