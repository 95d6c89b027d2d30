/* SPDX-License-Identifier: 0BSD */
/** pcopy --dry-run (dryrun.h): the run's decisions, taken and said, nothing done. */
#include "prelude.h"
#include "dryrun.h"
#include "beneath.h"
#include "destdir.h"
#include "diag.h"
#include "record.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const action_word[] = {
	[DRYRUN_COPY] = "copy",
	[DRYRUN_REPLACE] = "replace",
	[DRYRUN_KEEP] = "keep",
	[DRYRUN_REFUSE] = "refuse",
	[DRYRUN_DELETE] = "delete",
};

void dryrun_say(struct dest *dest, enum dryrun_action action, const char *rel, size_t len)
{
	struct dbuf line;

	dbuf_init(&line);
	if (dbuf_printf(&line, "%s\t", action_word[action]) == 0 &&
	    rec_escape(&line, dest->path, strlen(dest->path)) == 0 && dbuf_putc(&line, '\t') == 0 &&
	    rec_escape(&line, len ? rel : ".", len ? len : 1) == 0 && dbuf_putc(&line, '\n') == 0) {
		pthread_mutex_lock(&dest->lock);
		fwrite(line.data, 1, line.len, stdout);
		pthread_mutex_unlock(&dest->lock);
	}
	dbuf_free(&line);
	if (action == DRYRUN_REFUSE)
		diag_raise(EXIT_FAILED);
}

enum dryrun_action dryrun_decide(const struct copy *copy, const struct stat *src,
				 const struct stat *old)
{
	if (S_ISDIR(src->st_mode))
		return S_ISDIR(old->st_mode) ? DRYRUN_KEEP : DRYRUN_REFUSE;
	if (S_ISDIR(old->st_mode))
		return DRYRUN_REFUSE;
	if (copy->opt.force)
		return DRYRUN_REPLACE;
	if (!copy->opt.update)
		return DRYRUN_REFUSE;
	if (dest_looks_current(copy, false, old, src))
		return DRYRUN_KEEP;
	return DRYRUN_REPLACE;
}

void dryrun_entry(struct worker *worker, int at_fd, const char *at_path, const struct stat *st,
		  const char *rel, size_t len)
{
	struct copy *copy = worker->copy;
	char name[NAME_MAX + 1];
	struct stat full, old;
	size_t dir_len;

	if (S_ISREG(st->st_mode) && fstatat(at_fd, at_path, &full, AT_SYMLINK_NOFOLLOW) == 0)
		st = &full; /* a walker's regular file came with its type only */
	if (beneath_last_name(rel, len, &dir_len, name) != 0)
		return;
	for (size_t i = 0; i < copy->ndests; i++) {
		struct dest *dest = &copy->dests[i];
		enum dryrun_action action = DRYRUN_COPY;
		int dirfd;

		if (!dest_ok(dest))
			continue;
		if (dest->rootfd >= 0) {
			dirfd = beneath_open_dir(dest->rootfd, rel, dir_len, O_PATH);
			if (dirfd >= 0) {
				if (fstatat(dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0)
					action = dryrun_decide(copy, st, &old);
				close(dirfd);
			} else if (errno != ENOENT) {
				action = DRYRUN_REFUSE; /* a symlink or a file where a directory should be */
			}
		}
		/* An existing directory is used as it is: nothing to say. */
		if (!(action == DRYRUN_KEEP && S_ISDIR(st->st_mode)))
			dryrun_say(dest, action, rel, len);
	}
}
