/* SPDX-License-Identifier: 0BSD */
/*
 * io_uring through its two system calls, for one use: a batch of reads
 * submitted together and waited for together. The rings are shared with the
 * kernel: the submission tail and completion head are ours (stored with
 * release, so the kernel sees the entries before the index), the submission
 * head and completion tail are the kernel's (loaded with acquire). IORING_OP_READV
 * rather than IORING_OP_READ: it is in every kernel with io_uring (5.1),
 * READ only from 5.6.
 */
#include "uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

struct uring {
	int fd;
	unsigned entries;
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	struct iovec *iov;          /* one per entry: READV's vectors */
	void *sq_map, *cq_map;      /* cq_map == sq_map with a single mapping */
	size_t sq_map_len, cq_map_len, sqes_len;
};

static int sys_setup(unsigned entries, struct io_uring_params *params)
{
	return (int)syscall(__NR_io_uring_setup, entries, params);
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static void unmap(void *map, size_t len)
{
	if (map && map != MAP_FAILED)
		munmap(map, len);
}

void uring_free(struct uring *ring)
{
	if (!ring)
		return;
	unmap(ring->sqes, ring->sqes_len);
	if (ring->cq_map != ring->sq_map)
		unmap(ring->cq_map, ring->cq_map_len);
	unmap(ring->sq_map, ring->sq_map_len);
	if (ring->fd >= 0)
		close(ring->fd);
	free(ring->iov);
	free(ring);
}

static void *map_ring(int fd, size_t len, off_t what)
{
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, what);

	return map == MAP_FAILED ? NULL : map;
}

bool uring_allowed(void)
{
	const char *env = getenv("PTOOLS_IO_URING");

	return !(env && strcmp(env, "0") == 0);
}

struct uring *uring_new(unsigned entries)
{
	struct io_uring_params params;
	struct uring *ring;
	char *sq, *cq;

	if (!uring_allowed()) {
		errno = ENOSYS;
		return NULL;
	}
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return NULL;
	memset(&params, 0, sizeof(params));
	ring->fd = sys_setup(entries, &params);
	if (ring->fd < 0)
		goto fail;
	ring->entries = params.sq_entries;
	ring->iov = calloc(params.sq_entries, sizeof(*ring->iov));
	ring->sq_map_len = params.sq_off.array + params.sq_entries * sizeof(unsigned);
	ring->cq_map_len = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
	ring->sqes_len = params.sq_entries * sizeof(struct io_uring_sqe);
	if (!ring->iov)
		goto fail;
	if (params.features & IORING_FEAT_SINGLE_MMAP) {
		if (ring->cq_map_len > ring->sq_map_len)
			ring->sq_map_len = ring->cq_map_len;
		ring->cq_map_len = ring->sq_map_len;
		ring->sq_map = ring->cq_map = map_ring(ring->fd, ring->sq_map_len, IORING_OFF_SQ_RING);
	} else {
		ring->sq_map = map_ring(ring->fd, ring->sq_map_len, IORING_OFF_SQ_RING);
		ring->cq_map = map_ring(ring->fd, ring->cq_map_len, IORING_OFF_CQ_RING);
	}
	ring->sqes = map_ring(ring->fd, ring->sqes_len, IORING_OFF_SQES);
	if (!ring->sq_map || !ring->cq_map || !ring->sqes)
		goto fail;
	sq = ring->sq_map;
	cq = ring->cq_map;
	ring->sq_tail = (unsigned *)(sq + params.sq_off.tail);
	ring->sq_mask = (unsigned *)(sq + params.sq_off.ring_mask);
	ring->sq_array = (unsigned *)(sq + params.sq_off.array);
	ring->cq_head = (unsigned *)(cq + params.cq_off.head);
	ring->cq_tail = (unsigned *)(cq + params.cq_off.tail);
	ring->cq_mask = (unsigned *)(cq + params.cq_off.ring_mask);
	ring->cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
	return ring;
fail:
	{
		int err = errno;

		uring_free(ring);
		errno = err;
	}
	return NULL;
}

/* Queue reads[0..n) behind the kernel's back: visible at the tail's store. */
static void queue_reads(struct uring *ring, struct uring_read *reads, size_t n)
{
	unsigned tail = __atomic_load_n(ring->sq_tail, __ATOMIC_RELAXED);
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned slot = (tail + (unsigned)i) & *ring->sq_mask;
		struct io_uring_sqe *sqe = &ring->sqes[slot];

		ring->iov[i].iov_base = reads[i].buf;
		ring->iov[i].iov_len = reads[i].len;
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_READV;
		sqe->fd = reads[i].fd;
		sqe->addr = (uint64_t)(uintptr_t)&ring->iov[i];
		sqe->len = 1;
		sqe->off = reads[i].offset;
		sqe->user_data = i;
		ring->sq_array[slot] = slot;
		reads[i].result = -EIO;
	}
	__atomic_store_n(ring->sq_tail, tail + (unsigned)n, __ATOMIC_RELEASE);
}

/* Take every completion posted so far. Returns how many. */
static size_t reap(struct uring *ring, struct uring_read *reads, size_t n)
{
	unsigned head = __atomic_load_n(ring->cq_head, __ATOMIC_RELAXED);
	unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
	size_t got = 0;

	for (; head != tail; head++, got++) {
		const struct io_uring_cqe *cqe = &ring->cqes[head & *ring->cq_mask];

		if (cqe->user_data < n)
			reads[cqe->user_data].result = cqe->res;
	}
	__atomic_store_n(ring->cq_head, head, __ATOMIC_RELEASE);
	return got;
}

int uring_read_all(struct uring *ring, struct uring_read *reads, size_t n)
{
	size_t submitted = 0, done = 0;
	int err = 0;

	PT_ASSERT(n <= ring->entries);
	if (n == 0)
		return 0;
	queue_reads(ring, reads, n);
	/* Submit and wait in one call, again after a signal. A submission
	 * refused outright (the kernel short of memory, say) leaves the rest
	 * queued, so the ring is spent: the caller frees it and reads file by
	 * file. A short submission (an entry the kernel rejected, with its
	 * completion posted) returns without waiting; the rest is submitted. */
	while (submitted < n) {
		int ret = sys_enter(ring->fd, (unsigned)(n - submitted), (unsigned)(n - submitted),
				    IORING_ENTER_GETEVENTS);

		if (ret > 0) {
			submitted += (size_t)ret;
		} else if (ret < 0 && errno == EINTR) {
			continue;
		} else {
			err = ret < 0 ? errno : EIO;
			break;
		}
	}
	/* Whatever was submitted must complete before the buffers go back. */
	for (;;) {
		done += reap(ring, reads, n);
		if (done >= submitted)
			break;
		/* Only EINTR (a signal) can stop a wait with reads in flight;
		 * anything else is a broken ring, and returning would hand back
		 * buffers the kernel may still write. */
		if (sys_enter(ring->fd, 0, (unsigned)(submitted - done), IORING_ENTER_GETEVENTS) < 0 &&
		    errno != EINTR && errno != EAGAIN && errno != EBUSY)
			PT_ASSERT(!"io_uring_enter failed while reads were in flight");
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
