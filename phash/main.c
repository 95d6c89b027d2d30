/* SPDX-License-Identifier: 0BSD */
/** phash: add digests to a record stream, several algorithms from one read, many files at once. */
#include "prelude.h"
#include "diag.h"
#include "hash.h"
#include "hashio.h"
#include "input.h"
#include "out.h"
#include "pool.h"
#include "progress.h"
#include "record.h"
#include "reorder.h"
#include "reuse.h"
#include "sumline.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
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
	"                        sha3-512 blake2b blake2s xxh32 xxh64 xxh3 xxh128\n"
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
};

/* One input item, owned by whoever holds it (the producer, then one worker). */
struct task {
	struct phash *ph;
	uint64_t seq;         /* reorder sequence number */
	bool fresh;           /* made here (plain path, argument, walk): add a type attribute */
	bool known_regular;   /* a walker just saw it as a regular file */
	bool have_stat;       /* st holds the walker's lstat of a non-regular entry */
	int walk_error;       /* the walker could not reach it */
	struct stat st;
	struct rec rec;
};

/* A worker's context (and the producer's own, for passing records through). */
struct worker {
	struct phash *ph;
	struct hashio *engine;  /* made on first use; NULL if that failed */
	bool engine_failed;
	struct outbuf ob;       /* --unordered output */
	struct dbuf line;       /* the current item's output */
};

static struct task *task_new(void)
{
	struct task *task = calloc(1, sizeof(*task));

	if (task)
		rec_init(&task->rec);
	return task;
}

static void task_free(struct task *task)
{
	if (!task)
		return;
	rec_free(&task->rec);
	free(task);
}

static void worker_init(struct worker *worker, struct phash *ph)
{
	memset(worker, 0, sizeof(*worker));
	worker->ph = ph;
	outbuf_init(&worker->ob, ph->out, (size_t)64 << 10);
	dbuf_init(&worker->line);
}

static void worker_fini(struct worker *worker)
{
	outbuf_fini(&worker->ob);
	dbuf_free(&worker->line);
	hashio_free(worker->engine);
}

static struct hashio *worker_engine(struct worker *worker)
{
	const struct options *opt = &worker->ph->opt;
	struct hashio_config config = {
		.algos = opt->algos,
		.count = opt->count,
		.nocache = opt->nocache,
	};

	if (!worker->engine && !worker->engine_failed) {
		worker->engine = hashio_new(&config);
		worker->engine_failed = !worker->engine;
	}
	return worker->engine;
}

/* Hand the worker's line to the output: in sequence, or at once with --unordered. */
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

static char type_char(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return 'f';
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	case S_IFBLK: return 'b';
	case S_IFCHR: return 'c';
	default: return '?';
	}
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
	char mtime[48];
	size_t i;
	int len;

	rec->ino = res->ino;
	rec->size = res->size;
	rec->plain = false;
	if (task->fresh && set_type(rec, 'f') != 0)
		return -1;
	len = snprintf(mtime, sizeof(mtime), "%lld.%09ld", (long long)res->mtime.tv_sec,
		       (long)res->mtime.tv_nsec);
	if (rec_attr_set(rec, "mtime", mtime, (size_t)len) != 0)
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

/* Output of a file that could not be hashed: error instead of digests. */
static int format_failed(struct task *task, const struct options *opt, int err, struct dbuf *line)
{
	struct rec *rec = &task->rec;
	char buf[16];
	const char *name = errno_name(err, buf, sizeof(buf));

	if (opt->format != FORMAT_NATIVE)
		return 0;
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
		if (set_type(rec, type_char(res->mode)) != 0)
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
		return sumline_gnu(line, res->hex[0], path, len);
	for (i = 0; i < opt->count; i++) {
		if (sumline_bsd(line, opt->algos[i], res->hex[i], path, len) != 0)
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

/* Hash one item and format its output into worker->line. */
static void process(struct worker *worker, struct task *task)
{
	struct phash *ph = worker->ph;
	const struct options *opt = &ph->opt;
	const char *path = rec_path(&task->rec);
	struct hashio_result res;
	struct hashio *engine;
	int ret, err = 0;

	if (task->walk_error) {
		res.error = task->walk_error;
		ret = -1;
	} else if (task->have_stat) {
		memset(&res, 0, offsetof(struct hashio_result, hex));
		res.ino = (uint64_t)task->st.st_ino;
		res.size = (uint64_t)task->st.st_size;
		res.mode = task->st.st_mode;
		res.not_regular = true;
		ret = -1;
	} else if (ph->reuse && try_reuse(ph, task, &res)) {
		ret = 0;
	} else if ((engine = worker_engine(worker))) {
		ret = hashio_file_at(engine, AT_FDCWD, path,
				     HASHIO_NOFOLLOW | (task->known_regular ? HASHIO_KNOWN_REGULAR : 0), &res);
	} else {
		res.error = errno ? errno : ENOMEM;
		res.not_regular = false;
		ret = -1;
	}

	if (ret == 0) {
		progress_add(ph->progress, 0, 1, res.size);
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
		err = format_failed(task, opt, res.error, &worker->line);
	}
	if (err != 0) {
		diag_file_error(path, ENOMEM);
		dbuf_clear(&worker->line);
	}
	emit(worker, task->seq);
}

static void *pool_worker_init(void *arg)
{
	struct worker *worker = malloc(sizeof(*worker));

	if (worker)
		worker_init(worker, arg);
	return worker;
}

static void pool_worker_work(void *context, void *arg)
{
	struct worker *worker = context;
	struct task *task = arg;

	if (worker) {
		process(worker, task);
	} else {
		/* No context (out of memory): report the item, and still fill
		 * its place in the window so that the output goes on. */
		struct dbuf empty;

		diag_file_error(rec_path(&task->rec), ENOMEM);
		dbuf_init(&empty);
		if (task->ph->reorder)
			reorder_complete(task->ph->reorder, task->seq, &empty);
		dbuf_free(&empty);
	}
	task_free(task);
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

/* Queue a task (after taking its sequence number); if no worker thread can
 * start at all, do it in this thread. */
static void submit(struct phash *ph, struct worker *self, struct task *task)
{
	task->ph = ph;
	if (ph->reorder)
		task->seq = reorder_take(ph->reorder);
	if (pool_submit(ph->pool, task) != 0) {
		pthread_mutex_lock(&fallback_lock);
		process(self, task);
		pthread_mutex_unlock(&fallback_lock);
		task_free(task);
	}
}

/* Pass a comment line (or an untouched record) straight through, in order. */
static void pass_text(struct phash *ph, struct worker *self, const char *text, size_t len)
{
	uint64_t seq = ph->reorder ? reorder_take(ph->reorder) : 0;

	if (dbuf_append(&self->line, text, len) != 0 || dbuf_putc(&self->line, '\n') != 0) {
		diag_file_error(NULL, ENOMEM);
		dbuf_clear(&self->line);
	}
	emit(self, seq);
}

/* Read records (or paths) from path ("-": standard input) and queue them. */
static void read_input(struct phash *ph, struct worker *self, const char *path)
{
	struct input *in = input_open(path, ph->opt.nul);
	struct task *task = NULL;

	if (!in) {
		diag_file_error(path, errno);
		return;
	}
	for (;;) {
		enum input_status status;
		const char *why = NULL, *type, *text;
		size_t len;

		if (!task && !(task = task_new())) {
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
			pass_text(ph, self, text, len);
			continue;
		}
		if (status != INPUT_RECORD)
			continue;
		task->fresh = task->rec.plain;
		/* A record that says it is not a regular file passes through
		 * without a look at the file: it might be a FIFO. */
		type = task->rec.plain ? NULL : rec_attr_get(&task->rec, "type", NULL);
		if (type && strcmp(type, "f") != 0) {
			if (ph->opt.format == FORMAT_NATIVE) {
				text = input_text(in, &len);
				pass_text(ph, self, text, len);
			}
			continue;
		}
		if (!task->rec.plain)
			progress_expect(ph->progress, 0, 1, task->rec.size);
		submit(ph, self, task);
		task = NULL;
	}
	task_free(task);
	input_close(in);
}

/* Queue each PATH argument as a plain path. */
static void read_arguments(struct phash *ph, struct worker *self, char **paths, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		struct task *task = task_new();

		if (!task || rec_set_plain(&task->rec, paths[i], strlen(paths[i])) != 0) {
			diag_file_error(paths[i], ENOMEM);
			task_free(task);
			continue;
		}
		task->fresh = true;
		submit(ph, self, task);
	}
}

/* -r: the walker's visit callback (in walker threads, or in order with WALK_SORT). */
struct walk_state {
	struct phash *ph;
	struct worker *self;
};

static enum walk_action visit(void *context, const struct walk_entry *entry)
{
	struct walk_state *state = context;
	struct task *task = task_new();

	if (!task || rec_set_plain(&task->rec, entry->path, entry->path_len) != 0) {
		diag_file_error(entry->path, ENOMEM);
		task_free(task);
		return WALK_CONTINUE;
	}
	task->fresh = true;
	if (entry->error) {
		/* A directory already visited that could not be read: report it
		 * and leave its record as written; anything else is a record
		 * with an error attribute. */
		if (entry->type == DT_DIR && entry->at_fd < 0) {
			diag_file_error(entry->path, entry->error);
			task_free(task);
			return WALK_CONTINUE;
		}
		task->walk_error = entry->error;
	} else if (entry->type == DT_REG) {
		task->known_regular = true;
	} else {
		/* Stat it now, while the walker's directory fd is valid: the
		 * worker could not reach a path longer than PATH_MAX as easily. */
		if (entry->st) {
			task->st = *entry->st;
		} else if (fstatat(entry->at_fd, entry->at_path, &task->st, AT_SYMLINK_NOFOLLOW) != 0) {
			task->walk_error = errno;
		}
		if (!task->walk_error)
			task->have_stat = true;
	}
	submit(state->ph, state->self, task);
	return WALK_CONTINUE;
}

static void walk_roots(struct phash *ph, struct worker *self, char **roots, int count)
{
	struct walk_state state = {.ph = ph, .self = self};
	struct walk_config config = {
		.threads = 0,
		/* Ordered output follows the input order, and a walk's order is
		 * only deterministic when sorted. */
		.flags = ph->opt.unordered ? 0 : WALK_SORT,
		.visit = visit,
		.arg = &state,
	};

	if (walk((const char *const *)roots, (size_t)count, &config) != 0)
		diag_file_error(NULL, errno);
}

static unsigned parse_jobs(const char *text)
{
	char *end;
	unsigned long jobs;

	errno = 0;
	jobs = strtoul(text, &end, 10);
	if (errno || end == text || *end || jobs < 1 || jobs > 1024)
		diag_usage_error("invalid number of jobs: '%s' (1 to 1024)", text);
	return (unsigned)jobs;
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
	while ((c = getopt_long(argc, argv, "a:j:0rf:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': algos = optarg; break;
		case 'j': opt->jobs = parse_jobs(optarg); break;
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
		default: diag_usage_error("unknown option");
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
	struct pool_config pool_config;

	diag_init(argv[0]);
	memset(&ph, 0, sizeof(ph));
	parse_options(argc, argv, &ph.opt);

	ph.out = out_new(STDOUT_FILENO);
	if (!ph.out) {
		diag_file_error(NULL, errno);
		return EXIT_FAILED;
	}
	if (!ph.opt.unordered) {
		/* The window bounds memory (a few hundred bytes an item) while a
		 * huge file holds back the small files finished behind it. */
		ph.reorder = reorder_new(ph.out, 4096 + 64 * (size_t)ph.opt.jobs);
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
		.queue_capacity = 4 * (size_t)ph.opt.jobs,
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

	if (ph.opt.recursive)
		walk_roots(&ph, &self, argv + optind, argc - optind);
	else if (optind < argc)
		read_arguments(&ph, &self, argv + optind, argc - optind);
	else
		read_input(&ph, &self, "-");

	pool_finish(ph.pool);
	worker_fini(&self);
	if (ph.reorder)
		reorder_finish(ph.reorder);
	progress_finish(ph.progress);
	if (out_error(ph.out))
		diag_file_errorf("standard output", "%s", strerror(out_error(ph.out)));
	reorder_free(ph.reorder);
	reuse_free(ph.reuse);
	out_free(ph.out);
	return diag_finish();
}
