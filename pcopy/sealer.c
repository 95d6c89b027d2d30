/* SPDX-License-Identifier: 0BSD */
/**
 * The seal in progress, one per destination: written to a temporary as
 * files complete (so memory does not grow with the number of files), hashed
 * as it goes, and finished with a line carrying the digest of everything
 * above it before it is renamed into place.
 *
 * With --sign, every byte written is also hashed with SHA-512, and the
 * signature of that digest (sshsig.h) is put in place as SEAL.sig just
 * before the seal itself, through the same journaled temporary-and-rename:
 * both come before the journal's commit record, so a rollback removes both
 * (and puts back the ones they replaced). Re-sealing without --sign sets an
 * old SEAL.sig aside (journaled): it signed the seal being replaced, and a
 * completed run removes it.
 */
#include "prelude.h"
#include "sealer.h"
#include "bagger.h"
#include "destdir.h"
#include "exclude.h"
#include "record.h"
#include "hashreg.h"
#include "mhlseal.h"
#include "proto.h"
#include "seal.h"
#include "signer.h"
#include "sshsig.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write out the seal's buffered bytes. Called with dest->lock held. */
static int seal_flush(struct dest *dest)
{
	if (dest->seal.text.len == 0)
		return 0;
	if (xwrite(dest->seal_fd, dest->seal.text.data, dest->seal.text.len) != 0)
		return -1;
	if (dest->seal_sha512 &&
	    hash_ctx_update(dest->seal_sha512, dest->seal.text.data, dest->seal.text.len) != 0)
		return -1;
	dbuf_clear(&dest->seal.text);
	return 0;
}

/* Open the seal's temporary in dest and write its first line. */
int seal_open(struct copy *copy, struct dest *dest)
{
	struct stat old;

	if (dest->bag)
		return bagger_open(copy, dest); /* the bag's manifests take the seal's place */
	if (fstatat(dest->rootfd, copy->opt.seal_name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(old.st_mode) ||
		    (!copy->opt.force && !copy->opt.update &&
		     !journal_owns(dest->owned, (uint64_t)old.st_ino))) {
			errno = S_ISDIR(old.st_mode) ? EISDIR : EEXIST;
			return -1;
		}
		/* --force replaces files, but a seal only ever replaces a seal: a
		 * file of the user's that happens to bear its name is never lost. */
		switch (seal_file_is_seal(dest->rootfd, copy->opt.seal_name)) {
		case 1:
			break;
		case 0:
			errno = ENOTSUP;
			return -1;
		default:
			return -1;
		}
		dest->seal_exists = true;
	} else if (errno != ENOENT) {
		return -1;
	}
	if (seal_writer_init(&dest->seal) != 0)
		return -1;
	if (copy->opt.exclude) {
		/* What the walk left out, so that a reader of the seal knows. */
		struct dbuf line;
		int rc;

		dbuf_init(&line);
		rc = exclude_format_comment(copy->opt.exclude, &line);
		if (rc == 0)
			rc = seal_writer_add(&dest->seal, line.data, line.len);
		dbuf_free(&line);
		if (rc != 0)
			return -1;
	}
	if (copy_signs(&copy->opt)) {
		hash_ctx_free(dest->seal_sha512);
		dest->seal_sha512 = hash_ctx_new(hash_lookup("sha512"));
		if (!dest->seal_sha512)
			return -1;
	}
	dest_temp_name(copy, dest->seal_tmp, sizeof(dest->seal_tmp), ".seal");
	if (journal_temp(dest->journal, dest->seal_tmp, strlen(dest->seal_tmp)) != 0)
		return -1;
	dest->seal_fd = openat(dest->rootfd, dest->seal_tmp,
			       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (dest->seal_fd < 0)
		return -1;
	return 0;
}

/* Append one file's record to dest's seal. hex holds one digest per algorithm. */
void seal_add(struct copy *copy, struct dest *dest, uint64_t ino, uint64_t size,
	      const char *rel, size_t len, const struct timespec *mtime,
	      char hex[][HASH_HEX_MAX + 1])
{
	struct mhlseal_entry entry;
	struct dbuf line;
	int ok;

	if (dest->bag) {
		bagger_add(copy, dest, size, rel, len, hex);
		return;
	}
	dbuf_init(&line);
	ok = seal_format_record(&line, ino, size, rel, len, mtime, copy->opt.algos,
				hex, copy->opt.nalgos);
	if (ok != 0) {
		dest_fail(dest, rel, len, errno, "seal");
		dbuf_free(&line);
		return;
	}
	if (copy->opt.mhl && mhlseal_entry_make(copy, hex, &entry) != 0) {
		dest_fail(dest, rel, len, errno, "ASC MHL");
		dbuf_free(&line);
		return;
	}
	pthread_mutex_lock(&dest->lock);
	/* Written out now and then, so memory does not grow with the files. */
	if (seal_writer_add(&dest->seal, line.data, line.len) != 0 ||
	    (dest->seal.text.len >= ((size_t)1 << 18) && seal_flush(dest) != 0) ||
	    (copy->opt.mhl && mhlseal_keep(copy, dest, rel, len, size, mtime, &entry) != 0))
		ok = -1;
	pthread_mutex_unlock(&dest->lock);
	if (ok != 0)
		dest_fail(dest, rel, len, errno, "seal");
	dbuf_free(&line);
}

/* The signature's name beside the seal: SEAL_NAME.sig. */
static int sig_name(const struct copy *copy, char *name, size_t size)
{
	int n = snprintf(name, size, "%s%s", copy->opt.seal_name, SSHSIG_SUFFIX);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Sign the seal (its SHA-512 so far: every byte) and put the signature in
 * place as name, journaled. Returns 0 or -1 with errno (*what says which
 * step, or *why the signer's reason).
 */
static int sig_write(struct copy *copy, struct worker *worker, struct dest *dest,
		     const char *name, const char **what, const char **why)
{
	unsigned char digest[SSHSIG_DIGEST_LEN];
	char temp[64];
	struct dbuf text;
	struct stat st;
	bool exists = false;
	int fd = -1, ret = -1;

	dbuf_init(&text);
	*what = "signing the seal";
	if (hash_ctx_final(dest->seal_sha512, digest) != 0)
		goto out;
	if (copy_sign(copy, PROTO_SIGN_SEAL, digest, &text, why) != 0)
		goto out;
	*why = NULL;
	if (fstatat(dest->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* An old signature goes only where the old seal went (--force,
		 * --update, or this run's own); never a directory or a device. */
		*what = "a signature file exists";
		if (!S_ISREG(st.st_mode)) {
			errno = S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
			goto out;
		}
		if (!dest->seal_exists && !copy->opt.force && !copy->opt.update &&
		    !journal_owns(dest->owned, (uint64_t)st.st_ino)) {
			errno = EEXIST;
			goto out;
		}
		exists = true;
	} else if (errno != ENOENT) {
		goto out;
	}
	*what = "writing the signature";
	dest_temp_name(copy, temp, sizeof(temp), ".sig");
	if (journal_temp(dest->journal, temp, strlen(temp)) != 0)
		goto out;
	fd = openat(dest->rootfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || xwrite(fd, text.data, text.len) != 0 ||
	    (copy->opt.fsync && fsync(fd) != 0) || fstat(fd, &st) != 0)
		goto out;
	*what = NULL;
	if (dest_install(worker, dest, dest->rootfd, name, strlen(name), name, temp,
			 (uint64_t)st.st_ino, exists, what) != 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0 && xclose(fd) != 0 && ret == 0)
		ret = -1;
	dbuf_free(&text);
	return ret;
}

/*
 * Re-sealing without --sign: the old seal's signature would no longer match,
 * so it is set aside (journaled: a rollback puts it back, completion removes
 * it). Returns 0 or -1 with errno.
 */
static int sig_set_aside(struct copy *copy, struct dest *dest, const char *name)
{
	char aside[64];
	struct stat st;

	if (fstatat(dest->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode))
		return 0; /* not a signature of ours: left alone */
	dest_temp_name(copy, aside, sizeof(aside), ".del");
	if (journal_aside(dest->journal, name, strlen(name), aside, strlen(aside)) != 0)
		return -1;
	return renameat(dest->rootfd, name, dest->rootfd, aside);
}

/* Finish the seal: its last line, sync, sign, and rename into place. */
int seal_close(struct copy *copy, struct worker *worker, struct dest *dest)
{
	const char *what = NULL, *why = NULL;
	char sig[NAME_MAX + 1];
	struct stat st;

	if (dest->bag)
		return bagger_close(copy, worker, dest);
	if (seal_writer_end(&dest->seal) != 0 || seal_flush(dest) != 0)
		goto fail;
	if (copy->opt.fsync && fsync(dest->seal_fd) != 0)
		goto fail;
	if (sig_name(copy, sig, sizeof(sig)) != 0)
		goto fail;
	if (dest->seal_sha512) {
		if (sig_write(copy, worker, dest, sig, &what, &why) != 0) {
			if (why) {
				dest_fail(dest, sig, strlen(sig), errno, why);
				return -1;
			}
			goto fail;
		}
	} else if (dest->seal_exists && sig_set_aside(copy, dest, sig) != 0) {
		what = "setting the old signature aside";
		goto fail;
	}
	if (fstat(dest->seal_fd, &st) != 0)
		goto fail;
	if (dest_install(worker, dest, dest->rootfd, copy->opt.seal_name, strlen(copy->opt.seal_name),
		    copy->opt.seal_name, dest->seal_tmp, (uint64_t)st.st_ino, dest->seal_exists,
		    &what) != 0)
		goto fail;
	if (copy->opt.fsync && fsync(dest->rootfd) != 0)
		goto fail;
	return 0;
fail:
	dest_fail(dest, copy->opt.seal_name, strlen(copy->opt.seal_name), errno,
		  what ? what : "writing the seal");
	return -1;
}
