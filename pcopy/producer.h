/* SPDX-License-Identifier: 0BSD */
/**
 * The producers' thread contexts, also used to finish the run (see
 * producer.c; copy_tree and copy_records are declared in copy.h).
 */
#ifndef PCOPY_PRODUCER_H
#define PCOPY_PRODUCER_H

#include "prelude.h"
#include "worker.h"

/** A walker thread's context: a whole reader, so it can copy small files itself. */
void *walker_init(void *arg);

/** Free a walker thread's context (NULL-safe). */
void walker_fini(void *context);

/** The source root's metadata (st), which each destination root gets at completion. */
void copy_root(struct copy *copy, const struct stat *st);

/** Whether st is one of the destination roots (one inside the source is not copied). */
bool is_dest_root(const struct copy *copy, const struct stat *st);

#endif
