/* SPDX-License-Identifier: 0BSD */
/** ASC MHL v2 pieces: C4 ids, digest strings, directory hashes, tree order, ignore patterns. */
#include "prelude.h"
#include "unit.h"
#include "mhl2.h"
#include "mhl2tree.h"
#include "mhl2hist.h"
#include "mhl2ignore.h"
#include "exclude.h"
#include "hash.h"
#include "record.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The C4 id of the empty string, as the C4 specification gives it. */
static const char empty_c4[] =
	"c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT";

UNIT_TEST(mhl2_c4_of_the_empty_string_is_the_specification_s)
{
	static const char sha512_empty[] =
		"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
		"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
	char c4[MHL2_C4_LEN + 1];
	unsigned char back[64];

	EXPECT(mhl2_digest_from_hex(MHL2_C4, sha512_empty, c4) == 0);
	EXPECT(strcmp(c4, empty_c4) == 0);
	EXPECT(mhl2_c4_decode(c4, strlen(c4), back) == 0);
	EXPECT(back[0] == 0xcf && back[63] == 0x3e);
	/* Not a C4 id: wrong length, prefix, a letter outside base58, too large. */
	EXPECT(mhl2_c4_decode(c4, 89, back) != 0);
	c4[0] = 'C';
	EXPECT(mhl2_c4_decode(c4, strlen(c4), back) != 0);
	c4[0] = 'c';
	c4[10] = '0';
	EXPECT(mhl2_c4_decode(c4, strlen(c4), back) != 0);
	memset(c4 + 2, 'z', 88);
	EXPECT(mhl2_c4_decode(c4, strlen(c4), back) != 0);
}

UNIT_TEST(mhl2_digest_strings_are_checked_and_lowercased)
{
	char out[MHL2_DIGEST_MAX + 1];

	EXPECT(mhl2_digest_valid(MHL2_XXH64, "0123456789ABCDEF", 16, out));
	EXPECT(strcmp(out, "0123456789abcdef") == 0);
	EXPECT(!mhl2_digest_valid(MHL2_XXH64, "0123456789abcde", 15, out));
	EXPECT(!mhl2_digest_valid(MHL2_MD5, "0123456789abcdef", 16, out));
	EXPECT(!mhl2_digest_valid(MHL2_SHA1, "g123456789abcdef0123456789abcdef01234567", 40, out));
	EXPECT(mhl2_format_lookup("xxh3", 4) == MHL2_XXH3);
	EXPECT(mhl2_format_lookup("sha256", 6) < 0);
	EXPECT(mhl2_format_of_algo(hash_lookup("sha512")) == MHL2_C4);
	EXPECT(mhl2_format_of_algo(hash_lookup("sha256")) < 0);
}

UNIT_TEST(mhl2_digest_lengths_agree_with_the_registry)
{
	for (int f = 0; f < MHL2_FORMATS; f++) {
		const struct hash_algo *algo = mhl2_format_algo((enum mhl2_format)f);

		EXPECT(algo != NULL);
		if (!algo)
			continue;
		EXPECT(mhl2_digest_len((enum mhl2_format)f) ==
		       (f == MHL2_C4 ? (size_t)MHL2_C4_LEN : 2 * algo->digest_len));
	}
}

UNIT_TEST(mhl2_directory_hash_of_nothing_is_the_digest_of_nothing)
{
	char content[MHL2_DIGEST_MAX + 1], structure[MHL2_DIGEST_MAX + 1];
	struct mhl2_dirhash dh;

	EXPECT(mhl2_dirhash_init(&dh, MHL2_MD5) == 0);
	EXPECT(mhl2_dirhash_final(&dh, content, structure) == 0);
	EXPECT(strcmp(content, "d41d8cd98f00b204e9800998ecf8427e") == 0);
	EXPECT(strcmp(structure, content) == 0);
	mhl2_dirhash_fini(&dh);
	EXPECT(mhl2_dirhash_init(&dh, MHL2_C4) == 0);
	EXPECT(mhl2_dirhash_final(&dh, content, structure) == 0);
	EXPECT(strcmp(content, empty_c4) == 0);
	mhl2_dirhash_fini(&dh);
}

UNIT_TEST(mhl2_directory_hash_ignores_the_children_s_order_but_not_their_names)
{
	char c1[MHL2_DIGEST_MAX + 1], s1[MHL2_DIGEST_MAX + 1];
	char c2[MHL2_DIGEST_MAX + 1], s2[MHL2_DIGEST_MAX + 1];
	struct mhl2_dirhash dh;

	EXPECT(mhl2_dirhash_init(&dh, MHL2_XXH64) == 0);
	EXPECT(mhl2_dirhash_add(&dh, "a", 1, "0000000000000001", NULL) == 0);
	EXPECT(mhl2_dirhash_add(&dh, "b", 1, "0000000000000002", "0000000000000003") == 0);
	EXPECT(mhl2_dirhash_final(&dh, c1, s1) == 0);
	mhl2_dirhash_clear(&dh);
	EXPECT(mhl2_dirhash_add(&dh, "b", 1, "0000000000000002", "0000000000000003") == 0);
	EXPECT(mhl2_dirhash_add(&dh, "a", 1, "0000000000000001", NULL) == 0);
	EXPECT(mhl2_dirhash_final(&dh, c2, s2) == 0);
	EXPECT(strcmp(c1, c2) == 0 && strcmp(s1, s2) == 0);
	mhl2_dirhash_clear(&dh);
	EXPECT(mhl2_dirhash_add(&dh, "A", 1, "0000000000000001", NULL) == 0);
	EXPECT(mhl2_dirhash_add(&dh, "b", 1, "0000000000000002", "0000000000000003") == 0);
	EXPECT(mhl2_dirhash_final(&dh, c2, s2) == 0);
	EXPECT(strcmp(c1, c2) == 0 && strcmp(s1, s2) != 0);
	EXPECT(mhl2_dirhash_add(&dh, "x", 1, "not hex", NULL) != 0);
	mhl2_dirhash_fini(&dh);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Many children (more than one sorted run), md5 digests sharing their first
 * eight bytes in pairs: the same hashes in any order, and those of the
 * children sorted by hand. */
UNIT_TEST(mhl2_directory_hash_sorts_many_children_with_equal_prefixes)
{
	char c1[MHL2_DIGEST_MAX + 1], s1[MHL2_DIGEST_MAX + 1];
	char c2[MHL2_DIGEST_MAX + 1], s2[MHL2_DIGEST_MAX + 1];
	char c3[MHL2_DIGEST_MAX + 1], s3[MHL2_DIGEST_MAX + 1];
	char digest[MHL2_DIGEST_MAX + 1], name[16];
	struct mhl2_dirhash dh;
	const int n = 101;

	EXPECT(mhl2_dirhash_init(&dh, MHL2_MD5) == 0);
	/* Child i: name "n<i>", digest "ffff...<i/2><i%2>": pairs share a prefix. */
	for (int pass = 0; pass < 3; pass++) {
		for (int k = 0; k < n; k++) {
			/* Forwards, backwards, then the digests' own order (i ascending
			 * is ascending digests) interleaved from both ends. */
			int i = pass == 0 ? k : pass == 1 ? n - 1 - k : (k % 2 ? n - 1 - k / 2 : k / 2);

			snprintf(name, sizeof(name), "n%d", i);
			snprintf(digest, sizeof(digest), "%016x%014x%02x", 0xffffffffu - (unsigned)(i / 2),
				 0u, (unsigned)(i % 2));
			EXPECT(mhl2_dirhash_add(&dh, name, strlen(name), digest, NULL) == 0);
		}
		EXPECT(mhl2_dirhash_final(&dh, pass == 0 ? c1 : pass == 1 ? c2 : c3,
					  pass == 0 ? s1 : pass == 1 ? s2 : s3) == 0);
		mhl2_dirhash_clear(&dh);
	}
	EXPECT(strcmp(c1, c2) == 0 && strcmp(s1, s2) == 0);
	EXPECT(strcmp(c1, c3) == 0 && strcmp(s1, s3) == 0);
	mhl2_dirhash_fini(&dh);
	/* The content hash, as the reference implementation makes it: the
	 * digest strings sorted as strings, their bytes hashed in that order. */
	{
		static char strings[101][33];
		const char *sorted[101];
		struct hash_ctx *ctx = hash_ctx_new(hash_lookup("md5"));
		unsigned char bytes[16], md5[16];
		char hex[33];

		EXPECT(ctx != NULL);
		for (int i = 0; i < n; i++) {
			snprintf(strings[i], sizeof(strings[i]), "%016x%014x%02x",
				 0xffffffffu - (unsigned)(i / 2), 0u, (unsigned)(i % 2));
			sorted[i] = strings[i];
		}
		qsort(sorted, (size_t)n, sizeof(sorted[0]), by_string);
		for (int i = 0; i < n; i++) {
			for (int b = 0; b < 16; b++)
				bytes[b] = (unsigned char)(rec_hex_value(sorted[i][2 * b]) << 4 |
							   rec_hex_value(sorted[i][2 * b + 1]));
			EXPECT(hash_ctx_update(ctx, bytes, sizeof(bytes)) == 0);
		}
		EXPECT(hash_ctx_final(ctx, md5) == 0);
		hash_to_hex(md5, sizeof(md5), hex);
		EXPECT(strcmp(hex, c1) == 0);
		hash_ctx_free(ctx);
	}
}

UNIT_TEST(mhl2tree_refuses_malformed_paths_and_hashes_empty_directories)
{
	enum mhl2_format formats[] = {MHL2_MD5};
	char content[1][MHL2_DIGEST_MAX + 1], structure[1][MHL2_DIGEST_MAX + 1];
	const char *digest[] = {"0123456789abcdef0123456789abcdef"};
	struct mhl2tree *tree = mhl2tree_new(NULL, formats, 1, NULL, NULL);

	EXPECT(tree != NULL);
	EXPECT(mhl2tree_add_file(tree, "/a", 2, 1, NULL, digest, NULL) != 0);
	EXPECT(mhl2tree_add_file(tree, "a/../b", 6, 1, NULL, digest, NULL) != 0);
	EXPECT(mhl2tree_add_file(tree, "a//b", 4, 1, NULL, digest, NULL) != 0);
	EXPECT(mhl2tree_add_dir(tree, "e", 1) == 0);
	EXPECT(mhl2tree_finish(tree, content, structure) == 0);
	/* The root holds one empty directory: its content hash is md5 of md5(""). */
	EXPECT(strcmp(content[0], "59adb24ef3cdbe0297f05b395827453f") == 0);
	mhl2tree_free(tree);
}

UNIT_TEST(mhl2_path_order_puts_each_subtree_right_after_its_directory)
{
	/* In this order, as a sorted walk gives them; strcmp would put
	 * "a b", "a-b" and "a.c" between "a" and "a/x". */
	static const char *const order[] = {"a", "a/x", "a/x/y", "a/z", "a b", "a-b", "a.c", "a0",
					    "b"};

	for (size_t i = 0; i < countof(order); i++)
		for (size_t j = 0; j < countof(order); j++) {
			int c = mhl2_path_cmp(order[i], strlen(order[i]), order[j], strlen(order[j]));

			EXPECT(i < j ? c < 0 : i > j ? c > 0 : c == 0);
		}
}

UNIT_TEST(mhl2tree_refuses_a_directory_entered_again_after_it_was_finished)
{
	enum mhl2_format formats[] = {MHL2_MD5};
	char content[1][MHL2_DIGEST_MAX + 1], structure[1][MHL2_DIGEST_MAX + 1];
	const char *digest[] = {"0123456789abcdef0123456789abcdef"};
	struct mhl2tree *tree = mhl2tree_new(NULL, formats, 1, NULL, NULL);

	/* strcmp's order: "a" is finished when "a-b" comes, and would be
	 * hashed a second time, with only its file, when "a/x" comes. */
	EXPECT(tree != NULL);
	EXPECT(mhl2tree_add_dir(tree, "a", 1) == 0);
	EXPECT(mhl2tree_add_dir(tree, "a-b", 3) == 0);
	EXPECT(mhl2tree_add_file(tree, "a-b/y", 5, 1, NULL, digest, NULL) == 0);
	errno = 0;
	EXPECT(mhl2tree_add_file(tree, "a/x", 3, 1, NULL, digest, NULL) != 0);
	EXPECT(errno == EINVAL);
	mhl2tree_free(tree);

	/* The same entries in the tree's order are taken. */
	tree = mhl2tree_new(NULL, formats, 1, NULL, NULL);
	EXPECT(tree != NULL);
	EXPECT(mhl2tree_add_dir(tree, "a", 1) == 0);
	EXPECT(mhl2tree_add_file(tree, "a/x", 3, 1, NULL, digest, NULL) == 0);
	EXPECT(mhl2tree_add_dir(tree, "a-b", 3) == 0);
	EXPECT(mhl2tree_add_file(tree, "a-b/y", 5, 1, NULL, digest, NULL) == 0);
	EXPECT(mhl2tree_finish(tree, content, structure) == 0);
	mhl2tree_free(tree);
}

UNIT_TEST(mhl2_ignored_names_any_component)
{
	EXPECT(mhl2_ignored("ascmhl", 6));
	EXPECT(mhl2_ignored("a/ascmhl/x.mhl", 14));
	EXPECT(mhl2_ignored("b/.DS_Store", 11));
	EXPECT(mhl2_ignored(".ptools-seal", 12));
	EXPECT(!mhl2_ignored("ascmhl2", 7));
	EXPECT(!mhl2_ignored("a/.ptools-seal.txt", 18));
}

struct patterns_seen {
	char text[4][32];
	size_t n;
	size_t malformed;
};

static int on_pattern(void *arg, const struct mhl2_entry *e, uintmax_t line, const char *why)
{
	struct patterns_seen *seen = arg;

	(void)line;
	(void)why;
	if (!e) {
		seen->malformed++;
		return 0;
	}
	if (e->kind == MHL2_ENTRY_IGNORE && seen->n < 4 && e->path_len < 32)
		memcpy(seen->text[seen->n++], e->path, e->path_len + 1);
	return 0;
}

UNIT_TEST(mhl2_reader_gives_processinfo_s_ignore_patterns_and_no_others)
{
	static const char doc[] =
		"<hashlist version=\"2.0\"><processinfo><process>in-place</process>"
		"<ignore><pattern>.DS_Store</pattern><pattern> cache/ </pattern><pattern/>"
		"</ignore></processinfo><hashes><ignore><pattern>not one</pattern></ignore>"
		"</hashes></hashlist>";
	struct patterns_seen seen = {0};
	struct mhl2_reader *r = mhl2_reader_new(MHL2_DOC_GENERATION, on_pattern, &seen);
	const char *why = NULL;

	EXPECT(r != NULL);
	EXPECT(mhl2_feed(r, doc, sizeof(doc) - 1, true, &why) == 0);
	mhl2_reader_free(r);
	/* The empty one is given (empty) and left to the caller. */
	EXPECT(seen.n == 3 && seen.malformed == 0);
	EXPECT(strcmp(seen.text[0], ".DS_Store") == 0);
	EXPECT(strcmp(seen.text[1], "cache/") == 0);
	EXPECT(strcmp(seen.text[2], "") == 0);
}

UNIT_TEST(mhl2_ignore_lists_the_reference_s_ptools_and_the_run_s_patterns_once)
{
	static const char *const want[] = {".DS_Store", "ascmhl", "ascmhl/", ".ptools-seal",
					   ".ptools-seal.sig", "*.tmp"};
	struct exclude set;
	struct mhl2_ignore ig;

	exclude_init(&set);
	EXPECT(exclude_add(&set, ".DS_Store") == 0 && exclude_add(&set, "*.tmp") == 0);
	EXPECT(mhl2_ignore_build(&ig, NULL, &set) == 0);
	EXPECT(ig.n == 6);
	for (size_t i = 0; i < 6 && i < ig.n; i++)
		EXPECT(strcmp(ig.patterns[i], want[i]) == 0);
	/* Nothing carried: only the seal's own names are matched here (the
	 * run's patterns were applied by its walk). */
	EXPECT(ig.carried.n == 0);
	EXPECT(mhl2_ignore_match(&ig, "a/ascmhl", 8, true));
	EXPECT(!mhl2_ignore_match(&ig, "a/x.tmp", 7, false));
	mhl2_ignore_fini(&ig);
	mhl2_ignore_fini(&ig);
	exclude_fini(&set);
}
