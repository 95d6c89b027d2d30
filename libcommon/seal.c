/* SPDX-License-Identifier: 0BSD */
/** The sealed manifest: writing, checking and recognising one (seal.h). */
#include "prelude.h"
#include "seal.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int seal_writer_init(struct seal_writer *w)
{
	static const char header[] = SEAL_HEADER "\n";

	dbuf_init(&w->text);
	w->ctx = hash_ctx_new(hash_lookup("sha256"));
	if (!w->ctx)
		return -1;
	return seal_writer_add(w, header, sizeof(header) - 1);
}

int seal_format_record(struct dbuf *line, uint64_t ino, uint64_t size, const char *path,
		       size_t len, const struct timespec *mtime,
		       const struct hash_algo *const *algos, char hex[][HASH_HEX_MAX + 1],
		       size_t nalgos)
{
	char text[REC_TIME_MAX];
	int ok;

	dbuf_clear(line);
	ok = rec_emit_head(line, ino, size, path, len);
	if (ok == 0)
		ok = rec_emit_attr(line, "mtime", text, rec_time_into(text, mtime));
	for (size_t i = 0; ok == 0 && i < nalgos; i++)
		ok = rec_emit_attr(line, algos[i]->name, hex[i], 2 * algos[i]->digest_len);
	if (ok == 0)
		ok = rec_emit_end(line);
	return ok;
}

int seal_writer_add(struct seal_writer *w, const char *line, size_t len)
{
	if (hash_ctx_update(w->ctx, line, len) != 0)
		return -1;
	return dbuf_append(&w->text, line, len);
}

int seal_writer_end(struct seal_writer *w)
{
	const struct hash_algo *sha256 = hash_lookup("sha256");
	unsigned char digest[HASH_DIGEST_MAX];
	char hex[HASH_HEX_MAX + 1];

	if (hash_ctx_final(w->ctx, digest) != 0)
		return -1;
	hash_to_hex(digest, sha256->digest_len, hex);
	return dbuf_printf(&w->text, SEAL_LINE_PREFIX "%s\n", hex);
}

void seal_writer_fini(struct seal_writer *w)
{
	if (!w)
		return;
	hash_ctx_free(w->ctx);
	w->ctx = NULL;
	dbuf_free(&w->text);
}

void seal_check_init(struct seal_check *check)
{
	memset(check, 0, sizeof(*check));
	check->ctx = hash_ctx_new(hash_lookup("sha256"));
}

void seal_check_fini(struct seal_check *check)
{
	if (!check)
		return;
	hash_ctx_free(check->ctx);
	check->ctx = NULL;
}

void seal_check_lost(struct seal_check *check)
{
	hash_ctx_free(check->ctx);
	check->ctx = NULL;
}

/* Compare the seal line's digest with the bytes hashed so far. */
static enum seal_line judge(struct seal_check *check, const char *line, size_t len)
{
	const struct hash_algo *sha256 = hash_lookup("sha256");
	size_t prefix = strlen(SEAL_LINE_PREFIX);
	unsigned char digest[HASH_DIGEST_MAX];
	char hex[HASH_HEX_MAX + 1];

	if (!check->ctx || hash_ctx_final(check->ctx, digest) != 0)
		return SEAL_UNCHECKABLE;
	hash_to_hex(digest, sha256->digest_len, hex);
	/* Exactly 64 lowercase hex digits: anything else is an edit. */
	if (len - prefix != 2 * sha256->digest_len ||
	    memcmp(line + prefix, hex, 2 * sha256->digest_len) != 0)
		return SEAL_MISMATCH;
	return SEAL_MATCH;
}

enum seal_line seal_check_line(struct seal_check *check, uintmax_t lineno, const char *line,
			       size_t len)
{
	size_t prefix = strlen(SEAL_LINE_PREFIX);

	if (lineno == 1 && len == strlen(SEAL_HEADER) && memcmp(line, SEAL_HEADER, len) == 0)
		check->header = true;
	if (check->sealed)
		return len == 0 ? SEAL_IGNORED : SEAL_AFTER;
	if (len >= prefix && memcmp(line, SEAL_LINE_PREFIX, prefix) == 0) {
		check->sealed = true;
		return judge(check, line, len);
	}
	if (check->ctx) {
		hash_ctx_update(check->ctx, line, len);
		hash_ctx_update(check->ctx, "\n", 1);
	}
	return SEAL_CONTENT;
}

enum seal_end seal_check_end(const struct seal_check *check, bool required)
{
	if (required && !check->header)
		return SEAL_END_NO_HEADER;
	if (check->header && !check->sealed)
		return SEAL_END_CUT;
	return SEAL_END_OK;
}

bool seal_named(const char *path)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (!path || strcmp(path, "-") == 0) {
		/* "pverify -C DEST < DEST/.ptools-seal", pcopy's own advice. */
		n = readlink("/proc/self/fd/0", target, sizeof(target) - 1);
		if (n < 0)
			return false;
		target[n] = '\0';
		path = target;
	}
	base = strrchr(path, '/');
	return strcmp(base ? base + 1 : path, SEAL_DEFAULT_NAME) == 0;
}

int seal_file_is_seal(int dirfd, const char *name)
{
	static const char header[] = SEAL_HEADER "\n";
	char head[sizeof(header) - 1];
	struct stat st;
	ssize_t got;
	int fd, ret = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	got = xpread(fd, head, sizeof(head), 0);
	if (got < 0)
		ret = -1;
	else if ((size_t)got == sizeof(head) && memcmp(head, header, sizeof(head)) == 0)
		ret = 1;
	xclose(fd);
	return ret;
}
