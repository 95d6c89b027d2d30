/* SPDX-License-Identifier: 0BSD */
/** A growable byte buffer (bfs's dstring, without the hidden header). */
#ifndef PTOOLS_DBUF_H
#define PTOOLS_DBUF_H

#include "prelude.h"
#include <stdarg.h>

/**
 * A byte buffer that owns its storage. data is NUL-terminated whenever it is
 * non-NULL (the NUL is not counted in len), so it can be used as a C string
 * when it holds no NUL byte of its own. A zeroed struct is a valid empty
 * buffer.
 */
struct dbuf {
	char *data;
	size_t len;
	size_t cap;
};

/** Make an empty buffer; allocates nothing. */
void dbuf_init(struct dbuf *buf);

/** Release the storage; the buffer is empty and reusable afterwards. NULL-safe. */
void dbuf_free(struct dbuf *buf);

/** Forget the contents but keep the storage. */
void dbuf_clear(struct dbuf *buf);

/** Ensure room for extra more bytes. Returns 0, or -1 with errno ENOMEM (or EOVERFLOW). */
int dbuf_reserve(struct dbuf *buf, size_t extra);

/** Append len bytes. Returns 0 or -1 (ENOMEM); on failure the buffer is unchanged. */
int dbuf_append(struct dbuf *buf, const void *data, size_t len);

/** Append one byte. Returns 0 or -1 (ENOMEM). */
int dbuf_putc(struct dbuf *buf, char c);

/** Append a C string. Returns 0 or -1 (ENOMEM). */
int dbuf_puts(struct dbuf *buf, const char *s);

/** Append a number in decimal, without stdio. Returns 0 or -1 (ENOMEM). */
int dbuf_put_u64(struct dbuf *buf, uint64_t value);

/** Append printf-formatted text. Returns 0 or -1 (ENOMEM). */
int dbuf_printf(struct dbuf *buf, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/** dbuf_printf with a va_list. */
int dbuf_vprintf(struct dbuf *buf, const char *format, va_list args)
	__attribute__((format(printf, 2, 0)));

/** Shorten to len bytes (len <= buf->len). */
void dbuf_truncate(struct dbuf *buf, size_t len);

#endif
