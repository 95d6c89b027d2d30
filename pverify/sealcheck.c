/* SPDX-License-Identifier: 0BSD */
/** Checking a sealed manifest as it is read (sealcheck.h). */
#include "prelude.h"
#include "sealcheck.h"
#include <limits.h>
#include <string.h>
#include <unistd.h>

void seal_check_init(struct seal_check *check)
{
	memset(check, 0, sizeof(*check));
	check->ctx = hash_ctx_new(hash_lookup("sha256"));
}

void seal_check_fini(struct seal_check *check)
{
	if (!check)
		return;
	hash_ctx_free(check->ctx);
	check->ctx = NULL;
}

void seal_check_lost(struct seal_check *check)
{
	hash_ctx_free(check->ctx);
	check->ctx = NULL;
}

/* Compare the seal line's digest with the bytes hashed so far. */
static enum seal_line judge(struct seal_check *check, const char *line, size_t len)
{
	const struct hash_algo *sha256 = hash_lookup("sha256");
	size_t prefix = strlen(SEAL_LINE_PREFIX);
	unsigned char digest[HASH_DIGEST_MAX];
	char hex[HASH_HEX_MAX + 1];

	if (!check->ctx || hash_ctx_final(check->ctx, digest) != 0)
		return SEAL_UNCHECKABLE;
	hash_to_hex(digest, sha256->digest_len, hex);
	/* Exactly 64 lowercase hex digits: anything else is an edit. */
	if (len - prefix != 2 * sha256->digest_len ||
	    memcmp(line + prefix, hex, 2 * sha256->digest_len) != 0)
		return SEAL_MISMATCH;
	return SEAL_MATCH;
}

enum seal_line seal_check_line(struct seal_check *check, uintmax_t lineno, const char *line,
			       size_t len)
{
	size_t prefix = strlen(SEAL_LINE_PREFIX);

	if (lineno == 1 && len == strlen(SEAL_HEADER) && memcmp(line, SEAL_HEADER, len) == 0)
		check->header = true;
	if (check->sealed)
		return len == 0 ? SEAL_IGNORED : SEAL_AFTER;
	if (len >= prefix && memcmp(line, SEAL_LINE_PREFIX, prefix) == 0) {
		check->sealed = true;
		return judge(check, line, len);
	}
	if (check->ctx) {
		hash_ctx_update(check->ctx, line, len);
		hash_ctx_update(check->ctx, "\n", 1);
	}
	return SEAL_CONTENT;
}

enum seal_end seal_check_end(const struct seal_check *check, bool required)
{
	if (required && !check->header)
		return SEAL_END_NO_HEADER;
	if (check->header && !check->sealed)
		return SEAL_END_CUT;
	return SEAL_END_OK;
}

bool seal_named(const char *path)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (!path || strcmp(path, "-") == 0) {
		/* "pverify -C DEST < DEST/.ptools-seal", pcopy's own advice. */
		n = readlink("/proc/self/fd/0", target, sizeof(target) - 1);
		if (n < 0)
			return false;
		target[n] = '\0';
		path = target;
	}
	base = strrchr(path, '/');
	return strcmp(base ? base + 1 : path, SEAL_DEFAULT_NAME) == 0;
}
