/* SPDX-License-Identifier: 0BSD */
/**
 * MHL v1 (the Media Hash List of Pomfort's mhl tool and godi: a <hashlist
 * version="1.0|1.1"> of <hash> elements), read streaming with expat. Each
 * <hash> becomes one entry: the path of its <file>, its <size>, and its
 * digests under the registry's names (hashreg.h), with the format's quirks
 * undone: <xxhash> is XXH32 written in decimal, <xxhash64> is XXH64 written
 * byte-reversed (little-endian), <xxhash64be> is XXH64 in canonical hex.
 *
 * The file may be UTF-8, UTF-16 (expat decodes it) or UTF-32 (transcoded to
 * UTF-8 here), with or without a byte-order mark, with any line ends. No DTD
 * is read: a DOCTYPE or an entity declaration stops the parse, so entities
 * cannot expand. Memory is bounded whatever the input: the text kept per
 * element (MHL1_PATH_MAX, MHL1_TEXT_MAX), the nesting depth (MHL1_DEPTH_MAX)
 * and the bytes expat may hold for one token (MHL1_TOKEN_MAX) all have a
 * stated maximum.
 */
#ifndef PTOOLS_MHL1_H
#define PTOOLS_MHL1_H

#include "prelude.h"
#include "hash.h"

/** The longest <file> path kept, in bytes of UTF-8. */
#define MHL1_PATH_MAX ((size_t)64 << 10)
/** The longest <size> or digest text kept. */
#define MHL1_TEXT_MAX 256
/** The deepest nesting of elements allowed. */
#define MHL1_DEPTH_MAX 32
/** The most input one token (a tag with its attributes, a comment) may span. */
#define MHL1_TOKEN_MAX ((size_t)1 << 20)
/** The most digests one entry carries (md5, sha1, xxh32, xxh64). */
#define MHL1_DIGESTS_MAX 4

/** One <hash> element. Everything points into the reader: valid during the callback only. */
struct mhl1_entry {
	const char *path;         /* NUL-terminated, path_len bytes, no NUL inside */
	size_t path_len;
	bool has_size;
	uint64_t size;
	size_t ndigests;
	const struct hash_algo *algos[MHL1_DIGESTS_MAX];
	const char *hex[MHL1_DIGESTS_MAX]; /* lowercase canonical hex */
	uintmax_t line;           /* the line of the <hash> start tag */
};

/**
 * Called for each <hash> element: with entry set, or with entry NULL and why
 * saying what is wrong with the element (line: where it starts). Returns 0 to
 * go on, or -1 to stop the parse (mhl1_feed then returns -1, errno kept).
 */
typedef int mhl1_entry_fn(void *arg, const struct mhl1_entry *entry, uintmax_t line,
			  const char *why);

struct mhl1_reader;

/**
 * Whether data (the first bytes of a manifest, len of them) is MHL v1 by its
 * content: a UTF-16 or UTF-32 byte-order mark (no other manifest format has
 * one), or, after an optional UTF-8 one and white space, "<?xml" or
 * "<hashlist" in UTF-8, UTF-16 or UTF-32.
 */
bool mhl1_detect(const char *data, size_t len);

/** A reader calling fn(arg, ...) per entry. Returns NULL with errno (ENOMEM). Free with mhl1_reader_free. */
struct mhl1_reader *mhl1_reader_new(mhl1_entry_fn *fn, void *arg);

/** Free the reader; NULL-safe. */
void mhl1_reader_free(struct mhl1_reader *reader);

/**
 * Feed the next len bytes of the file; final says they are the last (len
 * may be 0). Returns 0; or -1 when the file is malformed (*why says why, a
 * static or reader-owned text valid until the reader is freed, errno 0) or
 * the callback or an allocation failed (errno set, *why "out of memory" or
 * "stopped"). After -1 the reader accepts nothing more.
 */
int mhl1_feed(struct mhl1_reader *reader, const void *data, size_t len, bool final,
	      const char **why);

/** The line (1-based) the parser has reached: where an error was found. */
uintmax_t mhl1_line(const struct mhl1_reader *reader);

#endif
