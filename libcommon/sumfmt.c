/* SPDX-License-Identifier: 0BSD */
/** GNU and BSD checksum lines: the emitters phash writes and the parsers pverify reads. */
#include "prelude.h"
#include "sumfmt.h"
#include <errno.h>
#include <string.h>

/* coreutils 9.1 escapes exactly these three bytes, and only then puts the
 * leading backslash on the line; every other byte (TAB included) is raw. */
static bool needs_escape(const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (path[i] == '\\' || path[i] == '\n' || path[i] == '\r')
			return true;
	}
	return false;
}

static int append_name(struct dbuf *out, const char *path, size_t len, bool escape)
{
	size_t i, run = 0;
	const char *rep;

	if (!escape)
		return dbuf_append(out, path, len);
	for (i = 0; i < len; i++) {
		switch (path[i]) {
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		default: continue;
		}
		if (dbuf_append(out, path + run, i - run) != 0 || dbuf_append(out, rep, 2) != 0)
			return -1;
		run = i + 1;
	}
	return dbuf_append(out, path + run, len - run);
}

int sumfmt_gnu_format(struct dbuf *out, const char *hex, const char *path, size_t path_len)
{
	bool escape = needs_escape(path, path_len);
	size_t start = out->len;

	if ((escape && dbuf_putc(out, '\\') != 0) || dbuf_puts(out, hex) != 0 ||
	    dbuf_append(out, "  ", 2) != 0 || append_name(out, path, path_len, escape) != 0 ||
	    dbuf_putc(out, '\n') != 0) {
		dbuf_truncate(out, start);
		return -1;
	}
	return 0;
}

int sumfmt_bsd_format(struct dbuf *out, const struct hash_algo *algo, const char *hex,
		      const char *path, size_t path_len)
{
	bool escape = needs_escape(path, path_len);
	size_t start = out->len;

	if (!algo->bsd_tag) {
		errno = EINVAL;
		return -1;
	}
	if ((escape && dbuf_putc(out, '\\') != 0) || dbuf_puts(out, algo->bsd_tag) != 0 ||
	    dbuf_append(out, " (", 2) != 0 || append_name(out, path, path_len, escape) != 0 ||
	    dbuf_append(out, ") = ", 4) != 0 || dbuf_puts(out, hex) != 0 ||
	    dbuf_putc(out, '\n') != 0) {
		dbuf_truncate(out, start);
		return -1;
	}
	return 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_tag_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '_' || c == '/'; /* SHA512/256 */
}

/* The length of the run of hex digits at the start of s. */
static size_t hex_run(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && is_hex(s[i]))
		i++;
	return i;
}

/* The last occurrence of ") = " in s, or NULL. A name may hold ") = " itself,
 * but the digest after the last one cannot. */
static const char *last_close(const char *s, size_t len)
{
	size_t i;

	if (len < 4)
		return NULL;
	for (i = len - 4 + 1; i-- > 0;) {
		if (memcmp(s + i, ") = ", 4) == 0)
			return s + i;
	}
	return NULL;
}

enum sumfmt_kind sumfmt_detect(const char *line, size_t len)
{
	size_t i = 0, n;

	if (len > 0 && line[0] == '\\')
		i = 1;
	n = hex_run(line + i, len - i);
	if (n >= 8 && i + n + 2 <= len && line[i + n] == ' ' &&
	    (line[i + n + 1] == ' ' || line[i + n + 1] == '*'))
		return SUMFMT_GNU;
	n = 0;
	while (i + n < len && is_tag_char(line[i + n]))
		n++;
	if (n > 0 && i + n + 2 <= len && line[i + n] == ' ' && line[i + n + 1] == '(' &&
	    last_close(line + i + n + 2, len - i - n - 2))
		return SUMFMT_BSD;
	return SUMFMT_NONE;
}

void sumfmt_line_init(struct sumfmt_line *line)
{
	memset(line, 0, sizeof(*line));
	dbuf_init(&line->path);
}

void sumfmt_line_free(struct sumfmt_line *line)
{
	if (line)
		dbuf_free(&line->path);
}

/* Decode a name; escaped says whether the line began with a backslash. */
static int decode_name(struct dbuf *out, const char *s, size_t len, bool escaped,
		       const char **why)
{
	size_t i, run = 0;
	char c;

	dbuf_clear(out);
	if (len == 0) {
		*why = "missing file name";
		return -1;
	}
	if (memchr(s, '\0', len)) {
		*why = "NUL byte in file name";
		return -1;
	}
	if (!escaped)
		goto raw;
	for (i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 1 == len) {
			*why = "bad escape in file name";
			return -1;
		}
		switch (s[i + 1]) {
		case '\\': c = '\\'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		default:
			*why = "bad escape in file name";
			return -1;
		}
		if (dbuf_append(out, s + run, i - run) != 0 || dbuf_putc(out, c) != 0)
			goto nomem;
		i++;
		run = i + 1;
	}
	s += run;
	len -= run;
raw:
	if (dbuf_append(out, s, len) != 0)
		goto nomem;
	/* A zero-length dbuf_append may leave data NULL: callers want a string. */
	if (!out->data && dbuf_reserve(out, 1) != 0)
		goto nomem;
	return 0;
nomem:
	*why = "out of memory";
	errno = ENOMEM;
	return -1;
}

/* Copy n hex digits, lowercased, checking each one. */
static int copy_hex(char *dst, const char *src, size_t n, const char **why)
{
	size_t i;

	if (n == 0) {
		*why = "missing digest";
		return -1;
	}
	if (n % 2 != 0) {
		*why = "odd number of hex digits";
		return -1;
	}
	if (n > HASH_HEX_MAX) {
		*why = "digest too long for any algorithm";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!is_hex(src[i])) {
			*why = "bad hex digit in digest";
			return -1;
		}
		dst[i] = (src[i] >= 'A' && src[i] <= 'F') ? (char)(src[i] - 'A' + 'a') : src[i];
	}
	dst[n] = '\0';
	return 0;
}

/* The one algorithm among those with (gnu_tool) or without a GNU tool whose
 * digest has hexlen digits, or NULL with *why. */
static const struct hash_algo *unique_length(size_t hexlen, bool gnu_tool, bool *several)
{
	const struct hash_algo *found = NULL, *algo;
	size_t i;

	*several = false;
	for (i = 0; i < hash_count(); i++) {
		algo = hash_at(i);
		if ((algo->gnu_tool != NULL) != gnu_tool || algo->digest_len * 2 != hexlen)
			continue;
		if (found) {
			*several = true;
			return NULL;
		}
		found = algo;
	}
	return found;
}

/*
 * The algorithm a digest length names: first among the algorithms coreutils
 * has a tool for (32 digits is md5, not xxh128), then among the others (8
 * digits can only be xxh32). Two candidates at the same level are ambiguous.
 */
static const struct hash_algo *algo_by_length(size_t hexlen, const char **why)
{
	const struct hash_algo *found;
	bool several;

	found = unique_length(hexlen, true, &several);
	if (!found && !several)
		found = unique_length(hexlen, false, &several);
	if (several)
		*why = "digest length fits several algorithms: choose one with -a";
	else if (!found)
		*why = "no known algorithm has a digest of this length";
	return found;
}

static int parse_gnu(struct sumfmt_line *out, const char *line, size_t len,
		     const struct hash_algo *forced, const char **why)
{
	bool escaped = len > 0 && line[0] == '\\';
	size_t i = escaped, n;

	n = hex_run(line + i, len - i);
	if (i + n + 2 > len || line[i + n] != ' ' ||
	    (line[i + n + 1] != ' ' && line[i + n + 1] != '*')) {
		*why = i + n == len ? "missing file name" : "bad hex digit in digest";
		return -1;
	}
	if (copy_hex(out->hex, line + i, n, why) != 0)
		return -1;
	if (forced) {
		if (forced->digest_len * 2 != n) {
			*why = "digest length does not match the algorithm chosen with -a";
			return -1;
		}
		out->algo = forced;
	} else {
		out->algo = algo_by_length(n, why);
		if (!out->algo)
			return -1;
	}
	out->kind = SUMFMT_GNU;
	out->binary = line[i + n + 1] == '*';
	i += n + 2;
	return decode_name(&out->path, line + i, len - i, escaped, why);
}

static int parse_bsd(struct sumfmt_line *out, const char *line, size_t len, const char **why)
{
	bool escaped = len > 0 && line[0] == '\\';
	size_t i = escaped, n = 0, hexlen;
	const char *name, *close;

	while (i + n < len && is_tag_char(line[i + n]))
		n++;
	if (n == 0 || i + n + 2 > len || line[i + n] != ' ' || line[i + n + 1] != '(') {
		*why = "not a checksum line";
		return -1;
	}
	out->algo = hash_lookup_tag(line + i, n);
	if (!out->algo) {
		*why = "unknown algorithm";
		return -1;
	}
	name = line + i + n + 2;
	close = last_close(name, (size_t)(line + len - name));
	if (!close) {
		*why = "missing ') = ' before the digest";
		return -1;
	}
	hexlen = (size_t)(line + len - (close + 4));
	if (copy_hex(out->hex, close + 4, hexlen, why) != 0)
		return -1;
	if (hexlen != out->algo->digest_len * 2) {
		*why = "digest length does not match the algorithm";
		return -1;
	}
	out->kind = SUMFMT_BSD;
	out->binary = false;
	return decode_name(&out->path, name, (size_t)(close - name), escaped, why);
}

int sumfmt_parse(struct sumfmt_line *out, const char *line, size_t len,
		 const struct hash_algo *forced, const char **why)
{
	out->kind = SUMFMT_NONE;
	out->algo = NULL;
	out->hex[0] = '\0';
	out->binary = false;
	/* A file written on Windows ends its lines with CR LF: like coreutils'
	 * checkers, drop one CR before the LF. A CR inside a name is always
	 * written escaped ("\r"), by coreutils and by sumfmt_*_format. */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	switch (sumfmt_detect(line, len)) {
	case SUMFMT_GNU:
		return parse_gnu(out, line, len, forced, why);
	case SUMFMT_BSD:
		return parse_bsd(out, line, len, why);
	case SUMFMT_NONE:
		break;
	}
	*why = "not a checksum line";
	return -1;
}
