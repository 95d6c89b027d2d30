/* SPDX-License-Identifier: 0BSD */
/**
 * pverify's per-file callback for the batch pipeline (batchpipe.h): open a
 * manifest entry's file, decide what needs no reading (missing, type, size,
 * --sizes-only), hash it with every algorithm the entry names, and hand the
 * verdict to the reporter. Items are struct task pointers; the per-worker
 * context is a struct report_batch; config.arg is a struct check.
 */
#ifndef PVERIFY_CHECK_H
#define PVERIFY_CHECK_H

#include "prelude.h"
#include "batchpipe.h"
#include "progress.h"
#include "report.h"
#include "task.h"
#include <sys/stat.h>

/** What every worker shares: set up before the pipeline starts, read-only while it runs. */
struct check {
	int rootfd;                 /* AT_FDCWD without --root */
	bool sizes_only;            /* --sizes-only: no file is read */
	bool quiet;                 /* -q, --status: no notes */
	struct report *report;
	struct progress *progress;  /* NULL when off */
};

/** batchpipe's open: open the entry's file when it is to be hashed (see check.c). */
int check_open_item(struct batchpipe_worker *worker, void *item, struct stat *st);

/**
 * batchpipe's finish: hash the file opened (if any), compare, count progress
 * and hand the task to the reporter, which owns it from then on. Returns the
 * size of a file found OK, else 0.
 */
uint64_t check_finish_item(struct batchpipe_worker *worker, void *item, int fd,
			   const struct stat *st, const void *head, size_t head_len,
			   struct dbuf *out);

/** batchpipe's batch_end: the batch's counts and held tasks to the reporter. */
void check_batch_end(struct batchpipe_worker *worker, struct dbuf *out);

/** batchpipe's per-worker context: an empty struct report_batch, and its end. */
void check_context_init(void *context, void *arg);
void check_context_fini(void *context, void *arg);

#endif
