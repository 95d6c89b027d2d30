/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for pverify's seal check (pverify/sealcheck.c), the
 * judge of whether a manifest is the one pcopy sealed. The input's lines,
 * taken as a manifest, must be judged without a crash. Then the same lines
 * (any seal line among them dropped) are sealed as pcopy seals them: that
 * manifest must verify, and the same manifest with one byte changed (which
 * byte, and to what, chosen by the input) must not.
 */
/* fuzz-sources: pverify/sealcheck.c */
#include "prelude.h"
#include "../../pverify/sealcheck.h"
#include "dbuf.h"
#include "hash.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a bug: stop here so libFuzzer keeps the input. */
#define CHECK(cond) ((cond) ? (void)0 : abort())

/*
 * Judge text (len bytes) as pverify reads a manifest: LF-separated lines, a
 * last line without LF still a line. Returns whether it verified as sealed.
 */
static bool verifies(const char *text, size_t len)
{
	struct seal_check check;
	size_t start = 0, lineno = 0;
	bool ok = true;

	seal_check_init(&check);
	while (start < len) {
		const char *lf = memchr(text + start, '\n', len - start);
		size_t end = lf ? (size_t)(lf - text) : len;

		switch (seal_check_line(&check, ++lineno, text + start, end - start)) {
		case SEAL_CONTENT:
		case SEAL_IGNORED:
		case SEAL_MATCH:
			break;
		case SEAL_MISMATCH:
		case SEAL_UNCHECKABLE:
		case SEAL_AFTER:
			ok = false;
			break;
		}
		start = end + 1;
	}
	ok = ok && check.sealed && seal_check_end(&check, true) == SEAL_END_OK;
	seal_check_fini(&check);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hash_algo *sha256 = hash_lookup("sha256");
	const char *text = (const char *)data;
	unsigned char digest[HASH_DIGEST_MAX];
	char hex[HASH_HEX_MAX + 1];
	struct hash_ctx *ctx;
	struct dbuf sealed;
	size_t start = 0, at;

	(void)verifies(text, size);

	/* Seal the input's lines: the header, every line not itself a seal
	 * line (a seal line in the middle would be judged there), LF-ended. */
	dbuf_init(&sealed);
	CHECK(dbuf_puts(&sealed, SEAL_HEADER "\n") == 0);
	while (start < size) {
		const char *lf = memchr(text + start, '\n', size - start);
		size_t end = lf ? (size_t)(lf - text) : size;

		if (end - start < strlen(SEAL_LINE_PREFIX) ||
		    memcmp(text + start, SEAL_LINE_PREFIX, strlen(SEAL_LINE_PREFIX)) != 0) {
			CHECK(dbuf_append(&sealed, text + start, end - start) == 0);
			CHECK(dbuf_putc(&sealed, '\n') == 0);
		}
		start = end + 1;
	}
	ctx = hash_ctx_new(sha256);
	CHECK(ctx && hash_ctx_update(ctx, sealed.data, sealed.len) == 0 &&
	      hash_ctx_final(ctx, digest) == 0);
	hash_ctx_free(ctx);
	hash_to_hex(digest, sha256->digest_len, hex);
	CHECK(dbuf_printf(&sealed, "%s%s\n", SEAL_LINE_PREFIX, hex) == 0);
	CHECK(verifies(sealed.data, sealed.len));

	/* One changed byte anywhere: never verifies. */
	if (size >= 2) {
		at = ((size_t)data[0] << 8 | data[1]) % sealed.len;
		sealed.data[at] ^= (char)(data[size - 1] | 1);
		CHECK(!verifies(sealed.data, sealed.len));
	}
	dbuf_free(&sealed);
	return 0;
}
