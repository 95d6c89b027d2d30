/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the seal module (libcommon/seal.c), the judge of
 * whether a manifest is the one pcopy sealed. The input's lines, taken as a
 * manifest, must be judged without a crash. Then the same lines (any seal
 * line among them dropped) are sealed by the module's writer, as pcopy
 * seals them: that manifest must verify, and the same manifest with one byte
 * changed (which byte, and to what, chosen by the input) must not.
 */
#include "prelude.h"
#include "seal.h"
#include "dbuf.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a bug: stop here so libFuzzer keeps the input. */
#define CHECK(cond) ((cond) ? (void)0 : abort())

/*
 * Judge text (len bytes) as pverify reads a manifest: LF-separated lines, a
 * last line without LF still a line. Returns whether it verified as sealed.
 */
static bool verifies(const char *text, size_t len)
{
	struct seal_check check;
	size_t start = 0, lineno = 0;
	bool ok = true;

	seal_check_init(&check);
	while (start < len) {
		const char *lf = memchr(text + start, '\n', len - start);
		size_t end = lf ? (size_t)(lf - text) : len;

		switch (seal_check_line(&check, ++lineno, text + start, end - start)) {
		case SEAL_CONTENT:
		case SEAL_IGNORED:
		case SEAL_MATCH:
			break;
		case SEAL_MISMATCH:
		case SEAL_UNCHECKABLE:
		case SEAL_AFTER:
			ok = false;
			break;
		}
		start = end + 1;
	}
	ok = ok && check.sealed && seal_check_end(&check, true) == SEAL_END_OK;
	seal_check_fini(&check);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct seal_writer writer;
	struct dbuf line;
	size_t start = 0, at;

	(void)verifies(text, size);

	/* Seal the input's lines: every line not itself a seal line (a seal
	 * line in the middle would be judged there), LF-ended. */
	CHECK(seal_writer_init(&writer) == 0);
	dbuf_init(&line);
	while (start < size) {
		const char *lf = memchr(text + start, '\n', size - start);
		size_t end = lf ? (size_t)(lf - text) : size;

		if (end - start < strlen(SEAL_LINE_PREFIX) ||
		    memcmp(text + start, SEAL_LINE_PREFIX, strlen(SEAL_LINE_PREFIX)) != 0) {
			dbuf_clear(&line);
			CHECK(dbuf_append(&line, text + start, end - start) == 0);
			CHECK(dbuf_putc(&line, '\n') == 0);
			CHECK(seal_writer_add(&writer, line.data, line.len) == 0);
		}
		start = end + 1;
	}
	dbuf_free(&line);
	CHECK(seal_writer_end(&writer) == 0);
	CHECK(verifies(writer.text.data, writer.text.len));

	/* One changed byte anywhere: never verifies. */
	if (size >= 2) {
		at = ((size_t)data[0] << 8 | data[1]) % writer.text.len;
		writer.text.data[at] ^= (char)(data[size - 1] | 1);
		CHECK(!verifies(writer.text.data, writer.text.len));
	}
	seal_writer_fini(&writer);
	return 0;
}
