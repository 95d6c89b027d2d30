/* SPDX-License-Identifier: 0BSD */
/**
 * The parallel tree walker shared by pfind, phash -r, pverify --audit and
 * pcopy. Several directories are read at once by worker threads; each entry
 * is handed to a visit callback in the worker that read it.
 *
 * (Interface draft: the walker's owner may extend it; see walk.c's essay.)
 */
#ifndef PTOOLS_WALK_H
#define PTOOLS_WALK_H

#include "prelude.h"
#include <sys/stat.h>

/** What a visit callback tells the walker. */
enum walk_action {
	WALK_CONTINUE, /* descend into this entry if it is a directory */
	WALK_PRUNE,    /* do not descend */
	WALK_STOP,     /* end the walk as soon as possible */
};

enum walk_flags {
	WALK_STAT = 1 << 0,   /* every entry needs a struct stat */
	WALK_FOLLOW = 1 << 1, /* follow symlinks (-L); loops are reported as errors */
	WALK_XDEV = 1 << 2,   /* do not cross mount points */
	WALK_SORT = 1 << 3,   /* deterministic: names in byte order, directory by directory */
};

/** One entry, valid only during the callback. */
struct walk_entry {
	const char *path;       /* root as given + "/" + names: may exceed PATH_MAX */
	size_t path_len;
	const char *name;       /* last component, inside path */
	int at_fd;              /* a directory fd ... */
	const char *at_path;    /* ... and a name relative to it that opens this entry */
	unsigned char type;     /* DT_REG, DT_DIR, ... (DT_UNKNOWN never: the walker resolves it) */
	size_t depth;           /* 0 for a root */
	size_t root_index;      /* which root this entry is under */
	const struct stat *st;  /* non-NULL with WALK_STAT (or when the walker had to stat) */
	int error;              /* 0, or errno: the entry could not be stat'ed/opened/read */
};

typedef enum walk_action walk_visit_fn(void *context, const struct walk_entry *entry);

struct walk_config {
	unsigned threads;        /* 0 = default */
	int flags;               /* enum walk_flags */
	walk_visit_fn *visit;
	void *(*thread_init)(void *arg);   /* per-thread context, may be NULL */
	void (*thread_fini)(void *context);
	void *arg;
};

/**
 * Walk every root. Returns 0 when the walk finished (entries with errors were
 * still visited with entry->error set), or -1 with errno if it could not run.
 */
int walk(const char *const *roots, size_t nroots, const struct walk_config *config);

#endif
