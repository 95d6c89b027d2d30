/* SPDX-License-Identifier: 0BSD */
/**
 * The parallel tree walker shared by pfind, phash -r, pverify --audit and
 * pcopy. Several directories are read at once by worker threads; each entry
 * is handed to a visit callback (in the worker that read it, or, with
 * WALK_SORT, in the calling thread in a deterministic order; or, with
 * WALK_SORT and write_block, in the worker again, its output put in order).
 *
 * How it works, and why memory and descriptors stay bounded: walk.c's essay.
 */
#ifndef PTOOLS_WALK_H
#define PTOOLS_WALK_H

#include "prelude.h"
#include "dbuf.h"
#include <sys/stat.h>

/** What a visit callback tells the walker. */
enum walk_action {
	WALK_CONTINUE, /* descend into this entry if it is a directory */
	WALK_PRUNE,    /* do not descend */
	WALK_STOP,     /* end the walk as soon as possible (walk() still returns 0) */
};

enum walk_flags {
	/* Every entry needs a struct stat (entry->st is then always set on
	 * success). Without it the walker stats only where it must: d_type
	 * DT_UNKNOWN, symlinks under WALK_FOLLOW, directories under
	 * WALK_XDEV/WALK_FOLLOW; a callback that needs a stat for some entries
	 * only does fstatat(entry->at_fd, entry->at_path, ...) itself. */
	WALK_STAT = 1 << 0,
	/* Follow symlinks (find -L): an entry's type and stat are its target's;
	 * a broken link is reported as the link itself; a directory that is its
	 * own ancestor is not visited but reported (one call, error ELOOP), as
	 * find -L does. */
	WALK_FOLLOW = 1 << 1,
	/* Do not enter directories on another filesystem than their root (the
	 * mount point itself is still visited), as find -xdev. */
	WALK_XDEV = 1 << 2,
	/* Deterministic order: roots in the order given; for each directory,
	 * its entries with names in byte order (strcmp), then each of its
	 * subdirectories' contents, recursively, in that same order (the order
	 * of ls -R). Visits all happen in the calling thread, one at a time;
	 * workers read directories ahead. With walk_config.write_block set,
	 * visits run in the workers instead and only their output is put in
	 * order (see there). */
	WALK_SORT = 1 << 3,
};

/**
 * One entry, valid only during the callback. An entry is visited once; an
 * entry that could not be stat'ed (or a WALK_FOLLOW loop) is reported by its
 * one call having error set; a directory that was visited but then could
 * not be opened or read (EACCES, EIO, ENOMEM) is reported by a second call
 * with error set. Every call with error != 0 is an error report: its return value
 * matters only if it is WALK_STOP.
 */
struct walk_entry {
	const char *path;       /* root as given + "/" + names: may exceed PATH_MAX */
	size_t path_len;
	const char *name;       /* last component, inside path (a root: the whole root) */
	size_t name_len;
	int at_fd;              /* a directory fd (AT_FDCWD for a root) and a name */
	const char *at_path;    /* relative to it that reaches this entry; at_fd is -1
				 * in a directory's error report */
	unsigned char type;     /* DT_REG, DT_DIR, DT_LNK, ... (the target's under
				 * WALK_FOLLOW); DT_UNKNOWN only when error is set */
	uint64_t ino;           /* inode: st_ino when st is set, else d_ino */
	size_t depth;           /* 0 for a root */
	size_t root_index;      /* which root this entry is under */
	const struct stat *st;  /* non-NULL with WALK_STAT, or when the walker had to stat */
	int error;              /* 0, or the errno of this error report */
	struct dbuf *out;       /* with write_block: where this visit's output goes
				 * (NULL: the callback's own output, in the calling
				 * thread and in order); always NULL without it */
};

/**
 * The visit callback. context is the calling thread's context from
 * thread_init (or config->arg when thread_init is NULL). Called concurrently
 * from several threads unless WALK_SORT is set.
 */
typedef enum walk_action walk_visit_fn(void *context, const struct walk_entry *entry);

struct walk_config {
	unsigned threads;        /* worker threads, 0 = walk_default_threads() */
	int flags;               /* enum walk_flags */
	walk_visit_fn *visit;
	/* Make a per-thread context, called in each thread that will call visit
	 * (the calling thread included) before its first visit. May be NULL;
	 * may return NULL, which is passed through. */
	void *(*thread_init)(void *arg);
	/* Destroy a context, in the thread that made it, after its last visit. May be NULL. */
	void (*thread_fini)(void *context);
	void *arg;
	/* WALK_SORT only, may be NULL. When set, the workers that read a
	 * directory ahead also visit its entries (concurrently, like an
	 * unsorted walk), and each visit appends whatever it outputs to
	 * entry->out, a block kept with that directory's listing; the calling
	 * thread then hands the blocks to write_block, with its own context, in
	 * the sorted order. The output is the same as with the visits in the
	 * calling thread; what differs is that visits (and their side effects,
	 * such as messages on stderr) no longer happen in that order, nor one
	 * at a time, and that after a WALK_STOP some directories further on may
	 * have been visited without their blocks being written. Returning
	 * WALK_STOP stops the walk. */
	enum walk_action (*write_block)(void *context, const char *data, size_t len);
	/* May be NULL. Called in the thread that visited a directory's
	 * entries, after the last of them and while their at_fd is still open:
	 * a caller that holds entries back to handle several together (pcopy
	 * reads small files in batches) handles the rest here. */
	void (*dir_done)(void *context);
};

/**
 * Walk every root (nroots >= 1). Threads start lazily: the calling thread
 * walks until a second directory is queued, so a one-directory tree starts no
 * thread. Descriptors stay within a cache sized from RLIMIT_NOFILE; paths are
 * never opened whole, so any depth works.
 *
 * Returns 0 when the walk finished or was stopped (entries with errors were
 * reported through visit), or -1 with errno if it could not start (ENOMEM,
 * EINVAL for a bad config).
 */
int walk(const char *const *roots, size_t nroots, const struct walk_config *config);

/**
 * The default number of worker threads: one per CPU this process may run on
 * (pool_cpus), and at least two, for enough reads in flight even on one.
 */
unsigned walk_default_threads(void);

/**
 * The most threads a walk with the default count may run: it starts with
 * walk_default_threads() and rises to this once directory reads are seen to
 * block on I/O.
 */
unsigned walk_io_threads(void);

#endif
