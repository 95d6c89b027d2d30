/* SPDX-License-Identifier: 0BSD */
/**
 * pverify --signers: a manifest is trusted only when the SSH signature beside
 * it (MANIFEST.sig, namespace ptools-seal; sshsig.h) is good and made by a
 * key the allowed_signers file trusts for that namespace (see signed.c).
 */
#ifndef PVERIFY_SIGNED_H
#define PVERIFY_SIGNED_H

#include "prelude.h"
#include "hash.h"
#include "input.h"
#include "sshsig.h"

/** One manifest's signature, checked before it is read and again after. */
struct signed_check {
	struct hash_ctx *read_digest;                /* SHA-512 of the bytes parsed */
	unsigned char digest[SSHSIG_DIGEST_LEN];     /* of the bytes the signature covers */
};

/**
 * Before in is read: find its signature (manifest's path and ".sig"; for
 * standard input, the path of the file it is redirected from), check that
 * it signs the file's bytes as they are now and that the allowed_signers
 * file signers trusts its key for namespace ptools-seal, and say who signed
 * (on stderr, unless quiet). Every failure is reported and raises the exit
 * status: 1 for a missing, wrong or untrusted signature, 2 for a malformed
 * one or a manifest that is not a file. Returns 0 when the manifest may be
 * read (check then taps in: call signed_end after), -1 when it must not be.
 */
int signed_begin(struct signed_check *check, struct input *in, const char *manifest,
		 const char *signers, bool quiet);

/**
 * After in was read (whole: to its end): the bytes parsed must be the ones
 * the signature covers, or the manifest changed while it was read (reported,
 * exit 1). Releases check.
 */
void signed_end(struct signed_check *check, struct input *in, bool whole);

#endif
