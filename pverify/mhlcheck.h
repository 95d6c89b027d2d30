/* SPDX-License-Identifier: 0BSD */
/**
 * pverify --mhl DIR (or DIR holding an ascmhl history): every file against
 * the newest digest of each format in the history, the chain, and the
 * newest generation's directory hashes (mhlcheck.c's essay says how).
 */
#ifndef PVERIFY_MHLCHECK_H
#define PVERIFY_MHLCHECK_H
#include "prelude.h"
#include "reading.h"

/**
 * Check the history of DIR (open at rootfd, named dir in messages): the
 * chain and each generation's C4 (each problem reported and counted in
 * reading->refused), then each generation's entries as tasks through
 * reading_take. Returns 0, or -1 when the history could not be read at all
 * (reported; the status raised).
 */
int mhlcheck_run(struct reading *reading, const char *dir, int rootfd);
/** Whether path is a directory holding an ascmhl history directory. */
bool mhlcheck_detect(const char *path);
#endif
