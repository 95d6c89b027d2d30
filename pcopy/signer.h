/* SPDX-License-Identifier: 0BSD */
/**
 * The one place pcopy decides how a seal is signed (see signer.c): here,
 * with --sign's key or ssh-agent; or, in a server whose client asked for it
 * (PROTO_SIGN), by that client, which holds the key.
 */
#ifndef PCOPY_SIGNER_H
#define PCOPY_SIGNER_H

#include "prelude.h"
#include "copy.h"
#include "dbuf.h"
#include "sshsig.h"

/** Whether the run's seals are signed (--sign here, or through the client). */
bool copy_signs(const struct copy_options *opt);

/**
 * Sign the message whose SHA-512 is digest, in SSHSIG_NAMESPACE: the
 * armored signature is appended to out. what (enum proto_sign_what) says
 * which seal it is, for the client. Through the client, its answer is
 * checked here (a signature by its own key over digest) before it is
 * taken. Returns 0, or -1 with errno and *why: a static phrase, or one
 * kept until this thread's next call. One call at a time per client
 * connection (a server has one destination).
 */
int copy_sign(const struct copy *copy, unsigned what, const unsigned char digest[SSHSIG_DIGEST_LEN],
	      struct dbuf *out, const char **why);

#endif
