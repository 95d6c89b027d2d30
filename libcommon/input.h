/* SPDX-License-Identifier: 0BSD */
/**
 * Reading the record stream: lines (or NUL-separated items) from a file or
 * standard input, with line numbers for diagnostics and a hard bound on line
 * length, so no input can make a reader allocate without limit. A line longer
 * than REC_LINE_MAX is skipped up to its LF and reported as malformed.
 */
#ifndef PTOOLS_INPUT_H
#define PTOOLS_INPUT_H

#include "prelude.h"
#include "record.h"

struct input;

enum input_status {
	INPUT_RECORD,     /* a record or plain path was stored */
	INPUT_COMMENT,    /* a '#' line: input_text() holds it, to pass through */
	INPUT_EOF,        /* no more input */
	INPUT_MALFORMED,  /* skip it; *why says what is wrong, input_line() where */
	INPUT_ERROR,      /* read error, errno set */
};

/**
 * Open path for reading ("-" or NULL: standard input, named "<stdin>").
 * With nul_separated, items end with NUL instead of LF and every item is a
 * plain path (find -print0). Returns NULL with errno on failure.
 */
struct input *input_open(const char *path, bool nul_separated);

/** Close the input (not standard input's fd) and free it; NULL-safe. */
void input_close(struct input *in);

/** The name for diagnostics: the path given, or "<stdin>". */
const char *input_name(const struct input *in);

/** The 1-based number of the line (or item) last returned. */
uintmax_t input_line(const struct input *in);

/**
 * Read the next raw line or item, without its terminator. Blank lines are
 * returned too (len 0). *text is valid until the next call. Returns
 * INPUT_RECORD for a line, INPUT_EOF, INPUT_MALFORMED (line too long:
 * *why is set) or INPUT_ERROR.
 */
enum input_status input_read_line(struct input *in, const char **text, size_t *len,
				  const char **why);

/**
 * Read and parse the next record, skipping blank lines. Comments are
 * returned as INPUT_COMMENT (see input_text). Malformed lines are returned as
 * INPUT_MALFORMED with *why set: the caller reports "FILE:LINE: why" and
 * goes on.
 */
enum input_status input_next(struct input *in, struct rec *rec, const char **why);

/**
 * Look at the first bytes before reading any line, to tell a format apart:
 * read until the buffer holds an LF or a NUL, or 64 KiB, or the end of the
 * input, and point *data at everything read but not yet handed out (*len
 * bytes; valid until the next call). Returns 0, or -1 with errno.
 */
int input_peek(struct input *in, const char **data, size_t *len);

/** Drop n bytes (at most what input_peek last showed) before the next line:
 * a byte-order mark, say. Line numbers do not change. */
void input_skip(struct input *in, size_t n);

/**
 * Read raw bytes instead of lines (an XML manifest): point *data at every
 * byte read but not handed out yet, reading once more when there is none,
 * and count them as handed out; *data is valid until the next call. Returns
 * 1 with *len > 0, 0 at the end of the input, or -1 with errno.
 */
int input_read_chunk(struct input *in, const char **data, size_t *len);

/** End lines with terminator from now on ('\n', or '\0' for NUL-terminated
 * lines found by input_peek); input_next keeps its own rules. */
void input_set_terminator(struct input *in, char terminator);

/** The file descriptor read (standard input's is 0). */
int input_fd(const struct input *in);

/** What input_set_tap calls with every byte read from the file, in order. */
typedef void input_tap_fn(void *arg, const void *data, size_t len);

/**
 * Call fn(arg, ...) with every chunk read from now on (a digest of exactly
 * the bytes parsed: pverify --signers). NULL fn: no tap.
 */
void input_set_tap(struct input *in, input_tap_fn *fn, void *arg);

/** The raw text of the line last returned (without LF); valid until the next call. */
const char *input_text(const struct input *in, size_t *len);

#endif
