/* SPDX-License-Identifier: 0BSD */
/**
 * Delta updates' rules and counting (delta.h). The update itself is a state
 * of a file's copy in each destination (fileop.c): the old file is read
 * beside the source, block for block, and the new version is built from it.
 * Atomic by default: the new version is a temporary that starts as a clone
 * of the old file where the filesystem can share blocks (FICLONE), else
 * receives the equal ranges through copy_file_range, and is renamed into
 * place. With --inplace the old file itself is overwritten, after the old
 * bytes of each changed block went to the journal, so that an undo puts
 * them back.
 */
#include "prelude.h"
#include "delta.h"
#include "proto.h"
#include "xio.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int delta_parse_block_size(const char *arg, size_t *size)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		goto bad;
	if (*end == 'K' || *end == 'k') {
		n <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		n <<= 20;
		end++;
	}
	if (*end != '\0' || !proto_block_ok(n))
		goto bad;
	*size = (size_t)n;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

bool delta_on(const struct copy_options *opt)
{
	return !opt->whole_file && (opt->delta || opt->inplace || opt->force || opt->update);
}

bool delta_eligible(const struct copy_options *opt, const struct stat *src,
		    const struct stat *old)
{
	return delta_on(opt) && S_ISREG(src->st_mode) && S_ISREG(old->st_mode) &&
	       (uint64_t)src->st_size >= DELTA_MIN_SIZE;
}

unsigned delta_similar_permille(const struct delta_count *count)
{
	if (count->blocks == 0)
		return 1000;
	return (unsigned)((count->blocks - count->differ) * 1000 / count->blocks);
}

int delta_compare_files(int srcfd, int oldfd, size_t block_size, struct delta_count *count)
{
	/* Several blocks a read: fewer calls, and the same counts. */
	size_t chunk = block_size < ((size_t)1 << 20) ? (size_t)1 << 20 : block_size;
	unsigned char *src = malloc(chunk), *old = malloc(chunk);
	uint64_t offset = 0;
	int ret = -1;

	if (!src || !old)
		goto out;
	for (;;) {
		ssize_t got = xpread(srcfd, src, chunk, (off_t)offset);
		ssize_t had;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		had = xpread(oldfd, old, (size_t)got, (off_t)offset);
		if (had < 0)
			goto out;
		for (size_t at = 0; at < (size_t)got; at += block_size) {
			size_t n = (size_t)got - at < block_size ? (size_t)got - at : block_size;
			count->blocks++;
			if ((size_t)had < at + n || memcmp(src + at, old + at, n) != 0)
				count->differ++;
		}
		offset += (uint64_t)got;
	}
	ret = 0;
out:
	free(src);
	free(old);
	return ret;
}
