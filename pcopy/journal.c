/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy's undo journal: what a run created in one destination, on disk.
 *
 * Why on disk. pcopy promises that a failed destination ends exactly as it
 * was before the run. Keeping the list of creations in memory would cost
 * memory proportional to the tree (godi needs about 250 MB per million
 * files) and would die with the process: after a kill -9 or a crash nobody
 * could tell pcopy's half-finished files from the user's. So each destination
 * root holds one append-only text file, .pcopy-journal, and memory stays flat
 * however many files are copied.
 *
 * Write-ahead. Every record is appended before the creation it describes,
 * never after: if the process dies between the two, the journal names
 * something that does not exist (undo shrugs at ENOENT), never the reverse.
 * An append returns only once the write(2) holding its record has returned,
 * so a kill -9 cannot leave a creation without its record: the page cache
 * outlives the process. Against power loss the record must also be on the
 * disk before the creation is; that costs an fdatasync before each append
 * returns, so it is paid exactly when the user asks for durability (--fsync,
 * which syncs every record before the creation it records). Records that
 * threads append at the same moment share one write and one fdatasync (group
 * commit, journal_group.c): on far storage, where each is a round trip and
 * writes to one file are served one at a time, a write per record would
 * queue every thread on the journal. Without --fsync
 * the copied data itself is not promised to survive a power cut either, so
 * the journal is exactly as durable as what it protects. A trailing partial
 * line (a write cut short by a full disk) is ignored: the creation it would
 * have recorded was never attempted.
 *
 * Proving ownership. Undo must never remove anything that existed before the
 * run. Temporaries carry a name unique to the run (a random run id and a
 * counter) and are created with O_EXCL, so a temporary named in the journal
 * is ours. Most files have no temporary name at all: they are written
 * unnamed (O_TMPFILE), and an unnamed inode vanishes with the process (or,
 * after a crash, at the next mount), so nothing needs a record before it is
 * linked. A final name is ours only if it holds the inode we created: the
 * record written before the rename or link carries that inode's number (the
 * temporary's, the unnamed file's, or with -H the first copy's), and undo
 * removes the final name only when it still holds that
 * inode; a pre-existing file there necessarily had another inode, since both
 * existed at once. Directories are recorded only after fstatat found nothing
 * there, and undo removes them with rmdir, which never removes contents.
 * With --force or --update the file being replaced is first hard-linked to a
 * backup name (recorded before), and undo renames the backup back.
 *
 * Order. Undo reads the journal backwards (a chunked reverse line reader,
 * memory bounded by the longest line): a directory's record always precedes
 * the records of what was made inside it, so contents go before their
 * directory, and a pre-existing directory's mtime is restored after every
 * change inside it.
 *
 * Commit. When every file and the seal are in place, a commit record is
 * appended (synced with --fsync). From then on the journal is completed instead of
 * undone: backups are removed and directory modes and mtimes (deferred
 * because creating entries changes them, and because a read-only mode would
 * stop the copy) are applied, again in reverse order so a directory's mtime is
 * set after its contents stop changing. The journal is then removed. The same
 * routine serves a live run and pcopy --rollback after a crash, so a run
 * killed during completion is finished, not undone.
 *
 * Format (text, one record per line, paths escaped as in format v1):
 *   # pcopy journal v1
 *   H TAB run-id TAB root-created(0|1) TAB root-mtime(SEC.NSEC or -)
 *   D TAB path TAB mode(octal) TAB SEC.NSEC     directory made
 *   M TAB path TAB OLD-SEC.NSEC TAB mode TAB SEC.NSEC
 *                                               pre-existing dir: old mtime, new metadata
 *   T TAB path                                  temporary about to be made
 *   R TAB path TAB inode                        inode about to be put at path
 *   B TAB path TAB backup-name                  existing file linked to backup
 *   X TAB path TAB aside-name                   existing entry (--delete) about to be
 *                                               renamed aside to the root's aside-name
 *   I TAB path TAB inode TAB size TAB mode(octal) TAB uid TAB gid TAB SEC.NSEC
 *                                               existing file about to be changed in place:
 *                                               its old size, mode, owner and mtime
 *   U TAB path TAB inode TAB offset TAB length TAB data-offset
 *                                               the length bytes at offset about to be
 *                                               overwritten or truncated away, saved at
 *                                               data-offset in the data file
 *   C                                           commit
 *
 * In place (--inplace). A file changed in place has no backup to rename
 * back, so its old bytes themselves are saved: appended to a second file
 * beside the journal, JOURNAL_DATA_NAME, before the U record that names them
 * (and, with --fsync, synced before it, as the record is before the change),
 * so a record never names bytes the data file does not hold. An I record
 * comes before the file's first U. Undo, backwards, writes each saved range
 * back, then the I record truncates the file to its old size and restores
 * its mode, owner and mtime; both act only while the path still holds the
 * inode they name. The data file is written with pwrite at offsets handed
 * out under the journal's mutex, so threads saving blocks of different files
 * do not wait for each other's writes; a range handed out but never written
 * (a kill) is named by no record. It goes whenever the journal goes.
 */
#include "prelude.h"
#include "journal.h"
#include "dbuf.h"
#include "journal_group.h"
#include "journal_read.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct journal {
	int fd;
	int rootfd;           /* a duplicate of the root's fd: the data file is made there */
	bool sync;
	struct journal_group *group; /* appends to fd; its failure is the journal's */
	pthread_mutex_t lock; /* guards data_fd and data_end */
	int data_fd;          /* the data file (JOURNAL_DATA_NAME), -1 until first needed */
	uint64_t data_end;    /* where the next old bytes go in it */
};

bool journal_own_name(const char *name)
{
	return strcmp(name, JOURNAL_NAME) == 0 || strcmp(name, JOURNAL_DATA_NAME) == 0;
}

/* Remember the first failure: every later append fails with it. */
static void journal_fail(struct journal *journal, int err)
{
	journal_group_fail(journal->group, err);
}

/* Append one formatted record (LF included), returning once it is written (and synced). */
static int journal_append(struct journal *journal, const struct dbuf *line)
{
	return journal_group_append(journal->group, line->data, line->len);
}

/* Start appending to fd, the journal's from now on. */
static int journal_start(struct journal *journal, int fd)
{
	journal->group = journal_group_new(fd, journal->sync);
	if (!journal->group)
		return -1;
	journal->fd = fd;
	return 0;
}

/* A new journal: no data file yet, nothing owned. */
static struct journal *journal_new(bool sync)
{
	struct journal *journal = calloc(1, sizeof(*journal));

	if (!journal)
		return NULL;
	journal->fd = -1;
	journal->rootfd = -1;
	journal->data_fd = -1;
	journal->sync = sync;
	pthread_mutex_init(&journal->lock, NULL);
	return journal;
}

/* Free a journal that failed to open, keeping errno; its fd stays the caller's. */
static void journal_discard(struct journal *journal)
{
	int err = errno;

	if (journal->data_fd >= 0)
		close(journal->data_fd);
	if (journal->rootfd >= 0)
		close(journal->rootfd);
	journal_group_free(journal->group);
	pthread_mutex_destroy(&journal->lock);
	free(journal);
	errno = err;
}

static int put_time(struct dbuf *buf, const struct timespec *ts)
{
	char text[REC_TIME_MAX];

	return dbuf_append(buf, text, rec_time_into(text, ts));
}

/*
 * Build "KIND TAB escaped-path" plus the extra fields the caller appends, then
 * the LF, and append it. Each record function formats into a local buffer, so
 * appends from several threads need no shared scratch space.
 */
static int record_start(struct dbuf *buf, char kind, const char *path, size_t len)
{
	dbuf_init(buf);
	if (dbuf_putc(buf, kind) != 0 || dbuf_putc(buf, '\t') != 0)
		return -1;
	return rec_escape(buf, path, len);
}

static int record_finish(struct journal *journal, struct dbuf *buf, int ok)
{
	int ret = -1;

	if (ok == 0 && dbuf_putc(buf, '\n') == 0)
		ret = journal_append(journal, buf);
	dbuf_free(buf);
	return ret;
}

struct journal *journal_adopt(int rootfd, int fd, bool sync)
{
	struct journal *journal;
	struct dbuf line;
	struct stat st;
	int ok;

	journal = journal_new(sync);
	if (!journal)
		return NULL;
	journal->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (journal->rootfd < 0)
		goto fail;
	/* The earlier run's saved bytes stay where its records say; ours go
	 * after them. O_NONBLOCK: something planted there that is not a
	 * regular file must not block the open. */
	journal->data_fd = openat(rootfd, JOURNAL_DATA_NAME,
				  O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (journal->data_fd < 0 && errno != ENOENT)
		goto fail;
	if (journal->data_fd >= 0) {
		if (fstat(journal->data_fd, &st) != 0)
			goto fail;
		if (!S_ISREG(st.st_mode)) {
			errno = EINVAL;
			goto fail;
		}
		journal->data_end = (uint64_t)st.st_size;
	}
	if (journal_start(journal, fd) != 0)
		goto fail;
	dbuf_init(&line);
	ok = dbuf_printf(&line, JOURNAL_PID_PREFIX "%ld\n", (long)getpid());
	if (ok == 0)
		ok = journal_append(journal, &line);
	dbuf_free(&line);
	if (ok != 0)
		goto fail;
	return journal;
fail:
	journal_discard(journal);
	return NULL;
}

struct journal *journal_create(int rootfd, const struct journal_header *header, bool sync)
{
	struct journal *journal;
	struct dbuf buf;
	int ok, fd;

	journal = journal_new(sync);
	if (!journal)
		return NULL;
	journal->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (journal->rootfd < 0)
		goto fail;
	fd = openat(rootfd, JOURNAL_NAME,
		    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (journal_start(journal, fd) != 0) {
		int err = errno;
		xclose(fd);
		unlinkat(rootfd, JOURNAL_NAME, 0);
		errno = err;
		goto fail;
	}
	/* No journal was there, so a data file is one a finished run failed
	 * to remove: no record names it. */
	unlinkat(rootfd, JOURNAL_DATA_NAME, 0);
	dbuf_init(&buf);
	ok = dbuf_printf(&buf, "# pcopy journal v1\n" JOURNAL_PID_PREFIX "%ld\nH\t%016" PRIx64 "\t%d\t",
			 (long)getpid(), header->run_id, header->root_created ? 1 : 0);
	if (ok == 0)
		ok = header->root_mtime_known ? put_time(&buf, &header->root_mtime)
					      : dbuf_putc(&buf, '-');
	if (ok == 0)
		ok = dbuf_putc(&buf, '\n');
	if (ok == 0)
		ok = journal_append(journal, &buf);
	dbuf_free(&buf);
	if (ok != 0) {
		int err = errno;
		/* Nothing was created yet: take the journal away again. */
		xclose(journal->fd);
		unlinkat(rootfd, JOURNAL_NAME, 0);
		errno = err;
		goto fail;
	}
	return journal;
fail:
	journal_discard(journal);
	return NULL;
}

int journal_close(struct journal *journal)
{
	int ret = 0;

	if (!journal)
		return 0;
	journal_group_free(journal->group);
	if (journal->fd >= 0 && close(journal->fd) != 0)
		ret = -1;
	if (journal->data_fd >= 0 && close(journal->data_fd) != 0)
		ret = -1;
	if (journal->rootfd >= 0)
		close(journal->rootfd);
	pthread_mutex_destroy(&journal->lock);
	free(journal);
	return ret;
}

int journal_error(struct journal *journal)
{
	return journal_group_error(journal->group);
}

int journal_dir(struct journal *journal, const char *path, size_t len, mode_t mode,
		const struct timespec *mtime)
{
	struct dbuf buf;
	int ok = record_start(&buf, 'D', path, len);

	if (ok == 0)
		ok = dbuf_printf(&buf, "\t%04o\t", (unsigned)(mode & 07777));
	if (ok == 0)
		ok = put_time(&buf, mtime);
	return record_finish(journal, &buf, ok);
}

int journal_old_dir(struct journal *journal, const char *path, size_t len,
		    const struct timespec *old_mtime, mode_t mode, const struct timespec *mtime)
{
	struct dbuf buf;
	int ok = record_start(&buf, 'M', path, len);

	if (ok == 0)
		ok = dbuf_putc(&buf, '\t');
	if (ok == 0)
		ok = put_time(&buf, old_mtime);
	if (ok == 0)
		ok = dbuf_printf(&buf, "\t%04o\t", (unsigned)(mode & 07777));
	if (ok == 0)
		ok = put_time(&buf, mtime);
	return record_finish(journal, &buf, ok);
}

int journal_temp(struct journal *journal, const char *path, size_t len)
{
	struct dbuf buf;

	return record_finish(journal, &buf, record_start(&buf, 'T', path, len));
}

int journal_final(struct journal *journal, const char *path, size_t len, uint64_t ino)
{
	struct dbuf buf;
	int ok = record_start(&buf, 'R', path, len);

	if (ok == 0)
		ok = dbuf_printf(&buf, "\t%" PRIu64, ino);
	return record_finish(journal, &buf, ok);
}

int journal_backup(struct journal *journal, const char *path, size_t len,
		   const char *backup, size_t backup_len)
{
	struct dbuf buf;
	int ok = record_start(&buf, 'B', path, len);

	if (ok == 0)
		ok = dbuf_putc(&buf, '\t');
	if (ok == 0)
		ok = rec_escape(&buf, backup, backup_len);
	return record_finish(journal, &buf, ok);
}

int journal_aside(struct journal *journal, const char *path, size_t len, const char *aside,
		  size_t aside_len)
{
	struct dbuf buf;
	int ok = record_start(&buf, 'X', path, len);

	if (ok == 0)
		ok = dbuf_putc(&buf, '\t');
	if (ok == 0)
		ok = rec_escape(&buf, aside, aside_len);
	return record_finish(journal, &buf, ok);
}

int journal_inplace(struct journal *journal, const char *path, size_t len, uint64_t ino,
		    const struct stat *old)
{
	struct dbuf buf;
	int ok = record_start(&buf, 'I', path, len);

	if (ok == 0)
		ok = dbuf_printf(&buf, "\t%" PRIu64 "\t%" PRIu64 "\t%04o\t%lu\t%lu\t", ino,
				 (uint64_t)old->st_size, (unsigned)(old->st_mode & 07777),
				 (unsigned long)old->st_uid, (unsigned long)old->st_gid);
	if (ok == 0)
		ok = put_time(&buf, &old->st_mtim);
	return record_finish(journal, &buf, ok);
}

/*
 * Hand out n bytes of the data file at *at (making the file on first use).
 * Returns 0, or -1 with errno (the journal's error from then on).
 */
static int data_reserve(struct journal *journal, size_t n, uint64_t *at)
{
	int ret = -1, err;

	pthread_mutex_lock(&journal->lock);
	err = journal_group_error(journal->group);
	if (err) {
		errno = err;
		goto out;
	}
	if (journal->data_fd < 0) {
		journal->data_fd = openat(journal->rootfd, JOURNAL_DATA_NAME,
					  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					  0600);
		/* With --fsync its name must outlive a power cut as its
		 * bytes do: a record may name them from now on. */
		if (journal->data_fd < 0 || (journal->sync && fsync(journal->rootfd) != 0)) {
			err = errno ? errno : EIO;
			journal_fail(journal, err);
			errno = err;
			goto out;
		}
	}
	if (n > (uint64_t)INT64_MAX - journal->data_end) {
		errno = EFBIG;
		goto out; /* this call fails; the file is still sound */
	}
	*at = journal->data_end;
	journal->data_end += n;
	ret = 0;
out:
	pthread_mutex_unlock(&journal->lock);
	return ret;
}

int journal_old_bytes(struct journal *journal, const char *path, size_t len, uint64_t ino,
		      uint64_t offset, const void *old, size_t n)
{
	struct dbuf buf;
	uint64_t at;
	int ok;

	if (n == 0)
		return 0;
	if (offset > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - offset) {
		errno = EINVAL;
		return -1;
	}
	if (data_reserve(journal, n, &at) != 0)
		return -1;
	if (xpwrite(journal->data_fd, old, n, (off_t)at) != 0 ||
	    (journal->sync && fdatasync(journal->data_fd) != 0)) {
		int err = errno ? errno : EIO;
		journal_fail(journal, err);
		errno = err;
		return -1;
	}
	ok = record_start(&buf, 'U', path, len);
	if (ok == 0)
		ok = dbuf_printf(&buf, "\t%" PRIu64 "\t%" PRIu64 "\t%zu\t%" PRIu64, ino, offset, n,
				 at);
	return record_finish(journal, &buf, ok);
}

int journal_commit(struct journal *journal)
{
	struct dbuf buf;
	int ok;

	dbuf_init(&buf);
	ok = dbuf_puts(&buf, "C\n");
	if (ok == 0)
		ok = journal_append(journal, &buf);
	dbuf_free(&buf);
	return ok;
}

int journal_lock(int rootfd)
{
	while (flock(rootfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		return -1;
	}
	return 0;
}

long journal_holder(int rootfd)
{
	struct journal_reader rev;
	const char *line;
	size_t len, prefix = strlen(JOURNAL_PID_PREFIX);
	long pid = 0;
	int fd;

	fd = openat(rootfd, JOURNAL_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (journal_reader_open(&rev, fd) == 0) {
		/* The last one: a resumed run adds its own. */
		while (pid == 0 && journal_reader_prev(&rev, &line, &len) == 1) {
			char text[24], *end;
			if (len <= prefix || len - prefix >= sizeof(text) ||
			    memcmp(line, JOURNAL_PID_PREFIX, prefix) != 0)
				continue;
			memcpy(text, line + prefix, len - prefix);
			text[len - prefix] = '\0';
			pid = strtol(text, &end, 10);
			if (*end || pid < 0)
				pid = 0;
		}
	}
	journal_reader_close(&rev);
	close(fd);
	return pid;
}
