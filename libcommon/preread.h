/* SPDX-License-Identifier: 0BSD */
/**
 * Reading a batch of small files with one system call (uring.h), for the
 * workers of phash and pverify. A worker hands preread_batch a batch of
 * files as two callbacks, one that opens a file and one that finishes it
 * (hashes, compares, reports). While files come from the page cache each is
 * opened, read and finished in turn, as a plain loop would do it: its one
 * read is a preadv2 that refuses to wait for the device (RWF_NOWAIT). The
 * first file that is not cached turns the worker cold: from then on a batch
 * is opened first, every small file of it (its whole content and one byte
 * more, to see the end) is read with one system call into one arena, and
 * then each is finished. On a cold cache that puts a batch's reads in flight
 * together (under one block-layer plug, which can merge neighbours: one
 * device doorbell and one sleep per batch instead of one per file); a batch
 * found all cached turns the worker warm again, since opening ahead costs
 * cache locality.
 *
 * The ring is made when a worker first turns cold (it costs a descriptor);
 * where the kernel has none or refuses it, files are read one by one.
 * preread_batch(NULL, ...) opens and finishes each file in turn, as with
 * PTOOLS_IO_URING=0 (preread_new then returns NULL).
 */
#ifndef PTOOLS_PREREAD_H
#define PTOOLS_PREREAD_H

#include "prelude.h"
#include <sys/stat.h>

/** Files per batch at most. */
#define PREREAD_FILES 32
/** Files larger than this are left to the normal read (and its readahead). */
#define PREREAD_FILE_MAX ((size_t)64 << 10)
/** Bytes read ahead per batch at most; files that do not fit are left. */
#define PREREAD_ARENA ((size_t)512 << 10)

/** A batch's files, as callbacks with the caller's context. */
struct preread_ops {
	/*
	 * Open file i for reading, with its fstat in *st. Returns the
	 * descriptor, or -1 when there is nothing to read (the caller has
	 * decided about file i already, or will open it itself).
	 */
	int (*open)(void *ctx, size_t i, struct stat *st);
	/*
	 * Finish file i: fd and st as open returned them (fd -1 if it did),
	 * and its first head_len bytes when they were read ahead (head NULL,
	 * head_len 0 if not). Called in order of i; closes fd.
	 */
	void (*finish)(void *ctx, size_t i, int fd, const struct stat *st, const void *head,
		       size_t head_len);
};

struct preread;

/** Returns NULL (errno set) when PTOOLS_IO_URING=0 or memory is short. */
struct preread *preread_new(void);

/** NULL-safe. */
void preread_free(struct preread *pr);

/**
 * The descriptors every read-ahead of a process together may hold, rings
 * included: a quarter of RLIMIT_NOFILE (the walker takes up to half, see
 * walk.c).
 */
size_t preread_budget(void);

/**
 * How many files each of `workers` threads may hold open for a batch:
 * PREREAD_FILES, or fewer so that all of them together, with a ring each,
 * hold at most a quarter of RLIMIT_NOFILE (the walker takes up to half, see
 * walk.c). 0 when even one would not fit: then nothing is read ahead.
 */
size_t preread_share(unsigned workers);

/**
 * Open and finish files 0..n-1 (n at most PREREAD_FILES) through ops, at
 * most `ahead` of them open at once (preread_share), reading the small ones
 * ahead as above. pr may be NULL; ahead 0 reads nothing ahead either.
 */
void preread_batch(struct preread *pr, size_t n, size_t ahead, const struct preread_ops *ops,
		   void *ctx);

/** Files read ahead through io_uring so far (the cold path), for tests. */
uint64_t preread_count(const struct preread *pr);

#endif
