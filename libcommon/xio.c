/* SPDX-License-Identifier: 0BSD */
/** I/O wrappers that retry on EINTR and short transfers. */
#include "prelude.h"
#include "xio.h"
#include <errno.h>
#include <unistd.h>

/* Offset NO_OFFSET: the file offset (read/write), else pread/pwrite there. */
#define NO_OFFSET ((off_t)-1)

/* Read up to len bytes, retrying EINTR and short reads, until len or the end. */
static ssize_t read_fully(int fd, void *buf, size_t len, off_t offset)
{
	size_t done = 0;

	while (done < len) {
		char *at = (char *)buf + done;
		ssize_t n = offset == NO_OFFSET ? read(fd, at, len - done)
						: pread(fd, at, len - done, offset + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Write all len bytes, retrying EINTR and short writes. */
static int write_fully(int fd, const void *buf, size_t len, off_t offset)
{
	size_t done = 0;

	while (done < len) {
		const char *at = (const char *)buf + done;
		ssize_t n = offset == NO_OFFSET ? write(fd, at, len - done)
						: pwrite(fd, at, len - done, offset + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

ssize_t xread(int fd, void *buf, size_t len)
{
	return read_fully(fd, buf, len, NO_OFFSET);
}

ssize_t xpread(int fd, void *buf, size_t len, off_t offset)
{
	return read_fully(fd, buf, len, offset);
}

int xwrite(int fd, const void *buf, size_t len)
{
	return write_fully(fd, buf, len, NO_OFFSET);
}

int xpwrite(int fd, const void *buf, size_t len, off_t offset)
{
	return write_fully(fd, buf, len, offset);
}

int xclose(int fd)
{
	int saved = errno;
	int ret = close(fd);

	if (ret == 0)
		errno = saved;
	return ret;
}
