/* SPDX-License-Identifier: 0BSD */
/** ASC MHL v2 directory hashes and entries from a sorted walk's stream (mhl2tree.h). */
#include "prelude.h"
#include "mhl2tree.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One open directory. */
struct frame {
	struct dbuf path;                       /* relative to the root; "" for the root */
	struct mhl2_dirhash dh[MHL2_FORMATS];   /* one per format of the tree */
	struct dbuf subdirs;                    /* its subdirectories' names, NUL after each */
	size_t cursor;                          /* the first of them not started yet */
	struct dbuf done;                       /* the name of its last finished subdirectory */
};

struct mhl2tree {
	struct mhl2_writer *w;
	enum mhl2_format formats[MHL2_FORMATS];
	size_t n;
	const char *hashdate;
	const char *action;
	mhl2tree_dir_fn *on_dir;
	void *on_dir_arg;
	mhl2tree_replay_fn *replay;             /* digests given, not computed */
	void *replay_arg;
	struct frame *frames;
	size_t depth, cap;                      /* frames in use (the root's first), allocated */
	char empty[MHL2_FORMATS][MHL2_DIGEST_MAX + 1]; /* the digest of nothing */
};

int mhl2_path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		unsigned x = mhl2_path_rank((unsigned char)a[i]), y = mhl2_path_rank((unsigned char)b[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen;
}

static int frame_init(struct mhl2tree *t, struct frame *f)
{
	dbuf_init(&f->path);
	dbuf_init(&f->subdirs);
	dbuf_init(&f->done);
	f->cursor = 0;
	for (size_t i = 0; i < t->n; i++)
		if (mhl2_dirhash_init(&f->dh[i], t->formats[i]) != 0)
			return -1;
	return 0;
}

static void frame_fini(struct mhl2tree *t, struct frame *f)
{
	dbuf_free(&f->path);
	dbuf_free(&f->subdirs);
	dbuf_free(&f->done);
	for (size_t i = 0; i < t->n; i++)
		mhl2_dirhash_fini(&f->dh[i]);
}

/* Open a frame for path (len bytes) on top of the stack. */
static int push(struct mhl2tree *t, const char *path, size_t len)
{
	struct frame *f;

	if (t->depth == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct frame *frames = realloc(t->frames, cap * sizeof(*frames));

		if (!frames)
			return -1;
		t->frames = frames;
		for (size_t i = t->cap; i < cap; i++) {
			memset(&frames[i], 0, sizeof(frames[i]));
			if (frame_init(t, &frames[i]) != 0) {
				t->cap = i + 1;
				return -1;
			}
		}
		t->cap = cap;
	}
	f = &t->frames[t->depth++];
	dbuf_clear(&f->path);
	dbuf_clear(&f->subdirs);
	dbuf_clear(&f->done);
	f->cursor = 0;
	for (size_t i = 0; i < t->n; i++)
		mhl2_dirhash_clear(&f->dh[i]);
	return dbuf_append(&f->path, path, len);
}

struct mhl2tree *mhl2tree_new(struct mhl2_writer *w, const enum mhl2_format *formats,
			      size_t nformats, const char *hashdate, const char *action)
{
	struct mhl2tree *t = calloc(1, sizeof(*t));
	struct mhl2_dirhash dh;
	char structure[MHL2_DIGEST_MAX + 1];

	if (!t)
		return NULL;
	if (nformats == 0 || nformats > MHL2_FORMATS) {
		free(t);
		errno = EINVAL;
		return NULL;
	}
	t->w = w;
	t->n = nformats;
	memcpy(t->formats, formats, nformats * sizeof(*formats));
	t->hashdate = hashdate;
	t->action = action;
	for (size_t i = 0; i < nformats; i++) {
		if (mhl2_dirhash_init(&dh, formats[i]) != 0 ||
		    mhl2_dirhash_final(&dh, t->empty[i], structure) != 0) {
			mhl2_dirhash_fini(&dh);
			mhl2tree_free(t);
			return NULL;
		}
		mhl2_dirhash_fini(&dh);
	}
	if (push(t, "", 0) != 0) {
		mhl2tree_free(t);
		return NULL;
	}
	return t;
}

void mhl2tree_free(struct mhl2tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		frame_fini(t, &t->frames[i]);
	free(t->frames);
	free(t);
}

/* Whether dir (dlen bytes) is path or one of its ancestors ("" is everyone's). */
static bool is_ancestor(const char *dir, size_t dlen, const char *path, size_t plen)
{
	if (dlen == 0)
		return true;
	return plen >= dlen && memcmp(dir, path, dlen) == 0 && (plen == dlen || path[dlen] == '/');
}

/* A finished directory: its entry (unless the root) and its part in its parent. */
static int dir_done(struct mhl2tree *t, struct frame *parent, const char *path, size_t len,
		    char (*content)[MHL2_DIGEST_MAX + 1], char (*structure)[MHL2_DIGEST_MAX + 1])
{
	struct mhl2_digest digests[MHL2_FORMATS];
	const char *slash = memrchr(path, '/', len);
	const char *name = slash ? slash + 1 : path;
	size_t name_len = len - (size_t)(name - path);

	dbuf_clear(&parent->done);
	if (dbuf_append(&parent->done, name, name_len) != 0)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		digests[i] = (struct mhl2_digest){.format = t->formats[i], .value = content[i],
						  .structure = structure[i]};
		if (!t->replay &&
		    mhl2_dirhash_add(&parent->dh[i], name, name_len, content[i], structure[i]) != 0)
			return -1;
	}
	if (t->w)
		mhl2_write_dir(t->w, path, len, NULL, digests, t->n, t->hashdate);
	if (t->on_dir)
		return t->on_dir(t->on_dir_arg, path, len, content, structure);
	return 0;
}

/* Finish the subdirectories of f before name (or all, name NULL) that
 * were never entered: they are empty (or could not be read, which the
 * caller has reported). Leaves the cursor past name when found. */
static int empty_subdirs_until(struct mhl2tree *t, struct frame *f, const char *name,
			       size_t name_len)
{
	struct dbuf path;
	int rc = 0;

	/* name must be among the names still to come, or nothing is skipped. */
	if (name) {
		size_t at = f->cursor;
		bool found = false;

		while (at < f->subdirs.len) {
			const char *s = f->subdirs.data + at;
			size_t n = strlen(s);

			if (n == name_len && memcmp(s, name, n) == 0) {
				found = true;
				break;
			}
			at += n + 1;
		}
		if (!found)
			return 0;
	}
	dbuf_init(&path);
	while (f->cursor < f->subdirs.len) {
		const char *s = f->subdirs.data + f->cursor;
		size_t n = strlen(s);

		f->cursor += n + 1;
		if (name && n == name_len && memcmp(s, name, n) == 0)
			break;
		dbuf_clear(&path);
		if ((f->path.len > 0 && (dbuf_append(&path, f->path.data, f->path.len) != 0 ||
					 dbuf_putc(&path, '/') != 0)) ||
		    dbuf_append(&path, s, n) != 0 ||
		    dir_done(t, f, path.data, path.len, t->empty, t->empty) != 0) {
			rc = -1;
			break;
		}
	}
	dbuf_free(&path);
	return rc;
}

/* Finish the top frame (not the root): its entry, then its part in its parent. */
static int pop(struct mhl2tree *t)
{
	char content[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	char structure[MHL2_FORMATS][MHL2_DIGEST_MAX + 1];
	struct frame *f = &t->frames[t->depth - 1];

	if (empty_subdirs_until(t, f, NULL, 0) != 0)
		return -1;
	if (t->replay) {
		if (t->replay(t->replay_arg, f->path.data, f->path.len, content, structure) != 0)
			return -1;
	} else {
		for (size_t i = 0; i < t->n; i++)
			if (mhl2_dirhash_final(&f->dh[i], content[i], structure[i]) != 0)
				return -1;
	}
	t->depth--;
	return dir_done(t, &t->frames[t->depth - 1], f->path.data, f->path.len, content,
			structure);
}

static bool path_valid(const char *path, size_t len)
{
	size_t i = 0;

	if (len == 0 || memchr(path, '\0', len))
		return false;
	while (i <= len) {
		const char *c = path + i, *end = memchr(c, '/', len - i);
		size_t n = end ? (size_t)(end - c) : len - i;

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		i += n + 1;
	}
	return true;
}

/* Make the top frame path's parent directory; *name the last component. */
static int enter_parent(struct mhl2tree *t, const char *path, size_t len, size_t *name_at)
{
	const char *slash;
	size_t plen;

	if (!path_valid(path, len) ||
	    (t->frames[0].path.len > 0 &&
	     (len <= t->frames[0].path.len ||
	      !is_ancestor(t->frames[0].path.data, t->frames[0].path.len, path, len)))) {
		errno = EINVAL; /* malformed, or outside the tree's base */
		return -1;
	}
	slash = memrchr(path, '/', len);
	plen = slash ? (size_t)(slash - path) : 0;
	*name_at = slash ? plen + 1 : 0;
	while (t->depth > 1) {
		struct frame *top = &t->frames[t->depth - 1];

		if (is_ancestor(top->path.data, top->path.len, path, plen))
			break;
		if (pop(t) != 0)
			return -1;
	}
	for (;;) {
		struct frame *top = &t->frames[t->depth - 1];
		size_t start = top->path.len ? top->path.len + 1 : 0, end = start;

		if (top->path.len == plen)
			return 0;
		while (end < plen && path[end] != '/')
			end++;
		/* Every order a tree takes (a sorted walk's, ascmhl's post-order)
		 * enters a directory's subdirectories in increasing name order;
		 * one entered again after it was finished would be hashed twice,
		 * each time with part of its contents. */
		if (top->done.len > 0 &&
		    mhl2_path_cmp(path + start, end - start, top->done.data, top->done.len) <= 0) {
			errno = EINVAL;
			return -1;
		}
		if (empty_subdirs_until(t, top, path + start, end - start) != 0 ||
		    push(t, path, end) != 0)
			return -1;
	}
}

int mhl2tree_add_file(struct mhl2tree *t, const char *path, size_t len, uint64_t size,
		      const struct timespec *mtime, const char *const *digests,
		      const char *const *actions)
{
	struct mhl2_digest d[MHL2_FORMATS];
	struct frame *top;
	size_t name_at;

	if (enter_parent(t, path, len, &name_at) != 0)
		return -1;
	top = &t->frames[t->depth - 1];
	for (size_t i = 0; i < t->n; i++) {
		if (!t->replay && mhl2_dirhash_add(&top->dh[i], path + name_at, len - name_at,
						   digests[i], NULL) != 0)
			return -1;
		d[i] = (struct mhl2_digest){.format = t->formats[i], .value = digests[i],
					    .action = actions ? actions[i] : t->action};
	}
	if (t->w)
		mhl2_write_file(t->w, path, len, size, mtime, d, t->n, t->hashdate);
	return 0;
}

int mhl2tree_add_dir(struct mhl2tree *t, const char *path, size_t len)
{
	struct frame *top;
	size_t name_at;

	if (enter_parent(t, path, len, &name_at) != 0)
		return -1;
	top = &t->frames[t->depth - 1];
	if (dbuf_append(&top->subdirs, path + name_at, len - name_at) != 0 ||
	    dbuf_putc(&top->subdirs, '\0') != 0)
		return -1;
	return 0;
}

int mhl2tree_set_base(struct mhl2tree *t, const char *base, size_t blen)
{
	struct frame *root = &t->frames[0];

	if (t->depth != 1 || root->subdirs.len > 0 || (blen > 0 && !path_valid(base, blen))) {
		errno = EINVAL;
		return -1;
	}
	dbuf_clear(&root->path);
	return dbuf_append(&root->path, base, blen);
}

int mhl2tree_add_done(struct mhl2tree *t, const char *path, size_t len,
		      char (*content)[MHL2_DIGEST_MAX + 1], char (*structure)[MHL2_DIGEST_MAX + 1])
{
	struct frame *top;
	size_t name_at;

	if (enter_parent(t, path, len, &name_at) != 0)
		return -1;
	top = &t->frames[t->depth - 1];
	/* Its first entry would have finished whatever its parent named
	 * before it and never entered, and nothing named after it came yet. */
	if (empty_subdirs_until(t, top, NULL, 0) != 0)
		return -1;
	if (top->done.len > 0 &&
	    mhl2_path_cmp(path + name_at, len - name_at, top->done.data, top->done.len) <= 0) {
		errno = EINVAL;
		return -1;
	}
	dbuf_clear(&top->done);
	if (dbuf_append(&top->done, path + name_at, len - name_at) != 0)
		return -1;
	for (size_t i = 0; i < t->n && !t->replay; i++)
		if (mhl2_dirhash_add(&top->dh[i], path + name_at, len - name_at, content[i],
				     structure[i]) != 0)
			return -1;
	return 0;
}

void mhl2tree_replay(struct mhl2tree *t, mhl2tree_replay_fn *fn, void *arg)
{
	t->replay = fn;
	t->replay_arg = arg;
}

void mhl2tree_on_dir(struct mhl2tree *t, mhl2tree_dir_fn *fn, void *arg)
{
	t->on_dir = fn;
	t->on_dir_arg = arg;
}

int mhl2tree_end_dir(struct mhl2tree *t, const char *path, size_t len)
{
	size_t name_at;

	for (size_t d = t->depth; d-- > 1;) {
		struct frame *f = &t->frames[d];

		if (f->path.len != len || memcmp(f->path.data, path, len) != 0)
			continue;
		while (t->depth > d)
			if (pop(t) != 0)
				return -1;
		return 0;
	}
	/* Never entered: an empty directory. */
	if (enter_parent(t, path, len, &name_at) != 0)
		return -1;
	if (mhl2tree_add_dir(t, path, len) != 0 ||
	    empty_subdirs_until(t, &t->frames[t->depth - 1], NULL, 0) != 0)
		return -1;
	return 0;
}

int mhl2tree_finish(struct mhl2tree *t, char (*content)[MHL2_DIGEST_MAX + 1],
		    char (*structure)[MHL2_DIGEST_MAX + 1])
{
	while (t->depth > 1)
		if (pop(t) != 0)
			return -1;
	if (empty_subdirs_until(t, &t->frames[0], NULL, 0) != 0)
		return -1;
	if (t->replay)
		return t->replay(t->replay_arg, "", 0, content, structure);
	for (size_t i = 0; i < t->n; i++)
		if (mhl2_dirhash_final(&t->frames[0].dh[i], content[i], structure[i]) != 0)
			return -1;
	return 0;
}
