/* SPDX-License-Identifier: 0BSD */
/**
 * What a folder's ASC MHL history already records, for a new generation to
 * compare against (action "verified" or "failed"): the newest digest of
 * each format per path, gathered from every generation the chain lists,
 * each read streaming, and the newest generation's ignore patterns, which
 * a new generation carries forward (as the reference implementation does).
 * Memory grows with the number of files the history
 * lists (one path and a digest per format each); none of it when the
 * history is empty.
 */
#ifndef PTOOLS_MHL2PRIOR_H
#define PTOOLS_MHL2PRIOR_H

#include "prelude.h"
#include "mhl2.h"
#include "mhl2hist.h"

struct mhl2_prior;

/**
 * Read every generation of chain in the history open at histfd, newest
 * first, each checked against the C4 the chain gives it. Returns the
 * table; or NULL with *why and *name (the generation, static or the
 * chain's string) for a generation malformed, changed (another C4) or
 * missing (errno 0), or errno set. A history that does not hold together
 * is not extended: the new generation would vouch for it.
 */
struct mhl2_prior *mhl2_prior_load(int histfd, const struct mhl2_chain *chain, const char **why,
				   const char **name);

/** What mhl2_prior_load_history found wrong. */
struct mhl2_prior_fault {
	const char *why;          /* a malformed file: what is wrong (errno 0); NULL: see errno */
	const char *generation;   /* the generation at fault (the chain's string), or NULL */
	bool chain;               /* the chain file is at fault */
};

/**
 * Read the history open at histfd as a new generation needs it: its chain
 * file into chain (none yet: an empty chain, and *chain_found false, if
 * chain_found is not NULL), then what the generations it lists record into
 * *prior (NULL when it lists none). Returns 0; or -1 with *fault: the
 * chain's reading failed (fault->chain), a generation's (fault->generation),
 * or, with neither, opening the chain or an allocation (errno). *prior is
 * NULL on failure; chain holds what was read either way (free it with
 * mhl2_chain_free).
 */
int mhl2_prior_load_history(int histfd, struct mhl2_chain *chain, bool *chain_found,
			    struct mhl2_prior **prior, struct mhl2_prior_fault *fault);

/** The newest digest string of format recorded for path (len bytes), or NULL. */
const char *mhl2_prior_get(const struct mhl2_prior *prior, const char *path, size_t len,
			   enum mhl2_format format);
/**
 * The action for each of n new digests of path (len bytes), digests[i] of
 * formats[i], into actions[i]: "original" when the history records none of
 * its format for path, "verified" when it records the same, "failed" when
 * another. Returns whether any is "failed". prior may be NULL (all
 * "original").
 */
bool mhl2_prior_actions(const struct mhl2_prior *prior, const char *path, size_t len,
			const enum mhl2_format *formats, const char *const *digests, size_t n,
			const char **actions);
/**
 * The ignore patterns of the newest generation read (the one of highest
 * sequence number that is there), in their order; *n 0 and NULL when it has
 * none or prior is NULL. Owned by prior.
 */
const char *const *mhl2_prior_ignore(const struct mhl2_prior *prior, size_t *n);
/** Free; NULL-safe. */
void mhl2_prior_free(struct mhl2_prior *prior);
#endif
