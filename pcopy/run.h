/* SPDX-License-Identifier: 0BSD */
/**
 * One pcopy run's shared state: the run and its destinations, and the
 * failure bookkeeping every part of the engine uses (what a thread keeps
 * and the task a producer hands a reader are worker.h's). The modules: destdir (paths
 * beneath each destination root), sealer (the seal in progress), reader and
 * fileop (one read of each file, every destination written at once), links
 * (-H), producer (walks and records), copy.c (setting up, finishing, undo).
 */
#ifndef PCOPY_RUN_H
#define PCOPY_RUN_H

#include "prelude.h"
#include "copy.h"
#include "dbuf.h"
#include "delta.h"
#include "hash.h"
#include "journal_finish.h"
#include "mhl2.h"
#include "pool.h"
#include "progress.h"
#include "seal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>

struct link_entry;
struct mhlcarry;
struct rdest;

/* Why the whole run stops. */
enum stop_reason {
	STOP_NONE = 0,
	STOP_SOURCE,   /* a source could not be read: roll back everything */
	STOP_INTERNAL, /* out of memory and the like: the same */
	STOP_USAGE,    /* the input cannot be copied as asked: the same, exit 2 */
};

/*
 * How a file made with O_TMPFILE is linked into place, found once for each
 * destination (destdir.c): by its descriptor (linkat AT_EMPTY_PATH, which
 * needs CAP_DAC_READ_SEARCH), through /proc/self/fd, or not at all (named
 * temporaries, then rename).
 */
enum anon_link {
	ANON_NONE = 0,
	ANON_EMPTY_PATH,
	ANON_PROC_FD,
};

/** One destination. */
struct dest {
	char *path;                  /* as the user wrote it (host:path when remote) */
	size_t index;
	struct rdest *rdest;         /* a destination on another host (rdest.h), or NULL */
	int rootfd;
	bool root_created;
	struct timespec root_mtime;  /* before the run */
	struct journal *journal;     /* ours, or NULL (failed before it existed) */
	struct journal_owned *owned; /* --resume: what the interrupted run put in place */
	bool done_before;            /* --resume found nothing left to do here */
	enum anon_link anon_link;    /* how an unnamed (O_TMPFILE) copy gets its name */
	struct pool *writers;        /* NULL for the first destination */
	atomic_int error;            /* errno of the first failure, 0 while healthy */
	pthread_mutex_t lock;        /* guards why and the seal fields */
	char *why;                   /* the first failure: "path: reason" */
	/* The seal in progress: written to a temporary as files complete. */
	int seal_fd;
	char seal_tmp[64];
	struct seal_writer seal;
	bool seal_exists;            /* a seal was there before (replaced with --force/--update) */
	struct hash_ctx *seal_sha512; /* --sign: SHA-512 of the seal's bytes as written */
	struct bagger *bag;          /* --bag: the bag in progress (bagger.h), else NULL */
	size_t mhl_carried;          /* --mhl: how many of SRC's generations it has (mhlcarry.h) */
	struct mhlfiles *mhl_files;  /* --mhl: the files the seal lists so far (guarded by lock) */
	atomic_uint_fast64_t files, bytes;
	uint64_t deleted;            /* --delete: entries set aside */
	struct delta_count delta;    /* files updated by blocks (guarded by lock) */
	/* pcopy FILE DEST (single.h): the file's name in this root, the new
	 * file as the user named it, and what its record will say; NULL in a
	 * tree or records run (and for a remote DEST, which its side names). */
	char *single_name;
	char *single_shown;
	struct single_result *single_result;
};

/*
 * Each source device gets its own readers (godi's streams per input device):
 * a slow or busy disk holds up only its own files. Past this many devices,
 * the last one's readers serve the rest.
 */
#define SOURCE_DEVICES_MAX 16

struct source_device {
	dev_t dev;
	struct pool *readers;
};

/** The whole run. */
struct copy {
	struct copy_options opt;
	/* What each read computes: the seal's digests, then, when a destination
	 * is remote, the check digest of the protocol (proto.h) unless it is one
	 * of them; check_algo is its index. */
	const struct hash_algo *read_algos[HASH_SET_MAX];
	size_t read_nalgos, check_algo;
	size_t ndests;
	struct dest *dests;
	uint64_t run_id;
	atomic_uint_fast64_t temp_seq;
	atomic_int stop;             /* enum stop_reason */
	pthread_mutex_t lock;        /* guards stop_why */
	char *stop_why;
	/* --keep-going: source files left out, and the first few names (guarded by lock). */
	atomic_uint_fast64_t left_out;
	atomic_uint_fast64_t excluded; /* entries the exclude patterns left out of the walk */
	struct dbuf left_out_names;
	pthread_mutex_t devices_lock; /* guards devices and ndevices */
	struct source_device devices[SOURCE_DEVICES_MAX];
	size_t ndevices;
	mode_t umask;                /* the process's, read once at the start */
	struct progress *progress;
	bool counted;                /* the totals were counted ahead (tally_records) */
	/* Source root (records mode: the --from root; tree mode: SRC). */
	size_t root_len;
	char *src_root;              /* tree mode, --delete: SRC as walked */
	struct mhlcarry *mhl_source; /* --mhl: SRC's ASC MHL history (or the sender's), or NULL */
	struct mhlseal_ahead *mhl_ahead; /* its table, read beside the copy (mhlseal.c), or NULL */
	/* --mhl: the generation's formats, in its order, and the index in
	 * opt.algos of each one's algorithm (mhlseal_setup). */
	enum mhl2_format mhl_formats[MHL2_FORMATS];
	int mhl_algo_of[MHL2_FORMATS];
	size_t mhl_nformats;
	/* Hard links (-H): the first copy of each multiply-linked inode. */
	pthread_mutex_t link_lock;   /* guards links and nlinks */
	pthread_cond_t link_done;
	struct link_entry **links;   /* open-addressed table */
	size_t links_cap, nlinks;
	/* Destination roots' identities, so a destination inside SRC is not walked. */
	dev_t *root_dev;
	ino_t *root_ino;
	/* Descriptors the readers may still hold open to read a batch ahead
	 * (records mode, reader.c), all readers of all devices together. */
	atomic_size_t ahead_left;
	/* A walker found the source slow to answer (producer.c): the readers
	 * take the walkers' batches, and a device's readers made from then on
	 * are READERS_FAR many unless -j said how many. */
	atomic_bool far;
	atomic_bool far_known;       /* a walker's batch has told near from far */
	atomic_size_t handed;        /* walkers' batches queued to the readers, each with a descriptor */
};

/** Whether the run is stopping (a source failure or a signal). */
bool stopping(struct copy *copy);

/**
 * Stop the run because of a source (or internal) failure, said by what or
 * else by strerror(err); the first reason wins.
 */
void stop_run_why(struct copy *copy, enum stop_reason reason, const char *path, int err,
		  const char *what);

/**
 * A source entry (path) could not be read, said by what or else by
 * strerror(err): with --keep-going it is reported and left out (and counted
 * for the summary), otherwise the run stops (stop_run_why, STOP_SOURCE).
 */
void source_error(struct copy *copy, const char *path, int err, const char *what);

/** Stop the run for why (len bytes), which was said already (by the other side). */
void stop_run_said(struct copy *copy, enum stop_reason reason, const char *why, size_t len);

/** stop_run_why without a what. */
void stop_run(struct copy *copy, enum stop_reason reason, const char *path, int err);

/** Whether dest has not failed. */
bool dest_ok(struct dest *dest);

/**
 * Mark dest failed (the first failure is reported at once and kept for the
 * summary; later ones are consequences and stay quiet).
 */
void dest_fail(struct dest *dest, const char *rel, size_t rel_len, int err, const char *what);

/** Add a file's delta (delta.h) to dest's tally. */
void dest_add_delta(struct dest *dest, const struct delta_count *count);

/** Mark dest failed for why, which was said already (by the remote side). */
void dest_fail_said(struct dest *dest, const char *why, size_t len);

/**
 * Say how many entries the walk's exclude set left out, if any: at the end
 * of a local run, and by a sending server before COMMIT (rdest_finish), so
 * that the client prints it as its own.
 */
void copy_say_excluded(struct copy *copy);


#endif
