/* SPDX-License-Identifier: 0BSD */
/** pcopy --mhl: each destination's ASC MHL generation and chain, journaled (mhlseal.c). */
#ifndef PCOPY_MHLSEAL_H
#define PCOPY_MHLSEAL_H
#include "prelude.h"
#include "worker.h"
#include <time.h>

/**
 * After the native seal is in place in dest and before the journal's
 * commit: write a new ASC MHL generation (dated when) and the extended
 * chain into dest/ascmhl, through the journal. Returns 0, or -1 with dest
 * failed (reported as any destination failure is).
 */
int mhlseal_write(struct copy *copy, struct worker *worker, struct dest *dest, time_t when);
#endif
