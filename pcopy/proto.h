/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy's protocol between a client and `pcopy --server` (docs/PROTOCOL.md):
 * the message types and the encoding of each payload, on frame.h's framing.
 * Decoders check every field a hostile peer could get wrong (lengths, path
 * shapes, file types, digest lengths) and never allocate.
 */
#ifndef PCOPY_PROTO_H
#define PCOPY_PROTO_H

#include "prelude.h"
#include "dbuf.h"
#include "frame.h"
#include "hash.h"
#include "sshsig.h"
#include <sys/stat.h>

#define PROTO_MAGIC "ptools-pcopy"
/*
 * The digest END carries beside the seal's, which the receiver computes
 * over the bytes as they arrive: it proves they are the bytes the sender
 * read, at a fraction of a cryptographic digest's cost (the seal's digests
 * are the source's, as in a local copy).
 */
#define PROTO_CHECK_ALGO "xxh128"
#define PROTO_VERSION 2

enum proto_type {
	PROTO_HELLO = 1,   /* both sides, first: magic, version */
	PROTO_SETUP = 2,   /* client: what the server is to do */
	PROTO_READY = 3,   /* server: set up; entries may come */
	PROTO_ROOT = 10,   /* sender: the source root's metadata */
	PROTO_DIR = 11,    /* a directory */
	PROTO_NODE = 12,   /* a symlink (with its target) or a special file */
	PROTO_FILE = 13,   /* a regular file begins; DATA frames follow, then END or ABORT */
	PROTO_DATA = 14,   /* the next bytes of the file */
	PROTO_END = 15,    /* the file is whole: the source's digests, and the check digest */
	PROTO_ABORT = 16,  /* the file is dropped (the source failed) */
	PROTO_LINK = 17,   /* -H: another name of a file sent before (same dev and ino) */
	PROTO_SAME = 18,   /* delta: the next bytes are the receiver's old file's, at the same offset */
	PROTO_HISTORY = 19, /* sender, --mhl, before any entry: a piece of SRC's ASC MHL history */
	PROTO_COMMIT = 20, /* sender: everything was sent: seal */
	PROTO_CANCEL = 21, /* sender: roll back (why) */
	PROTO_MSG = 30,    /* a message line for the user's stderr */
	PROTO_FAILED = 31, /* receiver: its destination failed (why): send no more */
	PROTO_DONE = 32,   /* receiver: how the run ended there */
	PROTO_BASE = 40,   /* receiver: this FILE is updated by delta: old size, block size */
	PROTO_WHOLE = 41,  /* receiver: send this FILE whole */
	PROTO_HASHES = 42, /* receiver: keyed hashes of the old file's next blocks */
	PROTO_SIGN_ASK = 43,  /* receiver, after COMMIT with PROTO_SIGN: sign this digest (SIGN) */
	PROTO_SIGNATURE = 44, /* sender: SIGN's answer, a signature or why there is none */
	PROTO_RECORD = 33, /* receiver of a single file: its record, once committed */
};

/** What the server is asked to do (SETUP's role). */
enum proto_role {
	ROLE_RECEIVE = 1,  /* write what comes into path */
	ROLE_SEND = 2,     /* send the tree at path */
	ROLE_ROLLBACK = 3, /* pcopy --rollback path */
};

/* SETUP's flags: the copy options that travel. */
enum {
	PROTO_FORCE = 1 << 0,
	PROTO_UPDATE = 1 << 1,
	PROTO_FSYNC = 1 << 2,
	PROTO_VERIFY = 1 << 3,
	PROTO_PRESERVE = 1 << 4,
	PROTO_HARD_LINKS = 1 << 5,
	PROTO_KEEP_GOING = 1 << 6,
	PROTO_COMPRESS = 1 << 7,     /* after SETUP, both directions are one zstd stream each */
	PROTO_DELTA = 1 << 8,        /* --delta */
	PROTO_WHOLE_FILE = 1 << 9,   /* -W */
	PROTO_INPLACE = 1 << 10,     /* --inplace */
	PROTO_MHL = 1 << 11,         /* --mhl: the destination's seal is an ASC MHL generation */
	PROTO_BAG = 1 << 12,         /* --bag: the destination is made a BagIt bag */
	PROTO_SIGN = 1 << 13,        /* --sign: the receiver's seals are signed through the client */
	/* SEND only: the sender walks with the client's exclude set (SETUP's
	 * excludes), in place of its own default one. */
	PROTO_EXCLUDE = 1 << 14,
	/* A single file (pcopy FILE host:PATH, pcopy host:FILE PATH): SETUP
	 * carries single_name, READY says whether a single file comes. */
	PROTO_SINGLE = 1 << 15,
	PROTO_FLAGS_ALL = ((1 << 15) - 1) | PROTO_SINGLE,
};

/* What a SIGN asks to be signed (PROTOCOL.md 4.10): for messages, and to bound how many come. */
enum proto_sign_what {
	PROTO_SIGN_SEAL = 0,         /* the native seal */
	PROTO_SIGN_CHAIN = 1,        /* the ASC MHL chain */
	PROTO_SIGN_TAG_MANIFEST = 2, /* a bag's tag manifest */
};

/* The longest signature SIGNATURE may carry, and the longest reason for none. */
#define PROTO_SIGNATURE_MAX ((size_t)16 << 10)
#define PROTO_SIGN_WHY_MAX ((size_t)1 << 10)

/* Remote delta (PROTOCOL.md 4.7): SETUP's key, a block hash, HASHES' batch, block sizes. */
#define PROTO_KEY_LEN 16
#define PROTO_HASH_LEN 16
#define PROTO_HASHES_MAX 1024
#define PROTO_BLOCK_MIN ((uint32_t)4 << 10)
#define PROTO_BLOCK_MAX ((uint32_t)1 << 20)

/*
 * SRC's ASC MHL history (PROTOCOL.md 4.9): at most this many bytes and
 * files (the chain and its generations) in all, so that what the receiver
 * keeps of it stays bounded whatever the sender says.
 */
#define PROTO_HISTORY_MAX ((uint64_t)1 << 30)
#define PROTO_HISTORY_FILES_MAX 10000
/* The history's chain file: the first file a history sends. */
#define PROTO_HISTORY_CHAIN "ascmhl_chain.xml"

/*
 * The client's exclude set (PROTOCOL.md 4.1, PROTO_EXCLUDE): at most this
 * many patterns (--exclude and the defaults), each 1 to this many bytes.
 */
#define PROTO_EXCLUDE_MAX 1024
#define PROTO_EXCLUDE_LEN_MAX ((size_t)4096)

struct proto_setup {
	unsigned role;
	const char *path;            /* the remote operand's path (NUL-free, copied) */
	const char *host;            /* the host as the user wrote it, for messages */
	uint32_t flags;
	const char *algos;           /* "sha256,xxh128" */
	const char *seal_name;
	unsigned readers;
	uint32_t block_size;         /* --block-size; 0: the default */
	unsigned char key[PROTO_KEY_LEN]; /* the run's block-hash key */
	/* PROTO_SINGLE: receiving, FILE's name (the new file's name when path
	 * is an existing directory); sending, empty. NULL without the flag. */
	const char *single_name;
	/* PROTO_EXCLUDE: the patterns of the exclude set, nexcludes of them,
	 * each NUL-terminated, one after another (proto_setup_next_exclude). */
	const char *excludes;
	uint32_t nexcludes;
};

/** One entry: ROOT, DIR, NODE, FILE or LINK. */
struct proto_entry {
	const char *rel;             /* not NUL-terminated in a decoded frame */
	size_t rel_len;
	struct stat st;
	const char *target;          /* NODE: a symlink's target; NULL otherwise */
	size_t target_len;
	const unsigned char *xattrs; /* -p: name and value pairs (proto_xattr_next) */
	size_t xattrs_len;
};

struct proto_done {
	unsigned status;             /* the receiver's exit status */
	bool changed;                /* a rollback there undid something */
	uint64_t files, bytes;
	const char *why;
	size_t why_len;
};

/* Encoders: append one whole frame to out. 0 or -1 (errno). */
int proto_put_hello(struct dbuf *out);
int proto_put_setup(struct dbuf *out, const struct proto_setup *setup);
int proto_put_entry(struct dbuf *out, unsigned type, const struct proto_entry *entry);
/** DATA with len bytes (at most FRAME_PAYLOAD_MAX - 4). */
int proto_put_data(struct dbuf *out, const void *data, size_t len);
int proto_put_end(struct dbuf *out, char hex[][HASH_HEX_MAX + 1], size_t count, const char *check);
/** A frame whose payload is one text field (MSG, FAILED, CANCEL) or none (READY, ABORT). */
int proto_put_text(struct dbuf *out, unsigned type, const char *text, size_t len);
int proto_put_commit(struct dbuf *out, uint64_t left_out);
int proto_put_done(struct dbuf *out, const struct proto_done *done);
/* Remote delta: BASE (old size, block size), HASHES (count hashes of
 * PROTO_HASH_LEN bytes from block first), SAME (offset, length). */
int proto_put_base(struct dbuf *out, uint64_t base, uint32_t block);
int proto_put_hashes(struct dbuf *out, uint64_t first, const void *hashes, size_t count);
int proto_put_same(struct dbuf *out, uint64_t offset, uint64_t length);
/** READY: empty (single < 0), or, after a SETUP with PROTO_SINGLE, u8 single (0 or 1). */
int proto_put_ready(struct dbuf *out, int single);
/**
 * HISTORY: the next len bytes of the history file name (name_len bytes);
 * an empty name (and no data) ends the history.
 */
int proto_put_history(struct dbuf *out, const char *name, size_t name_len, const void *data,
		      size_t len);

/** SIGN: what (enum proto_sign_what), and the SHA-512 of the message to sign. */
int proto_put_sign(struct dbuf *out, unsigned what, const unsigned char digest[SSHSIG_DIGEST_LEN]);
/**
 * SIGNATURE: the armored signature (len bytes), or, when the sender could
 * not sign, an empty one and why (why_len bytes).
 */
int proto_put_signature(struct dbuf *out, const char *armored, size_t len, const char *why,
			size_t why_len);

/*
 * Decoders: 0, or -1 when the frame is malformed (with a reason for the
 * message in *why). Decoded pointers point into the frame.
 */
int proto_get_hello(const struct frame *frame, unsigned *version, const char **why);
/**
 * SETUP: strings are copied into store (NUL-terminated there). With
 * PROTO_EXCLUDE (ROLE_SEND only): 0 to PROTO_EXCLUDE_MAX patterns, each 1 to
 * PROTO_EXCLUDE_LEN_MAX bytes without NUL.
 */
int proto_get_setup(const struct frame *frame, struct proto_setup *setup, struct dbuf *store,
		    const char **why);
/** The pattern after pattern in a SETUP's excludes (the caller counts nexcludes). */
const char *proto_setup_next_exclude(const char *pattern);
int proto_get_entry(const struct frame *frame, struct proto_entry *entry, const char **why);
int proto_get_data(const struct frame *frame, const unsigned char **data, size_t *len,
		   const char **why);
/**
 * END: count digests of the lengths algos give, each lower-case hex, into
 * hex; then the PROTO_CHECK_ALGO digest into check (HASH_HEX_MAX + 1 bytes).
 */
int proto_get_end(const struct frame *frame, const struct hash_algo *const *algos, size_t count,
		  char hex[][HASH_HEX_MAX + 1], char *check, const char **why);
int proto_get_text(const struct frame *frame, const char **text, size_t *len, const char **why);
int proto_get_commit(const struct frame *frame, uint64_t *left_out, const char **why);
int proto_get_done(const struct frame *frame, struct proto_done *done, const char **why);
/** Whether block is a block size the protocol allows (a power of two, PROTO_BLOCK_MIN to PROTO_BLOCK_MAX). */
bool proto_block_ok(uint64_t block);

/** BASE: base at most 2^63-1, block a power of two from PROTO_BLOCK_MIN to PROTO_BLOCK_MAX. */
int proto_get_base(const struct frame *frame, uint64_t *base, uint32_t *block, const char **why);
/** HASHES: 1 to PROTO_HASHES_MAX whole hashes; *hashes points into the frame. */
int proto_get_hashes(const struct frame *frame, uint64_t *first, const unsigned char **hashes,
		     size_t *count, const char **why);
/** SAME: a length of at least 1, offset + length at most 2^63-1. */
int proto_get_same(const struct frame *frame, uint64_t *offset, uint64_t *length, const char **why);
/** READY: empty (single NULL), or u8 0 or 1 into *single (asked with PROTO_SINGLE). */
int proto_get_ready(const struct frame *frame, bool *single, const char **why);
/** SIGN (its type checked): what a known kind, digest exactly SSHSIG_DIGEST_LEN bytes (*digest points into the frame). */
int proto_get_sign(const struct frame *frame, unsigned *what, const unsigned char **digest,
		   const char **why);
/**
 * SIGNATURE (its type checked): exactly one of a signature (1 to PROTO_SIGNATURE_MAX bytes,
 * not checked further here) and a reason (1 to PROTO_SIGN_WHY_MAX bytes);
 * both point into the frame. The signature's text is the caller's to verify.
 */
int proto_get_signature(const struct frame *frame, const char **armored, size_t *len,
			const char **reason, size_t *reason_len, const char **why);
/**
 * HISTORY: name empty (the end; data empty too), PROTO_HISTORY_CHAIN, or a
 * generation's name (proto_generation_name_ok); *name and *data point into
 * the frame.
 */
int proto_get_history(const struct frame *frame, const char **name, size_t *name_len,
		      const unsigned char **data, size_t *len, const char **why);

/**
 * Whether name (len bytes) is an ASC MHL generation's file name, the only
 * files besides the chain a history carries: one component of at most
 * NAME_MAX bytes, digits, then '_' or '.', ending in ".mhl" (the reference
 * implementation's NNNN_name.mhl), no NUL and no '/'.
 */
bool proto_generation_name_ok(const char *name, size_t len);

/*
 * The longest relative path an entry may have. Longer than PATH_MAX, as a
 * local copy allows: the engine opens paths a directory at a time.
 */
#define PROTO_REL_MAX ((size_t)1 << 16)

/**
 * Whether rel (len bytes) may name an entry beneath a destination root:
 * relative, no empty, "." or ".." component, no NUL, shorter than
 * PROTO_REL_MAX.
 */
bool proto_rel_ok(const char *rel, size_t len);

/**
 * The next extended attribute of an entry's xattrs (*pos from 0): 1 with
 * name (NUL-terminated in namebuf, XATTR_NAME_MAX + 1 bytes) and value; 0 at
 * the end; -1 when malformed.
 */
int proto_xattr_next(const unsigned char *xattrs, size_t len, size_t *pos, char *namebuf,
		     const unsigned char **value, size_t *value_len);

/** Append one attribute to an xattrs blob. 0 or -1. */
int proto_xattr_put(struct dbuf *blob, const char *name, const void *value, size_t len);

#endif
