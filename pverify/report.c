/* SPDX-License-Identifier: 0BSD */
/** Verdicts to lines and counts; the batch pipeline writes the lines in manifest order. */
#include "prelude.h"
#include "report.h"
#include "diag.h"
#include "record.h"
#include "hash.h"
#include "grow.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report {
	struct out *sink;
	enum report_print print;
	enum report_missing on_missing;
	/* lock guards counts and the missing array. */
	pthread_mutex_t lock;
	struct report_counts counts;
	struct task **missing;
	size_t nmissing, missing_cap;
};

struct report *report_new(struct out *sink, enum report_print print, enum report_missing missing)
{
	struct report *report = calloc(1, sizeof(*report));

	if (!report)
		return NULL;
	pthread_mutex_init(&report->lock, NULL);
	report->sink = sink;
	report->print = print;
	report->on_missing = missing;
	return report;
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

const char *report_alternatives(const struct hash_algo *algo, char *buf, size_t size)
{
	const struct hash_algo *others[HASH_SET_MAX], *other;
	size_t i, n = 0, used = 0;
	int len;

	for (i = 0; i < hash_count(); i++) {
		other = hash_at(i);
		if (other != algo && other->digest_len == algo->digest_len && n < HASH_SET_MAX)
			others[n++] = other;
	}
	if (n == 0 || size == 0)
		return NULL;
	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		len = snprintf(buf + used, size - used, "%s%s",
			       i == 0 ? "" : i + 1 == n ? " or " : ", ", others[i]->name);
		if (len < 0)
			break;
		used += (size_t)len;
	}
	return buf;
}

void report_batch_init(struct report_batch *batch)
{
	memset(batch, 0, sizeof(*batch));
}

void report_batch_free(struct report_batch *batch)
{
	size_t i;

	for (i = 0; i < batch->nkept; i++)
		free(batch->kept[i]);
	free(batch->kept);
	report_batch_init(batch);
}

/* Hold a MISSING task back for the audit. Returns 0, or -1 (ENOMEM). */
static int keep(struct report_batch *batch, struct task *task)
{
	if (GROW(batch->kept, &batch->kept_cap, batch->nkept + 1, 16) != 0)
		return -1;
	batch->kept[batch->nkept++] = task;
	return 0;
}

void report_add(struct report *report, struct report_batch *batch, struct task *task,
		struct dbuf *lines)
{
	struct report_counts *counts = &batch->counts;
	const char *extra = NULL;
	bool print = true, kept = false;

	switch (task->verdict) {
	case VERDICT_OK:
		counts->ok++;
		counts->bytes += task->size;
		print = report->print == REPORT_PRINT_ALL;
		break;
	case VERDICT_FAILED:
		counts->failed++;
		if (task->assumed) {
			counts->assumed_failed[task->algos[0]->digest_len]++;
			counts->assumed[task->algos[0]->digest_len] = task->algos[0];
		}
		break;
	case VERDICT_SIZE:
		counts->size++;
		break;
	case VERDICT_MISSING:
		counts->missing++;
		kept = report->on_missing == REPORT_MISSING_KEEP && keep(batch, task) == 0;
		print = !kept && report->on_missing != REPORT_MISSING_IGNORE;
		break;
	case VERDICT_PENDING:
	case VERDICT_ERROR:
		counts->errors++;
		extra = task->error ? strerror(task->error) : task->reason;
		if (!extra)
			extra = "not checked";
		break;
	}
	/* On ENOMEM the line is lost but the count stands, and the order holds. */
	if (print && report->print != REPORT_PRINT_NOTHING)
		append_line(lines, verdict_word[task->verdict], task->path, task->path_len,
			    extra, extra ? strlen(extra) : 0);
	if (!kept)
		free(task);
}

/* Move batch's held tasks to the reporter's; called with the lock held.
 * Returns 0, or -1 (ENOMEM) with the tasks left in batch. */
static int keep_all(struct report *report, struct report_batch *batch)
{
	size_t need = report->nmissing + batch->nkept;

	if (GROW(report->missing, &report->missing_cap, need, 64) != 0)
		return -1;
	memcpy(report->missing + report->nmissing, batch->kept, batch->nkept * sizeof(*batch->kept));
	report->nmissing = need;
	batch->nkept = 0;
	return 0;
}

void report_batch_end(struct report *report, struct report_batch *batch, struct dbuf *lines)
{
	const struct report_counts *add = &batch->counts;
	struct report_counts *counts = &report->counts;
	size_t i;

	pthread_mutex_lock(&report->lock);
	counts->ok += add->ok;
	counts->failed += add->failed;
	counts->size += add->size;
	counts->missing += add->missing;
	counts->errors += add->errors;
	counts->bytes += add->bytes;
	for (i = 0; i <= HASH_DIGEST_MAX; i++) {
		counts->assumed_failed[i] += add->assumed_failed[i];
		if (add->assumed[i])
			counts->assumed[i] = add->assumed[i];
	}
	if (batch->nkept)
		keep_all(report, batch);
	pthread_mutex_unlock(&report->lock);
	/* Out of memory to hold them for the audit: print them as MISSING now
	 * (at the end of their batch's lines), as report_add does. */
	for (i = 0; i < batch->nkept; i++) {
		struct task *task = batch->kept[i];

		if (report->print != REPORT_PRINT_NOTHING)
			append_line(lines, verdict_word[VERDICT_MISSING], task->path,
				    task->path_len, NULL, 0);
		free(task);
	}
	batch->nkept = 0;
	memset(&batch->counts, 0, sizeof(batch->counts));
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

	if (report->print == REPORT_PRINT_NOTHING)
		return 0;
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

void report_free(struct report *report)
{
	size_t i;

	if (!report)
		return;
	for (i = 0; i < report->nmissing; i++)
		free(report->missing[i]);
	free(report->missing);
	pthread_mutex_destroy(&report->lock);
	free(report);
}

/*
 * A GNU line's algorithm is told from its digest length: 64 digits are
 * taken for sha256, though sha3-256 lines have 64 too, and then every line
 * fails. Say, once per length, which algorithm was assumed for the FAILED
 * lines and that -a chooses another (the FAILED lines keep their format).
 */
void report_print_assumed(const struct report_counts *counts, const char *name)
{
	char others[256];
	size_t len;

	for (len = 0; len <= HASH_DIGEST_MAX; len++) {
		if (!counts->assumed_failed[len] ||
		    !report_alternatives(counts->assumed[len], others, sizeof(others)))
			continue;
		diag_note("%s: %ju FAILED %s (assumed %s; a %zu-digit digest may also be %s: "
			  "use -a)", name, (uintmax_t)counts->assumed_failed[len],
			  counts->assumed_failed[len] == 1 ? "line" : "lines",
			  counts->assumed[len]->name, 2 * len, others);
	}
}

void report_print_summary(const struct report_counts *counts, bool sizes_only, bool audit,
			  bool ignore_missing)
{
	/* With --sizes-only what was compared was not hashed, and an "ok" must
	 * not read as verified content. */
	const char *ok = sizes_only ? " ok (sizes only, not hashed)" : " ok";

	if (audit)
		diag_note("%ju%s, %ju failed, %ju missing, %ju errors, %ju new, %ju moved",
			  (uintmax_t)counts->ok, ok, (uintmax_t)(counts->failed + counts->size),
			  (uintmax_t)counts->missing, (uintmax_t)counts->errors,
			  (uintmax_t)counts->new_files, (uintmax_t)counts->moved);
	else
		diag_note("%ju%s, %ju failed, %ju missing%s, %ju errors", (uintmax_t)counts->ok,
			  ok, (uintmax_t)(counts->failed + counts->size),
			  (uintmax_t)counts->missing, ignore_missing ? " (ignored)" : "",
			  (uintmax_t)counts->errors);
}
