/* SPDX-License-Identifier: 0BSD */
/** Verdicts to lines, in manifest order (libcommon's reorder window), and their counts. */
#include "prelude.h"
#include "report.h"
#include "record.h"
#include "reorder.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/** Tasks in flight at most: taken but not yet written. */
#define REPORT_WINDOW 4096

struct report {
	struct reorder *reorder;
	struct out *sink;
	bool verbose, keep_missing;
	/* lock guards counts and the missing array. */
	pthread_mutex_t lock;
	struct report_counts counts;
	struct task **missing;
	size_t nmissing, missing_cap;
};

struct report *report_new(struct out *sink, size_t window, bool verbose, bool keep_missing)
{
	struct report *report = calloc(1, sizeof(*report));

	if (!report)
		return NULL;
	report->reorder = reorder_new(sink, window ? window : REPORT_WINDOW);
	if (!report->reorder) {
		free(report);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&report->lock, NULL);
	report->sink = sink;
	report->verbose = verbose;
	report->keep_missing = keep_missing;
	return report;
}

uint64_t report_take(struct report *report)
{
	return reorder_take(report->reorder);
}

static const char *const verdict_word[] = {
	[VERDICT_PENDING] = "ERROR",
	[VERDICT_OK] = "OK",
	[VERDICT_FAILED] = "FAILED",
	[VERDICT_SIZE] = "SIZE",
	[VERDICT_MISSING] = "MISSING",
	[VERDICT_ERROR] = "ERROR",
};

static int append_line(struct dbuf *buf, const char *word, const char *path, size_t path_len,
		       const char *extra, size_t extra_len)
{
	size_t start = buf->len;

	if (dbuf_puts(buf, word) != 0 || dbuf_putc(buf, '\t') != 0 ||
	    rec_escape(buf, path, path_len) != 0 ||
	    (extra && (dbuf_putc(buf, '\t') != 0 || rec_escape(buf, extra, extra_len) != 0)) ||
	    dbuf_putc(buf, '\n') != 0) {
		dbuf_truncate(buf, start);
		return -1;
	}
	return 0;
}

/* Keep a MISSING task for the audit; called with the lock held. */
static int keep(struct report *report, struct task *task)
{
	struct task **grown;
	size_t cap;

	if (report->nmissing == report->missing_cap) {
		cap = report->missing_cap ? 2 * report->missing_cap : 64;
		grown = realloc(report->missing, cap * sizeof(*grown));
		if (!grown)
			return -1;
		report->missing = grown;
		report->missing_cap = cap;
	}
	report->missing[report->nmissing++] = task;
	return 0;
}

void report_done(struct report *report, struct task *task)
{
	const char *extra = NULL;
	uint64_t seq = task->seq;
	bool print = true, kept = false;
	struct dbuf line;

	dbuf_init(&line);
	pthread_mutex_lock(&report->lock);
	switch (task->verdict) {
	case VERDICT_OK:
		report->counts.ok++;
		report->counts.bytes += task->size;
		print = report->verbose;
		break;
	case VERDICT_FAILED:
		report->counts.failed++;
		break;
	case VERDICT_SIZE:
		report->counts.size++;
		break;
	case VERDICT_MISSING:
		report->counts.missing++;
		kept = report->keep_missing && keep(report, task) == 0;
		print = !kept;
		break;
	case VERDICT_PENDING:
	case VERDICT_ERROR:
		report->counts.errors++;
		extra = task->error ? strerror(task->error) : task->reason;
		if (!extra)
			extra = "not checked";
		break;
	}
	pthread_mutex_unlock(&report->lock);
	/* On ENOMEM the line is lost but the count stands, and the order holds. */
	if (print)
		append_line(&line, verdict_word[task->verdict], task->path, task->path_len, extra,
			    extra ? strlen(extra) : 0);
	if (!kept)
		free(task);
	/* A failed write is remembered by the window and reported by report_flush. */
	reorder_complete(report->reorder, seq, &line);
	dbuf_free(&line);
}

struct task **report_take_missing(struct report *report, size_t *count)
{
	struct task **missing;

	pthread_mutex_lock(&report->lock);
	missing = report->missing;
	*count = report->nmissing;
	report->missing = NULL;
	report->nmissing = report->missing_cap = 0;
	pthread_mutex_unlock(&report->lock);
	return missing;
}

int report_line(struct report *report, const char *word, const char *path, size_t path_len,
		const char *extra, size_t extra_len)
{
	struct dbuf line;
	int rc;

	dbuf_init(&line);
	rc = append_line(&line, word, path, path_len, extra, extra_len);
	if (rc == 0)
		rc = out_write(report->sink, line.data, line.len);
	dbuf_free(&line);
	return rc;
}

struct report_counts report_counts(struct report *report)
{
	struct report_counts counts;

	pthread_mutex_lock(&report->lock);
	counts = report->counts;
	pthread_mutex_unlock(&report->lock);
	return counts;
}

void report_count_audit(struct report *report, uint64_t new_files, uint64_t moved,
			uint64_t missing_matched)
{
	pthread_mutex_lock(&report->lock);
	report->counts.new_files += new_files;
	report->counts.moved += moved;
	report->counts.missing -= missing_matched;
	pthread_mutex_unlock(&report->lock);
}

int report_flush(struct report *report)
{
	return reorder_finish(report->reorder);
}

void report_free(struct report *report)
{
	size_t i;

	if (!report)
		return;
	for (i = 0; i < report->nmissing; i++)
		free(report->missing[i]);
	free(report->missing);
	reorder_free(report->reorder);
	pthread_mutex_destroy(&report->lock);
	free(report);
}
