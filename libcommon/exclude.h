/* SPDX-License-Identifier: 0BSD */
/**
 * Which entries a tree walk leaves out (pcopy, phash -r, pverify --audit):
 * the volatile files systems and desktops scatter (.DS_Store, AppleDouble
 * ._ files, Thumbs.db, lost+found, ...) unless told not to, and the globs
 * given with --exclude. One set of rules for the three tools, so that what
 * pcopy leaves out of a copy, phash -r leaves out of a listing and pverify
 * --audit does not call NEW.
 *
 * Matching is pfind's: a pattern without a '/' is matched with fnmatch(3)
 * (no flags: '*' matches a leading dot, as find -name's does) against the
 * entry's last component, as pfind -name; a pattern with a '/' is matched,
 * as pfind -path, against the entry's path relative to the walked root
 * (no leading "./"; '*' then matches '/' too). A leading '/' anchors a
 * pattern at the root (it is dropped: "/tmp" leaves out the root's tmp
 * only); a trailing '/' matches directories only ("cache/"). A root itself
 * is never left out: it was named explicitly.
 *
 * The set is built before a walk and only read during it, so any number of
 * threads may match against it at once.
 */
#ifndef PTOOLS_EXCLUDE_H
#define PTOOLS_EXCLUDE_H

#include "prelude.h"
#include "dbuf.h"

/** The start of the comment line that records the patterns in a native seal. */
#define EXCLUDE_COMMENT "#exclude"

struct exclude_rule {
	char *glob;      /* the fnmatch pattern, leading and trailing '/' dropped */
	bool by_path;    /* matched against the relative path, not the name */
	bool dirs_only;  /* the pattern ended in '/' */
	bool literal;    /* glob has no wildcard or escape: it matches itself only */
	char *given;     /* the pattern as given, for the record of what was used */
};

/** A set of rules; zeroed (or exclude_init) is an empty set. */
struct exclude {
	struct exclude_rule *rules;
	size_t n, cap;
};

/** Make set an empty set. */
void exclude_init(struct exclude *set);

/** Free the set's rules (the struct itself is the caller's); NULL-safe, idempotent. */
void exclude_fini(struct exclude *set);

/**
 * Add one pattern (copied). Returns 0, or -1 with errno: EINVAL for a
 * pattern that can match nothing (empty, or only slashes), ENOMEM.
 */
int exclude_add(struct exclude *set, const char *pattern);

/**
 * exclude_add for a --exclude option: an invalid pattern is a usage error
 * (exit 2), running out of memory ends the program (exit 1), both said.
 */
void exclude_option(struct exclude *set, const char *pattern);

/** Add the default volatile names (exclude_defaults()). Returns 0, or -1 (ENOMEM). */
int exclude_add_defaults(struct exclude *set);

/** The default patterns, a NULL-terminated static list. */
const char *const *exclude_defaults(void);

/**
 * Whether an entry is left out: name is its last component, rel its path
 * below the walked root (both NUL-terminated), is_dir whether it is a
 * directory (a left-out directory is not entered).
 */
bool exclude_match(const struct exclude *set, const char *name, const char *rel, bool is_dir);

/**
 * Append the comment line that records the set: EXCLUDE_COMMENT, then for
 * each pattern as given a TAB and the pattern escaped as a record's path is
 * (FORMAT.md, section 5), then LF. An empty set gives EXCLUDE_COMMENT alone:
 * nothing was left out. Returns 0, or -1 (ENOMEM).
 */
int exclude_format_comment(const struct exclude *set, struct dbuf *out);

#endif
