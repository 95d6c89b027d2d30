/* SPDX-License-Identifier: 0BSD */
/**
 * The seal in progress, one per destination: written to a temporary as
 * files complete (so memory does not grow with the number of files), hashed
 * as it goes, and finished with a line carrying the digest of everything
 * above it before it is renamed into place.
 */
#include "prelude.h"
#include "sealer.h"
#include "destdir.h"
#include "record.h"
#include "seal.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
	dbuf_clear(&dest->seal.text);
	return 0;
}

/* Open the seal's temporary in dest and write its first line. */
int seal_open(struct copy *copy, struct dest *dest)
{
	struct stat old;

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
	struct dbuf line;
	int ok;

	dbuf_init(&line);
	ok = seal_format_record(&line, ino, size, rel, len, mtime, copy->opt.algos,
				hex, copy->opt.nalgos);
	if (ok != 0) {
		dest_fail(dest, rel, len, errno, "seal");
		dbuf_free(&line);
		return;
	}
	pthread_mutex_lock(&dest->lock);
	/* Written out now and then, so memory does not grow with the files. */
	if (seal_writer_add(&dest->seal, line.data, line.len) != 0 ||
	    (dest->seal.text.len >= ((size_t)1 << 18) && seal_flush(dest) != 0))
		ok = -1;
	pthread_mutex_unlock(&dest->lock);
	if (ok != 0)
		dest_fail(dest, rel, len, errno, "seal");
	dbuf_free(&line);
}

/* Finish the seal: its last line, sync, and rename into place. */
int seal_close(struct copy *copy, struct worker *worker, struct dest *dest)
{
	const char *what = NULL;
	struct stat st;

	if (seal_writer_end(&dest->seal) != 0 || seal_flush(dest) != 0)
		goto fail;
	if (copy->opt.fsync && fsync(dest->seal_fd) != 0)
		goto fail;
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
