/* SPDX-License-Identifier: 0BSD */
/** Reading pcopy's journal: lines last first, and records parsed (journal_read.h). */
#include "prelude.h"
#include "journal_read.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* Prepend the previous chunk of the file to buf. Returns 0 or -1 (errno). */
static int reader_load(struct journal_reader *rev)
{
	size_t chunk = rev->lo < (off_t)JOURNAL_READ_CHUNK ? (size_t)rev->lo : JOURNAL_READ_CHUNK;
	ssize_t got;

	if (rev->n + chunk > JOURNAL_LINE_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (rev->n + chunk > rev->cap) {
		size_t cap = rev->cap ? rev->cap : JOURNAL_READ_CHUNK;
		char *grown;
		while (cap < rev->n + chunk)
			cap *= 2;
		grown = realloc(rev->buf, cap);
		if (!grown)
			return -1;
		rev->buf = grown;
		rev->cap = cap;
	}
	memmove(rev->buf + chunk, rev->buf, rev->n);
	got = xpread(rev->fd, rev->buf, chunk, rev->lo - (off_t)chunk);
	if (got < 0)
		return -1;
	if ((size_t)got != chunk) {
		errno = EIO; /* the journal shrank under us */
		return -1;
	}
	rev->lo -= (off_t)chunk;
	rev->n += chunk;
	return 0;
}

int journal_reader_open(struct journal_reader *rev, int fd)
{
	struct stat st;

	memset(rev, 0, sizeof(*rev));
	rev->fd = fd;
	if (fstat(fd, &st) != 0)
		return -1;
	rev->lo = st.st_size;
	for (;;) {
		char *lf = rev->n ? memrchr(rev->buf, '\n', rev->n) : NULL;
		if (lf) {
			rev->n = (size_t)(lf - rev->buf) + 1;
			return 0;
		}
		if (rev->lo == 0) {
			rev->n = 0;
			return 0;
		}
		if (reader_load(rev) != 0)
			return -1;
	}
}

int journal_reader_prev(struct journal_reader *rev, const char **line, size_t *len)
{
	for (;;) {
		char *lf;

		if (rev->n == 0) {
			if (rev->lo == 0)
				return 0;
			if (reader_load(rev) != 0)
				return -1;
			continue;
		}
		/* buf[n - 1] is the LF ending the line we want. */
		lf = rev->n > 1 ? memrchr(rev->buf, '\n', rev->n - 1) : NULL;
		if (lf || rev->lo == 0) {
			size_t start = lf ? (size_t)(lf - rev->buf) + 1 : 0;
			*line = rev->buf + start;
			*len = rev->n - 1 - start;
			rev->n = start;
			return 1;
		}
		if (reader_load(rev) != 0)
			return -1;
	}
}

/* Split off the next TAB-separated field of [*p, end). */
static bool next_field(const char **p, const char *end, const char **field, size_t *len)
{
	const char *tab;

	if (*p > end)
		return false;
	tab = memchr(*p, '\t', (size_t)(end - *p));
	*field = *p;
	*len = tab ? (size_t)(tab - *p) : (size_t)(end - *p);
	*p = tab ? tab + 1 : end + 1;
	return true;
}

static bool parse_time(const char *s, size_t len, struct timespec *ts)
{
	char text[48], *end;
	long long sec;
	long nsec = 0;

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	sec = strtoll(text, &end, 10);
	if (errno || end == text)
		return false;
	if (*end == '.') {
		char *frac = end + 1;
		nsec = strtol(frac, &end, 10);
		if (end - frac != 9 || nsec < 0)
			return false;
	}
	if (*end)
		return false;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = nsec;
	return true;
}

static bool parse_number(const char *s, size_t len, int base, uint64_t *value)
{
	char text[32], *end;

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	*value = strtoull(text, &end, base);
	return errno == 0 && *end == '\0';
}

/* A decimal number no larger than max. */
static bool parse_at_most(const char *s, size_t len, uint64_t max, uint64_t *value)
{
	return parse_number(s, len, 10, value) && *value <= max;
}

/* The fields of an I record after its path: inode, size, mode, uid, gid, mtime. */
static bool parse_inplace(struct journal_record *rec, const char *p, const char *end)
{
	const char *field;
	size_t flen;
	uint64_t uid, gid;

	if (!next_field(&p, end, &field, &flen) ||
	    !parse_at_most(field, flen, UINT64_MAX, &rec->ino) ||
	    !next_field(&p, end, &field, &flen) ||
	    !parse_at_most(field, flen, INT64_MAX, &rec->size) ||
	    !next_field(&p, end, &field, &flen) || !parse_number(field, flen, 8, &rec->number) ||
	    rec->number > 07777 ||
	    !next_field(&p, end, &field, &flen) || !parse_at_most(field, flen, UINT32_MAX, &uid) ||
	    !next_field(&p, end, &field, &flen) || !parse_at_most(field, flen, UINT32_MAX, &gid) ||
	    !next_field(&p, end, &field, &flen) || !parse_time(field, flen, &rec->old_mtime))
		return false;
	rec->uid = (uid_t)uid;
	rec->gid = (gid_t)gid;
	return p > end;
}

/* The fields of a U record after its path: inode, offset, length, data offset. */
static bool parse_old_bytes(struct journal_record *rec, const char *p, const char *end)
{
	const char *field;
	size_t flen;

	if (!next_field(&p, end, &field, &flen) ||
	    !parse_at_most(field, flen, UINT64_MAX, &rec->ino) ||
	    !next_field(&p, end, &field, &flen) ||
	    !parse_at_most(field, flen, INT64_MAX, &rec->offset) ||
	    !next_field(&p, end, &field, &flen) ||
	    !parse_at_most(field, flen, INT64_MAX - rec->offset, &rec->length) ||
	    !next_field(&p, end, &field, &flen) ||
	    !parse_at_most(field, flen, INT64_MAX - rec->length, &rec->data_offset))
		return false;
	return p > end;
}

bool journal_parse_record(struct journal_record *rec, const char *line, size_t len)
{
	const char *p, *end = line + len, *field, *why;
	size_t flen;

	dbuf_clear(&rec->path);
	dbuf_clear(&rec->other);
	if (len == 0 || line[0] == '#')
		return false;
	rec->kind = line[0];
	if (len == 1)
		return rec->kind == 'C';
	if (line[1] != '\t')
		return false;
	p = line + 2;
	if (!next_field(&p, end, &field, &flen))
		return false;
	if (rec->kind == 'H') {
		/* run id TAB created TAB mtime: path holds "created", mtime the time */
		if (!next_field(&p, end, &field, &flen) || flen != 1)
			return false;
		rec->number = field[0] == '1';
		if (!next_field(&p, end, &field, &flen))
			return false;
		rec->mtime.tv_sec = 0;
		rec->mtime.tv_nsec = UTIME_OMIT;
		if (!(flen == 1 && field[0] == '-') && !parse_time(field, flen, &rec->mtime))
			return false;
		return true;
	}
	if (rec_unescape(&rec->path, field, flen, &why) != 0)
		return false;
	switch (rec->kind) {
	case 'T':
		return p > end;
	case 'R':
		return next_field(&p, end, &field, &flen) &&
		       parse_number(field, flen, 10, &rec->number);
	case 'M':
		if (!next_field(&p, end, &field, &flen) ||
		    !parse_time(field, flen, &rec->old_mtime))
			return false;
		__attribute__((fallthrough)); /* mode and mtime as in D */
	case 'D':
		return next_field(&p, end, &field, &flen) &&
		       parse_number(field, flen, 8, &rec->number) &&
		       next_field(&p, end, &field, &flen) &&
		       parse_time(field, flen, &rec->mtime);
	case 'B':
	case 'X':
		return next_field(&p, end, &field, &flen) &&
		       rec_unescape(&rec->other, field, flen, &why) == 0;
	case 'I':
		return parse_inplace(rec, p, end);
	case 'U':
		return parse_old_bytes(rec, p, end);
	default:
		return false;
	}
}

void journal_reader_close(struct journal_reader *rev)
{
	free(rev->buf);
	rev->buf = NULL;
	rev->n = rev->cap = 0;
}

off_t journal_reader_whole(const struct journal_reader *rev)
{
	return rev->lo + (off_t)rev->n;
}

void journal_record_init(struct journal_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	dbuf_init(&rec->path);
	dbuf_init(&rec->other);
}

void journal_record_fini(struct journal_record *rec)
{
	dbuf_free(&rec->path);
	dbuf_free(&rec->other);
}

int journal_is_committed(int fd, bool *committed)
{
	struct journal_reader rev;
	const char *line;
	size_t len;
	int got;

	*committed = false;
	if (journal_reader_open(&rev, fd) != 0)
		goto fail;
	got = journal_reader_prev(&rev, &line, &len);
	if (got < 0)
		goto fail;
	*committed = got == 1 && len == 1 && line[0] == 'C';
	journal_reader_close(&rev);
	return 0;
fail:
	journal_reader_close(&rev);
	return -1;
}
