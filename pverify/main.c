/* SPDX-License-Identifier: 0BSD */
/** pverify: check a manifest against the files, in parallel, with phash's engine. */
#include "prelude.h"
#include "audit.h"
#include "beneath.h"
#include "diag.h"
#include "dircache.h"
#include "hash.h"
#include "hashio.h"
#include "input.h"
#include "longpath.h"
#include "manifest.h"
#include "openread.h"
#include "out.h"
#include "pool.h"
#include "preread.h"
#include "progress.h"
#include "record.h"
#include "report.h"
#include "resolve.h"
#include "seal.h"
#include "task.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: pverify [OPTION]... [-f MANIFEST]\n"
	"Check the files a manifest names against its digests and sizes.\n"
	"\n"
	"The manifest (standard input by default) may hold native records (every\n"
	"digest attribute is checked, from one read of the file), GNU lines\n"
	"(sha256sum, b2sum ...) and BSD tagged lines (SHA256 (name) = hex), mixed.\n"
	"\n"
	"  -f, --file=MANIFEST  read the manifest from MANIFEST ('-': stdin)\n"
	"  -C, --root=DIR       resolve paths beneath DIR; absolute paths, paths\n"
	"                       climbing out with .. and symlinks leading out are\n"
	"                       refused and counted as errors\n"
	"  -a, --algorithm=ALGO the algorithm of GNU lines whose digest length is\n"
	"                       ambiguous (128 hex digits: sha512 or blake2b)\n"
	"      --audit=DIR      also walk DIR (beneath -C's root when relative): report\n"
	"                       NEW files (not in the manifest) and MOVED ones (a\n"
	"                       missing entry's digest found there)\n"
	"      --sealed         the manifest must be a pcopy seal: one without its\n"
	"                       seal header and seal line fails (the default for a\n"
	"                       manifest named " SEAL_DEFAULT_NAME ", from -f or stdin)\n"
	"      --ignore-missing do not report files that are missing, nor fail for\n"
	"                       them (sha256sum -c's); fails if no file was there\n"
	"      --sizes-only     compare size (and mtime when recorded) only, reading\n"
	"                       no file: nothing is hashed, and the summary says so\n"
	"  -q, --quiet          no OK lines, not even with -v, and no summary unless\n"
	"                       something failed (sha256sum -c's --quiet)\n"
	"      --status         print nothing on stdout and no summary: the exit\n"
	"                       status tells (sha256sum -c's --status)\n"
	"  -v, --verbose        also print an OK line for every good file\n"
	"  -j, --jobs=N         N worker threads (default: 8 per CPU, at least 16,\n"
	"                       as phash: enough to hide storage latency)\n"
	"      --progress       show progress on stderr (default: when it is a terminal)\n"
	"      --no-progress    never show progress\n"
	"  -h, --help           show this help and exit\n"
	"  -V, --version        show the version and exit\n"
	"\n"
	"Output, one line per problem: FAILED, SIZE, MISSING, NEW, then TAB and the\n"
	"escaped path; ERROR TAB path TAB reason; MOVED TAB old-path TAB new-path;\n"
	"OK TAB path with -v. A summary goes to stderr.\n"
	"Exit status: 0 every file verified, 1 some file failed, was missing, new,\n"
	"moved or unreadable, or no file was checked, 2 usage error or malformed\n"
	"manifest lines.\n";

enum {
	OPT_AUDIT = 256,
	OPT_SEALED,
	OPT_IGNORE_MISSING,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_SIZES_ONLY,
	OPT_STATUS,
};

static const struct option long_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"root", required_argument, NULL, 'C'},
	{"algorithm", required_argument, NULL, 'a'},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"sealed", no_argument, NULL, OPT_SEALED},
	{"ignore-missing", no_argument, NULL, OPT_IGNORE_MISSING},
	{"sizes-only", no_argument, NULL, OPT_SIZES_ONLY},
	{"quiet", no_argument, NULL, 'q'},
	{"status", no_argument, NULL, OPT_STATUS},
	{"verbose", no_argument, NULL, 'v'},
	{"jobs", required_argument, NULL, 'j'},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *manifest;
	const char *root;
	const char *audit_dir;
	const struct hash_algo *forced;
	bool sizes_only;     /* --sizes-only: no file is read */
	bool verbose, quiet, status;
	bool ignore_missing; /* --ignore-missing: as sha256sum -c's */
	bool sealed;         /* --sealed, or the manifest is named SEAL_DEFAULT_NAME */
	int progress;        /* -1: when stderr is a terminal */
	unsigned jobs;
};

/* What every worker shares: set up before the pool starts, read-only while
 * it runs (main.c's one piece of global state). */
struct shared {
	int rootfd;          /* AT_FDCWD without --root */
	bool sizes_only;
	struct report *report;
	struct progress *progress; /* NULL when off */
	size_t open_ahead;   /* files of a batch a worker opens before reading (preread_share) */
};
static struct shared shared;

/* A worker's hashing engines, one per distinct set of algorithms it met
 * (nearly always just one), reused from file to file. */
#define ENGINE_CACHE 4
struct worker {
	struct {
		size_t count;
		const struct hash_algo *algos[HASH_SET_MAX];
		struct hashio *engine;
	} cache[ENGINE_CACHE];
	size_t used, victim;
	struct dircache dirs;    /* without --root: the directory of the last file opened */
	struct preread *pre;     /* batched cold reads; NULL with PTOOLS_IO_URING=0 */
};

static void *worker_init(void *arg)
{
	struct worker *worker = calloc(1, sizeof(*worker));

	(void)arg;
	/*
	 * The reading thread parses the manifest for every worker, so it must
	 * not wait for CPU behind them. On 2 cores with 16 workers, each worker
	 * it woke with a batch took the CPU from it (wakeup preemption), the
	 * queue ran dry and the workers slept: 1.8 of 2 cores busy and pverify
	 * 1.2x phash's time on the same files. Workers marked SCHED_BATCH
	 * (throughput work; no privilege needed) do not preempt it: 1.9 cores,
	 * within 1.05x of phash. Where the policy is refused, nothing else changes.
	 */
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &(struct sched_param){ 0 });
	if (worker) {
		dircache_init(&worker->dirs);
		worker->pre = preread_new();
	}
	return worker;
}

static void worker_fini(void *context)
{
	struct worker *worker = context;
	size_t i;

	if (!worker)
		return;
	for (i = 0; i < worker->used; i++)
		hashio_free(worker->cache[i].engine);
	dircache_fini(&worker->dirs);
	preread_free(worker->pre);
	free(worker);
}

static struct hashio *engine_for(struct worker *worker, const struct task *task)
{
	struct hashio_config config;
	struct hashio *engine;
	size_t i, slot;

	for (i = 0; i < worker->used; i++) {
		if (worker->cache[i].count == task->ndigests &&
		    memcmp(worker->cache[i].algos, task->algos,
			   task->ndigests * sizeof(task->algos[0])) == 0)
			return worker->cache[i].engine;
	}
	memset(&config, 0, sizeof(config));
	config.algos = task->algos;
	config.count = task->ndigests;
	engine = hashio_new(&config);
	if (!engine)
		return NULL;
	if (worker->used < ENGINE_CACHE) {
		slot = worker->used++;
	} else {
		slot = worker->victim++ % ENGINE_CACHE;
		hashio_free(worker->cache[slot].engine);
	}
	worker->cache[slot].count = task->ndigests;
	memcpy(worker->cache[slot].algos, task->algos, task->ndigests * sizeof(task->algos[0]));
	worker->cache[slot].engine = engine;
	return engine;
}

static void set_error(struct task *task, int error, const char *reason)
{
	task->verdict = VERDICT_ERROR;
	task->error = error;
	task->reason = reason;
}

/*
 * A record without digests: the entry exists (fstat of an O_PATH fd, the
 * entry itself and not a symlink's target), has the type the record names,
 * and, for a regular file, its size. Nothing is read.
 */
static void check_entry(struct task *task, const struct stat *st)
{
	task->verdict = VERDICT_OK;
	if (task->type && task->type != rec_type_letter(st->st_mode))
		set_error(task, 0, "type differs");
	else if (S_ISREG(st->st_mode) && task->has_size && (uint64_t)st->st_size != task->size)
		task->verdict = VERDICT_SIZE;
	else if (S_ISREG(st->st_mode))
		task->size = (uint64_t)st->st_size;
	else
		task->size = 0;
}

/*
 * Open the task's path: to read it (the one safe way, openread.h), or, for
 * a record that claims only existence and type, as an O_PATH handle to
 * fstat. Without --root, relative to the worker's cached directory: a
 * manifest lists a directory's files together, and looking up a long path's
 * directories again for every file costs about a third of the open. Under
 * --root, beneath_resolve's checks apply from the root every time. Returns
 * the descriptor with its fstat in *st, OPEN_READ_NOT_REGULAR (*st set), or
 * -1 with errno.
 */
static int open_task(struct worker *worker, const struct task *task, struct stat *st)
{
	const char *name;
	int dirfd, fd;

	if (!task->look_only) {
		if (shared.rootfd != AT_FDCWD)
			return open_read_at(shared.rootfd, task->path,
					    OPEN_READ_BENEATH | OPEN_READ_NO_PRESTAT, st, NULL);
		dirfd = dircache_at(&worker->dirs, task->path, task->path_len, &name);
		return open_read_at(dirfd, name, OPEN_READ_NO_PRESTAT, st, NULL);
	}
	if (shared.rootfd != AT_FDCWD) {
		fd = beneath_resolve(shared.rootfd, task->path, O_PATH | O_NOFOLLOW);
	} else {
		dirfd = dircache_at(&worker->dirs, task->path, task->path_len, &name);
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENAMETOOLONG) {
			int parent = longpath_parent(AT_FDCWD, task->path, &name);
			if (parent == -1)
				return -1;
			fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (parent != AT_FDCWD)
				xclose(parent);
		}
	}
	if (fd >= 0 && fstat(fd, st) != 0) {
		xclose(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the task's file, fstat it (in *st) and decide all that needs no
 * reading: missing, not regular, size, --sizes-only. Returns the descriptor when
 * the file is to be hashed (check_hash closes it), else -1 with the verdict set.
 */
static int check_open(struct worker *worker, struct task *task, struct stat *st)
{
	int fd;

	fd = open_task(worker, task, st);
	if (fd == OPEN_READ_NOT_REGULAR) {
		set_error(task, S_ISDIR(st->st_mode) ? EISDIR : 0, "not a regular file");
		return -1;
	}
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			task->verdict = VERDICT_MISSING;
		else if (errno == EXDEV)
			set_error(task, 0, "leads out of the root through a symlink");
		else if (errno == ELOOP && shared.rootfd != AT_FDCWD)
			set_error(task, 0, "symlink not followed under --root");
		else
			set_error(task, errno, NULL);
		return -1;
	}
	if (task->look_only) {
		check_entry(task, st);
		goto done;
	}
	if (task->has_size && (uint64_t)st->st_size != task->size) {
		task->verdict = VERDICT_SIZE;
		goto done;
	}
	task->size = (uint64_t)st->st_size;
	if (shared.sizes_only) {
		task->verdict = VERDICT_OK;
		if (task->has_mtime && (st->st_mtim.tv_sec != task->mtime.tv_sec ||
					st->st_mtim.tv_nsec != task->mtime.tv_nsec))
			task->verdict = VERDICT_FAILED;
		goto done;
	}
	task->verdict = VERDICT_OK;
	if (task->ndigests == 0)
		goto done;
	return fd;
done:
	close(fd);
	return -1;
}

/*
 * Hash an opened file once with every algorithm (its first len bytes
 * already read into head, if any) and compare the digests.
 */
static void check_hash(struct worker *worker, struct task *task, int fd, const struct stat *st,
		       const void *head, size_t len)
{
	struct hashio_result result;
	struct hashio *engine;
	size_t i;

	engine = engine_for(worker, task);
	if (!engine) {
		set_error(task, errno, NULL);
		return;
	}
	if (hashio_fd(engine, fd, st, head, len, NULL, NULL, &result) != 0) {
		set_error(task, result.error, result.error ? NULL : "could not be read");
		return;
	}
	if (result.changed) {
		set_error(task, 0, "changed while it was read");
		return;
	}
	for (i = 0; i < task->ndigests; i++) {
		if (strcmp(result.hex[i], task->hex[i]) != 0) {
			task->verdict = VERDICT_FAILED;
			break;
		}
	}
}

/*
 * Files go to the pool in batches: for small files, one queue hand-off (and
 * its futex wake-up) per file costs about as much as checking the file. A
 * batch closes at BATCH_FILES files or BATCH_BYTES of expected size, so one
 * batch never holds many large files that other workers could share; a file
 * of unknown size (GNU and BSD lines) counts as UNKNOWN_BYTES. The first
 * batches go out at once, one file each, so a short list of large files is
 * spread over every worker. (Flushing whenever a worker is idle was tried:
 * on small files it brought back a hand-off per file and cost 1.6x the CPU.)
 */
#define BATCH_FILES 32
_Static_assert(BATCH_FILES <= PREREAD_FILES, "a batch is opened and read ahead at once");
#define BATCH_BYTES ((uint64_t)4 << 20)
#define UNKNOWN_BYTES (BATCH_BYTES / 16)

struct batch {
	uint64_t seq;            /* the report's number for the batch */
	size_t count;
	uint64_t bytes;
	struct task *tasks[BATCH_FILES];
};

struct batch_work {
	struct worker *worker;
	struct batch *batch;
	struct report_batch verdicts;
};

/* preread's open: check_open for a task still to be checked. */
static int open_item(void *ctx, size_t i, struct stat *st)
{
	struct batch_work *bw = ctx;
	struct task *task = bw->batch->tasks[i];

	if (task->verdict != VERDICT_PENDING)
		return -1;
	if (!bw->worker) {
		set_error(task, ENOMEM, NULL);
		return -1;
	}
	return check_open(bw->worker, task, st);
}

/* preread's finish: hash if open_item opened the file, then report. */
static void finish_item(void *ctx, size_t i, int fd, const struct stat *st, const void *head,
			size_t len)
{
	struct batch_work *bw = ctx;
	struct task *task = bw->batch->tasks[i];

	if (fd >= 0) {
		check_hash(bw->worker, task, fd, st, head, len);
		close(fd);
	}
	progress_add(shared.progress, 0, 1, task->verdict == VERDICT_OK ? task->size : 0);
	report_add(shared.report, &bw->verdicts, task);
}

/* Check a batch's files (preread.h: small cold files are read together). */
static void check_batch(struct worker *worker, struct batch *batch)
{
	static const struct preread_ops ops = {.open = open_item, .finish = finish_item};
	struct batch_work bw = {.worker = worker, .batch = batch};

	report_batch_init(&bw.verdicts);
	preread_batch(worker ? worker->pre : NULL, batch->count, shared.open_ahead,
		      &ops, &bw);
	report_batch_done(shared.report, batch->seq, &bw.verdicts);
	report_batch_free(&bw.verdicts);
	free(batch);
}

static void work(void *context, void *arg)
{
	check_batch(context, arg);
}

struct reading {
	struct input *in;
	const struct out *sink;  /* stdout, to stop when its reader has gone */
	struct pool *pool;
	struct batch *batch;     /* tasks not yet handed to the pool */
	struct worker *local;    /* checks in this thread when no worker could start */
	uint64_t batches;        /* handed to the pool so far */
	uint64_t tasks;          /* numbered so far */
	unsigned jobs;
	struct audit *audit;
	uint64_t malformed;
	uint64_t refused;
	bool sealed_content;     /* the manifest began with the seal header */
	bool seal_whole;         /* ...and ended with a seal line that matched */
};

/* Hand the open batch to the pool, once the window has room for all of it. */
static void flush_batch(struct reading *reading)
{
	struct batch *batch = reading->batch;

	if (!batch)
		return;
	reading->batch = NULL;
	reading->batches++;
	batch->seq = report_take(shared.report);
	if (pool_submit(reading->pool, batch) != 0) {
		/* No worker thread could start: check the batch here. */
		if (!reading->local)
			reading->local = worker_init(NULL);
		check_batch(reading->local, batch);
	}
}

/* Number a task and add it to the open batch. Returns 0, or -1 (ENOMEM: the
 * task is then checked here, alone, as an error). */
static int submit(struct reading *reading, struct task *task)
{
	struct batch *batch = reading->batch;
	uint64_t bytes = task->has_size ? task->size : 0;

	task->seq = reading->tasks++;
	if (shared.progress)
		progress_expect(shared.progress, 0, 1, bytes);
	if (!batch) {
		batch = malloc(sizeof(*batch));
		if (!batch) {
			/* With no batch open, the task can take a number of its own. */
			struct report_batch verdicts;
			uint64_t seq = report_take(shared.report);

			set_error(task, ENOMEM, NULL);
			report_batch_init(&verdicts);
			report_add(shared.report, &verdicts, task);
			report_batch_done(shared.report, seq, &verdicts);
			report_batch_free(&verdicts);
			return -1;
		}
		batch->count = 0;
		batch->bytes = 0;
		reading->batch = batch;
	}
	batch->tasks[batch->count++] = task;
	batch->bytes += task->has_size ? bytes : UNKNOWN_BYTES;
	if (batch->count == BATCH_FILES || batch->bytes >= BATCH_BYTES ||
	    reading->batches < reading->jobs)
		flush_batch(reading);
	return 0;
}

/* Read the whole manifest, submitting one task per entry. Returns 0 or -1 (read error). */
static int read_manifest(struct reading *reading, const struct options *options)
{
	struct manifest_parser parser;
	struct seal_check seal;
	const char *text, *why;
	struct task *task;
	size_t len;
	enum input_status status;
	int rc = 0;

	manifest_parser_init(&parser, options->forced);
	seal_check_init(&seal);
	if (manifest_sniff(&parser, reading->in) != 0) {
		diag_file_error(input_name(reading->in), errno);
		rc = -1;
	}
	for (; rc == 0;) {
		/* The reader of our output went away with SIGPIPE ignored (EPIPE):
		 * nothing more can be reported, so stop reading, as pfind does. */
		if (out_error(reading->sink) == EPIPE)
			break;
		status = input_read_line(reading->in, &text, &len, &why);
		/* The parser holds each entry back a line: take the last one. */
		if (status == INPUT_EOF && (task = manifest_finish(&parser)) != NULL)
			goto take;
		if (status == INPUT_EOF)
			break;
		if (status == INPUT_ERROR) {
			diag_file_error(input_name(reading->in), errno);
			rc = -1;
			break;
		}
		if (status == INPUT_MALFORMED) {
			diag_input_error(input_name(reading->in), input_line(reading->in), "%s", why);
			reading->malformed++;
			/* The line's bytes are gone: a seal can no longer match. */
			seal_check_lost(&seal);
			continue;
		}
		switch (seal_check_line(&seal, input_line(reading->in), text, len)) {
		case SEAL_CONTENT:
			break;
		case SEAL_IGNORED:
		case SEAL_MATCH:
			continue;
		case SEAL_MISMATCH:
			diag_note("%s:%ju: seal digest mismatch: the seal was edited",
				  input_name(reading->in), input_line(reading->in));
			diag_raise(EXIT_FAILED);
			continue;
		case SEAL_UNCHECKABLE:
			diag_note("%s:%ju: the seal could not be checked", input_name(reading->in),
				  input_line(reading->in));
			diag_raise(EXIT_FAILED);
			continue;
		case SEAL_AFTER:
			diag_note("%s:%ju: line after the seal: the sealed manifest was extended",
				  input_name(reading->in), input_line(reading->in));
			diag_raise(EXIT_FAILED);
			reading->refused++;
			continue;
		}
		if (len == 0 || text[0] == '#')
			continue;
		task = manifest_parse(&parser, text, len, input_line(reading->in), &why);
		if (!task && !why)
			continue;
		if (!task) {
			diag_input_error(input_name(reading->in), input_line(reading->in), "%s", why);
			reading->malformed++;
			continue;
		}
take:
		if (shared.rootfd != AT_FDCWD) {
			const char *refusal = resolve_refusal(task->path, task->path_len);

			if (refusal)
				set_error(task, 0, refusal);
		}
		if (reading->audit && audit_add_path(reading->audit, task->path, task->path_len) != 0) {
			diag_file_error(NULL, errno);
			free(task);
			rc = -1;
			break;
		}
		submit(reading, task);
	}
	flush_batch(reading);
	reading->sealed_content = seal.header;
	switch (seal_check_end(&seal, options->sealed)) {
	case SEAL_END_OK:
		reading->seal_whole = seal.header && diag_status() == EXIT_ALL_GOOD;
		break;
	case SEAL_END_NO_HEADER:
		diag_note("%s: no seal header: not a sealed manifest, or its seal was removed",
			  input_name(reading->in));
		diag_raise(EXIT_FAILED);
		break;
	case SEAL_END_CUT:
		diag_note("%s: sealed manifest without its seal line: it was cut short",
			  input_name(reading->in));
		diag_raise(EXIT_FAILED);
		break;
	}
	seal_check_fini(&seal);
	manifest_parser_fini(&parser);
	return rc;
}

/*
 * A GNU line's algorithm is told from its digest length: 64 digits are
 * taken for sha256, though sha3-256 lines have 64 too, and then every line
 * fails. Say, once per length, which algorithm was assumed for the FAILED
 * lines and that -a chooses another (the FAILED lines keep their format).
 */
static void print_assumed(const struct report_counts *counts, const char *name)
{
	char others[256];
	size_t len;

	for (len = 0; len <= HASH_DIGEST_MAX; len++) {
		if (!counts->assumed_failed[len] ||
		    !report_alternatives(counts->assumed[len], others, sizeof(others)))
			continue;
		diag_note("%s: %ju FAILED %s (assumed %s; a %zu-digit digest may also be %s: "
			  "use -a)", name, (uintmax_t)counts->assumed_failed[len],
			  counts->assumed_failed[len] == 1 ? "line" : "lines",
			  counts->assumed[len]->name, 2 * len, others);
	}
}

/* The summary line on stderr. With --sizes-only, what was compared was not
 * hashed, and an "ok" must not read as verified content. */
static void print_summary(const struct report_counts *counts, const struct options *options)
{
	const char *ok = options->sizes_only ? " ok (sizes only, not hashed)" : " ok";

	if (options->audit_dir)
		diag_note("%ju%s, %ju failed, %ju missing, %ju errors, %ju new, %ju moved",
			  (uintmax_t)counts->ok, ok, (uintmax_t)(counts->failed + counts->size),
			  (uintmax_t)counts->missing, (uintmax_t)counts->errors,
			  (uintmax_t)counts->new_files, (uintmax_t)counts->moved);
	else
		diag_note("%ju%s, %ju failed, %ju missing%s, %ju errors", (uintmax_t)counts->ok,
			  ok, (uintmax_t)(counts->failed + counts->size),
			  (uintmax_t)counts->missing, options->ignore_missing ? " (ignored)" : "",
			  (uintmax_t)counts->errors);
}

static void parse_options(int argc, char **argv, struct options *options)
{
	int c;

	memset(options, 0, sizeof(*options));
	options->progress = -1;
	opterr = 0; /* our own messages, with the program name diag.c uses */
	while ((c = getopt_long(argc, argv, ":f:C:a:qvj:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			options->manifest = optarg;
			break;
		case 'C':
			options->root = optarg;
			break;
		case 'a':
			options->forced = hash_lookup(optarg);
			if (!options->forced)
				diag_usage_error("unknown algorithm '%s'", optarg);
			break;
		case OPT_AUDIT:
			options->audit_dir = optarg;
			break;
		case OPT_SEALED:
			options->sealed = true;
			break;
		case OPT_IGNORE_MISSING:
			options->ignore_missing = true;
			break;
		case OPT_SIZES_ONLY:
			options->sizes_only = true;
			break;
		case 'q':
			options->quiet = true;
			break;
		case OPT_STATUS:
			options->status = true;
			break;
		case 'v':
			options->verbose = true;
			break;
		case 'j':
			options->jobs = diag_parse_count(optarg, "job");
			break;
		case OPT_PROGRESS:
			options->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			options->progress = 0;
			break;
		case 'h':
			diag_help(usage_text);
		case 'V':
			diag_version();
		default:
			diag_bad_option(c, argv);
		}
	}
	if (optind < argc)
		diag_usage_error("unexpected argument '%s' (the manifest is read with -f or from stdin)",
				 argv[optind]);
	if (options->ignore_missing && options->audit_dir)
		diag_usage_error("--ignore-missing and --audit do not go together (the audit "
				 "reports what is missing)");
	if (options->jobs == 0)
		options->jobs = pool_default_threads(8, 16, 256);
}

/* Which lines the report prints: --status none, -q no OK line even with -v. */
static enum report_print print_level(const struct options *options)
{
	if (options->status)
		return REPORT_PRINT_NOTHING;
	if (options->quiet || !options->verbose)
		return REPORT_PRINT_PROBLEMS;
	return REPORT_PRINT_ALL;
}

/* With --audit: walk walk_root, then pair missing entries with new files. */
static int run_audit(struct audit *audit, const char *walk_root, const struct options *options,
		     uint64_t *walk_errors)
{
	struct task **missing;
	size_t nmissing;
	int rc;

	rc = audit_walk(audit, walk_root, options->jobs, walk_errors);
	missing = report_take_missing(shared.report, &nmissing);
	if (rc == 0)
		rc = audit_finish(audit, shared.report, missing, nmissing);
	else
		audit_finish(audit, shared.report, missing, nmissing);
	return rc;
}

/*
 * Set up --audit before the manifest is read: the directory to walk (a
 * relative DIR beneath -C's root, an absolute one as it is) must exist, be a
 * directory and, under -C, lie inside the root, or no manifest path could
 * name its files; each failure says why and is a usage error, never a
 * silently skipped audit. On success *walk_root (malloc'd) is what to walk
 * and *audit the audit, keyed from the canonical root (or current
 * directory). Returns 0, or -1 after the message.
 */
static int audit_setup(const struct options *options, char **walk_root, struct audit **audit)
{
	bool beneath = options->root && options->audit_dir[0] != '/';
	char *base = NULL, *canon = NULL;
	struct stat st;
	size_t len;
	int rc = -1;

	*audit = NULL;
	*walk_root = NULL;
	if (beneath ? asprintf(walk_root, "%s/%s", options->root, options->audit_dir) < 0
		    : !(*walk_root = strdup(options->audit_dir))) {
		*walk_root = NULL;
		diag_file_error(NULL, ENOMEM);
		return -1;
	}
	base = realpath(options->root ? options->root : ".", NULL);
	if (!base) {
		diag_file_error(options->root ? options->root : ".", errno);
		goto out;
	}
	canon = realpath(*walk_root, NULL);
	if (!canon || stat(canon, &st) != 0) {
		diag_file_errorf(*walk_root, "--audit: %s%s", strerror(errno),
				 beneath ? " (a relative --audit directory is beneath -C's)" : "");
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_file_errorf(*walk_root, "--audit: not a directory");
		goto out;
	}
	len = strlen(base);
	if (options->root && strcmp(canon, base) != 0 && strcmp(base, "/") != 0 &&
	    !(strncmp(canon, base, len) == 0 && canon[len] == '/')) {
		diag_file_errorf(*walk_root, "--audit: outside the -C root %s, where every "
				 "manifest path lies", options->root);
		goto out;
	}
	*audit = audit_new(base);
	if (!*audit) {
		diag_file_error(NULL, errno);
		goto out;
	}
	rc = 0;
out:
	free(base);
	free(canon);
	if (rc != 0) {
		free(*walk_root);
		*walk_root = NULL;
	}
	return rc;
}

/*
 * Leave the manifest itself out of the audit's NEW files: the file given
 * with -f, or standard input when it is a file; else, for a seal read from a
 * pipe (recognised by its content: sealed_content), the seal by its default
 * name at the root, where pcopy writes it.
 */
static void audit_ignore_manifest(struct audit *audit, const struct options *options,
				  bool sealed_content)
{
	struct stat st;

	if (options->manifest && strcmp(options->manifest, "-") != 0) {
		if (stat(options->manifest, &st) == 0)
			audit_ignore(audit, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		return;
	}
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
		audit_ignore(audit, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		return;
	}
	if (sealed_content && fstatat(shared.rootfd, SEAL_DEFAULT_NAME, &st,
				      AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		audit_ignore(audit, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

int main(int argc, char **argv)
{
	struct options options;
	struct reading reading = {0};
	char *walk_root = NULL;
	struct pool_config config;
	struct report_counts counts;
	struct out *sink = NULL;
	uint64_t walk_errors = 0;

	diag_init("pverify");
	/* SIGPIPE keeps its default: "pverify -v < list | head -1" ends when
	 * head does, quietly, as pfind and phash do. */
	parse_options(argc, argv, &options);
	if (getenv("PTOOLS_NO_OPENAT2"))
		beneath_disable_openat2();

	shared.rootfd = AT_FDCWD;
	shared.sizes_only = options.sizes_only;
	shared.open_ahead = preread_share(options.jobs);
	if (options.root) {
		shared.rootfd = open(options.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (shared.rootfd < 0) {
			diag_file_error(options.root, errno);
			return EXIT_USAGE;
		}
	}
	if (options.audit_dir && audit_setup(&options, &walk_root, &reading.audit) != 0)
		return EXIT_USAGE;
	reading.in = input_open(options.manifest, false);
	if (!reading.in) {
		diag_file_error(options.manifest, errno);
		audit_free(reading.audit);
		free(walk_root);
		return EXIT_USAGE;
	}
	if (seal_named(options.manifest))
		options.sealed = true;
	sink = out_new(STDOUT_FILENO);
	reading.sink = sink;
	shared.report = sink ? report_new(sink, 0, print_level(&options),
					  options.audit_dir ? REPORT_MISSING_KEEP
					  : options.ignore_missing ? REPORT_MISSING_IGNORE
					  : REPORT_MISSING_PRINT)
			     : NULL;
	if (!shared.report)
		goto nomem;

	memset(&config, 0, sizeof(config));
	config.threads = options.jobs;
	config.queue_capacity = 2 * options.jobs + 64;
	config.init = worker_init;
	config.work = work;
	config.fini = worker_fini;
	reading.jobs = options.jobs;
	reading.pool = pool_new(&config);
	if (!reading.pool)
		goto nomem;

	if (options.progress == 1 || (options.progress == -1 && progress_default()))
		shared.progress = progress_new(1, NULL);
	read_manifest(&reading, &options);
	pool_finish(reading.pool);
	reading.pool = NULL;
	worker_fini(reading.local);
	progress_finish(shared.progress);
	shared.progress = NULL;
	if (report_flush(shared.report) != 0)
		diag_stdout_error(errno);
	if (out_error(sink) == EPIPE) {
		/* Its reader has gone (SIGPIPE ignored): results were lost, so
		 * not a success, but nothing is worth a message. */
		diag_raise(EXIT_FAILED);
		goto done;
	}
	if (reading.audit) {
		audit_ignore_manifest(reading.audit, &options, reading.sealed_content);
		if (run_audit(reading.audit, walk_root, &options, &walk_errors) != 0)
			diag_file_error(walk_root, errno);
	}

	counts = report_counts(shared.report);
	counts.errors += reading.refused + walk_errors;
	if (counts.failed + counts.size + (options.ignore_missing ? 0 : counts.missing) +
	    counts.errors + counts.new_files + counts.moved > 0)
		diag_raise(EXIT_FAILED);
	/* -q: the summary only when something went wrong; --status: never. */
	if (!options.status && (!options.quiet || diag_status() != EXIT_ALL_GOOD)) {
		print_assumed(&counts, input_name(reading.in));
		print_summary(&counts, &options);
	}
	if (reading.malformed)
		diag_note("%ju malformed manifest lines skipped", (uintmax_t)reading.malformed);
	/* As sha256sum -c ("no properly formatted checksum lines found"): a
	 * manifest without one entry to check (empty, only comments, a seal
	 * emptied or cut before its first record) proves nothing, which is a
	 * failure, not a success. A whole seal of an empty copy (only
	 * directories) proves that copy held no file. */
	if (reading.tasks == 0 && !reading.seal_whole) {
		diag_note("%s: no file was checked", input_name(reading.in));
		diag_raise(EXIT_FAILED);
	}
	/* As sha256sum -c --ignore-missing: a manifest none of whose files is
	 * there verified nothing, which is a failure, not a success. */
	else if (options.ignore_missing &&
		 counts.ok + counts.failed + counts.size + counts.errors == 0) {
		diag_note("%s: no file was verified", input_name(reading.in));
		diag_raise(EXIT_FAILED);
	}
done:
	report_free(shared.report);
	out_free(sink);
	audit_free(reading.audit);
	free(walk_root);
	input_close(reading.in);
	if (shared.rootfd != AT_FDCWD)
		close(shared.rootfd);
	return diag_finish();
nomem:
	diag_file_error(NULL, ENOMEM);
	goto done;
}
