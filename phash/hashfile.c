/* SPDX-License-Identifier: 0BSD */
/** phash's per-file callback: hash an item (or reuse its digests) and format its output. */
#include "prelude.h"
#include "phash.h"
#include "diag.h"
#include "dircache.h"
#include "hashio.h"
#include "openread.h"
#include "sumfmt.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void task_init(void *item)
{
	struct task *task = item;

	rec_init(&task->rec);
	dbuf_init(&task->text);
}

void task_free(void *item)
{
	struct task *task = item;

	rec_free(&task->rec);
	dbuf_free(&task->text);
}

void task_reset(void *item)
{
	struct task *task = item;

	task->is_text = false;
	task->fresh = false;
	task->named = false;
	task->known_regular = false;
	task->have_stat = false;
	task->walk_error = 0;
	rec_reset(&task->rec);
	dbuf_clear(&task->text);
}

static int set_type(struct rec *rec, char type)
{
	return rec_attr_set(rec, "type", &type, 1);
}

/* The errno name ("EACCES"), or "E" and its number when glibc has none. */
static const char *errno_name(int err, char *buf, size_t size)
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, size, "E%d", err);
	return buf;
}

static void drop_digests(struct rec *rec, const struct options *opt)
{
	size_t i;

	for (i = 0; i < opt->count; i++)
		rec_attr_remove(rec, opt->algos[i]->name);
}

/* Native output of a hashed (or reused) file. */
static int format_hashed(struct task *task, const struct options *opt,
			 const struct hashio_result *res, struct dbuf *line)
{
	struct rec *rec = &task->rec;
	char mtime[REC_TIME_MAX];
	size_t i;

	rec->ino = res->ino;
	rec->size = res->size;
	rec->plain = false;
	if (task->fresh && set_type(rec, 'f') != 0)
		return -1;
	if (rec_attr_set(rec, "mtime", mtime, rec_time_into(mtime, &res->mtime)) != 0)
		return -1;
	for (i = 0; i < opt->count; i++) {
		if (rec_attr_set(rec, opt->algos[i]->name, res->hex[i], 2 * opt->algos[i]->digest_len) != 0)
			return -1;
	}
	rec_attr_remove(rec, "error");
	if (res->changed) {
		if (rec_attr_set(rec, "changed", "1", 1) != 0)
			return -1;
	} else {
		rec_attr_remove(rec, "changed");
	}
	return rec_format(rec, line);
}

/*
 * Output of a file that could not be hashed: error instead of digests. A bare
 * path or a walked entry gets the inode, size and type of its stat when
 * there was one (an open refused, a read failed), as pfind would write them,
 * else 0 and 0 and no type.
 */
static int format_failed(struct task *task, const struct options *opt,
			 const struct hashio_result *res, struct dbuf *line)
{
	struct rec *rec = &task->rec;
	char buf[16];
	const char *name = errno_name(res->error, buf, sizeof(buf));

	if (opt->format != FORMAT_NATIVE)
		return 0;
	if (task->fresh && res->mode != 0) {
		rec->ino = res->ino;
		rec->size = res->size;
		if (set_type(rec, rec_type_letter(res->mode)) != 0)
			return -1;
	}
	rec->plain = false;
	drop_digests(rec, opt);
	if (rec_attr_set(rec, "error", name, strlen(name)) != 0)
		return -1;
	return rec_format(rec, line);
}

/* Output of something that is not a regular file: passed through unchanged. */
static int format_other(struct task *task, const struct options *opt,
			const struct hashio_result *res, struct dbuf *line)
{
	struct rec *rec = &task->rec;

	if (opt->format != FORMAT_NATIVE)
		return 0;
	if (task->fresh) {
		/* A bare path becomes a record: its stat is all there is to say. */
		rec->plain = false;
		rec->ino = res->ino;
		rec->size = res->size;
		if (set_type(rec, rec_type_letter(res->mode)) != 0)
			return -1;
	}
	return rec_format(rec, line);
}

static int format_sums(struct task *task, const struct options *opt,
		       const struct hashio_result *res, struct dbuf *line)
{
	const char *path = rec_path(&task->rec);
	size_t len = rec_path_len(&task->rec), i;

	if (opt->format == FORMAT_GNU)
		return sumfmt_gnu_format(line, res->hex[0], path, len);
	for (i = 0; i < opt->count; i++) {
		if (sumfmt_bsd_format(line, opt->algos[i], res->hex[i], path, len) != 0)
			return -1;
	}
	return 0;
}

/* A path the user named (an argument, a plain path, a -0 item) is followed
 * to what it points at, as sha256sum, rhash and hashdeep follow theirs and
 * pverify follows a manifest's; a walked entry or a record is the entry
 * itself, a symlink passed through. */
static bool follows(const struct task *task)
{
	return task->named;
}

/* The reuse check: the old digests when the file is unchanged since OLDLIST. */
static bool try_reuse(struct phash *ph, struct task *task, struct hashio_result *res)
{
	const char *path = rec_path(&task->rec);
	const char *const *old;
	struct stat st;
	size_t i;

	if (fstatat(AT_FDCWD, path, &st, follows(task) ? 0 : AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode))
		return false;
	old = reuse_find(ph->reuse, path, rec_path_len(&task->rec), &st);
	if (!old)
		return false;
	memset(res, 0, offsetof(struct hashio_result, hex));
	res->ino = (uint64_t)st.st_ino;
	res->size = (uint64_t)st.st_size;
	res->mtime = st.st_mtim;
	res->mode = st.st_mode;
	for (i = 0; i < ph->opt.count; i++)
		memcpy(res->hex[i], old[i], 2 * ph->opt.algos[i]->digest_len + 1);
	return true;
}

static int open_flags(const struct task *task)
{
	return (follows(task) ? 0 : OPEN_READ_NOFOLLOW) |
	       (task->known_regular ? OPEN_READ_NO_PRESTAT : 0);
}

/*
 * Hash one item and append its output to *line; returns the size hashed. fd
 * is the file opened by hashfile_open (-1: not opened), head its first bytes
 * read ahead.
 */
static uint64_t process(struct batchpipe_worker *worker, struct task *task, int fd,
			const struct stat *st, const void *head, size_t head_len, struct dbuf *line)
{
	struct phash *ph = batchpipe_arg(worker);
	const struct options *opt = &ph->opt;
	const char *path = rec_path(&task->rec);
	size_t mark = line->len;
	uint64_t bytes = 0;
	struct hashio_result res;
	struct hashio *engine;
	int ret, err = 0;

	/* All but the digests, which only a hashed file fills. */
	memset(&res, 0, offsetof(struct hashio_result, hex));
	if (task->walk_error) {
		res.error = task->walk_error;
		ret = -1;
	} else if (task->have_stat) {
		res.ino = (uint64_t)task->st.st_ino;
		res.size = (uint64_t)task->st.st_size;
		res.mode = task->st.st_mode;
		res.not_regular = true;
		ret = -1;
	} else if (ph->reuse && try_reuse(ph, task, &res)) {
		/* Not read, but done: count its bytes for the rate and ETA. */
		progress_add(ph->progress, 0, 0, res.size);
		ret = 0;
	} else if ((engine = batchpipe_engine(worker, opt->algos, opt->count)) && fd >= 0) {
		ret = hashio_fd(engine, fd, st, head, head_len, NULL, NULL, &res);
	} else if (engine) {
		const char *name;
		int dirfd = dircache_at(batchpipe_dircache(worker), path, rec_path_len(&task->rec),
					&name);

		ret = hashio_file_at(engine, dirfd, name, open_flags(task), &res);
	} else {
		res.error = ENOMEM;
		ret = -1;
	}
	/* A directory named by the user cannot be hashed, as sha256sum says;
	 * one found by a walk, or described by a record (pfind writes them),
	 * is part of the tree and passes through. */
	if (ret != 0 && res.not_regular && task->named && S_ISDIR(res.mode)) {
		res.not_regular = false;
		res.error = EISDIR;
	}
	/* The checksum formats have no line for a FIFO or a device the user
	 * named (never opened: it could block, or a tape rewind): an error,
	 * not a silent gap in the list. A record says what it is instead. */
	if (ret != 0 && res.not_regular && task->named && opt->format != FORMAT_NATIVE) {
		res.not_regular = false;
		res.error = ENOTREGULAR;
	}

	if (ret == 0) {
		/* The engine counted the bytes as it read them. */
		progress_add(ph->progress, 0, 1, 0);
		bytes = res.size;
		if (res.changed)
			diag_file_errorf(path, "file changed while being hashed");
		if (opt->format == FORMAT_NATIVE)
			err = format_hashed(task, opt, &res, line);
		else
			err = format_sums(task, opt, &res, line);
	} else if (res.not_regular) {
		progress_add(ph->progress, 0, 1, 0);
		err = format_other(task, opt, &res, line);
	} else {
		progress_add(ph->progress, 0, 1, 0);
		diag_file_error(path, res.error);
		err = format_failed(task, opt, &res, line);
	}
	if (err != 0) {
		diag_file_error(path, ENOMEM);
		dbuf_truncate(line, mark);
	}
	return bytes;
}

/*
 * A file to be hashed, opened as hashio_file_at opens it. Not with --reuse,
 * where most files are not read at all; a file that does not open here is
 * left to hashio_file_at, which tries again and says why.
 */
int hashfile_open(struct batchpipe_worker *worker, void *item, struct stat *st)
{
	const struct phash *ph = batchpipe_arg(worker);
	const struct task *task = item;
	const char *name;
	int dirfd, fd;

	if (task->is_text || task->walk_error || task->have_stat || ph->reuse)
		return -1;
	dirfd = dircache_at(batchpipe_dircache(worker), rec_path(&task->rec),
			    rec_path_len(&task->rec), &name);
	fd = open_read_at(dirfd, name, open_flags(task), st, NULL);
	return fd >= 0 ? fd : -1;
}

uint64_t hashfile_finish(struct batchpipe_worker *worker, void *item, int fd,
			 const struct stat *st, const void *head, size_t head_len,
			 struct dbuf *out)
{
	struct task *task = item;

	if (!task->is_text)
		return process(worker, task, fd, st, head, head_len, out);
	if (dbuf_append(out, task->text.data, task->text.len) != 0)
		diag_file_error(NULL, ENOMEM);
	return 0;
}
