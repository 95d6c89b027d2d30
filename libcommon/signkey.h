/* SPDX-License-Identifier: 0BSD */
/**
 * --sign KEY, as pcopy and phash take it: the key is read before anything
 * is written, and the run stops at once (a usage error) when it cannot
 * sign. A private key file signs in the process; a public key, or a private
 * key under a passphrase (whose public half is in the clear), signs through
 * the ssh-agent named by SSH_AUTH_SOCK, which must hold it. The signing
 * itself is sshsig.h's.
 */
#ifndef PTOOLS_SIGNKEY_H
#define PTOOLS_SIGNKEY_H

#include "prelude.h"
#include "sshsig.h"

/** A key ready to sign: pass key and agent_socket to sshsig_sign. */
struct signkey {
	struct sshsig_key key;
	const char *agent_socket; /* SSH_AUTH_SOCK when the agent signs, else NULL */
};

/** Load the key at path into sk, or exit with a usage error that says why it cannot sign. */
void signkey_setup(struct signkey *sk, const char *path);

/**
 * The SHA-512 of everything in fd (read from its start, with pread: the
 * offset is left alone), the digest sshsig_sign signs. 0 or -1 with errno.
 */
int signkey_digest_fd(int fd, unsigned char digest[SSHSIG_DIGEST_LEN]);

/** Forget the private half. */
void signkey_wipe(struct signkey *sk);

#endif
