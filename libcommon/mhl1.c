/* SPDX-License-Identifier: 0BSD */
/** MHL v1 files read with expat, one entry per <hash>, in bounded memory. */
#include "prelude.h"
#include "mhl1.h"
#include "xmlbound.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mhl1_encoding { ENC_UNKNOWN, ENC_AUTO, ENC_UTF8, ENC_UTF16LE, ENC_UTF16BE, ENC_UTF32LE, ENC_UTF32BE };

/* The element whose text is being kept. */
enum field { FIELD_NONE, FIELD_FILE, FIELD_SIZE, FIELD_MD5, FIELD_SHA1, FIELD_XXHASH,
	     FIELD_XXHASH64, FIELD_XXHASH64BE };

/* UTF-32 is transcoded in slices of this many input bytes. */
#define SLICE ((size_t)1 << 16)

struct mhl1_reader {
	mhl1_entry_fn *fn;
	void *arg;
	struct xmlbound xb;
	char *utf8;             /* SLICE bytes: transcoded UTF-32 */
	size_t head_len;
	size_t unit_len;
	enum mhl1_encoding encoding;
	unsigned char head[4];  /* the first bytes, until the encoding is known */
	unsigned char unit[4];  /* a UTF-32 unit split between two feeds */
	bool first_unit;        /* no UTF-32 character seen yet */
	bool root_seen;
	/* The <hash> being read. */
	bool in_hash;
	bool text_long;
	bool has_path;
	enum field field;
	uintmax_t hash_line;
	const char *entry_why;  /* the first thing wrong with it, or NULL */
	size_t text_len;
	char *path;             /* MHL1_PATH_MAX + 1 bytes */
	size_t path_len;
	struct mhl1_entry entry;
	char text[MHL1_TEXT_MAX + 1];
	char hex[MHL1_DIGESTS_MAX][HASH_HEX_MAX + 1];
	char xxh64_le[17];      /* <xxhash64>, to compare with <xxhash64be> */
};

static const char utf8_bom[] = "\xef\xbb\xbf";

/* The encoding told by a byte-order mark (*bom its length), or by the first
 * characters ('<' or white space) of a file without one; ENC_AUTO when
 * neither says. */
static enum mhl1_encoding sniff(const unsigned char *p, size_t len, size_t *bom)
{
	*bom = 0;
	if (len >= 4 && memcmp(p, "\0\0\xfe\xff", 4) == 0)
		return *bom = 4, ENC_UTF32BE;
	if (len >= 4 && memcmp(p, "\xff\xfe\0\0", 4) == 0)
		return *bom = 4, ENC_UTF32LE;
	if (len >= 2 && p[0] == 0xfe && p[1] == 0xff)
		return *bom = 2, ENC_UTF16BE;
	if (len >= 2 && p[0] == 0xff && p[1] == 0xfe)
		return *bom = 2, ENC_UTF16LE;
	if (len >= 3 && memcmp(p, utf8_bom, 3) == 0)
		return *bom = 3, ENC_UTF8;
	if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] != 0)
		return ENC_UTF32BE;
	if (len >= 4 && p[0] != 0 && p[1] == 0 && p[2] == 0 && p[3] == 0)
		return ENC_UTF32LE;
	return ENC_AUTO;
}

/* The ASCII character at index i of p in encoding enc, or -1 past the end
 * or for anything else. */
static int ascii_at(const unsigned char *p, size_t len, enum mhl1_encoding enc, size_t i)
{
	size_t width = enc == ENC_UTF32LE || enc == ENC_UTF32BE ? 4
		     : enc == ENC_UTF16LE || enc == ENC_UTF16BE ? 2 : 1;
	size_t at = i * width, k;
	int c;

	if (at + width > len)
		return -1;
	switch (enc) {
	case ENC_UTF16LE:
	case ENC_UTF32LE: /* the character first, then zeros */
		c = p[at];
		k = at + 1;
		break;
	case ENC_UTF16BE:
	case ENC_UTF32BE: /* zeros, then the character */
		c = p[at + width - 1];
		k = at;
		break;
	default: return p[at] < 0x80 ? p[at] : -1;
	}
	for (size_t j = 0; j < width - 1; j++)
		if (p[k + j] != 0)
			return -1;
	return c < 0x80 ? c : -1;
}

bool mhl1_detect(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	static const char *const starts[] = {"<?xml", "<hashlist"};
	enum mhl1_encoding enc;
	size_t bom, i = 0, k, s;
	int c;

	enc = sniff(p, len, &bom);
	if (enc != ENC_AUTO && enc != ENC_UTF8 && bom > 0)
		return true;
	p += bom;
	len -= bom;
	if (enc == ENC_AUTO || enc == ENC_UTF8) {
		enc = ENC_UTF8;
		if (len >= 2 && p[0] == '<' && p[1] == 0)
			enc = ENC_UTF16LE;
		else if (len >= 2 && p[0] == 0 && p[1] == '<')
			enc = ENC_UTF16BE;
	}
	while ((c = ascii_at(p, len, enc, i)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		i++;
	for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (k = 0; starts[s][k] && ascii_at(p, len, enc, i + k) == starts[s][k]; k++)
			;
		if (!starts[s][k])
			return true;
	}
	return false;
}

static enum field field_of(const char *name)
{
	static const struct { const char *name; enum field field; } fields[] = {
		{"file", FIELD_FILE}, {"size", FIELD_SIZE}, {"md5", FIELD_MD5},
		{"sha1", FIELD_SHA1}, {"xxhash", FIELD_XXHASH}, {"xxhash64", FIELD_XXHASH64},
		{"xxhash64be", FIELD_XXHASH64BE},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(name, fields[i].name) == 0)
			return fields[i].field;
	return FIELD_NONE;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct mhl1_reader *r = arg;
	const char *version = NULL;

	if (r->xb.depth == 1) {
		if (strcmp(name, "hashlist") != 0) {
			xmlbound_fail(&r->xb, "not an MHL v1 file: the root element is not <hashlist>");
			return;
		}
		for (size_t i = 0; attrs[i]; i += 2)
			if (strcmp(attrs[i], "version") == 0)
				version = attrs[i + 1];
		if (!version) {
			xmlbound_fail(&r->xb, "<hashlist> without a version");
			return;
		}
		if (strcmp(version, "1.0") != 0 && strcmp(version, "1.1") != 0) {
			xmlbound_fail(&r->xb, "not an MHL v1 file: hashlist version is not 1.0 or 1.1");
			return;
		}
		r->root_seen = true;
		return;
	}
	if (r->xb.depth == 2 && strcmp(name, "hash") == 0) {
		r->in_hash = true;
		r->hash_line = xmlbound_line(&r->xb);
		r->entry_why = NULL;
		r->has_path = false;
		r->path_len = 0;
		r->entry.has_size = false;
		r->entry.ndigests = 0;
		r->xxh64_le[0] = '\0';
		return;
	}
	if (r->xb.depth == 3 && r->in_hash) {
		r->field = field_of(name);
		r->text_len = 0;
		r->text_long = false;
		if (r->field == FIELD_FILE)
			r->path_len = 0;
	}
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct mhl1_reader *r = arg;
	size_t n = (size_t)len;

	if (r->field == FIELD_NONE || r->xb.depth != 3 || r->text_long)
		return;
	if (r->field == FIELD_FILE) {
		if (n > MHL1_PATH_MAX - r->path_len) {
			r->text_long = true;
			return;
		}
		memcpy(r->path + r->path_len, s, n);
		r->path_len += n;
		return;
	}
	if (n > MHL1_TEXT_MAX - r->text_len) {
		r->text_long = true;
		return;
	}
	memcpy(r->text + r->text_len, s, n);
	r->text_len += n;
}

/* Note the first thing wrong with the <hash> being read. */
static void entry_bad(struct mhl1_reader *r, const char *why)
{
	if (!r->entry_why)
		r->entry_why = why;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Lowercase hex of exactly want digits into out (want + 1 bytes); false otherwise. */
static bool take_hex(const char *s, size_t len, size_t want, char *out)
{
	if (len != want)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[len] = '\0';
	return true;
}

/* A decimal uint64 (no sign, at least one digit). */
static bool take_decimal(const char *s, size_t len, uint64_t *value)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*value = v;
	return true;
}

/* Add a digest of algorithm name; the same algorithm twice must agree. */
static void add_digest(struct mhl1_reader *r, const char *name, const char *hex)
{
	const struct hash_algo *algo = hash_lookup(name);
	struct mhl1_entry *e = &r->entry;
	size_t i;

	PT_ASSERT(algo);
	for (i = 0; i < e->ndigests; i++) {
		if (e->algos[i] != algo)
			continue;
		if (strcmp(e->hex[i], hex) != 0)
			entry_bad(r, "two different digests for one algorithm");
		return;
	}
	PT_ASSERT(e->ndigests < MHL1_DIGESTS_MAX);
	memcpy(r->hex[e->ndigests], hex, strlen(hex) + 1);
	e->algos[e->ndigests] = algo;
	e->hex[e->ndigests] = r->hex[e->ndigests];
	e->ndigests++;
}

/* The end of a field of the <hash>: check and keep its value. */
static void end_field(struct mhl1_reader *r)
{
	const char *s = r->text;
	size_t len = r->text_len, i;
	char hex[HASH_HEX_MAX + 1];
	uint64_t value;

	if (r->text_long) {
		entry_bad(r, r->field == FIELD_FILE ? "path longer than 65536 bytes"
						    : "element text longer than 256 bytes");
		return;
	}
	if (r->field == FIELD_FILE) {
		if (r->has_path)
			entry_bad(r, "two <file> elements in one <hash>");
		else if (r->path_len == 0)
			entry_bad(r, "empty <file>");
		r->path[r->path_len] = '\0';
		r->has_path = true;
		return;
	}
	/* Writers indent: the value is the text without surrounding space. */
	while (len > 0 && is_space(*s))
		s++, len--;
	while (len > 0 && is_space(s[len - 1]))
		len--;
	switch (r->field) {
	case FIELD_SIZE:
		if (!take_decimal(s, len, &value)) {
			entry_bad(r, "bad <size>");
			return;
		}
		if (r->entry.has_size && r->entry.size != value)
			entry_bad(r, "two different sizes in one <hash>");
		r->entry.has_size = true;
		r->entry.size = value;
		return;
	case FIELD_MD5:
		if (!take_hex(s, len, 32, hex)) {
			entry_bad(r, "bad <md5>");
			return;
		}
		add_digest(r, "md5", hex);
		return;
	case FIELD_SHA1:
		if (!take_hex(s, len, 40, hex)) {
			entry_bad(r, "bad <sha1>");
			return;
		}
		add_digest(r, "sha1", hex);
		return;
	case FIELD_XXHASH:
		/* XXH32, written as a decimal number. */
		if (len > 10 || !take_decimal(s, len, &value) || value > UINT32_MAX) {
			entry_bad(r, "bad <xxhash> (XXH32 as a decimal number)");
			return;
		}
		snprintf(hex, sizeof(hex), "%08x", (unsigned)value);
		add_digest(r, "xxh32", hex);
		return;
	case FIELD_XXHASH64:
		/* XXH64's bytes in reverse (little-endian) order. */
		if (!take_hex(s, len, 16, r->xxh64_le)) {
			entry_bad(r, "bad <xxhash64>");
			return;
		}
		for (i = 0; i < 8; i++) {
			hex[2 * i] = r->xxh64_le[14 - 2 * i];
			hex[2 * i + 1] = r->xxh64_le[15 - 2 * i];
		}
		hex[16] = '\0';
		add_digest(r, "xxh64", hex);
		return;
	case FIELD_XXHASH64BE:
		if (!take_hex(s, len, 16, hex)) {
			entry_bad(r, "bad <xxhash64be>");
			return;
		}
		add_digest(r, "xxh64", hex);
		return;
	default:
		return;
	}
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct mhl1_reader *r = arg;
	(void)name;

	if (r->xb.depth == 3 && r->in_hash && r->field != FIELD_NONE) {
		end_field(r);
		r->field = FIELD_NONE;
	} else if (r->xb.depth == 2 && r->in_hash) {
		r->in_hash = false;
		if (!r->has_path)
			entry_bad(r, "<hash> without a <file>");
		else if (r->entry.ndigests == 0)
			entry_bad(r, "<hash> without a digest (md5, sha1, xxhash, xxhash64, xxhash64be)");
		r->entry.path = r->path;
		r->entry.path_len = r->path_len;
		r->entry.line = r->hash_line;
		if (r->fn(r->arg, r->entry_why ? NULL : &r->entry, r->hash_line, r->entry_why) != 0)
			xmlbound_callback_failed(&r->xb);
	}
}

struct mhl1_reader *mhl1_reader_new(mhl1_entry_fn *fn, void *arg)
{
	struct mhl1_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fn = fn;
	r->arg = arg;
	xmlbound_init(&r->xb, &(struct xmlbound_reader){
		.on_start = on_start, .on_end = on_end, .on_text = on_text, .arg = r,
		.depth_max = MHL1_DEPTH_MAX, .token_max = MHL1_TOKEN_MAX,
		.doctype = "DOCTYPE refused: an MHL file has no DTD or entities",
	});
	r->path = malloc(MHL1_PATH_MAX + 1);
	r->utf8 = malloc(SLICE);
	if (!r->path || !r->utf8) {
		mhl1_reader_free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void mhl1_reader_free(struct mhl1_reader *r)
{
	if (!r)
		return;
	xmlbound_destroy(&r->xb);
	free(r->path);
	free(r->utf8);
	free(r);
}

uintmax_t mhl1_line(const struct mhl1_reader *r)
{
	return xmlbound_line(&r->xb);
}

/* Make the parser once the encoding is known; expat is told the encoding
 * when a mark or the UTF-32 step settled it, which overrides the declaration. */
static int start(struct mhl1_reader *r, enum mhl1_encoding enc)
{
	const char *name = NULL;

	switch (enc) {
	case ENC_UTF8: case ENC_UTF32LE: case ENC_UTF32BE: name = "UTF-8"; break;
	case ENC_UTF16LE: name = "UTF-16LE"; break;
	case ENC_UTF16BE: name = "UTF-16BE"; break;
	default: break;
	}
	r->encoding = enc;
	r->xb.bom_hint = enc == ENC_UTF16LE || enc == ENC_UTF16BE || enc == ENC_UTF32LE ||
			 enc == ENC_UTF32BE;
	return xmlbound_start(&r->xb, name);
}

/* Hand len bytes to expat; false once the parse has failed. */
static bool parse(struct mhl1_reader *r, const char *data, size_t len, bool final)
{
	if (!xmlbound_feed(&r->xb, data, len, final))
		return false;
	if (final && !r->root_seen) {
		xmlbound_fail(&r->xb, "not an MHL v1 file: no <hashlist>");
		return false;
	}
	return true;
}

/* A document starts with '<' or white space: anything else after a
 * byte-order mark shows a mark that does not match the text. */
static bool may_start(uint32_t c)
{
	return c == '<' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char bom_mismatch[] = "the byte-order mark does not match the encoding of the text after it";

static void put_utf8(char *out, size_t *n, uint32_t c)
{
	if (c < 0x80) {
		out[(*n)++] = (char)c;
	} else if (c < 0x800) {
		out[(*n)++] = (char)(0xc0 | (c >> 6));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		out[(*n)++] = (char)(0xe0 | (c >> 12));
		out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | (c >> 18));
		out[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	}
}

/* UTF-32 to UTF-8 (at most 4 output bytes per 4 input bytes), slice by slice. */
static bool feed_utf32(struct mhl1_reader *r, const unsigned char *p, size_t len, bool final)
{
	bool le = r->encoding == ENC_UTF32LE;
	size_t n = 0;
	uint32_t c;

	while (len > 0) {
		r->unit[r->unit_len++] = *p++;
		len--;
		if (r->unit_len < 4)
			continue;
		r->unit_len = 0;
		c = le ? (uint32_t)r->unit[0] | (uint32_t)r->unit[1] << 8 |
			 (uint32_t)r->unit[2] << 16 | (uint32_t)r->unit[3] << 24
		       : (uint32_t)r->unit[3] | (uint32_t)r->unit[2] << 8 |
			 (uint32_t)r->unit[1] << 16 | (uint32_t)r->unit[0] << 24;
		if (r->first_unit && !may_start(c)) {
			xmlbound_fail(&r->xb, bom_mismatch);
			return false;
		}
		r->first_unit = false;
		if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
			xmlbound_fail(&r->xb, "malformed UTF-32: not a Unicode character");
			return false;
		}
		put_utf8(r->utf8, &n, c);
		if (n > SLICE - 4) {
			if (!parse(r, r->utf8, n, false))
				return false;
			n = 0;
		}
	}
	if (final && r->unit_len != 0) {
		xmlbound_fail(&r->xb, "malformed UTF-32: the file ends inside a character");
		return false;
	}
	return parse(r, r->utf8, n, final);
}

/* Feed bytes whose encoding is known. */
static bool feed_known(struct mhl1_reader *r, const unsigned char *p, size_t len, bool final)
{
	if (r->encoding == ENC_UTF32LE || r->encoding == ENC_UTF32BE)
		return feed_utf32(r, p, len, final);
	return parse(r, (const char *)p, len, final);
}

int mhl1_feed(struct mhl1_reader *r, const void *data, size_t len, bool final, const char **why)
{
	const unsigned char *p = data;
	enum mhl1_encoding enc;
	size_t take, bom;

	if (!r->xb.failed && r->encoding == ENC_UNKNOWN) {
		/* The first four bytes tell the encoding. */
		take = sizeof(r->head) - r->head_len;
		if (take > len)
			take = len;
		memcpy(r->head + r->head_len, p, take);
		r->head_len += take;
		p += take;
		len -= take;
		if (r->head_len < sizeof(r->head) && !final)
			return 0;
		enc = sniff(r->head, r->head_len, &bom);
		r->first_unit = bom > 0;
		if (bom == 2 && r->head_len == 4 &&
		    !may_start(enc == ENC_UTF16LE ? (uint32_t)r->head[2] | (uint32_t)r->head[3] << 8
						  : (uint32_t)r->head[3] | (uint32_t)r->head[2] << 8)) {
			xmlbound_fail(&r->xb, bom_mismatch);
			goto failed;
		}
		if (start(r, enc) != 0)
			goto failed;
		if (!feed_known(r, r->head + bom, r->head_len - bom, final && len == 0))
			goto failed;
		if (len == 0)
			return 0;
	}
	if (!r->xb.failed && feed_known(r, p, len, final))
		return 0;
failed:
	*why = xmlbound_error(&r->xb);
	return -1;
}
