/* SPDX-License-Identifier: 0BSD */
/**
 * The hash registry: every digest algorithm the tools know, by name, over
 * OpenSSL EVP (md5, sha1, sha224, sha256, sha384, sha512, sha512-256,
 * sha3-256, sha3-512, blake2b, blake2s) and xxHash (xxh32, xxh64, xxh3,
 * xxh128, through the dispatching fast paths). xxHash digests are written in
 * canonical big-endian hex, exactly as xxhsum prints them.
 *
 * A struct hashset feeds one buffer to several algorithms.
 */
#ifndef PTOOLS_HASH_H
#define PTOOLS_HASH_H

#include "prelude.h"

/** The largest digest in bytes (sha512/blake2b), and its hex length. */
#define HASH_DIGEST_MAX 64
#define HASH_HEX_MAX (2 * HASH_DIGEST_MAX)

/** Most algorithms one hashset may hold. */
#define HASH_SET_MAX 16

/** An algorithm (immutable, static storage). */
struct hash_algo {
	const char *name;      /* the attribute key: "sha256", "xxh128" */
	const char *gnu_tool;  /* coreutils tool writing this format, or NULL: "sha256sum" */
	const char *bsd_tag;   /* tag of the BSD form: "SHA256", "XXH128", "BLAKE2b" */
	size_t digest_len;     /* bytes */
	/* private: which backend and which function */
	int backend;
	int id;
};

/** Find an algorithm by its name (case-sensitive, as in records). NULL if unknown. */
const struct hash_algo *hash_lookup(const char *name);

/** Find by name of len bytes (not NUL-terminated). NULL if unknown. */
const struct hash_algo *hash_lookup_len(const char *name, size_t len);

/** Find an algorithm by its BSD tag ("SHA256", "BLAKE2b", "XXH3"). NULL if unknown. */
const struct hash_algo *hash_lookup_tag(const char *tag, size_t len);

/** The number of registered algorithms, and the i-th one (for --help and tests). */
size_t hash_count(void);
const struct hash_algo *hash_at(size_t i);

/**
 * Parse a comma-separated list such as "sha256,xxh128" into algos (duplicates
 * dropped). Returns the number found, or -1 with *bad pointing at the first
 * unknown name inside list (and *bad_len its length) or errno E2BIG past max.
 */
int hash_parse_list(const char *list, const struct hash_algo **algos, size_t max,
		    const char **bad, size_t *bad_len);

/** Write 2*len lowercase hex digits and a NUL to hex. */
void hash_to_hex(const unsigned char *digest, size_t len, char *hex);

/** One algorithm's running state. */
struct hash_ctx;

/** Make a context, ready for updates. Returns NULL with errno on failure. */
struct hash_ctx *hash_ctx_new(const struct hash_algo *algo);
/** Restart the context for a new message. Returns 0 or -1 (EIO from OpenSSL). */
int hash_ctx_reset(struct hash_ctx *ctx);
/** Feed len bytes. Returns 0 or -1. */
int hash_ctx_update(struct hash_ctx *ctx, const void *data, size_t len);
/** Finish into digest (algo->digest_len bytes). Returns 0 or -1. */
int hash_ctx_final(struct hash_ctx *ctx, unsigned char *digest);
/** Free; NULL-safe. */
void hash_ctx_free(struct hash_ctx *ctx);

/** Several algorithms fed from the same buffers, in order. */
struct hashset {
	size_t count;
	const struct hash_algo *algos[HASH_SET_MAX];
	struct hash_ctx *ctx[HASH_SET_MAX];
};

/** Make contexts for count algorithms. Returns 0, or -1 with errno (nothing to free then). */
int hashset_init(struct hashset *set, const struct hash_algo *const *algos, size_t count);
/** Restart every context. Returns 0 or -1. */
int hashset_reset(struct hashset *set);
/** Feed len bytes to every algorithm. Returns 0 or -1. */
int hashset_update(struct hashset *set, const void *data, size_t len);
/** Finish every algorithm into hex[i] (HASH_HEX_MAX + 1 bytes each). Returns 0 or -1. */
int hashset_final_hex(struct hashset *set, char hex[][HASH_HEX_MAX + 1]);
/** Free every context; NULL-safe on an initialised or zeroed set. */
void hashset_fini(struct hashset *set);

#endif
