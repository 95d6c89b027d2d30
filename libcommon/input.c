/* SPDX-License-Identifier: 0BSD */
/** The line reader of the record stream: chunked read(2), line numbers, bounded memory. */
#include "prelude.h"
#include "input.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * One buffer holds the bytes read but not yet handed out: buf[start, end).
 * Lines are returned as pointers into it, so a line costs no copy. The
 * buffer starts at INPUT_CHUNK and doubles while a line does not fit, up to
 * INPUT_BUF_MAX: room for the longest legal line, its terminator, and a
 * chunk more to read into. Once the unterminated tail exceeds REC_LINE_MAX
 * the line is too long: its bytes are dropped as they arrive until the
 * terminator, so memory stays bounded whatever the input.
 *
 * read(2) is called directly rather than through xread: xread waits for a
 * full buffer, but a reader behind a pipe must hand out each line as soon as
 * it arrives (pfind | phash starts hashing at once).
 */

/* How much to read at a time, and the first size of the buffer. */
#define INPUT_CHUNK ((size_t)1 << 16)
/* The largest the buffer gets. */
#define INPUT_BUF_MAX (REC_LINE_MAX + 1 + INPUT_CHUNK)

/* Must say REC_LINE_MAX; the unit tests check that it does. */
static const char too_long_message[] = "line longer than 1048576 bytes";

struct input {
	int fd;
	bool own_fd;        /* close fd in input_close (not for standard input) */
	bool nul_separated;
	bool eof;           /* read(2) returned 0 */
	bool too_long;      /* dropping the rest of an over-long line */
	char terminator;    /* '\n', or '\0' with nul_separated */
	char *name;
	char *buf;
	size_t cap;
	size_t start;       /* first byte not handed out yet */
	size_t scanned;     /* buf[start, start + scanned) holds no terminator */
	size_t end;         /* end of the bytes read */
	uintmax_t line;
	const char *text;   /* the line last returned */
	size_t text_len;
	input_tap_fn *tap;  /* sees every byte read, or NULL */
	void *tap_arg;
};

struct input *input_open(const char *path, bool nul_separated)
{
	struct input *in = calloc(1, sizeof(*in));
	bool is_stdin = !path || strcmp(path, "-") == 0;

	if (!in)
		return NULL;
	in->nul_separated = nul_separated;
	in->terminator = nul_separated ? '\0' : '\n';
	in->text = "";
	in->name = strdup(is_stdin ? "<stdin>" : path);
	if (!in->name)
		goto fail;
	if (is_stdin) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (in->fd < 0)
			goto fail;
		in->own_fd = true;
	}
	return in;
fail:
	input_close(in);
	return NULL;
}

void input_close(struct input *in)
{
	int saved = errno;

	if (!in)
		return;
	if (in->own_fd)
		close(in->fd);
	free(in->name);
	free(in->buf);
	free(in);
	errno = saved;
}

const char *input_name(const struct input *in)
{
	return in->name;
}

uintmax_t input_line(const struct input *in)
{
	return in->line;
}

int input_fd(const struct input *in)
{
	return in->fd;
}

void input_set_tap(struct input *in, input_tap_fn *fn, void *arg)
{
	in->tap = fn;
	in->tap_arg = arg;
}

const char *input_text(const struct input *in, size_t *len)
{
	if (len)
		*len = in->text_len;
	return in->text;
}

/*
 * Make room and read once more. Returns 1 with bytes added, 0 at end of
 * file, -1 on error (errno set).
 */
static int fill(struct input *in)
{
	ssize_t n;

	if (in->start > 0) {
		/* Keep the unfinished line at the front. */
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->cap - in->end < INPUT_CHUNK / 4 && in->cap < INPUT_BUF_MAX) {
		size_t cap = in->cap ? in->cap * 2 : INPUT_CHUNK;
		char *buf;

		if (cap > INPUT_BUF_MAX)
			cap = INPUT_BUF_MAX;
		buf = realloc(in->buf, cap);
		if (!buf)
			return -1;
		in->buf = buf;
		in->cap = cap;
	}
	/* The pending tail never exceeds REC_LINE_MAX here, so there is room. */
	PT_ASSERT(in->end < in->cap);
	do
		n = read(in->fd, in->buf + in->end, in->cap - in->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0) {
		in->eof = true;
		return 0;
	}
	if (in->tap)
		in->tap(in->tap_arg, in->buf + in->end, (size_t)n);
	in->end += (size_t)n;
	return 1;
}

/* Hand out buf[start, start + len) as the next line and step past its terminator. */
static enum input_status take_line(struct input *in, size_t len, size_t skip,
				   const char **text, size_t *text_len)
{
	in->text = in->buf + in->start;
	in->text_len = len;
	in->start += len + skip;
	in->scanned = 0;
	in->line++;
	*text = in->text;
	*text_len = len;
	return INPUT_RECORD;
}

/* The over-long line ended: report it. */
static enum input_status end_too_long(struct input *in, const char **text, size_t *len,
				      const char **why)
{
	in->too_long = false;
	in->line++;
	in->text = "";
	in->text_len = 0;
	*text = in->text;
	*len = 0;
	*why = too_long_message;
	return INPUT_MALFORMED;
}

enum input_status input_read_line(struct input *in, const char **text, size_t *len,
				  const char **why)
{
	for (;;) {
		size_t pending = in->end - in->start;
		const char *hit = NULL;
		int got;

		if (pending > in->scanned)
			hit = memchr(in->buf + in->start + in->scanned, in->terminator,
				     pending - in->scanned);
		if (hit) {
			size_t line_len = (size_t)(hit - (in->buf + in->start));

			if (in->too_long || line_len > REC_LINE_MAX) {
				in->start += line_len + 1;
				in->scanned = 0;
				return end_too_long(in, text, len, why);
			}
			return take_line(in, line_len, 1, text, len);
		}
		in->scanned = pending;
		if (!in->too_long && pending > REC_LINE_MAX)
			in->too_long = true;
		if (in->too_long) {
			/* Drop what we have of it: only its end matters. */
			in->start = in->end = in->scanned = 0;
		}
		if (in->eof) {
			if (in->too_long)
				return end_too_long(in, text, len, why);
			if (pending == 0)
				return INPUT_EOF;
			/* A last line without its terminator still counts. */
			return take_line(in, pending, 0, text, len);
		}
		got = fill(in);
		if (got < 0)
			return INPUT_ERROR;
	}
}

int input_peek(struct input *in, const char **data, size_t *len)
{
	size_t pending = in->end - in->start;

	while (!in->eof && pending < INPUT_CHUNK &&
	       (pending == 0 || (!memchr(in->buf + in->start, '\n', pending) &&
				 !memchr(in->buf + in->start, '\0', pending)))) {
		if (fill(in) < 0)
			return -1;
		pending = in->end - in->start;
	}
	*data = pending ? in->buf + in->start : "";
	*len = pending;
	return 0;
}

void input_skip(struct input *in, size_t n)
{
	PT_ASSERT(n <= in->end - in->start);
	in->start += n;
	in->scanned = 0;
}

int input_read_chunk(struct input *in, const char **data, size_t *len)
{
	int got;

	while (in->end == in->start) {
		if (in->eof)
			return 0;
		in->start = in->end = in->scanned = 0;
		got = fill(in);
		if (got < 0)
			return -1;
	}
	*data = in->buf + in->start;
	*len = in->end - in->start;
	in->start = in->end;
	in->scanned = 0;
	return 1;
}

void input_set_terminator(struct input *in, char terminator)
{
	in->terminator = terminator;
	in->scanned = 0;
}

enum input_status input_next(struct input *in, struct rec *rec, const char **why)
{
	for (;;) {
		enum input_status status;
		const char *text;
		size_t len;
		int kind;

		status = input_read_line(in, &text, &len, why);
		if (status != INPUT_RECORD)
			return status;
		if (in->nul_separated) {
			/* Every item is a path, '#' or not; an empty item is skipped. */
			if (len == 0)
				continue;
			if (rec_set_plain(rec, text, len) != 0)
				return INPUT_ERROR;
			return INPUT_RECORD;
		}
		kind = rec_parse(rec, text, len, why);
		if (kind < 0)
			return errno == ENOMEM ? INPUT_ERROR : INPUT_MALFORMED;
		if (kind == REC_BLANK)
			continue;
		if (kind == REC_COMMENT)
			return INPUT_COMMENT;
		return INPUT_RECORD;
	}
}
