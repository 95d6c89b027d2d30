/* SPDX-License-Identifier: 0BSD */
/**
 * An LD_PRELOAD shim that counts the bytes a process writes to files under
 * the directory PTOOLS_COUNT_PREFIX: what write, pwrite, pwrite64, writev,
 * pwritev, pwritev64, pwritev2 and pwritev64v2 wrote there ("written"), and
 * apart, what copy_file_range copied there ("copied"; the kernel may share
 * those blocks instead of writing them). For the tests and the benchmark of
 * delta updates (issue 20), which must show that only the changed blocks of
 * a file were written.
 *
 * Each call's descriptor is resolved to its path through /proc/self/fd when
 * it is made (no cache: a descriptor number is reused after a close). An
 * unnamed file (O_TMPFILE) reads "DIR/#INODE (deleted)", so it counts as
 * under DIR. Only bytes the call reports written are counted.
 *
 * When the process exits (exit, return from main, _exit or _Exit), it
 * appends one line "written N copied M" to the file PTOOLS_COUNT_OUT, in a
 * single write, unless it counted nothing: every process that ran with the
 * shim and wrote there (a forked child starts from zero) adds its own line,
 * and a caller sums them (tests/write_count.bash).
 * A process that ends by a signal or by exec adds nothing.
 * Built by tests/write_count.bash's build_count_shim with cc -shared -fPIC.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_llong written, copied;
static atomic_bool reported;

/* Whether fd is a file under PTOOLS_COUNT_PREFIX (errno left as it was). */
static int counted(int fd)
{
	const char *prefix = getenv("PTOOLS_COUNT_PREFIX");
	char link[64], path[PATH_MAX];
	int saved = errno;
	size_t plen;
	ssize_t n;

	if (!prefix || !*prefix)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	errno = saved;
	if (n < 0)
		return 0;
	path[n] = '\0';
	plen = strlen(prefix);
	while (plen > 1 && prefix[plen - 1] == '/')
		plen--;
	return strncmp(path, prefix, plen) == 0 && (path[plen] == '/' || path[plen] == '\0');
}

/* Add n (a call's result) to *total when it is a count and fd is counted. */
static ssize_t add(atomic_llong *total, int fd, ssize_t n)
{
	if (n > 0 && counted(fd))
		atomic_fetch_add(total, (long long)n);
	return n;
}

/* The next definition of name (the real function); exits if there is none. */
static void *real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		static const char msg[] = "write_count_shim: a function is missing\n";

		(void)!syscall(SYS_write, 2, msg, sizeof(msg) - 1);
		abort();
	}
	return fn;
}

/* Append this process's line to PTOOLS_COUNT_OUT, once. */
static void report(void)
{
	const char *out = getenv("PTOOLS_COUNT_OUT");
	long long w = atomic_load(&written), c = atomic_load(&copied);
	char line[96];
	int fd, len;

	if (!out || !*out || (w == 0 && c == 0) || atomic_exchange(&reported, 1))
		return;
	len = snprintf(line, sizeof(line), "written %lld copied %lld\n", w, c);
	/* Raw system calls: the report is not itself a counted write. */
	fd = (int)syscall(SYS_openat, AT_FDCWD, out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	(void)!syscall(SYS_write, fd, line, (size_t)len);
	syscall(SYS_close, fd);
}

/* A forked child counts its own writes only. */
static void child_after_fork(void)
{
	atomic_store(&written, 0);
	atomic_store(&copied, 0);
	atomic_store(&reported, 0);
}

__attribute__((constructor)) static void start(void)
{
	pthread_atfork(NULL, NULL, child_after_fork);
}

__attribute__((destructor)) static void finish(void)
{
	report();
}

void _exit(int status)
{
	report();
	((void (*)(int))real("_exit"))(status);
	__builtin_unreachable();
}

void _Exit(int status)
{
	report();
	((void (*)(int))real("_Exit"))(status);
	__builtin_unreachable();
}

typedef ssize_t write_fn(int, const void *, size_t);
typedef ssize_t pwrite_fn(int, const void *, size_t, off_t);
typedef ssize_t writev_fn(int, const struct iovec *, int);
typedef ssize_t pwritev_fn(int, const struct iovec *, int, off_t);
typedef ssize_t pwritev2_fn(int, const struct iovec *, int, off_t, int);
typedef ssize_t pwrite64_fn(int, const void *, size_t, off64_t);
typedef ssize_t pwritev64_fn(int, const struct iovec *, int, off64_t);
typedef ssize_t pwritev64v2_fn(int, const struct iovec *, int, off64_t, int);
typedef ssize_t copy_fn(int, off_t *, int, off_t *, size_t, unsigned int);

ssize_t write(int fd, const void *buf, size_t len)
{
	static write_fn *fn;

	if (!fn)
		fn = (write_fn *)real("write");
	return add(&written, fd, fn(fd, buf, len));
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t offset)
{
	static pwrite_fn *fn;

	if (!fn)
		fn = (pwrite_fn *)real("pwrite");
	return add(&written, fd, fn(fd, buf, len, offset));
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t offset)
{
	static pwrite64_fn *fn;

	if (!fn)
		fn = (pwrite64_fn *)real("pwrite64");
	return add(&written, fd, fn(fd, buf, len, offset));
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
	static writev_fn *fn;

	if (!fn)
		fn = (writev_fn *)real("writev");
	return add(&written, fd, fn(fd, iov, count));
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t offset)
{
	static pwritev_fn *fn;

	if (!fn)
		fn = (pwritev_fn *)real("pwritev");
	return add(&written, fd, fn(fd, iov, count, offset));
}

ssize_t pwritev64(int fd, const struct iovec *iov, int count, off64_t offset)
{
	static pwritev64_fn *fn;

	if (!fn)
		fn = (pwritev64_fn *)real("pwritev64");
	return add(&written, fd, fn(fd, iov, count, offset));
}

ssize_t pwritev2(int fd, const struct iovec *iov, int count, off_t offset, int flags)
{
	static pwritev2_fn *fn;

	if (!fn)
		fn = (pwritev2_fn *)real("pwritev2");
	return add(&written, fd, fn(fd, iov, count, offset, flags));
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int count, off64_t offset, int flags)
{
	static pwritev64v2_fn *fn;

	if (!fn)
		fn = (pwritev64v2_fn *)real("pwritev64v2");
	return add(&written, fd, fn(fd, iov, count, offset, flags));
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
			unsigned int flags)
{
	static copy_fn *fn;

	if (!fn)
		fn = (copy_fn *)real("copy_file_range");
	return add(&copied, out, fn(in, in_off, out, out_off, len, flags));
}
