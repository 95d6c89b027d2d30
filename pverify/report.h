/* SPDX-License-Identifier: 0BSD */
/**
 * The reporter: takes checked tasks from any worker, writes their lines to
 * stdout in manifest order through libcommon's reorder window (bounded, so one
 * slow file cannot make memory grow with the files behind it), counts the
 * verdicts, and keeps the MISSING tasks when --audit wants to pair them with
 * new files.
 */
#ifndef PVERIFY_REPORT_H
#define PVERIFY_REPORT_H

#include "prelude.h"
#include "dbuf.h"
#include "out.h"
#include "task.h"

/** Verdict counts; the summary line prints them. */
struct report_counts {
	uint64_t ok, failed, size, missing, errors, new_files, moved;
	uint64_t bytes;  /* bytes of the files checked so far (for progress) */
};

struct report;

/**
 * Make a reporter writing to sink (not owned). window is how many tasks may
 * be in flight (0: a default of 4096); verbose adds OK lines; keep_missing
 * holds MISSING tasks back (not printed) for report_take_missing. Returns
 * NULL with errno.
 */
struct report *report_new(struct out *sink, size_t window, bool verbose, bool keep_missing);

/**
 * The sequence number of the next task (0, 1, 2...), blocking the reading
 * thread while the window is full. Every number taken must be handed back
 * once through report_done.
 */
uint64_t report_take(struct report *report);

/**
 * Hand over a checked task (any thread), its seq from report_take. The
 * reporter owns it from now on.
 */
void report_done(struct report *report, struct task *task);

/**
 * The MISSING tasks held back, in manifest order; ownership passes to the
 * caller (free each with free(), then the array). Call after all tasks are done.
 */
struct task **report_take_missing(struct report *report, size_t *count);

/**
 * Write one status line "WORD TAB escaped-path [TAB escaped-extra] LF" now,
 * after report_flush (for the audit's lines). Returns 0 or -1 with errno.
 */
int report_line(struct report *report, const char *word, const char *path, size_t path_len,
		const char *extra, size_t extra_len);

/** A snapshot of the counts (thread-safe). */
struct report_counts report_counts(struct report *report);

/** Add to the counts of NEW and MOVED files (audit, after the run). */
void report_count_audit(struct report *report, uint64_t new_files, uint64_t moved, uint64_t missing_matched);

/**
 * Write out every line of the tasks done; call once all tasks taken are done.
 * Returns 0, or -1 with errno of the first write error (EPIPE when the reader
 * went away).
 */
int report_flush(struct report *report);

/** Free the reporter and any task it still holds (not the sink); NULL-safe. */
void report_free(struct report *report);

#endif
