/* SPDX-License-Identifier: 0BSD */
/**
 * phash --seal --sign: the signature beside a seal file (NAME.sig, sshsig.h),
 * over the file's bytes as written. The signature is written under a
 * temporary name first, so that the seal and its signature are renamed into
 * place back to back, each whole.
 */
#ifndef PHASH_SEALSIGN_H
#define PHASH_SEALSIGN_H

#include "prelude.h"
#include "signkey.h"

/**
 * Sign the file open at fd (read from its start; it must be readable) and
 * write the signature as NAME.sig.tmp in dirfd, synced. 0, or -1 with
 * errno and *why (the signer's reason, or NULL).
 */
int sealsign_prepare(const struct signkey *sk, int dirfd, int fd, const char *name,
		     const char **why);

/** Rename NAME.sig.tmp to NAME.sig in dirfd. 0 or -1 with errno. */
int sealsign_install(int dirfd, const char *name);

/** Remove NAME.sig.tmp (after a failure). */
void sealsign_abandon(int dirfd, const char *name);

/**
 * A seal written without --sign: an old NAME.sig signed the seal replaced,
 * so it goes (only a regular file). 0 or -1 with errno.
 */
int sealsign_drop(int dirfd, const char *name);

#endif
