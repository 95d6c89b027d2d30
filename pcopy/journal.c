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
 * The append is a single write(2) under a mutex, so a kill -9 cannot leave a
 * creation without its record: the page cache outlives the process. Against
 * power loss the record must also be on the disk before the creation is;
 * that costs an fdatasync per record (about 0.2 ms here, 40 s for 200,000
 * files), so it is paid exactly when the user asks for durability (--fsync,
 * which syncs every record before the creation it records). Without --fsync
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
 *   C                                           commit
 */
#include "prelude.h"
#include "journal.h"
#include "beneath.h"
#include "dbuf.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct journal {
	int fd;
	bool sync;
	pthread_mutex_t lock; /* guards error and the order of appends */
	int error;
};

/* Append one formatted record (LF included) in one write. */
static int journal_append(struct journal *journal, const struct dbuf *line)
{
	int ret = 0;

	pthread_mutex_lock(&journal->lock);
	if (journal->error) {
		errno = journal->error;
		ret = -1;
	} else if (xwrite(journal->fd, line->data, line->len) != 0) {
		/* A partial record may be in the file now; nothing may follow it. */
		journal->error = errno ? errno : EIO;
		ret = -1;
	}
	pthread_mutex_unlock(&journal->lock);
	if (ret == 0 && journal->sync && fdatasync(journal->fd) != 0) {
		int err = errno;
		pthread_mutex_lock(&journal->lock);
		if (!journal->error)
			journal->error = err;
		pthread_mutex_unlock(&journal->lock);
		errno = err;
		ret = -1;
	}
	return ret;
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

struct journal *journal_create(int rootfd, const struct journal_header *header, bool sync)
{
	struct journal *journal;
	struct dbuf buf;
	int ok;

	journal = calloc(1, sizeof(*journal));
	if (!journal)
		return NULL;
	journal->sync = sync;
	pthread_mutex_init(&journal->lock, NULL);
	journal->fd = openat(rootfd, JOURNAL_NAME,
			     O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (journal->fd < 0)
		goto fail;
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
	pthread_mutex_destroy(&journal->lock);
	ok = errno;
	free(journal);
	errno = ok;
	return NULL;
}

int journal_close(struct journal *journal)
{
	int ret = 0;

	if (!journal)
		return 0;
	if (journal->fd >= 0 && close(journal->fd) != 0)
		ret = -1;
	pthread_mutex_destroy(&journal->lock);
	free(journal);
	return ret;
}

int journal_error(struct journal *journal)
{
	int err;

	pthread_mutex_lock(&journal->lock);
	err = journal->error;
	pthread_mutex_unlock(&journal->lock);
	return err;
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

/*
 * Reading backwards. buf holds the file's bytes [lo, lo + n); the bytes after
 * lo + n were already returned. Lines are returned last first.
 */
struct rev_reader {
	int fd;
	off_t lo;
	char *buf;
	size_t n, cap;
};

#define REV_CHUNK ((size_t)1 << 16)
#define REV_MAX ((size_t)64 << 20)

/* Prepend the previous chunk of the file to buf. Returns 0 or -1 (errno). */
static int rev_load(struct rev_reader *rev)
{
	size_t chunk = rev->lo < (off_t)REV_CHUNK ? (size_t)rev->lo : REV_CHUNK;
	ssize_t got;

	if (rev->n + chunk > REV_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (rev->n + chunk > rev->cap) {
		size_t cap = rev->cap ? rev->cap : REV_CHUNK;
		char *grown;
		while (cap < rev->n + chunk)
			cap *= 2;
		grown = realloc(rev->buf, cap);
		if (!grown)
			return -1;
		rev->buf = grown;
		rev->cap = cap;
	}
	memmove(rev->buf + chunk, rev->buf, rev->n);
	do {
		got = pread(rev->fd, rev->buf, chunk, rev->lo - (off_t)chunk);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	if ((size_t)got != chunk) {
		errno = EIO; /* the journal shrank under us */
		return -1;
	}
	rev->lo -= (off_t)chunk;
	rev->n += chunk;
	return 0;
}

/* Open the reader at the end of fd, dropping a trailing partial line. */
static int rev_open(struct rev_reader *rev, int fd)
{
	struct stat st;

	memset(rev, 0, sizeof(*rev));
	rev->fd = fd;
	if (fstat(fd, &st) != 0)
		return -1;
	rev->lo = st.st_size;
	for (;;) {
		char *lf = rev->n ? memrchr(rev->buf, '\n', rev->n) : NULL;
		if (lf) {
			rev->n = (size_t)(lf - rev->buf) + 1;
			return 0;
		}
		if (rev->lo == 0) {
			rev->n = 0;
			return 0;
		}
		if (rev_load(rev) != 0)
			return -1;
	}
}

/* The previous line, without its LF. Returns 1, 0 at the start, or -1 (errno). */
static int rev_prev(struct rev_reader *rev, const char **line, size_t *len)
{
	for (;;) {
		char *lf;

		if (rev->n == 0) {
			if (rev->lo == 0)
				return 0;
			if (rev_load(rev) != 0)
				return -1;
			continue;
		}
		/* buf[n - 1] is the LF ending the line we want. */
		lf = rev->n > 1 ? memrchr(rev->buf, '\n', rev->n - 1) : NULL;
		if (lf || rev->lo == 0) {
			size_t start = lf ? (size_t)(lf - rev->buf) + 1 : 0;
			*line = rev->buf + start;
			*len = rev->n - 1 - start;
			rev->n = start;
			return 1;
		}
		if (rev_load(rev) != 0)
			return -1;
	}
}

/* One parsed journal record; the paths point into scratch buffers. */
struct jrec {
	char kind;
	struct dbuf path, other;
	uint64_t number;     /* R: inode; D, M: mode */
	struct timespec mtime;     /* D, M: the mtime to apply at completion */
	struct timespec old_mtime; /* M: the mtime to restore on undo */
};

/* Split off the next TAB-separated field of [*p, end). */
static bool next_field(const char **p, const char *end, const char **field, size_t *len)
{
	const char *tab;

	if (*p > end)
		return false;
	tab = memchr(*p, '\t', (size_t)(end - *p));
	*field = *p;
	*len = tab ? (size_t)(tab - *p) : (size_t)(end - *p);
	*p = tab ? tab + 1 : end + 1;
	return true;
}

static bool parse_time(const char *s, size_t len, struct timespec *ts)
{
	char text[48], *end;
	long long sec;
	long nsec = 0;

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	sec = strtoll(text, &end, 10);
	if (errno || end == text)
		return false;
	if (*end == '.') {
		char *frac = end + 1;
		nsec = strtol(frac, &end, 10);
		if (end - frac != 9 || nsec < 0)
			return false;
	}
	if (*end)
		return false;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
	return true;
}

static bool parse_number(const char *s, size_t len, int base, uint64_t *value)
{
	char text[32], *end;

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	*value = strtoull(text, &end, base);
	return errno == 0 && *end == '\0';
}

/* Parse a line. Returns false for a line that is not a valid record. */
static bool parse_record(struct jrec *rec, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *field, *why;
	size_t flen;

	dbuf_clear(&rec->path);
	dbuf_clear(&rec->other);
	if (len == 0 || line[0] == '#')
		return false;
	rec->kind = line[0];
	if (len == 1)
		return rec->kind == 'C';
	if (line[1] != '\t')
		return false;
	p = line + 2;
	if (!next_field(&p, end, &field, &flen))
		return false;
	if (rec->kind == 'H') {
		/* run id TAB created TAB mtime: path holds "created", mtime the time */
		if (!next_field(&p, end, &field, &flen) || flen != 1)
			return false;
		rec->number = field[0] == '1';
		if (!next_field(&p, end, &field, &flen))
			return false;
		rec->mtime.tv_sec = 0;
		rec->mtime.tv_nsec = UTIME_OMIT;
		if (!(flen == 1 && field[0] == '-') && !parse_time(field, flen, &rec->mtime))
			return false;
		return true;
	}
	if (rec_unescape(&rec->path, field, flen, &why) != 0)
		return false;
	switch (rec->kind) {
	case 'T':
		return p > end;
	case 'R':
		return next_field(&p, end, &field, &flen) &&
		       parse_number(field, flen, 10, &rec->number);
	case 'M':
		if (!next_field(&p, end, &field, &flen) ||
		    !parse_time(field, flen, &rec->old_mtime))
			return false;
		__attribute__((fallthrough)); /* mode and mtime as in D */
	case 'D':
		return next_field(&p, end, &field, &flen) &&
		       parse_number(field, flen, 8, &rec->number) &&
		       next_field(&p, end, &field, &flen) &&
		       parse_time(field, flen, &rec->mtime);
	case 'B':
		return next_field(&p, end, &field, &flen) &&
		       rec_unescape(&rec->other, field, flen, &why) == 0;
	default:
		return false;
	}
}

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
static void undo_record(struct finisher *fin, struct jrec *rec)
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

/* Complete one record of a committed journal. */
static void complete_record(struct finisher *fin, struct jrec *rec)
{
	char name[NAME_MAX + 1], backup[NAME_MAX + 1];
	struct timespec times[2];
	int dirfd;

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

/* Whether the journal's last record is a commit. */
static int journal_committed(int fd, bool *committed)
{
	struct rev_reader rev;
	const char *line;
	size_t len;
	int got;

	*committed = false;
	if (rev_open(&rev, fd) != 0)
		goto fail;
	got = rev_prev(&rev, &line, &len);
	if (got < 0)
		goto fail;
	*committed = got == 1 && len == 1 && line[0] == 'C';
	free(rev.buf);
	return 0;
fail:
	free(rev.buf);
	return -1;
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
	struct rev_reader rev;
	const char *line;
	size_t len, prefix = strlen(JOURNAL_PID_PREFIX);
	long pid = 0;
	int fd;

	fd = openat(rootfd, JOURNAL_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (rev_open(&rev, fd) == 0) {
		/* The last one: a resumed run adds its own. */
		while (pid == 0 && rev_prev(&rev, &line, &len) == 1) {
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
	free(rev.buf);
	close(fd);
	return pid;
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
	struct rev_reader rev;
	struct jrec rec;
	bool have_header = false, root_created = false;
	struct timespec header_mtime = { 0, UTIME_OMIT };
	const char *line;
	size_t len;
	int fd = -1, got, saved, ret = -1;

	memset(result, 0, sizeof(*result));
	memset(&fin, 0, sizeof(fin));
	memset(&rev, 0, sizeof(rev));
	memset(&rec, 0, sizeof(rec));
	fin.report = report;
	fin.arg = arg;
	fin.result = result;
	fin.dirfd = -1;
	fin.rootfd = rootfd;
	fd = openat(fin.rootfd, JOURNAL_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (journal_committed(fd, &result->committed) != 0 || rev_open(&rev, fd) != 0)
		goto out;
	while ((got = rev_prev(&rev, &line, &len)) == 1) {
		if (!parse_record(&rec, line, len))
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
	dbuf_free(&rec.path);
	dbuf_free(&rec.other);
	free(rev.buf);
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
	struct rev_reader rev;
	struct finisher fin;
	struct jrec rec;
	struct dbuf line_buf;
	const char *line;
	size_t len;
	bool committed, have_header = false;
	int fd, got, err;

	*ownedp = NULL;
	memset(&rev, 0, sizeof(rev));
	memset(&rec, 0, sizeof(rec));
	memset(&fin, 0, sizeof(fin));
	memset(&result, 0, sizeof(result));
	fin.rootfd = rootfd;
	fin.dirfd = -1;
	fin.result = &result;
	fd = openat(rootfd, JOURNAL_NAME, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (journal_committed(fd, &committed) != 0)
		goto fail;
	if (committed) {
		errno = EALREADY;
		goto fail;
	}
	owned = calloc(1, sizeof(*owned));
	if (!owned || rev_open(&rev, fd) != 0)
		goto fail;
	/* A record the kill cut short was never acted on: drop it, so that
	 * what is appended now starts on a line of its own. */
	if (ftruncate(fd, rev.lo + (off_t)rev.n) != 0)
		goto fail;
	while ((got = rev_prev(&rev, &line, &len)) == 1) {
		if (!parse_record(&rec, line, len))
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
	journal = calloc(1, sizeof(*journal));
	if (!journal)
		goto fail;
	journal->fd = fd;
	journal->sync = sync;
	pthread_mutex_init(&journal->lock, NULL);
	dbuf_init(&line_buf);
	if (dbuf_printf(&line_buf, JOURNAL_PID_PREFIX "%ld\n", (long)getpid()) != 0 ||
	    journal_append(journal, &line_buf) != 0) {
		dbuf_free(&line_buf);
		pthread_mutex_destroy(&journal->lock);
		free(journal);
		journal = NULL;
		goto fail;
	}
	dbuf_free(&line_buf);
	drop_parent(&fin);
	dbuf_free(&fin.dir_path);
	dbuf_free(&rec.path);
	dbuf_free(&rec.other);
	free(rev.buf);
	*ownedp = owned;
	return journal;
fail:
	err = errno;
	drop_parent(&fin);
	dbuf_free(&fin.dir_path);
	dbuf_free(&rec.path);
	dbuf_free(&rec.other);
	free(rev.buf);
	journal_owned_free(owned);
	close(fd);
	errno = err;
	return NULL;
}
