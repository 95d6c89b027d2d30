/* SPDX-License-Identifier: 0BSD */
/**
 * Hashing with the algorithms of the registry (hashreg.h): OpenSSL EVP (md5,
 * sha1, sha224, sha256, sha384, sha512, sha512-256, sha3-256, sha3-512,
 * blake2b, blake2s), xxHash (xxh32, xxh64, xxh3, xxh128, through the
 * dispatching fast paths) and zlib (crc32). xxHash and crc32 digests are
 * written in canonical big-endian hex, exactly as xxhsum and rhash print them.
 *
 * A struct hashset feeds one buffer to several algorithms.
 */
#ifndef PTOOLS_HASH_H
#define PTOOLS_HASH_H

#include "prelude.h"
#include "hashreg.h"

/** Most algorithms one hashset may hold. */
#define HASH_SET_MAX 16

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
