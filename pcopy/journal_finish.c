/* SPDX-License-Identifier: 0BSD */
/**
 * Finishing what a journal describes: undo an unfinished run, complete a
 * committed one, or take an unfinished one over for --resume (see the essay
 * in journal.c for why each step is safe).
 */
#include "prelude.h"
#include "journal_finish.h"
#include "beneath.h"
#include "journal.h"
#include "journal_read.h"
#include "xio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* State of one finish pass. */
struct finisher {
	int rootfd;
	journal_report_fn *report;
	void *arg;
	struct journal_result *result;
	/* The directory last opened, so runs of records in one directory reuse it. */
	struct dbuf dir_path;
	int dirfd;
	/* The root's own deferred metadata (a D record with an empty path). */
	bool root_meta;
	mode_t root_mode;
	struct timespec root_mtime;
	bool root_old_mtime;
	struct timespec root_old;
};

static void note_failure(struct finisher *fin, const char *path, int err)
{
	fin->result->failures++;
	if (fin->report)
		fin->report(fin->arg, path, err);
}

/*
 * Open the parent of path (beneath the root, never following a link) and
 * find its last component. Returns the parent fd (owned by fin) or -1.
 */
static int open_parent(struct finisher *fin, const struct dbuf *path, char *name)
{
	size_t dir_len;

	if (beneath_last_name(path->data, path->len, &dir_len, name) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (fin->dirfd >= 0 && fin->dir_path.len == dir_len &&
	    memcmp(fin->dir_path.data ? fin->dir_path.data : "", path->data, dir_len) == 0)
		return fin->dirfd;
	if (fin->dirfd >= 0)
		close(fin->dirfd);
	fin->dirfd = -1;
	dbuf_clear(&fin->dir_path);
	if (dbuf_append(&fin->dir_path, path->data, dir_len) != 0)
		return -1;
	fin->dirfd = beneath_open_dir(fin->rootfd, path->data, dir_len, 0);
	return fin->dirfd;
}

/* Forget the cached parent (after removing a directory it might be). */
static void drop_parent(struct finisher *fin)
{
	if (fin->dirfd >= 0)
		close(fin->dirfd);
	fin->dirfd = -1;
	dbuf_clear(&fin->dir_path);
}

/* Undo one record of an uncommitted journal. */
static void undo_record(struct finisher *fin, struct journal_record *rec)
{
	char name[NAME_MAX + 1], backup[NAME_MAX + 1];
	struct timespec times[2];
	struct stat st;
	int dirfd;

	if (rec->path.len == 0) {
		/* The root: handled after the journal is gone. */
		if (rec->kind == 'M') {
			fin->root_old_mtime = true;
			fin->root_old = rec->old_mtime;
		}
		return;
	}
	dirfd = open_parent(fin, &rec->path, name);
	if (dirfd < 0) {
		/* A parent that is gone holds nothing of ours either. */
		if (errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		return;
	}
	switch (rec->kind) {
	case 'R':
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				note_failure(fin, rec->path.data, errno);
			return;
		}
		if ((uint64_t)st.st_ino != rec->number || S_ISDIR(st.st_mode))
			return; /* not ours: pre-existing, or already put back */
		if (unlinkat(dirfd, name, 0) != 0)
			note_failure(fin, rec->path.data, errno);
		else
			fin->result->removed++;
		break;
	case 'T':
		if (unlinkat(dirfd, name, 0) == 0)
			fin->result->removed++;
		else if (errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		break;
	case 'B':
		if (rec->other.len == 0 || rec->other.len > NAME_MAX)
			return;
		memcpy(backup, rec->other.data, rec->other.len + 1);
		if (renameat(dirfd, backup, dirfd, name) != 0) {
			if (errno != ENOENT)
				note_failure(fin, rec->path.data, errno);
			break;
		}
		fin->result->restored++;
		/* Killed after the backup link but before the replacement, the
		 * backup and the name are one file, and rename(2) then does
		 * nothing: the backup name must still go. */
		if (unlinkat(dirfd, backup, 0) != 0 && errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		break;
	case 'X':
		if (rec->other.len == 0 || rec->other.len > NAME_MAX ||
		    memchr(rec->other.data, '/', rec->other.len))
			return;
		if (renameat(fin->rootfd, rec->other.data, dirfd, name) == 0)
			fin->result->restored++;
		else if (errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		break;
	case 'D':
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
			fin->result->dirs_removed++;
		else if (errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		drop_parent(fin);
		break;
	case 'M':
		times[0].tv_sec = 0;
		times[0].tv_nsec = UTIME_OMIT;
		times[1] = rec->old_mtime;
		if (utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		break;
	}
}

/*
 * Remove name in parent and everything under it, never following a symlink
 * (one is removed as itself). Returns 0, or -1 with errno (the first
 * failure; the rest is still tried).
 */
static int remove_tree(int parent, const char *name)
{
	struct dirent *ent;
	struct stat st;
	DIR *dir;
	int fd, ret = 0, err = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dir = fdopendir(fd);
	if (!dir) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	while ((ent = readdir(dir)) != NULL) {
		if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
			continue;
		if (remove_tree(dirfd(dir), ent->d_name) != 0 && !err)
			err = errno;
	}
	closedir(dir);
	if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && !err)
		err = errno;
	if (err) {
		errno = err;
		ret = -1;
	}
	return ret;
}

/* Complete one record of a committed journal. */
static void complete_record(struct finisher *fin, struct journal_record *rec)
{
	char name[NAME_MAX + 1], backup[NAME_MAX + 1];
	struct timespec times[2];
	int dirfd;

	if (rec->kind == 'X') {
		/* What --delete set aside goes for good now the seal is written. */
		if (rec->other.len == 0 || rec->other.len > NAME_MAX ||
		    memchr(rec->other.data, '/', rec->other.len))
			return;
		if (remove_tree(fin->rootfd, rec->other.data) != 0 && errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		return;
	}
	if (rec->kind != 'B' && rec->kind != 'D' && rec->kind != 'M')
		return;
	if (rec->path.len == 0) {
		if (rec->kind != 'B') {
			fin->root_meta = true;
			fin->root_mode = (mode_t)rec->number;
			fin->root_mtime = rec->mtime;
		}
		return;
	}
	dirfd = open_parent(fin, &rec->path, name);
	if (dirfd < 0) {
		note_failure(fin, rec->path.data, errno);
		return;
	}
	if (rec->kind == 'B') {
		if (rec->other.len == 0 || rec->other.len > NAME_MAX)
			return;
		memcpy(backup, rec->other.data, rec->other.len + 1);
		if (unlinkat(dirfd, backup, 0) != 0 && errno != ENOENT)
			note_failure(fin, rec->path.data, errno);
		return;
	}
	times[0].tv_sec = 0;
	times[0].tv_nsec = UTIME_OMIT;
	times[1] = rec->mtime;
	if (fchmodat(dirfd, name, (mode_t)rec->number, 0) != 0 ||
	    utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
		note_failure(fin, rec->path.data, errno);
}

int journal_finish(const char *dest, journal_report_fn *report, void *arg,
		   struct journal_result *result)
{
	int rootfd, ret;

	memset(result, 0, sizeof(*result));
	rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	ret = journal_lock(rootfd);
	if (ret == 0)
		ret = journal_finish_at(rootfd, dest, report, arg, result);
	xclose(rootfd);
	return ret;
}

int journal_finish_at(int rootfd, const char *dest, journal_report_fn *report, void *arg,
		      struct journal_result *result)
{
	struct finisher fin;
	struct journal_reader rev;
	struct journal_record rec;
	bool have_header = false, root_created = false, empty;
	struct timespec header_mtime = { 0, UTIME_OMIT };
	const char *line;
	size_t len;
	int fd = -1, got, saved, ret = -1;

	memset(result, 0, sizeof(*result));
	memset(&fin, 0, sizeof(fin));
	memset(&rev, 0, sizeof(rev));
	journal_record_init(&rec);
	fin.report = report;
	fin.arg = arg;
	fin.result = result;
	fin.dirfd = -1;
	fin.rootfd = rootfd;
	fd = openat(fin.rootfd, JOURNAL_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (journal_is_committed(fd, &result->committed) != 0 || journal_reader_open(&rev, fd) != 0)
		goto out;
	/* Killed between making the journal and writing its header: nothing
	 * was made after it, so there is nothing to undo but the journal. */
	empty = journal_reader_whole(&rev) == 0;
	while ((got = journal_reader_prev(&rev, &line, &len)) == 1) {
		if (!journal_parse_record(&rec, line, len))
			continue; /* comments, and lines a crash cut short */
		if (rec.kind == 'H') {
			have_header = true;
			root_created = rec.number;
			header_mtime = rec.mtime;
		} else if (result->committed) {
			complete_record(&fin, &rec);
		} else {
			undo_record(&fin, &rec);
		}
	}
	if (got < 0)
		goto out;
	if (!have_header && empty) {
		if (unlinkat(fin.rootfd, JOURNAL_NAME, 0) != 0)
			note_failure(&fin, JOURNAL_NAME, errno);
		ret = 0;
		goto out;
	}
	if (!have_header) {
		errno = EBADMSG;
		goto out;
	}
	drop_parent(&fin);
	if (unlinkat(fin.rootfd, JOURNAL_NAME, 0) != 0) {
		note_failure(&fin, JOURNAL_NAME, errno);
	} else if (result->committed) {
		if (fin.root_meta) {
			struct timespec times[2] = { { 0, UTIME_OMIT }, fin.root_mtime };
			if (fchmod(fin.rootfd, fin.root_mode) != 0 ||
			    futimens(fin.rootfd, times) != 0)
				note_failure(&fin, ".", errno);
		}
	} else if (root_created) {
		if (rmdir(dest) == 0)
			result->root_removed = true;
		else
			note_failure(&fin, ".", errno);
	} else {
		struct timespec times[2] = { { 0, UTIME_OMIT }, header_mtime };
		if (fin.root_old_mtime)
			times[1] = fin.root_old;
		if (times[1].tv_nsec != UTIME_OMIT && futimens(fin.rootfd, times) != 0)
			note_failure(&fin, ".", errno);
	}
	ret = 0;
out:
	saved = errno;
	drop_parent(&fin);
	dbuf_free(&fin.dir_path);
	journal_record_fini(&rec);
	journal_reader_close(&rev);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return ret;
}

/*
 * Resuming. The interrupted run's files are recognised the way undo
 * recognises them: a final name is ours when it holds the inode an R record
 * names. Only those inode numbers are kept (an open-addressed set, 16 bytes
 * or so a file), not the paths.
 */
struct journal_owned {
	uint64_t *slots;             /* 0: empty (no file has inode 0) */
	size_t cap, n;
};

static size_t owned_slot(const struct journal_owned *owned, uint64_t ino)
{
	uint64_t h = ino * UINT64_C(0x9e3779b97f4a7c15);
	size_t i = (size_t)(h >> 17) & (owned->cap - 1);

	while (owned->slots[i] != 0 && owned->slots[i] != ino)
		i = (i + 1) & (owned->cap - 1);
	return i;
}

static int owned_add(struct journal_owned *owned, uint64_t ino)
{
	size_t i;

	if (ino == 0)
		return 0;
	if ((owned->n + 1) * 4 > owned->cap * 3) {
		struct journal_owned grown = { NULL, owned->cap ? owned->cap * 2 : 1024, 0 };
		if (grown.cap > SIZE_MAX / sizeof(*grown.slots)) {
			errno = ENOMEM;
			return -1;
		}
		grown.slots = calloc(grown.cap, sizeof(*grown.slots));
		if (!grown.slots)
			return -1;
		for (size_t old = 0; old < owned->cap; old++)
			if (owned->slots[old] != 0)
				grown.slots[owned_slot(&grown, owned->slots[old])] = owned->slots[old];
		grown.n = owned->n;
		free(owned->slots);
		*owned = grown;
	}
	i = owned_slot(owned, ino);
	if (owned->slots[i] == 0) {
		owned->slots[i] = ino;
		owned->n++;
	}
	return 0;
}

bool journal_owns(const struct journal_owned *owned, uint64_t ino)
{
	return owned && owned->cap > 0 && ino != 0 && owned->slots[owned_slot(owned, ino)] == ino;
}

void journal_owned_free(struct journal_owned *owned)
{
	if (!owned)
		return;
	free(owned->slots);
	free(owned);
}

struct journal *journal_resume(int rootfd, bool sync, struct journal_owned **ownedp)
{
	struct journal_result result;
	struct journal_owned *owned = NULL;
	struct journal *journal = NULL;
	struct journal_reader rev;
	struct finisher fin;
	struct journal_record rec;
	const char *line;
	size_t len;
	bool committed, have_header = false;
	int fd, got, err;

	*ownedp = NULL;
	memset(&rev, 0, sizeof(rev));
	journal_record_init(&rec);
	memset(&fin, 0, sizeof(fin));
	memset(&result, 0, sizeof(result));
	fin.rootfd = rootfd;
	fin.dirfd = -1;
	fin.result = &result;
	fd = openat(rootfd, JOURNAL_NAME, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (journal_is_committed(fd, &committed) != 0)
		goto fail;
	if (committed) {
		errno = EALREADY;
		goto fail;
	}
	owned = calloc(1, sizeof(*owned));
	if (!owned || journal_reader_open(&rev, fd) != 0)
		goto fail;
	/* A record the kill cut short was never acted on: drop it, so that
	 * what is appended now starts on a line of its own. */
	if (ftruncate(fd, journal_reader_whole(&rev)) != 0)
		goto fail;
	/* Killed before the header was written: nothing was made after the
	 * journal, so the run starts afresh. */
	if (journal_reader_whole(&rev) == 0) {
		if (unlinkat(rootfd, JOURNAL_NAME, 0) != 0)
			goto fail;
		errno = ENOENT;
		goto fail;
	}
	while ((got = journal_reader_prev(&rev, &line, &len)) == 1) {
		if (!journal_parse_record(&rec, line, len))
			continue;
		if (rec.kind == 'H') {
			have_header = true;
		} else if (rec.kind == 'R') {
			if (owned_add(owned, rec.number) != 0)
				goto fail;
		} else if (rec.kind == 'T') {
			/* A temporary the run never finished: nothing will use it. */
			undo_record(&fin, &rec);
		}
	}
	if (got < 0)
		goto fail;
	if (!have_header) {
		errno = EBADMSG;
		goto fail;
	}
	if (result.failures > 0) {
		errno = EIO;
		goto fail;
	}
	journal = journal_adopt(fd, sync);
	if (!journal)
		goto fail;
	drop_parent(&fin);
	dbuf_free(&fin.dir_path);
	journal_record_fini(&rec);
	journal_reader_close(&rev);
	*ownedp = owned;
	return journal;
fail:
	err = errno;
	drop_parent(&fin);
	dbuf_free(&fin.dir_path);
	journal_record_fini(&rec);
	journal_reader_close(&rev);
	journal_owned_free(owned);
	close(fd);
	errno = err;
	return NULL;
}
