/* SPDX-License-Identifier: 0BSD */
/**
 * Hard links (-H): the first copy of a multiply-linked source inode is
 * copied as usual; every later path with that inode waits for it and is
 * made a hard link to it in each destination, sharing its digests.
 */
#include "prelude.h"
#include "links.h"
#include "beneath.h"
#include "destdir.h"
#include "journal.h"
#include "rdest.h"
#include "sealer.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t link_slot(struct copy *copy, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;
	size_t i = (size_t)(h ^ (h >> 29)) & (copy->links_cap - 1);

	while (copy->links[i] && !(copy->links[i]->dev == dev && copy->links[i]->ino == ino))
		i = (i + 1) & (copy->links_cap - 1);
	return i;
}

static int link_grow(struct copy *copy)
{
	struct link_entry **old = copy->links;
	size_t old_cap = copy->links_cap, cap = old_cap ? old_cap * 2 : 1024;

	copy->links = calloc(cap, sizeof(*copy->links));
	if (!copy->links) {
		copy->links = old;
		return -1;
	}
	copy->links_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			copy->links[link_slot(copy, old[i]->dev, old[i]->ino)] = old[i];
	free(old);
	return 0;
}

/*
 * Look the task's inode up. Returns NULL when this task is the first copy
 * (*mine then holds the new entry, to be completed by link_done), or the
 * finished first copy to link to; *mine NULL and NULL returned on ENOMEM.
 */
struct link_entry *link_claim(struct copy *copy, struct task *task,
			      struct link_entry **mine)
{
	struct link_entry *entry;
	size_t slot;

	*mine = NULL;
	pthread_mutex_lock(&copy->link_lock);
	if ((copy->nlinks + 1) * 2 > copy->links_cap && link_grow(copy) != 0)
		goto nomem;
	slot = link_slot(copy, task->st.st_dev, task->st.st_ino);
	entry = copy->links[slot];
	if (entry) {
		while (!entry->done)
			pthread_cond_wait(&copy->link_done, &copy->link_lock);
		pthread_mutex_unlock(&copy->link_lock);
		return entry;
	}
	entry = calloc(1, sizeof(*entry) + task->rel_len + 1);
	if (!entry)
		goto nomem;
	entry->hex = calloc(copy->opt.nalgos, sizeof(*entry->hex));
	entry->dest_ino = calloc(copy->ndests, sizeof(*entry->dest_ino));
	if (!entry->hex || !entry->dest_ino) {
		free(entry->hex);
		free(entry->dest_ino);
		free(entry);
		goto nomem;
	}
	entry->dev = task->st.st_dev;
	entry->ino = task->st.st_ino;
	entry->rel_len = task->rel_len;
	memcpy(entry->rel, task->rel, task->rel_len);
	copy->links[slot] = entry;
	copy->nlinks++;
	*mine = entry;
	pthread_mutex_unlock(&copy->link_lock);
	return NULL;
nomem:
	pthread_mutex_unlock(&copy->link_lock);
	return NULL;
}

void link_finish(struct copy *copy, struct link_entry *entry, bool ok,
		 struct hashio_result *result)
{
	pthread_mutex_lock(&copy->link_lock);
	entry->ok = ok;
	for (size_t i = 0; ok && i < copy->opt.nalgos; i++)
		entry->hex[i] = strdup(result->hex[i]);
	for (size_t i = 0; ok && i < copy->opt.nalgos; i++)
		if (!entry->hex[i])
			entry->ok = false;
	entry->done = true;
	pthread_cond_broadcast(&copy->link_done);
	pthread_mutex_unlock(&copy->link_lock);
}

/* Make the task's path a hard link to the first copy, in every destination. */
void link_copy(struct reader *reader, struct link_entry *first)
{
	struct copy *copy = reader->worker.copy;
	struct task *task = reader->task;
	char hex[HASH_SET_MAX][HASH_HEX_MAX + 1];
	const char *what = NULL;

	if (!first->ok)
		return; /* the first copy failed: that failure is already reported */
	for (size_t i = 0; i < copy->opt.nalgos; i++)
		snprintf(hex[i], sizeof(hex[i]), "%s", first->hex[i]);
	for (size_t d = 0; d < copy->ndests; d++) {
		struct fileop *op = &reader->ops[d];
		struct dest *dest = op->dest;
		char first_name[NAME_MAX + 1];
		size_t dir_len, first_dir_len;
		struct stat old;
		bool ours;
		int first_dirfd;

		if (!dest_ok(dest))
			continue;
		if (dest->rdest) {
			what = "sending";
			if (rdest_link(op, task) != 0)
				goto fail;
			atomic_fetch_add(&dest->files, 1);
			continue;
		}
		if (beneath_last_name(task->rel, task->rel_len, &dir_len, op->name) != 0 ||
		    beneath_last_name(first->rel, first->rel_len, &first_dir_len, first_name) != 0)
			goto fail;
		what = "parent directory";
		first_dirfd = beneath_open_dir(dest->rootfd, first->rel, first_dir_len, 0);
		if (first_dirfd < 0)
			goto fail;
		op->dirfd = dest_dircache_get(&reader->worker, dest, task->rel, dir_len);
		if (op->dirfd < 0) {
			close(first_dirfd);
			goto fail;
		}
		what = NULL;
		if (dest_check_final(copy, dest, op->dirfd, op->name, &op->exists, &ours, &old) != 0) {
			close(first_dirfd);
			what = errno == EEXIST ? "not replaced without --force" : NULL;
			goto fail;
		}
		if (!op->exists) {
			/* A link never replaces a name: no temporary needed. */
			int ret = dest_install_link(dest, task->rel, task->rel_len, first->dest_ino[d],
					       first_dirfd, first_name, 0, op->dirfd, op->name,
					       &what);

			close(first_dirfd);
			if (ret != 0) {
				if (!what)
					what = "linking";
				goto fail;
			}
			goto linked;
		}
		dest_temp_name(copy, op->temp, sizeof(op->temp), "");
		what = "journal";
		if (dest_sibling_path(&reader->worker.scratch, task->rel, dir_len, op->temp) != 0 ||
		    journal_temp(dest->journal, reader->worker.scratch.data,
				 reader->worker.scratch.len) != 0) {
			close(first_dirfd);
			goto fail;
		}
		what = "linking";
		if (linkat(first_dirfd, first_name, op->dirfd, op->temp, 0) != 0) {
			close(first_dirfd);
			goto fail;
		}
		close(first_dirfd);
		if (dest_install(&reader->worker, dest, op->dirfd, task->rel, task->rel_len, op->name,
			    op->temp, first->dest_ino[d], op->exists, &what) != 0) {
			unlinkat(op->dirfd, op->temp, 0);
			goto fail;
		}
linked:
		atomic_fetch_add(&dest->files, 1);
		seal_add(copy, dest, first->dest_ino[d], (uint64_t)task->st.st_size, task->rel,
			 task->rel_len, &task->st.st_mtim, hex);
		continue;
fail:
		dest_fail(dest, task->rel, task->rel_len, errno, what);
	}
}

void links_free(struct copy *copy)
{
	for (size_t i = 0; i < copy->links_cap; i++) {
		struct link_entry *entry = copy->links[i];
		if (!entry)
			continue;
		for (size_t a = 0; a < copy->opt.nalgos; a++)
			free(entry->hex[a]);
		free(entry->hex);
		free(entry->dest_ino);
		free(entry);
	}
	free(copy->links);
	copy->links = NULL;
	copy->links_cap = 0;
}
