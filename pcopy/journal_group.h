/* SPDX-License-Identifier: 0BSD */
/**
 * Group commit for pcopy's journal: records that many threads append to one
 * file, each append returning only once its record is written (and synced),
 * while the records of appends that overlap go out together in one write(2)
 * (see the essay in journal_group.c).
 */
#ifndef PCOPY_JOURNAL_GROUP_H
#define PCOPY_JOURNAL_GROUP_H

#include "prelude.h"
#include <stddef.h>

/**
 * The most bytes of records gathered for one write: an append waits while
 * its record would take the records waiting past it (a longer record waits
 * until none are waiting, then goes alone).
 */
#define JOURNAL_GROUP_MAX ((size_t)64 * 1024)

/** Appends to one file, shared by threads. */
struct journal_group;

/**
 * A group appending to fd, which stays the caller's (close it after
 * journal_group_free). With sync, every write is fdatasync'd before the
 * appends it holds return. Returns NULL with errno.
 */
struct journal_group *journal_group_new(int fd, bool sync);

/** Free the group; no append may be in progress. NULL-safe. */
void journal_group_free(struct journal_group *group);

/**
 * Append the len bytes at record (a whole record: they are written together,
 * after every record whose append was accepted before this one). Returns 0
 * once they are in the file (and synced, with sync), or -1 with errno: the
 * error of the write (or fdatasync) that held them, which fails every record
 * in it and is the group's failure from then on; the group's failure, when it
 * already had one or got one before they were written; or ENOMEM (nothing was
 * appended, the group is still sound). Thread-safe.
 */
int journal_group_append(struct journal_group *group, const void *record, size_t len);

/**
 * Make err the group's failure unless it already has one: from now on no
 * record is written, and every append not yet written fails with it.
 * Thread-safe.
 */
void journal_group_fail(struct journal_group *group, int err);

/** The errno of the group's failure, or 0. Thread-safe. */
int journal_group_error(struct journal_group *group);

#endif
