/* SPDX-License-Identifier: 0BSD */
/** Unit tests for libcommon/sshsig.c: the wire encoding, keys, signatures, allowed_signers. */
#include "prelude.h"
#include "unit.h"
#include "frame.h"
#include "sshsig.h"
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

/* A throwaway key made by `ssh-keygen -t ed25519 -N '' -C unit@ptools`. */
static const char test_key[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACBQDxk6kOcKuDQdk1Vu+9w7rhNTcIDHkjdVNCrR3fl9ZAAAAJC8ozqevKM6\n"
	"ngAAAAtzc2gtZWQyNTUxOQAAACBQDxk6kOcKuDQdk1Vu+9w7rhNTcIDHkjdVNCrR3fl9ZA\n"
	"AAAEA393ymT2kn3eXgurGvanQ03m32QlGc3IrI/6xtdcH4cVAPGTqQ5wq4NB2TVW773Duu\n"
	"E1NwgMeSN1U0KtHd+X1kAAAAC3VuaXRAcHRvb2xzAQI=\n"
	"-----END OPENSSH PRIVATE KEY-----\n";

static const char test_pub[] =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAPGTqQ5wq4NB2TVW773DuuE1NwgMeSN1U0KtHd+X1k "
	"unit@ptools\n";

/* What `ssh-keygen -Y sign -f KEY -n ptools-seal` wrote for the message "hello seal\n". */
static const char keygen_sig[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgUA8ZOpDnCrg0HZNVbvvcO64TU3\n"
	"CAx5I3VTQq0d35fWQAAAALcHRvb2xzLXNlYWwAAAAAAAAABnNoYTUxMgAAAFMAAAALc3No\n"
	"LWVkMjU1MTkAAABAB2bap62TQG55p1UG1atvFVr4YNJpLGgROHuGjPbvA3eNZITPVnycXc\n"
	"6G1E1jTyoNiX4yffYkIEEekuL2t90SAg==\n"
	"-----END SSH SIGNATURE-----\n";

static void sha512(const char *text, unsigned char digest[SSHSIG_DIGEST_LEN])
{
	unsigned int len = SSHSIG_DIGEST_LEN;

	EVP_Digest(text, strlen(text), digest, &len, EVP_sha512(), NULL);
}

UNIT_TEST(sshsig_wire_strings_bounded)
{
	/* length 5 but only 3 bytes follow; then a length over the maximum */
	static const unsigned char cut[] = {0, 0, 0, 5, 'a', 'b', 'c'};
	static const unsigned char big[] = {0, 0, 0, 4, 'a', 'b', 'c', 'd'};
	static const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
	struct sshsig_wire w = {cut, sizeof(cut)};
	const unsigned char *data;
	size_t len;
	uint32_t v;
	struct dbuf buf;

	EXPECT(sshsig_get_string(&w, &data, &len, 100) == -1 && errno == EINVAL);
	EXPECT(w.len == sizeof(cut)); /* nothing consumed */
	w = (struct sshsig_wire){big, sizeof(big)};
	EXPECT(sshsig_get_string(&w, &data, &len, 3) == -1);
	EXPECT(sshsig_get_string(&w, &data, &len, 4) == 0 && len == 4 && w.len == 0);
	EXPECT(sshsig_get_u32(&w, &v) == -1);
	w = (struct sshsig_wire){huge, sizeof(huge)};
	EXPECT(sshsig_get_string(&w, &data, &len, SIZE_MAX) == -1);

	dbuf_init(&buf);
	EXPECT(frame_put_bytes(&buf, "abc", 3) == 0);
	EXPECT(buf.len == 7 && memcmp(buf.data, "\0\0\0\3abc", 7) == 0);
	dbuf_free(&buf);
}

UNIT_TEST(sshsig_base64_round_trip_and_strict)
{
	unsigned char out[16];
	struct dbuf buf;

	dbuf_init(&buf);
	for (size_t n = 0; n <= 5; n++) {
		dbuf_clear(&buf);
		EXPECT(sshsig_base64_encode(&buf, "hello", n, 0) == 0);
		EXPECT(sshsig_base64_decode(buf.data, buf.len, out, sizeof(out)) == (long)n);
		EXPECT(memcmp(out, "hello", n) == 0);
	}
	dbuf_free(&buf);
	EXPECT(sshsig_base64_decode("aGk=", 4, out, sizeof(out)) == 2);
	EXPECT(sshsig_base64_decode("aG\nk=\n", 6, out, sizeof(out)) == 2);
	EXPECT(sshsig_base64_decode("aGk", 3, out, sizeof(out)) == -1);      /* no padding */
	EXPECT(sshsig_base64_decode("aGk=aGk=", 8, out, sizeof(out)) == -1); /* after padding */
	EXPECT(sshsig_base64_decode("a===", 4, out, sizeof(out)) == -1);
	EXPECT(sshsig_base64_decode("aGl=", 4, out, sizeof(out)) == -1);     /* stray bits */
	EXPECT(sshsig_base64_decode("aG!=", 4, out, sizeof(out)) == -1);
	EXPECT(sshsig_base64_decode("aGVsbG8=", 8, out, 4) == -1);           /* over cap */
}

UNIT_TEST(sshsig_keys_private_and_public)
{
	struct sshsig_key priv, pub;
	const char *why;

	EXPECT(sshsig_key_parse(test_key, strlen(test_key), &priv, &why) == 0);
	EXPECT(priv.has_private && !priv.encrypted);
	EXPECT(strcmp(priv.comment, "unit@ptools") == 0);
	EXPECT(sshsig_key_parse(test_pub, strlen(test_pub), &pub, &why) == 0);
	EXPECT(!pub.has_private && memcmp(pub.pub, priv.pub, SSHSIG_PUB_LEN) == 0);
	EXPECT(strcmp(pub.comment, "unit@ptools") == 0);
	EXPECT(sshsig_key_parse("ssh-rsa AAAA x", 14, &pub, &why) == -1 && errno == ENOTSUP);
	EXPECT(sshsig_key_parse("ssh-ed25519 AAAA", 16, &pub, &why) == -1 && errno == EINVAL);
	/* One base64 character changed in the private section: refused, not trusted. */
	{
		char bad[sizeof(test_key)];

		memcpy(bad, test_key, sizeof(test_key));
		bad[strlen(test_key) - 60] ^= 1;
		EXPECT(sshsig_key_parse(bad, strlen(bad), &pub, &why) == -1);
	}
	sshsig_key_wipe(&priv);
	EXPECT(!priv.has_private);
}

UNIT_TEST(sshsig_signs_as_ssh_keygen)
{
	struct sshsig_key key;
	struct sshsig_signature sig;
	unsigned char digest[SSHSIG_DIGEST_LEN];
	struct dbuf out;
	const char *why;

	sha512("hello seal\n", digest);
	EXPECT(sshsig_key_parse(test_key, strlen(test_key), &key, &why) == 0);
	dbuf_init(&out);
	/* Ed25519 is deterministic: the very bytes ssh-keygen wrote. */
	EXPECT(sshsig_sign(&key, NULL, SSHSIG_NAMESPACE, digest, &out, &why) == 0);
	EXPECT(out.len == strlen(keygen_sig) && memcmp(out.data, keygen_sig, out.len) == 0);
	dbuf_free(&out);

	EXPECT(sshsig_parse(keygen_sig, strlen(keygen_sig), &sig, &why) == 0);
	EXPECT(memcmp(sig.pub, key.pub, SSHSIG_PUB_LEN) == 0);
	EXPECT(strcmp(sig.namespace, "ptools-seal") == 0 && strcmp(sig.hash, "sha512") == 0);
	EXPECT(sshsig_check(&sig, SSHSIG_NAMESPACE, digest, &why) == 0);
	EXPECT(sshsig_check(&sig, "git", digest, &why) == -1 && errno == EBADMSG);
	sha512("hello seal!\n", digest);
	EXPECT(sshsig_check(&sig, SSHSIG_NAMESPACE, digest, &why) == -1 && errno == EBADMSG);

	/* No key in reach of an agent: a clear failure, not a crash. */
	key.has_private = false;
	dbuf_init(&out);
	EXPECT(sshsig_sign(&key, NULL, SSHSIG_NAMESPACE, digest, &out, &why) == -1);
	EXPECT(sshsig_sign(&key, "/nonexistent/agent.sock", SSHSIG_NAMESPACE, digest, &out,
			   &why) == -1);
	dbuf_free(&out);
}

UNIT_TEST(sshsig_parse_refuses_malformed)
{
	struct sshsig_signature sig;
	char text[sizeof(keygen_sig) + 8];
	const char *why;

	EXPECT(sshsig_parse("", 0, &sig, &why) == -1);
	EXPECT(sshsig_parse(keygen_sig, 40, &sig, &why) == -1);  /* no END line */
	memcpy(text, keygen_sig, sizeof(keygen_sig));
	text[40] = '*';
	EXPECT(sshsig_parse(text, strlen(text), &sig, &why) == -1 && errno == EINVAL);
	memcpy(text, keygen_sig, sizeof(keygen_sig));
	strcat(text, "junk");
	EXPECT(sshsig_parse(text, strlen(text), &sig, &why) == -1);
}

UNIT_TEST(sshsig_allowed_signers_lines)
{
	static const char b64[] = "AAAAC3NzaC1lZDI1NTE5AAAAIFAPGTqQ5wq4NB2TVW773DuuE1NwgMeSN1U0KtHd+X1k";
	struct sshsig_key key;
	char line[512], principal[64];
	const char *why;

#define JUDGE(fmt) \
	(snprintf(line, sizeof(line), fmt, b64), \
	 sshsig_signers_line(line, strlen(line), key.pub, SSHSIG_NAMESPACE, principal, \
			     sizeof(principal), &why))

	EXPECT(sshsig_key_parse(test_pub, strlen(test_pub), &key, &why) == 0);
	EXPECT(JUDGE("alice@example.org ssh-ed25519 %s") == SSHSIG_SIGNERS_MATCH);
	EXPECT(strcmp(principal, "alice@example.org") == 0);
	EXPECT(JUDGE("\"a b,c\" namespaces=\"git,ptools-*\" ssh-ed25519 %s c") ==
	       SSHSIG_SIGNERS_MATCH);
	EXPECT(strcmp(principal, "a b,c") == 0);
	EXPECT(JUDGE("a namespaces=\"git\" ssh-ed25519 %s") == SSHSIG_SIGNERS_NAMESPACE);
	EXPECT(JUDGE("a namespaces=\"*,!ptools-seal\" ssh-ed25519 %s") == SSHSIG_SIGNERS_NAMESPACE);
	EXPECT(JUDGE("a cert-authority ssh-ed25519 %s") == SSHSIG_SIGNERS_UNSUPPORTED);
	EXPECT(JUDGE("a valid-after=\"20200101\" ssh-ed25519 %s") == SSHSIG_SIGNERS_UNSUPPORTED);
	EXPECT(JUDGE("a bogus ssh-ed25519 %s") == SSHSIG_SIGNERS_MALFORMED);
	EXPECT(JUDGE("a namespaces=git ssh-ed25519 %s") == SSHSIG_SIGNERS_MALFORMED);
	EXPECT(JUDGE("a ssh-ed25519%.0s") == SSHSIG_SIGNERS_MALFORMED);
	EXPECT(JUDGE("# a comment %s") == SSHSIG_SIGNERS_SKIP);
	EXPECT(JUDGE("   %.0s") == SSHSIG_SIGNERS_SKIP);
	EXPECT(JUDGE("a ssh-rsa AAAAB3NzaC1yc2E=%.0s") == SSHSIG_SIGNERS_SKIP);
	EXPECT(JUDGE("a ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%.0s") ==
	       SSHSIG_SIGNERS_SKIP);
#undef JUDGE
}

UNIT_TEST(sshsig_match_list_patterns)
{
	EXPECT(sshsig_match_list("ptools-seal", "ptools-seal", 11));
	EXPECT(sshsig_match_list("ptools-seal", "git,ptools-*", 12));
	EXPECT(sshsig_match_list("ptools-seal", "p?ools-s*l", 10));
	EXPECT(!sshsig_match_list("ptools-seal", "git", 3));
	EXPECT(!sshsig_match_list("ptools-seal", "*,!ptools-seal", 14));
	EXPECT(!sshsig_match_list("ptools-seal", "", 0));
	EXPECT(!sshsig_match_list("ptools-seal", ",", 1));
	EXPECT(sshsig_match_list("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*b", 16));
}
