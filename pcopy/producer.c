/* SPDX-License-Identifier: 0BSD */
/**
 * Producers: walk SRC with libcommon's walker, or read records (or plain
 * paths) from standard input. Directories, symlinks and special files are
 * made in every destination right here. A walker copies a directory's small
 * regular files itself, in batches once its listing is done, and hands the
 * larger ones to the readers (each opened relative to its directory, so
 * paths longer than PATH_MAX work); records of small files go to the readers
 * in batches (reader.h), larger ones one by one.
 */
#include "prelude.h"
#include "producer.h"
#include "beneath.h"
#include "destdir.h"
#include "diag.h"
#include "dryrun.h"
#include "exclude.h"
#include "input.h"
#include "mhl2.h"
#include "mhlseal.h"
#include "preread.h"
#include "rdest.h"
#include "reader.h"
#include "record.h"
#include "sleeps.h"
#include "tally.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * A walker thread does not copy a regular file when it meets it: it holds
 * the name back until its directory is done (walk.h's dir_done) or
 * PREREAD_FILES are held, then copies them as one batch (reader.h's
 * file_batch). While the files are in the page cache that is the same work
 * in the same order (each is read alone, the moment before it is copied);
 * once one is not, the small files of a batch are read from the device
 * together. A source that is not in memory is pcopy's usual case: a camera
 * card, a disk just mounted, yesterday's data. Names are held, not
 * descriptors, so a batch keeps nothing open between visits.
 */
struct held_files {
	struct file_batch batch;  /* dirfd: the walker's, borrowed */
	size_t ahead;             /* descriptors a batch may hold open (preread_share) */
};

/*
 * A batch a walker copies itself costs it this long a file at most (in
 * nanoseconds) before the source counts as far (a network mount, FUSE, a
 * disk that seeks): from then on the walker's batches go to the source
 * device's readers, so that several are open and read at once while the
 * walk goes on, instead of one walker opening one file after another. The
 * walker must also have slept in the kernel once a file or more (sleeps.h):
 * on a busy machine every batch is slow, but a preempted walker did not
 * wait for its storage, and more readers would only crowd the CPUs.
 */
#define HELD_FAR_NS_PER_FILE 1000000

/*
 * Files a walker holds for one batch once the source is far, and until its
 * first batch has told near from far: a reader copies a batch's files one
 * after another, so on far storage small batches reach more readers at once.
 */
#define HELD_FAR_FILES 4

/* The length of the history directory's name, for matching a record's first component. */
#define HISTORY_LEN (sizeof(MHL2_DIR_NAME) - 1)

/*
 * Hand the held batch to the readers: a copy of it with its own descriptor,
 * as long as the batches queued so far hold fewer than an eighth of the
 * descriptor budget (preread.h); else -1, and the walker copies it itself.
 */
static int held_hand_over(struct worker *worker, struct held_files *held)
{
	struct copy *copy = worker->copy;
	struct file_batch *batch;
	struct stat st;

	if (atomic_fetch_add(&copy->handed, 1) >= preread_budget() / 8) {
		atomic_fetch_sub(&copy->handed, 1);
		return -1;
	}
	batch = calloc(1, sizeof(*batch));
	if (!batch) {
		atomic_fetch_sub(&copy->handed, 1);
		return -1;
	}
	batch->handed = true;
	dbuf_init(&batch->text);
	batch->base = -1;
	batch->own_dirfd = true;
	batch->dirfd = fcntl(held->batch.dirfd, F_DUPFD_CLOEXEC, 0);
	if (batch->dirfd < 0 || fstat(batch->dirfd, &st) != 0)
		goto fail;
	batch->dev = st.st_dev;
	for (size_t i = 0; i < held->batch.n; i++) {
		const char *text = held->batch.text.data;
		if (batch_push(batch, text + held->batch.name_off[i], text + held->batch.rel_off[i],
			       held->batch.rel_len[i]) != 0)
			goto fail;
	}
	held->batch.n = 0;
	dbuf_clear(&held->batch.text);
	batch_submit(worker, &batch);
	return 0;
fail:
	batch_free(batch);
	atomic_fetch_sub(&copy->handed, 1);
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copy every file the walker holds (batch.dirfd must still be open). */
static void held_flush(struct worker *worker)
{
	struct held_files *held = worker->held;
	uint64_t start;
	long sleeps;
	size_t n;

	if (!held || held->batch.n == 0)
		return;
	if (atomic_load(&worker->copy->far) && held_hand_over(worker, held) == 0)
		return;
	n = held->batch.n;
	sleeps = thread_sleeps();
	start = now_ns();
	/* worker is the first member of the walker's struct reader (walker_init). */
	batch_copy((struct reader *)worker, &held->batch, held->ahead);
	/* Far storage is worth its hand-overs only with room for more readers
	 * than -j's default (a low descriptor limit leaves none), or with the
	 * readers an explicit -j asked for. */
	if (now_ns() - start > (uint64_t)n * HELD_FAR_NS_PER_FILE &&
	    (size_t)(thread_sleeps() - sleeps) >= n &&
	    (worker->copy->opt.readers_given ||
	     readers_max(worker->copy) > worker->copy->opt.readers) &&
	    !atomic_exchange(&worker->copy->far, true))
		readers_go_far(worker->copy);
	atomic_store(&worker->copy->far_known, true);
}

/* Hold regular file at_fd/at_path (rel, len) for the next batch. */
static void hold_file(struct worker *worker, int at_fd, const char *at_path, const char *rel,
		      size_t len)
{
	struct held_files *held = worker->held;

	if (held->batch.n > 0 && held->batch.dirfd != at_fd)
		held_flush(worker);
	held->batch.dirfd = at_fd;
	if (batch_push(&held->batch, at_path, rel, len) != 0) {
		stop_run(worker->copy, STOP_INTERNAL, rel, errno);
		return;
	}
	if (held->batch.n == PREREAD_FILES ||
	    (held->batch.n >= HELD_FAR_FILES &&
	     (atomic_load(&worker->copy->far) || !atomic_load(&worker->copy->far_known))))
		held_flush(worker);
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

	if (copy->opt.dry_run) {
		dryrun_entry(worker, at_fd, at_path, st, rel, len);
		return;
	}
	if (S_ISREG(st->st_mode)) {
		if (worker->held) {
			hold_file(worker, at_fd, at_path, rel, len);
			return;
		}
		fd = source_open(copy, at_fd, at_path, rel, &fst);
		if (fd >= 0)
			submit_file(worker, fd, &fst, rel, len, NULL, 0);
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
		diag_file_note(rel, "skipping a socket");
		return;
	}
	/* A bag's payload is files (RFC 8493; bag validators, pverify --bag
	 * included, refuse anything else in data/): a link or a device copied
	 * there would make an invalid bag, left out it would be lost unsaid. */
	if (copy->opt.bag) {
		source_error(copy, rel, 0, S_ISLNK(st->st_mode)
			     ? "a symlink cannot go into a bag (its payload holds files only; "
			       "--keep-going leaves it out)"
			     : "a special file cannot go into a bag (its payload holds files only; "
			       "--keep-going leaves it out)");
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
				source_error(copy, rel, errno, NULL);
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

void copy_root(struct copy *copy, const struct stat *st)
{
	for (size_t i = 0; i < copy->ndests && !copy->opt.dry_run; i++) {
		struct dest *dest = &copy->dests[i];
		mode_t mode = dest_kept_mode(copy, st->st_mode);
		int ok;
		if (!dest_ok(dest))
			continue;
		if (dest->rdest) {
			rdest_root(dest, st);
			continue;
		}
		if (dest->root_created)
			ok = journal_dir(dest->journal, "", 0, mode, &st->st_mtim);
		else
			ok = journal_old_dir(dest->journal, "", 0, &dest->root_mtime, mode, &st->st_mtim);
		if (ok != 0)
			dest_fail(dest, "", 0, errno, "journal");
	}
}

/* A walker thread's context: a whole reader, so it can copy small files itself. */
void *walker_init(void *arg)
{
	struct reader *reader = reader_init(arg);

	if (!reader)
		return NULL;
	reader->worker.inline_small = true;
	return &reader->worker;
}

void walker_fini(void *context)
{
	reader_fini(context);
}

/* A walker of SRC's tree: a walker that also holds small files for batches. */
static void *tree_walker_init(void *arg)
{
	struct worker *worker = walker_init(arg);
	struct held_files *held;

	if (!worker)
		return NULL;
	held = calloc(1, sizeof(*held));
	if (!held) {
		walker_fini(worker);
		return NULL;
	}
	held->batch.dirfd = -1;
	dbuf_init(&held->batch.text);
	held->ahead = preread_share(walk_io_threads());
	worker->held = held;
	return worker;
}

static void tree_walker_fini(void *context)
{
	struct worker *worker = context;
	struct held_files *held = worker ? worker->held : NULL;

	if (held) {
		/* dir_done copies what a directory held before its descriptor
		 * goes: a name still held here would be a file left out. */
		if (held->batch.n > 0)
			stop_run(worker->copy, STOP_INTERNAL,
				 held->batch.text.data + held->batch.rel_off[0], EIO);
		dbuf_free(&held->batch.text);
		free(held);
	}
	walker_fini(context);
}

/* walk's dir_done: copy what the directory's visits held back. */
static void tree_dir_done(void *context)
{
	if (context)
		held_flush(context);
}

/* Whether st is one of the destination roots (a destination inside SRC). */
bool is_dest_root(const struct copy *copy, const struct stat *st)
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
		source_error(copy, entry->path, entry->error, NULL);
		return stopping(copy) ? WALK_STOP : WALK_PRUNE;
	}
	if (!st && entry->type == DT_REG && entry->depth > 0) {
		/* A regular file is stat'ed once, through its open fd (copy_entry). */
		memset(&reg, 0, sizeof(reg));
		reg.st_mode = S_IFREG;
		st = &reg;
	} else if (!st) {
		if (fstatat(entry->at_fd, entry->at_path, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
			source_error(copy, entry->path, errno, NULL);
			return stopping(copy) ? WALK_STOP : WALK_PRUNE;
		}
		st = &lst;
	}
	if (entry->depth == 0 && !S_ISDIR(st->st_mode)) {
		stop_run(copy, STOP_SOURCE, entry->path, ENOTDIR);
		return WALK_STOP;
	}
	if (entry->depth == 0) {
		copy_root(copy, st);
		return WALK_CONTINUE;
	}
	rel = entry->path + copy->root_len;
	while (*rel == '/')
		rel++;
	len = entry->path_len - (size_t)(rel - entry->path);
	if (entry->depth == 1 && (copy_is_seal_name(&copy->opt, entry->name) ||
				  journal_own_name(entry->name) ||
				  mhlseal_is_source_history(copy, entry->name)))
		return WALK_PRUNE; /* SRC's own seal, signature, journal or history: not content */
	if (copy->opt.exclude &&
	    exclude_match(copy->opt.exclude, entry->name, rel, S_ISDIR(st->st_mode))) {
		atomic_fetch_add(&copy->excluded, 1);
		return WALK_PRUNE;
	}
	if (S_ISDIR(st->st_mode) && is_dest_root(copy, st)) {
		diag_file_note(entry->path, "skipping a destination inside the source");
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
	struct tally *tally;
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
	if (copy->opt.mhl && !copy->opt.dry_run)
		mhlseal_prepare(copy, roots[0]);
	if (copy->opt.delete_extra && !(copy->src_root = strdup(roots[0])))
		stop_run(copy, STOP_INTERNAL, src, ENOMEM);
	tally = tally_tree_start(copy, roots[0]);
	memset(&config, 0, sizeof(config));
	config.flags = 0; /* stat only what is not a regular file (walk_visit) */
	if (copy->opt.dry_run)
		config.flags |= WALK_SORT; /* its report is read by people: in order */
	config.visit = walk_visit;
	config.thread_init = tree_walker_init;
	config.thread_fini = tree_walker_fini;
	config.dir_done = tree_dir_done;
	config.arg = copy;
	if (walk(roots, 1, &config) != 0)
		stop_run(copy, STOP_SOURCE, src, errno);
	tally_finish(tally);
	free(slashed);
}

/*
 * A record's path normalised lexically into out: repeated slashes and "."
 * components dropped, "." for nothing left; a ".." component is refused
 * (EXDEV): it would leave the destination.
 */
static int normalize(struct dbuf *out, const char *path, size_t len)
{
	if (beneath_normalize(out, path, len, false) != 0)
		return -1;
	return out->len == 0 ? dbuf_putc(out, '.') : 0;
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
		if (copy->opt.dry_run)
			dryrun_entry(worker, srcroot, sub, &st, sub, i);
		for (size_t d = 0; d < copy->ndests && !copy->opt.dry_run; d++)
			dest_make_dir(worker, &copy->dests[d], sub, i, &st, -1);
	}
}

void copy_count_records(struct copy *copy, bool nul_separated)
{
	tally_records(copy, nul_separated);
}

void copy_records(struct copy *copy, struct input *in, const char *from)
{
	struct worker *worker;
	struct file_batch *batch = NULL;
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
	/* --from names the source's root: its history is carried as a tree's is. */
	if (from && copy->opt.mhl && !copy->opt.dry_run)
		mhlseal_prepare(copy, from);
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
		if (journal_own_name(rel))
			continue; /* a journal of the source's own is not content */
		if (copy->opt.mhl && strncmp(rel, MHL2_DIR_NAME, HISTORY_LEN) == 0 &&
		    (rel[HISTORY_LEN] == '\0' || rel[HISTORY_LEN] == '/'))
			continue; /* --mhl writes each destination's history itself */
		if (strcmp(rel, copy->opt.seal_name) != 0 && copy_is_seal_name(&copy->opt, rel))
			continue; /* the signature of the source's own seal */
		if (strcmp(rel, copy->opt.seal_name) == 0) {
			if (seal_file_is_seal(base, rel) == 1)
				continue; /* the source's own seal: the copy gets a new one */
			stop_run_why(copy, STOP_USAGE, path, 0,
				     "a source file has the seal's name (choose another with --seal)");
			break;
		}
		len = strlen(rel);
		if (fstatat(base, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			source_error(copy, path, errno, NULL);
			continue;
		}
		if (S_ISREG(st.st_mode) && !copy->counted)
			tally_file(copy, (uint64_t)st.st_size);
		ensure_parents(worker, base, rel, len);
		if (S_ISDIR(st.st_mode))
			dbuf_clear(&worker->last_parent);
		if (S_ISREG(st.st_mode) && st.st_size <= (off_t)PREREAD_FILE_MAX && !copy->opt.dry_run)
			batch_add(worker, &batch, base, rel, len, &st);
		else
			copy_entry(worker, base, rel, &st, rel, len);
	}
	batch_submit(worker, &batch);
	progress_known(copy->progress);
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
