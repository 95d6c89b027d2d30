/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --mhl: each destination's ASC MHL generation (process "transfer"),
 * made at seal time from the files the native seal lists. Each file is kept
 * (mhlseal_keep, mhlfiles.h) as its record goes into the seal, with its
 * digests already in the generation's form, so that nothing is read back or
 * parsed once the copy is done. The seal lists files in the order they were
 * finished; a generation needs each directory's subtree together (for its
 * directory hashes), so they are sorted by path at seal time: this holds one
 * entry per file in memory (phash --seal --mhl, which walks in order, does
 * not). Directories, empty ones too, come from a walk of the destination,
 * made while the files are sorted; the generation is then hashed and
 * written by as many threads as there are cores (mhl2list.h).
 *
 * The generation and the new chain are written under temporary names and
 * put in place through the journal (dest_install), like every copied file:
 * a rollback removes the generation, puts the previous chain back and
 * removes an ascmhl directory this run made. An existing history is
 * extended (generation N+1); generations are never rewritten. Each digest
 * is compared with the newest the history records for its path (mhl2prior.h):
 * "verified" when the same, "failed" (reported, exit 1; the copy stands)
 * when not, "original" when the history has none.
 */
#include "prelude.h"
#include "mhlseal.h"
#include "destdir.h"
#include "journal.h"
#include "mhl2hist.h"
#include "mhl2ignore.h"
#include "mhl2prior.h"
#include "mhlfiles.h"
#include "mhlcarry.h"
#include "pool.h"
#include "rdest.h"
#include "diag.h"
#include "hugepage.h"
#include "proto.h"
#include "seal.h"
#include "signer.h"
#include "signkey.h"
#include "walk.h"
#include "xio.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a generation is made from. */
struct items {
	struct mhlfiles *files;         /* the files the seal lists (mhlseal_keep) */
	struct mhlfiles *dirs;          /* the destination's directories (list_dirs) */
	enum mhl2_format formats[MHL2_FORMATS];
	size_t nformats;
	const struct mhl2_prior *prior; /* what the history records, or NULL */
	const struct mhl2_ignore *ignore; /* what the generation leaves out */
	const char *dest;               /* for messages */
	uint64_t failed;
	size_t *order;                  /* the generation's entries: index << 1 | is a directory */
	size_t count;
};

void mhlseal_setup(struct copy *copy)
{
	size_t n = 0;

	for (int k = 0; k < MHL2_FORMATS; k++)
		for (size_t i = 0; i < copy->opt.nalgos; i++)
			if (mhl2_format_of_algo(copy->opt.algos[i]) == k) {
				copy->mhl_algo_of[n] = (int)i;
				copy->mhl_formats[n++] = (enum mhl2_format)k;
				break;
			}
	copy->mhl_nformats = n;
}

int mhlseal_entry_make(const struct copy *copy, char hex[][HASH_HEX_MAX + 1],
		       struct mhlseal_entry *entry)
{
	for (size_t i = 0; i < copy->mhl_nformats; i++)
		if (mhl2_digest_from_hex(copy->mhl_formats[i], hex[copy->mhl_algo_of[i]],
					 entry->digests[i]) != 0)
			return -1;
	return 0;
}

int mhlseal_keep(const struct copy *copy, struct dest *dest, const char *rel, size_t len,
		 uint64_t size, const struct timespec *mtime, const struct mhlseal_entry *entry)
{
	if (!dest->mhl_files) {
		dest->mhl_files = mhlfiles_new(copy->mhl_formats, copy->mhl_nformats);
		if (!dest->mhl_files)
			return -1;
	}
	return mhlfiles_add(dest->mhl_files, rel, len, size, mtime,
			    (const char (*)[MHL2_DIGEST_MAX + 1])entry->digests);
}

void mhlseal_forget(struct dest *dest)
{
	mhlfiles_free(dest->mhl_files);
	dest->mhl_files = NULL;
}

/* Whether a name at the destination's top belongs to pcopy, not to the copy. */
static bool is_pcopy_own(const struct copy *copy, const char *rel)
{
	return copy_is_seal_name(&copy->opt, rel) || strcmp(rel, JOURNAL_NAME) == 0 ||
	       strncmp(rel, ".pcopy.", 7) == 0;
}

/* Whether the generation lists a file the seal lists. */
static bool keep_file(void *arg, const char *path, size_t len, bool dir)
{
	const struct items *items = arg;

	return !mhl2_ignore_match(items->ignore, path, len, dir) && mhl2_text_valid(path, len);
}

/* The destination's directories, found by a walk of its own threads and
 * sorted (the work of a thread beside the files' sort). */
struct dir_listing {
	const struct copy *copy;
	const struct dest *dest;
	struct items *items;
	unsigned threads;               /* for the sort */
	size_t skip;                    /* a path's bytes before its relative part */
	pthread_mutex_t lock;           /* items->dirs, error */
	int error;                      /* 0, or the errno that stopped it */
};

static enum walk_action visit_dir(void *arg, const struct walk_entry *e)
{
	struct dir_listing *l = arg;
	const char *rel = e->path + l->skip;
	size_t len = e->path_len - l->skip;
	int error = e->error;

	if (error == 0 && e->depth == 0)
		return WALK_CONTINUE;
	if (error == 0 && e->type != DT_DIR)
		return WALK_PRUNE;
	if (error == 0 && ((e->depth == 1 && is_pcopy_own(l->copy, rel)) ||
			   mhl2_ignore_match(l->items->ignore, rel, len, true) ||
			   !mhl2_text_valid(rel, len)))
		return WALK_PRUNE;
	pthread_mutex_lock(&l->lock);
	if (error == 0 && mhlfiles_add_dir(l->items->dirs, rel, len) != 0)
		error = errno;
	if (error && !l->error)
		l->error = error;
	pthread_mutex_unlock(&l->lock);
	return error ? WALK_STOP : WALK_CONTINUE;
}

static void *list_all_dirs(void *arg)
{
	struct dir_listing *l = arg;
	/* One thread per CPU, with no rise for I/O: the destination was
	 * just written and its directories are in the cache. */
	struct walk_config config = {.visit = visit_dir, .arg = l, .threads = l->threads + 1};
	struct dbuf root;
	const char *roots[1];

	dbuf_init(&root);
	/* "/." after the path: a destination named through a symlink is
	 * walked as the directory it was opened as. */
	if (dbuf_puts(&root, l->dest->path) != 0 ||
	    dbuf_puts(&root, root.data[root.len - 1] == '/' ? "." : "/.") != 0) {
		l->error = errno;
	} else {
		roots[0] = root.data;
		l->skip = root.len + 1;
		if (walk(roots, 1, &config) != 0 && !l->error)
			l->error = errno;
	}
	if (!l->error && mhlfiles_sort(l->items->dirs, NULL, NULL, l->threads) != 0)
		l->error = errno ? errno : EIO;
	dbuf_free(&root);
	return NULL;
}

/*
 * The generation's entries in order: the files the seal lists sorted while
 * the destination's directories are listed beside them, each on every core
 * (the copy has finished). 0, or -1 with errno and *what.
 */
static int gather(const struct copy *copy, const struct dest *dest, struct items *items,
		  const char **what)
{
	unsigned threads = pool_spare_cpus();
	struct dir_listing l = {.copy = copy, .dest = dest, .items = items, .threads = threads};
	pthread_t thread;
	bool threaded;
	int err = 0;

	pthread_mutex_init(&l.lock, NULL);
	threaded = pthread_create(&thread, NULL, list_all_dirs, &l) == 0;
	if (!threaded)
		list_all_dirs(&l);
	if (items->files && mhlfiles_sort(items->files, keep_file, items, threads) != 0) {
		err = errno;
		*what = "sorting the files";
	}
	if (threaded)
		pthread_join(thread, NULL);
	pthread_mutex_destroy(&l.lock);
	if (l.error) {
		err = l.error;
		*what = "listing directories";
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Files and directories merged in the tree's path order (mhl2_path_cmp):
 * each directory's subtree right after it. 0, or -1 with errno. */
static int merge(struct items *items)
{
	size_t nfiles = items->files ? mhlfiles_count(items->files) : 0;
	size_t ndirs = mhlfiles_count(items->dirs), i = 0, j = 0;

	items->order = hugepage_alloc((nfiles + ndirs + 1) * sizeof(*items->order));
	if (!items->order)
		return -1;
	items->count = 0;
	while (i < nfiles || j < ndirs) {
		const char *dir = j < ndirs ? mhlfiles_path(items->dirs, j) : NULL;
		const char *file = i < nfiles ? mhlfiles_path(items->files, i) : NULL;

		if (dir && (!file || mhl2_path_cmp(dir, strlen(dir), file, strlen(file)) < 0))
			items->order[items->count++] = j++ << 1 | 1;
		else
			items->order[items->count++] = i++ << 1;
	}
	return 0;
}

/* Entry i of the generation (mhl2list.h), with its actions against the
 * history in the pass that writes; a file that differs noted for report. */
static int get_item(void *arg, size_t i, bool writing, struct mhl2_item *item, struct dbuf *notes)
{
	const struct items *items = arg;
	size_t at = items->order[i] >> 1;
	bool failed = false;
	struct mhlfile f;

	mhlfiles_get(items->order[i] & 1 ? items->dirs : items->files, at, &f);
	item->path = f.path;
	item->len = f.len;
	item->dir = f.dir;
	if (f.dir)
		return 0;
	item->size = f.size;
	item->mtime = f.mtime;
	item->has_mtime = true;
	for (size_t k = 0; k < items->nformats; k++)
		item->digests[k] = f.digests[k];
	if (!writing)
		return 0;
	failed = mhl2_prior_actions(items->prior, f.path, f.len, items->formats, f.digests,
				    items->nformats, item->actions);
	if (failed && dbuf_append(notes, f.path, f.len + 1) != 0)
		return -1;
	return 0;
}

/* The files noted by get_item, in order: each path, NUL after each. */
static void report_items(void *arg, const char *notes, size_t len)
{
	struct items *items = arg;

	for (size_t at = 0; at < len; at += strlen(notes + at) + 1) {
		diag_file_errorf(items->dest, "%s: differs from the digest the ASC MHL "
				 "history records (written with action \"failed\")", notes + at);
		items->failed++;
	}
}

/* Write a temporary beside name in the history and put it in place, journaled. */
static int install(struct copy *copy, struct worker *worker, struct dest *dest, int histfd,
		   const char *name, bool exists, int (*write_fn)(int fd, void *arg), void *arg,
		   const char **what)
{
	char temp[64];
	struct dbuf rel;
	struct stat st;
	int fd = -1, rc = -1;

	dbuf_init(&rel);
	dest_temp_name(copy, temp, sizeof(temp), ".mhl");
	*what = "journal";
	if (dbuf_printf(&rel, "%s/%s", MHL2_DIR_NAME, temp) != 0 ||
	    journal_temp(dest->journal, rel.data, rel.len) != 0)
		goto out;
	*what = name;
	fd = openat(histfd, temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write_fn(fd, arg) != 0 || (copy->opt.fsync && fsync(fd) != 0) ||
	    fstat(fd, &st) != 0)
		goto out;
	dbuf_clear(&rel);
	if (dbuf_printf(&rel, "%s/%s", MHL2_DIR_NAME, name) != 0)
		goto out;
	if (dest_install(worker, dest, histfd, rel.data, rel.len, name, temp, (uint64_t)st.st_ino,
			 exists, what) != 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	dbuf_free(&rel);
	return rc;
}

struct gen_write {
	struct mhl2_generation gen;
	char c4[MHL2_C4_LEN + 1];
};

static int write_generation(int fd, void *arg)
{
	struct gen_write *g = arg;

	return mhl2_generation_write(fd, &g->gen, g->c4);
}

struct chain_write {
	const struct mhl2_chain *chain;
	bool sign;                                /* --sign: digest what was written */
	unsigned char digest[SSHSIG_DIGEST_LEN];
};

static int write_chain(int fd, void *arg)
{
	struct chain_write *c = arg;

	if (mhl2_write_chain(fd, c->chain->links, c->chain->n) != 0)
		return -1;
	return c->sign ? signkey_digest_fd(fd, c->digest) : 0;
}

struct sig_write {
	const struct copy *copy;
	const unsigned char *digest;
	const char *why;                          /* the signer's reason for a failure */
};

static int write_sig(int fd, void *arg)
{
	struct sig_write *s = arg;
	struct dbuf text;
	int rc;

	dbuf_init(&text);
	rc = copy_sign(s->copy, PROTO_SIGN_CHAIN, s->digest, &text, &s->why);
	if (rc == 0)
		rc = xwrite(fd, text.data, text.len);
	dbuf_free(&text);
	return rc;
}

/*
 * The chain's signature (--sign): the chain holds every generation's C4, so
 * its signature vouches for the whole history. Put in place after the
 * chain, journaled like it. Without --sign an old one is set aside into the
 * root (journaled, where an undo or a completion finds it): it signed the
 * chain replaced. 0, or -1 with errno, *what and maybe *why.
 */
static int sign_chain(struct copy *copy, struct worker *worker, struct dest *dest, int histfd,
		      const struct chain_write *c, const char **what, const char **why)
{
	static const char sig[] = MHL2_CHAIN_NAME SSHSIG_SUFFIX;
	static const char rel[] = MHL2_DIR_NAME "/" MHL2_CHAIN_NAME SSHSIG_SUFFIX;
	struct sig_write s = {.copy = copy, .digest = c->digest};
	char aside[64];
	struct stat st;
	bool exists;
	int rc;

	*what = sig;
	if (fstatat(histfd, sig, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			errno = S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
			return -1;
		}
		exists = true;
	} else if (errno == ENOENT) {
		exists = false;
	} else {
		return -1;
	}
	if (c->sign) {
		rc = install(copy, worker, dest, histfd, sig, exists, write_sig, &s, what);
		*why = s.why;
		return rc;
	}
	if (!exists)
		return 0;
	dest_temp_name(copy, aside, sizeof(aside), ".del");
	if (journal_aside(dest->journal, rel, sizeof(rel) - 1, aside, strlen(aside)) != 0)
		return -1;
	return renameat(histfd, sig, dest->rootfd, aside);
}

/* Open (or make, journaled) the destination's ascmhl directory. */
static int open_history(struct dest *dest)
{
	struct stat st;

	if (fstatat(dest->rootfd, MHL2_DIR_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		struct timespec now;

		if (errno != ENOENT)
			return -1;
		clock_gettime(CLOCK_REALTIME, &now);
		if (journal_dir(dest->journal, MHL2_DIR_NAME, strlen(MHL2_DIR_NAME), 0755, &now) != 0 ||
		    mkdirat(dest->rootfd, MHL2_DIR_NAME, 0755) != 0)
			return -1;
	}
	return openat(dest->rootfd, MHL2_DIR_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * SRC's history read into the table a new generation compares with
 * (mhl2prior.h), on a thread of its own while the files are copied, for
 * the destinations whose history will be SRC's once its generations are
 * carried: each would otherwise read the same generations again from its
 * own copies after the copy, one destination after another. Their bytes
 * are the same: SRC's were checked against the chain's C4 as they were
 * read here, each destination's copy as it was carried.
 */
struct mhlseal_ahead {
	pthread_t thread;
	struct copy *copy;
	const struct mhlcarry *carry;
	char *src;                      /* SRC as named, for messages */
	struct mhl2_prior *prior;       /* NULL: not read */
	bool joined;
};

static void *read_ahead(void *arg)
{
	struct mhlseal_ahead *a = arg;
	const char *why, *name;
	struct dbuf path, msg;

	a->prior = mhl2_prior_load(a->carry->histfd, &a->carry->chain, &why, &name);
	if (a->prior || !why)
		return NULL; /* read; or not (memory, a read error): each destination reads its own */
	/* A generation whose C4 holds but whose content does not (malformed,
	 * or gone since it was checked): the history cannot be carried, and
	 * the run stops, while the copy runs or as it ends (mhlseal_wait). */
	dbuf_init(&path);
	dbuf_init(&msg);
	if (dbuf_printf(&path, "%s/%s/%s", a->src, MHL2_DIR_NAME, name) == 0 &&
	    dbuf_printf(&msg, "%s: the history cannot be carried", why) == 0)
		stop_run_why(a->copy, STOP_SOURCE, path.data, 0, msg.data);
	else
		stop_run(a->copy, STOP_SOURCE, a->src, errno);
	dbuf_free(&path);
	dbuf_free(&msg);
	return NULL;
}

/* Start reading SRC's history ahead when a local destination will carry it. */
static void start_ahead(struct copy *copy, const struct mhlcarry *carry, const char *src)
{
	struct mhlseal_ahead *a;
	bool wanted = false;

	if (copy->opt.dry_run || carry->histfd < 0 || carry->chain.n == 0)
		return;
	for (size_t i = 0; i < copy->ndests && !wanted; i++)
		wanted = dest_ok(&copy->dests[i]) && !copy->dests[i].rdest &&
			 copy->dests[i].rootfd >= 0 &&
			 copy->dests[i].mhl_carried < carry->chain.n;
	if (!wanted)
		return;
	a = calloc(1, sizeof(*a));
	if (!a)
		return; /* each destination reads its own */
	a->copy = copy;
	a->carry = carry;
	a->src = strdup(src);
	if (!a->src || pthread_create(&a->thread, NULL, read_ahead, a) != 0) {
		free(a->src);
		free(a);
		return;
	}
	copy->mhl_ahead = a;
}

/* Wait for the table read ahead; NULL when there is none or it was not read. */
static const struct mhl2_prior *ahead_prior(struct copy *copy)
{
	struct mhlseal_ahead *a = copy->mhl_ahead;

	if (!a)
		return NULL;
	if (!a->joined) {
		pthread_join(a->thread, NULL);
		a->joined = true;
	}
	return a->prior;
}

void mhlseal_wait(struct copy *copy)
{
	ahead_prior(copy);
}

/* Whether two chains list the same generations (sequence, file, C4) in the same order. */
static bool same_chain(const struct mhl2_chain *a, const struct mhl2_chain *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->links[i].sequence != b->links[i].sequence ||
		    strcmp(a->links[i].path, b->links[i].path) != 0 ||
		    strcmp(a->links[i].c4, b->links[i].c4) != 0)
			return false;
	return true;
}

/*
 * Fail dest for what is wrong with rel, a file of its history: said here as
 * "DEST/rel: reason", with no errno's text after it (the reason says it).
 */
static void fail_history(struct dest *dest, const char *rel, const char *reason)
{
	struct dbuf msg;

	dbuf_init(&msg);
	if (dbuf_printf(&msg, "%s/%s", dest->path, rel) == 0)
		diag_file_errorf(msg.data, "%s", reason);
	dbuf_clear(&msg);
	if (dbuf_printf(&msg, "%s: %s", rel, reason) == 0)
		dest_fail_said(dest, msg.data, msg.len);
	else
		dest_fail_said(dest, rel, strlen(rel));
	dbuf_free(&msg);
}

/*
 * Each destination against SRC's history (carry, src naming SRC): a
 * remote one is sent it, its side checks it against its own; a local
 * one's own history must agree with it, else it is refused.
 */
static void plan_dests(struct copy *copy, const struct mhlcarry *carry, const char *src)
{
	const char *reason;

	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];

		if (!dest_ok(dest))
			continue;
		if (dest->rdest) {
			if (carry->chain.n > 0)
				rdest_history(copy, dest, carry, src);
			continue;
		}
		if (dest->rootfd < 0)
			continue;
		if (mhlcarry_plan(carry, dest->rootfd, &dest->mhl_carried, &reason) != 0) {
			if (errno)
				dest_fail(dest, MHL2_DIR_NAME, strlen(MHL2_DIR_NAME), errno,
					  reason);
			else
				fail_history(dest, MHL2_DIR_NAME, reason);
		}
	}
}

void mhlseal_prepare(struct copy *copy, const char *src)
{
	struct mhlcarry *carry = calloc(1, sizeof(*carry));
	const char *reason;
	struct dbuf path;

	if (!carry) {
		stop_run(copy, STOP_INTERNAL, src, ENOMEM);
		return;
	}
	carry->histfd = -1;
	copy->mhl_source = carry;
	dbuf_init(&path);
	if (mhlcarry_open(carry, src, &path, &reason) != 0) {
		/* Carried whole or not at all: a history that does not hold
		 * together would be carried as though it did. */
		stop_run_why(copy, STOP_SOURCE, path.data ? path.data : src, errno, reason);
		dbuf_free(&path);
		return;
	}
	dbuf_free(&path);
	if (carry->histfd >= 0) {
		plan_dests(copy, carry, src);
		start_ahead(copy, carry, src);
	}
}

void mhlseal_adopt(struct copy *copy, struct mhlcarry *carry, const char *src)
{
	mhlseal_release(copy);
	copy->mhl_source = carry;
	plan_dests(copy, carry, src);
}

void mhlseal_release(struct copy *copy)
{
	if (copy->mhl_ahead) {
		mhlseal_wait(copy);
		mhl2_prior_free(copy->mhl_ahead->prior);
		free(copy->mhl_ahead->src);
		free(copy->mhl_ahead);
		copy->mhl_ahead = NULL;
	}
	if (!copy->mhl_source)
		return;
	mhlcarry_close(copy->mhl_source);
	free(copy->mhl_source);
	copy->mhl_source = NULL;
}

bool mhlseal_is_source_history(const struct copy *copy, const char *name)
{
	return copy->opt.mhl && strcmp(name, MHL2_DIR_NAME) == 0;
}

struct carry_write {
	const struct mhlcarry *carry;
	size_t index;
};

static int write_carried(int fd, void *arg)
{
	const struct carry_write *c = arg;

	return mhlcarry_copy(c->carry, c->index, fd);
}

/*
 * Put SRC's generations the destination lacks into its history, each
 * checked against SRC's chain as it is copied, and list them in chain.
 * 0, or -1 with errno and *what.
 */
static int carry_generations(struct copy *copy, struct worker *worker, struct dest *dest,
			     int histfd, struct mhl2_chain *chain, const char **what)
{
	const struct mhlcarry *carry = copy->mhl_source;

	if (!carry || carry->chain.n == 0)
		return 0;
	/* The destination's history is as it was when the run was planned. */
	if (chain->n != dest->mhl_carried && dest->mhl_carried < carry->chain.n) {
		*what = "its history changed during the run";
		errno = EAGAIN;
		return -1;
	}
	for (size_t i = dest->mhl_carried; i < carry->chain.n; i++) {
		const struct mhl2_chain_link *link = &carry->chain.links[i];
		struct carry_write c = {.carry = carry, .index = i};

		if (install(copy, worker, dest, histfd, link->path, false, write_carried, &c,
			    what) != 0) {
			if (errno == EBADMSG)
				*what = "a generation of SRC's history changed during the run";
			return -1;
		}
		if (mhl2_chain_add(chain, link->sequence, link->path, link->c4) != 0)
			return -1;
	}
	return 0;
}

/* dest failed for its history's file name (the chain when NULL): why. */
static void fail_in_history(struct dest *dest, const char *name, const char *why)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/%s", MHL2_DIR_NAME, name ? name : MHL2_CHAIN_NAME);
	fail_history(dest, rel, why);
}

int mhlseal_write(struct copy *copy, struct worker *worker, struct dest *dest, time_t when)
{
	struct items items = {0};
	struct mhl2_list list;
	struct mhl2_chain chain = {0};
	struct gen_write g;
	struct chain_write cw = {0};
	struct dbuf name;
	const char *what = "history", *why = NULL, *gen_name;
	struct mhl2_prior *prior = NULL;      /* this destination's own reading */
	const struct mhl2_prior *compare = NULL; /* what the generation compares with */
	struct mhl2_prior_fault fault;
	struct mhl2_ignore ignore = {0};
	size_t carried_before;
	char *real;
	uint64_t seq;
	int histfd = -1, rc = -1;
	bool chain_exists = false;

	dbuf_init(&name);
	items.nformats = copy->mhl_nformats;
	memcpy(items.formats, copy->mhl_formats, sizeof(items.formats));
	what = MHL2_DIR_NAME;
	histfd = open_history(dest);
	if (histfd < 0)
		goto fail;
	if (mhl2_prior_load_history(histfd, &chain, &chain_exists, &prior, &fault) != 0) {
		what = fault.chain ? MHL2_DIR_NAME "/" MHL2_CHAIN_NAME
		     : fault.generation ? fault.generation : MHL2_DIR_NAME;
		if (fault.why) {
			fail_in_history(dest, fault.chain ? NULL : fault.generation, fault.why);
			goto out;
		}
		goto fail;
	}
	carried_before = chain.n;
	if (carry_generations(copy, worker, dest, histfd, &chain, &what) != 0)
		goto fail;
	if (chain.n > carried_before) {
		/* The carried generations are what the new one verifies against:
		 * SRC's whole history, read already when this one is the same. */
		mhl2_prior_free(prior);
		prior = NULL;
		compare = same_chain(&chain, &copy->mhl_source->chain) ? ahead_prior(copy) : NULL;
	}
	if (chain.n > carried_before && !compare) {
		prior = mhl2_prior_load(histfd, &chain, &why, &gen_name);
		if (!prior) {
			what = gen_name ? gen_name : "reading the carried history";
			if (why) {
				fail_in_history(dest, gen_name, why);
				goto out;
			}
			goto fail;
		}
		why = NULL;
	}
	if (!compare)
		compare = prior;
	what = "ignore patterns";
	if (mhl2_ignore_build(&ignore, compare, copy->opt.exclude) != 0)
		goto fail;
	items.ignore = &ignore;
	items.files = dest->mhl_files;
	what = "listing directories";
	items.dirs = mhlfiles_new(items.formats, items.nformats);
	if (!items.dirs || gather(copy, dest, &items, &what) != 0)
		goto fail;
	items.prior = compare;
	items.dest = dest->path;
	real = realpath(dest->path, NULL);
	what = "naming the generation";
	seq = mhl2_next_sequence(histfd, &chain);
	if (!real || mhl2_generation_name(&name, seq,
					  strrchr(real, '/')[1] ? strrchr(real, '/') + 1 : "root",
					  when) != 0) {
		free(real);
		goto fail;
	}
	free(real);
	what = "ordering the entries";
	if (merge(&items) != 0)
		goto fail;
	/* The copy is done: every core is free for the generation. */
	list = (struct mhl2_list){
		.count = items.count, .get = get_item, .report = report_items, .arg = &items,
		.threads = pool_spare_cpus(),
	};
	g.gen = (struct mhl2_generation){
		.process = "transfer", .tool = "pcopy", .tool_version = PTOOLS_VERSION, .when = when,
		.formats = items.formats, .nformats = items.nformats, .list = &list,
		.ignore = ignore.patterns, .nignore = ignore.n,
	};
	/* A generation is never rewritten: RENAME_NOREPLACE (exists false). */
	if (install(copy, worker, dest, histfd, name.data, false, write_generation, &g, &what) != 0)
		goto fail;
	what = MHL2_CHAIN_NAME;
	cw.chain = &chain;
	cw.sign = copy_signs(&copy->opt);
	if (mhl2_chain_add(&chain, seq, name.data, g.c4) != 0 ||
	    install(copy, worker, dest, histfd, MHL2_CHAIN_NAME, chain_exists, write_chain, &cw,
		    &what) != 0)
		goto fail;
	if (sign_chain(copy, worker, dest, histfd, &cw, &what, &why) != 0) {
		if (why) {
			dest_fail(dest, MHL2_DIR_NAME "/" MHL2_CHAIN_NAME SSHSIG_SUFFIX,
				  strlen(MHL2_DIR_NAME "/" MHL2_CHAIN_NAME SSHSIG_SUFFIX), errno, why);
			goto out;
		}
		goto fail;
	}
	if (copy->opt.fsync && fsync(histfd) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	dest_fail(dest, MHL2_DIR_NAME, strlen(MHL2_DIR_NAME), errno,
		  what ? what : "writing the ASC MHL generation");
out:
	if (histfd >= 0)
		close(histfd);
	mhl2_ignore_fini(&ignore);
	mhl2_chain_free(&chain);
	mhl2_prior_free(prior);
	if (rc == 0 && items.failed > 0)
		diag_raise(EXIT_FAILED); /* the copy stands; its history says what differs */
	mhlfiles_free(items.dirs);
	free(items.order);
	mhlseal_forget(dest);
	dbuf_free(&name);
	return rc;
}
