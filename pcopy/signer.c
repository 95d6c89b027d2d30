/* SPDX-License-Identifier: 0BSD */
/**
 * Signing a seal. Locally, sshsig_sign with --sign's key (or its agent).
 * In a server that writes a pushed copy, the key stays on the client: only
 * the seal's 64-byte SHA-512 travels (SIGN), and the armored signature comes
 * back (SIGNATURE, PROTOCOL.md 4.10). The server trusts nothing of it
 * until libcommon's own verification finds it a good signature, by the key
 * it carries, over the very digest asked for; anything else, or no answer,
 * fails the destination as a local signing failure does (rolled back).
 */
#include "prelude.h"
#include "signer.h"
#include "proto.h"
#include "remote.h"
#include "run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool copy_signs(const struct copy_options *opt)
{
	return opt->sign_key != NULL || opt->sign_peer != NULL;
}

/*
 * The client's reason for not signing, made printable, for *why: kept in a
 * buffer of the calling thread's own (so safe by construction), valid until
 * its next call.
 */
static const char *client_reason(const char *text, size_t len)
{
	static _Thread_local char said[PROTO_SIGN_WHY_MAX + 64];
	char *shown = remote_printable(text, len);

	if (!shown)
		return "the client could not sign";
	snprintf(said, sizeof(said), "the client could not sign: %s", shown);
	free(shown);
	return said;
}

/* armored (len bytes) is a good signature over digest in our namespace. 0 or -1 (EBADMSG). */
static int check_answer(const char *armored, size_t len,
			const unsigned char digest[SSHSIG_DIGEST_LEN], const char **why)
{
	struct sshsig_signature sig;
	const char *ignored;

	if (sshsig_parse(armored, len, &sig, &ignored) != 0 ||
	    sshsig_check(&sig, SSHSIG_NAMESPACE, digest, &ignored) != 0) {
		*why = "the client's signature does not verify";
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* Ask the client (peer) to sign digest, and take its checked answer. */
static int sign_through(struct remote *peer, unsigned what,
			const unsigned char digest[SSHSIG_DIGEST_LEN], struct dbuf *out,
			const char **why)
{
	const char *armored, *reason, *malformed;
	size_t len, reason_len;
	struct frame frame;
	struct dbuf ask;
	int ret;

	dbuf_init(&ask);
	ret = proto_put_sign(&ask, what, digest);
	if (ret == 0)
		ret = remote_send_now(peer, ask.data, ask.len);
	dbuf_free(&ask);
	if (ret == 0)
		ret = remote_read(peer, &frame) == 1 ? 0 : -1;
	if (ret != 0) {
		*why = "the client went away before it signed";
		errno = EPIPE;
		return -1;
	}
	if (frame.type != PROTO_SIGNATURE ||
	    proto_get_signature(&frame, &armored, &len, &reason, &reason_len, &malformed) != 0) {
		*why = "the client's answer to the signing request is malformed";
		errno = EPROTO;
		return -1;
	}
	if (len == 0) {
		*why = client_reason(reason, reason_len);
		errno = EPERM;
		return -1;
	}
	if (check_answer(armored, len, digest, why) != 0)
		return -1;
	return dbuf_append(out, armored, len);
}

int copy_sign(const struct copy *copy, unsigned what, const unsigned char digest[SSHSIG_DIGEST_LEN],
	      struct dbuf *out, const char **why)
{
	if (copy->opt.sign_peer)
		return sign_through(copy->opt.sign_peer, what, digest, out, why);
	return sshsig_sign(copy->opt.sign_key, copy->opt.agent_socket, SSHSIG_NAMESPACE, digest, out,
			   why);
}
