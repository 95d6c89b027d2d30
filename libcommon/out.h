/* SPDX-License-Identifier: 0BSD */
/**
 * Output that never interleaves records: threads format whole records into
 * their own large buffer (struct outbuf, no lock per record) and hand the
 * buffer to a shared sink (struct out) in one locked write. A slow reader
 * blocks the writers in write(2), so memory stays bounded.
 */
#ifndef PTOOLS_OUT_H
#define PTOOLS_OUT_H

#include "prelude.h"
#include "dbuf.h"

/** A shared, locked sink over a file descriptor. */
struct out;

/** Make a sink over fd (not closed by out_free). Returns NULL (ENOMEM) on failure. */
struct out *out_new(int fd);

/** Free the sink; NULL-safe. Does not close the fd. */
void out_free(struct out *out);

/**
 * Write len bytes in one locked transfer, so that bytes from two calls never
 * mix. Returns 0, or -1 with errno (EPIPE when the reader went away). After the
 * first failure every later call fails at once with the same errno.
 */
int out_write(struct out *out, const void *data, size_t len);

/** errno of the first failed write, or 0. Thread-safe. */
int out_error(const struct out *out);

/**
 * At the end of a run: report the sink's write error, if any, as
 * "prog: write error: reason" (exit status 1). EPIPE is not reported: the
 * reader went away (pfind | head), which ends the run quietly, as find does,
 * with status 1 since output was lost.
 */
void out_report_error(const struct out *out);

/** A per-thread buffer in front of a shared sink. */
struct outbuf {
	struct out *sink;
	struct dbuf buf;    /* append whole records here */
	size_t flush_at;    /* out_commit flushes once buf.len reaches this */
};

/** Prepare a buffer that flushes to sink in chunks of about flush_at bytes. */
void outbuf_init(struct outbuf *ob, struct out *sink, size_t flush_at);

/**
 * Call after appending one or more whole records to ob->buf: flushes when the
 * buffer is full enough. Returns 0, or -1 with errno from the sink.
 */
int outbuf_commit(struct outbuf *ob);

/**
 * Add len bytes of whole records made elsewhere (a block formatted ahead),
 * flushing as outbuf_commit does; a block of flush_at bytes or more, or one
 * there is no memory to buffer, goes to the sink directly, after what is
 * buffered. Returns 0, or -1 with errno: only the sink fails it.
 */
int outbuf_put(struct outbuf *ob, const void *data, size_t len);

/** Write out whatever is buffered. Returns 0, or -1 with errno. */
int outbuf_flush(struct outbuf *ob);

/** Flush, then free the buffer (not the sink). Returns outbuf_flush's result. */
int outbuf_fini(struct outbuf *ob);

#endif
