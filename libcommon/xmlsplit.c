/* SPDX-License-Identifier: 0BSD */
/** The scan for cut points in an XML body (xmlsplit.h). */
#include "prelude.h"
#include "xmlsplit.h"
#include <strings.h>
#include <string.h>

enum state {
	TEXT,       /* content, or between the prolog's markup */
	LT,         /* after '<' */
	NAME,       /* a tag's name */
	ATTRS,      /* the rest of a tag */
	BANG,       /* after "<!" */
	COMMENT,
	CDATA,
	PI,
};

void xmlsplit_init(struct xmlsplit *s, const char *root, const char *body)
{
	memset(s, 0, sizeof(*s));
	s->root = root;
	s->body = body;
	s->state = TEXT;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool name_is(const struct xmlsplit *s, const char *name)
{
	return s->name_len == strlen(name) && memcmp(s->name, name, s->name_len) == 0;
}

/* A tag ended ('>'): the nesting after it. */
static void tag_end(struct xmlsplit *s)
{
	if (s->end_tag) {
		s->depth--;
	} else if (!s->last_slash) {
		s->depth++;
		if (s->depth == 1)
			s->in_root = name_is(s, s->root);
		else if (s->depth == 2)
			s->in_body = s->in_root && name_is(s, s->body);
	}
	if (s->depth < 2)
		s->in_body = false;
	if (s->depth < 1)
		s->in_root = false;
	s->state = TEXT;
}

/* The XML declaration ended: an encoding other than UTF-8 gives up. */
static void decl_end(struct xmlsplit *s)
{
	const char *p, *end;
	char quote;

	s->decl[s->decl_len] = '\0';
	p = strstr(s->decl, "encoding");
	if (!p)
		return;
	p += strlen("encoding");
	while (is_space(*p))
		p++;
	if (*p++ != '=')
		goto give_up;
	while (is_space(*p))
		p++;
	quote = *p++;
	end = quote == '"' || quote == '\'' ? strchr(p, quote) : NULL;
	if (end && end - p == 5 && strncasecmp(p, "UTF-8", 5) == 0)
		return;
give_up:
	s->gave_up = true;
}

/* One byte of markup (any state but TEXT and ATTRS); false where it ends a
 * tag's name and is left for the rest of the tag (the scan's ATTRS). */
static bool markup_byte(struct xmlsplit *s, char c)
{
	switch (s->state) {
	case LT:
		s->end_tag = s->last_slash = false;
		s->name_len = 0;
		s->quote = 0;
		s->matched = 0;
		if (c == '/') {
			s->end_tag = true;
			s->state = NAME;
		} else if (c == '!') {
			s->expect = NULL;
			s->state = BANG;
		} else if (c == '?') {
			/* Only the document's first bytes (after a byte-order
			 * mark) may hold the XML declaration. */
			s->in_decl = s->lt_at <= 3;
			s->decl_len = 0;
			s->state = PI;
		} else {
			s->state = NAME;
			return markup_byte(s, c);
		}
		return true;
	case NAME:
		if (is_space(c) || c == '/' || c == '>') {
			s->state = ATTRS;
			return false;
		}
		if (s->name_len < sizeof(s->name))
			s->name[s->name_len++] = c;
		else
			s->name_len = sizeof(s->name) + 1;
		return true;
	case BANG:
		if (!s->expect)
			s->expect = c == '-' ? "-" : c == '[' ? "CDATA[" : NULL;
		else if (*s->expect == c)
			s->expect++;
		else
			s->expect = NULL;
		if (!s->expect)
			s->gave_up = true; /* a DOCTYPE or worse */
		else if (!*s->expect)
			s->state = s->expect[-1] == '-' ? COMMENT : CDATA;
		return true;
	case COMMENT:
	case CDATA:
		if (c == (s->state == COMMENT ? '-' : ']'))
			s->matched = s->matched < 2 ? s->matched + 1 : 2;
		else if (c == '>' && s->matched == 2)
			s->state = TEXT;
		else
			s->matched = 0;
		return true;
	case PI:
		if (c == '>' && s->matched) {
			if (s->in_decl) {
				s->decl_len--; /* the '?' */
				decl_end(s);
			}
			s->state = TEXT;
			return true;
		}
		s->matched = c == '?';
		if (s->in_decl && s->decl_len == sizeof(s->decl) - 1)
			s->gave_up = true;
		else if (s->in_decl)
			s->decl[s->decl_len++] = c;
		return true;
	default:
		return true;
	}
}

/* Whether the document's first bytes say UTF-16 or UTF-32 (a NUL, or a
 * byte-order mark's 0xfe or 0xff). */
static void check_start(struct xmlsplit *s, const char *p, size_t len)
{
	for (size_t k = 0; k < len && s->at + k < 4; k++)
		if (p[k] == '\0' || (unsigned char)p[k] == 0xfe || (unsigned char)p[k] == 0xff)
			s->gave_up = true;
}

size_t xmlsplit_scan(struct xmlsplit *s, const char *p, size_t len, size_t from)
{
	size_t i = 0;

	if (s->at < 4)
		check_start(s, p, len);
	while (i < len && !s->gave_up) {
		const char *hit;

		switch (s->state) {
		case TEXT:
			hit = memchr(p + i, '<', len - i);
			if (!hit) {
				i = len;
				continue;
			}
			i = (size_t)(hit - p);
			if (s->in_body && s->depth == 2 && i >= from) {
				s->at += i;
				return i;
			}
			s->lt_at = s->at + i;
			s->state = LT;
			i++;
			continue;
		case ATTRS:
			/* Most of a tag is quoted values: stepped over whole. */
			if (s->quote) {
				hit = memchr(p + i, s->quote, len - i);
				if (!hit) {
					i = len;
					continue;
				}
				s->quote = 0;
				i = (size_t)(hit - p) + 1;
				continue;
			}
			for (; i < len; i++) {
				char c = p[i];

				if (c == '>' || c == '"' || c == '\'')
					break;
				if (!is_space(c))
					s->last_slash = c == '/';
			}
			if (i == len)
				continue;
			if (p[i] == '>') {
				tag_end(s);
			} else {
				s->quote = p[i];
				s->last_slash = false;
			}
			i++;
			continue;
		case COMMENT:
		case CDATA:
			/* Up to the next '>', then whether "--" or "]]" came before it. */
			if (s->matched < 2) {
				hit = memchr(p + i, '>', len - i);
				size_t stop = hit ? (size_t)(hit - p) : len;
				char end = s->state == COMMENT ? '-' : ']';

				for (size_t k = stop >= i + 2 ? stop - 2 : i; k < stop; k++)
					s->matched = p[k] == end ? s->matched + 1 : 0;
				if (s->matched > 2)
					s->matched = 2;
				i = stop;
				if (!hit)
					continue;
			}
			markup_byte(s, p[i++]);
			continue;
		default:
			if (markup_byte(s, p[i]))
				i++;
			continue;
		}
	}
	s->at += len;
	return len;
}
