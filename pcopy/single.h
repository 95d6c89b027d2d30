/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy FILE DEST...: one regular file as the source (see single.c). Each
 * DEST names the new file, or an existing directory to put it in under
 * FILE's name; the directory that holds the new file is that destination's
 * root (its lock, journal and, with --seal, its seal), and the engine writes
 * the file there under its own name (struct dest's single_name).
 */
#ifndef PCOPY_SINGLE_H
#define PCOPY_SINGLE_H

#include "prelude.h"
#include "copy.h"
#include "hash.h"
#include <sys/stat.h>

struct dest;
struct dbuf;

/** Where the file goes in one DEST. */
struct single_target {
	char *root;                  /* the directory that holds the new file */
	char *name;                  /* its name there (one component) */
	char *shown;                 /* the new file as the user named it: DEST, or DEST/name */
};

/**
 * Resolve dest for a file named base (FILE's last component): an existing
 * directory takes the file as dest/base; otherwise dest is the new file's
 * path and its parent must be an existing directory. Returns 0, or -1 with
 * errno (ENOENT: no such parent; ENOTDIR; ENAMETOOLONG; ENOMEM). The caller
 * frees with single_target_free.
 */
int single_resolve(const char *dest, const char *base, struct single_target *target);

/** Free what single_resolve made (NULL-safe members). */
void single_target_free(struct single_target *target);

/** The last component of path (trailing slashes ignored) into a new string, or NULL. */
char *single_basename(const char *path);

/**
 * Prepare the run: copy_new on the roots (remote DESTs, written host:PATH,
 * as they are: the other side resolves them), then each local destination's
 * name. The targets' strings move into the run. NULL (ENOMEM) as copy_new.
 */
struct copy *single_copy_new(const struct copy_options *opt, const char *const *dests,
			     struct single_target *targets, size_t n);

/**
 * Copy the regular file src (named rel in messages and, to a remote
 * destination, on the wire) to every destination: one read, as any file of
 * a tree; with -n, say what would be done instead.
 */
void single_copy(struct copy *copy, const char *src, const char *rel);

/**
 * The engine's hook once the file is in place in dest (reader_file_end):
 * add it to the seal when there is one, and keep what its record will say
 * (ino, size, the source's digests).
 */
void single_done(struct copy *copy, struct dest *dest, uint64_t ino, const struct stat *st,
		 char hex[][HASH_HEX_MAX + 1]);

/**
 * After dest was sealed (committed): its record, "INODE TAB SIZE TAB DEST
 * TAB algo:hex...", appended to out. 0, or -1 (ENOMEM; nothing to say when
 * the file was never done there).
 */
int single_record(const struct copy *copy, const struct dest *dest, struct dbuf *out);

/**
 * Say dest's record (single_record): on standard output, or appended to
 * copy->opt.records when the run has them gathered (the server sends them).
 */
void single_say(const struct copy *copy, const struct dest *dest);

/**
 * pcopy --rollback X: the destination root to finish, X itself when it is
 * a directory, else (a single file's DEST) the directory that holds it;
 * a missing X, only when that directory holds a journal. A new string, or
 * NULL (ENOMEM).
 */
char *single_rollback_root(const char *operand);

#endif
