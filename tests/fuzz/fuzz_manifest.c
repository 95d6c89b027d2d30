/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for pverify's manifest reader (pverify/manifest.c): the
 * whole-file state the line parsers of sumfmt.c do not see, hashdeep's
 * header and columns, rhash's BSD lines merged per file, CR and NUL line
 * ends. Any bytes, split into lines as pverify splits them, must give tasks
 * with a NUL-free name, digests of the right length, at most HASH_SET_MAX of
 * them, and line numbers in order; or a reason per refused line; and leak
 * nothing. The first byte picks the -a algorithm (or none), as in
 * fuzz_sumfmt.
 */
/* fuzz-sources: pverify/manifest.c */
#include "prelude.h"
#include "hash.h"
#include "sumfmt.h"
#include "../../pverify/manifest.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

static void check_task(struct task *task, uintmax_t line_no, uintmax_t *last)
{
	size_t i;

	CHECK(task->line >= 1 && task->line <= line_no && task->line > *last);
	*last = task->line;
	CHECK(task->path_len > 0 && strlen(task->path) == task->path_len);
	CHECK(task->ndigests <= HASH_SET_MAX);
	for (i = 0; i < task->ndigests; i++)
		CHECK(strlen(task->hex[i]) == 2 * task->algos[i]->digest_len);
	free(task);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hash_algo *forced = NULL;
	struct manifest_parser parser;
	const char *text, *end, *why;
	uintmax_t line_no = 0, last = 0;
	struct task *task;
	char terminator;

	if (size == 0)
		return 0;
	if (data[0] < hash_count())
		forced = hash_at(data[0]);
	text = (const char *)data + 1;
	end = (const char *)data + size;
	manifest_parser_init(&parser, forced);
	if (sumfmt_nul_terminated(text, (size_t)(end - text)))
		parser.nul_terminated = true;
	terminator = parser.nul_terminated ? '\0' : '\n';
	while (text < end) {
		const char *stop = memchr(text, terminator, (size_t)(end - text));
		size_t len = stop ? (size_t)(stop - text) : (size_t)(end - text);

		line_no++;
		/* pverify's reader skips these before the parser sees them. */
		if (len > 0 && text[0] != '#') {
			why = NULL;
			task = manifest_parse(&parser, text, len, line_no, &why);
			if (task)
				check_task(task, line_no, &last);
		}
		text += len + (stop != NULL);
	}
	task = manifest_finish(&parser);
	if (task)
		check_task(task, line_no, &last);
	CHECK(manifest_finish(&parser) == NULL);
	manifest_parser_fini(&parser);
	return 0;
}
