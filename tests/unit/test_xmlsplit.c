/* SPDX-License-Identifier: 0BSD */
/**
 * The scan for cut points (xmlsplit.h): a point before each piece of markup
 * in <hashlist><hashes> and nowhere else (not inside a comment, CDATA, a
 * processing instruction or a quoted value, not in another element), the
 * same whichever way the bytes are handed to it, and none at all once the
 * document could mean something else in a piece alone.
 */
#include "prelude.h"
#include "unit.h"
#include "dbuf.h"
#include "xmlsplit.h"
#include <stdio.h>
#include <string.h>

/* The offsets of every point in doc, the bytes given step at a time, as
 * text ("12 40 "). */
static void points(const char *doc, size_t step, struct dbuf *out)
{
	struct xmlsplit s;
	size_t len = strlen(doc), base = 0;

	dbuf_clear(out);
	dbuf_puts(out, "");
	xmlsplit_init(&s, "hashlist", "hashes");
	while (base < len) {
		size_t n = len - base < step ? len - base : step, at = 0;

		while (at < n) {
			size_t found = xmlsplit_scan(&s, doc + base + at, n - at, 0);

			at += found;
			if (at < n) {
				dbuf_printf(out, "%zu ", base + at);
				/* Step over the '<' as the next piece's first byte. */
				at += xmlsplit_scan(&s, doc + base + at, 1, 1);
			}
		}
		base += n;
	}
}

/* doc's points, the same for every way of handing it over, are want. */
static void expect_points(const char *doc, const char *want)
{
	struct dbuf got, first;

	dbuf_init(&got);
	dbuf_init(&first);
	points(doc, strlen(doc) + 1, &first);
	EXPECT(strcmp(first.data, want) == 0);
	for (size_t step = 1; step < 9; step++) {
		points(doc, step, &got);
		EXPECT(strcmp(got.data, first.data) == 0);
	}
	dbuf_free(&got);
	dbuf_free(&first);
}

UNIT_TEST(xmlsplit_finds_the_markup_in_the_body_only)
{
	expect_points("<hashlist a='>'><creatorinfo><x/></creatorinfo><hashes>"
		      "<hash b=\"/>\"><p>a</p></hash>\n<!-- <x> -->"
		      "<![CDATA[<y>]]><?pi <z>?><e/></hashes><hashes><h/></hashes></hashlist>",
		      "55 84 96 111 121 125 142 146 ");
}

UNIT_TEST(xmlsplit_needs_the_root_and_the_body_by_name)
{
	expect_points("<hashlist><other><a/><b/></other></hashlist>", "");
	expect_points("<root><hashes><a/><b/></hashes></root>", "");
	expect_points("<hashlist><x:hashes><a/></x:hashes></hashlist>", "");
	expect_points("<hashlist><hashes/><a/></hashlist>", "");
}

UNIT_TEST(xmlsplit_gives_up_where_a_piece_could_mean_something_else)
{
	static const char body[] = "<hashlist><hashes><a/><b/></hashes></hashlist>";
	static const char *const heads[] = {
		"<!DOCTYPE hashlist [<!ENTITY e 'x'>]>",
		"<?xml version='1.0' encoding='ISO-8859-1'?>",
		"<?xml version=\"1.0\" encoding = \"UTF-16\"?>",
		"\xfe\xff",
		"\xff\xfe",
	};
	char doc[256];

	expect_points("<?xml version='1.0' encoding=\"utf-8\"?>\n<hashlist><hashes><a/></hashes></hashlist>",
		      "57 61 ");
	expect_points("\xef\xbb\xbf<?xml version='1.0'?><hashlist><hashes><a/></hashes></hashlist>",
		      "42 46 ");
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		snprintf(doc, sizeof(doc), "%s%s", heads[i], body);
		expect_points(doc, "");
	}
	/* Any other "<!" in the body: no points after it. */
	expect_points("<hashlist><hashes><a/><!ELEMENT x ANY><b/><c/></hashes></hashlist>", "18 22 ");
}
