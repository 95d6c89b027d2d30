/* SPDX-License-Identifier: 0BSD */
/** pcopy --dry-run (dryrun.h): the run's decisions, taken and said, nothing done. */
#include "prelude.h"
#include "dryrun.h"
#include "beneath.h"
#include "delta.h"
#include "destdir.h"
#include "diag.h"
#include "record.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* Say action, with a delta's counts when count is not NULL. */
static void say(struct dest *dest, enum dryrun_action action, const char *rel, size_t len,
		const struct delta_count *count)
{
	struct dbuf line;
	int ok;

	dbuf_init(&line);
	ok = dbuf_printf(&line, "%s\t", count ? "delta" : action_word[action]);
	if (ok == 0)
		ok = rec_escape(&line, dest->path, strlen(dest->path));
	if (ok == 0)
		ok = dbuf_putc(&line, '\t');
	if (ok == 0)
		ok = rec_escape(&line, len ? rel : ".", len ? len : 1);
	if (ok == 0 && count) {
		unsigned similar = delta_similar_permille(count);
		ok = dbuf_printf(&line, "\tblocks:%" PRIu64 "\tdiffer:%" PRIu64 "\tsimilar:%u.%u",
				 count->blocks, count->differ, similar / 10, similar % 10);
	}
	if (ok == 0 && dbuf_putc(&line, '\n') == 0) {
		pthread_mutex_lock(&dest->lock);
		fwrite(line.data, 1, line.len, stdout);
		pthread_mutex_unlock(&dest->lock);
	}
	dbuf_free(&line);
	if (action == DRYRUN_REFUSE)
		diag_raise(EXIT_FAILED);
}

void dryrun_say(struct dest *dest, enum dryrun_action action, const char *rel, size_t len)
{
	say(dest, action, rel, len, NULL);
}

int dryrun_say_delta(const struct copy *copy, struct dest *dest, int srcfd, int dirfd,
		      const char *name, const char *rel, size_t len)
{
	struct delta_count count = {0};
	int oldfd, ret = -1;

	oldfd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (srcfd >= 0 && oldfd >= 0 &&
	    delta_compare_files(srcfd, oldfd, copy->opt.block_size, &count) == 0) {
		say(dest, DRYRUN_REPLACE, rel, len, &count);
		ret = 0;
	} else {
		diag_file_error(rel, errno);
	}
	if (oldfd >= 0)
		close(oldfd);
	return ret;
}

/* dryrun_say_delta for the source file at_fd/at_path. */
static int say_delta(const struct copy *copy, struct dest *dest, int at_fd, const char *at_path,
		     int dirfd, const char *name, const char *rel, size_t len)
{
	int srcfd = openat(at_fd, at_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int ret = dryrun_say_delta(copy, dest, srcfd, dirfd, name, rel, len);

	if (srcfd >= 0)
		close(srcfd);
	return ret;
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
		bool said = false;
		int dirfd;

		if (!dest_ok(dest))
			continue;
		if (dest->rootfd >= 0) {
			dirfd = beneath_open_dir(dest->rootfd, rel, dir_len, O_PATH);
			if (dirfd >= 0) {
				if (fstatat(dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0)
					action = dryrun_decide(copy, st, &old);
				said = action == DRYRUN_REPLACE && delta_eligible(&copy->opt, st, &old) &&
				       say_delta(copy, dest, at_fd, at_path, dirfd, name, rel, len) == 0;
				close(dirfd);
			} else if (errno != ENOENT) {
				action = DRYRUN_REFUSE; /* a symlink or a file where a directory should be */
			}
		}
		/* An existing directory is used as it is: nothing to say. */
		if (!said && !(action == DRYRUN_KEEP && S_ISDIR(st->st_mode)))
			dryrun_say(dest, action, rel, len);
	}
}
