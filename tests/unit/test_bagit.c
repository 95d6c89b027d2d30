/* SPDX-License-Identifier: 0BSD */
/** Unit tests of BagIt's parsers and path encoding (libcommon/bagit.c). */
#include "prelude.h"
#include "unit.h"
#include "bagit.h"
#include "hash.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define E3 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static bool decodes(const char *line, bool decode, const char *want, size_t want_len)
{
	char hex[HASH_HEX_MAX + 1];
	const char *why = NULL;
	struct dbuf path;
	bool same;

	dbuf_init(&path);
	same = bagit_parse_manifest_line(line, strlen(line), hash_lookup("sha256"), decode, hex,
					 &path, &why) == 0 &&
	       strcmp(hex, E3) == 0 && path.len == want_len && memcmp(path.data, want, want_len) == 0;
	dbuf_free(&path);
	return same;
}

static bool refused(const char *line)
{
	char hex[HASH_HEX_MAX + 1];
	const char *why = NULL;
	struct dbuf path;
	int rc;

	dbuf_init(&path);
	rc = bagit_parse_manifest_line(line, strlen(line), hash_lookup("sha256"), true, hex, &path,
				       &why);
	dbuf_free(&path);
	return rc == -1 && why != NULL;
}

UNIT_TEST(bagit_manifest_line_percent_decoding)
{
	EXPECT(decodes(E3 "  data/a", true, "data/a", 6));
	EXPECT(decodes(E3 " \tdata/with space ", true, "data/with space ", 16));
	EXPECT(decodes(E3 " data/n%0Al%0dc%25p", true, "data/n\nl\rc%p", 12));
	/* Only %0A, %0D and %25 are decoded; others stay, as does a cut one. */
	EXPECT(decodes(E3 " data/%20x%2", true, "data/%20x%2", 11));
	/* 0.97 had no encoding. */
	EXPECT(decodes(E3 " data/100%25", false, "data/100%25", 11));
	/* Upper-case checksums are read as lowercase. */
	EXPECT(decodes("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 data/a", true,
		       "data/a", 6));
	EXPECT(refused(E3));
	EXPECT(refused(E3 "  "));
	EXPECT(refused("e3b0 data/a"));
	EXPECT(refused("zz" E3 " data/a"));
}

UNIT_TEST(bagit_encode_round_trip)
{
	struct dbuf out;

	dbuf_init(&out);
	EXPECT(bagit_encode_path(&out, "a%b\nc\rd", 8) == 0);
	EXPECT(out.len == 14 && memcmp(out.data, "a%25b%0Ac%0Dd", 14) == 0);
	dbuf_free(&out);
}

UNIT_TEST(bagit_path_refusals)
{
	EXPECT(bagit_path_refusal("data/a", 6) == NULL);
	EXPECT(bagit_path_refusal("data/..a/b..", 12) == NULL);
	EXPECT(bagit_path_refusal("data\\x", 6) == NULL);
	EXPECT(bagit_path_refusal("", 0) != NULL);
	EXPECT(bagit_path_refusal("/etc/passwd", 11) != NULL);
	EXPECT(bagit_path_refusal("../x", 4) != NULL);
	EXPECT(bagit_path_refusal("data/../../x", 12) != NULL);
	EXPECT(bagit_path_refusal("data/..", 7) != NULL);
	EXPECT(bagit_path_refusal("~/x", 3) != NULL);
	EXPECT(bagit_path_refusal("C:/x", 4) != NULL);
	EXPECT(bagit_path_refusal("a\0b", 3) != NULL);
}

UNIT_TEST(bagit_normalize_drops_dot_and_empty)
{
	char path[] = "./data//sub/./a/";

	EXPECT(bagit_normalize(path, strlen(path)) == 10 && memcmp(path, "data/sub/a", 10) == 0);
}

struct seen {
	char text[256];
};

static int collect(void *arg, const char *label, size_t label_len, const char *value,
		   size_t value_len)
{
	struct seen *seen = arg;
	size_t used = strlen(seen->text);

	snprintf(seen->text + used, sizeof(seen->text) - used, "[%.*s=%.*s]", (int)label_len, label,
		 (int)value_len, value);
	return 0;
}

UNIT_TEST(bagit_tags_with_continuations_and_encodings)
{
	struct seen seen = { "" };
	struct bagit_declaration decl = { 0 };
	const char *why = NULL;
	static const char info[] = "\xef\xbb\xbf" "A: one\r\nB :two\r\n  more\tlines\rC: \xe9\n";

	EXPECT(bagit_parse_tags(info, sizeof(info) - 1, true, collect, &seen, &why) == 0);
	EXPECT(strcmp(seen.text, "[A=one][B=two more\tlines][C=\xc3\xa9]") == 0);
	EXPECT(bagit_parse_tags("  x\n", 4, false, collect, &seen, &why) == -1 && why);
	EXPECT(bagit_parse_tags("no colon\n", 9, false, collect, &seen, &why) == -1 && why);
	EXPECT(bagit_parse_declaration("BagIt-Version: 0.97\nTag-File-Character-Encoding: utf-8\n",
				       55, &decl, &why) == 0 && decl.major == 0 && decl.minor == 97);
	EXPECT(bagit_parse_declaration("BagIt-Version: 1.0\n", 19, &decl, &why) == -1);
	EXPECT(bagit_parse_declaration("BagIt-Version: 1.\nTag-File-Character-Encoding: UTF-8\n",
				       52, &decl, &why) == -1);
}

UNIT_TEST(bagit_oxum_and_fetch)
{
	uint64_t a, b, length;
	struct dbuf path;
	const char *why;

	EXPECT(bagit_parse_oxum("279164409.1198", 14, &a, &b) == 0 && a == 279164409 && b == 1198);
	EXPECT(bagit_parse_oxum("12", 2, &a, &b) == -1);
	EXPECT(bagit_parse_oxum("1.", 2, &a, &b) == -1);
	EXPECT(bagit_parse_oxum("99999999999999999999.1", 22, &a, &b) == -1);
	dbuf_init(&path);
	EXPECT(bagit_parse_fetch_line("http://x/y 12 data/a%0Ab", 24, true, &length, &path, &why) == 0 &&
	       length == 12 && strcmp(path.data, "data/a\nb") == 0);
	EXPECT(bagit_parse_fetch_line("http://x/y - data/a", 19, true, &length, &path, &why) == 0 &&
	       length == UINT64_MAX);
	EXPECT(bagit_parse_fetch_line("http://x/y 1x data/a", 20, true, &length, &path, &why) == -1);
	EXPECT(bagit_parse_fetch_line("http://x/y 1", 12, true, &length, &path, &why) == -1);
	dbuf_free(&path);
}

UNIT_TEST(bagit_lines_split_every_line_end)
{
	static const char text[] = "\xef\xbb\xbf" "a\r\nb\rc\n\nd";
	char name[] = "/tmp/ptools-unit-bagit.XXXXXX";
	struct bagit_lines lines;
	const char *line;
	size_t len;
	char got[64] = "";
	int fd = mkstemp(name);

	EXPECT(fd >= 0);
	if (fd < 0)
		return;
	unlink(name);
	EXPECT(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	lseek(fd, 0, SEEK_SET);
	EXPECT(bagit_lines_init(&lines, fd, false) == 0);
	while (bagit_lines_next(&lines, &line, &len) == 1)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "<%.*s>", (int)len, line);
	EXPECT(strcmp(got, "<a><b><c><><d>") == 0);
	bagit_lines_fini(&lines);
	close(fd);
}
