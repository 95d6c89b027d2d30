/* SPDX-License-Identifier: 0BSD */
/** The ignore patterns a new ASC MHL generation records and applies (mhl2ignore.h). */
#include "prelude.h"
#include "mhl2ignore.h"
#include "mhl2.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The reference implementation's patterns for a history that has none. */
static const char *const reference_defaults[] = {".DS_Store", "ascmhl", "ascmhl/"};
#define REFERENCE_DEFAULTS (sizeof(reference_defaults) / sizeof(*reference_defaults))

/* Append pattern to list (n entries) unless it is there already. */
static void add(const char **list, size_t *n, const char *pattern)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i] && strcmp(list[i], pattern) == 0)
			return;
	list[(*n)++] = pattern;
}

static bool applied_has(const struct exclude *applied, const char *pattern)
{
	for (size_t i = 0; applied && i < applied->n; i++)
		if (strcmp(applied->rules[i].given, pattern) == 0)
			return true;
	return false;
}

int mhl2_ignore_build(struct mhl2_ignore *ig, const struct mhl2_prior *prior,
		      const struct exclude *applied)
{
	static const char *const own[] = MHL2_IGNORE_PATTERNS;
	size_t ncarried, cap, n = 0;
	const char **list;
	const char *const *carried = mhl2_prior_ignore(prior, &ncarried);

	memset(ig, 0, sizeof(*ig));
	exclude_init(&ig->carried);
	if (!carried)
		ncarried = 0;
	cap = ncarried + MHL2_NIGNORE + (applied ? applied->n : 0) + 3;
	list = calloc(cap, sizeof(*list));
	if (!list)
		return -1;
	ig->patterns = list;
	for (size_t i = 0; i < ncarried; i++) {
		add(list, &n, carried[i]);
		if (applied_has(applied, carried[i]) ||
		    mhl2_ignored(carried[i], strlen(carried[i])))
			continue;
		/* One this module cannot read as a pattern (only slashes) matches nothing. */
		if (exclude_add(&ig->carried, carried[i]) != 0 && errno != EINVAL) {
			mhl2_ignore_fini(ig);
			return -1;
		}
	}
	for (size_t i = 0; ncarried == 0 && i < REFERENCE_DEFAULTS; i++)
		add(list, &n, reference_defaults[i]);
	for (size_t i = 0; i < MHL2_NIGNORE; i++)
		add(list, &n, own[i]);
	for (size_t i = 0; applied && i < applied->n; i++)
		add(list, &n, applied->rules[i].given);
	ig->n = n;
	return 0;
}

bool mhl2_ignore_match(const struct mhl2_ignore *ig, const char *rel, size_t len, bool is_dir)
{
	char *copy;
	bool match = false;

	if (mhl2_ignored(rel, len))
		return true;
	if (ig->carried.n == 0)
		return false;
	copy = strndup(rel, len);
	if (!copy)
		return false; /* listed rather than lost: the history says more, not less */
	/* Each directory above it, then itself: what is below an ignored
	 * directory is ignored too. */
	for (size_t i = 0; !match && i <= len; i++) {
		const char *name;

		if (i < len && copy[i] != '/')
			continue;
		copy[i] = '\0';
		name = strrchr(copy, '/');
		name = name ? name + 1 : copy;
		match = exclude_match(&ig->carried, name, copy, i < len || is_dir);
		if (i < len)
			copy[i] = '/';
	}
	free(copy);
	return match;
}

void mhl2_ignore_fini(struct mhl2_ignore *ig)
{
	if (!ig)
		return;
	free(ig->patterns);
	exclude_fini(&ig->carried);
	ig->patterns = NULL;
	ig->n = 0;
}
