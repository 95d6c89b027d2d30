/* SPDX-License-Identifier: 0BSD */
/**
 * pcopy --delete (mirror.h). The entries are not removed during the run:
 * each is renamed aside within the destination (one rename, whatever its
 * size; the same filesystem, so it cannot fail for space) and recorded in
 * the journal before, so until the seal is written nothing is lost, and
 * the completion deletes them.
 */
#include "prelude.h"
#include "mirror.h"
#include "destdir.h"
#include "diag.h"
#include "dryrun.h"
#include "exclude.h"
#include "journal.h"
#include "mhl2.h"
#include "walk.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mirror {
	struct copy *copy;
	struct dest *dest;
	int srcfd;
	size_t root_len;
	bool empty_source;      /* SRC has nothing the copy takes: delete nothing */
	atomic_uint_fast64_t aside;
};

/*
 * Whether an entry is pcopy's own: the journal and the seal at the root,
 * temporaries and names set aside anywhere. A backup this run made beside a
 * file it replaced is not in the source either, and is the journal's to
 * remove or put back.
 */
static bool own_name(const struct copy *copy, const char *name, size_t depth)
{
	if (depth == 1 && (journal_own_name(name) || copy_is_seal_name(&copy->opt, name)))
		return true;
	/* --mhl extends the destination's history: --delete never takes it. */
	if (depth == 1 && copy->opt.mhl && strcmp(name, MHL2_DIR_NAME) == 0)
		return true;
	return strncmp(name, ".pcopy.", 7) == 0;
}

/*
 * Whether SRC holds nothing the copy takes (no entry, or only excluded ones
 * and pcopy's own): the mount point of a card or share that is not mounted,
 * or one mounted with only lost+found. Mirroring it would empty every
 * destination, so --delete refuses it unless --allow-empty-source says
 * that is meant (as unison asks before propagating a replica's deletion).
 */
static bool source_is_empty(const struct copy *copy, int srcfd)
{
	int fd = dup(srcfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	bool empty = true;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return false; /* the walk of the destination says what is wrong */
	}
	while (empty && (de = readdir(dir)) != NULL) {
		struct stat st;
		bool is_dir = de->d_type == DT_DIR;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    own_name(copy, de->d_name, 1))
			continue;
		if (de->d_type == DT_UNKNOWN && fstatat(srcfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			is_dir = S_ISDIR(st.st_mode);
		if (!copy->opt.exclude || !exclude_match(copy->opt.exclude, de->d_name, de->d_name, is_dir))
			empty = false;
	}
	closedir(dir);
	return empty;
}

/* A walk looking for an excluded entry below a directory (holds_excluded). */
struct probe {
	const struct exclude *set;
	size_t root_len;     /* of the destination: paths below it are matched */
	bool found;
};

static enum walk_action probe_visit(void *context, const struct walk_entry *entry)
{
	struct probe *probe = context;
	const char *rel = entry->path + probe->root_len;

	if (entry->error) {
		probe->found = true; /* unknown: keep the directory, as if it held one */
		return WALK_STOP;
	}
	while (*rel == '/')
		rel++;
	if (entry->depth > 0 && exclude_match(probe->set, entry->name, rel, entry->type == DT_DIR)) {
		probe->found = true;
		return WALK_STOP;
	}
	return WALK_CONTINUE;
}

/*
 * Whether a directory of the destination that the source lacks holds an
 * excluded entry somewhere below: then it cannot go as a whole (rsync
 * keeps it too), and its other entries are set aside one by one. A
 * directory that cannot be searched counts as holding one.
 */
static bool holds_excluded(const struct mirror *mirror, const struct walk_entry *entry)
{
	struct walk_config config;
	struct probe probe = { mirror->copy->opt.exclude, mirror->root_len, false };
	const char *roots[1] = { entry->path };

	memset(&config, 0, sizeof(config));
	config.threads = 1;
	config.visit = probe_visit;
	config.arg = &probe;
	if (walk(roots, 1, &config) != 0)
		return true;
	return probe.found;
}

static enum walk_action mirror_visit(void *context, const struct walk_entry *entry)
{
	struct mirror *mirror = context;
	struct dest *dest = mirror->dest;
	char aside[64];
	const char *rel;
	struct stat st;
	size_t len;

	if (!dest_ok(dest) || stopping(mirror->copy))
		return WALK_STOP;
	if (entry->error) {
		dest_fail(dest, entry->path + mirror->root_len, strlen(entry->path + mirror->root_len),
			  entry->error, "reading the destination for --delete");
		return WALK_STOP;
	}
	if (entry->depth == 0)
		return WALK_CONTINUE;
	if (own_name(mirror->copy, entry->name, entry->depth))
		return WALK_PRUNE;
	rel = entry->path + mirror->root_len;
	while (*rel == '/')
		rel++;
	len = strlen(rel);
	/* Excluded entries are protected, as rsync protects them: what the
	 * copy leaves out of SRC it also leaves alone in the destination. */
	if (mirror->copy->opt.exclude &&
	    exclude_match(mirror->copy->opt.exclude, entry->name, rel, entry->type == DT_DIR))
		return WALK_PRUNE;
	if (fstatat(mirror->srcfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return WALK_CONTINUE; /* the source has it: the copy saw to it */
	if (errno != ENOENT && errno != ENOTDIR) {
		dest_fail(dest, rel, len, errno, "looking for it in the source");
		return WALK_STOP;
	}
	if (entry->type == DT_DIR && mirror->copy->opt.exclude && holds_excluded(mirror, entry))
		return WALK_CONTINUE;
	if (mirror->empty_source) {
		static const char why[] = "--delete: the source is empty, nothing deleted "
					  "(--allow-empty-source to mirror it)";

		diag_file_errorf(mirror->copy->src_root, "is empty (an unmounted card or share?): "
				 "--delete would remove everything in %s; nothing deleted there "
				 "(--allow-empty-source mirrors an empty source)", dest->path);
		dest_fail_said(dest, why, sizeof(why) - 1);
		return WALK_STOP;
	}
	if (mirror->copy->opt.dry_run) {
		dryrun_say(dest, DRYRUN_DELETE, rel, len);
		return WALK_PRUNE;
	}
	dest_temp_name(mirror->copy, aside, sizeof(aside), ".del");
	if (journal_aside(dest->journal, rel, len, aside, strlen(aside)) != 0) {
		dest_fail(dest, rel, len, errno, "journal");
		return WALK_STOP;
	}
	if (renameat(entry->at_fd, entry->at_path, dest->rootfd, aside) != 0) {
		dest_fail(dest, rel, len, errno,
			  errno == EXDEV ? "--delete: on another filesystem than the destination"
					 : "--delete: setting it aside");
		return WALK_STOP;
	}
	atomic_fetch_add(&mirror->aside, 1);
	return WALK_PRUNE; /* what was under it went with it */
}

void mirror_delete(struct copy *copy, struct dest *dest)
{
	struct walk_config config;
	struct mirror mirror;
	const char *roots[1] = { dest->path };

	memset(&mirror, 0, sizeof(mirror));
	mirror.copy = copy;
	mirror.dest = dest;
	mirror.root_len = strlen(dest->path);
	mirror.srcfd = open(copy->src_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mirror.srcfd < 0) {
		dest_fail(dest, "", 0, errno, "--delete: opening the source");
		return;
	}
	mirror.empty_source = !copy->opt.allow_empty_source && source_is_empty(copy, mirror.srcfd);
	memset(&config, 0, sizeof(config));
	if (copy->opt.dry_run)
		config.flags = WALK_SORT;
	config.visit = mirror_visit;
	config.arg = &mirror;
	if (walk(roots, 1, &config) != 0)
		dest_fail(dest, "", 0, errno, "--delete: walking the destination");
	close(mirror.srcfd);
	dest->deleted = atomic_load(&mirror.aside);
}
