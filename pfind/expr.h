/* SPDX-License-Identifier: 0BSD */
/** pfind's test expression: find's tests and -print, combined with ! (-not), implicit and (-a), -o and ( ). */
#ifndef PFIND_EXPR_H
#define PFIND_EXPR_H

#include "prelude.h"
#include "walk.h"
#include <sys/stat.h>
#include <time.h>

struct expr;

/** Options that find spells as tests but that steer the walk; filled by expr_parse. */
struct expr_options {
	size_t mindepth;
	size_t maxdepth;        /* SIZE_MAX: no limit */
	bool xdev;
	bool follow;            /* -L or -follow */
	bool ignore_readdir_race; /* the last of -ignore_readdir_race, -noignore_readdir_race */
};

/**
 * Parse argv[0..argc) as an expression. now is the reference time for
 * -mtime/-mmin (find's start time). Options met on the way (-mindepth,
 * -maxdepth, -xdev, -follow, -ignore_readdir_race, -noignore_readdir_race)
 * are stored in *options, which the caller initialises.
 *
 * Returns 0 with *expr set to the expression (NULL when argc is 0 or it holds
 * only options: every entry matches) and *error NULL. Returns -1 with *expr
 * NULL on failure: errno EINVAL for a syntax error (a usage error; -newer's
 * file is stat'ed here and its failure is one too), with *error set to a
 * message the caller frees; errno ENOMEM when out of memory, *error NULL.
 * The expression is owned by the caller (expr_free); patterns point into
 * argv, which must outlive it.
 */
int expr_parse(char **argv, int argc, struct timespec now, struct expr_options *options,
	       struct expr **expr, char **error);

/**
 * Whether word is a test (or an option spelled as one) that takes the next
 * word as its argument: from the table expr_parse reads, so that the caller
 * can tell a test's argument from a path or an option of its own.
 */
bool expr_takes_argument(const char *word);

/** Free an expression; NULL-safe. */
void expr_free(struct expr *expr);

/**
 * Lazily stat'ed view of an entry for evaluation: st is the walker's stat or
 * one made on first need with fstatat(at_fd, at_path). error holds the errno
 * of a failed stat (the entry then matches nothing).
 */
struct expr_entry {
	const struct walk_entry *entry;
	const struct stat *st;
	struct stat buf;
	bool follow;            /* stat the target (-L) */
	bool tried;
	int error;
};

/** Prepare an evaluation view of entry. */
void expr_entry_init(struct expr_entry *view, const struct walk_entry *entry, bool follow);

/** The entry's stat, made on first call. Returns NULL with view->error set on failure. */
const struct stat *expr_entry_stat(struct expr_entry *view);

/**
 * Evaluate expr on an entry, as find does, and return how many times the
 * entry is to be printed: once for each -print reached. expr_parse gives an
 * expression without -print an implicit one at the end, so that is 1 when
 * such an expression is true and 0 when it is false; a NULL expr prints
 * every entry once.
 */
unsigned expr_eval(const struct expr *expr, struct expr_entry *view);

#endif
