/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --bag: each destination DEST becomes a BagIt bag (libcommon/bagit.h;
 * docs/FORMAT.md, "BagIt bags"). The copy engine's root for a bag is
 * DEST/data (its journal and temporaries live there and vanish with the
 * run); this module writes the payload manifests as files complete, in
 * place of the native seal, and puts the tag files into DEST at the end.
 */
#ifndef PCOPY_BAGGER_H
#define PCOPY_BAGGER_H

#include "prelude.h"
#include "hash.h"
#include "worker.h"

struct bagger;

/**
 * Before dest_setup: open (or make) the bag root dest->path, and point
 * dest->path at its data directory. Failure is reported (dest_fail).
 */
void bagger_prepare(struct copy *copy, struct dest *dest);

/** In place of seal_open: refuse an existing bag unless --force/--update, open the manifests' temporaries. 0 or -1 (reported). */
int bagger_open(struct copy *copy, struct dest *dest);

/** In place of seal_add: one file's lines in each payload manifest. */
void bagger_add(struct copy *copy, struct dest *dest, uint64_t size, const char *rel, size_t len,
		char hex[][HASH_HEX_MAX + 1]);

/** In place of seal_close: the tag files, put in place in the bag root. 0 or -1 (reported). */
int bagger_close(struct copy *copy, struct worker *worker, struct dest *dest);

/** After a rollback of dest: remove the tag files this run put in place, and a bag root it made. */
void bagger_undo(struct dest *dest);

/** Free dest's bag state (its descriptors too); NULL-safe. */
void bagger_free(struct bagger *bag);

/**
 * The BagIt algorithms of the run's algos (indexes into algos, in order);
 * returns how many.
 */
size_t bagger_algos(const struct hash_algo *const *algos, size_t nalgos, size_t *index);

#endif
