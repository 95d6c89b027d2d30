/* SPDX-License-Identifier: 0BSD */
/**
 * BagIt (RFC 8493; docs/FORMAT.md, "BagIt bags"): what pcopy writes and
 * pverify reads, without any I/O of its own beyond reading lines from a
 * descriptor. Tag files are read whole (at most BAGIT_TAG_FILE_MAX bytes:
 * bagit.txt and bag-info.txt are short by nature), manifests and fetch.txt
 * streamed line by line (at most BAGIT_LINE_MAX bytes a line), so memory is
 * bounded whatever a bag holds.
 *
 * Lines end with LF, CR LF or CR. Tag files other than bagit.txt are in the
 * encoding bagit.txt declares: UTF-8, or ISO-8859-1 (transcoded to UTF-8
 * here, line by line); anything else is refused. A UTF-8 byte-order mark at
 * the start of any tag file is skipped.
 */
#ifndef PTOOLS_BAGIT_H
#define PTOOLS_BAGIT_H

#include "prelude.h"
#include "dbuf.h"
#include "hash.h"

/** The longest manifest or fetch.txt line accepted, in bytes. */
#define BAGIT_LINE_MAX ((size_t)64 << 10)
/** The largest bagit.txt or bag-info.txt read. */
#define BAGIT_TAG_FILE_MAX ((size_t)1 << 20)

/** The tag files' names. */
#define BAGIT_DECLARATION "bagit.txt"
#define BAGIT_INFO "bag-info.txt"
#define BAGIT_FETCH "fetch.txt"
#define BAGIT_PAYLOAD_DIR "data"

/**
 * The registry's algorithm for a BagIt algorithm name (md5, sha1, sha224,
 * sha256, sha384, sha512: the names a manifest-<alg>.txt may carry that the
 * registry holds), or NULL when BagIt has no name for it.
 */
const struct hash_algo *bagit_algo(const char *name, size_t len);

/**
 * The BagIt name of algo (its registry name when bagit_algo knows it), or
 * NULL when a bag cannot carry it (xxh*, blake2*, sha3-*).
 */
const char *bagit_algo_name(const struct hash_algo *algo);

/** Append path (len bytes) to out with CR, LF and % percent-encoded. 0 or -1 (ENOMEM). */
int bagit_encode_path(struct dbuf *out, const char *path, size_t len);

/**
 * Why a manifest or fetch.txt path (decoded, len bytes) may not be used, or
 * NULL when it may: empty, absolute, a drive letter, a leading ~, a ".."
 * component or a NUL would reach outside the bag (a backslash is a
 * character of a name here, as on every POSIX system). "." and empty components are accepted (and
 * dropped by bagit_normalize).
 */
const char *bagit_path_refusal(const char *path, size_t len);

/**
 * Drop "." and empty components from path (which bagit_path_refusal
 * accepted), in place; returns the new length. Two manifest lines naming
 * one file ("data/a", "./data//a") then compare equal.
 */
size_t bagit_normalize(char *path, size_t len);

/**
 * One manifest line (without its end): a checksum, one or more spaces or
 * tabs, a path. The checksum must be algo's length of hex digits (either
 * case: written to hex in lowercase, NUL-terminated); the path is
 * percent-decoded (%0A, %0D, %25, either case) when decode is set (BagIt
 * 1.0; 0.97 had no encoding) into path (cleared first, NUL-terminated, not
 * counted in len). Returns 0, or -1 with *why (errno EINVAL; ENOMEM with
 * "out of memory").
 */
int bagit_parse_manifest_line(const char *line, size_t len, const struct hash_algo *algo,
			      bool decode, char hex[HASH_HEX_MAX + 1], struct dbuf *path,
			      const char **why);

/**
 * One fetch.txt line: URL, LENGTH ("-" or decimal digits), path, separated
 * by spaces or tabs; the path is decoded as a manifest's. *length is
 * UINT64_MAX for "-". Returns 0, or -1 with *why as bagit_parse_manifest_line.
 */
int bagit_parse_fetch_line(const char *line, size_t len, bool decode, uint64_t *length,
			   struct dbuf *path, const char **why);

/** Called with each tag of a tag file, continuation lines joined with one space. */
typedef int bagit_tag_fn(void *arg, const char *label, size_t label_len, const char *value,
			 size_t value_len);

/**
 * Parse the text of a tag file (bagit.txt, bag-info.txt; text and len as
 * read, a BOM skipped here): "Label: value" lines, a line starting with a
 * space or tab continuing the value above. Latin-1 text is transcoded
 * first. Each tag goes to fn (which returns 0, or -1 to stop: that return
 * passes through). Returns 0, or -1 with *why for a malformed file (errno
 * EINVAL), or ENOMEM.
 */
int bagit_parse_tags(const char *text, size_t len, bool latin1, bagit_tag_fn *fn, void *arg,
		     const char **why);

/** What bagit.txt says. */
struct bagit_declaration {
	unsigned major, minor;  /* BagIt-Version */
	bool latin1;            /* Tag-File-Character-Encoding is ISO-8859-1 */
};

/**
 * Check bagit.txt's text: exactly its two tags, a version of 1.0 or 0.97
 * (0.96 too: the same layout), an encoding of UTF-8 or ISO-8859-1 (any case,
 * with or without the hyphen). Returns 0, or -1 with *why (errno EINVAL).
 */
int bagit_parse_declaration(const char *text, size_t len, struct bagit_declaration *decl,
			    const char **why);

/**
 * Parse a Payload-Oxum value, "OCTETS.STREAMS" (decimal). Returns 0 or -1
 * (errno EINVAL).
 */
int bagit_parse_oxum(const char *value, size_t len, uint64_t *octets, uint64_t *streams);

/** A descriptor read line by line (LF, CR LF or CR), each at most BAGIT_LINE_MAX bytes. */
struct bagit_lines {
	int fd;
	bool latin1;             /* transcode each line from ISO-8859-1 */
	bool eof, pending_cr, first;
	char *buf;               /* BAGIT_LINE_MAX bytes of read-ahead */
	size_t start, end;
	struct dbuf line;        /* the line handed out */
	uintmax_t lineno;
};

/** Start reading fd (not owned). Returns 0 or -1 (ENOMEM). */
int bagit_lines_init(struct bagit_lines *lines, int fd, bool latin1);

/**
 * The next line, without its end: 1 with *text and *len (valid until the
 * next call), 0 at the end, -1 with errno (a read error; EOVERFLOW for a
 * line longer than BAGIT_LINE_MAX, which ends the reading).
 */
int bagit_lines_next(struct bagit_lines *lines, const char **text, size_t *len);

/** Release the reader's buffers (not the descriptor); NULL-safe. */
void bagit_lines_fini(struct bagit_lines *lines);

#endif
