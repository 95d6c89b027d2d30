/* SPDX-License-Identifier: 0BSD */
/**
 * An ASC MHL file read and parsed ahead on threads (mhl2ahead.h). Each chunk
 * of the file travels in a slot, read (and hashed) by one thread, parsed by
 * another, taken by the caller, in turn. The entries parsed from it are
 * packed into the slot's second buffer (a header, then the strings,
 * NUL-terminated) and unpacked by the caller into an mhl2_entry whose
 * strings point into that buffer: no allocation per entry on either side.
 * The smallest element that makes an entry or a report is a few bytes of
 * XML and packs into under a hundred, so a slot's entries stay within a
 * small multiple of its chunk whatever the file holds.
 */
#include "prelude.h"
#include "mhl2ahead.h"
#include "dbuf.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AHEAD_CHUNK ((size_t)64 << 10)
/* Chunks in flight: being read, parsed or taken, or waiting for the next step. */
#define AHEAD_SLOTS 4
/* A malformed element's report, in place of an entry. */
#define PACKED_MALFORMED 0xffu

/* An entry's fixed part in a slot's buffer (copied out, so unaligned). */
struct packed {
	uint32_t kind;            /* enum mhl2_kind, or PACKED_MALFORMED */
	uint32_t ndigests;
	uint64_t path_len;
	uint64_t size;
	uint64_t sequence;
	uintmax_t line;
	bool has_size;
	bool has_path;
};

/* A digest's fixed part; then value, structure and action, each present
 * only where its flag says so. */
struct packed_digest {
	uint32_t format;
	bool has_value, has_structure, has_action;
};

struct slot {
	char *buf;                /* AHEAD_CHUNK bytes */
	size_t len;
	struct dbuf entries;
	bool stopped, read_failed;
	int error;
	uintmax_t line;
	char why[256];
};

struct mhl2ahead {
	int fd;
	struct hash_ctx *digest;  /* the reading thread's, or NULL */
	int digest_error;         /* errno of a failed update or read, for the digest */
	struct mhl2_reader *reader;
	struct slot slots[AHEAD_SLOTS];
	struct slot *filling;     /* the slot the reader's entries go to */
	int pack_error;           /* packing an entry ran out of memory */
	pthread_t reading, parsing;
	bool reading_started, parsing_started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* Under lock. Slots are filled in turn: these count those that have
	 * been read, parsed and given back by the caller since the start. */
	uint64_t read, parsed, taken;
	bool held;                /* the caller holds the slot after taken */
	bool read_done;           /* the last slot has been read */
	bool parse_done;          /* ...and parsed */
	/* The parse stopped, or the caller's callback failed: parse no more,
	 * and without a digest read no more. */
	bool parse_stopped;
	bool quit;                /* the caller has gone */
	/* The caller's: */
	bool caller_stopped;      /* entries are no longer passed on */
};

static int pack_string(struct dbuf *b, const char *s)
{
	return dbuf_append(b, s, strlen(s) + 1);
}

/* The reader's callback, on the thread: the entry packed into the slot. */
static int pack_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct mhl2ahead *a = arg;
	struct dbuf *b = &a->filling->entries;
	struct packed p = {.line = line};

	if (!e) {
		p.kind = PACKED_MALFORMED;
		if (dbuf_append(b, &p, sizeof(p)) != 0 || pack_string(b, why ? why : "malformed") != 0)
			goto nomem;
		return 0;
	}
	p = (struct packed){.kind = (uint32_t)e->kind, .ndigests = (uint32_t)e->ndigests,
			    .path_len = e->path_len, .size = e->size, .sequence = e->sequence,
			    .line = e->line, .has_size = e->has_size, .has_path = e->path != NULL};
	if (dbuf_append(b, &p, sizeof(p)) != 0 ||
	    (e->path && dbuf_append(b, e->path, e->path_len + 1) != 0))
		goto nomem;
	for (size_t k = 0; k < e->ndigests; k++) {
		const struct mhl2_digest *d = &e->digests[k];
		struct packed_digest pd = {.format = (uint32_t)d->format, .has_value = d->value != NULL,
					   .has_structure = d->structure != NULL,
					   .has_action = d->action != NULL};

		if (dbuf_append(b, &pd, sizeof(pd)) != 0 ||
		    (d->value && pack_string(b, d->value) != 0) ||
		    (d->structure && pack_string(b, d->structure) != 0) ||
		    (d->action && pack_string(b, d->action) != 0))
			goto nomem;
	}
	return 0;
nomem:
	a->pack_error = errno ? errno : ENOMEM;
	return -1;
}

/* Note a step under the lock and wake whoever waits on it. */
static void step(struct mhl2ahead *a, uint64_t *count, bool *flag)
{
	pthread_mutex_lock(&a->lock);
	if (count)
		(*count)++;
	if (flag)
		*flag = true;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->lock);
}

/* Read the next chunk into s and hash it; returns read's result. */
static ssize_t read_slot(struct mhl2ahead *a, struct slot *s)
{
	ssize_t n;

	dbuf_clear(&s->entries);
	s->stopped = s->read_failed = false;
	s->error = 0;
	do
		n = read(a->fd, s->buf, AHEAD_CHUNK);
	while (n < 0 && errno == EINTR);
	s->len = n > 0 ? (size_t)n : 0;
	if (n < 0) {
		s->read_failed = true;
		s->error = a->digest_error = errno;
	} else if (n > 0 && a->digest && !a->digest_error &&
		   hash_ctx_update(a->digest, s->buf, s->len) != 0) {
		a->digest_error = errno ? errno : EIO;
	}
	return n;
}

/* Parse the chunk read into s, packing its entries; false when the parse stopped there. */
static bool parse_slot(struct mhl2ahead *a, struct slot *s)
{
	const char *why;

	if (s->read_failed)
		return true;
	a->filling = s;
	a->pack_error = 0;
	if (mhl2_feed(a->reader, s->buf, s->len, s->len == 0, &why) == 0)
		return true;
	s->stopped = true;
	s->error = a->pack_error ? a->pack_error : errno;
	if (!s->error) {
		s->line = mhl2_line(a->reader);
		snprintf(s->why, sizeof(s->why), "%s", why ? why : "malformed");
	}
	return false;
}

/* The reading thread: each chunk into the next free slot, and the digest. */
static void *reading_main(void *arg)
{
	struct mhl2ahead *a = arg;
	bool stop;
	ssize_t n;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		while (!a->quit && a->read - a->taken == AHEAD_SLOTS)
			pthread_cond_wait(&a->changed, &a->lock);
		stop = a->quit || (a->parse_stopped && !a->digest);
		if (stop && !a->quit) {
			a->read_done = true;
			pthread_cond_broadcast(&a->changed);
		}
		pthread_mutex_unlock(&a->lock);
		if (stop)
			return NULL;
		n = read_slot(a, &a->slots[a->read % AHEAD_SLOTS]);
		step(a, &a->read, n <= 0 ? &a->read_done : NULL);
		if (n <= 0)
			return NULL;
	}
}

/* The parsing thread: each slot read, through the reader, its entries packed. */
static void *parsing_main(void *arg)
{
	struct mhl2ahead *a = arg;
	bool parsing = true, end;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		while (!a->quit && a->parsed == a->read && !a->read_done)
			pthread_cond_wait(&a->changed, &a->lock);
		end = a->quit || a->parsed == a->read;
		if (a->parse_stopped)
			parsing = false;
		pthread_mutex_unlock(&a->lock);
		if (end) {
			step(a, NULL, &a->parse_done);
			return NULL;
		}
		if (parsing && !parse_slot(a, &a->slots[a->parsed % AHEAD_SLOTS])) {
			parsing = false;
			step(a, NULL, &a->parse_stopped);
		}
		step(a, &a->parsed, NULL);
	}
}

struct mhl2ahead *mhl2ahead_start(int fd, enum mhl2_doc doc, struct hash_ctx *digest,
				   bool threaded)
{
	struct mhl2ahead *a = calloc(1, sizeof(*a));
	int error;

	if (!a)
		return NULL;
	a->fd = fd;
	a->digest = digest;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->changed, NULL);
	for (size_t i = 0; i < AHEAD_SLOTS; i++)
		dbuf_init(&a->slots[i].entries);
	a->reader = mhl2_reader_new(doc, pack_entry, a);
	if (!a->reader)
		goto fail;
	for (size_t i = 0; i < AHEAD_SLOTS; i++) {
		a->slots[i].buf = malloc(AHEAD_CHUNK);
		if (!a->slots[i].buf)
			goto fail;
	}
	if (threaded && pthread_create(&a->parsing, NULL, parsing_main, a) == 0) {
		a->parsing_started = true;
		if (pthread_create(&a->reading, NULL, reading_main, a) == 0) {
			a->reading_started = true;
		} else {
			/* Read nothing yet: the parsing thread ends, and this runs inline. */
			step(a, NULL, &a->quit);
			pthread_join(a->parsing, NULL);
			a->parsing_started = a->quit = a->parse_done = false;
		}
	}
	return a;
fail:
	error = errno;
	mhl2ahead_free(a);
	errno = error;
	return NULL;
}

/* Copy the next n bytes of the packed entries at *at out; false past the end. */
static bool unpack(const struct dbuf *b, size_t *at, void *out, size_t n)
{
	if (b->len - *at < n)
		return false;
	memcpy(out, b->data + *at, n);
	*at += n;
	return true;
}

/* The string at *at, stepped over. */
static const char *unpack_string(const struct dbuf *b, size_t *at)
{
	const char *s = b->data + *at;

	*at += strlen(s) + 1;
	return s;
}

/* Pass the slot's entries on to fn; false when fn failed (errno set). */
static bool replay(const struct dbuf *b, mhl2_entry_fn *fn, void *arg)
{
	struct packed p;
	size_t at = 0;

	while (unpack(b, &at, &p, sizeof(p))) {
		struct mhl2_entry e = {0};
		int rc;

		if (p.kind == PACKED_MALFORMED) {
			const char *why = unpack_string(b, &at);

			rc = fn(arg, NULL, p.line, why);
		} else {
			e.kind = (enum mhl2_kind)p.kind;
			e.path_len = (size_t)p.path_len;
			e.size = p.size;
			e.sequence = p.sequence;
			e.line = p.line;
			e.has_size = p.has_size;
			e.ndigests = p.ndigests;
			if (p.has_path) {
				e.path = b->data + at;
				at += e.path_len + 1;
			}
			for (size_t k = 0; k < e.ndigests; k++) {
				struct packed_digest pd;
				struct mhl2_digest *d = &e.digests[k];

				if (!unpack(b, &at, &pd, sizeof(pd))) {
					errno = EIO; /* cannot be: packed whole above */
					return false;
				}
				d->format = (enum mhl2_format)pd.format;
				d->value = pd.has_value ? unpack_string(b, &at) : NULL;
				d->structure = pd.has_structure ? unpack_string(b, &at) : NULL;
				d->action = pd.has_action ? unpack_string(b, &at) : NULL;
			}
			rc = fn(arg, &e, p.line, NULL);
		}
		if (rc != 0)
			return false;
	}
	return true;
}

/* Without threads: the next chunk read and parsed here, into the one slot; NULL at the end. */
static struct slot *next_inline(struct mhl2ahead *a)
{
	struct slot *s = &a->slots[0];

	if (a->read_done || (a->parse_stopped && !a->digest))
		return NULL;
	a->read_done = read_slot(a, s) <= 0;
	if (!a->parse_stopped && !parse_slot(a, s))
		a->parse_stopped = true;
	return s;
}

/* With threads: the next chunk parsed, once the caller has given back the last. */
static struct slot *next_threaded(struct mhl2ahead *a)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&a->lock);
	if (a->held) {
		a->held = false;
		a->taken++;
		pthread_cond_broadcast(&a->changed);
	}
	while (a->taken == a->parsed && !a->parse_done)
		pthread_cond_wait(&a->changed, &a->lock);
	if (a->taken < a->parsed) {
		a->held = true;
		s = &a->slots[a->taken % AHEAD_SLOTS];
	}
	pthread_mutex_unlock(&a->lock);
	return s;
}

int mhl2ahead_next(struct mhl2ahead *a, mhl2_entry_fn *fn, void *arg,
		   struct mhl2ahead_chunk *chunk)
{
	struct slot *s = a->parsing_started ? next_threaded(a) : next_inline(a);

	if (!s)
		return 0;
	*chunk = (struct mhl2ahead_chunk){.bytes = s->buf, .len = s->len,
					  .read_failed = s->read_failed};
	if (s->read_failed)
		chunk->error = s->error;
	if (a->caller_stopped)
		return 1;
	if (!replay(&s->entries, fn, arg)) {
		chunk->stopped = true;
		chunk->error = errno ? errno : EIO;
		a->caller_stopped = true;
		step(a, NULL, &a->parse_stopped);
		return 1;
	}
	if (s->stopped) {
		chunk->stopped = true;
		chunk->error = s->error;
		chunk->why = s->why;
		chunk->line = s->line;
		a->caller_stopped = true;
	}
	return 1;
}

int mhl2ahead_digest_status(const struct mhl2ahead *a)
{
	if (a->digest_error) {
		errno = a->digest_error;
		return -1;
	}
	return 0;
}

void mhl2ahead_free(struct mhl2ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->quit = true;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->lock);
	if (a->reading_started)
		pthread_join(a->reading, NULL);
	if (a->parsing_started)
		pthread_join(a->parsing, NULL);
	mhl2_reader_free(a->reader);
	for (size_t i = 0; i < AHEAD_SLOTS; i++) {
		free(a->slots[i].buf);
		dbuf_free(&a->slots[i].entries);
	}
	pthread_cond_destroy(&a->changed);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
