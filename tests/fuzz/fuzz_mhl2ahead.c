/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the parse ahead (libcommon/mhl2ahead.c), against the
 * reader fed in place: any bytes after the first, as a generation or (the
 * first byte's low bit) as a chain (as fuzz_mhl2 reads them, whose seeds
 * these are), fed in place as mhl2ahead reads them (64 KiB at a time, then
 * an empty final feed: expat's reason for an error can depend on where its
 * input was cut) and parsed ahead inline, on one thread and in pieces (of a
 * size the first byte's other bits choose, small enough that any input is
 * cut into several) on two and three, must give the same
 * entries (every field, in order), the same problems, the same stop with
 * the same reason and line, and every byte of the input, in order, back in
 * the chunks and in the digest; never a crash, a leak or a hang.
 */
#include "prelude.h"
#include "dbuf.h"
#include "hash.h"
#include "mhl2.h"
#include "mhl2ahead.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* mhl2ahead's reads: a regular file gives it this much at a time. */
#define AHEAD_READ ((size_t)64 << 10)

#define CHECK(cond) ((cond) ? (void)0 : abort())

/* Each entry as text, every field of it. */
static int log_entry(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct dbuf *log = arg;

	if (!e)
		return dbuf_printf(log, "malformed %ju %s\n", line, why);
	CHECK(dbuf_printf(log, "%d %zu:", (int)e->kind, e->path_len) == 0);
	if (e->path)
		CHECK(dbuf_append(log, e->path, e->path_len) == 0);
	CHECK(dbuf_printf(log, " %d %ju %ju %ju", e->has_size, (uintmax_t)e->size,
			  (uintmax_t)e->sequence, e->line) == 0);
	for (size_t k = 0; k < e->ndigests; k++)
		CHECK(dbuf_printf(log, " %d:%s:%s:%s", (int)e->digests[k].format,
				  e->digests[k].value ? e->digests[k].value : "(null)",
				  e->digests[k].structure ? e->digests[k].structure : "(null)",
				  e->digests[k].action ? e->digests[k].action : "(null)") == 0);
	return dbuf_printf(log, "\n");
}

struct outcome {
	struct dbuf log, bytes;
	bool stopped;
	int error;
	uintmax_t line;
	char why[256];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum mhl2_doc doc;
	size_t at = 0, n;
	const struct hash_algo *sha512 = hash_lookup("sha512");
	unsigned char want[64], got[64];
	struct hash_ctx *ctx;
	struct outcome in_place = {0};
	struct mhl2_reader *r;
	const char *why = NULL;
	size_t piece;
	int fd;

	if (size == 0)
		return 0;
	doc = data[0] & 1 ? MHL2_DOC_CHAIN : MHL2_DOC_GENERATION;
	piece = 8 + (size_t)(data[0] >> 1) * 8;
	data++;
	size--;
	dbuf_init(&in_place.log);
	r = mhl2_reader_new(doc, log_entry, &in_place.log);
	CHECK(r != NULL);
	do {
		n = size - at < AHEAD_READ ? size - at : AHEAD_READ;
		if (mhl2_feed(r, data + at, n, n == 0, &why) != 0) {
			in_place.stopped = true;
			in_place.line = mhl2_line(r);
			snprintf(in_place.why, sizeof(in_place.why), "%s", why ? why : "malformed");
			break;
		}
		at += n;
	} while (n > 0);
	mhl2_reader_free(r);
	ctx = hash_ctx_new(sha512);
	CHECK(ctx && hash_ctx_update(ctx, data, size) == 0 && hash_ctx_final(ctx, want) == 0);
	hash_ctx_free(ctx);

	fd = memfd_create("fuzz_mhl2ahead", 0);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	for (unsigned parsers = 0; parsers < 4; parsers++) {
		struct outcome o = {0};
		struct mhl2ahead_chunk chunk;
		struct mhl2ahead *a;

		dbuf_init(&o.log);
		dbuf_init(&o.bytes);
		CHECK(lseek(fd, 0, SEEK_SET) == 0);
		ctx = hash_ctx_new(sha512);
		CHECK(ctx != NULL);
		a = mhl2ahead_start(fd, doc, ctx, parsers, parsers == 2 ? piece / 2 + 1 : piece);
		CHECK(a != NULL);
		while (mhl2ahead_next(a, log_entry, &o.log, &chunk) > 0) {
			CHECK(!chunk.read_failed);
			CHECK(dbuf_append(&o.bytes, chunk.bytes, chunk.len) == 0);
			if (chunk.stopped) {
				CHECK(!o.stopped && chunk.error == 0);
				o.stopped = true;
				o.line = chunk.line;
				snprintf(o.why, sizeof(o.why), "%s", chunk.why);
			}
		}
		CHECK(mhl2ahead_digest_status(a) == 0 && hash_ctx_final(ctx, got) == 0);
		CHECK(memcmp(got, want, sizeof(got)) == 0);
		CHECK(o.bytes.len == size && (size == 0 || memcmp(o.bytes.data, data, size) == 0));
		CHECK(o.log.len == in_place.log.len &&
		      (o.log.len == 0 || memcmp(o.log.data, in_place.log.data, o.log.len) == 0));
		CHECK(o.stopped == in_place.stopped);
		if (o.stopped)
			CHECK(o.line == in_place.line && strcmp(o.why, in_place.why) == 0);
		mhl2ahead_free(a);
		hash_ctx_free(ctx);
		dbuf_free(&o.log);
		dbuf_free(&o.bytes);
	}
	close(fd);
	dbuf_free(&in_place.log);
	return 0;
}
