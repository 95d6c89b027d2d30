/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of the batched reads (uring.h, preread.h) and of hashing from
 * bytes read ahead (hashio_fd_head). Where the kernel has no io_uring (or
 * refuses it), only the fallback is checked: preread_new must say so.
 */
#include "prelude.h"
#include "unit.h"
#include "hash.h"
#include "hashio.h"
#include "hashreg.h"
#include "preread.h"
#include "uring.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Write a file of len bytes of pattern seed at path. */
static bool pattern_file(const char *path, size_t len, unsigned seed)
{
	unsigned char *data = malloc(len + 1);
	bool ok;
	size_t i;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || !data) {
		free(data);
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 31 + seed);
	ok = !len || write(fd, data, len) == (ssize_t)len;
	ok = fsync(fd) == 0 && ok;
	close(fd);
	free(data);
	return ok;
}

static bool no_io_uring(int err)
{
	/* Kernels without it, seccomp filters, kernel.io_uring_disabled. */
	return err == ENOSYS || err == EPERM || err == EACCES || err == EINVAL;
}

UNIT_TEST(uring_reads_a_batch_and_reports_each_result)
{
	struct uring *ring = uring_new(4);
	char path[] = "/tmp/zzprXXXXXX";
	unsigned char a[100], b[100];
	struct uring_read reads[3];
	int fd;
	size_t i;

	if (!ring) {
		EXPECT(no_io_uring(errno));
		return;
	}
	fd = mkstemp(path);
	EXPECT(fd >= 0 && pattern_file(path, 5000, 7));
	reads[0] = (struct uring_read){.fd = fd, .buf = a, .len = sizeof(a), .offset = 0};
	reads[1] = (struct uring_read){.fd = fd, .buf = b, .len = sizeof(b), .offset = 4950};
	reads[2] = (struct uring_read){.fd = -1, .buf = b, .len = 1, .offset = 0};
	EXPECT(uring_read_all(ring, reads, 3) == 0);
	EXPECT(reads[0].result == 100);
	EXPECT(reads[1].result == 50); /* short: the end of the file */
	EXPECT(reads[2].result == -EBADF);
	for (i = 0; i < 50; i++)
		EXPECT(a[i] == (unsigned char)(i * 31 + 7) && b[i] == (unsigned char)((4950 + i) * 31 + 7));
	/* The ring is reused, batch after batch. */
	for (i = 0; i < 40; i++) {
		reads[0].result = 0;
		EXPECT(uring_read_all(ring, reads, 1) == 0 && reads[0].result == 100);
	}
	uring_free(ring);
	close(fd);
	unlink(path);
}

UNIT_TEST(uring_is_off_when_the_environment_says_so)
{
	const char *was = getenv("PTOOLS_IO_URING");
	char *saved = was ? strdup(was) : NULL;

	setenv("PTOOLS_IO_URING", "0", 1);
	EXPECT(uring_new(4) == NULL && errno == ENOSYS);
	EXPECT(preread_new() == NULL);
	if (saved)
		setenv("PTOOLS_IO_URING", saved, 1);
	else
		unsetenv("PTOOLS_IO_URING");
	free(saved);
}

/* The files of a test batch and what finish saw of each. */
struct files {
	struct hashio *engine;
	char dir[64];
	char paths[PREREAD_FILES][96];
	size_t sizes[PREREAD_FILES];
	size_t n;
	int change;           /* in open: 1 append, -1 truncate, after the fstat */
	size_t heads[PREREAD_FILES];
	bool changed[PREREAD_FILES];
	char hex[PREREAD_FILES][HASH_HEX_MAX + 1];
	size_t finished;
};

static int open_file(void *ctx, size_t i, struct stat *st)
{
	struct files *f = ctx;
	int fd = open(f->paths[i], O_RDONLY);

	if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (f->change) {
		int w = open(f->paths[i], O_WRONLY | O_APPEND);

		EXPECT(w >= 0);
		if (f->change > 0)
			EXPECT(write(w, "more", 4) == 4);
		else
			EXPECT(ftruncate(w, st->st_size / 2) == 0);
		close(w);
	}
	return fd;
}

static void finish_file(void *ctx, size_t i, int fd, const struct stat *st, const void *head,
			size_t len)
{
	struct files *f = ctx;
	struct hashio_result result;

	EXPECT(i == f->finished++);
	f->heads[i] = head ? len : 0;
	EXPECT(!head == !len);
	f->hex[i][0] = '\0';
	if (fd < 0)
		return;
	EXPECT(hashio_fd(f->engine, fd, st, head, len, NULL, NULL, &result) == 0);
	memcpy(f->hex[i], result.hex[0], sizeof(f->hex[i]));
	f->changed[i] = result.changed;
	close(fd);
}

/* sha256 of path by the normal read. */
static void plain_hex(struct files *f, const char *path, char hex[HASH_HEX_MAX + 1])
{
	struct hashio_result result;

	EXPECT(hashio_file_at(f->engine, AT_FDCWD, path, 0, &result) == 0);
	memcpy(hex, result.hex[0], sizeof(result.hex[0]));
}

/* Drop the files' pages; true if the first is then really not cached. */
static bool evict(struct files *f)
{
	unsigned char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	bool cold = false;
	size_t i;

	for (i = 0; i < f->n; i++) {
		int fd = open(f->paths[i], O_RDONLY);

		if (fd < 0)
			continue;
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (i == 0)
			cold = preadv2(fd, &iov, 1, 0, RWF_NOWAIT) < 0 && errno == EAGAIN;
		close(fd);
	}
	return cold;
}

static bool make_files(struct files *f, struct hashio *engine)
{
	/* small ones, empty, one over the size limit, a directory, the rest small */
	const size_t sizes[] = {3000, 1, 0, PREREAD_FILE_MAX + 1, 0, 100, 70000 - 1, 5};
	size_t i;

	memset(f, 0, sizeof(*f));
	f->engine = engine;
	/* Not /tmp: a tmpfs cannot drop its pages, and the cold path needs that. */
	snprintf(f->dir, sizeof(f->dir), "/var/tmp/zzprXXXXXX");
	if (!mkdtemp(f->dir))
		return false;
	f->n = countof(sizes);
	for (i = 0; i < f->n; i++) {
		snprintf(f->paths[i], sizeof(f->paths[i]), "%s/f%zu", f->dir, i);
		f->sizes[i] = sizes[i];
		if (i == 4 ? mkdir(f->paths[i], 0700) != 0 : !pattern_file(f->paths[i], sizes[i], (unsigned)i))
			return false;
	}
	return true;
}

static void remove_files(struct files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		i == 4 ? rmdir(f->paths[i]) : unlink(f->paths[i]);
	rmdir(f->dir);
}

/* Every file finished in order, small regular ones with their whole content. */
static void expect_batch(struct files *f, bool cold)
{
	size_t i;

	EXPECT(f->finished == f->n);
	for (i = 0; i < f->n; i++) {
		char want[HASH_HEX_MAX + 1];
		bool small = i != 4 && f->sizes[i] > 0 && f->sizes[i] <= PREREAD_FILE_MAX;

		/* Warm, a file is read ahead by the probe; cold, by the ring. */
		EXPECT(f->heads[i] == (small ? f->sizes[i] : 0) || cold);
		if (i == 4)
			continue;
		plain_hex(f, f->paths[i], want);
		EXPECT(strcmp(f->hex[i], want) == 0);
		EXPECT(!f->changed[i]);
	}
	f->finished = 0;
}

/* Without a preread: every file opened and finished, nothing read ahead. */
static void expect_one_by_one(struct files *f, const struct preread_ops *ops)
{
	preread_batch(NULL, f->n, PREREAD_FILES, ops, f);
	EXPECT(f->finished == f->n);
	for (size_t i = 0; i < f->n; i++)
		EXPECT(f->heads[i] == 0);
}

UNIT_TEST(preread_batches_give_each_file_its_bytes_warm_and_cold)
{
	const struct hash_algo *sha256 = hash_lookup("sha256");
	struct hashio_config config = {.algos = &sha256, .count = 1, .serial = true};
	static const struct preread_ops ops = {.open = open_file, .finish = finish_file};
	struct hashio *engine = hashio_new(&config);
	struct preread *pr = preread_new();
	struct uring *probe = uring_new(1);
	bool have_ring = probe != NULL;
	struct files f;
	uint64_t before;
	size_t i;

	uring_free(probe);
	EXPECT(engine && make_files(&f, engine));
	if (!uring_allowed()) {
		/* Switched off (make valgrind, whose memcheck cannot see the
		 * kernel fill a buffer through the ring): no preread, and every
		 * file is opened and finished all the same. */
		EXPECT(pr == NULL);
		expect_one_by_one(&f, &ops);
		remove_files(&f);
		hashio_free(engine);
		return;
	}
	EXPECT(engine != NULL && pr != NULL);
	/* Warm: each file read alone; nothing through the ring. */
	preread_batch(pr, f.n, PREREAD_FILES, &ops, &f);
	expect_batch(&f, false);
	EXPECT(preread_count(pr) == 0);
	/* Cold: the first miss sends the rest of the batch to the ring, and the
	 * next batch is opened ahead (here with only 3 open at once). */
	for (i = 0; i < 2; i++) {
		bool went = false;

		/* Another job on the machine can bring a page back between the
		 * eviction and the read: a few tries, each evicted anew. */
		for (int tries = 0; tries < 5 && !went; tries++) {
			bool cold = evict(&f);

			before = preread_count(pr);
			preread_batch(pr, f.n, i == 0 ? PREREAD_FILES : 3, &ops, &f);
			expect_batch(&f, true);
			went = !cold || !have_ring || preread_count(pr) > before;
		}
		EXPECT(went);
	}
	/* A warm batch after cold ones: back to one file at a time. */
	for (i = 0; i < 3; i++) {
		before = preread_count(pr);
		preread_batch(pr, f.n, PREREAD_FILES, &ops, &f);
		expect_batch(&f, true);
	}
	EXPECT(preread_count(pr) == before);
	expect_one_by_one(&f, &ops);
	remove_files(&f);
	preread_free(pr);
	hashio_free(engine);
}

UNIT_TEST(a_file_that_grows_or_shrinks_after_its_fstat_is_marked_changed)
{
	const struct hash_algo *sha256 = hash_lookup("sha256");
	struct hashio_config config = {.algos = &sha256, .count = 1, .serial = true};
	static const struct preread_ops ops = {.open = open_file, .finish = finish_file};
	struct hashio *engine = hashio_new(&config);
	struct preread *pr = preread_new();
	struct files f;
	int pass;

	/* Switched off (make valgrind): the read-ahead is tested where it is on. */
	if (!uring_allowed()) {
		EXPECT(pr == NULL);
		hashio_free(engine);
		return;
	}
	EXPECT(pr != NULL);
	EXPECT(engine && make_files(&f, engine));
	/* Grown and shrunk, warm and cold: marked, with the digest of every
	 * byte there was to read. */
	for (pass = 0; pass < 4; pass++) {
		size_t i;

		if (pass >= 2)
			evict(&f);
		f.change = pass % 2 ? -1 : 1;
		f.n = 2; /* two small files */
		preread_batch(pr, f.n, PREREAD_FILES, &ops, &f);
		EXPECT(f.finished == f.n);
		for (i = 0; i < f.n; i++) {
			char want[HASH_HEX_MAX + 1];

			EXPECT(f.changed[i]);
			plain_hex(&f, f.paths[i], want);
			EXPECT(strcmp(f.hex[i], want) == 0);
		}
		f.finished = 0;
	}
	f.n = 8;
	remove_files(&f);
	preread_free(pr);
	hashio_free(engine);
}

/* Whether two stats agree on every field fstatat fills. */
static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_rdev == b->st_rdev && a->st_size == b->st_size &&
	       a->st_blksize == b->st_blksize && a->st_blocks == b->st_blocks &&
	       a->st_atim.tv_sec == b->st_atim.tv_sec && a->st_atim.tv_nsec == b->st_atim.tv_nsec &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

UNIT_TEST(uring_stats_a_batch_as_fstatat_does)
{
	/* Each name with and without following, against fstatat. */
	static const char *const names[] = {
		"file", "dir", "link", "broken", "fifo", "missing", "null",
	};
	struct uring *ring = uring_new(16);
	char dir[] = "/tmp/zzstXXXXXX";
	struct uring_stat stats[2 * countof(names)];
	struct stat got[2 * countof(names)], want;
	int dfd;
	size_t i;

	if (!ring) {
		EXPECT(no_io_uring(errno));
		return;
	}
	EXPECT(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	EXPECT(dfd >= 0);
	EXPECT(close(openat(dfd, "file", O_WRONLY | O_CREAT, 0640)) == 0);
	EXPECT(mkdirat(dfd, "dir", 0750) == 0);
	EXPECT(symlinkat("file", dfd, "link") == 0);
	EXPECT(symlinkat("nowhere", dfd, "broken") == 0);
	EXPECT(mkfifoat(dfd, "fifo", 0600) == 0);
	EXPECT(symlinkat("/dev/null", dfd, "null") == 0);   /* a device: st_rdev */
	/* Following a link reads it, which sets its atime (relatime) while
	 * that is not after its mtime and ctime: put it after both, so that
	 * no stat below races with an update. */
	for (i = 0; i < countof(names); i++) {
		struct timespec times[2] = {{time(NULL) + 3600, 0}, {time(NULL) - 3600, 0}};

		if (strcmp(names[i], "missing") != 0)
			EXPECT(utimensat(dfd, names[i], times, AT_SYMLINK_NOFOLLOW) == 0);
	}
	for (i = 0; i < countof(stats); i++) {
		stats[i] = (struct uring_stat){
			.dirfd = dfd, .name = names[i % countof(names)],
			.flags = i < countof(names) ? 0 : AT_SYMLINK_NOFOLLOW,
			.st = &got[i], .error = -1,
		};
	}
	EXPECT(uring_stat_all(ring, stats, countof(stats)) == 0);
	for (i = 0; i < countof(stats); i++) {
		int error = fstatat(dfd, stats[i].name, &want, stats[i].flags) == 0 ? 0 : errno;

		EXPECT(stats[i].error == error);
		if (!error && !same_stat(&got[i], &want))
			unit_fail(stats[i].name, __FILE__, __LINE__);
	}
	/* Through the link to a device, the device's numbers. */
	EXPECT(S_ISCHR(got[6].st_mode) && got[6].st_rdev == makedev(1, 3));
	EXPECT(stats[3].error == ENOENT && stats[5].error == ENOENT);
	uring_free(ring);
	for (i = 0; i < countof(names); i++)
		unlinkat(dfd, names[i], !strcmp(names[i], "dir") ? AT_REMOVEDIR : 0);
	close(dfd);
	rmdir(dir);
}
