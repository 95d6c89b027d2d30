/* SPDX-License-Identifier: 0BSD */
/**
 * Length-framed messages over a byte stream (pcopy's protocol,
 * docs/PROTOCOL.md). A frame is a 4-byte big-endian payload length, a
 * 1-byte type, then the payload. Writers build frames in a dbuf; a reader
 * takes them from a descriptor (or, for the fuzzer, from memory) into one
 * buffer that never grows past a frame of FRAME_PAYLOAD_MAX, checks each
 * length before it reads the payload, and walks the payload with a
 * bounds-checked cursor that never allocates.
 */
#ifndef PTOOLS_FRAME_H
#define PTOOLS_FRAME_H

#include "prelude.h"
#include "dbuf.h"
#include <sys/types.h>

#define FRAME_HEADER 5
#define FRAME_PAYLOAD_MAX ((size_t)4 << 20)

/** Start a frame of type in out; *start marks it for frame_end. 0 or -1 (ENOMEM). */
int frame_begin(struct dbuf *out, unsigned type, size_t *start);

/**
 * Append a field to the frame being built. 0 or -1 (ENOMEM). The fields are
 * SSH's wire encoding (RFC 4251: uint32, string), which sshsig.c writes with
 * these too.
 */
int frame_put_u8(struct dbuf *out, uint8_t value);
int frame_put_u32(struct dbuf *out, uint32_t value);
int frame_put_u64(struct dbuf *out, uint64_t value);
/** A 4-byte length, then len bytes. */
int frame_put_bytes(struct dbuf *out, const void *data, size_t len);
/** frame_put_bytes of a C string (without its NUL). */
int frame_put_str(struct dbuf *out, const char *s);

/**
 * Finish the frame begun at start: fill in its length. 0, or -1 with
 * EMSGSIZE when its payload is over FRAME_PAYLOAD_MAX (the frame is then
 * removed from out).
 */
int frame_end(struct dbuf *out, size_t start);

/** Where a reader may get its bytes instead of read(2): as read(2) returns. */
typedef ssize_t frame_read_fn(void *arg, void *buf, size_t len);

struct frame_reader {
	int fd;                      /* -1: reading from mem */
	frame_read_fn *read_fn;      /* set: bytes come from read_fn(read_arg), not fd */
	void *read_arg;
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	unsigned char *buf;
	size_t cap, start, end;      /* unread bytes: buf[start, end) */
	bool eof;
};

/** One frame read: valid until the next frame_read. */
struct frame {
	unsigned type;
	const unsigned char *payload;
	size_t len;
};

void frame_reader_init(struct frame_reader *reader, int fd);
/** A reader over len bytes at data (kept by the caller). */
void frame_reader_init_mem(struct frame_reader *reader, const void *data, size_t len);
void frame_reader_fini(struct frame_reader *reader);

/**
 * Read the next frame. Returns 1 (a frame), 0 (end of input between
 * frames), or -1 with errno: EPROTO when a length is over
 * FRAME_PAYLOAD_MAX or the input ends inside a frame, else the read error.
 */
int frame_read(struct frame_reader *reader, struct frame *frame);

/**
 * The bytes read but not yet taken as a frame (after a failed frame_read:
 * what came instead of one), *len of them.
 */
const unsigned char *frame_reader_pending(const struct frame_reader *reader, size_t *len);

/** A walk over one frame's payload; a short field sets bad and yields zeros. */
struct frame_cursor {
	const unsigned char *p;
	size_t left;
	bool bad;
};

void frame_cursor_init(struct frame_cursor *cur, const struct frame *frame);
uint8_t frame_get_u8(struct frame_cursor *cur);
uint32_t frame_get_u32(struct frame_cursor *cur);
uint64_t frame_get_u64(struct frame_cursor *cur);
/** A field of frame_put_bytes: a pointer into the payload (*len bytes), or NULL (bad). */
const unsigned char *frame_get_bytes(struct frame_cursor *cur, size_t *len);
/** Whether every field was there and nothing is left over. */
bool frame_cursor_done(const struct frame_cursor *cur);

#endif
