/* SPDX-License-Identifier: 0BSD */
/** Unit tests of the record codec (libcommon/record.c and escape.c). */
#include "prelude.h"
#include "unit.h"
#include "record.h"
#include "dbuf.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Parse a C string; returns the kind, and *why on -1. */
static int parse(struct rec *rec, const char *line, const char **why)
{
	*why = NULL;
	return rec_parse(rec, line, strlen(line), why);
}

/* Format rec and compare with the expected line (LF included). */
static bool formats_as(const struct rec *rec, const char *expected)
{
	struct dbuf out;
	bool same;

	dbuf_init(&out);
	same = rec_format(rec, &out) == 0 && out.len == strlen(expected) &&
	       memcmp(out.data, expected, out.len) == 0;
	if (!same)
		fprintf(stderr, "unit-tests: formatted as [%s], expected [%s]\n",
			out.data ? out.data : "(null)", expected);
	dbuf_free(&out);
	return same;
}

/* The escaped form of len bytes, through rec_escape, in a static buffer. */
static const char *escaped(const char *bytes, size_t len)
{
	static char text[1024];
	struct dbuf out;

	dbuf_init(&out);
	PT_ASSERT(rec_escape(&out, bytes, len) == 0 && out.len < sizeof(text));
	memcpy(text, out.data, out.len + 1);
	dbuf_free(&out);
	return text;
}

UNIT_TEST(record_escape_table)
{
	EXPECT(strcmp(escaped("\\", 1), "\\\\") == 0);
	EXPECT(strcmp(escaped("\t", 1), "\\t") == 0);
	EXPECT(strcmp(escaped("\n", 1), "\\n") == 0);
	EXPECT(strcmp(escaped("\r", 1), "\\r") == 0);
	EXPECT(strcmp(escaped("\x01", 1), "\\x01") == 0);
	EXPECT(strcmp(escaped("\x1b", 1), "\\x1b") == 0);
	EXPECT(strcmp(escaped("\x7f", 1), "\\x7f") == 0);
	EXPECT(strcmp(escaped("\x80\xff\xc3(", 4), "\x80\xff\xc3(") == 0);
	EXPECT(strcmp(escaped(" #:%", 4), " #:%") == 0);
	/* An ordinary name is written unchanged, so cut -f3 works on it. */
	EXPECT(strcmp(escaped("dir/file name.txt", 17), "dir/file name.txt") == 0);
}

/*
 * rec_escape tests eight bytes at a time: each byte value that needs an
 * escape, and its clean neighbours 0x20, 0x5b, 0x5d, 0x7e, 0x80 and 0xff,
 * at every offset of a long name (within a word, at its edges, in the tail)
 * and next to high bytes that could hide it in a borrow, comes out exactly
 * as the byte-by-byte table says.
 */
UNIT_TEST(record_escape_finds_every_byte_at_every_offset)
{
	static const unsigned char probes[] = {
		0x01, 0x09, 0x0a, 0x0d, 0x1f, 0x5c, 0x7f, 0x20, 0x5b, 0x5d, 0x7e, 0x80, 0xff,
	};
	char name[40], expect[64];
	size_t i, pos, n;

	for (i = 0; i < sizeof(probes); i++) {
		unsigned char c = probes[i];

		for (pos = 0; pos < sizeof(name); pos++) {
			memset(name, pos % 2 ? 'a' : '\xfe', sizeof(name));
			name[pos] = (char)c;
			n = 0;
			for (size_t j = 0; j < sizeof(name); j++) {
				unsigned char b = (unsigned char)name[j];

				if (b == '\\' || b == '\t' || b == '\n' || b == '\r')
					n += (size_t)snprintf(expect + n, sizeof(expect) - n, "\\%c",
							      b == '\\' ? '\\' : b == '\t' ? 't' : b == '\n' ? 'n' : 'r');
				else if (b < 0x20 || b == 0x7f)
					n += (size_t)snprintf(expect + n, sizeof(expect) - n, "\\x%02x", b);
				else
					expect[n++] = (char)b;
			}
			expect[n] = '\0';
			EXPECT(strcmp(escaped(name, sizeof(name)), expect) == 0);
		}
	}
}

UNIT_TEST(record_every_byte_round_trips_in_path_and_value)
{
	struct rec rec;
	struct dbuf line, via_escape;
	char all[255];
	const char *why, *value;
	size_t i, value_len;
	int c;

	rec_init(&rec);
	dbuf_init(&line);
	dbuf_init(&via_escape);
	for (c = 1; c < 256; c++) {
		char path[3] = { 'a', (char)c, 'z' };

		dbuf_clear(&line);
		EXPECT(rec_emit_head(&line, 1, 2, path, 3) == 0);
		EXPECT(rec_emit_attr(&line, "link", path, 3) == 0);
		/* The fast emitter and rec_escape must agree byte for byte. */
		dbuf_clear(&via_escape);
		EXPECT(rec_escape(&via_escape, path, 3) == 0);
		EXPECT(strstr(line.data, via_escape.data) != NULL);
		EXPECT(memchr(line.data, '\t', line.len) != NULL);
		EXPECT(rec_parse(&rec, line.data, line.len, &why) == REC_ENTRY);
		EXPECT(rec_path_len(&rec) == 3 && memcmp(rec_path(&rec), path, 3) == 0);
		value = rec_attr_get(&rec, "link", &value_len);
		EXPECT(value && value_len == 3 && memcmp(value, path, 3) == 0);
	}
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)(i + 1);
	dbuf_clear(&line);
	EXPECT(rec_emit_head(&line, UINT64_MAX, 0, all, sizeof(all)) == 0);
	EXPECT(rec_emit_attr(&line, "x-all", all, sizeof(all)) == 0);
	EXPECT(rec_emit_end(&line) == 0);
	/* One line: no raw TAB, LF or CR survives escaping (only the two separators). */
	EXPECT(memchr(line.data, '\n', line.len) == line.data + line.len - 1);
	EXPECT(memchr(line.data, '\r', line.len) == NULL);
	EXPECT(rec_parse(&rec, line.data, line.len - 1, &why) == REC_ENTRY);
	EXPECT(rec.ino == UINT64_MAX && rec.size == 0);
	EXPECT(rec_path_len(&rec) == sizeof(all) && memcmp(rec_path(&rec), all, sizeof(all)) == 0);
	value = rec_attr_get(&rec, "x-all", &value_len);
	EXPECT(value && value_len == sizeof(all) && memcmp(value, all, sizeof(all)) == 0);
	/* And formatting the parsed record gives the same line back. */
	dbuf_clear(&via_escape);
	EXPECT(rec_format(&rec, &via_escape) == 0);
	EXPECT(via_escape.len == line.len && memcmp(via_escape.data, line.data, line.len) == 0);
	dbuf_free(&line);
	dbuf_free(&via_escape);
	rec_free(&rec);
}

UNIT_TEST(record_unescape_accepts_uppercase_hex_and_rejects_bad_escapes)
{
	struct dbuf out;
	const char *why;
	static const char *const bad[] = {
		"\\", "a\\", "\\q", "\\x", "\\x4", "\\x4g", "\\xg4", "\\x00", "\\ ", "\\T", "\\N",
	};
	size_t i;

	dbuf_init(&out);
	EXPECT(rec_unescape(&out, "\\x1B\\x7F", 8, &why) == 0);
	EXPECT(out.len == 2 && out.data[0] == 0x1b && out.data[1] == 0x7f);
	for (i = 0; i < countof(bad); i++) {
		dbuf_clear(&out);
		why = NULL;
		EXPECT(rec_unescape(&out, bad[i], strlen(bad[i]), &why) == -1);
		EXPECT(why && strcmp(why, "bad escape") == 0);
	}
	dbuf_free(&out);
}

UNIT_TEST(record_parse_fields_and_numbers)
{
	struct rec rec;
	const char *why;

	rec_init(&rec);
	EXPECT(parse(&rec, "12\t345\tdir/a\\tb", &why) == REC_ENTRY);
	EXPECT(rec.ino == 12 && rec.size == 345 && !rec.plain);
	EXPECT(strcmp(rec_path(&rec), "dir/a\tb") == 0 && rec_attr_count(&rec) == 0);
	EXPECT(parse(&rec, "18446744073709551615\t0\tx", &why) == REC_ENTRY);
	EXPECT(rec.ino == UINT64_MAX && rec.size == 0);
	EXPECT(parse(&rec, "007\t0010\tx", &why) == REC_ENTRY);
	EXPECT(rec.ino == 7 && rec.size == 10);
	/* A path may hold ':' and '#' and spaces: only TAB separates fields. */
	EXPECT(parse(&rec, "1\t2\t#a: b \tk:v", &why) == REC_ENTRY);
	EXPECT(strcmp(rec_path(&rec), "#a: b ") == 0);
	rec_free(&rec);
}

UNIT_TEST(record_malformed_lines_name_the_problem)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
		{ "1\tpath", "too few fields" },
		{ "\t", "too few fields" },
		{ "a\t1\tp", "bad inode number" },
		{ "\t1\tp", "bad inode number" },
		{ "-1\t1\tp", "bad inode number" },
		{ "+1\t1\tp", "bad inode number" },
		{ " 1\t1\tp", "bad inode number" },
		{ "0x10\t1\tp", "bad inode number" },
		{ "18446744073709551616\t1\tp", "bad inode number" },
		{ "99999999999999999999\t1\tp", "bad inode number" },
		{ "1\t\tp", "bad size" },
		{ "1\t-5\tp", "bad size" },
		{ "1\t5 \tp", "bad size" },
		{ "1\t18446744073709551616\tp", "bad size" },
		{ "1\t2\t", "empty path" },
		{ "1\t2\t\tk:v", "empty path" },
		{ "1\t2\ta\\qb", "bad escape in path" },
		{ "1\t2\ta\\", "bad escape in path" },
		{ "1\t2\ta\\x0", "bad escape in path" },
		{ "1\t2\ta\\x00b", "bad escape in path" },
		{ "1\t2\tp\t", "empty attribute" },
		{ "1\t2\tp\t\tk:v", "empty attribute" },
		{ "1\t2\tp\tnocolon", "bad attribute" },
		{ "1\t2\tp\t:v", "bad attribute key" },
		{ "1\t2\tp\tKey:v", "bad attribute key" },
		{ "1\t2\tp\t-k:v", "bad attribute key" },
		{ "1\t2\tp\tk y:v", "bad attribute key" },
		{ "1\t2\tp\ta23456789012345678901234567890123:v", "bad attribute key" },
		{ "1\t2\tp\tk:a\\zb", "bad escape in attribute" },
		{ "1\t2\tp\tsha256:abc", "bad hex for sha256" },
		{ "1\t2\tp\tsha256:", "bad hex for sha256" },
		{ "1\t2\tp\tsha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
		  "bad hex for sha256" },
		{ "1\t2\tp\tsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550",
		  "bad hex for sha256" },
		{ "1\t2\tp\tsha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		  "bad hex for sha256" },
		{ "1\t2\tp\tmd5:d41d8cd98f00b204e9800998ecf8427", "bad hex for md5" },
		{ "1\t2\tp\txxh128:0", "bad hex for xxh128" },
		{ "1\t2\tp\txxh3:\\x41", "bad hex for xxh3" },
		{ "1\t2\tp\tsha3-512:00", "bad hex for sha3-512" },
		{ "1\t2\tp\tblake2s:00", "bad hex for blake2s" },
	};
	struct rec rec;
	const char *why;
	size_t i;

	rec_init(&rec);
	for (i = 0; i < countof(cases); i++) {
		int kind = parse(&rec, cases[i].line, &why);

		EXPECT(kind == -1);
		EXPECT(kind != -1 || errno == EINVAL);
		if (kind != -1 || !why || strcmp(why, cases[i].why) != 0) {
			fprintf(stderr, "unit-tests: line %zu: got %d [%s], expected [%s]\n", i, kind,
				why ? why : "(null)", cases[i].why);
			EXPECT(!"malformed line diagnosed as documented");
		}
	}
	/* A raw NUL can never be part of a line. */
	EXPECT(rec_parse(&rec, "1\t2\ta\0b", 7, &why) == -1 && strcmp(why, "NUL byte in line") == 0);
	EXPECT(rec_parse(&rec, "a\0b", 3, &why) == -1 && strcmp(why, "NUL byte in line") == 0);
	/* The record is still usable after an error. */
	EXPECT(parse(&rec, "1\t2\tp", &why) == REC_ENTRY && strcmp(rec_path(&rec), "p") == 0);
	rec_free(&rec);
}

UNIT_TEST(record_digests_of_the_right_form_are_accepted)
{
	struct rec rec;
	const char *why;

	rec_init(&rec);
	EXPECT(parse(&rec, "1\t0\tp\tsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
			   "\txxh32:02cc5d05\txxh64:ef46db3751d8e999\txxh3:2d06800538d394c2"
			   "\txxh128:99aa06d3014798d86001c324468d497f\tmd5:d41d8cd98f00b204e9800998ecf8427e",
		     &why) == REC_ENTRY);
	EXPECT(rec_attr_count(&rec) == 6);
	/* Unknown keys are not checked, whatever their value looks like. */
	EXPECT(parse(&rec, "1\t0\tp\tsha257:XYZ\tsha256x:1\tcrc64:\\x41", &why) == REC_ENTRY);
	EXPECT(strcmp(rec_attr_get(&rec, "crc64", NULL), "A") == 0);
	rec_free(&rec);
}

UNIT_TEST(record_comment_blank_and_plain_lines)
{
	struct rec rec;
	const char *why;

	rec_init(&rec);
	EXPECT(parse(&rec, "", &why) == REC_BLANK);
	EXPECT(parse(&rec, "#", &why) == REC_COMMENT);
	EXPECT(parse(&rec, "# ptools seal v1", &why) == REC_COMMENT);
	EXPECT(parse(&rec, "#seal\tsha256:00", &why) == REC_COMMENT);
	/* A line with no TAB is a path as find prints it: raw, never unescaped. */
	EXPECT(parse(&rec, "./a\\tb\\x41", &why) == REC_ENTRY);
	EXPECT(rec.plain && rec.ino == 0 && rec.size == 0 && rec_attr_count(&rec) == 0);
	EXPECT(strcmp(rec_path(&rec), "./a\\tb\\x41") == 0);
	EXPECT(parse(&rec, " ", &why) == REC_ENTRY && rec.plain && strcmp(rec_path(&rec), " ") == 0);
	EXPECT(parse(&rec, "a\rb\x01\xff", &why) == REC_ENTRY && rec_path_len(&rec) == 5);
	/* A plain record is written as a full record. */
	rec.ino = 5;
	rec.size = 6;
	EXPECT(rec_attr_set(&rec, "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", 40) == 0);
	EXPECT(formats_as(&rec, "5\t6\ta\\rb\\x01\xff\tsha1:da39a3ee5e6b4b0d3255bfef95601890afd80709\n"));
	/* A parse replaces everything, the plain flag included. */
	EXPECT(parse(&rec, "1\t2\tq", &why) == REC_ENTRY && !rec.plain && rec_attr_count(&rec) == 0);
	rec_free(&rec);
}

UNIT_TEST(record_unknown_keys_pass_through_in_order)
{
	static const char line[] = "1\t2\tp\tzeta:1\talpha:\\t\tsha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"
				   "\tzeta:2\tx.y-z_0:";
	struct rec rec;
	const char *why, *key, *value;
	size_t len;

	rec_init(&rec);
	EXPECT(parse(&rec, line, &why) == REC_ENTRY);
	EXPECT(rec_attr_count(&rec) == 5);
	rec_attr_at(&rec, 1, &key, &value, &len);
	EXPECT(strcmp(key, "alpha") == 0 && strcmp(value, "\t") == 0 && len == 1);
	rec_attr_at(&rec, 4, &key, &value, &len);
	EXPECT(strcmp(key, "x.y-z_0") == 0 && len == 0 && value[0] == '\0');
	/* Duplicates are kept; get finds the first. */
	EXPECT(strcmp(rec_attr_get(&rec, "zeta", NULL), "1") == 0);
	EXPECT(formats_as(&rec, "1\t2\tp\tzeta:1\talpha:\\t\tsha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"
				"\tzeta:2\tx.y-z_0:\n"));
	rec_free(&rec);
}

UNIT_TEST(record_attribute_set_replace_remove_keep_order)
{
	struct rec rec;
	const char *why, *value;
	size_t len;

	rec_init(&rec);
	EXPECT(parse(&rec, "1\t2\tp\ttype:f\tzeta:1\tmode:0644\tzeta:2", &why) == REC_ENTRY);
	/* Replacing keeps the position (the first of duplicates). */
	EXPECT(rec_attr_set(&rec, "zeta", "a much longer value than before", 31) == 0);
	EXPECT(rec_attr_set(&rec, "type", "d", 1) == 0);
	/* A new key goes at the end. */
	EXPECT(rec_attr_set(&rec, "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", 40) == 0);
	EXPECT(formats_as(&rec, "1\t2\tp\ttype:d\tzeta:a much longer value than before\tmode:0644"
				"\tzeta:2\tsha1:da39a3ee5e6b4b0d3255bfef95601890afd80709\n"));
	/* Remove drops every attribute of that name and nothing else. */
	EXPECT(rec_attr_remove(&rec, "zeta") == 2);
	EXPECT(rec_attr_remove(&rec, "zeta") == 0);
	EXPECT(rec_attr_remove(&rec, "nosuch") == 0);
	EXPECT(formats_as(&rec, "1\t2\tp\ttype:d\tmode:0644\tsha1:da39a3ee5e6b4b0d3255bfef95601890afd80709\n"));
	/* Values with escapes are stored decoded and written escaped. */
	EXPECT(rec_attr_set(&rec, "link", "a\tb\\c\n", 6) == 0);
	value = rec_attr_get(&rec, "link", &len);
	EXPECT(value && len == 6 && memcmp(value, "a\tb\\c\n", 6) == 0);
	EXPECT(formats_as(&rec, "1\t2\tp\ttype:d\tmode:0644\tsha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"
				"\tlink:a\\tb\\\\c\\n\n"));
	/* Invalid keys and NUL bytes are refused. */
	errno = 0;
	EXPECT(rec_attr_set(&rec, "Bad", "v", 1) == -1 && errno == EINVAL);
	EXPECT(rec_attr_set(&rec, "", "v", 1) == -1 && errno == EINVAL);
	EXPECT(rec_attr_set(&rec, "ok", "a\0b", 3) == -1 && errno == EINVAL);
	EXPECT(rec_attr_set(&rec, "empty", "", 0) == 0);
	EXPECT(rec_attr_get(&rec, "empty", &len) && len == 0);
	EXPECT(rec_attr_count(&rec) == 5);
	rec_free(&rec);
}

UNIT_TEST(record_attribute_set_from_its_own_storage)
{
	struct rec rec;
	const char *why, *key, *value;
	size_t len, i;

	rec_init(&rec);
	EXPECT(parse(&rec, "1\t2\tp\ta:first value\tb:x", &why) == REC_ENTRY);
	/* Copying one attribute's value to a new key, many times, so storage moves. */
	for (i = 0; i < 100; i++) {
		char key_name[16];

		snprintf(key_name, sizeof(key_name), "k%zu", i);
		value = rec_attr_get(&rec, "a", &len);
		EXPECT(rec_attr_set(&rec, key_name, value, len) == 0);
	}
	EXPECT(strcmp(rec_attr_get(&rec, "k99", NULL), "first value") == 0);
	/* Growing b from a's bytes. */
	value = rec_attr_get(&rec, "a", &len);
	EXPECT(rec_attr_set(&rec, "b", value, len) == 0);
	EXPECT(strcmp(rec_attr_get(&rec, "b", NULL), "first value") == 0);
	/* A key taken from the record itself. */
	rec_attr_at(&rec, 0, &key, &value, &len);
	EXPECT(rec_attr_set(&rec, key, "second", 6) == 0);
	EXPECT(strcmp(rec_attr_get(&rec, "a", NULL), "second") == 0);
	/* The path from itself, and a plain path from an attribute. */
	EXPECT(rec_set_path(&rec, "dir/name", 8) == 0);
	EXPECT(rec_set_path(&rec, rec_path(&rec) + 4, 4) == 0);
	EXPECT(strcmp(rec_path(&rec), "name") == 0);
	value = rec_attr_get(&rec, "k5", &len);
	EXPECT(rec_set_plain(&rec, value, len) == 0);
	EXPECT(rec.plain && strcmp(rec_path(&rec), "first value") == 0 && rec_attr_count(&rec) == 0);
	EXPECT(rec_set_path(&rec, "", 0) == -1 && errno == EINVAL);
	EXPECT(rec_set_path(&rec, "a\0b", 3) == -1 && errno == EINVAL);
	rec_free(&rec);
}

UNIT_TEST(record_repeated_edits_stay_bounded)
{
	struct rec rec;
	char value[200];
	size_t i;

	rec_init(&rec);
	EXPECT(rec_set_path(&rec, "p", 1) == 0);
	memset(value, 'v', sizeof(value));
	for (i = 0; i < 20000; i++) {
		EXPECT(rec_attr_set(&rec, "grow", value, 1 + i % sizeof(value)) == 0);
		EXPECT(rec_attr_set(&rec, "other", value, 10) == 0);
		if (i % 7 == 0)
			EXPECT(rec_attr_remove(&rec, "other") == 1);
	}
	EXPECT(rec.attr_text.cap < 64 * 1024);
	EXPECT(rec_attr_get(&rec, "grow", NULL) != NULL);
	rec_free(&rec);
	rec_free(&rec); /* a freed record is empty and may be freed again */
	rec_free(NULL);
}

UNIT_TEST(record_key_syntax)
{
	EXPECT(rec_key_valid("sha512-256", 10));
	EXPECT(rec_key_valid("x.y_z-0", 7));
	EXPECT(rec_key_valid("0", 1));
	EXPECT(rec_key_valid("a2345678901234567890123456789012", REC_KEY_MAX));
	EXPECT(!rec_key_valid("a23456789012345678901234567890123", REC_KEY_MAX + 1));
	EXPECT(!rec_key_valid("", 0));
	EXPECT(!rec_key_valid("_a", 2));
	EXPECT(!rec_key_valid(".a", 2));
	EXPECT(!rec_key_valid("A", 1));
	EXPECT(!rec_key_valid("a:b", 3));
	EXPECT(!rec_key_valid("a\tb", 3));
}

UNIT_TEST(record_emitters_write_the_documented_line)
{
	struct dbuf out;

	dbuf_init(&out);
	EXPECT(rec_emit_head(&out, 0, 18446744073709551615u, "a\\b", 3) == 0);
	EXPECT(rec_emit_attr(&out, "type", "f", 1) == 0);
	EXPECT(rec_emit_attr(&out, "link", "x\ny", 3) == 0);
	EXPECT(rec_emit_end(&out) == 0);
	EXPECT(strcmp(out.data, "0\t18446744073709551615\ta\\\\b\ttype:f\tlink:x\\ny\n") == 0);
	/* Appending, never overwriting. */
	EXPECT(rec_emit_head(&out, 7, 8, "z", 1) == 0 && rec_emit_end(&out) == 0);
	EXPECT(strcmp(out.data, "0\t18446744073709551615\ta\\\\b\ttype:f\tlink:x\\ny\n7\t8\tz\n") == 0);
	dbuf_free(&out);
}

UNIT_TEST(record_format_refuses_a_record_without_path)
{
	struct rec rec;
	struct dbuf out;

	rec_init(&rec);
	dbuf_init(&out);
	EXPECT(dbuf_puts(&out, "keep") == 0);
	errno = 0;
	EXPECT(rec_format(&rec, &out) == -1 && errno == EINVAL);
	EXPECT(out.len == 4);
	dbuf_free(&out);
	rec_free(&rec);
}

UNIT_TEST(record_fast_escaper_agrees_with_rec_escape_at_every_position)
{
	struct dbuf fast, slow;
	char text[24];
	size_t pos;
	int c;

	dbuf_init(&fast);
	dbuf_init(&slow);
	/* The emitter copies clean 8-byte words at once: put each byte at each
	 * offset of a word, next to bytes that differ from it by one bit. */
	for (c = 1; c < 256; c++) {
		for (pos = 0; pos < sizeof(text); pos++) {
			memset(text, (c ^ 0x01) ? (c ^ 0x01) : 'a', sizeof(text));
			text[pos] = (char)c;
			dbuf_clear(&fast);
			dbuf_clear(&slow);
			EXPECT(rec_emit_attr(&fast, "k", text, sizeof(text)) == 0);
			EXPECT(dbuf_append(&slow, "\tk:", 3) == 0);
			EXPECT(rec_escape(&slow, text, sizeof(text)) == 0);
			if (fast.len != slow.len || memcmp(fast.data, slow.data, fast.len) != 0) {
				fprintf(stderr, "unit-tests: byte 0x%02x at %zu escaped differently\n", c, pos);
				EXPECT(!"fast and slow escapers agree");
			}
		}
	}
	dbuf_free(&fast);
	dbuf_free(&slow);
}

UNIT_TEST(record_numbers_are_written_in_plain_decimal)
{
	struct dbuf out;
	char expected[64];
	uint64_t value = 1, values[2 + 4 * 20];
	size_t n = 0, i;

	dbuf_init(&out);
	values[n++] = 0;
	values[n++] = UINT64_MAX;
	for (i = 0; i < 20; i++, value *= 10) {
		values[n++] = value - 1;
		values[n++] = value;
		values[n++] = value + 1;
		values[n++] = value * 7 + 3;
	}
	for (i = 0; i < n; i++) {
		dbuf_clear(&out);
		EXPECT(rec_emit_head(&out, values[i], UINT64_MAX - values[i], "p", 1) == 0);
		snprintf(expected, sizeof(expected), "%ju\t%ju\tp", (uintmax_t)values[i],
			 (uintmax_t)(UINT64_MAX - values[i]));
		EXPECT(strcmp(out.data, expected) == 0);
	}
	dbuf_free(&out);
}

UNIT_TEST(record_times_are_written_as_printf_would)
{
	/* rec_time_into must write exactly "%lld.%09ld": readers (pverify
	 * --sizes-only, phash --reuse) compare the text of mtimes from every tool. */
	static const struct timespec times[] = {
		{ 0, 0 }, { 0, 1 }, { 1, 999999999 }, { 1700000000, 123456789 },
		{ 9, 100000000 }, { 10, 0 }, { 99, 99 }, { -1, 500000000 }, { -1, 0 },
		{ -86400 * 365, 42 }, { INT64_MAX, 999999999 }, { INT64_MIN, 0 },
		{ INT64_MIN + 1, 7 }, { 12345678901234, 10 },
	};
	char got[REC_TIME_MAX + 1], want[64];
	size_t i, n;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		n = rec_time_into(got, &times[i]);
		EXPECT(n <= REC_TIME_MAX);
		got[n] = '\0';
		snprintf(want, sizeof(want), "%lld.%09ld", (long long)times[i].tv_sec,
			 (long)times[i].tv_nsec);
		EXPECT(strcmp(got, want) == 0);
	}
}
