/* SPDX-License-Identifier: 0BSD */
/** Unit tests of the GNU/BSD checksum-line formats (libcommon/sumfmt.c). */
#include "prelude.h"
#include "unit.h"
#include "sumfmt.h"
#include "hash.h"
#include <string.h>

#define E3 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static bool emits(int bsd, const char *path, size_t len, const char *expected)
{
	struct dbuf out;
	bool same;
	int rc;

	dbuf_init(&out);
	rc = bsd ? sumfmt_bsd_format(&out, hash_lookup("sha256"), E3, path, len)
		 : sumfmt_gnu_format(&out, E3, path, len);
	same = rc == 0 && out.len == strlen(expected) && memcmp(out.data, expected, out.len) == 0;
	dbuf_free(&out);
	return same;
}

/* Parse a C string with the given -a; returns 0 or -1. */
static int parse(struct sumfmt_line *line, const char *text, const char *forced,
		 const char **why)
{
	*why = NULL;
	return sumfmt_parse(line, text, strlen(text), forced ? hash_lookup(forced) : NULL, why);
}

UNIT_TEST(sumfmt_gnu_escapes_as_coreutils)
{
	/* What sha256sum 9.1 writes (checked on Debian 12). */
	EXPECT(emits(0, "plain", 5, E3 "  plain\n"));
	EXPECT(emits(0, "tab\there", 8, E3 "  tab\there\n"));
	EXPECT(emits(0, "a\\b", 3, "\\" E3 "  a\\\\b\n"));
	EXPECT(emits(0, "n\nl", 3, "\\" E3 "  n\\nl\n"));
	EXPECT(emits(0, "c\rr", 3, "\\" E3 "  c\\rr\n"));
}

UNIT_TEST(sumfmt_bsd_escapes_as_coreutils)
{
	EXPECT(emits(1, "plain", 5, "SHA256 (plain) = " E3 "\n"));
	EXPECT(emits(1, "a\\b", 3, "\\SHA256 (a\\\\b) = " E3 "\n"));
	EXPECT(emits(1, "x) = y", 6, "SHA256 (x) = y) = " E3 "\n"));
}

UNIT_TEST(sumfmt_detects_the_kind)
{
	EXPECT(sumfmt_detect(E3 "  a", strlen(E3) + 3) == SUMFMT_GNU);
	EXPECT(sumfmt_detect("\\" E3 " *a", strlen(E3) + 4) == SUMFMT_GNU);
	EXPECT(sumfmt_detect("MD5 (a) = 00", 12) == SUMFMT_BSD);
	EXPECT(sumfmt_detect("12\t34\tpath", 10) == SUMFMT_NONE);
	EXPECT(sumfmt_detect("# comment", 9) == SUMFMT_NONE);
	EXPECT(sumfmt_detect("just a path", 11) == SUMFMT_NONE);
}

UNIT_TEST(sumfmt_parses_gnu_lines)
{
	struct sumfmt_line line;
	const char *why;

	sumfmt_line_init(&line);
	EXPECT(parse(&line, E3 "  name", NULL, &why) == 0);
	EXPECT(line.kind == SUMFMT_GNU && line.algo == hash_lookup("sha256") && !line.binary);
	EXPECT(strcmp(line.hex, E3) == 0 && strcmp(line.path.data, "name") == 0);
	EXPECT(parse(&line, "\\" E3 " *a\\\\b\\nc\\r", NULL, &why) == 0);
	EXPECT(line.binary && line.path.len == 6 && memcmp(line.path.data, "a\\b\nc\r", 6) == 0);
	/* Raw backslashes without the leading one (xxhsum) stay as they are. */
	EXPECT(parse(&line, E3 "  a\\b", NULL, &why) == 0 && strcmp(line.path.data, "a\\b") == 0);
	/* Upper-case digits are accepted and lowered. */
	EXPECT(parse(&line, "D41D8CD98F00B204E9800998ECF8427E  x", NULL, &why) == 0);
	EXPECT(line.algo == hash_lookup("md5") && strcmp(line.hex, "d41d8cd98f00b204e9800998ecf8427e") == 0);
	/* 8 digits can only be xxh32; 16 are xxh64 or xxh3. */
	EXPECT(parse(&line, "0123abcd  x", NULL, &why) == 0 && line.algo == hash_lookup("xxh32"));
	EXPECT(parse(&line, "0123456789abcdef  x", NULL, &why) == -1 && why);
	EXPECT(parse(&line, "0123456789abcdef  x", "xxh3", &why) == 0 && line.algo == hash_lookup("xxh3"));
	/* -a picks xxh128 for 32 digits; a mismatching length is refused. */
	EXPECT(parse(&line, "d41d8cd98f00b204e9800998ecf8427e  x", "xxh128", &why) == 0);
	EXPECT(line.algo == hash_lookup("xxh128"));
	EXPECT(parse(&line, E3 "  x", "md5", &why) == -1 && why);
	/* A CRLF file's lines: one CR before the LF is dropped, as coreutils'
	 * -c drops it; an escaped \r stays in the name. */
	EXPECT(parse(&line, E3 "  name\r", NULL, &why) == 0 && strcmp(line.path.data, "name") == 0);
	EXPECT(parse(&line, "\\" E3 "  a\\r\r", NULL, &why) == 0);
	EXPECT(line.path.len == 2 && memcmp(line.path.data, "a\r", 2) == 0);
	EXPECT(parse(&line, E3 "  \r", NULL, &why) == -1 && why);
	sumfmt_line_free(&line);
}

UNIT_TEST(sumfmt_refuses_malformed_lines)
{
	static const char *const bad[] = {
		E3 "  ",                           /* no name */
		"abcdef012  x",                    /* odd number of digits */
		"abcdef0123  x",                   /* no algorithm of 10 digits */
		"\\" E3 "  a\\qb",                 /* bad escape */
		"\\" E3 "  a\\",                   /* escape at the end */
		"NOSUCH (a) = " E3,                /* unknown tag */
		"SHA256 (a) = 1234",               /* wrong length for the tag */
		"SHA256 (a) = " E3 "zz",           /* not hex */
		"SHA256 () = " E3,                 /* empty name */
	};
	struct sumfmt_line line;
	const char *why;
	size_t i;

	sumfmt_line_init(&line);
	for (i = 0; i < countof(bad); i++)
		EXPECT(parse(&line, bad[i], NULL, &why) == -1 && why != NULL);
	/* 128 digits: sha512 or blake2b, so -a is needed. */
	{
		char text[200];

		memset(text, 'a', 128);
		memcpy(text + 128, "  x", 4);
		EXPECT(parse(&line, text, NULL, &why) == -1 && why);
		EXPECT(parse(&line, text, "blake2b", &why) == 0 && line.algo == hash_lookup("blake2b"));
	}
	sumfmt_line_free(&line);
}

UNIT_TEST(sumfmt_parses_bsd_lines)
{
	struct sumfmt_line line;
	const char *why;

	sumfmt_line_init(&line);
	EXPECT(parse(&line, "SHA256 (x) = y) = " E3, NULL, &why) == 0);
	EXPECT(line.kind == SUMFMT_BSD && strcmp(line.path.data, "x) = y") == 0);
	EXPECT(parse(&line, "XXH64 (f) = 0123456789abcdef", "sha256", &why) == 0);
	EXPECT(line.algo == hash_lookup("xxh64"));
	EXPECT(parse(&line, "\\MD5 (a\\nb) = d41d8cd98f00b204e9800998ecf8427e", NULL, &why) == 0);
	EXPECT(strcmp(line.path.data, "a\nb") == 0);
	/* CRLF: the CR after the digest is dropped, not taken for a digit. */
	EXPECT(parse(&line, "SHA256 (x) = " E3 "\r", NULL, &why) == 0 && strcmp(line.hex, E3) == 0);
	sumfmt_line_free(&line);
}
