/* SPDX-License-Identifier: 0BSD */
/**
 * A folder's ASC MHL history as a whole: its chain read into memory (one
 * small entry per generation), the C4 of a generation file, and a new
 * generation written in its two passes (mhl2tree.h) to a file descriptor.
 * Where the files go and how they are put in place (temporary, rename,
 * journal) is the caller's.
 */
#ifndef PTOOLS_MHL2HIST_H
#define PTOOLS_MHL2HIST_H

#include "prelude.h"
#include "mhl2.h"
#include "mhl2list.h"
#include "mhl2tree.h"

/** A chain in memory: its links, each path and c4 malloc'd. */
struct mhl2_chain {
	struct mhl2_chain_link *links;
	size_t n;
	uint64_t last;            /* the highest sequence number, 0 when none */
};

/**
 * Read the chain file open at fd. Returns 0; or -1 with *why (malformed:
 * errno 0) or errno (a read error, ENOMEM). The chain is empty on failure.
 */
int mhl2_chain_read(int fd, struct mhl2_chain *chain, const char **why);
/** Append a link (strings copied). Returns 0 or -1 (ENOMEM). */
int mhl2_chain_add(struct mhl2_chain *chain, uint64_t sequence, const char *path,
		   const char *c4);
/** Free the links; NULL-safe, leaves an empty chain. */
void mhl2_chain_free(struct mhl2_chain *chain);

/**
 * The sequence number a new generation in the history open at histfd
 * takes: one past both the chain's highest and the highest NNNN of any
 * NNNN_*.mhl file there (one the chain lost must not be overwritten).
 */
uint64_t mhl2_next_sequence(int histfd, const struct mhl2_chain *chain);

/** The C4 id of the bytes of the file open at fd (read to its end). Returns 0 or -1 with errno. */
int mhl2_fd_c4(int fd, char *c4);

/** mhl2_fd_c4, writing each byte read to out_fd as well (a generation carried). */
int mhl2_fd_c4_copy(int fd, int out_fd, char *c4);

/**
 * Feeds a generation's entries to tree, in a sorted walk's order. Returns
 * 0, or -1 with errno.
 */
typedef int mhl2_feed_fn(void *arg, struct mhl2tree *tree);

/** What a new generation says besides its entries. */
struct mhl2_generation {
	const char *process;      /* "in-place" or "transfer" */
	const char *tool;
	const char *tool_version;
	time_t when;              /* creationdate and hashdate */
	const enum mhl2_format *formats;
	size_t nformats;
	mhl2_feed_fn *feed;
	void *arg;
	/* Or the entries by index (mhl2list.h), for feed and arg: hashed
	 * first, by several threads, then written after the head, and the file
	 * hashed for its C4 by a second thread as it is written, instead of
	 * read back. */
	const struct mhl2_list *list;
	const char *const *ignore; /* the ignore patterns recorded (mhl2ignore.h); NULL: */
	size_t nignore;            /* MHL2_IGNORE_PATTERNS */
};

/**
 * Write a generation to fd, a new regular file open for reading and
 * writing: feed runs once, its entries written behind room left for the
 * head, which is written last (it holds the root hash the entries make);
 * or, from gen->list, in two passes (mhl2list.h), the head first.
 * c4 gets the C4 of the file's bytes. Returns 0, or -1 with errno (EINVAL
 * from feed's tree: an entry out of order or malformed).
 */
int mhl2_generation_write(int fd, const struct mhl2_generation *gen, char *c4);
#endif
