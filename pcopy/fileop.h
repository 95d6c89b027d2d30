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

/**
 * The parts of reader_copy, for a file whose bytes come from elsewhere (a
 * peer's stream, receive.c). reader_file_begin starts task's file in every
 * destination: 1 when its bytes are wanted, 0 when it is done already (a
 * hard link, or no destination takes it). Each block then goes to
 * reader_sink (hashio's sink; non-zero: the file is being dropped), and
 * reader_file_end finishes it with the source's digests, or drops it
 * everywhere (result NULL).
 */
int reader_file_begin(struct reader *reader, struct task *task);
int reader_sink(void *arg, const void *data, size_t len, uint64_t offset);
void reader_file_end(struct reader *reader, struct hashio_result *result);

/*
 * STUB (rdelta branch): the coordinator's engine call; take theirs at the merge.
 * After reader_file_begin: the descriptor of the old file the only
 * destination compares against, or -1 when the file is copied whole.
 */
int reader_delta_base(struct reader *reader);

/** A writer thread's task (a destination's pool): one job of one fileop. */
void writer_work(void *context, void *item);

#endif
