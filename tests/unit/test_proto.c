/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of pcopy's protocol messages (pcopy/proto.c, linked into the
 * unit tests on its own: it needs nothing of pcopy but its header): what the
 * decoders refuse from a peer.
 */
#include "prelude.h"
#include "unit.h"
#include "../../pcopy/proto.h"
#include "dbuf.h"
#include "frame.h"
#include "hash.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool rel_ok(const char *rel)
{
	return proto_rel_ok(rel, strlen(rel));
}

UNIT_TEST(proto_rel_ok_shapes)
{
	char name[NAME_MAX + 3];

	EXPECT(!proto_rel_ok("", 0));
	EXPECT(!rel_ok("/a"));
	EXPECT(!rel_ok("a//b"));
	EXPECT(!rel_ok("a/"));
	EXPECT(!rel_ok("./a"));
	EXPECT(!rel_ok("a/."));
	EXPECT(!rel_ok("a/.."));
	EXPECT(!rel_ok(".."));
	EXPECT(!rel_ok("../a"));
	EXPECT(!rel_ok("."));
	EXPECT(!rel_ok("/"));
	EXPECT(!proto_rel_ok("a\0b", 3));
	EXPECT(!proto_rel_ok("a\0", 2));

	EXPECT(rel_ok("a"));
	EXPECT(rel_ok("a/b"));
	EXPECT(rel_ok(".a"));
	EXPECT(rel_ok("..a"));
	EXPECT(rel_ok("a.."));
	EXPECT(rel_ok("a..b"));
	EXPECT(rel_ok("a/..."));
	EXPECT(rel_ok("new\nline"));
	EXPECT(rel_ok("tab\there"));
	EXPECT(rel_ok("back\\slash"));

	/* A component of NAME_MAX bytes is a name; one byte more is not. */
	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	EXPECT(rel_ok(name));
	name[NAME_MAX] = 'n';
	name[NAME_MAX + 1] = '\0';
	EXPECT(!rel_ok(name));
	{
		char deeper[NAME_MAX + 4] = "d/";
		memset(deeper + 2, 'n', NAME_MAX + 1);
		deeper[NAME_MAX + 3] = '\0';
		EXPECT(!rel_ok(deeper));
		deeper[NAME_MAX + 2] = '\0';
		EXPECT(rel_ok(deeper));
	}
}

UNIT_TEST(proto_rel_ok_path_max)
{
	/* Components of 9 bytes: "aaaaaaaaa/..." past PATH_MAX (a local copy
	 * takes such paths too) up to PROTO_REL_MAX. */
	static char path[PROTO_REL_MAX + 16];
	size_t len;

	for (len = 0; len < sizeof(path) - 1; len++)
		path[len] = len % 10 == 9 ? '/' : 'a';
	path[PATH_MAX + 1] = 'a'; /* not ending in '/' */
	EXPECT(proto_rel_ok(path, PATH_MAX + 2));
	path[PROTO_REL_MAX - 1] = 'a';
	EXPECT(proto_rel_ok(path, PROTO_REL_MAX - 1));
	path[PROTO_REL_MAX] = 'a';
	EXPECT(!proto_rel_ok(path, PROTO_REL_MAX));
}

/* An entry frame (encoded by proto_put_entry) decoded again; *why on failure. */
static int entry_round(unsigned type, const char *rel, mode_t mode, const char *target,
		       long nsec, const char **why)
{
	struct proto_entry entry, got;
	struct frame_reader reader;
	struct frame frame;
	struct dbuf out;
	int ret;

	memset(&entry, 0, sizeof(entry));
	entry.rel = rel;
	entry.rel_len = strlen(rel);
	entry.st.st_mode = mode;
	entry.st.st_nlink = 1;
	entry.st.st_mtim.tv_sec = 1700000000;
	entry.st.st_mtim.tv_nsec = nsec;
	entry.target = target;
	entry.target_len = target ? strlen(target) : 0;
	dbuf_init(&out);
	PT_ASSERT(proto_put_entry(&out, type, &entry) == 0);
	frame_reader_init_mem(&reader, out.data, out.len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	*why = NULL;
	errno = 0;
	ret = proto_get_entry(&frame, &got, why);
	if (ret == 0) {
		EXPECT(got.st.st_mode == mode && got.st.st_mtim.tv_nsec == nsec);
		EXPECT(got.rel_len == entry.rel_len && memcmp(got.rel, rel, got.rel_len) == 0);
	} else {
		EXPECT(*why != NULL && errno == EPROTO);
	}
	frame_reader_fini(&reader);
	dbuf_free(&out);
	return ret;
}

UNIT_TEST(proto_entry_checks)
{
	const char *why;

	/* What a sender sends. */
	EXPECT(entry_round(PROTO_ROOT, "", S_IFDIR | 0755, NULL, 0, &why) == 0);
	EXPECT(entry_round(PROTO_DIR, "d", S_IFDIR | 0700, NULL, 0, &why) == 0);
	EXPECT(entry_round(PROTO_FILE, "d/f", S_IFREG | 0644, NULL, 999999999, &why) == 0);
	EXPECT(entry_round(PROTO_LINK, "d/g", S_IFREG | 0644, NULL, 0, &why) == 0);
	EXPECT(entry_round(PROTO_NODE, "d/l", S_IFLNK | 0777, "../x", 0, &why) == 0);
	EXPECT(entry_round(PROTO_NODE, "d/p", S_IFIFO | 0600, NULL, 0, &why) == 0);
	EXPECT(entry_round(PROTO_NODE, "d/c", S_IFCHR | 0600, NULL, 0, &why) == 0);

	/* A file type that does not go with the frame. */
	EXPECT(entry_round(PROTO_FILE, "f", S_IFDIR | 0755, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_LINK, "f", S_IFLNK | 0777, "t", 0, &why) == -1);
	EXPECT(entry_round(PROTO_DIR, "d", S_IFREG | 0644, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_ROOT, "", S_IFREG | 0644, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_NODE, "n", S_IFREG | 0644, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_NODE, "n", S_IFSOCK | 0644, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_DATA, "n", S_IFREG | 0644, NULL, 0, &why) == -1);
	/* Mode bits outside the type and permissions. */
	EXPECT(entry_round(PROTO_FILE, "f", S_IFREG | 0644 | 0x10000, NULL, 0, &why) == -1);

	/* Symlink targets: needed by a symlink, refused for anything else. */
	EXPECT(entry_round(PROTO_NODE, "l", S_IFLNK | 0777, "", 0, &why) == -1);
	EXPECT(entry_round(PROTO_NODE, "l", S_IFLNK | 0777, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_NODE, "p", S_IFIFO | 0600, "t", 0, &why) == -1);
	EXPECT(entry_round(PROTO_FILE, "f", S_IFREG | 0644, "t", 0, &why) == -1);
	EXPECT(entry_round(PROTO_DIR, "d", S_IFDIR | 0755, "t", 0, &why) == -1);

	/* Nanoseconds are below a second. */
	EXPECT(entry_round(PROTO_FILE, "f", S_IFREG | 0644, NULL, 1000000000, &why) == -1);

	/* The root has no name; everything else a name beneath it. */
	EXPECT(entry_round(PROTO_ROOT, "r", S_IFDIR | 0755, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_DIR, "", S_IFDIR | 0755, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_FILE, "../f", S_IFREG | 0644, NULL, 0, &why) == -1);
	EXPECT(entry_round(PROTO_FILE, "/etc/passwd", S_IFREG | 0644, NULL, 0, &why) == -1);
}

UNIT_TEST(proto_entry_target_with_nul)
{
	struct proto_entry entry, got;
	struct frame_reader reader;
	struct frame frame;
	struct dbuf out;
	const char *why;

	memset(&entry, 0, sizeof(entry));
	entry.rel = "l";
	entry.rel_len = 1;
	entry.st.st_mode = S_IFLNK | 0777;
	entry.target = "a\0b";
	entry.target_len = 3;
	dbuf_init(&out);
	PT_ASSERT(proto_put_entry(&out, PROTO_NODE, &entry) == 0);
	frame_reader_init_mem(&reader, out.data, out.len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	EXPECT(proto_get_entry(&frame, &got, &why) == -1);
	frame_reader_fini(&reader);
	dbuf_free(&out);
}

/* An END frame of count digests (and hex[2] as the check digest) decoded for sha256,xxh128. */
static int end_round(char hex[][HASH_HEX_MAX + 1], size_t count)
{
	const struct hash_algo *algos[HASH_SET_MAX];
	char got[2][HASH_HEX_MAX + 1], check[HASH_HEX_MAX + 1];
	struct frame_reader reader;
	struct frame frame;
	struct dbuf out;
	const char *bad, *why;
	size_t bad_len;
	int ret;

	PT_ASSERT(hash_parse_list("sha256,xxh128", algos, HASH_SET_MAX, &bad, &bad_len) == 2);
	dbuf_init(&out);
	PT_ASSERT(proto_put_end(&out, hex, count, hex[2]) == 0);
	frame_reader_init_mem(&reader, out.data, out.len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	ret = proto_get_end(&frame, algos, 2, got, check, &why);
	if (ret == 0)
		EXPECT(strcmp(got[0], hex[0]) == 0 && strcmp(got[1], hex[1]) == 0 &&
		       strcmp(check, hex[2]) == 0);
	frame_reader_fini(&reader);
	dbuf_free(&out);
	return ret;
}

UNIT_TEST(proto_end_checks)
{
	char hex[3][HASH_HEX_MAX + 1];

	memset(hex, 0, sizeof(hex));
	memset(hex[0], 'a', 64);
	memcpy(hex[0], "0123456789abcdef", 16);
	memset(hex[1], '9', 32);
	memset(hex[2], '0', 32);
	EXPECT(end_round(hex, 2) == 0);
	/* Another count of digests than the run's algorithms. */
	EXPECT(end_round(hex, 1) == -1);
	EXPECT(end_round(hex, 3) == -1);
	EXPECT(end_round(hex, 0) == -1);
	/* Digests of the wrong length (each algorithm's, in order). */
	hex[0][63] = '\0';
	EXPECT(end_round(hex, 2) == -1);
	hex[0][63] = 'a';
	hex[1][32] = '9';
	EXPECT(end_round(hex, 2) == -1);
	hex[1][32] = '\0';
	/* Upper-case or other non-hex characters. */
	hex[0][10] = 'A';
	EXPECT(end_round(hex, 2) == -1);
	hex[0][10] = 'g';
	EXPECT(end_round(hex, 2) == -1);
	hex[0][10] = 'a';
	EXPECT(end_round(hex, 2) == 0);
	/* A check digest (xxh128) of the wrong length. */
	hex[2][31] = '\0';
	EXPECT(end_round(hex, 2) == -1);
	hex[2][31] = '0';
	EXPECT(end_round(hex, 2) == 0);
}

/* The SETUP frame encoded in out through the decoder (out is freed): its result. */
static int decode_setup(struct dbuf *out, struct proto_setup *got, struct dbuf *store)
{
	struct frame_reader reader;
	struct frame frame;
	const char *why;
	int ret;

	frame_reader_init_mem(&reader, out->data, out->len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	ret = proto_get_setup(&frame, got, store, &why);
	frame_reader_fini(&reader);
	dbuf_free(out);
	return ret;
}

/* One SETUP through the encoder and decoder: the decoder's result. */
static int setup_round(const struct proto_setup *setup, struct proto_setup *got, struct dbuf *store)
{
	struct dbuf out;

	dbuf_init(&out);
	PT_ASSERT(proto_put_setup(&out, setup) == 0);
	return decode_setup(&out, got, store);
}

UNIT_TEST(proto_single_file_setup_and_ready)
{
	struct proto_setup setup = { ROLE_RECEIVE, "dir/new", "host", PROTO_SINGLE, "sha256", "", 4,
				     0, { 0 }, "file.bin", NULL, 0 };
	struct proto_setup got;
	struct frame_reader reader;
	struct frame frame;
	struct dbuf out, store;
	const char *why;
	bool single = false;

	dbuf_init(&store);
	dbuf_init(&out);
	EXPECT(setup_round(&setup, &got, &store) == 0);
	EXPECT(got.single_name && strcmp(got.single_name, "file.bin") == 0);
	EXPECT(got.seal_name[0] == '\0' && got.readers == 4);
	/* Receiving, the name is one component; sending, there is none. */
	setup.single_name = "a/b";
	EXPECT(setup_round(&setup, &got, &store) == -1);
	setup.single_name = "..";
	EXPECT(setup_round(&setup, &got, &store) == -1);
	setup.role = ROLE_SEND;
	EXPECT(setup_round(&setup, &got, &store) == -1);
	setup.single_name = "";
	EXPECT(setup_round(&setup, &got, &store) == 0 && got.single_name[0] == '\0');
	/* Without the flag: no such field, as before. */
	setup.flags = 0;
	EXPECT(setup_round(&setup, &got, &store) == 0 && got.single_name == NULL);
	/* READY: empty, or one byte 0 or 1 when asked. */
	PT_ASSERT(proto_put_ready(&out, 1) == 0 && proto_put_ready(&out, -1) == 0);
	frame_reader_init_mem(&reader, out.data, out.len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	EXPECT(proto_get_ready(&frame, &single, &why) == 0 && single);
	EXPECT(proto_get_ready(&frame, NULL, &why) == -1);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	EXPECT(proto_get_ready(&frame, NULL, &why) == 0);
	EXPECT(proto_get_ready(&frame, &single, &why) == -1);
	frame_reader_fini(&reader);
	dbuf_free(&out);
	dbuf_free(&store);
}

UNIT_TEST(proto_setup_round_trip)
{
	struct proto_setup setup = { ROLE_SEND, "/srv/tree", "me@host", PROTO_PRESERVE | PROTO_HARD_LINKS,
				     "sha256,xxh128", ".ptools-seal", 4, 0, { 0 }, NULL, NULL, 0 };
	struct proto_setup got;
	struct dbuf store;

	dbuf_init(&store);
	EXPECT(setup_round(&setup, &got, &store) == 0);
	EXPECT(got.role == ROLE_SEND && got.flags == setup.flags && got.readers == 4);
	EXPECT(strcmp(got.path, "/srv/tree") == 0 && strcmp(got.host, "me@host") == 0);
	EXPECT(strcmp(got.algos, "sha256,xxh128") == 0 && strcmp(got.seal_name, ".ptools-seal") == 0);

	/* An unknown role, unknown flags, an empty path: refused. */
	setup.role = 4;
	EXPECT(setup_round(&setup, &got, &store) == -1);
	setup.role = ROLE_RECEIVE;
	setup.flags = PROTO_FLAGS_ALL + 1;
	EXPECT(setup_round(&setup, &got, &store) == -1);
	setup.flags = 0;
	setup.path = "";
	EXPECT(setup_round(&setup, &got, &store) == -1);
	dbuf_free(&store);
}

UNIT_TEST(proto_hello_and_xattrs)
{
	struct frame_reader reader;
	struct frame frame;
	struct dbuf out, blob;
	const unsigned char *value;
	char name[256];
	const char *why;
	unsigned version = 0;
	size_t pos = 0, len;

	dbuf_init(&out);
	PT_ASSERT(proto_put_hello(&out) == 0);
	frame_reader_init_mem(&reader, out.data, out.len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	EXPECT(proto_get_hello(&frame, &version, &why) == 0 && version == PROTO_VERSION);
	frame.type = PROTO_SETUP;
	EXPECT(proto_get_hello(&frame, &version, &why) == -1);
	frame_reader_fini(&reader);
	dbuf_free(&out);

	dbuf_init(&blob);
	PT_ASSERT(proto_xattr_put(&blob, "user.a", "1", 1) == 0);
	PT_ASSERT(proto_xattr_put(&blob, "user.b", "", 0) == 0);
	EXPECT(proto_xattr_next((unsigned char *)blob.data, blob.len, &pos, name, &value, &len) == 1);
	EXPECT(strcmp(name, "user.a") == 0 && len == 1 && value[0] == '1');
	EXPECT(proto_xattr_next((unsigned char *)blob.data, blob.len, &pos, name, &value, &len) == 1);
	EXPECT(strcmp(name, "user.b") == 0 && len == 0);
	EXPECT(proto_xattr_next((unsigned char *)blob.data, blob.len, &pos, name, &value, &len) == 0);
	/* An empty name, and a blob cut short. */
	dbuf_clear(&blob);
	PT_ASSERT(proto_xattr_put(&blob, "", "v", 1) == 0);
	pos = 0;
	EXPECT(proto_xattr_next((unsigned char *)blob.data, blob.len, &pos, name, &value, &len) == -1);
	dbuf_clear(&blob);
	PT_ASSERT(proto_xattr_put(&blob, "user.a", "12", 2) == 0);
	pos = 0;
	EXPECT(proto_xattr_next((unsigned char *)blob.data, blob.len - 1, &pos, name, &value, &len) == -1);
	dbuf_free(&blob);
}

/* Decode the one frame in out with get (a delta frame's decoder, wrapped). */
static int delta_round(struct dbuf *out, int (*get)(const struct frame *frame))
{
	struct frame_reader reader;
	struct frame frame;
	int ret;

	frame_reader_init_mem(&reader, out->data, out->len);
	PT_ASSERT(frame_read(&reader, &frame) == 1);
	ret = get(&frame);
	frame_reader_fini(&reader);
	dbuf_clear(out);
	return ret;
}

static uint64_t got_u64, got_len;
static uint32_t got_block;

static int get_base(const struct frame *frame)
{
	const char *why;

	return proto_get_base(frame, &got_u64, &got_block, &why);
}

static int get_hashes(const struct frame *frame)
{
	const unsigned char *hashes;
	const char *why;
	size_t count;
	int ret = proto_get_hashes(frame, &got_u64, &hashes, &count, &why);

	got_len = count;
	return ret;
}

static int get_same(const struct frame *frame)
{
	const char *why;

	return proto_get_same(frame, &got_u64, &got_len, &why);
}

UNIT_TEST(proto_delta_frames)
{
	static unsigned char hashes[(PROTO_HASHES_MAX + 1) * PROTO_HASH_LEN];
	struct dbuf out;
	size_t start;

	dbuf_init(&out);
	/* BASE: a size up to 2^63-1, a block size a power of two from 4 KiB to 1 MiB. */
	PT_ASSERT(proto_put_base(&out, 5 << 20, 65536) == 0);
	EXPECT(delta_round(&out, get_base) == 0 && got_u64 == 5 << 20 && got_block == 65536);
	PT_ASSERT(proto_put_base(&out, 1, 4096) == 0);
	EXPECT(delta_round(&out, get_base) == 0);
	PT_ASSERT(proto_put_base(&out, 1, 1 << 20) == 0);
	EXPECT(delta_round(&out, get_base) == 0);
	PT_ASSERT(proto_put_base(&out, 1, 2048) == 0);
	EXPECT(delta_round(&out, get_base) == -1);
	PT_ASSERT(proto_put_base(&out, 1, 2 << 20) == 0);
	EXPECT(delta_round(&out, get_base) == -1);
	PT_ASSERT(proto_put_base(&out, 1, 65536 + 4096) == 0);
	EXPECT(delta_round(&out, get_base) == -1);
	PT_ASSERT(proto_put_base(&out, (uint64_t)INT64_MAX + 1, 65536) == 0);
	EXPECT(delta_round(&out, get_base) == -1);

	/* HASHES: 1 to PROTO_HASHES_MAX whole hashes. */
	PT_ASSERT(proto_put_hashes(&out, 7, hashes, 3) == 0);
	EXPECT(delta_round(&out, get_hashes) == 0 && got_u64 == 7 && got_len == 3);
	PT_ASSERT(proto_put_hashes(&out, 0, hashes, PROTO_HASHES_MAX) == 0);
	EXPECT(delta_round(&out, get_hashes) == 0 && got_len == PROTO_HASHES_MAX);
	PT_ASSERT(proto_put_hashes(&out, 0, hashes, PROTO_HASHES_MAX + 1) == 0);
	EXPECT(delta_round(&out, get_hashes) == -1);
	PT_ASSERT(proto_put_hashes(&out, 0, hashes, 0) == 0);
	EXPECT(delta_round(&out, get_hashes) == -1);
	/* A part of a hash; a count field that lies about the bytes. */
	PT_ASSERT(frame_begin(&out, PROTO_HASHES, &start) == 0 && frame_put_u64(&out, 0) == 0 &&
		  frame_put_bytes(&out, hashes, PROTO_HASH_LEN + 1) == 0 && frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_hashes) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_HASHES, &start) == 0 && frame_put_u64(&out, 0) == 0 &&
		  frame_put_u32(&out, 1000000) == 0 && dbuf_append(&out, hashes, 32) == 0 &&
		  frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_hashes) == -1);

	/* SAME: not empty, not past 2^63-1. */
	PT_ASSERT(proto_put_same(&out, 4096, 8192) == 0);
	EXPECT(delta_round(&out, get_same) == 0 && got_u64 == 4096 && got_len == 8192);
	PT_ASSERT(proto_put_same(&out, 4096, 0) == 0);
	EXPECT(delta_round(&out, get_same) == -1);
	PT_ASSERT(proto_put_same(&out, (uint64_t)INT64_MAX, 1) == 0);
	EXPECT(delta_round(&out, get_same) == -1);
	PT_ASSERT(proto_put_same(&out, 1, UINT64_MAX) == 0);
	EXPECT(delta_round(&out, get_same) == -1);
	/* A field missing, one too many. */
	PT_ASSERT(frame_begin(&out, PROTO_SAME, &start) == 0 && frame_put_u64(&out, 0) == 0 &&
		  frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_same) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_SAME, &start) == 0 && frame_put_u64(&out, 0) == 0 &&
		  frame_put_u64(&out, 1) == 0 && frame_put_u8(&out, 0) == 0 &&
		  frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_same) == -1);
	dbuf_free(&out);
}

UNIT_TEST(proto_setup_delta_fields)
{
	struct proto_setup setup = { ROLE_RECEIVE, "/d", "h", PROTO_DELTA | PROTO_INPLACE, "sha256", ".s", 4,
				     65536, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, NULL, NULL, 0 };
	struct proto_setup got;
	struct dbuf store;

	dbuf_init(&store);
	EXPECT(setup_round(&setup, &got, &store) == 0);
	EXPECT(got.flags == setup.flags && got.block_size == 65536);
	EXPECT(memcmp(got.key, setup.key, PROTO_KEY_LEN) == 0);
	/* A block size the protocol does not allow. */
	setup.block_size = 3000;
	EXPECT(setup_round(&setup, &got, &store) == -1);
	dbuf_free(&store);
}

/* HISTORY's decode of the one frame in out: 0 or -1; name and data into the globals. */
static const char *got_name;
static size_t got_name_len, got_data_len;

static int get_history(const struct frame *frame)
{
	const unsigned char *data;
	const char *why;
	int ret = proto_get_history(frame, &got_name, &got_name_len, &data, &got_data_len, &why);

	EXPECT(ret == 0 || (why != NULL && errno == EPROTO));
	return ret;
}

/* A HISTORY named name with len bytes of data, decoded. */
static int history_round(struct dbuf *out, const char *name, size_t len)
{
	static const char data[] = "<hashlist/>";

	PT_ASSERT(len < sizeof(data));
	PT_ASSERT(proto_put_history(out, name, strlen(name), data, len) == 0);
	return delta_round(out, get_history);
}

UNIT_TEST(proto_history_frames)
{
	char name[NAME_MAX + 2];
	struct dbuf out;
	size_t start;

	dbuf_init(&out);
	/* The chain, generations as the reference implementation names them, the end. */
	EXPECT(history_round(&out, "ascmhl_chain.xml", 5) == 0 && got_name_len == 16 &&
	       got_data_len == 5);
	EXPECT(history_round(&out, "0001_card_2024-01-01_000000Z.mhl", 0) == 0);
	EXPECT(history_round(&out, "12.mhl", 3) == 0);
	EXPECT(history_round(&out, "", 0) == 0 && got_name_len == 0);
	/* Data after the end; a name that is neither the chain nor a generation. */
	EXPECT(history_round(&out, "", 1) == -1);
	EXPECT(history_round(&out, "../0001_x.mhl", 1) == -1);
	EXPECT(history_round(&out, "0001_x/../../etc.mhl", 1) == -1);
	EXPECT(history_round(&out, "ascmhl/0001_x.mhl", 1) == -1);
	EXPECT(history_round(&out, "0001_x.mhl/", 1) == -1);
	EXPECT(history_round(&out, "ascmhl_chain.xml.sig", 1) == -1);
	EXPECT(history_round(&out, "x0001.mhl", 1) == -1);
	EXPECT(history_round(&out, "0001x.mhl", 1) == -1);
	EXPECT(history_round(&out, "0001_x.xml", 1) == -1);
	EXPECT(history_round(&out, "0001", 1) == -1);
	EXPECT(history_round(&out, ".mhl", 1) == -1);
	EXPECT(history_round(&out, "..", 1) == -1);
	/* A NUL in the name; NAME_MAX bytes and one more. */
	PT_ASSERT(proto_put_history(&out, "0001_\0.mhl", 10, "", 0) == 0);
	EXPECT(delta_round(&out, get_history) == -1);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "1_", 2);
	memcpy(name + NAME_MAX - 4, ".mhl", 5);
	EXPECT(strlen(name) == NAME_MAX && history_round(&out, name, 1) == 0);
	name[NAME_MAX - 4] = 'a';
	memcpy(name + NAME_MAX - 3, ".mhl", 5);
	EXPECT(strlen(name) == NAME_MAX + 1 && history_round(&out, name, 1) == -1);
	/* Another frame type; a field missing; one too many. */
	PT_ASSERT(proto_put_text(&out, PROTO_MSG, "ascmhl_chain.xml", 16) == 0);
	EXPECT(delta_round(&out, get_history) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_HISTORY, &start) == 0 &&
		  frame_put_bytes(&out, "ascmhl_chain.xml", 16) == 0 && frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_history) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_HISTORY, &start) == 0 &&
		  frame_put_bytes(&out, "ascmhl_chain.xml", 16) == 0 &&
		  frame_put_bytes(&out, "x", 1) == 0 && frame_put_u8(&out, 0) == 0 &&
		  frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_history) == -1);
	dbuf_free(&out);
}

/*
 * SIGN's and SIGNATURE's decodes of the one frame in out: 0 or -1; the
 * fields into the globals (the first bytes copied: the frame goes away).
 */
static unsigned got_what;
static unsigned char got_digest[SSHSIG_DIGEST_LEN];
static char got_text[16];
static size_t got_sig_len, got_reason_len;

static int get_sign(const struct frame *frame)
{
	const unsigned char *digest;
	const char *why;
	int ret = proto_get_sign(frame, &got_what, &digest, &why);

	EXPECT(ret == 0 || (why != NULL && errno == EPROTO));
	if (ret == 0)
		memcpy(got_digest, digest, sizeof(got_digest));
	return ret;
}

static int get_signature(const struct frame *frame)
{
	const char *armored, *reason, *why;
	int ret = proto_get_signature(frame, &armored, &got_sig_len, &reason, &got_reason_len, &why);

	EXPECT(ret == 0 || (why != NULL && errno == EPROTO));
	if (ret == 0) {
		const char *text = got_sig_len ? armored : reason;
		size_t len = got_sig_len ? got_sig_len : got_reason_len;
		memset(got_text, 0, sizeof(got_text));
		memcpy(got_text, text, len < sizeof(got_text) ? len : sizeof(got_text));
	}
	return ret;
}

UNIT_TEST(proto_sign_frames)
{
	static char big[PROTO_SIGNATURE_MAX + 1];
	unsigned char digest[SSHSIG_DIGEST_LEN + 1];
	struct dbuf out;
	size_t start;

	dbuf_init(&out);
	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (unsigned char)i;
	/* SIGN: each kind of seal, the 64-byte digest back as sent. */
	for (unsigned what = PROTO_SIGN_SEAL; what <= PROTO_SIGN_TAG_MANIFEST; what++) {
		PT_ASSERT(proto_put_sign(&out, what, digest) == 0);
		EXPECT(delta_round(&out, get_sign) == 0 && got_what == what &&
		       memcmp(got_digest, digest, SSHSIG_DIGEST_LEN) == 0);
	}
	/* An unknown kind; a digest one byte short or long; another type. */
	PT_ASSERT(proto_put_sign(&out, PROTO_SIGN_TAG_MANIFEST + 1, digest) == 0);
	EXPECT(delta_round(&out, get_sign) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_SIGN_ASK, &start) == 0 && frame_put_u8(&out, 0) == 0 &&
		  frame_put_bytes(&out, digest, SSHSIG_DIGEST_LEN - 1) == 0 && frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_sign) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_SIGN_ASK, &start) == 0 && frame_put_u8(&out, 0) == 0 &&
		  frame_put_bytes(&out, digest, SSHSIG_DIGEST_LEN + 1) == 0 && frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_sign) == -1);
	PT_ASSERT(proto_put_signature(&out, "x", 1, NULL, 0) == 0);
	EXPECT(delta_round(&out, get_sign) == -1);

	/* SIGNATURE: a signature, or a reason. */
	PT_ASSERT(proto_put_signature(&out, "-----BEGIN SSH SIGNATURE-----\n", 30, NULL, 0) == 0);
	EXPECT(delta_round(&out, get_signature) == 0 && got_sig_len == 30 && got_reason_len == 0 &&
	       memcmp(got_text, "-----BEGIN", 10) == 0);
	PT_ASSERT(proto_put_signature(&out, NULL, 0, "agent refused", 13) == 0);
	EXPECT(delta_round(&out, get_signature) == 0 && got_sig_len == 0 && got_reason_len == 13 &&
	       memcmp(got_text, "agent refused", 13) == 0);
	/* Both, neither, over the bounds, a field missing, another type. */
	PT_ASSERT(proto_put_signature(&out, "sig", 3, "why", 3) == 0);
	EXPECT(delta_round(&out, get_signature) == -1);
	PT_ASSERT(proto_put_signature(&out, NULL, 0, NULL, 0) == 0);
	EXPECT(delta_round(&out, get_signature) == -1);
	memset(big, 'A', sizeof(big));
	PT_ASSERT(proto_put_signature(&out, big, PROTO_SIGNATURE_MAX, NULL, 0) == 0);
	EXPECT(delta_round(&out, get_signature) == 0);
	PT_ASSERT(proto_put_signature(&out, big, PROTO_SIGNATURE_MAX + 1, NULL, 0) == 0);
	EXPECT(delta_round(&out, get_signature) == -1);
	PT_ASSERT(proto_put_signature(&out, NULL, 0, big, PROTO_SIGN_WHY_MAX + 1) == 0);
	EXPECT(delta_round(&out, get_signature) == -1);
	PT_ASSERT(frame_begin(&out, PROTO_SIGNATURE, &start) == 0 &&
		  frame_put_bytes(&out, "sig", 3) == 0 && frame_end(&out, start) == 0);
	EXPECT(delta_round(&out, get_signature) == -1);
	PT_ASSERT(proto_put_sign(&out, 0, digest) == 0);
	EXPECT(delta_round(&out, get_signature) == -1);
	dbuf_free(&out);
}

UNIT_TEST(proto_setup_sign_flag)
{
	struct proto_setup setup = { ROLE_RECEIVE, "dest", "host", PROTO_SIGN | PROTO_MHL, "sha256",
				     ".ptools-seal", 4, 0, { 0 }, NULL, NULL, 0 };
	struct proto_setup got;
	struct dbuf store;

	dbuf_init(&store);
	EXPECT(setup_round(&setup, &got, &store) == 0 && got.flags == (PROTO_SIGN | PROTO_MHL));
	/* Only a receiving side writes seals to sign. */
	setup.role = ROLE_SEND;
	EXPECT(setup_round(&setup, &got, &store) == -1);
	setup.role = ROLE_ROLLBACK;
	EXPECT(setup_round(&setup, &got, &store) == -1);
	dbuf_free(&store);
}

/*
 * A SETUP(role) with PROTO_EXCLUDE built by hand: count as said, then the
 * n patterns given (lens[i] bytes each, NUL allowed). The decoder's result.
 */
static int exclude_setup_round(unsigned role, uint32_t count, const char *const *patterns,
			       const size_t *lens, size_t n, struct proto_setup *got,
			       struct dbuf *store)
{
	static const unsigned char key[PROTO_KEY_LEN];
	struct dbuf out;
	size_t start;

	dbuf_init(&out);
	PT_ASSERT(frame_begin(&out, PROTO_SETUP, &start) == 0);
	PT_ASSERT(frame_put_u8(&out, (uint8_t)role) == 0 && frame_put_str(&out, "src") == 0 &&
		  frame_put_str(&out, "host") == 0 &&
		  frame_put_u32(&out, PROTO_EXCLUDE | PROTO_SINGLE) == 0 &&
		  frame_put_str(&out, "sha256") == 0 && frame_put_str(&out, ".ptools-seal") == 0 &&
		  frame_put_u32(&out, 4) == 0 && frame_put_u32(&out, 0) == 0 &&
		  frame_put_bytes(&out, key, sizeof(key)) == 0 && frame_put_str(&out, "") == 0 &&
		  frame_put_u32(&out, count) == 0);
	for (size_t i = 0; i < n; i++)
		PT_ASSERT(frame_put_bytes(&out, patterns[i], lens[i]) == 0);
	PT_ASSERT(frame_end(&out, start) == 0);
	return decode_setup(&out, got, store);
}

UNIT_TEST(proto_setup_exclude_round_trip)
{
	static const char patterns[] = "*.tmp\0/cache/\0a/b c\0.DS_Store";
	struct proto_setup setup = { ROLE_SEND, "src", "host", PROTO_EXCLUDE | PROTO_SINGLE, "sha256",
				     ".ptools-seal", 4, 0, { 0 }, "", patterns, 4 };
	static const char *const want[] = { "*.tmp", "/cache/", "a/b c", ".DS_Store" };
	struct proto_setup got;
	struct dbuf store;
	const char *pattern;

	dbuf_init(&store);
	EXPECT(setup_round(&setup, &got, &store) == 0);
	EXPECT(got.flags == setup.flags && got.nexcludes == 4 && got.single_name[0] == '\0');
	pattern = got.excludes;
	for (size_t i = 0; i < 4; i++) {
		EXPECT(strcmp(pattern, want[i]) == 0);
		pattern = proto_setup_next_exclude(pattern);
	}
	/* An empty set: --no-default-excludes alone. */
	setup.nexcludes = 0;
	EXPECT(setup_round(&setup, &got, &store) == 0 && got.nexcludes == 0 && got.excludes);
	/* Without the flag: no such field, as before. */
	setup.flags = PROTO_SINGLE;
	setup.nexcludes = 4;
	EXPECT(setup_round(&setup, &got, &store) == 0 && got.nexcludes == 0 && !got.excludes);
	dbuf_free(&store);
}

UNIT_TEST(proto_setup_exclude_refused)
{
	static const char *const one[] = { "*.tmp" };
	static const size_t one_len[] = { 5 };
	static const char *const bad_nul[] = { "a\0b" };
	static const size_t nul_len[] = { 3 };
	static const char *const empty[] = { "" };
	static const size_t empty_len[] = { 0 };
	const char **many = calloc(PROTO_EXCLUDE_MAX + 1, sizeof(*many));
	size_t *many_len = calloc(PROTO_EXCLUDE_MAX + 1, sizeof(*many_len));
	char *long_pattern = malloc(PROTO_EXCLUDE_LEN_MAX + 1);
	size_t long_len = PROTO_EXCLUDE_LEN_MAX + 1;
	struct proto_setup got;
	struct dbuf store;

	PT_ASSERT(many && many_len && long_pattern);
	memset(long_pattern, 'x', PROTO_EXCLUDE_LEN_MAX + 1);
	for (size_t i = 0; i <= PROTO_EXCLUDE_MAX; i++) {
		many[i] = "p";
		many_len[i] = 1;
	}
	dbuf_init(&store);
	EXPECT(exclude_setup_round(ROLE_SEND, 1, one, one_len, 1, &got, &store) == 0);
	/* Only a sending side walks a tree. */
	EXPECT(exclude_setup_round(ROLE_RECEIVE, 1, one, one_len, 1, &got, &store) == -1);
	EXPECT(exclude_setup_round(ROLE_ROLLBACK, 1, one, one_len, 1, &got, &store) == -1);
	/* At most PROTO_EXCLUDE_MAX patterns. */
	EXPECT(exclude_setup_round(ROLE_SEND, PROTO_EXCLUDE_MAX, many, many_len, PROTO_EXCLUDE_MAX,
				   &got, &store) == 0 && got.nexcludes == PROTO_EXCLUDE_MAX);
	EXPECT(exclude_setup_round(ROLE_SEND, PROTO_EXCLUDE_MAX + 1, many, many_len,
				   PROTO_EXCLUDE_MAX + 1, &got, &store) == -1);
	EXPECT(exclude_setup_round(ROLE_SEND, UINT32_MAX, one, one_len, 1, &got, &store) == -1);
	/* Each 1 to PROTO_EXCLUDE_LEN_MAX bytes, without NUL. */
	EXPECT(exclude_setup_round(ROLE_SEND, 1, (const char *const *)&long_pattern, &long_len, 1,
				   &got, &store) == -1);
	long_len = PROTO_EXCLUDE_LEN_MAX;
	EXPECT(exclude_setup_round(ROLE_SEND, 1, (const char *const *)&long_pattern, &long_len, 1,
				   &got, &store) == 0 && strlen(got.excludes) == PROTO_EXCLUDE_LEN_MAX);
	EXPECT(exclude_setup_round(ROLE_SEND, 1, bad_nul, nul_len, 1, &got, &store) == -1);
	EXPECT(exclude_setup_round(ROLE_SEND, 1, empty, empty_len, 1, &got, &store) == -1);
	/* The count and the patterns must agree. */
	EXPECT(exclude_setup_round(ROLE_SEND, 2, one, one_len, 1, &got, &store) == -1);
	EXPECT(exclude_setup_round(ROLE_SEND, 0, one, one_len, 1, &got, &store) == -1);
	dbuf_free(&store);
	free(long_pattern);
	free(many_len);
	free(many);
}
