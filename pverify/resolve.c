/* SPDX-License-Identifier: 0BSD */
/** Manifest paths under --root: which ones are refused before any open. */
#include "prelude.h"
#include "resolve.h"

const char *resolve_refusal(const char *path, size_t len)
{
	size_t i = 0, start, depth = 0;

	if (len > 0 && path[0] == '/')
		return "absolute path refused under --root";
	while (i < len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i - start == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (depth == 0)
				return "path climbs out of the root";
			depth--;
		} else if (i - start > 0 && !(i - start == 1 && path[start] == '.')) {
			depth++;
		}
		i++;
	}
	return NULL;
}
