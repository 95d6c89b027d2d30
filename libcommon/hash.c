/* SPDX-License-Identifier: 0BSD */
/** Hashing: OpenSSL EVP, xxHash and zlib's crc32 behind one small interface. */
#include "prelude.h"
#include "hash.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#define XXH_STATIC_LINKING_ONLY /* the XXH3 state's size, for XXH3_createState */
#include <xxhash.h>
#include <xxh_x86dispatch.h>
#include <zlib.h>

/* OpenSSL's names for the registry's EVP algorithms (hashreg.c), by id. */
static const char *const evp_names[] = {
	"MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "SHA512-256",
	"SHA3-256", "SHA3-512", "BLAKE2B-512", "BLAKE2S-256",
};

/*
 * Every EVP_MD is fetched once, on first use, and never freed: fetching is
 * expensive (a provider lookup under a lock), and the handles are immutable
 * and safe to share between threads. Written only inside pthread_once.
 */
static EVP_MD *evp_mds[countof(evp_names)];
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void evp_fetch_all(void)
{
	size_t i;

	for (i = 0; i < countof(evp_names); i++)
		evp_mds[i] = EVP_MD_fetch(NULL, evp_names[i], NULL);
}

static const EVP_MD *evp_md(int id)
{
	pthread_once(&evp_once, evp_fetch_all);
	return evp_mds[id];
}

struct hash_ctx {
	const struct hash_algo *algo;
	uint32_t crc; /* crc32: the running value; needs no allocation */
	union {
		EVP_MD_CTX *evp;
		XXH32_state_t *xxh32;
		XXH64_state_t *xxh64;
		XXH3_state_t *xxh3; /* xxh3 and xxh128 */
	} u;
};

struct hash_ctx *hash_ctx_new(const struct hash_algo *algo)
{
	struct hash_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->algo = algo;
	switch (algo->backend) {
	case BACKEND_EVP:
		if (!evp_md(algo->id)) {
			/* The provider lacks it (a FIPS-only configuration, say). */
			errno = ENOSYS;
			goto fail;
		}
		ctx->u.evp = EVP_MD_CTX_new();
		break;
	case BACKEND_XXH32:
		ctx->u.xxh32 = XXH32_createState();
		break;
	case BACKEND_XXH64:
		ctx->u.xxh64 = XXH64_createState();
		break;
	case BACKEND_CRC32:
		break;
	default:
		ctx->u.xxh3 = XXH3_createState();
		break;
	}
	/* Every union member is a pointer, so any of them tells allocation failure. */
	if (algo->backend != BACKEND_CRC32 && !ctx->u.evp) {
		errno = ENOMEM;
		goto fail;
	}
	if (hash_ctx_reset(ctx) != 0)
		goto fail;
	return ctx;
fail:
	hash_ctx_free(ctx);
	return NULL;
}

int hash_ctx_reset(struct hash_ctx *ctx)
{
	int ok;

	switch (ctx->algo->backend) {
	case BACKEND_EVP:
		ok = EVP_DigestInit_ex(ctx->u.evp, evp_md(ctx->algo->id), NULL) == 1;
		break;
	case BACKEND_XXH32:
		ok = XXH32_reset(ctx->u.xxh32, 0) == XXH_OK;
		break;
	case BACKEND_XXH64:
		ok = XXH64_reset(ctx->u.xxh64, 0) == XXH_OK;
		break;
	case BACKEND_XXH3:
		ok = XXH3_64bits_reset(ctx->u.xxh3) == XXH_OK;
		break;
	case BACKEND_CRC32:
		ctx->crc = (uint32_t)crc32(0L, Z_NULL, 0);
		ok = 1;
		break;
	default:
		ok = XXH3_128bits_reset(ctx->u.xxh3) == XXH_OK;
		break;
	}
	if (!ok) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int hash_ctx_update(struct hash_ctx *ctx, const void *data, size_t len)
{
	int ok;

	switch (ctx->algo->backend) {
	case BACKEND_EVP:
		ok = EVP_DigestUpdate(ctx->u.evp, data, len) == 1;
		break;
	case BACKEND_XXH32:
		ok = XXH32_update(ctx->u.xxh32, data, len) == XXH_OK;
		break;
	case BACKEND_XXH64:
		ok = XXH64_update(ctx->u.xxh64, data, len) == XXH_OK;
		break;
	case BACKEND_XXH3:
		/* The dispatching entry point picks AVX2/AVX-512 at run time;
		 * Debian's plain XXH3_64bits_update is built for SSE2 only. */
		ok = XXH3_64bits_update_dispatch(ctx->u.xxh3, data, len) == XXH_OK;
		break;
	case BACKEND_CRC32:
		/* crc32_z takes a size_t length: no 4 GiB chunking needed. */
		ctx->crc = (uint32_t)crc32_z(ctx->crc, data, len);
		ok = 1;
		break;
	default:
		ok = XXH3_128bits_update_dispatch(ctx->u.xxh3, data, len) == XXH_OK;
		break;
	}
	if (!ok) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int hash_ctx_final(struct hash_ctx *ctx, unsigned char *digest)
{
	switch (ctx->algo->backend) {
	case BACKEND_EVP: {
		unsigned int len = 0;

		if (EVP_DigestFinal_ex(ctx->u.evp, digest, &len) != 1 ||
		    len != ctx->algo->digest_len) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	case BACKEND_XXH32: {
		XXH32_canonical_t canon;

		XXH32_canonicalFromHash(&canon, XXH32_digest(ctx->u.xxh32));
		memcpy(digest, canon.digest, sizeof(canon.digest));
		return 0;
	}
	case BACKEND_XXH64:
	case BACKEND_XXH3: {
		/* Both are 64 bits, written in the same canonical (big-endian) form. */
		XXH64_hash_t value = ctx->algo->backend == BACKEND_XXH64
					     ? XXH64_digest(ctx->u.xxh64)
					     : XXH3_64bits_digest(ctx->u.xxh3);
		XXH64_canonical_t canon;

		XXH64_canonicalFromHash(&canon, value);
		memcpy(digest, canon.digest, sizeof(canon.digest));
		return 0;
	}
	case BACKEND_CRC32:
		/* Big-endian, the digits rhash and SFV files print. */
		digest[0] = (unsigned char)(ctx->crc >> 24);
		digest[1] = (unsigned char)(ctx->crc >> 16);
		digest[2] = (unsigned char)(ctx->crc >> 8);
		digest[3] = (unsigned char)ctx->crc;
		return 0;
	default: {
		XXH128_canonical_t canon;

		XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(ctx->u.xxh3));
		memcpy(digest, canon.digest, sizeof(canon.digest));
		return 0;
	}
	}
}

void hash_ctx_free(struct hash_ctx *ctx)
{
	if (!ctx)
		return;
	switch (ctx->algo->backend) {
	case BACKEND_EVP:
		EVP_MD_CTX_free(ctx->u.evp);
		break;
	case BACKEND_XXH32:
		XXH32_freeState(ctx->u.xxh32);
		break;
	case BACKEND_XXH64:
		XXH64_freeState(ctx->u.xxh64);
		break;
	case BACKEND_CRC32:
		break;
	default:
		XXH3_freeState(ctx->u.xxh3);
		break;
	}
	free(ctx);
}

int hashset_init(struct hashset *set, const struct hash_algo *const *list, size_t count)
{
	size_t i;

	memset(set, 0, sizeof(*set));
	if (count > HASH_SET_MAX) {
		errno = E2BIG;
		return -1;
	}
	for (i = 0; i < count; i++) {
		set->algos[i] = list[i];
		set->ctx[i] = hash_ctx_new(list[i]);
		if (!set->ctx[i]) {
			int saved = errno;

			set->count = i;
			hashset_fini(set);
			errno = saved;
			return -1;
		}
	}
	set->count = count;
	return 0;
}

int hashset_reset(struct hashset *set)
{
	size_t i;

	for (i = 0; i < set->count; i++) {
		if (hash_ctx_reset(set->ctx[i]) != 0)
			return -1;
	}
	return 0;
}

int hashset_update(struct hashset *set, const void *data, size_t len)
{
	size_t i;

	for (i = 0; i < set->count; i++) {
		if (hash_ctx_update(set->ctx[i], data, len) != 0)
			return -1;
	}
	return 0;
}

int hashset_final_hex(struct hashset *set, char hex[][HASH_HEX_MAX + 1])
{
	unsigned char digest[HASH_DIGEST_MAX];
	size_t i;

	for (i = 0; i < set->count; i++) {
		if (hash_ctx_final(set->ctx[i], digest) != 0)
			return -1;
		hash_to_hex(digest, set->algos[i]->digest_len, hex[i]);
	}
	return 0;
}

void hashset_fini(struct hashset *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->count; i++)
		hash_ctx_free(set->ctx[i]);
	memset(set, 0, sizeof(*set));
}
