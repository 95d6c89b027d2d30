/* SPDX-License-Identifier: 0BSD */
/**
 * The producers' thread contexts, also used to finish the run (see
 * producer.c; copy_tree and copy_records are declared in copy.h).
 */
#ifndef PCOPY_PRODUCER_H
#define PCOPY_PRODUCER_H

#include "prelude.h"

/** A walker thread's context: a whole reader, so it can copy small files itself. */
void *walker_init(void *arg);

/** Free a walker thread's context (NULL-safe). */
void walker_fini(void *context);

#endif
