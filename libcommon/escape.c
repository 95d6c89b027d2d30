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

/* 0: written raw; 1: two-character escape; 2: \xHH. */
static const unsigned char escape_class[256] = {
	[0x00] = 2, [0x01] = 2, [0x02] = 2, [0x03] = 2, [0x04] = 2, [0x05] = 2,
	[0x06] = 2, [0x07] = 2, [0x08] = 2, ['\t'] = 1, ['\n'] = 1, [0x0b] = 2,
	[0x0c] = 2, ['\r'] = 1, [0x0e] = 2, [0x0f] = 2, [0x10] = 2, [0x11] = 2,
	[0x12] = 2, [0x13] = 2, [0x14] = 2, [0x15] = 2, [0x16] = 2, [0x17] = 2,
	[0x18] = 2, [0x19] = 2, [0x1a] = 2, [0x1b] = 2, [0x1c] = 2, [0x1d] = 2,
	[0x1e] = 2, [0x1f] = 2, ['\\'] = 1, [0x7f] = 2,
};

/* Bytes of a word, each set to b. */
#define WORD_BYTES(b) ((uint64_t)0x0101010101010101 * (uint8_t)(b))

/*
 * Whether any of the 8 bytes of w must be escaped: below 0x20, 0x5c or 0x7f.
 * These are the exact "has a byte less than n" and "has a zero byte" word
 * tests, so a clean word (the usual case) is copied without looking at its
 * bytes one by one.
 */
static bool word_needs_escape(uint64_t w)
{
	const uint64_t high = WORD_BYTES(0x80);
	uint64_t below = (w - WORD_BYTES(0x20)) & ~w & high;
	uint64_t bs = w ^ WORD_BYTES('\\'), del = w ^ WORD_BYTES(0x7f);

	below |= (bs - WORD_BYTES(1)) & ~bs & high;
	below |= (del - WORD_BYTES(1)) & ~del & high;
	return below != 0;
}

/* Escape len bytes into dst (room for 4 * len); returns the bytes written. */
static size_t escape_into(char *dst, const char *src, size_t len)
{
	static const char hexdigits[] = "0123456789abcdef";
	char *out = dst;
	size_t i = 0;

	while (i < len) {
		unsigned char c;
		uint64_t w;

		if (len - i >= 8) {
			memcpy(&w, src + i, 8);
			if (!word_needs_escape(w)) {
				memcpy(out, &w, 8);
				out += 8;
				i += 8;
				continue;
			}
		}
		c = (unsigned char)src[i++];
		switch (escape_class[c]) {
		case 0:
			*out++ = (char)c;
			break;
		case 1:
			*out++ = '\\';
			*out++ = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
			break;
		default:
			*out++ = '\\';
			*out++ = 'x';
			*out++ = hexdigits[c >> 4];
			*out++ = hexdigits[c & 0xf];
			break;
		}
	}
	return (size_t)(out - dst);
}

int rec_escape(struct dbuf *out, const char *bytes, size_t len)
{
	/* The worst case (every byte as \xHH) once, then straight into the buffer. */
	if (len > SIZE_MAX / 4) {
		errno = EOVERFLOW;
		return -1;
	}
	if (dbuf_reserve(out, 4 * len) != 0)
		return -1;
	out->len += escape_into(out->data + out->len, bytes, len);
	out->data[out->len] = '\0';
	return 0;
}

/* Each byte's value as a hex digit plus one, 0 for none (rec_hex_value). */
const unsigned char rec_hex_values[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

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
			hi = rec_hex_value(text[i + 2]);
			lo = rec_hex_value(text[i + 3]);
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
