/* SPDX-License-Identifier: 0BSD */
/**
 * Finishing a destination's journal (journal_finish.c): undo an unfinished
 * run, complete a committed one, or take an unfinished one over (--resume).
 */
#ifndef PCOPY_JOURNAL_FINISH_H
#define PCOPY_JOURNAL_FINISH_H

#include "prelude.h"
#include "journal.h"

/** Called for each thing an undo or completion could not do (path relative to the root). */
typedef void journal_report_fn(void *arg, const char *path, int errnum);

/** Tally of an undo or completion. */
struct journal_result {
	bool committed;             /* the journal held a commit: it was completed, not undone */
	bool root_removed;          /* the run had made the root and it is gone again */
	uint64_t removed;           /* files, links and temporaries removed */
	uint64_t restored;          /* backups put back, files changed in place put back */
	uint64_t dirs_removed;
	uint64_t failures;          /* things left behind (each reported) */
};


/**
 * Finish whatever the journal in the destination dest describes: an
 * uncommitted journal is undone (every record in reverse: files this run put
 * in place and its temporaries removed, replaced files restored from their
 * backups, files changed in place given back their old bytes, size, mode,
 * owner and mtime (only while the path holds the same inode), directories
 * it made removed, pre-existing directories' mtimes restored); a committed
 * one is completed (backups removed, directory modes and mtimes applied).
 * Then the journal and its data file are removed, and the root is removed
 * (if the run made it) or its mtime restored. An empty journal (a kill right
 * after it was made, before its header) is only removed: nothing came after
 * it. report (may be NULL) hears of each thing left behind (a file changed in
 * place once, however many of its records fail: ESTALE when another file is
 * at its path now, ENODATA when the data file lacks its old bytes). Returns
 * 0 (result filled in; failures may still be non-zero), or -1 with errno
 * when there is no journal (a data file left without one is removed) or it
 * cannot be read.
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
 * ones (old bytes after the old ones in the data file), so that one undo or
 * completion covers both runs. redo_dir (NULL: none) names a directory,
 * relative to the root, whose contents the resumed run makes afresh (pcopy
 * --mhl's history): every record under it, or of it, is undone now, as
 * --rollback would undo it, so the interrupted run's half-written history is
 * gone before the new run reads it. Undoing is idempotent, so a later undo
 * of the whole journal passes over those records harmlessly. Returns the journal,
 * or NULL with errno: ENOENT (no journal; or an empty one, which a kill
 * right after its creation leaves, and which is removed), EALREADY (it holds a commit:
 * complete it with journal_finish_at instead), EBADMSG (no header), ENODATA
 * (the data file lacks old bytes its records name: roll back instead).
 */
struct journal *journal_resume(int rootfd, bool sync, const char *redo_dir,
			       struct journal_owned **owned);

/** Whether inode ino was put in place by the interrupted run. owned may be NULL. */
bool journal_owns(const struct journal_owned *owned, uint64_t ino);

/** Free the set. NULL-safe. */
void journal_owned_free(struct journal_owned *owned);

#endif
