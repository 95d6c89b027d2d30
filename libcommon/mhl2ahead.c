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
 *
 * Pieces. With two parsers or more, the reading thread ends a chunk where
 * xmlsplit finds a point in the body past the piece size: a chunk that
 * starts and ends at such points is a piece, parsed alone on a reader of
 * its own inside a made-up <hashlist><hashes>; every other chunk goes, in
 * order, to the one main reader, which steps over the pieces. A piece that
 * parses alone is balanced content, so the main reader's state after it
 * is what it was before: the entries are those of one parse. Lines are
 * counted per chunk, and each report's line is moved by the lines the
 * reader did not see when the caller takes it. Where a piece does not
 * parse alone, or the main reader fails after stepping over one, the
 * caller parses the file in place from the last point known to be right
 * (reread from the file) to the end, passing over the entries it already
 * gave: what it reports is what one parse reports. Every chunk the main
 * reader is given ends at a point or at a multiple of the read size, as one
 * parse fed read by read would be cut (expat's reason for an error can
 * depend on where its input was cut). One difference is left: a token over
 * MHL2_TOKEN_MAX that starts right where a reparse starts is refused with
 * the same reason, but the line given (where the parse had got to) may be
 * that of the slice before or after.
 */
#include "prelude.h"
#include "mhl2ahead.h"
#include "pool.h"
#include "dbuf.h"
#include "xmlsplit.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads are this large, and start at its multiples. */
#define AHEAD_READ ((size_t)64 << 10)
#define PIECE_DEFAULT ((size_t)128 << 10)
#define PARSERS_MAX 8
/* A malformed element's report, in place of an entry. */
#define PACKED_MALFORMED 0xffu

/* What a piece is parsed inside; a reparse of a file that starts with
 * UTF-8's byte-order mark starts with it too (a reader's errors mention
 * the mark when the file has one). */
static const char wrap_bom[] = "\xef\xbb\xbf<hashlist version=\"2.0\"><hashes>";
static const char *const wrap_head = wrap_bom + 3;
static const char wrap_tail[] = "</hashes></hashlist>";

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
	char *buf;                /* cap bytes */
	size_t len;
	uint64_t offset;          /* of buf[0] in the file */
	bool piece;               /* parsed alone (else by the main reader) */
	bool last;                /* the file ends here, or the read failed */
	bool parsed;
	uint64_t lines;           /* line breaks in buf, CR LF as one */
	bool cr_last, lf_first;   /* buf ends with CR, starts with LF */
	struct dbuf entries;
	bool stopped, read_failed;
	int error;
	uintmax_t line;
	char why[256];
};

/* Where a reader packs its entries. */
struct packer {
	struct slot *slot;
	int error;                /* packing an entry ran out of memory */
};

struct mhl2ahead {
	struct hash_ctx *digest;  /* the reading thread's, or NULL */
	struct mhl2_reader *reader; /* the main reader */
	struct packer packer;     /* ...and where it packs */
	size_t piece, cap;        /* a piece's size; a slot's buffer */
	struct xmlsplit split;
	struct slot *slots;
	size_t nslots;
	pthread_t reading, parsing[PARSERS_MAX];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* The reading thread's: */
	uint64_t next_offset;     /* of the next chunk */
	size_t carry;             /* bytes past the last chunk's end, in its buffer */
	/* Under lock. Slots are filled in turn: these count those that have
	 * been read, claimed by a parser, parsed (all before too) and given
	 * back by the caller since the start. */
	uint64_t read, claimed, parsed, taken;
	/* The parse stopped in this slot, or the caller's callback failed
	 * there (UINT64_MAX: not yet): parse none after it, and without a
	 * digest read no more. */
	uint64_t stop_after;
	/* The caller's: */
	uint64_t lines;           /* line breaks before the next chunk taken */
	uint64_t piece_lines;     /* ...of them in pieces */
	uint64_t pieces;          /* pieces taken */
	uint64_t restart;         /* where a reparse would start: after the last piece */
	uint64_t restart_lines;   /* line breaks before it */
	uint64_t since_restart;   /* entries and reports passed on since */
	int fd;
	enum mhl2_doc doc;
	int digest_error;         /* errno of a failed update or read, for the digest */
	unsigned nparsing;        /* parsing threads started */
	bool splitting;           /* pieces are cut */
	bool carry_at_point;      /* the last chunk ended at a point (reading thread's) */
	bool reading_started;
	bool held;                /* the caller holds the slot after taken (under lock) */
	bool read_done;           /* the last slot has been read (under lock) */
	bool quit;                /* the caller has gone (under lock) */
	bool caller_stopped;      /* entries are no longer passed on (caller's) */
	bool prev_cr;             /* the last chunk taken ended with CR (caller's) */
	bool bom;                 /* the file starts with UTF-8's byte-order mark */
	char why[256];            /* a reparse's reason */
};

static int pack_string(struct dbuf *b, const char *s)
{
	return dbuf_append(b, s, strlen(s) + 1);
}

/* A reader's callback, on a parsing thread: the entry packed into the slot. */
static int pack_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct packer *pk = arg;
	struct dbuf *b = &pk->slot->entries;
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
	pk->error = errno ? errno : ENOMEM;
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

/* The caller stops the parse at the slot it holds. */
static void stop_here(struct mhl2ahead *a)
{
	pthread_mutex_lock(&a->lock);
	if (a->taken < a->stop_after)
		a->stop_after = a->taken;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->lock);
}

/* Read up to n bytes at the end of s, hashing them; returns read's result. */
static ssize_t read_more(struct mhl2ahead *a, struct slot *s, size_t n)
{
	ssize_t got;

	do
		got = read(a->fd, s->buf + s->len, n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		s->read_failed = s->last = true;
		s->error = a->digest_error = errno;
		return got;
	}
	if (got > 0 && a->digest && !a->digest_error &&
	    hash_ctx_update(a->digest, s->buf + s->len, (size_t)got) != 0)
		a->digest_error = errno ? errno : EIO;
	s->len += (size_t)got;
	if (got == 0)
		s->last = true;
	return got;
}

/*
 * Fill s with the file's next chunk (prev: the chunk before, whose buffer
 * holds the bytes past its end): up to a point past the piece size, where
 * the file ends, or where the next read would not fit.
 */
static void fill_slot(struct mhl2ahead *a, struct slot *s, const struct slot *prev)
{
	bool starts_at_point = a->carry_at_point, ends_at_point = false;
	size_t scanned = 0;

	dbuf_clear(&s->entries);
	s->len = 0;
	s->stopped = s->read_failed = s->last = s->parsed = false;
	s->cr_last = s->lf_first = false;
	s->lines = 0;
	s->error = 0;
	s->offset = a->next_offset;
	if (a->carry > 0 && prev) {
		memcpy(s->buf, prev->buf + prev->len, a->carry);
		s->len = a->carry;
		a->carry = 0;
	}
	for (;;) {
		size_t want = AHEAD_READ - (size_t)((s->offset + s->len) % AHEAD_READ);

		if (a->splitting && scanned < s->len) {
			size_t from = scanned < a->piece ? a->piece - scanned : 0;
			size_t at = xmlsplit_scan(&a->split, s->buf + scanned, s->len - scanned, from);

			scanned += at;
			if (scanned < s->len) {
				a->carry = s->len - scanned;
				s->len = scanned;
				ends_at_point = true;
				break;
			}
		}
		if (want > a->cap - s->len || read_more(a, s, want) <= 0)
			break;
	}
	if (s->offset == 0)
		a->bom = s->len >= 3 && memcmp(s->buf, wrap_bom, 3) == 0;
	s->piece = a->splitting && starts_at_point && ends_at_point;
	a->carry_at_point = ends_at_point;
	a->next_offset = s->offset + s->len;
}

/* How many bytes of the 8 in w are c (eight at a time: a chunk is all read). */
static unsigned count_byte(uint64_t w, unsigned char c)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
	uint64_t x = w ^ (0x0101010101010101u * c);

	/* A byte's top bit set where it was 0, and only there. */
	return (unsigned)__builtin_popcountll(~(((x & low7) + low7) | x | low7));
}

/* Count the line breaks in s as expat does: CR, LF and CR LF each one. */
static void count_lines(struct slot *s)
{
	const char *p = s->buf, *end = s->buf + s->len;
	uint64_t n = 0;
	size_t i = 0;

	for (; i + 8 <= s->len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		n += count_byte(w, '\n');
	}
	for (; i < s->len; i++)
		n += p[i] == '\n';
	for (const char *cr = memchr(p, '\r', s->len); cr;
	     cr = memchr(cr + 1, '\r', (size_t)(end - cr - 1)))
		if (cr + 1 == end || cr[1] != '\n')
			n++;
	s->lines = n;
	s->cr_last = s->len > 0 && end[-1] == '\r';
	s->lf_first = s->len > 0 && s->buf[0] == '\n';
}

/* Note where the parse of s stopped: the reader's reason, or errno. */
static void stopped_at(struct slot *s, int error, const char *why, uintmax_t line)
{
	s->stopped = true;
	s->error = error;
	if (!error) {
		s->line = line;
		snprintf(s->why, sizeof(s->why), "%s", why ? why : "malformed");
	}
}

/* s, a piece, on a reader of its own inside the made-up elements. */
static void parse_piece(struct mhl2ahead *a, struct slot *s)
{
	struct packer pk = {.slot = s};
	struct mhl2_reader *r = mhl2_reader_new(a->doc, pack_entry, &pk);
	const char *why = NULL;

	if (!r) {
		stopped_at(s, errno ? errno : ENOMEM, NULL, 0);
		return;
	}
	errno = 0;
	if (mhl2_feed(r, wrap_head, strlen(wrap_head), false, &why) != 0 ||
	    mhl2_feed(r, s->buf, s->len, false, &why) != 0 ||
	    mhl2_feed(r, wrap_tail, sizeof(wrap_tail) - 1, true, &why) != 0)
		stopped_at(s, pk.error ? pk.error : errno, why, mhl2_line(r));
	mhl2_reader_free(r);
}

/* s on the main reader, cut where reads end, the last chunk then an empty
 * final feed. Never after the main reader failed: s waited for every slot
 * before it, and a slot after a stop is not parsed (stop_after). */
static void parse_in_order(struct mhl2ahead *a, struct slot *s)
{
	const char *why = NULL;
	size_t at = 0;

	a->packer = (struct packer){.slot = s};
	errno = 0;
	while (at < s->len) {
		size_t n = AHEAD_READ - (size_t)((s->offset + at) % AHEAD_READ);

		if (n > s->len - at)
			n = s->len - at;
		if (mhl2_feed(a->reader, s->buf + at, n, false, &why) != 0)
			goto failed;
		at += n;
	}
	if (!s->last || mhl2_feed(a->reader, s->buf, 0, true, &why) == 0)
		return;
failed:
	stopped_at(s, a->packer.error ? a->packer.error : errno, why, mhl2_line(a->reader));
}

static void parse_slot(struct mhl2ahead *a, struct slot *s)
{
	if (a->splitting)
		count_lines(s); /* only pieces move lines */
	if (s->read_failed)
		return;
	if (s->piece)
		parse_piece(a, s);
	else
		parse_in_order(a, s);
}

/* The reading thread: each chunk into the next free slot, and the digest. */
static void *reading_main(void *arg)
{
	struct mhl2ahead *a = arg;
	const struct slot *prev = NULL;
	struct slot *s;
	bool stop;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		while (!a->quit && a->read - a->taken == a->nslots)
			pthread_cond_wait(&a->changed, &a->lock);
		stop = a->quit || (a->stop_after != UINT64_MAX && !a->digest);
		if (stop && !a->quit) {
			a->read_done = true;
			pthread_cond_broadcast(&a->changed);
		}
		pthread_mutex_unlock(&a->lock);
		if (stop)
			return NULL;
		s = &a->slots[a->read % a->nslots];
		fill_slot(a, s, prev);
		prev = s;
		step(a, &a->read, s->last ? &a->read_done : NULL);
		if (s->last)
			return NULL;
	}
}

/* A parsing thread: the next slot read, a piece alone, any other once
 * the slots before it are parsed (the main reader takes them in order). */
static void *parsing_main(void *arg)
{
	struct mhl2ahead *a = arg;
	struct slot *s;
	uint64_t i;
	bool skip;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		while (!a->quit && a->claimed == a->read && !a->read_done)
			pthread_cond_wait(&a->changed, &a->lock);
		if (a->quit || a->claimed == a->read) {
			pthread_mutex_unlock(&a->lock);
			return NULL;
		}
		i = a->claimed++;
		s = &a->slots[i % a->nslots];
		while (!s->piece && !a->quit && a->parsed < i)
			pthread_cond_wait(&a->changed, &a->lock);
		skip = a->quit || i > a->stop_after;
		pthread_mutex_unlock(&a->lock);
		if (!skip)
			parse_slot(a, s);
		pthread_mutex_lock(&a->lock);
		s->parsed = true;
		if (s->stopped && i < a->stop_after)
			a->stop_after = i;
		while (a->parsed < a->read && a->slots[a->parsed % a->nslots].parsed)
			a->parsed++;
		pthread_cond_broadcast(&a->changed);
		pthread_mutex_unlock(&a->lock);
	}
}

struct mhl2ahead *mhl2ahead_start(int fd, enum mhl2_doc doc, struct hash_ctx *digest,
				   unsigned parsers, size_t piece)
{
	struct mhl2ahead *a = calloc(1, sizeof(*a));
	struct stat st;
	int error;

	if (!a)
		return NULL;
	a->fd = fd;
	a->doc = doc;
	a->digest = digest;
	a->stop_after = UINT64_MAX;
	if (parsers > PARSERS_MAX)
		parsers = PARSERS_MAX;
	/* A piece that does not parse alone is reread: a regular file only. */
	a->splitting = parsers >= 2 && doc == MHL2_DOC_GENERATION && fstat(fd, &st) == 0 &&
		       S_ISREG(st.st_mode);
	a->piece = piece ? piece : PIECE_DEFAULT;
	a->cap = a->splitting ? a->piece + 2 * AHEAD_READ : AHEAD_READ;
	a->nslots = parsers > 1 ? 2 * (size_t)parsers + 2 : parsers == 1 ? 4 : 1;
	xmlsplit_init(&a->split, "hashlist", "hashes");
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->changed, NULL);
	a->slots = calloc(a->nslots, sizeof(*a->slots));
	if (!a->slots)
		goto fail;
	for (size_t i = 0; i < a->nslots; i++)
		dbuf_init(&a->slots[i].entries);
	a->reader = mhl2_reader_new(doc, pack_entry, &a->packer);
	if (!a->reader)
		goto fail;
	for (size_t i = 0; i < a->nslots; i++) {
		a->slots[i].buf = malloc(a->cap);
		if (!a->slots[i].buf)
			goto fail;
	}
	for (unsigned i = 0; i < parsers; i++) {
		if (pthread_create(&a->parsing[i], NULL, parsing_main, a) != 0)
			break;
		a->nparsing++;
	}
	if (a->nparsing < 2)
		a->splitting = false; /* nothing to parse pieces beside the main reader */
	if (!a->splitting)
		a->cap = AHEAD_READ;
	if (a->nparsing > 0 && pthread_create(&a->reading, NULL, reading_main, a) == 0) {
		a->reading_started = true;
	} else if (a->nparsing > 0) {
		/* Read nothing yet: the parsing threads end, and this runs inline. */
		step(a, NULL, &a->quit);
		for (unsigned i = 0; i < a->nparsing; i++)
			pthread_join(a->parsing[i], NULL);
		a->nparsing = 0;
		a->quit = false;
		a->splitting = false;
		a->cap = AHEAD_READ;
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

/* A report's line moved by the lines its reader did not see (0: no line). */
static uintmax_t moved(uintmax_t line, uint64_t by)
{
	return line ? line + by : 0;
}

/* Pass the slot's entries on to fn, their lines moved by lines, counting
 * them in *count; false when fn failed (errno set). */
static bool replay(const struct dbuf *b, mhl2_entry_fn *fn, void *arg, uint64_t lines,
		   uint64_t *count)
{
	struct packed p;
	size_t at = 0;

	while (unpack(b, &at, &p, sizeof(p))) {
		struct mhl2_entry e = {0};
		int rc;

		p.line = moved(p.line, lines);
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
		(*count)++;
	}
	return true;
}

/* Without threads: the next chunk read and parsed here, into the one slot; NULL at the end. */
static struct slot *next_inline(struct mhl2ahead *a)
{
	struct slot *s = &a->slots[0];

	if (a->read_done || (a->stop_after != UINT64_MAX && !a->digest))
		return NULL;
	fill_slot(a, s, NULL);
	a->read_done = s->last;
	if (a->stop_after == UINT64_MAX) {
		parse_slot(a, s);
		if (s->stopped)
			a->stop_after = 0;
	}
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
	while (a->taken == a->parsed && !(a->read_done && a->taken == a->read))
		pthread_cond_wait(&a->changed, &a->lock);
	if (a->taken < a->parsed) {
		a->held = true;
		s = &a->slots[a->taken % a->nslots];
	}
	pthread_mutex_unlock(&a->lock);
	return s;
}

/* What a reparse passes on: fn's, after the entries already given. */
struct reparse {
	mhl2_entry_fn *fn;
	void *arg;
	uint64_t skip;            /* entries and reports given already */
	uint64_t lines;           /* line breaks before where it started */
	int error;                /* fn's errno, when it failed */
};

static int reparse_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct reparse *rp = arg;
	struct mhl2_entry moved_entry;
	int rc;

	if (rp->skip > 0) {
		rp->skip--;
		return 0;
	}
	if (e) {
		moved_entry = *e;
		moved_entry.line = moved(e->line, rp->lines);
		e = &moved_entry;
	}
	rc = rp->fn(rp->arg, e, moved(line, rp->lines), why);
	if (rc != 0)
		rp->error = errno ? errno : EIO;
	return rc;
}

/*
 * The parse in place from offset (a point in the body, after lines line
 * breaks) to the end, the file reread there, its first skip entries and
 * reports passed over; where it stops goes into chunk.
 */
static void reparse(struct mhl2ahead *a, uint64_t offset, uint64_t lines, uint64_t skip,
		    mhl2_entry_fn *fn, void *arg, struct mhl2ahead_chunk *chunk)
{
	struct reparse rp = {.fn = fn, .arg = arg, .skip = skip, .lines = lines};
	struct mhl2_reader *r = mhl2_reader_new(a->doc, reparse_entry, &rp);
	char *buf = malloc(AHEAD_READ);
	const char *why = NULL;
	ssize_t n = -1;
	bool ok = false;

	errno = 0;
	if (!r || !buf)
		goto out;
	if ((a->bom ? mhl2_feed(r, wrap_bom, strlen(wrap_bom), false, &why)
		    : mhl2_feed(r, wrap_head, strlen(wrap_head), false, &why)) != 0)
		goto out;
	do {
		do
			n = pread(a->fd, buf, AHEAD_READ - (size_t)(offset % AHEAD_READ), (off_t)offset);
		while (n < 0 && errno == EINTR);
		if (n < 0 || mhl2_feed(r, buf, (size_t)n, n == 0, &why) != 0)
			goto out;
		offset += (uint64_t)n;
	} while (n > 0);
	ok = true;
out:
	if (!ok) {
		chunk->stopped = true;
		chunk->error = rp.error ? rp.error : !r || !buf ? ENOMEM : errno;
		if (!chunk->error) {
			snprintf(a->why, sizeof(a->why), "%s", why ? why : "malformed");
			chunk->why = a->why;
			chunk->line = moved(mhl2_line(r), lines);
		}
	}
	mhl2_reader_free(r);
	free(buf);
}

int mhl2ahead_next(struct mhl2ahead *a, mhl2_entry_fn *fn, void *arg,
		   struct mhl2ahead_chunk *chunk)
{
	struct slot *s = a->nparsing > 0 ? next_threaded(a) : next_inline(a);
	uint64_t lines, count = 0;

	if (!s)
		return 0;
	*chunk = (struct mhl2ahead_chunk){.bytes = s->buf, .len = s->len,
					  .read_failed = s->read_failed};
	if (s->read_failed)
		chunk->error = s->error;
	/* Lines, as expat counts them: a CR LF across two chunks is one. */
	lines = s->lines - (a->prev_cr && s->lf_first ? 1 : 0);
	a->prev_cr = s->cr_last;
	if (a->caller_stopped)
		goto out;
	if (s->stopped && !s->error && (s->piece || a->pieces)) {
		/* Not what one parse would say, or not where: parse in place. */
		if (s->piece)
			reparse(a, s->offset, a->lines, 0, fn, arg, chunk);
		else
			reparse(a, a->restart, a->restart_lines, a->since_restart, fn, arg, chunk);
		a->caller_stopped = true;
		stop_here(a);
		goto out;
	}
	if (!replay(&s->entries, fn, arg, s->piece ? a->lines : a->piece_lines, &count)) {
		chunk->stopped = true;
		chunk->error = errno ? errno : EIO;
		a->caller_stopped = true;
		stop_here(a);
		goto out;
	}
	if (s->stopped) {
		chunk->stopped = true;
		chunk->error = s->error;
		chunk->why = s->why;
		chunk->line = s->line;
		a->caller_stopped = true;
		stop_here(a);
	}
	if (s->piece) {
		a->pieces++;
		a->piece_lines += lines;
		a->restart = s->offset + s->len;
		a->restart_lines = a->lines + lines;
		a->since_restart = 0;
	} else {
		a->since_restart += count;
	}
out:
	a->lines += lines;
	return 1;
}

uint64_t mhl2ahead_pieces(const struct mhl2ahead *a)
{
	return a->pieces;
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
	for (unsigned i = 0; i < a->nparsing; i++)
		pthread_join(a->parsing[i], NULL);
	mhl2_reader_free(a->reader);
	for (size_t i = 0; a->slots && i < a->nslots; i++) {
		free(a->slots[i].buf);
		dbuf_free(&a->slots[i].entries);
	}
	free(a->slots);
	pthread_cond_destroy(&a->changed);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

unsigned mhl2ahead_parsers(bool alone)
{
	unsigned cpus = pool_cpus();

	/* Alone, pieces pay from two CPUs on and four parsers are the most
	 * that help (16 CPUs: 0.32x the inline parse with 4, 0.40x with 8);
	 * beside checks about one parser for five CPUs, from two to four (at
	 * 16 CPUs the thread taking the entries in order is what more would
	 * wait for). */
	if (alone)
		return cpus < 2 ? 0 : cpus < 8 ? 2 : 4;
	return cpus <= 2 ? 0 : cpus / 5 < 2 ? 2 : cpus / 5 > 4 ? 4 : cpus / 5;
}
