/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for BagIt's parsers (libcommon/bagit.c): the input, after
 * a first byte that picks Latin-1 and 1.0 decoding, is read as a tag file
 * (bagit.txt's checks and bag-info.txt's tags), then line by line from a
 * memory file as a manifest (sha256) and as fetch.txt. Every accepted line
 * must give lowercase hex of the algorithm's length and a NUL-terminated
 * path; refusal and normalisation must stay within the path; never a crash,
 * a leak or a line past BAGIT_LINE_MAX.
 */
#include "prelude.h"
#include "bagit.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

static int on_tag(void *arg, const char *label, size_t label_len, const char *value,
		  size_t value_len)
{
	uint64_t a, b;

	(void)arg;
	CHECK(label_len > 0 && label[label_len] == '\0');
	if (bagit_parse_oxum(value, value_len, &a, &b) == 0)
		CHECK(value_len >= 3);
	return 0;
}

static void check_path(struct dbuf *path)
{
	size_t len;

	CHECK(path->data && path->data[path->len] == '\0');
	if (bagit_path_refusal(path->data, path->len))
		return;
	len = bagit_normalize(path->data, path->len);
	CHECK(len <= path->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hash_algo *sha256 = bagit_algo("sha256", 6);
	struct bagit_declaration decl;
	struct bagit_lines lines;
	char hex[HASH_HEX_MAX + 1];
	const char *why, *text;
	struct dbuf path;
	uint64_t length;
	bool latin1, decode;
	size_t len;
	int fd;

	if (size == 0 || !sha256)
		return 0;
	latin1 = data[0] & 1;
	decode = data[0] & 2;
	data++;
	size--;
	memset(&decl, 0, sizeof(decl));
	(void)bagit_parse_declaration((const char *)data, size, &decl, &why);
	(void)bagit_parse_tags((const char *)data, size, latin1, on_tag, NULL, &why);
	fd = memfd_create("fuzz_bag", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0 ||
	    bagit_lines_init(&lines, fd, latin1) != 0) {
		close(fd);
		return 0;
	}
	dbuf_init(&path);
	while (bagit_lines_next(&lines, &text, &len) == 1) {
		CHECK(len <= 2 * BAGIT_LINE_MAX && text[len] == '\0');
		if (bagit_parse_manifest_line(text, len, sha256, decode, hex, &path, &why) == 0) {
			CHECK(strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64);
			check_path(&path);
		}
		if (bagit_parse_fetch_line(text, len, decode, &length, &path, &why) == 0)
			check_path(&path);
	}
	dbuf_free(&path);
	bagit_lines_fini(&lines);
	close(fd);
	return 0;
}
