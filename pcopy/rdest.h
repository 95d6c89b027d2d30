/* SPDX-License-Identifier: 0BSD */
/**
 * A destination on another host, as the copy engine sees it (see rdest.c):
 * the engine's steps for a destination become frames to the pcopy there,
 * which does each of them itself (journal, temporaries, seal).
 */
#ifndef PCOPY_RDEST_H
#define PCOPY_RDEST_H

#include "prelude.h"
#include "hash.h"
#include "reader.h"
#include "remote.h"
#include "run.h"

/**
 * Connect dest (dest->path is host:path) and ask the pcopy there to
 * receive into path; or, with peer, make the already open connection peer
 * the destination (the server sending a tree). On failure dest is failed.
 */
void rdest_setup(struct copy *copy, struct dest *dest, struct remote *peer);

struct mhlcarry;

/**
 * --mhl: send SRC's ASC MHL history (carry, checked; src names SRC in
 * messages) before any entry: its chain file, then each generation it
 * lists, each checked against the chain's C4 again as it is read, then the
 * history's end (PROTOCOL.md 4.9). The remote side checks it and carries
 * it. A generation that changed or cannot be read stops the run; a lost
 * connection fails dest.
 */
void rdest_history(struct copy *copy, struct dest *dest, const struct mhlcarry *carry,
		   const char *src);

/** The source root's metadata (the root gets it at completion). */
void rdest_root(struct dest *dest, const struct stat *st);

/** A directory; srcfd (or -1) supplies its xattrs with -p. */
void rdest_dir(struct copy *copy, struct dest *dest, const char *rel, size_t len,
	       const struct stat *st, int srcfd);

/** A symlink (target) or special file. */
void rdest_node(struct dest *dest, const char *rel, size_t len, const struct stat *st,
		const char *target);

/* One regular file, in op's reader's task: start (0, or -1 with dest failed), blocks,
 * end with the source's digests (0 or -1 with errno), or drop. */
int rdest_file_start(struct fileop *op, struct task *task);
int rdest_file_block(struct fileop *op, const void *data, size_t len);
int rdest_file_end(struct fileop *op, char hex[][HASH_HEX_MAX + 1]);
void rdest_file_drop(struct fileop *op);

/** -H: task's file is another name of a file sent before. 0 or -1 with errno. */
int rdest_link(struct fileop *op, struct task *task);

/**
 * End the run there: commit (the remote side seals) unless all_back or
 * dest failed, else cancel (the remote side rolls back), with why; wait
 * for the outcome and close the connection. Returns the remote side's
 * exit status (1 when the connection was lost). Its messages were printed
 * as they came.
 */
int rdest_finish(struct copy *copy, struct dest *dest, bool all_back, const char *why);

/**
 * The index of the protocol's check digest in algos (count of them),
 * appended when it is not there (the caller leaves room: fewer than
 * HASH_SET_MAX algorithms with a remote operand).
 */
size_t rdest_check_algo(const struct hash_algo **algos, size_t *count);

/**
 * Ask the remote side (greeted) to take role (proto.h) on its path, with
 * opt's options, and wait until it is ready: 0; or -1 after its or our
 * message said why. Receiving a single file (opt->single_source) or
 * sending, the remote side is told a single file may be meant (PROTO_SINGLE);
 * sending, *single says whether its path is one (a regular file), else a
 * tree; single may be NULL for the other roles.
 */
int rdest_ask(struct remote *remote, const struct copy_options *opt, unsigned role, bool *single);

/**
 * pcopy --rollback host:DEST: have the pcopy there finish the undo left in
 * DEST. 0, or -1 (said).
 */
int rdest_rollback(const char *operand, const struct remote_how *how);

#endif
