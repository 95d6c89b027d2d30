/* SPDX-License-Identifier: 0BSD */
/** Non-interleaving output: per-thread buffers flushed whole under one lock. */
#include "prelude.h"
#include "out.h"
#include "xio.h"
#include "diag.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct out {
	int fd;
	/* Guards the file position: one whole buffer is written at a time. */
	pthread_mutex_t lock;
	/* errno of the first failed write; read without the lock. */
	atomic_int error;
};

struct out *out_new(int fd)
{
	struct out *out = malloc(sizeof(*out));
	int err;

	if (!out)
		return NULL;
	out->fd = fd;
	atomic_init(&out->error, 0);
	err = pthread_mutex_init(&out->lock, NULL);
	if (err != 0) {
		free(out);
		errno = err;
		return NULL;
	}
	return out;
}

void out_free(struct out *out)
{
	if (!out)
		return;
	pthread_mutex_destroy(&out->lock);
	free(out);
}

int out_write(struct out *out, const void *data, size_t len)
{
	int err = atomic_load(&out->error);

	if (err != 0) {
		errno = err;
		return -1;
	}
	if (len == 0)
		return 0;
	pthread_mutex_lock(&out->lock);
	/* A slow reader blocks us here, and every other writer on the lock:
	 * that back-pressure is what keeps memory bounded. */
	if (xwrite(out->fd, data, len) != 0) {
		err = errno;
		atomic_store(&out->error, err);
	}
	pthread_mutex_unlock(&out->lock);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int out_error(const struct out *out)
{
	return atomic_load(&((struct out *)out)->error);
}

void out_report_error(const struct out *out)
{
	int err = out_error(out);

	if (err)
		diag_stdout_error(err);
}

void outbuf_init(struct outbuf *ob, struct out *sink, size_t flush_at)
{
	ob->sink = sink;
	dbuf_init(&ob->buf);
	ob->flush_at = flush_at ? flush_at : 1;
}

int outbuf_flush(struct outbuf *ob)
{
	int ret = out_write(ob->sink, ob->buf.data, ob->buf.len);

	/* Dropped on failure too: the sink refuses everything after an error. */
	dbuf_clear(&ob->buf);
	return ret;
}

int outbuf_commit(struct outbuf *ob)
{
	if (ob->buf.len < ob->flush_at)
		return 0;
	return outbuf_flush(ob);
}

int outbuf_put(struct outbuf *ob, const void *data, size_t len)
{
	if (len < ob->flush_at && dbuf_append(&ob->buf, data, len) == 0)
		return outbuf_commit(ob);
	/* A large block (copying it into the buffer would only add a copy),
	 * or no memory to buffer it: write it through, after what is buffered. */
	if (outbuf_flush(ob) != 0)
		return -1;
	return out_write(ob->sink, data, len);
}

int outbuf_fini(struct outbuf *ob)
{
	int ret = outbuf_flush(ob);

	dbuf_free(&ob->buf);
	return ret;
}
