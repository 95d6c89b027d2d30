/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy -n/--dry-run: what a run would do, one line per entry and
 * destination on standard output, with nothing written anywhere
 * (dryrun.c).
 */
#ifndef PCOPY_DRYRUN_H
#define PCOPY_DRYRUN_H

#include "prelude.h"
#include "worker.h"
#include <sys/stat.h>

/** What a run would do with one entry in one destination. */
enum dryrun_action {
	DRYRUN_COPY,     /* nothing there: copied (or made) */
	DRYRUN_REPLACE,  /* there, and replaced (--force, --update finding it differs) */
	DRYRUN_KEEP,     /* there with the source's size and mtime (--update): kept if every byte compares equal */
	DRYRUN_REFUSE,   /* there, and not replaceable: the run would fail that destination */
	DRYRUN_DELETE,   /* --delete: there, and not in the source */
};

/**
 * Print "ACTION TAB DEST TAB escaped-path" for rel (len bytes) in dest. A
 * refusal raises the exit status to 1, as the real run would fail.
 */
void dryrun_say(struct dest *dest, enum dryrun_action action, const char *rel, size_t len);

/**
 * A file that a run would update by blocks (delta.h): compare the source
 * srcfd with the old file name in dirfd now and say so, with the blocks
 * that differ and the similarity (pdiffcopy's report). Returns 0 when said,
 * -1 when either could not be read (reported).
 */
int dryrun_say_delta(const struct copy *copy, struct dest *dest, int srcfd, int dirfd,
		     const char *name, const char *rel, size_t len);

/** What the run would make of the source entry src (its stat) over old, there. */
enum dryrun_action dryrun_decide(const struct copy *copy, const struct stat *src,
				 const struct stat *old);

/**
 * Say what the run would do with the source entry rel (at at_path in
 * at_fd; st its lstat, of which a walker's regular file may hold only the
 * type: it is stat'ed here then) in every destination.
 */
void dryrun_entry(struct worker *worker, int at_fd, const char *at_path, const struct stat *st,
		  const char *rel, size_t len);

#endif
