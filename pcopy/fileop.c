/* SPDX-License-Identifier: 0BSD */
/**
 * One regular file, read once and written to every destination at once:
 * each destination gets an unnamed file (O_TMPFILE) or else a temporary
 * (O_EXCL, never following a link); each
 * block read is hashed and handed to every destination together, the first
 * written by the reader itself and the others by their writer threads; then
 * every copy gets its metadata, is read back with --verify, and is linked or
 * renamed into place, and its record goes to that destination's seal.
 */
#include "prelude.h"
#include "fileop.h"
#include "destdir.h"
#include "hashio.h"
#include "journal.h"
#include "links.h"
#include "rdest.h"
#include "sealer.h"
#include "single.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Run op->job on every destination of the reader in state (OP_IDLE: in any
 * state but idle), concurrently. */
static void fanout(struct reader *reader, int (*job)(struct fileop *op), enum op_state state)
{
	struct copy *copy = reader->worker.copy;
	struct fileop *first = NULL;

	pthread_mutex_lock(&reader->lock);
	reader->pending = 0;
	pthread_mutex_unlock(&reader->lock);
	for (size_t i = 0; i < copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (state == OP_IDLE ? op->state == OP_IDLE : op->state != state)
			continue;
		if (!dest_ok(op->dest)) {
			op->error = ECANCELED;
			continue;
		}
		op->job = job;
		op->error = 0;
		op->where = NULL;
		if (!first || !op->dest->writers || reader->serial) {
			if (!first)
				first = op;
			else
				op->error = job(op) != 0 ? (errno ? errno : EIO) : 0;
			continue;
		}
		pthread_mutex_lock(&reader->lock);
		reader->pending++;
		pthread_mutex_unlock(&reader->lock);
		if (pool_submit(op->dest->writers, op) != 0) {
			pthread_mutex_lock(&reader->lock);
			reader->pending--;
			pthread_mutex_unlock(&reader->lock);
			op->error = job(op) != 0 ? (errno ? errno : EIO) : 0;
		}
	}
	if (first)
		first->error = job(first) != 0 ? (errno ? errno : EIO) : 0;
	pthread_mutex_lock(&reader->lock);
	while (reader->pending > 0)
		pthread_cond_wait(&reader->cond, &reader->lock);
	pthread_mutex_unlock(&reader->lock);
}

/* A writer thread's task: one job of one fileop. */
void writer_work(void *context, void *item)
{
	struct fileop *op = item;
	struct reader *reader = op->reader;

	(void)context;
	op->error = op->job(op) != 0 ? (errno ? errno : EIO) : 0;
	pthread_mutex_lock(&reader->lock);
	if (--reader->pending == 0)
		pthread_cond_signal(&reader->cond);
	pthread_mutex_unlock(&reader->lock);
}

/* Drop op's unfinished copy: close it, and remove its temporary if it has a name. */
static void op_discard(struct fileop *op)
{
	if (op->dest->rdest) {
		rdest_file_drop(op);
		return;
	}
	if (op->keep_fd >= 0) {
		close(op->keep_fd);
		op->keep_fd = -1;
	}
	if (op->fd < 0)
		return;
	close(op->fd);
	op->fd = -1;
	/* A file changed in place is put back by the destination's undo. */
	if (op->temp[0] != '\0' && !op->inplace)
		unlinkat(op->dirfd, op->temp, 0);
}

/* After a fanout: drop (and fail) every destination whose job failed. */
static void collect_errors(struct reader *reader)
{
	struct task *task = reader->task;

	for (size_t i = 0; i < reader->worker.copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (op->state == OP_IDLE || op->error == 0)
			continue;
		if (op->error != ECANCELED)
			dest_fail(op->dest, task->rel, task->rel_len, op->error, op->where);
		op_discard(op);
		op->state = OP_IDLE;
	}
}

/*
 * Make the new copy for op: an unnamed file where the destination allows
 * and no name is to be replaced (then a crash leaves nothing behind and there
 * is no temporary name to journal), else a temporary. scratch is the
 * caller's (writer threads have none of the reader's). Returns 0 or -1 (dest
 * failed).
 */
static int op_create(struct reader *reader, struct fileop *op, struct dbuf *scratch)
{
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	struct dest *dest = op->dest;
	mode_t want;

	/* Created with its final mode when the umask lets all of it through:
	 * that saves an fchmod a file and destination. With -p, owner-only until
	 * the owner is set: until then the group and others would see our copy
	 * as another user's file. */
	want = dest_kept_mode(copy, task->st.st_mode);
	op->mode_set = !copy->opt.preserve && (want & ~(mode_t)0777) == 0 && (want & copy->umask) == 0;
	op->temp[0] = '\0';
	if (!op->exists) {
		op->fd = dest_create_anon(dest, op->dirfd, op->mode_set ? want : 0600);
		if (op->fd >= 0)
			return 0;
		if (errno != ENOTSUP) {
			dest_fail(dest, task->rel, task->rel_len, errno, NULL);
			return -1;
		}
	}
	dest_temp_name(copy, op->temp, sizeof(op->temp), "");
	if (dest_sibling_path(scratch, task->rel, op->dir_len, op->temp) != 0 ||
	    journal_temp(dest->journal, scratch->data, scratch->len) != 0) {
		dest_fail(dest, task->rel, task->rel_len, errno, "journal");
		return -1;
	}
	op->fd = openat(op->dirfd, op->temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			op->mode_set ? want : 0600);
	if (op->fd < 0) {
		dest_fail(dest, task->rel, task->rel_len, errno, NULL);
		return -1;
	}
	return 0;
}

/* Open the file at op's final name (lstat'ed as old) to compare it. 0 or -1. */
static int op_keep(struct fileop *op, const struct stat *old)
{
	struct stat st;
	int fd;

	fd = openat(op->dirfd, op->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_ino != old->st_ino || st.st_dev != old->st_dev) {
		close(fd); /* replaced since we looked: copy it anew */
		return -1;
	}
	op->keep_fd = fd;
	op->existing_ino = (uint64_t)st.st_ino;
	op->state = OP_SKIP;
	op->old = st;
	return 0;
}

/* Prepare one destination for the reader's file: check the name, make the copy. */
static void op_start(struct reader *reader, struct fileop *op)
{
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	struct dest *dest = op->dest;
	struct stat old;
	bool ours;

	op->state = OP_IDLE;
	op->fd = -1;
	op->keep_fd = -1;
	op->exists = false;
	op->delta = false;
	op->inplace = false;
	op->copying = false;
	op->cloned = false;
	op->cur_differs = false;
	memset(&op->count, 0, sizeof(op->count));
	if (dest->rdest) {
		if (dest_ok(dest) && rdest_file_start(op, task) == 0)
			op->state = OP_WRITE;
		return;
	}
	if (dest->single_name) {
		/* A single file (single.h): its own name, in the root. */
		op->dirfd = dest->rootfd;
		op->dir_len = 0;
		snprintf(op->name, sizeof(op->name), "%s", dest->single_name);
	} else {
		op->dirfd = dest_parent(&reader->worker, dest, task->rel, task->rel_len,
					&op->dir_len, op->name);
	}
	if (op->dirfd < 0)
		return;
	if (dest_check_final(copy, dest, op->dirfd, op->name, &op->exists, &ours, &old) != 0) {
		dest_fail(dest, task->rel, task->rel_len, errno,
			  errno == EEXIST ? "not replaced without --force" : NULL);
		return;
	}
	if (op->exists && (dest_looks_current(copy, ours, &old, &task->st) ||
			   delta_eligible(&copy->opt, &task->st, &old)) &&
	    op_keep(op, &old) == 0) {
		op->delta = delta_eligible(&copy->opt, &task->st, &old);
		/* A file with other names is not changed under them. */
		op->inplace = op->delta && copy->opt.inplace && old.st_nlink == 1;
		if (op->delta)
			posix_fadvise(op->keep_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		return;
	}
	if (op_create(reader, op, &reader->worker.scratch) == 0)
		op->state = OP_WRITE;
}

/* Room for len bytes of the kept file in op's compare buffer. 0, or -1 (ENOMEM). */
static int compare_room(struct fileop *op, size_t len)
{
	unsigned char *grown;

	if (op->compare_cap >= len)
		return 0;
	grown = realloc(op->compare_buf, len);
	if (!grown)
		return -1;
	op->compare_buf = grown;
	op->compare_cap = len;
	return 0;
}

/*
 * Copy [offset, offset + len) of the file in from into the same range of
 * to (the part a compare found equal to the source), in the kernel where it
 * can. A shorter from ends the copy early: the compare will not have
 * matched there. Returns 0 or -1 with errno.
 */
static int copy_range(int from, int to, uint64_t offset, uint64_t len)
{
	loff_t in = (loff_t)offset, out = (loff_t)offset;
	uint64_t end = offset + len;
	unsigned char buf[65536];

	while ((uint64_t)in < end) {
		ssize_t n = copy_file_range(from, &in, to, &out, (size_t)(end - (uint64_t)in), 0);
		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		/* No copy_file_range here: by hand. */
		while ((uint64_t)in < end) {
			size_t want = end - (uint64_t)in < sizeof(buf) ? (size_t)(end - (uint64_t)in)
								       : sizeof(buf);
			ssize_t got = xpread(from, buf, want, in);
			if (got <= 0)
				return got < 0 ? -1 : 0;
			if (xpwrite(to, buf, (size_t)got, out) != 0)
				return -1;
			in += got;
			out += got;
		}
	}
	return 0;
}

/* Whether len bytes are all zero. */
static bool all_zero(const unsigned char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* The op's path relative to its destination root, into scratch (for the journal). */
static int op_path(struct fileop *op, struct dbuf *scratch)
{
	return dest_sibling_path(scratch, op->reader->task->rel, op->dir_len, op->name);
}

/*
 * A delta's first change (at offset): make the new version. In place, the
 * base itself, opened for writing once its old metadata is in the journal;
 * else a temporary that is a clone of the base where the filesystem shares
 * blocks, or receives the equal part [0, offset) from it. Returns 0 or -1.
 */
static int delta_start(struct fileop *op, uint64_t offset, bool meta_only)
{
	struct reader *reader = op->reader;
	uint64_t size = (uint64_t)reader->task->st.st_size, from;
	struct dbuf scratch;
	struct stat st;
	int ret;

	dbuf_init(&scratch);
	if (op->inplace) {
		op->where = "journal";
		ret = op_path(op, &scratch);
		if (ret == 0)
			ret = journal_inplace(op->dest->journal, scratch.data, scratch.len,
					      op->existing_ino, &op->old);
		dbuf_free(&scratch);
		if (ret != 0)
			return -1;
		op->where = NULL;
		/* Metadata alone needs no write access (a read-only file keeps its bytes). */
		op->fd = meta_only ? fcntl(op->keep_fd, F_DUPFD_CLOEXEC, 0)
				   : openat(op->dirfd, op->name,
					    O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (op->fd < 0)
			return -1;
		if (fstat(op->fd, &st) != 0 || (uint64_t)st.st_ino != op->existing_ino) {
			errno = EAGAIN;
			op->where = "changed while being compared";
			return -1;
		}
		op->temp[0] = '\0';
		from = (uint64_t)op->old.st_size;
	} else {
		op->exists = true;
		ret = op_create(reader, op, &scratch);
		dbuf_free(&scratch);
		if (ret != 0) {
			errno = ECANCELED; /* op_create has failed the destination */
			return -1;
		}
		if (ioctl(op->fd, FICLONE, op->keep_fd) == 0) {
			op->cloned = true;
		} else {
			op->where = "copying the equal part";
			if (copy_range(op->keep_fd, op->fd, 0, offset) != 0)
				return -1;
			op->where = NULL;
		}
		from = (uint64_t)op->old.st_size;
	}
	op->copying = true;
	/* Room for what the file grows by, in one piece where the filesystem
	 * can (not below: zeros there stay holes). */
	if (size > from && !reader->sparse)
		(void)fallocate(op->fd, FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(size - from));
	return 0;
}

/* Count the block being compared, once its last byte was seen. */
static void delta_count_block(struct fileop *op)
{
	if (op->count.blocks == 0)
		return;
	if (op->cur_differs)
		op->count.differ++;
	progress_blocks(op->reader->worker.copy->progress, op->dest->index, 1,
			op->cur_differs ? 1 : 0);
	op->cur_differs = false;
}

/* In place: put the base's bytes [offset, offset + n) (those before its old end) in the journal. */
static int delta_save_old(struct fileop *op, uint64_t offset, const unsigned char *old, size_t n)
{
	uint64_t old_size = (uint64_t)op->old.st_size;
	struct dbuf scratch;
	int ret;

	if (offset >= old_size)
		return 0;
	if (n > old_size - offset)
		n = (size_t)(old_size - offset);
	dbuf_init(&scratch);
	op->where = "journal";
	ret = op_path(op, &scratch);
	if (ret == 0)
		ret = journal_old_bytes(op->dest->journal, scratch.data, scratch.len,
					op->existing_ino, offset, old, n);
	dbuf_free(&scratch);
	if (ret == 0)
		op->where = NULL;
	return ret;
}

/* Write the changed range data [offset, offset + n) into the new version. */
static int delta_write(struct fileop *op, const unsigned char *data, size_t n, uint64_t offset)
{
	bool zero = all_zero(data, n);

	op->count.written += n;
	if (zero && !op->cloned && !op->inplace)
		return 0; /* a hole in a fresh temporary: the final size makes it */
	if (zero && fallocate(op->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
			      (off_t)n) == 0)
		return 0;
	return xpwrite(op->fd, data, n, (off_t)offset);
}

/*
 * Job for a delta: the block in flight against the base's bytes (got of
 * them read into compare_buf): equal ranges are left to the clone, the
 * base itself or copy_file_range; differing ones are written.
 */
static int delta_compare(struct fileop *op, size_t got)
{
	struct reader *reader = op->reader;
	struct copy *copy = reader->worker.copy;
	const unsigned char *data = reader->block, *old = op->compare_buf;
	size_t len = reader->block_len, bs = copy->opt.block_size;
	uint64_t base = reader->block_offset;

	for (size_t at = 0; at < len;) {
		uint64_t offset = base + at, index = offset / bs;
		size_t n = bs - (size_t)(offset % bs);
		bool same;
		if (n > len - at)
			n = len - at;
		if (op->count.blocks == 0 || index != op->cur_block) {
			delta_count_block(op);
			op->count.blocks++;
			op->cur_block = index;
		}
		same = at + n <= got && memcmp(data + at, old + at, n) == 0;
		if (same) {
			if (op->copying && !op->cloned && !op->inplace &&
			    copy_range(op->keep_fd, op->fd, offset, n) != 0)
				return -1;
		} else {
			op->cur_differs = true;
			if (!op->copying && delta_start(op, offset, false) != 0)
				return -1;
			/* The old bytes of this range that the base has. */
			size_t had = got <= at ? 0 : got - at < n ? got - at : n;
			if (op->inplace && delta_save_old(op, offset, old + at, had) != 0)
				return -1;
			if (delta_write(op, data + at, n, offset) != 0)
				return -1;
		}
		at += n;
	}
	/* Nearly everything differs, and the equal blocks would be copied
	 * anyway (no clone to share them): the rest is copied whole, without
	 * reading the old file. A clone is never given up: a file whose first
	 * part changed (a prefix, pdiffcopy's case) keeps the rest shared. */
	if (!op->inplace && !op->cloned && op->copying &&
	    op->count.blocks >= DELTA_FALLBACK_BLOCKS &&
	    op->count.differ * 10 > op->count.blocks * 9) {
		delta_count_block(op);
		op->delta = false;
		op->state = OP_WRITE;
		close(op->keep_fd);
		op->keep_fd = -1;
	}
	return 0;
}

/* Whether the kept base's metadata differs from what the copy gets. */
static bool delta_meta_differs(struct fileop *op)
{
	struct copy *copy = op->reader->worker.copy;
	const struct stat *src = &op->reader->task->st, *old = &op->old;

	return old->st_mtim.tv_sec != src->st_mtim.tv_sec ||
	       old->st_mtim.tv_nsec != src->st_mtim.tv_nsec ||
	       (old->st_mode & 07777) != (dest_kept_mode(copy, src->st_mode) & 07777) ||
	       (copy->opt.preserve && (old->st_uid != src->st_uid || old->st_gid != src->st_gid));
}

/*
 * Job at a delta's end, once every source byte was compared: a base longer
 * than the source is cut (its tail journaled first in place), one that is
 * equal but for its metadata gets the new metadata in place (journaled),
 * and one that is the same in every way is kept. Those that change go on
 * to op_finish.
 */
static int op_delta_end(struct fileop *op)
{
	struct reader *reader = op->reader;
	uint64_t size = (uint64_t)reader->task->st.st_size, old_size = (uint64_t)op->old.st_size;

	if (!op->delta)
		return 0;
	delta_count_block(op);
	if (!op->copying && old_size == size && !delta_meta_differs(op))
		return 0; /* kept as it is */
	if (!op->copying && old_size == size && op->old.st_nlink == 1) {
		/* Only the metadata: changed on the base, undone from the journal
		 * (a base with other names gets a new copy, as a change would). */
		op->inplace = true;
		if (delta_start(op, size, true) != 0)
			return -1;
	} else if (!op->copying && delta_start(op, size, false) != 0) {
		return -1;
	}
	if (op->inplace && old_size > size) {
		/* The tail that the truncation removes. */
		size_t chunk = reader->worker.copy->opt.block_size;

		if (compare_room(op, chunk) != 0)
			return -1;
		for (uint64_t at = size; at < old_size;) {
			size_t want = old_size - at < chunk ? (size_t)(old_size - at) : chunk;
			ssize_t got = xpread(op->keep_fd, op->compare_buf, want, (off_t)at);
			if (got <= 0) {
				op->where = "reading the old tail";
				if (got == 0)
					errno = EIO;
				return -1;
			}
			if (delta_save_old(op, at, op->compare_buf, (size_t)got) != 0)
				return -1;
			at += (uint64_t)got;
		}
	}
	close(op->keep_fd);
	op->keep_fd = -1;
	op->state = OP_WRITE;
	return 0;
}

int reader_delta_base(struct reader *reader)
{
	struct copy *copy = reader->worker.copy;
	struct fileop *op = &reader->ops[0];

	if (copy->ndests != 1 || op->state != OP_SKIP || !op->delta)
		return -1;
	return op->keep_fd;
}

static int op_write(struct fileop *op);

/*
 * Job for a kept file: compare the block in flight with the same bytes of
 * the file already there. From the first difference on the file is
 * replaced: a new copy gets the equal part from the old file, then this
 * block and the rest from the source.
 */
static int op_compare(struct fileop *op)
{
	struct reader *reader = op->reader;
	size_t len = reader->block_len;
	struct dbuf scratch;
	ssize_t got;
	int ret;

	if (compare_room(op, len) != 0)
		return -1;
	op->where = "comparing with the file there";
	got = xpread(op->keep_fd, op->compare_buf, len, (off_t)reader->block_offset);
	if (got < 0)
		return -1;
	op->where = NULL;
	if (op->delta)
		return delta_compare(op, (size_t)got);
	if ((size_t)got == len && memcmp(op->compare_buf, reader->block, len) == 0)
		return 0;
	op->where = NULL;
	op->exists = true;
	dbuf_init(&scratch);
	ret = op_create(reader, op, &scratch);
	dbuf_free(&scratch);
	if (ret != 0) {
		errno = ECANCELED; /* op_create has failed the destination */
		return -1;
	}
	op->state = OP_WRITE;
	op->where = "copying the equal part";
	if (copy_range(op->keep_fd, op->fd, 0, reader->block_offset) != 0)
		return -1;
	close(op->keep_fd);
	op->keep_fd = -1;
	op->where = NULL;
	return op_write(op);
}

/* Job for the block in flight: write it, or compare it with a kept file. */
static int op_block(struct fileop *op)
{
	if (op->dest->rdest)
		return rdest_file_block(op, op->reader->block, op->reader->block_len);
	return op->state == OP_SKIP ? op_compare(op) : op_write(op);
}


/* Job: write the block in flight (leaving holes where a sparse source has zeros). */
static int op_write(struct fileop *op)
{
	struct reader *reader = op->reader;
	const unsigned char *data = reader->block;
	size_t len = reader->block_len, at = 0;
	const size_t granule = 4096;

	/* Zeros left out of a clone would leave the old bytes there. */
	if (!reader->sparse || op->cloned)
		return xpwrite(op->fd, data, len, (off_t)reader->block_offset);
	while (at < len) {
		size_t start, n;
		while (at < len && all_zero(data + at, len - at < granule ? len - at : granule))
			at += granule;
		if (at >= len)
			break;
		start = at;
		while (at < len && !all_zero(data + at, len - at < granule ? len - at : granule))
			at += granule;
		n = (at < len ? at : len) - start;
		if (xpwrite(op->fd, data + start, n, (off_t)(reader->block_offset + start)) != 0)
			return -1;
	}
	return 0;
}

/* hashio's sink: hand the block to every destination. */
int reader_sink(void *arg, const void *data, size_t len, uint64_t offset)
{
	struct reader *reader = arg;
	struct copy *copy = reader->worker.copy;
	bool any = false;

	if (stopping(copy))
		return ECANCELED;
	reader->block = data;
	reader->block_len = len;
	reader->block_offset = offset;
	fanout(reader, op_block, OP_IDLE);
	collect_errors(reader);
	for (size_t i = 0; i < copy->ndests; i++) {
		if (reader->ops[i].state == OP_IDLE)
			continue;
		any = true;
		/* Big files move the bar as they go; a remote lane counts what it sends (rdest.c). */
		if (!reader->ops[i].dest->rdest)
			progress_add(copy->progress, i, 0, len);
	}
	if (!any) {
		reader->abandoned = true;
		return ECANCELED;
	}
	return 0;
}

/* Job: metadata, sync, read-back, rename into place. */
static int op_finish(struct fileop *op)
{
	struct reader *reader = op->reader;
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	struct timespec times[2] = { task->st.st_atim, task->st.st_mtim };

	if (op->dest->rdest)
		return 0; /* the remote side does all of this itself */
	op->where = "setting metadata";
	if ((reader->sparse || op->copying) &&
	    (op->inplace ? op->old.st_size != task->st.st_size : true) &&
	    ftruncate(op->fd, task->st.st_size) != 0)
		return -1;
	if (copy->opt.preserve) {
		op->where = "preserving owner";
		if (fchown(op->fd, task->st.st_uid, task->st.st_gid) != 0)
			return -1;
		op->where = "preserving xattrs";
		if (task->srcfd >= 0 ? dest_copy_xattrs(task->srcfd, op->fd) != 0
				     : dest_set_xattrs(task->xattrs, task->xattrs_len, op->fd) != 0)
			return -1;
	}
	op->where = "setting metadata";
	if ((!op->mode_set && fchmod(op->fd, dest_kept_mode(copy, task->st.st_mode)) != 0) ||
	    futimens(op->fd, times) != 0)
		return -1;
	op->where = "syncing";
	if (copy->opt.fsync && fsync(op->fd) != 0)
		return -1;
	op->where = NULL;
	return 0;
}

/* Job: --verify: drop the copy from the page cache, read it back, compare. */
static int op_verify(struct fileop *op)
{
	struct reader *reader = op->reader;
	struct copy *copy = reader->worker.copy;
	struct hashio_result *want = reader->result, got;
	struct hashio_config config;

	if (op->dest->rdest)
		return 0; /* the remote side reads its own copy back */
	op->where = "verifying";
	if (!op->verify) {
		memset(&config, 0, sizeof(config));
		config.algos = copy->opt.algos;
		config.count = copy->opt.nalgos;
		config.serial = true;
		op->verify = hashio_new(&config);
		if (!op->verify)
			return -1;
	}
	/* Dirty pages cannot be dropped: write them back first. */
	if (!copy->opt.fsync && fdatasync(op->fd) != 0)
		return -1;
	posix_fadvise(op->fd, 0, 0, POSIX_FADV_DONTNEED);
	memset(&got, 0, sizeof(got));
	if (hashio_fd(op->verify, op->fd, NULL, NULL, 0, NULL, NULL, &got) != 0) {
		errno = got.error ? got.error : EIO;
		return -1;
	}
	for (size_t i = 0; i < copy->opt.nalgos; i++) {
		if (strcmp(got.hex[i], want->hex[i]) != 0) {
			op->where = "read back differs from the source";
			errno = EIO;
			return -1;
		}
	}
	op->where = NULL;
	return 0;
}

/*
 * The inode number of the open file fd. An open file keeps its inode number,
 * so the kernel's own copy of it serves (AT_STATX_DONT_SYNC): FUSE, NFS and
 * SMB would otherwise ask the server for every attribute again once their
 * cache of them has expired, a round trip per file on a far destination.
 * fstat where statx is missing.
 */
static int open_file_ino(int fd, uint64_t *ino)
{
	struct statx stx;
	struct stat st;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &stx) == 0 &&
	    (stx.stx_mask & STATX_INO)) {
		*ino = stx.stx_ino;
		return 0;
	}
	if (fstat(fd, &st) != 0)
		return -1;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/* Job: link or rename the finished copy into place. */
static int op_install(struct fileop *op)
{
	struct reader *reader = op->reader;
	struct task *task = reader->task;
	uint64_t ino;

	if (op->dest->rdest)
		return rdest_file_end(op, reader->result->hex);
	if (open_file_ino(op->fd, &ino) != 0)
		return -1;
	op->existing_ino = ino;
	if (op->inplace) {
		/* Changed where it is: nothing to link. */
	} else if (op->temp[0] == '\0') {
		if (dest_install_anon(op->dest, op->dirfd, task->rel, task->rel_len, op->name, op->fd,
				 ino, &op->where) != 0)
			return -1;
	} else if (dest_install(&reader->worker, op->dest, op->dirfd, task->rel, task->rel_len,
			   op->name, op->temp, ino, op->exists, &op->where) != 0) {
		return -1;
	}
	close(op->fd);
	op->fd = -1;
	return 0;
}

int reader_file_begin(struct reader *reader, struct task *task)
{
	struct copy *copy = reader->worker.copy;
	struct link_entry *first = NULL;
	bool any = false;

	reader->task = task;
	reader->abandoned = false;
	reader->mine = NULL;
	reader->serial = task->st.st_size <= INLINE_MAX;
	if (copy->opt.hard_links && task->st.st_nlink > 1) {
		first = link_claim(copy, task, &reader->mine);
		if (first) {
			link_copy(reader, first);
			return 0;
		}
		if (!reader->mine) {
			stop_run(copy, STOP_INTERNAL, task->rel, ENOMEM);
			return 0;
		}
	}
	for (size_t i = 0; i < copy->ndests; i++) {
		op_start(reader, &reader->ops[i]);
		any |= reader->ops[i].state != OP_IDLE;
	}
	if (!any) {
		reader_file_end(reader, NULL);
		return 0;
	}
	reader->sparse = task->st.st_blocks * 512 < task->st.st_size;
	return 1;
}

void reader_file_end(struct reader *reader, struct hashio_result *result)
{
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	struct link_entry *mine = reader->mine;
	bool ok = false;

	if (!result || stopping(copy))
		goto abort;
	reader->result = result;
	fanout(reader, op_delta_end, OP_SKIP);
	collect_errors(reader);
	fanout(reader, op_finish, OP_WRITE);
	collect_errors(reader);
	if (copy->opt.verify) {
		fanout(reader, op_verify, OP_WRITE);
		collect_errors(reader);
	}
	fanout(reader, op_install, OP_WRITE);
	collect_errors(reader);
	for (size_t i = 0; i < copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (op->state == OP_IDLE || !dest_ok(op->dest))
			continue;
		if (op->keep_fd >= 0) {
			/* Every byte compared equal; unless it grew meanwhile. */
			struct stat st;
			if (fstat(op->keep_fd, &st) != 0 || st.st_size != task->st.st_size) {
				dest_fail(op->dest, task->rel, task->rel_len, EAGAIN,
					  "changed while being compared");
				op_discard(op);
				op->state = OP_IDLE;
				continue;
			}
			close(op->keep_fd);
			op->keep_fd = -1;
		}
		if (mine)
			mine->dest_ino[i] = op->existing_ino;
		if (op->count.blocks > 0)
			dest_add_delta(op->dest, &op->count);
		atomic_fetch_add(&op->dest->files, 1);
		atomic_fetch_add(&op->dest->bytes, (uint64_t)task->st.st_size);
		progress_add(copy->progress, i, 1, 0);
		if (op->dest->single_name)
			single_done(copy, op->dest, op->existing_ino, &task->st, result->hex);
		else if (!op->dest->rdest)
			seal_add(copy, op->dest, op->existing_ino, (uint64_t)task->st.st_size,
				 task->rel, task->rel_len, &task->st.st_mtim, result->hex);
		op->state = OP_IDLE;
	}
	ok = true;
	goto out;
abort:
	for (size_t i = 0; i < copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		op_discard(op);
		op->state = OP_IDLE;
	}
out:
	reader->result = NULL; /* it pointed at the caller's result */
	reader->mine = NULL;
	if (mine)
		link_finish(copy, mine, ok, result);
}

/* Copy one regular file to every destination. */
void reader_copy(struct reader *reader, struct task *task)
{
	struct copy *copy = reader->worker.copy;
	struct hashio_result result;

	if (reader_file_begin(reader, task) <= 0)
		return;
	memset(&result, 0, sizeof(result));
	if (hashio_fd(reader->engine, task->srcfd, &task->st, task->head, task->head_len,
		      reader_sink, reader, &result) != 0) {
		if (!reader->abandoned && !stopping(copy))
			source_error(copy, task->rel, result.error ? result.error : EIO, NULL);
		reader_file_end(reader, NULL);
		return;
	}
	if (result.changed) {
		source_error(copy, task->rel, 0, "changed while being copied");
		reader_file_end(reader, NULL);
		return;
	}
	reader_file_end(reader, &result);
}
