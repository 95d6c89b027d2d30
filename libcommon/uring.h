/* SPDX-License-Identifier: 0BSD */
/**
 * A batch of reads in one system call, through the kernel's io_uring (raw
 * system calls: no liburing). The point is not asynchrony but batching: the
 * reads of a batch enter the block layer under one plug, so a cold batch of
 * small files becomes a handful of device requests and doorbells instead of
 * one each, and the thread sleeps once per batch instead of once per file.
 *
 * Where the kernel has no io_uring, or refuses it (seccomp in containers,
 * kernel.io_uring_disabled), or the environment says PTOOLS_IO_URING=0,
 * uring_new fails and callers read file by file as before.
 *
 * A batch of stats (IORING_OP_STATX, from Linux 5.6) is different: the kernel
 * runs each blocking statx in its own worker threads, so the stats of a batch
 * are all in flight at once, which is what a filesystem far away (a network
 * mount, FUSE) needs; on a warm cache the hand-off to those workers costs
 * more than the stat, so callers batch only once stats are seen to block.
 *
 * One struct uring belongs to one thread at a time.
 */
#ifndef PTOOLS_URING_H
#define PTOOLS_URING_H

#include "prelude.h"
#include <sys/stat.h>
#include <sys/types.h>

/** One read of a batch: fill fd, buf, len and offset; result comes back. */
struct uring_read {
	int fd;
	void *buf;
	size_t len;
	uint64_t offset;
	ssize_t result;    /* bytes read, or -errno */
};

/**
 * One stat of a batch: fill dirfd, name (relative to dirfd, as fstatat
 * takes it), flags (0 or AT_SYMLINK_NOFOLLOW) and st (where the result
 * goes); error comes back: 0 with *st set, or an errno value (*st untouched).
 * name and st are the caller's and must stay valid until the call returns.
 */
struct uring_stat {
	int dirfd;
	const char *name;
	int flags;
	struct stat *st;
	int error;
};

struct uring;

/** False when the environment says PTOOLS_IO_URING=0. */
bool uring_allowed(void);

/**
 * A ring for batches of up to entries reads. Returns NULL with errno when
 * io_uring is unavailable, refused or switched off (PTOOLS_IO_URING=0).
 */
struct uring *uring_new(unsigned entries);

/** Free a ring; NULL-safe. Never called with reads in flight (uring_read_all waits). */
void uring_free(struct uring *ring);

/**
 * Submit reads[0..n) (n at most the ring's entries) with one system call and
 * wait until every one has completed; each result is then set. Returns 0, or
 * -1 with errno when the ring itself failed: the results are then unusable
 * (each is -EIO or better) and the ring must be freed. Never returns with a
 * read still in flight, so the buffers are the caller's again either way.
 */
int uring_read_all(struct uring *ring, struct uring_read *reads, size_t n);

/**
 * Let the kernel run up to workers blocking operations of this thread's
 * rings at once (IORING_REGISTER_IOWQ_MAX_WORKERS, Linux 5.15): by default
 * it runs statx, which it counts with reads of regular files, on at most
 * four workers per core, fewer than a batch of stats far away wants.
 * Returns 0, or -1 with errno (an older kernel: the default stays).
 */
int uring_max_workers(struct uring *ring, unsigned workers);

/**
 * Stat stats[0..n) (n at most the ring's entries) with one system call, all
 * of them in flight at once, and wait until every one has completed; each
 * error (and on success its st) is then set, exactly as fstatat(dirfd, name,
 * st, flags) would have set them. Returns 0, or -1 with errno when the ring
 * itself failed (or had no memory for its buffers): the results are then
 * unusable and the ring must be freed. Never returns with a stat in flight.
 */
int uring_stat_all(struct uring *ring, struct uring_stat *stats, size_t n);

/**
 * Convert what statx returned into the struct stat that fstatat would have
 * filled, field by field as glibc does where it implements fstatat with
 * statx (device numbers through makedev, times with their nanoseconds).
 */
void uring_statx_to_stat(const struct statx *stx, struct stat *st);

#endif
