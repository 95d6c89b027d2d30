/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy's protocol messages: encoding, and decoding with every field a
 * peer sends checked before it is used.
 */
#include "prelude.h"
#include "proto.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/xattr.h>

#ifndef XATTR_NAME_MAX
#define XATTR_NAME_MAX 255
#endif

int proto_put_hello(struct dbuf *out)
{
	size_t start;

	if (frame_begin(out, PROTO_HELLO, &start) != 0 ||
	    dbuf_append(out, PROTO_MAGIC, sizeof(PROTO_MAGIC) - 1) != 0 ||
	    frame_put_u32(out, PROTO_VERSION) != 0)
		return -1;
	return frame_end(out, start);
}

const char *proto_setup_next_exclude(const char *pattern)
{
	return pattern + strlen(pattern) + 1;
}

/* SETUP's exclude set: u32 count, then each pattern as bytes. 0 or -1. */
static int put_excludes(struct dbuf *out, const struct proto_setup *setup)
{
	const char *pattern = setup->excludes;

	if (frame_put_u32(out, setup->nexcludes) != 0)
		return -1;
	for (uint32_t i = 0; i < setup->nexcludes; i++) {
		if (frame_put_str(out, pattern) != 0)
			return -1;
		pattern = proto_setup_next_exclude(pattern);
	}
	return 0;
}

int proto_put_setup(struct dbuf *out, const struct proto_setup *setup)
{
	size_t start;

	if (frame_begin(out, PROTO_SETUP, &start) != 0 || frame_put_u8(out, (uint8_t)setup->role) != 0 ||
	    frame_put_str(out, setup->path) != 0 || frame_put_str(out, setup->host) != 0 ||
	    frame_put_u32(out, setup->flags) != 0 || frame_put_str(out, setup->algos) != 0 ||
	    frame_put_str(out, setup->seal_name) != 0 || frame_put_u32(out, setup->readers) != 0 ||
	    frame_put_u32(out, setup->block_size) != 0 ||
	    frame_put_bytes(out, setup->key, sizeof(setup->key)) != 0)
		return -1;
	if ((setup->flags & PROTO_SINGLE) &&
	    frame_put_str(out, setup->single_name ? setup->single_name : "") != 0)
		return -1;
	if ((setup->flags & PROTO_EXCLUDE) && put_excludes(out, setup) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_entry(struct dbuf *out, unsigned type, const struct proto_entry *entry)
{
	const struct stat *st = &entry->st;
	size_t start;

	if (frame_begin(out, type, &start) != 0 || frame_put_bytes(out, entry->rel, entry->rel_len) != 0 ||
	    frame_put_u32(out, (uint32_t)st->st_mode) != 0 || frame_put_u32(out, (uint32_t)st->st_uid) != 0 ||
	    frame_put_u32(out, (uint32_t)st->st_gid) != 0 || frame_put_u64(out, (uint64_t)st->st_size) != 0 ||
	    frame_put_u64(out, (uint64_t)st->st_blocks) != 0 ||
	    frame_put_u64(out, (uint64_t)st->st_atim.tv_sec) != 0 ||
	    frame_put_u32(out, (uint32_t)st->st_atim.tv_nsec) != 0 ||
	    frame_put_u64(out, (uint64_t)st->st_mtim.tv_sec) != 0 ||
	    frame_put_u32(out, (uint32_t)st->st_mtim.tv_nsec) != 0 ||
	    frame_put_u64(out, (uint64_t)st->st_dev) != 0 || frame_put_u64(out, (uint64_t)st->st_ino) != 0 ||
	    frame_put_u32(out, (uint32_t)st->st_nlink) != 0 || frame_put_u64(out, (uint64_t)st->st_rdev) != 0 ||
	    frame_put_bytes(out, entry->target, entry->target ? entry->target_len : 0) != 0 ||
	    frame_put_bytes(out, entry->xattrs, entry->xattrs ? entry->xattrs_len : 0) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_data(struct dbuf *out, const void *data, size_t len)
{
	size_t start;

	if (frame_begin(out, PROTO_DATA, &start) != 0 || frame_put_bytes(out, data, len) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_end(struct dbuf *out, char hex[][HASH_HEX_MAX + 1], size_t count, const char *check)
{
	size_t start;

	if (frame_begin(out, PROTO_END, &start) != 0 || frame_put_u32(out, (uint32_t)count) != 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (frame_put_str(out, hex[i]) != 0)
			return -1;
	if (frame_put_str(out, check) != 0)
		return -1;
	return frame_end(out, start);
}

/* A digest field of len hex digits (digest_len bytes) into hex. 0 or -1. */
static int get_hex(struct frame_cursor *cur, size_t digest_len, char *hex)
{
	size_t len;
	const unsigned char *p = frame_get_bytes(cur, &len);

	if (!p || len != digest_len * 2)
		return -1;
	for (size_t j = 0; j < len; j++)
		if (!((p[j] >= '0' && p[j] <= '9') || (p[j] >= 'a' && p[j] <= 'f')))
			return -1;
	memcpy(hex, p, len);
	hex[len] = '\0';
	return 0;
}

int proto_put_text(struct dbuf *out, unsigned type, const char *text, size_t len)
{
	size_t start;

	if (frame_begin(out, type, &start) != 0 || (text && frame_put_bytes(out, text, len) != 0))
		return -1;
	return frame_end(out, start);
}

int proto_put_ready(struct dbuf *out, int single)
{
	size_t start;

	if (frame_begin(out, PROTO_READY, &start) != 0 ||
	    (single >= 0 && frame_put_u8(out, single ? 1 : 0) != 0))
		return -1;
	return frame_end(out, start);
}

int proto_put_history(struct dbuf *out, const char *name, size_t name_len, const void *data,
		      size_t len)
{
	size_t start;

	if (frame_begin(out, PROTO_HISTORY, &start) != 0 || frame_put_bytes(out, name, name_len) != 0 ||
	    frame_put_bytes(out, data, len) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_commit(struct dbuf *out, uint64_t left_out)
{
	size_t start;

	if (frame_begin(out, PROTO_COMMIT, &start) != 0 || frame_put_u64(out, left_out) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_done(struct dbuf *out, const struct proto_done *done)
{
	size_t start;

	if (frame_begin(out, PROTO_DONE, &start) != 0 || frame_put_u8(out, (uint8_t)done->status) != 0 ||
	    frame_put_u8(out, done->changed) != 0 || frame_put_u64(out, done->files) != 0 ||
	    frame_put_u64(out, done->bytes) != 0 ||
	    frame_put_bytes(out, done->why, done->why ? done->why_len : 0) != 0)
		return -1;
	return frame_end(out, start);
}

/* Fail a decode: the reason, and -1. */
static int bad(const char **why, const char *reason)
{
	*why = reason;
	errno = EPROTO;
	return -1;
}

/* The end of a decode: every field there, nothing left over. */
static int done(const struct frame_cursor *cur, const char **why)
{
	return frame_cursor_done(cur) ? 0 : bad(why, "malformed message");
}

int proto_get_hello(const struct frame *frame, unsigned *version, const char **why)
{
	const size_t magic_len = sizeof(PROTO_MAGIC) - 1;
	struct frame_cursor cur;

	if (frame->type != PROTO_HELLO || frame->len != magic_len + 4 ||
	    memcmp(frame->payload, PROTO_MAGIC, magic_len) != 0)
		return bad(why, "not a pcopy greeting");
	frame_cursor_init(&cur, frame);
	cur.p += magic_len;
	cur.left -= magic_len;
	*version = frame_get_u32(&cur);
	return done(&cur, why);
}

/* A string field copied into store, NUL-terminated; its offset in *off. */
static int get_string(struct frame_cursor *cur, struct dbuf *store, size_t *off)
{
	size_t len;
	const unsigned char *p = frame_get_bytes(cur, &len);

	if (!p || memchr(p, '\0', len))
		return -1;
	*off = store->len;
	if (dbuf_append(store, p, len) != 0 || dbuf_putc(store, '\0') != 0)
		return -1;
	return 0;
}

/* Whether block is a block size a delta may use. */
bool proto_block_ok(uint64_t block)
{
	return block >= PROTO_BLOCK_MIN && block <= PROTO_BLOCK_MAX && (block & (block - 1)) == 0;
}

/* SETUP's key: a bytes field of exactly PROTO_KEY_LEN bytes. 0 or -1. */
static int get_key(struct frame_cursor *cur, unsigned char *key)
{
	size_t len;
	const unsigned char *p = frame_get_bytes(cur, &len);

	if (!p || len != PROTO_KEY_LEN)
		return -1;
	memcpy(key, p, len);
	return 0;
}

/*
 * SETUP's exclude set into store, the patterns one after another from
 * *first; their count in *count. 0 or -1 (malformed: too many, an empty or
 * too long pattern, a NUL in one).
 */
static int get_excludes(struct frame_cursor *cur, struct dbuf *store, size_t *first,
			uint32_t *count)
{
	size_t len;

	*count = frame_get_u32(cur);
	*first = store->len;
	if (*count > PROTO_EXCLUDE_MAX)
		return -1;
	for (uint32_t i = 0; i < *count; i++) {
		const unsigned char *p = frame_get_bytes(cur, &len);
		if (!p || len == 0 || len > PROTO_EXCLUDE_LEN_MAX || memchr(p, '\0', len))
			return -1;
		if (dbuf_append(store, p, len) != 0 || dbuf_putc(store, '\0') != 0)
			return -1;
	}
	return 0;
}

int proto_get_setup(const struct frame *frame, struct proto_setup *setup, struct dbuf *store,
		    const char **why)
{
	struct frame_cursor cur;
	size_t path, host, algos, seal, single = 0, excludes = 0;

	frame_cursor_init(&cur, frame);
	dbuf_clear(store);
	memset(setup, 0, sizeof(*setup));
	setup->role = frame_get_u8(&cur);
	if (get_string(&cur, store, &path) != 0 || get_string(&cur, store, &host) != 0)
		return bad(why, "malformed setup");
	setup->flags = frame_get_u32(&cur);
	if (get_string(&cur, store, &algos) != 0 || get_string(&cur, store, &seal) != 0)
		return bad(why, "malformed setup");
	setup->readers = frame_get_u32(&cur);
	setup->block_size = frame_get_u32(&cur);
	if (get_key(&cur, setup->key) != 0)
		return bad(why, "malformed setup");
	if ((setup->flags & PROTO_SINGLE) && get_string(&cur, store, &single) != 0)
		return bad(why, "malformed setup");
	if ((setup->flags & PROTO_EXCLUDE) &&
	    get_excludes(&cur, store, &excludes, &setup->nexcludes) != 0)
		return bad(why, "malformed setup");
	if (done(&cur, why) != 0)
		return -1;
	if (setup->block_size != 0 && !proto_block_ok(setup->block_size))
		return bad(why, "a block size that is not a power of two from 4 KiB to 1 MiB");
	if (setup->role < ROLE_RECEIVE || setup->role > ROLE_ROLLBACK)
		return bad(why, "unknown role");
	if ((setup->flags & ~(uint32_t)PROTO_FLAGS_ALL) != 0)
		return bad(why, "unknown option flags");
	if ((setup->flags & PROTO_SIGN) && setup->role != ROLE_RECEIVE)
		return bad(why, "signing asked of a side that writes no seal");
	if ((setup->flags & PROTO_EXCLUDE) && setup->role != ROLE_SEND)
		return bad(why, "exclude patterns sent to a side that walks no tree");
	if (store->data[path] == '\0')
		return bad(why, "empty path");
	setup->path = store->data + path;
	setup->host = store->data + host;
	setup->algos = store->data + algos;
	setup->seal_name = store->data + seal;
	if (setup->flags & PROTO_EXCLUDE)
		setup->excludes = store->data + excludes;
	if (setup->flags & PROTO_SINGLE) {
		setup->single_name = store->data + single;
		/* Receiving, one name for the file; sending, none. */
		if (setup->role == ROLE_RECEIVE
			    ? strchr(setup->single_name, '/') ||
				      !proto_rel_ok(setup->single_name, strlen(setup->single_name))
			    : setup->single_name[0] != '\0')
			return bad(why, "malformed single file name");
	}
	return 0;
}

bool proto_generation_name_ok(const char *name, size_t len)
{
	size_t digits = 0;

	while (digits < len && name[digits] >= '0' && name[digits] <= '9')
		digits++;
	return digits > 0 && digits < len && (name[digits] == '_' || name[digits] == '.') &&
	       len > 4 && len <= NAME_MAX && memcmp(name + len - 4, ".mhl", 4) == 0 &&
	       !memchr(name, '/', len) && !memchr(name, '\0', len);
}

int proto_get_history(const struct frame *frame, const char **name, size_t *name_len,
		      const unsigned char **data, size_t *len, const char **why)
{
	static const char chain[] = PROTO_HISTORY_CHAIN;
	struct frame_cursor cur;

	if (frame->type != PROTO_HISTORY)
		return bad(why, "not a history");
	frame_cursor_init(&cur, frame);
	*name = (const char *)frame_get_bytes(&cur, name_len);
	*data = frame_get_bytes(&cur, len);
	if (!*name || !*data || done(&cur, why) != 0)
		return bad(why, "malformed history");
	if (*name_len == 0 ? *len != 0
			   : !(*name_len == sizeof(chain) - 1 && memcmp(*name, chain, *name_len) == 0) &&
				     !proto_generation_name_ok(*name, *name_len))
		return bad(why, "a history file that is neither the chain nor a generation");
	return 0;
}

bool proto_rel_ok(const char *rel, size_t len)
{
	size_t at = 0;

	if (len == 0 || len >= PROTO_REL_MAX || memchr(rel, '\0', len))
		return false;
	while (at <= len) {
		const char *slash = memchr(rel + at, '/', len - at);
		size_t end = slash ? (size_t)(slash - rel) : len, n = end - at;
		if (n == 0 || n > NAME_MAX || (n == 1 && rel[at] == '.') ||
		    (n == 2 && rel[at] == '.' && rel[at + 1] == '.'))
			return false;
		at = end + 1;
	}
	return true;
}

int proto_get_entry(const struct frame *frame, struct proto_entry *entry, const char **why)
{
	struct frame_cursor cur;
	const unsigned char *p;
	struct stat *st = &entry->st;
	uint64_t size, blocks;
	uint32_t atime_ns, mtime_ns;
	mode_t mode;

	memset(entry, 0, sizeof(*entry));
	frame_cursor_init(&cur, frame);
	p = frame_get_bytes(&cur, &entry->rel_len);
	entry->rel = (const char *)p;
	mode = (mode_t)frame_get_u32(&cur);
	st->st_mode = mode;
	st->st_uid = (uid_t)frame_get_u32(&cur);
	st->st_gid = (gid_t)frame_get_u32(&cur);
	size = frame_get_u64(&cur);
	blocks = frame_get_u64(&cur);
	st->st_atim.tv_sec = (time_t)frame_get_u64(&cur);
	atime_ns = frame_get_u32(&cur);
	st->st_mtim.tv_sec = (time_t)frame_get_u64(&cur);
	mtime_ns = frame_get_u32(&cur);
	st->st_dev = (dev_t)frame_get_u64(&cur);
	st->st_ino = (ino_t)frame_get_u64(&cur);
	st->st_nlink = (nlink_t)frame_get_u32(&cur);
	st->st_rdev = (dev_t)frame_get_u64(&cur);
	entry->target = (const char *)frame_get_bytes(&cur, &entry->target_len);
	entry->xattrs = frame_get_bytes(&cur, &entry->xattrs_len);
	if (done(&cur, why) != 0)
		return -1;
	if (size > INT64_MAX || blocks > INT64_MAX / 512 || atime_ns >= 1000000000 ||
	    mtime_ns >= 1000000000 || (mode & ~(mode_t)(S_IFMT | 07777)) != 0)
		return bad(why, "malformed metadata");
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)blocks;
	st->st_atim.tv_nsec = (long)atime_ns;
	st->st_mtim.tv_nsec = (long)mtime_ns;
	if (frame->type == PROTO_ROOT) {
		if (entry->rel_len != 0 || !S_ISDIR(mode))
			return bad(why, "malformed root");
	} else if (!proto_rel_ok(entry->rel, entry->rel_len)) {
		return bad(why, "a path that does not stay beneath the destination");
	}
	switch (frame->type) {
	case PROTO_ROOT:
	case PROTO_DIR:
		if (!S_ISDIR(mode))
			return bad(why, "a directory that is not one");
		break;
	case PROTO_FILE:
	case PROTO_LINK:
		if (!S_ISREG(mode))
			return bad(why, "a file that is not regular");
		break;
	case PROTO_NODE:
		if (!S_ISLNK(mode) && !S_ISCHR(mode) && !S_ISBLK(mode) && !S_ISFIFO(mode))
			return bad(why, "an unknown file type");
		break;
	default:
		return bad(why, "not an entry");
	}
	if (S_ISLNK(mode)) {
		if (entry->target_len == 0 || entry->target_len >= PATH_MAX ||
		    memchr(entry->target, '\0', entry->target_len))
			return bad(why, "a malformed symlink target");
	} else if (entry->target_len != 0) {
		return bad(why, "a target for what is not a symlink");
	} else {
		entry->target = NULL;
	}
	if (entry->xattrs_len == 0)
		entry->xattrs = NULL;
	return 0;
}

int proto_get_data(const struct frame *frame, const unsigned char **data, size_t *len,
		   const char **why)
{
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	*data = frame_get_bytes(&cur, len);
	return done(&cur, why);
}

int proto_get_end(const struct frame *frame, const struct hash_algo *const *algos, size_t count,
		  char hex[][HASH_HEX_MAX + 1], char *check, const char **why)
{
	const struct hash_algo *check_algo = hash_lookup(PROTO_CHECK_ALGO);
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	if (frame_get_u32(&cur) != count)
		return bad(why, "digests of other algorithms");
	for (size_t i = 0; i < count; i++)
		if (get_hex(&cur, algos[i]->digest_len, hex[i]) != 0)
			return bad(why, "a malformed digest");
	if (!check_algo || get_hex(&cur, check_algo->digest_len, check) != 0)
		return bad(why, "a malformed digest");
	return done(&cur, why);
}

int proto_get_text(const struct frame *frame, const char **text, size_t *len, const char **why)
{
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	*text = (const char *)frame_get_bytes(&cur, len);
	return done(&cur, why);
}

int proto_get_ready(const struct frame *frame, bool *single, const char **why)
{
	struct frame_cursor cur;
	unsigned kind;

	frame_cursor_init(&cur, frame);
	if (!single)
		return done(&cur, why);
	kind = frame_get_u8(&cur);
	if (done(&cur, why) != 0)
		return -1;
	if (kind > 1)
		return bad(why, "malformed ready");
	*single = kind == 1;
	return 0;
}

int proto_get_commit(const struct frame *frame, uint64_t *left_out, const char **why)
{
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	*left_out = frame_get_u64(&cur);
	return done(&cur, why);
}

int proto_get_done(const struct frame *frame, struct proto_done *result, const char **why)
{
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	memset(result, 0, sizeof(*result));
	result->status = frame_get_u8(&cur);
	result->changed = frame_get_u8(&cur) != 0;
	result->files = frame_get_u64(&cur);
	result->bytes = frame_get_u64(&cur);
	result->why = (const char *)frame_get_bytes(&cur, &result->why_len);
	return done(&cur, why);
}

int proto_xattr_next(const unsigned char *xattrs, size_t len, size_t *pos, char *namebuf,
		     const unsigned char **value, size_t *value_len)
{
	struct frame_cursor cur;
	const unsigned char *name;
	size_t name_len;

	if (*pos >= len)
		return 0;
	cur.p = xattrs + *pos;
	cur.left = len - *pos;
	cur.bad = false;
	name = frame_get_bytes(&cur, &name_len);
	*value = frame_get_bytes(&cur, value_len);
	if (cur.bad || name_len == 0 || name_len > XATTR_NAME_MAX || memchr(name, '\0', name_len))
		return -1;
	memcpy(namebuf, name, name_len);
	namebuf[name_len] = '\0';
	*pos = len - cur.left;
	return 1;
}

int proto_xattr_put(struct dbuf *blob, const char *name, const void *value, size_t len)
{
	if (frame_put_str(blob, name) != 0 || frame_put_bytes(blob, value, len) != 0)
		return -1;
	return 0;
}

int proto_put_base(struct dbuf *out, uint64_t base, uint32_t block)
{
	size_t start;

	if (frame_begin(out, PROTO_BASE, &start) != 0 || frame_put_u64(out, base) != 0 ||
	    frame_put_u32(out, block) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_hashes(struct dbuf *out, uint64_t first, const void *hashes, size_t count)
{
	size_t start;

	if (frame_begin(out, PROTO_HASHES, &start) != 0 || frame_put_u64(out, first) != 0 ||
	    frame_put_bytes(out, hashes, count * PROTO_HASH_LEN) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_same(struct dbuf *out, uint64_t offset, uint64_t length)
{
	size_t start;

	if (frame_begin(out, PROTO_SAME, &start) != 0 || frame_put_u64(out, offset) != 0 ||
	    frame_put_u64(out, length) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_get_base(const struct frame *frame, uint64_t *base, uint32_t *block, const char **why)
{
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	*base = frame_get_u64(&cur);
	*block = frame_get_u32(&cur);
	if (done(&cur, why) != 0)
		return -1;
	if (*base > INT64_MAX || !proto_block_ok(*block))
		return bad(why, "a malformed delta base");
	return 0;
}

int proto_get_hashes(const struct frame *frame, uint64_t *first, const unsigned char **hashes,
		     size_t *count, const char **why)
{
	struct frame_cursor cur;
	size_t len;

	frame_cursor_init(&cur, frame);
	*first = frame_get_u64(&cur);
	*hashes = frame_get_bytes(&cur, &len);
	*count = 0;
	if (done(&cur, why) != 0)
		return -1;
	if (len == 0 || len % PROTO_HASH_LEN != 0 || len / PROTO_HASH_LEN > PROTO_HASHES_MAX ||
	    *first > INT64_MAX)
		return bad(why, "malformed block hashes");
	*count = len / PROTO_HASH_LEN;
	return 0;
}

int proto_get_same(const struct frame *frame, uint64_t *offset, uint64_t *length, const char **why)
{
	struct frame_cursor cur;

	frame_cursor_init(&cur, frame);
	*offset = frame_get_u64(&cur);
	*length = frame_get_u64(&cur);
	if (done(&cur, why) != 0)
		return -1;
	if (*length == 0 || *offset > INT64_MAX || *length > INT64_MAX - *offset)
		return bad(why, "a malformed same range");
	return 0;
}

int proto_put_sign(struct dbuf *out, unsigned what, const unsigned char digest[SSHSIG_DIGEST_LEN])
{
	size_t start;

	if (frame_begin(out, PROTO_SIGN_ASK, &start) != 0 || frame_put_u8(out, (uint8_t)what) != 0 ||
	    frame_put_bytes(out, digest, SSHSIG_DIGEST_LEN) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_put_signature(struct dbuf *out, const char *armored, size_t len, const char *why,
			size_t why_len)
{
	size_t start;

	if (frame_begin(out, PROTO_SIGNATURE, &start) != 0 ||
	    frame_put_bytes(out, armored, armored ? len : 0) != 0 ||
	    frame_put_bytes(out, why, why ? why_len : 0) != 0)
		return -1;
	return frame_end(out, start);
}

int proto_get_sign(const struct frame *frame, unsigned *what, const unsigned char **digest,
		   const char **why)
{
	struct frame_cursor cur;
	size_t len;

	if (frame->type != PROTO_SIGN_ASK)
		return bad(why, "not a signing request");
	frame_cursor_init(&cur, frame);
	*what = frame_get_u8(&cur);
	*digest = frame_get_bytes(&cur, &len);
	if (done(&cur, why) != 0)
		return -1;
	if (*what > PROTO_SIGN_TAG_MANIFEST || len != SSHSIG_DIGEST_LEN)
		return bad(why, "a malformed signing request");
	return 0;
}

int proto_get_signature(const struct frame *frame, const char **armored, size_t *len,
			const char **reason, size_t *reason_len, const char **why)
{
	struct frame_cursor cur;

	if (frame->type != PROTO_SIGNATURE)
		return bad(why, "not a signature");
	frame_cursor_init(&cur, frame);
	*armored = (const char *)frame_get_bytes(&cur, len);
	*reason = (const char *)frame_get_bytes(&cur, reason_len);
	if (done(&cur, why) != 0)
		return -1;
	if ((*len == 0) == (*reason_len == 0) || *len > PROTO_SIGNATURE_MAX ||
	    *reason_len > PROTO_SIGN_WHY_MAX)
		return bad(why, "a malformed signature");
	return 0;
}
