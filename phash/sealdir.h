/* SPDX-License-Identifier: 0BSD */
/** phash --seal DIR: the walk's records into a seal written atomically inside DIR (sealdir.c). */
#ifndef PHASH_SEALDIR_H
#define PHASH_SEALDIR_H

#include "prelude.h"
#include "mhl2ignore.h"
#include "phash.h"
#include <stdio.h>
#include <time.h>

struct mhlrun;

/** One in-place seal being made. */
struct sealdir {
	const char *dir;     /* DIR as given */
	int dirfd;
	bool mhl;            /* --mhl: an ASC MHL generation, not the native seal */
	time_t started;      /* the generation's date */
	int records;         /* the walk's records: an unnamed temporary (O_TMPFILE) */
	int pipe;            /* --mhl: where phash writes them, for the run's thread; or -1 */
	struct mhlrun *run;  /* --mhl: the generation being made (sealdir.c) */
	struct mhl2_ignore ignore; /* --mhl, while writing: what the generation leaves out */
};

/**
 * Open DIR and the records' temporary; with --mhl, read DIR's history and
 * start the generation, written from the records as they come. Returns the
 * descriptor phash writes its records to, or -1 with errno; errno 0 when
 * the seal cannot be written (the history at fault, say), which is
 * reported: nothing is worth hashing then.
 */
int sealdir_open(struct sealdir *sd, const char *dir, const struct options *opt);
/**
 * After the walk: when every file was read (diag_status() still 0), write
 * the seal. Reports each failure and raises the exit status. Returns 0 or -1.
 */
int sealdir_write(struct sealdir *sd, const struct options *opt);
/** Close what sealdir_open opened. */
void sealdir_close(struct sealdir *sd);
#endif
