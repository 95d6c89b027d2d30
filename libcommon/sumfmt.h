/* SPDX-License-Identifier: 0BSD */
/**
 * Checksum-line formats of the classic tools, both directions:
 *
 *   GNU  (md5sum, sha1sum, sha224sum, sha256sum, sha384sum, sha512sum,
 *         b2sum, and xxhsum's default):   HEX SP SP NAME   or   HEX SP * NAME
 *   BSD  (--tag of the above, xxhsum --tag):   TAG SP ( NAME ) SP = SP HEX
 *
 * coreutils 9.1 escapes a name holding a backslash, a newline or a CR: the
 * line then starts with one backslash and, inside the name, backslash is
 * written "\\", LF "\n" and CR "\r"; every other byte is raw. The emitters
 * here write exactly that (checked against sha256sum on Debian 12), and the
 * parsers read both the escaped form and the raw form xxhsum writes.
 */
#ifndef PTOOLS_SUMFMT_H
#define PTOOLS_SUMFMT_H

#include "prelude.h"
#include "dbuf.h"
#include "hash.h"

/**
 * Append one GNU line "HEX  NAME\n" (text mode, as coreutils writes it by
 * default), with the leading-backslash escape when path holds a backslash,
 * LF or CR. hex is the lowercase digest, NUL-terminated; path is len raw
 * bytes (may hold any byte but NUL). Returns 0, or -1 with errno ENOMEM.
 */
int sumfmt_gnu_format(struct dbuf *out, const char *hex, const char *path, size_t path_len);

/**
 * Append one BSD tagged line "TAG (NAME) = HEX\n" with TAG = algo->bsd_tag,
 * escaped as coreutils' --tag does (leading backslash when path holds a
 * backslash, LF or CR). Returns 0, or -1 with errno ENOMEM (or EINVAL when
 * algo has no bsd_tag).
 */
int sumfmt_bsd_format(struct dbuf *out, const struct hash_algo *algo, const char *hex,
		      const char *path, size_t path_len);

/** Which syntax a line looks like. */
enum sumfmt_kind {
	SUMFMT_NONE = 0, /* neither: probably a native record or a plain path */
	SUMFMT_GNU,
	SUMFMT_BSD,
};

/**
 * Guess the syntax of one line (without its LF) from its shape alone, cheaply:
 * GNU when it starts with [\]HEX (at least 8 hex digits) then " " and " " or
 * "*"; BSD when it starts with [\]TAG " (" and holds ") = "; else SUMFMT_NONE.
 * A native record (decimal inode, TAB) is never taken for either.
 */
enum sumfmt_kind sumfmt_detect(const char *line, size_t len);

/** One parsed checksum line. Owns path; sumfmt_line_free releases it. */
struct sumfmt_line {
	enum sumfmt_kind kind;
	const struct hash_algo *algo;  /* the algorithm the digest belongs to */
	char hex[HASH_HEX_MAX + 1];    /* the digest, lowercased, NUL-terminated */
	bool binary;                   /* GNU '*' marker */
	struct dbuf path;              /* decoded name (raw bytes, NUL-terminated) */
};

/** Make an empty line; allocates nothing. */
void sumfmt_line_init(struct sumfmt_line *line);

/** Release the line's storage; NULL-safe. */
void sumfmt_line_free(struct sumfmt_line *line);

/**
 * Parse a GNU or BSD line (without its LF; the kind is auto-detected) into
 * out, replacing its contents. One CR at the end of the line (a CRLF file)
 * is dropped, as coreutils' -c does.
 *
 * The algorithm of a BSD line comes from its tag (hash_lookup_tag). For a GNU
 * line: when forced is non-NULL (the user's -a) it is used and the digest
 * length must match it; otherwise the length picks among the algorithms that
 * have a GNU tool (hash_algo.gnu_tool), or failing those among the others,
 * and must name exactly one at that level (32 hex digits is md5; 8 is xxh32;
 * 128 is sha512 or blake2b and 16 is xxh64 or xxh3: ambiguous without -a).
 * A BSD line whose tag disagrees with forced is still taken by its tag.
 *
 * Returns 0, or -1 with *why set to a static message ("odd number of hex
 * digits", "unknown algorithm", "bad escape", "missing file name", ...), or
 * -1 with errno ENOMEM and *why "out of memory". out is unspecified on -1.
 */
int sumfmt_parse(struct sumfmt_line *out, const char *line, size_t len,
		 const struct hash_algo *forced, const char **why);

#endif
