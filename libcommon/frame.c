/* SPDX-License-Identifier: 0BSD */
/**
 * Length-framed messages: building them in a dbuf, reading them from a
 * descriptor or memory with every length checked before use.
 */
#include "prelude.h"
#include "frame.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes asked of read(2) at once: many small frames per system call. */
#define FRAME_READ_CHUNK ((size_t)256 << 10)

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int frame_begin(struct dbuf *out, unsigned type, size_t *start)
{
	unsigned char header[FRAME_HEADER] = { 0, 0, 0, 0, (unsigned char)type };

	*start = out->len;
	return dbuf_append(out, header, sizeof(header));
}

int frame_put_u8(struct dbuf *out, uint8_t value)
{
	return dbuf_append(out, &value, 1);
}

int frame_put_u32(struct dbuf *out, uint32_t value)
{
	unsigned char p[4];

	put_be32(p, value);
	return dbuf_append(out, p, sizeof(p));
}

int frame_put_u64(struct dbuf *out, uint64_t value)
{
	unsigned char p[8];

	put_be32(p, (uint32_t)(value >> 32));
	put_be32(p + 4, (uint32_t)value);
	return dbuf_append(out, p, sizeof(p));
}

int frame_put_bytes(struct dbuf *out, const void *data, size_t len)
{
	if (len > FRAME_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (frame_put_u32(out, (uint32_t)len) != 0)
		return -1;
	return len == 0 ? 0 : dbuf_append(out, data, len);
}

int frame_put_str(struct dbuf *out, const char *s)
{
	return frame_put_bytes(out, s, strlen(s));
}

int frame_end(struct dbuf *out, size_t start)
{
	size_t len = out->len - start - FRAME_HEADER;

	if (len > FRAME_PAYLOAD_MAX) {
		dbuf_truncate(out, start);
		errno = EMSGSIZE;
		return -1;
	}
	put_be32((unsigned char *)out->data + start, (uint32_t)len);
	return 0;
}

void frame_reader_init(struct frame_reader *reader, int fd)
{
	memset(reader, 0, sizeof(*reader));
	reader->fd = fd;
}

void frame_reader_init_mem(struct frame_reader *reader, const void *data, size_t len)
{
	memset(reader, 0, sizeof(*reader));
	reader->fd = -1;
	reader->mem = data;
	reader->mem_len = len;
}

void frame_reader_fini(struct frame_reader *reader)
{
	free(reader->buf);
	reader->buf = NULL;
}

/* Make sure want bytes are buffered (fewer only at end of input). 0 or -1. */
static int fill(struct frame_reader *reader, size_t want)
{
	while (reader->end - reader->start < want && !reader->eof) {
		size_t need = want + FRAME_READ_CHUNK, room;
		ssize_t n;

		if (reader->start > 0 && reader->cap - reader->start < need) {
			memmove(reader->buf, reader->buf + reader->start, reader->end - reader->start);
			reader->end -= reader->start;
			reader->start = 0;
		}
		if (reader->cap - reader->start < need) {
			unsigned char *grown = realloc(reader->buf, reader->start + need);
			if (!grown)
				return -1;
			reader->buf = grown;
			reader->cap = reader->start + need;
		}
		room = reader->cap - reader->end;
		if (reader->fd < 0) {
			n = (ssize_t)(reader->mem_len - reader->mem_pos);
			if ((size_t)n > room)
				n = (ssize_t)room;
			memcpy(reader->buf + reader->end, reader->mem + reader->mem_pos, (size_t)n);
			reader->mem_pos += (size_t)n;
		} else if (reader->read_fn) {
			n = reader->read_fn(reader->read_arg, reader->buf + reader->end, room);
			if (n < 0)
				return -1;
		} else {
			n = read(reader->fd, reader->buf + reader->end, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
		}
		if (n == 0)
			reader->eof = true;
		reader->end += (size_t)n;
	}
	return 0;
}

int frame_read(struct frame_reader *reader, struct frame *frame)
{
	size_t have;
	uint32_t len;

	if (fill(reader, FRAME_HEADER) != 0)
		return -1;
	have = reader->end - reader->start;
	if (have == 0)
		return 0;
	if (have < FRAME_HEADER) {
		errno = EPROTO;
		return -1;
	}
	len = get_be32(reader->buf + reader->start);
	if (len > FRAME_PAYLOAD_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (fill(reader, FRAME_HEADER + (size_t)len) != 0)
		return -1;
	if (reader->end - reader->start < FRAME_HEADER + (size_t)len) {
		errno = EPROTO;
		return -1;
	}
	frame->type = reader->buf[reader->start + 4];
	frame->payload = reader->buf + reader->start + FRAME_HEADER;
	frame->len = len;
	reader->start += FRAME_HEADER + (size_t)len;
	return 1;
}

const unsigned char *frame_reader_pending(const struct frame_reader *reader, size_t *len)
{
	*len = reader->end - reader->start;
	return reader->buf ? reader->buf + reader->start : (const unsigned char *)"";
}

void frame_cursor_init(struct frame_cursor *cur, const struct frame *frame)
{
	cur->p = frame->payload;
	cur->left = frame->len;
	cur->bad = false;
}

/* The next n bytes of the payload, or NULL (and bad) when fewer are left. */
static const unsigned char *take(struct frame_cursor *cur, size_t n)
{
	const unsigned char *p;

	if (cur->bad || cur->left < n) {
		cur->bad = true;
		return NULL;
	}
	p = cur->p;
	cur->p += n;
	cur->left -= n;
	return p;
}

uint8_t frame_get_u8(struct frame_cursor *cur)
{
	const unsigned char *p = take(cur, 1);

	return p ? p[0] : 0;
}

uint32_t frame_get_u32(struct frame_cursor *cur)
{
	const unsigned char *p = take(cur, 4);

	return p ? get_be32(p) : 0;
}

uint64_t frame_get_u64(struct frame_cursor *cur)
{
	const unsigned char *p = take(cur, 8);

	return p ? (uint64_t)get_be32(p) << 32 | get_be32(p + 4) : 0;
}

const unsigned char *frame_get_bytes(struct frame_cursor *cur, size_t *len)
{
	uint32_t n = frame_get_u32(cur);
	const unsigned char *p;

	*len = 0;
	if (cur->bad)
		return NULL;
	p = take(cur, n);
	if (p)
		*len = n;
	return p;
}

bool frame_cursor_done(const struct frame_cursor *cur)
{
	return !cur->bad && cur->left == 0;
}
