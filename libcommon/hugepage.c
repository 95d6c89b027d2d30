/* SPDX-License-Identifier: 0BSD */
/** Huge pages asked for on large blocks (hugepage.h). */
#include "prelude.h"
#include "hugepage.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

void hugepage_advise(void *p, size_t bytes)
{
	size_t skip = (HUGEPAGE_SIZE - (uintptr_t)p % HUGEPAGE_SIZE) % HUGEPAGE_SIZE;

	if (!p || bytes < skip + HUGEPAGE_SIZE)
		return;
#ifdef MADV_HUGEPAGE
	(void)madvise((char *)p + skip, (bytes - skip) & ~(HUGEPAGE_SIZE - 1), MADV_HUGEPAGE);
#endif
}

void *hugepage_alloc(size_t bytes)
{
	void *p;

	if (bytes < HUGEPAGE_MIN) {
		p = malloc(bytes);
		if (!p)
			errno = ENOMEM;
		return p;
	}
	if (posix_memalign(&p, HUGEPAGE_SIZE, bytes) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	hugepage_advise(p, bytes);
	return p;
}
