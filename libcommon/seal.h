/* SPDX-License-Identifier: 0BSD */
/**
 * The sealed manifest (FORMAT.md, "Sealed manifests"): its writer (pcopy),
 * its checker (pverify) and how to tell one by its content. A seal is a
 * first line naming the format, the records, then one last line carrying
 * the SHA-256 of every byte above it. That digest detects accidental change
 * (a flipped bit, a cut or edited file), not a deliberate forgery: whoever
 * can write the seal can recompute it.
 *
 * Neither side prints: the writer hands back text for the caller to store,
 * the checker judges lines and the caller reports (so both can be fuzzed).
 */
#ifndef PTOOLS_SEAL_H
#define PTOOLS_SEAL_H

#include "prelude.h"
#include "dbuf.h"
#include "hash.h"
#include <time.h>

/** The first line of a sealed manifest (without its LF). */
#define SEAL_HEADER "# ptools seal v1"

/** The start of the last line; 64 lowercase hex digits and an LF follow. */
#define SEAL_LINE_PREFIX "#seal\tsha256:"

/** The name pcopy gives the seal in each destination unless told otherwise. */
#define SEAL_DEFAULT_NAME ".ptools-seal"

/*
 * Writing.
 */

/** A seal being written: its text so far, hashed as it grows. */
struct seal_writer {
	struct hash_ctx *ctx;
	struct dbuf text;      /* written but not yet taken by the caller */
};

/** Start a seal: the header line goes into w->text. Returns 0, or -1 with errno. */
int seal_writer_init(struct seal_writer *w);

/**
 * Format one file's record as a seal holds it into line (cleared first):
 * inode, size, path (len bytes, escaped), mtime, then one digest per
 * algorithm (hex[i] for algos[i]), and the LF. Returns 0 or -1 (ENOMEM).
 */
int seal_format_record(struct dbuf *line, uint64_t ino, uint64_t size, const char *path,
		       size_t len, const struct timespec *mtime,
		       const struct hash_algo *const *algos, char hex[][HASH_HEX_MAX + 1],
		       size_t nalgos);

/** Append a complete line (its LF included) to the seal. Returns 0 or -1 (ENOMEM). */
int seal_writer_add(struct seal_writer *w, const char *line, size_t len);

/** Append the seal line: nothing may be added after it. Returns 0 or -1 (ENOMEM). */
int seal_writer_end(struct seal_writer *w);

/** Release the writer (its untaken text too); NULL-safe, idempotent. */
void seal_writer_fini(struct seal_writer *w);

/*
 * Checking, line by line as a manifest is read: the running SHA-256 of every
 * byte before the seal line, the seal line's comparison, and what may (not)
 * follow it. The caller hands each line to seal_check_line first and parses
 * only the content lines.
 */

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

/*
 * Recognising.
 */

/**
 * Whether the manifest (a path, or NULL or "-" for standard input, then
 * named by what /proc/self/fd/0 points to) is named SEAL_DEFAULT_NAME, so
 * that pcopy's seals are held to being sealed without --sealed.
 */
bool seal_named(const char *path);

/**
 * Whether name in the directory dirfd is a regular file holding a seal (by
 * its first line; a FIFO or device is never opened): 1 yes, 0 no, -1 with
 * errno (ENOENT: nothing there).
 */
int seal_file_is_seal(int dirfd, const char *name);

#endif
