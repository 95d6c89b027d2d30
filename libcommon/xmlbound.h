/* SPDX-License-Identifier: 0BSD */
/**
 * An expat parser that refuses DTDs and entities, bounds the nesting depth
 * and the bytes one token may span (so what expat holds unparsed is
 * bounded), and feeds its input in slices: the part every streaming XML
 * reader here (mhl1, mhl2) shares. The reader keeps its own element logic in
 * the start, end and text handlers it gives; the bound calls them with the
 * reader's own argument.
 *
 * A struct xmlbound is embedded in the reader. Its fields are for reading:
 * depth (the element being handled is at this depth, 1 for the root, in the
 * start and end handlers alike), failed and why (the first fatal error).
 */
#ifndef PTOOLS_XMLBOUND_H
#define PTOOLS_XMLBOUND_H

#include "prelude.h"
#include <expat.h>

/** What a reader gives: its handlers, their argument, its limits and words. */
struct xmlbound_reader {
	XML_StartElementHandler on_start; /* not called past depth_max */
	XML_EndElementHandler on_end;
	XML_CharacterDataHandler on_text;
	void *arg;                        /* the handlers' first argument */
	int depth_max;                    /* the deepest nesting allowed */
	size_t token_max;                 /* the most input one token may span: whole MiB */
	const char *doctype;              /* static text: the error on a DOCTYPE */
};

struct xmlbound {
	XML_Parser xml;          /* NULL until xmlbound_start */
	struct xmlbound_reader reader;
	const char *why;         /* the fatal error, once failed */
	uint64_t fed;            /* bytes handed to expat */
	uint64_t last_event;     /* ...up to the last handler call */
	int depth;
	bool failed;
	bool parsing;            /* inside XML_Parse: a failure stops the parser */
	bool kept_errno;         /* why is "out of memory" or "stopped": errno tells more */
	bool bom_hint;           /* a syntax error before the root may be a wrong byte-order mark */
	char message[200];       /* a malformed-XML error */
	char too_deep[64];       /* the errors past the reader's limits */
	char too_long[64];
};

/** Set up b for reader (copied); no parser yet. Cannot fail. */
void xmlbound_init(struct xmlbound *b, const struct xmlbound_reader *reader);

/**
 * Make the parser: encoding is expat's name for the input's encoding, or NULL
 * to let the document say. Returns 0, or -1 with errno ENOMEM.
 */
int xmlbound_start(struct xmlbound *b, const char *encoding);

/** Free the parser; b may be used no more but xmlbound_destroy again. NULL-safe. */
void xmlbound_destroy(struct xmlbound *b);

/** Fail with why (static text), the first failure winning, and stop the parse. */
void xmlbound_fail(struct xmlbound *b, const char *why);

/**
 * From a handler, after the reader's callback returned -1: stop the parse
 * with "out of memory" (errno ENOMEM) or "stopped", errno kept for the caller.
 */
void xmlbound_callback_failed(struct xmlbound *b);

/** The line expat is at, 1 before the parser exists. */
uintmax_t xmlbound_line(const struct xmlbound *b);

/**
 * Hand len bytes to expat, in slices, after xmlbound_start; final says they
 * are the last. Returns true, or false once the parse has failed (now or
 * before): why then says why.
 */
bool xmlbound_feed(struct xmlbound *b, const char *data, size_t len, bool final);

/**
 * The fatal error, for a reader's feed function to return: sets errno to 0
 * unless the failure was the callback's or an allocation's, whose errno stays.
 * The string outlives the reader (callers report it after freeing it),
 * until the next call in the same thread.
 */
const char *xmlbound_error(const struct xmlbound *b);

#endif
