/* SPDX-License-Identifier: 0BSD */
/**
 * The algorithm registry: every digest algorithm the tools know, by name,
 * BSD tag and digest length, with no hashing code, so that a program that
 * only reads records (pfind writes them, the record parser checks digest
 * attributes) does not load OpenSSL and xxHash. hash.h hashes with them.
 */
#ifndef PTOOLS_HASHREG_H
#define PTOOLS_HASHREG_H

#include "prelude.h"

/** The largest digest in bytes (sha512/blake2b), and its hex length. */
#define HASH_DIGEST_MAX 64
#define HASH_HEX_MAX (2 * HASH_DIGEST_MAX)

/** Which library computes an algorithm (used by hash.c). */
enum hash_backend {
	BACKEND_EVP,
	BACKEND_XXH32,
	BACKEND_XXH64,
	BACKEND_XXH3,
	BACKEND_XXH128,
	BACKEND_CRC32,
};

/** An algorithm (immutable, static storage). */
struct hash_algo {
	const char *name;      /* the attribute key: "sha256", "xxh128" */
	const char *gnu_tool;  /* coreutils tool writing this format, or NULL: "sha256sum" */
	const char *bsd_tag;   /* tag of the BSD form: "SHA256", "XXH128", "BLAKE2b" */
	size_t digest_len;     /* bytes */
	/* Never told from a digest length alone: crc32 has xxh32's 8 hex
	 * digits, and a bare 8-digit GNU line has long meant xxh32. */
	bool not_by_length;
	/* private to hash.c: which backend, and which function of it */
	int backend;           /* enum hash_backend */
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

#endif
