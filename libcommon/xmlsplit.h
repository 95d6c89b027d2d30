/* SPDX-License-Identifier: 0BSD */
/**
 * Where a long XML body may be cut into pieces that parse alone: a scan,
 * byte by byte and far cheaper than a parse, that follows markup (tags and
 * their quoted attributes, comments, CDATA sections, processing
 * instructions) and the nesting, and finds each '<' in the content of the
 * element named body directly inside the root named root: where the next
 * piece of markup starts. Between two such points lies content that, if it
 * is well-formed there, leaves the parse in the state it found it; it can
 * be parsed on its own parser inside a made-up <root><body> with the same
 * events. Whether the cut was right is the parse's to find (a piece that
 * is not well-formed alone is reparsed in place): the scan only has to be
 * right about well-formed input.
 *
 * The scan gives up (finds no more points) on what could make the same
 * bytes mean something else elsewhere: a DOCTYPE (entities), any '<!'
 * other than a comment or CDATA, an encoding other than UTF-8 (declared,
 * or a byte-order mark or NUL byte at the start), an XML declaration
 * longer than it keeps.
 */
#ifndef PTOOLS_XMLSPLIT_H
#define PTOOLS_XMLSPLIT_H

#include "prelude.h"

struct xmlsplit {
	const char *root, *body;  /* the element names, static */
	uint64_t at;              /* bytes scanned */
	uint64_t lt_at;           /* where the last '<' was */
	int state;
	int depth;                /* elements open */
	bool in_root, in_body;    /* the open elements at depth 1 and 2 are root and body */
	bool gave_up;
	bool end_tag;             /* the tag being scanned is an end tag */
	bool last_slash;          /* its last byte before '>' was '/' */
	bool in_decl;             /* the markup is the XML declaration: kept in decl */
	char quote;               /* inside an attribute value quoted by this */
	const char *expect;       /* after "<!": the rest of "--" or "[CDATA[" to come */
	unsigned matched;         /* bytes of a closing sequence ("-->", "]]>", "?>") seen */
	unsigned name_len;        /* sizeof(name) + 1: longer than kept */
	char name[16];            /* the tag's name */
	unsigned decl_len;
	char decl[128];
};

/** Start a scan of a document whose root is root and whose body is body. */
void xmlsplit_init(struct xmlsplit *s, const char *root, const char *body);

/**
 * Scan the document's next len bytes at p. Returns the offset of the first
 * point at or after from (the bytes before it scanned, the '<' not yet),
 * or len when there is none (all scanned).
 */
size_t xmlsplit_scan(struct xmlsplit *s, const char *p, size_t len, size_t from);

#endif
