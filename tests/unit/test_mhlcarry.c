/* SPDX-License-Identifier: 0BSD */
/**
 * Unit tests of a source's ASC MHL history received over the protocol
 * (pcopy/mhlcarry.c, linked into the unit tests with proto.c): the order
 * and limits a sender must keep, and the receiver's own check of what came
 * against the chain.
 */
#include "prelude.h"
#include "unit.h"
#include "../../pcopy/mhlcarry.h"
#include "../../pcopy/proto.h"
#include "dbuf.h"
#include "hash.h"
#include "hashreg.h"
#include "mhl2.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define GEN1 "0001_card_2024-01-01_000000Z.mhl"
#define GEN2 "0002_card_2024-01-02_000000Z.mhl"

/* The C4 id of len bytes. */
static void c4_of(const char *data, size_t len, char *c4)
{
	struct hash_ctx *ctx = hash_ctx_new(hash_lookup("sha512"));
	unsigned char digest[64];

	PT_ASSERT(ctx && hash_ctx_update(ctx, data, len) == 0 && hash_ctx_final(ctx, digest) == 0);
	hash_ctx_free(ctx);
	mhl2_c4_encode(digest, c4);
}

/* A chain listing GEN1 (bytes one) and GEN2 (bytes two) into chain. */
static void make_chain(struct dbuf *chain, const char *one, const char *two)
{
	char c1[MHL2_C4_LEN + 1], c2[MHL2_C4_LEN + 1];

	c4_of(one, strlen(one), c1);
	c4_of(two, strlen(two), c2);
	dbuf_clear(chain);
	PT_ASSERT(dbuf_printf(chain, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n"
			      "<hashlist sequencenr=\"1\"><path>%s</path><c4>%s</c4></hashlist>\n"
			      "<hashlist sequencenr=\"2\"><path>%s</path><c4>%s</c4></hashlist>\n"
			      "</ascmhldirectory>\n", GEN1, c1, GEN2, c2) == 0);
}

static int piece(struct mhlcarry *carry, const char *name, const char *data, const char **why)
{
	return mhlcarry_receive(carry, name, strlen(name), data, strlen(data), why);
}

/* The end of a received history: 0, or -1 with *reason; errno kept in *err. */
static int end(struct mhlcarry *carry, const char **reason, int *err)
{
	struct dbuf path;
	int ret;

	dbuf_init(&path);
	ret = mhlcarry_receive_end(carry, "host:card", &path, reason);
	*err = errno;
	dbuf_free(&path);
	return ret;
}

static int gather_piece(void *arg, const void *data, size_t len)
{
	return dbuf_append(arg, data, len);
}

UNIT_TEST(mhlcarry_receives_and_checks_a_history)
{
	struct mhlcarry carry = {.histfd = -1};
	struct dbuf chain, got;
	const char *why;
	int err;

	dbuf_init(&chain);
	dbuf_init(&got);
	make_chain(&chain, "first generation", "second generation");
	/* The chain in two pieces, then each generation, one in pieces. */
	EXPECT(mhlcarry_receive(&carry, "ascmhl_chain.xml", 16, chain.data, 10, &why) == 0);
	EXPECT(mhlcarry_receive(&carry, "ascmhl_chain.xml", 16, chain.data + 10, chain.len - 10,
				&why) == 0);
	EXPECT(piece(&carry, GEN1, "first ", &why) == 0);
	EXPECT(piece(&carry, GEN1, "generation", &why) == 0);
	EXPECT(piece(&carry, GEN2, "second generation", &why) == 0);
	EXPECT(end(&carry, &why, &err) == 0);
	EXPECT(carry.chain.n == 2 && strcmp(carry.chain.links[1].path, GEN2) == 0);
	/* What is carried is what came, byte for byte; the chain too. */
	EXPECT(mhlcarry_read(&carry, 0, gather_piece, &got) == 0);
	EXPECT(got.len == 16 && memcmp(got.data, "first generation", 16) == 0);
	dbuf_clear(&got);
	EXPECT(mhlcarry_read(&carry, MHLCARRY_CHAIN, gather_piece, &got) == 0);
	EXPECT(got.len == chain.len && memcmp(got.data, chain.data, chain.len) == 0);
	mhlcarry_close(&carry);
	dbuf_free(&chain);
	dbuf_free(&got);
}

UNIT_TEST(mhlcarry_refuses_a_history_out_of_order_or_not_its_chains)
{
	struct mhlcarry carry = {.histfd = -1};
	struct dbuf chain;
	const char *why;
	int err;

	dbuf_init(&chain);
	make_chain(&chain, "first generation", "second generation");
	/* Not beginning with the chain; a name that is no history file's. */
	EXPECT(piece(&carry, GEN1, "first generation", &why) == -1 && errno == EPROTO);
	EXPECT(piece(&carry, "../x.mhl", "x", &why) == -1 && errno == EPROTO);
	mhlcarry_close(&carry);
	/* Nothing at all. */
	EXPECT(end(&carry, &why, &err) == -1 && err == EPROTO);
	mhlcarry_close(&carry);
	/* The chain twice. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", chain.data, &why) == 0);
	EXPECT(piece(&carry, GEN1, "first generation", &why) == 0);
	EXPECT(piece(&carry, "ascmhl_chain.xml", "", &why) == -1 && errno == EPROTO);
	mhlcarry_close(&carry);
	/* A generation twice, apart. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", chain.data, &why) == 0);
	EXPECT(piece(&carry, GEN1, "first generation", &why) == 0);
	EXPECT(piece(&carry, GEN2, "second generation", &why) == 0);
	EXPECT(piece(&carry, GEN1, "", &why) == 0);
	EXPECT(end(&carry, &why, &err) == -1 && err == EPROTO && strstr(why, "twice"));
	mhlcarry_close(&carry);
	/* One the chain does not list. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", chain.data, &why) == 0);
	EXPECT(piece(&carry, GEN1, "first generation", &why) == 0);
	EXPECT(piece(&carry, GEN2, "second generation", &why) == 0);
	EXPECT(piece(&carry, "0003_x.mhl", "", &why) == 0);
	EXPECT(end(&carry, &why, &err) == -1 && err == EPROTO && strstr(why, "does not list"));
	mhlcarry_close(&carry);
	/* One the chain lists, missing: as a local SRC's (exit 1), not malformed. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", chain.data, &why) == 0);
	EXPECT(piece(&carry, GEN2, "second generation", &why) == 0);
	EXPECT(end(&carry, &why, &err) == -1 && err != EPROTO && strstr(why, "missing"));
	mhlcarry_close(&carry);
	/* Bytes that are not those the chain records. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", chain.data, &why) == 0);
	EXPECT(piece(&carry, GEN1, "first generation!", &why) == 0);
	EXPECT(piece(&carry, GEN2, "second generation", &why) == 0);
	EXPECT(end(&carry, &why, &err) == -1 && err != EPROTO && strstr(why, "C4 differs"));
	mhlcarry_close(&carry);
	/* A chain that is not one. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", "<nope", &why) == 0);
	EXPECT(end(&carry, &why, &err) == -1 && err != EPROTO && why != NULL);
	mhlcarry_close(&carry);
	dbuf_free(&chain);
}

UNIT_TEST(mhlcarry_bounds_a_received_history)
{
	struct mhlcarry carry = {.histfd = -1};
	char name[32];
	const char *why;
	size_t i;

	/* PROTO_HISTORY_FILES_MAX files, the chain among them, and not one more. */
	EXPECT(piece(&carry, "ascmhl_chain.xml", "", &why) == 0);
	for (i = 1; i < PROTO_HISTORY_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "%05zu_x.mhl", i);
		if (piece(&carry, name, "", &why) != 0)
			break;
	}
	EXPECT(i == PROTO_HISTORY_FILES_MAX);
	EXPECT(piece(&carry, "99999_x.mhl", "", &why) == -1 && errno == EPROTO &&
	       strstr(why, "more history files"));
	mhlcarry_close(&carry);
}
