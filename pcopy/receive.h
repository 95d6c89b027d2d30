/* SPDX-License-Identifier: 0BSD */
/**
 * The receiving side of a remote copy (see receive.c): entries a peer
 * streams, written through the engine's own steps into the run's
 * destinations; and a pull (host:SRC), which asks a remote pcopy to send.
 */
#ifndef PCOPY_RECEIVE_H
#define PCOPY_RECEIVE_H

#include "prelude.h"
#include "remote.h"
#include "run.h"

/**
 * Write what peer (named so in messages) sends into copy's destinations
 * until the sender commits: returns 1, with *left_out the files it left out
 * (-k). Returns 0 when the sender cancelled or the stream ended or broke:
 * the run is then stopped (and will roll back).
 */
int receive_entries(struct copy *copy, struct remote *peer, const char *peer_name,
		    uint64_t *left_out);

/**
 * pcopy host:SRC DEST...: have the pcopy on host send SRC, before anything
 * is made here: returns the connection, ready, with *single telling whether
 * SRC is a regular file (a single file comes) or a tree; or NULL (said).
 */
struct remote *pull_start(const char *operand, const struct copy_options *opt, bool *single);

/** Write what the pull's remote (operand) sends into every destination of copy. */
void pull_receive(struct copy *copy, struct remote *remote, const char *operand);

/** Tell the sending side how the run ended (status), and close. */
void pull_end(struct remote *remote, int status);

#endif
