/* SPDX-License-Identifier: 0BSD */
/**
 * pverify --signers: the signature of a manifest, checked before a single
 * entry of it is trusted.
 *
 * The manifest's bytes are hashed (SHA-512) straight from its file, without
 * moving the file offset the reading thread starts from, and the signature
 * is checked against that digest and the allowed signers. Only then is the
 * manifest read, through a tap that hashes every byte parsed: should the file
 * change between the check and the reading, the two digests differ and the
 * run fails. So a manifest piped in (nothing to read twice, and no name to
 * find its signature by) cannot be checked: it is refused.
 *
 * The allowed_signers file is read a line at a time (sshsig_signers_line),
 * so its size does not matter.
 */
#include "prelude.h"
#include "signed.h"
#include "diag.h"
#include "hashreg.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The manifest's path, into path: as given, or what standard input is redirected from. */
static int manifest_path(const char *manifest, char *path, size_t size)
{
	ssize_t n;

	if (manifest && strcmp(manifest, "-") != 0) {
		if (strlen(manifest) >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(path, manifest);
		return 0;
	}
	n = readlink("/proc/self/fd/0", path, size - 1);
	if (n < 0)
		return -1;
	path[n] = '\0';
	if (path[0] != '/') {  /* "pipe:[...]", "socket:[...]" */
		errno = ESPIPE;
		return -1;
	}
	return 0;
}

/* SHA-512 of fd's bytes from offset start to its end, read with pread. */
static int hash_file(int fd, off_t start, unsigned char digest[SSHSIG_DIGEST_LEN])
{
	struct hash_ctx *ctx = hash_ctx_new(hash_lookup("sha512"));
	char *buf = malloc(1 << 16);
	ssize_t n;
	int ret = -1;

	if (!ctx || !buf)
		goto out;
	while ((n = xpread(fd, buf, 1 << 16, start)) > 0) {
		if (hash_ctx_update(ctx, buf, (size_t)n) != 0)
			goto out;
		start += n;
	}
	if (n == 0 && hash_ctx_final(ctx, digest) == 0)
		ret = 0;
out:
	free(buf);
	hash_ctx_free(ctx);
	return ret;
}

/* Read the signature file (at most SSHSIG_FILE_MAX bytes) and parse it. */
static int read_signature(const char *path, struct sshsig_signature *sig, const char **why)
{
	char *text = malloc(SSHSIG_FILE_MAX + 1);
	ssize_t n = -1;
	int fd, ret = -1;

	*why = NULL;
	if (!text)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		struct stat st;

		if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
			errno = EINVAL;
			*why = "not a regular file";
		} else {
			n = xread(fd, text, SSHSIG_FILE_MAX + 1);
		}
		xclose(fd);
	}
	if (n > SSHSIG_FILE_MAX) {
		errno = EINVAL;
		*why = "signature file too large";
	} else if (n >= 0) {
		ret = sshsig_parse(text, (size_t)n, sig, why);
	}
	free(text);
	return ret;
}

/*
 * Find who the allowed signers file trusts with key pub for ptools-seal:
 * 1 (principal set), 0 (none: *reason may say why a line for the key did not
 * count), -1 (the file could not be read: reported). Malformed lines are
 * reported (exit 2) and skipped, as ssh-keygen skips them.
 */
static int find_signer(const char *signers, const unsigned char pub[SSHSIG_PUB_LEN],
		       char *principal, size_t cap, const char **reason)
{
	struct input *in = input_open(signers, false);
	enum input_status status;
	const char *text, *why;
	size_t len;
	int found = 0;

	*reason = NULL;
	if (!in) {
		diag_file_error(signers, errno);
		diag_raise(EXIT_USAGE);
		return -1;
	}
	while ((status = input_read_line(in, &text, &len, &why)) != INPUT_EOF) {
		if (status == INPUT_ERROR) {
			diag_file_error(signers, errno);
			diag_raise(EXIT_USAGE);
			found = -1;
			break;
		}
		if (status == INPUT_MALFORMED) {
			diag_input_error(signers, input_line(in), "%s", why);
			continue;
		}
		switch (sshsig_signers_line(text, len, pub, SSHSIG_NAMESPACE, principal, cap,
					    &why)) {
		case SSHSIG_SIGNERS_SKIP:
			break;
		case SSHSIG_SIGNERS_MATCH:
			found = 1;
			break;
		case SSHSIG_SIGNERS_NAMESPACE:
		case SSHSIG_SIGNERS_UNSUPPORTED:
			*reason = why;
			break;
		case SSHSIG_SIGNERS_MALFORMED:
			diag_input_error(signers, input_line(in), "%s", why);
			break;
		}
		if (found)
			break;
	}
	input_close(in);
	return found;
}

static void tap_hash(void *arg, const void *data, size_t len)
{
	struct signed_check *check = arg;

	if (check->read_digest && hash_ctx_update(check->read_digest, data, len) != 0) {
		hash_ctx_free(check->read_digest);
		check->read_digest = NULL; /* then signed_end cannot vouch for the bytes */
	}
}

int signed_begin(struct signed_check *check, struct input *in, const char *manifest,
		 const char *signers, bool quiet)
{
	char path[PATH_MAX], sig_path[PATH_MAX + sizeof(SSHSIG_SUFFIX)];
	char principal[256], fingerprint[SSHSIG_FINGERPRINT_MAX];
	const char *name = input_name(in), *why;
	struct sshsig_signature sig;
	struct stat st;
	off_t start;
	int fd = input_fd(in), found;

	memset(check, 0, sizeof(*check));
	if (manifest_path(manifest, path, sizeof(path)) != 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || (start = lseek(fd, 0, SEEK_CUR)) < 0) {
		diag_file_errorf(name, "--signers needs the manifest in a file, to find its "
				 "signature and read it twice (give it as an operand, or redirect "
				 "standard input from it)");
		diag_raise(EXIT_USAGE);
		return -1;
	}
	snprintf(sig_path, sizeof(sig_path), "%s%s", path, SSHSIG_SUFFIX);
	if (hash_file(fd, start, check->digest) != 0) {
		diag_file_error(name, errno);
		return -1;
	}
	if (read_signature(sig_path, &sig, &why) != 0) {
		if (!why && errno == ENOENT) {
			diag_file_errorf(sig_path, "no signature: the manifest is not trusted, "
				 "nothing in it was checked");
		} else if (!why) {
			diag_file_errorf(sig_path, "%s: the manifest is not trusted, nothing in it "
					 "was checked", strerror(errno));
		} else {
			diag_file_errorf(sig_path, "%s: the manifest is not trusted, nothing in it "
					 "was checked", why);
			if (errno == EINVAL)
				diag_raise(EXIT_USAGE);
		}
		return -1;
	}
	sshsig_fingerprint(sig.pub, fingerprint);
	if (sshsig_check(&sig, SSHSIG_NAMESPACE, check->digest, &why) != 0) {
		diag_file_errorf(sig_path, "%s: the manifest is not trusted, nothing in it was "
				 "checked", why);
		return -1;
	}
	found = find_signer(signers, sig.pub, principal, sizeof(principal), &why);
	if (found < 0)
		return -1;
	if (found == 0) {
		diag_file_errorf(sig_path, "signed by ED25519 key %s, which %s does not trust for "
				 "namespace " SSHSIG_NAMESPACE "%s%s: the manifest is not trusted, "
				 "nothing in it was checked", fingerprint, signers,
				 why ? ": " : "", why ? why : "");
		return -1;
	}
	if (!quiet)
		diag_note("%s: good signature by %s (ED25519 key %s)", name, principal, fingerprint);
	check->read_digest = hash_ctx_new(hash_lookup("sha512"));
	if (!check->read_digest) {
		diag_file_error(name, errno);
		return -1;
	}
	input_set_tap(in, tap_hash, check);
	return 0;
}

void signed_end(struct signed_check *check, struct input *in, bool whole)
{
	unsigned char digest[SSHSIG_DIGEST_LEN];

	input_set_tap(in, NULL, NULL);
	if (whole && (!check->read_digest || hash_ctx_final(check->read_digest, digest) != 0 ||
		      memcmp(digest, check->digest, sizeof(digest)) != 0)) {
		diag_file_errorf(input_name(in), "changed while it was read: what was checked is "
				 "not what was signed");
	}
	hash_ctx_free(check->read_digest);
	check->read_digest = NULL;
}
