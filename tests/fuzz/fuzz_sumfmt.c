/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the GNU and BSD checksum-line parsers: sumfmt_parse
 * on any bytes must refuse the line with a reason or give a digest of the
 * right length for its algorithm and a NUL-free name; a parsed line written
 * back with the matching emitter must parse to the same algorithm, digest and
 * name. Emitting any NUL-free bytes as a name must parse back to exactly them.
 * The first byte picks the -a algorithm (or none).
 */
#include "prelude.h"
#include "sumfmt.h"
#include "dbuf.h"
#include "hash.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

static void check_same(const struct sumfmt_line *a, const char *line, size_t len,
		       const struct hash_algo *forced)
{
	struct sumfmt_line b;
	const char *why = NULL;

	sumfmt_line_init(&b);
	CHECK(sumfmt_parse(&b, line, len, forced, &why) == 0);
	CHECK(b.kind == a->kind && b.algo == a->algo && strcmp(b.hex, a->hex) == 0);
	CHECK(b.path.len == a->path.len && memcmp(b.path.data, a->path.data, a->path.len) == 0);
	sumfmt_line_free(&b);
}

/* Parse, re-emit, reparse. */
static void check_parse(const char *line, size_t len, const struct hash_algo *forced)
{
	struct sumfmt_line parsed;
	const char *why = NULL;
	struct dbuf out;
	size_t i;

	sumfmt_line_init(&parsed);
	dbuf_init(&out);
	if (sumfmt_parse(&parsed, line, len, forced, &why) != 0) {
		CHECK(why != NULL);
		goto done;
	}
	CHECK(parsed.algo != NULL);
	CHECK(strlen(parsed.hex) == 2 * parsed.algo->digest_len);
	for (i = 0; parsed.hex[i]; i++)
		CHECK((parsed.hex[i] >= '0' && parsed.hex[i] <= '9') ||
		      (parsed.hex[i] >= 'a' && parsed.hex[i] <= 'f'));
	CHECK(parsed.path.len > 0 && strlen(parsed.path.data) == parsed.path.len);
	if (parsed.kind == SUMFMT_GNU)
		CHECK(sumfmt_gnu_format(&out, parsed.hex, parsed.path.data, parsed.path.len) == 0);
	else
		CHECK(sumfmt_bsd_format(&out, parsed.algo, parsed.hex, parsed.path.data,
					parsed.path.len) == 0);
	CHECK(out.len > 0 && out.data[out.len - 1] == '\n');
	/* A GNU line takes its algorithm from -a or the length: give the same. */
	check_same(&parsed, out.data, out.len - 1,
		   parsed.kind == SUMFMT_GNU ? parsed.algo : forced);
done:
	sumfmt_line_free(&parsed);
	dbuf_free(&out);
}

/* Any NUL-free name through each emitter and back. */
static void check_emit(const char *name, size_t len)
{
	const struct hash_algo *algo = hash_lookup("sha256");
	struct sumfmt_line line;
	char hex[HASH_HEX_MAX + 1];
	const char *why = NULL;
	struct dbuf out;

	if (len == 0 || memchr(name, '\0', len))
		return;
	memset(hex, 'a', 2 * algo->digest_len);
	hex[2 * algo->digest_len] = '\0';
	sumfmt_line_init(&line);
	dbuf_init(&out);
	CHECK(sumfmt_gnu_format(&out, hex, name, len) == 0);
	CHECK(sumfmt_parse(&line, out.data, out.len - 1, NULL, &why) == 0);
	CHECK(line.kind == SUMFMT_GNU && line.algo == algo && strcmp(line.hex, hex) == 0);
	CHECK(line.path.len == len && memcmp(line.path.data, name, len) == 0);
	dbuf_clear(&out);
	CHECK(sumfmt_bsd_format(&out, algo, hex, name, len) == 0);
	CHECK(sumfmt_parse(&line, out.data, out.len - 1, NULL, &why) == 0);
	CHECK(line.kind == SUMFMT_BSD && line.algo == algo && strcmp(line.hex, hex) == 0);
	CHECK(line.path.len == len && memcmp(line.path.data, name, len) == 0);
	sumfmt_line_free(&line);
	dbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hash_algo *forced = NULL;
	const char *text;
	size_t len;

	if (size == 0)
		return 0;
	if (data[0] < hash_count())
		forced = hash_at(data[0]);
	text = (const char *)data + 1;
	len = size - 1;
	check_parse(text, len, forced);
	check_emit(text, len);
	return 0;
}
