/* SPDX-License-Identifier: 0BSD */
/**
 * Manifest lines to tasks: native records (every digest attribute, the size,
 * the mtime), GNU lines and BSD tagged lines, told apart line by line; and
 * the pcopy seal that closes a sealed manifest.
 */
#ifndef PVERIFY_MANIFEST_H
#define PVERIFY_MANIFEST_H

#include "prelude.h"
#include "hash.h"
#include "record.h"
#include "seal.h"
#include "sumfmt.h"
#include "task.h"

/**
 * Whether the manifest (a path, or NULL or "-" for standard input, then
 * named by what /proc/self/fd/0 points to) is named SEAL_DEFAULT_NAME, so
 * that pcopy's seals are held to being sealed without --sealed.
 */
bool manifest_named_seal(const char *path);

/** Reusable parsing state of the reading thread. */
struct manifest_parser {
	const struct hash_algo *forced; /* -a for GNU lines, or NULL */
	struct rec rec;
	struct sumfmt_line sum;
};

/** Prepare a parser; forced is the -a algorithm or NULL. */
void manifest_parser_init(struct manifest_parser *parser, const struct hash_algo *forced);

/** Release the parser's storage; NULL-safe. */
void manifest_parser_fini(struct manifest_parser *parser);

/**
 * Parse one line that is neither blank nor a comment into a new task (owned by
 * the caller, free() it) with seq and line left 0. Returns the task; or NULL
 * with *why NULL for a record with nothing to verify (a type other than f:
 * directories, symlinks...); or NULL with *why set for a malformed line
 * (errno ENOMEM with "out of memory").
 */
struct task *manifest_parse(struct manifest_parser *parser, const char *line, size_t len,
			    const char **why);

/** Whether a comment line is the seal line (it starts with MANIFEST_SEAL_PREFIX). */
bool manifest_is_seal(const char *line, size_t len);

#endif
