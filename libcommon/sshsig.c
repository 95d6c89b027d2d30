/* SPDX-License-Identifier: 0BSD */
/**
 * SSHSIG signatures over seals, Ed25519 keys, ssh-agent and allowed_signers
 * (see sshsig.h; the formats are openssh-portable's PROTOCOL.sshsig,
 * PROTOCOL.key and PROTOCOL.agent, and ssh-keygen(1)'s ALLOWED SIGNERS).
 *
 * Every length read from outside goes through sshsig_get_string with the
 * largest value that field may take, so a hostile file or agent can make the
 * parsers neither read out of bounds nor allocate: they work in place on a
 * buffer whose size the caller bounds (SSHSIG_FILE_MAX).
 */
#include "prelude.h"
#include "sshsig.h"
#include "frame.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define KEY_TYPE "ssh-ed25519"
#define SIG_MAGIC "SSHSIG"
#define SIG_VERSION 1
#define SIG_HASH "sha512"
#define SIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SIG_END "-----END SSH SIGNATURE-----"
#define SIG_WRAP 70
#define KEY_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEY_END "-----END OPENSSH PRIVATE KEY-----"
#define KEY_MAGIC "openssh-key-v1"  /* and its NUL */

/* ssh-agent's messages (PROTOCOL.agent, draft-miller-ssh-agent). */
#define AGENT_FAILURE 5
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14
/* The largest agent reply read: many RSA identities fit. */
#define AGENT_REPLY_MAX (256 * 1024)
/* How long an agent may take to answer, in seconds (it may ask the user). */
#define AGENT_TIMEOUT 120

/* The largest public key blob or signature blob among any key type's. */
#define BLOB_MAX 8192

/* Fail with errno err and *why text. */
#define FAIL(err, text) do { errno = (err); if (why) *why = (text); return -1; } while (0)

int sshsig_get_u32(struct sshsig_wire *w, uint32_t *value)
{
	if (w->len < 4) {
		errno = EINVAL;
		return -1;
	}
	*value = (uint32_t)w->data[0] << 24 | (uint32_t)w->data[1] << 16 |
		 (uint32_t)w->data[2] << 8 | (uint32_t)w->data[3];
	w->data += 4;
	w->len -= 4;
	return 0;
}

int sshsig_get_string(struct sshsig_wire *w, const unsigned char **data, size_t *len,
		      size_t max)
{
	struct sshsig_wire save = *w;
	uint32_t n;

	if (sshsig_get_u32(w, &n) != 0 || n > max || n > w->len) {
		*w = save;
		errno = EINVAL;
		return -1;
	}
	*data = w->data;
	*len = n;
	w->data += n;
	w->len -= n;
	return 0;
}

/* Whether the string field (data, len) is exactly the NUL-terminated s. */
static bool string_is(const unsigned char *data, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(data, s, len) == 0;
}

/*
 * Base64.
 */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long sshsig_base64_decode(const char *text, size_t len, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t n = 0, quad = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* Padding only ends a quantum: at most two, then nothing. */
			if (quad < 2 || ++pad + quad > 4)
				goto bad;
			if (pad + quad == 4) {
				if (pad == 1) {
					if (n + 2 > cap || (acc & 0x3))
						goto bad;
					out[n++] = (unsigned char)(acc >> 10);
					out[n++] = (unsigned char)(acc >> 2);
				} else {
					if (n + 1 > cap || (acc & 0xf))
						goto bad;
					out[n++] = (unsigned char)(acc >> 4);
				}
				quad = 4; /* ended: only whitespace may follow */
			}
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad > 0 || quad == 4)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++quad == 4) {
			if (n + 3 > cap)
				goto bad;
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			acc = 0;
			quad = 0;
		}
	}
	if (quad != 0 && !(quad == 4 && pad > 0))
		goto bad;
	return (long)n;
bad:
	errno = EINVAL;
	return -1;
}

int sshsig_base64_encode(struct dbuf *buf, const void *data, size_t len, size_t wrap)
{
	const unsigned char *p = data;
	size_t column = 0;
	char quad[4];

	for (size_t i = 0; i < len; i += 3) {
		uint32_t acc = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			acc |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			acc |= p[i + 2];
		quad[0] = b64_alphabet[acc >> 18 & 63];
		quad[1] = b64_alphabet[acc >> 12 & 63];
		quad[2] = left > 1 ? b64_alphabet[acc >> 6 & 63] : '=';
		quad[3] = left > 2 ? b64_alphabet[acc & 63] : '=';
		for (size_t k = 0; k < 4; k++) {
			if (wrap && column == wrap) {
				if (dbuf_putc(buf, '\n') != 0)
					return -1;
				column = 0;
			}
			if (dbuf_putc(buf, quad[k]) != 0)
				return -1;
			column++;
		}
	}
	return 0;
}

/*
 * Keys.
 */

/* Parse a public key blob: string "ssh-ed25519", string pub (32 bytes), nothing after. */
static int parse_pubkey_blob(const unsigned char *blob, size_t len,
			     unsigned char pub[SSHSIG_PUB_LEN], const char **why)
{
	struct sshsig_wire w = {blob, len};
	const unsigned char *type, *key;
	size_t type_len, key_len;

	if (sshsig_get_string(&w, &type, &type_len, 64) != 0)
		FAIL(EINVAL, "malformed public key");
	if (!string_is(type, type_len, KEY_TYPE))
		FAIL(ENOTSUP, "not an Ed25519 key (only ssh-ed25519 keys are supported)");
	if (sshsig_get_string(&w, &key, &key_len, SSHSIG_PUB_LEN) != 0 ||
	    key_len != SSHSIG_PUB_LEN || w.len != 0)
		FAIL(EINVAL, "malformed Ed25519 public key");
	memcpy(pub, key, SSHSIG_PUB_LEN);
	return 0;
}

int sshsig_pubkey_blob(struct dbuf *buf, const unsigned char pub[SSHSIG_PUB_LEN])
{
	if (frame_put_bytes(buf, KEY_TYPE, strlen(KEY_TYPE)) != 0)
		return -1;
	return frame_put_bytes(buf, pub, SSHSIG_PUB_LEN);
}

static void set_comment(struct sshsig_key *key, const void *text, size_t len)
{
	if (len > SSHSIG_COMMENT_MAX)
		len = SSHSIG_COMMENT_MAX;
	memcpy(key->comment, text, len);
	key->comment[len] = '\0';
	/* A NUL or a line break inside would cut or split a message line. */
	for (size_t i = 0; i < len; i++)
		if (key->comment[i] == '\0' || key->comment[i] == '\n' || key->comment[i] == '\r')
			key->comment[i] = '?';
}

/* Whether seed is the private half of pub (OpenSSL derives the public key). */
static bool seed_matches(const unsigned char seed[SSHSIG_SEED_LEN],
			 const unsigned char pub[SSHSIG_PUB_LEN])
{
	unsigned char derived[SSHSIG_PUB_LEN];
	size_t len = sizeof(derived);
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
						      SSHSIG_SEED_LEN);
	bool ok;

	if (!pkey)
		return false;
	ok = EVP_PKEY_get_raw_public_key(pkey, derived, &len) == 1 && len == SSHSIG_PUB_LEN &&
	     memcmp(derived, pub, SSHSIG_PUB_LEN) == 0;
	EVP_PKEY_free(pkey);
	return ok;
}

/* The private section of an unencrypted openssh-key-v1 key (PROTOCOL.key). */
static int parse_private_section(const unsigned char *data, size_t len, struct sshsig_key *key,
				 const char **why)
{
	struct sshsig_wire w = {data, len};
	const unsigned char *type, *pub, *priv, *comment;
	size_t type_len, pub_len, priv_len, comment_len;
	uint32_t check1, check2;

	if (len % 8 != 0)
		FAIL(EINVAL, "malformed private key: its private section is not padded");
	if (sshsig_get_u32(&w, &check1) != 0 || sshsig_get_u32(&w, &check2) != 0)
		FAIL(EINVAL, "malformed private key");
	if (check1 != check2)
		FAIL(EINVAL, "malformed private key: its check numbers differ");
	if (sshsig_get_string(&w, &type, &type_len, 64) != 0)
		FAIL(EINVAL, "malformed private key");
	if (!string_is(type, type_len, KEY_TYPE))
		FAIL(ENOTSUP, "not an Ed25519 key (only ssh-ed25519 keys are supported)");
	if (sshsig_get_string(&w, &pub, &pub_len, SSHSIG_PUB_LEN) != 0 ||
	    pub_len != SSHSIG_PUB_LEN ||
	    sshsig_get_string(&w, &priv, &priv_len, SSHSIG_SEED_LEN + SSHSIG_PUB_LEN) != 0 ||
	    priv_len != SSHSIG_SEED_LEN + SSHSIG_PUB_LEN ||
	    sshsig_get_string(&w, &comment, &comment_len, SSHSIG_FILE_MAX) != 0)
		FAIL(EINVAL, "malformed Ed25519 private key");
	/* The padding: 1, 2, 3, ... up to the block size. */
	for (size_t i = 0; i < w.len; i++)
		if (w.data[i] != (unsigned char)(i + 1) || i >= 8)
			FAIL(EINVAL, "malformed private key: bad padding");
	if (memcmp(pub, key->pub, SSHSIG_PUB_LEN) != 0 ||
	    memcmp(priv + SSHSIG_SEED_LEN, pub, SSHSIG_PUB_LEN) != 0)
		FAIL(EINVAL, "malformed private key: its public and private parts disagree");
	if (!seed_matches(priv, pub))
		FAIL(EINVAL, "malformed private key: the private key does not give its public key");
	memcpy(key->seed, priv, SSHSIG_SEED_LEN);
	key->has_private = true;
	set_comment(key, comment, comment_len);
	return 0;
}

/* An armored openssh-key-v1 private key. */
static int parse_private(const char *text, size_t len, struct sshsig_key *key, const char **why)
{
	unsigned char *blob;
	const char *body = text + strlen(KEY_BEGIN), *end;
	struct sshsig_wire w;
	const unsigned char *cipher, *kdf, *kdfopts, *pubblob, *priv;
	size_t cipher_len, kdf_len, kdfopts_len, pubblob_len, priv_len;
	uint32_t nkeys;
	long n;
	int ret = -1;

	end = memmem(body, len - strlen(KEY_BEGIN), KEY_END, strlen(KEY_END));
	if (!end)
		FAIL(EINVAL, "malformed private key: no END line");
	blob = malloc(SSHSIG_FILE_MAX);
	if (!blob) {
		*why = "out of memory";
		return -1;
	}
	n = sshsig_base64_decode(body, (size_t)(end - body), blob, SSHSIG_FILE_MAX);
	if (n < 0) {
		errno = EINVAL;
		*why = "malformed private key: bad base64";
		goto out;
	}
	w = (struct sshsig_wire){blob, (size_t)n};
	errno = EINVAL;
	*why = "malformed private key";
	if (w.len < sizeof(KEY_MAGIC) || memcmp(w.data, KEY_MAGIC, sizeof(KEY_MAGIC)) != 0) {
		*why = "not an openssh-key-v1 private key";
		goto out;
	}
	w.data += sizeof(KEY_MAGIC);
	w.len -= sizeof(KEY_MAGIC);
	if (sshsig_get_string(&w, &cipher, &cipher_len, 64) != 0 ||
	    sshsig_get_string(&w, &kdf, &kdf_len, 64) != 0 ||
	    sshsig_get_string(&w, &kdfopts, &kdfopts_len, 1024) != 0 ||
	    sshsig_get_u32(&w, &nkeys) != 0)
		goto out;
	if (nkeys != 1) {
		errno = ENOTSUP;
		*why = "a key file holding several keys is not supported";
		goto out;
	}
	if (sshsig_get_string(&w, &pubblob, &pubblob_len, BLOB_MAX) != 0)
		goto out;
	if (parse_pubkey_blob(pubblob, pubblob_len, key->pub, why) != 0)
		goto out;
	if (sshsig_get_string(&w, &priv, &priv_len, SSHSIG_FILE_MAX) != 0 || w.len != 0) {
		errno = EINVAL;
		*why = "malformed private key";
		goto out;
	}
	if (!string_is(cipher, cipher_len, "none")) {
		/* The public half is in the clear: ssh-agent can still sign. */
		key->encrypted = true;
		ret = 0;
		goto out;
	}
	if (!string_is(kdf, kdf_len, "none") || kdfopts_len != 0) {
		errno = EINVAL;
		goto out;
	}
	ret = parse_private_section(priv, priv_len, key, why);
out:
	OPENSSL_cleanse(blob, SSHSIG_FILE_MAX);
	free(blob);
	return ret;
}

/* A public key line: ssh-ed25519 BASE64 [comment]. */
static int parse_public(const char *text, size_t len, struct sshsig_key *key, const char **why)
{
	unsigned char blob[BLOB_MAX];
	const char *p = text, *end = text + len, *b64;
	long n;

	while (p < end && *p != ' ' && *p != '\t')
		p++;
	if (!string_is((const unsigned char *)text, (size_t)(p - text), KEY_TYPE))
		FAIL(ENOTSUP, "not an Ed25519 key (only ssh-ed25519 keys are supported)");
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	b64 = p;
	while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	n = sshsig_base64_decode(b64, (size_t)(p - b64), blob, sizeof(blob));
	if (n <= 0)
		FAIL(EINVAL, "malformed public key: bad base64");
	if (parse_pubkey_blob(blob, (size_t)n, key->pub, why) != 0)
		return -1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	b64 = p;
	while (p < end && *p != '\n' && *p != '\r')
		p++;
	set_comment(key, b64, (size_t)(p - b64));
	return 0;
}

int sshsig_key_parse(const char *text, size_t len, struct sshsig_key *key, const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(key, 0, sizeof(*key));
	if (len > SSHSIG_FILE_MAX)
		FAIL(EINVAL, "key file too large");
	while (len > 0 && (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) {
		text++;
		len--;
	}
	if (len >= strlen(KEY_BEGIN) && memcmp(text, KEY_BEGIN, strlen(KEY_BEGIN)) == 0)
		return parse_private(text, len, key, why);
	if (len >= 5 && memcmp(text, "-----", 5) == 0)
		FAIL(ENOTSUP, "not an OpenSSH key file (convert it with ssh-keygen -p, or use an "
			      "ssh-ed25519 key)");
	return parse_public(text, len, key, why);
}

int sshsig_key_load(const char *path, struct sshsig_key *key, const char **why)
{
	const char *dummy;
	char *text;
	ssize_t n;
	int fd, ret;

	if (!why)
		why = &dummy;
	memset(key, 0, sizeof(*key));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*why = NULL;
		return -1;
	}
	text = malloc(SSHSIG_FILE_MAX + 1);
	if (!text) {
		xclose(fd);
		*why = NULL;
		return -1;
	}
	n = xread(fd, text, SSHSIG_FILE_MAX + 1);
	xclose(fd);
	if (n < 0) {
		*why = NULL;
		ret = -1;
	} else if (n > SSHSIG_FILE_MAX) {
		errno = EINVAL;
		*why = "key file too large";
		ret = -1;
	} else {
		ret = sshsig_key_parse(text, (size_t)n, key, why);
	}
	OPENSSL_cleanse(text, SSHSIG_FILE_MAX + 1);
	free(text);
	return ret;
}

void sshsig_key_wipe(struct sshsig_key *key)
{
	if (!key)
		return;
	OPENSSL_cleanse(key->seed, sizeof(key->seed));
	key->has_private = false;
}

void sshsig_fingerprint(const unsigned char pub[SSHSIG_PUB_LEN],
			char out[SSHSIG_FINGERPRINT_MAX])
{
	unsigned char digest[32];
	unsigned int len = sizeof(digest);
	struct dbuf blob, text;

	strcpy(out, "SHA256:?");
	dbuf_init(&blob);
	dbuf_init(&text);
	if (sshsig_pubkey_blob(&blob, pub) == 0 &&
	    EVP_Digest(blob.data, blob.len, digest, &len, EVP_sha256(), NULL) == 1 &&
	    sshsig_base64_encode(&text, digest, len, 0) == 0) {
		/* ssh-keygen leaves the padding out. */
		while (text.len > 0 && text.data[text.len - 1] == '=')
			text.len--;
		snprintf(out, SSHSIG_FINGERPRINT_MAX, "SHA256:%.*s", (int)text.len, text.data);
	}
	dbuf_free(&blob);
	dbuf_free(&text);
}

/*
 * Signing.
 */

/* The data signed (PROTOCOL.sshsig): the preamble, namespace, reserved, hash, H(message). */
static int signed_data(struct dbuf *buf, const char *namespace,
		       const unsigned char digest[SSHSIG_DIGEST_LEN])
{
	if (dbuf_append(buf, SIG_MAGIC, strlen(SIG_MAGIC)) != 0 ||
	    frame_put_bytes(buf, namespace, strlen(namespace)) != 0 ||
	    frame_put_bytes(buf, "", 0) != 0 ||
	    frame_put_bytes(buf, SIG_HASH, strlen(SIG_HASH)) != 0 ||
	    frame_put_bytes(buf, digest, SSHSIG_DIGEST_LEN) != 0)
		return -1;
	return 0;
}

static int sign_locally(const struct sshsig_key *key, const struct dbuf *data,
			unsigned char sig[SSHSIG_SIG_LEN], const char **why)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key->seed,
						      SSHSIG_SEED_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = SSHSIG_SIG_LEN;
	int ret = -1;

	if (pkey && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data->data, data->len) == 1 &&
	    len == SSHSIG_SIG_LEN)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	if (ret != 0) {
		errno = EIO;
		*why = "OpenSSL could not sign with the Ed25519 key";
	}
	return ret;
}

/* Connect to the agent's socket. Returns the fd or -1 with errno and *why. */
static int agent_connect(const char *socket_path, const char **why)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval timeout = {.tv_sec = AGENT_TIMEOUT};
	int fd;

	if (!socket_path || !*socket_path)
		FAIL(ENOENT, "no ssh-agent (SSH_AUTH_SOCK is not set)");
	if (strlen(socket_path) >= sizeof(addr.sun_path))
		FAIL(ENAMETOOLONG, "SSH_AUTH_SOCK names a path too long for a socket");
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		FAIL(errno, "cannot make a socket for ssh-agent");
	/* An agent that never answers must not hang the copy for ever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		xclose(fd);
		FAIL(errno, "cannot connect to ssh-agent (SSH_AUTH_SOCK)");
	}
	return fd;
}

/*
 * Send one message (its payload in request) and read the reply's payload
 * into reply (cleared first), at most AGENT_REPLY_MAX bytes.
 */
static int agent_call(int fd, const struct dbuf *request, struct dbuf *reply, const char **why)
{
	unsigned char len_bytes[4];
	struct sshsig_wire w = {len_bytes, 4};
	struct dbuf framed;
	uint32_t len;
	ssize_t got;
	int ret;

	dbuf_init(&framed);
	ret = frame_put_bytes(&framed, request->data, request->len);
	if (ret == 0)
		ret = xwrite(fd, framed.data, framed.len);
	dbuf_free(&framed);
	if (ret != 0)
		FAIL(errno, "cannot talk to ssh-agent");
	got = xread(fd, len_bytes, 4);
	if (got != 4)
		FAIL(got < 0 ? errno : EPROTO, "ssh-agent did not answer");
	sshsig_get_u32(&w, &len);
	if (len == 0 || len > AGENT_REPLY_MAX)
		FAIL(EPROTO, "malformed reply from ssh-agent");
	dbuf_clear(reply);
	if (dbuf_reserve(reply, len) != 0)
		return -1;
	got = xread(fd, reply->data, len);
	if (got != (ssize_t)len)
		FAIL(got < 0 ? errno : EPROTO, "ssh-agent's reply was cut short");
	reply->len = len;
	return 0;
}

/* Whether the agent on fd holds pub: 1, 0, or -1 with errno and *why. */
static int agent_find(int fd, const unsigned char pub[SSHSIG_PUB_LEN], const char **why)
{
	struct dbuf request, reply;
	struct sshsig_wire w;
	uint32_t nkeys;
	int ret = -1;

	dbuf_init(&request);
	dbuf_init(&reply);
	if (dbuf_putc(&request, AGENTC_REQUEST_IDENTITIES) != 0)
		goto out;
	if (agent_call(fd, &request, &reply, why) != 0)
		goto out;
	w = (struct sshsig_wire){(const unsigned char *)reply.data, reply.len};
	errno = EPROTO;
	*why = "malformed identity list from ssh-agent";
	if (w.data[0] != AGENT_IDENTITIES_ANSWER)
		goto out;
	w.data++;
	w.len--;
	if (sshsig_get_u32(&w, &nkeys) != 0)
		goto out;
	ret = 0;
	for (uint32_t i = 0; i < nkeys; i++) {
		const unsigned char *blob, *comment;
		size_t blob_len, comment_len;
		unsigned char found[SSHSIG_PUB_LEN];
		const char *ignored;

		if (sshsig_get_string(&w, &blob, &blob_len, BLOB_MAX) != 0 ||
		    sshsig_get_string(&w, &comment, &comment_len, AGENT_REPLY_MAX) != 0) {
			ret = -1;
			break;
		}
		if (parse_pubkey_blob(blob, blob_len, found, &ignored) == 0 &&
		    memcmp(found, pub, SSHSIG_PUB_LEN) == 0) {
			ret = 1;
			break;
		}
	}
out:
	dbuf_free(&request);
	dbuf_free(&reply);
	return ret;
}

int sshsig_agent_has(const char *agent_socket, const unsigned char pub[SSHSIG_PUB_LEN],
		     const char **why)
{
	int fd = agent_connect(agent_socket, why), ret;

	if (fd < 0)
		return -1;
	ret = agent_find(fd, pub, why);
	xclose(fd);
	return ret;
}

static int sign_with_agent(const struct sshsig_key *key, const char *agent_socket,
			   const struct dbuf *data, unsigned char sig[SSHSIG_SIG_LEN],
			   const char **why)
{
	struct dbuf request, reply;
	struct sshsig_wire w, inner;
	const unsigned char *blob, *type, *raw;
	size_t blob_len, type_len, raw_len;
	int fd, found, ret = -1;

	fd = agent_connect(agent_socket, why);
	if (fd < 0)
		return -1;
	dbuf_init(&request);
	dbuf_init(&reply);
	found = agent_find(fd, key->pub, why);
	if (found <= 0) {
		if (found == 0) {
			errno = ENOKEY;
			*why = "ssh-agent does not hold this key (add it with ssh-add)";
		}
		goto out;
	}
	if (dbuf_putc(&request, AGENTC_SIGN_REQUEST) != 0)
		goto out;
	{
		struct dbuf keyblob;

		dbuf_init(&keyblob);
		if (sshsig_pubkey_blob(&keyblob, key->pub) != 0 ||
		    frame_put_bytes(&request, keyblob.data, keyblob.len) != 0) {
			dbuf_free(&keyblob);
			goto out;
		}
		dbuf_free(&keyblob);
	}
	if (frame_put_bytes(&request, data->data, data->len) != 0 ||
	    frame_put_u32(&request, 0) != 0)
		goto out;
	if (agent_call(fd, &request, &reply, why) != 0)
		goto out;
	w = (struct sshsig_wire){(const unsigned char *)reply.data, reply.len};
	if (w.data[0] == AGENT_FAILURE) {
		errno = EACCES;
		*why = "ssh-agent refused to sign (a confirmation declined, or the key is locked)";
		goto out;
	}
	errno = EPROTO;
	*why = "malformed signature from ssh-agent";
	if (w.data[0] != AGENT_SIGN_RESPONSE)
		goto out;
	w.data++;
	w.len--;
	if (sshsig_get_string(&w, &blob, &blob_len, BLOB_MAX) != 0 || w.len != 0)
		goto out;
	inner = (struct sshsig_wire){blob, blob_len};
	if (sshsig_get_string(&inner, &type, &type_len, 64) != 0 ||
	    !string_is(type, type_len, KEY_TYPE) ||
	    sshsig_get_string(&inner, &raw, &raw_len, SSHSIG_SIG_LEN) != 0 ||
	    raw_len != SSHSIG_SIG_LEN || inner.len != 0)
		goto out;
	memcpy(sig, raw, SSHSIG_SIG_LEN);
	ret = 0;
out:
	dbuf_free(&request);
	dbuf_free(&reply);
	xclose(fd);
	return ret;
}

/* Check sig over data with pub: 0 good, -1 not. */
static int ed25519_verify(const unsigned char pub[SSHSIG_PUB_LEN],
			  const unsigned char sig[SSHSIG_SIG_LEN], const struct dbuf *data)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SSHSIG_PUB_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -1;

	if (pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, SSHSIG_SIG_LEN, (const unsigned char *)data->data,
			     data->len) == 1)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ret;
}

int sshsig_sign(const struct sshsig_key *key, const char *agent_socket, const char *namespace,
		const unsigned char digest[SSHSIG_DIGEST_LEN], struct dbuf *out, const char **why)
{
	unsigned char sig[SSHSIG_SIG_LEN];
	struct dbuf data, blob, sigblob;
	int ret = -1;

	dbuf_init(&data);
	dbuf_init(&blob);
	dbuf_init(&sigblob);
	*why = "out of memory";
	if (signed_data(&data, namespace, digest) != 0)
		goto out;
	if (key->has_private ? sign_locally(key, &data, sig, why) != 0
			     : sign_with_agent(key, agent_socket, &data, sig, why) != 0)
		goto out;
	/* An agent is outside this process: make sure its signature is good. */
	if (ed25519_verify(key->pub, sig, &data) != 0) {
		errno = EBADMSG;
		*why = "the signature made does not verify";
		goto out;
	}
	*why = "out of memory";
	if (frame_put_bytes(&sigblob, KEY_TYPE, strlen(KEY_TYPE)) != 0 ||
	    frame_put_bytes(&sigblob, sig, sizeof(sig)) != 0)
		goto out;
	if (dbuf_append(&blob, SIG_MAGIC, strlen(SIG_MAGIC)) != 0 ||
	    frame_put_u32(&blob, SIG_VERSION) != 0)
		goto out;
	dbuf_clear(&data);
	if (sshsig_pubkey_blob(&data, key->pub) != 0 ||
	    frame_put_bytes(&blob, data.data, data.len) != 0 ||
	    frame_put_bytes(&blob, namespace, strlen(namespace)) != 0 ||
	    frame_put_bytes(&blob, "", 0) != 0 ||
	    frame_put_bytes(&blob, SIG_HASH, strlen(SIG_HASH)) != 0 ||
	    frame_put_bytes(&blob, sigblob.data, sigblob.len) != 0)
		goto out;
	if (dbuf_puts(out, SIG_BEGIN "\n") != 0 ||
	    sshsig_base64_encode(out, blob.data, blob.len, SIG_WRAP) != 0 ||
	    dbuf_puts(out, "\n" SIG_END "\n") != 0)
		goto out;
	ret = 0;
out:
	dbuf_free(&data);
	dbuf_free(&blob);
	dbuf_free(&sigblob);
	return ret;
}

/*
 * Verifying.
 */

/* Copy a string field into a NUL-terminated buffer of cap bytes; -1 if too long or NUL inside. */
static int copy_field(char *dst, size_t cap, const unsigned char *data, size_t len)
{
	if (len >= cap || memchr(data, '\0', len))
		return -1;
	memcpy(dst, data, len);
	dst[len] = '\0';
	return 0;
}

int sshsig_parse(const char *text, size_t len, struct sshsig_signature *sig, const char **why)
{
	unsigned char blob[BLOB_MAX];
	const char *body, *end, *dummy;
	struct sshsig_wire w, inner;
	const unsigned char *pubblob, *ns, *reserved, *hash, *sigblob, *type, *raw;
	size_t pubblob_len, ns_len, reserved_len, hash_len, sigblob_len, type_len, raw_len;
	uint32_t version;
	long n;

	if (!why)
		why = &dummy;
	memset(sig, 0, sizeof(*sig));
	if (len > SSHSIG_FILE_MAX)
		FAIL(EINVAL, "signature file too large");
	if (len < strlen(SIG_BEGIN) || memcmp(text, SIG_BEGIN, strlen(SIG_BEGIN)) != 0)
		FAIL(EINVAL, "not an SSH signature (no " SIG_BEGIN " line)");
	body = text + strlen(SIG_BEGIN);
	end = memmem(body, len - strlen(SIG_BEGIN), SIG_END, strlen(SIG_END));
	if (!end)
		FAIL(EINVAL, "malformed SSH signature: no END line");
	for (const char *p = end + strlen(SIG_END); p < text + len; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			FAIL(EINVAL, "malformed SSH signature: text after the END line");
	n = sshsig_base64_decode(body, (size_t)(end - body), blob, sizeof(blob));
	if (n < 0)
		FAIL(EINVAL, "malformed SSH signature: bad base64");
	w = (struct sshsig_wire){blob, (size_t)n};
	if (w.len < strlen(SIG_MAGIC) || memcmp(w.data, SIG_MAGIC, strlen(SIG_MAGIC)) != 0)
		FAIL(EINVAL, "malformed SSH signature: no SSHSIG preamble");
	w.data += strlen(SIG_MAGIC);
	w.len -= strlen(SIG_MAGIC);
	if (sshsig_get_u32(&w, &version) != 0)
		FAIL(EINVAL, "malformed SSH signature");
	if (version != SIG_VERSION)
		FAIL(ENOTSUP, "unsupported SSH signature version");
	if (sshsig_get_string(&w, &pubblob, &pubblob_len, BLOB_MAX) != 0 ||
	    sshsig_get_string(&w, &ns, &ns_len, BLOB_MAX) != 0 ||
	    sshsig_get_string(&w, &reserved, &reserved_len, BLOB_MAX) != 0 ||
	    sshsig_get_string(&w, &hash, &hash_len, BLOB_MAX) != 0 ||
	    sshsig_get_string(&w, &sigblob, &sigblob_len, BLOB_MAX) != 0 || w.len != 0)
		FAIL(EINVAL, "malformed SSH signature");
	(void)reserved;
	if (parse_pubkey_blob(pubblob, pubblob_len, sig->pub, why) != 0)
		return -1;
	if (copy_field(sig->namespace, sizeof(sig->namespace), ns, ns_len) != 0 ||
	    copy_field(sig->hash, sizeof(sig->hash), hash, hash_len) != 0)
		FAIL(EINVAL, "malformed SSH signature: bad namespace or hash name");
	inner = (struct sshsig_wire){sigblob, sigblob_len};
	if (sshsig_get_string(&inner, &type, &type_len, 64) != 0)
		FAIL(EINVAL, "malformed SSH signature");
	if (!string_is(type, type_len, KEY_TYPE))
		FAIL(ENOTSUP, "not an Ed25519 signature");
	if (sshsig_get_string(&inner, &raw, &raw_len, SSHSIG_SIG_LEN) != 0 ||
	    raw_len != SSHSIG_SIG_LEN || inner.len != 0)
		FAIL(EINVAL, "malformed Ed25519 signature");
	memcpy(sig->sig, raw, SSHSIG_SIG_LEN);
	return 0;
}

int sshsig_check(const struct sshsig_signature *sig, const char *namespace,
		 const unsigned char digest[SSHSIG_DIGEST_LEN], const char **why)
{
	struct dbuf data;
	int ret;

	if (strcmp(sig->namespace, namespace) != 0)
		FAIL(EBADMSG, "signed in another namespace (not " SSHSIG_NAMESPACE ")");
	if (strcmp(sig->hash, SIG_HASH) != 0)
		FAIL(EBADMSG, "signed with a hash other than sha512 (not supported)");
	dbuf_init(&data);
	if (signed_data(&data, namespace, digest) != 0) {
		dbuf_free(&data);
		*why = "out of memory";
		return -1;
	}
	ret = ed25519_verify(sig->pub, sig->sig, &data);
	dbuf_free(&data);
	if (ret != 0)
		FAIL(EBADMSG, "bad signature: the file is not what was signed");
	return 0;
}

/*
 * allowed_signers.
 */

/* Whether name matches one pattern (pattern_len bytes) with * and ?. */
static bool match_one(const char *name, const char *pattern, size_t pattern_len)
{
	size_t n = 0, p = 0, star_p = SIZE_MAX, star_n = 0, name_len = strlen(name);

	/* One backtrack point at a time: the last star, as glob matchers do. */
	while (n < name_len) {
		if (p < pattern_len && (pattern[p] == '?' || pattern[p] == name[n])) {
			n++;
			p++;
		} else if (p < pattern_len && pattern[p] == '*') {
			star_p = p++;
			star_n = n;
		} else if (star_p != SIZE_MAX) {
			p = star_p + 1;
			n = ++star_n;
		} else {
			return false;
		}
	}
	while (p < pattern_len && pattern[p] == '*')
		p++;
	return p == pattern_len;
}

bool sshsig_match_list(const char *name, const char *list, size_t list_len)
{
	bool matched = false;
	size_t start = 0;

	while (start <= list_len) {
		const char *comma = memchr(list + start, ',', list_len - start);
		size_t end = comma ? (size_t)(comma - list) : list_len;
		const char *pattern = list + start;
		size_t len = end - start;
		bool negated = len > 0 && pattern[0] == '!';

		if (negated) {
			pattern++;
			len--;
		}
		if (len > 0 && match_one(name, pattern, len)) {
			if (negated)
				return false;
			matched = true;
		}
		start = end + 1;
	}
	return matched;
}

/* A field of an allowed_signers line: quoted ("..." without escapes) or up to a blank. */
struct field {
	const char *text;
	size_t len;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Take the next field from *p (up to end): a quoted one loses its quotes; an
 * options field keeps quotes inside it and ends at the first blank outside
 * them. Returns 0, or -1 (an unclosed quote, or nothing left).
 */
static int next_field(const char **p, const char *end, struct field *f, bool options)
{
	const char *s = *p;
	bool quoted = false;

	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return -1;
	if (!options && *s == '"') {
		const char *close = memchr(s + 1, '"', (size_t)(end - s - 1));

		if (!close)
			return -1;
		f->text = s + 1;
		f->len = (size_t)(close - s - 1);
		*p = close + 1;
		return 0;
	}
	f->text = s;
	while (s < end && (quoted || !is_blank(*s))) {
		if (*s == '"')
			quoted = !quoted;
		s++;
	}
	if (quoted)
		return -1;
	f->len = (size_t)(s - f->text);
	*p = s;
	return 0;
}

/* Whether field is a key type name (the key follows), not an options field. */
static bool is_key_type(const struct field *f)
{
	static const char *const types[] = {
		"ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com",
	};
	static const char cert[] = "-cert-v01@openssh.com";

	for (size_t i = 0; i < countof(types); i++)
		if (string_is((const unsigned char *)f->text, f->len, types[i]))
			return true;
	return f->len > strlen(cert) &&
	       memcmp(f->text + f->len - strlen(cert), cert, strlen(cert)) == 0;
}

/* What the options field asks: */
struct signer_options {
	bool cert_authority;
	bool validity;               /* valid-after or valid-before */
	const char *namespaces;      /* NULL: every namespace */
	size_t namespaces_len;
};

/* Parse the options field (comma-separated, values quoted). 0 or -1 (*why). */
static int parse_options(const struct field *f, struct signer_options *o, const char **why)
{
	const char *p = f->text, *end = f->text + f->len;

	while (p < end) {
		const char *name = p, *value = NULL;
		size_t name_len, value_len = 0;

		while (p < end && *p != ',' && *p != '=')
			p++;
		name_len = (size_t)(p - name);
		if (p < end && *p == '=') {
			p++;
			if (p == end || *p != '"')
				FAIL(EINVAL, "an option's value must be quoted");
			value = ++p;
			while (p < end && *p != '"')
				p++;
			if (p == end)
				FAIL(EINVAL, "unclosed quote in an option");
			value_len = (size_t)(p - value);
			p++;
		}
		if (p < end && *p++ != ',')
			FAIL(EINVAL, "options must be separated by commas");
		if (string_is((const unsigned char *)name, name_len, "cert-authority") && !value)
			o->cert_authority = true;
		else if (string_is((const unsigned char *)name, name_len, "namespaces") && value) {
			o->namespaces = value;
			o->namespaces_len = value_len;
		} else if ((string_is((const unsigned char *)name, name_len, "valid-after") ||
			    string_is((const unsigned char *)name, name_len, "valid-before")) && value)
			o->validity = true;
		else
			FAIL(EINVAL, "unknown option (known: cert-authority, namespaces, "
				     "valid-after, valid-before)");
	}
	return 0;
}

enum sshsig_signers_line sshsig_signers_line(const char *line, size_t len,
					     const unsigned char pub[SSHSIG_PUB_LEN],
					     const char *namespace, char *principal, size_t cap,
					     const char **why)
{
	unsigned char blob[BLOB_MAX];
	unsigned char found[SSHSIG_PUB_LEN];
	struct signer_options options = {0};
	struct field principals, f, key;
	const char *p = line, *end = line + len, *dummy;
	long n;

	if (!why)
		why = &dummy;
	if (len > SSHSIG_SIGNERS_LINE_MAX) {
		*why = "line too long";
		return SSHSIG_SIGNERS_MALFORMED;
	}
	if (memchr(line, '\0', len)) {
		*why = "NUL byte in line";
		return SSHSIG_SIGNERS_MALFORMED;
	}
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#' || *p == '\r')
		return SSHSIG_SIGNERS_SKIP;
	if (end > p && end[-1] == '\r')
		end--;
	*why = "expected: principals [options] key-type base64-key [comment]";
	if (next_field(&p, end, &principals, false) != 0 || principals.len == 0)
		return SSHSIG_SIGNERS_MALFORMED;
	if (next_field(&p, end, &f, true) != 0)
		return SSHSIG_SIGNERS_MALFORMED;
	if (!is_key_type(&f)) {
		if (parse_options(&f, &options, why) != 0)
			return SSHSIG_SIGNERS_MALFORMED;
		*why = "expected: principals [options] key-type base64-key [comment]";
		if (next_field(&p, end, &f, false) != 0)
			return SSHSIG_SIGNERS_MALFORMED;
		if (!is_key_type(&f)) {
			*why = "unknown key type";
			return SSHSIG_SIGNERS_MALFORMED;
		}
	}
	if (next_field(&p, end, &key, false) != 0)
		return SSHSIG_SIGNERS_MALFORMED;
	n = sshsig_base64_decode(key.text, key.len, blob, sizeof(blob));
	if (n <= 0) {
		*why = "bad base64 in the key";
		return SSHSIG_SIGNERS_MALFORMED;
	}
	if (!string_is((const unsigned char *)f.text, f.len, KEY_TYPE))
		return SSHSIG_SIGNERS_SKIP; /* another type's key never made our signature */
	if (parse_pubkey_blob(blob, (size_t)n, found, why) != 0)
		return SSHSIG_SIGNERS_MALFORMED;
	if (CRYPTO_memcmp(found, pub, SSHSIG_PUB_LEN) != 0)
		return SSHSIG_SIGNERS_SKIP;
	if (options.cert_authority) {
		*why = "a cert-authority line: SSH certificates are not accepted, so it trusts "
		       "nothing here";
		return SSHSIG_SIGNERS_UNSUPPORTED;
	}
	if (options.validity) {
		*why = "valid-after/valid-before are not evaluated, so the line trusts nothing";
		return SSHSIG_SIGNERS_UNSUPPORTED;
	}
	if (options.namespaces && !sshsig_match_list(namespace, options.namespaces,
						       options.namespaces_len)) {
		*why = "namespaces= does not list " SSHSIG_NAMESPACE;
		return SSHSIG_SIGNERS_NAMESPACE;
	}
	if (cap > 0) {
		size_t copy = principals.len < cap - 1 ? principals.len : cap - 1;

		memcpy(principal, principals.text, copy);
		principal[copy] = '\0';
	}
	return SSHSIG_SIGNERS_MATCH;
}
