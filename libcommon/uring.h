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
 * One struct uring belongs to one thread at a time.
 */
#ifndef PTOOLS_URING_H
#define PTOOLS_URING_H

#include "prelude.h"
#include <sys/types.h>

/** One read of a batch: fill fd, buf, len and offset; result comes back. */
struct uring_read {
	int fd;
	void *buf;
	size_t len;
	uint64_t offset;
	ssize_t result;    /* bytes read, or -errno */
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

#endif
