/* SPDX-License-Identifier: 0BSD */
/** pfind's test expression: find's tests and actions, combined with ! (-not), implicit and (-a), -o and ( ). */
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
 * -mtime/-mmin (find's start time). The reference files of -newer,
 * -newerXY and -samefile are stat'ed here, the names of -user and -group
 * looked up, and the dates of -newerXt read in local time (as find does,
 * all in the calling thread, before any walk). Options met on the way (-mindepth,
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
 * of a failed stat (the entry then matches nothing). prune and quit are set
 * by evaluation when it reaches -prune (do not descend into this entry) or
 * -quit (end the walk: nothing after it is evaluated or printed).
 */
struct expr_entry {
	const struct walk_entry *entry;
	const struct stat *st;
	struct stat buf;
	bool follow;            /* stat the target (-L) */
	bool tried;
	int error;
	bool prune;
	bool quit;
};

/** The two ways an entry is printed. */
enum expr_print {
	EXPR_PRINT_RECORD, /* -print: the entry's record (its path and a NUL under -0) */
	EXPR_PRINT_NUL,    /* -print0: the bare path and a NUL */
};

/** Called once for each -print or -print0 reached, in the order reached. */
typedef void expr_print_fn(void *context, enum expr_print how);

/** Prepare an evaluation view of entry. */
void expr_entry_init(struct expr_entry *view, const struct walk_entry *entry, bool follow);

/** The entry's stat, made on first call. Returns NULL with view->error set on failure. */
const struct stat *expr_entry_stat(struct expr_entry *view);

/**
 * Evaluate expr on an entry, as find does, calling print(context, how) for
 * each -print or -print0 reached. expr_parse gives an expression without
 * either an implicit -print at the end, so such an expression prints the
 * entry once when it is true; a NULL expr prints every entry once.
 * view->prune and view->quit say whether -prune or -quit was reached.
 * Safe to call from several threads at once on one expression.
 */
void expr_eval(const struct expr *expr, struct expr_entry *view, expr_print_fn *print, void *context);

/** Whether expr can print records (-print, explicit or implied), which need a stat. */
bool expr_prints_records(const struct expr *expr);

/** Whether expr holds -quit. */
bool expr_has_quit(const struct expr *expr);

#endif
