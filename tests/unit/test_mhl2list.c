/* SPDX-License-Identifier: 0BSD */
/** A generation from an indexed list (mhl2list.h): one tree's bytes, whatever the threads. */
#include "prelude.h"
#include "unit.h"
#include "mhl2.h"
#include "mhl2hist.h"
#include "mhl2list.h"
#include "mhl2prior.h"
#include "mhl2tree.h"
#include "hash.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
	char path[96];
	size_t len;
	bool dir;
	bool differs;             /* its digests differ from a history's: actions "failed" */
	uint64_t size;
	struct timespec mtime;
	char digests[2][MHL2_DIGEST_MAX + 1];
};

struct entries {
	struct entry *e;
	size_t n, cap;
	struct dbuf reported;     /* what report was given, in order */
};

static const enum mhl2_format formats[] = {MHL2_MD5, MHL2_XXH64};

static void add(struct entries *es, const char *path, bool dir)
{
	struct entry *e;

	if (es->n == es->cap) {
		es->cap = es->cap ? 2 * es->cap : 256;
		es->e = realloc(es->e, es->cap * sizeof(*es->e));
		if (!es->e)
			abort();
	}
	e = &es->e[es->n];
	memset(e, 0, sizeof(*e));
	e->len = (size_t)snprintf(e->path, sizeof(e->path), "%s", path);
	e->dir = dir;
	e->size = es->n * 37u;
	e->mtime = (struct timespec){.tv_sec = 1700000000 + (time_t)es->n * 3607, .tv_nsec = 5};
	e->differs = !dir && es->n % 97 == 5;
	snprintf(e->digests[0], sizeof(e->digests[0]), "%08zx%024d", es->n * 2654435761u % 0xffffffffu, 0);
	snprintf(e->digests[1], sizeof(e->digests[1]), "%016zx", es->n * 11400714819323198485u);
	es->n++;
}

/* The tree test_mhl2.c has long used: names that sort around '/', a file
 * between a directory's naming and its contents, empty directories among
 * full ones and at the end. */
static void classic(struct entries *es)
{
	char path[64];

	add(es, "a", true);
	add(es, "a!", false);
	for (int d = 0; d < 40; d++) {
		snprintf(path, sizeof(path), "a/d%02d", d);
		add(es, path, true);
		for (int f = 0; d % 7 != 3 && f < 500; f++) {
			snprintf(path, sizeof(path), "a/d%02d/f%03d", d, f);
			add(es, path, false);
		}
	}
	add(es, "z", true);
}

static unsigned long rnd(unsigned long *state)
{
	*state = *state * 6364136223846793005u + 1442695040888963407u;
	return *state >> 33;
}

/* A random directory under prefix: files and directories, empty ones, deep
 * ones, names that sort around '/' ("a", "a-b", "a.c", "a!"). */
static void random_dir(struct entries *es, const char *prefix, int depth, unsigned long *state)
{
	static const char *const names[] = {"a", "a-b", "a.c", "a!", "b", "b0", "c", "d d", "e",
					    "f", "g", "h", "i", "j", "k", "l"};
	size_t nnames = sizeof(names) / sizeof(names[0]);
	unsigned children = (unsigned)(rnd(state) % (depth == 0 ? 16 : 10));
	bool used[16] = {0};
	char path[96];

	for (unsigned c = 0; c < children; c++) {
		size_t k = rnd(state) % nnames;
		bool dir;

		if (used[k])
			continue;
		used[k] = true;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "", names[k]);
		dir = depth < 5 && rnd(state) % 3 == 0;
		add(es, path, dir);
		if (dir)
			random_dir(es, path, depth + 1, state);
	}
}

static int by_path(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	return mhl2_path_cmp(a->path, a->len, b->path, b->len);
}

static void random_tree(struct entries *es, unsigned long seed)
{
	unsigned long state = seed;

	while (es->n < 400)
		random_dir(es, "", 0, &state);
	/* Paths repeat across rounds: keep the first of each, in order. */
	qsort(es->e, es->n, sizeof(*es->e), by_path);
	for (size_t i = 1, k = 1; i <= es->n; i++) {
		if (i == es->n) {
			es->n = k;
			break;
		}
		if (strcmp(es->e[i].path, es->e[k - 1].path) != 0)
			es->e[k++] = es->e[i];
	}
}

static void actions_of(const struct entry *e, const char **actions)
{
	actions[0] = e->differs ? "failed" : "verified";
	actions[1] = "verified";
}

static int feed(void *arg, struct mhl2tree *tree)
{
	struct entries *es = arg;

	for (size_t i = 0; i < es->n; i++) {
		const struct entry *e = &es->e[i];
		const char *digests[2] = {e->digests[0], e->digests[1]}, *actions[2];

		actions_of(e, actions);
		if ((e->dir ? mhl2tree_add_dir(tree, e->path, e->len)
			    : mhl2tree_add_file(tree, e->path, e->len, e->size, &e->mtime, digests,
						actions)) != 0)
			return -1;
	}
	return 0;
}

static int get(void *arg, size_t i, bool writing, struct mhl2_item *item, struct dbuf *notes)
{
	struct entries *es = arg;
	const struct entry *e = &es->e[i];

	item->path = e->path;
	item->len = e->len;
	item->dir = e->dir;
	if (e->dir)
		return 0;
	item->size = e->size;
	item->mtime = e->mtime;
	item->has_mtime = true;
	item->digests[0] = e->digests[0];
	item->digests[1] = e->digests[1];
	if (writing) {
		actions_of(e, item->actions);
		if (e->differs && dbuf_append(notes, e->path, e->len + 1) != 0)
			return -1;
	}
	return 0;
}

static void report(void *arg, const char *notes, size_t len)
{
	struct entries *es = arg;

	EXPECT(dbuf_append(&es->reported, notes, len) == 0);
}

/* A generation of es into a temporary (from the list when list is given,
 * else fed once); its bytes into out. */
static int write_generation(struct entries *es, const struct mhl2_list *list, struct dbuf *out,
			    char *c4)
{
	struct mhl2_generation gen = {
		.process = "transfer", .tool = "unit", .tool_version = "1", .when = 1700000000,
		.formats = formats, .nformats = 2, .feed = feed, .arg = es, .list = list,
	};
	char name[] = "/tmp/ptools-unit-mhl2list-XXXXXX", buf[65536];
	int fd = mkstemp(name), rc = -1;
	ssize_t n;

	if (fd < 0)
		return -1;
	unlink(name);
	if (mhl2_generation_write(fd, &gen, c4) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (dbuf_append(out, buf, (size_t)n) != 0)
			goto out;
	rc = n == 0 ? 0 : -1;
out:
	close(fd);
	return rc;
}

/* The differing paths in the list's order, NUL after each. */
static void expected_notes(const struct entries *es, struct dbuf *notes)
{
	for (size_t i = 0; i < es->n; i++)
		if (es->e[i].differs)
			EXPECT(dbuf_append(notes, es->e[i].path, es->e[i].len + 1) == 0);
}

static const struct {
	unsigned threads;
	size_t share;
} ways[] = {{0, 0}, {1, 0}, {1, 64}, {3, 5}, {3, 40}, {2, 300}, {8, 0}, {31, 2}};

static void check_ways(struct entries *es)
{
	char c4_once[MHL2_C4_LEN + 1], c4[MHL2_C4_LEN + 1], c4_bytes[MHL2_C4_LEN + 1];
	struct dbuf once, bytes, notes;
	unsigned char digest[64];
	struct hash_ctx *sha512 = hash_ctx_new(hash_lookup("sha512"));

	dbuf_init(&once);
	dbuf_init(&notes);
	dbuf_init(&es->reported);
	expected_notes(es, &notes);
	EXPECT(notes.len > 0);
	EXPECT(write_generation(es, NULL, &once, c4_once) == 0);
	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		struct mhl2_list list = {.count = es->n, .get = get, .report = report, .arg = es,
					 .threads = ways[w].threads, .share = ways[w].share};

		dbuf_init(&bytes);
		dbuf_clear(&es->reported);
		EXPECT(write_generation(es, &list, &bytes, c4) == 0);
		EXPECT(bytes.len == once.len && memcmp(bytes.data, once.data, once.len) == 0);
		EXPECT(strcmp(c4, c4_once) == 0);
		EXPECT(es->reported.len == notes.len &&
		       memcmp(es->reported.data, notes.data, notes.len) == 0);
		/* The C4 hashed as the bytes were written is that of the file. */
		EXPECT(sha512 && hash_ctx_reset(sha512) == 0 &&
		       hash_ctx_update(sha512, bytes.data, bytes.len) == 0 &&
		       hash_ctx_final(sha512, digest) == 0);
		mhl2_c4_encode(digest, c4_bytes);
		EXPECT(strcmp(c4_bytes, c4) == 0);
		dbuf_free(&bytes);
	}
	hash_ctx_free(sha512);
	dbuf_free(&once);
	dbuf_free(&notes);
	dbuf_free(&es->reported);
}

UNIT_TEST(mhl2list_generation_is_the_one_pass_generation_byte_for_byte_whatever_the_threads)
{
	struct entries es = {0};

	classic(&es);
	check_ways(&es);
	EXPECT(es.n > 15000);
	for (unsigned long seed = 1; seed <= 12; seed++) {
		es.n = 0;
		random_tree(&es, seed);
		check_ways(&es);
	}
	free(es.e);
}

UNIT_TEST(mhl2list_divides_the_list_into_shares_of_whole_subtrees)
{
	char content[2][MHL2_DIGEST_MAX + 1], structure[2][MHL2_DIGEST_MAX + 1];
	char root_content[2][MHL2_DIGEST_MAX + 1], root_structure[2][MHL2_DIGEST_MAX + 1];
	struct entries es = {0};
	struct mhl2_list list = {.get = get, .arg = &es, .threads = 3, .share = 600};
	struct mhl2list_run *run;
	struct mhl2tree *tree;

	classic(&es);
	list.count = es.n;
	run = mhl2list_hash(&list, formats, 2, "2023-11-14T22:13:20+00:00", content, structure);
	EXPECT(run != NULL);
	/* a/d00..a/d39 hold 501 entries each (or 1: empty, the parent's): one a share. */
	EXPECT(run && mhl2list_shares(run) == 34);
	mhl2list_free(run);
	/* The root's digests are one tree's. */
	tree = mhl2tree_new(NULL, formats, 2, NULL, NULL);
	EXPECT(tree && feed(&es, tree) == 0 && mhl2tree_finish(tree, root_content, root_structure) == 0);
	for (int f = 0; f < 2; f++) {
		EXPECT(strcmp(content[f], root_content[f]) == 0);
		EXPECT(strcmp(structure[f], root_structure[f]) == 0);
	}
	mhl2tree_free(tree);
	/* No thread besides the caller's: no shares. */
	list.threads = 0;
	run = mhl2list_hash(&list, formats, 2, "2023-11-14T22:13:20+00:00", content, structure);
	EXPECT(run && mhl2list_shares(run) == 0);
	mhl2list_free(run);
	free(es.e);
}

static size_t index_of(const struct entries *es, const char *path)
{
	for (size_t i = 0; i < es->n; i++)
		if (strcmp(es->e[i].path, path) == 0)
			return i;
	abort();
}

static void expect_refused(struct entries *es)
{
	char content[2][MHL2_DIGEST_MAX + 1], structure[2][MHL2_DIGEST_MAX + 1];

	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		struct mhl2_list list = {.count = es->n, .get = get, .arg = es,
					 .threads = ways[w].threads, .share = ways[w].share};

		errno = 0;
		EXPECT(mhl2list_hash(&list, formats, 2, "x", content, structure) == NULL);
		EXPECT(errno == EINVAL);
	}
}

UNIT_TEST(mhl2list_directory_entered_again_is_refused_in_a_share_and_after_one)
{
	struct entries es = {0};
	struct entry moved;
	size_t at;

	/* Inside what a share holds: a/b entered again after a/c. */
	add(&es, "a", true);
	add(&es, "a/b", true);
	add(&es, "a/b/x", false);
	add(&es, "a/c", true);
	add(&es, "a/c/y", false);
	add(&es, "a/b/z", false);
	add(&es, "b", false);
	expect_refused(&es);
	/* Between shares: the last file of a/d05 moved behind a/d06's. */
	es.n = 0;
	classic(&es);
	at = index_of(&es, "a/d05/f499");
	moved = es.e[at];
	memmove(&es.e[at], &es.e[at + 1], 501 * sizeof(*es.e));
	es.e[at + 501] = moved;
	EXPECT(strcmp(es.e[at + 500].path, "a/d06/f499") == 0);
	expect_refused(&es);
	free(es.e);
}

/* Write bytes as file name in directory dirfd. */
static void put_file(int dirfd, const char *name, const char *bytes, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	EXPECT(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
	if (fd >= 0)
		close(fd);
}

UNIT_TEST(mhl2_prior_load_reads_a_large_generation_ahead_and_says_what_is_wrong_with_one)
{
	char c4[MHL2_C4_LEN + 1], dir[] = "/tmp/ptools-unit-prior-XXXXXX";
	struct entries es = {0};
	struct mhl2_list list = {.get = get, .report = report, .arg = &es};
	struct mhl2_chain chain = {0};
	struct mhl2_prior *prior;
	struct dbuf bytes;
	const char *why, *name, *digest;
	char *hit;
	int dirfd;

	classic(&es);
	list.count = es.n;
	dbuf_init(&bytes);
	dbuf_init(&es.reported);
	EXPECT(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	EXPECT(dirfd >= 0);
	/* Several MB: read in pieces wherever two CPUs give two parsers. */
	EXPECT(write_generation(&es, &list, &bytes, c4) == 0 && bytes.len > ((size_t)4 << 20));
	put_file(dirfd, "0001_x.mhl", bytes.data, bytes.len);
	EXPECT(mhl2_chain_add(&chain, 1, "0001_x.mhl", c4) == 0);
	prior = mhl2_prior_load(dirfd, &chain, &why, &name);
	EXPECT(prior != NULL);
	digest = mhl2_prior_get(prior, "a/d39/f499", 10, MHL2_MD5);
	EXPECT(digest && strcmp(digest, es.e[index_of(&es, "a/d39/f499")].digests[0]) == 0);
	EXPECT(mhl2_prior_get(prior, "a/d39/f500", 10, MHL2_MD5) == NULL);
	/* Every file found again, with one lookup for all its formats. */
	for (size_t i = 0, files = 0; i < es.n; i++) {
		const enum mhl2_format three[] = {MHL2_XXH64, MHL2_MD5, MHL2_SHA1};
		const char *digests[3] = {es.e[i].digests[1], es.e[i].digests[0], "ab"};
		const char *actions[3];
		char other[MHL2_DIGEST_MAX + 1];

		/* (A digest written "failed" is not what the history records.) */
		if (es.e[i].dir || es.e[i].differs)
			continue;
		EXPECT(!mhl2_prior_actions(prior, es.e[i].path, es.e[i].len, three, digests, 3,
					   actions));
		EXPECT(strcmp(actions[0], "verified") == 0 && strcmp(actions[1], "verified") == 0 &&
		       strcmp(actions[2], "original") == 0);
		if (files++ % 97 != 0)
			continue;
		memcpy(other, es.e[i].digests[0], sizeof(other));
		other[0] = other[0] == '0' ? '1' : '0';
		digests[1] = other;
		EXPECT(mhl2_prior_actions(prior, es.e[i].path, es.e[i].len, three, digests, 3,
					  actions));
		EXPECT(strcmp(actions[0], "verified") == 0 && strcmp(actions[1], "failed") == 0);
		/* A path only one byte longer is another path. */
		EXPECT(!mhl2_prior_actions(prior, es.e[i].path, es.e[i].len - 1, three, digests, 2,
					   actions) &&
		       strcmp(actions[0], "original") == 0 && strcmp(actions[1], "original") == 0);
	}
	EXPECT(!mhl2_prior_actions(NULL, "a", 1, formats, (const char *[]){"x", "y"}, 2,
				   (const char *[2]){0}));
	mhl2_prior_free(prior);
	/* Malformed three quarters in: the parse's reason, whatever freed its reader. */
	hit = strstr(bytes.data + bytes.len / 4 * 3, "</hash>");
	EXPECT(hit != NULL);
	if (hit) {
		hit[3] = 'X';
		put_file(dirfd, "0001_x.mhl", bytes.data, bytes.len);
		errno = 0;
		why = NULL;
		EXPECT(mhl2_prior_load(dirfd, &chain, &why, &name) == NULL);
		EXPECT(errno == 0 && why && strstr(why, "C4") == NULL && strcmp(name, "0001_x.mhl") == 0);
		/* Well formed, but not the bytes the chain vouches for. */
		hit[3] = 'a';
		hit = strstr(strstr(hit, "<md5 "), ">") + 1; /* a digest's first hex digit */
		*hit = *hit == '1' ? '2' : '1';
		put_file(dirfd, "0001_x.mhl", bytes.data, bytes.len);
		why = NULL;
		EXPECT(mhl2_prior_load(dirfd, &chain, &why, &name) == NULL);
		EXPECT(why && strstr(why, "C4") != NULL);
	}
	unlinkat(dirfd, "0001_x.mhl", 0);
	close(dirfd);
	rmdir(dir);
	mhl2_chain_free(&chain);
	dbuf_free(&bytes);
	dbuf_free(&es.reported);
	free(es.e);
}
