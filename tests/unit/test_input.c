/* SPDX-License-Identifier: 0BSD */
/** Unit tests of the input reader (libcommon/input.c). */
#include "prelude.h"
#include "unit.h"
#include "input.h"
#include "record.h"
#include "xio.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A temporary file holding len bytes; its path is written to path (64 bytes). */
static void temp_file(char path[64], const void *data, size_t len)
{
	int fd;

	snprintf(path, 64, "/tmp/ptools-unit-XXXXXX");
	fd = mkstemp(path);
	PT_ASSERT(fd >= 0);
	PT_ASSERT(xwrite(fd, data, len) == 0);
	PT_ASSERT(close(fd) == 0);
}

/* Open an input over len bytes in a temporary file (removed at once). */
static struct input *open_bytes(const void *data, size_t len, bool nul)
{
	char path[64];
	struct input *in;

	temp_file(path, data, len);
	in = input_open(path, nul);
	PT_ASSERT(in);
	unlink(path);
	return in;
}

UNIT_TEST(input_lines_comments_blanks_and_line_numbers)
{
	static const char text[] = "# head\n\n1\t2\ta\n\nplain path\n#\tcomment\tw/tabs\nlast";
	struct input *in = open_bytes(text, sizeof(text) - 1, false);
	struct rec rec;
	const char *why, *raw;
	size_t len;

	rec_init(&rec);
	EXPECT(input_next(in, &rec, &why) == INPUT_COMMENT && input_line(in) == 1);
	raw = input_text(in, &len);
	EXPECT(len == 6 && memcmp(raw, "# head", 6) == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 3);
	EXPECT(strcmp(rec_path(&rec), "a") == 0 && rec.ino == 1 && rec.size == 2);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 5);
	EXPECT(rec.plain && strcmp(rec_path(&rec), "plain path") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_COMMENT && input_line(in) == 6);
	raw = input_text(in, &len);
	EXPECT(len == 16 && memcmp(raw, "#\tcomment\tw/tabs", 16) == 0);
	/* The last line counts even without its LF. */
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 7);
	EXPECT(strcmp(rec_path(&rec), "last") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_EOF);
	EXPECT(input_next(in, &rec, &why) == INPUT_EOF);
	EXPECT(strcmp(input_name(in), "/tmp/ptools-unit-") > 0);
	input_close(in);
	rec_free(&rec);
}

UNIT_TEST(input_malformed_lines_are_reported_and_skipped)
{
	static const char text[] = "1\tx\tp\n1\t2\tgood\n1\t2\tbad\\q\n1\t2\tgood2\n";
	struct input *in = open_bytes(text, sizeof(text) - 1, false);
	struct rec rec;
	const char *why = NULL;

	rec_init(&rec);
	EXPECT(input_next(in, &rec, &why) == INPUT_MALFORMED && input_line(in) == 1);
	EXPECT(why && strcmp(why, "bad size") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && strcmp(rec_path(&rec), "good") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_MALFORMED && input_line(in) == 3);
	EXPECT(why && strcmp(why, "bad escape in path") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && strcmp(rec_path(&rec), "good2") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_EOF);
	input_close(in);
	rec_free(&rec);
}

UNIT_TEST(input_limit_message_names_the_limit)
{
	char expected[64];
	struct input *in;
	char *text = malloc(REC_LINE_MAX + 1);
	const char *line, *why = NULL;
	size_t len;

	PT_ASSERT(text);
	memset(text, 'x', REC_LINE_MAX + 1);
	in = open_bytes(text, REC_LINE_MAX + 1, false);
	snprintf(expected, sizeof(expected), "line longer than %zu bytes", REC_LINE_MAX);
	EXPECT(input_read_line(in, &line, &len, &why) == INPUT_MALFORMED);
	EXPECT(why && strcmp(why, expected) == 0);
	EXPECT(input_line(in) == 1);
	EXPECT(input_read_line(in, &line, &len, &why) == INPUT_EOF);
	input_close(in);
	free(text);
}

UNIT_TEST(input_over_long_lines_are_skipped_up_to_their_lf)
{
	/* line 1 ok, line 2 exactly the limit, line 3 one byte over, line 4 way over, line 5 ok */
	size_t total = 4 + REC_LINE_MAX + 1 + REC_LINE_MAX + 2 + 3 * REC_LINE_MAX + 1 + 4;
	char *text = malloc(total), *p = text;
	struct input *in;
	struct rec rec;
	const char *line, *why;
	size_t len;

	PT_ASSERT(text);
	memcpy(p, "one\n", 4), p += 4;
	memset(p, 'a', REC_LINE_MAX), p += REC_LINE_MAX, *p++ = '\n';
	memset(p, 'b', REC_LINE_MAX + 1), p += REC_LINE_MAX + 1, *p++ = '\n';
	memset(p, 'c', 3 * REC_LINE_MAX), p += 3 * REC_LINE_MAX, *p++ = '\n';
	memcpy(p, "two\n", 4), p += 4;
	PT_ASSERT((size_t)(p - text) == total);
	in = open_bytes(text, total, false);
	rec_init(&rec);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && strcmp(rec_path(&rec), "one") == 0);
	EXPECT(input_read_line(in, &line, &len, &why) == INPUT_RECORD && len == REC_LINE_MAX);
	EXPECT(input_line(in) == 2 && line[0] == 'a' && line[len - 1] == 'a');
	EXPECT(input_next(in, &rec, &why) == INPUT_MALFORMED && input_line(in) == 3);
	EXPECT(strncmp(why, "line longer than", 16) == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_MALFORMED && input_line(in) == 4);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 5);
	EXPECT(strcmp(rec_path(&rec), "two") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_EOF);
	input_close(in);
	rec_free(&rec);
	free(text);
}

UNIT_TEST(input_nul_mode_items_are_plain_paths)
{
	static const char text[] = "a\nb\0#not a comment\0\0with\ttab\0last";
	struct input *in = open_bytes(text, sizeof(text) - 1, true);
	struct rec rec;
	const char *why;

	rec_init(&rec);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 1);
	EXPECT(rec.plain && strcmp(rec_path(&rec), "a\nb") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 2);
	EXPECT(rec.plain && strcmp(rec_path(&rec), "#not a comment") == 0);
	/* The empty item 3 is skipped, item numbers keep counting. */
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 4);
	EXPECT(rec.plain && strcmp(rec_path(&rec), "with\ttab") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_RECORD && input_line(in) == 5);
	EXPECT(strcmp(rec_path(&rec), "last") == 0);
	EXPECT(input_next(in, &rec, &why) == INPUT_EOF);
	input_close(in);
	rec_free(&rec);
}

UNIT_TEST(input_reads_a_pipe_as_lines_arrive)
{
	int fds[2];
	pid_t pid;
	char path[64];
	struct input *in;
	struct rec rec;
	const char *why;
	int status, i, count = 0;

	PT_ASSERT(pipe(fds) == 0);
	pid = fork();
	PT_ASSERT(pid >= 0);
	if (pid == 0) {
		/* Dribble the lines out in pieces that split them anywhere. */
		static const char piece[] = "12\t34\tsome/path\\twith\ttype:f\n";

		close(fds[0]);
		for (i = 0; i < 2000; i++) {
			size_t cut = (size_t)i % (sizeof(piece) - 1);

			if (xwrite(fds[1], piece, cut) != 0 ||
			    xwrite(fds[1], piece + cut, sizeof(piece) - 1 - cut) != 0)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	in = input_open(path, false);
	EXPECT(in != NULL);
	rec_init(&rec);
	while (in && input_next(in, &rec, &why) == INPUT_RECORD) {
		EXPECT(strcmp(rec_path(&rec), "some/path\twith") == 0);
		count++;
	}
	EXPECT(count == 2000);
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	input_close(in);
	close(fds[0]);
	rec_free(&rec);
}

UNIT_TEST(input_survives_binary_garbage)
{
	size_t len = 3 * REC_LINE_MAX, i, lines = 0;
	unsigned char *data = malloc(len);
	uint64_t state = 0x9e3779b97f4a7c15u;
	struct input *in;
	struct rec rec;
	const char *why;
	enum input_status status;

	PT_ASSERT(data);
	for (i = 0; i < len; i++) {
		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		data[i] = (unsigned char)state;
		/* Mostly short lines, with tabs and backslashes likely. */
		if (data[i] == '\n')
			lines++;
		else if (data[i] > 0xf0)
			data[i] = (unsigned char)"\t\\\\#:x"[data[i] % 6];
	}
	in = open_bytes(data, len, false);
	rec_init(&rec);
	do
		status = input_next(in, &rec, &why);
	while (status == INPUT_RECORD || status == INPUT_MALFORMED || status == INPUT_COMMENT);
	EXPECT(status == INPUT_EOF);
	EXPECT(input_line(in) == lines || input_line(in) == lines + 1);
	input_close(in);
	rec_free(&rec);
	free(data);
}

UNIT_TEST(input_open_reports_errors)
{
	struct input *in;
	struct rec rec;
	const char *why;

	errno = 0;
	EXPECT(input_open("/nonexistent/ptools", false) == NULL && errno == ENOENT);
	/* A directory opens but cannot be read. */
	in = input_open("/", false);
	EXPECT(in != NULL);
	rec_init(&rec);
	EXPECT(in && input_next(in, &rec, &why) == INPUT_ERROR && errno == EISDIR);
	input_close(in);
	input_close(NULL);
	rec_free(&rec);
	in = input_open("-", false);
	EXPECT(in && strcmp(input_name(in), "<stdin>") == 0);
	input_close(in);
	in = input_open(NULL, true);
	EXPECT(in && strcmp(input_name(in), "<stdin>") == 0);
	input_close(in);
}

UNIT_TEST(input_peek_skip_and_nul_terminator)
{
	static const char bytes[] = "\xef\xbb\xbf" "one\0two\ntwo\0";
	struct input *in = open_bytes(bytes, sizeof(bytes) - 1, false);
	const char *data, *text, *why;
	size_t len;

	EXPECT(input_peek(in, &data, &len) == 0 && len == sizeof(bytes) - 1);
	EXPECT(memcmp(data, bytes, len) == 0);
	input_skip(in, 3);
	input_set_terminator(in, '\0');
	EXPECT(input_read_line(in, &text, &len, &why) == INPUT_RECORD);
	EXPECT(len == 3 && memcmp(text, "one", 3) == 0 && input_line(in) == 1);
	EXPECT(input_read_line(in, &text, &len, &why) == INPUT_RECORD);
	EXPECT(len == 7 && memcmp(text, "two\ntwo", 7) == 0 && input_line(in) == 2);
	EXPECT(input_read_line(in, &text, &len, &why) == INPUT_EOF);
	input_close(in);
}
