/* SPDX-License-Identifier: 0BSD */
/**
 * Failure bookkeeping: a destination fails alone, a source failure stops
 * the run; the first reason of each is kept for the summary.
 */
#include "prelude.h"
#include "worker.h"
#include "diag.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool stopping(struct copy *copy)
{
	return atomic_load(&copy->stop) != STOP_NONE ||
	       (copy->opt.interrupted && atomic_load(copy->opt.interrupted));
}

/*
 * Stop the run because of a source (or internal) failure, said by what or
 * else by diag_strerror(err); the first reason wins.
 */
void stop_run_why(struct copy *copy, enum stop_reason reason, const char *path, int err,
		  const char *what)
{
	int none = STOP_NONE;

	if (!what)
		what = diag_strerror(err);
	diag_file_errorf(path, "%s", what);
	if (!atomic_compare_exchange_strong(&copy->stop, &none, (int)reason))
		return;
	pthread_mutex_lock(&copy->lock);
	if (!copy->stop_why) {
		struct dbuf why;
		dbuf_init(&why);
		if (rec_escape(&why, path, strlen(path)) == 0 &&
		    dbuf_printf(&why, ": %s", what) == 0)
			copy->stop_why = why.data;
		else
			dbuf_free(&why);
	}
	pthread_mutex_unlock(&copy->lock);
}

void stop_run_said(struct copy *copy, enum stop_reason reason, const char *why, size_t len)
{
	int none = STOP_NONE;

	if (!atomic_compare_exchange_strong(&copy->stop, &none, (int)reason))
		return;
	pthread_mutex_lock(&copy->lock);
	if (!copy->stop_why)
		copy->stop_why = strndup(why, len);
	pthread_mutex_unlock(&copy->lock);
}

/* The summary names this many of the files left out. */
#define LEFT_OUT_NAMED 10

void source_error(struct copy *copy, const char *path, int err, const char *what)
{
	if (!copy->opt.keep_going) {
		stop_run_why(copy, STOP_SOURCE, path, err, what);
		return;
	}
	if (!what)
		what = diag_strerror(err);
	diag_file_errorf(path, "%s: left out", what);
	if (atomic_fetch_add(&copy->left_out, 1) >= LEFT_OUT_NAMED)
		return;
	pthread_mutex_lock(&copy->lock);
	if (copy->left_out_names.len > 0)
		dbuf_puts(&copy->left_out_names, ", ");
	rec_escape(&copy->left_out_names, path, strlen(path));
	pthread_mutex_unlock(&copy->lock);
}

void stop_run(struct copy *copy, enum stop_reason reason, const char *path, int err)
{
	stop_run_why(copy, reason, path, err, NULL);
}

bool dest_ok(struct dest *dest)
{
	return atomic_load(&dest->error) == 0;
}

/*
 * Mark dest failed (the first failure is reported at once and kept for the
 * summary; later ones are consequences and stay quiet).
 */
void dest_fail(struct dest *dest, const char *rel, size_t rel_len, int err,
	       const char *what)
{
	int none = 0;
	struct dbuf why;

	if (err == 0)
		err = EIO;
	if (dest->single_name) {
		/* Everything in a single file's root concerns that file: named so. */
		rel = dest->single_name;
		rel_len = strlen(rel);
	}
	if (!atomic_compare_exchange_strong(&dest->error, &none, err))
		return;
	dbuf_init(&why);
	if (dbuf_puts(&why, dest->path) != 0 ||
	    (rel_len > 0 && (dbuf_putc(&why, '/') != 0 || dbuf_append(&why, rel, rel_len) != 0))) {
		dbuf_free(&why);
		return;
	}
	if (what)
		diag_file_errorf(why.data, "%s: %s", what, diag_strerror(err));
	else
		diag_file_error(why.data, err);
	dbuf_clear(&why);
	if (rel_len > 0)
		rec_escape(&why, rel, rel_len);
	else
		dbuf_puts(&why, ".");
	dbuf_printf(&why, ": %s%s%s", what ? what : "", what ? ": " : "", diag_strerror(err));
	pthread_mutex_lock(&dest->lock);
	if (!dest->why)
		dest->why = why.data;
	else
		dbuf_free(&why);
	pthread_mutex_unlock(&dest->lock);
}

void dest_fail_said(struct dest *dest, const char *why, size_t len)
{
	int none = 0;
	char *copy;

	if (!atomic_compare_exchange_strong(&dest->error, &none, EIO))
		return;
	copy = strndup(why, len);
	pthread_mutex_lock(&dest->lock);
	if (!dest->why)
		dest->why = copy;
	else
		free(copy);
	pthread_mutex_unlock(&dest->lock);
}

void worker_fini(struct worker *worker, size_t ndests)
{
	for (size_t i = 0; worker->dirs && i < ndests; i++) {
		for (unsigned way = 0; way < DEST_DIRCACHE_WAYS; way++) {
			if (worker->dirs[i].fd[way] >= 0)
				close(worker->dirs[i].fd[way]);
			dbuf_free(&worker->dirs[i].path[way]);
		}
	}
	free(worker->dirs);
	dbuf_free(&worker->scratch);
	dbuf_free(&worker->last_parent);
}

void dest_add_delta(struct dest *dest, const struct delta_count *count)
{
	pthread_mutex_lock(&dest->lock);
	dest->delta.files++;
	dest->delta.blocks += count->blocks;
	dest->delta.differ += count->differ;
	dest->delta.written += count->written;
	pthread_mutex_unlock(&dest->lock);
}
