/* SPDX-License-Identifier: 0BSD */
/**
 * Hard links inside the source, kept as hard links with -H (see links.c).
 */
#ifndef PCOPY_LINKS_H
#define PCOPY_LINKS_H

#include "prelude.h"
#include "hashio.h"
#include "reader.h"

/** A source inode seen with several links (-H). */
struct link_entry {
	dev_t dev;
	ino_t ino;
	bool done;                   /* first copy finished (ok or not) */
	bool ok;
	char **hex;                  /* digests of the first copy, per algorithm */
	uint64_t *dest_ino;          /* per destination */
	size_t rel_len;
	char rel[];                  /* the first copy's path, relative */
};

/**
 * Look the task's inode up. Returns NULL when this task is the first copy
 * (*mine then holds the new entry, to be completed by link_finish), or the
 * finished first copy to link to; *mine NULL and NULL returned on ENOMEM.
 */
struct link_entry *link_claim(struct copy *copy, struct task *task, struct link_entry **mine);

/** Record how the first copy of entry ended (its digests when ok) and wake the waiters. */
void link_finish(struct copy *copy, struct link_entry *entry, bool ok,
		 struct hashio_result *result);

/** Make the reader's task a hard link to the first copy, in every destination. */
void link_copy(struct reader *reader, struct link_entry *first);

/** Free the table of first copies. */
void links_free(struct copy *copy);

#endif
