/* SPDX-License-Identifier: 0BSD */
/**
 * A bounded reorder window: ordered output from parallel workers.
 *
 * The producer takes a sequence number for each input item in input order
 * (reorder_take), blocking while `window` items are taken but not yet
 * written, so one huge file in flight cannot make memory grow with the
 * thousands of small files finished behind it. Workers complete items in any
 * order with their formatted bytes (reorder_complete); whichever thread
 * completes the item that is next in sequence writes out every consecutive
 * finished item, through out.h, in batches. Items with no output (a skipped
 * line) are completed with empty bytes.
 *
 * Every function is thread-safe; one mutex guards the window.
 */
#ifndef PTOOLS_REORDER_H
#define PTOOLS_REORDER_H

#include "prelude.h"
#include "dbuf.h"
#include "out.h"

struct reorder;

/**
 * Make a window of `window` items (>= 1) writing to out (not owned).
 * Returns NULL with errno (ENOMEM, EINVAL) on failure.
 */
struct reorder *reorder_new(struct out *out, size_t window);

/** Free the window; NULL-safe. Unwritten items are lost: call reorder_finish first. */
void reorder_free(struct reorder *reorder);

/**
 * Take the next sequence number (0, 1, 2, ...), waiting while the window is
 * full. Every number taken must be completed exactly once.
 */
uint64_t reorder_take(struct reorder *reorder);

/**
 * Complete item seq with the bytes in *bytes. The window takes the bytes by
 * swapping buffers: *bytes comes back empty (with reusable storage). Writes
 * out whatever became consecutive. Returns 0, or -1 with errno when the
 * output failed (now or earlier: see out_write).
 */
int reorder_complete(struct reorder *reorder, uint64_t seq, struct dbuf *bytes);

/**
 * Write out everything completed and still buffered. Call once every item
 * taken has been completed. Returns 0, or -1 with errno.
 */
int reorder_finish(struct reorder *reorder);

#endif
