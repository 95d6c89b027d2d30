/* SPDX-License-Identifier: 0BSD */
/** In-order output of verdicts through a bounded window, and their counts. */
#include "prelude.h"
#include "report.h"
#include "record.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct report {
	/* lock guards everything below it. */
	pthread_mutex_t lock;
	pthread_cond_t slot_free;
	struct task **ring;        /* task seq lives at ring[seq % window] until printed */
	size_t window;
	uint64_t next;             /* the next seq to print */
	bool verbose, keep_missing;
	struct outbuf ob;
	int write_error;
	struct report_counts counts;
	struct task **missing;
	size_t nmissing, missing_cap;
};

struct report *report_new(struct out *sink, size_t window, bool verbose, bool keep_missing)
{
	struct report *report = calloc(1, sizeof(*report));

	if (!report)
		return NULL;
	report->ring = calloc(window, sizeof(*report->ring));
	if (!report->ring) {
		free(report);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&report->lock, NULL);
	pthread_cond_init(&report->slot_free, NULL);
	report->window = window;
	report->verbose = verbose;
	report->keep_missing = keep_missing;
	outbuf_init(&report->ob, sink, 64 * 1024);
	return report;
}

void report_wait_slot(struct report *report, uint64_t seq)
{
	pthread_mutex_lock(&report->lock);
	while (seq >= report->next + report->window)
		pthread_cond_wait(&report->slot_free, &report->lock);
	pthread_mutex_unlock(&report->lock);
}

static const char *const verdict_word[] = {
	[VERDICT_PENDING] = "ERROR",
	[VERDICT_OK] = "OK",
	[VERDICT_FAILED] = "FAILED",
	[VERDICT_SIZE] = "SIZE",
	[VERDICT_MISSING] = "MISSING",
	[VERDICT_ERROR] = "ERROR",
};

/* Append one line to the buffer; called with the lock held. */
static int append_line(struct report *report, const char *word, const char *path,
		       size_t path_len, const char *extra, size_t extra_len)
{
	struct dbuf *buf = &report->ob.buf;
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

/* Count and print one task in order; called with the lock held. Frees it
 * unless it is kept for the audit. */
static void emit(struct report *report, struct task *task)
{
	const char *extra = NULL;
	bool print = true;
	int rc = 0;

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
		if (report->keep_missing && keep(report, task) == 0)
			return;
		break;
	case VERDICT_PENDING:
	case VERDICT_ERROR:
		report->counts.errors++;
		extra = task->error ? strerror(task->error) : task->reason;
		if (!extra)
			extra = "not checked";
		break;
	}
	if (print && report->write_error == 0) {
		rc = append_line(report, verdict_word[task->verdict], task->path, task->path_len,
				 extra, extra ? strlen(extra) : 0);
		if (rc == 0)
			rc = outbuf_commit(&report->ob);
		if (rc != 0)
			report->write_error = errno;
	}
	free(task);
}

void report_done(struct report *report, struct task *task)
{
	struct task *ready;
	uint64_t before;

	pthread_mutex_lock(&report->lock);
	PT_ASSERT(task->seq >= report->next && task->seq < report->next + report->window);
	report->ring[task->seq % report->window] = task;
	before = report->next;
	while ((ready = report->ring[report->next % report->window]) != NULL) {
		report->ring[report->next % report->window] = NULL;
		report->next++;
		emit(report, ready);
	}
	if (report->next != before)
		pthread_cond_broadcast(&report->slot_free);
	pthread_mutex_unlock(&report->lock);
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
	int rc = -1;

	pthread_mutex_lock(&report->lock);
	if (report->write_error == 0) {
		rc = append_line(report, word, path, path_len, extra, extra_len);
		if (rc == 0)
			rc = outbuf_commit(&report->ob);
		if (rc != 0)
			report->write_error = errno;
	} else {
		errno = report->write_error;
	}
	pthread_mutex_unlock(&report->lock);
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
	int rc = 0;

	pthread_mutex_lock(&report->lock);
	if (report->write_error == 0 && outbuf_flush(&report->ob) != 0)
		report->write_error = errno;
	if (report->write_error != 0) {
		errno = report->write_error;
		rc = -1;
	}
	pthread_mutex_unlock(&report->lock);
	return rc;
}

void report_free(struct report *report)
{
	size_t i;

	if (!report)
		return;
	for (i = 0; i < report->window; i++)
		free(report->ring[i]);
	for (i = 0; i < report->nmissing; i++)
		free(report->missing[i]);
	free(report->missing);
	free(report->ring);
	outbuf_fini(&report->ob);
	pthread_cond_destroy(&report->slot_free);
	pthread_mutex_destroy(&report->lock);
	free(report);
}
