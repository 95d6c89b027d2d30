/* SPDX-License-Identifier: 0BSD */
/**
 * Path and value escaping of format v1 (declared in record.h): backslash,
 * TAB, LF and CR get two-character escapes, other control bytes and DEL get
 * \xHH, every other byte (invalid UTF-8 included) is written raw, so any
 * NUL-free byte string round-trips and ordinary names pass unchanged.
 */
#include "prelude.h"
#include "record.h"
#include <errno.h>
#include <string.h>

/* Whether byte c must be escaped. */
static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}

int rec_escape(struct dbuf *out, const char *bytes, size_t len)
{
	static const char hexdigits[] = "0123456789abcdef";
	size_t start = 0, i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];
		char esc[4];
		size_t esc_len = 2;

		if (!needs_escape(c))
			continue;
		if (dbuf_append(out, bytes + start, i - start) != 0)
			return -1;
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '\\': esc[1] = '\\'; break;
		case '\t': esc[1] = 't'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			esc[1] = 'x';
			esc[2] = hexdigits[c >> 4];
			esc[3] = hexdigits[c & 0xf];
			esc_len = 4;
			break;
		}
		if (dbuf_append(out, esc, esc_len) != 0)
			return -1;
	}
	return dbuf_append(out, bytes + start, len - start);
}

/* Value of a hex digit (either case), or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rec_unescape(struct dbuf *out, const char *text, size_t len, const char **why)
{
	size_t start = 0, i = 0;

	while (i < len) {
		const char *bs = memchr(text + i, '\\', len - i);
		char c;
		int hi, lo;

		if (!bs)
			break;
		i = (size_t)(bs - text);
		if (dbuf_append(out, text + start, i - start) != 0)
			goto nomem;
		if (i + 1 >= len)
			goto bad;
		switch (text[i + 1]) {
		case '\\': c = '\\'; i += 2; break;
		case 't': c = '\t'; i += 2; break;
		case 'n': c = '\n'; i += 2; break;
		case 'r': c = '\r'; i += 2; break;
		case 'x':
			if (i + 3 >= len)
				goto bad;
			hi = hex_value(text[i + 2]);
			lo = hex_value(text[i + 3]);
			/* \x00 would put a NUL into a path: never valid. */
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			i += 4;
			break;
		default:
			goto bad;
		}
		if (dbuf_putc(out, c) != 0)
			goto nomem;
		start = i;
	}
	if (dbuf_append(out, text + start, len - start) != 0)
		goto nomem;
	return 0;
bad:
	*why = "bad escape";
	errno = EINVAL;
	return -1;
nomem:
	*why = "out of memory";
	return -1;
}
