/* SPDX-License-Identifier: 0BSD */
/**
 * The entries of a generation (mhlfiles.h). Each entry is laid out once, head,
 * path and digest strings together, in an arena (arena.h): a few large
 * allocations instead of one per entry, and the bytes of one entry on the
 * same cache lines. The sort moves only an index of references, each made
 * as its entry is added with the path's first 16 bytes as two big-endian
 * numbers, so that most comparisons never touch the entries at all.
 */
#include "prelude.h"
#include "mhlfiles.h"
#include "arena.h"
#include "psort.h"
#include "mhl2tree.h"
#include "grow.h"
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* An entry's fixed part; its path and digest strings follow. */
struct entry {
	uint64_t size;
	int64_t sec;
	uint32_t nsec;
	uint32_t len;
	bool dir;
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
	struct arena entries;
	struct ref *index;        /* every entry added, in order; sorted by mhlfiles_sort */
	size_t n, cap;
	size_t nindex;            /* how many the last sort kept */
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
	if (!files)
		return;
	arena_free(&files->entries);
	free(files->index);
	free(files);
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

/* Add an entry with room for digests bytes after its path; returns it, or NULL. */
static struct entry *add(struct mhlfiles *files, const char *path, size_t len, size_t digests)
{
	struct entry *e;

	if (len > UINT32_MAX || digests > SIZE_MAX / 2 - sizeof(*e) - len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (GROW(files->index, &files->cap, files->n + 1, 1024) != 0)
		return NULL;
	e = arena_alloc(&files->entries, sizeof(*e) + len + 1 + digests, alignof(struct entry));
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->len = (uint32_t)len;
	memcpy((char *)(e + 1), path, len);
	((char *)(e + 1))[len] = '\0';
	files->index[files->n++] = (struct ref){
		.key = {key_at(path, len, 0), key_at(path, len, 8)}, .entry = e};
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

	for (size_t i = 0; i < files->n; i++) {
		const struct entry *e = files->index[i].entry;

		if (!keep || keep(arg, entry_path(e), e->len, e->dir))
			files->index[n++] = files->index[i];
	}
	if (n > 1)
		psort(files->index, n, sizeof(*files->index), by_path, threads);
	files->n = files->nindex = n;
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
