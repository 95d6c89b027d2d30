/* SPDX-License-Identifier: 0BSD */
/**
 * A generation's entries from a list the caller can index (every file and
 * directory in a sorted walk's order, held in memory, as pcopy gathers
 * them), hashed and written in two passes by several threads: the first
 * computes every directory's hashes (and the root's, which the head
 * holds), the second writes the entries behind the head. Each thread takes
 * a share of whole subtrees (directories with the same parent, one after
 * another in the list) and runs a tree of its own over it (mhl2tree.h,
 * rooted at that parent); the caller's thread takes what lies between the
 * shares and puts the shares' results in their places, in order. The bytes
 * written are those one tree over the whole list writes, whatever the
 * number of threads.
 *
 * Memory: the directories' digests (one entry per directory), and in the
 * second pass the entries of at most two shares per thread, written but not
 * yet taken.
 */
#ifndef PTOOLS_MHL2LIST_H
#define PTOOLS_MHL2LIST_H

#include "prelude.h"
#include "mhl2.h"
#include <time.h>

/** One entry of the list, as its get function gives it. */
struct mhl2_item {
	const char *path;          /* relative, len bytes; valid until the list is freed */
	size_t len;
	bool dir;
	uint64_t size;             /* files: */
	struct timespec mtime;
	bool has_mtime;            /* else no lastmodificationdate */
	const char *digests[MHL2_FORMATS]; /* one per format of the generation */
	const char *actions[MHL2_FORMATS]; /* the second pass's; actions[0] NULL: "original" */
};

/** The list. */
struct mhl2_list {
	size_t count;
	/*
	 * Entry i (below count) into *item, which comes zeroed. Called from
	 * several threads at once, for different entries. writing: the second
	 * pass, which wants the actions; what is to be said about the entry
	 * then goes into notes, which report gets in the list's order, on the
	 * caller's thread. Returns 0, or -1 with errno.
	 */
	int (*get)(void *arg, size_t i, bool writing, struct mhl2_item *item, struct dbuf *notes);
	void (*report)(void *arg, const char *notes, size_t len);
	void *arg;
	unsigned threads;          /* threads besides the caller's, at most */
	size_t share;              /* entries a share holds at most (0: chosen from count) */
};

struct mhl2list_run;

/**
 * The first pass: divide the list into shares and hash every directory;
 * the root's content and structure digests (nformats strings each, in the
 * formats' order) into content and structure. Returns the run, for
 * mhl2list_write, or NULL with errno (EINVAL: an entry out of order or
 * malformed).
 */
struct mhl2list_run *mhl2list_hash(const struct mhl2_list *list, const enum mhl2_format *formats,
				   size_t nformats, const char *hashdate,
				   char (*content)[MHL2_DIGEST_MAX + 1],
				   char (*structure)[MHL2_DIGEST_MAX + 1]);

/**
 * The second pass: every entry and directory hash, in the list's order, to
 * w (hashdate and the actions on every file digest). Returns 0, or -1 with
 * errno (w's error included).
 */
int mhl2list_write(struct mhl2list_run *run, struct mhl2_writer *w);

/** How many shares the list was divided into (0: the caller's thread did all). */
size_t mhl2list_shares(const struct mhl2list_run *run);

/** Free; NULL-safe. */
void mhl2list_free(struct mhl2list_run *run);
#endif
