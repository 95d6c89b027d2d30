/* SPDX-License-Identifier: 0BSD */
/**
 * Copying one regular file to every destination (see fileop.c).
 */
#ifndef PCOPY_FILEOP_H
#define PCOPY_FILEOP_H

#include "prelude.h"
#include "reader.h"

/** Copy task's file (its source open as task->srcfd) to every destination. */
void reader_copy(struct reader *reader, struct task *task);

/** A writer thread's task (a destination's pool): one job of one fileop. */
void writer_work(void *context, void *item);

#endif
