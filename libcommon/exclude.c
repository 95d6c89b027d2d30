/* SPDX-License-Identifier: 0BSD */
/** The entries a tree walk leaves out (exclude.h). */
#include "prelude.h"
#include "exclude.h"
#include "diag.h"
#include "record.h"
#include "grow.h"
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/*
 * What macOS, Windows and fsck leave in a tree on their own, which nobody
 * means to copy or seal: Finder's folder settings, AppleDouble companions
 * (resource forks and attributes on a filesystem without them), Spotlight's
 * index, the Trash, the FSEvents log, temporary items, Explorer's thumbnail
 * cache and folder settings, and fsck's recovered fragments.
 */
static const char *const defaults[] = {
	".DS_Store", "._*", ".Spotlight-V100", ".Trashes", ".fseventsd", ".TemporaryItems",
	"Thumbs.db", "desktop.ini", "lost+found", NULL,
};

const char *const *exclude_defaults(void)
{
	return defaults;
}

void exclude_init(struct exclude *set)
{
	memset(set, 0, sizeof(*set));
}

void exclude_fini(struct exclude *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->rules[i].glob);
		free(set->rules[i].given);
	}
	free(set->rules);
	exclude_init(set);
}

void exclude_option(struct exclude *set, const char *pattern)
{
	if (exclude_add(set, pattern) == 0)
		return;
	if (errno == EINVAL)
		diag_usage_error("invalid --exclude pattern '%s'", pattern);
	diag_file_error(NULL, errno);
	exit(EXIT_FAILED);
}

int exclude_add(struct exclude *set, const char *pattern)
{
	struct exclude_rule rule;
	size_t start = 0, end = strlen(pattern);

	memset(&rule, 0, sizeof(rule));
	if (start < end && pattern[start] == '/') {
		rule.by_path = true; /* anchored at the root */
		while (start < end && pattern[start] == '/')
			start++;
	}
	if (end > start && pattern[end - 1] == '/') {
		rule.dirs_only = true;
		while (end > start && pattern[end - 1] == '/')
			end--;
	}
	if (end == start) {
		errno = EINVAL;
		return -1;
	}
	if (memchr(pattern + start, '/', end - start))
		rule.by_path = true;
	if (GROW(set->rules, &set->cap, set->n + 1, 16) != 0)
		return -1;
	rule.glob = strndup(pattern + start, end - start);
	rule.given = strdup(pattern);
	if (!rule.glob || !rule.given) {
		free(rule.glob);
		free(rule.given);
		errno = ENOMEM;
		return -1;
	}
	/* Without flags, fnmatch gives '/' and a leading '.' no special
	 * meaning: a pattern free of *, ?, [ and \ matches only itself. */
	rule.literal = strpbrk(rule.glob, "*?[\\") == NULL;
	set->rules[set->n++] = rule;
	return 0;
}

int exclude_add_defaults(struct exclude *set)
{
	for (size_t i = 0; defaults[i]; i++)
		if (exclude_add(set, defaults[i]) != 0)
			return -1;
	return 0;
}

bool exclude_match(const struct exclude *set, const char *name, const char *rel, bool is_dir)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct exclude_rule *rule = &set->rules[i];

		const char *subject = rule->by_path ? rel : name;

		if (rule->dirs_only && !is_dir)
			continue;
		/* Each walked entry meets every rule: most rules are plain
		 * names, and a compare is far cheaper than fnmatch. */
		if (rule->literal ? strcmp(rule->glob, subject) == 0
				  : fnmatch(rule->glob, subject, 0) == 0)
			return true;
	}
	return false;
}

int exclude_format_comment(const struct exclude *set, struct dbuf *out)
{
	if (dbuf_puts(out, EXCLUDE_COMMENT) != 0)
		return -1;
	for (size_t i = 0; i < set->n; i++) {
		const char *given = set->rules[i].given;

		if (dbuf_putc(out, '\t') != 0 || rec_escape(out, given, strlen(given)) != 0)
			return -1;
	}
	return dbuf_putc(out, '\n');
}
