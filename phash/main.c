/* SPDX-License-Identifier: 0BSD */
/** phash: add digests to a record stream, several algorithms from one read, many files at once. */
#include "prelude.h"
#include "batch.h"
#include "diag.h"
#include "dircache.h"
#include "hash.h"
#include "hashio.h"
#include "openread.h"
#include "input.h"
#include "out.h"
#include "pool.h"
#include "preread.h"
#include "progress.h"
#include "record.h"
#include "reorder.h"
#include "reuse.h"
#include "sumfmt.h"
#include "walk.h"
#include "xio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: phash [OPTION]... [PATH]...\n"
	"Add one ALGO:HEX digest attribute per algorithm to each record of a stream\n"
	"(records, plain paths, or NUL-separated paths with -0) read from standard\n"
	"input, or to the PATHs given, or to every entry under each DIR with -r.\n"
	"Each file is read once, however many algorithms; files are hashed in parallel.\n"
	"\n"
	"  -a, --algorithm=LIST  comma-separated algorithms (default sha256): md5 sha1\n"
	"                        sha224 sha256 sha384 sha512 sha512-256 sha3-256\n"
	"                        sha3-512 blake2b blake2s xxh32 xxh64 xxh3 xxh128 crc32\n"
	"  -j, --jobs=N          files hashed at once (default 8 per core, at least 16)\n"
	"  -0, --null            input paths are separated by NUL (find -print0)\n"
	"  -r, --recursive       walk each PATH as a directory tree\n"
	"  -f, --format=FORMAT   records (default), gnu (as sha256sum), bsd (as --tag)\n"
	"      --reuse=OLDLIST   keep the digests of files whose inode, size and mtime\n"
	"                        are unchanged since OLDLIST, without reading them\n"
	"      --unordered       write records as they finish, not in input order\n"
	"      --nocache         drop each file's pages from the cache once hashed\n"
	"      --progress        report progress on standard error (default on a tty)\n"
	"      --no-progress     do not\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n"
	"\n"
	"Exit status: 0 all good, 1 a file could not be read or changed while being\n"
	"hashed, 2 usage error or malformed input.\n";

_Static_assert(BATCH_TASKS <= PREREAD_FILES, "a batch is opened and read ahead at once");

/** A batch holding this many bytes of known file sizes goes to a worker at once. */
#define BATCH_BYTES ((uint64_t)1 << 20)
/* Files done before their typical size is trusted. */
#define BATCH_SIZE_SAMPLE 16

enum format {
	FORMAT_NATIVE,
	FORMAT_GNU,
	FORMAT_BSD,
};

struct options {
	const struct hash_algo *algos[HASH_SET_MAX];
	size_t count;
	unsigned jobs;
	bool nul;
	bool recursive;
	bool unordered;
	bool nocache;
	bool progress;
	enum format format;
	const char *reuse_path;
};

/* The run's shared state: read-only once set up, except the thread-safe parts. */
struct phash {
	struct options opt;
	struct out *out;
	struct reorder *reorder;    /* NULL with --unordered */
	struct reuse *reuse;        /* NULL without --reuse */
	struct progress *progress;  /* NULL without --progress */
	struct pool *pool;
	struct batch_pool *batches;
	atomic_size_t in_flight;    /* batches submitted and not yet done */
	atomic_uint_fast64_t files_done, bytes_done; /* for the batch size */
	atomic_uint workers_started;
	unsigned parallel_engines;  /* workers whose engine may run helper threads */
	unsigned cores;             /* online CPUs: batches in flight that keep them busy */
	size_t open_ahead;          /* files of a batch a worker opens before reading (preread_share) */
};

/* A worker's context (and the producer's own, for the fallback). */
struct worker {
	struct phash *ph;
	struct hashio *engine;  /* made on first use; NULL if that failed */
	bool engine_failed;
	bool serial;            /* its engine never starts helper threads */
	struct dircache dirs;   /* the directory of the last file opened */
	struct preread *pre;    /* batched cold reads; NULL with PTOOLS_IO_URING=0 */
	struct outbuf ob;       /* --unordered output */
	struct dbuf line;       /* the current batch's output */
	uint64_t batch_bytes;   /* bytes of the files of the current batch */
};

/* One thread that reads input and fills batches. */
struct producer {
	struct phash *ph;
	struct batch *batch;    /* being filled, or NULL */
	struct worker *fallback;
};

static void worker_init(struct worker *worker, struct phash *ph)
{
	memset(worker, 0, sizeof(*worker));
	worker->ph = ph;
	outbuf_init(&worker->ob, ph->out, (size_t)64 << 10);
	dbuf_init(&worker->line);
	dircache_init(&worker->dirs);
	worker->pre = preread_new();
}

static void worker_fini(struct worker *worker)
{
	outbuf_fini(&worker->ob);
	dbuf_free(&worker->line);
	dircache_fini(&worker->dirs);
	hashio_free(worker->engine);
	preread_free(worker->pre);
}

static struct hashio *worker_engine(struct worker *worker)
{
	const struct options *opt = &worker->ph->opt;
	struct hashio_config config = {
		.algos = opt->algos,
		.count = opt->count,
		.nocache = opt->nocache,
		.serial = worker->serial,
		.progress = worker->ph->progress,
	};

	if (!worker->engine && !worker->engine_failed) {
		worker->engine = hashio_new(&config);
		worker->engine_failed = !worker->engine;
	}
	return worker->engine;
}

/* Hand the worker's output for a batch on: in sequence, or at once with --unordered. */
static void emit(struct worker *worker, uint64_t seq)
{
	struct phash *ph = worker->ph;
	int ret;

	if (ph->reorder) {
		ret = reorder_complete(ph->reorder, seq, &worker->line);
	} else {
		ret = dbuf_append(&worker->ob.buf, worker->line.data, worker->line.len);
		dbuf_clear(&worker->line);
		if (ret == 0)
			ret = outbuf_commit(&worker->ob);
	}
	/* An output error is reported once, at the end (out_error). */
	(void)ret;
}

static int set_type(struct rec *rec, char type)
{
	return rec_attr_set(rec, "type", &type, 1);
}

/* The errno name ("EACCES"), or "E" and its number when glibc has none. */
static const char *errno_name(int err, char *buf, size_t size)
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, size, "E%d", err);
	return buf;
}

static void drop_digests(struct rec *rec, const struct options *opt)
{
	size_t i;

	for (i = 0; i < opt->count; i++)
		rec_attr_remove(rec, opt->algos[i]->name);
}

/* Native output of a hashed (or reused) file. */
static int format_hashed(struct task *task, const struct options *opt,
			 const struct hashio_result *res, struct dbuf *line)
{
	struct rec *rec = &task->rec;
	char mtime[REC_TIME_MAX];
	size_t i;

	rec->ino = res->ino;
	rec->size = res->size;
	rec->plain = false;
	if (task->fresh && set_type(rec, 'f') != 0)
		return -1;
	if (rec_attr_set(rec, "mtime", mtime, rec_time_into(mtime, &res->mtime)) != 0)
		return -1;
	for (i = 0; i < opt->count; i++) {
		if (rec_attr_set(rec, opt->algos[i]->name, res->hex[i], 2 * opt->algos[i]->digest_len) != 0)
			return -1;
	}
	rec_attr_remove(rec, "error");
	if (res->changed) {
		if (rec_attr_set(rec, "changed", "1", 1) != 0)
			return -1;
	} else {
		rec_attr_remove(rec, "changed");
	}
	return rec_format(rec, line);
}

/*
 * Output of a file that could not be hashed: error instead of digests. A bare
 * path or a walked entry gets the inode, size and type of its stat when
 * there was one (an open refused, a read failed), as pfind would write them,
 * else 0 and 0 and no type.
 */
static int format_failed(struct task *task, const struct options *opt,
			 const struct hashio_result *res, struct dbuf *line)
{
	struct rec *rec = &task->rec;
	char buf[16];
	const char *name = errno_name(res->error, buf, sizeof(buf));

	if (opt->format != FORMAT_NATIVE)
		return 0;
	if (task->fresh && res->mode != 0) {
		rec->ino = res->ino;
		rec->size = res->size;
		if (set_type(rec, rec_type_letter(res->mode)) != 0)
			return -1;
	}
	rec->plain = false;
	drop_digests(rec, opt);
	if (rec_attr_set(rec, "error", name, strlen(name)) != 0)
		return -1;
	return rec_format(rec, line);
}

/* Output of something that is not a regular file: passed through unchanged. */
static int format_other(struct task *task, const struct options *opt,
			const struct hashio_result *res, struct dbuf *line)
{
	struct rec *rec = &task->rec;

	if (opt->format != FORMAT_NATIVE)
		return 0;
	if (task->fresh) {
		/* A bare path becomes a record: its stat is all there is to say. */
		rec->plain = false;
		rec->ino = res->ino;
		rec->size = res->size;
		if (set_type(rec, rec_type_letter(res->mode)) != 0)
			return -1;
	}
	return rec_format(rec, line);
}

static int format_sums(struct task *task, const struct options *opt,
		       const struct hashio_result *res, struct dbuf *line)
{
	const char *path = rec_path(&task->rec);
	size_t len = rec_path_len(&task->rec), i;

	if (opt->format == FORMAT_GNU)
		return sumfmt_gnu_format(line, res->hex[0], path, len);
	for (i = 0; i < opt->count; i++) {
		if (sumfmt_bsd_format(line, opt->algos[i], res->hex[i], path, len) != 0)
			return -1;
	}
	return 0;
}

/* The reuse check: the old digests when the file is unchanged since OLDLIST. */
static bool try_reuse(struct phash *ph, struct task *task, struct hashio_result *res)
{
	const char *path = rec_path(&task->rec);
	const char *const *old;
	struct stat st;
	size_t i;

	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		return false;
	old = reuse_find(ph->reuse, path, rec_path_len(&task->rec), &st);
	if (!old)
		return false;
	memset(res, 0, offsetof(struct hashio_result, hex));
	res->ino = (uint64_t)st.st_ino;
	res->size = (uint64_t)st.st_size;
	res->mtime = st.st_mtim;
	res->mode = st.st_mode;
	for (i = 0; i < ph->opt.count; i++)
		memcpy(res->hex[i], old[i], 2 * ph->opt.algos[i]->digest_len + 1);
	return true;
}

static int open_flags(const struct task *task)
{
	return OPEN_READ_NOFOLLOW | (task->known_regular ? OPEN_READ_NO_PRESTAT : 0);
}

/*
 * Hash one item and append its output to worker->line. fd is the file
 * opened by open_item (-1: not opened), head its first bytes read ahead.
 */
static void process(struct worker *worker, struct task *task, int fd, const struct stat *st,
		    const void *head, size_t head_len)
{
	struct phash *ph = worker->ph;
	const struct options *opt = &ph->opt;
	const char *path = rec_path(&task->rec);
	size_t mark = worker->line.len;
	struct hashio_result res;
	struct hashio *engine;
	int ret, err = 0;

	/* All but the digests, which only a hashed file fills. */
	memset(&res, 0, offsetof(struct hashio_result, hex));
	if (task->walk_error) {
		res.error = task->walk_error;
		ret = -1;
	} else if (task->have_stat) {
		res.ino = (uint64_t)task->st.st_ino;
		res.size = (uint64_t)task->st.st_size;
		res.mode = task->st.st_mode;
		res.not_regular = true;
		ret = -1;
	} else if (ph->reuse && try_reuse(ph, task, &res)) {
		/* Not read, but done: count its bytes for the rate and ETA. */
		progress_add(ph->progress, 0, 0, res.size);
		ret = 0;
	} else if ((engine = worker_engine(worker)) && fd >= 0) {
		ret = hashio_fd(engine, fd, st, head, head_len, NULL, NULL, &res);
	} else if (engine) {
		const char *name;
		int dirfd = dircache_at(&worker->dirs, path, rec_path_len(&task->rec), &name);

		ret = hashio_file_at(engine, dirfd, name, open_flags(task), &res);
	} else {
		res.error = ENOMEM;
		ret = -1;
	}
	/* A directory named by the user cannot be hashed, as sha256sum says;
	 * one found by a walk, or described by a record (pfind writes them),
	 * is part of the tree and passes through. */
	if (ret != 0 && res.not_regular && task->named && S_ISDIR(res.mode)) {
		res.not_regular = false;
		res.error = EISDIR;
	}

	if (ret == 0) {
		/* The engine counted the bytes as it read them. */
		progress_add(ph->progress, 0, 1, 0);
		worker->batch_bytes += res.size;
		if (res.changed)
			diag_file_errorf(path, "file changed while being hashed");
		if (opt->format == FORMAT_NATIVE)
			err = format_hashed(task, opt, &res, &worker->line);
		else
			err = format_sums(task, opt, &res, &worker->line);
	} else if (res.not_regular) {
		progress_add(ph->progress, 0, 1, 0);
		err = format_other(task, opt, &res, &worker->line);
	} else {
		progress_add(ph->progress, 0, 1, 0);
		diag_file_error(path, res.error);
		err = format_failed(task, opt, &res, &worker->line);
	}
	if (err != 0) {
		diag_file_error(path, ENOMEM);
		dbuf_truncate(&worker->line, mark);
	}
}

struct batch_work {
	struct worker *worker;
	struct batch *batch;
};

/*
 * preread's open: a file to be hashed, opened as hashio_file_at opens it. Not
 * with --reuse, where most files are not read at all; a file that does not
 * open here is left to hashio_file_at, which tries again and says why.
 */
static int open_item(void *ctx, size_t i, struct stat *st)
{
	struct batch_work *work = ctx;
	const struct task *task = &work->batch->tasks[i];
	const char *name;
	int dirfd, fd;

	if (task->is_text || task->walk_error || task->have_stat || work->worker->ph->reuse)
		return -1;
	dirfd = dircache_at(&work->worker->dirs, rec_path(&task->rec), rec_path_len(&task->rec), &name);
	fd = open_read_at(dirfd, name, open_flags(task), st, NULL);
	return fd >= 0 ? fd : -1;
}

/* preread's finish: hash item i (or copy its text) into the batch's output. */
static void finish_item(void *ctx, size_t i, int fd, const struct stat *st, const void *head,
			size_t head_len)
{
	struct batch_work *work = ctx;
	struct task *task = &work->batch->tasks[i];

	if (!task->is_text)
		process(work->worker, task, fd, st, head, head_len);
	else if (dbuf_append(&work->worker->line, task->text.data, task->text.len) != 0)
		diag_file_error(NULL, ENOMEM);
	if (fd >= 0)
		xclose(fd);
}

/* Do every item of a batch, emit its output, recycle it. */
static void process_batch(struct worker *worker, struct batch *batch)
{
	static const struct preread_ops ops = {.open = open_item, .finish = finish_item};
	struct batch_work work = {.worker = worker, .batch = batch};
	struct phash *ph = worker->ph;

	preread_batch(worker->pre, batch->count, ph->open_ahead, &ops, &work);
	emit(worker, batch->seq);
	atomic_fetch_add(&ph->files_done, batch->count);
	atomic_fetch_add(&ph->bytes_done, worker->batch_bytes);
	worker->batch_bytes = 0;
	batch_put(ph->batches, batch);
	atomic_fetch_sub(&ph->in_flight, 1);
}

static void *pool_worker_init(void *arg)
{
	struct phash *ph = arg;
	struct worker *worker = malloc(sizeof(*worker));

	if (worker) {
		worker_init(worker, ph);
		/* Helper threads pay only while cores are idle, and each engine
		 * that runs them holds a ring of 4 MiB: only the first workers
		 * (one per core) get such engines. The first file always goes to
		 * the first worker, so a single large file is hashed in parallel. */
		worker->serial = atomic_fetch_add(&ph->workers_started, 1) >= ph->parallel_engines;
	}
	return worker;
}

static void pool_worker_work(void *context, void *arg)
{
	struct worker *worker = context;
	struct batch *batch = arg;

	if (worker) {
		process_batch(worker, batch);
	} else {
		/* No context (its allocation failed): a temporary one still
		 * hashes the items and keeps the order. */
		struct worker temporary;

		worker_init(&temporary, batch->owner);
		process_batch(&temporary, batch);
		worker_fini(&temporary);
	}
}

static void pool_worker_fini(void *context)
{
	struct worker *worker = context;

	if (!worker)
		return;
	worker_fini(worker);
	free(worker);
}

/* Serialises the fallback below: unordered walks submit from several threads. */
static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;

/* Queue the producer's batch (after taking its sequence number); if no
 * worker thread can start at all, do it in this thread. */
static void flush_batch(struct producer *producer)
{
	struct phash *ph = producer->ph;
	struct batch *batch = producer->batch;

	if (!batch)
		return;
	producer->batch = NULL;
	if (batch->count == 0) {
		batch_put(ph->batches, batch);
		return;
	}
	batch->owner = ph;
	if (ph->reorder)
		batch->seq = reorder_take(ph->reorder);
	atomic_fetch_add(&ph->in_flight, 1);
	if (pool_submit(ph->pool, batch) != 0) {
		pthread_mutex_lock(&fallback_lock);
		process_batch(producer->fallback, batch);
		pthread_mutex_unlock(&fallback_lock);
	}
}

/* A free item of the producer's batch (NULL when out of memory). */
static struct task *next_slot(struct producer *producer)
{
	struct task *task;

	if (!producer->batch) {
		producer->batch = batch_get(producer->ph->batches);
		if (!producer->batch)
			return NULL;
	}
	task = batch_slot(producer->batch);
	if (!task) {
		flush_batch(producer);
		return next_slot(producer);
	}
	return task;
}

/*
 * How many items a batch may hold. Batching pays for small files (one queue
 * operation and one reorder slot for many files) but hurts large ones: a
 * batch of several large files is a long task that one worker must do alone
 * at the end of the run. Sizes are often unknown beforehand (plain paths,
 * walks), so the files done so far tell the typical size: batches hold
 * about BATCH_BYTES of it.
 */
static size_t batch_limit(struct phash *ph)
{
	uint64_t files = atomic_load(&ph->files_done), bytes = atomic_load(&ph->bytes_done);
	uint64_t typical;

	if (files < BATCH_SIZE_SAMPLE)
		return BATCH_TASKS;
	typical = bytes / files;
	if (typical == 0 || BATCH_BYTES / typical >= BATCH_TASKS)
		return BATCH_TASKS;
	return BATCH_BYTES / typical > 0 ? (size_t)(BATCH_BYTES / typical) : 1;
}

/*
 * Count the item just filled, and hand the batch on when it is full (see
 * batch_limit), holds BATCH_BYTES of sizes known from the input, or some
 * worker should get work now. For small files that is when fewer batches
 * are in flight than there are cores (a core may be idle): with 8 workers
 * per core most workers are always idle, and flushing for them handed
 * batches on half full, each with a futex wake-up and often a context
 * switch (200,000 small files, -j16 on two cores: 9,500 batches instead of
 * 6,250, 22,000 futex calls instead of 8,000). While files are large, or
 * their size is not known yet, it is whenever a worker is idle: a second
 * large file must not wait in a batch behind the first (the cores rule
 * alone made a 1 GiB tree of mixed sizes slower).
 */
static void commit_slot(struct producer *producer, uint64_t bytes)
{
	struct batch *batch = producer->batch;
	struct phash *ph = producer->ph;
	size_t limit = batch_limit(ph);
	bool small = limit == BATCH_TASKS && atomic_load(&ph->files_done) >= BATCH_SIZE_SAMPLE;

	batch_commit(batch, bytes);
	if (batch->count >= limit || batch->bytes >= BATCH_BYTES ||
	    atomic_load(&ph->in_flight) < (small ? ph->cores : ph->opt.jobs))
		flush_batch(producer);
}

/* Queue text to pass through unchanged, in its place. */
static void pass_text(struct producer *producer, const char *text, size_t len)
{
	struct task *task = next_slot(producer);

	if (!task || dbuf_append(&task->text, text, len) != 0 || dbuf_putc(&task->text, '\n') != 0) {
		diag_file_error(NULL, ENOMEM);
		return;
	}
	task->is_text = true;
	commit_slot(producer, 0);
}

/* Read records (or paths) from path ("-": standard input) and queue them. */
static void read_input(struct producer *producer, const char *path)
{
	struct phash *ph = producer->ph;
	struct input *in = input_open(path, ph->opt.nul);

	if (!in) {
		diag_file_error(path, errno);
		return;
	}
	for (;;) {
		enum input_status status;
		const char *why = NULL, *type, *text;
		struct task *task;
		size_t len;

		/* With the output gone, hashing the rest is wasted work. */
		if (out_error(ph->out))
			break;
		task = next_slot(producer);
		if (!task) {
			diag_file_error(input_name(in), ENOMEM);
			break;
		}
		status = input_next(in, &task->rec, &why);
		if (status == INPUT_EOF)
			break;
		if (status == INPUT_ERROR) {
			diag_file_error(input_name(in), errno);
			break;
		}
		if (status == INPUT_MALFORMED) {
			diag_input_error(input_name(in), input_line(in), "%s", why);
			continue;
		}
		if (status == INPUT_COMMENT) {
			text = input_text(in, &len);
			pass_text(producer, text, len);
			continue;
		}
		if (status != INPUT_RECORD)
			continue;
		task->fresh = task->rec.plain;
		task->named = task->rec.plain;
		/* A record that says it is not a regular file passes through
		 * without a look at the file: it might be a FIFO. */
		type = task->rec.plain ? NULL : rec_attr_get(&task->rec, "type", NULL);
		if (type && strcmp(type, "f") != 0) {
			if (ph->opt.format == FORMAT_NATIVE) {
				text = input_text(in, &len);
				pass_text(producer, text, len);
			}
			continue;
		}
		if (!task->rec.plain)
			progress_expect(ph->progress, 0, 1, task->rec.size);
		commit_slot(producer, task->rec.plain ? 0 : task->rec.size);
	}
	input_close(in);
}

/* Queue each PATH argument as a plain path. */
static void read_arguments(struct producer *producer, char **paths, int count)
{
	int i;

	for (i = 0; i < count && !out_error(producer->ph->out); i++) {
		struct task *task = next_slot(producer);

		if (!task || rec_set_plain(&task->rec, paths[i], strlen(paths[i])) != 0) {
			diag_file_error(paths[i], ENOMEM);
			continue;
		}
		task->fresh = true;
		task->named = true;
		commit_slot(producer, 0);
	}
}

/* -r: one producer per walker thread (one in all with WALK_SORT). */
static void *walk_thread_init(void *arg)
{
	struct producer *shared = arg, *producer = malloc(sizeof(*producer));

	if (producer)
		*producer = *shared;
	return producer;
}

static void walk_thread_fini(void *context)
{
	struct producer *producer = context;

	if (!producer)
		return;
	flush_batch(producer);
	free(producer);
}

static enum walk_action visit(void *context, const struct walk_entry *entry)
{
	struct producer *producer = context;
	struct task *task;

	if (producer && out_error(producer->ph->out))
		return WALK_STOP;
	task = producer ? next_slot(producer) : NULL;
	if (!task || rec_set_plain(&task->rec, entry->path, entry->path_len) != 0) {
		diag_file_error(entry->path, ENOMEM);
		return WALK_CONTINUE;
	}
	task->fresh = true;
	if (entry->error) {
		/* A directory already visited that could not be read: report it,
		 * its record is out already. Anything else becomes a record with
		 * an error attribute. */
		if (entry->type == DT_DIR && entry->at_fd < 0) {
			diag_file_error(entry->path, entry->error);
			return WALK_CONTINUE;
		}
		task->walk_error = entry->error;
	} else if (entry->type == DT_REG) {
		task->known_regular = true;
	} else if (entry->st) {
		task->st = *entry->st;
		task->have_stat = true;
	} else if (fstatat(entry->at_fd, entry->at_path, &task->st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Stat it now, while the walker's directory fd is valid: a worker
		 * could not reach a path longer than PATH_MAX as easily. */
		task->have_stat = true;
	} else {
		task->walk_error = errno;
	}
	commit_slot(producer, 0);
	return WALK_CONTINUE;
}

static void walk_roots(struct producer *producer, char **roots, int count)
{
	struct walk_config config = {
		.threads = 0,
		/* Ordered output follows the input order, and a walk's order is
		 * only deterministic when sorted. */
		.flags = producer->ph->opt.unordered ? 0 : WALK_SORT,
		.visit = visit,
		.thread_init = walk_thread_init,
		.thread_fini = walk_thread_fini,
		.arg = producer,
	};

	if (walk((const char *const *)roots, (size_t)count, &config) != 0)
		diag_file_error(NULL, errno);
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_REUSE = 256, OPT_UNORDERED, OPT_NOCACHE, OPT_PROGRESS, OPT_NO_PROGRESS };
	static const struct option longopts[] = {
		{"algorithm", required_argument, NULL, 'a'},
		{"jobs", required_argument, NULL, 'j'},
		{"null", no_argument, NULL, '0'},
		{"recursive", no_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{"reuse", required_argument, NULL, OPT_REUSE},
		{"unordered", no_argument, NULL, OPT_UNORDERED},
		{"nocache", no_argument, NULL, OPT_NOCACHE},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *algos = "sha256", *bad;
	size_t bad_len;
	int c, n;

	opt->progress = progress_default();
	opterr = 0; /* our own messages, with the program name diag.c uses */
	while ((c = getopt_long(argc, argv, ":a:j:0rf:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': algos = optarg; break;
		case 'j': opt->jobs = diag_parse_count(optarg, "job"); break;
		case '0': opt->nul = true; break;
		case 'r': opt->recursive = true; break;
		case 'f':
			if (strcmp(optarg, "native") == 0 || strcmp(optarg, "records") == 0)
				opt->format = FORMAT_NATIVE;
			else if (strcmp(optarg, "gnu") == 0)
				opt->format = FORMAT_GNU;
			else if (strcmp(optarg, "bsd") == 0)
				opt->format = FORMAT_BSD;
			else
				diag_usage_error("unknown format '%s' (native, gnu or bsd)", optarg);
			break;
		case OPT_REUSE: opt->reuse_path = optarg; break;
		case OPT_UNORDERED: opt->unordered = true; break;
		case OPT_NOCACHE: opt->nocache = true; break;
		case OPT_PROGRESS: opt->progress = true; break;
		case OPT_NO_PROGRESS: opt->progress = false; break;
		case 'h': diag_help(usage_text);
		case 'V': diag_version();
		default: diag_bad_option(c, argv);
		}
	}
	n = hash_parse_list(algos, opt->algos, HASH_SET_MAX, &bad, &bad_len);
	if (n < 0 && bad)
		diag_usage_error("unknown algorithm '%.*s'", (int)bad_len, bad);
	if (n <= 0)
		diag_usage_error("bad algorithm list '%s'", algos);
	opt->count = (size_t)n;
	if (opt->format == FORMAT_GNU && opt->count != 1)
		diag_usage_error("--format gnu takes exactly one algorithm (use --format bsd for several)");
	if (opt->recursive && optind == argc)
		diag_usage_error("-r needs at least one directory");
	if (opt->nul && optind < argc && !opt->recursive)
		diag_usage_error("-0 reads paths from standard input: no PATH arguments");
	if (!opt->jobs)
		opt->jobs = pool_default_threads(8, 16, 256);
}

int main(int argc, char **argv)
{
	struct phash ph;
	struct worker self;
	struct producer producer;
	struct pool_config pool_config;

	diag_init(argv[0]);
	memset(&ph, 0, sizeof(ph));
	atomic_init(&ph.in_flight, 0);
	atomic_init(&ph.files_done, 0);
	atomic_init(&ph.bytes_done, 0);
	atomic_init(&ph.workers_started, 0);
	ph.parallel_engines = pool_default_threads(1, 1, 64);
	ph.cores = pool_default_threads(1, 1, 1024);
	parse_options(argc, argv, &ph.opt);
	ph.open_ahead = preread_share(ph.opt.jobs);

	ph.out = out_new(STDOUT_FILENO);
	ph.batches = batch_pool_new();
	if (!ph.out || !ph.batches) {
		diag_file_error(NULL, errno);
		return EXIT_FAILED;
	}
	if (!ph.opt.unordered) {
		/* The window counts batches: it bounds memory (a few kilobytes of
		 * output each) while a huge file holds back the small files
		 * finished behind it. */
		ph.reorder = reorder_new(ph.out, 256 + 8 * (size_t)ph.opt.jobs);
		if (!ph.reorder) {
			diag_file_error(NULL, errno);
			return EXIT_FAILED;
		}
	}
	if (ph.opt.reuse_path) {
		ph.reuse = reuse_load(ph.opt.reuse_path, ph.opt.algos, ph.opt.count);
		if (!ph.reuse) {
			diag_file_error(ph.opt.reuse_path, errno);
			return EXIT_USAGE;
		}
	}
	if (ph.opt.progress)
		ph.progress = progress_new(1, NULL);

	pool_config = (struct pool_config){
		.threads = ph.opt.jobs,
		.queue_capacity = 2 * (size_t)ph.opt.jobs,
		.init = pool_worker_init,
		.work = pool_worker_work,
		.fini = pool_worker_fini,
		.arg = &ph,
	};
	ph.pool = pool_new(&pool_config);
	if (!ph.pool) {
		diag_file_error(NULL, errno);
		return EXIT_FAILED;
	}
	worker_init(&self, &ph);
	producer = (struct producer){.ph = &ph, .fallback = &self};

	if (ph.opt.recursive)
		walk_roots(&producer, argv + optind, argc - optind);
	else if (optind < argc)
		read_arguments(&producer, argv + optind, argc - optind);
	else
		read_input(&producer, "-");
	flush_batch(&producer);

	pool_finish(ph.pool);
	worker_fini(&self);
	if (ph.reorder)
		reorder_finish(ph.reorder);
	progress_finish(ph.progress);
	out_report_error(ph.out);
	reorder_free(ph.reorder);
	reuse_free(ph.reuse);
	batch_pool_free(ph.batches);
	out_free(ph.out);
	return diag_finish();
}
