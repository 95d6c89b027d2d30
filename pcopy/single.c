/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy FILE DEST... (single.h). The file is copied by the same engine as
 * a tree's files, into a destination root that is the directory holding the
 * new file: temporary and rename (or an unnamed file linked in), -f/-u,
 * -p, --verify, --fsync, the journal and its rollback all apply unchanged.
 * What differs is the name (each destination's own, struct dest's
 * single_name), that the root's own metadata is left as it is, that a seal
 * is written only when asked for, and the record of the copy on standard
 * output once its destination is committed.
 */
#include "prelude.h"
#include "single.h"
#include "delta.h"
#include "diag.h"
#include "dryrun.h"
#include "journal.h"
#include "producer.h"
#include "reader.h"
#include "record.h"
#include "remote.h"
#include "run.h"
#include "sealer.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the file's record will say in one destination. */
struct single_result {
	uint64_t ino, size;
	char hex[HASH_SET_MAX][HASH_HEX_MAX + 1];
};

char *single_basename(const char *path)
{
	size_t len = strlen(path), start;

	while (len > 1 && path[len - 1] == '/')
		len--;
	start = len;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return strndup(path + start, len - start);
}

/* path's length without its trailing slashes (a lone "/" kept). */
static size_t trimmed_len(const char *path)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

void single_target_free(struct single_target *target)
{
	free(target->root);
	free(target->name);
	free(target->shown);
	memset(target, 0, sizeof(*target));
}

int single_resolve(const char *dest, const char *base, struct single_target *target)
{
	size_t len = trimmed_len(dest), cut;
	struct stat st;
	bool found = stat(dest, &st) == 0;
	int err = 0;

	memset(target, 0, sizeof(*target));
	if (found && S_ISDIR(st.st_mode)) {
		/* Into the directory, under the file's own name. */
		target->root = strdup(dest);
		target->name = strdup(base);
		target->shown = malloc(len + strlen(base) + 2);
		if (target->shown)
			sprintf(target->shown, "%.*s%s%s", (int)len, dest,
				dest[len - 1] == '/' ? "" : "/", base);
	} else {
		if (dest[strlen(dest) - 1] == '/') {
			/* DEST/ promises a directory. */
			errno = found ? ENOTDIR : ENOENT;
			return -1;
		}
		cut = len;
		while (cut > 0 && dest[cut - 1] != '/')
			cut--;
		target->name = strdup(dest + cut);
		while (cut > 1 && dest[cut - 1] == '/')
			cut--;
		target->root = cut == 0 ? strdup(".") : strndup(dest, cut);
		target->shown = strdup(dest);
		if (target->root && stat(target->root, &st) != 0)
			err = errno;
		else if (target->root && !S_ISDIR(st.st_mode))
			err = ENOTDIR;
		if (err != 0) {
			single_target_free(target);
			errno = err;
			return -1;
		}
	}
	if (!target->root || !target->name || !target->shown) {
		single_target_free(target);
		errno = ENOMEM;
		return -1;
	}
	if (strlen(target->name) > NAME_MAX) {
		single_target_free(target);
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

struct copy *single_copy_new(const struct copy_options *opt, const char *const *dests,
			     struct single_target *targets, size_t n)
{
	const char **roots = calloc(n ? n : 1, sizeof(*roots));
	struct copy *copy;

	if (!roots)
		return NULL;
	for (size_t i = 0; i < n; i++)
		roots[i] = targets[i].root ? targets[i].root : dests[i];
	copy = copy_new(opt, roots, n);
	free(roots);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct dest *dest = &copy->dests[i];
		if (!targets[i].root)
			continue; /* remote: the other side names it */
		dest->single_name = targets[i].name;
		dest->single_shown = targets[i].shown;
		free(targets[i].root);
		memset(&targets[i], 0, sizeof(targets[i]));
	}
	return copy;
}

/* -n: what the run would do with the file in dest, said as a tree's entry would be. */
static void single_dry_run(struct copy *copy, struct dest *dest, int srcfd, const struct stat *st)
{
	enum dryrun_action action = DRYRUN_COPY;
	struct stat old;

	if (!dest_ok(dest) || !dest->single_name)
		return;
	if (dest->rootfd >= 0 &&
	    fstatat(dest->rootfd, dest->single_name, &old, AT_SYMLINK_NOFOLLOW) == 0)
		action = dryrun_decide(copy, st, &old);
	if (action == DRYRUN_REPLACE && delta_eligible(&copy->opt, st, &old) &&
	    dryrun_say_delta(copy, dest, srcfd, dest->rootfd, dest->single_name, dest->single_name,
			     strlen(dest->single_name)) == 0)
		return;
	dryrun_say(dest, action, dest->single_name, strlen(dest->single_name));
}

void single_copy(struct copy *copy, const char *src, const char *rel)
{
	struct worker *worker;
	struct stat st;
	int fd;

	fd = open(src, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		stop_run(copy, STOP_SOURCE, src, errno);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		/* Checked before the run: it was replaced since. */
		stop_run_why(copy, STOP_SOURCE, src, 0, "changed while being copied");
		close(fd);
		return;
	}
	if (copy->opt.dry_run) {
		for (size_t i = 0; i < copy->ndests; i++)
			single_dry_run(copy, &copy->dests[i], fd, &st);
		close(fd);
		return;
	}
	worker = walker_init(copy);
	if (!worker) {
		stop_run(copy, STOP_INTERNAL, src, ENOMEM);
		close(fd);
		return;
	}
	worker->inline_small = true;
	submit_file(worker, fd, &st, rel, strlen(rel), NULL, 0);
	walker_fini(worker);
}

void single_done(struct copy *copy, struct dest *dest, uint64_t ino, const struct stat *st,
		 char hex[][HASH_HEX_MAX + 1])
{
	struct single_result *result = calloc(1, sizeof(*result));

	if (!copy->opt.no_seal)
		seal_add(copy, dest, ino, (uint64_t)st->st_size, dest->single_name,
			 strlen(dest->single_name), &st->st_mtim, hex);
	if (!result) {
		dest_fail(dest, "", 0, ENOMEM, NULL);
		return;
	}
	result->ino = ino;
	result->size = (uint64_t)st->st_size;
	for (size_t i = 0; i < copy->opt.nalgos; i++)
		memcpy(result->hex[i], hex[i], sizeof(result->hex[i]));
	free(dest->single_result);
	dest->single_result = result;
}

int single_record(const struct copy *copy, const struct dest *dest, struct dbuf *out)
{
	const struct single_result *result = dest->single_result;
	size_t at = out->len;

	if (!result)
		return 0;
	if (rec_emit_head(out, result->ino, result->size, dest->single_shown,
			  strlen(dest->single_shown)) != 0)
		goto fail;
	for (size_t i = 0; i < copy->opt.nalgos; i++)
		if (rec_emit_attr(out, copy->opt.algos[i]->name, result->hex[i],
				  strlen(result->hex[i])) != 0)
			goto fail;
	if (rec_emit_end(out) != 0)
		goto fail;
	return 0;
fail:
	out->len = at;
	return -1;
}

char *single_rollback_root(const char *operand)
{
	struct stat st;
	bool missing;
	char *parent;
	size_t cut;
	int parentfd;

	if (stat(operand, &st) == 0 ? S_ISDIR(st.st_mode) : errno != ENOENT)
		return strdup(operand); /* a tree's root, or the rollback says what is wrong */
	missing = errno == ENOENT;
	cut = trimmed_len(operand);
	while (cut > 0 && operand[cut - 1] != '/')
		cut--;
	while (cut > 1 && operand[cut - 1] == '/')
		cut--;
	parent = cut == 0 ? strdup(".") : strndup(operand, cut);
	if (!parent || !missing)
		return parent;
	/* A file an interrupted run had not put in place yet: its parent, but
	 * only where a run left its journal (a mistyped tree DEST is not taken
	 * for its parent). */
	parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parentfd >= 0 && faccessat(parentfd, JOURNAL_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		close(parentfd);
		return parent;
	}
	if (parentfd >= 0)
		close(parentfd);
	free(parent);
	return strdup(operand);
}

void single_say(const struct copy *copy, const struct dest *dest)
{
	struct dbuf line;

	dbuf_init(&line);
	if (single_record(copy, dest, &line) != 0) {
		diag_file_error(dest->single_shown, ENOMEM);
	} else if (copy->opt.records) {
		if (dbuf_append(copy->opt.records, line.data, line.len) != 0)
			diag_file_error(dest->single_shown, ENOMEM);
	} else {
		fwrite(line.data, 1, line.len, stdout);
	}
	dbuf_free(&line);
}
