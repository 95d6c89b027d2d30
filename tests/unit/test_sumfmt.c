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

UNIT_TEST(sumfmt_reads_rhash_padded_tags_and_sfv_lines)
{
	struct sumfmt_line line;
	const char *why;

	sumfmt_line_init(&line);
	EXPECT(sumfmt_detect("MD5   (a) = 00", 14) == SUMFMT_BSD);
	EXPECT(parse(&line, "MD5   (a b) = d41d8cd98f00b204e9800998ecf8427e", NULL, &why) == 0);
	EXPECT(line.kind == SUMFMT_BSD && line.algo == hash_lookup("md5"));
	EXPECT(strcmp(line.path.data, "a b") == 0);
	EXPECT(parse(&line, "CRC32 (x) = 9f606eec", NULL, &why) == 0 && line.algo == hash_lookup("crc32"));
	/* SFV: the name is raw and runs to the last space; the CRC is crc32 whatever -a says. */
	EXPECT(sumfmt_detect("d/b, c.txt A6BAA6AF", 19) == SUMFMT_SFV);
	EXPECT(parse(&line, "d/b, c.txt A6BAA6AF", "sha256", &why) == 0);
	EXPECT(line.kind == SUMFMT_SFV && line.algo == hash_lookup("crc32"));
	EXPECT(strcmp(line.hex, "a6baa6af") == 0 && strcmp(line.path.data, "d/b, c.txt") == 0);
	EXPECT(sumfmt_detect("; a comment 12345678", 20) == SUMFMT_NONE);
	EXPECT(sumfmt_detect("1\t2\tp 12345678", 14) == SUMFMT_NONE);
	EXPECT(sumfmt_detect(" 12345678", 9) == SUMFMT_NONE);
	/* A bare 8-digit GNU line is still xxh32, never crc32. */
	EXPECT(parse(&line, "02cc5d05  x", NULL, &why) == 0 && line.algo == hash_lookup("xxh32"));
	sumfmt_line_free(&line);
}

UNIT_TEST(sumfmt_sfv_round_trip)
{
	struct sumfmt_line line;
	struct dbuf out;
	const char *why;

	sumfmt_line_init(&line);
	dbuf_init(&out);
	EXPECT(sumfmt_sfv_format(&out, "9f606eec", "a b.txt", 7) == 0);
	EXPECT(out.len == 17 && memcmp(out.data, "a b.txt 9F606EEC\n", 17) == 0);
	EXPECT(sumfmt_parse(&line, out.data, out.len - 1, NULL, &why) == 0);
	EXPECT(strcmp(line.path.data, "a b.txt") == 0 && strcmp(line.hex, "9f606eec") == 0);
	EXPECT(sumfmt_sfv_format(&out, "9f606eec", ";x", 2) == -1);
	EXPECT(sumfmt_sfv_format(&out, "9f606eec", "a\nb", 3) == -1);
	dbuf_free(&out);
	sumfmt_line_free(&line);
}

UNIT_TEST(sumfmt_tells_nul_terminated_lines)
{
	EXPECT(sumfmt_nul_terminated(E3 "  a\0" E3 "  b\0", 2 * (64 + 4)));
	EXPECT(sumfmt_nul_terminated("SHA256 (a) = " E3 "\0", 13 + 64 + 1));
	EXPECT(!sumfmt_nul_terminated(E3 "  a\n" E3 "  b\0", 2 * (64 + 4)));
	EXPECT(!sumfmt_nul_terminated("t/a\0t/b\0", 8));
	EXPECT(!sumfmt_nul_terminated(E3 "  a", 64 + 3));
}

UNIT_TEST(sumfmt_reads_hashdeep)
{
	static const char columns[] = "%%%% size,md5,tiger,sha256,filename";
	static const char data[] = "6,9f9f90dbe3e5ee1218c86b8839db1995,"
				   "34b494e082fb0da766ca70c22706988e56515a5dcdd88ece," E3 ",d/a, b.txt";
	static const char *const bad_headers[] = {
		"%%%% HASHDEEP-2.0", "%%%% md5,filename", "%%%% size,md5,name",
		"%%%% size,tiger,filename", "%%%% size,md5,md5,filename", "%%%% size,,filename",
	};
	static const char *const bad_lines[] = {
		"x,9f9f90dbe3e5ee1218c86b8839db1995,00," E3 ",a",      /* size */
		"6,9f9f90dbe3e5ee1218c86b8839db1995,00," E3,            /* no name */
		"6,9f9f90dbe3e5ee1218c86b8839db1995,00," E3 ",",        /* empty name */
		"6,9f9f90dbe3e5ee1218c86b8839db19,00," E3 ",a",         /* short md5 */
		"6,9f9f90dbe3e5ee1218c86b8839db1995,0g," E3 ",a",       /* bad hex */
		"6,9f9f90dbe3e5ee1218c86b8839db1995",                   /* too few fields */
		"99999999999999999999,9f9f90dbe3e5ee1218c86b8839db1995,00," E3 ",a",
	};
	struct sumfmt_columns cols;
	struct sumfmt_entry entry;
	const char *why, *hex[2];
	struct dbuf out;
	size_t i;

	sumfmt_entry_init(&entry);
	dbuf_init(&out);
	EXPECT(sumfmt_hashdeep_header(&cols, "%%%% HASHDEEP-1.0", 17, &why) == 0);
	EXPECT(sumfmt_hashdeep_header(&cols, columns, strlen(columns), &why) == 1);
	EXPECT(cols.count == 3 && cols.algos[1] == NULL && cols.algos[2] == hash_lookup("sha256"));
	EXPECT(sumfmt_hashdeep_parse(&entry, &cols, data, strlen(data), &why) == 0);
	EXPECT(entry.size == 6 && entry.count == 2 && entry.algos[0] == hash_lookup("md5"));
	EXPECT(strcmp(entry.hex[1], E3) == 0 && strcmp(entry.path.data, "d/a, b.txt") == 0);
	for (i = 0; i < countof(bad_headers); i++)
		EXPECT(sumfmt_hashdeep_header(&cols, bad_headers[i], strlen(bad_headers[i]), &why) == -1 &&
		       why);
	for (i = 0; i < countof(bad_lines); i++)
		EXPECT(sumfmt_hashdeep_parse(&entry, &cols, bad_lines[i], strlen(bad_lines[i]), &why) ==
			       -1 && why);
	/* Written back with only the known columns, it reads back the same. */
	EXPECT(sumfmt_hashdeep_header(&cols, "%%%% size,md5,sha256,filename", 29, &why) == 1);
	hex[0] = "9f9f90dbe3e5ee1218c86b8839db1995";
	hex[1] = E3;
	EXPECT(sumfmt_hashdeep_format(&out, 6, 2, hex, "x,y", 3) == 0);
	EXPECT(sumfmt_hashdeep_parse(&entry, &cols, out.data, out.len - 1, &why) == 0);
	EXPECT(strcmp(entry.path.data, "x,y") == 0 && entry.size == 6 && entry.count == 2);
	dbuf_free(&out);
	sumfmt_entry_free(&entry);
}
