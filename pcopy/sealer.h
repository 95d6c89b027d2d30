/* SPDX-License-Identifier: 0BSD */
/**
 * The seal in progress in each destination (see sealer.c).
 */
#ifndef PCOPY_SEALER_H
#define PCOPY_SEALER_H

#include "prelude.h"
#include "hash.h"
#include "worker.h"
#include <time.h>

/** Open the seal's temporary in dest and write its first line. 0 or -1 (dest failed). */
int seal_open(struct copy *copy, struct dest *dest);

/** Append one file's record to dest's seal. hex holds one digest per algorithm. */
void seal_add(struct copy *copy, struct dest *dest, uint64_t ino, uint64_t size, const char *rel,
	      size_t len, const struct timespec *mtime, char hex[][HASH_HEX_MAX + 1]);

/** Finish the seal: its last line, sync, and rename into place. 0 or -1. */
int seal_close(struct copy *copy, struct worker *worker, struct dest *dest);

#endif
