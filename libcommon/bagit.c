/* SPDX-License-Identifier: 0BSD */
/** BagIt's tag files, manifest lines and path encoding (bagit.h). */
#include "prelude.h"
#include "bagit.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The algorithms RFC 8493 and the registry of bag tools name, by our names. */
static const char *const bag_algos[] = { "md5", "sha1", "sha224", "sha256", "sha384", "sha512" };

const struct hash_algo *bagit_algo(const char *name, size_t len)
{
	for (size_t i = 0; i < countof(bag_algos); i++)
		if (strlen(bag_algos[i]) == len && memcmp(bag_algos[i], name, len) == 0)
			return hash_lookup(bag_algos[i]);
	return NULL;
}

const char *bagit_algo_name(const struct hash_algo *algo)
{
	for (size_t i = 0; i < countof(bag_algos); i++)
		if (strcmp(bag_algos[i], algo->name) == 0)
			return bag_algos[i];
	return NULL;
}

int bagit_encode_path(struct dbuf *out, const char *path, size_t len)
{
	size_t i, from = 0;

	for (i = 0; i < len; i++) {
		const char *code = path[i] == '%' ? "%25" : path[i] == '\n' ? "%0A"
				 : path[i] == '\r' ? "%0D" : NULL;
		if (!code)
			continue;
		if (dbuf_append(out, path + from, i - from) != 0 || dbuf_append(out, code, 3) != 0)
			return -1;
		from = i + 1;
	}
	return dbuf_append(out, path + from, len - from);
}

const char *bagit_path_refusal(const char *path, size_t len)
{
	size_t i, start;

	if (len == 0)
		return "empty path";
	if (memchr(path, '\0', len))
		return "NUL in the path";
	if (path[0] == '/')
		return "absolute path: outside the bag";
	if (path[0] == '~')
		return "path starting with ~: outside the bag";
	if (len >= 2 && path[1] == ':' &&
	    ((path[0] >= 'a' && path[0] <= 'z') || (path[0] >= 'A' && path[0] <= 'Z')))
		return "drive letter: outside the bag";
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && path[i] != '/'; i++)
			;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.')
			return "'..' in the path: outside the bag";
	}
	return NULL;
}

size_t bagit_normalize(char *path, size_t len)
{
	size_t in = 0, out = 0, end;

	while (in < len) {
		for (end = in; end < len && path[end] != '/'; end++)
			;
		if (!(end == in || (end - in == 1 && path[in] == '.'))) {
			if (out > 0)
				path[out++] = '/';
			memmove(path + out, path + in, end - in);
			out += end - in;
		}
		in = end + 1;
	}
	return out;
}

/* Decode %0A, %0D and %25 (any case); any other % stays as it is. */
static int decode_path(struct dbuf *out, const char *path, size_t len, bool decode)
{
	size_t i;

	dbuf_clear(out);
	for (i = 0; i < len; i++) {
		int hi = i + 2 < len ? rec_hex_value(path[i + 1]) : -1;
		int lo = i + 2 < len ? rec_hex_value(path[i + 2]) : -1;
		int c = hi >= 0 && lo >= 0 ? hi * 16 + lo : -1;

		if (decode && path[i] == '%' && (c == '\n' || c == '\r' || c == '%')) {
			if (dbuf_putc(out, (char)c) != 0)
				return -1;
			i += 2;
		} else if (dbuf_putc(out, path[i]) != 0) {
			return -1;
		}
	}
	if (dbuf_putc(out, '\0') != 0)
		return -1;
	out->len--;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The PATH that ends a manifest or fetch line, after the blanks from i on:
 * decoded into path. Returns 0, or -1 with *why (none when there is no path;
 * errno EINVAL) or "out of memory" (errno ENOMEM).
 */
static int take_path(const char *line, size_t len, size_t i, bool decode, struct dbuf *path,
		     const char *none, const char **why)
{
	while (i < len && blank(line[i]))
		i++;
	if (i == len) {
		*why = none;
		errno = EINVAL;
		return -1;
	}
	if (decode_path(path, line + i, len - i, decode) != 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

int bagit_parse_manifest_line(const char *line, size_t len, const struct hash_algo *algo,
			      bool decode, char hex[HASH_HEX_MAX + 1], struct dbuf *path,
			      const char **why)
{
	size_t i = 0, digits = algo->digest_len * 2;

	while (i < len && !blank(line[i]))
		i++;
	if (i == len) {
		*why = "not 'CHECKSUM PATH'";
		goto bad;
	}
	if (i != digits) {
		*why = "the checksum is not the algorithm's length";
		goto bad;
	}
	for (size_t k = 0; k < digits; k++) {
		int v = rec_hex_value(line[k]);
		if (v < 0) {
			*why = "the checksum is not hexadecimal";
			goto bad;
		}
		hex[k] = "0123456789abcdef"[v];
	}
	hex[digits] = '\0';
	return take_path(line, len, i, decode, path, "no path after the checksum", why);
bad:
	errno = EINVAL;
	return -1;
}

int bagit_parse_fetch_line(const char *line, size_t len, bool decode, uint64_t *length,
			   struct dbuf *path, const char **why)
{
	size_t i = 0, start;

	while (i < len && !blank(line[i]))
		i++;
	if (i == 0 || i == len) {
		*why = "not 'URL LENGTH PATH'";
		goto bad;
	}
	while (i < len && blank(line[i]))
		i++;
	start = i;
	while (i < len && !blank(line[i]))
		i++;
	if (i == start || i == len) {
		*why = "not 'URL LENGTH PATH'";
		goto bad;
	}
	if (i - start == 1 && line[start] == '-') {
		*length = UINT64_MAX;
	} else {
		*length = 0;
		for (size_t k = start; k < i; k++) {
			if (line[k] < '0' || line[k] > '9' || *length > (UINT64_MAX - 9) / 10) {
				*why = "the length is not '-' or a number";
				goto bad;
			}
			*length = *length * 10 + (uint64_t)(line[k] - '0');
		}
	}
	return take_path(line, len, i, decode, path, "no path", why);
bad:
	errno = EINVAL;
	return -1;
}

/* Latin-1 bytes to UTF-8, appended to out. */
static int latin1_to_utf8(struct dbuf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x80) {
			if (dbuf_putc(out, (char)c) != 0)
				return -1;
		} else if (dbuf_putc(out, (char)(0xc0 | (c >> 6))) != 0 ||
			   dbuf_putc(out, (char)(0x80 | (c & 0x3f))) != 0) {
			return -1;
		}
	}
	return 0;
}

static size_t skip_bom(const char *text, size_t len)
{
	return len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* Hand the tag gathered in value (label, then a NUL, then the value) to fn. */
static int emit_tag(struct dbuf *tag, size_t label_len, bagit_tag_fn *fn, void *arg)
{
	size_t value_len = tag->len - label_len - 1;

	return fn(arg, tag->data, label_len, tag->data + label_len + 1, value_len);
}

int bagit_parse_tags(const char *text, size_t len, bool latin1, bagit_tag_fn *fn, void *arg,
		     const char **why)
{
	struct dbuf utf8, tag;
	size_t i, end, label_len = 0;
	bool have = false;
	int rc = -1;

	dbuf_init(&utf8);
	dbuf_init(&tag);
	i = skip_bom(text, len);
	if (latin1) {
		if (latin1_to_utf8(&utf8, text + i, len - i) != 0)
			goto nomem;
		text = utf8.data ? utf8.data : "";
		len = utf8.len;
		i = 0;
	}
	for (; i < len; i = end + 1) {
		const char *line = text + i, *colon;
		size_t n, k;

		for (end = i; end < len && text[end] != '\n' && text[end] != '\r'; end++)
			;
		n = end - i;
		if (end + 1 < len && text[end] == '\r' && text[end + 1] == '\n')
			end++;
		if (n == 0)
			continue; /* a blank line between tags */
		if (blank(line[0])) {
			if (!have) {
				*why = "a continuation line with no tag above it";
				goto bad;
			}
			for (k = 0; k < n && blank(line[k]); k++)
				;
			if (dbuf_putc(&tag, ' ') != 0 || dbuf_append(&tag, line + k, n - k) != 0)
				goto nomem;
			continue;
		}
		if (have && (rc = emit_tag(&tag, label_len, fn, arg)) != 0)
			goto out;
		rc = -1;
		colon = memchr(line, ':', n);
		if (!colon || colon == line) {
			*why = "a line that is not 'Label: value'";
			goto bad;
		}
		label_len = (size_t)(colon - line);
		while (label_len > 0 && blank(line[label_len - 1]))
			label_len--;
		for (k = (size_t)(colon - line) + 1; k < n && blank(line[k]); k++)
			;
		dbuf_clear(&tag);
		if (dbuf_append(&tag, line, label_len) != 0 || dbuf_putc(&tag, '\0') != 0 ||
		    dbuf_append(&tag, line + k, n - k) != 0)
			goto nomem;
		have = true;
	}
	rc = have ? emit_tag(&tag, label_len, fn, arg) : 0;
	goto out;
nomem:
	*why = "out of memory";
	errno = ENOMEM;
	goto out;
bad:
	errno = EINVAL;
out:
	dbuf_free(&utf8);
	dbuf_free(&tag);
	return rc;
}

struct declaration_state {
	struct bagit_declaration *decl;
	unsigned seen;      /* 1: version, 2: encoding */
	const char *why;
};

static bool label_is(const char *label, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(label, want, len) == 0;
}

static int parse_version(const char *value, size_t len, unsigned *major, unsigned *minor)
{
	unsigned *part = major;
	size_t i;

	*major = *minor = 0;
	for (i = 0; i < len; i++) {
		if (value[i] == '.' && part == major && i > 0) {
			part = minor;
		} else if (value[i] >= '0' && value[i] <= '9' && *part < 1000) {
			*part = *part * 10 + (unsigned)(value[i] - '0');
		} else {
			return -1;
		}
	}
	return part == minor && value[len - 1] != '.' ? 0 : -1;
}

static int declaration_tag(void *arg, const char *label, size_t label_len, const char *value,
			   size_t value_len)
{
	struct declaration_state *state = arg;

	if (label_is(label, label_len, "BagIt-Version") && !(state->seen & 1)) {
		state->seen |= 1;
		if (parse_version(value, value_len, &state->decl->major, &state->decl->minor) != 0) {
			state->why = "BagIt-Version is not M.N";
			return -1;
		}
		if (!(state->decl->major == 1 && state->decl->minor == 0) &&
		    !(state->decl->major == 0 && (state->decl->minor == 97 ||
						  state->decl->minor == 96))) {
			state->why = "unsupported BagIt-Version (1.0, 0.97 and 0.96 are read)";
			return -1;
		}
		return 0;
	}
	if (label_is(label, label_len, "Tag-File-Character-Encoding") && !(state->seen & 2)) {
		state->seen |= 2;
		if ((value_len == 5 && strncasecmp(value, "UTF-8", 5) == 0) ||
		    (value_len == 4 && strncasecmp(value, "UTF8", 4) == 0)) {
			state->decl->latin1 = false;
		} else if ((value_len == 10 && strncasecmp(value, "ISO-8859-1", 10) == 0) ||
			   (value_len == 9 && strncasecmp(value, "ISO8859-1", 9) == 0) ||
			   (value_len == 6 && strncasecmp(value, "LATIN1", 6) == 0)) {
			state->decl->latin1 = true;
		} else {
			state->why = "unsupported Tag-File-Character-Encoding (UTF-8 and ISO-8859-1 "
				     "are read)";
			return -1;
		}
		return 0;
	}
	state->why = "bagit.txt holds a tag other than BagIt-Version and "
		     "Tag-File-Character-Encoding, or one twice";
	return -1;
}

int bagit_parse_declaration(const char *text, size_t len, struct bagit_declaration *decl,
			    const char **why)
{
	struct declaration_state state;

	memset(decl, 0, sizeof(*decl));
	state.decl = decl;
	state.seen = 0;
	state.why = NULL;
	if (bagit_parse_tags(text, len, false, declaration_tag, &state, why) != 0) {
		if (state.why)
			*why = state.why;
		errno = errno == ENOMEM ? ENOMEM : EINVAL;
		return -1;
	}
	if (state.seen != 3) {
		*why = "bagit.txt lacks BagIt-Version or Tag-File-Character-Encoding";
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int bagit_parse_oxum(const char *value, size_t len, uint64_t *octets, uint64_t *streams)
{
	uint64_t *part = octets;
	size_t digits = 0;

	*octets = *streams = 0;
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '.' && part == octets && digits > 0) {
			part = streams;
			digits = 0;
		} else if (value[i] >= '0' && value[i] <= '9' && *part <= (UINT64_MAX - 9) / 10) {
			*part = *part * 10 + (uint64_t)(value[i] - '0');
			digits++;
		} else {
			errno = EINVAL;
			return -1;
		}
	}
	if (part != streams || digits == 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int bagit_lines_init(struct bagit_lines *lines, int fd, bool latin1)
{
	memset(lines, 0, sizeof(*lines));
	lines->fd = fd;
	lines->latin1 = latin1;
	lines->first = true;
	dbuf_init(&lines->line);
	lines->buf = malloc(BAGIT_LINE_MAX);
	return lines->buf ? 0 : -1;
}

/* Refill the read-ahead (what is left moves to the front). 1 more, 0 end, -1 error. */
static int refill(struct bagit_lines *lines)
{
	ssize_t got;

	memmove(lines->buf, lines->buf + lines->start, lines->end - lines->start);
	lines->end -= lines->start;
	lines->start = 0;
	if (lines->eof || lines->end == BAGIT_LINE_MAX)
		return 0;
	got = xread(lines->fd, lines->buf + lines->end, BAGIT_LINE_MAX - lines->end);
	if (got < 0)
		return -1;
	if (got == 0) {
		lines->eof = true;
		return 0;
	}
	lines->end += (size_t)got;
	return 1;
}

int bagit_lines_next(struct bagit_lines *lines, const char **text, size_t *len)
{
	size_t i, n;
	int got;

	for (;;) {
		/* The LF of a CR LF split across two reads. */
		if (lines->pending_cr && lines->start < lines->end) {
			if (lines->buf[lines->start] == '\n')
				lines->start++;
			lines->pending_cr = false;
		}
		for (i = lines->start; i < lines->end && lines->buf[i] != '\n' &&
		     lines->buf[i] != '\r'; i++)
			;
		if (i < lines->end || (lines->eof && lines->start < lines->end))
			break;
		if (lines->eof)
			return 0;
		got = refill(lines);
		if (got < 0)
			return -1;
		if (got == 0 && !lines->eof) {
			errno = EOVERFLOW;
			return -1;
		}
	}
	n = i - lines->start;
	dbuf_clear(&lines->line);
	if (lines->first) {
		size_t bom = skip_bom(lines->buf + lines->start, n);
		lines->start += bom;
		n -= bom;
		lines->first = false;
	}
	if ((lines->latin1 ? latin1_to_utf8(&lines->line, lines->buf + lines->start, n)
			   : dbuf_append(&lines->line, lines->buf + lines->start, n)) != 0 ||
	    dbuf_putc(&lines->line, '\0') != 0)
		return -1;
	lines->line.len--;
	if (i < lines->end) {
		lines->pending_cr = lines->buf[i] == '\r';
		i++;
	}
	lines->start = i;
	lines->lineno++;
	*text = lines->line.data;
	*len = lines->line.len;
	return 1;
}

void bagit_lines_fini(struct bagit_lines *lines)
{
	if (!lines)
		return;
	free(lines->buf);
	lines->buf = NULL;
	dbuf_free(&lines->line);
}
