/* SPDX-License-Identifier: 0BSD */
/** coreutils-compatible checksum lines (see sumline.h). */
#include "prelude.h"
#include "sumline.h"
#include <string.h>

/* coreutils escapes a name only when it holds one of these bytes. */
static bool needs_escape(const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (path[i] == '\\' || path[i] == '\n' || path[i] == '\r')
			return true;
	}
	return false;
}

static int put_name(struct dbuf *out, const char *path, size_t len, bool escape)
{
	size_t i, start = 0;

	if (!escape)
		return dbuf_append(out, path, len);
	for (i = 0; i < len; i++) {
		const char *rep;

		switch (path[i]) {
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		default: continue;
		}
		if (dbuf_append(out, path + start, i - start) != 0 || dbuf_append(out, rep, 2) != 0)
			return -1;
		start = i + 1;
	}
	return dbuf_append(out, path + start, len - start);
}

int sumline_gnu(struct dbuf *out, const char *hex, const char *path, size_t len)
{
	bool escape = needs_escape(path, len);

	if ((escape && dbuf_putc(out, '\\') != 0) || dbuf_puts(out, hex) != 0 ||
	    dbuf_append(out, "  ", 2) != 0 || put_name(out, path, len, escape) != 0)
		return -1;
	return dbuf_putc(out, '\n');
}

int sumline_bsd(struct dbuf *out, const struct hash_algo *algo, const char *hex,
		const char *path, size_t len)
{
	bool escape = needs_escape(path, len);

	if ((escape && dbuf_putc(out, '\\') != 0) || dbuf_puts(out, algo->bsd_tag) != 0 ||
	    dbuf_append(out, " (", 2) != 0 || put_name(out, path, len, escape) != 0 ||
	    dbuf_append(out, ") = ", 4) != 0 || dbuf_puts(out, hex) != 0)
		return -1;
	return dbuf_putc(out, '\n');
}
