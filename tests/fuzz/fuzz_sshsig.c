/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the SSH signature module (libcommon/sshsig.c): the
 * armored SSHSIG parser, the OpenSSH key file parser, allowed_signers lines
 * and base64. The first byte picks the parser (modulo 6); the rest is its
 * input:
 *   0  an armored signature; one that parses is checked against a digest
 *      (it must not verify: the digest is not of anything signed)
 *   1  a key file; a private key that parses signs a digest, and what it
 *      makes must parse and verify, and fail for another digest
 *   2  allowed_signers text, judged a line at a time for the test key
 *   3  base64: what decodes encodes back to the same bytes
 *   4  raw bytes armored as a signature, then as 0 (the wire parser reached
 *      directly)
 *   5  raw bytes armored as an openssh-key-v1 private key, then as 1
 * Nothing may crash, read out of bounds or leak.
 */
#include "prelude.h"
#include "sshsig.h"
#include "dbuf.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

/* The public half of tests/unit/test_sshsig.c's key. */
static const unsigned char test_pub[SSHSIG_PUB_LEN] = {
	0x50, 0x0f, 0x19, 0x3a, 0x90, 0xe7, 0x0a, 0xb8, 0x34, 0x1d, 0x93, 0x55, 0x6e, 0xfb, 0xdc, 0x3b,
	0xae, 0x13, 0x53, 0x70, 0x80, 0xc7, 0x92, 0x37, 0x55, 0x34, 0x2a, 0xd1, 0xdd, 0xf9, 0x7d, 0x64,
};

static void fuzz_signature(const char *text, size_t len)
{
	struct sshsig_signature sig;
	unsigned char digest[SSHSIG_DIGEST_LEN] = {0};
	const char *why = NULL;

	if (sshsig_parse(text, len, &sig, &why) != 0) {
		CHECK(why != NULL);
		return;
	}
	CHECK(strlen(sig.namespace) < sizeof(sig.namespace));
	CHECK(strlen(sig.hash) < sizeof(sig.hash));
	CHECK(sshsig_check(&sig, SSHSIG_NAMESPACE, digest, &why) != 0);
}

static void fuzz_key(const char *text, size_t len)
{
	struct sshsig_key key;
	struct sshsig_signature sig;
	unsigned char digest[SSHSIG_DIGEST_LEN];
	struct dbuf out;
	const char *why = NULL;

	if (sshsig_key_parse(text, len, &key, &why) != 0) {
		CHECK(why != NULL);
		return;
	}
	CHECK(strlen(key.comment) <= SSHSIG_COMMENT_MAX);
	if (!key.has_private)
		return;
	memset(digest, 0x5a, sizeof(digest));
	dbuf_init(&out);
	CHECK(sshsig_sign(&key, NULL, SSHSIG_NAMESPACE, digest, &out, &why) == 0);
	CHECK(sshsig_parse(out.data, out.len, &sig, &why) == 0);
	CHECK(memcmp(sig.pub, key.pub, SSHSIG_PUB_LEN) == 0);
	CHECK(sshsig_check(&sig, SSHSIG_NAMESPACE, digest, &why) == 0);
	digest[0] ^= 1;
	CHECK(sshsig_check(&sig, SSHSIG_NAMESPACE, digest, &why) != 0);
	dbuf_free(&out);
	sshsig_key_wipe(&key);
}

static void fuzz_signers(const char *text, size_t len)
{
	size_t start = 0;
	char principal[32];

	while (start < len) {
		const char *lf = memchr(text + start, '\n', len - start);
		size_t end = lf ? (size_t)(lf - text) : len;
		const char *why = NULL;

		memset(principal, 0x7f, sizeof(principal));
		switch (sshsig_signers_line(text + start, end - start, test_pub, SSHSIG_NAMESPACE,
					    principal, sizeof(principal), &why)) {
		case SSHSIG_SIGNERS_MATCH:
			CHECK(memchr(principal, '\0', sizeof(principal)) != NULL);
			break;
		case SSHSIG_SIGNERS_SKIP:
			break;
		case SSHSIG_SIGNERS_NAMESPACE:
		case SSHSIG_SIGNERS_UNSUPPORTED:
		case SSHSIG_SIGNERS_MALFORMED:
			CHECK(why != NULL);
			break;
		}
		start = end + 1;
	}
	(void)sshsig_match_list(SSHSIG_NAMESPACE, text, len);
}

static void fuzz_base64(const char *text, size_t len)
{
	unsigned char *bytes = malloc(len + 1), *again = malloc(len + 1);
	struct dbuf encoded;
	long n, m;

	CHECK(bytes && again);
	n = sshsig_base64_decode(text, len, bytes, len + 1);
	if (n >= 0) {
		dbuf_init(&encoded);
		CHECK(sshsig_base64_encode(&encoded, bytes, (size_t)n, 70) == 0);
		m = sshsig_base64_decode(encoded.data, encoded.len, again, len + 1);
		CHECK(m == n && memcmp(bytes, again, (size_t)n) == 0);
		dbuf_free(&encoded);
	}
	free(bytes);
	free(again);
}

/* Armor raw bytes between begin and end lines, as the writers do. */
static void armored(const char *begin, const char *end, const uint8_t *raw, size_t len,
		    void (*then)(const char *, size_t))
{
	struct dbuf text;

	dbuf_init(&text);
	CHECK(dbuf_puts(&text, begin) == 0 && dbuf_putc(&text, '\n') == 0);
	CHECK(sshsig_base64_encode(&text, raw, len, 70) == 0);
	CHECK(dbuf_putc(&text, '\n') == 0 && dbuf_puts(&text, end) == 0 &&
	      dbuf_putc(&text, '\n') == 0);
	then(text.data, text.len);
	dbuf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_signature(text, len);
		break;
	case 1:
		fuzz_key(text, len);
		break;
	case 2:
		fuzz_signers(text, len);
		break;
	case 3:
		fuzz_base64(text, len);
		break;
	case 4:
		armored("-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----", data + 1,
			len, fuzz_signature);
		break;
	case 5:
		armored("-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----",
			data + 1, len, fuzz_key);
		break;
	}
	return 0;
}
