/* SPDX-License-Identifier: 0BSD */
/** I/O wrappers that retry on EINTR and on short transfers (the x prefix, as in bfs). */
#ifndef PTOOLS_XIO_H
#define PTOOLS_XIO_H

#include "prelude.h"
#include <sys/types.h>

/**
 * Read up to len bytes, retrying on EINTR and short reads until len bytes or
 * end of file. Returns the number of bytes read (less than len only at end of
 * file), or -1 with errno set; bytes read before an error are lost to the caller.
 */
ssize_t xread(int fd, void *buf, size_t len);

/** pread up to len bytes at offset, as xread does. Returns the count, or -1 with errno. */
ssize_t xpread(int fd, void *buf, size_t len, off_t offset);

/** Write all len bytes, retrying on EINTR and short writes. Returns 0, or -1 with errno. */
int xwrite(int fd, const void *buf, size_t len);

/** pwrite all len bytes at offset. Returns 0, or -1 with errno. */
int xpwrite(int fd, const void *buf, size_t len, off_t offset);

/** close() that keeps errno intact for the caller's earlier error; returns close's result. */
int xclose(int fd);

#endif
