/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for the input reader: the bytes go through a memfd that
 * input_open reads as /dev/fd/N, in line mode or NUL mode. The first byte
 * chooses the mode; afterwards a 0xfe byte followed by a count k stands for
 * k * 16 KiB of 'x', so that small inputs reach the line limit.
 * Properties: no crash, every line within REC_LINE_MAX, line numbers count
 * terminators exactly, and the reader ends at INPUT_EOF.
 */
#include "prelude.h"
#include "input.h"
#include "record.h"
#include "xio.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) ((cond) ? (void)0 : abort())

/* Most bytes one input may expand to. */
#define EXPANDED_MAX ((size_t)4 << 20)

/*
 * Expand the 0xfe runs; returns the length written to out (EXPANDED_MAX
 * room). *terminators counts the terminator bytes (the runs hold none; the
 * count is taken here so as not to scan megabytes under instrumentation).
 */
static size_t expand(const uint8_t *data, size_t size, char *out, char terminator,
		     size_t *terminators)
{
	size_t i, len = 0;

	*terminators = 0;
	for (i = 0; i < size; i++) {
		if (data[i] == 0xfe && i + 1 < size) {
			size_t run = (size_t)data[++i] * 16384;

			if (run > EXPANDED_MAX - len)
				run = EXPANDED_MAX - len;
			memset(out + len, 'x', run);
			len += run;
		} else if (len < EXPANDED_MAX) {
			*terminators += (char)data[i] == terminator;
			out[len++] = (char)data[i];
		}
	}
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *bytes;
	char path[32];
	struct input *in;
	struct rec rec;
	const char *why, *text;
	size_t len, terminators, text_len;
	bool nul, raw_lines;
	uintmax_t last_line = 0;
	enum input_status status;
	int fd;

	if (size == 0)
		return 0;
	nul = data[0] & 1;
	raw_lines = data[0] & 2;
	if (!bytes && !(bytes = malloc(EXPANDED_MAX)))
		abort();
	len = expand(data + 1, size - 1, bytes, nul ? '\0' : '\n', &terminators);

	fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(xwrite(fd, bytes, len) == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	in = input_open(path, nul);
	CHECK(in != NULL);
	rec_init(&rec);
	for (;;) {
		why = NULL;
		if (raw_lines)
			status = input_read_line(in, &text, &text_len, &why);
		else
			status = input_next(in, &rec, &why);
		if (status == INPUT_EOF || status == INPUT_ERROR)
			break;
		CHECK(input_line(in) > last_line);
		last_line = input_line(in);
		switch (status) {
		case INPUT_RECORD:
			if (raw_lines) {
				CHECK(text_len <= REC_LINE_MAX);
			} else {
				CHECK(rec_path_len(&rec) > 0 && rec_path_len(&rec) <= REC_LINE_MAX);
				CHECK(!nul || rec.plain);
			}
			break;
		case INPUT_COMMENT:
			CHECK(!nul);
			text = input_text(in, &text_len);
			CHECK(text_len > 0 && text[0] == '#');
			break;
		case INPUT_MALFORMED:
			CHECK(why != NULL);
			break;
		default:
			abort();
		}
	}
	CHECK(status == INPUT_EOF);
	/* Every terminator ends one line; a last unterminated line counts too. */
	CHECK(last_line <= terminators + 1);
	if (raw_lines) {
		bool tail = len > 0 && bytes[len - 1] != (nul ? '\0' : '\n');

		CHECK(last_line == terminators + (tail ? 1 : 0));
	}
	input_close(in);
	close(fd);
	rec_free(&rec);
	return 0;
}
