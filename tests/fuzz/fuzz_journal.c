/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for pcopy's journal reader, the parser of the one input
 * pcopy --rollback trusts after a crash: the chunked reverse line reader must
 * give back exactly the complete lines of the file, last first (a trailing
 * partial line dropped), and the record parser must take any line without a
 * crash. The input is repeated past the reader's 64 KiB chunk so that lines
 * straddle chunk boundaries at every offset. A record of a file changed in
 * place (I, U) that parses must stay within the bounds undo relies on: its
 * ranges fit in an off_t, its mode in 07777.
 *
 * The reader and parser are pcopy/journal_read.c's, linked as they are
 * (nothing here touches a directory).
 */
/* fuzz-sources: pcopy/journal_read.c */
#include "prelude.h"
#include "../../pcopy/journal_read.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a bug: stop here so libFuzzer keeps the input. */
#define CHECK(cond) ((cond) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct journal_reader rev;
	struct journal_record rec;
	const char *line, *lf;
	size_t total, copies, end, len;
	char *file;
	int got;

	if (size == 0)
		return 0;
	if (fd < 0)
		fd = memfd_create("journal", 0);
	CHECK(fd >= 0);
	/* Enough copies to cross two chunk boundaries (at most about 200 KiB). */
	copies = (2 * JOURNAL_READ_CHUNK) / size + 1 + data[0] % 3;
	total = copies * size;
	file = malloc(total);
	CHECK(file != NULL);
	for (size_t i = 0; i < copies; i++)
		memcpy(file + i * size, data, size);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, file, total, 0) == (ssize_t)total);

	/* The file's complete lines end at its last LF. */
	lf = memrchr(file, '\n', total);
	end = lf ? (size_t)(lf - file) + 1 : 0;

	journal_record_init(&rec);
	CHECK(journal_reader_open(&rev, fd) == 0);
	while ((got = journal_reader_prev(&rev, &line, &len)) == 1) {
		/* Each line handed back is the one just before what came after. */
		CHECK(len + 1 <= end);
		CHECK(file[end - 1] == '\n');
		CHECK(memcmp(file + end - 1 - len, line, len) == 0);
		CHECK(memchr(line, '\n', len) == NULL);
		end -= len + 1;
		if (!journal_parse_record(&rec, line, len))
			continue;
		if (rec.kind == 'U') {
			CHECK(rec.offset <= INT64_MAX && rec.length <= INT64_MAX - rec.offset);
			CHECK(rec.data_offset <= INT64_MAX - rec.length);
		} else if (rec.kind == 'I') {
			CHECK(rec.size <= INT64_MAX && rec.number <= 07777);
		}
	}
	CHECK(got == 0);
	CHECK(end == 0);
	journal_reader_close(&rev);
	journal_record_fini(&rec);
	free(file);
	return 0;
}
