/* SPDX-License-Identifier: 0BSD */
/**
 * The reporter: takes checked tasks from any worker, formats their lines
 * into the batch's output (which the batch pipeline writes to stdout in
 * manifest order, batchpipe.h), counts the verdicts, and keeps the MISSING
 * tasks when --audit wants to pair them with new files.
 */
#ifndef PVERIFY_REPORT_H
#define PVERIFY_REPORT_H

#include "prelude.h"
#include "dbuf.h"
#include "hash.h"
#include "out.h"
#include "task.h"

/** Verdict counts; the summary line prints them. */
struct report_counts {
	uint64_t ok, failed, size, missing, errors, new_files, moved;
	uint64_t bytes;  /* bytes of the files checked so far (for progress) */
	/* FAILED GNU lines whose algorithm was assumed from the digest length
	 * (task.assumed), by digest length, and the algorithm assumed for it. */
	uint64_t assumed_failed[HASH_DIGEST_MAX + 1];
	const struct hash_algo *assumed[HASH_DIGEST_MAX + 1];
};

/**
 * The other algorithms of the registry whose digest has algo's length
 * ("sha512-256, sha3-256 or blake2s" for sha256), written into buf (size
 * bytes, truncated if need be). Returns buf, or NULL when there is none.
 */
const char *report_alternatives(const struct hash_algo *algo, char *buf, size_t size);

struct report;

/** What the reporter does with a MISSING verdict (always counted). */
enum report_missing {
	REPORT_MISSING_PRINT,  /* a MISSING line */
	REPORT_MISSING_KEEP,   /* held back, not printed, for report_take_missing (--audit) */
	REPORT_MISSING_IGNORE, /* neither printed nor held (--ignore-missing) */
};

/** Which lines the reporter writes (every verdict is counted all the same). */
enum report_print {
	REPORT_PRINT_PROBLEMS, /* every line but OK (the default, and -q) */
	REPORT_PRINT_ALL,      /* OK lines too (-v) */
	REPORT_PRINT_NOTHING,  /* no line at all: the exit status tells (--status) */
};

/**
 * Make a reporter; report_line writes to sink (not owned). print says which
 * lines are written; missing says what becomes of MISSING verdicts. Returns
 * NULL with errno.
 */
struct report *report_new(struct out *sink, enum report_print print, enum report_missing missing);

/** The verdicts of one batch, gathered by one worker without any lock. */
struct report_batch {
	struct report_counts counts;
	struct task **kept;        /* MISSING tasks held back for the audit */
	size_t nkept, kept_cap;
};

/** An empty batch. */
void report_batch_init(struct report_batch *batch);

/** Free what report_batch_end left in batch; it is empty again. */
void report_batch_free(struct report_batch *batch);

/**
 * Add a checked task to batch, in manifest order, appending its line (if
 * any) to lines; the reporter owns the task from now on. Takes no lock.
 */
void report_add(struct report *report, struct report_batch *batch, struct task *task,
		struct dbuf *lines);

/**
 * End a batch: its counts are added and its held tasks kept (those that
 * cannot be, for want of memory, get their MISSING line appended to lines
 * now). batch comes back empty, to be reused.
 */
void report_batch_end(struct report *report, struct report_batch *batch, struct dbuf *lines);

/**
 * The MISSING tasks held back, in no particular order (task->seq gives the
 * manifest's); ownership passes to the caller (free each with free(), then the array). Call after all tasks are done.
 */
struct task **report_take_missing(struct report *report, size_t *count);

/**
 * Write one status line "WORD TAB escaped-path [TAB escaped-extra] LF" now,
 * once the batch pipeline has finished (for the audit's lines); nothing with
 * REPORT_PRINT_NOTHING. Returns 0 or -1 with errno.
 */
int report_line(struct report *report, const char *word, const char *path, size_t path_len,
		const char *extra, size_t extra_len);

/** A snapshot of the counts (thread-safe). */
struct report_counts report_counts(struct report *report);

/** Add to the counts of NEW and MOVED files (audit, after the run). */
void report_count_audit(struct report *report, uint64_t new_files, uint64_t moved, uint64_t missing_matched);

/** Free the reporter and any task it still holds (not the sink); NULL-safe. */
void report_free(struct report *report);

/**
 * Say on stderr, once per digest length, which algorithm GNU lines of that
 * length that FAILED were taken for, and what else they may be (-a chooses);
 * name is the manifest's.
 */
void report_print_assumed(const struct report_counts *counts, const char *name);

/**
 * The summary line on stderr: ok (or "ok (sizes only, not hashed)"),
 * failed, missing (marked ignored), errors, and with an audit new and moved.
 */
void report_print_summary(const struct report_counts *counts, bool sizes_only, bool audit,
			  bool ignore_missing);

#endif
