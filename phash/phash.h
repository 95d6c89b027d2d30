/* SPDX-License-Identifier: 0BSD */
/**
 * phash's own interface between its files: the options, the run's shared
 * state, one input item (struct task), the per-file callback that hashes an
 * item and formats its output (hashfile.c), and the producers that read the
 * input into the batch pipeline (source.c).
 */
#ifndef PHASH_PHASH_H
#define PHASH_PHASH_H

#include "prelude.h"
#include "batchpipe.h"
#include "dbuf.h"
#include "exclude.h"
#include "hash.h"
#include "out.h"
#include "progress.h"
#include "record.h"
#include "reuse.h"
#include "signkey.h"
#include <stdatomic.h>
#include <sys/stat.h>

enum format {
	FORMAT_NATIVE,
	FORMAT_GNU,
	FORMAT_BSD,
};

struct options {
	const struct hash_algo *algos[HASH_SET_MAX];
	size_t count;
	unsigned jobs;
	bool jobs_given;   /* -j: exactly that many workers, far storage or not */
	bool nul;
	bool recursive;
	bool unordered;
	bool nocache;
	bool progress;
	enum format format;
	const char *reuse_path;
	bool seal;             /* --seal DIR: the records become a seal in DIR */
	bool mhl;              /* --mhl: that seal is an ASC MHL generation */
	const struct signkey *sign; /* --sign KEY: the seal is signed; NULL: not */
	struct exclude exclude;     /* -r: the entries a walk leaves out */
};

/** The run's shared state: read-only once the pipeline starts, but for the thread-safe parts. */
struct phash {
	struct options opt;
	struct out *out;
	struct reuse *reuse;        /* NULL without --reuse */
	struct progress *progress;  /* NULL without --progress */
	struct batchpipe *pipe;
	atomic_uint_fast64_t excluded; /* entries the walks left out (exclude.h) */
};

/**
 * One input item, stored in the pipeline's batches and recycled (its record
 * and text keep their storage): a record to hash, or text to pass through.
 */
struct task {
	bool is_text;         /* text holds a whole line (LF included) to copy out */
	bool fresh;           /* made here (plain path, argument, walk): add a type attribute */
	bool named;           /* an argument or a plain path: a directory is an error */
	bool known_regular;   /* a walker just saw it as a regular file */
	bool have_stat;       /* st holds a walker's lstat of a non-regular entry */
	int walk_error;       /* the walker could not reach it */
	struct stat st;
	struct rec rec;
	struct dbuf text;
};

/** batchpipe item hooks for struct task: make, free, and reset for reuse. */
void task_init(void *item);
void task_free(void *item);
void task_reset(void *item);

/** batchpipe's open for a task (config.arg is the struct phash): see hashfile.c. */
int hashfile_open(struct batchpipe_worker *worker, void *item, struct stat *st);

/**
 * batchpipe's finish for a task: hash it (or reuse its digests, or pass it
 * through) and append its output to *out; messages go to stderr. Returns the
 * size of the file hashed, else 0.
 */
uint64_t hashfile_finish(struct batchpipe_worker *worker, void *item, int fd,
			 const struct stat *st, const void *head, size_t head_len,
			 struct dbuf *out);

/** Read records (or paths) from path ("-": standard input) into the pipeline. */
void source_input(struct phash *ph, const char *path);

/** Queue each of the count PATH arguments as a plain path. */
void source_arguments(struct phash *ph, char **paths, int count);

/** -r: queue every entry under each of the count roots. */
void source_walk(struct phash *ph, char **roots, int count);

#endif
