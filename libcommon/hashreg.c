/* SPDX-License-Identifier: 0BSD */
/** The algorithm registry: names, tags and digest lengths, no hashing. */
#include "prelude.h"
#include "hashreg.h"
#include <errno.h>
#include <string.h>

/*
 * The registry. For EVP algorithms id indexes hash.c's evp_names. The BSD
 * tags are what the tool that best owns each algorithm writes with --tag:
 * coreutils for the SHA-2 family and BLAKE2b, shasum/OpenBSD cksum for
 * SHA512/256, rhash for SHA3, BLAKE2s and CRC32, xxhsum for the xxHash
 * family. crc32 is zlib's (IEEE 802.3, as in SFV files and rhash --crc32),
 * not POSIX cksum's CRC.
 */
static const struct hash_algo algos[] = {
	{"md5", "md5sum", "MD5", 16, false, BACKEND_EVP, 0},
	{"sha1", "sha1sum", "SHA1", 20, false, BACKEND_EVP, 1},
	{"sha224", "sha224sum", "SHA224", 28, false, BACKEND_EVP, 2},
	{"sha256", "sha256sum", "SHA256", 32, false, BACKEND_EVP, 3},
	{"sha384", "sha384sum", "SHA384", 48, false, BACKEND_EVP, 4},
	{"sha512", "sha512sum", "SHA512", 64, false, BACKEND_EVP, 5},
	{"sha512-256", NULL, "SHA512/256", 32, false, BACKEND_EVP, 6},
	{"sha3-256", NULL, "SHA3-256", 32, false, BACKEND_EVP, 7},
	{"sha3-512", NULL, "SHA3-512", 64, false, BACKEND_EVP, 8},
	{"blake2b", "b2sum", "BLAKE2b", 64, false, BACKEND_EVP, 9},
	{"blake2s", NULL, "BLAKE2s", 32, false, BACKEND_EVP, 10},
	{"xxh32", NULL, "XXH32", 4, false, BACKEND_XXH32, 0},
	{"xxh64", NULL, "XXH64", 8, false, BACKEND_XXH64, 0},
	{"xxh3", NULL, "XXH3", 8, false, BACKEND_XXH3, 0},
	{"xxh128", NULL, "XXH128", 16, false, BACKEND_XXH128, 0},
	{"crc32", NULL, "CRC32", 4, true, BACKEND_CRC32, 0},
};

/* Other tags seen in the wild for the same algorithms, accepted on input. */
static const struct {
	const char *tag;
	const char *name;
} tag_aliases[] = {
	{"SHA512t256", "sha512-256"},  /* FreeBSD sha512t256 */
	{"SHA2-512/256", "sha512-256"}, /* openssl dgst */
	{"BLAKE2s256", "blake2s"},
	{"BLAKE2S-256", "blake2s"},    /* openssl dgst */
	{"BLAKE2b512", "blake2b"},
	{"BLAKE2B-512", "blake2b"},    /* openssl dgst */
};

const struct hash_algo *hash_lookup_len(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < countof(algos); i++) {
		if (strlen(algos[i].name) == len && memcmp(algos[i].name, name, len) == 0)
			return &algos[i];
	}
	return NULL;
}

const struct hash_algo *hash_lookup(const char *name)
{
	return hash_lookup_len(name, strlen(name));
}

const struct hash_algo *hash_lookup_tag(const char *tag, size_t len)
{
	size_t i;

	for (i = 0; i < countof(algos); i++) {
		if (strlen(algos[i].bsd_tag) == len && memcmp(algos[i].bsd_tag, tag, len) == 0)
			return &algos[i];
	}
	for (i = 0; i < countof(tag_aliases); i++) {
		if (strlen(tag_aliases[i].tag) == len && memcmp(tag_aliases[i].tag, tag, len) == 0)
			return hash_lookup(tag_aliases[i].name);
	}
	return NULL;
}

size_t hash_count(void)
{
	return countof(algos);
}

const struct hash_algo *hash_at(size_t i)
{
	return i < countof(algos) ? &algos[i] : NULL;
}

int hash_parse_list(const char *list, const struct hash_algo **out, size_t max,
		    const char **bad, size_t *bad_len)
{
	const char *p = list;
	size_t count = 0, i;

	*bad = NULL;
	*bad_len = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const struct hash_algo *algo = hash_lookup_len(p, len);
		bool dup = false;

		if (!algo) {
			*bad = p;
			*bad_len = len;
			errno = EINVAL;
			return -1;
		}
		for (i = 0; i < count; i++)
			dup = dup || out[i] == algo;
		if (!dup) {
			if (count == max) {
				errno = E2BIG;
				return -1;
			}
			out[count++] = algo;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return (int)count;
}

void hash_to_hex(const unsigned char *digest, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[2 * len] = '\0';
}
