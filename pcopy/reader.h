/* SPDX-License-Identifier: 0BSD */
/**
 * Readers: the threads that copy regular files, a pool of them per source
 * device, fed by the producers. A reader drives one fileop per destination.
 */
#ifndef PCOPY_READER_H
#define PCOPY_READER_H

#include "prelude.h"
#include "dbuf.h"
#include "hashio.h"
#include "preread.h"
#include "worker.h"
#include "batch.h"
#include "delta.h"
#include <limits.h>
#include <pthread.h>

enum op_state {
	OP_IDLE,     /* this destination failed, or takes no part */
	OP_WRITE,    /* the copy (unnamed or a temporary) is open and receives the data */
	OP_SKIP,     /* the copy there looks current (--update, --resume): compared
		      * with the source as it is read, replaced from the first
		      * difference on (then OP_WRITE) */
};

struct reader;

/** One file in one destination, driven by a reader. */
struct fileop {
	struct reader *reader;
	struct dest *dest;
	enum op_state state;
	int fd;                      /* the copy being written (unnamed or a temporary) */
	int dirfd;                   /* borrowed from the reader's dircache */
	bool exists;                 /* the final name was taken (--force/--update) */
	bool mode_set;               /* the temporary was created with its final mode */
	uint64_t existing_ino;       /* OP_SKIP: the inode already there */
	int keep_fd;                 /* OP_SKIP: that file, open to compare */
	unsigned char *compare_buf;  /* OP_SKIP: its bytes, a block at a time */
	size_t compare_cap;
	/* A delta update (delta.h): the kept file is the base the new version
	 * is built from; from the first difference on, copying is set and fd is
	 * the new version (a temporary, or with inplace the base itself). */
	bool delta;
	bool inplace;                /* --inplace: the base is overwritten (journaled) */
	bool copying;
	bool cloned;                 /* the temporary began as a clone of the base */
	struct stat old;             /* the base as found */
	uint64_t cur_block;          /* the block being compared, and whether it differs */
	bool cur_differs;
	struct delta_count count;
	size_t dir_len;              /* the parent's length in the task's rel */
	char temp[64];               /* its name; empty for an unnamed (O_TMPFILE) file */
	char name[NAME_MAX + 1];
	struct hashio *verify;       /* made on first --verify use */
	struct dbuf rbuf;            /* a remote destination: the file's frames not yet sent */
	bool claimed;                /* ... and its connection is held for the rest of them */
	/* The job handed to a writer thread. */
	int (*job)(struct fileop *op);
	int error;                   /* the job's result (errno), 0 when fine */
	const char *where;           /* what failed, for the message */
};

/** A reader thread's state. */
struct reader {
	struct worker worker;
	struct hashio *engine;
	struct preread *pre;         /* batched cold reads; NULL with PTOOLS_IO_URING=0 */
	struct fileop *ops;          /* one per destination */
	struct task *task;
	bool sparse;
	const unsigned char *block;  /* the block in flight */
	size_t block_len;
	uint64_t block_offset;
	bool abandoned;              /* every destination dropped out mid-file */
	struct hashio_result *result; /* the source's digests, for op_verify */
	struct link_entry *mine;     /* -H: the entry this file is the first copy of */
	/* A small file: every destination's jobs run in this thread, in turn
	 * (a hand-off per job would cost more than the job). */
	bool serial;
	pthread_mutex_t lock;        /* guards pending */
	pthread_cond_t cond;
	size_t pending;
};

/*
 * Readers per source device once the source was found far (run.h's far)
 * and -j did not say: enough requests in flight to hide a millisecond a
 * request (a pool starts only the threads it has work for), as far as the
 * descriptor limit allows (readers_max).
 */
#define READERS_FAR 64

/**
 * The most readers a source device gets in copy's run: -j's count, or
 * without -j and once the source is far, up to READERS_FAR, as many as a
 * quarter of RLIMIT_NOFILE holds with each reader's own descriptors (its
 * ring, the file it reads, and per destination the copy and the directory
 * cache).
 */
unsigned readers_max(const struct copy *copy);

/**
 * The source was just found far (run.h's far): the devices whose readers
 * were made before get readers_max of them too (a first large file may have
 * made them with -j's default).
 */
void readers_go_far(struct copy *copy);

/** A reader's context, for a pool's init (arg: the copy); NULL on ENOMEM. */
void *reader_init(void *arg);

/** Free a reader's context (NULL-safe). */
void reader_fini(void *context);

/**
 * Hand a regular file (open as srcfd, which the task then owns) to its
 * device's readers, or copy it right here when it is small and worker is a
 * walker (the first member of a reader). head: the file's first head_len
 * bytes when already read (preread.h), or NULL and 0; given only for a copy
 * made here.
 */
void submit_file(struct worker *worker, int srcfd, const struct stat *st, const char *rel,
		 size_t len, const void *head, size_t head_len);

/** Wait for every reader of every source device to finish, and stop them. */
void readers_finish(struct copy *copy);

/**
 * Open the source file at_fd/at_path (rel names it in messages) for
 * reading, never following a link, its fstat in *st. Returns the
 * descriptor, or -1 after stopping the run (a file that is not regular
 * any more has "changed while being copied").
 */
int source_open(struct copy *copy, int at_fd, const char *at_path, const char *rel,
		struct stat *st);

/**
 * Open and copy every file of batch in reader's thread, with at most ahead
 * of them open at once (a walker hands a file larger than INLINE_MAX to the
 * readers, as submit_file does); the batch is then empty. Stops the run, as
 * a single copy would, when a file cannot be opened.
 */
void batch_copy(struct reader *reader, struct file_batch *batch, size_t ahead);


/**
 * Records mode: small regular files (PREREAD_FILE_MAX or less) go to the
 * readers in batches of up to PREREAD_FILES, on one device each.
 * batch_add adds file rel (len bytes, relative to dirfd, which stays the
 * caller's; st its lstat) to *batch, starting one when *batch is NULL, and
 * submits it when full or when the file belongs in another (another
 * descriptor or device). batch_submit hands *batch (if any) to its device's
 * readers and leaves *batch NULL; stop_run is called when it cannot.
 */
void batch_add(struct worker *worker, struct file_batch **batch, int dirfd, const char *rel,
	       size_t len, const struct stat *st);
void batch_submit(struct worker *worker, struct file_batch **batch);

/** The descriptors all readers together may hold open ahead (copy.ahead_left). */
size_t readers_ahead_budget(unsigned readers);

#endif
