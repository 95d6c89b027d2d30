/* SPDX-License-Identifier: 0BSD */
/** The record codec: parsing, querying and emitting format v1 lines (docs/FORMAT.md). */
#include "prelude.h"
#include "record.h"
#include "grow.h"
#include "hashreg.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Storage. The decoded path lives in path_buf. Every attribute is stored in
 * attr_text as "key NUL value NUL", and attrs[] holds offsets into it in
 * record order. Replacing a value with a longer one appends the new value
 * and leaves the old bytes behind as garbage; removing an attribute leaves
 * its bytes behind too. Once the text passes 4 KiB and the garbage outweighs
 * the bytes still referenced, it is compacted, which bounds the storage of a
 * record that is edited over and over.
 */

void rec_init(struct rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	dbuf_init(&rec->path_buf);
	dbuf_init(&rec->attr_text);
}

void rec_free(struct rec *rec)
{
	if (!rec)
		return;
	dbuf_free(&rec->path_buf);
	dbuf_free(&rec->attr_text);
	free(rec->attrs);
	rec_init(rec);
}

void rec_reset(struct rec *rec)
{
	rec->ino = 0;
	rec->size = 0;
	rec->plain = false;
	dbuf_clear(&rec->path_buf);
	dbuf_clear(&rec->attr_text);
	rec->nattrs = 0;
}

const char *rec_path(const struct rec *rec)
{
	return rec->path_buf.data ? rec->path_buf.data : "";
}

size_t rec_path_len(const struct rec *rec)
{
	return rec->path_buf.len;
}

/* Whether p points into buf's storage (a caller may pass back our own bytes). */
static bool points_into(const struct dbuf *buf, const char *p)
{
	return buf->data && p >= buf->data && p < buf->data + buf->cap;
}

int rec_set_path(struct rec *rec, const char *path, size_t len)
{
	if (len == 0 || memchr(path, '\0', len)) {
		errno = EINVAL;
		return -1;
	}
	if (points_into(&rec->path_buf, path)) {
		/* A part of the current path: shift it down in place. */
		memmove(rec->path_buf.data, path, len);
		dbuf_truncate(&rec->path_buf, len);
		return 0;
	}
	dbuf_clear(&rec->path_buf);
	return dbuf_append(&rec->path_buf, path, len);
}

int rec_set_plain(struct rec *rec, const char *path, size_t len)
{
	/* Set the path before emptying the rest: path may point into this record. */
	if (rec_set_path(rec, path, len) != 0)
		return -1;
	rec->ino = 0;
	rec->size = 0;
	dbuf_clear(&rec->attr_text);
	rec->nattrs = 0;
	rec->plain = true;
	return 0;
}

size_t rec_attr_count(const struct rec *rec)
{
	return rec->nattrs;
}

void rec_attr_at(const struct rec *rec, size_t i, const char **key,
		 const char **value, size_t *value_len)
{
	const struct rec_attr *attr;

	PT_ASSERT(i < rec->nattrs);
	attr = &rec->attrs[i];
	*key = rec->attr_text.data + attr->key_off;
	*value = rec->attr_text.data + attr->value_off;
	if (value_len)
		*value_len = attr->value_len;
}

/* Index of the first attribute named key (len bytes), or nattrs. */
static size_t attr_find(const struct rec *rec, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < rec->nattrs; i++) {
		const struct rec_attr *attr = &rec->attrs[i];

		if (attr->key_len == len && memcmp(rec->attr_text.data + attr->key_off, key, len) == 0)
			return i;
	}
	return rec->nattrs;
}

const char *rec_attr_get(const struct rec *rec, const char *key, size_t *value_len)
{
	size_t i = attr_find(rec, key, strlen(key));

	if (i == rec->nattrs)
		return NULL;
	if (value_len)
		*value_len = rec->attrs[i].value_len;
	return rec->attr_text.data + rec->attrs[i].value_off;
}

bool rec_key_valid(const char *key, size_t len)
{
	size_t i;

	if (len == 0 || len > REC_KEY_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = key[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '_' || c == '.' || c == '-'))
			continue;
		return false;
	}
	return true;
}

/* Make room for one more entry in attrs[]. Returns 0 or -1 (ENOMEM). */
static int attrs_grow(struct rec *rec)
{
	return GROW(rec->attrs, &rec->attrs_cap, rec->nattrs + 1, 8);
}

/* Bytes of attr_text still referenced by attrs[]. */
static size_t attr_live_bytes(const struct rec *rec)
{
	size_t i, live = 0;

	for (i = 0; i < rec->nattrs; i++)
		live += rec->attrs[i].key_len + rec->attrs[i].value_len + 2;
	return live;
}

/*
 * Rewrite attr_text holding only live attributes, when garbage outweighs
 * them. Failure to allocate is harmless (the old text stays valid), so this
 * never fails.
 */
static void attr_compact(struct rec *rec)
{
	struct dbuf text;
	size_t i, live;

	if (rec->attr_text.len < 4096)
		return;
	live = attr_live_bytes(rec);
	if (rec->attr_text.len / 2 < live)
		return;
	dbuf_init(&text);
	if (dbuf_reserve(&text, live) != 0)
		return;
	for (i = 0; i < rec->nattrs; i++) {
		struct rec_attr *attr = &rec->attrs[i];
		size_t key_off = text.len;

		/* Cannot fail: the room was reserved above. */
		dbuf_append(&text, rec->attr_text.data + attr->key_off, attr->key_len + 1);
		attr->key_off = key_off;
		key_off = text.len;
		dbuf_append(&text, rec->attr_text.data + attr->value_off, attr->value_len + 1);
		attr->value_off = key_off;
	}
	dbuf_free(&rec->attr_text);
	rec->attr_text = text;
}

/* Append "bytes NUL" to attr_text; *off gets where bytes start. Returns 0 or -1. */
static int attr_text_add(struct rec *rec, const char *bytes, size_t len, size_t *off)
{
	size_t start = rec->attr_text.len;

	if (dbuf_reserve(&rec->attr_text, len + 1) != 0)
		return -1;
	dbuf_append(&rec->attr_text, bytes, len);
	dbuf_putc(&rec->attr_text, '\0');
	*off = start;
	return 0;
}

/* Add the attribute whose key and value are at those offsets of attr_text
 * (the array has room: the caller grew it). */
static void attr_push(struct rec *rec, size_t key_off, size_t key_len, size_t value_off,
		      size_t value_len)
{
	struct rec_attr *attr = &rec->attrs[rec->nattrs++];

	attr->key_off = key_off;
	attr->key_len = key_len;
	attr->value_off = value_off;
	attr->value_len = value_len;
}

/* rec_attr_set for a valid key and value that do not point into attr_text. */
static int attr_set(struct rec *rec, const char *key, size_t key_len,
		    const char *value, size_t value_len)
{
	size_t i, value_off, key_off;
	struct rec_attr *attr;

	i = attr_find(rec, key, key_len);
	if (i < rec->nattrs) {
		attr = &rec->attrs[i];
		if (value_len <= attr->value_len) {
			/* Fits where the old value was: overwrite in place. */
			char *dst = rec->attr_text.data + attr->value_off;

			if (value_len)
				memmove(dst, value, value_len);
			dst[value_len] = '\0';
			attr->value_len = value_len;
			return 0;
		}
		if (attr_text_add(rec, value, value_len, &value_off) != 0)
			return -1;
		attr = &rec->attrs[i];
		attr->value_off = value_off;
		attr->value_len = value_len;
		attr_compact(rec);
		return 0;
	}
	if (attrs_grow(rec) != 0)
		return -1;
	/* Key and value go in with one reservation so a failure leaves no half entry. */
	if (dbuf_reserve(&rec->attr_text, key_len + value_len + 2) != 0)
		return -1;
	key_off = rec->attr_text.len;
	value_off = key_off + key_len + 1;
	/* Cannot fail: the room was reserved above. */
	attr_text_add(rec, key, key_len, &key_off);
	attr_text_add(rec, value, value_len, &value_off);
	attr_push(rec, key_off, key_len, value_off, value_len);
	return 0;
}

int rec_attr_set(struct rec *rec, const char *key, const char *value, size_t value_len)
{
	size_t key_len = strlen(key);
	char *copy;
	int ret;

	if (!rec_key_valid(key, key_len) || (value_len && memchr(value, '\0', value_len))) {
		errno = EINVAL;
		return -1;
	}
	if (value_len > SIZE_MAX / 2) {
		errno = ENOMEM;
		return -1;
	}
	if (!points_into(&rec->attr_text, key) && !points_into(&rec->attr_text, value))
		return attr_set(rec, key, key_len, value, value_len);
	/* Bytes of this very record (from rec_attr_get): growing the text may move them. */
	copy = malloc(key_len + 1 + value_len);
	if (!copy)
		return -1;
	memcpy(copy, key, key_len);
	copy[key_len] = '\0';
	if (value_len)
		memcpy(copy + key_len + 1, value, value_len);
	ret = attr_set(rec, copy, key_len, copy + key_len + 1, value_len);
	free(copy);
	return ret;
}

size_t rec_attr_remove(struct rec *rec, const char *key)
{
	size_t key_len = strlen(key), i, kept = 0, removed;

	for (i = 0; i < rec->nattrs; i++) {
		const struct rec_attr *attr = &rec->attrs[i];

		if (attr->key_len == key_len &&
		    memcmp(rec->attr_text.data + attr->key_off, key, key_len) == 0)
			continue;
		rec->attrs[kept++] = *attr;
	}
	removed = rec->nattrs - kept;
	rec->nattrs = kept;
	if (removed)
		attr_compact(rec);
	return removed;
}

/*
 * Parsing.
 */

/* Parse a decimal u64: digits only, at least one, no overflow. Returns 0 or -1. */
static int parse_u64(const char *text, size_t len, uint64_t *value)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned digit = (unsigned char)text[i] - (unsigned)'0';

		if (digit > 9)
			return -1;
		/* 19 digits always fit; only longer numbers need the check. */
		if (i >= 19 && v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*value = v;
	return 0;
}

/*
 * Messages for a digest of the wrong form, one per algorithm, so that
 * rec_parse can hand back a static string naming it.
 */
static const struct {
	const char *algo;
	const char *message;
} bad_hex_messages[] = {
	{ "md5", "bad hex for md5" },
	{ "sha1", "bad hex for sha1" },
	{ "sha224", "bad hex for sha224" },
	{ "sha256", "bad hex for sha256" },
	{ "sha384", "bad hex for sha384" },
	{ "sha512", "bad hex for sha512" },
	{ "sha512-256", "bad hex for sha512-256" },
	{ "sha3-256", "bad hex for sha3-256" },
	{ "sha3-512", "bad hex for sha3-512" },
	{ "blake2b", "bad hex for blake2b" },
	{ "blake2s", "bad hex for blake2s" },
	{ "xxh32", "bad hex for xxh32" },
	{ "xxh64", "bad hex for xxh64" },
	{ "xxh3", "bad hex for xxh3" },
	{ "xxh128", "bad hex for xxh128" },
};

static const char *bad_hex_message(const char *algo)
{
	size_t i;

	for (i = 0; i < countof(bad_hex_messages); i++) {
		if (strcmp(bad_hex_messages[i].algo, algo) == 0)
			return bad_hex_messages[i].message;
	}
	return "bad hex in digest";
}

/* Whether value is exactly digits lowercase hex digits. */
static bool is_lower_hex(const char *value, size_t len, size_t digits)
{
	unsigned bad = 0;
	size_t i;

	if (len != digits)
		return false;
	/* No branch per digit: digits of a digest are random, so a test per
	 * digit (0-9 or a-f?) was mispredicted about half the time, and this
	 * check cost pverify's reading thread more than the rest of a line. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		bad |= (unsigned char)(c - '0') > 9 && (unsigned char)(c - 'a') > 5;
	}
	return bad == 0;
}

/* Parse one KEY:VALUE field and append it. Returns 0, or -1 with *why. */
static int parse_attr(struct rec *rec, const char *field, size_t len, const char **why)
{
	const char *colon;
	const struct hash_algo *algo;
	size_t key_len, key_off, value_off, value_len;

	if (len == 0) {
		*why = "empty attribute";
		return -1;
	}
	colon = memchr(field, ':', len);
	if (!colon) {
		*why = "bad attribute";
		return -1;
	}
	key_len = (size_t)(colon - field);
	if (!rec_key_valid(field, key_len)) {
		*why = "bad attribute key";
		return -1;
	}
	if (attrs_grow(rec) != 0)
		goto nomem;
	if (attr_text_add(rec, field, key_len, &key_off) != 0)
		goto nomem;
	value_off = rec->attr_text.len;
	if (rec_unescape(&rec->attr_text, colon + 1, len - key_len - 1, why) != 0) {
		if (errno == ENOMEM)
			goto nomem;
		*why = "bad escape in attribute";
		return -1;
	}
	value_len = rec->attr_text.len - value_off;
	if (dbuf_putc(&rec->attr_text, '\0') != 0)
		goto nomem;

	algo = hash_lookup_len(field, key_len);
	if (algo && !is_lower_hex(rec->attr_text.data + value_off, value_len, 2 * algo->digest_len)) {
		*why = bad_hex_message(algo->name);
		return -1;
	}
	attr_push(rec, key_off, key_len, value_off, value_len);
	return 0;
nomem:
	return -2;
}

/* rec_parse's work: returns a rec_kind, -1 for a malformed line, -2 for ENOMEM. */
static int parse_line(struct rec *rec, const char *line, size_t len, const char **why)
{
	const char *end = line + len, *tab1, *tab2, *field, *next;

	rec_reset(rec);
	if (len == 0)
		return REC_BLANK;
	if (line[0] == '#')
		return REC_COMMENT;
	if (memchr(line, '\0', len)) {
		*why = "NUL byte in line";
		return -1;
	}
	tab1 = memchr(line, '\t', len);
	if (!tab1) {
		/* A bare path, as find prints it: raw bytes, never unescaped. */
		if (rec_set_plain(rec, line, len) != 0)
			goto nomem;
		return REC_ENTRY;
	}
	tab2 = memchr(tab1 + 1, '\t', (size_t)(end - tab1 - 1));
	if (!tab2) {
		*why = "too few fields";
		return -1;
	}
	if (parse_u64(line, (size_t)(tab1 - line), &rec->ino) != 0) {
		*why = "bad inode number";
		return -1;
	}
	if (parse_u64(tab1 + 1, (size_t)(tab2 - tab1 - 1), &rec->size) != 0) {
		*why = "bad size";
		return -1;
	}

	field = tab2 + 1;
	next = memchr(field, '\t', (size_t)(end - field));
	if (!next)
		next = end;
	if (next == field) {
		*why = "empty path";
		return -1;
	}
	if (rec_unescape(&rec->path_buf, field, (size_t)(next - field), why) != 0) {
		if (errno == ENOMEM)
			goto nomem;
		*why = "bad escape in path";
		return -1;
	}

	while (next < end) {
		int ret;

		field = next + 1;
		next = memchr(field, '\t', (size_t)(end - field));
		if (!next)
			next = end;
		ret = parse_attr(rec, field, (size_t)(next - field), why);
		if (ret != 0)
			return ret;
	}
	return REC_ENTRY;
nomem:
	return -2;
}

int rec_parse(struct rec *rec, const char *line, size_t len, const char **why)
{
	int ret = parse_line(rec, line, len, why);

	if (ret == -1) {
		errno = EINVAL;
	} else if (ret == -2) {
		*why = "out of memory";
		errno = ENOMEM;
		ret = -1;
	}
	return ret;
}

/*
 * Emitting. The emitters write straight into the buffer, numbers and the
 * escaped text (rec_escape) alike: pfind calls them for every entry it
 * finds, so they avoid stdio and per-byte appends.
 */

/* Write value in decimal into dst (room for 20); returns the bytes written. */
static size_t u64_into(char *dst, uint64_t value)
{
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char digits[20];
	size_t n = sizeof(digits);

	/* Two digits per division: half the divisions of the digit-by-digit loop. */
	while (value >= 100) {
		unsigned pair = (unsigned)(value % 100);

		value /= 100;
		n -= 2;
		memcpy(digits + n, pairs + 2 * pair, 2);
	}
	if (value >= 10) {
		n -= 2;
		memcpy(digits + n, pairs + 2 * value, 2);
	} else {
		digits[--n] = (char)('0' + value);
	}
	memcpy(dst, digits + n, sizeof(digits) - n);
	return sizeof(digits) - n;
}

size_t rec_time_into(char *dst, const struct timespec *ts)
{
	uint64_t sec = (uint64_t)ts->tv_sec, nsec = (uint64_t)ts->tv_nsec;
	size_t n = 0;

	if (ts->tv_sec < 0) {
		dst[n++] = '-';
		sec = (uint64_t)0 - sec; /* INT64_MIN too: unsigned negation */
	}
	n += u64_into(dst + n, sec);
	dst[n++] = '.';
	for (size_t i = 9; i-- > 0; nsec /= 10)
		dst[n + i] = (char)('0' + nsec % 10);
	return n + 9;
}

int rec_emit_head(struct dbuf *out, uint64_t ino, uint64_t size, const char *path, size_t len)
{
	char *p;

	if (dbuf_reserve(out, 2 * 20 + 2) != 0)
		return -1;
	p = out->data + out->len;
	p += u64_into(p, ino);
	*p++ = '\t';
	p += u64_into(p, size);
	*p++ = '\t';
	out->len = (size_t)(p - out->data);
	return rec_escape(out, path, len);
}

int rec_emit_attr(struct dbuf *out, const char *key, const char *value, size_t len)
{
	size_t key_len = strlen(key);
	char *p;

	if (key_len > SIZE_MAX - 2 || dbuf_reserve(out, key_len + 2) != 0)
		return -1;
	p = out->data + out->len;
	*p++ = '\t';
	memcpy(p, key, key_len);
	p += key_len;
	*p++ = ':';
	out->len = (size_t)(p - out->data);
	return rec_escape(out, value, len);
}

int rec_emit_end(struct dbuf *out)
{
	return dbuf_putc(out, '\n');
}

int rec_format(const struct rec *rec, struct dbuf *out)
{
	size_t start = out->len, i;

	if (rec->path_buf.len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (rec_emit_head(out, rec->ino, rec->size, rec->path_buf.data, rec->path_buf.len) != 0)
		goto fail;
	for (i = 0; i < rec->nattrs; i++) {
		const struct rec_attr *attr = &rec->attrs[i];

		if (rec_emit_attr(out, rec->attr_text.data + attr->key_off,
				  rec->attr_text.data + attr->value_off, attr->value_len) != 0)
			goto fail;
	}
	if (rec_emit_end(out) != 0)
		goto fail;
	return 0;
fail:
	/* Never leave half a record behind for the caller to print. */
	dbuf_truncate(out, start);
	return -1;
}

char rec_type_letter(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return 'f';
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	case S_IFBLK: return 'b';
	case S_IFCHR: return 'c';
	default: return '?';
	}
}
