/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy's on-disk undo journal: one append-only file in each destination root
 * that records every creation before it happens, so that a failed, interrupted
 * or killed run can be undone exactly (see the essay in journal.c).
 */
#ifndef PCOPY_JOURNAL_H
#define PCOPY_JOURNAL_H

#include "prelude.h"
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/** The journal's name in a destination root. */
#define JOURNAL_NAME ".pcopy-journal"

/**
 * The name, beside the journal, of the file that holds the old bytes
 * --inplace overwrote (made on first use; removed with the journal).
 */
#define JOURNAL_DATA_NAME ".pcopy-journal-data"

/** The comment line naming the process that writes the journal (a decimal pid follows). */
#define JOURNAL_PID_PREFIX "# pid "

/** A journal open for appending (one per destination, shared by threads). */
struct journal;

/** Whether name, an entry of a destination root, is the journal's own (the journal, its data). */
bool journal_own_name(const char *name);

/** What the header of a journal says about the destination root. */
struct journal_header {
	uint64_t run_id;
	bool root_created;          /* this run made the destination root itself */
	bool root_mtime_known;      /* root_mtime holds the root's mtime before the run */
	struct timespec root_mtime;
};

/**
 * Create the journal in the root directory rootfd (O_EXCL|O_NOFOLLOW) and
 * write its header. With sync, every record is fdatasync'd before the call
 * that appends it returns (and the header before this returns). The journal
 * keeps a duplicate of rootfd (for its data file), which shares the root's
 * lock until journal_close. A data file that a finished run failed to remove
 * is removed (no journal names it). Returns NULL with errno; EEXIST means an
 * unfinished run left its journal (run pcopy --rollback first).
 */
struct journal *journal_create(int rootfd, const struct journal_header *header, bool sync);

/**
 * Take over fd, an existing journal in the root directory rootfd open for
 * appending (--resume: see journal_resume in journal_finish.h), and append
 * this process's pid line. Old bytes go on being appended to the data file
 * the earlier run left, if any. The journal keeps a duplicate of rootfd, as
 * journal_create does. On success the journal owns fd; on failure the caller
 * still does. Returns NULL with errno.
 */
struct journal *journal_adopt(int rootfd, int fd, bool sync);

/**
 * Close the journal (it stays on disk; see journal_finish.h).
 * Returns 0, or -1 with errno if the last writes could not be synced. NULL-safe.
 */
int journal_close(struct journal *journal);

/** The errno of the journal's first failed append, or 0. Thread-safe. */
int journal_error(struct journal *journal);

/*
 * Appending records. Every path is relative to the root, raw bytes of len
 * length. Each returns 0 once the record is in the file (and synced, with
 * sync), or -1 with errno; after one failure every later call fails with the
 * same errno, and the caller must not make the creation it meant to record.
 * All are thread-safe.
 */

/** Before mkdirat: directory path will be made; mode and mtime are applied at completion. */
int journal_dir(struct journal *journal, const char *path, size_t len, mode_t mode,
		const struct timespec *mtime);
/**
 * A pre-existing directory whose mtime this run will disturb: an undo
 * restores old_mtime; completion applies mode and mtime (the source's).
 */
int journal_old_dir(struct journal *journal, const char *path, size_t len,
		    const struct timespec *old_mtime, mode_t mode, const struct timespec *mtime);
/** Before creating the temporary path (a name unique to this run). */
int journal_temp(struct journal *journal, const char *path, size_t len);
/** Before renaming or linking inode ino into place at path. */
int journal_final(struct journal *journal, const char *path, size_t len, uint64_t ino);
/** Before linking the existing file at path to backup (a name in the same directory). */
int journal_backup(struct journal *journal, const char *path, size_t len,
		   const char *backup, size_t backup_len);
/**
 * Before renaming the existing entry at path (one --delete removes) aside to
 * aside, a name in the root: an undo renames it back, a completion removes
 * it (and everything under it).
 */
int journal_aside(struct journal *journal, const char *path, size_t len, const char *aside,
		  size_t aside_len);
/**
 * Before the first in-place change (--inplace) of the existing regular file
 * path, inode ino: old holds what an undo restores (st_size, st_mode, st_uid,
 * st_gid, st_mtim). Completion leaves the file as it is.
 */
int journal_inplace(struct journal *journal, const char *path, size_t len, uint64_t ino,
		    const struct stat *old);
/**
 * Before the n bytes at offset of the file path (inode ino, recorded with
 * journal_inplace first) are overwritten or truncated away: old holds them.
 * They are appended to the data file (created on first use, O_EXCL, 0600;
 * fdatasync'd with sync) before the record that names them is appended, so a
 * record never names bytes that are not there. An undo writes them back.
 */
int journal_old_bytes(struct journal *journal, const char *path, size_t len, uint64_t ino,
		      uint64_t offset, const void *old, size_t n);
/** The commit point: every file and the seal are in place (synced with sync, as every record). */
int journal_commit(struct journal *journal);

/**
 * Take the destination's lock: an exclusive flock(2) on its root directory
 * rootfd, held for as long as that descriptor stays open (a run holds it
 * from before its journal exists until after the journal is gone). Returns
 * 0, or -1 with errno: EBUSY when another process holds it.
 */
int journal_lock(int rootfd);

/** The pid of the run that wrote the journal in rootfd (its last "# pid" line), or 0. */
long journal_holder(int rootfd);

#endif
