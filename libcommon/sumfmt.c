/* SPDX-License-Identifier: 0BSD */
/** Checksum lines of the classic tools (GNU, BSD, SFV, hashdeep): emitters and parsers. */
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

/* The digits of an SFV line's CRC-32. */
#define SFV_DIGITS 8

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

/* The spaces between a BSD tag and its "(": one from coreutils and BSD,
 * more from rhash --bsd, which pads short tags ("MD5   (a) = ..."). */
static size_t tag_padding(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && s[n] == ' ')
		n++;
	return n;
}

/* "NAME SP 8HEX": an SFV line, not a ';' comment, no TAB (a record has one). */
static bool is_sfv(const char *line, size_t len)
{
	if (len < SFV_DIGITS + 2 || line[0] == ';' || line[len - SFV_DIGITS - 1] != ' ' ||
	    hex_run(line + len - SFV_DIGITS, SFV_DIGITS) != SFV_DIGITS)
		return false;
	return !memchr(line, '\t', len);
}

enum sumfmt_kind sumfmt_detect(const char *line, size_t len)
{
	size_t i = 0, n, pad;

	if (len > 0 && line[0] == '\\')
		i = 1;
	n = hex_run(line + i, len - i);
	if (n >= 8 && i + n + 2 <= len && line[i + n] == ' ' &&
	    (line[i + n + 1] == ' ' || line[i + n + 1] == '*'))
		return SUMFMT_GNU;
	n = 0;
	while (i + n < len && is_tag_char(line[i + n]))
		n++;
	pad = tag_padding(line + i + n, len - i - n);
	if (n > 0 && pad > 0 && i + n + pad + 1 <= len && line[i + n + pad] == '(' &&
	    last_close(line + i + n + pad + 1, len - i - n - pad - 1))
		return SUMFMT_BSD;
	if (is_sfv(line, len))
		return SUMFMT_SFV;
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
		if ((algo->gnu_tool != NULL) != gnu_tool || algo->digest_len * 2 != hexlen ||
		    algo->not_by_length)
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
	size_t i = escaped, n = 0, hexlen, pad;
	const char *name, *close;

	while (i + n < len && is_tag_char(line[i + n]))
		n++;
	pad = tag_padding(line + i + n, len - i - n);
	if (n == 0 || pad == 0 || i + n + pad + 1 > len || line[i + n + pad] != '(') {
		*why = "not a checksum line";
		return -1;
	}
	out->algo = hash_lookup_tag(line + i, n);
	if (!out->algo) {
		*why = "unknown algorithm";
		return -1;
	}
	name = line + i + n + pad + 1;
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

/* "NAME SP 8HEX", as sumfmt_detect found it: the name is raw, up to the last space. */
static int parse_sfv(struct sumfmt_line *out, const char *line, size_t len, const char **why)
{
	size_t name_len = len - SFV_DIGITS - 1;

	if (copy_hex(out->hex, line + name_len + 1, SFV_DIGITS, why) != 0)
		return -1;
	out->algo = hash_lookup("crc32");
	PT_ASSERT(out->algo != NULL);
	out->kind = SUMFMT_SFV;
	out->binary = false;
	return decode_name(&out->path, line, name_len, false, why);
}

int sumfmt_parse(struct sumfmt_line *out, const char *line, size_t len,
		 const struct hash_algo *forced, const char **why)
{
	/* A file written on Windows ends its lines with CR LF: like coreutils'
	 * checkers, drop one CR before the LF. A CR inside a name is always
	 * written escaped ("\r"), by coreutils and by sumfmt_*_format. */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return sumfmt_parse_item(out, line, len, forced, why);
}

int sumfmt_parse_item(struct sumfmt_line *out, const char *line, size_t len,
		      const struct hash_algo *forced, const char **why)
{
	out->kind = SUMFMT_NONE;
	out->algo = NULL;
	out->hex[0] = '\0';
	out->binary = false;
	switch (sumfmt_detect(line, len)) {
	case SUMFMT_GNU:
		return parse_gnu(out, line, len, forced, why);
	case SUMFMT_BSD:
		return parse_bsd(out, line, len, why);
	case SUMFMT_SFV:
		return parse_sfv(out, line, len, why);
	case SUMFMT_NONE:
		break;
	}
	*why = "not a checksum line";
	return -1;
}

int sumfmt_sfv_format(struct dbuf *out, const char *hex, const char *path, size_t path_len)
{
	size_t start = out->len, i;

	/* No escape exists: a name that would not read back is refused. */
	if (path_len == 0 || path[0] == ';' || memchr(path, '\n', path_len) ||
	    memchr(path, '\t', path_len) || memchr(path, '\0', path_len) ||
	    path[path_len - 1] == '\r' || strlen(hex) != SFV_DIGITS) {
		errno = EINVAL;
		return -1;
	}
	if (dbuf_append(out, path, path_len) != 0 || dbuf_putc(out, ' ') != 0)
		goto fail;
	for (i = 0; i < SFV_DIGITS; i++) {
		if (dbuf_putc(out, hex[i] >= 'a' && hex[i] <= 'f' ? (char)(hex[i] - 'a' + 'A')
								: hex[i]) != 0)
			goto fail;
	}
	if (dbuf_putc(out, '\n') != 0)
		goto fail;
	return 0;
fail:
	dbuf_truncate(out, start);
	return -1;
}

bool sumfmt_nul_terminated(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len && data[i] != '\0' && data[i] != '\n'; i++)
		;
	if (i == len || data[i] != '\0')
		return false;
	switch (sumfmt_detect(data, i)) {
	case SUMFMT_GNU:
	case SUMFMT_BSD:
		return true;
	default:
		return false;
	}
}

/* hashdeep: "%%%% HASHDEEP-1.0", "%%%% size,ALGO,...,filename", then CSV. */

#define HASHDEEP_PREFIX "%%%% "
#define HASHDEEP_VERSION "HASHDEEP-1.0"

int sumfmt_hashdeep_header(struct sumfmt_columns *columns, const char *line, size_t len,
			   const char **why)
{
	const size_t prefix = sizeof(HASHDEEP_PREFIX) - 1;
	const char *p, *end = line + len, *comma;
	struct sumfmt_columns found;
	size_t field, i, known = 0;

	if (len < prefix || memcmp(line, HASHDEEP_PREFIX, prefix) != 0) {
		*why = "not a hashdeep header line";
		return -1;
	}
	p = line + prefix;
	if ((size_t)(end - p) == sizeof(HASHDEEP_VERSION) - 1 &&
	    memcmp(p, HASHDEEP_VERSION, sizeof(HASHDEEP_VERSION) - 1) == 0)
		return 0;
	if (end - p < 5 || memcmp(p, "size,", 5) != 0) {
		*why = "hashdeep header is neither HASHDEEP-1.0 nor a column line starting with size";
		return -1;
	}
	memset(&found, 0, sizeof(found));
	for (p += 5;; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		field = comma ? (size_t)(comma - p) : (size_t)(end - p);
		if (!comma)
			break;
		if (found.count == SUMFMT_COLUMNS_MAX) {
			*why = "too many hashdeep columns";
			return -1;
		}
		if (field == 0) {
			*why = "empty hashdeep column name";
			return -1;
		}
		/* tiger and whirlpool are hashdeep's too: their digests are
		 * read and their syntax checked, but nothing compares them. */
		found.algos[found.count] = hash_lookup_len(p, field);
		if (found.algos[found.count]) {
			for (i = 0; i < found.count; i++) {
				if (found.algos[i] == found.algos[found.count]) {
					*why = "hashdeep column named twice";
					return -1;
				}
			}
			known++;
		}
		found.count++;
	}
	if (field != 8 || memcmp(p, "filename", 8) != 0) {
		*why = "hashdeep column line does not end with filename";
		return -1;
	}
	if (known == 0) {
		*why = "no hashdeep column of a known algorithm";
		return -1;
	}
	*columns = found;
	return 1;
}

void sumfmt_entry_init(struct sumfmt_entry *entry)
{
	memset(entry, 0, sizeof(*entry));
	dbuf_init(&entry->path);
}

void sumfmt_entry_free(struct sumfmt_entry *entry)
{
	if (entry)
		dbuf_free(&entry->path);
}

int sumfmt_hashdeep_parse(struct sumfmt_entry *out, const struct sumfmt_columns *columns,
			  const char *line, size_t len, const char **why)
{
	char hex[HASH_HEX_MAX + 1];
	size_t i = 0, c, n;
	uint64_t size = 0;

	out->count = 0;
	if (i == len || line[i] < '0' || line[i] > '9') {
		*why = "hashdeep line does not start with a size";
		return -1;
	}
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		if (size > (UINT64_MAX - 9) / 10) {
			*why = "hashdeep size too large";
			return -1;
		}
		size = size * 10 + (uint64_t)(line[i] - '0');
	}
	out->size = size;
	for (c = 0; c < columns->count; c++) {
		if (i == len || line[i] != ',') {
			*why = "hashdeep line has fewer fields than its column line";
			return -1;
		}
		i++;
		n = hex_run(line + i, len - i);
		if (i + n < len && line[i + n] != ',') {
			*why = "bad hex digit in digest";
			return -1;
		}
		if (copy_hex(hex, line + i, n, why) != 0)
			return -1;
		i += n;
		if (!columns->algos[c])
			continue;
		if (n != columns->algos[c]->digest_len * 2) {
			*why = "digest length does not match its hashdeep column";
			return -1;
		}
		out->algos[out->count] = columns->algos[c];
		memcpy(out->hex[out->count++], hex, n + 1);
	}
	if (i == len || line[i] != ',') {
		*why = "missing file name";
		return -1;
	}
	i++;
	/* The name is the rest of the line, commas and all: hashdeep writes
	 * it raw, so only the fields before it can be counted. */
	return decode_name(&out->path, line + i, len - i, false, why);
}

int sumfmt_hashdeep_format(struct dbuf *out, uint64_t size, size_t count,
			   const char *const *hex, const char *path, size_t path_len)
{
	size_t start = out->len, i;

	if (path_len == 0 || memchr(path, '\n', path_len) || memchr(path, '\0', path_len) ||
	    path[path_len - 1] == '\r') {
		errno = EINVAL;
		return -1;
	}
	if (dbuf_put_u64(out, size) != 0)
		goto fail;
	for (i = 0; i < count; i++) {
		if (dbuf_putc(out, ',') != 0 || dbuf_puts(out, hex[i]) != 0)
			goto fail;
	}
	if (dbuf_putc(out, ',') != 0 || dbuf_append(out, path, path_len) != 0 ||
	    dbuf_putc(out, '\n') != 0)
		goto fail;
	return 0;
fail:
	dbuf_truncate(out, start);
	return -1;
}
