/* SPDX-License-Identifier: 0BSD */
/** A generation's entries from an indexed list, hashed and written by several threads (mhl2list.h). */
#include "prelude.h"
#include "mhl2list.h"
#include "mhl2tree.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A share's size when the list does not say: about four shares a thread,
 * within these bounds (a share's written entries are held until taken). */
#define SHARE_MIN 64
#define SHARE_MAX 4096
#define THREADS_MAX 32

/* Directories' digests in the order a tree finished them, for the second
 * pass to take in the same order: per directory its path's length (a
 * size_t), the path, then its content and structure digest strings, n of
 * each. The second pass skips the empty ones, whose digests a tree knows. */
struct dirlog {
	struct dbuf data;
	size_t n, at;
	char root[2][MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
};

/* Whole subtrees of directories with one parent, one after another. */
struct share {
	size_t from, to;           /* its entries [from, to) */
	struct dbuf parent;        /* the directories' parent ("" the root) */
	struct dirlog log;         /* the first pass's digests of its directories */
	struct dbuf out;           /* the second pass's bytes */
	struct dbuf notes;         /* the second pass's notes */
	int error;                 /* 0, or the errno that stopped it */
	bool done;                 /* this pass's work on it is finished */
};

struct mhl2list_run {
	const struct mhl2_list *list;
	enum mhl2_format formats[MHL2_FORMATS];
	size_t n;
	const char *hashdate;
	struct share *shares;
	size_t nshares;
	struct dirlog log;         /* the caller's thread's directories */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	size_t next;               /* the next share to take */
	size_t taken;              /* second pass: shares the caller's thread has written */
	size_t window;             /* second pass: shares written ahead of it, at most */
	bool writing;              /* the second pass */
	bool stop;
	pthread_t threads[THREADS_MAX];
	unsigned nthreads;
};

static int log_dir(void *arg, const char *path, size_t len, char (*content)[MHL2_DIGEST_MAX + 1],
		   char (*structure)[MHL2_DIGEST_MAX + 1])
{
	struct dirlog *log = arg;
	size_t digests = log->n * (MHL2_DIGEST_MAX + 1);

	if (dbuf_append(&log->data, &len, sizeof(len)) != 0 ||
	    dbuf_append(&log->data, path, len) != 0 ||
	    dbuf_append(&log->data, content, digests) != 0 ||
	    dbuf_append(&log->data, structure, digests) != 0)
		return -1;
	return 0;
}

static int replay_dir(void *arg, const char *path, size_t len,
		      char (*content)[MHL2_DIGEST_MAX + 1], char (*structure)[MHL2_DIGEST_MAX + 1])
{
	struct dirlog *log = arg;
	size_t digests = log->n * (MHL2_DIGEST_MAX + 1), n;
	const char *at;

	if (len == 0) {
		memcpy(content, log->root[0], digests);
		memcpy(structure, log->root[1], digests);
		return 0;
	}
	while (log->at < log->data.len) {
		at = log->data.data + log->at;
		memcpy(&n, at, sizeof(n));
		at += sizeof(n);
		log->at += sizeof(n) + n + 2 * digests;
		if (n == len && memcmp(at, path, len) == 0) {
			memcpy(content, at + n, digests);
			memcpy(structure, at + n + digests, digests);
			return 0;
		}
	}
	errno = EINVAL; /* the list gave other entries the second time */
	return -1;
}

static void dirlog_init(struct dirlog *log, size_t n)
{
	memset(log, 0, sizeof(*log));
	dbuf_init(&log->data);
	log->n = n;
}

/* Entry i into *item. */
static int get(const struct mhl2list_run *r, size_t i, bool writing, struct mhl2_item *item,
	       struct dbuf *notes)
{
	memset(item, 0, sizeof(*item));
	return r->list->get(r->list->arg, i, writing, item, notes);
}

static int add_item(struct mhl2tree *t, const struct mhl2_item *e)
{
	if (e->dir)
		return mhl2tree_add_dir(t, e->path, e->len);
	return mhl2tree_add_file(t, e->path, e->len, e->size, e->has_mtime ? &e->mtime : NULL,
				 e->digests, e->actions[0] ? e->actions : NULL);
}

/* Whether path (len bytes) is inside directory dir (dlen bytes). */
static bool inside(const char *dir, size_t dlen, const char *path, size_t len)
{
	return len > dlen && path[dlen] == '/' && memcmp(path, dir, dlen) == 0;
}

/* The length of path's parent ("a/b/c": 3; "c": 0). */
static size_t parent_len(const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len);

	return slash ? (size_t)(slash - path) : 0;
}

/* Share *n, made: its entries [from, to) under parent (plen bytes). */
static int add_share(struct mhl2list_run *r, size_t *n, size_t from, size_t to,
		     const char *parent, size_t plen, size_t cap)
{
	struct share *s;

	if (*n == cap) {
		errno = ENOMEM;
		return -1;
	}
	s = &r->shares[*n];
	memset(s, 0, sizeof(*s));
	dbuf_init(&s->parent);
	dbuf_init(&s->out);
	dbuf_init(&s->notes);
	dirlog_init(&s->log, r->n);
	s->from = from;
	s->to = to;
	(*n)++;
	return dbuf_append(&s->parent, parent, plen);
}

/*
 * Divide the list: each directory whose whole subtree holds at most size
 * entries (itself included, at least one besides: an empty directory is
 * named, and finished, by its parent's tree) starts or extends a share,
 * joined to the share before it when that one ends right there, under the
 * same parent, and the two together still fit. Everything else is the
 * caller's thread's.
 */
static int plan(struct mhl2list_run *r, size_t size, size_t *count)
{
	const struct mhl2_list *l = r->list;
	size_t cap = l->count / 2 + 1, i = 0, n = 0;
	struct mhl2_item e, f;
	struct dbuf scratch;
	int rc = -1;

	r->shares = calloc(cap, sizeof(*r->shares));
	if (!r->shares)
		return -1;
	dbuf_init(&scratch);
	while (i < l->count) {
		size_t end = l->count - i > size ? i + size + 1 : l->count, j = i + 1, plen;

		if (get(r, i, false, &e, &scratch) != 0)
			goto out;
		if (!e.dir) {
			i++;
			continue;
		}
		for (; j < end; j++) {
			if (get(r, j, false, &f, &scratch) != 0)
				goto out;
			if (!inside(e.path, e.len, f.path, f.len))
				break;
		}
		if (j == i + 1 || (j == end && end < l->count)) {
			i++; /* empty, or larger than a share */
			continue;
		}
		plen = parent_len(e.path, e.len);
		if (n > 0) {
			struct share *last = &r->shares[n - 1];

			if (last->to == i && last->parent.len == plen &&
			    (plen == 0 || memcmp(last->parent.data, e.path, plen) == 0) &&
			    j - last->from <= size) {
				last->to = j;
				i = j;
				continue;
			}
		}
		if (add_share(r, &n, i, j, e.path, plen, cap) != 0)
			goto out;
		i = j;
	}
	rc = 0;
out:
	*count = n; /* those made, freed with the run */
	dbuf_free(&scratch);
	return rc;
}

static int feed_share(struct mhl2list_run *r, struct share *s, struct mhl2tree *t)
{
	struct mhl2_item e;

	for (size_t i = s->from; i < s->to; i++)
		if (get(r, i, r->writing, &e, &s->notes) != 0 || add_item(t, &e) != 0)
			return -1;
	return 0;
}

/* One share's pass: its directories' digests, or its bytes (into out, or
 * held for the caller's thread with out NULL). 0, or an errno. */
static int do_share(struct mhl2list_run *r, struct share *s, struct mhl2_writer *out)
{
	char content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	char structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	struct mhl2_writer w;
	struct mhl2tree *t;
	int rc = -1;

	(void)mhl2_writer_init_plain(&w, -1);
	w.chunk = SIZE_MAX; /* held in memory until the caller's thread takes it */
	t = mhl2tree_new(!r->writing ? NULL : out ? out : &w, r->formats, r->n, r->hashdate,
			 "original");
	if (!t || mhl2tree_set_base(t, s->parent.data, s->parent.len) != 0)
		goto out;
	if (r->writing)
		mhl2tree_replay(t, replay_dir, &s->log);
	else
		mhl2tree_on_dir(t, log_dir, &s->log);
	if (feed_share(r, s, t) != 0 || mhl2tree_finish(t, content, structure) != 0)
		goto out;
	if (w.error || (out && out->error)) {
		errno = w.error ? w.error : out->error;
		goto out;
	}
	s->out = w.buf;
	dbuf_init(&w.buf);
	rc = 0;
out:
	mhl2tree_free(t);
	mhl2_writer_fini(&w);
	return rc == 0 ? 0 : errno ? errno : EIO;
}

/* Whether a share can be taken now (r->lock held). */
static bool can_take(const struct mhl2list_run *r)
{
	return !r->stop && r->next < r->nshares &&
	       (!r->writing || r->next < r->taken + r->window);
}

/* Take the next share and do it (r->lock held, released meanwhile). */
static void take(struct mhl2list_run *r)
{
	struct share *s = &r->shares[r->next++];
	int err;

	pthread_mutex_unlock(&r->lock);
	err = do_share(r, s, NULL);
	pthread_mutex_lock(&r->lock);
	s->error = err;
	s->done = true;
	pthread_cond_broadcast(&r->changed);
}

static void *share_thread(void *arg)
{
	struct mhl2list_run *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!can_take(r) && !r->stop && r->next < r->nshares)
			pthread_cond_wait(&r->changed, &r->lock); /* the window is full */
		if (!can_take(r))
			break;
		take(r);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Start the pass's threads: the list's, less one in the second pass when
 * the writer has a thread of its own (it hashes and writes what the others
 * make, and is the one they would all wait for). */
static void start(struct mhl2list_run *r, const struct mhl2_list *list, bool writing,
		  bool writer_thread)
{
	size_t want = list->threads;

	r->writing = writing;
	r->next = 0;
	r->taken = 0;
	r->stop = false;
	r->nthreads = 0;
	for (size_t s = 0; s < r->nshares; s++)
		r->shares[s].done = false;
	if (writer_thread && want > 0)
		want--;
	want = want < r->nshares ? want : r->nshares;
	want = want < THREADS_MAX ? want : THREADS_MAX;
	r->window = 2 * (want + 1);
	while (r->nthreads < want &&
	       pthread_create(&r->threads[r->nthreads], NULL, share_thread, r) == 0)
		r->nthreads++; /* the caller's thread takes what no thread took */
}

static void stop(struct mhl2list_run *r)
{
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	r->nthreads = 0;
}

/* Share s, done: waited for, the caller's thread taking the shares no
 * thread has taken yet meanwhile (s among them, if none took it). 0 or -1
 * with errno. */
static int await(struct mhl2list_run *r, struct share *s)
{
	pthread_mutex_lock(&r->lock);
	while (!s->done) {
		if (can_take(r))
			take(r);
		else
			pthread_cond_wait(&r->changed, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	if (s->error) {
		errno = s->error;
		return -1;
	}
	return 0;
}

/* Put share s's directories into t, from its log: those right under its parent. */
static int add_tops(struct mhl2list_run *r, struct share *s, struct mhl2tree *t)
{
	size_t digests = r->n * (MHL2_DIGEST_MAX + 1), at = 0, n;

	while (at < s->log.data.len) {
		char *p = s->log.data.data + at;

		memcpy(&n, p, sizeof(n));
		p += sizeof(n);
		at += sizeof(n) + n + 2 * digests;
		if (parent_len(p, n) == s->parent.len && (s->parent.len == 0 || p[s->parent.len] == '/') &&
		    mhl2tree_add_done(t, p, n, (char (*)[MHL2_DIGEST_MAX + 1])(void *)(p + n),
				      (char (*)[MHL2_DIGEST_MAX + 1])(void *)(p + n + digests)) != 0)
			return -1;
	}
	return 0;
}

static void report(struct mhl2list_run *r, struct dbuf *notes)
{
	if (notes->len > 0 && r->list->report)
		r->list->report(r->list->arg, notes->data, notes->len);
	dbuf_clear(notes);
}

/* The caller's thread's pass over the list: the entries between the
 * shares, and each share's results in its place. */
static int walk(struct mhl2list_run *r, struct mhl2tree *t, struct mhl2_writer *w)
{
	struct dbuf notes;
	struct mhl2_item e;
	size_t i = 0, s = 0;
	int rc = -1;

	dbuf_init(&notes);
	while (i < r->list->count) {
		struct share *sh = s < r->nshares ? &r->shares[s] : NULL;

		if (!sh || sh->from != i) {
			if (get(r, i, r->writing, &e, &notes) != 0 || add_item(t, &e) != 0)
				goto out;
			i++;
			continue;
		}
		if (w && r->nthreads == 0) {
			/* No thread writes ahead: straight into w, in order. */
			report(r, &notes);
			if (add_tops(r, sh, t) != 0 || (errno = do_share(r, sh, w)) != 0)
				goto out;
			report(r, &sh->notes);
			dbuf_free(&sh->log.data);
			i = sh->to;
			s++;
			continue;
		}
		if (await(r, sh) != 0 || add_tops(r, sh, t) != 0)
			goto out;
		if (w) {
			report(r, &notes);
			mhl2_write_raw(w, sh->out.data, sh->out.len);
			report(r, &sh->notes);
			dbuf_free(&sh->out);
			dbuf_free(&sh->log.data);
			pthread_mutex_lock(&r->lock);
			r->taken++;
			pthread_cond_broadcast(&r->changed);
			pthread_mutex_unlock(&r->lock);
		}
		i = sh->to;
		s++;
	}
	report(r, &notes);
	rc = 0;
out:
	dbuf_free(&notes);
	return rc;
}

void mhl2list_free(struct mhl2list_run *r)
{
	if (!r)
		return;
	for (size_t s = 0; s < r->nshares; s++) {
		dbuf_free(&r->shares[s].parent);
		dbuf_free(&r->shares[s].log.data);
		dbuf_free(&r->shares[s].out);
		dbuf_free(&r->shares[s].notes);
	}
	free(r->shares);
	dbuf_free(&r->log.data);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct mhl2list_run *mhl2list_hash(const struct mhl2_list *list, const enum mhl2_format *formats,
				   size_t nformats, const char *hashdate,
				   char (*content)[MHL2_DIGEST_MAX + 1],
				   char (*structure)[MHL2_DIGEST_MAX + 1])
{
	struct mhl2list_run *r;
	struct mhl2tree *t = NULL;
	size_t size = list->share;
	int rc = -1, err;

	if (nformats == 0 || nformats > MHL2_FORMATS) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->list = list;
	memcpy(r->formats, formats, nformats * sizeof(*formats));
	r->n = nformats;
	r->hashdate = hashdate;
	dirlog_init(&r->log, nformats);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	if (size == 0) {
		size = list->count / (4 * ((size_t)list->threads + 1));
		size = size < SHARE_MIN ? SHARE_MIN : size > SHARE_MAX ? SHARE_MAX : size;
	}
	if (list->threads > 0 && list->count > size && plan(r, size, &r->nshares) != 0)
		goto out;
	start(r, list, false, false);
	t = mhl2tree_new(NULL, r->formats, r->n, hashdate, "original");
	if (!t)
		goto out;
	mhl2tree_on_dir(t, log_dir, &r->log);
	if (walk(r, t, NULL) != 0 || mhl2tree_finish(t, content, structure) != 0)
		goto out;
	memcpy(r->log.root[0], content, r->n * sizeof(*content));
	memcpy(r->log.root[1], structure, r->n * sizeof(*structure));
	rc = 0;
out:
	err = errno;
	stop(r);
	mhl2tree_free(t);
	if (rc != 0) {
		mhl2list_free(r);
		errno = err;
		return NULL;
	}
	return r;
}

int mhl2list_write(struct mhl2list_run *r, struct mhl2_writer *w)
{
	char content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	char structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	struct mhl2tree *t;
	int rc = -1, err;

	start(r, r->list, true, w->flusher != NULL);
	t = mhl2tree_new(w, r->formats, r->n, r->hashdate, "original");
	if (!t)
		goto out;
	r->log.at = 0;
	mhl2tree_replay(t, replay_dir, &r->log);
	if (walk(r, t, w) != 0 || mhl2tree_finish(t, content, structure) != 0)
		goto out;
	if (w->error) {
		errno = w->error;
		goto out;
	}
	rc = 0;
out:
	err = errno;
	stop(r);
	mhl2tree_free(t);
	errno = err;
	return rc;
}

size_t mhl2list_shares(const struct mhl2list_run *r)
{
	return r->nshares;
}
