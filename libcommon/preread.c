/* SPDX-License-Identifier: 0BSD */
#include "preread.h"

#include "uring.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/uio.h>

struct preread {
	struct uring *ring;   /* made when first needed (it costs a descriptor) */
	bool ring_failed;     /* could not be made, or broke: nothing is read ahead */
	unsigned char *arena; /* PREREAD_ARENA bytes */
	bool cold;            /* the last batch met a file not in the page cache */
	bool missed;          /* this batch has */
	bool batched;         /* the reads of the current files were submitted together */
	bool no_probe;        /* RWF_NOWAIT refused here: batch without probing */
	uint64_t together;    /* files read through the ring so far */
	size_t count;
	struct uring_read reads[PREREAD_FILES];
	bool taken[PREREAD_FILES];
};

size_t preread_budget(void)
{
	struct rlimit rl;
	rlim_t quarter = 1024 / 4;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		quarter = rl.rlim_cur == RLIM_INFINITY ? RLIM_INFINITY / 4 : rl.rlim_cur / 4;
	return quarter > SIZE_MAX ? SIZE_MAX : (size_t)quarter;
}

size_t preread_share(unsigned workers)
{
	size_t share = preread_budget() / (workers ? workers : 1);

	/* One of them is the ring's own descriptor. */
	share = share > 0 ? share - 1 : 0;
	return share > PREREAD_FILES ? PREREAD_FILES : share;
}

struct preread *preread_new(void)
{
	struct preread *pr;

	/* Off: callers read every file themselves, as without io_uring. */
	if (!uring_allowed()) {
		errno = ENOSYS;
		return NULL;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	/* Page-aligned, and every file at a cache line: the kernel's copy into
	 * an unaligned buffer ran at a quarter of its speed on an AMD host. */
	if (posix_memalign((void **)&pr->arena, 4096, PREREAD_ARENA) != 0) {
		free(pr);
		errno = ENOMEM;
		return NULL;
	}
	return pr;
}

void preread_free(struct preread *pr)
{
	if (!pr)
		return;
	uring_free(pr->ring);
	free(pr->arena);
	free(pr);
}

static void preread_files(struct preread *pr, const int *fds, const struct stat *sts, size_t n)
{
	size_t i, used = 0;

	pr->count = 0;
	pr->batched = false;
	if (pr->ring_failed)
		return;
	PT_ASSERT(n <= PREREAD_FILES);
	for (i = 0; i < n; i++) {
		/* One byte more than the size: a read that returns the size
		 * itself is short, so the end of the file has been seen. */
		size_t want = (size_t)sts[i].st_size + 1;
		size_t room = (want + 63) & ~(size_t)63;
		struct uring_read *read = &pr->reads[pr->count];

		if (fds[i] < 0 || !S_ISREG(sts[i].st_mode) || sts[i].st_size <= 0 ||
		    (uint64_t)sts[i].st_size > PREREAD_FILE_MAX || room > PREREAD_ARENA - used)
			continue;
		read->fd = fds[i];
		read->buf = pr->arena + used;
		read->len = want;
		read->offset = 0;
		read->result = -EAGAIN;
		pr->taken[pr->count++] = false;
		used += room;
	}
}

/* Submit the reads from entry first on together, and wait for them. */
static void read_batch(struct preread *pr, size_t first)
{
	pr->batched = true;
	if (!pr->ring && !pr->ring_failed) {
		pr->ring = uring_new(PREREAD_FILES);
		pr->ring_failed = !pr->ring;
	}
	/* Without a ring the results stay -EAGAIN: the caller reads. */
	if (!pr->ring)
		return;
	pr->missed = true;
	pr->together += pr->count - first;
	if (uring_read_all(pr->ring, pr->reads + first, pr->count - first) != 0) {
		uring_free(pr->ring);
		pr->ring = NULL;
		pr->ring_failed = true;
		pr->count = 0;
	}
}

/*
 * Read entry i alone if its pages are cached (RWF_NOWAIT): a warm file costs
 * the one pread it always did, and is hashed while its bytes are still in
 * the core's cache. The first that is not cached sends it and every later
 * entry of the batch to the device together.
 */
static void read_entry(struct preread *pr, size_t i)
{
	struct uring_read *read = &pr->reads[i];
	struct iovec iov = {.iov_base = pr->arena, .iov_len = read->len};
	ssize_t n;

	if (!pr->no_probe) {
		do
			n = preadv2(read->fd, &iov, 1, 0, RWF_NOWAIT);
		while (n < 0 && errno == EINTR);
		if (n >= 0 || errno != EAGAIN) {
			read->buf = pr->arena;
			read->result = n >= 0 ? n : -errno;
			/* Kernels or filesystems without RWF_NOWAIT (or
			 * preadv2): batch every time. */
			if (n >= 0 || (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS))
				return;
			pr->no_probe = true;
		}
	}
	read_batch(pr, i);
}

static bool preread_take(struct preread *pr, int fd, const void **data, size_t *len)
{
	size_t i;

	if (!pr)
		return false;
	for (i = 0; i < pr->count; i++) {
		const struct uring_read *read = &pr->reads[i];

		if (read->fd != fd || pr->taken[i])
			continue;
		pr->taken[i] = true;
		if (!pr->batched)
			read_entry(pr, i);
		if (i >= pr->count || read->result <= 0)
			return false;
		*data = read->buf;
		*len = (size_t)read->result;
		return true;
	}
	return false;
}

/* Take file i's head, if it was read ahead, and finish it. */
static void finish(struct preread *pr, size_t i, int fd, const struct stat *st,
		   const struct preread_ops *ops, void *ctx)
{
	const void *head = NULL;
	size_t len = 0;

	if (!pr || fd < 0 || !preread_take(pr, fd, &head, &len)) {
		head = NULL;
		len = 0;
	}
	ops->finish(ctx, i, fd, st, head, len);
}

/*
 * Files first..n-1, cold: open them (within the share of descriptors), read
 * the small ones together, finish each; files beyond the share are opened as
 * they are finished.
 */
static void batch_cold(struct preread *pr, size_t first, size_t n, size_t ahead,
		       const struct preread_ops *ops, void *ctx)
{
	int fds[PREREAD_FILES];
	struct stat sts[PREREAD_FILES];
	size_t i, opened = 0;

	if (first >= n)
		return;
	/* -2: not opened yet (beyond the share); -1: open said nothing to read. */
	for (i = first; i < n; i++) {
		fds[i] = opened < ahead ? ops->open(ctx, i, &sts[i]) : -2;
		if (fds[i] >= 0)
			opened++;
	}
	preread_files(pr, fds + first, sts + first, n - first);
	for (i = first; i < n; i++) {
		if (fds[i] == -2)
			fds[i] = ops->open(ctx, i, &sts[i]);
		finish(pr, i, fds[i], &sts[i], ops, ctx);
	}
}

void preread_batch(struct preread *pr, size_t n, size_t ahead, const struct preread_ops *ops,
		   void *ctx)
{
	size_t i = 0;

	PT_ASSERT(n <= PREREAD_FILES);
	/* No room for descriptors: every file read as it is finished. */
	if (ahead == 0)
		pr = NULL;
	if (pr)
		pr->missed = false;
	if (!pr || !pr->cold) {
		/* Warm (or no io_uring): one file at a time, until one is not
		 * in the page cache. */
		for (; i < n && !(pr && pr->missed); i++) {
			struct stat st;
			int fd = ops->open(ctx, i, &st);

			if (pr && fd >= 0)
				preread_files(pr, &fd, &st, 1);
			finish(pr, i, fd, &st, ops, ctx);
		}
	}
	if (i < n) {
		pr->missed = false;
		batch_cold(pr, i, n, ahead, ops, ctx);
	}
	if (pr)
		pr->cold = pr->missed;
}

uint64_t preread_count(const struct preread *pr)
{
	return pr ? pr->together : 0;
}
