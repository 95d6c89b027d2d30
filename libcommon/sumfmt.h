/* SPDX-License-Identifier: 0BSD */
/**
 * Checksum-line formats of the classic tools, both directions:
 *
 *   GNU  (md5sum, sha1sum, sha224sum, sha256sum, sha384sum, sha512sum,
 *         b2sum, xxhsum's default, md5deep):   HEX SP SP NAME   or   HEX SP * NAME
 *   BSD  (--tag of the above, xxhsum --tag, rhash --bsd, which pads short
 *         tags with more spaces):   TAG SP ( NAME ) SP = SP HEX
 *   SFV  (rhash --sfv, cksfv): NAME SP CRC32HEX, ';' lines comments
 *   hashdeep: "%%%% HASHDEEP-1.0", "%%%% size,ALGO,...,filename", then
 *         SIZE,HEX,...,NAME lines (NAME raw, commas and all)
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
	SUMFMT_SFV,
};

/**
 * Guess the syntax of one line (without its LF) from its shape alone, cheaply:
 * GNU when it starts with [\]HEX (at least 8 hex digits) then " " and " " or
 * "*"; BSD when it starts with [\]TAG, one or more spaces, "(" and holds
 * ") = "; SFV when it ends with " " and 8 hex digits, holds no TAB and does
 * not start with ';'; else SUMFMT_NONE. A native record (decimal inode, TAB)
 * is never taken for any of them. hashdeep lines need their column line
 * first and are not detected here.
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
 * Parse a GNU, BSD or SFV line (without its LF; the kind is auto-detected) into
 * out, replacing its contents. One CR at the end of the line (a CRLF file)
 * is dropped, as coreutils' -c does.
 *
 * The algorithm of a BSD line comes from its tag (hash_lookup_tag). For a GNU
 * line: when forced is non-NULL (the user's -a) it is used and the digest
 * length must match it; otherwise the length picks among the algorithms that
 * have a GNU tool (hash_algo.gnu_tool), or failing those among the others,
 * and must name exactly one at that level (32 hex digits is md5; 8 is xxh32;
 * 128 is sha512 or blake2b and 16 is xxh64 or xxh3: ambiguous without -a).
 * A BSD line whose tag disagrees with forced is still taken by its tag, and
 * an SFV line is always crc32; its name is raw (SFV has no escapes).
 *
 * Returns 0, or -1 with *why set to a static message ("odd number of hex
 * digits", "unknown algorithm", "bad escape", "missing file name", ...), or
 * -1 with errno ENOMEM and *why "out of memory". out is unspecified on -1.
 */
int sumfmt_parse(struct sumfmt_line *out, const char *line, size_t len,
		 const struct hash_algo *forced, const char **why);

/**
 * sumfmt_parse for a NUL-terminated line (sha256sum -z): the same, except
 * that no CR is dropped, since -z writes names raw and a name may end in CR.
 */
int sumfmt_parse_item(struct sumfmt_line *out, const char *line, size_t len,
		      const struct hash_algo *forced, const char **why);

/**
 * Append one SFV line "NAME HEX\n", HEX the 8 crc32 digits in uppercase as
 * rhash --sfv writes them. SFV has no escapes: a name holding LF, TAB or
 * NUL, ending in CR or starting with ';' fails with EINVAL. Returns 0, or -1
 * with errno (ENOMEM, EINVAL); out is unchanged on -1.
 */
int sumfmt_sfv_format(struct dbuf *out, const char *hex, const char *path, size_t path_len);

/**
 * Whether a manifest whose first bytes are data[0, len) has NUL-terminated
 * lines (sha256sum -z, --tag -z): its first NUL comes before any LF and
 * what precedes it is a GNU or BSD line. An LF file never holds a NUL.
 */
bool sumfmt_nul_terminated(const char *data, size_t len);

/** Most digest columns of a hashdeep column line. */
#define SUMFMT_COLUMNS_MAX HASH_SET_MAX

/** The digest columns of a hashdeep file, between "size" and "filename". */
struct sumfmt_columns {
	size_t count;
	/* Each column's algorithm; NULL for one the registry lacks (tiger,
	 * whirlpool): its digests are syntax-checked and otherwise ignored. */
	const struct hash_algo *algos[SUMFMT_COLUMNS_MAX];
};

/**
 * Read a hashdeep header line (one starting with "%%%% "). Returns 0 for the
 * version line "%%%% HASHDEEP-1.0" (columns untouched); 1 for a column line
 * "%%%% size,ALGO,...,filename", its columns stored in *columns (at least
 * one algorithm must be in the registry, none named twice); -1 with *why
 * (static text) for anything else, *columns then untouched.
 */
int sumfmt_hashdeep_header(struct sumfmt_columns *columns, const char *line, size_t len,
			   const char **why);

/** One entry of several digests (a hashdeep line). Owns path. */
struct sumfmt_entry {
	uint64_t size;
	size_t count; /* digests of known algorithms, in column order */
	const struct hash_algo *algos[SUMFMT_COLUMNS_MAX];
	char hex[SUMFMT_COLUMNS_MAX][HASH_HEX_MAX + 1]; /* lowercase, NUL-terminated */
	struct dbuf path; /* the raw name, NUL-terminated */
};

/** Make an empty entry; allocates nothing. */
void sumfmt_entry_init(struct sumfmt_entry *entry);

/** Release the entry's storage; NULL-safe. */
void sumfmt_entry_free(struct sumfmt_entry *entry);

/**
 * Parse one hashdeep data line "SIZE,HEX,...,NAME" (without LF) with the
 * given columns into out: SIZE decimal (64 bits), one hex field per column
 * (the length its algorithm wants, any even length for an unknown one), and
 * NAME everything after the last of them, raw: a name may hold commas.
 * Returns 0, or -1 with *why set (errno ENOMEM with "out of memory").
 */
int sumfmt_hashdeep_parse(struct sumfmt_entry *out, const struct sumfmt_columns *columns,
			  const char *line, size_t len, const char **why);

/**
 * Append one hashdeep data line "SIZE,HEX[0],...,NAME\n" for count digests.
 * A name holding LF or NUL, or ending in CR, fails with EINVAL. Returns 0,
 * or -1 with errno; out is unchanged on -1.
 */
int sumfmt_hashdeep_format(struct dbuf *out, uint64_t size, size_t count,
			   const char *const *hex, const char *path, size_t path_len);

#endif
