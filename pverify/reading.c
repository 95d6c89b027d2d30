/* SPDX-License-Identifier: 0BSD */
/** pverify's reading thread: the manifest, line by line, into the batch pipeline. */
#include "prelude.h"
#include "reading.h"
#include "diag.h"
#include "manifest.h"
#include "resolve.h"
#include "seal.h"
#include <errno.h>
#include <stdlib.h>

/* Number a task and queue it; one that cannot be queued, for want of
 * memory, is an error. */
static void submit(struct reading *reading, struct task *task)
{
	struct task **slot;

	task->seq = reading->tasks++;
	progress_expect(reading->progress, 0, 1, task->has_size ? task->size : 0);
	slot = batchpipe_slot(&reading->feed);
	if (!slot) {
		diag_file_error(task->path, ENOMEM);
		reading->refused++;
		free(task);
		return;
	}
	*slot = task;
	batchpipe_commit(&reading->feed, task->has_size ? task->size : BATCHPIPE_SIZE_UNKNOWN);
}

int reading_run(struct reading *reading, const struct hash_algo *forced, bool sealed)
{
	struct manifest_parser parser;
	struct seal_check seal;
	const char *text, *why;
	struct task *task;
	size_t len;
	enum input_status status;
	int rc = 0;

	manifest_parser_init(&parser, forced);
	seal_check_init(&seal);
	if (manifest_sniff(&parser, reading->in) != 0) {
		diag_file_error(input_name(reading->in), errno);
		rc = -1;
	}
	/* A BOM is skipped for every format, but a seal proves its bytes: one
	 * with bytes added in front was edited. */
	if (parser.bom)
		seal_check_lost(&seal);
	for (; rc == 0;) {
		/* The reader of our output went away with SIGPIPE ignored (EPIPE):
		 * nothing more can be reported, so stop reading, as pfind does. */
		if (out_error(reading->sink) == EPIPE)
			break;
		status = input_read_line(reading->in, &text, &len, &why);
		/* The parser holds each entry back a line: take the last one. */
		if (status == INPUT_EOF && (task = manifest_finish(&parser)) != NULL)
			goto take;
		if (status == INPUT_EOF)
			break;
		if (status == INPUT_ERROR) {
			diag_file_error(input_name(reading->in), errno);
			rc = -1;
			break;
		}
		if (status == INPUT_MALFORMED) {
			diag_input_error(input_name(reading->in), input_line(reading->in), "%s", why);
			reading->malformed++;
			/* The line's bytes are gone: a seal can no longer match. */
			seal_check_lost(&seal);
			continue;
		}
		switch (seal_check_line(&seal, input_line(reading->in), text, len)) {
		case SEAL_CONTENT:
			break;
		case SEAL_IGNORED:
		case SEAL_MATCH:
			continue;
		case SEAL_MISMATCH:
			diag_note("%s:%ju: seal digest mismatch: the seal was edited",
				  input_name(reading->in), input_line(reading->in));
			diag_raise(EXIT_FAILED);
			continue;
		case SEAL_UNCHECKABLE:
			diag_note("%s:%ju: the seal could not be checked", input_name(reading->in),
				  input_line(reading->in));
			diag_raise(EXIT_FAILED);
			continue;
		case SEAL_AFTER:
			diag_note("%s:%ju: line after the seal: the sealed manifest was extended",
				  input_name(reading->in), input_line(reading->in));
			diag_raise(EXIT_FAILED);
			reading->refused++;
			continue;
		}
		if (len == 0 || text[0] == '#')
			continue;
		task = manifest_parse(&parser, text, len, input_line(reading->in), &why);
		if (!task && !why)
			continue;
		if (!task) {
			diag_input_error(input_name(reading->in), input_line(reading->in), "%s", why);
			reading->malformed++;
			continue;
		}
take:
		if (reading->beneath) {
			const char *refusal = resolve_refusal(task->path, task->path_len);

			if (refusal)
				task_set_error(task, 0, refusal);
		}
		if (reading->audit && audit_add_path(reading->audit, task->path, task->path_len) != 0) {
			diag_file_error(NULL, errno);
			free(task);
			rc = -1;
			break;
		}
		submit(reading, task);
	}
	batchpipe_flush(&reading->feed);
	reading->sealed_content = seal.header;
	switch (seal_check_end(&seal, sealed)) {
	case SEAL_END_OK:
		reading->seal_whole = seal.header && diag_status() == EXIT_ALL_GOOD;
		break;
	case SEAL_END_NO_HEADER:
		diag_note("%s: no seal header: not a sealed manifest, or its seal was removed",
			  input_name(reading->in));
		diag_raise(EXIT_FAILED);
		break;
	case SEAL_END_CUT:
		diag_note("%s: sealed manifest without its seal line: it was cut short",
			  input_name(reading->in));
		diag_raise(EXIT_FAILED);
		break;
	}
	seal_check_fini(&seal);
	manifest_parser_fini(&parser);
	return rc;
}

