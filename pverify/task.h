/* SPDX-License-Identifier: 0BSD */
/** One manifest entry to verify: what the manifest expects, and what was found. */
#ifndef PVERIFY_TASK_H
#define PVERIFY_TASK_H

#include "prelude.h"
#include "hash.h"
#include <time.h>

/** The verdict on one entry; the names are the words pverify prints. */
enum verdict {
	VERDICT_PENDING = 0, /* not checked yet */
	VERDICT_OK,
	VERDICT_FAILED,      /* a digest differs (or, with --sizes-only, the mtime) */
	VERDICT_SIZE,        /* the size differs: not hashed */
	VERDICT_MISSING,     /* no such file */
	VERDICT_ERROR,       /* refused or unreadable: reason says why */
};

/**
 * An entry, allocated in one block by task_new (path and digests follow the
 * struct) and freed with free(). Made by the reading thread, checked by one
 * worker, then owned by the reporter; never shared by two threads at once.
 */
struct task {
	uint64_t seq;              /* position in the manifest, for in-order output */
	uintmax_t line;            /* manifest line number */
	bool has_size, has_mtime;
	/* No digest: the record claims only that the entry exists (with this
	 * type, when type is not 0, and this size if it is a regular file). */
	bool look_only;
	/* A GNU line without -a: the algorithm was told from the digest length
	 * alone, so a FAILED verdict says which one was assumed. */
	bool assumed;
	char type;
	uint64_t size;
	struct timespec mtime;
	size_t ndigests;
	const struct hash_algo *algos[HASH_SET_MAX];
	const char *hex[HASH_SET_MAX]; /* expected digests, lowercase, inside the block */
	const char *path;          /* decoded, NUL-terminated, inside the block */
	size_t path_len;
	/* The result, written by the worker. */
	enum verdict verdict;
	int error;                 /* errno for VERDICT_ERROR, or 0 */
	const char *reason;        /* static text, or note, for VERDICT_ERROR when error is 0 */
	/* The manifest's own verdict, inside the block, or NULL: a record with
	 * an error attribute is ERROR before it is checked (reason points here). */
	const char *note;
	/* Where the worker records the size of the regular file it opened
	 * (size + 1), for the audit's byte count (audit_add_listed); or NULL. */
	uint64_t *size_cell;
	char storage[];
};

/** Give task the verdict ERROR, with an errno value or (error 0) a static reason. */
static inline void task_set_error(struct task *task, int error, const char *reason)
{
	task->verdict = VERDICT_ERROR;
	task->error = error;
	task->reason = reason;
}

#endif
