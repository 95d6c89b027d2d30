/* SPDX-License-Identifier: 0BSD */
/** phash's producers: standard input, the arguments, or a walk, into the batch pipeline. */
#include "prelude.h"
#include "phash.h"
#include "diag.h"
#include "input.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One thread that reads input and fills batches. */
struct producer {
	struct phash *ph;
	struct batchpipe_feed feed;
	char **roots;          /* -r: the roots walked, for paths below them */
};

/* Queue text to pass through unchanged, in its place. */
static void pass_text(struct producer *producer, const char *text, size_t len)
{
	struct task *task = batchpipe_slot(&producer->feed);

	if (!task || dbuf_append(&task->text, text, len) != 0 || dbuf_putc(&task->text, '\n') != 0) {
		diag_file_error(NULL, ENOMEM);
		return;
	}
	task->is_text = true;
	batchpipe_commit(&producer->feed, 0);
}

/* Read records (or paths) from path ("-": standard input) and queue them. */
static void read_input(struct producer *producer, const char *path)
{
	struct phash *ph = producer->ph;
	struct input *in = input_open(path, ph->opt.nul);

	if (!in) {
		diag_file_error(path, errno);
		return;
	}
	for (;;) {
		enum input_status status;
		const char *why = NULL, *type, *text;
		struct task *task;
		size_t len;

		/* With the output gone, hashing the rest is wasted work. */
		if (out_error(ph->out))
			break;
		task = batchpipe_slot(&producer->feed);
		if (!task) {
			diag_file_error(input_name(in), ENOMEM);
			break;
		}
		status = input_next(in, &task->rec, &why);
		if (status == INPUT_EOF)
			break;
		if (status == INPUT_ERROR) {
			diag_file_error(input_name(in), errno);
			break;
		}
		if (status == INPUT_MALFORMED) {
			diag_input_error(input_name(in), input_line(in), "%s", why);
			continue;
		}
		if (status == INPUT_COMMENT) {
			text = input_text(in, &len);
			pass_text(producer, text, len);
			continue;
		}
		if (status != INPUT_RECORD)
			continue;
		task->fresh = task->rec.plain;
		task->named = task->rec.plain;
		/* A record that says it is not a regular file passes through
		 * without a look at the file: it might be a FIFO. */
		type = task->rec.plain ? NULL : rec_attr_get(&task->rec, "type", NULL);
		if (type && strcmp(type, "f") != 0) {
			if (ph->opt.format == FORMAT_NATIVE) {
				text = input_text(in, &len);
				pass_text(producer, text, len);
			}
			continue;
		}
		if (!task->rec.plain)
			progress_expect(ph->progress, 0, 1, task->rec.size);
		batchpipe_commit(&producer->feed,
				 task->rec.plain ? BATCHPIPE_SIZE_UNKNOWN : task->rec.size);
	}
	input_close(in);
}

/* Queue each PATH argument as a plain path. */
static void read_arguments(struct producer *producer, char **paths, int count)
{
	int i;

	for (i = 0; i < count && !out_error(producer->ph->out); i++) {
		struct task *task = batchpipe_slot(&producer->feed);

		if (!task || rec_set_plain(&task->rec, paths[i], strlen(paths[i])) != 0) {
			diag_file_error(paths[i], ENOMEM);
			continue;
		}
		task->fresh = true;
		task->named = true;
		batchpipe_commit(&producer->feed, 0);
	}
}

/* -r: one producer per walker thread (one in all with WALK_SORT). */
static void *walk_thread_init(void *arg)
{
	struct producer *shared = arg, *producer = malloc(sizeof(*producer));

	if (producer)
		*producer = *shared;
	return producer;
}

static void walk_thread_fini(void *context)
{
	struct producer *producer = context;

	if (!producer)
		return;
	batchpipe_flush(&producer->feed);
	free(producer);
}

/* Whether the exclude patterns leave entry out (then counted). */
static bool left_out(struct producer *producer, const struct walk_entry *entry)
{
	struct phash *ph = producer->ph;
	const char *rel = entry->path + strlen(producer->roots[entry->root_index]);

	while (*rel == '/')
		rel++;
	if (!exclude_match(&ph->opt.exclude, entry->name, rel, entry->type == DT_DIR))
		return false;
	atomic_fetch_add(&ph->excluded, 1);
	return true;
}

static enum walk_action visit(void *context, const struct walk_entry *entry)
{
	struct producer *producer = context;
	struct task *task;

	if (producer && out_error(producer->ph->out))
		return WALK_STOP;
	if (producer && entry->depth > 0 && left_out(producer, entry))
		return WALK_PRUNE;
	task = producer ? batchpipe_slot(&producer->feed) : NULL;
	if (!task || rec_set_plain(&task->rec, entry->path, entry->path_len) != 0) {
		diag_file_error(entry->path, ENOMEM);
		return WALK_CONTINUE;
	}
	task->fresh = true;
	if (entry->error) {
		/* A directory already visited that could not be read: report it,
		 * its record is out already. Anything else becomes a record with
		 * an error attribute. */
		if (entry->type == DT_DIR && entry->at_fd < 0) {
			diag_file_error(entry->path, entry->error);
			return WALK_CONTINUE;
		}
		task->walk_error = entry->error;
	} else if (entry->type == DT_REG) {
		task->known_regular = true;
	} else if (entry->st) {
		task->st = *entry->st;
		task->have_stat = true;
	} else if (fstatat(entry->at_fd, entry->at_path, &task->st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Stat it now, while the walker's directory fd is valid: a worker
		 * could not reach a path longer than PATH_MAX as easily. */
		task->have_stat = true;
	} else {
		task->walk_error = errno;
	}
	batchpipe_commit(&producer->feed, 0);
	return WALK_CONTINUE;
}

static void walk_roots(struct producer *producer, char **roots, int count)
{
	struct walk_config config = {
		.threads = 0,
		/* Ordered output follows the input order, and a walk's order is
		 * only deterministic when sorted. */
		.flags = producer->ph->opt.unordered ? 0 : WALK_SORT,
		.visit = visit,
		.thread_init = walk_thread_init,
		.thread_fini = walk_thread_fini,
		.arg = producer,
	};

	if (walk((const char *const *)roots, (size_t)count, &config) != 0)
		diag_file_error(NULL, errno);
}


void source_input(struct phash *ph, const char *path)
{
	struct producer producer = {.ph = ph};

	batchpipe_feed_init(&producer.feed, ph->pipe);
	read_input(&producer, path);
	batchpipe_flush(&producer.feed);
}

void source_arguments(struct phash *ph, char **paths, int count)
{
	struct producer producer = {.ph = ph};

	batchpipe_feed_init(&producer.feed, ph->pipe);
	read_arguments(&producer, paths, count);
	batchpipe_flush(&producer.feed);
}

void source_walk(struct phash *ph, char **roots, int count)
{
	struct producer producer = {.ph = ph, .roots = roots};

	batchpipe_feed_init(&producer.feed, ph->pipe);
	walk_roots(&producer, roots, count);
	batchpipe_flush(&producer.feed);
}
