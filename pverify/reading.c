/* SPDX-License-Identifier: 0BSD */
/** pverify's reading thread: the manifest, line by line, into the batch pipeline. */
#include "prelude.h"
#include "reading.h"
#include "diag.h"
#include "manifest.h"
#include "mhl1.h"
#include "resolve.h"
#include "seal.h"
#include "signed.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Number a task and queue it; one that cannot be queued, for want of
 * memory, is an error. */
static void submit(struct reading *reading, struct task *task)
{
	struct task **slot;

	task->seq = reading->tasks++;
	if (!reading->counted)
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

/* Refuse a path that leaves --root, note it for --audit (with once, unless
 * it was noted before: then the task is not queued, *queued is false and
 * the task still the caller's), and queue the task. Returns 0, or -1 when
 * the audit ran out of memory (reported; the task freed). */
static int take(struct reading *reading, struct task *task, bool once, bool *queued)
{
	*queued = false;
	if (reading->beneath) {
		const char *refusal = resolve_refusal(task->path, task->path_len);

		if (refusal)
			task_set_error(task, 0, refusal);
	}
	if (reading->audit && (once ? audit_add_once(reading->audit, task->path, task->path_len,
						     &task->size_cell, queued)
				    : audit_add_listed(reading->audit, task->path, task->path_len,
						       &task->size_cell)) != 0) {
		diag_file_error(NULL, errno);
		free(task);
		return -1;
	}
	if (once && !*queued)
		return 0;
	submit(reading, task);
	*queued = true;
	return 0;
}

int reading_take(struct reading *reading, struct task *task)
{
	bool queued;

	return take(reading, task, false, &queued);
}

int reading_take_once(struct reading *reading, struct task *task, bool *queued)
{
	if (!reading->audit) {
		errno = EINVAL;
		return -1;
	}
	return take(reading, task, true, queued);
}

/* Each MHL v1 <hash>: a task, or a malformed entry reported. */
static int take_mhl1(void *arg, const struct mhl1_entry *entry, uintmax_t line, const char *why)
{
	struct reading *reading = arg;
	struct task *task;

	if (out_error(reading->sink) == EPIPE) {
		errno = EPIPE;
		return -1;
	}
	if (!entry) {
		diag_input_error(input_name(reading->in), line, "%s", why);
		reading->malformed++;
		return 0;
	}
	task = manifest_from_mhl1(entry);
	if (!task) {
		diag_file_error(entry->path, errno);
		reading->refused++;
		return 0;
	}
	if (reading_take(reading, task) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * An MHL v1 file (mhl1.h), fed to expat as it is read. Malformed XML ends
 * the reading with one message; a malformed <hash> is reported and skipped,
 * as a malformed line is. Returns 0, or -1 after a read error.
 */
static int read_mhl1(struct reading *reading)
{
	struct mhl1_reader *mhl;
	const char *data, *why;
	size_t len;
	int got, rc = 0;

	mhl = mhl1_reader_new(take_mhl1, reading);
	if (!mhl) {
		diag_file_error(input_name(reading->in), errno);
		return -1;
	}
	do {
		got = input_read_chunk(reading->in, &data, &len);
		if (got < 0) {
			diag_file_error(input_name(reading->in), errno);
			rc = -1;
			break;
		}
		if (mhl1_feed(mhl, got ? data : "", got ? len : 0, got == 0, &why) != 0) {
			if (errno == EPIPE)
				break; /* our reader went away: nothing more to say */
			if (errno == 0) {
				diag_input_error(input_name(reading->in), mhl1_line(mhl),
						 "MHL v1: %s", why);
				reading->malformed++;
			} else {
				diag_file_error(input_name(reading->in), errno);
				rc = -1;
			}
			break;
		}
	} while (got > 0);
	mhl1_reader_free(mhl);
	return rc;
}

int reading_run(struct reading *reading, const struct hash_algo *forced, bool sealed)
{
	struct manifest_parser parser;
	struct seal_check seal;
	const char *text, *why;
	struct task *task;
	size_t len;
	enum input_status status;
	bool matched = false;
	int rc = 0;

	manifest_parser_init(&parser, forced);
	seal_check_init(&seal);
	/* An MHL v1 file is told by its content, before any line is read. */
	if (input_peek(reading->in, &text, &len) != 0) {
		diag_file_error(input_name(reading->in), errno);
		rc = -1;
	} else if (mhl1_detect(text, len)) {
		rc = read_mhl1(reading);
		goto done;
	}
	if (rc == 0 && manifest_sniff(&parser, reading->in) != 0) {
		diag_file_error(input_name(reading->in), errno);
		rc = -1;
	}
	if (rc == 0 && reading->zero && !parser.nul_terminated) {
		input_set_terminator(reading->in, '\0');
		parser.nul_terminated = true;
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
			continue;
		case SEAL_MATCH:
			matched = true;
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
		if (reading_take(reading, task) != 0) {
			rc = -1;
			break;
		}
	}
done:
	batchpipe_flush(&reading->feed);
	reading->sealed_content = seal.header;
	switch (seal_check_end(&seal, sealed)) {
	case SEAL_END_OK:
		reading->seal_whole = seal.header && matched;
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

struct totals {
	uint64_t *files, *bytes;
};

static int count_mhl1(void *arg, const struct mhl1_entry *entry, uintmax_t line, const char *why)
{
	struct totals *totals = arg;

	(void)line, (void)why;
	if (entry) {
		(*totals->files)++;
		*totals->bytes += entry->has_size ? entry->size : 0;
	}
	return 0;
}

/* tally for an MHL v1 file: whether it was read to its end. */
static bool tally_mhl1(struct input *in, uint64_t *files, uint64_t *bytes)
{
	struct totals totals = {files, bytes};
	struct mhl1_reader *mhl = mhl1_reader_new(count_mhl1, &totals);
	const char *data, *why;
	size_t len;
	int got;
	bool whole = false;

	if (!mhl)
		return false;
	do {
		got = input_read_chunk(in, &data, &len);
		if (got < 0 || mhl1_feed(mhl, got ? data : "", got ? len : 0, got == 0, &why) != 0)
			break;
		whole = got == 0;
	} while (got > 0);
	mhl1_reader_free(mhl);
	return whole;
}

/*
 * Count the entries of manifest (NULL or "-": standard input, only when it
 * is a regular file, which is rewound) and the bytes of the files to read.
 * Returns whether the whole manifest was counted.
 */
static bool tally(const char *manifest, bool zero, const struct hash_algo *forced,
		  uint64_t *files, uint64_t *bytes)
{
	struct manifest_parser parser;
	struct input *in;
	struct stat st;
	struct task *task;
	const char *text, *why;
	enum input_status status;
	off_t start = 0;
	size_t len;
	bool whole = false;

	*files = *bytes = 0;
	if (!manifest || strcmp(manifest, "-") == 0) {
		/* Standard input is read again only where it can be rewound. */
		if (fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (start = lseek(STDIN_FILENO, 0, SEEK_CUR)) < 0)
			return false;
	}
	in = input_open(manifest, false);
	if (!in)
		return false;
	manifest_parser_init(&parser, forced);
	if (input_peek(in, &text, &len) == 0 && mhl1_detect(text, len)) {
		whole = tally_mhl1(in, files, bytes);
	} else if (manifest_sniff(&parser, in) == 0) {
		if (zero && !parser.nul_terminated) {
			input_set_terminator(in, '\0');
			parser.nul_terminated = true;
		}
		for (;;) {
			status = input_read_line(in, &text, &len, &why);
			task = NULL;
			if (status == INPUT_EOF) {
				task = manifest_finish(&parser);
				whole = true;
			} else if (status == INPUT_RECORD && len > 0 && text[0] != '#') {
				task = manifest_parse(&parser, text, len, input_line(in), &why);
			} else if (status == INPUT_ERROR) {
				break;
			}
			if (task) {
				(*files)++;
				*bytes += task->has_size && !task->look_only ? task->size : 0;
				free(task);
			}
			if (status == INPUT_EOF)
				break;
		}
	}
	manifest_parser_fini(&parser);
	input_close(in);
	if ((!manifest || strcmp(manifest, "-") == 0) &&
	    lseek(STDIN_FILENO, start, SEEK_SET) != start)
		return false;
	return whole;
}

bool reading_count(const char *const *manifests, size_t n, bool zero,
		   const struct hash_algo *forced, struct progress *progress)
{
	uint64_t files = 0, bytes = 0, f, b;

	for (size_t i = 0; i < (n ? n : 1); i++) {
		if (!tally(n ? manifests[i] : NULL, zero, forced, &f, &b))
			return false;
		files += f;
		bytes += b;
	}
	progress_expect(progress, 0, files, bytes);
	progress_known(progress);
	return true;
}

/*
 * A manifest without one entry to check (empty, only comments, a seal emptied
 * or cut before its first record) proves nothing, which fails the run as
 * sha256sum -c fails it; a whole seal of an empty copy (only directories)
 * proves that copy held no file.
 */
int reading_file(struct reading *reading, const char *manifest, const struct hash_algo *forced,
		 bool sealed, int rootfd)
{
	uint64_t before = reading->tasks;
	struct signed_check check;
	int rc;

	reading->in = input_open(manifest, false);
	if (!reading->in) {
		diag_file_error(manifest, errno);
		return -1;
	}
	if (reading->signers &&
	    signed_begin(&check, reading->in, manifest, reading->signers, reading->quiet) != 0) {
		input_close(reading->in);
		reading->in = NULL;
		reading->refused++; /* counted among the errors of the summary */
		return 0;
	}
	reading->seal_whole = false;
	rc = reading_run(reading, forced, sealed || seal_named(manifest));
	if (reading->signers)
		signed_end(&check, reading->in, rc == 0 && out_error(reading->sink) != EPIPE);
	if (reading->audit)
		audit_ignore_manifest(reading->audit, manifest, rootfd, reading->sealed_content);
	if (rc == 0 && reading->tasks == before && !reading->seal_whole) {
		diag_note("%s: no file was checked", input_name(reading->in));
		diag_raise(EXIT_FAILED);
	}
	input_close(reading->in);
	reading->in = NULL;
	return 0;
}
