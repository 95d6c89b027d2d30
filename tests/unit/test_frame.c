/* SPDX-License-Identifier: 0BSD */
/** Unit tests of the frame codec (libcommon/frame.c), pcopy's wire framing. */
#include "prelude.h"
#include "unit.h"
#include "dbuf.h"
#include "frame.h"
#include "xio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A pipe whose read end never blocks: a reader that waits for more gets EAGAIN, not a hang. */
static void nonblocking_pipe(int fds[2])
{
	PT_ASSERT(pipe2(fds, O_CLOEXEC) == 0);
	PT_ASSERT(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
}

UNIT_TEST(frame_round_trip)
{
	static const unsigned char bytes[] = { 0, 1, 2, 0xff };
	struct frame_reader reader;
	struct frame_cursor cur;
	struct frame frame;
	struct dbuf out;
	const unsigned char *p;
	size_t start, len;

	dbuf_init(&out);
	EXPECT(frame_begin(&out, 7, &start) == 0);
	EXPECT(frame_put_u8(&out, 0xab) == 0);
	EXPECT(frame_put_u32(&out, 0x01020304) == 0);
	EXPECT(frame_put_u64(&out, UINT64_C(0x1122334455667788)) == 0);
	EXPECT(frame_put_bytes(&out, bytes, sizeof(bytes)) == 0);
	EXPECT(frame_put_str(&out, "") == 0);
	EXPECT(frame_end(&out, start) == 0);
	/* A second frame with no payload. */
	EXPECT(frame_begin(&out, 200, &start) == 0 && frame_end(&out, start) == 0);
	/* The header: a 4-byte big-endian length (1+4+8+8+4 = 25), then the type. */
	EXPECT(out.len == FRAME_HEADER + 25 + FRAME_HEADER);
	EXPECT(memcmp(out.data, "\0\0\0\x19\x07\xab\x01\x02\x03\x04", 10) == 0);

	frame_reader_init_mem(&reader, out.data, out.len);
	EXPECT(frame_read(&reader, &frame) == 1);
	EXPECT(frame.type == 7 && frame.len == 25);
	frame_cursor_init(&cur, &frame);
	EXPECT(frame_get_u8(&cur) == 0xab);
	EXPECT(frame_get_u32(&cur) == 0x01020304);
	EXPECT(frame_get_u64(&cur) == UINT64_C(0x1122334455667788));
	p = frame_get_bytes(&cur, &len);
	EXPECT(p && len == sizeof(bytes) && memcmp(p, bytes, len) == 0);
	p = frame_get_bytes(&cur, &len);
	EXPECT(p && len == 0);
	EXPECT(frame_cursor_done(&cur));
	/* Past the end, a field is bad and reads as zero. */
	EXPECT(frame_get_u32(&cur) == 0 && cur.bad && !frame_cursor_done(&cur));
	EXPECT(frame_read(&reader, &frame) == 1);
	EXPECT(frame.type == 200 && frame.len == 0);
	/* End of input between frames. */
	EXPECT(frame_read(&reader, &frame) == 0);
	EXPECT(frame_read(&reader, &frame) == 0);
	frame_reader_fini(&reader);
	dbuf_free(&out);
}

UNIT_TEST(frame_cursor_short_bytes)
{
	/* A bytes field claiming 5 bytes with 2 there. */
	static const unsigned char payload[] = { 0, 0, 0, 5, 'a', 'b' };
	struct frame frame = { 1, payload, sizeof(payload) };
	struct frame_cursor cur;
	size_t len = 99;

	frame_cursor_init(&cur, &frame);
	EXPECT(frame_get_bytes(&cur, &len) == NULL && len == 0 && cur.bad);
	EXPECT(!frame_cursor_done(&cur));
}

UNIT_TEST(frame_payload_max_on_write)
{
	struct dbuf out;
	size_t start;
	char *big = calloc(1, FRAME_PAYLOAD_MAX + 1);

	PT_ASSERT(big != NULL);
	dbuf_init(&out);
	/* Exactly the maximum is a frame. */
	EXPECT(frame_begin(&out, 1, &start) == 0 && dbuf_append(&out, big, FRAME_PAYLOAD_MAX) == 0);
	EXPECT(frame_end(&out, start) == 0 && out.len == FRAME_HEADER + FRAME_PAYLOAD_MAX);
	/* One byte more is not, and the frame is taken back out. */
	EXPECT(frame_begin(&out, 1, &start) == 0 && dbuf_append(&out, big, FRAME_PAYLOAD_MAX + 1) == 0);
	errno = 0;
	EXPECT(frame_end(&out, start) == -1 && errno == EMSGSIZE);
	EXPECT(out.len == FRAME_HEADER + FRAME_PAYLOAD_MAX);
	errno = 0;
	EXPECT(frame_put_bytes(&out, big, FRAME_PAYLOAD_MAX + 1) == -1 && errno == EMSGSIZE);
	dbuf_free(&out);
	free(big);
}

UNIT_TEST(frame_largest_payload_read)
{
	struct frame_reader reader;
	struct frame frame;
	struct dbuf out;
	size_t start;
	char *big = malloc(FRAME_PAYLOAD_MAX);

	PT_ASSERT(big != NULL);
	memset(big, 'x', FRAME_PAYLOAD_MAX);
	dbuf_init(&out);
	EXPECT(frame_begin(&out, 14, &start) == 0 && dbuf_append(&out, big, FRAME_PAYLOAD_MAX) == 0 &&
	       frame_end(&out, start) == 0);
	frame_reader_init_mem(&reader, out.data, out.len);
	EXPECT(frame_read(&reader, &frame) == 1);
	EXPECT(frame.len == FRAME_PAYLOAD_MAX && memcmp(frame.payload, big, frame.len) == 0);
	EXPECT(frame_read(&reader, &frame) == 0);
	frame_reader_fini(&reader);
	dbuf_free(&out);
	free(big);
}

UNIT_TEST(frame_oversized_length_from_header_alone)
{
	/* FRAME_PAYLOAD_MAX + 1, type DATA; the writer stays open, no payload follows. */
	static const unsigned char header[FRAME_HEADER] = { 0, 0x40, 0, 1, 14 };
	struct frame_reader reader;
	struct frame frame;
	const unsigned char *pending;
	size_t len;
	int fds[2];

	nonblocking_pipe(fds);
	EXPECT(xwrite(fds[1], header, sizeof(header)) == 0);
	frame_reader_init(&reader, fds[0]);
	errno = 0;
	/* EAGAIN here would mean the reader waited for a payload it should have refused. */
	EXPECT(frame_read(&reader, &frame) == -1 && errno == EPROTO);
	pending = frame_reader_pending(&reader, &len);
	EXPECT(len == sizeof(header) && memcmp(pending, header, len) == 0);
	frame_reader_fini(&reader);
	close(fds[0]);
	close(fds[1]);
}

UNIT_TEST(frame_truncated)
{
	static const unsigned char whole[] = { 0, 0, 0, 3, 30, 'a', 'b', 'c' };
	struct frame_reader reader;
	struct frame frame;

	/* From memory: every cut inside the frame (in the header, in the payload). */
	for (size_t cut = 1; cut < sizeof(whole); cut++) {
		frame_reader_init_mem(&reader, whole, cut);
		errno = 0;
		EXPECT(frame_read(&reader, &frame) == -1 && errno == EPROTO);
		frame_reader_fini(&reader);
	}
	/* From a pipe whose writer is gone: a whole frame, then half a frame. */
	{
		int fds[2];
		nonblocking_pipe(fds);
		EXPECT(xwrite(fds[1], whole, sizeof(whole)) == 0);
		EXPECT(xwrite(fds[1], whole, 6) == 0);
		close(fds[1]);
		frame_reader_init(&reader, fds[0]);
		EXPECT(frame_read(&reader, &frame) == 1 && frame.type == 30 && frame.len == 3);
		errno = 0;
		EXPECT(frame_read(&reader, &frame) == -1 && errno == EPROTO);
		frame_reader_fini(&reader);
		close(fds[0]);
	}
}

UNIT_TEST(frame_end_between_frames)
{
	static const unsigned char two[] = { 0, 0, 0, 1, 30, 'a', 0, 0, 0, 0, 3 };
	struct frame_reader reader;
	struct frame frame;
	int fds[2];

	nonblocking_pipe(fds);
	EXPECT(xwrite(fds[1], two, sizeof(two)) == 0);
	close(fds[1]);
	frame_reader_init(&reader, fds[0]);
	EXPECT(frame_read(&reader, &frame) == 1 && frame.type == 30 && frame.len == 1 &&
	       frame.payload[0] == 'a');
	EXPECT(frame_read(&reader, &frame) == 1 && frame.type == 3 && frame.len == 0);
	EXPECT(frame_read(&reader, &frame) == 0);
	frame_reader_fini(&reader);
	close(fds[0]);

	/* Nothing at all. */
	frame_reader_init_mem(&reader, "", 0);
	EXPECT(frame_read(&reader, &frame) == 0);
	frame_reader_fini(&reader);
}

UNIT_TEST(frame_pending_shows_a_banner)
{
	static const char banner[] = "Welcome\n";
	struct frame_reader reader;
	struct frame frame;
	const unsigned char *pending;
	size_t len;
	int fds[2];

	/* A login banner where the greeting should be, the shell still open. */
	nonblocking_pipe(fds);
	EXPECT(xwrite(fds[1], banner, strlen(banner)) == 0);
	frame_reader_init(&reader, fds[0]);
	errno = 0;
	EXPECT(frame_read(&reader, &frame) == -1 && errno == EPROTO);
	pending = frame_reader_pending(&reader, &len);
	EXPECT(len == strlen(banner) && memcmp(pending, banner, len) == 0);
	frame_reader_fini(&reader);
	close(fds[0]);
	close(fds[1]);

	/* Fewer bytes than a header, then the end: still there to show. */
	frame_reader_init_mem(&reader, "Hi\n", 3);
	EXPECT(frame_read(&reader, &frame) == -1 && errno == EPROTO);
	pending = frame_reader_pending(&reader, &len);
	EXPECT(len == 3 && memcmp(pending, "Hi\n", 3) == 0);
	frame_reader_fini(&reader);

	/* Before any read, nothing is pending. */
	frame_reader_init_mem(&reader, "x", 1);
	pending = frame_reader_pending(&reader, &len);
	EXPECT(pending != NULL && len == 0);
	frame_reader_fini(&reader);
}
