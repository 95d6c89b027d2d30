/* SPDX-License-Identifier: 0BSD */
/** The bounded expat parser: what it refuses, its bounds, and what it hands the reader. */
#include "prelude.h"
#include "unit.h"
#include "xmlbound.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A reader that counts what it is handed and can fail its callback. */
struct counter {
	struct xmlbound xb;
	int starts, ends, deepest;
	size_t text;
	bool fail_on_end;
};

static void XMLCALL count_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct counter *c = arg;

	(void)name, (void)attrs;
	c->starts++;
	if (c->xb.depth > c->deepest)
		c->deepest = c->xb.depth;
}

static void XMLCALL count_end(void *arg, const XML_Char *name)
{
	struct counter *c = arg;

	(void)name;
	c->ends++;
	if (c->fail_on_end) {
		errno = ENOMEM;
		xmlbound_callback_failed(&c->xb);
	}
}

static void XMLCALL count_text(void *arg, const XML_Char *s, int len)
{
	struct counter *c = arg;

	(void)s;
	c->text += (size_t)len;
}

static void counter_init(struct counter *c)
{
	memset(c, 0, sizeof(*c));
	xmlbound_init(&c->xb, &(struct xmlbound_reader){
		.on_start = count_start, .on_end = count_end, .on_text = count_text, .arg = c,
		.depth_max = 3, .token_max = (size_t)1 << 20, .doctype = "no DOCTYPE here",
	});
	PT_ASSERT(xmlbound_start(&c->xb, NULL) == 0);
}

/* Parse doc whole; the reader's result. */
static bool parse_all(struct counter *c, const char *doc)
{
	return xmlbound_feed(&c->xb, doc, strlen(doc), true);
}

UNIT_TEST(xmlbound_hands_elements_and_text_to_the_reader)
{
	struct counter c;

	counter_init(&c);
	EXPECT(parse_all(&c, "<a><b>hello</b><!-- c --><?pi x?><b/></a>"));
	EXPECT(c.starts == 3 && c.ends == 3 && c.deepest == 2 && c.text == 5);
	EXPECT(c.xb.depth == 0 && !c.xb.failed);
	xmlbound_destroy(&c.xb);
}

UNIT_TEST(xmlbound_refuses_a_doctype_and_entities)
{
	struct counter c;

	counter_init(&c);
	EXPECT(!parse_all(&c, "<!DOCTYPE a [<!ENTITY x \"yyyy\">]><a>&x;&x;</a>"));
	EXPECT(c.xb.failed && strcmp(xmlbound_error(&c.xb), "no DOCTYPE here") == 0);
	EXPECT(errno == 0 && c.text == 0);
	xmlbound_destroy(&c.xb);
}

UNIT_TEST(xmlbound_bounds_the_depth)
{
	struct counter c;

	counter_init(&c);
	EXPECT(parse_all(&c, "<a><b><c/></b></a>"));
	xmlbound_destroy(&c.xb);
	counter_init(&c);
	EXPECT(!parse_all(&c, "<a><b><c><d/></c></b></a>"));
	EXPECT(strcmp(c.xb.why, "elements nested too deep (more than 3 levels)") == 0);
	EXPECT(c.deepest == 3);
	xmlbound_destroy(&c.xb);
}

UNIT_TEST(xmlbound_bounds_one_token_fed_in_pieces)
{
	size_t len = ((size_t)1 << 20) + 4096, i;
	char *doc = malloc(len);
	struct counter c;

	PT_ASSERT(doc);
	memcpy(doc, "<a x=\"", 6);
	memset(doc + 6, 'y', len - 6);
	counter_init(&c);
	/* Fed in pieces, as a reader does: expat holds the open tag throughout. */
	for (i = 0; i < len && xmlbound_feed(&c.xb, doc + i, len - i < 100000 ? len - i : 100000,
					     false); i += 100000)
		;
	EXPECT(i < len && c.xb.failed);
	EXPECT(strcmp(c.xb.why, "a tag, attribute or comment longer than 1 MiB") == 0);
	xmlbound_destroy(&c.xb);
	free(doc);
}

UNIT_TEST(xmlbound_says_malformed_xml_with_the_byte_order_hint_before_the_root)
{
	struct counter c;

	counter_init(&c);
	c.xb.bom_hint = true;
	EXPECT(!parse_all(&c, "x"));
	EXPECT(strstr(c.xb.why, "malformed XML: ") == c.xb.why);
	EXPECT(strstr(c.xb.why, "(does the byte-order mark match the encoding?)") != NULL);
	xmlbound_destroy(&c.xb);
	counter_init(&c);
	c.xb.bom_hint = true;
	EXPECT(!parse_all(&c, "<a><b></a>"));
	EXPECT(strstr(c.xb.why, "byte-order mark") == NULL);
	xmlbound_destroy(&c.xb);
}

UNIT_TEST(xmlbound_keeps_errno_when_the_reader_s_callback_fails)
{
	struct counter c;

	counter_init(&c);
	c.fail_on_end = true;
	EXPECT(!parse_all(&c, "<r><a/><b/></r>") && c.starts == 2 && c.ends == 1);
	errno = ENOMEM;
	EXPECT(strcmp(xmlbound_error(&c.xb), "out of memory") == 0 && errno == ENOMEM);
	/* Nothing more is parsed once failed. */
	EXPECT(!parse_all(&c, "<a/>") && c.starts == 2);
	xmlbound_destroy(&c.xb);
	xmlbound_destroy(&c.xb);
}
