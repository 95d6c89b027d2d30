/* SPDX-License-Identifier: 0BSD */
#include "prelude.h"
#include "signkey.h"
#include "diag.h"
#include "hash.h"
#include "hashreg.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void signkey_setup(struct signkey *sk, const char *path)
{
	const char *why, *agent = getenv("SSH_AUTH_SOCK");
	int has;

	memset(sk, 0, sizeof(*sk));
	if (sshsig_key_load(path, &sk->key, &why) != 0) {
		if (!why)
			diag_usage_error("%s: %s", path, strerror(errno));
		diag_usage_error("%s: %s", path, why);
	}
	if (sk->key.has_private)
		return;
	sk->agent_socket = agent;
	if ((!agent || !*agent) && sk->key.encrypted)
		diag_usage_error("%s: the key is encrypted (%s does not ask for passphrases): add it "
				 "to ssh-agent with ssh-add and run %s with SSH_AUTH_SOCK set", path,
				 diag_prog(), diag_prog());
	if (!agent || !*agent)
		diag_usage_error("%s: a public key: its private key must be in ssh-agent, and "
				 "SSH_AUTH_SOCK is not set", path);
	has = sshsig_agent_has(agent, sk->key.pub, &why);
	if (has < 0)
		diag_usage_error("%s: %s", path, why);
	if (has == 0)
		diag_usage_error("%s: ssh-agent does not hold this key (add it with ssh-add)", path);
}

int signkey_digest_fd(int fd, unsigned char digest[SSHSIG_DIGEST_LEN])
{
	struct hash_ctx *ctx = hash_ctx_new(hash_lookup("sha512"));
	unsigned char buf[65536];
	off_t at = 0;
	ssize_t n;
	int rc = -1;

	if (!ctx)
		return -1;
	while ((n = pread(fd, buf, sizeof(buf), at)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (hash_ctx_update(ctx, buf, (size_t)n) != 0)
			goto out;
		at += n;
	}
	rc = hash_ctx_final(ctx, digest);
out:
	hash_ctx_free(ctx);
	return rc;
}

void signkey_wipe(struct signkey *sk)
{
	sshsig_key_wipe(&sk->key);
}
