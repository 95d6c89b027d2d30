/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the record codec: rec_parse on any bytes must either
 * refuse the line or give a record that formats, reparses to the same record
 * and formats to the same line again; emitting any NUL-free bytes as a path
 * and an attribute value must parse back to exactly those bytes.
 */
#include "prelude.h"
#include "record.h"
#include "dbuf.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a bug: stop here so libFuzzer keeps the input. */
#define CHECK(cond) ((cond) ? (void)0 : abort())

static bool same_record(const struct rec *a, const struct rec *b)
{
	size_t i, n = rec_attr_count(a);

	if (a->ino != b->ino || a->size != b->size || a->plain != b->plain ||
	    rec_path_len(a) != rec_path_len(b) ||
	    memcmp(rec_path(a), rec_path(b), rec_path_len(a)) != 0 || rec_attr_count(b) != n)
		return false;
	for (i = 0; i < n; i++) {
		const char *ka, *kb, *va, *vb;
		size_t la, lb;

		rec_attr_at(a, i, &ka, &va, &la);
		rec_attr_at(b, i, &kb, &vb, &lb);
		if (strcmp(ka, kb) != 0 || la != lb || memcmp(va, vb, la) != 0)
			return false;
	}
	return true;
}

/* No raw control byte but the TAB separators: writers escape everything else. */
static bool is_canonical_line(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Parse, format, reparse, reformat: the codec must be a fixed point. */
static void check_parse(const char *line, size_t len)
{
	struct rec rec, again;
	struct dbuf out, out2;
	const char *why = NULL;
	int kind;

	rec_init(&rec);
	rec_init(&again);
	dbuf_init(&out);
	dbuf_init(&out2);
	kind = rec_parse(&rec, line, len, &why);
	if (kind < 0) {
		CHECK(why != NULL);
		goto done;
	}
	CHECK(kind == REC_ENTRY || kind == REC_COMMENT || kind == REC_BLANK);
	if (kind != REC_ENTRY)
		goto done;
	CHECK(rec_path_len(&rec) > 0 && strlen(rec_path(&rec)) == rec_path_len(&rec));
	CHECK(rec_format(&rec, &out) == 0);
	CHECK(out.len > 0 && out.data[out.len - 1] == '\n');
	CHECK(memchr(out.data, '\n', out.len) == out.data + out.len - 1);
	CHECK(is_canonical_line(out.data, out.len - 1));
	CHECK(rec_parse(&again, out.data, out.len - 1, &why) == REC_ENTRY);
	/* A plain line comes back as a full record; compare the rest. */
	again.plain = rec.plain;
	CHECK(same_record(&rec, &again));
	CHECK(rec_format(&again, &out2) == 0);
	CHECK(out.len == out2.len && memcmp(out.data, out2.data, out.len) == 0);
	/* Editing: replace, append, remove, and the result still reparses. */
	if (rec_attr_count(&rec) > 0) {
		const char *key, *value;
		size_t vlen;
		char keycopy[REC_KEY_MAX + 1];

		rec_attr_at(&rec, 0, &key, &value, &vlen);
		CHECK(strlen(key) <= REC_KEY_MAX);
		strcpy(keycopy, key);
		CHECK(rec_attr_set(&rec, "fuzz-copy", value, vlen) == 0);
		CHECK(rec_attr_set(&rec, keycopy, rec_path(&rec), rec_path_len(&rec)) == 0);
		CHECK(rec_attr_remove(&rec, "fuzz-copy") >= 1);
		CHECK(rec_attr_get(&rec, "fuzz-copy", NULL) == NULL);
		dbuf_clear(&out);
		CHECK(rec_format(&rec, &out) == 0);
		/* The edited first attribute may now hold a path where a digest belongs. */
		(void)rec_parse(&again, out.data, out.len - 1, &why);
	}
done:
	rec_free(&rec);
	rec_free(&again);
	dbuf_free(&out);
	dbuf_free(&out2);
}

/* Emit the bytes as a path and a value: they must come back unchanged. */
static void check_emit(const char *bytes, size_t len)
{
	struct rec rec;
	struct dbuf out, ref;
	const char *why, *value;
	size_t value_len;

	if (len == 0 || memchr(bytes, '\0', len))
		return;
	rec_init(&rec);
	dbuf_init(&out);
	CHECK(rec_emit_head(&out, len, UINT64_MAX - len, bytes, len) == 0);
	CHECK(rec_emit_attr(&out, "x-fuzz", bytes, len) == 0);
	CHECK(memchr(out.data, '\n', out.len) == NULL);
	CHECK(is_canonical_line(out.data, out.len));
	/* The fast emitter writes what the reference escaper (escape.c) writes. */
	dbuf_init(&ref);
	CHECK(dbuf_puts(&ref, "\t") == 0 && rec_escape(&ref, bytes, len) == 0);
	CHECK(dbuf_puts(&ref, "\tx-fuzz:") == 0 && rec_escape(&ref, bytes, len) == 0);
	CHECK(out.len > ref.len && memcmp(out.data + out.len - ref.len, ref.data, ref.len) == 0);
	dbuf_free(&ref);
	CHECK(rec_parse(&rec, out.data, out.len, &why) == REC_ENTRY);
	CHECK(rec.ino == len && rec.size == UINT64_MAX - len && !rec.plain);
	CHECK(rec_path_len(&rec) == len && memcmp(rec_path(&rec), bytes, len) == 0);
	value = rec_attr_get(&rec, "x-fuzz", &value_len);
	CHECK(value && value_len == len && memcmp(value, bytes, len) == 0);
	rec_free(&rec);
	dbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse((const char *)data, size);
	check_emit((const char *)data, size);
	return 0;
}
