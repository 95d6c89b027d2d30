/* SPDX-License-Identifier: 0BSD */
/** --reuse OLDLIST: an open-addressing table from path to old digests. */
#include "prelude.h"
#include "reuse.h"
#include "diag.h"
#include "input.h"
#include "record.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One old record: this header, then the path and the hex digests, NUL-terminated. */
struct reuse_entry {
	uint64_t hash;
	uint64_t ino, size;
	struct timespec mtime;
	size_t path_len;
	const char *path;
	const char *hex[HASH_SET_MAX];
};

struct reuse {
	size_t count;                /* algorithms per entry */
	struct reuse_entry **table;  /* open addressing, linear probing */
	size_t mask;                 /* table size - 1 (a power of two) */
	size_t used;
};

/* FNV-1a, 64 bits. */
static uint64_t path_hash(const char *path, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)path[i];
		h *= 0x100000001b3u;
	}
	return h;
}

/* Parse "SEC.NNNNNNNNN" (exactly nine digits of nanoseconds). */
static bool parse_mtime(const char *text, struct timespec *ts)
{
	char *end;
	long long sec;
	long nsec = 0;
	int i;

	errno = 0;
	sec = strtoll(text, &end, 10);
	if (errno || end == text || *end != '.')
		return false;
	for (i = 1; i <= 9; i++) {
		if (end[i] < '0' || end[i] > '9')
			return false;
		nsec = nsec * 10 + (end[i] - '0');
	}
	if (end[10] != '\0')
		return false;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
	return true;
}

static int grow(struct reuse *reuse)
{
	size_t size = (reuse->mask + 1) * 2, i;
	struct reuse_entry **table = calloc(size, sizeof(*table));

	if (!table)
		return -1;
	for (i = 0; i <= reuse->mask; i++) {
		struct reuse_entry *entry = reuse->table[i];
		size_t j;

		if (!entry)
			continue;
		for (j = entry->hash & (size - 1); table[j]; j = (j + 1) & (size - 1))
			;
		table[j] = entry;
	}
	free(reuse->table);
	reuse->table = table;
	reuse->mask = size - 1;
	return 0;
}

/* Insert (or replace: a later record of the same path wins). Returns 0 or -1. */
static int insert(struct reuse *reuse, struct reuse_entry *entry)
{
	size_t j;

	if ((reuse->used + 1) * 2 > reuse->mask + 1 && grow(reuse) != 0)
		return -1;
	for (j = entry->hash & reuse->mask; reuse->table[j]; j = (j + 1) & reuse->mask) {
		struct reuse_entry *old = reuse->table[j];

		if (old->hash == entry->hash && old->path_len == entry->path_len &&
		    memcmp(old->path, entry->path, entry->path_len) == 0) {
			free(old);
			reuse->table[j] = entry;
			return 0;
		}
	}
	reuse->table[j] = entry;
	reuse->used++;
	return 0;
}

/* Make an entry from rec if it has an mtime and every algorithm. NULL: skip it (or ENOMEM). */
static struct reuse_entry *make_entry(const struct rec *rec, const struct hash_algo *const *algos,
				      size_t count, bool *oom)
{
	const char *values[HASH_SET_MAX], *mtime;
	size_t lens[HASH_SET_MAX], path_len = rec_path_len(rec), total, i;
	struct reuse_entry *entry;
	struct timespec ts;
	char *p;

	*oom = false;
	mtime = rec_attr_get(rec, "mtime", NULL);
	if (rec->plain || !mtime || !parse_mtime(mtime, &ts))
		return NULL;
	total = sizeof(*entry) + path_len + 1;
	for (i = 0; i < count; i++) {
		values[i] = rec_attr_get(rec, algos[i]->name, &lens[i]);
		if (!values[i] || lens[i] != 2 * algos[i]->digest_len)
			return NULL;
		total += lens[i] + 1;
	}
	entry = malloc(total);
	if (!entry) {
		*oom = true;
		return NULL;
	}
	entry->ino = rec->ino;
	entry->size = rec->size;
	entry->mtime = ts;
	entry->path_len = path_len;
	p = (char *)(entry + 1);
	memcpy(p, rec_path(rec), path_len + 1);
	entry->path = p;
	entry->hash = path_hash(p, path_len);
	p += path_len + 1;
	for (i = 0; i < count; i++) {
		memcpy(p, values[i], lens[i] + 1);
		entry->hex[i] = p;
		p += lens[i] + 1;
	}
	return entry;
}

struct reuse *reuse_load(const char *path, const struct hash_algo *const *algos, size_t count)
{
	struct reuse *reuse = calloc(1, sizeof(*reuse));
	struct input *in = NULL;
	struct rec rec;
	int saved = ENOMEM;

	rec_init(&rec);
	if (!reuse)
		goto fail;
	reuse->count = count;
	reuse->mask = 1023;
	reuse->table = calloc(reuse->mask + 1, sizeof(*reuse->table));
	if (!reuse->table)
		goto fail;
	in = input_open(path, false);
	if (!in) {
		saved = errno;
		goto fail;
	}
	for (;;) {
		const char *why = NULL;
		enum input_status status = input_next(in, &rec, &why);
		struct reuse_entry *entry;
		bool oom;

		if (status == INPUT_EOF)
			break;
		if (status == INPUT_ERROR) {
			saved = errno;
			goto fail;
		}
		if (status == INPUT_MALFORMED) {
			diag_input_error(input_name(in), input_line(in), "%s", why);
			continue;
		}
		if (status != INPUT_RECORD)
			continue;
		entry = make_entry(&rec, algos, count, &oom);
		if (oom)
			goto fail;
		if (entry && insert(reuse, entry) != 0) {
			free(entry);
			goto fail;
		}
	}
	input_close(in);
	rec_free(&rec);
	return reuse;
fail:
	input_close(in);
	rec_free(&rec);
	reuse_free(reuse);
	errno = saved;
	return NULL;
}

void reuse_free(struct reuse *reuse)
{
	size_t i;

	if (!reuse)
		return;
	if (reuse->table) {
		for (i = 0; i <= reuse->mask; i++)
			free(reuse->table[i]);
	}
	free(reuse->table);
	free(reuse);
}

const char *const *reuse_find(const struct reuse *reuse, const char *path, size_t len,
			      const struct stat *st)
{
	uint64_t hash = path_hash(path, len);
	size_t j;

	for (j = hash & reuse->mask; reuse->table[j]; j = (j + 1) & reuse->mask) {
		const struct reuse_entry *entry = reuse->table[j];

		if (entry->hash != hash || entry->path_len != len || memcmp(entry->path, path, len) != 0)
			continue;
		if (entry->ino != (uint64_t)st->st_ino || entry->size != (uint64_t)st->st_size ||
		    entry->mtime.tv_sec != st->st_mtim.tv_sec ||
		    entry->mtime.tv_nsec != st->st_mtim.tv_nsec)
			return NULL;
		return entry->hex;
	}
	return NULL;
}
