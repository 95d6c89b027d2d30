/* SPDX-License-Identifier: 0BSD */
/**
 * An LD_PRELOAD shim for pcopy's tests: write(2) and pwrite(2) to files under
 * the directory EIO_SHIM_PREFIX fail with EIO once EIO_SHIM_AFTER bytes (default
 * 0) have gone to such files, except files whose path contains
 * EIO_SHIM_SPARE (e.g. the journal). With EIO_SHIM_DELAY_US, every such write
 * first sleeps that long instead (a slow destination, to kill a copy midway),
 * and with EIO_SHIM_PEAK=FILE the most such writes asleep at once is written
 * to FILE at exit (how many files the copy kept in flight).
 * With EIO_SHIM_SPIN_US, every such write first spins on the CPU that long
 * instead, never sleeping: slow as on a busy machine, not as far storage.
 * With EIO_SHIM_CORRUPT=1, such writes succeed but store their first byte
 * inverted (a silently corrupting disk, for --verify).
 * With EIO_SHIM_HOLD=NAME, a pread(2) of a file named NAME (anywhere) waits
 * until the file EIO_SHIM_RELEASE exists (a source on a stuck device).
 * With EIO_SHIM_BAD_READ=NAME, a pread(2) of a file named NAME that reaches
 * past byte EIO_SHIM_BAD_OFFSET (default 0) fails with EIO (a bad sector).
 * With EIO_SHIM_SHORT_READ=NAME, each pread(2) of a file named NAME returns
 * at most 4097 bytes (what a network filesystem may do).
 * With EIO_SHIM_VANISH=NAME, the first fstatat(2) of an entry named NAME (its
 * last path component) removes it first: the entry vanishes between the
 * readdir that listed it and the stat (a tree being changed, /proc). With
 * EIO_SHIM_VANISH_LATE=NAME it is removed just after that stat succeeds:
 * gone before a readlink(2), or before the directory is opened.
 * With EIO_SHIM_KILL_RENAME=SUFFIX, a renameat(2) or renameat2(2) to a name ending in SUFFIX
 * kills the process (SIGKILL) just before it renames, or, with
 * EIO_SHIM_KILL_AFTER=1, just after: a crash at a chosen step of sealing.
 * With EIO_SHIM_NO_PIPE=1, pipe(2) and pipe2(2) fail with EMFILE (out of
 * descriptors: what a program must get by without).
 * Built by tests/test_helper.bash's build_shim with cc -shared -fPIC.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static atomic_long written;
static atomic_long asleep, asleep_peak;

/* The path fd was opened by (PATH_MAX bytes), from /proc; 0, or -1 if unknown. */
static int fd_path(int fd, char *path)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, PATH_MAX - 1);
	if (n < 0)
		return -1;
	path[n] = '\0';
	return 0;
}

/* Whether fd is a file under the prefix that the shim should act on. */
static int targeted(int fd)
{
	const char *prefix = getenv("EIO_SHIM_PREFIX"), *spare = getenv("EIO_SHIM_SPARE");
	char path[PATH_MAX];
	size_t plen;

	if (!prefix || !*prefix || fd_path(fd, path) != 0)
		return 0;
	plen = strlen(prefix);
	if (strncmp(path, prefix, plen) != 0 || (path[plen] != '/' && path[plen] != '\0'))
		return 0;
	if (spare && *spare && strstr(path, spare))
		return 0;
	return 1;
}

/* Spin on the CPU for us microseconds of the thread's own CPU time. */
static void spin_for(unsigned long us)
{
	struct timespec start, now;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	while ((unsigned long)((now.tv_sec - start.tv_sec) * 1000000L +
			       (now.tv_nsec - start.tv_nsec) / 1000) < us);
}

/*
 * Decide for a write of len bytes: 0 to let it through, 1 to corrupt it, -1
 * to fail it with EIO.
 */
static int intercept(int fd, size_t len)
{
	const char *after = getenv("EIO_SHIM_AFTER"), *delay = getenv("EIO_SHIM_DELAY_US");
	const char *corrupt = getenv("EIO_SHIM_CORRUPT"), *spin = getenv("EIO_SHIM_SPIN_US");

	if (!targeted(fd))
		return 0;
	if (corrupt && *corrupt == '1')
		return len > 0 ? 1 : 0;
	if (delay && *delay) {
		long now = atomic_fetch_add(&asleep, 1) + 1, peak = atomic_load(&asleep_peak);

		while (now > peak && !atomic_compare_exchange_weak(&asleep_peak, &peak, now))
			;
		usleep((useconds_t)strtoul(delay, NULL, 10));
		atomic_fetch_sub(&asleep, 1);
		return 0;
	}
	if (spin && *spin) {
		spin_for(strtoul(spin, NULL, 10));
		return 0;
	}
	if (atomic_fetch_add(&written, (long)len) + (long)len <= (after ? atol(after) : 0))
		return 0;
	errno = EIO;
	return -1;
}

/* At exit: the most delayed writes asleep at once, to EIO_SHIM_PEAK. */
__attribute__((destructor)) static void write_peak(void)
{
	const char *file = getenv("EIO_SHIM_PEAK");
	FILE *f;

	if (!file || !*file || !(f = fopen(file, "w")))
		return;
	fprintf(f, "%ld\n", atomic_load(&asleep_peak));
	fclose(f);
}

/* Write a copy of buf with its first byte inverted, through write or pwrite. */
static ssize_t corrupted(ssize_t (*write_fn)(int, const void *, size_t), int fd,
			 const void *buf, size_t len, off_t offset,
			 ssize_t (*pwrite_fn)(int, const void *, size_t, off_t))
{
	char *copy = malloc(len);
	ssize_t n;

	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(copy, buf, len);
	copy[0] = (char)~copy[0];
	n = write_fn ? write_fn(fd, copy, len) : pwrite_fn(fd, copy, len, offset);
	free(copy);
	return n;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	switch (intercept(fd, len)) {
	case -1: return -1;
	case 1: return corrupted(real, fd, buf, len, 0, 0);
	}
	return real(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t offset)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	switch (intercept(fd, len)) {
	case -1: return -1;
	case 1: return corrupted(NULL, fd, buf, len, offset, real);
	}
	return real(fd, buf, len, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t offset)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	switch (intercept(fd, len)) {
	case -1: return -1;
	case 1: return corrupted(NULL, fd, buf, len, offset, real);
	}
	return real(fd, buf, len, offset);
}

/* Whether fd is a file whose last path component is the value of variable env. */
static int named(int fd, const char *env)
{
	const char *name = getenv(env);
	char path[PATH_MAX];
	const char *base;

	if (!name || !*name || fd_path(fd, path) != 0)
		return 0;
	base = strrchr(path, '/');
	return strcmp(base ? base + 1 : path, name) == 0;
}

/*
 * Before a pread of len bytes at offset: wait while fd is the held file;
 * return -1 (EIO) for a read reaching the bad offset of the bad file, else
 * the length to read (shortened for the short-read file).
 */
static ssize_t before_read(int fd, size_t len, off_t offset)
{
	const char *release = getenv("EIO_SHIM_RELEASE"), *bad = getenv("EIO_SHIM_BAD_OFFSET");
	struct stat st;

	if (release && *release && named(fd, "EIO_SHIM_HOLD")) {
		while (stat(release, &st) != 0)
			usleep(10000);
	}
	if (named(fd, "EIO_SHIM_BAD_READ") && offset + (off_t)len > (bad ? atoll(bad) : 0)) {
		errno = EIO;
		return -1;
	}
	if (len > 4097 && named(fd, "EIO_SHIM_SHORT_READ"))
		return 4097;
	return (ssize_t)len;
}

ssize_t pread(int fd, void *buf, size_t len, off_t offset)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	ssize_t n = before_read(fd, len, offset);

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
	return n < 0 ? -1 : real(fd, buf, (size_t)n, offset);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t offset)
{
	static ssize_t (*real)(int, void *, size_t, off_t);
	ssize_t n = before_read(fd, len, offset);

	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
	return n < 0 ? -1 : real(fd, buf, (size_t)n, offset);
}

static atomic_int vanished;

/* Whether path's last component is the value of variable env. */
static int names(const char *env, const char *path)
{
	const char *name = getenv(env), *base = strrchr(path, '/');

	return name && *name && strcmp(base ? base + 1 : path, name) == 0;
}

/* Remove path (relative to dirfd), a file or an empty directory, once per process. */
static void vanish(int dirfd, const char *path)
{
	int saved = errno;

	if (!atomic_exchange(&vanished, 1) && unlinkat(dirfd, path, 0) != 0 && errno == EISDIR)
		unlinkat(dirfd, path, AT_REMOVEDIR);
	errno = saved;
}

typedef int stat_at_fn(int, const char *, void *, int);

static int stat_at(stat_at_fn *real, int dirfd, const char *path, void *st, int flags)
{
	int ret;

	if (names("EIO_SHIM_VANISH", path))
		vanish(dirfd, path);
	ret = real(dirfd, path, st, flags);
	if (ret == 0 && names("EIO_SHIM_VANISH_LATE", path))
		vanish(dirfd, path);
	return ret;
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	static stat_at_fn *real;

	if (!real)
		real = (stat_at_fn *)dlsym(RTLD_NEXT, "fstatat");
	return stat_at(real, dirfd, path, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	static stat_at_fn *real;

	if (!real)
		real = (stat_at_fn *)dlsym(RTLD_NEXT, "fstatat64");
	return stat_at(real, dirfd, path, st, flags);
}

/* Whether name ends in the value of EIO_SHIM_KILL_RENAME. */
static int kill_target(const char *name)
{
	const char *suffix = getenv("EIO_SHIM_KILL_RENAME");
	size_t n, len = strlen(name);

	if (!suffix || !*suffix)
		return 0;
	n = strlen(suffix);
	return len >= n && strcmp(name + len - n, suffix) == 0;
}

/* Before a rename to new: kill now, or tell the caller to after it. */
static int kill_before(const char *new)
{
	const char *after = getenv("EIO_SHIM_KILL_AFTER");

	if (!kill_target(new))
		return 0;
	if (!(after && *after == '1'))
		raise(SIGKILL);
	return 1;
}

int renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned);
	int kill_after = kill_before(new), ret;

	if (!real)
		real = (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT,
										  "renameat2");
	ret = real(olddirfd, old, newdirfd, new, flags);
	if (kill_after && ret == 0)
		raise(SIGKILL);
	return ret;
}

int renameat(int olddirfd, const char *old, int newdirfd, const char *new)
{
	static int (*real)(int, const char *, int, const char *);
	int kill_after = kill_before(new), ret;

	if (!real)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	ret = real(olddirfd, old, newdirfd, new);
	if (kill_after && ret == 0)
		raise(SIGKILL);
	return ret;
}

static int no_pipe(void)
{
	const char *no = getenv("EIO_SHIM_NO_PIPE");

	return no && *no == '1';
}

int pipe2(int fds[2], int flags)
{
	static int (*real)(int *, int);

	if (no_pipe()) {
		errno = EMFILE;
		return -1;
	}
	if (!real)
		real = (int (*)(int *, int))dlsym(RTLD_NEXT, "pipe2");
	return real(fds, flags);
}

int pipe(int fds[2])
{
	return pipe2(fds, 0);
}
