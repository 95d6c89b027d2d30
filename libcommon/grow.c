/* SPDX-License-Identifier: 0BSD */
/** Room for one more element in a doubling array (grow.h). */
#include "prelude.h"
#include "grow.h"
#include "hugepage.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int grow(void *array, size_t *cap, size_t need, size_t size, size_t first)
{
	void *old, *grown;
	size_t want;

	if (need <= *cap)
		return 0;
	want = *cap ? *cap : first ? first : 1;
	while (want < need)
		want = want > SIZE_MAX / 2 ? need : 2 * want;
	if (size == 0) {    /* no such element type */
		errno = EINVAL;
		return -1;
	}
	if (want > SIZE_MAX / size) {
		errno = ENOMEM;
		return -1;
	}
	/* The caller's T * is read and written as the bytes of a void *: one
	   representation for every object pointer, as POSIX has it. */
	memcpy(&old, array, sizeof(old));
	if (want * size < HUGEPAGE_MIN) {
		grown = realloc(old, want * size);
	} else {
		/* Moved, not realloc'd: the copy lands in huge pages. */
		grown = hugepage_alloc(want * size);
		if (grown && old)
			memcpy(grown, old, *cap * size);
		if (grown)
			free(old);
	}
	if (!grown) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(array, &grown, sizeof(grown));
	*cap = want;
	return 0;
}
