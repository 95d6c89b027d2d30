/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for libcommon/unorm.c, which pverify runs over manifest
 * paths (outside input). Any bytes must be normalized or refused (EILSEQ)
 * without a crash, and the forms must keep their defining properties: each
 * is idempotent, NFD(NFC(x)) = NFD(x) and NFC(NFD(x)) = NFC(x), and text that
 * is refused in one form is refused in the other.
 */
#include "prelude.h"
#include "unorm.h"
#include "dbuf.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a bug: stop here so libFuzzer keeps the input. */
#define CHECK(cond) ((cond) ? (void)0 : abort())

static bool same(const struct dbuf *a, const struct dbuf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dbuf nfc, nfd, again;
	int rc_c, rc_d;

	dbuf_init(&nfc);
	dbuf_init(&nfd);
	dbuf_init(&again);
	rc_c = unorm_normalize(UNORM_NFC, (const char *)data, size, &nfc);
	rc_d = unorm_normalize(UNORM_NFD, (const char *)data, size, &nfd);
	CHECK(rc_c == rc_d);
	if (rc_c != 0) {
		CHECK(errno == EILSEQ || errno == ENOMEM);
		CHECK(nfc.len == 0 && nfd.len == 0);
		goto out;
	}
	CHECK(unorm_normalize(UNORM_NFC, nfc.data, nfc.len, &again) == 0 && same(&again, &nfc));
	dbuf_clear(&again);
	CHECK(unorm_normalize(UNORM_NFD, nfd.data, nfd.len, &again) == 0 && same(&again, &nfd));
	dbuf_clear(&again);
	CHECK(unorm_normalize(UNORM_NFD, nfc.data, nfc.len, &again) == 0 && same(&again, &nfd));
	dbuf_clear(&again);
	CHECK(unorm_normalize(UNORM_NFC, nfd.data, nfd.len, &again) == 0 && same(&again, &nfc));
out:
	dbuf_free(&nfc);
	dbuf_free(&nfd);
	dbuf_free(&again);
	return 0;
}
