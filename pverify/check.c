/* SPDX-License-Identifier: 0BSD */
/** pverify's per-file callback: check one manifest entry against its file. */
#include "prelude.h"
#include "check.h"
#include "beneath.h"
#include "diag.h"
#include "dircache.h"
#include "hashio.h"
#include "longpath.h"
#include "openread.h"
#include "record.h"
#include "unorm.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A record without digests: the entry exists (fstat of an O_PATH fd, the
 * entry itself and not a symlink's target), has the type the record names,
 * and, for a regular file, its size. Nothing is read.
 */
static void check_entry(struct task *task, const struct stat *st)
{
	task->verdict = VERDICT_OK;
	if (task->type && task->type != rec_type_letter(st->st_mode))
		task_set_error(task, 0, "type differs");
	else if (S_ISREG(st->st_mode) && task->has_size && (uint64_t)st->st_size != task->size)
		task->verdict = VERDICT_SIZE;
	else if (S_ISREG(st->st_mode))
		task->size = (uint64_t)st->st_size;
	else
		task->size = 0;
}

/*
 * Open path beneath dirfd, a root or a directory resolved beneath it, as
 * open_task does for a task under --root. Returns what open_task returns.
 */
static int open_below(int dirfd, const char *path, bool look_only, struct stat *st)
{
	int fd;

	if (!look_only)
		return open_read_at(dirfd, path, OPEN_READ_BENEATH | OPEN_READ_NO_PRESTAT, st, NULL);
	fd = beneath_resolve(dirfd, path, O_PATH | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, st) != 0) {
		xclose(fd);
		return -1;
	}
	return fd;
}

/*
 * Open path (len bytes: the task's, or its other normalization): to read
 * it (the one safe way, openread.h), or, for a record that claims only
 * existence and type, as an O_PATH handle to fstat. Relative to the
 * worker's cached directory: a manifest lists a directory's files together,
 * and looking up a long path's directories again for every file is a large
 * part of the open (on far storage, a round trip per directory). Under
 * --root the directory was resolved beneath the root and the last component
 * is resolved beneath it (dircache_at_beneath says why that is as safe);
 * one that leaves it (EXDEV) is asked again from the root, which decides.
 * Returns the descriptor with its fstat in *st, OPEN_READ_NOT_REGULAR (*st
 * set), or -1 with errno.
 */
static int open_task(struct batchpipe_worker *worker, const struct task *task, const char *path,
		     size_t len, struct stat *st)
{
	const struct check *shared = batchpipe_arg(worker);
	const char *name;
	int dirfd, fd;

	if (shared->rootfd != AT_FDCWD) {
		dirfd = dircache_at_beneath(batchpipe_dircache(worker), shared->rootfd, path, len,
					    &name);
		fd = open_below(dirfd, name, task->look_only, st);
		if (fd == -1 && errno == EXDEV && dirfd != shared->rootfd)
			fd = open_below(shared->rootfd, path, task->look_only, st);
		return fd;
	}
	dirfd = dircache_at(batchpipe_dircache(worker), path, len, &name);
	if (!task->look_only)
		return open_read_at(dirfd, name, OPEN_READ_NO_PRESTAT, st, NULL);
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENAMETOOLONG) {
		int parent = longpath_parent(AT_FDCWD, path, &name);
		if (parent == -1)
			return -1;
		fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (parent != AT_FDCWD)
			xclose(parent);
	}
	if (fd >= 0 && fstat(fd, st) != 0) {
		xclose(fd);
		return -1;
	}
	return fd;
}

/*
 * A path the disk does not have may be there under its other Unicode
 * normalization: macOS writes names decomposed (NFD), most systems
 * precomposed (NFC), and a manifest made on one may be checked on the
 * other. Tried only after a miss, so a tree without one costs nothing.
 * Returns what open_task returns for the first form that is there (its
 * name in *form), else -1 with errno as the first miss left it.
 */
static int open_other_form(struct batchpipe_worker *worker, const struct task *task,
			   struct stat *st, const char **form)
{
	static const enum unorm_form forms[] = { UNORM_NFD, UNORM_NFC };
	static const char *const names[] = { "NFD", "NFC" };
	int saved = errno, fd = -1;
	struct dbuf other;

	dbuf_init(&other);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		dbuf_clear(&other);
		/* A name that is not UTF-8 has no other form. */
		if (unorm_normalize(forms[i], task->path, task->path_len, &other) != 0)
			break;
		if (other.len == task->path_len && memcmp(other.data, task->path, other.len) == 0)
			continue;
		fd = open_task(worker, task, other.data, other.len, st);
		if (fd >= 0 || fd == OPEN_READ_NOT_REGULAR) {
			*form = names[i];
			break;
		}
		fd = -1;
	}
	dbuf_free(&other);
	if (fd == -1)
		errno = saved;
	return fd;
}

/*
 * Open the task's file, fstat it (in *st) and decide all that needs no
 * reading: missing, not regular, size, --sizes-only. Returns the descriptor when
 * the file is to be hashed (the pipeline closes it), else -1 with the verdict set.
 */
static int check_open(struct batchpipe_worker *worker, struct task *task, struct stat *st)
{
	const struct check *shared = batchpipe_arg(worker);
	const char *form = NULL;
	int fd;

	fd = open_task(worker, task, task->path, task->path_len, st);
	if (fd == -1 && (errno == ENOENT || errno == ENOTDIR)) {
		fd = open_other_form(worker, task, st, &form);
		if (form && !shared->quiet)
			diag_file_note(task->path, "found as its %s form", form);
	}
	if (fd == OPEN_READ_NOT_REGULAR) {
		task_set_error(task, S_ISDIR(st->st_mode) ? EISDIR : 0, "not a regular file");
		return -1;
	}
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			task->verdict = VERDICT_MISSING;
		else if (errno == EXDEV)
			task_set_error(task, 0, "leads out of the root through a symlink");
		else if (errno == ELOOP && shared->rootfd != AT_FDCWD)
			task_set_error(task, 0, "symlink not followed under --root");
		else
			task_set_error(task, errno, NULL);
		return -1;
	}
	/* For the audit's byte count: what was opened, whatever the verdict. */
	if (task->size_cell && S_ISREG(st->st_mode))
		*task->size_cell = (uint64_t)st->st_size + 1;
	if (task->look_only) {
		check_entry(task, st);
		goto done;
	}
	if (task->has_size && (uint64_t)st->st_size != task->size) {
		task->verdict = VERDICT_SIZE;
		goto done;
	}
	task->size = (uint64_t)st->st_size;
	if (shared->sizes_only) {
		task->verdict = VERDICT_OK;
		if (task->has_mtime && (st->st_mtim.tv_sec != task->mtime.tv_sec ||
					st->st_mtim.tv_nsec != task->mtime.tv_nsec))
			task->verdict = VERDICT_FAILED;
		goto done;
	}
	task->verdict = VERDICT_OK;
	if (task->ndigests == 0)
		goto done;
	return fd;
done:
	close(fd);
	return -1;
}

/*
 * Hash an opened file once with every algorithm (its first len bytes
 * already read into head, if any) and compare the digests.
 */
static void check_hash(struct batchpipe_worker *worker, struct task *task, int fd,
		       const struct stat *st, const void *head, size_t len)
{
	struct hashio_result result;
	struct hashio *engine;
	size_t i;

	engine = batchpipe_engine(worker, task->algos, task->ndigests);
	if (!engine) {
		task_set_error(task, errno, NULL);
		return;
	}
	if (hashio_fd(engine, fd, st, head, len, NULL, NULL, &result) != 0) {
		task_set_error(task, result.error, result.error ? NULL : "could not be read");
		return;
	}
	if (result.changed) {
		task_set_error(task, 0, "changed while it was read");
		return;
	}
	for (i = 0; i < task->ndigests; i++) {
		if (strcmp(result.hex[i], task->hex[i]) != 0) {
			task->verdict = VERDICT_FAILED;
			break;
		}
	}
}

int check_open_item(struct batchpipe_worker *worker, void *item, struct stat *st)
{
	struct task *task = *(struct task **)item;

	if (task->verdict != VERDICT_PENDING)
		return -1;
	return check_open(worker, task, st);
}

uint64_t check_finish_item(struct batchpipe_worker *worker, void *item, int fd,
			   const struct stat *st, const void *head, size_t head_len,
			   struct dbuf *out)
{
	const struct check *shared = batchpipe_arg(worker);
	struct task *task = *(struct task **)item;
	uint64_t size;

	if (fd >= 0)
		check_hash(worker, task, fd, st, head, head_len);
	size = task->verdict == VERDICT_OK ? task->size : 0;
	progress_add(shared->progress, 0, 1, size);
	report_add(shared->report, batchpipe_context(worker), task, out);
	return size;
}

void check_batch_end(struct batchpipe_worker *worker, struct dbuf *out)
{
	const struct check *shared = batchpipe_arg(worker);

	report_batch_end(shared->report, batchpipe_context(worker), out);
}

void check_context_init(void *context, void *arg)
{
	(void)arg;
	report_batch_init(context);
}

void check_context_fini(void *context, void *arg)
{
	(void)arg;
	report_batch_free(context);
}
