/* SPDX-License-Identifier: 0BSD */
/**
 * Manifest lines to tasks: native records (every digest attribute, the size,
 * the mtime), GNU lines and BSD tagged lines, told apart line by line. The
 * seal that closes a sealed manifest is seal.h's (libcommon).
 */
#ifndef PVERIFY_MANIFEST_H
#define PVERIFY_MANIFEST_H

#include "prelude.h"
#include "hash.h"
#include "record.h"
#include "sumfmt.h"
#include "task.h"


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


#endif
