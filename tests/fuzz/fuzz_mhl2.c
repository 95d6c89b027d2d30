/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the ASC MHL v2 reader (libcommon/mhl2_read.c): any
 * bytes, read as a generation or (the first byte's low bit) as a chain, fed
 * in chunks whose size the first byte picks, must give entries whose paths
 * are NUL-free and within MHL2_PATH_MAX and whose digests are canonical
 * strings of their format (directory entries with both digests; a chain's
 * C4 as written, within MHL2_DIGEST_MAX), or a
 * reason; never a crash or a leak. Each directory entry's digests also go
 * through a directory hash context, and each C4 round-trips.
 */
#include "prelude.h"
#include "mhl2.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

static int on_entry(void *arg, const struct mhl2_entry *entry, uintmax_t line, const char *why)
{
	char canonical[MHL2_DIGEST_MAX + 1], content[MHL2_DIGEST_MAX + 1];
	char structure[MHL2_DIGEST_MAX + 1];
	unsigned char digest[64];
	struct mhl2_dirhash dh;
	size_t i;

	(void)arg;
	/* A line is counted only for an entry found wrong (mhl2.h). */
	CHECK(entry ? line == 0 : line >= 1);
	if (!entry) {
		CHECK(why && *why);
		return 0;
	}
	CHECK(entry->path_len <= MHL2_PATH_MAX);
	CHECK(strlen(entry->path) == entry->path_len);
	if (entry->kind == MHL2_ENTRY_PROCESS)
		return 0;
	if (entry->kind == MHL2_ENTRY_IGNORE) {
		/* A pattern is kept text, bounded as any other. */
		CHECK(entry->path_len <= MHL2_TEXT_MAX && entry->ndigests == 0);
		return 0;
	}
	if (entry->kind == MHL2_ENTRY_LINK) {
		/* A chain's C4 is kept as written, to be compared. */
		CHECK(entry->ndigests == 1 && strlen(entry->digests[0].value) <= MHL2_DIGEST_MAX);
		return 0;
	}
	CHECK(entry->ndigests <= MHL2_DIGESTS_MAX);
	for (i = 0; i < entry->ndigests; i++) {
		const struct mhl2_digest *d = &entry->digests[i];

		CHECK(d->value);
		CHECK(mhl2_digest_valid(d->format, d->value, strlen(d->value), canonical));
		CHECK(strcmp(canonical, d->value) == 0);
		if (d->format == MHL2_C4) {
			CHECK(mhl2_c4_decode(d->value, strlen(d->value), digest) == 0);
			mhl2_c4_encode(digest, canonical);
			CHECK(strcmp(canonical, d->value) == 0);
		}
		if (entry->kind != MHL2_ENTRY_DIR && entry->kind != MHL2_ENTRY_ROOT)
			continue;
		CHECK(d->structure);
		CHECK(mhl2_dirhash_init(&dh, d->format) == 0);
		CHECK(mhl2_dirhash_add(&dh, entry->path, entry->path_len, d->value, NULL) == 0);
		CHECK(mhl2_dirhash_add(&dh, "x", 1, d->value, d->structure) == 0);
		CHECK(mhl2_dirhash_final(&dh, content, structure) == 0);
		CHECK(strlen(content) == mhl2_digest_len(d->format));
		mhl2_dirhash_fini(&dh);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mhl2_reader *reader;
	const char *why = NULL;
	size_t chunk, n;
	enum mhl2_doc doc;

	if (size == 0)
		return 0;
	chunk = (size_t)(data[0] >> 1) + 1;
	doc = data[0] & 1 ? MHL2_DOC_CHAIN : MHL2_DOC_GENERATION;
	data++;
	size--;
	reader = mhl2_reader_new(doc, on_entry, NULL);
	if (!reader)
		return 0;
	do {
		n = size < chunk ? size : chunk;
		if (mhl2_feed(reader, data, n, n == size, &why) != 0) {
			CHECK(why && *why);
			break;
		}
		data += n;
		size -= n;
	} while (size > 0);
	mhl2_reader_free(reader);
	return 0;
}
