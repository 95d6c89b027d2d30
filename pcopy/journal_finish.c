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
	/* Undoing --inplace: the data file, opened at the first U record. */
	int data_fd;          /* -1: not open (yet, or data_err says why not) */
	int data_err;
	uint64_t data_size;
	char *copy_buf;       /* FINISH_COPY_CHUNK bytes, with data_fd */
	/* The path of the last file changed in place that could not be put
	 * back: reported once, not once for each of its records. */
	struct dbuf failed_path;
};

/* The most bytes copied back from the data file at a time. */
#define FINISH_COPY_CHUNK ((size_t)1 << 16)

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

/* Set up a finisher over rootfd; finisher_fini frees it. */
static void finisher_init(struct finisher *fin, int rootfd, journal_report_fn *report, void *arg,
			  struct journal_result *result)
{
	memset(fin, 0, sizeof(*fin));
	fin->rootfd = rootfd;
	fin->report = report;
	fin->arg = arg;
	fin->result = result;
	fin->dirfd = -1;
	fin->data_fd = -1;
	dbuf_init(&fin->dir_path);
	dbuf_init(&fin->failed_path);
}

static void finisher_fini(struct finisher *fin)
{
	drop_parent(fin);
	dbuf_free(&fin->dir_path);
	dbuf_free(&fin->failed_path);
	if (fin->data_fd >= 0)
		close(fin->data_fd);
	fin->data_fd = -1;
	free(fin->copy_buf);
	fin->copy_buf = NULL;
}

/* Remove the data file beside the journal (the journal is gone, or never named it). */
static void remove_data(struct finisher *fin)
{
	if (unlinkat(fin->rootfd, JOURNAL_DATA_NAME, 0) != 0 && errno != ENOENT)
		note_failure(fin, JOURNAL_DATA_NAME, errno);
}

/*
 * A file changed in place could not be put back (or only in part): report
 * it, once however many of its records fail in a row.
 */
static void inplace_failure(struct finisher *fin, const struct journal_record *rec, int err)
{
	if (fin->failed_path.len == rec->path.len &&
	    memcmp(fin->failed_path.data, rec->path.data, rec->path.len) == 0)
		return;
	dbuf_clear(&fin->failed_path);
	if (dbuf_append(&fin->failed_path, rec->path.data, rec->path.len) != 0)
		dbuf_clear(&fin->failed_path); /* the next failure is reported again */
	note_failure(fin, rec->path.data, err);
}

/*
 * Open our own file name in dirfd (inode rec->ino) for writing though its
 * mode forbids it: the run may have applied a read-only mode (the source's)
 * before it was cut short, and the I record, undone after its U records,
 * puts the old mode back. The mode is changed through an O_PATH descriptor
 * of the checked inode, so a name swapped meanwhile changes nothing else.
 * Returns the fd, or -1 with errno EACCES.
 */
static int open_made_writable(int dirfd, const char *name, const struct journal_record *rec)
{
	char proc[40];
	struct stat st;
	int pathfd, fd = -1;

	pathfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pathfd < 0)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	if (fstat(pathfd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_ino == rec->ino &&
	    st.st_uid == geteuid() && chmod(proc, (st.st_mode & 07777) | S_IWUSR) == 0)
		fd = open(proc, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(pathfd);
out:
	if (fd < 0)
		errno = EACCES;
	return fd;
}

/*
 * Open the file an I or U record names for writing, only if it is still
 * the regular file of inode rec->ino, never following a link (nor opening
 * a device or FIFO planted there). Returns the fd (*st its status), or -1
 * with errno: ESTALE when another file is there now.
 */
static int open_inplace(struct finisher *fin, const struct journal_record *rec, struct stat *st)
{
	char name[NAME_MAX + 1];
	int dirfd, fd;

	dirfd = open_parent(fin, &rec->path, name);
	if (dirfd < 0 || fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_ino != rec->ino) {
		errno = ESTALE;
		return -1;
	}
	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && st->st_uid == geteuid())
		fd = open_made_writable(dirfd, name, rec);
	if (fd < 0)
		return -1;
	/* The name may have changed hands between the two looks. */
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || (uint64_t)st->st_ino != rec->ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* Open the data file for reading, once. Returns 0 or -1 with errno (ENODATA: it is gone). */
static int open_data(struct finisher *fin)
{
	struct stat st;
	int fd;

	if (fin->data_fd >= 0)
		return 0;
	if (fin->data_err) {
		errno = fin->data_err;
		return -1;
	}
	fd = openat(fin->rootfd, JOURNAL_DATA_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENODATA;
		goto fail;
	}
	fin->copy_buf = malloc(FINISH_COPY_CHUNK);
	if (!fin->copy_buf) {
		close(fd);
		goto fail;
	}
	fin->data_fd = fd;
	fin->data_size = (uint64_t)st.st_size;
	return 0;
fail:
	fin->data_err = errno == ENOENT ? ENODATA : errno;
	if (fin->data_err == ENOMEM)
		fin->data_err = 0; /* worth another try at the next record */
	errno = fin->data_err ? fin->data_err : ENOMEM;
	return -1;
}

/*
 * Write the saved bytes of a U record back into fd, FINISH_COPY_CHUNK at a
 * time. Returns 0, or -1 with errno (ENODATA: the data file does not hold
 * them: cut short by a crash or by someone).
 */
static int restore_bytes(struct finisher *fin, int fd, const struct journal_record *rec)
{
	uint64_t done = 0;

	if (open_data(fin) != 0)
		return -1;
	/* The parser bounds data_offset + length by INT64_MAX. */
	if (rec->data_offset + rec->length > fin->data_size) {
		errno = ENODATA;
		return -1;
	}
	while (done < rec->length) {
		size_t chunk = rec->length - done < FINISH_COPY_CHUNK ? (size_t)(rec->length - done)
								     : FINISH_COPY_CHUNK;
		ssize_t got = xpread(fin->data_fd, fin->copy_buf, chunk,
				     (off_t)(rec->data_offset + done));
		if (got < 0)
			return -1;
		if (got == 0) {
			errno = ENODATA; /* shrank since we looked */
			return -1;
		}
		if (xpwrite(fd, fin->copy_buf, (size_t)got, (off_t)(rec->offset + done)) != 0)
			return -1;
		done += (uint64_t)got;
	}
	return 0;
}

/* Put back the old size, owner, mode and mtime an I record holds. Returns 0 or -1 (errno). */
static int restore_metadata(int fd, const struct stat *st, const struct journal_record *rec)
{
	struct timespec times[2] = { { 0, UTIME_OMIT }, rec->old_mtime };
	int err = 0;

	if (ftruncate(fd, (off_t)rec->size) != 0)
		err = errno;
	/* Owner before mode: chown clears the set-id bits the mode may hold.
	 * An owner left as it was needs no call (and no privilege). */
	if ((st->st_uid != rec->uid || st->st_gid != rec->gid) &&
	    fchown(fd, rec->uid, rec->gid) != 0 && !err)
		err = errno;
	if (fchmod(fd, (mode_t)rec->number) != 0 && !err)
		err = errno;
	/* Last: truncating changed the mtime. */
	if (futimens(fd, times) != 0 && !err)
		err = errno;
	errno = err;
	return err ? -1 : 0;
}

/* Undo an I or U record: the file changed in place gets its old bytes or metadata back. */
static void undo_inplace(struct finisher *fin, const struct journal_record *rec)
{
	struct stat st;
	int fd, ok;

	fd = open_inplace(fin, rec, &st);
	if (fd < 0) {
		inplace_failure(fin, rec, errno);
		return;
	}
	ok = rec->kind == 'U' ? restore_bytes(fin, fd, rec) : restore_metadata(fd, &st, rec);
	if (ok != 0)
		inplace_failure(fin, rec, errno);
	else if (rec->kind == 'I')
		fin->result->restored++;
	if (close(fd) != 0 && ok == 0)
		inplace_failure(fin, rec, errno);
}

/* Undo one record of an uncommitted journal. */
static void undo_record(struct finisher *fin, struct journal_record *rec)
{
	char name[NAME_MAX + 1], backup[NAME_MAX + 1];
	struct timespec times[2];
	struct stat st;
	int dirfd;

	if (rec->kind == 'I' || rec->kind == 'U') {
		if (rec->path.len > 0)
			undo_inplace(fin, rec);
		return;
	}
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
	memset(&rev, 0, sizeof(rev));
	journal_record_init(&rec);
	finisher_init(&fin, rootfd, report, arg, result);
	fd = openat(fin.rootfd, JOURNAL_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* A data file without a journal is one a finished run failed
		 * to remove: nothing names it. */
		if (errno == ENOENT) {
			unlinkat(fin.rootfd, JOURNAL_DATA_NAME, 0);
			errno = ENOENT;
		}
		goto out;
	}
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
		else
			remove_data(&fin);
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
		goto done;
	}
	/* After the journal: a kill in between leaves a data file that no
	 * journal names, which the next run or rollback removes; the other
	 * order would leave a journal naming bytes that are gone. */
	remove_data(&fin);
	if (result->committed) {
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
done:
	ret = 0;
out:
	saved = errno;
	finisher_fini(&fin);
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

/* Whether a record's path is dir or lies under it. */
static bool is_under(const struct dbuf *path, const char *dir)
{
	size_t n = strlen(dir);

	return path->len >= n && memcmp(path->data, dir, n) == 0 &&
	       (path->len == n || path->data[n] == '/');
}

struct journal *journal_resume(int rootfd, bool sync, const char *redo_dir,
			       struct journal_owned **ownedp)
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
	uint64_t data_needed = 0;
	struct stat st;
	int fd, got, err;

	*ownedp = NULL;
	memset(&rev, 0, sizeof(rev));
	journal_record_init(&rec);
	memset(&result, 0, sizeof(result));
	finisher_init(&fin, rootfd, NULL, NULL, &result);
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
		unlinkat(rootfd, JOURNAL_DATA_NAME, 0); /* named by no record */
		errno = ENOENT;
		goto fail;
	}
	while ((got = journal_reader_prev(&rev, &line, &len)) == 1) {
		if (!journal_parse_record(&rec, line, len))
			continue;
		if (rec.kind == 'H') {
			have_header = true;
		} else if (rec.kind == 'T' ||
			   (redo_dir && rec.path.len > 0 && is_under(&rec.path, redo_dir))) {
			/* A temporary the run never finished: nothing will use it.
			 * What the run made in redo_dir goes too, newest first as
			 * an undo goes: a replaced file is removed before what it
			 * replaced is put back. */
			undo_record(&fin, &rec);
		} else if (rec.kind == 'R') {
			if (owned_add(owned, rec.number) != 0)
				goto fail;
		} else if (rec.kind == 'U' && rec.data_offset + rec.length > data_needed) {
			data_needed = rec.data_offset + rec.length;
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
	/* Old bytes the records name must still be there: appended to a
	 * data file made afresh, ours would sit at offsets the old records
	 * name, and an undo would write them back as the old bytes. */
	if (data_needed > 0 &&
	    (fstatat(rootfd, JOURNAL_DATA_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	     !S_ISREG(st.st_mode) || (uint64_t)st.st_size < data_needed)) {
		errno = ENODATA;
		goto fail;
	}
	/* Records of files changed in place stay for the final undo; the
	 * journal goes on appending old bytes to the same data file. */
	journal = journal_adopt(rootfd, fd, sync);
	if (!journal)
		goto fail;
	finisher_fini(&fin);
	journal_record_fini(&rec);
	journal_reader_close(&rev);
	*ownedp = owned;
	return journal;
fail:
	err = errno;
	finisher_fini(&fin);
	journal_record_fini(&rec);
	journal_reader_close(&rev);
	journal_owned_free(owned);
	close(fd);
	errno = err;
	return NULL;
}
