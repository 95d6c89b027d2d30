/* SPDX-License-Identifier: 0BSD */
/**
 * The copy engine. Sources are walked (or read as records) by the producer;
 * directories, symlinks and special files are made in every destination
 * right there, and each regular file becomes a task for the reader pool. A
 * reader opens nothing itself: the producer hands it an open source fd, so
 * paths longer than PATH_MAX work. For each file the reader creates a
 * temporary in every destination, reads the source once through hashio (the
 * digests are computed from the same blocks), and hands each block to every
 * destination at once: the first destination is written by the reader
 * itself, the others by their writer threads, and the reader waits for all
 * of them before the next block. Then each copy gets its mode, times (and
 * owner and xattrs with -p), is synced and read back if asked, and is
 * renamed into place; its seal record is appended to that destination's
 * seal-in-progress.
 *
 * A failure in one destination marks it failed (the first reason is kept
 * for the summary) and every later step skips it; at the end it is rolled
 * back from its journal while the others are sealed. A source failure or a
 * signal stops everything and rolls back every destination.
 */
#include "prelude.h"
#include "copy.h"
#include "beneath.h"
#include "dbuf.h"
#include "diag.h"
#include "hash.h"
#include "hashio.h"
#include "journal.h"
#include "pool.h"
#include "progress.h"
#include "record.h"
#include "walk.h"
#include "xio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Why the whole run stops. */
enum stop_reason {
	STOP_NONE = 0,
	STOP_SOURCE,   /* a source could not be read: roll back everything */
	STOP_INTERNAL, /* out of memory and the like: the same */
};

/** One destination. */
struct dest {
	char *path;
	size_t index;
	int rootfd;
	bool root_created;
	struct timespec root_mtime;  /* before the run */
	struct journal *journal;     /* ours, or NULL (failed before it existed) */
	struct pool *writers;        /* NULL for the first destination */
	atomic_int error;            /* errno of the first failure, 0 while healthy */
	pthread_mutex_t lock;        /* guards why and the seal fields */
	char *why;                   /* the first failure: "path: reason" */
	/* The seal in progress: written to a temporary as files complete. */
	int seal_fd;
	char seal_tmp[64];
	struct hash_ctx *seal_hash;
	struct dbuf seal_buf;
	bool seal_exists;            /* a seal was there before (replaced with --force/--update) */
	atomic_uint_fast64_t files, bytes;
};

/*
 * Each source device gets its own readers (godi's streams per input device):
 * a slow or busy disk holds up only its own files. Past this many devices,
 * the last one's readers serve the rest.
 */
#define SOURCE_DEVICES_MAX 16

struct source_device {
	dev_t dev;
	struct pool *readers;
};

/** The whole run. */
struct copy {
	struct copy_options opt;
	size_t ndests;
	struct dest *dests;
	uint64_t run_id;
	atomic_uint_fast64_t temp_seq;
	atomic_int stop;             /* enum stop_reason */
	pthread_mutex_t lock;        /* guards stop_why */
	char *stop_why;
	pthread_mutex_t devices_lock; /* guards devices and ndevices */
	struct source_device devices[SOURCE_DEVICES_MAX];
	size_t ndevices;
	mode_t umask;                /* the process's, read once at the start */
	struct progress *progress;
	/* Source root (records mode: the --from root; tree mode: SRC). */
	size_t root_len;
	/* Hard links (-H): the first copy of each multiply-linked inode. */
	pthread_mutex_t link_lock;   /* guards links and nlinks */
	pthread_cond_t link_done;
	struct link_entry **links;   /* open-addressed table */
	size_t links_cap, nlinks;
	/* Destination roots' identities, so a destination inside SRC is not walked. */
	dev_t *root_dev;
	ino_t *root_ino;
};

/** A source inode seen with several links (-H). */
struct link_entry {
	dev_t dev;
	ino_t ino;
	bool done;                   /* first copy finished (ok or not) */
	bool ok;
	char **hex;                  /* digests of the first copy, per algorithm */
	uint64_t *dest_ino;          /* per destination */
	size_t rel_len;
	char rel[];                  /* the first copy's path, relative */
};

/** A directory fd cache: the last few directories used, per destination. */
#define DIRCACHE_WAYS 4
struct dircache {
	struct dbuf path[DIRCACHE_WAYS];
	int fd[DIRCACHE_WAYS];
	unsigned next;               /* the way replaced next (round robin) */
};

/** What one thread (walker or reader) keeps between entries. */
struct worker {
	struct copy *copy;
	struct dircache *dirs;       /* one per destination */
	struct dbuf scratch;
	/* Records mode: the parent last made sure of, so a run of files in one
	 * directory does not re-check its ancestors. */
	struct dbuf last_parent;
	/* A walker thread copies small files itself (it is also a reader):
	 * handing a 4 KiB file to another thread costs more than copying it. */
	bool inline_small;
};

/* Files up to this size are copied by the walker thread that found them. */
#define INLINE_MAX ((off_t)256 << 10)

/** One regular file to copy: made by the producer, owned by the reader. */
struct task {
	struct copy *copy;
	int srcfd;
	struct stat st;
	size_t rel_len;
	char rel[];                  /* path relative to every destination root */
};

enum op_state {
	OP_IDLE,     /* this destination failed, or takes no part */
	OP_WRITE,    /* a temporary is open and receives the data */
	OP_SKIP,     /* --update found the copy current: hash only, for the seal */
};

struct reader;

/** One file in one destination, driven by a reader. */
struct fileop {
	struct reader *reader;
	struct dest *dest;
	enum op_state state;
	int fd;                      /* the temporary */
	int dirfd;                   /* borrowed from the reader's dircache */
	bool exists;                 /* the final name was taken (--force/--update) */
	bool mode_set;               /* the temporary was created with its final mode */
	uint64_t existing_ino;       /* OP_SKIP: the inode already there */
	char temp[64];
	char name[NAME_MAX + 1];
	struct hashio *verify;       /* made on first --verify use */
	/* The job handed to a writer thread. */
	int (*job)(struct fileop *op);
	int error;                   /* the job's result (errno), 0 when fine */
	const char *where;           /* what failed, for the message */
};

/** A reader thread's state. */
struct reader {
	struct worker worker;
	struct hashio *engine;
	struct fileop *ops;          /* one per destination */
	struct task *task;
	bool sparse;
	const unsigned char *block;  /* the block in flight */
	size_t block_len;
	uint64_t block_offset;
	bool abandoned;              /* every destination dropped out mid-file */
	struct hashio_result *result; /* the source's digests, for op_verify */
	/* A small file: every destination's jobs run in this thread, in turn
	 * (a hand-off per job would cost more than the job). */
	bool serial;
	pthread_mutex_t lock;        /* guards pending */
	pthread_cond_t cond;
	size_t pending;
};

/* ------------------------------------------------------------------ */
/* Failure bookkeeping */

static bool stopping(struct copy *copy)
{
	return atomic_load(&copy->stop) != STOP_NONE ||
	       (copy->opt.interrupted && atomic_load(copy->opt.interrupted));
}

/*
 * Stop the run because of a source (or internal) failure, said by what or
 * else by strerror(err); the first reason wins.
 */
static void stop_run_why(struct copy *copy, enum stop_reason reason, const char *path, int err,
			 const char *what)
{
	int none = STOP_NONE;

	if (!what)
		what = strerror(err);
	diag_file_errorf(path, "%s", what);
	if (!atomic_compare_exchange_strong(&copy->stop, &none, (int)reason))
		return;
	pthread_mutex_lock(&copy->lock);
	if (!copy->stop_why) {
		struct dbuf why;
		dbuf_init(&why);
		if (rec_escape(&why, path, strlen(path)) == 0 &&
		    dbuf_printf(&why, ": %s", what) == 0)
			copy->stop_why = why.data;
		else
			dbuf_free(&why);
	}
	pthread_mutex_unlock(&copy->lock);
}

static void stop_run(struct copy *copy, enum stop_reason reason, const char *path, int err)
{
	stop_run_why(copy, reason, path, err, NULL);
}

static bool dest_ok(struct dest *dest)
{
	return atomic_load(&dest->error) == 0;
}

/*
 * Mark dest failed (the first failure is reported at once and kept for the
 * summary; later ones are consequences and stay quiet).
 */
static void dest_fail(struct dest *dest, const char *rel, size_t rel_len, int err,
		      const char *what)
{
	int none = 0;
	struct dbuf why;

	if (err == 0)
		err = EIO;
	if (!atomic_compare_exchange_strong(&dest->error, &none, err))
		return;
	dbuf_init(&why);
	if (dbuf_puts(&why, dest->path) != 0 ||
	    (rel_len > 0 && (dbuf_putc(&why, '/') != 0 || dbuf_append(&why, rel, rel_len) != 0))) {
		dbuf_free(&why);
		return;
	}
	if (what)
		diag_file_errorf(why.data, "%s: %s", what, strerror(err));
	else
		diag_file_error(why.data, err);
	dbuf_clear(&why);
	if (rel_len > 0)
		rec_escape(&why, rel, rel_len);
	else
		dbuf_puts(&why, ".");
	dbuf_printf(&why, ": %s%s%s", what ? what : "", what ? ": " : "", strerror(err));
	pthread_mutex_lock(&dest->lock);
	if (!dest->why)
		dest->why = why.data;
	else
		dbuf_free(&why);
	pthread_mutex_unlock(&dest->lock);
}

/* ------------------------------------------------------------------ */
/* Directories beneath each destination root */

/*
 * The fd of directory dir (dir_len bytes, relative) in dest, opened beneath
 * the root without following links and cached in the worker. Returns -1 with
 * errno.
 */
static int dircache_get(struct worker *worker, struct dest *dest, const char *dir,
			size_t dir_len)
{
	struct dircache *cache = &worker->dirs[dest->index];
	unsigned way;

	for (way = 0; way < DIRCACHE_WAYS; way++) {
		if (cache->fd[way] >= 0 && cache->path[way].len == dir_len &&
		    (dir_len == 0 || memcmp(cache->path[way].data, dir, dir_len) == 0))
			return cache->fd[way];
	}
	way = cache->next++ % DIRCACHE_WAYS;
	if (cache->fd[way] >= 0)
		close(cache->fd[way]);
	cache->fd[way] = -1;
	dbuf_clear(&cache->path[way]);
	if (dbuf_append(&cache->path[way], dir, dir_len) != 0)
		return -1;
	cache->fd[way] = beneath_open_dir(dest->rootfd, dir, dir_len, 0);
	return cache->fd[way];
}

/*
 * The open parent directory of rel in dest, its length in rel (*dir_len) and
 * rel's last component (into name, NAME_MAX + 1 bytes); or -1 once dest is
 * failed (or had failed already).
 */
static int dest_parent(struct worker *worker, struct dest *dest, const char *rel, size_t len,
		       size_t *dir_len, char *name)
{
	int dirfd;

	if (!dest_ok(dest))
		return -1;
	if (beneath_last_name(rel, len, dir_len, name) != 0) {
		dest_fail(dest, rel, len, errno, NULL);
		return -1;
	}
	dirfd = dircache_get(worker, dest, rel, *dir_len);
	if (dirfd < 0)
		dest_fail(dest, rel, len, errno, "parent directory");
	return dirfd;
}

/* Copy every extended attribute (POSIX ACLs included) from one fd to another. */
static int copy_xattrs(int srcfd, int dstfd)
{
	char *names = NULL, *value = NULL;
	ssize_t list_len, value_len;
	size_t value_cap = 0;
	int ret = -1;

	list_len = flistxattr(srcfd, NULL, 0);
	if (list_len <= 0)
		return (list_len < 0 && errno != ENOTSUP) ? -1 : 0;
	names = malloc((size_t)list_len);
	if (!names)
		return -1;
	list_len = flistxattr(srcfd, names, (size_t)list_len);
	if (list_len < 0)
		goto out;
	for (char *name = names; name < names + list_len; name += strlen(name) + 1) {
		value_len = fgetxattr(srcfd, name, NULL, 0);
		if (value_len < 0)
			goto out;
		if ((size_t)value_len + 1 > value_cap) {
			char *grown = realloc(value, (size_t)value_len + 1);
			if (!grown)
				goto out;
			value = grown;
			value_cap = (size_t)value_len + 1;
		}
		value_len = fgetxattr(srcfd, name, value, value_cap);
		if (value_len < 0)
			goto out;
		if (fsetxattr(dstfd, name, value, (size_t)value_len, 0) != 0) {
			/* Where the destination cannot hold it, -p does what it can. */
			if (errno == ENOTSUP || errno == EPERM)
				continue;
			goto out;
		}
	}
	ret = 0;
out:
	free(names);
	free(value);
	return ret;
}

/* The mode bits kept: set-id bits only together with the owner (-p). */
static mode_t kept_mode(const struct copy *copy, mode_t mode)
{
	return mode & (copy->opt.preserve ? 07777 : 01777);
}

/*
 * Make directory rel in dest (its parent exists), or accept the directory
 * already there. Never follows a symlink: a link (or anything but a
 * directory) in its place fails the destination. srcfd (or -1) supplies the
 * xattrs with -p.
 */
static void dest_make_dir(struct worker *worker, struct dest *dest, const char *rel,
			  size_t len, const struct stat *st, int srcfd)
{
	struct copy *copy = worker->copy;
	char name[NAME_MAX + 1];
	struct stat old;
	size_t dir_len;
	int dirfd, fd;

	dirfd = dest_parent(worker, dest, rel, len, &dir_len, name);
	if (dirfd < 0)
		return;
	if (fstatat(dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(old.st_mode)) {
			dest_fail(dest, rel, len, S_ISLNK(old.st_mode) ? ELOOP : ENOTDIR,
				  "exists and is not a directory");
			return;
		}
		if (journal_old_dir(dest->journal, rel, len, &old.st_mtim,
				    kept_mode(copy, st->st_mode), &st->st_mtim) != 0)
			dest_fail(dest, rel, len, errno, "journal");
		return;
	}
	if (errno != ENOENT) {
		dest_fail(dest, rel, len, errno, NULL);
		return;
	}
	if (journal_dir(dest->journal, rel, len, kept_mode(copy, st->st_mode), &st->st_mtim) != 0) {
		dest_fail(dest, rel, len, errno, "journal");
		return;
	}
	/* Private until completion applies the real mode. */
	if (mkdirat(dirfd, name, 0700) != 0) {
		dest_fail(dest, rel, len, errno, NULL);
		return;
	}
	if (!copy->opt.preserve)
		return;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, st->st_uid, st->st_gid) != 0 ||
	    (srcfd >= 0 && copy_xattrs(srcfd, fd) != 0))
		dest_fail(dest, rel, len, errno, "preserving owner/xattrs");
	if (fd >= 0)
		close(fd);
}

/* A fresh temporary name, unique to this run. */
static void temp_name(struct copy *copy, char *buf, size_t size, const char *suffix)
{
	uint64_t seq = atomic_fetch_add(&copy->temp_seq, 1);

	snprintf(buf, size, ".pcopy.%016" PRIx64 ".%" PRIu64 "%s", copy->run_id, seq, suffix);
}

/* Append the directory part of rel and a name into buf (for journal records). */
static int sibling_path(struct dbuf *buf, const char *rel, size_t dir_len, const char *name)
{
	dbuf_clear(buf);
	if (dbuf_append(buf, rel, dir_len) != 0 || dbuf_puts(buf, name) != 0)
		return -1;
	return 0;
}

/*
 * Put the temporary temp (in dirfd, holding inode ino) in place as name,
 * journaling first. exists: the name was taken when checked (--force or
 * --update): the old file is linked to a backup first, then replaced
 * atomically; otherwise the rename refuses to replace anything. Returns 0 or
 * -1 with errno (*what says which step).
 */
static int install(struct worker *worker, struct dest *dest, int dirfd, const char *rel,
		   size_t len, const char *name, const char *temp, uint64_t ino, bool exists,
		   const char **what)
{
	char backup[64];

	if (exists) {
		/* The backup sits next to the file: same filesystem, one rename back. */
		temp_name(worker->copy, backup, sizeof(backup), ".bak");
		*what = "journal";
		if (journal_backup(dest->journal, rel, len, backup, strlen(backup)) != 0)
			return -1;
		*what = "keeping the old file";
		if (linkat(dirfd, name, dirfd, backup, 0) != 0) {
			if (errno != ENOENT)
				return -1;
			exists = false; /* it went away meanwhile */
		}
	}
	*what = "journal";
	if (journal_final(dest->journal, rel, len, ino) != 0)
		return -1;
	*what = NULL;
	if (exists)
		return renameat(dirfd, temp, dirfd, name);
	if (renameat2(dirfd, temp, dirfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		*what = "exists (not replaced without --force or --update)";
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A filesystem without RENAME_NOREPLACE: link never replaces either. */
	if (linkat(dirfd, temp, dirfd, name, 0) != 0) {
		if (errno == EEXIST)
			*what = "exists (not replaced without --force or --update)";
		return -1;
	}
	unlinkat(dirfd, temp, 0);
	return 0;
}

/*
 * Whether the final name may be used: 0 when it is free (*exists false), or
 * taken and replaceable with --force/--update (*exists true, *old its
 * lstat); -1 with errno (EISDIR) when it must not be touched. Without
 * --force/--update the name is not looked at: install() refuses to replace.
 */
static int check_final(struct copy *copy, int dirfd, const char *name, bool *exists,
		       struct stat *old)
{
	*exists = false;
	if (!copy->opt.force && !copy->opt.update) {
		/* The rename into place refuses to replace anything (RENAME_NOREPLACE),
		 * which is the real guarantee; skipping this look saves a call per file. */
		return 0;
	}
	if (fstatat(dirfd, name, old, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(old->st_mode)) {
		errno = EISDIR;
		return -1;
	}
	*exists = true;
	return 0;
}

/* Copy a symlink or a special file (no data) into one destination. */
static void dest_make_node(struct worker *worker, struct dest *dest, const char *rel,
			   size_t len, const struct stat *st, const char *target)
{
	struct copy *copy = worker->copy;
	char name[NAME_MAX + 1], temp[64];
	const char *what = NULL;
	struct stat old, made;
	size_t dir_len;
	bool exists;
	int dirfd;

	dirfd = dest_parent(worker, dest, rel, len, &dir_len, name);
	if (dirfd < 0)
		return;
	if (check_final(copy, dirfd, name, &exists, &old) != 0) {
		dest_fail(dest, rel, len, errno, errno == EEXIST ? "not replaced without --force" : NULL);
		return;
	}
	if (exists && copy->opt.update && !copy->opt.force && S_ISLNK(st->st_mode) &&
	    S_ISLNK(old.st_mode) && old.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	    old.st_mtim.tv_nsec == st->st_mtim.tv_nsec)
		return; /* current */
	temp_name(copy, temp, sizeof(temp), "");
	if (sibling_path(&worker->scratch, rel, dir_len, temp) != 0 ||
	    journal_temp(dest->journal, worker->scratch.data, worker->scratch.len) != 0) {
		dest_fail(dest, rel, len, errno, "journal");
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		if (symlinkat(target, dirfd, temp) != 0)
			goto fail;
	} else if (mknodat(dirfd, temp, (st->st_mode & S_IFMT) | 0600, st->st_rdev) != 0) {
		goto fail;
	}
	what = "setting metadata";
	if (copy->opt.preserve && fchownat(dirfd, temp, st->st_uid, st->st_gid,
					   AT_SYMLINK_NOFOLLOW) != 0)
		goto fail_temp;
	if (!S_ISLNK(st->st_mode) && fchmodat(dirfd, temp, kept_mode(copy, st->st_mode), 0) != 0)
		goto fail_temp;
	{
		struct timespec times[2] = { st->st_atim, st->st_mtim };
		if (utimensat(dirfd, temp, times, AT_SYMLINK_NOFOLLOW) != 0)
			goto fail_temp;
	}
	if (fstatat(dirfd, temp, &made, AT_SYMLINK_NOFOLLOW) != 0)
		goto fail_temp;
	if (install(worker, dest, dirfd, rel, len, name, temp, (uint64_t)made.st_ino, exists,
		    &what) != 0)
		goto fail_temp;
	atomic_fetch_add(&dest->files, 1);
	return;
fail_temp:
	dest_fail(dest, rel, len, errno, what);
	unlinkat(dirfd, temp, 0);
	return;
fail:
	dest_fail(dest, rel, len, errno, what);
}

/* ------------------------------------------------------------------ */
/* The seal */

/* Write out the seal's buffered bytes. Called with dest->lock held. */
static int seal_flush(struct dest *dest)
{
	if (dest->seal_buf.len == 0)
		return 0;
	if (xwrite(dest->seal_fd, dest->seal_buf.data, dest->seal_buf.len) != 0)
		return -1;
	dbuf_clear(&dest->seal_buf);
	return 0;
}

/* Open the seal's temporary in dest and write its first line. */
static int seal_open(struct copy *copy, struct dest *dest)
{
	static const char header[] = SEAL_HEADER "\n";
	struct stat old;

	if (fstatat(dest->rootfd, copy->opt.seal_name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(old.st_mode) || (!copy->opt.force && !copy->opt.update)) {
			errno = S_ISDIR(old.st_mode) ? EISDIR : EEXIST;
			return -1;
		}
		dest->seal_exists = true;
	} else if (errno != ENOENT) {
		return -1;
	}
	dest->seal_hash = hash_ctx_new(hash_lookup("sha256"));
	if (!dest->seal_hash)
		return -1;
	temp_name(copy, dest->seal_tmp, sizeof(dest->seal_tmp), ".seal");
	if (journal_temp(dest->journal, dest->seal_tmp, strlen(dest->seal_tmp)) != 0)
		return -1;
	dest->seal_fd = openat(dest->rootfd, dest->seal_tmp,
			       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (dest->seal_fd < 0)
		return -1;
	if (dbuf_puts(&dest->seal_buf, header) != 0 ||
	    hash_ctx_update(dest->seal_hash, header, sizeof(header) - 1) != 0)
		return -1;
	return 0;
}

/* Append one file's record to dest's seal. hex holds one digest per algorithm. */
static void seal_add(struct copy *copy, struct dest *dest, uint64_t ino, uint64_t size,
		     const char *rel, size_t len, const struct timespec *mtime,
		     char hex[][HASH_HEX_MAX + 1])
{
	struct dbuf line;
	int ok;

	dbuf_init(&line);
	ok = dbuf_printf(&line, "%" PRIu64 "\t%" PRIu64 "\t", ino, size);
	if (ok == 0)
		ok = rec_escape(&line, rel, len);
	if (ok == 0)
		ok = dbuf_printf(&line, "\tmtime:%lld.%09ld", (long long)mtime->tv_sec,
				 (long)mtime->tv_nsec);
	for (size_t i = 0; ok == 0 && i < copy->opt.nalgos; i++)
		ok = dbuf_printf(&line, "\t%s:%s", copy->opt.algos[i]->name, hex[i]);
	if (ok == 0)
		ok = dbuf_putc(&line, '\n');
	if (ok != 0) {
		dest_fail(dest, rel, len, errno, "seal");
		dbuf_free(&line);
		return;
	}
	pthread_mutex_lock(&dest->lock);
	if (hash_ctx_update(dest->seal_hash, line.data, line.len) != 0 ||
	    dbuf_append(&dest->seal_buf, line.data, line.len) != 0 ||
	    (dest->seal_buf.len >= ((size_t)1 << 18) && seal_flush(dest) != 0))
		ok = -1;
	pthread_mutex_unlock(&dest->lock);
	if (ok != 0)
		dest_fail(dest, rel, len, errno, "seal");
	dbuf_free(&line);
}

/* Finish the seal: its last line, sync, and rename into place. */
static int seal_close(struct copy *copy, struct worker *worker, struct dest *dest)
{
	unsigned char digest[HASH_DIGEST_MAX];
	char hex[HASH_HEX_MAX + 1];
	const char *what = NULL;
	struct stat st;

	hash_ctx_final(dest->seal_hash, digest);
	hash_to_hex(digest, 32, hex);
	if (dbuf_printf(&dest->seal_buf, SEAL_LINE_PREFIX "%s\n", hex) != 0 || seal_flush(dest) != 0)
		goto fail;
	if (copy->opt.fsync && fsync(dest->seal_fd) != 0)
		goto fail;
	if (fstat(dest->seal_fd, &st) != 0)
		goto fail;
	if (install(worker, dest, dest->rootfd, copy->opt.seal_name, strlen(copy->opt.seal_name),
		    copy->opt.seal_name, dest->seal_tmp, (uint64_t)st.st_ino, dest->seal_exists,
		    &what) != 0)
		goto fail;
	if (copy->opt.fsync && fsync(dest->rootfd) != 0)
		goto fail;
	return 0;
fail:
	dest_fail(dest, copy->opt.seal_name, strlen(copy->opt.seal_name), errno,
		  what ? what : "writing the seal");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Regular files: one read, every destination written at once */

/* Run op->job on every active destination of the reader, concurrently. */
static void fanout(struct reader *reader, int (*job)(struct fileop *op), enum op_state state)
{
	struct copy *copy = reader->worker.copy;
	struct fileop *first = NULL;

	pthread_mutex_lock(&reader->lock);
	reader->pending = 0;
	pthread_mutex_unlock(&reader->lock);
	for (size_t i = 0; i < copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (op->state != state)
			continue;
		if (!dest_ok(op->dest)) {
			op->error = ECANCELED;
			continue;
		}
		op->job = job;
		op->error = 0;
		op->where = NULL;
		if (!first || !op->dest->writers || reader->serial) {
			if (!first)
				first = op;
			else
				op->error = job(op) != 0 ? (errno ? errno : EIO) : 0;
			continue;
		}
		pthread_mutex_lock(&reader->lock);
		reader->pending++;
		pthread_mutex_unlock(&reader->lock);
		if (pool_submit(op->dest->writers, op) != 0) {
			pthread_mutex_lock(&reader->lock);
			reader->pending--;
			pthread_mutex_unlock(&reader->lock);
			op->error = job(op) != 0 ? (errno ? errno : EIO) : 0;
		}
	}
	if (first)
		first->error = job(first) != 0 ? (errno ? errno : EIO) : 0;
	pthread_mutex_lock(&reader->lock);
	while (reader->pending > 0)
		pthread_cond_wait(&reader->cond, &reader->lock);
	pthread_mutex_unlock(&reader->lock);
}

/* A writer thread's task: one job of one fileop. */
static void writer_work(void *context, void *item)
{
	struct fileop *op = item;
	struct reader *reader = op->reader;

	(void)context;
	op->error = op->job(op) != 0 ? (errno ? errno : EIO) : 0;
	pthread_mutex_lock(&reader->lock);
	if (--reader->pending == 0)
		pthread_cond_signal(&reader->cond);
	pthread_mutex_unlock(&reader->lock);
}

/* After a fanout: drop (and fail) every destination whose job failed. */
static void collect_errors(struct reader *reader)
{
	struct task *task = reader->task;

	for (size_t i = 0; i < reader->worker.copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (op->state == OP_IDLE || op->error == 0)
			continue;
		if (op->error != ECANCELED)
			dest_fail(op->dest, task->rel, task->rel_len, op->error, op->where);
		if (op->fd >= 0) {
			close(op->fd);
			op->fd = -1;
			unlinkat(op->dirfd, op->temp, 0);
		}
		op->state = OP_IDLE;
	}
}

/* Prepare one destination for the reader's file: check the name, make the temporary. */
static void op_start(struct reader *reader, struct fileop *op)
{
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	struct dest *dest = op->dest;
	struct stat old;
	size_t dir_len;
	mode_t want;

	op->state = OP_IDLE;
	op->fd = -1;
	op->exists = false;
	op->dirfd = dest_parent(&reader->worker, dest, task->rel, task->rel_len, &dir_len, op->name);
	if (op->dirfd < 0)
		return;
	if (check_final(copy, op->dirfd, op->name, &op->exists, &old) != 0) {
		dest_fail(dest, task->rel, task->rel_len, errno,
			  errno == EEXIST ? "not replaced without --force" : NULL);
		return;
	}
	if (op->exists && copy->opt.update && !copy->opt.force && S_ISREG(old.st_mode) &&
	    old.st_size == task->st.st_size && old.st_mtim.tv_sec == task->st.st_mtim.tv_sec &&
	    old.st_mtim.tv_nsec == task->st.st_mtim.tv_nsec) {
		op->state = OP_SKIP;
		op->existing_ino = (uint64_t)old.st_ino;
		return;
	}
	/* Created with its final mode when the umask lets all of it through:
	 * that saves an fchmod a file and destination. With -p, owner-only until
	 * the owner is set: until then the group and others would see our copy
	 * as another user's file. */
	want = kept_mode(copy, task->st.st_mode);
	op->mode_set = !copy->opt.preserve && (want & ~(mode_t)0777) == 0 && (want & copy->umask) == 0;
	temp_name(copy, op->temp, sizeof(op->temp), "");
	if (sibling_path(&reader->worker.scratch, task->rel, dir_len, op->temp) != 0 ||
	    journal_temp(dest->journal, reader->worker.scratch.data,
			 reader->worker.scratch.len) != 0) {
		dest_fail(dest, task->rel, task->rel_len, errno, "journal");
		return;
	}
	op->fd = openat(op->dirfd, op->temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			op->mode_set ? want : 0600);
	if (op->fd < 0) {
		dest_fail(dest, task->rel, task->rel_len, errno, NULL);
		return;
	}
	op->state = OP_WRITE;
}

/* Whether len bytes are all zero. */
static bool all_zero(const unsigned char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* Job: write the block in flight (leaving holes where a sparse source has zeros). */
static int op_write(struct fileop *op)
{
	struct reader *reader = op->reader;
	const unsigned char *data = reader->block;
	size_t len = reader->block_len, at = 0;
	const size_t granule = 4096;

	if (!reader->sparse)
		return xpwrite(op->fd, data, len, (off_t)reader->block_offset);
	while (at < len) {
		size_t start, n;
		while (at < len && all_zero(data + at, len - at < granule ? len - at : granule))
			at += granule;
		if (at >= len)
			break;
		start = at;
		while (at < len && !all_zero(data + at, len - at < granule ? len - at : granule))
			at += granule;
		n = (at < len ? at : len) - start;
		if (xpwrite(op->fd, data + start, n, (off_t)(reader->block_offset + start)) != 0)
			return -1;
	}
	return 0;
}

/* hashio's sink: hand the block to every destination. */
static int reader_sink(void *arg, const void *data, size_t len, uint64_t offset)
{
	struct reader *reader = arg;
	struct copy *copy = reader->worker.copy;
	bool any = false;

	if (stopping(copy))
		return ECANCELED;
	reader->block = data;
	reader->block_len = len;
	reader->block_offset = offset;
	fanout(reader, op_write, OP_WRITE);
	collect_errors(reader);
	for (size_t i = 0; i < copy->ndests; i++)
		any |= reader->ops[i].state != OP_IDLE;
	if (!any) {
		reader->abandoned = true;
		return ECANCELED;
	}
	return 0;
}

/* Job: metadata, sync, read-back, rename into place. */
static int op_finish(struct fileop *op)
{
	struct reader *reader = op->reader;
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	struct timespec times[2] = { task->st.st_atim, task->st.st_mtim };

	op->where = "setting metadata";
	if (reader->sparse && ftruncate(op->fd, task->st.st_size) != 0)
		return -1;
	if (copy->opt.preserve) {
		op->where = "preserving owner";
		if (fchown(op->fd, task->st.st_uid, task->st.st_gid) != 0)
			return -1;
		op->where = "preserving xattrs";
		if (copy_xattrs(task->srcfd, op->fd) != 0)
			return -1;
	}
	op->where = "setting metadata";
	if ((!op->mode_set && fchmod(op->fd, kept_mode(copy, task->st.st_mode)) != 0) ||
	    futimens(op->fd, times) != 0)
		return -1;
	op->where = "syncing";
	if (copy->opt.fsync && fsync(op->fd) != 0)
		return -1;
	op->where = NULL;
	return 0;
}

/* Job: --verify: drop the copy from the page cache, read it back, compare. */
static int op_verify(struct fileop *op)
{
	struct reader *reader = op->reader;
	struct copy *copy = reader->worker.copy;
	struct hashio_result *want = reader->result, got;
	struct hashio_config config;

	op->where = "verifying";
	if (!op->verify) {
		memset(&config, 0, sizeof(config));
		config.algos = copy->opt.algos;
		config.count = copy->opt.nalgos;
		config.serial = true;
		op->verify = hashio_new(&config);
		if (!op->verify)
			return -1;
	}
	/* Dirty pages cannot be dropped: write them back first. */
	if (!copy->opt.fsync && fdatasync(op->fd) != 0)
		return -1;
	posix_fadvise(op->fd, 0, 0, POSIX_FADV_DONTNEED);
	memset(&got, 0, sizeof(got));
	if (hashio_fd(op->verify, op->fd, NULL, NULL, NULL, &got) != 0) {
		errno = got.error ? got.error : EIO;
		return -1;
	}
	for (size_t i = 0; i < copy->opt.nalgos; i++) {
		if (strcmp(got.hex[i], want->hex[i]) != 0) {
			op->where = "read back differs from the source";
			errno = EIO;
			return -1;
		}
	}
	op->where = NULL;
	return 0;
}

/* Job: rename the finished temporary into place. */
static int op_install(struct fileop *op)
{
	struct reader *reader = op->reader;
	struct task *task = reader->task;
	struct stat st;

	if (fstat(op->fd, &st) != 0)
		return -1;
	op->existing_ino = (uint64_t)st.st_ino;
	if (install(&reader->worker, op->dest, op->dirfd, task->rel, task->rel_len, op->name,
		    op->temp, (uint64_t)st.st_ino, op->exists, &op->where) != 0)
		return -1;
	close(op->fd);
	op->fd = -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hard links (-H) */

static size_t link_slot(struct copy *copy, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;
	size_t i = (size_t)(h ^ (h >> 29)) & (copy->links_cap - 1);

	while (copy->links[i] && !(copy->links[i]->dev == dev && copy->links[i]->ino == ino))
		i = (i + 1) & (copy->links_cap - 1);
	return i;
}

static int link_grow(struct copy *copy)
{
	struct link_entry **old = copy->links;
	size_t old_cap = copy->links_cap, cap = old_cap ? old_cap * 2 : 1024;

	copy->links = calloc(cap, sizeof(*copy->links));
	if (!copy->links) {
		copy->links = old;
		return -1;
	}
	copy->links_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			copy->links[link_slot(copy, old[i]->dev, old[i]->ino)] = old[i];
	free(old);
	return 0;
}

/*
 * Look the task's inode up. Returns NULL when this task is the first copy
 * (*mine then holds the new entry, to be completed by link_done), or the
 * finished first copy to link to; *mine NULL and NULL returned on ENOMEM.
 */
static struct link_entry *link_claim(struct copy *copy, struct task *task,
				     struct link_entry **mine)
{
	struct link_entry *entry;
	size_t slot;

	*mine = NULL;
	pthread_mutex_lock(&copy->link_lock);
	if ((copy->nlinks + 1) * 2 > copy->links_cap && link_grow(copy) != 0)
		goto nomem;
	slot = link_slot(copy, task->st.st_dev, task->st.st_ino);
	entry = copy->links[slot];
	if (entry) {
		while (!entry->done)
			pthread_cond_wait(&copy->link_done, &copy->link_lock);
		pthread_mutex_unlock(&copy->link_lock);
		return entry;
	}
	entry = calloc(1, sizeof(*entry) + task->rel_len + 1);
	if (!entry)
		goto nomem;
	entry->hex = calloc(copy->opt.nalgos, sizeof(*entry->hex));
	entry->dest_ino = calloc(copy->ndests, sizeof(*entry->dest_ino));
	if (!entry->hex || !entry->dest_ino) {
		free(entry->hex);
		free(entry->dest_ino);
		free(entry);
		goto nomem;
	}
	entry->dev = task->st.st_dev;
	entry->ino = task->st.st_ino;
	entry->rel_len = task->rel_len;
	memcpy(entry->rel, task->rel, task->rel_len);
	copy->links[slot] = entry;
	copy->nlinks++;
	*mine = entry;
	pthread_mutex_unlock(&copy->link_lock);
	return NULL;
nomem:
	pthread_mutex_unlock(&copy->link_lock);
	return NULL;
}

static void link_finish(struct copy *copy, struct link_entry *entry, bool ok,
			struct hashio_result *result)
{
	pthread_mutex_lock(&copy->link_lock);
	entry->ok = ok;
	for (size_t i = 0; ok && i < copy->opt.nalgos; i++)
		entry->hex[i] = strdup(result->hex[i]);
	for (size_t i = 0; ok && i < copy->opt.nalgos; i++)
		if (!entry->hex[i])
			entry->ok = false;
	entry->done = true;
	pthread_cond_broadcast(&copy->link_done);
	pthread_mutex_unlock(&copy->link_lock);
}

/* Make the task's path a hard link to the first copy, in every destination. */
static void link_copy(struct reader *reader, struct link_entry *first)
{
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	char hex[HASH_SET_MAX][HASH_HEX_MAX + 1];
	const char *what = NULL;

	if (!first->ok)
		return; /* the first copy failed: that failure is already reported */
	for (size_t i = 0; i < copy->opt.nalgos; i++)
		snprintf(hex[i], sizeof(hex[i]), "%s", first->hex[i]);
	for (size_t d = 0; d < copy->ndests; d++) {
		struct fileop *op = &reader->ops[d];
		struct dest *dest = op->dest;
		char first_name[NAME_MAX + 1];
		size_t dir_len, first_dir_len;
		struct stat old;
		int first_dirfd;

		if (!dest_ok(dest))
			continue;
		if (beneath_last_name(task->rel, task->rel_len, &dir_len, op->name) != 0 ||
		    beneath_last_name(first->rel, first->rel_len, &first_dir_len, first_name) != 0)
			goto fail;
		what = "parent directory";
		first_dirfd = beneath_open_dir(dest->rootfd, first->rel, first_dir_len, 0);
		if (first_dirfd < 0)
			goto fail;
		op->dirfd = dircache_get(&reader->worker, dest, task->rel, dir_len);
		if (op->dirfd < 0) {
			close(first_dirfd);
			goto fail;
		}
		what = NULL;
		if (check_final(copy, op->dirfd, op->name, &op->exists, &old) != 0) {
			close(first_dirfd);
			what = errno == EEXIST ? "not replaced without --force" : NULL;
			goto fail;
		}
		temp_name(copy, op->temp, sizeof(op->temp), "");
		what = "journal";
		if (sibling_path(&reader->worker.scratch, task->rel, dir_len, op->temp) != 0 ||
		    journal_temp(dest->journal, reader->worker.scratch.data,
				 reader->worker.scratch.len) != 0) {
			close(first_dirfd);
			goto fail;
		}
		what = "linking";
		if (linkat(first_dirfd, first_name, op->dirfd, op->temp, 0) != 0) {
			close(first_dirfd);
			goto fail;
		}
		close(first_dirfd);
		if (install(&reader->worker, dest, op->dirfd, task->rel, task->rel_len, op->name,
			    op->temp, first->dest_ino[d], op->exists, &what) != 0) {
			unlinkat(op->dirfd, op->temp, 0);
			goto fail;
		}
		atomic_fetch_add(&dest->files, 1);
		seal_add(copy, dest, first->dest_ino[d], (uint64_t)task->st.st_size, task->rel,
			 task->rel_len, &task->st.st_mtim, hex);
		continue;
fail:
		dest_fail(dest, task->rel, task->rel_len, errno, what);
	}
}

/* ------------------------------------------------------------------ */
/* Readers */

static void *reader_init(void *arg)
{
	struct copy *copy = arg;
	struct hashio_config config;
	struct reader *reader;

	reader = calloc(1, sizeof(*reader));
	if (!reader)
		return NULL;
	reader->worker.copy = copy;
	reader->worker.dirs = calloc(copy->ndests, sizeof(*reader->worker.dirs));
	reader->ops = calloc(copy->ndests, sizeof(*reader->ops));
	memset(&config, 0, sizeof(config));
	config.algos = copy->opt.algos;
	config.count = copy->opt.nalgos;
	/* Readers already run in parallel: no helper threads per file. */
	config.serial = true;
	reader->engine = hashio_new(&config);
	if (!reader->worker.dirs || !reader->ops || !reader->engine) {
		free(reader->worker.dirs);
		free(reader->ops);
		hashio_free(reader->engine);
		free(reader);
		return NULL;
	}
	for (size_t i = 0; i < copy->ndests; i++) {
		for (unsigned way = 0; way < DIRCACHE_WAYS; way++)
			reader->worker.dirs[i].fd[way] = -1;
		reader->ops[i].reader = reader;
		reader->ops[i].dest = &copy->dests[i];
		reader->ops[i].fd = -1;
	}
	pthread_mutex_init(&reader->lock, NULL);
	pthread_cond_init(&reader->cond, NULL);
	return reader;
}

static void worker_fini(struct worker *worker, size_t ndests)
{
	for (size_t i = 0; worker->dirs && i < ndests; i++) {
		for (unsigned way = 0; way < DIRCACHE_WAYS; way++) {
			if (worker->dirs[i].fd[way] >= 0)
				close(worker->dirs[i].fd[way]);
			dbuf_free(&worker->dirs[i].path[way]);
		}
	}
	free(worker->dirs);
	dbuf_free(&worker->scratch);
	dbuf_free(&worker->last_parent);
}

static void reader_fini(void *context)
{
	struct reader *reader = context;

	if (!reader)
		return;
	for (size_t i = 0; i < reader->worker.copy->ndests; i++)
		hashio_free(reader->ops[i].verify);
	worker_fini(&reader->worker, reader->worker.copy->ndests);
	free(reader->ops);
	hashio_free(reader->engine);
	pthread_mutex_destroy(&reader->lock);
	pthread_cond_destroy(&reader->cond);
	free(reader);
}

/* Report a source failure for the task. */
static void source_failed(struct copy *copy, struct task *task, int err, const char *what)
{
	stop_run_why(copy, STOP_SOURCE, task->rel, err, what);
}

/* Copy one regular file to every destination. */
static void reader_copy(struct reader *reader, struct task *task)
{
	struct copy *copy = reader->worker.copy;
	struct link_entry *first = NULL, *mine = NULL;
	struct hashio_result result;
	bool any = false, ok = false;

	reader->task = task;
	reader->abandoned = false;
	reader->serial = task->st.st_size <= INLINE_MAX;
	if (copy->opt.hard_links && task->st.st_nlink > 1) {
		first = link_claim(copy, task, &mine);
		if (first) {
			link_copy(reader, first);
			return;
		}
		if (!mine) {
			stop_run(copy, STOP_INTERNAL, task->rel, ENOMEM);
			return;
		}
	}
	for (size_t i = 0; i < copy->ndests; i++) {
		op_start(reader, &reader->ops[i]);
		any |= reader->ops[i].state != OP_IDLE;
	}
	if (!any)
		goto out;
	reader->sparse = task->st.st_blocks * 512 < task->st.st_size;
	memset(&result, 0, sizeof(result));
	if (hashio_fd(reader->engine, task->srcfd, &task->st, reader_sink, reader, &result) != 0) {
		if (!reader->abandoned && !stopping(copy))
			source_failed(copy, task, result.error ? result.error : EIO, NULL);
		goto abort;
	}
	if (result.changed) {
		source_failed(copy, task, 0, "changed while being copied");
		goto abort;
	}
	if (stopping(copy))
		goto abort;
	reader->result = &result;
	fanout(reader, op_finish, OP_WRITE);
	collect_errors(reader);
	if (copy->opt.verify) {
		fanout(reader, op_verify, OP_WRITE);
		collect_errors(reader);
	}
	fanout(reader, op_install, OP_WRITE);
	collect_errors(reader);
	for (size_t i = 0; i < copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (op->state == OP_IDLE || !dest_ok(op->dest))
			continue;
		if (mine)
			mine->dest_ino[i] = op->existing_ino;
		atomic_fetch_add(&op->dest->files, 1);
		atomic_fetch_add(&op->dest->bytes, (uint64_t)task->st.st_size);
		progress_add(copy->progress, i, 1, (uint64_t)task->st.st_size);
		seal_add(copy, op->dest, op->existing_ino, (uint64_t)task->st.st_size, task->rel,
			 task->rel_len, &task->st.st_mtim, result.hex);
		op->state = OP_IDLE;
	}
	ok = true;
	goto out;
abort:
	for (size_t i = 0; i < copy->ndests; i++) {
		struct fileop *op = &reader->ops[i];
		if (op->fd >= 0) {
			close(op->fd);
			op->fd = -1;
			unlinkat(op->dirfd, op->temp, 0);
		}
		op->state = OP_IDLE;
	}
out:
	reader->result = NULL; /* it pointed at this frame's result */
	if (mine)
		link_finish(copy, mine, ok, &result);
}

static void reader_work(void *context, void *item)
{
	struct reader *reader = context;
	struct task *task = item;

	if (!reader) {
		stop_run(task->copy, STOP_INTERNAL, task->rel, ENOMEM);
	} else if (!stopping(reader->worker.copy)) {
		reader_copy(reader, task);
	}
	close(task->srcfd);
	free(task);
}

/*
 * The readers of source device dev, made when its first file comes. NULL
 * (errno set) when they cannot be made.
 */
static struct pool *device_readers(struct copy *copy, dev_t dev)
{
	struct pool_config config;
	struct pool *readers = NULL;

	pthread_mutex_lock(&copy->devices_lock);
	for (size_t i = 0; i < copy->ndevices && !readers; i++)
		if (copy->devices[i].dev == dev)
			readers = copy->devices[i].readers;
	if (!readers && copy->ndevices == SOURCE_DEVICES_MAX)
		readers = copy->devices[SOURCE_DEVICES_MAX - 1].readers;
	if (!readers) {
		memset(&config, 0, sizeof(config));
		config.threads = copy->opt.readers;
		config.queue_capacity = (size_t)copy->opt.readers * 4;
		config.init = reader_init;
		config.work = reader_work;
		config.fini = reader_fini;
		config.arg = copy;
		readers = pool_new(&config);
		if (readers) {
			copy->devices[copy->ndevices].dev = dev;
			copy->devices[copy->ndevices].readers = readers;
			copy->ndevices++;
		}
	}
	pthread_mutex_unlock(&copy->devices_lock);
	return readers;
}

/*
 * Hand a regular file (open as srcfd, which the task then owns) to its
 * device's readers, or copy it right here when it is small and worker is a
 * walker.
 */
static void submit_file(struct worker *worker, int srcfd, const struct stat *st,
			const char *rel, size_t len)
{
	struct copy *copy = worker->copy;
	struct task *task = malloc(sizeof(*task) + len + 1);
	struct pool *readers;

	if (!task) {
		close(srcfd);
		stop_run(copy, STOP_INTERNAL, rel, ENOMEM);
		return;
	}
	task->copy = copy;
	task->srcfd = srcfd;
	task->st = *st;
	task->rel_len = len;
	memcpy(task->rel, rel, len);
	task->rel[len] = '\0';
	if (worker->inline_small && st->st_size <= INLINE_MAX) {
		/* worker is the first member of a struct reader (walker_init). */
		reader_work((struct reader *)worker, task);
		return;
	}
	readers = device_readers(copy, st->st_dev);
	if (!readers || pool_submit(readers, task) != 0) {
		int err = errno;
		close(srcfd);
		free(task);
		stop_run(copy, STOP_INTERNAL, rel, err);
	}
}

/* ------------------------------------------------------------------ */
/* Producers */

/* Open a source file for reading without following a link or touching atime. */
static int open_source(int at_fd, const char *at_path)
{
	int fd = openat(at_fd, at_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME | O_NONBLOCK);

	if (fd < 0 && errno == EPERM)
		fd = openat(at_fd, at_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	return fd;
}

/*
 * Copy one source entry (at_fd/at_path opens it; st is its lstat) to
 * relative path rel in every destination.
 */
static void copy_entry(struct worker *worker, int at_fd, const char *at_path,
		       const struct stat *st, const char *rel, size_t len)
{
	struct copy *copy = worker->copy;
	char *target = NULL;
	struct stat fst;
	int fd;

	if (S_ISREG(st->st_mode)) {
		fd = open_source(at_fd, at_path);
		if (fd < 0 || fstat(fd, &fst) != 0) {
			stop_run(copy, STOP_SOURCE, rel, errno);
			if (fd >= 0)
				close(fd);
			return;
		}
		if (!S_ISREG(fst.st_mode)) {
			close(fd);
			stop_run_why(copy, STOP_SOURCE, rel, 0, "changed while being copied");
			return;
		}
		submit_file(worker, fd, &fst, rel, len);
		return;
	}
	if (S_ISDIR(st->st_mode)) {
		fd = -1;
		if (copy->opt.preserve)
			fd = openat(at_fd, at_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		for (size_t i = 0; i < copy->ndests; i++)
			dest_make_dir(worker, &copy->dests[i], rel, len, st, fd);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISSOCK(st->st_mode)) {
		diag_note("%s: skipping a socket", rel);
		return;
	}
	if (S_ISLNK(st->st_mode)) {
		size_t cap = (size_t)st->st_size + 2;
		ssize_t n;
		if (cap < 64)
			cap = 64;
		for (;;) {
			char *grown = realloc(target, cap);
			if (!grown) {
				stop_run(copy, STOP_INTERNAL, rel, ENOMEM);
				goto out;
			}
			target = grown;
			n = readlinkat(at_fd, at_path, target, cap);
			if (n < 0) {
				stop_run(copy, STOP_SOURCE, rel, errno);
				goto out;
			}
			if ((size_t)n < cap) {
				target[n] = '\0';
				break;
			}
			cap *= 2;
		}
	}
	for (size_t i = 0; i < copy->ndests; i++)
		dest_make_node(worker, &copy->dests[i], rel, len, st, target);
out:
	free(target);
}

/* A walker thread's context: a whole reader, so it can copy small files itself. */
static void *walker_init(void *arg)
{
	struct reader *reader = reader_init(arg);

	if (!reader)
		return NULL;
	reader->worker.inline_small = true;
	return &reader->worker;
}

static void walker_fini(void *context)
{
	reader_fini(context);
}

/* Whether st is one of the destination roots (a destination inside SRC). */
static bool is_dest_root(struct copy *copy, const struct stat *st)
{
	for (size_t i = 0; i < copy->ndests; i++)
		if (copy->root_dev[i] == st->st_dev && copy->root_ino[i] == st->st_ino)
			return true;
	return false;
}

static enum walk_action walk_visit(void *context, const struct walk_entry *entry)
{
	struct worker *worker = context;
	const struct stat *st = entry->st;
	struct stat lst, reg;
	struct copy *copy;
	const char *rel;
	size_t len;

	if (!worker)
		return WALK_STOP;
	copy = worker->copy;
	if (stopping(copy))
		return WALK_STOP;
	if (entry->error) {
		stop_run(copy, STOP_SOURCE, entry->path, entry->error);
		return WALK_STOP;
	}
	if (!st && entry->type == DT_REG && entry->depth > 0) {
		/* A regular file is stat'ed once, through its open fd (copy_entry). */
		memset(&reg, 0, sizeof(reg));
		reg.st_mode = S_IFREG;
		st = &reg;
	} else if (!st) {
		if (fstatat(entry->at_fd, entry->at_path, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
			stop_run(copy, STOP_SOURCE, entry->path, errno);
			return WALK_STOP;
		}
		st = &lst;
	}
	if (entry->depth == 0 && !S_ISDIR(st->st_mode)) {
		stop_run(copy, STOP_SOURCE, entry->path, ENOTDIR);
		return WALK_STOP;
	}
	if (entry->depth == 0) {
		/* The root itself gets SRC's mode and mtime at completion. */
		for (size_t i = 0; i < copy->ndests; i++) {
			struct dest *dest = &copy->dests[i];
			mode_t mode = kept_mode(copy, st->st_mode);
			int ok;
			if (!dest_ok(dest))
				continue;
			if (dest->root_created)
				ok = journal_dir(dest->journal, "", 0, mode, &st->st_mtim);
			else
				ok = journal_old_dir(dest->journal, "", 0, &dest->root_mtime, mode,
						     &st->st_mtim);
			if (ok != 0)
				dest_fail(dest, "", 0, errno, "journal");
		}
		return WALK_CONTINUE;
	}
	rel = entry->path + copy->root_len;
	while (*rel == '/')
		rel++;
	len = entry->path_len - (size_t)(rel - entry->path);
	if (entry->depth == 1 && (strcmp(entry->name, copy->opt.seal_name) == 0 ||
				  strcmp(entry->name, JOURNAL_NAME) == 0))
		return WALK_PRUNE; /* a seal or journal of SRC's own is not content */
	if (S_ISDIR(st->st_mode) && is_dest_root(copy, st)) {
		diag_note("%s: skipping a destination inside the source", entry->path);
		return WALK_PRUNE;
	}
	copy_entry(worker, entry->at_fd, entry->at_path, st, rel, len);
	return stopping(copy) ? WALK_STOP : WALK_CONTINUE;
}

void copy_tree(struct copy *copy, const char *src)
{
	struct walk_config config;
	const char *roots[1] = { src };
	struct stat lst, st;
	char *slashed = NULL;

	/* SRC is a directory to copy the contents of: a symlink to one is
	 * followed, as "SRC/" would be. */
	if (lstat(src, &lst) == 0 && S_ISLNK(lst.st_mode) && stat(src, &st) == 0 &&
	    S_ISDIR(st.st_mode) && (slashed = malloc(strlen(src) + 2)) != NULL) {
		strcpy(slashed, src);
		strcat(slashed, "/");
		roots[0] = slashed;
	}
	copy->root_len = strlen(roots[0]);
	memset(&config, 0, sizeof(config));
	config.flags = 0; /* stat only what is not a regular file (walk_visit) */
	config.visit = walk_visit;
	config.thread_init = walker_init;
	config.thread_fini = walker_fini;
	config.arg = copy;
	if (walk(roots, 1, &config) != 0)
		stop_run(copy, STOP_SOURCE, src, errno);
	free(slashed);
}

/*
 * Normalize a path lexically into out: repeated slashes and "." components
 * dropped, no trailing slash. Returns -1 (EXDEV) for a ".." component.
 */
static int normalize(struct dbuf *out, const char *path, size_t len)
{
	size_t i = 0;

	dbuf_clear(out);
	if (len > 0 && path[0] == '/' && dbuf_putc(out, '/') != 0)
		return -1;
	while (i < len) {
		size_t start;
		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i == start || (i - start == 1 && path[start] == '.'))
			continue;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
			errno = EXDEV;
			return -1;
		}
		if (out->len > 0 && out->data[out->len - 1] != '/' && dbuf_putc(out, '/') != 0)
			return -1;
		if (dbuf_append(out, path + start, i - start) != 0)
			return -1;
	}
	if (out->len == 0 && dbuf_putc(out, '.') != 0)
		return -1;
	return 0;
}

/* How much of the absolute path to strip if it lies under root, or SIZE_MAX. */
static size_t under(const char *path, const struct dbuf *root)
{
	if (root->len == 0 || root->data[0] != '/')
		return SIZE_MAX;
	if (strcmp(root->data, "/") == 0)
		return 0;
	if (strncmp(path, root->data, root->len) != 0 ||
	    (path[root->len] != '/' && path[root->len] != '\0'))
		return SIZE_MAX;
	return root->len;
}

/* Make sure every directory above rel exists in every destination (records mode). */
static void ensure_parents(struct worker *worker, int srcroot, const char *rel, size_t len)
{
	struct copy *copy = worker->copy;
	size_t dir_len;
	const char *base;
	size_t base_len;

	beneath_split(rel, len, &dir_len, &base, &base_len);
	while (dir_len > 0 && rel[dir_len - 1] == '/')
		dir_len--;
	if (dir_len == 0)
		return;
	if (worker->last_parent.len == dir_len &&
	    memcmp(worker->last_parent.data, rel, dir_len) == 0)
		return;
	dbuf_clear(&worker->last_parent);
	for (size_t i = 0; i <= dir_len; i++) {
		struct stat st;
		char *sub;
		if (i < dir_len && rel[i] != '/')
			continue;
		if (dbuf_append(&worker->last_parent, rel + worker->last_parent.len,
				i - worker->last_parent.len) != 0) {
			stop_run(copy, STOP_INTERNAL, rel, ENOMEM);
			return;
		}
		sub = worker->last_parent.data;
		if (fstatat(srcroot, sub, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			stop_run(copy, STOP_SOURCE, sub, errno);
			return;
		}
		if (!S_ISDIR(st.st_mode)) {
			stop_run(copy, STOP_SOURCE, sub, ENOTDIR);
			return;
		}
		for (size_t d = 0; d < copy->ndests; d++)
			dest_make_dir(worker, &copy->dests[d], sub, i, &st, -1);
	}
}

void copy_records(struct copy *copy, struct input *in, const char *from)
{
	struct worker *worker;
	struct dbuf norm, root, real_root;
	const char *from_dir = from;
	struct rec rec;
	char *real;
	const char *why;
	enum input_status status;
	int srcroot, slash = -1;

	dbuf_init(&norm);
	dbuf_init(&root);
	dbuf_init(&real_root);
	rec_init(&rec);
	worker = walker_init(copy);
	if (worker)
		worker->inline_small = false; /* the readers give parallelism here */
	if (!from)
		from_dir = ".";
	srcroot = open(from_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!worker || srcroot < 0 || normalize(&root, from_dir, strlen(from_dir)) != 0) {
		stop_run(copy, worker ? STOP_SOURCE : STOP_INTERNAL, from_dir, errno);
		goto out;
	}
	/* Absolute records match --from as written or as resolved (a relative --from). */
	real = from ? realpath(from, NULL) : NULL;
	if (real) {
		normalize(&real_root, real, strlen(real));
		free(real);
	}
	while (!stopping(copy)) {
		const char *path, *rel;
		size_t len;
		struct stat st;
		int base;

		status = input_next(in, &rec, &why);
		if (status == INPUT_EOF)
			break;
		if (status == INPUT_COMMENT)
			continue;
		if (status == INPUT_MALFORMED) {
			diag_input_error(input_name(in), input_line(in), "%s", why);
			continue;
		}
		if (status == INPUT_ERROR) {
			stop_run(copy, STOP_SOURCE, input_name(in), errno);
			break;
		}
		path = rec_path(&rec);
		if (normalize(&norm, path, rec_path_len(&rec)) != 0) {
			diag_input_error(input_name(in), input_line(in),
					 "path with '..' would leave the destination");
			continue;
		}
		rel = norm.data;
		base = srcroot;
		if (rel[0] == '/') {
			if (!from) {
				/* Copied whole: the path is taken from "/". */
				if (slash < 0)
					slash = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				base = slash;
			} else {
				size_t rl = under(rel, &root);
				if (rl == SIZE_MAX)
					rl = under(rel, &real_root);
				if (rl == SIZE_MAX) {
					diag_input_error(input_name(in), input_line(in),
							 "absolute path not under the --from root");
					continue;
				}
				rel += rl;
			}
			while (*rel == '/')
				rel++;
		}
		if (*rel == '\0' || strcmp(rel, ".") == 0)
			continue; /* the root itself: nothing to copy */
		len = strlen(rel);
		if (fstatat(base, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			stop_run(copy, STOP_SOURCE, path, errno);
			break;
		}
		ensure_parents(worker, base, rel, len);
		if (S_ISDIR(st.st_mode))
			dbuf_clear(&worker->last_parent);
		copy_entry(worker, base, rel, &st, rel, len);
	}
out:
	if (srcroot >= 0)
		close(srcroot);
	if (slash >= 0)
		close(slash);
	walker_fini(worker);
	rec_free(&rec);
	dbuf_free(&norm);
	dbuf_free(&root);
	dbuf_free(&real_root);
}

/* ------------------------------------------------------------------ */
/* Setting up, finishing, rolling back */

static uint64_t new_run_id(void)
{
	uint64_t id = 0;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		id = ((uint64_t)now.tv_sec << 30) ^ (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 48);
	}
	return id;
}

/* Open (or make) one destination root, its journal and its seal. */
static void dest_setup(struct copy *copy, struct dest *dest)
{
	struct journal_header header;
	struct stat st;

	memset(&header, 0, sizeof(header));
	dest->rootfd = open(dest->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dest->rootfd < 0 && errno == ENOENT) {
		if (mkdir(dest->path, 0777) != 0) {
			dest_fail(dest, "", 0, errno, "making the destination");
			return;
		}
		dest->root_created = true;
		dest->rootfd = open(dest->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (dest->rootfd < 0 || fstat(dest->rootfd, &st) != 0) {
		dest_fail(dest, "", 0, errno, NULL);
		if (dest->root_created)
			rmdir(dest->path);
		return;
	}
	for (size_t i = 0; i < dest->index; i++) {
		if (copy->root_dev[i] == st.st_dev && copy->root_ino[i] == st.st_ino &&
		    copy->dests[i].rootfd >= 0) {
			close(dest->rootfd);
			dest->rootfd = -1;
			dest_fail(dest, "", 0, EINVAL, "the same directory as another destination");
			return;
		}
	}
	copy->root_dev[dest->index] = st.st_dev;
	copy->root_ino[dest->index] = st.st_ino;
	header.run_id = copy->run_id;
	header.root_created = dest->root_created;
	header.root_mtime_known = !dest->root_created;
	header.root_mtime = st.st_mtim;
	dest->root_mtime = st.st_mtim;
	dest->journal = journal_create(dest->rootfd, &header, copy->opt.fsync);
	if (!dest->journal) {
		int err = errno;
		if (dest->root_created)
			rmdir(dest->path);
		dest_fail(dest, JOURNAL_NAME, strlen(JOURNAL_NAME), err,
			  err == EEXIST ? "an unfinished run left its journal (pcopy --rollback)"
					: "journal");
		return;
	}
	if (seal_open(copy, dest) != 0)
		dest_fail(dest, copy->opt.seal_name, strlen(copy->opt.seal_name), errno,
			  errno == EEXIST ? "a seal exists (use --force or --update)" : "seal");
}

static void *writer_init(void *arg)
{
	return arg;
}

struct copy *copy_new(const struct copy_options *options, const char *const *dests,
		      size_t ndests)
{
	struct pool_config pool_config;
	const char *names[PROGRESS_LANES_MAX];
	struct copy *copy;

	copy = calloc(1, sizeof(*copy));
	if (!copy)
		return NULL;
	copy->opt = *options;
	copy->ndests = ndests;
	copy->run_id = new_run_id();
	/* Reading the umask means setting it; no other thread runs yet. */
	copy->umask = umask(0);
	umask(copy->umask);
	pthread_mutex_init(&copy->lock, NULL);
	pthread_mutex_init(&copy->devices_lock, NULL);
	pthread_mutex_init(&copy->link_lock, NULL);
	pthread_cond_init(&copy->link_done, NULL);
	copy->dests = calloc(ndests, sizeof(*copy->dests));
	copy->root_dev = calloc(ndests, sizeof(*copy->root_dev));
	copy->root_ino = calloc(ndests, sizeof(*copy->root_ino));
	if (!copy->dests || !copy->root_dev || !copy->root_ino)
		goto fail;
	for (size_t i = 0; i < ndests; i++) {
		struct dest *dest = &copy->dests[i];
		dest->index = i;
		dest->rootfd = -1;
		dest->seal_fd = -1;
		pthread_mutex_init(&dest->lock, NULL);
		dest->path = strdup(dests[i]);
		if (!dest->path)
			goto fail;
	}
	for (size_t i = 0; i < ndests; i++) {
		struct dest *dest = &copy->dests[i];
		dest_setup(copy, dest);
		if (i == 0 || !dest_ok(dest))
			continue;
		memset(&pool_config, 0, sizeof(pool_config));
		pool_config.threads = options->writers;
		pool_config.queue_capacity = (size_t)options->readers * 2;
		pool_config.init = writer_init;
		pool_config.work = writer_work;
		pool_config.arg = dest;
		dest->writers = pool_new(&pool_config); /* NULL: the reader writes it itself */
	}
	if (options->progress && ndests <= PROGRESS_LANES_MAX) {
		for (size_t i = 0; i < ndests; i++)
			names[i] = copy->dests[i].path;
		copy->progress = progress_new(ndests, names);
	}
	return copy;
fail:
	/* Nothing was created in any destination yet beyond journals: undo them. */
	for (size_t i = 0; copy->dests && i < ndests; i++) {
		struct dest *dest = &copy->dests[i];
		struct journal_result result;
		if (dest->journal) {
			journal_close(dest->journal);
			if (dest->seal_fd >= 0)
				close(dest->seal_fd);
			journal_finish(dest->path, NULL, NULL, &result);
		}
		if (dest->rootfd >= 0)
			close(dest->rootfd);
		hash_ctx_free(dest->seal_hash);
		free(dest->path);
	}
	free(copy->dests);
	free(copy->root_dev);
	free(copy->root_ino);
	free(copy);
	errno = ENOMEM;
	return NULL;
}

/* Report one thing an undo or completion left behind. */
static void report_leftover(void *arg, const char *path, int err)
{
	const char *dest = arg;

	diag_file_errorf(dest, "%s: could not be undone: %s", path, strerror(err));
}

/* Seal, commit and complete one healthy destination. Returns 0 or -1 (failed). */
static int dest_seal(struct copy *copy, struct worker *worker, struct dest *dest)
{
	struct journal_result result;

	if (copy->opt.fsync && syncfs(dest->rootfd) != 0) {
		dest_fail(dest, "", 0, errno, "syncing");
		return -1;
	}
	if (seal_close(copy, worker, dest) != 0)
		return -1;
	if (journal_commit(dest->journal) != 0) {
		dest_fail(dest, JOURNAL_NAME, strlen(JOURNAL_NAME), errno, "journal");
		return -1;
	}
	close(dest->seal_fd);
	dest->seal_fd = -1;
	journal_close(dest->journal);
	dest->journal = NULL;
	if (journal_finish(dest->path, report_leftover, dest->path, &result) != 0 ||
	    result.failures > 0) {
		diag_file_errorf(dest->path, "sealed, but completing the copy failed: %s",
				 strerror(errno));
		return -1;
	}
	if (copy->opt.fsync && syncfs(dest->rootfd) != 0) {
		diag_file_error(dest->path, errno);
		return -1;
	}
	return 0;
}

/* Undo one destination from its journal. */
static void dest_undo(struct dest *dest)
{
	struct journal_result result;

	if (dest->seal_fd >= 0) {
		close(dest->seal_fd);
		dest->seal_fd = -1;
	}
	if (!dest->journal)
		return; /* nothing of this run is there */
	journal_close(dest->journal);
	dest->journal = NULL;
	if (journal_finish(dest->path, report_leftover, dest->path, &result) != 0) {
		diag_file_errorf(dest->path, "rollback failed: %s (run pcopy --rollback)",
				 strerror(errno));
		return;
	}
	if (result.failures > 0)
		diag_file_errorf(dest->path, "rollback left %" PRIu64 " item(s) behind",
				 result.failures);
}

int copy_finish(struct copy *copy)
{
	struct worker *worker;
	sigset_t block, old;
	int sig, status = EXIT_ALL_GOOD;
	bool all_back;

	for (size_t i = 0; i < copy->ndevices; i++)
		pool_finish(copy->devices[i].readers);
	for (size_t i = 0; i < copy->ndests; i++)
		pool_finish(copy->dests[i].writers);
	progress_finish(copy->progress);
	copy->progress = NULL;
	/* From here on a second signal must not cut a rollback short. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sig = copy->opt.interrupted ? atomic_load(copy->opt.interrupted) : 0;
	all_back = sig != 0 || atomic_load(&copy->stop) != STOP_NONE;
	worker = walker_init(copy);
	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];
		if (!all_back && dest_ok(dest) && worker) {
			if (dest_seal(copy, worker, dest) == 0)
				continue;
		}
		dest_undo(dest);
		if (!all_back) {
			pthread_mutex_lock(&dest->lock);
			diag_file_errorf(dest->path, "failed (rolled back): %s",
					 dest->why ? dest->why : "out of memory");
			pthread_mutex_unlock(&dest->lock);
		}
		status = EXIT_FAILED;
	}
	if (!worker)
		status = EXIT_FAILED;
	walker_fini(worker);
	for (size_t i = 0; all_back && i < copy->ndests; i++)
		diag_note("%s: rolled back", copy->dests[i].path);
	if (all_back) {
		if (sig)
			diag_note("interrupted: every destination rolled back");
		else
			diag_file_errorf(NULL, "stopped (%s): every destination rolled back",
					 copy->stop_why ? copy->stop_why : "error");
	}
	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];
		if (dest->rootfd >= 0)
			close(dest->rootfd);
		hash_ctx_free(dest->seal_hash);
		dbuf_free(&dest->seal_buf);
		pthread_mutex_destroy(&dest->lock);
		free(dest->why);
		free(dest->path);
	}
	for (size_t i = 0; i < copy->links_cap; i++) {
		struct link_entry *entry = copy->links[i];
		if (!entry)
			continue;
		for (size_t a = 0; a < copy->opt.nalgos; a++)
			free(entry->hex[a]);
		free(entry->hex);
		free(entry->dest_ino);
		free(entry);
	}
	free(copy->links);
	free(copy->dests);
	free(copy->root_dev);
	free(copy->root_ino);
	free(copy->stop_why);
	pthread_mutex_destroy(&copy->devices_lock);
	free(copy);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (sig)
		return 128 + sig;
	diag_raise(status);
	return status;
}

int copy_rollback(const char *dest)
{
	struct journal_result result;

	if (journal_finish(dest, report_leftover, (void *)dest, &result) != 0) {
		if (errno == ENOENT)
			diag_file_errorf(dest, "no journal (%s): nothing to roll back", JOURNAL_NAME);
		else
			diag_file_error(dest, errno);
		return -1;
	}
	if (result.committed)
		diag_note("%s: the run had completed: finished it (sealed copy kept)", dest);
	else
		diag_note("%s: rolled back: %" PRIu64 " file(s) removed, %" PRIu64
			  " restored, %" PRIu64 " directorie(s) removed%s", dest, result.removed,
			  result.restored, result.dirs_removed,
			  result.root_removed ? ", destination removed" : "");
	if (result.failures > 0) {
		diag_file_errorf(dest, "%" PRIu64 " item(s) could not be undone", result.failures);
		return -1;
	}
	return 0;
}
