/* SPDX-License-Identifier: 0BSD */
/**
 * Checking a sealed manifest (FORMAT.md section 9) as it is read, line by
 * line: the running SHA-256 of every byte before the seal line, the seal
 * line's comparison, and what may (not) follow it. The caller reads lines,
 * hands each to seal_check_line first and parses only the content lines;
 * it prints the messages (this module only judges, so it can be fuzzed).
 */
#ifndef PVERIFY_SEALCHECK_H
#define PVERIFY_SEALCHECK_H

#include "prelude.h"
#include "hash.h"
#include "seal.h"

struct seal_check {
	struct hash_ctx *ctx;  /* NULL once bytes were lost or on ENOMEM */
	bool header;           /* the first line was SEAL_HEADER */
	bool sealed;           /* the seal line was met: nothing may follow */
};

/** What one line is, for the seal. */
enum seal_line {
	SEAL_CONTENT,      /* a line before the seal (hashed): parse it */
	SEAL_IGNORED,      /* an empty line after the seal */
	SEAL_MATCH,        /* the seal line, and its digest is right */
	SEAL_MISMATCH,     /* the seal line, and the manifest was edited */
	SEAL_UNCHECKABLE,  /* the seal line, but bytes before it were lost */
	SEAL_AFTER,        /* a line after the seal: the manifest was extended */
};

/** How the manifest ended, for the seal. */
enum seal_end {
	SEAL_END_OK,         /* sealed and checked, or not sealed and not required to be */
	SEAL_END_CUT,        /* the header, but no seal line: cut short */
	SEAL_END_NO_HEADER,  /* required (--sealed) but not a sealed manifest */
};

/** Start checking (the hash context may fail to come: then no seal can match). */
void seal_check_init(struct seal_check *check);

/** Release the hash context; NULL-safe. */
void seal_check_fini(struct seal_check *check);

/** Judge line number lineno (from 1), without its LF. */
enum seal_line seal_check_line(struct seal_check *check, uintmax_t lineno, const char *line,
			       size_t len);

/** A line's bytes were lost (a malformed line): the seal can no longer match. */
void seal_check_lost(struct seal_check *check);

/** At the end of the manifest; required: the manifest must be sealed. */
enum seal_end seal_check_end(const struct seal_check *check, bool required);

/**
 * Whether the manifest (a path, or NULL or "-" for standard input, then
 * named by what /proc/self/fd/0 points to) is named SEAL_DEFAULT_NAME, so
 * that pcopy's seals are held to being sealed without --sealed.
 */
bool seal_named(const char *path);

#endif
