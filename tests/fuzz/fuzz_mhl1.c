/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the MHL v1 reader (libcommon/mhl1.c): any bytes, fed
 * in chunks whose size the first byte picks (so the encoding sniffing, the
 * UTF-32 step and expat all see splits), must give entries with a NUL-free
 * path within MHL1_PATH_MAX, lowercase hex digests of their algorithm's
 * length, or a reason per refused <hash>; or one reason for the whole file;
 * never a crash or a leak.
 */
#include "prelude.h"
#include "mhl1.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

static int on_entry(void *arg, const struct mhl1_entry *entry, uintmax_t line, const char *why)
{
	size_t i, j;

	(void)arg;
	CHECK(line >= 1);
	if (!entry) {
		CHECK(why && *why);
		return 0;
	}
	CHECK(entry->path_len > 0 && entry->path_len <= MHL1_PATH_MAX);
	CHECK(strlen(entry->path) == entry->path_len);
	CHECK(entry->ndigests >= 1 && entry->ndigests <= MHL1_DIGESTS_MAX);
	for (i = 0; i < entry->ndigests; i++) {
		CHECK(strlen(entry->hex[i]) == 2 * entry->algos[i]->digest_len);
		for (j = 0; entry->hex[i][j]; j++)
			CHECK((entry->hex[i][j] >= '0' && entry->hex[i][j] <= '9') ||
			      (entry->hex[i][j] >= 'a' && entry->hex[i][j] <= 'f'));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mhl1_reader *reader;
	const char *why = NULL;
	size_t chunk, n;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	(void)mhl1_detect((const char *)data, size);
	reader = mhl1_reader_new(on_entry, NULL);
	if (!reader)
		return 0;
	for (;;) {
		n = size < chunk ? size : chunk;
		if (mhl1_feed(reader, data, n, n == size, &why) != 0) {
			CHECK(why && *why);
			break;
		}
		data += n;
		size -= n;
		if (size == 0)
			break;
	}
	(void)mhl1_line(reader);
	mhl1_reader_free(reader);
	return 0;
}
