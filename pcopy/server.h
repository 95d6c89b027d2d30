/* SPDX-License-Identifier: 0BSD */
/** pcopy --server: the remote side of a copy, run by the remote shell (see server.c). */
#ifndef PCOPY_SERVER_H
#define PCOPY_SERVER_H

#include "prelude.h"
#include "copy.h"

/**
 * Serve one client on stdin and stdout: greet, take its SETUP, then
 * receive into a destination, send a tree, or roll a destination back.
 * opt holds the local defaults (signals, progress off). Returns the exit
 * status.
 */
int server_main(struct copy_options *opt);

#endif
