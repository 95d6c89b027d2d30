/* SPDX-License-Identifier: 0BSD */
/** A growable byte buffer. */
#include "prelude.h"
#include "dbuf.h"
#include "grow.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dbuf_init(struct dbuf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void dbuf_free(struct dbuf *buf)
{
	if (!buf)
		return;
	free(buf->data);
	dbuf_init(buf);
}

void dbuf_clear(struct dbuf *buf)
{
	buf->len = 0;
	if (buf->data)
		buf->data[0] = '\0';
}

int dbuf_reserve(struct dbuf *buf, size_t extra)
{
	size_t need;

	/* One more byte than asked for keeps room for the terminating NUL. */
	if (extra > SIZE_MAX - buf->len - 1) {
		errno = EOVERFLOW;
		return -1;
	}
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return 0;
	return GROW(buf->data, &buf->cap, need, 64);
}

int dbuf_append(struct dbuf *buf, const void *data, size_t len)
{
	if (dbuf_reserve(buf, len) != 0)
		return -1;
	if (len)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int dbuf_putc(struct dbuf *buf, char c)
{
	return dbuf_append(buf, &c, 1);
}

int dbuf_puts(struct dbuf *buf, const char *s)
{
	return dbuf_append(buf, s, strlen(s));
}

int dbuf_put_u64(struct dbuf *buf, uint64_t value)
{
	char digits[20];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	return dbuf_append(buf, digits + n, sizeof(digits) - n);
}

int dbuf_vprintf(struct dbuf *buf, const char *format, va_list args)
{
	va_list copy;
	int n;

	va_copy(copy, args);
	n = vsnprintf(NULL, 0, format, copy);
	va_end(copy);
	if (n < 0)
		return -1;
	if (dbuf_reserve(buf, (size_t)n) != 0)
		return -1;
	vsnprintf(buf->data + buf->len, (size_t)n + 1, format, args);
	buf->len += (size_t)n;
	return 0;
}

int dbuf_printf(struct dbuf *buf, const char *format, ...)
{
	va_list args;
	int ret;

	va_start(args, format);
	ret = dbuf_vprintf(buf, format, args);
	va_end(args);
	return ret;
}

void dbuf_truncate(struct dbuf *buf, size_t len)
{
	PT_ASSERT(len <= buf->len);
	buf->len = len;
	if (buf->data)
		buf->data[len] = '\0';
}
