/* SPDX-License-Identifier: 0BSD */
/**
 * An ASC MHL v2 generation's <hashes> and root hash from a stream of
 * entries (files with their digests, directories) given in a sorted walk's
 * order: each directory's subtree contiguous, a directory named (as an
 * entry) by its parent before anything inside it comes. Files are written as
 * <hash> at once; a directory's <directoryhash> when the stream has left
 * it; the root's hashes at the end.
 *
 * Memory: one frame per directory on the current path, each holding its
 * own children's digests (mhl2_dirhash) and the names of its subdirectories
 * not yet finished; never the whole tree.
 *
 * The root hash comes before <hashes> in a generation, so its head is
 * written after the entries (mhl2hist.h leaves room for it); a tree without
 * a writer only computes (a verifier's, with mhl2tree_on_dir).
 */
#ifndef PTOOLS_MHL2TREE_H
#define PTOOLS_MHL2TREE_H

#include "prelude.h"
#include "mhl2.h"

struct mhl2tree;

/**
 * The order of a sorted walk that puts each directory's subtree right
 * after it (pcopy sorts its entries so): paths compared byte by byte with
 * '/' before every other byte, and a path before every path under it. Plain
 * strcmp is not that order: "a-b" and "a.c" fall between "a" and "a/x".
 * Returns <0, 0 or >0 as strcmp does.
 */
int mhl2_path_cmp(const char *a, size_t alen, const char *b, size_t blen);
/** A byte's rank in that order: 1 for '/', more for every other byte but NUL. */
static inline unsigned mhl2_path_rank(unsigned char c)
{
	return c == '/' ? 1u : c < '/' ? c + 1u : c;
}

/**
 * A tree over nformats formats (in that order in every entry), writing to w
 * (or NULL: compute only); hashdate and action go on every file digest
 * written (action may be NULL). The strings must outlive the tree. Returns
 * NULL with errno.
 */
struct mhl2tree *mhl2tree_new(struct mhl2_writer *w, const enum mhl2_format *formats,
			      size_t nformats, const char *hashdate, const char *action);
/** Free; NULL-safe. */
void mhl2tree_free(struct mhl2tree *tree);
/**
 * Add a file: path relative to the root ('/'-separated, no "." or ".."
 * components, len bytes), its size, mtime (or NULL) and digests, one string
 * per format (mhl2_digest_len long), and actions, one per format (NULL:
 * the tree's action for every digest). Returns 0, or -1 with errno (EINVAL:
 * a path out of order or malformed, a bad digest).
 */
int mhl2tree_add_file(struct mhl2tree *tree, const char *path, size_t len, uint64_t size,
		      const struct timespec *mtime, const char *const *digests,
		      const char *const *actions);
/** Add a directory (it may stay empty: its hashes are then those of nothing). */
int mhl2tree_add_dir(struct mhl2tree *tree, const char *path, size_t len);
/**
 * Called as each directory but the root is finished, with its path and its
 * digests in the formats' order. Returns 0, or -1 to fail the call that
 * finished it.
 */
typedef int mhl2tree_dir_fn(void *arg, const char *path, size_t len,
			    char (*content)[MHL2_DIGEST_MAX + 1],
			    char (*structure)[MHL2_DIGEST_MAX + 1]);
/** Have fn(arg, ...) called for each finished directory (a verifier's hook). */
void mhl2tree_on_dir(struct mhl2tree *tree, mhl2tree_dir_fn *fn, void *arg);
/**
 * Gives a finished directory's digests (path "" for the root) instead of
 * the tree computing them. Returns 0, or -1 with errno.
 */
typedef int mhl2tree_replay_fn(void *arg, const char *path, size_t len,
			       char (*content)[MHL2_DIGEST_MAX + 1],
			       char (*structure)[MHL2_DIGEST_MAX + 1]);
/**
 * Take every directory's digests from fn(arg, ...), as an earlier tree over
 * the same entries gave them to its mhl2tree_on_dir hook (and its root from
 * mhl2tree_finish): the entries are then only written, nothing hashed.
 * Set before the first entry.
 */
void mhl2tree_replay(struct mhl2tree *tree, mhl2tree_replay_fn *fn, void *arg);
/**
 * Make the tree stand for a part of the stream: the entries of whole
 * subtrees of directories whose parent is base (blen bytes; "" the root),
 * and nothing else. base itself is never finished: no entry, no hook; its
 * digests from mhl2tree_finish are of that part alone. Set before the first
 * entry. Returns 0, or -1 with errno (EINVAL: base malformed).
 */
int mhl2tree_set_base(struct mhl2tree *tree, const char *base, size_t blen);
/**
 * Add directory path, whose subtree another tree (based at its parent)
 * hashed, and wrote where this one writes: its digests go into its parent
 * as if this tree had finished it, nothing is written for it, no hook is
 * called, and the directories this tree still holds open or named that come
 * before it in the stream are finished first, as its first entry would
 * finish them. Returns 0, or -1 with errno (EINVAL: out of order).
 */
int mhl2tree_add_done(struct mhl2tree *tree, const char *path, size_t len,
		      char (*content)[MHL2_DIGEST_MAX + 1], char (*structure)[MHL2_DIGEST_MAX + 1]);
/**
 * For a reader of a generation, whose <directoryhash> follows the
 * directory's contents (as both ptools and the reference implementation
 * write them): finish directory path now if it is open, or, if the stream
 * never entered it, finish it as an empty directory. Either way the hook is
 * called for it. Returns 0, or -1 with errno.
 */
int mhl2tree_end_dir(struct mhl2tree *tree, const char *path, size_t len);
/**
 * End the stream: finish every open directory and give the root's content
 * and structure digests (nformats strings of MHL2_DIGEST_MAX + 1 bytes
 * each, in the formats' order). Returns 0, or -1 with errno.
 */
int mhl2tree_finish(struct mhl2tree *tree, char (*content)[MHL2_DIGEST_MAX + 1],
		    char (*structure)[MHL2_DIGEST_MAX + 1]);
#endif
