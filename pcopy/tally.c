/* SPDX-License-Identifier: 0BSD */
/** Totals for progress: a counting walk beside the copy, or a first pass over records. */
#include "prelude.h"
#include "tally.h"
#include "exclude.h"
#include "journal.h"
#include "mhlseal.h"
#include "producer.h"
#include "walk.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tally {
	struct copy *copy;
	const char *root;
	pthread_t thread;
};

void tally_file(struct copy *copy, uint64_t size)
{
	for (size_t i = 0; copy->progress && i < copy->ndests; i++)
		progress_expect(copy->progress, i, 1, size);
}

/* Where the path below the root starts in entry->path (as walk_visit finds it). */
static size_t tally_rel(const struct copy *copy, const struct walk_entry *entry)
{
	size_t off = copy->root_len;

	while (off < entry->path_len && entry->path[off] == '/')
		off++;
	return off;
}

/* Count what walk_visit (producer.c) would copy: the same entries left out. */
static enum walk_action tally_visit(void *context, const struct walk_entry *entry)
{
	struct copy *copy = context;

	if (stopping(copy))
		return WALK_STOP;
	if (entry->error || !entry->st)
		return WALK_PRUNE;
	if (entry->depth == 1 && (copy_is_seal_name(&copy->opt, entry->name) ||
				  journal_own_name(entry->name) ||
				  mhlseal_is_source_history(copy, entry->name)))
		return WALK_PRUNE;
	if (entry->depth > 0 && copy->opt.exclude &&
	    exclude_match(copy->opt.exclude, entry->name, entry->path + tally_rel(copy, entry),
			  S_ISDIR(entry->st->st_mode)))
		return WALK_PRUNE;
	if (S_ISDIR(entry->st->st_mode))
		return entry->depth > 0 && is_dest_root(copy, entry->st) ? WALK_PRUNE
									  : WALK_CONTINUE;
	if (S_ISREG(entry->st->st_mode))
		tally_file(copy, (uint64_t)entry->st->st_size);
	return WALK_CONTINUE;
}

static void *tally_main(void *arg)
{
	struct tally *tally = arg;
	struct walk_config config;
	const char *roots[1] = { tally->root };

	memset(&config, 0, sizeof(config));
	config.flags = WALK_STAT;
	config.visit = tally_visit;
	config.arg = tally->copy;
	if (walk(roots, 1, &config) == 0 && !stopping(tally->copy))
		progress_known(tally->copy->progress);
	return NULL;
}

struct tally *tally_tree_start(struct copy *copy, const char *root)
{
	struct tally *tally;

	if (!copy->progress)
		return NULL;
	tally = calloc(1, sizeof(*tally));
	if (!tally)
		return NULL;
	tally->copy = copy;
	tally->root = root;
	if (pthread_create(&tally->thread, NULL, tally_main, tally) != 0) {
		free(tally);
		return NULL;
	}
	return tally;
}

void tally_finish(struct tally *tally)
{
	if (!tally)
		return;
	pthread_join(tally->thread, NULL);
	free(tally);
}

/* Whether the record names something other than a regular file (its type: attribute). */
static bool names_other_than_file(const struct rec *rec)
{
	size_t len;
	const char *type = rec_attr_get(rec, "type", &len);

	return type && !(len == 1 && type[0] == 'f');
}

void tally_records(struct copy *copy, bool nul_separated)
{
	struct input *in;
	struct stat st;
	struct rec rec;
	const char *why;
	enum input_status status;
	off_t start;

	if (!copy->progress || fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	start = lseek(STDIN_FILENO, 0, SEEK_CUR);
	if (start < 0)
		return;
	in = input_open(NULL, nul_separated);
	if (!in)
		return;
	rec_init(&rec);
	while ((status = input_next(in, &rec, &why)) != INPUT_EOF && status != INPUT_ERROR) {
		if (status == INPUT_RECORD && !names_other_than_file(&rec))
			tally_file(copy, rec.size);
	}
	rec_free(&rec);
	input_close(in);
	if (lseek(STDIN_FILENO, start, SEEK_SET) != start) {
		/* Not rewound: the copy must not start from the end. */
		stop_run(copy, STOP_INTERNAL, "<stdin>", errno ? errno : EIO);
		return;
	}
	if (status == INPUT_EOF) {
		copy->counted = true;
		progress_known(copy->progress);
	}
}
