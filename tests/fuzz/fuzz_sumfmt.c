/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the checksum-line parsers of sumfmt.c: sumfmt_parse
 * (GNU, BSD, SFV) on any bytes must refuse the line with a reason or give a
 * digest of the right length for its algorithm and a NUL-free name; a parsed
 * line written back with the matching emitter must parse to the same
 * algorithm, digest and name. Emitting any NUL-free bytes as a name must
 * parse back to exactly them. The first byte picks the -a algorithm (or
 * none); a first byte of 0xfe fuzzes hashdeep instead: a header line, LF, a
 * data line, checked the same way (sumfmt_hashdeep_header/parse/format).
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
	if (parsed.kind == SUMFMT_GNU) {
		CHECK(sumfmt_gnu_format(&out, parsed.hex, parsed.path.data, parsed.path.len) == 0);
	} else if (parsed.kind == SUMFMT_SFV) {
		/* SFV has no escapes: only some names can be written back. */
		if (sumfmt_sfv_format(&out, parsed.hex, parsed.path.data, parsed.path.len) != 0) {
			CHECK(memchr(parsed.path.data, '\n', parsed.path.len) ||
			      parsed.path.data[parsed.path.len - 1] == '\r');
			goto done;
		}
	} else
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

/* A hashdeep header line, then a data line read with its columns. */
static void check_hashdeep(const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len), *why = NULL, *hex[SUMFMT_COLUMNS_MAX];
	struct sumfmt_columns columns, known;
	struct sumfmt_entry entry, again;
	const char *line;
	struct dbuf out;
	size_t i, line_len;

	if (!nl)
		return;
	line = nl + 1;
	line_len = len - (size_t)(line - text);
	if (sumfmt_hashdeep_header(&columns, text, (size_t)(nl - text), &why) != 1) {
		CHECK(why != NULL || sumfmt_hashdeep_header(&columns, text, (size_t)(nl - text),
							    &why) == 0);
		return;
	}
	CHECK(columns.count > 0 && columns.count <= SUMFMT_COLUMNS_MAX);
	sumfmt_entry_init(&entry);
	sumfmt_entry_init(&again);
	dbuf_init(&out);
	if (sumfmt_hashdeep_parse(&entry, &columns, line, line_len, &why) != 0) {
		CHECK(why != NULL);
		goto done;
	}
	CHECK(entry.count > 0 && entry.path.len > 0 && strlen(entry.path.data) == entry.path.len);
	memset(&known, 0, sizeof(known));
	for (i = 0; i < entry.count; i++) {
		CHECK(strlen(entry.hex[i]) == 2 * entry.algos[i]->digest_len);
		known.algos[known.count++] = entry.algos[i];
		hex[i] = entry.hex[i];
	}
	if (sumfmt_hashdeep_format(&out, entry.size, entry.count, hex, entry.path.data,
				   entry.path.len) != 0) {
		CHECK(memchr(entry.path.data, '\n', entry.path.len) ||
		      entry.path.data[entry.path.len - 1] == '\r');
		goto done;
	}
	CHECK(sumfmt_hashdeep_parse(&again, &known, out.data, out.len - 1, &why) == 0);
	CHECK(again.size == entry.size && again.count == entry.count);
	CHECK(again.path.len == entry.path.len &&
	      memcmp(again.path.data, entry.path.data, entry.path.len) == 0);
	for (i = 0; i < entry.count; i++)
		CHECK(again.algos[i] == entry.algos[i] && strcmp(again.hex[i], entry.hex[i]) == 0);
done:
	sumfmt_entry_free(&entry);
	sumfmt_entry_free(&again);
	dbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hash_algo *forced = NULL;
	const char *text;
	size_t len;

	if (size == 0)
		return 0;
	if (data[0] == 0xfe) {
		check_hashdeep((const char *)data + 1, size - 1);
		return 0;
	}
	if (data[0] < hash_count())
		forced = hash_at(data[0]);
	text = (const char *)data + 1;
	len = size - 1;
	check_parse(text, len, forced);
	check_emit(text, len);
	return 0;
}
