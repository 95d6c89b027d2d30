/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy's on-disk undo journal: one append-only file in each destination root
 * that records every creation before it happens, so that a failed, interrupted
 * or killed run can be undone exactly (see the essay in journal.c).
 */
#ifndef PCOPY_JOURNAL_H
#define PCOPY_JOURNAL_H

#include "prelude.h"
#include <sys/types.h>
#include <time.h>

/** The journal's name in a destination root. */
#define JOURNAL_NAME ".pcopy-journal"

/** The comment line naming the process that writes the journal (a decimal pid follows). */
#define JOURNAL_PID_PREFIX "# pid "

/** A journal open for appending (one per destination, shared by threads). */
struct journal;

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
 * that appends it returns (and the header before this returns). Returns NULL
 * with errno; EEXIST means an unfinished run left its journal (run
 * pcopy --rollback first).
 */
struct journal *journal_create(int rootfd, const struct journal_header *header, bool sync);

/**
 * Close the journal (it stays on disk; see journal_complete and journal_undo).
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
/** The commit point: every file and the seal are in place (synced with sync, as every record). */
int journal_commit(struct journal *journal);

/** Called for each thing an undo or completion could not do (path relative to the root). */
typedef void journal_report_fn(void *arg, const char *path, int errnum);

/** Tally of an undo or completion. */
struct journal_result {
	bool committed;             /* the journal held a commit: it was completed, not undone */
	bool root_removed;          /* the run had made the root and it is gone again */
	uint64_t removed;           /* files, links and temporaries removed */
	uint64_t restored;          /* backups put back */
	uint64_t dirs_removed;
	uint64_t failures;          /* things left behind (each reported) */
};

/**
 * Take the destination's lock: an exclusive flock(2) on its root directory
 * rootfd, held for as long as that descriptor stays open (a run holds it
 * from before its journal exists until after the journal is gone). Returns
 * 0, or -1 with errno: EBUSY when another process holds it.
 */
int journal_lock(int rootfd);

/** The pid of the run that wrote the journal in rootfd (its last "# pid" line), or 0. */
long journal_holder(int rootfd);

/**
 * Finish whatever the journal in the destination dest describes: an
 * uncommitted journal is undone (every record in reverse: files this run put
 * in place and its temporaries removed, replaced files restored from their
 * backups, directories it made removed, pre-existing directories' mtimes
 * restored); a committed one is completed (backups removed, directory modes
 * and mtimes applied). Then the journal is removed, and the root is removed
 * (if the run made it) or its mtime restored. report (may be NULL) hears of
 * each thing left behind. Returns 0 (result filled in; failures may still be
 * non-zero), or -1 with errno when there is no journal or it cannot be read.
 */
int journal_finish(const char *dest, journal_report_fn *report, void *arg,
		   struct journal_result *result);

/**
 * journal_finish for a caller that holds the lock on rootfd (the root of
 * dest, not closed here); journal_finish takes the lock itself and fails
 * with EBUSY while a run holds it.
 */
int journal_finish_at(int rootfd, const char *dest, journal_report_fn *report, void *arg,
		      struct journal_result *result);

/** The files an interrupted run put in place (their inode numbers), for --resume. */
struct journal_owned;

/**
 * Take over the unfinished journal in the root directory rootfd (--resume;
 * the caller holds the lock): the temporaries it names are removed, the
 * inodes it put in place are collected into *owned (the caller frees it
 * with journal_owned_free), and later records are appended after the old
 * ones, so that one undo or completion covers both runs. Returns the journal,
 * or NULL with errno: ENOENT (no journal), EALREADY (it holds a commit:
 * complete it with journal_finish_at instead), EBADMSG (no header).
 */
struct journal *journal_resume(int rootfd, bool sync, struct journal_owned **owned);

/** Whether inode ino was put in place by the interrupted run. owned may be NULL. */
bool journal_owns(const struct journal_owned *owned, uint64_t ino);

/** Free the set. NULL-safe. */
void journal_owned_free(struct journal_owned *owned);

#endif
