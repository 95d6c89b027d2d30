/* SPDX-License-Identifier: 0BSD */
/** ASC MHL v2: formats, C4, directory hashes and the streaming writer (mhl2.h). */
#include "prelude.h"
#include "mhl2.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[MHL2_FORMATS] = {
	[MHL2_C4] = "c4", [MHL2_MD5] = "md5", [MHL2_SHA1] = "sha1", [MHL2_XXH128] = "xxh128",
	[MHL2_XXH3] = "xxh3", [MHL2_XXH64] = "xxh64", [MHL2_XXH32] = "xxh32",
};

/* Each format's digest in bytes (C4: its SHA-512's), as the registry's
 * algorithms give them; a table, as the digest lengths are asked for per
 * entry. */
static const unsigned char format_bytes[MHL2_FORMATS] = {
	[MHL2_C4] = 64, [MHL2_MD5] = 16, [MHL2_SHA1] = 20, [MHL2_XXH128] = 16,
	[MHL2_XXH3] = 8, [MHL2_XXH64] = 8, [MHL2_XXH32] = 4,
};

/* C4's base58 alphabet: no 0, O, I or l. */
static const char c4_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Flush the writer's buffer once it holds this much; an asynchronous
 * writer hands over larger chunks, so that the threads meet less often. */
#define WRITE_CHUNK ((size_t)64 << 10)
#define ASYNC_CHUNK ((size_t)1 << 20)

char *mhl2_algorithm_list(const char *list)
{
	size_t len = strlen(list);
	char *out = malloc(len * 3 + 1), *o = out;
	const char *p = list;

	if (!out)
		return NULL;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 2 && strncmp(p, "c4", 2) == 0)
			o += sprintf(o, "sha512");
		else
			o += sprintf(o, "%.*s", (int)n, p);
		p += n;
		if (*p == ',')
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

const char *mhl2_format_name(enum mhl2_format format)
{
	return format_names[format];
}

int mhl2_format_lookup(const char *name, size_t len)
{
	for (int i = 0; i < MHL2_FORMATS; i++)
		if (strlen(format_names[i]) == len && memcmp(format_names[i], name, len) == 0)
			return i;
	return -1;
}

const struct hash_algo *mhl2_format_algo(enum mhl2_format format)
{
	return hash_lookup(format == MHL2_C4 ? "sha512" : format_names[format]);
}

int mhl2_format_of_algo(const struct hash_algo *algo)
{
	for (int i = 0; i < MHL2_FORMATS; i++)
		if (mhl2_format_algo((enum mhl2_format)i) == algo)
			return i;
	return -1;
}

size_t mhl2_digest_len(enum mhl2_format format)
{
	if (format == MHL2_C4)
		return MHL2_C4_LEN;
	return 2 * (size_t)format_bytes[format];
}

void mhl2_c4_encode(const unsigned char digest[64], char *out)
{
	unsigned char n[64];
	size_t i, k;

	memcpy(n, digest, sizeof(n));
	/* 88 base58 digits, least significant last: divide the big-endian
	 * number by 58 once per digit. */
	for (k = MHL2_C4_LEN; k > 2; k--) {
		unsigned rem = 0;

		for (i = 0; i < sizeof(n); i++) {
			unsigned cur = rem << 8 | n[i];

			n[i] = (unsigned char)(cur / 58);
			rem = cur % 58;
		}
		out[k - 1] = c4_alphabet[rem];
	}
	out[0] = 'c';
	out[1] = '4';
	out[MHL2_C4_LEN] = '\0';
}

int mhl2_c4_decode(const char *text, size_t len, unsigned char digest[64])
{
	const char *at;
	size_t i, k;

	if (len != MHL2_C4_LEN || text[0] != 'c' || text[1] != '4')
		return -1;
	memset(digest, 0, 64);
	for (k = 2; k < len; k++) {
		unsigned carry;

		if (text[k] == '\0' || !(at = strchr(c4_alphabet, text[k])))
			return -1;
		carry = (unsigned)(at - c4_alphabet);
		for (i = 64; i-- > 0;) {
			unsigned cur = digest[i] * 58u + carry;

			digest[i] = (unsigned char)cur;
			carry = cur >> 8;
		}
		if (carry != 0) /* 88 base58 digits can exceed 512 bits */
			return -1;
	}
	return 0;
}

int mhl2_digest_from_hex(enum mhl2_format format, const char *hex, char *out)
{
	size_t len = strlen(hex), i;
	unsigned char digest[64];

	if (len != 2 * (size_t)format_bytes[format]) {
		errno = EINVAL;
		return -1;
	}
	if (format != MHL2_C4) {
		if (!mhl2_digest_valid(format, hex, len, out)) {
			errno = EINVAL;
			return -1;
		}
		return 0;
	}
	for (i = 0; i < 64; i++) {
		int hi = rec_hex_value(hex[2 * i]);
		int lo = rec_hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			errno = EINVAL;
			return -1;
		}
		digest[i] = (unsigned char)(hi << 4 | lo);
	}
	mhl2_c4_encode(digest, out);
	return 0;
}

bool mhl2_digest_valid(enum mhl2_format format, const char *text, size_t len, char *out)
{
	unsigned char digest[64];
	size_t i;

	if (len != mhl2_digest_len(format))
		return false;
	if (format == MHL2_C4) {
		if (mhl2_c4_decode(text, len, digest) != 0)
			return false;
		memcpy(out, text, len);
		out[len] = '\0';
		return true;
	}
	for (i = 0; i < len; i++) {
		if (rec_hex_value(text[i]) < 0)
			return false;
		out[i] = text[i] >= 'A' && text[i] <= 'F' ? (char)(text[i] - 'A' + 'a') : text[i];
	}
	out[len] = '\0';
	return true;
}

/* A digest string's bytes (format_bytes[format] of them): hex decoded, or
 * C4's 64. Returns 0, or -1 when it is not one. */
static int digest_bytes(enum mhl2_format format, const char *text, size_t len,
			unsigned char *out)
{
	if (len != mhl2_digest_len(format))
		return -1;
	if (format == MHL2_C4)
		return mhl2_c4_decode(text, len, out);
	for (size_t i = 0; i < len / 2; i++) {
		int hi = rec_hex_value(text[2 * i]);
		int lo = rec_hex_value(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* A digest's string: lower-case hex, or for C4 the id of the 64 bytes. */
static void digest_string(enum mhl2_format format, const unsigned char *digest, char *out)
{
	if (format == MHL2_C4)
		mhl2_c4_encode(digest, out);
	else
		hash_to_hex(digest, format_bytes[format], out);
}

int mhl2_dirhash_init(struct mhl2_dirhash *dh, enum mhl2_format format)
{
	memset(dh, 0, sizeof(*dh));
	dh->format = format;
	dh->width = format_bytes[format];
	dbuf_init(&dh->content);
	dbuf_init(&dh->structure);
	dbuf_init(&dh->scratch);
	dh->ctx = hash_ctx_new(mhl2_format_algo(format));
	return dh->ctx ? 0 : -1;
}

void mhl2_dirhash_fini(struct mhl2_dirhash *dh)
{
	if (!dh)
		return;
	hash_ctx_free(dh->ctx);
	dh->ctx = NULL;
	dbuf_free(&dh->content);
	dbuf_free(&dh->structure);
	dbuf_free(&dh->scratch);
	dh->count = 0;
}

void mhl2_dirhash_clear(struct mhl2_dirhash *dh)
{
	dbuf_clear(&dh->content);
	dbuf_clear(&dh->structure);
	dh->count = 0;
}

int mhl2_dirhash_add(struct mhl2_dirhash *dh, const char *name, size_t len, const char *content,
		     const char *structure)
{
	unsigned char bytes[64], inner[64], child[64];

	if (digest_bytes(dh->format, content, strlen(content), bytes) != 0 ||
	    (structure && digest_bytes(dh->format, structure, strlen(structure), inner) != 0)) {
		errno = EINVAL;
		return -1;
	}
	/* The child's structure digest: its name, then its content digest
	 * (a file) or its structure digest (a directory), as bytes. */
	if (hash_ctx_update(dh->ctx, name, len) != 0 ||
	    hash_ctx_update(dh->ctx, structure ? inner : bytes, dh->width) != 0 ||
	    hash_ctx_final(dh->ctx, child) != 0 || hash_ctx_reset(dh->ctx) != 0)
		return -1;
	if (dbuf_append(&dh->content, bytes, dh->width) != 0 ||
	    dbuf_append(&dh->structure, child, dh->width) != 0)
		return -1;
	dh->count++;
	return 0;
}

/* A digest in a list being sorted: its first 8 bytes as a big-endian
 * number, and where it is. */
struct sort_item {
	uint64_t key;
	size_t at;
};

static bool item_before(const struct sort_item *x, const struct sort_item *y,
			const unsigned char *list, size_t width)
{
	if (x->key != y->key)
		return x->key < y->key;
	return memcmp(list + x->at * width, list + y->at * width, width) < 0;
}

/* Runs this long are sorted by insertion before they are merged. */
#define SORT_RUN 16

/* Sort n items (a bottom-up merge sort, tmp as large as items); returns
 * where the sorted items are, items or tmp. */
static struct sort_item *sort_items(struct sort_item *items, struct sort_item *tmp, size_t n,
				    const unsigned char *list, size_t width)
{
	for (size_t lo = 0; lo < n; lo += SORT_RUN) {
		size_t hi = lo + SORT_RUN < n ? lo + SORT_RUN : n;

		for (size_t i = lo + 1; i < hi; i++) {
			struct sort_item one = items[i];
			size_t j = i;

			for (; j > lo && item_before(&one, &items[j - 1], list, width); j--)
				items[j] = items[j - 1];
			items[j] = one;
		}
	}
	for (size_t run = SORT_RUN; run < n; run *= 2) {
		struct sort_item *swap;

		for (size_t lo = 0; lo < n; lo += 2 * run) {
			size_t mid = lo + run < n ? lo + run : n;
			size_t hi = lo + 2 * run < n ? lo + 2 * run : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = item_before(&items[j], &items[i], list, width) ? items[j++]
											  : items[i++];
			while (i < mid)
				tmp[k++] = items[i++];
			while (j < hi)
				tmp[k++] = items[j++];
		}
		swap = items;
		items = tmp;
		tmp = swap;
	}
	return items;
}

/* Sort the count digests of list, then digest them, in that order, into out. */
static int hash_of_list(struct mhl2_dirhash *dh, struct dbuf *list, char *out)
{
	const unsigned char *bytes = (const unsigned char *)list->data;
	unsigned char digest[64];
	struct sort_item *items, *sorted;
	size_t n = dh->count, k;

	/* The reference implementation sorts the digest strings. Lower-case
	 * hex and C4 ids (fixed-length base58, its alphabet in ASCII order)
	 * sort as the big-endian bytes they spell do, so the bytes are sorted. */
	if (n > 1) {
		if (n > SIZE_MAX / (2 * sizeof(*items) + dh->width)) {
			errno = ENOMEM;
			return -1;
		}
		dbuf_clear(&dh->scratch);
		if (dbuf_reserve(&dh->scratch, n * (2 * sizeof(*items) + dh->width)) != 0)
			return -1;
		/* dbuf storage comes from malloc: aligned for the items. */
		items = (struct sort_item *)(void *)dh->scratch.data;
		for (k = 0; k < n; k++) {
			uint64_t key = 0;

			for (size_t i = 0; i < 8; i++)
				key = key << 8 | (i < dh->width ? bytes[k * dh->width + i] : 0);
			items[k] = (struct sort_item){.key = key, .at = k};
		}
		sorted = sort_items(items, items + n, n, bytes, dh->width);
		/* The digests in order, behind the items, for one update. */
		for (k = 0; k < n; k++)
			memcpy(dh->scratch.data + 2 * n * sizeof(*items) + k * dh->width,
			       bytes + sorted[k].at * dh->width, dh->width);
		bytes = (const unsigned char *)dh->scratch.data + 2 * n * sizeof(*items);
	}
	if ((n > 0 && hash_ctx_update(dh->ctx, bytes, n * dh->width) != 0) ||
	    hash_ctx_final(dh->ctx, digest) != 0)
		return -1;
	digest_string(dh->format, digest, out);
	return hash_ctx_reset(dh->ctx);
}

int mhl2_dirhash_final(struct mhl2_dirhash *dh, char *content, char *structure)
{
	if (hash_of_list(dh, &dh->content, content) != 0 ||
	    hash_of_list(dh, &dh->structure, structure) != 0)
		return -1;
	return 0;
}

bool mhl2_ignored(const char *path, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *c = path + i, *end = memchr(c, '/', len - i);
		size_t n = end ? (size_t)(end - c) : len - i;

		if ((n == 6 && memcmp(c, "ascmhl", 6) == 0) ||
		    (n == 9 && memcmp(c, ".DS_Store", 9) == 0) ||
		    (n == 12 && memcmp(c, ".ptools-seal", 12) == 0) ||
		    (n == 16 && memcmp(c, ".ptools-seal.sig", 16) == 0))
			return true;
		i += n + 1;
	}
	return false;
}

bool mhl2_text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t c = p[i];
		size_t n, k;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 2, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 3, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 4, c &= 0x07;
		else
			return false;
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
			return false;
		i += n;
	}
	return true;
}

/*
 * The writer.
 */

int mhl2_writer_init(struct mhl2_writer *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->chunk = WRITE_CHUNK;
	dbuf_init(&w->buf);
	w->sha512 = hash_ctx_new(hash_lookup("sha512"));
	return w->sha512 ? 0 : -1;
}

int mhl2_writer_init_plain(struct mhl2_writer *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->chunk = WRITE_CHUNK;
	dbuf_init(&w->buf);
	return 0;
}

/* Hash and write len bytes; 0, or an errno. */
static int write_out(int fd, struct hash_ctx *sha512, const char *data, size_t len)
{
	if (sha512 && hash_ctx_update(sha512, data, len) != 0)
		return EIO;
	if (xwrite(fd, data, len) != 0)
		return errno ? errno : EIO;
	return 0;
}

/*
 * The second thread of an asynchronous writer, which hashes what the writer
 * has written. One chunk is handed over at a time: the writer waits until
 * the thread has taken the last one (full false), then swaps its buffer
 * with the thread's empty one.
 */
struct mhl2_flusher {
	pthread_t thread;
	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t changed;
	struct dbuf buf;          /* the chunk being hashed */
	bool full;                /* buf holds a chunk not yet hashed */
	bool done;                /* no more chunks come: the thread ends */
	int error;                /* EIO when hashing failed */
	struct hash_ctx *sha512;
};

static void *flusher_main(void *arg)
{
	struct mhl2_flusher *f = arg;
	int error;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->full && !f->done)
			pthread_cond_wait(&f->changed, &f->lock);
		if (!f->full)
			break;
		pthread_mutex_unlock(&f->lock);
		/* Only this thread touches buf while full is set. */
		error = f->error || hash_ctx_update(f->sha512, f->buf.data, f->buf.len) == 0 ? 0 : EIO;
		pthread_mutex_lock(&f->lock);
		if (error && !f->error)
			f->error = error;
		dbuf_clear(&f->buf);
		f->full = false;
		pthread_cond_broadcast(&f->changed);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int mhl2_writer_init_async(struct mhl2_writer *w, int fd)
{
	struct mhl2_flusher *f;
	int error;

	if (mhl2_writer_init(w, fd) != 0)
		return -1;
	f = calloc(1, sizeof(*f));
	if (!f) {
		mhl2_writer_fini(w);
		return -1;
	}
	f->sha512 = w->sha512;
	dbuf_init(&f->buf);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->changed, NULL);
	error = pthread_create(&f->thread, NULL, flusher_main, f);
	if (error) {
		pthread_cond_destroy(&f->changed);
		pthread_mutex_destroy(&f->lock);
		free(f);
		mhl2_writer_fini(w);
		errno = error;
		return -1;
	}
	w->flusher = f;
	w->chunk = ASYNC_CHUNK;
	return 0;
}

/* Wait until the thread has written what it was handed; its error becomes w's. */
static void flusher_wait(struct mhl2_writer *w)
{
	struct mhl2_flusher *f = w->flusher;

	pthread_mutex_lock(&f->lock);
	while (f->full)
		pthread_cond_wait(&f->changed, &f->lock);
	if (f->error && !w->error)
		w->error = f->error;
	pthread_mutex_unlock(&f->lock);
}

/* End the thread, once it has written what it was handed. */
static void flusher_stop(struct mhl2_writer *w)
{
	struct mhl2_flusher *f = w->flusher;

	if (!f)
		return;
	flusher_wait(w);
	pthread_mutex_lock(&f->lock);
	f->done = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->lock);
	dbuf_free(&f->buf);
	free(f);
	w->flusher = NULL;
}

void mhl2_writer_fini(struct mhl2_writer *w)
{
	if (!w)
		return;
	flusher_stop(w);
	hash_ctx_free(w->sha512);
	w->sha512 = NULL;
	dbuf_free(&w->buf);
}

static void writer_flush(struct mhl2_writer *w)
{
	struct mhl2_flusher *f = w->flusher;
	struct dbuf swap;

	if (w->error || w->buf.len == 0)
		return;
	if (!f) {
		w->error = write_out(w->fd, w->sha512, w->buf.data, w->buf.len);
		dbuf_clear(&w->buf);
		return;
	}
	if (xwrite(w->fd, w->buf.data, w->buf.len) != 0) {
		w->error = errno ? errno : EIO;
		return;
	}
	flusher_wait(w);
	if (w->error)
		return;
	pthread_mutex_lock(&f->lock);
	swap = f->buf;
	f->buf = w->buf;
	w->buf = swap;
	f->full = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* Append len bytes. An entry is some twenty pieces: while the buffer has
 * room they are copied here, without a call per piece. */
static inline void put_n(struct mhl2_writer *w, const char *s, size_t len)
{
	struct dbuf *b = &w->buf;

	if (!w->error && b->data && b->cap - b->len > len) {
		memcpy(b->data + b->len, s, len);
		b->len += len;
		b->data[b->len] = '\0';
		return;
	}
	if (!w->error && dbuf_append(b, s, len) != 0)
		w->error = ENOMEM;
}

/* Inlined, the length of a literal is known when compiling. */
static inline void put(struct mhl2_writer *w, const char *s)
{
	put_n(w, s, strlen(s));
}

static void putf(struct mhl2_writer *w, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct mhl2_writer *w, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	if (!w->error && dbuf_vprintf(&w->buf, format, args) != 0)
		w->error = ENOMEM;
	va_end(args);
}

/* Text or an attribute value, escaped: line ends and tabs as character
 * references so that no parser's normalisation changes a path. */
static void put_escaped(struct mhl2_writer *w, const char *s, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		const char *ref;

		switch (s[i]) {
		case '&': ref = "&amp;"; break;
		case '<': ref = "&lt;"; break;
		case '>': ref = "&gt;"; break;
		case '"': ref = "&quot;"; break;
		case '\t': ref = "&#9;"; break;
		case '\n': ref = "&#10;"; break;
		case '\r': ref = "&#13;"; break;
		default: continue;
		}
		if (!w->error && (dbuf_append(&w->buf, s + start, i - start) != 0 ||
				  dbuf_puts(&w->buf, ref) != 0))
			w->error = ENOMEM;
		start = i + 1;
	}
	if (!w->error && dbuf_append(&w->buf, s + start, len - start) != 0)
		w->error = ENOMEM;
}

static void put_escaped_str(struct mhl2_writer *w, const char *s)
{
	put_escaped(w, s, strlen(s));
}

void mhl2_format_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/* Two digits of v (0..99) at out. */
static void two_digits(char *out, int v)
{
	out[0] = (char)('0' + v / 10);
	out[1] = (char)('0' + v % 10);
}

/*
 * mhl2_format_date's text for t, from w's cache of the last day met: every
 * file's <path> has a date, and a tree's mtimes mostly share a few days,
 * so gmtime_r and strftime run once per day, not per file. A UTC day is
 * 86400 seconds of POSIX time, so the time of day is plain arithmetic.
 */
static const char *entry_date(struct mhl2_writer *w, time_t t)
{
	int64_t sec = (int64_t)t, day = sec / 86400, rest = sec % 86400;
	struct tm tm;

	if (rest < 0) {
		rest += 86400;
		day--;
	}
	if (!w->date_valid || day != w->date_day) {
		mhl2_format_date(t, w->date, sizeof(w->date));
		w->date_day = day;
		/* A year of other than four digits changes where the time
		 * goes: those dates are made whole each time. */
		w->date_valid = gmtime_r(&t, &tm) && tm.tm_year + 1900 >= 1000 &&
				tm.tm_year + 1900 <= 9999;
		return w->date;
	}
	/* "yyyy-mm-ddTHH:MM:SS+00:00": the time at 11. */
	two_digits(w->date + 11, (int)(rest / 3600));
	two_digits(w->date + 14, (int)(rest / 60 % 60));
	two_digits(w->date + 17, (int)(rest % 60));
	return w->date;
}

int mhl2_generation_name(struct dbuf *out, uint64_t sequence, const char *folder, time_t t)
{
	char stamp[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H%M%SZ", &tm);
	dbuf_clear(out);
	return dbuf_printf(out, "%04ju_%s_%s.mhl", (uintmax_t)sequence, folder, stamp);
}

/* <format attrs>value</format> for each digest; structure: the structure digests. */
static void put_digests(struct mhl2_writer *w, const char *indent, const struct mhl2_digest *d,
			size_t n, const char *hashdate, bool structure)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = mhl2_format_name(d[i].format);
		size_t name_len = strlen(name);

		put(w, indent);
		put(w, "<");
		put_n(w, name, name_len);
		if (d[i].action && !structure) {
			put(w, " action=\"");
			put(w, d[i].action);
			put(w, "\"");
		}
		if (hashdate) {
			put(w, " hashdate=\"");
			put_escaped_str(w, hashdate);
			put(w, "\"");
		}
		put(w, ">");
		put(w, structure ? d[i].structure : d[i].value);
		put(w, "</");
		put_n(w, name, name_len);
		put(w, ">\n");
	}
}

static void put_dir_digests(struct mhl2_writer *w, const char *indent, const char *inner,
			    const struct mhl2_digest *d, size_t n, const char *hashdate)
{
	put(w, indent);
	put(w, "<content>\n");
	put_digests(w, inner, d, n, hashdate, false);
	put(w, indent);
	put(w, "</content>\n");
	put(w, indent);
	put(w, "<structure>\n");
	put_digests(w, inner, d, n, hashdate, true);
	put(w, indent);
	put(w, "</structure>\n");
}

void mhl2_write_head(struct mhl2_writer *w, const struct mhl2_head *h)
{
	size_t i;

	put(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n"
	       "  <creatorinfo>\n    <creationdate>");
	put_escaped_str(w, h->creationdate);
	put(w, "</creationdate>\n    <hostname>");
	put_escaped_str(w, h->hostname);
	put(w, "</hostname>\n    <tool version=\"");
	put_escaped_str(w, h->tool_version);
	put(w, "\">");
	put_escaped_str(w, h->tool);
	put(w, "</tool>\n  </creatorinfo>\n  <processinfo>\n    <process>");
	put_escaped_str(w, h->process);
	put(w, "</process>\n");
	if (h->nroot > 0) {
		put(w, "    <roothash>\n");
		put_dir_digests(w, "      ", "        ", h->root, h->nroot, h->hashdate);
		put(w, "    </roothash>\n");
	}
	put(w, "    <ignore>\n");
	for (i = 0; i < h->nignore; i++) {
		put(w, "      <pattern>");
		put_escaped_str(w, h->ignore[i]);
		put(w, "</pattern>\n");
	}
	put(w, "    </ignore>\n  </processinfo>\n  <hashes>\n");
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

static void put_path(struct mhl2_writer *w, const char *path, size_t len, bool has_size,
		     uint64_t size, const struct timespec *mtime)
{
	put(w, "      <path");
	if (has_size) {
		put(w, " size=\"");
		if (!w->error && dbuf_put_u64(&w->buf, size) != 0)
			w->error = ENOMEM;
		put(w, "\"");
	}
	if (mtime) {
		put(w, " lastmodificationdate=\"");
		put(w, entry_date(w, mtime->tv_sec));
		put(w, "\"");
	}
	put(w, ">");
	put_escaped(w, path, len);
	put(w, "</path>\n");
}

void mhl2_write_file(struct mhl2_writer *w, const char *path, size_t len, uint64_t size,
		     const struct timespec *mtime, const struct mhl2_digest *digests, size_t n,
		     const char *hashdate)
{
	put(w, "    <hash>\n");
	put_path(w, path, len, true, size, mtime);
	put_digests(w, "      ", digests, n, hashdate, false);
	put(w, "    </hash>\n");
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

void mhl2_write_dir(struct mhl2_writer *w, const char *path, size_t len,
		    const struct timespec *mtime, const struct mhl2_digest *digests, size_t n,
		    const char *hashdate)
{
	put(w, "    <directoryhash>\n");
	put_path(w, path, len, false, 0, mtime);
	put_dir_digests(w, "      ", "        ", digests, n, hashdate);
	put(w, "    </directoryhash>\n");
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

void mhl2_write_raw(struct mhl2_writer *w, const void *data, size_t len)
{
	if (!w->error && dbuf_append(&w->buf, data, len) != 0)
		w->error = ENOMEM;
	if (w->buf.len >= w->chunk)
		writer_flush(w);
}

void mhl2_write_tail(struct mhl2_writer *w)
{
	put(w, "  </hashes>\n</hashlist>\n");
}

int mhl2_writer_finish(struct mhl2_writer *w, char *c4)
{
	unsigned char digest[64];

	writer_flush(w);
	flusher_stop(w);
	if (!w->error && w->sha512 && hash_ctx_final(w->sha512, digest) != 0)
		w->error = EIO;
	if (w->error) {
		errno = w->error;
		return -1;
	}
	if (w->sha512 && c4)
		mhl2_c4_encode(digest, c4);
	return 0;
}

int mhl2_write_chain(int fd, const struct mhl2_chain_link *links, size_t n)
{
	struct mhl2_writer w;
	char c4[MHL2_C4_LEN + 1];
	int rc;

	if (mhl2_writer_init(&w, fd) != 0)
		return -1;
	put(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n");
	for (size_t i = 0; i < n; i++) {
		putf(&w, "  <hashlist sequencenr=\"%ju\">\n    <path>", (uintmax_t)links[i].sequence);
		put_escaped_str(&w, links[i].path);
		putf(&w, "</path>\n    <c4>%s</c4>\n  </hashlist>\n", links[i].c4);
	}
	put(&w, "</ascmhldirectory>\n");
	rc = mhl2_writer_finish(&w, c4);
	mhl2_writer_fini(&w);
	return rc;
}
