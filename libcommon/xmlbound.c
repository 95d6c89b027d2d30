/* SPDX-License-Identifier: 0BSD */
/** An expat parser with no DTD, no entities, and bounded depth and token size. */
#include "prelude.h"
#include "xmlbound.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Input is handed to expat in slices of this many bytes. */
#define SLICE ((size_t)1 << 16)

void xmlbound_init(struct xmlbound *b, const struct xmlbound_reader *reader)
{
	memset(b, 0, sizeof(*b));
	b->reader = *reader;
	snprintf(b->too_deep, sizeof(b->too_deep), "elements nested too deep (more than %d levels)",
		 reader->depth_max);
	snprintf(b->too_long, sizeof(b->too_long),
		 "a tag, attribute or comment longer than %zu MiB", reader->token_max >> 20);
}

void xmlbound_fail(struct xmlbound *b, const char *why)
{
	if (!b->failed) {
		b->failed = true;
		b->why = why;
	}
	if (b->parsing)
		XML_StopParser(b->xml, XML_FALSE);
}

void xmlbound_callback_failed(struct xmlbound *b)
{
	if (!b->failed)
		b->kept_errno = true;
	xmlbound_fail(b, errno == ENOMEM ? "out of memory" : "stopped");
}

/* Every handler notes how far expat got: what it holds unparsed is then at
 * most one token, which xmlbound_feed bounds. */
static void progressed(struct xmlbound *b)
{
	XML_Index at = XML_GetCurrentByteIndex(b->xml);

	if (at > 0 && (uint64_t)at > b->last_event)
		b->last_event = (uint64_t)at;
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xmlbound *b = arg;

	progressed(b);
	if (++b->depth > b->reader.depth_max) {
		xmlbound_fail(b, b->too_deep);
		return;
	}
	b->reader.on_start(b->reader.arg, name, attrs);
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct xmlbound *b = arg;

	progressed(b);
	b->reader.on_end(b->reader.arg, name);
	b->depth--;
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
	struct xmlbound *b = arg;

	progressed(b);
	b->reader.on_text(b->reader.arg, s, len);
}

static void XMLCALL on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int internal)
{
	struct xmlbound *b = arg;

	(void)name, (void)sysid, (void)pubid, (void)internal;
	xmlbound_fail(b, b->reader.doctype);
}

static void XMLCALL on_entity(void *arg, const XML_Char *name, int param, const XML_Char *value,
			      int value_len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)param, (void)value, (void)value_len, (void)base, (void)sysid;
	(void)pubid, (void)notation;
	xmlbound_fail(arg, "entity declaration refused");
}

static void XMLCALL on_comment(void *arg, const XML_Char *data)
{
	(void)data;
	progressed(arg);
}

static void XMLCALL on_pi(void *arg, const XML_Char *target, const XML_Char *data)
{
	(void)target, (void)data;
	progressed(arg);
}

int xmlbound_start(struct xmlbound *b, const char *encoding)
{
	b->xml = XML_ParserCreate(encoding);
	if (!b->xml) {
		b->failed = true;
		b->kept_errno = true;
		b->why = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	XML_SetUserData(b->xml, b);
	/* With no DTD read, no entity can be declared, so none can expand. */
	XML_SetParamEntityParsing(b->xml, XML_PARAM_ENTITY_PARSING_NEVER);
	XML_SetElementHandler(b->xml, on_start, on_end);
	XML_SetCharacterDataHandler(b->xml, on_text);
	XML_SetStartDoctypeDeclHandler(b->xml, on_doctype);
	XML_SetEntityDeclHandler(b->xml, on_entity);
	XML_SetCommentHandler(b->xml, on_comment);
	XML_SetProcessingInstructionHandler(b->xml, on_pi);
	return 0;
}

void xmlbound_destroy(struct xmlbound *b)
{
	if (!b)
		return;
	if (b->xml)
		XML_ParserFree(b->xml);
	b->xml = NULL;
}

uintmax_t xmlbound_line(const struct xmlbound *b)
{
	return b->xml ? (uintmax_t)XML_GetCurrentLineNumber(b->xml) : 1;
}

/* Hand one slice to expat. */
static bool parse(struct xmlbound *b, const char *data, size_t len, bool final)
{
	enum XML_Status status;

	if (b->failed)
		return false;
	b->fed += len;
	b->parsing = true;
	status = XML_Parse(b->xml, data, (int)len, final);
	b->parsing = false;
	if (status == XML_STATUS_ERROR) {
		if (b->failed)
			return false;
		snprintf(b->message, sizeof(b->message), "malformed XML: %s%s",
			 XML_ErrorString(XML_GetErrorCode(b->xml)),
			 b->bom_hint && b->depth == 0
			 ? " (does the byte-order mark match the encoding?)" : "");
		b->failed = true;
		b->why = b->message;
		return false;
	}
	if (b->fed - b->last_event > b->reader.token_max) {
		b->failed = true;
		b->why = b->too_long;
		return false;
	}
	return true;
}

bool xmlbound_feed(struct xmlbound *b, const char *data, size_t len, bool final)
{
	size_t n;

	do {
		n = len < SLICE ? len : SLICE;
		if (!parse(b, data, n, final && n == len))
			return false;
		data += n;
		len -= n;
	} while (len > 0);
	return true;
}

const char *xmlbound_error(const struct xmlbound *b)
{
	/* The reason may be one of b's own buffers; callers report it after
	 * freeing the reader, so it is kept here instead. */
	static _Thread_local char kept[sizeof(b->message)];
	int saved = b->kept_errno ? errno : 0;

	if (b->why)
		snprintf(kept, sizeof(kept), "%s", b->why);
	errno = saved;
	return b->why ? kept : NULL;
}
