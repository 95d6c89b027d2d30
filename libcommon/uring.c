/* SPDX-License-Identifier: 0BSD */
/*
 * io_uring through its two system calls, for two uses: a batch of reads,
 * or of stats, submitted together and waited for together. The rings are
 * shared with the kernel: the submission tail and completion head are ours (stored with
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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
	int *results;               /* one per entry: the completions' res */
	struct statx *stx;          /* one per entry, made by the first stat batch */
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

int uring_max_workers(struct uring *ring, unsigned workers)
{
	unsigned counts[2] = {workers, workers};   /* bounded, unbound */

	return syscall(__NR_io_uring_register, ring->fd, IORING_REGISTER_IOWQ_MAX_WORKERS,
		       counts, 2) < 0 ? -1 : 0;
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
	free(ring->results);
	free(ring->stx);
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
	ring->results = calloc(params.sq_entries, sizeof(*ring->results));
	ring->sq_map_len = params.sq_off.array + params.sq_entries * sizeof(unsigned);
	ring->cq_map_len = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
	ring->sqes_len = params.sq_entries * sizeof(struct io_uring_sqe);
	if (!ring->iov || !ring->results)
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
		ring->results[i] = -EIO;
	}
	__atomic_store_n(ring->sq_tail, tail + (unsigned)n, __ATOMIC_RELEASE);
}

/* Take every completion posted so far into ring->results. Returns how many. */
static size_t reap(struct uring *ring, size_t n)
{
	unsigned head = __atomic_load_n(ring->cq_head, __ATOMIC_RELAXED);
	unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
	size_t got = 0;

	for (; head != tail; head++, got++) {
		const struct io_uring_cqe *cqe = &ring->cqes[head & *ring->cq_mask];

		if (cqe->user_data < n)
			ring->results[cqe->user_data] = cqe->res;
	}
	__atomic_store_n(ring->cq_head, head, __ATOMIC_RELEASE);
	return got;
}

/*
 * Submit the n entries queued and wait until every one submitted has
 * completed, its res in ring->results. Returns 0, or -1 with errno when the
 * ring failed (what was not submitted keeps -EIO).
 */
static int submit_and_wait(struct uring *ring, size_t n)
{
	size_t submitted = 0, done = 0;
	int err = 0;
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
		done += reap(ring, n);
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

int uring_read_all(struct uring *ring, struct uring_read *reads, size_t n)
{
	int ret;

	PT_ASSERT(n <= ring->entries);
	if (n == 0)
		return 0;
	queue_reads(ring, reads, n);
	ret = submit_and_wait(ring, n);
	for (size_t i = 0; i < n; i++)
		reads[i].result = ring->results[i];
	return ret;
}

/* Queue stats[0..n) as IORING_OP_STATX into ring->stx. */
static void queue_stats(struct uring *ring, const struct uring_stat *stats, size_t n)
{
	unsigned tail = __atomic_load_n(ring->sq_tail, __ATOMIC_RELAXED);

	for (size_t i = 0; i < n; i++) {
		unsigned slot = (tail + (unsigned)i) & *ring->sq_mask;
		struct io_uring_sqe *sqe = &ring->sqes[slot];

		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_STATX;
		sqe->fd = stats[i].dirfd;
		sqe->addr = (uint64_t)(uintptr_t)stats[i].name;
		sqe->len = STATX_BASIC_STATS;
		/* fstatat never triggers an automount (the kernel adds
		 * AT_NO_AUTOMOUNT to it); statx does unless told. */
		sqe->statx_flags = (uint32_t)(stats[i].flags | AT_NO_AUTOMOUNT);
		sqe->off = (uint64_t)(uintptr_t)&ring->stx[i];   /* addr2: the buffer */
		sqe->user_data = i;
		ring->sq_array[slot] = slot;
		ring->results[i] = -EIO;
	}
	__atomic_store_n(ring->sq_tail, tail + (unsigned)n, __ATOMIC_RELEASE);
}

void uring_statx_to_stat(const struct statx *stx, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	st->st_ino = stx->stx_ino;
	st->st_mode = stx->stx_mode;
	st->st_nlink = stx->stx_nlink;
	st->st_uid = stx->stx_uid;
	st->st_gid = stx->stx_gid;
	st->st_rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
	st->st_size = (off_t)stx->stx_size;
	st->st_blksize = (blksize_t)stx->stx_blksize;
	st->st_blocks = (blkcnt_t)stx->stx_blocks;
	st->st_atim.tv_sec = stx->stx_atime.tv_sec;
	st->st_atim.tv_nsec = stx->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = stx->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = stx->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = stx->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = stx->stx_ctime.tv_nsec;
}

int uring_stat_all(struct uring *ring, struct uring_stat *stats, size_t n)
{
	int ret;

	PT_ASSERT(n <= ring->entries);
	if (n == 0)
		return 0;
	if (!ring->stx) {
		ring->stx = calloc(ring->entries, sizeof(*ring->stx));
		if (!ring->stx)
			return -1;
	}
	queue_stats(ring, stats, n);
	ret = submit_and_wait(ring, n);
	for (size_t i = 0; i < n; i++) {
		stats[i].error = ring->results[i] < 0 ? -ring->results[i] : 0;
		if (!stats[i].error)
			uring_statx_to_stat(&ring->stx[i], stats[i].st);
	}
	return ret;
}
