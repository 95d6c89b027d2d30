/* SPDX-License-Identifier: 0BSD */
/**
 * The entries of a generation (mhlfiles.h). Each entry is laid out once, head,
 * path and digest strings together, at the end of the current block: a few
 * large allocations instead of one per entry, and the bytes of one entry on
 * the same cache lines. The sort moves only a small index of references, each
 * with the path's first 16 bytes as two big-endian numbers, so that most
 * comparisons never touch the entries at all.
 */
#include "prelude.h"
#include "mhlfiles.h"
#include "psort.h"
#include "mhl2tree.h"
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* Entries are added into blocks this large (a longer entry gets its own). */
#define BLOCK_SIZE ((size_t)1 << 20)

/* An entry's fixed part; its path and digest strings follow. */
struct entry {
	uint64_t size;
	int64_t sec;
	uint32_t nsec;
	uint32_t len;
	bool dir;
};

struct block {
	struct block *next;
	size_t used, cap;
	alignas(max_align_t) char data[];
};

/* An entry in the index: the path's first 16 bytes, for comparing. */
struct ref {
	uint64_t key[2];
	const struct entry *entry;
};

struct mhlfiles {
	enum mhl2_format formats[MHL2_FORMATS];
	size_t digest_len[MHL2_FORMATS];
	size_t nformats;
	size_t digests_size;      /* every digest string of a file, with its NUL */
	struct block *first, *last;
	size_t count;             /* entries added */
	struct ref *index;
	size_t nindex;
};

struct mhlfiles *mhlfiles_new(const enum mhl2_format *formats, size_t nformats)
{
	struct mhlfiles *files;

	if (nformats > MHL2_FORMATS) {
		errno = EINVAL;
		return NULL;
	}
	files = calloc(1, sizeof(*files));
	if (!files)
		return NULL;
	files->nformats = nformats;
	for (size_t i = 0; i < nformats; i++) {
		files->formats[i] = formats[i];
		files->digest_len[i] = mhl2_digest_len(formats[i]);
		files->digests_size += files->digest_len[i] + 1;
	}
	return files;
}

void mhlfiles_free(struct mhlfiles *files)
{
	struct block *b, *next;

	if (!files)
		return;
	for (b = files->first; b; b = next) {
		next = b->next;
		free(b);
	}
	free(files->index);
	free(files);
}

/* Room for size bytes (a multiple of the entry's alignment), or NULL. */
static void *room(struct mhlfiles *files, size_t size)
{
	struct block *b = files->last;
	void *at;

	if (!b || b->cap - b->used < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = NULL;
		b->used = 0;
		b->cap = cap;
		if (files->last)
			files->last->next = b;
		else
			files->first = b;
		files->last = b;
	}
	at = b->data + b->used;
	b->used += size;
	return at;
}

/* Add an entry with room for digests bytes after its path; returns it, or NULL. */
static struct entry *add(struct mhlfiles *files, const char *path, size_t len, size_t digests)
{
	size_t size;
	struct entry *e;

	if (len > UINT32_MAX || digests > SIZE_MAX / 2 - sizeof(*e) - len - alignof(struct entry)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	size = sizeof(*e) + len + 1 + digests;
	size = (size + alignof(struct entry) - 1) / alignof(struct entry) * alignof(struct entry);
	e = room(files, size);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->len = (uint32_t)len;
	memcpy((char *)(e + 1), path, len);
	((char *)(e + 1))[len] = '\0';
	files->count++;
	return e;
}

int mhlfiles_add(struct mhlfiles *files, const char *path, size_t len, uint64_t size,
		 const struct timespec *mtime, const char (*digests)[MHL2_DIGEST_MAX + 1])
{
	struct entry *e = add(files, path, len, files->digests_size);
	char *at;

	if (!e)
		return -1;
	e->size = size;
	e->sec = (int64_t)mtime->tv_sec;
	e->nsec = (uint32_t)mtime->tv_nsec;
	at = (char *)(e + 1) + len + 1;
	for (size_t i = 0; i < files->nformats; i++) {
		memcpy(at, digests[i], files->digest_len[i]);
		at[files->digest_len[i]] = '\0';
		at += files->digest_len[i] + 1;
	}
	return 0;
}

int mhlfiles_add_dir(struct mhlfiles *files, const char *path, size_t len)
{
	struct entry *e = add(files, path, len, 0);

	if (!e)
		return -1;
	e->dir = true;
	return 0;
}

static const char *entry_path(const struct entry *e)
{
	return (const char *)(e + 1);
}

/* The entry after e in its block, or NULL at the block's end. */
static const struct entry *entry_next(const struct mhlfiles *files, const struct block *b,
				      const struct entry *e)
{
	size_t size = sizeof(*e) + e->len + 1 + (e->dir ? 0 : files->digests_size);
	const char *next;

	size = (size + alignof(struct entry) - 1) / alignof(struct entry) * alignof(struct entry);
	next = (const char *)e + size;
	return next < b->data + b->used ? (const struct entry *)(const void *)next : NULL;
}

/* A path's bytes from..from+8, ranked as mhl2_path_cmp orders them, as a
 * big-endian number, zeros past its end. */
static uint64_t key_at(const char *path, size_t len, size_t from)
{
	uint64_t key = 0;

	for (size_t i = from; i < from + 8; i++)
		key = key << 8 | (i < len ? mhl2_path_rank((unsigned char)path[i]) : 0);
	return key;
}

static int by_path(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->key[0] != y->key[0])
		return x->key[0] < y->key[0] ? -1 : 1;
	if (x->key[1] != y->key[1])
		return x->key[1] < y->key[1] ? -1 : 1;
	/* The same first 16 bytes: a path shorter than that ends inside them,
	 * and so does the other, at the same place. */
	if (x->entry->len < 16 || y->entry->len < 16)
		return 0;
	return mhl2_path_cmp(entry_path(x->entry) + 16, x->entry->len - 16,
			     entry_path(y->entry) + 16, y->entry->len - 16);
}

int mhlfiles_sort(struct mhlfiles *files, mhlfiles_keep_fn *keep, void *arg, unsigned threads)
{
	size_t n = 0;

	free(files->index);
	files->nindex = 0;
	files->index = NULL;
	if (files->count == 0)
		return 0;
	if (files->count > SIZE_MAX / sizeof(*files->index)) {
		errno = ENOMEM;
		return -1;
	}
	files->index = malloc(files->count * sizeof(*files->index));
	if (!files->index)
		return -1;
	for (const struct block *b = files->first; b; b = b->next) {
		const struct entry *e = b->used ? (const struct entry *)(const void *)b->data : NULL;

		for (; e; e = entry_next(files, b, e)) {
			const char *path = entry_path(e);

			if (keep && !keep(arg, path, e->len, e->dir))
				continue;
			files->index[n++] = (struct ref){
				.key = {key_at(path, e->len, 0), key_at(path, e->len, 8)}, .entry = e};
		}
	}
	if (n > 1)
		psort(files->index, n, sizeof(*files->index), by_path, threads);
	files->nindex = n;
	return 0;
}

size_t mhlfiles_count(const struct mhlfiles *files)
{
	return files->nindex;
}

const char *mhlfiles_path(const struct mhlfiles *files, size_t i)
{
	return entry_path(files->index[i].entry);
}

void mhlfiles_get(const struct mhlfiles *files, size_t i, struct mhlfile *out)
{
	const struct entry *e = files->index[i].entry;
	const char *at;

	memset(out, 0, sizeof(*out));
	out->path = entry_path(e);
	out->len = e->len;
	out->dir = e->dir;
	if (e->dir)
		return;
	out->size = e->size;
	out->mtime.tv_sec = (time_t)e->sec;
	out->mtime.tv_nsec = (long)e->nsec;
	at = out->path + e->len + 1;
	for (size_t k = 0; k < files->nformats; k++) {
		out->digests[k] = at;
		at += files->digest_len[k] + 1;
	}
}
