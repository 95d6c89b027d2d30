/* SPDX-License-Identifier: 0BSD */
/**
 * libFuzzer target for pcopy's wire protocol (docs/PROTOCOL.md): the frame
 * reader (libcommon/frame.c) and every message decoder (pcopy/proto.c),
 * the code that takes what a remote peer sends.
 *
 * The input is read as a stream of frames, once from memory and once from
 * a SOCK_SEQPACKET socket in packets of uneven sizes, so that each read(2)
 * is short and frames straddle reads. Both must give exactly the frames the
 * bytes hold, end the same way, and never read past the input. Every frame
 * then goes through every decoder (a decoder that checks the type refuses
 * the others), and what a decoder accepts must keep the protocol's
 * promises: paths beneath the root, targets without NUL, digests in
 * lower-case hex of the right length, and a round trip through the
 * matching encoder that gives the same fields back (SIGN and SIGNATURE
 * included). The HISTORY frames of
 * an input also go, in order, to the receiver of a source's ASC MHL history
 * (pcopy/mhlcarry.c), which must refuse or take them without a fault and
 * check what it took at the history's end.
 */
/* fuzz-sources: pcopy/proto.c pcopy/mhlcarry.c */
#include "prelude.h"
#include "../../pcopy/mhlcarry.h"
#include "../../pcopy/proto.h"
#include "dbuf.h"
#include "frame.h"
#include "hash.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a bug: stop here so libFuzzer keeps the input. */
#define CHECK(cond) ((cond) ? (void)0 : abort())

#ifndef XATTR_NAME_MAX
#define XATTR_NAME_MAX 255
#endif

#define ALGO_COUNT 2

static const struct hash_algo *algos[HASH_SET_MAX];

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* proto_rel_ok's rule, written again the slow way. */
static bool rel_ok_reference(const char *rel, size_t len)
{
	size_t start = 0;

	if (len == 0 || len >= PROTO_REL_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && rel[i] == '\0')
			return false;
		if (i == len || rel[i] == '/') {
			size_t n = i - start;
			if (n == 0 || n > NAME_MAX)
				return false;
			if ((n == 1 && rel[start] == '.') ||
			    (n == 2 && rel[start] == '.' && rel[start + 1] == '.'))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* The one frame an encoder wrote to out, read back (out must outlive it). */
static void read_back(const struct dbuf *out, struct frame_reader *reader, struct frame *frame)
{
	struct frame again;

	CHECK(out->len >= FRAME_HEADER);
	CHECK(be32((const unsigned char *)out->data) == out->len - FRAME_HEADER);
	frame_reader_init_mem(reader, out->data, out->len);
	CHECK(frame_read(reader, frame) == 1);
	CHECK(frame_read(reader, &again) == 0);
}

/* Whether an encoder wrote exactly frame's bytes. */
static bool same_frame(const struct dbuf *out, const struct frame *frame)
{
	return out->len == FRAME_HEADER + frame->len &&
	       (unsigned char)out->data[4] == frame->type &&
	       memcmp(out->data + FRAME_HEADER, frame->payload, frame->len) == 0;
}

static bool same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Walk an entry's xattrs; when the blob is well formed, rebuilding it gives the same bytes. */
static void check_xattrs(const unsigned char *blob, size_t len)
{
	char name[XATTR_NAME_MAX + 1];
	const unsigned char *value;
	size_t pos = 0, value_len;
	struct dbuf rebuilt;
	int ret;

	dbuf_init(&rebuilt);
	while ((ret = proto_xattr_next(blob, len, &pos, name, &value, &value_len)) == 1) {
		size_t name_len = strlen(name);
		CHECK(name_len >= 1 && name_len <= XATTR_NAME_MAX);
		CHECK(pos <= len);
		CHECK(value >= blob && value_len <= len && (size_t)(value - blob) <= len - value_len);
		CHECK(proto_xattr_put(&rebuilt, name, value, value_len) == 0);
	}
	CHECK(ret == 0 || ret == -1);
	if (ret == 0)
		CHECK(same_bytes(rebuilt.data, rebuilt.len, blob, len));
	dbuf_free(&rebuilt);
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_mode == b->st_mode && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_size == b->st_size && a->st_blocks == b->st_blocks &&
	       a->st_atim.tv_sec == b->st_atim.tv_sec && a->st_atim.tv_nsec == b->st_atim.tv_nsec &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_nlink == b->st_nlink &&
	       a->st_rdev == b->st_rdev;
}

static void check_entry(const struct frame *frame)
{
	struct proto_entry entry, again;
	struct frame_reader reader;
	struct frame copy;
	struct dbuf out;
	const char *why = NULL;
	mode_t mode;

	if (proto_get_entry(frame, &entry, &why) != 0) {
		CHECK(why != NULL && errno == EPROTO);
		return;
	}
	mode = entry.st.st_mode;
	CHECK(entry.st.st_atim.tv_nsec >= 0 && entry.st.st_atim.tv_nsec < 1000000000);
	CHECK(entry.st.st_mtim.tv_nsec >= 0 && entry.st.st_mtim.tv_nsec < 1000000000);
	CHECK(entry.st.st_size >= 0 && entry.st.st_blocks >= 0);
	switch (frame->type) {
	case PROTO_ROOT:
		CHECK(entry.rel_len == 0 && S_ISDIR(mode));
		break;
	case PROTO_DIR:
		CHECK(S_ISDIR(mode));
		break;
	case PROTO_FILE:
	case PROTO_LINK:
		CHECK(S_ISREG(mode));
		break;
	case PROTO_NODE:
		CHECK(S_ISLNK(mode) || S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode));
		break;
	default:
		abort(); /* an entry of another type was accepted */
	}
	if (frame->type != PROTO_ROOT) {
		CHECK(proto_rel_ok(entry.rel, entry.rel_len));
		CHECK(entry.rel_len > 0 && entry.rel[0] != '/' && entry.rel[entry.rel_len - 1] != '/');
	}
	if (S_ISLNK(mode)) {
		CHECK(entry.target != NULL && entry.target_len > 0 && entry.target_len < PATH_MAX);
		CHECK(memchr(entry.target, '\0', entry.target_len) == NULL);
	} else {
		CHECK(entry.target == NULL && entry.target_len == 0);
	}
	CHECK((entry.xattrs == NULL) == (entry.xattrs_len == 0));
	if (entry.xattrs)
		check_xattrs(entry.xattrs, entry.xattrs_len);

	/* Re-encoded, the entry is the same frame, and decodes to the same fields. */
	dbuf_init(&out);
	CHECK(proto_put_entry(&out, frame->type, &entry) == 0);
	CHECK(same_frame(&out, frame));
	read_back(&out, &reader, &copy);
	CHECK(proto_get_entry(&copy, &again, &why) == 0);
	CHECK(same_bytes(again.rel, again.rel_len, entry.rel, entry.rel_len));
	CHECK(same_stat(&again.st, &entry.st));
	CHECK((again.target == NULL) == (entry.target == NULL));
	CHECK(same_bytes(again.target, again.target_len, entry.target, entry.target_len));
	CHECK(same_bytes(again.xattrs, again.xattrs_len, entry.xattrs, entry.xattrs_len));
	frame_reader_fini(&reader);
	dbuf_free(&out);
}

/* A decoded SETUP's exclude set is within its bounds and survives re-encoding. */
static void check_setup_excludes(const struct proto_setup *setup, const struct proto_setup *again)
{
	const char *pattern = setup->excludes, *other = again->excludes;

	CHECK(!(setup->flags & PROTO_EXCLUDE) == !setup->excludes);
	CHECK(!setup->excludes || setup->role == ROLE_SEND);
	CHECK(setup->nexcludes <= PROTO_EXCLUDE_MAX && again->nexcludes == setup->nexcludes);
	for (uint32_t i = 0; i < setup->nexcludes; i++) {
		size_t len = strlen(pattern);
		CHECK(len >= 1 && len <= PROTO_EXCLUDE_LEN_MAX && strcmp(pattern, other) == 0);
		pattern = proto_setup_next_exclude(pattern);
		other = proto_setup_next_exclude(other);
	}
}

static void check_setup(const struct frame *frame)
{
	struct proto_setup setup, again;
	struct dbuf store, store2, out;
	struct frame_reader reader;
	struct frame copy;
	const char *why = NULL;

	dbuf_init(&store);
	dbuf_init(&store2);
	dbuf_init(&out);
	if (proto_get_setup(frame, &setup, &store, &why) != 0) {
		CHECK(why != NULL);
		goto out;
	}
	CHECK(setup.role >= ROLE_RECEIVE && setup.role <= ROLE_ROLLBACK);
	CHECK((setup.flags & ~(uint32_t)PROTO_FLAGS_ALL) == 0);
	CHECK(setup.path[0] != '\0');
	CHECK(setup.block_size == 0 || (setup.block_size >= PROTO_BLOCK_MIN &&
					 setup.block_size <= PROTO_BLOCK_MAX &&
					 (setup.block_size & (setup.block_size - 1)) == 0));
	CHECK(proto_put_setup(&out, &setup) == 0);
	/* Strings without NUL and fixed-width numbers: the encoding is unique. */
	CHECK(out.len == FRAME_HEADER + frame->len &&
	      memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
	read_back(&out, &reader, &copy);
	CHECK(proto_get_setup(&copy, &again, &store2, &why) == 0);
	CHECK(again.role == setup.role && again.flags == setup.flags &&
	      again.readers == setup.readers && again.block_size == setup.block_size);
	CHECK(memcmp(again.key, setup.key, PROTO_KEY_LEN) == 0);
	CHECK(strcmp(again.path, setup.path) == 0 && strcmp(again.host, setup.host) == 0 &&
	      strcmp(again.algos, setup.algos) == 0 && strcmp(again.seal_name, setup.seal_name) == 0);
	CHECK(!(setup.flags & PROTO_SINGLE) == !setup.single_name);
	CHECK(!setup.single_name || strcmp(again.single_name, setup.single_name) == 0);
	CHECK(!setup.single_name || setup.role != ROLE_RECEIVE ||
	      (!strchr(setup.single_name, '/') &&
	       proto_rel_ok(setup.single_name, strlen(setup.single_name))));
	check_setup_excludes(&setup, &again);
	frame_reader_fini(&reader);
out:
	dbuf_free(&store);
	dbuf_free(&store2);
	dbuf_free(&out);
}

static void check_end(const struct frame *frame)
{
	char hex[ALGO_COUNT][HASH_HEX_MAX + 1], check[HASH_HEX_MAX + 1];
	const char *why = NULL;
	struct dbuf out;

	if (proto_get_end(frame, algos, ALGO_COUNT, hex, check, &why) != 0) {
		CHECK(why != NULL);
		return;
	}
	for (size_t i = 0; i < ALGO_COUNT; i++) {
		CHECK(strlen(hex[i]) == algos[i]->digest_len * 2);
		CHECK(strspn(hex[i], "0123456789abcdef") == strlen(hex[i]));
	}
	CHECK(strlen(check) == 32 && strspn(check, "0123456789abcdef") == 32);
	dbuf_init(&out);
	CHECK(proto_put_end(&out, hex, ALGO_COUNT, check) == 0);
	CHECK(out.len == FRAME_HEADER + frame->len &&
	      memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
	dbuf_free(&out);
}

static void check_done(const struct frame *frame)
{
	struct proto_done result, again;
	struct frame_reader reader;
	struct frame copy;
	const char *why = NULL;
	struct dbuf out;

	if (proto_get_done(frame, &result, &why) != 0) {
		CHECK(why != NULL);
		return;
	}
	CHECK(result.status <= 255);
	/* changed travels as any non-zero byte: compare fields, not bytes. */
	dbuf_init(&out);
	CHECK(proto_put_done(&out, &result) == 0);
	read_back(&out, &reader, &copy);
	CHECK(proto_get_done(&copy, &again, &why) == 0);
	CHECK(again.status == result.status && again.changed == result.changed &&
	      again.files == result.files && again.bytes == result.bytes);
	CHECK(same_bytes(again.why, again.why_len, result.why, result.why_len));
	frame_reader_fini(&reader);
	dbuf_free(&out);
}

/* The remote delta's frames: BASE, HASHES, SAME (fixed-width fields: re-encoding gives the bytes). */
static void check_delta(const struct frame *frame)
{
	const unsigned char *hashes;
	const char *why = NULL;
	uint64_t a, b;
	uint32_t block;
	size_t count;
	struct dbuf out;

	dbuf_init(&out);
	if (proto_get_base(frame, &a, &block, &why) == 0) {
		CHECK(a <= INT64_MAX && block >= PROTO_BLOCK_MIN && block <= PROTO_BLOCK_MAX &&
		      (block & (block - 1)) == 0);
		CHECK(proto_put_base(&out, a, block) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0 &&
		      out.len == FRAME_HEADER + frame->len);
		dbuf_clear(&out);
	}
	if (proto_get_hashes(frame, &a, &hashes, &count, &why) == 0) {
		/* The count comes from the bytes there, never from a field. */
		CHECK(count >= 1 && count <= PROTO_HASHES_MAX && a <= INT64_MAX);
		CHECK(frame->len == 12 + count * PROTO_HASH_LEN && hashes == frame->payload + 12);
		CHECK(proto_put_hashes(&out, a, hashes, count) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
		dbuf_clear(&out);
	}
	if (proto_get_same(frame, &a, &b, &why) == 0) {
		CHECK(b >= 1 && a <= INT64_MAX && b <= INT64_MAX - a && frame->len == 16);
		CHECK(proto_put_same(&out, a, b) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
	}
	dbuf_free(&out);
}

/*
 * Signing (PROTOCOL.md 4.10): SIGN, a known kind and a digest of exactly 64
 * bytes; SIGNATURE, exactly one of a signature and a reason, each within
 * its bound. Both re-encode to the bytes they came from.
 */
static void check_sign(const struct frame *frame)
{
	const unsigned char *digest;
	const char *armored, *reason, *why = NULL;
	size_t len, reason_len;
	unsigned what;
	struct dbuf out;

	dbuf_init(&out);
	if (proto_get_sign(frame, &what, &digest, &why) == 0) {
		CHECK(frame->type == PROTO_SIGN_ASK && what <= PROTO_SIGN_TAG_MANIFEST && frame->len == 1 + 4 + SSHSIG_DIGEST_LEN &&
		      digest == frame->payload + 5);
		CHECK(proto_put_sign(&out, what, digest) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
		dbuf_clear(&out);
	}
	if (proto_get_signature(frame, &armored, &len, &reason, &reason_len, &why) == 0) {
		CHECK(frame->type == PROTO_SIGNATURE && (len == 0) != (reason_len == 0) && len <= PROTO_SIGNATURE_MAX &&
		      reason_len <= PROTO_SIGN_WHY_MAX && frame->len == 8 + len + reason_len);
		CHECK(proto_put_signature(&out, armored, len, reason, reason_len) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
	}
	dbuf_free(&out);
}

/* The history an input's HISTORY frames send, gathered as a receiver does. */
static struct mhlcarry carry = {.histfd = -1};
static bool carry_refused;

static void carry_reset(void)
{
	mhlcarry_close(&carry);
	carry_refused = false;
}

static void check_history(const struct frame *frame)
{
	static const char chain[] = PROTO_HISTORY_CHAIN;
	const unsigned char *data;
	const char *name, *why = NULL;
	size_t name_len, len;
	struct dbuf out, path;

	if (proto_get_history(frame, &name, &name_len, &data, &len, &why) != 0) {
		CHECK(why != NULL && errno == EPROTO);
		return;
	}
	/* A name beneath ascmhl/: the chain or one generation, never a path. */
	CHECK(frame->type == PROTO_HISTORY);
	CHECK(name_len <= NAME_MAX && !memchr(name, '/', name_len) && !memchr(name, '\0', name_len));
	CHECK(name_len == 0 ? len == 0
			    : (name_len == sizeof(chain) - 1 && memcmp(name, chain, name_len) == 0) ||
				      (proto_generation_name_ok(name, name_len) && name[0] >= '0' &&
				       name[0] <= '9' && memcmp(name + name_len - 4, ".mhl", 4) == 0));
	dbuf_init(&out);
	CHECK(proto_put_history(&out, name, name_len, data, len) == 0 && same_frame(&out, frame));
	dbuf_free(&out);
	if (carry_refused)
		return;
	if (name_len > 0) {
		if (mhlcarry_receive(&carry, name, name_len, data, len, &why) != 0)
			carry_refused = true;
		return;
	}
	dbuf_init(&path);
	if (mhlcarry_receive_end(&carry, "fuzz", &path, &why) == 0) {
		/* Whole and checked: every generation the chain lists is there. */
		for (size_t i = 0; i < carry.chain.n; i++)
			CHECK(proto_generation_name_ok(carry.chain.links[i].path,
						       strlen(carry.chain.links[i].path)));
	}
	dbuf_free(&path);
	carry_reset();
}

/* Every decoder on one frame. */
static void check_frame(const struct frame *frame)
{
	const unsigned char *bytes;
	const char *text, *why = NULL;
	unsigned version;
	uint64_t left_out;
	bool single = false;
	size_t len;
	struct dbuf out;

	CHECK(frame->len <= FRAME_PAYLOAD_MAX);
	CHECK(proto_rel_ok((const char *)frame->payload, frame->len) ==
	      rel_ok_reference((const char *)frame->payload, frame->len));

	if (proto_get_hello(frame, &version, &why) == 0) {
		CHECK(frame->type == PROTO_HELLO);
		if (version == PROTO_VERSION) {
			dbuf_init(&out);
			CHECK(proto_put_hello(&out) == 0 && same_frame(&out, frame));
			dbuf_free(&out);
		}
	}
	check_setup(frame);
	if (frame->type >= PROTO_ROOT && frame->type <= PROTO_LINK)
		check_entry(frame);
	else
		CHECK(proto_get_entry(frame, &(struct proto_entry){ 0 }, &why) != 0);
	if (proto_get_data(frame, &bytes, &len, &why) == 0) {
		CHECK(len + 4 == frame->len && bytes == frame->payload + 4);
		dbuf_init(&out);
		CHECK(proto_put_data(&out, bytes, len) == 0);
		CHECK(out.len == FRAME_HEADER + frame->len &&
		      memcmp(out.data + FRAME_HEADER, frame->payload, frame->len) == 0);
		dbuf_free(&out);
	}
	check_end(frame);
	if (proto_get_text(frame, &text, &len, &why) == 0) {
		CHECK(len + 4 == frame->len && (const unsigned char *)text == frame->payload + 4);
		dbuf_init(&out);
		CHECK(proto_put_text(&out, frame->type, text, len) == 0 && same_frame(&out, frame));
		dbuf_free(&out);
	}
	if (proto_get_commit(frame, &left_out, &why) == 0) {
		CHECK(frame->len == 8);
		dbuf_init(&out);
		CHECK(proto_put_commit(&out, left_out) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, 8) == 0);
		dbuf_free(&out);
	}
	check_done(frame);
	check_delta(frame);
	check_sign(frame);
	check_history(frame);
	if (proto_get_ready(frame, &single, &why) == 0) {
		CHECK(frame->len == 1);
		dbuf_init(&out);
		CHECK(proto_put_ready(&out, single) == 0);
		CHECK(memcmp(out.data + FRAME_HEADER, frame->payload, 1) == 0);
		dbuf_free(&out);
	}
	if (proto_get_ready(frame, NULL, &why) == 0)
		CHECK(frame->len == 0);
}

/*
 * What the bytes hold, worked out here from the definition: the frames, and
 * how the stream ends (0: between frames; -1: inside one or an oversized
 * length). Each frame read must match; returns the count of whole frames.
 */
struct expected {
	size_t frames;
	int end;
};

static struct expected expect(const uint8_t *data, size_t size)
{
	struct expected e = { 0, 0 };
	size_t off = 0;

	for (;;) {
		uint32_t len;
		if (off == size)
			return e;
		if (size - off < FRAME_HEADER) {
			e.end = -1;
			return e;
		}
		len = be32(data + off);
		if (len > FRAME_PAYLOAD_MAX || size - off - FRAME_HEADER < len) {
			e.end = -1;
			return e;
		}
		off += FRAME_HEADER + len;
		e.frames++;
	}
}

/*
 * Read every frame with reader and check it against the bytes. When decode,
 * run the decoders too. Returns the offset reached.
 */
static size_t read_all(struct frame_reader *reader, const uint8_t *data, size_t size,
		       struct expected e, bool decode)
{
	struct frame frame;
	size_t off = 0, frames = 0, pending_len;
	const unsigned char *pending;
	int ret;

	while ((ret = frame_read(reader, &frame)) == 1) {
		CHECK(size - off >= FRAME_HEADER);
		CHECK(frame.len == be32(data + off) && frame.len <= FRAME_PAYLOAD_MAX);
		CHECK(frame.type == data[off + 4]);
		CHECK(size - off - FRAME_HEADER >= frame.len);
		CHECK(memcmp(frame.payload, data + off + FRAME_HEADER, frame.len) == 0);
		if (decode)
			check_frame(&frame);
		off += FRAME_HEADER + frame.len;
		frames++;
	}
	CHECK(frames == e.frames);
	CHECK(ret == e.end);
	if (ret == 0) {
		CHECK(off == size);
	} else {
		CHECK(errno == EPROTO);
		/* What came instead of a frame: the next bytes of the input. */
		pending = frame_reader_pending(reader, &pending_len);
		CHECK(pending_len > 0 && pending_len <= size - off);
		CHECK(memcmp(pending, data + off, pending_len) == 0);
	}
	/* Past the end, the reader stays there. */
	CHECK(frame_read(reader, &frame) == ret);
	return off;
}

/*
 * The same bytes through a socket, a packet per read(2), packet sizes taken
 * from the input itself. Skipped when the socket will not hold them all.
 */
static void read_in_pieces(const uint8_t *data, size_t size, struct expected e)
{
	struct frame_reader reader;
	int sv[2];
	size_t off = 0, piece = 0;

	if (size == 0 || size > 16384)
		return;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	while (off < size) {
		/*
		 * Sizes from the input: short reads at many offsets, in at
		 * most about 128 packets (a socket queues a few hundred).
		 */
		size_t n = (size_t)(data[piece++ % size] % 64) + 1 + size / 128;
		if (n > size - off)
			n = size - off;
		if (send(sv[0], data + off, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		off += n;
	}
	close(sv[0]);
	if (off == size) {
		frame_reader_init(&reader, sv[1]);
		read_all(&reader, data, size, e, false);
		frame_reader_fini(&reader);
	}
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader reader;
	struct expected e = expect(data, size);
	uint8_t *copy;

	if (!algos[0]) {
		const char *bad;
		size_t bad_len;
		CHECK(hash_parse_list("sha256,xxh128", algos, HASH_SET_MAX, &bad, &bad_len) == ALGO_COUNT);
	}
	/* An exact-size heap copy: the sanitizer sees any read past the input. */
	copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	if (size)
		memcpy(copy, data, size);
	frame_reader_init_mem(&reader, copy, size);
	read_all(&reader, copy, size, e, true);
	carry_reset();
	CHECK(reader.mem_pos <= size);
	frame_reader_fini(&reader);
	free(copy);

	read_in_pieces(data, size, e);
	return 0;
}
