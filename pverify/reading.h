/* SPDX-License-Identifier: 0BSD */
/**
 * pverify's reading thread: parse the manifest (native records, GNU and BSD
 * lines, a pcopy seal), number its entries and feed them to the batch
 * pipeline, counting what is malformed or refused on the way.
 */
#ifndef PVERIFY_READING_H
#define PVERIFY_READING_H

#include "prelude.h"
#include "audit.h"
#include "batchpipe.h"
#include "hash.h"
#include "input.h"
#include "out.h"
#include "progress.h"

struct reading {
	/* Set by the caller. */
	struct input *in;
	const struct out *sink;     /* stdout, to stop when its reader has gone */
	struct batchpipe_feed feed;
	struct progress *progress;  /* NULL when off */
	bool beneath;               /* --root: refuse paths that would leave it */
	struct audit *audit;        /* NULL without --audit */
	bool zero;                  /* -z: lines end with NUL whatever the first shows */
	bool counted;               /* the totals are in progress already (reading_tally) */
	const char *signers;        /* --signers: the allowed_signers file, or NULL */
	bool quiet;                 /* no note of who signed (-q, --status) */
	/* Filled in by reading_run. */
	uint64_t tasks;             /* entries numbered */
	uint64_t malformed;         /* malformed lines skipped */
	uint64_t refused;           /* entries refused (errors not in the report's counts) */
	bool sealed_content;        /* the manifest began with the seal header */
	bool seal_whole;            /* ...and ended with a seal line that matched */
};

/**
 * Read the whole manifest, queueing one task per entry, and flush the feed.
 * forced is -a's algorithm (or NULL); sealed says the manifest must be a
 * seal. Messages go to stderr. Returns 0, or -1 after a read error.
 */
int reading_run(struct reading *reading, const struct hash_algo *forced, bool sealed);

/**
 * Queue a task made elsewhere (--bag's, --mhl's entries) as a manifest line's would
 * be: refused when it leaves the root, noted for the audit. The task is
 * reading's from now on. Returns 0, or -1 (the audit ran out of memory: reported).
 */
int reading_take(struct reading *reading, struct task *task);

/**
 * reading_take, for a task whose path may have been taken before (as the
 * audit compares paths): then it is not queued, *queued is false and the
 * task stays the caller's. It needs the audit (EINVAL without one: nothing
 * done, the task still the caller's). Returns 0, or -1 (reported and the
 * task freed, but for EINVAL).
 */
int reading_take_once(struct reading *reading, struct task *task, bool *queued);

/**
 * Open manifest (NULL or "-": standard input), read it (reading_run; sealed,
 * or named as a seal, it must be one), leave it out of an audit's NEW files
 * (rootfd: -C's root or AT_FDCWD) and close it; a manifest without one entry
 * to check fails the run ("no file was checked"). With reading->signers, a
 * manifest whose signature is missing, wrong or untrusted is not read at
 * all (signed.h). Returns 0 (a read error is
 * reported and fails the run), or -1 when it could not be opened (reported).
 */
int reading_file(struct reading *reading, const char *manifest, const struct hash_algo *forced,
		 bool sealed, int rootfd);

/**
 * For progress, before reading: count the entries of every manifest (none:
 * standard input) and the bytes of the files to read, in a quick first pass
 * (nothing checked or reported), and give progress the totals. Only
 * manifests that can be read twice are counted: files, and standard input
 * from a file (it is rewound). Returns whether the totals were given.
 */
bool reading_count(const char *const *manifests, size_t n, bool zero,
		   const struct hash_algo *forced, struct progress *progress);
#endif
