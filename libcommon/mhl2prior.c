/* SPDX-License-Identifier: 0BSD */
/** The newest recorded digests of an ASC MHL history, per path and format (mhl2prior.h). */
#include "prelude.h"
#include "mhl2prior.h"
#include "mhl2ahead.h"
#include "arena.h"
#include "openread.h"
#include "hash.h"
#include "grow.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A generation with more ignore patterns than this is refused rather than held. */
#define IGNORE_MAX 4096

/* One path: the path, then each recorded digest (strings in the table's blocks). */
struct prior_entry {
	const char *path;
	uint32_t len;
	char *digests[MHL2_FORMATS];
};

/*
 * The entries one after another, found through open addressing over
 * slots of 64 bits each: the path's hash in the high half, the entry's
 * index + 1 in the low (0: empty). A probe compares the hashes in the slot
 * array alone and reads an entry only when they match; the table doubles
 * without reading a path.
 */
struct mhl2_prior {
	struct prior_entry *entries;
	size_t n, room;           /* entries used, allocated */
	uint64_t *slots;
	size_t cap;               /* slots, a power of two, at least twice n */
	struct arena strings;     /* the paths and digests: a history of 200,000
				   * files holds 600,000 of them */
	const char *why;          /* a malformed generation's reason */
	char **ignore;            /* the newest generation's ignore patterns */
	size_t nignore;
	bool collecting;          /* reading the newest generation: keep its patterns */
};

static int keep_pattern(struct mhl2_prior *p, const struct mhl2_entry *e)
{
	char **grown;

	if (!p->collecting || e->path_len == 0)
		return 0;
	if (p->nignore == IGNORE_MAX) {
		p->why = "more than 4096 ignore patterns";
		errno = 0;
		return -1;
	}
	grown = realloc(p->ignore, (p->nignore + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	p->ignore = grown;
	p->ignore[p->nignore] = strndup(e->path, e->path_len);
	if (!p->ignore[p->nignore])
		return -1;
	p->nignore++;
	return 0;
}

static uint32_t path_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return (uint32_t)(h ^ h >> 32);
}

/* The slot of path (hash h): its entry's, or the empty one where it would go. */
static size_t slot_of(const struct mhl2_prior *p, uint32_t h, const char *path, size_t len)
{
	size_t i = h & (p->cap - 1);

	for (; p->slots[i]; i = (i + 1) & (p->cap - 1)) {
		const struct prior_entry *e;

		if ((uint32_t)(p->slots[i] >> 32) != h)
			continue;
		e = &p->entries[(uint32_t)p->slots[i] - 1];
		if (e->len == len && memcmp(e->path, path, len) == 0)
			break;
	}
	return i;
}

/* Room for one more entry: the entries and the slots grown as needed. 0 or -1. */
static int make_room(struct mhl2_prior *p)
{
	if (p->n >= UINT32_MAX - 1) {    /* a slot holds index + 1 in 32 bits */
		errno = ENOMEM;
		return -1;
	}
	if (GROW(p->entries, &p->room, p->n + 1, 1024) != 0)
		return -1;
	if (2 * (p->n + 1) > p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 2048;
		uint64_t *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -1;
		for (size_t i = 0; i < p->cap; i++) {
			size_t at;

			if (!p->slots[i])
				continue;
			at = (uint32_t)(p->slots[i] >> 32) & (cap - 1);
			while (slots[at])
				at = (at + 1) & (cap - 1);
			slots[at] = p->slots[i];
		}
		free(p->slots);
		p->slots = slots;
		p->cap = cap;
	}
	return 0;
}

static int on_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct mhl2_prior *p = arg;
	struct prior_entry *slot;
	uint32_t h;
	size_t at;

	(void)line;
	if (!e) {
		p->why = why;
		errno = 0;
		return -1;
	}
	if (e->kind == MHL2_ENTRY_IGNORE)
		return keep_pattern(p, e);
	if (e->kind != MHL2_ENTRY_FILE)
		return 0;
	if (e->path_len > UINT32_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (make_room(p) != 0)
		return -1;
	h = path_hash(e->path, e->path_len);
	at = slot_of(p, h, e->path, e->path_len);
	if (p->slots[at]) {
		slot = &p->entries[(uint32_t)p->slots[at] - 1];
	} else {
		slot = &p->entries[p->n];
		*slot = (struct prior_entry){.len = (uint32_t)e->path_len};
		slot->path = arena_strndup(&p->strings, e->path, e->path_len);
		if (!slot->path)
			return -1;
		p->slots[at] = (uint64_t)h << 32 | (uint64_t)(p->n + 1);
		p->n++;
	}
	for (size_t k = 0; k < e->ndigests; k++) {
		const struct mhl2_digest *d = &e->digests[k];

		/* Newest first: a format already given stays; a failed check's
		 * digest is what was found, not what was sealed. */
		if (slot->digests[d->format] || (d->action && strcmp(d->action, "failed") == 0))
			continue;
		slot->digests[d->format] = arena_strndup(&p->strings, d->value, strlen(d->value));
		if (!slot->digests[d->format])
			return -1;
	}
	return 0;
}

/* Why the last load in this thread failed, kept past the reader that said so. */
static _Thread_local char reason[256];

/* Read one generation, which must have the C4 the chain gives it (c4):
 * read, hashed and parsed ahead on threads of their own, the cores being
 * free while a history is read (mhl2ahead.h). */
static int read_one(struct mhl2_prior *p, int fd, const char *c4, const char **why)
{
	struct hash_ctx *sha512 = hash_ctx_new(hash_lookup("sha512"));
	struct mhl2ahead *ahead = NULL;
	struct mhl2ahead_chunk chunk;
	char got[MHL2_C4_LEN + 1];
	unsigned char digest[64];
	int rc = -1;

	if (sha512)
		ahead = mhl2ahead_start(fd, MHL2_DOC_GENERATION, sha512, mhl2ahead_parsers(true), 0);
	if (!ahead)
		goto out;
	while (mhl2ahead_next(ahead, on_entry, p, &chunk) > 0) {
		if (chunk.read_failed) {
			errno = chunk.error;
			goto out;
		}
		if (chunk.stopped) {
			if (chunk.error == 0) {
				snprintf(reason, sizeof(reason), "%s", p->why ? p->why : chunk.why);
				*why = reason;
			}
			errno = chunk.error;
			goto out;
		}
	}
	if (mhl2ahead_digest_status(ahead) != 0 || hash_ctx_final(sha512, digest) != 0)
		goto out;
	mhl2_c4_encode(digest, got);
	/* A history extended over a changed generation would vouch for it. */
	if (strcmp(got, c4) != 0) {
		*why = "generation changed: its C4 differs from the chain's";
		errno = 0;
		goto out;
	}
	rc = 0;
out:
	mhl2ahead_free(ahead);
	hash_ctx_free(sha512);
	return rc;
}

struct mhl2_prior *mhl2_prior_load(int histfd, const struct mhl2_chain *chain, const char **why,
				   const char **name)
{
	struct mhl2_prior *p = calloc(1, sizeof(*p));
	bool *done = calloc(chain->n + 1, sizeof(*done));
	bool newest_read = false;

	*why = NULL;
	*name = NULL;
	if (!p || !done)
		goto fail;
	for (size_t round = 0; round < chain->n; round++) {
		size_t best = chain->n;
		int fd;

		/* The newest generation not read yet. */
		for (size_t i = 0; i < chain->n; i++)
			if (!done[i] && (best == chain->n ||
					 chain->links[i].sequence > chain->links[best].sequence))
				best = i;
		done[best] = true;
		fd = open_regular_at(histfd, chain->links[best].path);
		if (fd < 0) {
			*name = chain->links[best].path;
			if (errno == ENOENT || errno == ENOTREGULAR) {
				*why = errno == ENOENT ? "listed by the chain but missing"
						       : "not a regular file";
				errno = 0;
			}
			goto fail;
		}
		p->collecting = !newest_read;
		if (read_one(p, fd, chain->links[best].c4, why) != 0) {
			*name = chain->links[best].path;
			close(fd);
			goto fail;
		}
		close(fd);
		newest_read = true;
		p->collecting = false;
	}
	free(done);
	return p;
fail:
	free(done);
	mhl2_prior_free(p);
	return NULL;
}

/* The entry of path, or NULL. */
static const struct prior_entry *find(const struct mhl2_prior *p, const char *path, size_t len)
{
	size_t at;

	if (!p || p->n == 0)
		return NULL;
	at = slot_of(p, path_hash(path, len), path, len);
	return p->slots[at] ? &p->entries[(uint32_t)p->slots[at] - 1] : NULL;
}

const char *mhl2_prior_get(const struct mhl2_prior *p, const char *path, size_t len,
			   enum mhl2_format format)
{
	const struct prior_entry *e = find(p, path, len);

	return e ? e->digests[format] : NULL;
}

bool mhl2_prior_actions(const struct mhl2_prior *p, const char *path, size_t len,
			const enum mhl2_format *formats, const char *const *digests, size_t n,
			const char **actions)
{
	const struct prior_entry *e = find(p, path, len);
	bool failed = false;

	for (size_t i = 0; i < n; i++) {
		const char *old = e ? e->digests[formats[i]] : NULL;

		actions[i] = !old ? "original" : strcmp(old, digests[i]) == 0 ? "verified" : "failed";
		failed |= actions[i][0] == 'f';
	}
	return failed;
}

const char *const *mhl2_prior_ignore(const struct mhl2_prior *p, size_t *n)
{
	*n = p ? p->nignore : 0;
	return p ? (const char *const *)p->ignore : NULL;
}

void mhl2_prior_free(struct mhl2_prior *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nignore; i++)
		free(p->ignore[i]);
	free(p->ignore);
	arena_free(&p->strings);
	free(p->entries);
	free(p->slots);
	free(p);
}

int mhl2_prior_load_history(int histfd, struct mhl2_chain *chain, bool *chain_found,
			    struct mhl2_prior **prior, struct mhl2_prior_fault *fault)
{
	int fd = open_regular_at(histfd, MHL2_CHAIN_NAME);

	*fault = (struct mhl2_prior_fault){0};
	*prior = NULL;
	if (chain_found)
		*chain_found = fd >= 0;
	if (fd >= 0) {
		int rc = mhl2_chain_read(fd, chain, &fault->why);

		close(fd);
		if (rc != 0) {
			fault->chain = true;
			return -1;
		}
	} else if (errno == ENOTREGULAR) {
		fault->chain = true;
		fault->why = "not a regular file";
		return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	if (chain->n == 0)
		return 0;
	*prior = mhl2_prior_load(histfd, chain, &fault->why, &fault->generation);
	return *prior ? 0 : -1;
}
