// SPDX-License-Identifier: 0BSD
/** latencyfs: a passthrough FUSE filesystem that makes storage far away. */

/*
 * latencyfs SRC MOUNTPOINT [--delay-us=N] [--jitter-us=N] [--queue-depth=N]
 *                          [--stats=FILE] [-f] [-o OPT,...]
 *
 * A test and benchmark fixture, never a dependency of the programs: it
 * mounts the directory SRC at MOUNTPOINT and serves every request from SRC
 * unchanged, after waiting --delay-us microseconds (plus a uniformly random
 * 0..--jitter-us more, so that replies come back out of order), as a cloud
 * volume or a network mount would. With --queue-depth=N at most N requests
 * are served (waited out and done) at once, the rest queue for a slot, as on
 * a device with that queue depth; 0 (the default) means no cap.
 *
 * It counts the requests of each kind, the bytes read and written, the peak
 * number of requests in flight (received and not yet answered, queued ones
 * included), the same peak without release and releasedir (which the kernel
 * sends in the background, nobody waiting for them), the peak number served
 * at once (at most the queue depth), and the time requests spent in it in
 * all (busy_us: divided by a run's wall time, the mean number in flight),
 * and writes them to the stats file (--stats) when it is unmounted, on
 * SIGUSR1, and on SIGUSR2, which then also sets every counter back to zero
 * (so that one mount can measure several runs). The file is written under a
 * temporary name and renamed, so a reader never sees half of it. Its lines
 * are "NAME VALUE": delay_us, jitter_us, queue_depth, max_threads, ops (all
 * requests), peak_in_flight, peak_waited, peak_serving, busy_us, read_bytes,
 * written_bytes, then ops.KIND for each kind of request (every kind, zeros
 * too).
 *
 * It is built on libfuse3's high-level API, so a kernel LOOKUP and a
 * GETATTR both arrive as getattr (counted together as ops.getattr). No
 * metadata is cached by the kernel (entry, attribute and negative timeouts
 * are 0, readdirplus is off): each stat of a name costs a round trip, as on
 * a network filesystem without a cache; -o entry_timeout=... and
 * -o readdirplus=yes change that. Reads do not revalidate attributes first
 * (auto_inval_data is off; -o auto_inval_data turns it on), and file data
 * is not kept in the page cache from one open to the next. Inode numbers are SRC's (use_ino), so
 * hard links show as such; an open file that is unlinked goes at once
 * (hard_remove), leaving no .fuse_hidden files behind.
 *
 * The high-level API hands over whole paths, which are used relative to
 * SRC: an entry whose path beneath SRC is longer than PATH_MAX cannot be
 * served (ENAMETOOLONG), so trees for it must stay under that.
 *
 * The process serves requests on up to --threads (default 256) threads, so
 * that the fixture itself never caps what a client keeps in flight below
 * that. It runs in the foreground with -f; fusermount3 -u MOUNTPOINT (or
 * SIGINT, SIGTERM) ends it, exit status 0. Usage errors exit 2, a failure
 * to mount 1.
 */

#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <fuse.h>
#include <fuse_lowlevel.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* The kinds of request counted, in the order the stats file lists them. */
enum op {
	OP_GETATTR, OP_READLINK, OP_MKNOD, OP_MKDIR, OP_UNLINK, OP_RMDIR,
	OP_SYMLINK, OP_RENAME, OP_LINK, OP_CHMOD, OP_CHOWN, OP_TRUNCATE,
	OP_OPEN, OP_READ, OP_WRITE, OP_STATFS, OP_FLUSH, OP_RELEASE, OP_FSYNC,
	OP_SETXATTR, OP_GETXATTR, OP_LISTXATTR, OP_REMOVEXATTR, OP_OPENDIR,
	OP_READDIR, OP_RELEASEDIR, OP_FSYNCDIR, OP_ACCESS, OP_CREATE,
	OP_UTIMENS, OP_FALLOCATE, OP_COPY_FILE_RANGE, OP_LSEEK, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"getattr", "readlink", "mknod", "mkdir", "unlink", "rmdir",
	"symlink", "rename", "link", "chmod", "chown", "truncate",
	"open", "read", "write", "statfs", "flush", "release", "fsync",
	"setxattr", "getxattr", "listxattr", "removexattr", "opendir",
	"readdir", "releasedir", "fsyncdir", "access", "create",
	"utimens", "fallocate", "copy_file_range", "lseek",
};

/* Settings, fixed once the filesystem is mounted. */
struct settings {
	unsigned delay_us;
	unsigned jitter_us;
	unsigned queue_depth;
	unsigned threads;
	char *stats;       /* absolute path of the stats file, or NULL */
	char *src;         /* SRC as given */
	int show_help;
	int show_version;
};

static struct settings settings = { .threads = 256 };

/*
 * The counters: atomics, shared by every request thread and the stats
 * thread. A reset (SIGUSR2) may race with requests in flight: in_flight and
 * serving are never reset (they are levels, not totals), only the peaks are
 * set back to the current level.
 */
static _Atomic uint64_t op_counts[OP_COUNT];
static _Atomic uint64_t read_bytes, written_bytes;
static _Atomic unsigned in_flight, peak_in_flight, serving, peak_serving;
/*
 * Requests a caller waits for: all but release and releasedir, which the
 * kernel sends in the background after a close (so a client that runs one
 * request at a time can still show two in flight above).
 */
static _Atomic unsigned waited, peak_waited;
/* The sum of every request's time in the filesystem, queueing included. */
static _Atomic uint64_t busy_ns;
/* When this thread's request arrived (a thread serves one at a time). */
static _Thread_local uint64_t request_start_ns;
static _Thread_local int request_waited;
/* The device's free slots when queue_depth > 0. */
static sem_t queue_slots;

static void raise_peak(_Atomic unsigned *peak, unsigned level)
{
	unsigned old = atomic_load(peak);

	while (level > old && !atomic_compare_exchange_weak(peak, &old, level))
		;
}

/* A per-thread xorshift state for the jitter: no lock, no shared state. */
static _Thread_local uint64_t jitter_state;

static unsigned jitter(void)
{
	uint64_t x = jitter_state;

	if (settings.jitter_us == 0)
		return 0;
	if (x == 0)
		x = (uint64_t)(uintptr_t)&jitter_state ^ (uint64_t)time(NULL) ^ 0x9e3779b97f4a7c15u;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	jitter_state = x;
	return (unsigned)(x % ((uint64_t)settings.jitter_us + 1));
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* op_begin KIND: count a request, take a queue slot, wait out its delay. */
static void op_begin(enum op kind)
{
	request_start_ns = now_ns();
	request_waited = kind != OP_RELEASE && kind != OP_RELEASEDIR;
	atomic_fetch_add(&op_counts[kind], 1);
	raise_peak(&peak_in_flight, atomic_fetch_add(&in_flight, 1) + 1);
	if (request_waited)
		raise_peak(&peak_waited, atomic_fetch_add(&waited, 1) + 1);
	if (settings.queue_depth > 0)
		while (sem_wait(&queue_slots) != 0)
			;
	raise_peak(&peak_serving, atomic_fetch_add(&serving, 1) + 1);
	sleep_us(settings.delay_us + jitter());
}

/* op_end RESULT: give the slot back; returns RESULT, for return op_end(...). */
static int op_end(int result)
{
	atomic_fetch_sub(&serving, 1);
	if (settings.queue_depth > 0)
		sem_post(&queue_slots);
	if (request_waited)
		atomic_fetch_sub(&waited, 1);
	atomic_fetch_sub(&in_flight, 1);
	atomic_fetch_add(&busy_ns, now_ns() - request_start_ns);
	return result;
}

/* The process's working directory is SRC: a FUSE path "/a/b" is "a/b" there. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

#define ERRNO_OR(res) ((res) == -1 ? -errno : 0)

/* -o max_background=, readdirplus= and the like, for lfs_init; set once in main. */
static struct fuse_conn_info_opts *conn_opts;

static void *lfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Metadata round trips are the point: no readdirplus unless asked for. */
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS;
	/*
	 * With attributes never cached, auto_inval_data would send a GETATTR
	 * before every read(2): a read costs one round trip here, as it does
	 * on a network filesystem (file data is still dropped at each open).
	 */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* Read-ahead and other background requests: let many be in flight. */
	if (conn->max_background < 64)
		conn->max_background = 64;
	if (conn->congestion_threshold < 48)
		conn->congestion_threshold = 48;
	if (conn_opts != NULL)
		fuse_apply_conn_info_opts(conn_opts, conn);
	cfg->use_ino = 1;
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 1;
	return fuse_get_context()->private_data;
}

static int lfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	int res;

	op_begin(OP_GETATTR);
	if (fi != NULL)
		res = fstat((int)fi->fh, st);
	else
		res = fstatat(AT_FDCWD, rel(path), st, AT_SYMLINK_NOFOLLOW);
	return op_end(ERRNO_OR(res));
}

static int lfs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n;

	op_begin(OP_READLINK);
	n = readlinkat(AT_FDCWD, rel(path), buf, size - 1);
	if (n == -1)
		return op_end(-errno);
	buf[n] = '\0';
	return op_end(0);
}

static int lfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	op_begin(OP_MKNOD);
	return op_end(ERRNO_OR(mknodat(AT_FDCWD, rel(path), mode, rdev)));
}

static int lfs_mkdir(const char *path, mode_t mode)
{
	op_begin(OP_MKDIR);
	return op_end(ERRNO_OR(mkdirat(AT_FDCWD, rel(path), mode)));
}

static int lfs_unlink(const char *path)
{
	op_begin(OP_UNLINK);
	return op_end(ERRNO_OR(unlinkat(AT_FDCWD, rel(path), 0)));
}

static int lfs_rmdir(const char *path)
{
	op_begin(OP_RMDIR);
	return op_end(ERRNO_OR(unlinkat(AT_FDCWD, rel(path), AT_REMOVEDIR)));
}

static int lfs_symlink(const char *target, const char *path)
{
	op_begin(OP_SYMLINK);
	return op_end(ERRNO_OR(symlinkat(target, AT_FDCWD, rel(path))));
}

static int lfs_rename(const char *from, const char *to, unsigned int flags)
{
	op_begin(OP_RENAME);
	return op_end(ERRNO_OR(renameat2(AT_FDCWD, rel(from), AT_FDCWD, rel(to), flags)));
}

static int lfs_link(const char *from, const char *to)
{
	op_begin(OP_LINK);
	return op_end(ERRNO_OR(linkat(AT_FDCWD, rel(from), AT_FDCWD, rel(to), 0)));
}

static int lfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int res;

	op_begin(OP_CHMOD);
	if (fi != NULL)
		res = fchmod((int)fi->fh, mode);
	else
		res = fchmodat(AT_FDCWD, rel(path), mode, 0);
	return op_end(ERRNO_OR(res));
}

static int lfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	int res;

	op_begin(OP_CHOWN);
	if (fi != NULL)
		res = fchown((int)fi->fh, uid, gid);
	else
		res = fchownat(AT_FDCWD, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
	return op_end(ERRNO_OR(res));
}

static int lfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int res;

	op_begin(OP_TRUNCATE);
	if (fi != NULL)
		res = ftruncate((int)fi->fh, size);
	else
		res = truncate(rel(path), size);
	return op_end(ERRNO_OR(res));
}

static int lfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	int res;

	op_begin(OP_UTIMENS);
	if (fi != NULL)
		res = futimens((int)fi->fh, tv);
	else
		res = utimensat(AT_FDCWD, rel(path), tv, AT_SYMLINK_NOFOLLOW);
	return op_end(ERRNO_OR(res));
}

static int lfs_open(const char *path, struct fuse_file_info *fi)
{
	int fd;

	op_begin(OP_OPEN);
	fd = openat(AT_FDCWD, rel(path), fi->flags & ~O_NOFOLLOW);
	if (fd == -1)
		return op_end(-errno);
	fi->fh = (uint64_t)fd;
	return op_end(0);
}

static int lfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	int fd;

	op_begin(OP_CREATE);
	fd = openat(AT_FDCWD, rel(path), fi->flags | O_CREAT, mode);
	if (fd == -1)
		return op_end(-errno);
	fi->fh = (uint64_t)fd;
	return op_end(0);
}

static int lfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	op_begin(OP_READ);
	n = pread((int)fi->fh, buf, size, off);
	if (n == -1)
		return op_end(-errno);
	atomic_fetch_add(&read_bytes, (uint64_t)n);
	return op_end((int)n);
}

static int lfs_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	op_begin(OP_WRITE);
	n = pwrite((int)fi->fh, buf, size, off);
	if (n == -1)
		return op_end(-errno);
	atomic_fetch_add(&written_bytes, (uint64_t)n);
	return op_end((int)n);
}

static int lfs_statfs(const char *path, struct statvfs *st)
{
	op_begin(OP_STATFS);
	return op_end(ERRNO_OR(statvfs(rel(path), st)));
}

static int lfs_flush(const char *path, struct fuse_file_info *fi)
{
	int fd;

	(void)path;
	op_begin(OP_FLUSH);
	/* close(2) of a duplicate reports what a close of the file would. */
	fd = dup((int)fi->fh);
	if (fd == -1)
		return op_end(-errno);
	return op_end(ERRNO_OR(close(fd)));
}

static int lfs_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	op_begin(OP_RELEASE);
	close((int)fi->fh);
	return op_end(0);
}

static int lfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	int res;

	(void)path;
	op_begin(OP_FSYNC);
	res = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
	return op_end(ERRNO_OR(res));
}

static int lfs_setxattr(const char *path, const char *name, const char *value, size_t size,
			int flags)
{
	op_begin(OP_SETXATTR);
	return op_end(ERRNO_OR(lsetxattr(rel(path), name, value, size, flags)));
}

static int lfs_getxattr(const char *path, const char *name, char *value, size_t size)
{
	ssize_t n;

	op_begin(OP_GETXATTR);
	n = lgetxattr(rel(path), name, value, size);
	return op_end(n == -1 ? -errno : (int)n);
}

static int lfs_listxattr(const char *path, char *list, size_t size)
{
	ssize_t n;

	op_begin(OP_LISTXATTR);
	n = llistxattr(rel(path), list, size);
	return op_end(n == -1 ? -errno : (int)n);
}

static int lfs_removexattr(const char *path, const char *name)
{
	op_begin(OP_REMOVEXATTR);
	return op_end(ERRNO_OR(lremovexattr(rel(path), name)));
}

/*
 * An open directory: the stream, and the entry read but not yet handed to
 * the kernel (its buffer was full), at offset. The kernel reads one open
 * directory from one thread at a time.
 */
struct dir_handle {
	DIR *dir;
	struct dirent *entry;
	off_t offset;
};

static int lfs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dir_handle *d;
	int fd, err;

	op_begin(OP_OPENDIR);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return op_end(-ENOMEM);
	fd = openat(AT_FDCWD, rel(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd == -1 || (d->dir = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd != -1)
			close(fd);
		free(d);
		return op_end(-err);
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	return op_end(0);
}

/*
 * One READDIR request: as many entries from offset on as the kernel's
 * buffer holds (one round trip per buffer, as a network filesystem reads a
 * directory in batches).
 */
static int lfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	struct stat st;
	off_t next;

	(void)path;
	(void)flags;
	op_begin(OP_READDIR);
	if (offset != d->offset) {
		seekdir(d->dir, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		if (d->entry == NULL) {
			errno = 0;
			d->entry = readdir(d->dir);
			if (d->entry == NULL) {
				if (errno != 0)
					return op_end(-errno);
				break;
			}
		}
		memset(&st, 0, sizeof(st));
		st.st_ino = d->entry->d_ino;
		st.st_mode = (mode_t)d->entry->d_type << 12;
		next = telldir(d->dir);
		if (filler(buf, d->entry->d_name, &st, next, 0) != 0)
			break;
		d->entry = NULL;
		d->offset = next;
	}
	return op_end(0);
}

static int lfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)path;
	op_begin(OP_RELEASEDIR);
	closedir(d->dir);
	free(d);
	return op_end(0);
}

static int lfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dir);

	(void)path;
	op_begin(OP_FSYNCDIR);
	return op_end(ERRNO_OR(datasync ? fdatasync(fd) : fsync(fd)));
}

static int lfs_access(const char *path, int mask)
{
	op_begin(OP_ACCESS);
	return op_end(ERRNO_OR(faccessat(AT_FDCWD, rel(path), mask, AT_SYMLINK_NOFOLLOW)));
}

static int lfs_fallocate(const char *path, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	(void)path;
	op_begin(OP_FALLOCATE);
	return op_end(fallocate((int)fi->fh, mode, off, len) == -1 ? -errno : 0);
}

static ssize_t lfs_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
				   off_t off_in, const char *path_out,
				   struct fuse_file_info *fi_out, off_t off_out, size_t size,
				   int flags)
{
	ssize_t n;

	(void)path_in;
	(void)path_out;
	op_begin(OP_COPY_FILE_RANGE);
	n = copy_file_range((int)fi_in->fh, &off_in, (int)fi_out->fh, &off_out, size,
			    (unsigned)flags);
	if (n == -1)
		return op_end(-errno);
	atomic_fetch_add(&written_bytes, (uint64_t)n);
	op_end(0);
	return n;
}

static off_t lfs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
	off_t res;

	(void)path;
	op_begin(OP_LSEEK);
	res = lseek((int)fi->fh, off, whence);
	if (res == -1)
		return op_end(-errno);
	op_end(0);
	return res;
}

static const struct fuse_operations lfs_ops = {
	.init = lfs_init,
	.getattr = lfs_getattr,
	.readlink = lfs_readlink,
	.mknod = lfs_mknod,
	.mkdir = lfs_mkdir,
	.unlink = lfs_unlink,
	.rmdir = lfs_rmdir,
	.symlink = lfs_symlink,
	.rename = lfs_rename,
	.link = lfs_link,
	.chmod = lfs_chmod,
	.chown = lfs_chown,
	.truncate = lfs_truncate,
	.utimens = lfs_utimens,
	.open = lfs_open,
	.create = lfs_create,
	.read = lfs_read,
	.write = lfs_write,
	.statfs = lfs_statfs,
	.flush = lfs_flush,
	.release = lfs_release,
	.fsync = lfs_fsync,
	.setxattr = lfs_setxattr,
	.getxattr = lfs_getxattr,
	.listxattr = lfs_listxattr,
	.removexattr = lfs_removexattr,
	.opendir = lfs_opendir,
	.readdir = lfs_readdir,
	.releasedir = lfs_releasedir,
	.fsyncdir = lfs_fsyncdir,
	.access = lfs_access,
	.fallocate = lfs_fallocate,
	.copy_file_range = lfs_copy_file_range,
	.lseek = lfs_lseek,
};

/*
 * write_stats RESET: write the counters to settings.stats (a temporary,
 * then renamed over it); with RESET, set the totals and peaks back to zero
 * (the peaks to the current level). Returns 0, or -1 with errno.
 */
static int write_stats(int reset)
{
	char tmp[PATH_MAX];
	FILE *f;
	int i;

	if (settings.stats == NULL)
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", settings.stats) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	uint64_t total = 0;
	for (i = 0; i < OP_COUNT; i++)
		total += atomic_load(&op_counts[i]);
	fprintf(f, "delay_us %u\njitter_us %u\nqueue_depth %u\nmax_threads %u\n",
		settings.delay_us, settings.jitter_us, settings.queue_depth, settings.threads);
	fprintf(f, "ops %llu\npeak_in_flight %u\npeak_waited %u\npeak_serving %u\nbusy_us %llu\n",
		(unsigned long long)total, atomic_load(&peak_in_flight), atomic_load(&peak_waited),
		atomic_load(&peak_serving), (unsigned long long)(atomic_load(&busy_ns) / 1000));
	fprintf(f, "read_bytes %llu\nwritten_bytes %llu\n",
		(unsigned long long)atomic_load(&read_bytes),
		(unsigned long long)atomic_load(&written_bytes));
	for (i = 0; i < OP_COUNT; i++)
		fprintf(f, "ops.%s %llu\n", op_names[i], (unsigned long long)atomic_load(&op_counts[i]));
	if (reset) {
		for (i = 0; i < OP_COUNT; i++)
			atomic_store(&op_counts[i], 0);
		atomic_store(&read_bytes, 0);
		atomic_store(&written_bytes, 0);
		atomic_store(&busy_ns, 0);
		atomic_store(&peak_in_flight, atomic_load(&in_flight));
		atomic_store(&peak_waited, atomic_load(&waited));
		atomic_store(&peak_serving, atomic_load(&serving));
	}
	if (fclose(f) != 0 || rename(tmp, settings.stats) != 0) {
		int err = errno;

		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

/* The stats thread: SIGUSR1 writes the stats file, SIGUSR2 writes and resets. */
static void *stats_thread(void *arg)
{
	const sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (write_stats(sig == SIGUSR2) != 0)
			fprintf(stderr, "latencyfs: %s: %s\n", settings.stats, strerror(errno));
	}
	return NULL;
}

#define LFS_OPT(t, p) { t, offsetof(struct settings, p), 1 }

static const struct fuse_opt lfs_opts[] = {
	LFS_OPT("--delay-us=%u", delay_us),
	LFS_OPT("--jitter-us=%u", jitter_us),
	LFS_OPT("--queue-depth=%u", queue_depth),
	LFS_OPT("--threads=%u", threads),
	LFS_OPT("--stats=%s", stats),
	LFS_OPT("-h", show_help),
	LFS_OPT("--help", show_help),
	LFS_OPT("-V", show_version),
	LFS_OPT("--version", show_version),
	FUSE_OPT_END
};

/* The first operand is SRC; the rest (the mount point) go to libfuse. */
static int lfs_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)data;
	(void)outargs;
	if (key == FUSE_OPT_KEY_NONOPT && settings.src == NULL) {
		settings.src = strdup(arg);
		return settings.src == NULL ? -1 : 0;
	}
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: latencyfs SRC MOUNTPOINT [OPTION]...\n"
		"Mount the directory SRC at MOUNTPOINT, serving each request after a delay.\n\n"
		"  --delay-us=N     wait N microseconds before serving each request (0)\n"
		"  --jitter-us=N    wait a random 0..N microseconds more (0)\n"
		"  --queue-depth=N  serve at most N requests at once (0: no cap)\n"
		"  --threads=N      request threads at most (256)\n"
		"  --stats=FILE     write the counters to FILE on unmount, SIGUSR1,\n"
		"                   and SIGUSR2 (which then zeroes them)\n"
		"  -f               stay in the foreground\n"
		"  -d               debug output (implies -f)\n"
		"  -o OPT[,OPT]...  FUSE mount options (entry_timeout=S, readdirplus=yes, ...)\n"
		"  -h, --help       show this help and exit\n"
		"  -V, --version    show the version and exit\n\n"
		"Unmount with fusermount3 -u MOUNTPOINT. Exit status: 0 unmounted cleanly,\n"
		"1 mount or serving failed, 2 usage error.\n");
}

/* absolute NAME against the current directory, malloc'd; NULL on failure. */
static char *absolute(const char *name)
{
	char cwd[PATH_MAX], *out;

	if (name[0] == '/')
		return strdup(name);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, name) == -1)
		return NULL;
	return out;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_loop_config *loop = NULL;
	struct fuse *fuse = NULL;
	pthread_t stats_tid;
	sigset_t sigs;
	int src_fd = -1, status = 1, mounted = 0, stats_started = 0;
	char *stats_rel;

	if (fuse_opt_parse(&args, &settings, lfs_opts, lfs_opt_proc) != 0)
		return 2;
	if (settings.show_help) {
		usage(stdout);
		return 0;
	}
	if (settings.show_version) {
		printf("latencyfs (ptools fixture), libfuse %s\n", fuse_pkgversion());
		return 0;
	}
	/* Defaults first: the user's -o options, parsed later, override them. */
	if (fuse_opt_insert_arg(&args, 1, "-oentry_timeout=0,attr_timeout=0,negative_timeout=0,"
				"subtype=latencyfs,fsname=latencyfs") != 0)
		return 1;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 2;
	if (settings.src == NULL || opts.mountpoint == NULL) {
		fprintf(stderr, "latencyfs: SRC and MOUNTPOINT needed (latencyfs --help)\n");
		return 2;
	}
	if (settings.threads == 0) {
		fprintf(stderr, "latencyfs: --threads must be at least 1\n");
		return 2;
	}
	if (settings.stats != NULL) {
		stats_rel = settings.stats;
		settings.stats = absolute(stats_rel);
		free(stats_rel);
		if (settings.stats == NULL) {
			perror("latencyfs: --stats");
			return 1;
		}
	}
	src_fd = open(settings.src, O_RDONLY | O_DIRECTORY);
	if (src_fd == -1) {
		fprintf(stderr, "latencyfs: %s: %s\n", settings.src, strerror(errno));
		return 2;
	}
	if (settings.queue_depth > 0 && sem_init(&queue_slots, 0, settings.queue_depth) != 0) {
		perror("latencyfs: sem_init");
		return 1;
	}
	conn_opts = fuse_parse_conn_info_opts(&args);
	if (conn_opts == NULL)
		return 2;

	/* Every thread started from here on (libfuse's) leaves these to the stats thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	fuse = fuse_new(&args, &lfs_ops, sizeof(lfs_ops), NULL);
	if (fuse == NULL) {
		/* It has said why: an unknown option, short of running out of memory. */
		status = 2;
		goto out;
	}
	if (fuse_mount(fuse, opts.mountpoint) != 0)
		goto out;
	mounted = 1;
	if (fuse_daemonize(opts.foreground) != 0)
		goto out;
	/* After fuse_daemonize, which moves a daemon to /. */
	if (fchdir(src_fd) != 0) {
		perror("latencyfs: fchdir");
		goto out;
	}
	if (fuse_set_signal_handlers(fuse_get_session(fuse)) != 0)
		goto out;
	if (pthread_create(&stats_tid, NULL, stats_thread, &sigs) != 0) {
		fprintf(stderr, "latencyfs: cannot start the stats thread\n");
		goto out_signals;
	}
	stats_started = 1;
	loop = fuse_loop_cfg_create();
	if (loop == NULL)
		goto out_signals;
	fuse_loop_cfg_set_max_threads(loop, settings.threads);
	/* Keep the threads: a burst after a pause should not pay for new ones. */
	fuse_loop_cfg_set_idle_threads(loop, settings.threads);
	fuse_loop_cfg_set_clone_fd(loop, (unsigned)opts.clone_fd);
	status = fuse_loop_mt(fuse, loop) == 0 ? 0 : 1;
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(fuse));
out:
	if (mounted)
		fuse_unmount(fuse);
	if (fuse != NULL)
		fuse_destroy(fuse);
	if (stats_started) {
		pthread_cancel(stats_tid);
		pthread_join(stats_tid, NULL);
	}
	if (mounted && write_stats(0) != 0) {
		fprintf(stderr, "latencyfs: %s: %s\n", settings.stats, strerror(errno));
		status = 1;
	}
	if (loop != NULL)
		fuse_loop_cfg_destroy(loop);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	close(src_fd);
	return status;
}
