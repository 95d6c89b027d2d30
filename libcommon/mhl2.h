/* SPDX-License-Identifier: 0BSD */
/**
 * ASC MHL v2 (urn:ASC:MHL:v2.0, the American Society of Cinematographers'
 * Media Hash List, as its reference implementation ascmitc/mhl writes it):
 * a folder's history is a directory "ascmhl" holding one generation file
 * per sealing, NNNN_<folder>_<yyyy-mm-dd_HHMMSS>Z.mhl, and the chain
 * ascmhl_chain.xml, which lists each generation with the C4 of its bytes.
 *
 * This module holds the format's pieces that need no file system:
 *  - its hash formats (md5, sha1, xxh32, xxh64, xxh3, xxh128, c4) and how a
 *    registry digest becomes an MHL digest string (C4: base58 of SHA-512);
 *  - directory hashes (mhl2_dirhash): a directory's content hash is the
 *    format's digest of its children's content digests, sorted as strings and
 *    concatenated as bytes; its structure hash is the same over each child's
 *    digest of (name in UTF-8 + the child's content digest for a file, its
 *    structure digest for a directory). An empty directory hashes nothing.
 *    The context holds one directory's children: memory grows with the
 *    entries of one directory, never with the tree;
 *  - a streaming writer (mhl2_writer) of a generation and of the chain,
 *    every byte also hashed for the chain's C4;
 *  - a streaming reader (expat) of both, one callback per entry, in bounded
 *    memory (MHL2_PATH_MAX, MHL2_TEXT_MAX, MHL2_DEPTH_MAX, MHL2_TOKEN_MAX),
 *    refusing any DOCTYPE or entity declaration.
 *
 * Nothing here prints; errors are returned (-1 with errno, or a reason).
 */
#ifndef PTOOLS_MHL2_H
#define PTOOLS_MHL2_H

#include "prelude.h"
#include "dbuf.h"
#include "hash.h"
#include <time.h>

/** The history's directory, inside the folder it describes. */
#define MHL2_DIR_NAME "ascmhl"
/** The chain file's name inside MHL2_DIR_NAME. */
#define MHL2_CHAIN_NAME "ascmhl_chain.xml"
/**
 * The ignore patterns every generation written here records: those of the
 * reference implementation, and ptools' own seal and its signature (a
 * folder sealed both ways must not list one seal in the other). A path with
 * a component of one of these names is neither listed nor reported as new
 * (mhl2_ignored).
 */
#define MHL2_IGNORE_PATTERNS {".DS_Store", "ascmhl", "ascmhl/", ".ptools-seal", ".ptools-seal.sig"}
#define MHL2_NIGNORE 5
/** Whether a relative path (len bytes) falls under MHL2_IGNORE_PATTERNS. */
bool mhl2_ignored(const char *path, size_t len);
/** C4 ids are always this long: "c4" and 88 base58 digits. */
#define MHL2_C4_LEN 90
/** The longest digest string of any format (C4), without its NUL. */
#define MHL2_DIGEST_MAX MHL2_C4_LEN
/** The longest <path> kept, in bytes of UTF-8. */
#define MHL2_PATH_MAX ((size_t)64 << 10)
/** The longest other element text kept (a digest, a date, a name). */
#define MHL2_TEXT_MAX 512
/** The deepest nesting of elements allowed. */
#define MHL2_DEPTH_MAX 16
/** The most input one token (a tag with its attributes, a comment) may span. */
#define MHL2_TOKEN_MAX ((size_t)1 << 20)
/** The most digests one <hash> (or directory hash) entry carries. */
#define MHL2_DIGESTS_MAX 14

/** The hash formats of ASC MHL v2, in the order a generation lists them. */
enum mhl2_format {
	MHL2_C4,
	MHL2_MD5,
	MHL2_SHA1,
	MHL2_XXH128,
	MHL2_XXH3,
	MHL2_XXH64,
	MHL2_XXH32,
	MHL2_FORMATS,
};

/** The digests an ASC MHL seal carries when none are asked for (-a). */
#define MHL2_DEFAULT_ALGORITHMS "xxh64,md5"
/**
 * An -a list (comma-separated registry names) with "c4", ASC MHL's name for
 * the base58 SHA-512 digest, standing for sha512. Returns it malloc'd, or
 * NULL (ENOMEM).
 */
char *mhl2_algorithm_list(const char *list);

/** The element name of a format ("xxh3", "c4"). */
const char *mhl2_format_name(enum mhl2_format format);
/** The format named name (len bytes), or -1. */
int mhl2_format_lookup(const char *name, size_t len);
/**
 * The registry algorithm whose digest a format is made from: sha512 for c4
 * (base58-encoded), else the algorithm of the same name (xxh3 is XXH3-64).
 */
const struct hash_algo *mhl2_format_algo(enum mhl2_format format);
/** The format a registry algorithm gives, or -1 (sha256 has none in MHL). */
int mhl2_format_of_algo(const struct hash_algo *algo);
/** The length of a format's digest string: 90 for c4, else twice the digest length. */
size_t mhl2_digest_len(enum mhl2_format format);

/**
 * The MHL digest string (NUL-terminated, at most MHL2_DIGEST_MAX) of a
 * registry digest given as lower-case hex: the hex itself, or for c4 the C4
 * id of the SHA-512 digest. Returns 0, or -1 (EINVAL: not hex of the
 * right length).
 */
int mhl2_digest_from_hex(enum mhl2_format format, const char *hex, char *out);
/** The C4 id (MHL2_C4_LEN + 1 bytes with its NUL) of a 64-byte SHA-512 digest. */
void mhl2_c4_encode(const unsigned char digest[64], char *out);
/** Decode a C4 id (len bytes) to its 64 bytes. Returns 0, or -1 when it is not one. */
int mhl2_c4_decode(const char *text, size_t len, unsigned char digest[64]);
/**
 * Whether text (len bytes) is a well-formed digest string of format; when
 * it is, its canonical form (hex in lower case) goes to out (MHL2_DIGEST_MAX
 * + 1 bytes).
 */
bool mhl2_digest_valid(enum mhl2_format format, const char *text, size_t len, char *out);

/*
 * Directory hashes.
 */

/** One directory's children, for one format. */
struct mhl2_dirhash {
	enum mhl2_format format;
	struct hash_ctx *ctx;     /* the format's algorithm, reused for every digest */
	size_t width;             /* bytes of one digest (c4: its SHA-512's 64) */
	struct dbuf content;      /* children's content digests, as bytes, width each */
	struct dbuf structure;    /* children's structure digests, as bytes, width each */
	struct dbuf scratch;      /* room for sorting them */
	size_t count;
};

/** Start a context for format. Returns 0, or -1 with errno. */
int mhl2_dirhash_init(struct mhl2_dirhash *dh, enum mhl2_format format);
/** Release; NULL-safe, idempotent on an initialised or zeroed context. */
void mhl2_dirhash_fini(struct mhl2_dirhash *dh);
/** Forget the children, for the next directory. */
void mhl2_dirhash_clear(struct mhl2_dirhash *dh);
/**
 * Add a child: name (its last path component, len bytes), content its
 * content digest string and, for a directory, structure its structure
 * digest string (NULL for a file). Returns 0, or -1 with errno (EINVAL: a
 * digest string that is not of the format).
 */
int mhl2_dirhash_add(struct mhl2_dirhash *dh, const char *name, size_t len, const char *content,
		     const char *structure);
/**
 * The directory's content and structure digest strings (MHL2_DIGEST_MAX + 1
 * bytes each). The children's order does not matter (they are taken in the
 * order of their canonical digest strings). Returns 0 or -1.
 */
int mhl2_dirhash_final(struct mhl2_dirhash *dh, char *content, char *structure);

/*
 * Writing.
 */

struct mhl2_flusher;

/** A file being written: its bytes buffered, counted and hashed (SHA-512, for C4). */
struct mhl2_writer {
	int fd;
	struct dbuf buf;
	size_t chunk;             /* what the buffer holds before it is written out */
	struct hash_ctx *sha512;  /* NULL for a plain writer */
	struct mhl2_flusher *flusher; /* mhl2_writer_init_async's thread, or NULL */
	int error;                /* the first errno, then nothing more is written */
	/* The last <path> date written, and its day (days since the epoch):
	 * the next one of the same day only changes its time. */
	bool date_valid;
	int64_t date_day;
	char date[40];
};

/** One digest in a <hash> or a directory hash. */
struct mhl2_digest {
	enum mhl2_format format;
	const char *value;        /* content digest string */
	const char *structure;    /* directories: the structure digest string */
	const char *action;       /* "original", "verified", "failed", or NULL */
};

/** What a generation's head says. */
struct mhl2_head {
	const char *creationdate; /* xs:dateTime, e.g. from mhl2_format_date */
	const char *hostname;
	const char *tool;
	const char *tool_version;
	const char *process;      /* "in-place" or "transfer" */
	const char *hashdate;     /* for the root hash digests */
	const struct mhl2_digest *root; /* the root directory's hashes */
	size_t nroot;
	const char *const *ignore; /* ignore patterns */
	size_t nignore;
};

/** Start writing to fd (not closed by the writer). Returns 0, or -1 with errno. */
int mhl2_writer_init(struct mhl2_writer *w, int fd);
/**
 * As mhl2_writer_init, but the bytes are hashed by a second thread, a large
 * chunk at a time, while the caller writes that chunk and formats the next
 * ones: for a generation whose entries come from memory, where formatting,
 * SHA-512 and the writes would otherwise take turns on one core (SHA-512,
 * the one that cannot be divided, is then all the thread does). It ends in
 * mhl2_writer_finish or mhl2_writer_fini. Returns 0, or -1 with errno.
 */
int mhl2_writer_init_async(struct mhl2_writer *w, int fd);
/** The same, for a part of a file: nothing is hashed (mhl2_writer_finish's c4 NULL). */
int mhl2_writer_init_plain(struct mhl2_writer *w, int fd);
/** Release; NULL-safe. */
void mhl2_writer_fini(struct mhl2_writer *w);
/** Append bytes another writer made (a generation's entries), as they are. */
void mhl2_write_raw(struct mhl2_writer *w, const void *data, size_t len);
/** The XML declaration, <hashlist>, creatorinfo, processinfo and <hashes>. */
void mhl2_write_head(struct mhl2_writer *w, const struct mhl2_head *head);
/** One file's <hash>: path (UTF-8, relative, '/'-separated), size, mtime and digests. */
void mhl2_write_file(struct mhl2_writer *w, const char *path, size_t len, uint64_t size,
		     const struct timespec *mtime, const struct mhl2_digest *digests, size_t n,
		     const char *hashdate);
/** One directory's <directoryhash>, every digest with its structure digest. */
void mhl2_write_dir(struct mhl2_writer *w, const char *path, size_t len,
		    const struct timespec *mtime, const struct mhl2_digest *digests, size_t n,
		    const char *hashdate);
/** </hashes></hashlist>. */
void mhl2_write_tail(struct mhl2_writer *w);
/**
 * Write out what is buffered and give the C4 id of every byte written
 * (c4: MHL2_C4_LEN + 1 bytes; NULL for a plain writer). Returns 0, or -1
 * with the first errno.
 */
int mhl2_writer_finish(struct mhl2_writer *w, char *c4);

/** One generation as the chain lists it. */
struct mhl2_chain_link {
	uint64_t sequence;
	const char *path;         /* the generation file's name */
	const char *c4;
};
/** A whole chain file: links in order. Returns 0, or -1 with errno. */
int mhl2_write_chain(int fd, const struct mhl2_chain_link *links, size_t n);

/**
 * Whether s (len bytes) can be written as XML text: valid UTF-8 without the
 * characters XML 1.0 cannot hold (NUL, most C0 controls, U+FFFE, U+FFFF).
 */
bool mhl2_text_valid(const char *s, size_t len);

/** xs:dateTime in UTC, "2020-01-16T09:15:00+00:00" (out: 32 bytes). */
void mhl2_format_date(time_t t, char *out, size_t size);
/**
 * A generation's file name, NNNN_<folder>_<yyyy-mm-dd_HHMMSS>Z.mhl, into
 * out (cleared first). Returns 0 or -1 (ENOMEM).
 */
int mhl2_generation_name(struct dbuf *out, uint64_t sequence, const char *folder, time_t t);

/*
 * Reading.
 */

/** What an entry is. */
enum mhl2_kind {
	MHL2_ENTRY_FILE,      /* a <hash> of a generation */
	MHL2_ENTRY_DIR,       /* a <directoryhash> of a generation */
	MHL2_ENTRY_ROOT,      /* the <roothash> of a generation (no path) */
	MHL2_ENTRY_PROCESS,   /* the <process> text (path holds it) */
	MHL2_ENTRY_IGNORE,    /* one <pattern> of processinfo's <ignore> (path holds it) */
	MHL2_ENTRY_LINK,      /* a <hashlist> of the chain: sequence, path, c4 (its text
			       * as written, even when it is not a C4 id, for comparison) */
};

/** One entry. Everything points into the reader: valid during the callback only. */
struct mhl2_entry {
	enum mhl2_kind kind;
	const char *path;         /* NUL-terminated, path_len bytes, no NUL inside */
	size_t path_len;
	bool has_size;
	uint64_t size;
	uint64_t sequence;        /* MHL2_ENTRY_LINK */
	size_t ndigests;
	struct mhl2_digest digests[MHL2_DIGESTS_MAX]; /* canonical strings */
	uintmax_t line;           /* where its problem was found; 0 for a good entry */
};

/**
 * Called per entry, with entry set, or with entry NULL, why saying what is
 * wrong with the element and line where that was found. Returns 0 to go on,
 * -1 to stop (mhl2_feed then returns -1, errno kept).
 */
typedef int mhl2_entry_fn(void *arg, const struct mhl2_entry *entry, uintmax_t line,
			  const char *why);

/** Which file a reader expects. */
enum mhl2_doc {
	MHL2_DOC_GENERATION,  /* <hashlist version="2.0"> */
	MHL2_DOC_CHAIN,       /* <ascmhldirectory> */
};

struct mhl2_reader;

/** A reader of doc calling fn(arg, ...). Returns NULL with errno. Free with mhl2_reader_free. */
struct mhl2_reader *mhl2_reader_new(enum mhl2_doc doc, mhl2_entry_fn *fn, void *arg);
/** Free; NULL-safe. */
void mhl2_reader_free(struct mhl2_reader *reader);
/**
 * Feed the next len bytes; final says they are the last. Returns 0, or -1
 * when the file is malformed (*why says why, valid until the reader is
 * freed; errno 0) or the callback or an allocation failed (errno set).
 */
int mhl2_feed(struct mhl2_reader *reader, const void *data, size_t len, bool final,
	      const char **why);
/** The line (1-based) the parser has reached. */
uintmax_t mhl2_line(const struct mhl2_reader *reader);

#endif
